//! The counted figures of one month, as the checks over time and the
//! roll-up read them (FORMS.md §4: a stock's fall, a figure far outside its
//! unit's history; §5), and the small file a store keeps them in beside
//! each generation.
//!
//! A month's counted figures depend only on that month's returns: which of
//! them count is settled per unit, form and month. So an ingest settles and
//! checks again only the months its returns fall in, and reads every other
//! month of the history from one of these files instead of its figures'
//! parts (submission ids, field ids and cells, 0.2 s of a city's twelfth
//! monthly ingest at 2 threads). A report from the store reads the months
//! before its period the same way: they are only its history and its
//! comparison periods (累计, 上期, 同期, the trend), whose figures are
//! these.
//!
//! A file is a cache, never the record: it names the submissions, the
//! registry and the forms it was made from by a fingerprint, and one that
//! does not match what the store now holds, or does not read, is passed
//! over and the month's figures are read from their parts and settled as
//! before.
//!
//! ```text
//! "PHSTATS-COUNTED\0" · version u32 · fingerprint [32] · month i32
//! units: n u32, then n × code u64
//! fields: n u32, then n × (form id, field id), each u16 length + UTF-8
//! rows: n u64, then n × unit u32, n × field u16, n × value f64
//! apart: n u32, then n × row u32 (rows the roll-up leaves out)
//! returns: n u32, then n × (submission id: u16 length + UTF-8, figures u64)
//! counts: u8, 1 where a return of the month counts (settled, in force)
//! check: u64, FNV-1a of every byte before it, by 8-byte words
//! ```
//!
//! Every number is little-endian. Rows are sorted by unit, form and field,
//! each key's in the order the month's table holds them. A row apart is a
//! unit's row whose figures its own children's rows count already
//! (`validate::overlap`): the checks over time read it, the roll-up does
//! not. A return's figures are every value it reported, counted or not.

use std::path::Path;

use crate::observation::Batch;
use crate::period::Month;
use crate::registry::{Registry, UnitCode, UnitIdx};
use crate::schema::{FieldIdx, FormIdx, Kind, Schemas};

const MAGIC: &[u8; 16] = b"PHSTATS-COUNTED\0";
const VERSION: u32 = 2;

/// The counted figures of one month: `(key, value)` sorted by key, where
/// the key is [`key`] of the figure's unit, form and field.
#[derive(Debug, Clone, PartialEq)]
pub struct CountedMonth {
    /// The month.
    pub month: Month,
    /// Every counted figure, by key.
    pub rows: Vec<(u64, f64)>,
    /// The places in `rows` of the figures the roll-up leaves out, in
    /// order: a unit's row its own children's rows count already.
    pub apart: Vec<u32>,
    /// Each return of the month, by submission id, with the number of
    /// values it reported (counted or not).
    pub returns: Vec<(String, u64)>,
    /// Whether a return of the month counts: the month is one a run
    /// consolidates ([`Batch::months`]), even where none of its figures
    /// does.
    pub counts: bool,
}

/// The sort key of a unit, form and field: by unit, then form, then field.
#[must_use]
pub fn key(unit: UnitIdx, form: FormIdx, field: FieldIdx) -> u64 {
    (u64::from(unit) << 32) | (u64::from(form) << 16) | u64::from(field)
}

/// The field of a key.
#[must_use]
pub fn field_of(key: u64) -> FieldIdx {
    (key & 0xffff) as FieldIdx
}

/// The form of a key.
#[must_use]
pub fn form_of(key: u64) -> FormIdx {
    ((key >> 16) & 0xffff) as FormIdx
}

/// The unit of a key.
#[must_use]
pub fn unit_of(key: u64) -> UnitIdx {
    (key >> 32) as UnitIdx
}

