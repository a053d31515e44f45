//! The benchmark: generates a realistic corpus with the project's own
//! generator, then times the release binary's `consolidate --export` on it
//! (all checks on) and, for scale, the floor under it: opening every
//! workbook and reading every cell with calamine and rayon, nothing else.
//!
//! ```sh
//! cargo build --release && cargo run --release --example bench
//! ```
//!
//! Prints one table row per corpus of the suite: files, figure cells, wall
//! time, files/s, cells/s, peak resident memory of the phstats process, the
//! floor's wall time and phstats' throughput as a fraction of the floor
//! (medians of five runs; one for the province-year), at one thread, at
//! every core, and at one thread held to one core; then each phase's time
//! and speed-up at those thread counts, and how time per file grows from
//! a city-year to a province-year.
//!
//! `RAYON_NUM_THREADS=1` is one worker thread, not one core: the workbook
//! writer assembles its sheets on threads of its own and every output file
//! is flushed to disk on one, so that run still borrows a second core.
//! The run held to one core (`sched_setaffinity`) is the serial baseline
//! that Amdahl's law speaks of; both speed-ups are printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use calamine::{open_workbook_auto, Reader};
use rayon::prelude::*;

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What one run of a command measured.
struct Timed {
    /// Wall time (s).
    wall: f64,
    /// Exit code (-1: killed).
    code: i32,
    /// Peak resident memory (MiB).
    peak: f64,
    /// User + system CPU time (s).
    cpu: f64,
}

/// Runs a command to completion, its stderr into `stderr`, and measures it
/// with `wait4` on that child alone.
///
/// The parent stays small (the corpus is generated and the floor measured
/// in child processes): Linux counts the memory a child inherits at fork
/// in its `ru_maxrss`, so a large parent would inflate the figure.
// The child is reaped by wait4 below, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn timed(cmd: &mut Command, stderr: Stdio) -> Timed {
    let t = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawning");
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: wait4 writes into the status and zeroed rusage we own; the
    // child is ours and not waited for elsewhere.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    let wall = t.elapsed().as_secs_f64();
    let code = if rc == pid && libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    Timed {
        wall,
        code,
        peak: ru.ru_maxrss as f64 / 1024.0,
        cpu: secs(ru.ru_utime) + secs(ru.ru_stime),
    }
}

fn floor(files: &[PathBuf]) -> (f64, usize) {
    let t = Instant::now();
    let cells: usize = files
        .par_iter()
        .map(|p| {
            let Ok(mut wb) = open_workbook_auto(p) else {
                return 0;
            };
            let names = wb.sheet_names();
            names
                .iter()
                .filter_map(|n| wb.worksheet_range(n).ok())
                .map(|r| r.used_cells().count())
                .sum::<usize>()
        })
        .sum();
    (t.elapsed().as_secs_f64(), cells)
}

/// One corpus of the suite: a name and the generator's size.
struct Corpus {
    name: &'static str,
    townships: usize,
    months: usize,
}

/// The suite of issue 5: one township's month (interactive use), one month
/// of a city (~350 files), a city-year (~4,200 files) and a province-year
/// (~30,800 files), all from the project's own generator.
const SUITE: [Corpus; 4] = [
    Corpus {
        name: "one township, one month",
        townships: 1,
        months: 1,
    },
    Corpus {
        name: "city, one month",
        townships: 150,
        months: 1,
    },
    Corpus {
        name: "city, one year",
        townships: 150,
        months: 12,
    },
    Corpus {
        name: "province, one year",
        townships: 1100,
        months: 12,
    },
];

/// What one corpus measured.
struct Measured {
    files: usize,
    xls: usize,
    cells: usize,
    /// One per thread count: 1, then every core.
    runs: Vec<AtThreads>,
    /// One thread held to one core, where there are several: the run at
    /// `RAYON_NUM_THREADS=1` still has threads of its own (the workbook
    /// writer's, each file's flush) that take a second core's time.
    one_core: Option<AtThreads>,
}

