//! The published summary's sheets (FORMS.md §8): 主要指标 (every headline
//! rate by county and township, with target and rank), one 指标 sheet per
//! form (本期, 累计, 上期, 环比, 同期, 同比, 目标值, 达标, 排名 for every
//! indicator of every unit), and 图表 (per headline rate the townships'
//! rates against the target; the monthly trend of the city and each county),
//! as native Excel charts a statistician can restyle.

use rust_xlsxwriter::{
    Chart, ChartType, ConditionalFormatFormula, Format, FormatAlign, Worksheet, XlsxError,
};

use super::period_label;
use super::sheet::Sheet;
use super::xlsx::ReportInput;
use crate::indicators::{headline, published, published_change, short_label, Indicator, Targets};
use crate::message::{month_label, Lang};
use crate::period::{Month, Period};
use crate::registry::{Level, UnitIdx};
use crate::schema::{FieldIdx, FormIdx, Kind};

/// The statistical report footer's names (`--signatures`), or blanks for a pen.
#[derive(Debug, Clone, Default)]
pub struct Signatures {
    /// 单位负责人.
    pub head: String,
    /// 统计负责人.
    pub statistician: String,
    /// 填表人.
    pub preparer: String,
    /// 联系电话.
    pub phone: String,
    /// 报出日期.
    pub date: String,
}

impl Signatures {
    /// Parses `单位负责人=张三,统计负责人=李四,填表人=王五,联系电话=…,报出日期=2026年4月5日`
    /// (English keys head, statistician, preparer, phone, date too).
    #[must_use]
    pub fn parse(text: &str) -> Signatures {
        let mut s = Signatures::default();
        for part in text.split([',', '，', ';', '；']) {
            let Some((k, v)) = part.split_once(['=', '：', ':']) else {
                continue;
            };
            let v = v.trim().to_string();
            match k.trim() {
                "单位负责人" | "head" => s.head = v,
                "统计负责人" | "statistician" => s.statistician = v,
                "填表人" | "preparer" => s.preparer = v,
                "联系电话" | "phone" => s.phone = v,
                "报出日期" | "date" => s.date = v,
                _ => {}
            }
        }
        s
    }

    /// The 表尾 of a statistical return (单位负责人, 统计负责人, 填表人,
    /// 联系电话, 报出日期): the 汇总表's and the templates' alike.
    #[must_use]
    pub fn line(&self, lang: Lang) -> String {
        let blank = |v: &str, w: usize| {
            if v.is_empty() {
                "　".repeat(w)
            } else {
                v.to_string()
            }
        };
        match lang {
            Lang::Zh => format!(
                "单位负责人：{}　　统计负责人：{}　　填表人：{}　　联系电话：{}　　报出日期：{}",
                blank(&self.head, 5),
                blank(&self.statistician, 5),
                blank(&self.preparer, 5),
                blank(&self.phone, 6),
                if self.date.is_empty() {
                    "　　年　月　日".to_string()
                } else {
                    self.date.clone()
                }
            ),
            Lang::En => format!(
                "Head: {}    Statistician: {}    Prepared by: {}    Telephone: {}    Date: {}",
                blank(&self.head, 5),
                blank(&self.statistician, 5),
                blank(&self.preparer, 5),
                blank(&self.phone, 6),
                blank(&self.date, 5)
            ),
        }
    }
}

/// What the summary sheets show.
pub struct Summary<'a> {
    /// Every indicator of the period.
    pub rows: &'a [Indicator],
    /// The targets in force.
    pub targets: &'a Targets,
    /// The footer's names.
    pub signatures: &'a Signatures,
    /// Each indicator by unit, form and field: a province has tens of
    /// thousands, looked up once per cell.
    index: Index,
}

/// Where each indicator is in [`Summary::rows`].
enum Index {
    /// As [`crate::indicators::compute`] gives them: a block for each form
    /// and field, of the same units in the same order. By form and field,
    /// where its block starts; by unit, its place in every block.
    Blocks {
        starts: Vec<Vec<Option<usize>>>,
        place: Vec<Option<u32>>,
    },
    /// Any other order.
    Any(foldhash::HashMap<(UnitIdx, FormIdx, FieldIdx), usize>),
}

