//! `phstats consolidate INPUT... --units UNITS.csv [--period P] [-o report.xlsx] [--export DIR]`
//!
//! Reads every return, runs every check, and writes the report workbook for
//! one period (the `--period` given, else the latest month found), plus the
//! CSV exports when asked. Exit 1 when any error-severity finding exists;
//! the report is still written from the valid data.

use std::path::PathBuf;

use anyhow::Context as _;

use super::{output, Common, Langs};
use crate::indicators::{Indicator, Targets};
use crate::message::Lang;
use crate::pipeline::Outcome;
use crate::registry::Registry;
use crate::report::bulletin::{bulletin_docx, BulletinInput};
use crate::report::summary::{Signatures, Summary};
use crate::report::xlsx::{report_sheets, save_report, ReportInput};
use crate::report::{csv, write_atomic_deferred, write_atomic_with_deferred, Pending};
use crate::schema::Schemas;

/// Arguments of `consolidate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Inputs, registry, period, export.
    #[command(flatten)]
    pub common: Common,
    /// The report workbook to write.
    #[arg(short, long, value_name = "report.xlsx")]
    pub output: Option<PathBuf>,
    /// The published summary's options.
    #[command(flatten)]
    pub published: Published,
}

/// Options of the published summary (FORMS.md §8), for `consolidate` and
/// `report --store`.
#[derive(Debug, clap::Args)]
pub struct Published {
    /// Targets per year, form, field and level (`year,form,field,level,value`).
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
    /// Names for the footer: `单位负责人=张三,统计负责人=李四,填表人=王五,联系电话=0731-1234567,报出日期=2026年4月5日`.
    #[arg(long, value_name = "NAMES")]
    pub signatures: Option<String>,
    /// Write the 通报 as a Word document.
    #[arg(long, value_name = "FILE.docx")]
    pub bulletin: Option<PathBuf>,
    /// The issuer: the 通报's and the 汇总表's 填报单位 (default: the registry root's name + 卫生健康委员会).
    #[arg(long, value_name = "NAME")]
    pub issuer: Option<String>,
    /// The 通报's 文号 (`青卫通〔2026〕12号`).
    #[arg(long, value_name = "TEXT")]
    pub doc_no: Option<String>,
    /// The 通报's 主送机关 (default by the units reported).
    #[arg(long, value_name = "TEXT")]
    pub to: Option<String>,
    /// The 通报's 抄送机关.
    #[arg(long, value_name = "TEXT")]
    pub cc: Option<String>,
    /// The 通报's 成文日期 (default: today).
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// Replace a report workbook that is already there.
    #[arg(long)]
    pub force: bool,
}

/// Runs `consolidate`.
///
/// # Errors
/// Usage errors and unwritable outputs.
pub fn run(args: &Args, langs: Langs) -> anyhow::Result<i32> {
    let mut clock = crate::timings::Stopwatch::start();
    let setup = args.common.setup(langs.terminal)?;
    clock.lap("setup");
    let outcome = setup.run_pipeline(true, false, langs.terminal)?;
    clock.lap("pipeline");
    let target = Publish {
        registry: &setup.registry,
        schemas: &setup.schemas,
        units_path: args
            .common
            .units
            .as_ref()
            .map(|u| u.display().to_string())
            .unwrap_or_default(),
        chosen: setup.period.is_some(),
        output: args.output.as_deref(),
        export: args.common.export.as_deref(),
        quiet: args.common.quiet,
        notes: Vec::new(),
        published: &args.published,
        // The pipeline's: consolidate has no --deadline-day.
        deadline_day: crate::validate::returns::DEADLINE_DAY,
    };
    let code = publish(outcome, &target, langs)?;
    clock.lap("outputs");
    Ok(code)
}

/// Where and how a consolidated outcome is written.
pub struct Publish<'a> {
    /// Units.
    pub registry: &'a Registry,
    /// Forms.
    pub schemas: &'a Schemas,
    /// The registry's path, as the 说明 names it.
    pub units_path: String,
    /// Whether `--period` was given.
    pub chosen: bool,
    /// The report workbook (`-o`); by default named for the period.
    pub output: Option<&'a std::path::Path>,
    /// `--export`.
    pub export: Option<&'a std::path::Path>,
    /// `--quiet`.
    pub quiet: bool,
    /// Lines the terminal prints before the summary (registry changes…).
    pub notes: Vec<String>,
    /// The published summary's options.
    pub published: &'a Published,
    /// The day of the next month returns were due by (`--deadline-day`):
    /// the one the lateness was judged by, and the one the 通报 asks for.
    pub deadline_day: u32,
}

