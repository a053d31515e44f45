//! The roll-up of FORMS.md §5 as one polars lazy plan over the counted
//! figures (leaf × month):
//!
//! 1. **month** — one value per leaf, field and month: two figures of one
//!    unit and month are summed for a flow, the later read wins for a stock;
//! 2. **period** — each month joined to every period that holds it; per
//!    leaf, a flow is summed over the period's months, a stock takes its
//!    latest month (LAST_IN_PERIOD, never carried in from before);
//! 3. **one source** — a stock reported for one period by a unit and by a
//!    unit above it keeps only the source that reported latest (equal months
//!    keep the detail), so no person is counted from two sources;
//! 4. **ancestors** — each unit's figure the sum of its own row and of
//!    every row below it;
//! 5. **rates** — the numerator (less `minus`) and denominator paired at
//!    each leaf *and month*: a month counts only where every part was
//!    reported; the pairs go through steps 2–4 like any figure, and the
//!    rate is `100 × Σ numerator / Σ denominator` wherever that is not 0.
//!
//! The dose sequences of FORMS.md §4 (`dose_sequence`) are pairs of step 5
//! too, each month the run judges over its year to date, so the check of
//! rolled-up figures reads its sums from here and pairs nothing itself.
//!
//! Every period of a run (the months, quarters and years, and the
//! indicators' 上期, 同期, 累计 and trend months) is a row of one period
//! table, so they all run in the one plan.
//!
//! Each grouping and join is on one `u64` key that packs its columns
//! ([`Keys`]): on a city-year (530,000 figures, 17 periods) grouping on
//! the three columns themselves took 2.5 s at 2 threads, the packed keys a
//! tenth of that.

use std::borrow::Cow;

use polars::prelude::*;
use rayon::prelude::*;

use crate::observation::Batch;
use crate::period::Period;
use crate::registry::{Level, Registry, UnitIdx};
use crate::schema::Schemas;

use super::{Column as Figures, Slots, Trend};

/// How the plan's keys pack their columns, as dense products over the
/// counts of units `U`, form-fields `F` and months `M` of the run:
///
/// - a leaf's field, `lk = ff × U + unit`;
/// - its figure of one month, `lk × M + mi` (`mi`: the month less the first);
/// - a unit's figure of one period, `key = p × F × U + lk`, so that sorting
///   by `key` sorts by period, field and unit, `key % U` is the unit and
///   `key − unit + parent` the parent's key.
#[derive(Clone, Copy)]
struct Keys {
    units: u64,
    fields: u64,
    months: u64,
}

impl Keys {
    /// The unit of a `key` or `lk` column.
    fn unit(self, key: &str) -> Expr {
        col(key) % lit(self.units)
    }

    /// A leaf-field's figure of one month, `lk × M + mi`.
    fn month_key(self, lk: u64, mi: u32) -> u64 {
        lk * self.months + u64::from(mi)
    }

    /// The leaf-field and the month of a [`Keys::month_key`].
    fn leaf_month(self, mkey: u64) -> (u64, u32) {
        (mkey / self.months, (mkey % self.months) as u32)
    }
}

/// The counted figures: those of the batch's history first
/// ([`crate::observation::History`]: each month's rows the roll-up counts,
/// in their order), then one row per observation that counts (see
/// [`super::is_counted`]), in the order they were read: `lk`, `mi`,
/// `value`; the [`Keys`]; the first month; and whether each form-field
/// takes its latest month (a stock's or a ytd's, by the form-field slot).
/// A history's month is never one of the batch's own.
fn figures(
    batch: &Batch,
    schemas: &Schemas,
    slots: &Slots,
    registry: &Registry,
    form: crate::schema::FormIdx,
) -> PolarsResult<(DataFrame, Keys, i32, Vec<bool>)> {
    let o = &batch.obs;
    let counted: Vec<usize> = (0..o.len())
        .into_par_iter()
        .with_min_len(4096)
        .filter(|&i| o.form[i] == form && super::is_counted(batch, schemas, i))
        .collect();
    let history = &batch.history.months;
    // Each month of the history: how many of its rows are this form's.
    fn of_form(
        m: &crate::counted::CountedMonth,
        form: crate::schema::FormIdx,
    ) -> impl Iterator<Item = (u64, f64)> + '_ {
        m.rolled()
            .filter(move |&(key, _)| crate::counted::form_of(key) == form)
    }
    let sizes: Vec<usize> = history
        .par_iter()
        .map(|m| of_form(m, form).count())
        .collect();
    let months = counted.par_iter().map(|&i| o.month[i].0).chain(
        history
            .par_iter()
            .zip(&sizes)
            .filter(|(_, &n)| n > 0)
            .map(|(m, _)| m.month.0),
    );
    let first = months.clone().min().unwrap_or(0);
    let last = months.max().unwrap_or(0);
    let keys = Keys {
        units: registry.units.len().max(1) as u64,
        fields: slots.width().max(1) as u64,
        months: (i64::from(last) - i64::from(first) + 1) as u64,
    };
    // A leaf-field of the form, and a month's place from `first`.
    let leaf = |field: crate::schema::FieldIdx, unit: UnitIdx| {
        u64::from(slots.ff_of(form, field)) * keys.units + u64::from(unit)
    };
    let mi_in = |month: i32| (month - first) as u32;
    // Whether each form-field takes its latest month, from the schema. As
    // a column of a bool per figure, read back by step 1, and with a
    // column of each figure's month key (`mkey`, which step 1 now makes
    // from `lk` and `mi` as it sorts), check+aggregate of a city's 2026Q4
    // from its store took 0.280 s against 0.273 (medians, 1 thread,
    // sixteen runs alternating, every export the same).
    let fields = &schemas.form(form).fields;
    let mut stock_of = vec![false; keys.fields as usize];
    for (field, f) in fields.iter().enumerate() {
        stock_of[slots.ff_of(form, field as crate::schema::FieldIdx) as usize] =
            f.kind.takes_latest();
    }
    // The history's rows first: its months are before the period's, so each
    // leaf-field's rows come in month order and step 1 reorders none (the
    // batch's months first, a city's 2026Q4 from its store had every
    // leaf-field's twelve months to sort). A month the store could not give
    // as history, read with the period's, is put in its place by step 1.
    // Each column made whole at once, each month of the history written
    // into its own part of it on any core. Gathered into one list of rows
    // first (27–39 ms), then copied into each column, this step took
    // 68–98 ms (median 77) of a city's 2026Q4 from its store, three forms
    // at 2 threads, against 43–67 (60) so (release, eight runs each
    // alternating, every export the same).
    let n_history: usize = sizes.iter().sum();
    let n = n_history + counted.len();
    let (mut lk, mut mi, mut value) = (vec![0u64; n], vec![0u32; n], vec![0f64; n]);
    {
        let (lk_h, lk_b) = lk.split_at_mut(n_history);
        let (mi_h, mi_b) = mi.split_at_mut(n_history);
        let (value_h, value_b) = value.split_at_mut(n_history);
        // The history's part, cut a piece a month.
        let mut parts = Vec::with_capacity(history.len());
        let (mut lk_h, mut mi_h, mut value_h) = (lk_h, mi_h, value_h);
        for &size in &sizes {
            let (a, rest_lk) = lk_h.split_at_mut(size);
            let (b, rest_mi) = mi_h.split_at_mut(size);
            let (d, rest_value) = value_h.split_at_mut(size);
            parts.push((a, b, d));
            (lk_h, mi_h, value_h) = (rest_lk, rest_mi, rest_value);
        }
        history
            .par_iter()
            .zip(parts)
            .for_each(|(m, (lk, mi, value))| {
                let month = mi_in(m.month.0);
                for (k, (key, v)) in of_form(m, form).enumerate() {
                    let field = crate::counted::field_of(key);
                    lk[k] = leaf(field, crate::counted::unit_of(key));
                    mi[k] = month;
                    value[k] = v;
                }
            });
        let batch_rows = counted.par_iter().with_min_len(4096);
        lk_b.par_iter_mut()
            .zip(batch_rows.clone())
            .for_each(|(out, &i)| *out = leaf(o.field[i], o.unit[i]));
        mi_b.par_iter_mut()
            .zip(batch_rows.clone())
            .for_each(|(out, &i)| *out = mi_in(o.month[i].0));
        value_b
            .par_iter_mut()
            .zip(batch_rows)
            .for_each(|(out, &i)| *out = o.value[i].unwrap_or_default());
    }
    let df = DataFrame::new(
        lk.len(),
        vec![owned("lk", lk), owned("mi", mi), owned("value", value)],
    )?;
    Ok((df, keys, first, stock_of))
}

