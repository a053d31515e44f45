//! Roll-ups over the observation table (FORMS.md §5), in three steps:
//!
//! 1. per leaf unit, period and field, flows are summed over the period's
//!    months and stocks take the latest month that has a value
//!    (LAST_IN_PERIOD) — a sort over (key, month);
//! 2. a lazy polars plan joins every leaf row to each of its ancestors (an
//!    ancestor table) and sums per ancestor — the hierarchy as a table, no
//!    loop over levels; run a few whole periods at a time to bound memory;
//! 3. rates (and `dtap_dropout`) are recomputed from the aggregated
//!    numerator and denominator.
//!
//! Keys are packed into one `u64` (period × form-field, unit). Missing
//! values are left out, never turned into zero.

use std::collections::HashMap;

use polars::prelude::*;
use rayon::slice::ParallelSliceMut;

use crate::observation::{Batch, ReturnStatus};
use crate::period::{Month, Period};
use crate::registry::{Registry, UnitIdx};
use crate::schema::{FieldIdx, FormIdx, Kind, Schemas};
use crate::validate::Settled;

/// Why aggregation failed (an internal polars error; data problems are findings).
#[derive(Debug, thiserror::Error)]
#[error("aggregation failed: {0}")]
pub struct AggregateError(#[from] PolarsError);

/// One aggregated figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aggregate {
    /// Period.
    pub period: Period,
    /// Unit (any level, villages included).
    pub unit: UnitIdx,
    /// Form.
    pub form: FormIdx,
    /// Field (rates and derived rates included).
    pub field: FieldIdx,
    /// Value; rates in percent.
    pub value: f64,
}

/// Every aggregated figure of a run: two columns, a packed key and the
/// value, sorted by key (period, form, field, unit), so a lookup is a
/// binary search and a city-year's 1.5 million figures take 16 bytes each.
#[derive(Debug, Clone, Default)]
pub struct Aggregates {
    /// Periods consolidated, in report order.
    pub periods: Vec<Period>,
    /// Of those, the periods consolidated only to compare with (上期, 同期,
    /// 累计, the trend months of the published summary): not exported.
    pub comparison: Vec<Period>,
    slots: Slots,
    keys: Vec<u64>,
    values: Vec<f64>,
}

impl Aggregates {
    /// The figure for a key; `None` when nothing was reported.
    #[must_use]
    pub fn get(
        &self,
        period: Period,
        unit: UnitIdx,
        form: FormIdx,
        field: FieldIdx,
    ) -> Option<f64> {
        let p = self.periods.iter().position(|x| *x == period)?;
        let key = self.slots.key(p, form, field, unit);
        self.keys.binary_search(&key).ok().map(|i| self.values[i])
    }

    /// Every figure, by period (report order), form, field and unit.
    pub fn rows(&self) -> impl Iterator<Item = Aggregate> + '_ {
        self.keys.iter().zip(&self.values).map(|(&k, &value)| {
            let (p, form, field, unit) = self.slots.unpack(k);
            Aggregate {
                period: self.periods[p],
                unit,
                form,
                field,
                value,
            }
        })
    }
}

/// The periods a run consolidates. Without a selection: every month found,
/// and every quarter and year those months touch. With one: the months
/// found inside it, each quarter, half and year it covers whole, and the
/// selection itself (a year to date `2026-01..2026-05` is consolidated as
/// one period, as 累计).
#[must_use]
pub fn periods_for(months: &[Month], selected: Option<Period>) -> Vec<Period> {
    let mut out: Vec<Period> = Vec::new();
    let mut add = |p: Period| {
        if !out.contains(&p) {
            out.push(p);
        }
    };
    for &m in months {
        let wider = [
            Period::Month(m),
            Period::Quarter(m.year(), m.quarter()),
            Period::Half(m.year(), (m.month() - 1) / 6 + 1),
            Period::Year(m.year()),
        ];
        match selected {
            None => {
                for p in wider {
                    if !matches!(p, Period::Half(..)) {
                        add(p);
                    }
                }
            }
            Some(sel) if sel.contains(m) => {
                for p in wider {
                    // Halves only when one is asked for: a year has four
                    // quarters, its halves are not a report of their own.
                    if sel.covers(p) && (!matches!(p, Period::Half(..)) || p == sel) {
                        add(p);
                    }
                }
                add(sel);
            }
            Some(_) => {}
        }
    }
    out.sort_by_key(|p| p.sort_key());
    out
}

