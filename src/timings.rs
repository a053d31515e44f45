//! Where a run's time goes: with `PHSTATS_TIMINGS=1` in the environment,
//! each phase's wall time is printed to stderr as it ends, with the CPU it
//! used as a share of every core (user + system ÷ wall ÷ cores) and the
//! process's resident and peak memory (Linux).

use std::time::Instant;

/// Times consecutive phases of a run.
pub struct Stopwatch {
    enabled: bool,
    start: Instant,
    last: Instant,
    last_cpu: f64,
}

impl Stopwatch {
    /// Starts timing; silent unless `PHSTATS_TIMINGS` is set.
    #[must_use]
    pub fn start() -> Stopwatch {
        let now = Instant::now();
        let enabled = std::env::var_os("PHSTATS_TIMINGS").is_some();
        Stopwatch {
            enabled,
            start: now,
            last: now,
            last_cpu: if enabled { cpu_seconds() } else { 0.0 },
        }
    }

    /// Ends the phase `name`.
    pub fn lap(&mut self, name: &str) {
        let now = Instant::now();
        if self.enabled {
            let wall = (now - self.last).as_secs_f64();
            let cpu = cpu_seconds();
            let cores = rayon::current_num_threads().max(1) as f64;
            let used = if wall > 0.0 {
                (cpu - self.last_cpu) / wall / cores * 100.0
            } else {
                0.0
            };
            eprintln!(
                "timing {name:<16} {wall:>7.3} s  (total {:.3} s)  cpu {used:>3.0}% of {cores} threads  {}",
                (now - self.start).as_secs_f64(),
                memory()
            );
            self.last_cpu = cpu;
        }
        self.last = now;
    }
}

/// The process's user + system CPU seconds so far, from /proc (Linux; 0
/// elsewhere). The clock ticks are 100 a second on every Linux this runs on.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The fields after the command's closing parenthesis: utime is the
    // 12th, stime the 13th of them.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// `rss 120 MiB, peak 300 MiB` from /proc, or nothing elsewhere.
fn memory() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    format!(
        "rss {} MiB, peak {} MiB",
        kib("VmRSS:") / 1024,
        kib("VmHWM:") / 1024
    )
}
