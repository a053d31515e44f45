//! Which returns count, and who has not reported: corrections (更正)
//! replace earlier returns, unmarked duplicates count for nothing, and every
//! unit the registry expects is looked for (上报率).

use std::collections::BTreeMap;

use foldhash::{HashMap as FoldMap, HashSet as FoldSet};
use rayon::prelude::*;

use super::RowIndex;
use crate::findings::{Finding, Rule};
use crate::message::Detail;
use crate::observation::{Batch, ReturnStatus};
use crate::period::{Day, Month};
use crate::registry::{Level, Registry, UnitIdx};
use crate::schema::{FormIdx, Schemas};

/// Reporting completeness for one form, month and level.
#[derive(Debug, Clone, PartialEq)]
pub struct Completeness {
    /// Form.
    pub form: FormIdx,
    /// Month.
    pub month: Month,
    /// Level of the units counted.
    pub level: Level,
    /// Units the registry expects.
    pub expected: usize,
    /// Units that reported.
    pub reported: usize,
    /// Units that did not.
    pub missing: Vec<UnitIdx>,
    /// Of those that reported with their own return, how many are dated
    /// (报出日期, or a store's received date): the base of 及时率.
    pub dated: usize,
    /// Units whose return came after the deadline (FORMS.md §7).
    pub late: Vec<UnitIdx>,
}

impl Completeness {
    /// 上报率, in percent.
    #[must_use]
    pub fn rate(&self) -> Option<f64> {
        (self.expected > 0).then(|| self.reported as f64 / self.expected as f64 * 100.0)
    }

    /// 及时率: on-time returns among the dated ones, in percent.
    #[must_use]
    pub fn timeliness(&self) -> Option<f64> {
        (self.dated > 0).then(|| (self.dated - self.late.len()) as f64 / self.dated as f64 * 100.0)
    }
}

/// The 上报情况 of a period, summed: how many returns were expected and
/// received over its months, which units are missing or late. The one owner
/// of the period's 上报率 and 及时率: the 通报 and `status` read it, and
/// the 上报情况 sheet shows the month rows it sums.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Returns expected (units × months).
    pub expected: usize,
    /// Returns received.
    pub reported: usize,
    /// Of those, the dated ones (the base of 及时率).
    pub dated: usize,
    /// Late returns.
    pub late: usize,
    /// Each unit missing a return in some month, with the month: by unit
    /// (registry order), then month, each pair once.
    pub missing_in: Vec<(UnitIdx, Month)>,
    /// Each unit late in some month, with the month, ordered so.
    pub late_in: Vec<(UnitIdx, Month)>,
}

impl Tally {
    /// Sums the rows of `period` that `keep` takes. Only one level is ever
    /// summed: the lowest expected one, the units that send returns (a
    /// county summary's townships are counted as townships, FORMS.md §7).
    #[must_use]
    pub fn of<'a>(
        rows: impl IntoIterator<Item = &'a Completeness>,
        period: crate::period::Period,
        keep: impl Fn(&Completeness) -> bool,
    ) -> Tally {
        let rows: Vec<&Completeness> = rows
            .into_iter()
            .filter(|c| period.contains(c.month) && keep(c))
            .collect();
        let level = rows.iter().map(|c| c.level).min();
        let rows = rows.into_iter().filter(|c| Some(c.level) == level);
        let mut t = Tally::default();
        for c in rows {
            t.expected += c.expected;
            t.reported += c.reported;
            t.dated += c.dated;
            t.late += c.late.len();
            t.missing_in.extend(c.missing.iter().map(|&u| (u, c.month)));
            t.late_in.extend(c.late.iter().map(|&u| (u, c.month)));
        }
        for v in [&mut t.missing_in, &mut t.late_in] {
            v.sort_unstable();
            v.dedup();
        }
        t
    }

    /// Each unit of `list` ([`Tally::missing_in`] or [`Tally::late_in`])
    /// once, with its months, in order.
    pub fn by_unit(list: &[(UnitIdx, Month)]) -> impl Iterator<Item = (UnitIdx, Vec<Month>)> + '_ {
        list.chunk_by(|a, b| a.0 == b.0)
            .map(|run| (run[0].0, run.iter().map(|&(_, m)| m).collect()))
    }

    /// 上报率, in percent.
    #[must_use]
    pub fn rate(&self) -> Option<f64> {
        (self.expected > 0).then(|| self.reported as f64 / self.expected as f64 * 100.0)
    }

    /// 及时率, in percent.
    #[must_use]
    pub fn timeliness(&self) -> Option<f64> {
        (self.dated > 0).then(|| (self.dated - self.late) as f64 / self.dated as f64 * 100.0)
    }
}

