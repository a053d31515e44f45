//! `phstats changes --store DIR --period P --since DATE|GENERATION [--scope U]`:
//! what moved since a report went up. Every published figure (city, county,
//! township) of the period that differs between the generation then and
//! the one in force now, old → new, with the submissions that moved it
//! (counted now and not then, or then and not now).

use std::collections::HashMap;
use std::path::PathBuf;

use super::store::Opened;
use super::Langs;
use crate::indicators::published;
use crate::message::{num, Lang};
use crate::registry::{Level, UnitIdx};
use crate::store::{Status, Submission};

/// Arguments of `changes`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store folder.
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// The period of the figures compared.
    #[arg(long, value_name = "P")]
    pub period: String,
    /// The generation (`3`) or the day (`2026-04-10`) of the report sent.
    #[arg(long, value_name = "DATE|GENERATION")]
    pub since: String,
    /// One county or township (code or name).
    #[arg(long, value_name = "CODE")]
    pub scope: Option<String>,
    /// The unit registry CSV (default: the one the store ingested with).
    #[arg(long, value_name = "UNITS.csv")]
    pub units: Option<PathBuf>,
    /// Read form schemas from this directory instead of the built-in three.
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,
}

/// One published figure that moved.
struct Moved {
    unit: UnitIdx,
    form: crate::schema::FormIdx,
    field: crate::schema::FieldIdx,
    then: Option<f64>,
    now: Option<f64>,
}