/// The report workbook's path: `-o`, or by default named for the period
/// (`汇总表_2026Q1.xlsx`), so that next month's never replaces this one's.
/// One that is already there is replaced only with `--force` (issue 30):
/// otherwise a usage error, before anything is written.
///
/// # Errors
/// The file is there and `--force` was not given.
fn report_path(
    target: &Publish<'_>,
    period: Option<crate::period::Period>,
    langs: Langs,
) -> anyhow::Result<std::path::PathBuf> {
    let path = match target.output {
        Some(p) => p.to_path_buf(),
        None => {
            let name = match period {
                Some(p) => format!("{}_{p}.xlsx", langs.files.pick("汇总表", "report")),
                None => langs.files.pick("汇总表.xlsx", "report.xlsx").to_string(),
            };
            std::path::PathBuf::from(name)
        }
    };
    // A folder of that name is not replaced either: writing says why it cannot be.
    if path.is_file() && !target.published.force {
        match langs.terminal {
            Lang::Zh => anyhow::bail!(
                "{} 已经存在，未作替换，也未写出任何文件；确要替换请加 --force，或用 -o 另给文件名",
                path.display()
            ),
            Lang::En => anyhow::bail!(
                "{} is already there: nothing was replaced or written; add --force to replace it, or give another name with -o",
                path.display()
            ),
        }
    }
    Ok(path)
}

