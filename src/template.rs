//! Fill-in templates (填报模板, FORMS.md §9): for each township and form, the
//! return it must fill in, laid out as §2 describes and generated from the
//! schemas alone, so a fourth form gets templates with no code change. Only
//! the count cells are open; the 合计 row and the rates are locked formulas,
//! and every count cell carries the §4 checks as Excel data validation, so
//! most findings are stopped while the clerk types.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, Format, FormatAlign, Formula, Note, Workbook,
    Worksheet, XlsxError,
};

use crate::findings::{CellRef, Rule};
use crate::message::{month_label, Lang};
use crate::period::Month;
use crate::registry::{Registry, UnitIdx};
use crate::report::{write_atomic, ReportError};
use crate::schema::{FieldId, FieldIdx, Form, FormId, Kind, Schemas};

/// Villages printed on one page.
pub const VILLAGES_PER_PAGE: u32 = 30;

/// What to write.
pub struct TemplateRequest<'a> {
    /// Units.
    pub registry: &'a Registry,
    /// Forms.
    pub schemas: &'a Schemas,
    /// The month the templates are for.
    pub month: Month,
    /// The townships (reporting units) to write for.
    pub units: Vec<UnitIdx>,
    /// The forms to write.
    pub forms: Vec<usize>,
    /// All forms of a township in one workbook, one sheet each.
    pub combined: bool,
    /// Last month's stocks in force (village, form id, field id), from a
    /// store: shown in a note on each stock cell while the clerk types.
    pub previous: std::collections::HashMap<(UnitIdx, FormId, FieldId), f64>,
    /// The 制定机关 (`--issuer`, else [`crate::report::issuer`]'s default).
    pub issuer: String,
    /// Day of the next month by which the return is due (填表说明).
    pub deadline_day: u32,
}

/// Rows of a template sheet (0-based), fixed by the layout of FORMS.md §2:
/// 表号 and 制定机关, the title, 填报单位 and 报告期, 计量单位, then the
/// table.
struct Rows {
    header: u32,
    numbers: u32,
    total: u32,
    first_village: u32,
}

const ROWS: Rows = Rows {
    header: 4,
    numbers: 6,
    total: 7,
    first_village: 8,
};

/// First figure column: A 序号, B 单位名称.
const FIRST_FIELD_COL: u16 = 2;

struct Formats {
    title: Format,
    meta: Format,
    meta_right: Format,
    header: Format,
    number_row: Format,
    name: Format,
    input: Format,
    formula: Format,
    rate: Format,
    footer: Format,
    guide: Format,
    guide_header: Format,
}

impl Formats {
    fn new() -> Formats {
        let cell = crate::report::table_cell;
        Formats {
            title: Format::new()
                .set_bold()
                .set_font_size(14)
                .set_align(FormatAlign::Center),
            meta: Format::new().set_font_size(10),
            meta_right: Format::new()
                .set_font_size(10)
                .set_align(FormatAlign::Right),
            header: crate::report::table_header(),
            number_row: cell().set_align(FormatAlign::Center),
            name: cell(),
            // The only cells a clerk can type in.
            input: cell().set_unlocked().set_num_format("#,##0"),
            formula: cell()
                .set_num_format("#,##0")
                .set_background_color(0xF2F2F2),
            rate: cell().set_num_format("0.0").set_background_color(0xF2F2F2),
            footer: Format::new().set_font_size(10),
            guide: cell().set_text_wrap().set_align(FormatAlign::Top),
            guide_header: crate::report::table_header(),
        }
    }
}

/// A1 name of `field`'s cell on 0-based `row`.
fn at(fields: &[FieldIdx], field: FieldIdx, row: u32) -> String {
    let k = fields.iter().position(|&f| f == field).unwrap_or(0);
    format!(
        "{}{}",
        CellRef::col_name(u32::from(FIRST_FIELD_COL) + k as u32),
        row + 1
    )
}