/// Settles returns for the same unit, form and month (FORMS.md §4):
/// copies with the same figures are one return received twice (counted
/// once, `identical_copy`); among different figures the latest return
/// marked a correction replaces the others, which are kept as superseded;
/// without a correction none of them counts (`duplicate_return`).
#[must_use]
pub fn settle_duplicates(
    batch: &mut Batch,
    registry: &Registry,
    schemas: &Schemas,
) -> Vec<Finding> {
    let mut groups: BTreeMap<(UnitIdx, FormIdx, Month), Vec<usize>> = BTreeMap::new();
    for (i, r) in batch.returns.iter().enumerate() {
        groups.entry((r.unit, r.form, r.month)).or_default().push(i);
    }
    groups.retain(|_, v| v.len() > 1);
    if groups.is_empty() {
        return Vec::new();
    }
    let spans = return_spans(batch);
    let place = |batch: &Batch, i: usize| {
        let r = &batch.returns[i];
        format!("{}!{}", batch.files[r.file as usize], r.sheet)
    };
    let mut findings = Vec::new();
    for ((unit, form, month), idxs) in groups {
        // Each file's returns of the group, in the order read: the
        // villages' own sheets of one township in one workbook (each about
        // its village, fields as rows: FORMS.md §2) are that township's
        // return together, not copies of it. Where every file's are one
        // return so, the files' returns are what is settled: the same
        // workbook received twice is one return received twice, not its
        // sheets all different returns of each other.
        let mut by_file: Vec<Vec<usize>> = Vec::new();
        for &i in &idxs {
            let file = batch.returns[i].file;
            match by_file
                .iter_mut()
                .find(|g| batch.returns[g[0]].file == file)
            {
                Some(g) => g.push(i),
                None => by_file.push(vec![i]),
            }
        }
        let whole = |g: &[usize]| {
            g.len() == 1 || one_return_in_parts(batch, &spans, g, unit, schemas.form(form))
        };
        let returns: Vec<Vec<usize>> = if by_file.iter().all(|g| whole(g)) {
            by_file
        } else {
            idxs.iter().map(|&i| vec![i]).collect()
        };
        if returns.len() < 2 {
            continue;
        }
        let unit = registry.unit(unit);
        let form_id = &schemas.form(form).id;
        let base = |batch: &Batch, rule: Rule, i: usize, detail: Detail| {
            let r = &batch.returns[i];
            Finding::new(rule, detail)
                .file(&batch.files[r.file as usize])
                .sheet(&r.sheet)
                .form(form_id)
                .period(month)
                .unit(unit.code)
        };
        // Each return's figures, all its parts', once.
        let all_figures: Vec<_> = returns
            .iter()
            .map(|r| {
                let mut v: Vec<_> = r.iter().flat_map(|&i| figures(batch, &spans, i)).collect();
                v.sort_unstable();
                v
            })
            .collect();
        // The part of `r` that `i` (a part of another return) stands for:
        // the sheet of the same name, else its first.
        let like = |batch: &Batch, r: &[usize], i: usize| {
            r.iter()
                .copied()
                .find(|&k| batch.returns[k].sheet == batch.returns[i].sheet)
                .unwrap_or(r[0])
        };
        // One return received twice is one return: the first copy counts.
        let mut distinct: Vec<usize> = Vec::new();
        for (c, r) in returns.iter().enumerate() {
            let same = distinct
                .iter()
                .copied()
                .find(|&d| all_figures[d] == all_figures[c]);
            let Some(d) = same else {
                distinct.push(c);
                continue;
            };
            // The copy marked a correction is the one that counts (the
            // same figures, but what the first said of a cell the
            // correction fixed is no longer reported).
            let (keep, copy) = if marked(batch, r) && !marked(batch, &returns[d]) {
                (c, d)
            } else {
                (d, c)
            };
            let copy_marked = marked(batch, &returns[copy]);
            for &i in &returns[copy] {
                batch.returns[i].status = ReturnStatus::IdenticalCopy;
            }
            if copy_marked {
                for &i in &returns[keep] {
                    batch.returns[i].correction = true;
                }
            }
            if keep == c {
                if let Some(at) = distinct.iter().position(|&x| x == d) {
                    distinct[at] = c;
                }
            }
            for &i in &returns[copy] {
                let first = like(batch, &returns[keep], i);
                findings.push(
                    base(
                        batch,
                        Rule::IdenticalCopy,
                        i,
                        Detail::IdenticalCopy {
                            unit: unit.name.clone(),
                            month,
                            copy: place(batch, i),
                            first: place(batch, first),
                        },
                    )
                    .value(place(batch, first)),
                );
            }
        }
        if distinct.len() < 2 {
            continue;
        }
        let winner = distinct
            .iter()
            .copied()
            .filter(|&c| marked(batch, &returns[c]))
            .max_by(|&a, &b| later(batch, returns[a][0], returns[b][0]));
        match winner {
            Some(w) => {
                for &c in &distinct {
                    if c == w {
                        continue;
                    }
                    for &i in &returns[c] {
                        batch.returns[i].status = ReturnStatus::Superseded;
                        let by = like(batch, &returns[w], i);
                        let detail = Detail::Correction {
                            unit: unit.name.clone(),
                            month,
                            winner: place(batch, by),
                            replaced: place(batch, i),
                        };
                        findings.push(base(batch, Rule::Correction, by, detail));
                    }
                }
            }
            None => {
                let all: Vec<String> = distinct
                    .iter()
                    .flat_map(|&c| &returns[c])
                    .map(|&i| place(batch, i))
                    .collect();
                for &c in &distinct {
                    for &i in &returns[c] {
                        batch.returns[i].status = ReturnStatus::Duplicate;
                    }
                }
                // Said at each part of every return but the first.
                let rest: Vec<usize> = distinct[1..]
                    .iter()
                    .flat_map(|&c| returns[c].iter().copied())
                    .collect();
                for i in rest {
                    let detail = Detail::DuplicateReturn {
                        unit: unit.name.clone(),
                        month,
                        places: all.clone(),
                    };
                    findings.push(base(batch, Rule::DuplicateReturn, i, detail));
                }
            }
        }
    }
    findings
}

