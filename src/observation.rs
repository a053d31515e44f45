//! The one data model (STYLE.md §1): every reported figure as an
//! observation carrying where it came from, plus the returns they belong to.
//! Everything downstream is a query on these tables; nothing reopens a workbook.

use crate::findings::{CellRef, Finding};
use crate::period::{Month, Period};
use crate::registry::UnitIdx;
use crate::schema::{FieldIdx, FormIdx};

/// Index into [`Batch::files`].
pub type FileIdx = u32;
/// Index into [`Batch::returns`].
pub type ReturnIdx = u32;

/// What happened to a return once all returns of the batch were seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnStatus {
    /// Counted.
    Active,
    /// Replaced by a later return marked 更正; kept for audit, not counted.
    Superseded,
    /// One of several unmarked returns for the same unit, form and month
    /// with different figures; not counted until a correction settles it.
    Duplicate,
    /// The same return received again (same unit, form, month and figures):
    /// counted once, through the first copy.
    IdenticalCopy,
}

impl ReturnStatus {
    /// Whether the return's own rows are checked: every return received,
    /// except one replaced by a correction or a second copy of the same.
    #[must_use]
    pub fn checked(self) -> bool {
        matches!(self, ReturnStatus::Active | ReturnStatus::Duplicate)
    }
}

/// A figure on the 合计 row, kept only to check it against the unit rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TotalCell {
    /// Field.
    pub field: FieldIdx,
    /// Value (`None` = not reported).
    pub value: Option<f64>,
    /// Where it is.
    pub cell: CellRef,
}

/// One count column of a return: the sum of every unit row on the sheet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowSum {
    /// Field.
    pub field: FieldIdx,
    /// Sum of the reported values (`None`: no row reported one).
    pub sum: Option<f64>,
    /// First row with a value.
    pub first_row: u32,
    /// Last row with a value.
    pub last_row: u32,
    /// A unit row's cell in this column could not be read, so the 合计
    /// cannot be checked against the rows.
    pub unreadable: bool,
    /// The unit rows' figures of this column written as text ("12",
    /// "１２"): a spreadsheet's SUM leaves text out, so a 合计 formula over
    /// them falls short by their sum.
    pub text: Option<TextFigures>,
}

/// The figures of one column written as text ([`RowSum::text`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextFigures {
    /// How many.
    pub count: u32,
    /// Their sum.
    pub sum: f64,
    /// The first one's cell.
    pub first: CellRef,
}

/// One return: one sheet, one reporting unit, one month, one form.
#[derive(Debug, Clone)]
pub struct Return {
    /// Source file.
    pub file: FileIdx,
    /// Sheet name.
    pub sheet: String,
    /// Form.
    pub form: FormIdx,
    /// Reporting unit (the 填报单位).
    pub unit: UnitIdx,
    /// Month reported.
    pub month: Month,
    /// Marked a correction (更正, 修改, 修订 or 最终版 in the title, the
    /// lines above the header or the file name).
    pub correction: bool,
    /// The footer's 报出日期.
    pub reported_on: Option<crate::period::Day>,
    /// When a store received it (its first ingest), for timeliness when it
    /// has no 报出日期.
    pub received: Option<crate::period::Day>,
    /// Counted or not.
    pub status: ReturnStatus,
    /// The 合计 row, if the return has one.
    pub totals: Vec<TotalCell>,
    /// Column of each field found in the header.
    pub columns: Vec<(FieldIdx, u32)>,
    /// Row of the 合计 row, if any.
    pub total_row: Option<u32>,
    /// Column sums over every unit row, for the 合计 check.
    pub row_sums: Vec<RowSum>,
    /// Units suggested for misspelt rows (already an `unknown_unit`).
    pub suggested: Vec<UnitIdx>,
    /// Column of the unit names.
    pub name_col: Option<u32>,
    /// The units are columns, the fields rows (a table turned): each row
    /// sum's `first_row` and `last_row` are its first and last unit's
    /// columns, on the row of its 合计 cell.
    pub across: bool,
}

