//! The consolidated report workbook (汇总表) for one period, laid out the
//! way Chinese summary tables are: per form a sheet with a merged title,
//! 填报单位 and 报告期, the return's two-row grouped header, rows in
//! hierarchy order (city total, each county, its townships indented),
//! counts with thousands separators and rates with one decimal; a
//! village-level detail sheet per form; and a 说明 sheet saying where every
//! figure came from.

use rayon::prelude::*;
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use super::period_label;
use super::sheet::Sheet;
use super::ReportError;
use crate::aggregate::Aggregates;
use crate::findings::{Finding, Severity};
use crate::message::{month_label, Lang};
use crate::observation::{Batch, ReturnStatus};
use crate::period::Period;
use crate::registry::{Level, Registry, UnitIdx};
use crate::schema::{FieldIdx, Form, FormIdx, Kind, Schemas};
use crate::validate::Completeness;

/// Everything the report shows.
pub struct ReportInput<'a> {
    /// The period the report is for.
    pub period: Period,
    /// Whether the user chose it (`--period`), or it is the latest month found.
    pub chosen: bool,
    /// Aggregated figures.
    pub aggs: &'a Aggregates,
    /// Units.
    pub registry: &'a Registry,
    /// Forms.
    pub schemas: &'a Schemas,
    /// What was read.
    pub batch: &'a Batch,
    /// All findings.
    pub findings: &'a [Finding],
    /// 上报率 table.
    pub completeness: &'a [Completeness],
    /// Registry file, as given.
    pub units_path: &'a str,
    /// When the report was generated (`2026年11月23日 18:24`, Beijing time).
    pub generated_at: &'a str,
    /// The language of every word on the sheets (Chinese unless `--lang en`).
    pub lang: Lang,
    /// The published summary (主要指标, 指标, 图表), when computed.
    pub summary: Option<super::summary::Summary<'a>>,
    /// The issuer as given (`--issuer`): the 汇总表's 填报单位.
    pub issuer: Option<&'a str>,
}

struct Formats {
    title: Format,
    subtitle: Format,
    subtitle_right: Format,
    header: Format,
    name: [Format; 4],
    count: Format,
    count_bold: Format,
    rate: Format,
    rate_bold: Format,
    rate_low: Format,
    text: Format,
    /// A long text (a path, a message), wrapped in its column.
    text_wrap: Format,
    /// The 栏次 row and the 序号 column: centred.
    centred: Format,
    /// An error's row in 审核结果.
    error: Format,
    error_wrap: Format,
    note: Format,
}

impl Formats {
    fn new() -> Formats {
        let border = |f: Format| f.set_border(FormatBorder::Thin);
        let body = || border(Format::new().set_font_size(10));
        Formats {
            title: Format::new()
                .set_bold()
                .set_font_size(16)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            subtitle: Format::new().set_font_size(10),
            subtitle_right: Format::new()
                .set_font_size(10)
                .set_align(FormatAlign::Right),
            header: border(
                Format::new()
                    .set_bold()
                    .set_font_size(10)
                    .set_text_wrap()
                    .set_align(FormatAlign::Center)
                    .set_align(FormatAlign::VerticalCenter)
                    .set_background_color(Color::RGB(0xDDEBF7)),
            ),
            name: [
                body().set_bold(),
                body().set_bold(),
                body().set_indent(1),
                body().set_indent(2),
            ],
            count: body().set_num_format("#,##0"),
            count_bold: body().set_num_format("#,##0").set_bold(),
            rate: body().set_num_format("0.0"),
            rate_bold: body().set_num_format("0.0").set_bold(),
            rate_low: body()
                .set_num_format("0.0")
                .set_font_color(Color::RGB(0xC00000)),
            text: body(),
            text_wrap: body().set_text_wrap().set_align(FormatAlign::Top),
            centred: body().set_align(FormatAlign::Center),
            error: body().set_background_color(Color::RGB(0xFFC7CE)),
            error_wrap: body()
                .set_background_color(Color::RGB(0xFFC7CE))
                .set_text_wrap()
                .set_align(FormatAlign::Top),
            note: Format::new()
                .set_font_size(9)
                .set_font_color(Color::RGB(0x595959)),
        }
    }
}

impl Formats {
    /// Every format here, each once (`every_format!`).
    fn all(&self) -> Vec<&Format> {
        every_format!(
            self,
            Formats {
                title, subtitle, subtitle_right, header, count, count_bold, rate, rate_bold,
                rate_low, text, text_wrap, centred, error, error_wrap, note;
                name
            }
        )
    }
}

fn xerr(e: XlsxError) -> ReportError {
    ReportError::Xlsx(e.to_string())
}

/// Columns of a form in the report: reported fields in return order, then derived.
fn report_fields(form: &Form) -> Vec<FieldIdx> {
    let mut v: Vec<FieldIdx> = form.reported_fields().map(|(i, _)| i).collect();
    v.extend(
        form.fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.derived)
            .map(|(i, _)| i as FieldIdx),
    );
    v
}

/// `免疫规划疫苗常规接种情况月报表` → `免疫规划疫苗常规接种情况汇总表`.
fn summary_title(form: &Form, lang: Lang) -> String {
    match lang {
        Lang::Zh => {
            let t = form
                .title
                .trim_end_matches("月报表")
                .trim_end_matches("报表")
                .trim_end_matches('表');
            format!("{t}汇总表")
        }
        Lang::En => format!(
            "{} — consolidated",
            form.title_in(lang).trim_end_matches(" monthly return")
        ),
    }
}

