//! A return about one unit with the fields as rows (FORMS.md §2): a
//! village's own sheet, or a township that sends its total —
//!
//! ```text
//! 项目             应种人数  实种人数  接种率(%)        指标              数值
//! 乙肝疫苗第1剂       30        29      96.7          常住人口数        3,000
//! 卡介苗              28        28     100.0    or    签约人数          1,230
//! …                                                   …
//! ```
//!
//! Found only where no header of the usual layout is: by the same labels,
//! aliases and normalisation as a header's (a group in the first column
//! joined with a sub-header above, or a whole label in one cell). Each
//! figure is read as a unit row's is ([`super::rows`]): the cells are put
//! side by side in a row of their own, read, and every cell named again by
//! its place on the sheet.

use calamine::{Data, Range};

use super::grid::Grid;
use super::header::Header;
use crate::findings::CellRef;
use crate::normalize;
use crate::schema::{FieldIdx, FormIdx, Schemas};

/// What was found: the form, each field's cell, and the first row of the
/// labels (the lines above it are the title, 填报单位 and 报告期).
pub(super) struct Rowwise {
    pub form: FormIdx,
    pub cells: Vec<(FieldIdx, CellRef)>,
    pub first_row: u32,
    /// 本地 | 流动 side by side with no 合计 (FORMS.md §3.1: 本地 + 流动 is
    /// the return): the other part's cell of each field whose cell in
    /// `cells` is under one of them, read as a second part and added.
    pub beside: Vec<(FieldIdx, CellRef)>,
    /// The figure blocks side by side, each under its heading: a column
    /// each (指标 | 本月 | 累计, 指标 | 东门社区 | 新村 | 合计), or a block
    /// of sub-headers each (疫苗 | 东门社区 over 应种 | 实种 | 接种率 | 新村
    /// over its own).
    pub blocks: Vec<Block>,
}

/// One block of figure columns under its heading, and every field's cell
/// in it.
#[derive(Debug, Clone)]
pub(super) struct Block {
    /// The heading's cell, if the block has one.
    pub heading: Option<CellRef>,
    /// Each field's cell in the block.
    pub cells: Vec<(FieldIdx, CellRef)>,
}

/// What one layout found: each field's cell, the first row of the labels,
/// the other part's cells ([`Rowwise::beside`]) and the figure blocks
/// ([`Rowwise::blocks`]).
type Found = (
    Vec<(FieldIdx, CellRef)>,
    u32,
    Vec<(FieldIdx, CellRef)>,
    Vec<Block>,
);

/// Of a field's cell under a block of `part` and the cells of its other
/// blocks (`others`, each with its part), the cell of the other part of
/// 本地 / 流动, where no block is the 合计 (`total_anywhere`).
fn other_part(
    part: Option<super::parts::Part>,
    others: &[(Option<super::parts::Part>, CellRef)],
    total_anywhere: bool,
) -> Option<CellRef> {
    let other = part
        .and_then(super::parts::Part::other)
        .filter(|_| !total_anywhere)?;
    others
        .iter()
        .find(|(p, _)| *p == Some(other))
        .map(|&(_, cell)| cell)
}

/// The fewest fields a sheet must name to be taken for a return.
const LEAST: usize = 3;

/// Whether a cell may hold a figure: a number, a number typed as text, a
/// formula, an error, or nothing (not reported).
fn figure_like(grid: &Grid<'_>, row: u32, col: u32) -> (bool, bool) {
    use super::cells::Cell;
    let c = grid.cell(row, col);
    match c {
        Cell::Number(_) | Cell::Uncached(_) | Cell::Error(_) => (true, true),
        Cell::Empty => (true, false),
        _ => match c.text() {
            Some(t) => {
                let ok = super::cells::parse_count(&c).is_ok()
                    || super::cells::parse_rate(&c).is_ok_and(|r| r.is_some());
                (ok && !t.trim().is_empty(), ok)
            }
            None => (false, false),
        },
    }
}

