//! The store (FORMS.md §7): every submission ever ingested, its history and
//! the figures in force, as plain Parquet that polars, DuckDB, pandas or
//! Spark read as they are.
//!
//! ```text
//! STORE/manifest.json                                   {"format":"phstats-store","version":1,"generation":N,…}
//! STORE/observations/city=<code>/month=<YYYY-MM>/part-<gen>.parquet   every figure, appended per ingest
//! STORE/submissions/generation=<N>/submissions.parquet  every submission and its status, as of generation N
//! STORE/submissions/generation=<N>/findings.parquet     what reading each file found
//! STORE/submissions/generation=<N>/units.csv            the registry as ingested
//! STORE/submissions/generation=<N>/counted-<YYYY-MM>.bin each month's counted figures (crate::counted)
//! ```
//!
//! An ingest writes its new observation parts and a whole new generation of
//! the (small) submission tables, then swaps `manifest.json` by rename: the
//! commit. A crash before the swap leaves the manifest naming the previous
//! generation, whose files are untouched; what the crashed ingest wrote is
//! not in force (its submission ids are in no committed table) and the next
//! ingest removes it. Readers take the generation from the manifest.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::counted::CountedMonth;
use crate::findings::{CellRef, Finding};
use crate::message::{io_reason, Access, Label, Lang};
use crate::observation::{Batch, Observations, Return, ReturnStatus, RowSum, TotalCell};
use crate::period::{Day, Month};
use crate::registry::{Registry, UnitCode, UnitIdx};
use crate::schema::{FormIdx, Schemas};

/// What `manifest.json` says a store is.
pub const FORMAT: &str = "phstats-store";
/// The layout version this build writes and reads. Version 2 keeps each
/// generation's new returns' layouts in a part of their own
/// (`layouts/part-G.parquet`), as it keeps their figures, where version 1
/// kept every layout in the submissions table, read and written whole by
/// every ingest: on a city's twelfth month, 45 MB of JSON decompressed and
/// compressed again, 0.23 s of a 1.0 s ingest at one thread. A version-1
/// store is read and written as it is.
pub const VERSION: u32 = 2;
/// The first version with layout parts.
const LAYOUT_PARTS: u32 = 2;
const MANIFEST: &str = "manifest.json";
/// The folder of the layout parts (version 2 on).
const LAYOUTS: &str = "layouts";

/// The manifest: the commit point of a store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Layout version.
    pub version: u32,
    /// The generation in force.
    pub generation: u64,
    /// The registry's root code, the `city=` partition.
    pub city: String,
    /// When the generation was committed.
    pub updated_at: String,
}

/// Why a store could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The folder holds files but no store manifest.
    #[error("{} is not a phstats store (no manifest.json); nothing was touched", .0)]
    NotAStore(String),
    /// The manifest is there but cannot be read.
    #[error("the manifest of the store {path} is damaged ({reason}); nothing was touched: restore it from a backup")]
    Damaged {
        /// The store.
        path: String,
        /// What was wrong with it.
        reason: String,
    },
    /// `store rollback N` to a generation that is not kept.
    #[error("the store {path} keeps no generation {asked} (it keeps {kept:?})")]
    NoGeneration {
        /// The store.
        path: String,
        /// The generation asked for.
        asked: u64,
        /// Those kept.
        kept: Vec<u64>,
    },
    /// A figures part that the generation in force names is not there.
    #[error("the store is damaged: {path}, which holds the figures of {submission}, is missing; nothing was touched: restore it from a backup")]
    MissingPart {
        /// The part.
        path: String,
        /// A submission whose figures it holds (`file!sheet`).
        submission: String,
    },
    /// The manifest reads, but what it says cannot be so.
    #[error("the manifest of the store {path} cannot be right: {}; nothing was touched", .reason.en)]
    Manifest {
        /// The store.
        path: String,
        /// What is wrong, in both languages.
        reason: Label,
    },
    /// Written by a newer phstats.
    #[error("the store {path} was written by a newer phstats (layout version {found}, this one reads {VERSION}); nothing was touched")]
    Newer {
        /// The store.
        path: String,
        /// Its version.
        found: u32,
    },
    /// A file could not be read or written.
    #[error("store {path}: {}", .reason.en)]
    Io {
        /// The file.
        path: String,
        /// What the system's refusal means, in both languages.
        reason: Label,
    },
    /// A table could not be read or written.
    #[error("store table {path}: {reason}")]
    Table {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A stored value is missing or cannot be read: the store is damaged
    /// there, and nothing is guessed in its place.
    #[error("store table {path}, row {row}, column {column}: {}", .found.as_deref().map_or("the value is missing".to_string(), |f| format!("`{f}` cannot be read")))]
    Value {
        /// The file.
        path: String,
        /// The column.
        column: String,
        /// The row, from 1.
        row: usize,
        /// The value found, when there is one that does not parse.
        found: Option<String>,
    },
    /// Another writer holds the store, and did not let go in time.
    #[error("the store {path} is being written by another phstats ({}); waited {waited} s; nothing was written: try again once it has finished", holder_said(.holder, Lang::En))]
    Locked {
        /// The store.
        path: String,
        /// Who holds it, as it wrote itself into the lock file.
        holder: String,
        /// Seconds waited.
        waited: u64,
    },
    /// A failure injected by a test (`PHSTATS_FAIL_AT`).
    #[error("injected failure at {0}")]
    Injected(String),
    /// A `--since` / `--as-of` that is neither a generation nor a day.
    #[error("not a generation or a day: {0}")]
    NotAGeneration(String),
    /// No generation kept was committed by that day.
    #[error("no generation kept was committed by {0}")]
    NoneBy(String),
}

impl StoreError {
    /// The error as a person reads it, in `lang`.
    #[must_use]
    pub fn render(&self, lang: Lang) -> String {
        match (self, lang) {
            (StoreError::NotAStore(p), Lang::Zh) => {
                format!("{p} 不是 phstats 数据库（没有 manifest.json），未作任何改动")
            }
            (StoreError::Newer { path, found }, Lang::Zh) => format!(
                "数据库 {path} 由更新版本的 phstats 写入（格式版本 {found}，本版本只能读 {VERSION}），未作任何改动"
            ),
            (StoreError::Io { path, reason }, Lang::Zh) => {
                format!("数据库文件 {path}：{}；数据库保持原样", reason.zh)
            }
            (StoreError::Table { path, reason }, Lang::Zh) => {
                format!("数据库表 {path} 无法读写（已损坏或磁盘已满？原因：{reason}）；数据库保持原样")
            }
            (StoreError::Damaged { path, reason }, Lang::Zh) => format!(
                "数据库 {path} 的 manifest.json 已损坏（{reason}），未作任何改动；请从备份恢复该文件"
            ),
            (StoreError::Value { path, column, row, found }, Lang::Zh) => {
                let what = match found {
                    None => "缺少值".to_string(),
                    Some(f) => format!("的值“{f}”无法识别"),
                };
                format!("数据库表 {path} 第 {row} 行的 {column} 列{what}：数据库在此处已损坏，phstats 不会猜测代替；数据库保持原样，请从备份恢复该文件")
            }
            (StoreError::Locked { path, holder, waited }, Lang::Zh) => format!(
                "数据库 {path} 正由另一个 phstats 写入（{}），已等待 {waited} 秒仍未结束；本次未写入任何内容，请待其完成后再试（--wait 可加长等待）",
                holder_said(holder, Lang::Zh)
            ),
            (StoreError::NoGeneration { path, asked, kept }, Lang::Zh) => format!(
                "数据库 {path} 中没有保留第 {asked} 版（保留的有：{}）；未作任何改动",
                kept.iter().map(|g| format!("第 {g} 版")).collect::<Vec<_>>().join("、")
            ),
            (StoreError::MissingPart { path, submission }, Lang::Zh) => format!(
                "数据库已损坏：存放 {submission} 等报表数字的文件 {path} 不见了；未作任何改动。这不是乡镇未报送，请从备份恢复该文件"
            ),
            (StoreError::Manifest { path, reason }, Lang::Zh) => format!(
                "数据库 {path} 的 manifest.json 不可能正确：{}；未作任何改动。请用 phstats 写入的原件恢复该文件",
                reason.zh
            ),
            (StoreError::Injected(at), Lang::Zh) => format!("测试注入的故障：{at}；数据库保持原样"),
            (StoreError::NotAGeneration(t), Lang::Zh) => {
                format!("“{t}”既不是版本号（如 3，见 store log）也不是日期（如 2026-04-10）")
            }
            (StoreError::NoneBy(day), Lang::Zh) => {
                format!("{day} 当天及以前数据库中没有保留的版本（见 store log）")
            }
            (e, Lang::En) => e.to_string(),
        }
    }
}

/// A store file that could not be read (`access` Read) or written.
fn io_err(path: &Path, access: Access) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::Io {
        path: path.display().to_string(),
        reason: io_reason(&e, access),
    }
}

/// A stored value that must be there: its absence is [`StoreError::Value`]
/// naming the file, column and row (`i` from 0), never a default.
fn need<T>(v: Option<T>, path: &Path, column: &str, i: usize) -> Result<T, StoreError> {
    v.ok_or_else(|| StoreError::Value {
        path: path.display().to_string(),
        column: column.to_string(),
        row: i + 1,
        found: None,
    })
}

/// A stored value that does not parse, at the file, column and row (`i` from 0).
fn unreadable_value(path: &Path, column: &str, i: usize, found: &str) -> StoreError {
    StoreError::Value {
        path: path.display().to_string(),
        column: column.to_string(),
        row: i + 1,
        found: Some(crate::findings::clip(found.to_string())),
    }
}

fn table_err(path: &Path) -> impl Fn(PolarsError) -> StoreError + '_ {
    move |e| StoreError::Table {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Column `name` of the table read from `path`, as the type `as_type`
/// asks for (`Column::str`, `Column::u64`…); a missing column or another
/// type is a table error naming the file.
fn typed<'a, T: PolarsDataType>(
    df: &'a DataFrame,
    path: &Path,
    name: &str,
    as_type: fn(&'a Column) -> PolarsResult<&'a ChunkedArray<T>>,
) -> Result<&'a ChunkedArray<T>, StoreError> {
    df.column(name).and_then(as_type).map_err(table_err(path))
}

/// The lock file every writer of a store holds (FORMS.md §7: one writer
/// at a time).
pub const LOCK: &str = ".phstats.lock";

/// A writer's hold on a store: an exclusive lock of the operating system
/// on its lock file, released when this is dropped (or the process ends,
/// however it ends: a crash never leaves a store locked).
#[derive(Debug)]
pub struct StoreLock {
    _file: std::fs::File,
}

impl StoreLock {
    /// Takes the store at `dir` for writing, waiting up to `wait` for another
    /// writer to finish. A folder that is neither a store nor empty is left
    /// untouched (no lock file is made in it).
    ///
    /// # Errors
    /// [`StoreError::Locked`] naming the holder once `wait` has passed; a
    /// folder that is not a store; the lock file cannot be made.
    pub fn take(dir: &Path, wait: std::time::Duration, who: &str) -> Result<StoreLock, StoreError> {
        use std::io::{Read as _, Seek as _, Write as _};
        if !dir.join(MANIFEST).exists() {
            make_new_store_dir(dir)?;
        }
        let path = dir.join(LOCK);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err(&path, Access::Write))?;
        let start = std::time::Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < wait => {
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    return Err(StoreError::Locked {
                        path: dir.display().to_string(),
                        holder: holder.trim().to_string(),
                        waited: start.elapsed().as_secs(),
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(io_err(&path, Access::Write)(e))
                }
            }
        }
        // Who holds it, for a writer that has to wait.
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = write!(file, "pid {} {who} {}", std::process::id(), now_iso());
        let _ = file.flush();
        Ok(StoreLock { _file: file })
    }
}

/// What a writer of the store does, as the lock file and a generation's
/// commit record it (`ingest`, `rollback`, `withdraw`, `confirm`), in
/// `lang`; anything else as recorded.
#[must_use]
pub fn action_said(word: &str, lang: Lang) -> &str {
    match (word, lang) {
        ("ingest", Lang::Zh) => "入库",
        ("rollback", Lang::Zh) => "回退",
        ("withdraw", Lang::Zh) => "撤回",
        ("confirm", Lang::Zh) => "标为已核实",
        _ => word,
    }
}

/// Who holds the store, as [`StoreLock::take`] wrote it into the lock file
/// (`pid 1739 ingest 2026-12-07T11:24:31.86+08:00`): the process, what it
/// does and since when, in `lang`. Anything else (a lock file of another
/// version, or empty) as found.
fn holder_said(raw: &str, lang: Lang) -> String {
    let words: Vec<&str> = raw.split_whitespace().collect();
    let ["pid", pid, who, at] = words[..] else {
        return raw.to_string();
    };
    let what = action_said(who, lang);
    // The day and the time to the second: `2026-12-07 11:24:31`.
    let since = at.get(..19).unwrap_or(at).replace('T', " ");
    match lang {
        Lang::Zh => format!("进程 {pid}，{what}，{since} 开始"),
        Lang::En => format!("process {pid}, {what}, since {since}"),
    }
}

/// A manifest is checked before anything is touched (FORMS.md §7): its
/// city code is digits (it names a folder: `/../..` would write outside the
/// store), and the generation it names is there — a manifest restored from
/// an older backup, or edited to 0, would otherwise have the next ingest
/// delete the generations it does not name.
fn check_manifest(dir: &Path, m: &Manifest) -> Result<(), StoreError> {
    let damaged = |zh: String, en: String| StoreError::Manifest {
        path: dir.display().to_string(),
        reason: Label { zh, en },
    };
    if !m.city.is_empty() && !m.city.bytes().all(|b| b.is_ascii_digit()) {
        return Err(damaged(
            format!("其中的城市代码“{}”不是数字", m.city),
            format!("its city “{}” is not a code of digits", m.city),
        ));
    }
    let generations = generation_dirs(dir);
    let named_there = gen_dir(dir, m.generation)
        .join("submissions.parquet")
        .exists();
    match generations.iter().max() {
        Some(&newest) if m.generation == 0 || !named_there => Err(damaged(
            format!("其中记的第 {} 版不存在，而数据库中有第 {newest} 版（可能是从较早的备份恢复或被改动过）", m.generation),
            format!(
                "it names generation {}, which is not there, while generation {newest} is (restored from an older backup, or edited?)",
                m.generation
            ),
        )),
        None if m.generation > 0 => Err(damaged(
            format!("其中记的第 {} 版不存在", m.generation),
            format!("it names generation {}, and there is none", m.generation),
        )),
        _ => Ok(()),
    }
}

