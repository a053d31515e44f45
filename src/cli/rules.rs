//! `phstats rules`: every validation rule, its severity and documentation.

use crate::findings::Rule;

/// Arguments of `rules` (none).
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Prints the rules.
///
/// # Errors
/// Never.
pub fn run(_: &Args) -> anyhow::Result<i32> {
    for r in Rule::ALL {
        crate::say!("{} ({})", r.id(), r.severity().id());
        for line in r.doc().lines() {
            crate::say!("    {line}");
        }
        crate::say!();
    }
    Ok(0)
}
