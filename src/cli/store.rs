//! The store's subcommands (FORMS.md §7):
//!
//! ```text
//! phstats ingest  INPUT... --units UNITS.csv --store DIR [--period P] [--correction]
//! phstats report  --store DIR [--units UNITS.csv] [--period P] [-o report.xlsx] [--export DIR]
//! phstats history --store DIR [--unit U] [--form F] [--period P]
//! phstats trace   --store DIR --period P --unit U --field F
//! ```

use std::collections::HashSet;
use std::path::PathBuf;

use super::consolidate::{publish, Publish};
use super::{output, Langs};
use crate::message::Lang;
use crate::period::Period;
use crate::pipeline::Selection;
use crate::registry::{Registry, UnitCode, UnitIdx};
use crate::schema::{Kind, Schemas};
use crate::store::{self, Status, Store, Submission};

/// Arguments of `ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Return workbooks (.xlsx/.xls) and directories searched recursively.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// The unit registry CSV: needed for a new store; afterwards the
    /// store's, unless a new version is given.
    #[arg(long, value_name = "UNITS.csv")]
    pub units: Option<PathBuf>,
    /// The store folder (made when it does not exist).
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// The month of returns that name none.
    #[arg(long, value_name = "P")]
    pub period: Option<String>,
    /// Mark every input a correction (a resubmission nobody labelled 更正).
    #[arg(long)]
    pub correction: bool,
    /// Day of the next month by which a return is due.
    #[arg(long, value_name = "N", default_value_t = crate::validate::returns::DEADLINE_DAY)]
    pub deadline_day: u32,
    /// Seconds to wait for another writer of the store to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,
    /// The day these returns arrived, for a backlog ingested later.
    #[arg(long, value_name = "DATE")]
    pub received: Option<String>,
    /// Read form schemas from this directory instead of the built-in three.
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,
    /// Print only the summary, not each finding.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The store folder.
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// The unit registry CSV (default: the one the store ingested with).
    #[arg(long, value_name = "UNITS.csv")]
    pub units: Option<PathBuf>,
    /// The period reported.
    #[arg(long, value_name = "P")]
    pub period: Option<String>,
    /// Report one subtree of the registry (a county's or township's code or
    /// name): the store's returns from outside it are left out, in one line.
    #[arg(long, value_name = "CODE")]
    pub scope: Option<String>,
    /// The report as it stood at a generation (`3`) or by a day's end
    /// (`2026-04-10`), from the kept generations.
    #[arg(long, value_name = "DATE|GENERATION")]
    pub as_of: Option<String>,
    /// The report workbook to write.
    #[arg(short, long, value_name = "report.xlsx")]
    pub output: Option<PathBuf>,
    /// Write aggregates.csv and findings.csv into this directory.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// Day of the next month by which a return is due.
    #[arg(long, value_name = "N", default_value_t = crate::validate::returns::DEADLINE_DAY)]
    pub deadline_day: u32,
    /// Read form schemas from this directory instead of the built-in three.
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,
    /// Print only the summary, not each finding.
    #[arg(long, short)]
    pub quiet: bool,
    /// The published summary's options.
    #[command(flatten)]
    pub published: super::consolidate::Published,
}

/// Arguments of `history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The store folder.
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// Only this unit (name or code).
    #[arg(long, value_name = "U")]
    pub unit: Option<String>,
    /// Only this form (id or short name).
    #[arg(long, value_name = "F")]
    pub form: Option<String>,
    /// Only this period.
    #[arg(long, value_name = "P")]
    pub period: Option<String>,
    /// Only the returns of one county or township's units (code or name).
    #[arg(long, value_name = "CODE")]
    pub scope: Option<String>,
}

/// Arguments of `trace`.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// The store folder.
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// The period of the figure.
    #[arg(long, value_name = "P")]
    pub period: String,
    /// The unit (name or code).
    #[arg(long, value_name = "U")]
    pub unit: String,
    /// The field id (hepb1_rate) or label.
    #[arg(long, value_name = "F")]
    pub field: String,
    /// The unit registry CSV (default: the one the store ingested with).
    #[arg(long, value_name = "UNITS.csv")]
    pub units: Option<PathBuf>,
    /// Also write every part of the figure to this CSV file.
    #[arg(long, value_name = "FILE.csv")]
    pub csv: Option<PathBuf>,
}

fn schemas(dir: &Option<PathBuf>) -> anyhow::Result<Schemas> {
    Ok(match dir {
        Some(d) => Schemas::from_dir(d)?,
        None => Schemas::builtin()?,
    })
}

pub(crate) fn open(dir: &std::path::Path, lang: Lang) -> anyhow::Result<Store> {
    Store::open(dir).map_err(store_err(lang))
}

fn parse_period(p: &str, lang: Lang) -> anyhow::Result<Period> {
    Period::parse(p).ok_or_else(|| match lang {
        Lang::Zh => anyhow::anyhow!("--period “{p}”不是月份、季度、半年、年份或年初至今"),
        Lang::En => {
            anyhow::anyhow!("--period `{p}` is not a month, quarter, half, year or year to date")
        }
    })
}

/// The store's own registry as a person reads its name.
fn store_registry(store: &Store, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("{}（数据库中的单位名录）", store.dir.display()),
        Lang::En => format!("{} (the store's registry)", store.dir.display()),
    }
}

/// The registry given, or the one the store ingested with.
fn registry(
    store: &Store,
    units: &Option<PathBuf>,
    lang: Lang,
) -> anyhow::Result<(Registry, String)> {
    match units {
        Some(p) => Ok((
            Registry::load(p).map_err(|e| anyhow::anyhow!(e.render(lang)))?,
            p.display().to_string(),
        )),
        None => {
            let text = store.registry_csv().unwrap_or_default();
            let origin = store_registry(store, lang);
            Ok((
                Registry::from_csv(text.as_bytes(), &origin)
                    .map_err(|e| anyhow::anyhow!(e.render(lang)))?,
                origin,
            ))
        }
    }
}