/// The observation table, columnar: provenance is dictionary-encoded
/// through the return index (file and sheet live on the [`Return`]).
#[derive(Debug, Clone, Default)]
pub struct Observations {
    /// Unit the row names.
    pub unit: Vec<UnitIdx>,
    /// Form.
    pub form: Vec<FormIdx>,
    /// Field.
    pub field: Vec<FieldIdx>,
    /// Month.
    pub month: Vec<Month>,
    /// Value; `None` = not reported (empty cell, `-`, `/`).
    pub value: Vec<Option<f64>>,
    /// Return it came from.
    pub ret: Vec<ReturnIdx>,
    /// Cell it came from.
    pub cell: Vec<CellRef>,
}

impl Observations {
    /// Number of observations.
    #[must_use]
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// Room for `n` more observations.
    pub fn reserve(&mut self, n: usize) {
        self.unit.reserve(n);
        self.form.reserve(n);
        self.field.reserve(n);
        self.month.reserve(n);
        self.value.reserve(n);
        self.ret.reserve(n);
        self.cell.reserve(n);
    }

    /// Appends one observation.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        unit: UnitIdx,
        form: FormIdx,
        field: FieldIdx,
        month: Month,
        value: Option<f64>,
        ret: ReturnIdx,
        cell: CellRef,
    ) {
        self.unit.push(unit);
        self.form.push(form);
        self.field.push(field);
        self.month.push(month);
        self.value.push(value);
        self.ret.push(ret);
        self.cell.push(cell);
    }

    /// `parts` one after the other, each with its return indices shifted by
    /// its offset: each column copied a part at a time, straight into a
    /// table of the exact size, the columns side by side. (Filled a row at
    /// a time on every core, finding each row's part, the columns took
    /// 18 ms of CPU for a city quarter's 279,000 figures.)
    #[must_use]
    pub fn concat(parts: &[(&Observations, ReturnIdx)]) -> Observations {
        let total: usize = parts.iter().map(|(p, _)| p.len()).sum();
        fn column<T: Copy>(
            parts: &[(&Observations, ReturnIdx)],
            total: usize,
            of: impl Fn(&Observations) -> &[T],
        ) -> Vec<T> {
            let mut out = Vec::with_capacity(total);
            for (p, _) in parts {
                out.extend_from_slice(of(p));
            }
            out
        }
        let ((unit, form), (field, month)) = rayon::join(
            || {
                rayon::join(
                    || column(parts, total, |p| &p.unit),
                    || column(parts, total, |p| &p.form),
                )
            },
            || {
                rayon::join(
                    || column(parts, total, |p| &p.field),
                    || column(parts, total, |p| &p.month),
                )
            },
        );
        let ((value, cell), ret) = rayon::join(
            || {
                rayon::join(
                    || column(parts, total, |p| &p.value),
                    || column(parts, total, |p| &p.cell),
                )
            },
            || {
                let mut ret = Vec::with_capacity(total);
                for (p, shift) in parts {
                    ret.extend(p.ret.iter().map(|r| r + shift));
                }
                ret
            },
        );
        Observations {
            unit,
            form,
            field,
            month,
            value,
            ret,
            cell,
        }
    }

    /// Puts the rows in the order of their cells (row, then column), as a
    /// return's are read; rows already in that order are left as they are.
    pub fn sort_by_cell(&mut self) {
        let at = |i: usize| (self.cell[i].row, self.cell[i].col);
        if (1..self.len()).all(|i| at(i - 1) <= at(i)) {
            return;
        }
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_by_key(|&i| at(i));
        fn permute<T: Copy>(v: &mut Vec<T>, order: &[usize]) {
            *v = order.iter().map(|&i| v[i]).collect();
        }
        permute(&mut self.unit, &order);
        permute(&mut self.form, &order);
        permute(&mut self.field, &order);
        permute(&mut self.month, &order);
        permute(&mut self.value, &order);
        permute(&mut self.ret, &order);
        permute(&mut self.cell, &order);
    }

    /// Appends all of `other`, shifting its return indices by `ret_offset`.
    pub fn append(&mut self, other: Observations, ret_offset: ReturnIdx) {
        self.unit.extend(other.unit);
        self.form.extend(other.form);
        self.field.extend(other.field);
        self.month.extend(other.month);
        self.value.extend(other.value);
        self.ret
            .extend(other.ret.into_iter().map(|r| r + ret_offset));
        self.cell.extend(other.cell);
    }
}

/// A sheet as ingest read it, kept for the feedback workbooks.
pub struct KeptSheet {
    /// Its file.
    pub file: FileIdx,
    /// Its name.
    pub sheet: String,
    /// Its cells, and formulas saved without a value.
    pub cells: crate::ingest::workbook::Sheet,
    /// Its merged regions.
    pub merged: Vec<((u32, u32), (u32, u32))>,
}

