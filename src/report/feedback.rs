//! Feedback workbooks (退回修改): for each reporting unit whose returns have
//! errors or warnings, one workbook the statistician sends back. It opens on
//! a 问题清单 list (every problem, its cell linked), followed by the unit's
//! submitted sheets reproduced as they were read, each offending cell
//! filled red (error) or yellow (warning) and carrying a note with the
//! problem and the fix.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use calamine::Data;
use rust_xlsxwriter::{Color, Format, FormatBorder, Note, Workbook, Worksheet, XlsxError};

use super::{write_atomic, ReportError};
use crate::findings::{CellRef, Finding, Severity};
use crate::ingest::workbook::Sheet;
use crate::message::{month_label, Lang};
use crate::observation::{Batch, FileIdx, KeptSheet};
use crate::period::{Month, Period};
use crate::registry::{Level, Registry, UnitIdx};
use crate::schema::Schemas;

/// What feedback is built from.
pub struct FeedbackInput<'a> {
    /// What was read, with every sheet kept as read (never reopened: a
    /// file changed since must not be reproduced wrongly).
    pub batch: &'a Batch,
    /// Every finding.
    pub findings: &'a [Finding],
    /// Units.
    pub registry: &'a Registry,
    /// Forms (field labels).
    pub schemas: &'a Schemas,
    /// The months this run reports: their earlier feedback workbooks in the
    /// folder are replaced.
    pub months: Vec<Month>,
    /// The language of the workbooks (Chinese unless `--lang en`).
    pub lang: Lang,
    /// When they were made, as the header shows it (Beijing time).
    pub generated_at: &'a str,
    /// By when the corrected return is due (`--deadline`), as given.
    pub deadline: Option<&'a str>,
    /// Whom to ask (`--contact`: a name and a telephone number).
    pub contact: Option<&'a str>,
}

/// Who a feedback workbook goes to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Recipient {
    /// A reporting unit of the registry.
    Unit(UnitIdx),
    /// A file whose sender is unknown (unreadable, or no 填报单位).
    File(FileIdx),
}

/// Batch file names (as findings give them) → file index, which is also the
/// index of the file's input.
type FileIndex<'a> = HashMap<&'a str, FileIdx>;

/// Groups the error and warning findings by the unit that must act on them.
fn recipients<'a>(
    input: &FeedbackInput<'a>,
    file_idx: &FileIndex<'_>,
) -> BTreeMap<(Recipient, Option<Month>), Vec<&'a Finding>> {
    let mut sender: HashMap<FileIdx, UnitIdx> = HashMap::new();
    for r in &input.batch.returns {
        sender.entry(r.file).or_insert(r.unit);
    }
    let mut out: BTreeMap<(Recipient, Option<Month>), Vec<&'a Finding>> = BTreeMap::new();
    for f in input.findings {
        if f.severity() == Severity::Info {
            continue;
        }
        // A workbook holding no return at all (a contact list sent by
        // mistake) is noted in the report, not returned for correction.
        let file = f.file.as_deref().and_then(|n| file_idx.get(n));
        if f.rule == crate::findings::Rule::NoReturnFound
            && file.is_some_and(|fi| !sender.contains_key(fi))
        {
            continue;
        }
        let who = match f.file.as_deref().and_then(|n| file_idx.get(n)) {
            Some(&fi) => match sender.get(&fi) {
                Some(&u) => Recipient::Unit(u),
                None => Recipient::File(fi),
            },
            // A finding about a unit rather than a file (missing_return).
            None => match f.unit_code.and_then(|c| input.registry.by_code(c)) {
                Some(u) if input.registry.unit(u).level != Level::Village => Recipient::Unit(u),
                _ => continue,
            },
        };
        let month = f.period.and_then(|p| match p {
            Period::Month(m) => Some(m),
            _ => None,
        });
        out.entry((who, month)).or_default().push(f);
    }
    out
}

