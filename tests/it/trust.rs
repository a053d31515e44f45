//! Returns phstats has never seen, as other people and other programs write
//! them: no false alarms on a clean batch, one finding per mistake, and no
//! silent guesses. One test per class, each with hand-computed answers.

use std::collections::HashMap;

use calamine::{open_workbook_auto, Data, Reader};
use rust_xlsxwriter::Formula;

use crate::util::{self, cell_of, pos_of, Dir, Row, V};

type Findings = Vec<HashMap<String, String>>;

const CD: &str = "439902001000"; // 城东街道
const XM: &str = "439902101000"; // 新民镇
const COUNTY: &str = "439902000000"; // 东湖区
const CITY: &str = "439900000000"; // 青山市

fn findings(d: &Dir) -> Findings {
    util::read_csv(&d.path("out/findings.csv"))
}

fn aggregates(d: &Dir) -> HashMap<(String, String, String), f64> {
    util::aggregates(&d.path("out/aggregates.csv"))
}

fn agg(
    a: &HashMap<(String, String, String), f64>,
    period: &str,
    unit: &str,
    field: &str,
) -> Option<f64> {
    a.get(&(period.to_string(), unit.to_string(), field.to_string()))
        .copied()
}

/// Findings above info: what a statistician must look at.
fn serious(f: &Findings) -> Vec<String> {
    f.iter()
        .filter(|x| x["severity"] != "info")
        .map(|x| {
            format!(
                "{} {} {}!{} {}",
                x["severity"], x["rule"], x["file"], x["cell"], x["message"]
            )
        })
        .collect()
}

/// 新民镇's vaccination return for `period`, complete and consistent, so a
/// batch about 城东街道 has no missing return.
fn xinmin_vaccination(d: &Dir, period: &str, file: &str) {
    util::write_return(
        &d.path(file),
        "vaccination",
        "新民镇",
        Some(period),
        &[
            (
                "新村",
                vec![("hepb1_due", V::N(4.0)), ("hepb1_given", V::N(4.0))],
            ),
            (
                "红旗村",
                vec![("hepb1_due", V::N(6.0)), ("hepb1_given", V::N(5.0))],
            ),
        ],
        None,
    );
}

/// A vaccination return whose 接种率 cells are formulas, as a township's
/// Excel template computes them: `IF(AND(ISNUMBER(due),ISNUMBER(given),due<>0),…,"")`,
/// written without results for LibreOffice to calculate.
fn formula_return(path: &std::path::Path, unit: &str, rows: &[(&str, Option<f64>, Option<f64>)]) {
    let vac = "vaccination";
    let table: Vec<Row<'_>> = rows
        .iter()
        .map(|(name, due, given)| {
            let mut cells = Vec::new();
            if let Some(x) = due {
                cells.push(("hepb1_due", V::N(*x)));
            }
            if let Some(x) = given {
                cells.push(("hepb1_given", V::N(*x)));
            }
            (*name, cells)
        })
        .collect();
    let mut wb = util::return_book(
        vac,
        vac,
        unit,
        Some("2026年1月"),
        &table,
        Some(&("合计", vec![])),
    );
    let ws = wb.worksheet_from_index(0).unwrap();
    let n = rows.len() as u32;
    for i in 0..=n {
        let due = cell_of(vac, "hepb1_due", i);
        let given = cell_of(vac, "hepb1_given", i);
        let (r, c) = pos_of(vac, "hepb1_rate", i);
        ws.write_formula(
            r,
            c,
            Formula::new(format!(
                "=IF(AND(ISNUMBER({due}),ISNUMBER({given}),{due}<>0),ROUND({given}/{due}*100,1),\"\")"
            )),
        )
        .unwrap();
    }
    // The 合计 row sums the unit rows, as a template does.
    for field in ["hepb1_due", "hepb1_given"] {
        let (r, c) = pos_of(vac, field, n);
        let first = cell_of(vac, field, 0);
        let last = cell_of(vac, field, n - 1);
        ws.write_formula(r, c, Formula::new(format!("=SUM({first}:{last})")))
            .unwrap();
    }
    wb.save(path).unwrap();
}

