//! How a sheet prints (issue 29): the one owner of paper, orientation,
//! scale, page breaks, print titles and page numbers for every table sheet
//! phstats writes — the report's, the feedback's and the templates'. (图表
//! prints its charts two to an A4 page, with breaks of its own.)
//!
//! A sheet goes on A4 where it fits, portrait when it is narrow; A3
//! landscape only when A4 would print it under [`COMFORT`] of its size; it is
//! fitted to one page wide and centred. A sheet too wide for that at a
//! readable scale is never shrunk further: it is split across A4 landscape
//! pages at whole column groups (a dose's 应种/实种/接种率 stay together),
//! each page repeating the leading columns (序号, 单位名称) and the header
//! rows. Every page carries 第 N 页，共 M 页.

use rust_xlsxwriter::{Format, FormatAlign, Worksheet, XlsxError};

use crate::message::Lang;

/// The smallest scale phstats prints at: 10-point figures at 5.5 points.
pub const MIN_SCALE: f64 = 0.55;
/// The scale under which A4 gives way to A3, and A3 to pages split by
/// column groups: figures of 10 points print at 6.5 or more.
pub const COMFORT: f64 = 0.65;
/// A split sheet takes one page fewer where this scale allows it.
const SAVE_A_PAGE: f64 = 0.60;
/// A narrow sheet prints portrait when it fits at this scale or more.
const PORTRAIT: f64 = 0.85;

/// A split sheet's pages are planned this much wider than [`points`] says:
/// LibreOffice rounds each column to its own units, and a page planned to
/// the last point lost its last column to a page of its own.
const SLACK: f64 = 1.04;

/// Left and right margins, inches.
const SIDE_MARGIN: f64 = 0.4;

/// A paper and orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    /// A4, portrait.
    A4Portrait,
    /// A4, landscape.
    A4Landscape,
    /// A3, landscape.
    A3Landscape,
}

impl Paper {
    /// The printable width between the side margins, in points.
    #[must_use]
    pub fn printable(self) -> f64 {
        let width = match self {
            Paper::A4Portrait => 595.28,
            Paper::A4Landscape => 841.89,
            Paper::A3Landscape => 1190.55,
        };
        width - 2.0 * SIDE_MARGIN * 72.0
    }
}

/// How a sheet prints.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The paper.
    pub paper: Paper,
    /// The scale it prints at, at most 1 (fitted to one page wide when the
    /// sheet is on one page wide).
    pub scale: f64,
    /// The first column of each page after the first, when split.
    pub breaks: Vec<u16>,
}

/// A column width in Excel's character units as printed, in points, taken
/// wide: LibreOffice with DejaVu Sans standing in for Calibri (no Carlito
/// installed, as on this project's machines) prints 7 points for each unit
/// of the width in the file, which is the width given plus 5/7 of a unit of
/// padding (measured: 10 → 70 pt, 8.43 → 59 pt). Excel prints
/// `trunc(7 w + 5)` pixels, a quarter less, so a sheet planned on this width
/// fits in either.
#[must_use]
pub fn points(width: f64) -> f64 {
    (width + 5.0 / 7.0) * 7.0
}