/// Whether any part of the return `parts` is marked a correction.
fn marked(batch: &Batch, parts: &[usize]) -> bool {
    parts.iter().any(|&i| batch.returns[i].correction)
}

/// The day of the next month by which a month's return is due (FORMS.md §7).
pub const DEADLINE_DAY: u32 = 5;

/// When each unit's return of a form and month came (FORMS.md §7), the one
/// owner of 及时: the first checked return's 报出日期, else (in a store)
/// the day it was received, with that return, and whether that was by the
/// deadline. A return in parts (a sheet a village) or received twice came
/// once: a late one is one late return, as 上报情况 counts it, not one per
/// sheet or copy.
fn arrivals(
    batch: &Batch,
    deadline_day: u32,
) -> FoldMap<(FormIdx, Month, UnitIdx), (u32, Day, bool)> {
    let mut came: FoldMap<(FormIdx, Month, UnitIdx), (u32, Day, bool)> = FoldMap::default();
    for (i, r) in batch.returns.iter().enumerate() {
        if !r.status.checked() {
            continue;
        }
        if let Some(on) = r.reported_on.or(r.received) {
            let in_time = on <= Day::deadline(r.month, deadline_day);
            came.entry((r.form, r.month, r.unit))
                .or_insert((i as u32, on, in_time));
        }
    }
    came
}

