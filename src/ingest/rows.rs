//! The data area of one return: each row becomes a unit's observations,
//! the 合计 row, an ignored 小计/栏次/blank row, or a finding (FORMS.md §2, §4).
//! Every figure cell either becomes an observation or a finding.

use super::cells::{parse_count, parse_rate, Bad, Cell};
use super::grid::Grid;
use super::header::Header;
use crate::findings::{CellRef, Finding, Rule, Severity};
use crate::message::Detail;
use crate::normalize;
use crate::observation::{Observations, RowSum, TotalCell};
use crate::period::{Day, Month};
use crate::registry::{NameMatch, Registry, UnitIdx};
use crate::schema::{FieldIdx, Form, FormIdx, Kind};

/// Words that open the footer (单位负责人：…): the table ends there.
const FOOTER_KEYS: [&str; 13] = [
    "单位负责人",
    "填表人",
    "报出日期",
    "填报日期",
    "填表日期",
    "审核人",
    "制表人",
    "统计负责人",
    "负责人",
    "联系人",
    "联系电话",
    "注:",
    "说明:",
];

/// Whether `row` is a footer line (填表人：…, 报出日期：…).
pub(super) fn is_footer_line(grid: &Grid<'_>, row: u32) -> bool {
    grid.cols().any(|c| {
        grid.cell(row, c).text().is_some_and(|t| {
            let t = normalize::compact(t);
            FOOTER_KEYS.iter().any(|k| t.starts_with(k))
        })
    })
}

/// Names of the 栏次 row's text columns (甲 乙 丙).
const COLUMN_NUMBER_MARKS: [&str; 4] = ["甲", "乙", "丙", "栏次"];

/// What one row of the data area is.
#[derive(Debug, PartialEq)]
enum RowKind {
    Blank,
    Footer,
    ColumnNumbers,
    Total,
    Subtotal,
    NoName,
    Unit(String),
    /// A section heading with no figures, its name less its enumeration.
    Heading(String),
}

/// Whether `row` repeats the header: no number in its figure cells, and
/// a name label in its name cell or at least two labels of `form` over the
/// figure columns.
fn repeats_header(grid: &Grid<'_>, h: &Header, form: &Form, row: u32, name: Option<&str>) -> bool {
    // A unit's row has a number: told apart before any text is looked up.
    let mut texts: Vec<&str> = Vec::new();
    for &(_, col) in &h.columns {
        match grid.cell(row, col) {
            Cell::Empty => {}
            c => match c.text() {
                Some(t) => texts.push(t),
                None => return false,
            },
        }
    }
    if name.is_some_and(|n| super::header::is_name_label(&normalize::label(n))) {
        return true;
    }
    let mut labels = 0;
    for t in texts {
        let l = normalize::label(t);
        if form.is_sub_label(&l) || form.match_label(&l).is_some() {
            labels += 1;
        } else if !l.is_empty() {
            return false;
        }
    }
    labels >= 2
}

fn classify_row(grid: &Grid<'_>, h: &Header, row: u32) -> RowKind {
    let name = h.name_col.and_then(|c| grid.cell(row, c).as_name());
    let serial = h
        .serial_col
        .and_then(|c| grid.cell(row, c).text())
        .map(normalize::compact);
    let figures_present = h
        .columns
        .iter()
        .any(|(_, c)| !grid.cell(row, *c).is_blank());
    let texts: Vec<String> = grid
        .cols()
        .filter_map(|c| grid.cell(row, c).text().map(normalize::compact))
        .collect();
    if texts
        .iter()
        .any(|t| FOOTER_KEYS.iter().any(|k| t.starts_with(k)))
        && name.as_deref().is_none_or(|n| {
            FOOTER_KEYS
                .iter()
                .any(|k| normalize::compact(n).starts_with(k))
        })
    {
        return RowKind::Footer;
    }
    let compact_name = name.as_deref().map(normalize::compact);
    // No unit's name has a colon: with no figures, 数据来源：… or another
    // labelled line is a note, passed over (not the footer: the table may
    // go on below it, and a village there would be lost).
    if !figures_present && compact_name.as_deref().is_some_and(|n| n.contains(':')) {
        return RowKind::Blank;
    }
    // Nor is a section heading in Chinese numerals (一、城区社区, （二）农村,
    // or 一、 in the 序号 column beside 城区): with no figures, it heads the
    // rows below.
    if !figures_present {
        if let Some(n) = &compact_name {
            if let Some(end) = enumeration(n) {
                return RowKind::Heading(n[end..].to_string());
            }
            let numbered = serial.as_deref().is_some_and(|s| {
                enumeration(s) == Some(s.len())
                    || s.chars().all(|c| "一二三四五六七八九十".contains(c))
            });
            if numbered {
                return RowKind::Heading(n.clone());
            }
        }
    }
    if compact_name
        .as_deref()
        .is_some_and(|n| COLUMN_NUMBER_MARKS.contains(&n))
        || serial
            .as_deref()
            .is_some_and(|s| COLUMN_NUMBER_MARKS.contains(&s))
    {
        return RowKind::ColumnNumbers;
    }
    if numbers_its_columns(grid, h, row) {
        return RowKind::ColumnNumbers;
    }
    // 小计 or 合计 in the name cell; with the name cell empty, left of it:
    // in the 序号 column, or merged across 序号 and 单位名称 (a merged
    // cell's text is in its first cell).
    let sum_row = |n: &str| {
        if n.ends_with("小计") {
            Some(RowKind::Subtotal)
        } else if n == "总计" || n.ends_with("合计") || n.starts_with("合计") {
            Some(RowKind::Total)
        } else {
            None
        }
    };
    match compact_name {
        Some(n) => sum_row(&n).unwrap_or_else(|| RowKind::Unit(name.unwrap_or_default())),
        None => {
            let left_of_name = h.name_col.and_then(|name_col| {
                grid.cols()
                    .take_while(|&c| c < name_col)
                    .filter_map(|c| grid.cell(row, c).text().map(normalize::compact))
                    .last()
            });
            match left_of_name.as_deref().and_then(sum_row) {
                Some(kind) => kind,
                None if figures_present => RowKind::NoName,
                None => RowKind::Blank,
            }
        }
    }
}

