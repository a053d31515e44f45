//! A sheet's used range with absolute coordinates, read through [`Cell`]:
//! the only view of a worksheet the rest of ingest sees.

use calamine::{Data, Range};

use super::cells::{classify, Cell};
use super::workbook::Sheet;

/// Formula cells saved without a value: their place and their formula.
pub type Formulas = [((u32, u32), String)];

/// A copy of a sheet's range, and its formulas without a saved value.
pub type Copy = (Range<Data>, Vec<((u32, u32), String)>);

/// A worksheet's cells, addressed by absolute 0-based row and column.
pub struct Grid<'a> {
    range: &'a Range<Data>,
    uncached: &'a [((u32, u32), String)],
    first_row: u32,
    first_col: u32,
    last_row: u32,
    last_col: u32,
}

impl<'a> Grid<'a> {
    /// Wraps a sheet as read (its range may start anywhere, not only at A1).
    #[must_use]
    pub fn new(sheet: &'a Sheet) -> Grid<'a> {
        Grid::with_formulas(&sheet.range, &sheet.uncached)
    }

    /// Wraps a range, with the formula cells that have no saved value.
    #[must_use]
    pub fn with_formulas(range: &'a Range<Data>, uncached: &'a [((u32, u32), String)]) -> Grid<'a> {
        let (mut first_row, mut first_col) = range.start().unwrap_or((u32::MAX, u32::MAX));
        let (mut last_row, mut last_col) = range.end().unwrap_or((0, 0));
        for ((r, c), _) in uncached {
            first_row = first_row.min(*r);
            first_col = first_col.min(*c);
            last_row = last_row.max(*r);
            last_col = last_col.max(*c);
        }
        if first_row == u32::MAX {
            (first_row, first_col) = (0, 0);
        }
        Grid {
            range,
            uncached,
            first_row,
            first_col,
            last_row,
            last_col,
        }
    }

    /// Whether the sheet holds no visible value at all.
    #[must_use]
    pub fn is_blank(&self) -> bool {
        self.uncached.is_empty()
            && self
                .range
                .used_cells()
                .all(|(_, _, d)| classify(d).is_blank())
    }

    /// First used row.
    #[must_use]
    pub fn first_row(&self) -> u32 {
        self.first_row
    }

    /// Last used row.
    #[must_use]
    pub fn last_row(&self) -> u32 {
        self.last_row
    }

    /// Used columns, left to right.
    pub fn cols(&self) -> impl Iterator<Item = u32> + Clone {
        let end = if self.range.is_empty() && self.uncached.is_empty() {
            self.first_col
        } else {
            self.last_col + 1
        };
        self.first_col..end
    }

    /// The cell at an absolute position; outside the used range it is empty.
    #[must_use]
    pub fn cell(&self, row: u32, col: u32) -> Cell<'a> {
        match self.range.get_value((row, col)) {
            Some(d) if !matches!(d, Data::Empty) => classify(d),
            _ if self.uncached.is_empty() => Cell::Empty,
            _ => match self.uncached.binary_search_by_key(&(row, col), |(p, _)| *p) {
                Ok(i) => Cell::Uncached(&self.uncached[i].1),
                Err(_) => Cell::Empty,
            },
        }
    }

    /// A copy of the sheet with `rows` emptied, and its formulas without a
    /// saved value outside them: one of two tables stacked on a sheet, each
    /// with what stands above the first (its 填报单位 and 报告期).
    #[must_use]
    pub fn without_rows(&self, rows: std::ops::RangeInclusive<u32>) -> Copy {
        let mut range = self.range.clone();
        for row in rows.clone() {
            for col in self.cols() {
                if range.get_value((row, col)).is_some() {
                    range.set_value((row, col), Data::Empty);
                }
            }
        }
        let uncached = self
            .uncached
            .iter()
            .filter(|((r, _), _)| !rows.contains(r))
            .cloned()
            .collect();
        (range, uncached)
    }

    /// The range and the formulas without a saved value, as read.
    #[must_use]
    pub fn sources(&self) -> (&'a Range<Data>, &'a Formulas) {
        (self.range, self.uncached)
    }

    /// Every non-blank text in rows `rows`, with its position.
    pub fn texts_in(&self, rows: std::ops::Range<u32>) -> Vec<(u32, u32, &'a str)> {
        let mut out = Vec::new();
        for r in rows {
            for c in self.cols() {
                if let Some(t) = self.cell(r, c).text() {
                    out.push((r, c, t));
                }
            }
        }
        out
    }
}
