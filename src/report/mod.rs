//! Writers: the report workbook and the CSV exports. Writers know no rules;
//! they lay out what aggregation and validation produced. Every file is
//! written to a temporary file beside its target and renamed into place, so
//! a crash never leaves a half-written report.

/// Every format of a struct of formats, each once, for numbering them
/// before the sheets are built (see `xlsx::report_sheets`): the struct
/// destructured field by field (`$one` a format each, `$many` an array of
/// them), so that a field left out of the list does not build.
macro_rules! every_format {
    ($formats:expr, $ty:ident { $($one:ident),* $(,)? ; $($many:ident),* $(,)? }) => {{
        let $ty { $($one,)* $($many,)* } = $formats;
        let mut all: Vec<&rust_xlsxwriter::Format> = vec![$($one),*];
        $(all.extend($many.iter());)*
        all
    }};
}

pub mod board;
pub mod bulletin;
pub mod csv;
pub mod feedback;
pub mod print;
pub mod sheet;
pub mod summary;
pub mod xlsx;

use std::io::Write;
use std::path::Path;

use crate::findings::Finding;
use crate::message::{io_reason, Access, Label, Lang};
use crate::period::Month;
use crate::period::Period;
use crate::registry::Registry;
use crate::registry::UnitIdx;
use crate::schema::Schemas;

/// A bordered 10-point table cell: the base of the summary sheets' and the
/// templates' tables.
pub(crate) fn table_cell() -> rust_xlsxwriter::Format {
    rust_xlsxwriter::Format::new()
        .set_border(rust_xlsxwriter::FormatBorder::Thin)
        .set_font_size(10)
}

/// A column header of those tables: bold, wrapped, centred, light blue.
pub(crate) fn table_header() -> rust_xlsxwriter::Format {
    use rust_xlsxwriter::FormatAlign;
    table_cell()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color(0xD9E1F2)
}

/// The issuer of what phstats publishes: `--issuer` as given, or the
/// registry's top unit + 卫生健康委员会 (FORMS.md §8). A township has no
/// health commission: where the top unit is one (`--scope 东城街道`), its
/// health centre is, which fills in and sends its returns ([`health_centre`]).
/// The 通报's 发文机关, the 汇总表's 填报单位 and the templates' 制定机关 all
/// ask here.
#[must_use]
pub fn issuer(registry: &Registry, given: Option<&str>) -> String {
    if let Some(given) = given {
        return given.to_string();
    }
    registry
        .root()
        .map(|r| {
            let unit = registry.unit(r);
            if unit.level == crate::registry::Level::Township {
                health_centre(unit)
            } else {
                format!("{}卫生健康委员会", unit.name)
            }
        })
        .unwrap_or_default()
}

/// A township's health centre: the registry's alias that names one
/// (东城街道社区卫生服务中心), else the township's name + 社区卫生服务中心 for
/// a 街道 and + 卫生院 for a 镇 or 乡 (南城镇卫生院).
fn health_centre(unit: &crate::registry::Unit) -> String {
    const CENTRES: [&str; 3] = ["社区卫生服务中心", "中心卫生院", "卫生院"];
    if let Some(alias) = unit
        .aliases
        .iter()
        .find(|a| CENTRES.iter().any(|c| a.ends_with(c)))
    {
        return alias.clone();
    }
    if unit.name.ends_with("街道") {
        format!("{}社区卫生服务中心", unit.name)
    } else {
        format!("{}卫生院", unit.name)
    }
}

/// What a period asked for says where its returns stop short of its end
/// (`covered`, [`crate::observation::Batch::covered`]): `None` where they
/// reach it. The terminal and the workbook's 说明 both say this.
#[must_use]
pub fn reach_note(period: Period, covered: Period, lang: Lang) -> Option<String> {
    if covered == period {
        return None;
    }
    let (first, last) = covered.bounds();
    Some(match lang {
        Lang::Zh => format!(
            "{}的报表只读到{}年{}月，此后的月份还没有报表：汇总的是{}的数字",
            period.label_zh(),
            last.year(),
            last.month(),
            covered.label_zh()
        ),
        Lang::En => format!(
            "{period} has returns only up to {last}: the report holds the figures of {first}..{last}"
        ),
    })
}

/// A period as a person reads it: `2026年第二季度` / `2026Q2`.
#[must_use]
pub fn period_label(p: Period, lang: Lang) -> String {
    match lang {
        Lang::Zh => p.label_zh(),
        Lang::En => p.to_string(),
    }
}