/// The length in bytes of the Chinese-numeral enumeration `text` opens
/// with (一、, 十二., （三）, (四)), if it opens with one.
fn enumeration(text: &str) -> Option<usize> {
    let numeral = |c: char| "一二三四五六七八九十".contains(c);
    let (inner, close): (&str, &[char]) = match text.strip_prefix(['(', '（']) {
        Some(rest) => (rest, &[')', '）']),
        None => (text, &['、', '.', '．']),
    };
    let digits: usize = inner
        .chars()
        .take_while(|&c| numeral(c))
        .map(char::len_utf8)
        .sum();
    let after = inner[digits..].chars().next()?;
    (digits > 0 && close.contains(&after))
        .then(|| text.len() - inner.len() + digits + after.len_utf8())
}

/// A 栏次 row whatever its marks (甲 乙, —, A B, none): its figure cells
/// number the columns, each one more than the cell to its left's column
/// (1 2 3 …, gaps where a column is not a field), at least four of them.
/// No unit's figures run so.
fn numbers_its_columns(grid: &Grid<'_>, h: &Header, row: u32) -> bool {
    let mut offset = None;
    let mut n = 0;
    for &(_, col) in &h.columns {
        let number = match grid.cell(row, col) {
            Cell::Empty => continue,
            Cell::Number(v) => v,
            // Typed as text in some templates.
            Cell::Text(t) => match normalize::compact(t).parse::<f64>() {
                Ok(v) => v,
                Err(_) => return false,
            },
            _ => return false,
        };
        if number.fract() != 0.0 || !(1.0..1000.0).contains(&number) {
            return false;
        }
        let o = number as i64 - i64::from(col);
        if *offset.get_or_insert(o) != o {
            return false;
        }
        n += 1;
    }
    n >= 4
}

/// Where a return's rows are being read, for findings.
pub struct RowContext<'a> {
    /// File as given.
    pub file: &'a str,
    /// Sheet name.
    pub sheet: &'a str,
    /// Form index and definition.
    pub form_idx: FormIdx,
    /// The form.
    pub form: &'a Form,
    /// The reporting unit.
    pub parent: UnitIdx,
    /// Month of the return.
    pub month: Month,
    /// The registry.
    pub registry: &'a Registry,
}

impl RowContext<'_> {
    fn finding(&self, rule: Rule, cell: CellRef, detail: Detail) -> Finding {
        Finding::new(rule, detail)
            .file(self.file)
            .sheet(self.sheet)
            .cell(cell)
            .form(&self.form.id)
            .period(self.month)
    }
}

/// What the data area held.
#[derive(Debug, Default)]
pub struct Rows {
    /// Unit rows' figures (return index 0; the caller renumbers).
    pub obs: Observations,
    /// The 合计 row.
    pub totals: Vec<TotalCell>,
    /// Row of the 合计 row.
    pub total_row: Option<u32>,
    /// Per count column, the sum of every unit row on the sheet — named,
    /// unknown or repeated — for the 合计 check (FORMS.md §4).
    pub row_sums: Vec<RowSum>,
    /// The footer's 报出日期, if any.
    pub reported_on: Option<Day>,
    /// Units suggested for rows whose name is not in the registry: their
    /// absence from the return is that row's finding, not another.
    pub suggested: Vec<UnitIdx>,
    /// Problems found.
    pub findings: Vec<Finding>,
    /// Columns with figures in unit rows but no header label: first cell
    /// and count. Not counted; reported with the header's unknown columns.
    pub unlabelled: Vec<(CellRef, usize)>,
}

