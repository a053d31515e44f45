//! The lines above a return's header: 填报单位, 报告期, and whether the
//! title marks the return a correction (更正). Found by their words, in any
//! cell, alone or several in one cell ("填报单位：… 报告期：…").

use super::cells::Cell;
use super::grid::Grid;
use super::header::Header;
use crate::findings::CellRef;
use crate::normalize;
use crate::period::{Day, Month, Period};

/// Words that introduce the reporting unit.
const UNIT_KEYS: [&str; 7] = [
    "填报单位",
    "填表单位",
    "报送单位",
    "上报单位",
    "报告单位",
    "填报机构",
    "上报机构",
];
/// Words that introduce the period.
const PERIOD_KEYS: [&str; 12] = [
    "报告期",
    "统计期",
    "报告期间",
    "统计时间",
    "报告月份",
    "统计月份",
    "报表月份",
    "所属期",
    "报表期",
    "统计时段",
    "报告时段",
    "统计区间",
];
/// Other keys that may share a cell with the two above and end their value.
const OTHER_KEYS: [&str; 14] = [
    "表号",
    "制定机关",
    "批准文号",
    "有效期",
    "单位:",
    "填报人",
    "填表人",
    "制表人",
    "审核人",
    "负责人",
    "联系人",
    "联系电话",
    "电话",
    "填报日期",
];

/// What the lines above the header say.
#[derive(Debug, Default, Clone)]
pub struct Meta {
    /// The reporting unit as written, and the cell holding it.
    pub unit: Option<(String, CellRef)>,
    /// The period as written, and the cell holding it.
    pub period: Option<(String, CellRef)>,
    /// Where no 报告期 is: a month above the header all the same (a title
    /// that opens with it, a cell holding only it, a date cell of a
    /// month's first day), as written, and its cell.
    pub heading_month: Option<(String, CellRef)>,
    /// Where no 填报单位 is: the texts above the header that no label
    /// introduces, one of which may be the unit's name alone.
    pub heading_texts: Vec<(String, CellRef)>,
    /// The title or another line above the header marks a correction.
    pub correction: bool,
    /// Where the 报告期 gives a month without its year (1月): the years the
    /// sheet writes elsewhere.
    pub years: YearHints,
}

/// The years a sheet writes besides its 报告期, read only where that gives
/// a month without one.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct YearHints {
    /// The years of the title and the other lines above the header (not a
    /// 日期 line): 2026年免疫规划疫苗常规接种情况月报表.
    pub heading: Vec<i32>,
    /// The 报出日期 (or 填报日期), if the sheet has one.
    pub reported: Option<Day>,
}

/// Reads the metadata lines above `header` (and, for a 填报单位 or 报告期
/// not there, the lines below the table) of the sheet named `sheet`.
#[must_use]
pub fn read_meta(grid: &Grid<'_>, header: &Header, sheet: &str) -> Meta {
    let texts = grid.texts_in(grid.first_row()..header.first_row);
    let mut meta = Meta::default();
    for &(row, col, text) in &texts {
        let compact = normalize::compact(text);
        if marks_correction(&compact) {
            meta.correction = true;
        }
        if meta.unit.is_none() {
            // 单位名称 heads the name column too: only 单位名称：X is the unit.
            if let Some(v) = compact
                .strip_prefix("单位名称")
                .and_then(|r| r.strip_prefix([':', '：']))
                .and_then(|_| value_after(&compact, &["单位名称"]))
                .filter(|v| !v.is_empty())
            {
                meta.unit = Some((v, CellRef { row, col }));
            } else if let Some(v) = value_after(&compact, &UNIT_KEYS) {
                meta.unit = if v.is_empty() {
                    beside(grid, row, col, Value::Unit)
                } else {
                    Some((v, CellRef { row, col }))
                };
            }
        }
        if meta.period.is_none() {
            if let Some(v) = value_after(&compact, &PERIOD_KEYS) {
                meta.period = if v.is_empty() {
                    beside(grid, row, col, Value::Period)
                } else {
                    Some((v, CellRef { row, col }))
                };
            }
        }
    }
    if meta.unit.is_none() || meta.period.is_none() {
        footer_lines(grid, header, &mut meta);
    }
    if meta.period.is_none() {
        meta.heading_month = heading_month(grid, header);
    }
    // A month without its year: in the 报告期, or, with no month on the
    // sheet, in the sheet's name (一月). Only then are its years looked for.
    let bare = match &meta.period {
        Some((t, _)) => crate::period::bare_month(t).is_some(),
        None => meta.heading_month.is_none() && crate::period::bare_month(sheet).is_some(),
    };
    if bare {
        meta.years = year_hints(grid, header);
    }
    if meta.unit.is_none() {
        meta.heading_texts = texts
            .iter()
            .filter_map(|&(row, col, t)| {
                let compact = normalize::compact(t);
                // 单位：东城街道卫生院 may name the unit, as 单位：人 names the
                // measure: only its value is offered, which only a unit's
                // name matches.
                if let Some(v) = compact.strip_prefix("单位:") {
                    let v = up_to_next_key(v);
                    return (!v.is_empty()).then_some((v, CellRef { row, col }));
                }
                let plain = !contains_any_key(&compact)
                    && !NOTE_OPENERS.iter().any(|k| compact.starts_with(k));
                plain.then(|| (t.trim().to_string(), CellRef { row, col }))
            })
            .collect();
    }
    meta
}

