//! One answer to "where does this figure come from" (issue 26): for every
//! aggregate of every level and period, the parts `aggregate::explain`
//! marks counted reproduce it — flows summed, stocks from their latest
//! month, rates as the ratio of the summed pairs — on the committed sample
//! and on a generated corpus with gaps and county summaries; and `trace
//! --csv` writes those parts from a store.

use std::path::Path;

use phstats::aggregate::{explain, figure_of, Role};
use phstats::pipeline::{run, Selection};

use crate::util::{self, Dir};

/// Checks every `stride`-th aggregate of the run over `returns` (all of
/// them with 1) against its explanation.
fn every_figure_is_its_counted_parts(returns: &Path, units: &Path, stride: usize) -> usize {
    let registry = phstats::registry::Registry::load(units).unwrap();
    let schemas = phstats::schema::Schemas::builtin().unwrap();
    let inputs = phstats::ingest::collect_inputs(&[returns.to_path_buf()]).unwrap();
    let selection = Selection {
        complete: true,
        deadline_day: 5,
        ..Selection::default()
    };
    let outcome = run(&inputs, &registry, &schemas, selection).unwrap();
    let mut n = 0;
    for a in outcome.aggregates.rows().step_by(stride) {
        if outcome.aggregates.comparison.contains(&a.period) {
            continue;
        }
        let parts = explain(
            &outcome.batch,
            &outcome.findings,
            &registry,
            &schemas,
            a.period,
            a.unit,
            a.form,
            a.field,
        );
        let got = figure_of(&parts);
        let field = schemas.form(a.form).field(a.field);
        let ok = got.is_some_and(|g| (g - a.value).abs() <= 1e-9 * a.value.abs().max(1.0));
        assert!(
            ok,
            "{} {} {}: aggregate {} but the counted parts give {got:?}: {parts:#?}",
            a.period,
            registry.unit(a.unit).name,
            field.id,
            a.value
        );
        // A rate's parts are numerators and denominators, a count's values.
        let rate = field.ratio.is_some();
        assert!(parts.iter().all(|p| (p.role == Role::Value) != rate));
        n += 1;
    }
    n
}

#[test]
fn every_aggregate_of_the_sample_is_the_sum_of_its_counted_parts() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let n = every_figure_is_its_counted_parts(
        &repo.join("sample-data/returns"),
        &repo.join("sample-data/units.csv"),
        1,
    );
    assert!(n > 10_000, "{n} figures");
}

#[test]
fn the_aggregates_of_a_corpus_with_gaps_and_summaries_are_their_counted_parts() {
    let d = Dir::new();
    util::corpus(&d, 14, 4, true, 7);
    // One figure in eleven (explain scans the whole batch for each): every
    // level, period and field still comes up many times.
    let n = every_figure_is_its_counted_parts(
        &d.path("corpus/returns"),
        &d.path("corpus/units.csv"),
        11,
    );
    assert!(n > 2_000, "{n} figures");
}

