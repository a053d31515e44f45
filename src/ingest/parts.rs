//! The official vaccination workbook of three sheets, 本地 (local
//! children), 流动 (floating children) and 合计 (FORMS.md §3.1): one
//! return, never three. The 合计 sheet is the return; 本地 + 流动 = 合计 is
//! checked cell by cell, a difference a `total_mismatch` at the 合计 cell
//! naming both sheets. Without a 合计 sheet, 本地 + 流动 is the return.
//!
//! Each sheet was read as any return is (its own rows, 合计 row and
//! relations checked, its bad cells named on it); here the parts of one
//! unit, form and month in one workbook become one return before the
//! batch sees them, so they are never a `duplicate_return`.

use std::collections::HashMap;

use super::FileOut;
use crate::findings::{CellRef, Finding, Rule};
use crate::message::Detail;
use crate::observation::{Observations, Return};
use crate::registry::Registry;
use crate::schema::{FieldIdx, Schemas};

/// Which part of the three-sheet workbook a sheet is, by its name (or a
/// block of columns, by its label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Local,
    Floating,
    Total,
}

impl Part {
    /// The other of 本地 and 流动: the part that, with no 合计, is added to
    /// this one to make the return.
    pub(super) fn other(self) -> Option<Part> {
        match self {
            Part::Local => Some(Part::Floating),
            Part::Floating => Some(Part::Local),
            Part::Total => None,
        }
    }
}

/// A sheet name's part, or a block label's: 本地 (户籍), 流动 (外来, 外地,
/// and 非户籍 or 非本地, which are no 本地), 合计 (总计, 合并).
pub(super) fn part_of(sheet: &str) -> Option<Part> {
    let name = crate::normalize::compact(sheet);
    // 非户籍儿童 are the floating children: taken for 本地 by its 户籍, the
    // block was a second 本地, not read, and they were counted nowhere.
    let name = name.replace("非户籍", "流动").replace("非本地", "流动");
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    match (
        has(&["本地", "户籍"]),
        has(&["流动", "外来", "外地"]),
        has(&["合计", "总计", "合并"]),
    ) {
        (true, false, false) => Some(Part::Local),
        (false, true, false) => Some(Part::Floating),
        (false, false, true) => Some(Part::Total),
        _ => None,
    }
}

/// Whether a label over a block of columns (本地儿童 | 流动儿童 | 合计 side
/// by side on one sheet) names the 合计 part, as a sheet's name would: of a
/// field's columns, that block's is the field's.
pub(super) fn names_total(label: &str) -> bool {
    part_of(label) == Some(Part::Total)
}

/// A return's figures by unit and field, with their cells.
fn figures(obs: &Observations, ret: usize) -> HashMap<(u32, FieldIdx), (Option<f64>, CellRef)> {
    (0..obs.len())
        .filter(|&i| obs.ret[i] as usize == ret)
        .map(|i| ((obs.unit[i], obs.field[i]), (obs.value[i], obs.cell[i])))
        .collect()
}

/// Makes the parts of each unit, form and month of one workbook one
/// return: see the module's documentation.
pub(super) fn merge(out: &mut FileOut, display: &str, registry: &Registry, schemas: &Schemas) {
    // The parts of each return of this workbook.
    type Key = (u32, u16, crate::period::Month);
    let mut groups: Vec<(Key, Vec<(Part, usize)>)> = Vec::new();
    for (i, r) in out.returns.iter().enumerate() {
        let Some(part) = part_of(&r.sheet) else {
            continue;
        };
        let key = (r.unit, r.form, r.month);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, parts)) => parts.push((part, i)),
            None => groups.push((key, vec![(part, i)])),
        }
    }
    let mut dropped: Vec<usize> = Vec::new();
    for (_, parts) in groups {
        let one = |p: Part| {
            let mut of = parts.iter().filter(|(q, _)| *q == p).map(|&(_, i)| i);
            match (of.next(), of.next()) {
                (Some(i), None) => Some(Some(i)),
                (None, _) => Some(None),
                // Two sheets of one part: not the official workbook.
                _ => None,
            }
        };
        let (Some(local), Some(floating), Some(total)) =
            (one(Part::Local), one(Part::Floating), one(Part::Total))
        else {
            continue;
        };
        if parts.len() < 2 {
            continue;
        }
        match total {
            Some(t) => {
                check_total(out, display, schemas, t, local, floating, false);
                dropped.extend(local);
                dropped.extend(floating);
            }
            None => {
                // 本地 + 流动 is the return, named for both sheets.
                let (Some(l), Some(f)) = (local, floating) else {
                    continue;
                };
                add_part(out, schemas, l, f);
                let name = format!("{}+{}", out.returns[l].sheet, out.returns[f].sheet);
                out.returns[l].sheet = name;
                dropped.push(f);
            }
        }
    }
    // Each village's 本地 | 流动 | 合计 rows (a 类别 column): the 合计 rows
    // are the return, checked against the other two.
    for (t, l, f) in std::mem::take(&mut out.row_parts) {
        check_total(out, display, schemas, t, Some(l), Some(f), true);
        dropped.extend([l, f]);
    }
    // 本地 | 流动 blocks of columns on one sheet, with no 合计 block.
    for (l, f) in std::mem::take(&mut out.beside) {
        add_part(out, schemas, l, f);
        dropped.push(f);
    }
    // A row per unit and group: the groups' readings are one return, each
    // 合计 row already its own group's (their sums and totals go over).
    let mut grouped_away: Vec<usize> = Vec::new();
    for group in std::mem::take(&mut out.grouped) {
        if let [first, rest @ ..] = group.as_slice() {
            for &g in rest {
                join_group(out, *first, g);
                grouped_away.push(g);
            }
        }
    }
    // A part set aside, or added to another, had its own 合计 row: checked
    // against its own unit rows here, as the return it is no longer.
    for &d in &dropped {
        let found = crate::validate::totals::of_return(display, &out.returns[d], registry, schemas);
        out.findings.extend(found);
    }
    dropped.extend(grouped_away);
    remove_returns(out, &dropped);
}