/// Runs `ingest`.
///
/// # Errors
/// A bad registry, period or store; the store is then as it was.
pub fn ingest(args: &IngestArgs, langs: Langs) -> anyhow::Result<i32> {
    let lang = langs.terminal;
    // --units is needed to make a store; after that the store's registry
    // is the default, and a registry given is a new version of it.
    let given = args
        .units
        .as_ref()
        .map(|path| {
            let registry = Registry::load(path).map_err(|e| anyhow::anyhow!(e.render(lang)))?;
            let csv = std::fs::read(path)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_else(|| registry_as_csv(&registry));
            anyhow::Ok((registry, csv))
        })
        .transpose()?;
    if given.is_none() && !args.store.join("manifest.json").exists() {
        match lang {
            Lang::Zh => anyhow::bail!(
                "{} 还不是数据库：第一次入库须给出单位名录 --units UNITS.csv",
                args.store.display()
            ),
            Lang::En => anyhow::bail!(
                "{} is not a store yet: the first ingest needs --units UNITS.csv",
                args.store.display()
            ),
        }
    }
    let schemas = schemas(&args.schemas)?;
    let period = args
        .period
        .as_deref()
        .map(|p| parse_period(p, lang))
        .transpose()?;
    let received = args
        .received
        .as_deref()
        .map(|d| {
            crate::period::Day::find_in(d).ok_or_else(|| match lang {
                Lang::Zh => {
                    anyhow::anyhow!("--received “{d}”不是日期（如 2026-03-04、2026年3月4日）")
                }
                Lang::En => anyhow::anyhow!("--received `{d}` is not a date (2026-03-04)"),
            })
        })
        .transpose()?;
    // A day to come is a slip of the keyboard (2027 for 2026), and would
    // make every return without a 报出日期 late: said, nothing written.
    if let (Some(day), Some(today)) = (received, store::ingest_day(&store::now_iso())) {
        if day > today {
            match lang {
                Lang::Zh => anyhow::bail!(
                    "--received {day} 晚于今天（{today}）：收到的日期不会在将来；未作任何改动"
                ),
                Lang::En => anyhow::bail!(
                    "--received {day} is after today ({today}): returns are not received in the future; nothing was written"
                ),
            }
        }
    }
    let inputs = crate::ingest::collect_inputs(&args.inputs).map_err(|(path, _)| match lang {
        Lang::Zh => anyhow::anyhow!("输入 {path} 不存在或无法读取"),
        Lang::En => anyhow::anyhow!("input {path}: no such file or folder"),
    })?;
    if inputs.is_empty() {
        anyhow::bail!(
            "{}",
            lang.pick(
                "输入中没有找到 .xlsx 或 .xls 文件",
                "no .xlsx or .xls files found in the inputs"
            )
        );
    }
    // One writer at a time: held until the ingest has committed or failed.
    let _lock = store::StoreLock::take(
        &args.store,
        std::time::Duration::from_secs(args.wait),
        "ingest",
    )
    .map_err(store_err(lang))?;
    let (mut st, registry, registry_csv) = match given {
        Some((registry, csv)) => {
            let st = Store::open_or_create(&args.store, &registry).map_err(store_err(lang))?;
            // A registry that differs from the store's is its next version:
            // what changed is said before it is recorded with the ingest.
            if st.manifest.generation > 0 && st.registry_csv().as_deref() != Some(csv.as_str()) {
                let changes = store::registry_changes(&st, &registry, lang);
                if !changes.is_empty() {
                    crate::say!(
                        "{}",
                        lang.pick(
                            "单位名录与数据库中的不同，本次入库起使用新名录：",
                            "The registry differs from the store's; from this ingest on it is the new version:"
                        )
                    );
                    for c in &changes {
                        crate::say!("   {}", crate::message::terminal_text(c));
                    }
                }
            }
            (st, registry, csv)
        }
        None => {
            let st = open(&args.store, lang)?;
            let (registry, _) = registry(&st, &None, lang)?;
            let csv = st
                .registry_csv()
                .unwrap_or_else(|| registry_as_csv(&registry));
            (st, registry, csv)
        }
    };
    let opts = store::IngestOptions {
        registry: &registry,
        registry_csv: &registry_csv,
        schemas: &schemas,
        period,
        correction: args.correction,
        deadline_day: args.deadline_day,
        received,
        withdraw: Vec::new(),
        now: store::now_iso(),
    };
    let report = store::ingest(&mut st, &inputs, &opts).map_err(store_err(lang))?;
    output::print_findings(&report.findings, args.quiet, lang);
    // With -q, one summary line instead of a line per return (a province's
    // month is 2,600 returns).
    let each = !args.quiet;
    for file in report.unchanged.iter().filter(|_| each) {
        let file = crate::message::terminal_text(file);
        match lang {
            Lang::Zh => crate::say!("   提示 {file} 的内容已在数据库中，未作改动"),
            Lang::En => {
                crate::say!("   info {file}: the store already holds this content; nothing changed")
            }
        }
    }
    for s in report.recorded.iter().filter(|_| each) {
        let what = crate::message::terminal_text(&submission_said(s, &schemas, lang)).into_owned();
        match lang {
            Lang::Zh => crate::say!("   已记录 {what}：{}{}", s.status.label(lang), reason(s)),
            Lang::En => crate::say!("   recorded {what}: {}", s.status.label(lang)),
        }
    }
    if each {
        print_changes(&report, lang);
    }
    crate::say!("{}", ingest_summary(&report, &registry, lang));
    if received.is_none() {
        late_by_ingest(&report, &registry, &schemas, &args.store, lang);
    }
    print_generation(&args.store, report.generation, lang);
    Ok(i32::from(crate::findings::has_errors(&report.findings)))
}

/// Says so where returns recorded now have no 报出日期 and are late only
/// because they were received today (FORMS.md §7: the ingest day stands
/// for the day they arrived): a backlog entered weeks after it came would
/// otherwise count late, unnoticed until `status` shows its 及时率, and
/// ingesting the same files again with `--received` changes nothing. The
/// way back is the generation before this one. Late is what the 上报情况
/// rules judged (`report.completeness`), never judged here again.
fn late_by_ingest(
    report: &store::IngestReport,
    registry: &Registry,
    schemas: &Schemas,
    dir: &std::path::Path,
    lang: Lang,
) {
    // Each late return once, as 上报情况 counts it (a return of a sheet a
    // village is one return).
    let late = |s: &store::Submission| {
        let (code, form, month) = store::identity(s, schemas)?;
        let unit = registry.by_code(UnitCode(code))?;
        report
            .completeness
            .iter()
            .any(|c| c.form == form && c.month == month && c.late.contains(&unit))
            .then_some((form, month, unit))
    };
    let undated: std::collections::BTreeSet<_> = report
        .recorded
        .iter()
        .filter(|s| s.status == Status::InForce && s.reported_on.is_none())
        .filter_map(late)
        .collect();
    // Every submission of one ingest was ingested at the same time.
    let (n, Some(first)) = (undated.len(), report.recorded.first()) else {
        return;
    };
    if n == 0 {
        return;
    }
    let today = first.ingested_at.get(..10).unwrap_or_default();
    let store_dir = dir.display();
    // The way back: the generation before this ingest, or for a store this
    // ingest made, none.
    let back = match (report.generation.saturating_sub(1), lang) {
        (0, Lang::Zh) => format!("请删去这个新建的数据库 {store_dir}，加"),
        (g, Lang::Zh) => format!("可先 phstats store rollback {g} --store {store_dir}，再加"),
        (0, Lang::En) => format!("delete this new store {store_dir} and ingest them again with"),
        (g, Lang::En) => {
            format!("run phstats store rollback {g} --store {store_dir} and ingest them again with")
        }
    };
    match lang {
        Lang::Zh => crate::say!(
            "   提示 其中 {n} 份报表没有报出日期，以入库日 {today} 作为收到日期，晚于报送期限，计为逾期；如是事后补录的报表，{back} --received 实际收到日期重新入库"
        ),
        Lang::En => crate::say!(
            "   note {n} returns have no 报出日期: received today ({today}), after the deadline, they count as late; if they are a backlog, {back} --received DATE"
        ),
    }
}

