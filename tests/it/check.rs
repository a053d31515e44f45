//! `phstats check`: exit codes, and faults injected at known cells reported
//! with the right rule, file, sheet and cell; bad files never stop a batch.

use crate::util::{self, cell_of, Dir, V};

const CD: &str = "439902001000"; // 城东街道
const XM: &str = "439902101000"; // 新民镇

fn findings(d: &Dir) -> Vec<std::collections::HashMap<String, String>> {
    util::read_csv(&d.path("out/findings.csv"))
}

#[test]
fn usage_errors_exit_2() {
    let d = Dir::new();
    let out = util::phstats(d.tmp.path(), &["check", ".", "--units", "nope.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.csv"));
    let out = util::phstats(
        d.tmp.path(),
        &["check", ".", "--units", "units.csv", "--period", "someday"],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = util::phstats(d.tmp.path(), &["check", "--units", "units.csv"]);
    assert_eq!(out.status.code(), Some(2), "no input is a usage error");
    std::fs::write(
        d.path("bad.csv"),
        "code,name,level,parent_code,aliases\n439902000000,东湖区,township,,\n",
    )
    .unwrap();
    let out = util::phstats(d.tmp.path(), &["check", ".", "--units", "bad.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("登记为 乡镇(街道)，但其代码是县(区)代码")
    );
}

#[test]
fn faults_are_reported_at_their_cells() {
    let d = Dir::new();
    let vac = "vaccination";
    util::write_return(
        &d.path("in/城东街道.xlsx"),
        vac,
        "城东街道",
        Some("2026年1月"),
        &[
            (
                "东门社区",
                vec![
                    ("hepb1_due", V::T("约30")),
                    ("hepb1_given", V::N(-2.0)),
                    ("bcg_due", V::N(12.5)),
                    ("bcg_given", V::N(5.0)),
                    ("ipv1_due", V::N(10.0)),
                    ("ipv1_given", V::N(12.0)),
                    ("mmr1_due", V::N(10.0)),
                    ("mmr1_given", V::N(9.0)),
                    ("mmr1_rate", V::N(95.0)),
                ],
            ),
            (
                "新 村",
                vec![("bcg_due", V::N(7.0)), ("bcg_given", V::N(7.0))],
            ),
            ("东们社区", vec![("bcg_due", V::N(1.0))]),
            ("新村村委会", vec![("bcg_due", V::N(1.0))]),
        ],
        Some(&("合计", vec![("bcg_due", V::N(30.0))])),
    );
    util::write_return(
        &d.path("in/新民镇_家医.xlsx"),
        "family_doctor",
        "新民镇卫生院",
        Some("2026-01"),
        &[(
            "新村",
            vec![
                ("resident_pop", V::N(100.0)),
                ("signed", V::N(120.0)),
                ("key_pop", V::N(10.0)),
                ("key_signed", V::N(5.0)),
            ],
        )],
        None,
    );
    std::fs::write(
        d.path("in/乱码.xlsx"),
        b"\x00\x01 random bytes, not a workbook",
    )
    .unwrap();
    std::fs::write(
        d.path("in/网页.xls"),
        b"<html><body><table><tr><td>1</td></tr></table></body></html>",
    )
    .unwrap();
    let out = util::run_in(&d, "check", &["--export", "out"]);
    assert_eq!(out.status.code(), Some(1));
    let f = findings(&d);
    let has = |rule: &str, file: &str, cell: &str| {
        f.iter()
            .any(|x| x["rule"] == rule && x["file"].ends_with(file) && x["cell"] == cell)
    };
    let file = "城东街道.xlsx";
    assert!(
        has("not_a_number", file, &cell_of(vac, "hepb1_due", 0)),
        "{f:#?}"
    );
    assert!(has("negative", file, &cell_of(vac, "hepb1_given", 0)));
    assert!(has("not_whole", file, &cell_of(vac, "bcg_due", 0)));
    assert!(has(
        "given_exceeds_due",
        file,
        &cell_of(vac, "ipv1_given", 0)
    ));
    assert!(has("rate_mismatch", file, &cell_of(vac, "mmr1_rate", 0)));
    assert!(has("unknown_unit", file, "B7"));
    assert!(has("duplicate_row", file, "B8"), "新村村委会 is 新村 again");
    // 合计 bcg_due 30 vs every unit row on the sheet: 12.5 + 7 + 1 + 1 = 21.5
    assert!(has("total_mismatch", file, &cell_of(vac, "bcg_due", 4)));
    assert!(has(
        "exceeds_denominator",
        "新民镇_家医.xlsx",
        &cell_of("family_doctor", "signed", 0)
    ));
    assert!(has("unreadable_file", "乱码.xlsx", ""));
    assert!(has("unreadable_file", "网页.xls", ""));
    assert!(
        !f.iter()
            .any(|x| x["rule"] == "missing_column" && x["field"] == "je1_rate"),
        "every column is in the fixture header"
    );
    let unknown = f.iter().find(|x| x["rule"] == "unknown_unit").unwrap();
    // 东门社区 and 新村 are both on the sheet already: neither is suggested.
    assert!(
        !unknown["message"].contains("是否应为"),
        "{}",
        unknown["message"]
    );
    assert_eq!(unknown["sheet"], "vaccination");
    assert_eq!(unknown["severity"], "error");
    let html = f.iter().find(|x| x["file"].ends_with("网页.xls")).unwrap();
    assert!(
        html["message"].contains("网页（HTML）"),
        "{}",
        html["message"]
    );
    // 新民镇 sent no vaccination return; 城东街道 no family-doctor return.
    assert!(f.iter().any(|x| x["rule"] == "missing_return"
        && x["unit_code"] == "439902101000"
        && x["form"] == "vaccination"));
}

/// A row whose every figure is bad is still a row of the return: each bad
/// cell is said, not counted, and the return is not also said to lack
/// the row (with the advice to add it, which the clerk had). The sheet
/// has only the columns the clerk filled, so no empty cell keeps the row.
#[test]
fn a_row_of_bad_cells_is_there_and_not_a_missing_row() {
    let d = Dir::new();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("家医签约").unwrap();
    ws.write(0, 0, "家庭医生签约服务情况月报表").unwrap();
    ws.write(1, 0, "填报单位：城东街道").unwrap();
    ws.write(1, 3, "报告期：2026年1月").unwrap();
    let heads = [
        "单位名称",
        "常住人口数",
        "签约人数",
        "重点人群人数",
        "重点人群签约人数",
    ];
    for (c, h) in heads.iter().enumerate() {
        ws.write(3, c as u16, *h).unwrap();
    }
    ws.write(4, 0, "东门社区").unwrap();
    for (c, bad) in ["约1000", "见附表", "不详", "x"].iter().enumerate() {
        ws.write(4, c as u16 + 1, *bad).unwrap();
    }
    ws.write(5, 0, "新村").unwrap();
    for (c, v) in [100.0, 40.0, 10.0, 5.0].iter().enumerate() {
        ws.write(5, c as u16 + 1, *v).unwrap();
    }
    // Saved by an office as .xls, by LibreOffice (where it is installed;
    // otherwise the .xlsx as written).
    std::fs::create_dir_all(d.path("draft")).unwrap();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let draft = d.path("draft/城东街道_2026年1月_家医签约.xlsx");
    wb.save(&draft).unwrap();
    if util::soffice("a return of bad cells saved as .xls") {
        util::calc_save_as(&d, "xls", d.path("in"), &draft);
        assert!(d.path("in/城东街道_2026年1月_家医签约.xls").exists());
    } else {
        std::fs::copy(&draft, d.path("in/城东街道_2026年1月_家医签约.xlsx")).unwrap();
    }
    util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    let f = findings(&d);
    let bad: Vec<&str> = f
        .iter()
        .filter(|x| x["rule"] == "not_a_number")
        .map(|x| x["cell"].as_str())
        .collect();
    assert_eq!(bad, ["B5", "C5", "D5", "E5"], "{f:#?}");
    assert!(
        !f.iter()
            .any(|x| x["rule"] == "missing_return" && x["message"].contains("东门社区")),
        "{f:#?}"
    );
    // Nothing of 东门社区 counted, 新村's figures as written.
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let get = |unit: &str, field: &str| {
        a.get(&("2026-01".into(), unit.into(), field.into()))
            .copied()
    };
    assert_eq!(get("439902001001", "signed"), None);
    assert_eq!(get("439902001000", "signed"), Some(40.0));
    assert_eq!(get("439902001000", "resident_pop"), Some(100.0));
    // From a store, trace tells the bad cell from an empty one: 东门社区's
    // 签约人数 (C5) was not a figure, and says so; 新村's counts.
    util::ran(util::run_in(&d, "ingest", &["--store", "db"]));
    let csv = d.path("t.csv");
    util::ran(util::phstats(
        d.tmp.path(),
        &[
            "trace",
            "--store",
            "db",
            "--period",
            "2026-01",
            "--unit",
            "城东街道",
            "--field",
            "signed",
            "--csv",
            csv.to_str().unwrap(),
        ],
    ));
    let rows = util::read_csv(&csv);
    let row = |cell: &str| rows.iter().find(|r| r["cell"] == cell);
    assert_eq!(
        row("C5").map(|r| (r["counted"].as_str(), r["reason"].as_str())),
        Some(("false", "not_a_figure_see_findings")),
        "{rows:#?}"
    );
    assert_eq!(
        row("C6").map(|r| (r["counted"].as_str(), r["value"].as_str())),
        Some(("true", "40")),
        "{rows:#?}"
    );
}

#[test]
fn bad_files_do_not_stop_the_batch() {
    let d = Dir::new();
    util::write_return(
        &d.path("in/good.xlsx"),
        "family_doctor",
        "新民镇",
        Some("2026-02"),
        &[
            (
                "新村",
                vec![("resident_pop", V::N(100.0)), ("signed", V::N(40.0))],
            ),
            (
                "红旗村",
                vec![("resident_pop", V::N(50.0)), ("signed", V::N(20.0))],
            ),
        ],
        None,
    );
    // A truncated copy of the good file: a zip cut in half.
    let bytes = std::fs::read(d.path("in/good.xlsx")).unwrap();
    std::fs::write(d.path("in/truncated.xlsx"), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(d.path("in/empty.xlsx"), b"").unwrap();
    std::fs::write(d.path("in/data.xls"), "单位名称,签约人数\n新村,40\n").unwrap();
    let out = util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    assert_eq!(out.status.code(), Some(1));
    let f = findings(&d);
    for name in ["truncated.xlsx", "empty.xlsx", "data.xls"] {
        assert!(
            f.iter()
                .any(|x| x["rule"] == "unreadable_file" && x["file"].ends_with(name)),
            "{name}: {f:#?}"
        );
    }
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    assert_eq!(
        a.get(&("2026-02".into(), "439902101000".into(), "signed".into())),
        Some(&60.0)
    );
    assert!(
        d.path("r.xlsx").exists(),
        "the report is still written from the valid data"
    );
}

#[test]
fn period_conflicts_and_corrections() {
    let d = Dir::new();
    let rows = |signed: f64| {
        vec![(
            "新村",
            vec![("resident_pop", V::N(100.0)), ("signed", V::N(signed))],
        )]
    };
    util::write_return(
        &d.path("in/新民镇_202601.xlsx"),
        "family_doctor",
        "新民镇",
        Some("2026年2月"),
        &rows(1.0),
        None,
    );
    util::write_return(
        &d.path("in/a/新民镇.xlsx"),
        "family_doctor",
        "新民镇",
        Some("2026年3月"),
        &rows(40.0),
        None,
    );
    util::write_return(
        &d.path("in/b/新民镇_更正.xlsx"),
        "family_doctor",
        "新民镇",
        Some("2026年3月"),
        &rows(45.0),
        None,
    );
    util::write_return(
        &d.path("in/c/城东街道.xlsx"),
        "family_doctor",
        "城东街道",
        Some("2026年3月"),
        &rows(1.0),
        None,
    );
    util::write_return(
        &d.path("in/d/城东街道.xlsx"),
        "family_doctor",
        "城东街道",
        Some("2026年3月"),
        &rows(2.0),
        None,
    );
    util::write_return(
        &d.path("in/e/无期.xlsx"),
        "family_doctor",
        "新民镇",
        None,
        &rows(2.0),
        None,
    );
    let out = util::run_in(&d, "check", &["--export", "out"]);
    assert_eq!(out.status.code(), Some(1));
    let f = findings(&d);
    assert!(
        f.iter()
            .any(|x| x["rule"] == "period_conflict" && x["file"].ends_with("新民镇_202601.xlsx")),
        "{f:#?}"
    );
    assert!(f
        .iter()
        .any(|x| x["rule"] == "period_missing" && x["file"].ends_with("无期.xlsx")));
    assert!(f.iter().any(|x| x["rule"] == "correction"
        && x["severity"] == "info"
        && x["file"].ends_with("更正.xlsx")));
    assert_eq!(
        f.iter().filter(|x| x["rule"] == "duplicate_return").count(),
        1
    );
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    assert_eq!(
        a.get(&("2026-03".into(), "439902101000".into(), "signed".into())),
        Some(&45.0),
        "the 更正 return counts"
    );
    assert_eq!(
        a.get(&("2026-03".into(), "439902001000".into(), "signed".into())),
        None,
        "neither duplicate counts"
    );
    // --period selects, it does not claim: a month no return is about is a
    // usage error naming the months the inputs hold.
    let out = util::phstats(
        d.tmp.path(),
        &[
            "check",
            "in/a",
            "--units",
            "units.csv",
            "--period",
            "2026-04",
            "--export",
            "out2",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2026年4月") && err.contains("2026-03"),
        "{err}"
    );
    assert!(
        !d.path("out2/findings.csv").exists(),
        "nothing half-written"
    );
}

/// A rate formula over a denominator of 0, or left empty, shows #DIV/0!
/// in Excel: the honest result on a clean return, since a zero denominator
/// gives no rate (FORMS.md §5). It is no finding, and no rate; over a
/// denominator that is there it is a broken formula, still said.
#[test]
fn a_rate_over_nothing_shows_div0_and_that_is_no_finding() {
    use rust_xlsxwriter::Formula;
    let d = Dir::new();
    let fd = "family_doctor";
    let mut wb = util::return_book(
        "家医",
        fd,
        "城东街道",
        Some("2026年1月"),
        &[
            (
                "东门社区",
                vec![
                    ("resident_pop", V::N(1000.0)),
                    ("signed", V::N(400.0)),
                    ("key_pop", V::N(100.0)),
                    ("key_signed", V::N(70.0)),
                ],
            ),
            // No key population at all; 常住人口数 not reported.
            (
                "新村",
                vec![
                    ("signed", V::N(50.0)),
                    ("key_pop", V::N(0.0)),
                    ("key_signed", V::N(0.0)),
                ],
            ),
        ],
        None,
    );
    let ws = wb.worksheet_from_index(0).unwrap();
    let div0 = |ws: &mut rust_xlsxwriter::Worksheet, field: &str, i: u32| {
        let (r, c) = util::pos_of(fd, field, i);
        ws.write_formula(r, c, Formula::new("=1/0").set_result("#DIV/0!"))
            .unwrap();
    };
    div0(ws, "key_signing_rate", 1);
    div0(ws, "signing_rate", 1);
    // Over 100 key residents: a formula pointing at the wrong cells.
    div0(ws, "key_signing_rate", 0);
    wb.save(d.path("in/城东街道.xlsx")).unwrap();
    let out = util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    assert_eq!(out.status.code(), Some(0), "warnings only");
    let f = findings(&d);
    let at_cells: Vec<(&str, &str)> = f
        .iter()
        .filter(|x| x["file"].ends_with("城东街道.xlsx") && !x["cell"].is_empty())
        .map(|x| (x["rule"].as_str(), x["cell"].as_str()))
        .collect();
    assert_eq!(
        at_cells,
        [("not_a_number", cell_of(fd, "key_signing_rate", 0).as_str())],
        "{f:#?}"
    );
    let broken = f.iter().find(|x| x["rule"] == "not_a_number").unwrap();
    assert_eq!(broken["severity"], "warning");
    assert_eq!(broken["value"], "#DIV/0!");
    // The township's rates from its figures: 新村's signed counts in 签约人数
    // but not in 签约率, whose denominator it did not report.
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let town = |field: &str| a.get(&("2026-01".into(), CD.into(), field.into())).copied();
    assert_eq!(town("signed"), Some(450.0));
    assert_eq!(town("signing_rate"), Some(40.0));
    assert_eq!(town("key_pop"), Some(100.0));
    assert_eq!(town("key_signing_rate"), Some(70.0));
}

/// 合计 merged across 序号 and 单位名称 leaves the name cell empty: the row
/// is still the 合计, checked column by column, not a row of figures with
/// no unit name.
#[test]
fn a_total_merged_across_the_serial_and_name_columns_is_the_total() {
    use rust_xlsxwriter::Format;
    let d = Dir::new();
    let fd = "family_doctor";
    let mut wb = util::return_book(
        "家医",
        fd,
        "城东街道",
        Some("2026年1月"),
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
    let ws = wb.worksheet_from_index(0).unwrap();
    let (r, _) = util::pos_of(fd, "signed", 2);
    ws.merge_range(r, 0, r, 1, "合计", &Format::new()).unwrap();
    let (_, c) = util::pos_of(fd, "resident_pop", 2);
    ws.write_number(r, c, 1500.0).unwrap();
    // 400 + 100 is 500, not 510.
    let (_, c) = util::pos_of(fd, "signed", 2);
    ws.write_number(r, c, 510.0).unwrap();
    wb.save(d.path("in/城东街道.xlsx")).unwrap();
    util::run_in(&d, "check", &["--export", "out"]);
    let f = findings(&d);
    let at_cells: Vec<(&str, &str)> = f
        .iter()
        .filter(|x| !x["cell"].is_empty())
        .map(|x| (x["rule"].as_str(), x["cell"].as_str()))
        .collect();
    assert_eq!(
        at_cells,
        [("total_mismatch", cell_of(fd, "signed", 2).as_str())],
        "{f:#?}"
    );
}

/// A 合计 that falls short by exactly the unit rows' figures written as
/// text is a SUM formula that left them out, and the suggestion says so,
/// naming the first such cell; a 合计 off for another reason keeps the
/// usual suggestion. The figures written as text are counted all the
/// same, and a report from the store says the same as `check`.
#[test]
fn a_total_short_by_figures_written_as_text_says_so() {
    use rust_xlsxwriter::Format;
    let d = Dir::new();
    let fd = "family_doctor";
    let mut wb = util::return_book(
        "家医",
        fd,
        "城东街道",
        Some("2026年1月"),
        &[
            (
                "东门社区",
                vec![
                    ("resident_pop", V::N(1000.0)),
                    ("signed", V::T("400")),
                    ("key_pop", V::N(50.0)),
                ],
            ),
            (
                "新村",
                vec![
                    ("resident_pop", V::T("５００")),
                    ("signed", V::N(100.0)),
                    ("key_pop", V::N(20.0)),
                ],
            ),
        ],
        None,
    );
    let ws = wb.worksheet_from_index(0).unwrap();
    let (r, _) = util::pos_of(fd, "signed", 2);
    ws.merge_range(r, 0, r, 1, "合计", &Format::new()).unwrap();
    // What a spreadsheet's SUM makes of them: the text left out.
    for (field, total) in [
        ("resident_pop", 1000.0),
        ("signed", 100.0),
        ("key_pop", 60.0),
    ] {
        let (_, c) = util::pos_of(fd, field, 2);
        ws.write_number(r, c, total).unwrap();
    }
    wb.save(d.path("in/城东街道.xlsx")).unwrap();
    let said_of = |f: &[std::collections::HashMap<String, String>], field: &str| {
        f.iter()
            .find(|x| x["rule"] == "total_mismatch" && x["field"] == field)
            .map(|x| x["message"].clone())
            .unwrap_or_default()
    };
    let check = |f: &[std::collections::HashMap<String, String>]| {
        let signed = said_of(f, "signed");
        assert!(
            signed.contains(&format!(
                "中有 1 个数字是以文本形式存储的（如 {}），表格的求和公式不计入文本，合计因此少了 400；请把这些单元格转换为数字",
                cell_of(fd, "signed", 0)
            )),
            "{signed}"
        );
        let pop = said_of(f, "resident_pop");
        assert!(
            pop.contains(&format!("（如 {}）", cell_of(fd, "resident_pop", 1)))
                && pop.contains("合计因此少了 500"),
            "{pop}"
        );
        let key = said_of(f, "key_pop");
        assert!(
            key.contains("相差 10")
                && key.contains("常见原因是把小计行计入合计")
                && !key.contains("文本"),
            "{key}"
        );
    };
    util::run_in(&d, "check", &["--export", "out"]);
    check(&findings(&d));
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let town = |field: &str| a.get(&("2026-01".into(), CD.into(), field.into())).copied();
    assert_eq!(town("signed"), Some(500.0));
    assert_eq!(town("resident_pop"), Some(1500.0));

    util::ran(util::run_in(&d, "ingest", &["--store", "db", "-q"]));
    util::ran(util::phstats(
        d.tmp.path(),
        &[
            "report", "--store", "db", "--period", "2026-01", "-o", "s.xlsx", "--export", "sout",
        ],
    ));
    check(&util::read_csv(&d.path("sout/findings.csv")));
}

/// A 栏次 row is known by its numbers, whatever marks its 序号 and name
/// cells hold (— —, A B): not a unit, not in the 合计, not a finding.
#[test]
fn a_column_number_row_with_any_marks_is_not_a_unit() {
    let d = Dir::new();
    let fd = "family_doctor";
    let numbering: Vec<(String, f64)> = util::columns(fd)
        .iter()
        .enumerate()
        .map(|(k, c)| (c.0.clone(), (k + 1) as f64))
        .collect();
    for (file, marks) in [("a.xlsx", ["—", "—"]), ("b.xlsx", ["A", "B"])] {
        let unit = if file == "a.xlsx" {
            "城东街道"
        } else {
            "新民镇"
        };
        let mut wb = util::return_book(
            "家医",
            fd,
            unit,
            Some("2026年1月"),
            &[
                (
                    marks[1],
                    numbering
                        .iter()
                        .map(|(f, v)| (f.as_str(), V::N(*v)))
                        .collect(),
                ),
                (
                    "新村",
                    vec![("resident_pop", V::N(500.0)), ("signed", V::N(100.0))],
                ),
            ],
            Some(&(
                "合计",
                vec![("resident_pop", V::N(500.0)), ("signed", V::N(100.0))],
            )),
        );
        let ws = wb.worksheet_from_index(0).unwrap();
        ws.write_string(util::FIRST_DATA_ROW, 0, marks[0]).unwrap();
        wb.save(d.path(&format!("in/{file}"))).unwrap();
    }
    util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    let f = findings(&d);
    let at_cells: Vec<&str> = f
        .iter()
        .filter(|x| !x["cell"].is_empty())
        .map(|x| x["rule"].as_str())
        .collect();
    assert!(at_cells.is_empty(), "{f:#?}");
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let resident = |unit: &str| a.get(&("2026-01".into(), unit.into(), "resident_pop".into()));
    assert_eq!(resident(CD), Some(&500.0));
    assert_eq!(resident(XM), Some(&500.0));
}

/// The reporting unit as township offices write it above the header: with
/// 填表人 in the same cell, as 单位名称：…, as 填报机构：…, or its name alone
/// under the title. Each return is counted for its unit, with no finding.
#[test]
fn the_reporting_unit_is_read_however_the_line_above_the_header_says_it() {
    let d = Dir::new();
    let lines = [
        (
            "a.xlsx",
            1,
            "填报单位：城东街道社区卫生服务中心（盖章）    填表人：李四",
        ),
        ("b.xlsx", 2, "单位名称：城东街道"),
        ("c.xlsx", 3, "填报机构：城东街道社区卫生服务中心"),
        ("d.xlsx", 4, "城东街道社区卫生服务中心"),
    ];
    for (file, month, line) in lines {
        let mut wb = util::return_book(
            "家医",
            "family_doctor",
            "",
            Some(&format!("2026年{month}月")),
            &[(
                "新村",
                vec![
                    ("resident_pop", V::N(100.0)),
                    ("signed", V::N(f64::from(10 * month))),
                ],
            )],
            None,
        );
        let ws = wb.worksheet_from_index(0).unwrap();
        ws.write_string(1, 0, line).unwrap();
        wb.save(d.path(&format!("in/{file}"))).unwrap();
    }
    util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    let f = findings(&d);
    assert!(!f.iter().any(|x| x["rule"] == "unknown_unit"), "{f:#?}");
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    for month in 1..=4 {
        let period = format!("2026-0{month}");
        let signed = a.get(&(period.clone(), CD.into(), "signed".into()));
        assert_eq!(signed, Some(&f64::from(10 * month)), "{period}");
    }
}

/// A labelled line in the name column (数据来源：…, 联系电话：…) is a note,
/// not a unit: no unknown_unit, and a village below it is still counted.
/// A section heading in Chinese numerals, with no figures (一、城区社区 in
/// the name column; 一、 in the 序号 column beside 农村), heads the rows
/// below and is no unit; one with figures is still said, as they would be
/// lost.
#[test]
fn a_section_heading_is_not_a_unit() {
    let d = Dir::new();
    let mut wb = util::return_book(
        "家医",
        "family_doctor",
        "城东街道",
        Some("2026年1月"),
        &[
            ("一、城区社区", vec![]),
            ("东门社区", vec![("signed", V::N(40.0))]),
            ("农村", vec![]),
            ("新村", vec![("signed", V::N(2.0))]),
            ("（三）其他", vec![("signed", V::N(5.0))]),
        ],
        None,
    );
    let ws = wb.worksheet_from_index(0).unwrap();
    ws.write_string(util::FIRST_DATA_ROW + 2, 0, "二、")
        .unwrap();
    std::fs::create_dir_all(d.path("in")).unwrap();
    wb.save(d.path("in/城东街道.xlsx")).unwrap();
    util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    let f = findings(&d);
    let unknown: Vec<_> = f.iter().filter(|x| x["rule"] == "unknown_unit").collect();
    assert_eq!(unknown.len(), 1, "{unknown:#?}");
    assert_eq!(unknown[0]["cell"], "B9", "{unknown:#?}");
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    assert_eq!(
        a.get(&("2026-01".into(), CD.into(), "signed".into())),
        Some(&42.0)
    );
}

#[test]
fn a_labelled_note_in_the_name_column_is_not_a_unit() {
    let d = Dir::new();
    util::write_return(
        &d.path("in/城东街道.xlsx"),
        "family_doctor",
        "城东街道",
        Some("2026年1月"),
        &[
            ("东门社区", vec![("signed", V::N(40.0))]),
            ("数据来源：基本公共卫生服务管理系统", vec![]),
            ("新村", vec![("signed", V::N(2.0))]),
            ("联系电话：0731-1234567", vec![]),
        ],
        None,
    );
    util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    let f = findings(&d);
    assert!(!f.iter().any(|x| x["rule"] == "unknown_unit"), "{f:#?}");
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    assert_eq!(
        a.get(&("2026-01".into(), CD.into(), "signed".into())),
        Some(&42.0)
    );
}

/// 填报单位, 报告期 and a 报出日期 without its year, written below the
/// table with the signatures: the return is counted for its unit and
/// month, and its date (the April after March) makes it late.
#[test]
fn the_unit_period_and_date_below_the_table_are_read() {
    let d = Dir::new();
    let mut wb = util::return_book(
        "家医",
        "family_doctor",
        "",
        None,
        &[("新村", vec![("signed", V::N(12.0))])],
        None,
    );
    let ws = wb.worksheet_from_index(0).unwrap();
    let footer = util::FIRST_DATA_ROW + 2;
    ws.write_string(footer, 0, "填报单位：城东街道社区卫生服务中心")
        .unwrap();
    ws.write_string(footer, 4, "报告期：2026年3月").unwrap();
    ws.write_string(footer, 8, "报出日期：4月8日").unwrap();
    wb.save(d.path("in/a.xlsx")).unwrap();
    util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    let f = findings(&d);
    assert!(
        !f.iter()
            .any(|x| x["rule"] == "unknown_unit" || x["rule"] == "period_missing"),
        "{f:#?}"
    );
    let late: Vec<&str> = f
        .iter()
        .filter(|x| x["rule"] == "late_return")
        .map(|x| x["message"].as_str())
        .collect();
    assert_eq!(late.len(), 1, "{f:#?}");
    assert!(late[0].contains("2026年4月8日"), "{}", late[0]);
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    assert_eq!(
        a.get(&("2026-03".into(), CD.into(), "signed".into())),
        Some(&12.0)
    );
}

/// A cover or an instructions sheet beside a return is only info, like an
/// empty one; a sheet with figures but no header is still a warning, and
/// a workbook of text alone is one warning for the workbook.
#[test]
fn a_cover_sheet_beside_a_return_is_only_info() {
    let d = Dir::new();
    let mut wb = util::return_book(
        "家医",
        "family_doctor",
        "城东街道",
        Some("2026年1月"),
        &[("新村", vec![("signed", V::N(12.0))])],
        None,
    );
    let cover = wb.add_worksheet();
    cover.set_name("封面").unwrap();
    cover
        .write_string(2, 1, "城东街道社区卫生服务中心")
        .unwrap();
    cover
        .write_string(4, 1, "2026年1月 基本公共卫生服务月报表")
        .unwrap();
    let notes = wb.add_worksheet();
    notes.set_name("填表说明").unwrap();
    notes.write_string(0, 0, "1. 本表每月5日前报送。").unwrap();
    let stray = wb.add_worksheet();
    stray.set_name("草稿").unwrap();
    stray.write_string(0, 0, "新村").unwrap();
    stray.write_number(0, 1, 12.0).unwrap();
    wb.save(d.path("in/城东街道.xlsx")).unwrap();
    let mut text_only = rust_xlsxwriter::Workbook::new();
    text_only
        .add_worksheet()
        .write_string(0, 0, "填表说明：本表每月5日前报送")
        .unwrap();
    text_only.save(d.path("in/说明.xlsx")).unwrap();
    util::run_in(&d, "check", &["--export", "out"]);
    let f = findings(&d);
    let found: Vec<(&str, &str, &str)> = f
        .iter()
        .filter(|x| x["rule"] == "no_return_found")
        .map(|x| {
            (
                x["file"].as_str(),
                x["sheet"].as_str(),
                x["severity"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("in/城东街道.xlsx", "填表说明", "info"),
            ("in/城东街道.xlsx", "封面", "info"),
            ("in/城东街道.xlsx", "草稿", "warning"),
            ("in/说明.xlsx", "", "warning"),
        ],
        "{f:#?}"
    );
}

/// A township that sent only its 合计: nothing of it is counted (the
/// roll-up counts villages), and that is said once, at the 合计, instead
/// of the figures disappearing behind the missing village rows.
#[test]
fn a_return_with_only_its_total_says_the_total_is_not_counted() {
    let d = Dir::new();
    let fd = "family_doctor";
    util::write_return(
        &d.path("in/城东街道.xlsx"),
        fd,
        "城东街道",
        Some("2026年1月"),
        &[],
        Some(&(
            "合计",
            vec![("resident_pop", V::N(1500.0)), ("signed", V::N(500.0))],
        )),
    );
    let out = util::run_in(&d, "check", &["--export", "out"]);
    assert_eq!(out.status.code(), Some(1));
    let f = findings(&d);
    let totals: Vec<(&str, &str)> = f
        .iter()
        .filter(|x| x["rule"] == "total_mismatch")
        .map(|x| (x["cell"].as_str(), x["severity"].as_str()))
        .collect();
    assert_eq!(
        totals,
        [(cell_of(fd, "resident_pop", 0).as_str(), "error")],
        "{f:#?}"
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("合计行的数字未计入"), "{said}");
}

/// FORMS.md §3: a return on an older template, without whole groups (two
/// doses here), is one `missing_column` warning listing them, and its other
/// figures count; a group that is there without one of its columns is
/// still an error.
#[test]
fn a_return_without_whole_groups_is_one_warning_and_still_counts() {
    let d = Dir::new();
    let vac = "vaccination";
    let cols = util::columns(vac);
    let group_of = |id: &str| cols.iter().find(|c| c.0 == id).unwrap().1.clone().unwrap();
    let (je, mena) = (group_of("je1_due"), group_of("mena1_due"));
    let mut wb = util::return_book(
        vac,
        vac,
        "城东街道",
        Some("2026-01"),
        &[
            (
                "东门社区",
                vec![("hepb1_due", V::N(10.0)), ("hepb1_given", V::N(9.0))],
            ),
            (
                "新村",
                vec![("hepb1_due", V::N(5.0)), ("hepb1_given", V::N(5.0))],
            ),
        ],
        None,
    );
    let ws = wb.worksheet_from_index(0).unwrap();
    let blank = rust_xlsxwriter::Format::new();
    for (k, c) in cols.iter().enumerate() {
        let col = util::FIRST_FIELD_COL + k as u16;
        if c.1.as_ref() == Some(&je) || c.1.as_ref() == Some(&mena) {
            ws.write_blank(2, col, &blank).unwrap();
            ws.write_blank(3, col, &blank).unwrap();
        }
        // 卡介苗 keeps its group but loses its 实种 label.
        if c.0 == "bcg_given" {
            ws.write_blank(3, col, &blank).unwrap();
        }
    }
    // Saved as an older office keeps it: .xls, by LibreOffice (where it is
    // installed; otherwise the .xlsx as written).
    std::fs::create_dir_all(d.path("draft")).unwrap();
    std::fs::create_dir_all(d.path("in")).unwrap();
    wb.save(d.path("draft/城东街道.xlsx")).unwrap();
    if util::soffice("an older template saved as .xls") {
        util::calc_save_as(&d, "xls", d.path("in"), d.path("draft/城东街道.xlsx"));
        assert!(d.path("in/城东街道.xls").exists());
    } else {
        std::fs::copy(d.path("draft/城东街道.xlsx"), d.path("in/城东街道.xlsx")).unwrap();
    }
    let out = util::run_in(
        &d,
        "consolidate",
        &["--export", "out", "-o", "r.xlsx", "--period", "2026-01"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let f = util::read_csv(&d.path("out/findings.csv"));
    let missing: Vec<_> = f.iter().filter(|x| x["rule"] == "missing_column").collect();
    let warnings: Vec<_> = missing
        .iter()
        .filter(|x| x["severity"] == "warning")
        .collect();
    assert_eq!(warnings.len(), 1, "{missing:#?}");
    assert!(
        warnings[0]["message"].contains(&je) && warnings[0]["message"].contains(&mena),
        "{}",
        warnings[0]["message"]
    );
    let errors: Vec<&str> = missing
        .iter()
        .filter(|x| x["severity"] == "error")
        .map(|x| x["field"].as_str())
        .collect();
    assert!(errors.contains(&"bcg_given"), "{missing:#?}");
    assert!(
        errors
            .iter()
            .all(|e| !e.starts_with("je1_") && !e.starts_with("mena1_")),
        "an absent group is the warning, not an error per column: {errors:?}"
    );
    // The figures it did send count: 乙肝 应种 15 at the township.
    let aggs = util::read_csv(&d.path("out/aggregates.csv"));
    let hepb = aggs
        .iter()
        .find(|r| r["unit_code"] == "439902001000" && r["field"] == "hepb1_due")
        .unwrap();
    assert_eq!(hepb["value"], "15");
}

/// FORMS.md §3: a province using 乙脑灭活疫苗 adds its 4th dose to the
/// schema file, with its check, target and order after the 1st dose; no
/// code changes. A return with the new columns is read by their labels,
/// and the dose is checked, counted and rated like any other.
#[test]
fn a_dose_added_to_the_schema_is_read_checked_and_rated() {
    let d = Dir::new();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(d.path("schemas")).unwrap();
    for form in ["vaccination", "family_doctor", "chronic_disease"] {
        let mut text = std::fs::read_to_string(repo.join(format!("schemas/{form}.toml"))).unwrap();
        if form == "vaccination" {
            text.push_str(
                r#"
[[fields]]
id = "jei4_due"
group = "乙脑灭活疫苗第4剂"
label = "应种人数"
kind = "flow"

[[fields]]
id = "jei4_given"
group = "乙脑灭活疫苗第4剂"
label = "实种人数"
kind = "flow"

[[fields]]
id = "jei4_rate"
group = "乙脑灭活疫苗第4剂"
label = "接种率(%)"
kind = "rate"
numerator = "jei4_given"
denominator = "jei4_due"

[[checks]]
left = "jei4_given"
right = "jei4_due"
rule = "given_exceeds_due"

[[targets]]
field = "jei4_rate"
min = 90.0
"#,
            );
        }
        std::fs::write(d.path(&format!("schemas/{form}.toml")), text).unwrap();
    }
    // A one-row header of joined labels: 乙肝 1st dose and the new dose.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "免疫规划疫苗常规接种情况月报表")
        .unwrap();
    ws.write_string(1, 0, "填报单位：城东街道    报告期：2026年3月")
        .unwrap();
    let head = [
        "序号",
        "单位名称",
        "乙肝疫苗第1剂应种人数",
        "乙肝疫苗第1剂实种人数",
        "乙脑灭活疫苗第4剂应种人数",
        "乙脑灭活疫苗第4剂实种人数",
    ];
    for (c, h) in head.iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    // 东门社区 10 due, 9 given; 新村 10 due, 12 given (above due: an error,
    // and the row's new-dose figures are still counted as reported).
    for (r, (name, figures)) in [
        ("东门社区", [5.0, 5.0, 10.0, 9.0]),
        ("新村", [4.0, 4.0, 10.0, 12.0]),
    ]
    .iter()
    .enumerate()
    {
        let row = 3 + r as u32;
        ws.write_number(row, 0, (r + 1) as f64).unwrap();
        ws.write_string(row, 1, *name).unwrap();
        for (k, v) in figures.iter().enumerate() {
            ws.write_number(row, 2 + k as u16, *v).unwrap();
        }
    }
    wb.save(d.path("in/城东街道_2026年3月_免疫.xlsx")).unwrap();
    let out = util::run_in(
        &d,
        "consolidate",
        &[
            "--schemas",
            "schemas",
            "--export",
            "out",
            "-o",
            "r.xlsx",
            "--period",
            "2026-03",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let f = util::read_csv(&d.path("out/findings.csv"));
    let breach: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "given_exceeds_due")
        .collect();
    assert_eq!(breach.len(), 1, "{breach:#?}");
    assert_eq!(breach[0]["field"], "jei4_given");
    assert_eq!(breach[0]["cell"], "F5");
    let aggs = util::read_csv(&d.path("out/aggregates.csv"));
    let at = |field: &str| {
        aggs.iter()
            .find(|r| {
                r["unit_code"] == "439902001000" && r["field"] == field && r["period"] == "2026-03"
            })
            .map(|r| r["value"].clone())
    };
    assert_eq!(at("jei4_due").as_deref(), Some("20"));
    assert_eq!(at("jei4_given").as_deref(), Some("21"));
    assert_eq!(at("jei4_rate").as_deref(), Some("105"));
    let ind = util::read_csv(&d.path("out/indicators.csv"));
    let row = ind
        .iter()
        .find(|r| r["unit_code"] == "439902001000" && r["field"] == "jei4_rate")
        .unwrap();
    assert_eq!(row["target"], "90");
    assert_eq!(row["met"], "true");
}

/// FORMS.md §3.1: the official vaccination workbook of three sheets, 本地 /
/// 流动 / 合计, is one return: the 合计 sheet counts, 本地 + 流动 = 合计 is
/// checked cell by cell (a difference named at the 合计 cell with both
/// sheets), a broken 流动 cell is named on 流动, and nothing is a
/// duplicate. Without a 合计 sheet, 本地 + 流动 is the return.
#[test]
fn a_local_floating_total_workbook_is_one_return() {
    let d = Dir::new();
    // Counts add up across the sheets; each sheet's rate is its own.
    let dose = |due: V<'static>, given: V<'static>| {
        let rate = match (due, given) {
            (V::N(d), V::N(g)) => V::N((g / d * 1000.0).round() / 10.0),
            _ => V::T(""),
        };
        vec![
            ("hepb1_due", due),
            ("hepb1_given", given),
            ("hepb1_rate", rate),
        ]
    };
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheets: [(&str, Vec<util::Row<'_>>); 3] = [
        (
            "本地",
            vec![
                ("东门社区", dose(V::N(10.0), V::N(9.0))),
                ("新村", dose(V::N(20.0), V::N(18.0))),
            ],
        ),
        (
            "流动",
            vec![
                ("东门社区", dose(V::N(3.0), V::N(3.0))),
                ("新村", dose(V::N(5.0), V::T("约4"))),
            ],
        ),
        (
            "合计",
            vec![
                ("东门社区", dose(V::N(13.0), V::N(12.0))),
                // 20 + 5 is 25, not 26.
                ("新村", dose(V::N(26.0), V::N(22.0))),
            ],
        ),
    ];
    for (name, rows) in &sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        util::write_sheet(ws, "vaccination", "城东街道", Some("2026年1月"), rows, None);
    }
    // Saved by an office as .xls, by LibreOffice (where it is installed;
    // otherwise the .xlsx as written): the three sheets, their names and
    // cells come through.
    std::fs::create_dir_all(d.path("draft")).unwrap();
    std::fs::create_dir_all(d.path("in")).unwrap();
    wb.save(d.path("draft/城东街道.xlsx")).unwrap();
    if util::soffice("a three-sheet workbook saved as .xls") {
        util::calc_save_as(&d, "xls", d.path("in"), d.path("draft/城东街道.xlsx"));
        assert!(d.path("in/城东街道.xls").exists());
    } else {
        std::fs::copy(d.path("draft/城东街道.xlsx"), d.path("in/城东街道.xlsx")).unwrap();
    }
    // 新民镇 sends 本地 and 流动 only: their sum is the return.
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, a, b) in [("本地", 10.0, 5.0), ("流动", 2.0, 1.0)] {
        let ws = wb.add_worksheet();
        ws.set_name(name).unwrap();
        util::write_sheet(
            ws,
            "vaccination",
            "新民镇",
            Some("2026年1月"),
            &[
                ("新村", dose(V::N(a), V::N(a - 1.0))),
                ("红旗村", dose(V::N(b), V::N(b))),
            ],
            None,
        );
    }
    wb.save(d.path("in/新民镇.xlsx")).unwrap();
    util::run_in(&d, "check", &["--export", "out"]);
    let f = findings(&d);
    assert!(!f.iter().any(|x| x["rule"] == "duplicate_return"), "{f:#?}");
    let total: Vec<_> = f.iter().filter(|x| x["rule"] == "total_mismatch").collect();
    assert_eq!(total.len(), 1, "{total:#?}");
    assert_eq!(total[0]["sheet"], "合计");
    assert_eq!(total[0]["cell"], cell_of("vaccination", "hepb1_due", 1));
    assert_eq!(total[0]["value"], "26");
    for needed in ["本地", "流动", "20", "5", "26"] {
        assert!(total[0]["message"].contains(needed), "{needed}: {total:#?}");
    }
    let broken: Vec<_> = f.iter().filter(|x| x["rule"] == "not_a_number").collect();
    assert_eq!(broken.len(), 1, "{broken:#?}");
    assert_eq!(broken[0]["sheet"], "流动");
    assert_eq!(broken[0]["cell"], cell_of("vaccination", "hepb1_given", 1));
    // The 合计 sheet counted once; 新民镇's 本地 + 流动.
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let get = |unit: &str, field: &str| {
        a.get(&("2026-01".into(), unit.into(), field.into()))
            .copied()
    };
    assert_eq!(get("439902001000", "hepb1_due"), Some(39.0));
    assert_eq!(get("439902001000", "hepb1_given"), Some(34.0));
    assert_eq!(get("439902101000", "hepb1_due"), Some(18.0));
    assert_eq!(get("439902101000", "hepb1_given"), Some(16.0));
    assert_eq!(get("439902000000", "hepb1_due"), Some(57.0));
    // Both townships reported: nothing missing.
    assert!(!f.iter().any(|x| x["rule"] == "missing_return"), "{f:#?}");
}

/// A finding as `findings.csv` has it.
type Row = std::collections::HashMap<String, String>;

/// `aggregates.csv` by (period, unit code, field).
type Aggregates = std::collections::HashMap<(String, String, String), f64>;

/// `check --period 2026-01 --export out` over `in/`: its findings and
/// its aggregates.
fn check_january(d: &Dir) -> (Vec<Row>, Aggregates) {
    util::run_in(d, "check", &["--export", "out", "--period", "2026-01"]);
    (findings(d), util::aggregates(&d.path("out/aggregates.csv")))
}

/// That `in/` ingested into a new store and January reported from it gives
/// `unit` the `fields` of `a`.
fn assert_a_store_agrees(d: &Dir, a: &Aggregates, unit: &str, fields: &[&str]) {
    let b = january_from_a_store(d);
    for field in fields {
        assert_eq!(january(&b, unit, field), january(a, unit, field), "{field}");
    }
}

/// `in/` ingested into a new store and January reported from it: its
/// aggregates.
fn january_from_a_store(d: &Dir) -> Aggregates {
    let out = util::phstats(
        d.tmp.path(),
        &["ingest", "in", "--units", "units.csv", "--store", "db"],
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        util::text(&out)
    );
    let out = util::phstats(
        d.tmp.path(),
        &[
            "report", "--store", "db", "--period", "2026-01", "--export", "db_out", "-o", "r.xlsx",
        ],
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        util::text(&out)
    );
    util::aggregates(&d.path("db_out/aggregates.csv"))
}

/// `check --export out` over `in/`, every month: its findings and its
/// aggregates.
fn check_every_month(d: &Dir) -> (Vec<Row>, Aggregates) {
    util::run_in(d, "check", &["--export", "out"]);
    (findings(d), util::aggregates(&d.path("out/aggregates.csv")))
}

/// A unit's 常住人口数 of `month` in aggregates `a`.
fn residents(a: &Aggregates, month: &str, unit: &str) -> Option<f64> {
    a.get(&(month.into(), unit.into(), "resident_pop".into()))
        .copied()
}

/// A unit's January figure of `field` in aggregates `a`.
fn january(a: &Aggregates, unit: &str, field: &str) -> Option<f64> {
    a.get(&("2026-01".into(), unit.into(), field.into()))
        .copied()
}

/// That no finding of `f` is of any of `rules`.
fn assert_none_of(f: &[Row], rules: &[&str]) {
    for rule in rules {
        let hits: Vec<_> = f.iter().filter(|x| x["rule"] == *rule).collect();
        assert!(hits.is_empty(), "{rule}: {hits:#?}");
    }
}

/// Saves `wb` as `in/{name}.xls` through LibreOffice where it is installed
/// (`what` says why it is needed), as an office would send it; else as
/// `in/{name}.xlsx`.
fn save_as_an_office_would(d: &Dir, wb: &mut rust_xlsxwriter::Workbook, name: &str, what: &str) {
    wb.save(d.path("draft.xlsx")).unwrap();
    if util::soffice(what) {
        std::fs::create_dir_all(d.path("xls")).unwrap();
        util::calc_save_as(d, "xls", d.path("xls"), d.path("draft.xlsx"));
        std::fs::rename(d.path("xls/draft.xls"), d.path(&format!("in/{name}.xls"))).unwrap();
    } else {
        std::fs::rename(d.path("draft.xlsx"), d.path(&format!("in/{name}.xlsx"))).unwrap();
    }
}

/// 城东街道's January village table with a block of columns per `blocks`
/// (本地儿童 | 流动儿童 | 合计, 本年累计 | 本月), each over 乙肝疫苗第1剂
/// over 应种人数 | 实种人数 | 接种率(%): a header of three rows, 序号 and
/// 单位名称 merged down it. `figures(k, i)` is block `k`'s (应种, 实种) of
/// village `i` of `villages`, whose rows follow from row 6; the rate is
/// written as a clerk rounds it.
fn blocks_over_a_dose(
    wb: &mut rust_xlsxwriter::Workbook,
    blocks: &[&str],
    villages: &[&str],
    figures: &dyn Fn(usize, usize) -> (f64, f64),
) {
    let plain = rust_xlsxwriter::Format::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
    ws.write(1, 0, "填报单位：城东街道社区卫生服务中心")
        .unwrap();
    ws.write(1, 7, "报告期：2026年1月").unwrap();
    ws.merge_range(2, 0, 4, 0, "序号", &plain).unwrap();
    ws.merge_range(2, 1, 4, 1, "单位名称", &plain).unwrap();
    for (k, block) in blocks.iter().enumerate() {
        let c = 2 + 3 * k as u16;
        ws.merge_range(2, c, 2, c + 2, block, &plain).unwrap();
        ws.merge_range(3, c, 3, c + 2, "乙肝疫苗第1剂", &plain)
            .unwrap();
        for (j, sub) in ["应种人数", "实种人数", "接种率(%)"].iter().enumerate() {
            ws.write(4, c + j as u16, *sub).unwrap();
        }
        for (i, name) in villages.iter().enumerate() {
            let r = 5 + i as u32;
            ws.write(r, 0, (i + 1) as f64).unwrap();
            ws.write(r, 1, *name).unwrap();
            let (due, given) = figures(k, i);
            ws.write(r, c, due).unwrap();
            ws.write(r, c + 1, given).unwrap();
            ws.write(r, c + 2, (given / due * 1000.0).round() / 10.0)
                .unwrap();
        }
    }
}

/// FORMS.md §2: a return about one unit may list its fields as rows — a
/// township's own total as 指标 | 数值, a village's own sheet as 项目 |
/// 应种人数 | 实种人数 | 接种率 — read by the same labels and checked the same
/// way, each figure named at its own cell.
#[test]
fn a_one_unit_return_with_the_fields_as_rows() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    // 新民镇's family-doctor total, one field a row; one cell broken.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "家庭医生签约服务情况月报表").unwrap();
    ws.write(1, 0, "填报单位：新民镇卫生院").unwrap();
    ws.write(1, 2, "报告期：2026年1月").unwrap();
    ws.write(2, 0, "指标").unwrap();
    ws.write(2, 1, "数值").unwrap();
    let rows: [(&str, Option<f64>, Option<&str>); 5] = [
        ("常住人口数", Some(3000.0), None),
        ("签约人数", Some(1230.0), None),
        ("签约率（%）", Some(41.0), None),
        ("重点人群人数", Some(800.0), None),
        ("重点人群签约人数", None, Some("约600")),
    ];
    for (k, (label, v, t)) in rows.iter().enumerate() {
        let r = 3 + k as u32;
        ws.write(r, 0, *label).unwrap();
        if let Some(v) = v {
            ws.write(r, 1, *v).unwrap();
        }
        if let Some(t) = t {
            ws.write(r, 1, *t).unwrap();
        }
    }
    wb.save(d.path("in/新民镇.xlsx")).unwrap();
    // 城东街道's two villages each send their own vaccination sheet, doses
    // down, 应种 / 实种 / 接种率 across; one 实种 above its 应种.
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (village, bcg_given) in [("东门社区", 12.0), ("新村", 9.0)] {
        let ws = wb.add_worksheet();
        ws.set_name(village).unwrap();
        ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
        ws.write(1, 0, format!("填报单位：{village}")).unwrap();
        ws.write(1, 3, "报告期：2026年1月").unwrap();
        for (c, h) in ["项目", "应种人数", "实种人数", "接种率(%)"]
            .iter()
            .enumerate()
        {
            ws.write(2, c as u16, *h).unwrap();
        }
        for (k, (dose, due, given)) in [
            ("乙肝疫苗第1剂", 10.0_f64, 9.0_f64),
            ("卡介苗", 10.0, bcg_given),
            ("乙肝疫苗第2剂", 8.0, 8.0),
        ]
        .iter()
        .enumerate()
        {
            let r = 3 + k as u32;
            ws.write(r, 0, *dose).unwrap();
            ws.write(r, 1, *due).unwrap();
            ws.write(r, 2, *given).unwrap();
            ws.write(r, 3, (given / due * 1000.0).round() / 10.0)
                .unwrap();
        }
    }
    // The villages' sheets saved by LibreOffice as .xls where it is
    // installed, as an office would send them.
    save_as_an_office_would(
        &d,
        &mut wb,
        "城东街道",
        "villages' own sheets saved as .xls",
    );
    let (f, a) = check_january(&d);
    let get = |unit: &str, field: &str| january(&a, unit, field);
    // 新民镇 is its own leaf.
    assert_eq!(get("439902101000", "resident_pop"), Some(3000.0));
    assert_eq!(get("439902101000", "signed"), Some(1230.0));
    assert_eq!(get("439902101000", "signing_rate"), Some(41.0));
    assert_eq!(
        get("439902101000", "key_signed"),
        None,
        "the broken cell is not a figure"
    );
    let bad: Vec<_> = f.iter().filter(|x| x["rule"] == "not_a_number").collect();
    assert_eq!(bad.len(), 1, "{bad:#?}");
    assert_eq!(bad[0]["cell"], "B8");
    assert_eq!(bad[0]["sheet"], "Sheet1");
    // The two villages: one return of 城东街道, each sheet a row.
    assert_eq!(get("439902001001", "hepb1_due"), Some(10.0));
    assert_eq!(get("439902001002", "hepb2_given"), Some(8.0));
    assert_eq!(get("439902001000", "hepb1_given"), Some(18.0));
    assert!(!f.iter().any(|x| x["rule"] == "duplicate_return"), "{f:#?}");
    // 实种 12 above 应种 10 on 东门社区's sheet, at its cell (卡介苗 row, 实种).
    let over: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "given_exceeds_due")
        .collect();
    assert_eq!(over.len(), 1, "{over:#?}");
    assert_eq!(over[0]["sheet"], "东门社区");
    assert_eq!(over[0]["cell"], "C5");
    // The doses the sheets do not list are one warning per return.
    let groups: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "missing_column" && x["form"] == "vaccination")
        .collect();
    assert!(!groups.is_empty() && groups.iter().all(|x| x["severity"] == "warning"));
    // Said as items the sheet does not list, not as header columns.
    assert!(
        groups
            .iter()
            .all(|x| x["message"].starts_with("本表没有以下项目：")),
        "{groups:#?}"
    );
}

/// FORMS.md §2, a return about one unit with its fields as rows, as
/// offices lay it out with merged cells: the vaccine in a 疫苗名称 column
/// merged down over its doses, each dose in a 剂次 column beside it (the
/// vaccine's name stands in its first row only); a key group merged down
/// over its 人数 | 签约人数 | 签约率, the whole labels (常住人口数) merged
/// across both columns. Every figure is read as the vaccine or group joined
/// with its dose or sub-label, at its own cell.
#[test]
fn fields_as_rows_under_a_label_merged_down() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("免疫").unwrap();
    let plain = rust_xlsxwriter::Format::new();
    ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
    ws.write(1, 0, "填报单位：新民镇卫生院").unwrap();
    ws.write(1, 3, "报告期：2026年1月").unwrap();
    for (c, h) in ["疫苗名称", "剂次", "应种人数", "实种人数", "接种率(%)"]
        .iter()
        .enumerate()
    {
        ws.write(2, c as u16, *h).unwrap();
    }
    // (vaccine, its doses as (剂次, 应种, 实种)), rows from 4 (Excel's).
    type Doses<'a> = &'a [(&'a str, f64, f64)];
    let doses: [(&str, Doses); 3] = [
        (
            "乙肝疫苗",
            &[
                ("第1剂", 20.0, 19.0),
                ("第2剂", 18.0, 18.0),
                ("第3剂", 21.0, 20.0),
            ],
        ),
        ("卡介苗", &[("", 20.0, 20.0)]),
        (
            "百白破疫苗",
            &[("第1剂", 15.0, 15.0), ("第2剂", 16.0, 14.0)],
        ),
    ];
    let mut r = 3u32;
    for (vaccine, ds) in doses {
        let first = r;
        for &(dose, due, given) in ds {
            if !dose.is_empty() {
                ws.write(r, 1, dose).unwrap();
            }
            ws.write(r, 2, due).unwrap();
            // One figure mistyped, to be named at its cell.
            if (vaccine, dose) == ("乙肝疫苗", "第3剂") {
                ws.write(r, 3, "约20").unwrap();
            } else {
                ws.write(r, 3, given).unwrap();
            }
            ws.write(r, 4, (given / due * 1000.0).round() / 10.0)
                .unwrap();
            r += 1;
        }
        if r - first > 1 {
            ws.merge_range(first, 0, r - 1, 0, vaccine, &plain).unwrap();
        } else {
            ws.write(first, 0, vaccine).unwrap();
        }
    }
    let ws = wb.add_worksheet();
    ws.set_name("家医").unwrap();
    ws.write(0, 0, "家庭医生签约服务情况月报表").unwrap();
    ws.write(1, 0, "填报单位：新民镇卫生院").unwrap();
    ws.write(1, 2, "报告期：2026年1月").unwrap();
    ws.merge_range(2, 0, 2, 1, "指标", &plain).unwrap();
    ws.write(2, 2, "数值").unwrap();
    let mut r = 3u32;
    for (label, v) in [
        ("常住人口数", 3000.0),
        ("签约人数", 1230.0),
        ("签约率(%)", 41.0),
        ("重点人群人数", 800.0),
        ("重点人群签约人数", 600.0),
        ("重点人群签约率(%)", 75.0),
    ] {
        ws.merge_range(r, 0, r, 1, label, &plain).unwrap();
        ws.write(r, 2, v).unwrap();
        r += 1;
    }
    for (group, pop, signed) in [("65岁及以上老年人", 400.0, 330.0), ("孕产妇", 30.0, 21.0)]
    {
        ws.merge_range(r, 0, r + 2, 0, group, &plain).unwrap();
        for (k, (sub, v)) in [
            ("人数", pop),
            ("签约人数", signed),
            ("签约率(%)", signed / pop * 100.0),
        ]
        .into_iter()
        .enumerate()
        {
            ws.write(r + k as u32, 1, sub).unwrap();
            ws.write(r + k as u32, 2, (v * 10.0_f64).round() / 10.0)
                .unwrap();
        }
        r += 3;
    }
    ws.merge_range(r, 0, r, 1, "本月履约服务人次", &plain)
        .unwrap();
    ws.write(r, 2, 321.0).unwrap();
    save_as_an_office_would(
        &d,
        &mut wb,
        "新民镇",
        "a return with merged labels saved as .xls",
    );
    util::run_in(&d, "check", &["--export", "out", "--period", "2026-01"]);
    let f = findings(&d);
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let get = |field: &str| {
        a.get(&("2026-01".into(), "439902101000".into(), field.into()))
            .copied()
    };
    // Each dose by its vaccine, the later rows' too.
    for (field, v) in [
        ("hepb1_due", 20.0),
        ("hepb1_given", 19.0),
        ("hepb2_due", 18.0),
        ("hepb3_due", 21.0),
        ("bcg_given", 20.0),
        ("dtap1_due", 15.0),
        ("dtap2_given", 14.0),
    ] {
        assert_eq!(get(field), Some(v), "{field}");
    }
    // 签约人数 is the whole return's where it stands alone, the group's
    // under a group.
    for (field, v) in [
        ("resident_pop", 3000.0),
        ("signed", 1230.0),
        ("elderly_pop", 400.0),
        ("elderly_signed", 330.0),
        ("maternal_pop", 30.0),
        ("maternal_signed", 21.0),
        ("key_signed", 600.0),
        ("services", 321.0),
    ] {
        assert_eq!(get(field), Some(v), "{field}");
    }
    assert_eq!(get("elderly_signing_rate"), Some(82.5));
    // Each figure named at its own cell: 乙肝疫苗第3剂 实种 is D6, and the
    // text there is no figure.
    assert_eq!(get("hepb3_given"), None);
    let bad: Vec<_> = f.iter().filter(|x| x["rule"] == "not_a_number").collect();
    assert_eq!(bad.len(), 1, "{bad:#?}");
    assert_eq!(
        (bad[0]["sheet"].as_str(), bad[0]["cell"].as_str()),
        ("免疫", "D6")
    );
    assert_eq!(bad[0]["field"], "hepb3_given");
    let rate: Vec<_> = f.iter().filter(|x| x["rule"] == "rate_mismatch").collect();
    assert!(rate.is_empty(), "{rate:#?}");
    let groups: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "missing_column" && x["severity"] == "error")
        .collect();
    assert!(groups.is_empty(), "{groups:#?}");
}

/// FORMS.md §2, a header of three rows as offices draw the 22 doses: the
/// vaccine merged across its doses, each dose across its 应种 / 实种 /
/// 接种率, a single-dose vaccine (卡介苗) merged down over the dose row, and
/// 序号 / 单位名称 merged down all three. Each column is its vaccine, dose
/// and sub-header joined; the figures start below the third row.
#[test]
fn a_header_of_three_rows_is_joined() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let plain = rust_xlsxwriter::Format::new();
    ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
    ws.write(1, 0, "填报单位：城东街道社区卫生服务中心")
        .unwrap();
    ws.write(1, 4, "报告期：2026年1月").unwrap();
    ws.merge_range(2, 0, 4, 0, "序号", &plain).unwrap();
    ws.merge_range(2, 1, 4, 1, "单位名称", &plain).unwrap();
    // 乙肝疫苗 over doses 1 and 2 (C–H), 卡介苗 (I–K) down two rows,
    // 百白破疫苗 over dose 1 (L–N).
    ws.merge_range(2, 2, 2, 7, "乙肝疫苗", &plain).unwrap();
    ws.merge_range(3, 2, 3, 4, "第1剂", &plain).unwrap();
    ws.merge_range(3, 5, 3, 7, "第2剂", &plain).unwrap();
    ws.merge_range(2, 8, 3, 10, "卡介苗", &plain).unwrap();
    ws.merge_range(2, 11, 2, 13, "百白破疫苗", &plain).unwrap();
    ws.merge_range(3, 11, 3, 13, "第1剂", &plain).unwrap();
    for k in 0..4u16 {
        for (j, sub) in ["应种人数", "实种人数", "接种率(%)"].iter().enumerate() {
            ws.write(4, 2 + 3 * k + j as u16, *sub).unwrap();
        }
    }
    // Each village: (应种, 实种) of 乙肝1, 乙肝2, 卡介苗, 百白破1.
    let villages: [(&str, [(f64, f64); 4]); 2] = [
        (
            "东门社区",
            [(10.0, 9.0), (8.0, 8.0), (12.0, 12.0), (7.0, 6.0)],
        ),
        ("新村", [(5.0, 5.0), (6.0, 4.0), (4.0, 4.0), (3.0, 3.0)]),
    ];
    for (k, (name, doses)) in villages.iter().enumerate() {
        let r = 5 + k as u32;
        ws.write(r, 0, (k + 1) as f64).unwrap();
        ws.write(r, 1, *name).unwrap();
        for (i, (due, given)) in doses.iter().enumerate() {
            let c = 2 + 3 * i as u16;
            ws.write(r, c, *due).unwrap();
            ws.write(r, c + 1, *given).unwrap();
            ws.write(r, c + 2, (given / due * 1000.0).round() / 10.0)
                .unwrap();
        }
    }
    save_as_an_office_would(&d, &mut wb, "城东街道", "a three-row header saved as .xls");
    let (f, a) = check_january(&d);
    let get = |unit: &str, field: &str| january(&a, unit, field);
    for (field, v) in [
        ("hepb1_due", 15.0),
        ("hepb1_given", 14.0),
        ("hepb2_due", 14.0),
        ("hepb2_given", 12.0),
        ("bcg_due", 16.0),
        ("bcg_given", 16.0),
        ("dtap1_due", 10.0),
        ("dtap1_given", 9.0),
    ] {
        assert_eq!(get("439902001000", field), Some(v), "{field}");
    }
    assert_eq!(get("439902001002", "hepb2_given"), Some(4.0));
    // Nothing read as a unit row from the header, nothing unknown, no
    // group of the three missing.
    assert_none_of(
        &f,
        &[
            "unknown_unit",
            "unknown_column",
            "not_a_number",
            "rate_mismatch",
        ],
    );
    let missing: Vec<_> = f.iter().filter(|x| x["rule"] == "missing_column").collect();
    assert_eq!(missing.len(), 1, "{missing:#?}");
    assert_eq!(missing[0]["severity"], "warning");
    assert!(
        !missing[0]["message"].contains("乙肝疫苗第1剂"),
        "{missing:#?}"
    );
    assert!(!missing[0]["message"].contains("卡介苗"), "{missing:#?}");
}

/// A township that heads its villages with a row of its own name (城东街道
/// above 东门社区 and 新村) and labels no 合计 has written its total there:
/// checked as the 合计 (a wrong figure named at its cell), never an unknown
/// unit. Beside a labelled 合计 it is named (a second total, or the
/// centre's own figures), and neither counted nor summed with the villages.
#[test]
fn a_row_of_the_townships_own_name_is_its_total() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let village = |name, pop, signed| {
        (
            name,
            vec![("resident_pop", V::N(pop)), ("signed", V::N(signed))],
        )
    };
    util::write_return(
        &d.path("in/城东街道.xlsx"),
        "family_doctor",
        "城东街道",
        Some("2026年1月"),
        &[
            village("城东街道", 1500.0, 510.0),
            village("东门社区", 1000.0, 400.0),
            village("新村", 500.0, 100.0),
        ],
        None,
    );
    util::write_return(
        &d.path("in/新民镇.xlsx"),
        "family_doctor",
        "新民镇",
        Some("2026年1月"),
        &[
            village("新民镇", 900.0, 300.0),
            village("新村", 600.0, 200.0),
            village("红旗村", 300.0, 100.0),
        ],
        Some(&village("合计", 900.0, 300.0)),
    );
    let (f, a) = check_january(&d);
    let get = |unit: &str, field: &str| january(&a, unit, field);
    // 城东街道 counts its villages; its own row is their total, 10 over.
    assert_eq!(get("439902001000", "signed"), Some(500.0));
    assert_eq!(get("439902001000", "resident_pop"), Some(1500.0));
    let of = |rule: &str, file: &str| -> Vec<_> {
        f.iter()
            .filter(|x| x["rule"] == rule && x["file"].ends_with(file))
            .collect()
    };
    assert!(of("unknown_unit", "城东街道.xlsx").is_empty(), "{f:#?}");
    let total = of("total_mismatch", "城东街道.xlsx");
    assert_eq!(total.len(), 1, "{total:#?}");
    assert_eq!(total[0]["cell"], cell_of("family_doctor", "signed", 0));
    assert_eq!(total[0]["field"], "signed");
    // 新民镇 has a 合计: its own-name row is named, and not counted.
    assert_eq!(get("439902101000", "signed"), Some(300.0));
    assert!(of("unknown_unit", "新民镇.xlsx").is_empty(), "{f:#?}");
    let own = of("duplicate_row", "新民镇.xlsx");
    assert_eq!(own.len(), 1, "{own:#?}");
    assert_eq!(own[0]["cell"], "B5");
    assert!(own[0]["message"].contains("第 8 行已有合计行"), "{own:#?}");
    assert!(of("total_mismatch", "新民镇.xlsx").is_empty(), "{f:#?}");
}

/// The lines above a header as offices also write them (FORMS.md §2): the
/// unit after a bare 单位：, which 单位：人 beside it does not stand for;
/// the month as 报表月份 or 统计时段, or as the days of one whole month
/// with no label at all.
#[test]
fn the_unit_and_month_written_other_ways_above_the_header() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let rows = |a: f64, b: f64| {
        vec![
            (
                "东门社区",
                vec![("resident_pop", V::N(1000.0)), ("signed", V::N(a))],
            ),
            (
                "新村",
                vec![("resident_pop", V::N(500.0)), ("signed", V::N(b))],
            ),
        ]
    };
    let save = |file: &str, unit_line: &str, period_line: &str, rows: Vec<util::Row<'_>>| {
        let mut wb = util::return_book("家医", "family_doctor", "", None, &rows, None);
        let ws = wb.worksheet_from_index(0).unwrap();
        ws.write(1, 0, unit_line).unwrap();
        ws.write(1, 5, period_line).unwrap();
        wb.save(d.path(file)).unwrap();
    };
    save(
        "in/a.xlsx",
        "单位：城东街道卫生院",
        "报表月份：2026-01",
        rows(400.0, 100.0),
    );
    save(
        "in/城东街道2.xlsx",
        "单位：人",
        "统计时段：2026.2.1-2026.2.28",
        rows(410.0, 110.0),
    );
    save(
        "in/城东街道3.xlsx",
        "填报单位：城东街道",
        "2026年3月1日-3月31日",
        rows(420.0, 120.0),
    );
    util::run_in(&d, "check", &["--export", "out"]);
    let f = findings(&d);
    let errors: Vec<_> = f.iter().filter(|x| x["severity"] == "error").collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    for (month, signed) in [("2026-01", 500.0), ("2026-02", 520.0), ("2026-03", 540.0)] {
        assert_eq!(
            a.get(&(month.into(), "439902001000".into(), "signed".into())),
            Some(&signed),
            "{month}"
        );
    }
}

/// The official return's 本地 / 流动 / 合计 as blocks of columns on one
/// sheet (FORMS.md §3.1), not as three sheets: the 合计 block's columns
/// are the return, wherever the block stands, and the 本地 block's are
/// never taken for the township's figures — both in a one-unit return (a
/// dose a row) and over village rows under a header of three rows.
#[test]
fn local_floating_and_total_side_by_side_count_the_total() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let plain = rust_xlsxwriter::Format::new();
    let subs = ["应种人数", "实种人数", "接种率(%)"];
    // 新民镇's own return, doses down; the 合计 block last.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
    ws.write(1, 0, "填报单位：新民镇卫生院").unwrap();
    ws.write(1, 7, "报告期：2026年1月").unwrap();
    ws.merge_range(2, 0, 3, 0, "疫苗", &plain).unwrap();
    for (k, block) in ["本地儿童", "流动儿童", "合计"].iter().enumerate() {
        let c = 1 + 3 * k as u16;
        ws.merge_range(2, c, 2, c + 2, block, &plain).unwrap();
        for (j, sub) in subs.iter().enumerate() {
            ws.write(3, c + j as u16, *sub).unwrap();
        }
    }
    // (dose, 本地 (应种, 实种), 流动 (应种, 实种)).
    // (应种, 实种) of 本地 and of 流动.
    type Parts<'a> = (&'a str, (f64, f64), (f64, f64));
    let doses: [Parts; 2] = [
        ("乙肝疫苗第1剂", (20.0, 19.0), (3.0, 3.0)),
        ("卡介苗", (15.0, 15.0), (2.0, 1.0)),
    ];
    for (i, (dose, local, floating)) in doses.iter().enumerate() {
        let r = 4 + i as u32;
        ws.write(r, 0, *dose).unwrap();
        let total = (local.0 + floating.0, local.1 + floating.1);
        for (k, (due, given)) in [*local, *floating, total].iter().enumerate() {
            let c = 1 + 3 * k as u16;
            ws.write(r, c, *due).unwrap();
            ws.write(r, c + 1, *given).unwrap();
            ws.write(r, c + 2, (given / due * 1000.0).round() / 10.0)
                .unwrap();
        }
    }
    wb.save(d.path("in/新民镇.xlsx")).unwrap();
    // 城东街道's villages, 本地 / 流动 / 合计 over a dose over its counts.
    // Each village's 本地 and 流动 乙肝疫苗第1剂 (应种, 实种).
    let villages: [Parts; 2] = [
        ("东门社区", (10.0, 9.0), (2.0, 2.0)),
        ("新村", (8.0, 8.0), (1.0, 0.0)),
    ];
    let mut wb = rust_xlsxwriter::Workbook::new();
    blocks_over_a_dose(
        &mut wb,
        &["本地儿童", "流动儿童", "合计"],
        &villages.map(|v| v.0),
        &|k, i| {
            let (_, local, floating) = villages[i];
            match k {
                0 => local,
                1 => floating,
                _ => (local.0 + floating.0, local.1 + floating.1),
            }
        },
    );
    wb.save(d.path("in/城东街道.xlsx")).unwrap();
    let (f, a) = check_january(&d);
    let get = |unit: &str, field: &str| january(&a, unit, field);
    assert_eq!(get("439902101000", "hepb1_due"), Some(23.0));
    assert_eq!(get("439902101000", "hepb1_given"), Some(22.0));
    assert_eq!(get("439902101000", "bcg_given"), Some(16.0));
    assert_eq!(get("439902001001", "hepb1_due"), Some(12.0));
    assert_eq!(get("439902001002", "hepb1_given"), Some(8.0));
    assert_eq!(get("439902001000", "hepb1_due"), Some(21.0));
    assert_none_of(
        &f,
        &[
            "unknown_unit",
            "not_a_number",
            "rate_mismatch",
            "duplicate_row",
        ],
    );
}

