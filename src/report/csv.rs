//! The two exports of FORMS.md §6, with their exact headers:
//! `aggregates.csv` and `findings.csv`.

use std::path::Path;

use rayon::prelude::*;

use super::{write_atomic_file_deferred, write_atomic_with_deferred, Pending, ReportError};
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
pub const FINDINGS_HEADER: [&str; 12] = [
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
    "id",
];

/// A text field of an export as a spreadsheet may safely open it (FORMS.md
/// §6, OWASP's rule against CSV injection): one that begins with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'`, so Excel shows
/// `=HYPERLINK(…)` typed as a village name as text and never evaluates it.
/// A number stays a number (`-5` is a value found, not a formula). Every
/// text field of `aggregates.csv`, `findings.csv` and `indicators.csv`
/// passes through here.
#[must_use]
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && !text.parse::<f64>().is_ok_and(f64::is_finite) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// One CSV field as RFC 4180 writes it: neutralised ([`neutralise`]), then
/// quoted (quotes doubled) only when it holds a comma, quote or line break.
fn csv_field(text: &str) -> String {
    let text = neutralise(text);
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.into_owned()
    }
}

/// Writes `aggregates.csv` (with its byte-order mark) into `file`: one row
/// per period, unit and field with a value; counts as integers, rates in
/// percent at full precision. A city-year has over a million rows (66 MB),
/// so everything but the value is escaped once (per period, per unit, per
/// field), and the rows are formatted in chunks on every core and each
/// chunk written at its own offset, also on every core, a few chunks per
/// core at a time so the file is never held whole.
///
/// # Errors
/// Only a write failure.
pub fn write_aggregates_csv(
    file: &std::fs::File,
    aggs: &Aggregates,
    registry: &Registry,
    schemas: &Schemas,
) -> std::io::Result<()> {
    let header = AGGREGATES_HEADER.join(",") + "\n";
    let mut offset = 0u64;
    for part in [UTF8_BOM, header.as_bytes()] {
        write_at(file, part, offset)?;
        offset += part.len() as u64;
    }
    // "period," for each period, or `None` for a period only compared with.
    let periods: Vec<Option<String>> = aggs
        .periods
        .iter()
        .map(|p| (!aggs.comparison.contains(p)).then(|| format!("{},", csv_field(&p.to_string()))))
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
            // "form," and ",field," for each of its fields.
            (
                format!("{},", csv_field(&f.id)),
                f.fields
                    .iter()
                    .map(|x| format!(",{},", csv_field(&x.id)))
                    .collect(),
            )
        })
        .collect();
    let chunk = |range: std::ops::Range<usize>| -> Vec<u8> {
        let mut buf: Vec<u8> = Vec::with_capacity(range.len() * 80);
        // Rows come in the order of `aggs.periods`: the label moves on with them.
        let mut period_idx = 0;
        for a in aggs.rows_in(range) {
            while aggs.periods[period_idx] != a.period {
                period_idx += 1;
            }
            let Some(period) = &periods[period_idx] else {
                continue;
            };
            let (form_id, field_ids) = &forms[a.form as usize];
            for part in [
                period.as_str(),
                form_id,
                &units[a.unit as usize],
                &field_ids[a.field as usize],
            ] {
                buf.extend_from_slice(part.as_bytes());
            }
            push_number(&mut buf, a.value);
            buf.push(b'\n');
        }
        buf
    };
    // 8k rows (about 600 kB) a chunk, two chunks a thread in flight: on 16
    // threads 20 MB, not the province-year's 480 MB file.
    const ROWS: usize = 8_192;
    let starts: Vec<usize> = (0..aggs.len()).step_by(ROWS).collect();
    let at_once = rayon::current_num_threads() * 2;
    for group in starts.chunks(at_once) {
        let parts: Vec<Vec<u8>> = group
            .par_iter()
            .map(|&s| chunk(s..(s + ROWS).min(aggs.len())))
            .collect();
        let mut at = Vec::with_capacity(parts.len());
        for part in &parts {
            at.push(offset);
            offset += part.len() as u64;
        }
        parts
            .par_iter()
            .zip(at)
            .try_for_each(|(part, at)| write_at(file, part, at))?;
    }
    Ok(())
}

