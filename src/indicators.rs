//! The published summary (FORMS.md §8): for a period P, every indicator of
//! every unit at city, county and township level with 本期, 累计, 上期 and 环比,
//! 同期 and 同比, 目标值 and 达标, and, for rates, 排名. Everything is read from
//! the aggregates of §5 (flows summed, stocks the latest month, rates
//! recomputed): this module only compares and ranks.

use std::path::Path;

use rayon::prelude::*;

use crate::aggregate::Aggregates;
use crate::message::{Label, Lang};
use crate::period::{Month, Period};
use crate::registry::{Level, Registry, UnitIdx};
use crate::schema::{FieldIdx, FormIdx, Kind, Schemas};

/// The periods P's indicators need besides P.
#[must_use]
pub fn periods_needed(p: Period) -> [Period; 3] {
    [p.year_to_date(), p.previous(), p.year_before()]
}

/// The months of P's trend, oldest first: the 12 up to P's last.
#[must_use]
pub fn trend_months(p: Period) -> Vec<Month> {
    let end = p.bounds().1;
    (0..12).rev().map(|k| Month(end.0 - k)).collect()
}

/// The units a trend is drawn for, in report order: the city and its
/// counties; where the registry has none (a township's own report, `--scope
/// 城东街道`), its top units.
#[must_use]
pub fn trend_units(registry: &Registry) -> Vec<UnitIdx> {
    let order = registry.depth_first();
    let upper: Vec<UnitIdx> = order
        .iter()
        .copied()
        .filter(|&u| registry.unit(u).level < Level::Township)
        .collect();
    if !upper.is_empty() {
        return upper;
    }
    order
        .into_iter()
        .filter(|&u| {
            let unit = registry.unit(u);
            unit.level != Level::Village && unit.parent.is_none()
        })
        .collect()
}

/// One target line: a year (or every year), form, field, level, value.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetLine {
    /// The year it applies to; `None` for every year.
    pub year: Option<i32>,
    /// Form.
    pub form: FormIdx,
    /// Field.
    pub field: FieldIdx,
    /// Level; `None` for every level.
    pub level: Option<Level>,
    /// The target, in percent.
    pub value: f64,
}

/// The targets in force: a targets file's lines over the schemas' own.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    lines: Vec<TargetLine>,
}

impl Targets {
    /// The schemas' targets only.
    #[must_use]
    pub fn from_schemas(schemas: &Schemas) -> Targets {
        let mut lines = Vec::new();
        for (fi, f) in schemas.forms.iter().enumerate() {
            for t in &f.targets {
                lines.push(TargetLine {
                    year: None,
                    form: fi as FormIdx,
                    field: t.field,
                    level: t.level.as_deref().and_then(Level::parse),
                    value: t.value,
                });
            }
        }
        Targets { lines }
    }