/// A row naming no unit of the reporting unit: reported once every row is
/// known, so the suggestion can prefer the units the return does not name.
struct UnknownRow {
    cell: CellRef,
    name: String,
    elsewhere: Option<UnitIdx>,
    /// The township whose section of a county's return the row is in: its
    /// villages are the likeliest names.
    section: Option<UnitIdx>,
    /// The units below the reporting unit so named, when more than one.
    several: Vec<UnitIdx>,
}

/// A row found to be a unit's, read once every row is known: a township's
/// row with its villages below it is their subtotal, not counted.
struct UnitRow {
    row: u32,
    unit: UnitIdx,
    name: String,
}

/// A county's (or a city's) return that lists its townships' villages,
/// grouped by township (FORMS.md §2): a township's row above its villages,
/// or a 东城街道小计 / 东城街道合计 row below them, says whose villages
/// they are, as village names repeat between townships.
struct Sections {
    /// The reporting unit has units below its children.
    deep: bool,
    /// The rows that close a township's villages, and the township.
    ends: Vec<(u32, UnitIdx)>,
    /// The township whose row was the last above.
    current: Option<UnitIdx>,
}

impl Sections {
    fn new(grid: &Grid<'_>, h: &Header, ctx: &RowContext<'_>) -> Sections {
        let registry = ctx.registry;
        let deep = registry
            .unit(ctx.parent)
            .children
            .iter()
            .any(|&c| !registry.unit(c).children.is_empty());
        let mut ends = Vec::new();
        if deep {
            for row in (h.last_row + 1)..=grid.last_row() {
                if let Some(t) = section_end(grid, h, ctx, row) {
                    ends.push((row, t));
                }
            }
        }
        Sections {
            deep,
            ends,
            current: None,
        }
    }

    /// The township whose villages `row` is among: the last township row
    /// above it, else the first 小计 below it.
    fn of_row(&self, row: u32) -> Option<UnitIdx> {
        self.current
            .or_else(|| self.ends.iter().find(|(r, _)| *r > row).map(|&(_, t)| t))
    }

    /// The unit below the reporting unit's children that `name` on `row`
    /// is: the one so named, or of several, the one in the row's section.
    /// `Err` with the units so named where that does not decide.
    fn find(&self, ctx: &RowContext<'_>, row: u32, name: &str) -> Result<UnitIdx, Vec<UnitIdx>> {
        if !self.deep {
            return Err(Vec::new());
        }
        let found = ctx.registry.find_below(ctx.parent, name);
        if let [one] = found.as_slice() {
            return Ok(*one);
        }
        let section = self.of_row(row);
        let inside: Vec<UnitIdx> = found
            .iter()
            .copied()
            .filter(|&u| section.is_some_and(|t| ctx.registry.is_within(u, t)))
            .collect();
        match inside.as_slice() {
            [one] => Ok(*one),
            _ => Err(found),
        }
    }
}

/// The township (a child of the reporting unit with units of its own) a
/// 东城街道小计 or 东城街道合计 row closes.
fn section_end(grid: &Grid<'_>, h: &Header, ctx: &RowContext<'_>, row: u32) -> Option<UnitIdx> {
    if !matches!(
        classify_row(grid, h, row),
        RowKind::Subtotal | RowKind::Total
    ) {
        return None;
    }
    let texts: Vec<String> = grid
        .cols()
        .take_while(|&c| h.name_col.is_none_or(|n| c <= n))
        .filter_map(|c| grid.cell(row, c).text().map(normalize::compact))
        .collect();
    texts.iter().rev().find_map(|t| {
        let name = t.strip_suffix("小计").or_else(|| t.strip_suffix("合计"))?;
        let name = name.trim_end_matches([':', '-', '(', ')']);
        match ctx.registry.find_child(ctx.parent, name) {
            NameMatch::Found(u) if !ctx.registry.unit(u).children.is_empty() => Some(u),
            _ => None,
        }
    })
}

