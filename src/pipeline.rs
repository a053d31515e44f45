//! The whole flow as one library call: ingest → settle → check and
//! aggregate → focus on the period reported. The CLI and tests use it; the
//! report writers take its result.

use rayon::prelude::*;

use crate::aggregate::{self, Aggregates};
use crate::findings::Finding;
use crate::ingest::{self, Context, Input, Progress};
use crate::message::Lang;
use crate::observation::Batch;
use crate::period::{Month, Period};
use crate::registry::Registry;
use crate::schema::Schemas;
use crate::timings::resident_bytes;
use crate::validate::{self, Completeness};

/// Everything a run produced.
#[derive(Debug)]
pub struct Outcome {
    /// What was read, with settled return statuses: every month, those
    /// outside the focus too (they are the history of the checks over time).
    pub batch: Batch,
    /// The findings about the focus period (and those tied to no period,
    /// such as an unreadable file), in a stable order.
    pub findings: Vec<Finding>,
    /// 上报率 per form, month and level, for the months of the focus.
    pub completeness: Vec<Completeness>,
    /// Aggregates over every period consolidated.
    pub aggregates: Aggregates,
    /// The period reported: `--period`, or the latest month when asked
    /// for; `None` when every month is (`check` without `--period`).
    pub focus: Option<Period>,
    /// Figures read (reported cells), every month.
    pub figures: usize,
}

impl Outcome {
    /// Whether a return of `month` belongs to what is reported.
    #[must_use]
    pub fn in_focus(&self, month: Month) -> bool {
        self.focus.is_none_or(|p| p.contains(month))
    }
}

/// What a run is asked to report.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection {
    /// `--period`: what is reported. Returns of other months are read as
    /// history for the checks over time, never counted or reported.
    pub period: Option<Period>,
    /// Without `period`, report the latest month found (`consolidate`)
    /// rather than every month (`check`).
    pub latest: bool,
    /// Judge completeness (who sent nothing): a whole folder was given, or
    /// `--complete`. Otherwise only the rows missing from a return are.
    pub complete: bool,
    /// Keep every sheet as read, for the feedback workbooks.
    pub keep_sheets: bool,
    /// Day of the next month by which a return is due (FORMS.md §7).
    pub deadline_day: u32,
    /// Also consolidate the periods the published summary compares with
    /// (累计, 上期, 同期: FORMS.md §8).
    pub indicators: bool,
    /// Roll the forms up side by side instead of one after the other, and
    /// each form's counts, rates and dose sequences side by side (see
    /// `aggregate::plan::roll_up_form`): faster, but the roll-up then
    /// holds every part's frames at once.
    /// Where the run's peak is the roll-up's (`consolidate`, which read
    /// the Excel files), one at a time: side by side, the city-year's
    /// peak rose from 218–230 to 233–240 MiB (the target is 250 MB), for
    /// 0.03–0.04 s of its check+aggregate. A report from the store peaks in
    /// its outputs: a city's 2026Q4 from its store (2 threads, release,
    /// eight runs alternating) spent 0.320–0.353 s (median 0.336) in
    /// check+aggregate against 0.326–0.408 (0.370), the whole run 0.73 s
    /// against 0.79 (medians), its peak 201–209 MiB against 196–203; its
    /// 2026 (the year) 0.52 s against 0.55, peaking at 219–242 MiB
    /// against 205–221.
    pub forms_side_by_side: bool,
}

/// Why a run could not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// `--period` names a period no return is about.
    #[error("no return is for {period}; {}{}", match held.as_str() {
        "" => "the inputs hold no return that can be counted".to_string(),
        held => format!("the inputs hold returns for {held}"),
    }, crate::message::left_above_scope(above, Lang::En).map(|s| format!("; of the returns from outside --scope, {s}")).unwrap_or_default())]
    EmptyPeriod {
        /// The period asked for.
        period: Period,
        /// Its Chinese label.
        label: String,
        /// The months the inputs hold, if any.
        held: String,
        /// The returns `--scope` left out of units above it (their
        /// summaries may be the period's only returns of the scope).
        above: Vec<crate::observation::Outside>,
    },
}

impl RunError {
    /// The error as a person reads it, in `lang`.
    #[must_use]
    pub fn render(&self, lang: Lang) -> String {
        match (self, lang) {
            (
                RunError::EmptyPeriod {
                    label, held, above, ..
                },
                Lang::Zh,
            ) => {
                let mut said = if held.is_empty() {
                    format!("没有{label}的报表；读入的文件中没有可计入的报表")
                } else {
                    format!("没有{label}的报表；读入的文件中有：{held}")
                };
                if let Some(s) = crate::message::left_above_scope(above, lang) {
                    said.push_str("；略过的 --scope 范围以外的报表中，");
                    said.push_str(&s);
                }
                said
            }
            (RunError::EmptyPeriod { .. }, Lang::En) => self.to_string(),
        }
    }
}