impl Index {
    /// The blocks of `rows`, where they come in blocks.
    ///
    /// A hash of every indicator asked once per cell: `Summary::get` had
    /// 191 samples of six runs of a city's 2026Q4 from its store (perf at
    /// 4,000 a second: 8 ms of CPU a run), by blocks 33. The run itself
    /// moved by less than this host's drift (outputs 0.214 s against
    /// 0.218 at 2 threads, medians of twelve alternating).
    fn blocks(rows: &[Indicator]) -> Option<Index> {
        let Some(first) = rows.first() else {
            return Some(Index::Any(foldhash::HashMap::default()));
        };
        let n = rows
            .iter()
            .take_while(|r| (r.form, r.field) == (first.form, first.field))
            .count();
        if !rows.len().is_multiple_of(n) {
            return None;
        }
        let units = rows
            .iter()
            .map(|r| r.unit)
            .max()
            .map_or(0, |u| u as usize + 1);
        let mut place = vec![None; units];
        for (k, r) in rows[..n].iter().enumerate() {
            if place[r.unit as usize].replace(k as u32).is_some() {
                return None;
            }
        }
        let mut starts: Vec<Vec<Option<usize>>> = Vec::new();
        for (b, block) in rows.chunks(n).enumerate() {
            let (form, field) = (block[0].form, block[0].field);
            let same = block
                .iter()
                .zip(&rows[..n])
                .all(|(r, o)| (r.form, r.field, r.unit) == (form, field, o.unit));
            let (fi, f) = (usize::from(form), usize::from(field));
            if starts.len() <= fi {
                starts.resize(fi + 1, Vec::new());
            }
            if starts[fi].len() <= f {
                starts[fi].resize(f + 1, None);
            }
            if !same || starts[fi][f].replace(b * n).is_some() {
                return None;
            }
        }
        Some(Index::Blocks { starts, place })
    }
}

impl<'a> Summary<'a> {
    /// The sheets' content, indexed.
    #[must_use]
    pub fn new(
        rows: &'a [Indicator],
        targets: &'a Targets,
        signatures: &'a Signatures,
    ) -> Summary<'a> {
        let index = Index::blocks(rows).unwrap_or_else(|| {
            Index::Any(
                rows.iter()
                    .enumerate()
                    .map(|(i, r)| ((r.unit, r.form, r.field), i))
                    .collect(),
            )
        });
        Summary {
            rows,
            targets,
            signatures,
            index,
        }
    }

    /// A unit's indicator.
    #[must_use]
    pub fn get(&self, u: UnitIdx, form: FormIdx, field: FieldIdx) -> Option<&'a Indicator> {
        let at = match &self.index {
            Index::Blocks { starts, place } => {
                starts
                    .get(usize::from(form))?
                    .get(usize::from(field))?
                    .as_ref()?
                    + *place.get(u as usize)?.as_ref()? as usize
            }
            Index::Any(index) => *index.get(&(u, form, field))?,
        };
        self.rows.get(at)
    }
}

/// The summary's cell formats, made once for all its sheets.
pub(super) struct Formats {
    title: Format,
    header: Format,
    name: [Format; 3],
    text: Format,
    count: Format,
    rate: Format,
    rate_red: Format,
    change: Format,
    /// A count's 环比 or 同比, in per cent, said in the cell.
    change_pct: Format,
    /// A rate's 环比 or 同比, in percentage points, said in the cell.
    change_points: Format,
    red: Format,
    note: Format,
    signatures: Format,
}

impl Formats {
    pub(super) fn new() -> Formats {
        let cell = crate::report::table_cell;
        Formats {
            title: Format::new()
                .set_bold()
                .set_font_size(16)
                .set_align(FormatAlign::Center),
            header: crate::report::table_header(),
            name: [
                cell().set_bold(),
                cell().set_bold().set_indent(1),
                cell().set_indent(2),
            ],
            text: cell(),
            count: cell().set_num_format("#,##0"),
            rate: cell().set_num_format("0.0"),
            rate_red: cell()
                .set_num_format("0.0")
                .set_font_color(0x9C0006)
                .set_background_color(0xFFC7CE),
            change: cell().set_num_format("+0.0;-0.0;0.0"),
            change_pct: cell().set_num_format("+0.0\"%\";-0.0\"%\";0.0\"%\""),
            change_points: cell()
                .set_num_format("+0.0\"个百分点\";-0.0\"个百分点\";0.0\"个百分点\""),
            red: Format::new()
                .set_font_color(0x9C0006)
                .set_background_color(0xFFC7CE),
            note: Format::new().set_font_size(9).set_italic(),
            signatures: Format::new().set_font_size(10).set_italic(),
        }
    }
}

