//! Checks over time, per unit and field (FORMS.md §4): a stock falling more
//! than 10 % from the previous month, and a value far outside the unit's own
//! history by the modified z-score (Iglewicz–Hoaglin) on ≥ 4 prior months.

use rayon::prelude::*;

use crate::findings::{CellRef, Finding, Rule};
use crate::message::{num, Detail};
use crate::observation::{sort_key, Batch};
use crate::period::Month;
use crate::registry::{Registry, UnitIdx};
use crate::schema::{FieldIdx, FormIdx, Kind, Schemas};

/// Fewest prior months for an outlier test.
const MIN_HISTORY: usize = 4;
/// Modified z-score cut-off.
const Z_CUTOFF: f64 = 3.5;

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// Whether `x` is an outlier against `history` (FORMS.md §4), with the median.
#[must_use]
pub fn is_outlier(history: &[f64], x: f64) -> Option<f64> {
    if history.len() < MIN_HISTORY {
        return None;
    }
    let s = sorted(history.to_vec());
    let med = median(&s);
    let dev = (x - med).abs();
    // Small counts and slowly growing stocks are never flagged.
    if dev <= f64::max(5.0, 0.1 * med.abs()) {
        return None;
    }
    let mad = median(&sorted(s.iter().map(|v| (v - med).abs()).collect()));
    let flagged = if mad > 0.0 {
        (0.6745 * (x - med) / mad).abs() > Z_CUTOFF
    } else {
        let mean_ad = s.iter().map(|v| (v - med).abs()).sum::<f64>() / s.len() as f64;
        if mean_ad > 0.0 {
            ((x - med) / (1.253314 * mean_ad)).abs() > Z_CUTOFF
        } else {
            dev > 0.5 * med.abs()
        }
    };
    flagged.then_some(med)
}

struct Point {
    month: Month,
    value: f64,
    ret: u32,
    cell: CellRef,
}

/// `stock_drop` and `outlier` findings for every unit row of counted returns.
///
/// The counted figures are sorted by (unit, form, field, month); each
/// unit's series of one field is then checked on its own, on every core.
#[must_use]
pub fn check(batch: &Batch, registry: &Registry, schemas: &Schemas) -> Vec<Finding> {
    let o = &batch.obs;
    // (unit, form, field, month, place read) of every counted figure, one
    // entry per observation written in place (a filtered parallel collect
    // would hold the table twice); those not counted sort last under
    // `UnitIdx::MAX` and are cut off.
    let mut order: Vec<(UnitIdx, FormIdx, FieldIdx, i32, u32)> = (0..o.len())
        .into_par_iter()
        .with_min_len(4096)
        .map(|i| {
            let unit = if batch.counts(i, schemas) {
                o.unit[i]
            } else {
                UnitIdx::MAX
            };
            (unit, o.form[i], o.field[i], o.month[i].0, i as u32)
        })
        .collect();
    order.par_sort_unstable_by_key(|&(unit, form, field, month, i)| {
        sort_key(unit, u32::from(form) << 16 | u32::from(field), month, i)
    });
    order.truncate(order.partition_point(|x| x.0 != UnitIdx::MAX));
    if order.is_empty() {
        return Vec::new();
    }
    let mut bounds = vec![0];
    for i in 1..order.len() {
        let (a, b) = (order[i], order[i - 1]);
        if (a.0, a.1, a.2) != (b.0, b.1, b.2) {
            bounds.push(i);
        }
    }
    bounds.push(order.len());
    bounds
        .par_windows(2)
        .with_min_len(64)
        .flat_map_iter(|w| {
            let run = &order[w[0]..w[1]];
            let (unit, form, field) = (run[0].0, run[0].1, run[0].2);
            let pts: Vec<Point> = run
                .iter()
                .map(|&(_, _, _, _, i)| {
                    let i = i as usize;
                    Point {
                        month: o.month[i],
                        value: o.value[i].unwrap_or_default(),
                        ret: o.ret[i],
                        cell: o.cell[i],
                    }
                })
                .collect();
            series(batch, registry, schemas, (unit, form, field), &pts)
        })
        .collect()
}

/// The findings of one unit's series of one field, sorted by month.
fn series(
    batch: &Batch,
    registry: &Registry,
    schemas: &Schemas,
    (unit, form, field): (UnitIdx, FormIdx, FieldIdx),
    pts: &[Point],
) -> Vec<Finding> {
    let mut out = Vec::new();
    let form_def = schemas.form(form);
    let f = form_def.field(field);
    let u = registry.unit(unit);
    let finding = |rule: Rule, p: &Point, detail: Detail| {
        let r = &batch.returns[p.ret as usize];
        Finding::new(rule, detail)
            .file(batch.file_of(p.ret))
            .sheet(&r.sheet)
            .cell(p.cell)
            .form(&form_def.id)
            .period(p.month)
            .unit(u.code.0)
            .field(&f.id)
            .value(num(p.value))
    };
    for (i, p) in pts.iter().enumerate() {
        // One finding per cell and cause: a fall already reported as
        // `stock_drop` is not reported again as an outlier.
        let mut dropped = false;
        if f.kind == Kind::Stock && i > 0 {
            let prev = &pts[i - 1];
            if prev.month == p.month.prev() && prev.value > 0.0 && p.value < prev.value * 0.9 {
                let pct = (prev.value - p.value) / prev.value * 100.0;
                dropped = true;
                out.push(finding(
                    Rule::StockDrop,
                    p,
                    Detail::StockDrop {
                        label: f.label(),
                        unit: u.name.clone(),
                        pct,
                        prev: prev.value,
                        prev_month: prev.month,
                        value: p.value,
                        month: p.month,
                    },
                ));
            }
        }
        let history: Vec<f64> = pts[..i].iter().map(|q| q.value).collect();
        if let Some(med) = is_outlier(&history, p.value).filter(|_| !dropped) {
            out.push(finding(
                Rule::Outlier,
                p,
                Detail::Outlier {
                    label: f.label(),
                    unit: u.name.clone(),
                    value: p.value,
                    month: p.month,
                    median: med,
                    n: history.len(),
                },
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slowly_growing_stock_is_not_an_outlier() {
        assert_eq!(
            is_outlier(&[195.0, 196.0, 196.0, 196.0, 196.0], 197.0),
            None
        );
    }

    #[test]
    fn extra_digit_is_an_outlier() {
        assert_eq!(is_outlier(&[30.0, 28.0, 31.0, 29.0], 310.0), Some(29.5));
        // MAD = 0: mean absolute deviation is used
        assert!(is_outlier(&[100.0, 100.0, 100.0, 100.0, 120.0], 400.0).is_some());
        // both 0: more than 50 % from the median
        assert!(is_outlier(&[100.0, 100.0, 100.0, 100.0], 160.0).is_some());
        assert!(is_outlier(&[100.0, 100.0, 100.0, 100.0], 140.0).is_none());
    }

    #[test]
    fn needs_four_prior_months() {
        assert_eq!(is_outlier(&[30.0, 28.0, 31.0], 310.0), None);
    }

    #[test]
    fn small_counts_never_flagged() {
        assert_eq!(is_outlier(&[1.0, 1.0, 1.0, 1.0], 5.0), None);
    }
}
