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
//! (medians of five runs; one for the province-year);
//! then how time per file grows from a city-year to a province-year.

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

/// Runs a command to completion and returns its wall time, exit code and
/// peak resident memory in MiB, from `wait4` on that child alone.
///
/// The parent stays small (the corpus is generated and the floor measured
/// in child processes): Linux counts the memory a child inherits at fork
/// in its `ru_maxrss`, so a large parent would inflate the figure.
// The child is reaped by wait4 below, which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn timed(cmd: &mut Command) -> (f64, i32, f64) {
    let t = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
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
    (wall, code, ru.ru_maxrss as f64 / 1024.0)
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
    cells: usize,
    wall: f64,
    peak: f64,
    floor: f64,
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
    println!("| corpus | files | figure cells | wall (s) | files/s | cells/s | peak RSS (MiB) | calamine floor (s) | floor / phstats |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut results: Vec<(&Corpus, Measured)> = Vec::new();
    for c in &corpora {
        let dir = base.join(format!("t{}_m{}", c.townships, c.months));
        let m = measure(&bin, c, &dir);
        println!(
            "| {} ({} townships × {} months × 3 forms) | {} | {} | {:.2} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} |",
            c.name,
            c.townships,
            c.months,
            m.files,
            m.cells,
            m.wall,
            m.files as f64 / m.wall,
            m.cells as f64 / m.wall,
            m.peak,
            m.floor,
            m.floor / m.wall,
        );
        if args.iter().any(|a| a == "--store") {
            store_scenario(&bin, &dir, m.wall);
        }
        results.push((c, m));
    }
    let per_file = |name: &str| {
        results
            .iter()
            .find(|(c, _)| c.name == name)
            .map(|(_, m)| m.wall / m.files as f64)
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
/// floor and phstats on it.
fn measure(bin: &Path, c: &Corpus, corpus: &Path) -> Measured {
    let summary = corpus.join("summary.txt");
    if !summary.exists() {
        let gen = Command::new(bin)
            .args([
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
            ])
            .arg(corpus)
            .output()
            .expect("generating the corpus");
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
    // "wrote N returns (… X figure cells) …"
    let number_before = |word: &str| -> usize {
        let words: Vec<&str> = said.split_whitespace().collect();
        words
            .iter()
            .position(|w| w.starts_with(word))
            .and_then(|i| words[i - 1].trim_start_matches('(').parse().ok())
            .unwrap_or(0)
    };
    let (files, cells) = (number_before("returns"), number_before("figure"));
    // This machine is shared and noisy: each figure is the median of a few
    // runs (one for the province, whose run is long enough to be steady),
    // floor and phstats alternating so both see the same conditions.
    let repeats = if files > 10_000 { 1 } else { 5 };
    let me = std::env::current_exe().expect("own path");
    let mut floors = Vec::new();
    let mut walls = Vec::new();
    let mut peak: f64 = 0.0;
    for _ in 0..repeats {
        let floor_out = Command::new(&me)
            .arg("--floor")
            .arg(corpus.join("returns"))
            .output()
            .expect("floor");
        floors.push(
            String::from_utf8_lossy(&floor_out.stdout)
                .split_whitespace()
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(f64::NAN),
        );
        let (wall, code, rss) = timed(
            Command::new(bin)
                .args([
                    "consolidate",
                    "returns",
                    "--units",
                    "units.csv",
                    "--export",
                    "out",
                    "-o",
                    "report.xlsx",
                    "--quiet",
                ])
                .current_dir(corpus),
        );
        if !matches!(code, 0 | 1) {
            eprintln!("phstats failed with exit code {code} on {}", c.name);
            std::process::exit(1);
        }
        walls.push(wall);
        peak = peak.max(rss);
    }
    let (wall, floor) = (median(&mut walls), median(&mut floors));
    Measured {
        files,
        cells,
        wall,
        peak,
        floor,
    }
}

/// The month-to-month workflow on a corpus (FORMS.md §7): each month
/// ingested into a new store in turn, then a quarter and the year reported
/// from it, against `consolidate`'s wall time on the same files.
fn store_scenario(bin: &Path, corpus: &Path, consolidate: f64) {
    let db = corpus.join("db");
    let _ = std::fs::remove_dir_all(&db);
    let mut months: Vec<PathBuf> = std::fs::read_dir(corpus.join("returns"))
        .map(|e| e.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    months.sort();
    println!();
    println!("| store step | wall (s) | peak RSS (MiB) |");
    println!("|---|---:|---:|");
    let mut peak: f64 = 0.0;
    for m in &months {
        let (wall, code, rss) = timed(
            Command::new(bin)
                .arg("ingest")
                .arg(m)
                .args(["--units", "units.csv", "--store", "db", "--quiet"])
                .current_dir(corpus),
        );
        if !matches!(code, 0 | 1) {
            eprintln!("ingest failed with exit code {code}");
            std::process::exit(1);
        }
        peak = peak.max(rss);
        let name = m.file_name().and_then(|n| n.to_str()).unwrap_or("");
        println!("| ingest {name} | {wall:.2} | {rss:.0} |");
    }
    let year = months
        .first()
        .and_then(|m| m.file_name())
        .and_then(|n| n.to_str())
        .and_then(|n| n.get(..4))
        .unwrap_or("2026")
        .to_string();
    for period in [format!("{year}Q1"), year.clone()] {
        let mut walls = Vec::new();
        let mut rss_max: f64 = 0.0;
        for _ in 0..3 {
            let (wall, code, rss) = timed(
                Command::new(bin)
                    .args([
                        "report",
                        "--store",
                        "db",
                        "--period",
                        &period,
                        "-o",
                        "store.xlsx",
                        "--export",
                        "store_out",
                        "--quiet",
                    ])
                    .current_dir(corpus),
            );
            if !matches!(code, 0 | 1) {
                eprintln!("report --store failed with exit code {code}");
                std::process::exit(1);
            }
            walls.push(wall);
            rss_max = rss_max.max(rss);
        }
        let wall = median(&mut walls);
        println!(
            "| report --store --period {period} | {wall:.2} ({:.0} % of consolidate's {consolidate:.2}) | {rss_max:.0} |",
            wall / consolidate * 100.0
        );
    }
    println!("| peak of the ingests | | {peak:.0} |");
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
