//! Finding a form's header by its labels, never by position (FORMS.md §2):
//! one- or two-row headers, group cells merged across their sub-headers,
//! joined labels, columns in any order, the table anywhere on the sheet.

use super::grid::Grid;
use crate::normalize;
use crate::schema::{FieldIdx, Form, FormIdx, Kind, Schemas};

/// Header labels of the unit-name column (normalised).
const NAME_LABELS: [&str; 14] = [
    "单位名称",
    "单位",
    "名称",
    "村(居)名称",
    "村居名称",
    "村(社区)名称",
    "村(社区)",
    "社区(村)名称",
    "村名",
    "社区名称",
    "地区",
    "地区名称",
    "机构名称",
    "村(居)委会名称",
];

/// Header labels of a serial-number column, ignored silently.
const SERIAL_LABELS: [&str; 4] = ["序号", "编号", "行次", "栏次"];

/// How many rows from the top of the used range are searched for a header.
const HEADER_SEARCH_ROWS: u32 = 60;

/// A form header found on a sheet.
#[derive(Debug, Clone)]
pub struct Header {
    /// Which form.
    pub form: FormIdx,
    /// First header row (absolute).
    pub first_row: u32,
    /// Last header row (absolute); data start below it.
    pub last_row: u32,
    /// The unit-name column.
    pub name_col: Option<u32>,
    /// Serial-number column, if any.
    pub serial_col: Option<u32>,
    /// Field columns found.
    pub columns: Vec<(FieldIdx, u32)>,
    /// Labels of header columns not read, each with why.
    pub unknown: Vec<(String, Unread)>,
    /// 本地儿童 | 流动儿童 side by side with no 合计 block (FORMS.md §3.1:
    /// without a 合计, 本地 + 流动 is the return): the other part's column
    /// of each field whose column in `columns` is under one of them, read
    /// as a second part of the return and added to it.
    pub beside: Vec<(FieldIdx, u32)>,
    /// A table of several rows a unit, each of a group (a 病种 column:
    /// each village's 高血压 row and its 2型糖尿病 row) or of a part (a 类别
    /// column: its 本地, 流动 and 合计 rows): the rows these columns read.
    pub rows_of: Option<RowsOf>,
}

/// The rows of a table of several rows a unit that one reading takes: those
/// whose cell in `col` (or, empty, the nearest above) says `key`.
#[derive(Debug, Clone, PartialEq)]
pub struct RowsOf {
    /// The column naming each row's group or part.
    pub col: u32,
    /// The group or part read.
    pub key: RowKey,
}

/// What a row of a table of several rows a unit is of.
#[derive(Debug, Clone, PartialEq)]
pub enum RowKey {
    /// A group of the form, as a label (高血压).
    Group(String),
    /// 本地, 流动, or 合计 (小计).
    Part(super::parts::Part),
}

impl RowsOf {
    /// What the text of a row's cell in the column says, as `key` does.
    #[must_use]
    pub fn key_of(&self, text: &str) -> Option<RowKey> {
        let label = normalize::label(text);
        match self.key {
            RowKey::Group(_) => Some(RowKey::Group(label)),
            RowKey::Part(_) => row_part(&label).map(RowKey::Part),
        }
    }
}

/// The part a row's 类别 cell names: 本地 (户籍), 流动 (外来), or its total
/// (合计, 小计).
fn row_part(label: &str) -> Option<super::parts::Part> {
    super::parts::part_of(label)
        .or_else(|| label.contains("小计").then_some(super::parts::Part::Total))
}

/// A column of the rows below `h` (none of its own) naming each row's part,
/// 本地 | 流动 | 合计 (a 类别 column: each village's rows of each), and the
/// parts it names.
#[must_use]
pub fn part_column(grid: &Grid<'_>, h: &Header) -> Option<(u32, Vec<super::parts::Part>)> {
    let taken = |c: u32| {
        Some(c) == h.name_col || Some(c) == h.serial_col || h.columns.iter().any(|(_, fc)| *fc == c)
    };
    let first = h.last_row + 1;
    let last = grid.last_row().min(h.last_row + 400);
    // It stands left of the figures (a sheet of thousands of columns is not
    // searched through).
    let first_field = h.columns.iter().map(|(_, c)| *c).min().unwrap_or(0);
    grid.cols()
        .take_while(|&c| c < first_field)
        .filter(|&c| !taken(c))
        .find_map(|c| {
            // Asked of every column beside a header: the first rows tell.
            let opens = (first..=last.min(first + 3)).any(|r| {
                grid.cell(r, c)
                    .text()
                    .is_some_and(|t| row_part(&normalize::label(t)).is_some())
            });
            if !opens {
                return None;
            }
            let mut parts = Vec::new();
            for r in first..=last {
                if let Some(p) = grid
                    .cell(r, c)
                    .text()
                    .and_then(|t| row_part(&normalize::label(t)))
                {
                    if !parts.contains(&p) {
                        parts.push(p);
                    }
                }
            }
            (parts.len() >= 2).then_some((c, parts))
        })
}

/// Why a header column that was found is not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unread {
    /// Its label names no field of the form (备注, a blank spacer's label).
    NoField,
    /// A field already read from another column.
    Again,
    /// A field, under a block of another period than the month: counted
    /// from January (本年累计, 1-3月累计) for a figure of the month, or
    /// last month's or last year's (上月, 上年同期).
    OtherPeriod,
    /// A field read already from a column under another block, neither a
    /// part of the return nor a period (男 | 女, 城镇 | 农村), and no 合计
    /// block to read instead: this column's figures are counted nowhere.
    OtherBlock,
}

