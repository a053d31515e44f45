//! Fixtures built in code: a small hand-made registry and returns written
//! with rust_xlsxwriter in the standard layout (title, 填报单位/报告期,
//! two-row merged header, one row per unit), plus helpers to run the binary
//! and read its CSV exports.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use rust_xlsxwriter::{Format, Workbook, Worksheet};

/// City 青山市 → 东湖区 → 城东街道 (东门社区, 新村) and 新民镇 (新村, 红旗村).
pub const UNITS: &str = "code,name,level,parent_code,aliases
439900000000,青山市,city,,
439902000000,东湖区,county,439900000000,
439902001000,城东街道,township,439902000000,城东街道社区卫生服务中心
439902001001,东门社区,village,439902001000,
439902001002,新村,village,439902001000,
439902101000,新民镇,township,439902000000,新民镇卫生院
439902101201,新村,village,439902101000,
439902101202,红旗村,village,439902101000,
";

/// A cell value in a fixture.
#[derive(Debug, Clone, Copy)]
pub enum V<'a> {
    /// A number.
    N(f64),
    /// Text as typed.
    T(&'a str),
}

/// One unit row: name and (field id, value) pairs; other cells stay empty.
pub type Row<'a> = (&'a str, Vec<(&'a str, V<'a>)>);

/// The return columns of a built-in form: (field id, group, label), from the
/// schema files, which FORMS.md §3 fixes and the schema unit tests check.
pub fn columns(form: &str) -> Vec<(String, Option<String>, String)> {
    let schemas = phstats::schema::Schemas::builtin().unwrap();
    let f = &schemas.forms[schemas.form_idx(form).unwrap() as usize];
    f.reported_fields()
        .map(|(_, fd)| (fd.id.to_string(), fd.group.clone(), fd.label.clone()))
        .collect()
}

/// First data row (0-based) of a fixture return; the 合计 row, when asked
/// for, is written last.
pub const FIRST_DATA_ROW: u32 = 4;
/// First figure column (0-based): A 序号, B 单位名称, then fields.
pub const FIRST_FIELD_COL: u16 = 2;

/// A1 name of a fixture cell: `field` of the `i`-th unit row.
pub fn cell_of(form: &str, field: &str, i: u32) -> String {
    let cols = columns(form);
    let k = cols.iter().position(|c| c.0 == field).unwrap();
    let col = phstats::findings::CellRef::col_name(u32::from(FIRST_FIELD_COL) + k as u32);
    format!("{col}{}", FIRST_DATA_ROW + i + 1)
}

/// 0-based (row, column) of `field` in the `i`-th unit row, as
/// rust_xlsxwriter addresses it.
pub fn pos_of(form: &str, field: &str, i: u32) -> (u32, u16) {
    let c = phstats::findings::CellRef::parse(&cell_of(form, field, i)).unwrap();
    (c.row, c.col as u16)
}

fn write_value(ws: &mut Worksheet, r: u32, c: u16, v: V<'_>) {
    match v {
        V::N(x) => ws.write_number(r, c, x).map(|_| ()).unwrap(),
        V::T(t) => ws.write_string(r, c, t).map(|_| ()).unwrap(),
    }
}