/// `IF(AND(ISNUMBER(num),ISNUMBER(den),den<>0),ROUND(num/den*100,1),"")`
/// for a rate on `row`; saved with an empty result, so a template nobody
/// has calculated yet reads as "not reported", never as 0.
fn rate_formula(form: &Form, fields: &[FieldIdx], rate: FieldIdx, row: u32) -> Formula {
    let Some(r) = form.field(rate).ratio else {
        return Formula::new("=\"\"").set_result("");
    };
    let (n, d) = (at(fields, r.numerator, row), at(fields, r.denominator, row));
    let mut guard = format!("ISNUMBER({n}),ISNUMBER({d}),{d}<>0");
    let num = match r.minus {
        Some(m) => {
            let m = at(fields, m, row);
            guard.push_str(&format!(",ISNUMBER({m})"));
            format!("({n}-{m})")
        }
        None => n,
    };
    Formula::new(format!("=IF(AND({guard}),ROUND({num}/{d}*100,1),\"\")")).set_result("")
}

/// The one data validation of a count column: a whole number ≥ 0, and
/// every `≤` relation of FORMS.md §4 whose partner is on the same row;
/// a breach stops the entry (实种 ≤ 应种 too: catch-up doses count on both
/// sides). The messages are plain Chinese: the rule is named as `check`
/// names it in Chinese (实种大于应种), with its reason; its id stays in
/// `findings.csv`.
fn validation(
    form: &Form,
    fields: &[FieldIdx],
    field: FieldIdx,
    row: u32,
) -> Result<DataValidation, XlsxError> {
    let f = form.field(field);
    let me = at(fields, field, row);
    let mut parts = vec![
        format!("ISNUMBER({me})"),
        format!("{me}>=0"),
        format!("INT({me})={me}"),
    ];
    let mut rules: Vec<Rule> = Vec::new();
    let mut bounds: Vec<String> = Vec::new();
    for c in form.checks.iter().filter(|c| c.left == field) {
        if !fields.contains(&c.right) {
            continue;
        }
        let other = at(fields, c.right, row);
        parts.push(format!("OR(NOT(ISNUMBER({other})),{me}<={other})"));
        rules.push(c.rule);
        bounds.push(form.field(c.right).display_label());
    }
    let mut input = format!(
        "{}（{}）：填不小于 0 的整数，未报告的留空。",
        f.display_label(),
        kind_name(f.kind)
    );
    let mut error = format!("“{}”须为不小于 0 的整数", f.display_label());
    if !bounds.is_empty() {
        let list = bounds.join("”“");
        input.push_str(&format!("不能大于“{list}”。"));
        error.push_str(&format!("，且不能大于“{list}”"));
    }
    error.push('。');
    rules.dedup();
    for r in &rules {
        // 实种大于应种：查漏补种同时计入应种和实种，实种不会大于应种。
        error.push_str(&format!("（{}）{}", r.zh(), r.doc_zh()[1]));
    }
    let title: String = f.label.chars().take(30).collect();
    let dv = DataValidation::new()
        .allow_custom(Formula::new(format!("=AND({})", parts.join(","))))
        .set_input_title(title.clone())?
        .set_input_message(clip(&input, 250))?
        .set_error_title(title)?
        .set_error_message(clip(&error, 250))?
        .set_error_style(DataValidationErrorStyle::Stop);
    Ok(dv)
}

/// A kind as the 填表说明 and the input messages name it.
fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Flow => "本月数",
        Kind::Stock => "月末数",
        Kind::Ytd => "年内累计数",
        Kind::Rate => "比率，自动计算",
    }
}

fn clip(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if out.encode_utf16().count() + c.len_utf16() > max {
            break;
        }
        out.push(c);
    }
    out
}

/// The 计量单位 line: the schema's units line (单位：人、%) as a return
/// states it.
fn measure(form: &Form) -> String {
    let units = form
        .unit_note
        .trim()
        .trim_start_matches("计量单位")
        .trim_start_matches("单位")
        .trim_start_matches(['：', ':']);
    if units.is_empty() {
        "计量单位：人".to_string()
    } else {
        format!("计量单位：{units}")
    }
}