#[test]
fn formula_blanks_saved_by_libreoffice_are_not_reported() {
    if !util::soffice("formula_blanks_saved_by_libreoffice_are_not_reported") {
        return;
    }
    let d = Dir::new();
    // 新村: nobody due this month (rate blank), 东门社区: 9 of 10.
    formula_return(
        &d.path("draft/城东街道.xlsx"),
        "城东街道",
        &[
            ("东门社区", Some(10.0), Some(9.0)),
            ("新村", Some(0.0), Some(0.0)),
        ],
    );
    formula_return(
        &d.path("draft/新民镇.xlsx"),
        "新民镇",
        &[("新村", Some(4.0), Some(4.0)), ("红旗村", None, None)],
    );
    // No saved results, so LibreOffice calculates every formula on load.
    for name in ["城东街道", "新民镇"] {
        util::patch_xlsx(&d.path(&format!("draft/{name}.xlsx")), |_, text| {
            text.replace("</f><v>0</v>", "</f>")
        });
    }
    for name in ["城东街道", "新民镇"] {
        util::calc_save_as(
            &d,
            "xlsx",
            d.path("in"),
            d.path(&format!("draft/{name}.xlsx")),
        );
    }
    // LibreOffice calculated and saved the blanks as an empty text result.
    let xml = util::sheet_xml(&d.path("in/城东街道.xlsx"));
    let rate = cell_of("vaccination", "hepb1_rate", 1);
    let at = xml
        .find(&format!("r=\"{rate}\""))
        .expect("the rate cell is saved");
    assert!(
        xml[at..at + 200].contains("t=\"str\""),
        "{}",
        &xml[at..at + 200]
    );
    let out = util::run_in(&d, "check", &["--export", "out"]);
    let f = findings(&d);
    assert_eq!(out.status.code(), Some(0), "{:#?}", serious(&f));
    assert!(serious(&f).is_empty(), "{:#?}", serious(&f));
    let out = util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    assert_eq!(out.status.code(), Some(0));
    let a = aggregates(&d);
    assert_eq!(agg(&a, "2026-01", CD, "hepb1_due"), Some(10.0));
    assert_eq!(agg(&a, "2026-01", CD, "hepb1_rate"), Some(90.0));
    // 红旗村 left both sides empty: not reported, not zero.
    assert_eq!(agg(&a, "2026-01", "439902101202", "hepb1_due"), None);
    assert_eq!(agg(&a, "2026-01", XM, "hepb1_rate"), Some(100.0));
}

#[test]
fn a_formula_without_a_saved_value_in_a_rate_cell_is_only_a_warning() {
    let d = Dir::new();
    formula_return(
        &d.path("in/城东街道.xlsx"),
        "城东街道",
        &[
            ("东门社区", Some(10.0), Some(9.0)),
            ("新村", Some(5.0), Some(5.0)),
        ],
    );
    xinmin_vaccination(&d, "2026年1月", "in/新民镇.xlsx");
    // As openpyxl saves it: formulas with an empty <v/>, no result at all.
    util::patch_xlsx(&d.path("in/城东街道.xlsx"), |name, text| {
        if name.starts_with("xl/worksheets/") {
            text.replace("</f><v>0</v>", "</f><v/>")
        } else {
            text
        }
    });
    let out = util::run_in(&d, "check", &["--export", "out"]);
    let f = findings(&d);
    let nan: Vec<_> = f.iter().filter(|x| x["rule"] == "not_a_number").collect();
    // Three rate cells (two units and 合计) are warnings; the 合计 counts are errors.
    let rate_cells: Vec<_> = nan.iter().filter(|x| x["field"] == "hepb1_rate").collect();
    assert_eq!(rate_cells.len(), 3, "{nan:#?}");
    assert!(rate_cells.iter().all(|x| x["severity"] == "warning"));
    assert!(nan
        .iter()
        .filter(|x| x["field"] != "hepb1_rate")
        .all(|x| x["severity"] == "error"));
    assert_eq!(
        out.status.code(),
        Some(1),
        "the uncached SUM totals are errors"
    );
}

#[test]
fn an_unknown_village_is_one_finding_and_the_missing_village_is_suggested() {
    let d = Dir::new();
    util::write_return(
        &d.path("in/城东街道.xlsx"),
        "vaccination",
        "城东街道",
        Some("2026年1月"),
        &[
            (
                "东门社区",
                vec![("hepb1_due", V::N(10.0)), ("hepb1_given", V::N(9.0))],
            ),
            // 新村 misspelt: its figures are on the sheet and in the 合计.
            (
                "新材",
                vec![("hepb1_due", V::N(5.0)), ("hepb1_given", V::N(5.0))],
            ),
        ],
        Some(&(
            "合计",
            vec![("hepb1_due", V::N(15.0)), ("hepb1_given", V::N(14.0))],
        )),
    );
    xinmin_vaccination(&d, "2026年1月", "in/新民镇.xlsx");
    let out = util::run_in(&d, "check", &["--export", "out"]);
    assert_eq!(out.status.code(), Some(1));
    let f = findings(&d);
    let s = serious(&f);
    assert_eq!(s.len(), 1, "one mistake, one finding: {s:#?}");
    let x = &f.iter().find(|x| x["rule"] == "unknown_unit").unwrap();
    assert_eq!(x["cell"], "B6");
    assert!(
        x["message"].contains("是否应为“新村”？"),
        "{}",
        x["message"]
    );
}

/// 城东街道's January family-doctor return as a workbook of a sheet a
/// village: 东门社区 1000 residents, 400 signed; 新村 300, `xincun`.
fn a_sheet_a_village(path: &std::path::Path, xincun: f64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    util::family_a_sheet_a_village(&[("东门社区", 1000.0, 400.0), ("新村", 300.0, xincun)])
        .save(path)
        .unwrap();
}