/// Finds a fields-as-rows return on a sheet that has no usual header.
pub(super) fn find(grid: &Grid<'_>, schemas: &Schemas) -> Option<Rowwise> {
    // Each text's label, made once for every form and both layouts.
    let texts: Vec<(u32, u32, String)> = grid
        .texts_in(grid.first_row()..grid.last_row() + 1)
        .into_iter()
        .map(|(r, c, t)| (r, c, normalize::label(t)))
        .collect();
    let mut best: Option<Rowwise> = None;
    for (fi, form) in schemas.forms.iter().enumerate() {
        let fi = fi as FormIdx;
        for found in [
            whole_labels(grid, &texts, form),
            groups_by_sub_labels(grid, &texts, form),
        ]
        .into_iter()
        .flatten()
        {
            let needed = form.reported_fields().count().min(LEAST);
            if found.0.len() >= needed.max(1)
                && best.as_ref().is_none_or(|b| found.0.len() > b.cells.len())
            {
                best = Some(Rowwise {
                    form: fi,
                    cells: found.0,
                    first_row: found.1,
                    beside: found.2,
                    blocks: found.3,
                });
            }
        }
    }
    best
}

/// Each text (in the order of `texts`: by row, then column) with the
/// labels it may stand for, the most telling first: joined to the text
/// left of it on its row (疫苗名称 | 剂次 as 乙肝疫苗 | 第1剂, a key group |
/// 人数); where its row has none, joined to the last text above in the
/// nearest column left of it that held one (a 疫苗名称 merged down over its
/// doses holds its value in its first row only); then alone. A join only
/// counts where the whole of it is a label, so a 序号 typed as text, or a
/// title above, joined by mistake matches nothing and the text alone is
/// taken.
fn joined(texts: &[(u32, u32, String)]) -> Vec<(u32, u32, Vec<String>)> {
    let mut above: std::collections::BTreeMap<u32, &str> = Default::default();
    let mut out = Vec::with_capacity(texts.len());
    let mut k = 0;
    while k < texts.len() {
        let row = texts[k].0;
        let end = k + texts[k..].partition_point(|t| t.0 == row);
        let line = &texts[k..end];
        for (i, (r, c, label)) in line.iter().enumerate() {
            let left = match i {
                0 => above.range(..*c).next_back().map(|(_, t)| *t),
                _ => Some(line[i - 1].2.as_str()),
            };
            let mut labels: Vec<String> = left.map(|l| format!("{l}{label}")).into_iter().collect();
            labels.push(label.clone());
            out.push((*r, *c, labels));
        }
        for (_, c, label) in line {
            above.insert(*c, label.as_str());
        }
        k = end;
    }
    out
}