impl Formats {
    /// Every format here, each once (`every_format!`).
    pub(super) fn all(&self) -> Vec<&Format> {
        every_format!(
            self,
            Formats {
                title, header, text, count, rate, rate_red, change, change_pct, change_points,
                red, note, signatures;
                name
            }
        )
    }
}

fn level_pos(l: Level) -> usize {
    match l {
        Level::City => 0,
        Level::County => 1,
        _ => 2,
    }
}

/// The units of the summary: every level above the villages, in report order.
fn units(input: &ReportInput<'_>) -> Vec<UnitIdx> {
    input
        .registry
        .depth_first()
        .into_iter()
        .filter(|&u| input.registry.unit(u).level != Level::Village)
        .collect()
}

fn footer<'f>(
    ws: &mut Sheet<'f>,
    row: u32,
    s: &Summary<'_>,
    lang: Lang,
    fmt: &'f Formats,
) -> Result<(), XlsxError> {
    ws.text(row, 0, s.signatures.line(lang), &fmt.signatures)
}

/// 主要指标: the headline rates by county and township.
fn main_sheet(
    input: &ReportInput<'_>,
    s: &Summary<'_>,
    fmt: &Formats,
) -> Result<Worksheet, XlsxError> {
    let lang = input.lang;
    let heads = headline(input.schemas, s.targets);
    let mut sheet = Sheet::new();
    let ws = &mut sheet;
    ws.set_name(lang.pick("主要指标", "Headline"))?;
    // Per headline rate: 本期, 目标, 环比, 同比, 排名.
    const PER: u16 = 5;
    let last_col = heads.len() as u16 * PER;
    let widths: Vec<f64> = std::iter::once(16.0)
        .chain((0..heads.len()).flat_map(|_| [8.0, 6.0, 7.5, 7.5, 5.0]))
        .collect();
    let groups: Vec<u16> = (0..heads.len() as u16).map(|k| 1 + PER * k).collect();
    let layout = super::print::Layout {
        widths: &widths,
        keep: 1,
        groups: &groups,
        header: Some((0, 2)),
    };
    let plan = layout.plan();
    let pages = plan.pages(last_col + 1);
    let root = input
        .registry
        .root()
        .map(|r| input.registry.unit(r).name.clone())
        .unwrap_or_default();
    let title = match lang {
        Lang::Zh => format!("{root}{}主要指标完成情况", period_label(input.period, lang)),
        Lang::En => format!(
            "{root}: headline indicators, {}",
            period_label(input.period, lang)
        ),
    };
    super::print::title(ws, 0, &pages, layout.keep, &title, &fmt.title, lang)?;
    ws.set_row_height(0, 28)?;
    ws.merge_range(1, 0, 2, 0, lang.pick("单位名称", "Unit"), &fmt.header)?;
    for (k, &(form, field)) in heads.iter().enumerate() {
        let c = 1 + PER * k as u16;
        let label = short_label(input.schemas, form, field);
        ws.merge_range(1, c, 1, c + PER - 1, label.get(lang), &fmt.header)?;
        for (j, sub) in [
            lang.pick("本期(%)", "Rate (%)"),
            lang.pick("目标(%)", "Target (%)"),
            lang.pick("环比(个百分点)", "On previous (points)"),
            lang.pick("同比(个百分点)", "On last year (points)"),
            lang.pick("排名", "Rank"),
        ]
        .iter()
        .enumerate()
        {
            ws.text(2, c + j as u16, *sub, &fmt.header)?;
        }
    }
    ws.set_row_height(1, 30)?;
    ws.set_row_height(2, 42)?;
    let mut row = 3;
    for u in units(input) {
        let unit = input.registry.unit(u);
        ws.text(row, 0, &unit.name, &fmt.name[level_pos(unit.level)])?;
        for (k, &(form, field)) in heads.iter().enumerate() {
            let c = 1 + PER * k as u16;
            let ind = s.get(u, form, field);
            // 未达标 in red, as its indicator judged it (Indicator.met).
            let shown = if ind.and_then(|i| i.met) == Some(false) {
                &fmt.rate_red
            } else {
                &fmt.rate
            };
            ws.figure(row, c, ind.and_then(|i| i.current), shown)?;
            ws.figure(row, c + 1, ind.and_then(|i| i.target), &fmt.rate)?;
            // The changes as the 通报 gives them (one decimal, never −0.0).
            let change = |v: Option<f64>| v.map(published_change);
            ws.figure(
                row,
                c + 2,
                change(ind.and_then(|i| i.change_previous)),
                &fmt.change,
            )?;
            ws.figure(
                row,
                c + 3,
                change(ind.and_then(|i| i.change_last_year)),
                &fmt.change,
            )?;
            ws.figure(
                row,
                c + 4,
                ind.and_then(|i| i.rank.map(f64::from)),
                &fmt.count,
            )?;
        }
        row += 1;
    }
    ws.autofilter(2, 0, row.saturating_sub(1).max(2), last_col)?;
    super::print::note(
        ws,
        row + 1,
        &widths,
        &pages,
        1,
        lang.pick(
            "注：比率为报告期内汇总后重新计算的结果；红色为未达到目标值（按保留一位小数后的数字判断）；排名在同一层级内，1 为最好，并列名次相同；脱落率越低越好。",
            "Note: rates are recomputed over the period; red misses its target (judged on the figure to one decimal); ranks are within a level, 1 best, ties share a rank; a dropout ranks from the lowest.",
        ),
        &fmt.note,
    )?;
    super::print::note(
        ws,
        row + 3,
        &widths,
        &pages,
        1,
        &s.signatures.line(lang),
        &fmt.signatures,
    )?;
    ws.set_freeze_panes(3, 1)?;
    super::print::apply(ws, &layout, &plan, lang)?;
    // The workbook opens on it (README).
    ws.set_active(true);
    sheet.finish()
}