/// The folder of a new store: made if it is not there, refused untouched
/// if it holds anything but what a writer of a store puts there before its
/// first commit — the lock, and beside it the first generation's folders
/// (another writer making the store right now, or one that stopped before
/// its manifest: the next commit removes what no manifest names). Another
/// program's files are never mixed with a store's.
fn make_new_store_dir(dir: &Path) -> Result<(), StoreError> {
    let empty = match std::fs::read_dir(dir) {
        Ok(entries) => {
            let names: Vec<std::ffi::OsString> = entries.flatten().map(|e| e.file_name()).collect();
            let locked = names.iter().any(|n| n == LOCK);
            // What a first ingest killed mid-way leaves: its lock, folders,
            // and the manifest's temporary file (removed by the next write).
            names.iter().all(|n| {
                n == LOCK
                    || (locked
                        && (n == "submissions"
                            || n == "observations"
                            || n == LAYOUTS
                            || n == ORIGINALS
                            || n.to_str().is_some_and(crate::report::is_temp_name)))
            })
        }
        Err(_) => true,
    };
    if !empty {
        return Err(StoreError::NotAStore(dir.display().to_string()));
    }
    std::fs::create_dir_all(dir).map_err(io_err(dir, Access::Write))
}

/// The folder of the files as received, one per content hash
/// (`originals/<sha256>.xlsx`): what `check --store --feedback` reproduces
/// the returns from once the input files are gone. A file is written there
/// before the generation that names it is committed, and never changed.
pub const ORIGINALS: &str = "originals";

/// The extension a kept original is stored under: the file's own, in
/// lower case, when it is a workbook's.
fn original_ext(file: &str) -> &'static str {
    let ext = Path::new(file)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("xls") => "xls",
        Some("xlsm") => "xlsm",
        Some("xlsb") => "xlsb",
        Some("ods") => "ods",
        _ => "xlsx",
    }
}

/// Keeps a copy of `path`, whose content hash is `hash`, among the store's
/// originals: written to a temporary name, checked, then renamed.
///
/// One already there is kept as it is, unless it is not the file's length:
/// damaged (emptied by a power cut, say), it is written again, so that
/// ingesting the file again repairs it.
fn keep_original(dir: &Path, path: &Path, display: &str, hash: &str) -> Result<(), StoreError> {
    let folder = dir.join(ORIGINALS);
    let dest = folder.join(format!("{hash}.{}", original_ext(display)));
    if let Ok(kept) = std::fs::metadata(&dest) {
        if !kept.is_file() || std::fs::metadata(path).is_ok_and(|m| m.len() == kept.len()) {
            return Ok(());
        }
    }
    std::fs::create_dir_all(&folder).map_err(io_err(&folder, Access::Write))?;
    let bytes = std::fs::read(path).map_err(io_err(path, Access::Read))?;
    // The file changed since it was hashed: it is not what was ingested.
    if sha256_hex(&bytes) != hash {
        return Ok(());
    }
    let tmp = folder.join(format!("{hash}.{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&tmp).map_err(io_err(&tmp, Access::Write))?;
    std::io::Write::write_all(&mut file, &bytes).map_err(io_err(&tmp, Access::Write))?;
    // On the disk before the generation that names it is committed, as the
    // figures are: unsynced, a power cut just after a commit could leave it
    // empty under its name. Beside the reading, it costs a city's monthly
    // ingest 20–30 ms (0.25 s against 0.23 for the twelfth month; medians
    // of four twelve-month sequences, alternating, each from a synced
    // disk), and a whole city-year in one ingest 2.37 s against 2.13.
    file.sync_data().map_err(io_err(&tmp, Access::Write))?;
    drop(file);
    std::fs::rename(&tmp, &dest).map_err(io_err(&dest, Access::Write))
}

/// A submission's file as the store kept it ([`Store::original`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Original {
    /// There, and what was received.
    Kept(PathBuf),
    /// There, but not what was received (or not readable).
    Damaged(PathBuf),
    /// Not there: the store was made before originals were kept.
    NotKept,
}

/// The findings a statistician confirmed (`phstats confirm`), by id: kept
/// at the store's root, outside the generations (a rollback of the figures
/// does not take back a judgement), rewritten whole and atomically under
/// the store's lock.
pub const CONFIRMATIONS: &str = "confirmations.json";

/// One confirmed finding: what it was, who confirmed it, when and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The finding's stable id ([`Finding::id`]).
    pub id: String,
    /// Its rule id.
    pub rule: String,
    /// Where it was: `file!sheet!cell`.
    pub location: String,
    /// The value it was raised on.
    pub value: String,
    /// Why it is right.
    pub reason: String,
    /// Who confirmed it.
    pub by: String,
    /// When.
    pub at: String,
}

impl Confirmation {
    /// The line a confirmed finding shows: `已核实（张三，2026-04-08：疫苗集中补种）`.
    #[must_use]
    pub fn note(&self, lang: Lang) -> String {
        let day = self.at.get(..10).unwrap_or(&self.at);
        match lang {
            Lang::Zh => format!("已核实（{}，{day}：{}）", self.by, self.reason),
            Lang::En => format!("confirmed ({}, {day}: {})", self.by, self.reason),
        }
    }
}

impl Store {
    /// The confirmed findings, by id.
    ///
    /// # Errors
    /// The file is there and cannot be read or parsed (never read as none).
    pub fn confirmations(&self) -> Result<HashMap<String, Confirmation>, StoreError> {
        let path = self.dir.join(CONFIRMATIONS);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
            Err(e) => return Err(io_err(&path, Access::Read)(e)),
        };
        let list: Vec<Confirmation> =
            serde_json::from_str(&text).map_err(|e| StoreError::Table {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(list.into_iter().map(|c| (c.id.clone(), c)).collect())
    }

    /// Adds `new` to the confirmed findings (a second confirmation of one
    /// id replaces the first). The caller holds the store's lock.
    ///
    /// # Errors
    /// The file cannot be read or written; it is then as it was.
    pub fn confirm(&self, new: Vec<Confirmation>) -> Result<(), StoreError> {
        let mut all = self.confirmations()?;
        for c in new {
            all.insert(c.id.clone(), c);
        }
        let mut list: Vec<Confirmation> = all.into_values().collect();
        list.sort_by(|a, b| (&a.at, &a.id).cmp(&(&b.at, &b.id)));
        let text = serde_json::to_string_pretty(&list).unwrap_or_default();
        write_synced(&self.dir.join(CONFIRMATIONS), text.as_bytes())
    }
}

/// A submission's status (FORMS.md §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Counted.
    InForce,
    /// Replaced by a correction; kept.
    Superseded,
    /// The same return received again; counted once, through the first.
    IdenticalCopy,
    /// Different figures for the same unit, form and month, no correction:
    /// none counts until one comes.
    Duplicate,
    /// Identity broken or unreadable: nothing in it counts.
    Rejected,
    /// Taken out of force by `withdraw` (a blank template, a return from
    /// the wrong township), kept in history with its reason.
    Withdrawn,
}

impl Status {
    /// The id in `submissions.parquet`.
    #[must_use]
    pub fn id(self) -> &'static str {
        match self {
            Status::InForce => "in_force",
            Status::Superseded => "superseded",
            Status::IdenticalCopy => "identical_copy",
            Status::Duplicate => "duplicate",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
        }
    }

    /// As a person reads it.
    #[must_use]
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Status::InForce => lang.pick("有效（计入）", "in force"),
            Status::Superseded => lang.pick("已被更正替代", "superseded by a correction"),
            Status::IdenticalCopy => lang.pick("重复收到的相同报表", "identical copy"),
            Status::Duplicate => lang.pick("重复报送，待更正", "duplicate, awaiting a correction"),
            Status::Rejected => lang.pick("未计入（无法读取或身份不明）", "rejected"),
            Status::Withdrawn => lang.pick("已撤回，不计入", "withdrawn"),
        }
    }

    fn parse(s: &str) -> Option<Status> {
        [
            Status::InForce,
            Status::Superseded,
            Status::IdenticalCopy,
            Status::Duplicate,
            Status::Rejected,
            Status::Withdrawn,
        ]
        .into_iter()
        .find(|st| st.id() == s)
    }

    fn of(r: ReturnStatus) -> Status {
        match r {
            ReturnStatus::Active => Status::InForce,
            ReturnStatus::Superseded => Status::Superseded,
            ReturnStatus::IdenticalCopy => Status::IdenticalCopy,
            ReturnStatus::Duplicate => Status::Duplicate,
        }
    }
}

/// How a return was laid out, to check it again when it is read back:
/// fields by id and units by code, so it survives schema and registry edits.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Layout {
    /// 合计 row: field, value, row, column.
    pub totals: Vec<(String, Option<f64>, u32, u32)>,
    /// Field columns.
    pub columns: Vec<(String, u32)>,
    /// Row of the 合计.
    pub total_row: Option<u32>,
    /// Column of the names.
    pub name_col: Option<u32>,
    /// Column sums over every unit row: field, sum, first, last, unreadable.
    pub row_sums: Vec<(String, Option<f64>, u32, u32, bool)>,
    /// Units suggested for misspelt rows.
    pub suggested: Vec<u64>,
    /// The figures of a column written as text ([`RowSum::text`]): field,
    /// how many, their sum, the first one's row and column; absent in a
    /// store written before, whose 合计 checks then say nothing of them.
    #[serde(default)]
    pub text_sums: Vec<(String, u32, f64, u32, u32)>,
    /// The units are columns ([`Return::across`]); absent in a store
    /// written before, where none was.
    #[serde(default)]
    pub across: bool,
}

/// One submission: one return (or one rejected file) as ingested.
#[derive(Debug, Clone)]
pub struct Submission {
    /// `<content hash>:<sheet>`.
    pub id: String,
    /// The file, as given to `ingest`.
    pub file: String,
    /// SHA-256 of the file's bytes.
    pub content_hash: String,
    /// Sheet (empty for a rejected file).
    pub sheet: String,
    /// Reporting unit's code, when known.
    pub unit_code: Option<u64>,
    /// Its name as ingested.
    pub unit_name: String,
    /// Form id (empty when unknown).
    pub form: String,
    /// Month (`2026-01`, empty when unknown).
    pub month: String,
    /// When it was ingested (`2026-02-03T10:00:00+08:00`).
    pub ingested_at: String,
    /// The generation that ingested it.
    pub generation: u64,
    /// Its 报出日期 (`2026-02-03`), when it has one.
    pub reported_on: Option<String>,
    /// The day it arrived, when the ingest was told (`--received`, for a
    /// backlog ingested later): for timeliness it stands for the ingest day.
    pub received_on: Option<String>,
    /// Marked a correction.
    pub correction: bool,
    /// Its status.
    pub status: Status,
    /// Why, in Chinese.
    pub reason: String,
    /// Its layout (JSON of [`Layout`]).
    pub layout: String,
}

impl Submission {
    /// Where it was read, as a person names it: `file!sheet`, or the file
    /// alone for a file rejected whole (no sheet).
    #[must_use]
    pub fn place(&self) -> String {
        if self.sheet.is_empty() {
            self.file.clone()
        } else {
            format!("{}!{}", self.file, self.sheet)
        }
    }
}

/// An opened store.
pub struct Store {
    /// Its folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

fn gen_dir(dir: &Path, generation: u64) -> PathBuf {
    dir.join("submissions")
        .join(format!("generation={generation}"))
}

/// How many committed generations are kept (FORMS.md §7).
pub const KEPT_GENERATIONS: u64 = 20;

/// The mark a generation's folder gets once all its files are on disk,
/// just before the manifest names it: a generation with it was committed
/// and is never deleted but by retention; one without it is a crash's.
const COMMITTED: &str = "committed.json";

/// What `store log` says of a committed generation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Commit {
    /// Its number.
    pub generation: u64,
    /// When it was committed.
    pub at: String,
    /// What made it: `ingest`, `withdraw`, `rollback 3`.
    pub by: String,
    /// Submissions it recorded.
    pub came_in: usize,
    /// Submissions in force in it.
    pub in_force: usize,
    /// What a `withdraw` took out of force: each submission's `file!sheet`
    /// and the reason given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdrawn: Vec<(String, String)>,
}

/// The committed generations kept in the store's folder, oldest first.
fn commits(dir: &Path) -> Vec<Commit> {
    let mut out: Vec<Commit> = generation_dirs(dir)
        .into_iter()
        .filter_map(|g| {
            let text = std::fs::read_to_string(gen_dir(dir, g).join(COMMITTED)).ok()?;
            serde_json::from_str(&text).ok()
        })
        .collect();
    out.sort_by_key(|c| c.generation);
    out
}

