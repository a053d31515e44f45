//! The store (FORMS.md §7): months ingested one at a time with a correction,
//! an identical copy and a duplicate in between; history, figures in force
//! and trace against hand-computed expectations; the store read back by
//! polars alone; a crash mid-ingest; a report from the store equal to
//! consolidate's.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;

use crate::util::{self, family, family_services, text, Dir, V};

const CD: &str = "439902001000"; // 城东街道
const XM: &str = "439902101000"; // 新民镇

/// 城东街道's family-doctor return of `month` at `file`: 东门社区 1000
/// residents, 400 signed; 新村 500, 100.
fn city_east(d: &Dir, file: &str, month: u32) {
    family(
        d,
        file,
        "城东街道",
        month,
        &[("东门社区", 1000.0, 400.0), ("新村", 500.0, 100.0)],
    );
}

/// [`city_east`]'s January return, `jan/城东街道202601.xlsx`.
fn city_east_january(d: &Dir) {
    city_east(d, "jan/城东街道202601.xlsx", 1);
}

fn ingest(d: &Dir, input: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["ingest", input, "--units", "units.csv", "--store", "db"];
    args.extend_from_slice(extra);
    util::phstats(d.tmp.path(), &args)
}

/// The sum of `field` over the figures in force, read with polars alone:
/// the manifest's generation, its submissions, the observation parts.
fn polars_sum(store: &Path, field: &str, month: &str) -> f64 {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(store.join("manifest.json")).unwrap())
            .unwrap();
    let generation = manifest["generation"].as_u64().unwrap();
    let subs = LazyFrame::scan_parquet(
        PlRefPath::new(format!(
            "{}/submissions/generation={generation}/submissions.parquet",
            store.display()
        )),
        ScanArgsParquet::default(),
    )
    .unwrap()
    .filter(col("status").eq(lit("in_force")))
    .select([col("submission_id")]);
    // The partitions (city=…/month=…) are columns, as DuckDB's
    // hive_partitioning reads them.
    let hive = ScanArgsParquet {
        hive_options: HiveOptions {
            enabled: Some(true),
            hive_start_idx: 0,
            schema: None,
            try_parse_dates: false,
        },
        ..ScanArgsParquet::default()
    };
    let obs = LazyFrame::scan_parquet(
        PlRefPath::new(format!("{}/observations/**/*.parquet", store.display())),
        hive,
    )
    .unwrap();
    let df = obs
        .join(
            subs,
            [col("submission_id")],
            [col("submission_id")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("field").eq(lit(field)).and(col("month").eq(lit(month))))
        .select([col("value").sum()])
        .collect()
        .unwrap();
    df.column("value")
        .unwrap()
        .f64()
        .unwrap()
        .get(0)
        .unwrap_or(0.0)
}