/// A period as a window of months `lo..=hi`, less `first` (months before
/// `first` hold no figure).
fn window(p: Period, first: i32) -> (u32, u32) {
    let (lo, hi) = p.bounds();
    let at = |m: i32| (m - first).clamp(0, i32::MAX) as u32;
    // A period wholly before the first month: an empty window.
    if hi.0 < first {
        (1, 0)
    } else {
        (at(lo.0), at(hi.0))
    }
}

/// Every period as its [`window`].
fn windows(periods: &[Period], first: i32) -> Vec<(u32, u32)> {
    periods.iter().map(|&p| window(p, first)).collect()
}

/// Each month of `periods` as the window of its year to date (January to
/// the month, [`Period::year_to_date`]); every other period an empty window.
fn year_to_date(
    periods: &[Period],
    first: i32,
    months: &[crate::period::Month],
) -> Vec<(u32, u32)> {
    periods
        .iter()
        .map(|&p| match p {
            Period::Month(m) if months.contains(&m) => window(p.year_to_date(), first),
            _ => (1, 0),
        })
        .collect()
}

/// `lf` with the unit of its column `key` as `unit`, joined to `units` (a
/// table by `unit`): only the rows of the units it holds, with its columns.
fn on_units(lf: LazyFrame, keys: Keys, key: &str, units: LazyFrame) -> LazyFrame {
    lf.with_column(keys.unit(key).alias("unit")).join(
        units,
        [col("unit")],
        [col("unit")],
        join_on(JoinType::Inner),
    )
}

/// The registry's hierarchy as the plan's tables.
struct Hierarchy {
    /// `(unit)`: the units above the villages (townships, counties, the
    /// city), those the checks of rolled-up figures judge.
    above_villages: LazyFrame,
    /// Each unit's parent, for the kernel of step 4.
    tree: Arc<Tree>,
}

/// The hierarchy as step 4's kernel walks it: each unit's parent, and
/// each unit with units under it numbered densely (`inner[u]`, or `NONE`).
struct Tree {
    parent: Vec<Option<UnitIdx>>,
    inner: Vec<u32>,
    /// The units with units under them, by their number in `inner`.
    inner_units: Vec<UnitIdx>,
}

impl Tree {
    const NONE: u32 = u32::MAX;
}

impl Hierarchy {
    fn new(registry: &Registry) -> PolarsResult<Hierarchy> {
        let n = registry.units.len() as UnitIdx;
        let mut parent_of = Vec::with_capacity(n as usize);
        let mut inner = vec![Tree::NONE; n as usize];
        let mut inner_of: Vec<UnitIdx> = Vec::new();
        for u in 0..n {
            parent_of.push(registry.unit(u).parent);
            if !registry.unit(u).children.is_empty() {
                inner[u as usize] = inner_of.len() as u32;
                inner_of.push(u);
            }
        }
        let frame = |cols: Vec<Column>| -> PolarsResult<LazyFrame> {
            let h = cols.first().map_or(0, Column::len);
            Ok(DataFrame::new(h, cols)?.lazy())
        };
        Ok(Hierarchy {
            above_villages: frame(vec![Column::new(
                "unit".into(),
                (0..u64::from(n))
                    .filter(|&u| registry.unit(u as UnitIdx).level != Level::Village)
                    .collect::<Vec<u64>>(),
            )])?,
            tree: Arc::new(Tree {
                parent: parent_of,
                inner,
                inner_units: inner_of,
            }),
        })
    }
}

/// Every rate (and derived rate) as a pair of step 5, its parts as
/// form-fields, both sides taken as its denominator's kind takes it.
fn ratios(schemas: &Schemas, slots: &Slots) -> Vec<Ratio> {
    slots
        .ff
        .iter()
        .enumerate()
        .filter_map(|(k, &(form, field))| {
            let r = schemas.form(form).field(field).ratio?;
            Some(Ratio {
                rate: k as u64,
                num: u64::from(slots.ff_of(form, r.numerator)),
                den: u64::from(slots.ff_of(form, r.denominator)),
                minus: r.minus.map(|m| u64::from(slots.ff_of(form, m))),
                stock: schemas.form(form).field(r.denominator).kind.takes_latest(),
            })
        })
        .collect()
}

/// Every dose sequence (the schemas' `sequences`, FORMS.md §4) as a pair
/// of step 5, as [`ratios`]: `rate` its first slot past the form-fields
/// ([`Slots::sequence_slot`]: the earlier dose's sum, the next the
/// later's), `num` the later dose, `den` the earlier, no `minus`, both
/// flows.
fn sequences(slots: &Slots) -> Vec<Ratio> {
    slots
        .seq
        .iter()
        .enumerate()
        .map(|(s, &(form, earlier, later))| Ratio {
            rate: u64::from(slots.sequence_slot(s)),
            num: u64::from(slots.ff_of(form, later)),
            den: u64::from(slots.ff_of(form, earlier)),
            minus: None,
            stock: false,
        })
        .collect()
}