/// The generation numbers of the folders under `submissions/`.
fn generation_dirs(dir: &Path) -> Vec<u64> {
    std::fs::read_dir(dir.join("submissions"))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    e.file_name()
                        .to_str()?
                        .strip_prefix("generation=")?
                        .parse()
                        .ok()
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Store {
    /// Opens an existing store.
    ///
    /// # Errors
    /// Not a store, written by a newer version, or unreadable.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotAStore(dir.display().to_string()))
            }
            // There, but unreadable (no permission, a folder of that name):
            // a store that cannot be opened, not "not a store".
            Err(e) => return Err(io_err(&path, Access::Read)(e)),
        };
        let manifest: Manifest = match serde_json::from_str::<serde_json::Value>(&text) {
            // Some other program's manifest.json: not a store.
            Ok(v) if v.get("format").and_then(|f| f.as_str()) != Some(FORMAT) => {
                return Err(StoreError::NotAStore(dir.display().to_string()));
            }
            Ok(v) => serde_json::from_value(v),
            Err(e) => Err(e),
        }
        .map_err(|e| StoreError::Damaged {
            path: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        if manifest.version > VERSION {
            return Err(StoreError::Newer {
                path: dir.display().to_string(),
                found: manifest.version,
            });
        }
        check_manifest(dir, &manifest)?;
        Ok(Store {
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    /// Opens a store, or makes one in a folder that does not exist or is
    /// empty; a folder holding other files is refused, untouched.
    ///
    /// # Errors
    /// As [`Store::open`], or the folder cannot be made.
    pub fn open_or_create(dir: &Path, registry: &Registry) -> Result<Store, StoreError> {
        if dir.join(MANIFEST).exists() {
            return Store::open(dir);
        }
        make_new_store_dir(dir)?;
        let root = registry
            .root()
            .map(|r| registry.unit(r).code.to_string())
            .unwrap_or_default();
        Ok(Store {
            dir: dir.to_path_buf(),
            manifest: Manifest {
                format: FORMAT.into(),
                version: VERSION,
                generation: 0,
                city: root,
                updated_at: String::new(),
            },
        })
    }

    /// Every submission of the generation in force, in ingest order.
    ///
    /// # Errors
    /// An unreadable table.
    pub fn submissions(&self) -> Result<Vec<Submission>, StoreError> {
        if self.manifest.generation == 0 {
            return Ok(Vec::new());
        }
        let path = gen_dir(&self.dir, self.manifest.generation).join("submissions.parquet");
        // Every column but the layouts, which only a report reads
        // ([`Store::layouts`]).
        let df = read_parquet_without(&path, "layout")?;
        let s = |name: &str| -> Result<Vec<Option<String>>, StoreError> {
            Ok(typed(&df, &path, name, Column::str)?
                .iter()
                .map(|v| v.map(str::to_string))
                .collect())
        };
        let (mut id, mut file, mut hash, mut sheet, mut unit_name, mut form, mut month, mut at) = (
            s("submission_id")?,
            s("file")?,
            s("content_hash")?,
            s("sheet")?,
            s("unit_name")?,
            s("form")?,
            s("month")?,
            s("ingested_at")?,
        );
        let (mut rep, mut status, mut reason) = (s("reported_on")?, s("status")?, s("reason")?);
        // A store written before `--received` has no such column: none was given.
        let mut received_on: Vec<Option<String>> = if df.column("received_on").is_ok() {
            s("received_on")?
        } else {
            vec![None; df.height()]
        };
        let code: Vec<Option<u64>> = typed(&df, &path, "unit_code", Column::u64)?
            .iter()
            .collect();
        let generation: Vec<Option<u64>> = typed(&df, &path, "generation", Column::u64)?
            .iter()
            .collect();
        let correction: Vec<Option<bool>> = typed(&df, &path, "correction", Column::bool)?
            .iter()
            .collect();
        // Every value but the unit (none for a rejected file) and the
        // 报出日期 must be there: a missing one is damage, never a default.
        // Each text is moved into its submission, not copied again.
        let p = path.as_path();
        let get =
            |v: &mut [Option<String>], column: &str, i: usize| need(v[i].take(), p, column, i);
        let mut out = Vec::with_capacity(df.height());
        for i in 0..df.height() {
            let status_text = get(&mut status, "status", i)?;
            let status = Status::parse(&status_text)
                .ok_or_else(|| unreadable_value(p, "status", i, &status_text))?;
            out.push(Submission {
                id: get(&mut id, "submission_id", i)?,
                file: get(&mut file, "file", i)?,
                content_hash: get(&mut hash, "content_hash", i)?,
                sheet: get(&mut sheet, "sheet", i)?,
                unit_code: code[i],
                unit_name: get(&mut unit_name, "unit_name", i)?,
                form: get(&mut form, "form", i)?,
                month: get(&mut month, "month", i)?,
                ingested_at: get(&mut at, "ingested_at", i)?,
                generation: need(generation[i], p, "generation", i)?,
                reported_on: rep[i].take(),
                received_on: received_on[i].take(),
                correction: need(correction[i], p, "correction", i)?,
                status,
                reason: get(&mut reason, "reason", i)?,
                layout: String::new(),
            });
        }
        Ok(out)
    }

    /// What reading each file found, by content hash.
    ///
    /// # Errors
    /// An unreadable table.
    pub fn file_findings(&self) -> Result<Vec<(String, Finding)>, StoreError> {
        if self.manifest.generation == 0 {
            return Ok(Vec::new());
        }
        let path = gen_dir(&self.dir, self.manifest.generation).join("findings.parquet");
        let df = read_parquet(&path)?;
        let hash = typed(&df, &path, "content_hash", Column::str)?;
        let json = typed(&df, &path, "detail", Column::str)?;
        let mut out = Vec::new();
        for (i, (h, j)) in hash.iter().zip(json.iter()).enumerate() {
            let h = need(h, &path, "content_hash", i)?;
            let j = need(j, &path, "detail", i)?;
            // A finding that cannot be read is damage, never silently skipped.
            let f = serde_json::from_str::<Finding>(j)
                .map_err(|_| unreadable_value(&path, "detail", i, j))?;
            out.push((h.to_string(), f));
        }
        Ok(out)
    }

    /// The layouts of `subs`, by submission id, as stored (JSON): from the
    /// layout parts of the generations that recorded them, or (a version-1
    /// store) from the submissions table in force.
    ///
    /// # Errors
    /// A part or table that cannot be read, or a layout that is not whole
    /// JSON (named by file, column and row: the store is damaged).
    pub fn layouts(&self, subs: &[&Submission]) -> Result<HashMap<String, String>, StoreError> {
        self.layouts_as(subs, |text| {
            serde_json::from_str::<serde::de::IgnoredAny>(text)
                .ok()
                .map(|_| text.to_string())
        })
    }

    /// The layouts of `subs`, by submission id, read back: [`Store::layouts`]
    /// parsed once, each on any core. (Checked as JSON there and parsed
    /// again by the report, one after the other, they were 40 of the 110 ms
    /// a quarter of a city's store took to load, at 2 threads.)
    ///
    /// # Errors
    /// As [`Store::layouts`], and a layout that is JSON but not a layout.
    pub fn parsed_layouts(
        &self,
        subs: &[&Submission],
    ) -> Result<HashMap<String, Layout>, StoreError> {
        self.layouts_as(subs, |text| serde_json::from_str::<Layout>(text).ok())
    }

    /// The layouts of `subs` by submission id, each made by `read` from its
    /// stored text (`None`: the text is damaged).
    fn layouts_as<T: Send>(
        &self,
        subs: &[&Submission],
        read: impl Fn(&str) -> Option<T> + Sync,
    ) -> Result<HashMap<String, T>, StoreError> {
        use rayon::prelude::*;
        let mut out = HashMap::new();
        if self.manifest.generation == 0 || subs.is_empty() {
            return Ok(out);
        }
        // Each table, with a submission that names it (none for version 1's
        // table in force, which is there: the store was opened).
        let tables: Vec<(PathBuf, Option<&Submission>)> = if !self.has_layout_parts() {
            let table = gen_dir(&self.dir, self.manifest.generation).join("submissions.parquet");
            vec![(table, None)]
        } else {
            let mut by_generation: std::collections::BTreeMap<u64, &Submission> =
                std::collections::BTreeMap::new();
            for s in subs.iter().filter(|s| s.status != Status::Rejected) {
                by_generation.entry(s.generation).or_insert(s);
            }
            by_generation
                .into_iter()
                .map(|(g, s)| (self.layout_part(g), Some(s)))
                .collect()
        };
        let wanted: HashSet<&str> = subs.iter().map(|s| s.id.as_str()).collect();
        for (path, named_by) in tables {
            ensure_part(&path, named_by)?;
            let df = read_parquet(&path)?;
            let id = typed(&df, &path, "submission_id", Column::str)?;
            let layout = typed(&df, &path, "layout", Column::str)?;
            // The rows wanted, in order, then each one read on any core.
            let mut rows: Vec<(usize, &str, &str)> = Vec::new();
            for (i, (id, layout)) in id.iter().zip(layout.iter()).enumerate() {
                let id = need(id, &path, "submission_id", i)?;
                if !wanted.contains(id) {
                    continue;
                }
                let layout = need(layout, &path, "layout", i)?;
                // A rejected file has none (version 1 wrote it empty).
                if !layout.is_empty() {
                    rows.push((i, id, layout));
                }
            }
            let read: Vec<(String, T)> = rows
                .into_par_iter()
                .map(|(i, id, text)| match read(text) {
                    Some(t) => Ok((id.to_string(), t)),
                    None => Err(unreadable_value(&path, "layout", i, text)),
                })
                .collect::<Result<_, StoreError>>()?;
            out.extend(read);
        }
        Ok(out)
    }

    /// Whether the store keeps its layouts in parts of their own (version
    /// 2 on), not in the submissions table.
    fn has_layout_parts(&self) -> bool {
        self.manifest.version >= LAYOUT_PARTS
    }

    /// The layout part of the returns generation `g` recorded.
    fn layout_part(&self, g: u64) -> PathBuf {
        self.dir.join(LAYOUTS).join(format!("part-{g:06}.parquet"))
    }

    /// The kept original of a submission's file, read back whole: its
    /// name is its content's hash, so one that no longer hashes to it (a
    /// power cut before the disk had it, a copy gone wrong) is damaged.
    #[must_use]
    pub fn original(&self, s: &Submission) -> Original {
        let p =
            self.dir
                .join(ORIGINALS)
                .join(format!("{}.{}", s.content_hash, original_ext(&s.file)));
        if !p.is_file() {
            return Original::NotKept;
        }
        match std::fs::read(&p) {
            Ok(bytes) if sha256_hex(&bytes) == s.content_hash => Original::Kept(p),
            _ => Original::Damaged(p),
        }
    }

    /// The registry as the generation in force ingested it.
    #[must_use]
    pub fn registry_csv(&self) -> Option<String> {
        std::fs::read_to_string(gen_dir(&self.dir, self.manifest.generation).join("units.csv")).ok()
    }

    /// The observation part a submission's figures were written to: its
    /// month's partition, the generation that recorded it.
    fn part_of(&self, s: &Submission) -> PathBuf {
        self.dir
            .join("observations")
            .join(format!("city={}", self.manifest.city))
            .join(format!("month={}", s.month))
            .join(format!("part-{:06}.parquet", s.generation))
    }

    /// The figures of `subs`, grouped by submission id, read from the parts
    /// the generation in force names for them and from no other (FORMS.md
    /// §7: a part left by a crash, or by a lost ingest, can never count).
    /// Only the parts of their months are opened (partition pruning).
    ///
    /// # Errors
    /// A part that is named and not there ([`StoreError::MissingPart`]: the
    /// store is damaged, never "the township sent nothing"), or unreadable.
    pub fn observations_of(
        &self,
        subs: &[&Submission],
    ) -> Result<HashMap<String, Vec<ObsRow>>, StoreError> {
        let named = self.parts_named(subs.iter().copied());
        let ids: foldhash::HashSet<&str> = subs.iter().map(|s| s.id.as_str()).collect();
        // Each part on its own core. A part holds each submission's rows
        // together (written return by return), so a submission id is looked
        // up and its key allocated once per run of rows, not per row, and a
        // field id is shared (`Arc<str>`) by every row of it: the twelfth
        // month's ingest read its 490,000 figures of history in 0.31 s before.
        let parts: Vec<Result<PartRows, StoreError>> = {
            use rayon::prelude::*;
            named
                .par_iter()
                .map(|(part, s)| read_part(part, s, &ids))
                .collect()
        };
        let mut out: HashMap<String, Vec<ObsRow>> = HashMap::new();
        for part in parts {
            for (id, rows) in part? {
                match out.entry(id) {
                    std::collections::hash_map::Entry::Occupied(mut e) => e.get_mut().extend(rows),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(rows);
                    }
                }
            }
        }
        for v in out.values_mut() {
            v.sort_by_key(|o| (o.cell.row, o.cell.col));
        }
        Ok(out)
    }
}

impl Store {
    /// The observation parts that the submissions `subs` (but the rejected
    /// files, which recorded none) were written to, each with one of them
    /// to name when it is missing; sorted by path.
    fn parts_named<'s>(
        &self,
        subs: impl Iterator<Item = &'s Submission>,
    ) -> Vec<(PathBuf, &'s Submission)> {
        let mut named: std::collections::BTreeMap<PathBuf, &Submission> =
            std::collections::BTreeMap::new();
        for s in subs.filter(|s| s.status != Status::Rejected) {
            named.entry(self.part_of(s)).or_insert(s);
        }
        named.into_iter().collect()
    }
}

/// An observation part that submission `s` names, read but for its `form`
/// column (a submission's form is in the submissions table).
///
/// # Errors
/// The part is not there ([`StoreError::MissingPart`]: the store is
/// damaged, never "the township sent nothing"), or unreadable.
fn read_named_part(part: &Path, s: &Submission) -> Result<DataFrame, StoreError> {
    ensure_part(part, Some(s))?;
    read_parquet_without(part, "form")
}

/// That a part (or table) the generation in force names, by submission
/// `named_by` where one does, is there: one that is not is damage
/// ([`StoreError::MissingPart`]), never "the township sent nothing".
fn ensure_part(part: &Path, named_by: Option<&Submission>) -> Result<(), StoreError> {
    if part.exists() {
        return Ok(());
    }
    Err(StoreError::MissingPart {
        path: part.display().to_string(),
        submission: named_by.map(Submission::place).unwrap_or_default(),
    })
}

/// The returns [`Store::figures_of`] reads: by submission id, its place
/// in the list asked for, its form and month.
type Wanted<'a> = foldhash::HashMap<&'a str, (usize, FormIdx, Month)>;

impl Store {
    /// The figures of `subs` as observations, one table per submission
    /// (`None`: a return that recorded none), read as
    /// [`Store::observations_of`] reads them: only from the parts the
    /// generation in force names, each part on its own core. A figure of a
    /// unit or field the registry or schemas no longer know is left out.
    ///
    /// Straight from the part's columns into each return's table: through
    /// [`ObsRow`]s (a row and a shared field id each) and a map of them by
    /// submission, a city's eleven months of history (1.2 million figures)
    /// took 0.24–0.28 s of a twelfth month's ingest at 2 threads.
    ///
    /// # Errors
    /// As [`Store::observations_of`].
    fn figures_of(
        &self,
        subs: &[&Submission],
        registry: &Registry,
        schemas: &Schemas,
    ) -> Result<Vec<Option<Observations>>, StoreError> {
        let mut wanted: Wanted<'_> = Default::default();
        let mut whole = Vec::new();
        for (k, s) in subs.iter().enumerate() {
            if let Some((_, form, month)) = identity(s, schemas) {
                wanted.insert(s.id.as_str(), (k, form, month));
                whole.push(*s);
            }
        }
        let named = self.parts_named(whole.into_iter());
        // The parts read one after the other (the reader decodes a part's
        // columns on every core), then turned into observations each on its
        // own core. Reading inside that parallel loop, every worker waited
        // on the reader's own threads: 60–85 % of 2 cores; reading there with
        // the reader on the calling thread was slower still (0.19–0.22 s
        // against 0.14–0.16 s for a city's eleven months).
        let frames = named
            .iter()
            .map(|(part, s)| read_named_part(part, s))
            .collect::<Result<Vec<DataFrame>, StoreError>>()?;
        let parts: Vec<Result<Vec<(usize, Observations)>, StoreError>> = {
            use rayon::prelude::*;
            frames
                .into_par_iter()
                .zip(&named)
                .map(|(df, (part, _))| figures_in_part(df, part, &wanted, registry, schemas))
                .collect()
        };
        let mut out: Vec<Option<Observations>> = (0..subs.len()).map(|_| None).collect();
        for part in parts {
            for (k, o) in part? {
                match &mut out[k] {
                    Some(have) => have.append(o, 0),
                    none => *none = Some(o),
                }
            }
        }
        Ok(out)
    }
}

/// The figures in one part (`df`, read from `part`) of the submissions
/// `wanted`, each submission's in the order of its cells (row, then
/// column).
fn figures_in_part(
    mut df: DataFrame,
    part: &Path,
    wanted: &Wanted<'_>,
    registry: &Registry,
    schemas: &Schemas,
) -> Result<Vec<(usize, Observations)>, StoreError> {
    if df.height() == 0 {
        return Ok(Vec::new());
    }
    // One array a column, walked by index: a column's own iterator is a
    // boxed one, a call per value, and was most of the 0.22 s a city's
    // eleven months took to read at one thread (the parts themselves
    // decode in 5 ms each).
    df.rechunk_mut();
    let one =
        |name: &str| -> Result<&Column, StoreError> { df.column(name).map_err(table_err(part)) };
    let sid = one("submission_id")?.str().map_err(table_err(part))?;
    let code = one("unit_code")?.u64().map_err(table_err(part))?;
    let field = one("field")?.str().map_err(table_err(part))?;
    let value = one("value")?.f64().map_err(table_err(part))?;
    let row = one("row")?.u32().map_err(table_err(part))?;
    let col = one("col")?.u32().map_err(table_err(part))?;
    // Every value but the figure's own must be there: a missing one is
    // damage, named by its first row.
    for (name, c) in [
        ("submission_id", one("submission_id")?),
        ("unit_code", one("unit_code")?),
        ("field", one("field")?),
        ("row", one("row")?),
        ("col", one("col")?),
    ] {
        if c.null_count() > 0 {
            let i = (0..c.len())
                .find(|&i| c.get(i).is_ok_and(|v| v.is_null()))
                .unwrap_or(0);
            return Err(need::<()>(None, part, name, i).expect_err("a missing value"));
        }
    }
    let (Some(sid), Some(code), Some(field), Some(value), Some(row), Some(col)) = (
        sid.downcast_iter().next(),
        code.downcast_iter().next(),
        field.downcast_iter().next(),
        value.downcast_iter().next(),
        row.downcast_iter().next(),
        col.downcast_iter().next(),
    ) else {
        return Ok(Vec::new());
    };
    // A field id looked up once per form, a unit once per run of its rows.
    let mut fields: foldhash::HashMap<(FormIdx, &str), Option<crate::schema::FieldIdx>> =
        Default::default();
    let mut last_unit: Option<(u64, Option<UnitIdx>)> = None;
    let mut out: Vec<(usize, Observations)> = Vec::new();
    // The submission of the current run of rows, and what it is when wanted.
    let mut current: Option<(&str, Option<(FormIdx, Month)>)> = None;
    let n = df.height();
    for i in 0..n {
        let id = sid.value(i);
        let here = match current {
            Some((c, w)) if c == id => w,
            _ => {
                let w = wanted.get(id).map(|&(k, form, month)| {
                    // Its rows are together: the table made to their size.
                    let run = (i..n).find(|&j| sid.value(j) != id).unwrap_or(n) - i;
                    let mut o = Observations::default();
                    o.reserve(run);
                    out.push((k, o));
                    (form, month)
                });
                current = Some((id, w));
                w
            }
        };
        let Some((form, month)) = here else {
            continue;
        };
        let f = field.value(i);
        let code = code.value(i);
        let cell = CellRef {
            row: row.value(i),
            col: col.value(i),
        };
        let fi = *fields
            .entry((form, f))
            .or_insert_with(|| schemas.form(form).field_idx(f));
        let u = match last_unit {
            Some((c, u)) if c == code => u,
            _ => {
                let u = registry.by_code(UnitCode(code));
                last_unit = Some((code, u));
                u
            }
        };
        let (Some(u), Some(fi)) = (u, fi) else {
            continue;
        };
        // The value alone may be missing: that is "not reported".
        let value = value
            .validity()
            .is_none_or(|b| b.get_bit(i))
            .then(|| value.value(i));
        if let Some((_, o)) = out.last_mut() {
            o.push(u, form, fi, month, value, 0, cell);
        }
    }
    // Written in that order since 2026-12-05; a part written before is
    // put in order here.
    for (_, o) in &mut out {
        o.sort_by_cell();
    }
    Ok(out)
}

/// One stored figure.
#[derive(Debug, Clone)]
pub struct ObsRow {
    /// The row's unit.
    pub unit_code: u64,
    /// Field id (shared by every row of it).
    pub field: std::sync::Arc<str>,
    /// Value (`None`: not reported).
    pub value: Option<f64>,
    /// Its cell.
    pub cell: CellRef,
}

/// A part's rows of the submissions asked for, by submission id.
type PartRows = Vec<(String, Vec<ObsRow>)>;

/// The rows of one observation part that belong to `ids`, by submission,
/// in the order they were written. `s` is a submission that names the part
/// (for the message when it is missing).
fn read_part(
    part: &Path,
    s: &Submission,
    ids: &foldhash::HashSet<&str>,
) -> Result<PartRows, StoreError> {
    let df = read_named_part(part, s)?;
    let sid = typed(&df, part, "submission_id", Column::str)?;
    let code = typed(&df, part, "unit_code", Column::u64)?;
    let field = typed(&df, part, "field", Column::str)?;
    let value = typed(&df, part, "value", Column::f64)?;
    let row = typed(&df, part, "row", Column::u32)?;
    let col = typed(&df, part, "col", Column::u32)?;
    let mut fields: foldhash::HashMap<&str, std::sync::Arc<str>> = Default::default();
    let mut out: Vec<(String, Vec<ObsRow>)> = Vec::new();
    // The submission of the current run of rows, and whether it is wanted.
    let mut current: Option<(&str, bool)> = None;
    // The columns walked together, chunk by chunk, rather than a value
    // looked up by row (`get(i)` finds its chunk each time): on a city's
    // eleven months of history that look-up was a fifth of the load.
    let columns = sid
        .iter()
        .zip(code.iter())
        .zip(field.iter())
        .zip(value.iter())
        .zip(row.iter())
        .zip(col.iter());
    for (i, (((((id, code), f), value), row), col)) in columns.enumerate() {
        let id = need(id, part, "submission_id", i)?;
        let wanted = match current {
            Some((c, w)) if c == id => w,
            _ => {
                let w = ids.contains(id);
                if w {
                    out.push((id.to_string(), Vec::new()));
                }
                current = Some((id, w));
                w
            }
        };
        if !wanted {
            continue;
        }
        let f = need(f, part, "field", i)?;
        let f = fields
            .entry(f)
            .or_insert_with(|| std::sync::Arc::from(f))
            .clone();
        // The value alone may be missing: that is "not reported".
        if let Some(last) = out.last_mut() {
            last.1.push(ObsRow {
                unit_code: need(code, part, "unit_code", i)?,
                field: f,
                value,
                cell: CellRef {
                    row: need(row, part, "row", i)?,
                    col: need(col, part, "col", i)?,
                },
            });
        }
    }
    Ok(out)
}

fn part_generation(p: &Path) -> Option<u64> {
    let name = p.file_name()?.to_str()?;
    name.strip_prefix("part-")?
        .strip_suffix(".parquet")?
        .parse()
        .ok()
}

/// A table without one of its columns (when it has it), left undecoded.
fn read_parquet_without(path: &Path, column: &str) -> Result<DataFrame, StoreError> {
    let file = std::fs::File::open(path).map_err(io_err(path, Access::Read))?;
    decoded(path, || {
        let mut reader = ParquetReader::new(file);
        let schema = reader.schema()?;
        let keep: Vec<PlSmallStr> = schema
            .iter_names()
            .filter(|n| n.as_str() != column)
            .cloned()
            .collect();
        reader
            .with_columns(Some(keep.iter().map(|n| n.to_string()).collect()))
            .finish()
    })
}

fn read_parquet(path: &Path) -> Result<DataFrame, StoreError> {
    let file = std::fs::File::open(path).map_err(io_err(path, Access::Read))?;
    decoded(path, || ParquetReader::new(file).finish())
}

/// A store table decoded by `read`: an error of the reader, or its panic on
/// damaged bytes (a flipped byte in a part made polars assert on a length,
/// and every report exited 101 as a bug of phstats), is the table's
/// [`StoreError::Table`], naming it.
fn decoded(
    path: &Path,
    read: impl FnOnce() -> PolarsResult<DataFrame>,
) -> Result<DataFrame, StoreError> {
    match crate::fault::reading_table(read) {
        Ok(read) => read.map_err(table_err(path)),
        Err(at) => Err(StoreError::Table {
            path: path.display().to_string(),
            reason: format!("the table reader failed on its bytes at {at}"),
        }),
    }
}

fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(), StoreError> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(io_err(d, Access::Write))?;
    }
    let tmp = path.with_extension("parquet.tmp");
    let file = std::fs::File::create(&tmp).map_err(io_err(&tmp, Access::Write))?;
    // Buffered: the writer hands over each page's header and each column
    // chunk's pieces on its own, a system call per 80 bytes unbuffered
    // (2,500 calls for a city-year's submissions table).
    let mut out = std::io::BufWriter::with_capacity(1 << 16, &file);
    ParquetWriter::new(&mut out)
        .finish(df)
        .map_err(table_err(path))?;
    std::io::Write::flush(&mut out).map_err(io_err(&tmp, Access::Write))?;
    drop(out);
    // On the disk before the manifest that commits it names it: a power
    // cut just after a commit never leaves the store naming an empty file.
    file.sync_all().map_err(io_err(&tmp, Access::Write))?;
    std::fs::rename(&tmp, path).map_err(io_err(path, Access::Write))?;
    Ok(())
}