#[test]
fn months_ingested_one_at_a_time_keep_their_history() {
    let d = Dir::new();
    city_east_january(&d);
    family(
        &d,
        "jan/新民镇202601.xlsx",
        "新民镇",
        1,
        &[("新村", 300.0, 30.0), ("红旗村", 200.0, 20.0)],
    );
    let out = ingest(&d, "jan", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The same content again changes nothing.
    let out = ingest(&d, "jan", &[]);
    assert!(
        text(&out).contains("内容已在数据库中，未作改动"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("现为第 1 版"), "{}", text(&out));
    // February: 东门社区's population falls 30 %: a drop only the store's
    // January can reveal, since February is ingested alone.
    family(
        &d,
        "feb/城东街道202602.xlsx",
        "城东街道",
        2,
        &[("东门社区", 700.0, 410.0), ("新村", 500.0, 100.0)],
    );
    family(
        &d,
        "feb/新民镇202602.xlsx",
        "新民镇",
        2,
        &[("新村", 300.0, 31.0), ("红旗村", 200.0, 21.0)],
    );
    let out = ingest(&d, "feb", &[]);
    assert!(text(&out).contains("警告[stock_drop]"), "{}", text(&out));
    // A correction of 城东街道's February, an identical copy of 新民镇's, and
    // a January of 新民镇 with other figures and no correction.
    family(
        &d,
        "fix/城东街道202602_更正.xlsx",
        "城东街道",
        2,
        &[("东门社区", 1000.0, 420.0), ("新村", 500.0, 100.0)],
    );
    // The same figures, typed again with the rows in another order.
    family(
        &d,
        "fix/新民镇202602(1).xlsx",
        "新民镇",
        2,
        &[("红旗村", 200.0, 21.0), ("新村", 300.0, 31.0)],
    );
    family(
        &d,
        "fix/新民镇202601_v2.xlsx",
        "新民镇",
        1,
        &[("新村", 300.0, 35.0), ("红旗村", 200.0, 20.0)],
    );
    let out = ingest(&d, "fix", &[]);
    let said = text(&out);
    assert!(said.contains("错误[duplicate_return]"), "{said}");
    assert!(said.contains("状态变更"), "{said}");
    // History: every version, the one in force and why, and the correction's changes.
    let out = util::phstats(
        d.tmp.path(),
        &[
            "history",
            "--store",
            "db",
            "--unit",
            "城东街道",
            "--period",
            "2026-02",
        ],
    );
    let h = text(&out);
    assert!(h.contains("第 1 版") && h.contains("已被更正替代"), "{h}");
    assert!(h.contains("第 2 版") && h.contains("有效（计入）"), "{h}");
    assert!(h.contains("常住人口数 东门社区（C5）：700 → 1000"), "{h}");
    assert!(h.contains("签约人数 东门社区（D5）：410 → 420"), "{h}");
    let out = util::phstats(
        d.tmp.path(),
        &["history", "--store", "db", "--unit", "新民镇"],
    );
    let h = text(&out);
    assert!(h.contains("重复报送，待更正"), "{h}");
    assert!(h.contains("重复收到的相同报表"), "{h}");
    // The figures in force, read by polars alone: 新民镇's January is out
    // (duplicate), 城东街道's February is the correction, 新民镇's February once.
    let db = d.path("db");
    assert_eq!(polars_sum(&db, "signed", "2026-01"), 400.0 + 100.0);
    assert_eq!(
        polars_sum(&db, "signed", "2026-02"),
        420.0 + 100.0 + 31.0 + 21.0
    );
    // A report from the store agrees.
    let out = util::phstats(
        d.tmp.path(),
        &[
            "report", "--store", "db", "--period", "2026-02", "--export", "out", "-o", "r.xlsx",
        ],
    );
    assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    assert_eq!(
        a.get(&("2026-02".into(), CD.into(), "signed".into())),
        Some(&520.0)
    );
    assert_eq!(
        a.get(&("2026-02".into(), XM.into(), "signed".into())),
        Some(&52.0)
    );
    assert_eq!(
        a.get(&("2026-02".into(), CD.into(), "signing_rate".into())),
        Some(&(520.0 / 1500.0 * 100.0))
    );
    // Trace: the cells that make the figure, and what was left out.
    let trace = |lang: &[&str]| {
        let mut args = vec![
            "trace",
            "--store",
            "db",
            "--period",
            "2026-02",
            "--unit",
            "城东街道",
            "--field",
            "signing_rate",
        ];
        args.extend_from_slice(lang);
        text(&util::phstats(d.tmp.path(), &args))
    };
    let t = trace(&[]);
    assert!(t.contains("“签约率(%)” = 34.7"), "{t}");
    assert!(t.contains("分子 520，分母 1500"), "{t}");
    assert!(
        t.contains("东门社区 2026-02 420 ← fix/城东街道202602_更正.xlsx!family_doctor!D5（计入）"),
        "{t}"
    );
    assert!(
        t.contains("未计入：feb/城东街道202602.xlsx!family_doctor（已被更正替代）"),
        "{t}"
    );
    // In English, every word but the names of units, files and sheets.
    let t = trace(&["--lang", "en"]);
    assert!(
        t.contains(
            "东门社区 2026-02 420 ← fix/城东街道202602_更正.xlsx!family_doctor!D5 (counted)"
        ),
        "{t}"
    );
    let han = |s: &str| s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
    let titles: Vec<&str> = t
        .lines()
        .filter(|l| l.starts_with("  ") && l.ends_with(':'))
        .collect();
    assert_eq!(titles.len(), 2, "numerator and denominator: {t}");
    assert!(titles.iter().all(|l| !han(l)), "{t}");
    // The duplicate is settled by a correction.
    family(
        &d,
        "fix2/新民镇202601_更正.xlsx",
        "新民镇",
        1,
        &[("新村", 300.0, 36.0), ("红旗村", 200.0, 20.0)],
    );
    let out = ingest(&d, "fix2", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        polars_sum(&db, "signed", "2026-01"),
        400.0 + 100.0 + 36.0 + 20.0
    );
}

#[test]
fn a_resubmission_nobody_marked_is_a_correction_with_the_flag() {
    let d = Dir::new();
    city_east(&d, "a/城东街道202601.xlsx", 1);
    ingest(&d, "a", &[]);
    family(
        &d,
        "b/城东街道202601.xlsx",
        "城东街道",
        1,
        &[("东门社区", 1000.0, 450.0), ("新村", 500.0, 100.0)],
    );
    let out = ingest(&d, "b", &["--correction"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(polars_sum(&d.path("db"), "signed", "2026-01"), 550.0);
}

#[test]
fn a_crash_mid_ingest_leaves_the_store_as_it_was() {
    let d = Dir::new();
    city_east_january(&d);
    ingest(&d, "jan", &[]);
    let manifest = std::fs::read(d.path("db/manifest.json")).unwrap();
    let listing = |d: &Dir| {
        let mut v = Vec::new();
        let mut stack = vec![d.path("db")];
        while let Some(p) = stack.pop() {
            for e in std::fs::read_dir(&p).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if !p.ends_with(".phstats.lock") {
                    // The lock names its last holder; it is not the store's data.
                    v.push((p.clone(), std::fs::read(&p).unwrap()));
                }
            }
        }
        v.sort();
        v
    };
    let before = listing(&d);
    family(
        &d,
        "feb/城东街道202602.xlsx",
        "城东街道",
        2,
        &[("东门社区", 1000.0, 410.0), ("新村", 500.0, 100.0)],
    );
    for point in ["after_observations", "before_commit"] {
        let out = assert_cmd::Command::cargo_bin("phstats")
            .unwrap()
            .current_dir(d.tmp.path())
            .env("PHSTATS_FAIL_AT", point)
            .args(["ingest", "feb", "--units", "units.csv", "--store", "db"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{point}: {}", text(&out));
        assert_eq!(
            std::fs::read(d.path("db/manifest.json")).unwrap(),
            manifest,
            "{point}"
        );
        // The committed files are untouched; what the crash wrote is not in force.
        let after = listing(&d);
        for (path, bytes) in &before {
            assert!(
                after.iter().any(|(p, b)| p == path && b == bytes),
                "{point}: {} changed",
                path.display()
            );
        }
        assert_eq!(
            polars_sum(&d.path("db"), "signed", "2026-02"),
            0.0,
            "{point}"
        );
        let out = util::phstats(d.tmp.path(), &["history", "--store", "db"]);
        assert!(!text(&out).contains("2026-02"), "{point}: {}", text(&out));
    }
    // The next ingest works and leaves nothing of the crashed ones.
    let out = ingest(&d, "feb", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(polars_sum(&d.path("db"), "signed", "2026-02"), 510.0);
    let parts: Vec<_> = listing(&d)
        .into_iter()
        .filter(|(p, _)| p.to_string_lossy().contains("month=2026-02"))
        .collect();
    assert_eq!(parts.len(), 1, "{parts:?}");
}

/// One month of the committed sample ingested into `db`.
fn ingest_sample(d: &Dir, month: &str) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = util::phstats(
        d.tmp.path(),
        &[
            "ingest",
            repo.join("sample-data/returns")
                .join(month)
                .to_str()
                .unwrap(),
            "--units",
            repo.join("sample-data/units.csv").to_str().unwrap(),
            "--store",
            "db",
            "-q",
        ],
    );
    assert!(out.status.code().unwrap() < 2, "{}", text(&out));
}

/// A township's return as one workbook with a sheet per village (the
/// committed sample's 中城乡 vaccination, January) is one version in
/// `history`, each sheet saying it counts with the others, not three
/// versions of which each is merely "有效".
#[test]
fn the_sheets_of_one_workbook_are_one_version_in_history() {
    let d = Dir::new();
    ingest_sample(&d, "2026-01");
    let history = |lang: &str| {
        text(&util::phstats(
            d.tmp.path(),
            &[
                "--lang",
                lang,
                "history",
                "--store",
                "db",
                "--unit",
                "中城乡",
                "--form",
                "免疫",
            ],
        ))
    };
    let h = history("zh");
    // The month in words, as every other line of the terminal says it.
    assert_eq!(
        h.lines().next(),
        Some("== 中城乡 2026年1月 免疫规划疫苗常规接种情况月报表 =="),
        "{h}"
    );
    let lines: Vec<&str> = h.lines().filter(|l| l.contains("收到")).collect();
    assert_eq!(lines.len(), 3, "{h}");
    for (line, sheet) in lines.iter().zip(["新华社区", "新村", "前进村"]) {
        assert!(line.starts_with("  第 1 版 "), "{h}");
        assert!(line.contains(&format!("中城乡.xlsx!{sheet}（")), "{h}");
        let others: Vec<&str> = ["新华社区", "新村", "前进村"]
            .into_iter()
            .filter(|s| *s != sheet)
            .collect();
        assert!(
            line.ends_with(&format!(
                "有效（计入）（与本文件的工作表 {} 同为一份报表，一并计入）",
                others.join("、")
            )),
            "{h}"
        );
    }
    let h = history("en");
    assert_eq!(h.matches("  version 1 received").count(), 3, "{h}");
    assert!(!h.contains("version 2"), "{h}");
}

#[test]
fn a_report_from_the_store_equals_consolidate_over_the_same_files() {
    let d = Dir::new();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for m in ["2026-01", "2026-02", "2026-03"] {
        ingest_sample(&d, m);
    }
    for period in ["2026-03", "2026Q1"] {
        let out = util::phstats(
            d.tmp.path(),
            &[
                "report", "--store", "db", "--period", period, "--export", "s", "-o", "s.xlsx",
                "-q", "--force",
            ],
        );
        assert!(out.status.code().unwrap() < 2, "{}", text(&out));
        let mut files: Vec<String> = Vec::new();
        for m in ["2026-01", "2026-02", "2026-03"] {
            files.push(
                repo.join("sample-data/returns")
                    .join(m)
                    .display()
                    .to_string(),
            );
        }
        let mut args = vec!["consolidate"];
        args.extend(files.iter().map(String::as_str));
        let units = repo.join("sample-data/units.csv").display().to_string();
        args.extend([
            "--units", &units, "--period", period, "--export", "c", "-o", "c.xlsx", "-q", "--force",
        ]);
        util::phstats(d.tmp.path(), &args);
        assert_eq!(
            std::fs::read(d.path("s/aggregates.csv")).unwrap(),
            std::fs::read(d.path("c/aggregates.csv")).unwrap(),
            "{period}: the same aggregates"
        );
        // The same findings, but for timeliness: the store knows when each
        // return without a 报出日期 arrived.
        let key = |f: &HashMap<String, String>| {
            format!("{} {} {} {}", f["rule"], f["file"], f["sheet"], f["cell"])
        };
        let mut s: Vec<String> = util::read_csv(&d.path("s/findings.csv"))
            .iter()
            .filter(|f| f["rule"] != "late_return")
            .map(key)
            .collect();
        let mut c: Vec<String> = util::read_csv(&d.path("c/findings.csv"))
            .iter()
            .filter(|f| f["rule"] != "late_return")
            .map(key)
            .collect();
        s.sort();
        c.sort();
        assert_eq!(s, c, "{period}: the same findings");
        // A finding of no month (a blank sheet) is of its file's months:
        // March's report lists March's workbook's blank sheet, not
        // January's and February's again.
        let blank: Vec<String> = s
            .iter()
            .filter(|k| k.starts_with("no_return_found "))
            .map(|k| {
                k.split(' ')
                    .nth(1)
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let want: &[&str] = match period {
            "2026-03" => &["东城街道202603.xlsx"],
            _ => &[
                "东城街道202603.xlsx",
                "中城乡202602.xlsx",
                "南城镇202601.xlsx",
                "新城乡202601.xlsx",
                "西城街道202602.xlsx",
            ],
        };
        let mut blank = blank;
        blank.sort();
        assert_eq!(blank, want, "{period}: {s:?}");
    }
}

#[test]
fn a_folder_that_is_not_a_store_or_is_newer_is_refused_untouched() {
    let d = Dir::new();
    city_east_january(&d);
    std::fs::create_dir_all(d.path("notes")).unwrap();
    std::fs::write(d.path("notes/readme.txt"), "my notes").unwrap();
    let out = util::phstats(
        d.tmp.path(),
        &["ingest", "jan", "--units", "units.csv", "--store", "notes"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("不是 phstats 数据库"), "{}", text(&out));
    assert_eq!(
        std::fs::read_dir(d.path("notes")).unwrap().count(),
        1,
        "untouched"
    );
    let out = util::phstats(d.tmp.path(), &["report", "--store", "notes"]);
    assert_eq!(out.status.code(), Some(2));
    ingest(&d, "jan", &[]);
    let m = std::fs::read_to_string(d.path("db/manifest.json")).unwrap();
    std::fs::write(
        d.path("db/manifest.json"),
        m.replace("\"version\": 2", "\"version\": 99"),
    )
    .unwrap();
    let out = util::phstats(d.tmp.path(), &["report", "--store", "db"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("更新版本"), "{}", text(&out));
}

#[test]
fn a_registry_changed_since_ingest_keeps_the_codes_and_says_what_changed() {
    let d = Dir::new();
    city_east_january(&d);
    ingest(&d, "jan", &[]);
    std::fs::write(
        d.path("units2.csv"),
        util::UNITS.replace("439902001001,东门社区", "439902001001,东门新社区"),
    )
    .unwrap();
    let out = util::phstats(
        d.tmp.path(),
        &[
            "report",
            "--store",
            "db",
            "--units",
            "units2.csv",
            "--export",
            "out",
            "-o",
            "r.xlsx",
        ],
    );
    assert!(
        text(&out).contains("东门社区（439902001001）已更名为 东门新社区"),
        "{}",
        text(&out)
    );
    let en = util::phstats(
        d.tmp.path(),
        &[
            "--lang",
            "en",
            "report",
            "--store",
            "db",
            "--units",
            "units2.csv",
            "-o",
            "en.xlsx",
        ],
    );
    assert!(
        text(&en).contains("东门社区 (439902001001) is now called 东门新社区"),
        "{}",
        text(&en)
    );
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    assert_eq!(
        a.get(&("2026-01".into(), "439902001001".into(), "signed".into())),
        Some(&400.0)
    );
}

#[test]
fn timeliness_counts_the_report_date_else_the_day_received() {
    let d = Dir::new();
    for (unit, date) in [
        ("城东街道", Some("2026年2月3日")),
        ("新民镇", Some("2026年2月9日")),
    ] {
        let rows: Vec<util::Row<'_>> = match unit {
            "城东街道" => vec![
                ("东门社区", vec![("signed", V::N(1.0))]),
                ("新村", vec![("signed", V::N(1.0))]),
            ],
            _ => vec![
                ("新村", vec![("signed", V::N(1.0))]),
                ("红旗村", vec![("signed", V::N(1.0))]),
            ],
        };
        let mut wb = util::return_book(
            "family_doctor",
            "family_doctor",
            unit,
            Some("2026年1月"),
            &rows,
            None,
        );
        if let Some(date) = date {
            wb.worksheet_from_index(0)
                .unwrap()
                .write_string(
                    util::FIRST_DATA_ROW + 3,
                    0,
                    format!("填表人：李四    报出日期：{date}"),
                )
                .unwrap();
        }
        wb.save(d.path(&format!("jan/{unit}.xlsx"))).unwrap();
    }
    ingest(&d, "jan", &[]);
    let out = util::phstats(
        d.tmp.path(),
        &["report", "--store", "db", "--export", "out", "-o", "r.xlsx"],
    );
    assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    let f = util::read_csv(&d.path("out/findings.csv"));
    let late: Vec<_> = f.iter().filter(|x| x["rule"] == "late_return").collect();
    assert_eq!(late.len(), 1, "{late:#?}");
    assert_eq!(late[0]["unit_code"], XM);
    // With the deadline on day 10, both are on time.
    util::phstats(
        d.tmp.path(),
        &[
            "report",
            "--store",
            "db",
            "--deadline-day",
            "10",
            "--export",
            "out10",
            "-o",
            "r10.xlsx",
        ],
    );
    let f = util::read_csv(&d.path("out10/findings.csv"));
    assert!(!f.iter().any(|x| x["rule"] == "late_return"));
    // 上报情况: 及时率 50 % and the late township named.
    let mut wb = calamine::open_workbook_auto(d.path("r.xlsx")).unwrap();
    use calamine::Reader as _;
    let sheet = wb.worksheet_range("上报情况").unwrap();
    let row = (3..sheet.height() as u32)
        .find(|&r| sheet.get_value((r, 2)) == Some(&calamine::Data::String("乡镇(街道)".into())))
        .unwrap();
    assert_eq!(
        sheet.get_value((row, 7)),
        Some(&calamine::Data::Float(50.0))
    );
    assert_eq!(
        sheet.get_value((row, 8)),
        Some(&calamine::Data::String("新民镇".into()))
    );
    let _ = CD;
}

/// A file listed but not readable (here a link to a file not there, as a
/// shortcut to an unplugged drive leaves it) is named with why, in
/// Chinese; the rest is ingested, and the file, not recorded, is taken in
/// by the next ingest once it can be read.
#[cfg(unix)]
#[test]
fn a_file_that_cannot_be_read_never_stops_an_ingest() {
    let d = Dir::new();
    city_east_january(&d);
    std::os::unix::fs::symlink(
        d.path("u盘/新民镇202601.xlsx"),
        d.path("jan/新民镇202601.xlsx"),
    )
    .unwrap();
    let out = ingest(&d, "jan", &[]);
    let said = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an error, not a refusal: {said}"
    );
    assert!(
        said.contains("jan/新民镇202601.xlsx") && said.contains("无法从磁盘读取文件：文件不存在"),
        "{said}"
    );
    assert!(!said.contains("os error"), "{said}");
    assert!(said.contains("现为第 1 版"), "{said}");
    assert_eq!(polars_sum(&d.path("db"), "signed", "2026-01"), 500.0);
    // The drive is back: the file is read as new, not as already held.
    family(
        &d,
        "u盘/新民镇202601.xlsx",
        "新民镇",
        1,
        &[("新村", 300.0, 30.0), ("红旗村", 200.0, 20.0)],
    );
    let out = ingest(&d, "jan", &[]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("现为第 2 版"), "{said}");
    assert_eq!(polars_sum(&d.path("db"), "signed", "2026-01"), 550.0);
}

#[test]
fn a_damaged_store_is_named_file_by_file_in_chinese_and_nothing_panics() {
    let d = Dir::new();
    city_east_january(&d);
    ingest(&d, "jan", &[]);
    // A figures part cut short, as a full disk or a bad copy leaves it.
    let part = util::walk(&d.path("db/observations"))
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    let bytes = std::fs::read(&part).unwrap();
    std::fs::write(&part, &bytes[..bytes.len() / 2]).unwrap();
    let out = util::phstats(
        d.tmp.path(),
        &["report", "--store", "db", "--period", "2026-01"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("数据库表") && said.contains("无法读写"),
        "{said}"
    );
    assert!(said.contains("part-"), "names the file: {said}");
    assert!(!said.contains("panicked"), "{said}");
    // A manifest that is not JSON any more is damaged, not "not a store".
    std::fs::write(d.path("db/manifest.json"), "{\"format\": \"phstats-st").unwrap();
    let out = util::phstats(d.tmp.path(), &["history", "--store", "db"]);
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out);
    assert!(said.contains("manifest.json 已损坏"), "{said}");
    assert!(!said.contains("不是 phstats 数据库"), "{said}");
}

#[test]
fn the_checks_over_time_read_each_months_counted_figures_only_while_they_hold() {
    let d = Dir::new();
    // 东门社区's signed residents, January to June, each month ingested alone.
    let signed = [400.0, 410.0, 420.0, 430.0, 440.0, 445.0];
    for (k, s) in signed.iter().enumerate() {
        let m = k as u32 + 1;
        family(
            &d,
            &format!("m{m}/城东街道2026{m:02}.xlsx"),
            "城东街道",
            m,
            &[("东门社区", 1000.0, *s), ("新村", 500.0, 100.0)],
        );
        let out = ingest(&d, &format!("m{m}"), &[]);
        assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    }
    // Each generation keeps the counted figures of every month it holds.
    for m in 1..=6 {
        let f = d.path(&format!(
            "db/submissions/generation=6/counted-2026-{m:02}.bin"
        ));
        assert!(f.exists(), "{}", f.display());
    }
    // March corrected, 420 → 1420, after June came in.
    family(
        &d,
        "fix/城东街道202603_更正.xlsx",
        "城东街道",
        3,
        &[("东门社区", 1000.0, 1420.0), ("新村", 500.0, 100.0)],
    );
    let out = ingest(&d, "fix", &[]);
    assert!(text(&out).contains("现为第 7 版"), "{}", text(&out));
    // July's 4400, a slip of a digit, against the six months before it as
    // corrected: 400, 410, 1420, 430, 440, 445, whose median is 435 (with
    // March as first sent, 425).
    family(
        &d,
        "m7/城东街道202607.xlsx",
        "城东街道",
        7,
        &[("东门社区", 1000.0, 4400.0), ("新村", 500.0, 100.0)],
    );
    // The same July into a copy of the store whose counted figures are
    // gone, cut short or damaged: those months are read from their figures.
    for f in util::walk(&d.path("db")) {
        let to = d.path("db2").join(f.strip_prefix(d.path("db")).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&f, &to).unwrap();
    }
    let g7 = d.path("db2/submissions/generation=7");
    std::fs::remove_file(g7.join("counted-2026-01.bin")).unwrap();
    let cut = std::fs::read(g7.join("counted-2026-02.bin")).unwrap();
    std::fs::write(g7.join("counted-2026-02.bin"), &cut[..cut.len() / 2]).unwrap();
    let mut bad = std::fs::read(g7.join("counted-2026-05.bin")).unwrap();
    let n = bad.len();
    bad[n - 20] ^= 0x40;
    std::fs::write(g7.join("counted-2026-05.bin"), bad).unwrap();
    let a = ingest(&d, "m7", &[]);
    let b = util::phstats(
        d.tmp.path(),
        &["ingest", "m7", "--units", "units.csv", "--store", "db2"],
    );
    let said = text(&a);
    assert!(said.contains("警告[outlier]"), "{said}");
    assert!(said.contains("435（前 6 个月的中位数）"), "{said}");
    assert_eq!(text(&b).replace("db2", "db"), said);
    // The next generation of each holds every month's counted figures,
    // the same to the byte: those read whole were made again.
    for m in 1..=7 {
        let name = format!("submissions/generation=8/counted-2026-{m:02}.bin");
        let (x, y) = (d.path("db").join(&name), d.path("db2").join(&name));
        assert_eq!(
            std::fs::read(&x).unwrap(),
            std::fs::read(&y).unwrap(),
            "{name}"
        );
    }
}

/// Rewrites one column of a stored Parquet table: row `row` (from 0) gets
/// `value` (`None`: null), as a bad copy or a hand edit leaves it.
fn edit_table(path: &Path, column: &str, row: usize, value: Option<&str>) {
    let mut df = ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap();
    let old = df.column(column).unwrap().clone();
    let strs: Vec<Option<String>> = match old.dtype() {
        DataType::String => old
            .str()
            .unwrap()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect(),
        _ => panic!("{column} is not text"),
    };
    let mut strs = strs;
    strs[row] = value.map(str::to_string);
    df.replace(column, Column::new(column.into(), strs))
        .unwrap();
    ParquetWriter::new(std::fs::File::create(path).unwrap())
        .finish(&mut df)
        .unwrap();
}

/// A stored value that is missing or unreadable is a store error naming
/// the file, column and row (exit 2): never a default (a status read as
/// rejected, a layout dropped with its 合计 check, a finding skipped).
#[test]
fn a_damaged_stored_value_is_named_never_defaulted() {
    for (table, column, value, says) in [
        (
            "submissions/generation=1/submissions.parquet",
            "status",
            Some("in_forse"),
            "status 列的值“in_forse”无法识别",
        ),
        (
            "layouts/part-000001.parquet",
            "layout",
            Some("{\"totals\": ["),
            "layout 列的值",
        ),
        // Whole JSON, but not a layout.
        (
            "layouts/part-000001.parquet",
            "layout",
            Some("{\"totals\": 5}"),
            "layout 列的值",
        ),
        (
            "submissions/generation=1/submissions.parquet",
            "month",
            None,
            "month 列缺少值",
        ),
        (
            "submissions/generation=1/findings.parquet",
            "detail",
            Some("{not json"),
            "detail 列的值",
        ),
    ] {
        let d = Dir::new();
        // A text in a count cell: a finding kept with the submission.
        util::write_return(
            &d.path("jan/城东街道202601.xlsx"),
            "family_doctor",
            "城东街道",
            Some("2026年1月"),
            &[
                (
                    "东门社区",
                    vec![("resident_pop", V::N(1000.0)), ("signed", V::T("约30"))],
                ),
                (
                    "新村",
                    vec![("resident_pop", V::N(500.0)), ("signed", V::N(100.0))],
                ),
            ],
            None,
        );
        let out = ingest(&d, "jan", &[]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let path = d.path(&format!("db/{table}"));
        edit_table(&path, column, 0, value);
        let table = path.file_name().unwrap().to_str().unwrap();
        let out = util::phstats(
            d.tmp.path(),
            &[
                "report", "--store", "db", "--period", "2026-01", "-o", "r.xlsx",
            ],
        );
        let said = text(&out);
        assert_eq!(out.status.code(), Some(2), "{column}: {said}");
        assert!(
            said.contains(table) && said.contains("第 1 行"),
            "{column}: {said}"
        );
        assert!(said.contains(says), "{column}: {said}");
        assert!(
            !d.path("r.xlsx").exists(),
            "{column}: no report from a damaged store"
        );
        // `store verify` reads a layout as the report does: what the
        // report refuses, verify names.
        if column == "layout" {
            let out = util::phstats(d.tmp.path(), &["store", "verify", "--store", "db"]);
            let said = text(&out);
            assert_eq!(out.status.code(), Some(1), "verify: {said}");
            assert!(
                said.contains(table) && said.contains(says),
                "verify: {said}"
            );
        }
    }
}

/// One writer at a time (FORMS.md §7): four ingests of different months
/// started together into one store, ten times over. Each waits its turn
/// (or would exit 2 with nothing recorded, saying so), none is lost, and
/// the store then reports exactly what `consolidate` makes of the same
/// files. Without the lock, two ingests wrote the same generation's files
/// and deleted each other's: returns lost, or the store damaged for good.
#[test]
fn ingests_started_together_each_wait_their_turn_and_lose_nothing() {
    let d = Dir::new();
    util::corpus(&d, 3, 4, false, 3);
    let out = util::phstats(
        d.tmp.path(),
        &[
            "consolidate",
            "corpus/returns",
            "--units",
            "corpus/units.csv",
            "--period",
            "2026",
            "--export",
            "c",
            "-o",
            "c.xlsx",
        ],
    );
    assert!(
        out.status.code().unwrap() < 2,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = std::fs::read(d.path("c/aggregates.csv")).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("phstats");
    for trial in 0..10 {
        let db = format!("db{trial}");
        let children: Vec<_> = (1..=4)
            .map(|m| {
                std::process::Command::new(&bin)
                    .current_dir(d.tmp.path())
                    .args([
                        "ingest",
                        &format!("corpus/returns/2026-{m:02}"),
                        "--units",
                        "corpus/units.csv",
                        "--store",
                        &db,
                        "-q",
                    ])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for (m, child) in children.into_iter().enumerate() {
            let out = child.wait_with_output().unwrap();
            let said = text(&out);
            match out.status.code() {
                Some(0 | 1) => {}
                Some(2) => assert!(
                    said.contains("正由另一个 phstats 写入") && said.contains("未写入任何内容"),
                    "{said}"
                ),
                other => panic!("trial {trial}, month {}: {other:?} {said}", m + 1),
            }
        }
        let out = util::phstats(
            d.tmp.path(),
            &[
                "report",
                "--store",
                &db,
                "--period",
                "2026",
                "--export",
                &format!("s{trial}"),
                "-o",
                "s.xlsx",
                "--force",
            ],
        );
        assert!(out.status.code().unwrap() < 2, "{}", text(&out));
        let got = std::fs::read(d.path(&format!("s{trial}/aggregates.csv"))).unwrap();
        assert!(
            got == want,
            "trial {trial}: the store's aggregates differ from consolidate's"
        );
    }
}

/// A first ingest that stopped before its manifest leaves the lock and its
/// generation's folders: the next ingest (or one waiting while the first
/// writes) makes the store there, and what no manifest names is removed.
/// Any other file still makes the folder "not a store", untouched.
/// `store verify` reads every table of the generation in force as a report
/// reads it: a torn findings.parquet or registry was "whole" while every
/// report failed on it.
#[test]
fn verify_reads_the_generations_findings_and_registry() {
    let d = Dir::new();
    city_east_january(&d);
    assert!(ingest(&d, "jan", &[]).status.code().unwrap() < 2);
    let verify = || util::phstats(d.tmp.path(), &["store", "verify", "--store", "db"]);
    assert_eq!(verify().status.code(), Some(0), "{}", text(&verify()));
    for table in ["findings.parquet", "units.csv"] {
        let path = d.path(&format!("db/submissions/generation=1/{table}"));
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, &whole[..whole.len() / 3]).unwrap();
        let out = verify();
        assert_eq!(out.status.code(), Some(1), "{table}: {}", text(&out));
        assert!(
            text(&out).contains(&format!("generation=1/{table}")),
            "{table}: {}",
            text(&out)
        );
        // And a report of it fails: what verify says is what a report meets.
        let report = util::phstats(
            d.tmp.path(),
            &[
                "report", "--store", "db", "--period", "2026-01", "-o", "r.xlsx", "--force",
            ],
        );
        assert_eq!(report.status.code(), Some(2), "{table}: {}", text(&report));
        std::fs::write(&path, &whole).unwrap();
        assert_eq!(verify().status.code(), Some(0), "{table}");
    }
}

/// A writer that finds the store held says by whom, in words: the
/// process, what it is doing and since when (the lock file's own record,
/// `pid N ingest <time>`, was shown as it was written).
#[test]
fn a_store_held_by_another_writer_names_it_in_words() {
    let d = Dir::new();
    util::corpus(&d, 2, 2, false, 3);
    let run = |args: &[&str]| util::phstats(d.tmp.path(), args);
    let ingest = |lang: &str, month: &str| {
        run(&[
            "--lang",
            lang,
            "ingest",
            &format!("corpus/returns/2026-{month}"),
            "--units",
            "corpus/units.csv",
            "--store",
            "db",
            "--wait",
            "0",
            "-q",
        ])
    };
    assert!(ingest("zh", "01").status.code().unwrap() < 2);
    // Held as a writer holds it, its record left by the ingest before.
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(d.path("db/.phstats.lock"))
        .unwrap();
    let record = std::fs::read_to_string(d.path("db/.phstats.lock")).unwrap();
    let words: Vec<&str> = record.split_whitespace().collect();
    assert!(
        words.len() == 4 && words[0] == "pid" && words[2] == "ingest",
        "{record}"
    );
    let (pid, day, time) = (words[1], &words[3][..10], &words[3][11..19]);
    lock.lock().unwrap();
    let before = std::fs::read_to_string(d.path("db/manifest.json")).unwrap();
    let out = ingest("zh", "02");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "正由另一个 phstats 写入（进程 {pid}，入库，{day} {time} 开始），已等待 0 秒"
        )),
        "{}",
        text(&out)
    );
    let out = ingest("en", "02");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "being written by another phstats (process {pid}, ingest, since {day} {time}); waited 0 s"
        )),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(d.path("db/manifest.json")).unwrap(),
        before
    );
    drop(lock);
    assert!(ingest("zh", "02").status.code().unwrap() < 2);
}

#[test]
fn a_store_whose_first_ingest_stopped_is_made_by_the_next() {
    let d = Dir::new();
    family(
        &d,
        "jan/城东街道202601.xlsx",
        "城东街道",
        1,
        &[("东门社区", 1000.0, 400.0)],
    );
    let left = d.path("db/submissions/generation=1");
    std::fs::create_dir_all(&left).unwrap();
    std::fs::write(left.join("submissions.parquet"), b"half").unwrap();
    std::fs::write(d.path("db/.phstats.lock"), b"").unwrap();
    // Killed while writing the first manifest (found by the kill -9 trials).
    std::fs::write(d.path("db/.phstats-999999999-x.tmp"), b"{\"format\"").unwrap();
    let out = ingest(&d, "jan", &[]);
    assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    assert!(d.path("db/manifest.json").exists());
    assert_ne!(
        std::fs::read(d.path("db/submissions/generation=1/submissions.parquet")).unwrap(),
        b"half",
        "the stopped writer's file is replaced"
    );
    // A folder with a file of its own is refused and left as it was.
    std::fs::create_dir_all(d.path("other")).unwrap();
    std::fs::write(d.path("other/.phstats.lock"), b"").unwrap();
    std::fs::write(d.path("other/notes.txt"), b"mine").unwrap();
    let out = util::phstats(
        d.tmp.path(),
        &["ingest", "jan", "--units", "units.csv", "--store", "other"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("不是 phstats 数据库"), "{}", text(&out));
    assert!(!d.path("other/manifest.json").exists());
}

/// A writer that does not let go: the next ingest waits `--wait` seconds,
/// then exits 2 naming the holder, with nothing written.
#[test]
fn an_ingest_that_cannot_get_the_store_says_who_holds_it_and_writes_nothing() {
    use std::io::Write as _;
    let d = Dir::new();
    family(
        &d,
        "jan/城东街道202601.xlsx",
        "城东街道",
        1,
        &[("东门社区", 1000.0, 400.0)],
    );
    assert!(ingest(&d, "jan", &[]).status.code().unwrap() < 2);
    let manifest = std::fs::read(d.path("db/manifest.json")).unwrap();
    let mut held = std::fs::OpenOptions::new()
        .write(true)
        .open(d.path("db/.phstats.lock"))
        .unwrap();
    held.lock().unwrap();
    held.set_len(0).unwrap();
    write!(held, "pid 4242 ingest (a test)").unwrap();
    family(
        &d,
        "feb/城东街道202602.xlsx",
        "城东街道",
        2,
        &[("东门社区", 1000.0, 410.0)],
    );
    let out = ingest(&d, "feb", &["--wait", "1"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("pid 4242 ingest (a test)") && said.contains("未写入任何内容"),
        "{said}"
    );
    assert_eq!(std::fs::read(d.path("db/manifest.json")).unwrap(), manifest);
    drop(held);
    assert!(ingest(&d, "feb", &["--wait", "1"]).status.code().unwrap() < 2);
}

/// A registry that no longer has a township the store holds (a merger, or a
/// county's registry on a city's store): the next ingest does not panic
/// (it was `index out of bounds`, exit 101) and no other submission's
/// status moves; the dropped township's returns stay in history.
#[test]
fn a_registry_without_a_stored_township_never_panics_nor_moves_other_statuses() {
    let d = Dir::new();
    city_east_january(&d);
    family(
        &d,
        "jan/新民镇202601.xlsx",
        "新民镇",
        1,
        &[("新村", 300.0, 60.0), ("红旗村", 200.0, 50.0)],
    );
    // 新民镇 first, so that every submission after it would shift; and a
    // correction, so that the statuses after it differ.
    std::fs::rename(
        d.path("jan/新民镇202601.xlsx"),
        d.path("jan/a_新民镇202601.xlsx"),
    )
    .unwrap();
    let out = ingest(&d, "jan", &[]);
    assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    family(
        &d,
        "fix/城东街道202601_更正.xlsx",
        "城东街道",
        1,
        &[("东门社区", 1000.0, 420.0), ("新村", 500.0, 100.0)],
    );
    let out = ingest(&d, "fix", &[]);
    assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    let merged: String = util::UNITS
        .lines()
        .filter(|l| !l.contains(",新民镇,") && !l.contains("439902101"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(d.path("merged.csv"), merged).unwrap();
    family(
        &d,
        "feb/城东街道202602.xlsx",
        "城东街道",
        2,
        &[("东门社区", 1000.0, 410.0), ("新村", 500.0, 100.0)],
    );
    let out = util::phstats(
        d.tmp.path(),
        &["ingest", "feb", "--units", "merged.csv", "--store", "db"],
    );
    let said = text(&out);
    assert!(out.status.code().unwrap() < 2, "{said}");
    assert!(
        !said.contains("panicked") && !said.contains("内部错误"),
        "{said}"
    );
    assert!(!said.contains("状态变更"), "no status moved: {said}");
    let out = util::phstats(d.tmp.path(), &["history", "--store", "db"]);
    let said = text(&out);
    assert!(
        said.contains("a_新民镇202601.xlsx") && said.contains("有效"),
        "{said}"
    );
}

/// A manifest is checked before anything is touched: a city code with
/// `..` (it names a folder: a part was written outside the store) and a
/// generation edited to 0 are each refused, exit 2, with every file of the
/// store as it was and nothing written outside it; an older manifest
/// restored from a backup (the ingest used to delete every newer
/// generation) names a kept generation, and nothing after it is lost.
#[test]
fn a_manifest_that_cannot_be_right_is_refused_untouched() {
    let d = Dir::new();
    family(
        &d,
        "jan/城东街道202601.xlsx",
        "城东街道",
        1,
        &[("东门社区", 1000.0, 400.0)],
    );
    family(
        &d,
        "feb/城东街道202602.xlsx",
        "城东街道",
        2,
        &[("东门社区", 1000.0, 410.0)],
    );
    family(
        &d,
        "mar/城东街道202603.xlsx",
        "城东街道",
        3,
        &[("东门社区", 1000.0, 420.0)],
    );
    assert!(ingest(&d, "jan", &[]).status.code().unwrap() < 2);
    let first = std::fs::read_to_string(d.path("db/manifest.json")).unwrap();
    assert!(ingest(&d, "feb", &[]).status.code().unwrap() < 2);
    let good = std::fs::read_to_string(d.path("db/manifest.json")).unwrap();
    let files = |d: &Dir| {
        let mut v: Vec<String> = util::walk(&d.path("db"))
            .into_iter()
            .filter(|p| !p.ends_with(".phstats.lock") && !p.ends_with("manifest.json"))
            .map(|p| p.display().to_string())
            .collect();
        v.sort();
        v
    };
    let before = files(&d);
    for (manifest, says) in [
        (
            good.replace("\"city\": \"439900000000\"", "\"city\": \"/../../..\""),
            "城市代码“/../../..”不是数字",
        ),
        (
            good.replace("\"generation\": 2", "\"generation\": 0"),
            "第 0 版不存在，而数据库中有第 2 版",
        ),
    ] {
        assert_ne!(manifest, good, "{says}: the edit applies");
        std::fs::write(d.path("db/manifest.json"), &manifest).unwrap();
        let out = ingest(&d, "mar", &[]);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(2), "{said}");
        assert!(
            said.contains(says) && said.contains("未作任何改动"),
            "{said}"
        );
        assert_eq!(files(&d), before, "{says}");
        assert_eq!(
            std::fs::read_to_string(d.path("db/manifest.json")).unwrap(),
            manifest
        );
        let out = util::phstats(d.tmp.path(), &["report", "--store", "db", "-o", "r.xlsx"]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    }
    assert!(!d
        .tmp
        .path()
        .parent()
        .unwrap()
        .join("month=2026-03")
        .exists());
    // An older manifest restored from a backup names a generation that is
    // kept: it is in force again, and the next ingest is generation 3, so
    // generation 2 is never overwritten nor deleted.
    std::fs::write(d.path("db/manifest.json"), &first).unwrap();
    assert!(ingest(&d, "mar", &[]).status.code().unwrap() < 2);
    assert!(d
        .path("db/submissions/generation=2/submissions.parquet")
        .exists());
    assert!(d
        .path("db/submissions/generation=3/submissions.parquet")
        .exists());
}

/// A figures part deleted from the store (FORMS.md §7): `report` says the
/// store is damaged and names the part and a return whose figures it held
/// (exit 2), instead of a month of `missing_return` warnings blaming the
/// townships; and a part the generation in force does not name (left by a
/// crash or a lost ingest, here a copy under another generation's name) is
/// never read.
#[test]
fn a_missing_part_is_damage_and_an_unnamed_part_never_counts() {
    let d = Dir::new();
    city_east_january(&d);
    family(
        &d,
        "feb/城东街道202602.xlsx",
        "城东街道",
        2,
        &[("东门社区", 1000.0, 410.0), ("新村", 500.0, 100.0)],
    );
    assert!(ingest(&d, "jan", &[]).status.code().unwrap() < 2);
    assert!(ingest(&d, "feb", &[]).status.code().unwrap() < 2);
    let jan = d.path("db/observations/city=439900000000/month=2026-01/part-000001.parquet");
    assert!(jan.exists());
    // An unnamed copy of January's figures, as a lost ingest could leave.
    std::fs::copy(&jan, jan.with_file_name("part-000002.parquet")).unwrap();
    let out = util::phstats(
        d.tmp.path(),
        &[
            "report", "--store", "db", "--period", "2026-01", "--export", "out", "-o", "r.xlsx",
        ],
    );
    assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    assert_eq!(
        a.get(&("2026-01".into(), CD.into(), "signed".into())),
        Some(&500.0)
    );
    std::fs::remove_file(jan.with_file_name("part-000002.parquet")).unwrap();
    std::fs::remove_file(&jan).unwrap();
    let out = util::phstats(
        d.tmp.path(),
        &[
            "report", "--store", "db", "--period", "2026-01", "-o", "r2.xlsx",
        ],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("数据库已损坏") && said.contains("part-000001.parquet"),
        "{said}"
    );
    assert!(said.contains("jan/城东街道202601.xlsx"), "{said}");
    assert!(!said.contains("未上报"), "{said}");
    assert!(!d.path("r2.xlsx").exists());
    // February's report reads January as history, from its counted
    // figures: a cache, which never stands for the missing record.
    let out = util::phstats(
        d.tmp.path(),
        &[
            "report", "--store", "db", "--period", "2026-02", "-o", "r3.xlsx",
        ],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("数据库已损坏") && said.contains("part-000001.parquet"),
        "{said}"
    );
    assert!(!d.path("r3.xlsx").exists());
}

/// Names as people type them (issue 30), through `history` and `trace`:
/// a short form name and a field without its `(%)` are found; a unit name
/// three townships share and a misspelt one exit 2 with the candidates or
/// the nearest names, instead of "no submission matches" (exit 0) or a
/// silent pick of one of them.
#[test]
fn names_are_found_as_typed_and_an_ambiguous_or_misspelt_one_is_refused() {
    let d = Dir::new();
    city_east_january(&d);
    assert!(ingest(&d, "jan", &[]).status.code().unwrap() < 2);
    let run = |args: &[&str]| util::phstats(d.tmp.path(), args);
    let out = run(&[
        "history",
        "--store",
        "db",
        "--form",
        "家医",
        "--unit",
        "城东街道",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("城东街道202601.xlsx"), "{}", text(&out));
    let out = run(&["history", "--store", "db", "--unit", "城东街"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("最接近的是：城东街道"),
        "{}",
        text(&out)
    );
    let out = run(&[
        "trace",
        "--store",
        "db",
        "--period",
        "2026-01",
        "--unit",
        "新村",
        "--field",
        "签约率",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("同时指 2 个")
            && said.contains("新村（城东街道，439902001002）")
            && said.contains("新村（新民镇，439902101201）"),
        "{said}"
    );
    let out = run(&[
        "trace",
        "--store",
        "db",
        "--period",
        "2026-01",
        "--unit",
        "城东街道新村",
        "--field",
        "签约率",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("新村 2026年1月 “签约率(%)” = 20.0"),
        "{}",
        text(&out)
    );
}

/// `ingest -q` prints one summary line, not a line per return (issue 30):
/// what was recorded and how it stands, the findings by severity, and who
/// is still missing in the month it brought.
#[test]
fn a_quiet_ingest_says_one_line_with_who_is_still_missing() {
    let d = Dir::new();
    city_east(&d, "feb/城东街道202602.xlsx", 2);
    let out = ingest(&d, "feb", &["-q"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(!said.contains("已记录 "), "{said}");
    assert!(
        said.contains("本次记录 1 份：有效 1，待更正 0，重复收到 0，未计入 0；发现错误 0 条、警告 0 条；所涉月份仍未报送 1 个单位：新民镇"),
        "{said}"
    );
    family(
        &d,
        "feb2/新民镇202602.xlsx",
        "新民镇",
        2,
        &[("新村", 300.0, 60.0), ("红旗村", 200.0, 50.0)],
    );
    let said = text(&ingest(&d, "feb2", &["-q"]));
    assert!(said.contains("所涉月份各报表均已报齐"), "{said}");
    // Nothing new counted (the files held already): no month judged, so
    // nothing said of whether the months are complete.
    let said = text(&ingest(&d, "feb2", &["-q"]));
    assert!(said.contains("1 个文件已在库中未改动"), "{said}");
    assert!(
        !said.contains("报齐") && !said.contains("仍未报送"),
        "{said}"
    );
}

/// Each return an ingest records is named as a person names it: its file
/// and sheet, the unit, the form's short name and the month in words (the
/// form's id and `2026-02` were printed, the only ids of the terminal).
#[test]
fn an_ingest_names_each_return_it_records_in_words() {
    let d = Dir::new();
    city_east(&d, "feb/城东街道202602.xlsx", 2);
    let said = text(&ingest(&d, "feb", &[]));
    let line = said
        .lines()
        .find(|l| l.contains("已记录"))
        .unwrap_or_else(|| panic!("{said}"));
    assert_eq!(
        line.trim(),
        "已记录 feb/城东街道202602.xlsx!family_doctor 城东街道 家医签约 2026年2月：有效（计入）（唯一的一份）",
        "{said}"
    );
    let out = util::phstats(
        d.tmp.path(),
        &[
            "--lang",
            "en",
            "ingest",
            "feb",
            "--store",
            "db2",
            "--units",
            "units.csv",
        ],
    );
    assert!(
        text(&out).contains("recorded feb/城东街道202602.xlsx!family_doctor 城东街道 Family doctor 2026-02: in force"),
        "{}",
        text(&out)
    );
}

/// A backlog (issue 27): returns without a 报出日期 ingested weeks after
/// they arrived are on time when `--received` gives the day they came, and
/// late by their ingest day when it does not. The ingest that makes one
/// late says so, and how to take it back; doing as it says, the return is
/// on time.
#[test]
fn a_backlog_is_judged_by_the_day_it_was_received() {
    let d = Dir::new();
    city_east(&d, "a/城东街道202602.xlsx", 2);
    family(
        &d,
        "b/新民镇202602.xlsx",
        "新民镇",
        2,
        &[("新村", 300.0, 60.0), ("红旗村", 200.0, 50.0)],
    );
    let out = ingest(&d, "a", &["--received", "2026年3月3日"]);
    assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    assert!(!text(&out).contains("没有报出日期"), "{}", text(&out));
    let out = ingest(&d, "b", &[]);
    assert!(out.status.code().unwrap() < 2);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("提示 其中 1 份报表没有报出日期，以入库日 ")
            && said.contains("作为收到日期，晚于报送期限，计为逾期；如是事后补录的报表，可先 phstats store rollback 1 --store db，再加 --received 实际收到日期重新入库"),
        "{said}"
    );
    let late_in = |dir: &str| -> Vec<String> {
        let out = util::phstats(
            d.tmp.path(),
            &[
                "report", "--store", "db", "--period", "2026-02", "--export", dir, "-o", "r.xlsx",
                "--force",
            ],
        );
        assert!(out.status.code().unwrap() < 2, "{}", text(&out));
        util::read_csv(&d.path(&format!("{dir}/findings.csv")))
            .into_iter()
            .filter(|f| f["rule"] == "late_return")
            .map(|f| f["unit_code"].clone())
            .collect()
    };
    // 新民镇 was ingested today (after 2026-03-05); 城东街道 arrived on 3 March.
    assert_eq!(late_in("out"), [XM.to_string()]);
    // As the ingest said: back to generation 1, then again with the day.
    let out = util::phstats(d.tmp.path(), &["store", "rollback", "1", "--store", "db"]);
    assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    let out = ingest(&d, "b", &["--received", "2026-03-04"]);
    assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    assert!(!text(&out).contains("没有报出日期"), "{}", text(&out));
    assert_eq!(late_in("again"), Vec::<String>::new());
    // Its history says the day it came, then when it was entered.
    let out = util::phstats(
        d.tmp.path(),
        &["history", "--store", "db", "--unit", "新民镇"],
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("  第 1 版 2026-03-04 收到（")
            && said.contains(" 补录） b/新民镇202602.xlsx!"),
        "{said}"
    );
    let out = ingest(&d, "a", &["--received", "某天"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("--received “某天”不是日期"),
        "{}",
        text(&out)
    );
    // A day to come (2199 for 2026): said, and nothing written.
    let before = std::fs::read_to_string(d.path("db/manifest.json")).unwrap();
    let out = ingest(&d, "a", &["--received", "2199-03-03", "--correction"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--received 2199-03-03 晚于今天（"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(d.path("db/manifest.json")).unwrap(),
        before
    );
}

/// Two different returns for one unit and month, neither marked: both stay
/// out (FORMS.md §7). `withdraw` takes the wrong one out, kept in history
/// with its reason, and the other is settled in force; on another store,
/// sending the right one again byte for byte with `--correction` settles
/// the duplicate in its favour (it used to be "内容已在数据库中，未作改动").
#[test]
fn a_duplicate_is_settled_by_a_withdrawal_or_by_the_same_bytes_as_a_correction() {
    let d = Dir::new();
    city_east(&d, "a/城东街道202602.xlsx", 2);
    family(
        &d,
        "b/城东街道202602_二.xlsx",
        "城东街道",
        2,
        &[("东门社区", 1000.0, 900.0), ("新村", 500.0, 100.0)],
    );
    let signed = |db: &str| {
        let out = util::phstats(
            d.tmp.path(),
            &[
                "report",
                "--store",
                db,
                "--period",
                "2026-02",
                "--export",
                &format!("{db}_out"),
                "-o",
                &format!("{db}.xlsx"),
                "--force",
            ],
        );
        assert!(out.status.code().unwrap() < 2, "{}", text(&out));
        util::aggregates(&d.path(&format!("{db}_out/aggregates.csv")))
            .get(&("2026-02".into(), CD.into(), "signed".into()))
            .copied()
    };
    for db in ["db", "db2"] {
        for dir in ["a", "b"] {
            let out = util::phstats(
                d.tmp.path(),
                &["ingest", dir, "--units", "units.csv", "--store", db],
            );
            assert!(out.status.code().unwrap() < 2, "{}", text(&out));
        }
        let out = util::phstats(d.tmp.path(), &["history", "--store", db]);
        assert_eq!(
            text(&out).matches("重复报送，待更正").count(),
            2,
            "{}",
            text(&out)
        );
    }
    // The wrong one withdrawn: the other is in force.
    let out = util::phstats(
        d.tmp.path(),
        &[
            "withdraw",
            "--store",
            "db",
            "城东街道202602_二.xlsx",
            "--reason",
            "错发的草稿",
        ],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("已撤回，不计入") && said.contains("有效（计入）"),
        "{said}"
    );
    assert_eq!(signed("db"), Some(500.0));
    let out = util::phstats(d.tmp.path(), &["history", "--store", "db"]);
    assert!(
        text(&out).contains("已撤回，不计入（错发的草稿）"),
        "{}",
        text(&out)
    );
    // The log says what was withdrawn and why (it said only 撤回).
    let log = text(&util::phstats(
        d.tmp.path(),
        &["store", "log", "--store", "db"],
    ));
    assert!(
        log.contains("→ 第 3 版")
            && log.contains("撤回 b/城东街道202602_二.xlsx!family_doctor（错发的草稿）："),
        "{log}"
    );
    let out = util::phstats(
        d.tmp.path(),
        &[
            "withdraw",
            "--store",
            "db",
            "没有这个.xlsx",
            "--reason",
            "x",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // The right one again, the same bytes, as a correction.
    let out = util::phstats(
        d.tmp.path(),
        &[
            "ingest",
            "a",
            "--units",
            "units.csv",
            "--store",
            "db2",
            "--correction",
        ],
    );
    assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    assert_eq!(signed("db2"), Some(500.0));
}

/// Kept generations (FORMS.md §7): `store log` lists them, `store rollback N`
/// puts N's content in force as a new generation (nothing deleted: the
/// rollback can be rolled back), `store verify` exits 1 naming a missing
/// part, and only the last 20 generations are kept.
#[test]
fn generations_are_kept_logged_rolled_back_and_verified() {
    let d = Dir::new();
    city_east_january(&d);
    family(
        &d,
        "fix/城东街道202601_更正.xlsx",
        "城东街道",
        1,
        &[("东门社区", 1000.0, 420.0), ("新村", 500.0, 100.0)],
    );
    assert!(ingest(&d, "jan", &[]).status.code().unwrap() < 2);
    assert!(ingest(&d, "fix", &[]).status.code().unwrap() < 2);
    let run = |args: &[&str]| util::phstats(d.tmp.path(), args);
    let signed = |tag: &str| {
        let out = run(&[
            "report",
            "--store",
            "db",
            "--period",
            "2026-01",
            "--export",
            tag,
            "-o",
            &format!("{tag}.xlsx"),
        ]);
        assert!(out.status.code().unwrap() < 2, "{}", text(&out));
        util::aggregates(&d.path(&format!("{tag}/aggregates.csv")))
            [&("2026-01".to_string(), CD.to_string(), "signed".to_string())]
    };
    assert_eq!(signed("g2"), 520.0);
    let said = text(&run(&["store", "log", "--store", "db"]));
    assert!(
        said.contains("第 1 版") && said.contains("→ 第 2 版"),
        "{said}"
    );
    // Back to generation 1: the correction undone, as generation 3.
    let out = run(&["store", "rollback", "1", "--store", "db"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("现为第 3 版"), "{}", text(&out));
    assert_eq!(signed("g3"), 500.0);
    // With generation 1's counted figures, for the next ingest's checks.
    let counted = |g: u32| {
        std::fs::read(d.path(&format!(
            "db/submissions/generation={g}/counted-2026-01.bin"
        )))
    };
    assert_eq!(counted(3).unwrap(), counted(1).unwrap());
    assert_ne!(counted(2).unwrap(), counted(1).unwrap());
    // And forward again: generation 2's content, as generation 4.
    assert_eq!(
        run(&["store", "rollback", "2", "--store", "db"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(signed("g4"), 520.0);
    let said = text(&run(&["store", "log", "--store", "db"]));
    assert!(
        said.contains("第 3 版")
            && said.contains("回退到第 1 版：新记录 0 份")
            && said.contains("→ 第 4 版")
            && said.contains("回退到第 2 版："),
        "{said}"
    );
    // To the generation in force: nothing to make.
    let out = run(&["store", "rollback", "4", "--store", "db"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("现在有效的就是第 4 版，未作改动"),
        "{}",
        text(&out)
    );
    assert!(text(&run(&["store", "log", "--store", "db"])).contains("→ 第 4 版"));
    assert!(!d.path("db/submissions/generation=5").exists());
    let out = run(&["store", "rollback", "9", "--store", "db"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("没有保留第 9 版"), "{}", text(&out));
    // verify: whole, then a part deleted.
    assert_eq!(
        run(&["store", "verify", "--store", "db"]).status.code(),
        Some(0)
    );
    let part = d.path("db/observations/city=439900000000/month=2026-01/part-000002.parquet");
    std::fs::remove_file(&part).unwrap();
    let out = run(&["store", "verify", "--store", "db"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("part-000002.parquet"), "{}", text(&out));
    // Ingesting the file whose figures it held again says the store is
    // damaged (its content is held: nothing of it is read again), never
    // "held, nothing changed".
    let before = std::fs::read_to_string(d.path("db/manifest.json")).unwrap();
    let out = ingest(&d, "fix", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("数据库已损坏") && text(&out).contains("part-000002.parquet"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(d.path("db/manifest.json")).unwrap(),
        before
    );
    // Retention: twenty more generations (rollbacks need no part), and
    // the oldest are gone.
    for k in 0..20 {
        // Each time to the one before the generation in force: 3 (at
        // 4), then 4 (at 5), ….
        let out = run(&["store", "rollback", &(3 + k).to_string(), "--store", "db"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let kept = std::fs::read_dir(d.path("db/submissions")).unwrap().count();
    assert_eq!(kept, 20, "generations kept");
    assert!(!d.path("db/submissions/generation=1").exists());
}

/// `report --store --scope`: one township's report from a city's store.
/// The other township's return is left out in one line, never as units
/// missing from the registry, and nothing outside the scope is reported.
#[test]
fn a_store_reports_one_subtree_with_scope() {
    let d = Dir::new();
    city_east(&d, "jan/城东街道.xlsx", 1);
    family(
        &d,
        "jan/新民镇.xlsx",
        "新民镇",
        1,
        &[("新村", 800.0, 300.0)],
    );
    assert!(ingest(&d, "jan", &[]).status.code().unwrap() < 2);
    let out = util::phstats(
        d.tmp.path(),
        &[
            "report",
            "--store",
            "db",
            "--scope",
            "城东街道",
            "--period",
            "2026-01",
            "--export",
            "out",
            "-o",
            "r.xlsx",
        ],
    );
    let said = text(&out);
    assert!(out.status.code().unwrap() < 2, "{said}");
    assert!(
        said.contains("1 份报表来自 --scope 范围以外的单位，已略过"),
        "{said}"
    );
    assert!(!said.contains("已不在单位名录中"), "{said}");
    let aggs = util::read_csv(&d.path("out/aggregates.csv"));
    let codes: std::collections::BTreeSet<&str> =
        aggs.iter().map(|r| r["unit_code"].as_str()).collect();
    assert_eq!(
        codes.into_iter().collect::<Vec<_>>(),
        ["439902001000", "439902001001", "439902001002"],
        "城东街道 and its villages only"
    );
    let signed = aggs
        .iter()
        .find(|r| r["unit_code"] == "439902001000" && r["field"] == "signed")
        .unwrap();
    assert_eq!(signed["value"], "500");
    // A scope that is no unit is a usage error naming it.
    let out = util::phstats(
        d.tmp.path(),
        &["report", "--store", "db", "--scope", "不存在镇"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// What changed since a report went up (issue 30): `changes --since` lists
/// every published figure that a correction moved, old → new, with the
/// returns that moved it; `report --as-of` gives the report as it stood.
#[test]
fn changes_and_as_of_across_a_correction() {
    let d = Dir::new();
    city_east(&d, "a/城东街道202602.xlsx", 2);
    family(
        &d,
        "a/新民镇202602.xlsx",
        "新民镇",
        2,
        &[("新村", 300.0, 60.0), ("红旗村", 200.0, 50.0)],
    );
    family(
        &d,
        "b/城东街道202602_更正.xlsx",
        "城东街道",
        2,
        &[("东门社区", 1000.0, 450.0), ("新村", 500.0, 100.0)],
    );
    for dir in ["a", "b"] {
        let out = ingest(&d, dir, &[]);
        assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    }
    let out = util::phstats(
        d.tmp.path(),
        &[
            "changes", "--store", "db", "--period", "2026-02", "--since", "1",
        ],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    // 城东街道 签约 500 → 550, and so 东湖区 and 青山市 610 → 660; each
    // 签约率 with it: 500/1500 → 550/1500, 610/2000 → 660/2000.
    assert!(said.contains("变动的数字 6 个（现为第 2 版）"), "{said}");
    let lines: Vec<&str> = said.lines().collect();
    let moved = |unit: &str, what: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("    {unit} 家医签约 {what}")))
            .unwrap_or_else(|| panic!("no {unit} {what}: {said}"))
            .to_string()
    };
    // The returns that moved them, named once above the figures.
    let by: Vec<&&str> = lines.iter().filter(|l| l.starts_with("  由 ")).collect();
    assert_eq!(by.len(), 1, "{said}");
    assert_eq!(
        *by[0],
        "  由 b/城东街道202602_更正.xlsx!family_doctor（新计入）、a/城东街道202602.xlsx!family_doctor（不再计入：已被更正替代）：",
        "{said}"
    );
    assert_eq!(lines[1], *by[0], "{said}");
    assert_eq!(lines.len(), 8, "{said}");
    for unit in ["青山市", "东湖区", "城东街道"] {
        let line = moved(unit, "签约人数");
        let (a, b) = if unit == "城东街道" {
            ("500", "550")
        } else {
            ("610", "660")
        };
        assert!(line.ends_with(&format!("：{a} → {b}")), "{line}");
    }
    assert!(
        moved("城东街道", "家庭医生签约率").contains("33.3 → 36.7"),
        "{said}"
    );
    assert!(!said.contains("新民镇 家医签约"), "{said}");
    // The report as it stood at generation 1, and by a day: today's is now's.
    let signed = |as_of: &str, out: &str| {
        let o = util::phstats(
            d.tmp.path(),
            &[
                "report",
                "--store",
                "db",
                "--as-of",
                as_of,
                "--period",
                "2026-02",
                "--export",
                out,
                "-o",
                &format!("{out}.xlsx"),
            ],
        );
        assert!(o.status.code().unwrap() < 2, "{}", text(&o));
        util::aggregates(&d.path(&format!("{out}/aggregates.csv")))
            [&("2026-02".to_string(), CD.to_string(), "signed".to_string())]
    };
    assert_eq!(signed("1", "g1"), 500.0);
    assert_eq!(signed("2", "g2"), 550.0);
    let today = chrono_today();
    assert_eq!(signed(&today, "today"), 550.0);
    let out = util::phstats(
        d.tmp.path(),
        &[
            "report",
            "--store",
            "db",
            "--as-of",
            "2020-01-01",
            "-o",
            "x.xlsx",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("没有保留的版本"), "{}", text(&out));
    let out = util::phstats(
        d.tmp.path(),
        &[
            "changes", "--store", "db", "--period", "2026-02", "--since", "9",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("没有保留第 9 版"), "{}", text(&out));
}

/// Today's date in Beijing, as the store stamps its commits.
fn chrono_today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + 8 * 3600;
    let days = secs.div_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year}-{month:02}-{day:02}")
}

/// `--scope` on `history` and `template` (issue 30): one township's
/// submissions and templates only; a scope that is no unit exits 2.
#[test]
fn history_and_template_take_a_scope() {
    let d = Dir::new();
    city_east(&d, "a/城东街道202602.xlsx", 2);
    family(
        &d,
        "a/新民镇202602.xlsx",
        "新民镇",
        2,
        &[("新村", 300.0, 60.0), ("红旗村", 200.0, 50.0)],
    );
    assert!(ingest(&d, "a", &[]).status.code().unwrap() < 2);
    let out = util::phstats(
        d.tmp.path(),
        &["history", "--store", "db", "--scope", "新民镇"],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("新民镇202602.xlsx"), "{said}");
    assert!(!said.contains("城东街道"), "{said}");
    let out = util::phstats(
        d.tmp.path(),
        &["history", "--store", "db", "--scope", "南山镇"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let files = |dir: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d.path(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    for (scope, dir, n) in [("东湖区", "t_county", 6), ("新民镇", "t_town", 3)] {
        let out = util::phstats(
            d.tmp.path(),
            &[
                "template",
                "--units",
                "units.csv",
                "--period",
                "2026-03",
                "-o",
                dir,
                "--scope",
                scope,
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let made = files(dir);
        assert_eq!(made.len(), n, "{made:?}");
        if scope == "新民镇" {
            assert!(made.iter().all(|f| f.contains("新民镇")), "{made:?}");
        }
    }
    // A form by its short name, resolved as everywhere else.
    let out = util::phstats(
        d.tmp.path(),
        &[
            "template",
            "--units",
            "units.csv",
            "--period",
            "2026-03",
            "-o",
            "t_form",
            "--form",
            "慢病",
            "--scope",
            "新民镇",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(files("t_form").len(), 1);
}

fn family_rate(d: &Dir, file: &str, unit: &str, month: u32, rate: f64) {
    util::write_return(
        &d.path(file),
        "family_doctor",
        unit,
        Some(&format!("2026年{month}月")),
        &[
            (
                "东门社区",
                vec![
                    ("resident_pop", V::N(1000.0)),
                    ("signed", V::N(400.0)),
                    ("signing_rate", V::N(rate)),
                ],
            ),
            (
                "新村",
                vec![("resident_pop", V::N(500.0)), ("signed", V::N(100.0))],
            ),
        ],
        None,
    );
}

/// `confirm` (issue 30): a warning checked once stays checked. Confirmed by
/// its id, it shows as 已核实 with who and why, is not open in `status`,
/// stays so when the next month comes in and in the quarter, and a changed
/// value at that cell is raised as new. An error cannot be confirmed.
#[test]
fn a_confirmed_warning_stays_confirmed_until_its_value_changes() {
    let d = Dir::new();
    // 400 of 1000 is 40.0 %, written as 50: a rate_mismatch warning.
    family_rate(&d, "feb/城东街道202602.xlsx", "城东街道", 2, 50.0);
    family(
        &d,
        "feb/新民镇202602.xlsx",
        "新民镇",
        2,
        &[("新村", 300.0, 60.0), ("红旗村", 200.0, 50.0)],
    );
    assert!(ingest(&d, "feb", &[]).status.code().unwrap() < 2);
    let findings = |period: &str, out: &str| {
        let o = util::phstats(
            d.tmp.path(),
            &[
                "check", "--store", "db", "--period", period, "--export", out,
            ],
        );
        assert!(o.status.code().unwrap() < 2, "{}", text(&o));
        util::read_csv(&d.path(&format!("{out}/findings.csv")))
            .into_iter()
            .filter(|f| f["rule"] == "rate_mismatch")
            .collect::<Vec<_>>()
    };
    let before = findings("2026-02", "f1");
    assert_eq!(before.len(), 1, "{before:?}");
    let id = before[0]["id"].clone();
    assert_eq!(id.len(), 10, "{id}");
    let open = |period: &str| {
        let o = util::phstats(
            d.tmp.path(),
            &["status", "--store", "db", "--period", period],
        );
        text(&o)
    };
    assert!(
        open("2026-02").contains("错误 0 条，警告 1 条"),
        "{}",
        open("2026-02")
    );
    let o = util::phstats(
        d.tmp.path(),
        &[
            "confirm",
            "--store",
            "db",
            &id,
            "--reason",
            "按上级口径计算",
            "--by",
            "张三",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains(&format!("已核实 {id}")), "{}", text(&o));
    // Confirmed: shown with who and why, not open.
    let after = findings("2026-02", "f2");
    assert_eq!(after[0]["id"], id);
    assert!(after[0]["message"].contains("已核实（张三，"), "{after:?}");
    assert!(after[0]["message"].contains("按上级口径计算"), "{after:?}");
    let said = open("2026-02");
    assert!(said.contains("错误 0 条，警告 0 条"), "{said}");
    assert!(said.contains("已核实（不计入未解决）：1 条"), "{said}");
    // March comes in: February's warning is not raised again, in the quarter either.
    family_rate(&d, "mar/城东街道202603.xlsx", "城东街道", 3, 40.0);
    family(
        &d,
        "mar/新民镇202603.xlsx",
        "新民镇",
        3,
        &[("新村", 300.0, 60.0), ("红旗村", 200.0, 50.0)],
    );
    assert!(ingest(&d, "mar", &[]).status.code().unwrap() < 2);
    let quarter = findings("2026Q1", "f3");
    assert_eq!(quarter.len(), 1, "{quarter:?}");
    assert!(quarter[0]["message"].contains("已核实"), "{quarter:?}");
    assert!(open("2026Q1").contains("警告 0 条"), "{}", open("2026Q1"));
    // A correction with another value at that cell: a new finding, open.
    family_rate(&d, "fix/城东街道202602_更正.xlsx", "城东街道", 2, 55.0);
    assert!(ingest(&d, "fix", &[]).status.code().unwrap() < 2);
    let changed = findings("2026-02", "f4");
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_ne!(changed[0]["id"], id);
    assert!(!changed[0]["message"].contains("已核实"), "{changed:?}");
    assert!(open("2026-02").contains("警告 1 条"), "{}", open("2026-02"));
    // Unknown ids and errors are refused, and nothing is written.
    let o = util::phstats(
        d.tmp.path(),
        &["confirm", "--store", "db", "0000000000", "--reason", "x"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("没有编号为 0000000000"), "{}", text(&o));
}

/// The registry at ingest (issue 27): `--units` makes a store; afterwards
/// the store's registry is the default, and a changed one is its next
/// version, the changes said before it is recorded.
#[test]
fn units_are_needed_once_and_a_new_registry_is_a_version() {
    let d = Dir::new();
    city_east_january(&d);
    family(
        &d,
        "feb/城东街道202602.xlsx",
        "城东街道",
        2,
        &[("东门社区", 1000.0, 410.0), ("新村", 500.0, 100.0)],
    );
    family(
        &d,
        "mar/城东街道202603.xlsx",
        "城东街道",
        3,
        &[("东门社区", 1000.0, 420.0), ("新村", 500.0, 100.0)],
    );
    // A new store without a registry: refused, nothing made.
    let out = util::phstats(d.tmp.path(), &["ingest", "jan", "--store", "db"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("第一次入库须给出单位名录"),
        "{}",
        text(&out)
    );
    assert!(!d.path("db/manifest.json").exists());
    assert!(ingest(&d, "jan", &[]).status.code().unwrap() < 2);
    // Then the store's own.
    let out = util::phstats(d.tmp.path(), &["ingest", "feb", "--store", "db", "-q"]);
    assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    assert!(
        !text(&out).contains("单位名录与数据库中的不同"),
        "{}",
        text(&out)
    );
    // A renamed village: a new version, said.
    std::fs::write(
        d.path("units2.csv"),
        util::UNITS.replace("439902001001,东门社区", "439902001001,东门新社区"),
    )
    .unwrap();
    let out = util::phstats(
        d.tmp.path(),
        &[
            "ingest",
            "mar",
            "--units",
            "units2.csv",
            "--store",
            "db",
            "-q",
        ],
    );
    let said = text(&out);
    assert!(out.status.code().unwrap() < 2, "{said}");
    assert!(said.contains("单位名录与数据库中的不同"), "{said}");
    assert!(
        said.contains("东门社区（439902001001）已更名为 东门新社区"),
        "{said}"
    );
    // And it is the store's from then on: a report without --units uses it,
    // January's figures kept by code under the new name.
    let out = util::phstats(
        d.tmp.path(),
        &[
            "report", "--store", "db", "--period", "2026-01", "-o", "r.xlsx", "--export", "out",
        ],
    );
    assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    let names: Vec<String> = util::read_csv(&d.path("out/aggregates.csv"))
        .into_iter()
        .map(|r| r["unit_name"].clone())
        .collect();
    assert!(names.iter().any(|n| n == "东门新社区"), "{names:?}");
}

/// Kill -9 at random points of an ingest (issue 27), 30 trials: after each,
/// ingesting the same files again gives exports byte-identical to a clean
/// store's — nothing lost, nothing counted twice, whatever the moment.
#[test]
fn an_ingest_killed_at_any_point_is_made_whole_by_ingesting_again() {
    let d = Dir::new();
    util::corpus(&d, 4, 2, true, 11);
    let bin = assert_cmd::cargo::cargo_bin("phstats");
    let ingest_into = |db: &str| {
        let mut cmd = std::process::Command::new(&bin);
        cmd.current_dir(d.tmp.path())
            .args([
                "ingest",
                "corpus/returns",
                "--units",
                "corpus/units.csv",
                "--store",
                db,
                "-q",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        cmd
    };
    let exports = |db: &str| {
        let out = util::phstats(
            d.tmp.path(),
            &[
                "report",
                "--store",
                db,
                "--period",
                "2026-02",
                "-o",
                &format!("{db}.xlsx"),
                "--export",
                &format!("{db}_out"),
                "--force",
            ],
        );
        assert!(out.status.code().unwrap() < 2, "{db}: {}", text(&out));
        ["aggregates.csv", "findings.csv"]
            .map(|f| std::fs::read(d.path(&format!("{db}_out/{f}"))).unwrap())
    };
    let start = std::time::Instant::now();
    assert!(ingest_into("clean").status().unwrap().code().unwrap() < 2);
    let took = start.elapsed();
    let clean = exports("clean");
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut killed_mid_way = 0;
    for trial in 0..30 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // Anywhere from the start to a little past the clean ingest's end.
        let at = took.mul_f64((seed >> 11) as f64 / (1u64 << 53) as f64 * 1.2);
        let db = format!("db{trial}");
        let mut child = ingest_into(&db).spawn().unwrap();
        std::thread::sleep(at);
        if child.try_wait().unwrap().is_none() {
            killed_mid_way += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let again = ingest_into(&db)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        assert!(
            again.status.code().unwrap() < 2,
            "trial {trial} at {at:?}: {}",
            text(&again)
        );
        assert!(
            exports(&db) == clean,
            "trial {trial}: killed at {at:?}, the exports differ"
        );
    }
    assert!(
        killed_mid_way >= 15,
        "only {killed_mid_way} of 30 kills landed mid-ingest"
    );
}

/// A return with a 合计 row whose 签约人数 is not the sum of its villages'.
fn family_with_total(d: &Dir, file: &str, month: u32, total_signed: f64) {
    util::write_return(
        &d.path(file),
        "family_doctor",
        "城东街道",
        Some(&format!("2026年{month}月")),
        &[
            (
                "东门社区",
                vec![("resident_pop", V::N(1000.0)), ("signed", V::N(400.0))],
            ),
            (
                "新村",
                vec![("resident_pop", V::N(500.0)), ("signed", V::N(100.0))],
            ),
        ],
        Some(&(
            "合计",
            vec![
                ("resident_pop", V::N(1500.0)),
                ("signed", V::N(total_signed)),
            ],
        )),
    );
}

/// The `total_mismatch` findings a report of `period` lists in its
/// findings.csv.
fn total_mismatches(d: &Dir, period: &str) -> usize {
    let out = util::phstats(
        d.tmp.path(),
        &[
            "report", "--store", "db", "--period", period, "-o", "r.xlsx", "--export", "out",
            "--force",
        ],
    );
    assert!(out.status.code().is_some_and(|c| c < 2), "{}", text(&out));
    std::fs::read_to_string(d.path("out/findings.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.contains("total_mismatch"))
        .count()
}

/// Since version 2 a store keeps each ingest's layouts (a return's 合计
/// cells and column sums, what `report` checks the return again from) in a
/// part of their own; version 1 kept them all in the submissions table,
/// rewritten whole by every ingest. A version-1 store (made here from a
/// version-2 one, as the older phstats wrote it) is still read, checked and
/// ingested into as it is: the 合计 that does not add up is found again in
/// either version, and after a second ingest the older month's still is.
#[test]
fn a_store_of_layout_version_1_is_read_and_written_as_it_is() {
    let d = Dir::new();
    family_with_total(&d, "jan/城东街道202601.xlsx", 1, 999.0);
    ingest(&d, "jan", &[]);
    assert_eq!(total_mismatches(&d, "2026-01"), 1, "version 2");
    assert!(d.path("db/layouts/part-000001.parquet").exists());
    // The store as version 1 wrote it: the layouts in the submissions
    // table, no layout parts, version 1 in the manifest.
    let layouts =
        ParquetReader::new(std::fs::File::open(d.path("db/layouts/part-000001.parquet")).unwrap())
            .finish()
            .unwrap();
    let by_id: HashMap<String, String> = layouts
        .column("submission_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .zip(layouts.column("layout").unwrap().str().unwrap().iter())
        .map(|(i, l)| (i.unwrap().to_string(), l.unwrap().to_string()))
        .collect();
    let table = d.path("db/submissions/generation=1/submissions.parquet");
    let mut subs = ParquetReader::new(std::fs::File::open(&table).unwrap())
        .finish()
        .unwrap();
    assert!(
        subs.column("layout").is_err(),
        "version 2 has no layout column"
    );
    let column: Vec<String> = subs
        .column("submission_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|i| by_id.get(i.unwrap()).cloned().unwrap_or_default())
        .collect();
    subs.with_column(Column::new("layout".into(), column))
        .unwrap();
    ParquetWriter::new(std::fs::File::create(&table).unwrap())
        .finish(&mut subs)
        .unwrap();
    std::fs::remove_dir_all(d.path("db/layouts")).unwrap();
    let m = std::fs::read_to_string(d.path("db/manifest.json")).unwrap();
    std::fs::write(
        d.path("db/manifest.json"),
        m.replace("\"version\": 2", "\"version\": 1"),
    )
    .unwrap();
    assert_eq!(total_mismatches(&d, "2026-01"), 1, "version 1, read");
    family_with_total(&d, "feb/城东街道202602.xlsx", 2, 888.0);
    let out = ingest(&d, "feb", &[]);
    assert!(out.status.code().is_some_and(|c| c < 2), "{}", text(&out));
    assert!(
        !d.path("db/layouts").exists(),
        "a version-1 store stays one"
    );
    let m = std::fs::read_to_string(d.path("db/manifest.json")).unwrap();
    assert!(m.contains("\"version\": 1"), "{m}");
    assert_eq!(
        total_mismatches(&d, "2026-01"),
        1,
        "version 1, January kept"
    );
    assert_eq!(total_mismatches(&d, "2026-02"), 1, "version 1, February");
    let out = util::phstats(d.tmp.path(), &["store", "--store", "db", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// A report without `--period` checks again the returns of the latest month
/// it holds, their 合计 among them, and reads their layouts for it: the
/// month is the one the run reports, of the returns it can count. Here the
/// store's latest month holds only a township the registry given no longer
/// has (merged away): the report is of January, and January's 合计 that does
/// not add up is still found.
#[test]
fn a_report_of_the_latest_month_checks_the_returns_it_counts() {
    let d = Dir::new();
    family_with_total(&d, "jan/城东街道202601.xlsx", 1, 999.0);
    ingest(&d, "jan", &[]);
    family(
        &d,
        "feb/新民镇202602.xlsx",
        "新民镇",
        2,
        &[("新村", 500.0, 100.0), ("红旗村", 400.0, 100.0)],
    );
    ingest(&d, "feb", &[]);
    let merged: String = util::UNITS
        .lines()
        .filter(|l| !l.contains("439902101"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(d.path("merged.csv"), merged).unwrap();
    let out = util::phstats(
        d.tmp.path(),
        &[
            "report",
            "--store",
            "db",
            "--units",
            "merged.csv",
            "-o",
            "r.xlsx",
            "--export",
            "out",
        ],
    );
    assert!(out.status.code().is_some_and(|c| c < 2), "{}", text(&out));
    let findings = std::fs::read_to_string(d.path("out/findings.csv")).unwrap();
    let mismatches: Vec<&str> = findings
        .lines()
        .filter(|l| l.contains("total_mismatch"))
        .collect();
    assert_eq!(mismatches.len(), 1, "{findings}");
    assert!(mismatches[0].contains("2026-01"), "{findings}");
}

/// `report --store <db>` of each of `periods` (`""`: none, the latest
/// month), against the same report from a copy of the store without its
/// months' counted figures (every month then read from its returns): the
/// same aggregates, indicators and findings to the byte, and the same
/// words on the terminal.
fn reads_history_as_its_returns(d: &Dir, db: &str, periods: &[&str]) {
    let whole = format!("{db}_whole");
    for f in util::walk(&d.path(db)) {
        let rel = f.strip_prefix(d.path(db)).unwrap();
        if rel.to_string_lossy().contains("counted-") {
            continue;
        }
        let to = d.path(&whole).join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&f, &to).unwrap();
    }
    for period in periods {
        let run = |store: &str| {
            let (export, output) = (format!("{store}_out"), format!("{store}.xlsx"));
            let mut args = vec![
                "report", "--store", store, "--export", &export, "-o", &output, "--force",
            ];
            if !period.is_empty() {
                args.extend(["--period", period]);
            }
            let out = util::phstats(d.tmp.path(), &args);
            assert!(out.status.code().unwrap() < 2, "{period}: {}", text(&out));
            text(&out).replace(&whole, db)
        };
        let (lean, read_whole) = (run(db), run(&whole));
        assert_eq!(lean, read_whole, "{period}: what the terminal says");
        for csv in ["aggregates.csv", "indicators.csv", "findings.csv"] {
            let at = |store: &str| d.path(&format!("{store}_out/{csv}"));
            assert_eq!(
                std::fs::read_to_string(at(db)).unwrap(),
                std::fs::read_to_string(at(&whole)).unwrap(),
                "{period}: {csv}"
            );
        }
    }
}

/// A report reads the months before its period as history from their
/// counted figures (`crate::counted`), not their returns: what it says and
/// publishes is what it says reading every month's returns. Here the
/// months before are a January corrected in March, a February that
/// 新民镇 sent twice (one copy later withdrawn) and that 东湖区 summed
/// beside 城东街道's own detail (the county's row for it is never counted),
/// a March without 新民镇; and a generated corpus of six months with gaps
/// and a county summary.
#[test]
fn a_report_reads_the_months_before_its_period_as_their_returns_say() {
    let d = Dir::new();
    let jan = |d: &Dir, file: &str, k: f64| {
        family_services(
            d,
            file,
            "城东街道",
            1,
            &[
                ("东门社区", 1000.0, 400.0 + k, 30.0 + k),
                ("新村", 500.0, 100.0, 12.0),
            ],
        );
    };
    jan(&d, "m1/城东街道202601.xlsx", 0.0);
    family_services(
        &d,
        "m1/新民镇202601.xlsx",
        "新民镇",
        1,
        &[("新村", 800.0, 300.0, 20.0), ("红旗村", 700.0, 200.0, 15.0)],
    );
    family_services(
        &d,
        "m2/城东街道202602.xlsx",
        "城东街道",
        2,
        &[
            ("东门社区", 1000.0, 420.0, 33.0),
            ("新村", 500.0, 110.0, 9.0),
        ],
    );
    family_services(
        &d,
        "m2/新民镇202602.xlsx",
        "新民镇",
        2,
        &[("新村", 800.0, 310.0, 21.0), ("红旗村", 700.0, 210.0, 14.0)],
    );
    family_services(
        &d,
        "m2/新民镇202602_二.xlsx",
        "新民镇",
        2,
        &[("新村", 800.0, 390.0, 29.0), ("红旗村", 700.0, 260.0, 18.0)],
    );
    family_services(
        &d,
        "m2/东湖区202602.xlsx",
        "东湖区",
        2,
        &[
            ("城东街道", 1500.0, 999.0, 99.0),
            ("新民镇", 1500.0, 520.0, 35.0),
        ],
    );
    family_services(
        &d,
        "m3/城东街道202603.xlsx",
        "城东街道",
        3,
        &[
            ("东门社区", 1010.0, 430.0, 31.0),
            ("新村", 505.0, 115.0, 10.0),
        ],
    );
    jan(&d, "m3/城东街道202601_更正.xlsx", 25.0);
    for m in 4..=6u32 {
        let k = f64::from(m);
        family_services(
            &d,
            &format!("m{m}/城东街道2026{m:02}.xlsx"),
            "城东街道",
            m,
            &[
                ("东门社区", 1020.0, 430.0 + k, 30.0 + k),
                ("新村", 510.0, 118.0, 11.0),
            ],
        );
        if m != 5 {
            family_services(
                &d,
                &format!("m{m}/新民镇2026{m:02}.xlsx"),
                "新民镇",
                m,
                &[
                    ("新村", 810.0, 320.0 + k, 22.0),
                    ("红旗村", 705.0, 215.0, 16.0),
                ],
            );
        }
    }
    for m in 1..=6 {
        let out = ingest(&d, &format!("m{m}"), &[]);
        assert!(out.status.code().unwrap() < 2, "m{m}: {}", text(&out));
        if m == 4 {
            let out = util::phstats(
                d.tmp.path(),
                &[
                    "withdraw",
                    "--store",
                    "db",
                    "新民镇202602_二.xlsx",
                    "--reason",
                    "错发的草稿",
                ],
            );
            assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        }
    }
    // The store keeps what a report of the second quarter reads as its
    // history: January to March, each as the store now holds it, and in
    // February the county's row the townships' own detail counts already.
    let st = phstats::store::Store::open(&d.path("db")).unwrap();
    let csv = st.registry_csv().unwrap();
    let registry = phstats::registry::Registry::from_csv(csv.as_bytes(), "db").unwrap();
    let schemas = phstats::schema::Schemas::builtin().unwrap();
    let subs = st.submissions().unwrap();
    let april = phstats::period::Month::new(2026, 4).unwrap();
    let before = phstats::store::counted_before(&st, &subs, april, &registry, &csv, &schemas);
    let months: Vec<String> = before.iter().map(|m| m.month.to_string()).collect();
    assert_eq!(months, ["2026-01", "2026-02", "2026-03"]);
    assert_eq!(
        before[1].apart.len(),
        6,
        "东湖区's two rows, three figures each"
    );
    reads_history_as_its_returns(&d, "db", &["2026Q2", "2026-05", "", "2026-03..2026-06"]);

    // A generated corpus: vaccinations and dose sequences, gaps, and a
    // county summary in March beside the villages' February and April.
    util::corpus(&d, 14, 6, true, 7);
    util::ingest_corpus(&d, 6, "gen");
    reads_history_as_its_returns(&d, "gen", &["2026Q2", "", "2026-04"]);
}

/// A part damaged on the disk (two bytes of the sample's February part, as
/// a bad sector or a fuzzer leaves it): polars asserted on a length while
/// decoding it, and `report`, `status` and `store verify` exited 101 as a
/// bug of phstats. Each now names the damaged table (`store verify` exits
/// 1, the others 2); other bytes of it damaged never crash either.
#[test]
fn a_part_whose_bytes_are_damaged_is_named_not_a_crash() {
    let d = Dir::new();
    ingest_sample(&d, "2026-01");
    ingest_sample(&d, "2026-02");
    let part = d.path("db/observations/city=439900000000/month=2026-02/part-000002.parquet");
    let good = std::fs::read(&part).unwrap_or_else(|e| panic!("{}: {e}", part.display()));
    let damaged = |edits: &[(usize, u8)]| {
        let mut bytes = good.clone();
        for &(at, b) in edits {
            let at = at % bytes.len();
            bytes[at] = b;
        }
        std::fs::write(&part, bytes).unwrap();
    };
    // The two bytes found to make polars panic, then others across the part.
    let mut cases: Vec<Vec<(usize, u8)>> = vec![vec![(3863, 113), (4179, 99)]];
    cases.extend((1..8).map(|k| vec![(k * good.len() / 8, 0xFF), (k * good.len() / 8 + 1, 0x7F)]));
    for (i, edits) in cases.iter().enumerate() {
        damaged(edits);
        for args in [
            &["report", "--store", "db", "-o", "r.xlsx", "--force", "-q"][..],
            &["status", "--store", "db"][..],
            &["store", "verify", "--store", "db"][..],
        ] {
            let out = util::phstats(d.tmp.path(), args);
            let said = text(&out);
            assert!(
                out.status.code().is_some_and(|c| c < 101) && !said.contains("内部错误"),
                "case {i} {args:?}: {said}"
            );
            if i == 0 {
                // `store verify` finds damage: 1; a report cannot be made: 2.
                let want = if args[0] == "store" { 1 } else { 2 };
                assert_eq!(out.status.code(), Some(want), "{args:?}: {said}");
                assert!(said.contains("part-000002.parquet"), "{args:?}: {said}");
            }
        }
    }
}
