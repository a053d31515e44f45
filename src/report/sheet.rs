//! A worksheet whose cell formats are given a rectangle at a time.
//!
//! rust_xlsxwriter finds a cell's style by hashing the whole `Format` (font,
//! borders, fill, number format) for every cell written with one. On a
//! city-year's report that is 170,000 look-ups: 40 of the 85 ms its sheets
//! take to build. A [`Sheet`] writes each value unformatted and notes the
//! cell's format. [`Sheet::finish`] then gives each format to the
//! rectangles of cells that share it, one look-up a rectangle. Every cell
//! ends with the value and the format it was written with, and the sheet's
//! used range is the same; only the numbering of the styles in the file
//! may differ. A streamed sheet ([`Sheet::streamed`]) does the same a row
//! at a time, before the row goes out to its temporary file, and its
//! values in their column's most frequent format take it from the column
//! ([`Sheet::column_defaults`]).

use std::ops::{Deref, DerefMut};

use rust_xlsxwriter::{ColNum, Format, RowNum, Worksheet, XlsxError};

/// A worksheet being filled. Write cells through [`Sheet::number`],
/// [`Sheet::text`] and [`Sheet::blank`]; everything else (merged titles,
/// widths, printing) goes to the worksheet underneath, which is handed
/// over, formatted, by [`Sheet::finish`]. A cell written both through the
/// sheet and on the worksheet directly ends in the sheet's format.
pub struct Sheet<'f> {
    ws: Worksheet,
    /// The formats used, each once: a sheet has a dozen or two.
    formats: Vec<&'f Format>,
    marks: Vec<Mark>,
    /// The rows go out as they are written (see [`Sheet::streamed`]).
    streamed: bool,
    /// In a streamed sheet, the first row that may still be written.
    next_row: RowNum,
    /// In a streamed sheet, the columns the worksheet's used range spans
    /// so far through this sheet's writes.
    used_cols: Option<(ColNum, ColNum)>,
    /// In a streamed sheet, the format each column's values take without
    /// a look-up, from a row on (see [`Sheet::column_defaults`]).
    defaults: Option<ColumnDefaults>,
}

/// See [`Sheet::column_defaults`].
struct ColumnDefaults {
    from_row: RowNum,
    /// By column, its place in `formats`.
    by_col: Vec<Option<u8>>,
}

/// A cell written through the sheet, in the order written: 8 bytes, as a
/// province's report has millions of cells.
#[derive(Clone, Copy)]
struct Mark {
    row: RowNum,
    col: ColNum,
    /// Its place in `formats`.
    format: u8,
    /// Written as an empty cell: it holds no value.
    blank: bool,
}

const _: () = assert!(std::mem::size_of::<Mark>() == 8);