/// What `phstats store` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreAction {
    /// List the generations kept: when, what came in, how many in force.
    Log,
    /// Make generation N the one in force (itself a new generation).
    Rollback,
    /// Check that every file the generation in force names is there and reads.
    Verify,
}

/// `phstats store log|rollback N|verify --store DIR`.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// log, rollback or verify. Their help is the argument's, in the
    /// run's language (`cli::HELP`): clap would list the variants' own
    /// (English) docs under it.
    #[arg(
        value_enum,
        value_name = "log|rollback|verify",
        hide_possible_values = true
    )]
    pub action: StoreAction,
    /// The generation to roll back to.
    #[arg(value_name = "N")]
    pub generation: Option<u64>,
    /// The store folder.
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// Seconds to wait for another writer of the store to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,
}

/// What made a generation (`store::Commit::by`: `ingest`, `withdraw` or
/// `rollback N`), as `store log` says it; anything else as recorded.
fn made_by(by: &str, lang: Lang) -> String {
    match (by.split_once(' '), lang) {
        (Some(("rollback", n)), Lang::Zh) => format!("回退到第 {n} 版"),
        (Some(("rollback", n)), Lang::En) => format!("rollback to generation {n}"),
        _ => store::action_said(by, lang).to_string(),
    }
}

/// What a withdrawal took out, and why, as the log's line goes on after
/// 撤回: ` a.xlsx!免疫（错发）、b.xlsx!家医（重复）`, or nothing.
fn withdrawn_said(withdrawn: &[(String, String)], lang: Lang) -> String {
    if withdrawn.is_empty() {
        return String::new();
    }
    let each: Vec<String> = withdrawn
        .iter()
        .map(|(place, why)| {
            let place = crate::message::terminal_text(place);
            let why = crate::message::terminal_text(why);
            match lang {
                Lang::Zh => format!("{place}（{why}）"),
                Lang::En => format!("{place} ({why})"),
            }
        })
        .collect();
    format!(" {}", each.join(lang.pick("、", ", ")))
}

/// Runs `store log`, `store rollback N` or `store verify` (FORMS.md §7).
///
/// # Errors
/// A bad store; a generation that is not kept; `rollback` without N.
pub fn store_cmd(args: &StoreArgs, langs: Langs) -> anyhow::Result<i32> {
    let lang = langs.terminal;
    match args.action {
        StoreAction::Log => {
            let st = open(&args.store, lang)?;
            for c in store::log(&st) {
                let now = c.generation == st.manifest.generation;
                let when = c.at.get(..16).unwrap_or(&c.at).replace('T', " ");
                let what = withdrawn_said(&c.withdrawn, lang);
                match lang {
                    Lang::Zh => crate::say!(
                        "{} 第 {} 版 {when} {}{}：新记录 {} 份，有效 {} 份",
                        if now { "→" } else { " " },
                        c.generation,
                        made_by(&c.by, lang),
                        what,
                        c.came_in,
                        c.in_force
                    ),
                    Lang::En => crate::say!(
                        "{} generation {} {when} {}{}: {} recorded, {} in force",
                        if now { "→" } else { " " },
                        c.generation,
                        made_by(&c.by, lang),
                        what,
                        c.came_in,
                        c.in_force
                    ),
                }
            }
            Ok(0)
        }
        StoreAction::Rollback => {
            let Some(n) = args.generation else {
                match lang {
                    Lang::Zh => anyhow::bail!(
                        "store rollback 要给出版本号，如 store rollback 3（见 store log）"
                    ),
                    Lang::En => anyhow::bail!(
                        "store rollback needs a generation: store rollback 3 (see store log)"
                    ),
                }
            };
            let _lock = store::StoreLock::take(
                &args.store,
                std::time::Duration::from_secs(args.wait),
                "rollback",
            )
            .map_err(store_err(lang))?;
            let mut st = open(&args.store, lang)?;
            // The generation in force already: nothing to make.
            if n == st.manifest.generation {
                match lang {
                    Lang::Zh => crate::say!(
                        "数据库 {} 现在有效的就是第 {n} 版，未作改动",
                        args.store.display()
                    ),
                    Lang::En => crate::say!(
                        "store {} is at generation {n} already; nothing changed",
                        args.store.display()
                    ),
                }
                return Ok(0);
            }
            let g = store::rollback(&mut st, n, &store::now_iso()).map_err(store_err(lang))?;
            match lang {
                Lang::Zh => crate::say!("已回退到第 {n} 版的内容；数据库 {} 现为第 {g} 版（未删除任何版本）", args.store.display()),
                Lang::En => crate::say!("rolled back to generation {n}'s content; store {} is now at generation {g} (nothing deleted)", args.store.display()),
            }
            Ok(0)
        }
        StoreAction::Verify => {
            let st = open(&args.store, lang)?;
            let problems = store::verify(&st, lang).map_err(store_err(lang))?;
            for p in &problems {
                crate::say!("{}", crate::message::terminal_text(p));
            }
            if problems.is_empty() {
                crate::say!(
                    "{}",
                    match lang {
                        Lang::Zh => format!("数据库 {} 第 {} 版完好：所记的文件都在，都能读取", args.store.display(), st.manifest.generation),
                        Lang::En => format!("store {} generation {} is whole: every file it names is there and reads", args.store.display(), st.manifest.generation),
                    }
                );
                Ok(0)
            } else {
                Ok(1)
            }
        }
    }
}

/// `phstats withdraw`: take a submission out of force.
#[derive(Debug, clap::Args)]
pub struct WithdrawArgs {
    /// The store folder.
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// The submission (its id, `hash:sheet`) or the file it came in.
    #[arg(value_name = "SUBMISSION|FILE")]
    pub target: String,
    /// Why (kept in the history).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Seconds to wait for another writer of the store to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,
}

