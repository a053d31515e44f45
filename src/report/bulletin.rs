//! The 通报 (FORMS.md §8): the period's results as a health bureau
//! circulates them, a 公文 in the layout of GB/T 9704-2012 — 版头 with the
//! 发文机关标志 and 文号, title, 主送, lead-in, four sections, 落款 and
//! 成文日期, page numbers `— 1 —` — every sentence built from the figures; a
//! sentence with nothing to say is left out, never printed with a blank.
//! Written as a WordprocessingML package (`.docx`) whose elements follow the
//! schema's order, so Word, WPS and LibreOffice open it without a repair.
//!
//! 达标 is read from `Indicator.met`, the one place it is decided; 上报率 and
//! 及时率 from [`Tally`], the one place they are summed.

use std::fmt::Write as _;
use std::io::Write as _;

use super::escape_markup as esc;
use crate::findings::{Finding, Severity};
use crate::indicators::{headline, published, published_change, Indicator, Targets};
use crate::period::Period;
use crate::registry::{Level, Registry, UnitIdx};
use crate::schema::{FieldIdx, FormIdx, Schemas};
use crate::validate::returns::Tally;
use crate::validate::Completeness;

/// What the 通报 is written from.
pub struct BulletinInput<'a> {
    /// The period.
    pub period: Period,
    /// The part of it the figures reach ([`crate::observation::Batch::covered`]):
    /// the period itself, or its months up to the latest read.
    pub covered: Period,
    /// Units.
    pub registry: &'a Registry,
    /// Forms.
    pub schemas: &'a Schemas,
    /// Every indicator of the period.
    pub indicators: &'a [Indicator],
    /// The targets in force.
    pub targets: &'a Targets,
    /// 上报率 and 及时率.
    pub completeness: &'a [Completeness],
    /// The findings of the period.
    pub findings: &'a [Finding],
    /// The 成文日期 (`2026年4月8日`).
    pub date: &'a str,
    /// The issuer (`--issuer`; default: the root's name + 卫生健康委员会).
    pub issuer: Option<&'a str>,
    /// The 文号 (`--doc-no`), left for the clerk to fill in when not given.
    pub doc_no: Option<&'a str>,
    /// 主送机关 (`--to`; default by the units reported).
    pub to: Option<&'a str>,
    /// 抄送机关 (`--cc`).
    pub cc: Option<&'a str>,
    /// The day of the next month by which returns are due.
    pub deadline_day: u32,
}

/// A paragraph or a table of the document.
#[derive(Debug, Clone, PartialEq)]
enum Block {
    /// 发文机关标志: the issuer, red, centred.
    Masthead(String),
    /// 发文字号, centred, over the red rule.
    DocNo(String),
    Title(String),
    /// 主送机关, flush left.
    To(String),
    /// A body paragraph, first line indented two characters.
    Text(String),
    /// 一、… in 黑体.
    Heading(String),
    /// A table with its caption (表1 …) and units line.
    Table {
        caption: String,
        units: String,
        rows: Vec<Vec<String>>,
    },
    /// 落款 and 成文日期.
    Signature {
        issuer: String,
        date: String,
    },
    /// 抄送.
    Cc(String),
}

/// `95.3%`: a rate as published, no space before or after.
fn pct(v: f64) -> String {
    format!("{:.1}%", published(v))
}

/// `提高1.3个百分点` / `下降0.5个百分点` / `持平`.
fn moved(v: f64) -> String {
    let p = published_change(v);
    if p > 0.0 {
        format!("提高{:.1}个百分点", p)
    } else if p < 0.0 {
        format!("下降{:.1}个百分点", -p)
    } else {
        "持平".into()
    }
}

/// A change in the table: `+1.3`, `−0.5`, `0.0`, or empty.
fn signed(v: Option<f64>) -> String {
    match v.map(published_change) {
        Some(p) if p > 0.0 => format!("+{p:.1}"),
        Some(p) if p < 0.0 => format!("−{:.1}", -p),
        Some(_) => "0.0".into(),
        None => "—".into(),
    }
}

/// A number as a 公文 numbers its quarters and items: 一 … 十, 十一,
/// 二十, 二十九, 一百, 一百零一, 一百一十. A 通报 of a province's forms
/// has dozens of items, so none may go without its number; past 九千九百
/// 九十九 (never reached) it is written in digits rather than left out.
fn numeral(n: usize) -> String {
    const DIGITS: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    const PLACES: [(usize, &str); 3] = [(1000, "千"), (100, "百"), (10, "十")];
    if n >= 10_000 {
        return n.to_string();
    }
    if n < 10 {
        return DIGITS[n].to_string();
    }
    let mut s = String::new();
    let mut rest = n;
    // A zero between two digits is said once (一百零一, 一千零一十).
    let mut zero = false;
    for (place, name) in PLACES {
        let d = rest / place;
        rest %= place;
        if d == 0 {
            zero |= !s.is_empty();
            continue;
        }
        if zero {
            s.push('零');
            zero = false;
        }
        // 十一, not 一十一, where 十 leads.
        if !(place == 10 && d == 1 && s.is_empty()) {
            s.push_str(DIGITS[d]);
        }
        s.push_str(name);
    }
    if rest > 0 {
        if zero {
            s.push('零');
        }
        s.push_str(DIGITS[rest]);
    }
    s
}

/// How many places: 两 for two (前两位), else [`numeral`].
fn places(n: usize) -> String {
    if n == 2 {
        "两".into()
    } else {
        numeral(n)
    }
}