/// Writes one feedback workbook per recipient into `dir`, atomically, and
/// returns their paths.
///
/// # Errors
/// The directory cannot be created or a workbook cannot be written.
pub fn write_feedback(dir: &Path, input: &FeedbackInput<'_>) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(ReportError::from_io(dir))?;
    let file_idx: FileIndex<'_> = input
        .batch
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_str(), i as FileIdx))
        .collect();
    let mut written = Vec::new();
    let mut used_names: Vec<String> = Vec::new();
    for ((who, month), findings) in recipients(input, &file_idx) {
        let mut base = match who {
            Recipient::Unit(u) => input.registry.unit(u).name.clone(),
            Recipient::File(fi) => Path::new(&input.batch.files[fi as usize])
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("file")
                .to_string(),
        };
        // One workbook per unit and month: 白马街道_2026年5月_退回修改.xlsx.
        if let Some(m) = month {
            base = format!("{base}_{}", month_zh(m));
        }
        let mut name = format!("{}{SUFFIX}", safe_file_name(&base));
        let mut n = 2;
        while used_names.contains(&name) {
            name = format!("{}_{n}{SUFFIX}", safe_file_name(&base));
            n += 1;
        }
        used_names.push(name.clone());
        let title = match who {
            Recipient::Unit(u) => input.registry.unit(u).name.clone(),
            Recipient::File(fi) => input.batch.files[fi as usize].clone(),
        };
        let period = month.map(|m| month_label(m, input.lang));
        let bytes = feedback_workbook(&title, period.as_deref(), &findings, input)
            .map_err(|e| ReportError::Xlsx(e.to_string()))?;
        let path = dir.join(name);
        write_atomic(&path, &bytes)?;
        written.push(path);
    }
    remove_stale(dir, &input.months, &used_names);
    Ok(written)
}

/// Every feedback workbook's name ends so.
const SUFFIX: &str = "_退回修改.xlsx";

/// `2026年5月`: file names are Chinese whatever the language.
fn month_zh(m: Month) -> String {
    month_label(m, Lang::Zh)
}