/// `late_return` for each unit's return of a form and month that came
/// after the deadline ([`arrivals`]; without a store, only the 报出日期 can
/// tell), at the return that came.
#[must_use]
pub fn late(
    batch: &Batch,
    registry: &Registry,
    schemas: &Schemas,
    deadline_day: u32,
    judged: super::Judged,
) -> Vec<Finding> {
    let mut came: Vec<(u32, Day, bool)> = arrivals(batch, deadline_day).into_values().collect();
    came.sort_unstable_by_key(|c| c.0);
    let mut out = Vec::new();
    for (i, on, in_time) in came {
        if in_time || !judged.judges(batch, i) {
            continue;
        }
        let r = &batch.returns[i as usize];
        let deadline = Day::deadline(r.month, deadline_day);
        let unit = registry.unit(r.unit);
        out.push(
            Finding::new(
                Rule::LateReturn,
                Detail::LateReturn {
                    unit: unit.name.clone(),
                    month: r.month,
                    reported_on: on,
                    deadline,
                    by_receipt: r.reported_on.is_none(),
                },
            )
            .file(batch.file_of(i))
            .sheet(&r.sheet)
            .form(&schemas.form(r.form).id)
            .period(r.month)
            .unit(unit.code)
            .value(on.to_string()),
        );
    }
    out
}

/// Which of two returns came later (FORMS.md §4): the later 报出日期 where
/// both have one, else the later modified file, else the later in input order.
fn later(batch: &Batch, a: usize, b: usize) -> std::cmp::Ordering {
    let (ra, rb) = (&batch.returns[a], &batch.returns[b]);
    if let (Some(da), Some(db)) = (ra.reported_on, rb.reported_on) {
        if da != db {
            return da.cmp(&db);
        }
    }
    let time =
        |r: &crate::observation::Return| batch.modified.get(r.file as usize).copied().flatten();
    time(ra).cmp(&time(rb)).then(a.cmp(&b))
}

/// Each return's observations: ingest pushes them together, in return order.
pub(crate) fn return_spans(batch: &Batch) -> Vec<std::ops::Range<usize>> {
    let mut spans = vec![0..0; batch.returns.len()];
    let o = &batch.obs;
    let mut i = 0;
    while i < o.len() {
        let r = o.ret[i];
        let start = i;
        while i < o.len() && o.ret[i] == r {
            i += 1;
        }
        spans[r as usize] = start..i;
    }
    spans
}

/// Whether the returns `idxs` of one unit, form and month, all in one
/// workbook, are that return in parts: sheets that each report fields of
/// their own (高血压 on one sheet, 2型糖尿病 on another). A field two of
/// them report must take the latest value (a stock: 35岁及以上常住人口数
/// on both) with the same figure for every unit, so that no figure is
/// counted twice; and each part must report a field no other does.
/// Whether the returns `g` of one file, all of `unit`, are that unit's
/// one return in parts: each about units of its own (its villages) and
/// none about `unit` itself, or the parts of one table ([`in_parts`]).
fn one_return_in_parts(
    batch: &Batch,
    spans: &[std::ops::Range<usize>],
    g: &[usize],
    unit: UnitIdx,
    form: &crate::schema::Form,
) -> bool {
    let units: Vec<Vec<UnitIdx>> = g
        .iter()
        .map(|&i| {
            let mut u: Vec<UnitIdx> = spans[i].clone().map(|k| batch.obs.unit[k]).collect();
            u.sort_unstable();
            u.dedup();
            u
        })
        .collect();
    let disjoint = units.iter().enumerate().all(|(a, ua)| {
        units[a + 1..]
            .iter()
            .all(|ub| !ua.iter().any(|u| ub.binary_search(u).is_ok()))
    });
    (disjoint && !units.iter().any(Vec::is_empty) && !units.iter().any(|u| u.contains(&unit)))
        || in_parts(batch, spans, g, form)
}