/// A flow's label for the period reported: `本月随访人次` on a monthly
/// sheet reads `本季度随访人次` on a quarterly one, `本年…` on a yearly one,
/// `本期…` otherwise (FORMS.md §3: flows are summed over the period).
#[must_use]
pub fn flow_label(label: &str, period: Period, lang: Lang) -> String {
    match lang {
        Lang::Zh => {
            let Some(rest) = label.strip_prefix("本月") else {
                return label.to_string();
            };
            let word = match period {
                Period::Month(_) => "本月",
                Period::Quarter(..) => "本季度",
                Period::Year(_) => "本年",
                Period::Half(..) | Period::Range(..) => "本期",
            };
            format!("{word}{rest}")
        }
        Lang::En => {
            let word = match period {
                Period::Month(_) => "this month",
                Period::Quarter(..) => "this quarter",
                Period::Year(_) => "this year",
                Period::Half(..) | Period::Range(..) => "this period",
            };
            label.replace("this month", word)
        }
    }
}

/// One finding as a row a person reads (the 审核结果 sheet and the
/// feedback list): level, rule by its 中文名 (its id in English), form title, period,
/// unit name, file, sheet, cell, column label, value, problem and fix.
#[must_use]
pub fn finding_cells(
    f: &Finding,
    schemas: &Schemas,
    registry: &Registry,
    lang: Lang,
) -> [String; 11] {
    let form = f
        .form
        .as_deref()
        .and_then(|id| schemas.form_idx(id))
        .map(|i| schemas.form(i));
    let field = match (form, f.field.as_deref()) {
        (Some(form), Some(id)) => form
            .field_idx(id)
            .map(|i| form.field(i).label().get(lang).to_string())
            .unwrap_or_else(|| id.to_string()),
        (_, id) => id.unwrap_or_default().to_string(),
    };
    let unit = f
        .unit_code
        .and_then(|c| registry.by_code(c))
        .map(|u| registry.unit(u).name.clone())
        .unwrap_or_default();
    let period = f.period.map(|p| period_label(p, lang)).unwrap_or_default();
    [
        f.severity_label(lang).to_string(),
        // The rule as a person names it; its id stays in findings.csv.
        match lang {
            Lang::Zh => f.rule.zh().to_string(),
            Lang::En => f.rule.id().to_string(),
        },
        form.map(|x| x.title_in(lang).to_string())
            .unwrap_or_default(),
        period,
        unit,
        f.file.clone().unwrap_or_default(),
        f.sheet.clone().unwrap_or_default(),
        f.cell.map(|c| c.to_string()).unwrap_or_default(),
        field,
        f.value.clone().unwrap_or_default(),
        f.message_with_help(lang),
    ]
}

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// File system error.
    #[error("cannot write {path}: {}", reason.en)]
    Io {
        /// Target path.
        path: String,
        /// What went wrong, in both languages.
        reason: Label,
    },
    /// The workbook writer failed.
    #[error("cannot build the report workbook: {0}")]
    Xlsx(String),
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, flushed to disk, then renamed over the target.
///
/// # Errors
/// The directory is not writable or the rename fails.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// [`write_atomic`], returning before the file is flushed to disk (see
/// [`write_atomic_file_deferred`]).
///
/// # Errors
/// The directory is not writable or the write fails.
pub fn write_atomic_deferred(path: &Path, bytes: &[u8]) -> Result<Pending, ReportError> {
    write_atomic_file_deferred(path, |mut file| file.write_all(bytes))
}

/// Streams an output into `path` atomically: `write` fills a buffered
/// temporary file beside the target, which is flushed to disk and renamed
/// into place only when `write` succeeds. A large export is never held in
/// memory whole, and a failure or crash leaves the previous file intact.
///
/// # Errors
/// The directory is not writable, `write` fails, or the rename fails; the
/// error names `path`.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> Result<(), ReportError> {
    write_atomic_with_deferred(path, write)?.finish()
}

/// [`write_atomic_with`], returning once `write` is done, like
/// [`write_atomic_file_deferred`]: the file is in place only once the
/// [`Pending`] is finished.
///
/// # Errors
/// The directory is not writable or `write` fails; the error names `path`.
pub fn write_atomic_with_deferred(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> Result<Pending, ReportError> {
    write_atomic_file_deferred(path, |file| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        write(&mut w)?;
        w.flush()
    })
}

