//! The thin edge: parse arguments, run, map the result to an exit status
//! (0 clean, 1 errors found in the data, 2 usage or run failure).

use clap::FromArgMatches as _;

/// mimalloc: calamine allocates per cell and per XML event; glibc's
/// per-thread arenas made that slower and kept freed memory resident.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let lang = phstats::message::Lang::terminal(phstats::cli::lang_in_args(&args));
    let matches = phstats::cli::command(lang).get_matches_from(&args);
    let cli = match phstats::cli::Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match phstats::cli::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("{}{e:#}", lang.pick("错误：", "error: "));
            std::process::exit(2);
        }
    }
}