/// Issue 28: a return on the old 8-dose form (before the 22 doses of the
/// national schedule) is one `missing_column` warning naming the 15 groups
/// it lacks, and its 8 doses count exactly.
#[test]
fn an_old_eight_dose_return_is_one_warning_and_its_doses_exact() {
    let d = Dir::new();
    let old = [
        ("乙肝疫苗第1剂", "hepb1"),
        ("卡介苗", "bcg"),
        ("脊灰灭活疫苗第1剂", "ipv1"),
        ("百白破疫苗第1剂", "dtap1"),
        ("百白破疫苗第3剂", "dtap3"),
        ("麻腮风疫苗第1剂", "mmr1"),
        ("乙脑减毒活疫苗第1剂", "je1"),
        ("A群流脑多糖疫苗第1剂", "mena1"),
    ];
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
    ws.write(1, 0, "填报单位：城东街道").unwrap();
    ws.write(1, 6, "报告期：2026年1月").unwrap();
    ws.write(2, 0, "序号").unwrap();
    ws.write(2, 1, "单位名称").unwrap();
    for (k, (group, _)) in old.iter().enumerate() {
        let c = 2 + 3 * k as u16;
        ws.merge_range(2, c, 2, c + 2, group, &rust_xlsxwriter::Format::new())
            .unwrap();
        for (j, sub) in ["应种人数", "实种人数", "接种率(%)"].iter().enumerate() {
            ws.write(3, c + j as u16, *sub).unwrap();
        }
    }
    // Village i, dose k: 应种 10 + i + k, 实种 one fewer.
    for (i, village) in ["东门社区", "新村"].iter().enumerate() {
        let r = 4 + i as u32;
        ws.write(r, 0, (i + 1) as f64).unwrap();
        ws.write(r, 1, *village).unwrap();
        for k in 0..old.len() {
            let c = 2 + 3 * k as u16;
            let due = (10 + i + k) as f64;
            ws.write(r, c, due).unwrap();
            ws.write(r, c + 1, due - 1.0).unwrap();
            ws.write(r, c + 2, ((due - 1.0) / due * 1000.0).round() / 10.0)
                .unwrap();
        }
    }
    std::fs::create_dir_all(d.path("in")).unwrap();
    wb.save(d.path("in/城东街道.xlsx")).unwrap();
    let out = util::run_in(&d, "check", &["--export", "out"]);
    assert_eq!(out.status.code(), Some(0), "{}", util::text(&out));
    let f = findings(&d);
    let missing: Vec<_> = f.iter().filter(|x| x["rule"] == "missing_column").collect();
    assert_eq!(missing.len(), 1, "{missing:#?}");
    assert_eq!(missing[0]["severity"], "warning");
    for absent in [
        "乙肝疫苗第2剂",
        "百白破疫苗第4剂",
        "甲肝减毒活疫苗",
        "乙肝疫苗首针",
    ] {
        assert!(
            missing[0]["message"].contains(absent),
            "{absent}: {missing:#?}"
        );
    }
    assert!(!f.iter().any(|x| x["severity"] == "error"), "{f:#?}");
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    for (k, (_, id)) in old.iter().enumerate() {
        let due = (10 + k + 11 + k) as f64;
        let key = |f: &str| {
            (
                "2026-01".to_string(),
                "439902001000".to_string(),
                format!("{id}_{f}"),
            )
        };
        assert_eq!(a.get(&key("due")), Some(&due), "{id}");
        assert_eq!(a.get(&key("given")), Some(&(due - 2.0)), "{id}");
        let rate = a.get(&key("rate")).unwrap();
        assert!(
            (rate - (due - 2.0) / due * 100.0).abs() < 1e-9,
            "{id}: {rate}"
        );
    }
    assert!(
        !a.keys().any(|k| k.2.starts_with("hepb2_")),
        "hepb2 not reported"
    );
}

