//! The bounded reader (issue 25): workbooks built to exhaust memory or time
//! — zip bombs, a million rows, gigabyte strings — each end in one
//! `unreadable_file` finding naming the limit, within 10 s and 500 MB for
//! the whole process, while the good returns beside them are consolidated
//! exactly and the report is written. Each hostile file is built here, in
//! code: a deflate segment of one repeated unit is copied as many times as
//! the bomb needs (a sync-flushed segment ends on a byte boundary and
//! refers to nothing before it, so its copies concatenate into one valid
//! stream), and the package's zip records are written by hand so that its
//! declared sizes can be honest or lie.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::util::{self, Dir, V};

/// One part of a hand-written package: its name, its deflated bytes, its
/// CRC, and the uncompressed size its zip records declare.
struct Part {
    name: String,
    data: Vec<u8>,
    crc: u32,
    size: u32,
}

/// Raw deflate of `text`, sync-flushed: a segment that ends on a byte
/// boundary, not final, referring only to itself.
fn segment(text: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(text).unwrap();
    enc.flush().unwrap();
    enc.get_ref().clone()
}

/// `prefix`, then `unit` repeated `times` times, then `suffix`, deflated:
/// (the stream, its uncompressed length, and a CRC of 0: the bombs are
/// never read to their end, where the CRC is checked).
fn repeated(prefix: &str, unit: &str, times: u64, suffix: &str) -> (Vec<u8>, u64, u32) {
    // Units in one segment: about 1 MiB of them, or all if fewer.
    let per = ((1 << 20) / unit.len() as u64).clamp(1, times.max(1));
    let seg = segment(unit.repeat(per as usize).as_bytes());
    let mut out = segment(prefix.as_bytes());
    for _ in 0..times / per {
        out.extend_from_slice(&seg);
    }
    let rest = unit.repeat((times % per) as usize) + suffix;
    out.extend(segment_final(rest.as_bytes()));
    let len = prefix.len() as u64 + unit.len() as u64 * times + suffix.len() as u64;
    (out, len, 0)
}

/// The parts of a real return written by rust_xlsxwriter, deflated as they are.
fn parts_of(path: &Path) -> Vec<Part> {
    let bytes = std::fs::read(path).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut text = Vec::new();
            let mut f = zip.by_index(i).unwrap();
            let name = f.name().unwrap().to_string();
            f.read_to_end(&mut text).unwrap();
            let mut crc = flate2::Crc::new();
            crc.update(&text);
            Part {
                name,
                data: segment_final(&text),
                crc: crc.sum(),
                size: text.len() as u32,
            }
        })
        .collect()
}

fn segment_final(text: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text).unwrap();
    enc.finish().unwrap()
}

/// Writes the parts as a zip: local headers, data, central directory.
fn write_zip(path: &Path, parts: &[Part]) {
    let mut out: Vec<u8> = Vec::new();
    let mut central: Vec<u8> = Vec::new();
    let u16le = |v: &mut Vec<u8>, x: u16| v.extend(x.to_le_bytes());
    let u32le = |v: &mut Vec<u8>, x: u32| v.extend(x.to_le_bytes());
    for p in parts {
        let offset = out.len() as u32;
        let name = p.name.as_bytes();
        // Local file header: version 2.0, no flags, deflate, 1980-01-01.
        u32le(&mut out, 0x0403_4b50);
        for x in [20u16, 0, 8, 0, 0x21] {
            u16le(&mut out, x);
        }
        u32le(&mut out, p.crc);
        u32le(&mut out, p.data.len() as u32);
        u32le(&mut out, p.size);
        u16le(&mut out, name.len() as u16);
        u16le(&mut out, 0);
        out.extend_from_slice(name);
        out.extend_from_slice(&p.data);
        u32le(&mut central, 0x0201_4b50);
        for x in [20u16, 20, 0, 8, 0, 0x21] {
            u16le(&mut central, x);
        }
        u32le(&mut central, p.crc);
        u32le(&mut central, p.data.len() as u32);
        u32le(&mut central, p.size);
        u16le(&mut central, name.len() as u16);
        for x in [0u16, 0, 0, 0] {
            u16le(&mut central, x);
        }
        u32le(&mut central, 0);
        u32le(&mut central, offset);
        central.extend_from_slice(name);
    }
    let cd_offset = out.len() as u32;
    let cd_len = central.len() as u32;
    out.extend(central);
    u32le(&mut out, 0x0605_4b50);
    for x in [0u16, 0, parts.len() as u16, parts.len() as u16] {
        u16le(&mut out, x);
    }
    u32le(&mut out, cd_len);
    u32le(&mut out, cd_offset);
    u16le(&mut out, 0);
    std::fs::write(path, out).unwrap();
}

