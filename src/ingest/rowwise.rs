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
                });
            }
        }
    }
    best
}

/// 指标 | 数值: whole labels down one column, their figures in the first
/// column to the right that holds figures (or nothing) on three in four of
/// their rows and a figure on at least one (a mistyped cell there is a
/// finding, not a reason to miss the return).
fn whole_labels(
    grid: &Grid<'_>,
    texts: &[(u32, u32, String)],
    form: &crate::schema::Form,
) -> Option<(Vec<(FieldIdx, CellRef)>, u32)> {
    let mut by_col: std::collections::BTreeMap<u32, Vec<(u32, FieldIdx)>> = Default::default();
    for (r, c, label) in texts {
        let (r, c) = (*r, *c);
        if let Some(f) = form.match_label(label) {
            if !form.field(f).derived {
                by_col.entry(c).or_default().push((r, f));
            }
        }
    }
    let (&col, rows) = by_col.iter().max_by_key(|(_, v)| v.len())?;
    let value_col = grid.cols().filter(|&c| c > col).find(|&c| {
        let looks: Vec<(bool, bool)> = rows.iter().map(|&(r, _)| figure_like(grid, r, c)).collect();
        let fits = looks.iter().filter(|l| l.0).count();
        fits * 4 >= looks.len() * 3 && looks.iter().any(|l| l.1)
    })?;
    let mut cells: Vec<(FieldIdx, CellRef)> = Vec::new();
    for &(r, f) in rows {
        if !cells.iter().any(|(g, _)| *g == f) {
            cells.push((
                f,
                CellRef {
                    row: r,
                    col: value_col,
                },
            ));
        }
    }
    let first = rows.iter().map(|&(r, _)| r).min()?;
    Some((cells, first.saturating_sub(1)))
}

/// 项目 | 应种人数 | 实种人数 | 接种率: the sub-headers across one row, the
/// groups down the column left of them; a field is its group and
/// sub-header joined.
fn groups_by_sub_labels(
    grid: &Grid<'_>,
    texts: &[(u32, u32, String)],
    form: &crate::schema::Form,
) -> Option<(Vec<(FieldIdx, CellRef)>, u32)> {
    // The row with the most sub-headers.
    let mut per_row: std::collections::BTreeMap<u32, Vec<(u32, &str)>> = Default::default();
    for (r, c, label) in texts {
        if form.is_sub_label(label) {
            per_row.entry(*r).or_default().push((*c, label));
        }
    }
    let (&head, sub_cols) = per_row.iter().max_by_key(|(_, v)| v.len())?;
    if sub_cols.len() < 2 {
        return None;
    }
    let first_sub = sub_cols.iter().map(|(c, _)| *c).min()?;
    let mut cells: Vec<(FieldIdx, CellRef)> = Vec::new();
    for (r, c, group) in texts {
        let (r, c) = (*r, *c);
        if r <= head || c >= first_sub {
            continue;
        }
        for (sc, sub) in sub_cols {
            if let Some(f) = form.match_label(&format!("{group}{sub}")) {
                if !form.field(f).derived && !cells.iter().any(|(g, _)| *g == f) {
                    let (fits, _) = figure_like(grid, r, *sc);
                    if fits {
                        cells.push((f, CellRef { row: r, col: *sc }));
                    }
                }
            }
        }
    }
    Some((cells, head))
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
    }
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
