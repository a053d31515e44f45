//! The month's status board (`phstats status`): per form who has sent, who
//! has not, who was late, the returns waiting on a correction, and the open
//! findings per township down to their villages. The same board is printed
//! on one terminal screen and written as one self-contained HTML page.
//!
//! Every count comes from the run's 上报情况 rows ([`Tally`] sums them, the
//! one owner of 上报率 and 及时率) and its findings: the board decides
//! nothing of its own.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::escape_markup as esc;
use crate::findings::{Finding, Severity};
use crate::message::{display_width, month_label, Lang};
use crate::observation::ReturnStatus;
use crate::period::{Month, Period};
use crate::pipeline::Outcome;
use crate::registry::{Registry, UnitIdx};
use crate::schema::{FormIdx, Schemas};
use crate::validate::returns::{expected_units, Tally};

/// One form's returns of one expected unit over the period's months.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    /// Months the unit was expected to send the form.
    pub months: usize,
    /// Months it did (its own return, or its row in a summary from above).
    pub received: usize,
    /// Of those, months it was late.
    pub late: usize,
    /// Months whose return waits on a correction (a duplicate).
    pub waiting: usize,
}

impl Sent {
    /// Months with nothing received and nothing waiting.
    #[must_use]
    pub fn missing(&self) -> usize {
        self.months - self.received - self.waiting
    }
}

/// Returns of one unit, form and month that wait on a correction: different
/// figures, none marked 更正, so none counts (FORMS.md §4).
#[derive(Debug, Clone)]
pub struct Waiting {
    /// The unit.
    pub unit: UnitIdx,
    /// The form.
    pub form: FormIdx,
    /// The month.
    pub month: Month,
    /// `file!sheet` of each copy.
    pub copies: Vec<String>,
}

/// One expected unit (a township): its returns and its open findings.
#[derive(Debug, Clone)]
pub struct UnitLine<'a> {
    /// The unit.
    pub unit: UnitIdx,
    /// Per form of the board, in its order.
    pub sent: Vec<Sent>,
    /// Findings about the unit itself or its return as a whole.
    pub own: Vec<&'a Finding>,
    /// Each child (village), in registry order, with its findings.
    pub children: Vec<(UnitIdx, Vec<&'a Finding>)>,
}

impl UnitLine<'_> {
    /// Its open findings of `severity`, its children's included.
    #[must_use]
    pub fn count(&self, severity: Severity) -> usize {
        self.own
            .iter()
            .chain(self.children.iter().flat_map(|(_, f)| f))
            .filter(|f| f.is_open() && f.severity() == severity)
            .count()
    }
}

/// The board of one period.
pub struct Board<'a> {
    /// Units.
    pub registry: &'a Registry,
    /// Forms.
    pub schemas: &'a Schemas,
    /// The period.
    pub period: Period,
    /// The store's generation in force.
    pub generation: u64,
    /// Each form expected in the period, with its 上报情况 summed.
    pub forms: Vec<(FormIdx, Tally)>,
    /// Returns waiting on a correction.
    pub waiting: Vec<Waiting>,
    /// The expected units, in registry order.
    pub units: Vec<UnitLine<'a>>,
    /// Open findings tied to no expected unit (an unreadable file, a county's
    /// own summary).
    pub elsewhere: Vec<&'a Finding>,
}

