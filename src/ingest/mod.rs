//! Files in, observations and findings out (STYLE.md §1). Each workbook is
//! one rayon task returning its own returns, observations and findings; they
//! are concatenated once. Nothing outside this module sees a calamine type.

mod biff;
pub mod cells;
pub mod grid;
pub mod header;
pub mod meta;
mod parts;
pub mod rows;
mod rowwise;
pub mod workbook;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::findings::{CellRef, Finding, Rule, Severity};
use crate::message::{Detail, MonthSource, Unreadable};
use crate::observation::{Batch, FileIdx, Observations, Return, ReturnIdx, ReturnStatus};
use crate::period::{Month, Period};
use crate::registry::{Level, NameMatch, Registry, UnitIdx};
use crate::schema::Schemas;
use grid::Grid;
use header::{Header, Unread};
use meta::Meta;

/// What ingest needs besides the files.
pub struct Context<'a> {
    /// Forms.
    pub schemas: &'a Schemas,
    /// Units.
    pub registry: &'a Registry,
    /// `--period`, if given.
    pub period: Option<Period>,
    /// Counters a progress display may watch.
    pub progress: Option<&'a Progress>,
    /// Keep every sheet's cells as read (for the feedback workbooks).
    pub keep_sheets: bool,
}

/// How far ingest has got, updated as each file is read; a display thread
/// may read it while ingest runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Files read so far.
    pub files: std::sync::atomic::AtomicUsize,
    /// Findings so far.
    pub findings: std::sync::atomic::AtomicUsize,
}

/// One file to read: its path and the name it is reported under.
#[derive(Debug, Clone)]
pub struct Input {
    /// Path on disk.
    pub path: PathBuf,
    /// As given on the command line or found under a directory.
    pub display: String,
    /// Other names under which the same file was reached (a folder and a
    /// file in it both given): read once, noted as `identical_copy`.
    pub also: Vec<String>,
}

impl Input {
    /// A file to read under its own name.
    #[must_use]
    pub fn new(path: PathBuf) -> Input {
        Input {
            display: path_text(&path),
            path,
            also: Vec::new(),
        }
    }
}

/// A path as its names read: each name that is not UTF-8 read as GB18030
/// where it is that (a zip made on a Chinese Windows and unpacked here
/// keeps its GBK names: 城东街道.xlsx, not `���ǽֵ�.xlsx`), else with
/// what is unreadable replaced. The file is still opened by its own bytes;
/// this is the name messages show, and the name a unit or month is looked
/// for in.
#[must_use]
pub fn path_text(path: &Path) -> String {
    if let Some(text) = path.to_str() {
        return text.to_string();
    }
    path.components()
        .map(|c| {
            let name = c.as_os_str();
            if let Some(t) = name.to_str() {
                return t.to_string();
            }
            #[cfg(unix)]
            {
                use std::os::unix::ffi::OsStrExt;
                let (text, _, had_errors) = encoding_rs::GB18030.decode(name.as_bytes());
                if !had_errors {
                    return text.into_owned();
                }
            }
            name.to_string_lossy().into_owned()
        })
        .collect::<PathBuf>()
        .display()
        .to_string()
}

/// Expands files and directories (recursively) into workbook inputs, sorted
/// by path so runs are reproducible. Excel's `~$` lock files are skipped. A
/// file reached twice (a folder and a file in it, or one path given twice)
/// is read once.
///
/// # Errors
/// A path that does not exist (`true`) or a directory that cannot be listed
/// (`false`), with the path.
pub fn collect_inputs(paths: &[PathBuf]) -> Result<Vec<Input>, (String, bool)> {
    let mut given: Vec<PathBuf> = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p)
            .map_err(|e| (path_text(p), e.kind() == std::io::ErrorKind::NotFound))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(p, &[], &mut found).map_err(|_| (path_text(p), false))?;
            given.extend(found);
        } else {
            given.push(p.clone());
        }
    }
    // Which file each path is, on every core; the first of the paths to
    // one file keeps it.
    let keys: Vec<FileKey> = given.par_iter().map(|path| FileKey::of(path)).collect();
    let mut out: Vec<Input> = Vec::new();
    let mut seen: std::collections::HashMap<FileKey, usize> = std::collections::HashMap::new();
    for (path, key) in given.into_iter().zip(keys) {
        match seen.get(&key) {
            Some(&i) => out[i].also.push(path_text(&path)),
            None => {
                seen.insert(key, out.len());
                out.push(Input::new(path));
            }
        }
    }
    Ok(out)
}

/// What identifies a file however it is reached: its device and inode
/// (one `stat`), or elsewhere its resolved path; the path itself when
/// neither can be read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum FileKey {
    Inode(u64, u64),
    Path(PathBuf),
}

impl FileKey {
    fn of(path: &Path) -> FileKey {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if let Ok(m) = std::fs::metadata(path) {
                return FileKey::Inode(m.dev(), m.ino());
            }
        }
        FileKey::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    }
}

/// The workbooks under `dir`, in path order: each folder's entries sorted
/// by name and its subfolders walked in that order, which is the order of
/// sorting the whole paths (component by component) without comparing
/// tens of thousands of paths. Subfolders are read on every core (a
/// province-year is a thousand of them). A link back to a folder being
/// walked (`above`) is not followed again: everything under it is read
/// already, and the walk would never end.
fn walk(dir: &Path, above: &[FileKey], out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let key = FileKey::of(dir);
    if above.contains(&key) {
        return Ok(());
    }
    let above = [above, &[key]].concat();
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        // The entry's own type costs no system call; a link is followed.
        let is_dir = match entry.file_type() {
            Ok(t) if t.is_symlink() => path.is_dir(),
            Ok(t) => t.is_dir(),
            Err(_) => path.is_dir(),
        };
        entries.push((entry.file_name(), path, is_dir));
    }
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let found: Vec<std::io::Result<Vec<PathBuf>>> = entries
        .into_par_iter()
        .map(|(_, path, is_dir)| {
            let mut found = Vec::new();
            if is_dir {
                walk(&path, &above, &mut found)?;
            } else if is_workbook_name(&path) {
                found.push(path);
            }
            Ok(found)
        })
        .collect();
    for paths in found {
        out.extend(paths?);
    }
    Ok(())
}

fn is_workbook_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    // .xlsm: a template with macros, read as .xlsx. .et, .ods and .xlsb
    // are spreadsheets too: a township that sent one has sent its return,
    // and is told how to send it readably rather than passed over.
    !name.starts_with("~$")
        && matches!(
            ext.as_deref(),
            Some("xlsx" | "xls" | "xlsm" | "et" | "ods" | "xlsb")
        )
}

/// What one file yielded.
struct FileOut {
    returns: Vec<Return>,
    obs: Observations,
    findings: Vec<Finding>,
    /// Sheets holding returns of units outside `--scope`, left out.
    outside: Vec<crate::observation::Outside>,
    /// Sheets as read, when asked to keep them.
    kept: Vec<crate::observation::KeptSheet>,
    /// Returns read from a 本地 block and a 流动 block of one sheet (no
    /// 合计 block): the second is added to the first ([`parts::merge`]).
    beside: Vec<(usize, usize)>,
    /// Returns read from the groups' rows of one sheet (a 病种 column): one
    /// return, joined into the first ([`parts::merge`]).
    grouped: Vec<Vec<usize>>,
    /// Returns read from the 合计, 本地 and 流动 rows of one sheet (a 类别
    /// column): the first is the return, checked against the other two.
    row_parts: Vec<(usize, usize, usize)>,
}