/// Appends `v` as `format!("{v}")` writes it (but a negative zero as `0`),
/// without `fmt` where that is slow: a city-year's aggregates.csv has a
/// million figures, a fifth of them rates with all their digits.
pub(crate) fn push_number(buf: &mut Vec<u8>, v: f64) {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        push_integer(buf, v as i64);
    } else if (v * TIE_FREE).fract() != 0.0 && (1e-5..1e9).contains(&v.abs()) {
        // Both write the shortest digits that read back as `v`, and in
        // this range ryu writes them without an exponent, as `fmt` does.
        // They differ only on a tie between two shortest candidates (ryu
        // rounds it to even, `fmt` up), and a tie needs an exact decimal
        // expansion of at most 18 digits: a value with no more than 24
        // binary fractional digits. The rest, rates above all, have more.
        buf.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else {
        use std::io::Write as _;
        let _ = write!(buf, "{v}");
    }
}

/// 2^24: a value times this is a whole number when it has at most 24
/// binary fractional digits.
const TIE_FREE: f64 = 16_777_216.0;

/// Appends the decimal digits of `n` (the rows' counts: a million of them
/// per city-year, so not through `fmt`).
fn push_integer(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

/// Writes all of `buf` at `offset` of `file`, leaving its position alone,
/// so several threads can fill one file. On Linux the piece starts on its
/// way to disk at once: a city-year's 66 MB are then mostly there when the
/// file is flushed before its rename, instead of all written at that point
/// while every thread waits.
fn write_at(file: &std::fs::File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, buf, offset)?;
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: a plain system call on an open descriptor, with no
            // memory passed. Only a hint: the flush before the rename is
            // what makes the file durable, so its result does not matter.
            unsafe {
                libc::sync_file_range(
                    file.as_raw_fd(),
                    offset as i64,
                    buf.len() as i64,
                    libc::SYNC_FILE_RANGE_WRITE,
                )
            };
        }
        Ok(())
    }
    #[cfg(windows)]
    {
        let (mut buf, mut offset) = (buf, offset);
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_write(file, buf, offset)? {
                0 => return Err(std::io::ErrorKind::WriteZero.into()),
                n => {
                    buf = &buf[n..];
                    offset += n as u64;
                }
            }
        }
        Ok(())
    }
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
        record.push(f.id());
        w.write_record(record.iter().map(|x| neutralise(x).into_owned()))?;
    }
    w.flush()
}

/// Header of `trace --csv` (FORMS.md §7).
pub const TRACE_HEADER: [&str; 10] = [
    "role",
    "unit_code",
    "unit_name",
    "month",
    "value",
    "file",
    "sheet",
    "cell",
    "counted",
    "reason",
];

/// Writes `trace --csv`: one row per part of the figure, counted or not,
/// with where it was read and why it does not count.
///
/// # Errors
/// The file cannot be written.
pub fn write_trace(
    path: &Path,
    parts: &[crate::aggregate::Part],
    batch: &crate::observation::Batch,
    registry: &Registry,
) -> Result<(), ReportError> {
    super::write_atomic_with(path, |w| {
        w.write_all(UTF8_BOM)?;
        let mut w = csv::Writer::from_writer(w);
        w.write_record(TRACE_HEADER)?;
        for p in parts {
            let unit = registry.unit(p.unit);
            let ret = &batch.returns[batch.obs.ret[p.obs as usize] as usize];
            let record = [
                p.role.id().to_string(),
                unit.code.to_string(),
                unit.name.clone(),
                p.month.to_string(),
                p.value.map(crate::message::exact).unwrap_or_default(),
                batch.files[ret.file as usize].clone(),
                ret.sheet.clone(),
                batch.obs.cell[p.obs as usize].to_string(),
                p.counted().to_string(),
                p.left.map(|l| l.id().to_string()).unwrap_or_default(),
            ];
            w.write_record(record.iter().map(|x| neutralise(x).into_owned()))?;
        }
        w.flush()
    })
}