/// Writes `bytes` to `path` as the report's files are written: a temporary
/// file, flushed to the disk, renamed into place.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    crate::report::write_atomic(path, bytes).map_err(|e| StoreError::Io {
        path: path.display().to_string(),
        reason: match e {
            crate::report::ReportError::Io { reason, .. } => reason,
            other => Label {
                zh: other.render(Lang::Zh),
                en: other.to_string(),
            },
        },
    })
}

/// SHA-256 of a file's bytes, in hex.
///
/// # Errors
/// The file cannot be read.
pub fn content_hash(path: &Path) -> std::io::Result<String> {
    Ok(sha256_hex(&std::fs::read(path)?))
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = sha256(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        let _ = std::fmt::Write::write_fmt(&mut out, format_args!("{b:02x}"));
    }
    out
}

/// Whether a stored submission is a return of the history an ingest reads:
/// one that was ever a return, of a unit the registry still knows.
fn counted_history(s: &Submission, registry: &Registry, schemas: &Schemas) -> bool {
    !matches!(s.status, Status::Rejected | Status::Withdrawn) && loads(s, registry, schemas)
}

/// `subs` by month, in month order.
fn returns_by_month<'a>(
    subs: &[&'a Submission],
    schemas: &Schemas,
) -> Vec<(Month, Vec<&'a Submission>)> {
    let mut out: std::collections::BTreeMap<Month, Vec<&Submission>> = Default::default();
    for s in subs {
        if let Some((_, _, m)) = identity(s, schemas) {
            out.entry(m).or_default().push(s);
        }
    }
    out.into_iter().collect()
}

/// What every month's counted figures are made from beside its returns:
/// the registry's text and the forms (their fields and kinds).
fn history_context(registry_csv: &str, schemas: &Schemas) -> [u8; 32] {
    let mut text = String::from(registry_csv);
    text.push_str("\nphstats forms 1\n");
    for form in &schemas.forms {
        for field in &form.fields {
            text.push_str(&format!("{}\t{}\t{:?}\n", form.id, field.id, field.kind));
        }
    }
    sha256(text.as_bytes())
}

/// What a month's counted figures are made from: the month's returns as
/// the history holds them (id, status, correction) and the registry and
/// forms ([`history_context`]). Anything else that settles which figures
/// count is in the returns themselves, and their id is their content's
/// hash.
fn month_fingerprint(subs: &[&Submission], registry_hash: &[u8; 32]) -> [u8; 32] {
    let mut rows: Vec<(&str, &str, bool)> = subs
        .iter()
        .map(|s| (s.id.as_str(), s.status.id(), s.correction))
        .collect();
    rows.sort_unstable();
    let mut text = String::from("phstats counted figures 1\n");
    for (id, status, correction) in rows {
        text.push_str(&format!("{id}\t{status}\t{correction}\n"));
    }
    let mut bytes = registry_hash.to_vec();
    bytes.extend_from_slice(text.as_bytes());
    sha256(&bytes)
}