/// [`write_atomic_with_deferred`] for a writer that needs the file itself:
/// `fill` may write at any offset, from several threads
/// (`FileExt::write_all_at`). It returns once `fill` is done: the file is
/// flushed to disk and renamed into place on a thread of its own, waiting
/// on the disk while the caller's threads go on computing. It is in place
/// only once [`Pending::finish`] returns (or the [`Pending`] is dropped).
///
/// # Errors
/// The directory is not writable or `fill` fails; the error names `path`.
pub fn write_atomic_file_deferred(
    path: &Path,
    fill: impl FnOnce(&std::fs::File) -> std::io::Result<()>,
) -> Result<Pending, ReportError> {
    let io = ReportError::from_io(path);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    clean_stale_temps(dir);
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    {
        // Reports are shared documents, not secrets: rw-r--r--, like any
        // file the user saves (tempfile's default is owner-only).
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let tmp = builder.tempfile_in(dir).map_err(&io)?;
    fill(tmp.as_file()).map_err(&io)?;
    let target = path.to_path_buf();
    let handle = std::thread::Builder::new()
        .spawn(move || {
            let io = ReportError::from_io(&target);
            tmp.as_file().sync_all().map_err(&io)?;
            tmp.persist(&target).map_err(|e| io(e.error))?;
            Ok(())
        })
        .map_err(&io)?;
    Ok(Pending {
        path: path.to_path_buf(),
        handle: Some(handle),
    })
}

/// A file written beside its target, being flushed to disk and renamed
/// into place (see [`write_atomic_file_deferred`]). Dropped unfinished,
/// on the way out of a run that failed elsewhere, it still waits for its
/// file to be in place: the process never ends with it half done.
#[must_use = "the file is in place only once finished"]
pub struct Pending {
    path: std::path::PathBuf,
    /// `None` once waited for.
    handle: Option<std::thread::JoinHandle<Result<(), ReportError>>>,
}

impl Pending {
    /// Waits until the file is on disk under its name.
    ///
    /// # Errors
    /// Flushing or the rename failed; the error names the file.
    pub fn finish(mut self) -> Result<(), ReportError> {
        match self.handle.take().map(std::thread::JoinHandle::join) {
            Some(Ok(done)) => done,
            Some(Err(_)) | None => Err(ReportError::Io {
                path: self.path.display().to_string(),
                reason: Label {
                    zh: "写入磁盘时出错".into(),
                    en: "flushing it to disk failed".into(),
                },
            }),
        }
    }

    /// Finishes every one of `pending`, in order; the first failure is
    /// returned, and the rest are still waited for as they are dropped.
    ///
    /// # Errors
    /// Flushing or a rename failed; the error names the file.
    pub fn finish_all(pending: Vec<Pending>) -> Result<(), ReportError> {
        pending.into_iter().try_for_each(Pending::finish)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            // Its error, if any, is not the one being reported.
            let _ = handle.join();
        }
    }
}

/// Temporary files are `.phstats-<pid>-<random>.tmp`: the pid tells a
/// file left by a crashed run from one another run is writing right now.
const TEMP_PREFIX: &str = ".phstats-";
const TEMP_SUFFIX: &str = ".tmp";

/// Text as the content or an attribute of XML or HTML: the five markup
/// characters escaped, and a control character (not allowed in XML 1.0, and
/// never meant in a name) shown as `\u{…}`. The 通报 and the status page
/// both write through it.
#[must_use]
pub fn escape_markup(text: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether `name` is one of phstats' temporary files (a crash may leave one).
#[must_use]
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

/// Removes, once per directory and run, the temporary files a crashed run
/// left in `dir`: those whose process is gone, or, where that cannot be
/// told, that are over an hour old.
fn clean_stale_temps(dir: &Path) {
    static CLEANED: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());
    let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    {
        let Ok(mut cleaned) = CLEANED.lock() else {
            return;
        };
        if cleaned.contains(&key) {
            return;
        }
        cleaned.push(key);
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name
            .strip_prefix(TEMP_PREFIX)
            .and_then(|r| r.strip_suffix(TEMP_SUFFIX))
        else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let stale = match pid {
            Some(pid) if Path::new("/proc/self").exists() => {
                pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
            }
            _ => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(3600)),
        };
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

impl ReportError {
    /// A file-system error on `path`.
    pub fn from_io(path: &Path) -> impl Fn(std::io::Error) -> ReportError + '_ {
        move |e| ReportError::Io {
            path: path.display().to_string(),
            reason: io_reason(&e, Access::Write),
        }
    }

    /// The error as a person reads it, in `lang`.
    #[must_use]
    pub fn render(&self, lang: Lang) -> String {
        match (self, lang) {
            (ReportError::Io { path, reason }, Lang::Zh) => {
                format!("无法写入 {path}：{}", reason.zh)
            }
            (ReportError::Xlsx(what), Lang::Zh) => format!("无法生成工作簿：{what}"),
            (e, Lang::En) => e.to_string(),
        }
    }
}

