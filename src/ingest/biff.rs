//! What calamine would build of an .xls, judged before it does.
//!
//! calamine reads an .xls whole when it opens it: the compound file's
//! sector chains, then every sheet's cells into a grid as wide as the
//! cells' rows × columns. Each of those follows what the file says, and a
//! damaged file can say anything: a cell at column 60,000 made an 18 KB file
//! a grid of 750 million cells (a 24 GB allocation, the process killed, the
//! batch lost); a sector chain that loops back grows without end. A
//! failed allocation aborts the process, so no guard around the call can
//! catch it.
//!
//! [`check`] walks the same structures calamine walks, the same way, and
//! refuses only what the format itself rules out: a cell beyond column IV
//! (an .xls sheet has 256 columns), a sheet's DIMENSIONS past 65,536 rows ×
//! 256 columns, a sector chain longer than the file has sectors (a loop).
//! What it cannot follow it leaves to calamine, whose own errors are safe;
//! so a file calamine reads well is never refused here.

use crate::message::Unreadable;

/// The most rows of an .xls sheet (BIFF8).
const MAX_ROWS: usize = 65_536;
/// The most columns of an .xls sheet (BIFF8: A to IV).
const MAX_COLS: usize = 256;

/// Sector ids at and above this are markers, not sectors.
const RESERVED_SECTORS: u32 = 0xFFFF_FFFA;
/// A DIFAT sector's marker.
const DIFSECT: u32 = 0xFFFF_FFFC;
/// The end of a chain.
const ENDOFCHAIN: u32 = 0xFFFF_FFFE;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn damaged(why: &str) -> Unreadable {
    Unreadable::DamagedXls(why.to_string())
}

/// Why calamine must not be handed `bytes` (an OLE compound file), where
/// it must not; `Ok` where it may, including every file this cannot follow.
///
/// # Errors
/// The file's structure would make the reader loop or allocate past any
/// real sheet.
pub fn check(bytes: &[u8]) -> Result<(), Unreadable> {
    match workbook_stream(bytes) {
        Walk::Stream(stream) => sheets(&stream),
        Walk::Unsafe(why) => Err(damaged(why)),
        Walk::LeftToReader => Ok(()),
    }
}

/// What following the compound file gave.
enum Walk {
    /// The workbook stream, as calamine reads it.
    Stream(Vec<u8>),
    /// A structure calamine would follow without end.
    Unsafe(&'static str),
    /// Something calamine refuses on its own (or this does not follow).
    LeftToReader,
}

/// The compound file's sectors, as calamine reads them: sector `id` at
/// `(id + 1) × size` (after the header), a sector cut short at the end of
/// the file, none past `len / size`.
struct Sectors<'a> {
    data: &'a [u8],
    size: usize,
    maxid: u32,
}

impl Sectors<'_> {
    fn get(&self, id: u32) -> Option<&[u8]> {
        if id > self.maxid {
            return None;
        }
        let start = (id as usize + 1) * self.size;
        let end = (start + self.size).min(self.data.len());
        Some(self.data.get(start..end).unwrap_or(&[]))
    }

    /// The chain from `id`, at most `len` bytes: `Err` where it would run
    /// longer than the file has sectors (it loops; calamine would follow
    /// it until `len`, or for ever); `Ok(None)` where calamine errors.
    fn chain(&self, mut id: u32, fats: &[u32], len: usize) -> Result<Option<Vec<u8>>, ()> {
        let mut out = Vec::new();
        let mut steps = 0usize;
        while id != ENDOFCHAIN {
            steps += 1;
            if steps > self.maxid as usize + 1 {
                return Err(());
            }
            let Some(sector) = self.get(id) else {
                return Ok(None);
            };
            let take = sector.len().min(len - out.len());
            out.extend_from_slice(&sector[..take]);
            if out.len() >= len {
                break;
            }
            let Some(&next) = fats.get(id as usize) else {
                return Ok(None);
            };
            id = next;
        }
        Ok(Some(out))
    }
}