/// Removes the feedback workbooks an earlier run wrote for `months` that
/// this run did not write again (the unit has fixed its return); every
/// other file in the folder stays.
fn remove_stale(dir: &Path, months: &[Month], written: &[String]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let endings: Vec<String> = months
        .iter()
        .map(|&m| format!("_{}{SUFFIX}", month_zh(m)))
        .collect();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if written.iter().any(|w| w == name) {
            continue;
        }
        let ours = endings.iter().any(|e| {
            name.strip_suffix(e.as_str())
                .is_some_and(|stem| !stem.is_empty())
        });
        if ours {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn safe_file_name(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect()
}

/// A worksheet name Excel accepts (≤ 31 characters, none of `[]:*?/\`),
/// unique in the workbook.
fn sheet_name(wanted: &str, taken: &mut Vec<String>) -> String {
    let clean: String = wanted
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let clean = clean.trim_matches('\'').to_string();
    let clean = if clean.is_empty() {
        "Sheet".into()
    } else {
        clean
    };
    let mut n = 1;
    loop {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!(" ({n})")
        };
        let keep = 31 - suffix.chars().count();
        let candidate: String = clean.chars().take(keep).collect::<String>() + &suffix;
        if !taken
            .iter()
            .any(|t| t.to_lowercase() == candidate.to_lowercase())
        {
            taken.push(candidate.clone());
            return candidate;
        }
        n += 1;
    }
}

struct Formats {
    title: Format,
    wrap: Format,
    header: Format,
    text: Format,
    error: Format,
    warning: Format,
    date: Format,
    link: Format,
    due: Format,
}

impl Formats {
    fn new() -> Formats {
        let body = Format::new()
            .set_font_size(10)
            .set_border(FormatBorder::Thin);
        Formats {
            title: Format::new()
                .set_bold()
                .set_font_size(14)
                .set_align(rust_xlsxwriter::FormatAlign::Center),
            wrap: Format::new()
                .set_font_size(10)
                .set_text_wrap()
                .set_align(rust_xlsxwriter::FormatAlign::VerticalCenter),
            header: body
                .clone()
                .set_bold()
                .set_text_wrap()
                .set_align(rust_xlsxwriter::FormatAlign::Center)
                .set_background_color(Color::RGB(0xD9E1F2)),
            text: body
                .clone()
                .set_text_wrap()
                .set_align(rust_xlsxwriter::FormatAlign::Top),
            error: Format::new().set_background_color(Color::RGB(0xFFC7CE)),
            warning: Format::new().set_background_color(Color::RGB(0xFFEB9C)),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            due: Format::new()
                .set_bold()
                .set_font_size(11)
                .set_font_color(Color::RGB(0xC00000))
                .set_align(rust_xlsxwriter::FormatAlign::VerticalCenter),
            link: body
                .set_align(rust_xlsxwriter::FormatAlign::Top)
                .set_font_color(Color::Blue)
                .set_underline(rust_xlsxwriter::FormatUnderline::Single),
        }
    }
}

/// A merged region: (first row, first col), (last row, last col).
type Region = ((u32, u32), (u32, u32));

/// Merged regions of a submitted sheet.
type Merged = Vec<Region>;

/// The most cells one merged region of a submitted sheet may span and be
/// merged again: the writer fills every cell of a merge, and a damaged or
/// hand-made file's `A200:XFD1048576` (17 billion cells) ran `check
/// --feedback` out of memory. A real return's widest merge is its title
/// (one row of a few dozen columns) or a group label down its rows.
const MAX_MERGE_CELLS: u64 = 10_000;

/// The most cells all the merges of one sheet may span.
const MAX_MERGED_CELLS: u64 = 100_000;

/// A real return has a few dozen merges; a file with thousands is not
/// reproduced merge by merge.
const MAX_MERGES: usize = 2_000;

/// The submitted merges that are reproduced: well formed (first cell
/// before last), each within [`MAX_MERGE_CELLS`], all within
/// [`MAX_MERGED_CELLS`] in the order the file lists them, and none where
/// the file has more than [`MAX_MERGES`]. The others are left unmerged:
/// their cells are still written as read.
fn reproducible(merged: &[Region]) -> Vec<Region> {
    if merged.len() > MAX_MERGES {
        return Vec::new();
    }
    let mut total = 0u64;
    merged
        .iter()
        .copied()
        .filter(|&((r1, c1), (r2, c2))| {
            if r2 < r1 || c2 < c1 {
                return false;
            }
            let area = u64::from(r2 - r1 + 1) * u64::from(c2 - c1 + 1);
            if area > MAX_MERGE_CELLS || total + area > MAX_MERGED_CELLS {
                return false;
            }
            total += area;
            true
        })
        .collect()
}

/// Where a submitted sheet was reproduced.
struct Copy {
    file: String,
    sheet: String,
    name: String,
}

fn feedback_workbook(
    title: &str,
    period: Option<&str>,
    findings: &[&Finding],
    input: &FeedbackInput<'_>,
) -> Result<Vec<u8>, XlsxError> {
    let lang = input.lang;
    let fmt = Formats::new();
    let mut wb = Workbook::new();
    let list_name = lang.pick("问题清单", "Problems");
    let mut taken = vec![list_name.to_string()];
    // The sheets to reproduce, in the order their findings come.
    let mut copies: Vec<Copy> = Vec::new();
    for f in findings {
        if let (Some(file), Some(sheet)) = (&f.file, &f.sheet) {
            if !copies.iter().any(|c| &c.file == file && &c.sheet == sheet) {
                copies.push(Copy {
                    file: file.clone(),
                    sheet: sheet.clone(),
                    name: String::new(),
                });
            }
        }
    }
    let list = wb.add_worksheet();
    list.set_name(list_name)?;
    let mut reproduced: Vec<(usize, &KeptSheet)> = Vec::new();
    for (i, c) in copies.iter_mut().enumerate() {
        let kept = input
            .batch
            .kept
            .iter()
            .find(|k| k.sheet == c.sheet && input.batch.files[k.file as usize] == c.file);
        let Some(kept) = kept else { continue };
        let stem = Path::new(&c.file)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("");
        let wanted = if copies_share_sheet_name(&c.sheet, findings) {
            format!("{} {stem}", c.sheet)
        } else {
            c.sheet.clone()
        };
        c.name = sheet_name(&wanted, &mut taken);
        reproduced.push((i, kept));
    }
    list_sheet(list, title, period, findings, &copies, input, &fmt)?;
    for (i, kept) in &reproduced {
        let c = &copies[*i];
        let ws = wb.add_worksheet();
        ws.set_name(&c.name)?;
        reproduce(ws, &kept.cells, &kept.merged, c, findings, input, &fmt)?;
    }
    wb.set_zip_compression_level(3);
    wb.save_to_buffer()
}

/// Whether two reproduced sheets (from different files) share a name, so
/// the file must be named too.
fn copies_share_sheet_name(sheet: &str, findings: &[&Finding]) -> bool {
    let mut files: Vec<&str> = findings
        .iter()
        .filter(|f| f.sheet.as_deref() == Some(sheet))
        .filter_map(|f| f.file.as_deref())
        .collect();
    files.sort_unstable();
    files.dedup();
    files.len() > 1
}

fn list_sheet(
    ws: &mut Worksheet,
    title: &str,
    period: Option<&str>,
    findings: &[&Finding],
    copies: &[Copy],
    input: &FeedbackInput<'_>,
    fmt: &Formats,
) -> Result<(), XlsxError> {
    let lang = input.lang;
    let errors = findings
        .iter()
        .filter(|f| f.severity() == Severity::Error)
        .count();
    let headers = match lang {
        Lang::Zh => [
            "序号",
            "级别",
            "规则",
            "报表",
            "报告期",
            "单位",
            "文件",
            "工作表",
            "单元格",
            "栏目",
            "填报值",
            "问题及修改建议",
        ],
        Lang::En => [
            "No.",
            "Level",
            "Rule",
            "Form",
            "Period",
            "Unit",
            "File",
            "Sheet",
            "Cell",
            "Column",
            "Value",
            "Problem and fix",
        ],
    };
    let last_col = headers.len() as u16 - 1;
    ws.merge_range(
        0,
        0,
        0,
        last_col,
        &match lang {
            Lang::Zh => format!("{title}报表审核问题清单（退回修改）"),
            Lang::En => format!("{title}: problems found in the returns (to correct and resend)"),
        },
        &fmt.title,
    )?;
    // The unit, the period and the date at the top, for the clerk who signs it.
    ws.merge_range(
        1,
        0,
        1,
        last_col,
        &match lang {
            Lang::Zh => format!(
                "填报单位：{title}　　报告期：{}　　生成日期：{}",
                period.unwrap_or("—"),
                input.generated_at
            ),
            Lang::En => format!(
                "Reporting unit: {title}    Period: {}    Made on: {}",
                period.unwrap_or("—"),
                input.generated_at
            ),
        },
        &fmt.wrap,
    )?;
    ws.merge_range(
        2,
        0,
        2,
        last_col,
        &match lang {
            Lang::Zh => format!(
                "共 {} 个问题：错误 {errors} 个须修改后重新报送，警告 {} 个请核实。“单元格”一列可点击，跳到所报工作表中标出的单元格（红色为错误，黄色为警告，批注写明问题和修改建议）。",
                findings.len(),
                findings.len() - errors
            ),
            Lang::En => format!(
                "{} problems: {errors} errors to correct before resending, {} warnings to check. The Cell column links to the marked cell of the submitted sheet (red: error, yellow: warning; its note gives the problem and the fix).",
                findings.len(),
                findings.len() - errors
            ),
        },
        &fmt.wrap,
    )?;
    ws.set_row_height(2, 30)?;
    // By when and to whom, at the top where the clerk looks first.
    let mut head = 3;
    if input.deadline.is_some() || input.contact.is_some() {
        let mut parts = Vec::new();
        if let Some(d) = input.deadline {
            parts.push(match lang {
                Lang::Zh => format!("请于{d}前修改后重新报送"),
                Lang::En => format!("Please correct and resend by {d}"),
            });
        }
        if let Some(c) = input.contact {
            parts.push(match lang {
                Lang::Zh => format!("联系人：{c}"),
                Lang::En => format!("Contact: {c}"),
            });
        }
        ws.merge_range(
            head,
            0,
            head,
            last_col,
            &parts.join(lang.pick("。　　", ".    ")),
            &fmt.due,
        )?;
        ws.set_row_height(head, 20)?;
        head += 1;
    }
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(head, c as u16, *h, &fmt.header)?;
    }
    // Sized to their content, the problem column widest and wrapped: one
    // A4 landscape page wide.
    const WIDTHS: [f64; 12] = [
        4.5, 5.0, 14.0, 12.0, 9.0, 9.0, 16.0, 8.0, 6.5, 14.0, 8.0, 48.0,
    ];
    let mut sorted: Vec<&&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| f.severity());
    for (i, f) in sorted.iter().enumerate() {
        let row = head + 1 + i as u32;
        let mut cells = vec![(i + 1).to_string()];
        cells.extend(super::finding_cells(f, input.schemas, input.registry, lang));
        // The township's own file name, not where the bureau keeps it.
        if let Some(name) = std::path::Path::new(&cells[6]).file_name() {
            cells[6] = name.to_string_lossy().into_owned();
        }
        for (c, v) in cells.iter().enumerate() {
            ws.write_string_with_format(row, c as u16, v, &fmt.text)?;
        }
        // Wrapped text needs its lines: no spreadsheet grows a row by itself
        // when it opens a file.
        let lines = cells
            .iter()
            .zip(WIDTHS)
            .map(|(v, w)| super::print::wrapped_lines(v, w))
            .max()
            .unwrap_or(1);
        ws.set_row_height(row, super::print::row_height(lines as f64))?;
        if let Some(cell) = f.cell {
            let target = copies
                .iter()
                .find(|c| Some(&c.file) == f.file.as_ref() && Some(&c.sheet) == f.sheet.as_ref())
                .filter(|c| !c.name.is_empty());
            if let Some(c) = target {
                let link = format!("internal:'{}'!{cell}", c.name.replace('\'', "''"));
                let url = rust_xlsxwriter::Url::new(link).set_text(cell.to_string());
                ws.write_url_with_format(row, 8, url, &fmt.link)?;
            }
        }
    }
    let last = head + sorted.len() as u32;
    ws.autofilter(head, 0, last, last_col)?;
    ws.set_freeze_panes(head + 1, 0)?;
    let layout = super::print::Layout {
        widths: &WIDTHS,
        keep: 0,
        groups: &[],
        header: Some((head, head)),
    };
    super::print::apply(ws, &layout, &layout.plan(), lang)?;
    Ok(())
}