/// Writes one form's template for `town` onto `ws`, printed by
/// [`crate::report::print`] like every sheet phstats writes: on A4 where it
/// fits, split at whole column groups (a dose's three columns) with 序号 and
/// 单位名称 repeated where it does not, 30 villages a page.
fn write_sheet(
    ws: &mut Worksheet,
    req: &TemplateRequest<'_>,
    form: &Form,
    town: UnitIdx,
    fmt: &Formats,
) -> Result<(), XlsxError> {
    use crate::report::print;
    let reg = req.registry;
    let unit = reg.unit(town);
    let villages: Vec<UnitIdx> = unit.children.clone();
    let fields: Vec<FieldIdx> = form.reported_fields().map(|(i, _)| i).collect();
    let ncols = FIRST_FIELD_COL + fields.len() as u16;
    let period = month_label(req.month, Lang::Zh);
    let runs = form.group_runs(&fields);
    let mut widths = vec![5.0, 14.0];
    widths.extend(std::iter::repeat_n(9.0, fields.len()));
    let groups: Vec<u16> = runs
        .iter()
        .map(|(_, run)| FIRST_FIELD_COL + run.start as u16)
        .collect();
    let h = ROWS.header;
    let layout = print::Layout {
        widths: &widths,
        keep: usize::from(FIRST_FIELD_COL),
        groups: &groups,
        header: Some((h, ROWS.numbers)),
    };
    let plan = layout.plan();
    let pages = plan.pages(ncols);
    // A formula saved with an empty result is a calculated blank (not
    // reported); rust_xlsxwriter would otherwise save 0.
    ws.set_formula_result_default("");
    // 表号 and 填报单位 in column A, which repeats on every page of a split
    // sheet; 制定机关, 报告期 and 计量单位 at the right of each page.
    ws.write_string_with_format(0, 0, form.table_no_line(), &fmt.meta)?;
    print::title(
        ws,
        1,
        &pages,
        layout.keep,
        &form.title,
        &fmt.title,
        Lang::Zh,
    )?;
    ws.set_row_height(1, 26)?;
    ws.write_string_with_format(2, 0, format!("填报单位：{}", unit.name), &fmt.meta)?;
    for &(_, last) in &pages {
        ws.write_string_with_format(
            0,
            last,
            format!("制定机关：{}", req.issuer),
            &fmt.meta_right,
        )?;
        ws.write_string_with_format(2, last, format!("报告期：{period}"), &fmt.meta_right)?;
        ws.write_string_with_format(3, last, measure(form), &fmt.meta_right)?;
    }
    // The two-row grouped header, as the schema groups the fields.
    ws.merge_range(h, 0, h + 1, 0, "序号", &fmt.header)?;
    ws.merge_range(h, 1, h + 1, 1, "单位名称", &fmt.header)?;
    for (group, run) in &runs {
        let col = FIRST_FIELD_COL + run.start as u16;
        match group {
            None => {
                let label = &form.field(fields[run.start]).label;
                ws.merge_range(h, col, h + 1, col, label, &fmt.header)?;
            }
            Some(g) => {
                let last = FIRST_FIELD_COL + run.end as u16 - 1;
                if last > col {
                    ws.merge_range(h, col, h, last, g, &fmt.header)?;
                } else {
                    ws.write_string_with_format(h, col, *g, &fmt.header)?;
                }
                for k in run.clone() {
                    let label = &form.field(fields[k]).label;
                    ws.write_string_with_format(
                        h + 1,
                        FIRST_FIELD_COL + k as u16,
                        label,
                        &fmt.header,
                    )?;
                }
            }
        }
    }
    ws.set_row_height(h, 30)?;
    ws.set_row_height(h + 1, 30)?;
    // 栏次.
    ws.write_string_with_format(ROWS.numbers, 0, "甲", &fmt.number_row)?;
    ws.write_string_with_format(ROWS.numbers, 1, "乙", &fmt.number_row)?;
    for k in 0..fields.len() {
        ws.write_number_with_format(
            ROWS.numbers,
            FIRST_FIELD_COL + k as u16,
            (k + 1) as f64,
            &fmt.number_row,
        )?;
    }
    // 合计, computed.
    let first = ROWS.first_village;
    let last = first + villages.len().max(1) as u32 - 1;
    ws.write_blank(ROWS.total, 0, &fmt.name)?;
    ws.write_string_with_format(ROWS.total, 1, "合计", &fmt.name)?;
    for (k, &f) in fields.iter().enumerate() {
        let col = FIRST_FIELD_COL + k as u16;
        if form.field(f).kind == Kind::Rate {
            ws.write_formula_with_format(
                ROWS.total,
                col,
                rate_formula(form, &fields, f, ROWS.total),
                &fmt.rate,
            )?;
        } else {
            let c = CellRef::col_name(u32::from(col));
            // Empty while no village has a figure: not reported, never 0.
            let formula = Formula::new(format!(
                "=IF(COUNT({c}{a}:{c}{b})=0,\"\",SUM({c}{a}:{c}{b}))",
                a = first + 1,
                b = last + 1
            ))
            .set_result("");
            ws.write_formula_with_format(ROWS.total, col, formula, &fmt.formula)?;
        }
    }
    // One row per village, its code in a note on its name.
    for (i, &v) in villages.iter().enumerate() {
        let row = first + i as u32;
        let village = reg.unit(v);
        ws.write_number_with_format(row, 0, (i + 1) as f64, &fmt.name)?;
        ws.write_string_with_format(row, 1, &village.name, &fmt.name)?;
        let note = Note::new(format!("统计用区划代码：{}", village.code))
            .set_author("phstats")
            .set_width(200)
            .set_height(40);
        ws.insert_note(row, 1, &note)?;
        for (k, &f) in fields.iter().enumerate() {
            let col = FIRST_FIELD_COL + k as u16;
            if form.field(f).kind == Kind::Rate {
                ws.write_formula_with_format(
                    row,
                    col,
                    rate_formula(form, &fields, f, row),
                    &fmt.rate,
                )?;
            } else {
                ws.write_blank(row, col, &fmt.input)?;
                let field = form.field(f);
                if let Some(x) = req.previous.get(&(v, form.id.clone(), field.id.clone())) {
                    let prev = req.month.prev();
                    let note = Note::new(format!(
                        "上月（{}）：{}",
                        month_label(prev, Lang::Zh),
                        crate::message::num(*x)
                    ))
                    .set_author("phstats")
                    .set_width(160)
                    .set_height(30);
                    ws.insert_note(row, col, &note)?;
                }
            }
        }
    }
    // Validation per count column over the village rows (formulas are
    // relative to the first village's row).
    if !villages.is_empty() {
        for (k, &f) in fields.iter().enumerate() {
            if form.field(f).kind == Kind::Rate {
                continue;
            }
            let col = FIRST_FIELD_COL + k as u16;
            let dv = validation(form, &fields, f, first)?;
            ws.add_data_validation(first, col, last, col, &dv)?;
        }
    }
    // The 表尾 of every statistical return, blank for a pen: the 汇总表's
    // own line, on each page of a split sheet.
    let footer = crate::report::summary::Signatures::default().line(Lang::Zh);
    print::note(
        ws,
        last + 2,
        &widths,
        &pages,
        usize::from(FIRST_FIELD_COL),
        &footer,
        &fmt.footer,
    )?;
    ws.set_freeze_panes(ROWS.total, FIRST_FIELD_COL)?;
    print::apply(ws, &layout, &plan, Lang::Zh)?;
    // 30 villages a page.
    let breaks: Vec<u32> = (1..)
        .map(|p| first + p * VILLAGES_PER_PAGE)
        .take_while(|&r| r <= last)
        .collect();
    if !breaks.is_empty() {
        ws.set_page_breaks(&breaks)?;
    }
    // Only the count cells are editable; no password, so an office can
    // still unprotect it.
    ws.protect();
    Ok(())
}

