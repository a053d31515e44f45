//! Hostile files (issue 4): each one yields a clear finding naming the file
//! (and sheet and cell where there is one), the rest of the batch is still
//! consolidated to the right figures, and the run exits 1 instead of
//! crashing. Plus a mutation run over every byte region of real returns:
//! no input makes phstats panic.

use std::collections::HashMap;

use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};

use crate::util::{self, cell_of, Dir, V};

type Row = HashMap<String, String>;

/// A deterministic byte stream (xorshift), so failures reproduce.
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Writes every hostile file of the batch, and the good ones beside them.
fn hostile_batch(d: &Dir) {
    let fd = "family_doctor";
    // The good return the whole batch must not lose.
    util::write_return(
        &d.path("in/good.xlsx"),
        fd,
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
    // Broken containers.
    std::fs::write(d.path("in/random.xlsx"), noise(7, 4096)).unwrap();
    let mut zipish = b"PK\x03\x04".to_vec();
    zipish.extend(noise(11, 4096));
    std::fs::write(d.path("in/random_zip.xlsx"), zipish).unwrap();
    let good = std::fs::read(d.path("in/good.xlsx")).unwrap();
    std::fs::write(d.path("in/truncated.xlsx"), &good[..good.len() / 2]).unwrap();
    // A package whose shared strings say they are 999,999,999,999: calamine
    // reserved room for them as it opened the file (24 TB; aborted under an
    // address-space limit, or on Windows).
    std::fs::copy(d.path("in/good.xlsx"), d.path("in/strings.xlsx")).unwrap();
    util::patch_xlsx(&d.path("in/strings.xlsx"), |name, text| {
        if name != "xl/sharedStrings.xml" {
            return text;
        }
        let at = text.find("uniqueCount=\"").expect("a uniqueCount") + 13;
        let end = at + text[at..].find('"').unwrap();
        format!("{}999999999999{}", &text[..at], &text[end..])
    });
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/encrypted.xlsx"),
        d.path("in/encrypted.xlsx"),
    )
    .unwrap();
    // An .xls whose damage puts a cell at column 60,000: calamine would
    // build its sheet as a grid of 750 million cells (24 GB, the process
    // aborted). Found by mutating the sample's returns.
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/far-column.xls"),
        d.path("in/far_column.xls"),
    )
    .unwrap();
    std::fs::write(
        d.path("in/html.xls"),
        "<html><body><table><tr><td>新村</td><td>40</td></tr></table></body></html>",
    )
    .unwrap();
    std::fs::write(d.path("in/csv.xls"), "单位名称,签约人数\n新村,40\n").unwrap();

    // Cells that are not counts: error values, dates, booleans, 1e308,
    // 12.5, a formula with a saved value (used) and one without (a finding).
    let mut wb = util::return_book(
        "家医",
        fd,
        "城东街道",
        Some("2026-02"),
        &[
            ("东门社区", vec![]),
            ("新村", vec![("key_signed", V::N(7.0))]),
        ],
        None,
    );
    let ws = wb.worksheet_from_index(0).unwrap();
    let at = |field: &str, i: u32| util::pos_of(fd, field, i);
    let (r, c) = at("resident_pop", 0);
    ws.write_formula(r, c, Formula::new("=1/0").set_result("#DIV/0!"))
        .unwrap();
    let (r, c) = at("signed", 0);
    ws.write_datetime_with_format(
        r,
        c,
        ExcelDateTime::from_ymd(2026, 2, 1).unwrap(),
        &Format::new().set_num_format("yyyy-mm-dd"),
    )
    .unwrap();
    let (r, c) = at("key_pop", 0);
    ws.write_boolean(r, c, true).unwrap();
    let (r, c) = at("key_signed", 0);
    ws.write_number(r, c, 1e308).unwrap();
    let (r, c) = at("elderly_pop", 0);
    ws.write_number(r, c, 12.5).unwrap();
    let (r, c) = at("resident_pop", 1);
    ws.write_formula(r, c, Formula::new("=100+20").set_result("120"))
        .unwrap();
    let (r, c) = at("signed", 1);
    ws.write_formula(r, c, Formula::new("=SUM(D1:D2)")).unwrap();
    let (r, c) = at("key_pop", 1);
    ws.write_formula(r, c, Formula::new("=#REF!").set_result("#REF!"))
        .unwrap();
    wb.save(d.path("in/cells.xlsx")).unwrap();
    // As openpyxl saves it: the formula without any <v> (no saved value).
    util::patch_xlsx(&d.path("in/cells.xlsx"), |name, text| {
        if name.starts_with("xl/worksheets/") {
            text.replace("<f>SUM(D1:D2)</f><v>0</v>", "<f>SUM(D1:D2)</f>")
        } else {
            text
        }
    });

    // A title and nothing else; a workbook with one blank sheet.
    let mut wb = Workbook::new();
    wb.add_worksheet()
        .write_string(0, 0, "家庭医生签约服务情况月报表")
        .unwrap();
    wb.save(d.path("in/title_only.xlsx")).unwrap();
    let mut wb = Workbook::new();
    wb.add_worksheet();
    wb.save(d.path("in/empty.xlsx")).unwrap();

    // Two sheets of one name (only a hand-assembled file has them).
    let cd = "chronic_disease";
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("慢病").unwrap();
    util::write_sheet(
        ws,
        cd,
        "城东街道",
        Some("2026-02"),
        &[("东门社区", vec![("pop_35plus", V::N(300.0))])],
        None,
    );
    let ws = wb.add_worksheet();
    ws.set_name("慢病2").unwrap();
    util::write_sheet(
        ws,
        cd,
        "城东街道",
        Some("2026-02"),
        &[("东门社区", vec![("pop_35plus", V::N(999.0))])],
        None,
    );
    wb.save(d.path("in/dupnames.xlsx")).unwrap();
    util::patch_xlsx(&d.path("in/dupnames.xlsx"), |name, text| {
        if name == "xl/workbook.xml" {
            text.replace("name=\"慢病2\"", "name=\"慢病\"")
        } else {
            text
        }
    });

    // Odd Unicode: zero-width and non-breaking spaces, an ideographic
    // space, a byte-order mark, a Kangxi radical for 新's neighbour 生.
    let vac = "vaccination";
    util::write_return(
        &d.path("in/城东\u{200B}街道 免疫.xlsx"),
        vac,
        "城东街道\u{00A0}\u{200D}",
        Some("2026年2月"),
        &[
            ("\u{FEFF}东门社区", vec![("hepb1_due", V::N(10.0))]),
            ("新\u{3000}村", vec![("hepb1_due", V::N(20.0))]),
        ],
        None,
    );

    // 200,000 rows: a serial column filled down, and one stray figure with
    // no unit name at the very bottom.
    let mut wb = util::return_book(
        "慢病",
        cd,
        "新民镇",
        Some("2026-02"),
        &[
            ("新村", vec![("pop_35plus", V::N(1000.0))]),
            ("红旗村", vec![("pop_35plus", V::N(500.0))]),
        ],
        None,
    );
    let ws = wb.worksheet_from_index(0).unwrap();
    let first = util::FIRST_DATA_ROW + 2;
    for r in first..200_000 {
        ws.write_number(r, 0, f64::from(r - util::FIRST_DATA_ROW + 1))
            .unwrap();
    }
    let (_, pop_col) = util::pos_of(cd, "pop_35plus", 0);
    ws.write_number(199_999, pop_col, 5.0).unwrap();
    wb.save(d.path("in/big_rows.xlsx")).unwrap();

    // A 10,000-column header: the form's columns, then 9,990-odd labelled
    // columns that match nothing.
    let mut wb = util::return_book(
        "免疫",
        vac,
        "新民镇",
        Some("2026-02"),
        &[
            ("新村", vec![("hepb1_due", V::N(10.0))]),
            ("红旗村", vec![("hepb1_due", V::N(20.0))]),
        ],
        None,
    );
    let ws = wb.worksheet_from_index(0).unwrap();
    let start = util::FIRST_FIELD_COL + util::columns(vac).len() as u16;
    for c in start..10_000 {
        ws.write_string(3, c, format!("备用{c}")).unwrap();
    }
    wb.save(d.path("in/wide.xlsx")).unwrap();

    // One stray cell at the last cell of the sheet, XFD1048576.
    let mut wb = util::return_book(
        "家医",
        fd,
        "新民镇",
        Some("2026-03"),
        &[("新村", vec![("resident_pop", V::N(100.0))])],
        None,
    );
    let ws = wb.worksheet_from_index(0).unwrap();
    ws.write_string(1_048_575, 16_383, "x").unwrap();
    wb.save(d.path("in/stray_far.xlsx")).unwrap();
}

