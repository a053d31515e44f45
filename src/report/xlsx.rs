//! The consolidated report workbook (汇总表) for one period, laid out the
//! way Chinese summary tables are: per form a sheet with a merged title,
//! 填报单位 and 报告期, the return's two-row grouped header, rows in
//! hierarchy order (city total, each county, its townships indented),
//! counts with thousands separators and rates with one decimal; a
//! village-level detail sheet per form; and a 说明 sheet saying where every
//! figure came from.

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use super::ReportError;
use crate::aggregate::Aggregates;
use crate::findings::{Finding, Severity};
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
    /// When the report was generated (`2026-11-23 10:24 UTC`).
    pub generated_at: &'a str,
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
            note: Format::new()
                .set_font_size(9)
                .set_font_color(Color::RGB(0x595959)),
        }
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
fn summary_title(form: &Form) -> String {
    let t = form
        .title
        .trim_end_matches("月报表")
        .trim_end_matches("报表")
        .trim_end_matches('表');
    format!("{t}汇总表")
}

/// Writes the two header rows starting at `row`, from column `first_col`:
/// grouped fields share a merged group cell; ungrouped ones span both rows.
fn write_field_header(
    ws: &mut Worksheet,
    form: &Form,
    fields: &[FieldIdx],
    row: u32,
    first_col: u16,
    fmt: &Formats,
) -> Result<(), XlsxError> {
    for (group, run) in form.group_runs(fields) {
        let col = first_col + run.start as u16;
        match group {
            None => {
                let label = &form.field(fields[run.start]).label;
                ws.merge_range(row, col, row + 1, col, label, &fmt.header)?;
            }
            Some(g) => {
                let last = first_col + run.end as u16 - 1;
                if last > col {
                    ws.merge_range(row, col, row, last, g, &fmt.header)?;
                } else {
                    ws.write_string_with_format(row, col, g, &fmt.header)?;
                }
                for k in run {
                    let sub = &form.field(fields[k]).label;
                    ws.write_string_with_format(row + 1, first_col + k as u16, sub, &fmt.header)?;
                }
            }
        }
    }
    Ok(())
}

/// Landscape, fitted to one page wide, header rows repeated; forms wider
/// than 14 columns go on A3 (paper 8) so figures stay legible, others on A4 (9).
fn set_print(ws: &mut Worksheet, header_last_row: u32, columns: u16) -> Result<(), XlsxError> {
    ws.set_landscape();
    ws.set_paper_size(if columns > 14 { 8 } else { 9 });
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_repeat_rows(0, header_last_row)?;
    ws.set_footer("&C第 &P 页，共 &N 页");
    Ok(())
}

/// Writes one figure; a missing value stays an empty (bordered) cell, never 0.
#[allow(clippy::too_many_arguments)]
fn write_value(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    value: Option<f64>,
    kind: Kind,
    bold: bool,
    low: bool,
    fmt: &Formats,
) -> Result<(), XlsxError> {
    let f = match (kind, bold, low) {
        (Kind::Rate, _, true) => &fmt.rate_low,
        (Kind::Rate, true, _) => &fmt.rate_bold,
        (Kind::Rate, false, _) => &fmt.rate,
        (_, true, _) => &fmt.count_bold,
        (_, false, _) => &fmt.count,
    };
    match value {
        Some(v) => ws.write_number_with_format(row, col, v, f)?,
        None => ws.write_blank(row, col, f)?,
    };
    Ok(())
}

/// Whether a rate misses its target, judged on the figure as published
/// (one decimal): 89.96 shows as 90.0 and meets a target of 90, so a red
/// cell never shows a number that meets its target.
fn below_target(form: &Form, field: FieldIdx, level: Level, value: Option<f64>) -> bool {
    let Some(v) = value else { return false };
    let shown = (v * 10.0).round() / 10.0;
    form.targets.iter().any(|t| {
        t.field == field && t.level.as_deref().is_none_or(|l| l == level.id()) && shown < t.min
    })
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
        let label = format!("{}年{}月", r.month.year(), r.month.month());
        match out.iter_mut().find(|(u, _)| *u == r.unit) {
            Some((_, months)) if !months.contains(&label) => months.push(label),
            Some(_) => {}
            None => out.push((r.unit, vec![label])),
        }
    }
    out
}