impl<'f> Sheet<'f> {
    /// An empty, unnamed sheet.
    #[must_use]
    pub fn new() -> Sheet<'f> {
        Sheet {
            ws: Worksheet::new(),
            formats: Vec::new(),
            marks: Vec::new(),
            streamed: false,
            next_row: 0,
            used_cols: None,
            defaults: None,
        }
    }

    /// A sheet over `ws`, a worksheet in rust_xlsxwriter's low-memory mode,
    /// whose rows go to a temporary file as they are written. Rows must be
    /// written in order, every cell through the sheet: a row's formats are
    /// given, a run of cells at a time, when the next row is begun, and the
    /// row then goes out. A cell written to a row already gone is an error.
    #[must_use]
    pub fn streamed(ws: Worksheet) -> Sheet<'f> {
        Sheet {
            ws,
            formats: Vec::new(),
            marks: Vec::new(),
            streamed: true,
            next_row: 0,
            used_cols: None,
            defaults: None,
        }
    }

    /// Writes the number `v` in `format`.
    ///
    /// # Errors
    /// As [`Worksheet::write_number_with_format`]: a cell outside the sheet.
    pub fn number(
        &mut self,
        row: RowNum,
        col: ColNum,
        v: f64,
        format: &'f Format,
    ) -> Result<(), XlsxError> {
        self.begin_row(row)?;
        self.ws.write_number(row, col, v)?;
        self.mark(row, col, format, false)
    }

    /// Writes the text `s` in `format`; an empty text is an empty cell in
    /// that format, as rust_xlsxwriter makes it.
    ///
    /// # Errors
    /// As [`Worksheet::write_string_with_format`]: a cell outside the
    /// sheet, or a text over Excel's 32,767 characters.
    pub fn text(
        &mut self,
        row: RowNum,
        col: ColNum,
        s: impl Into<String>,
        format: &'f Format,
    ) -> Result<(), XlsxError> {
        let s = s.into();
        if s.is_empty() {
            return self.blank(row, col, format);
        }
        self.begin_row(row)?;
        self.ws.write_string(row, col, s)?;
        self.mark(row, col, format, false)
    }

    /// Writes a figure in `format`; one not reported stays an empty cell
    /// in that format, never 0.
    ///
    /// # Errors
    /// A cell outside the sheet.
    pub fn figure(
        &mut self,
        row: RowNum,
        col: ColNum,
        value: Option<f64>,
        format: &'f Format,
    ) -> Result<(), XlsxError> {
        match value {
            Some(v) => self.number(row, col, v, format),
            None => self.blank(row, col, format),
        }
    }

    /// Makes the cell an empty one in `format` (a bordered cell where a
    /// figure was not reported).
    ///
    /// # Errors
    /// A cell outside the sheet.
    pub fn blank(&mut self, row: RowNum, col: ColNum, format: &'f Format) -> Result<(), XlsxError> {
        // Checked here, as the worksheet would, rather than at the end.
        if row >= 1_048_576 || col >= 16_384 {
            return Err(XlsxError::RowColumnLimitError);
        }
        self.begin_row(row)?;
        self.mark(row, col, format, true)
    }

    /// In a streamed sheet, from `from_row` on, the values of each column
    /// of `formats` written in its format take it from the column, with
    /// no look-up of the format: one per run of side by side cells, each
    /// as long as rust_xlsxwriter's hash of the whole `Format`, were 84 ms
    /// of the 2 threads' 0.9 s that a city's 2026Q4 took from its store,
    /// the indicator tables' rows nine runs each. Every cell still ends
    /// with the value and the format it was written with: the columns'
    /// formats are set on the worksheet while its rows go out, and taken
    /// off again by [`Sheet::finish`], which gives the last row its
    /// formats run by run. An empty cell takes its format as before. A
    /// held sheet gives its formats a rectangle at a time and has no use
    /// for these.
    ///
    /// The columns must lie inside the used range so far (after a header
    /// across them), which setting a column's format would otherwise
    /// widen.
    ///
    /// # Errors
    /// A row from `from_row` on already gone, defaults given twice, or
    /// over 256 formats.
    pub fn column_defaults(
        &mut self,
        from_row: RowNum,
        formats: &[(ColNum, &'f Format)],
    ) -> Result<(), XlsxError> {
        if !self.streamed {
            return Ok(());
        }
        let reached = self
            .marks
            .last()
            .map_or(self.next_row, |m| m.row.max(self.next_row));
        if from_row < reached || self.defaults.is_some() {
            return Err(XlsxError::ParameterError(format!(
                "column formats from row {} in a streamed sheet at row {}",
                from_row + 1,
                reached + 1
            )));
        }
        let mut by_col = Vec::new();
        for &(col, format) in formats {
            let place = self.place(format)?;
            let col_at = usize::from(col);
            if by_col.len() <= col_at {
                by_col.resize(col_at + 1, None);
            }
            by_col[col_at] = Some(place);
            self.ws.set_column_format(col, format)?;
        }
        self.defaults = Some(ColumnDefaults { from_row, by_col });
        Ok(())
    }

    /// `format`'s place in `formats`, given one if it has none.
    fn place(&mut self, format: &'f Format) -> Result<u8, XlsxError> {
        // Most cells share the format of the cell written before them.
        let last = self.marks.last().map(|m| usize::from(m.format));
        let place = match last.filter(|&i| std::ptr::eq(self.formats[i], format)) {
            Some(i) => i,
            None => match self.formats.iter().position(|f| std::ptr::eq(*f, format)) {
                Some(i) => i,
                None => {
                    self.formats.push(format);
                    self.formats.len() - 1
                }
            },
        };
        u8::try_from(place)
            .map_err(|_| XlsxError::ParameterError("over 256 formats on one sheet".to_string()))
    }

    fn mark(
        &mut self,
        row: RowNum,
        col: ColNum,
        format: &'f Format,
        blank: bool,
    ) -> Result<(), XlsxError> {
        let format = self.place(format)?;
        self.marks.push(Mark {
            row,
            col,
            format,
            blank,
        });
        Ok(())
    }

    /// A blank written over a value empties the cell, as `write_blank`
    /// would have.
    fn empty_if(&mut self, last: &Mark, held_value: bool) {
        if last.blank && held_value {
            self.ws.clear_cell(last.row, last.col);
        }
    }

    /// The last write to each cell of `marks`, by column, then row; a cell
    /// whose value was blanked afterwards is emptied.
    fn last_writes(&mut self, mut marks: Vec<Mark>) -> Vec<Mark> {
        // By cell, the last write to a cell last (the sort is stable).
        marks.sort_by_key(|m| (m.col, m.row));
        let mut cells: Vec<Mark> = Vec::with_capacity(marks.len());
        // Whether a value was written to the cell before its last write.
        let mut held_value = false;
        for m in marks {
            match cells.last_mut() {
                Some(last) if (last.col, last.row) == (m.col, m.row) => {
                    held_value |= !last.blank;
                    *last = m;
                }
                _ => {
                    if let Some(last) = cells.last() {
                        self.empty_if(last, held_value);
                    }
                    held_value = false;
                    cells.push(m);
                }
            }
        }
        if let Some(last) = cells.last() {
            self.empty_if(last, held_value);
        }
        cells
    }

    /// Readies `row` for writing. In a streamed sheet, beginning a new row
    /// first finishes the one before (its formats given, it goes out); a
    /// row already gone cannot be written again.
    fn begin_row(&mut self, row: RowNum) -> Result<(), XlsxError> {
        if !self.streamed {
            return Ok(());
        }
        let current = self.marks.last().map(|m| m.row);
        let reached = current.map_or(self.next_row, |c| c.max(self.next_row));
        if row < reached {
            return Err(XlsxError::ParameterError(format!(
                "row {} written after row {} in a streamed sheet",
                row + 1,
                reached + 1
            )));
        }
        match current {
            Some(c) if c != row => self.finish_row(),
            _ => Ok(()),
        }
    }

    /// Gives the streamed sheet's current row its formats, a run of side
    /// by side cells in one format at a time: a findings row is one run,
    /// one look-up instead of eleven. An empty cell in a row of none, or
    /// beyond the columns of the used range so far and the row's values,
    /// is written the usual way, so that the used range grows as it would
    /// have; inside them it joins the runs. (Written one by one, the empty
    /// 排名 and 目标值 cells of a city-year's indicator tables were 93,000
    /// format look-ups of 3,400 instructions each, more than all its runs.)
    fn finish_row(&mut self) -> Result<(), XlsxError> {
        let marks = std::mem::take(&mut self.marks);
        let Some(row) = marks.first().map(|m| m.row) else {
            return Ok(());
        };
        self.next_row = row + 1;
        let cells = self.last_writes(marks);
        let values = cells.iter().filter(|m| !m.blank).map(|m| m.col);
        let span = values
            .clone()
            .min()
            .zip(values.max())
            .map(|(c0, c1)| match self.used_cols {
                Some((u0, u1)) => (c0.min(u0), c1.max(u1)),
                None => (c0, c1),
            });
        let mut used = span.or(self.used_cols);
        let inside = |m: &Mark| span.is_some_and(|(c0, c1)| (c0..=c1).contains(&m.col));
        // A value in its column's format has it from the column.
        let defaults = self
            .defaults
            .as_ref()
            .filter(|d| row >= d.from_row)
            .map(|d| d.by_col.as_slice());
        let implicit = |m: &Mark| {
            !m.blank && defaults.is_some_and(|d| d.get(usize::from(m.col)) == Some(&Some(m.format)))
        };
        let mut run: Option<(ColNum, ColNum, u8)> = None;
        for m in cells.iter().copied().map(Some).chain([None]) {
            let joins = |(_, last, format): (ColNum, ColNum, u8), m: &Mark| {
                last + 1 == m.col && format == m.format && inside(m) && !implicit(m)
            };
            match (run, m) {
                (Some(r), Some(m)) if joins(r, &m) => run = Some((r.0, m.col, r.2)),
                _ => {
                    if let Some((first, last, format)) = run.take() {
                        let format = self.formats[usize::from(format)];
                        self.ws.set_range_format(row, first, row, last, format)?;
                    }
                    match m {
                        Some(m) if implicit(&m) => {}
                        Some(m) if inside(&m) => run = Some((m.col, m.col, m.format)),
                        Some(m) => {
                            let format = self.formats[usize::from(m.format)];
                            self.ws.write_blank(m.row, m.col, format)?;
                            used =
                                Some(used.map_or((m.col, m.col), |(c0, c1)| {
                                    (c0.min(m.col), c1.max(m.col))
                                }));
                        }
                        None => {}
                    }
                }
            }
        }
        self.used_cols = used;
        Ok(())
    }

    /// The worksheet, every cell written through the sheet in its format.
    ///
    /// # Errors
    /// Only what the worksheet reports (none for cells already written).
    pub fn finish(mut self) -> Result<Worksheet, XlsxError> {
        if self.streamed {
            // The last row goes out when the workbook is saved, after the
            // columns' formats are taken off: its formats are its own.
            let defaults = self.defaults.take();
            self.finish_row()?;
            let plain = Format::new();
            for (col, _) in defaults
                .iter()
                .flat_map(|d| (0..=ColNum::MAX).zip(&d.by_col))
                .filter(|(_, f)| f.is_some())
            {
                self.ws.set_column_format(col, &plain)?;
            }
            return Ok(self.ws);
        }
        let marks = std::mem::take(&mut self.marks);
        let cells = self.last_writes(marks);
        // The used range (`<dimension>`) grows with every value written;
        // an empty cell outside the values' bounds is written the usual
        // way so that it grows as it would have.
        let bounds = cells.iter().filter(|m| !m.blank).fold(None, |b, m| {
            let (r0, c0, r1, c1) = b.unwrap_or((m.row, m.col, m.row, m.col));
            Some((r0.min(m.row), c0.min(m.col), r1.max(m.row), c1.max(m.col)))
        });
        let inside = |m: &Mark| {
            bounds.is_some_and(|(r0, c0, r1, c1)| {
                (r0..=r1).contains(&m.row) && (c0..=c1).contains(&m.col)
            })
        };
        let mut runs: Vec<Run> = Vec::new();
        for m in cells {
            if m.blank && !inside(&m) {
                self.ws
                    .write_blank(m.row, m.col, self.formats[usize::from(m.format)])?;
                continue;
            }
            match runs.last_mut() {
                Some(r)
                    if r.first_col == m.col && r.last_row + 1 == m.row && r.format == m.format =>
                {
                    r.last_row = m.row;
                }
                _ => runs.push(Run {
                    first_row: m.row,
                    last_row: m.row,
                    first_col: m.col,
                    last_col: m.col,
                    format: m.format,
                }),
            }
        }
        // Side by side columns with the same run (a table's figure
        // columns) are one rectangle.
        runs.sort_by_key(|r| (r.first_row, r.last_row, r.format, r.first_col));
        let mut rects: Vec<Run> = Vec::with_capacity(runs.len());
        for r in runs {
            match rects.last_mut() {
                Some(q)
                    if (q.first_row, q.last_row) == (r.first_row, r.last_row)
                        && q.format == r.format
                        && q.last_col + 1 == r.first_col =>
                {
                    q.last_col = r.first_col;
                }
                _ => rects.push(r),
            }
        }
        for r in rects {
            let format = self.formats[usize::from(r.format)];
            self.ws
                .set_range_format(r.first_row, r.first_col, r.last_row, r.last_col, format)?;
        }
        Ok(self.ws)
    }
}

impl Default for Sheet<'_> {
    fn default() -> Self {
        Sheet::new()
    }
}