/// Reads every row below the header until the footer or the end of the sheet.
#[must_use]
pub fn read_rows(grid: &Grid<'_>, h: &Header, ctx: &RowContext<'_>) -> Rows {
    let mut out = Rows::default();
    // Where the footer begins, once the table's rows end there.
    let mut footer = None;
    let mut unknown: Vec<UnknownRow> = Vec::new();
    let mut unit_rows: Vec<UnitRow> = Vec::new();
    // The rows in the 合计's sums: every unit row, named or not.
    let mut summed: Vec<u32> = Vec::new();
    let parent_code = ctx.registry.unit(ctx.parent).code.0;
    let mut unlabelled = Unlabelled::new(grid, h);
    let mut sections = Sections::new(grid, h, ctx);
    let mut own_row: Option<(u32, String)> = None;
    // A row per unit and group: the group and the unit of the rows above,
    // for a group or a unit's name merged down over its rows.
    let mut group_above: Option<super::header::RowKey> = None;
    let mut name_above: Option<String> = None;
    for row in (h.last_row + 1)..=grid.last_row() {
        let name_cell = CellRef {
            row,
            col: h.name_col.unwrap_or(0),
        };
        // A township's 小计 (or 合计) among its villages closes its section.
        if sections.ends.iter().any(|(r, _)| *r == row) {
            sections.current = None;
            continue;
        }
        let mut kind = classify_row(grid, h, row);
        if let Some(of) = &h.rows_of {
            if let Some(k) = grid.cell(row, of.col).text().and_then(|t| of.key_of(t)) {
                group_above = Some(k);
            }
            match &kind {
                RowKind::Unit(name) => name_above = Some(name.clone()),
                RowKind::NoName => {
                    if let Some(name) = &name_above {
                        kind = RowKind::Unit(name.clone());
                    }
                }
                RowKind::Total | RowKind::Subtotal | RowKind::Footer => name_above = None,
                _ => {}
            }
            // Another group's row is another reading's.
            if !matches!(kind, RowKind::Footer | RowKind::Blank)
                && group_above.as_ref() != Some(&of.key)
            {
                continue;
            }
        }
        match kind {
            RowKind::Blank | RowKind::ColumnNumbers | RowKind::Subtotal => {}
            // A township's heading in a county's return (一、东城街道) opens
            // its villages, as its row does; any other names no unit.
            RowKind::Heading(name) => {
                if let NameMatch::Found(u) | NameMatch::Assumed(u) =
                    ctx.registry.find_child(ctx.parent, &name)
                {
                    if sections.deep && !ctx.registry.unit(u).children.is_empty() {
                        sections.current = Some(u);
                    }
                }
            }
            RowKind::Footer => {
                footer = Some(row);
                break;
            }
            RowKind::Total => {
                if let Some(first) = out.total_row {
                    out.findings.push(
                        ctx.finding(
                            Rule::DuplicateRow,
                            name_cell,
                            Detail::SecondTotalRow {
                                first_row: first + 1,
                                across: false,
                            },
                        )
                        .unit(parent_code),
                    );
                    continue;
                }
                read_total(&mut out, grid, h, ctx, row);
            }
            // The header again part-way down: no unit's row. Asked only of
            // a row no unit is found for.
            RowKind::NoName if repeats_header(grid, h, ctx.form, row, None) => {}
            RowKind::NoName => {
                summed.push(row);
                out.findings.push(
                    ctx.finding(
                        Rule::UnknownUnit,
                        name_cell,
                        Detail::RowWithoutName {
                            row: row + 1,
                            across: false,
                        },
                    )
                    .unit(parent_code),
                );
            }
            RowKind::Unit(name) => {
                let found = ctx.registry.find_child(ctx.parent, &name);
                // A row naming the reporting unit itself (东城街道 above its
                // villages) is its total where the sheet labels none: kept
                // aside until the rows below are known.
                if let NameMatch::NotFound {
                    elsewhere: Some(u), ..
                } = found
                {
                    if u == ctx.parent && own_row.is_none() {
                        own_row = Some((row, name));
                        continue;
                    }
                }
                // 其中：流动儿童 under a row: a part of the row above, no
                // unit's, and in no 合计 (a village so named is found first);
                // the header again part-way down, no unit's row either.
                if matches!(found, NameMatch::NotFound { .. })
                    && (normalize::compact(&name).starts_with("其中")
                        || repeats_header(grid, h, ctx.form, row, Some(&name)))
                {
                    continue;
                }
                // Every unit row is on the sheet and in its 合计, whether or
                // not its name is known: one misspelt village is one finding.
                summed.push(row);
                let unit = match found {
                    NameMatch::Found(u) | NameMatch::Assumed(u) => {
                        // A township's row in a county's return: the
                        // villages below it, if any, are its.
                        if sections.deep && !ctx.registry.unit(u).children.is_empty() {
                            sections.current = Some(u);
                        }
                        u
                    }
                    NameMatch::NotFound { elsewhere, .. } => match sections.find(ctx, row, &name) {
                        Ok(u) => u,
                        Err(several) => {
                            unknown.push(UnknownRow {
                                cell: name_cell,
                                name,
                                elsewhere,
                                section: sections.of_row(row),
                                several,
                            });
                            continue;
                        }
                    },
                };
                unit_rows.push(UnitRow { row, unit, name });
            }
        }
    }
    // A village several townships have, in a county's list with no
    // township rows: the one of the township its neighbours are in.
    if unknown.iter().any(|u| u.several.len() > 1) {
        // Judged by the rows found by name only: one guess is never the
        // ground of the next.
        let mut left = Vec::new();
        let mut assumed = Vec::new();
        for u in std::mem::take(&mut unknown) {
            let unit = (u.several.len() > 1)
                .then(|| by_neighbours(ctx, &unit_rows, u.cell.row, &u.several))
                .flatten();
            match unit {
                Some(unit) => {
                    out.findings
                        .push(assumed_row(ctx, u.cell, &u.name, unit, u.several.len()));
                    assumed.push(UnitRow {
                        row: u.cell.row,
                        unit,
                        name: u.name,
                    });
                }
                None => left.push(u),
            }
        }
        unknown = left;
        unit_rows.extend(assumed);
        unit_rows.sort_by_key(|r| r.row);
    }
    // A township's row with villages of it below: their subtotal, in no
    // sum and not counted (FORMS.md §2: 小计 rows are ignored).
    if sections.deep {
        let subtotals: Vec<UnitIdx> = unit_rows
            .iter()
            .map(|r| r.unit)
            .filter(|&t| {
                unit_rows
                    .iter()
                    .any(|r| r.unit != t && ctx.registry.is_within(r.unit, t))
            })
            .collect();
        if !subtotals.is_empty() {
            let rows: Vec<u32> = unit_rows
                .iter()
                .filter(|r| subtotals.contains(&r.unit))
                .map(|r| r.row)
                .collect();
            unit_rows.retain(|r| !subtotals.contains(&r.unit));
            summed.retain(|r| !rows.contains(r));
        }
    }
    let mut sums = Sums::new(h, ctx.form);
    for &row in &summed {
        sums.add(grid, h, row);
    }
    let mut seen: Vec<(UnitIdx, u32)> = Vec::new();
    for UnitRow { row, unit, name } in unit_rows {
        let name_cell = CellRef {
            row,
            col: h.name_col.unwrap_or(0),
        };
        if let Some((_, first)) = seen.iter().find(|(u, _)| *u == unit) {
            out.findings.push(
                ctx.finding(
                    Rule::DuplicateRow,
                    name_cell,
                    Detail::RowTwice {
                        name: name.clone(),
                        first_row: first + 1,
                        across: false,
                    },
                )
                .unit(ctx.registry.unit(unit).code.0)
                .value(name.clone()),
            );
            continue;
        }
        seen.push((unit, row));
        unlabelled.scan(grid, row);
        let code = ctx.registry.unit(unit).code.0;
        let (values, findings) = read_figures(grid, h, ctx, row, code);
        out.findings.extend(findings);
        for (field, value, cell) in values {
            out.obs
                .push(unit, ctx.form_idx, field, ctx.month, value, 0, cell);
        }
    }
    if let Some((row, name)) = own_row {
        match out.total_row {
            None => read_total(&mut out, grid, h, ctx, row),
            // Beside a 合计: another total, or the centre's own figures;
            // counted in neither, and named.
            Some(total_row) => out.findings.push(
                ctx.finding(
                    Rule::DuplicateRow,
                    CellRef {
                        row,
                        col: h.name_col.unwrap_or(0),
                    },
                    Detail::OwnNameBesideTotal {
                        name: name.clone(),
                        total_row: total_row + 1,
                        across: false,
                    },
                )
                .unit(parent_code)
                .value(name),
            ),
        }
    }
    let named: Vec<UnitIdx> = seen.iter().map(|(u, _)| *u).collect();
    let lone = unknown.len() == 1;
    for u in unknown {
        if u.several.len() > 1 {
            out.suggested.extend(&u.several);
            out.findings
                .push(ambiguous_row(ctx, u.cell, &u.name, &u.several));
            continue;
        }
        let suggestion =
            ctx.registry
                .suggest_child(u.section.unwrap_or(ctx.parent), &u.name, &named, lone);
        out.suggested.extend(suggestion);
        let name = suggestion.map(|c| ctx.registry.unit(c).name.clone());
        out.findings
            .push(unknown_unit(ctx, u.cell, &u.name, name, u.elsewhere));
    }
    out.row_sums = sums.finish();
    out.unlabelled = unlabelled.finish();
    out.reported_on = report_date(grid, h.first_row, footer, ctx.month);
    out
}