/// Writes the two header rows starting at `row`, from column `first_col`:
/// grouped fields share a merged group cell; ungrouped ones span both rows.
#[allow(clippy::too_many_arguments)]
fn write_field_header<'f>(
    ws: &mut Sheet<'f>,
    form: &Form,
    fields: &[FieldIdx],
    row: u32,
    first_col: u16,
    period: Period,
    lang: Lang,
    fmt: &'f Formats,
) -> Result<(), XlsxError> {
    for (group, run) in form.group_runs(fields) {
        let col = first_col + run.start as u16;
        let sub = |k: usize| super::flow_label(form.field(fields[k]).sub_label(lang), period, lang);
        match group {
            None => {
                ws.merge_range(row, col, row + 1, col, &sub(run.start), &fmt.header)?;
            }
            Some(_) => {
                let g = form
                    .field(fields[run.start])
                    .group_label(lang)
                    .unwrap_or_default();
                let last = first_col + run.end as u16 - 1;
                if last > col {
                    ws.merge_range(row, col, row, last, g, &fmt.header)?;
                } else {
                    ws.text(row, col, g, &fmt.header)?;
                }
                for k in run {
                    ws.text(row + 1, first_col + k as u16, sub(k), &fmt.header)?;
                }
            }
        }
    }
    Ok(())
}

/// The columns where a field group begins (a dose's 应种、实种、接种率),
/// for `fields` written from column `first`: where a printed sheet may
/// begin a page.
pub(crate) fn group_starts(form: &Form, fields: &[FieldIdx], first: u16) -> Vec<u16> {
    let mut starts = Vec::new();
    for (k, &f) in fields.iter().enumerate() {
        let group = &form.field(f).group;
        if k == 0 || group.is_none() || *group != form.field(fields[k - 1]).group {
            starts.push(first + k as u16);
        }
    }
    starts
}

/// Writes one figure; a missing value stays an empty (bordered) cell, never 0.
#[allow(clippy::too_many_arguments)]
fn write_value<'f>(
    ws: &mut Sheet<'f>,
    row: u32,
    col: u16,
    value: Option<f64>,
    kind: Kind,
    bold: bool,
    low: bool,
    fmt: &'f Formats,
) -> Result<(), XlsxError> {
    let f = match (kind, bold, low) {
        (Kind::Rate, _, true) => &fmt.rate_low,
        (Kind::Rate, true, _) => &fmt.rate_bold,
        (Kind::Rate, false, _) => &fmt.rate,
        (_, true, _) => &fmt.count_bold,
        (_, false, _) => &fmt.count,
    };
    ws.figure(row, col, value, f)
}

/// Whether a unit's rate is shown red: its indicator says it missed its
/// target (`Indicator.met`, the one judgement of 达标, with `--targets`
/// applied), so the sheet, `indicators.csv` and the 通报 never disagree.
fn below_target(input: &ReportInput<'_>, unit: UnitIdx, form: FormIdx, field: FieldIdx) -> bool {
    input
        .summary
        .as_ref()
        .and_then(|s| s.get(unit, form, field))
        .and_then(|i| i.met)
        == Some(false)
}

/// Units whose figures for `form` in the report period are missing because
/// their returns are unsettled duplicates (FORMS.md §4), each with the
/// months concerned. Their rows and every row above them are marked.
fn unsettled(input: &ReportInput<'_>, form_idx: FormIdx) -> Vec<(UnitIdx, Vec<String>)> {
    let mut out: Vec<(UnitIdx, Vec<String>)> = Vec::new();
    for r in &input.batch.returns {
        if r.status != ReturnStatus::Duplicate
            || r.form != form_idx
            || !input.period.contains(r.month)
        {
            continue;
        }
        let label = month_label(r.month, input.lang);
        match out.iter_mut().find(|(u, _)| *u == r.unit) {
            Some((_, months)) if !months.contains(&label) => months.push(label),
            Some(_) => {}
            None => out.push((r.unit, vec![label])),
        }
    }
    out
}

