//! Opening one workbook with calamine, whatever its extension claims:
//! the format is read from the file's first bytes, and every way a file
//! can fail to open becomes a reason a statistician understands.
//!
//! The reader is bounded: what one file may cost is set by the limits
//! below, never by what the file claims. They are checked before calamine
//! is handed anything (the file's size, and each part of an .xlsx package
//! as its central directory declares it; the zip reader refuses to inflate
//! a part past its declared size, so the declaration is a bound; of an
//! .xls, what calamine would build as it opens it, `ingest::biff`), and
//! while the sheet's XML streams (cells, rows × columns, characters in a
//! cell), never after it has all been collected. A workbook past a limit
//! is one `unreadable_file` finding saying which limit and by how much; the
//! batch goes on. Each limit stays far above real returns: a township's
//! return is under 300 rows and 100 columns, its package well under 1 MB.
//!
//! calamine is the only code here that may panic on a file's bytes; each
//! call into it is guarded ([`guarded`]), and a panic there is the file's
//! `unreadable_file`. A panic anywhere else is phstats' own bug and is
//! never caught here.

use std::io::{Cursor, Read as _};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use calamine::{Cell as CalCell, Data, DataRef, DataType as _, Range, Reader, Xls, Xlsx};

use crate::findings::CellRef;
use crate::message::{Limit, SpreadsheetKind, Unreadable};

/// The largest file read at all, in bytes. A return is tens of kilobytes;
/// a county's workbook of thirty townships a few megabytes.
pub const MAX_FILE_BYTES: u64 = 32 << 20;

/// The largest part of an .xlsx package (a sheet's XML, the workbook, the
/// styles), uncompressed, in bytes. A 300 × 100 return's sheet XML is
/// about 1 MB.
pub const MAX_PART_BYTES: u64 = 32 << 20;

/// The largest `sharedStrings.xml`, uncompressed, in bytes. calamine holds
/// every shared string in memory as soon as the workbook opens, so this
/// bounds both their number (an empty `<si/>` is six bytes: at most 1.4
/// million) and their total size. A return's labels and names are a few
/// hundred strings, tens of kilobytes.
pub const MAX_SHARED_STRINGS_BYTES: u64 = 8 << 20;

/// The largest package, all parts uncompressed, in bytes.
pub const MAX_PACKAGE_BYTES: u64 = 96 << 20;

/// The most parts in one .xlsx package. Excel writes a dozen or two.
pub const MAX_PARTS: usize = 10_000;

/// The most a part over [`RATIO_FLOOR_BYTES`] may inflate, uncompressed
/// size over compressed size. Sheet XML compresses 5–20×; a zip bomb
/// repeats one cell or one letter and inflates a thousandfold.
pub const MAX_COMPRESSION_RATIO: u64 = 200;

/// Parts smaller than this, uncompressed, are never judged by their ratio:
/// a small empty sheet may inflate a hundredfold harmlessly.
pub const RATIO_FLOOR_BYTES: u64 = 1 << 20;

/// The most cells holding a value (or a formula) read from one sheet. A
/// return has at most 30,000.
pub const MAX_SHEET_CELLS: usize = 250_000;

/// The largest used area (rows × columns) read from one sheet, which the
/// rest of ingest holds as a grid (32 bytes a cell: 128 MB at the limit).
/// A return is a few dozen rows; a sheet reaching past this holds stray
/// cells far from its table.
pub const MAX_SHEET_AREA: usize = 4_000_000;

/// The most characters in one cell: Excel's own limit, so a longer text
/// was not written by a spreadsheet application.
pub const MAX_CELL_CHARS: usize = 32_767;

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

