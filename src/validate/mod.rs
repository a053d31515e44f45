//! Every check of FORMS.md §4 on an ingested batch. Which returns count
//! (corrections, duplicates, rows computed from children) is settled first
//! ([`settle`]); row, total, history and completeness checks then only read
//! the returns that count ([`check`]), alongside aggregation. Relations come from the
//! schemas, never from per-form code.

pub mod history;
pub mod overlap;
pub mod relations;
pub mod returns;
pub mod rolled;
pub mod totals;

use crate::findings::Finding;
use crate::observation::Batch;
use crate::registry::Registry;
use crate::schema::Schemas;

pub use returns::Completeness;

/// A batch whose returns are settled: corrections, identical copies,
/// duplicates and rows computed from children are decided, once, here.
/// Aggregation and the checks take only this type, so nothing can sum a
/// batch in which a duplicate still counts twice.
pub struct Settled {
    batch: Batch,
    rows: RowIndex,
}

impl Settled {
    /// The settled batch.
    #[must_use]
    pub fn batch(&self) -> &Batch {
        &self.batch
    }

    /// Unit rows of the returns that are checked.
    #[must_use]
    pub fn rows(&self) -> &RowIndex {
        &self.rows
    }

    /// The batch, for the writers once everything is computed.
    #[must_use]
    pub fn into_batch(self) -> Batch {
        self.batch
    }
}

/// Settles what counts — identical copies, corrections, duplicate returns,
/// rows computed from their children — which aggregation depends on.
#[must_use]
pub fn settle(mut batch: Batch, registry: &Registry, schemas: &Schemas) -> (Settled, Vec<Finding>) {
    let mut findings = returns::settle_duplicates(&mut batch, registry, schemas);
    let rows = RowIndex::build(&batch);
    findings.extend(overlap::check(&mut batch, &rows, registry, schemas));
    (Settled { batch, rows }, findings)
}

/// Whose findings a run wants. Every return of a batch counts and is read
/// as history, but a report is about its period and an ingest shows only
/// its new files' findings: the checks of one return (its rows, its 合计,
/// its date) and the checks over time of its figures are made for the
/// returns judged, against the whole history. On a city's store, `report
/// --period 2026Q4` checked all twelve months to keep three months'
/// findings (0.27 s of one thread, 0.22 s of it the history), and the
/// twelfth month's ingest the eleven before it (0.28 s).
#[derive(Debug, Clone, Copy)]
pub enum Judged {
    /// Every return.
    All,
    /// The returns of the months of a period.
    In(crate::period::Period),
    /// The returns from this one on (an ingest's new returns, appended
    /// after its history).
    From(u32),
}

impl Judged {
    /// Whether return `ret` of `batch` is judged.
    #[must_use]
    pub fn judges(self, batch: &Batch, ret: u32) -> bool {
        match self {
            Judged::All => true,
            Judged::In(p) => p.contains(batch.returns[ret as usize].month),
            Judged::From(first) => ret >= first,
        }
    }
}

/// The checks that only read a settled batch (rows, totals, history,
/// completeness); they may run while it is aggregated. `complete`: the
/// inputs are the whole batch, so a unit that sent nothing is missing.
/// `earlier`: the counted figures of months the batch does not hold, read
/// as history by the checks over time (a store's, [`crate::counted`]).
#[must_use]
pub fn check(
    settled: &Settled,
    registry: &Registry,
    schemas: &Schemas,
    complete: bool,
    deadline_day: u32,
    judged: Judged,
    earlier: &[crate::counted::CountedMonth],
) -> (Vec<Finding>, Vec<Completeness>) {
    let (batch, rows) = (&settled.batch, &settled.rows);
    let mut findings = relations::check(batch, rows, registry, schemas, judged);
    findings.extend(totals::check(batch, registry, schemas, judged));
    findings.extend(history::check(
        batch, rows, registry, schemas, judged, earlier,
    ));
    findings.extend(returns::late(
        batch,
        registry,
        schemas,
        deadline_day,
        judged,
    ));
    let (missing, completeness) =
        returns::completeness(batch, rows, registry, schemas, complete, deadline_day);
    findings.extend(missing);
    (findings, completeness)
}

/// The observations of one unit row of one return: a contiguous slice of
/// the observation table (ingest pushes a row's figures together).
#[derive(Debug, Clone, Copy)]
pub struct RowSpan {
    /// Return.
    pub ret: u32,
    /// Unit of the row.
    pub unit: u32,
    /// First observation.
    pub start: usize,
    /// One past the last observation.
    pub end: usize,
}

/// Rows of the returns that are checked (counted or duplicate), in table order.
pub struct RowIndex {
    /// Every row span.
    pub rows: Vec<RowSpan>,
}

impl RowIndex {
    fn build(batch: &Batch) -> RowIndex {
        let o = &batch.obs;
        let mut rows = Vec::new();
        let mut i = 0;
        while i < o.len() {
            let (ret, unit) = (o.ret[i], o.unit[i]);
            let start = i;
            while i < o.len() && o.ret[i] == ret && o.unit[i] == unit {
                i += 1;
            }
            if batch.returns[ret as usize].status.checked() {
                rows.push(RowSpan {
                    ret,
                    unit,
                    start,
                    end: i,
                });
            }
        }
        RowIndex { rows }
    }
}