/// Runs `changes`.
///
/// # Errors
/// A bad store, period, scope or `--since`.
pub fn run(args: &Args, langs: Langs) -> anyhow::Result<i32> {
    let lang = langs.terminal;
    let open = |as_of: Option<&str>| {
        Opened::new(
            &args.store,
            &args.units,
            args.scope.as_deref(),
            &args.schemas,
            Some(&args.period),
            as_of,
            lang,
        )
    };
    let now = open(None)?;
    let then = open(Some(&args.since))?;
    let period = now.period.expect("--period is required");
    let (now_out, _) = now.run(crate::validate::returns::DEADLINE_DAY, false, false, lang)?;
    let (then_out, _) = then.run(crate::validate::returns::DEADLINE_DAY, false, false, lang)?;
    // Figures are compared by code, field and form: the registries of the
    // two generations may differ.
    let registry = now.registry();
    let published = |u: UnitIdx| registry.unit(u).level != Level::Village;
    let then_index: HashMap<(u64, usize, usize), f64> = then_out
        .aggregates
        .rows()
        .filter(|a| a.period == period)
        .filter_map(|a| {
            let code = then.registry().unit(a.unit).code.0;
            registry
                .by_code(crate::registry::UnitCode(code))
                .filter(|&u| published(u))
                .map(|_| ((code, a.form as usize, a.field as usize), a.value))
        })
        .collect();
    let mut moved = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for a in now_out
        .aggregates
        .rows()
        .filter(|a| a.period == period && published(a.unit))
    {
        let key = (
            registry.unit(a.unit).code.0,
            a.form as usize,
            a.field as usize,
        );
        seen.insert(key);
        let old = then_index.get(&key).copied();
        let rate = now.schemas.form(a.form).field(a.field).kind == crate::schema::Kind::Rate;
        if old.is_none_or(|o| !same(o, a.value, rate)) {
            moved.push(Moved {
                unit: a.unit,
                form: a.form,
                field: a.field,
                then: old,
                now: Some(a.value),
            });
        }
    }
    for (&(code, form, field), &old) in &then_index {
        if !seen.contains(&(code, form, field)) {
            if let Some(u) = registry.by_code(crate::registry::UnitCode(code)) {
                moved.push(Moved {
                    unit: u,
                    form: form as crate::schema::FormIdx,
                    field: field as crate::schema::FieldIdx,
                    then: Some(old),
                    now: None,
                });
            }
        }
    }
    // Report order: by level (city first), unit, form, field.
    moved.sort_by_key(|m| {
        (
            registry.unit(m.unit).level,
            registry.unit(m.unit).code.0,
            m.form,
            m.field,
        )
    });
    // The submissions that moved them: in force now and not then, or then
    // and not now, of the period's months.
    let subs_now = now
        .st
        .submissions()
        .map_err(super::store::store_err(lang))?;
    let subs_then = then
        .st
        .submissions()
        .map_err(super::store::store_err(lang))?;
    let counted = |subs: &[Submission]| -> std::collections::HashSet<String> {
        subs.iter()
            .filter(|s| s.status == Status::InForce)
            .map(|s| s.id.clone())
            .collect()
    };
    let (in_now, in_then) = (counted(&subs_now), counted(&subs_then));
    let in_period = |s: &Submission| {
        crate::period::Period::parse(&s.month).is_some_and(|p| match p {
            crate::period::Period::Month(m) => period.contains(m),
            _ => false,
        })
    };
    // (submission, counted now): those whose being counted changed.
    let mut movers: Vec<(&Submission, bool)> = subs_now
        .iter()
        .filter(|s| in_period(s))
        .filter_map(|s| {
            let now = in_now.contains(&s.id);
            (now != in_then.contains(&s.id)).then_some((s, now))
        })
        .collect();
    // The newly counted first, as they were listed.
    movers.sort_by_key(|(_, now)| !now);
    let root = registry
        .root()
        .map_or("", |r| registry.unit(r).name.as_str());
    let generation = then.st.manifest.generation;
    let at = then
        .st
        .committed_at(generation)
        .and_then(|a| a.get(..10).map(String::from))
        .unwrap_or_default();
    let label = super::super::report::period_label(period, lang);
    match lang {
        Lang::Zh => crate::say!(
            "{root} {label}：自第 {generation} 版（{at}）以来变动的数字 {} 个（现为第 {} 版）",
            moved.len(),
            now.st.manifest.generation
        ),
        Lang::En => crate::say!(
            "{root} {label}: {} figures moved since generation {generation} ({at}); now generation {}",
            moved.len(),
            now.st.manifest.generation
        ),
    }
    // The figures a same set of returns moved under one line naming them
    // (a unit's figures of a form, mostly): named again on every figure, a
    // month's new returns were the same seventeen files on each of a
    // city's hundred figures.
    let mut last: Option<Vec<String>> = None;
    for m in &moved {
        let unit = registry.unit(m.unit);
        let form = now.schemas.form(m.form);
        let field = form.field(m.field);
        let rate = field.kind == crate::schema::Kind::Rate;
        let why: Vec<String> = movers
            .iter()
            .filter(|(s, _)| {
                s.form == *form.id
                    && s.unit_code
                        .and_then(|c| registry.by_code(crate::registry::UnitCode(c)))
                        .is_some_and(|u| registry.ancestors_and_self(u).any(|a| a == m.unit))
            })
            .map(|(s, counted)| {
                let what = match (lang, counted) {
                    (Lang::Zh, true) => "新计入".to_string(),
                    (Lang::Zh, false) => format!("不再计入：{}", s.status.label(lang)),
                    (Lang::En, true) => "now counted".to_string(),
                    (Lang::En, false) => format!("no longer counted: {}", s.status.label(lang)),
                };
                format!(
                    "{}!{}（{what}）",
                    crate::message::terminal_text(&s.file),
                    crate::message::terminal_text(&s.sheet)
                )
            })
            .collect();
        let label = match lang {
            Lang::Zh => field.full_name(),
            Lang::En => field.label().get(lang).to_string(),
        };
        if last.as_ref() != Some(&why) {
            if why.is_empty() {
                crate::say!(
                    "  {}",
                    lang.pick(
                        "没有哪份报表的计入与否改变而变动的（名录或规则变了）：",
                        "moved with no return counted or left out (the registry or the rules changed):"
                    )
                );
            } else {
                crate::say!(
                    "  {}{}{}",
                    lang.pick("由 ", "moved by "),
                    why.join(lang.pick("、", ", ")),
                    lang.pick("：", ":")
                );
            }
            last = Some(why);
        }
        crate::say!(
            "    {} {} {}{}{} → {}",
            unit.name,
            form.short_in(lang),
            label,
            lang.pick("：", ": "),
            shown(m.then, rate, lang),
            shown(m.now, rate, lang),
        );
    }
    Ok(0)
}

/// Whether two figures are the same as published: rates to a tenth of a
/// point (a move below that is not a change anyone can see), counts exactly.
fn same(a: f64, b: f64, rate: bool) -> bool {
    if rate {
        published(a) == published(b)
    } else {
        (a - b).abs() < 1e-9
    }
}

/// A figure as published: a rate with one decimal, a count as it is.
fn shown(v: Option<f64>, rate: bool, lang: Lang) -> String {
    match v {
        None => lang.pick("（空）", "(empty)").into(),
        Some(v) if rate => format!("{:.1}", published(v)),
        Some(v) => num(v),
    }
}
