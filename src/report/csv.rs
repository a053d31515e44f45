//! The two exports of FORMS.md §6, with their exact headers:
//! `aggregates.csv` and `findings.csv`.

use std::path::Path;

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
/// once (per period, per unit, per field) and each row is one write.
///
/// # Errors
/// Only a write failure.
pub fn write_aggregates_csv(
    out: &mut dyn std::io::Write,
    aggs: &Aggregates,
    registry: &Registry,
    schemas: &Schemas,
) -> std::io::Result<()> {
    use std::io::Write as _;
    let header = AGGREGATES_HEADER.join(",") + "\n";
    out.write_all(header.as_bytes())?;
    let periods: Vec<String> = aggs
        .periods
        .iter()
        .map(|p| csv_field(&p.to_string()))
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
    let mut line: Vec<u8> = Vec::with_capacity(256);
    let mut period_idx = 0;
    for a in aggs.rows() {
        if aggs.comparison.contains(&a.period) {
            continue;
        }
        while aggs.periods[period_idx] != a.period {
            period_idx += 1;
        }
        let (form_id, field_ids) = &forms[a.form as usize];
        line.clear();
        let _ = write!(
            line,
            "{},{},{},{},",
            periods[period_idx], form_id, units[a.unit as usize], field_ids[a.field as usize]
        );
        if a.value.fract() == 0.0 && a.value.abs() < 1e15 {
            let _ = writeln!(line, "{}", a.value as i64);
        } else {
            let _ = writeln!(line, "{}", a.value);
        }
        out.write_all(&line)?;
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
