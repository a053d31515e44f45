//! `phstats check INPUT... --units UNITS.csv [--period P] [--export DIR] [--feedback DIR]`
//!
//! Runs every check of FORMS.md §4 without writing a report; `--feedback`
//! writes one 退回修改 workbook per unit with problems. Exit 1 when any
//! error-severity finding exists.

use std::path::PathBuf;

use super::{output, Common, Langs};
use crate::message::Lang;
use crate::report::csv;
use crate::report::feedback::{write_feedback, FeedbackInput};

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Inputs, registry, period, export.
    #[command(flatten)]
    pub common: Common,
    /// Write one feedback workbook (退回修改) per unit with errors or
    /// warnings into this directory: its sheets with the problem cells
    /// highlighted and annotated, and a list of problems.
    #[arg(long, value_name = "DIR")]
    pub feedback: Option<PathBuf>,
    /// The day by which corrected returns are due, printed at the top of
    /// each feedback workbook (2026-08-10, 2026年8月10日).
    #[arg(long, value_name = "DATE", requires = "feedback")]
    pub deadline: Option<String>,
    /// Whom a township asks about its feedback (a name and a telephone
    /// number), printed beside the deadline.
    #[arg(long, value_name = "TEXT", requires = "feedback")]
    pub contact: Option<String>,
    /// Check what a store holds in force instead of files: the returns as
    /// ingested, reproduced from the originals it kept.
    #[arg(long, value_name = "STORE")]
    pub store: Option<PathBuf>,
}

/// Runs `check`.
///
/// # Errors
/// Usage errors and unwritable exports.
pub fn run(args: &Args, langs: Langs) -> anyhow::Result<i32> {
    // A bad date stops before any work, not after the batch is read.
    let deadline = deadline(args, langs)?;
    let deadline = deadline.as_deref();
    if let Some(store) = &args.store {
        return run_store(store, args, langs, deadline);
    }
    let setup = args.common.setup(langs.terminal)?;
    let outcome = setup.run_pipeline(false, args.feedback.is_some(), langs.terminal)?;
    finish(
        &outcome,
        &setup.registry,
        &setup.schemas,
        args,
        langs,
        deadline,
    )
}

/// `check --store`: the figures in force, each return reproduced from the
/// original the store kept, so the feedback needs no input file.
fn run_store(
    store: &std::path::Path,
    args: &Args,
    langs: Langs,
    deadline: Option<&str>,
) -> anyhow::Result<i32> {
    let c = &args.common;
    if !c.inputs.is_empty() {
        match langs.terminal {
            Lang::Zh => anyhow::bail!(
                "--store 与报表文件不能同时给出：要审核数据库中的报表，请不要再给出文件"
            ),
            Lang::En => anyhow::bail!("--store and input files cannot be given together"),
        }
    }
    let opened = super::store::Opened::new(
        store,
        &c.units,
        c.scope.as_deref(),
        &c.schemas,
        c.period.as_deref(),
        None,
        langs.terminal,
    )?;
    let (outcome, notes) = opened.run(
        crate::validate::returns::DEADLINE_DAY,
        false,
        args.feedback.is_some(),
        langs.terminal,
    )?;
    for n in &notes {
        crate::say!("{}", crate::message::terminal_text(n));
    }
    finish(
        &outcome,
        opened.registry(),
        &opened.schemas,
        args,
        langs,
        deadline,
    )
}

/// `--deadline` as the feedback writes it (2026年8月10日 / 2026-08-10).
fn deadline(args: &Args, langs: Langs) -> anyhow::Result<Option<String>> {
    let Some(text) = &args.deadline else {
        return Ok(None);
    };
    let Some(day) = crate::period::Day::find_in(text) else {
        match langs.terminal {
            Lang::Zh => {
                anyhow::bail!("--deadline “{text}”不是日期（如 2026-08-10 或 2026年8月10日）")
            }
            Lang::En => anyhow::bail!("--deadline `{text}` is not a date (e.g. 2026-08-10)"),
        }
    };
    Ok(Some(match langs.files {
        Lang::Zh => day.label_zh(),
        Lang::En => day.to_string(),
    }))
}

/// The findings printed, the exports and the feedback written (`deadline`
/// as [`deadline`] wrote it).
fn finish(
    outcome: &crate::pipeline::Outcome,
    registry: &crate::registry::Registry,
    schemas: &crate::schema::Schemas,
    args: &Args,
    langs: Langs,
    deadline: Option<&str>,
) -> anyhow::Result<i32> {
    output::print_findings(&outcome.findings, args.common.quiet, langs.terminal);
    if let Some(dir) = &args.common.export {
        crate::report::Pending::finish_all(csv::write_exports(
            dir,
            &outcome.aggregates,
            &outcome.findings,
            registry,
            schemas,
            langs.files,
        )?)?;
    }
    if let Some(dir) = &args.feedback {
        let generated_at = output::now_beijing(langs.files);
        let input = FeedbackInput {
            deadline,
            contact: args.contact.as_deref(),
            batch: &outcome.batch,
            lang: langs.files,
            generated_at: &generated_at,
            findings: &outcome.findings,
            registry,
            schemas,
            months: outcome
                .batch
                .months_read()
                .into_iter()
                .filter(|m| outcome.in_focus(*m))
                .collect(),
        };
        let written = write_feedback(dir, &input)?;
        match langs.terminal {
            Lang::Zh => crate::say!(
                "已写出 {} 份退回修改工作簿到 {}",
                written.len(),
                dir.display()
            ),
            Lang::En => crate::say!(
                "{} feedback workbook(s) written to {}",
                written.len(),
                dir.display()
            ),
        }
    }
    output::print_summary(outcome, langs.terminal);
    Ok(i32::from(crate::findings::has_errors(&outcome.findings)))
}