/// Issue 28: the national forms' new relations (FORMS.md §4), each firing
/// once at its left-hand cell: 首针及时 above 实种, a key group above the key
/// population, a group's signed above its people. A clean row fires none.
#[test]
fn the_national_forms_new_relations_fire_at_their_cells() {
    let d = Dir::new();
    util::write_return(
        &d.path("in/城东街道免疫.xlsx"),
        "vaccination",
        "城东街道",
        Some("2026-01"),
        &[
            (
                "东门社区",
                vec![
                    ("hepb1_due", V::N(10.0)),
                    ("hepb1_given", V::N(9.0)),
                    ("hepb1_timely", V::N(10.0)),
                ],
            ),
            (
                "新村",
                vec![
                    ("hepb1_due", V::N(10.0)),
                    ("hepb1_given", V::N(9.0)),
                    ("hepb1_timely", V::N(9.0)),
                ],
            ),
        ],
        None,
    );
    let fd = |tb: f64, poor_signed: f64| {
        vec![
            ("resident_pop", V::N(1000.0)),
            ("signed", V::N(500.0)),
            ("key_pop", V::N(300.0)),
            ("key_signed", V::N(200.0)),
            ("tb_pop", V::N(tb)),
            ("poor_pop", V::N(20.0)),
            ("poor_signed", V::N(poor_signed)),
        ]
    };
    util::write_return(
        &d.path("in/城东街道家医.xlsx"),
        "family_doctor",
        "城东街道",
        Some("2026-01"),
        &[("东门社区", fd(301.0, 20.0)), ("新村", fd(30.0, 21.0))],
        None,
    );
    util::run_in(&d, "check", &["--export", "out"]);
    let f = findings(&d);
    let over: Vec<(String, String)> = f
        .iter()
        .filter(|x| x["rule"] == "exceeds_denominator")
        .map(|x| (x["field"].clone(), x["cell"].clone()))
        .collect();
    let mut want = vec![
        (
            "hepb1_timely".to_string(),
            cell_of("vaccination", "hepb1_timely", 0),
        ),
        ("tb_pop".to_string(), cell_of("family_doctor", "tb_pop", 0)),
        (
            "poor_signed".to_string(),
            cell_of("family_doctor", "poor_signed", 1),
        ),
    ];
    let mut got = over.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{f:#?}");
    assert!(f
        .iter()
        .filter(|x| x["rule"] == "exceeds_denominator")
        .all(|x| x["severity"] == "error"));
}

/// Figures of another period beside the month's (本月 | 本年累计 blocks of
/// columns, 本月应种人数 | 累计应种人数 sub-headers, a one-unit return's
/// 累计 | 本月 blocks, 指标 | 本月 | 本年累计) are never the month's: a flow
/// is read from the month's column wherever the year's to date stands, and
/// a stock (签约人数) from the 累计 column, which is the residents signed,
/// where 本月 is the month's new signings. The columns passed over are
/// named once as info, with their block.
#[test]
fn figures_of_another_period_beside_the_months_are_not_the_months() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let plain = rust_xlsxwriter::Format::new();
    // 城东街道's villages: 本年累计 first, then 本月, over 乙肝疫苗第1剂.
    // (name, month (应种, 实种), to date (应种, 实种)).
    type Two<'a> = (&'a str, (f64, f64), (f64, f64));
    let villages: [Two; 2] = [
        ("东门社区", (12.0, 11.0), (40.0, 38.0)),
        ("新村", (9.0, 9.0), (30.0, 29.0)),
    ];
    let mut wb = rust_xlsxwriter::Workbook::new();
    blocks_over_a_dose(
        &mut wb,
        &["本年累计", "本月"],
        &villages.map(|v| v.0),
        &|k, i| if k == 0 { villages[i].2 } else { villages[i].1 },
    );
    save_as_an_office_would(&d, &mut wb, "城东街道", "a 本年累计 block saved as .xls");
    // 新民镇's own return, doses down: 累计 | 本月 over 应种 / 实种.
    let doses: [Two; 2] = [
        ("乙肝疫苗第1剂", (20.0, 19.0), (60.0, 57.0)),
        ("卡介苗", (15.0, 15.0), (45.0, 44.0)),
    ];
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
    ws.write(1, 0, "填报单位：新民镇卫生院").unwrap();
    ws.write(1, 4, "报告期：2026年1月").unwrap();
    ws.merge_range(2, 0, 3, 0, "疫苗", &plain).unwrap();
    ws.merge_range(2, 1, 2, 2, "累计", &plain).unwrap();
    ws.merge_range(2, 3, 2, 4, "本月", &plain).unwrap();
    for (j, sub) in ["应种人数", "实种人数", "应种人数", "实种人数"]
        .iter()
        .enumerate()
    {
        ws.write(3, 1 + j as u16, *sub).unwrap();
    }
    for (i, (dose, month, to_date)) in doses.iter().enumerate() {
        let r = 4 + i as u32;
        ws.write(r, 0, *dose).unwrap();
        for (c, v) in [(1, to_date.0), (2, to_date.1), (3, month.0), (4, month.1)] {
            ws.write(r, c, v).unwrap();
        }
    }
    wb.save(d.path("in/新民镇免疫.xlsx")).unwrap();
    // 城东街道's family-doctor return: 本月 | 累计 over 签约人数 (a stock)
    // and 履约服务人次 (a flow).
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "家庭医生签约服务情况月报表").unwrap();
    ws.write(1, 0, "填报单位：城东街道").unwrap();
    ws.write(1, 5, "报告期：2026年1月").unwrap();
    ws.merge_range(2, 0, 3, 0, "序号", &plain).unwrap();
    ws.merge_range(2, 1, 3, 1, "单位名称", &plain).unwrap();
    ws.merge_range(2, 2, 3, 2, "常住人口数", &plain).unwrap();
    ws.merge_range(2, 3, 2, 4, "本月", &plain).unwrap();
    ws.merge_range(2, 5, 2, 6, "累计", &plain).unwrap();
    for c in [3u16, 5] {
        ws.write(3, c, "签约人数").unwrap();
        ws.write(3, c + 1, "履约服务人次").unwrap();
    }
    // (name, 常住人口数, 本月 (签约, 履约), 累计 (签约, 履约)).
    for (i, (name, pop, month, to_date)) in [
        ("东门社区", 1000.0, (5.0, 20.0), (400.0, 90.0)),
        ("新村", 800.0, (3.0, 10.0), (300.0, 50.0)),
    ]
    .iter()
    .enumerate()
    {
        let r = 4 + i as u32;
        ws.write(r, 0, (i + 1) as f64).unwrap();
        ws.write(r, 1, *name).unwrap();
        ws.write(r, 2, *pop).unwrap();
        for (c, v) in [(3, month.0), (4, month.1), (5, to_date.0), (6, to_date.1)] {
            ws.write(r, c, v).unwrap();
        }
    }
    wb.save(d.path("in/城东街道家医.xlsx")).unwrap();
    let (f, a) = check_january(&d);
    let get = |unit: &str, field: &str| january(&a, unit, field);
    assert_eq!(get("439902001001", "hepb1_due"), Some(12.0));
    assert_eq!(get("439902001000", "hepb1_due"), Some(21.0));
    assert_eq!(get("439902001000", "hepb1_given"), Some(20.0));
    assert_eq!(get("439902101000", "hepb1_due"), Some(20.0));
    assert_eq!(get("439902101000", "bcg_given"), Some(15.0));
    assert_eq!(get("439902001000", "signed"), Some(700.0));
    assert_eq!(get("439902001000", "services"), Some(30.0));
    assert_none_of(&f, &["rate_mismatch", "unknown_unit", "no_return_found"]);
    let passed_over: Vec<&str> = f
        .iter()
        .filter(|x| x["rule"] == "unknown_column")
        .map(|x| x["message"].as_str())
        .collect();
    assert!(
        passed_over
            .iter()
            .any(|m| m.contains("累计、上月或上年同期")
                && m.contains("本年累计 乙肝疫苗第1剂 应种人数")),
        "{passed_over:#?}"
    );
}