/// One form's full table, one row per unit and indicator, written row by
/// row into `streamed` (a worksheet in rust_xlsxwriter's low-memory mode)
/// where one is given, else held.
///
/// Streamed, a city-year's three tables (240,000 cells, 9 MB of XML) are
/// not held as cells and then as XML beside every other sheet: they were
/// the largest part of the outputs' peak.
fn form_sheet(
    input: &ReportInput<'_>,
    s: &Summary<'_>,
    form: FormIdx,
    streamed: Option<Worksheet>,
    fmt: &Formats,
) -> Result<Worksheet, XlsxError> {
    let lang = input.lang;
    let f = input.schemas.form(form);
    let mut sheet = streamed.map_or_else(Sheet::new, Sheet::streamed);
    let ws = &mut sheet;
    ws.set_name(format!(
        "{}{}",
        f.short_in(lang),
        lang.pick("指标", " indicators")
    ))?;
    let heads = match lang {
        Lang::Zh => [
            "单位名称",
            "层级",
            "指标",
            "本期",
            "累计",
            "上期",
            "环比",
            "同期",
            "同比",
            "目标值",
            "达标",
            "排名",
        ],
        Lang::En => [
            "Unit",
            "Level",
            "Indicator",
            "Current",
            "Year to date",
            "Previous",
            "Change",
            "Same period last year",
            "Change on last year",
            "Target",
            "Met",
            "Rank",
        ],
    };
    let last_col = heads.len() as u16 - 1;
    let title = match lang {
        Lang::Zh => format!(
            "{}（{}）",
            f.title
                .trim_end_matches("月报表")
                .trim_end_matches("报表")
                .to_string()
                + "指标汇总",
            period_label(input.period, lang)
        ),
        Lang::En => format!(
            "{}: indicators, {}",
            f.title_in(lang),
            period_label(input.period, lang)
        ),
    };
    ws.merge_range(0, 0, 0, last_col, &title, &fmt.title)?;
    ws.text(
        1,
        0,
        match lang {
            Lang::Zh => format!(
                "报告期：{}　累计：{}　上期：{}　同期：{}　环比、同比：人数为增减百分比(%)，比率为增减百分点",
                period_label(input.period, lang),
                period_label(input.period.year_to_date(), lang),
                period_label(input.period.previous(), lang),
                period_label(input.period.year_before(), lang)
            ),
            Lang::En => format!(
                "Period {}; year to date {}; previous {}; same period last year {}. Changes: counts in %, rates in percentage points",
                period_label(input.period, lang),
                period_label(input.period.year_to_date(), lang),
                period_label(input.period.previous(), lang),
                period_label(input.period.year_before(), lang)
            ),
        },
        &fmt.note,
    )?;
    for (c, h) in heads.iter().enumerate() {
        ws.text(2, c as u16, *h, &fmt.header)?;
    }
    // Each column's most frequent format given once, for the column (a
    // township's name, the counts or the rates, whichever the form has
    // more of); the other cells get theirs a run at a time.
    let rates = f.fields.iter().filter(|x| x.kind == Kind::Rate).count();
    let (value, change) = if 2 * rates > f.fields.len() {
        (&fmt.rate, &fmt.change_points)
    } else {
        (&fmt.count, &fmt.change_pct)
    };
    ws.column_defaults(
        3,
        &[
            (0, &fmt.name[level_pos(Level::Township)]),
            (1, &fmt.text),
            (2, &fmt.text),
            (3, value),
            (4, value),
            (5, value),
            (6, change),
            (7, value),
            (8, change),
            (9, &fmt.rate),
            (10, &fmt.text),
            (11, &fmt.count),
        ],
    )?;
    let mut row = 3;
    for u in units(input) {
        let unit = input.registry.unit(u);
        for (k, field) in f.fields.iter().enumerate() {
            let Some(ind) = s.get(u, form, k as FieldIdx) else {
                continue;
            };
            if ind.current.is_none()
                && ind.ytd.is_none()
                && ind.previous.is_none()
                && ind.last_year.is_none()
            {
                continue;
            }
            let is_rate = field.kind == Kind::Rate;
            let value_fmt = if is_rate { &fmt.rate } else { &fmt.count };
            let change_fmt = if is_rate {
                &fmt.change_points
            } else {
                &fmt.change_pct
            };
            ws.text(row, 0, &unit.name, &fmt.name[level_pos(unit.level)])?;
            ws.text(
                row,
                1,
                lang.pick(unit.level.zh(), unit.level.id()),
                &fmt.text,
            )?;
            let label = super::flow_label(field.label().get(lang), input.period, lang);
            ws.text(row, 2, label, &fmt.text)?;
            let values = [
                (ind.current, value_fmt),
                (ind.ytd, value_fmt),
                (ind.previous, value_fmt),
                // As the 通报 gives them (one decimal, never −0.0).
                (ind.change_previous.map(published_change), change_fmt),
                (ind.last_year, value_fmt),
                (ind.change_last_year.map(published_change), change_fmt),
                (ind.target, &fmt.rate),
            ];
            // An empty cell in the plain cell's format, whatever its
            // column: it looks the same (borders and font; a number format
            // shows nothing in an empty cell), and the empty cells of a
            // row side by side are one run of one format, one look-up
            // (see `Sheet::column_defaults`) where they were up to four.
            // A city's 2026Q4 from its store, 2 threads: the vaccination
            // table 47–50 ms against 56–66, the outputs 182 ms against
            // 192.5 (medians of sixteen runs alternating); every cell the
            // same but the number format of the empty ones.
            for (j, &(v, f)) in values.iter().enumerate() {
                ws.figure(
                    row,
                    3 + j as u16,
                    v,
                    if v.is_some() { f } else { &fmt.text },
                )?;
            }
            let met = ind.met.map(|m| {
                if m {
                    lang.pick("是", "yes")
                } else {
                    lang.pick("否", "no")
                }
            });
            let annual = ind.annual.then(|| lang.pick("年度指标", "annual target"));
            ws.text(row, 10, met.or(annual).unwrap_or(""), &fmt.text)?;
            match ind.rank {
                Some(r) => ws.number(row, 11, f64::from(r), &fmt.count)?,
                None => ws.blank(row, 11, &fmt.text)?,
            };
            row += 1;
        }
    }
    // 未达标 rows: the 本期 and 达标 cells in red.
    let no = lang.pick("否", "no");
    let rule = ConditionalFormatFormula::new()
        .set_rule(format!("=$K4=\"{no}\"").as_str())
        .set_format(&fmt.red);
    if row > 3 {
        ws.add_conditional_format(3, 3, row - 1, 3, &rule)?;
        ws.add_conditional_format(3, 10, row - 1, 10, &rule)?;
    }
    ws.autofilter(2, 0, row.saturating_sub(1).max(2), last_col)?;
    footer(ws, row + 1, s, lang, fmt)?;
    let widths = [
        14.0, 9.0, 30.0, 10.0, 10.0, 10.0, 11.0, 10.0, 11.0, 7.0, 5.0, 5.0,
    ];
    ws.set_freeze_panes(3, 3)?;
    super::print::table(ws, 2, &widths, 1, &[], lang)?;
    sheet.finish()
}