fn summary_sheet(
    wb: &mut Workbook,
    input: &ReportInput<'_>,
    form_idx: FormIdx,
    fmt: &Formats,
) -> Result<(), XlsxError> {
    let form = input.schemas.form(form_idx);
    let reg = input.registry;
    let fields = report_fields(form);
    let last_col = fields.len() as u16;
    let roots: Vec<&str> = reg
        .units
        .iter()
        .filter(|u| u.parent.is_none())
        .map(|u| u.name.as_str())
        .collect();
    let ws = wb.add_worksheet();
    ws.set_name(&form.short)?;
    ws.merge_range(
        0,
        0,
        0,
        last_col,
        &format!("{}{}", roots.join("、"), summary_title(form)),
        &fmt.title,
    )?;
    ws.set_row_height(0, 30)?;
    ws.write_string_with_format(
        1,
        0,
        format!("填报单位：{}（汇总）", roots.join("、")),
        &fmt.subtitle,
    )?;
    let mid = (last_col / 2).max(1);
    ws.write_string_with_format(
        1,
        mid,
        format!("报告期：{}", input.period.label_zh()),
        &fmt.subtitle,
    )?;
    ws.write_string_with_format(1, last_col, &form.unit_note, &fmt.subtitle_right)?;
    ws.merge_range(2, 0, 3, 0, "单位名称", &fmt.header)?;
    write_field_header(ws, form, &fields, 2, 1, fmt)?;
    ws.set_row_height(2, 30)?;
    ws.set_row_height(3, 30)?;
    let mut row = 4;
    let missing = unsettled(input, form_idx);
    let marked = |u: UnitIdx| {
        missing
            .iter()
            .any(|(m, _)| reg.ancestors_and_self(*m).any(|a| a == u))
    };
    for u in reg.depth_first() {
        let unit = reg.unit(u);
        if unit.level == Level::Village {
            continue;
        }
        let mut name = if unit.parent.is_none() {
            format!("{} 合计", unit.name)
        } else {
            unit.name.clone()
        };
        if marked(u) {
            name.push_str(" ※");
        }
        let bold = unit.level < Level::Township;
        ws.write_string_with_format(row, 0, &name, &fmt.name[level_idx(unit.level)])?;
        for (k, &f) in fields.iter().enumerate() {
            let v = input.aggs.get(input.period, u, form_idx, f);
            let low = below_target(form, f, unit.level, v);
            write_value(ws, row, 1 + k as u16, v, form.field(f).kind, bold, low, fmt)?;
        }
        row += 1;
    }
    ws.write_string_with_format(
        row + 1,
        0,
        "注：比率均由汇总后的分子、分母重新计算（非各单位比率平均）；存量指标取报告期内最后一个有数据的月份；空白表示未报告，不作 0 处理。红色比率低于目标值。",
        &fmt.note,
    )?;
    if !missing.is_empty() {
        let list: Vec<String> = missing
            .iter()
            .map(|(u, months)| format!("{}（{}）", reg.unit(*u).name, months.join("、")))
            .collect();
        ws.write_string_with_format(
            row + 2,
            0,
            format!(
                "※ {}报送了两份数字不同的报表，均未计入，本行及上级合计缺少其数字；请核实后将正确的一份标注“更正”重新报送。",
                list.join("、")
            ),
            &fmt.note,
        )?;
    }
    ws.set_column_width(0, 24)?;
    for c in 1..=last_col {
        ws.set_column_width(c, 10.5)?;
    }
    ws.set_freeze_panes(4, 1)?;
    set_print(ws, 3, last_col + 1)?;
    Ok(())
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
    wb: &mut Workbook,
    input: &ReportInput<'_>,
    form_idx: FormIdx,
    fmt: &Formats,
) -> Result<(), XlsxError> {
    let form = input.schemas.form(form_idx);
    let reg = input.registry;
    let fields = report_fields(form);
    let first = 3u16;
    let last_col = first + fields.len() as u16 - 1;
    let ws = wb.add_worksheet();
    ws.set_name(format!("{}-村级", form.short))?;
    ws.merge_range(
        0,
        0,
        0,
        last_col,
        &format!("{}（村级明细）", summary_title(form)),
        &fmt.title,
    )?;
    ws.set_row_height(0, 30)?;
    ws.write_string_with_format(
        1,
        0,
        format!("报告期：{}", input.period.label_zh()),
        &fmt.subtitle,
    )?;
    ws.write_string_with_format(1, last_col, &form.unit_note, &fmt.subtitle_right)?;
    for (c, label) in ["乡镇(街道)", "村(社区)", "统计用区划代码"]
        .iter()
        .enumerate()
    {
        ws.merge_range(2, c as u16, 3, c as u16, label, &fmt.header)?;
    }
    write_field_header(ws, form, &fields, 2, first, fmt)?;
    ws.set_row_height(2, 30)?;
    ws.set_row_height(3, 30)?;
    let mut row = 4;
    for u in reg.depth_first() {
        let unit = reg.unit(u);
        if unit.level != Level::Village {
            continue;
        }
        let township = unit.parent.map(|p| reg.unit(p).name.as_str()).unwrap_or("");
        ws.write_string_with_format(row, 0, township, &fmt.text)?;
        ws.write_string_with_format(row, 1, &unit.name, &fmt.text)?;
        ws.write_string_with_format(row, 2, unit.code.to_string(), &fmt.text)?;
        for (k, &f) in fields.iter().enumerate() {
            let v = input.aggs.get(input.period, u, form_idx, f);
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
    ws.set_column_width(0, 16)?;
    ws.set_column_width(1, 16)?;
    ws.set_column_width(2, 15)?;
    for c in first..=last_col {
        ws.set_column_width(c, 10.5)?;
    }
    ws.set_freeze_panes(4, first)?;
    ws.autofilter(3, 0, row.saturating_sub(1).max(3), last_col)?;
    set_print(ws, 3, last_col + 1)?;
    Ok(())
}

fn notes_sheet(wb: &mut Workbook, input: &ReportInput<'_>, fmt: &Formats) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name("说明")?;
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
    let history = b.returns.len() - ours.len();
    let period_note = if input.chosen {
        format!("{} ({})", input.period.label_zh(), input.period)
    } else {
        format!(
            "{} ({})：读入文件中最新的月份；其他月份请用 --period 指定，如 --period {}",
            input.period.label_zh(),
            input.period,
            b.months_read()
                .iter()
                .rev()
                .nth(1)
                .map_or("2026-01".to_string(), ToString::to_string)
        )
    };
    let mut read = format!(
        "{} 个文件，本期报表 {} 份，其中计入汇总 {} 份",
        b.files.len(),
        ours.len(),
        counted
    );
    if history > 0 {
        read.push_str(&format!(
            "；另有其他月份报表 {history} 份，仅作历史比较（存量骤降、异常值），不计入本期"
        ));
    }
    if !b.outside.is_empty() {
        read.push_str(&format!(
            "；{} 份报表不属于本汇总范围，已略过",
            b.outside.len()
        ));
    }
    let lines: Vec<(String, String)> = vec![
        ("报告期".into(), period_note),
        ("生成时间".into(), input.generated_at.to_string()),
        ("生成工具".into(), format!("phstats {}", env!("CARGO_PKG_VERSION"))),
        ("单位登记表".into(), format!("{} ({} 个单位)", input.units_path, input.registry.units.len())),
        ("读入文件".into(), read),
        (
            "汇总期间".into(),
            input.aggs.periods.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("、"),
        ),
        (
            "审核结果".into(),
            format!("错误 {}，警告 {}，提示 {}（明细见“审核结果”工作表）", count(Severity::Error), count(Severity::Warning), count(Severity::Info)),
        ),
        (
            "汇总规则".into(),
            "流量指标（本月数）跨月、跨单位求和；存量指标（人口数、签约人数、管理人数）取报告期内最后一个有数据的月份，再逐级求和；比率由汇总后的分子、分母重新计算；未报告不作 0。".into(),
        ),
    ];
    ws.merge_range(0, 0, 0, 5, "汇总说明", &fmt.title)?;
    let mut row = 2;
    for (k, v) in &lines {
        ws.write_string_with_format(row, 0, k, &fmt.header)?;
        ws.write_string_with_format(row, 1, v, &fmt.text)?;
        row += 1;
    }
    row += 1;
    let headers = ["文件", "工作表", "报表", "填报单位", "报告期", "状态"];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(row, c as u16, *h, &fmt.header)?;
    }
    let first_list_row = row;
    row += 1;
    for r in ours {
        let status = match r.status {
            ReturnStatus::Active => "计入",
            ReturnStatus::Superseded => "已被更正替代",
            ReturnStatus::Duplicate => "重复报送（数字不同），未计入",
            ReturnStatus::IdenticalCopy => "重复收到的相同报表，只计一次",
        };
        let cells = [
            b.files[r.file as usize].clone(),
            r.sheet.clone(),
            input.schemas.form(r.form).title.clone(),
            input.registry.unit(r.unit).name.clone(),
            r.month.to_string(),
            status.to_string(),
        ];
        for (c, v) in cells.iter().enumerate() {
            ws.write_string_with_format(row, c as u16, v, &fmt.text)?;
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
            "无法读取，未计入"
        } else {
            "未找到报表（非报表文件），未读入"
        };
        ws.write_string_with_format(row, 0, file, &fmt.text)?;
        for c in 1..5 {
            ws.write_blank(row, c, &fmt.text)?;
        }
        ws.write_string_with_format(row, 5, status, &fmt.text)?;
        row += 1;
    }
    ws.autofilter(
        first_list_row,
        0,
        row.saturating_sub(1).max(first_list_row),
        5,
    )?;
    ws.set_column_width(0, 40)?;
    ws.set_column_width(1, 60)?;
    for c in 2..=5 {
        ws.set_column_width(c, 16)?;
    }
    set_print(ws, 0, 6)?;
    Ok(())
}

fn completeness_sheet(
    wb: &mut Workbook,
    input: &ReportInput<'_>,
    fmt: &Formats,
) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name("上报情况")?;
    ws.merge_range(0, 0, 0, 6, "报表上报情况（上报率）", &fmt.title)?;
    let headers = [
        "报表",
        "月份",
        "层级",
        "应报",
        "实报",
        "上报率(%)",
        "未报单位",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(2, c as u16, *h, &fmt.header)?;
    }
    let in_period = input
        .completeness
        .iter()
        .filter(|c| input.period.contains(c.month));
    for (row, c) in (3u32..).zip(in_period) {
        let missing: Vec<&str> = c
            .missing
            .iter()
            .map(|&u: &UnitIdx| input.registry.unit(u).name.as_str())
            .collect();
        ws.write_string_with_format(row, 0, &input.schemas.form(c.form).title, &fmt.text)?;
        ws.write_string_with_format(row, 1, c.month.to_string(), &fmt.text)?;
        ws.write_string_with_format(row, 2, c.level.zh(), &fmt.text)?;
        ws.write_number_with_format(row, 3, c.expected as f64, &fmt.count)?;
        ws.write_number_with_format(row, 4, c.reported as f64, &fmt.count)?;
        let rate = (c.expected > 0).then(|| c.reported as f64 / c.expected as f64 * 100.0);
        write_value(ws, row, 5, rate, Kind::Rate, false, false, fmt)?;
        ws.write_string_with_format(row, 6, missing.join("、"), &fmt.text)?;
    }
    ws.set_column_width(0, 36)?;
    ws.set_column_width(6, 60)?;
    ws.set_freeze_panes(3, 0)?;
    set_print(ws, 2, 7)?;
    Ok(())
}