/// FORMS.md §3.1: without a 合计, 本地 + 流动 is the return — as blocks of
/// columns on one sheet, as two sheets. Each part's own 合计 row is checked
/// against its own rows, and each part's rate is its own: the sum has
/// none, so no rate is judged against the summed counts.
#[test]
fn local_and_floating_without_a_total_are_the_return_added() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let subs = ["应种人数", "实种人数", "接种率(%)"];
    let rate = |given: f64, due: f64| (given / due * 1000.0).round() / 10.0;
    // (name, 本地 (应种, 实种), 流动 (应种, 实种)).
    type Parts<'a> = (&'a str, (f64, f64), (f64, f64));
    let villages: [Parts; 2] = [
        ("东门社区", (10.0, 9.0), (2.0, 2.0)),
        ("新村", (8.0, 8.0), (1.0, 0.0)),
    ];
    // 城东街道: 本地儿童 | 流动儿童 over 乙肝疫苗第1剂, a 合计 row whose
    // 流动 实种 is one too many.
    let mut wb = rust_xlsxwriter::Workbook::new();
    blocks_over_a_dose(
        &mut wb,
        &["本地儿童", "流动儿童"],
        &villages.map(|v| v.0),
        &|k, i| if k == 0 { villages[i].1 } else { villages[i].2 },
    );
    let ws = wb.worksheet_from_index(0).unwrap();
    ws.write(7, 1, "合计").unwrap();
    for (c, (due, given)) in [(2u16, (18.0, 17.0)), (5, (3.0, 2.0 + 1.0))] {
        ws.write(7, c, due).unwrap();
        ws.write(7, c + 1, given).unwrap();
    }
    save_as_an_office_would(&d, &mut wb, "城东街道", "本地 | 流动 blocks saved as .xls");
    // 新民镇: two sheets, 本地 and 流动, no 合计 sheet.
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (part, rows) in [
        ("本地", [("新村", 20.0, 19.0), ("红旗村", 15.0, 15.0)]),
        ("流动", [("新村", 3.0, 3.0), ("红旗村", 2.0, 1.0)]),
    ] {
        let ws = wb.add_worksheet().set_name(part).unwrap();
        ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
        ws.write(1, 0, "填报单位：新民镇卫生院").unwrap();
        ws.write(1, 4, "报告期：2026年1月").unwrap();
        ws.write(2, 0, "单位名称").unwrap();
        for (j, sub) in subs.iter().enumerate() {
            ws.write(2, 1 + j as u16, format!("乙肝疫苗第1剂{sub}"))
                .unwrap();
        }
        ws.write(2, 4, "卡介苗应种人数").unwrap();
        for (i, (name, due, given)) in rows.iter().enumerate() {
            let r = 3 + i as u32;
            ws.write(r, 0, *name).unwrap();
            ws.write(r, 1, *due).unwrap();
            ws.write(r, 2, *given).unwrap();
            ws.write(r, 3, rate(*given, *due)).unwrap();
            ws.write(r, 4, *due).unwrap();
        }
    }
    wb.save(d.path("in/新民镇.xlsx")).unwrap();
    let (f, a) = check_january(&d);
    let get = |unit: &str, field: &str| january(&a, unit, field);
    assert_eq!(get("439902001001", "hepb1_due"), Some(12.0));
    assert_eq!(get("439902001002", "hepb1_given"), Some(8.0));
    assert_eq!(get("439902001000", "hepb1_due"), Some(21.0));
    assert_eq!(get("439902001000", "hepb1_given"), Some(19.0));
    assert_eq!(get("439902101201", "hepb1_due"), Some(23.0));
    assert_eq!(get("439902101000", "hepb1_given"), Some(38.0));
    assert_eq!(get("439902101000", "bcg_due"), Some(40.0));
    assert_none_of(&f, &["rate_mismatch", "unknown_unit", "duplicate_return"]);
    // The 流动 block's 合计 实种, named at its cell: G8.
    let mismatches: Vec<(&str, &str)> = f
        .iter()
        .filter(|x| x["rule"] == "total_mismatch")
        .map(|x| (x["file"].as_str(), x["cell"].as_str()))
        .collect();
    assert_eq!(mismatches.len(), 1, "{f:#?}");
    assert!(
        mismatches[0].0.starts_with("in/城东街道.xls"),
        "{mismatches:?}"
    );
    assert_eq!(mismatches[0].1, "G8");
    // Nothing of the 流动 block is said to be left unread.
    assert!(
        !f.iter()
            .any(|x| x["rule"] == "unknown_column" && x["message"].contains("乙肝疫苗第1剂")),
        "{f:#?}"
    );
}