/// A township's workbook of a sheet a village received twice is one
/// return received twice: each sheet of the second an `identical_copy`,
/// the figures counted once. Its sheets were compared one by one as
/// returns of the township: all different from each other, all were
/// `duplicate_return`, and the township's month was counted nowhere. A
/// second copy with a different figure is a `duplicate_return` of the
/// first, whole, until one is marked 更正, which then counts whole.
#[test]
fn a_workbook_of_a_sheet_a_village_received_twice_counts_once() {
    let d = Dir::new();
    a_sheet_a_village(&d.path("in/城东街道202601.xlsx"), 90.0);
    // Saved again by another program: other bytes, the same figures.
    a_sheet_a_village(&d.path("in/again/城东街道202601(1).xlsx"), 90.0);
    util::patch_xlsx(&d.path("in/again/城东街道202601(1).xlsx"), |_, text| {
        text
    });
    assert_ne!(
        std::fs::read(d.path("in/城东街道202601.xlsx")).unwrap(),
        std::fs::read(d.path("in/again/城东街道202601(1).xlsx")).unwrap()
    );
    let run = || {
        util::run_in(
            &d,
            "consolidate",
            &["--export", "out", "-o", "r.xlsx", "--force"],
        )
    };
    let out = run();
    assert!(out.status.code().unwrap() < 2, "{}", util::text(&out));
    let f = findings(&d);
    assert!(!f.iter().any(|x| x["rule"] == "duplicate_return"), "{f:#?}");
    // Each sheet of one copy (either may be the one counted) names its
    // namesake in the other.
    let copies: Vec<_> = f.iter().filter(|x| x["rule"] == "identical_copy").collect();
    assert_eq!(copies.len(), 2, "{copies:#?}");
    let files = ["in/城东街道202601.xlsx", "in/again/城东街道202601(1).xlsx"];
    let (copy, first) = if copies[0]["file"] == files[0] {
        (files[0], files[1])
    } else {
        (files[1], files[0])
    };
    for sheet in ["东门社区", "新村"] {
        assert!(
            copies.iter().any(|x| x["file"] == copy
                && x["sheet"] == sheet
                && x["message"].contains(&format!("{first}!{sheet}"))),
            "{copies:#?}"
        );
    }
    let a = aggregates(&d);
    assert_eq!(agg(&a, "2026-01", CD, "signed"), Some(490.0));
    assert_eq!(agg(&a, "2026-01", CD, "resident_pop"), Some(1300.0));
    // The same in a store, the second copy a month's later ingest.
    for input in [files[0], "in/again"] {
        let out = util::phstats(
            d.tmp.path(),
            &[
                "ingest",
                input,
                "--units",
                "units.csv",
                "--store",
                "db",
                "-q",
            ],
        );
        assert!(out.status.code().unwrap() < 2, "{}", util::text(&out));
    }
    let out = util::phstats(
        d.tmp.path(),
        &[
            "report", "--store", "db", "--export", "s", "-o", "s.xlsx", "-q",
        ],
    );
    assert!(out.status.code().unwrap() < 2, "{}", util::text(&out));
    let s = util::aggregates(&d.path("s/aggregates.csv"));
    assert_eq!(agg(&s, "2026-01", CD, "signed"), Some(490.0));
    // A third copy, saved as .xls by LibreOffice as an office would: each
    // of its sheets a copy too, still counted once.
    if util::soffice("a workbook of a sheet a village saved again as .xls") {
        util::calc_save_as(&d, "xls", d.path("in/xls"), d.path(files[0]));
        let out = run();
        assert!(out.status.code().unwrap() < 2, "{}", util::text(&out));
        let f = findings(&d);
        assert!(!f.iter().any(|x| x["rule"] == "duplicate_return"), "{f:#?}");
        assert_eq!(
            f.iter().filter(|x| x["rule"] == "identical_copy").count(),
            4,
            "{f:#?}"
        );
        assert_eq!(agg(&aggregates(&d), "2026-01", CD, "signed"), Some(490.0));
        std::fs::remove_dir_all(d.path("in/xls")).unwrap();
    }
    // Different figures in the second, not marked: neither counts.
    a_sheet_a_village(&d.path("in/again/城东街道202601(1).xlsx"), 95.0);
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", util::text(&out));
    let f = findings(&d);
    let dup: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "duplicate_return")
        .collect();
    assert_eq!(dup.len(), 2, "{dup:#?}");
    assert!(
        dup.iter().all(|x| x["file"] == dup[0]["file"]
            && files.iter().all(|file| ["东门社区", "新村"]
                .iter()
                .all(|sheet| x["message"].contains(&format!("{file}!{sheet}"))))),
        "{dup:#?}"
    );
    assert_eq!(agg(&aggregates(&d), "2026-01", CD, "signed"), None);
    // Marked a correction: it counts, whole.
    std::fs::rename(
        d.path("in/again/城东街道202601(1).xlsx"),
        d.path("in/again/城东街道202601_更正.xlsx"),
    )
    .unwrap();
    let out = run();
    assert!(out.status.code().unwrap() < 2, "{}", util::text(&out));
    assert_eq!(agg(&aggregates(&d), "2026-01", CD, "signed"), Some(495.0));
    let f = findings(&d);
    let replaced: Vec<_> = f.iter().filter(|x| x["rule"] == "correction").collect();
    assert_eq!(replaced.len(), 2, "{replaced:#?}");
}

