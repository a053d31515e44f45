//! The command line: argument parsing and printing live here and nowhere
//! below. Each subcommand is one file: usage, an `Args` struct, one `run`.

/// `println!` that ends quietly when stdout is closed (`phstats rules | head`)
/// instead of panicking on a broken pipe.
#[macro_export]
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

pub mod check;
pub mod consolidate;
pub mod output;
pub mod progress;
pub mod rules;
pub mod sample_data;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::period::Period;
use crate::registry::Registry;
use crate::schema::Schemas;

/// Consolidate and validate township public-health returns (报表).
#[derive(Debug, Parser)]
#[command(name = "phstats", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read returns, check them, and write the consolidated report (汇总表).
    Consolidate(consolidate::Args),
    /// Read returns and check every figure, without writing a report.
    Check(check::Args),
    /// List every validation rule with its severity and documentation.
    Rules(rules::Args),
    /// Generate a fictional city's registry, returns and their true values.
    SampleData(sample_data::Args),
}

/// Options shared by `consolidate` and `check`.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Return workbooks (.xlsx/.xls) and directories searched recursively.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// The unit registry CSV (code,name,level,parent_code,aliases).
    #[arg(long, value_name = "UNITS.csv")]
    pub units: PathBuf,
    /// The period reported: a month (2026-01, 2026年1月…), a quarter
    /// (2026Q1), a half (2026H1), a year (2026) or a year to date
    /// (2026-01..2026-06). Returns of other months are read only as history
    /// for the checks over time.
    #[arg(long, value_name = "P")]
    pub period: Option<String>,
    /// Consolidate one subtree of the registry (a county's code or name):
    /// returns from outside it are left out.
    #[arg(long, value_name = "CODE")]
    pub scope: Option<String>,
    /// Treat the inputs as the whole batch even when given file by file, so
    /// a unit that sent nothing is reported (a folder always is).
    #[arg(long)]
    pub complete: bool,
    /// Write aggregates.csv and findings.csv into this directory.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// Read form schemas from this directory instead of the built-in three.
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,
    /// Print only the summary, not each finding.
    #[arg(long, short)]
    pub quiet: bool,
}

/// What `Common` resolves to before any file is read.
pub struct Setup {
    /// Units.
    pub registry: Registry,
    /// Forms.
    pub schemas: Schemas,
    /// `--period`.
    pub period: Option<Period>,
    /// Workbooks to read.
    pub inputs: Vec<crate::ingest::Input>,
    /// Whether the inputs are the whole batch (a folder, or `--complete`).
    pub complete: bool,
}

impl Common {
    /// Loads the registry and schemas and lists the inputs; any failure here
    /// is a usage error (exit 2).
    ///
    /// # Errors
    /// Bad period, unreadable or inconsistent registry, bad schema, missing input.
    pub fn setup(&self) -> anyhow::Result<Setup> {
        let period = match &self.period {
            Some(p) => Some(Period::parse(p).with_context(|| {
                format!("--period `{p}` is not a month (2026-01), quarter (2026Q1), half (2026H1), year (2026) or year to date (2026-01..2026-06)")
            })?),
            None => None,
        };
        let mut registry = Registry::load(&self.units)?;
        if let Some(scope) = &self.scope {
            registry = registry.scoped(scope).map_err(anyhow::Error::msg)?;
        }
        let schemas = match &self.schemas {
            Some(dir) => Schemas::from_dir(dir)?,
            None => Schemas::builtin()?,
        };
        let inputs = crate::ingest::collect_inputs(&self.inputs)?;
        if inputs.is_empty() {
            let searched: Vec<String> = self.inputs.iter().map(|p| shown(p)).collect();
            anyhow::bail!("no .xlsx or .xls files found in {}", searched.join(", "));
        }
        let complete = self.complete || self.inputs.iter().any(|p| p.is_dir());
        Ok(Setup {
            registry,
            schemas,
            period,
            inputs,
            complete,
        })
    }
}

impl Setup {
    /// Reads, checks and consolidates the inputs, with a progress line when
    /// stderr is a terminal; `latest`: without `--period`, report the
    /// latest month rather than every month.
    ///
    /// # Errors
    /// A period with no return, or an internal aggregation failure.
    pub fn run_pipeline(
        &self,
        latest: bool,
    ) -> Result<crate::pipeline::Outcome, crate::pipeline::RunError> {
        let counters = std::sync::Arc::new(crate::ingest::Progress::default());
        let selection = crate::pipeline::Selection {
            period: self.period,
            latest,
            complete: self.complete,
        };
        progress::with_progress(self.inputs.len(), &counters, || {
            crate::pipeline::run_watched(
                &self.inputs,
                &self.registry,
                &self.schemas,
                selection,
                Some(&counters),
            )
        })
    }
}

/// Runs a parsed command; returns the exit status (0 clean, 1 errors in the data).
///
/// # Errors
/// A usage or I/O failure (exit 2).
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Consolidate(a) => consolidate::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Rules(a) => rules::run(&a),
        Command::SampleData(a) => sample_data::run(&a),
    }
}

/// `path` relative to the current directory when given so, for messages.
#[must_use]
pub fn shown(path: &Path) -> String {
    path.display().to_string()
}