/// The months of `p`'s trend the aggregates hold.
fn trend_months(input: &ReportInput<'_>, p: Period) -> Vec<Month> {
    crate::indicators::trend_months(p)
        .into_iter()
        .filter(|m| input.aggs.periods.contains(&Period::Month(*m)))
        .collect()
}

/// Columns the printed charts span (A–O), and the first of the data blocks
/// they read, which stay on screen and out of print.
const CHART_COLS: u16 = 15;
/// Rows of one chart's slot: the chart (14 default rows of 20 pixels) and
/// a blank row under it.
const CHART_SLOT: u32 = 15;
/// Charts on one printed page: two slots and the title fit A4 landscape's
/// 509 points at full size.
const CHARTS_PER_PAGE: u32 = 2;
/// Bars carry their value above this many units no more: 150 labels on
/// one axis print as a smudge.
const LABELLED_BARS: usize = 40;

/// The value axis of a rate: from 0 (a scale from 68 makes a point look
/// like a fall), lower only where a figure is negative (a dropout rate).
fn rate_axis(chart: &mut Chart, values: impl Iterator<Item = f64>) {
    let low = values.fold(0.0_f64, f64::min);
    chart
        .y_axis()
        .set_name("%")
        .set_min((low / 10.0).floor() * 10.0);
}

