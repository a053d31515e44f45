//! Checks within one row (FORMS.md §4): the schema's `≤` relations and
//! each reported rate against the one recomputed from its own row. A
//! relation with a side not reported is not checked.

use rayon::prelude::*;

use super::RowIndex;
use crate::findings::{CellRef, Finding, Rule};
use crate::message::{num, Detail};
use crate::observation::Batch;
use crate::registry::Registry;
use crate::schema::{FieldIdx, Form, Kind, Schemas};

/// Largest difference between a reported and a recomputed rate that is
/// only rounding (percentage points).
pub const RATE_TOLERANCE: f64 = 0.1;

/// One row's figures: field, value, cell.
pub type RowValues = Vec<(FieldIdx, Option<f64>, CellRef)>;

/// The rate recomputed from a row's own figures, when every part is reported
/// and the denominator is not zero.
#[must_use]
pub fn recompute(form: &Form, rate: FieldIdx, row: &RowValues) -> Option<f64> {
    let ratio = form.field(rate).ratio?;
    let get = |f: FieldIdx| row.iter().find(|(g, _, _)| *g == f).and_then(|x| x.1);
    let n = get(ratio.numerator)?;
    let d = get(ratio.denominator)?;
    let m = match ratio.minus {
        Some(m) => get(m)?,
        None => 0.0,
    };
    (d != 0.0).then(|| (n - m) / d * 100.0)
}

/// Checks one row: the `≤` relations (unit rows only) and reported rates.
///
/// A 合计 row's relations follow from its unit rows, which are checked one
/// by one; checking the sums again would report the same problem twice,
/// and where some cells are unreported it would compare sums over
/// different units. Its rates are still checked against its own figures.
#[must_use]
pub fn check_row(
    form: &Form,
    row: &RowValues,
    relations: bool,
    mut base: impl FnMut(Rule, CellRef, Detail) -> Finding,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let get = |f: FieldIdx| {
        row.iter()
            .find(|(g, _, _)| *g == f)
            .and_then(|x| x.1.map(|v| (v, x.2)))
    };
    for c in form.checks.iter().filter(|_| relations) {
        let (Some((l, cell)), Some((r, _))) = (get(c.left), get(c.right)) else {
            continue;
        };
        if l > r {
            let lf = form.field(c.left);
            let rf = form.field(c.right);
            out.push(
                base(
                    c.rule,
                    cell,
                    Detail::Exceeds {
                        left: lf.label(),
                        l,
                        right: rf.label(),
                        r,
                        total_row: !relations,
                        catch_up: c.rule == Rule::GivenExceedsDue,
                    },
                )
                .field(&lf.id)
                .value(num(l)),
            );
        }
    }
    for &(f, v, cell) in row {
        let field = form.field(f);
        if field.kind != Kind::Rate {
            continue;
        }
        let (Some(reported), Some(expected)) = (v, recompute(form, f, row)) else {
            continue;
        };
        if (reported - expected).abs() > RATE_TOLERANCE {
            out.push(
                base(
                    Rule::RateMismatch,
                    cell,
                    Detail::RateMismatch {
                        label: field.label(),
                        reported,
                        expected,
                        total_row: !relations,
                    },
                )
                .field(&field.id)
                .value(num(reported)),
            );
        }
    }
    out
}

/// Row checks on every unit row and 合计 row of the returns that count.
#[must_use]
pub fn check(
    batch: &Batch,
    rows: &RowIndex,
    registry: &Registry,
    schemas: &Schemas,
    judged: super::Judged,
) -> Vec<Finding> {
    let o = &batch.obs;
    let unit_rows = rows
        .rows
        .par_iter()
        .with_min_len(256)
        .filter(|span| judged.judges(batch, span.ret))
        .flat_map_iter(|span| {
            let values: RowValues = (span.start..span.end)
                .map(|i| (o.field[i], o.value[i], o.cell[i]))
                .collect();
            let code = registry.unit(span.unit).code.0;
            check_in_return(batch, schemas, span.ret, code, &values, true)
        });
    let mut out: Vec<Finding> = unit_rows.collect();
    // Then each return's 合计 row, also on every core, in return order.
    let total_rows = batch
        .returns
        .par_iter()
        .enumerate()
        .with_min_len(256)
        .filter(|(i, r)| {
            r.status.checked() && !r.totals.is_empty() && judged.judges(batch, *i as u32)
        })
        .flat_map_iter(|(i, r)| {
            let values: RowValues = r
                .totals
                .iter()
                .map(|t| (t.field, t.value, t.cell))
                .collect();
            let code = registry.unit(r.unit).code.0;
            let form = schemas.form(r.form);
            // Issue 30: a rate on a 合计 whose sides do not add up is not
            // checked: "should be 140.3" would be recomputed from the wrong
            // total, and the total_mismatch is the finding to fix.
            let off = |f: &Finding| {
                let Some(ratio) = f
                    .field
                    .as_deref()
                    .and_then(|id| form.field_idx(id))
                    .and_then(|fi| form.field(fi).ratio)
                else {
                    return false;
                };
                [Some(ratio.numerator), ratio.minus, Some(ratio.denominator)]
                    .into_iter()
                    .flatten()
                    .any(|side| super::totals::total_is_off(r, side))
            };
            check_in_return(batch, schemas, i as u32, code, &values, false)
                .into_iter()
                .filter(move |f| !(f.rule == Rule::RateMismatch && off(f)))
        });
    out.par_extend(total_rows);
    out
}

/// [`check_row`] on one row of return `ret` (a unit's, or with `relations`
/// false its 合计 row), each finding placed in that return's file, sheet,
/// form and month, under the row's unit `code`.
fn check_in_return(
    batch: &Batch,
    schemas: &Schemas,
    ret: u32,
    code: u64,
    values: &RowValues,
    relations: bool,
) -> Vec<Finding> {
    let r = &batch.returns[ret as usize];
    let form = schemas.form(r.form);
    check_row(form, values, relations, |rule, cell, detail| {
        Finding::new(rule, detail)
            .file(batch.file_of(ret))
            .sheet(&r.sheet)
            .cell(cell)
            .form(&form.id)
            .period(r.month)
            .unit(code)
    })
}