impl<'a> Board<'a> {
    /// The board of `outcome`'s period. `None` when the run has no period.
    #[must_use]
    pub fn build(
        outcome: &'a Outcome,
        registry: &'a Registry,
        schemas: &'a Schemas,
        generation: u64,
    ) -> Option<Board<'a>> {
        let period = outcome.focus?;
        let rows: Vec<_> = outcome
            .completeness
            .iter()
            .filter(|c| period.contains(c.month))
            .collect();
        let mut form_ids: Vec<FormIdx> = rows.iter().map(|c| c.form).collect();
        form_ids.sort_unstable();
        form_ids.dedup();
        let forms: Vec<(FormIdx, Tally)> = form_ids
            .iter()
            .map(|&f| (f, Tally::of(rows.iter().copied(), period, |c| c.form == f)))
            .collect();
        let batch = &outcome.batch;
        let mut waiting: BTreeMap<(UnitIdx, FormIdx, Month), Vec<String>> = BTreeMap::new();
        for (i, r) in batch.returns.iter().enumerate() {
            if r.status == ReturnStatus::Duplicate && period.contains(r.month) {
                waiting
                    .entry((r.unit, r.form, r.month))
                    .or_default()
                    .push(format!("{}!{}", batch.file_of(i as u32), r.sheet));
            }
        }
        let expected = expected_units(registry);
        let mut line_of = vec![usize::MAX; registry.units.len()];
        let mut units: Vec<UnitLine<'a>> = expected
            .iter()
            .enumerate()
            .map(|(k, &u)| {
                line_of[u as usize] = k;
                let unit = registry.unit(u);
                UnitLine {
                    unit: u,
                    sent: vec![Sent::default(); form_ids.len()],
                    own: Vec::new(),
                    children: unit.children.iter().map(|&c| (c, Vec::new())).collect(),
                }
            })
            .collect();
        for c in &rows {
            let Ok(k) = form_ids.binary_search(&c.form) else {
                continue;
            };
            for line in units
                .iter_mut()
                .filter(|l| registry.unit(l.unit).level == c.level)
            {
                let s = &mut line.sent[k];
                s.months += 1;
                if waiting.contains_key(&(line.unit, c.form, c.month)) {
                    s.waiting += 1;
                } else if !c.missing.contains(&line.unit) {
                    s.received += 1;
                    s.late += usize::from(c.late.contains(&line.unit));
                }
            }
        }
        // A finding belongs to the expected unit above the unit it names,
        // else to the unit of the return its file holds.
        let unit_of_file: std::collections::HashMap<&str, UnitIdx> = batch
            .returns
            .iter()
            .map(|r| (batch.files[r.file as usize].as_str(), r.unit))
            .collect();
        let mut elsewhere = Vec::new();
        for f in outcome
            .findings
            .iter()
            .filter(|f| f.severity() != Severity::Info)
        {
            let unit = f
                .unit_code
                .and_then(|c| registry.by_code(c))
                .or_else(|| f.file.as_deref().and_then(|x| unit_of_file.get(x).copied()));
            let owner = unit.and_then(|u| {
                registry
                    .ancestors_and_self(u)
                    .find(|&a| line_of[a as usize] != usize::MAX)
                    .map(|a| (a, u))
            });
            match owner {
                Some((a, u)) if a == u => units[line_of[a as usize]].own.push(f),
                Some((a, u)) => {
                    let line = &mut units[line_of[a as usize]];
                    match line.children.iter_mut().find(|(c, _)| *c == u) {
                        Some((_, list)) => list.push(f),
                        None => line.own.push(f),
                    }
                }
                None => elsewhere.push(f),
            }
        }
        Some(Board {
            registry,
            schemas,
            period,
            generation,
            forms,
            waiting: waiting
                .into_iter()
                .map(|((unit, form, month), copies)| Waiting {
                    unit,
                    form,
                    month,
                    copies,
                })
                .collect(),
            units,
            elsewhere,
        })
    }

    /// The root of the board's registry (the city, or the scope).
    fn root_name(&self) -> &str {
        self.registry
            .root()
            .map_or("", |r| self.registry.unit(r).name.as_str())
    }

    /// Open findings of `severity` on the board.
    #[must_use]
    pub fn count(&self, severity: Severity) -> usize {
        self.units.iter().map(|l| l.count(severity)).sum::<usize>()
            + self
                .elsewhere
                .iter()
                .filter(|f| f.is_open() && f.severity() == severity)
                .count()
    }

    /// Findings confirmed by a statistician (已核实): shown, not open.
    #[must_use]
    pub fn confirmed(&self) -> usize {
        self.units
            .iter()
            .flat_map(|l| l.own.iter().chain(l.children.iter().flat_map(|(_, f)| f)))
            .chain(&self.elsewhere)
            .filter(|f| f.confirmed.is_some())
            .count()
    }

    /// The title line: `青山市 2026年3月 报表进度（数据库第 5 版）`.
    #[must_use]
    pub fn title(&self, lang: Lang) -> String {
        let p = super::period_label(self.period, lang);
        match lang {
            Lang::Zh => format!(
                "{} {p} 报表进度（数据库第 {} 版）",
                self.root_name(),
                self.generation
            ),
            Lang::En => format!(
                "{}, {p}: returns so far (store generation {})",
                self.root_name(),
                self.generation
            ),
        }
    }

    /// The names of the units of `list` ([`Tally::missing_in`],
    /// [`Tally::late_in`]), at most `max` of them; in a period of several
    /// months, each with its months: `东城街道（10月、12月）`.
    fn names(&self, list: &[(UnitIdx, Month)], max: usize, lang: Lang) -> String {
        let units = Tally::by_unit(list).count();
        let mut s: Vec<String> = super::units_with_months(self.registry, list, self.period, lang)
            .take(max)
            .collect();
        let more = units.saturating_sub(max);
        let sep = lang.pick("、", ", ");
        let mut out = if s.is_empty() {
            "—".to_string()
        } else {
            std::mem::take(&mut s).join(sep)
        };
        if more > 0 {
            let _ = match lang {
                Lang::Zh => write!(out, " 等 {units} 个"),
                Lang::En => write!(out, " and {more} more"),
            };
        }
        out
    }

    /// The board on one terminal screen, in `lang`.
    #[must_use]
    pub fn terminal(&self, lang: Lang) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.title(lang));
        if self.forms.is_empty() {
            let _ = writeln!(
                out,
                "{}",
                lang.pick(
                    "本期没有应报的报表。",
                    "No return is expected in this period."
                )
            );
            return out;
        }
        let head = match lang {
            Lang::Zh => ["报表", "应报", "已收", "上报率", "及时率", "未报单位"],
            Lang::En => [
                "Form", "Expected", "Received", "Complete", "On time", "Missing",
            ],
        };
        let form_width = self
            .forms
            .iter()
            .map(|(f, _)| display_width(self.schemas.form(*f).short_in(lang)))
            .max()
            .unwrap_or(0)
            .max(display_width(head[0]));
        let _ = writeln!(
            out,
            "{}  {}  {}  {}  {}  {}",
            pad(head[0], form_width),
            pad_left(head[1], 8),
            pad_left(head[2], 8),
            pad_left(head[3], 8),
            pad_left(head[4], 8),
            head[5]
        );
        for (f, t) in &self.forms {
            let _ = writeln!(
                out,
                "{}  {:>8}  {:>8}  {:>8}  {:>8}  {}",
                pad(self.schemas.form(*f).short_in(lang), form_width),
                t.expected,
                t.reported,
                percent(t.rate()),
                percent(t.timeliness()),
                self.names(&t.missing_in, 8, lang)
            );
        }
        for (f, t) in self.forms.iter().filter(|(_, t)| t.late > 0) {
            let _ = match lang {
                Lang::Zh => writeln!(
                    out,
                    "逾期（{}）{} 份：{}",
                    self.schemas.form(*f).short_in(lang),
                    t.late,
                    self.names(&t.late_in, 8, lang)
                ),
                Lang::En => writeln!(
                    out,
                    "Late ({}), {}: {}",
                    self.schemas.form(*f).short_in(lang),
                    t.late,
                    self.names(&t.late_in, 8, lang)
                ),
            };
        }
        if !self.waiting.is_empty() {
            let _ = match lang {
                Lang::Zh => writeln!(
                    out,
                    "待更正的重复报表 {} 组（各份数字不同，均未计入，请将正确的一份标注“更正”重新报送）：",
                    self.waiting.len()
                ),
                Lang::En => writeln!(
                    out,
                    "Duplicates awaiting a correction: {} (none counts until one is marked 更正):",
                    self.waiting.len()
                ),
            };
            for w in self.waiting.iter().take(5) {
                let _ = writeln!(
                    out,
                    "  {} {} {}：{}",
                    self.registry.unit(w.unit).name,
                    self.schemas.form(w.form).short_in(lang),
                    month_label(w.month, lang),
                    crate::message::terminal_text(&w.copies.join(lang.pick("、", ", ")))
                );
            }
            if self.waiting.len() > 5 {
                let _ = writeln!(out, "  …");
            }
        }
        let (errors, warnings) = (self.count(Severity::Error), self.count(Severity::Warning));
        let _ = match lang {
            Lang::Zh => writeln!(out, "未解决的问题：错误 {errors} 条，警告 {warnings} 条"),
            Lang::En => writeln!(out, "Open findings: {errors} errors, {warnings} warnings"),
        };
        let confirmed = self.confirmed();
        if confirmed > 0 {
            let _ = match lang {
                Lang::Zh => writeln!(out, "已核实（不计入未解决）：{confirmed} 条"),
                Lang::En => writeln!(out, "Confirmed (not open): {confirmed}"),
            };
        }
        let mut with_errors: Vec<&UnitLine<'_>> = self
            .units
            .iter()
            .filter(|l| l.count(Severity::Error) > 0)
            .collect();
        with_errors.sort_by_key(|l| std::cmp::Reverse(l.count(Severity::Error)));
        let shown = 10;
        let name_width = with_errors
            .iter()
            .take(shown)
            .map(|l| display_width(&self.registry.unit(l.unit).name))
            .max()
            .unwrap_or(0);
        for l in with_errors.iter().take(shown) {
            let _ = match lang {
                Lang::Zh => writeln!(
                    out,
                    "  {}  错误 {:>4}  警告 {:>4}",
                    pad(&self.registry.unit(l.unit).name, name_width),
                    l.count(Severity::Error),
                    l.count(Severity::Warning)
                ),
                Lang::En => writeln!(
                    out,
                    "  {}  errors {:>4}  warnings {:>4}",
                    pad(&self.registry.unit(l.unit).name, name_width),
                    l.count(Severity::Error),
                    l.count(Severity::Warning)
                ),
            };
        }
        if with_errors.len() > shown {
            let _ = match lang {
                Lang::Zh => writeln!(
                    out,
                    "  另有 {} 个单位有错误（见 --html 或 check）",
                    with_errors.len() - shown
                ),
                Lang::En => writeln!(
                    out,
                    "  {} more units with errors (see --html or check)",
                    with_errors.len() - shown
                ),
            };
        }
        let elsewhere = self
            .elsewhere
            .iter()
            .filter(|f| f.severity() == Severity::Error)
            .count();
        if elsewhere > 0 {
            let _ = match lang {
                Lang::Zh => writeln!(out, "  不属于任何乡镇（街道）的错误 {elsewhere} 条"),
                Lang::En => writeln!(out, "  {elsewhere} errors tied to no township"),
            };
        }
        out
    }

    /// The board as one self-contained HTML page: no script, no network;
    /// each township a `<details>` that opens to its villages and findings.
    #[must_use]
    pub fn html(&self, lang: Lang) -> String {
        let mut h = String::with_capacity(64 * 1024);
        let title = esc(&self.title(lang));
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title><style>{CSS}</style></head><body>\n<h1>{title}</h1>",
            lang.pick("zh-CN", "en")
        );
        // Per form.
        let head = match lang {
            Lang::Zh => [
                "报表",
                "应报",
                "已收",
                "上报率",
                "及时率",
                "逾期",
                "未报单位",
            ],
            Lang::En => [
                "Form", "Expected", "Received", "Complete", "On time", "Late", "Missing",
            ],
        };
        let _ = write!(h, "<table class=\"forms\"><thead><tr>");
        for x in head {
            let _ = write!(h, "<th>{x}</th>");
        }
        let _ = write!(h, "</tr></thead><tbody>");
        for (f, t) in &self.forms {
            let rate = t.rate().unwrap_or(0.0);
            let _ = write!(
                h,
                "<tr data-form=\"{id}\"><td>{title}</td>\
                 <td class=\"n\" data-k=\"expected\">{e}</td>\
                 <td class=\"n\" data-k=\"reported\">{r}</td>\
                 <td class=\"bar\"><span class=\"fill\" style=\"width:{w:.1}%\"></span>\
                 <span class=\"pct\" data-k=\"rate\">{rp}</span></td>\
                 <td class=\"n\" data-k=\"timeliness\">{tp}</td>\
                 <td class=\"n\" data-k=\"late\">{late}</td>\
                 <td class=\"names\">{missing}</td></tr>",
                id = esc(&self.schemas.form(*f).id),
                title = esc(self.schemas.form(*f).title_in(lang)),
                e = t.expected,
                r = t.reported,
                w = rate.clamp(0.0, 100.0),
                rp = percent(t.rate()),
                tp = percent(t.timeliness()),
                late = t.late,
                missing = esc(&self.names(&t.missing_in, usize::MAX, lang)),
            );
        }
        let _ = write!(h, "</tbody></table>");
        // Waiting on a correction.
        if !self.waiting.is_empty() {
            let _ = write!(
                h,
                "<h2>{} <span data-k=\"waiting\">{}</span></h2><ul class=\"waiting\">",
                lang.pick("待更正的重复报表", "Duplicates awaiting a correction"),
                self.waiting.len()
            );
            for w in &self.waiting {
                let _ = write!(
                    h,
                    "<li>{} · {} · {}：{}</li>",
                    esc(&self.registry.unit(w.unit).name),
                    esc(self.schemas.form(w.form).short_in(lang)),
                    esc(&month_label(w.month, lang)),
                    w.copies
                        .iter()
                        .map(|c| format!("<code>{}</code>", esc(c)))
                        .collect::<Vec<_>>()
                        .join(lang.pick("、", ", "))
                );
            }
            let _ = write!(h, "</ul>");
        }
        // Per township.
        let (errors, warnings) = (self.count(Severity::Error), self.count(Severity::Warning));
        let _ = write!(
            h,
            "<h2>{}</h2><p class=\"totals\">{} <b data-k=\"errors\">{errors}</b>　{} <b data-k=\"warnings\">{warnings}</b></p>",
            lang.pick("各单位报送情况与未解决的问题", "Each unit's returns and open findings"),
            lang.pick("错误", "Errors"),
            lang.pick("警告", "Warnings"),
        );
        // Grouped by county where there are several, each headed with its
        // own counts: 150 townships read as a dozen short lists.
        let parent = |l: &UnitLine<'_>| self.registry.unit(l.unit).parent;
        let grouped = self
            .units
            .windows(2)
            .any(|w| parent(&w[0]) != parent(&w[1]));
        let _ = write!(h, "<div class=\"units\">");
        for group in self.units.chunk_by(|a, b| parent(a) == parent(b)) {
            if let (true, Some(p)) = (grouped, parent(&group[0])) {
                let sent: usize = group.iter().flat_map(|l| &l.sent).map(|s| s.received).sum();
                let months: usize = group.iter().flat_map(|l| &l.sent).map(|s| s.months).sum();
                let errors: usize = group.iter().map(|l| l.count(Severity::Error)).sum();
                let _ = write!(
                    h,
                    "<h3>{} <span class=\"sub\">{}</span></h3>",
                    esc(&self.registry.unit(p).name),
                    match lang {
                        Lang::Zh => format!(
                            "{} 个乡镇（街道），已收 {sent}/{months} 份，错误 {errors} 条",
                            group.len()
                        ),
                        Lang::En => format!(
                            "{} townships, {sent}/{months} returns received, {errors} errors",
                            group.len()
                        ),
                    }
                );
            }
            for l in group {
                self.unit_html(&mut h, l, lang);
            }
        }
        let _ = write!(h, "</div>");
        if !self.elsewhere.is_empty() {
            let _ = write!(
                h,
                "<details class=\"unit\"><summary><span class=\"name\">{}</span>{}</summary><ul class=\"findings\">",
                lang.pick("不属于任何乡镇（街道）的问题", "Findings tied to no township"),
                counts_html(&self.elsewhere, lang)
            );
            for f in &self.elsewhere {
                finding_html(&mut h, f, lang);
            }
            let _ = write!(h, "</ul></details>");
        }
        let _ = write!(
            h,
            "<footer>{}</footer></body></html>",
            esc(&format!(
                "phstats {} · {}",
                env!("CARGO_PKG_VERSION"),
                lang.pick(
                    "点击单位名称展开其下各村（社区）及问题所在的单元格",
                    "Click a unit to open its villages and the cells of its findings"
                )
            ))
        );
        h
    }

    fn unit_html(&self, h: &mut String, l: &UnitLine<'_>, lang: Lang) {
        let unit = self.registry.unit(l.unit);
        let errors = l.count(Severity::Error);
        let class = if errors > 0 { "unit bad" } else { "unit" };
        let _ = write!(
            h,
            "<details class=\"{class}\" data-unit=\"{}\"><summary><span class=\"name\">{}</span>",
            unit.code,
            esc(&unit.name)
        );
        for ((f, _), s) in self.forms.iter().zip(&l.sent) {
            let short = esc(self.schemas.form(*f).short_in(lang));
            let (class, text) = if s.months == 0 {
                ("chip", String::from("—"))
            } else if s.waiting > 0 {
                ("chip wait", lang.pick("待更正", "duplicate").to_string())
            } else if s.missing() > 0 {
                ("chip miss", lang.pick("未报", "missing").to_string())
            } else if s.late > 0 {
                ("chip late", lang.pick("逾期", "late").to_string())
            } else {
                ("chip ok", lang.pick("已报", "received").to_string())
            };
            let months = if s.months > 1 {
                format!(" {}/{}", s.received, s.months)
            } else {
                String::new()
            };
            let _ = write!(h, "<span class=\"{class}\">{short} {text}{months}</span>");
        }
        let mine: Vec<&Finding> = l
            .own
            .iter()
            .chain(l.children.iter().flat_map(|(_, f)| f))
            .copied()
            .collect();
        let _ = write!(h, "{}</summary>", counts_html(&mine, lang));
        if !l.own.is_empty() {
            let _ = write!(h, "<ul class=\"findings\">");
            for f in &l.own {
                finding_html(h, f, lang);
            }
            let _ = write!(h, "</ul>");
        }
        let quiet: Vec<&str> = l
            .children
            .iter()
            .filter(|(_, f)| f.is_empty())
            .map(|(c, _)| self.registry.unit(*c).name.as_str())
            .collect();
        for (c, found) in l.children.iter().filter(|(_, f)| !f.is_empty()) {
            let _ = write!(
                h,
                "<details class=\"village\"><summary><span class=\"name\">{}</span>{}</summary><ul class=\"findings\">",
                esc(&self.registry.unit(*c).name),
                counts_html(found, lang)
            );
            for f in found {
                finding_html(h, f, lang);
            }
            let _ = write!(h, "</ul></details>");
        }
        if !quiet.is_empty() {
            let _ = write!(
                h,
                "<p class=\"quiet\">{}{}</p>",
                lang.pick("无问题：", "No findings: "),
                esc(&quiet.join(lang.pick("、", ", ")))
            );
        }
        let _ = write!(h, "</details>");
    }
}

