//! A generator of realistic returns with known truth, for the committed
//! `sample-data/`, the tests and the benchmark: a fictional city's registry,
//! one return per township, month and form written in the layout variants
//! of FORMS.md §2, and `truth.csv` with every village figure it put in.
//!
//! It writes returns, not reports, so it uses rust_xlsxwriter directly
//! (the one place outside `report/`); the engine never calls it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet, XlsxError};

use crate::findings::CellRef;
use crate::period::Month;
use crate::schema::{FieldIdx, Form, Kind, Schemas};

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// File system.
    #[error("writing sample data: {0}")]
    Io(#[from] std::io::Error),
    /// Workbook writer.
    #[error("writing a sample workbook: {0}")]
    Xlsx(#[from] XlsxError),
    /// Schema.
    #[error(transparent)]
    Schema(#[from] crate::schema::SchemaError),
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Townships in the city.
    pub townships: usize,
    /// Consecutive months, starting with January of `year`.
    pub months: u32,
    /// Year.
    pub year: i32,
    /// Random seed: the same seed gives the same files.
    pub seed: u64,
    /// Leave some cells unreported (empty or `-`).
    pub gaps: bool,
}

/// What was generated.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Return workbooks written.
    pub files: Vec<PathBuf>,
    /// Units in the registry.
    pub units: usize,
    /// Figure cells written.
    pub cells: usize,
}

/// A small deterministic generator (splitmix64): no dependency, same output everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }
    /// A uniform draw in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// A Poisson count of mean `lambda`: Knuth's product below 30, the
    /// normal approximation (Box–Muller) above. Counts of people vaccinated,
    /// followed up or newly registered in a month vary like this — not
    /// uniformly from 0, which made a clean corpus full of outliers.
    fn poisson(&mut self, lambda: f64) -> f64 {
        if lambda <= 0.0 {
            return 0.0;
        }
        if lambda < 30.0 {
            let limit = (-lambda).exp();
            let (mut k, mut prod) = (0.0, self.unit());
            while prod > limit {
                k += 1.0;
                prod *= self.unit();
            }
            k
        } else {
            let (u1, u2) = (self.unit().max(1e-12), self.unit());
            let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            (lambda + z * lambda.sqrt()).round().max(0.0)
        }
    }
}

const COUNTY_NAMES: [&str; 12] = [
    "东湖区",
    "西岭县",
    "南溪县",
    "北山区",
    "青河县",
    "白石县",
    "云台区",
    "龙泉县",
    "松林县",
    "金沙区",
    "桃源县",
    "凤鸣区",
];
const A: [char; 20] = [
    '东', '西', '南', '北', '中', '新', '大', '小', '上', '下', '前', '后', '金', '银', '青', '白',
    '红', '黄', '石', '松',
];
const B: [char; 20] = [
    '城', '岭', '溪', '山', '河', '桥', '湖', '坪', '塘', '口', '坝', '湾', '岗', '庄', '集', '店',
    '铺', '寨', '沟', '堡',
];
const C: [char; 10] = ['安', '平', '宁', '和', '兴', '丰', '乐', '福', '源', '泰'];
const VILLAGES: [&str; 16] = [
    "新村",
    "东门社区",
    "西关社区",
    "前进村",
    "红旗村",
    "和平村",
    "胜利村",
    "光明村",
    "团结村",
    "幸福村",
    "太平村",
    "长乐村",
    "中心社区",
    "新华社区",
    "民主村",
    "五一村",
];

/// One generated unit.
struct GenUnit {
    code: u64,
    name: String,
    alias: String,
    villages: Vec<(u64, String, u64)>,
}

fn township_name(k: usize) -> String {
    let mut s = String::new();
    s.push(A[k % 20]);
    s.push(B[(k / 20) % 20]);
    if k >= 400 {
        s.push(C[(k / 400 - 1) % 10]);
    }
    s
}

/// Counties as (code, name).
type Counties = Vec<(u64, String)>;
/// Townships with the index of their county.
type Towns = Vec<(usize, GenUnit)>;