/// Reads every file in parallel and concatenates the results in input order.
#[must_use]
pub fn ingest(inputs: &[Input], ctx: &Context<'_>) -> Batch {
    let outs: Vec<FileOut> = inputs
        .par_iter()
        .enumerate()
        .map(|(i, input)| {
            let out = ingest_file_named(i as FileIdx, input, ctx);
            if let Some(p) = ctx.progress {
                use std::sync::atomic::Ordering::Relaxed;
                p.files.fetch_add(1, Relaxed);
                p.findings.fetch_add(out.findings.len(), Relaxed);
            }
            out
        })
        .collect();
    let mut batch = Batch {
        files: inputs.iter().map(|i| i.display.clone()).collect(),
        modified: inputs
            .par_iter()
            .map(|i| std::fs::metadata(&i.path).and_then(|m| m.modified()).ok())
            .collect(),
        ..Batch::default()
    };
    for input in inputs {
        if let Some(other) = input.also.first() {
            batch.findings.push(
                Finding::new(
                    Rule::IdenticalCopy,
                    Detail::SameFile {
                        file: input.display.clone(),
                        other: (*other != input.display).then(|| other.clone()),
                    },
                )
                .file(&input.display)
                .value(other.clone()),
            );
        }
    }
    let mut offset = 0;
    let parts: Vec<(&Observations, ReturnIdx)> = outs
        .iter()
        .map(|o| {
            let part = (&o.obs, offset);
            offset += o.returns.len() as ReturnIdx;
            part
        })
        .collect();
    batch.obs = Observations::concat(&parts);
    drop(parts);
    for out in outs {
        batch.returns.extend(out.returns);
        batch.findings.extend(out.findings);
        batch.outside.extend(out.outside);
        batch.kept.extend(out.kept);
    }
    batch
}

/// The non-blank sheets of a workbook as ingest reads them, for the
/// feedback workbooks of returns whose input files are gone (a store's kept
/// originals). A sheet that cannot be read is left out: its return's
/// problems are still listed, only not shown on a copy of the sheet.
#[must_use]
pub fn kept_sheets(path: &std::path::Path, file: FileIdx) -> Vec<crate::observation::KeptSheet> {
    let Ok(mut book) = workbook::open(path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let names = book.sheet_names();
    // The sheets ingest keeps: the first of a name (the only one reachable),
    // not blank.
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            continue;
        }
        let Ok(sheet) = book.read(name) else {
            continue;
        };
        if !Grid::new(&sheet).is_blank() {
            out.push(keep_sheet(&mut book, file, name, sheet));
        }
    }
    out
}

/// A sheet as read, with its merged regions, for the feedback workbooks.
fn keep_sheet(
    book: &mut workbook::Book,
    file: FileIdx,
    name: &str,
    cells: workbook::Sheet,
) -> crate::observation::KeptSheet {
    crate::observation::KeptSheet {
        file,
        sheet: name.to_string(),
        merged: book.merged(name),
        cells,
    }
}

/// Reads one file; a bug met there names the file ([`crate::fault`]).
fn ingest_file_named(file: FileIdx, input: &Input, ctx: &Context<'_>) -> FileOut {
    crate::fault::reading(&input.display, || ingest_file(file, input, ctx))
}

fn ingest_file(file: FileIdx, input: &Input, ctx: &Context<'_>) -> FileOut {
    let mut out = FileOut {
        returns: Vec::new(),
        obs: Observations::default(),
        findings: Vec::new(),
        outside: Vec::new(),
        kept: Vec::new(),
        beside: Vec::new(),
        grouped: Vec::new(),
        row_parts: Vec::new(),
    };
    let mut book = match workbook::open(&input.path) {
        Ok(b) => b,
        Err(reason) => {
            out.findings.push(
                Finding::new(Rule::UnreadableFile, Detail::Unreadable(reason)).file(&input.display),
            );
            return out;
        }
    };
    let names = book.sheet_names();
    let hidden = book.hidden();
    let is_hidden = |i: usize| hidden.get(i).copied().unwrap_or(false);
    // A hidden sheet (last month's, kept out of sight) is not what was
    // sent: read only where no sheet in sight holds a return.
    let visible_pass: Vec<usize> = (0..names.len()).filter(|&i| !is_hidden(i)).collect();
    let mut passed_over: Vec<usize> = Vec::new();
    read_sheets(file, input, ctx, &mut book, &names, &visible_pass, &mut out);
    let hidden_ones: Vec<usize> = (0..names.len()).filter(|&i| is_hidden(i)).collect();
    if out.returns.is_empty() && out.outside.is_empty() {
        read_sheets(file, input, ctx, &mut book, &names, &hidden_ones, &mut out);
    } else {
        passed_over = hidden_ones;
    }
    for i in passed_over {
        let blank = book
            .read(&names[i])
            .map_or(true, |s| Grid::new(&s).is_blank());
        if !blank {
            out.findings.push(
                Finding::new(Rule::NoReturnFound, Detail::HiddenSheet)
                    .file(&input.display)
                    .sheet(&names[i])
                    .info(),
            );
        }
    }
    // 本地 / 流动 / 合计: one return (FORMS.md §3.1).
    parts::merge(&mut out, &input.display, ctx.registry, ctx.schemas);
    if out.returns.is_empty()
        && out.outside.is_empty()
        && !out.findings.iter().any(|f| f.severity() != Severity::Info)
    {
        // FORMS.md §4: a workbook with no return in it is a warning, even
        // when each of its sheets alone is only a stray empty one; that one
        // warning replaces the sheets' notes.
        out.findings
            .retain(|f| !(f.rule == Rule::NoReturnFound && f.sheet.is_some()));
        out.findings.push(
            Finding::new(
                Rule::NoReturnFound,
                if names.is_empty() {
                    Detail::NoSheets
                } else {
                    Detail::NoReturnInWorkbook
                },
            )
            .file(&input.display),
        );
    }
    out
}

/// Reads the sheets `which` (places in `names`) of `book` into `out`.
fn read_sheets(
    file: FileIdx,
    input: &Input,
    ctx: &Context<'_>,
    book: &mut workbook::Book,
    names: &[String],
    which: &[usize],
    out: &mut FileOut,
) {
    for &i in which {
        let name = &names[i];
        if names[..i].contains(name) {
            // Excel never writes two sheets of one name; a file that has
            // them was assembled by hand, and only the first can be reached.
            out.findings.push(
                Finding::new(
                    Rule::UnreadableFile,
                    Detail::Unreadable(Unreadable::DuplicateSheet {
                        n: i + 1,
                        name: name.clone(),
                    }),
                )
                .file(&input.display)
                .sheet(name),
            );
            continue;
        }
        let sheet = match book.read(name) {
            Ok(r) => r,
            Err(reason) => {
                out.findings.push(
                    Finding::new(Rule::UnreadableFile, Detail::Unreadable(reason))
                        .file(&input.display)
                        .sheet(name),
                );
                continue;
            }
        };
        let grid = Grid::new(&sheet);
        ingest_sheet(file, input, name, &grid, ctx, out);
        if ctx.keep_sheets && !grid.is_blank() {
            // The feedback workbooks reproduce what was read here; they
            // never reopen a file that may have changed since.
            out.kept.push(keep_sheet(book, file, name, sheet));
        }
    }
}

