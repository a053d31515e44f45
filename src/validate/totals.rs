//! The 合计 row against the sum of the unit rows, column by column
//! (FORMS.md §4). Only counts are summed; a column with no reported unit
//! value, or an unreported total, is not checked.

use std::collections::HashMap;

use super::RowIndex;
use crate::findings::{Finding, Rule};
use crate::observation::{Batch, ReturnStatus};
use crate::registry::Registry;
use crate::schema::{FieldIdx, Kind, Schemas};

/// `total_mismatch` findings, naming the 合计 row's cell.
#[must_use]
pub fn check(
    batch: &Batch,
    rows: &RowIndex,
    registry: &Registry,
    schemas: &Schemas,
) -> Vec<Finding> {
    let o = &batch.obs;
    let mut sums: HashMap<(u32, FieldIdx), (f64, u32, u32)> = HashMap::new();
    for span in &rows.rows {
        for i in span.start..span.end {
            if let Some(v) = o.value[i] {
                let e = sums
                    .entry((span.ret, o.field[i]))
                    .or_insert((0.0, u32::MAX, 0));
                e.0 += v;
                e.1 = e.1.min(o.cell[i].row);
                e.2 = e.2.max(o.cell[i].row);
            }
        }
    }
    let mut out = Vec::new();
    for (ri, r) in batch.returns.iter().enumerate() {
        if r.status == ReturnStatus::Superseded {
            continue;
        }
        let form = schemas.form(r.form);
        for t in &r.totals {
            let field = form.field(t.field);
            if field.kind == Kind::Rate {
                continue;
            }
            let (Some(total), Some(&(sum, first, last))) =
                (t.value, sums.get(&(ri as u32, t.field)))
            else {
                continue;
            };
            if (total - sum).abs() > 1e-9 {
                out.push(
                    Finding::new(
                        Rule::TotalMismatch,
                        format!("合计 {} = {total}, rows sum to {sum}", field.display_label()),
                    )
                    .file(batch.file_of(ri as u32))
                    .sheet(&r.sheet)
                    .cell(t.cell)
                    .form(&form.id)
                    .period(r.month)
                    .unit(registry.unit(r.unit).code.0)
                    .field(&field.id)
                    .value(format!("{total}"))
                    .help(format!(
                        "check rows {}–{} of column {}; a 小计 row counted twice or a typo in one row is the usual cause",
                        first + 1,
                        last + 1,
                        crate::findings::CellRef::col_name(t.cell.col)
                    )),
                );
            }
        }
    }
    out
}