/// Reads `row` as the sheet's 合计: its figures are the totals the unit
/// rows are checked against, never counted themselves.
fn read_total(out: &mut Rows, grid: &Grid<'_>, h: &Header, ctx: &RowContext<'_>, row: u32) {
    let parent_code = ctx.registry.unit(ctx.parent).code.0;
    out.total_row = Some(row);
    let (values, findings) = read_figures(grid, h, ctx, row, parent_code);
    out.findings.extend(findings);
    out.totals = values
        .into_iter()
        .map(|(field, value, cell)| TotalCell { field, value, cell })
        .collect();
}

/// Column sums over every unit row, for the 合计 check.
struct Sums {
    sums: Vec<RowSum>,
}

impl Sums {
    fn new(h: &Header, form: &Form) -> Sums {
        Sums {
            sums: h
                .columns
                .iter()
                .filter(|(f, _)| form.field(*f).kind != Kind::Rate)
                .map(|&(field, _)| RowSum {
                    field,
                    sum: None,
                    first_row: u32::MAX,
                    last_row: 0,
                    unreadable: false,
                    text: None,
                })
                .collect(),
        }
    }

    fn add(&mut self, grid: &Grid<'_>, h: &Header, row: u32) {
        for s in &mut self.sums {
            let Some(&(_, col)) = h.columns.iter().find(|(f, _)| *f == s.field) else {
                continue;
            };
            let cell = grid.cell(row, col);
            match parse_count(&cell).or_else(|b| b.number.map(Some).ok_or(b)) {
                Ok(Some(v)) => {
                    s.sum = Some(s.sum.unwrap_or(0.0) + v);
                    s.first_row = s.first_row.min(row);
                    s.last_row = s.last_row.max(row);
                    if matches!(cell, Cell::Text(_)) {
                        let t = s.text.get_or_insert(crate::observation::TextFigures {
                            count: 0,
                            sum: 0.0,
                            first: CellRef { row, col },
                        });
                        t.count += 1;
                        t.sum += v;
                    }
                }
                Ok(None) => {}
                // A cell that cannot be read is its own finding; the 合计
                // of its column cannot be checked without it.
                Err(_) => s.unreadable = true,
            }
        }
    }