#[test]
fn the_same_return_received_twice_counts_once() {
    let d = Dir::new();
    let rows = [
        (
            "东门社区",
            vec![("hepb1_due", V::N(10.0)), ("hepb1_given", V::N(9.0))],
        ),
        (
            "新村",
            vec![("hepb1_due", V::N(5.0)), ("hepb1_given", V::N(5.0))],
        ),
    ];
    util::write_return(
        &d.path("in/城东街道202601.xlsx"),
        "vaccination",
        "城东街道",
        Some("2026年1月"),
        &rows,
        None,
    );
    // Mailed twice: the same figures under another name.
    std::fs::copy(
        d.path("in/城东街道202601.xlsx"),
        d.path("in/城东街道202601(1).xlsx"),
    )
    .unwrap();
    xinmin_vaccination(&d, "2026年1月", "in/新民镇.xlsx");
    // The folder and a file in it, both given: read once.
    let out = util::run_in(
        &d,
        "consolidate",
        &["in/新民镇.xlsx", "--export", "out", "-o", "r.xlsx"],
    );
    assert_eq!(out.status.code(), Some(0), "{:#?}", serious(&findings(&d)));
    let f = findings(&d);
    let copies: Vec<_> = f.iter().filter(|x| x["rule"] == "identical_copy").collect();
    assert_eq!(copies.len(), 2, "{copies:#?}");
    assert!(copies.iter().all(|x| x["severity"] == "info"));
    // Either copy may be the one counted; the other names it.
    let (a, b) = ("in/城东街道202601.xlsx", "in/城东街道202601(1).xlsx");
    assert!(copies
        .iter()
        .any(|x| (x["file"] == a && x["message"].contains(b))
            || (x["file"] == b && x["message"].contains(a))));
    assert!(copies
        .iter()
        .any(|x| x["file"].ends_with("新民镇.xlsx") && x["message"].contains("只读一次")));
    let a = aggregates(&d);
    assert_eq!(agg(&a, "2026-01", CD, "hepb1_due"), Some(15.0));
    assert_eq!(
        agg(&a, "2026-01", XM, "hepb1_due"),
        Some(10.0),
        "read once, not twice"
    );
    assert_eq!(agg(&a, "2026-01", CITY, "hepb1_due"), Some(25.0));
}

/// The first column's texts of a report sheet, and every text on it.
fn sheet_texts(path: &std::path::Path, sheet: &str) -> (Vec<String>, Vec<String>) {
    let mut wb = open_workbook_auto(path).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    let text = |c: &Data| match c {
        Data::String(s) => s.clone(),
        _ => String::new(),
    };
    // The unit names: the 单位名称 column (after 序号 on a 汇总表).
    let col = range
        .rows()
        .find_map(|r| r.iter().position(|c| text(c) == "单位名称"))
        .unwrap_or(0);
    let first = range
        .rows()
        .map(|r| r.get(col).map(text).unwrap_or_default())
        .collect();
    let all = range
        .rows()
        .flat_map(|r| r.iter().map(text))
        .filter(|t| !t.is_empty())
        .collect();
    (first, all)
}

#[test]
fn different_figures_twice_are_marked_on_the_summary_not_silently_lower() {
    let d = Dir::new();
    for (file, due) in [("in/a.xlsx", 10.0), ("in/b.xlsx", 11.0)] {
        util::write_return(
            &d.path(file),
            "vaccination",
            "城东街道",
            Some("2026年1月"),
            &[
                ("东门社区", vec![("hepb1_due", V::N(due))]),
                ("新村", vec![("hepb1_due", V::N(5.0))]),
            ],
            None,
        );
    }
    xinmin_vaccination(&d, "2026年1月", "in/新民镇.xlsx");
    let out = util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    assert_eq!(out.status.code(), Some(1));
    let f = findings(&d);
    assert_eq!(
        f.iter().filter(|x| x["rule"] == "duplicate_return").count(),
        1
    );
    assert!(
        !f.iter().any(|x| x["rule"] == "missing_return"),
        "it did report"
    );
    let a = aggregates(&d);
    assert_eq!(agg(&a, "2026-01", CD, "hepb1_due"), None);
    assert_eq!(agg(&a, "2026-01", CITY, "hepb1_due"), Some(10.0));
    let (names, all) = sheet_texts(&d.path("r.xlsx"), "免疫");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("城东街道") && n.ends_with('※')),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("青山市") && n.ends_with('※')),
        "{names:?}"
    );
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("新民镇") && n.ends_with('※')),
        "{names:?}"
    );
    assert!(
        all.iter().any(|t| t.starts_with("※ 城东街道（2026年1月）")),
        "{all:?}"
    );
}