impl std::fmt::Debug for KeptSheet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeptSheet({}, {})", self.file, self.sheet)
    }
}

impl Clone for KeptSheet {
    fn clone(&self) -> KeptSheet {
        KeptSheet {
            file: self.file,
            sheet: self.sheet.clone(),
            cells: crate::ingest::workbook::Sheet {
                range: self.cells.range.clone(),
                uncached: self.cells.uncached.clone(),
            },
            merged: self.merged.clone(),
        }
    }
}

/// A return left out by `--scope`: of a unit outside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outside {
    /// Its file.
    pub file: String,
    /// Its sheet.
    pub sheet: String,
    /// The unit above the scope it is of (its county or city, whose
    /// summary lists the scope's own units, left out with it), by name;
    /// `None` for a unit beside the scope.
    pub above: Option<String>,
}

impl Outside {
    /// Those of `outside` of units above the scope, and those units' names
    /// (each once, in the order met).
    #[must_use]
    pub fn above(outside: &[Outside]) -> (Vec<&Outside>, Vec<&str>) {
        let of_above: Vec<&Outside> = outside.iter().filter(|o| o.above.is_some()).collect();
        let mut names: Vec<&str> = Vec::new();
        for name in of_above.iter().filter_map(|o| o.above.as_deref()) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        (of_above, names)
    }
}

/// Everything read from a batch of files.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Files as given on the command line or found under a directory.
    pub files: Vec<String>,
    /// Each file's modification time: which of two returns came later when
    /// neither has a 报出日期.
    pub modified: Vec<Option<std::time::SystemTime>>,
    /// Returns found, in file order.
    pub returns: Vec<Return>,
    /// Every figure of every unit row.
    pub obs: Observations,
    /// Problems found while reading.
    pub findings: Vec<Finding>,
    /// Returns from units outside `--scope`, left out.
    pub outside: Vec<Outside>,
    /// Every non-blank sheet as read, when the run keeps them (feedback).
    pub kept: Vec<KeptSheet>,
    /// Unit rows (return, unit) not counted because the same figures are
    /// computed from the unit's own children (see `validate::overlap`).
    pub overlapped: foldhash::HashSet<(ReturnIdx, UnitIdx)>,
    /// Forms expected every month whatever arrived: those a store has held.
    /// A month without a single return of one is judged all missing; a
    /// folder given to `consolidate` expects only the forms it holds.
    pub expected_forms: Vec<FormIdx>,
    /// Months read only as history, as their counted figures.
    pub history: History,
}

/// Months a run reads only as history: their counted figures
/// ([`crate::counted`]), already settled, rather than their returns. A
/// report from the store reads the months before its period so: the checks
/// over time read them as a unit's history and the roll-up as its
/// comparison periods (累计, 上期, 同期, the trend), while none of their
/// returns is checked again.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Each month's counted figures, by month.
    pub months: Vec<crate::counted::CountedMonth>,
    /// The files of their returns that the batch's own returns are not in.
    pub files: Vec<String>,
    /// How many returns they are.
    pub returns: usize,
    /// How many values their returns reported, counted or not.
    pub values: usize,
}

impl Batch {
    /// The file name of a return.
    #[must_use]
    pub fn file_of(&self, ret: ReturnIdx) -> &str {
        &self.files[self.returns[ret as usize].file as usize]
    }

    /// Whether observation `i` is a figure that counts: reported, on a
    /// counted return, and not a rate (rates are recomputed, never summed).
    #[must_use]
    pub fn counts(&self, i: usize, schemas: &crate::schema::Schemas) -> bool {
        let o = &self.obs;
        o.value[i].is_some()
            && self.returns[o.ret[i] as usize].status == ReturnStatus::Active
            && schemas.form(o.form[i]).field(o.field[i]).kind != crate::schema::Kind::Rate
    }

    /// Months with at least one return, counted or not, sorted: those of
    /// the batch's returns and of its [`History`].
    #[must_use]
    pub fn months_read(&self) -> Vec<Month> {
        let mut ms: Vec<Month> = self.returns.iter().map(|r| r.month).collect();
        ms.extend(self.history.months.iter().map(|m| m.month));
        ms.sort_unstable();
        ms.dedup();
        ms
    }