/// Runs `withdraw` (FORMS.md §7): the submissions named — by id, or every
/// sheet of a file given by its path or name — go out of force, kept in
/// history with the reason; a duplicate they leave alone is settled.
///
/// # Errors
/// A bad store, or nothing (or a rejected file only) of that name.
pub fn withdraw(args: &WithdrawArgs, langs: Langs) -> anyhow::Result<i32> {
    let lang = langs.terminal;
    let _lock = store::StoreLock::take(
        &args.store,
        std::time::Duration::from_secs(args.wait),
        "withdraw",
    )
    .map_err(store_err(lang))?;
    let mut st = open(&args.store, lang)?;
    let (registry, _) = registry(&st, &None, lang)?;
    let registry_csv = st
        .registry_csv()
        .unwrap_or_else(|| registry_as_csv(&registry));
    let schemas = Schemas::builtin()?;
    let subs = st.submissions().map_err(store_err(lang))?;
    let target = args.target.trim();
    let named = |s: &Submission| {
        s.id == target
            || s.file == target
            || std::path::Path::new(&s.file)
                .file_name()
                .and_then(|n| n.to_str())
                == Some(target)
    };
    let chosen: Vec<(String, String)> = subs
        .iter()
        .filter(|s| named(s) && !matches!(s.status, Status::Withdrawn | Status::Rejected))
        .map(|s| (s.id.clone(), args.reason.clone()))
        .collect();
    if chosen.is_empty() {
        match lang {
            Lang::Zh => anyhow::bail!("数据库中没有可撤回的“{target}”（请给出 history 所列的文件名或报表编号）"),
            Lang::En => anyhow::bail!("the store holds nothing in force named `{target}` (give a file or submission as history lists it)"),
        }
    }
    let opts = store::IngestOptions {
        registry: &registry,
        registry_csv: &registry_csv,
        schemas: &schemas,
        period: None,
        correction: false,
        deadline_day: crate::validate::returns::DEADLINE_DAY,
        received: None,
        withdraw: chosen,
        now: store::now_iso(),
    };
    let report = store::ingest(&mut st, &[], &opts).map_err(store_err(lang))?;
    print_changes(&report, lang);
    print_generation(&args.store, report.generation, lang);
    Ok(0)
}

/// A submission as a person names it: `file!sheet`, the unit, the form's
/// short name and the month in words (`城东街道.xlsx!免疫 城东街道 免疫
/// 2026年1月`); the form's id where the forms do not know it.
fn submission_said(s: &Submission, schemas: &Schemas, lang: Lang) -> String {
    let form = schemas
        .form_idx(&s.form)
        .map_or(s.form.as_str(), |i| schemas.form(i).short_in(lang));
    let month = month_said(&s.month, lang);
    [
        s.place().as_str(),
        s.unit_name.as_str(),
        form,
        month.as_str(),
    ]
    .into_iter()
    .filter(|t| !t.is_empty())
    .collect::<Vec<_>>()
    .join(" ")
}

/// A submission's month (`2026-01`) as a person reads it: 2026年1月 in
/// Chinese; as stored otherwise.
fn month_said(month: &str, lang: Lang) -> String {
    match (lang, Period::parse(month)) {
        (Lang::Zh, Some(p)) => p.label_zh(),
        _ => month.to_string(),
    }
}

/// Each earlier submission whose status a write changed, a line each.
fn print_changes(report: &store::IngestReport, lang: Lang) {
    for (s, now) in &report.changed {
        let place = s.place();
        let place = crate::message::terminal_text(&place);
        let (was, is) = (s.status.label(lang), now.label(lang));
        match lang {
            Lang::Zh => crate::say!("   状态变更 {place}：{was} → {is}"),
            Lang::En => crate::say!("   status {place}: {was} → {is}"),
        }
    }
}

/// The generation a write left the store at.
fn print_generation(store: &std::path::Path, generation: u64, lang: Lang) {
    match lang {
        Lang::Zh => crate::say!("数据库 {} 现为第 {generation} 版", store.display()),
        Lang::En => crate::say!(
            "store {} is now at generation {generation}",
            store.display()
        ),
    }
}

/// One line for an ingest: returns recorded and what became of them,
/// findings by severity, and who is still missing in the months it touched
/// (counted by the 上报情况 rules, over everything the store holds).
fn ingest_summary(report: &store::IngestReport, registry: &Registry, lang: Lang) -> String {
    use crate::findings::Severity;
    let status = |st: Status| report.recorded.iter().filter(|s| s.status == st).count();
    let waiting = status(Status::Duplicate);
    let sev = |v: Severity| report.findings.iter().filter(|f| f.severity() == v).count();
    let mut missing: Vec<UnitIdx> = report
        .completeness
        .iter()
        .flat_map(|c| c.missing.iter().copied())
        .collect();
    missing.sort_unstable();
    missing.dedup();
    let names: Vec<&str> = missing
        .iter()
        .take(5)
        .map(|&u| registry.unit(u).name.as_str())
        .collect();
    let more = missing.len().saturating_sub(names.len());
    match lang {
        Lang::Zh => {
            let mut s = format!(
                "本次记录 {} 份：有效 {}，待更正 {}，重复收到 {}，未计入 {}；发现错误 {} 条、警告 {} 条",
                report.recorded.len(),
                status(Status::InForce),
                waiting,
                status(Status::IdenticalCopy),
                status(Status::Rejected),
                sev(Severity::Error),
                sev(Severity::Warning)
            );
            if !report.unchanged.is_empty() {
                s.push_str(&format!(
                    "；{} 个文件已在库中未改动",
                    report.unchanged.len()
                ));
            }
            // Complete only where a month was judged: not where nothing
            // new counted (files held already, a blank template).
            let judged = !report.completeness.is_empty();
            if judged && missing.is_empty() {
                s.push_str("；所涉月份各报表均已报齐");
            } else if judged {
                s.push_str(&format!(
                    "；所涉月份仍未报送 {} 个单位：{}",
                    missing.len(),
                    names.join("、")
                ));
                if more > 0 {
                    s.push_str(" 等");
                }
            }
            s
        }
        Lang::En => {
            let mut s = format!(
                "recorded {}: {} in force, {} awaiting a correction, {} identical copies, {} not counted; {} errors, {} warnings",
                report.recorded.len(),
                status(Status::InForce),
                waiting,
                status(Status::IdenticalCopy),
                status(Status::Rejected),
                sev(Severity::Error),
                sev(Severity::Warning)
            );
            if !report.unchanged.is_empty() {
                s.push_str(&format!(
                    "; {} files already held, unchanged",
                    report.unchanged.len()
                ));
            }
            let judged = !report.completeness.is_empty();
            if judged && missing.is_empty() {
                s.push_str("; the months ingested are complete");
            } else if judged {
                s.push_str(&format!(
                    "; still missing in those months: {} units ({}",
                    missing.len(),
                    names.join(", ")
                ));
                s.push_str(if more > 0 { ", …)" } else { ")" });
            }
            s
        }
    }
}