/// Whether a label over a block of columns names figures of another
/// period than the month reported: counted from January (累计, 本年累计,
/// 1-3月累计, 年初至今), or last month's or last year's (上月, 上年同期,
/// 去年同期). `ytd` when only the words of the second kind count: a stock
/// or a count from January (签约人数, 年内已管理人数) is the 累计 figure.
fn names_other_period(label: &str, counted_from_january: bool) -> bool {
    // Asked of every column's blocks: every word has 月, 年, 期 or 累.
    if !label.contains(['月', '年', '期', '累']) {
        return false;
    }
    const EARLIER: [&str; 4] = ["上月", "上年", "去年", "同期"];
    const FROM_JANUARY: [&str; 2] = ["累计", "年初至"];
    EARLIER.iter().any(|w| label.contains(w))
        || (!counted_from_january && FROM_JANUARY.iter().any(|w| label.contains(w)))
}

/// A column matched to a field: the texts that say which period its
/// figure is of — the labels of the blocks above those that named it
/// (matched by `by`), and the period word its own label opened with.
#[derive(Clone, Copy)]
struct Matched<'r> {
    by: MatchedBy,
    blocks: [Option<&'r str>; 3],
}

impl<'r> Matched<'r> {
    fn new(c: &ColumnLabels<'r>, by: MatchedBy, word: Option<&'r str>) -> Matched<'r> {
        let blocks = match by {
            MatchedBy::Joined => [c.outer, None, word],
            MatchedBy::Sub => [c.group, c.outer, word],
            MatchedBy::Own => [c.outer, c.above, word],
            MatchedBy::Joined3 => [None, None, word],
        };
        Matched { by, blocks }
    }

    fn blocks(self) -> impl Iterator<Item = &'r str> + Clone {
        self.blocks.into_iter().flatten()
    }

    /// The block of another period ([`names_other_period`]) the column
    /// stands under, for a field of `kind`.
    fn other_period(self, kind: Kind) -> Option<&'r str> {
        self.blocks()
            .find(|l| names_other_period(l, kind.takes_latest()))
    }

    /// [`block_rank`] of the column.
    fn rank(self, kind: Kind) -> Option<u8> {
        block_rank(self.blocks(), kind)
    }

    /// The part of 本地 / 流动 / 合计 whose block the column stands under.
    fn part(self) -> Option<super::parts::Part> {
        self.blocks().find_map(super::parts::part_of)
    }
}

/// How a column under the block labels `blocks` serves a field of `kind`,
/// where the field has several columns (the highest rank is read): none
/// when it holds another period's figure ([`names_other_period`]); first
/// one under the 合计 of 本地 / 流动 / 合计; then, for a stock or a count
/// from January, one under a 累计 block (本月 | 累计 side by side: the
/// month's new signings beside the signed residents, which is the stock).
/// The one owner of that choice, for a header's columns and for the value
/// columns of a return with its fields as rows.
pub(super) fn block_rank<'a>(
    blocks: impl Iterator<Item = &'a str> + Clone,
    kind: Kind,
) -> Option<u8> {
    if blocks
        .clone()
        .any(|l| names_other_period(l, kind.takes_latest()))
    {
        return None;
    }
    let total = blocks.clone().any(super::parts::names_total);
    let cumulative = kind.takes_latest() && blocks.into_iter().any(|l| l.contains("累计"));
    Some(2 * u8::from(total) + u8::from(cumulative))
}

/// The labels of one column at a candidate header row, borrowed from the
/// rows' labels ([`RowLabels`]): only a joined label is a new text.
#[derive(Debug, Default)]
struct ColumnLabels<'r> {
    col: u32,
    /// The cell's own text at the candidate row.
    own: Option<&'r str>,
    /// Its group: own text, or carried from the left across a merged group cell.
    group: Option<&'r str>,
    /// Text in the row below (a sub-header, in a two-row header).
    sub: Option<&'r str>,
    /// Group and sub-header joined (`乙肝疫苗第1剂应种人数`).
    joined: Option<String>,
    /// The text of the row above, in this column itself (a 单位名称
    /// merged down three rows).
    above: Option<&'r str>,
    /// In a three-row header (乙肝疫苗 / 第1剂 / 应种人数, or 卡介苗 merged
    /// down two rows / 应种人数): the outer group, carried from the left
    /// across its span, which [`match_column`] joins with `mid` and the
    /// sub-header. Where it names a part of the official return (本地儿童 /
    /// 流动儿童 / 合计 over the doses), the 合计's column is the field's.
    outer: Option<&'r str>,
    /// In a three-row header, the dose under the outer group (carried
    /// across its own span, ended by a new outer group).
    mid: Option<&'r str>,
}

/// A normalised header text and its column.
type Label = (u32, String);

/// Each row's normalised header texts, computed once per row however many
/// candidate rows and forms look at it.
struct RowLabels<'g, 'a> {
    grid: &'g Grid<'a>,
    first: u32,
    rows: Vec<Option<Vec<Label>>>,
}

impl<'g, 'a> RowLabels<'g, 'a> {
    fn new(grid: &'g Grid<'a>) -> RowLabels<'g, 'a> {
        RowLabels {
            grid,
            first: grid.first_row(),
            rows: Vec::new(),
        }
    }