fn summary_sheet(
    input: &ReportInput<'_>,
    form_idx: FormIdx,
    fmt: &Formats,
) -> Result<Worksheet, XlsxError> {
    let form = input.schemas.form(form_idx);
    let reg = input.registry;
    let fields = report_fields(form);
    // A 序号, 单位名称, then the figures (FORMS.md §2's layout).
    const FIRST: u16 = 2;
    let last_col = fields.len() as u16 + FIRST - 1;
    let roots: Vec<&str> = reg
        .units
        .iter()
        .filter(|u| u.parent.is_none())
        .map(|u| u.name.as_str())
        .collect();
    let lang = input.lang;
    let mut sheet = Sheet::new();
    let ws = &mut sheet;
    ws.set_name(form.short_in(lang))?;
    let widths: Vec<f64> = [5.0, 24.0]
        .into_iter()
        .chain(std::iter::repeat_n(10.5, fields.len()))
        .collect();
    let groups = group_starts(form, &fields, FIRST);
    // 序号 and 单位名称 repeat on every page of a split sheet, and so do the
    // title, the header and the 栏次 row.
    let layout = super::print::Layout {
        widths: &widths,
        keep: usize::from(FIRST),
        groups: &groups,
        header: Some((0, 4)),
    };
    let plan = layout.plan();
    let pages = plan.pages(last_col + 1);
    let title = match lang {
        Lang::Zh => format!("{}{}", roots.join("、"), summary_title(form, lang)),
        Lang::En => format!("{}: {}", roots.join(", "), summary_title(form, lang)),
    };
    super::print::title(ws, 0, &pages, layout.keep, &title, &fmt.title, lang)?;
    ws.set_row_height(0, 30)?;
    let issuer = super::issuer(reg, input.issuer);
    ws.text(
        1,
        0,
        match lang {
            Lang::Zh => format!("填报单位：{issuer}"),
            Lang::En => format!("Reporting unit: {issuer}"),
        },
        &fmt.subtitle,
    )?;
    let first_page_last = pages[0].1;
    let mid = (first_page_last / 2).max(1);
    ws.text(
        1,
        mid,
        format!(
            "{}{}",
            lang.pick("报告期：", "Period: "),
            period_label(input.period, lang)
        ),
        &fmt.subtitle,
    )?;
    let table_no = form.table_no.as_deref().map_or_else(String::new, |no| {
        format!("{}{no}　", lang.pick("表号：", "Form "))
    });
    for &(_, last) in &pages {
        ws.text(
            1,
            last,
            format!("{table_no}{}", form.unit_note_in(lang)),
            &fmt.subtitle_right,
        )?;
    }
    ws.merge_range(2, 0, 3, 0, lang.pick("序号", "No."), &fmt.header)?;
    ws.merge_range(2, 1, 3, 1, lang.pick("单位名称", "Unit"), &fmt.header)?;
    write_field_header(ws, form, &fields, 2, FIRST, input.period, lang, fmt)?;
    ws.set_row_height(2, 30)?;
    ws.set_row_height(3, 30)?;
    // 栏次: 甲 乙 for the text columns, then 1, 2, 3… for the figures.
    ws.text(4, 0, lang.pick("甲", "A"), &fmt.centred)?;
    ws.text(4, 1, lang.pick("乙", "B"), &fmt.centred)?;
    for k in 0..fields.len() {
        ws.figure(4, FIRST + k as u16, Some((k + 1) as f64), &fmt.centred)?;
    }
    let mut row = 5;
    let mut serial: u32 = 0;
    let missing = unsettled(input, form_idx);
    let marked = |u: UnitIdx| {
        missing
            .iter()
            .any(|(m, _)| reg.ancestors_and_self(*m).any(|a| a == u))
    };
    let mut figures: Vec<_> = fields
        .iter()
        .map(|&f| input.aggs.reader(input.period, form_idx, f))
        .collect();
    for u in reg.depth_first() {
        let unit = reg.unit(u);
        if unit.level == Level::Village {
            continue;
        }
        let mut name = if unit.parent.is_none() {
            format!("{} {}", unit.name, lang.pick("合计", "total"))
        } else {
            unit.name.clone()
        };
        if marked(u) {
            name.push_str(" ※");
        }
        let bold = unit.level < Level::Township;
        // The total is not numbered; every unit under it is, in order.
        if unit.parent.is_some() {
            serial += 1;
            ws.figure(row, 0, Some(f64::from(serial)), &fmt.centred)?;
        } else {
            ws.text(row, 0, "", &fmt.centred)?;
        }
        ws.text(row, 1, &name, &fmt.name[level_idx(unit.level)])?;
        for (k, &f) in fields.iter().enumerate() {
            let v = figures[k].get(u);
            let low = below_target(input, u, form_idx, f);
            let col = FIRST + k as u16;
            write_value(ws, row, col, v, form.field(f).kind, bold, low, fmt)?;
        }
        row += 1;
    }
    super::print::note(
        ws,
        row + 1,
        &widths,
        &pages,
        layout.keep,
        lang.pick(
            "注：比率均由汇总后的分子、分母重新计算（非各单位比率平均），分子、分母只计两者都报告的单位；存量指标取报告期内最后一个有数据的月份；空白表示未报告，不作 0 处理。红色比率低于目标值。",
            "Note: rates are recomputed from the consolidated numerator and denominator (never averaged), over the units that reported both; stocks take the latest month of the period with a value; a blank is not reported, never 0. Rates in red are below target.",
        ),
        &fmt.note,
    )?;
    if !missing.is_empty() {
        let list: Vec<String> = missing
            .iter()
            .map(|(u, months)| match lang {
                Lang::Zh => format!("{}（{}）", reg.unit(*u).name, months.join("、")),
                Lang::En => format!("{} ({})", reg.unit(*u).name, months.join(", ")),
            })
            .collect();
        super::print::note(
            ws,
            row + 2,
            &widths,
            &pages,
            1,
            &match lang {
                Lang::Zh => format!(
                    "※ {}报送了两份数字不同的报表，均未计入，本行及上级合计缺少其数字；请核实后将正确的一份标注“更正”重新报送。",
                    list.join("、")
                ),
                Lang::En => format!(
                    "※ {} sent two returns with different figures; neither is counted, so this row and the totals above it lack its figures. Have the right one resent marked 更正.",
                    list.join(", ")
                ),
            },
            &fmt.note,
        )?;
    }
    // 表尾: the names of --signatures, or blanks for a pen.
    let blank = super::summary::Signatures::default();
    let signatures = input.summary.as_ref().map_or(&blank, |s| s.signatures);
    super::print::note(
        ws,
        row + 4,
        &widths,
        &pages,
        layout.keep,
        &signatures.line(lang),
        &fmt.subtitle,
    )?;
    ws.set_freeze_panes(5, FIRST)?;
    super::print::apply(ws, &layout, &plan, lang)?;
    sheet.finish()
}

fn level_idx(l: Level) -> usize {
    match l {
        Level::City => 0,
        Level::County => 1,
        Level::Township => 2,
        Level::Village => 3,
    }
}