fn u32_col(name: &str, v: Vec<u32>) -> Column {
    Column::new(name.into(), v)
}

/// Roll-up keys packed into one `u64` each: the slot (period × form-field)
/// in the high 32 bits, the unit in the low 32. polars groups and joins one
/// integer column far faster, and in far less memory, than four.
#[derive(Debug, Clone, Default)]
struct Slots {
    /// Every (form, field) of every form, in schema order, then two hidden
    /// slots per rate: its numerator and its denominator summed over the
    /// leaves that reported both (FORMS.md §5).
    ff: Vec<(FormIdx, FieldIdx)>,
    /// Where each form's fields start in `ff`.
    form_start: Vec<u32>,
    /// Where the hidden slots start in `ff`.
    hidden_start: u32,
    /// The rates, in the order of their hidden slots.
    rates: Vec<(FormIdx, FieldIdx)>,
}

/// Which side of a rate a hidden slot holds.
#[derive(Clone, Copy)]
enum Side {
    /// Numerator (less the `minus` field, for `dtap_dropout`).
    Numerator = 0,
    /// Denominator.
    Denominator = 1,
}

const UNIT_BITS: u64 = 32;
const UNIT_MASK: u64 = (1 << UNIT_BITS) - 1;

impl Slots {
    fn new(schemas: &Schemas) -> Slots {
        let mut ff = Vec::new();
        let mut form_start = Vec::new();
        let mut rates = Vec::new();
        for (fi, f) in schemas.forms.iter().enumerate() {
            form_start.push(ff.len() as u32);
            for (field, def) in f.fields.iter().enumerate() {
                ff.push((fi as FormIdx, field as FieldIdx));
                if def.ratio.is_some() {
                    rates.push((fi as FormIdx, field as FieldIdx));
                }
            }
        }
        let hidden_start = ff.len() as u32;
        for &r in &rates {
            ff.push(r);
            ff.push(r);
        }
        Slots {
            ff,
            form_start,
            hidden_start,
            rates,
        }
    }

    fn key(&self, period: usize, form: FormIdx, field: FieldIdx, unit: UnitIdx) -> u64 {
        let ff = u64::from(self.form_start[form as usize]) + u64::from(field);
        self.key_at(period, ff, unit)
    }

    /// The key of rate `rate`'s hidden `side`.
    fn side_key(&self, period: usize, rate: usize, side: Side, unit: UnitIdx) -> u64 {
        let ff = u64::from(self.hidden_start) + 2 * rate as u64 + side as u64;
        self.key_at(period, ff, unit)
    }

    fn key_at(&self, period: usize, ff: u64, unit: UnitIdx) -> u64 {
        ((period as u64 * self.ff.len() as u64 + ff) << UNIT_BITS) | u64::from(unit)
    }

    /// Whether a key is a hidden rate side, not a figure of the report.
    fn is_hidden(&self, key: u64) -> bool {
        (key >> UNIT_BITS) % self.ff.len() as u64 >= u64::from(self.hidden_start)
    }

    /// The period index of a key.
    fn period_of(&self, key: u64) -> usize {
        ((key >> UNIT_BITS) / self.ff.len() as u64) as usize
    }

    /// The unit of a key.
    fn unit_of(key: u64) -> UnitIdx {
        (key & UNIT_MASK) as UnitIdx
    }

    /// The same period, form and field (ignoring the unit).
    fn same_slot(a: u64, b: u64) -> bool {
        a >> UNIT_BITS == b >> UNIT_BITS
    }