    /// The labels of the row above `row` (none above the first), of
    /// `row` and of the row below it.
    fn triple(&mut self, row: u32) -> (&[Label], &[Label], &[Label]) {
        if row > self.first {
            self.fill(row - 1);
        }
        self.fill(row);
        self.fill(row + 1);
        let i = (row - self.first) as usize;
        let at = |k: usize| self.rows[k].as_deref().unwrap_or_default();
        let above = if i > 0 { at(i - 1) } else { &[] };
        (above, at(i), at(i + 1))
    }

    /// Computes the (column, label) of every text in `row`, left to right.
    fn fill(&mut self, row: u32) {
        let i = (row - self.first) as usize;
        if self.rows.len() <= i {
            self.rows.resize_with(i + 1, || None);
        }
        let grid = self.grid;
        self.rows[i].get_or_insert_with(|| {
            grid.cols()
                .filter_map(|col| {
                    let t = grid.cell(row, col).text()?;
                    let l = normalize::label(t);
                    (!l.is_empty()).then_some((col, l))
                })
                .collect()
        });
    }
}

/// A group header joined with the sub-header below it (乙肝疫苗第1剂 +
/// 应种人数). Every label has a Chinese word in it: two texts of digits (a
/// data row's numbers typed as text) join to no label, and are not joined.
fn join(group: Option<&str>, sub: Option<&str>) -> Option<String> {
    match (group, sub) {
        (Some(g), Some(s)) if !(g.is_ascii() && s.is_ascii()) => Some([g, s].concat()),
        _ => None,
    }
}

fn labels_at<'r>(cache: &'r mut RowLabels<'_, '_>, row: u32) -> Vec<ColumnLabels<'r>> {
    let (above_row, own_row, sub_row) = cache.triple(row);
    let mut out = Vec::with_capacity(own_row.len().max(sub_row.len()));
    let mut carried: Option<&str> = None;
    // For a three-row header: the outer group (row above) carried across
    // its span, and the dose under it (this row), which a new outer group
    // ends: 卡介苗 merged down two rows has no dose of its own, though the
    // 第3剂 of 乙肝疫苗 before it is still carried for the two-row join.
    let (mut outer, mut mid): (Option<&str>, Option<&str>) = (None, None);
    let (mut h, mut i, mut j) = (0, 0, 0);
    // Merge the sparse rows by column; a column with none is a gap that
    // ends a merged group.
    let mut last_col: Option<u32> = None;
    loop {
        let col = [above_row.get(h), own_row.get(i), sub_row.get(j)]
            .into_iter()
            .flatten()
            .map(|x| x.0)
            .min();
        let Some(col) = col else { break };
        if last_col.is_some_and(|l| col > l + 1) {
            (carried, outer, mid) = (None, None, None);
        }
        last_col = Some(col);
        let take = |row: &'r [Label], k: &mut usize| {
            (row.get(*k).map(|x| x.0) == Some(col)).then(|| {
                *k += 1;
                row[*k - 1].1.as_str()
            })
        };
        let above = take(above_row, &mut h);
        let own = take(own_row, &mut i);
        let sub = take(sub_row, &mut j);
        if own.is_none() && sub.is_none() {
            // Only the row above has text here: not a column of this
            // header (a gap, that ends a merged group), but it may begin
            // an outer group's span; or, merged down three rows, it is
            // 单位名称 or 序号.
            (carried, outer, mid) = (None, above, None);
            if above.is_some_and(|t| is_name_label(t) || is_serial_label(t)) {
                out.push(ColumnLabels {
                    col,
                    above,
                    ..ColumnLabels::default()
                });
            }
            continue;
        }
        // A group header merged across its sub-headers holds its text only in
        // the first cell; the rest of the span is empty above a sub-header.
        let group = match (own, sub) {
            (Some(o), Some(_)) => {
                carried = Some(o);
                Some(o)
            }
            (Some(o), None) => {
                carried = None;
                Some(o)
            }
            (None, Some(_)) => carried,
            (None, None) => None,
        };
        let joined = join(group, sub);
        if above.is_some() {
            (outer, mid) = (above, None);
        }
        if own.is_some() {
            mid = own;
        }
        out.push(ColumnLabels {
            col,
            own,
            group,
            sub,
            joined,
            above,
            outer,
            mid,
        });
    }
    out
}

/// Which header text named a column.
#[derive(Debug, Clone, Copy, PartialEq)]
enum MatchedBy {
    /// Group header joined with the sub-header below it.
    Joined,
    /// The outer group above, its dose and the sub-header below joined
    /// (a three-row header).
    Joined3,
    /// The sub-header row alone.
    Sub,
    /// The candidate row's own text.
    Own,
}

/// Words a sub-header or a column's own label may open with to say which
/// period its figure is of (本月应种人数, 累计实种人数), longest first.
const PERIOD_WORDS: [&str; 10] = [
    "上年同期",
    "去年同期",
    "本年累计",
    "年内累计",
    "年累计",
    "累计",
    "本月",
    "当月",
    "本期",
    "上月",
];

/// A label that opens with a period word ([`PERIOD_WORDS`]) and goes on:
/// the word, and the rest (本月应种人数: 本月, 应种人数).
pub(super) fn period_word(label: &str) -> Option<(&str, &str)> {
    // Asked of every column no form names: the first character first.
    if !label.starts_with(['上', '去', '本', '年', '累', '当']) {
        return None;
    }
    PERIOD_WORDS.iter().find_map(|w| {
        label
            .strip_prefix(w)
            .filter(|rest| !rest.is_empty())
            .map(|rest| (&label[..w.len()], rest))
    })
}