/// 指标 | 数值: labels down a column (each whole, or a key group merged
/// down beside its 人数 | 签约人数, see [`joined`]), their figures in the
/// first column to the right that holds figures (or nothing) on three in
/// four of their rows and a figure on at least one (a mistyped cell there
/// is a finding, not a reason to miss the return).
fn whole_labels(
    grid: &Grid<'_>,
    texts: &[(u32, u32, String)],
    form: &crate::schema::Form,
) -> Option<Found> {
    let mut by_col: std::collections::BTreeMap<u32, Vec<(u32, FieldIdx)>> = Default::default();
    for (r, c, labels) in joined(texts) {
        if let Some(f) = labels.iter().find_map(|l| form.match_label(l)) {
            if !form.field(f).derived {
                by_col.entry(c).or_default().push((r, f));
            }
        }
    }
    let value_col_of = |col: u32, rows: &[(u32, FieldIdx)]| {
        grid.cols().filter(|&c| c > col).find(|&c| {
            let looks: Vec<(bool, bool)> =
                rows.iter().map(|&(r, _)| figure_like(grid, r, c)).collect();
            let fits = looks.iter().filter(|l| l.0).count();
            fits * 4 >= looks.len() * 3 && looks.iter().any(|l| l.1)
        })
    };
    // The column naming the most fields (not rows: ten 签约人数 under ten
    // key groups are one field alone), and the column of its figures.
    let fields_named = |rows: &[(u32, FieldIdx)]| {
        let mut f: Vec<FieldIdx> = rows.iter().map(|&(_, f)| f).collect();
        f.sort_unstable();
        f.dedup();
        f.len()
    };
    let (&col, rows) = by_col.iter().max_by_key(|(_, v)| fields_named(v))?;
    let value_col = value_col_of(col, rows)?;
    // Labels in other columns with their figures in the same one are read
    // too: a 常住人口数 merged across the group and sub-label columns
    // beside the key groups' 人数 | 签约人数.
    let mut rows: Vec<(u32, FieldIdx)> = by_col
        .iter()
        .filter(|&(&c, v)| c == col || (c < value_col && value_col_of(c, v) == Some(value_col)))
        .flat_map(|(_, v)| v.iter().copied())
        .collect();
    rows.sort_by_key(|&(r, _)| r);
    let first = rows.iter().map(|&(r, _)| r).min()?;
    // 指标 | 本月 | 本年累计, or | 本地 | 流动 | 合计: the figure columns side
    // by side from the first, each under its heading (the text just above
    // the labels), and each field's read from the one its kind takes
    // (`header::block_rank`). Under no heading, the first.
    let heading_at = |c: u32| {
        (first.saturating_sub(2)..first)
            .rev()
            .find_map(|r| grid.cell(r, c).text().map(|t| (r, normalize::label(t))))
    };
    let heading = |c: u32| heading_at(c).map(|(_, h)| h);
    let mut columns: Vec<(u32, Option<String>)> = vec![(value_col, heading(value_col))];
    for c in value_col + 1.. {
        if !grid.cols().any(|k| k == c) || value_col_of(c - 1, &rows) != Some(c) {
            break;
        }
        match heading(c) {
            Some(h) => columns.push((c, Some(h))),
            None => break,
        }
    }
    let side_by_side: Vec<Block> = columns
        .iter()
        .map(|&(c, _)| Block {
            heading: heading_at(c).map(|(row, _)| CellRef { row, col: c }),
            cells: rows
                .iter()
                .map(|&(row, f)| (f, CellRef { row, col: c }))
                .collect(),
        })
        .collect();
    let part_of = |h: &Option<String>| h.as_deref().and_then(super::parts::part_of);
    let total_anywhere = columns
        .iter()
        .any(|(_, h)| part_of(h) == Some(super::parts::Part::Total));
    let mut cells: Vec<(FieldIdx, CellRef)> = Vec::new();
    let mut beside: Vec<(FieldIdx, CellRef)> = Vec::new();
    for &(r, f) in &rows {
        if cells.iter().any(|(g, _)| *g == f) {
            continue;
        }
        let kind = form.field(f).kind;
        let best = columns
            .iter()
            .enumerate()
            .filter_map(|(k, (c, h))| {
                let rank = super::header::block_rank(h.as_deref().into_iter(), kind)?;
                Some((rank, std::cmp::Reverse(*c), k))
            })
            .max();
        if let Some((_, std::cmp::Reverse(c), k)) = best {
            cells.push((f, CellRef { row: r, col: c }));
            let others: Vec<_> = columns
                .iter()
                .filter(|(oc, _)| *oc != c)
                .map(|(oc, h)| (part_of(h), CellRef { row: r, col: *oc }))
                .collect();
            if let Some(cell) = other_part(part_of(&columns[k].1), &others, total_anywhere) {
                beside.push((f, cell));
            }
        }
    }
    Some((cells, first.saturating_sub(1), beside, side_by_side))
}

