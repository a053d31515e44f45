//! Writers: the report workbook and the CSV exports. Writers know no rules;
//! they lay out what aggregation and validation produced. Every file is
//! written to a temporary file beside its target and renamed into place, so
//! a crash never leaves a half-written report.

pub mod csv;
pub mod feedback;
pub mod xlsx;

use std::io::Write;
use std::path::Path;

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// File system error.
    #[error("cannot write {path}: {source}")]
    Io {
        /// Target path.
        path: String,
        /// OS error.
        source: std::io::Error,
    },
    /// The workbook writer failed.
    #[error("cannot build the report workbook: {0}")]
    Xlsx(String),
    /// CSV serialisation failed.
    #[error("cannot build a CSV export: {0}")]
    Csv(String),
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, flushed to disk, then renamed over the target.
///
/// # Errors
/// The directory is not writable or the rename fails.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.display().to_string(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".phstats-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