/// A long table that repeats its header part-way down (单位名称 and the
/// sub-headers again), and 其中：流动儿童 rows under a village and under
/// the 合计, are no units: no finding on a clean return, nothing of them
/// counted or summed into the 合计 check.
#[test]
fn a_repeated_header_and_of_which_rows_are_no_units() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let plain = rust_xlsxwriter::Format::new();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
    ws.write(1, 0, "填报单位：城东街道").unwrap();
    ws.write(1, 4, "报告期：2026年1月").unwrap();
    let header = |ws: &mut rust_xlsxwriter::Worksheet, r: u32, merged: bool| {
        if merged {
            ws.merge_range(r, 0, r + 1, 0, "单位名称", &plain).unwrap();
            ws.merge_range(r, 1, r, 3, "乙肝疫苗第1剂", &plain).unwrap();
        } else {
            ws.write(r, 0, "单位名称").unwrap();
            ws.write(r, 1, "乙肝疫苗第1剂").unwrap();
        }
        for (j, sub) in ["应种人数", "实种人数", "接种率(%)"].iter().enumerate() {
            ws.write(r + 1, 1 + j as u16, *sub).unwrap();
        }
    };
    header(ws, 2, true);
    ws.write(4, 0, "东门社区").unwrap();
    ws.write(4, 1, 12.0).unwrap();
    ws.write(4, 2, 11.0).unwrap();
    ws.write(5, 0, "其中：流动儿童").unwrap();
    ws.write(5, 1, 2.0).unwrap();
    ws.write(5, 2, 2.0).unwrap();
    // The header again, as a clerk pasted it over a page break.
    header(ws, 6, false);
    ws.write(8, 0, "新村").unwrap();
    ws.write(8, 1, 9.0).unwrap();
    ws.write(8, 2, 9.0).unwrap();
    ws.write(9, 0, "合计").unwrap();
    ws.write(9, 1, 21.0).unwrap();
    ws.write(9, 2, 20.0).unwrap();
    ws.write(10, 0, "其中:流动儿童").unwrap();
    ws.write(10, 1, 3.0).unwrap();
    ws.write(10, 2, 3.0).unwrap();
    save_as_an_office_would(&d, &mut wb, "城东街道", "a repeated header saved as .xls");
    let (f, a) = check_january(&d);
    let get = |unit: &str, field: &str| january(&a, unit, field);
    assert_eq!(get("439902001001", "hepb1_due"), Some(12.0));
    assert_eq!(get("439902001002", "hepb1_given"), Some(9.0));
    assert_eq!(get("439902001000", "hepb1_due"), Some(21.0));
    let said: Vec<_> = f
        .iter()
        .filter(|x| x["file"].starts_with("in/城东街道") && x["rule"] != "missing_column")
        .collect();
    assert!(said.is_empty(), "{said:#?}");
}

/// FORMS.md §4: a count column absent is an error, but a rate's column
/// absent (应种 and 实种 without 接种率) loses nothing — the rate is
/// recomputed from its sides — and is only noted, never an error on a
/// clean return.
#[test]
fn a_rate_column_left_out_is_a_note_and_the_rate_is_recomputed() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
    ws.write(1, 0, "填报单位：城东街道").unwrap();
    ws.write(1, 3, "报告期：2026年1月").unwrap();
    for (c, label) in [
        "单位名称",
        "乙肝疫苗第1剂应种人数",
        "乙肝疫苗第1剂实种人数",
        "卡介苗应种人数",
        "卡介苗实种人数",
    ]
    .iter()
    .enumerate()
    {
        ws.write(2, c as u16, *label).unwrap();
    }
    for (r, (name, v)) in [
        ("东门社区", [12.0, 11.0, 10.0, 10.0]),
        ("新村", [8.0, 7.0, 6.0, 5.0]),
    ]
    .iter()
    .enumerate()
    {
        ws.write(3 + r as u32, 0, *name).unwrap();
        for (c, x) in v.iter().enumerate() {
            ws.write(3 + r as u32, 1 + c as u16, *x).unwrap();
        }
    }
    wb.save(d.path("in/城东街道.xlsx")).unwrap();
    let (f, a) = check_january(&d);
    let get = |unit: &str, field: &str| january(&a, unit, field);
    assert_eq!(get("439902001000", "hepb1_rate"), Some(18.0 / 20.0 * 100.0));
    assert_eq!(get("439902001000", "bcg_rate"), Some(15.0 / 16.0 * 100.0));
    let rates: Vec<(&str, &str)> = f
        .iter()
        .filter(|x| x["rule"] == "missing_column" && x["field"].ends_with("_rate"))
        .map(|x| (x["field"].as_str(), x["severity"].as_str()))
        .collect();
    assert_eq!(
        rates,
        [("hepb1_rate", "info"), ("bcg_rate", "info")],
        "{f:#?}"
    );
    assert!(!f.iter().any(|x| x["severity"] == "error"), "{f:#?}");
}

/// A chronic-disease return sent as two sheets of one workbook, 高血压 on
/// one and 2型糖尿病 on the other (35岁及以上常住人口数 on both, 本月随访人次
/// under no disease): one return in parts, every figure counted once, no
/// duplicate, no group said to be missing — by `consolidate` and from a
/// store alike.
#[test]
fn a_return_in_parts_on_sheets_of_its_own_counts_once() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    // (village, 已管理, 规范管理, 控制达标, 随访人次, 新发现) per disease.
    let figures = [
        (
            "高血压",
            [
                ("东门社区", [100.0, 80.0, 60.0, 30.0, 2.0]),
                ("新村", [50.0, 40.0, 30.0, 12.0, 1.0]),
            ],
        ),
        (
            "2型糖尿病",
            [
                ("东门社区", [40.0, 30.0, 20.0, 10.0, 1.0]),
                ("新村", [20.0, 15.0, 10.0, 5.0, 0.0]),
            ],
        ),
    ];
    for (disease, rows) in figures {
        let ws = wb.add_worksheet().set_name(disease).unwrap();
        ws.write(0, 0, format!("{disease}患者健康管理情况月报表"))
            .unwrap();
        ws.write(1, 0, "填报单位：城东街道").unwrap();
        ws.write(1, 5, "报告期：2026年1月").unwrap();
        let header = [
            "村名".to_string(),
            "35岁及以上常住人口数".to_string(),
            format!("{disease}患者已管理人数"),
            format!("{disease}患者规范管理人数"),
            format!("{disease}患者控制达标人数"),
            "本月随访人次".to_string(),
            "本月新发现人数".to_string(),
        ];
        for (c, h) in header.iter().enumerate() {
            ws.write(2, c as u16, h.as_str()).unwrap();
        }
        for (r, (village, v)) in rows.iter().enumerate() {
            let r = 3 + r as u32;
            ws.write(r, 0, *village).unwrap();
            ws.write(r, 1, 1000.0).unwrap();
            for (c, x) in v.iter().enumerate() {
                ws.write(r, 2 + c as u16, *x).unwrap();
            }
        }
    }
    save_as_an_office_would(
        &d,
        &mut wb,
        "城东街道慢病",
        "a return in two sheets saved as .xls",
    );
    let (f, a) = check_january(&d);
    let get = |field: &str| january(&a, "439902001000", field);
    assert_eq!(get("pop_35plus"), Some(2000.0));
    assert_eq!(get("htn_managed"), Some(150.0));
    assert_eq!(get("htn_followups"), Some(42.0));
    assert_eq!(get("dm_managed"), Some(60.0));
    assert_eq!(get("dm_new"), Some(1.0));
    assert_eq!(get("dm_standard_rate"), Some(45.0 / 60.0 * 100.0));
    let said: Vec<_> = f
        .iter()
        .filter(|x| x["file"].starts_with("in/城东街道慢病") && x["severity"] != "info")
        .collect();
    assert!(said.is_empty(), "{said:#?}");
    // From a store, the same figures.
    let fields = [
        "pop_35plus",
        "htn_managed",
        "dm_managed",
        "dm_standard_rate",
    ];
    assert_a_store_agrees(&d, &a, "439902001000", &fields);
}

/// A return that names its unit nowhere (no 填报单位, a file called
/// 免疫报表.xlsx) but whose rows are all one township's villages is that
/// township's: counted, with a warning saying how it was known.
#[test]
fn a_return_naming_no_unit_is_the_township_its_villages_name() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
    ws.write(1, 3, "报告期：2026年1月").unwrap();
    for (c, label) in [
        "单位名称",
        "乙肝疫苗第1剂应种人数",
        "乙肝疫苗第1剂实种人数",
        "卡介苗应种人数",
    ]
    .iter()
    .enumerate()
    {
        ws.write(2, c as u16, *label).unwrap();
    }
    for (r, (name, v)) in [("东门社区", [12.0, 11.0, 10.0]), ("新村", [8.0, 7.0, 6.0])]
        .iter()
        .enumerate()
    {
        ws.write(3 + r as u32, 0, *name).unwrap();
        for (c, x) in v.iter().enumerate() {
            ws.write(3 + r as u32, 1 + c as u16, *x).unwrap();
        }
    }
    wb.save(d.path("in/免疫报表.xlsx")).unwrap();
    let (f, a) = check_january(&d);
    assert_eq!(january(&a, "439902001000", "hepb1_due"), Some(20.0));
    let taken: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "unknown_unit")
        .map(|x| {
            (
                x["severity"].as_str(),
                x["unit_code"].as_str(),
                x["message"].as_str(),
            )
        })
        .collect();
    assert_eq!(taken.len(), 1, "{f:#?}");
    assert_eq!((taken[0].0, taken[0].1), ("warning", "439902001000"));
    assert!(
        taken[0].2.contains("表中 2 行都是城东街道下属的单位"),
        "{}",
        taken[0].2
    );
}

/// No finding of a replaced return is reported (issue 26), also where the
/// return was made of parts: a mistyped count on the 本地 sheet of 新民镇's
/// 本地 / 流动 / 合计 workbook, then a 更正 of the whole workbook with it
/// fixed. The first workbook says nothing any more but that the 更正
/// replaced it.
#[test]
fn a_corrected_return_in_parts_says_nothing_of_its_parts() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let book = |file: &str, local_due: &str| {
        let mut wb = rust_xlsxwriter::Workbook::new();
        for (part, rows) in [
            ("本地", [("新村", 20.0, 19.0), ("红旗村", 15.0, 15.0)]),
            ("流动", [("新村", 3.0, 3.0), ("红旗村", 2.0, 1.0)]),
            ("合计", [("新村", 23.0, 22.0), ("红旗村", 17.0, 16.0)]),
        ] {
            let ws = wb.add_worksheet().set_name(part).unwrap();
            ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
            ws.write(1, 0, "填报单位：新民镇卫生院").unwrap();
            ws.write(1, 3, "报告期：2026年1月").unwrap();
            for (c, label) in [
                "单位名称",
                "乙肝疫苗第1剂应种人数",
                "乙肝疫苗第1剂实种人数",
                "卡介苗应种人数",
            ]
            .iter()
            .enumerate()
            {
                ws.write(2, c as u16, *label).unwrap();
            }
            for (r, (name, due, given)) in rows.iter().enumerate() {
                let r = 3 + r as u32;
                ws.write(r, 0, *name).unwrap();
                if part == "本地" && r == 3 {
                    ws.write(r, 1, local_due).unwrap();
                } else {
                    ws.write(r, 1, *due).unwrap();
                }
                ws.write(r, 2, *given).unwrap();
                ws.write(r, 3, *due).unwrap();
            }
        }
        wb.save(d.path(&format!("in/{file}"))).unwrap();
    };
    book("新民镇202601.xlsx", "约20");
    book("新民镇202601_更正.xlsx", "20");
    let (f, a) = check_january(&d);
    assert_eq!(january(&a, "439902101000", "hepb1_due"), Some(40.0));
    // The 合计 sheets agree, so the two are one return received twice:
    // the 更正 is the copy that counts, and the first is only that note.
    let stale: Vec<_> = f
        .iter()
        .filter(|x| x["file"] == "in/新民镇202601.xlsx" && x["rule"] != "identical_copy")
        .collect();
    assert!(stale.is_empty(), "{stale:#?}");
    let copy = f.iter().find(|x| x["rule"] == "identical_copy").unwrap();
    assert_eq!(copy["file"], "in/新民镇202601.xlsx");
}

