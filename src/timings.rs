//! Where a run's time goes: with `PHSTATS_TIMINGS=1` in the environment,
//! each phase's wall time is printed to stderr as it ends, with the
//! process's resident and peak memory (Linux).

use std::time::Instant;

/// Times consecutive phases of a run.
pub struct Stopwatch {
    enabled: bool,
    start: Instant,
    last: Instant,
}

impl Stopwatch {
    /// Starts timing; silent unless `PHSTATS_TIMINGS` is set.
    #[must_use]
    pub fn start() -> Stopwatch {
        let now = Instant::now();
        Stopwatch {
            enabled: std::env::var_os("PHSTATS_TIMINGS").is_some(),
            start: now,
            last: now,
        }
    }

    /// Ends the phase `name`.
    pub fn lap(&mut self, name: &str) {
        let now = Instant::now();
        if self.enabled {
            eprintln!(
                "timing {name:<16} {:>7.3} s  (total {:.3} s)  {}",
                (now - self.last).as_secs_f64(),
                (now - self.start).as_secs_f64(),
                memory()
            );
        }
        self.last = now;
    }
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