/// The best and worst ranked of one rate, when there are enough to rank
/// (four or more): `；排名前三位的是…，后三位的是…`. The places are
/// `Indicator.rank`'s (competition ranking of the published figures, the
/// one owner of ties): a unit tied with the third is named with it
/// (`（含并列）`, or `并列第一` where all the first share it), a unit among
/// the best is never named among the worst too, one left alone at the
/// bottom is `排名最后的是…`, and where every unit has the same figure none
/// is ranked above another (`；各乡镇（街道）均为100.0%`). `ranked`: unit,
/// figure, rank; `name`: a unit's name.
fn ranking(ranked: &[(UnitIdx, f64, u32)], name: impl Fn(UnitIdx) -> String) -> Option<String> {
    if ranked.len() < 4 {
        return None;
    }
    let mut ranked = ranked.to_vec();
    ranked.sort_by_key(|r| r.2);
    if ranked.iter().all(|r| r.2 == ranked[0].2) {
        return Some(format!("；各乡镇（街道）均为{}", pct(ranked[0].1)));
    }
    let k = 3.min(ranked.len() / 2);
    let list = |v: &[&(UnitIdx, f64, u32)]| listed(v.iter().map(|r| (r.0, r.1)), &name);
    // Competition ranks: the first k places are every unit ranked k or
    // better; a unit is among the last k where fewer than k rank below it.
    let best: Vec<_> = ranked.iter().filter(|r| r.2 as usize <= k).collect();
    let below = |rank: u32| ranked.iter().filter(|r| r.2 > rank).count();
    let worst: Vec<_> = ranked
        .iter()
        .rev()
        .filter(|r| r.2 as usize > k && below(r.2) < k)
        .collect();
    let tied = |n: usize| if n > k { "（含并列）" } else { "" };
    // A 通报 is a sentence per rate: more tied than that are counted, not
    // named (a province's forty townships at 100.0 %).
    const NAMED: usize = 6;
    let mut s = if best.len() > k && best.iter().all(|r| r.2 == 1) {
        let who = if best.len() > NAMED {
            format!("{}个乡镇（街道）", best.len())
        } else {
            best.iter()
                .map(|r| name(r.0))
                .collect::<Vec<_>>()
                .join("、")
        };
        format!("；{who}并列第一（均为{}）", pct(best[0].1))
    } else if best.len() > NAMED {
        format!(
            "；排名前{}位的有{}个乡镇（街道）（含并列）",
            places(k),
            best.len()
        )
    } else {
        format!(
            "；排名前{}位的是{}{}",
            places(k),
            list(&best),
            tied(best.len())
        )
    };
    match worst.len() {
        0 => {}
        1 => {
            let _ = write!(s, "，排名最后的是{}", list(&worst));
        }
        n if n > NAMED => {
            let _ = write!(s, "，后{}位的有{n}个乡镇（街道）（含并列", places(k));
            if worst.iter().all(|r| r.2 == worst[0].2) {
                let _ = write!(s, "，均为{}", pct(worst[0].1));
            }
            s.push('）');
        }
        n => {
            let _ = write!(
                s,
                "，后{}位的是{}{}",
                places(k.min(n)),
                list(&worst),
                tied(n)
            );
        }
    }
    Some(s)
}

fn names(registry: &Registry, units: &[(UnitIdx, f64)]) -> String {
    listed(units.iter().copied(), |u| registry.unit(u).name.clone())
}

/// Units with their figures as a sentence lists them: `东城街道（95.2%）、…`.
fn listed(
    units: impl IntoIterator<Item = (UnitIdx, f64)>,
    name: impl Fn(UnitIdx) -> String,
) -> String {
    units
        .into_iter()
        .map(|(u, v)| format!("{}（{}）", name(u), pct(v)))
        .collect::<Vec<_>>()
        .join("、")
}

/// The word for "the whole of" the root's area, as its own 公文 says it:
/// from the kind its name ends in (西岭县 全县, 东湖区 全区, a county-level
/// 市 全市, 旗 全旗, 新城乡 全乡, 城东街道 全街道), else from its level.
fn whole(level: Level, name: &str) -> &'static str {
    const BY_NAME: [(&str, &str); 10] = [
        ("县", "全县"),
        ("区", "全区"),
        ("市", "全市"),
        ("旗", "全旗"),
        ("州", "全州"),
        ("盟", "全盟"),
        ("镇", "全镇"),
        ("乡", "全乡"),
        ("街道", "全街道"),
        ("苏木", "全苏木"),
    ];
    if let Some((_, word)) = BY_NAME.iter().find(|(kind, _)| name.ends_with(kind)) {
        return word;
    }
    match level {
        Level::County => "全县（区）",
        Level::Township => "全乡镇（街道）",
        _ => "全市",
    }
}

/// What a 公文 of this root is sent to, by default.
fn default_to(level: Level) -> &'static str {
    match level {
        Level::City => "各县（区）卫生健康局",
        Level::County => "各乡镇卫生院、社区卫生服务中心",
        _ => "各村卫生室",
    }
}

/// How the units one level below the root are called.
fn below(level: Level) -> &'static str {
    match level {
        Level::City => "县（区）",
        Level::County => "乡镇（街道）",
        _ => "村（社区）",
    }
}