/// 项目 | 应种人数 | 实种人数 | 接种率: the sub-headers across one row, the
/// groups down the column left of them; a field is its group and
/// sub-header joined.
fn groups_by_sub_labels(
    grid: &Grid<'_>,
    texts: &[(u32, u32, String)],
    form: &crate::schema::Form,
) -> Option<Found> {
    // The row with the most sub-headers, each with the period word it may
    // open with (本月应种人数 | 累计应种人数).
    type Sub<'t> = (u32, &'t str, Option<&'t str>);
    let mut per_row: std::collections::BTreeMap<u32, Vec<Sub<'_>>> = Default::default();
    for (r, c, label) in texts {
        let sub = if form.is_sub_label(label) {
            Some((label.as_str(), None))
        } else {
            super::header::period_word(label)
                .filter(|(_, rest)| form.is_sub_label(rest))
                .map(|(word, rest)| (rest, Some(word)))
        };
        if let Some((sub, word)) = sub {
            per_row.entry(*r).or_default().push((*c, sub, word));
        }
    }
    let (&head, sub_cols) = per_row.iter().max_by_key(|(_, v)| v.len())?;
    if sub_cols.len() < 2 {
        return None;
    }
    let first_sub = sub_cols.iter().map(|(c, _, _)| *c).min()?;
    // The label over each sub-header's block, carried across its merged
    // span (本地儿童 | 流动儿童 | 合计, or 本月 | 累计, over their 应种 / 实种):
    // with the sub-header's own period word, the blocks that say which of
    // a field's columns is read (`header::block_rank`).
    let over: Vec<(u32, &str)> = texts
        .iter()
        .filter(|(r, _, _)| head > 0 && *r == head - 1)
        .map(|(_, c, t)| (*c, t.as_str()))
        .collect();
    let block_of = |col: u32| over.iter().rev().find(|(c, _)| *c <= col).map(|(_, t)| *t);
    let rank = |col: u32, word: Option<&str>, f: FieldIdx| {
        super::header::block_rank(block_of(col).into_iter().chain(word), form.field(f).kind)
    };
    let part_at = |col: u32| block_of(col).and_then(super::parts::part_of);
    let total_anywhere = sub_cols
        .iter()
        .any(|&(c, _, _)| part_at(c) == Some(super::parts::Part::Total));
    let mut cells: Vec<(FieldIdx, CellRef)> = Vec::new();
    let mut ranks: Vec<u8> = Vec::new();
    // Every cell a field was found at, with its block's part.
    let mut all: Vec<(FieldIdx, Option<super::parts::Part>, CellRef)> = Vec::new();
    let groups: Vec<(u32, u32, String)> = texts
        .iter()
        .filter(|(r, c, _)| *r > head && *c < first_sub)
        .cloned()
        .collect();
    for (r, _, names) in joined(&groups) {
        for &(sc, sub, word) in sub_cols {
            let found = names
                .iter()
                .find_map(|group| form.match_label(&format!("{group}{sub}")));
            if let Some((f, rank)) = found.and_then(|f| Some((f, rank(sc, word, f)?))) {
                all.push((f, part_at(sc), CellRef { row: r, col: sc }));
                let had = cells.iter().position(|(g, _)| *g == f);
                let replaces = had.is_some_and(|k| rank > ranks[k]);
                if !form.field(f).derived && (had.is_none() || replaces) {
                    // A figure, nothing, or a mistyped figure (约20), which
                    // reading names at its cell; never another label.
                    let (fits, _) = figure_like(grid, r, sc);
                    let label = grid.cell(r, sc).text().is_some_and(|t| {
                        let t = normalize::label(t);
                        form.is_sub_label(&t) || form.match_label(&t).is_some()
                    });
                    if fits || !label {
                        let cell = (f, CellRef { row: r, col: sc });
                        match had {
                            Some(k) => (cells[k], ranks[k]) = (cell, rank),
                            None => {
                                cells.push(cell);
                                ranks.push(rank);
                            }
                        }
                    }
                }
            }
        }
    }
    // A field on two rows is a table of several units (each village's
    // 高血压 and 2型糖尿病 rows beside a 病种 column), not one unit's
    // return: taken for one, the first unit's figures were the township's.
    let mut at: Vec<(FieldIdx, u32)> = all.iter().map(|&(f, _, c)| (f, c.row)).collect();
    at.sort_unstable();
    at.dedup();
    if at.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    let beside = cells
        .iter()
        .filter_map(|&(f, cell)| {
            let others: Vec<_> = all
                .iter()
                .filter(|(g, _, at)| *g == f && *at != cell)
                .map(|&(_, p, at)| (p, at))
                .collect();
            other_part(part_at(cell.col), &others, total_anywhere).map(|at| (f, at))
        })
        .collect();
    // Each block's cells, under the label over it.
    let mut blocks: Vec<Block> = Vec::new();
    for &(f, _, at) in &all {
        let heading = over
            .iter()
            .rev()
            .find(|(c, _)| *c <= at.col)
            .map(|&(col, _)| CellRef { row: head - 1, col });
        match blocks.iter_mut().find(|b| b.heading == heading) {
            Some(b) => b.cells.push((f, at)),
            None => blocks.push(Block {
                heading,
                cells: vec![(f, at)],
            }),
        }
    }
    Some((cells, head, beside, blocks))
}