/// The field a column names, which text named it, and the period word its
/// own label opened with (本月应种人数: 本月), if that was needed.
fn match_column<'r>(
    form: &Form,
    c: &ColumnLabels<'r>,
) -> Option<(FieldIdx, MatchedBy, Option<&'r str>)> {
    if let Some((f, by)) = match_plain(form, c) {
        return Some((f, by, None));
    }
    // 本月应种人数 | 累计应种人数 under a dose: the sub-header (or a one-row
    // label) less its period word, which then says whose figure it is.
    // Only where what follows the word is a label of the form: 本月随访人次
    // is no vaccination column, and is not looked up again as one.
    let strip = |t: Option<&'r str>| {
        period_word(t?)
            .filter(|(_, rest)| form.is_sub_label(rest) || form.match_label(rest).is_some())
    };
    let (word, sub, own) = match (strip(c.sub), strip(c.own)) {
        (Some((w, s)), _) => (w, Some(s), c.own),
        (None, Some((w, o))) if c.sub.is_none() => (w, None, Some(o)),
        _ => return None,
    };
    let group = if c.group == c.own { own } else { c.group };
    let bare = ColumnLabels {
        col: c.col,
        own,
        group,
        sub,
        joined: join(group, sub),
        above: c.above,
        outer: c.outer,
        mid: c.mid,
    };
    match_plain(form, &bare).map(|(f, by)| (f, by, Some(word)))
}

/// [`match_column`] of the labels as they stand.
fn match_plain(form: &Form, c: &ColumnLabels) -> Option<(FieldIdx, MatchedBy)> {
    if let Some(j) = &c.joined {
        if let Some(f) = form.match_label(j) {
            return Some((f, MatchedBy::Joined));
        }
    }
    // A three-row join, or the two rows the other way up (应种人数 merged
    // over the doses), only where a sub-header stands where it would.
    // (Every label has a Chinese word in it: a text of digits is none.)
    if let (Some(o), Some(s)) = (c.outer, c.sub) {
        if !s.is_ascii() && form.is_sub_label(s) {
            let joined3 = [o, c.mid.unwrap_or_default(), s].concat();
            if let Some(f) = form.match_label(&joined3) {
                return Some((f, MatchedBy::Joined3));
            }
        }
    }
    if let (Some(g), Some(s), Some(_)) = (c.group, c.sub, &c.joined) {
        if !g.is_ascii() && !s.is_ascii() && form.is_sub_label(g) {
            if let Some(f) = form.match_label(&[s, g].concat()) {
                return Some((f, MatchedBy::Joined));
            }
        }
    }
    if let Some(s) = c.sub {
        if let Some(f) = form.match_label(s).or_else(|| form.match_sub_label(s)) {
            return Some((f, MatchedBy::Sub));
        }
    }
    if let Some(o) = c.own {
        if let Some(f) = form.match_label(o) {
            return Some((f, MatchedBy::Own));
        }
    }
    None
}

