//! The benchmark: generates a realistic corpus with the project's own
//! generator, then times the release binary's `consolidate --export` on it
//! (all checks on) and, for scale, the floor under it: opening every
//! workbook and reading every cell with calamine and rayon, nothing else.
//!
//! ```sh
//! cargo build --release && cargo run --release --example bench -- --townships 100 --months 12
//! ```
//!
//! Prints one table row per corpus: files, figure cells, wall time,
//! files/s, cells/s, peak resident memory of the phstats process, the
//! floor's wall time and phstats' throughput as a fraction of the floor.

use std::path::{Path, PathBuf};
use std::process::Command;
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

/// Peak resident set size of the largest child waited for, in MiB.
fn children_peak_mib() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we own.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    if rc == 0 {
        ru.ru_maxrss as f64 / 1024.0
    } else {
        f64::NAN
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let townships = arg(&args, "--townships", 100);
    let months = arg(&args, "--months", 12) as u32;
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/phstats");
    if !bin.exists() {
        eprintln!("build the release binary first: cargo build --release");
        std::process::exit(2);
    }
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let corpus = tmp.path().join("corpus");
    let opts = phstats::sample::Options {
        townships,
        months,
        year: 2026,
        seed: 42,
        gaps: true,
    };
    let summary = phstats::sample::generate(&corpus, &opts).expect("generating the corpus");
    let n = summary.files.len();
    let (floor_s, floor_cells) = floor(&summary.files);
    let t = Instant::now();
    let out = Command::new(&bin)
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
        .current_dir(&corpus)
        .output()
        .expect("running phstats");
    let wall = t.elapsed().as_secs_f64();
    let peak = children_peak_mib();
    if !matches!(out.status.code(), Some(0 | 1)) {
        eprintln!("phstats failed: {}", String::from_utf8_lossy(&out.stderr));
        std::process::exit(1);
    }
    println!("| corpus | files | figure cells | wall (s) | files/s | cells/s | peak RSS (MiB) | calamine floor (s) | phstats / floor |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {townships} townships × {months} months × 3 forms | {n} | {} | {wall:.2} | {:.0} | {:.0} | {peak:.0} | {floor_s:.2} | {:.2} |",
        summary.cells,
        n as f64 / wall,
        summary.cells as f64 / wall,
        floor_s / wall,
    );
    eprintln!(
        "(floor read {floor_cells} used cells; machine: {} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}