/// 图表: per headline rate the townships' bars, best first, with the
/// target; then each rate's monthly trend for the city and its counties,
/// with the target. One chart to a printed row, two to a page, a page
/// break between pairs so no chart is cut.
fn charts_sheet(
    input: &ReportInput<'_>,
    s: &Summary<'_>,
    fmt: &Formats,
) -> Result<Worksheet, XlsxError> {
    use rust_xlsxwriter::{ChartDataLabel, ChartFormat, ChartLine, ChartLineDashType};
    let lang = input.lang;
    let heads = headline(input.schemas, s.targets);
    let name = lang.pick("图表", "Charts").to_string();
    let reg = input.registry;
    let townships: Vec<UnitIdx> = units(input)
        .into_iter()
        .filter(|&u| reg.unit(u).level == Level::Township)
        .collect();
    // The trend's lines: the city and its counties; a township's own
    // report (--scope 城东街道) has none above it, and draws itself.
    let lines = crate::indicators::trend_units(reg);
    let months = trend_months(input, input.period);
    let mut sheet = Sheet::new();
    let ws = &mut sheet;
    ws.set_name(&name)?;
    ws.merge_range(
        0,
        0,
        0,
        CHART_COLS - 1,
        &format!(
            "{}（{}）",
            lang.pick("主要指标图表", "Charts of the headline indicators"),
            period_label(input.period, lang)
        ),
        &fmt.title,
    )?;
    let mut target_line = ChartFormat::new();
    target_line.set_line(
        ChartLine::new()
            .set_color("#C00000")
            .set_dash_type(ChartLineDashType::Dash)
            .set_width(1.5),
    );
    let mut charts: Vec<Chart> = Vec::new();
    // Data blocks right of the printed charts, with the note that they may
    // be restyled, which is for the screen only.
    let data_col: u16 = CHART_COLS + 1;
    ws.text(
        0,
        data_col,
        lang.pick(
            "以下为各图的数据；图可另行设置样式。",
            "The charts' data; restyle the charts freely.",
        ),
        &fmt.text,
    )?;
    let mut r: u32 = 2;
    for &(form, field) in &heads {
        let label = short_label(input.schemas, form, field);
        let first = r + 1;
        ws.text(r, data_col, label.get(lang), &fmt.header)?;
        ws.text(
            r,
            data_col + 1,
            lang.pick("本期(%)", "Rate (%)"),
            &fmt.header,
        )?;
        ws.text(
            r,
            data_col + 2,
            lang.pick("目标(%)", "Target (%)"),
            &fmt.header,
        )?;
        // Best first, as ranked (the one owner of the order); a township
        // without a figure last, by name order of the registry.
        let mut order: Vec<(UnitIdx, Option<&Indicator>)> = townships
            .iter()
            .map(|&u| (u, s.get(u, form, field)))
            .collect();
        order.sort_by_key(|(_, ind)| ind.and_then(|i| i.rank).unwrap_or(u32::MAX));
        let mut shown = Vec::new();
        for (k, &(u, ind)) in order.iter().enumerate() {
            let row = first + k as u32;
            ws.text(row, data_col, &reg.unit(u).name, &fmt.text)?;
            let current = ind.and_then(|i| i.current).map(published);
            shown.extend(current);
            ws.figure(row, data_col + 1, current, &fmt.rate)?;
            ws.figure(row, data_col + 2, ind.and_then(|i| i.target), &fmt.rate)?;
        }
        let last = first + townships.len().max(1) as u32 - 1;
        let mut bars = Chart::new(ChartType::Column);
        bars.title().set_name(
            format!(
                "{}（{}）",
                label.get(lang),
                period_label(input.period, lang)
            )
            .as_str(),
        );
        let series = bars
            .add_series()
            .set_name(lang.pick("本期", "Rate"))
            .set_categories((name.as_str(), first, data_col, last, data_col))
            .set_values((name.as_str(), first, data_col + 1, last, data_col + 1));
        if townships.len() <= LABELLED_BARS {
            series.set_data_label(ChartDataLabel::new().show_value().set_num_format("0.0"));
        }
        let mut target = Chart::new(ChartType::Line);
        target
            .add_series()
            .set_name(lang.pick("目标", "Target"))
            .set_categories((name.as_str(), first, data_col, last, data_col))
            .set_values((name.as_str(), first, data_col + 2, last, data_col + 2))
            .set_format(&mut target_line.clone());
        bars.combine(&target);
        rate_axis(&mut bars, shown.into_iter());
        charts.push(bars);
        r = last + 2;
    }
    // The monthly trend of each headline rate for the city and its counties,
    // with the target of each month's year at the level of the first line.
    for &(form, field) in &heads {
        if months.len() < 2 || lines.is_empty() {
            break;
        }
        // From the first month any line has a figure: a year of empty
        // months before the first return is no trend.
        let Some(start) = months.iter().position(|m| {
            lines
                .iter()
                .any(|&u| input.aggs.get(Period::Month(*m), u, form, field).is_some())
        }) else {
            continue;
        };
        let months = &months[start..];
        if months.len() < 2 {
            continue;
        }
        let label = short_label(input.schemas, form, field);
        let header = r;
        let last = header + months.len() as u32;
        ws.text(header, data_col, label.get(lang), &fmt.header)?;
        for (k, m) in months.iter().enumerate() {
            ws.text(
                header + 1 + k as u32,
                data_col,
                month_label(*m, lang),
                &fmt.text,
            )?;
        }
        let mut chart = Chart::new(ChartType::Line);
        chart.title().set_name(
            format!("{}{}", label.get(lang), lang.pick("月度趋势", " by month")).as_str(),
        );
        let mut shown = Vec::new();
        for (j, &u) in lines.iter().enumerate() {
            let col = data_col + 1 + j as u16;
            ws.text(header, col, &reg.unit(u).name, &fmt.header)?;
            for (k, m) in months.iter().enumerate() {
                let row = header + 1 + k as u32;
                let rate = input
                    .aggs
                    .get(Period::Month(*m), u, form, field)
                    .map(published);
                shown.extend(rate);
                ws.figure(row, col, rate, &fmt.rate)?;
            }
            chart
                .add_series()
                .set_name((name.as_str(), header, col))
                .set_categories((name.as_str(), header + 1, data_col, last, data_col))
                .set_values((name.as_str(), header + 1, col, last, col));
        }
        let level = reg.unit(lines[0]).level;
        let col = data_col + 1 + lines.len() as u16;
        ws.text(header, col, lang.pick("目标", "Target"), &fmt.header)?;
        let mut any_target = false;
        for (k, m) in months.iter().enumerate() {
            let t = s.targets.get(m.year(), form, field, level);
            any_target |= t.is_some();
            ws.figure(header + 1 + k as u32, col, t, &fmt.rate)?;
        }
        if any_target {
            chart
                .add_series()
                .set_name((name.as_str(), header, col))
                .set_categories((name.as_str(), header + 1, data_col, last, data_col))
                .set_values((name.as_str(), header + 1, col, last, col))
                .set_format(&mut target_line.clone());
        }
        rate_axis(&mut chart, shown.into_iter());
        charts.push(chart);
        r = last + 2;
    }
    for (k, chart) in charts.iter_mut().enumerate() {
        chart.set_width(u32::from(CHART_COLS) * 64).set_height(280);
        ws.insert_chart(2 + k as u32 * CHART_SLOT, 0, chart)?;
    }
    // Printed: the charts only, one page wide, two to a page.
    let chart_rows = 2 + charts.len() as u32 * CHART_SLOT;
    ws.set_print_area(0, 0, chart_rows.saturating_sub(1), CHART_COLS - 1)?;
    let breaks: Vec<u32> = (1..)
        .map(|p| 2 + p * CHARTS_PER_PAGE * CHART_SLOT)
        .take_while(|&row| row < chart_rows)
        .collect();
    if !breaks.is_empty() {
        ws.set_page_breaks(&breaks)?;
    }
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_footer(super::print::page_numbers(lang));
    sheet.finish()
}