    /// (period index, form, field, unit) of a key.
    fn unpack(&self, key: u64) -> (usize, FormIdx, FieldIdx, UnitIdx) {
        let slot = key >> UNIT_BITS;
        let n = self.ff.len() as u64;
        let (form, field) = self.ff[(slot % n) as usize];
        ((slot / n) as usize, form, field, Slots::unit_of(key))
    }
}

/// Aggregates the batch's counted returns over `periods` and the registry's hierarchy.
///
/// # Errors
/// Only an internal polars failure.
pub fn aggregate(
    settled: &Settled,
    registry: &Registry,
    schemas: &Schemas,
    periods: &[Period],
) -> Result<Aggregates, AggregateError> {
    let slots = Slots::new(schemas);
    let leaf = leaf_frame(settled.batch(), registry, schemas, periods, &slots)?;
    let ancestors = ancestor_frame(registry)?;
    // The leaf frame is sorted by key, so each period is one contiguous
    // slice. Rolling up a few periods at a time keeps the joined frame (every
    // leaf row once per ancestor) a fraction of the whole: a city-year's
    // 4 million joined rows would otherwise be the run's peak memory.
    let keys = leaf.column("key")?.u64()?;
    let period_of = |i: usize| keys.get(i).map(|k| slots.period_of(k));
    let mut bounds = vec![0];
    let mut since = 0;
    for i in 1..leaf.height() {
        if period_of(i) != period_of(i - 1) && i - since >= ROLL_UP_CHUNK {
            bounds.push(i);
            since = i;
        }
    }
    bounds.push(leaf.height());
    let mut rows: Vec<(u64, f64)> = Vec::new();
    for w in bounds.windows(2) {
        let chunk = leaf.slice(w[0] as i64, w[1] - w[0]);
        let mut part = roll_up(chunk, &ancestors)?;
        part.par_sort_unstable_by_key(|r| r.0);
        rows.extend(part);
    }
    drop(leaf);
    let rates = rates(&rows, periods.len(), &slots);
    rows.retain(|r| !slots.is_hidden(r.0));
    rows.extend(rates);
    rows.par_sort_unstable_by_key(|r| r.0);
    let (keys, values) = rows.into_iter().unzip();
    Ok(Aggregates {
        periods: periods.to_vec(),
        comparison: Vec::new(),
        slots,
        keys,
        values,
    })
}

/// Leaf rows per roll-up pass (whole periods at a time).
const ROLL_UP_CHUNK: usize = 200_000;

/// One lazy plan: every leaf row joined to each of its ancestors (itself
/// included) and summed per ancestor, period and field.
fn roll_up(leaf: DataFrame, ancestors: &DataFrame) -> PolarsResult<Vec<(u64, f64)>> {
    let unit_of_key = (col("key") % lit(1u64 << UNIT_BITS)).cast(DataType::UInt32);
    let counts = leaf
        .lazy()
        .select([col("key"), unit_of_key.alias("unit"), col("value")])
        .join(
            ancestors.clone().lazy(),
            [col("unit")],
            [col("unit")],
            JoinArgs::new(JoinType::Inner),
        )
        .select([
            (col("key") - col("unit").cast(DataType::UInt64)
                + col("ancestor").cast(DataType::UInt64))
            .alias("key"),
            col("value"),
        ])
        .group_by([col("key")])
        .agg([col("value").sum()])
        .collect()?;
    let key_col = counts.column("key")?.u64()?;
    let value_col = counts.column("value")?.f64()?;
    Ok(key_col
        .iter()
        .zip(value_col.iter())
        .filter_map(|(k, v)| Some((k?, v?)))
        .collect())
}