/// The 填表说明 sheet: how to fill in `form`, from its schema alone: the
/// general rules, then one line per column with its kind, its 口径 where
/// the schema defines it, how a rate is computed and the relations a
/// figure must keep. Text only, so reading the workbook back passes over
/// it as it does over a cover sheet.
fn write_guide(
    ws: &mut Worksheet,
    req: &TemplateRequest<'_>,
    form: &Form,
    fmt: &Formats,
) -> Result<(), XlsxError> {
    use crate::report::print;
    let fields: Vec<FieldIdx> = form.reported_fields().map(|(i, _)| i).collect();
    let widths = [6.0, 26.0, 12.0, 62.0];
    let pages = [(0u16, 3u16)];
    print::title(
        ws,
        0,
        &pages,
        0,
        &format!("{}填表说明", form.title),
        &fmt.title,
        Lang::Zh,
    )?;
    ws.set_row_height(0, 26)?;
    let general = [
        format!(
            "一、本表由乡镇卫生院、社区卫生服务中心按所辖村（社区）逐行填报，于报告期次月{}日前报出。单位名称和统计用区划代码（见名称单元格批注）按名录生成，请勿改动。",
            req.deadline_day
        ),
        "二、只在白色单元格填写不小于0的整数。没有数据或未开展的留空，不填0；确实为零的填0。".to_string(),
        "三、合计行和比率（灰色单元格）由公式自动计算，不需填写。".to_string(),
        "四、“本月数”只计本月发生的人数、人次；“月末数”填月末时点数；“年内累计数”从1月1日累计至本月末，每年1月重新累计，年内不应减少。".to_string(),
        format!(
            "五、{}。表尾由单位负责人、统计负责人、填表人签字，并填写联系电话和报出日期。",
            measure(form)
        ),
    ];
    let mut row = 1;
    for line in &general {
        print::note(ws, row, &widths, &pages, 0, line, &fmt.meta)?;
        row += 1;
    }
    row += 1;
    for (c, head) in ["栏次", "指标", "类别", "口径及审核关系"]
        .iter()
        .enumerate()
    {
        ws.write_string_with_format(row, c as u16, *head, &fmt.guide_header)?;
    }
    let header_row = row;
    for (k, &f) in fields.iter().enumerate() {
        row += 1;
        let field = form.field(f);
        let mut text = String::new();
        if let Some(d) = form.definition(f) {
            text.push_str(d);
            if !d.ends_with('。') {
                text.push('。');
            }
        }
        if let Some(r) = field.ratio {
            let name = |i: FieldIdx| form.field(i).label.clone();
            let num = match r.minus {
                Some(m) => format!("（{} − {}）", name(r.numerator), name(m)),
                None => name(r.numerator),
            };
            text.push_str(&format!(
                "＝{num} ÷ {} × 100，保留一位小数，自动计算。",
                name(r.denominator)
            ));
        }
        for c in form.checks.iter().filter(|c| c.left == f) {
            text.push_str(&format!(
                "不大于“{}”。",
                form.field(c.right).display_label()
            ));
        }
        // 栏次 as text: the sheet carries no figure.
        ws.write_string_with_format(row, 0, (k + 1).to_string(), &fmt.guide)?;
        ws.write_string_with_format(row, 1, field.display_label(), &fmt.guide)?;
        ws.write_string_with_format(row, 2, kind_name(field.kind), &fmt.guide)?;
        ws.write_string_with_format(row, 3, &text, &fmt.guide)?;
        let lines = print::lines_in(&text, print::points(widths[3]));
        ws.set_row_height(row, print::row_height(lines))?;
    }
    let layout = print::Layout {
        widths: &widths,
        keep: 0,
        groups: &[],
        header: Some((header_row, header_row)),
    };
    print::apply(ws, &layout, &layout.plan(), Lang::Zh)?;
    Ok(())
}

