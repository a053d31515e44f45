//! `phstats confirm --store DIR ID… --reason TEXT [--by NAME]`: a warning a
//! statistician has checked (a catch-up campaign's jump, a village merged
//! into another) is kept in the store as confirmed, with who and why. It
//! then shows as 已核实 in 审核结果, `status` and the feedback and is no
//! longer open; the same rule on the same cell value is never raised as new
//! again, and a changed value is (the id covers the value).

use std::path::PathBuf;

use super::store::{store_err, Opened};
use super::Langs;
use crate::findings::Severity;
use crate::message::Lang;
use crate::store::{Confirmation, StoreLock};

/// Arguments of `confirm`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store folder.
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// The findings' ids (the last column of findings.csv, or status --html).
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// Why the figure is right (kept with it).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Who confirms it (default: the login name).
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// Seconds to wait for another writer of the store to finish.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,
}

/// Runs `confirm`.
///
/// # Errors
/// A bad store; an id that is no finding of the store, or an error's.
pub fn run(args: &Args, langs: Langs) -> anyhow::Result<i32> {
    let lang = langs.terminal;
    let _lock = StoreLock::take(
        &args.store,
        std::time::Duration::from_secs(args.wait),
        "confirm",
    )
    .map_err(store_err(lang))?;
    let mut opened = Opened::new(&args.store, &None, None, &None, None, None, lang)?;
    opened.every_month = true;
    let (outcome, _) = opened.run(crate::validate::returns::DEADLINE_DAY, false, false, lang)?;
    let by = args
        .by
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| lang.pick("未署名", "unsigned").to_string());
    let at = crate::store::now_iso();
    let mut found = Vec::new();
    for id in &args.ids {
        let id = id.trim().to_ascii_lowercase();
        let Some(f) = outcome.findings.iter().find(|f| f.id() == id) else {
            match lang {
                Lang::Zh => anyhow::bail!(
                    "数据库中没有编号为 {id} 的审核结果（编号见 findings.csv 的 id 列，或 status --html 中各条问题后的编号）；未作任何改动"
                ),
                Lang::En => anyhow::bail!(
                    "the store has no finding {id} (ids are findings.csv's last column, or shown by status --html); nothing was changed"
                ),
            }
        };
        if f.severity() == Severity::Error {
            match lang {
                Lang::Zh => anyhow::bail!(
                    "{id} 是错误（{}），数字不可能正确，须更正后重新报送，不能核实；未作任何改动",
                    f.rule.zh()
                ),
                Lang::En => anyhow::bail!(
                    "{id} is an error ({}): the figure cannot be right and must be corrected, not confirmed; nothing was changed",
                    f.rule.id()
                ),
            }
        }
        found.push((
            f,
            Confirmation {
                id: id.clone(),
                rule: f.rule.id().to_string(),
                location: f.location(),
                value: f.value.clone().unwrap_or_default(),
                reason: args.reason.clone(),
                by: by.clone(),
                at: at.clone(),
            },
        ));
    }
    opened
        .st
        .confirm(found.iter().map(|(_, c)| c.clone()).collect())
        .map_err(store_err(lang))?;
    for (f, c) in &found {
        let loc = crate::message::terminal_text(&c.location).into_owned();
        match lang {
            Lang::Zh => crate::say!(
                "已核实 {} {}[{}] {loc}：{}",
                c.id,
                f.severity_label(lang),
                f.rule.id(),
                c.reason
            ),
            Lang::En => crate::say!(
                "confirmed {} {}[{}] {loc}: {}",
                c.id,
                f.severity_label(lang),
                f.rule.id(),
                c.reason
            ),
        }
    }
    Ok(0)
}