/// The plan for columns of `widths` (character units, from column A): the
/// first `keep` repeat on every page when the sheet is split, and a page may
/// begin only at a column of `groups` (ascending, after `keep`).
#[must_use]
pub fn plan(widths: &[f64], keep: usize, groups: &[u16]) -> Plan {
    let total: f64 = widths.iter().map(|&w| points(w)).sum();
    let fit = |paper: Paper| (paper.printable() / total).min(1.0);
    if fit(Paper::A4Portrait) >= PORTRAIT {
        return Plan {
            paper: Paper::A4Portrait,
            scale: fit(Paper::A4Portrait),
            breaks: Vec::new(),
        };
    }
    for paper in [Paper::A4Landscape, Paper::A3Landscape] {
        if fit(paper) >= COMFORT {
            return Plan {
                paper,
                scale: fit(paper),
                breaks: Vec::new(),
            };
        }
    }
    // Split on A4 landscape: whole groups, as many to a page as fit at the
    // comfortable scale beside the repeated columns; one page fewer where
    // a scale of [`SAVE_A_PAGE`] still allows it (the 免疫 汇总表's dropout
    // rate alone on a third page, otherwise).
    let paper = Paper::A4Landscape;
    let kept: f64 = widths.iter().take(keep).map(|&w| points(w)).sum();
    let starts: Vec<usize> = std::iter::once(keep)
        .chain(
            groups
                .iter()
                .map(|&g| usize::from(g))
                .filter(|&g| g > keep && g < widths.len()),
        )
        .collect();
    let span =
        |from: usize, to: usize| -> f64 { widths[from..to].iter().map(|&w| points(w)).sum() };
    // The pages at `scale`: their breaks and the widest page's own columns.
    let split = |scale: f64| -> (Vec<u16>, f64) {
        let room = paper.printable() / (scale * SLACK) - kept;
        let mut breaks = Vec::new();
        let mut page_start = keep;
        let mut widest: f64 = 0.0;
        for (k, &start) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(widths.len());
            if start > page_start && span(page_start, end) > room {
                widest = widest.max(span(page_start, start));
                breaks.push(start as u16);
                page_start = start;
            }
        }
        (breaks, widest.max(span(page_start, widths.len())))
    };
    let (mut breaks, mut widest) = split(COMFORT);
    let mut s = COMFORT;
    while s > SAVE_A_PAGE {
        s -= 0.005;
        let (b, w) = split(s);
        if b.len() < breaks.len() {
            (breaks, widest) = (b, w);
            break;
        }
    }
    // A group wider than a page on its own prints smaller, never under the
    // floor; the test of every sheet holds phstats to that.
    let scale = (paper.printable() / ((kept + widest) * SLACK)).clamp(MIN_SCALE, 1.0);
    Plan {
        paper,
        scale,
        breaks,
    }
}

/// What a sheet tells [`apply`]: its column widths and how it may split.
pub struct Layout<'a> {
    /// Each column's width in Excel's character units, from column A; they
    /// are set on the sheet.
    pub widths: &'a [f64],
    /// Leading columns repeated on each page of a split sheet.
    pub keep: usize,
    /// Where a page may begin when split (the first column of each group).
    pub groups: &'a [u16],
    /// Rows repeated at the top of every page (first, last), if any.
    pub header: Option<(u32, u32)>,
}

impl Layout<'_> {
    /// How the sheet will print ([`plan`]); [`apply`] sets the same.
    #[must_use]
    pub fn plan(&self) -> Plan {
        plan(self.widths, self.keep, self.groups)
    }
}

impl Plan {
    /// Each printed page's own columns (first, last), left to right, for a
    /// sheet of `columns` columns: one page wide unless split.
    #[must_use]
    pub fn pages(&self, columns: u16) -> Vec<(u16, u16)> {
        let last = columns.saturating_sub(1);
        let mut starts = vec![0u16];
        starts.extend(self.breaks.iter().copied().filter(|&b| b > 0 && b <= last));
        starts
            .iter()
            .enumerate()
            .map(|(k, &s)| (s, starts.get(k + 1).map_or(last, |n| n - 1)))
            .collect()
    }
}

/// Writes a sheet's title on `row` over each printed page's columns, so that
/// every page of a split sheet has it whole (the later ones marked 续)
/// rather than one title cut across pages. On a split sheet each title
/// stands beside the `keep` repeated columns: over them, the first page's
/// title printed again on every later page.
///
/// # Errors
/// A failure of the workbook writer.
pub fn title(
    ws: &mut Worksheet,
    row: u32,
    pages: &[(u16, u16)],
    keep: usize,
    text: &str,
    format: &Format,
    lang: Lang,
) -> Result<(), XlsxError> {
    let keep = if pages.len() > 1 { keep as u16 } else { 0 };
    for (k, &(first, last)) in pages.iter().enumerate() {
        let first = first.max(keep).min(last);
        let text = if k == 0 {
            text.to_string()
        } else {
            format!("{text}{}", lang.pick("（续）", " (continued)"))
        };
        if last > first {
            ws.merge_range(row, first, row, last, &text, format)?;
        } else {
            ws.write_string_with_format(row, first, &text, format)?;
        }
    }
    Ok(())
}