/// Writes one return sheet in the standard layout.
pub fn write_sheet(
    ws: &mut Worksheet,
    form: &str,
    unit: &str,
    period: Option<&str>,
    rows: &[Row<'_>],
    total: Option<&Row<'_>>,
) {
    let cols = columns(form);
    let head = Format::new().set_bold();
    ws.write_string(0, 0, format!("{form} 月报表")).unwrap();
    ws.write_string(1, 0, format!("填报单位：{unit}")).unwrap();
    if let Some(p) = period {
        ws.write_string(1, 5, format!("报告期：{p}")).unwrap();
    }
    ws.merge_range(2, 0, 3, 0, "序号", &head).unwrap();
    ws.merge_range(2, 1, 3, 1, "单位名称", &head).unwrap();
    let mut k = 0;
    while k < cols.len() {
        let c = FIRST_FIELD_COL + k as u16;
        match &cols[k].1 {
            None => {
                ws.merge_range(2, c, 3, c, &cols[k].2, &head).unwrap();
                k += 1;
            }
            Some(g) => {
                let mut j = k;
                while j + 1 < cols.len() && cols[j + 1].1.as_ref() == Some(g) {
                    j += 1;
                }
                if j > k {
                    ws.merge_range(2, c, 2, FIRST_FIELD_COL + j as u16, g, &head)
                        .unwrap();
                } else {
                    ws.write_string(2, c, g).unwrap();
                }
                for (n, col) in cols.iter().enumerate().take(j + 1).skip(k) {
                    ws.write_string(3, FIRST_FIELD_COL + n as u16, &col.2)
                        .unwrap();
                }
                k = j + 1;
            }
        }
    }
    let put = |ws: &mut Worksheet, r: u32, row: &Row<'_>| {
        ws.write_string(r, 1, row.0).unwrap();
        for (field, v) in &row.1 {
            let k = cols.iter().position(|c| c.0 == *field).unwrap();
            write_value(ws, r, FIRST_FIELD_COL + k as u16, *v);
        }
    };
    for (i, row) in rows.iter().enumerate() {
        let r = FIRST_DATA_ROW + i as u32;
        ws.write_number(r, 0, (i + 1) as f64).unwrap();
        put(ws, r, row);
    }
    if let Some(t) = total {
        put(ws, FIRST_DATA_ROW + rows.len() as u32, t);
    }
}

/// A one-sheet return workbook on a sheet named `sheet`, not yet saved, for
/// tests that alter it first (`wb.worksheet_from_index(0)`).
pub fn return_book(
    sheet: &str,
    form: &str,
    unit: &str,
    period: Option<&str>,
    rows: &[Row<'_>],
    total: Option<&Row<'_>>,
) -> Workbook {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).unwrap();
    write_sheet(ws, form, unit, period, rows, total);
    wb
}

/// Writes a one-sheet return workbook (its sheet named after the form).
pub fn write_return(
    path: &Path,
    form: &str,
    unit: &str,
    period: Option<&str>,
    rows: &[Row<'_>],
    total: Option<&Row<'_>>,
) {
    return_book(form, form, unit, period, rows, total)
        .save(path)
        .unwrap();
}

/// A family-doctor return of `unit` for `month` of 2026: (village, residents,
/// signed) rows, the other cells empty.
/// 城东街道's January family-doctor return as a workbook of a sheet a
/// village, each `(village, residents, signed)` its fields as rows under
/// the township's 填报单位 (5 services each).
pub fn family_a_sheet_a_village(villages: &[(&str, f64, f64)]) -> Workbook {
    let mut wb = Workbook::new();
    for &(name, residents, signed) in villages {
        let ws = wb.add_worksheet();
        ws.set_name(name).unwrap();
        ws.write(0, 0, "家庭医生签约服务情况月报表").unwrap();
        ws.write(1, 0, "填报单位：城东街道").unwrap();
        ws.write(1, 2, "报告期：2026年1月").unwrap();
        ws.write(2, 0, "指标").unwrap();
        ws.write(2, 1, "数值").unwrap();
        for (r, (label, v)) in [
            ("常住人口数", residents),
            ("签约人数", signed),
            ("本月履约服务人次", 5.0),
        ]
        .iter()
        .enumerate()
        {
            ws.write(3 + r as u32, 0, *label).unwrap();
            ws.write(3 + r as u32, 1, *v).unwrap();
        }
    }
    wb
}

pub fn family(d: &Dir, file: &str, unit: &str, month: u32, rows: &[(&str, f64, f64)]) {
    let rows: Vec<Row<'_>> = rows
        .iter()
        .map(|(name, pop, signed)| {
            (
                *name,
                vec![("resident_pop", V::N(*pop)), ("signed", V::N(*signed))],
            )
        })
        .collect();
    write_family(d, file, unit, month, &rows);
}

/// [`family`] with each row's 本月履约服务人次 too: (village, residents,
/// signed, services) — two stocks and a flow.
pub fn family_services(
    d: &Dir,
    file: &str,
    unit: &str,
    month: u32,
    rows: &[(&str, f64, f64, f64)],
) {
    let rows: Vec<Row<'_>> = rows
        .iter()
        .map(|&(name, pop, signed, services)| {
            (
                name,
                vec![
                    ("resident_pop", V::N(pop)),
                    ("signed", V::N(signed)),
                    ("services", V::N(services)),
                ],
            )
        })
        .collect();
    write_family(d, file, unit, month, &rows);
}

/// A family-doctor return of `unit` for `month` of 2026 with `rows`.
fn write_family(d: &Dir, file: &str, unit: &str, month: u32, rows: &[Row<'_>]) {
    write_return(
        &d.path(file),
        "family_doctor",
        unit,
        Some(&format!("2026年{month}月")),
        rows,
        None,
    );
}

/// What a command printed, stdout then stderr.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `o`, once it is known that the command ran (exit 0, or 1 for findings):
/// what it printed otherwise fails the test.
pub fn ran(o: Output) -> Output {
    assert!(o.status.code().is_some_and(|c| c < 2), "{}", text(&o));
    o
}

/// A temporary working directory with the hand registry in `units.csv`.
pub struct Dir {
    /// The directory.
    pub tmp: tempfile::TempDir,
}

impl Dir {
    /// A new directory holding `units.csv`.
    pub fn new() -> Dir {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("units.csv"), UNITS).unwrap();
        Dir { tmp }
    }

    /// A path inside it.
    pub fn path(&self, rel: &str) -> PathBuf {
        let p = self.tmp.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        p
    }
}

/// Runs the phstats binary with `args` in `cwd`.
pub fn phstats(cwd: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("phstats")
        .unwrap()
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap()
}

/// Runs `phstats <cmd> in --units units.csv <extra…>` in the fixture
/// directory: the returns under `in/`, the hand registry.
pub fn run_in(d: &Dir, cmd: &str, extra: &[&str]) -> Output {
    let mut args = vec![cmd, "in", "--units", "units.csv"];
    args.extend_from_slice(extra);
    phstats(d.tmp.path(), &args)
}

/// Every file below `dir`, at any depth.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The committed sample (`sample-data/`).
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data")
}