/// Builds the registry: counties of up to 12 townships each.
fn build_units(n: usize, rng: &mut Rng) -> (Counties, Towns) {
    let city = 439_900_000_000u64;
    // Twelve townships a county, and two counties from four townships up,
    // so even a small corpus has a county summary (see `generate`).
    let n_counties = if n >= 4 { n.div_ceil(12).max(2) } else { 1 };
    let counties: Vec<(u64, String)> = (0..n_counties)
        .map(|c| {
            let name = COUNTY_NAMES
                .get(c)
                .map(|s| s.to_string())
                .unwrap_or_else(|| format!("第{}县", c + 1));
            (city + (c as u64 + 1) * 1_000_000, name)
        })
        .collect();
    let mut towns = Vec::new();
    for k in 0..n {
        let county = k % n_counties;
        let nth = k / n_counties;
        // 001–099 街道, 100–199 镇, 200–399 乡 (DOMAIN.md §1).
        let (digits, suffix, alias_suffix) = match nth % 3 {
            0 => (1 + nth as u64, "街道", "社区卫生服务中心"),
            1 => (100 + nth as u64, "镇", "卫生院"),
            _ => (200 + nth as u64, "乡", "卫生院"),
        };
        let code = counties[county].0 + digits * 1000;
        let name = format!("{}{suffix}", township_name(k));
        let n_vill = rng.range(3, 8) as usize;
        let start = rng.range(0, VILLAGES.len() as u64 - 1) as usize;
        let villages = (0..n_vill)
            .map(|v| {
                let vname = VILLAGES[(start + v * 3) % VILLAGES.len()].to_string();
                let vcode = code
                    + if digits < 100 {
                        1 + v as u64
                    } else {
                        201 + v as u64
                    };
                (vcode, vname, rng.range(800, 5000))
            })
            .collect();
        towns.push((
            county,
            GenUnit {
                code,
                alias: format!("{name}{alias_suffix}"),
                name,
                villages,
            },
        ));
    }
    (counties, towns)
}

fn registry_csv(counties: &[(u64, String)], towns: &[(usize, GenUnit)]) -> String {
    let mut s = String::from("code,name,level,parent_code,aliases\n439900000000,青山市,city,,\n");
    for (i, (code, name)) in counties.iter().enumerate() {
        let _ = writeln!(s, "{code},{name},county,439900000000,");
        for (_, t) in towns.iter().filter(|(c, _)| *c == i) {
            let _ = writeln!(s, "{},{},township,{code},{}", t.code, t.name, t.alias);
            for (vc, vn, _) in &t.villages {
                let _ = writeln!(s, "{vc},{vn},village,{},", t.code);
            }
        }
    }
    s
}

/// A village's true figures for one form and month (None = not reported).
type Values = Vec<Option<f64>>;