/// `trace --csv` from a store of the generated corpus (gaps, and a county
/// summary in March that overlaps the villages' own February and April
/// rows): for a count, a stock and a rate at every level, the counted rows
/// reproduce `aggregates.csv` of `report --store` exactly, and no person is
/// counted twice.
#[test]
fn trace_csv_parts_give_the_reported_figure_at_every_level() {
    let d = Dir::new();
    util::corpus(&d, 14, 4, true, 7);
    util::ingest_corpus(&d, 4, "db");
    let out = util::phstats(
        d.tmp.path(),
        &[
            "report", "--store", "db", "--period", "2026Q1", "--export", "out", "-o", "r.xlsx",
        ],
    );
    assert!(
        out.status.code().unwrap() < 2,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let aggs = util::read_csv(&d.path("out/aggregates.csv"));
    let units = util::read_csv(&d.path("corpus/units.csv"));
    let mut checked = 0;
    for level in ["city", "county", "township", "village"] {
        for field in ["hepb1_given", "signed", "signing_rate", "dtap_dropout"] {
            // Every township (the county summary's among them), one unit of
            // each other level.
            let take = if level == "township" { usize::MAX } else { 1 };
            for a in aggs
                .iter()
                .filter(|a| a["period"] == "2026Q1" && a["level"] == level && a["field"] == field)
                .take(take)
            {
                let csv = d.path(&format!("t_{level}_{field}.csv"));
                let out = util::phstats(
                    d.tmp.path(),
                    &[
                        "trace",
                        "--store",
                        "db",
                        "--period",
                        "2026Q1",
                        "--unit",
                        &a["unit_code"],
                        "--field",
                        field,
                        "--csv",
                        csv.to_str().unwrap(),
                    ],
                );
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let rows = util::read_csv(&csv);
                let sum = |role: &str| -> f64 {
                    rows.iter()
                        .filter(|r| r["role"] == role && r["counted"] == "true")
                        .map(|r| r["value"].parse::<f64>().unwrap())
                        .sum()
                };
                let got = if field.ends_with("_rate") || field == "dtap_dropout" {
                    100.0 * sum("numerator") / sum("denominator")
                } else {
                    sum("value")
                };
                let want: f64 = a["value"].parse().unwrap();
                assert!(
                    (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                    "{level} {field}: {got} vs {want}: {rows:#?}"
                );
                // A leaf and month counts at most once per role.
                let mut seen = std::collections::HashSet::new();
                for r in rows.iter().filter(|r| r["counted"] == "true") {
                    assert!(
                        seen.insert((
                            r["role"].clone(),
                            r["unit_code"].clone(),
                            r["month"].clone()
                        )),
                        "{r:?}"
                    );
                    assert!(units.iter().any(|u| u["code"] == r["unit_code"]));
                    assert!(!r["file"].is_empty() && !r["cell"].is_empty(), "{r:?}");
                }
                for r in rows.iter().filter(|r| r["counted"] == "false") {
                    assert!(!r["reason"].is_empty(), "{r:?}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "{checked}");
}

/// A month before a published summary's period, read only for its trend
/// charts: its rates are rolled up for the units the trend draws, each the
/// month's own rate as a run that reports that month gives it, and for no
/// other unit; its counts not at all.
#[test]
fn a_trend_month_is_rolled_up_for_the_units_drawn_as_the_month_itself() {
    use phstats::period::{Month, Period};
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let registry = phstats::registry::Registry::load(&repo.join("sample-data/units.csv")).unwrap();
    let schemas = phstats::schema::Schemas::builtin().unwrap();
    let inputs = phstats::ingest::collect_inputs(&[repo.join("sample-data/returns")]).unwrap();
    let base = Selection {
        complete: true,
        deadline_day: 5,
        ..Selection::default()
    };
    // Every month a period of its own.
    let months = run(&inputs, &registry, &schemas, base).unwrap();
    // March's summary: January and February are its trend.
    let march = run(
        &inputs,
        &registry,
        &schemas,
        Selection {
            period: Some(Period::Month(Month::new(2026, 3).unwrap())),
            indicators: true,
            ..base
        },
    )
    .unwrap();
    let drawn = phstats::indicators::trend_units(&registry);
    let names: Vec<&str> = drawn
        .iter()
        .map(|&u| registry.unit(u).name.as_str())
        .collect();
    assert_eq!(
        names[0], "青山市",
        "the city first, then its counties: {names:?}"
    );
    assert!(names.len() >= 3, "{names:?}");
    // January is only the trend's; February is also 上期, rolled up whole.
    let (jan, feb) = (
        Period::Month(Month::new(2026, 1).unwrap()),
        Period::Month(Month::new(2026, 2).unwrap()),
    );
    assert!(march.aggregates.comparison.contains(&jan));
    assert!(march.aggregates.comparison.contains(&feb));
    let (mut same, mut left_out, mut whole) = (0, 0, 0);
    for (fi, form) in schemas.forms.iter().enumerate() {
        for (k, field) in form.fields.iter().enumerate() {
            for u in 0..registry.units.len() {
                let u = u as phstats::registry::UnitIdx;
                let at = |outcome: &phstats::pipeline::Outcome, p| {
                    outcome.aggregates.get(p, u, fi as _, k as _)
                };
                let (got, want) = (at(&march, jan), at(&months, jan));
                let name = &registry.unit(u).name;
                if field.ratio.is_some() && drawn.contains(&u) {
                    assert_eq!(got, want, "{jan} {name} {}", field.id);
                    same += usize::from(want.is_some());
                } else {
                    assert_eq!(got, None, "{jan} {name} {}", field.id);
                    left_out += usize::from(want.is_some());
                }
                let (got, want) = (at(&march, feb), at(&months, feb));
                assert_eq!(got, want, "{feb} {name} {}", field.id);
                whole += usize::from(want.is_some());
            }
        }
    }
    assert!(whole > 1_000, "{whole} figures of 上期");
    assert!(same > 20, "{same} rates drawn");
    assert!(left_out > 1_000, "{left_out} figures not rolled up");
}
