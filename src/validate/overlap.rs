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
        let detail_ret = &batch.returns[detail as usize];
        let mut f = Finding::new(
            Rule::DuplicateReturn,
            Detail::SummaryOverlap {
                unit: unit.name.clone(),
                form: schemas.form(r.form).title_label(),
                month: r.month,
                detail: format!(
                    "{}!{}",
                    batch.files[detail_ret.file as usize], detail_ret.sheet
                ),
            },
        )
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
        findings.push(f);
    }
    findings
}