/// The 通报's blocks, from the figures.
#[allow(clippy::too_many_lines)]
fn blocks(input: &BulletinInput<'_>) -> Vec<Block> {
    let reg = input.registry;
    let Some(root) = reg.root() else {
        return Vec::new();
    };
    let root_level = reg.unit(root).level;
    let root_name = reg.unit(root).name.clone();
    let issuer = super::issuer(reg, input.issuer);
    let period = input.period.label_zh();
    // What the figures reach: a year reported from January–March returns
    // says it reports 2026年1—3月's, and counts 应报 over those months.
    let covered = input.covered.label_zh();
    let all = whole(root_level, &root_name);
    let heads = headline(input.schemas, input.targets);
    let index: std::collections::HashMap<(UnitIdx, FormIdx, FieldIdx), &Indicator> = input
        .indicators
        .iter()
        .map(|r| ((r.unit, r.form, r.field), r))
        .collect();
    let find = |u: UnitIdx, f: FormIdx, k: FieldIdx| index.get(&(u, f, k)).copied();
    let name_of = |f: FormIdx, k: FieldIdx| input.schemas.form(f).field(k).full_name();
    let townships: Vec<UnitIdx> = reg
        .depth_first()
        .into_iter()
        .filter(|&u| reg.unit(u).level == Level::Township && u != root)
        .collect();
    // A township's own 通报 (`--scope` a township) has no township below it
    // to compare: each rate is its own against the target.
    let own = townships.is_empty();
    let compared: Vec<UnitIdx> = if own { vec![root] } else { townships.clone() };
    let children: Vec<UnitIdx> = reg.unit(root).children.clone();
    let mut out = vec![
        Block::Masthead(issuer.clone()),
        Block::DocNo(
            input
                .doc_no
                .map_or_else(|| format!("〔{}〕　　号", year_of(input.period)), str::to_string),
        ),
        Block::Title(format!(
            "关于{root_name}{period}基本公共卫生服务主要指标完成情况的通报"
        )),
        Block::To(format!(
            "{}：",
            input.to.unwrap_or_else(|| default_to(root_level))
        )),
        Block::Text(format!(
            "为及时掌握基本公共卫生服务项目进展，推动各项指标按期完成，根据各单位报送的{covered}报表，现将有关情况通报如下："
        )),
    ];
    let tables = std::cell::Cell::new(0);
    let caption = |text: String| {
        tables.set(tables.get() + 1);
        format!("表{}　{text}", tables.get())
    };

    // 一、总体情况: reporting, then the headline rates of the root and of
    // each unit one level below it.
    out.push(Block::Heading("一、总体情况".into()));
    let t = Tally::of(input.completeness, input.period, |_| true);
    let reporting = if t.expected == 0 {
        None
    } else {
        let mut s = format!(
            "（一）报表报送情况。{covered}{all}应报报表{}份，实报{}份，上报率{}",
            t.expected,
            t.reported,
            pct(t.rate().unwrap_or(0.0))
        );
        if let Some(on_time) = t.timeliness() {
            let _ = write!(
                s,
                "；有报出或收到日期的{}份中按时上报{}份，及时率{}",
                t.dated,
                t.dated - t.late,
                pct(on_time)
            );
        }
        s.push('。');
        Some(s)
    };
    if let Some(s) = &reporting {
        out.push(Block::Text(s.clone()));
    }
    let at_root: Vec<(FormIdx, FieldIdx, &Indicator, f64)> = heads
        .iter()
        .filter_map(|&(f, k)| {
            let i = find(root, f, k)?;
            Some((f, k, i, i.current?))
        })
        .collect();
    if at_root.is_empty() {
        out.push(Block::Text(format!(
            "（二）主要指标情况。{period}没有可计算的主要指标。"
        )));
    } else {
        let judged: Vec<_> = at_root.iter().filter(|x| x.2.met.is_some()).collect();
        let missed: Vec<String> = judged
            .iter()
            .filter(|x| x.2.met == Some(false))
            .map(|x| format!("{}{}", name_of(x.0, x.1), pct(x.3)))
            .collect();
        // Those not judged this period: a year's target before December
        // (年度指标), or no target at all; said too, so that the counts add
        // up to the whole.
        let annual = at_root
            .iter()
            .filter(|x| x.2.met.is_none() && x.2.annual)
            .count();
        let untargeted = at_root.len() - judged.len() - annual;
        let mut rest = Vec::new();
        if annual > 0 {
            rest.push(if annual == at_root.len() {
                "均为年度指标，年末评价是否达标".to_string()
            } else {
                format!("{annual}项为年度指标，年末评价是否达标")
            });
        }
        if untargeted > 0 {
            rest.push(if untargeted == at_root.len() {
                "均未设目标值".to_string()
            } else {
                format!("{untargeted}项未设目标值")
            });
        }
        let mut s = format!("（二）主要指标情况。{all}{}项主要指标中，", at_root.len());
        if judged.is_empty() {
            // Said below, from `rest`.
        } else if missed.is_empty() {
            let _ = write!(s, "{}项有目标值的指标均达到目标", judged.len());
        } else {
            // More than three are named in table 1 only.
            let list = if missed.len() > 3 {
                format!("{}等", missed[..3].join("、"))
            } else {
                missed.join("、")
            };
            if missed.len() == judged.len() {
                let _ = write!(s, "{}项有目标值的指标均未达到目标：{list}", judged.len());
            } else {
                let _ = write!(
                    s,
                    "{}项达到目标，{}项未达到：{list}",
                    judged.len() - missed.len(),
                    missed.len()
                );
            }
        }
        if !rest.is_empty() {
            if !judged.is_empty() {
                s.push_str("；另有");
            }
            s.push_str(&rest.join("，"));
        }
        let changes: Vec<f64> = at_root
            .iter()
            .filter_map(|x| x.2.change_previous.map(published))
            .collect();
        if !changes.is_empty() {
            // A lower dropout is better: "提高" counts what got better.
            let better = at_root
                .iter()
                .filter_map(|x| {
                    let c = published(x.2.change_previous?);
                    let lower = input.schemas.form(x.0).field(x.1).lower_is_better;
                    Some(if lower { c < 0.0 } else { c > 0.0 })
                })
                .filter(|&b| b)
                .count();
            let same = changes.iter().filter(|&&c| c == 0.0).count();
            let worse = changes.len() - better - same;
            // 转差, not 下降: a dropout that rose got worse.
            let _ = write!(s, "。与上期相比，{better}项好转，{worse}项转差");
            if same > 0 {
                let _ = write!(s, "，{same}项持平");
            }
        }
        s.push_str(&format!("（详见表{}）。", tables.get() + 1));
        out.push(Block::Text(s));
        let mut rows = vec![vec![
            "指标".to_string(),
            "本期".into(),
            "目标值".into(),
            "环比".into(),
            "同比".into(),
        ]];
        for (f, k, i, cur) in &at_root {
            let lower = input.schemas.form(*f).field(*k).lower_is_better;
            rows.push(vec![
                name_of(*f, *k),
                format!("{:.1}", published(*cur)),
                i.target.map_or_else(
                    || "—".into(),
                    |t| format!("{}{t:.1}", if lower { "≤" } else { "≥" }),
                ),
                signed(i.change_previous),
                signed(i.change_last_year),
            ]);
        }
        out.push(Block::Table {
            caption: caption(format!("{root_name}{period}主要指标完成情况")),
            units: "单位：%；环比、同比：百分点".into(),
            rows,
        });
        // Each unit one level below the root, in tables of at most six.
        if root_level == Level::City && children.len() > 1 {
            let count = children.len().div_ceil(6);
            for (n, chunk) in children.chunks(6).enumerate() {
                let mut rows = vec![std::iter::once("指标".to_string())
                    .chain(chunk.iter().map(|&c| reg.unit(c).name.clone()))
                    .collect::<Vec<_>>()];
                for (f, k, _, _) in &at_root {
                    rows.push(
                        std::iter::once(name_of(*f, *k))
                            .chain(chunk.iter().map(|&c| {
                                find(c, *f, *k)
                                    .and_then(|i| i.current)
                                    .map_or_else(|| "—".into(), |v| format!("{:.1}", published(v)))
                            }))
                            .collect(),
                    );
                }
                let part = if count > 1 {
                    format!("（{}）", numeral(n + 1))
                } else {
                    String::new()
                };
                out.push(Block::Table {
                    caption: caption(format!("各{}主要指标{part}", below(root_level))),
                    units: "单位：%".into(),
                    rows,
                });
            }
        }
    }

    // 二、各项指标完成情况: per indicator one sentence; long lists in a table.
    out.push(Block::Heading("二、各项指标完成情况".into()));
    let mut item = 0;
    let mut long_lists: Vec<(String, String)> = Vec::new();
    let mut missed_any: Vec<String> = Vec::new();
    let mut units_missing_a_target: std::collections::BTreeSet<UnitIdx> =
        std::collections::BTreeSet::new();
    let mut annual = false;
    for &(f, k) in &heads {
        let name = name_of(f, k);
        let field = input.schemas.form(f).field(k);
        let rows: Vec<&Indicator> = compared.iter().filter_map(|&u| find(u, f, k)).collect();
        if rows.iter().all(|i| i.current.is_none()) {
            continue;
        }
        item += 1;
        let mut s = format!("（{}）{name}。", numeral(item));
        if let Some(i) = find(root, f, k) {
            if let Some(cur) = i.current {
                let _ = write!(s, "{all}为{}", pct(cur));
                if let Some(c) = i.change_previous {
                    let _ = write!(s, "，比上期{}", moved(c));
                }
                if let Some(c) = i.change_last_year {
                    let _ = write!(s, "，比上年同期{}", moved(c));
                }
                s.push('；');
            }
        }
        let judged: Vec<&&Indicator> = rows.iter().filter(|i| i.met.is_some()).collect();
        if let Some(target) = judged.first().and_then(|i| i.target) {
            let bound = if field.lower_is_better {
                "不高于"
            } else {
                "不低于"
            };
            let mut missed: Vec<(UnitIdx, f64)> = judged
                .iter()
                .filter(|i| i.met == Some(false))
                .filter_map(|i| Some((i.unit, i.current?)))
                .collect();
            missed.sort_by(|a, b| {
                if field.lower_is_better {
                    b.1.total_cmp(&a.1)
                } else {
                    a.1.total_cmp(&b.1)
                }
            });
            units_missing_a_target.extend(missed.iter().map(|m| m.0));
            let n = judged.len();
            let _ = write!(s, "目标{bound}{}，", pct(target));
            if own {
                if missed.is_empty() {
                    s.push_str("达到目标");
                } else {
                    missed_any.push(name.clone());
                    s.push_str("未达到目标");
                }
            } else if missed.is_empty() {
                let _ = write!(s, "{n}个乡镇（街道）均达标");
            } else {
                missed_any.push(name.clone());
                if missed.len() == n {
                    let _ = write!(s, "{n}个乡镇（街道）均未达标");
                } else {
                    let _ = write!(
                        s,
                        "{n}个乡镇（街道）中{}个达标、{}个未达标",
                        n - missed.len(),
                        missed.len()
                    );
                }
                if missed.len() <= 5 {
                    let _ = write!(s, "，未达标的是{}", names(reg, &missed));
                } else {
                    let _ = write!(
                        s,
                        "，差距最大的是{}等（名单见表{}）",
                        names(reg, &missed[..3]),
                        tables.get() + 1
                    );
                    long_lists.push((name.clone(), names(reg, &missed)));
                }
            }
        } else if rows.iter().any(|i| i.annual) {
            annual = true;
            s.push_str("为年度指标，年末评价是否达标");
        } else {
            s.push_str("未设目标值");
        }
        let ranked: Vec<(UnitIdx, f64, u32)> = rows
            .iter()
            .filter_map(|i| Some((i.unit, i.current?, i.rank?)))
            .collect();
        if let Some(clause) = ranking(&ranked, |u| reg.unit(u).name.clone()) {
            s.push_str(&clause);
        }
        s.push('。');
        out.push(Block::Text(s));
    }
    if item == 0 {
        out.push(Block::Text(format!("{period}没有可评价的指标数据。")));
    }
    if !long_lists.is_empty() {
        let mut rows = vec![vec!["指标".to_string(), "未达标乡镇（街道）".into()]];
        rows.extend(long_lists.into_iter().map(|(a, b)| vec![a, b]));
        out.push(Block::Table {
            caption: caption("未达标乡镇（街道）名单".into()),
            units: "括号内为本期数值".into(),
            rows,
        });
    }

    // 三、存在的问题 and 四、下一步工作要求: one requirement per problem.
    let mut problems: Vec<String> = Vec::new();
    let mut asks: Vec<String> = Vec::new();
    if !missed_any.is_empty() {
        let which = if missed_any.len() > 3 {
            format!("{}等{}项指标", missed_any[..3].join("、"), missed_any.len())
        } else {
            missed_any.join("、")
        };
        problems.push(if own {
            format!("部分指标未达到目标值：{which}。")
        } else {
            format!(
                "部分指标未达到目标值。{which}有未达标的乡镇（街道），共涉及{}个乡镇（街道）。",
                units_missing_a_target.len()
            )
        });
        asks.push(format!(
            "{}要认真分析原因，逐项制定整改措施，确保{}年度目标任务按期完成。",
            if own {
                "各村（社区）"
            } else {
                "未达标的乡镇（街道）"
            },
            year_of(input.period)
        ));
    }
    if !t.missing_in.is_empty() || !t.late_in.is_empty() {
        // Each unit once; over several months with the months it missed or
        // was late in (南城镇（2月）), as the status board names them.
        let who = |list| {
            super::units_with_months(reg, list, input.period, crate::message::Lang::Zh)
                .collect::<Vec<_>>()
                .join("、")
        };
        let mut s = String::from("报表报送不够及时完整。");
        if !t.missing_in.is_empty() {
            let _ = write!(s, "{}未按要求报送报表", who(&t.missing_in));
        }
        if !t.late_in.is_empty() {
            if !t.missing_in.is_empty() {
                s.push('，');
            }
            let _ = write!(s, "{}逾期报送", who(&t.late_in));
        }
        s.push('。');
        problems.push(s);
        asks.push(format!(
            "各单位要严格执行报送时限，于每月{}日前报送上月报表；未报送的单位要立即补报。",
            input.deadline_day
        ));
    }
    // The data's problems still open (Finding::is_open: a warning someone
    // confirmed is not), less the returns not sent, which are the
    // reporting's problem above and have nothing to correct.
    let open: Vec<&crate::findings::Finding> = input
        .findings
        .iter()
        .filter(|f| f.is_open() && f.rule != crate::findings::Rule::MissingReturn)
        .collect();
    let errors = open
        .iter()
        .filter(|f| f.severity() == Severity::Error)
        .count();
    let warnings = open.len() - errors;
    if errors + warnings > 0 {
        let mut by_rule: Vec<(crate::findings::Rule, usize)> = Vec::new();
        for f in &open {
            match by_rule.iter_mut().find(|(r, _)| *r == f.rule) {
                Some((_, n)) => *n += 1,
                None => by_rule.push((f.rule, 1)),
            }
        }
        by_rule.sort_by_key(|r| std::cmp::Reverse(r.1));
        let list: Vec<String> = by_rule
            .iter()
            .take(3)
            .map(|(r, n)| format!("{}{n}条", r.zh()))
            .collect();
        let found = match (errors, warnings) {
            (0, w) => format!("警告{w}条"),
            (e, 0) => format!("错误{e}条"),
            (e, w) => format!("错误{e}条、警告{w}条"),
        };
        let mainly = if by_rule.len() > 1 {
            format!("，主要是{}", list.join("、"))
        } else {
            format!("，均为{}", list.join("、"))
        };
        problems.push(format!(
            "数据质量有待提高。审核发现{found}尚待处理{mainly}。"
        ));
        asks.push(format!(
            "有关单位要对照退回修改清单逐项核实，更正后重新报送；各{}要加强报表审核，确保数据真实准确。",
            below(root_level)
        ));
    }
    out.push(Block::Heading("三、存在的问题".into()));
    if problems.is_empty() {
        out.push(Block::Text(format!(
            "{period}各项指标均达到目标，报表报送及时完整，审核未发现需要处理的问题。"
        )));
    } else {
        for (n, p) in problems.iter().enumerate() {
            out.push(Block::Text(format!("（{}）{p}", numeral(n + 1))));
        }
    }
    out.push(Block::Heading("四、下一步工作要求".into()));
    if asks.is_empty() {
        asks.push("各单位要继续加强基本公共卫生服务项目管理，保持工作质量，按时报送报表。".into());
    }
    if annual {
        asks.push("年度指标要对照全年目标加强进度管理，确保年末达标。".into());
    }
    for (n, a) in asks.iter().enumerate() {
        out.push(Block::Text(format!("（{}）{a}", numeral(n + 1))));
    }
    out.push(Block::Signature {
        issuer,
        date: input.date.to_string(),
    });
    if let Some(cc) = input.cc {
        out.push(Block::Cc(cc.to_string()));
    }
    out
}