    /// The schemas' targets, overridden by a file of
    /// `year,form,field,level,value` lines (`year` and `level` may be empty
    /// for all). A line naming an unknown form, field or level is refused.
    ///
    /// # Errors
    /// The file cannot be read, or a line is wrong: the message names it.
    pub fn load(path: &Path, schemas: &Schemas, lang: Lang) -> Result<Targets, String> {
        let text = std::fs::read_to_string(path).map_err(|e| match lang {
            Lang::Zh => format!("无法读取目标值文件 {}：{e}", path.display()),
            Lang::En => format!("cannot read the targets file {}: {e}", path.display()),
        })?;
        let mut targets = Targets::from_schemas(schemas);
        let mut file_lines = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim().trim_start_matches('\u{feff}');
            if line.is_empty() || line.starts_with('#') || (i == 0 && line.starts_with("year")) {
                continue;
            }
            let cols: Vec<&str> = line.split(',').map(str::trim).collect();
            let bad = |what: &str| match lang {
                Lang::Zh => format!(
                    "目标值文件 {} 第 {} 行：{what}：{line}",
                    path.display(),
                    i + 1
                ),
                Lang::En => format!(
                    "targets file {} line {}: {what}: {line}",
                    path.display(),
                    i + 1
                ),
            };
            let [year, form, field, level, value] = cols.as_slice() else {
                return Err(bad(lang.pick(
                    "应为 year,form,field,level,value 五列",
                    "expected year,form,field,level,value",
                )));
            };
            let year = if year.is_empty() {
                None
            } else {
                Some(
                    year.parse()
                        .map_err(|_| bad(lang.pick("年份不对", "not a year")))?,
                )
            };
            let fi = schemas
                .form_idx(form)
                .ok_or_else(|| bad(lang.pick("未知的报表", "unknown form")))?;
            let field = schemas
                .form(fi)
                .field_idx(field)
                .filter(|&f| schemas.form(fi).field(f).kind == Kind::Rate)
                .ok_or_else(|| bad(lang.pick("不是该报表的比率栏目", "not a rate of that form")))?;
            let level = if level.is_empty() {
                None
            } else {
                Some(
                    Level::parse(level)
                        .ok_or_else(|| bad(lang.pick("未知的层级", "unknown level")))?,
                )
            };
            let value = value
                .parse()
                .map_err(|_| bad(lang.pick("目标值不是数字", "the value is not a number")))?;
            file_lines.push(TargetLine {
                year,
                form: fi,
                field,
                level,
                value,
            });
        }
        // A file line replaces the schema's for the same form and field.
        targets.lines.retain(|t| {
            !file_lines
                .iter()
                .any(|f| f.form == t.form && f.field == t.field)
        });
        targets.lines.extend(file_lines);
        Ok(targets)
    }

    /// The target of a rate for a unit's level in a year.
    #[must_use]
    pub fn get(&self, year: i32, form: FormIdx, field: FieldIdx, level: Level) -> Option<f64> {
        let fits = |t: &&TargetLine| {
            t.form == form
                && t.field == field
                && t.year.is_none_or(|y| y == year)
                && t.level.is_none_or(|l| l == level)
        };
        // The most specific line wins: a year and a level over none.
        self.lines
            .iter()
            .filter(fits)
            .max_by_key(|t| (t.year.is_some(), t.level.is_some()))
            .map(|t| t.value)
    }
}

/// One unit's indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    /// Unit (city, county or township).
    pub unit: UnitIdx,
    /// Form.
    pub form: FormIdx,
    /// Field.
    pub field: FieldIdx,
    /// 本期.
    pub current: Option<f64>,
    /// 累计.
    pub ytd: Option<f64>,
    /// 上期.
    pub previous: Option<f64>,
    /// 环比: percent for counts, percentage points for rates.
    pub change_previous: Option<f64>,
    /// 同期.
    pub last_year: Option<f64>,
    /// 同比.
    pub change_last_year: Option<f64>,
    /// 目标值.
    pub target: Option<f64>,
    /// 达标, judged on the figure as published (one decimal).
    pub met: Option<bool>,
    /// 排名 among the units of its level (rates only; 1 is best).
    pub rank: Option<u32>,
    /// The target is the year's (a rate of year-to-date counts) and this
    /// period ends before December: 达标 is left empty and the sheets say
    /// 年度指标.
    pub annual: bool,
}

/// 达标 (FORMS.md §8): whether a rate meets its target, judged on the
/// figure as published (one decimal), so a red cell never shows a number
/// that meets its target: 89.96 prints as 90.0 and meets 90. The one place
/// 达标 is decided: `Indicator.met` holds it, and every colour, chart and
/// 通报 sentence reads that.
#[must_use]
pub fn judge(lower_is_better: bool, target: Option<f64>, current: Option<f64>) -> Option<bool> {
    let (t, c) = (target?, current?);
    Some(if lower_is_better {
        published(c) <= t
    } else {
        published(c) >= t
    })
}