/// Hands back what this thread's heap freed: called where a kernel starts,
/// between the plan's stages. The plan frees a stage's tables on the
/// thread that ran it, and mimalloc kept them: a city-year's roll-up rose
/// from 127 to 280 MB resident (each stage collected alone, VmHWM reset
/// between), 30 MB less with this.
///
/// Only where the figures span more than a quarter, in a process past
/// [`HAND_BACK_FROM`]: what is handed back is faulted in again by the next
/// stage, which costs time, and it lowers the peak only where the roll-up
/// holds more than the outputs will. The roll-up holds each month's
/// figures and the outputs a period's, so that is a matter of months: a
/// city-year's `consolidate` holds 161–221 MiB where its kernels start and
/// 185 MiB in its outputs; a quarter's `report --store` of it 100–146 MiB
/// (not handing back) and 150–170 MiB in its outputs. Handing back past
/// 128 MiB, as the quarter's kernels came to, the report took 419 ms
/// against 386 (2 threads, medians of 16 runs alternating); what a
/// shorter run's kernels keep is handed back once, after them ([`roll_up`]).
fn hand_back_freed(keys: Keys) {
    if keys.months <= HAND_BACK_AFTER_MONTHS
        || crate::timings::resident_bytes().is_some_and(|b| b < HAND_BACK_FROM)
    {
        return;
    }
    // SAFETY: mi_collect takes no pointer and may be called on any thread
    // at any time; it only frees pages that hold no live allocation.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

/// See [`hand_back_freed`].
const HAND_BACK_FROM: u64 = 128 << 20;

/// See [`hand_back_freed`]: a quarter.
const HAND_BACK_AFTER_MONTHS: u64 = 3;

/// A column that keeps `v`'s buffer. `Column::new` copies a `Vec` (it
/// reads it as a slice), and the kernels build every column they return
/// whole: on a city's 2026Q4 from its store that was 15 MB copied per form
/// at each step.
fn owned<T>(name: &str, v: Vec<T>) -> Column
where
    Series: NamedFromOwned<Vec<T>>,
{
    Series::from_vec(name.into(), v).into_column()
}

fn join_on(how: JoinType) -> JoinArgs {
    JoinArgs::new(how)
}

fn frames(lfs: Vec<LazyFrame>) -> LazyFrame {
    concat(lfs, UnionArgs::default()).expect("frames of one schema")
}

/// A hand kernel as a step of the plan (`name` in its description): `run`
/// takes the step's whole input and gives a frame of `schema`. Nothing is
/// pushed through it, no projection nor predicate: a kernel reads columns
/// it does not return.
fn behind_the_plan(
    lf: LazyFrame,
    name: &'static str,
    schema: SchemaRef,
    run: impl Fn(DataFrame) -> PolarsResult<DataFrame> + Send + Sync + 'static,
) -> LazyFrame {
    lf.map(
        run,
        AllowedOptimizations::empty(),
        Some(Arc::new(move |_: &Schema| Ok(Arc::clone(&schema)))),
        Some(name),
    )
}

/// The schema of a kernel's out frame: `lead`, then each of `cols` as
/// `f64`.
fn kernel_schema(lead: &[(&str, DataType)], cols: &[String]) -> SchemaRef {
    let mut s = Schema::default();
    for (name, dtype) in lead {
        s.insert((*name).into(), dtype.clone());
    }
    for c in cols {
        s.insert(c.as_str().into(), DataType::Float64);
    }
    Arc::new(s)
}

/// The `f64` columns `cols` of a kernel's in frame, each a slice read by
/// index (the column's own `get` finds a chunk and reads a validity per
/// value). A column of one chunk without a null, as every kernel makes
/// its columns, is read where it lies; one in pieces is put together, and
/// one with a null (which the plan never makes here) copied, the null
/// read as 0. Copied whole every time, the in columns of steps 2 and 4 were
/// fresh memory to fault in at each kernel: on a city's 2026Q4 from its
/// store, 2 threads, PHSTATS_TIMINGS over sixteen runs alternating,
/// check+aggregate took 174.5 ms against 184.5 (medians), every export
/// the same.
struct F64Columns {
    chunked: Vec<Float64Chunked>,
    /// A column's copy, where it holds a null.
    copied: Vec<Option<Vec<f64>>>,
}

impl F64Columns {
    fn of(df: &DataFrame, cols: &[String]) -> PolarsResult<F64Columns> {
        let chunked = cols
            .iter()
            .map(|c| Ok(df.column(c)?.f64()?.rechunk().into_owned()))
            .collect::<PolarsResult<Vec<Float64Chunked>>>()?;
        let copied = chunked
            .iter()
            .map(|ca| {
                ca.cont_slice()
                    .is_err()
                    .then(|| ca.iter().map(Option::unwrap_or_default).collect())
            })
            .collect();
        Ok(F64Columns { chunked, copied })
    }

    /// Each column as one slice, in the order of `cols`.
    fn slices(&self) -> Vec<&[f64]> {
        self.chunked
            .iter()
            .zip(&self.copied)
            .map(|(ca, copy)| match copy {
                Some(v) => v.as_slice(),
                // One chunk without a null ([`F64Columns::of`]).
                None => ca.cont_slice().unwrap_or_default(),
            })
            .collect()
    }
}

/// A kernel's out frame: `lead`, then `vals` as the columns `cols`.
fn kernel_frame(
    mut lead: Vec<Column>,
    cols: &[String],
    vals: Vec<Vec<f64>>,
) -> PolarsResult<DataFrame> {
    for (c, v) in cols.iter().zip(vals) {
        lead.push(owned(c, v));
    }
    DataFrame::new(lead.first().map_or(0, Column::len), lead)
}

/// Step 2, per leaf and period: `cols` summed for a flow, or taken from the
/// latest month for a stock. In: `lk`, `mi`, `stock` and `cols`, one row
/// per leaf-field and month; out: `key`, `mi` (the latest month), `stock`
/// and `cols`.
///
/// A hand kernel behind the plan ([`PeriodValues`]): the plan's own join
/// of every month to every period that holds it, then grouping by period,
/// field and unit, took 250–280 ms of a city-year's roll-up at 2 threads
/// (1.6 million joined rows for 400,000 leaf-months, each stage collected
/// and timed alone, release); walking each leaf-field's months once per period, sorted,
/// takes 20–30 ms.
fn in_periods(lf: LazyFrame, windows: &[(u32, u32)], keys: Keys, cols: &[&str]) -> LazyFrame {
    let kernel = PeriodValues {
        windows: windows.to_vec(),
        keys,
        cols: cols.iter().map(|c| (*c).to_string()).collect(),
    };
    let out_schema = kernel.clone();
    let mut keep = vec![col("lk"), col("mi"), col("stock")];
    keep.extend(cols.iter().map(|c| col(*c)));
    behind_the_plan(
        lf.select(keep),
        "period values",
        out_schema.schema(),
        move |df| kernel.run(&df),
    )
}

/// The kernel of step 2: each period a window `lo..=hi` of months (less the
/// first), in the order of the periods.
#[derive(Clone)]
struct PeriodValues {
    windows: Vec<(u32, u32)>,
    keys: Keys,
    cols: Vec<String>,
}

impl PeriodValues {
    fn schema(&self) -> SchemaRef {
        kernel_schema(
            &[
                ("key", DataType::UInt64),
                ("mi", DataType::UInt32),
                ("stock", DataType::Boolean),
            ],
            &self.cols,
        )
    }

    /// `df`: one row per leaf-field and month, in any order.
    fn run(&self, df: &DataFrame) -> PolarsResult<DataFrame> {
        hand_back_freed(self.keys);
        // Each column one slice, read by index ([`F64Columns`]).
        let (lk_in, mi_in) = (
            df.column("lk")?.u64()?.rechunk(),
            df.column("mi")?.u32()?.rechunk(),
        );
        let (lk, mi) = (lk_in.cont_slice()?, mi_in.cont_slice()?);
        let stock: Vec<bool> = df
            .column("stock")?
            .bool()?
            .iter()
            .map(|b| b.unwrap_or(false))
            .collect();
        let held = F64Columns::of(df, &self.cols)?;
        let vals = held.slices();
        // Sorted by leaf-field and month. Both inputs of the plan come
        // sorted (step 1's month values by `mkey`, the pairs rate by rate,
        // each by unit and month), and sorting them again was 20–30 ms of
        // a city's 2026Q4 from its store at 2 threads: only an input out of
        // order is put in order, by `(lk × M + mi, row)`.
        let in_order = lk
            .par_windows(2)
            .zip(mi.par_windows(2))
            .all(|(l, m)| (l[0], m[0]) <= (l[1], m[1]));
        let (lk, mi, stock, vals): LeafMonths<'_> = if in_order {
            (
                lk.into(),
                mi.into(),
                stock.into(),
                vals.into_iter().map(Cow::from).collect(),
            )
        } else {
            let mut order: Vec<(u64, u32)> = lk
                .iter()
                .zip(mi)
                .enumerate()
                .map(|(row, (&l, &m))| (self.keys.month_key(l, m), row as u32))
                .collect();
            order.par_sort_unstable();
            let take = |row: u32| row as usize;
            (
                order
                    .par_iter()
                    .map(|&(k, _)| self.keys.leaf_month(k).0)
                    .collect::<Vec<u64>>()
                    .into(),
                order
                    .par_iter()
                    .map(|&(k, _)| self.keys.leaf_month(k).1)
                    .collect::<Vec<u32>>()
                    .into(),
                order
                    .par_iter()
                    .map(|&(_, r)| stock[take(r)])
                    .collect::<Vec<bool>>()
                    .into(),
                vals.into_iter()
                    .map(|v| {
                        order
                            .par_iter()
                            .map(|&(_, r)| v[take(r)])
                            .collect::<Vec<f64>>()
                            .into()
                    })
                    .collect(),
            )
        };
        // The leaf-fields cut into pieces, each walked on its own core: first
        // how many rows each piece gives, then the rows into their places
        // (no piece's rows copied again). Walked on one thread, the kernel
        // was 0.13–0.2 s of a city-year's roll-up at 2 threads; on every
        // core check+aggregate took 0.79–0.82 s against 0.85–0.89 (release,
        // three runs each alternating, the same peak).
        let n = lk.len();
        let pieces = (rayon::current_num_threads() * 4).max(1);
        let mut cuts: Vec<usize> = (0..=pieces)
            .map(|k| {
                let mut at = k * n / pieces;
                while at > 0 && at < n && lk[at] == lk[at - 1] {
                    at += 1;
                }
                at
            })
            .collect();
        cuts.dedup();
        // The periods with a window, by their place: a rates-only period's
        // counts (the nine trend months of a city's 2026Q4) have none.
        let open: Vec<(usize, u32, u32)> = self
            .windows
            .iter()
            .enumerate()
            .filter(|(_, w)| w.0 <= w.1)
            .map(|(p, &(lo, hi))| (p, lo, hi))
            .collect();
        // Each run of one leaf-field, its periods: (row range of the period).
        // A run's end found by walking it, and its rows before and in a
        // window counted, where a run is a few months: each found by a
        // binary search instead, step 2's calls took 47–80 ms (median 64)
        // of a city's 2026Q4 from its store, so 36–65 (57) (release,
        // 1 thread, eighteen runs alternating, every export the same).
        let walk = |from: usize, to: usize, emit: &mut dyn FnMut(usize, usize, usize)| {
            let mut start = from;
            while start < to {
                let end = lk[start..to]
                    .iter()
                    .position(|&l| l != lk[start])
                    .map_or(to, |k| start + k);
                let months = &mi[start..end];
                for &(p, lo, hi) in &open {
                    let (a, b) = in_window(months, lo, hi);
                    if a < b {
                        emit(p, start + a, start + b);
                    }
                }
                start = end;
            }
        };
        let sizes: Vec<usize> = cuts
            .par_windows(2)
            .map(|w| {
                let mut k = 0;
                walk(w[0], w[1], &mut |_, _, _| k += 1);
                k
            })
            .collect();
        let total: usize = sizes.iter().sum();
        let (mut key, mut out_mi, mut out_stock) =
            (vec![0u64; total], vec![0u32; total], vec![false; total]);
        let mut out_vals: Vec<Vec<f64>> = vec![vec![0.0; total]; self.cols.len()];
        let per_period = self.keys.fields * self.keys.units;
        {
            // Each piece's slices of the out columns.
            let mut slots: Vec<Piece<'_>> = Vec::with_capacity(sizes.len());
            let (mut k_rest, mut m_rest, mut s_rest) = (
                key.as_mut_slice(),
                out_mi.as_mut_slice(),
                out_stock.as_mut_slice(),
            );
            let mut v_rest: Vec<&mut [f64]> = out_vals.iter_mut().map(Vec::as_mut_slice).collect();
            for (w, &size) in cuts.windows(2).zip(&sizes) {
                let (k, kr) = std::mem::take(&mut k_rest).split_at_mut(size);
                let (m, mr) = std::mem::take(&mut m_rest).split_at_mut(size);
                let (st, sr) = std::mem::take(&mut s_rest).split_at_mut(size);
                let mut vs = Vec::with_capacity(v_rest.len());
                for v in &mut v_rest {
                    let (head, tail) = std::mem::take(v).split_at_mut(size);
                    vs.push(head);
                    *v = tail;
                }
                (k_rest, m_rest, s_rest) = (kr, mr, sr);
                slots.push(Piece {
                    rows: (w[0], w[1]),
                    key: k,
                    mi: m,
                    stock: st,
                    vals: vs,
                });
            }
            slots.into_par_iter().for_each(|piece| {
                let Piece {
                    rows: (from, to),
                    key: k,
                    mi: m,
                    stock: st,
                    vals: mut vs,
                } = piece;
                let mut i = 0;
                walk(from, to, &mut |p, a, b| {
                    let is_stock = stock[a];
                    k[i] = p as u64 * per_period + lk[a];
                    m[i] = mi[b - 1];
                    st[i] = is_stock;
                    for (v, out) in vals.iter().zip(vs.iter_mut()) {
                        out[i] = if is_stock {
                            v[b - 1]
                        } else {
                            v[a..b].iter().sum()
                        };
                    }
                    i += 1;
                });
            });
        }
        kernel_frame(
            vec![
                owned("key", key),
                owned("mi", out_mi),
                Column::new("stock".into(), out_stock),
            ],
            &self.cols,
            out_vals,
        )
    }
}

