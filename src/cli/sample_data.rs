//! `phstats sample-data OUT [--townships N] [--months M] [--year Y] [--seed S] [--xls K]`
//!
//! Generates a fictional city: `OUT/units.csv`, `OUT/returns/<month>/*.xlsx`
//! in the layout variants of FORMS.md §2, and `OUT/truth.csv` with every
//! village figure written, for tests and the benchmark. `--xls K` converts
//! every K-th return to legacy `.xls` with LibreOffice (`soffice`) when it is
//! installed.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Context as _;

use crate::message::Lang;
use crate::sample::{generate, Options};

/// Arguments of `sample-data`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output directory.
    pub out: PathBuf,
    /// Townships in the city (about 12 per county).
    #[arg(long, default_value_t = 6)]
    pub townships: usize,
    /// Months, from January.
    #[arg(long, default_value_t = 3)]
    pub months: u32,
    /// Year.
    #[arg(long, default_value_t = 2026)]
    pub year: i32,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Leave about 2 % of cells unreported (empty, `-` or `/`).
    #[arg(long)]
    pub gaps: bool,
    /// Convert every K-th return to .xls with LibreOffice (0 = none).
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub xls: usize,
}

/// Runs `sample-data`.
///
/// # Errors
/// Unwritable output, or LibreOffice failing when `--xls` is asked for.
pub fn run(args: &Args, lang: Lang) -> anyhow::Result<i32> {
    let opts = Options {
        townships: args.townships.max(1),
        months: args.months.clamp(1, 120),
        year: args.year,
        seed: args.seed,
        gaps: args.gaps,
    };
    let summary = generate(&args.out, &opts)?;
    let mut xls = 0;
    if args.xls > 0 {
        // A profile of its own, removed with this directory: LibreOffice
        // refuses to run beside another instance using the same one.
        let scratch = tempfile::tempdir()?;
        let profile = scratch.path().join("lo-profile");
        // One LibreOffice run per folder: starting it costs seconds, and
        // converting a city-year's returns one by one took minutes.
        let mut by_dir: Vec<(&std::path::Path, Vec<&PathBuf>)> = Vec::new();
        for path in summary.files.iter().step_by(args.xls) {
            let dir = path.parent().context(lang.pick(
                "生成的文件没有所在文件夹",
                "a generated file has a directory",
            ))?;
            match by_dir.iter_mut().find(|(d, _)| *d == dir) {
                Some((_, paths)) => paths.push(path),
                None => by_dir.push((dir, vec![path])),
            }
        }
        for (dir, paths) in by_dir {
            // A long batch now and then leaves some files unconverted
            // (LibreOffice gives up part-way): those are tried again.
            let mut left: Vec<&PathBuf> = paths;
            for _ in 0..3 {
                if left.is_empty() {
                    break;
                }
                Command::new("soffice")
                    .arg(format!("-env:UserInstallation=file://{}", profile.display()))
                    .args(["--headless", "--convert-to", "xls", "--outdir"])
                    .arg(dir)
                    .args(&left)
                    .output()
                    .context(lang.pick(
                        "无法运行 soffice（LibreOffice）转换 .xls：请安装 libreoffice-calc-nogui，或去掉 --xls",
                        "running soffice (LibreOffice) for --xls; install libreoffice-calc-nogui or drop --xls",
                    ))?;
                let mut missing = Vec::new();
                for path in left {
                    if path.with_extension("xls").exists() {
                        std::fs::remove_file(path)?;
                        xls += 1;
                    } else {
                        missing.push(path);
                    }
                }
                left = missing;
            }
            if let Some(path) = left.first() {
                match lang {
                    Lang::Zh => anyhow::bail!("soffice 未能把 {} 转为 .xls", path.display()),
                    Lang::En => anyhow::bail!("soffice could not convert {}", path.display()),
                }
            }
        }
    }
    match lang {
        Lang::Zh => crate::say!(
            "已为 {} 个单位写出 {} 份报表（其中 {} 份 .xls，数字单元格 {} 个），在 {}",
            summary.units,
            summary.files.len(),
            xls,
            summary.cells,
            args.out.display()
        ),
        Lang::En => crate::say!(
            "wrote {} returns ({} as .xls, {} figure cells) for {} units into {}",
            summary.files.len(),
            xls,
            summary.cells,
            summary.units,
            args.out.display()
        ),
    }
    Ok(0)
}