/// A rate as published: one decimal.
#[must_use]
pub fn published(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A change (环比, 同比) as published: one decimal, where one that rounds to
/// nothing is 0, never −0.0. Written as computed, a rate 0.03 points down
/// showed “-0.0个百分点” under the sheets' `+0.0;-0.0;0.0` formats while
/// the 通报 said 持平 (it reads [`published`] too).
#[must_use]
pub fn published_change(v: f64) -> f64 {
    let p = published(v);
    if p == 0.0 {
        0.0
    } else {
        p
    }
}

/// 环比 / 同比 (FORMS.md §8): counts `(cur − base) / base × 100`, rates
/// `cur − base` in percentage points; empty when either is missing or a
/// count's base is 0.
#[must_use]
pub fn change(kind: Kind, current: Option<f64>, base: Option<f64>) -> Option<f64> {
    let (c, b) = (current?, base?);
    match kind {
        Kind::Rate => Some(c - b),
        _ if b == 0.0 => None,
        _ => Some((c - b) / b * 100.0),
    }
}

/// Competition ranking of published values (ties share the best rank: 1,
/// 2, 2, 4); `lower` when a lower value is better. A value's rank is one
/// more than the number of values better than it, counted by binary search
/// in the sorted values: a province ranks 1,100 townships on every rate,
/// and comparing each with each was most of the indicators' time.
#[must_use]
pub fn ranks(values: &[Option<f64>], lower: bool) -> Vec<Option<u32>> {
    // NaN is never better than anything, nor anything better than it.
    let mut sorted: Vec<f64> = values
        .iter()
        .flatten()
        .map(|&v| published(v))
        .filter(|v| !v.is_nan())
        .collect();
    sorted.sort_by(f64::total_cmp);
    values
        .iter()
        .map(|v| {
            let v = published((*v)?);
            let better = if v.is_nan() {
                0
            } else if lower {
                sorted.partition_point(|&o| o < v)
            } else {
                sorted.len() - sorted.partition_point(|&o| o <= v)
            };
            Some(better as u32 + 1)
        })
        .collect()
}

/// Every indicator of P for the units above the villages, in report order
/// (by form, field, then unit in registry order). `covered` is the part of
/// P the returns read reach ([`crate::observation::Batch::covered`]: the
/// year asked for in April is January to March).
#[must_use]
pub fn compute(
    aggs: &Aggregates,
    registry: &Registry,
    schemas: &Schemas,
    targets: &Targets,
    p: Period,
    covered: Period,
) -> Vec<Indicator> {
    let [ytd, prev, last_year] = periods_needed(p);
    let year = p.bounds().1.year();
    let units: Vec<UnitIdx> = registry
        .depth_first()
        .into_iter()
        .filter(|&u| registry.unit(u).level != Level::Village)
        .collect();
    // Each field of each form on its own, side by side, in schema order.
    let fields: Vec<(FormIdx, FieldIdx)> = schemas
        .forms
        .iter()
        .enumerate()
        .flat_map(|(fi, form)| (0..form.fields.len()).map(move |k| (fi as FormIdx, k as FieldIdx)))
        .collect();
    fields
        .par_iter()
        .flat_map_iter(|&(fi, f)| {
            let field = schemas.form(fi).field(f);
            // A year-to-date count, or a rate of year-to-date sides (FORMS.md
            // §3): no 上期 across a January for a period shorter than a
            // year, and its target is the year's, judged at the year's end
            // (December, Q4, H2, the year); before, 达标 stays empty. The
            // end is that of the months read: the year asked for in April
            // holds March's figure, which is not the year's.
            let ytd_kind = field.kind == Kind::Ytd
                || field
                    .ratio
                    .is_some_and(|r| schemas.form(fi).field(r.denominator).kind == Kind::Ytd);
            let (lo, hi) = p.bounds();
            let from_january = lo.month() == 1 && hi.0 - lo.0 + 1 < 12;
            let year_end = covered.bounds().1.month() == 12;
            let mut out = Vec::with_capacity(units.len());
            let [mut of_p, mut of_ytd, mut of_prev, mut of_last_year] =
                [p, ytd, prev, last_year].map(|q| aggs.reader(q, fi, f));
            for &u in &units {
                let current = of_p.get(u);
                let previous = if ytd_kind && from_january {
                    None
                } else {
                    of_prev.get(u)
                };
                let last = of_last_year.get(u);
                let level = registry.unit(u).level;
                let target = (field.kind == Kind::Rate)
                    .then(|| targets.get(year, fi, f, level))
                    .flatten();
                let met = if ytd_kind && !year_end {
                    None
                } else {
                    judge(field.lower_is_better, target, current)
                };
                out.push(Indicator {
                    unit: u,
                    form: fi,
                    field: f,
                    current,
                    ytd: of_ytd.get(u),
                    previous,
                    change_previous: change(field.kind, current, previous),
                    last_year: last,
                    change_last_year: change(field.kind, current, last),
                    target,
                    met,
                    rank: None,
                    annual: ytd_kind && !year_end && target.is_some(),
                });
            }
            if field.kind == Kind::Rate {
                // Ranked among the units of the same level (FORMS.md §8): a
                // level of one unit (the city) is not ranked, nor a negative
                // rate where lower is better (a dropout below 0 is a data
                // problem, `dropout_negative`, never the best).
                for level in Level::ALL {
                    let idx: Vec<usize> = (0..out.len())
                        .filter(|&i| registry.unit(out[i].unit).level == level)
                        .collect();
                    if idx.len() < 2 {
                        continue;
                    }
                    let values: Vec<Option<f64>> = idx
                        .iter()
                        .map(|&i| {
                            out[i]
                                .current
                                .filter(|&v| !(field.lower_is_better && published(v) < 0.0))
                        })
                        .collect();
                    for (i, r) in idx.into_iter().zip(ranks(&values, field.lower_is_better)) {
                        out[i].rank = r;
                    }
                }
            }
            out
        })
        .collect()
}

/// The header of `indicators.csv` (FORMS.md §8).
pub const HEADER: [&str; 15] = [
    "period",
    "form",
    "level",
    "unit_code",
    "unit_name",
    "field",
    "current",
    "ytd",
    "previous",
    "change_previous",
    "last_year",
    "change_last_year",
    "target",
    "met",
    "rank",
];

/// Writes `indicators.csv`: numbers at full precision, empty where there is
/// no value.
///
/// # Errors
/// A write failure.
pub fn write_csv(
    out: &mut dyn std::io::Write,
    rows: &[Indicator],
    registry: &Registry,
    schemas: &Schemas,
    p: Period,
) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut w = csv::Writer::from_writer(out);
    w.write_record(HEADER)?;
    // Field by field into the writer, the numbers through one buffer: a
    // city-year has 10,000 rows, and a record of fifteen new strings each
    // was most of this file's time.
    let period = p.to_string();
    let mut buf: Vec<u8> = Vec::with_capacity(32);
    for r in rows {
        let u = registry.unit(r.unit);
        let form = schemas.form(r.form);
        w.write_field(&period)?;
        w.write_field(form.id.as_str())?;
        w.write_field(u.level.id())?;
        buf.clear();
        write!(buf, "{}", u.code)?;
        w.write_field(&buf)?;
        w.write_field(crate::report::csv::neutralise(&u.name).as_bytes())?;
        w.write_field(form.field(r.field).id.as_str())?;
        for v in [
            r.current,
            r.ytd,
            r.previous,
            r.change_previous,
            r.last_year,
            r.change_last_year,
            r.target,
        ] {
            buf.clear();
            if let Some(v) = v {
                crate::report::csv::push_number(&mut buf, v);
            }
            w.write_field(&buf)?;
        }
        w.write_field(match r.met {
            Some(true) => "true",
            Some(false) => "false",
            None => "",
        })?;
        buf.clear();
        if let Some(rank) = r.rank {
            write!(buf, "{rank}")?;
        }
        w.write_field(&buf)?;
        w.write_record(None::<&[u8]>)?;
    }
    w.flush()
}