/// Cells in one format: a column's run of rows, then a rectangle.
struct Run {
    first_row: RowNum,
    last_row: RowNum,
    first_col: ColNum,
    last_col: ColNum,
    /// Its place in the sheet's formats.
    format: u8,
}

impl Deref for Sheet<'_> {
    type Target = Worksheet;
    fn deref(&self) -> &Worksheet {
        &self.ws
    }
}

impl DerefMut for Sheet<'_> {
    fn deref_mut(&mut self) -> &mut Worksheet {
        &mut self.ws
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::{FormatBorder, Workbook};
    use std::collections::BTreeMap;
    use std::io::Read;

    /// The parts of a one-sheet workbook: its sheet and its styles.
    fn parts(ws: Worksheet) -> (String, String) {
        parts_in(Workbook::new(), ws)
    }

    /// [`parts`] of `ws` saved in `wb`, the workbook that made it.
    fn parts_in(mut wb: Workbook, ws: Worksheet) -> (String, String) {
        wb.push_worksheet(ws);
        let bytes = wb.save_to_buffer().expect("saved");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
        let mut read = |name: &str| {
            let mut s = String::new();
            zip.by_name(name)
                .expect("the part")
                .read_to_string(&mut s)
                .expect("text");
            s
        };
        (read("xl/worksheets/sheet1.xml"), read("xl/styles.xml"))
    }

    /// The elements `<tag …>…</tag>` or `<tag …/>` inside `<list …>…</list>`, in order.
    fn elements(xml: &str, list: &str, tag: &str) -> Vec<String> {
        let Some(start) = xml.find(&format!("<{list}")) else {
            return Vec::new();
        };
        let end = xml[start..].find(&format!("</{list}>")).expect("closed") + start;
        let body = &xml[start..end];
        let open = format!("<{tag}");
        let mut out = Vec::new();
        let mut rest = body[1..].find(&open).map_or("", |i| &body[i + 1..]);
        while let Some(rel) = rest.find(&open) {
            let at = &rest[rel..];
            let head_end = at.find('>').expect("a tag");
            let len = if at[..head_end].ends_with('/') {
                head_end + 1
            } else {
                at.find(&format!("</{tag}>")).expect("closed") + tag.len() + 3
            };
            out.push(at[..len].to_string());
            rest = &at[len..];
        }
        out
    }

    fn attr<'x>(element: &'x str, name: &str) -> Option<&'x str> {
        let key = format!(" {name}=\"");
        let at = element.find(&key)? + key.len();
        Some(&element[at..at + element[at..].find('"')?])
    }

    /// Each cell of the sheet: its XML less the style number, and its
    /// style in full (number format, font, fill, border, alignment).
    fn resolved(ws: Worksheet) -> (Option<String>, BTreeMap<String, (String, String)>) {
        resolved_in(Workbook::new(), ws)
    }

    /// [`resolved`] of `ws` saved in `wb`, the workbook that made it.
    fn resolved_in(
        wb: Workbook,
        ws: Worksheet,
    ) -> (Option<String>, BTreeMap<String, (String, String)>) {
        let (sheet, styles) = parts_in(wb, ws);
        let fonts = elements(&styles, "fonts", "font");
        let fills = elements(&styles, "fills", "fill");
        let borders = elements(&styles, "borders", "border");
        let xfs = elements(&styles, "cellXfs", "xf");
        let num_formats: BTreeMap<String, String> = elements(&styles, "numFmts", "numFmt")
            .iter()
            .filter_map(|n| Some((attr(n, "numFmtId")?.into(), attr(n, "formatCode")?.into())))
            .collect();
        let style = |s: usize| {
            let xf = &xfs[s];
            let id = |a: &str| {
                attr(xf, a)
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0)
            };
            let num = attr(xf, "numFmtId").unwrap_or("0");
            format!(
                "{} {} {} {} {}",
                num_formats.get(num).map_or(num, String::as_str),
                fonts[id("fontId")],
                fills[id("fillId")],
                borders[id("borderId")],
                xf.find("<alignment").map_or("", |a| &xf[a..])
            )
        };
        let mut cells = BTreeMap::new();
        for c in elements(&sheet, "sheetData", "c") {
            let r = attr(&c, "r").expect("a cell reference").to_string();
            let s = attr(&c, "s").map_or(0, |s| s.parse().expect("a style number"));
            let bare = c.replacen(&format!(" s=\"{s}\""), "", 1);
            cells.insert(r, (bare, style(s)));
        }
        let dimension = sheet
            .find("<dimension")
            .and_then(|i| attr(&sheet[i..], "ref"))
            .map(str::to_string);
        (dimension, cells)
    }

    #[test]
    fn a_sheet_holds_the_cells_and_formats_written_cell_by_cell() {
        let bordered = Format::new().set_border(FormatBorder::Thin);
        let count = bordered.clone().set_num_format("#,##0");
        let rate = bordered.clone().set_num_format("0.0").set_bold();
        let title = Format::new().set_font_size(16).set_italic();
        let formats = [&bordered, &count, &rate];
        // A table whose formats change down and across, blanks among the
        // figures, a value overwritten by a blank and by another value, an
        // empty text, and blanks beyond the written values on both sides.
        let mut direct = Worksheet::new();
        let mut sheet = Sheet::new();
        direct
            .write_string_with_format(0, 1, "标题", &title)
            .expect("in range");
        sheet.text(0, 1, "标题", &title).expect("in range");
        for row in 2..40u32 {
            for col in 1..7u16 {
                let f = formats[((row / 3 + u32::from(col / 2)) % 3) as usize];
                let v = f64::from(row * 10 + u32::from(col)) / 7.0;
                if (row + u32::from(col)) % 5 == 0 {
                    direct.write_blank(row, col, f).expect("in range");
                    sheet.blank(row, col, f).expect("in range");
                } else if col == 6 {
                    direct
                        .write_string_with_format(row, col, format!("第{row}行"), f)
                        .expect("in range");
                    sheet
                        .text(row, col, format!("第{row}行"), f)
                        .expect("in range");
                } else {
                    direct
                        .write_number_with_format(row, col, v, f)
                        .expect("in range");
                    sheet.number(row, col, v, f).expect("in range");
                }
            }
        }
        direct
            .write_number_with_format(5, 2, 1.5, &rate)
            .expect("in range");
        direct.write_blank(5, 2, &count).expect("in range");
        sheet.number(5, 2, 1.5, &rate).expect("in range");
        sheet.blank(5, 2, &count).expect("in range");
        direct.write_blank(6, 2, &count).expect("in range");
        direct
            .write_number_with_format(6, 2, 2.5, &rate)
            .expect("in range");
        sheet.blank(6, 2, &count).expect("in range");
        sheet.number(6, 2, 2.5, &rate).expect("in range");
        direct
            .write_string_with_format(7, 3, "", &bordered)
            .expect("in range");
        sheet.text(7, 3, "", &bordered).expect("in range");
        for (row, col) in [(45, 3), (3, 0), (3, 9)] {
            direct.write_blank(row, col, &count).expect("in range");
            sheet.blank(row, col, &count).expect("in range");
        }
        let want = resolved(direct);
        let got = resolved(sheet.finish().expect("formatted"));
        assert_eq!(got.0.as_deref(), Some("A1:J46"));
        assert_eq!(want.0, got.0);
        assert_eq!(want.1.len(), got.1.len());
        for (cell, w) in &want.1 {
            assert_eq!(Some(w), got.1.get(cell), "cell {cell}");
        }
        // The test sees the formats: the bold rate differs from the count.
        assert_ne!(want.1["C7"].1, want.1["C6"].1);
        assert!(
            !want.1["C6"].0.contains("<v>"),
            "C6 was emptied: {}",
            want.1["C6"].0
        );
    }

    #[test]
    fn a_sheet_with_too_many_formats_says_so() {
        let formats: Vec<Format> = (0..257u16)
            .map(|k| Format::new().set_font_size(f64::from(k) / 10.0 + 12.0))
            .collect();
        let mut sheet = Sheet::new();
        for (k, f) in formats.iter().enumerate().take(256) {
            sheet.number(0, k as u16, 1.0, f).expect("in range");
        }
        let err = sheet
            .number(1, 0, 1.0, &formats[256])
            .expect_err("257 formats");
        assert!(matches!(err, XlsxError::ParameterError(_)), "{err}");
        // The first 256 are still given.
        let ws = sheet.finish().expect("formatted");
        let (_, styles) = parts(ws);
        assert_eq!(elements(&styles, "cellXfs", "xf").len(), 257);
    }

    #[test]
    fn a_figure_not_reported_is_an_empty_cell_never_zero() {
        let bordered = Format::new().set_border(FormatBorder::Thin);
        let mut sheet = Sheet::new();
        sheet.figure(0, 0, Some(0.0), &bordered).expect("in range");
        sheet.figure(0, 1, None, &bordered).expect("in range");
        let (_, cells) = resolved(sheet.finish().expect("formatted"));
        assert!(cells["A1"].0.contains("<v>0</v>"), "{}", cells["A1"].0);
        assert!(!cells["B1"].0.contains("<v>"), "{}", cells["B1"].0);
        assert_eq!(cells["A1"].1, cells["B1"].1, "both bordered alike");
    }

    /// A workbook and a streamed sheet in it, empty.
    fn streamed_sheet<'f>() -> (Workbook, Sheet<'f>) {
        let mut wb = Workbook::new();
        let ws = wb
            .new_worksheet_with_low_memory()
            .expect("a temporary file");
        (wb, Sheet::streamed(ws))
    }

    /// What `write` writes, given three formats (bordered text, the same
    /// with an error's fill, a count), through a streamed sheet and a held
    /// one: the held sheet's used range and cells, once the streamed
    /// sheet's are found the same.
    fn streamed_as_held(
        write: impl for<'f> Fn(&mut Sheet<'f>, [&'f Format; 3]),
    ) -> (Option<String>, BTreeMap<String, (String, String)>) {
        let text = Format::new().set_border(FormatBorder::Thin);
        let error = text.clone().set_background_color(0xFFC7CE);
        let count = text.clone().set_num_format("#,##0");
        let (wb, mut streamed) = streamed_sheet();
        let mut held = Sheet::new();
        for sheet in [&mut streamed, &mut held] {
            write(sheet, [&text, &error, &count]);
        }
        let want = resolved(held.finish().expect("formatted"));
        let got = resolved_in(wb, streamed.finish().expect("as written"));
        assert_eq!(want.0, got.0, "the used range");
        assert_eq!(want.1.len(), got.1.len());
        for (cell, w) in &want.1 {
            assert_eq!(Some(w), got.1.get(cell), "cell {cell}");
        }
        want
    }

    #[test]
    fn a_streamed_row_gets_its_formats_run_by_run_as_a_held_one() {
        let want = streamed_as_held(|sheet, [text, error, count]| {
            for row in (0..40u32).filter(|r| r % 9 != 4) {
                if row % 10 == 7 {
                    // A row of empty cells only, beyond the values' columns.
                    sheet.blank(row, 7, error).expect("in range");
                    sheet.blank(row, 2, count).expect("in range");
                    continue;
                }
                // Written out of column order: blank, figures, texts.
                sheet.blank(row, 1, text).expect("in range");
                sheet
                    .number(row, 2, f64::from(row), count)
                    .expect("in range");
                sheet.figure(row, 3, None, count).expect("in range");
                sheet.number(row, 4, 1.5, count).expect("in range");
                sheet
                    .text(row, 0, format!("第{row}行"), text)
                    .expect("in range");
                let f = if row % 3 == 0 { error } else { text };
                sheet.text(row, 5, "说明", f).expect("in range");
                // A value blanked again, and an empty cell past the values.
                sheet.number(row, 6, 9.0, count).expect("in range");
                sheet.blank(row, 6, f).expect("in range");
                if row == 39 {
                    sheet.blank(row, 9, text).expect("in range");
                }
            }
        });
        assert_eq!(want.0.as_deref(), Some("A1:J40"), "the used range");
        assert!(!want.1["G2"].0.contains("<v>"), "blanked: empty");
        assert_ne!(want.1["F4"].1, want.1["F3"].1, "the fill is seen");
        assert!(want.1.contains_key("H8"), "a row of empty cells is kept");
    }

    #[test]
    fn a_streamed_rows_empty_cells_under_a_wider_header_are_as_held() {
        // A header across five columns, then rows whose last two cells are
        // empty (a rank not given), one row of empty cells only, and a row
        // whose empty cell lies past every column before it.
        let want = streamed_as_held(|sheet, [text, error, count]| {
            for c in 0..5u16 {
                sheet.text(0, c, format!("栏{c}"), text).expect("in range");
            }
            for row in 1..30u32 {
                sheet.text(row, 0, "单位", text).expect("in range");
                sheet
                    .number(row, 1, f64::from(row), count)
                    .expect("in range");
                let f = if row % 4 == 0 { error } else { count };
                sheet.blank(row, 3, f).expect("in range");
                sheet.blank(row, 4, text).expect("in range");
                if row == 12 {
                    sheet.blank(row, 6, text).expect("in range");
                }
            }
            sheet.blank(30, 2, text).expect("in range");
        });
        assert_eq!(want.0.as_deref(), Some("A1:G31"), "the used range");
        assert_ne!(want.1["D5"].1, want.1["D6"].1, "the fill is seen");
        assert_eq!(
            want.1["E2"].1, want.1["A2"].1,
            "an empty cell keeps its format"
        );
    }

    #[test]
    fn a_streamed_sheets_column_formats_end_as_written_cell_by_cell() {
        // A header across the columns, then rows whose values mostly take
        // their column's format (given once) and partly not, empty cells
        // in the column's format and in another, a value blanked, and
        // rows after the table; the last row in the columns' formats too.
        let want = streamed_as_held(|sheet, [text, error, count]| {
            for c in 0..4u16 {
                sheet.text(0, c, format!("栏{c}"), error).expect("in range");
            }
            sheet
                .column_defaults(1, &[(0, text), (1, count), (3, count)])
                .expect("before its rows");
            for row in 1..25u32 {
                let name = if row % 5 == 0 { error } else { text };
                sheet.text(row, 0, "单位", name).expect("in range");
                let f = if row % 3 == 0 { text } else { count };
                sheet.number(row, 1, f64::from(row), f).expect("in range");
                sheet.number(row, 2, 0.5, count).expect("in range");
                match row % 4 {
                    0 => sheet.blank(row, 3, count),
                    1 => sheet.blank(row, 3, error),
                    _ => sheet.number(row, 3, 2.0, count),
                }
                .expect("in range");
                if row == 7 {
                    sheet.blank(row, 1, count).expect("in range");
                }
            }
            sheet.text(26, 0, "制表：", text).expect("in range");
            sheet.number(27, 1, 3.0, count).expect("in range");
        });
        assert_eq!(want.0.as_deref(), Some("A1:D28"), "the used range");
        assert_ne!(want.1["A6"].1, want.1["A5"].1, "the fill is seen");
        assert_ne!(want.1["B4"].1, want.1["B5"].1, "the number format is seen");
        assert!(!want.1["B8"].0.contains("<v>"), "blanked: empty");
        // And once the sheet is saved, no column keeps a format: its empty
        // cells below the table are not bordered.
        let text = Format::new().set_border(FormatBorder::Thin);
        let (wb, mut sheet) = streamed_sheet();
        sheet.text(0, 0, "栏", &text).expect("in range");
        sheet
            .column_defaults(1, &[(0, &text)])
            .expect("before its rows");
        for row in 1..4u32 {
            sheet.text(row, 0, "单位", &text).expect("in range");
        }
        let (xml, _) = parts_in(wb, sheet.finish().expect("as written"));
        let cols = elements(&xml, "cols", "col").join("");
        assert!(!cols.is_empty() && !cols.contains("style="), "{cols}");
    }

    #[test]
    fn a_streamed_sheets_column_formats_come_before_their_rows() {
        let text = Format::new();
        let (wb, mut sheet) = streamed_sheet();
        sheet.text(0, 0, "栏", &text).expect("in range");
        sheet.text(3, 0, "单位", &text).expect("in range");
        let err = sheet
            .column_defaults(2, &[(0, &text)])
            .expect_err("row 3 is being written");
        assert!(matches!(err, XlsxError::ParameterError(_)), "{err}");
        sheet
            .column_defaults(3, &[(0, &text)])
            .expect("the row being written");
        let err = sheet
            .column_defaults(4, &[(0, &text)])
            .expect_err("given twice");
        assert!(matches!(err, XlsxError::ParameterError(_)), "{err}");
        let (_, cells) = resolved_in(wb, sheet.finish().expect("as written"));
        assert_eq!(cells.len(), 2);
    }

    #[test]
    fn a_streamed_sheet_refuses_a_row_already_written() {
        let text = Format::new();
        let (wb, mut sheet) = streamed_sheet();
        sheet.text(3, 0, "a", &text).expect("in range");
        sheet.text(3, 2, "b", &text).expect("the same row");
        sheet.text(5, 1, "c", &text).expect("a later row");
        for row in [3, 4] {
            let err = sheet.text(row, 0, "late", &text).expect_err("gone");
            assert!(matches!(err, XlsxError::ParameterError(_)), "{err}");
            assert!(sheet.blank(row, 0, &text).is_err(), "a blank too");
        }
        sheet.text(5, 0, "d", &text).expect("the current row");
        let (_, cells) = resolved_in(wb, sheet.finish().expect("as written"));
        let mut refs: Vec<&str> = cells.keys().map(String::as_str).collect();
        refs.sort_unstable();
        assert_eq!(refs, ["A4", "A6", "B6", "C4"]);
    }

    #[test]
    fn a_streamed_sheet_holds_what_a_held_one_does() {
        // Row by row, as a streamed sheet must be written: texts (one
        // empty), figures, a figure not reported, two fills.
        let want = streamed_as_held(|sheet, [text, error, count]| {
            sheet.text(0, 0, "级别", count).expect("in range");
            for row in 1..300u32 {
                let f = if row % 7 == 0 { error } else { text };
                sheet
                    .text(row, 0, format!("第{}条", row % 11), f)
                    .expect("in range");
                sheet.text(row, 1, "", f).expect("in range");
                let figure = (row % 5 != 0).then(|| f64::from(row) * 1.5);
                sheet.figure(row, 2, figure, count).expect("in range");
            }
        });
        assert_eq!(want.0.as_deref(), Some("A1:C300"));
        assert_ne!(want.1["A7"].1, want.1["A8"].1, "the fills are seen");
        assert!(!want.1["C6"].0.contains("<v>"), "not reported: empty");
    }
}
