//! Opening one workbook with calamine, whatever its extension claims:
//! the format is read from the file's first bytes, and every way a file
//! can fail to open becomes a reason a statistician understands.

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Range, Reader, Xls, Xlsx};

/// A sheet's name and cells, or why the sheet could not be read.
pub type SheetRange = (String, Result<Range<Data>, String>);

/// Why a workbook could not be opened.
#[must_use]
fn describe_unknown(bytes: &[u8]) -> String {
    let head: String = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]).to_lowercase();
    if bytes.is_empty() {
        "the file is empty".into()
    } else if head.contains("<html") || head.contains("<!doctype") || head.contains("<table") {
        "the file is a web page (HTML) saved with an Excel extension; open it in Excel and save as .xlsx".into()
    } else if head.contains(',') || head.contains('\t') {
        "the file looks like CSV/text saved with an Excel extension; open it in Excel and save as .xlsx".into()
    } else {
        "the file is not an Excel workbook (neither xlsx nor xls)".into()
    }
}

/// Every sheet of the workbook at `path`, in workbook order.
///
/// # Errors
/// A reason naming what is wrong with the file (corrupt, encrypted, not Excel).
pub fn read_sheets(path: &Path) -> Result<Vec<SheetRange>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(&bytes[..])).map_err(|e| {
            format!("the xlsx file is damaged ({e}); ask the township to save it again")
        })?;
        let names = wb.sheet_names();
        Ok(names
            .into_iter()
            .map(|n| {
                let r = wb
                    .worksheet_range(&n)
                    .map_err(|e| format!("sheet cannot be read: {e}"));
                (n, r)
            })
            .collect())
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        let mut wb: Xls<_> = Xls::new(Cursor::new(&bytes[..])).map_err(|e| {
            let msg = e.to_string();
            if msg.to_lowercase().contains("password") || msg.to_lowercase().contains("encrypt") || msg.contains("EncryptionInfo")
            {
                "the workbook is password-protected (encrypted); ask the township to send it without a password".to_string()
            } else {
                format!("the file is an encrypted workbook or a damaged .xls ({msg}); ask the township to save it again as .xlsx without a password")
            }
        })?;
        let names = wb.sheet_names();
        Ok(names
            .into_iter()
            .map(|n| {
                let r = wb
                    .worksheet_range(&n)
                    .map_err(|e| format!("sheet cannot be read: {e}"));
                (n, r)
            })
            .collect())
    } else {
        Err(describe_unknown(&bytes))
    }
}
