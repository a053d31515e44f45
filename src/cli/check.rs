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
}

/// Runs `check`.
///
/// # Errors
/// Usage errors and unwritable exports.
pub fn run(args: &Args, langs: Langs) -> anyhow::Result<i32> {
    let setup = args.common.setup(langs.terminal)?;
    let outcome = setup.run_pipeline(false, args.feedback.is_some(), langs.terminal)?;
    output::print_findings(&outcome.findings, args.common.quiet, langs.terminal);
    if let Some(dir) = &args.common.export {
        crate::report::Pending::finish_all(csv::write_exports(
            dir,
            &outcome.aggregates,
            &outcome.findings,
            &setup.registry,
            &setup.schemas,
            langs.files,
        )?)?;
    }
    if let Some(dir) = &args.feedback {
        let generated_at = output::now_beijing(langs.files);
        let input = FeedbackInput {
            batch: &outcome.batch,
            lang: langs.files,
            generated_at: &generated_at,
            findings: &outcome.findings,
            registry: &setup.registry,
            schemas: &setup.schemas,
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
    output::print_summary(&outcome, langs.terminal);
    Ok(i32::from(crate::findings::has_errors(&outcome.findings)))
}