/// The workbook stream (`Workbook`, else `Book`), read as calamine's
/// compound-file reader reads it.
fn workbook_stream(bytes: &[u8]) -> Walk {
    let loops = Walk::Unsafe("a sector chain of the compound file loops back on itself");
    let Some(header) = bytes.get(..512) else {
        return Walk::LeftToReader;
    };
    let size = match u16_at(header, 30) {
        Some(0x0009) => 512,
        Some(0x000C) => 4096,
        _ => return Walk::LeftToReader,
    };
    let (
        Some(version),
        Some(dir_start),
        Some(mini_fat_start),
        Some(mini_fat_len),
        Some(difat_start),
    ) = (
        u16_at(header, 26),
        u32_at(header, 48),
        u32_at(header, 60),
        u32_at(header, 64),
        u32_at(header, 68),
    )
    else {
        return Walk::LeftToReader;
    };
    let sectors = Sectors {
        data: bytes,
        size,
        maxid: (bytes.len() / size) as u32,
    };
    let words = |b: &[u8]| -> Vec<u32> {
        b.chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    let mut difat = words(&header[76..512]);
    let mut id = difat_start;
    let mut steps = 0usize;
    while id < RESERVED_SECTORS {
        steps += 1;
        if steps > sectors.maxid as usize + 1 {
            return Walk::LeftToReader;
        }
        let Some(sector) = sectors.get(id) else {
            return Walk::LeftToReader;
        };
        difat.extend(words(sector));
        let Some(next) = difat.pop() else {
            return Walk::LeftToReader;
        };
        id = next;
    }
    let mut fats = Vec::new();
    for id in difat.into_iter().filter(|&id| id < DIFSECT) {
        let Some(sector) = sectors.get(id) else {
            return Walk::LeftToReader;
        };
        fats.extend(words(sector));
    }
    let dirs = match sectors.chain(dir_start, &fats, usize::MAX) {
        Ok(Some(d)) => d,
        Ok(None) => return Walk::LeftToReader,
        Err(()) => return loops,
    };
    // (name, start, len) of each entry.
    let entries: Vec<(String, u32, usize)> = dirs
        .chunks_exact(128)
        .map(|e| {
            let units: Vec<u16> = e[..64]
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .take_while(|&c| c != 0)
                .collect();
            let len = if size == 512 {
                u32_at(e, 120).unwrap_or(0) as usize
            } else {
                let lo = u32_at(e, 120).unwrap_or(0) as u64;
                let hi = u32_at(e, 124).unwrap_or(0) as u64;
                usize::try_from(lo | hi << 32).unwrap_or(usize::MAX)
            };
            (
                String::from_utf16_lossy(&units),
                u32_at(e, 116).unwrap_or(ENDOFCHAIN),
                len,
            )
        })
        .collect();
    let Some(root) = entries.first() else {
        return Walk::LeftToReader;
    };
    if version != 3 && root.1 == ENDOFCHAIN {
        return Walk::LeftToReader;
    }
    let (mini_fats, ministream) = if mini_fat_len > 0 {
        let ministream = match sectors.chain(root.1, &fats, root.2) {
            Ok(Some(s)) => s,
            Ok(None) => return Walk::LeftToReader,
            Err(()) => return loops,
        };
        let len = (mini_fat_len as usize).saturating_mul(size);
        let minifat = match sectors.chain(mini_fat_start, &fats, len) {
            Ok(Some(s)) => words(&s),
            Ok(None) => return Walk::LeftToReader,
            Err(()) => return loops,
        };
        (minifat, ministream)
    } else {
        (Vec::new(), Vec::new())
    };
    for name in ["Workbook", "Book"] {
        let Some(&(_, start, len)) = entries
            .iter()
            .find(|e| e.0.as_bytes().eq_ignore_ascii_case(name.as_bytes()))
        else {
            continue;
        };
        let stream = if len < 4096 {
            // The mini stream's sectors of 64 bytes; one past the mini
            // stream calamine reads from wherever its reader stands: not
            // followed here. Its length is under 4,096 bytes either way.
            let mini_max = sectors.maxid.saturating_mul(8) as usize;
            let mut out = Vec::new();
            let mut id = start;
            let mut steps = 0usize;
            while id != ENDOFCHAIN && out.len() < len {
                steps += 1;
                let at = id as usize * 64;
                let (Some(sector), true) = (ministream.get(at..at + 64), steps <= mini_max + 1)
                else {
                    return Walk::LeftToReader;
                };
                out.extend_from_slice(&sector[..64.min(len - out.len())]);
                let Some(&next) = mini_fats.get(id as usize) else {
                    break;
                };
                id = next;
            }
            Some(out)
        } else {
            match sectors.chain(start, &fats, len) {
                Ok(s) => s,
                Err(()) => return loops,
            }
        };
        if let Some(stream) = stream {
            return Walk::Stream(stream);
        }
    }
    Walk::LeftToReader
}

/// One BIFF record: its type and data (what follows it in `CONTINUE`
/// records is skipped as calamine skips it, as records of their own).
struct Records<'a> {
    stream: &'a [u8],
}