/// The UTF-8 byte-order mark every CSV export starts with (FORMS.md §6).
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes both exports into `dir` (created if needed), each atomically.
/// They are still being flushed to disk when this returns: each is in
/// place once its [`Pending`] is finished.
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
) -> Result<Vec<Pending>, ReportError> {
    std::fs::create_dir_all(dir).map_err(ReportError::from_io(dir))?;
    let (aggregates, findings) = rayon::join(
        || write_aggregates(dir, aggs, registry, schemas),
        || write_findings(dir, findings, lang),
    );
    Ok(vec![aggregates?, findings?])
}

/// Writes `aggregates.csv` into `dir`, which must exist, atomically; it is
/// in place once the [`Pending`] is finished.
///
/// # Errors
/// The file cannot be written.
pub fn write_aggregates(
    dir: &Path,
    aggs: &Aggregates,
    registry: &Registry,
    schemas: &Schemas,
) -> Result<Pending, ReportError> {
    write_atomic_file_deferred(&dir.join("aggregates.csv"), |file| {
        write_aggregates_csv(file, aggs, registry, schemas)
    })
}

/// Writes `findings.csv` into `dir`, which must exist, atomically; it is
/// in place once the [`Pending`] is finished.
///
/// # Errors
/// The file cannot be written.
pub fn write_findings(
    dir: &Path,
    findings: &[Finding],
    lang: Lang,
) -> Result<Pending, ReportError> {
    // A UTF-8 byte-order mark first: Excel on Chinese Windows then opens the
    // file as UTF-8 on a double-click instead of showing mojibake.
    write_atomic_with_deferred(&dir.join("findings.csv"), |w| {
        w.write_all(UTF8_BOM)?;
        write_findings_csv(w, findings, lang)
    })
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

    #[test]
    fn a_field_a_spreadsheet_would_evaluate_is_written_as_text() {
        for risky in [
            "=HYPERLINK(\"http://x\",\"click\")",
            "=cmd|' /C calc'!A0",
            "@SUM(1)",
            "+1+1",
            "-1+1",
            "\tx",
            "\rx",
            "-",
            "-inf",
        ] {
            assert_eq!(neutralise(risky), format!("'{risky}"), "{risky:?}");
        }
        // Numbers stay numbers; text that only contains the marks is untouched.
        for plain in [
            "-5",
            "-0.5",
            "+3",
            "1e308",
            "城东街道",
            "a=b",
            "",
            "合计-小计",
        ] {
            assert_eq!(neutralise(plain), plain, "{plain:?}");
        }
        assert_eq!(csv_field("=1,2"), "\"'=1,2\"");
    }

    #[test]
    fn numbers_are_written_as_fmt_writes_them() {
        let mut values = vec![
            0.0,
            0.5,
            -0.5,
            1e-5,
            9.999e-6,
            1.5e-7,
            0.1 + 0.2,
            95.123_456_789,
            100.0 / 3.0,
            2.0 / 3.0,
            1e15,
            1e15 + 0.5,
            9.9e15 + 0.5,
            1e16,
            1.5e17,
            1e300,
            5e-324,
            -88.8,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            // Ties between two shortest candidates: 100.000030517578125 is
            // as near 100.00003051757812 as 100.00003051757813.
            100.0 + 1.0 / 32768.0,
            1_658_206_780_088_562.2,
        ];
        // And rates as they come: numerators over denominators, times 100.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let num = (x % 100_000) as f64;
            let den = ((x >> 20) % 100_000 + 1) as f64;
            values.push(num / den * 100.0);
            values.push(f64::from_bits(x));
            // Values with few binary fractional digits, where ties live.
            values.push((x % (1 << 40)) as f64 / f64::from(1u32 << (x % 24) as u32));
        }
        for v in values {
            let mut buf = Vec::new();
            push_number(&mut buf, v);
            assert_eq!(String::from_utf8(buf).unwrap(), format!("{v}"), "{v:e}");
        }
        // A negative zero is a zero, not "-0".
        let mut buf = Vec::new();
        push_number(&mut buf, -0.0);
        assert_eq!(buf, b"0");
    }

    #[test]
    fn integers_are_written_as_fmt_writes_them() {
        for n in [
            0,
            7,
            -7,
            10,
            99,
            100,
            123_456_789,
            -1_000_000,
            i64::MAX,
            i64::MIN,
        ] {
            let mut buf = Vec::new();
            push_integer(&mut buf, n);
            assert_eq!(String::from_utf8(buf).unwrap(), n.to_string());
        }
    }
}
