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
    let townships = arg(&args, "--townships", 100);
    let months = arg(&args, "--months", 12);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = root.join("target/release/phstats");
    if !bin.exists() {
        eprintln!("build the release binary first: cargo build --release");
        std::process::exit(2);
    }
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let corpus = tmp.path().join("corpus");
    let gen = Command::new(&bin)
        .args([
            "sample-data",
            "--townships",
            &townships.to_string(),
            "--months",
            &months.to_string(),
            "--gaps",
            "--seed",
            "42",
        ])
        .arg(&corpus)
        .output()
        .expect("generating the corpus");
    let said = String::from_utf8_lossy(&gen.stdout);
    // "wrote N returns (… X figure cells) …"
    let number_before = |word: &str| -> usize {
        let words: Vec<&str> = said.split_whitespace().collect();
        words
            .iter()
            .position(|w| w.starts_with(word))
            .and_then(|i| words[i - 1].trim_start_matches('(').parse().ok())
            .unwrap_or(0)
    };
    let (n, cells) = (number_before("returns"), number_before("figure"));
    let me = std::env::current_exe().expect("own path");
    let floor_out = Command::new(me)
        .arg("--floor")
        .arg(corpus.join("returns"))
        .output()
        .expect("floor");
    let floor_s: f64 = String::from_utf8_lossy(&floor_out.stdout)
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    let (wall, code, peak) = timed(
        Command::new(&bin)
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
            .current_dir(&corpus),
    );
    if !matches!(code, 0 | 1) {
        eprintln!("phstats failed with exit code {code}");
        std::process::exit(1);
    }
    println!("| corpus | files | figure cells | wall (s) | files/s | cells/s | peak RSS (MiB) | calamine floor (s) | phstats / floor |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {townships} townships × {months} months × 3 forms | {n} | {cells} | {wall:.2} | {:.0} | {:.0} | {peak:.0} | {floor_s:.2} | {:.2} |",
        n as f64 / wall,
        cells as f64 / wall,
        floor_s / wall,
    );
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