/// A township's own return with its doses as rows and 本地儿童 | 流动儿童
/// blocks of 应种 / 实种 / 接种率, no 合计 block: 本地 + 流动 is the return
/// (FORMS.md §3.1), each part's rate its own.
#[test]
fn a_one_unit_return_of_local_and_floating_blocks_is_both() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let plain = rust_xlsxwriter::Format::new();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
    ws.write(1, 0, "填报单位：新民镇卫生院").unwrap();
    ws.write(1, 5, "报告期：2026年1月").unwrap();
    ws.merge_range(2, 0, 3, 0, "疫苗", &plain).unwrap();
    ws.merge_range(2, 1, 2, 3, "本地儿童", &plain).unwrap();
    ws.merge_range(2, 4, 2, 6, "流动儿童", &plain).unwrap();
    for (j, sub) in ["应种人数", "实种人数", "接种率(%)"]
        .iter()
        .cycle()
        .take(6)
        .enumerate()
    {
        ws.write(3, 1 + j as u16, *sub).unwrap();
    }
    // (dose, 本地 (应种, 实种), 流动 (应种, 实种)).
    for (i, (dose, local, floating)) in [
        ("乙肝疫苗第1剂", (20.0, 19.0), (3.0, 2.0)),
        ("卡介苗", (15.0, 15.0), (2.0, 1.0)),
    ]
    .iter()
    .enumerate()
    {
        let r = 4 + i as u32;
        ws.write(r, 0, *dose).unwrap();
        for (k, &&(due, given)) in [local, floating].iter().enumerate() {
            let (due, given): (f64, f64) = (due, given);
            let c = 1 + 3 * k as u16;
            ws.write(r, c, due).unwrap();
            ws.write(r, c + 1, given).unwrap();
            ws.write(r, c + 2, (given / due * 1000.0).round() / 10.0)
                .unwrap();
        }
    }
    save_as_an_office_would(&d, &mut wb, "新民镇", "本地 | 流动 dose rows saved as .xls");
    let (f, a) = check_january(&d);
    let get = |field: &str| january(&a, "439902101000", field);
    assert_eq!(get("hepb1_due"), Some(23.0));
    assert_eq!(get("hepb1_given"), Some(21.0));
    assert_eq!(get("bcg_given"), Some(16.0));
    assert_none_of(
        &f,
        &["rate_mismatch", "duplicate_return", "no_return_found"],
    );
}

/// 东湖区's own return listing its townships' villages (FORMS.md §2: the
/// rows matched within the reporting unit), 新村 in both townships: a
/// township's row above its villages says whose they are, and is their
/// subtotal, in neither the count nor the 合计; a heading (二、新民镇) with
/// no figures says it as well. Saved as an office would.
#[test]
fn a_county_return_of_its_townships_villages_counts_each_village_once() {
    // 新民镇's row with no figures, or a heading in Chinese numerals.
    for heading in ["新民镇", "二、新民镇"] {
        a_county_return_of_villages_under(heading);
    }
}

fn a_county_return_of_villages_under(heading: &str) {
    let d = Dir::new();
    let fam = |pop: f64, signed: f64| vec![("resident_pop", V::N(pop)), ("signed", V::N(signed))];
    let rows = [
        ("城东街道", fam(1000.0, 490.0)),
        ("东门社区", fam(400.0, 200.0)),
        ("新村", fam(600.0, 290.0)),
        (heading, vec![]),
        ("新村", fam(300.0, 100.0)),
        ("红旗村", fam(200.0, 80.0)),
    ];
    let total = ("合计", fam(1500.0, 670.0));
    let mut wb = util::return_book(
        "家医",
        "family_doctor",
        "东湖区卫生健康局",
        Some("2026年1月"),
        &rows,
        Some(&total),
    );
    save_as_an_office_would(
        &d,
        &mut wb,
        "东湖区",
        "a county's village list saved as .xls",
    );
    let (f, a) = check_january(&d);
    assert_eq!(
        january(&a, "439902001002", "resident_pop"),
        Some(600.0),
        "城东街道's 新村"
    );
    assert_eq!(
        january(&a, "439902101201", "resident_pop"),
        Some(300.0),
        "新民镇's 新村"
    );
    assert_eq!(january(&a, CD, "resident_pop"), Some(1000.0));
    assert_eq!(january(&a, XM, "resident_pop"), Some(500.0));
    assert_eq!(
        january(&a, "439902000000", "resident_pop"),
        Some(1500.0),
        "once each"
    );
    assert_eq!(january(&a, "439902000000", "signed"), Some(670.0));
    // Nothing to fix: the villages are known, the 合计 is theirs, the
    // townships have reported through the county, and 卫生健康局 is the
    // county's bureau.
    assert_none_of(
        &f,
        &[
            "unknown_unit",
            "duplicate_row",
            "duplicate_return",
            "total_mismatch",
            "missing_return",
        ],
    );
}

/// The same county's list closed by 东城街道小计-style rows, and a month
/// listing its villages with no township at all: a 新村 between the two
/// townships' villages cannot be told, and is said to be so, naming both.
#[test]
fn a_county_village_list_closed_by_subtotals_and_a_village_that_cannot_be_told() {
    let d = Dir::new();
    let fam = |pop: f64, signed: f64| vec![("resident_pop", V::N(pop)), ("signed", V::N(signed))];
    let january_rows = [
        ("东门社区", fam(400.0, 200.0)),
        ("新村", fam(600.0, 290.0)),
        ("城东街道小计", fam(1000.0, 490.0)),
        ("新村", fam(300.0, 100.0)),
        ("红旗村", fam(200.0, 80.0)),
        ("新民镇合计", fam(500.0, 180.0)),
    ];
    let mut wb = util::return_book(
        "家医",
        "family_doctor",
        "东湖区",
        Some("2026年1月"),
        &january_rows,
        Some(&("合计", fam(1500.0, 670.0))),
    );
    save_as_an_office_would(
        &d,
        &mut wb,
        "东湖区202601",
        "a county's village list saved as .xls",
    );
    let february_rows = [
        ("东门社区", fam(410.0, 210.0)),
        ("新村", fam(610.0, 300.0)),
        ("红旗村", fam(205.0, 85.0)),
        ("新村", fam(305.0, 105.0)),
    ];
    util::write_return(
        &d.path("in/东湖区202602.xlsx"),
        "family_doctor",
        "东湖区",
        Some("2026年2月"),
        &february_rows,
        None,
    );
    let (f, a) = check_every_month(&d);
    let at = |month: &str, unit: &str| residents(&a, month, unit);
    assert_eq!(at("2026-01", "439902001002"), Some(600.0));
    assert_eq!(at("2026-01", "439902101201"), Some(300.0));
    assert_eq!(at("2026-01", "439902000000"), Some(1500.0));
    let january: Vec<_> = f.iter().filter(|x| x["period"] == "2026-01").collect();
    assert!(
        january.iter().all(|x| ![
            "unknown_unit",
            "duplicate_row",
            "total_mismatch",
            "missing_return"
        ]
        .contains(&x["rule"].as_str())),
        "{january:#?}"
    );
    // February: 东门社区 and 红旗村 counted. The 新村 between the two
    // townships' villages is an error naming both, and not also a missing
    // row; the last, after 红旗村, is taken to be 新民镇's and said so.
    assert_eq!(at("2026-02", "439902001001"), Some(410.0));
    assert_eq!(at("2026-02", "439902101202"), Some(205.0));
    assert_eq!(at("2026-02", "439902001002"), None, "not guessed");
    assert_eq!(
        at("2026-02", "439902101201"),
        Some(305.0),
        "by its neighbour"
    );
    let unknown: Vec<_> = f
        .iter()
        .filter(|x| x["period"] == "2026-02" && x["rule"] == "unknown_unit")
        .collect();
    assert_eq!(unknown.len(), 2, "{unknown:#?}");
    assert_eq!(unknown[0]["cell"], "B6");
    assert_eq!(unknown[0]["severity"], "error");
    assert!(
        unknown[0]["message"].contains("城东街道、新民镇"),
        "{}",
        unknown[0]["message"]
    );
    assert_eq!(unknown[1]["cell"], "B8");
    assert_eq!(unknown[1]["severity"], "warning");
    assert_eq!(unknown[1]["unit_code"], "439902101201");
    let missing: Vec<_> = f
        .iter()
        .filter(|x| x["period"] == "2026-02" && x["rule"] == "missing_return")
        .collect();
    assert!(missing.is_empty(), "{missing:#?}");
}

/// A 报告期 of a month alone (1月): its year is the one its folder names,
/// silently; with none written anywhere, the 报出日期's, with a warning
/// (a December dated the next January is the year before).
#[test]
fn a_month_without_its_year_takes_the_year_written_elsewhere() {
    let d = Dir::new();
    let fam = |pop: f64| vec![("resident_pop", V::N(pop)), ("signed", V::N(pop / 2.0))];
    let book = |unit: &str, month: &str, rows: &[util::Row<'_>], dated: Option<&str>| {
        let mut wb = util::return_book("家医", "family_doctor", unit, Some(month), rows, None);
        if let Some(day) = dated {
            let ws = wb.worksheet_from_index(0).unwrap();
            ws.write_string(12, 0, "填表人：李四").unwrap();
            ws.write_string(12, 4, format!("报出日期：{day}")).unwrap();
        }
        wb
    };
    std::fs::create_dir_all(d.path("in/2026年")).unwrap();
    book(
        "城东街道",
        "1月",
        &[("东门社区", fam(400.0)), ("新村", fam(600.0))],
        None,
    )
    .save(d.path("in/2026年/城东街道.xlsx"))
    .unwrap();
    let mut wb = book(
        "新民镇",
        "1月份",
        &[("新村", fam(300.0)), ("红旗村", fam(200.0))],
        Some("2026年2月3日"),
    );
    save_as_an_office_would(
        &d,
        &mut wb,
        "新民镇",
        "a month without its year saved as .xls",
    );
    book(
        "新民镇",
        "十二月",
        &[("新村", fam(310.0)), ("红旗村", fam(210.0))],
        Some("2027年1月4日"),
    )
    .save(d.path("in/新民镇年末.xlsx"))
    .unwrap();
    let (f, a) = check_every_month(&d);
    let at = |month: &str, unit: &str| residents(&a, month, unit);
    assert_eq!(at("2026-01", CD), Some(1000.0));
    assert_eq!(at("2026-01", XM), Some(500.0));
    assert_eq!(at("2026-12", XM), Some(520.0));
    let period: Vec<_> = f.iter().filter(|x| x["rule"] == "period_missing").collect();
    assert_eq!(period.len(), 2, "{period:#?}");
    for (x, month) in period.iter().zip(["2026-01", "2026-12"]) {
        assert_eq!(x["severity"], "warning");
        assert_eq!(x["period"], month);
        assert_eq!(x["cell"], "F2");
        assert!(x["message"].contains("未写年份"), "{}", x["message"]);
    }
    assert!(period[0]["file"].starts_with("in/新民镇.xls"));
    assert_eq!(period[1]["file"], "in/新民镇年末.xlsx");
}

/// A township's workbook of a sheet a month (一月, 二月, 三月), no 报告期 on
/// any, the file named for the quarter as a range (2026年1月至3月): each
/// sheet is its own month of the year the name writes, none of them the
/// range's first month.
#[test]
fn a_workbook_of_a_sheet_a_month_reads_each_month_from_its_sheet() {
    let d = Dir::new();
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (k, name) in ["一月", "二月", "三月"].iter().enumerate() {
        let pop = 100.0 * (k + 1) as f64;
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        util::write_sheet(
            ws,
            "family_doctor",
            "城东街道",
            None,
            &[
                (
                    "东门社区",
                    vec![("resident_pop", V::N(pop)), ("signed", V::N(pop / 2.0))],
                ),
                (
                    "新村",
                    vec![
                        ("resident_pop", V::N(pop + 1.0)),
                        ("signed", V::N(pop / 4.0)),
                    ],
                ),
            ],
            None,
        );
    }
    save_as_an_office_would(
        &d,
        &mut wb,
        "城东街道2026年1月至3月家医",
        "a sheet a month saved as .xls",
    );
    let (f, a) = check_every_month(&d);
    for (month, pop) in [("2026-01", 201.0), ("2026-02", 401.0), ("2026-03", 601.0)] {
        assert_eq!(residents(&a, month, CD), Some(pop), "{month}");
    }
    assert_none_of(
        &f,
        &["period_missing", "period_conflict", "duplicate_return"],
    );
}

/// Last month's sheet kept hidden in this month's workbook is not what
/// was sent: it is not read (an info note says so), and the month's own
/// return stands alone. A workbook whose only return is on a hidden
/// sheet, beside a cover, is still read.
#[test]
fn a_hidden_sheet_beside_the_return_is_not_read() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let rows = |pop: f64| {
        vec![
            (
                "东门社区",
                vec![("resident_pop", V::N(pop)), ("signed", V::N(10.0))],
            ),
            (
                "新村",
                vec![("resident_pop", V::N(pop + 1.0)), ("signed", V::N(10.0))],
            ),
        ]
    };
    util::return_book(
        "1月",
        "family_doctor",
        "城东街道",
        Some("2026年1月"),
        &rows(100.0),
        None,
    )
    .save(d.path("in/城东街道一月.xlsx"))
    .unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("1月").unwrap();
    util::write_sheet(
        ws,
        "family_doctor",
        "城东街道",
        Some("2026年1月"),
        &rows(900.0),
        None,
    );
    ws.set_hidden(true);
    let ws = wb.add_worksheet();
    ws.set_name("2月").unwrap();
    util::write_sheet(
        ws,
        "family_doctor",
        "城东街道",
        Some("2026年2月"),
        &rows(110.0),
        None,
    );
    ws.set_active(true);
    save_as_an_office_would(&d, &mut wb, "城东街道二月", "a hidden sheet saved as .xls");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let cover = wb.add_worksheet();
    cover.set_name("说明").unwrap();
    cover
        .write_string(0, 0, "家庭医生签约服务情况月报表（新民镇）")
        .unwrap();
    cover.set_active(true);
    let ws = wb.add_worksheet();
    ws.set_name("数据").unwrap();
    util::write_sheet(
        ws,
        "family_doctor",
        "新民镇",
        Some("2026年1月"),
        &[
            ("新村", vec![("resident_pop", V::N(50.0))]),
            ("红旗村", vec![("resident_pop", V::N(60.0))]),
        ],
        None,
    );
    ws.set_hidden(true);
    wb.save(d.path("in/新民镇.xlsx")).unwrap();
    let (f, a) = check_every_month(&d);
    assert_eq!(
        residents(&a, "2026-01", CD),
        Some(201.0),
        "not the hidden 1801"
    );
    assert_eq!(residents(&a, "2026-02", CD), Some(221.0));
    assert_eq!(residents(&a, "2026-01", XM), Some(110.0), "its only return");
    assert_none_of(&f, &["duplicate_return", "period_conflict"]);
    let hidden: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "no_return_found" && x["sheet"] == "1月")
        .collect();
    assert_eq!(hidden.len(), 1, "{f:#?}");
    assert_eq!(hidden[0]["severity"], "info");
    assert!(hidden[0]["file"].starts_with("in/城东街道二月.xls"));
    assert!(
        hidden[0]["message"].contains("隐藏"),
        "{}",
        hidden[0]["message"]
    );
}

/// The chronic return as a row per village and disease beside a 病种
/// column (each village's 高血压 row, then its 糖尿病 row, its name merged
/// down over both), with the rates written and a 合计 row per disease:
/// every figure counted once, each disease's 合计 checked against its own
/// rows, and the same figures from a store. (Before, it was taken for a
/// township's own return of fields as rows: the first village's figures
/// counted as the township's.)
#[test]
fn a_row_per_village_and_disease_beside_a_disease_column_counts_each_once() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "慢性病患者健康管理情况月报表").unwrap();
    ws.write(1, 0, "填报单位：城东街道").unwrap();
    ws.write(1, 6, "报告期：2026年1月").unwrap();
    let head = [
        "序号",
        "单位名称",
        "病种",
        "35岁及以上常住人口数",
        "已管理人数",
        "规范管理人数",
        "规范管理率(%)",
        "本月随访人次",
    ];
    for (c, h) in head.iter().enumerate() {
        ws.write(2, c as u16, *h).unwrap();
    }
    let merged = rust_xlsxwriter::Format::new();
    // (village, 35岁+, then per disease: 已管理, 规范管理, 随访人次)
    let villages = [
        (
            "东门社区",
            1000.0,
            [(100.0, 80.0, 30.0), (40.0, 30.0, 10.0)],
        ),
        ("新村", 600.0, [(50.0, 40.0, 12.0), (20.0, 15.0, 5.0)]),
    ];
    let mut r = 3;
    for (k, (village, pop, diseases)) in villages.iter().enumerate() {
        ws.merge_range(r, 0, r + 1, 0, &(k + 1).to_string(), &merged)
            .unwrap();
        ws.merge_range(r, 1, r + 1, 1, village, &merged).unwrap();
        for (j, (disease, (managed, standard, visits))) in
            ["高血压", "糖尿病"].iter().zip(diseases).enumerate()
        {
            let row = r + j as u32;
            ws.write(row, 2, *disease).unwrap();
            if j == 0 {
                ws.write(row, 3, *pop).unwrap();
            }
            ws.write(row, 4, *managed).unwrap();
            ws.write(row, 5, *standard).unwrap();
            ws.write(row, 6, (1000.0_f64 * standard / managed).round() / 10.0)
                .unwrap();
            ws.write(row, 7, *visits).unwrap();
        }
        r += 2;
    }
    for (j, (disease, managed, standard, visits)) in
        [("高血压", 150.0, 120.0, 42.0), ("糖尿病", 60.0, 45.0, 16.0)]
            .iter()
            .enumerate()
    {
        let row = r + j as u32;
        ws.write(row, 1, "合计").unwrap();
        ws.write(row, 2, *disease).unwrap();
        ws.write(row, 4, *managed).unwrap();
        ws.write(row, 5, *standard).unwrap();
        ws.write(row, 7, *visits).unwrap();
    }
    save_as_an_office_would(
        &d,
        &mut wb,
        "城东街道慢病",
        "a row per disease saved as .xls",
    );
    let (f, a) = check_january(&d);
    let get = |field: &str| january(&a, "439902001000", field);
    assert_eq!(get("pop_35plus"), Some(1600.0));
    assert_eq!(get("htn_managed"), Some(150.0));
    assert_eq!(get("htn_followups"), Some(42.0));
    assert_eq!(get("dm_managed"), Some(60.0));
    assert_eq!(get("dm_followups"), Some(15.0));
    assert_eq!(
        january(&a, "439902001002", "dm_standard"),
        Some(15.0),
        "新村"
    );
    assert_eq!(get("dm_standard_rate"), Some(45.0 / 60.0 * 100.0));
    let said: Vec<_> = f
        .iter()
        .filter(|x| x["file"].starts_with("in/城东街道慢病") && x["severity"] != "info")
        // The template left out 控制达标人数 and 本月新发现人数: said so.
        .filter(|x| x["rule"] != "missing_column")
        .collect();
    // The 糖尿病 合计 of 随访人次 (16) is not its rows' 15; the 高血压 one is.
    assert_eq!(said.len(), 1, "{said:#?}");
    assert_eq!(said[0]["rule"], "total_mismatch");
    assert_eq!(said[0]["cell"], "H9");
    assert_eq!(said[0]["field"], "dm_followups");
    // From a store, the same figures.
    let fields = [
        "pop_35plus",
        "htn_managed",
        "dm_managed",
        "dm_standard_rate",
    ];
    assert_a_store_agrees(&d, &a, "439902001000", &fields);
}

/// The key groups of the family-doctor return as a row per village and
/// group beside a 重点人群 column: each group's 人数 and 签约人数 counted,
/// and the groups no row names said missing once, not once per group.
#[test]
fn a_row_per_village_and_key_group_counts_each_group() {
    let d = Dir::new();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "家庭医生签约服务情况月报表").unwrap();
    ws.write(1, 0, "填报单位：城东街道").unwrap();
    ws.write(1, 4, "报告期：2026年1月").unwrap();
    for (c, h) in ["单位名称", "重点人群", "人数", "签约人数"]
        .iter()
        .enumerate()
    {
        ws.write(2, c as u16, *h).unwrap();
    }
    let rows = [
        ("东门社区", "65岁及以上老年人", 120.0, 80.0),
        ("东门社区", "孕产妇", 10.0, 9.0),
        ("新村", "65岁及以上老年人", 90.0, 50.0),
        ("新村", "孕产妇", 7.0, 7.0),
    ];
    for (r, (village, group, pop, signed)) in rows.iter().enumerate() {
        let r = 3 + r as u32;
        ws.write(r, 0, *village).unwrap();
        ws.write(r, 1, *group).unwrap();
        ws.write(r, 2, *pop).unwrap();
        ws.write(r, 3, *signed).unwrap();
    }
    save_as_an_office_would(
        &d,
        &mut wb,
        "城东街道家医",
        "a row per key group saved as .xls",
    );
    let (f, a) = check_january(&d);
    assert_eq!(january(&a, CD, "elderly_pop"), Some(210.0));
    assert_eq!(january(&a, CD, "elderly_signed"), Some(130.0));
    assert_eq!(january(&a, CD, "maternal_signed"), Some(16.0));
    assert_eq!(
        january(&a, "439902001002", "maternal_pop"),
        Some(7.0),
        "新村"
    );
    let groups: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "missing_column" && x["severity"] == "warning")
        .collect();
    assert_eq!(groups.len(), 1, "{groups:#?}");
    assert!(
        groups[0]["message"].contains("0-6岁儿童"),
        "{}",
        groups[0]["message"]
    );
    assert!(
        !groups[0]["message"].contains("孕产妇"),
        "{}",
        groups[0]["message"]
    );
    assert_none_of(&f, &["duplicate_row", "duplicate_return", "unknown_unit"]);
}