/// The counted figures of the months `wanted` of the history `kept` (every
/// return that was ever one, [`counted_history`]), each where the
/// generation in force keeps them for what the store now holds (`context`:
/// [`history_context`]); a month whose file is not there, does not read or
/// was made from other returns is left out, to be read from its parts.
fn counted_months(
    store: &Store,
    kept: &[&Submission],
    wanted: &(dyn Fn(Month) -> bool + Sync),
    registry: &Registry,
    context: &[u8; 32],
    schemas: &Schemas,
) -> Vec<CountedMonth> {
    use rayon::prelude::*;
    let from = gen_dir(&store.dir, store.manifest.generation);
    returns_by_month(kept, schemas)
        .into_par_iter()
        .filter(|(m, _)| wanted(*m))
        .filter_map(|(m, subs)| {
            let fp = month_fingerprint(&subs, context);
            CountedMonth::read(&counted_path(&from, m), m, &fp, registry, schemas)
        })
        .collect()
}

/// The counted figures of the months before `first` that the store holds,
/// each where the generation in force keeps them for what it now holds:
/// what a report of a period from `first` on reads of those months, its
/// history and comparison periods, instead of their returns. The registry
/// is the one read from `registry_csv`.
#[must_use]
pub fn counted_before(
    store: &Store,
    subs: &[Submission],
    first: Month,
    registry: &Registry,
    registry_csv: &str,
    schemas: &Schemas,
) -> Vec<CountedMonth> {
    let kept: Vec<&Submission> = subs
        .iter()
        .filter(|s| counted_history(s, registry, schemas))
        .collect();
    counted_months(
        store,
        &kept,
        &|m| m < first,
        registry,
        &history_context(registry_csv, schemas),
        schemas,
    )
}

/// The latest month of the returns `subs` that a run reads (those of a
/// unit the registry knows): the one a report without a period is of.
#[must_use]
pub fn latest_month(subs: &[&Submission], registry: &Registry, schemas: &Schemas) -> Option<Month> {
    subs.iter()
        .filter_map(|s| month_read(s, registry, schemas))
        .max()
}

/// The month of `s`, where a run reads it: the registry knows its unit.
fn month_read(s: &Submission, registry: &Registry, schemas: &Schemas) -> Option<Month> {
    identity(s, schemas)
        .filter(|_| loads(s, registry, schemas))
        .map(|(_, _, m)| m)
}

/// Of `live`, the submissions a report reads, those it loads: every one
/// but the returns of the months `counted` holds, which are its
/// [`History`](crate::observation::History) instead. A month whose file does
/// not know the values of each of its returns is loaded whole. A return
/// the registry no longer knows stays among those loaded, for the note
/// that says it is not counted.
///
/// # Errors
/// A part that a return read as history names is not there: the counted
/// figures are a cache, and the store without its record is damaged
/// ([`StoreError::MissingPart`]), as it is to a run that reads the part.
pub fn split_history<'a>(
    store: &Store,
    live: Vec<&'a Submission>,
    counted: Vec<CountedMonth>,
    registry: &Registry,
    schemas: &Schemas,
) -> Result<(Vec<&'a Submission>, crate::observation::History), StoreError> {
    let mut history = crate::observation::History::default();
    // Each return's month, where the run reads it: the registry knows its
    // unit (one it does not stays among those loaded, for the note).
    let month_of: Vec<Option<Month>> = live
        .iter()
        .map(|s| month_read(s, registry, schemas))
        .collect();
    for month in counted {
        let theirs: Vec<&Submission> = live
            .iter()
            .zip(&month_of)
            .filter(|(_, m)| **m == Some(month.month))
            .map(|(s, _)| *s)
            .collect();
        // A month none of whose returns is read holds no figure that counts.
        if theirs.is_empty() {
            continue;
        }
        let values: Option<Vec<u64>> = theirs.iter().map(|s| month.values_of(&s.id)).collect();
        let Some(values) = values else { continue };
        history.returns += theirs.len();
        history.values += values.iter().sum::<u64>() as usize;
        history.months.push(month);
    }
    history.months.sort_by_key(|m| m.month);
    let (mut away, mut loaded): (Vec<&Submission>, Vec<&Submission>) = (Vec::new(), Vec::new());
    // The files of the returns loaded that the run reads.
    let mut files: HashSet<&str> = HashSet::new();
    for (s, m) in live.into_iter().zip(&month_of) {
        if m.is_some_and(|m| history.months.iter().any(|c| c.month == m)) {
            away.push(s);
        } else {
            if m.is_some() {
                files.insert(s.file.as_str());
            }
            loaded.push(s);
        }
    }
    for (part, s) in store.parts_named(away.iter().copied()) {
        ensure_part(&part, Some(s))?;
    }
    let mut seen: HashSet<&str> = HashSet::new();
    history.files = away
        .iter()
        .map(|s| s.file.as_str())
        .filter(|f| !files.contains(f) && seen.insert(f))
        .map(str::to_string)
        .collect();
    Ok((loaded, history))
}

/// How a generation names a month's counted figures: before and after
/// the month (`counted-2026-03.bin`).
const COUNTED_NAME: (&str, &str) = ("counted-", ".bin");

/// Where a generation keeps a month's counted figures.
fn counted_path(gen: &Path, month: Month) -> PathBuf {
    let (before, after) = COUNTED_NAME;
    gen.join(format!("{before}{month}{after}"))
}

/// The files of months' counted figures a generation keeps.
fn counted_files(gen: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(gen) else {
        return Vec::new();
    };
    let (before, after) = COUNTED_NAME;
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(before) && n.ends_with(after))
        })
        .collect()
}

/// A month's counted figures written whole or not at all. Not flushed to
/// the disk: a file a power cut tore fails its check and is made again.
fn write_counted(to: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = to.with_extension("bin.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, to)
}

/// A month's counted figures, unchanged, kept in the next generation: a
/// link to the same file, or a copy where the file system has no links.
/// One that cannot be kept is made again by the next ingest.
fn keep_counted(from: &Path, to: &Path) {
    if std::fs::hard_link(from, to).is_err() {
        let _ = std::fs::read(from).and_then(|bytes| write_counted(to, &bytes));
    }
}

/// A stored submission's unit code, form and month, when it has all three
/// and the schemas still know its form.
pub fn identity(s: &Submission, schemas: &Schemas) -> Option<(u64, FormIdx, Month)> {
    let month = match crate::period::Period::parse(&s.month)? {
        crate::period::Period::Month(m) => m,
        _ => return None,
    };
    Some((s.unit_code?, schemas.form_idx(&s.form)?, month))
}

/// Whether [`load_batch`] makes a return of a submission: its identity is
/// whole and its unit is in `registry` (one a new registry dropped — a
/// township merged away, a county's registry on a city's store — stays in
/// history, out of the batch).
fn loads(s: &Submission, registry: &Registry, schemas: &Schemas) -> bool {
    identity(s, schemas).is_some_and(|(code, _, _)| registry.by_code(UnitCode(code)).is_some())
}

/// The store's submissions `subs`, rebuilt as a batch. Returns of units or
/// fields no longer in the registry or the schemas are left out, and said
/// so in the notes, in `lang`. The layouts (合计 cells, columns, row sums)
/// are read for the returns of the period `judged` gives of the months the
/// batch holds ([`crate::pipeline::focus`], every month for `None`): those
/// the run checks again ([`crate::validate::Judged`]); the others are
/// history, read for their figures. A quarter's report from a city's year
/// parsed 6,425 layouts to check 1,633 returns: 0.18 s of its 0.36 s load
/// at 2 threads.
///
/// # Errors
/// An unreadable table.
pub fn load_batch(
    store: &Store,
    subs: &[&Submission],
    registry: &Registry,
    schemas: &Schemas,
    lang: Lang,
    judged: Judging<'_>,
) -> Result<(Batch, Vec<String>), StoreError> {
    load_returns(
        store,
        subs,
        registry,
        schemas,
        lang,
        Some(judged),
        Observations::default(),
    )
}

/// The period a run judges, of the months its batch holds
/// ([`crate::pipeline::focus`]).
pub type Judging<'a> = &'a dyn Fn(&[Month]) -> Option<crate::period::Period>;

/// [`load_batch`] for what reads only the figures and the returns'
/// identities (an ingest's history: its old returns' own sheets were checked
/// when they came, and only the new files' findings are shown; the previous
/// month's stocks of a template): their layouts (合计 cells, columns, row
/// sums) are not parsed. On a city's eleventh month that parse was most of
/// the 0.58 s an ingest took to load its history.
///
/// # Errors
/// An unreadable table.
pub fn load_figures(
    store: &Store,
    subs: &[&Submission],
    registry: &Registry,
    schemas: &Schemas,
    lang: Lang,
) -> Result<(Batch, Vec<String>), StoreError> {
    load_returns(
        store,
        subs,
        registry,
        schemas,
        lang,
        None,
        Observations::default(),
    )
}

/// The batch of `subs`; `tail`, the figures of returns to come after them
/// (an ingest's new month, its return indices counted from the first
/// after the history's), joins the history's figures in the one table
/// they are put together in: appended after, the history's 1.3 million
/// figures of a city's eleven months were copied again (0.03 s of a
/// twelfth monthly ingest at 2 threads).
fn load_returns(
    store: &Store,
    subs: &[&Submission],
    registry: &Registry,
    schemas: &Schemas,
    lang: Lang,
    judged: Option<Judging<'_>>,
    tail: Observations,
) -> Result<(Batch, Vec<String>), StoreError> {
    // Each return's submission (and its place in `subs`), for its figures
    // and its layout.
    let mut of_return: Vec<(usize, &Submission)> = Vec::new();
    let mut batch = Batch::default();
    let mut notes = Vec::new();
    let mut file_of: HashMap<&str, u32> = HashMap::new();
    for (k, s) in subs.iter().enumerate() {
        let Some((code, form, month)) = identity(s, schemas) else {
            continue;
        };
        let Some(unit) = registry.by_code(UnitCode(code)) else {
            notes.push(match lang {
                Lang::Zh => format!(
                    "{}（{code}）已不在单位名录中，其报表 {}!{} 未计入",
                    s.unit_name, s.file, s.sheet
                ),
                Lang::En => format!(
                    "{} ({code}) is no longer in the registry; its return {}!{} is not counted",
                    s.unit_name, s.file, s.sheet
                ),
            });
            continue;
        };
        let file = *file_of.entry(s.file.as_str()).or_insert_with(|| {
            batch.files.push(s.file.clone());
            batch.modified.push(ingest_time(&s.ingested_at));
            batch.files.len() as u32 - 1
        });
        of_return.push((k, s));
        batch.returns.push(Return {
            file,
            sheet: s.sheet.clone(),
            form,
            unit,
            month,
            correction: s.correction,
            reported_on: s.reported_on.as_deref().and_then(Day::find_in),
            received: received_day(s),
            status: ReturnStatus::Active,
            totals: Vec::new(),
            columns: Vec::new(),
            total_row: None,
            row_sums: Vec::new(),
            suggested: Vec::new(),
            name_col: None,
            across: false,
        });
    }
    // The period the run will judge, of the months the batch holds, and
    // the returns of it whose layouts it reads.
    let judging = judged.map(|judged| {
        let period = judged(&batch.months_read());
        let wanted: Vec<&Submission> = batch
            .returns
            .iter()
            .zip(&of_return)
            .filter(|(r, _)| period.is_none_or(|p| p.contains(r.month)))
            .map(|(_, (_, s))| *s)
            .collect();
        (period, wanted)
    });
    // The figures and the layouts read side by side: each alone left part
    // of the cores idle. `report --store --period 2026` of a city-year at 2
    // threads, loading the store: 0.232 s against 0.218 (medians of six
    // runs alternating); of a quarter, 0.067–0.072 against 0.066–0.067.
    let (figures, stored) = rayon::join(
        || store.figures_of(subs, registry, schemas),
        || {
            judging
                .as_ref()
                .map(|(_, wanted)| store.parsed_layouts(wanted))
                .transpose()
        },
    );
    let mut figures = figures?;
    if let (Some((period, _)), Some(mut stored)) = (judging, stored?) {
        // Each judged return's layout, in the order of the returns.
        let mut layouts: Vec<Option<Layout>> = Vec::with_capacity(batch.returns.len());
        for (r, (_, s)) in batch.returns.iter().zip(&of_return) {
            if period.is_some_and(|p| !p.contains(r.month)) {
                layouts.push(None);
                continue;
            }
            // Every return recorded one: none is damage, never "no 合计".
            let layout = stored.remove(&s.id).ok_or_else(|| StoreError::Value {
                path: format!("{}（{}）", store.dir.display(), s.id),
                column: "layout".into(),
                row: 0,
                found: None,
            })?;
            layouts.push(Some(layout));
        }
        // Applied (and freed) on every core: one after the other they were
        // 9 ms of one thread in a quarter's report of a city at 2 threads.
        use rayon::prelude::*;
        batch
            .returns
            .par_iter_mut()
            .zip(layouts)
            .for_each(|(r, layout)| {
                if let Some(layout) = layout {
                    apply_layout(r, layout, registry, schemas);
                }
            });
    }
    // Each return's figures, put together once on every core.
    let tables: Vec<(Observations, u32)> = of_return
        .iter()
        .enumerate()
        .filter_map(|(ret, (k, _))| Some((figures[*k].take()?, ret as u32)))
        .collect();
    let mut parts: Vec<(&Observations, u32)> = tables.iter().map(|(o, r)| (o, *r)).collect();
    parts.push((&tail, batch.returns.len() as u32));
    batch.obs = Observations::concat(&parts);
    batch.expected_forms = forms_held(subs.iter().copied(), schemas);
    Ok((batch, notes))
}

/// A return's layout as read back: its fields by id and units by code, in
/// this registry and these schemas (one no longer known is left out).
fn apply_layout(r: &mut Return, layout: Layout, registry: &Registry, schemas: &Schemas) {
    let f = schemas.form(r.form);
    let field = |id: &str| f.field_idx(id);
    r.totals = layout
        .totals
        .iter()
        .filter_map(|(id, v, row, col)| {
            Some(TotalCell {
                field: field(id)?,
                value: *v,
                cell: CellRef {
                    row: *row,
                    col: *col,
                },
            })
        })
        .collect();
    r.columns = layout
        .columns
        .iter()
        .filter_map(|(id, c)| Some((field(id)?, *c)))
        .collect();
    r.total_row = layout.total_row;
    r.across = layout.across;
    r.row_sums = layout
        .row_sums
        .iter()
        .filter_map(|(id, sum, a, b, u)| {
            Some(RowSum {
                field: field(id)?,
                sum: *sum,
                first_row: *a,
                last_row: *b,
                unreadable: *u,
                text: layout.text_sums.iter().find(|t| t.0 == *id).map(
                    |&(_, count, sum, row, col)| crate::observation::TextFigures {
                        count,
                        sum,
                        first: CellRef { row, col },
                    },
                ),
            })
        })
        .collect();
    r.suggested = layout
        .suggested
        .iter()
        .filter_map(|c| registry.by_code(UnitCode(*c)))
        .collect();
    r.name_col = layout.name_col;
}

/// The forms of `subs`: every form a store holds is expected every month
/// (FORMS.md §7), so a month where none of one arrived has every township
/// missing it.
pub fn forms_held<'a>(
    subs: impl IntoIterator<Item = &'a Submission>,
    schemas: &Schemas,
) -> Vec<FormIdx> {
    let mut forms: Vec<FormIdx> = subs
        .into_iter()
        .filter_map(|s| identity(s, schemas).map(|(_, form, _)| form))
        .collect();
    forms.sort_unstable();
    forms.dedup();
    forms
}