/// Prints the findings, writes the report workbook and the exports side by
/// side, and prints the summary: what `consolidate` and `report --store`
/// both do with an outcome. Returns the exit status.
///
/// # Errors
/// An unwritable output.
pub fn publish(mut owned: Outcome, target: &Publish<'_>, langs: Langs) -> anyhow::Result<i32> {
    // Every figure is in the aggregates now, and the writers read those:
    // the observation table goes before the workbook is built beside them,
    // and with it what the checks and the roll-up freed.
    owned.batch.obs = crate::observation::Observations::default();
    crate::pipeline::release_freed_memory();
    let outcome = &owned;
    let report_period = outcome.focus;
    let output = report_path(target, report_period, langs)?;
    let output = output.as_path();
    let targets = match &target.published.targets {
        Some(path) => {
            Targets::load(path, target.schemas, langs.terminal).map_err(anyhow::Error::msg)?
        }
        None => Targets::from_schemas(target.schemas),
    };
    let signatures = target
        .published
        .signatures
        .as_deref()
        .map(Signatures::parse)
        .unwrap_or_default();
    // What the returns read reach of the period (the year asked for in
    // April: January to March), for the indicators, the 通报 and the note.
    let covered = report_period.map(|p| outcome.batch.covered(p));
    let indicators: Vec<Indicator> = report_period
        .zip(covered)
        .map(|(p, covered)| {
            crate::indicators::compute(
                &outcome.aggregates,
                target.registry,
                target.schemas,
                &targets,
                p,
                covered,
            )
        })
        .unwrap_or_default();
    output::print_findings(&outcome.findings, target.quiet, langs.terminal);
    let generated_at = output::now_beijing(langs.files);
    let input = report_period.map(|period| ReportInput {
        period,
        chosen: target.chosen,
        lang: langs.files,
        aggs: &outcome.aggregates,
        registry: target.registry,
        schemas: target.schemas,
        batch: &outcome.batch,
        findings: &outcome.findings,
        completeness: &outcome.completeness,
        units_path: &target.units_path,
        generated_at: &generated_at,
        summary: Some(Summary::new(&indicators, &targets, &signatures)),
        issuer: target.published.issuer.as_deref(),
    });
    // Every output is written that can be: one that fails (an export
    // folder that cannot be made, say) is reported at the end.
    let made = target
        .export
        .map(|dir| std::fs::create_dir_all(dir).map_err(crate::report::ReportError::from_io(dir)))
        .transpose();
    let export = target.export.filter(|_| made.is_ok());
    // The outputs in two steps, each on every core. No thread waits on
    // the disk: every file is flushed and renamed into place on a thread
    // of its own, and all are waited for at the end.
    // First the report's sheets, on every core.
    let sheets = input.as_ref().map(report_sheets);
    // Then the workbook is saved, one thread's work (the compression),
    // and the exports are written beside it, aggregates.csv (the largest
    // file by far) first. Written beside the sheets instead, it left the
    // save's other thread idle: a city's 2026Q4 from its store, 2 threads,
    // twelve runs alternating, the outputs took 0.190–0.208 s (median
    // 0.198) against 0.205–0.218 (0.210), the sheets 88–95 ms against
    // 108–113.
    let report = || -> Option<anyhow::Result<Pending>> {
        let save = |sheets| -> anyhow::Result<Pending> {
            let bytes = save_report(sheets)?;
            // `-o reports/2026-06.xlsx`: the folder is made, as `--export` makes its own.
            if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| match langs.terminal {
                    Lang::Zh => format!("无法创建汇总表所在的文件夹 {}", dir.display()),
                    Lang::En => {
                        format!("cannot create the folder {} for the report", dir.display())
                    }
                })?;
            }
            Ok(write_atomic_deferred(output, &bytes)?)
        };
        sheets.map(|sheets| sheets.map_err(anyhow::Error::from).and_then(save))
    };
    let small = || -> Vec<anyhow::Result<Pending>> {
        let mut written = Vec::new();
        if let Some(dir) = export {
            written.push(
                csv::write_aggregates(dir, &outcome.aggregates, target.registry, target.schemas)
                    .map_err(Into::into),
            );
            written
                .push(csv::write_findings(dir, &outcome.findings, langs.files).map_err(Into::into));
            if let Some(p) = report_period {
                let path = dir.join("indicators.csv");
                let indicators = write_atomic_with_deferred(&path, |w| {
                    w.write_all(csv::UTF8_BOM)?;
                    crate::indicators::write_csv(w, &indicators, target.registry, target.schemas, p)
                });
                written.push(indicators.map_err(Into::into));
            }
        }
        if let (Some(path), Some(period)) = (&target.published.bulletin, report_period) {
            let bulletin = || -> anyhow::Result<Pending> {
                let date = match &target.published.date {
                    Some(text) => {
                        let day = crate::period::Day::find_in(text).ok_or_else(|| {
                            anyhow::anyhow!("--date “{text}”不是日期（如 2026-07-08）")
                        })?;
                        format!("{}年{}月{}日", day.year, day.month, day.day)
                    }
                    None => output::now_beijing(Lang::Zh),
                };
                let input = BulletinInput {
                    period,
                    covered: covered.unwrap_or(period),
                    registry: target.registry,
                    schemas: target.schemas,
                    indicators: &indicators,
                    targets: &targets,
                    completeness: &outcome.completeness,
                    findings: &outcome.findings,
                    date: date.split(' ').next().unwrap_or(&date),
                    issuer: target.published.issuer.as_deref(),
                    doc_no: target.published.doc_no.as_deref(),
                    to: target.published.to.as_deref(),
                    cc: target.published.cc.as_deref(),
                    deadline_day: target.deadline_day,
                };
                let bytes = bulletin_docx(&input)?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                Ok(write_atomic_deferred(path, &bytes)?)
            };
            written.push(bulletin());
        }
        written
    };
    let (report, small) = rayon::join(report, small);
    let written: Vec<anyhow::Result<Pending>> = small.into_iter().chain(report).collect();
    // The first failure is reported; every file written is in place by
    // then, since a `Pending` dropped on the way out waits for its file.
    made?;
    let pending = written.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    Pending::finish_all(pending)?;
    let lang = langs.terminal;
    match report_period {
        Some(period) => {
            match lang {
                Lang::Zh => crate::say!("{}汇总表已写入 {}", period.label_zh(), output.display()),
                Lang::En => {
                    crate::say!("report for {} written to {}", period, output.display())
                }
            }
            // A period asked for whose returns stop short of its end (the
            // year in April): its figures are those of the months read.
            if let Some(note) = crate::report::reach_note(period, covered.unwrap_or(period), lang) {
                crate::say!("  {note}");
            }
            if !target.chosen {
                let months = outcome.batch.months_read();
                if months.len() > 1 {
                    let (first, last, other) = (
                        months[0],
                        months[months.len() - 1],
                        months[months.len() - 2],
                    );
                    match lang {
                        Lang::Zh => crate::say!(
                            "  这是读入文件中最新的月份；文件中共有 {} 个月（{first} 至 {last}），其他月份请加 --period，如 --period {other}",
                            months.len()
                        ),
                        Lang::En => crate::say!(
                            "  the latest month found; the inputs hold {} months ({first} to {last}): for another, add --period, e.g. --period {other}",
                            months.len()
                        ),
                    }
                }
            }
        }
        None => crate::say!(
            "{}",
            lang.pick(
                "没有可计入的报表，未写汇总表",
                "no return could be counted; no report written"
            )
        ),
    }
    for note in &target.notes {
        crate::say!("   {} {note}", lang.pick("提示", "note"));
    }
    output::print_summary(outcome, langs.terminal);
    let code = i32::from(crate::findings::has_errors(&outcome.findings));
    // The process ends next: freeing a city-year's tables piece by piece
    // would only delay its exit, which returns all memory at once.
    std::mem::forget(owned);
    Ok(code)
}