fn ingest_sheet(
    file: FileIdx,
    input: &Input,
    sheet: &str,
    grid: &Grid<'_>,
    ctx: &Context<'_>,
    out: &mut FileOut,
) {
    if grid.is_blank() {
        // FORMS.md §4: a stray empty sheet is only info.
        out.findings.push(
            Finding::new(Rule::NoReturnFound, Detail::StraySheet)
                .file(&input.display)
                .sheet(sheet)
                .info(),
        );
        return;
    }
    let header = header::find_header(grid, ctx.schemas);
    // Two forms' tables stacked on one sheet (免疫 above, 家医 below): each
    // read as its own return, with what stands above the first. Read as
    // one, the second's villages were the first's again (`duplicate_row`),
    // its figures summed into the first's 合计 check, and its form lost.
    if let Some((upper, lower)) = header.as_ref().and_then(|h| stacked(grid, h, ctx.schemas)) {
        for (range, uncached) in [upper, lower] {
            ingest_sheet(
                file,
                input,
                sheet,
                &Grid::with_formulas(&range, &uncached),
                ctx,
                out,
            );
        }
        return;
    }
    // A row per unit and group beside fields of no group (常住人口数 |
    // 签约人数 | 重点人群 | 人数 | 签约人数): read as the table of a row per
    // unit and group it is, not as one row per unit (each village's rows
    // after its first a duplicate, every group's figures lost).
    if header
        .as_ref()
        .is_some_and(|h| header::may_be_grouped(h, ctx.schemas))
    {
        let grouped = header::find_grouped(grid, ctx.schemas);
        if !grouped.is_empty() {
            read_in_parts(file, input, sheet, grid, ctx, out, grouped, InParts::Join);
            return;
        }
    }
    let Some(header) = header else {
        // A row per unit and group (单位名称 | 病种 | 已管理人数 …): each
        // group's rows read as a part of the return, as a sheet of its own
        // would be (settling counts the parts together). What the readings
        // say alike of the sheet (its 填报单位, its 报告期) is said once.
        let grouped = header::find_grouped(grid, ctx.schemas);
        if !grouped.is_empty() {
            read_in_parts(file, input, sheet, grid, ctx, out, grouped, InParts::Join);
            return;
        }
        // FORMS.md §2: a return about one unit may list its fields as rows.
        if let Some(found) = rowwise::find(grid, ctx.schemas) {
            ingest_rowwise(file, input, sheet, grid, ctx, out, &found);
            return;
        }
        // A sheet of text only (a cover, instructions) beside the returns
        // is no more than an empty one; with a figure on it, it may be a
        // return whose header was not found, and is said so.
        let has_figures = (grid.first_row()..=grid.last_row()).any(|r| {
            grid.cols()
                .any(|c| matches!(grid.cell(r, c), cells::Cell::Number(_)))
        });
        let finding = if has_figures {
            Finding::new(Rule::NoReturnFound, Detail::NoHeader)
        } else {
            Finding::new(Rule::NoReturnFound, Detail::TextOnlySheet).info()
        };
        out.findings.push(finding.file(&input.display).sheet(sheet));
        return;
    };
    // A row per unit and part beside a 类别 column (each village's 本地,
    // 流动 and 合计 rows): the 合计 rows are the return, checked against
    // the 本地 and 流动 rows; with none, 本地 + 流动 (FORMS.md §3.1). Each
    // part's rows are read as a return of their own first.
    if let Some((col, found)) = header::part_column(grid, &header) {
        use header::{RowKey, RowsOf};
        use parts::Part;
        let mut header = header;
        if let Some(label) = (header.first_row..=header.last_row)
            .rev()
            .find_map(|r| grid.cell(r, col).text().map(crate::normalize::label))
        {
            header.unknown.retain(|(l, _)| *l != label);
        }
        let of = |p: Part| Header {
            rows_of: Some(RowsOf {
                col,
                key: RowKey::Part(p),
            }),
            ..header.clone()
        };
        let has = |p: Part| found.contains(&p);
        let (readings, how) = match (has(Part::Total), has(Part::Local) && has(Part::Floating)) {
            (true, true) => (
                vec![Part::Total, Part::Local, Part::Floating],
                InParts::Check,
            ),
            (true, false) => (vec![Part::Total], InParts::Check),
            (false, _) => (vec![Part::Local, Part::Floating], InParts::Add),
        };
        let headers = readings.into_iter().map(of).collect();
        read_in_parts(file, input, sheet, grid, ctx, out, headers, how);
        return;
    }
    read_return(file, input, sheet, grid, ctx, out, header);
}

/// How the readings of a sheet of several rows a unit make one return.
enum InParts {
    /// Each group's fields joined.
    Join,
    /// 本地 + 流动.
    Add,
    /// The first (合计) is the return; the others, 本地 and 流动, are
    /// checked against it.
    Check,
}

/// Reads a sheet of several rows a unit, one reading of `headers` each (a
/// group's rows, or a part's), as one return ([`parts::merge`], `how`).
/// What the readings say alike of the sheet (its 填报单位, its 报告期) is
/// said once.
#[allow(clippy::too_many_arguments)]
fn read_in_parts(
    file: FileIdx,
    input: &Input,
    sheet: &str,
    grid: &Grid<'_>,
    ctx: &Context<'_>,
    out: &mut FileOut,
    headers: Vec<Header>,
    how: InParts,
) {
    let before = out.findings.len();
    let first = out.returns.len();
    for h in headers {
        read_return(file, input, sheet, grid, ctx, out, h);
    }
    let read: Vec<usize> = (first..out.returns.len()).collect();
    // A reading with no return (a blank part) leaves the others as read.
    match (how, read.as_slice()) {
        (InParts::Add, [l, f]) => out.beside.push((*l, *f)),
        (InParts::Check, [t, l, f]) => out.row_parts.push((*t, *l, *f)),
        (InParts::Join, _) => out.grouped.push(read),
        _ => {}
    }
    // Compared only with those of the same rule and cell: a sheet of
    // thousands of bad cells is not compared pair by pair.
    let said = out.findings.split_off(before);
    let mut kept: foldhash::HashMap<(Rule, Option<crate::findings::CellRef>), Vec<usize>> =
        foldhash::HashMap::default();
    for f in said {
        let alike = kept.entry((f.rule, f.cell)).or_default();
        if !alike.iter().any(|&k| out.findings[k] == f) {
            alike.push(out.findings.len());
            out.findings.push(f);
        }
    }
}

/// Reads the return under `header` on `sheet`: whose and which month, its
/// rows, and the part beside them (本地 | 流动 with no 合计).
fn read_return(
    file: FileIdx,
    input: &Input,
    sheet: &str,
    grid: &Grid<'_>,
    ctx: &Context<'_>,
    out: &mut FileOut,
    header: Header,
) {
    let form = ctx.schemas.form(header.form);
    let meta = meta::read_meta(grid, &header, sheet);
    let base = |rule: Rule, detail: Detail| {
        Finding::new(rule, detail)
            .file(&input.display)
            .sheet(sheet)
            .form(&form.id)
    };
    let rows_below = Some((grid, &header));
    let Some((unit, month)) = identify(input, sheet, &meta, ctx, &base, out, None, rows_below)
    else {
        return;
    };
    let unit_code = ctx.registry.unit(unit).code.0;
    let ctx_rows = rows::RowContext {
        file: &input.display,
        sheet,
        form_idx: header.form,
        form,
        parent: unit,
        month,
        registry: ctx.registry,
    };
    let rows = rows::read_rows(grid, &header, &ctx_rows);
    // 本地 | 流动 with no 合计 block: the other part's columns read as a
    // second part of the return. What it says of the rows themselves (a
    // name not in the registry) the first read said already.
    let beside = (!header.beside.is_empty()).then(|| {
        let other = Header {
            columns: header.beside.clone(),
            beside: Vec::new(),
            unknown: Vec::new(),
            ..header.clone()
        };
        let mut more = rows::read_rows(grid, &other, &ctx_rows);
        more.findings.retain(|f| {
            !rows
                .findings
                .iter()
                .any(|g| g.rule == f.rule && g.cell == f.cell)
        });
        more
    });
    report_header_columns(
        &header,
        false,
        &rows.unlabelled,
        form,
        &|r, m| base(r, m).unit(unit_code).period(month),
        &mut out.findings,
    );
    let read = Read {
        file,
        input,
        sheet,
        ctx,
        header: &header,
        meta: &meta,
        unit,
        month,
        across: false,
    };
    keep_rows(&read, out, rows, beside);
}