/// Runs one call into calamine: a panic inside it is the file's fault (the
/// reader failed on its bytes) and becomes [`Unreadable::ReaderPanic`];
/// the panic hook keeps it off the terminal ([`crate::fault`]).
fn guarded<T>(call: impl FnOnce() -> Result<T, Unreadable>) -> Result<T, Unreadable> {
    let result = crate::fault::in_reader(|| catch_unwind(AssertUnwindSafe(call)));
    match result {
        Ok(r) => r,
        Err(_) => Err(Unreadable::ReaderPanic(crate::fault::last_reader_panic())),
    }
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

/// A limit passed: which, where, what was found and the most allowed.
fn over(limit: Limit, part: Option<&str>, found: u64, max: u64) -> Unreadable {
    Unreadable::OverLimit {
        limit,
        part: part.map(str::to_string),
        found,
        max,
    }
}

/// Reads the file, refusing one larger than [`MAX_FILE_BYTES`] before a
/// byte of it is held (and reading no more than that if it grows meanwhile).
fn read_bounded(path: &Path) -> Result<Vec<u8>, Unreadable> {
    let file = std::fs::File::open(path).map_err(|e| Unreadable::from_io(&e))?;
    let len = file.metadata().map_err(|e| Unreadable::from_io(&e))?.len();
    if len > MAX_FILE_BYTES {
        return Err(over(Limit::FileBytes, None, len, MAX_FILE_BYTES));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Unreadable::from_io(&e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(over(
            Limit::FileBytes,
            None,
            bytes.len() as u64,
            MAX_FILE_BYTES,
        ));
    }
    Ok(bytes)
}

/// Checks every part of an .xlsx package against the limits, from its
/// central directory (nothing is inflated but the first 4 KB of the shared
/// strings, for the count calamine reserves room for,
/// [`MAX_SHARED_STRINGS`]). A package the zip reader
/// cannot list is left to calamine, which says how it is damaged. An Excel
/// binary workbook (its workbook part `xl/workbook.bin`) is named as one.
fn check_package(bytes: &[u8]) -> Result<(), Unreadable> {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    if zip.index_for_name("xl/workbook.bin").is_some() {
        return Err(Unreadable::OtherSpreadsheet(SpreadsheetKind::Xlsb));
    }
    if zip.len() > MAX_PARTS {
        return Err(over(Limit::Parts, None, zip.len() as u64, MAX_PARTS as u64));
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let Ok(part) = zip.by_index_raw(i) else {
            continue;
        };
        let name = part.name().map(|n| n.into_owned()).unwrap_or_default();
        let (name, size, packed) = (name.as_str(), part.size(), part.compressed_size());
        drop(part);
        let max = if name.to_ascii_lowercase().ends_with("sharedstrings.xml") {
            (Limit::SharedStringsBytes, MAX_SHARED_STRINGS_BYTES)
        } else {
            (Limit::PartBytes, MAX_PART_BYTES)
        };
        if size > max.1 {
            return Err(over(max.0, Some(name), size, max.1));
        }
        if max.0 == Limit::SharedStringsBytes {
            shared_strings_count(&mut zip, i)?;
        }
        if size > RATIO_FLOOR_BYTES && size / packed.max(1) > MAX_COMPRESSION_RATIO {
            return Err(over(
                Limit::CompressionRatio,
                Some(name),
                size / packed.max(1),
                MAX_COMPRESSION_RATIO,
            ));
        }
        total = total.saturating_add(size);
    }
    if total > MAX_PACKAGE_BYTES {
        return Err(over(Limit::PackageBytes, None, total, MAX_PACKAGE_BYTES));
    }
    Ok(())
}

/// The most strings a shared-strings part may say it holds
/// (`<sst uniqueCount>`): calamine reserves room for that many as it
/// opens the workbook, whatever the part holds, and `uniqueCount=
/// "999999999999"` asked for 24 TB (an address-space limit, or Windows,
/// which does not promise memory it has not got, aborts the process).
/// The largest part read ([`MAX_SHARED_STRINGS_BYTES`]) holds at most 1.7
/// million; a writer that counts every use of a string instead stays far
/// below this too.
pub const MAX_SHARED_STRINGS: u64 = 16_000_000;

/// Refuses a shared-strings part (`index` in `zip`) whose `<sst>` says it
/// holds more than [`MAX_SHARED_STRINGS`] strings; only its opening is
/// inflated. One that cannot be read is left to calamine.
fn shared_strings_count(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    index: usize,
) -> Result<(), Unreadable> {
    let Ok(part) = zip.by_index(index) else {
        return Ok(());
    };
    let mut head = Vec::new();
    if part.take(4096).read_to_end(&mut head).is_err() {
        return Ok(());
    }
    let head = String::from_utf8_lossy(&head);
    // The first element named `sst` (with or without a prefix), and its
    // uniqueCount as calamine reads it: digits, else nothing reserved.
    let Some(tag) = head
        .split('<')
        .map(|t| t.split('>').next().unwrap_or(""))
        .find(|t| {
            let name = t
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .unwrap_or("");
            name.rsplit(':').next() == Some("sst")
        })
    else {
        return Ok(());
    };
    let Some(value) = tag
        .split("uniqueCount=")
        .nth(1)
        .and_then(|v| v.get(1..))
        .map(|v| v.split(['"', '\'']).next().unwrap_or(""))
    else {
        return Ok(());
    };
    match value.parse::<u64>() {
        Ok(n) if n > MAX_SHARED_STRINGS => Err(Unreadable::DamagedXlsx(format!(
            "its shared strings say they are {n}, more than any workbook holds"
        ))),
        _ => Ok(()),
    }
}

/// Opens the workbook at `path`.
///
/// # Errors
/// A reason naming what is wrong with the file (corrupt, encrypted, not
/// Excel, past a limit).
pub fn open(path: &Path) -> Result<Book, Unreadable> {
    let bytes = read_bounded(path)?;
    let et = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("et"));
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        // An OpenDocument package names its type first, uncompressed (an
        // Excel binary one is named by `check_package`).
        if bytes.get(30..38).is_some_and(|name| name == b"mimetype")
            && bytes
                .get(38..)
                .is_some_and(|rest| rest.starts_with(b"application/vnd.oasis.opendocument"))
        {
            return Err(Unreadable::OtherSpreadsheet(SpreadsheetKind::Ods));
        }
        check_package(&bytes)?;
        let wb: Xlsx<_> = guarded(|| {
            Xlsx::new(Cursor::new(bytes)).map_err(|e| Unreadable::DamagedXlsx(e.to_string()))
        })?;
        Ok(Book {
            inner: Inner::Xlsx(Box::new(wb)),
        })
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        if is_encrypted_package(&bytes) {
            return Err(Unreadable::Encrypted);
        }
        // calamine builds every sheet as it opens the file, as large as
        // the file says: what the format rules out is refused first.
        super::biff::check(&bytes)?;
        let wb: Xls<_> = guarded(|| {
            Xls::new(Cursor::new(bytes)).map_err(|e| {
                let msg = e.to_string();
                let low = msg.to_lowercase();
                if low.contains("password") || low.contains("encrypt") {
                    Unreadable::Encrypted
                } else if et {
                    Unreadable::OtherSpreadsheet(SpreadsheetKind::Et)
                } else {
                    Unreadable::DamagedXls(msg)
                }
            })
        })?;
        Ok(Book {
            inner: Inner::Xls(Box::new(wb)),
        })
    } else if et && !bytes.is_empty() {
        Err(Unreadable::OtherSpreadsheet(SpreadsheetKind::Et))
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

    /// Whether each sheet, in workbook order, is hidden (hidden or "very
    /// hidden": a sheet the person who sent the workbook does not see).
    #[must_use]
    pub fn hidden(&self) -> Vec<bool> {
        let meta = match &self.inner {
            Inner::Xlsx(wb) => wb.sheets_metadata(),
            Inner::Xls(wb) => wb.sheets_metadata(),
        };
        meta.iter()
            .map(|s| s.visible != calamine::SheetVisible::Visible)
            .collect()
    }

    /// The merged regions of a sheet as ((first row, first col), (last row,
    /// last col)); none when the sheet has none or they cannot be read.
    #[must_use]
    pub fn merged(&mut self, name: &str) -> Vec<((u32, u32), (u32, u32))> {
        let dims = guarded(|| {
            Ok(match &mut self.inner {
                Inner::Xlsx(wb) => wb.merge_cells_by_sheet_name(name).ok(),
                Inner::Xls(wb) => wb.merge_cells_by_sheet_name(name).ok(),
            })
        });
        dims.ok()
            .flatten()
            .unwrap_or_default()
            .into_iter()
            .map(|d| (d.start, d.end))
            .collect()
    }

    /// Reads one sheet's cells.
    ///
    /// # Errors
    /// The sheet's XML/BIFF is damaged, or it passes a limit.
    pub fn read(&mut self, name: &str) -> Result<Sheet, Unreadable> {
        match &mut self.inner {
            Inner::Xlsx(wb) => read_xlsx(wb, name),
            Inner::Xls(wb) => {
                let range = guarded(|| {
                    wb.worksheet_range(name)
                        .map_err(|e| Unreadable::SheetDamaged(e.to_string()))
                })?;
                // calamine builds an .xls sheet whole (at most 65,536 × 256
                // cells, bounded by the file's size), so these checks come
                // after reading; they still keep such a grid out of every
                // later step.
                if let (Some(start), Some(end)) = (range.start(), range.end()) {
                    too_large(start, end)?;
                }
                let mut cells = 0;
                for (_, _, d) in range.used_cells() {
                    cells += 1;
                    if cells > MAX_SHEET_CELLS {
                        return Err(over(
                            Limit::SheetCells,
                            None,
                            cells as u64,
                            MAX_SHEET_CELLS as u64,
                        ));
                    }
                    check_text(d.get_string())?;
                }
                Ok(Sheet {
                    range,
                    uncached: Vec::new(),
                })
            }
        }
    }
}

/// Refuses a sheet whose used area exceeds [`MAX_SHEET_AREA`], naming the far cell.
fn too_large(start: (u32, u32), end: (u32, u32)) -> Result<(), Unreadable> {
    let area = (end.0 - start.0 + 1) as usize * (end.1 - start.1 + 1) as usize;
    if area <= MAX_SHEET_AREA {
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

/// Refuses a text longer than [`MAX_CELL_CHARS`].
fn check_text(text: Option<&str>) -> Result<(), Unreadable> {
    match text {
        // Bytes first: a text of fewer bytes than the limit has fewer chars.
        Some(t) if t.len() > MAX_CELL_CHARS && t.chars().count() > MAX_CELL_CHARS => Err(over(
            Limit::CellChars,
            None,
            t.chars().count() as u64,
            MAX_CELL_CHARS as u64,
        )),
        _ => Ok(()),
    }
}

/// One pass over the sheet's XML: values, and the formulas that have none,
/// each limit checked as the cells stream.
fn read_xlsx(wb: &mut Xlsx<Cursor<Vec<u8>>>, name: &str) -> Result<Sheet, Unreadable> {
    let damaged = |e: calamine::XlsxError| Unreadable::SheetDamaged(e.to_string());
    let opened = guarded(|| match wb.worksheet_cells_reader(name) {
        Ok(r) => Ok(Some(r)),
        // A chart sheet or dialog sheet: no cells.
        Err(calamine::XlsxError::NotAWorksheet(_)) => Ok(None),
        Err(e) => Err(damaged(e)),
    })?;
    let Some(mut reader) = opened else {
        return Ok(Sheet {
            range: Range::empty(),
            uncached: Vec::new(),
        });
    };
    let mut cells: Vec<CalCell<Data>> = Vec::new();
    let mut uncached = Vec::new();
    let (mut max_row, mut max_col) = (0u32, 0u32);
    let (mut min_row, mut min_col) = (u32::MAX, u32::MAX);
    while let Some(c) = guarded(|| reader.next_cell_with_formula().map_err(damaged))? {
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
                Some(f) if !calculated => {
                    check_text(Some(&f))?;
                    uncached.push((c.pos, f));
                }
                _ => continue,
            }
        } else {
            check_text(match &c.value {
                DataRef::String(s) => Some(s.as_str()),
                DataRef::SharedString(s) => Some(s),
                _ => None,
            })?;
            cells.push(CalCell::new(c.pos, c.value.into()));
        }
        if cells.len() + uncached.len() > MAX_SHEET_CELLS {
            return Err(over(
                Limit::SheetCells,
                None,
                (cells.len() + uncached.len()) as u64,
                MAX_SHEET_CELLS as u64,
            ));
        }
        max_row = max_row.max(c.pos.0);
        max_col = max_col.max(c.pos.1);
        min_row = min_row.min(c.pos.0);
        min_col = min_col.min(c.pos.1);
        // The area so far only grows: refuse it as soon as it is too large.
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

    /// A package of one part, `xl/sharedStrings.xml`, of `xml`.
    fn strings_package(xml: &str) -> Vec<u8> {
        use std::io::Write as _;
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        z.start_file(
            "xl/sharedStrings.xml",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        z.write_all(xml.as_bytes()).unwrap();
        z.finish().unwrap().into_inner()
    }

    #[test]
    fn shared_strings_that_claim_more_than_any_workbook_holds_are_refused() {
        let sst = |open: &str| format!(r#"<?xml version="1.0"?>{open}<si><t>新村</t></si></sst>"#);
        let fine = [
            r#"<sst xmlns="x" count="9" uniqueCount="1">"#,
            // A writer that counts every use, and one that writes no count.
            r#"<sst count="3000000" uniqueCount="3000000">"#,
            r#"<sst xmlns="x">"#,
            // What calamine does not read as a number reserves nothing.
            r#"<sst uniqueCount="1e9">"#,
            r#"<sst uniqueCount="-1">"#,
        ];
        for open in fine {
            assert!(
                check_package(&strings_package(&sst(open))).is_ok(),
                "{open}"
            );
        }
        for open in [
            r#"<sst uniqueCount="999999999999">"#,
            r#"<x:sst xmlns:x="x" count="1" uniqueCount='4294967295'>"#,
        ] {
            let e = check_package(&strings_package(&sst(open))).unwrap_err();
            assert!(matches!(e, Unreadable::DamagedXlsx(_)), "{open}: {e:?}");
        }
    }

    #[test]
    fn encrypted_package_is_recognised_by_its_stream_name() {
        let mut bytes = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
        bytes.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
        assert!(is_encrypted_package(&bytes));
        assert!(!is_encrypted_package(b"EncryptedPackage"));
    }

    #[test]
    fn a_text_is_judged_by_its_characters_not_its_bytes() {
        // 20,000 Chinese characters are 60,000 bytes and within the limit.
        assert!(check_text(Some(&"村".repeat(20_000))).is_ok());
        assert!(check_text(Some(&"a".repeat(MAX_CELL_CHARS))).is_ok());
        match check_text(Some(&"a".repeat(MAX_CELL_CHARS + 5))) {
            Err(Unreadable::OverLimit {
                limit, found, max, ..
            }) => {
                assert_eq!(limit, Limit::CellChars);
                assert_eq!(
                    (found, max),
                    (MAX_CELL_CHARS as u64 + 5, MAX_CELL_CHARS as u64)
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
