//! Where a run's time goes: with `PHSTATS_TIMINGS=1` in the environment,
//! each phase's wall time is printed to stderr as it ends, with the CPU it
//! used as a share of every core (user + system ÷ wall ÷ cores), the
//! process's resident and peak memory and the page faults of the phase
//! (Linux).

use std::time::Instant;

/// Times consecutive phases of a run.
pub struct Stopwatch {
    enabled: bool,
    start: Instant,
    last: Instant,
    last_cpu: f64,
    last_faults: u64,
}

impl Stopwatch {
    /// Starts timing; silent unless `PHSTATS_TIMINGS` is set.
    #[must_use]
    pub fn start() -> Stopwatch {
        let now = Instant::now();
        let enabled = std::env::var_os("PHSTATS_TIMINGS").is_some();
        let at = if enabled { stat() } else { Stat::default() };
        Stopwatch {
            enabled,
            start: now,
            last: now,
            last_cpu: at.cpu,
            last_faults: at.faults,
        }
    }

    /// Ends the phase `name`.
    pub fn lap(&mut self, name: &str) {
        let now = Instant::now();
        if self.enabled {
            let wall = (now - self.last).as_secs_f64();
            let now_stat = stat();
            let cpu = now_stat.cpu;
            let cores = rayon::current_num_threads().max(1) as f64;
            let used = if wall > 0.0 {
                (cpu - self.last_cpu) / wall / cores * 100.0
            } else {
                0.0
            };
            eprintln!(
                "timing {name:<16} {wall:>7.3} s  (total {:.3} s)  cpu {used:>3.0}% of {cores} threads  {}  faults {}",
                (now - self.start).as_secs_f64(),
                memory(),
                now_stat.faults.saturating_sub(self.last_faults)
            );
            self.last_cpu = cpu;
            self.last_faults = now_stat.faults;
        }
        self.last = now;
    }
}

/// What /proc/self/stat says of the process so far.
#[derive(Default)]
struct Stat {
    /// User + system CPU seconds.
    cpu: f64,
    /// Minor page faults: each a page touched for the first time since
    /// the system was asked for it (or since it was handed back).
    faults: u64,
}

/// The process's [`Stat`] so far, from /proc (Linux; 0 elsewhere). The
/// clock ticks are 100 a second on every Linux this runs on.
fn stat() -> Stat {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Stat::default();
    };
    // The fields after the command's closing parenthesis: minflt is the
    // 8th, utime the 12th, stime the 13th of them.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    Stat {
        cpu: (tick(11) + tick(12)) / 100.0,
        faults: f.get(7).and_then(|v| v.parse().ok()).unwrap_or(0),
    }
}

/// `rss 120 MiB, peak 300 MiB` from /proc, or nothing elsewhere.
fn memory() -> String {
    let status = proc_status().unwrap_or_default();
    match (status_kib(&status, "VmRSS:"), status_kib(&status, "VmHWM:")) {
        (Some(rss), Some(peak)) => format!("rss {} MiB, peak {} MiB", rss / 1024, peak / 1024),
        _ => String::new(),
    }
}

/// The process's resident memory in bytes (Linux), or `None` where it
/// cannot be told.
#[must_use]
pub fn resident_bytes() -> Option<u64> {
    status_kib(&proc_status()?, "VmRSS:").map(|kib| kib * 1024)
}

/// /proc/self/status, where there is one.
fn proc_status() -> Option<String> {
    std::fs::read_to_string("/proc/self/status").ok()
}

/// A `kB` line of /proc/self/status.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn resident_memory_follows_memory_touched_and_freed() {
        // Other tests allocate beside this one: it is seen either when the
        // 64 MiB are touched or when they are freed.
        let before = super::resident_bytes().expect("read on Linux");
        let touched = vec![1u8; 64 << 20];
        let during = super::resident_bytes().expect("read on Linux");
        assert_eq!(touched.iter().filter(|&&b| b == 1).count(), 64 << 20);
        drop(touched);
        let after = super::resident_bytes().expect("read on Linux");
        let seen = during
            .saturating_sub(before)
            .max(during.saturating_sub(after));
        assert!(
            seen >= 48 << 20,
            "{before} → {during} → {after} bytes with 64 MiB touched and freed"
        );
    }
}