fn reason(s: &Submission) -> String {
    if s.reason.is_empty() {
        String::new()
    } else {
        format!("（{}）", crate::message::terminal_text(&s.reason))
    }
}

fn registry_as_csv(registry: &Registry) -> String {
    let mut out = String::from("code,name,level,parent_code,aliases\n");
    for u in &registry.units {
        let parent = u
            .parent
            .map(|p| registry.unit(p).code.to_string())
            .unwrap_or_default();
        out.push_str(&format!(
            "{},{},{},{parent},{}\n",
            u.code,
            u.name,
            u.level.id(),
            u.aliases.join("|")
        ));
    }
    out
}

/// A store error as a person reads it, in `lang`.
pub(crate) fn store_err(lang: Lang) -> impl Fn(store::StoreError) -> anyhow::Error {
    move |e| anyhow::anyhow!(e.render(lang))
}

/// The in-force submissions as a batch, with what reading their files
/// found; only the months up to the end of `period` (a report needs nothing
/// later: its history, 上期 and 同期 all come before its end). The returns
/// of `period` (with none, of the latest month when `latest`, else all) are
/// checked again, and only theirs have their layouts read.
///
/// With `history_from` (the text of the registry, read from the store's or
/// from the file given) and a period (or the latest month), the months
/// before it are read as the batch's history
/// ([`crate::observation::History`]), from their
/// counted figures where the store keeps them for what it holds, rather
/// than as returns: none of them is checked again, and the checks over
/// time and the roll-up read the same figures. A city's year at 2 threads
/// (release, six runs each alternating, medians): 2026Q4 loaded its store
/// in 0.072 s against 0.124 and took 0.61 s against 0.71 (peak 180–193 MiB
/// against 202–208); 2026Q3 0.54 s against 0.61; 2026Q2 0.48 against 0.51.
fn in_force_batch(
    st: &Store,
    registry: &Registry,
    schemas: &Schemas,
    (period, latest): (Option<Period>, bool),
    lang: Lang,
    scoped_from: Option<&Registry>,
    (keep_sheets, history_from): (bool, Option<&str>),
) -> anyhow::Result<(crate::observation::Batch, Vec<String>)> {
    let subs = st.submissions().map_err(store_err(lang))?;
    let until = period.map(|p| p.bounds().1.to_string());
    // The duplicates too: the run settles them again as the ingest did (none
    // counts), so a township that sent two different returns has reported
    // and waits on a correction, as consolidate of the same files says.
    let held: Vec<&Submission> = subs
        .iter()
        .filter(|s| matches!(s.status, Status::InForce | Status::Duplicate))
        .collect();
    let mut live: Vec<&Submission> = held
        .iter()
        .copied()
        .filter(|s| until.as_ref().is_none_or(|u| s.month <= *u))
        .collect();
    // Under --scope, a return of a unit of the whole registry outside the
    // scope is left out, and said once (as consolidate says it), not as a
    // unit missing from the registry.
    let mut outside = Vec::new();
    if let Some(full) = scoped_from {
        live.retain(|s| {
            let Some(code) = s
                .unit_code
                .map(crate::registry::UnitCode)
                .filter(|&c| registry.by_code(c).is_none() && full.by_code(c).is_some())
            else {
                return true;
            };
            // A unit above the scope (its county's summary) is told by its
            // code, as a file's text tells it.
            outside.push(crate::observation::Outside {
                file: s.file.clone(),
                sheet: s.sheet.clone(),
                above: registry.above_scope(&code.to_string()).map(str::to_string),
            });
            false
        });
    }
    // The returns checked again are those of the period the run reports,
    // of the months it holds: the pipeline's own rule.
    let judged = |held: &[crate::period::Month]| crate::pipeline::focus(period, latest, held);
    // The first month the run reports: the period's, or the latest month's.
    let first = match (period, latest) {
        (Some(p), _) => Some(p.bounds().0),
        (None, true) => store::latest_month(&live, registry, schemas),
        (None, false) => None,
    };
    let (live, history) = match (history_from, first) {
        (Some(registry_csv), Some(first)) => {
            let counted = store::counted_before(st, &subs, first, registry, registry_csv, schemas);
            store::split_history(st, live, counted, registry, schemas).map_err(store_err(lang))?
        }
        _ => (live, crate::observation::History::default()),
    };
    // The files' own findings (a blank sheet, an unknown unit), of the
    // files read: one read only as history is of other months (the
    // pipeline leaves out the findings of a file of no return of the
    // period, as it does for `consolidate`).
    let hashes: HashSet<&str> = live.iter().map(|s| s.content_hash.as_str()).collect();
    let (mut batch, mut notes) =
        store::load_batch(st, &live, registry, schemas, lang, &judged).map_err(store_err(lang))?;
    batch.outside = outside;
    batch.history = history;
    // A scope expects the forms the whole store holds.
    batch.expected_forms = store::forms_held(held.iter().copied(), schemas);
    if keep_sheets {
        // The feedback reproduces each return from the file the store kept
        // when it was ingested: the input files may be long gone.
        let by_file: std::collections::HashMap<&str, &Submission> =
            live.iter().map(|s| (s.file.as_str(), *s)).collect();
        let mut without = 0;
        let mut damaged = Vec::new();
        for (k, file) in batch.files.iter().enumerate() {
            let Some(s) = by_file.get(file.as_str()) else {
                continue;
            };
            match st.original(s) {
                store::Original::Kept(path) => batch.kept.extend(crate::ingest::kept_sheets(
                    &path,
                    k as crate::observation::FileIdx,
                )),
                store::Original::Damaged(_) => damaged.push(file.clone()),
                store::Original::NotKept => without += 1,
            }
        }
        if !damaged.is_empty() {
            notes.push(match lang {
                Lang::Zh => format!(
                    "数据库保存的 {} 份原件已损坏（内容与入库时不同）：{}；其退回修改工作簿只列问题，不附原表（phstats store verify 可查全部）",
                    damaged.len(),
                    damaged.join("、")
                ),
                Lang::En => format!(
                    "{} originals the store kept are damaged (not what was ingested): {}; their feedback lists the problems without a copy of the sheet (phstats store verify checks them all)",
                    damaged.len(),
                    damaged.join(", ")
                ),
            });
        }
        if without > 0 {
            notes.push(match lang {
                Lang::Zh => format!("{without} 份报表入库时数据库尚未保存原件，其退回修改工作簿只列问题，不附原表"),
                Lang::En => format!("{without} returns were ingested before the store kept originals: their feedback lists the problems without a copy of the sheet"),
            });
        }
    }
    batch.findings = st
        .file_findings()
        .map_err(store_err(lang))?
        .into_iter()
        .filter(|(h, _)| hashes.contains(h.as_str()))
        .map(|(_, f)| f)
        .collect();
    Ok((batch, notes))
}

