//! Roll-ups over the observation table (FORMS.md §5): one polars lazy
//! plan ([`plan`]) rolls every counted figure up every period and the
//! registry's hierarchy, rates recomputed from numerator and denominator
//! paired at each leaf and month. Its result is kept as one column per
//! (period, form-field) slot, in report order, each sorted by unit.
//! Missing values are left out, never turned into zero.
//!
//! [`explain`] answers where one figure comes from, part by part, by the
//! same rules written for a single figure; a property test holds its
//! counted parts equal to the plan's figure for every figure of the sample.

mod plan;

use crate::observation::Batch;
use crate::period::{Month, Period};
use crate::registry::{Registry, UnitIdx};
use crate::schema::{FieldIdx, FormIdx, Schemas};
use crate::validate::Settled;

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

/// Every aggregated figure of a run: one column per (period, form-field)
/// slot, in report order, each sorted by unit, so a lookup is a binary
/// search in one slot and a figure takes 16 bytes.
#[derive(Debug, Clone, Default)]
pub struct Aggregates {
    /// Periods consolidated, in report order.
    pub periods: Vec<Period>,
    /// Of those, the periods consolidated only to compare with (上期, 同期,
    /// 累计, the trend months of the published summary): not exported.
    pub comparison: Vec<Period>,
    slots: Slots,
    /// Slot `period × fields + form-field`: (unit, value), sorted by unit.
    columns: Vec<Column>,
    /// The months whose dose sequences were summed to date, in order: those
    /// the run judges ([`crate::validate::rolled::judged_months`]).
    pub sequence_months: Vec<crate::period::Month>,
    /// Slot `period × 2 × sequences + 2 × sequence + side`: the year to
    /// date through a month of a dose sequence's earlier (side 0) and later
    /// (side 1) doses, paired by leaf and month, sorted by unit.
    sequences: Vec<Column>,
    /// Where each slot starts in [`Aggregates::rows`], and the total.
    starts: Vec<usize>,
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
        value_at(self.column(period, form, field), unit)
    }

    /// The figures of one period and form-field, by unit (empty where the
    /// period was not rolled up).
    fn column(&self, period: Period, form: FormIdx, field: FieldIdx) -> &[(UnitIdx, f64)] {
        self.periods
            .iter()
            .position(|x| *x == period)
            .and_then(|p| {
                self.columns
                    .get(p * self.slots.ff.len() + self.slots.ff_of(form, field) as usize)
            })
            .map_or(&[], Vec::as_slice)
    }

    /// One period's figures of one form-field, unit by unit: for a caller
    /// that asks for many units of it, each in turn ([`ColumnReader`]).
    #[must_use]
    pub fn reader(&self, period: Period, form: FormIdx, field: FieldIdx) -> ColumnReader<'_> {
        ColumnReader {
            column: self.column(period, form, field),
            at: 0,
        }
    }

    /// The year to date through month `m` of dose sequence `k` of `form`
    /// (the schema's `sequences`) at `unit`: the earlier dose and the later,
    /// paired at each leaf and month as a rate's sides are (FORMS.md §4–5).
    /// `None` where no month of the year paired them, or `m` is not one of
    /// [`Aggregates::sequence_months`].
    #[must_use]
    pub fn sequence_to_date(
        &self,
        m: Month,
        unit: UnitIdx,
        form: FormIdx,
        k: usize,
    ) -> Option<(f64, f64)> {
        let p = self.periods.iter().position(|x| *x == Period::Month(m))?;
        let s = self.slots.seq_start[form as usize] as usize + k;
        let base = (p * self.slots.seq.len() + s) * 2;
        Some((
            value_at(self.sequences.get(base)?, unit)?,
            value_at(self.sequences.get(base + 1)?, unit)?,
        ))
    }

    /// Every figure, by period (report order), form, field and unit.
    pub fn rows(&self) -> impl Iterator<Item = Aggregate> + '_ {
        self.rows_in(0..self.len())
    }

    /// Number of figures.
    #[must_use]
    pub fn len(&self) -> usize {
        self.starts.last().copied().unwrap_or(0)
    }

    /// Whether nothing was aggregated.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The figures at positions `range` of [`Aggregates::rows`].
    pub fn rows_in(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = Aggregate> + '_ {
        let n_ff = self.slots.ff.len().max(1);
        // The last slot starting at or before the range.
        let first = self
            .starts
            .partition_point(|&s| s <= range.start)
            .saturating_sub(1);
        (first..self.columns.len())
            .take_while(move |&s| self.starts[s] < range.end)
            .flat_map(move |s| {
                let (from, to) = (self.starts[s], self.starts[s + 1]);
                let hi = range.end.min(to) - from;
                let lo = (range.start.max(from) - from).min(hi);
                let (form, field) = self.slots.ff[s % n_ff];
                let period = self.periods[s / n_ff];
                self.columns[s][lo..hi]
                    .iter()
                    .map(move |&(unit, value)| Aggregate {
                        period,
                        unit,
                        form,
                        field,
                        value,
                    })
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

/// The form-fields of every form, in schema order: a slot of the roll-up
/// is a period and one of these.
#[derive(Debug, Clone, Default)]
struct Slots {
    /// Every (form, field) of every form, in schema order.
    ff: Vec<(FormIdx, FieldIdx)>,
    /// Where each form's fields start in `ff`.
    form_start: Vec<u32>,
    /// Every dose sequence (form, earlier, later) of every form, in schema
    /// order: two slots each after the form-fields, their paired sums.
    seq: Vec<(FormIdx, FieldIdx, FieldIdx)>,
    /// Where each form's sequences start in `seq`.
    seq_start: Vec<u32>,
}

impl Slots {
    fn new(schemas: &Schemas) -> Slots {
        let (mut ff, mut form_start, mut seq, mut seq_start) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (fi, f) in schemas.forms.iter().enumerate() {
            form_start.push(ff.len() as u32);
            for field in 0..f.fields.len() {
                ff.push((fi as FormIdx, field as FieldIdx));
            }
            seq_start.push(seq.len() as u32);
            for &(earlier, later) in &f.sequences {
                seq.push((fi as FormIdx, earlier, later));
            }
        }
        Slots {
            ff,
            form_start,
            seq,
            seq_start,
        }
    }

    /// The form-field slot of a field.
    fn ff_of(&self, form: FormIdx, field: FieldIdx) -> u32 {
        self.form_start[form as usize] + u32::from(field)
    }

    /// The first of the two slots of sequence `s` (of [`Slots::seq`]).
    fn sequence_slot(&self, s: usize) -> u32 {
        (self.ff.len() + 2 * s) as u32
    }

    /// Slots of one period in the plan: the form-fields, then the sequences'.
    fn width(&self) -> usize {
        self.ff.len() + 2 * self.seq.len()
    }
}

/// One counted, reported figure (not a rate) of a unit row, as
/// [`explain`] reads it. `idx` (its place in the observation table) only makes the
/// order total, so that two figures of one unit and month are taken in the
/// order they were read.
#[derive(Clone, Copy)]
struct Figure {
    unit: UnitIdx,
    month: i32,
    idx: u32,
    value: f64,
}

/// A slot's figures per unit, sorted by unit.
type Column = Vec<(UnitIdx, f64)>;

/// One column of the figures ([`Aggregates::reader`]), read unit by unit:
/// what [`Aggregates::get`] gives for each unit, without finding the
/// column again each time, and, where the units come in the column's
/// order (by unit), without searching it either. A city's 2026Q4 from its
/// store asked the aggregates for its figures a search each, the village
/// sheets half of them: 20 ms of its two threads' CPU (perf, six runs).
/// Read so by the village and form sheets and the indicators, its outputs
/// took 0.2955 s at 1 thread against 0.3145 (medians of ten runs
/// alternating, every export and every cell of the workbook the same).
pub struct ColumnReader<'a> {
    column: &'a [(UnitIdx, f64)],
    /// Where the unit asked last was, or would be.
    at: usize,
}

impl ColumnReader<'_> {
    /// `unit`'s figure, if it has one.
    pub fn get(&mut self, unit: UnitIdx) -> Option<f64> {
        let c = self.column;
        // A few steps on from the last unit asked for, where this one is
        // after it; else a search.
        const STEPS: usize = 8;
        let mut i = self.at;
        if i < c.len() && c[i].0 <= unit {
            let end = (i + STEPS).min(c.len());
            while i < end && c[i].0 < unit {
                i += 1;
            }
            if i == end && i < c.len() && c[i].0 < unit {
                i += c[i..].partition_point(|e| e.0 < unit);
            }
        } else {
            i = c.partition_point(|e| e.0 < unit);
        }
        self.at = i;
        c.get(i).filter(|e| e.0 == unit).map(|e| e.1)
    }
}

/// A column's figure for `unit`, if it has one.
fn value_at(column: &[(UnitIdx, f64)], unit: UnitIdx) -> Option<f64> {
    let i = column.binary_search_by_key(&unit, |c| c.0).ok()?;
    Some(column[i].1)
}

/// The periods of a run rolled up only for a published summary's trend
/// charts (the months before its period): only their rates are rolled up,
/// and only of the units the charts draw. Their counts, and the rates of
/// other units, are not there to ask for.
#[derive(Debug, Clone, Default)]
pub struct Trend {
    /// The periods, all of them also in the run's periods.
    pub periods: Vec<Period>,
    /// The units drawn ([`crate::indicators::trend_units`]).
    pub units: Vec<UnitIdx>,
}

/// Aggregates the batch's counted returns over `periods` and the
/// registry's hierarchy: the one plan of [`plan`]; of `trend`'s periods,
/// only what the trend draws; the dose sequences' years to date
/// ([`Aggregates::sequence_to_date`]) through `sequence_months` only
/// ([`crate::validate::rolled::judged_months`]). `side_by_side`: the
/// forms rolled up at once rather than one after the other (see
/// [`crate::pipeline::Selection::forms_side_by_side`]).
#[must_use]
pub fn aggregate(
    settled: &Settled,
    registry: &Registry,
    schemas: &Schemas,
    periods: &[Period],
    trend: &Trend,
    sequence_months: &[crate::period::Month],
    side_by_side: bool,
) -> Aggregates {
    let slots = Slots::new(schemas);
    let all = plan::roll_up(
        settled.batch(),
        registry,
        schemas,
        periods,
        trend,
        sequence_months,
        &slots,
        side_by_side,
    )
    // The plan's frames are built here, of types fixed here: an error
    // of polars is a bug of phstats, never of a return.
    .unwrap_or_else(|e| panic!("the roll-up plan failed: {e}"));
    // Each period's slots: its form-fields', then its sequences'.
    let (n_ff, width) = (slots.ff.len(), slots.width().max(1));
    let (mut columns, mut sequences) = (Vec::new(), Vec::new());
    for (s, c) in all.into_iter().enumerate() {
        if s % width < n_ff {
            columns.push(c);
        } else {
            sequences.push(c);
        }
    }
    let mut starts = Vec::with_capacity(columns.len() + 1);
    let mut total = 0;
    for c in &columns {
        starts.push(total);
        total += c.len();
    }
    starts.push(total);
    Aggregates {
        periods: periods.to_vec(),
        comparison: Vec::new(),
        sequence_months: sequence_months.to_vec(),
        slots,
        columns,
        sequences,
        starts,
    }
}

/// Whether observation `i` enters the roll-up: a reported figure of a
/// counted return, not a rate, and not a row computed from the unit's own
/// children that are counted already (an overlap).
fn is_counted(batch: &Batch, schemas: &Schemas, i: usize) -> bool {
    let o = &batch.obs;
    batch.counts(i, schemas)
        && (batch.overlapped.is_empty() || !batch.overlapped.contains(&(o.ret[i], o.unit[i])))
}

/// A stock reported for one period by a unit and by units below it (in
/// different months, since one month's overlap is settled before): only the
/// source that reported the subtree latest is kept, so no unit is counted
/// from two sources in one period. Equal months keep the detail.
fn latest_source(column: &mut Vec<(UnitIdx, f64, i32)>, registry: &Registry) {
    if column.len() < 2
        || column
            .iter()
            .all(|&(u, _, _)| registry.unit(u).children.is_empty())
    {
        return;
    }
    let at = |unit: UnitIdx| column.binary_search_by_key(&unit, |c| c.0).ok();
    let mut dropped = vec![false; column.len()];
    for i in 0..column.len() {
        for a in registry.ancestors_and_self(column[i].0).skip(1) {
            let Some(j) = at(a) else { continue };
            if column[j].2 > column[i].2 {
                dropped[i] = true;
            } else {
                dropped[j] = true;
            }
        }
    }
    let mut k = 0;
    column.retain(|_| {
        k += 1;
        !dropped[k - 1]
    });
}

/// One field's figures in the months `lo..=hi`, one per unit and month
/// (sorted so): two of one unit and month are summed for a flow, and for a
/// stock the later read wins — as [`in_period`] takes them.
fn per_month(run: &[Figure], lo: i32, hi: i32, stock: bool) -> Vec<(UnitIdx, i32, f64)> {
    let mut out: Vec<(UnitIdx, i32, f64)> = Vec::new();
    for f in run.iter().filter(|f| lo <= f.month && f.month <= hi) {
        match out.last_mut() {
            Some(last) if (last.0, last.1) == (f.unit, f.month) => {
                if stock {
                    last.2 = f.value;
                } else {
                    last.2 += f.value;
                }
            }
            _ => out.push((f.unit, f.month, f.value)),
        }
    }
    out
}

/// A rate's pairs `(unit, month, numerator − minus, denominator)` for each
/// leaf and month in `lo..=hi` that reported every part (FORMS.md §5: a
/// village that left April's 实种 empty has no April in the rate, though
/// its April 应种 still counts in the 应种 total).
fn monthly_pairs(
    num: &[Figure],
    den: &[Figure],
    minus: Option<&[Figure]>,
    (lo, hi): (i32, i32),
    stock: bool,
) -> Vec<(UnitIdx, i32, f64, f64)> {
    let num = per_month(num, lo, hi, stock);
    let den = per_month(den, lo, hi, stock);
    let minus = minus.map(|m| per_month(m, lo, hi, stock));
    let find = |col: &[(UnitIdx, i32, f64)], key: (UnitIdx, i32)| {
        col.binary_search_by_key(&key, |c| (c.0, c.1))
            .ok()
            .map(|i| col[i].2)
    };
    num.iter()
        .filter_map(|&(unit, month, n)| {
            let d = find(&den, (unit, month))?;
            let m = match &minus {
                Some(col) => find(col, (unit, month))?,
                None => 0.0,
            };
            Some((unit, month, n - m, d))
        })
        .collect()
}

/// What a part of a figure is (`trace --csv`'s `role`, FORMS.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// A count's own figure.
    Value,
    /// A rate's numerator (for `dtap_dropout`, `dtap1_given − dtap3_given`
    /// of the leaf and month).
    Numerator,
    /// A rate's denominator.
    Denominator,
}