fn village_sheet(
    input: &ReportInput<'_>,
    form_idx: FormIdx,
    fmt: &Formats,
) -> Result<Worksheet, XlsxError> {
    let form = input.schemas.form(form_idx);
    let reg = input.registry;
    let fields = report_fields(form);
    let first = 3u16;
    let last_col = first + fields.len() as u16 - 1;
    let lang = input.lang;
    let mut sheet = Sheet::new();
    let ws = &mut sheet;
    ws.set_name(format!(
        "{}{}",
        form.short_in(lang),
        lang.pick("-村级", " villages")
    ))?;
    let widths: Vec<f64> = [16.0, 16.0, 15.0]
        .into_iter()
        .chain(std::iter::repeat_n(10.5, fields.len()))
        .collect();
    let groups = group_starts(form, &fields, first);
    let layout = super::print::Layout {
        widths: &widths,
        keep: 2,
        groups: &groups,
        header: Some((0, 3)),
    };
    let plan = layout.plan();
    let pages = plan.pages(last_col + 1);
    super::print::title(
        ws,
        0,
        &pages,
        layout.keep,
        &format!(
            "{}{}",
            summary_title(form, lang),
            lang.pick("（村级明细）", " (village detail)")
        ),
        &fmt.title,
        lang,
    )?;
    ws.set_row_height(0, 30)?;
    ws.text(
        1,
        0,
        format!(
            "{}{}",
            lang.pick("报告期：", "Period: "),
            period_label(input.period, lang)
        ),
        &fmt.subtitle,
    )?;
    for &(_, last) in &pages {
        ws.text(1, last, form.unit_note_in(lang), &fmt.subtitle_right)?;
    }
    let heads = match lang {
        Lang::Zh => ["乡镇(街道)", "村(社区)", "统计用区划代码"],
        Lang::En => ["Township", "Village", "Division code"],
    };
    for (c, label) in heads.iter().enumerate() {
        ws.merge_range(2, c as u16, 3, c as u16, label, &fmt.header)?;
    }
    write_field_header(ws, form, &fields, 2, first, input.period, lang, fmt)?;
    ws.set_row_height(2, 30)?;
    ws.set_row_height(3, 30)?;
    let mut row = 4;
    let mut figures: Vec<_> = fields
        .iter()
        .map(|&f| input.aggs.reader(input.period, form_idx, f))
        .collect();
    for u in reg.depth_first() {
        let unit = reg.unit(u);
        if unit.level != Level::Village {
            continue;
        }
        let township = unit.parent.map(|p| reg.unit(p).name.as_str()).unwrap_or("");
        ws.text(row, 0, township, &fmt.text)?;
        ws.text(row, 1, &unit.name, &fmt.text)?;
        ws.text(row, 2, unit.code.to_string(), &fmt.text)?;
        for (k, &f) in fields.iter().enumerate() {
            let v = figures[k].get(u);
            write_value(
                ws,
                row,
                first + k as u16,
                v,
                form.field(f).kind,
                false,
                false,
                fmt,
            )?;
        }
        row += 1;
    }
    ws.set_freeze_panes(4, first)?;
    ws.autofilter(3, 0, row.saturating_sub(1).max(3), last_col)?;
    super::print::apply(ws, &layout, &plan, lang)?;
    sheet.finish()
}