/// Rows each flagged where the roll-up leaves it out, as
/// [`CountedMonth::rows`] and [`CountedMonth::apart`].
fn set_apart(rows: Vec<(u64, f64, bool)>) -> (Vec<(u64, f64)>, Vec<u32>) {
    let apart = (0..rows.len() as u32)
        .filter(|&i| rows[i as usize].2)
        .collect();
    (rows.into_iter().map(|(k, v, _)| (k, v)).collect(), apart)
}

impl CountedMonth {
    /// The counted figures of every month in `batch` ([`Batch::counts`]),
    /// in one pass over its table, by month; `ids[r]` is the submission
    /// id of the batch's return `r`. Every month with a return has one,
    /// even where none of its figures counts.
    #[must_use]
    pub fn every_month(batch: &Batch, schemas: &Schemas, ids: &[&str]) -> Vec<CountedMonth> {
        let o = &batch.obs;
        let mut out: Vec<CountedMonth> = Vec::new();
        let mut values = vec![0u64; batch.returns.len()];
        // Each row with whether the roll-up leaves it out.
        let mut rows: Vec<Vec<(u64, f64, bool)>> = Vec::new();
        let place = |out: &mut Vec<CountedMonth>, rows: &mut Vec<Vec<_>>, month: Month| {
            // A batch holds a few months: the last one found is most often it.
            match out.iter().rposition(|m| m.month == month) {
                Some(k) => k,
                None => {
                    out.push(CountedMonth {
                        month,
                        rows: Vec::new(),
                        apart: Vec::new(),
                        returns: Vec::new(),
                        counts: false,
                    });
                    rows.push(Vec::new());
                    out.len() - 1
                }
            }
        };
        for i in 0..o.len() {
            if o.value[i].is_some() {
                values[o.ret[i] as usize] += 1;
            }
            if !batch.counts(i, schemas) {
                continue;
            }
            let k = place(&mut out, &mut rows, o.month[i]);
            rows[k].push((
                key(o.unit[i], o.form[i], o.field[i]),
                o.value[i].unwrap_or_default(),
                batch.overlapped.contains(&(o.ret[i], o.unit[i])),
            ));
        }
        for (r, ret) in batch.returns.iter().enumerate() {
            let k = place(&mut out, &mut rows, ret.month);
            let id = ids.get(r).copied().unwrap_or_default();
            out[k].returns.push((id.to_string(), values[r]));
            out[k].counts |= ret.status == crate::observation::ReturnStatus::Active;
        }
        for (m, mut rows) in out.iter_mut().zip(rows) {
            // Stable: a key's figures stay in the table's order.
            rows.sort_by_key(|r| r.0);
            (m.rows, m.apart) = set_apart(rows);
            m.returns.sort();
        }
        out.sort_by_key(|m| m.month);
        out
    }