impl Role {
    /// The id in `trace --csv`.
    #[must_use]
    pub fn id(self) -> &'static str {
        match self {
            Role::Value => "value",
            Role::Numerator => "numerator",
            Role::Denominator => "denominator",
        }
    }
}

/// Why a part is not counted in a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    /// The cell was empty (or `-`, `/`).
    NotReported,
    /// The cell held what is not a figure that counts (text, a date, an
    /// error value, a negative or fractional count): its own finding says
    /// what and why.
    Unreadable,
    /// Its return does not count (replaced by a correction, an unsettled
    /// duplicate, a broken identity).
    ReturnNotCounted,
    /// A rate's other side was not reported by the leaf that month.
    OneSideMissing,
    /// A stock (or a stock rate's pair) counts only its latest month.
    EarlierMonth,
    /// Another source of the same units was kept (a county's summary row and
    /// the villages' own returns: the later counts).
    OtherSource,
}

impl Left {
    /// The reason in `trace --csv`.
    #[must_use]
    pub fn id(self) -> &'static str {
        match self {
            Left::NotReported => "not_reported",
            Left::Unreadable => "not_a_figure_see_findings",
            Left::ReturnNotCounted => "return_not_counted",
            Left::OneSideMissing => "one_side_not_reported_that_month",
            Left::EarlierMonth => "earlier_month_of_a_stock",
            Left::OtherSource => "another_source_kept",
        }
    }

    /// As a person reads it.
    #[must_use]
    pub fn label(self, lang: crate::message::Lang) -> &'static str {
        match self {
            Left::NotReported => lang.pick("未报告，不计", "not reported, not counted"),
            Left::Unreadable => lang.pick(
                "填写的不是可计入的数字（见审核结果），不计",
                "not a figure that counts (see the findings), not counted",
            ),
            Left::ReturnNotCounted => lang.pick("所在报表不计入", "its return does not count"),
            Left::OneSideMissing => lang.pick(
                "该单位当月只报了比率的一方，此月不计入比率",
                "the other side of the rate was not reported that month",
            ),
            Left::EarlierMonth => lang.pick(
                "存量只取期内最后一个月，此月不计",
                "a stock counts only its latest month",
            ),
            Left::OtherSource => lang.pick(
                "同一单位另有更晚的来源，此处不计",
                "another, later source of the same units is counted",
            ),
        }
    }
}