/// Of a leaf-field's months, in order, where the window `lo..=hi` starts
/// and ends: how many are before `lo`, and how many up to `hi`. Counted
/// where they are few (up to two years of months), else searched.
fn in_window(months: &[u32], lo: u32, hi: u32) -> (usize, usize) {
    const SHORT_RUN: usize = 24;
    if months.len() <= SHORT_RUN {
        (
            months.iter().filter(|&&m| m < lo).count(),
            months.iter().filter(|&&m| m <= hi).count(),
        )
    } else {
        (
            months.partition_point(|&m| m < lo),
            months.partition_point(|&m| m <= hi),
        )
    }
}

/// Step 2's in columns, sorted: `lk`, `mi`, `stock` and the values.
type LeafMonths<'a> = (
    Cow<'a, [u64]>,
    Cow<'a, [u32]>,
    Cow<'a, [bool]>,
    Vec<Cow<'a, [f64]>>,
);

/// One piece of [`PeriodValues`]: its rows of the sorted leaf-months, and
/// its slices of the out columns.
struct Piece<'a> {
    rows: (usize, usize),
    key: &'a mut [u64],
    mi: &'a mut [u32],
    stock: &'a mut [bool],
    vals: Vec<&'a mut [f64]>,
}

/// Step 3: of a stock reported in one period by a unit and by a unit above
/// it, the row of the source that reported earlier is dropped (equal
/// months: the one above). Flows pass untouched. Only units with units
/// under them can be above: each stock row looks up its ancestors' rows
/// of the same period and field (a county's summary; most batches have
/// none, and then the rows pass through as they came).
///
/// Out: `key` and `cols`, the dropped rows left out.
///
/// A hand kernel behind the plan ([`OneSource`]). The plan's own way:
/// the stocks of units above joined to every unit below them, joined
/// again to the stocks, the two sides' dropped keys made unique and
/// marked beside the rows for step 4 to leave out. With it, check+aggregate
/// of a city's 2026Q4 from its store (no unit above reporting a stock)
/// took 0.231 s at 1 thread against 0.211 with the kernel, and the three
/// forms' plans 286 ms against 271 (medians of eight runs alternating,
/// release, every export the same).
fn one_source(lf: LazyFrame, h: &Hierarchy, keys: Keys, cols: &[&str]) -> LazyFrame {
    let kernel = OneSource {
        tree: Arc::clone(&h.tree),
        keys,
        cols: cols.iter().map(|c| (*c).to_string()).collect(),
    };
    let out_schema = kernel_schema(&[("key", DataType::UInt64)], &kernel.cols);
    behind_the_plan(lf, "one source", out_schema, move |df| kernel.run(&df))
}

/// The kernel of step 3.
struct OneSource {
    tree: Arc<Tree>,
    keys: Keys,
    cols: Vec<String>,
}

impl OneSource {
    /// `df`: step 2's rows (`key`, `mi`, `stock` and `cols`), one per key.
    fn run(&self, df: &DataFrame) -> PolarsResult<DataFrame> {
        let mut out: Vec<Column> = vec![df.column("key")?.clone()];
        for c in &self.cols {
            out.push(df.column(c)?.clone());
        }
        let out = DataFrame::new(df.height(), out)?;
        let key_in = df.column("key")?.u64()?.rechunk();
        let key_in = key_in.cont_slice()?;
        let mi_in = df.column("mi")?.u32()?.rechunk();
        let mi_in = mi_in.cont_slice()?;
        let stock = df.column("stock")?.bool()?.rechunk();
        let units = self.keys.units;
        let tree = &*self.tree;
        let is_stock = |row: usize| stock.get(row).unwrap_or(false);
        // The stocks of units with units under them, by key: their month.
        let above: foldhash::HashMap<u64, u32> = key_in
            .iter()
            .enumerate()
            .filter(|&(row, &key)| {
                tree.inner[(key % units) as usize] != Tree::NONE && is_stock(row)
            })
            .map(|(row, &key)| (key, mi_in[row]))
            .collect();
        if above.is_empty() {
            return Ok(out);
        }
        // Each stock under one of them: against each ancestor's row of the
        // same period and field, the earlier report dropped.
        let mut dropped: foldhash::HashSet<u64> = foldhash::HashSet::default();
        for (row, &key) in key_in.iter().enumerate() {
            if !is_stock(row) {
                continue;
            }
            let u = key % units;
            let mut at = tree.parent[u as usize];
            while let Some(a) = at {
                at = tree.parent[a as usize];
                let anc_key = key - u + u64::from(a);
                if let Some(&anc_mi) = above.get(&anc_key) {
                    dropped.insert(if anc_mi > mi_in[row] { key } else { anc_key });
                }
            }
        }
        if dropped.is_empty() {
            return Ok(out);
        }
        let kept: BooleanChunked = key_in.iter().map(|k| !dropped.contains(k)).collect();
        out.filter(&kept)
    }
}

/// Step 4: `cols` summed into the unit and every unit above it: each
/// unit's figure of a period and field is the sum of its own row and of
/// every row below it (after [`one_source`], no person is in two of
/// them). In: `key` and `cols`; out: `key` and `cols`, one row per key,
/// in any order.
///
/// A hand kernel behind the plan ([`Ancestors`]). The plan's own way, one
/// level at a time from the deepest (each level's rows and its children's
/// sums grouped by key, then joined to their parents), took 0.25–0.35 s of
/// a city-year's roll-up at 2 threads and raised its peak by 65–85 MiB:
/// every row was joined to its depth first, the table held again with two
/// more columns, then cut by level (release, `consolidate`, the step
/// replaced by a pass-through: check+aggregate 0.67–0.70 s against
/// 0.91–1.06, peak 233–253 MiB against 318–319).
fn ancestors_of(
    lf: LazyFrame,
    h: &Hierarchy,
    keys: Keys,
    n_periods: usize,
    cols: &[&str],
    drawn: Option<Arc<Drawn>>,
) -> LazyFrame {
    let kernel = Ancestors {
        tree: Arc::clone(&h.tree),
        keys,
        periods: n_periods.max(1) as u64,
        cols: cols.iter().map(|c| (*c).to_string()).collect(),
        drawn,
    };
    let out_schema = kernel.schema();
    behind_the_plan(lf, "ancestors", out_schema, move |df| kernel.run(&df))
}