/// An ingest time as a file time: later ingests are later.
fn ingest_time(at: &str) -> Option<std::time::SystemTime> {
    // `2026-02-03T10:00:00.123456789+08:00`: order is all that matters;
    // the text sorts as the time does, so its digits make a monotonic number.
    let digits: String = at.chars().filter(char::is_ascii_digit).take(23).collect();
    let n: u64 = digits.get(..19.min(digits.len()))?.parse().ok()?;
    Some(std::time::UNIX_EPOCH + std::time::Duration::from_nanos(n % (1 << 62)))
}

/// The layout of a return, to store.
fn layout_of(r: &Return, registry: &Registry, schemas: &Schemas) -> String {
    let f = schemas.form(r.form);
    let id = |fi| f.field(fi).id.to_string();
    let layout = Layout {
        totals: r
            .totals
            .iter()
            .map(|t| (id(t.field), t.value, t.cell.row, t.cell.col))
            .collect(),
        columns: r.columns.iter().map(|(fi, c)| (id(*fi), *c)).collect(),
        total_row: r.total_row,
        name_col: r.name_col,
        across: r.across,
        row_sums: r
            .row_sums
            .iter()
            .map(|s| (id(s.field), s.sum, s.first_row, s.last_row, s.unreadable))
            .collect(),
        text_sums: r
            .row_sums
            .iter()
            .filter_map(|s| {
                let t = s.text?;
                Some((id(s.field), t.count, t.sum, t.first.row, t.first.col))
            })
            .collect(),
        suggested: r
            .suggested
            .iter()
            .map(|u| registry.unit(*u).code.0)
            .collect(),
    };
    serde_json::to_string(&layout).unwrap_or_default()
}

/// What an ingest did.
#[derive(Debug, Default)]
pub struct IngestReport {
    /// New submissions recorded, with their status.
    pub recorded: Vec<Submission>,
    /// Files skipped because the store already holds their content.
    pub unchanged: Vec<String>,
    /// Earlier submissions whose status changed: (id, from, to).
    pub changed: Vec<(Submission, Status)>,
    /// The findings about what was ingested (reading and checking).
    pub findings: Vec<Finding>,
    /// The generation committed (unchanged when nothing new came).
    pub generation: u64,
    /// 上报情况 of the form-months this ingest brought returns for, over
    /// everything the store now holds (who is still missing).
    pub completeness: Vec<crate::validate::Completeness>,
}

/// Options of an ingest.
pub struct IngestOptions<'a> {
    /// Units.
    pub registry: &'a Registry,
    /// The registry file's text, kept with the generation.
    pub registry_csv: &'a str,
    /// Forms.
    pub schemas: &'a Schemas,
    /// `--period`: a month for returns that name none.
    pub period: Option<crate::period::Period>,
    /// `--correction`: every input is a correction.
    pub correction: bool,
    /// The deadline day (`--deadline-day`).
    pub deadline_day: u32,
    /// The ingest time (`2026-02-03T10:00:00+08:00`).
    /// The day the returns arrived (`--received`), when not the ingest's.
    pub received: Option<Day>,
    /// Submissions to take out of force (`withdraw`), by id, and why.
    pub withdraw: Vec<(String, String)>,
    pub now: String,
}

fn fail_at(point: &str) -> Result<(), StoreError> {
    if std::env::var("PHSTATS_FAIL_AT").is_ok_and(|v| v == point) {
        return Err(StoreError::Injected(point.into()));
    }
    Ok(())
}

