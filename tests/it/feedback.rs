//! `phstats check --feedback DIR`: one 退回修改 workbook per unit with
//! problems, reopened: the submitted sheet reproduced, the offending cells
//! filled (red error, yellow warning) with a note stating problem and fix,
//! and a 问题清单 list sheet.

use std::io::Read;

use calamine::{Data, Reader, Xlsx};

use crate::util::{self, cell_of, Dir, V};

/// The fill colour (RRGGBB) of a cell.
fn fill(wb: &mut Xlsx<std::io::BufReader<std::fs::File>>, sheet: &str, a1: &str) -> Option<u32> {
    let c = phstats::findings::CellRef::parse(a1).unwrap();
    let styles = wb.worksheet_style(sheet).unwrap();
    let color = styles.get((c.row, c.col))?.fill.as_ref()?.get_color()?;
    Some(u32::from(color.red) << 16 | u32::from(color.green) << 8 | u32::from(color.blue))
}

/// Every cell note of a workbook as (cell ref, text), from the xlsx parts.
fn notes(path: &std::path::Path) -> Vec<(String, String)> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let names: Vec<String> = z.file_names().map(|n| n.unwrap().into_owned()).collect();
    let mut out = Vec::new();
    let re = regex::Regex::new(r#"(?s)<comment ref="([A-Z]+[0-9]+)".*?</comment>"#).unwrap();
    let tag = regex::Regex::new(r"<[^>]+>").unwrap();
    for n in names.iter().filter(|n| n.starts_with("xl/comments")) {
        let mut xml = String::new();
        z.by_name(n).unwrap().read_to_string(&mut xml).unwrap();
        for m in re.captures_iter(&xml) {
            let text = tag.replace_all(&m[0], "").to_string();
            out.push((m[1].to_string(), text));
        }
    }
    out
}

/// January's returns under `in/`: 城东街道's vaccination return with a
/// text in a number cell, 实种 over 应种, a wrong rate and a wrong 合计;
/// 新民镇's family-doctor return with 签约 over its residents; 城东街道's
/// clean family-doctor return.
fn january(d: &Dir) {
    let vac = "vaccination";
    util::write_return(
        &d.path("in/城东街道_免疫.xlsx"),
        vac,
        "城东街道",
        Some("2026-01"),
        &[
            (
                "东门社区",
                vec![
                    ("hepb1_due", V::T("约30")),
                    ("ipv1_due", V::N(10.0)),
                    ("ipv1_given", V::N(12.0)),
                    // 19 / 20 is 95.0 %, not the 90 written.
                    ("mmr1_due", V::N(20.0)),
                    ("mmr1_given", V::N(19.0)),
                    ("mmr1_rate", V::N(90.0)),
                ],
            ),
            ("新村", vec![("bcg_due", V::N(7.0))]),
        ],
        Some(&("合计", vec![("bcg_due", V::N(9.0))])),
    );
    util::write_return(
        &d.path("in/新民镇_家医.xlsx"),
        "family_doctor",
        "新民镇",
        Some("2026-01"),
        &[(
            "新村",
            vec![("resident_pop", V::N(100.0)), ("signed", V::N(120.0))],
        )],
        None,
    );
    util::write_return(
        &d.path("in/城东街道_家医.xlsx"),
        "family_doctor",
        "城东街道",
        Some("2026-01"),
        &[
            (
                "东门社区",
                vec![("resident_pop", V::N(80.0)), ("signed", V::N(60.0))],
            ),
            (
                "新村",
                vec![("resident_pop", V::N(100.0)), ("signed", V::N(90.0))],
            ),
        ],
        None,
    );
}