#[test]
fn a_quarter_mixing_a_county_summary_and_village_detail_counts_each_unit_once() {
    let d = Dir::new();
    let fd = "family_doctor";
    // January: the county's summary, one row per township.
    util::write_return(
        &d.path("in/东湖区202601.xlsx"),
        fd,
        "东湖区",
        Some("2026年1月"),
        &[
            (
                "城东街道",
                vec![
                    ("resident_pop", V::N(1000.0)),
                    ("signed", V::N(100.0)),
                    ("services", V::N(7.0)),
                ],
            ),
            (
                "新民镇",
                vec![
                    ("resident_pop", V::N(500.0)),
                    ("signed", V::N(50.0)),
                    ("services", V::N(3.0)),
                ],
            ),
        ],
        None,
    );
    // February: each township's own village detail.
    util::write_return(
        &d.path("in/城东街道202602.xlsx"),
        fd,
        "城东街道",
        Some("2026年2月"),
        &[
            (
                "东门社区",
                vec![
                    ("resident_pop", V::N(600.0)),
                    ("signed", V::N(60.0)),
                    ("services", V::N(2.0)),
                ],
            ),
            (
                "新村",
                vec![
                    ("resident_pop", V::N(300.0)),
                    ("signed", V::N(30.0)),
                    ("services", V::N(1.0)),
                ],
            ),
        ],
        None,
    );
    util::write_return(
        &d.path("in/新民镇202602.xlsx"),
        fd,
        "新民镇",
        Some("2026年2月"),
        &[
            (
                "新村",
                vec![
                    ("resident_pop", V::N(200.0)),
                    ("signed", V::N(20.0)),
                    ("services", V::N(1.0)),
                ],
            ),
            (
                "红旗村",
                vec![
                    ("resident_pop", V::N(400.0)),
                    ("signed", V::N(35.0)),
                    ("services", V::N(2.0)),
                ],
            ),
        ],
        None,
    );
    let out = util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    let f = findings(&d);
    assert_eq!(out.status.code(), Some(0), "{:#?}", serious(&f));
    assert!(serious(&f).is_empty(), "{:#?}", serious(&f));
    let a = aggregates(&d);
    // Stocks: February's village detail is the latest source of each township.
    assert_eq!(agg(&a, "2026Q1", CD, "signed"), Some(90.0));
    assert_eq!(agg(&a, "2026Q1", XM, "signed"), Some(55.0));
    assert_eq!(
        agg(&a, "2026Q1", CITY, "signed"),
        Some(145.0),
        "not 145 + 150"
    );
    assert_eq!(agg(&a, "2026Q1", CITY, "resident_pop"), Some(1500.0));
    assert_eq!(
        agg(&a, "2026Q1", COUNTY, "signing_rate"),
        Some(145.0 / 1500.0 * 100.0)
    );
    // Flows: January's summary and February's detail are different months.
    assert_eq!(agg(&a, "2026Q1", CD, "services"), Some(7.0 + 3.0));
    assert_eq!(
        agg(&a, "2026Q1", CITY, "services"),
        Some(7.0 + 3.0 + 3.0 + 3.0)
    );
    // January alone still comes from the summary.
    assert_eq!(agg(&a, "2026-01", CITY, "signed"), Some(150.0));
}

#[test]
fn a_rate_counts_only_units_that_reported_both_sides() {
    let d = Dir::new();
    util::write_return(
        &d.path("in/城东街道.xlsx"),
        "family_doctor",
        "城东街道",
        Some("2026年1月"),
        &[
            (
                "东门社区",
                vec![("resident_pop", V::N(1000.0)), ("signed", V::N(400.0))],
            ),
            // 常住人口数 left empty: 签约人数 counts, but not in the 签约率.
            ("新村", vec![("signed", V::N(300.0))]),
        ],
        None,
    );
    let out = util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    assert!(out.status.code().unwrap() <= 1);
    let a = aggregates(&d);
    assert_eq!(agg(&a, "2026-01", CD, "signed"), Some(700.0));
    assert_eq!(agg(&a, "2026-01", CD, "resident_pop"), Some(1000.0));
    assert_eq!(
        agg(&a, "2026-01", CD, "signing_rate"),
        Some(40.0),
        "400 / 1000, not 700 / 1000"
    );
    assert_eq!(agg(&a, "2026-01", CITY, "signing_rate"), Some(40.0));
    assert_eq!(agg(&a, "2026-01", "439902001002", "signing_rate"), None);
}

/// A vaccination return for 城东街道 in January with `due` for 东门社区,
/// `lines` written above the header and a footer dated `date`.
fn dated_return(path: &std::path::Path, due: f64, lines: &[&str], date: Option<&str>) {
    let vac = "vaccination";
    let mut wb = util::return_book(
        vac,
        vac,
        "城东街道",
        Some("2026年1月"),
        &[
            ("东门社区", vec![("hepb1_due", V::N(due))]),
            ("新村", vec![("hepb1_due", V::N(5.0))]),
        ],
        None,
    );
    let ws = wb.worksheet_from_index(0).unwrap();
    for (k, line) in lines.iter().enumerate() {
        ws.write_string(1, 8 + k as u16, *line).unwrap();
    }
    if let Some(date) = date {
        ws.write_string(
            util::FIRST_DATA_ROW + 3,
            0,
            format!("单位负责人：张三    填表人：李四    报出日期：{date}"),
        )
        .unwrap();
    }
    wb.save(path).unwrap();
}