/// The published summary's sheets, in order, as tasks: the overview, a
/// sheet per form (into the low-memory worksheets given, one per form),
/// the charts. Forms without a target (a fourth form's schema) have no
/// headline rate: no overview and no charts, only their full tables.
pub(super) fn tasks(
    input: &ReportInput<'_>,
    s: &Summary<'_>,
    streamed: Vec<Option<Worksheet>>,
) -> Vec<Task> {
    let with_headline = !headline(input.schemas, s.targets).is_empty();
    let n_forms = input.schemas.forms.len();
    let mut streamed = streamed.into_iter();
    with_headline
        .then_some(Task::Main)
        .into_iter()
        .chain(
            (0..n_forms).map(|f| Task::Form(f as FormIdx, streamed.next().flatten().map(Box::new))),
        )
        .chain(with_headline.then_some(Task::Charts))
        .collect()
}

/// About how many cells a task writes, for running the largest first:
/// a form's full table is twelve columns for each of its fields at each
/// unit above the villages; the overview five for each headline rate; the
/// charts' data a column a headline rate.
pub(super) fn cells(input: &ReportInput<'_>, s: &Summary<'_>, task: &Task) -> usize {
    let units = units(input).len();
    match task {
        Task::Main => units * 5 * headline(input.schemas, s.targets).len(),
        Task::Form(form, _) => units * 12 * input.schemas.form(*form).fields.len(),
        Task::Charts => units * headline(input.schemas, s.targets).len(),
    }
}