/// A header for the lines above the labels (their 填报单位 and 报告期):
/// what [`super::meta::read_meta`] reads above.
pub(super) fn header(found: &Rowwise) -> Header {
    Header {
        form: found.form,
        first_row: found.first_row,
        last_row: found.first_row,
        name_col: None,
        serial_col: None,
        columns: found.cells.iter().map(|&(f, c)| (f, c.col)).collect(),
        unknown: Vec::new(),
        beside: Vec::new(),
        rows_of: None,
    }
}

/// The blocks of `found` not read, where none is a part, a 合计 or a
/// period (指标 | 男 | 女): the first block's figures are read, as before,
/// and each other block's fields are named here with its heading (女
/// 常住人口数), to be said as not counted ([`Unread::OtherBlock`]).
pub(super) fn blocks_not_read(
    found: &Rowwise,
    grid: &Grid<'_>,
    form: &crate::schema::Form,
) -> Vec<(String, super::header::Unread)> {
    if found.blocks.len() < 2 || !found.beside.is_empty() {
        return Vec::new();
    }
    let heading = |b: &Block| {
        b.heading
            .and_then(|at| grid.cell(at.row, at.col).text())
            .map(|t| (t.trim().to_string(), normalize::label(t)))
    };
    let headings: Option<Vec<(String, String)>> = found.blocks.iter().map(heading).collect();
    let Some(headings) = headings else {
        return Vec::new();
    };
    let known = |l: &str| {
        super::parts::part_of(l).is_some()
            || super::header::period_word(l).is_some()
            || l.contains("累计")
            || l.contains("本月")
            || l.contains("上月")
    };
    if headings.iter().any(|(_, l)| known(l)) {
        return Vec::new();
    }
    let read: Vec<CellRef> = found.cells.iter().map(|&(_, c)| c).collect();
    found
        .blocks
        .iter()
        .zip(&headings)
        .filter(|(b, _)| !b.cells.iter().any(|(_, c)| read.contains(c)))
        .flat_map(|(b, (shown, _))| {
            b.cells.iter().map(move |&(f, _)| {
                (
                    format!("{shown} {}", form.field(f).display_label()),
                    super::header::Unread::OtherBlock,
                )
            })
        })
        .collect()
}

/// The found cells side by side in row 0 of a range of their own (with
/// their formulas that have no saved value), to be read as one unit row.
pub(super) fn as_row(
    range: &Range<Data>,
    uncached: &super::grid::Formulas,
    cells: &[(FieldIdx, CellRef)],
) -> (Range<Data>, Box<super::grid::Formulas>) {
    let n = cells.len().max(1) as u32;
    let mut row = Range::new((0, 0), (0, n - 1));
    let mut formulas = Vec::new();
    for (k, (_, c)) in cells.iter().enumerate() {
        if let Some(d) = range.get_value((c.row, c.col)) {
            row.set_value((0, k as u32), d.clone());
        }
        if let Some((_, f)) = uncached.iter().find(|(p, _)| *p == (c.row, c.col)) {
            formulas.push(((0, k as u32), f.clone()));
        }
    }
    (row, formulas.into_boxed_slice())
}