/// The kernel of step 4: the rows of units with nothing under them pass
/// through; every other unit's sums are gathered field by field, in a
/// dense table of periods × units with units under them.
struct Ancestors {
    tree: Arc<Tree>,
    keys: Keys,
    periods: u64,
    cols: Vec<String>,
    /// Where given, a period it marks `only` is summed into the units it
    /// marks and no other.
    drawn: Option<Arc<Drawn>>,
}

/// The periods rolled up only for a trend ([`Trend`]), and the units it
/// draws: by period and by unit.
struct Drawn {
    only: Vec<bool>,
    units: Vec<bool>,
}

impl Ancestors {
    fn schema(&self) -> SchemaRef {
        kernel_schema(&[("key", DataType::UInt64)], &self.cols)
    }

    fn run(&self, df: &DataFrame) -> PolarsResult<DataFrame> {
        hand_back_freed(self.keys);
        let key_in = df.column("key")?.u64()?.rechunk();
        let key_in = key_in.cont_slice()?;
        let held = F64Columns::of(df, &self.cols)?;
        let vals_in = held.slices();
        let (units, fields) = (self.keys.units, self.keys.fields);
        let per_period = units * fields;
        let tree = &*self.tree;
        let k = self.cols.len();
        let unit_of = |key: u64| (key % units) as usize;
        let ff_of = |key: u64| ((key / units) % fields) as usize;
        // A trend month's sums of the units not drawn are not made: on a
        // city's fourth quarter reported from its store, nine months of
        // every village's and township's rates.
        let wanted =
            |p: usize, u: usize| self.drawn.as_ref().is_none_or(|d| !d.only[p] || d.units[u]);
        // The rows of each field together (a counting sort), only those
        // that go up: every row but a root's.
        let goes_up = |key: u64| {
            let u = unit_of(key);
            tree.parent[u].is_some() || tree.inner[u] != Tree::NONE
        };
        let mut starts = vec![0usize; fields as usize + 1];
        for &key in key_in {
            if goes_up(key) {
                starts[ff_of(key) + 1] += 1;
            }
        }
        for f in 0..fields as usize {
            starts[f + 1] += starts[f];
        }
        let mut next = starts.clone();
        let mut by_field = vec![0u32; starts[fields as usize]];
        for (row, &key) in key_in.iter().enumerate() {
            if goes_up(key) {
                let f = ff_of(key);
                by_field[next[f]] = row as u32;
                next[f] += 1;
            }
        }
        // Each field's sums of the units with units under them, on every core.
        let n_inner = tree.inner_units.len();
        let cells = self.periods as usize * n_inner;
        let inner_rows: Vec<(Vec<u64>, Vec<f64>)> = (0..fields as usize)
            .into_par_iter()
            .filter(|&f| starts[f] < starts[f + 1])
            .map_init(
                || (vec![0.0f64; cells * k], vec![false; cells], Vec::new()),
                |(sums, seen, touched), f| {
                    for &row in &by_field[starts[f]..starts[f + 1]] {
                        let key = key_in[row as usize];
                        let p = (key / per_period) as usize;
                        let u = unit_of(key);
                        let mut at = if tree.inner[u] == Tree::NONE {
                            tree.parent[u]
                        } else {
                            Some(u as UnitIdx)
                        };
                        while let Some(a) = at {
                            at = tree.parent[a as usize];
                            if !wanted(p, a as usize) {
                                continue;
                            }
                            let cell = p * n_inner + tree.inner[a as usize] as usize;
                            if !seen[cell] {
                                seen[cell] = true;
                                touched.push(cell as u32);
                            }
                            for (c, v) in vals_in.iter().enumerate() {
                                sums[cell * k + c] += v[row as usize];
                            }
                        }
                    }
                    touched.sort_unstable();
                    let mut key = Vec::with_capacity(touched.len());
                    let mut vals = Vec::with_capacity(touched.len() * k);
                    for &cell in touched.iter() {
                        let cell = cell as usize;
                        let (p, i) = (cell / n_inner, cell % n_inner);
                        let unit = tree.inner_units[i];
                        key.push(p as u64 * per_period + f as u64 * units + u64::from(unit));
                        for c in 0..k {
                            vals.push(std::mem::take(&mut sums[cell * k + c]));
                        }
                        seen[cell] = false;
                    }
                    touched.clear();
                    (key, vals)
                },
            )
            .collect();
        // Out: the rows of units with nothing under them as they came, then
        // the sums.
        // Room for every row at once: grown as it filled, each step copied
        // the rows so far into fresh memory.
        let mut leaf: Vec<usize> = Vec::with_capacity(key_in.len());
        leaf.extend((0..key_in.len()).filter(|&row| {
            let (key, u) = (key_in[row], unit_of(key_in[row]));
            tree.inner[u] == Tree::NONE && wanted((key / per_period) as usize, u)
        }));
        let n_out = leaf.len() + inner_rows.iter().map(|(k, _)| k.len()).sum::<usize>();
        let mut key: Vec<u64> = Vec::with_capacity(n_out);
        key.extend(leaf.iter().map(|&row| key_in[row]));
        let mut out: Vec<Vec<f64>> = vals_in
            .iter()
            .map(|v| {
                let mut o = Vec::with_capacity(n_out);
                o.extend(leaf.iter().map(|&row| v[row]));
                o
            })
            .collect();
        for (keys, vals) in &inner_rows {
            key.extend_from_slice(keys);
            for (c, o) in out.iter_mut().enumerate() {
                o.extend(vals.iter().skip(c).step_by(k));
            }
        }
        kernel_frame(vec![owned("key", key)], &self.cols, out)
    }
}

/// Step 1's kernel, behind the plan: one row per leaf-field and month
/// (`mkey`, `lk`, `mi`, `stock`), with `sum` (a flow's value), `last`
/// (a stock's: the figure read last) and `value` (of the two, the one the
/// field's kind takes: what the counts roll up, where a rate's pairs take
/// their denominator's kind), sorted by `mkey`. The plan's own
/// group-by took 100–120 ms of a city-year's roll-up at 2 threads
/// (530,000 figures, each stage collected and timed alone, release), and held its hash
/// tables beside the table; one sort ([`by_key_then_read`]) and a pass
/// take 15–25 ms.
fn month_values(df: DataFrame, keys: Keys, stock_of: &[bool]) -> PolarsResult<DataFrame> {
    hand_back_freed(keys);
    // Each column one slice, read by index: through the columns' own
    // `get` (a chunk found and a validity read per value), this walk took
    // 35–75 ms of the 430,000 vaccination figures of a city's year at
    // 2 threads; every column here was built whole and without a gap.
    let (lk_in, mi_in, value_in) = (
        df.column("lk")?.u64()?.rechunk(),
        df.column("mi")?.u32()?.rechunk(),
        df.column("value")?.f64()?.rechunk(),
    );
    let (lk_in, mi_in, value_in) = (
        lk_in.cont_slice()?,
        mi_in.cont_slice()?,
        value_in.cont_slice()?,
    );
    // By key, then by the order read: the last of a run is the last read.
    let (key_sorted, value_sorted) = by_key_then_read(lk_in, mi_in, value_in, keys);
    let n = key_sorted.len();
    let (mut mkey, mut lk, mut mi, mut stock, mut sum, mut last, mut value) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    // Only the key and the value at each row, in order: the leaf-field,
    // the month and whether it is a stock follow from the key. Read from
    // their own columns as well (five places far apart for each row),
    // this step took 72–121 ms (median 91) of a city's 2026Q4 from its
    // store, three forms at 2 threads, against 60–104 (68) with only the
    // key and value read in the sorted order (release, ten runs each
    // alternating, every export the same).
    for (&k, &v) in key_sorted.iter().zip(&value_sorted) {
        if mkey.last() == Some(&k) {
            // The run's row, the last of every column.
            let i = mkey.len() - 1;
            sum[i] += v;
            last[i] = v;
            value[i] = if stock[i] { v } else { sum[i] };
            continue;
        }
        let (l, m) = keys.leaf_month(k);
        mkey.push(k);
        lk.push(l);
        mi.push(m);
        stock.push(stock_of[(l / keys.units) as usize]);
        sum.push(v);
        last.push(v);
        value.push(v);
    }
    DataFrame::new(
        mkey.len(),
        vec![
            owned("mkey", mkey),
            owned("lk", lk),
            owned("mi", mi),
            Column::new("stock".into(), stock),
            owned("sum", sum),
            owned("last", last),
            owned("value", value),
        ],
    )
}