/// The same beside the fields of no group (单位名称 | 常住人口数 | 签约人数 |
/// 重点人群 | 人数 | 签约人数 | 签约率), the village and its own figures
/// merged down over its groups' rows: the first 签约人数 is the village's,
/// the second its group's. Read as a row per village, each village's rows
/// after its first were duplicates, and every group's figures were lost.
#[test]
fn key_group_rows_beside_the_fields_of_no_group_count_each() {
    let d = Dir::new();
    let plain = rust_xlsxwriter::Format::new();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "家庭医生签约服务情况月报表").unwrap();
    ws.write(1, 0, "填报单位：城东街道").unwrap();
    ws.write(1, 5, "报告期：2026年1月").unwrap();
    let heads = [
        "单位名称",
        "常住人口数",
        "签约人数",
        "重点人群",
        "人数",
        "签约人数",
        "签约率(%)",
    ];
    for (c, h) in heads.iter().enumerate() {
        ws.write(2, c as u16, *h).unwrap();
    }
    // (village, residents, signed, [(group, 人数, 签约人数)]).
    let villages = [
        (
            "东门社区",
            1000.0,
            400.0,
            [("65岁及以上老年人", 120.0, 80.0), ("孕产妇", 10.0, 9.0)],
        ),
        (
            "新村",
            300.0,
            90.0,
            [("65岁及以上老年人", 90.0, 50.0), ("孕产妇", 7.0, 7.0)],
        ),
    ];
    for (k, (village, residents, signed, groups)) in villages.iter().enumerate() {
        let r = 3 + 2 * k as u32;
        ws.merge_range(r, 0, r + 1, 0, village, &plain).unwrap();
        ws.merge_range(r, 1, r + 1, 1, "", &plain).unwrap();
        ws.write(r, 1, *residents).unwrap();
        ws.merge_range(r, 2, r + 1, 2, "", &plain).unwrap();
        ws.write(r, 2, *signed).unwrap();
        for (j, (group, pop, s)) in groups.iter().enumerate() {
            let row = r + j as u32;
            ws.write(row, 3, *group).unwrap();
            ws.write(row, 4, *pop).unwrap();
            ws.write(row, 5, *s).unwrap();
            let rate: f64 = (s / pop * 1000.0_f64).round() / 10.0;
            ws.write(row, 6, rate).unwrap();
        }
    }
    save_as_an_office_would(
        &d,
        &mut wb,
        "城东街道家医",
        "key group rows beside the form's own fields saved as .xls",
    );
    let (f, a) = check_january(&d);
    assert_eq!(january(&a, CD, "resident_pop"), Some(1300.0));
    assert_eq!(january(&a, CD, "signed"), Some(490.0));
    assert_eq!(january(&a, CD, "elderly_pop"), Some(210.0));
    assert_eq!(january(&a, CD, "elderly_signed"), Some(130.0));
    assert_eq!(january(&a, CD, "maternal_signed"), Some(16.0));
    assert_eq!(january(&a, "439902001002", "signed"), Some(90.0), "新村");
    assert_none_of(
        &f,
        &[
            "duplicate_row",
            "duplicate_return",
            "unknown_unit",
            "rate_mismatch",
        ],
    );
    assert_a_store_agrees(&d, &a, CD, &["signed", "elderly_signed", "maternal_pop"]);
}

/// The vaccination return as each village's 本地, 流动 and 合计 rows beside a
/// 类别 column (its name merged down over them): the 合计 rows are the
/// return, each checked against its 本地 and 流动 rows. With only 本地 and
/// 流动 rows, their sum is (FORMS.md §3.1), each part's own 合计 row
/// checked against its rows.
#[test]
fn a_row_per_village_and_part_beside_a_category_column() {
    let d = Dir::new();
    // (village, 本地 (应种, 实种), 流动 (应种, 实种)) of 乙肝疫苗第1剂.
    let villages = [
        ("东门社区", (20.0, 19.0), (3.0, 2.0)),
        ("新村", (30.0, 28.0), (5.0, 5.0)),
    ];
    let book = |with_total: bool| {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
        ws.write(1, 0, "填报单位：城东街道").unwrap();
        ws.write(1, 4, "报告期：2026年1月").unwrap();
        let plain = rust_xlsxwriter::Format::new();
        ws.merge_range(2, 0, 3, 0, "单位名称", &plain).unwrap();
        ws.merge_range(2, 1, 3, 1, "类别", &plain).unwrap();
        // Three doses, each given the same figures.
        for (j, dose) in ["乙肝疫苗第1剂", "卡介苗", "百白破疫苗第1剂"]
            .iter()
            .enumerate()
        {
            let c = 2 + 2 * j as u16;
            ws.merge_range(2, c, 2, c + 1, dose, &plain).unwrap();
            ws.write(3, c, "应种人数").unwrap();
            ws.write(3, c + 1, "实种人数").unwrap();
        }
        let mut r = 4;
        for (village, local, floating) in villages {
            let mut parts = vec![("本地", local), ("流动儿童", floating)];
            if with_total {
                parts.push(("小计", (local.0 + floating.0, local.1 + floating.1)));
            }
            // 新村's 乙肝疫苗第1剂 小计 应种 is one more than its parts.
            let wrong = with_total && village == "新村";
            let n = parts.len() as u32;
            ws.merge_range(r, 0, r + n - 1, 0, village, &plain).unwrap();
            for (k, (part, (due, given))) in parts.iter().enumerate() {
                let row = r + k as u32;
                ws.write(row, 1, *part).unwrap();
                for j in 0..3 {
                    let off = if wrong && j == 0 && *part == "小计" {
                        1.0
                    } else {
                        0.0
                    };
                    ws.write(row, 2 + 2 * j, *due + off).unwrap();
                    ws.write(row, 3 + 2 * j, *given).unwrap();
                }
            }
            r += n;
        }
        if !with_total {
            // Each part's 合计 row; the 流动 one is wrong (8, not 7).
            for (k, (part, due)) in [("本地", 50.0), ("流动", 9.0)].iter().enumerate() {
                ws.write(r + k as u32, 0, "合计").unwrap();
                ws.write(r + k as u32, 1, *part).unwrap();
                ws.write(r + k as u32, 2, *due).unwrap();
            }
        }
        wb
    };
    std::fs::create_dir_all(d.path("in")).unwrap();
    save_as_an_office_would(
        &d,
        &mut book(true),
        "城东街道",
        "a 类别 column saved as .xls",
    );
    let mut feb = book(false);
    feb.worksheet_from_index(0)
        .unwrap()
        .write(1, 4, "报告期：2026年2月")
        .unwrap();
    feb.save(d.path("in/城东街道2月.xlsx")).unwrap();
    let (f, a) = check_every_month(&d);
    let get = |month: &str, unit: &str, field: &str| {
        a.get(&(month.into(), unit.into(), field.into())).copied()
    };
    // January counts the 小计 rows as written, February 本地 + 流动.
    for (month, due) in [("2026-01", 59.0), ("2026-02", 58.0)] {
        assert_eq!(get(month, CD, "hepb1_due"), Some(due), "{month}");
        assert_eq!(get(month, CD, "hepb1_given"), Some(54.0), "{month}");
        assert_eq!(
            get(month, "439902001002", "hepb1_due"),
            Some(due - 23.0),
            "{month} 新村"
        );
        assert_eq!(get(month, CD, "bcg_due"), Some(58.0), "{month}");
    }
    let said: Vec<_> = f
        .iter()
        .filter(|x| x["severity"] != "info" && x["file"].starts_with("in/城东街道"))
        // The doses left out of the template, said once a return.
        .filter(|x| x["rule"] != "missing_column")
        .collect();
    assert_eq!(said.len(), 2, "{said:#?}");
    // 新村's 小计 against its 本地 and 流动 rows, named at the 小计 cell.
    assert_eq!(said[0]["rule"], "total_mismatch");
    assert_eq!(said[0]["period"], "2026-01");
    assert_eq!(said[0]["cell"], "C10");
    assert!(
        said[0]["message"].contains("本地行 30（C8）加流动行 5（C9）为 35"),
        "{}",
        said[0]["message"]
    );
    // February's 流动 合计 row against its rows.
    assert_eq!(said[1]["rule"], "total_mismatch");
    assert_eq!(said[1]["period"], "2026-02");
    assert_eq!(said[1]["cell"], "C10");
    let groups = f
        .iter()
        .filter(|x| x["rule"] == "missing_column" && x["period"] == "2026-02")
        .filter(|x| x["severity"] == "warning")
        .count();
    assert_eq!(
        groups, 1,
        "one return in two parts: its absent doses said once"
    );
}

/// A key group headed as clerks write an age (0至6岁儿童, 65周岁及以上老年人)
/// is that group; a group the form does not know (计生特殊家庭(含)) over
/// 人数 | 签约人数 | 签约率 is that group's, never the form's own 签约人数:
/// read by its sub-header alone, the group's signed were published as the
/// township's 签约人数 when the return had no 签约人数 column of its own.
#[test]
fn a_key_group_the_form_does_not_know_is_never_read_as_its_own_fields() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let plain = rust_xlsxwriter::Format::new();
    ws.write(0, 0, "家庭医生签约服务情况月报表").unwrap();
    ws.write(1, 0, "填报单位：城东街道").unwrap();
    ws.write(1, 6, "报告期：2026年1月").unwrap();
    ws.merge_range(2, 0, 3, 0, "序号", &plain).unwrap();
    ws.merge_range(2, 1, 3, 1, "单位名称", &plain).unwrap();
    ws.merge_range(2, 2, 3, 2, "常住人口数", &plain).unwrap();
    for (k, group) in ["0至6岁儿童", "计生特殊家庭(含)", "65周岁及以上老年人"]
        .iter()
        .enumerate()
    {
        let c = 3 + 3 * k as u16;
        ws.merge_range(2, c, 2, c + 2, group, &plain).unwrap();
        for (j, sub) in ["人数", "签约人数", "签约率(%)"].iter().enumerate() {
            ws.write(3, c + j as u16, *sub).unwrap();
        }
    }
    // Each village: residents, then (人数, 签约人数) of each group.
    type Village<'a> = (&'a str, f64, [(f64, f64); 3]);
    let villages: [Village; 2] = [
        (
            "东门社区",
            1000.0,
            [(80.0, 60.0), (7.0, 7.0), (150.0, 90.0)],
        ),
        ("新村", 500.0, [(40.0, 20.0), (3.0, 2.0), (70.0, 35.0)]),
    ];
    for (k, (name, residents, groups)) in villages.iter().enumerate() {
        let r = 4 + k as u32;
        ws.write(r, 0, (k + 1) as f64).unwrap();
        ws.write(r, 1, *name).unwrap();
        ws.write(r, 2, *residents).unwrap();
        for (i, (pop, signed)) in groups.iter().enumerate() {
            let c = 3 + 3 * i as u16;
            ws.write(r, c, *pop).unwrap();
            ws.write(r, c + 1, *signed).unwrap();
            ws.write(r, c + 2, (signed / pop * 1000.0).round() / 10.0)
                .unwrap();
        }
    }
    save_as_an_office_would(
        &d,
        &mut wb,
        "城东街道",
        "a family-doctor return saved as .xls",
    );
    let (f, a) = check_january(&d);
    let get = |field: &str| january(&a, CD, field);
    for (field, v) in [
        ("resident_pop", 1500.0),
        ("child_pop", 120.0),
        ("child_signed", 80.0),
        ("elderly_pop", 220.0),
        ("elderly_signed", 125.0),
    ] {
        assert_eq!(get(field), Some(v), "{field}");
    }
    // The unknown group's 签约人数 and 签约率 are no figure of the form.
    assert_eq!(get("signed"), None);
    assert_eq!(get("signing_rate"), None);
    assert_none_of(&f, &["rate_mismatch"]);
    let unknown: Vec<_> = f.iter().filter(|x| x["rule"] == "unknown_column").collect();
    assert_eq!(unknown.len(), 1, "{unknown:#?}");
    for label in ["计生特殊家庭(含) 人数", "计生特殊家庭(含) 签约人数"] {
        assert!(unknown[0]["message"].contains(label), "{unknown:#?}");
    }
    // The form's own 签约人数 is said missing, at the header.
    assert!(
        f.iter().any(|x| x["rule"] == "missing_column"
            && x["severity"] == "error"
            && x["message"].contains("“签约人数”")),
        "{f:#?}"
    );
    assert_a_store_agrees(&d, &a, CD, &["child_signed", "elderly_signed", "signed"]);
}

/// A table of units as columns, the usual table turned (指标 | 东门社区 |
/// 新村 | 合计, a field a row): each village's column is its row, the 合计
/// column the 合计, every finding at its cell on the sheet. Read as one
/// unit's fields as rows, the first village's figures were the township's.
#[test]
fn a_table_of_villages_as_columns_is_read_as_the_table_turned() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "家庭医生签约服务情况月报表").unwrap();
    ws.write(1, 0, "填报单位：城东街道").unwrap();
    ws.write(1, 3, "报告期：2026年1月").unwrap();
    for (c, h) in ["指标", "东门社区", "新村", "合计"].iter().enumerate() {
        ws.write(2, c as u16, *h).unwrap();
    }
    // 签约人数's 合计 is one short of 400 + 90.
    for (r, (label, values)) in [
        ("常住人口数", [1000.0, 300.0, 1300.0]),
        ("签约人数", [400.0, 90.0, 489.0]),
        ("本月履约服务人次", [25.0, 6.0, 31.0]),
    ]
    .iter()
    .enumerate()
    {
        ws.write(3 + r as u32, 0, *label).unwrap();
        for (c, v) in values.iter().enumerate() {
            ws.write(3 + r as u32, 1 + c as u16, *v).unwrap();
        }
    }
    ws.write(7, 0, "报出日期：2026年2月3日").unwrap();
    save_as_an_office_would(&d, &mut wb, "城东街道", "villages as columns saved as .xls");
    let (f, a) = check_january(&d);
    let dongmen = "439902001001";
    let xincun = "439902001002";
    assert_eq!(january(&a, dongmen, "resident_pop"), Some(1000.0));
    assert_eq!(january(&a, xincun, "resident_pop"), Some(300.0));
    assert_eq!(january(&a, xincun, "signed"), Some(90.0));
    assert_eq!(january(&a, CD, "resident_pop"), Some(1300.0));
    assert_eq!(january(&a, CD, "signed"), Some(490.0));
    assert_eq!(january(&a, CD, "services"), Some(31.0));
    // The 合计 checked against the villages, at its cell, over their row.
    let off: Vec<_> = f.iter().filter(|x| x["rule"] == "total_mismatch").collect();
    assert_eq!(off.len(), 1, "{off:#?}");
    assert_eq!(off[0]["cell"], "D5", "{off:#?}");
    assert!(off[0]["message"].contains("B5:C5"), "{off:#?}");
    assert_none_of(&f, &["unknown_unit", "duplicate_row", "late_return"]);
    let stored = january_from_a_store(&d);
    for unit in [CD, dongmen, xincun] {
        for field in ["resident_pop", "signed"] {
            assert_eq!(january(&stored, unit, field), january(&a, unit, field));
        }
    }
    // A village misspelt is said at its heading, with the name it may be;
    // one twice, at its second heading, naming the column of its first.
    save_cd_turned(
        &d,
        &["东门社区", "心村", "东门社区"],
        &[
            [1000.0, 300.0, 1000.0],
            [400.0, 90.0, 400.0],
            [25.0, 6.0, 25.0],
        ],
    );
    let (f, a) = check_january(&d);
    let unknown: Vec<_> = f.iter().filter(|x| x["rule"] == "unknown_unit").collect();
    assert_eq!(unknown.len(), 1, "{unknown:#?}");
    assert_eq!(unknown[0]["cell"], "C3", "{unknown:#?}");
    assert!(unknown[0]["message"].contains("新村"), "{unknown:#?}");
    // Its column, not a row, is what is not counted.
    assert!(
        unknown[0]["message"].contains("此列未计入汇总"),
        "{unknown:#?}"
    );
    let twice: Vec<_> = f.iter().filter(|x| x["rule"] == "duplicate_row").collect();
    assert_eq!(twice.len(), 1, "{twice:#?}");
    assert_eq!(twice[0]["cell"], "D3", "{twice:#?}");
    assert!(twice[0]["message"].contains("第一次在 B 列"), "{twice:#?}");
    assert_eq!(january(&a, CD, "resident_pop"), Some(1000.0));
    // A village left out is asked for as a column.
    save_cd_turned(
        &d,
        &["东门社区", "合计"],
        &[[1000.0, 1000.0], [400.0, 400.0], [25.0, 25.0]],
    );
    let (f, _) = check_january(&d);
    let missing: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "missing_return" && x["message"].contains("新村"))
        .collect();
    assert_eq!(missing.len(), 1, "{f:#?}");
    assert!(
        missing[0]["message"].contains("没有“新村”这一列")
            && missing[0]["message"].contains("请补上该单位的列"),
        "{missing:#?}"
    );
}

/// A county's table of villages as columns, a village's name shared by two
/// of its townships: taken as the one of its neighbour's township where a
/// neighbouring column says whose, else not counted — each said of a
/// column and asking for a column, as the table on the sheet has them. The
/// tables are saved as `.xls` by LibreOffice where it is installed.
#[test]
fn a_shared_village_name_in_a_turned_county_table_is_said_of_its_column() {
    let d = Dir::new();
    let save = |heads: &[&str]| {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write(1, 0, "填报单位：东湖区").unwrap();
        ws.write(1, 3, "报告期：2026年1月").unwrap();
        for (c, h) in std::iter::once(&"指标").chain(heads).enumerate() {
            ws.write(2, c as u16, *h).unwrap();
        }
        for (r, label) in ["常住人口数", "签约人数", "本月履约服务人次"]
            .iter()
            .enumerate()
        {
            ws.write(3 + r as u32, 0, *label).unwrap();
            for c in 0..heads.len() {
                ws.write(3 + r as u32, 1 + c as u16, 100.0 * (3.0 - r as f64))
                    .unwrap();
            }
        }
        let _ = std::fs::remove_dir_all(d.path("in"));
        std::fs::create_dir_all(d.path("in")).unwrap();
        save_as_an_office_would(&d, &mut wb, "东湖区", "a turned county table saved as .xls");
    };
    // The one unknown_unit finding, at 新村's heading (C3): its message.
    let said_of_c3 = |f: &[Row]| -> String {
        let unknown: Vec<_> = f.iter().filter(|x| x["rule"] == "unknown_unit").collect();
        assert_eq!(unknown.len(), 1, "{unknown:#?}");
        assert_eq!(unknown[0]["cell"], "C3", "{unknown:#?}");
        unknown[0]["message"].clone()
    };
    // 新村 beside 城东街道's 东门社区: 城东街道's, counted, and said so.
    save(&["东门社区", "新村"]);
    let (f, a) = check_january(&d);
    let said = said_of_c3(&f);
    assert!(
        said.contains("按左右相邻的列") && said.contains("城东街道"),
        "{said}"
    );
    assert!(!said.contains("行"), "{said}");
    assert_eq!(january(&a, "439902001002", "resident_pop"), Some(300.0));
    // 新村 between 城东街道's 东门社区 and 新民镇's 红旗村: whose it is
    // cannot be told, and its column is not counted.
    save(&["东门社区", "新村", "红旗村"]);
    let (f, a) = check_january(&d);
    let said = said_of_c3(&f);
    assert!(
        said.contains("无法确定此列是哪一个，此列未计入汇总") && said.contains("之后加一列"),
        "{said}"
    );
    assert!(!said.contains("此行") && !said.contains("一行"), "{said}");
    assert_eq!(january(&a, "439902001002", "resident_pop"), None);
    assert_eq!(january(&a, "439902101201", "resident_pop"), None);
}

