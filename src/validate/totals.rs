//! The 合计 row against the sum of the unit rows, column by column
//! (FORMS.md §4). The sum runs over every unit row on the sheet — also one
//! whose name is not in the registry, or that repeats a unit — so one
//! misspelt village is one `unknown_unit`, never a cascade of mismatches.
//! Only counts are summed; a column with no reported unit value, an
//! unreported total, or a unit cell that cannot be read is not checked.

use rayon::prelude::*;

use crate::findings::{CellRef, Finding, Rule};
use crate::message::{num, Detail};
use crate::observation::{Batch, Return, RowSum, TotalCell};
use crate::registry::Registry;
use crate::schema::{Kind, Schemas};

/// `total_mismatch` findings, naming the 合计 row's cell.
#[must_use]
pub fn check(
    batch: &Batch,
    registry: &Registry,
    schemas: &Schemas,
    judged: super::Judged,
) -> Vec<Finding> {
    // Each return on its own, on every core, the findings in return order.
    batch
        .returns
        .par_iter()
        .enumerate()
        .with_min_len(256)
        .filter(|(ri, r)| r.status.checked() && judged.judges(batch, *ri as u32))
        .flat_map_iter(|(ri, r)| of_return(batch.file_of(ri as u32), r, registry, schemas))
        .collect()
}

/// A 合计 cell's value and the sum of the unit rows of its column, when
/// both are there to compare (and the column's cells could all be read).
fn total_and_sum<'r>(r: &'r Return, t: &TotalCell) -> Option<(f64, f64, &'r RowSum)> {
    let total = t.value?;
    let rs = r.row_sums.iter().find(|s| s.field == t.field)?;
    let sum = rs.sum.filter(|_| !rs.unreadable)?;
    Some((total, sum, rs))
}

/// Whether return `r`'s 合计 of `field` differs from the sum of its unit
/// rows — the one test of `total_mismatch`, which the 合计 row's rate check
/// asks too (a rate recomputed from a wrong total is no advice to follow).
#[must_use]
pub fn total_is_off(r: &Return, field: crate::schema::FieldIdx) -> bool {
    r.totals
        .iter()
        .filter(|t| t.field == field)
        .filter_map(|t| total_and_sum(r, t))
        .any(|(total, sum, _)| (total - sum).abs() > 1e-9)
}

/// The 合计 row of return `r`, read from `file`, against the sum of its
/// unit rows: for every return of a batch ([`check`]), and for each part
/// of 本地 / 流动 / 合计 as reading makes them one return (its own 合计 row
/// is checked before the part is added to the return or set aside).
#[must_use]
pub fn of_return(file: &str, r: &Return, registry: &Registry, schemas: &Schemas) -> Vec<Finding> {
    let mut out = Vec::new();
    let form = schemas.form(r.form);
    let rows = registry
        .unit(r.unit)
        .children
        .first()
        .map(|&c| registry.unit(c).level);
    // A 合计 with figures over unit rows with none (a township that sent
    // only its total): nothing to compare column by column, and nothing
    // of it counted, which is said once.
    let counted_total = r
        .totals
        .iter()
        .find(|t| form.field(t.field).kind != Kind::Rate && t.value.is_some_and(|v| v != 0.0));
    if let Some(t) = counted_total {
        if r.row_sums.iter().all(|s| s.sum.is_none() && !s.unreadable) {
            out.push(
                Finding::new(Rule::TotalMismatch, Detail::TotalWithoutRows { rows })
                    .file(file)
                    .sheet(&r.sheet)
                    .cell(t.cell)
                    .form(&form.id)
                    .period(r.month)
                    .unit(registry.unit(r.unit).code.0),
            );
            return out;
        }
    }
    for t in &r.totals {
        let field = form.field(t.field);
        if field.kind == Kind::Rate {
            continue;
        }
        let Some((total, sum, rs)) = total_and_sum(r, t) else {
            continue;
        };
        if (total - sum).abs() > 1e-9 {
            // Short by exactly the figures written as text: a SUM formula
            // left them out, and that is what to fix.
            let text = rs
                .text
                .filter(|t| (sum - t.sum - total).abs() <= 1e-9)
                .map(|t| (t.count, t.first));
            out.push(
                Finding::new(
                    Rule::TotalMismatch,
                    Detail::TotalMismatch {
                        label: field.label(),
                        total,
                        sum,
                        range: if r.across {
                            format!(
                                "{}{row}:{}{row}",
                                CellRef::col_name(rs.first_row),
                                CellRef::col_name(rs.last_row),
                                row = t.cell.row + 1
                            )
                        } else {
                            format!(
                                "{col}{}:{col}{}",
                                rs.first_row + 1,
                                rs.last_row + 1,
                                col = CellRef::col_name(t.cell.col)
                            )
                        },
                        rows,
                        text,
                    },
                )
                .file(file)
                .sheet(&r.sheet)
                .cell(t.cell)
                .form(&form.id)
                .period(r.month)
                .unit(registry.unit(r.unit).code.0)
                .field(&field.id)
                .value(num(total)),
            );
        }
    }
    out
}