/// Step 1's keys and values sorted by `mkey` (leaf-field, then month),
/// the values of one key in the order read.
///
/// A counting sort by leaf-field that moves each key and value to its
/// place as it reads them in order, each leaf-field's few rows then put in
/// month order. Sorting `(mkey, row)` pairs on every core took 20–30 ms
/// of the 430,000 vaccination figures of a city's year at 2 threads; the
/// rows' places alone sorted (a counting sort), then each key and value
/// read from its row in that order (two reads far apart for every row),
/// step 1 took 23–41 ms (median 35) of the vaccination form's 430,000
/// figures of a city's 2026Q4 from its store, moved as they are read
/// 16–29 ms (20.5), its three forms 55 ms against 35 (release, 1 thread,
/// six runs each alternating, every export the same).
/// Where the leaf-fields span far more keys than there are rows (a
/// registry of many units and a batch of few), the pairs are sorted.
fn by_key_then_read(lk: &[u64], mi: &[u32], value: &[f64], keys: Keys) -> (Vec<u64>, Vec<f64>) {
    let n = lk.len();
    let mkey = |row: usize| keys.month_key(lk[row], mi[row]);
    let (Some(&lo), Some(&hi)) = (lk.iter().min(), lk.iter().max()) else {
        return (Vec::new(), Vec::new());
    };
    let width = usize::try_from(hi - lo)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    if width > 4 * n + (1 << 16) {
        let mut pairs: Vec<(u64, u32)> = (0..n).map(|row| (mkey(row), row as u32)).collect();
        pairs.par_sort_unstable();
        return (
            pairs.iter().map(|&(k, _)| k).collect(),
            pairs.iter().map(|&(_, row)| value[row as usize]).collect(),
        );
    }
    let bucket = |row: usize| (lk[row] - lo) as usize;
    let mut starts = vec![0u32; width + 1];
    for row in 0..n {
        starts[bucket(row) + 1] += 1;
    }
    for b in 0..width {
        starts[b + 1] += starts[b];
    }
    let mut next = starts.clone();
    let (mut key_out, mut value_out) = (vec![0u64; n], vec![0f64; n]);
    for (row, &v) in value.iter().enumerate() {
        let b = bucket(row);
        let at = next[b] as usize;
        key_out[at] = mkey(row);
        value_out[at] = v;
        next[b] += 1;
    }
    drop(next);
    // Within a leaf-field, by month (its keys); a stable sort keeps the
    // order read.
    for b in 0..width {
        let (s, e) = (starts[b] as usize, starts[b + 1] as usize);
        if e - s > 1 && !key_out[s..e].is_sorted() {
            let mut run: Vec<(u64, f64)> = key_out[s..e]
                .iter()
                .copied()
                .zip(value_out[s..e].iter().copied())
                .collect();
            run.sort_by_key(|r| r.0);
            for (i, (k, v)) in run.into_iter().enumerate() {
                key_out[s + i] = k;
                value_out[s + i] = v;
            }
        }
    }
    (key_out, value_out)
}

fn month_values_schema() -> SchemaRef {
    kernel_schema(
        &[
            ("mkey", DataType::UInt64),
            ("lk", DataType::UInt64),
            ("mi", DataType::UInt32),
            ("stock", DataType::Boolean),
        ],
        &["sum".to_string(), "last".to_string(), "value".to_string()],
    )
}

/// Every form-field of every period rolled up: one column per slot
/// (`period × form-fields + form-field`), each sorted by unit; a rate's
/// column holds the rate. `side_by_side`: the forms' plans run at once
/// (see `pipeline::Selection::forms_side_by_side`).
#[allow(clippy::too_many_arguments)]
pub(super) fn roll_up(
    batch: &Batch,
    registry: &Registry,
    schemas: &Schemas,
    periods: &[Period],
    trend: &Trend,
    sequence_months: &[crate::period::Month],
    slots: &Slots,
    side_by_side: bool,
) -> PolarsResult<Vec<Figures>> {
    // The forms share no figure, no rate and no key slot, so the plan runs
    // over each form's figures in turn and their columns are put together:
    // the same plan, its intermediate frames a form wide instead of three.
    // On the national forms' city-year (1.36 M figures), `consolidate
    // --export` at 2 threads, PHSTATS_TIMINGS, the two binaries alternating
    // ten times: check+aggregate 0.86–1.23 s (median 1.02) and a peak of
    // 410–430 MiB over all forms at once; 0.93–1.30 s (median 1.07) and
    // 314–325 MiB a form at a time (the hierarchy and the rates' table
    // built once). Every export identical. Running the vaccination form's
    // plan beside the other two (rayon::join), five runs each alternating:
    // check+aggregate 0.72–0.90 s (median 0.80) against 0.93–1.00 (0.97),
    // the run 2.94–3.34 s against 3.17–3.56, but a peak of 331–360 MB
    // against 299–329; kept only where the run's peak is not the roll-up's
    // (`side_by_side`, see `pipeline::Selection::forms_side_by_side`).
    // The other way, a form cut into groups of the fields its rates and
    // dose sequences tie together, packed up to 250,000 figures (the
    // vaccination form in two): a peak of 259–268 MB against 326–335, but
    // check+aggregate 1.34–1.41 s against 0.99–1.26 (each group scans the
    // table and joins the hierarchy again; 80,000 figures: 1.69–1.70 s and
    // still 259–263 MB, the outputs' peak); not kept either.
    let h = Hierarchy::new(registry)?;
    let ratios = ratios(schemas, slots);
    let sequences = sequences(slots);
    // Of a trend month, only the rates of the units drawn. A city's 2026Q4
    // reported from its store (nine trend months), check+aggregate at 2
    // threads: 0.41–0.53 s (median 0.45) against 0.43–0.55 (0.48) with
    // every unit's rates, ten runs alternating, every export the same.
    let drawn = (!trend.periods.is_empty()).then(|| {
        let mut units = vec![false; registry.units.len()];
        for &u in &trend.units {
            units[u as usize] = true;
        }
        Arc::new(Drawn {
            only: periods.iter().map(|p| trend.periods.contains(p)).collect(),
            units,
        })
    });
    let one = |form: usize| {
        roll_up_form(
            batch,
            registry,
            schemas,
            periods,
            trend,
            drawn.clone(),
            sequence_months,
            slots,
            &h,
            &ratios,
            &sequences,
            form as crate::schema::FormIdx,
            side_by_side,
        )
    };
    let forms = 0..schemas.forms.len();
    let rolled: Vec<PolarsResult<(Vec<Figures>, u64)>> = if side_by_side {
        largest_in_polars_pool(forms, largest_form(batch, schemas.forms.len()), one)
    } else {
        forms.map(one).collect()
    };
    let mut out: Vec<Figures> = Vec::new();
    let mut spanned = 0;
    for form in rolled {
        let (columns, months) = form?;
        spanned = spanned.max(months);
        if out.is_empty() {
            out = columns;
        } else {
            for (o, c) in out.iter_mut().zip(columns) {
                if !c.is_empty() {
                    *o = c;
                }
            }
        }
    }
    if spanned <= HAND_BACK_AFTER_MONTHS {
        // The kernels kept what they freed, each on the pool thread that
        // ran it, where the outputs cannot reuse it: handed back once,
        // now, a quarter's report peaks at 153–157 MiB, not 175–184.
        crate::pipeline::hand_back_everywhere();
    }
    Ok(out)
}

/// The form the batch holds the most figures of (its returns' and its
/// history's): the longest plan.
fn largest_form(batch: &Batch, n_forms: usize) -> usize {
    let mut figures = vec![0usize; n_forms];
    for &form in &batch.obs.form {
        figures[usize::from(form)] += 1;
    }
    for month in &batch.history.months {
        for (key, _) in &month.rows {
            if let Some(n) = figures.get_mut(usize::from(crate::counted::form_of(*key))) {
                *n += 1;
            }
        }
    }
    (0..n_forms)
        .max_by_key(|&f| (figures[f], std::cmp::Reverse(f)))
        .unwrap_or(0)
}