    fn finish(self) -> Vec<RowSum> {
        self.sums
    }
}

/// Keys of the footer line that dates the return.
pub(super) const DATE_KEYS: [&str; 5] =
    ["报出日期", "填报日期", "填表日期", "报送日期", "上报日期"];

/// The 报出日期 of a table whose first row is `top` and whose footer
/// begins at `footer` (none found: the table has no footer): the footer's,
/// else the heading's (填报单位：… 报告期：… 报出日期：… on one line above
/// the table), so that a return dated there and not below is dated, not
/// left without a date.
pub(super) fn report_date(
    grid: &Grid<'_>,
    top: u32,
    footer: Option<u32>,
    month: Month,
) -> Option<Day> {
    footer
        .and_then(|row| footer_date(grid, row, month))
        .or_else(|| (grid.first_row()..top).find_map(|r| date_of_row(grid, r, month)))
}

/// The 报出日期 written in the footer from `row` down: after its key in the
/// same cell, or in a later cell of the row (as text or as a date). A day
/// written without its year (4月3日) is the first such day after `month`
/// began.
fn footer_date(grid: &Grid<'_>, row: u32, month: Month) -> Option<Day> {
    (row..=grid.last_row()).find_map(|r| date_of_row(grid, r, month))
}

/// The day row `r` dates the return with, after one of [`DATE_KEYS`].
fn date_of_row(grid: &Grid<'_>, r: u32, month: Month) -> Option<Day> {
    let find = |t: &str| Day::find_in(t).or_else(|| Day::find_after(t, month));
    let mut after_key = false;
    for c in grid.cols() {
        let cell = grid.cell(r, c);
        if let Some(t) = cell.text() {
            let compact = normalize::compact(t);
            if let Some(pos) = DATE_KEYS
                .iter()
                .filter_map(|k| compact.find(k).map(|p| p + k.len()))
                .min()
            {
                if let Some(d) = find(&compact[pos..]) {
                    return Some(d);
                }
                after_key = true;
                continue;
            }
            if after_key {
                if let Some(d) = find(t) {
                    return Some(d);
                }
            }
        } else if after_key {
            match cell {
                Cell::Date(d) => {
                    return d
                        .parse::<f64>()
                        .ok()
                        .and_then(Day::from_serial)
                        .or_else(|| Day::find_in(&d))
                }
                Cell::Number(n) => return Day::from_serial(n),
                _ => {}
            }
        }
    }
    None
}

/// Figures typed into columns that have no header label at all: not
/// counted, but never silently dropped either.
struct Unlabelled {
    /// Columns a unit row's figure may not sit in unnoticed.
    cols: Vec<u32>,
    /// Per such column with values: its first cell, how many, and the last
    /// value while they still run 1, 2, 3… (an unlabelled serial column).
    found: Vec<(CellRef, usize, Option<f64>)>,
}

impl Unlabelled {
    fn new(grid: &Grid<'_>, h: &Header) -> Unlabelled {
        let used = |c: u32| {
            Some(c) == h.name_col
                || Some(c) == h.serial_col
                || h.columns.iter().any(|(_, fc)| *fc == c)
                || (h.first_row.saturating_sub(1)..=h.last_row).any(|r| !grid.cell(r, c).is_blank())
        };
        Unlabelled {
            cols: grid.cols().filter(|&c| !used(c)).collect(),
            found: Vec::new(),
        }
    }

