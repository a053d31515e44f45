//! Whose fault a panic is. calamine may panic on a file's bytes: that is
//! the file's `unreadable_file`, caught around each call into it
//! ([`in_reader`]). polars may panic on a damaged store table's bytes, on
//! its own threads: that is the table's damage, caught around each table
//! read ([`reading_table`]). A panic anywhere else is a bug of phstats itself: it is
//! never blamed on a township. The hook installed by [`install_hook`] says
//! so in the terminal's language, names the file being read, asks the user
//! to report it, and the process exits 101.

use std::cell::{Cell, RefCell};

use crate::message::Lang;

/// Store tables being decoded now, on any thread: polars decodes a part
/// on its own pool's threads, where a panic on damaged bytes (a length a
/// flipped byte made wrong) happens away from the reading thread.
static STORE_READS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Where the table reader last panicked on damaged bytes, on any thread.
static TABLE_PANIC: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

thread_local! {
    /// Set while calamine runs on a file's bytes.
    static IN_READER: Cell<bool> = const { Cell::new(false) };
    /// Where calamine last panicked (` at calamine-0.38.0/src/xls.rs:12`).
    static READER_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
    /// The file this thread is reading, for an internal error's report.
    static READING: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Runs `call` as a call into the spreadsheet reader: a panic during it is
/// recorded for [`last_reader_panic`] instead of being reported as a bug.
pub fn in_reader<T>(call: impl FnOnce() -> T) -> T {
    let before = IN_READER.with(|g| g.replace(true));
    let out = call();
    IN_READER.with(|g| g.set(before));
    out
}

/// Decodes a store table (`call`): a panic of the table reader (a polars
/// crate) during it, on this thread or on polars' pool, is the table's
/// damage, returned as `Err` with where it happened, never reported as a
/// bug of phstats. A panic in phstats' own code during it still is one.
///
/// # Errors
/// The reader panicked on the table's bytes.
pub fn reading_table<T>(call: impl FnOnce() -> T) -> Result<T, String> {
    use std::sync::atomic::Ordering;
    STORE_READS.fetch_add(1, Ordering::SeqCst);
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(call));
    STORE_READS.fetch_sub(1, Ordering::SeqCst);
    out.map_err(|_| {
        std::mem::take(
            &mut *TABLE_PANIC
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    })
}

/// Whether a panic at `file` (a source path) is the table reader's while
/// a store table is being decoded.
fn in_table_reader(file: &str) -> bool {
    STORE_READS.load(std::sync::atomic::Ordering::SeqCst) > 0
        && file
            .split(['/', '\\'])
            .any(|part| part.starts_with("polars-"))
}

/// Where the reader's last panic on this thread happened (empty if unknown).
#[must_use]
pub fn last_reader_panic() -> String {
    READER_PANIC.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

/// Runs `work` while reading `file`, so that a bug met there names it.
pub fn reading<T>(file: &str, work: impl FnOnce() -> T) -> T {
    let before = READING.with(|r| std::mem::replace(&mut *r.borrow_mut(), file.to_string()));
    let out = work();
    READING.with(|r| *r.borrow_mut() = before);
    out
}

/// `calamine-0.38.0/src/cfb.rs` from a registry path.
fn short_path(file: &str) -> String {
    let parts: Vec<&str> = file.split(['/', '\\']).collect();
    parts[parts.len().saturating_sub(3)..].join("/")
}

/// Installs the process's panic hook: a reader's panic is kept quiet (it
/// becomes the file's finding); any other panic is printed as an internal
/// error of phstats in `lang`, with where it happened and the file being
/// read, and the process exits 101 at once (a panic in a worker thread
/// would otherwise be carried to the main thread and printed twice).
pub fn install_hook(lang: Lang) {
    std::panic::set_hook(Box::new(move |info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", short_path(l.file()), l.line()))
            .unwrap_or_default();
        if IN_READER.with(Cell::get) {
            READER_PANIC.with(|p| *p.borrow_mut() = format!(" at {at}"));
            return;
        }
        if info.location().is_some_and(|l| in_table_reader(l.file())) {
            *TABLE_PANIC
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
            return;
        }
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        // One report, from the first thread to fail; another waits for the exit.
        static REPORTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if REPORTING.swap(true, std::sync::atomic::Ordering::SeqCst) {
            loop {
                std::thread::park();
            }
        }
        let file = READING.with(|r| r.borrow().clone());
        let file = crate::message::terminal_text(&file);
        let text = match lang {
            Lang::Zh => {
                let mut s = String::from(
                    "内部错误：phstats 程序自身出错（这不是报表的问题，不必让乡镇重报）。",
                );
                if !file.is_empty() {
                    s.push_str(&format!("出错时正在读取 {file}。"));
                }
                s.push_str(&format!(
                    "\n  请把这段信息连同该文件一起发给 phstats 的维护者。\n  位置：{at}：{}",
                    crate::message::terminal_text(&what)
                ));
                s
            }
            Lang::En => {
                let mut s = String::from(
                    "internal error: phstats itself failed (this is not a fault of the return; do not ask the township to resend).",
                );
                if !file.is_empty() {
                    s.push_str(&format!(" It was reading {file}."));
                }
                s.push_str(&format!(
                    "\n  Please report this message, with that file, to the maintainers of phstats.\n  at {at}: {}",
                    crate::message::terminal_text(&what)
                ));
                s
            }
        };
        eprintln!("{text}");
        std::process::exit(101);
    }));
}

/// A fault planted for a test (debug builds only): panics at `site` when
/// `PHSTATS_PLANT_PANIC` names it, so a test can prove that a bug of
/// phstats is reported as one and fails the suite. Release builds compile
/// it to nothing.
#[track_caller]
pub fn plant(site: &str) {
    #[cfg(debug_assertions)]
    {
        static PLANTED: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
        let planted = PLANTED.get_or_init(|| std::env::var("PHSTATS_PLANT_PANIC").ok());
        if planted.as_deref() == Some(site) {
            panic!("planted panic at {site}");
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = site;
}