/// One part of a figure: a leaf's value in one month, where it came from
/// (`obs`, an index of the batch's observation table), and whether it counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Part {
    /// Its role.
    pub role: Role,
    /// The leaf (the unit of the row it was read from).
    pub unit: UnitIdx,
    /// Its month.
    pub month: Month,
    /// Its value (`None`: not reported).
    pub value: Option<f64>,
    /// The observation it was read from.
    pub obs: u32,
    /// Why it is not counted; `None` when it is.
    pub left: Option<Left>,
}

impl Part {
    /// Whether it counts in the figure.
    #[must_use]
    pub fn counted(&self) -> bool {
        self.left.is_none()
    }
}

/// Where a figure comes from: every part the roll-up counted for `unit`'s
/// `field` in `period` (each leaf, month, value and cell), and every part it
/// did not, with why. The counted parts give the figure exactly: summed for
/// a count; `100 × Σ numerator / Σ denominator` for a rate. It follows the
/// rules of [`aggregate`] (the same counted figures, pairs by leaf and
/// month, latest month and one source for a stock), and a test holds the
/// two equal for every figure of the sample. `findings` are the run's: a
/// cell read as not reported because it held no figure that counts is
/// told from an empty one by its finding.
#[must_use]
#[allow(clippy::too_many_arguments)]
pub fn explain(
    batch: &Batch,
    findings: &[crate::findings::Finding],
    registry: &Registry,
    schemas: &Schemas,
    period: Period,
    unit: UnitIdx,
    form: FormIdx,
    field: FieldIdx,
) -> Vec<Part> {
    let (lo, hi) = period.bounds();
    let (lo, hi) = (lo.0, hi.0);
    let o = &batch.obs;
    let f = schemas.form(form).field(field);
    let sides: Vec<(Role, FieldIdx)> = match f.ratio {
        Some(r) => [
            Some((Role::Numerator, r.numerator)),
            r.minus.map(|m| (Role::Numerator, m)),
            Some((Role::Denominator, r.denominator)),
        ]
        .into_iter()
        .flatten()
        .collect(),
        None => vec![(Role::Value, field)],
    };
    let in_scope = |i: usize, fld: FieldIdx| {
        o.form[i] == form && o.field[i] == fld && lo <= o.month[i].0 && o.month[i].0 <= hi
    };
    let mut parts: Vec<Part> = Vec::new();
    // The cells whose content could not be read as a figure, by place.
    let unreadable: std::collections::HashSet<(&str, &str, crate::findings::CellRef)> = findings
        .iter()
        .filter(|f| matches!(f.detail, crate::message::Detail::BadCell { .. }))
        .filter_map(|f| Some((f.file.as_deref()?, f.sheet.as_deref()?, f.cell?)))
        .collect();
    let unreadable_at = |i: usize| {
        let r = &batch.returns[o.ret[i] as usize];
        unreadable.contains(&(
            batch.files[r.file as usize].as_str(),
            r.sheet.as_str(),
            o.cell[i],
        ))
    };
    // What never enters the roll-up, and why.
    for i in 0..o.len() {
        let Some(&(role, _)) = sides.iter().find(|(_, fld)| in_scope(i, *fld)) else {
            continue;
        };
        if is_counted(batch, schemas, i) {
            continue;
        }
        let left = if o.value[i].is_none() {
            if unreadable_at(i) {
                Left::Unreadable
            } else {
                Left::NotReported
            }
        } else if batch.returns[o.ret[i] as usize].status
            != crate::observation::ReturnStatus::Active
        {
            Left::ReturnNotCounted
        } else {
            Left::OtherSource
        };
        parts.push(part(batch, role, i as u32, o.value[i], Some(left)));
    }
    // The counted figures of a field in the period, as the roll-up sorts them.
    let figures = |fld: FieldIdx| -> Vec<Figure> {
        let mut v: Vec<Figure> = (0..o.len())
            .filter(|&i| in_scope(i, fld) && is_counted(batch, schemas, i))
            .map(|i| Figure {
                unit: o.unit[i],
                month: o.month[i].0,
                idx: i as u32,
                value: o.value[i].unwrap_or_default(),
            })
            .collect();
        v.sort_unstable_by_key(|f| (f.unit, f.month, f.idx));
        v
    };
    match f.ratio {
        None => explain_count(
            &figures(field),
            f.kind.takes_latest(),
            registry,
            batch,
            &mut parts,
        ),
        Some(r) => {
            let stock = schemas.form(form).field(r.denominator).kind.takes_latest();
            let num = figures(r.numerator);
            let den = figures(r.denominator);
            let minus = r.minus.map(figures);
            explain_rate(
                &num,
                &den,
                minus.as_deref(),
                stock,
                registry,
                batch,
                &mut parts,
            );
        }
    }
    parts.retain(|p| registry.ancestors_and_self(p.unit).any(|a| a == unit));
    parts.sort_by_key(|p| (p.role, p.unit, p.month, p.obs));
    parts
}