#[test]
fn correction_words_in_a_note_do_not_make_a_correction() {
    let d = Dir::new();
    dated_return(&d.path("in/a.xlsx"), 10.0, &[], None);
    dated_return(
        &d.path("in/b.xlsx"),
        12.0,
        &["注：如需更正请联系区疾控中心"],
        None,
    );
    xinmin_vaccination(&d, "2026年1月", "in/新民镇.xlsx");
    let out = util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    assert_eq!(out.status.code(), Some(1));
    let f = findings(&d);
    assert_eq!(
        f.iter().filter(|x| x["rule"] == "duplicate_return").count(),
        1
    );
    assert!(!f.iter().any(|x| x["rule"] == "correction"));
    assert_eq!(agg(&aggregates(&d), "2026-01", CD, "hepb1_due"), None);
}

#[test]
fn the_later_report_date_wins_whatever_the_input_order() {
    let d = Dir::new();
    // a.xlsx comes first in input order but is dated later; both are marked.
    dated_return(&d.path("in/a_修订.xlsx"), 12.0, &[], Some("2026年2月8日"));
    dated_return(
        &d.path("in/b.xlsx"),
        11.0,
        &["（更正）"],
        Some("2026-02-03"),
    );
    dated_return(&d.path("in/c.xlsx"), 10.0, &[], Some("2026年2月2日"));
    xinmin_vaccination(&d, "2026年1月", "in/新民镇.xlsx");
    let out = util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    let f = findings(&d);
    assert_eq!(out.status.code(), Some(0), "{:#?}", serious(&f));
    assert_eq!(agg(&aggregates(&d), "2026-01", CD, "hepb1_due"), Some(17.0));
    let corrections: Vec<_> = f.iter().filter(|x| x["rule"] == "correction").collect();
    assert_eq!(corrections.len(), 2);
    assert!(corrections
        .iter()
        .all(|x| x["file"].ends_with("a_修订.xlsx")));
}

#[test]
fn a_near_miss_reporting_unit_is_never_a_silent_guess() {
    let d = Dir::new();
    let rows = [
        ("东门社区", vec![("hepb1_due", V::N(10.0))]),
        ("新村", vec![("hepb1_due", V::N(5.0))]),
    ];
    // A longer text holding one registry name: counted, with a warning.
    util::write_return(
        &d.path("in/a.xlsx"),
        "vaccination",
        "原城东街道东片区",
        Some("2026年1月"),
        &rows,
        None,
    );
    // A typo: not counted, with the nearest name.
    util::write_return(
        &d.path("in/b.xlsx"),
        "vaccination",
        "新民真",
        Some("2026年1月"),
        &rows,
        None,
    );
    // The health centre's own name and seal are the township, no finding.
    util::write_return(
        &d.path("in/c.xlsx"),
        "vaccination",
        "城东街道社区卫生服务中心（公章）",
        Some("2026年2月"),
        &rows,
        None,
    );
    // The quarter: a finding of no month is of its file's months, and the
    // latest month alone (February) would leave out a.xlsx's (January).
    let out = util::run_in(
        &d,
        "consolidate",
        &["--period", "2026Q1", "--export", "out", "-o", "r.xlsx"],
    );
    assert_eq!(out.status.code(), Some(1));
    let f = findings(&d);
    let units: Vec<_> = f.iter().filter(|x| x["rule"] == "unknown_unit").collect();
    assert_eq!(units.len(), 2, "{units:#?}");
    let assumed = units
        .iter()
        .find(|x| x["file"].ends_with("a.xlsx"))
        .unwrap();
    assert_eq!(assumed["severity"], "warning");
    assert_eq!(assumed["unit_code"], CD);
    assert!(
        assumed["message"].contains("已视为名录中唯一与之相符的“城东街道”"),
        "{}",
        assumed["message"]
    );
    let typo = units
        .iter()
        .find(|x| x["file"].ends_with("b.xlsx"))
        .unwrap();
    assert_eq!(typo["severity"], "error");
    assert!(
        typo["message"].contains("是否应为“新民镇”？"),
        "{}",
        typo["message"]
    );
    let a = aggregates(&d);
    assert_eq!(agg(&a, "2026-01", CD, "hepb1_due"), Some(15.0));
    assert_eq!(agg(&a, "2026-02", CD, "hepb1_due"), Some(15.0));
    assert_eq!(agg(&a, "2026-01", XM, "hepb1_due"), None);
}