/// Joins return `g`, one group's rows of a sheet, into `first`, another's
/// of the same sheet: its fields come over with their cells, and so do
/// its 合计 cells and column sums. A field of no group both read (35岁及以上
/// 常住人口数 on each disease's row) stays `first`'s where that has it.
fn join_group(out: &mut FileOut, first: usize, g: usize) {
    // `first`'s figure of each unit and field, by its place.
    let mine: HashMap<(u32, FieldIdx), usize> = (0..out.obs.len())
        .filter(|&k| out.obs.ret[k] as usize == first)
        .map(|k| ((out.obs.unit[k], out.obs.field[k]), k))
        .collect();
    for i in 0..out.obs.len() {
        if out.obs.ret[i] as usize != g {
            continue;
        }
        match mine.get(&(out.obs.unit[i], out.obs.field[i])) {
            // The first left it empty: the other's figure, at its cell.
            Some(&k) if out.obs.value[k].is_none() && out.obs.value[i].is_some() => {
                out.obs.value[k] = out.obs.value[i];
                out.obs.cell[k] = out.obs.cell[i];
            }
            Some(_) => {}
            None => out.obs.ret[i] = first as u32,
        }
    }
    // The readings of one sheet come in order: `first` before `g`.
    let (a, b) = out.returns.split_at_mut(g);
    let (mine, theirs) = (&mut a[first], &mut b[0]);
    for t in std::mem::take(&mut theirs.totals) {
        match mine.totals.iter_mut().find(|m| m.field == t.field) {
            Some(m) if m.value.is_none() => *m = t,
            Some(_) => {}
            None => mine.totals.push(t),
        }
    }
    for s in std::mem::take(&mut theirs.row_sums) {
        match mine.row_sums.iter_mut().find(|m| m.field == s.field) {
            Some(m) if m.sum.is_none() && !m.unreadable => *m = s,
            Some(_) => {}
            None => mine.row_sums.push(s),
        }
    }
    for c in std::mem::take(&mut theirs.columns) {
        if !mine.columns.iter().any(|m| m.0 == c.0) {
            mine.columns.push(c);
        }
    }
    for u in std::mem::take(&mut theirs.suggested) {
        if !mine.suggested.contains(&u) {
            mine.suggested.push(u);
        }
    }
    mine.total_row = mine.total_row.or(theirs.total_row);
}