/// Reads, checks and consolidates `inputs` for `selection`.
///
/// # Errors
/// A period with no return; every data
/// problem is a finding.
pub fn run(
    inputs: &[Input],
    registry: &Registry,
    schemas: &Schemas,
    selection: Selection,
) -> Result<Outcome, RunError> {
    run_watched(inputs, registry, schemas, selection, None)
}

/// [`run`], updating `progress` as files are read.
///
/// # Errors
/// A period with no return.
pub fn run_watched(
    inputs: &[Input],
    registry: &Registry,
    schemas: &Schemas,
    selection: Selection,
    progress: Option<&Progress>,
) -> Result<Outcome, RunError> {
    let ctx = Context {
        schemas,
        registry,
        period: selection.period,
        progress,
        keep_sheets: selection.keep_sheets,
    };
    let mut clock = crate::timings::Stopwatch::start();
    let batch = ingest::ingest(inputs, &ctx);
    clock.lap("ingest");
    run_batch(batch, registry, schemas, selection, clock)
}

/// What reading found in a return that no longer counts because another
/// replaced it — a correction's predecessor, a second copy of the same
/// return — is not reported: a township is never asked to fix a cell its
/// correction already fixed (the copy's findings are the first copy's).
/// The `correction` and `identical_copy` notes that settling adds say what
/// happened to it.
///
/// A return made of parts (本地 + 流动, or the 合计 sheet with its 本地 and
/// 流动 beside it) said things on each part's sheet: a workbook none of
/// whose returns counts any more says nothing at all, and a return named
/// for two sheets (本地+流动) covers both.
fn drop_replaced(findings: &mut Vec<crate::findings::Finding>, batch: &Batch) {
    use crate::observation::ReturnStatus;
    let is_replaced = |r: &crate::observation::Return| {
        matches!(
            r.status,
            ReturnStatus::Superseded | ReturnStatus::IdenticalCopy
        )
    };
    let replaced: std::collections::HashSet<(&str, &str)> = batch
        .returns
        .iter()
        .filter(|r| is_replaced(r))
        .flat_map(|r| {
            let file = batch.files[r.file as usize].as_str();
            std::iter::once(r.sheet.as_str())
                .chain(r.sheet.split('+'))
                .map(move |sheet| (file, sheet))
        })
        .collect();
    if replaced.is_empty() {
        return;
    }
    // Files with a return still counted.
    let counted: std::collections::HashSet<&str> = batch
        .returns
        .iter()
        .filter(|r| !is_replaced(r))
        .map(|r| batch.files[r.file as usize].as_str())
        .collect();
    let all_replaced =
        |file: &str| !counted.contains(file) && replaced.iter().any(|(f, _)| *f == file);
    findings.retain(|f| match (f.file.as_deref(), f.sheet.as_deref()) {
        (Some(file), _) if all_replaced(file) => false,
        (Some(file), Some(sheet)) => !replaced.contains(&(file, sheet)),
        _ => true,
    });
}

