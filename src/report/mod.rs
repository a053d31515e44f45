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
    #[error("cannot write {path}: {reason}")]
    Io {
        /// Target path.
        path: String,
        /// What the system said, once.
        reason: String,
    },
    /// The workbook writer failed.
    #[error("cannot build the report workbook: {0}")]
    Xlsx(String),
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, flushed to disk, then renamed over the target.
///
/// # Errors
/// The directory is not writable or the rename fails.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Streams an output into `path` atomically: `write` fills a buffered
/// temporary file beside the target, which is flushed to disk and renamed
/// into place only when `write` succeeds. A large export is never held in
/// memory whole, and a failure or crash leaves the previous file intact.
///
/// # Errors
/// The directory is not writable, `write` fails, or the rename fails; the
/// error names `path`.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), ReportError> {
    let io = ReportError::from_io(path);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    clean_stale_temps(dir);
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    {
        // Reports are shared documents, not secrets: rw-r--r--, like any
        // file the user saves (tempfile's default is owner-only).
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let tmp = builder.tempfile_in(dir).map_err(&io)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, tmp);
    write(&mut w).map_err(&io)?;
    let tmp = w.into_inner().map_err(|e| io(e.into_error()))?;
    tmp.as_file().sync_all().map_err(&io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Temporary files are `.phstats-<pid>-<random>.tmp`: the pid tells a
/// file left by a crashed run from one another run is writing right now.
const TEMP_PREFIX: &str = ".phstats-";
const TEMP_SUFFIX: &str = ".tmp";

/// Removes, once per directory and run, the temporary files a crashed run
/// left in `dir`: those whose process is gone, or, where that cannot be
/// told, that are over an hour old.
fn clean_stale_temps(dir: &Path) {
    static CLEANED: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());
    let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    {
        let Ok(mut cleaned) = CLEANED.lock() else {
            return;
        };
        if cleaned.contains(&key) {
            return;
        }
        cleaned.push(key);
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name
            .strip_prefix(TEMP_PREFIX)
            .and_then(|r| r.strip_suffix(TEMP_SUFFIX))
        else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let stale = match pid {
            Some(pid) if Path::new("/proc/self").exists() => {
                pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
            }
            _ => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(3600)),
        };
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

impl ReportError {
    /// A file-system error on `path`.
    pub fn from_io(path: &Path) -> impl Fn(std::io::Error) -> ReportError + '_ {
        move |e| ReportError::Io {
            path: path.display().to_string(),
            reason: match e.kind() {
                std::io::ErrorKind::NotFound => "its folder does not exist".into(),
                std::io::ErrorKind::PermissionDenied => {
                    "permission denied (is the folder read-only, or the file open in Excel?)".into()
                }
                _ => e.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_previous_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aggregates.csv");
        write_atomic(&path, b"previous report").unwrap();
        let failed = write_atomic_with(&path, |w| {
            w.write_all(&[b'x'; 3 << 20]).unwrap();
            Err(std::io::Error::other("interrupted"))
        });
        assert!(failed.is_err());
        // What a crashed run left behind goes with the next run's first write
        // there; what a live process is writing stays.
        let later = tempfile::tempdir().unwrap();
        let crashed = later.path().join(".phstats-999999999-abc.tmp");
        let live = later
            .path()
            .join(format!(".phstats-{}-live.tmp", std::process::id()));
        std::fs::write(&crashed, b"half a report").unwrap();
        std::fs::write(&live, b"being written").unwrap();
        write_atomic(&later.path().join("report.xlsx"), b"x").unwrap();
        assert!(!crashed.exists(), "a crashed run's temporary is removed");
        assert!(live.exists(), "a running process's temporary stays");
        assert_eq!(std::fs::read(&path).unwrap(), b"previous report");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "the temporary file is removed");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }
}