    /// How many files were read: the returns' and the [`History`]'s.
    #[must_use]
    pub fn files_read(&self) -> usize {
        self.files.len() + self.history.files.len()
    }

    /// How many returns were read: the batch's and the [`History`]'s.
    #[must_use]
    pub fn returns_read(&self) -> usize {
        self.returns.len() + self.history.returns
    }

    /// How many values were read, counted or not: the batch's and the
    /// [`History`]'s.
    #[must_use]
    pub fn values_read(&self) -> usize {
        self.obs.value.iter().filter(|v| v.is_some()).count() + self.history.values
    }

    /// The part of `p` its figures reach: `p` up to its latest month with
    /// a counted return ([`Period::until`]); `p` itself where none is.
    /// A year reported in April from January–March returns holds
    /// 2026年1—3月's figures, and says so.
    #[must_use]
    pub fn covered(&self, p: Period) -> Period {
        self.months()
            .into_iter()
            .filter(|&m| p.contains(m))
            .max()
            .map_or(p, |m| p.until(m))
    }

    /// Months with at least one counted return, sorted: the batch's and
    /// its [`History`]'s.
    #[must_use]
    pub fn months(&self) -> Vec<Month> {
        let mut ms: Vec<Month> = self
            .returns
            .iter()
            .filter(|r| r.status == ReturnStatus::Active)
            .map(|r| r.month)
            .collect();
        ms.extend(
            self.history
                .months
                .iter()
                .filter(|m| m.counts)
                .map(|m| m.month),
        );
        ms.sort_unstable();
        ms.dedup();
        ms
    }
}

/// The key that sorts observation `idx` of `month` by `(major, minor,
/// month, idx)`, packed into one integer: a third faster to sort by than
/// the tuple, in the same order.
#[must_use]
pub fn sort_key(major: u32, minor: u32, month: i32, idx: u32) -> u128 {
    (u128::from(major) << 96)
        | (u128::from(minor) << 64)
        | (u128::from(month.cast_unsigned() ^ 0x8000_0000) << 32)
        | u128::from(idx)
}

#[cfg(test)]
mod tests {
    use super::{sort_key, Observations};
    use crate::findings::CellRef;
    use crate::period::Month;

    /// Parts put together keep every row, in order, each return shifted by
    /// its part's offset; an empty part adds nothing.
    #[test]
    fn parts_concatenate_in_order_with_their_returns_shifted() {
        let part = |rows: &[(u32, f64)]| {
            let mut o = Observations::default();
            for (i, &(unit, v)) in rows.iter().enumerate() {
                let cell = CellRef {
                    row: unit,
                    col: i as u32,
                };
                let month = Month::new(2026, i as u32 + 1).expect("a month");
                o.push(unit, i as u16, 2 * i as u16, month, Some(v), i as u32, cell);
            }
            o
        };
        let (a, empty, b) = (part(&[(1, 1.5), (2, 2.5)]), part(&[]), part(&[(7, 7.0)]));
        let got = Observations::concat(&[(&a, 0), (&empty, 2), (&b, 5)]);
        assert_eq!(got.unit, [1, 2, 7]);
        assert_eq!(got.form, [0, 1, 0]);
        assert_eq!(got.field, [0, 2, 0]);
        assert_eq!(got.value, [Some(1.5), Some(2.5), Some(7.0)]);
        assert_eq!(got.ret, [0, 1, 5]);
        assert_eq!(
            got.month,
            [1, 2, 1].map(|m| Month::new(2026, m).expect("a month"))
        );
        assert_eq!(
            got.cell.iter().map(|c| (c.row, c.col)).collect::<Vec<_>>(),
            [(1, 0), (2, 1), (7, 0)]
        );
    }

    #[test]
    fn the_packed_key_sorts_as_the_tuple() {
        let mut tuples = Vec::new();
        for major in [0, 1, u32::MAX] {
            for minor in [0, 7, u32::MAX] {
                for month in [i32::MIN, -1, 0, 1, 24_318, i32::MAX] {
                    for idx in [0, 3, u32::MAX] {
                        tuples.push((major, minor, month, idx));
                    }
                }
            }
        }
        let mut by_key = tuples.clone();
        by_key.sort_by_key(|&(a, b, m, i)| sort_key(a, b, m, i));
        tuples.sort();
        assert_eq!(by_key, tuples);
    }
}