/// Each unit of `list` ([`crate::validate::returns::Tally::missing_in`] or
/// `late_in`) once, as a person reads it: over a `period` of several months
/// with its months (`东城街道（10月、12月）`), in a month its name alone. The
/// status board and the 通报 name late and missing units so.
pub fn units_with_months<'a>(
    registry: &'a Registry,
    list: &'a [(UnitIdx, Month)],
    period: Period,
    lang: Lang,
) -> impl Iterator<Item = String> + 'a {
    let (lo, hi) = period.bounds();
    let label = move |m: Month| match lang {
        Lang::Zh if lo.year() == hi.year() => format!("{}月", m.month()),
        _ => crate::message::month_label(m, lang),
    };
    crate::validate::returns::Tally::by_unit(list).map(move |(u, ms)| {
        let name = &registry.unit(u).name;
        if lo == hi {
            return name.clone();
        }
        let ms: Vec<String> = ms.into_iter().map(label).collect();
        match lang {
            Lang::Zh => format!("{name}（{}）", ms.join("、")),
            Lang::En => format!("{name} ({})", ms.join(", ")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bureau issues as its commission; a township's own report as its
    /// health centre, named by the registry where it names one.
    #[test]
    fn a_township_issues_as_its_health_centre() {
        let csv = "code,name,level,parent_code,aliases
439900000000,青山市,city,,
439902000000,东湖区,county,439900000000,
439902001000,城东街道,township,439902000000,
439902101000,新民镇,township,439902000000,新民镇中心卫生院|新民
439902201000,和平乡,township,439902000000,
439902001001,东门社区,village,439902001000,
439902101201,新村,village,439902101000,
439902201201,和平村,village,439902201000,
";
        let r = Registry::from_csv(csv.as_bytes(), "units.csv").unwrap();
        let of = |scope: Option<&str>| {
            let scoped = scope.map(|s| r.scoped(s).unwrap());
            issuer(scoped.as_ref().unwrap_or(&r), None)
        };
        assert_eq!(of(None), "青山市卫生健康委员会");
        assert_eq!(of(Some("东湖区")), "东湖区卫生健康委员会");
        assert_eq!(of(Some("城东街道")), "城东街道社区卫生服务中心");
        assert_eq!(of(Some("新民镇")), "新民镇中心卫生院");
        assert_eq!(of(Some("和平乡")), "和平乡卫生院");
        assert_eq!(issuer(&r, Some("某某单位")), "某某单位");
    }

    #[test]
    fn an_output_dropped_unfinished_is_in_place_once_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aggregates.csv");
        let pending = write_atomic_deferred(&path, &[b'x'; 1 << 20]).unwrap();
        // As on the way out of a run that failed elsewhere.
        drop(pending);
        assert_eq!(std::fs::read(&path).unwrap().len(), 1 << 20);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
    }

    #[test]
    fn a_failed_write_leaves_the_previous_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aggregates.csv");
        write_atomic(&path, b"previous report").unwrap();
        let failed = write_atomic_with(&path, |w| {
            w.write_all(&[b'x'; 3 << 20]).unwrap();
            Err(std::io::Error::other("interrupted"))
        });
        assert!(failed.is_err());
        // What a crashed run left behind goes with the next run's first write
        // there; what a live process is writing stays.
        let later = tempfile::tempdir().unwrap();
        let crashed = later.path().join(".phstats-999999999-abc.tmp");
        let live = later
            .path()
            .join(format!(".phstats-{}-live.tmp", std::process::id()));
        std::fs::write(&crashed, b"half a report").unwrap();
        std::fs::write(&live, b"being written").unwrap();
        write_atomic(&later.path().join("report.xlsx"), b"x").unwrap();
        assert!(!crashed.exists(), "a crashed run's temporary is removed");
        assert!(live.exists(), "a running process's temporary stays");
        assert_eq!(std::fs::read(&path).unwrap(), b"previous report");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "the temporary file is removed");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }
}
