//! Terminal output: findings grouped by file, errors first, then counts per rule.

use std::collections::BTreeMap;

use crate::findings::{Finding, Severity};
use crate::pipeline::Outcome;

/// Findings printed one by one before the rest are only counted.
const MAX_PRINTED: usize = 200;

/// Prints errors and warnings grouped by file, errors first; info only counted.
pub fn print_findings(findings: &[Finding], quiet: bool) {
    if quiet {
        return;
    }
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.severity() != Severity::Info) {
        by_file
            .entry(f.file.as_deref().unwrap_or(""))
            .or_default()
            .push(f);
    }
    let mut printed = 0;
    let total: usize = by_file.values().map(Vec::len).sum();
    for (file, mut fs) in by_file {
        fs.sort_by_key(|f| f.severity());
        crate::say!(
            "== {} ==",
            if file.is_empty() {
                "(whole batch)"
            } else {
                file
            }
        );
        for f in fs {
            if printed == MAX_PRINTED {
                crate::say!(
                    "… {} more; use --export DIR for the full findings.csv",
                    total - printed
                );
                return;
            }
            crate::say!("{f}");
            printed += 1;
        }
    }
}

/// Prints what was read and the counts per rule.
pub fn print_summary(o: &Outcome) {
    let b = &o.batch;
    let in_focus = b.returns.iter().filter(|r| o.in_focus(r.month)).count();
    crate::say!(
        "read {} files, {} returns, {} figures",
        b.files.len(),
        b.returns.len(),
        b.obs.value.iter().filter(|v| v.is_some()).count()
    );
    if in_focus < b.returns.len() {
        if let Some(p) = o.focus {
            crate::say!(
                "   info {} returns of {}; {} of other months read only as history for the checks over time",
                in_focus,
                p,
                b.returns.len() - in_focus
            );
        }
    }
    if !b.outside.is_empty() {
        crate::say!(
            "   info {} returns from units outside --scope left out (first: {})",
            b.outside.len(),
            b.outside[0]
        );
    }
    let mut counts: BTreeMap<(Severity, &str), usize> = BTreeMap::new();
    for f in &o.findings {
        *counts.entry((f.severity(), f.rule.id())).or_default() += 1;
    }
    if counts.is_empty() {
        crate::say!("no findings");
    }
    for ((sev, rule), n) in counts {
        crate::say!("{:>7} {rule}: {n}", sev.id());
    }
}

/// The current time as `2026-11-23 10:24 UTC`.
#[must_use]
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (H. Hinnant), valid for the proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}
