//! One integration test binary (polars links once).

/// The bounded reader: zip bombs, a million rows, gigabyte strings.
mod bounded;
/// Checks, exit codes and hostile files.
mod check;
/// Consolidation end to end against known truth.
mod consolidate;
/// Where each figure comes from: explain and trace against the roll-up.
mod explain;
/// Feedback workbooks reopened.
mod feedback;
/// Cross-period checks.
mod history;
/// Hostile files and mutated returns.
mod hostile;
/// Chinese by default, English on request.
mod lang;
/// Period selection, county scope, encodings and careless commands.
mod period;
/// The published summary: 本期, 累计, 上期, 同期, targets, ranks, the 通报.
mod published;
/// The report workbook reopened.
mod report;
/// The month's status board, terminal and HTML in a browser.
mod status;
/// The store: ingest, history, trace, report, crashes.
mod store;
/// Fill-in templates written, filled in and read back.
mod template;
/// No false alarms, no cascades, no silent guesses (one class each).
mod trust;
/// Fixtures built in code and helpers to run the binary.
mod util;