/// `错误 3 警告 1` as badges.
fn counts_html(found: &[&Finding], lang: Lang) -> String {
    let n = |s: Severity| {
        found
            .iter()
            .filter(|f| f.is_open() && f.severity() == s)
            .count()
    };
    let (e, w) = (n(Severity::Error), n(Severity::Warning));
    let mut out = String::new();
    if e > 0 {
        let _ = write!(
            out,
            "<span class=\"badge err\" data-k=\"unit-errors\">{} {e}</span>",
            lang.pick("错误", "errors")
        );
    }
    if w > 0 {
        let _ = write!(
            out,
            "<span class=\"badge warn\">{} {w}</span>",
            lang.pick("警告", "warnings")
        );
    }
    out
}

fn finding_html(h: &mut String, f: &Finding, lang: Lang) {
    let class = match (f.confirmed.is_some(), f.severity()) {
        (true, _) => "done",
        (_, Severity::Error) => "err",
        (_, Severity::Warning) => "warn",
        (_, Severity::Info) => "info",
    };
    let _ = write!(
        h,
        "<li class=\"{class}\" data-id=\"{id}\"><span class=\"sev\">{}</span> <code>{}</code> {} <span class=\"fid\">{id}</span></li>",
        f.severity_label(lang),
        esc(&f.location()),
        esc(&f.message_with_help(lang)),
        id = f.id()
    );
}