/// A return's table as read: where, whose, which month, and how.
struct Read<'a> {
    file: FileIdx,
    input: &'a Input,
    sheet: &'a str,
    ctx: &'a Context<'a>,
    header: &'a Header,
    meta: &'a Meta,
    unit: UnitIdx,
    month: Month,
    /// The units are columns ([`rowwise::Turned`]).
    across: bool,
}

/// Keeps the rows `read` read as its return, and the part beside them
/// (本地 | 流动 with no 合计) as a second part; a table with not one figure
/// as an empty return.
fn keep_rows(read: &Read<'_>, out: &mut FileOut, rows: rows::Rows, beside: Option<rows::Rows>) {
    let Read {
        file,
        input,
        sheet,
        ctx,
        header,
        meta,
        unit,
        month,
        across,
    } = *read;
    let form = ctx.schemas.form(header.form);
    let base = |rule: Rule, detail: Detail| {
        Finding::new(rule, detail)
            .file(&input.display)
            .sheet(sheet)
            .form(&form.id)
    };
    // FORMS.md §4: not one figure (a blank template sent back) is no
    // report; it is neither counted nor a duplicate of the real one.
    let is_blank = |rows: &rows::Rows| {
        rows.obs.value.iter().all(Option::is_none)
            && rows.totals.iter().all(|t| t.value.is_none())
            && !rows.findings.iter().any(|f| f.severity() != Severity::Info)
    };
    let blank = is_blank(&rows) && beside.as_ref().is_none_or(is_blank);
    if blank {
        out.findings.extend(rows.findings);
        out.findings
            .push(empty_return(&base, ctx.registry, unit, month));
        return;
    }
    let correction = marked_correction(meta, input, sheet);
    let mut push = |rows: rows::Rows, columns: &[(crate::schema::FieldIdx, u32)]| {
        let ret_idx = out.returns.len();
        out.findings.extend(rows.findings);
        out.obs.append(rows.obs, ret_idx as u32);
        out.returns.push(Return {
            file,
            sheet: sheet.to_string(),
            form: header.form,
            unit,
            month,
            correction,
            reported_on: rows.reported_on,
            received: None,
            status: ReturnStatus::Active,
            totals: rows.totals,
            columns: columns.to_vec(),
            total_row: rows.total_row,
            row_sums: rows.row_sums,
            suggested: rows.suggested,
            name_col: header.name_col,
            across,
        });
        ret_idx
    };
    let first = push(rows, &header.columns);
    if let Some(more) = beside {
        let second = push(more, &header.beside);
        out.beside.push((first, second));
    }
}

/// Where a sheet holds a second table of another form below the first
/// (its header's 单位名称 under the first's name column): the sheet with
/// the second table emptied, then with the first emptied (what stands
/// above the first header kept for both). Asked only of a row whose name
/// cell is a name label, so a return of one table costs one cell a row.
fn stacked(
    grid: &Grid<'_>,
    found: &Header,
    schemas: &crate::schema::Schemas,
) -> Option<(grid::Copy, grid::Copy)> {
    let name_col = found.name_col?;
    let name_label = |r: u32| {
        grid.cell(r, name_col)
            .text()
            .is_some_and(|t| header::is_name_label(&crate::normalize::label(t)))
    };
    // The header found is the sheet's best: the other table may be below
    // it, or above it (a form of fewer columns).
    let below = || {
        ((found.last_row + 2)..=grid.last_row())
            .filter(|&r| name_label(r))
            .find_map(|r| {
                let (range, uncached) = grid.without_rows(found.first_row..=r - 1);
                let next = header::find_header(&Grid::with_formulas(&range, &uncached), schemas)?;
                (next.form != found.form && next.first_row >= r.saturating_sub(2))
                    .then(|| (found.clone(), next))
            })
    };
    let above = || {
        let first = (grid.first_row()..found.first_row).find(|&r| name_label(r))?;
        let (range, uncached) = grid.without_rows(found.first_row..=grid.last_row());
        let top = header::find_header(&Grid::with_formulas(&range, &uncached), schemas)?;
        (top.form != found.form && top.first_row + 2 >= first).then(|| (top, found.clone()))
    };
    let (h, next) = below().or_else(above)?;
    let h = &h;
    // The first table ends at its last row with a figure; what follows up
    // to the second (its footer) stays the first's.
    let table_end = ((h.last_row + 1)..next.first_row)
        .filter(|&r| h.columns.iter().any(|&(_, c)| !grid.cell(r, c).is_blank()))
        .max()
        .unwrap_or(h.last_row);
    let start = ((table_end + 1)..=next.first_row)
        .find(|&r| {
            grid.cols().any(|c| !grid.cell(r, c).is_blank()) && !rows::is_footer_line(grid, r)
        })
        .unwrap_or(next.first_row);
    let upper = grid.without_rows(start..=grid.last_row());
    let lower = grid.without_rows(h.first_row..=start - 1);
    Some((upper, lower))
}