    fn scan(&mut self, grid: &Grid<'_>, row: u32) {
        for &col in &self.cols {
            let cell = grid.cell(row, col);
            if cell.is_blank() {
                continue;
            }
            let number = match cell {
                Cell::Number(x) if x.fract() == 0.0 => Some(x),
                _ => None,
            };
            match self.found.iter_mut().find(|(c, _, _)| c.col == col) {
                Some((_, n, serial)) => {
                    *n += 1;
                    *serial = match (*serial, number) {
                        (Some(last), Some(x)) if x > last => Some(x),
                        _ => None,
                    };
                }
                None => self.found.push((
                    CellRef { row, col },
                    1,
                    number.filter(|x| (1.0..=2.0).contains(x)),
                )),
            }
        }
    }

    /// Each column that held figures, with its first cell and how many;
    /// serial columns left out.
    fn finish(self) -> Vec<(CellRef, usize)> {
        self.found
            .into_iter()
            .filter(|(_, n, serial)| serial.is_none() || *n < 2)
            .map(|(cell, n, _)| (cell, n))
            .collect()
    }
}

/// Of `several` units named alike, the one whose township holds the
/// nearest village rows above and below `row` (one of them, where the
/// other is another township's): none where that does not decide.
fn by_neighbours(
    ctx: &RowContext<'_>,
    unit_rows: &[UnitRow],
    row: u32,
    several: &[UnitIdx],
) -> Option<UnitIdx> {
    let township = |r: &&UnitRow| {
        let u = ctx.registry.unit(r.unit);
        u.children.is_empty().then_some(u.parent).flatten()
    };
    let above = unit_rows
        .iter()
        .rev()
        .filter(|r| r.row < row)
        .find_map(|r| township(&r));
    let below = unit_rows
        .iter()
        .filter(|r| r.row > row)
        .find_map(|r| township(&r));
    let mut fits = several.iter().copied().filter(|&u| {
        let p = ctx.registry.unit(u).parent;
        p.is_some() && (p == above || p == below)
    });
    match (fits.next(), fits.next()) {
        (Some(u), None) => Some(u),
        _ => None,
    }
}

/// A row naming a village several townships of the county have, taken to
/// be the one its neighbouring rows' township has: counted, and said.
fn assumed_row(
    ctx: &RowContext<'_>,
    cell: CellRef,
    name: &str,
    unit: UnitIdx,
    several: usize,
) -> Finding {
    let registry = ctx.registry;
    let u = registry.unit(unit);
    let township = u
        .parent
        .map(|p| registry.unit(p).name.clone())
        .unwrap_or_default();
    ctx.finding(
        Rule::UnknownUnit,
        cell,
        Detail::RowAssumed {
            name: name.to_string(),
            parent: registry.unit(ctx.parent).name.clone(),
            several,
            township,
            code: u.code.to_string(),
            across: false,
        },
    )
    .unit(u.code.0)
    .value(name)
    .at_most(Severity::Warning)
}

/// A row of a county's return naming a village that several of its
/// townships have, with no township row or 小计 to say whose.
fn ambiguous_row(ctx: &RowContext<'_>, cell: CellRef, name: &str, several: &[UnitIdx]) -> Finding {
    let parent = ctx.registry.unit(ctx.parent);
    let places = several
        .iter()
        .filter_map(|&u| ctx.registry.unit(u).parent)
        .map(|p| ctx.registry.unit(p).name.clone())
        .collect();
    ctx.finding(
        Rule::UnknownUnit,
        cell,
        Detail::AmbiguousRow {
            name: name.to_string(),
            parent: parent.name.clone(),
            places,
            across: false,
        },
    )
    .unit(parent.code)
    .value(name)
}

fn unknown_unit(
    ctx: &RowContext<'_>,
    cell: CellRef,
    name: &str,
    suggestion: Option<String>,
    elsewhere: Option<UnitIdx>,
) -> Finding {
    let parent = ctx.registry.unit(ctx.parent);
    let elsewhere = elsewhere.map(|e| {
        let u = ctx.registry.unit(e);
        let p = u
            .parent
            .map(|p| ctx.registry.unit(p).name.clone())
            .unwrap_or_default();
        (u.name.clone(), p, u.code.to_string())
    });
    ctx.finding(
        Rule::UnknownUnit,
        cell,
        Detail::UnknownRow {
            name: name.to_string(),
            parent: parent.name.clone(),
            suggestion,
            elsewhere,
            across: false,
        },
    )
    .unit(parent.code)
    .value(name)
}

pub(super) type Figures = (Vec<(FieldIdx, Option<f64>, CellRef)>, Vec<Finding>);