fn notes_sheet(input: &ReportInput<'_>, fmt: &Formats) -> Result<Worksheet, XlsxError> {
    let lang = input.lang;
    let zh = lang == Lang::Zh;
    let mut sheet = Sheet::new();
    let ws = &mut sheet;
    ws.set_name(lang.pick("说明", "Notes"))?;
    let b = input.batch;
    let count = |s: Severity| input.findings.iter().filter(|f| f.severity() == s).count();
    // The report is about its period: the returns of other months were read
    // only as the history of the checks over time.
    let ours: Vec<&crate::observation::Return> = b
        .returns
        .iter()
        .filter(|r| input.period.contains(r.month))
        .collect();
    let counted = ours
        .iter()
        .filter(|r| r.status == ReturnStatus::Active)
        .count();
    let history = b.returns_read() - ours.len();
    let period = period_label(input.period, lang);
    let period_note = if input.chosen {
        super::reach_note(input.period, b.covered(input.period), lang).unwrap_or(period)
    } else {
        let other = b
            .months_read()
            .iter()
            .rev()
            .nth(1)
            .map_or("2026-01".to_string(), ToString::to_string);
        if zh {
            format!(
                "{period}：读入文件中最新的月份；其他月份请用 --period 指定，如 --period {other}"
            )
        } else {
            format!("{period}: the latest month found; for another, add --period, e.g. --period {other}")
        }
    };
    let mut read = if zh {
        format!(
            "{} 个文件，本期报表 {} 份，其中计入汇总 {} 份",
            b.files_read(),
            ours.len(),
            counted
        )
    } else {
        format!(
            "{} files, {} returns of the period, {} of them counted",
            b.files_read(),
            ours.len(),
            counted
        )
    };
    if history > 0 {
        read.push_str(&if zh {
            format!("；另有其他月份报表 {history} 份，仅作历史比较（存量骤降、异常值），不计入本期")
        } else {
            format!("; {history} returns of other months read only as history (stock drops, outliers), not counted")
        });
    }
    if !b.outside.is_empty() {
        read.push_str(&if zh {
            format!("；{} 份报表不属于本汇总范围，已略过", b.outside.len())
        } else {
            format!(
                "; {} returns from outside the scope left out",
                b.outside.len()
            )
        });
        if let Some(said) = crate::message::left_above_scope(&b.outside, lang) {
            read.push_str(lang.pick("，其中 ", "; "));
            read.push_str(&said);
        }
    }
    let periods: Vec<String> = input
        .aggs
        .periods
        .iter()
        .filter(|p| !input.aggs.comparison.contains(p))
        .map(|p| period_label(*p, lang))
        .collect();
    let lines: Vec<(&str, String)> = vec![
        (lang.pick("报告期", "Period"), period_note),
        (lang.pick("生成时间", "Generated"), input.generated_at.to_string()),
        (lang.pick("生成工具", "Tool"), format!("phstats {}", env!("CARGO_PKG_VERSION"))),
        (
            lang.pick("单位登记表", "Unit registry"),
            if zh {
                format!("{}（{} 个单位）", input.units_path, input.registry.units.len())
            } else {
                format!("{} ({} units)", input.units_path, input.registry.units.len())
            },
        ),
        (lang.pick("读入文件", "Files read"), read),
        (lang.pick("汇总期间", "Periods consolidated"), periods.join(lang.pick("、", ", "))),
        (
            lang.pick("审核结果", "Findings"),
            if zh {
                format!("错误 {}，警告 {}，提示 {}（明细见“审核结果”工作表）", count(Severity::Error), count(Severity::Warning), count(Severity::Info))
            } else {
                format!("{} errors, {} warnings, {} notes (see the Findings sheet)", count(Severity::Error), count(Severity::Warning), count(Severity::Info))
            },
        ),
        (
            lang.pick("汇总规则", "Rules"),
            lang.pick(
                "流量指标（本月数）跨月、跨单位求和；存量指标（人口数、签约人数、管理人数）取报告期内最后一个有数据的月份，再逐级求和；比率由汇总后的分子、分母重新计算，只计两者都报告的单位；未报告不作 0。",
                "Flows (this month's counts) are summed over months and units; stocks (population, signed, managed) take the latest month of the period with a value, then are summed up the hierarchy; rates are recomputed from the summed numerator and denominator, over the units that reported both; not reported is never 0.",
            )
            .to_string(),
        ),
    ];
    ws.merge_range(
        0,
        0,
        0,
        5,
        lang.pick("汇总说明", "About this report"),
        &fmt.title,
    )?;
    // Each line's text across the list's columns, wrapped, its row as tall
    // as its lines: a scope's note on the summaries above it ran past the
    // table's edge and off the printed page.
    let widths = [40.0, 60.0, 16.0, 16.0, 16.0, 16.0];
    let mut row = 2;
    for (k, v) in &lines {
        ws.text(row, 0, *k, &fmt.header)?;
        super::print::note(ws, row, &widths, &[(1, 5)], 0, v, &fmt.text)?;
        row += 1;
    }
    row += 1;
    let headers = match lang {
        Lang::Zh => ["文件", "工作表", "报表", "填报单位", "报告期", "状态"],
        Lang::En => ["File", "Sheet", "Form", "Reporting unit", "Month", "Status"],
    };
    for (c, h) in headers.iter().enumerate() {
        ws.text(row, c as u16, *h, &fmt.header)?;
    }
    let first_list_row = row;
    row += 1;
    for r in ours {
        let status = match r.status {
            ReturnStatus::Active => lang.pick("计入", "counted"),
            ReturnStatus::Superseded => lang.pick("已被更正替代", "replaced by a correction"),
            ReturnStatus::Duplicate => lang.pick(
                "重复报送（数字不同），未计入",
                "sent twice with different figures, not counted",
            ),
            ReturnStatus::IdenticalCopy => lang.pick(
                "重复收到的相同报表，只计一次",
                "the same return received again, counted once",
            ),
        };
        let cells = [
            b.files[r.file as usize].clone(),
            r.sheet.clone(),
            input.schemas.form(r.form).title_in(lang).to_string(),
            input.registry.unit(r.unit).name.clone(),
            month_label(r.month, lang),
            status.to_string(),
        ];
        for (c, v) in cells.iter().enumerate() {
            ws.text(row, c as u16, v, &fmt.text)?;
        }
        row += 1;
    }
    // Files that hold no return at all (a contact list sent by mistake):
    // listed so nothing read goes unmentioned, never sent back.
    let with_returns: std::collections::HashSet<u32> = b.returns.iter().map(|r| r.file).collect();
    for (i, file) in b.files.iter().enumerate() {
        if with_returns.contains(&(i as u32)) {
            continue;
        }
        let unreadable = input.findings.iter().any(|f| {
            f.file.as_deref() == Some(file) && f.rule == crate::findings::Rule::UnreadableFile
        });
        let status = if unreadable {
            lang.pick("无法读取，未计入", "unreadable, not counted")
        } else {
            lang.pick(
                "未找到报表（非报表文件），未读入",
                "holds no return (not a return file), not read",
            )
        };
        ws.text(row, 0, file, &fmt.text)?;
        for c in 1..5 {
            ws.blank(row, c, &fmt.text)?;
        }
        ws.text(row, 5, status, &fmt.text)?;
        row += 1;
    }
    ws.autofilter(
        first_list_row,
        0,
        row.saturating_sub(1).max(first_list_row),
        5,
    )?;
    super::print::table(ws, 0, &widths, 0, &[], lang)?;
    sheet.finish()
}