/// A store opened for reading, with the registry (scoped or whole), the
/// forms and the period asked for: what `report` and `status` start from.
pub(crate) struct Opened {
    pub st: Store,
    pub full: Registry,
    pub scoped: Option<Registry>,
    /// `--units`, where given (else the store's registry).
    pub units_path: Option<String>,
    pub schemas: Schemas,
    pub period: Option<Period>,
    /// Without a period, every month rather than the latest (`confirm`).
    pub every_month: bool,
    /// The text of the registry `full` was read from, where it reads.
    registry_csv: Option<String>,
    /// The months before the period are read as history, from their
    /// counted figures where the store keeps them (see `in_force_batch`):
    /// for `report`, whose only use of them that is.
    pub history_as_counted: bool,
}

impl Opened {
    /// Opens `store` with `--units`, `--scope`, `--schemas` and `--period`.
    pub fn new(
        store: &std::path::Path,
        units: &Option<PathBuf>,
        scope: Option<&str>,
        schemas_dir: &Option<PathBuf>,
        period: Option<&str>,
        as_of: Option<&str>,
        lang: Lang,
    ) -> anyhow::Result<Opened> {
        let mut st = open(store, lang)?;
        // The store as it stood then: that generation's statuses, findings
        // and registry.
        if let Some(text) = as_of {
            let n = store::generation_named(&st, text).map_err(store_err(lang))?;
            st = st.as_of(n).map_err(store_err(lang))?;
        }
        let (full, origin) = registry(&st, units, lang)?;
        let units_path = units.as_ref().map(|_| origin);
        let scoped = scope
            .map(|scope| full.scoped(scope))
            .transpose()
            .map_err(|e| anyhow::anyhow!(e.render(lang)))?;
        let schemas = schemas(schemas_dir)?;
        let period = period.map(|p| parse_period(p, lang)).transpose()?;
        let registry_csv = match units {
            Some(p) => std::fs::read_to_string(p).ok(),
            None => st.registry_csv(),
        };
        Ok(Opened {
            st,
            full,
            scoped,
            units_path,
            schemas,
            period,
            every_month: false,
            registry_csv,
            history_as_counted: false,
        })
    }

    /// The registry reported: the scope's, else the whole one.
    pub fn registry(&self) -> &Registry {
        self.scoped.as_ref().unwrap_or(&self.full)
    }

    /// Runs the pipeline over what is in force, up to the period's end
    /// (the latest month without one), with the notes a report prints.
    pub fn run(
        &self,
        deadline_day: u32,
        indicators: bool,
        keep_sheets: bool,
        lang: Lang,
    ) -> anyhow::Result<(crate::pipeline::Outcome, Vec<String>)> {
        let registry = self.registry();
        let mut clock = crate::timings::Stopwatch::start();
        // Not under a scope (its registry is not the one the store's
        // counted figures name), nor for the feedback (which copies every
        // return it reads).
        let history_from = self
            .registry_csv
            .as_deref()
            .filter(|_| self.history_as_counted && self.scoped.is_none() && !keep_sheets);
        let (mut batch, mut notes) = in_force_batch(
            &self.st,
            registry,
            &self.schemas,
            (self.period, !self.every_month),
            lang,
            self.scoped.as_ref().map(|_| &self.full),
            (keep_sheets, history_from),
        )?;
        clock.lap("load store");
        // The registry's changes are the whole registry's, never the units a
        // scope leaves out; only a registry given with --units can differ
        // from the store's (without it, `full` is the store's own, and
        // comparing parsed it a second time for nothing).
        if self.units_path.is_some() {
            notes.extend(store::registry_changes(&self.st, &self.full, lang));
        }
        batch
            .findings
            .retain(|f| f.unit_code.is_none_or(|c| registry.by_code(c).is_some()));
        let selection = Selection {
            period: self.period,
            latest: !self.every_month,
            complete: true,
            keep_sheets,
            deadline_day,
            indicators,
            // Read from the store: see the field.
            forms_side_by_side: true,
        };
        let mut outcome =
            crate::pipeline::run_batch(batch, registry, &self.schemas, selection, clock)
                .map_err(|e| anyhow::anyhow!(e.render(lang)))?;
        // A warning a statistician confirmed shows as 已核实, and is no
        // longer open: the same rule on the same cell value, whatever run.
        let confirmed = self.st.confirmations().map_err(store_err(lang))?;
        if !confirmed.is_empty() {
            for f in &mut outcome.findings {
                if f.severity() == crate::findings::Severity::Error {
                    continue;
                }
                if let Some(c) = confirmed.get(&f.id()) {
                    f.confirmed = Some(c.note(lang));
                }
            }
        }
        Ok((outcome, notes))
    }
}

/// Runs `report --store`.
///
/// # Errors
/// A bad store, registry or period; an unwritable output.
pub fn report(args: &ReportArgs, langs: Langs) -> anyhow::Result<i32> {
    let lang = langs.terminal;
    let mut opened = Opened::new(
        &args.store,
        &args.units,
        args.scope.as_deref(),
        &args.schemas,
        args.period.as_deref(),
        args.as_of.as_deref(),
        lang,
    )?;
    opened.history_as_counted = true;
    let (outcome, notes) = opened.run(args.deadline_day, true, false, lang)?;
    let mut clock = crate::timings::Stopwatch::start();
    let target = Publish {
        registry: opened.registry(),
        schemas: &opened.schemas,
        // The 说明 names the registry in the workbook's language.
        units_path: opened
            .units_path
            .clone()
            .unwrap_or_else(|| store_registry(&opened.st, langs.files)),
        chosen: opened.period.is_some(),
        output: args.output.as_deref(),
        export: args.export.as_deref(),
        quiet: args.quiet,
        notes,
        published: &args.published,
        deadline_day: args.deadline_day,
    };
    let code = publish(outcome, &target, langs)?;
    clock.lap("outputs");
    Ok(code)
}

/// Unit name, form id, month: one submission's versions.
type Key = (String, String, String);