fn year_of(p: Period) -> i32 {
    p.bounds().1.year()
}

/// The fonts of GB/T 9704: 小标宋 for the masthead and title, 黑体 for the
/// first-level headings, 仿宋 for the body, 宋体 for tables and page
/// numbers; figures in Times New Roman.
const XBS: &str = "方正小标宋简体";
const HEI: &str = "黑体";
const FANG: &str = "仿宋_GB2312";
const SONG: &str = "宋体";

/// A run: fonts, bold, colour, size (half-points), in the schema's order.
fn run(text: &str, size: u32, font: &str, bold: bool, color: Option<&str>) -> String {
    format!(
        "<w:r><w:rPr><w:rFonts w:ascii=\"Times New Roman\" w:hAnsi=\"Times New Roman\" w:eastAsia=\"{font}\" w:cs=\"Times New Roman\"/>{}{}<w:sz w:val=\"{size}\"/><w:szCs w:val=\"{size}\"/></w:rPr><w:t xml:space=\"preserve\">{}</w:t></w:r>",
        if bold { "<w:b/>" } else { "" },
        color.map(|c| format!("<w:color w:val=\"{c}\"/>")).unwrap_or_default(),
        esc(text)
    )
}

/// Fixed 28 pt line spacing (GB/T 9704: 22 lines of 28 characters).
const LINE: &str = "<w:spacing w:before=\"0\" w:after=\"0\" w:line=\"560\" w:lineRule=\"exact\"/>";