/// Generates consistent figures: stocks grow slowly from a base, flows are
/// monthly counts, every `≤` relation of the form holds.
fn village_values(
    form: &Form,
    pop: u64,
    month_idx: u32,
    village_seed: u64,
    rng: &mut Rng,
    gaps: bool,
) -> Values {
    let mut base = Rng(village_seed ^ (form.id.len() as u64) << 32);
    let grow = |b: f64, rate: f64| (b * (1.0 + rate * f64::from(month_idx))).round();
    // A year-to-date count builds from January and restarts each year
    // (the corpus starts in January): a quarter of the year's by January's
    // end, all of it by December's.
    let of_year = f64::from(month_idx % 12 + 1);
    let ytd = |b: f64| (b * (0.25 + 0.75 * (of_year - 1.0) / 11.0)).round();
    let mut v: Values = vec![None; form.fields.len()];
    let p = pop as f64;
    let cohort = form
        .reported_fields()
        .all(|(_, f)| matches!(f.kind, Kind::Flow | Kind::Rate));
    for (i, f) in form.fields.iter().enumerate() {
        if f.kind == Kind::Rate {
            continue;
        }
        let share = 0.05 + (base.next() % 1000) as f64 / 1000.0 * 0.3;
        // A stock's base (its first month's value): the relations below
        // are fitted on the bases and each stock then grows from its own,
        // so which side binds never changes from month to month (fitting
        // the grown values let a binding relation come and go: falls of
        // up to 15 %, stock_drop on a clean batch).
        // A flow's monthly mean is the village's own, the same every
        // month; each month's count varies around it as a count does.
        // A form of flows only (vaccination) counts a birth cohort: each
        // dose is due to about a month's births, some 10 ‰ of the
        // residents a year (a village of 3,000 has two or three children
        // due a dose a month, a township a few dozen). Other flows (visits,
        // follow-ups) are a share of the residents.
        let mean = if cohort {
            p * 0.010 / 12.0 * (0.6 + 0.8 * base.unit()) + 0.3
        } else {
            p / 80.0 * (0.6 + 0.8 * base.unit()) + 1.0
        };
        let x = match f.kind {
            Kind::Stock | Kind::Ytd => (p * share).round(),
            _ => rng.poisson(mean),
        };
        v[i] = Some(x);
    }
    // Coverage: of the children due a dose, 93–99.5 % get it (the village's
    // own rate, every month), the rest missed at random. So 实种 ≤ 应种 and
    // every township is near its 90 % target, as real ones are.
    for f in &form.fields {
        let Some(r) = f.ratio else { continue };
        if r.minus.is_some() {
            continue;
        }
        let (n, d) = (r.numerator as usize, r.denominator as usize);
        let flows = [n, d].iter().all(|&k| form.fields[k].kind == Kind::Flow);
        let coverage = 0.93 + 0.065 * base.unit();
        if let (true, Some(due)) = (flows, v[d]) {
            let missed = rng.poisson(due * (1.0 - coverage)).min(due);
            v[n] = Some(due - missed);
        }
    }
    // Enforce the form's relations: left ≤ right, in schema order (a chain
    // like key_signed ≤ key_pop, key_signed ≤ signed is satisfied by shrinking left).
    // Each relation draws its factor whether it is needed or not, so a
    // village's factors are the same every month and its stocks grow
    // smoothly (a draw only when needed shifted every later factor from
    // month to month: a 13 % stock_drop in the committed sample).
    for _ in 0..3 {
        for c in &form.checks {
            let factor = 0.85 + (base.next() % 150) as f64 / 1000.0;
            if let (Some(l), Some(r)) = (v[c.left as usize], v[c.right as usize]) {
                if l > r {
                    v[c.left as usize] = Some((r * factor).floor());
                }
            }
        }
    }
    // A later dose follows the earlier one (the schema's sequences, in
    // order: 乙肝 1 → 2 → 3, 百白破 1 → 2 → 3 → 4…): its cohort is the
    // earlier one's, 95–100 % of it still due; of those, the village's
    // coverage again, never more than the earlier dose's. So a later dose
    // never outnumbers an earlier one and a dropout is 0–7 %.
    let due_of = |given: usize| {
        form.fields.iter().find_map(|g| {
            let r = g.ratio?;
            (r.minus.is_none() && r.numerator as usize == given).then_some(r.denominator as usize)
        })
    };
    let mut follow = |first: usize, later: usize, v: &mut Values| {
        let factor = 0.95 + 0.05 * base.unit();
        let coverage = 0.93 + 0.065 * base.unit();
        if let (Some(df), Some(dl)) = (due_of(first), due_of(later)) {
            if let (Some(first_due), Some(first_given)) = (v[df], v[first]) {
                let due = (first_due * factor).round();
                let given = (due - rng.poisson(due * (1.0 - coverage)).min(due)).min(first_given);
                v[dl] = Some(due);
                v[later] = Some(given);
            }
        } else if let (Some(a), Some(b)) = (v[first], v[later]) {
            v[later] = Some(b.min((a * factor).floor()));
        }
    };
    let mut followed: Vec<usize> = Vec::new();
    for &(first, later) in &form.sequences {
        // A later dose follows one earlier dose only (dtap3 follows dtap2,
        // not again dtap1): its own later doses followed it.
        if !followed.contains(&(later as usize)) {
            follow(first as usize, later as usize, &mut v);
            followed.push(later as usize);
        }
    }
    // A dropout's later dose not already in a sequence follows its first.
    for f in &form.fields {
        let Some(r) = f.ratio else { continue };
        let Some(minus) = r.minus else { continue };
        if !followed.contains(&(minus as usize)) {
            follow(r.numerator as usize, minus as usize, &mut v);
        }
    }
    // A group 应签尽签 (a target of 100 %): signed are the whole group,
    // which is made to fit every other bound of its signed side (脱贫人口 ≤
    // 重点人群签约人数).
    for t in &form.targets {
        let f = form.field(t.field);
        let Some(r) = f.ratio else { continue };
        if t.value < 100.0 || f.lower_is_better || r.minus.is_some() {
            continue;
        }
        let (n, d) = (r.numerator as usize, r.denominator as usize);
        let bound = form
            .checks
            .iter()
            .filter(|c| c.left as usize == n && c.right as usize != d)
            .filter_map(|c| v[c.right as usize])
            .fold(f64::INFINITY, f64::min);
        if let Some(whole) = v[d] {
            let whole = whole.min(bound);
            v[d] = Some(whole);
            v[n] = Some(whole);
        }
    }
    // Grown from the bases: rounding keeps every `≤` between stocks (and a
    // year-to-date count never passes the stock it is bounded by).
    for (x, f) in v.iter_mut().zip(&form.fields) {
        match (*x, f.kind) {
            (Some(b), Kind::Stock) => *x = Some(grow(b, 0.004)),
            (Some(b), Kind::Ytd) => *x = Some(ytd(b)),
            _ => {}
        }
    }
    if gaps {
        for x in v.iter_mut() {
            if x.is_some() && rng.chance(0.02) {
                *x = None;
            }
        }
    }
    v
}

