//! `phstats status --store DIR [--period P] [--scope U] [--html FILE]`:
//! where the month is at — who has sent, who has not, who was late, what
//! waits on a correction and which errors are still open — on one screen,
//! and as one HTML page to open by double-click.

use std::path::PathBuf;

use super::store::Opened;
use super::Langs;
use crate::message::Lang;
use crate::report::board::Board;

/// Arguments of `status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store folder.
    #[arg(long, value_name = "DIR")]
    pub store: PathBuf,
    /// The period (default: the latest month in the store).
    #[arg(long, value_name = "P")]
    pub period: Option<String>,
    /// One county or township (code or name).
    #[arg(long, value_name = "CODE")]
    pub scope: Option<String>,
    /// Also write the board as one HTML page.
    #[arg(long, value_name = "FILE.html")]
    pub html: Option<PathBuf>,
    /// Replace an HTML page that is already there.
    #[arg(long)]
    pub force: bool,
    /// The unit registry CSV (default: the one the store ingested with).
    #[arg(long, value_name = "UNITS.csv")]
    pub units: Option<PathBuf>,
    /// Day of the next month by which a return is due.
    #[arg(long, value_name = "N", default_value_t = crate::validate::returns::DEADLINE_DAY)]
    pub deadline_day: u32,
    /// Read form schemas from this directory instead of the built-in three.
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,
}

/// Runs `status`.
///
/// # Errors
/// A bad store, registry, scope or period; an unwritable page.
pub fn run(args: &Args, langs: Langs) -> anyhow::Result<i32> {
    let lang = langs.terminal;
    if let Some(path) = args.html.as_deref().filter(|p| p.exists() && !args.force) {
        match lang {
            Lang::Zh => crate::say!(
                "{} 已经存在，未作替换；确要替换请加 --force",
                path.display()
            ),
            Lang::En => crate::say!(
                "{} is already there and was not replaced; add --force to replace it",
                path.display()
            ),
        }
        return Ok(2);
    }
    let opened = Opened::new(
        &args.store,
        &args.units,
        args.scope.as_deref(),
        &args.schemas,
        args.period.as_deref(),
        None,
        lang,
    )?;
    if opened.st.manifest.generation == 0 {
        match lang {
            Lang::Zh => crate::say!("数据库中还没有报表"),
            Lang::En => crate::say!("The store holds no return yet"),
        }
        return Ok(0);
    }
    let (outcome, _) = opened.run(args.deadline_day, false, false, lang)?;
    let registry = opened.registry();
    let Some(board) = Board::build(
        &outcome,
        registry,
        &opened.schemas,
        opened.st.manifest.generation,
    ) else {
        match lang {
            Lang::Zh => crate::say!("数据库中没有可计入的报表"),
            Lang::En => crate::say!("The store holds no return that counts"),
        }
        return Ok(0);
    };
    crate::say!("{}", board.terminal(lang).trim_end());
    if let Some(path) = &args.html {
        crate::report::write_atomic(path, board.html(langs.files).as_bytes())
            .map_err(|e| anyhow::anyhow!(e.render(lang)))?;
        match lang {
            Lang::Zh => crate::say!("已写出 {}", path.display()),
            Lang::En => crate::say!("wrote {}", path.display()),
        }
    }
    Ok(0)
}
