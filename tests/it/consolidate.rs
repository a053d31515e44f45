//! `phstats consolidate` end to end: generated returns in every layout
//! variant against the generator's truth, hand-computed quarter figures
//! where the wrong semantics would give another answer, and a fourth form
//! defined only by a test schema.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::util::{self, Dir, V};

/// FORMS.md §3 restated independently of the engine: stock fields, and
/// rates as (rate, numerator, minus, denominator).
fn is_stock(form: &str, field: &str) -> bool {
    match form {
        "family_doctor" => field != "services",
        "chronic_disease" => {
            field == "pop_35plus"
                || ["_managed", "_standard", "_controlled"]
                    .iter()
                    .any(|s| field.ends_with(s))
        }
        _ => false,
    }
}

fn rates() -> Vec<(&'static str, String, String, Option<String>, String)> {
    let mut v = Vec::new();
    // The 22 doses of FORMS.md §3.1, written out here rather than read
    // from the schema: the oracle is independent of what it checks.
    for d in [
        "hepb1", "hepb2", "hepb3", "bcg", "ipv1", "ipv2", "bopv1", "bopv2", "dtap1", "dtap2",
        "dtap3", "dtap4", "dt", "mmr1", "mmr2", "je1", "je2", "mena1", "mena2", "menac1", "menac2",
        "hepa",
    ] {
        v.push((
            "vaccination",
            format!("{d}_rate"),
            format!("{d}_given"),
            None,
            format!("{d}_due"),
        ));
    }
    v.push((
        "vaccination",
        "hepb1_timely_rate".into(),
        "hepb1_timely".into(),
        None,
        "hepb1_given".into(),
    ));
    v.push((
        "vaccination",
        "dtap_dropout".into(),
        "dtap1_given".into(),
        Some("dtap3_given".into()),
        "dtap1_given".into(),
    ));
    v.push((
        "family_doctor",
        "signing_rate".into(),
        "signed".into(),
        None,
        "resident_pop".into(),
    ));
    v.push((
        "family_doctor",
        "key_signing_rate".into(),
        "key_signed".into(),
        None,
        "key_pop".into(),
    ));
    // The ten key groups of FORMS.md §3.2.
    for g in [
        "elderly", "maternal", "child", "htn", "dm", "tb", "smi", "disabled", "poor", "fpsf",
    ] {
        v.push((
            "family_doctor",
            format!("{g}_signing_rate"),
            format!("{g}_signed"),
            None,
            format!("{g}_pop"),
        ));
    }
    for x in ["htn", "dm"] {
        v.push((
            "chronic_disease",
            format!("{x}_standard_rate"),
            format!("{x}_standard"),
            None,
            format!("{x}_managed"),
        ));
        v.push((
            "chronic_disease",
            format!("{x}_control_rate"),
            format!("{x}_controlled"),
            None,
            format!("{x}_managed"),
        ));
    }
    v
}

type Key = (String, String, String, String); // period, form, unit, field

/// Expected aggregates from `truth.csv` by straight sums: per village,
/// flows summed over the period's months and stocks taken from its last
/// month with a value; every ancestor sums its villages; rates last, each
/// from its numerator and denominator summed over the villages that
/// reported both (FORMS.md §5).
pub fn expected_from_truth(dir: &Path) -> HashMap<Key, f64> {
    let units: HashMap<String, String> = util::read_csv(&dir.join("units.csv"))
        .into_iter()
        .map(|r| (r["code"].clone(), r["parent_code"].clone()))
        .collect();
    let up = |unit: &str| {
        let mut chain = vec![unit.to_string()];
        while let Some(p) = units.get(chain.last().unwrap()).filter(|p| !p.is_empty()) {
            chain.push(p.clone());
        }
        chain
    };
    let mut series: BTreeMap<(String, String, String), Vec<(String, f64)>> = BTreeMap::new();
    for r in util::read_csv(&dir.join("truth.csv")) {
        series
            .entry((
                r["form"].clone(),
                r["unit_code"].clone(),
                r["field"].clone(),
            ))
            .or_default()
            .push((r["month"].clone(), r["value"].parse().unwrap()));
    }
    // (period, form, unit, field) → the unit's value for the period and,
    // for a stock, the month it comes from
    let mut leaf: HashMap<Key, f64> = HashMap::new();
    let mut month_of: HashMap<Key, String> = HashMap::new();
    for ((form, unit, field), pts) in &series {
        let mut pts = pts.clone();
        pts.sort_by(|a, b| a.0.cmp(&b.0));
        let mut per_period: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
        for (m, v) in &pts {
            let (y, mo) = m.split_once('-').unwrap();
            let q = (mo.parse::<u32>().unwrap() - 1) / 3 + 1;
            for p in [m.clone(), format!("{y}Q{q}"), y.to_string()] {
                per_period.entry(p).or_default().push((m.clone(), *v));
            }
        }
        for (p, vals) in per_period {
            let key = (p, form.clone(), unit.clone(), field.clone());
            let v = if is_stock(form, field) {
                let (m, v) = vals.last().unwrap().clone();
                month_of.insert(key.clone(), m);
                v
            } else {
                vals.iter().map(|x| x.1).sum()
            };
            leaf.insert(key, v);
        }
    }
    // A stock reported for a unit (a county summary's township row) and for
    // units below it in one period: the later source counts, the detail on a tie.
    let mut dropped = Vec::new();
    for (k, m) in &month_of {
        for a in up(&k.2).into_iter().skip(1) {
            let ak = (k.0.clone(), k.1.clone(), a, k.3.clone());
            if let Some(am) = month_of.get(&ak) {
                dropped.push(if am > m { k.clone() } else { ak });
            }
        }
    }
    for k in dropped {
        leaf.remove(&k);
    }
    let mut exp: HashMap<Key, f64> = HashMap::new();
    for ((p, form, unit, field), v) in &leaf {
        for u in up(unit) {
            *exp.entry((p.clone(), form.clone(), u, field.clone()))
                .or_default() += v;
        }
    }
    // Rates (FORMS.md §5): each leaf's pairs month by month, a month
    // counting only where every part was reported; flows summed over the
    // period's months, a stock's pair from its latest such month; one
    // source per subtree for a stock, as above; then summed up the chain.
    let mut sides: HashMap<Key, (f64, f64)> = HashMap::new();
    for (form, rate, num, minus, den) in rates() {
        let stock = is_stock(form, &den);
        // (period, unit) → (numerator, denominator, month of the pair).
        let mut pairs: BTreeMap<(String, String), (f64, f64, String)> = BTreeMap::new();
        for ((f, unit, field), pts) in &series {
            if *f != form || *field != num {
                continue;
            }
            let at = |x: &str, m: &str| {
                series
                    .get(&(f.clone(), unit.clone(), x.to_string()))
                    .and_then(|v| v.iter().find(|p| p.0 == m).map(|p| p.1))
            };
            let mut months: Vec<&(String, f64)> = pts.iter().collect();
            months.sort_by(|a, b| a.0.cmp(&b.0));
            for (m, n) in months {
                let Some(d) = at(&den, m) else { continue };
                let mv = match &minus {
                    Some(x) => match at(x, m) {
                        Some(v) => v,
                        None => continue,
                    },
                    None => 0.0,
                };
                let (y, mo) = m.split_once('-').unwrap();
                let q = (mo.parse::<u32>().unwrap() - 1) / 3 + 1;
                for p in [m.clone(), format!("{y}Q{q}"), y.to_string()] {
                    let e = pairs
                        .entry((p, unit.clone()))
                        .or_insert((0.0, 0.0, m.clone()));
                    if stock {
                        *e = (n - mv, d, m.clone());
                    } else {
                        e.0 += n - mv;
                        e.1 += d;
                    }
                }
            }
        }
        if stock {
            let mut dropped = Vec::new();
            for ((p, unit), (_, _, m)) in &pairs {
                for a in up(unit).into_iter().skip(1) {
                    if let Some((_, _, am)) = pairs.get(&(p.clone(), a.clone())) {
                        dropped.push(if am > m {
                            (p.clone(), unit.clone())
                        } else {
                            (p.clone(), a)
                        });
                    }
                }
            }
            for k in dropped {
                pairs.remove(&k);
            }
        }
        for ((p, unit), (n, d, _)) in &pairs {
            for u in up(unit) {
                let e = sides
                    .entry((p.clone(), form.to_string(), u, rate.clone()))
                    .or_default();
                e.0 += n;
                e.1 += d;
            }
        }
    }
    for (k, (n, d)) in sides {
        if d != 0.0 {
            exp.insert(k, n / d * 100.0);
        }
    }
    exp
}