/// Writes a note (or the 表尾) under a table, wrapped, its row as tall as
/// its lines: across the sheet's columns on one page; on each page of a
/// split sheet, beside the repeated columns, which would otherwise print a
/// cut piece of it on every page after the first.
///
/// # Errors
/// A failure of the workbook writer.
pub fn note(
    ws: &mut Worksheet,
    row: u32,
    widths: &[f64],
    pages: &[(u16, u16)],
    keep: usize,
    text: &str,
    format: &Format,
) -> Result<(), XlsxError> {
    let wrapped = format.clone().set_text_wrap().set_align(FormatAlign::Top);
    let keep = if pages.len() > 1 { keep as u16 } else { 0 };
    let mut lines: f64 = 1.0;
    for &(first, last) in pages {
        let first = first.max(keep).min(last);
        let width: f64 = widths
            .iter()
            .take(usize::from(last) + 1)
            .skip(usize::from(first))
            .map(|&w| points(w))
            .sum();
        lines = lines.max(lines_in(text, width));
        if last > first {
            ws.merge_range(row, first, row, last, text, &wrapped)?;
        } else {
            ws.write_string_with_format(row, first, text, &wrapped)?;
        }
    }
    ws.set_row_height(row, row_height(lines))?;
    Ok(())
}

/// How many lines `text` of 9 or 10 points takes wrapped in a cell `width`
/// points wide: a Chinese character is 10 points wide, a Latin letter or
/// digit half that (display width 2 and 1).
#[must_use]
pub fn lines_in(text: &str, width: f64) -> f64 {
    let text_width = crate::message::display_width(text) as f64 * 5.5;
    (text_width / (width - 8.0).max(40.0)).ceil().max(1.0)
}

/// The height of a row of `lines` wrapped lines of 10-point text: no
/// spreadsheet grows a row by itself when it opens a file.
#[must_use]
pub fn row_height(lines: f64) -> f64 {
    13.5 * lines + 2.0
}

/// How many lines `text` takes in a wrapped column `width` characters wide
/// (a CJK character is 1.8).
///
/// Wrapped as a spreadsheet wraps it, greedily: a CJK character may end a
/// line anywhere, but a run of ASCII letters, digits and signs (`M8:M10`,
/// `2026-03`) is a word that moves to the next line whole, so a line is
/// seldom full. Counted as if every line were full, a 合计 finding's
/// suggestion of 187 widths in the 48 of the feedback's column was given 4
/// lines and LibreOffice wrapped it on 5, its last line cut off.
#[must_use]
pub fn wrapped_lines(text: &str, width: f64) -> usize {
    let per_line = (width - 0.5).max(2.0);
    text.lines()
        .map(|l| lines_wrapped(l, per_line))
        .sum::<usize>()
        .clamp(1, 40)
}

/// The lines of one line of text wrapped greedily at `per_line` widths
/// ([`wrapped_lines`]).
fn lines_wrapped(line: &str, per_line: f64) -> usize {
    let is_word = |c: char| c.is_ascii() && !c.is_ascii_whitespace();
    let (mut lines, mut used) = (1, 0.0);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let w = if is_word(c) {
            let mut w = 1.0;
            while chars.next_if(|&n| is_word(n)).is_some() {
                w += 1.0;
            }
            w
        } else if c.is_ascii() {
            1.0
        } else {
            1.8
        };
        if used > 0.0 && used + w > per_line {
            lines += 1;
            used = 0.0;
        }
        used += w;
        // A word longer than a whole line is broken inside it.
        while used > per_line {
            lines += 1;
            used -= per_line;
        }
    }
    lines
}

/// The page footer of every workbook phstats writes: 第 N 页，共 M 页.
#[must_use]
pub fn page_numbers(lang: Lang) -> &'static str {
    lang.pick("&C第 &P 页，共 &N 页", "&CPage &P of &N")
}