fn rate_of(form: &Form, f: FieldIdx, v: &Values) -> Option<f64> {
    let r = form.field(f).ratio?;
    let n = v[r.numerator as usize]?;
    let d = v[r.denominator as usize]?;
    let m = match r.minus {
        Some(m) => v[m as usize]?,
        None => 0.0,
    };
    (d != 0.0).then(|| ((n - m) / d * 1000.0).round() / 10.0)
}

/// Layout variants of FORMS.md §2.
#[derive(Clone, Copy, PartialEq)]
enum Variant {
    /// 表号 line, merged title, two-row merged header, 栏次 row, 合计 on top
    /// with SUM formulas, numbers as numbers, footer.
    Standard,
    /// Table offset from A1, single-row joined headers in shuffled order,
    /// extra 备注 column, numbers as text (thousands separators, full-width
    /// digits, spaces), rates as "95.2%", 合计 at the bottom.
    Joined,
    /// Several forms in one workbook with a stray empty sheet, period only
    /// in the file name, 填报单位 by code, rates as fractions formatted %.
    MultiForm,
}

struct Sheet<'a> {
    form: &'a Form,
    town: &'a GenUnit,
    month: Month,
    rows: Vec<(&'a str, Values)>,
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

fn text_number(x: f64, style: u64) -> String {
    let n = x as i64;
    match style % 4 {
        0 if n >= 1000 => format!("{},{:03}", n / 1000, n % 1000),
        1 => full_width(&n.to_string()),
        2 => format!(" {n} "),
        _ => n.to_string(),
    }
}

fn write_sheet(
    ws: &mut Worksheet,
    s: &Sheet<'_>,
    variant: Variant,
    rng: &mut Rng,
) -> Result<usize, XlsxError> {
    let form = s.form;
    // A rate formula with an empty result is a calculated blank, as Excel
    // saves `=IF(…,"")`; rust_xlsxwriter would otherwise save 0.
    ws.set_formula_result_default("");
    let fields: Vec<FieldIdx> = form.reported_fields().map(|(i, _)| i).collect();
    let border = Format::new().set_border(FormatBorder::Thin);
    let header = Format::new()
        .set_border(FormatBorder::Thin)
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    let pct = Format::new()
        .set_border(FormatBorder::Thin)
        .set_num_format("0.0%");
    let totals: Values = (0..form.fields.len())
        .map(|i| {
            let vals: Vec<f64> = s.rows.iter().filter_map(|(_, v)| v[i]).collect();
            (!vals.is_empty()).then(|| vals.iter().sum())
        })
        .collect();
    let totals = {
        let mut t = totals;
        for &f in &fields {
            if form.field(f).kind == Kind::Rate {
                t[f as usize] = rate_of(form, f, &t);
            }
        }
        t
    };
    let mut cells = 0;
    match variant {
        Variant::Standard | Variant::MultiForm => {
            let standard = variant == Variant::Standard;
            let last = fields.len() as u16 + 1;
            let mut r = 0;
            if standard {
                ws.write_string(0, 0, form.table_no_line())?;
                ws.write_string(0, last.saturating_sub(3), "制定机关：青山市卫生健康委员会")?;
                r = 1;
            }
            ws.merge_range(
                r,
                0,
                r,
                last,
                &form.title,
                &Format::new().set_bold().set_align(FormatAlign::Center),
            )?;
            r += 1;
            let unit_text = if standard {
                s.town.alias.clone()
            } else {
                s.town.code.to_string()
            };
            ws.write_string(r, 0, format!("填报单位：{unit_text}"))?;
            if standard {
                ws.write_string(
                    r,
                    last.saturating_sub(2),
                    format!("报告期：{}年{}月", s.month.year(), s.month.month()),
                )?;
            }
            r += 1;
            ws.merge_range(r, 0, r + 1, 0, "序号", &header)?;
            ws.merge_range(r, 1, r + 1, 1, "单位名称", &header)?;
            for (group, run) in form.group_runs(&fields) {
                let col = run.start as u16 + 2;
                match group {
                    None => {
                        let label = &form.field(fields[run.start]).label;
                        ws.merge_range(r, col, r + 1, col, label, &header)?;
                    }
                    Some(g) => {
                        if run.len() > 1 {
                            ws.merge_range(r, col, r, run.end as u16 + 1, g, &header)?;
                        } else {
                            ws.write_string_with_format(r, col, g, &header)?;
                        }
                        for k in run {
                            ws.write_string_with_format(
                                r + 1,
                                k as u16 + 2,
                                &form.field(fields[k]).label,
                                &header,
                            )?;
                        }
                    }
                }
            }
            r += 2;
            if standard {
                ws.write_string(r, 0, "甲")?;
                ws.write_string(r, 1, "乙")?;
                for k in 0..fields.len() {
                    ws.write_number(r, k as u16 + 2, (k + 1) as f64)?;
                }
                r += 1;
            }
            let total_row = r;
            let first_unit = r + 1;
            let last_unit = r + s.rows.len() as u32;
            ws.write_string_with_format(total_row, 1, "合计", &border)?;
            for (k, &f) in fields.iter().enumerate() {
                let col = k as u16 + 2;
                let v = totals[f as usize];
                let is_rate = form.field(f).kind == Kind::Rate;
                match (v, is_rate, standard) {
                    (None, false, _) | (None, true, false) => {
                        ws.write_blank(total_row, col, &border)?;
                    }
                    (Some(x), false, true) => {
                        let c = CellRef::col_name(u32::from(col));
                        let formula = Formula::new(format!(
                            "=SUM({c}{}:{c}{})",
                            first_unit + 1,
                            last_unit + 1
                        ))
                        .set_result(format!("{x}"));
                        ws.write_formula_with_format(total_row, col, formula, &border)?;
                    }
                    (Some(x), true, false) => {
                        ws.write_number_with_format(total_row, col, x / 100.0, &pct)?;
                    }
                    (v, true, true) => {
                        let formula = rate_formula(form, f, &fields, total_row, v);
                        ws.write_formula_with_format(total_row, col, formula, &border)?;
                    }
                    (Some(x), _, _) => {
                        ws.write_number_with_format(total_row, col, x, &border)?;
                    }
                }
            }
            for (i, (name, v)) in s.rows.iter().enumerate() {
                let row = first_unit + i as u32;
                ws.write_number_with_format(row, 0, (i + 1) as f64, &border)?;
                ws.write_string_with_format(row, 1, *name, &border)?;
                for (k, &f) in fields.iter().enumerate() {
                    let col = k as u16 + 2;
                    let is_rate = form.field(f).kind == Kind::Rate;
                    let x = if is_rate {
                        rate_of(form, f, v)
                    } else {
                        v[f as usize]
                    };
                    if is_rate && standard {
                        // As a clerk's Excel template computes it: a formula
                        // whose saved result is an empty text when a side is
                        // not reported (a calculated blank).
                        let formula = rate_formula(form, f, &fields, row, x);
                        ws.write_formula_with_format(row, col, formula, &border)?;
                        cells += 1;
                        continue;
                    }
                    match x {
                        None if rng.chance(0.5) => {
                            ws.write_string_with_format(row, col, "-", &border)?;
                        }
                        None => {
                            ws.write_blank(row, col, &border)?;
                        }
                        Some(x) if is_rate && !standard => {
                            ws.write_number_with_format(row, col, x / 100.0, &pct)?;
                        }
                        Some(x) => {
                            ws.write_number_with_format(row, col, x, &border)?;
                        }
                    }
                    cells += 1;
                }
            }
            if standard {
                ws.write_string(
                    last_unit + 2,
                    0,
                    format!(
                        "单位负责人：张三    填表人：李四    报出日期：{}年{}月5日",
                        s.month.next().year(),
                        s.month.next().month()
                    ),
                )?;
            }
            ws.set_column_width(1, 14)?;
        }
        Variant::Joined => {
            let (r0, c0) = (2u32, 1u16);
            ws.write_string(r0, c0, format!("{}（{}）", form.title, s.town.name))?;
            ws.write_string(
                r0 + 1,
                c0,
                format!(
                    "填报单位：{}    报告期：{}年{:02}月",
                    s.town.name,
                    s.month.year(),
                    s.month.month()
                ),
            )?;
            let hr = r0 + 2;
            // Shuffled column order: rotate by a township-dependent offset.
            let rot = (s.town.code / 1000 % fields.len() as u64) as usize;
            let order: Vec<FieldIdx> = fields
                .iter()
                .cycle()
                .skip(rot)
                .take(fields.len())
                .copied()
                .collect();
            ws.write_string_with_format(hr, c0, "村(社区)名称", &header)?;
            for (k, &f) in order.iter().enumerate() {
                let fd = form.field(f);
                let label = format!("{}{}", fd.group.clone().unwrap_or_default(), fd.label);
                ws.write_string_with_format(hr, c0 + 1 + k as u16, &label, &header)?;
            }
            let note_col = c0 + 1 + order.len() as u16;
            ws.write_string_with_format(hr, note_col, "备注", &header)?;
            for (i, (name, v)) in s.rows.iter().enumerate() {
                let row = hr + 1 + i as u32;
                ws.write_string(row, c0, *name)?;
                for (k, &f) in order.iter().enumerate() {
                    let col = c0 + 1 + k as u16;
                    let is_rate = form.field(f).kind == Kind::Rate;
                    let x = if is_rate {
                        rate_of(form, f, v)
                    } else {
                        v[f as usize]
                    };
                    match x {
                        None => {
                            ws.write_string(row, col, if rng.chance(0.5) { "/" } else { "" })?;
                        }
                        Some(x) if is_rate => {
                            ws.write_string(row, col, format!("{x:.1}%"))?;
                        }
                        Some(x) => {
                            ws.write_string(row, col, text_number(x, rng.next()))?;
                        }
                    }
                    cells += 1;
                }
            }
            let tr = hr + 1 + s.rows.len() as u32;
            ws.write_string(tr, c0, "合 计")?;
            for (k, &f) in order.iter().enumerate() {
                if let Some(x) = totals[f as usize] {
                    ws.write_number(tr, c0 + 1 + k as u16, x)?;
                }
            }
            ws.write_string(tr + 2, c0, "填表人：王五")?;
        }
    }
    Ok(cells)
}

/// `=IF(AND(ISNUMBER(C8),ISNUMBER(D8),C8<>0),ROUND(D8/C8*100,1),"")` for a
/// rate on 0-based `row`, laid out with the figure columns from C, with the
/// value Excel would save: the rate, or an empty text.
fn rate_formula(
    form: &Form,
    f: FieldIdx,
    fields: &[FieldIdx],
    row: u32,
    value: Option<f64>,
) -> Formula {
    let at = |g: FieldIdx| {
        let k = fields.iter().position(|&x| x == g).unwrap_or(0);
        format!("{}{}", CellRef::col_name(k as u32 + 2), row + 1)
    };
    let Some(r) = form.field(f).ratio else {
        return Formula::new("=\"\"").set_result("");
    };
    let (n, d) = (at(r.numerator), at(r.denominator));
    let (num, mut guard) = match r.minus {
        Some(m) => {
            let m = at(m);
            (format!("({n}-{m})"), format!("ISNUMBER({m}),"))
        }
        None => (n.clone(), String::new()),
    };
    guard.push_str(&format!("ISNUMBER({n}),ISNUMBER({d}),{d}<>0"));
    Formula::new(format!("=IF(AND({guard}),ROUND({num}/{d}*100,1),\"\")"))
        .set_result(value.map_or(String::new(), |v| format!("{v}")))
}

/// The official three-sheet workbook: 本地 and 流动 split each village's
/// figures (流动 a 5–20 % share of each flow, rounded down, so every `≤`
/// of a row holds on both sheets), 合计 their sum, each sheet in the
/// standard layout.
fn write_parts(wb: &mut Workbook, s: &Sheet<'_>, rng: &mut Rng) -> Result<usize, XlsxError> {
    let share: Vec<f64> = s.rows.iter().map(|_| 0.05 + 0.15 * rng.unit()).collect();
    let split = |floating: bool| -> Vec<(&str, Values)> {
        s.rows
            .iter()
            .zip(&share)
            .map(|((name, v), k)| {
                let part: Values = v
                    .iter()
                    .zip(&s.form.fields)
                    .map(|(x, f)| match (x, f.kind) {
                        (Some(x), Kind::Flow) => {
                            let away = (x * k).floor();
                            Some(if floating { away } else { x - away })
                        }
                        (x, _) => *x,
                    })
                    .collect();
                (*name, part)
            })
            .collect()
    };
    let mut cells = 0;
    for (name, rows) in [
        ("本地", split(false)),
        ("流动", split(true)),
        ("合计", s.rows.clone()),
    ] {
        let part = Sheet {
            form: s.form,
            town: s.town,
            month: s.month,
            rows,
        };
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        cells += write_sheet(ws, &part, Variant::Standard, rng)?;
    }
    Ok(cells)
}

/// A village's own sheet, the fields as rows (指标 | 数值), the village as
/// its 填报单位; the sheet named for the village.
fn write_fields_as_rows(
    wb: &mut Workbook,
    s: &Sheet<'_>,
    village: &str,
    v: &Values,
) -> Result<usize, XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name(village)?;
    let form = s.form;
    ws.write_string(0, 0, &form.title)?;
    ws.write_string(1, 0, format!("填报单位：{village}"))?;
    ws.write_string(
        1,
        2,
        format!("报告期：{}年{}月", s.month.year(), s.month.month()),
    )?;
    ws.write_string(2, 0, "指标")?;
    ws.write_string(2, 1, "数值")?;
    ws.set_column_width(0, 28)?;
    let mut cells = 0;
    for (k, (i, f)) in form.reported_fields().enumerate() {
        let row = 3 + k as u32;
        ws.write_string(
            row,
            0,
            format!("{}{}", f.group.as_deref().unwrap_or(""), f.label),
        )?;
        let value = if f.kind == Kind::Rate {
            rate_of(form, i, v)
        } else {
            v[i as usize]
        };
        if let Some(x) = value {
            ws.write_number(row, 1, x)?;
            cells += 1;
        }
    }
    Ok(cells)
}