/// Writes the submitted sheet's cells as they were read, and marks every
/// cell a finding names.
fn reproduce(
    ws: &mut Worksheet,
    sheet: &Sheet,
    merged: &Merged,
    copy: &Copy,
    findings: &[&Finding],
    input: &FeedbackInput<'_>,
    fmt: &Formats,
) -> Result<(), XlsxError> {
    let lang = input.lang;
    let mut marks: BTreeMap<CellRef, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        if f.file.as_ref() == Some(&copy.file) && f.sheet.as_ref() == Some(&copy.sheet) {
            if let Some(c) = f.cell {
                marks.entry(c).or_default().push(f);
            }
        }
    }
    // The submitted merges (title, group headers), so the township sees its
    // own layout. A region holding a marked cell, or one the writer refuses
    // (overlapping, in a hand-made file), is left unmerged.
    // Regions merged, and whether their text went into the merge.
    let mut applied: Vec<(Region, bool)> = Vec::new();
    let blank = Format::new();
    let merged = reproducible(merged);
    for &((r1, c1), (r2, c2)) in &merged {
        let inside = |c: &CellRef| (r1..=r2).contains(&c.row) && (c1..=c2).contains(&c.col);
        let (Ok(c1w), Ok(c2w)) = (u16::try_from(c1), u16::try_from(c2)) else {
            continue;
        };
        if (r1, c1) == (r2, c2) || marks.keys().any(inside) {
            continue;
        }
        let text: String = match sheet.range.get_value((r1, c1)) {
            Some(Data::String(s)) => s.chars().take(32_767).collect(),
            _ => String::new(),
        };
        if ws.merge_range(r1, c1w, r2, c2w, &text, &blank).is_ok() {
            applied.push((((r1, c1), (r2, c2)), !text.is_empty()));
        }
    }
    // Cells a merge covers are not written again (the first cell keeps a
    // number, written below; text went into the merge).
    let hidden = |row: u32, col: u32| {
        applied.iter().any(|&(((r1, c1), (r2, c2)), text)| {
            (r1..=r2).contains(&row) && (c1..=c2).contains(&col) && ((row, col) != (r1, c1) || text)
        })
    };
    // Every cell as submitted, a marked one in its fill; then the marked
    // cells that were empty, so the fill shows where a figure is missing.
    let fill_of = |cell: CellRef| {
        let worst = marks.get(&cell)?.iter().map(|f| f.severity()).min()?;
        Some(if worst == Severity::Error {
            &fmt.error
        } else {
            &fmt.warning
        })
    };
    let mut written: Vec<CellRef> = Vec::new();
    let mut max_col = 0u32;
    let (r0, c0) = sheet.range.start().unwrap_or((0, 0));
    let values = sheet
        .range
        .used_cells()
        .map(|(r, c, d)| (r0 + r as u32, c0 + c as u32, Some(d), None));
    let formulas = sheet
        .uncached
        .iter()
        .map(|((r, c), f)| (*r, *c, None, Some(f.as_str())));
    for (row, col, value, formula) in values.chain(formulas) {
        let cell = CellRef { row, col };
        let Ok(col16) = u16::try_from(col) else {
            continue;
        };
        if hidden(row, col) {
            continue;
        }
        let fill = fill_of(cell);
        match (value, formula) {
            (Some(d), _) => write_value(ws, row, col16, d, fill, fmt)?,
            (None, Some(f)) => {
                ws.write_string_with_format(
                    row,
                    col16,
                    format!("={f}"),
                    fill.unwrap_or(&Format::new()),
                )?;
            }
            (None, None) => continue,
        }
        max_col = max_col.max(col);
        if fill.is_some() {
            written.push(cell);
        }
    }
    for (cell, fs) in &marks {
        let Ok(col) = u16::try_from(cell.col) else {
            continue;
        };
        if !written.contains(cell) {
            if let Some(fill) = fill_of(*cell) {
                ws.write_blank(cell.row, col, fill)?;
            }
        }
        max_col = max_col.max(cell.col);
        let text: Vec<String> = fs
            .iter()
            .map(|f| {
                let mut t = match lang {
                    Lang::Zh => format!(
                        "【{}】{}：{}",
                        f.severity_label(lang),
                        f.rule.zh(),
                        f.message(lang)
                    ),
                    Lang::En => format!(
                        "[{}] {}: {}",
                        f.severity_label(lang),
                        f.rule.id(),
                        f.message(lang)
                    ),
                };
                if let Some(h) = f.help(lang) {
                    t.push_str(lang.pick("\n修改建议：", "\nFix: "));
                    t.push_str(&h);
                }
                t
            })
            .collect();
        let note = Note::new(text.join("\n\n"))
            .set_author("phstats")
            .set_width(360)
            .set_height(160);
        ws.insert_note(cell.row, col, &note)?;
    }
    // Columns as wide as what they hold (a CJK character counts double),
    // so the township's labels do not overlap.
    // The header as reading found it: the titles above it overflow their
    // cells and widen no column.
    let grid = crate::ingest::grid::Grid::new(sheet);
    let header = crate::ingest::header::find_header(&grid, input.schemas);
    let mut widths = column_widths(sheet, header.as_ref().map_or(0, |h| h.first_row));
    // Every written column, the ones only a title reaches at the default
    // width.
    widths.resize(max_col.min(200) as usize + 1, 8.43);
    print_as_submitted(ws, header.as_ref(), &merged, &widths, lang)
}