fn find<'a>(f: &'a [Row], rule: &str, file: &str) -> Vec<&'a Row> {
    f.iter()
        .filter(|x| x["rule"] == rule && x["file"].ends_with(file))
        .collect()
}

#[test]
fn hostile_files_are_findings_and_the_batch_goes_on() {
    let d = Dir::new();
    hostile_batch(&d);
    let out = util::run_in(&d, "consolidate", &["--export", "out", "-o", "r.xlsx"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let f = util::read_csv(&d.path("out/findings.csv"));

    // Each broken container: unreadable_file, with the reason.
    for (file, says) in [
        ("random.xlsx", "不是 Excel 工作簿"),
        ("random_zip.xlsx", "已损坏"),
        ("truncated.xlsx", "已损坏"),
        ("strings.xlsx", "xlsx 文件已损坏"),
        ("encrypted.xlsx", "密码"),
        ("far_column.xls", ".xls 文件已损坏"),
        ("html.xls", "网页（HTML）"),
        ("csv.xls", "CSV"),
    ] {
        let hits = find(&f, "unreadable_file", file);
        assert_eq!(hits.len(), 1, "{file}: {f:#?}");
        assert!(
            hits[0]["message"].contains(says),
            "{file}: {}",
            hits[0]["message"]
        );
        assert_eq!(hits[0]["severity"], "error");
    }

    // Cells: each at its own cell, with the value found.
    let fd = "family_doctor";
    let cell_finding = |rule: &str, field: &str, i: u32| {
        let cell = cell_of(fd, field, i);
        f.iter()
            .find(|x| {
                x["rule"] == rule
                    && x["file"].ends_with("cells.xlsx")
                    && x["sheet"] == "家医"
                    && x["cell"] == cell
                    && x["field"] == field
            })
            .unwrap_or_else(|| panic!("{rule} at {cell}: {f:#?}"))
            .clone()
    };
    assert_eq!(
        cell_finding("not_a_number", "resident_pop", 0)["value"],
        "#DIV/0!"
    );
    // The date as the sheet shows it, not its serial number (46054).
    assert!(cell_finding("not_a_number", "signed", 0)["message"].contains("日期（2026-02-01）"));
    assert_eq!(cell_finding("not_a_number", "key_pop", 0)["value"], "TRUE");
    // 1e308 as a person can read it, not 309 digits.
    let huge = cell_finding("not_a_number", "key_signed", 0);
    assert_eq!(huge["value"], "1e308");
    assert!(
        huge["message"].contains("为 1e308，不是合理的人数"),
        "{}",
        huge["message"]
    );
    assert_eq!(cell_finding("not_whole", "elderly_pop", 0)["value"], "12.5");
    let uncached = cell_finding("not_a_number", "signed", 1);
    // A formula's text is exported as text (FORMS.md §6).
    assert_eq!(uncached["value"], "'=SUM(D1:D2)");
    assert!(uncached["message"].contains("没有保存计算结果"));
    assert_eq!(cell_finding("not_a_number", "key_pop", 1)["value"], "#REF!");

    // No return in it: one warning for the workbook.
    for file in ["title_only.xlsx", "empty.xlsx"] {
        let hits: Vec<_> = f.iter().filter(|x| x["file"].ends_with(file)).collect();
        assert_eq!(hits.len(), 1, "{file}: {hits:#?}");
        assert_eq!(hits[0]["rule"], "no_return_found");
        assert_eq!(hits[0]["severity"], "warning");
    }
    // The second sheet named 慢病 is refused; the first is read.
    let dup = find(&f, "unreadable_file", "dupnames.xlsx");
    assert_eq!(dup.len(), 1, "{f:#?}");
    assert!(
        dup[0]["message"].contains("同名（慢病）"),
        "{}",
        dup[0]["message"]
    );
    // Odd Unicode still names registry units.
    assert!(
        !f.iter()
            .any(|x| x["file"].contains("免疫") && x["rule"] == "unknown_unit"),
        "{f:#?}"
    );
    // 200,000 rows: the stray figure without a name, at its row.
    let stray = find(&f, "unknown_unit", "big_rows.xlsx");
    assert_eq!(stray.len(), 1, "{f:#?}");
    assert_eq!(stray[0]["cell"], "B200000");
    // 10,000 columns: one unknown_column note for the return.
    assert_eq!(find(&f, "unknown_column", "wide.xlsx").len(), 1);
    // XFD1048576: the sheet is refused, naming the far cell.
    let far = find(&f, "unreadable_file", "stray_far.xlsx");
    assert_eq!(far.len(), 1, "{f:#?}");
    assert!(
        far[0]["message"].contains("XFD1048576"),
        "{}",
        far[0]["message"]
    );

    // What could be read is consolidated, to the person.
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let get =
        |p: &str, unit: &str, field: &str| a.get(&(p.into(), unit.into(), field.into())).copied();
    assert_eq!(get("2026-02", "439902101000", "signed"), Some(60.0));
    assert_eq!(get("2026-02", "439902101000", "resident_pop"), Some(150.0));
    // 城东街道's family-doctor return: 新村's cached formula value 120 and
    // 7 counted; 东门社区's bad cells are missing, never 0.
    assert_eq!(get("2026-02", "439902001002", "resident_pop"), Some(120.0));
    assert_eq!(get("2026-02", "439902001002", "key_signed"), Some(7.0));
    assert_eq!(get("2026-02", "439902001001", "resident_pop"), None);
    assert_eq!(get("2026-02", "439902001001", "key_signed"), None);
    assert_eq!(get("2026-02", "439902001000", "resident_pop"), Some(120.0));
    assert_eq!(get("2026-02", "439902001001", "pop_35plus"), Some(300.0));
    assert_eq!(get("2026-02", "439902001001", "hepb1_due"), Some(10.0));
    assert_eq!(get("2026-02", "439902001002", "hepb1_due"), Some(20.0));
    assert_eq!(get("2026-02", "439902101000", "pop_35plus"), Some(1500.0));
    assert_eq!(get("2026-02", "439902101000", "hepb1_due"), Some(30.0));
    assert_eq!(get("2026-03", "439902101000", "resident_pop"), None);
    assert!(d.path("r.xlsx").exists());
}

/// Every return of the sample corpus, mutated: bytes flipped, runs zeroed,
/// the file cut short, each written under `in/` (~600 files).
fn mutants(d: &Dir) {
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/returns/2026-01");
    let mut files: Vec<_> = std::fs::read_dir(&sample)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut n = 0;
    for (k, path) in files.iter().enumerate() {
        let bytes = std::fs::read(path).unwrap();
        let ext = path.extension().unwrap().to_str().unwrap();
        for m in 0..40u64 {
            let mut b = bytes.clone();
            let r = noise(k as u64 * 1000 + m + 1, 64);
            let len = b.len();
            let at = |i: usize| {
                (usize::from(r[i]) << 16 | usize::from(r[i + 1]) << 8 | usize::from(r[i + 2])) % len
            };
            match m % 4 {
                0 => {
                    for i in 0..8 {
                        let p = at(i * 3);
                        b[p] ^= r[40 + i] | 1;
                    }
                }
                1 => {
                    let p = at(0);
                    let end = (p + 64).min(b.len());
                    b[p..end].fill(0);
                }
                2 => b.truncate(at(0)),
                _ => {
                    let p = at(0);
                    let q = at(3);
                    b.swap(p, q);
                    b[at(6)] = r[50];
                }
            }
            std::fs::write(d.path(&format!("in/m{k:02}_{m:02}.{ext}")), &b).unwrap();
            n += 1;
        }
    }
    assert!(n >= 400, "{n} mutants");
}

/// `check` over the mutants, with a bug planted in phstats at `plant`.
fn check_mutants(d: &Dir, plant: Option<&str>) -> std::process::Output {
    let units = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/units.csv");
    let mut cmd = assert_cmd::Command::cargo_bin("phstats").unwrap();
    cmd.current_dir(d.tmp.path()).args([
        "check",
        "in",
        "--units",
        units.to_str().unwrap(),
        "--period",
        "2026-01",
        "--export",
        "out",
    ]);
    if let Some(site) = plant {
        cmd.env("PHSTATS_PLANT_PANIC", site);
    }
    cmd.output().unwrap()
}

/// What the fuzz run asserts: the run ended as a run ends (0 or 1), with
/// every mutant accounted for in `findings.csv`, and no sign of a crash.
fn crashed(d: &Dir, out: &std::process::Output) -> Option<String> {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !matches!(out.status.code(), Some(0 | 1))
        || stderr.contains("panicked")
        || stderr.contains("内部错误")
        || !d.path("out/findings.csv").exists()
    {
        return Some(format!("exit {:?}: {stderr}", out.status.code()));
    }
    None
}

/// A substitute for a cargo-fuzz target (which needs a nightly toolchain
/// this machine cannot fetch): ~600 mutants through the whole pipeline,
/// and not one may crash it. Only calamine's own panics on a file's bytes
/// are that file's `unreadable_file`; a panic of phstats' code ends the
/// run with exit 101, which fails this test (see the planted one below).
#[test]
fn mutated_returns_never_crash() {
    let d = Dir::new();
    mutants(&d);
    let out = check_mutants(&d, None);
    if let Some(why) = crashed(&d, &out) {
        panic!("{why}");
    }
}

/// The fuzz run can fail: a bug planted in `rows.rs` (debug builds read
/// `PHSTATS_PLANT_PANIC`) is not excused as a damaged workbook, it is an
/// internal error, in Chinese, naming the file, exit 101.
#[cfg(debug_assertions)]
#[test]
fn a_bug_in_phstats_fails_the_fuzz_run_and_is_never_blamed_on_a_return() {
    let d = Dir::new();
    mutants(&d);
    let out = check_mutants(&d, Some("rows"));
    assert!(
        crashed(&d, &out).is_some(),
        "the planted panic went unnoticed"
    );
    assert_eq!(out.status.code(), Some(101));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("内部错误：phstats 程序自身出错"),
        "{stderr}"
    );
    assert!(stderr.contains("这不是报表的问题"), "{stderr}");
    assert!(stderr.contains("出错时正在读取 in/m"), "{stderr}");
    assert!(stderr.contains("ingest/rows.rs"), "{stderr}");
    assert!(!stderr.contains("工作簿结构已损坏"), "{stderr}");
    // Only the message: no Rust panic banner.
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// FORMS.md §6: what a township typed as a formula, a file named like one
/// and a registry name beginning with `@` reach the CSV exports as text
/// (a leading `'`), never as something a spreadsheet evaluates.
#[test]
fn no_exported_field_can_be_evaluated_as_a_formula() {
    let d = Dir::new();
    let units = util::UNITS
        .replace("红旗村,village", "@红旗村,village")
        .replace(
            "新民镇,township,439902000000,新民镇卫生院",
            "-新民镇,township,439902000000,新民镇卫生院|新民镇",
        );
    std::fs::write(d.path("units.csv"), units).unwrap();
    let fd = "family_doctor";
    util::write_return(
        &d.path("=HYPERLINK(1).xlsx"),
        fd,
        "新民镇",
        Some("2026-02"),
        &[
            (
                "新村",
                vec![
                    ("resident_pop", V::N(100.0)),
                    ("signed", V::T("=cmd|' /C calc'!A0")),
                    ("key_pop", V::T("+1+1")),
                    ("key_signed", V::N(-5.0)),
                ],
            ),
            (
                "@红旗村",
                vec![("resident_pop", V::N(50.0)), ("signed", V::T("@SUM(1)"))],
            ),
            (
                "=HYPERLINK(\"http://x\",\"click\")",
                vec![("resident_pop", V::N(10.0))],
            ),
        ],
        None,
    );
    // The file given on the command line, so its name is the `file` column.
    let out = util::phstats(
        d.tmp.path(),
        &[
            "consolidate",
            "=HYPERLINK(1).xlsx",
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
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut texts = 0;
    for name in ["findings.csv", "aggregates.csv", "indicators.csv"] {
        let rows = util::read_csv(&d.path(&format!("out/{name}")));
        assert!(!rows.is_empty(), "{name}");
        for row in &rows {
            for (col, v) in row {
                let number = v.parse::<f64>().is_ok_and(f64::is_finite);
                assert!(
                    number || !v.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{name} {col}: {v:?}"
                );
                texts += usize::from(v.starts_with('\''));
            }
        }
    }
    // Each risky text is there, as text, where it belongs.
    let f = util::read_csv(&d.path("out/findings.csv"));
    let has = |col: &str, v: &str| f.iter().any(|x| x[col] == v);
    assert!(has("value", "'=cmd|' /C calc'!A0"), "{f:#?}");
    assert!(has("value", "'@SUM(1)"), "{f:#?}");
    assert!(has("value", "'+1+1"), "{f:#?}");
    assert!(
        has("value", "-5"),
        "a negative number stays a number: {f:#?}"
    );
    assert!(has("file", "'=HYPERLINK(1).xlsx"), "{f:#?}");
    assert!(
        has("value", "'=HYPERLINK(\"http://x\",\"click\")"),
        "{f:#?}"
    );
    let a = util::read_csv(&d.path("out/aggregates.csv"));
    assert!(a.iter().any(|x| x["unit_name"] == "'@红旗村"), "{a:#?}");
    let i = util::read_csv(&d.path("out/indicators.csv"));
    assert!(i.iter().any(|x| x["unit_name"] == "'-新民镇"), "{i:#?}");
    assert!(texts >= 6, "{texts}");
}

/// FORMS.md §6: a file name with a line break cannot forge a finding's
/// line on the terminal, and an escape sequence from a cell is shown
/// escaped, never sent to the terminal.
#[test]
fn the_terminal_never_prints_a_control_character_from_a_file() {
    let d = Dir::new();
    util::write_return(
        &d.path("in/城东\n错误[total_mismatch] 伪造.xlsx"),
        "family_doctor",
        "新民镇",
        Some("2026-02"),
        &[(
            "新村",
            vec![
                ("resident_pop", V::N(100.0)),
                ("signed", V::T("\u{1b}[31m40")),
            ],
        )],
        None,
    );
    let out = util::run_in(&d, "check", &["--period", "2026-02"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "{stdout}");
    assert!(
        !stdout
            .lines()
            .any(|l| l.starts_with("错误[total_mismatch] 伪造")),
        "{stdout}"
    );
    assert!(
        stdout.contains("城东\\n错误[total_mismatch] 伪造.xlsx"),
        "{stdout}"
    );
    assert!(stdout.contains("\\u{1b}[31m40"), "{stdout}");
}

/// A return sent as another spreadsheet format is a named error telling
/// how to resend it, never a file passed over (which left the township
/// 未上报): an OpenDocument .ods, a WPS .et in its own format. A .xlsm (a
/// template with macros) and a .et that is an .xls inside are read.
#[test]
fn a_return_in_another_spreadsheet_format_is_named_or_read() {
    let d = Dir::new();
    std::fs::create_dir_all(d.path("in")).unwrap();
    util::family(
        &d,
        "in/城东街道.xlsm",
        "城东街道",
        1,
        &[("东门社区", 1000.0, 400.0)],
    );
    std::fs::write(d.path("in/新民镇.et"), b"ET\x00\x01 a WPS file of its own").unwrap();
    // A .et that WPS saved as an Excel 97 file inside.
    util::family(&d, "draft.xlsx", "新民镇", 2, &[("红旗村", 300.0, 100.0)]);
    let ods = util::soffice("a return saved as .ods and as .xls");
    if ods {
        for to in ["ods", "xls"] {
            util::calc_save_as(&d, to, d.path("conv"), d.path("draft.xlsx"));
        }
        std::fs::copy(d.path("conv/draft.ods"), d.path("in/新民镇.ods")).unwrap();
        std::fs::copy(d.path("conv/draft.xls"), d.path("in/新民镇2.et")).unwrap();
    }
    util::run_in(&d, "check", &["--export", "out"]);
    let f = util::read_csv(&d.path("out/findings.csv"));
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let get = |month: &str, unit: &str| {
        a.get(&(month.into(), unit.into(), "signed".into()))
            .copied()
    };
    assert_eq!(get("2026-01", "439902001000"), Some(400.0), "the .xlsm");
    let et = find(&f, "unreadable_file", "新民镇.et");
    assert_eq!(et.len(), 1, "{f:#?}");
    assert!(
        et[0]["message"].contains("WPS 表格自有格式（.et）"),
        "{et:#?}"
    );
    assert!(et[0]["message"].contains("另存为 .xlsx"), "{et:#?}");
    if ods {
        let o = find(&f, "unreadable_file", "新民镇.ods");
        assert_eq!(o.len(), 1, "{f:#?}");
        assert!(
            o[0]["message"].contains("OpenDocument 表格（.ods）"),
            "{o:#?}"
        );
        assert_eq!(
            get("2026-02", "439902101000"),
            Some(100.0),
            "the .xls in a .et"
        );
    }
}

/// A zip made on a Chinese Windows and unpacked on Linux keeps its GBK
/// names: the folder and file given or found by those bytes are read (no
/// panic on an argument that is not UTF-8), their names shown as written
/// (城东街道.xlsx, not `���ǽֵ�.xlsx`), and the unit and month found in
/// them as in any name.
#[cfg(unix)]
#[test]
fn gbk_file_and_folder_names_are_read_as_written() {
    use std::os::unix::ffi::OsStrExt;
    let d = Dir::new();
    let gbk = |s: &str| encoding_rs::GBK.encode(s).0.into_owned();
    let folder = std::ffi::OsStr::from_bytes(&gbk("2026年1月")).to_owned();
    let dir = d.tmp.path().join("in").join(&folder);
    std::fs::create_dir_all(&dir).unwrap();
    // No 填报单位 and no 报告期 on the sheet: only the names say them.
    let draft = d.path("draft.xlsx");
    util::write_return(
        &draft,
        "vaccination",
        "",
        None,
        &[
            (
                "东门社区",
                vec![("hepb1_due", V::N(10.0)), ("hepb1_given", V::N(9.0))],
            ),
            (
                "新村",
                vec![("hepb1_due", V::N(5.0)), ("hepb1_given", V::N(5.0))],
            ),
            // A finding, so the file's name is shown.
            ("东们社区", vec![("hepb1_due", V::N(1.0))]),
        ],
        None,
    );
    std::fs::rename(
        &draft,
        dir.join(std::ffi::OsStr::from_bytes(&gbk("城东街道.xlsx"))),
    )
    .unwrap();
    for given in [
        std::ffi::OsString::from("in"),
        std::path::Path::new("in").join(&folder).into_os_string(),
    ] {
        let out = assert_cmd::Command::cargo_bin("phstats")
            .unwrap()
            .current_dir(d.tmp.path())
            .arg("check")
            .arg(&given)
            .args(["--units", "units.csv", "--export", "out"])
            .output()
            .unwrap();
        let said = util::text(&out);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{said}");
        assert!(said.contains("2026年1月/城东街道.xlsx"), "{said}");
        let a = util::aggregates(&d.path("out/aggregates.csv"));
        let got = a.get(&("2026-01".into(), "439902001000".into(), "hepb1_due".into()));
        assert_eq!(got, Some(&15.0), "{said}");
    }
}