/// 城东街道's January family-doctor return as the only input, its villages
/// as columns headed `heads` (after 指标), the rows 常住人口数, 签约人数 and
/// 本月履约服务人次 holding `rows`.
fn save_cd_turned<const N: usize>(d: &Dir, heads: &[&str], rows: &[[f64; N]; 3]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(1, 0, "填报单位：城东街道").unwrap();
    ws.write(1, 3, "报告期：2026年1月").unwrap();
    for (c, h) in std::iter::once(&"指标").chain(heads).enumerate() {
        ws.write(2, c as u16, *h).unwrap();
    }
    for (r, (label, values)) in ["常住人口数", "签约人数", "本月履约服务人次"]
        .iter()
        .zip(rows)
        .enumerate()
    {
        ws.write(3 + r as u32, 0, *label).unwrap();
        for (c, v) in values.iter().enumerate() {
            ws.write(3 + r as u32, 1 + c as u16, *v).unwrap();
        }
    }
    std::fs::remove_dir_all(d.path("in")).unwrap();
    std::fs::create_dir_all(d.path("in")).unwrap();
    wb.save(d.path("in/城东街道.xlsx")).unwrap();
}

/// The same turned, a block each: the doses down the rows, each village a
/// block of 应种 | 实种 | 接种率 under its name, and a 合计 block. Read
/// as one unit's doses as rows, the first village's were the township's.
#[test]
fn a_table_of_village_blocks_is_read_as_the_table_turned() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let plain = rust_xlsxwriter::Format::new();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
    ws.write(1, 0, "填报单位：城东街道社区卫生服务中心")
        .unwrap();
    ws.write(1, 6, "报告期：2026年1月").unwrap();
    ws.merge_range(2, 0, 3, 0, "疫苗", &plain).unwrap();
    for (k, name) in ["东门社区", "新村", "合计"].iter().enumerate() {
        let c = 1 + 3 * k as u16;
        ws.merge_range(2, c, 2, c + 2, name, &plain).unwrap();
        for (j, sub) in ["应种人数", "实种人数", "接种率(%)"].iter().enumerate() {
            ws.write(3, c + j as u16, *sub).unwrap();
        }
    }
    // (dose, 东门社区, 新村, 合计) as (应种, 实种); 卡介苗's 合计 实种 is off.
    for (i, (dose, blocks)) in [
        ("乙肝疫苗第1剂", [(10.0, 9.0), (20.0, 18.0), (30.0, 27.0)]),
        ("卡介苗", [(12.0, 12.0), (22.0, 21.0), (34.0, 34.0)]),
    ]
    .iter()
    .enumerate()
    {
        let r = 4 + i as u32;
        ws.write(r, 0, *dose).unwrap();
        for (k, &(due, given)) in blocks.iter().enumerate() {
            let (due, given): (f64, f64) = (due, given);
            let c = 1 + 3 * k as u16;
            ws.write(r, c, due).unwrap();
            ws.write(r, c + 1, given).unwrap();
            ws.write(r, c + 2, (given / due * 1000.0).round() / 10.0)
                .unwrap();
        }
    }
    save_as_an_office_would(&d, &mut wb, "城东街道", "village blocks saved as .xls");
    let (f, a) = check_january(&d);
    assert_eq!(january(&a, "439902001001", "hepb1_due"), Some(10.0));
    assert_eq!(january(&a, "439902001002", "bcg_given"), Some(21.0));
    assert_eq!(january(&a, CD, "hepb1_due"), Some(30.0));
    assert_eq!(january(&a, CD, "hepb1_given"), Some(27.0));
    assert_eq!(january(&a, CD, "bcg_given"), Some(33.0));
    let off: Vec<_> = f.iter().filter(|x| x["rule"] == "total_mismatch").collect();
    assert_eq!(off.len(), 1, "{off:#?}");
    assert_eq!(off[0]["cell"], "I6", "{off:#?}");
    assert!(off[0]["message"].contains("C6:F6"), "{off:#?}");
    assert_none_of(&f, &["unknown_unit", "duplicate_row", "rate_mismatch"]);
}

/// A workbook of a sheet a village (东门社区, 新村), each its fields as
/// rows under the township's 填报单位: each sheet is its village's, and
/// the township their sum. Read as the township's own, they were three
/// returns of one unit, each excluding the others.
#[test]
fn a_sheet_a_village_under_the_townships_name_is_the_villages() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let mut wb =
        util::family_a_sheet_a_village(&[("东门社区", 1000.0, 400.0), ("新村", 300.0, 90.0)]);
    save_as_an_office_would(&d, &mut wb, "城东街道", "a sheet a village saved as .xls");
    let (f, a) = check_january(&d);
    assert_eq!(january(&a, "439902001001", "resident_pop"), Some(1000.0));
    assert_eq!(january(&a, "439902001002", "signed"), Some(90.0));
    assert_eq!(january(&a, CD, "resident_pop"), Some(1300.0));
    assert_eq!(january(&a, CD, "services"), Some(10.0));
    assert_none_of(&f, &["duplicate_return", "unknown_unit"]);
    assert_a_store_agrees(&d, &a, CD, &["resident_pop", "signed", "services"]);
}

/// 城东街道's January family-doctor return, its villages as rows (东门社区
/// 1000 residents, 400 signed; 新村 300 and 90), under the 填报单位 `unit`
/// (empty: none written).
fn family_january(unit: &str) -> rust_xlsxwriter::Workbook {
    util::return_book(
        "家医签约",
        "family_doctor",
        unit,
        Some("2026年1月"),
        &[
            (
                "东门社区",
                vec![("resident_pop", V::N(1000.0)), ("signed", V::N(400.0))],
            ),
            (
                "新村",
                vec![("resident_pop", V::N(300.0)), ("signed", V::N(90.0))],
            ),
        ],
        None,
    )
}

/// A late return of a sheet a village (each sheet dated 2026年2月20日,
/// after 5 February) came once: one `late_return`, at the sheet that came
/// first, as 上报情况 counts it (the 审核结果 listed the township once per
/// village sheet, and the feedback asked it as often why it was late).
#[test]
fn a_late_return_of_a_sheet_a_village_is_late_once() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let mut wb =
        util::family_a_sheet_a_village(&[("东门社区", 1000.0, 400.0), ("新村", 300.0, 90.0)]);
    for ws in wb.worksheets_mut() {
        ws.write(7, 0, "填表人：李四    报出日期：2026年2月20日")
            .unwrap();
    }
    save_as_an_office_would(
        &d,
        &mut wb,
        "城东街道",
        "a late sheet-a-village return as .xls",
    );
    let (f, _) = check_january(&d);
    let late: Vec<_> = f.iter().filter(|x| x["rule"] == "late_return").collect();
    assert_eq!(late.len(), 1, "{late:#?}");
    assert_eq!(
        (late[0]["unit_code"].as_str(), late[0]["sheet"].as_str()),
        (CD, "东门社区")
    );
    util::run_in(&d, "consolidate", &["--period", "2026-01", "-o", "r.xlsx"]);
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(d.path("r.xlsx")).unwrap();
    let c = calamine::Reader::worksheet_range(&mut book, "上报情况").unwrap();
    let row = (3..c.height() as u32)
        .find(|&r| {
            c.get_value((r, 0)).map(ToString::to_string).as_deref()
                == Some("家庭医生签约服务情况月报表")
        })
        .expect("the family-doctor form's row");
    let text = |col| {
        c.get_value((row, col))
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    // One township of two reported, late: 及时率 0 of 1.
    assert_eq!(
        (text(2), text(4), text(7), text(8)),
        (
            "乡镇(街道)".into(),
            "1".into(),
            "0".into(),
            "城东街道".into()
        )
    );
}

/// A 报出日期 written in the heading, beside 填报单位 and 报告期, dates the
/// return as one in the footer does, whichever way its table runs: units
/// as rows, one unit's fields as rows, units as columns. Only the footer
/// was read: each was a return without a date, left out of 及时率.
#[test]
fn a_reporting_date_in_the_heading_dates_the_return() {
    let dated = |wb: &mut rust_xlsxwriter::Workbook| {
        let ws = wb.worksheet_from_index(0).unwrap();
        ws.write(1, 8, "报出日期：2026年2月20日").unwrap();
    };
    let rows = || family_january("城东街道");
    let fields_as_rows = || util::family_a_sheet_a_village(&[("东门社区", 1000.0, 400.0)]);
    let units_as_columns = || {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write(0, 0, "家庭医生签约服务情况月报表").unwrap();
        ws.write(1, 0, "填报单位：城东街道").unwrap();
        ws.write(1, 3, "报告期：2026年1月").unwrap();
        for (c, h) in ["指标", "东门社区", "新村"].iter().enumerate() {
            ws.write(2, c as u16, *h).unwrap();
        }
        for (r, (label, values)) in [
            ("常住人口数", [1000.0, 300.0]),
            ("签约人数", [400.0, 90.0]),
            ("本月履约服务人次", [25.0, 6.0]),
        ]
        .iter()
        .enumerate()
        {
            ws.write(3 + r as u32, 0, *label).unwrap();
            for (c, v) in values.iter().enumerate() {
                ws.write(3 + r as u32, 1 + c as u16, *v).unwrap();
            }
        }
        wb
    };
    let layouts: [(&str, &dyn Fn() -> rust_xlsxwriter::Workbook); 3] = [
        ("units as rows", &rows),
        ("fields as rows", &fields_as_rows),
        ("units as columns", &units_as_columns),
    ];
    for (layout, book) in layouts {
        let d = Dir::new();
        std::fs::create_dir_all(d.path("in")).unwrap();
        let mut wb = book();
        dated(&mut wb);
        save_as_an_office_would(
            &d,
            &mut wb,
            "城东街道",
            "a return dated in its heading as .xls",
        );
        let (f, _) = check_january(&d);
        let late: Vec<_> = f.iter().filter(|x| x["rule"] == "late_return").collect();
        assert_eq!(late.len(), 1, "{layout}: {late:#?}");
        assert_eq!(late[0]["value"], "2026-02-20", "{layout}");
        // The date is no period: the return is still January's.
        assert_eq!(late[0]["period"], "2026-01", "{layout}");
    }
}

/// Returns kept in a folder a township, without a 填报单位 and with no unit
/// in their file names: the folder names the unit. Where its rows are that
/// township's villages too, only a note says 填报单位 is missing (it was a
/// warning, as if the rows alone had named it); a return of one unit's
/// fields, with no rows to go by, is counted as the folder's with a
/// warning (it was an error, not counted). A folder of no unit names none.
#[test]
fn a_folder_a_township_names_the_returns_in_it() {
    let unnamed_rows = |d: &Dir, path: &str| {
        let mut wb = family_january("");
        wb.save(d.path(path)).unwrap();
    };
    let unnamed_fields = |d: &Dir, path: &str| {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.write(0, 0, "家庭医生签约服务情况月报表").unwrap();
        ws.write(1, 0, "报告期：2026年1月").unwrap();
        ws.write(2, 0, "指标").unwrap();
        ws.write(2, 1, "数值").unwrap();
        for (r, (label, v)) in [
            ("常住人口数", 1300.0),
            ("签约人数", 490.0),
            ("本月履约服务人次", 10.0),
        ]
        .iter()
        .enumerate()
        {
            ws.write(3 + r as u32, 0, *label).unwrap();
            ws.write(3 + r as u32, 1, *v).unwrap();
        }
        wb.save(d.path(path)).unwrap();
    };
    let taken = |d: &Dir| {
        let (f, a) = check_january(d);
        let said: Vec<(String, String)> = f
            .iter()
            .filter(|x| x["rule"] == "unknown_unit")
            .map(|x| (x["severity"].clone(), x["message"].clone()))
            .collect();
        (said, january(&a, CD, "signed"))
    };
    for (kind, write, severity) in [
        ("rows", &unnamed_rows as &dyn Fn(&Dir, &str), "info"),
        ("fields", &unnamed_fields, "warning"),
    ] {
        let d = Dir::new();
        std::fs::create_dir_all(d.path("in/城东街道")).unwrap();
        write(&d, "in/城东街道/2026年1月家医签约.xlsx");
        let (said, signed) = taken(&d);
        assert_eq!(said.len(), 1, "{kind}: {said:#?}");
        assert_eq!(said[0].0, severity, "{kind}: {said:#?}");
        assert!(
            said[0].1.contains("按所在文件夹“城东街道”"),
            "{kind}: {said:#?}"
        );
        assert_eq!(signed, Some(490.0), "{kind}");
        // A folder that names no unit: the rows still name 城东街道 (a
        // warning), a table of one unit's fields nothing (an error).
        let d = Dir::new();
        std::fs::create_dir_all(d.path("in/收到的报表")).unwrap();
        write(&d, "in/收到的报表/2026年1月家医签约.xlsx");
        let (said, signed) = taken(&d);
        assert_eq!(said.len(), 1, "{kind}: {said:#?}");
        let expected = if kind == "rows" {
            ("warning", Some(490.0))
        } else {
            ("error", None)
        };
        assert_eq!((said[0].0.as_str(), signed), expected, "{kind}: {said:#?}");
    }
}

/// Blocks of one dose side by side: 户籍儿童 | 非户籍儿童 are 本地 | 流动,
/// added (FORMS.md §3.1; 非户籍 was taken for 本地 by its 户籍, and the
/// floating children were counted nowhere); 男 | 女 | 合计 is the 合计's;
/// 男 | 女 with no 合计 reads the first and says, as a warning, that the
/// other's figures are not counted (a note before).
#[test]
fn blocks_of_a_dose_are_parts_a_total_or_said_not_counted() {
    let villages: [(&str, &[(f64, f64)]); 2] = [
        ("东门社区", &[(10.0, 9.0), (3.0, 3.0), (13.0, 12.0)]),
        ("新村", &[(20.0, 18.0), (5.0, 4.0), (25.0, 22.0)]),
    ];
    let cases: [(&[&str], f64, bool); 3] = [
        (&["户籍儿童", "非户籍儿童"], 38.0, false),
        (&["男", "女", "合计"], 38.0, false),
        (&["男", "女"], 30.0, true),
    ];
    for (blocks, due, said) in cases {
        let d = Dir::new();
        std::fs::create_dir_all(d.path("in")).unwrap();
        let mut wb = rust_xlsxwriter::Workbook::new();
        let names: Vec<&str> = villages.iter().map(|(name, _)| *name).collect();
        blocks_over_a_dose(&mut wb, blocks, &names, &|k, i| villages[i].1[k]);
        save_as_an_office_would(&d, &mut wb, "城东街道", "blocks of a dose saved as .xls");
        let (f, a) = check_january(&d);
        assert_eq!(january(&a, CD, "hepb1_due"), Some(due), "{blocks:?}");
        let not_read: Vec<_> = f
            .iter()
            .filter(|x| x["rule"] == "unknown_column" && x["severity"] == "warning")
            .collect();
        assert_eq!(
            not_read.len(),
            usize::from(said),
            "{blocks:?} {not_read:#?}"
        );
        if said {
            assert!(
                not_read[0]["message"].contains("女 乙肝疫苗第1剂 应种人数"),
                "{not_read:#?}"
            );
        }
    }
    // The same of one unit's fields as rows: 指标 | 男 | 女.
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(1, 0, "填报单位：城东街道").unwrap();
    ws.write(1, 3, "报告期：2026年1月").unwrap();
    for (c, h) in ["指标", "男", "女"].iter().enumerate() {
        ws.write(2, c as u16, *h).unwrap();
    }
    for (r, (label, men, women)) in [
        ("常住人口数", 1000.0, 1100.0),
        ("签约人数", 400.0, 450.0),
        ("本月履约服务人次", 10.0, 12.0),
    ]
    .iter()
    .enumerate()
    {
        ws.write(3 + r as u32, 0, *label).unwrap();
        ws.write(3 + r as u32, 1, *men).unwrap();
        ws.write(3 + r as u32, 2, *women).unwrap();
    }
    wb.save(d.path("in/城东街道.xlsx")).unwrap();
    let (f, a) = check_january(&d);
    assert_eq!(january(&a, CD, "resident_pop"), Some(1000.0));
    let not_read: Vec<_> = f
        .iter()
        .filter(|x| x["rule"] == "unknown_column" && x["severity"] == "warning")
        .collect();
    assert_eq!(not_read.len(), 1, "{f:#?}");
    assert!(
        not_read[0]["message"].contains("女 常住人口数"),
        "{not_read:#?}"
    );
}

/// A workbook that keeps the return sent beside its corrected copy, the
/// copy's sheet named 家医（更正）: the mark is in its sheet's name, the
/// sheet's own title, and the copy replaces the first (FORMS.md §4), in a
/// run and in a store.
#[test]
fn a_sheet_named_as_a_correction_replaces_the_return_beside_it() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (sheet, signed) in [("家医", [400.0, 90.0]), ("家医（更正）", [410.0, 95.0])] {
        let ws = wb.add_worksheet();
        ws.set_name(sheet).unwrap();
        util::write_sheet(
            ws,
            "family_doctor",
            "城东街道",
            Some("2026年1月"),
            &[
                ("东门社区", vec![("signed", V::N(signed[0]))]),
                ("新村", vec![("signed", V::N(signed[1]))]),
            ],
            None,
        );
    }
    save_as_an_office_would(
        &d,
        &mut wb,
        "城东街道",
        "a corrected sheet beside the first saved as .xls",
    );
    let (f, a) = check_january(&d);
    assert_eq!(january(&a, CD, "signed"), Some(505.0));
    assert_none_of(&f, &["duplicate_return"]);
    assert!(f.iter().any(|x| x["rule"] == "correction"), "{f:#?}");
    assert_a_store_agrees(&d, &a, CD, &["signed"]);
}

/// Two forms' tables stacked on one sheet, the 填报单位 and 报告期 above
/// the first and a title above the second: each its own return, whichever
/// has more columns. Read as one, the second's villages were the first's
/// again (`duplicate_row`), or the first table was taken for lines above
/// the second's header, and a form lost.
#[test]
fn two_forms_stacked_on_one_sheet_are_two_returns() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "家庭医生签约服务情况月报表").unwrap();
    ws.write(1, 0, "填报单位：城东街道").unwrap();
    ws.write(1, 4, "报告期：2026年1月").unwrap();
    for (c, h) in [
        "序号",
        "单位名称",
        "常住人口数",
        "签约人数",
        "本月履约服务人次",
    ]
    .iter()
    .enumerate()
    {
        ws.write(2, c as u16, *h).unwrap();
    }
    for (i, (name, pop, signed)) in [("东门社区", 1000.0, 400.0), ("新村", 300.0, 90.0)]
        .iter()
        .enumerate()
    {
        let r = 3 + i as u32;
        ws.write(r, 0, (i + 1) as f64).unwrap();
        ws.write(r, 1, *name).unwrap();
        ws.write(r, 2, *pop).unwrap();
        ws.write(r, 3, *signed).unwrap();
        ws.write(r, 4, 5.0).unwrap();
    }
    ws.write(5, 0, "填表人：李四").unwrap();
    ws.write(7, 0, "免疫规划疫苗常规接种情况月报表").unwrap();
    let heads = [
        "序号",
        "单位名称",
        "乙肝疫苗第1剂应种人数",
        "乙肝疫苗第1剂实种人数",
        "卡介苗应种人数",
        "卡介苗实种人数",
    ];
    for (c, h) in heads.iter().enumerate() {
        ws.write(8, c as u16, *h).unwrap();
    }
    for (i, (name, figures)) in [
        ("东门社区", [10.0, 9.0, 12.0, 12.0]),
        ("新村", [5.0, 5.0, 4.0, 3.0]),
    ]
    .iter()
    .enumerate()
    {
        let r = 9 + i as u32;
        ws.write(r, 0, (i + 1) as f64).unwrap();
        ws.write(r, 1, *name).unwrap();
        for (k, v) in figures.iter().enumerate() {
            ws.write(r, 2 + k as u16, *v).unwrap();
        }
    }
    ws.write(11, 1, "合计").unwrap();
    for (k, v) in [15.0, 14.0, 16.0, 15.0].iter().enumerate() {
        ws.write(11, 2 + k as u16, *v).unwrap();
    }
    save_as_an_office_would(&d, &mut wb, "城东街道", "two stacked tables saved as .xls");
    let (f, a) = check_january(&d);
    assert_eq!(january(&a, CD, "hepb1_due"), Some(15.0));
    assert_eq!(january(&a, CD, "bcg_given"), Some(15.0));
    assert_eq!(january(&a, CD, "signed"), Some(490.0));
    assert_eq!(january(&a, "439902001002", "resident_pop"), Some(300.0));
    assert_none_of(
        &f,
        &[
            "duplicate_row",
            "total_mismatch",
            "unknown_unit",
            "period_missing",
        ],
    );
    assert_a_store_agrees(&d, &a, CD, &["hepb1_due", "signed"]);
}
