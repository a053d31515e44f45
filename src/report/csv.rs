//! The two exports of FORMS.md §6, with their exact headers:
//! `aggregates.csv` and `findings.csv`.

use std::path::Path;

use rayon::prelude::*;

use super::{write_atomic_with, ReportError};
use crate::aggregate::Aggregates;
use crate::findings::Finding;
use crate::message::Lang;
use crate::registry::Registry;
use crate::schema::Schemas;

/// Header of `aggregates.csv`.
pub const AGGREGATES_HEADER: [&str; 7] = [
    "period",
    "form",
    "level",
    "unit_code",
    "unit_name",
    "field",
    "value",
];
/// Header of `findings.csv`.
pub const FINDINGS_HEADER: [&str; 11] = [
    "severity",
    "rule",
    "form",
    "period",
    "unit_code",
    "file",
    "sheet",
    "cell",
    "field",
    "value",
    "message",
];

/// One CSV field as RFC 4180 writes it: quoted (quotes doubled) only when
/// it holds a comma, quote or line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Streams `aggregates.csv`: one row per period, unit and field with a
/// value; counts as integers, rates in percent at full precision. A city-
/// year has over a million rows, so everything but the value is escaped
/// once (per period, per unit, per field), and the rows are formatted in
/// chunks on every core and written in order, a few chunks per core at a
/// time so the file is never held whole.
///
/// # Errors
/// Only a write failure.
pub fn write_aggregates_csv(
    out: &mut dyn std::io::Write,
    aggs: &Aggregates,
    registry: &Registry,
    schemas: &Schemas,
) -> std::io::Result<()> {
    let header = AGGREGATES_HEADER.join(",") + "\n";
    out.write_all(header.as_bytes())?;
    // The period's label, or `None` for a period only compared with.
    let periods: Vec<Option<String>> = aggs
        .periods
        .iter()
        .map(|p| (!aggs.comparison.contains(p)).then(|| csv_field(&p.to_string())))
        .collect();
    // "level,unit_code,unit_name" per unit.
    let units: Vec<String> = registry
        .units
        .iter()
        .map(|u| {
            format!(
                "{},{},{}",
                csv_field(u.level.id()),
                csv_field(&u.code.to_string()),
                csv_field(&u.name)
            )
        })
        .collect();
    let forms: Vec<(String, Vec<String>)> = schemas
        .forms
        .iter()
        .map(|f| {
            (
                csv_field(&f.id),
                f.fields.iter().map(|x| csv_field(&x.id)).collect(),
            )
        })
        .collect();
    let period_idx: std::collections::HashMap<_, usize> = aggs
        .periods
        .iter()
        .enumerate()
        .map(|(i, p)| (*p, i))
        .collect();
    let chunk = |range: std::ops::Range<usize>| -> Vec<u8> {
        use std::io::Write as _;
        let mut buf: Vec<u8> = Vec::with_capacity(range.len() * 64);
        for a in aggs.rows_in(range) {
            let Some(period) = &periods[period_idx[&a.period]] else {
                continue;
            };
            let (form_id, field_ids) = &forms[a.form as usize];
            let _ = write!(
                buf,
                "{period},{form_id},{},{},",
                units[a.unit as usize], field_ids[a.field as usize]
            );
            if a.value.fract() == 0.0 && a.value.abs() < 1e15 {
                let _ = writeln!(buf, "{}", a.value as i64);
            } else {
                let _ = writeln!(buf, "{}", a.value);
            }
        }
        buf
    };
    const ROWS: usize = 16_384;
    let starts: Vec<usize> = (0..aggs.len()).step_by(ROWS).collect();
    let at_once = rayon::current_num_threads() * 4;
    for group in starts.chunks(at_once) {
        let parts: Vec<Vec<u8>> = group
            .par_iter()
            .map(|&s| chunk(s..(s + ROWS).min(aggs.len())))
            .collect();
        for part in parts {
            out.write_all(&part)?;
        }
    }
    out.flush()
}

/// Streams `findings.csv`: ids as FORMS.md §6 fixes them, the message (with
/// its fix) in `lang`.
///
/// # Errors
/// Only a write failure.
pub fn write_findings_csv(
    out: &mut dyn std::io::Write,
    findings: &[Finding],
    lang: Lang,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(FINDINGS_HEADER)?;
    for f in findings {
        let message = f.message_with_help(lang);
        let mut record = vec![f.severity().id().to_string()];
        record.extend(f.export_fields());
        record.push(message);
        w.write_record(&record)?;
    }
    w.flush()
}

/// The UTF-8 byte-order mark every CSV export starts with (FORMS.md §6).
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes both exports into `dir` (created if needed), each atomically.
///
/// # Errors
/// The directory or a file cannot be written.
pub fn write_exports(
    dir: &Path,
    aggs: &Aggregates,
    findings: &[Finding],
    registry: &Registry,
    schemas: &Schemas,
    lang: Lang,
) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(ReportError::from_io(dir))?;
    // A UTF-8 byte-order mark first: Excel on Chinese Windows then opens the
    // file as UTF-8 on a double-click instead of showing mojibake.
    write_atomic_with(&dir.join("aggregates.csv"), |w| {
        w.write_all(UTF8_BOM)?;
        write_aggregates_csv(w, aggs, registry, schemas)
    })?;
    write_atomic_with(&dir.join("findings.csv"), |w| {
        w.write_all(UTF8_BOM)?;
        write_findings_csv(w, findings, lang)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("城东街道"), "城东街道");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