/// Medians of the runs at one thread count.
struct AtThreads {
    threads: usize,
    wall: f64,
    peak: f64,
    /// CPU time ÷ wall ÷ threads.
    cpu_use: f64,
    floor: f64,
    /// (phase, wall s, CPU % of the threads), from `PHSTATS_TIMINGS`.
    phases: Vec<(String, f64, f64)>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--floor") {
        // Child mode: read every cell of every workbook under the directory.
        let dir = PathBuf::from(&args[i + 1]);
        let mut files = Vec::new();
        walk(&dir, &mut files);
        let (secs, cells) = floor(&files);
        println!("{secs} {cells}");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join("target/release/phstats");
    if !bin.exists() {
        eprintln!("build the release binary first: cargo build --release");
        std::process::exit(2);
    }
    // `--townships N --months M` measures one corpus of that size; `--only
    // WORD` the suite's corpora whose name contains WORD; `--keep DIR`
    // keeps generated corpora there and reuses them on the next run.
    let custom = args.iter().any(|a| a == "--townships" || a == "--months");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1));
    let corpora: Vec<Corpus> = if custom {
        vec![Corpus {
            name: "custom",
            townships: arg(&args, "--townships", 100),
            months: arg(&args, "--months", 12),
        }]
    } else {
        SUITE
            .into_iter()
            .filter(|c| only.is_none_or(|w| c.name.contains(w.as_str())))
            .collect()
    };
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let keep = args
        .iter()
        .position(|a| a == "--keep")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let base = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!("| corpus | files (.xls) | figure cells | threads | wall (s) | files/s | peak RSS (MiB) | CPU use | calamine floor (s) | phstats / floor |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut results: Vec<(&Corpus, Measured)> = Vec::new();
    for c in &corpora {
        let dir = base.join(format!("t{}_m{}", c.townships, c.months));
        let m = measure(&bin, c, &dir, cores);
        let labelled = m.runs.iter().map(|r| (r, r.threads.to_string())).chain(
            m.one_core
                .iter()
                .map(|r| (r, "1, held to one core".to_string())),
        );
        for (r, threads) in labelled {
            println!(
                "| {} ({} townships × {} months × 3 forms) | {} ({}) | {} | {} | {:.2} | {:.0} | {:.0} | {:.0} % | {:.2} | {:.2} |",
                c.name,
                c.townships,
                c.months,
                m.files,
                m.xls,
                m.cells,
                threads,
                r.wall,
                m.files as f64 / r.wall,
                r.peak,
                r.cpu_use * 100.0,
                r.floor,
                r.wall / r.floor,
            );
        }
        results.push((c, m));
    }
    for (c, m) in &results {
        print_phases(c, m);
    }
    if args.iter().any(|a| a == "--store") {
        for (c, m) in &results {
            let dir = base.join(format!("t{}_m{}", c.townships, c.months));
            let wall = m.runs.last().map_or(f64::NAN, |r| r.wall);
            store_scenario(&bin, &dir, wall);
        }
    }
    let per_file = |name: &str| {
        results
            .iter()
            .find(|(c, _)| c.name == name)
            .and_then(|(_, m)| m.runs.last().map(|r| r.wall / m.files as f64))
    };
    if let (Some(city), Some(province)) =
        (per_file("city, one year"), per_file("province, one year"))
    {
        println!();
        println!(
            "time per file, province-year / city-year: {:.2} (1.00 is linear growth)",
            province / city
        );
    }
}

/// Generates the corpus (unless kept from an earlier run), then times the
/// floor and phstats on it at one thread and at every core.
fn measure(bin: &Path, c: &Corpus, corpus: &Path, cores: usize) -> Measured {
    let summary = corpus.join("summary.txt");
    if !summary.exists() {
        let mut gen = Command::new(bin);
        gen.args([
            "--lang",
            "en",
            "sample-data",
            "--townships",
            &c.townships.to_string(),
            "--months",
            &c.months.to_string(),
            "--gaps",
            "--seed",
            "42",
        ]);
        // One return in ten saved as .xls, as offices on Excel 2003 or WPS
        // still send: where LibreOffice is installed to convert them.
        let libreoffice = Command::new("soffice")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if libreoffice {
            gen.args(["--xls", "10"]);
        } else {
            eprintln!("soffice not found: the corpus has no .xls returns");
        }
        let gen = gen.arg(corpus).output().expect("generating the corpus");
        if !gen.status.success() {
            eprintln!(
                "the generator failed: {}",
                String::from_utf8_lossy(&gen.stderr)
            );
            std::process::exit(1);
        }
        std::fs::write(&summary, &gen.stdout).expect("writing the corpus summary");
    }
    let said = std::fs::read_to_string(&summary).unwrap_or_default();
    // "wrote N returns (X as .xls, Y figure cells) …"
    let number_before = |word: &str| -> usize {
        let words: Vec<&str> = said.split_whitespace().collect();
        words
            .iter()
            .position(|w| w.starts_with(word))
            .and_then(|i| words[i - 1].trim_start_matches('(').parse().ok())
            .unwrap_or(0)
    };
    let (files, cells) = (number_before("returns"), number_before("figure"));
    let xls = number_before("as");
    // This machine is shared and noisy: each figure is the median of a few
    // runs (one for the province, whose run is long enough to be steady),
    // floor and phstats alternating so both see the same conditions.
    let repeats = if files > 10_000 { 1 } else { 5 };
    let threads: Vec<usize> = if cores > 1 { vec![1, cores] } else { vec![1] };
    let runs = threads
        .into_iter()
        .map(|n| at_threads(bin, c, corpus, n, repeats, false))
        .collect();
    let one_core = (cores > 1).then(|| at_threads(bin, c, corpus, 1, repeats, true));
    Measured {
        files,
        xls,
        cells,
        runs,
        one_core,
    }
}