/// A paragraph: its properties in the schema's order (pBdr, spacing, ind, jc).
/// A paragraph kept on the page of the next: its place in `pPr` is the
/// border's (before it, where the schema puts it), which [`para`] takes first.
const KEEP_NEXT: &str = "<w:keepNext/>";

fn para(border: &str, spacing: &str, ind: &str, jc: &str, runs: &str) -> String {
    let jc = if jc.is_empty() {
        String::new()
    } else {
        format!("<w:jc w:val=\"{jc}\"/>")
    };
    format!("<w:p><w:pPr>{border}{spacing}{ind}{jc}</w:pPr>{runs}</w:p>")
}

/// Text width of A4 less the margins (156 mm), in twentieths of a point.
const TEXT_WIDTH: u32 = 8845;

fn document_xml(blocks: &[Block]) -> String {
    let mut body = String::new();
    let red = Some("FF0000");
    for b in blocks {
        match b {
            Block::Masthead(t) => body.push_str(&para(
                "",
                "<w:spacing w:before=\"0\" w:after=\"240\" w:line=\"240\" w:lineRule=\"auto\"/>",
                "",
                "center",
                &run(t, 60, XBS, false, red),
            )),
            Block::DocNo(t) => body.push_str(&para(
                "<w:pBdr><w:bottom w:val=\"single\" w:sz=\"12\" w:space=\"8\" w:color=\"FF0000\"/></w:pBdr>",
                "<w:spacing w:before=\"240\" w:after=\"560\" w:line=\"560\" w:lineRule=\"exact\"/>",
                "",
                "center",
                &run(t, 32, FANG, false, None),
            )),
            Block::Title(t) => body.push_str(&para(
                "",
                "<w:spacing w:before=\"0\" w:after=\"560\" w:line=\"700\" w:lineRule=\"exact\"/>",
                "",
                "center",
                &run(t, 44, XBS, false, None),
            )),
            Block::To(t) => body.push_str(&para("", LINE, "", "left", &run(t, 32, FANG, false, None))),
            Block::Text(t) => body.push_str(&para(
                "",
                LINE,
                "<w:ind w:firstLineChars=\"200\" w:firstLine=\"640\"/>",
                "both",
                &run(t, 32, FANG, false, None),
            )),
            Block::Heading(t) => body.push_str(&para(
                "",
                LINE,
                "<w:ind w:firstLineChars=\"200\" w:firstLine=\"640\"/>",
                "",
                &run(t, 32, HEI, false, None),
            )),
            Block::Table {
                caption,
                units,
                rows,
            } => {
                // The caption and the units line keep with the table: a
                // caption alone at a page's foot, its table overleaf, was
                // seen on the first render of the 22-dose 通报.
                body.push_str(&para(
                    KEEP_NEXT,
                    "<w:spacing w:before=\"120\" w:after=\"0\" w:line=\"400\" w:lineRule=\"exact\"/>",
                    "",
                    "center",
                    &run(caption, 28, HEI, false, None),
                ));
                body.push_str(&para(
                    KEEP_NEXT,
                    "<w:spacing w:before=\"0\" w:after=\"60\" w:line=\"320\" w:lineRule=\"exact\"/>",
                    "",
                    "right",
                    &run(units, 21, SONG, false, None),
                ));
                body.push_str(&table(rows));
            }
            Block::Signature { issuer, date } => {
                // Two blank lines, then the issuer centred over the date,
                // the date four characters from the right margin.
                body.push_str(&para("", LINE, "", "", ""));
                body.push_str(&para("", LINE, "", "", ""));
                body.push_str(&para(
                    "",
                    LINE,
                    "<w:ind w:right=\"1280\"/>",
                    "right",
                    &run(issuer, 32, FANG, false, None),
                ));
                body.push_str(&para(
                    "",
                    LINE,
                    "<w:ind w:right=\"1280\"/>",
                    "right",
                    &run(date, 32, FANG, false, None),
                ));
            }
            Block::Cc(t) => {
                body.push_str(&para("", LINE, "", "", ""));
                body.push_str(&para(
                    "<w:pBdr><w:top w:val=\"single\" w:sz=\"6\" w:space=\"1\" w:color=\"000000\"/><w:bottom w:val=\"single\" w:sz=\"6\" w:space=\"1\" w:color=\"000000\"/></w:pBdr>",
                    LINE,
                    "<w:ind w:left=\"320\" w:right=\"320\" w:hanging=\"0\"/>",
                    "left",
                    &run(&format!("抄送：{t}。"), 28, FANG, false, None),
                ));
            }
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><w:body>{body}<w:sectPr><w:footerReference w:type=\"default\" r:id=\"rIdFooter\"/><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"2098\" w:right=\"1474\" w:bottom=\"1984\" w:left=\"1588\" w:header=\"851\" w:footer=\"1247\" w:gutter=\"0\"/><w:docGrid w:type=\"linesAndChars\" w:linePitch=\"560\" w:charSpace=\"0\"/></w:sectPr></w:body></w:document>"
    )
}

/// A table with its grid, the header row repeated on every page.
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map_or(1, Vec::len).max(1);
    // Each column as wide as its longest text needs (a CJK character
    // counts two), between 5 and 60 half-characters, scaled to the page.
    let need: Vec<u32> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|t| crate::message::display_width(t) as u32)
                .max()
                .unwrap_or(0)
                .clamp(5, 60)
        })
        .collect();
    let total: u32 = need.iter().sum::<u32>().max(1);
    let mut widths: Vec<u32> = need.iter().map(|n| TEXT_WIDTH * n / total).collect();
    let used: u32 = widths.iter().sum();
    widths[0] += TEXT_WIDTH - used;
    let unit = TEXT_WIDTH / cols as u32;
    let mut t = String::from("<w:tbl><w:tblPr><w:tblW w:w=\"");
    let _ = write!(
        t,
        "{TEXT_WIDTH}\" w:type=\"dxa\"/><w:jc w:val=\"center\"/><w:tblBorders>"
    );
    for side in ["top", "left", "bottom", "right", "insideH", "insideV"] {
        let _ = write!(
            t,
            "<w:{side} w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
        );
    }
    t.push_str("</w:tblBorders><w:tblLayout w:type=\"fixed\"/></w:tblPr><w:tblGrid>");
    for w in &widths {
        let _ = write!(t, "<w:gridCol w:w=\"{w}\"/>");
    }
    t.push_str("</w:tblGrid>");
    for (i, row) in rows.iter().enumerate() {
        t.push_str("<w:tr>");
        if i == 0 {
            t.push_str("<w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>");
        } else {
            t.push_str("<w:trPr><w:cantSplit/></w:trPr>");
        }
        for (c, cell) in row.iter().enumerate() {
            let w = widths.get(c).copied().unwrap_or(unit);
            let _ = write!(
                t,
                "<w:tc><w:tcPr><w:tcW w:w=\"{w}\" w:type=\"dxa\"/><w:vAlign w:val=\"center\"/></w:tcPr>{}</w:tc>",
                para(
                    "",
                    "<w:spacing w:before=\"0\" w:after=\"0\" w:line=\"300\" w:lineRule=\"exact\"/>",
                    "",
                    if c == 0 && i > 0 { "left" } else { "center" },
                    &run(cell, 21, SONG, i == 0, None),
                )
            );
        }
        t.push_str("</w:tr>");
    }
    t.push_str("</w:tbl>");
    t
}