/// A copy of the return at `base` with the part `name` replaced by
/// `(data, true length, crc)`, its records declaring `declared` bytes
/// (the true length when `None`).
fn bomb(base: &Path, to: &Path, name: &str, made: (Vec<u8>, u64, u32), declared: Option<u64>) {
    let mut parts = parts_of(base);
    let part = parts.iter_mut().find(|p| p.name == name).unwrap();
    let size = declared.unwrap_or(made.1);
    assert!(size < u64::from(u32::MAX), "no zip64 here");
    part.data = made.0;
    part.crc = made.2;
    part.size = size as u32;
    write_zip(to, &parts);
}

const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetData>"#;
const SHEET_TAIL: &str = "</sheetData></worksheet>";
const SST_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

/// What one run cost: wall time and the peak resident memory of the process.
struct Cost {
    code: Option<i32>,
    wall: Duration,
    peak_mib: f64,
    stderr: String,
}

/// Runs phstats as a user does and measures it: the child's own peak
/// resident set from `wait4`, and the wall time; killed after 60 s.
// The child is reaped by wait4 below, which std's wait() cannot give the
// child's own rusage for.
#[allow(clippy::zombie_processes)]
fn measured(cwd: &Path, args: &[&str]) -> Cost {
    let bin: PathBuf = assert_cmd::cargo::cargo_bin("phstats");
    let err_path = cwd.join("stderr.txt");
    let child = std::process::Command::new(bin)
        .current_dir(cwd)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of the plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waits on our own child, writing into the two locals above.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert!(r == 0, "wait4 failed");
        if start.elapsed() > Duration::from_secs(60) {
            // SAFETY: signals our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let wall = start.elapsed();
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Cost {
        code,
        wall,
        // ru_maxrss is in KiB on Linux.
        peak_mib: usage.ru_maxrss as f64 / 1024.0,
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

/// The good returns every run must consolidate exactly: 新民镇's family
/// doctor return (150 residents, 60 signed) and 城东街道's vaccination one.
fn good_returns(d: &Dir) {
    util::write_return(
        &d.path("in/新民镇_家医.xlsx"),
        "family_doctor",
        "新民镇",
        Some("2026-02"),
        &[
            (
                "新村",
                vec![("resident_pop", V::N(100.0)), ("signed", V::N(40.0))],
            ),
            (
                "红旗村",
                vec![("resident_pop", V::N(50.0)), ("signed", V::N(20.0))],
            ),
        ],
        None,
    );
    util::write_return(
        &d.path("in/城东街道_免疫.xlsx"),
        "vaccination",
        "城东街道",
        Some("2026-02"),
        &[
            (
                "东门社区",
                vec![("hepb1_due", V::N(10.0)), ("hepb1_given", V::N(9.0))],
            ),
            (
                "新村",
                vec![("hepb1_due", V::N(20.0)), ("hepb1_given", V::N(20.0))],
            ),
        ],
        None,
    );
}

/// A return to build the hostile ones from (outside `in/`).
fn base(d: &Dir) -> PathBuf {
    let p = d.path("base/城东街道_家医.xlsx");
    util::write_return(
        &p,
        "family_doctor",
        "城东街道",
        Some("2026-02"),
        &[("东门社区", vec![("resident_pop", V::N(80.0))])],
        None,
    );
    p
}

/// Consolidates `in/` beside the hostile file `name` and checks all that
/// issue 25 asks: one `unreadable_file` for it saying `says`, within 10 s
/// and 500 MB; the good returns exact; the report written.
fn survives(d: &Dir, name: &str, says: &[&str]) {
    let cost = measured(
        d.tmp.path(),
        &[
            "consolidate",
            "in",
            "--units",
            "units.csv",
            "--export",
            "out",
            "-o",
            "r.xlsx",
            "--force",
        ],
    );
    assert_eq!(cost.code, Some(1), "{name}: {}", cost.stderr);
    assert!(
        cost.wall < Duration::from_secs(10),
        "{name}: {:?}",
        cost.wall
    );
    assert!(
        cost.peak_mib < 500.0,
        "{name}: peak {:.0} MiB",
        cost.peak_mib
    );
    eprintln!(
        "{name}: {:.2} s, peak {:.0} MiB",
        cost.wall.as_secs_f64(),
        cost.peak_mib
    );
    let f = util::read_csv(&d.path("out/findings.csv"));
    let hits: Vec<_> = f
        .iter()
        .filter(|x| x["file"].ends_with(name) && x["severity"] == "error")
        .collect();
    assert_eq!(hits.len(), 1, "{name}: {f:#?}");
    assert_eq!(hits[0]["rule"], "unreadable_file");
    for s in says {
        assert!(
            hits[0]["message"].contains(s),
            "{name}: {}",
            hits[0]["message"]
        );
    }
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    let get = |unit: &str, field: &str| {
        a.get(&("2026-02".into(), unit.into(), field.into()))
            .copied()
    };
    assert_eq!(get("439902101000", "resident_pop"), Some(150.0));
    assert_eq!(get("439902101000", "signed"), Some(60.0));
    assert_eq!(get("439902101000", "signing_rate"), Some(40.0));
    assert_eq!(get("439902001000", "hepb1_due"), Some(30.0));
    assert_eq!(get("439902001000", "hepb1_given"), Some(29.0));
    // Nothing of the hostile return counts.
    assert_eq!(get("439902001001", "resident_pop"), None);
    assert!(d.path("r.xlsx").exists());
}

fn fixture() -> (Dir, PathBuf) {
    let d = Dir::new();
    good_returns(&d);
    let b = base(&d);
    (d, b)
}

#[test]
fn a_cell_repeated_into_a_3_gb_sheet_is_refused_by_its_declared_size() {
    let (d, b) = fixture();
    // 3 GiB of one-cell rows; the file is about 3 MB.
    let unit = "<row><c><v>1</v></c></row>";
    let times = (3u64 << 30) / unit.len() as u64;
    bomb(
        &b,
        &d.path("in/bomb.xlsx"),
        "xl/worksheets/sheet1.xml",
        repeated(SHEET_HEAD, unit, times, SHEET_TAIL),
        None,
    );
    assert!(std::fs::metadata(d.path("in/bomb.xlsx")).unwrap().len() < 8 << 20);
    survives(
        &d,
        "bomb.xlsx",
        &["xl/worksheets/sheet1.xml", "3.0 GB", "32 MB"],
    );
}

#[test]
fn a_bomb_that_lies_about_its_size_stops_at_the_cell_limit() {
    let (d, b) = fixture();
    // The same 3 GiB, declaring 30 MB: the zip reader stops at the declared
    // size, and the cells stop long before, as they stream.
    let unit = "<row><c><v>1</v></c></row>";
    let times = (3u64 << 30) / unit.len() as u64;
    bomb(
        &b,
        &d.path("in/liar.xlsx"),
        "xl/worksheets/sheet1.xml",
        repeated(SHEET_HEAD, unit, times, SHEET_TAIL),
        Some(30 << 20),
    );
    survives(&d, "liar.xlsx", &["有内容的单元格数超过上限 250000 个"]);
}

#[test]
fn a_million_rows_of_26_columns_are_refused() {
    let (d, b) = fixture();
    let unit = format!("<row>{}</row>", "<c><v>7</v></c>".repeat(26));
    bomb(
        &b,
        &d.path("in/rows.xlsx"),
        "xl/worksheets/sheet1.xml",
        repeated(SHEET_HEAD, &unit, 1 << 20, SHEET_TAIL),
        None,
    );
    let len = SHEET_HEAD.len() + unit.len() * (1 << 20) + SHEET_TAIL.len();
    let shown = format!("解压后的大小为 {:.0} MB", len as f64 / f64::from(1 << 20));
    survives(&d, "rows.xlsx", &[&shown, "32 MB"]);
    // Declaring 30 MB instead, it is stopped by the cells as they stream.
    std::fs::remove_file(d.path("in/rows.xlsx")).unwrap();
    bomb(
        &b,
        &d.path("in/rows2.xlsx"),
        "xl/worksheets/sheet1.xml",
        repeated(SHEET_HEAD, &unit, 1 << 20, SHEET_TAIL),
        Some(30 << 20),
    );
    survives(&d, "rows2.xlsx", &["250001"]);
}

#[test]
fn a_2_5_gb_shared_strings_part_is_refused() {
    let (d, b) = fixture();
    let unit = "<si><t>新村</t></si>";
    let times = (5u64 << 29) / unit.len() as u64;
    bomb(
        &b,
        &d.path("in/sst.xlsx"),
        "xl/sharedStrings.xml",
        repeated(SST_HEAD, unit, times, "</sst>"),
        None,
    );
    survives(
        &d,
        "sst.xlsx",
        &["xl/sharedStrings.xml", "2.5 GB", "8.0 MB"],
    );
}

#[test]
fn a_2_gb_inline_string_is_refused() {
    let (d, b) = fixture();
    let head = format!(r#"{SHEET_HEAD}<row r="1"><c r="A1" t="inlineStr"><is><t>"#);
    bomb(
        &b,
        &d.path("in/inline.xlsx"),
        "xl/worksheets/sheet1.xml",
        repeated(
            &head,
            "村",
            (2u64 << 30) / 3,
            "</t></is></c></row></sheetData></worksheet>",
        ),
        None,
    );
    survives(&d, "inline.xlsx", &["2.0 GB"]);
}

#[test]
fn a_village_name_of_300_million_characters_is_refused() {
    let (d, b) = fixture();
    // Every shared string of the return becomes one name of 300 M letters.
    let head = format!(r#"{SST_HEAD}<si><t>"#);
    bomb(
        &b,
        &d.path("in/name.xlsx"),
        "xl/sharedStrings.xml",
        repeated(&head, "a", 300_000_000, "</t></si></sst>"),
        None,
    );
    assert!(std::fs::metadata(d.path("in/name.xlsx")).unwrap().len() < 1 << 20);
    survives(&d, "name.xlsx", &["xl/sharedStrings.xml"]);
}

#[test]
fn a_cell_longer_than_excel_allows_is_refused_as_it_is_read() {
    let (d, b) = fixture();
    // 7 million characters: within the shared strings' size, so calamine
    // opens the workbook; the first cell showing it is past Excel's 32,767.
    // Letters that do not repeat, so the part is not judged a bomb by its ratio.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let letters: String = (0..7_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b'a' + (x % 26) as u8)
        })
        .collect();
    let text = format!("{SST_HEAD}<si><t>{letters}</t></si></sst>");
    let mut crc = flate2::Crc::new();
    crc.update(text.as_bytes());
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(text.as_bytes()).unwrap();
    let made = (enc.finish().unwrap(), text.len() as u64, crc.sum());
    bomb(
        &b,
        &d.path("in/long.xlsx"),
        "xl/sharedStrings.xml",
        made,
        None,
    );
    survives(
        &d,
        "long.xlsx",
        &["一个单元格中的字符数为 7000000", "32767"],
    );
}

#[test]
fn a_file_over_the_size_limit_is_not_read() {
    let (d, _) = fixture();
    let mut f = std::fs::File::create(d.path("in/huge.xlsx")).unwrap();
    f.write_all(b"PK\x03\x04").unwrap();
    // Sparse: 40 MB on paper, nothing on disk.
    f.set_len(40 << 20).unwrap();
    drop(f);
    survives(&d, "huge.xlsx", &["文件大小为 40 MB", "32 MB"]);
}
