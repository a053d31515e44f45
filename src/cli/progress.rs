//! A one-line progress display on stderr — files read and findings so far —
//! for runs long enough to wonder about (over a second), and only when
//! stderr is a terminal: logs and pipes stay clean.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::ingest::Progress;
use crate::message::Lang;

/// Runs `work` with a progress line over `total` files drawn from `counters`.
pub fn with_progress<T>(
    total: usize,
    counters: &Arc<Progress>,
    lang: Lang,
    work: impl FnOnce() -> T,
) -> T {
    let show = std::io::stderr().is_terminal();
    let stop = Arc::new(AtomicBool::new(false));
    let painter: Option<JoinHandle<()>> = show.then(|| {
        let (stop, counters) = (Arc::clone(&stop), Arc::clone(counters));
        std::thread::spawn(move || paint(total, &counters, &stop, lang))
    });
    let out = work();
    stop.store(true, Relaxed);
    if let Some(p) = painter {
        // Wake it from its pause so a short run does not wait for it.
        p.thread().unpark();
        let _ = p.join();
    }
    out
}

fn paint(total: usize, counters: &Progress, stop: &AtomicBool, lang: Lang) {
    let start = Instant::now();
    let mut drawn = false;
    while !stop.load(Relaxed) {
        std::thread::park_timeout(Duration::from_millis(100));
        if stop.load(Relaxed) {
            break;
        }
        let elapsed = start.elapsed();
        if elapsed < Duration::from_secs(1) {
            continue;
        }
        let files = counters.files.load(Relaxed);
        let findings = counters.findings.load(Relaxed);
        let width = 30;
        let filled = (files * width)
            .checked_div(total)
            .unwrap_or(width)
            .min(width);
        let phase = if files < total {
            lang.pick("正在读取", "reading")
        } else {
            lang.pick("正在审核、汇总", "checking and consolidating")
        };
        let bar = format!("{}{}", "#".repeat(filled), "-".repeat(width - filled));
        let secs = elapsed.as_secs_f64();
        let mut err = std::io::stderr().lock();
        let _ = match lang {
            Lang::Zh => write!(
                err,
                "\r[{bar}] {files}/{total} 个文件 · {findings} 条问题 · {secs:.1} 秒 · {phase}\x1b[K"
            ),
            Lang::En => write!(
                err,
                "\r[{bar}] {files}/{total} files · {findings} findings · {secs:.1} s · {phase}\x1b[K"
            ),
        };
        let _ = err.flush();
        drawn = true;
    }
    if drawn {
        let _ = write!(std::io::stderr(), "\r\x1b[K");
    }
}