fn xerr(e: XlsxError) -> ReportError {
    ReportError::Xlsx(e.to_string())
}

/// A file-name-safe text.
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if "/\\:*?\"<>|".contains(c) || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// Writes the templates into `dir` (created if needed), each atomically,
/// and returns their paths.
///
/// # Errors
/// The folder cannot be written, or the workbook writer fails.
pub fn write_templates(dir: &Path, req: &TemplateRequest<'_>) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(ReportError::from_io(dir))?;
    let fmt = Formats::new();
    let period = month_label(req.month, Lang::Zh);
    let mut written = Vec::new();
    for &town in &req.units {
        let name = safe(&req.registry.unit(town).name);
        let groups: Vec<Vec<usize>> = if req.combined {
            vec![req.forms.clone()]
        } else {
            req.forms.iter().map(|&f| vec![f]).collect()
        };
        for forms in groups {
            let mut wb = Workbook::new();
            for &fi in &forms {
                let form = &req.schemas.forms[fi];
                let ws = wb.add_worksheet();
                ws.set_name(&form.short).map_err(xerr)?;
                write_sheet(ws, req, form, town, &fmt).map_err(xerr)?;
            }
            // The returns first, their 填表说明 after them.
            for &fi in &forms {
                let form = &req.schemas.forms[fi];
                let ws = wb.add_worksheet();
                let name = if forms.len() == 1 {
                    "填表说明".to_string()
                } else {
                    format!("{}填表说明", form.short)
                };
                ws.set_name(name).map_err(xerr)?;
                write_guide(ws, req, form, &fmt).map_err(xerr)?;
            }
            let file = match forms.as_slice() {
                [one] => format!(
                    "{name}_{period}_{}.xlsx",
                    safe(&req.schemas.forms[*one].short)
                ),
                _ => format!("{name}_{period}.xlsx"),
            };
            let path = dir.join(file);
            let bytes = wb.save_to_buffer().map_err(xerr)?;
            write_atomic(&path, &bytes)?;
            written.push(path);
        }
    }
    Ok(written)
}