fn part(batch: &Batch, role: Role, obs: u32, value: Option<f64>, left: Option<Left>) -> Part {
    Part {
        role,
        unit: batch.obs.unit[obs as usize],
        month: batch.obs.month[obs as usize],
        value,
        obs,
        left,
    }
}

/// A count's parts: every figure of a flow; a stock's latest month per
/// leaf, from one source per subtree ([`latest_source`]).
fn explain_count(
    figs: &[Figure],
    stock: bool,
    registry: &Registry,
    batch: &Batch,
    parts: &mut Vec<Part>,
) {
    if !stock {
        parts.extend(
            figs.iter()
                .map(|f| part(batch, Role::Value, f.idx, Some(f.value), None)),
        );
        return;
    }
    // The latest figure of each leaf (sorted: the last of its run).
    let mut latest: Vec<(UnitIdx, f64, i32)> = Vec::new();
    let mut chosen: Vec<u32> = Vec::new();
    for (k, f) in figs.iter().enumerate() {
        if figs.get(k + 1).is_some_and(|n| n.unit == f.unit) {
            parts.push(part(
                batch,
                Role::Value,
                f.idx,
                Some(f.value),
                Some(Left::EarlierMonth),
            ));
        } else {
            latest.push((f.unit, f.value, f.month));
            chosen.push(f.idx);
        }
    }
    let all = latest.clone();
    latest_source(&mut latest, registry);
    for (k, (unit, value, _)) in all.into_iter().enumerate() {
        let kept = latest.binary_search_by_key(&unit, |c| c.0).is_ok();
        parts.push(part(
            batch,
            Role::Value,
            chosen[k],
            Some(value),
            (!kept).then_some(Left::OtherSource),
        ));
    }
}

