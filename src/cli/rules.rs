//! `phstats rules`: every validation rule, its 中文名, severity and
//! documentation, in the terminal's language.

use super::Langs;
use crate::findings::Rule;
use crate::message::Lang;

/// Arguments of `rules` (none).
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Prints the rules.
///
/// # Errors
/// Never.
pub fn run(_: &Args, langs: Langs) -> anyhow::Result<i32> {
    for r in Rule::ALL {
        match langs.terminal {
            Lang::Zh => {
                let [what, why, example] = r.doc_zh();
                crate::say!("{} [{}]（{}）", r.zh(), r.id(), r.severity().zh());
                crate::say!("    作用：{what}");
                crate::say!("    为什么：{why}");
                crate::say!("    例子：{example}");
            }
            Lang::En => {
                crate::say!("{} ({})", r.id(), r.severity().id());
                for line in r.doc().lines() {
                    crate::say!("    {line}");
                }
            }
        }
        crate::say!();
    }
    Ok(0)
}