/// A whole group that one part of a return lacks (its 高血压 sheet has no
/// 2型糖尿病) is not missing where another part has it: the sheets of one
/// workbook that settling counts together for one unit, form and month
/// (`validate::returns`), or the groups' rows of one sheet read as one
/// return (a 病种 column). The group still absent from every part stays
/// in the warning.
fn drop_groups_reported_beside(findings: &mut Vec<Finding>, batch: &Batch, schemas: &Schemas) {
    use crate::message::Detail;
    use crate::observation::ReturnStatus;
    use std::collections::{HashMap, HashSet};
    // The sheets a missing group is said of: only their returns are asked.
    let said_of: HashSet<(&str, &str)> = findings
        .iter()
        .filter(|f| matches!(f.detail, Detail::MissingGroups { .. }))
        .filter_map(|f| f.file.as_deref().zip(f.sheet.as_deref()))
        .collect();
    if said_of.is_empty() {
        return;
    }
    let sheet_of = |i: usize| {
        let r = &batch.returns[i];
        (batch.files[r.file as usize].as_str(), r.sheet.as_str())
    };
    let mut parts: HashMap<_, Vec<usize>> = HashMap::new();
    for (i, r) in batch.returns.iter().enumerate() {
        if r.status == ReturnStatus::Active {
            parts
                .entry((r.file, r.unit, r.form, r.month))
                .or_default()
                .push(i);
        }
    }
    // Each part's (file, sheet) and the groups of its whole return (one
    // read as a row per unit and group holds every group's columns).
    let mut present: HashMap<(&str, &str), HashSet<&str>> = HashMap::new();
    for idxs in parts
        .values()
        .filter(|v| v.iter().any(|&i| said_of.contains(&sheet_of(i))))
    {
        let groups: HashSet<&str> = idxs
            .iter()
            .flat_map(|&i| {
                let r = &batch.returns[i];
                let form = schemas.form(r.form);
                r.columns
                    .iter()
                    .filter_map(move |(f, _)| form.field(*f).group.as_deref())
            })
            .collect();
        for &i in idxs {
            present.insert(sheet_of(i), groups.clone());
        }
    }
    if present.is_empty() {
        return;
    }
    findings.retain_mut(|f| {
        let (Some(file), Some(sheet)) = (f.file.as_deref(), f.sheet.as_deref()) else {
            return true;
        };
        let Some(groups) = present.get(&(file, sheet)) else {
            return true;
        };
        match &mut f.detail {
            Detail::MissingGroups { groups: absent, .. } => {
                absent.retain(|g| !groups.contains(g.zh.as_str()));
                !absent.is_empty()
            }
            _ => true,
        }
    });
    // What is left alike of one sheet's parts (each group's reading of a
    // 病种 column lacked the same groups) is said once.
    // (Compared within a sheet only: a province of old templates has a
    // warning like it on every return.)
    let mut said: HashMap<(Option<String>, Option<String>), Vec<Detail>> = HashMap::new();
    findings.retain(|f| {
        if !matches!(f.detail, Detail::MissingGroups { .. }) {
            return true;
        }
        let alike = said.entry((f.file.clone(), f.sheet.clone())).or_default();
        let again = alike.contains(&f.detail);
        if !again {
            alike.push(f.detail.clone());
        }
        !again
    });
}

/// Settles, checks and consolidates a batch already read (from files, or
/// from a store), for `selection`: the one path every report takes.
///
/// # Errors
/// A period with no return.
pub fn run_batch(
    mut batch: Batch,
    registry: &Registry,
    schemas: &Schemas,
    selection: Selection,
    mut clock: crate::timings::Stopwatch,
) -> Result<Outcome, RunError> {
    // What reading freed goes back to the system before the checks and
    // the roll-up allocate their own tables.
    release_freed_memory();
    let held = batch.months_read();
    let focus = match selection.period {
        // Not one return could be counted, and the files' findings say why:
        // the run goes on to report them, with no period.
        Some(_) if held.is_empty() && !batch.findings.is_empty() => None,
        Some(p) if !held.iter().any(|m| p.contains(*m)) => {
            return Err(RunError::EmptyPeriod {
                period: p,
                label: p.label_zh(),
                held: describe_months(&held),
                above: crate::observation::Outside::above(&batch.outside)
                    .0
                    .into_iter()
                    .cloned()
                    .collect(),
            })
        }
        asked => focus(asked, selection.latest, &held),
    };
    let mut findings = std::mem::take(&mut batch.findings);
    let (settled, settling) = validate::settle(batch, registry, schemas);
    drop_replaced(&mut findings, settled.batch());
    drop_groups_reported_beside(&mut findings, settled.batch(), schemas);
    findings.extend(settling);
    clock.lap("settle");
    // What counts is settled: the read-only checks and the roll-up are
    // independent, so they run side by side.
    let mut periods = aggregate::periods_for(&settled.batch().months(), selection.period);
    let selected = periods.clone();
    // The trend months only the summary's charts read, and only their rates.
    let mut trend = aggregate::Trend::default();
    if let (true, Some(p)) = (selection.indicators, focus) {
        for q in crate::indicators::periods_needed(p) {
            if !periods.contains(&q) {
                periods.push(q);
            }
        }
        // And the months of the last year, for the trend charts.
        for q in crate::indicators::trend_months(p)
            .into_iter()
            .map(Period::Month)
        {
            if !periods.contains(&q) {
                periods.push(q);
                trend.periods.push(q);
            }
        }
        trend.units = crate::indicators::trend_units(registry);
        periods.sort_by_key(|p| p.sort_key());
    }
    let ((checked, completeness), aggregates) = rayon::join(
        || {
            validate::check(
                &settled,
                registry,
                schemas,
                selection.complete,
                selection.deadline_day,
                focus.map_or(validate::Judged::All, validate::Judged::In),
                &settled.batch().history.months,
            )
        },
        || {
            let judged = validate::rolled::judged_months(&periods, focus);
            aggregate::aggregate(
                &settled,
                registry,
                schemas,
                &periods,
                &trend,
                &judged,
                selection.forms_side_by_side,
            )
        },
    );
    let mut aggregates = aggregates;
    aggregates.comparison = aggregates
        .periods
        .iter()
        .filter(|p| !selected.contains(p))
        .copied()
        .collect();
    let batch = settled.into_batch();
    findings.extend(checked);
    findings.extend(validate::rolled::check(&aggregates, registry, schemas));
    // A report is about its period: the findings of other months were only
    // the history of this one's. A finding of no month (a file's or a
    // sheet's: a blank sheet, an unknown unit) is of its file's months: a
    // March report does not list a January workbook's blank sheet again,
    // nor a scoped one a blank sheet of a workbook from outside its scope.
    if let Some(p) = focus {
        // Whether each file holds a return of the period; a file of no
        // return (unreadable, or nothing in it recognised) is of any.
        let mut of_period: std::collections::HashMap<&str, bool> = std::collections::HashMap::new();
        for r in &batch.returns {
            *of_period
                .entry(batch.files[r.file as usize].as_str())
                .or_default() |= p.contains(r.month);
        }
        // A file of returns all outside `--scope` is of no period of this
        // run.
        for o in &batch.outside {
            of_period.entry(o.file.as_str()).or_default();
        }
        // On every core: a province-year has 90,000 findings, most of them
        // other months' (history), and freeing those was 20 ms of one thread.
        findings = std::mem::take(&mut findings)
            .into_par_iter()
            .filter(|f| match f.period {
                Some(fp) => p.covers(fp),
                None => f
                    .file
                    .as_deref()
                    .and_then(|file| of_period.get(file))
                    .is_none_or(|&inside| inside),
            })
            .collect();
    }
    let completeness = completeness
        .into_iter()
        .filter(|c| focus.is_none_or(|p| p.contains(c.month)))
        .collect();
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
    let figures = batch.values_read();
    Ok(Outcome {
        batch,
        findings,
        completeness,
        aggregates,
        focus,
        figures,
    })
}

