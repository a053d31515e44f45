//! The two exports of FORMS.md §6, with their exact headers:
//! `aggregates.csv` and `findings.csv`.

use std::path::Path;

use std::fmt::Write as _;

use super::{write_atomic_with, ReportError};
use crate::aggregate::Aggregates;
use crate::findings::Finding;
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

fn csv_err(e: csv::Error) -> ReportError {
    ReportError::Csv(e.to_string())
}

/// Streams `aggregates.csv`: one row per period, unit and field with a
/// value; counts as integers, rates in percent at full precision. Names
/// and codes are formatted once per unit, not once per row.
///
/// # Errors
/// Only a write or CSV serialisation failure.
pub fn write_aggregates_csv(
    out: &mut dyn std::io::Write,
    aggs: &Aggregates,
    registry: &Registry,
    schemas: &Schemas,
) -> Result<(), ReportError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(AGGREGATES_HEADER).map_err(csv_err)?;
    let codes: Vec<String> = registry.units.iter().map(|u| u.code.to_string()).collect();
    let periods: Vec<String> = aggs.periods.iter().map(ToString::to_string).collect();
    let mut value = String::new();
    let mut period_idx = 0;
    for a in aggs.rows() {
        while aggs.periods[period_idx] != a.period {
            period_idx += 1;
        }
        let unit = registry.unit(a.unit);
        let form = schemas.form(a.form);
        value.clear();
        let _ = write!(value, "{}", a.value);
        w.write_record([
            periods[period_idx].as_str(),
            form.id.as_str(),
            unit.level.id(),
            codes[a.unit as usize].as_str(),
            unit.name.as_str(),
            form.field(a.field).id.as_str(),
            value.as_str(),
        ])
        .map_err(csv_err)?;
    }
    w.flush()
        .map_err(ReportError::from_io(std::path::Path::new("aggregates.csv")))?;
    Ok(())
}

/// Streams `findings.csv`; the message carries the suggested fix after `help:`.
///
/// # Errors
/// Only a write or CSV serialisation failure.
pub fn write_findings_csv(
    out: &mut dyn std::io::Write,
    findings: &[Finding],
) -> Result<(), ReportError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(FINDINGS_HEADER).map_err(csv_err)?;
    for f in findings {
        let message = match &f.help {
            Some(h) => format!("{} (help: {h})", f.message),
            None => f.message.clone(),
        };
        let mut record = vec![f.severity().id().to_string()];
        record.extend(f.export_fields());
        record.push(message);
        w.write_record(&record).map_err(csv_err)?;
    }
    w.flush()
        .map_err(ReportError::from_io(std::path::Path::new("findings.csv")))?;
    Ok(())
}

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
) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    write_atomic_with(&dir.join("aggregates.csv"), |w| {
        write_aggregates_csv(w, aggs, registry, schemas)
    })?;
    write_atomic_with(&dir.join("findings.csv"), |w| {
        write_findings_csv(w, findings)
    })?;
    Ok(())
}