/// The texts of the name column below `header`, where nothing names the
/// reporting unit: their units may all be one township's. At most
/// [`ROW_NAMES_READ`].
#[must_use]
pub fn row_names(grid: &Grid<'_>, header: &Header) -> Vec<String> {
    let Some(col) = header.name_col else {
        return Vec::new();
    };
    (header.last_row + 1..=grid.last_row())
        .filter_map(|row| grid.cell(row, col).as_name())
        .take(ROW_NAMES_READ)
        .collect()
}

/// How many names of the name column [`row_names`] reads: enough to tell
/// one township's villages from another's.
const ROW_NAMES_READ: usize = 200;

/// 填报单位：… and 报告期：… written below the table, with the signatures,
/// where none is above it: only a cell that opens with its label and holds
/// its value (no unit row's name does).
fn footer_lines(grid: &Grid<'_>, header: &Header, meta: &mut Meta) {
    let below = grid.texts_in(header.first_row..grid.last_row().saturating_add(1));
    for (row, col, text) in below {
        let compact = normalize::compact(text);
        let labelled = |keys: &[&str]| {
            keys.iter()
                .any(|k| compact.starts_with(k))
                .then(|| value_after(&compact, keys))
                .flatten()
                .filter(|v| !v.is_empty())
                .map(|v| (v, CellRef { row, col }))
        };
        if meta.unit.is_none() {
            meta.unit = labelled(&UNIT_KEYS);
        }
        if meta.period.is_none() {
            meta.period = labelled(&PERIOD_KEYS);
        }
    }
}

/// The years `grid` writes above `header` and its 报出日期: for a 报告期 of
/// a month alone.
fn year_hints(grid: &Grid<'_>, header: &Header) -> YearHints {
    let mut hints = YearHints::default();
    for (_, _, t) in grid.texts_in(grid.first_row()..header.first_row) {
        let compact = normalize::compact(t);
        if compact.contains("日期") {
            continue;
        }
        for y in crate::period::years_in(&compact) {
            if !hints.heading.contains(&y) {
                hints.heading.push(y);
            }
        }
    }
    for (row, col, t) in grid.texts_in(grid.first_row()..grid.last_row().saturating_add(1)) {
        let compact = normalize::compact(t);
        if !super::rows::DATE_KEYS.iter().any(|k| compact.contains(k)) {
            continue;
        }
        // In the label's cell, or in a cell after it (text, or a date).
        let day = Day::find_in(&compact).or_else(|| {
            grid.cols()
                .filter(|&c| c > col)
                .find_map(|c| match grid.cell(row, c) {
                    Cell::Date(d) => Day::find_in(&d),
                    Cell::Text(t) => Day::find_in(&normalize::compact(t)),
                    _ => None,
                })
        });
        if day.is_some() {
            hints.reported = day;
            break;
        }
    }
    hints
}