/// Runs `history`.
///
/// # Errors
/// A bad store.
pub fn history(args: &HistoryArgs, langs: Langs) -> anyhow::Result<i32> {
    let lang = langs.terminal;
    let st = open(&args.store, lang)?;
    let (registry, _) = registry(&st, &None, lang)?;
    let scoped = args
        .scope
        .as_deref()
        .map(|scope| registry.scoped(scope))
        .transpose()
        .map_err(|e| anyhow::anyhow!(e.render(lang)))?;
    let schemas = Schemas::builtin()?;
    let period = args
        .period
        .as_deref()
        .map(|p| parse_period(p, lang))
        .transpose()?;
    // A name that is nobody's, or several units', is said (exit 2), not
    // answered with "no submission matches".
    let unit = args
        .unit
        .as_deref()
        .map(|u| super::names::unit(&registry, u, "--unit", lang))
        .transpose()?
        .map(|i| registry.unit(i).code.0);
    let form = args
        .form
        .as_deref()
        .map(|f| super::names::form(&schemas, f, "--form", lang))
        .transpose()?
        .map(|f| schemas.form(f).id.clone());
    let subs = st.submissions().map_err(store_err(lang))?;
    let mut groups: Vec<(Key, Vec<&Submission>)> = Vec::new();
    for s in &subs {
        if unit.is_some_and(|u| s.unit_code != Some(u)) {
            continue;
        }
        // Under --scope, only its units' submissions (and none of unknown unit).
        if let Some(sc) = &scoped {
            if s.unit_code
                .is_none_or(|c| sc.by_code(crate::registry::UnitCode(c)).is_none())
            {
                continue;
            }
        }
        if form.as_deref().is_some_and(|f| s.form != f) {
            continue;
        }
        if let Some(p) = period {
            let inside = Period::parse(&s.month).is_some_and(|m| p.covers(m));
            if !inside {
                continue;
            }
        }
        let key = (s.unit_name.clone(), s.form.clone(), s.month.clone());
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(s),
            None => groups.push((key, vec![s])),
        }
    }
    if groups.is_empty() {
        crate::say!(
            "{}",
            lang.pick("数据库中没有符合条件的报表", "no submission matches")
        );
        return Ok(0);
    }
    for ((unit, form, month), versions) in &groups {
        let title = schemas
            .form_idx(form)
            .map(|i| schemas.form(i).title_in(lang).to_string())
            .unwrap_or_else(|| form.clone());
        let month = month_said(month, lang);
        crate::say!("== {unit} {month} {title} ==");
        // A version is one file as received: the sheets of one workbook
        // (a township's villages, one sheet each) share its number.
        let mut received: Vec<(&str, &str)> = Vec::new();
        for (k, s) in versions.iter().enumerate() {
            let this = (s.content_hash.as_str(), s.ingested_at.as_str());
            let version = match received.iter().position(|&r| r == this) {
                Some(v) => v + 1,
                None => {
                    received.push(this);
                    received.len()
                }
            };
            let when = s
                .ingested_at
                .get(..16)
                .unwrap_or(&s.ingested_at)
                .replace('T', " ");
            let dated = s.reported_on.as_deref().unwrap_or("—");
            // A backlog's day of receipt (--received) first: the day its
            // timeliness is judged by, then when it was entered.
            let came = match (&s.received_on, lang) {
                (Some(day), Lang::Zh) => format!("{day} 收到（{when} 补录）"),
                (Some(day), Lang::En) => format!("received {day} (entered {when})"),
                (None, Lang::Zh) => format!("{when} 收到"),
                (None, Lang::En) => format!("received {when}"),
            };
            match lang {
                Lang::Zh => crate::say!(
                    "  第 {version} 版 {came} {}!{}（报出日期 {dated}{}）：{}{}",
                    crate::message::terminal_text(&s.file),
                    crate::message::terminal_text(&s.sheet),
                    if s.correction { "，标注更正" } else { "" },
                    s.status.label(lang),
                    reason(s)
                ),
                Lang::En => crate::say!(
                    "  version {version} {came} {}!{} (dated {dated}{}): {}",
                    crate::message::terminal_text(&s.file),
                    crate::message::terminal_text(&s.sheet),
                    if s.correction {
                        ", marked a correction"
                    } else {
                        ""
                    },
                    s.status.label(lang)
                ),
            }
            // What a correction changed, cell by cell.
            if s.status == Status::InForce && s.correction && k > 0 {
                if let Some(prev) = versions[..k]
                    .iter()
                    .rev()
                    .find(|p| p.status == Status::Superseded)
                {
                    for line in diff(&st, prev, s, &registry, &schemas, lang)? {
                        crate::say!("      {line}");
                    }
                }
            }
        }
    }
    Ok(0)
}

/// The figures a correction changed: field, village, old → new.
fn diff(
    st: &Store,
    old: &Submission,
    new: &Submission,
    registry: &Registry,
    schemas: &Schemas,
    lang: Lang,
) -> anyhow::Result<Vec<String>> {
    let obs = st.observations_of(&[old, new]).map_err(store_err(lang))?;
    let empty = Vec::new();
    let (a, b) = (
        obs.get(&old.id).unwrap_or(&empty),
        obs.get(&new.id).unwrap_or(&empty),
    );
    let form = schemas.form_idx(&new.form).map(|i| schemas.form(i));
    let label = |f: &str| {
        form.and_then(|x| x.field_idx(f).map(|i| x.field(i).display_label()))
            .unwrap_or_else(|| f.to_string())
    };
    let name = |c: u64| {
        registry
            .by_code(UnitCode(c))
            .map(|u| registry.unit(u).name.clone())
            .unwrap_or_else(|| c.to_string())
    };
    let show = |v: Option<f64>| v.map_or_else(|| "（空）".to_string(), crate::message::num);
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for o in b {
        seen.insert((o.unit_code, o.field.clone()));
        let before = a
            .iter()
            .find(|x| x.unit_code == o.unit_code && x.field == o.field);
        let old_v = before.and_then(|x| x.value);
        if before.is_none() || old_v != o.value {
            out.push(format!(
                "{} {}（{}）：{} → {}",
                label(&o.field),
                name(o.unit_code),
                o.cell,
                show(old_v),
                show(o.value)
            ));
        }
    }
    for o in a {
        if !seen.contains(&(o.unit_code, o.field.clone())) && o.value.is_some() {
            out.push(format!(
                "{} {}：{} → （无此行）",
                label(&o.field),
                name(o.unit_code),
                show(o.value)
            ));
        }
    }
    Ok(out)
}