/// Whose return a sheet is and of which month, each by its one owner
/// ([`resolve_unit`], [`resolve_month`]); `given` is the unit already known
/// (a village's own sheet: its township); `rows_below`, the sheet and its
/// header, whose rows may say whose return it is where nothing else does.
/// `None`, with a finding saying why (or the sheet listed as outside
/// `--scope`), where either is not found.
#[allow(clippy::too_many_arguments)]
fn identify(
    input: &Input,
    sheet: &str,
    meta: &Meta,
    ctx: &Context<'_>,
    base: &dyn Fn(Rule, Detail) -> Finding,
    out: &mut FileOut,
    given: Option<UnitIdx>,
    rows_below: Option<(&Grid<'_>, &Header)>,
) -> Option<(UnitIdx, Month)> {
    let unit = match given {
        Some(u) => u,
        None => match resolve_unit(input, sheet, meta, ctx, base, &mut out.findings, rows_below) {
            Resolved::Unit(u) => u,
            Resolved::Outside(above) => {
                out.outside.push(crate::observation::Outside {
                    file: input.display.clone(),
                    sheet: sheet.to_string(),
                    above,
                });
                return None;
            }
            Resolved::No => return None,
        },
    };
    let unit_code = ctx.registry.unit(unit).code.0;
    let month = resolve_month(
        input,
        sheet,
        meta,
        ctx,
        &|r, m| base(r, m).unit(unit_code),
        &mut out.findings,
    )?;
    Some((unit, month))
}

/// FORMS.md §4: a return with not one figure (a blank template sent back)
/// is no report: neither counted nor a duplicate of the real one.
fn empty_return(
    base: &dyn Fn(Rule, Detail) -> Finding,
    registry: &Registry,
    unit: UnitIdx,
    month: Month,
) -> Finding {
    base(
        Rule::EmptyReturn,
        Detail::EmptyReturn {
            unit: registry.unit(unit).name.clone(),
            month,
        },
    )
    .unit(registry.unit(unit).code.0)
    .period(month)
}

/// Whether a return is marked a correction, above its header, in its
/// file name or in its sheet's name, the sheet's own title (FORMS.md §4): a
/// workbook that keeps the return sent beside 家医（更正） had the two as
/// a `duplicate_return`, though it was marked as the message asks.
fn marked_correction(meta: &Meta, input: &Input, sheet: &str) -> bool {
    meta.correction || meta::marks_correction(stem(input)) || meta::marks_correction(sheet)
}

/// Reads a return whose fields are rows ([`rowwise`]): about the 填报单位
/// itself, or, where that is a village, about the village as a row of its
/// township's return.
fn ingest_rowwise(
    file: FileIdx,
    input: &Input,
    sheet: &str,
    grid: &Grid<'_>,
    ctx: &Context<'_>,
    out: &mut FileOut,
    found: &rowwise::Rowwise,
) {
    let mut header = rowwise::header(found);
    let form = ctx.schemas.form(found.form);
    let meta = meta::read_meta(grid, &header, sheet);
    let base = |rule: Rule, detail: Detail| {
        Finding::new(rule, detail)
            .file(&input.display)
            .sheet(sheet)
            .form(&form.id)
    };
    let reg = ctx.registry;
    let village = meta
        .unit
        .as_ref()
        .and_then(|(text, _)| village_named(reg, text, &input.display, sheet));
    // A village of the scope named like one of a township outside it, on
    // its own sheet of that township's workbook (免疫-2026-03-南城镇.xlsx's
    // 团结村 under `--scope 西岭县`, whose 北城镇 has a 团结村 too): outside,
    // never the namesake's.
    if let Some((township, _)) = village {
        let around = format!("{}{sheet}", input.display);
        if !names(&around, reg.unit(township)) && names_outside_scope(reg, input, sheet) {
            out.outside.push(crate::observation::Outside {
                file: input.display.clone(),
                sheet: sheet.to_string(),
                above: None,
            });
            return;
        }
    }
    let given = village.map(|(township, _)| township);
    let Some((unit, month)) = identify(input, sheet, &meta, ctx, &base, out, given, None) else {
        return;
    };
    // A sheet named for one of the unit's villages (a workbook of a sheet
    // a village, each 填报单位 the township) is that village's: read as
    // the township's own, the villages' sheets were its returns three
    // times over, each excluding the others.
    let sheet_village = match reg.find_child(unit, sheet) {
        NameMatch::Found(v) if village.is_none() && reg.unit(v).children.is_empty() => Some(v),
        _ => None,
    };
    let row_unit = village.map(|(_, v)| v).or(sheet_village).unwrap_or(unit);
    let unit_code = reg.unit(unit).code.0;
    // Its figure columns headed by the unit's villages: the usual table
    // turned, read as one.
    let names_unit = |text: &str| {
        row_unit == unit
            && (matches!(
                reg.find_child(unit, text),
                NameMatch::Found(_) | NameMatch::Assumed(_)
            ) || !reg.find_below(unit, text).is_empty())
    };
    if let Some(turned) = rowwise::turned(found, grid, &names_unit) {
        ingest_turned(
            file,
            input,
            sheet,
            grid,
            ctx,
            out,
            (&meta, unit, month),
            &header,
            &turned,
        );
        return;
    }
    // Blocks of no unit, part or period (指标 | 男 | 女): the first block
    // read, the others said not counted.
    header.unknown = rowwise::blocks_not_read(found, grid, form);
    // The figures side by side in a row of their own, read as a unit
    // row's, then named by their places on the sheet.
    let (range, uncached) = grid.sources();
    let ctx_rows = rows::RowContext {
        file: &input.display,
        sheet,
        form_idx: found.form,
        form,
        parent: unit,
        month,
        registry: reg,
    };
    let read = |cells: &[(crate::schema::FieldIdx, CellRef)]| {
        let (row, formulas) = rowwise::as_row(range, uncached, cells);
        let side_by_side = Grid::with_formulas(&row, &formulas);
        let mut as_row = header.clone();
        as_row.columns = cells
            .iter()
            .enumerate()
            .map(|(k, &(f, _))| (f, k as u32))
            .collect();
        let place = |c: CellRef| cells.get(c.col as usize).map_or(c, |&(_, at)| at);
        let (values, mut findings) = rows::read_figures(
            &side_by_side,
            &as_row,
            &ctx_rows,
            0,
            reg.unit(row_unit).code.0,
        );
        for f in &mut findings {
            f.cell = f.cell.map(place);
        }
        let values: Vec<_> = values
            .into_iter()
            .map(|(field, value, cell)| (field, value, place(cell)))
            .collect();
        (values, findings)
    };
    let first = read(&found.cells);
    // 本地 | 流动 with no 合计: the other part's cells, a second part of
    // the return, added to it as reading ends (`parts::merge`).
    let second = (!found.beside.is_empty()).then(|| read(&found.beside));
    report_header_columns(
        &header,
        true,
        &[],
        form,
        &|r, m| base(r, m).unit(unit_code).period(month),
        &mut out.findings,
    );
    let blank = |(values, findings): &(Vec<_>, Vec<Finding>)| {
        values
            .iter()
            .all(|(_, v, _): &(_, Option<f64>, _)| v.is_none())
            && !findings.iter().any(|f| f.severity() != Severity::Info)
    };
    if blank(&first) && second.as_ref().is_none_or(blank) {
        out.findings.extend(first.1);
        out.findings.push(empty_return(&base, reg, unit, month));
        return;
    }
    let last = found.cells.iter().map(|(_, c)| c.row).max().unwrap_or(0);
    let first_row = found.cells.iter().map(|(_, c)| c.row).min().unwrap_or(0);
    let reported_on = rows::report_date(grid, first_row, Some(last + 1), month);
    let correction = marked_correction(&meta, input, sheet);
    let mut push = |(values, findings): (Vec<_>, Vec<Finding>),
                    columns: &[(crate::schema::FieldIdx, u32)]| {
        out.findings.extend(findings);
        let ret_idx = out.returns.len();
        for (field, value, cell) in values {
            out.obs.push(
                row_unit,
                found.form,
                field,
                month,
                value,
                ret_idx as u32,
                cell,
            );
        }
        out.returns.push(Return {
            file,
            sheet: sheet.to_string(),
            form: found.form,
            unit,
            month,
            correction,
            reported_on,
            received: None,
            status: ReturnStatus::Active,
            totals: Vec::new(),
            columns: columns.to_vec(),
            total_row: None,
            row_sums: Vec::new(),
            suggested: Vec::new(),
            name_col: None,
            across: false,
        });
        ret_idx
    };
    let first_idx = push(first, &header.columns);
    if let Some(second) = second {
        let columns: Vec<_> = found.beside.iter().map(|&(f, at)| (f, at.col)).collect();
        let second_idx = push(second, &columns);
        out.beside.push((first_idx, second_idx));
    }
}

/// Reads a table of units as columns ([`rowwise::Turned`]) as the usual
/// table, every cell named by its place on the sheet.
#[allow(clippy::too_many_arguments)]
fn ingest_turned(
    file: FileIdx,
    input: &Input,
    sheet: &str,
    grid: &Grid<'_>,
    ctx: &Context<'_>,
    out: &mut FileOut,
    (meta, unit, month): (&Meta, UnitIdx, Month),
    labels: &Header,
    turned: &rowwise::Turned,
) {
    let form = ctx.schemas.form(turned.header.form);
    let ctx_rows = rows::RowContext {
        file: &input.display,
        sheet,
        form_idx: turned.header.form,
        form,
        parent: unit,
        month,
        registry: ctx.registry,
    };
    let table = Grid::with_formulas(&turned.range, &turned.formulas);
    let mut rows = rows::read_rows(&table, &turned.header, &ctx_rows);
    for f in &mut rows.findings {
        f.cell = f.cell.map(|c| turned.place(c));
        // A row of the table turned is a column of the sheet.
        if let Detail::UnknownRow { across, .. }
        | Detail::RowAssumed { across, .. }
        | Detail::AmbiguousRow { across, .. } = &mut f.detail
        {
            *across = true;
        }
        let (Detail::SecondTotalRow {
            first_row: n,
            across,
        }
        | Detail::RowTwice {
            first_row: n,
            across,
            ..
        }
        | Detail::OwnNameBesideTotal {
            total_row: n,
            across,
            ..
        }
        | Detail::RowWithoutName { row: n, across }) = &mut f.detail
        else {
            continue;
        };
        *n = turned
            .place(CellRef {
                row: *n - 1,
                col: 0,
            })
            .col
            + 1;
        *across = true;
    }
    for c in &mut rows.obs.cell {
        *c = turned.place(*c);
    }
    for t in &mut rows.totals {
        t.cell = turned.place(t.cell);
    }
    // Each column sum's first and last unit: their cells' columns.
    for s in &mut rows.row_sums {
        let Some(&(_, col)) = turned.header.columns.iter().find(|(f, _)| *f == s.field) else {
            continue;
        };
        s.first_row = turned
            .place(CellRef {
                row: s.first_row,
                col,
            })
            .col;
        if let Some(t) = &mut s.text {
            t.first = turned.place(t.first);
        }
        s.last_row = turned
            .place(CellRef {
                row: s.last_row,
                col,
            })
            .col;
    }
    rows.total_row = None;
    // The footer below the table, as a fields-as-rows return's; else the
    // heading above its fields (of the turned table, the rows above its
    // own are the sheet's first columns, not its heading).
    let field_rows = (1..=turned.header.columns.len() as u32)
        .map(|col| turned.place(CellRef { row: 1, col }).row);
    let below = field_rows.clone().max().unwrap_or(0);
    let top = field_rows.min().unwrap_or(0);
    rows.reported_on = rows::report_date(grid, top, Some(below + 1), month);
    let unit_code = ctx.registry.unit(unit).code.0;
    report_header_columns(
        labels,
        true,
        &[],
        form,
        &|r, m| {
            Finding::new(r, m)
                .file(&input.display)
                .sheet(sheet)
                .form(&form.id)
                .unit(unit_code)
                .period(month)
        },
        &mut out.findings,
    );
    let read = Read {
        file,
        input,
        sheet,
        ctx,
        header: &turned.header,
        meta,
        unit,
        month,
        across: true,
    };
    keep_rows(&read, out, rows, None);
}

/// Whether the file's name or the sheet's names a unit outside the
/// registry's scope (`--scope`; never for a whole registry).
fn names_outside_scope(reg: &Registry, input: &Input, sheet: &str) -> bool {
    reg.outside_scope(stem(input)) || reg.outside_scope(sheet)
}

/// The file's name without its folder and extension.
fn stem(input: &Input) -> &str {
    Path::new(&input.display)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
}

/// Whether `around` (a file's and sheet's names) holds `unit`'s name or
/// one of its aliases.
fn names(around: &str, unit: &crate::registry::Unit) -> bool {
    around.contains(&unit.name) || unit.aliases.iter().any(|a| around.contains(a.as_str()))
}

/// The village a 填报单位 names, with its township: by name, alias or code
/// (南城镇团结村 too) under any township; a name two townships share
/// (新村) is the one whose township the file or the sheet names.
fn village_named(
    reg: &Registry,
    text: &str,
    file: &str,
    sheet: &str,
) -> Option<(UnitIdx, UnitIdx)> {
    let mut found: Vec<(UnitIdx, UnitIdx)> = Vec::new();
    for (t, unit) in reg.units.iter().enumerate() {
        let t = t as UnitIdx;
        if unit.level == Level::Village || unit.children.is_empty() {
            continue;
        }
        if let NameMatch::Found(v) | NameMatch::Assumed(v) = reg.find_child(t, text) {
            if reg.unit(v).level == Level::Village {
                found.push((t, v));
            }
        }
    }
    if found.len() > 1 {
        let around = format!("{file}{sheet}{text}");
        found.retain(|&(t, _)| names(&around, reg.unit(t)));
    }
    match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

fn report_header_columns(
    header: &Header,
    listed: bool,
    unlabelled: &[(CellRef, usize)],
    form: &crate::schema::Form,
    base: &dyn Fn(Rule, Detail) -> Finding,
    findings: &mut Vec<Finding>,
) {
    let has = |idx: crate::schema::FieldIdx| header.columns.iter().any(|(g, _)| *g == idx);
    // FORMS.md §3: a whole group absent (an older template without a dose)
    // has not been reported — one warning per return listing the groups —
    // while a group present without one of its columns is an error.
    let present: std::collections::HashSet<&str> = form
        .reported_fields()
        .filter(|&(i, _)| has(i))
        .filter_map(|(_, f)| f.group.as_deref())
        .collect();
    let mut absent: Vec<crate::message::Label> = Vec::new();
    for (_, f) in form.reported_fields() {
        let Some(group) = f.group.as_deref() else {
            continue;
        };
        if !present.contains(group) && !absent.iter().any(|a| a.zh == group) {
            absent.push(crate::message::Label {
                zh: group.to_string(),
                en: f
                    .group_label(crate::message::Lang::En)
                    .unwrap_or(group)
                    .to_string(),
            });
        }
    }
    let rows = (header.first_row + 1, header.last_row + 1);
    if !absent.is_empty() {
        findings.push(
            base(
                Rule::MissingColumn,
                Detail::MissingGroups {
                    groups: absent,
                    rows,
                    listed,
                },
            )
            .at_most(crate::findings::Severity::Warning),
        );
    }
    for (idx, f) in form.reported_fields() {
        let group_there = f.group.as_deref().is_none_or(|g| present.contains(g));
        if !has(idx) && group_there {
            // FORMS.md §4: a count column absent is an error; a rate's is
            // only noted, the rate being recomputed from its sides.
            let finding = if f.kind == crate::schema::Kind::Rate {
                base(
                    Rule::MissingColumn,
                    Detail::MissingRate {
                        label: f.label(),
                        rows,
                        listed,
                    },
                )
                .info()
            } else {
                base(
                    Rule::MissingColumn,
                    Detail::MissingColumn {
                        label: f.label(),
                        rows,
                        listed,
                    },
                )
            };
            findings.push(finding.field(&f.id));
        }
    }
    // FORMS.md §2: unknown columns are reported once per return — with
    // the figures typed under no label at all, named at their first cell.
    if header.unknown.is_empty() && unlabelled.is_empty() {
        return;
    }
    let unread = |why: Unread| -> Vec<String> {
        header
            .unknown
            .iter()
            .filter(|(_, w)| *w == why)
            .map(|(label, _)| label.clone())
            .collect()
    };
    let (names, again, other_period) = (
        unread(Unread::NoField),
        unread(Unread::Again),
        unread(Unread::OtherPeriod),
    );
    let noted =
        !(names.is_empty() && again.is_empty() && other_period.is_empty() && unlabelled.is_empty());
    if noted {
        let mut f = base(
            Rule::UnknownColumn,
            Detail::UnknownColumns {
                names,
                again,
                other_period,
                unlabelled: unlabelled
                    .iter()
                    .map(|(c, n)| (CellRef::col_name(c.col), *n))
                    .collect(),
            },
        );
        if let Some((cell, _)) = unlabelled.first() {
            f = f.cell(*cell);
        }
        findings.push(f);
    }
    // A field under two blocks of no known meaning (男 | 女) and no 合计:
    // figures of the return not counted, said as a warning, not a note.
    let other_block = unread(Unread::OtherBlock);
    if !other_block.is_empty() {
        findings.push(
            base(
                Rule::UnknownColumn,
                Detail::BlocksNotRead {
                    labels: other_block,
                    rows,
                },
            )
            .at_least(crate::findings::Severity::Warning),
        );
    }
}

/// Whose return a sheet is.
enum Resolved {
    /// A unit of the registry.
    Unit(UnitIdx),
    /// A unit outside `--scope`: left out without a finding; where it is
    /// above the scope (its county's summary), that unit's name.
    Outside(Option<String>),
    /// Unknown or not a reporting unit: a finding says so.
    No,
}

impl From<Option<UnitIdx>> for Resolved {
    fn from(u: Option<UnitIdx>) -> Resolved {
        u.map_or(Resolved::No, Resolved::Unit)
    }
}

fn resolve_unit(
    input: &Input,
    sheet: &str,
    meta: &Meta,
    ctx: &Context<'_>,
    base: &dyn Fn(Rule, Detail) -> Finding,
    findings: &mut Vec<Finding>,
    rows_below: Option<(&Grid<'_>, &Header)>,
) -> Resolved {
    let reg = ctx.registry;
    // A text naming a unit outside the scope: above it or beside it.
    let outside = |text: &str| Resolved::Outside(reg.above_scope(text).map(str::to_string));
    let found = |idx: UnitIdx, findings: &mut Vec<Finding>, cell: Option<CellRef>, text: &str| {
        if reg.unit(idx).level == Level::Village {
            let mut f = base(
                Rule::UnknownUnit,
                Detail::ReporterIsVillage {
                    text: text.to_string(),
                },
            )
            .value(text);
            if let Some(c) = cell {
                f = f.cell(c);
            }
            findings.push(f);
            None
        } else {
            Some(idx)
        }
    };
    if let Some((text, cell)) = &meta.unit {
        return match reg.find_reporting_unit(text) {
            NameMatch::Found(idx) => found(idx, findings, Some(*cell), text).into(),
            NameMatch::NotFound { .. } if reg.outside_scope(text) => outside(text),
            // A village's own sheet of a workbook from outside `--scope`
            // (免疫-2026-03-南城镇.xlsx!东门社区): its 填报单位 is its village.
            NameMatch::NotFound { .. }
                if reg.outside_village(text) && names_outside_scope(reg, input, sheet) =>
            {
                Resolved::Outside(None)
            }
            NameMatch::Assumed(idx) => {
                // Counted, but never silently: a longer 填报单位 holding one
                // registry name may belong to another unit.
                let unit = reg.unit(idx);
                findings.push(
                    base(
                        Rule::UnknownUnit,
                        Detail::ReporterAssumed {
                            text: text.clone(),
                            unit: unit.name.clone(),
                            code: unit.code.to_string(),
                        },
                    )
                    .cell(*cell)
                    .value(text.clone())
                    .unit(unit.code)
                    .at_most(Severity::Warning),
                );
                found(idx, findings, Some(*cell), text).into()
            }
            NameMatch::NotFound { suggestion, .. } => {
                let f = base(
                    Rule::UnknownUnit,
                    Detail::ReporterUnknown {
                        text: text.clone(),
                        suggestion,
                    },
                )
                .cell(*cell)
                .value(text.clone());
                findings.push(f);
                Resolved::No
            }
        };
    }
    let stem = stem(input);
    // A file name holds the unit's name among other words (城东街道_2026年1月_免疫).
    for text in [stem, sheet] {
        if let NameMatch::Found(idx) | NameMatch::Assumed(idx) = reg.find_reporting_unit(text) {
            return found(idx, findings, None, text).into();
        }
        if reg.outside_scope(text) {
            return outside(text);
        }
    }
    // The unit's name, alias or code alone in a cell above the header (南城镇卫生院
    // under the title), where nothing else names one: only an exact match.
    let named: Vec<(UnitIdx, &(String, CellRef))> = meta
        .heading_texts
        .iter()
        .filter_map(|h| match reg.find_reporting_unit(&h.0) {
            NameMatch::Found(idx) if reg.unit(idx).level != Level::Village => Some((idx, h)),
            _ => None,
        })
        .collect();
    if let [(idx, (text, cell)), rest @ ..] = &named[..] {
        if rest.iter().all(|(other, _)| other == idx) {
            return found(*idx, findings, Some(*cell), text).into();
        }
    }
    // The folder the file is in, where it names a unit exactly (received
    // returns kept in a folder a township).
    let folder = Path::new(&input.display)
        .parent()
        .and_then(Path::file_name)
        .and_then(|f| f.to_str())
        .unwrap_or("");
    let by_folder = match reg.find_reporting_unit(folder) {
        NameMatch::Found(idx) if reg.unit(idx).level != Level::Village => Some(idx),
        _ => None,
    };
    let from_folder = |idx: UnitIdx, rows: Option<usize>, findings: &mut Vec<Finding>| {
        let unit = reg.unit(idx);
        findings.push(
            base(
                Rule::UnknownUnit,
                Detail::ReporterFromFolder {
                    folder: folder.to_string(),
                    unit: unit.name.clone(),
                    code: unit.code.to_string(),
                    rows,
                },
            )
            .unit(unit.code)
            // Two things name it: only a note that 填报单位 is missing.
            .at_most(if rows.is_some() {
                Severity::Info
            } else {
                Severity::Warning
            }),
        );
        Resolved::Unit(idx)
    };
    // Nothing names the unit, but its rows are one township's villages:
    // that township's return, counted and said so.
    let names = rows_below.map_or_else(Vec::new, |(grid, header)| meta::row_names(grid, header));
    if let Some((idx, rows)) = reg.parent_of_rows(&names) {
        if by_folder == Some(idx) {
            return from_folder(idx, Some(rows), findings);
        }
        let unit = reg.unit(idx);
        findings.push(
            base(
                Rule::UnknownUnit,
                Detail::ReporterFromRows {
                    unit: unit.name.clone(),
                    code: unit.code.to_string(),
                    rows,
                },
            )
            .unit(unit.code)
            .at_most(Severity::Warning),
        );
        return found(idx, findings, None, &unit.name).into();
    }
    if let Some(idx) = by_folder {
        return from_folder(idx, None, findings);
    }
    if reg.outside_scope(folder) {
        return outside(folder);
    }
    findings.push(base(Rule::UnknownUnit, Detail::ReporterMissing));
    Resolved::No
}

/// Where neither the sheet's cells nor the file's name give a month: a 报告期
/// of a month alone (1月), else the sheet's name (a workbook of a sheet a
/// month: 2026年1月, 1月, 一月). A month alone takes the year the file's
/// name, its folder's, the title or `--period` writes; where none does,
/// the 报出日期's (said).
fn month_alone(
    input: &Input,
    sheet: &str,
    meta: &Meta,
    user: Option<Month>,
    base: &dyn Fn(Rule, Detail) -> Finding,
    findings: &mut Vec<Finding>,
) -> Option<Month> {
    let cell = meta
        .period
        .as_ref()
        .and_then(|(t, c)| crate::period::bare_month(t).map(|m| (t.clone(), Some(*c), m)));
    if cell.is_none() {
        if let [m] = crate::period::months_in_file_name(sheet)[..] {
            return Some(m);
        }
    }
    let (text, cell, month) =
        cell.or_else(|| crate::period::bare_month(sheet).map(|m| (sheet.to_string(), None, m)))?;
    if let Some(m) = year_of_bare_month(input, meta, user, month) {
        return Some(m);
    }
    let d = meta.years.reported?;
    let year = if month <= d.month { d.year } else { d.year - 1 };
    let m = Month::new(year, month)?;
    let mut f = base(
        Rule::PeriodMissing,
        Detail::PeriodYearAssumed {
            text: text.clone(),
            reported: d,
            month: m,
            sheet_name: cell.is_none(),
        },
    )
    .value(text)
    .period(m)
    .at_most(Severity::Warning);
    if let Some(c) = cell {
        f = f.cell(c);
    }
    findings.push(f);
    Some(m)
}

/// The month `month` (1–12) of the one year the file's name, its folders',
/// the sheet's title or `--period` (`user`, of that month) write; none
/// where they write none, or several.
fn year_of_bare_month(
    input: &Input,
    meta: &Meta,
    user: Option<Month>,
    month: u32,
) -> Option<Month> {
    let mut years: Vec<i32> = Vec::new();
    let path = Path::new(&input.display);
    let names = path.iter().rev().take(3).filter_map(|s| s.to_str());
    for y in names
        .flat_map(crate::period::years_in)
        .chain(meta.years.heading.iter().copied())
        .chain(user.filter(|u| u.month() == month).map(Month::year))
    {
        if !years.contains(&y) {
            years.push(y);
        }
    }
    match years.as_slice() {
        [year] => Month::new(*year, month),
        _ => None,
    }
}

fn resolve_month(
    input: &Input,
    sheet: &str,
    meta: &Meta,
    ctx: &Context<'_>,
    base: &dyn Fn(Rule, Detail) -> Finding,
    findings: &mut Vec<Finding>,
) -> Option<Month> {
    let file_name = Path::new(&input.display)
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("");
    let mut file_months = crate::period::months_in_file_name(file_name);
    if file_months.is_empty() {
        // A month folder (`2026-01/城东街道.xlsx`) names the month too.
        if let Some(dir) = Path::new(&input.display)
            .parent()
            .and_then(|d| d.file_name())
            .and_then(|d| d.to_str())
        {
            file_months = crate::period::months_in_file_name(dir);
        }
    }
    let user = match ctx.period {
        Some(Period::Month(m)) => Some(m),
        _ => None,
    };
    let mut sources: Vec<(MonthSource, Month, Option<CellRef>)> = Vec::new();
    if let Some((text, cell)) = &meta.period {
        let ms = crate::period::months_in_text(text);
        for m in &ms {
            sources.push((MonthSource::Sheet(text.clone()), *m, Some(*cell)));
        }
    } else if let Some((text, cell)) = &meta.heading_month {
        for m in crate::period::months_in_text(text) {
            sources.push((MonthSource::Heading(text.clone()), m, Some(*cell)));
        }
    }
    for m in &file_months {
        sources.push((MonthSource::FileName(file_name.to_string()), *m, None));
    }
    if sources.is_empty() {
        if let Some(m) = month_alone(input, sheet, meta, user, base, findings) {
            return Some(m);
        }
    }
    // `--period` selects what is reported; it never overrides a return's own
    // month. Only a return that names no month is taken to be of it.
    if sources.is_empty() {
        if let Some(m) = user {
            return Some(m);
        }
    }
    let Some((_, first, _)) = sources.first().cloned() else {
        let f = match &meta.period {
            Some((text, cell)) => base(Rule::PeriodMissing, Detail::PeriodNotAMonth(text.clone()))
                .cell(*cell)
                .value(text.clone()),
            None => base(Rule::PeriodMissing, Detail::PeriodMissing),
        };
        findings.push(f);
        return None;
    };
    if let Some((what, m, cell)) = sources.iter().find(|(_, m, _)| *m != first) {
        let (first_what, _, first_cell) = &sources[0];
        let mut f = base(
            Rule::PeriodConflict,
            Detail::PeriodConflict {
                first: (first_what.clone(), first),
                second: (what.clone(), *m),
            },
        );
        if let Some(c) = first_cell.or(*cell) {
            f = f.cell(c);
        }
        findings.push(f);
        return None;
    }
    Some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_tree_is_walked_in_path_order_with_only_its_workbooks() {
        let root = tempfile::tempdir().unwrap();
        let files = [
            "b/2026-02/城东街道.xlsx",
            "b/2026-01/城西街道.XLS",
            "b/2026-01/~$城西街道.xlsx",
            "b/2026-01/说明.docx",
            "a.xlsx",
            "b.xlsx",
            "c/d/e/f.xls",
            "c/notes.txt",
            "c/2.xlsx",
            "c/10.xlsx",
        ];
        for f in files {
            let path = root.path().join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, b"").unwrap();
        }
        std::fs::create_dir_all(root.path().join("empty/also empty")).unwrap();
        let mut found = Vec::new();
        walk(root.path(), &[], &mut found).unwrap();
        let found: Vec<String> = found
            .iter()
            .map(|p| {
                let rel = p.strip_prefix(root.path()).unwrap();
                rel.to_string_lossy().replace('\\', "/")
            })
            .collect();
        // Each folder's entries by name ("10" before "2"), a folder's
        // workbooks where its name falls ("b" before "b.xlsx"); no lock
        // files, no other documents.
        assert_eq!(
            found,
            [
                "a.xlsx",
                "b/2026-01/城西街道.XLS",
                "b/2026-02/城东街道.xlsx",
                "b.xlsx",
                "c/10.xlsx",
                "c/2.xlsx",
                "c/d/e/f.xls",
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_back_up_the_tree_is_walked_once() {
        let root = tempfile::tempdir().unwrap();
        let month = root.path().join("returns/2026-01");
        std::fs::create_dir_all(&month).unwrap();
        std::fs::write(month.join("城东街道.xlsx"), b"").unwrap();
        // A shortcut to the whole tree inside it, and one to a sibling.
        std::os::unix::fs::symlink(root.path().join("returns"), month.join("all")).unwrap();
        std::fs::create_dir_all(root.path().join("other")).unwrap();
        std::fs::write(root.path().join("other/城西街道.xlsx"), b"").unwrap();
        std::os::unix::fs::symlink(root.path().join("other"), month.join("other")).unwrap();
        let inputs = collect_inputs(&[root.path().join("returns")]).expect("walked");
        let names: Vec<String> = inputs
            .iter()
            .map(|i| {
                let rel = i.path.strip_prefix(root.path()).unwrap();
                rel.to_string_lossy().into_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "returns/2026-01/other/城西街道.xlsx",
                "returns/2026-01/城东街道.xlsx"
            ]
        );
    }
}