fn read_aggregates(path: &Path) -> HashMap<Key, f64> {
    util::read_csv(path)
        .into_iter()
        .map(|r| {
            (
                (
                    r["period"].clone(),
                    r["form"].clone(),
                    r["unit_code"].clone(),
                    r["field"].clone(),
                ),
                r["value"].parse().unwrap(),
            )
        })
        .collect()
}

/// Every expected figure is exported, nothing else is, and each agrees:
/// counts exactly, rates within 1e-9.
pub fn assert_matches_truth(dir: &Path, aggregates_csv: &Path) {
    let exp = expected_from_truth(dir);
    let got = read_aggregates(aggregates_csv);
    let mut problems = Vec::new();
    for (k, v) in &exp {
        match got.get(k) {
            None => problems.push(format!("missing {k:?} = {v}")),
            Some(g) if (g - v).abs() > 1e-9 => {
                problems.push(format!("{k:?}: expected {v}, got {g}"))
            }
            _ => {}
        }
    }
    for k in got.keys() {
        if !exp.contains_key(k) {
            problems.push(format!("unexpected {k:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems, first: {:#?}",
        problems.len(),
        &problems[..problems.len().min(10)]
    );
    assert!(
        exp.len() > 1000,
        "the corpus is too small to mean much: {}",
        exp.len()
    );
}

#[test]
fn generated_returns_in_every_variant_match_the_truth() {
    let d = Dir::new();
    let root = d.tmp.path();
    // Four months: a full quarter, a partial one, and the year; two
    // counties, one of which sends a county summary in March, so Q1 mixes
    // sources; --xls when LibreOffice is there, so legacy files go through
    // the same check.
    let mut args = vec![
        "sample-data",
        "corpus",
        "--townships",
        "14",
        "--months",
        "4",
        "--gaps",
        "--seed",
        "7",
    ];
    let xls = util::soffice("legacy .xls returns in the generated corpus");
    if xls {
        args.extend(["--xls", "5"]);
    }
    let out = util::phstats(root, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let corpus = root.join("corpus");
    if xls {
        let xls = util::walk(&corpus.join("returns"))
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "xls"))
            .count();
        assert!(xls >= 5, "expected legacy .xls returns, found {xls}");
    }
    let consolidate = |extra: &[&str]| {
        let mut args = vec![
            "consolidate",
            "corpus/returns",
            "--units",
            "corpus/units.csv",
        ];
        args.extend_from_slice(extra);
        util::phstats(root, &args)
    };
    let out = consolidate(&["--export", "out", "-o", "report.xlsx"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_matches_truth(&corpus, &root.join("out/aggregates.csv"));
    assert!(root.join("report.xlsx").exists());
    // The generator writes consistent returns: every total, rate and
    // relation holds, so only info (empty sheets, 备注 columns) and
    // outliers of random monthly counts may be found.
    let unexpected: Vec<String> = util::read_csv(&root.join("out/findings.csv"))
        .into_iter()
        .filter(|f| f["severity"] != "info" && f["rule"] != "outlier")
        .map(|f| {
            format!(
                "{} {}!{}!{} {}",
                f["rule"], f["file"], f["sheet"], f["cell"], f["message"]
            )
        })
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
    // Every township reported every month of Q1: in March one county's
    // townships only as rows of its county summary, which counts as theirs
    // in 上报情况 (a missing row there would be the summary's finding).
    let out = consolidate(&["--period", "2026Q1", "-o", "q1.xlsx", "--quiet"]);
    assert_eq!(out.status.code(), Some(0));
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(root.join("q1.xlsx")).unwrap();
    let c = calamine::Reader::worksheet_range(&mut book, "上报情况").unwrap();
    let mut march = 0;
    for r in 3..c.height() as u32 {
        let text = |col| {
            c.get_value((r, col))
                .map(|v| v.to_string())
                .unwrap_or_default()
        };
        if text(2) != "乡镇(街道)" {
            continue;
        }
        assert_eq!(
            (c.get_value((r, 3)), text(6)),
            (Some(&calamine::Data::Float(14.0)), String::new()),
            "{} {}: every township expected and none missing",
            text(0),
            text(1)
        );
        assert_eq!(c.get_value((r, 4)), Some(&calamine::Data::Float(14.0)));
        march += usize::from(text(1).contains('3'));
    }
    assert_eq!(march, 3, "March is listed for each of the three forms");
}

/// The same truth check on a corpus big enough for parallel ingest and
/// polars' parallel group-by to matter: 60 townships, three months, 420
/// files, every month's stocks different so LAST_IN_PERIOD is exercised.
#[test]
fn several_hundred_generated_files_match_the_truth() {
    let d = Dir::new();
    let root = d.tmp.path();
    let out = util::phstats(
        root,
        &[
            "sample-data",
            "corpus",
            "--townships",
            "60",
            "--months",
            "3",
            "--gaps",
            "--seed",
            "11",
        ],
    );
    assert!(out.status.success());
    let files = util::walk(&root.join("corpus/returns")).len();
    assert!(files >= 380, "{files} files");
    let out = util::phstats(
        root,
        &[
            "consolidate",
            "corpus/returns",
            "--units",
            "corpus/units.csv",
            "--export",
            "out",
            "-o",
            "report.xlsx",
            "-q",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_matches_truth(&root.join("corpus"), &root.join("out/aggregates.csv"));
}

/// The README's first Quick start command, run as written (through the
/// binary instead of `cargo run --`), so the README cannot rot.
#[test]
fn readme_quick_start_runs() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let block = readme
        .split("## Quick start")
        .nth(1)
        .unwrap()
        .split("```sh")
        .nth(1)
        .unwrap();
    let first = block
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap();
    let args: Vec<&str> = first
        .strip_prefix("cargo run -- ")
        .unwrap()
        .split_whitespace()
        .collect();
    let out_at = args.iter().position(|a| *a == "-o").unwrap();
    assert_eq!(
        args[..out_at],
        [
            "consolidate",
            "sample-data/returns",
            "--units",
            "sample-data/units.csv"
        ]
    );
    let d = Dir::new();
    let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    args[out_at + 1] = d.path(&args[out_at + 1]).display().to_string();
    let out = util::phstats(repo, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(Path::new(&args[out_at + 1]).exists());
}

#[test]
fn committed_sample_data_consolidates_to_its_truth() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = Dir::new();
    let out = util::phstats(
        repo,
        &[
            "consolidate",
            "sample-data/returns",
            "--units",
            "sample-data/units.csv",
            "-o",
            d.path("report.xlsx").to_str().unwrap(),
            "--export",
            d.path("out").to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_matches_truth(&repo.join("sample-data"), &d.path("out/aggregates.csv"));
}

/// Three months of one township by hand. Village 东门社区 signs 800, 810,
/// 820; 新村 signs 100, 100 and does not report March. Summing the stock
/// over months would give 2,430 + 200; the quarter is 820 + 100 = 920.
/// In January 东门社区 gives 9 of 10 hepb1 doses and 新村 990 of 1,000:
/// the mean of rates is 94.5 %, the true coverage 999 / 1,010.
fn hand_fixture(d: &Dir) {
    let fd = |signed_a: f64, signed_b: Option<f64>, services_a: f64| {
        let mut b = vec![("resident_pop", V::N(1000.0)), ("services", V::N(1.0))];
        if let Some(s) = signed_b {
            b.push(("signed", V::N(s)));
        }
        vec![
            (
                "东门社区",
                vec![
                    ("resident_pop", V::N(2000.0)),
                    ("signed", V::N(signed_a)),
                    ("services", V::N(services_a)),
                ],
            ),
            ("新村", b),
        ]
    };
    let months = [
        ("2026年1月", 800.0, Some(100.0), 5.0),
        ("2026年2月", 810.0, Some(100.0), 6.0),
        ("2026年3月", 820.0, None, 7.0),
    ];
    for (i, (p, a, b, s)) in months.iter().enumerate() {
        util::write_return(
            &d.path(&format!("in/fd{i}.xlsx")),
            "family_doctor",
            "城东街道",
            Some(p),
            &fd(*a, *b, *s),
            None,
        );
    }
    util::write_return(
        &d.path("in/vac.xlsx"),
        "vaccination",
        "城东街道社区卫生服务中心",
        Some("2026-01"),
        &[
            (
                "东门社区",
                vec![
                    ("hepb1_due", V::N(10.0)),
                    ("hepb1_given", V::N(9.0)),
                    ("hepb1_rate", V::N(90.0)),
                ],
            ),
            (
                "新村",
                vec![
                    ("hepb1_due", V::N(1000.0)),
                    ("hepb1_given", V::N(990.0)),
                    ("hepb1_rate", V::N(99.0)),
                ],
            ),
        ],
        None,
    );
}

#[test]
fn quarter_takes_last_stock_sums_flows_and_recomputes_rates() {
    let d = Dir::new();
    hand_fixture(&d);
    let out = util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    // Missing columns and the unreported 新民镇 are findings, not a crash.
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let get = |p: &str, u: &str, f: &str| {
        a.get(&(p.to_string(), u.to_string(), f.to_string()))
            .copied()
    };
    let town = "439902001000";
    let city = "439900000000";
    assert_eq!(get("2026Q1", town, "signed"), Some(920.0));
    assert_eq!(get("2026Q1", city, "signed"), Some(920.0));
    assert_eq!(
        get("2026Q1", "439902001002", "signed"),
        Some(100.0),
        "新村's last value in the quarter is February's"
    );
    assert_eq!(
        get("2026-03", "439902001002", "signed"),
        None,
        "not reported is not zero"
    );
    assert_eq!(get("2026-03", town, "signed"), Some(820.0));
    assert_eq!(get("2026Q1", town, "resident_pop"), Some(3000.0));
    assert_eq!(get("2026Q1", town, "services"), Some(5.0 + 6.0 + 7.0 + 3.0));
    assert_eq!(get("2026", town, "services"), Some(21.0));
    let signing = get("2026Q1", town, "signing_rate").unwrap();
    assert!((signing - 920.0 / 3000.0 * 100.0).abs() < 1e-9, "{signing}");
    let cov = get("2026-01", town, "hepb1_rate").unwrap();
    assert!((cov - 999.0 / 1010.0 * 100.0).abs() < 1e-9, "{cov}");
    assert!((cov - 94.5).abs() > 4.0, "a mean of rates would be 94.5");
    assert_eq!(get("2026-01", town, "hepb1_due"), Some(1010.0));
    // 新民镇 reported nothing: no figure at all, not zeros.
    assert!(a.keys().all(|k| k.1 != "439902101000"));
}

#[test]
fn a_report_that_cannot_be_written_leaves_the_exports_whole() {
    let d = Dir::new();
    hand_fixture(&d);
    // The report's folder cannot be made: a file has its name.
    std::fs::write(d.path("blocked"), "not a folder").unwrap();
    let out = util::run_in(
        &d,
        "consolidate",
        &["--export", "out", "-o", "blocked/r.xlsx"],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("blocked"), "{stderr}");
    // The exports were written beside the report: each is in place, whole,
    // and no temporary file is left behind.
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let signed = a.get(&(
        "2026Q1".to_string(),
        "439902001000".to_string(),
        "signed".to_string(),
    ));
    assert_eq!(signed, Some(&920.0));
    for f in ["findings.csv", "indicators.csv"] {
        assert!(
            !util::read_csv(&d.path(&format!("out/{f}"))).is_empty(),
            "{f}"
        );
    }
    let names: Vec<String> = std::fs::read_dir(d.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    assert!(d.tmp.path().join("blocked").is_file());
}

#[test]
fn an_export_folder_that_cannot_be_made_leaves_the_report_written() {
    let d = Dir::new();
    hand_fixture(&d);
    std::fs::write(d.path("blocked"), "not a folder").unwrap();
    let out = util::run_in(&d, "consolidate", &["--export", "blocked", "-o", "r.xlsx"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("blocked"), "{stderr}");
    // The report was written all the same, and whole: it opens, with its
    // sheets and the first form's table.
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(d.path("r.xlsx")).unwrap();
    let names = calamine::Reader::sheet_names(&book);
    assert!(names.len() > 5, "{names:?}");
    let first = calamine::Reader::worksheet_range(&mut book, &names[0]).unwrap();
    assert!(first.rows().count() > 3);
}

#[test]
fn a_fourth_form_from_a_test_schema_consolidates() {
    let d = Dir::new();
    let schema = r#"
id = "tb_screening"
title = "肺结核可疑症状者筛查月报表"
short = "结核筛查"

[[fields]]
id = "suspects"
label = "可疑症状者人数"
kind = "flow"

[[fields]]
id = "screened"
label = "已筛查人数"
kind = "flow"

[[fields]]
id = "screen_rate"
label = "筛查率(%)"
kind = "rate"
numerator = "screened"
denominator = "suspects"

[[fields]]
id = "patients"
label = "在管患者数"
kind = "stock"

[[checks]]
left = "screened"
right = "suspects"
rule = "exceeds_denominator"
"#;
    std::fs::write(d.path("schemas/tb.toml"), schema).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let rows: [[&str; 5]; 5] = [
        ["填报单位：新民镇", "", "报告期：2026年2月", "", ""],
        [
            "单位名称",
            "可疑症状者人数",
            "已筛查人数",
            "筛查率(%)",
            "在管患者数（人）",
        ],
        ["新村", "20", "18", "90.0", "3"],
        ["红旗村", "30", "33", "110", "4"],
        ["合计", "50", "51", "102", "7"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    wb.save(d.path("in/tb.xlsx")).unwrap();
    let out = util::run_in(
        &d,
        "consolidate",
        &["--schemas", "schemas", "--export", "out", "-o", "r.xlsx"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "33 screened of 30 suspects is an error: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let get = |f: &str| {
        a.get(&(
            "2026-02".to_string(),
            "439902101000".to_string(),
            f.to_string(),
        ))
        .copied()
    };
    assert_eq!(get("suspects"), Some(50.0));
    assert_eq!(get("screened"), Some(51.0));
    assert_eq!(get("patients"), Some(7.0));
    assert!((get("screen_rate").unwrap() - 51.0 / 50.0 * 100.0).abs() < 1e-9);
    let findings = util::read_csv(&d.path("out/findings.csv"));
    assert!(findings.iter().any(|f| f["rule"] == "exceeds_denominator"
        && f["cell"] == "C4"
        && f["form"] == "tb_screening"));
}

/// A county's summary listing its townships, sent alongside one township's
/// own village-by-village return: that township is counted once, from its
/// villages; the other township from the summary.
#[test]
fn a_county_summary_and_township_detail_are_not_counted_twice() {
    let d = Dir::new();
    let fd = "family_doctor";
    util::write_return(
        &d.path("in/东湖区.xlsx"),
        fd,
        "东湖区",
        Some("2026-01"),
        &[
            (
                "城东街道",
                vec![("resident_pop", V::N(999.0)), ("signed", V::N(500.0))],
            ),
            (
                "新民镇",
                vec![("resident_pop", V::N(300.0)), ("signed", V::N(120.0))],
            ),
        ],
        None,
    );
    util::write_return(
        &d.path("in/城东街道.xlsx"),
        fd,
        "城东街道",
        Some("2026-01"),
        &[
            (
                "东门社区",
                vec![("resident_pop", V::N(400.0)), ("signed", V::N(200.0))],
            ),
            (
                "新村",
                vec![("resident_pop", V::N(600.0)), ("signed", V::N(290.0))],
            ),
        ],
        None,
    );
    let out = util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    assert_eq!(out.status.code(), Some(1), "the overlap is an error");
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let get = |unit: &str, field: &str| {
        a.get(&("2026-01".into(), unit.into(), field.into()))
            .copied()
    };
    assert_eq!(
        get("439902001000", "resident_pop"),
        Some(1000.0),
        "from its villages, not 999"
    );
    assert_eq!(
        get("439902101000", "resident_pop"),
        Some(300.0),
        "from the summary"
    );
    assert_eq!(
        get("439902000000", "resident_pop"),
        Some(1300.0),
        "each counted once"
    );
    assert_eq!(get("439902000000", "signed"), Some(610.0));
    let f = util::read_csv(&d.path("out/findings.csv"));
    let dup: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "duplicate_return")
        .collect();
    assert_eq!(dup.len(), 1, "{f:#?}");
    assert!(dup[0]["file"].ends_with("东湖区.xlsx"));
    assert_eq!(dup[0]["cell"], "B5");
    assert_eq!(dup[0]["unit_code"], "439902001000");
    assert!(
        dup[0]["message"].contains("城东街道.xlsx"),
        "{}",
        dup[0]["message"]
    );
}

/// A county bureau keeps its own registry, rooted at the county: its
/// townships are all that is expected, and the report is the county's.
#[test]
fn a_county_registry_consolidates_the_county() {
    let d = Dir::new();
    let county: String = util::UNITS
        .lines()
        .filter(|l| !l.contains("青山市"))
        .map(|l| {
            l.replace(
                "439902000000,东湖区,county,439900000000,",
                "439902000000,东湖区,county,,",
            ) + "\n"
        })
        .collect();
    std::fs::write(d.path("county.csv"), county).unwrap();
    for (town, villages) in [
        ("城东街道", ["东门社区", "新村"]),
        ("新民镇", ["新村", "红旗村"]),
    ] {
        util::write_return(
            &d.path(&format!("in/{town}.xlsx")),
            "family_doctor",
            town,
            Some("2026-03"),
            &villages
                .iter()
                .map(|v| {
                    (
                        *v,
                        vec![("resident_pop", V::N(100.0)), ("signed", V::N(50.0))],
                    )
                })
                .collect::<Vec<_>>(),
            None,
        );
    }
    let out = util::phstats(
        d.tmp.path(),
        &[
            "consolidate",
            "in",
            "--units",
            "county.csv",
            "--export",
            "out",
            "-o",
            "r.xlsx",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    assert_eq!(
        a.get(&(
            "2026-03".into(),
            "439902000000".into(),
            "resident_pop".into()
        )),
        Some(&400.0)
    );
    assert!(
        !a.keys().any(|k| k.1 == "439900000000"),
        "no city above the county"
    );
    let f = util::read_csv(&d.path("out/findings.csv"));
    assert!(!f.iter().any(|x| x["rule"] == "missing_return"), "{f:#?}");
    use calamine::Reader as _;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(d.path("r.xlsx")).unwrap();
    let first = wb.sheet_names()[0].clone();
    let sheet = wb.worksheet_range(&first).unwrap();
    // The title: the first text of row 1 (beside 单位名称 on a sheet split
    // by dose, which repeats that column on every page).
    let title = (0..sheet.width() as u32)
        .filter_map(|c| sheet.get_value((0, c)))
        .map(ToString::to_string)
        .find(|t| !t.is_empty())
        .unwrap_or_default();
    assert!(title.starts_with("东湖区"), "{title}");
}

/// FORMS.md §5, hand-computed: a rate pairs its two sides at each leaf
/// month by month. 红旗村 left April's 实种 empty: its April 应种 still
/// counts in the quarter's 应种, but April is out of its 接种率. And a
/// stock rate whose sides were last reported in different months takes the
/// latest month in which both were.
#[test]
fn a_rate_pairs_its_sides_by_leaf_and_month() {
    let d = Dir::new();
    // (month, 新村 due/given, 红旗村 due/given).
    // (month, 新村's pair, 红旗村's pair); a side left empty is None.
    type Month2 = (u32, (f64, Option<f64>), (f64, Option<f64>));
    let vac: [Month2; 3] = [
        (4, (10.0, Some(8.0)), (20.0, None)),
        (5, (10.0, Some(9.0)), (10.0, Some(10.0))),
        (6, (10.0, Some(10.0)), (10.0, Some(8.0))),
    ];
    for (m, a, b) in vac {
        let row = |(due, given): (f64, Option<f64>)| {
            let mut v = vec![("hepb1_due", V::N(due))];
            if let Some(g) = given {
                v.push(("hepb1_given", V::N(g)));
            }
            v
        };
        util::write_return(
            &d.path(&format!("in/新民镇_免疫_{m}.xlsx")),
            "vaccination",
            "新民镇",
            Some(&format!("2026-{m:02}")),
            &[("新村", row(a)), ("红旗村", row(b))],
            None,
        );
    }
    // (month, 新村 resident/signed, 红旗村 resident/signed).
    let fd: [Month2; 3] = [
        (4, (100.0, Some(40.0)), (50.0, Some(20.0))),
        (5, (100.0, None), (50.0, Some(25.0))),
        (6, (110.0, None), (50.0, Some(30.0))),
    ];
    for (m, a, b) in fd {
        let row = |(pop, signed): (f64, Option<f64>)| {
            let mut v = vec![("resident_pop", V::N(pop))];
            if let Some(s) = signed {
                v.push(("signed", V::N(s)));
            }
            v
        };
        util::write_return(
            &d.path(&format!("in/新民镇_家医_{m}.xlsx")),
            "family_doctor",
            "新民镇",
            Some(&format!("2026-{m:02}")),
            &[("新村", row(a)), ("红旗村", row(b))],
            None,
        );
    }
    let out = util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    assert!(
        out.status.code().unwrap() < 2,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let get = |unit: &str, field: &str| {
        a.get(&("2026Q2".into(), unit.into(), field.into()))
            .copied()
    };
    let (xm, xc, hq) = ("439902101000", "439902101201", "439902101202");
    // 应种 counts every month reported: 30 + 40.
    assert_eq!(get(xm, "hepb1_due"), Some(70.0));
    assert_eq!(get(xm, "hepb1_given"), Some(45.0));
    // 新村 27/30; 红旗村 (May, June) 18/20; 新民镇 45/50. Paired over the
    // quarter instead, 红旗村 would be 18/40 = 45 % and 新民镇 64.3 %.
    assert_eq!(get(xc, "hepb1_rate"), Some(90.0));
    assert_eq!(get(hq, "hepb1_rate"), Some(90.0));
    assert_eq!(get(xm, "hepb1_rate"), Some(90.0));
    // Stocks: 新村's latest 常住人口 is June's 110, its latest 签约 April's
    // 40; its rate is April's pair, 40/100. 新民镇: (40 + 30)/(100 + 50).
    assert_eq!(get(xc, "resident_pop"), Some(110.0));
    assert_eq!(get(xc, "signed"), Some(40.0));
    assert_eq!(get(xc, "signing_rate"), Some(40.0));
    assert_eq!(get(hq, "signing_rate"), Some(60.0));
    assert_eq!(get(xm, "resident_pop"), Some(160.0));
    let rate = get(xm, "signing_rate").unwrap();
    assert!((rate - 70.0 / 150.0 * 100.0).abs() < 1e-9, "{rate}");
}

/// An output is never silently replaced (issue 30): the report is named for
/// its period by default, a second run that would replace it exits 2 with
/// nothing written, and `--force` replaces it.
#[test]
fn a_report_is_named_for_its_period_and_replaced_only_with_force() {
    let d = Dir::new();
    hand_fixture(&d);
    let run = |extra: &[&str]| {
        let mut args = vec!["--period", "2026Q1", "--export", "out"];
        args.extend_from_slice(extra);
        util::run_in(&d, "consolidate", &args)
    };
    let out = run(&[]);
    assert!(
        out.status.code().unwrap() < 2,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let book = d.path("汇总表_2026Q1.xlsx");
    assert!(book.is_file(), "{}", String::from_utf8_lossy(&out.stdout));
    let before = std::fs::read(&book).unwrap();
    std::fs::remove_dir_all(d.path("out")).unwrap();
    let out = run(&[]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("汇总表_2026Q1.xlsx 已经存在") && said.contains("--force"),
        "{said}"
    );
    assert_eq!(std::fs::read(&book).unwrap(), before);
    assert!(!d.path("out").exists(), "nothing written");
    let out = run(&["--force"]);
    assert!(
        out.status.code().unwrap() < 2,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(d.path("out/aggregates.csv").exists());
}

/// `--scope` cuts the registry, never the figures: every aggregate of a
/// scoped run equals the whole registry's of the same unit, and the scoped
/// run has every one of its units' (the committed sample, each county and
/// two of 东湖区's townships, the quarter; not a township of 西岭县, whose
/// March came in the county's summary, a file from above such a scope that
/// a scoped run leaves out). Scoped to 西岭县, the sheets of 南城镇's
/// workbook of a sheet a village (南城镇 is 东湖区's) whose villages share a
/// name with 北城镇's were read as 北城镇's: 989 of its 6,925 aggregates were
/// wrong, and the others' sheets were `unknown_unit` errors.
/// `consolidate` of the committed sample for `period`, scoped to `scope`
/// where there is one, exporting to `out/` and writing `out.xlsx` in `d`.
fn consolidate_sample(
    d: &Dir,
    period: &str,
    scope: Option<&str>,
    out: &str,
) -> std::process::Output {
    let export = d.path(out);
    let report = d.path(&format!("{out}.xlsx"));
    let mut args = vec![
        "consolidate",
        "sample-data/returns",
        "--units",
        "sample-data/units.csv",
        "--period",
        period,
        "--export",
        export.to_str().unwrap(),
        "-o",
        report.to_str().unwrap(),
    ];
    if let Some(s) = scope {
        args.extend(["--scope", s]);
    }
    util::phstats(Path::new(env!("CARGO_MANIFEST_DIR")), &args)
}

#[test]
fn a_scoped_run_has_the_whole_registrys_figures_of_its_units() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = Dir::new();
    let run = |scope: Option<&str>, out: &str| {
        let o = consolidate_sample(&d, "2026Q1", scope, out);
        assert!(
            o.status.code().unwrap() < 2,
            "{scope:?}: {}",
            util::text(&o)
        );
        let said = util::text(&o);
        let rows: HashMap<(String, String, String), String> =
            util::read_csv(&d.path(&format!("{out}/aggregates.csv")))
                .into_iter()
                .map(|r| {
                    (
                        (
                            r["period"].clone(),
                            r["unit_code"].clone(),
                            r["field"].clone(),
                        ),
                        r["value"].clone(),
                    )
                })
                .collect();
        (rows, said)
    };
    let (whole, _) = run(None, "whole");
    // (code, name, parent code) of each unit of the registry.
    let registry: Vec<(String, String, String)> =
        util::read_csv(&repo.join("sample-data/units.csv"))
            .into_iter()
            .map(|u| {
                (
                    u["code"].clone(),
                    u["name"].clone(),
                    u["parent_code"].clone(),
                )
            })
            .collect();
    for scope in ["西岭县", "东湖区", "东城街道", "南城镇"] {
        let (scoped, said) = run(Some(scope), scope);
        assert!(!said.contains("unknown_unit"), "{scope}: {said}");
        // The scope's units: itself and every unit below it.
        let mut units: std::collections::HashSet<&String> = registry
            .iter()
            .filter(|u| u.1 == scope)
            .map(|u| &u.0)
            .collect();
        loop {
            let below: Vec<&String> = registry
                .iter()
                .filter(|u| units.contains(&u.2) && !units.contains(&u.0))
                .map(|u| &u.0)
                .collect();
            if below.is_empty() {
                break;
            }
            units.extend(below);
        }
        assert!(units.len() > 1, "{scope}");
        let of_units: HashMap<&(String, String, String), &String> =
            whole.iter().filter(|(k, _)| units.contains(&k.1)).collect();
        assert_eq!(of_units.len(), scoped.len(), "{scope}");
        let wrong: Vec<_> = scoped
            .iter()
            .filter(|(k, v)| of_units.get(k) != Some(v))
            .take(5)
            .collect();
        assert!(wrong.is_empty(), "{scope}: {wrong:?}");
        // Nor are the blank sheets of workbooks from outside it listed.
        let mut blank: Vec<String> = util::read_csv(&d.path(&format!("{scope}/findings.csv")))
            .into_iter()
            .filter(|f| f["rule"] == "no_return_found")
            .map(|f| f["file"].rsplit('/').next().unwrap().to_string())
            .collect();
        blank.sort();
        let want: &[&str] = match scope {
            "西岭县" => &["新城乡202601.xlsx", "西城街道202602.xlsx"],
            "东湖区" => &[
                "东城街道202603.xlsx",
                "中城乡202602.xlsx",
                "南城镇202601.xlsx",
            ],
            "东城街道" => &["东城街道202603.xlsx"],
            _ => &["南城镇202601.xlsx"],
        };
        assert_eq!(blank, want, "{scope}");
    }
}

/// A return of a unit above `--scope` (西岭县's March summary, listing
/// 北城镇 among its townships) is left out like every return from outside
/// the scope (FORMS.md §6), but never silently: its figures of the scope's
/// units are missing from the scoped quarter, so the terminal warns and
/// names it, the workbook's 说明 says it, and a month whose only return of
/// the scope was that summary is refused saying so (it was refused as if
/// the month held nothing). The same from a store. A scope with no unit
/// above it in the files (东湖区, no city summary) says nothing of it.
#[test]
fn a_summary_from_above_the_scope_is_left_out_and_said() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = Dir::new();
    let consolidate = |period: &str, scope: &str, out: &str| {
        consolidate_sample(&d, period, Some(scope).filter(|s| !s.is_empty()), out)
    };
    let summary = "西岭县_2026年3月_免疫_汇总.xls";
    let o = consolidate("2026Q1", "北城镇", "q1");
    let said = util::text(&o);
    assert_eq!(o.status.code(), Some(0), "{said}");
    let warned: Vec<&str> = said.lines().filter(|l| l.contains("上级单位")).collect();
    assert_eq!(warned.len(), 1, "{said}");
    assert!(
        warned[0].starts_with("   警告 其中 3 份是上级单位（西岭县）的报表")
            && warned[0].contains(summary)
            && warned[0].contains("请以 --scope 西岭县 汇总"),
        "{said}"
    );
    // The quarter has 北城镇's January and February, not the summary's
    // March: what the warning says.
    let o = consolidate("2026Q1", "", "whole");
    assert_eq!(o.status.code(), Some(0), "{}", util::text(&o));
    let whole = util::aggregates(&d.path("whole/aggregates.csv"));
    let scoped = util::aggregates(&d.path("q1/aggregates.csv"));
    let key = |p: &str| {
        (
            p.to_string(),
            "439902101000".to_string(),
            "hepb1_due".to_string(),
        )
    };
    let months = whole[&key("2026-01")] + whole[&key("2026-02")];
    assert!(whole[&key("2026-03")] > 0.0);
    assert_eq!(scoped[&key("2026Q1")], months);
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(d.path("q1.xlsx")).unwrap();
    let notes = wb.worksheet_range("说明").unwrap();
    // The long line printed inside the table: its text spans the list's
    // five columns, wrapped (it ran past the table's edge).
    let (r0, _) = notes.start().unwrap();
    let row = r0
        + notes
            .rows()
            .position(|r| r.first() == Some(&calamine::Data::String("读入文件".into())))
            .unwrap() as u32;
    let merges = wb.merge_cells_by_sheet_name("说明").unwrap();
    assert!(
        merges
            .iter()
            .any(|m| m.start == (row, 1) && m.end == (row, 5)),
        "{merges:?}"
    );
    assert!(
        notes
            .rows()
            .flatten()
            .any(|c| matches!(c, calamine::Data::String(t)
            if t.contains("其中 3 份是上级单位（西岭县）的报表") && t.contains(summary))),
        "说明: {:?}",
        notes.rows().collect::<Vec<_>>()
    );
    // March alone: the summary was the scope's only return of it.
    let o = consolidate("2026-03", "北城镇", "m3");
    let said = util::text(&o);
    assert_eq!(o.status.code(), Some(2), "{said}");
    assert!(
        said.contains("没有2026年3月的报表")
            && said.contains("3 份是上级单位（西岭县）的报表")
            && said.contains("请以 --scope 西岭县 汇总"),
        "{said}"
    );
    // 西岭县 itself reads its summary; 东湖区 has none above it.
    for scope in ["西岭县", "东湖区"] {
        let o = consolidate("2026Q1", scope, scope);
        let said = util::text(&o);
        assert_eq!(o.status.code(), Some(0), "{said}");
        assert!(!said.contains("上级单位"), "{scope}: {said}");
    }
    // From a store, the same.
    let o = util::phstats(
        repo,
        &[
            "ingest",
            "sample-data/returns",
            "--units",
            "sample-data/units.csv",
            "--store",
            d.path("db").to_str().unwrap(),
            "-q",
        ],
    );
    assert!(o.status.code().unwrap() < 2, "{}", util::text(&o));
    let o = util::phstats(
        repo,
        &[
            "report",
            "--store",
            d.path("db").to_str().unwrap(),
            "--scope",
            "北城镇",
            "--period",
            "2026Q1",
            "-o",
            d.path("s.xlsx").to_str().unwrap(),
        ],
    );
    let said = util::text(&o);
    assert_eq!(o.status.code(), Some(0), "{said}");
    assert!(
        said.contains("   警告 其中 3 份是上级单位（西岭县）的报表") && said.contains(summary),
        "{said}"
    );
}

/// A township's own report (`--scope` a township): its charts have no
/// county above it and draw the township itself; the workbook used to fail
/// with "Chart must contain at least one series".
#[test]
fn a_township_scope_gets_its_report_and_charts() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = Dir::new();
    let report = d.path("r.xlsx");
    let out = util::phstats(
        repo,
        &[
            "consolidate",
            "sample-data/returns",
            "--units",
            "sample-data/units.csv",
            "--scope",
            "东城街道",
            "--period",
            "2026Q1",
            "-o",
            report.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.code().unwrap() < 2,
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let charts_zip = zip::ZipArchive::new(std::fs::File::open(&report).unwrap()).unwrap();
    let charts = charts_zip
        .file_names()
        .filter(|n| n.as_ref().is_ok_and(|n| n.starts_with("xl/charts/chart")))
        .count();
    assert!(charts >= 2, "bars and a trend per headline rate: {charts}");
    // Printed one page wide, the charts only, one to a row (issue 29): a
    // print area on 图表 from A to O, the data blocks beside it unprinted.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&report).unwrap()).unwrap();
    let mut book = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/workbook.xml").unwrap(), &mut book).unwrap();
    assert!(
        book.contains("_xlnm.Print_Area") && book.contains("图表!$A$1:$O$"),
        "{book}"
    );
}

/// Issue 28: a province that uses 乙脑灭活疫苗 (four doses) adapts the form
/// by editing its schema file, no code: a return carrying only the new
/// fourth dose is read, rolled up and rated, its absent groups are one
/// `missing_column` warning, and the template gains the columns.
#[test]
fn schema_edit_a_fourth_je_dose_is_read_rolled_up_and_templated() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("schemas")).unwrap();
    let builtin = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas");
    for f in ["vaccination", "family_doctor", "chronic_disease"] {
        let mut text = std::fs::read_to_string(format!("{builtin}/{f}.toml")).unwrap();
        if f == "vaccination" {
            for k in 1..=4 {
                text.push_str(&format!(
                    "\n[[fields]]\nid = \"jei{k}_due\"\ngroup = \"乙脑灭活疫苗第{k}剂\"\nlabel = \"应种人数\"\nkind = \"flow\"\n\n[[fields]]\nid = \"jei{k}_given\"\ngroup = \"乙脑灭活疫苗第{k}剂\"\nlabel = \"实种人数\"\nkind = \"flow\"\n\n[[fields]]\nid = \"jei{k}_rate\"\ngroup = \"乙脑灭活疫苗第{k}剂\"\nlabel = \"接种率(%)\"\nkind = \"rate\"\nnumerator = \"jei{k}_given\"\ndenominator = \"jei{k}_due\"\n\n[[checks]]\nleft = \"jei{k}_given\"\nright = \"jei{k}_due\"\nrule = \"given_exceeds_due\"\n\n[[targets]]\nfield = \"jei{k}_rate\"\nmin = 90.0\n"
                ));
            }
        }
        std::fs::write(d.path(&format!("schemas/{f}.toml")), text).unwrap();
    }
    // A return of the fourth dose alone, headers joined in one row.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
    ws.write(1, 0, "填报单位：城东街道").unwrap();
    ws.write(1, 3, "报告期：2026年1月").unwrap();
    for (c, h) in [
        "序号",
        "单位名称",
        "乙脑灭活疫苗第4剂应种人数",
        "乙脑灭活疫苗第4剂实种人数",
        "乙脑灭活疫苗第4剂接种率(%)",
    ]
    .iter()
    .enumerate()
    {
        ws.write(2, c as u16, *h).unwrap();
    }
    for (r, (name, due, given)) in [("东门社区", 10.0, 9.0), ("新村", 20.0, 18.0)]
        .iter()
        .enumerate()
    {
        let r = 3 + r as u32;
        ws.write(r, 0, (r - 2) as f64).unwrap();
        ws.write(r, 1, *name).unwrap();
        ws.write(r, 2, *due).unwrap();
        ws.write(r, 3, *given).unwrap();
        ws.write(r, 4, given / due * 100.0).unwrap();
    }
    std::fs::create_dir_all(d.path("in")).unwrap();
    wb.save(d.path("in/城东街道.xlsx")).unwrap();
    let out = util::phstats(
        d.tmp.path(),
        &[
            "check",
            "in/城东街道.xlsx",
            "--units",
            "units.csv",
            "--schemas",
            "schemas",
            "--export",
            "out",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", util::text(&out));
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let get = |unit: &str, field: &str| a.get(&("2026-01".into(), unit.into(), field.into()));
    assert_eq!(get("439902001000", "jei4_due"), Some(&30.0));
    assert_eq!(get("439902001000", "jei4_given"), Some(&27.0));
    assert_eq!(get("439902001000", "jei4_rate"), Some(&90.0));
    assert_eq!(get("439900000000", "jei4_given"), Some(&27.0));
    // The other 26 groups are absent: one warning for the return, naming them.
    let f = util::read_csv(&d.path("out/findings.csv"));
    let missing: Vec<_> = f.iter().filter(|x| x["rule"] == "missing_column").collect();
    assert_eq!(missing.len(), 1, "{missing:#?}");
    assert_eq!(missing[0]["severity"], "warning");
    assert!(
        missing[0]["message"].contains("乙肝疫苗第1剂"),
        "{missing:#?}"
    );
    assert!(!f.iter().any(|x| x["severity"] == "error"), "{f:#?}");
    // The template gains the four doses.
    let out = util::phstats(
        d.tmp.path(),
        &[
            "template",
            "--units",
            "units.csv",
            "--period",
            "2026-02",
            "-o",
            "tpl",
            "--schemas",
            "schemas",
            "--form",
            "vaccination",
            "--unit",
            "城东街道",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", util::text(&out));
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook(d.path("tpl/城东街道_2026年2月_免疫.xlsx")).unwrap();
    use calamine::Reader as _;
    let sheet = book.worksheet_range("免疫").unwrap();
    let texts: Vec<String> = sheet.cells().map(|(_, _, v)| v.to_string()).collect();
    for k in 1..=4 {
        assert!(
            texts.iter().any(|t| t == &format!("乙脑灭活疫苗第{k}剂")),
            "{k}"
        );
    }
}

/// A county's return listing its townships' villages, and a township's own
/// return of the same villages: every service counted once, from the
/// township's (the nearer source), and each village row of the county's
/// named as a `duplicate_return`.
#[test]
fn a_county_village_list_and_a_townships_own_return_count_each_village_once() {
    let d = Dir::new();
    let fd = "family_doctor";
    let row = |name, services: f64| {
        (
            name,
            vec![("resident_pop", V::N(100.0)), ("services", V::N(services))],
        )
    };
    util::write_return(
        &d.path("in/东湖区.xlsx"),
        fd,
        "东湖区",
        Some("2026-01"),
        &[
            ("城东街道", vec![]),
            row("东门社区", 30.0),
            row("新村", 20.0),
            ("新民镇", vec![]),
            row("新村", 7.0),
            row("红旗村", 5.0),
        ],
        None,
    );
    util::write_return(
        &d.path("in/城东街道.xlsx"),
        fd,
        "城东街道",
        Some("2026-01"),
        &[row("东门社区", 30.0), row("新村", 20.0)],
        None,
    );
    let out = util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    assert_eq!(out.status.code(), Some(1), "the overlap is an error");
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let get = |unit: &str| {
        a.get(&("2026-01".into(), unit.into(), "services".into()))
            .copied()
    };
    assert_eq!(get("439902001001"), Some(30.0), "not 60");
    assert_eq!(get("439902001000"), Some(50.0));
    assert_eq!(get("439902101000"), Some(12.0));
    assert_eq!(get("439902000000"), Some(62.0));
    let f = util::read_csv(&d.path("out/findings.csv"));
    let dup: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "duplicate_return")
        .collect();
    assert_eq!(dup.len(), 2, "{dup:#?}");
    for (x, cell) in dup.iter().zip(["B6", "B7"]) {
        assert!(x["file"].ends_with("东湖区.xlsx"));
        assert_eq!(x["cell"], cell);
        assert!(x["message"].contains("城东街道.xlsx"), "{}", x["message"]);
    }
}