/// Prints a reproduced sheet as [`super::print`] prints every sheet: on A4
/// where it fits at a readable scale, else split by columns. The header is
/// the one reading found ([`crate::ingest::header::find_header`]): its
/// rows repeat on every page, and so do the columns up to 单位名称; a page
/// never begins inside a group the header merges (a dose's 应种/实种/接种率).
fn print_as_submitted(
    ws: &mut Worksheet,
    header: Option<&crate::ingest::header::Header>,
    merged: &[Region],
    widths: &[f64],
    lang: Lang,
) -> Result<(), XlsxError> {
    let rows = header.map(|h| (h.first_row, h.last_row));
    let keep = header
        .and_then(|h| h.name_col)
        .map_or(0, |c| c as usize + 1)
        .min(widths.len());
    // Merges of the header (or, with none found, any narrower than half
    // the sheet: not a title) hold their columns together.
    let holds = |&&((r1, c1), (_, c2)): &&((u32, u32), (u32, u32))| match rows {
        Some((first, last)) => (first..=last).contains(&r1),
        None => (c2 - c1) as usize * 2 < widths.len(),
    };
    let binding: Vec<_> = merged.iter().filter(holds).collect();
    let groups: Vec<u16> = (keep.max(1)..widths.len())
        .filter(|&c| {
            let c = c as u32;
            !binding.iter().any(|((_, c1), (_, c2))| *c1 < c && c <= *c2)
        })
        .filter_map(|c| u16::try_from(c).ok())
        .collect();
    let layout = super::print::Layout {
        widths,
        keep,
        groups: &groups,
        header: rows,
    };
    super::print::apply(ws, &layout, &layout.plan(), lang)
}