const CSS: &str = "body{font-family:'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',sans-serif;margin:24px;color:#222;max-width:1200px}\
h1{font-size:22px;margin:0 0 16px}h2{font-size:17px;margin:24px 0 8px}\
table.forms{border-collapse:collapse;width:100%}table.forms th,table.forms td{border:1px solid #ccc;padding:6px 8px;font-size:14px}\
table.forms th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}\
td.bar{position:relative;min-width:140px}td.bar .fill{position:absolute;left:0;top:0;bottom:0;background:#cfe8cf}\
td.bar .pct{position:relative;font-variant-numeric:tabular-nums}td.names{font-size:13px}\
details.unit{border-bottom:1px solid #e3e3e3;padding:4px 0}details.unit>summary{cursor:pointer;font-size:14px}\
details.unit.bad>summary .name{color:#b00020}.name{display:inline-block;min-width:9em;font-weight:600}\
.chip{display:inline-block;margin:0 4px;padding:1px 6px;border-radius:3px;font-size:12px;background:#eee}\
.chip.ok{background:#dff0d8}.chip.miss{background:#f8d7da}.chip.late{background:#fff3cd}.chip.wait{background:#d9e7ff}\
.badge{display:inline-block;margin-left:6px;padding:1px 6px;border-radius:8px;font-size:12px}\
.badge.err{background:#b00020;color:#fff}.badge.warn{background:#f0ad4e;color:#fff}\
details.village{margin-left:2em}ul.findings{margin:4px 0 8px 2em;padding:0;list-style:none;font-size:13px}\
ul.findings li{margin:2px 0}li.err .sev{color:#b00020;font-weight:600}li.warn .sev{color:#a86500}\
code{background:#f6f6f6;padding:0 3px}li.done{color:#777}li.done .sev{color:#2e7d32}.fid{color:#999;font-size:11px;font-family:monospace}p.quiet{margin:2px 0 6px 2em;color:#777;font-size:12px}\
footer{margin-top:24px;color:#888;font-size:12px}\
h3{font-size:15px;margin:18px 0 4px;padding:4px 0;border-bottom:2px solid #999}h3 .sub{font-weight:normal;color:#555;font-size:13px;margin-left:1em}";

/// `90.0%`, or `—` without a base.
fn percent(v: Option<f64>) -> String {
    v.map_or_else(
        || "—".into(),
        |v| format!("{:.1}%", crate::indicators::published(v)),
    )
}

fn pad_left(s: &str, w: usize) -> String {
    let mut out: String = std::iter::repeat_n(' ', w.saturating_sub(display_width(s))).collect();
    out.push_str(s);
    out
}

fn pad(s: &str, w: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(display_width(s))));
    out
}