#[test]
fn a_registry_with_one_bad_level_is_one_problem() {
    let d = Dir::new();
    let units = util::UNITS.replace(
        "439902101000,新民镇,township,",
        "439902101000,新民镇,twonship,",
    );
    std::fs::write(d.path("bad.csv"), units).unwrap();
    let out = util::phstats(d.tmp.path(), &["check", ".", "--units", "bad.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("第 ").count(), 1, "{err}");
    assert!(err.contains("twonship"), "{err}");
}

#[test]
fn a_stock_drop_is_not_also_an_outlier() {
    let d = Dir::new();
    for (m, signed) in [
        (1, 1000.0),
        (2, 1000.0),
        (3, 1001.0),
        (4, 1000.0),
        (5, 1002.0),
        (6, 500.0),
    ] {
        util::write_return(
            &d.path(&format!("in/2026-{m:02}.xlsx")),
            "family_doctor",
            "城东街道",
            Some(&format!("2026年{m}月")),
            &[
                (
                    "东门社区",
                    vec![("resident_pop", V::N(5000.0)), ("signed", V::N(signed))],
                ),
                (
                    "新村",
                    vec![("resident_pop", V::N(100.0)), ("signed", V::N(10.0))],
                ),
            ],
            None,
        );
    }
    util::run_in(&d, "check", &["--export", "out"]);
    let f = findings(&d);
    let at_june: Vec<_> = f
        .iter()
        .filter(|x| x["period"] == "2026-06" && x["cell"] == cell_of("family_doctor", "signed", 0))
        .map(|x| x["rule"].clone())
        .collect();
    assert_eq!(at_june, ["stock_drop"]);
}

/// No finding of a return that a correction replaced is reported or sent
/// back (issue 26): 城东街道 misspelt a village and wrote text in a count,
/// then sent a 更正 with both fixed. `check`, `consolidate`, the feedback
/// and `report --store` name neither; the correction itself is noted.
#[test]
fn a_corrected_return_is_never_sent_back_for_what_its_correction_fixed() {
    let d = Dir::new();
    let fd = "family_doctor";
    util::write_return(
        &d.path("in/城东街道202602.xlsx"),
        fd,
        "城东街道",
        Some("2026-02"),
        &[
            (
                "东门社曲",
                vec![("resident_pop", V::N(1000.0)), ("signed", V::N(400.0))],
            ),
            (
                "新村",
                vec![("resident_pop", V::N(500.0)), ("signed", V::T("约100"))],
            ),
        ],
        None,
    );
    util::write_return(
        &d.path("in/城东街道202602_更正.xlsx"),
        fd,
        "城东街道",
        Some("2026-02"),
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
        None,
    );
    let stale = |rows: &[std::collections::HashMap<String, String>]| -> Vec<String> {
        rows.iter()
            .filter(|f| matches!(f["rule"].as_str(), "unknown_unit" | "not_a_number"))
            .map(|f| format!("{f:?}"))
            .collect()
    };
    for cmd in ["check", "consolidate"] {
        let mut args = vec!["--period", "2026-02", "--export", cmd];
        if cmd == "consolidate" {
            args.extend(["-o", "r.xlsx"]);
        }
        let out = util::run_in(&d, cmd, &args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{cmd}: {stdout}");
        assert!(
            !stdout.contains("东门社曲") && !stdout.contains("约100"),
            "{cmd}: {stdout}"
        );
        let f = util::read_csv(&d.path(&format!("{cmd}/findings.csv")));
        assert!(stale(&f).is_empty(), "{cmd}: {:?}", stale(&f));
        assert!(f.iter().any(|x| x["rule"] == "correction"), "{cmd}: {f:?}");
    }
    let out = util::run_in(&d, "check", &["--period", "2026-02", "--feedback", "fb"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let sent: Vec<_> = std::fs::read_dir(d.path("fb"))
        .map(|r| r.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    // 新民镇 sent nothing and is asked for it; 城东街道 has nothing to fix.
    assert!(
        !sent
            .iter()
            .any(|p| p.to_string_lossy().contains("城东街道")),
        "nothing to send back to 城东街道: {sent:?}"
    );
    // The store: the original, then its correction.
    for (dir, file) in [
        ("s1", "城东街道202602.xlsx"),
        ("s2", "城东街道202602_更正.xlsx"),
    ] {
        std::fs::create_dir_all(d.path(dir)).unwrap();
        std::fs::copy(
            d.path(&format!("in/{file}")),
            d.path(&format!("{dir}/{file}")),
        )
        .unwrap();
        util::phstats(
            d.tmp.path(),
            &["ingest", dir, "--units", "units.csv", "--store", "db", "-q"],
        );
    }
    let out = util::phstats(
        d.tmp.path(),
        &[
            "report", "--store", "db", "--period", "2026-02", "--export", "st", "-o", "s.xlsx",
        ],
    );
    assert!(
        out.status.code().unwrap() < 2,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let f = util::read_csv(&d.path("st/findings.csv"));
    assert!(stale(&f).is_empty(), "report --store: {:?}", stale(&f));
}

/// A blank template sent back by mistake (FORMS.md §4, `empty_return`): our
/// own fill-in template of 城东街道, as written, beside its real return.
/// It is one warning, not reported, not a duplicate of the real return,
/// whose figures count — in `consolidate` and through a store, where it came
/// first (30 blank templates used to be recorded "有效（计入）" and then make
/// each real return a `duplicate_return`).
#[test]
fn a_blank_template_is_an_empty_return_never_a_duplicate() {
    let d = Dir::new();
    let out = util::phstats(
        d.tmp.path(),
        &[
            "template",
            "--units",
            "units.csv",
            "--period",
            "2026-02",
            "--form",
            "family_doctor",
            "--unit",
            "城东街道",
            "-o",
            "tpl",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let blank = std::fs::read_dir(d.path("tpl"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::create_dir_all(d.path("a")).unwrap();
    std::fs::copy(&blank, d.path("a/城东街道_模板.xlsx")).unwrap();
    util::write_return(
        &d.path("b/城东街道202602.xlsx"),
        "family_doctor",
        "城东街道",
        Some("2026-02"),
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
        None,
    );
    let out = util::phstats(
        d.tmp.path(),
        &[
            "consolidate",
            "a",
            "b",
            "--units",
            "units.csv",
            "--period",
            "2026-02",
            "--export",
            "out",
            "-o",
            "r.xlsx",
        ],
    );
    assert!(
        out.status.code().unwrap() < 2,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let f = util::read_csv(&d.path("out/findings.csv"));
    let empty: Vec<_> = f.iter().filter(|x| x["rule"] == "empty_return").collect();
    assert_eq!(empty.len(), 1, "{f:#?}");
    assert!(empty[0]["file"].ends_with("城东街道_模板.xlsx"), "{f:#?}");
    assert_eq!(empty[0]["severity"], "warning");
    assert!(!f.iter().any(|x| x["rule"] == "duplicate_return"), "{f:#?}");
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    assert_eq!(
        a.get(&("2026-02".into(), "439902001000".into(), "signed".into())),
        Some(&500.0)
    );
    // Through a store, the blank one first.
    for dir in ["a", "b"] {
        let out = util::phstats(
            d.tmp.path(),
            &["ingest", dir, "--units", "units.csv", "--store", "db"],
        );
        assert!(
            out.status.code().unwrap() < 2,
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let out = util::phstats(
        d.tmp.path(),
        &[
            "report", "--store", "db", "--period", "2026-02", "--export", "st", "-o", "s.xlsx",
        ],
    );
    assert!(
        out.status.code().unwrap() < 2,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let a = util::aggregates(&d.path("st/aggregates.csv"));
    assert_eq!(
        a.get(&("2026-02".into(), "439902001000".into(), "signed".into())),
        Some(&500.0)
    );
    let f = util::read_csv(&d.path("st/findings.csv"));
    assert!(!f.iter().any(|x| x["rule"] == "duplicate_return"), "{f:#?}");
}

/// Rate advice that can be followed (issue 30): the 合计 row's 签约人数 is
/// 520 where its villages sum to 500. Its 签约率 cell shows 34.7 (the
/// clerk's 520/1500); recomputed from the wrong total it "should be" 34.7
/// too, from the right one 33.3 — either way no `rate_mismatch` is said on
/// a 合计 whose sides do not add up: the `total_mismatch` is the one to fix.
/// A village row's rate is still checked.
#[test]
fn no_rate_advice_is_given_from_a_wrong_total() {
    let d = Dir::new();
    util::write_return(
        &d.path("in/城东街道202602.xlsx"),
        "family_doctor",
        "城东街道",
        Some("2026-02"),
        &[
            (
                "东门社区",
                vec![
                    ("resident_pop", V::N(1000.0)),
                    ("signed", V::N(400.0)),
                    ("signing_rate", V::N(45.0)),
                ],
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
                ("signed", V::N(520.0)),
                ("signing_rate", V::N(30.0)),
            ],
        )),
    );
    let out = util::run_in(&d, "check", &["--period", "2026-02", "--export", "out"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let f = util::read_csv(&d.path("out/findings.csv"));
    let total_row = f
        .iter()
        .find(|x| x["rule"] == "total_mismatch" && x["field"] == "signed")
        .unwrap();
    let rate_on = |cell_row: &str| {
        f.iter()
            .filter(|x| x["rule"] == "rate_mismatch" && x["cell"].ends_with(cell_row))
            .count()
    };
    let total_line = total_row["cell"].trim_start_matches(char::is_alphabetic);
    assert_eq!(rate_on(total_line), 0, "{f:#?}");
    // 东门社区's 45.0 against its own 40.0 is still said.
    assert_eq!(
        f.iter().filter(|x| x["rule"] == "rate_mismatch").count(),
        1,
        "{f:#?}"
    );
}

/// The same blank template opened and saved by LibreOffice, as an office
/// would send it back unfilled: its rate formulas are recalculated and
/// saved as empty results, and it is still an `empty_return`, not a return
/// of zeros nor a duplicate of the real one.
#[test]
fn a_blank_template_saved_by_libreoffice_is_still_an_empty_return() {
    if !util::soffice("a blank template saved by LibreOffice") {
        return;
    }
    let d = Dir::new();
    let out = util::phstats(
        d.tmp.path(),
        &[
            "template",
            "--units",
            "units.csv",
            "--period",
            "2026-02",
            "--form",
            "family_doctor",
            "--unit",
            "城东街道",
            "-o",
            "tpl",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let blank = std::fs::read_dir(d.path("tpl"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::create_dir_all(d.path("in")).unwrap();
    util::calc_save_as(&d, "xlsx", d.path("in"), &blank);
    util::write_return(
        &d.path("in/城东街道202602.xlsx"),
        "family_doctor",
        "城东街道",
        Some("2026-02"),
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
        None,
    );
    let out = util::run_in(&d, "check", &["--period", "2026-02", "--export", "out"]);
    assert!(
        out.status.code().unwrap() < 2,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let f = util::read_csv(&d.path("out/findings.csv"));
    let empty: Vec<_> = f.iter().filter(|x| x["rule"] == "empty_return").collect();
    assert_eq!(empty.len(), 1, "{f:#?}");
    assert!(!f.iter().any(|x| x["rule"] == "duplicate_return"), "{f:#?}");
}