/// Each column's width from its widest cell from row `from` down, between
/// 6 and 40 characters; merged titles and notes (over 40) do not widen a
/// column.
fn column_widths(sheet: &Sheet, from: u32) -> Vec<f64> {
    let (r0, c0) = sheet.range.start().unwrap_or((0, 0));
    let mut widths: Vec<f64> = Vec::new();
    for (r, c, d) in sheet.range.used_cells() {
        if r0 + (r as u32) < from {
            continue;
        }
        let col = c0 as usize + c;
        if widths.len() <= col {
            widths.resize(col + 1, 6.0);
        }
        let text = match d {
            Data::String(s) => s.clone(),
            Data::Float(x) => format!("{x}"),
            Data::Int(i) => format!("{i}"),
            _ => String::new(),
        };
        let w: f64 = text
            .lines()
            .map(|l| {
                l.chars()
                    .map(|ch| if ch.is_ascii() { 1.0 } else { 2.0 })
                    .sum::<f64>()
            })
            .fold(0.0, f64::max)
            + 1.5;
        if w <= 40.0 {
            widths[col] = widths[col].max(w);
        }
    }
    widths
}

fn write_value(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    d: &Data,
    fill: Option<&Format>,
    fmt: &Formats,
) -> Result<(), XlsxError> {
    let plain = Format::new();
    let f = fill.unwrap_or(&plain);
    match d {
        Data::Empty => {
            if let Some(fill) = fill {
                ws.write_blank(row, col, fill)?;
            }
        }
        Data::Int(i) => {
            ws.write_number_with_format(row, col, *i as f64, f)?;
        }
        Data::Float(x) => {
            ws.write_number_with_format(row, col, *x, f)?;
        }
        Data::String(s) => {
            // Excel's limit; only a hand-made file holds more.
            let s: String = s.chars().take(32_767).collect();
            ws.write_string_with_format(row, col, s, f)?;
        }
        Data::Bool(b) => {
            ws.write_boolean_with_format(row, col, *b, f)?;
        }
        Data::DateTime(dt) => {
            let date = match fill {
                Some(fill) => fill.clone().set_num_format("yyyy-mm-dd"),
                None => fmt.date.clone(),
            };
            ws.write_number_with_format(row, col, dt.as_f64(), &date)?;
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => {
            ws.write_string_with_format(row, col, s, f)?;
        }
        Data::Error(e) => {
            ws.write_string_with_format(row, col, e.to_string(), f)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_merges_a_sheet_could_hold_are_reproduced() {
        let title = ((0, 0), (0, 11));
        let group = ((2, 8), (2, 10));
        // Backwards, past the one-merge bound, and past the sheet's bound
        // once 10 merges of 10,000 cells are in.
        let backwards = ((4, 3), (2, 1));
        let huge = ((199, 0), (1_048_575, 16_383));
        let block = |k: u32| ((1_000 + 100 * k, 0), (1_099 + 100 * k, 99));
        let mut merged = vec![title, backwards, huge, group];
        merged.extend((0..11).map(block));
        let kept = reproducible(&merged);
        let mut want = vec![title, group];
        want.extend((0..9).map(block));
        assert_eq!(kept, want);
        // Thousands of merges: none reproduced merge by merge.
        assert!(reproducible(&vec![title; MAX_MERGES + 1]).is_empty());
        assert_eq!(reproducible(&vec![title; MAX_MERGES]).len(), MAX_MERGES);
    }

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let mut taken = vec!["问题清单".to_string()];
        assert_eq!(sheet_name("免疫", &mut taken), "免疫");
        assert_eq!(sheet_name("免疫", &mut taken), "免疫 (2)");
        assert_eq!(sheet_name("a/b[c]", &mut taken), "a_b_c_");
        let long = "x".repeat(40);
        let n = sheet_name(&long, &mut taken);
        assert_eq!(n.chars().count(), 31);
        let n2 = sheet_name(&long, &mut taken);
        assert_eq!(n2.chars().count(), 31);
        assert!(n2.ends_with(" (2)"));
    }
}
