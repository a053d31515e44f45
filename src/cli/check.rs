//! `phstats check INPUT... --units UNITS.csv [--period P] [--export DIR]`
//!
//! Runs every check of FORMS.md §4 without writing a report. Exit 1 when
//! any error-severity finding exists.

use anyhow::Context as _;

use super::{output, Common};
use crate::report::csv;

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Inputs, registry, period, export.
    #[command(flatten)]
    pub common: Common,
}

/// Runs `check`.
///
/// # Errors
/// Usage errors and unwritable exports.
pub fn run(args: &Args) -> anyhow::Result<i32> {
    let setup = args.common.setup()?;
    let outcome =
        crate::pipeline::run(&setup.inputs, &setup.registry, &setup.schemas, setup.period)?;
    output::print_findings(&outcome.findings, args.common.quiet);
    if let Some(dir) = &args.common.export {
        csv::write_exports(
            dir,
            &outcome.aggregates,
            &outcome.findings,
            &setup.registry,
            &setup.schemas,
        )
        .with_context(|| format!("writing exports to {}", dir.display()))?;
    }
    output::print_summary(&outcome);
    Ok(i32::from(crate::findings::has_errors(&outcome.findings)))
}