#[test]
fn feedback_workbooks_mark_the_cells_to_fix() {
    let d = Dir::new();
    let vac = "vaccination";
    january(&d);
    std::fs::write(d.path("in/乱码.xlsx"), b"\x00\x01 not a workbook").unwrap();
    let out = util::run_in(&d, "check", &["--feedback", "fb", "--export", "out"]);
    assert_eq!(out.status.code(), Some(1));
    let mut made: Vec<String> = std::fs::read_dir(d.path("fb"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    made.sort();
    assert_eq!(
        made,
        [
            "乱码_退回修改.xlsx",
            "城东街道_2026年1月_退回修改.xlsx",
            "新民镇_2026年1月_退回修改.xlsx"
        ],
        "one per unit with problems, one for the file nobody can be named for"
    );

    // 城东街道: the list, then its vaccination sheet reproduced. Its clean
    // family-doctor return is not in it.
    let path = d.path("fb/城东街道_2026年1月_退回修改.xlsx");
    let mut wb: Xlsx<_> = calamine::open_workbook(&path).unwrap();
    let findings = util::read_csv(&d.path("out/findings.csv"));
    assert_eq!(
        wb.sheet_names(),
        ["问题清单", "vaccination"],
        "{findings:#?}"
    );
    let sheet = wb.worksheet_range("vaccination").unwrap();
    let bad = cell_of(vac, "hepb1_due", 0);
    let c = phstats::findings::CellRef::parse(&bad).unwrap();
    assert_eq!(
        sheet.get_value((c.row, c.col)),
        Some(&Data::String("约30".into())),
        "the value as submitted"
    );
    let name = phstats::findings::CellRef::parse("B5").unwrap();
    assert_eq!(
        sheet.get_value((name.row, name.col)),
        Some(&Data::String("东门社区".into()))
    );
    assert_eq!(
        fill(&mut wb, "vaccination", &bad),
        Some(0xFFC7CE),
        "error: red"
    );
    // 实种 above 应种 is an error (FORMS.md §4): red too.
    let given = cell_of(vac, "ipv1_given", 0);
    assert_eq!(fill(&mut wb, "vaccination", &given), Some(0xFFC7CE));
    let warn = cell_of(vac, "mmr1_rate", 0);
    assert_eq!(
        fill(&mut wb, "vaccination", &warn),
        Some(0xFFEB9C),
        "warning: yellow"
    );
    let total = cell_of(vac, "bcg_due", 2);
    assert_eq!(fill(&mut wb, "vaccination", &total), Some(0xFFC7CE));
    assert_eq!(
        fill(&mut wb, "vaccination", &cell_of(vac, "bcg_due", 1)),
        None
    );

    // The submitted layout: 序号 merged over the two header rows (A3:A4).
    let mut z = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut xml = String::new();
    z.by_name("xl/worksheets/sheet2.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert!(xml.contains(r#"<mergeCell ref="A3:A4"/>"#), "{xml}");
    let n = notes(&path);
    let note = |cell: &str| {
        n.iter()
            .find(|(r, _)| r == cell)
            .map(|(_, t)| t.clone())
            .unwrap_or_else(|| panic!("no note at {cell}: {n:?}"))
    };
    // Each note names its problem as a clerk reads it, with no rule id.
    assert!(note(&bad).contains("【错误】非数值"), "{}", note(&bad));
    assert!(note(&bad).contains("修改建议"));
    assert!(note(&given).contains("实种大于应种"));
    assert!(note(&warn).contains("【警告】比率不符"), "{}", note(&warn));
    assert!(note(&total).contains("合计不符") && note(&total).contains('7'));
    assert!(n.iter().all(|(_, t)| !t.contains('[')), "{n:?}");
    assert_eq!(n.len(), 4, "{n:?}");

    // The list: one row per problem with its cell.
    let list = wb.worksheet_range("问题清单").unwrap();
    let rows: Vec<Vec<String>> = list
        .rows()
        .map(|r| r.iter().map(ToString::to_string).collect())
        .collect();
    let header = rows
        .iter()
        .position(|r| r.first().map(String::as_str) == Some("序号"))
        .unwrap();
    let items = &rows[header + 1..];
    assert_eq!(items.len(), 4, "{items:?}");
    let rules: Vec<&str> = items.iter().map(|r| r[2].as_str()).collect();
    assert!(
        rules.contains(&"非数值") && rules.contains(&"合计不符") && rules.contains(&"实种大于应种"),
        "{rules:?}"
    );
    assert!(items.iter().any(|r| r[8] == bad));
    // A clerk reads no rule id and no path of the bureau's.
    assert!(
        items
            .iter()
            .all(|r| !r.iter().any(|c| c.contains("_mismatch") || c.contains('/'))),
        "{items:?}"
    );
    assert_eq!(items[0][1], "错误", "errors first");

    // 新民镇: its family-doctor error, and the vaccination return it never sent.
    let mut wb: Xlsx<_> =
        calamine::open_workbook(d.path("fb/新民镇_2026年1月_退回修改.xlsx")).unwrap();
    let list = wb.worksheet_range("问题清单").unwrap();
    let text: Vec<String> = list.rows().flatten().map(ToString::to_string).collect();
    assert!(text.iter().any(|t| t == "分子大于分母"));
    assert!(text.iter().any(|t| t == "未上报"));
    let signed = cell_of("family_doctor", "signed", 0);
    assert_eq!(fill(&mut wb, "family_doctor", &signed), Some(0xFFC7CE));

    // The unreadable file: only the list, naming why.
    let mut wb: Xlsx<_> = calamine::open_workbook(d.path("fb/乱码_退回修改.xlsx")).unwrap();
    assert_eq!(wb.sheet_names(), ["问题清单"]);
    let list = wb.worksheet_range("问题清单").unwrap();
    assert!(list
        .rows()
        .flatten()
        .any(|c| *c == Data::String("文件无法读取".into())));
}

/// Every cell of every sheet of a workbook, as text, but the line that says
/// when it was made.
fn cells(path: &std::path::Path) -> Vec<(String, Vec<Vec<String>>)> {
    let mut wb: Xlsx<_> = calamine::open_workbook(path).unwrap();
    wb.sheet_names()
        .into_iter()
        .map(|name| {
            let range = wb.worksheet_range(&name).unwrap();
            let rows = range
                .rows()
                .map(|r| {
                    r.iter()
                        .map(ToString::to_string)
                        .filter(|t| !t.contains("生成时间") && !t.contains("2026年12月"))
                        .collect()
                })
                .collect();
            (name, rows)
        })
        .collect()
}

/// `check --store db --period 2026-01 --feedback DIR`, which finds
/// problems (exit 1): what it printed.
fn feedback_from_store(d: &Dir, dir: &str) -> String {
    let out = util::phstats(
        d.tmp.path(),
        &[
            "check",
            "--store",
            "db",
            "--period",
            "2026-01",
            "--feedback",
            dir,
        ],
    );
    let said = util::text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    said
}

/// `check --store --feedback` (issue 30): after the input files are deleted,
/// the 退回修改 workbooks are written from what the store kept, and they are
/// the ones `check --feedback` wrote from the files: the same sheets, cells,
/// fills and notes.
#[test]
fn feedback_from_a_store_needs_no_input_file() {
    let d = Dir::new();
    january(&d);
    let out = util::run_in(&d, "check", &["--feedback", "from_files"]);
    assert_eq!(out.status.code(), Some(1));
    let out = util::run_in(&d, "ingest", &["--store", "db"]);
    assert!(
        out.status.code().unwrap() < 2,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::remove_dir_all(d.path("in")).unwrap();
    let said = feedback_from_store(&d, "from_store");
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(d.path(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names("from_store"),
        [
            "城东街道_2026年1月_退回修改.xlsx",
            "新民镇_2026年1月_退回修改.xlsx"
        ],
        "{said}"
    );
    assert_eq!(names("from_store"), names("from_files"));
    for name in names("from_store") {
        let (a, b) = (
            d.path(&format!("from_files/{name}")),
            d.path(&format!("from_store/{name}")),
        );
        assert_eq!(cells(&a), cells(&b), "{name}");
        assert_eq!(notes(&a), notes(&b), "{name}");
    }
    let path = d.path("from_store/城东街道_2026年1月_退回修改.xlsx");
    let mut wb: Xlsx<_> = calamine::open_workbook(&path).unwrap();
    assert_eq!(wb.sheet_names(), ["问题清单", "vaccination"]);
    let bad = cell_of("vaccination", "hepb1_due", 0);
    assert_eq!(fill(&mut wb, "vaccination", &bad), Some(0xFFC7CE));
    // Without --store nor files, a usage error in Chinese.
    let out = util::phstats(d.tmp.path(), &["check", "--units", "units.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("缺少要读入的报表"));
}

/// A kept original that no longer is what was received (a power cut
/// before the disk had it: an empty file under its hash) is named by
/// `store verify`; the feedback of its return says so and lists the
/// problems without a copy of the sheet; the figures, kept apart, are
/// what they were.
#[test]
fn a_damaged_original_is_named_and_the_feedback_goes_on_without_it() {
    let d = Dir::new();
    january(&d);
    util::ran(util::run_in(&d, "ingest", &["--store", "db"]));
    let export = |dir: &str| {
        let o = format!("{dir}.xlsx");
        util::ran(util::phstats(
            d.tmp.path(),
            &[
                "report", "--store", "db", "--period", "2026-01", "--export", dir, "-o", &o,
            ],
        ));
        std::fs::read(d.path(&format!("{dir}/aggregates.csv"))).unwrap()
    };
    let before = export("before");
    let verify = || util::phstats(d.tmp.path(), &["store", "verify", "--store", "db"]);
    assert_eq!(verify().status.code(), Some(0));
    // 城东街道's original emptied, as a power cut can leave it.
    let originals: Vec<std::path::PathBuf> = std::fs::read_dir(d.path("db/originals"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(originals.len(), 3, "one a file: {originals:?}");
    let cd = std::fs::read(d.path("in/城东街道_免疫.xlsx")).unwrap();
    let damaged = originals
        .iter()
        .find(|p| std::fs::read(p).unwrap() == cd)
        .expect("城东街道's original is kept byte for byte");
    std::fs::write(damaged, b"").unwrap();
    std::fs::remove_dir_all(d.path("in")).unwrap();
    let out = verify();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("城东街道_免疫.xlsx"), "{said}");
    assert!(said.contains("原件") && said.contains("已损坏"), "{said}");
    assert!(!said.contains("新民镇_家医.xlsx"), "{said}");
    assert!(said.contains("再次读入该文件"), "the fix: {said}");
    let said = feedback_from_store(&d, "fb");
    assert!(
        said.contains("1 份原件已损坏") && said.contains("城东街道_免疫.xlsx"),
        "{said}"
    );
    // 城东街道's problems, listed without its sheet; 新民镇's with it.
    let sheets = |name: &str| {
        let wb: Xlsx<_> = calamine::open_workbook(d.path(name)).unwrap();
        wb.sheet_names()
    };
    assert_eq!(sheets("fb/城东街道_2026年1月_退回修改.xlsx"), ["问题清单"]);
    assert_eq!(
        sheets("fb/新民镇_2026年1月_退回修改.xlsx"),
        ["问题清单", "family_doctor"]
    );
    let mut wb: Xlsx<_> =
        calamine::open_workbook(d.path("fb/城东街道_2026年1月_退回修改.xlsx")).unwrap();
    let list = wb.worksheet_range("问题清单").unwrap();
    assert!(
        list.rows()
            .flatten()
            .any(|c| c.to_string().contains("hepb1_due") || c.to_string().contains("乙肝")),
        "the problems are still listed"
    );
    assert_eq!(export("after"), before, "the figures are what they were");
    // The fix verify suggests: the same file ingested again (here under
    // another folder) is unchanged content, and its original is kept again.
    std::fs::write(d.path("again/城东街道_免疫.xlsx"), &cd).unwrap();
    let out = util::ran(util::phstats(
        d.tmp.path(),
        &["ingest", "again", "--store", "db"],
    ));
    assert!(
        util::text(&out).contains("未作改动"),
        "{}",
        util::text(&out)
    );
    assert_eq!(std::fs::read(damaged).unwrap(), cd);
    assert_eq!(verify().status.code(), Some(0));
    feedback_from_store(&d, "fb2");
    assert_eq!(
        sheets("fb2/城东街道_2026年1月_退回修改.xlsx"),
        ["问题清单", "vaccination"]
    );
    assert_eq!(export("repaired"), before);
}

/// A return whose sheet says it merges `A200:XFD1048576` (17 billion
/// cells; a damaged or hand-made file) and `A6:AM9000` (351,000): the
/// writer fills every cell of a merge, and `check --feedback` ran out of
/// memory on the first. Both are left unmerged, the return's own merges
/// (its header's groups) are reproduced, and the feedback is written.
#[test]
fn a_merge_no_sheet_could_hold_is_not_reproduced() {
    let d = Dir::new();
    january(&d);
    // 新民镇's return: 新村's 签约 over its residents, an error to send back.
    let file = d.path("in/新民镇_家医.xlsx");
    util::patch_xlsx(&file, |name, text| {
        if !name.starts_with("xl/worksheets/sheet") {
            return text;
        }
        // Before the return's own 19 (its two-row header's groups).
        let ours = r#"<mergeCell ref="A200:XFD1048576"/><mergeCell ref="A6:AM9000"/>"#;
        assert!(text.contains(r#"<mergeCells count="19">"#), "{text}");
        text.replacen(
            r#"<mergeCells count="19">"#,
            &format!(r#"<mergeCells count="21">{ours}"#),
            1,
        )
    });
    let out = util::run_in(&d, "check", &["--feedback", "fb"]);
    assert_eq!(out.status.code(), Some(1), "{}", util::text(&out));
    let made = d.path("fb/新民镇_2026年1月_退回修改.xlsx");
    let bytes = std::fs::read(&made).unwrap_or_else(|e| panic!("{e}: {}", util::text(&out)));
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut refs = Vec::new();
    for i in 0..zin.len() {
        let mut entry = zin.by_index(i).unwrap();
        if !entry.name().unwrap().starts_with("xl/worksheets/sheet") {
            continue;
        }
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut entry, &mut xml).unwrap();
        refs.extend(
            xml.split("<mergeCell ref=\"")
                .skip(1)
                .map(|s| s[..s.find('"').unwrap()].to_string()),
        );
    }
    for own in ["I3:K3", "AJ3:AL3", "A3:A4"] {
        assert!(refs.iter().any(|r| r == own), "{own}: {refs:?}");
    }
    assert!(
        !refs.iter().any(|r| r.contains("XFD") || r == "A6:AM9000"),
        "{refs:?}"
    );
}