/// The most findings the 审核结果 sheet lists.
pub const MAX_FINDING_ROWS: usize = 100_000;

/// Every finding, filterable, errors highlighted: what the statistician
/// works through before forwarding the report.
fn findings_sheet(
    wb: &mut Workbook,
    input: &ReportInput<'_>,
    fmt: &Formats,
) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name("审核结果")?;
    let headers = [
        "级别",
        "规则",
        "报表",
        "期间",
        "单位代码",
        "文件",
        "工作表",
        "单元格",
        "字段",
        "值",
        "说明",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &fmt.header)?;
    }
    let error = Format::new()
        .set_font_size(10)
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xFFC7CE));
    let mut sorted: Vec<&Finding> = input.findings.iter().collect();
    sorted.sort_by_key(|f| f.severity());
    // A sheet holds 1,048,576 rows; far fewer is what a person can read.
    // Errors come first, so what is left out is the least serious, and
    // findings.csv keeps every one.
    let left_out = sorted.len().saturating_sub(MAX_FINDING_ROWS);
    sorted.truncate(MAX_FINDING_ROWS);
    let mut row = 1;
    for f in sorted {
        let level = f.severity().zh();
        let message = match &f.help {
            Some(h) => format!("{}（建议：{h}）", f.message),
            None => f.message.clone(),
        };
        let mut cells = vec![level.to_string()];
        cells.extend(f.export_fields());
        cells.push(message);
        let format = if f.severity() == Severity::Error {
            &error
        } else {
            &fmt.text
        };
        for (c, v) in cells.iter().enumerate() {
            ws.write_string_with_format(row, c as u16, v, format)?;
        }
        row += 1;
    }
    if left_out > 0 {
        ws.write_string_with_format(
            row + 1,
            0,
            format!("另有 {left_out} 条审核结果未列出（本表最多列 {MAX_FINDING_ROWS} 条，按错误、警告、提示排序）；全部审核结果见 findings.csv（--export）。"),
            &fmt.note,
        )?;
    }
    ws.autofilter(0, 0, row.saturating_sub(1).max(1), headers.len() as u16 - 1)?;
    ws.set_freeze_panes(1, 0)?;
    for (c, w) in [
        6.0, 18.0, 14.0, 9.0, 14.0, 36.0, 12.0, 8.0, 14.0, 10.0, 80.0,
    ]
    .iter()
    .enumerate()
    {
        ws.set_column_width(c as u16, *w)?;
    }
    set_print(ws, 0, headers.len() as u16)?;
    Ok(())
}

/// Builds the report workbook in memory.
///
/// # Errors
/// Only a failure of the workbook writer.
pub fn report_xlsx(input: &ReportInput<'_>) -> Result<Vec<u8>, ReportError> {
    let fmt = Formats::new();
    let mut wb = Workbook::new();
    for fi in 0..input.schemas.forms.len() as FormIdx {
        summary_sheet(&mut wb, input, fi, &fmt).map_err(xerr)?;
    }
    for fi in 0..input.schemas.forms.len() as FormIdx {
        village_sheet(&mut wb, input, fi, &fmt).map_err(xerr)?;
    }
    findings_sheet(&mut wb, input, &fmt).map_err(xerr)?;
    completeness_sheet(&mut wb, input, &fmt).map_err(xerr)?;
    notes_sheet(&mut wb, input, &fmt).map_err(xerr)?;
    // Level 3, as Excel itself uses: about a third faster to save than the
    // default 6, for a file a few per cent larger.
    wb.set_zip_compression_level(3);
    wb.save_to_buffer().map_err(xerr)
}