/// `one` of every form of `forms`, side by side, in their order: `largest`
/// as a job of polars' own pool, the others through this pool beside it.
///
/// Through one `par_iter`, the thread that ran the vaccination form's plan
/// waited on polars' pool inside it and took another form's whole plan on
/// itself meanwhile (rayon has a waiting thread work): on a city's 2026Q4
/// from its store, a timeline of the kernels showed the vaccination form's
/// 175 ms of work stretched to 233–259 ms. As a job of polars' pool it
/// waits on no other pool and ran in 200–210 ms. Release, 2 threads, the
/// two binaries alternating (medians), check+aggregate: 2026Q4 0.223 s
/// against 0.239 (20 runs; wall 0.54 against 0.55), 2026Q1 0.096 against
/// 0.123 (10), the year 0.37 against 0.47 (8; peak 241 MiB against 239);
/// every export and cell the same. On a thread of its own instead, its
/// figures (this pool's `par_iter`) waited behind the checks: no faster.
fn largest_in_polars_pool<R: Send>(
    forms: std::ops::Range<usize>,
    largest: usize,
    one: impl Fn(usize) -> R + Sync,
) -> Vec<R> {
    if !forms.contains(&largest) {
        return forms.into_par_iter().map(&one).collect();
    }
    let first = std::sync::Mutex::new(None);
    let mut rest: Vec<(usize, R)> = polars_core::runtime::THREAD_POOL.in_place_scope(|scope| {
        scope.spawn(|_| {
            let r = one(largest);
            *first
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
        });
        forms
            .into_par_iter()
            .filter(|&f| f != largest)
            .map(|f| (f, one(f)))
            .collect()
    });
    // A panic of the spawned job is raised again by the scope, so the
    // largest form's result is there.
    if let Some(r) = first
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        let at = rest.partition_point(|(f, _)| *f < largest);
        rest.insert(at, (largest, r));
    }
    rest.into_iter().map(|(_, r)| r).collect()
}

/// Step 5's pairs of `table` ([`ratios`] or [`sequences`]): each numerator
/// (less `minus`) and denominator at each leaf and month where every part
/// was reported, a side taken as the denominator's kind takes it. In: the
/// month values (step 1, sorted by `mkey`); out: `lk` (the pair's slot and
/// the leaf), `mi`, `n`, `d`, `stock`, in any order.
///
/// A hand kernel behind the plan ([`Pairs`]). The plan's own way, each
/// numerator's rows joined to the rates' table, then to the denominator's
/// month and (for a dropout rate) the `minus`'s, took 45–52 ms of the
/// vaccination form's roll-up of a city's 2026Q4 from its store and
/// 70–85 ms over its three forms (2 threads, release, each collected and
/// timed alone). Each side found by a binary search in the sorted month
/// keys, the vaccination form's rates took 21 ms and its dose sequences'
/// 16; each rate's numerator and denominator walked side by side (each
/// field's months are one run of the sorted keys, by unit and month),
/// 9–13 ms and 5–6 (three runs).
fn pairs(monthly: &LazyFrame, table: &[Ratio], keys: Keys) -> LazyFrame {
    let kernel = Pairs {
        keys,
        ratios: table.to_vec(),
    };
    behind_the_plan(monthly.clone(), "pairs", Pairs::schema(), move |df| {
        kernel.run(&df)
    })
}

/// The kernel of step 5's pairs: the rates of [`ratios`] (or the
/// sequences of [`sequences`]).
struct Pairs {
    keys: Keys,
    ratios: Vec<Ratio>,
}

/// One pair of [`Pairs::run`]: `lk`, `mi`, `stock`, `n`, `d`.
type Pair = (u64, u32, bool, f64, f64);

/// One row of the rates' table.
#[derive(Clone, Copy)]
struct Ratio {
    rate: u64,
    num: u64,
    den: u64,
    minus: Option<u64>,
    /// Both sides taken as a stock (the denominator's kind).
    stock: bool,
}

impl Pairs {
    fn schema() -> SchemaRef {
        kernel_schema(
            &[
                ("lk", DataType::UInt64),
                ("mi", DataType::UInt32),
                ("stock", DataType::Boolean),
            ],
            &["n".to_string(), "d".to_string()],
        )
    }

    /// `df`: the month values, one row per leaf-field and month, sorted by
    /// `mkey` with no key twice ([`month_values`]).
    fn run(&self, df: &DataFrame) -> PolarsResult<DataFrame> {
        let (mkey, sum, last) = (
            df.column("mkey")?.u64()?.rechunk(),
            df.column("sum")?.f64()?.rechunk(),
            df.column("last")?.f64()?.rechunk(),
        );
        let (mkey, sum, last) = (mkey.cont_slice()?, sum.cont_slice()?, last.cont_slice()?);
        let Keys { units, months, .. } = self.keys;
        // A field's keys are `ff × U × M + unit × M + month`: one run of
        // the sorted keys, in which the rest after `ff × U × M` (its unit
        // and month) rises.
        let span = units * months;
        let run_of = |ff: u64| {
            let from = mkey.partition_point(|&k| k < ff * span);
            let to = from + mkey[from..].partition_point(|&k| k < (ff + 1) * span);
            (ff * span, from, to)
        };
        // The row of `side` whose rest is `rest`, its cursor moved on to it.
        let seek = |(base, _, to): (u64, usize, usize), at: &mut usize, rest: u64| {
            while *at < to && mkey[*at] - base < rest {
                *at += 1;
            }
            (*at < to && mkey[*at] - base == rest).then_some(*at)
        };
        let pick = |row: usize, stock: bool| if stock { last[row] } else { sum[row] };
        let found: Vec<Vec<Pair>> = self
            .ratios
            .par_iter()
            .map(|r| {
                let (num, den) = (run_of(r.num), run_of(r.den));
                let minus = r.minus.map(run_of);
                let (mut at_den, mut at_minus) = (den.1, minus.map_or(0, |m| m.1));
                let mut out = Vec::with_capacity(num.2 - num.1);
                for (row, &key) in mkey.iter().enumerate().take(num.2).skip(num.1) {
                    let rest = key - num.0;
                    let Some(d) = seek(den, &mut at_den, rest) else {
                        continue;
                    };
                    let n = match minus {
                        // A dropout rate counts a month only where its
                        // `minus` was reported too.
                        Some(m) => match seek(m, &mut at_minus, rest) {
                            Some(k) => pick(row, r.stock) - pick(k, r.stock),
                            None => continue,
                        },
                        None => pick(row, r.stock),
                    };
                    let (unit, mi) = (rest / months, (rest % months) as u32);
                    out.push((r.rate * units + unit, mi, r.stock, n, pick(d, r.stock)));
                }
                out
            })
            .collect();
        // Each column made at its length: collected from the rates' lists
        // (whose length an iterator over them does not tell), each grew
        // a step at a time, copied into fresh memory at every step.
        let total: usize = found.iter().map(Vec::len).sum();
        fn column<T>(found: &[Vec<Pair>], total: usize, part: impl Fn(&Pair) -> T) -> Vec<T> {
            let mut v = Vec::with_capacity(total);
            v.extend(found.iter().flatten().map(part));
            v
        }
        kernel_frame(
            vec![
                owned("lk", column(&found, total, |f| f.0)),
                owned("mi", column(&found, total, |f| f.1)),
                Column::new("stock".into(), column(&found, total, |f| f.2)),
            ],
            &["n".to_string(), "d".to_string()],
            vec![
                column(&found, total, |f| f.3),
                column(&found, total, |f| f.4),
            ],
        )
    }
}