fn completeness_sheet(input: &ReportInput<'_>, fmt: &Formats) -> Result<Worksheet, XlsxError> {
    let lang = input.lang;
    let mut sheet = Sheet::new();
    let ws = &mut sheet;
    ws.set_name(lang.pick("上报情况", "Completeness"))?;
    ws.merge_range(
        0,
        0,
        0,
        8,
        lang.pick(
            "报表上报情况（上报率、及时率）",
            "Returns received (completeness, timeliness)",
        ),
        &fmt.title,
    )?;
    let headers = match lang {
        Lang::Zh => [
            "报表",
            "月份",
            "层级",
            "应报",
            "实报",
            "上报率(%)",
            "未报单位",
            "及时率(%)",
            "逾期单位",
        ],
        Lang::En => [
            "Form",
            "Month",
            "Level",
            "Expected",
            "Received",
            "Completeness (%)",
            "Missing",
            "Timeliness (%)",
            "Late",
        ],
    };
    for (c, h) in headers.iter().enumerate() {
        ws.text(2, c as u16, *h, &fmt.header)?;
    }
    let names = |units: &[UnitIdx]| {
        units
            .iter()
            .map(|&u| input.registry.unit(u).name.as_str())
            .collect::<Vec<_>>()
            .join(lang.pick("、", ", "))
    };
    let in_period = input
        .completeness
        .iter()
        .filter(|c| input.period.contains(c.month));
    for (row, c) in (3u32..).zip(in_period) {
        ws.text(row, 0, input.schemas.form(c.form).title_in(lang), &fmt.text)?;
        ws.text(row, 1, month_label(c.month, lang), &fmt.text)?;
        ws.text(row, 2, lang.pick(c.level.zh(), c.level.id()), &fmt.text)?;
        ws.number(row, 3, c.expected as f64, &fmt.count)?;
        ws.number(row, 4, c.reported as f64, &fmt.count)?;
        write_value(ws, row, 5, c.rate(), Kind::Rate, false, false, fmt)?;
        ws.text(row, 6, names(&c.missing), &fmt.text)?;
        write_value(ws, row, 7, c.timeliness(), Kind::Rate, false, false, fmt)?;
        ws.text(row, 8, names(&c.late), &fmt.text)?;
    }
    ws.set_freeze_panes(3, 0)?;
    let widths = [36.0, 8.43, 8.43, 8.43, 8.43, 8.43, 40.0, 10.0, 30.0];
    super::print::table(ws, 2, &widths, 1, &[], lang)?;
    sheet.finish()
}

/// The 审核结果 sheet's column widths: A3 landscape at 67 %.
const FINDING_WIDTHS: [f64; 11] = [
    6.0, 22.0, 14.0, 10.0, 14.0, 36.0, 12.0, 8.0, 22.0, 10.0, 80.0,
];

/// The most findings the 审核结果 sheet lists.
pub const MAX_FINDING_ROWS: usize = 100_000;

/// The findings a sheet lists, errors first, at most `max`, and how many
/// are left out. A sheet holds 1,048,576 rows; far fewer is what a person
/// can read. What is left out is the least serious, and findings.csv keeps
/// every one.
fn listed(findings: &[Finding], max: usize) -> (Vec<&Finding>, usize) {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| f.severity());
    let left_out = sorted.len().saturating_sub(max);
    sorted.truncate(max);
    (sorted, left_out)
}

/// Every finding, filterable, errors highlighted: what the statistician
/// works through before forwarding the report.
fn findings_sheet<'f>(
    input: &ReportInput<'_>,
    mut sheet: Sheet<'f>,
    fmt: &'f Formats,
) -> Result<Worksheet, XlsxError> {
    let lang = input.lang;
    let ws = &mut sheet;
    ws.set_name(lang.pick("审核结果", "Findings"))?;
    let headers = match lang {
        Lang::Zh => [
            "级别",
            "规则",
            "报表",
            "报告期",
            "单位",
            "文件",
            "工作表",
            "单元格",
            "栏目",
            "填报值",
            "问题及修改建议",
        ],
        Lang::En => [
            "Level",
            "Rule",
            "Form",
            "Period",
            "Unit",
            "File",
            "Sheet",
            "Cell",
            "Column",
            "Value",
            "Problem and fix",
        ],
    };
    for (c, h) in headers.iter().enumerate() {
        ws.text(0, c as u16, *h, &fmt.header)?;
    }
    let (sorted, left_out) = listed(input.findings, MAX_FINDING_ROWS);
    let mut row = 1;
    // A row's texts (its message above all) are made on every core, a
    // chunk at a time, and then written in order: a province's year has
    // 87,000 rows, this sheet is the longest task of the report, and the
    // texts were 0.2 of its 0.55 s.
    for chunk in sorted.chunks(FINDINGS_CHUNK) {
        let texts: Vec<[String; 11]> = chunk
            .par_iter()
            .with_min_len(256)
            .map(|f| super::finding_cells(f, input.schemas, input.registry, lang))
            .collect();
        for (f, cells) in chunk.iter().zip(texts) {
            let (format, wrap) = if f.severity() == Severity::Error {
                (&fmt.error, &fmt.error_wrap)
            } else {
                (&fmt.text, &fmt.text_wrap)
            };
            // The long texts wrap in their columns, the row as tall as the
            // longest: a message running on past the last column printed
            // the whole sheet smaller to take it in.
            let lines = cells
                .iter()
                .zip(FINDING_WIDTHS)
                .map(|(v, w)| super::print::wrapped_lines(v, w))
                .max()
                .unwrap_or(1);
            if lines > 1 {
                ws.set_row_height(row, super::print::row_height(lines as f64))?;
            }
            for (c, v) in cells.into_iter().enumerate() {
                ws.text(row, c as u16, v, if lines > 1 { wrap } else { format })?;
            }
            row += 1;
        }
    }
    if left_out > 0 {
        ws.text(
            row + 1,
            0,
            match lang {
                Lang::Zh => format!("另有 {left_out} 条审核结果未列出（本表最多列 {MAX_FINDING_ROWS} 条，按错误、警告、提示排序）；全部审核结果见 findings.csv（--export）。"),
                Lang::En => format!("{left_out} more findings are not listed (this sheet lists at most {MAX_FINDING_ROWS}, errors first); findings.csv (--export) has them all."),
            },
            &fmt.note,
        )?;
    }
    ws.autofilter(0, 0, row.saturating_sub(1).max(1), headers.len() as u16 - 1)?;
    ws.set_freeze_panes(1, 0)?;
    super::print::table(ws, 0, &FINDING_WIDTHS, 0, &[], lang)?;
    sheet.finish()
}

/// Findings whose texts are made side by side before they are written.
const FINDINGS_CHUNK: usize = 4096;

