//! The thin edge: parse arguments, run, map the result to an exit status
//! (0 clean, 1 errors found in the data, 2 usage or run failure).

use clap::FromArgMatches as _;

/// mimalloc: calamine allocates per cell and per XML event; glibc's
/// per-thread arenas made that slower and kept freed memory resident.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    no_huge_pages();
    // A path need not be UTF-8 (a GBK name unzipped as it came from a
    // Windows office): `args()` panicked on one, before any message.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let texts: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let lang = phstats::message::Lang::terminal(phstats::cli::lang_in_args(&texts));
    // A bug of phstats is said as one, never blamed on a return (exit 101).
    phstats::fault::install_hook(lang);
    let parsed = phstats::cli::command(lang)
        .try_get_matches_from(&args)
        .and_then(|m| phstats::cli::Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        // --help and --version print as clap prints them (their headings in
        // Chinese already); an error is said in the terminal's language.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            eprintln!("{}", phstats::cli::usage_error(&e, lang));
            std::process::exit(2);
        }
    };
    let result = phstats::cli::run(cli);
    no_purge_at_exit();
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            // Each cause in the terminal's language: an output's error and
            // what the system said (in English) are rendered here.
            let causes: Vec<String> = e
                .chain()
                .map(|c| {
                    if let Some(r) = c.downcast_ref::<phstats::report::ReportError>() {
                        r.render(lang)
                    } else if let Some(io) = c.downcast_ref::<std::io::Error>() {
                        phstats::message::io_reason(io, phstats::message::Access::Any)
                            .get(lang)
                            .to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            eprintln!(
                "{}{}",
                lang.pick("错误：", "error: "),
                causes.join(lang.pick("：", ": "))
            );
            std::process::exit(2);
        }
    }
}

/// Turns transparent huge pages off for this process (Linux). mimalloc asks
/// for them on its arenas; each touched 2 MiB page then stays resident
/// whole, which cost a city-year run 70 MB of peak memory (260 → 190 MB) to
/// save a few per cent of its time in page faults.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE takes four integer arguments
    // and only sets a flag on this process; its result is not needed (an
    // older kernel without it just keeps huge pages).
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Leaves the memory mimalloc holds to the system at exit. Its exit
/// handler otherwise first gives every freed page back to the OS, one
/// range at a time, which the OS does anyway when the process ends: a
/// quarter's `report --store` of a city made 440 `madvise` calls there
/// (strace), and took 422 ms against 414 with this (2 threads, medians of
/// 20 runs alternating).
fn no_purge_at_exit() {
    /// `mi_option_purge_delay` (mimalloc.h; -1: never purge). The sys crate
    /// names no constant for it: it is the option between
    /// `mi_option_eager_commit_delay` (14) and `mi_option_use_numa_nodes`.
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: mi_option_set takes an option number and a value, and only
    // sets that option; mimalloc reads it again at its next purge.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}