fn in_parts(
    batch: &Batch,
    spans: &[std::ops::Range<usize>],
    idxs: &[usize],
    form: &crate::schema::Form,
) -> bool {
    use std::collections::BTreeMap;
    type Figures = BTreeMap<crate::schema::FieldIdx, Vec<(UnitIdx, u64)>>;
    let o = &batch.obs;
    let parts: Vec<Figures> = idxs
        .iter()
        .map(|&i| {
            let mut by_field: Figures = BTreeMap::new();
            for k in spans[i].clone() {
                if let Some(v) = o.value[k] {
                    by_field
                        .entry(o.field[k])
                        .or_default()
                        .push((o.unit[k], v.to_bits()));
                }
            }
            for v in by_field.values_mut() {
                v.sort_unstable();
            }
            by_field
        })
        .collect();
    parts.iter().enumerate().all(|(a, pa)| {
        let own = pa.keys().any(|f| {
            parts
                .iter()
                .enumerate()
                .all(|(b, pb)| b == a || !pb.contains_key(f))
        });
        let shared_agree = parts[a + 1..].iter().all(|pb| {
            pa.iter().all(|(f, figures)| match pb.get(f) {
                None => true,
                Some(theirs) => form.field(*f).kind.takes_latest() && theirs == figures,
            })
        });
        own && shared_agree
    })
}

/// A return's figures, in a form that compares equal for equal returns.
fn figures(
    batch: &Batch,
    spans: &[std::ops::Range<usize>],
    ret: usize,
) -> Vec<(UnitIdx, crate::schema::FieldIdx, Option<u64>)> {
    let o = &batch.obs;
    let mut v: Vec<(UnitIdx, crate::schema::FieldIdx, Option<u64>)> = spans[ret]
        .clone()
        .map(|i| (o.unit[i], o.field[i], o.value[i].map(f64::to_bits)))
        .collect();
    v.sort_unstable();
    v
}

/// The units expected to send returns: those whose children are the leaves
/// (townships, in a registry down to villages), in registry order.
#[must_use]
pub fn expected_units(registry: &Registry) -> Vec<UnitIdx> {
    let is_leaf = |u: UnitIdx| registry.unit(u).children.is_empty();
    (0..registry.units.len() as UnitIdx)
        .filter(|&u| {
            let c = &registry.unit(u).children;
            !c.is_empty() && c.iter().all(|&k| is_leaf(k))
        })
        .collect()
}

/// Who was expected and did not report, per form and month (上报率). The
/// units expected to send returns are those whose children are the leaves
/// (townships, in a registry down to villages). One has reported when it sent
/// a return, counted or not, or when a return from above lists it as a row
/// (a county summary); a unit whose parent's return is in, but lacks its row,
/// is that return's missing row. Then one level down: the rows each counted
/// return should have.
#[must_use]
pub fn completeness(
    batch: &Batch,
    rows: &RowIndex,
    registry: &Registry,
    schemas: &Schemas,
    complete: bool,
    deadline_day: u32,
) -> (Vec<Finding>, Vec<Completeness>) {
    let judge = Judge::new(batch, rows, registry, schemas, complete, deadline_day);
    let mut form_months: BTreeMap<(FormIdx, Month), Vec<usize>> = BTreeMap::new();
    for r in &batch.returns {
        form_months.entry((r.form, r.month)).or_default();
    }
    // Every form a store holds, in every month read.
    let months: std::collections::BTreeSet<Month> = form_months.keys().map(|&(_, m)| m).collect();
    for &form in &batch.expected_forms {
        for &m in &months {
            form_months.entry((form, m)).or_default();
        }
    }
    for (i, r) in batch.returns.iter().enumerate() {
        if r.status == ReturnStatus::Active {
            form_months.entry((r.form, r.month)).or_default().push(i);
        }
    }
    // Each form and month judged on its own task.
    let form_months: Vec<((FormIdx, Month), Vec<usize>)> = form_months.into_iter().collect();
    let judged: Vec<(Vec<Finding>, Vec<Completeness>)> = form_months
        .into_par_iter()
        .map(|((form, month), counted)| {
            let mut out = (Vec::new(), Vec::new());
            judge.expected_units(form, month, &mut out);
            judge.rows_of(form, month, &counted, &mut out);
            out
        })
        .collect();
    let mut findings = Vec::new();
    let mut table = Vec::new();
    for (f, t) in judged {
        findings.extend(f);
        table.extend(t);
    }
    (findings, table)
}