/// Above this many findings 审核结果 streams its rows to a temporary file,
/// holding no memory for them (200 MB of a province's year). Below it the
/// sheet is held: streamed, its XML and shared strings are made in its own
/// task, the longest of the build on 16 cores, which made a city-year's
/// year report (12,000 findings) slower there; held, they are made in the
/// save beside the other sheets'.
const STREAMED_FINDINGS: usize = 20_000;

/// The report workbook's sheets, built, and the workbook they go into.
pub struct ReportSheets {
    workbook: Workbook,
    sheets: Vec<Worksheet>,
}

/// Builds every sheet of the report workbook, each as its own task, side by
/// side: the summaries, the published summary's sheets, the village
/// tables, the findings, completeness and the notes, in that order.
///
/// A long 审核结果 streams its rows to a temporary file as they are
/// written (rust_xlsxwriter's low-memory mode) rather than holding them: a
/// province's year has 87,000 findings, 42 MB of XML, which held as cells
/// and then as XML were 240 MB of the run's peak. Where no temporary file
/// can be made, it is held like the other sheets.
///
/// # Errors
/// Only a failure of the workbook writer.
pub fn report_sheets(input: &ReportInput<'_>) -> Result<ReportSheets, ReportError> {
    let fmt = Formats::new();
    let summary_fmt = super::summary::Formats::new();
    let mut workbook = Workbook::new();
    // The streamed sheets are built side by side and share the workbook's
    // table of formats, which gives a format its number the first time
    // any sheet uses it: two sheets using a new format at once could each
    // give it one, and cells then showed another format's look (a title
    // in a township name's, a county's name indented like a township's,
    // in four of six builds of the sample's report at 4 threads). Every
    // format the sheets use is numbered here first, in one order, so that
    // building them only reads the table (what rust_xlsxwriter's
    // `register_format` is for, its documentation says, in a program that
    // writes streamed sheets on several threads).
    for format in fmt
        .all()
        .into_iter()
        .chain(summary_fmt.all())
        .chain([&Format::new()])
    {
        workbook.register_format(format);
    }
    let findings = if input.findings.len() > STREAMED_FINDINGS {
        workbook
            .new_worksheet_with_low_memory()
            .map_or_else(|_| Sheet::new(), Sheet::streamed)
    } else {
        Sheet::new()
    };
    let n_forms = input.schemas.forms.len() as FormIdx;
    // The published summary's long tables, one per form, stream too.
    let published = input.summary.is_some().then(|| {
        (0..n_forms)
            .map(|_| workbook.new_worksheet_with_low_memory().ok())
            .collect()
    });
    let published: Vec<Part> = match (&input.summary, published) {
        (Some(s), Some(streamed)) => super::summary::tasks(input, s, streamed)
            .into_iter()
            .map(|task| Part::Published(s, task))
            .collect(),
        _ => Vec::new(),
    };
    // In the workbook's order.
    let parts: Vec<Part> = (0..n_forms)
        .map(Part::Summary)
        .chain(published)
        .chain((0..n_forms).map(Part::Villages))
        .chain([
            Part::Findings(Box::new(findings)),
            Part::Completeness,
            Part::Notes,
        ])
        .collect();
    let built = largest_first(
        parts,
        |part| part.cells(input),
        |part| match part {
            Part::Summary(fi) => summary_sheet(input, fi, &fmt),
            Part::Published(s, task) => super::summary::build(input, s, task, &summary_fmt),
            Part::Villages(fi) => village_sheet(input, fi, &fmt),
            Part::Findings(sheet) => findings_sheet(input, *sheet, &fmt),
            Part::Completeness => completeness_sheet(input, &fmt),
            Part::Notes => notes_sheet(input, &fmt),
        },
    );
    let sheets = built
        .into_iter()
        .collect::<Result<Vec<Worksheet>, XlsxError>>()
        .map_err(xerr)?;
    Ok(ReportSheets { workbook, sheets })
}

/// The workbook of `sheets`, in order, as `.xlsx` bytes. rust_xlsxwriter
/// compresses the sheets on one thread, so a caller with other work runs it
/// beside this.
///
/// # Errors
/// Only a failure of the workbook writer.
pub fn save_report(built: ReportSheets) -> Result<Vec<u8>, ReportError> {
    let ReportSheets {
        mut workbook,
        sheets,
    } = built;
    for sheet in sheets {
        workbook.push_worksheet(sheet);
    }
    // Level 1: the fastest, about a third of level 3's time for a file a
    // few hundred kilobytes larger.
    workbook.set_zip_compression_level(1);
    let bytes = workbook.save_to_buffer().map_err(xerr)?;
    // Freeing a city-year report's cells is 8 ms of one thread: done
    // beside the rest instead of before the file is written (where no
    // thread can be had, the closure and the workbook are dropped here).
    let _ = std::thread::Builder::new().spawn(move || drop(workbook));
    Ok(bytes)
}