    /// The rows the roll-up counts: every row but those [`Self::apart`].
    pub fn rolled(&self) -> impl Iterator<Item = (u64, f64)> + '_ {
        let mut apart = self.apart.iter().peekable();
        self.rows.iter().enumerate().filter_map(move |(i, &r)| {
            if apart.peek().is_some_and(|&&a| a as usize == i) {
                apart.next();
                return None;
            }
            Some(r)
        })
    }

    /// The number of values the return `id` reported, where the month
    /// holds it.
    #[must_use]
    pub fn values_of(&self, id: &str) -> Option<u64> {
        self.returns
            .binary_search_by(|(r, _)| r.as_str().cmp(id))
            .ok()
            .map(|k| self.returns[k].1)
    }

    /// The figures of `unit`'s `form`, by field.
    #[must_use]
    pub fn of_unit(&self, unit: UnitIdx, form: FormIdx) -> &[(u64, f64)] {
        let lo = key(unit, form, 0);
        let hi = key(unit, form, FieldIdx::MAX);
        let a = self.rows.partition_point(|r| r.0 < lo);
        let b = self.rows.partition_point(|r| r.0 <= hi);
        &self.rows[a..b]
    }

    /// The file's bytes, naming `fingerprint` (what the store held).
    #[must_use]
    pub fn to_bytes(
        &self,
        fingerprint: &[u8; 32],
        registry: &Registry,
        schemas: &Schemas,
    ) -> Vec<u8> {
        // The units and fields in key order, so that the rows read back
        // sorted under the same registry and forms.
        let mut units: Vec<UnitIdx> = self.rows.iter().map(|r| unit_of(r.0)).collect();
        units.dedup();
        let mut fields: Vec<u32> = self
            .rows
            .iter()
            .map(|r| (r.0 & 0xffff_ffff) as u32)
            .collect();
        fields.sort_unstable();
        fields.dedup();
        let mut out = Vec::with_capacity(64 + units.len() * 8 + self.rows.len() * 14);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(fingerprint);
        out.extend_from_slice(&self.month.0.to_le_bytes());
        out.extend_from_slice(&(units.len() as u32).to_le_bytes());
        for &u in &units {
            out.extend_from_slice(&registry.unit(u).code.0.to_le_bytes());
        }
        out.extend_from_slice(&(fields.len() as u32).to_le_bytes());
        for &ff in &fields {
            let form = schemas.form((ff >> 16) as FormIdx);
            for id in [&*form.id, &*form.field((ff & 0xffff) as FieldIdx).id] {
                out.extend_from_slice(&(id.len() as u16).to_le_bytes());
                out.extend_from_slice(id.as_bytes());
            }
        }
        out.extend_from_slice(&(self.rows.len() as u64).to_le_bytes());
        let mut u = 0;
        for r in &self.rows {
            while units[u] != unit_of(r.0) {
                u += 1;
            }
            out.extend_from_slice(&(u as u32).to_le_bytes());
        }
        for r in &self.rows {
            let ff = (r.0 & 0xffff_ffff) as u32;
            let k = fields.binary_search(&ff).unwrap_or_default();
            out.extend_from_slice(&(k as u16).to_le_bytes());
        }
        for r in &self.rows {
            out.extend_from_slice(&r.1.to_le_bytes());
        }
        out.extend_from_slice(&(self.apart.len() as u32).to_le_bytes());
        for &a in &self.apart {
            out.extend_from_slice(&a.to_le_bytes());
        }
        out.extend_from_slice(&(self.returns.len() as u32).to_le_bytes());
        for (id, n) in &self.returns {
            // A submission id is a hash and a sheet's name, far below 64 KiB.
            let id = &id.as_bytes()[..id.len().min(usize::from(u16::MAX))];
            out.extend_from_slice(&(id.len() as u16).to_le_bytes());
            out.extend_from_slice(id);
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.push(u8::from(self.counts));
        let check = fnv(&out);
        out.extend_from_slice(&check.to_le_bytes());
        out
    }

    /// The month a file holds, when it reads whole, is of `month` and
    /// names `fingerprint`; its units and fields in this registry and these
    /// forms (one no longer known is left out, as a stored figure is).
    #[must_use]
    pub fn from_bytes(
        bytes: &[u8],
        month: Month,
        fingerprint: &[u8; 32],
        registry: &Registry,
        schemas: &Schemas,
    ) -> Option<CountedMonth> {
        let body = bytes.len().checked_sub(8)?;
        let check = u64::from_le_bytes(bytes[body..].try_into().ok()?);
        if fnv(&bytes[..body]) != check {
            return None;
        }
        let mut r = Reader(&bytes[..body]);
        if r.take(16)? != MAGIC
            || r.u32()? != VERSION
            || r.take(32)? != fingerprint
            || r.take(4)? != month.0.to_le_bytes()
        {
            return None;
        }
        let n = r.u32()? as usize;
        let units: Vec<Option<UnitIdx>> = r
            .take(n.checked_mul(8)?)?
            .chunks_exact(8)
            .map(|c| registry.by_code(UnitCode(u64::from_le_bytes(c.try_into().ok()?))))
            .collect();
        let n = r.u32()? as usize;
        let mut fields: Vec<Option<(FormIdx, FieldIdx)>> = Vec::with_capacity(n);
        for _ in 0..n {
            let form = std::str::from_utf8(r.str()?).ok()?;
            let field = std::str::from_utf8(r.str()?).ok()?;
            fields.push(schemas.form_idx(form).and_then(|fi| {
                let f = schemas.form(fi);
                let x = f.field_idx(field)?;
                // A rate is computed, never counted.
                (f.field(x).kind != Kind::Rate).then_some((fi, x))
            }));
        }
        let n = usize::try_from(r.u64()?).ok()?;
        let unit_no = r.take(n.checked_mul(4)?)?;
        let field_no = r.take(n.checked_mul(2)?)?;
        let values = r.take(n.checked_mul(8)?)?;
        let n_apart = r.u32()? as usize;
        let apart_at: Vec<u32> = r
            .take(n_apart.checked_mul(4)?)?
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect();
        let n_returns = r.u32()? as usize;
        let mut returns = Vec::with_capacity(n_returns);
        for _ in 0..n_returns {
            let id = std::str::from_utf8(r.str()?).ok()?.to_string();
            returns.push((id, r.u64()?));
        }
        let counts = match r.take(1)? {
            [0] => false,
            [1] => true,
            _ => return None,
        };
        if !r.0.is_empty() || !returns.is_sorted() || !apart_at.is_sorted() {
            return None;
        }
        let mut apart_at = apart_at.into_iter().peekable();
        // Each row kept, and the places of those the roll-up leaves out,
        // made at once: as rows flagged, then split, a city's history
        // month was 2.3 MB more to fault in and copy, nine of them in its
        // 2026Q4 from the store (load 72 ms → 69, medians of sixteen runs
        // alternating, 2 threads).
        let mut rows: Vec<(u64, f64)> = Vec::with_capacity(n);
        let mut apart: Vec<u32> = Vec::with_capacity(n_apart);
        for (i, ((u, f), v)) in unit_no
            .chunks_exact(4)
            .zip(field_no.chunks_exact(2))
            .zip(values.chunks_exact(8))
            .enumerate()
        {
            let is_apart = apart_at.next_if(|&a| a as usize == i).is_some();
            let u = *units.get(u32::from_le_bytes(u.try_into().ok()?) as usize)?;
            let f = *fields.get(usize::from(u16::from_le_bytes(f.try_into().ok()?)))?;
            if let (Some(u), Some((form, field))) = (u, f) {
                if is_apart {
                    apart.push(u32::try_from(rows.len()).ok()?);
                }
                rows.push((key(u, form, field), f64::from_le_bytes(v.try_into().ok()?)));
            }
        }
        // Every place apart is a row's.
        if apart_at.next().is_some() {
            return None;
        }
        // Sorted as written, unless the registry or the forms now number
        // their units or fields otherwise: then sorted with their places
        // apart (stable, a key's figures in the order written).
        if !rows.is_sorted_by_key(|r| r.0) {
            let mut set = apart.iter().copied().peekable();
            let mut flagged: Vec<(u64, f64, bool)> = rows
                .iter()
                .enumerate()
                .map(|(i, &(k, v))| (k, v, set.next_if(|&a| a as usize == i).is_some()))
                .collect();
            flagged.sort_by_key(|r| r.0);
            (rows, apart) = set_apart(flagged);
        }
        Some(CountedMonth {
            month,
            rows,
            apart,
            returns,
            counts,
        })
    }

    /// The month in the file at `path` (see [`CountedMonth::from_bytes`]);
    /// `None` for a file that is not there or does not read.
    #[must_use]
    pub fn read(
        path: &Path,
        month: Month,
        fingerprint: &[u8; 32],
        registry: &Registry,
        schemas: &Schemas,
    ) -> Option<CountedMonth> {
        let bytes = std::fs::read(path).ok()?;
        CountedMonth::from_bytes(&bytes, month, fingerprint, registry, schemas)
    }
}

