//! Opening one workbook with calamine, whatever its extension claims:
//! the format is read from the file's first bytes, and every way a file
//! can fail to open becomes a reason a statistician understands.

use std::io::Cursor;
use std::path::Path;

use calamine::{Cell as CalCell, Data, DataRef, Range, Reader, Xls, Xlsx};

use crate::findings::CellRef;
use crate::message::Unreadable;

/// The largest used area (rows × columns) read from one sheet. A return is
/// a few dozen rows; a sheet reaching past this holds stray cells far from
/// its table, and a dense grid of it would take gigabytes.
pub const MAX_SHEET_CELLS: usize = 8_000_000;

/// One worksheet as read.
pub struct Sheet {
    /// The cells (absolute coordinates).
    pub range: Range<Data>,
    /// Formula cells saved without a value (written by a program that does
    /// not calculate), with their formula text, sorted by position.
    pub uncached: Vec<((u32, u32), String)>,
}

enum Inner {
    Xlsx(Box<Xlsx<Cursor<Vec<u8>>>>),
    Xls(Box<Xls<Cursor<Vec<u8>>>>),
}

/// An opened workbook.
pub struct Book {
    inner: Inner,
}

/// Why a file that is not an Excel workbook could not be opened.
#[must_use]
fn describe_unknown(bytes: &[u8]) -> Unreadable {
    let start = &bytes[..bytes.len().min(512)];
    let head: String = String::from_utf8_lossy(start).to_lowercase();
    // Text (UTF-8 or GBK) has no control bytes but tab and line breaks.
    let texty = !start
        .iter()
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n'));
    if bytes.is_empty() {
        Unreadable::Empty
    } else if head.contains("<html") || head.contains("<!doctype") || head.contains("<table") {
        Unreadable::Html
    } else if texty && (head.contains(',') || head.contains('\t')) {
        Unreadable::Text
    } else {
        Unreadable::NotExcel
    }
}

/// Whether an OLE compound file holds an encrypted Office document: Excel
/// stores a password-protected .xlsx as `EncryptionInfo` and
/// `EncryptedPackage` streams (their names are UTF-16 in the directory).
fn is_encrypted_package(bytes: &[u8]) -> bool {
    let needle: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    bytes.windows(needle.len()).any(|w| w == needle.as_slice())
}

/// Opens the workbook at `path`.
///
/// # Errors
/// A reason naming what is wrong with the file (corrupt, encrypted, not Excel).
pub fn open(path: &Path) -> Result<Book, Unreadable> {
    let bytes = std::fs::read(path).map_err(|e| Unreadable::from_io(&e))?;
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        let wb: Xlsx<_> =
            Xlsx::new(Cursor::new(bytes)).map_err(|e| Unreadable::DamagedXlsx(e.to_string()))?;
        Ok(Book {
            inner: Inner::Xlsx(Box::new(wb)),
        })
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        if is_encrypted_package(&bytes) {
            return Err(Unreadable::Encrypted);
        }
        let wb: Xls<_> = Xls::new(Cursor::new(bytes)).map_err(|e| {
            let msg = e.to_string();
            let low = msg.to_lowercase();
            if low.contains("password") || low.contains("encrypt") {
                Unreadable::Encrypted
            } else {
                Unreadable::DamagedXls(msg)
            }
        })?;
        Ok(Book {
            inner: Inner::Xls(Box::new(wb)),
        })
    } else {
        Err(describe_unknown(&bytes))
    }
}

impl Book {
    /// Sheet names in workbook order.
    #[must_use]
    pub fn sheet_names(&self) -> Vec<String> {
        match &self.inner {
            Inner::Xlsx(wb) => wb.sheet_names(),
            Inner::Xls(wb) => wb.sheet_names(),
        }
    }

    /// The merged regions of a sheet as ((first row, first col), (last row,
    /// last col)); none when the sheet has none or they cannot be read.
    #[must_use]
    pub fn merged(&mut self, name: &str) -> Vec<((u32, u32), (u32, u32))> {
        let dims = match &mut self.inner {
            Inner::Xlsx(wb) => wb.merge_cells_by_sheet_name(name).ok(),
            Inner::Xls(wb) => wb.merge_cells_by_sheet_name(name).ok(),
        };
        dims.unwrap_or_default()
            .into_iter()
            .map(|d| (d.start, d.end))
            .collect()
    }

