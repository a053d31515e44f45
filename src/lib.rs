//! phstats reads the monthly returns (报表) township and community health
//! centres send in Excel, checks every figure, and rolls them up the
//! village → township → county → city hierarchy into consolidated reports.
//!
//! One table flows through everything (STYLE.md §1):
//!
//! ```text
//! files ─ingest─▶ observations + findings
//!                   ├─ validate ─▶ findings        (rules as data, FORMS.md §4)
//!                   ├─ aggregate ▶ aggregates      (polars: periods × hierarchy, FORMS.md §5)
//!                   └─ report ───▶ xlsx / csv      (writers know no rules)
//! ```
//!
//! An observation is one reported figure plus the file, sheet and cell it
//! came from, so every number in a report traces back to its cell.

pub mod aggregate;
pub mod cli;
pub mod counted;
pub mod fault;
pub mod findings;
pub mod indicators;
pub mod ingest;
pub mod message;
pub mod normalize;
pub mod observation;
pub mod period;
pub mod pipeline;
pub mod registry;
pub mod report;
pub mod sample;
pub mod schema;
pub mod store;
pub mod template;
pub mod timings;
pub mod validate;