/// Adds part `f` (流动, or 本地) to return `l`: one figure per unit and
/// field, the sum of what either reported, at `l`'s cell; a unit or field
/// only `f` reported comes over with its own cell. A rate is no sum: each
/// part's is its own ratio, so where `f` reported a unit's figures, `l`'s
/// rates of it are not reported (the rates are recomputed from the sums;
/// the sheets' own were checked as each was read).
fn add_part(out: &mut FileOut, schemas: &Schemas, l: usize, f: usize) {
    let form = schemas.form(out.returns[l].form);
    let theirs = figures(&out.obs, f);
    let units_of_f: std::collections::HashSet<u32> = theirs
        .iter()
        .filter(|(_, (v, _))| v.is_some())
        .map(|((u, _), _)| *u)
        .collect();
    for i in 0..out.obs.len() {
        if out.obs.ret[i] as usize != l {
            continue;
        }
        let key = (out.obs.unit[i], out.obs.field[i]);
        if form.field(key.1).kind == crate::schema::Kind::Rate {
            if units_of_f.contains(&key.0) {
                out.obs.value[i] = None;
            }
            continue;
        }
        if let Some((Some(x), _)) = theirs.get(&key) {
            out.obs.value[i] = Some(out.obs.value[i].unwrap_or(0.0) + x);
        }
    }
    let mine = figures(&out.obs, l);
    let extra: Vec<usize> = (0..out.obs.len())
        .filter(|&i| out.obs.ret[i] as usize == f)
        .filter(|&i| !mine.contains_key(&(out.obs.unit[i], out.obs.field[i])))
        .collect();
    for i in extra {
        out.obs.ret[i] = l as u32;
    }
}

/// 本地 + 流动 = 合计, cell by cell where all three are reported.
fn check_total(
    out: &mut FileOut,
    display: &str,
    schemas: &Schemas,
    total: usize,
    local: Option<usize>,
    floating: Option<usize>,
    as_rows: bool,
) {
    let (Some(l), Some(f)) = (local, floating) else {
        return;
    };
    let (lf, ff) = (figures(&out.obs, l), figures(&out.obs, f));
    let t: &Return = &out.returns[total];
    let form = schemas.form(t.form);
    let mut found: Vec<Finding> = Vec::new();
    let mut rows: Vec<(u32, FieldIdx, Option<f64>, CellRef)> = (0..out.obs.len())
        .filter(|&i| out.obs.ret[i] as usize == total)
        .map(|i| {
            (
                out.obs.unit[i],
                out.obs.field[i],
                out.obs.value[i],
                out.obs.cell[i],
            )
        })
        .collect();
    rows.sort_by_key(|r| (r.3.row, r.3.col));
    for (unit, field, value, cell) in rows {
        let (Some(sum), Some((Some(a), ca)), Some((Some(b), cb))) =
            (value, lf.get(&(unit, field)), ff.get(&(unit, field)))
        else {
            continue;
        };
        // Counts add up; rates do not (each sheet's is its own ratio).
        if form.field(field).kind == crate::schema::Kind::Rate || (a + b - sum).abs() < 0.5 {
            continue;
        }
        let detail = Detail::PartsMismatch {
            label: form.field(field).label(),
            total: sum,
            local: (out.returns[l].sheet.clone(), *ca, *a),
            floating: (out.returns[f].sheet.clone(), *cb, *b),
            rows: as_rows,
        };
        found.push(
            Finding::new(Rule::TotalMismatch, detail)
                .file(display)
                .sheet(&t.sheet)
                .cell(cell)
                .form(&form.id)
                .period(t.month)
                .field(&form.field(field).id)
                .value(crate::message::num(sum)),
        );
    }
    out.findings.extend(found);
}

/// Takes the returns at `dropped` and their figures out, renumbering the
/// rest.
fn remove_returns(out: &mut FileOut, dropped: &[usize]) {
    if dropped.is_empty() {
        return;
    }
    let mut new_index: Vec<Option<u32>> = Vec::with_capacity(out.returns.len());
    let mut next = 0u32;
    for i in 0..out.returns.len() {
        if dropped.contains(&i) {
            new_index.push(None);
        } else {
            new_index.push(Some(next));
            next += 1;
        }
    }
    let old = std::mem::take(&mut out.obs);
    for i in 0..old.len() {
        if let Some(r) = new_index[old.ret[i] as usize] {
            out.obs.push(
                old.unit[i],
                old.form[i],
                old.field[i],
                old.month[i],
                old.value[i],
                r,
                old.cell[i],
            );
        }
    }
    let mut k = 0;
    out.returns.retain(|_| {
        let keep = new_index[k].is_some();
        k += 1;
        keep
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheets_are_parts_by_their_names() {
        assert_eq!(part_of("本地"), Some(Part::Local));
        assert_eq!(part_of("本地儿童"), Some(Part::Local));
        assert_eq!(part_of(" 流动 "), Some(Part::Floating));
        assert_eq!(part_of("户籍儿童"), Some(Part::Local));
        assert_eq!(part_of("非户籍儿童"), Some(Part::Floating));
        assert_eq!(part_of("非本地"), Some(Part::Floating));
        assert_eq!(part_of("外地儿童"), Some(Part::Floating));
        assert_eq!(part_of("合计"), Some(Part::Total));
        assert_eq!(part_of("免疫"), None);
        assert_eq!(part_of("本地流动合计"), None);
    }
}