/// Ingests `inputs` into `store` (FORMS.md §7), atomically.
///
/// # Errors
/// The store cannot be read or written; it is then as it was.
pub fn ingest(
    store: &mut Store,
    inputs: &[crate::ingest::Input],
    opts: &IngestOptions<'_>,
) -> Result<IngestReport, StoreError> {
    let registry = opts.registry;
    let schemas = opts.schemas;
    let mut clock = crate::timings::Stopwatch::start();
    clean_uncommitted(store);
    let mut history = store.submissions()?;
    clock.lap("ingest: read submissions");
    let mut report = IngestReport {
        generation: store.manifest.generation,
        ..IngestReport::default()
    };
    // Months whose returns this ingest settles again, besides its own.
    let mut resettled: HashSet<Month> = HashSet::new();
    let mut withdrawn: Vec<(String, String)> = Vec::new();
    // Withdrawn: out of force, kept with the reason; what it left alone
    // (the other of a duplicate) is settled again below.
    for s in &mut history {
        if let Some((_, why)) = opts.withdraw.iter().find(|(id, _)| *id == s.id) {
            resettled.extend(identity(s, schemas).map(|(_, _, m)| m));
            report.changed.push((s.clone(), Status::Withdrawn));
            withdrawn.push((s.place(), why.clone()));
            s.status = Status::Withdrawn;
            s.reason = why.clone();
        }
    }
    let mut settles = !opts.withdraw.is_empty();
    let known: HashSet<String> = history.iter().map(|s| s.content_hash.clone()).collect();
    // Re-ingesting the same content changes nothing. A file that cannot
    // be read at all (gone since it was listed, a link to nowhere, no
    // permission) is said so and not recorded, and the next ingest tries
    // it again: it never stops the rest.
    let hashed: Vec<std::io::Result<String>> = {
        use rayon::prelude::*;
        inputs.par_iter().map(|i| content_hash(&i.path)).collect()
    };
    let mut fresh = Vec::new();
    let mut hashes = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (input, hash) in inputs.iter().zip(&hashed) {
        match hash {
            Ok(hash) if known.contains(hash.as_str()) || seen.contains(hash) => {
                // The same content again, now as a correction (--correction,
                // or 更正 in its name): it settles a duplicate in its favour.
                let name = input
                    .path
                    .file_stem()
                    .and_then(|n| n.to_str())
                    .unwrap_or("");
                if opts.correction || crate::ingest::meta::marks_correction(name) {
                    for s in history
                        .iter_mut()
                        .filter(|s| s.content_hash == *hash && s.status == Status::Duplicate)
                    {
                        s.correction = true;
                        settles = true;
                        resettled.extend(identity(s, schemas).map(|(_, _, m)| m));
                    }
                }
                report.unchanged.push(input.display.clone());
            }
            Ok(hash) => {
                seen.insert(hash.clone());
                hashes.push(hash.clone());
                fresh.push(input.clone());
            }
            Err(e) => report.findings.push(
                Finding::new(
                    crate::findings::Rule::UnreadableFile,
                    crate::message::Detail::Unreadable(crate::message::Unreadable::from_io(e)),
                )
                .file(&input.display),
            ),
        }
    }
    // The same content again: its original, when the store has lost it or
    // it is damaged, is kept again (a stat or two a file otherwise).
    {
        use rayon::prelude::*;
        inputs
            .par_iter()
            .zip(&hashed)
            .filter_map(|(input, hash)| match hash {
                Ok(h) if known.contains(h.as_str()) => Some((input, h)),
                _ => None,
            })
            .try_for_each(|(input, hash)| {
                keep_original(&store.dir, &input.path, &input.display, hash)
            })?;
    }
    // A file ingested again whose figures' part is gone: the store is
    // damaged, and ingesting it again does not repair it (its content is
    // held, so nothing of it is read); said as a report says it, not "the
    // files are held, nothing changed".
    {
        let again: HashSet<&str> = hashed
            .iter()
            .filter_map(|h| h.as_ref().ok())
            .filter(|h| known.contains(h.as_str()))
            .map(String::as_str)
            .collect();
        let named = store.parts_named(
            history
                .iter()
                .filter(|s| again.contains(s.content_hash.as_str())),
        );
        for (part, s) in named {
            ensure_part(&part, Some(s))?;
        }
    }
    if fresh.is_empty() && !settles {
        return Ok(report);
    }
    clock.lap("ingest: hash the files");
    // The history: every return that was ever a return and that the
    // registry still knows.
    let kept: Vec<&Submission> = history
        .iter()
        .filter(|s| counted_history(s, registry, schemas))
        .collect();
    let ctx = crate::ingest::Context {
        schemas,
        registry,
        period: opts.period,
        progress: None,
        keep_sheets: false,
    };
    // The originals are kept while the files are read: creating 350 files
    // in the store and flushing each to the disk waits on the disk (0.01 to
    // 0.25 s of a city's monthly ingest here, as the disk is busy), the
    // reading on the cores. Threads of their own, so that a wait never
    // holds a reading core; several, so that the disk has several flushes
    // to do at once: a city-year in one ingest at 2 threads took 2.79–3.00 s
    // with four keepers against 2.97–3.25 with two, one per core (three
    // runs each, alternating, the host busy).
    let dir = &store.dir;
    let keepers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(4, 8);
    let (kept_originals, mut new) = std::thread::scope(|scope| {
        let fresh = &fresh;
        let hashes = &hashes;
        let threads: Vec<_> = (0..keepers)
            .map(|k| {
                scope.spawn(move || {
                    fresh
                        .iter()
                        .zip(hashes)
                        .skip(k)
                        .step_by(keepers)
                        .try_for_each(|(input, hash)| {
                            keep_original(dir, &input.path, &input.display, hash)
                        })
                })
            })
            .collect();
        let new = crate::ingest::ingest(fresh, &ctx);
        let kept: Vec<_> = threads.into_iter().map(|t| t.join()).collect();
        (kept, new)
    });
    for kept in kept_originals {
        match kept {
            Ok(kept) => kept?,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
    clock.lap("ingest: read new files, keep the originals");
    if opts.correction {
        for r in &mut new.returns {
            r.correction = true;
        }
    }
    let read_findings = std::mem::take(&mut new.findings);
    // The months the new returns fall in, and those settled again, are
    // settled and checked with the new returns; every other month is
    // history only, read from its counted figures when the generation in
    // force keeps them for what the store now holds ([`crate::counted`]).
    let registry_hash = history_context(opts.registry_csv, schemas);
    let mut near = resettled;
    near.extend(new.returns.iter().map(|r| r.month));
    let earlier = counted_months(
        store,
        &kept,
        &|m| !near.contains(&m),
        registry,
        &registry_hash,
        schemas,
    );
    let far: HashSet<Month> = earlier.iter().map(|c| c.month).collect();
    // `old[i]` is the batch's return `i`.
    let old: Vec<&Submission> = kept
        .iter()
        .copied()
        .filter(|s| identity(s, schemas).is_some_and(|(_, _, m)| !far.contains(&m)))
        .collect();
    // The history, then the new batch after it (file and return indices
    // shift). The notes go unread here: what is left out shows in `report`.
    let (mut batch, _) = load_returns(
        store,
        &old,
        registry,
        schemas,
        Lang::Zh,
        None,
        std::mem::take(&mut new.obs),
    )?;
    batch.expected_forms = forms_held(kept.iter().copied(), schemas);
    clock.lap("ingest: load history");
    let old_returns = batch.returns.len();
    let old_files = batch.files.len() as u32;
    let now_time = ingest_time(&opts.now);
    // Received today, or the day `--received` says ([`received_day`]).
    let received = receipt_day(opts.received, &opts.now);
    for r in &mut new.returns {
        r.file += old_files;
        r.received = received;
    }
    batch.files.extend(new.files.iter().cloned());
    batch.modified.extend(new.files.iter().map(|_| now_time));
    batch.returns.append(&mut new.returns);
    let (settled, settling) = crate::validate::settle(batch, registry, schemas);
    clock.lap("ingest: settle");
    let (checked, completeness) = crate::validate::check(
        &settled,
        registry,
        schemas,
        false,
        opts.deadline_day,
        crate::validate::Judged::From(old_returns as u32),
        &earlier,
    );
    clock.lap("ingest: check");
    let batch = settled.into_batch();
    let touched: HashSet<(crate::schema::FormIdx, Month)> = batch.returns[old_returns..]
        .iter()
        .map(|r| (r.form, r.month))
        .collect();
    report.completeness = completeness
        .into_iter()
        .filter(|c| touched.contains(&(c.form, c.month)))
        .collect();
    // Status changes of earlier submissions.
    for (i, s) in old.iter().enumerate() {
        let now = Status::of(batch.returns[i].status);
        if now != s.status {
            report.changed.push(((*s).clone(), now));
        }
    }
    // The findings worth showing: those about the new files.
    let new_files: HashSet<&str> = new.files.iter().map(String::as_str).collect();
    report.findings.extend(read_findings.iter().cloned());
    report.findings.extend(
        settling
            .into_iter()
            .chain(checked)
            .filter(|f| f.file.as_deref().is_some_and(|x| new_files.contains(x))),
    );
    // The new submissions.
    // Above every generation kept, committed or in force: a manifest
    // restored from an older backup never has its successors overwritten.
    let generation = next_generation(store);
    let hash_of: HashMap<&str, &str> = fresh
        .iter()
        .zip(&hashes)
        .map(|(i, h)| (i.display.as_str(), h.as_str()))
        .collect();
    let reason_of = |file: &str| {
        read_findings
            .iter()
            .find(|f| {
                f.file.as_deref() == Some(file) && f.severity() == crate::findings::Severity::Error
            })
            .map(|f| f.message(Lang::Zh))
            .unwrap_or_default()
    };
    let mut recorded: Vec<Submission> = Vec::new();
    let mut with_returns: HashSet<&str> = HashSet::new();
    // Each new return's id: its file's content and its sheet; a second
    // return of one sheet (two forms' tables stacked on it) its form too.
    let mut ids: Vec<String> = Vec::new();
    let mut seen: HashSet<(u32, &str)> = HashSet::new();
    for r in batch.returns.iter().skip(old_returns) {
        let hash = hash_of
            .get(batch.files[r.file as usize].as_str())
            .copied()
            .unwrap_or("");
        ids.push(if seen.insert((r.file, r.sheet.as_str())) {
            format!("{hash}:{}", r.sheet)
        } else {
            format!("{hash}:{}|{}", r.sheet, schemas.form(r.form).id)
        });
    }
    for (k, r) in batch.returns.iter().enumerate().skip(old_returns) {
        let file = batch.files[r.file as usize].as_str();
        with_returns.insert(file);
        let hash = hash_of.get(file).copied().unwrap_or("");
        let unit = registry.unit(r.unit);
        let status = Status::of(r.status);
        recorded.push(Submission {
            id: ids[k - old_returns].clone(),
            file: file.to_string(),
            content_hash: hash.to_string(),
            sheet: r.sheet.clone(),
            unit_code: Some(unit.code.0),
            unit_name: unit.name.clone(),
            form: schemas.form(r.form).id.to_string(),
            month: r.month.to_string(),
            ingested_at: opts.now.clone(),
            generation,
            reported_on: r.reported_on.map(|d| d.to_string()),
            received_on: opts.received.map(|d| d.to_string()),
            correction: r.correction,
            status,
            reason: status_reason(status, &batch, k),
            layout: layout_of(r, registry, schemas),
        });
    }
    for input in &fresh {
        if with_returns.contains(input.display.as_str()) {
            continue;
        }
        let hash = hash_of.get(input.display.as_str()).copied().unwrap_or("");
        recorded.push(Submission {
            id: format!("{hash}:"),
            file: input.display.clone(),
            content_hash: hash.to_string(),
            sheet: String::new(),
            unit_code: None,
            unit_name: String::new(),
            form: String::new(),
            month: String::new(),
            ingested_at: opts.now.clone(),
            generation,
            reported_on: None,
            received_on: opts.received.map(|d| d.to_string()),
            correction: false,
            status: Status::Rejected,
            reason: reason_of(&input.display),
            layout: String::new(),
        });
    }
    // 1. The new figures, as new parts (not in force until the commit).
    let mut by_month: HashMap<String, Vec<usize>> = HashMap::new();
    for (k, r) in batch.returns.iter().enumerate().skip(old_returns) {
        by_month.entry(r.month.to_string()).or_default().push(k);
    }
    let spans = crate::validate::returns::return_spans(&batch);
    for (month, rets) in &by_month {
        let ids: Vec<String> = rets.iter().map(|&k| ids[k - old_returns].clone()).collect();
        let mut sid: Vec<&str> = Vec::new();
        let mut code = Vec::new();
        let mut form: Vec<&str> = Vec::new();
        let mut field: Vec<&str> = Vec::new();
        let mut value: Vec<Option<f64>> = Vec::new();
        let mut row = Vec::new();
        let mut col = Vec::new();
        for (&k, id) in rets.iter().zip(&ids) {
            let f = schemas.form(batch.returns[k].form);
            // In the order of the cells, as a return is read back.
            let mut cells: Vec<usize> = spans[k].clone().collect();
            cells.sort_by_key(|&i| (batch.obs.cell[i].row, batch.obs.cell[i].col));
            for i in cells {
                sid.push(id);
                code.push(registry.unit(batch.obs.unit[i]).code.0);
                form.push(&f.id);
                field.push(&f.field(batch.obs.field[i]).id);
                value.push(batch.obs.value[i]);
                row.push(batch.obs.cell[i].row);
                col.push(batch.obs.cell[i].col);
            }
        }
        let n = sid.len();
        let mut df = DataFrame::new(
            n,
            vec![
                Column::new("submission_id".into(), sid),
                Column::new("unit_code".into(), code),
                Column::new("form".into(), form),
                Column::new("field".into(), field),
                Column::new("value".into(), value),
                Column::new("row".into(), row),
                Column::new("col".into(), col),
            ],
        )
        .map_err(table_err(&store.dir))?;
        let path = store
            .dir
            .join("observations")
            .join(format!("city={}", store.manifest.city))
            .join(format!("month={month}"))
            .join(format!("part-{generation:06}.parquet"));
        write_parquet(&path, &mut df)?;
    }
    // And their layouts, as a part of this generation's (version 2 on).
    if store.has_layout_parts() {
        let with: Vec<&Submission> = recorded.iter().filter(|s| !s.layout.is_empty()).collect();
        let mut df = DataFrame::new(
            with.len(),
            vec![
                Column::new(
                    "submission_id".into(),
                    with.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
                ),
                Column::new(
                    "layout".into(),
                    with.iter().map(|s| s.layout.clone()).collect::<Vec<_>>(),
                ),
            ],
        )
        .map_err(table_err(&store.dir))?;
        write_parquet(&store.layout_part(generation), &mut df)?;
    }
    clock.lap("ingest: write figures");
    fail_at("after_observations")?;
    // 2. The whole submission tables of the new generation.
    let mut all: Vec<Submission> = history.clone();
    let old_pos: HashMap<String, usize> = old
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.clone(), i))
        .collect();
    for s in &mut all {
        if let Some(&i) = old_pos.get(&s.id) {
            let status = Status::of(batch.returns[i].status);
            if status != s.status {
                s.status = status;
                s.reason = status_reason(status, &batch, i);
            }
        }
    }
    all.extend(recorded.iter().cloned());
    let dir = gen_dir(&store.dir, generation);
    std::fs::create_dir_all(&dir).map_err(io_err(&dir, Access::Write))?;
    let parts = store.has_layout_parts();
    if !parts {
        // A version-1 store keeps every layout in its submissions table.
        let refs: Vec<&Submission> = history.iter().collect();
        let mut kept = store.layouts(&refs)?;
        for s in &mut all {
            if let Some(l) = kept.remove(&s.id) {
                s.layout = l;
            }
        }
    }
    write_parquet(
        &dir.join("submissions.parquet"),
        &mut submissions_frame(&all, !parts).map_err(table_err(&dir))?,
    )?;
    let mut stored_findings = store.file_findings()?;
    stored_findings.extend(read_findings.iter().filter_map(|f| {
        let file = f.file.as_deref()?;
        Some((hash_of.get(file)?.to_string(), f.clone()))
    }));
    write_parquet(
        &dir.join("findings.parquet"),
        &mut findings_frame(&stored_findings).map_err(table_err(&dir))?,
    )?;
    write_synced(&dir.join("units.csv"), opts.registry_csv.as_bytes())?;
    // Each month's counted figures, for the next ingest's checks over time:
    // those of the months read whole made again, the others' kept.
    {
        use rayon::prelude::*;
        let from = gen_dir(&store.dir, store.manifest.generation);
        let now: Vec<&Submission> = all
            .iter()
            .filter(|s| counted_history(s, registry, schemas))
            .collect();
        // Each return's submission: the history's, then the new ones.
        let ids: Vec<&str> = old
            .iter()
            .map(|s| s.id.as_str())
            .chain(recorded.iter().map(|s| s.id.as_str()))
            .take(batch.returns.len())
            .collect();
        let made = CountedMonth::every_month(&batch, schemas, &ids);
        returns_by_month(&now, schemas)
            .into_par_iter()
            .try_for_each(|(m, subs)| {
                let to = counted_path(&dir, m);
                if far.contains(&m) {
                    keep_counted(&counted_path(&from, m), &to);
                    return Ok(());
                }
                let fp = month_fingerprint(&subs, &registry_hash);
                // A month whose returns count no figure has its file too.
                let empty = CountedMonth {
                    month: m,
                    rows: Vec::new(),
                    apart: Vec::new(),
                    returns: Vec::new(),
                    counts: false,
                };
                let month = made.iter().find(|c| c.month == m).unwrap_or(&empty);
                write_counted(&to, &month.to_bytes(&fp, registry, schemas))
                    .map_err(io_err(&to, Access::Write))
            })?;
    }
    clock.lap("ingest: write tables");
    fail_at("before_commit")?;
    // 3. The commit.
    let in_force = all.iter().filter(|s| s.status == Status::InForce).count();
    let by = if opts.withdraw.is_empty() {
        "ingest"
    } else {
        "withdraw"
    };
    let made = Commit {
        generation,
        at: opts.now.clone(),
        by: by.to_string(),
        came_in: recorded.len(),
        in_force,
        withdrawn,
    };
    commit(store, &made)?;
    report.recorded = recorded;
    report.generation = generation;
    Ok(report)
}

/// The number a new generation gets: above every one kept.
fn next_generation(store: &Store) -> u64 {
    commits(&store.dir)
        .iter()
        .map(|c| c.generation)
        .chain([store.manifest.generation])
        .max()
        .unwrap_or(0)
        + 1
}

/// Commits `generation`, whose files are all on disk: its mark, then the
/// manifest naming it; then what no committed generation names, and the
/// generations past retention, are removed.
fn commit(store: &mut Store, made: &Commit) -> Result<(), StoreError> {
    let (generation, now) = (made.generation, made.at.as_str());
    // A store written before generations were kept has no mark on the
    // generation in force: it gets one now, so it stays in the log.
    let prev = store.manifest.generation;
    if prev > 0 && prev != generation && !gen_dir(&store.dir, prev).join(COMMITTED).exists() {
        let subs = store.submissions()?;
        mark(
            &store.dir,
            &Commit {
                generation: prev,
                at: store.manifest.updated_at.clone(),
                by: "ingest".into(),
                came_in: subs.iter().filter(|s| s.generation == prev).count(),
                in_force: subs.iter().filter(|s| s.status == Status::InForce).count(),
                withdrawn: Vec::new(),
            },
        )?;
    }
    mark(&store.dir, made)?;
    let manifest = Manifest {
        generation,
        updated_at: now.to_string(),
        ..store.manifest.clone()
    };
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    write_synced(&store.dir.join(MANIFEST), text.as_bytes())?;
    store.manifest = manifest;
    clean_uncommitted(store);
    Ok(())
}

/// Writes a generation's commit mark, on the disk before it returns.
fn mark(dir: &Path, c: &Commit) -> Result<(), StoreError> {
    let text = serde_json::to_string_pretty(c).unwrap_or_default();
    write_synced(&gen_dir(dir, c.generation).join(COMMITTED), text.as_bytes())
}

/// `store log`: the committed generations kept, oldest first.
#[must_use]
pub fn log(store: &Store) -> Vec<Commit> {
    commits(&store.dir)
}

/// Generation `n` among the `kept` ones, or the error that lists them.
fn kept_generation<'k>(
    store: &Store,
    kept: &'k [Commit],
    n: u64,
) -> Result<&'k Commit, StoreError> {
    kept.iter()
        .find(|c| c.generation == n)
        .ok_or_else(|| StoreError::NoGeneration {
            path: store.dir.display().to_string(),
            asked: n,
            kept: kept.iter().map(|c| c.generation).collect(),
        })
}

/// What a `--since` or `--as-of` names: a generation (`3`) or a day
/// (`2026-04-10`, `2026年4月10日`): the last generation committed by the
/// end of that day (Beijing time, as the commits are stamped).
///
/// # Errors
/// A text that is neither, a generation not kept, or a day before the
/// first generation kept.
pub fn generation_named(store: &Store, text: &str) -> Result<u64, StoreError> {
    let kept = commits(&store.dir);
    if let Ok(n) = text.trim().parse::<u64>() {
        return kept_generation(store, &kept, n).map(|c| c.generation);
    }
    let Some(day) = Day::find_in(text) else {
        return Err(StoreError::NotAGeneration(text.to_string()));
    };
    kept.iter()
        .filter(|c| {
            c.at.get(..10)
                .and_then(Day::find_in)
                .is_some_and(|d| d <= day)
        })
        .map(|c| c.generation)
        .max()
        .ok_or_else(|| StoreError::NoneBy(day.to_string()))
}

impl Store {
    /// The store as it stood at kept generation `n`: its submissions,
    /// statuses, findings and registry then (FORMS.md §7, `--as-of`).
    ///
    /// # Errors
    /// `n` is not a kept generation.
    pub fn as_of(&self, n: u64) -> Result<Store, StoreError> {
        kept_generation(self, &commits(&self.dir), n)?;
        let mut manifest = self.manifest.clone();
        manifest.generation = n;
        Ok(Store {
            dir: self.dir.clone(),
            manifest,
        })
    }

    /// When generation `n` was committed (`2026-04-10T09:30:00+08:00`).
    #[must_use]
    pub fn committed_at(&self, n: u64) -> Option<String> {
        commits(&self.dir)
            .into_iter()
            .find(|c| c.generation == n)
            .map(|c| c.at)
    }
}

