//! The whole flow as one library call: ingest → validate → aggregate.
//! The CLI and tests use it; the report writers take its result.

use crate::aggregate::{self, AggregateError, Aggregates};
use crate::findings::Finding;
use crate::ingest::{self, Context, Input, Progress};
use crate::observation::Batch;
use crate::period::Period;
use crate::registry::Registry;
use crate::schema::Schemas;
use crate::validate::{self, Completeness};

/// Everything a run produced.
#[derive(Debug)]
pub struct Outcome {
    /// What was read, with settled return statuses.
    pub batch: Batch,
    /// Every finding: ingest first, then validation, in a stable order.
    pub findings: Vec<Finding>,
    /// 上报率 per form, month and level.
    pub completeness: Vec<Completeness>,
    /// Aggregates over every period consolidated.
    pub aggregates: Aggregates,
}

/// Reads, checks and consolidates `inputs`. `period` is the user's
/// `--period`: a month claims the returns' month; a quarter or year limits
/// which periods are consolidated.
///
/// # Errors
/// Only an internal aggregation failure; every data problem is a finding.
pub fn run(
    inputs: &[Input],
    registry: &Registry,
    schemas: &Schemas,
    period: Option<Period>,
) -> Result<Outcome, AggregateError> {
    run_watched(inputs, registry, schemas, period, None)
}

/// [`run`], updating `progress` as files are read.
///
/// # Errors
/// Only an internal aggregation failure.
pub fn run_watched(
    inputs: &[Input],
    registry: &Registry,
    schemas: &Schemas,
    period: Option<Period>,
    progress: Option<&Progress>,
) -> Result<Outcome, AggregateError> {
    let ctx = Context {
        schemas,
        registry,
        period,
        progress,
    };
    let mut clock = crate::timings::Stopwatch::start();
    let mut batch = ingest::ingest(inputs, &ctx);
    clock.lap("ingest");
    let mut findings = std::mem::take(&mut batch.findings);
    let (settled, settling) = validate::settle(batch, registry, schemas);
    findings.extend(settling);
    clock.lap("settle");
    // What counts is settled: the read-only checks and the roll-up are
    // independent, so they run side by side.
    let periods = aggregate::periods_for(&settled.batch().months(), period);
    let ((checked, completeness), aggregates) = rayon::join(
        || validate::check(&settled, registry, schemas),
        || aggregate::aggregate(&settled, registry, schemas, &periods),
    );
    let aggregates = aggregates?;
    let batch = settled.into_batch();
    findings.extend(checked);
    clock.lap("check+aggregate");
    findings.sort_by(|a, b| {
        (
            &a.file,
            &a.sheet,
            a.cell.map(|c| (c.row, c.col)),
            a.severity(),
            a.rule,
        )
            .cmp(&(
                &b.file,
                &b.sheet,
                b.cell.map(|c| (c.row, c.col)),
                b.severity(),
                b.rule,
            ))
    });
    clock.lap("sort");
    Ok(Outcome {
        batch,
        findings,
        completeness,
        aggregates,
    })
}