/// Runs `run` on every task, on every core, the largest (by `size`)
/// first, each core taking the next as it is free; the results in the
/// tasks' order.
///
/// The report's sheets went through `par_iter` in the workbook's order,
/// which splits them in halves: a city's 2026Q4 from its store built the
/// overview, the vaccination form's full table (55–90 ms) and its village
/// table one after the other on one thread, while the other thread was
/// done 30 ms before it (each sheet timed, release, 2 threads). Largest
/// first, alternating with the binary before ten or twelve times (medians):
/// 2026Q1's outputs 0.204 s against 0.221, 2026Q4's 0.208 against 0.215,
/// the city-year `consolidate --export` 0.259 against 0.266 (five runs,
/// peak 217 MiB against 213); every cell of the workbook the same.
fn largest_first<T: Send, R: Send>(
    tasks: Vec<T>,
    size: impl Fn(&T) -> usize,
    run: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let sizes: Vec<usize> = tasks.iter().map(size).collect();
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    let tasks: Vec<Mutex<Option<T>>> = tasks.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let results: Vec<Mutex<Option<R>>> = tasks.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let take = |m: &Mutex<Option<T>>| {
        m.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    };
    rayon::scope(|scope| {
        for _ in 0..rayon::current_num_threads().min(tasks.len()) {
            scope.spawn(|_| {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Some(task) = take(&tasks[i]) {
                        let r = run(task);
                        *results[i]
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
                    }
                }
            });
        }
    });
    results
        .into_iter()
        .filter_map(|m| {
            m.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
        .collect()
}

/// One part of the report workbook, built as its own task.
enum Part<'f, 's> {
    /// A form's consolidated table.
    Summary(FormIdx),
    /// One sheet of the published summary (FORMS.md §8): the overview, a
    /// form's full table (into the low-memory worksheet given), the charts.
    Published(&'s super::summary::Summary<'s>, super::summary::Task),
    /// A form's village table.
    Villages(FormIdx),
    /// 审核结果, into the sheet given.
    Findings(Box<Sheet<'f>>),
    /// 上报情况.
    Completeness,
    /// 说明.
    Notes,
}

impl Part<'_, '_> {
    /// About how many cells the part writes ([`largest_first`]).
    fn cells(&self, input: &ReportInput<'_>) -> usize {
        let reg = input.registry;
        let villages = reg
            .units
            .iter()
            .filter(|u| u.level == Level::Village)
            .count();
        let fields = |fi: FormIdx| input.schemas.form(fi).fields.len();
        match self {
            Part::Summary(fi) => (reg.units.len() - villages) * fields(*fi),
            Part::Published(s, task) => super::summary::cells(input, s, task),
            Part::Villages(fi) => villages * fields(*fi),
            Part::Findings(_) => input.findings.len() * 11,
            Part::Completeness => reg.units.len(),
            Part::Notes => 100,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::finding_cells;
    use super::*;
    use crate::findings::Rule;
    use crate::message::Detail;

    #[test]
    fn the_largest_task_is_started_first_and_results_keep_the_tasks_order() {
        let sizes: Vec<usize> = (0..40).map(|i| (i * 37) % 41).collect();
        let started = std::sync::Mutex::new(Vec::new());
        let run = |i: usize| {
            started.lock().unwrap().push(i);
            i * 2
        };
        // The tasks each ran once, in the order they were started.
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let got = pool.install(|| largest_first((0..40).collect(), |&i| sizes[i], run));
            assert_eq!(got, (0..40).map(|i| i * 2).collect::<Vec<_>>());
            std::mem::take(&mut *started.lock().unwrap())
        };
        // One thread: started in the order of their sizes.
        let mut want: Vec<usize> = (0..40).collect();
        want.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
        assert_eq!(on(1), want);
        // Several: each once.
        let mut ran = on(4);
        ran.sort_unstable();
        assert_eq!(ran, (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn the_findings_sheet_keeps_the_errors_and_counts_what_it_leaves_out() {
        let mut findings: Vec<Finding> = (0..5)
            .map(|_| Finding::new(Rule::UnknownColumn, Detail::StraySheet))
            .collect();
        findings.push(Finding::new(Rule::PeriodMissing, Detail::PeriodMissing));
        let (shown, left_out) = listed(&findings, 3);
        assert_eq!(shown.len(), 3);
        assert_eq!(left_out, 3);
        assert_eq!(shown[0].rule, Rule::PeriodMissing, "the error stays");
    }

    #[test]
    fn a_long_findings_sheet_is_streamed_whole_errors_first() {
        use calamine::Reader as _;
        let schemas = Schemas::builtin().unwrap();
        let registry = Registry::from_csv(
            "code,name,level,parent_code,aliases\n439900000000,青山市,city,,\n".as_bytes(),
            "units.csv",
        )
        .unwrap();
        // Enough findings to stream the sheet; every thousandth an error,
        // which the sheet lists first.
        let n = STREAMED_FINDINGS + 1_000;
        let findings: Vec<Finding> = (0..n)
            .map(|k| match k % 1_000 {
                999 => Finding::new(Rule::PeriodMissing, Detail::PeriodMissing),
                _ => Finding::new(Rule::UnknownColumn, Detail::StraySheet),
            })
            .collect();
        let (aggs, batch) = (Aggregates::default(), Batch::default());
        let input = ReportInput {
            period: Period::parse("2026-03").unwrap(),
            chosen: true,
            aggs: &aggs,
            registry: &registry,
            schemas: &schemas,
            batch: &batch,
            findings: &findings,
            completeness: &[],
            units_path: "units.csv",
            generated_at: "2026年11月26日 10:00",
            lang: Lang::Zh,
            summary: None,
            issuer: None,
        };
        let bytes = save_report(report_sheets(&input).unwrap()).unwrap();
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let sheet = book.worksheet_range("审核结果").unwrap();
        assert_eq!(sheet.height(), n + 1, "the header and every finding");
        let cell = |row: usize, col: usize| sheet.get((row, col)).map(ToString::to_string);
        assert_eq!(cell(0, 0).as_deref(), Some("级别"));
        let error = finding_cells(&findings[999], &schemas, &registry, Lang::Zh);
        let info = finding_cells(&findings[0], &schemas, &registry, Lang::Zh);
        let errors = n / 1_000;
        for row in 1..=n {
            let want = if row <= errors { &error } else { &info };
            for (col, text) in want.iter().enumerate() {
                let got = cell(row, col).unwrap_or_default();
                assert_eq!(&got, text, "row {row}, column {col}");
            }
        }
    }
}