/// `2026-01, 2026-02, 2026-06`, for a message.
/// The period a run reports, of the months `held`: the one asked for, else
/// (when `latest`) the latest month held, else none (every month). Its one
/// owner: a store's report reads the layouts of this period's returns by it
/// before the run judges them by it.
#[must_use]
pub fn focus(period: Option<Period>, latest: bool, held: &[Month]) -> Option<Period> {
    match period {
        Some(p) => Some(p),
        None if latest => held.last().map(|m| Period::Month(*m)),
        None => None,
    }
}

fn describe_months(months: &[Month]) -> String {
    let list: Vec<String> = months.iter().map(ToString::to_string).collect();
    list.join(", ")
}

/// Hands the memory this process has freed back to the system, on every
/// thread of the pool, of polars' pool and this one, once the process holds
/// over 192 MiB.
///
/// mimalloc keeps what each thread frees for a while, to reuse it, and a
/// thread that goes idle keeps it until it allocates again. After reading
/// a province-year, 210 MB of freed parsing buffers were still resident,
/// and the checks and the roll-up allocated on top of them; then the
/// outputs on top of what those freed. Released after reading and again
/// once the observation table is dropped (once alone did not lower the
/// peak on 16 cores), the peak of a province-year on a 16-core machine
/// went from 950–1,000 MB to 790–820 MB, and on 2 threads here from 845
/// to 690 MB, for 25 + 35 ms. A smaller run is left alone: a city-year
/// (130 MB) would save 25 MB, and its outputs, whose first allocations
/// then take fresh pages from the system, took 10–20 ms longer. Where
/// mimalloc is not the allocator (the tests), it only tidies mimalloc's
/// own empty heaps. Since the roll-up is a polars plan, a city-year holds
/// 210–245 MB after it, most of it freed: the threshold went from 256 to
/// 192 MiB, and its peak from 265–305 MB to 234–249 MB (five runs each).
pub fn release_freed_memory() {
    const WORTH_IT: u64 = 192 << 20;
    if resident_bytes().is_some_and(|b| b < WORTH_IT) {
        return;
    }
    hand_back_everywhere();
}

/// Hands the memory this process has freed back to the system, on every
/// thread of the pool, of polars' pool and this one, whatever it holds
/// ([`release_freed_memory`] where it is worth it).
pub fn hand_back_everywhere() {
    // SAFETY: mi_collect takes no pointer and may be called on any thread
    // at any time; it only frees pages that hold no live allocation.
    rayon::broadcast(|_| unsafe { libmimalloc_sys::mi_collect(true) });
    // SAFETY: as above. (The roll-up's polars threads are a pool of their own.)
    polars_core::runtime::THREAD_POOL.broadcast(|_| unsafe { libmimalloc_sys::mi_collect(true) });
    // SAFETY: as above.
    unsafe { libmimalloc_sys::mi_collect(true) };
}
