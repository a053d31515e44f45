//! The thin edge: parse arguments, run, map the result to an exit status
//! (0 clean, 1 errors found in the data, 2 usage or run failure).

use clap::Parser;

/// mimalloc: calamine allocates per cell and per XML event; glibc's
/// per-thread arenas made that slower and kept freed memory resident.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = phstats::cli::Cli::parse();
    match phstats::cli::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}