/// Reads the figure cells of one row: counts checked as whole numbers ≥ 0,
/// reported rates read in whichever notation matches the row's own figures.
pub(super) fn read_figures(
    grid: &Grid<'_>,
    h: &Header,
    ctx: &RowContext<'_>,
    row: u32,
    unit_code: u64,
) -> Figures {
    // A test plants a bug here to prove one is reported as phstats' own.
    crate::fault::plant("rows");
    let mut values = Vec::with_capacity(h.columns.len());
    let mut findings = Vec::new();
    let mut rates: Vec<(FieldIdx, f64, bool, CellRef)> = Vec::new();
    // #DIV/0! in a rate, judged once the row's denominator is known.
    let mut div0: Vec<(FieldIdx, CellRef, Finding)> = Vec::new();
    for &(field, col) in &h.columns {
        let cell = CellRef { row, col };
        let f = ctx.form.field(field);
        let c: Cell<'_> = grid.cell(row, col);
        if f.kind == Kind::Rate {
            match parse_rate(&c) {
                Ok(Some(r)) => rates.push((field, r.value, r.percent_sign, cell)),
                Ok(None) => values.push((field, None, cell)),
                // A rate is only checked, never counted (FORMS.md §3):
                // a problem in its cell is at most a warning.
                Err(b) => {
                    let finding =
                        bad_cell(ctx, cell, unit_code, field, &c, &b).at_most(Severity::Warning);
                    match &c {
                        Cell::Error(e) if e == "#DIV/0!" => div0.push((field, cell, finding)),
                        _ => findings.push(finding),
                    }
                }
            }
            continue;
        }
        match parse_count(&c) {
            Ok(v) => values.push((field, v, cell)),
            // Not counted, and said: the figure is empty (not reported)
            // where it stands. Dropped instead, a row whose every cell is
            // bad was no row at all, and the return was said to lack it
            // (“没有某村这一行”, with the advice to add the row).
            Err(b) => {
                findings.push(bad_cell(ctx, cell, unit_code, field, &c, &b));
                values.push((field, None, cell));
            }
        }
    }
    // A rate formula over a denominator of 0 (or left empty, which Excel
    // reads as 0) shows #DIV/0!: the honest result, as a zero denominator
    // gives no rate (FORMS.md §5), so the rate is not reported. Over a
    // denominator that is there, the formula is wrong: said.
    for (field, cell, finding) in div0 {
        let denominator = ctx
            .form
            .field(field)
            .ratio
            .and_then(|ratio| row_value(&values, ratio.denominator));
        if denominator.is_some_and(|d| d != 0.0) {
            findings.push(finding);
        } else {
            values.push((field, None, cell));
        }
    }
    for (field, v, percent_sign, cell) in rates {
        let value = if percent_sign {
            v
        } else {
            resolve_fraction(ctx.form, field, v, &values)
        };
        values.push((field, Some(value), cell));
    }
    (values, findings)
}

/// The figure a row read for `field`, if reported.
fn row_value(row: &[(FieldIdx, Option<f64>, CellRef)], field: FieldIdx) -> Option<f64> {
    row.iter().find(|(g, _, _)| *g == field).and_then(|x| x.1)
}

/// A rate cell formatted as a percentage stores the fraction (0.952 shows as
/// 95.2 %, 1.011 as 101.1 % with catch-up doses), and nothing in the cell
/// says so. Read it as percent when that agrees better with the row's own
/// numerator and denominator; without them it is taken as written.
fn resolve_fraction(
    form: &Form,
    field: FieldIdx,
    v: f64,
    row: &[(FieldIdx, Option<f64>, CellRef)],
) -> f64 {
    let Some(ratio) = form.field(field).ratio else {
        return v;
    };
    let get = |f: FieldIdx| row_value(row, f);
    let (Some(n), Some(d)) = (get(ratio.numerator), get(ratio.denominator)) else {
        return v;
    };
    let minus = ratio.minus.map_or(Some(0.0), get);
    let Some(m) = minus else { return v };
    if d == 0.0 {
        return v;
    }
    let expected = (n - m) / d * 100.0;
    if (v * 100.0 - expected).abs() < (v - expected).abs() {
        v * 100.0
    } else {
        v
    }
}

fn bad_cell(
    ctx: &RowContext<'_>,
    cell: CellRef,
    unit_code: u64,
    field: FieldIdx,
    c: &Cell<'_>,
    bad: &Bad,
) -> Finding {
    let f = ctx.form.field(field);
    ctx.finding(
        bad.rule,
        cell,
        Detail::BadCell {
            label: f.label(),
            why: bad.why.clone(),
            rate: f.kind == Kind::Rate,
        },
    )
    .unit(unit_code)
    .field(&f.id)
    .value(c.shown())
}