/// A rate's parts: its pairs by leaf and month ([`monthly_pairs`]), every
/// matched month of a flow, the latest of a stock from one source per
/// subtree; a side reported without the other that month is left out.
fn explain_rate(
    num: &[Figure],
    den: &[Figure],
    minus: Option<&[Figure]>,
    stock: bool,
    registry: &Registry,
    batch: &Batch,
    parts: &mut Vec<Part>,
) {
    let (all_lo, all_hi) = (i32::MIN, i32::MAX);
    let per = |figs: &[Figure]| per_month(figs, all_lo, all_hi, stock);
    let (n_m, d_m) = (per(num), per(den));
    let m_m = minus.map(per);
    // The observation a side's (unit, month) value was taken from, for its
    // cell: the last read (the figures are sorted by unit, month, read).
    let first = |figs: &[Figure], key: (UnitIdx, i32)| {
        let end = figs.partition_point(|f| (f.unit, f.month) <= key);
        let last = figs.get(end.checked_sub(1)?)?;
        ((last.unit, last.month) == key).then_some(last.idx)
    };
    let pairs = monthly_pairs(num, den, minus, (all_lo, all_hi), stock);
    let paired = |key: (UnitIdx, i32)| pairs.binary_search_by_key(&key, |p| (p.0, p.1)).is_ok();
    // Sides without their partner that month.
    let mut lone = |col: &[(UnitIdx, i32, f64)], figs: &[Figure], role: Role| {
        for &(unit, month, v) in col {
            if !paired((unit, month)) {
                if let Some(idx) = first(figs, (unit, month)) {
                    parts.push(part(batch, role, idx, Some(v), Some(Left::OneSideMissing)));
                }
            }
        }
    };
    lone(&n_m, num, Role::Numerator);
    lone(&d_m, den, Role::Denominator);
    if let (Some(col), Some(figs)) = (&m_m, minus) {
        lone(col, figs, Role::Numerator);
    }
    // The pairs that count: all of a flow's; a stock's latest per leaf, of
    // one source per subtree.
    let mut keep = vec![true; pairs.len()];
    let mut earlier = vec![false; pairs.len()];
    if stock {
        let mut latest: Vec<(UnitIdx, f64, i32)> = Vec::new();
        for (k, p) in pairs.iter().enumerate() {
            if pairs.get(k + 1).is_some_and(|n| n.0 == p.0) {
                earlier[k] = true;
                keep[k] = false;
            } else {
                latest.push((p.0, 0.0, p.1));
            }
        }
        latest_source(&mut latest, registry);
        for (k, p) in pairs.iter().enumerate() {
            if !earlier[k] && latest.binary_search_by_key(&p.0, |c| c.0).is_err() {
                keep[k] = false;
            }
        }
    }
    for (k, &(unit, month, n, d)) in pairs.iter().enumerate() {
        let left = if earlier[k] {
            Some(Left::EarlierMonth)
        } else if keep[k] {
            None
        } else {
            Some(Left::OtherSource)
        };
        if let Some(idx) = first(num, (unit, month)) {
            parts.push(part(batch, Role::Numerator, idx, Some(n), left));
        }
        if let Some(idx) = first(den, (unit, month)) {
            parts.push(part(batch, Role::Denominator, idx, Some(d), left));
        }
    }
}