/// Rates recomputed at every unit and period from the hidden sides:
/// `(num − minus) / den × 100`, each side summed over the same leaves (those
/// that reported every part), and only where the denominator is not zero.
/// `counts` is sorted by key, so one side's figures for one period are one
/// run, and each denominator a binary search.
fn rates(counts: &[(u64, f64)], n_periods: usize, slots: &Slots) -> Vec<(u64, f64)> {
    let mut out = Vec::new();
    let find = |key: u64| {
        counts
            .binary_search_by_key(&key, |r| r.0)
            .ok()
            .map(|i| counts[i].1)
    };
    for (k, &(fi, ri)) in slots.rates.iter().enumerate() {
        for p in 0..n_periods {
            let first = slots.side_key(p, k, Side::Numerator, 0);
            let start = counts.partition_point(|c| c.0 < first);
            let end = start + counts[start..].partition_point(|c| Slots::same_slot(c.0, first));
            for &(key, num) in &counts[start..end] {
                let unit = Slots::unit_of(key);
                let Some(den) = find(slots.side_key(p, k, Side::Denominator, unit)) else {
                    continue;
                };
                if den == 0.0 {
                    continue;
                }
                out.push((slots.key(p, fi, ri, unit), num / den * 100.0));
            }
        }
    }
    out
}

/// Per leaf unit, consolidated period and field, from the counted, reported,
/// non-rate observations: flows summed over the period's months, stocks the
/// value of the latest month that has one (LAST_IN_PERIOD, never carried in
/// from before the period). One keyed row each: the input of the roll-up.
/// Then, for each rate, its two sides at every leaf that reported both, and
/// for stocks reported at two levels in one period (a county summary in one
/// month, the township's village detail in another) only the source that
/// reported its subtree latest.
///
/// Done by sorting (key, month) rather than in polars: polars' `last` per
/// group materialises every group's row list, which cost more time and
/// memory than the whole hierarchy roll-up.
fn leaf_frame(
    batch: &Batch,
    registry: &Registry,
    schemas: &Schemas,
    periods: &[Period],
    slots: &Slots,
) -> PolarsResult<DataFrame> {
    let o = &batch.obs;
    let mut in_periods: HashMap<i32, Vec<usize>> = HashMap::new();
    // (key, month, value, stock) for every observation in every period.
    let mut rows: Vec<(u64, i32, f64, bool)> = Vec::with_capacity(o.len() * 3);
    let mut above_leaves = false;
    for i in 0..o.len() {
        let Some(v) = o.value[i] else { continue };
        if batch.returns[o.ret[i] as usize].status != ReturnStatus::Active {
            continue;
        }
        let kind = schemas.form(o.form[i]).field(o.field[i]).kind;
        if kind == Kind::Rate {
            continue;
        }
        if !batch.overlapped.is_empty() && batch.overlapped.contains(&(o.ret[i], o.unit[i])) {
            continue;
        }
        let m = o.month[i];
        let ps = in_periods.entry(m.0).or_insert_with(|| {
            (0..periods.len())
                .filter(|&p| periods[p].contains(m))
                .collect()
        });
        above_leaves |= !registry.unit(o.unit[i]).children.is_empty();
        for &p in ps.iter() {
            rows.push((
                slots.key(p, o.form[i], o.field[i], o.unit[i]),
                m.0,
                v,
                kind == Kind::Stock,
            ));
        }
    }
    rows.par_sort_unstable_by_key(|r| (r.0, r.1));
    // (key, value, month of a stock's value)
    let mut leaf: Vec<(u64, f64, Option<i32>)> = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let k = rows[start].0;
        let end = start + rows[start..].partition_point(|r| r.0 == k);
        let run = &rows[start..end];
        leaf.push(if run[0].3 {
            let last = run[run.len() - 1];
            (k, last.2, Some(last.1))
        } else {
            (k, run.iter().map(|r| r.2).sum(), None)
        });
        start = end;
    }
    drop(rows);
    if above_leaves {
        latest_source(&mut leaf, registry);
    }
    let mut key: Vec<u64> = leaf.iter().map(|l| l.0).collect();
    let mut value: Vec<f64> = leaf.iter().map(|l| l.1).collect();
    drop(leaf);
    let sides = rate_sides(&key, &value, schemas, periods.len(), slots);
    if !sides.is_empty() {
        let mut all: Vec<(u64, f64)> = key.into_iter().zip(value).chain(sides).collect();
        all.par_sort_unstable_by_key(|r| r.0);
        (key, value) = all.into_iter().unzip();
    }
    DataFrame::new(
        key.len(),
        vec![
            Column::new("key".into(), key),
            Column::new("value".into(), value),
        ],
    )
}