/// FNV-1a over 8-byte words (the last one padded with zeros): a check
/// against a torn or damaged file, not against tampering.
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in bytes.chunks(8) {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        h ^= u64::from_le_bytes(w);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^ bytes.len() as u64
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<&'a [u8]> {
        let n = u16::from_le_bytes(self.take(2)?.try_into().ok()?);
        self.take(usize::from(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "code,name,level,parent_code,aliases
439900000000,青山市,city,,
439902000000,东湖区,county,439900000000,
439902001000,城东街道,township,439902000000,
439902001001,东门社区,village,439902001000,
439902001201,新村,village,439902001000,
";

    fn month_of(registry: &Registry, schemas: &Schemas) -> CountedMonth {
        let form = schemas.form_idx("family_doctor").unwrap();
        let f = schemas.form(form);
        let (pop, signed) = (
            f.field_idx("resident_pop").unwrap(),
            f.field_idx("signed").unwrap(),
        );
        let unit = |code| registry.by_code(UnitCode(code)).unwrap();
        let (a, b) = (unit(439_902_001_001), unit(439_902_001_201));
        let mut rows = vec![
            (key(b, form, signed), 100.0),
            (key(a, form, pop), 1000.0),
            (key(a, form, signed), 400.0),
            // A unit counted twice in a month (its own return and its
            // township's): both kept, in the table's order.
            (key(a, form, signed), 7.5),
            (key(b, form, pop), 500.0),
        ];
        rows.sort_by_key(|r| r.0);
        // 东门社区's 7.5 is a row its children count already.
        let apart = vec![rows.iter().position(|r| r.1 == 7.5).unwrap() as u32];
        CountedMonth {
            month: Month::new(2026, 3).unwrap(),
            rows,
            apart,
            returns: vec![("abc:免疫".to_string(), 12), ("def:家医".to_string(), 4)],
            counts: true,
        }
    }

    #[test]
    fn a_month_reads_back_as_written_and_only_for_what_it_was_made_from() {
        let schemas = Schemas::builtin().unwrap();
        let registry = Registry::from_csv(CSV.as_bytes(), "units.csv").unwrap();
        let m = month_of(&registry, &schemas);
        let fp = [7u8; 32];
        let bytes = m.to_bytes(&fp, &registry, &schemas);
        let read = |b: &[u8], month, fp: &[u8; 32]| {
            CountedMonth::from_bytes(b, month, fp, &registry, &schemas)
        };
        assert_eq!(read(&bytes, m.month, &fp), Some(m.clone()));
        // Another store's, another month's, or a torn or damaged file: none.
        assert_eq!(read(&bytes, m.month, &[8u8; 32]), None);
        assert_eq!(read(&bytes, Month::new(2026, 4).unwrap(), &fp), None);
        for n in 0..bytes.len() {
            assert_eq!(read(&bytes[..n], m.month, &fp), None, "cut at {n}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            assert_eq!(read(&b, m.month, &fp), None, "byte {i}");
        }
        // The rows of one unit and form, by field.
        let form = schemas.form_idx("family_doctor").unwrap();
        let a = registry.by_code(UnitCode(439_902_001_001)).unwrap();
        let values: Vec<f64> = m.of_unit(a, form).iter().map(|r| r.1).collect();
        assert_eq!(values.len(), 3);
        assert!(values.contains(&1000.0));
        let signed = schemas.form(form).field_idx("signed").unwrap();
        let signed: Vec<f64> = m
            .of_unit(a, form)
            .iter()
            .filter(|r| field_of(r.0) == signed)
            .map(|r| r.1)
            .collect();
        assert_eq!(signed, [400.0, 7.5]);
        // The roll-up's rows: all but the one apart.
        let rolled: Vec<f64> = m.rolled().map(|r| r.1).collect();
        assert_eq!(rolled.len(), 4);
        assert!(!rolled.contains(&7.5));
        // Each return's values, by its id.
        assert_eq!(m.values_of("abc:免疫"), Some(12));
        assert_eq!(m.values_of("def:家医"), Some(4));
        assert_eq!(m.values_of("xyz:免疫"), None);
    }

    #[test]
    fn a_unit_the_registry_no_longer_holds_is_left_out() {
        let schemas = Schemas::builtin().unwrap();
        let registry = Registry::from_csv(CSV.as_bytes(), "units.csv").unwrap();
        let m = month_of(&registry, &schemas);
        let fp = [1u8; 32];
        let bytes = m.to_bytes(&fp, &registry, &schemas);
        // 新村 gone, and 东门社区 numbered otherwise (listed after a new village).
        let smaller = Registry::from_csv(
            "code,name,level,parent_code,aliases
439900000000,青山市,city,,
439902000000,东湖区,county,439900000000,
439902001000,城东街道,township,439902000000,
439902001002,西门社区,village,439902001000,
439902001001,东门社区,village,439902001000,
"
            .as_bytes(),
            "units.csv",
        )
        .unwrap();
        let read = CountedMonth::from_bytes(&bytes, m.month, &fp, &smaller, &schemas).unwrap();
        let form = schemas.form_idx("family_doctor").unwrap();
        let a = smaller.by_code(UnitCode(439_902_001_001)).unwrap();
        assert_eq!(read.rows.len(), 3);
        assert!(read.rows.iter().all(|r| unit_of(r.0) == a));
        assert_eq!(read.of_unit(a, form).len(), 3);
        // The row apart is still apart once the others are numbered anew.
        let rolled: Vec<f64> = read.rolled().map(|r| r.1).collect();
        assert_eq!(rolled.len(), 2);
        assert!(rolled.contains(&1000.0) && rolled.contains(&400.0));
        assert_eq!(read.returns, m.returns);
    }

    #[test]
    fn rows_read_under_units_numbered_the_other_way_are_sorted_again_with_the_row_apart() {
        let schemas = Schemas::builtin().unwrap();
        let registry = Registry::from_csv(CSV.as_bytes(), "units.csv").unwrap();
        let m = month_of(&registry, &schemas);
        let fp = [3u8; 32];
        let bytes = m.to_bytes(&fp, &registry, &schemas);
        // 新村 now numbered before 东门社区: the rows as written are out of
        // order under the new numbers.
        let swapped = Registry::from_csv(
            "code,name,level,parent_code,aliases
439900000000,青山市,city,,
439902000000,东湖区,county,439900000000,
439902001000,城东街道,township,439902000000,
439902001201,新村,village,439902001000,
439902001001,东门社区,village,439902001000,
"
            .as_bytes(),
            "units.csv",
        )
        .unwrap();
        let read = CountedMonth::from_bytes(&bytes, m.month, &fp, &swapped, &schemas).unwrap();
        assert_eq!(read.rows.len(), 5);
        assert!(read.rows.is_sorted_by_key(|r| r.0));
        let (a, b) = (
            swapped.by_code(UnitCode(439_902_001_001)).unwrap(),
            swapped.by_code(UnitCode(439_902_001_201)).unwrap(),
        );
        assert!(b < a);
        assert_eq!(unit_of(read.rows[0].0), b);
        // Only 东门社区's 7.5 is apart, and its 400 still comes before it.
        assert_eq!(read.apart.len(), 1);
        assert_eq!(read.rows[read.apart[0] as usize].1, 7.5);
        let form = schemas.form_idx("family_doctor").unwrap();
        let signed = schemas.form(form).field_idx("signed").unwrap();
        let a_signed: Vec<f64> = read
            .of_unit(a, form)
            .iter()
            .filter(|r| field_of(r.0) == signed)
            .map(|r| r.1)
            .collect();
        assert_eq!(a_signed, [400.0, 7.5]);
        let mut rolled: Vec<f64> = read.rolled().map(|r| r.1).collect();
        rolled.sort_by(f64::total_cmp);
        assert_eq!(rolled, [100.0, 400.0, 500.0, 1000.0]);
    }
}