/// Runs `phstats <cmd> <sample>/returns --units <sample>/units.csv
/// <extra…>` in `d`, once it is known that it ran ([`ran`]).
pub fn on_sample(d: &Dir, cmd: &str, extra: &[&str]) -> Output {
    let (returns, units) = (sample_dir().join("returns"), sample_dir().join("units.csv"));
    let mut args = vec![
        cmd,
        returns.to_str().unwrap(),
        "--units",
        units.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ran(phstats(d.tmp.path(), &args))
}

/// Ingests the sample's returns of `month` (`2026-01`) into the store `db`
/// in `d`, quietly, with `extra…`, once it is known that it ran.
pub fn ingest_sample_month(d: &Dir, month: &str, extra: &[&str]) -> Output {
    let (returns, units) = (
        sample_dir().join("returns").join(month),
        sample_dir().join("units.csv"),
    );
    let mut args = vec![
        "ingest",
        returns.to_str().unwrap(),
        "--units",
        units.to_str().unwrap(),
        "--store",
        "db",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    ran(phstats(d.tmp.path(), &args))
}

/// Reads a CSV export into rows of header → value.
pub fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// `aggregates.csv` as (period, unit_code, field) → value.
pub fn aggregates(path: &Path) -> HashMap<(String, String, String), f64> {
    read_csv(path)
        .into_iter()
        .map(|r| {
            (
                (
                    r["period"].clone(),
                    r["unit_code"].clone(),
                    r["field"].clone(),
                ),
                r["value"].parse().unwrap(),
            )
        })
        .collect()
}

/// Whether `program` answers `--version`, for the check `what` that needs
/// it. Where `PHSTATS_REQUIRE_SOFFICE=1` (`.ci/run` sets it, after installing
/// LibreOffice and Chromium) a missing one fails the test, saying how to
/// install it (`install`); elsewhere the check is skipped, and the test says
/// it was.
fn required(program: &str, name: &str, install: &str, what: &str) -> bool {
    // poppler's tools know only -v.
    let flag = if program.starts_with("pdf") {
        "-v"
    } else {
        "--version"
    };
    let installed = std::process::Command::new(program)
        .arg(flag)
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        assert!(
            std::env::var("PHSTATS_REQUIRE_SOFFICE").as_deref() != Ok("1"),
            "{name} is required (PHSTATS_REQUIRE_SOFFICE=1) for {what}, and it is not installed: {install}"
        );
        eprintln!("skipped: {what} ({name} is not installed)");
    }
    installed
}

/// Whether LibreOffice is installed, for the check `what` that needs it.
pub fn soffice(what: &str) -> bool {
    required(
        "soffice",
        "LibreOffice (soffice)",
        "apt-get install libreoffice-calc-nogui libreoffice-writer-nogui",
        what,
    )
}

/// Whether poppler's pdftotext is installed, for the check `what`.
pub fn pdftotext(what: &str) -> bool {
    required(
        "pdftotext",
        "pdftotext",
        "apt-get install poppler-utils",
        what,
    )
}

/// Whether headless Chromium is installed, for the check `what`.
pub fn chromium(what: &str) -> bool {
    required("chromium", "Chromium", "apt-get install chromium", what)
}

/// Headless Chromium with a profile of its own under the test's directory.
pub fn chromium_cmd(dir: &Dir) -> std::process::Command {
    let mut cmd = std::process::Command::new("chromium");
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!(
        "--user-data-dir={}",
        dir.path("chromium-profile").display()
    ));
    cmd
}

