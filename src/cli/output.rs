//! Terminal output: findings grouped by file, errors first, then counts per
//! rule, in the terminal's language.

use std::collections::BTreeMap;

use crate::findings::{Finding, Severity};
use crate::message::Lang;
use crate::pipeline::Outcome;

/// Findings printed one by one before the rest are only counted.
const MAX_PRINTED: usize = 200;

/// Prints errors and warnings grouped by file, errors first; info only counted.
pub fn print_findings(findings: &[Finding], quiet: bool, lang: Lang) {
    if quiet {
        return;
    }
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    // A confirmed warning was looked at already: counted, not printed.
    for f in findings.iter().filter(|f| f.is_open()) {
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
                lang.pick("（整批）", "(whole batch)").into()
            } else {
                crate::message::terminal_text(file)
            }
        );
        for f in fs {
            if printed == MAX_PRINTED {
                match lang {
                    Lang::Zh => crate::say!(
                        "…… 另有 {} 条；完整清单请用 --export DIR 导出 findings.csv",
                        total - printed
                    ),
                    Lang::En => crate::say!(
                        "… {} more; use --export DIR for the full findings.csv",
                        total - printed
                    ),
                }
                return;
            }
            crate::say!("{}", f.render(lang));
            printed += 1;
        }
    }
}

/// Prints what was read and the counts per rule.
pub fn print_summary(o: &Outcome, lang: Lang) {
    let b = &o.batch;
    let in_focus = b.returns.iter().filter(|r| o.in_focus(r.month)).count();
    let figures = o.figures;
    match lang {
        Lang::Zh => crate::say!(
            "读入 {} 个文件、{} 份报表、{} 个数字",
            b.files_read(),
            b.returns_read(),
            figures
        ),
        Lang::En => crate::say!(
            "read {} files, {} returns, {} figures",
            b.files_read(),
            b.returns_read(),
            figures
        ),
    }
    if in_focus < b.returns_read() {
        if let Some(p) = o.focus {
            let other = b.returns_read() - in_focus;
            match lang {
                Lang::Zh => crate::say!(
                    "   提示 本期（{}）报表 {in_focus} 份；其他月份的 {other} 份只作历史比较（存量骤降、异常值），不计入",
                    p.label_zh()
                ),
                Lang::En => crate::say!(
                    "   info {in_focus} returns of {p}; {other} of other months read only as history for the checks over time"
                ),
            }
        }
    }
    if let Some(o) = b.outside.first() {
        let first = crate::message::terminal_text(&format!("{}!{}", o.file, o.sheet)).into_owned();
        match lang {
            Lang::Zh => crate::say!(
                "   提示 {} 份报表来自 --scope 范围以外的单位，已略过（如 {first}）",
                b.outside.len()
            ),
            Lang::En => crate::say!(
                "   info {} returns from units outside --scope left out (first: {first})",
                b.outside.len()
            ),
        }
        // Those of a unit above the scope carry the scope's own figures.
        if let Some(said) = crate::message::left_above_scope(&b.outside, lang) {
            let said = crate::message::terminal_text(&said).into_owned();
            match lang {
                Lang::Zh => crate::say!("   警告 其中 {said}"),
                Lang::En => crate::say!("   warning {said}"),
            }
        }
    }
    let mut counts: BTreeMap<(Severity, crate::findings::Rule), usize> = BTreeMap::new();
    for f in o.findings.iter().filter(|f| f.confirmed.is_none()) {
        *counts.entry((f.severity(), f.rule)).or_default() += 1;
    }
    let confirmed = o.findings.iter().filter(|f| f.confirmed.is_some()).count();
    if confirmed > 0 {
        match lang {
            Lang::Zh => crate::say!("   已核实 {confirmed} 条（phstats confirm，不再列为待处理）"),
            Lang::En => crate::say!("   {confirmed} confirmed (phstats confirm; no longer open)"),
        }
    }
    if counts.is_empty() {
        crate::say!("{}", lang.pick("未发现问题", "no findings"));
    }
    for ((sev, rule), n) in counts {
        match lang {
            Lang::Zh => crate::say!("   {} {} [{}]：{n}", sev.zh(), rule.zh(), rule.id()),
            Lang::En => crate::say!("{:>7} {}: {n}", sev.id(), rule.id()),
        }
    }
}

/// The current time in Beijing (UTC+8), as a Chinese document dates itself:
/// `2026年11月23日 18:24`, or `2026-11-23 18:24 (UTC+8)` in English.
#[must_use]
pub fn now_beijing(lang: Lang) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
        + 8 * 3600;
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
    let (h, min) = (rem / 3600, rem % 3600 / 60);
    match lang {
        Lang::Zh => format!("{y}年{m}月{d}日 {h:02}:{min:02}"),
        Lang::En => format!("{y}-{m:02}-{d:02} {h:02}:{min:02} (UTC+8)"),
    }
}