/// `repeats` runs of the floor and of phstats with `RAYON_NUM_THREADS=n`,
/// both held to the first core when `pinned`.
fn at_threads(
    bin: &Path,
    c: &Corpus,
    corpus: &Path,
    n: usize,
    repeats: usize,
    pinned: bool,
) -> AtThreads {
    let me = std::env::current_exe().expect("own path");
    let mut floors = Vec::new();
    let mut walls = Vec::new();
    let mut uses = Vec::new();
    let mut peak: f64 = 0.0;
    let mut phases: Vec<(String, Vec<f64>, Vec<f64>)> = Vec::new();
    let log = corpus.join("timings.txt");
    for _ in 0..repeats {
        settle_disk();
        let floor_out = held(Command::new(&me), pinned)
            .arg("--floor")
            .arg(corpus.join("returns"))
            .env("RAYON_NUM_THREADS", n.to_string())
            .output()
            .expect("floor");
        floors.push(
            String::from_utf8_lossy(&floor_out.stdout)
                .split_whitespace()
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(f64::NAN),
        );
        let err = std::fs::File::create(&log).expect("a timings file");
        settle_disk();
        let t = timed(
            held(Command::new(bin), pinned)
                .args(CONSOLIDATE)
                .env("RAYON_NUM_THREADS", n.to_string())
                .env("PHSTATS_TIMINGS", "1")
                .current_dir(corpus),
            Stdio::from(err),
        );
        if !matches!(t.code, 0 | 1) {
            eprintln!("phstats failed with exit code {} on {}", t.code, c.name);
            std::process::exit(1);
        }
        walls.push(t.wall);
        uses.push(t.cpu / t.wall / n as f64);
        peak = peak.max(t.peak);
        for (name, wall, cpu) in parse_timings(&std::fs::read_to_string(&log).unwrap_or_default()) {
            match phases.iter_mut().find(|p| p.0 == name) {
                Some(p) => {
                    p.1.push(wall);
                    p.2.push(cpu);
                }
                None => phases.push((name, vec![wall], vec![cpu])),
            }
        }
    }
    AtThreads {
        threads: n,
        wall: median(&mut walls),
        peak,
        cpu_use: median(&mut uses),
        floor: median(&mut floors),
        phases: phases
            .into_iter()
            .map(|(name, mut w, mut c)| (name, median(&mut w), median(&mut c)))
            .collect(),
    }
}

/// The run timed on every corpus, in the corpus's folder: every return
/// consolidated, all checks on, the exports written.
const CONSOLIDATE: [&str; 10] = [
    "consolidate",
    "returns",
    "--units",
    "units.csv",
    "--export",
    "out",
    "-o",
    "report.xlsx",
    "--force",
    "--quiet",
];