/// [`roll_up`] of one form's figures, over the hierarchy, the rates'
/// table and the trend's units built once for all forms; its counts,
/// rates and dose sequences at once where `side_by_side`.
#[allow(clippy::too_many_arguments)]
fn roll_up_form(
    batch: &Batch,
    registry: &Registry,
    schemas: &Schemas,
    periods: &[Period],
    trend: &Trend,
    drawn: Option<Arc<Drawn>>,
    sequence_months: &[crate::period::Month],
    slots: &Slots,
    h: &Hierarchy,
    ratios: &[Ratio],
    sequences: &[Ratio],
    form: crate::schema::FormIdx,
    side_by_side: bool,
) -> PolarsResult<(Vec<Figures>, u64)> {
    let (figs, keys, first, stock_of) = figures(batch, schemas, slots, registry, form)?;
    let windows = windows(periods, first);
    // The counts of a rates-only period: an empty window. A quarter's
    // report from a city's year (nine trend months of its seventeen
    // periods), the check+aggregate phase at 2 threads: see
    // `pipeline::run_batch`.
    let count_windows: Vec<(u32, u32)> = periods
        .iter()
        .zip(&windows)
        .map(|(p, &w)| if trend.periods.contains(p) { (1, 0) } else { w })
        .collect();

    // 1. One value per leaf, field and month, both ways: `sum` (flows) and
    // `last` (stocks: the later read, a group keeping the read order), and
    // `value`, the one of them the field's kind takes.
    let monthly = behind_the_plan(
        figs.lazy(),
        "month values",
        month_values_schema(),
        move |df| month_values(df, keys, &stock_of),
    )
    .cache();

    // 2–4. The counts.
    let counts = in_periods(monthly.clone(), &count_windows, keys, &["value"]);
    let counts = ancestors_of(
        one_source(counts, h, keys, &["value"]),
        h,
        keys,
        periods.len(),
        &["value"],
        None,
    );

    // 5. The rates, from pairs by leaf and month.
    let rates = in_periods(pairs(&monthly, ratios, keys), &windows, keys, &["n", "d"]);
    let rates = ancestors_of(
        one_source(rates, h, keys, &["n", "d"]),
        h,
        keys,
        periods.len(),
        &["n", "d"],
        drawn,
    )
    .filter(col("d").neq(lit(0.0)))
    .select([
        col("key"),
        (col("n") / col("d") * lit(100.0)).alias("value"),
    ]);

    let mut parts = vec![counts, rates];
    if !schemas.form(form).sequences.is_empty() {
        // The dose sequences' pairs the same way, each month the run judges
        // (`sequence_months`) over its year to date (FORMS.md §4
        // `dose_sequence`): the two sums, the earlier dose's in the
        // sequence's slot and the later's in the next. Of the other months
        // read (累计, trend months, the months before a run's latest), none:
        // the city-year's `consolidate` (its latest month judged),
        // check+aggregate at 2 threads 0.55 s against 0.59 with every
        // month's (medians of six runs, alternating, every export the same);
        // 2026Q4 from its store, 0.41 s either way.
        let seqs = in_periods(
            pairs(&monthly, sequences, keys),
            &year_to_date(periods, first, sequence_months),
            keys,
            &["n", "d"],
        );
        // Only the units the check judges: with the villages' rows, the
        // city-year's `consolidate` peaked at 312–326 MB, without them at
        // 301–307 (297–307 before the sequences were rolled up here); its
        // check+aggregate took 0.03–0.07 s more (2 threads, four runs each).
        let seqs = on_units(
            ancestors_of(seqs, h, keys, periods.len(), &["n", "d"], None),
            keys,
            "key",
            h.above_villages.clone(),
        )
        .cache();
        let seqs = frames(vec![
            seqs.clone().select([col("key"), col("d").alias("value")]),
            seqs.select([
                (col("key") + lit(keys.units)).alias("key"),
                col("n").alias("value"),
            ]),
        ]);
        parts.push(seqs);
    }
    // The counts, the rates and the sequences one after the other where
    // the run's peak is the roll-up's: side by side, each one's steps 2–4
    // held their tables beside the others'. City-year `consolidate
    // --export` at 2 threads: a peak of 220–236 MiB against 246–249 over
    // the three parts at once, check+aggregate 0.06–0.1 s longer (release,
    // three runs each alternating). Where the run peaks in its outputs
    // (`side_by_side`, a report from the store), side by side: the
    // vaccination form's plan was the whole of check+aggregate, the other
    // forms and the checks done long before it. A city's 2026Q4 from its
    // store, 2 threads, ten runs alternating: check+aggregate 0.271 s
    // against 0.300 (medians), the peak the same (180 MiB, the outputs');
    // its 2026: 0.51 s against 0.57, peaking at 234–246 MiB against
    // 218–233.
    let parts_at_once = UnionArgs {
        parallel: side_by_side,
        ..UnionArgs::default()
    };
    let all = concat(parts, parts_at_once)?.collect()?;
    Ok((columns(all, keys, periods.len())?, keys.months))
}

/// The plan's rows `(key, value)`, in any order, cut into one column per
/// slot (`p × F + ff`), each sorted by unit.
///
/// Sorting the plan's rows by key first (`LazyFrame::sort`) held the
/// table twice, sorted beside unsorted, at the roll-up's peak: on a
/// city-year the vaccination form's rows rose from 236 to 277 MiB resident
/// there, then to 286 with these columns beside them (release, 2 threads,
/// `VmHWM` reset before each stage). Each column is sorted on its own here.
fn columns(all: DataFrame, keys: Keys, n_periods: usize) -> PolarsResult<Vec<Figures>> {
    let n_slots = n_periods * keys.fields as usize;
    let slot_of = |key: u64| (key / keys.units) as usize;
    let mut out: Vec<Figures> = {
        let key = all.column("key")?.u64()?;
        let value = all.column("value")?.f64()?;
        let mut sizes = vec![0usize; n_slots];
        for (key, value) in key.into_no_null_iter().zip(value.iter()) {
            if value.is_some() {
                sizes[slot_of(key)] += 1;
            }
        }
        let mut out: Vec<Figures> = sizes.into_iter().map(Vec::with_capacity).collect();
        for (key, value) in key.into_no_null_iter().zip(value.iter()) {
            // A sum is never empty, and a rate's denominator is not 0.
            let Some(value) = value else { continue };
            let unit = (key % keys.units) as UnitIdx;
            out[slot_of(key)].push((unit, value));
        }
        out
    };
    drop(all);
    // A unit has one row per slot: sorted by unit is sorted by key.
    out.par_iter_mut()
        .for_each(|c| c.sort_unstable_by_key(|&(unit, _)| unit));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Step 1's sort against a stable sort of `(mkey, value)` by key: the
    /// same keys and, within a key, the values in the order read; both the
    /// counting sort and the wide keys' pair sort.
    #[test]
    fn step_one_sorts_by_key_and_keeps_the_order_read_within_a_key() {
        let months = 12u64;
        for spread in [1u64, 1_000_000] {
            // Leaf-fields 7, 3 and 5 (far apart where `spread` is large),
            // months out of order, and key 3×12+2 read three times.
            let rows: [(u64, u64, f64); 9] = [
                (7, 4, 1.0),
                (3, 2, 2.0),
                (5, 0, 3.0),
                (3, 0, 4.0),
                (3, 2, 5.0),
                (7, 1, 6.0),
                (5, 11, 7.0),
                (3, 2, 8.0),
                (3, 1, 9.0),
            ];
            let lk: Vec<u64> = rows.iter().map(|r| r.0 * spread).collect();
            let mi: Vec<u32> = rows.iter().map(|r| r.1 as u32).collect();
            let value: Vec<f64> = rows.iter().map(|r| r.2).collect();
            let mut expected: Vec<(u64, f64)> = rows
                .iter()
                .zip(&lk)
                .map(|(r, &l)| (l * months + r.1, r.2))
                .collect();
            expected.sort_by_key(|r| r.0);
            let keys = Keys {
                units: 1,
                fields: 1,
                months,
            };
            let (k, v) = by_key_then_read(&lk, &mi, &value, keys);
            assert_eq!(
                k.into_iter().zip(v).collect::<Vec<_>>(),
                expected,
                "spread {spread}"
            );
        }
        let keys = Keys {
            units: 1,
            fields: 1,
            months: 12,
        };
        assert_eq!(by_key_then_read(&[], &[], &[], keys), (vec![], vec![]));
    }

    /// Every window over runs of 0 to 40 months (some missing), counted and
    /// searched alike, against the months checked one by one.
    #[test]
    fn a_window_starts_and_ends_where_its_months_do() {
        for len in 0..40u32 {
            // Every third month missing.
            let months: Vec<u32> = (0..len + len / 2)
                .filter(|m| m % 3 != 1)
                .take(len as usize)
                .collect();
            let top = months.last().map_or(2, |&m| m + 2);
            for lo in 0..top {
                for hi in lo.saturating_sub(1)..top {
                    let before = months.iter().take_while(|&&m| m < lo).count();
                    let through = months.iter().take_while(|&&m| m <= hi).count();
                    assert_eq!(
                        in_window(&months, lo, hi),
                        (before, through),
                        "{months:?} {lo}..={hi}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_largest_form_runs_in_polars_pool_and_the_results_keep_the_forms_order() {
        for largest in 0..4 {
            let runs: Vec<AtomicUsize> = (0..4).map(|_| AtomicUsize::new(0)).collect();
            let out = largest_in_polars_pool(0..4, largest, |f| {
                runs[f].fetch_add(1, Ordering::Relaxed);
                let in_polars = polars_core::runtime::THREAD_POOL
                    .current_thread_index()
                    .is_some();
                (f, in_polars)
            });
            assert_eq!(
                out.iter().map(|r| r.0).collect::<Vec<_>>(),
                vec![0, 1, 2, 3]
            );
            for (f, in_polars) in out {
                assert_eq!(in_polars, f == largest, "form {f}, the largest {largest}");
            }
            assert!(runs.iter().all(|r| r.load(Ordering::Relaxed) == 1));
        }
        // No form, or a largest that is none of them: each form once.
        assert!(largest_in_polars_pool(0..0, 0, |f| f).is_empty());
        assert_eq!(largest_in_polars_pool(0..3, 5, |f| f), vec![0, 1, 2]);
    }
}