    /// Reads one sheet's cells.
    ///
    /// # Errors
    /// The sheet's XML/BIFF is damaged, or its used area is implausibly large.
    pub fn read(&mut self, name: &str) -> Result<Sheet, Unreadable> {
        match &mut self.inner {
            Inner::Xlsx(wb) => read_xlsx(wb, name),
            Inner::Xls(wb) => {
                let range = wb
                    .worksheet_range(name)
                    .map_err(|e| Unreadable::SheetDamaged(e.to_string()))?;
                // calamine builds an .xls sheet whole when it opens the
                // file (at most 65,536 × 256 cells), so the guard comes after
                // reading; it still keeps such a grid out of every later step.
                if let (Some(start), Some(end)) = (range.start(), range.end()) {
                    too_large(start, end)?;
                }
                Ok(Sheet {
                    range,
                    uncached: Vec::new(),
                })
            }
        }
    }
}

/// Refuses a sheet whose used area exceeds [`MAX_SHEET_CELLS`], naming the far cell.
fn too_large(start: (u32, u32), end: (u32, u32)) -> Result<(), Unreadable> {
    let area = (end.0 - start.0 + 1) as usize * (end.1 - start.1 + 1) as usize;
    if area <= MAX_SHEET_CELLS {
        return Ok(());
    }
    Err(Unreadable::TooLarge {
        from: CellRef {
            row: start.0,
            col: start.1,
        },
        to: CellRef {
            row: end.0,
            col: end.1,
        },
        area,
    })
}

/// One pass over the sheet's XML: values, and the formulas that have none.
fn read_xlsx(wb: &mut Xlsx<Cursor<Vec<u8>>>, name: &str) -> Result<Sheet, Unreadable> {
    let damaged = |e: calamine::XlsxError| Unreadable::SheetDamaged(e.to_string());
    let mut reader = match wb.worksheet_cells_reader(name) {
        Ok(r) => r,
        // A chart sheet or dialog sheet: no cells.
        Err(calamine::XlsxError::NotAWorksheet(_)) => {
            return Ok(Sheet {
                range: Range::empty(),
                uncached: Vec::new(),
            })
        }
        Err(e) => return Err(damaged(e)),
    };
    let mut cells: Vec<CalCell<Data>> = Vec::new();
    let mut uncached = Vec::new();
    let (mut max_row, mut max_col) = (0u32, 0u32);
    let (mut min_row, mut min_col) = (u32::MAX, u32::MAX);
    while let Some(c) = reader.next_cell_with_formula().map_err(damaged)? {
        // A formula whose saved result is an empty text (`t="str"`, `<v></v>`,
        // as Excel, WPS and LibreOffice save `=IF(C8=0,"",D8/C8)`) is a
        // calculated blank: not reported. Only a formula saved with no
        // value at all (`<v/>`, as openpyxl writes it) is uncached.
        let (empty, calculated) = match &c.value {
            DataRef::Empty => (true, false),
            DataRef::String(s) => (s.is_empty(), true),
            DataRef::SharedString(s) => (s.is_empty(), true),
            _ => (false, true),
        };
        if empty {
            match c.formula.filter(|f| !f.trim().is_empty()) {
                Some(f) if !calculated => uncached.push((c.pos, f)),
                _ => continue,
            }
        } else {
            cells.push(CalCell::new(c.pos, c.value.into()));
        }
        max_row = max_row.max(c.pos.0);
        max_col = max_col.max(c.pos.1);
        min_row = min_row.min(c.pos.0);
        min_col = min_col.min(c.pos.1);
    }
    if min_row != u32::MAX {
        too_large((min_row, min_col), (max_row, max_col))?;
    }
    uncached.sort_by_key(|(p, _)| *p);
    Ok(Sheet {
        range: Range::from_sparse(cells),
        uncached,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_package_is_recognised_by_its_stream_name() {
        let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
        bytes.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
        assert!(is_encrypted_package(&bytes));
        assert!(!is_encrypted_package(b"EncryptedPackage"));
    }
}