/// The headline rates: every rate with a target somewhere.
#[must_use]
pub fn headline(schemas: &Schemas, targets: &Targets) -> Vec<(FormIdx, FieldIdx)> {
    let mut out = Vec::new();
    for (fi, form) in schemas.forms.iter().enumerate() {
        for (k, field) in form.fields.iter().enumerate() {
            let has = targets
                .lines
                .iter()
                .any(|t| t.form == fi as FormIdx && t.field == k as FieldIdx);
            if field.kind == Kind::Rate && has {
                out.push((fi as FormIdx, k as FieldIdx));
            }
        }
    }
    out
}

/// A rate's name in a sentence: its group and label without the unit
/// (乙肝疫苗第1剂接种率, 高血压规范管理率, 签约率).
#[must_use]
pub fn short_label(schemas: &Schemas, form: FormIdx, field: FieldIdx) -> Label {
    let f = schemas.form(form).field(field);
    let zh = f.label.replace("(%)", "");
    let en = f.label_en.replace(" (%)", "");
    Label {
        zh: match &f.group {
            Some(g) => format!("{g}{zh}"),
            None => zh,
        },
        en: match &f.group_en {
            Some(g) => format!("{g} {en}"),
            None => en,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_is_judged_as_printed() {
        // 89.96 prints as 90.0: it meets the target of 90 and is not red.
        assert_eq!(judge(false, Some(90.0), Some(89.96)), Some(true));
        assert_eq!(judge(false, Some(90.0), Some(89.94)), Some(false));
        assert_eq!(judge(false, Some(90.0), None), None);
        assert_eq!(judge(false, None, Some(50.0)), None);
        // Lower is better (脱落率 ≤ 10): 10.04 prints as 10.0 and meets it.
        assert_eq!(judge(true, Some(10.0), Some(10.04)), Some(true));
        assert_eq!(judge(true, Some(10.0), Some(10.06)), Some(false));
    }

    #[test]
    fn ties_share_the_best_rank_and_lower_can_be_better() {
        let v = [Some(95.0), Some(90.04), Some(89.96), None, Some(80.0)];
        // 90.04 and 89.96 both publish as 90.0: a tie.
        assert_eq!(ranks(&v, false), [Some(1), Some(2), Some(2), None, Some(4)]);
        assert_eq!(ranks(&v, true), [Some(4), Some(2), Some(2), None, Some(1)]);
    }

    /// One more than the number of published values better than each.
    fn ranks_by_definition(values: &[Option<f64>], lower: bool) -> Vec<Option<u32>> {
        values
            .iter()
            .map(|v| {
                let v = published((*v)?);
                let better = values
                    .iter()
                    .flatten()
                    .map(|&o| published(o))
                    .filter(|&o| if lower { o < v } else { o > v })
                    .count();
                Some(better as u32 + 1)
            })
            .collect()
    }

    #[test]
    fn ranks_are_the_definitions_on_many_values() {
        // Rates on a coarse grid (ties by the dozen, some only once
        // published), gaps, both zeros, the extremes and a NaN.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for n in [0, 1, 2, 5, 40, 1_100] {
            let mut values: Vec<Option<f64>> = (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    match x % 10 {
                        0 => None,
                        1 => Some((x >> 8) as f64 % 3.0 * 50.0),
                        _ => Some(((x >> 8) % 2_000) as f64 / 20.0 + ((x >> 30) % 7) as f64 * 0.01),
                    }
                })
                .collect();
            if n >= 5 {
                values[..5].copy_from_slice(&[
                    Some(-0.0),
                    Some(0.0),
                    Some(f64::NAN),
                    Some(f64::INFINITY),
                    Some(f64::MIN),
                ]);
            }
            for lower in [false, true] {
                assert_eq!(
                    ranks(&values, lower),
                    ranks_by_definition(&values, lower),
                    "{n} values, lower {lower}"
                );
            }
        }
    }

    #[test]
    fn a_change_is_published_to_one_decimal_and_never_as_minus_zero() {
        assert_eq!(published_change(1.26), 1.3);
        assert_eq!(published_change(-0.46), -0.5);
        for tiny in [-0.03, -0.0, 0.04] {
            let p = published_change(tiny);
            assert!(p == 0.0 && p.is_sign_positive(), "{tiny} gave {p}");
        }
    }

    #[test]
    fn changes_are_percent_for_counts_and_points_for_rates() {
        assert_eq!(change(Kind::Flow, Some(110.0), Some(100.0)), Some(10.0));
        assert_eq!(change(Kind::Flow, Some(110.0), Some(0.0)), None);
        assert_eq!(change(Kind::Rate, Some(92.5), Some(90.0)), Some(2.5));
        assert_eq!(change(Kind::Stock, None, Some(1.0)), None);
    }
}