/// Rewrites entries of an xlsx (a zip) through `edit(name, text)`.
pub fn patch_xlsx(path: &std::path::Path, edit: impl Fn(&str, String) -> String) {
    use std::io::{Read, Write};
    let bytes = std::fs::read(path).unwrap();
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..zin.len() {
        let mut entry = zin.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        out.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(edit(&name, text).as_bytes()).unwrap();
    }
    std::fs::write(path, out.finish().unwrap().into_inner()).unwrap();
}

/// The first worksheet's XML of an xlsx.
pub fn sheet_xml(path: &Path) -> String {
    use std::io::Read;
    let bytes = std::fs::read(path).unwrap();
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    zin.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// `soffice` with a profile of its own under the test's directory (so it
/// goes away with it): LibreOffice instances sharing one user profile
/// refuse to run side by side, and the tests run in parallel.
pub fn soffice_cmd(dir: &Dir) -> std::process::Command {
    let profile = dir.path("lo-profile");
    let mut cmd = std::process::Command::new("soffice");
    cmd.arg(format!(
        "-env:UserInstallation=file://{}",
        profile.display()
    ));
    cmd
}

/// Saves `file` as `to` (`xls`, `xlsx`, `ods`) into `outdir` with LibreOffice
/// Calc, headless, as an office would; the run must succeed.
pub fn calc_save_as(dir: &Dir, to: &str, outdir: impl AsRef<Path>, file: impl AsRef<Path>) {
    let out = soffice_cmd(dir)
        .args(["--headless", "--calc", "--convert-to", to, "--outdir"])
        .arg(outdir.as_ref())
        .arg(file.as_ref())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

/// Generates a corpus with the project's generator under `corpus/` of the
/// fixture directory: `townships` × `months`, with gaps if asked, from `seed`.
pub fn corpus(d: &Dir, townships: u32, months: u32, gaps: bool, seed: u64) {
    let (t, m, s) = (townships.to_string(), months.to_string(), seed.to_string());
    let mut args = vec![
        "sample-data",
        "corpus",
        "--townships",
        &t,
        "--months",
        &m,
        "--seed",
        &s,
    ];
    if gaps {
        args.push("--gaps");
    }
    let out = phstats(d.tmp.path(), &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The generated corpus's first `months` months (see [`corpus`]), each
/// ingested in turn into the store `store` of the fixture directory.
pub fn ingest_corpus(d: &Dir, months: u32, store: &str) {
    for m in 1..=months {
        let dir = d.path(&format!("corpus/returns/2026-{m:02}"));
        let out = phstats(
            d.tmp.path(),
            &[
                "ingest",
                dir.to_str().unwrap(),
                "--units",
                "corpus/units.csv",
                "--store",
                store,
                "-q",
            ],
        );
        assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    }
}

/// One PDF page as pdftotext -bbox reads it: its width and its words
/// (xMin, yMin, xMax, yMax, text).
pub struct PdfPage {
    pub width: f64,
    pub words: Vec<(f64, f64, f64, f64, String)>,
}

impl PdfPage {
    pub fn text(&self) -> String {
        self.words.iter().map(|w| w.4.as_str()).collect()
    }

    /// The median height of its words that are only digits: figures of
    /// the tables' 10 points, whatever scale they print at.
    pub fn digit_height(&self) -> Option<f64> {
        let mut h: Vec<f64> = self
            .words
            .iter()
            .filter(|w| !w.4.is_empty() && w.4.chars().all(|c| c.is_ascii_digit() || c == '.'))
            .map(|w| w.3 - w.1)
            .collect();
        h.sort_by(f64::total_cmp);
        (!h.is_empty()).then(|| h[h.len() / 2])
    }
}

/// A PDF's pages, by pdftotext -bbox.
pub fn pdf_pages(d: &Dir, pdf: &std::path::Path) -> Vec<PdfPage> {
    let html = d.path("bbox.html");
    let out = std::process::Command::new("pdftotext")
        .arg("-bbox")
        .arg(pdf)
        .arg(&html)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&html).unwrap();
    let attr = |tag: &str, name: &str| -> f64 {
        let k = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        tag[k..k + tag[k..].find('"').unwrap()].parse().unwrap()
    };
    text.split("<page ")
        .skip(1)
        .map(|page| PdfPage {
            width: attr(page, "width"),
            words: page
                .split("<word ")
                .skip(1)
                .map(|w| {
                    let (tag, rest) = w.split_once('>').unwrap();
                    let word = rest.split('<').next().unwrap().to_string();
                    (
                        attr(tag, "xMin"),
                        attr(tag, "yMin"),
                        attr(tag, "xMax"),
                        attr(tag, "yMax"),
                        word,
                    )
                })
                .collect(),
        })
        .collect()
}

/// A workbook converted to PDF by LibreOffice, under `pdf/`.
pub fn to_pdf(d: &Dir, book: &str) -> std::path::PathBuf {
    let out = soffice_cmd(d)
        .current_dir(d.tmp.path())
        .args(["--headless", "--convert-to", "pdf", "--outdir", "pdf", book])
        .output()
        .unwrap();
    let stem = std::path::Path::new(book)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let pdf = d.path(&format!("pdf/{stem}.pdf"));
    assert!(
        out.status.success() && pdf.exists(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    pdf
}

/// The height of 10-point figures printed at 100 %, as [`PdfPage::digit_height`]
/// measures them: the reference a printed page's scale is judged against.
pub fn full_size_figures(d: &Dir) -> f64 {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let ten = rust_xlsxwriter::Format::new().set_font_size(10);
    for r in 0..20 {
        for c in 0..5 {
            ws.write_number_with_format(r, c, f64::from(r * 37 + u32::from(c)), &ten)
                .unwrap();
        }
    }
    wb.save(d.path("reference.xlsx")).unwrap();
    pdf_pages(d, &to_pdf(d, "reference.xlsx"))[0]
        .digit_height()
        .unwrap()
}

/// `book` (relative to `d`) printed by LibreOffice (issue 29): no word runs
/// past the paper's edge and no page prints its figures under 55 % of their
/// size. Returns the pages for what else a test looks for.
pub fn prints_readably(d: &Dir, book: &str) -> Vec<PdfPage> {
    let full = full_size_figures(d);
    let pages = pdf_pages(d, &to_pdf(d, book));
    for (k, p) in pages.iter().enumerate() {
        let right = p.words.iter().map(|w| w.2).fold(0.0, f64::max);
        assert!(
            right <= p.width - 14.0,
            "{book} page {}: a word ends at {right:.0} of {:.0} points: {}",
            k + 1,
            p.width,
            p.text()
        );
        if let Some(h) = p.digit_height() {
            assert!(
                h / full >= 0.55,
                "{book} page {} prints at {:.0} %: {}",
                k + 1,
                100.0 * h / full,
                p.text()
            );
        }
    }
    pages
}

/// Every cell of an xlsx as a person sees it, by `sheet!A1`: its value
/// (a shared string read from the table) and its look, each of the style's
/// parts read from `styles.xml` (number format, font, fill, border,
/// alignment) rather than its number there, which may differ between two
/// builds of the same workbook.
pub fn cell_looks(path: &Path) -> std::collections::BTreeMap<String, String> {
    use std::io::Read;
    let bytes = std::fs::read(path).unwrap();
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        if let Ok(mut e) = zin.by_name(name) {
            e.read_to_string(&mut s).unwrap();
        }
        s
    };
    let (workbook, styles, strings) = (
        read("xl/workbook.xml"),
        read("xl/styles.xml"),
        read("xl/sharedStrings.xml"),
    );
    let attr = |tag: &str, name: &str| -> Option<String> {
        let tag = format!(" {tag}");
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(tag[at..at + tag[at..].find('"')?].to_string())
    };
    let inside = |text: &str, tag: &str| -> String {
        text.split(&format!("<{tag}"))
            .nth(1)
            .and_then(|t| t.split(&format!("</{tag}>")).next())
            .unwrap_or("")
            .to_string()
    };
    // Each entry of a list (`<fonts>`'s `<font>`s…), whole.
    let entries = |list: &str, tag: &str| -> Vec<String> {
        inside(&styles, list)
            .split(&format!("<{tag}"))
            .skip(1)
            .map(|e| e.split(&format!("</{tag}>")).next().unwrap().to_string())
            .collect()
    };
    let (fonts, fills, borders) = (
        entries("fonts", "font"),
        entries("fills", "fill"),
        entries("borders", "border"),
    );
    let num_formats: HashMap<String, String> = inside(&styles, "numFmts")
        .split("<numFmt ")
        .skip(1)
        .filter_map(|t| Some((attr(t, "numFmtId")?, attr(t, "formatCode")?)))
        .collect();
    let xfs: Vec<String> = entries("cellXfs", "xf")
        .iter()
        .map(|x| {
            let pick = |list: &[String], a: &str| {
                attr(x, a)
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| list.get(i).cloned())
                    .unwrap_or_default()
            };
            let nf = attr(x, "numFmtId").unwrap_or_default();
            let alignment = x
                .split("<alignment")
                .nth(1)
                .map(|a| a.split("/>").next().unwrap().to_string())
                .unwrap_or_default();
            format!(
                "{}|{}|{}|{}|{alignment}",
                num_formats.get(&nf).unwrap_or(&nf),
                pick(&fonts, "fontId"),
                pick(&fills, "fillId"),
                pick(&borders, "borderId"),
            )
        })
        .collect();
    let shared: Vec<String> = strings
        .split("<si>")
        .skip(1)
        .map(|si| {
            si.split("<t")
                .skip(1)
                .filter_map(|t| Some(t.split_once('>')?.1.split("</t>").next()?.to_string()))
                .collect()
        })
        .collect();
    let mut out = std::collections::BTreeMap::new();
    for (k, sheet) in workbook.split("<sheet ").skip(1).enumerate() {
        let name = attr(sheet, "name").unwrap();
        let xml = read(&format!("xl/worksheets/sheet{}.xml", k + 1));
        for c in xml.split("<c ").skip(1) {
            let (head, body) = c.split_once('>').unwrap();
            let body = if head.ends_with('/') { "" } else { body };
            let value = body
                .split("<v>")
                .nth(1)
                .and_then(|v| v.split("</v>").next())
                .unwrap_or("");
            let value = match attr(head, "t").as_deref() {
                Some("s") => shared[value.parse::<usize>().unwrap()].clone(),
                _ => value.to_string(),
            };
            let style = attr(head, "s")
                .and_then(|s| s.parse::<usize>().ok())
                .map_or_else(String::new, |s| xfs[s].clone());
            out.insert(
                format!("{name}!{}", attr(head, "r").unwrap()),
                format!("{value}|{style}"),
            );
        }
    }
    out
}
