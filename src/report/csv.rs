//! The two exports of FORMS.md §6, with their exact headers:
//! `aggregates.csv` and `findings.csv`.

use std::path::Path;

use super::{write_atomic, ReportError};
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

fn csv_bytes(
    write: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>,
) -> Result<Vec<u8>, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    write(&mut w).map_err(|e| ReportError::Csv(e.to_string()))?;
    w.into_inner().map_err(|e| ReportError::Csv(e.to_string()))
}

/// Renders `aggregates.csv`: one row per period, unit and field with a value;
/// counts as integers, rates in percent at full precision.
///
/// # Errors
/// Only a CSV serialisation failure.
pub fn aggregates_csv(
    aggs: &Aggregates,
    registry: &Registry,
    schemas: &Schemas,
) -> Result<Vec<u8>, ReportError> {
    csv_bytes(|w| {
        w.write_record(AGGREGATES_HEADER)?;
        for a in &aggs.rows {
            let unit = registry.unit(a.unit);
            let form = schemas.form(a.form);
            w.write_record([
                a.period.to_string(),
                form.id.clone(),
                unit.level.id().to_string(),
                unit.code.to_string(),
                unit.name.clone(),
                form.field(a.field).id.clone(),
                format!("{}", a.value),
            ])?;
        }
        Ok(())
    })
}

/// Renders `findings.csv`; the message carries the suggested fix after `help:`.
///
/// # Errors
/// Only a CSV serialisation failure.
pub fn findings_csv(findings: &[Finding]) -> Result<Vec<u8>, ReportError> {
    csv_bytes(|w| {
        w.write_record(FINDINGS_HEADER)?;
        for f in findings {
            let message = match &f.help {
                Some(h) => format!("{} (help: {h})", f.message),
                None => f.message.clone(),
            };
            let mut record = vec![f.severity().id().to_string()];
            record.extend(f.export_fields());
            record.push(message);
            w.write_record(&record)?;
        }
        Ok(())
    })
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
    write_atomic(
        &dir.join("aggregates.csv"),
        &aggregates_csv(aggs, registry, schemas)?,
    )?;
    write_atomic(&dir.join("findings.csv"), &findings_csv(findings)?)?;
    Ok(())
}
