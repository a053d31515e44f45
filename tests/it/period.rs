//! Asking for the month you need (FORMS.md §6): `--period` selects and
//! never claims, a report is about its period, `--scope` consolidates one
//! county, registries and exports as Chinese offices save them, and a
//! careless command gets a clear sentence and exit 2.

use std::collections::HashMap;

use calamine::{open_workbook_auto, Data, Reader};

use crate::util::{self, cell_of, Dir, V};

const CD: &str = "439902001000"; // 城东街道
const XM: &str = "439902101000"; // 新民镇
const CITY: &str = "439900000000";

/// Six months of 城东街道's and 新民镇's family-doctor returns, one file
/// each, in `in/`: 城东街道's 常住人口数 falls 25 % in June.
fn six_months(d: &Dir) {
    for m in 1..=6u32 {
        let pop = if m == 6 { 750.0 } else { 1000.0 };
        for (unit, rows) in [
            (
                "城东街道",
                vec![
                    (
                        "东门社区",
                        vec![
                            ("resident_pop", V::N(pop)),
                            ("signed", V::N(300.0 + f64::from(m))),
                            ("services", V::N(10.0)),
                        ],
                    ),
                    (
                        "新村",
                        vec![
                            ("resident_pop", V::N(500.0)),
                            ("signed", V::N(200.0)),
                            ("services", V::N(5.0)),
                        ],
                    ),
                ],
            ),
            (
                "新民镇",
                vec![
                    (
                        "新村",
                        vec![
                            ("resident_pop", V::N(400.0)),
                            ("signed", V::N(100.0)),
                            ("services", V::N(2.0)),
                        ],
                    ),
                    (
                        "红旗村",
                        vec![
                            ("resident_pop", V::N(600.0)),
                            ("signed", V::N(150.0)),
                            ("services", V::N(3.0)),
                        ],
                    ),
                ],
            ),
        ] {
            util::write_return(
                &d.path(&format!("in/2026-{m:02}/{unit}_2026年{m}月.xlsx")),
                "family_doctor",
                unit,
                Some(&format!("2026年{m}月")),
                &rows,
                None,
            );
        }
    }
}

fn aggregates(d: &Dir, dir: &str) -> HashMap<(String, String, String), f64> {
    util::aggregates(&d.path(&format!("{dir}/aggregates.csv")))
}

fn findings(d: &Dir, dir: &str) -> Vec<HashMap<String, String>> {
    util::read_csv(&d.path(&format!("{dir}/findings.csv")))
}

fn run(d: &Dir, args: &[&str]) -> std::process::Output {
    util::phstats(d.tmp.path(), args)
}