/// A stock reported for one period by a unit and by units below it (in
/// different months, since one month's overlap is settled before): only the
/// source that reported the subtree latest is kept, so no unit is counted
/// from two sources in one period. Equal months keep the detail.
fn latest_source(leaf: &mut Vec<(u64, f64, Option<i32>)>, registry: &Registry) {
    let mut drop_idx = vec![false; leaf.len()];
    let mut start = 0;
    while start < leaf.len() {
        let first = leaf[start].0;
        let end = start + leaf[start..].partition_point(|l| Slots::same_slot(l.0, first));
        if leaf[start].2.is_some() && end - start > 1 {
            let at: HashMap<UnitIdx, usize> = (start..end)
                .map(|i| (Slots::unit_of(leaf[i].0), i))
                .collect();
            for i in start..end {
                let unit = Slots::unit_of(leaf[i].0);
                for a in registry.ancestors_and_self(unit).skip(1) {
                    let Some(&j) = at.get(&a) else { continue };
                    if leaf[j].2 > leaf[i].2 {
                        drop_idx[i] = true;
                    } else {
                        drop_idx[j] = true;
                    }
                }
            }
        }
        start = end;
    }
    let mut k = 0;
    leaf.retain(|_| {
        k += 1;
        !drop_idx[k - 1]
    });
}

/// For every rate, its two sides at each leaf and period where every part
/// was reported: `(numerator − minus, denominator)` under the rate's hidden
/// slots. `key` is sorted, so each part is a binary search.
fn rate_sides(
    key: &[u64],
    value: &[f64],
    schemas: &Schemas,
    n_periods: usize,
    slots: &Slots,
) -> Vec<(u64, f64)> {
    let find = |k: u64| key.binary_search(&k).ok().map(|i| value[i]);
    let mut out = Vec::new();
    for (r, &(fi, ri)) in slots.rates.iter().enumerate() {
        let Some(ratio) = schemas.form(fi).field(ri).ratio else {
            continue;
        };
        for p in 0..n_periods {
            let first = slots.key(p, fi, ratio.numerator, 0);
            let start = key.partition_point(|&k| k < first);
            let end = start + key[start..].partition_point(|&k| Slots::same_slot(k, first));
            for i in start..end {
                let unit = Slots::unit_of(key[i]);
                let Some(den) = find(slots.key(p, fi, ratio.denominator, unit)) else {
                    continue;
                };
                let minus = match ratio.minus {
                    Some(m) => match find(slots.key(p, fi, m, unit)) {
                        Some(v) => v,
                        None => continue,
                    },
                    None => 0.0,
                };
                out.push((
                    slots.side_key(p, r, Side::Numerator, unit),
                    value[i] - minus,
                ));
                out.push((slots.side_key(p, r, Side::Denominator, unit), den));
            }
        }
    }
    out
}

/// (unit, ancestor) for every unit and each of its ancestors, itself included.
fn ancestor_frame(registry: &Registry) -> PolarsResult<DataFrame> {
    let mut unit = Vec::new();
    let mut anc = Vec::new();
    for i in 0..registry.units.len() as UnitIdx {
        for a in registry.ancestors_and_self(i) {
            unit.push(i);
            anc.push(a);
        }
    }
    DataFrame::new(
        unit.len(),
        vec![u32_col("unit", unit), u32_col("ancestor", anc)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_touched_by_months() {
        let ms = [Month::new(2026, 1).unwrap(), Month::new(2026, 4).unwrap()];
        let ps: Vec<String> = periods_for(&ms, None)
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(ps, ["2026-01", "2026Q1", "2026-04", "2026Q2", "2026"]);
        let ps: Vec<String> = periods_for(&ms, Some(Period::Quarter(2026, 1)))
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(ps, ["2026-01", "2026Q1"]);
    }
}