/// What judging a form and month needs, the same for every one. (A
/// province-year has 37,000 returns and 300,000 rows: the sets are hashed
/// with foldhash.)
struct Judge<'a> {
    batch: &'a Batch,
    registry: &'a Registry,
    schemas: &'a Schemas,
    /// Missing returns are said only of a whole folder (or `--complete`).
    complete: bool,
    /// Each unit's own return of a form and month, when dated: on time or not.
    timely: FoldMap<(FormIdx, Month, UnitIdx), bool>,
    /// The units that sent a return of a form and month, counted or not (an
    /// unsettled duplicate is its own finding, not a missing return).
    senders: FoldSet<(FormIdx, Month, UnitIdx)>,
    /// `senders`, and the expected units a return from above lists as rows.
    reported: FoldSet<(FormIdx, Month, UnitIdx)>,
    /// The units of each return's rows: (return, unit), sorted.
    row_units: Vec<(u32, UnitIdx)>,
    /// The expected units by level.
    by_level: Vec<(Level, Vec<UnitIdx>)>,
}

/// A form and month's findings and lines of the 上报情况 table.
type Judged = (Vec<Finding>, Vec<Completeness>);

impl<'a> Judge<'a> {
    fn new(
        batch: &'a Batch,
        rows: &RowIndex,
        registry: &'a Registry,
        schemas: &'a Schemas,
        complete: bool,
        deadline_day: u32,
    ) -> Judge<'a> {
        let timely: FoldMap<(FormIdx, Month, UnitIdx), bool> = arrivals(batch, deadline_day)
            .into_iter()
            .map(|(key, (_, _, in_time))| (key, in_time))
            .collect();
        let senders: FoldSet<(FormIdx, Month, UnitIdx)> = batch
            .returns
            .iter()
            .map(|r| (r.form, r.month, r.unit))
            .collect();
        let expected_all = expected_units(registry);
        // Who reported is only asked of the expected units: of the rows,
        // only theirs (a county summary's) are kept, not every village's.
        let mut expected_unit = vec![false; registry.units.len()];
        for &u in &expected_all {
            expected_unit[u as usize] = true;
        }
        let mut reported = senders.clone();
        for span in &rows.rows {
            let r = &batch.returns[span.ret as usize];
            // The row's unit, or the one above it that it was listed for
            // (a county's return listing a township's villages).
            for a in registry
                .ancestors_and_self(span.unit)
                .take_while(|&a| a != r.unit)
                .filter(|&a| expected_unit[a as usize])
            {
                reported.insert((r.form, r.month, a));
            }
        }
        let mut row_units: Vec<(u32, UnitIdx)> =
            rows.rows.iter().map(|s| (s.ret, s.unit)).collect();
        row_units.par_sort_unstable();
        let by_level = Level::ALL
            .into_iter()
            .filter_map(|level| {
                let units: Vec<UnitIdx> = expected_all
                    .iter()
                    .copied()
                    .filter(|&u| registry.unit(u).level == level)
                    .collect();
                (!units.is_empty()).then_some((level, units))
            })
            .collect();
        Judge {
            batch,
            registry,
            schemas,
            complete,
            timely,
            senders,
            reported,
            row_units,
            by_level,
        }
    }

    /// A missing return or row of unit `u`, said as `detail`.
    fn missing(&self, form: FormIdx, month: Month, u: UnitIdx, detail: Detail) -> Finding {
        Finding::new(Rule::MissingReturn, detail)
            .form(&self.schemas.form(form).id)
            .period(month)
            .unit(self.registry.unit(u).code.0)
    }

    /// The expected units, level by level: who did not report (a finding
    /// where the whole month was given and no return from above covers
    /// it), and who reported late.
    fn expected_units(&self, form: FormIdx, month: Month, out: &mut Judged) {
        let registry = self.registry;
        // Covered by a return from above: its row, or its absence, is that return's.
        let covered = |u: UnitIdx| {
            registry
                .ancestors_and_self(u)
                .skip(1)
                .any(|a| self.senders.contains(&(form, month, a)))
        };
        for (level, expected) in &self.by_level {
            let missing: Vec<UnitIdx> = expected
                .iter()
                .copied()
                .filter(|&u| !self.reported.contains(&(form, month, u)))
                .collect();
            // A few files given one by one are not the whole month: who
            // sent nothing is only judged on a whole folder (or --complete).
            for &u in missing.iter().filter(|&&u| self.complete && !covered(u)) {
                let detail = Detail::MissingReturn {
                    unit: registry.unit(u).name.clone(),
                    level: *level,
                    form: self.schemas.form(form).title_label(),
                    month,
                };
                out.0.push(self.missing(form, month, u, detail));
            }
            // A unit covered by a return from above (a county summary) was
            // dated with it: its own return's date, else the nearest one above.
            let dated: Vec<(UnitIdx, bool)> = expected
                .iter()
                .filter(|&&u| self.reported.contains(&(form, month, u)))
                .filter_map(|&u| {
                    registry
                        .ancestors_and_self(u)
                        .find_map(|a| self.timely.get(&(form, month, a)))
                        .map(|&ok| (u, ok))
                })
                .collect();
            out.1.push(Completeness {
                form,
                month,
                level: *level,
                expected: expected.len(),
                reported: expected.len() - missing.len(),
                missing,
                dated: dated.len(),
                late: dated.iter().filter(|x| !x.1).map(|x| x.0).collect(),
            });
        }
    }

    /// The units of return `ret`'s rows.
    fn rows_of_return(&self, ret: u32) -> impl Iterator<Item = UnitIdx> + '_ {
        let from = self.row_units.partition_point(|&(r, _)| r < ret);
        let to = self.row_units.partition_point(|&(r, _)| r <= ret);
        self.row_units[from..to].iter().map(|&(_, u)| u)
    }

    /// One level down: the rows each counted return (`counted`) should
    /// have, and a finding for each it lacks. They are not a level of
    /// 上报情况: a county summary's township rows are the townships'
    /// reporting, counted with the townships' own returns by
    /// [`Judge::expected_units`], and a village row is not a return.
    fn rows_of(&self, form: FormIdx, month: Month, counted: &[usize], out: &mut Judged) {
        let (batch, registry) = (self.batch, self.registry);
        // The counted returns of each unit: a village's own sheet stands
        // beside its neighbours' as returns of one township.
        let mut of_unit: std::collections::HashMap<UnitIdx, Vec<usize>> =
            std::collections::HashMap::new();
        for &i in counted {
            of_unit.entry(batch.returns[i].unit).or_default().push(i);
        }
        for &i in counted {
            let r = &batch.returns[i];
            // A return about its unit itself (a township's own total, its
            // fields as rows: FORMS.md §2) has no rows below it to miss.
            if self.row_units.binary_search(&(i as u32, r.unit)).is_ok() {
                continue;
            }
            // The rows of this return and of the other counted ones of the
            // same unit (a village's own sheet beside its neighbours').
            let siblings = &of_unit[&r.unit];
            let listed = |c: UnitIdx| {
                siblings
                    .iter()
                    .any(|&j| self.row_units.binary_search(&(j as u32, c)).is_ok())
            };
            let mut expected: Vec<UnitIdx> = registry.unit(r.unit).children.clone();
            expected.reverse();
            while let Some(c) = expected.pop() {
                if listed(c) {
                    continue;
                }
                // A county's return listing a township's villages, not
                // the township: its rows are the villages'.
                // (Or a row naming a village several townships have: one
                // of them is the row's, said there.)
                let below = |u: UnitIdx| u != c && registry.is_within(u, c);
                let mut rows = siblings.iter().flat_map(|&j| self.rows_of_return(j as u32));
                if rows.any(below) || r.suggested.iter().any(|&u| below(u)) {
                    expected.extend(registry.unit(c).children.iter().rev());
                    continue;
                }
                if r.suggested.contains(&c) {
                    // Its row is there under a misspelt name: that row's
                    // `unknown_unit` already says so.
                    continue;
                }
                let unit = registry.unit(c);
                let name = match unit.parent.filter(|&p| p != r.unit) {
                    // 新村 is in many townships: 东城街道新村.
                    Some(p) => format!("{}{}", registry.unit(p).name, unit.name),
                    None => unit.name.clone(),
                };
                let detail = Detail::MissingRow {
                    unit: name,
                    parent: registry.unit(r.unit).name.clone(),
                    month,
                    across: r.across,
                };
                out.0.push(
                    self.missing(form, month, c, detail)
                        .file(&batch.files[r.file as usize])
                        .sheet(&r.sheet),
                );
            }
        }
    }
}