/// The spans of `labels` under a group header the form does not know: a
/// group cell over two or more sub-headers (0至6岁儿童 over 人数 | 签约人数 |
/// 签约率), of which none is a field's joined with it (`hits`), and one is
/// a group's sub-header that names no field alone (人数). Such a span's
/// columns are that group's: read by its sub-header alone, its 签约人数
/// was the form's own 签约人数, and the children signed were published as
/// the township's. A group cell over the form's own fields (签约情况 over
/// 签约人数 | 签约率) has no such sub-header, and is read as before.
fn unknown_groups(
    form: &Form,
    labels: &[ColumnLabels<'_>],
    hits: &[Option<(FieldIdx, MatchedBy, Option<&str>)>],
) -> Vec<std::ops::Range<usize>> {
    let under_group =
        |c: &ColumnLabels<'_>| c.sub.is_some() && c.group.is_some() && c.group != c.sub;
    let mut spans = Vec::new();
    let mut start = 0;
    while start < labels.len() {
        let mut end = start + 1;
        if under_group(&labels[start]) {
            while end < labels.len()
                && under_group(&labels[end])
                && labels[end].group == labels[start].group
                && labels[end].col == labels[end - 1].col + 1
            {
                end += 1;
            }
        }
        let span = start..end;
        start = end;
        if span.len() < 2 {
            continue;
        }
        let known = hits[span.clone()]
            .iter()
            .flatten()
            .any(|(_, by, _)| matches!(by, MatchedBy::Joined | MatchedBy::Joined3));
        let groups_own = labels[span.clone()].iter().any(|c| {
            c.sub
                .is_some_and(|s| form.is_sub_label(s) && form.match_label(s).is_none())
        });
        if !known && groups_own {
            spans.push(span);
        }
    }
    spans
}

pub(super) fn is_name_label(l: &str) -> bool {
    NAME_LABELS.contains(&l) || (l.ends_with("名称") && l.chars().count() <= 8)
}

fn is_serial_label(l: &str) -> bool {
    SERIAL_LABELS.contains(&l)
}

/// Scores one form at one candidate row. The columns not read are only
/// collected as positions, with why; [`unknown_labels`] spells out the
/// winner's.
fn try_form<'r>(
    form_idx: FormIdx,
    form: &Form,
    labels: &[ColumnLabels<'r>],
    row: u32,
) -> (Header, Vec<NotRead<'r>>) {
    let mut columns: Vec<(FieldIdx, u32)> = Vec::new();
    let mut matched: Vec<Matched<'r>> = Vec::new();
    // Each found column's place in `labels`.
    let mut column_at: Vec<usize> = Vec::new();
    let mut name_col = None;
    let mut serial_col = None;
    let mut unknown = Vec::new();
    // The columns of a field read from another: place, field, match.
    let mut again: Vec<(usize, FieldIdx, Matched<'r>)> = Vec::new();
    let mut hits: Vec<_> = labels.iter().map(|c| match_column(form, c)).collect();
    for span in unknown_groups(form, labels, &hits) {
        for hit in &mut hits[span] {
            if hit.is_some_and(|(_, by, _)| by == MatchedBy::Sub) {
                *hit = None;
            }
        }
    }
    for ((i, c), hit) in labels.iter().enumerate().zip(hits) {
        if let Some((f, by, word)) = hit {
            let kind = form.field(f).kind;
            let m = Matched::new(c, by, word);
            if let Some(block) = m.other_period(kind) {
                unknown.push((i, Unread::OtherPeriod, Some(block)));
                continue;
            }
            // Of a field's columns, the one [`block_rank`] puts first (its
            // blocks' labels looked at only where a field has two).
            match columns.iter().position(|(g, _)| *g == f) {
                Some(k) if m.rank(kind) > matched[k].rank(kind) => {
                    unknown.push((column_at[k], Unread::Again, None));
                    again.push((column_at[k], f, matched[k]));
                    columns[k] = (f, c.col);
                    matched[k] = m;
                    column_at[k] = i;
                }
                Some(_) => {
                    unknown.push((i, Unread::Again, None));
                    again.push((i, f, m));
                }
                None => {
                    columns.push((f, c.col));
                    matched.push(m);
                    column_at.push(i);
                }
            }
            continue;
        }
        let texts = [c.own, c.group, c.sub, c.above];
        if name_col.is_none() && texts.iter().flatten().any(|t| is_name_label(t)) {
            name_col = Some(c.col);
        } else if serial_col.is_none() && texts.iter().flatten().any(|t| is_serial_label(t)) {
            serial_col = Some(c.col);
        } else {
            unknown.push((i, Unread::NoField, None));
        }
    }
    // A sheet of one group (a 高血压 sheet beside a 糖尿病 one): a column
    // that names no field alone (本月随访人次) is that group's where the
    // group and it name one.
    let mut groups = columns
        .iter()
        .filter_map(|(f, _)| form.field(*f).group.as_deref());
    if let (Some(group), true) = (groups.next(), columns.len() >= 2) {
        if groups.all(|g| g == group) {
            unknown.retain(|&(i, why, _)| {
                let c = &labels[i];
                if why != Unread::NoField {
                    return true;
                }
                let found = [(c.sub, MatchedBy::Sub), (c.own, MatchedBy::Own)]
                    .into_iter()
                    .find_map(|(t, by)| Some((form.match_label(&[group, t?].concat())?, by)))
                    .filter(|(f, _)| !columns.iter().any(|(g, _)| g == f));
                match found {
                    Some((f, by)) => {
                        columns.push((f, c.col));
                        matched.push(Matched::new(c, by, None));
                        false
                    }
                    None => true,
                }
            });
        }
    }
    // When every column was named by the row below alone, that row is a
    // one-row header and this row is something above it (填报单位, a title).
    let matched_by: Vec<MatchedBy> = matched.iter().map(|m| m.by).collect();
    let (first_row, last_row) =
        if matched_by.iter().all(|m| *m == MatchedBy::Sub) && !matched_by.is_empty() {
            (row + 1, row + 1)
        } else if matched_by.contains(&MatchedBy::Joined3) {
            (row - 1, row + 1)
        } else if matched_by.iter().any(|m| *m != MatchedBy::Own) {
            (row, row + 1)
        } else {
            (row, row)
        };
    // 本地 | 流动 with no 合计 block: each field's column of the other part
    // is read beside the one in `columns`, no longer a column not read.
    let mut beside = Vec::new();
    let parts: Vec<_> = match again.is_empty() {
        true => Vec::new(),
        false => matched.iter().map(|m| m.part()).collect(),
    };
    if !parts.contains(&Some(super::parts::Part::Total)) {
        for &(i, f, m) in &again {
            let Some(k) = columns.iter().position(|(g, _)| *g == f) else {
                continue;
            };
            let other = parts[k].and_then(super::parts::Part::other);
            if other.is_some() && m.part() == other && !beside.iter().any(|(g, _)| *g == f) {
                beside.push((f, labels[i].col));
                unknown.retain(|u| u.0 != i);
            }
        }
    }
    // A field's column under a block that is neither a part nor a period
    // (男 | 女) beside the one read, with no 合计 block to read instead:
    // the first block's was read, and this one's figures are counted
    // nowhere. Noted as a repeat, the women's were silently left out.
    for &(i, f, m) in &again {
        let Some(k) = columns.iter().position(|(g, _)| *g == f) else {
            continue;
        };
        let kept = matched[k];
        if kept.part() == Some(super::parts::Part::Total) {
            continue;
        }
        let block = m.blocks().find(|b| {
            !kept.blocks().any(|x| x == *b)
                && super::parts::part_of(b).is_none()
                && !PERIOD_WORDS.iter().any(|w| b.contains(w))
                && !names_other_period(b, true)
                && !names_other_period(b, false)
        });
        if let (Some(block), Some(u)) = (block, unknown.iter_mut().find(|u| u.0 == i)) {
            *u = (i, Unread::OtherBlock, Some(block));
        }
    }
    let header = Header {
        form: form_idx,
        first_row,
        last_row,
        name_col,
        serial_col,
        columns,
        unknown: Vec::new(),
        beside,
        rows_of: None,
    };
    (header, unknown)
}

/// A column not read: its place in the labels, why, and for one of
/// another period the block or word that says so.
type NotRead<'r> = (usize, Unread, Option<&'r str>);

fn unknown_labels(labels: &[ColumnLabels], unknown: &[NotRead<'_>]) -> Vec<(String, Unread)> {
    unknown
        .iter()
        .map(|&(i, why, block)| {
            let shown = display(&labels[i]);
            // A column of another period is named with its block: 本年累计
            // 乙肝疫苗第1剂 应种人数.
            match block.filter(|b| !shown.contains(b)) {
                Some(block) => (format!("{block} {shown}"), why),
                None => (shown, why),
            }
        })
        .collect()
}

fn display(c: &ColumnLabels) -> String {
    match (c.group, c.sub) {
        (Some(g), Some(s)) if c.own.is_none() || c.own == Some(g) => format!("{g} {s}"),
        _ => c.own.or(c.sub).unwrap_or_default().to_string(),
    }
}

/// The best form header on the sheet, if any form matches enough columns.
///
/// A header is accepted when it names at least three of the form's columns
/// (or all of a form with fewer); the best-scoring form and row win, so a
/// return missing a column is still recognised and reported `missing_column`.
#[must_use]
pub fn find_header(grid: &Grid<'_>, schemas: &Schemas) -> Option<Header> {
    let mut best: Option<(usize, Header)> = None;
    let mut cache = RowLabels::new(grid);
    let last = grid
        .first_row()
        .saturating_add(HEADER_SEARCH_ROWS)
        .min(grid.last_row());
    for row in grid.first_row()..=last {
        if grid
            .cols()
            .filter(|&c| grid.cell(row, c).text().is_some())
            .take(2)
            .count()
            < 2
        {
            continue;
        }
        let labels = labels_at(&mut cache, row);
        for (fi, form) in schemas.forms.iter().enumerate() {
            let (mut h, unknown) = try_form(fi as FormIdx, form, &labels, row);
            let score = h.columns.len();
            let needed = form.reported_fields().count().min(3);
            if score < needed.max(1) {
                continue;
            }
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                h.unknown = unknown_labels(&labels, &unknown);
                best = Some((score, h));
            }
        }
    }
    let (_, mut header) = best?;
    if header.name_col.is_none() {
        header.name_col = guess_name_col(grid, &header);
    }
    Some(header)
}

/// A table whose rows are a unit and a group each (单位名称 | 病种 | 已管理人数
/// | 规范管理人数 …, each village's 高血压 row, then its 2型糖尿病 row), where
/// no header of the usual layout is: one header per group found down the
/// group column, each reading that group's rows, its columns the group's
/// fields by the same labels (the group joined with the column's label)
/// and the fields of no group (35岁及以上常住人口数) by their own.
#[must_use]
pub fn find_grouped(grid: &Grid<'_>, schemas: &Schemas) -> Vec<Header> {
    let last = grid
        .first_row()
        .saturating_add(HEADER_SEARCH_ROWS)
        .min(grid.last_row());
    for row in grid.first_row()..=last {
        let labels: Vec<(u32, String)> = grid
            .cols()
            .filter_map(|c| grid.cell(row, c).text().map(|t| (c, normalize::label(t))))
            .collect();
        let Some(name_col) = labels
            .iter()
            .find(|(_, l)| is_name_label(l))
            .map(|(c, _)| *c)
        else {
            continue;
        };
        let serial_col = labels
            .iter()
            .find(|(_, l)| is_serial_label(l))
            .map(|(c, _)| *c);
        for (fi, form) in schemas.forms.iter().enumerate() {
            let subs: Vec<&(u32, String)> = labels
                .iter()
                .filter(|(_, l)| form.is_sub_label(l))
                .collect();
            if subs.len() < 2 {
                continue;
            }
            // The group a text names: joined with a sub-label, a field of
            // a group.
            let group_of = |text: &str| {
                let g = normalize::label(text);
                subs.iter()
                    .any(|(_, l)| {
                        form.match_label(&format!("{g}{l}"))
                            .is_some_and(|f| form.field(f).group.is_some())
                    })
                    .then_some(g)
            };
            let below = (row + 1)..=grid.last_row().min(row + 400);
            // The group column stands left of the figures (a sheet of
            // thousands of columns is not searched through): of the
            // group's figures, that is; a field of no group (签约人数) may
            // stand left of it.
            let first_sub = subs
                .iter()
                .filter(|(_, l)| {
                    form.match_label(l)
                        .is_none_or(|f| form.field(f).group.is_some())
                })
                .map(|(c, _)| *c)
                .min()
                .unwrap_or(0);
            let Some((group_col, groups)) = grid
                .cols()
                .take_while(|&c| c < first_sub)
                .filter(|&c| c != name_col && Some(c) != serial_col)
                .map(|c| {
                    let mut groups: Vec<String> = Vec::new();
                    for r in below.clone() {
                        if let Some(g) = grid.cell(r, c).text().and_then(group_of) {
                            if !groups.contains(&g) {
                                groups.push(g);
                            }
                        }
                    }
                    (c, groups)
                })
                .max_by_key(|(_, g)| g.len())
                .filter(|(_, g)| !g.is_empty())
            else {
                continue;
            };
            let headers: Vec<Header> = groups
                .into_iter()
                .map(|g| {
                    let columns = labels
                        .iter()
                        .filter(|(c, _)| {
                            ![Some(name_col), serial_col, Some(group_col)].contains(&Some(*c))
                        })
                        .filter_map(|(c, l)| {
                            // Left of the group column, a field of no group
                            // (常住人口数 | 签约人数 | 重点人群 | 人数 | 签约人数):
                            // the second 签约人数 is the group's, not the first.
                            let grouped = (*c > group_col)
                                .then(|| form.match_label(&format!("{g}{l}")))
                                .flatten()
                                .filter(|&f| form.field(f).group.is_some());
                            let plain = || {
                                form.match_label(l)
                                    .filter(|&f| form.field(f).group.is_none())
                            };
                            grouped.or_else(plain).map(|f| (f, *c))
                        })
                        .collect();
                    Header {
                        form: fi as FormIdx,
                        first_row: row,
                        last_row: row,
                        name_col: Some(name_col),
                        serial_col,
                        columns,
                        unknown: Vec::new(),
                        beside: Vec::new(),
                        rows_of: Some(RowsOf {
                            col: group_col,
                            key: RowKey::Group(g),
                        }),
                    }
                })
                .collect();
            let grouped_fields = |h: &Header| {
                h.columns
                    .iter()
                    .filter(|(f, _)| form.field(*f).group.is_some())
                    .count()
            };
            if headers.iter().any(|h| grouped_fields(h) >= 2) {
                return headers;
            }
        }
    }
    Vec::new()
}

/// Whether a usual header may stand over a table of a row per unit and
/// group (常住人口数 | 签约人数 | 重点人群 | 人数 | 签约人数 | 签约率): a
/// column it could not read is a group's sub-header that names no field
/// alone (人数), or a field it read already. Only then is the table
/// searched for a group column ([`find_grouped`]): a return of the usual
/// layout is not.
#[must_use]
pub fn may_be_grouped(h: &Header, schemas: &Schemas) -> bool {
    let form = schemas.form(h.form);
    h.unknown.iter().any(|(l, why)| {
        *why == Unread::Again || {
            let l = normalize::label(l);
            form.is_sub_label(&l) && form.match_label(&l).is_none()
        }
    })
}

/// Without a 单位名称 label, the unit names sit in the column just left of
/// the first figure column (after any serial column).
fn guess_name_col(grid: &Grid<'_>, h: &Header) -> Option<u32> {
    let first_field = h.columns.iter().map(|(_, c)| *c).min()?;
    (grid.cols().next()?..first_field)
        .rev()
        .find(|&c| Some(c) != h.serial_col && !h.columns.iter().any(|(_, fc)| *fc == c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Range};

    fn grid_of(rows: &[&[&str]]) -> Range<Data> {
        let h = rows.len() as u32;
        let w = rows.iter().map(|r| r.len()).max().unwrap_or(0) as u32;
        let mut r = Range::new((0, 0), (h - 1, w - 1));
        for (i, row) in rows.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    let d = v
                        .parse::<f64>()
                        .map(Data::Float)
                        .unwrap_or_else(|_| Data::String(v.to_string()));
                    r.set_value((i as u32, j as u32), d);
                }
            }
        }
        r
    }

    fn fields(h: &Header, s: &Schemas) -> Vec<(String, u32)> {
        let f = s.form(h.form);
        let mut v: Vec<(String, u32)> = h
            .columns
            .iter()
            .map(|(i, c)| (f.field(*i).id.to_string(), *c))
            .collect();
        v.sort_by_key(|x| x.1);
        v
    }

    /// 本月应种人数 | 累计应种人数 under a dose: the month's columns are the
    /// fields, the year's to date passed over with their word; a stock's
    /// 累计 column beside its 本月 one is the stock.
    #[test]
    fn a_period_word_before_a_sub_header_says_whose_figure_it_is() {
        let s = Schemas::builtin().unwrap();
        let r = grid_of(&[
            &[
                "序号",
                "单位名称",
                "乙肝疫苗第1剂",
                "",
                "",
                "",
                "卡介苗",
                "",
            ],
            &[
                "",
                "",
                "累计应种人数",
                "累计实种人数",
                "本月应种人数",
                "本月实种人数",
                "当月应种人数",
                "上年同期应种人数",
            ],
            &["1", "东门社区", "30", "29", "10", "9", "8", "7"],
        ]);
        let g = Grid::with_formulas(&r, &[]);
        let h = find_header(&g, &s).unwrap();
        assert_eq!(
            fields(&h, &s),
            [
                ("hepb1_due".to_string(), 4),
                ("hepb1_given".to_string(), 5),
                ("bcg_due".to_string(), 6)
            ]
        );
        let passed: Vec<&(String, Unread)> = h
            .unknown
            .iter()
            .filter(|(_, why)| *why == Unread::OtherPeriod)
            .collect();
        assert_eq!(passed.len(), 3, "{:?}", h.unknown);
        let r = grid_of(&[
            &["序号", "单位名称", "常住人口数", "本月", "", "累计", ""],
            &[
                "",
                "",
                "",
                "签约人数",
                "履约服务人次",
                "签约人数",
                "履约服务人次",
            ],
            &["1", "东门社区", "1000", "5", "20", "400", "90"],
        ]);
        let g = Grid::with_formulas(&r, &[]);
        let h = find_header(&g, &s).unwrap();
        let got = fields(&h, &s);
        assert!(got.contains(&("signed".to_string(), 5)), "{got:?}");
        assert!(got.contains(&("services".to_string(), 4)), "{got:?}");
    }

    #[test]
    fn two_row_merged_header_is_joined() {
        let s = Schemas::builtin().unwrap();
        let r = grid_of(&[
            &["免疫规划疫苗常规接种情况月报表"],
            &[
                "序号",
                "单位名称",
                "乙肝疫苗第1剂",
                "",
                "",
                "卡介苗",
                "",
                "",
            ],
            &[
                "",
                "",
                "应种人数",
                "实种人数",
                "接种率(%)",
                "应种人数",
                "实种人数",
                "接种率（％）",
            ],
            &["1", "东门社区", "10", "9", "90", "10", "10", "100"],
        ]);
        let g = Grid::with_formulas(&r, &[]);
        let h = find_header(&g, &s).unwrap();
        assert_eq!(s.form(h.form).id, "vaccination");
        assert_eq!((h.first_row, h.last_row), (1, 2));
        assert_eq!(h.name_col, Some(1));
        assert_eq!(h.serial_col, Some(0));
        let ids: Vec<String> = fields(&h, &s).into_iter().map(|x| x.0).collect();
        assert_eq!(
            ids,
            [
                "hepb1_due",
                "hepb1_given",
                "hepb1_rate",
                "bcg_due",
                "bcg_given",
                "bcg_rate"
            ]
        );
    }

    #[test]
    fn a_header_the_other_way_up_is_joined_sub_first() {
        let s = Schemas::builtin().unwrap();
        // 应种人数 and 实种人数 merged over the doses below them.
        let r = grid_of(&[
            &["序号", "单位名称", "应种人数", "", "实种人数", ""],
            &["", "", "乙肝疫苗第1剂", "卡介苗", "乙肝疫苗第1剂", "卡介苗"],
            &["1", "东门社区", "10", "9", "9", "9"],
        ]);
        let g = Grid::with_formulas(&r, &[]);
        let h = find_header(&g, &s).unwrap();
        assert_eq!((h.first_row, h.last_row), (0, 1));
        assert_eq!(
            fields(&h, &s),
            [
                ("hepb1_due".to_string(), 2),
                ("bcg_due".to_string(), 3),
                ("hepb1_given".to_string(), 4),
                ("bcg_given".to_string(), 5)
            ]
        );
    }

    #[test]
    fn single_row_joined_header_shuffled_with_extras() {
        let s = Schemas::builtin().unwrap();
        let r = grid_of(&[
            &[],
            &[
                "",
                "",
                "村(社区)名称",
                "高血压 已管理人数",
                "35岁及以上常住人口数(人)",
                "备注",
                "高血压规范管理人数",
            ],
            &["", "", "新村", "5", "100", "", "3"],
        ]);
        let g = Grid::with_formulas(&r, &[]);
        let h = find_header(&g, &s).unwrap();
        assert_eq!(s.form(h.form).id, "chronic_disease");
        assert_eq!((h.first_row, h.last_row), (1, 1));
        assert_eq!(h.name_col, Some(2));
        assert_eq!(
            fields(&h, &s),
            [
                ("htn_managed".into(), 3),
                ("pop_35plus".into(), 4),
                ("htn_standard".into(), 6)
            ]
        );
        assert_eq!(h.unknown, [("备注".to_string(), Unread::NoField)]);
    }

    #[test]
    fn family_doctor_groups_do_not_collide_with_signed() {
        let s = Schemas::builtin().unwrap();
        let r = grid_of(&[
            &[
                "单位名称",
                "常住人口数",
                "签约人数",
                "签约率(%)",
                "65岁及以上老年人",
                "",
                "高血压患者",
                "",
            ],
            &["", "", "", "", "人数", "签约人数", "人数", "签约人数"],
        ]);
        let g = Grid::with_formulas(&r, &[]);
        let h = find_header(&g, &s).unwrap();
        let ids: Vec<String> = fields(&h, &s).into_iter().map(|x| x.0).collect();
        assert_eq!(
            ids,
            [
                "resident_pop",
                "signed",
                "signing_rate",
                "elderly_pop",
                "elderly_signed",
                "htn_pop",
                "htn_signed"
            ]
        );
    }

    #[test]
    fn a_metadata_line_above_a_one_row_header_is_not_its_group_row() {
        let s = Schemas::builtin().unwrap();
        let r = grid_of(&[
            &["填报单位：新民镇", "", "报告期：2026年2月"],
            &["单位名称", "常住人口数", "签约人数", "重点人群人数"],
            &["新村", "100", "40", "20"],
        ]);
        let h = find_header(&Grid::with_formulas(&r, &[]), &s).unwrap();
        assert_eq!((h.first_row, h.last_row), (1, 1));
        assert_eq!(h.name_col, Some(0));
    }

    #[test]
    fn no_header_on_a_notes_sheet() {
        let s = Schemas::builtin().unwrap();
        let r = grid_of(&[&["填表说明"], &["1. 应种人数按接种程序计算"]]);
        assert!(find_header(&Grid::with_formulas(&r, &[]), &s).is_none());
    }
}