/// Prints a table sheet of `widths` as [`plan`] decides, its rows from the
/// first to `header_last` repeated on every page: for a sheet that writes
/// nothing per printed page (a title over each) and so needs no plan first.
///
/// # Errors
/// A failure of the workbook writer.
pub fn table(
    ws: &mut Worksheet,
    header_last: u32,
    widths: &[f64],
    keep: usize,
    groups: &[u16],
    lang: Lang,
) -> Result<(), XlsxError> {
    let layout = Layout {
        widths,
        keep,
        groups,
        header: Some((0, header_last)),
    };
    apply(ws, &layout, &layout.plan(), lang)
}

/// Sets `layout`'s column widths and prints the sheet as `plan` (its
/// [`Layout::plan`], which the sheet may have asked first to write a title
/// over each page).
///
/// # Errors
/// A failure of the workbook writer.
pub fn apply(
    ws: &mut Worksheet,
    layout: &Layout<'_>,
    plan: &Plan,
    lang: Lang,
) -> Result<(), XlsxError> {
    for (c, &w) in layout.widths.iter().enumerate() {
        ws.set_column_width(c as u16, w)?;
    }
    match plan.paper {
        Paper::A4Portrait => {
            ws.set_portrait();
            ws.set_paper_size(9);
        }
        Paper::A4Landscape => {
            ws.set_landscape();
            ws.set_paper_size(9);
        }
        Paper::A3Landscape => {
            ws.set_landscape();
            ws.set_paper_size(8);
        }
    }
    ws.set_margins(SIDE_MARGIN, SIDE_MARGIN, 0.6, 0.6, 0.3, 0.3);
    if plan.breaks.is_empty() {
        ws.set_print_fit_to_pages(1, 0);
    } else {
        ws.set_print_scale((plan.scale * 100.0).floor() as u16);
        let breaks: Vec<u32> = plan.breaks.iter().map(|&b| u32::from(b)).collect();
        ws.set_vertical_page_breaks(&breaks)?;
        if layout.keep > 0 {
            ws.set_repeat_columns(0, layout.keep as u16 - 1)?;
        }
    }
    ws.set_print_center_horizontally(true);
    if let Some((first, last)) = layout.header {
        ws.set_repeat_rows(first, last)?;
    }
    ws.set_footer(page_numbers(lang));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_lines_move_a_word_that_does_not_fit_to_the_next_line() {
        // LibreOffice wraps this on five lines in the feedback's column of 48.
        let said = "合计行“卡介苗 实种人数”为 0，各村之和为 4，相差 4；请核对 M8:M10。（建议：M8:M10 中有 3 个数字是以文本形式存储的（如 M8），表格的求和公式不计入文本，合计因此少了 4；请把这些单元格转换为数字，再重算合计）";
        assert_eq!(wrapped_lines(said, 48.0), 5);
        // Full lines: 26 characters of 1.8 fill 46.8 of 47.5.
        assert_eq!(wrapped_lines(&"中".repeat(26), 48.0), 1);
        assert_eq!(wrapped_lines(&"中".repeat(27), 48.0), 2);
        // "D9:D15" does not fit after 45 widths: it starts the next line.
        assert_eq!(
            wrapped_lines(&format!("{}D9:D15", "中".repeat(25)), 48.0),
            2
        );
        // A word longer than a line is broken inside it.
        assert_eq!(wrapped_lines(&"x".repeat(100), 48.0), 3);
        assert_eq!(wrapped_lines("", 48.0), 1);
        assert_eq!(wrapped_lines("一\n二", 48.0), 2);
    }

    #[test]
    fn a_narrow_sheet_prints_portrait_at_full_size() {
        // 5 + 12 + 6 × 8 characters: (5.71 + 12.71 + 6 × 8.71) × 7 = 494.8
        // points, within A4 portrait's 537.7.
        let widths = [5.0, 12.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0];
        let p = plan(&widths, 2, &[]);
        assert_eq!(p.paper, Paper::A4Portrait);
        assert!((p.scale - 1.0).abs() < 1e-9);
        assert!(p.breaks.is_empty());
    }

    #[test]
    fn a_wider_sheet_takes_a4_landscape_then_a3() {
        // 24 + 12 × 10.5: (24.71 + 12 × 11.21) × 7 = 1,114.7 points; A4
        // landscape's 784.3 fit it at 70 %, portrait's 537.7 only at 48 %.
        let mut widths = vec![24.0];
        widths.extend([10.5; 12]);
        let p = plan(&widths, 1, &[]);
        assert_eq!(p.paper, Paper::A4Landscape);
        assert!((p.scale - 784.29 / 1114.7).abs() < 1e-3, "{}", p.scale);
        // 24 + 16 × 10.5 = 1,428.5 points: A4 would print it at 55 %,
        // A3's 1,133 at 79 %.
        let mut widths = vec![24.0];
        widths.extend([10.5; 16]);
        let p = plan(&widths, 1, &[]);
        assert_eq!(p.paper, Paper::A3Landscape);
        assert!((p.scale - 1132.95 / 1428.5).abs() < 1e-3, "{}", p.scale);
    }

    #[test]
    fn a_lone_last_group_joins_the_page_before_when_the_scale_allows() {
        // 单位名称 (24), 8 doses of three columns and the dropout rate: at
        // 65 % the rate would be alone on a third page; 2 pages of 4 doses
        // and 4 doses + the rate print at 784.3 / ((173 + 1,020) × 1.04) = 63 %.
        let mut widths = vec![24.0];
        widths.extend([10.5; 25]);
        let groups: Vec<u16> = (0..9).map(|g| 1 + 3 * g).collect();
        let p = plan(&widths, 1, &groups);
        assert_eq!(p.paper, Paper::A4Landscape);
        assert_eq!(p.breaks, vec![13]);
        let expected = 784.29 / ((points(24.0) + 13.0 * points(10.5)) * 1.04);
        assert!((p.scale - expected).abs() < 1e-3, "{}", p.scale);
        assert!(p.scale >= SAVE_A_PAGE && p.scale < COMFORT);
    }

    #[test]
    fn a_sheet_too_wide_is_split_at_whole_groups_never_shrunk() {
        // 序号, 单位名称, then 22 groups of three columns of 10.5: 5,179
        // points of figures, far beyond A3.
        let mut widths = vec![5.0, 14.0];
        widths.extend([10.5; 66]);
        let groups: Vec<u16> = (0..22).map(|g| 2 + 3 * g).collect();
        let p = plan(&widths, 2, &groups);
        assert_eq!(p.paper, Paper::A4Landscape);
        assert!(p.scale >= COMFORT, "{}", p.scale);
        // Each page holds whole groups: it breaks only where a group begins.
        assert!(
            p.breaks.iter().all(|b| groups.contains(b)),
            "{:?}",
            p.breaks
        );
        // And every page fits at that scale, with 序号 and 单位名称.
        let kept = points(5.0) + points(14.0);
        let mut bounds = vec![2usize];
        bounds.extend(p.breaks.iter().map(|&b| usize::from(b)));
        bounds.push(widths.len());
        for w in bounds.windows(2) {
            let page: f64 = widths[w[0]..w[1]].iter().map(|&x| points(x)).sum();
            assert!(
                (kept + page) * SLACK * p.scale <= Paper::A4Landscape.printable() + 1e-6,
                "{w:?}"
            );
        }
        // 784.3 / (0.65 × 1.04) − 142.9 (kept) = 1,017 points a page: 4
        // groups of 235.4 (941.6), so 6 pages of 4, 4, 4, 4, 4 and 2
        // groups, printed at 784.3 / ((142.9 + 941.6) × 1.04) = 69.5 %.
        assert_eq!(p.breaks, vec![14, 26, 38, 50, 62]);
        let expected = 784.29 / ((142.94 + 941.6) * 1.04);
        assert!((p.scale - expected).abs() < 1e-3, "{}", p.scale);
    }
}