#[test]
fn a_month_of_a_six_month_folder_is_that_month_with_its_history() {
    let d = Dir::new();
    six_months(&d);
    let out = run(
        &d,
        &[
            "consolidate",
            "in",
            "--units",
            "units.csv",
            "--period",
            "2026-06",
            "--export",
            "all",
            "-o",
            "all.xlsx",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("其他月份的 10 份只作历史比较"), "{stdout}");
    // June alone.
    let out = run(
        &d,
        &[
            "consolidate",
            "in/2026-06",
            "--units",
            "units.csv",
            "--period",
            "2026-06",
            "--export",
            "june",
            "-o",
            "june.xlsx",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let (all, june) = (aggregates(&d, "all"), aggregates(&d, "june"));
    assert_eq!(all, june, "the same June figures");
    assert_eq!(
        all.get(&("2026-06".into(), CD.into(), "resident_pop".into())),
        Some(&1250.0)
    );
    assert!(
        all.keys().all(|k| k.0 == "2026-06"),
        "only June is consolidated"
    );
    // The same June findings, plus the drop that May makes visible.
    let (fa, fj) = (findings(&d, "all"), findings(&d, "june"));
    let key =
        |f: &HashMap<String, String>| (f["rule"].clone(), f["file"].clone(), f["cell"].clone());
    let without_history: Vec<_> = fa
        .iter()
        .filter(|f| f["rule"] != "stock_drop" && f["rule"] != "outlier")
        .map(key)
        .collect();
    assert_eq!(without_history, fj.iter().map(key).collect::<Vec<_>>());
    let drop: Vec<_> = fa.iter().filter(|f| f["rule"] == "stock_drop").collect();
    assert_eq!(drop.len(), 1, "{fa:#?}");
    assert_eq!(drop[0]["period"], "2026-06");
    assert_eq!(drop[0]["cell"], cell_of("family_doctor", "resident_pop", 0));
    assert!(fa
        .iter()
        .all(|f| f["period"].is_empty() || f["period"] == "2026-06"));
    // The 说明 lists June's returns only.
    let mut wb = open_workbook_auto(d.path("all.xlsx")).unwrap();
    let notes = wb.worksheet_range("说明").unwrap();
    let texts: Vec<String> = notes
        .rows()
        .flat_map(|r| {
            r.iter().filter_map(|c| match c {
                Data::String(s) => Some(s.clone()),
                _ => None,
            })
        })
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("本期报表 2 份") && t.contains("其他月份报表 10 份")),
        "{texts:?}"
    );
    assert!(
        !texts.iter().any(|t| t == "2026-05"),
        "no May return is listed"
    );
}

#[test]
fn check_with_a_period_sends_feedback_for_that_period_only() {
    let d = Dir::new();
    six_months(&d);
    // A June error and a March error.
    for (m, file) in [
        (6, "in/2026-06/城东街道_2026年6月.xlsx"),
        (3, "in/2026-03/城东街道_2026年3月.xlsx"),
    ] {
        util::write_return(
            &d.path(file),
            "family_doctor",
            "城东街道",
            Some(&format!("2026年{m}月")),
            &[
                (
                    "东门社区",
                    vec![("resident_pop", V::N(1000.0)), ("signed", V::N(1200.0))],
                ),
                ("新村", vec![("resident_pop", V::N(500.0))]),
            ],
            None,
        );
    }
    std::fs::create_dir_all(d.path("fb")).unwrap();
    std::fs::write(d.path("fb/说明.txt"), "kept").unwrap();
    std::fs::write(
        d.path("fb/新民镇_2026年6月_退回修改.xlsx"),
        "an old one, now fixed",
    )
    .unwrap();
    std::fs::write(
        d.path("fb/新民镇_2026年5月_退回修改.xlsx"),
        "another month's",
    )
    .unwrap();
    let out = run(
        &d,
        &[
            "check",
            "in",
            "--units",
            "units.csv",
            "--period",
            "2026-06",
            "--feedback",
            "fb",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let mut names: Vec<String> = std::fs::read_dir(d.path("fb"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "城东街道_2026年6月_退回修改.xlsx",
            "新民镇_2026年5月_退回修改.xlsx",
            "说明.txt"
        ],
        "June's workbooks replaced, other files left alone, no March feedback"
    );
}

#[test]
fn a_return_without_its_own_month_takes_the_period_and_conflicts_are_sheet_against_file() {
    let d = Dir::new();
    let rows = [
        ("东门社区", vec![("resident_pop", V::N(100.0))]),
        ("新村", vec![("resident_pop", V::N(50.0))]),
    ];
    util::write_return(
        &d.path("in/城东街道.xlsx"),
        "family_doctor",
        "城东街道",
        None,
        &rows,
        None,
    );
    util::write_return(
        &d.path("in/新民镇_202605.xlsx"),
        "family_doctor",
        "新民镇",
        Some("2026年6月"),
        &[("新村", vec![("resident_pop", V::N(10.0))])],
        None,
    );
    let out = run(
        &d,
        &[
            "check",
            "in",
            "--units",
            "units.csv",
            "--period",
            "2026-06",
            "--export",
            "out",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let f = findings(&d, "out");
    let conflict: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "period_conflict")
        .collect();
    assert_eq!(conflict.len(), 1);
    assert!(conflict[0]["file"].ends_with("新民镇_202605.xlsx"));
    assert!(!f.iter().any(|x| x["rule"] == "period_missing"));
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    assert_eq!(
        a.get(&("2026-06".into(), CD.into(), "resident_pop".into())),
        Some(&150.0)
    );
}

#[test]
fn a_period_with_no_return_is_a_usage_error_naming_the_months_held() {
    let d = Dir::new();
    six_months(&d);
    let out = run(
        &d,
        &[
            "consolidate",
            "in",
            "--units",
            "units.csv",
            "--period",
            "2025",
            "-o",
            "r.xlsx",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2025") && err.contains("2026-01") && err.contains("2026-06"),
        "{err}"
    );
    assert!(!d.path("r.xlsx").exists());
}

/// With a period asked for and not one return that can be counted, what is
/// wrong with the files is said (a return naming no 填报单位), not only
/// that the period has no return; with nothing read at all, that is said in
/// Chinese, not in a bilingual placeholder.
#[test]
fn a_period_with_no_countable_return_says_what_is_wrong_with_the_files() {
    let d = Dir::new();
    util::write_return(
        &d.path("in/汇总.xlsx"),
        "family_doctor",
        "",
        Some("2026年3月"),
        &[("新村", vec![("signed", V::N(10.0))])],
        None,
    );
    let args = ["in", "--units", "units.csv", "--period", "2026-03"];
    let out = run(&d, &[&["check"], &args[..]].concat());
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("表中没有填报单位"), "{said}");
    let out = run(
        &d,
        &[&["consolidate"], &args[..], &["-o", "r.xlsx"]].concat(),
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("表中没有填报单位") && said.contains("未写汇总表"),
        "{said}"
    );
    assert!(!d.path("r.xlsx").exists());
    // A store with nothing in force: a usage error, in Chinese.
    run(
        &d,
        &["ingest", "in", "--units", "units.csv", "--store", "db"],
    );
    let out = run(
        &d,
        &[
            "report", "--store", "db", "--period", "2026-03", "-o", "r.xlsx",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "错误：没有2026年3月的报表；读入的文件中没有可计入的报表"
    );
}

#[test]
fn year_to_date_and_half_years_are_periods() {
    let d = Dir::new();
    six_months(&d);
    for p in ["2026-01..2026-06", "2026H1", "2026-01..2026-05"] {
        let out = run(
            &d,
            &[
                "consolidate",
                "in",
                "--units",
                "units.csv",
                "--period",
                p,
                "--export",
                "out",
                "-o",
                "r.xlsx",
                "--force",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{p}");
        let a = aggregates(&d, "out");
        let get = |field: &str| {
            a.get(&(p.replace("年", ""), CITY.to_string(), field.to_string()))
                .copied()
        };
        let months = if p.ends_with("05") { 5.0 } else { 6.0 };
        // Flows summed over the months, stocks the last month, rates recomputed.
        assert_eq!(get("services"), Some(20.0 * months), "{p}");
        let pop = if months == 6.0 {
            750.0 + 500.0 + 400.0 + 600.0
        } else {
            2500.0
        };
        assert_eq!(get("resident_pop"), Some(pop), "{p}");
        let signed = 300.0 + months + 200.0 + 100.0 + 150.0;
        assert_eq!(get("signed"), Some(signed), "{p}");
        assert_eq!(get("signing_rate"), Some(signed / pop * 100.0), "{p}");
    }
}

/// The hand registry with a second county, 西山县, and its township.
fn two_county_registry(d: &Dir) {
    let units = format!(
        "{}439903000000,西山县,county,439900000000,\n439903101000,西山镇,township,439903000000,西山镇卫生院\n439903101201,石门村,village,439903101000,\n",
        util::UNITS
    );
    std::fs::write(d.path("city.csv"), units).unwrap();
}

#[test]
fn a_scope_consolidates_one_county_of_the_city_registry() {
    let d = Dir::new();
    two_county_registry(&d);
    util::write_return(
        &d.path("in/城东街道.xlsx"),
        "vaccination",
        "城东街道",
        Some("2026年1月"),
        &[
            ("东门社区", vec![("hepb1_due", V::N(10.0))]),
            ("新村", vec![("hepb1_due", V::N(5.0))]),
        ],
        None,
    );
    util::write_return(
        &d.path("in/西山镇.xlsx"),
        "vaccination",
        "西山镇卫生院",
        Some("2026年1月"),
        &[("石门村", vec![("hepb1_due", V::N(7.0))])],
        None,
    );
    let out = run(
        &d,
        &[
            "consolidate",
            "in",
            "--units",
            "city.csv",
            "--scope",
            "439902000000",
            "--export",
            "out",
            "-o",
            "r.xlsx",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let f = findings(&d, "out");
    assert!(!f.iter().any(|x| x["rule"] == "unknown_unit"), "{f:#?}");
    assert!(
        stdout.contains("1 份报表来自 --scope 范围以外的单位"),
        "{stdout}"
    );
    // 新民镇 is expected (it is in 东湖区); 西山镇 is not.
    let missing: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "missing_return")
        .map(|x| x["unit_code"].clone())
        .collect();
    assert_eq!(missing, ["439902101000"]);
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    assert_eq!(
        a.get(&("2026-01".into(), "439902000000".into(), "hepb1_due".into())),
        Some(&15.0)
    );
    assert!(
        !a.keys().any(|k| k.1 == CITY || k.1.starts_with("439903")),
        "only the county's units"
    );
    let mut wb = open_workbook_auto(d.path("r.xlsx")).unwrap();
    let sheet = wb.worksheet_range("免疫").unwrap();
    // The title: the first text of row 1 (beside 单位名称 on a sheet split
    // by dose, which repeats that column on every page).
    let title = (0..sheet.width() as u32)
        .find_map(|c| match sheet.get_value((0, c)) {
            Some(Data::String(s)) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default();
    assert!(title.starts_with("东湖区"), "{title}");
    // A scope that is not in the registry is a usage error.
    let out = run(
        &d,
        &[
            "check",
            "in",
            "--units",
            "city.csv",
            "--scope",
            "439909000000",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_registry_saved_by_chinese_excel_is_read_and_exports_open_in_excel() {
    let d = Dir::new();
    let (gbk, _, _) = encoding_rs::GB18030.encode(util::UNITS);
    std::fs::write(d.path("gbk.csv"), &gbk).unwrap();
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(util::UNITS.as_bytes());
    std::fs::write(d.path("bom.csv"), &bom).unwrap();
    util::write_return(
        &d.path("in/城东街道.xlsx"),
        "vaccination",
        "城东街道",
        Some("2026年1月"),
        &[
            ("东门社区", vec![("hepb1_due", V::N(10.0))]),
            ("新村", vec![("hepb1_due", V::N(5.0))]),
        ],
        None,
    );
    for reg in ["gbk.csv", "bom.csv"] {
        let out = run(&d, &["check", "in", "--units", reg, "--export", "out"]);
        assert!(
            out.status.code().unwrap() < 2,
            "{reg}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let a = util::aggregates(&d.path("out/aggregates.csv"));
        assert_eq!(
            a.get(&("2026-01".into(), CD.into(), "hepb1_due".into())),
            Some(&15.0),
            "{reg}"
        );
    }
    for csv in ["aggregates.csv", "findings.csv"] {
        assert!(
            std::fs::read(d.path(&format!("out/{csv}")))
                .unwrap()
                .starts_with(b"\xEF\xBB\xBF"),
            "{csv} has a BOM"
        );
    }
    std::fs::write(d.path("bad.csv"), b"code,name\n\xFF\xFE\xFF\xFF,\x81\n").unwrap();
    let out = run(&d, &["check", "in", "--units", "bad.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("UTF-8") && err.contains("GB18030"), "{err}");
}

#[test]
fn a_careless_command_gets_one_clear_sentence() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("empty")).unwrap();
    let out = run(&d, &["consolidate", "empty", "--units", "units.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("在 empty 中没有找到 .xlsx 或 .xls 文件"),
        "{err}"
    );
    let out = run(&d, &["check", "empty", "--units", "nope.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("nope.csv") && !err.contains("os error"),
        "{err}"
    );
    util::write_return(
        &d.path("in/城东街道.xlsx"),
        "vaccination",
        "城东街道",
        Some("2026年1月"),
        &[
            ("东门社区", vec![("hepb1_due", V::N(10.0))]),
            ("新村", vec![("hepb1_due", V::N(5.0))]),
        ],
        None,
    );
    let out = run(
        &d,
        &[
            "consolidate",
            "in",
            "--units",
            "units.csv",
            "-o",
            "reports/2026/1月.xlsx",
        ],
    );
    assert!(
        out.status.code().unwrap() < 2,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(d.path("reports/2026/1月.xlsx").exists());
    let left: Vec<_> = std::fs::read_dir(d.path("reports/2026")).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left");
}

#[test]
fn files_given_one_by_one_do_not_tell_others_they_sent_nothing() {
    let d = Dir::new();
    util::write_return(
        &d.path("in/城东街道.xlsx"),
        "vaccination",
        "城东街道",
        Some("2026年1月"),
        &[
            ("东门社区", vec![("hepb1_due", V::N(10.0))]),
            ("新村", vec![("hepb1_due", V::N(5.0))]),
        ],
        None,
    );
    // A contact list someone saved among the returns.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "姓名").unwrap();
    ws.write_string(0, 1, "电话").unwrap();
    ws.write_string(1, 0, "张三").unwrap();
    ws.write_string(1, 1, "13800000000").unwrap();
    wb.save(d.path("in/通讯录.xlsx")).unwrap();
    let missing = |args: &[&str]| {
        let mut all = vec![
            "check",
            "in/城东街道.xlsx",
            "in/通讯录.xlsx",
            "--units",
            "units.csv",
            "--export",
            "out",
            "--feedback",
            "fb",
        ];
        all.extend_from_slice(args);
        run(&d, &all);
        findings(&d, "out")
            .iter()
            .filter(|x| x["rule"] == "missing_return")
            .count()
    };
    assert_eq!(missing(&[]), 0);
    assert_eq!(missing(&["--complete"]), 1, "新民镇 sent nothing");
    let fb: Vec<String> = std::fs::read_dir(d.path("fb"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!fb.iter().any(|n| n.contains("通讯录")), "{fb:?}");
    // The report lists it.
    run(
        &d,
        &["consolidate", "in", "--units", "units.csv", "-o", "r.xlsx"],
    );
    let mut wb = open_workbook_auto(d.path("r.xlsx")).unwrap();
    let notes = wb.worksheet_range("说明").unwrap();
    assert!(notes.rows().any(|r| r
        .iter()
        .any(|c| matches!(c, Data::String(s) if s.ends_with("通讯录.xlsx")))));
}

/// A 家医 return of `unit` with no 报告期, one row for 新村 (1000
/// residents, `signed` signed), changed by `edit` and saved as `in/{file}`.
fn edited_return(
    d: &Dir,
    file: &str,
    unit: &str,
    signed: f64,
    edit: &dyn Fn(&mut rust_xlsxwriter::Worksheet),
) {
    let mut wb = util::return_book(
        "家医",
        "family_doctor",
        unit,
        None,
        &[(
            "新村",
            vec![("resident_pop", V::N(1000.0)), ("signed", V::N(signed))],
        )],
        None,
    );
    edit(wb.worksheet_from_index(0).unwrap());
    wb.save(d.path(&format!("in/{file}"))).unwrap();
}

/// The first of `month` 2026 in row 2's column `col`, shown 2026年3月: what
/// Excel stores when 2026年3月 is typed into a cell.
fn first_of_month(ws: &mut rust_xlsxwriter::Worksheet, col: u16, month: u8) {
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, month, 1).unwrap();
    let shown = rust_xlsxwriter::Format::new().set_num_format("yyyy\"年\"m\"月\"");
    ws.write_datetime_with_format(1, col, date, &shown).unwrap();
}

/// What a clerk types beside 报告期： is not always kept as text: Excel
/// turns 2026年3月 into the date 2026-03-01 shown as 2026年3月, and 2026.4
/// or 202605 into numbers; a unit's code beside 填报单位： becomes a number.
/// Each is read as the sheet shows it, with no month in the file names.
#[test]
fn a_period_or_a_unit_the_spreadsheet_stored_as_a_date_or_a_number_is_read_as_shown() {
    use rust_xlsxwriter::Worksheet;
    let d = Dir::new();
    let book = |file: &str, unit: &str, signed: f64, edit: &dyn Fn(&mut Worksheet)| {
        edited_return(&d, file, unit, signed, &|ws| {
            ws.write_string(1, 5, "报告期：").unwrap();
            edit(ws);
        });
    };
    let march = |ws: &mut Worksheet| first_of_month(ws, 6, 3);
    book("a.xlsx", "城东街道", 300.0, &march);
    book("b.xlsx", "城东街道", 310.0, &|ws| {
        ws.write_number(1, 6, 2026.4).unwrap();
    });
    book("c.xlsx", "城东街道", 320.0, &|ws| {
        ws.write_number(1, 6, 202_605.0).unwrap();
    });
    // 新民镇 by its code, a number in the cell beside the label.
    book("d.xlsx", "", 40.0, &|ws| {
        ws.write_number(1, 1, 439_902_101_000.0).unwrap();
        march(ws);
    });
    let out = util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    let f = findings(&d, "out");
    assert!(
        !f.iter()
            .any(|x| x["rule"] == "period_missing" || x["rule"] == "unknown_unit"),
        "{f:#?}"
    );
    assert_eq!(out.status.code(), Some(0), "{f:#?}");
    let a = aggregates(&d, "out");
    let signed = |unit: &str, period: &str| {
        a.get(&(period.into(), unit.into(), "signed".into()))
            .copied()
    };
    assert_eq!(signed(CD, "2026-03"), Some(300.0));
    assert_eq!(signed(CD, "2026-04"), Some(310.0));
    assert_eq!(signed(CD, "2026-05"), Some(320.0));
    assert_eq!(signed(XM, "2026-03"), Some(40.0));
}

/// Where no 报告期 is, a month above the header is the return's month all
/// the same: a title that opens with it, a cell holding only it, a date
/// cell of a month's first day. A note's month and a 填报日期 are not, and
/// a title's month that disagrees with the file name is a conflict.
#[test]
fn a_month_above_the_header_without_a_label_is_the_period() {
    let d = Dir::new();
    edited_return(&d, "a.xlsx", "城东街道", 300.0, &|ws| {
        ws.write_string(0, 0, "2026年3月家庭医生签约服务情况月报表")
            .unwrap();
    });
    edited_return(&d, "b.xlsx", "城东街道", 310.0, &|ws| {
        ws.write_string(1, 5, "（2026年4月）").unwrap();
    });
    edited_return(&d, "c.xlsx", "城东街道", 320.0, &|ws| {
        first_of_month(ws, 5, 5)
    });
    // The file name's month; the note's and the 填报日期's are not read.
    edited_return(&d, "新民镇_202606.xlsx", "新民镇", 40.0, &|ws| {
        ws.write_string(0, 5, "注：本表自2025年1月起使用新式样")
            .unwrap();
        ws.write_string(1, 5, "填报日期：").unwrap();
        first_of_month(ws, 6, 7);
    });
    // Last month's title left on this month's file.
    edited_return(&d, "新民镇202608.xlsx", "新民镇", 50.0, &|ws| {
        ws.write_string(0, 0, "2026年7月家庭医生签约服务情况月报表")
            .unwrap();
    });
    util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    let f = findings(&d, "out");
    let periods: Vec<(&str, &str)> = f
        .iter()
        .filter(|x| x["rule"].starts_with("period_"))
        .map(|x| (x["rule"].as_str(), x["file"].as_str()))
        .collect();
    assert_eq!(
        periods,
        [("period_conflict", "in/新民镇202608.xlsx")],
        "{f:#?}"
    );
    let conflict = f.iter().find(|x| x["rule"] == "period_conflict").unwrap();
    assert!(
        conflict["message"].contains("表头上方的“2026年7月家庭医生签约服务情况月报表”为 2026年7月"),
        "{}",
        conflict["message"]
    );
    let a = aggregates(&d, "out");
    let signed = |unit: &str, period: &str| {
        a.get(&(period.into(), unit.into(), "signed".into()))
            .copied()
    };
    assert_eq!(signed(CD, "2026-03"), Some(300.0));
    assert_eq!(signed(CD, "2026-04"), Some(310.0));
    assert_eq!(signed(CD, "2026-05"), Some(320.0));
    assert_eq!(signed(XM, "2026-06"), Some(40.0));
    assert_eq!(signed(XM, "2026-07"), None);
    assert_eq!(signed(XM, "2026-08"), None);
}

/// A month as 公文 and some clerks write it, in Chinese numerals
/// (二〇二六年三月, 2026年四月, 二○二六年十二月 alone above the table), and a
/// title that closes with its month in brackets are the period; a 报出日期
/// in numerals is the day the return was sent.
#[test]
fn a_month_in_chinese_numerals_or_closing_a_title_is_the_period() {
    let d = Dir::new();
    edited_return(&d, "a.xlsx", "城东街道", 300.0, &|ws| {
        ws.write_string(1, 5, "报告期：二〇二六年三月").unwrap();
        ws.write_string(20, 5, "报出日期：二〇二六年四月二十日")
            .unwrap();
    });
    edited_return(&d, "b.xlsx", "城东街道", 310.0, &|ws| {
        ws.write_string(1, 5, "报告期：2026年四月").unwrap();
    });
    edited_return(&d, "c.xlsx", "城东街道", 320.0, &|ws| {
        ws.write_string(0, 0, "家庭医生签约服务情况月报表（2026年5月）")
            .unwrap();
    });
    edited_return(&d, "d.xlsx", "城东街道", 330.0, &|ws| {
        ws.write_string(1, 5, "二○二六年十二月").unwrap();
    });
    util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    let f = findings(&d, "out");
    let periods: Vec<_> = f
        .iter()
        .filter(|x| x["rule"].starts_with("period_"))
        .collect();
    assert!(periods.is_empty(), "{periods:#?}");
    let a = aggregates(&d, "out");
    let signed = |period: &str| a.get(&(period.into(), CD.into(), "signed".into())).copied();
    assert_eq!(signed("2026-03"), Some(300.0));
    assert_eq!(signed("2026-04"), Some(310.0));
    assert_eq!(signed("2026-05"), Some(320.0));
    assert_eq!(signed("2026-12"), Some(330.0));
    // Sent on 20 April, past the 10th: late, by the day written.
    util::run_in(&d, "check", &["--export", "all", "--period", "2026-03"]);
    let f = findings(&d, "all");
    let late: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "late_return")
        .map(|x| (x["period"].as_str(), x["file"].as_str()))
        .collect();
    assert!(late.contains(&("2026-03", "in/a.xlsx")), "{f:#?}");
}

/// A file name with the day it was sent (城东街道_2026-04-05.xlsx) says
/// nothing of the month reported: no conflict with the sheet's 报告期, and
/// no month guessed from it where the sheet has none.
#[test]
fn the_date_a_file_was_sent_in_its_name_is_not_its_month() {
    let d = Dir::new();
    let ret = |file: &str, period: Option<&str>| {
        util::write_return(
            &d.path(&format!("in/{file}")),
            "family_doctor",
            "城东街道",
            period,
            &[("新村", vec![("signed", V::N(12.0))])],
            None,
        );
    };
    ret("城东街道_2026-04-05.xlsx", Some("2026年3月"));
    ret("城东街道报表2026.5.6.xlsx", None);
    util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    let f = findings(&d, "out");
    let periods: Vec<(&str, &str)> = f
        .iter()
        .filter(|x| x["rule"].starts_with("period_"))
        .map(|x| (x["rule"].as_str(), x["file"].as_str()))
        .collect();
    assert_eq!(
        periods,
        [("period_missing", "in/城东街道报表2026.5.6.xlsx")],
        "{f:#?}"
    );
    let months: Vec<String> = aggregates(&d, "out")
        .into_keys()
        .filter(|(period, unit, field)| unit == CD && field == "signed" && period.len() == 7)
        .map(|(period, _, _)| period)
        .collect();
    assert_eq!(months, ["2026-03"]);
}