/// Runs `trace`.
///
/// # Errors
/// A bad store, period, unit or field.
pub fn trace(args: &TraceArgs, langs: Langs) -> anyhow::Result<i32> {
    let lang = langs.terminal;
    let st = open(&args.store, lang)?;
    let (registry, _) = registry(&st, &args.units, lang)?;
    let schemas = Schemas::builtin()?;
    let period = parse_period(&args.period, lang)?;
    let unit = super::names::unit(&registry, &args.unit, "--unit", lang)?;
    let (form_idx, field_idx) = super::names::field(&schemas, None, &args.field, "--field", lang)?;
    let form = schemas.form(form_idx);
    let field = form.field(field_idx);
    let (batch, _) = in_force_batch(
        &st,
        &registry,
        &schemas,
        (Some(period), false),
        lang,
        None,
        // Every part of a figure, with its cell: every month read whole.
        (false, None),
    )?;
    let selection = Selection {
        period: Some(period),
        latest: false,
        complete: true,
        keep_sheets: false,
        deadline_day: crate::validate::returns::DEADLINE_DAY,
        indicators: false,
        // Read from the store: see the field.
        forms_side_by_side: true,
    };
    let outcome = crate::pipeline::run_batch(
        batch,
        &registry,
        &schemas,
        selection,
        crate::timings::Stopwatch::start(),
    )
    .map_err(|e| anyhow::anyhow!(e.render(lang)))?;
    let u = registry.unit(unit);
    let value = outcome.aggregates.get(period, unit, form_idx, field_idx);
    let shown = |v: Option<f64>| {
        v.map_or_else(
            || lang.pick("（未报告）", "(not reported)").to_string(),
            |x| {
                if field.kind == Kind::Rate {
                    format!("{x:.1}")
                } else {
                    crate::message::num(x)
                }
            },
        )
    };
    match lang {
        Lang::Zh => crate::say!(
            "{} {} “{}” = {}",
            u.name,
            period.label_zh(),
            field.display_label(),
            shown(value)
        ),
        Lang::En => crate::say!(
            "{} {period} {} = {}",
            u.name,
            field.label().en,
            shown(value)
        ),
    }
    let b = &outcome.batch;
    let under = |leaf: UnitIdx| registry.ancestors_and_self(leaf).any(|a| a == unit);
    // The parts the roll-up counted, and those it did not, from the same
    // rules that made the figure (aggregate::explain).
    let parts = crate::aggregate::explain(
        b,
        &outcome.findings,
        &registry,
        &schemas,
        period,
        unit,
        form_idx,
        field_idx,
    );
    let label = |f: &crate::schema::Field| f.label().get(lang).to_string();
    let mut role = None;
    for p in &parts {
        if role != Some(p.role) {
            role = Some(p.role);
            let title = match (p.role, field.ratio) {
                (crate::aggregate::Role::Value, _) => label(field),
                (crate::aggregate::Role::Numerator, Some(r)) => match r.minus {
                    Some(m) => format!(
                        "{} − {}",
                        label(form.field(r.numerator)),
                        label(form.field(m))
                    ),
                    None => label(form.field(r.numerator)),
                },
                (_, Some(r)) => label(form.field(r.denominator)),
                (_, None) => String::new(),
            };
            crate::say!("  {title}{}", lang.pick("：", ":"));
        }
        let r = &b.returns[b.obs.ret[p.obs as usize] as usize];
        let place = format!(
            "{}!{}!{}",
            b.files[r.file as usize], r.sheet, b.obs.cell[p.obs as usize]
        );
        let note = match p.left {
            None => lang.pick("计入", "counted"),
            Some(l) => l.label(lang),
        };
        let v = p.value.map_or_else(|| "—".to_string(), crate::message::num);
        let place = crate::message::terminal_text(&place);
        match lang {
            Lang::Zh => crate::say!(
                "    {} {} {v} ← {place}（{note}）",
                registry.unit(p.unit).name,
                p.month
            ),
            Lang::En => crate::say!(
                "    {} {} {v} ← {place} ({note})",
                registry.unit(p.unit).name,
                p.month
            ),
        }
    }
    if field.ratio.is_some() {
        let sum = |r: crate::aggregate::Role| {
            parts
                .iter()
                .filter(|p| p.role == r && p.counted())
                .filter_map(|p| p.value)
                .sum::<f64>()
        };
        let n = crate::message::num(sum(crate::aggregate::Role::Numerator));
        let dsum = crate::message::num(sum(crate::aggregate::Role::Denominator));
        match lang {
            Lang::Zh => crate::say!(
                "  比率 = 分子之和 / 分母之和 × 100，每个单位每月分子、分母都报告才计入：分子 {n}，分母 {dsum}"
            ),
            Lang::En => crate::say!(
                "  rate = Σ numerator / Σ denominator × 100, a unit's month counting only where it reported both: numerator {n}, denominator {dsum}"
            ),
        }
    }
    if let Some(path) = &args.csv {
        crate::report::csv::write_trace(path, &parts, b, &registry)
            .map_err(|e| anyhow::anyhow!(e.render(lang)))?;
    }
    // Superseded or unsettled versions of the same figures, and why.
    let subs = st.submissions().map_err(store_err(lang))?;
    for s in &subs {
        if matches!(s.status, Status::InForce | Status::Rejected) || s.form != *form.id {
            continue;
        }
        let inside = Period::parse(&s.month).is_some_and(|m| period.covers(m));
        let mine = s
            .unit_code
            .and_then(|c| registry.by_code(UnitCode(c)))
            .is_some_and(under);
        if inside && mine {
            match lang {
                Lang::Zh => crate::say!(
                    "  未计入：{}!{}（{}）{}",
                    crate::message::terminal_text(&s.file),
                    crate::message::terminal_text(&s.sheet),
                    s.status.label(lang),
                    reason(s)
                ),
                Lang::En => crate::say!(
                    "  not counted: {}!{} ({})",
                    crate::message::terminal_text(&s.file),
                    crate::message::terminal_text(&s.sheet),
                    s.status.label(lang)
                ),
            }
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generations_withdrawals_are_listed_after_one_space() {
        let two = [
            ("a.xlsx!免疫".to_string(), "错发".to_string()),
            ("b.xlsx!家医".to_string(), "重复".to_string()),
        ];
        assert_eq!(
            withdrawn_said(&two, Lang::Zh),
            " a.xlsx!免疫（错发）、b.xlsx!家医（重复）"
        );
        assert_eq!(
            withdrawn_said(&two, Lang::En),
            " a.xlsx!免疫 (错发), b.xlsx!家医 (重复)"
        );
        assert_eq!(withdrawn_said(&two[..1], Lang::Zh), " a.xlsx!免疫（错发）");
        assert_eq!(withdrawn_said(&[], Lang::Zh), "");
    }
}