impl Month {
    /// The month after this one.
    #[must_use]
    pub fn next(self) -> Month {
        Month(self.0 + 1)
    }
}

/// Generates the registry, returns and truth into `out`.
///
/// # Errors
/// Unwritable directory or a workbook writer failure.
pub fn generate(out: &Path, opts: &Options) -> Result<Summary, SampleError> {
    let schemas = Schemas::builtin()?;
    let mut rng = Rng(opts.seed);
    let (counties, towns) = build_units(opts.townships, &mut rng);
    std::fs::create_dir_all(out.join("returns"))?;
    std::fs::write(out.join("units.csv"), registry_csv(&counties, &towns))?;
    let mut truth = String::from("month,form,unit_code,field,value\n");
    let mut summary = Summary {
        units: 1
            + counties.len()
            + towns
                .iter()
                .map(|(_, t)| 1 + t.villages.len())
                .sum::<usize>(),
        ..Summary::default()
    };
    // The second county sends, every third month, one summary return per
    // form whose rows are its townships instead of the townships' own
    // returns (FORMS.md §1): a quarter mixes both sources.
    let summary_county = (counties.len() > 1).then_some(1usize);
    let summarised = |county: usize, mi: u32| Some(county) == summary_county && mi % 3 == 2;
    for (ci, (code, name)) in counties.iter().enumerate() {
        for mi in (0..opts.months).filter(|&mi| summarised(ci, mi)) {
            let Some(month) = Month::new(opts.year, 1).map(|m| Month(m.0 + mi as i32)) else {
                continue;
            };
            let county = GenUnit {
                code: *code,
                name: name.clone(),
                alias: name.clone(),
                villages: Vec::new(),
            };
            let mut files = Vec::new();
            for form in &schemas.forms {
                let rows: Vec<(&str, Values)> = towns
                    .iter()
                    .filter(|(c, _)| *c == ci)
                    .map(|(_, town)| {
                        let per_village: Vec<Values> = town
                            .villages
                            .iter()
                            .map(|(vc, _, pop)| {
                                // A township's summed row is whole: a gap in one
                                // village would break the row's ≤ relations.
                                village_values(form, *pop, mi, *vc ^ opts.seed, &mut rng, false)
                            })
                            .collect();
                        let sum: Values = (0..form.fields.len())
                            .map(|i| {
                                let vals: Vec<f64> =
                                    per_village.iter().filter_map(|v| v[i]).collect();
                                (!vals.is_empty() && form.fields[i].kind != Kind::Rate)
                                    .then(|| vals.iter().sum())
                            })
                            .collect();
                        (town.name.as_str(), sum)
                    })
                    .collect();
                for ((_, town), (_, v)) in towns.iter().filter(|(c, _)| *c == ci).zip(&rows) {
                    for (i, x) in v.iter().enumerate() {
                        if let Some(x) = x {
                            let _ = writeln!(
                                truth,
                                "{month},{},{},{},{x}",
                                form.id, town.code, form.fields[i].id
                            );
                        }
                    }
                }
                let sheet = Sheet {
                    form,
                    town: &county,
                    month,
                    rows,
                };
                let mut wb = Workbook::new();
                let ws = wb.add_worksheet();
                ws.set_name(&form.short)?;
                summary.cells += write_sheet(ws, &sheet, Variant::Standard, &mut rng)?;
                let dir = out.join("returns").join(month.to_string());
                std::fs::create_dir_all(&dir)?;
                let path = dir.join(format!(
                    "{}_{}年{}月_{}_汇总.xlsx",
                    county.name,
                    month.year(),
                    month.month(),
                    form.short
                ));
                wb.save(&path)?;
                files.push(path);
            }
            summary.files.extend(files);
        }
    }
    for (ti, (county_of, town)) in towns.iter().enumerate() {
        for mi in 0..opts.months {
            if summarised(*county_of, mi) {
                continue;
            }
            let Some(month) = Month::new(opts.year, 1).map(|m| Month(m.0 + mi as i32)) else {
                continue;
            };
            let variant = match (ti + mi as usize) % 3 {
                0 => Variant::Standard,
                1 => Variant::Joined,
                _ => Variant::MultiForm,
            };
            let sheets: Vec<Sheet<'_>> = schemas
                .forms
                .iter()
                .map(|form| {
                    let rows = town
                        .villages
                        .iter()
                        .map(|(vc, vn, pop)| {
                            (
                                vn.as_str(),
                                village_values(
                                    form,
                                    *pop,
                                    mi,
                                    *vc ^ opts.seed,
                                    &mut rng,
                                    opts.gaps,
                                ),
                            )
                        })
                        .collect();
                    Sheet {
                        form,
                        town,
                        month,
                        rows,
                    }
                })
                .collect();
            for s in &sheets {
                for ((vc, _, _), (_, v)) in s.town.villages.iter().zip(&s.rows) {
                    for (i, x) in v.iter().enumerate() {
                        if let (Some(x), false) = (x, s.form.fields[i].kind == Kind::Rate) {
                            let _ = writeln!(
                                truth,
                                "{month},{},{vc},{},{x}",
                                s.form.id, s.form.fields[i].id
                            );
                        }
                    }
                }
            }
            let dir = out.join("returns").join(month.to_string());
            std::fs::create_dir_all(&dir)?;
            if variant == Variant::MultiForm {
                let mut wb = Workbook::new();
                for (k, s) in sheets.iter().enumerate() {
                    let ws = wb.add_worksheet();
                    ws.set_name(["Sheet1", "表2", "慢病"][k % 3])?;
                    summary.cells += write_sheet(ws, s, variant, &mut rng)?;
                }
                wb.add_worksheet().set_name("Sheet4")?;
                let path = dir.join(format!(
                    "{}{}{:02}.xlsx",
                    town.name,
                    month.year(),
                    month.month()
                ));
                wb.save(&path)?;
                summary.files.push(path);
            } else {
                for (fi, s) in sheets.iter().enumerate() {
                    let mut wb = Workbook::new();
                    // Some townships send a form of flows as the official
                    // 本地 / 流动 / 合计 workbook (FORMS.md §3.1), some
                    // another form as each village's own sheet with the
                    // fields as rows (§2).
                    let flows_only = s
                        .form
                        .reported_fields()
                        .all(|(_, f)| matches!(f.kind, Kind::Flow | Kind::Rate));
                    let pick = (ti + mi as usize + fi) % 7;
                    if variant == Variant::Standard && flows_only && pick < 3 {
                        summary.cells += write_parts(&mut wb, s, &mut rng)?;
                    } else if variant == Variant::Joined && pick == 4 {
                        for (name, v) in &s.rows {
                            summary.cells += write_fields_as_rows(&mut wb, s, name, v)?;
                        }
                    } else {
                        let ws = wb.add_worksheet();
                        ws.set_name(&s.form.short)?;
                        summary.cells += write_sheet(ws, s, variant, &mut rng)?;
                    }
                    let path = match variant {
                        Variant::Standard => dir.join(format!(
                            "{}_{}年{}月_{}.xlsx",
                            town.name,
                            month.year(),
                            month.month(),
                            s.form.short
                        )),
                        _ => dir.join(format!(
                            "{}-{}-{:02}-{}.xlsx",
                            s.form.short,
                            month.year(),
                            month.month(),
                            town.name
                        )),
                    };
                    wb.save(&path)?;
                    summary.files.push(path);
                }
            }
        }
    }
    std::fs::write(out.join("truth.csv"), truth)?;
    Ok(summary)
}
