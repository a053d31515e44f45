//! Checks over time, per unit and field (FORMS.md §4): a stock falling more
//! than 10 % from the previous month, and a value far outside the unit's own
//! history by the modified z-score (Iglewicz–Hoaglin) on ≥ 4 prior months,
//! or, for a count whose history has a median below 20, by a Poisson model.

use rayon::prelude::*;

use crate::counted::{self, CountedMonth};
use crate::findings::{CellRef, Finding, Rule};
use crate::message::{num, Detail};
use crate::observation::{Batch, ReturnStatus};
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

/// `v`, in `into` (emptied first), sorted.
fn sorted_into(v: impl Iterator<Item = f64>, into: &mut Vec<f64>) -> &[f64] {
    into.clear();
    into.extend(v);
    into.sort_by(f64::total_cmp);
    into
}

/// Whether `x` is an outlier against `history` (FORMS.md §4), with the median.
#[must_use]
pub fn is_outlier(history: &[f64], x: f64) -> Option<f64> {
    is_outlier_with(history, x, &mut Sorting::default())
}

/// Buffers kept from one series to the next: a city's 2026Q4 from its
/// store judges a third of a million figures, and fresh buffers for each
/// were a third of the checks over time.
#[derive(Default)]
struct Scratch {
    /// A figure's history.
    history: Vec<f64>,
    sorting: Sorting,
}

/// The buffers [`is_outlier_with`] sorts in.
#[derive(Default)]
struct Sorting {
    sorted: Vec<f64>,
    deviations: Vec<f64>,
}

/// [`is_outlier`], sorting in `sorting`.
fn is_outlier_with(history: &[f64], x: f64, sorting: &mut Sorting) -> Option<f64> {
    // The median lies between the least and the greatest of the history:
    // where `x` is within the margin below of both, it is within it of the
    // median too, and nothing needs sorting (most figures of a month are).
    // Exact, not a guess: rounding keeps |x − median| at most the larger of
    // |x − least| and |x − greatest|, and the margin only grows with
    // |median|, which is at least `nearest`. A value not a number makes
    // both bounds one, and the history is sorted as before.
    let (least, greatest) =
        history
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (
                    if v < lo || v.is_nan() { v } else { lo },
                    if v > hi || v.is_nan() { v } else { hi },
                )
            });
    if [least, greatest, x].iter().all(|v| v.abs() < 1e15) {
        let nearest = if least <= 0.0 && greatest >= 0.0 {
            0.0
        } else {
            least.abs().min(greatest.abs())
        };
        if f64::max((x - least).abs(), (x - greatest).abs()) <= ordinary_within(nearest) {
            return None;
        }
    }
    is_outlier_sorting(history, x, sorting)
}

/// How far from its history's median `median` a figure may be and never
/// be flagged: 5, or a tenth of the median, whichever is more (small counts
/// and slowly growing stocks).
fn ordinary_within(median: f64) -> f64 {
    f64::max(5.0, 0.1 * median.abs())
}