/// Writes every dirty page to disk before a timed run, so that a run is
/// not slowed by the flush of the files the run before it wrote (a
/// province-year writes 0.5 GB; the next run's own writes were throttled
/// behind it, which made its outputs take 50 % longer now and then).
fn settle_disk() {
    // SAFETY: sync takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

/// `cmd`, held to the first core when `pinned`.
fn held(mut cmd: Command, pinned: bool) -> Command {
    if pinned {
        use std::os::unix::process::CommandExt as _;
        // SAFETY: between fork and exec the closure only fills a CPU set
        // on its stack and makes one system call, both async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                libc::CPU_SET(0, &mut set);
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    cmd
}

/// `(phase, wall s, CPU %)` from the `timing …` lines of `PHSTATS_TIMINGS`;
/// `pipeline` (the sum of the phases inside it) is left out.
fn parse_timings(text: &str) -> Vec<(String, f64, f64)> {
    text.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.first() != Some(&"timing") || w.get(1) == Some(&"pipeline") {
                return None;
            }
            let wall = w.get(2)?.parse().ok()?;
            let cpu_at = w.iter().position(|x| *x == "cpu")?;
            let cpu = w.get(cpu_at + 1)?.trim_end_matches('%').parse().ok()?;
            Some((w[1].to_string(), wall, cpu))
        })
        .collect()
}

/// Each phase at one thread and at every core, with its speed-up; and,
/// where it was measured, at one thread held to one core, with the
/// speed-up against that truly serial run.
fn print_phases(c: &Corpus, m: &Measured) {
    let [one, all] = match m.runs.as_slice() {
        [one, all] => [one, all],
        _ => return,
    };
    let core = m.one_core.as_ref();
    println!();
    println!(
        "{}: each phase at 1 and {} threads (medians)",
        c.name, all.threads
    );
    println!();
    let mut head = format!(
        "| phase | 1 thread (s) | CPU | {n} threads (s) | CPU of {n} | speed-up |",
        n = all.threads
    );
    let mut rule = "|---|---:|---:|---:|---:|---:|".to_string();
    if core.is_some() {
        head.push_str(" 1 thread on 1 core (s) | speed-up against it |");
        rule.push_str("---:|---:|");
    }
    println!("{head}");
    println!("{rule}");
    // A phase of a few milliseconds has no meaningful speed-up.
    let speedup = |from: f64, to: f64| {
        if from < 0.005 {
            "–".to_string()
        } else {
            format!("{:.2}×", from / to)
        }
    };
    let against_core = |name: &str, wn: f64| match core {
        Some(core) => match core.phases.iter().find(|p| p.0 == name) {
            Some((_, w, _)) => format!(" {w:.3} | {} |", speedup(*w, wn)),
            None => " | |".to_string(),
        },
        None => String::new(),
    };
    for (name, w1, c1) in &one.phases {
        let Some((_, wn, cn)) = all.phases.iter().find(|p| &p.0 == name) else {
            continue;
        };
        println!(
            "| {name} | {w1:.3} | {c1:.0} % | {wn:.3} | {cn:.0} % | {} |{}",
            speedup(*w1, *wn),
            against_core(name, *wn)
        );
    }
    // A whole-run figure held to one core, and its speed-up.
    let against = |of: fn(&AtThreads) -> f64| {
        core.map_or(String::new(), |core| {
            format!(" {:.3} | {:.2}× |", of(core), of(core) / of(all))
        })
    };
    let whole = against(|r| r.wall);
    println!(
        "| whole run | {:.3} | {:.0} % | {:.3} | {:.0} % | {:.2}× |{whole}",
        one.wall,
        one.cpu_use * 100.0,
        all.wall,
        all.cpu_use * 100.0,
        one.wall / all.wall
    );
    let floor = against(|r| r.floor);
    println!(
        "| calamine floor | {:.3} | | {:.3} | | {:.2}× |{floor}",
        one.floor,
        all.floor,
        one.floor / all.floor
    );
}