/// `store rollback N`: makes kept generation `n` the one in force, as a new
/// generation (nothing is deleted: the generations after `n` stay in the
/// log, and a rollback can itself be rolled back).
///
/// # Errors
/// `n` is not a kept generation; a file cannot be copied.
pub fn rollback(store: &mut Store, n: u64, now: &str) -> Result<u64, StoreError> {
    let kept = commits(&store.dir);
    let from = kept_generation(store, &kept, n)?;
    let generation = next_generation(store);
    let (src, dst) = (gen_dir(&store.dir, n), gen_dir(&store.dir, generation));
    std::fs::create_dir_all(&dst).map_err(io_err(&dst, Access::Write))?;
    for name in ["submissions.parquet", "findings.parquet", "units.csv"] {
        let from_path = src.join(name);
        if !from_path.exists() {
            continue;
        }
        let bytes = std::fs::read(&from_path).map_err(io_err(&from_path, Access::Read))?;
        write_synced(&dst.join(name), &bytes)?;
    }
    // Its months' counted figures, made from the same submissions: the
    // next ingest reads them rather than every month's figures.
    for from in counted_files(&src) {
        if let Some(name) = from.file_name() {
            keep_counted(&from, &dst.join(name));
        }
    }
    let made = Commit {
        generation,
        at: now.to_string(),
        by: format!("rollback {n}"),
        came_in: 0,
        in_force: from.in_force,
        withdrawn: Vec::new(),
    };
    commit(store, &made)?;
    Ok(generation)
}

/// `store verify`: every figures part the generation in force names is
/// there, reads, and holds the figures of each submission in force that
/// recorded any; what is wrong, one line each (empty when all is well).
///
/// # Errors
/// The submissions table itself cannot be read.
pub fn verify(store: &Store, lang: Lang) -> Result<Vec<String>, StoreError> {
    let subs = store.submissions()?;
    let live: Vec<&Submission> = subs
        .iter()
        .filter(|s| !matches!(s.status, Status::Rejected | Status::Withdrawn))
        .collect();
    let mut problems = Vec::new();
    let mut parts: std::collections::BTreeMap<PathBuf, Vec<&Submission>> =
        std::collections::BTreeMap::new();
    for s in &live {
        parts.entry(store.part_of(s)).or_default().push(s);
    }
    for (part, subs) in parts {
        match store.observations_of(&subs) {
            Ok(_) => {}
            // Named once: a missing part's message names it already.
            Err(e) => {
                let said = e.render(lang);
                let part = part.display().to_string();
                problems.push(if said.contains(&part) {
                    said
                } else {
                    format!("{part}: {said}")
                });
            }
        }
    }
    // The generation's other tables, read as a report reads them: what
    // reading the files found, and the registry it ingested with. (A
    // torn findings.parquet was "whole" here while every report failed.)
    if store.manifest.generation > 0 {
        if let Err(e) = store.file_findings() {
            problems.push(e.render(lang));
        }
        let units = gen_dir(&store.dir, store.manifest.generation).join("units.csv");
        match store.registry_csv() {
            None => problems.push(match lang {
                Lang::Zh => format!(
                    "数据库已损坏：单位名录 {} 不见了或无法读取",
                    units.display()
                ),
                Lang::En => format!(
                    "the store is damaged: its registry {} is missing or unreadable",
                    units.display()
                ),
            }),
            Some(text) => {
                if let Err(e) = Registry::from_csv(text.as_bytes(), &units.display().to_string()) {
                    problems.push(e.render(lang));
                }
            }
        }
    }
    // And each one's layout, from the part (or table) that holds it,
    // read as a report reads it ([`Store::parsed_layouts`]).
    let mut by_part: std::collections::BTreeMap<u64, Vec<&Submission>> =
        std::collections::BTreeMap::new();
    for s in &live {
        let g = if store.has_layout_parts() {
            s.generation
        } else {
            0
        };
        by_part.entry(g).or_default().push(s);
    }
    for subs in by_part.values() {
        match store.parsed_layouts(subs) {
            Ok(found) => {
                problems.extend(subs.iter().filter(|s| !found.contains_key(&s.id)).map(|s| {
                    match lang {
                        Lang::Zh => format!(
                            "{}!{}：数据库中缺少其版式（合计行、各列的位置）",
                            s.file, s.sheet
                        ),
                        Lang::En => format!(
                            "{}!{}: its layout (合计 row, columns) is missing from the store",
                            s.file, s.sheet
                        ),
                    }
                }))
            }
            Err(e) => problems.push(e.render(lang)),
        }
    }
    // And each kept original still what was received (every core: a
    // city's year is 70 MB of them).
    let mut hashes = HashSet::new();
    let with: Vec<&Submission> = live
        .iter()
        .copied()
        .filter(|s| hashes.insert(s.content_hash.as_str()))
        .collect();
    let damaged: Vec<(&Submission, PathBuf)> = {
        use rayon::prelude::*;
        with.par_iter()
            .filter_map(|s| match store.original(s) {
                Original::Damaged(p) => Some((*s, p)),
                Original::Kept(_) | Original::NotKept => None,
            })
            .collect()
    };
    problems.extend(damaged.into_iter().map(|(s, p)| match lang {
        Lang::Zh => format!(
            "{}：数据库保存的原件 {} 已损坏（内容与入库时不同），其退回修改工作簿将不附原表；数字不受影响。再次读入该文件（phstats ingest）即可修复",
            s.file,
            p.display()
        ),
        Lang::En => format!(
            "{}: the original the store kept, {}, is damaged (not what was ingested); its feedback workbook will have no copy of the sheet; the figures are unaffected. Ingesting the file again (phstats ingest) repairs it",
            s.file,
            p.display()
        ),
    }));
    Ok(problems)
}

/// Why a return has its status, in Chinese.
fn status_reason(status: Status, batch: &Batch, k: usize) -> String {
    let r = &batch.returns[k];
    let alike: Vec<&crate::observation::Return> = batch
        .returns
        .iter()
        .enumerate()
        .filter(|(i, o)| *i != k && o.unit == r.unit && o.form == r.form && o.month == r.month)
        .map(|(_, o)| o)
        .collect();
    let others: Vec<String> = alike
        .iter()
        .map(|o| format!("{}!{}", batch.files[o.file as usize], o.sheet))
        .collect();
    let one_file = alike.iter().all(|o| o.file == r.file);
    match status {
        Status::InForce if others.is_empty() => "唯一的一份".into(),
        Status::InForce if r.correction => format!("更正报表，替代 {}", others.join("、")),
        // The others all sheets of its own file: one return in parts (a
        // township's villages, a sheet each), counted together.
        Status::InForce if one_file => {
            let sheets: Vec<&str> = alike.iter().map(|o| o.sheet.as_str()).collect();
            format!(
                "与本文件的工作表 {} 同为一份报表，一并计入",
                sheets.join("、")
            )
        }
        Status::InForce => "有效".into(),
        Status::Superseded => format!("被更正报表替代（{}）", others.join("、")),
        Status::IdenticalCopy => format!("与 {} 数字相同，只计一次", others.join("、")),
        Status::Duplicate => format!("与 {} 数字不同且均未标注更正，均不计入", others.join("、")),
        Status::Rejected | Status::Withdrawn => String::new(),
    }
}

/// The submissions table; `layouts`: with its layout column (version 1).
fn submissions_frame(all: &[Submission], layouts: bool) -> PolarsResult<DataFrame> {
    let s = |f: &dyn Fn(&Submission) -> String| all.iter().map(f).collect::<Vec<String>>();
    let mut columns = vec![
        Column::new("submission_id".into(), s(&|x| x.id.clone())),
        Column::new("file".into(), s(&|x| x.file.clone())),
        Column::new("content_hash".into(), s(&|x| x.content_hash.clone())),
        Column::new("sheet".into(), s(&|x| x.sheet.clone())),
        Column::new(
            "unit_code".into(),
            all.iter().map(|x| x.unit_code).collect::<Vec<_>>(),
        ),
        Column::new("unit_name".into(), s(&|x| x.unit_name.clone())),
        Column::new("form".into(), s(&|x| x.form.clone())),
        Column::new("month".into(), s(&|x| x.month.clone())),
        Column::new("ingested_at".into(), s(&|x| x.ingested_at.clone())),
        Column::new(
            "generation".into(),
            all.iter().map(|x| x.generation).collect::<Vec<_>>(),
        ),
        Column::new(
            "reported_on".into(),
            all.iter()
                .map(|x| x.reported_on.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "received_on".into(),
            all.iter()
                .map(|x| x.received_on.clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "correction".into(),
            all.iter().map(|x| x.correction).collect::<Vec<_>>(),
        ),
        Column::new("status".into(), s(&|x| x.status.id().to_string())),
        Column::new("reason".into(), s(&|x| x.reason.clone())),
    ];
    if layouts {
        columns.push(Column::new("layout".into(), s(&|x| x.layout.clone())));
    }
    DataFrame::new(all.len(), columns)
}

fn findings_frame(all: &[(String, Finding)]) -> PolarsResult<DataFrame> {
    let col =
        |f: &dyn Fn(&Finding) -> String| all.iter().map(|(_, x)| f(x)).collect::<Vec<String>>();
    DataFrame::new(
        all.len(),
        vec![
            Column::new(
                "content_hash".into(),
                all.iter().map(|(h, _)| h.clone()).collect::<Vec<_>>(),
            ),
            Column::new("severity".into(), col(&|f| f.severity().id().to_string())),
            Column::new("rule".into(), col(&|f| f.rule.id().to_string())),
            Column::new("file".into(), col(&|f| f.file.clone().unwrap_or_default())),
            Column::new(
                "sheet".into(),
                col(&|f| f.sheet.clone().unwrap_or_default()),
            ),
            Column::new(
                "cell".into(),
                col(&|f| f.cell.map(|c| c.to_string()).unwrap_or_default()),
            ),
            Column::new("message".into(), col(&|f| f.message_with_help(Lang::Zh))),
            Column::new(
                "detail".into(),
                col(&|f| serde_json::to_string(f).unwrap_or_default()),
            ),
        ],
    )
}

/// Removes what no committed generation names: observation parts and
/// submission generations above the one in force (a crashed ingest's), and
/// generations below it (superseded by the commit).
fn clean_uncommitted(store: &Store) {
    let g = store.manifest.generation;
    let committed: HashSet<u64> = commits(&store.dir).iter().map(|c| c.generation).collect();
    let newest = committed.iter().copied().chain([g]).max().unwrap_or(g);
    // Retention: the last KEPT_GENERATIONS committed generations stay.
    let oldest_kept = newest.saturating_sub(KEPT_GENERATIONS - 1);
    for n in generation_dirs(&store.dir) {
        let crashed = n != g && !committed.contains(&n);
        if crashed || (n != g && n < oldest_kept) {
            let _ = std::fs::remove_dir_all(gen_dir(&store.dir, n));
        }
    }
    if let Ok(entries) = std::fs::read_dir(store.dir.join(ORIGINALS)) {
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let mut stack = vec![store.dir.join("observations"), store.dir.join(LAYOUTS)];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if part_generation(&p).is_some_and(|n| n > newest)
                || p.extension().is_some_and(|x| x == "tmp")
            {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
}

/// The submissions in force, for a report.
#[must_use]
pub fn in_force(subs: &[Submission]) -> Vec<&Submission> {
    subs.iter()
        .filter(|s| s.status == Status::InForce)
        .collect()
}

/// What changed in the registry since the store's generation ingested:
/// units renamed, moved or gone, in `lang`.
#[must_use]
pub fn registry_changes(store: &Store, current: &Registry, lang: Lang) -> Vec<String> {
    let Some(old) = store
        .registry_csv()
        .and_then(|t| Registry::from_csv(t.as_bytes(), "store").ok())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for u in &old.units {
        match current.by_code(u.code) {
            None => out.push(match lang {
                Lang::Zh => format!("{}（{}）已从单位名录中删除，其数字不再计入", u.name, u.code),
                Lang::En => format!(
                    "{} ({}) was removed from the registry; its figures no longer count",
                    u.name, u.code
                ),
            }),
            Some(i) => {
                let c = current.unit(i);
                if c.name != u.name {
                    out.push(match lang {
                        Lang::Zh => format!("{}（{}）已更名为 {}", u.name, u.code, c.name),
                        Lang::En => format!("{} ({}) is now called {}", u.name, u.code, c.name),
                    });
                }
                let parent = |r: &Registry, p: Option<UnitIdx>| p.map(|p| r.unit(p).code);
                if parent(&old, u.parent) != parent(current, c.parent) {
                    out.push(match lang {
                        Lang::Zh => format!("{}（{}）已调整上级单位", c.name, u.code),
                        Lang::En => format!("{} ({}) has a new parent unit", c.name, u.code),
                    });
                }
            }
        }
    }
    out
}

/// Today's ingest time, Beijing time, ISO 8601 with nanoseconds so that
/// two ingests in one second still order.
#[must_use]
pub fn now_iso() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64 + 8 * 3600;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let day = Day::from_serial(days as f64 + 25_569.0)
        .map_or_else(|| "1970-01-01".to_string(), |d| d.to_string());
    format!(
        "{day}T{:02}:{:02}:{:02}.{:09}+08:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_nanos()
    )
}

/// The day of an ingest time.
#[must_use]
pub fn ingest_day(at: &str) -> Option<Day> {
    Day::find_in(at.get(..10)?)
}

/// The day a submission was received, for its timeliness where it has no
/// 报出日期 (FORMS.md §7): the day its ingest was told (`--received`, for a
/// backlog), else the day it was ingested. The one place this is decided:
/// a return read back from the store, and one being ingested (`ingest`
/// gives it the same day before it is checked), both ask here.
#[must_use]
pub fn received_day(s: &Submission) -> Option<Day> {
    // A day recorded that does not read is no day, never the ingest's.
    let told = match &s.received_on {
        Some(d) => Some(Day::find_in(d)?),
        None => None,
    };
    receipt_day(told, &s.ingested_at)
}

/// [`received_day`] of a submission ingested at `ingested_at`, its ingest
/// told `told` (`--received`).
fn receipt_day(told: Option<Day>, ingested_at: &str) -> Option<Day> {
    told.or_else(|| ingest_day(ingested_at))
}

/// A unit's label in a listing: name and code.
#[must_use]
pub fn unit_label(s: &Submission) -> Label {
    Label {
        zh: format!(
            "{}（{}）",
            s.unit_name,
            s.unit_code.map(|c| c.to_string()).unwrap_or_default()
        ),
        en: format!(
            "{} ({})",
            s.unit_name,
            s.unit_code.map(|c| c.to_string()).unwrap_or_default()
        ),
    }
}