impl<'a> Iterator for Records<'a> {
    type Item = (u16, &'a [u8]);
    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let typ = u16_at(self.stream, 0)?;
        let len = u16_at(self.stream, 2)? as usize;
        let data = self.stream.get(4..4 + len)?;
        self.stream = &self.stream[4 + len..];
        Some((typ, data))
    }
}

/// Each sheet's cells and DIMENSIONS, as calamine builds them.
fn sheets(stream: &[u8]) -> Result<(), Unreadable> {
    let mut at = Vec::new();
    for (typ, data) in (Records { stream }) {
        match typ {
            // BoundSheet8: where the sheet's records start.
            0x0085 => at.extend(u32_at(data, 0).map(|p| p as usize)),
            // FilePass: calamine refuses a password's file itself.
            0x002F if u16_at(data, 0).is_some_and(|v| v != 0) => return Ok(()),
            0x000A => break,
            _ => {}
        }
    }
    for pos in at {
        let Some(sheet) = stream.get(pos..) else {
            continue;
        };
        sheet_cells(sheet)?;
    }
    Ok(())
}

/// One sheet's records up to its EOF (an embedded chart's skipped whole).
fn sheet_cells(stream: &[u8]) -> Result<(), Unreadable> {
    let beyond = || damaged("a cell lies beyond column IV, the last an .xls sheet has");
    let (mut seen_bof, mut depth) = (false, 0usize);
    for (typ, data) in (Records { stream }) {
        if depth > 0 {
            match typ {
                0x0809 => depth += 1,
                0x000A => depth -= 1,
                _ => {}
            }
            continue;
        }
        let col = |at: usize| u16_at(data, at).map(usize::from);
        match typ {
            0x0809 if seen_bof => depth += 1,
            0x0809 => seen_bof = true,
            0x000A => break,
            // DIMENSIONS: calamine reserves rows × columns cells for it.
            0x0200 => {
                let (rf, rl, mut cf, cl) = match data.len() {
                    10 => (
                        u32::from(u16_at(data, 0).unwrap_or(0)),
                        u32::from(u16_at(data, 2).unwrap_or(0)),
                        u32::from(u16_at(data, 4).unwrap_or(0)),
                        u32::from(u16_at(data, 6).unwrap_or(0)),
                    ),
                    14 | 16 => (
                        u32_at(data, 0).unwrap_or(0),
                        u32_at(data, 4).unwrap_or(0),
                        u32::from(u16_at(data, 8).unwrap_or(0)),
                        u32::from(u16_at(data, 10).unwrap_or(0)),
                    ),
                    // calamine refuses it.
                    _ => return Ok(()),
                };
                if cf > 0xFF || cl < cf {
                    cf = 0;
                }
                let (end_r, end_c) = if rl >= 1 && cl >= 1 {
                    (rl - 1, cl - 1)
                } else {
                    (rf, cf)
                };
                let rows = end_r.wrapping_sub(rf).wrapping_add(1) as usize;
                let cols = end_c.wrapping_sub(cf).wrapping_add(1) as usize;
                if rows.saturating_mul(cols) > MAX_ROWS * MAX_COLS {
                    return Err(damaged(
                        "its DIMENSIONS record claims more cells than an .xls sheet has",
                    ));
                }
            }
            // A cell: NUMBER, LABEL, RSTRING, BOOLERR, RK, LABELSST, FORMULA.
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006
                if col(2).is_some_and(|c| c >= MAX_COLS) =>
            {
                return Err(beyond());
            }
            // MULRK: a row's run of cells, its first and last columns.
            0x00BD if data.len() >= 6 => {
                let last = u16_at(data, data.len() - 2).map(usize::from);
                if col(2).is_some_and(|c| c >= MAX_COLS) || last.is_some_and(|c| c >= MAX_COLS) {
                    return Err(beyond());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record: type, length, data.
    fn record(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut r = typ.to_le_bytes().to_vec();
        r.extend((data.len() as u16).to_le_bytes());
        r.extend(data);
        r
    }

    /// A workbook stream of one sheet whose records are `cells` (after its
    /// BOF, before its EOF).
    fn workbook(cells: &[Vec<u8>]) -> Vec<u8> {
        let bof = record(0x0809, &[0, 6, 0x10, 0, 0, 0, 0, 0]);
        let globals_len = bof.len() + 4 + 8 + 4;
        let mut s = bof.clone();
        let mut sheet = vec![0u8; 8];
        sheet[..4].copy_from_slice(&(globals_len as u32).to_le_bytes());
        s.extend(record(0x0085, &sheet));
        s.extend(record(0x000A, &[]));
        assert_eq!(s.len(), globals_len);
        s.extend(bof);
        for c in cells {
            s.extend(c);
        }
        s.extend(record(0x000A, &[]));
        s
    }

    /// A NUMBER cell at `row`, `col`.
    fn number(row: u16, col: u16) -> Vec<u8> {
        let mut d = row.to_le_bytes().to_vec();
        d.extend(col.to_le_bytes());
        d.extend([0, 0]);
        d.extend(42f64.to_le_bytes());
        record(0x0203, &d)
    }

    /// A BIFF8 DIMENSIONS of rows `rf..rl` and columns `cf..cl` (the last
    /// of each one past the end).
    fn dimensions(rf: u32, rl: u32, cf: u16, cl: u16) -> Vec<u8> {
        let mut d = rf.to_le_bytes().to_vec();
        d.extend(rl.to_le_bytes());
        d.extend(cf.to_le_bytes());
        d.extend(cl.to_le_bytes());
        d.extend([0, 0]);
        record(0x0200, &d)
    }

    #[test]
    fn a_cell_beyond_column_iv_is_refused_and_one_at_iv_read() {
        assert!(sheets(&workbook(&[number(0, 0), number(65_535, 255)])).is_ok());
        for far in [number(3, 256), number(0, 60_000)] {
            let e = sheets(&workbook(&[number(0, 0), far])).unwrap_err();
            assert!(
                matches!(e, Unreadable::DamagedXls(ref why) if why.contains("column IV")),
                "{e:?}"
            );
        }
        // A run of cells (MULRK) ending past IV.
        let mut d = 1u16.to_le_bytes().to_vec();
        d.extend(250u16.to_le_bytes());
        for _ in 250..=260 {
            d.extend([0u8; 6]);
        }
        d.extend(260u16.to_le_bytes());
        assert!(sheets(&workbook(&[record(0x00BD, &d)])).is_err());
        // An embedded chart's records are not the sheet's.
        let chart = [
            record(0x0809, &[0, 6, 0x20, 0, 0, 0, 0, 0]),
            number(0, 9_000),
            record(0x000A, &[]),
        ]
        .concat();
        assert!(sheets(&workbook(&[chart, number(1, 1)])).is_ok());
    }

    #[test]
    fn dimensions_past_the_format_are_refused() {
        assert!(sheets(&workbook(&[dimensions(0, 65_536, 0, 256)])).is_ok());
        assert!(sheets(&workbook(&[dimensions(0, 65_537, 0, 256)])).is_err());
        assert!(sheets(&workbook(&[dimensions(0, 4_000_000_000, 0, 2)])).is_err());
        // A first row after the last: calamine's count wraps to billions.
        assert!(sheets(&workbook(&[dimensions(10, 5, 0, 3)])).is_err());
        // A first column past IV is read from A, as calamine reads it.
        assert!(sheets(&workbook(&[dimensions(0, 10, 300, 3)])).is_ok());
    }

    #[test]
    fn a_sector_chain_that_loops_is_told_from_one_that_ends() {
        let data = vec![0u8; 512 * 4];
        let sectors = Sectors {
            data: &data,
            size: 512,
            maxid: 3,
        };
        let ends = [1, 2, ENDOFCHAIN];
        assert_eq!(
            sectors.chain(0, &ends, usize::MAX).unwrap().unwrap().len(),
            512 * 3
        );
        let loops = [1, 2, 0];
        assert!(sectors.chain(0, &loops, usize::MAX).is_err());
        // Cut short by its length before it loops: what calamine reads too.
        assert_eq!(sectors.chain(0, &loops, 700).unwrap().unwrap().len(), 700);
        // A sector past the file is the reader's own error.
        assert!(sectors.chain(9, &ends, usize::MAX).unwrap().is_none());
    }

    /// A real return whose directory chain is made to point back at itself:
    /// calamine would read that sector again and again, growing without
    /// end; refused as damage.
    #[test]
    fn a_real_xls_whose_directory_chain_loops_is_refused() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample-data/returns/2026-01/东城街道_2026年1月_家医签约.xls");
        let mut bytes = std::fs::read(path).unwrap();
        assert!(check(&bytes).is_ok());
        let size = 512;
        let dir_start = u32_at(&bytes, 48).unwrap() as usize;
        let first_fat = u32_at(&bytes, 76).unwrap() as usize;
        assert!(dir_start < size / 4, "the entry is in the first FAT sector");
        let at = (first_fat + 1) * size + 4 * dir_start;
        bytes[at..at + 4].copy_from_slice(&(dir_start as u32).to_le_bytes());
        let e = check(&bytes).unwrap_err();
        assert!(
            matches!(e, Unreadable::DamagedXls(ref why) if why.contains("loops")),
            "{e:?}"
        );
    }

    /// The committed sample's .xls returns (saved by a spreadsheet
    /// application) are followed to their workbook stream and pass.
    #[test]
    fn real_xls_returns_are_followed_and_pass() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/returns");
        let mut seen = 0;
        for month in std::fs::read_dir(root).unwrap() {
            for f in std::fs::read_dir(month.unwrap().path()).unwrap() {
                let path = f.unwrap().path();
                if path.extension().is_some_and(|e| e == "xls") {
                    let bytes = std::fs::read(&path).unwrap();
                    let Walk::Stream(stream) = workbook_stream(&bytes) else {
                        panic!("{} not followed", path.display());
                    };
                    assert_eq!(u16_at(&stream, 0), Some(0x0809), "{}", path.display());
                    assert!(check(&bytes).is_ok(), "{}", path.display());
                    seen += 1;
                }
            }
        }
        assert!(seen >= 3, "{seen}");
    }
}