/// The footer: the page number as `— 1 —`, 4号 宋体, centred.
const FOOTER: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:ftr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:rPr><w:rFonts w:ascii="宋体" w:hAnsi="宋体" w:eastAsia="宋体"/><w:sz w:val="28"/></w:rPr><w:t xml:space="preserve">— </w:t></w:r><w:fldSimple w:instr=" PAGE "><w:r><w:rPr><w:rFonts w:ascii="宋体" w:hAnsi="宋体" w:eastAsia="宋体"/><w:sz w:val="28"/></w:rPr><w:t>1</w:t></w:r></w:fldSimple><w:r><w:rPr><w:rFonts w:ascii="宋体" w:hAnsi="宋体" w:eastAsia="宋体"/><w:sz w:val="28"/></w:rPr><w:t xml:space="preserve"> —</w:t></w:r></w:p></w:ftr>"#;

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/></Types>"#;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;

const DOCUMENT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdFooter" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/></Relationships>"#;

/// The 通报 as `.docx` bytes.
///
/// # Errors
/// Only a failure of the zip writer.
pub fn bulletin_docx(input: &BulletinInput<'_>) -> std::io::Result<Vec<u8>> {
    let xml = document_xml(&blocks(input));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", RELS),
        ("word/_rels/document.xml.rels", DOCUMENT_RELS),
        ("word/document.xml", xml.as_str()),
        ("word/footer1.xml", FOOTER),
    ] {
        zip.start_file(name, opts).map_err(std::io::Error::other)?;
        zip.write_all(data.as_bytes())?;
    }
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_are_named_together_and_never_both_best_and_worst() {
        // The unit's number for its name.
        let say = |ranked: &[(UnitIdx, f64, u32)]| ranking(ranked, |u| format!("U{u}"));
        // Three are too few to rank.
        assert_eq!(say(&[(1, 90.0, 1), (2, 80.0, 2), (3, 70.0, 3)]), None);
        // Six distinct figures: three and three, the worst first.
        let six: Vec<(UnitIdx, f64, u32)> = (1..=6).map(|u| (u, 100.0 - f64::from(u), u)).collect();
        assert_eq!(
            say(&six).unwrap(),
            "；排名前三位的是U1（99.0%）、U2（98.0%）、U3（97.0%），后三位的是U6（94.0%）、U5（95.0%）、U4（96.0%）"
        );
        // Every figure the same: none ranked above another.
        let same: Vec<(UnitIdx, f64, u32)> = (1..=6).map(|u| (u, 100.0, 1)).collect();
        assert_eq!(say(&same).unwrap(), "；各乡镇（街道）均为100.0%");
        // Four tied first of six: all four share the first place, and the
        // last two are only among the worst.
        let four = [
            (1, 100.0, 1),
            (2, 100.0, 1),
            (3, 100.0, 1),
            (4, 100.0, 1),
            (5, 90.0, 5),
            (6, 80.0, 6),
        ];
        assert_eq!(
            say(&four).unwrap(),
            "；U1、U2、U3、U4并列第一（均为100.0%），后两位的是U6（80.0%）、U5（90.0%）"
        );
        // Five tied first of six: the sixth alone at the bottom.
        let five = [
            (1, 100.0, 1),
            (2, 100.0, 1),
            (3, 100.0, 1),
            (4, 100.0, 1),
            (5, 100.0, 1),
            (6, 95.2, 6),
        ];
        assert_eq!(
            say(&five).unwrap(),
            "；U1、U2、U3、U4、U5并列第一（均为100.0%），排名最后的是U6（95.2%）"
        );
        // A tie at the bottom: both named among the last three, and the
        // fourth (three below it) not.
        let bottom = [
            (1, 99.0, 1),
            (2, 98.0, 2),
            (3, 97.0, 3),
            (4, 96.0, 4),
            (7, 95.0, 5),
            (5, 90.0, 6),
            (6, 90.0, 6),
        ];
        assert_eq!(
            say(&bottom).unwrap(),
            "；排名前三位的是U1（99.0%）、U2（98.0%）、U3（97.0%），后三位的是U6（90.0%）、U5（90.0%）、U7（95.0%）"
        );
        // A tie across the third place: named with it.
        let third = [
            (1, 99.0, 1),
            (2, 98.0, 2),
            (3, 97.0, 3),
            (4, 97.0, 3),
            (5, 90.0, 5),
            (6, 80.0, 6),
            (7, 70.0, 7),
            (8, 60.0, 8),
        ];
        assert_eq!(
            say(&third).unwrap(),
            "；排名前三位的是U1（99.0%）、U2（98.0%）、U3（97.0%）、U4（97.0%）（含并列），后三位的是U8（60.0%）、U7（70.0%）、U6（80.0%）"
        );
        // Forty tied first of fifty, and eight tied last: counted, not named.
        let many: Vec<(UnitIdx, f64, u32)> = (1..=50)
            .map(|u| match u {
                1..=40 => (u, 100.0, 1),
                41..=42 => (u, 90.0, 41),
                _ => (u, 0.0, 43),
            })
            .collect();
        assert_eq!(
            say(&many).unwrap(),
            "；40个乡镇（街道）并列第一（均为100.0%），后三位的有8个乡镇（街道）（含并列，均为0.0%）"
        );
        // Seven at the bottom of two figures: counted, no one figure said.
        let mixed: Vec<(UnitIdx, f64, u32)> = (1..=20)
            .map(|u| match u {
                1..=12 => (u, 100.0 - f64::from(u), u),
                13..=19 => (u, 50.0, 13),
                _ => (u, 40.0, 20),
            })
            .collect();
        assert_eq!(
            say(&mixed).unwrap(),
            "；排名前三位的是U1（99.0%）、U2（98.0%）、U3（97.0%），后三位的有8个乡镇（街道）（含并列）"
        );
        // Four units, every one ranked second but the first: no worst
        // place is left that is not also among the best two.
        let flat = [(1, 99.0, 1), (2, 98.0, 2), (3, 98.0, 2), (4, 98.0, 2)];
        assert_eq!(
            say(&flat).unwrap(),
            "；排名前两位的是U1（99.0%）、U2（98.0%）、U3（98.0%）、U4（98.0%）（含并列）"
        );
    }

    #[test]
    fn the_whole_area_is_named_as_its_own_kind() {
        for (level, name, word) in [
            (Level::City, "青山市", "全市"),
            (Level::County, "西岭县", "全县"),
            (Level::County, "东湖区", "全区"),
            (Level::County, "青溪市", "全市"),
            (Level::County, "达茂旗", "全旗"),
            (Level::Township, "新城乡", "全乡"),
            (Level::Township, "北城镇", "全镇"),
            (Level::Township, "西城街道", "全街道"),
            (Level::County, "青山经济开发区管委会", "全县（区）"),
            (Level::City, "青山", "全市"),
        ] {
            assert_eq!(whole(level, name), word, "{name}");
        }
    }

    #[test]
    fn every_item_has_its_number_past_ten() {
        let cases = [
            (1, "一"),
            (9, "九"),
            (10, "十"),
            (11, "十一"),
            (19, "十九"),
            (20, "二十"),
            (29, "二十九"),
            (99, "九十九"),
            (100, "一百"),
            (101, "一百零一"),
            (110, "一百一十"),
            (111, "一百一十一"),
            (305, "三百零五"),
            (1000, "一千"),
            (1001, "一千零一"),
            (1010, "一千零一十"),
            (1100, "一千一百"),
            (2026, "二千零二十六"),
            (9999, "九千九百九十九"),
            (10_000, "10000"),
        ];
        for (n, written) in cases {
            assert_eq!(numeral(n), written, "{n}");
        }
    }

    #[test]
    fn changes_are_said_without_a_space() {
        assert_eq!(moved(1.26), "提高1.3个百分点");
        assert_eq!(moved(-0.5), "下降0.5个百分点");
        assert_eq!(moved(0.02), "持平");
        assert_eq!(pct(59.84), "59.8%");
    }
}