/// A month written above the header without a 报告期 label: a cell holding
/// only it (2026年3月, （2026年3月）, 2026年3月份), a title that opens with it
/// (2026年3月家庭医生签约服务情况月报表), or a date cell of a month's first
/// day (Excel's reading of 2026年3月 typed alone). Rows with a 日期 label
/// (报出日期, 填报日期) hold a day, not the period, and notes are not read;
/// two different months there are none.
fn heading_month(grid: &Grid<'_>, header: &Header) -> Option<(String, CellRef)> {
    let mut found: Option<(String, CellRef, Month)> = None;
    for row in grid.first_row()..header.first_row {
        let cells: Vec<(u32, Cell<'_>)> = grid
            .cols()
            .map(|c| (c, grid.cell(row, c)))
            .filter(|(_, c)| !c.is_blank())
            .collect();
        let dated = cells.iter().any(|(_, c)| {
            c.text()
                .is_some_and(|t| normalize::compact(t).contains("日期"))
        });
        if dated {
            continue;
        }
        for (col, cell) in cells {
            let month = match &cell {
                Cell::Text(t) => month_of_heading(t).map(|m| (t.trim().to_string(), m)),
                Cell::Date(d) if d.get(7..) == Some("-01") => {
                    month_of_date(d).map(|m| (Period::Month(m).label_zh(), m))
                }
                _ => None,
            };
            let Some((text, m)) = month else { continue };
            match &found {
                None => found = Some((text, CellRef { row, col }, m)),
                Some((_, _, f)) if *f != m => return None,
                Some(_) => {}
            }
        }
    }
    found.map(|(text, cell, _)| (text, cell))
}

/// The month of a heading text: the whole text, bracketed or not, a
/// title that opens with it, or a title that closes with it in brackets
/// (免疫规划疫苗常规接种情况月报表（2026年1月）).
fn month_of_heading(text: &str) -> Option<Month> {
    let t = crate::period::written(&normalize::compact(text));
    if NOTE_OPENERS.iter().any(|k| t.starts_with(k)) || contains_any_key(&t) {
        return None;
    }
    let bare = t
        .trim_matches(['（', '）', '(', ')', '【', '】', '[', ']'])
        .trim_end_matches('份');
    if let Some(Period::Month(m)) = Period::parse(bare) {
        return Some(m);
    }
    if let Some(m) = crate::period::month_of_day_range(bare) {
        return Some(m);
    }
    let opens_with_year = t
        .get(..4)
        .is_some_and(|y| y.chars().all(|c| c.is_ascii_digit()))
        && t.get(4..).is_some_and(|rest| rest.starts_with('年'));
    let months = crate::period::months_in_text(&t);
    match months[..] {
        [m] if opens_with_year && t.contains('表') => Some(m),
        [m] if t.contains('表')
            && closing_bracket(&t).is_some_and(|b| month_of_heading(b) == Some(m)) =>
        {
            Some(m)
        }
        _ => None,
    }
}

/// The bracketed text a heading ends with, brackets included: `（2026年1月）`
/// of `月报表（2026年1月）`.
fn closing_bracket(t: &str) -> Option<&str> {
    let close = t.chars().next_back().filter(|c| matches!(c, '）' | ')'))?;
    let open = if close == '）' { '（' } else { '(' };
    t.rfind(open).map(|at| &t[at..])
}

/// The month of a date cell, as [`Cell::Date`] carries it: `2026-03-01`,
/// or with a time after it.
fn month_of_date(date: &str) -> Option<Month> {
    match date.get(0..7).and_then(Period::parse) {
        Some(Period::Month(m)) => Some(m),
        _ => None,
    }
}

/// Which value a label introduces.
#[derive(Clone, Copy)]
enum Value {
    Unit,
    Period,
}

/// The value typed right of a label on its row, other labels passed over,
/// as the text the sheet shows. Excel may not have kept it as text: it turns
/// 2026年3月 typed into a cell into the date 2026-03-01 (read as 2026年3月),
/// 2026.3 and 202603 into numbers, and a unit's code into a number.
fn beside(grid: &Grid<'_>, row: u32, col: u32, value: Value) -> Option<(String, CellRef)> {
    grid.cols().filter(|&c| c > col).find_map(|c| {
        let cell = grid.cell(row, c);
        let text = match (&cell, value) {
            (Cell::Text(t), _) => Some(t.trim().to_string())
                .filter(|t| !t.is_empty() && !contains_any_key(&normalize::compact(t))),
            (Cell::Date(d), Value::Period) => month_of_date(d).map(|m| Period::Month(m).label_zh()),
            (Cell::Number(n), Value::Period) => Some(format!("{n}")),
            (Cell::Number(_), Value::Unit) => cell.as_name(),
            _ => None,
        };
        text.map(|t| (t, CellRef { row, col: c }))
    })
}

/// Words that mark a resubmission (FORMS.md §4).
const CORRECTION_MARKS: [&str; 4] = ["更正", "修改", "修订", "最终版"];
/// How a note opens (注：如需更正请…): its words are instructions, not marks.
const NOTE_OPENERS: [&str; 6] = ["注", "说明", "备注", "填表说明", "提示", "附注"];
/// Words that, just before a mark, make it a request (如需更正, 请修改).
const REQUEST_WORDS: [char; 8] = ['如', '若', '请', '需', '须', '应', '可', '要'];

/// Whether a title, a line above the header or a file name marks the return
/// a correction: 更正, 修改, 修订 or 最终版, not inside a note or a request
/// such as 如需更正请联系….
#[must_use]
pub fn marks_correction(text: &str) -> bool {
    let t = normalize::compact(text);
    if NOTE_OPENERS.iter().any(|k| t.starts_with(k)) {
        return false;
    }
    CORRECTION_MARKS.iter().any(|mark| {
        t.match_indices(mark).any(|(pos, _)| {
            let before: Vec<char> = t[..pos].chars().rev().take(3).collect();
            !before.iter().any(|c| REQUEST_WORDS.contains(c))
        })
    })
}

fn contains_any_key(t: &str) -> bool {
    UNIT_KEYS
        .iter()
        .chain(&PERIOD_KEYS)
        .chain(&OTHER_KEYS)
        .any(|k| t.contains(k))
}

/// The text after the first of `keys` in `compact`, up to the next known key.
fn value_after(compact: &str, keys: &[&str]) -> Option<String> {
    let (pos, key) = keys
        .iter()
        .filter_map(|k| compact.find(k).map(|p| (p, *k)))
        .min_by_key(|(p, k)| (*p, usize::MAX - k.len()))?;
    Some(up_to_next_key(&compact[pos + key.len()..]))
}

/// A label's value: `rest` (what follows the label) up to the next known
/// key, without the colon before it or a separator after it.
fn up_to_next_key(rest: &str) -> String {
    let rest = rest.trim_start_matches([':', '：']);
    let end = UNIT_KEYS
        .iter()
        .chain(&PERIOD_KEYS)
        .chain(&OTHER_KEYS)
        .filter_map(|k| rest.find(k))
        .min()
        .unwrap_or(rest.len());
    rest[..end]
        .trim_end_matches(['，', ',', ';', '；'])
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_split_out_of_a_shared_cell() {
        let c = normalize::compact("填报单位：城东街道社区卫生服务中心    报告期：2026年1月");
        assert_eq!(
            value_after(&c, &UNIT_KEYS).as_deref(),
            Some("城东街道社区卫生服务中心")
        );
        assert_eq!(value_after(&c, &PERIOD_KEYS).as_deref(), Some("2026年1月"));
        assert_eq!(value_after("报告期：", &PERIOD_KEYS).as_deref(), Some(""));
        assert_eq!(
            value_after("报告期间:2026.1", &PERIOD_KEYS).as_deref(),
            Some("2026.1")
        );
        assert_eq!(value_after("表号：卫统免01表", &UNIT_KEYS), None);
    }

    #[test]
    fn correction_marks_but_not_notes() {
        for t in [
            "免疫规划疫苗常规接种情况月报表（更正）",
            "城东街道_202601_修改.xlsx",
            "修订版",
            "2026年1月最终版",
        ] {
            assert!(marks_correction(t), "{t}");
        }
        for t in [
            "注：如需更正请联系区疾控中心",
            "如需修改，请于5日前重新报送",
            "说明：本表更正须经审核",
            "免疫规划疫苗常规接种情况月报表",
        ] {
            assert!(!marks_correction(t), "{t}");
        }
    }
}