/// A table of units as columns, the usual table turned (FORMS.md §2: the
/// rows matched within the reporting unit):
///
/// ```text
/// 指标          东门社区   新村    合计          疫苗        东门社区          新村
/// 常住人口数      1,000    2,000   3,000   or             应种 实种 接种率  应种 …
/// 签约人数          400      800   1,200         乙肝疫苗第1剂  10    9   90.0   20 …
/// ```
///
/// Read as a fields-as-rows return about one unit, the first unit's
/// figures were the township's. Turned back, each unit's block is a unit
/// row and a 合计's the 合计 row, read by [`super::rows::read_rows`] as any
/// table is, and every cell named again by its place on the sheet.
pub(super) struct Turned {
    /// The table turned: a row of labels, then a row per block.
    pub range: Range<Data>,
    /// Its formulas with no saved value.
    pub formulas: Box<super::grid::Formulas>,
    /// Its header: the names in column 0, the fields after.
    pub header: Header,
    /// Each turned row's heading on the sheet, and its fields' cells there
    /// in the turned table's column order (none where its block has none).
    rows: Vec<(CellRef, Vec<Option<CellRef>>)>,
}

impl Turned {
    /// The sheet's cell of a cell of the turned table.
    #[must_use]
    pub fn place(&self, c: CellRef) -> CellRef {
        let Some((heading, cells)) = c.row.checked_sub(1).and_then(|k| self.rows.get(k as usize))
        else {
            return c;
        };
        c.col
            .checked_sub(1)
            .and_then(|j| cells.get(j as usize).copied().flatten())
            .unwrap_or(*heading)
    }
}

/// The table of `found` turned back, where its figure blocks are headed
/// by units below the reporting unit (and perhaps a 合计): at least one
/// names a unit (`names_unit`), and none is a part or a period of one
/// unit's figures (本地 | 流动, 本月 | 累计), which are read as before.
pub(super) fn turned(
    found: &Rowwise,
    grid: &Grid<'_>,
    names_unit: &dyn Fn(&str) -> bool,
) -> Option<Turned> {
    if found.blocks.len() < 2 || !found.beside.is_empty() {
        return None;
    }
    let mut names = Vec::with_capacity(found.blocks.len());
    let mut any_unit = false;
    for b in &found.blocks {
        let at = b.heading?;
        let text = grid.cell(at.row, at.col).text()?.to_string();
        let label = normalize::label(&text);
        let total = super::parts::names_total(&label);
        if !total
            && (super::parts::part_of(&label).is_some()
                || super::header::period_word(&label).is_some()
                || label.contains("累计"))
        {
            return None;
        }
        any_unit |= !total && names_unit(&text);
        names.push(text);
    }
    if !any_unit {
        return None;
    }
    // The fields in the order the blocks first give them.
    let mut fields: Vec<FieldIdx> = Vec::new();
    for b in &found.blocks {
        for &(f, _) in &b.cells {
            if !fields.contains(&f) {
                fields.push(f);
            }
        }
    }
    let (range, uncached) = grid.sources();
    let mut table = Range::new((0, 0), (found.blocks.len() as u32, fields.len() as u32));
    table.set_value((0, 0), Data::String("单位名称".into()));
    let mut formulas = Vec::new();
    let mut rows = Vec::with_capacity(found.blocks.len());
    for (k, (b, name)) in found.blocks.iter().zip(names).enumerate() {
        let r = k as u32 + 1;
        table.set_value((r, 0), Data::String(name));
        let mut cells = vec![None; fields.len()];
        for &(f, at) in &b.cells {
            let Some(j) = fields.iter().position(|&g| g == f) else {
                continue;
            };
            cells[j] = Some(at);
            let to = (r, j as u32 + 1);
            if let Some(d) = range.get_value((at.row, at.col)) {
                table.set_value(to, d.clone());
            }
            if let Some((_, f)) = uncached.iter().find(|(p, _)| *p == (at.row, at.col)) {
                formulas.push((to, f.clone()));
            }
        }
        rows.push((b.heading?, cells));
    }
    let header = Header {
        form: found.form,
        first_row: 0,
        last_row: 0,
        name_col: Some(0),
        serial_col: None,
        columns: fields
            .iter()
            .enumerate()
            .map(|(j, &f)| (f, j as u32 + 1))
            .collect(),
        unknown: Vec::new(),
        beside: Vec::new(),
        rows_of: None,
    };
    Some(Turned {
        range: table,
        formulas: formulas.into_boxed_slice(),
        header,
        rows,
    })
}
