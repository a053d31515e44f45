//! Villages are the leaves (FORMS.md §1): every figure above them is
//! computed. A return from higher up that lists units with their own
//! children's rows in the batch — a county's summary listing townships that
//! also sent their village-by-village returns — would count every person
//! twice. The computed figure wins; the reported row is not counted and is
//! a `duplicate_return` error naming both places.

use foldhash::{HashMap, HashSet};

use super::RowIndex;
use crate::findings::{CellRef, Finding, Rule};
use crate::message::Detail;
use crate::observation::{Batch, ReturnStatus};
use crate::period::Month;
use crate::registry::{Registry, UnitIdx};
use crate::schema::{FormIdx, Schemas};

/// Marks the overlapping rows in `batch.overlapped` and reports each.
#[must_use]
pub fn check(
    batch: &mut Batch,
    rows: &RowIndex,
    registry: &Registry,
    schemas: &Schemas,
) -> Vec<Finding> {
    let mut findings = listed_below(batch, rows, registry, schemas);
    findings.extend(summaries(batch, rows, registry, schemas));
    findings
}

/// A village listed by a county's return (its townships' villages) and by
/// its own township's return of the same form and month: the township's
/// row is the one counted, nearer the source; the county's is a
/// `duplicate_return` naming both.
fn listed_below(
    batch: &mut Batch,
    rows: &RowIndex,
    registry: &Registry,
    schemas: &Schemas,
) -> Vec<Finding> {
    let counted = |ret: u32| batch.returns[ret as usize].status == ReturnStatus::Active;
    // Rows below the reporting unit's children: none in most batches.
    let deep: Vec<&super::RowSpan> = rows
        .rows
        .iter()
        .filter(|s| {
            counted(s.ret)
                && registry.unit(s.unit).children.is_empty()
                && registry.unit(s.unit).parent != Some(batch.returns[s.ret as usize].unit)
        })
        .collect();
    if deep.is_empty() {
        return Vec::new();
    }
    let wanted: HashSet<(FormIdx, Month, UnitIdx)> = deep
        .iter()
        .map(|s| {
            let r = &batch.returns[s.ret as usize];
            (r.form, r.month, s.unit)
        })
        .collect();
    let mut listed: HashMap<(FormIdx, Month, UnitIdx), Vec<u32>> = HashMap::default();
    for s in rows.rows.iter().filter(|s| counted(s.ret)) {
        let r = &batch.returns[s.ret as usize];
        if wanted.contains(&(r.form, r.month, s.unit)) {
            listed
                .entry((r.form, r.month, s.unit))
                .or_default()
                .push(s.ret);
        }
    }
    let mut findings = Vec::new();
    for span in deep {
        let r = &batch.returns[span.ret as usize];
        let nearer = listed[&(r.form, r.month, span.unit)]
            .iter()
            .copied()
            .find(|&other| {
                let u = batch.returns[other as usize].unit;
                other != span.ret && u != r.unit && registry.is_within(u, r.unit)
            });
        let Some(nearer) = nearer else { continue };
        if !batch.overlapped.insert((span.ret, span.unit)) {
            continue;
        }
        let unit = registry.unit(span.unit);
        findings.push(at_row(
            batch,
            span,
            unit,
            schemas,
            nearer,
            |unit, form, month, detail| Detail::RowListedBelow {
                unit,
                form,
                month,
                detail,
            },
        ));
    }
    findings
}

/// A unit's row in a summary whose own units' rows are in the batch too.
fn summaries(
    batch: &mut Batch,
    rows: &RowIndex,
    registry: &Registry,
    schemas: &Schemas,
) -> Vec<Finding> {
    let counted = |ret: u32| batch.returns[ret as usize].status == ReturnStatus::Active;
    // Only a row of a unit with children can overlap; most batches (every
    // township listing its villages) have none, and are done here.
    let upper: HashSet<(FormIdx, Month, UnitIdx)> = rows
        .rows
        .iter()
        .filter(|s| counted(s.ret) && !registry.unit(s.unit).children.is_empty())
        .map(|s| {
            let r = &batch.returns[s.ret as usize];
            (r.form, r.month, s.unit)
        })
        .collect();
    if upper.is_empty() {
        return Vec::new();
    }
    // (form, month, unit) → a return holding rows of the unit's descendants.
    let mut below: HashMap<(FormIdx, Month, UnitIdx), u32> = HashMap::default();
    for span in rows.rows.iter().filter(|s| counted(s.ret)) {
        let r = &batch.returns[span.ret as usize];
        for a in registry.ancestors_and_self(span.unit).skip(1) {
            if upper.contains(&(r.form, r.month, a)) {
                below.entry((r.form, r.month, a)).or_insert(span.ret);
            }
        }
    }
    if below.is_empty() {
        return Vec::new();
    }
    let mut findings = Vec::new();
    for span in rows.rows.iter().filter(|s| counted(s.ret)) {
        let r = &batch.returns[span.ret as usize];
        let Some(&detail) = below.get(&(r.form, r.month, span.unit)) else {
            continue;
        };
        if !batch.overlapped.insert((span.ret, span.unit)) {
            continue;
        }
        let unit = registry.unit(span.unit);
        findings.push(at_row(
            batch,
            span,
            unit,
            schemas,
            detail,
            |unit, form, month, detail| Detail::SummaryOverlap {
                unit,
                form,
                month,
                detail,
            },
        ));
    }
    findings
}

/// The `duplicate_return` of a row not counted, at its name cell: `said`
/// of its unit, form and month and of the return counted instead
/// (`file!sheet`).
fn at_row(
    batch: &Batch,
    span: &super::RowSpan,
    unit: &crate::registry::Unit,
    schemas: &Schemas,
    counted: u32,
    said: impl Fn(String, crate::message::Label, Month, String) -> Detail,
) -> Finding {
    let r = &batch.returns[span.ret as usize];
    let other = &batch.returns[counted as usize];
    let detail = said(
        unit.name.clone(),
        schemas.form(r.form).title_label(),
        r.month,
        format!("{}!{}", batch.files[other.file as usize], other.sheet),
    );
    let mut f = Finding::new(Rule::DuplicateReturn, detail)
        .file(batch.file_of(span.ret))
        .sheet(&r.sheet)
        .form(&schemas.form(r.form).id)
        .period(r.month)
        .unit(unit.code)
        .value(unit.name.clone());
    if let Some(row) = batch.obs.cell.get(span.start).map(|c| c.row) {
        f = f.cell(CellRef {
            row,
            col: r.name_col.unwrap_or(0),
        });
    }
    f
}