/// The month-to-month workflow on a corpus (FORMS.md §7): each month
/// ingested into a new store in turn, then each quarter and the year
/// reported from it, against `consolidate`'s wall time on the same files:
/// the median timed above, and that of runs alternating with the report's.
fn store_scenario(bin: &Path, corpus: &Path, consolidate: f64) {
    let db = corpus.join("db");
    let mut months: Vec<PathBuf> = std::fs::read_dir(corpus.join("returns"))
        .map(|e| e.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    months.sort();
    println!();
    println!("| store step | wall (s) | peak RSS (MiB) |");
    println!("|---|---:|---:|");
    let mut peak: f64 = 0.0;
    // The twelve ingests into a new store, three times over: each month's
    // figure is the median of its three, as the other figures are medians
    // (one sequence's months moved by 30–50 % from run to run here).
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); months.len()];
    // No store is deleted while ingests are timed: a store before is put
    // aside and deleted at the end. Deleting one (70 MB in 2,000 files)
    // kept this host's disk busy for a minute after (online discard), and
    // every ingest's flushes waited on it: months 3–12 took 0.35–0.45 s
    // against 0.19–0.25 with the store put aside (medians of three).
    let aside = |k: usize| corpus.join(format!("db.old-{}-{k}", std::process::id()));
    for trial in 0..3 {
        if db.exists() {
            let _ = std::fs::rename(&db, aside(trial));
        }
        for (k, m) in months.iter().enumerate() {
            // As before every timed run: a month's ingest comes a month
            // after the last, and the flush of what the runs before it
            // wrote (the bench's own `consolidate` runs, the earlier
            // months) is not its work. Its own flushes (figures,
            // originals) are timed.
            let month = m.to_string_lossy();
            let (wall, rss) = store_step(
                bin,
                corpus,
                &[
                    "ingest",
                    &month,
                    "--units",
                    "units.csv",
                    "--store",
                    "db",
                    "--quiet",
                ],
            );
            peak = peak.max(rss);
            walls[k].push(wall);
        }
    }
    for (m, w) in months.iter().zip(&mut walls) {
        let name = m.file_name().and_then(|n| n.to_str()).unwrap_or("");
        println!("| ingest {name} | {:.2} | |", median(w));
    }
    let year = months
        .first()
        .and_then(|m| m.file_name())
        .and_then(|n| n.to_str())
        .and_then(|n| n.get(..4))
        .unwrap_or("2026")
        .to_string();
    // Every quarter the months touch, not only the first: a later
    // quarter's report reads the months before it too (its 累计 and the
    // summary's trend months), so the first is the cheapest of the four.
    let mut periods: Vec<String> = Vec::new();
    for m in &months {
        let quarter = m
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.get(5..7))
            .and_then(|mm| mm.parse::<u32>().ok())
            .filter(|mm| (1..=12).contains(mm))
            .map(|mm| format!("{year}Q{}", (mm - 1) / 3 + 1));
        if let Some(q) = quarter.filter(|q| !periods.contains(q)) {
            periods.push(q);
        }
    }
    periods.push(year.clone());
    // Each report beside a `consolidate` of the same files, the two
    // alternating: the ratio of their medians. On this host the speed of
    // reading the returns (the bulk of `consolidate`) drifts by a quarter
    // from one spell to the next while a report's barely moves, so against
    // the `consolidate` timed minutes before (`consolidate`, above) a
    // quarter's share moved by several points from bench to bench.
    for period in periods {
        let mut walls = Vec::new();
        let mut beside = Vec::new();
        let mut rss_max: f64 = 0.0;
        for _ in 0..3 {
            beside.push(store_step(bin, corpus, &CONSOLIDATE).0);
            let (wall, rss) = store_step(
                bin,
                corpus,
                &[
                    "report",
                    "--store",
                    "db",
                    "--period",
                    &period,
                    "-o",
                    "store.xlsx",
                    "--force",
                    "--export",
                    "store_out",
                    "--quiet",
                ],
            );
            walls.push(wall);
            rss_max = rss_max.max(rss);
        }
        let (wall, beside) = (median(&mut walls), median(&mut beside));
        println!(
            "| report --store --period {period} | {wall:.2} ({:.0} % of consolidate's {beside:.2} run beside it; {:.0} % of {consolidate:.2}, above) | {rss_max:.0} |",
            wall / beside * 100.0,
            wall / consolidate * 100.0
        );
    }
    println!("| peak of the ingests | | {peak:.0} |");
    for trial in 0..3 {
        let _ = std::fs::remove_dir_all(aside(trial));
    }
}

/// One timed step of the store scenario (`phstats ARGS` in `corpus`),
/// after the disk has written what the steps before it left: its wall
/// time and peak memory. A step that fails stops the bench.
fn store_step(bin: &Path, corpus: &Path, args: &[&str]) -> (f64, f64) {
    settle_disk();
    let Timed {
        wall, code, peak, ..
    } = timed(
        Command::new(bin).args(args).current_dir(corpus),
        Stdio::null(),
    );
    if !matches!(code, 0 | 1) {
        eprintln!("{} failed with exit code {code}", args[0]);
        std::process::exit(1);
    }
    (wall, peak)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}
