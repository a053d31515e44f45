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
use crate::schema::{FieldIdx, Form, Kind, Schemas};

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
    pub previous: std::collections::HashMap<(UnitIdx, String, String), f64>,
}

/// Rows of a template sheet (0-based), fixed by the layout of FORMS.md §2.
struct Rows {
    header: u32,
    numbers: u32,
    total: u32,
    first_village: u32,
}

const ROWS: Rows = Rows {
    header: 3,
    numbers: 5,
    total: 6,
    first_village: 7,
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
/// sides). The error message names the rule id `check` reports.
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
    let kind = match f.kind {
        Kind::Flow => "本月数，流量",
        Kind::Stock => "月末数，存量",
        Kind::Ytd => "年内累计数，1月起累计",
        Kind::Rate => "比率",
    };
    let mut input = format!(
        "{}（{kind}）：填不小于 0 的整数，未报告的留空。",
        f.display_label()
    );
    let mut error = format!("“{}”须为不小于 0 的整数", f.display_label());
    let mut ids = vec!["not_a_number", "negative", "not_whole"];
    if !bounds.is_empty() {
        let list = bounds.join("”“");
        input.push_str(&format!("不能大于“{list}”。"));
        error.push_str(&format!("，且不能大于“{list}”"));
        for r in &rules {
            ids.push(r.id());
        }
    }
    error.push_str(&format!("。[{}]", ids.join(", ")));
    if rules.contains(&Rule::GivenExceedsDue) {
        error.push_str("查漏补种同时计入应种和实种。");
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

/// The 表号 line's text.
fn table_no(form: &Form) -> String {
    format!("表号：{}", form.table_no.as_deref().unwrap_or(&form.short))
}

/// Writes one form's template for `town` onto `ws`.
fn write_sheet(
    ws: &mut Worksheet,
    req: &TemplateRequest<'_>,
    form: &Form,
    town: UnitIdx,
    fmt: &Formats,
) -> Result<(), XlsxError> {
    let reg = req.registry;
    let unit = reg.unit(town);
    let villages: Vec<UnitIdx> = unit.children.clone();
    let fields: Vec<FieldIdx> = form.reported_fields().map(|(i, _)| i).collect();
    let last_col = FIRST_FIELD_COL + fields.len() as u16 - 1;
    let period = month_label(req.month, Lang::Zh);
    // A formula saved with an empty result is a calculated blank (not
    // reported); rust_xlsxwriter would otherwise save 0.
    ws.set_formula_result_default("");
    ws.write_string_with_format(0, 0, table_no(form), &fmt.meta)?;
    ws.write_string_with_format(0, last_col, "制定机关：卫生健康委员会", &fmt.meta_right)?;
    ws.merge_range(1, 0, 1, last_col, &form.title, &fmt.title)?;
    ws.set_row_height(1, 26)?;
    ws.merge_range(
        2,
        0,
        2,
        4.min(last_col),
        &format!("填报单位：{}", unit.name),
        &fmt.meta,
    )?;
    ws.write_string_with_format(2, last_col, format!("报告期：{period}"), &fmt.meta_right)?;
    // The two-row grouped header, as the schema groups the fields.
    let h = ROWS.header;
    ws.merge_range(h, 0, h + 1, 0, "序号", &fmt.header)?;
    ws.merge_range(h, 1, h + 1, 1, "单位名称", &fmt.header)?;
    for (group, run) in form.group_runs(&fields) {
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
                    ws.write_string_with_format(h, col, g, &fmt.header)?;
                }
                for k in run {
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
    let footer = last + 2;
    ws.write_string_with_format(
        footer,
        0,
        "单位负责人：                    填表人：                    联系电话：                    报出日期：        年    月    日",
        &fmt.footer,
    )?;
    ws.set_column_width(0, 5)?;
    ws.set_column_width(1, 14)?;
    for c in FIRST_FIELD_COL..=last_col {
        ws.set_column_width(c, 9)?;
    }
    ws.set_freeze_panes(ROWS.total, FIRST_FIELD_COL)?;
    // A4 landscape, one page wide, the header repeated, 30 villages a page.
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(h, ROWS.numbers)?;
    let breaks: Vec<u32> = (1..)
        .map(|p| first + p * VILLAGES_PER_PAGE)
        .take_while(|&r| r <= last)
        .collect();
    if !breaks.is_empty() {
        ws.set_page_breaks(&breaks)?;
    }
    ws.set_footer(crate::report::print::page_numbers(Lang::Zh));
    // Only the count cells are editable; no password, so an office can
    // still unprotect it.
    ws.protect();
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