/// The figure the counted parts give: their sum for a count; for a rate
/// `100 × Σ numerator / Σ denominator` (none over a zero denominator).
#[must_use]
pub fn figure_of(parts: &[Part]) -> Option<f64> {
    let sum = |role: Role| {
        let vals: Vec<f64> = parts
            .iter()
            .filter(|p| p.role == role && p.counted())
            .filter_map(|p| p.value)
            .collect();
        (!vals.is_empty()).then(|| vals.iter().sum::<f64>())
    };
    match sum(Role::Value) {
        Some(v) => Some(v),
        None => {
            let (n, d) = (sum(Role::Numerator)?, sum(Role::Denominator)?);
            (d != 0.0).then(|| n / d * 100.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A column reader gives each unit what a search of the column gives,
    /// whatever order the units are asked in: in the column's order, with
    /// gaps longer and shorter than its steps, backwards, and at random.
    #[test]
    fn a_column_reader_gives_what_a_search_gives_in_any_order() {
        // Every third unit of 0..300 has a figure, and units 100–160 none.
        let column: Vec<(UnitIdx, f64)> = (0..300u32)
            .filter(|u| u % 3 == 0 && !(100..160).contains(u))
            .map(|u| (u, f64::from(u) * 1.5))
            .collect();
        let forwards: Vec<UnitIdx> = (0..320).collect();
        let sparse: Vec<UnitIdx> = (0..320).step_by(37).collect();
        let backwards: Vec<UnitIdx> = (0..320).rev().collect();
        // A fixed shuffle: a linear congruential walk over 0..320.
        let shuffled: Vec<UnitIdx> = (0..320u32).map(|k| (k * 97 + 13) % 320).collect();
        for order in [&forwards, &sparse, &backwards, &shuffled] {
            let mut reader = ColumnReader {
                column: &column,
                at: 0,
            };
            for &u in order {
                assert_eq!(reader.get(u), value_at(&column, u), "unit {u}");
            }
        }
        let mut empty = ColumnReader { column: &[], at: 0 };
        assert_eq!(empty.get(5), None);
    }

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