/// Builds one of the summary's sheets.
///
/// # Errors
/// A failure of the workbook writer.
pub(super) fn build(
    input: &ReportInput<'_>,
    s: &Summary<'_>,
    task: Task,
    fmt: &Formats,
) -> Result<Worksheet, XlsxError> {
    match task {
        Task::Main => main_sheet(input, s, fmt),
        Task::Form(form, ws) => form_sheet(input, s, form, ws.map(|w| *w), fmt),
        Task::Charts => charts_sheet(input, s, fmt),
    }
}

/// One sheet of the published summary ([`tasks`]), built as its own task.
pub(super) enum Task {
    Main,
    /// A form's full table, into the low-memory worksheet given, if any.
    Form(FormIdx, Option<Box<Worksheet>>),
    Charts,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indicator(unit: UnitIdx, form: FormIdx, field: FieldIdx) -> Indicator {
        Indicator {
            unit,
            form,
            field,
            current: Some(f64::from(unit) + f64::from(field) / 100.0),
            ytd: None,
            previous: None,
            change_previous: None,
            last_year: None,
            change_last_year: None,
            target: None,
            met: None,
            rank: None,
            annual: false,
        }
    }

    /// Each unit, form and field gives its own indicator, or none, whether
    /// the indicators come in blocks (as `indicators::compute` gives them,
    /// units in report order, not by number) or in any other order.
    #[test]
    fn an_indicator_is_found_by_its_unit_form_and_field_in_any_order() {
        let units: [UnitIdx; 4] = [7, 2, 9, 4];
        let fields: [(FormIdx, FieldIdx); 3] = [(0, 0), (0, 3), (2, 1)];
        let blocks: Vec<Indicator> = fields
            .iter()
            .flat_map(|&(fi, f)| units.iter().map(move |&u| indicator(u, fi, f)))
            .collect();
        let mut shuffled = blocks.clone();
        shuffled.swap(1, 9);
        shuffled.swap(4, 6);
        // Every block whole, the second's units in another order.
        let mut reordered = blocks.clone();
        reordered.swap(4, 5);
        // One block short of a unit: not blocks of the same units.
        let ragged: Vec<Indicator> = blocks.iter().skip(1).cloned().collect();
        assert!(matches!(Index::blocks(&blocks), Some(Index::Blocks { .. })));
        assert!(Index::blocks(&shuffled).is_none());
        assert!(Index::blocks(&reordered).is_none());
        assert!(Index::blocks(&ragged).is_none());
        let (targets, signatures) = (Targets::default(), Signatures::default());
        for rows in [&blocks, &shuffled, &reordered, &ragged] {
            let s = Summary::new(rows, &targets, &signatures);
            for u in 0..12 {
                for fi in 0..3 {
                    for f in 0..5 {
                        let want = rows
                            .iter()
                            .find(|r| (r.unit, r.form, r.field) == (u, fi, f));
                        assert_eq!(s.get(u, fi, f), want, "unit {u} form {fi} field {f}");
                    }
                }
            }
        }
    }
}