/// [`is_outlier_with`] without its shortcut: the history sorted for its
/// median every time.
fn is_outlier_sorting(history: &[f64], x: f64, sorting: &mut Sorting) -> Option<f64> {
    if history.len() < MIN_HISTORY {
        return None;
    }
    let Sorting { sorted, deviations } = sorting;
    let s = sorted_into(history.iter().copied(), sorted);
    let med = median(s);
    let dev = (x - med).abs();
    // Small counts and slowly growing stocks are never flagged.
    if dev <= ordinary_within(med) {
        return None;
    }
    if med < POISSON_BELOW {
        // Small counts move within their natural range: ordinary variation
        // crosses the z-score's cut-off once a village counts in the tens.
        let mean = s.iter().sum::<f64>() / s.len() as f64;
        return (poisson_two_sided(mean, x) < POISSON_P).then_some(med);
    }
    let mad = median(sorted_into(s.iter().map(|v| (v - med).abs()), deviations));
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

/// Below this median of its history a count is judged by a Poisson model,
/// not the modified z-score (FORMS.md §4).
const POISSON_BELOW: f64 = 20.0;
/// The two-sided probability under which a small count is an outlier.
const POISSON_P: f64 = 0.001;

/// The two-sided tail probability of `x` under a Poisson distribution of
/// mean `lambda`: twice the smaller of P(X ≤ x) and P(X ≥ x), at most 1.
/// 22 against a mean of 11 is 0.0045; 7 against a mean of 1 is 0.00017.
/// Each term comes from the one before (`p(k+1) = p(k)·λ/(k+1)`), from the
/// mode's side, so a city-year's hundred thousand small series cost a few
/// multiplications each.
#[must_use]
pub fn poisson_two_sided(lambda: f64, x: f64) -> f64 {
    let x = x.round().max(0.0) as u64;
    if lambda <= 0.0 {
        // Every month 0: anything else is impossible under the model.
        return if x == 0 { 1.0 } else { 0.0 };
    }
    // ln p(x) by Stirling's series (exact to 1e-10 from x = 1 on; p(0) = e^-λ).
    let ln_fact = |k: u64| {
        if k < 2 {
            return 0.0;
        }
        let n = k as f64;
        n * n.ln() - n + 0.5 * (2.0 * std::f64::consts::PI * n).ln() + 1.0 / (12.0 * n)
            - 1.0 / (360.0 * n * n * n)
            + 1.0 / (1260.0 * n.powi(5))
    };
    let p_x = (x as f64 * lambda.ln() - lambda - ln_fact(x)).exp();
    let tail = if (x as f64) <= lambda {
        // The lower tail, from x down to 0: p(k−1) = p(k)·k/λ.
        let (mut term, mut sum) = (p_x, p_x);
        for k in (1..=x).rev() {
            term *= k as f64 / lambda;
            sum += term;
        }
        sum
    } else {
        // The upper tail, from x up: the terms fall once past the mean.
        let (mut term, mut sum, mut k) = (p_x, p_x, x);
        while term > sum * 1e-17 && k - x < 100_000 {
            k += 1;
            term *= lambda / k as f64;
            sum += term;
        }
        sum
    };
    (2.0 * tail).min(1.0)
}

struct Point {
    month: Month,
    value: f64,
    ret: u32,
    cell: CellRef,
    /// Whether its findings are wanted (else it is history only).
    judged: bool,
}

/// `stock_drop` and `outlier` findings for every unit row of the counted
/// returns `judged`, each against the whole history of its unit and field.
///
/// The rows (`rows`: each a run of one unit's figures in one return) are
/// grouped by unit and form and put in month order; a group with no row
/// judged is passed over without reading its figures, and each other
/// group's figures are sorted by field and month on their own, on every
/// core. Sorting every counted figure by (unit, form, field, month) took
/// 0.11 s of a city's twelfth monthly ingest at 2 threads (1.3 million
/// figures, 0.11 million of them judged).
#[must_use]
pub fn check(
    batch: &Batch,
    rows: &super::RowIndex,
    registry: &Registry,
    schemas: &Schemas,
    judged: super::Judged,
    earlier: &[CountedMonth],
) -> Vec<Finding> {
    let o = &batch.obs;
    // The rows of counted returns, by (unit, form, month, place read).
    let mut spans: Vec<&super::RowSpan> = rows
        .rows
        .iter()
        .filter(|r| r.start < r.end && batch.returns[r.ret as usize].status == ReturnStatus::Active)
        .collect();
    spans.par_sort_unstable_by_key(|r| {
        let ret = &batch.returns[r.ret as usize];
        (r.unit, ret.form, ret.month, r.start)
    });
    if spans.is_empty() {
        return Vec::new();
    }
    let key = |r: &super::RowSpan| (r.unit, batch.returns[r.ret as usize].form);
    let mut bounds = vec![0];
    for i in 1..spans.len() {
        if key(spans[i]) != key(spans[i - 1]) {
            bounds.push(i);
        }
    }
    bounds.push(spans.len());
    bounds
        .par_windows(2)
        .with_min_len(16)
        .flat_map_iter(|w| {
            let group = &spans[w[0]..w[1]];
            if !group.iter().any(|r| judged.judges(batch, r.ret)) {
                return Vec::new();
            }
            let (unit, form) = key(group[0]);
            // The group's figures of the months outside the table, by field.
            let mut before: Vec<&[(u64, f64)]> =
                earlier.iter().map(|m| m.of_unit(unit, form)).collect();
            // (field, month, place read) of each counted figure: by field,
            // each field's in month order.
            let mut figs: Vec<(FieldIdx, i32, u32)> = group
                .iter()
                .flat_map(|r| r.start..r.end)
                .filter(|&i| batch.counts(i, schemas))
                .map(|i| (o.field[i], o.month[i].0, i as u32))
                .collect();
            figs.sort_unstable();
            let mut out = Vec::new();
            // One field's points at a time, and the outlier test's buffers.
            let mut pts: Vec<Point> = Vec::new();
            let mut scratch = Scratch::default();
            for run in figs.chunk_by(|a, b| a.0 == b.0) {
                pts.clear();
                let field = run[0].0;
                // The months outside the table first: they are mostly
                // before it (a report's history), so the points are then
                // in month order already.
                // Each month's rows and the fields both in order: a walk
                // past the fields between, mostly none. A binary search of
                // each field in each earlier month: these checks of a
                // city's 2026Q4 from its store (nine earlier months) took
                // 51–92 ms (median 72) of one thread, the walk 44–77 (53;
                // release, eight runs each alternating).
                for (m, rows) in earlier.iter().zip(&mut before) {
                    let skip = rows
                        .iter()
                        .position(|r| counted::field_of(r.0) >= field)
                        .unwrap_or(rows.len());
                    let take = rows[skip..]
                        .iter()
                        .position(|r| counted::field_of(r.0) != field)
                        .unwrap_or(rows.len() - skip);
                    pts.extend(rows[skip..skip + take].iter().map(|r| Point {
                        month: m.month,
                        value: r.1,
                        ret: u32::MAX,
                        cell: CellRef::default(),
                        judged: false,
                    }));
                    *rows = &rows[skip + take..];
                }
                pts.extend(run.iter().map(|&(_, _, i)| {
                    let i = i as usize;
                    Point {
                        month: o.month[i],
                        value: o.value[i].unwrap_or_default(),
                        ret: o.ret[i],
                        cell: o.cell[i],
                        judged: judged.judges(batch, o.ret[i]),
                    }
                }));
                if !pts.is_sorted_by_key(|p| p.month) {
                    // Stable: a month's figures in the table stay in the
                    // order they were read (no month is both in the table
                    // and outside it).
                    pts.sort_by_key(|p| p.month);
                }
                if pts.iter().any(|p| p.judged) {
                    out.extend(series(
                        batch,
                        registry,
                        schemas,
                        (unit, form, run[0].0),
                        &pts,
                        &mut scratch,
                    ));
                }
            }
            out
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
    scratch: &mut Scratch,
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
            .unit(u.code)
            .field(&f.id)
            .value(num(p.value))
    };
    for (i, p) in pts.iter().enumerate() {
        if !p.judged {
            continue;
        }
        // One finding per cell and cause: a fall already reported as
        // `stock_drop` is not reported again as an outlier.
        let mut dropped = false;
        // A year-to-date count is never compared across a January: it
        // only falls within a year (`ytd_decrease`), and its history for
        // an outlier is the same year's months.
        if f.kind == Kind::Ytd && i > 0 {
            let prev = &pts[i - 1];
            if prev.month == p.month.prev()
                && prev.month.year() == p.month.year()
                && p.value < prev.value
            {
                dropped = true;
                out.push(finding(
                    Rule::YtdDecrease,
                    p,
                    Detail::YtdDecrease {
                        label: f.label(),
                        unit: u.name.clone(),
                        prev: prev.value,
                        prev_month: prev.month,
                        value: p.value,
                        month: p.month,
                    },
                ));
            }
        }
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
        let Scratch { history, sorting } = &mut *scratch;
        history.clear();
        history.extend(
            pts[..i]
                .iter()
                .filter(|q| f.kind != Kind::Ytd || q.month.year() == p.month.year())
                .map(|q| q.value),
        );
        let outlier = is_outlier_with(history, p.value, sorting);
        let n = history.len();
        if let Some(med) = outlier.filter(|_| !dropped) {
            out.push(finding(
                Rule::Outlier,
                p,
                Detail::Outlier {
                    label: f.label(),
                    unit: u.name.clone(),
                    value: p.value,
                    month: p.month,
                    median: med,
                    n,
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
    fn a_small_count_is_judged_by_its_poisson_probability() {
        // FORMS.md §4's examples, by hand: P(X ≥ 22 | λ = 11) = 0.002255…,
        // doubled 0.004504; P(X ≥ 7 | λ = 1) = 1 − Σ₀⁶ e⁻¹/k! = 0.0000832…,
        // doubled 0.000166.
        assert!((poisson_two_sided(11.0, 22.0) - 0.004504).abs() < 1e-5);
        assert!((poisson_two_sided(1.0, 7.0) - 0.0001664).abs() < 2e-6);
        // P(X ≤ 0 | λ = 11) = e⁻¹¹, doubled.
        assert!((poisson_two_sided(11.0, 0.0) - 2.0 * (-11.0f64).exp()).abs() < 1e-12);
        assert!((poisson_two_sided(11.0, 11.0) - 1.0).abs() < 1e-12);
        // 22 against 10, 14, 8, 12 is ordinary variation (the z-score said 3.7);
        // 7 against 1, 0, 2, 1 is not.
        assert_eq!(is_outlier(&[10.0, 14.0, 8.0, 12.0], 22.0), None);
        assert_eq!(is_outlier(&[1.0, 0.0, 2.0, 1.0], 7.0), Some(1.0));
        // A slip of a digit in a small count is still caught: 80 for 8, and
        // 1 for 12 (a dropped digit: p = 2·P(X ≤ 1 | λ = 11.5) ≈ 0.00025).
        assert!(is_outlier(&[9.0, 7.0, 8.0, 10.0], 80.0).is_some());
        assert!(is_outlier(&[12.0, 11.0, 12.0, 11.0], 1.0).is_some());
        // Every month 0, then 9: impossible under the model.
        assert!(is_outlier(&[0.0, 0.0, 0.0, 0.0], 9.0).is_some());
    }

    #[test]
    fn the_shortcut_judges_as_the_sorted_median_does() {
        // Every history of five months whose values are a base and steps of
        // up to a little more than the margin above it (the margin is 5, or
        // a tenth of the median), small and large and crossing 0, each
        // against values from two margins below the base to two above.
        let (mut cases, mut flagged, mut short) = (0usize, 0usize, 0usize);
        let mut sorting = Sorting::default();
        for base in [-3.0f64, 0.0, 3.0, 18.0, 50.0, 90.0, 120.0, 950.0] {
            let margin = f64::max(5.0, 0.1 * base.abs());
            let steps = [
                0.0,
                1.0,
                (margin / 2.0).round(),
                margin.round(),
                (1.2 * margin).round(),
            ];
            for pick in 0..steps.len().pow(5) {
                let history: Vec<f64> = (0..5)
                    .map(|k| base + steps[pick / steps.len().pow(k) % steps.len()])
                    .collect();
                let (lo, hi) = history
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                        (lo.min(v), hi.max(v))
                    });
                for t in 0..=40 {
                    let x = (base + margin * (f64::from(t) / 10.0 - 2.0)).round();
                    let want = is_outlier_sorting(&history, x, &mut sorting);
                    assert_eq!(
                        is_outlier_with(&history, x, &mut sorting),
                        want,
                        "{history:?} against {x}"
                    );
                    cases += 1;
                    flagged += usize::from(want.is_some());
                    short += usize::from(f64::max((x - lo).abs(), (x - hi).abs()) <= margin);
                }
            }
        }
        // A value not a number is judged as before (compared as text: NaN
        // is not equal to itself).
        for history in [
            [1.0, f64::NAN, 3.0, 2.0, 2.0],
            [100.0, 100.0, 100.0, f64::NAN, 101.0],
        ] {
            for x in [0.0, 2.0, 100.0, 104.0, f64::NAN] {
                assert_eq!(
                    format!("{:?}", is_outlier_with(&history, x, &mut sorting)),
                    format!("{:?}", is_outlier_sorting(&history, x, &mut sorting)),
                    "{history:?} against {x}"
                );
            }
        }
        // Both answers were given often, and the shortcut was taken often.
        assert!(
            flagged > cases / 20 && cases - flagged > cases / 20 && short > cases / 20,
            "{flagged} flagged and {short} short of {cases}"
        );
    }

    #[test]
    fn small_counts_never_flagged() {
        assert_eq!(is_outlier(&[1.0, 1.0, 1.0, 1.0], 5.0), None);
    }
}
