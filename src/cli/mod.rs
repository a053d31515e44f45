//! The command line: argument parsing and printing live here and nowhere
//! below. Each subcommand is one file: usage, an `Args` struct, one `run`.

/// `println!` that ends quietly when stdout is closed (`phstats rules | head`)
/// instead of panicking on a broken pipe.
#[macro_export]
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

pub mod changes;
pub mod check;
pub mod confirm;
pub mod consolidate;
pub mod names;
pub mod output;
pub mod progress;
pub mod rules;
pub mod sample_data;
pub mod status;
pub mod store;
pub mod template;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::message::Lang;
use crate::period::Period;
use crate::registry::Registry;
use crate::schema::Schemas;

/// Consolidate and validate township public-health returns (报表).
#[derive(Debug, Parser)]
#[command(name = "phstats", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Language of what phstats writes: zh (default) or en. The terminal
    /// also follows a LANG starting with `en`; workbooks only this flag.
    #[arg(long, global = true, value_name = "zh|en", value_parser = parse_lang)]
    pub lang: Option<Lang>,
}

fn parse_lang(text: &str) -> Result<Lang, String> {
    Lang::parse(text).ok_or_else(|| format!("`{text}` is not zh or en"))
}

/// Every text `--help` shows, in both languages: (subcommand, argument id,
/// 中文, English); an empty argument id is the command's own description.
/// clap's own headings (Usage, Options) are left as clap writes them.
const HELP: &[(&str, &str, &str, &str)] = &[
    ("", "", "汇总、审核乡镇卫生院和社区卫生服务中心报送的公共卫生报表", "Consolidate and validate township public-health returns (报表)"),
    ("", "lang", "输出语言：zh（默认，中文）或 en（英文）。终端在 LANG 以 en 开头时也用英文；工作簿只看此选项", "Language of what phstats writes: zh (default) or en. The terminal also follows a LANG starting with `en`; workbooks only this flag"),
    ("consolidate", "", "读入报表，逐项审核，写出汇总表", "Read returns, check them, and write the consolidated report (汇总表)"),
    ("check", "", "读入报表并审核每一个数字，不写汇总表", "Read returns and check every figure, without writing a report"),
    ("rules", "", "列出全部审核规则及其级别和说明", "List every validation rule with its severity and documentation"),
    ("sample-data", "", "生成一个虚构城市的单位名录、报表及其真实数字", "Generate a fictional city's registry, returns and their true values"),
    ("*", "inputs", "报表工作簿（.xlsx/.xls）或文件夹（递归查找）", "Return workbooks (.xlsx/.xls) and directories searched recursively"),
    ("*", "units", "单位名录 CSV（code,name,level,parent_code,aliases），UTF-8 或 GBK", "The unit registry CSV (code,name,level,parent_code,aliases), UTF-8 or GBK"),
    ("*", "period", "报告期：月（2026-01、2026年1月）、季（2026Q1）、半年（2026H1）、年（2026）或年初至今（2026-01..2026-06）。其他月份的报表只作历史比较", "The period reported: a month (2026-01), quarter (2026Q1), half (2026H1), year (2026) or year to date (2026-01..2026-06); other months are read only as history"),
    ("*", "scope", "只汇总名录中的一个县（区）或乡镇（代码或名称），范围外的报表略过", "Consolidate one subtree of the registry (a county's code or name); returns from outside it are left out"),
    ("*", "complete", "逐个给出文件时也视为全部报表，报告未报送的单位（给出文件夹时总是如此）", "Treat the inputs as the whole batch even when given file by file, so a unit that sent nothing is reported (a folder always is)"),
    ("*", "export", "把 aggregates.csv 和 findings.csv 写入此文件夹", "Write aggregates.csv and findings.csv into this directory"),
    ("*", "schemas", "从此文件夹读取报表式样，代替内置的三种", "Read form schemas from this directory instead of the built-in three"),
    ("*", "quiet", "只显示汇总，不逐条显示问题", "Print only the summary, not each finding"),
    ("*", "output", "要写出的汇总表工作簿", "The report workbook to write"),
    ("*", "targets", "目标值文件（CSV：year,form,field,level,value），写入主要指标表并与实际比较", "Targets per year, form, field and level (`year,form,field,level,value`)"),
    ("*", "signatures", "表尾签名：`单位负责人=张三,统计负责人=李四,填表人=王五,联系电话=0731-1234567,报出日期=2026年4月5日`", "Names for the footer: `单位负责人=张三,统计负责人=李四,填表人=王五,联系电话=0731-1234567,报出日期=2026年4月5日`"),
    ("*", "force", "汇总表文件已存在时替换它（默认不替换，报错退出）", "Replace a report workbook that is already there (by default it is never replaced)"),
    ("*", "issuer", "发文机关：通报的发文机关，也是汇总表的填报单位（默认为名录顶层单位名称加“卫生健康委员会”；顶层为乡镇（街道）时为其卫生院或社区卫生服务中心）", "The issuer: the 通报's issuer and the 汇总表's 填报单位 (default: the registry root's name + 卫生健康委员会; a township's health centre where the root is a township)"),
    ("*", "doc_no", "通报的发文字号，如“青卫通〔2026〕12号”（不给出时留空待填）", "The 通报's document number (青卫通〔2026〕12号); left blank to fill in when not given"),
    ("*", "to", "通报的主送机关（默认：市级为各县（区）卫生健康局，县级为各乡镇卫生院、社区卫生服务中心）", "The 通报's addressees (default by the units reported)"),
    ("*", "cc", "通报的抄送机关", "The 通报's copies to"),
    ("*", "date", "通报的成文日期（默认为当天）", "The 通报's date (default: today)"),
    ("*", "bulletin", "把通报写成 Word 文档（.docx）", "Write the 通报 as a Word document"),
    ("*", "store", "数据库文件夹", "The store folder"),
    ("*", "wait", "另一个程序正在写入数据库时，最多等待的秒数", "Seconds to wait for another writer of the store to finish"),
    ("*", "deadline_day", "报表截止日：次月第 N 日（默认 5）", "Day of the next month by which a return is due (default 5)"),
    ("history", "scope", "只列名录中一个县（区）或乡镇所属单位的报表（代码或名称）", "Only the returns of one county or township's units (code or name)"),
    ("template", "scope", "只写名录中一个县（区）的各乡镇（或一个乡镇）的模板（代码或名称）", "Only the townships of one county (or one township): code or name"),
    ("history", "unit", "只列这一个单位（名称或代码）", "Only this unit (name or code)"),
    ("history", "form", "只列这一种报表（代码或简称）", "Only this form (id or short name)"),
    ("ingest", "units", "单位名录 CSV：新建数据库时必须给出；之后默认用数据库中的名录，给出新的名录即记为新版本并列出变化", "The unit registry CSV: needed for a new store; afterwards the store's is used, and one given is its new version (the changes are listed)"),
    ("ingest", "received", "这批报表实际收到的日期（补录积压的报表时用），无报出日期的按此日判断是否及时", "The day these returns arrived (for a backlog ingested later): timeliness of those without a 报出日期 is judged by it"),
    ("withdraw", "", "把一份报表撤出有效数字（如误发的空白模板、别的乡镇的报表），保留在历史中并记下原因", "Take a submission out of force (a blank template sent by mistake, another township's return), kept in history with its reason"),
    ("withdraw", "target", "要撤回的报表：history 所列的文件名（或路径）或报表编号", "The submission: its file (name or path) as history lists it, or its id"),
    ("store", "", "数据库的各个版本：log 列出保留的版本，rollback N 回退到第 N 版，verify 检查文件是否完好", "The store's generations: log lists those kept, rollback N makes N the one in force, verify checks every file"),
    ("status", "", "本期报表进度：各表已收、未报、逾期、待更正的单位和未解决的错误", "Where the period is at: who has sent, who has not, who was late, what waits on a correction, the open errors"),
    ("status", "period", "报告期（默认为数据库中最近的月份）", "The period (default: the latest month in the store)"),
    ("status", "scope", "只看名录中的一个县（区）或乡镇（代码或名称）", "Only one county or township (code or name)"),
    ("status", "html", "同时把进度写成一个网页文件（双击即可打开，无需联网）", "Also write the board as one HTML page (opens by double-click, no network)"),
    ("status", "force", "网页文件已存在时替换它", "Replace an HTML page that is already there"),
    ("status", "units", "单位名录 CSV（默认用入库时的名录）", "The unit registry CSV (default: the one the store ingested with)"),
    ("changes", "", "列出自某一版本或某日以来变动的汇总数字（原数 → 现数）及引起变动的报表", "List every published figure that moved since a generation or a day (old → new) and the return that moved it"),
    ("changes", "period", "比较的报告期（2026-03、2026Q1）", "The period of the figures compared (2026-03, 2026Q1)"),
    ("changes", "since", "上报汇总表时的版本号（如 3，见 store log）或日期（如 2026-04-10，取当日结束时的版本）", "The generation (3, see store log) or the day (2026-04-10: the generation in force at its end) of the report sent"),
    ("changes", "scope", "只看名录中的一个县（区）或乡镇（代码或名称）", "Only one county or township (code or name)"),
    ("changes", "units", "单位名录 CSV（默认用入库时的名录）", "The unit registry CSV (default: the one the store ingested with)"),
    ("report", "as_of", "按某一版本（如 3）或某日（如 2026-04-10）结束时数据库中的数字写出汇总表", "The report as it stood at a generation (3) or by a day's end (2026-04-10)"),
    ("confirm", "", "把核实过的警告标为“已核实”（记下核实人和原因），此后不再列为待处理", "Mark checked warnings as confirmed (已核实), with who and why; they are no longer open"),
    ("confirm", "ids", "审核结果的编号（findings.csv 的 id 列，或 status --html 中的编号）", "The findings' ids (findings.csv's last column, or status --html)"),
    ("confirm", "reason", "核实的结论：为什么这个数字是对的（记入数据库）", "Why the figure is right (kept in the store)"),
    ("confirm", "by", "核实人（默认为登录用户名）", "Who confirms it (default: the login name)"),
    ("store", "action", "log：列出保留的各版本（何时、收入了什么、有效报表几份）；rollback N：把第 N 版设为有效（本身记为新的一版）；verify：检查有效版本列出的每个文件是否都在、能否读出", "log: list the generations kept (when, what came in, how many in force); rollback N: make generation N the one in force (itself a new generation); verify: check that every file the generation in force names is there and reads"),
    ("store", "generation", "要回退到的版本号（见 store log）", "The generation to roll back to (see store log)"),
    ("withdraw", "reason", "撤回的原因（记入历史）", "Why (kept in the history)"),
    ("ingest", "period", "未写明月份的报表所属的月份（2026-07、2026年7月）", "The month of returns that name none (2026-07, 2026年7月)"),
    ("report", "units", "单位名录 CSV（默认用入库时的名录）", "The unit registry CSV (default: the one the store ingested with)"),
    ("trace", "units", "单位名录 CSV（默认用入库时的名录）", "The unit registry CSV (default: the one the store ingested with)"),
    ("history", "period", "只列这一报告期内的月份", "Only the months of this period"),
    ("trace", "period", "该汇总数字的报告期（2026-03、2026Q1、2026）", "The period of the figure (2026-03, 2026Q1, 2026)"),
    ("trace", "unit", "单位（名称或代码）", "The unit (name or code)"),
    ("trace", "field", "指标代码（如 hepb1_rate）或名称", "The field id (hepb1_rate) or label"),
    ("trace", "csv", "把该数字的每个组成部分（单位、月份、数值、来源单元格、是否计入及原因）写入此 CSV 文件", "Also write every part of the figure (unit, month, value, source cell, counted and why not) to this CSV file"),
    ("check", "store", "审核数据库中有效的报表（不需要原文件：按入库时保存的原件写退回修改工作簿）", "Check what a store holds in force instead of files (the feedback is written from the originals it kept)"),
    ("check", "feedback", "为每个有问题的单位和月份写一份退回修改工作簿到此文件夹", "Write one feedback workbook (退回修改) per unit and month with problems into this directory"),
    ("check", "deadline", "退回修改后重新报送的截止日期，印在每份退回修改工作簿顶部（2026-08-10、2026年8月10日）", "The day by which corrected returns are due, printed at the top of each feedback workbook (2026-08-10)"),
    ("check", "contact", "联系人及电话，印在截止日期旁", "Whom a township asks about its feedback (a name and a telephone number), printed beside the deadline"),
    ("template", "", "为各乡镇写出填报模板（含公式、数据验证和工作表保护）", "Write fill-in templates (填报模板) for the townships to fill in"),
    ("template", "units", "单位名录 CSV（code,name,level,parent_code,aliases）", "The unit registry CSV (code,name,level,parent_code,aliases)"),
    ("template", "period", "模板的月份（2026-07、2026年7月）", "The month the templates are for (2026-07, 2026年7月)"),
    ("template", "output", "写出模板的文件夹", "The folder to write them into"),
    ("template", "form", "只写这一种报表（代码、简称或标题）", "Only this form (id, short name or title)"),
    ("template", "unit", "只写这一个乡镇（名称、别名或代码）", "Only this township (name, alias or code)"),
    ("template", "combined", "一个乡镇的各报表写在同一工作簿中，每表一个工作表", "All forms of a township in one workbook, one sheet each"),
    ("template", "schemas", "从此文件夹读取报表式样，代替内置的三种", "Read form schemas from this directory instead of the built-in three"),
    ("template", "issuer", "模板上的制定机关（默认为名录顶层单位名称加“卫生健康委员会”）", "The 制定机关 printed on the templates (default: the registry root's name + 卫生健康委员会)"),
    ("template", "store", "数据库：在各存量单元格的批注中显示上月有效数字", "A store: last month's stocks in force appear in a note on each stock cell"),
    ("ingest", "", "审核报表并记入数据库，保留全部历史版本", "Record returns in a store, with their history"),
    ("report", "", "按数据库中有效的数字写出汇总表", "Consolidate the figures in force in a store"),
    ("history", "", "列出数据库中各报表的历次版本及其状态", "List the versions of each submission in a store"),
    ("trace", "", "说明一个汇总数字由哪些单元格构成", "Explain where an aggregate of a store comes from"),
    ("ingest", "store", "数据库文件夹（不存在时新建）", "The store folder (made when it does not exist)"),
    ("ingest", "correction", "把每个输入都当作更正报表（未标注“更正”的重报）", "Mark every input a correction (a resubmission nobody labelled 更正)"),
    ("sample-data", "out", "输出文件夹", "Output directory"),
    ("sample-data", "townships", "乡镇（街道）个数（每县约 12 个）", "Townships in the city (about 12 per county)"),
    ("sample-data", "months", "月数，从 1 月起", "Months, from January"),
    ("sample-data", "year", "年份", "Year"),
    ("sample-data", "seed", "随机种子", "Random seed"),
    ("sample-data", "gaps", "约 2% 的单元格留空（未报告）", "Leave about 2 % of cells unreported (empty, `-` or `/`)"),
    ("sample-data", "xls", "每 K 份报表用 LibreOffice 转为 .xls（0 为不转）", "Convert every K-th return to .xls with LibreOffice (0 = none)"),
];

/// An argument's default said in its Chinese help (（默认 5）) rather than
/// clap's `[default: 5]`; not twice where the help already gives it.
fn default_in_chinese(a: clap::Arg) -> clap::Arg {
    if a.is_hide_default_value_set() || a.get_default_values().is_empty() {
        return a;
    }
    let help = a.get_help().map(ToString::to_string).unwrap_or_default();
    let help = if help.contains("默认") {
        help
    } else {
        let values: Vec<_> = a
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        format!("{help}（默认 {}）", values.join("、"))
    };
    a.hide_default_value(true).help(help)
}

/// The command line with its help in `lang`, from the `HELP` table.
#[must_use]
pub fn command(lang: Lang) -> clap::Command {
    use clap::CommandFactory as _;
    let mut cmd = Cli::command();
    for &(sub, arg, zh, en) in HELP {
        let text = lang.pick(zh, en).to_string();
        let subs: Vec<String> = match sub {
            // Every subcommand with that argument; entries further down
            // the table override it for one subcommand.
            "*" => cmd
                .get_subcommands()
                .filter(|c| c.get_arguments().any(|a| a.get_id() == arg))
                .map(|c| c.get_name().to_string())
                .collect(),
            "" => vec![],
            s => vec![s.to_string()],
        };
        let apply = |c: clap::Command| {
            if arg.is_empty() {
                c.about(text.clone())
            } else {
                c.mut_arg(arg, |a| a.help(text.clone()))
            }
        };
        if subs.is_empty() {
            cmd = apply(cmd);
        }
        for s in subs {
            cmd = cmd.mut_subcommand(s, apply);
        }
    }
    if lang == Lang::Zh {
        // clap's own scaffolding in Chinese too: the headings of --help and
        // of a usage error (issue 30).
        let zh = |c: clap::Command| {
            let template = zh_help_template(&c);
            c.help_template(template)
                .subcommand_help_heading("子命令")
                .disable_help_flag(true)
                .arg(
                    clap::Arg::new("help")
                        .short('h')
                        .long("help")
                        .action(clap::ArgAction::Help)
                        .help("显示本说明"),
                )
                .mut_args(|a| default_in_chinese(a.help_heading("选项")))
        };
        cmd = zh(cmd)
            .disable_help_subcommand(true)
            .disable_version_flag(true)
            .arg(
                clap::Arg::new("version")
                    .short('V')
                    .long("version")
                    .action(clap::ArgAction::Version)
                    .help("显示版本")
                    .help_heading("选项"),
            );
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect();
        for name in names {
            cmd = cmd.mut_subcommand(name, zh);
        }
    }
    cmd
}

/// The Chinese `--help` of `c`, its headings ending in a full-width colon
/// as every Chinese line of phstats does (`用法：`): clap's `{all-args}`
/// writes each heading with an ASCII one (`选项:`), so the sections are
/// laid out here — the subcommands, the arguments, then the options —
/// each only where `c` has something to list in it.
fn zh_help_template(c: &clap::Command) -> String {
    let mut t = String::from("{about-with-newline}\n用法：{usage}\n\n");
    if c.get_subcommands().any(|s| !s.is_hide_set()) {
        t.push_str("子命令：\n{subcommands}\n\n");
    }
    if c.get_positionals().any(|a| !a.is_hide_set()) {
        t.push_str("参数：\n{positionals}\n\n");
    }
    t.push_str("选项：\n{options}{after-help}");
    t
}

/// A command-line error as a person reads it in `lang` (issue 30): clap's
/// error kinds said as Chinese sentences, with the usage and where to find
/// help; English keeps clap's own words.
#[must_use]
pub fn usage_error(e: &clap::Error, lang: Lang) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if lang == Lang::En {
        return e.render().to_string();
    }
    let get = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join("、"),
        Some(ContextValue::StyledStr(s)) => s.to_string(),
        Some(ContextValue::StyledStrs(v)) => v
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("、"),
        Some(ContextValue::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let arg = get(ContextKind::InvalidArg);
    let value = get(ContextKind::InvalidValue);
    let mut text = match e.kind() {
        ErrorKind::UnknownArgument => format!("不认识的参数 {arg}"),
        ErrorKind::InvalidSubcommand => {
            format!("没有这个子命令：{}", get(ContextKind::InvalidSubcommand))
        }
        ErrorKind::InvalidValue => format!("参数 {arg} 的值“{value}”不对"),
        ErrorKind::ValueValidation => format!("参数 {arg} 的值“{value}”不对"),
        ErrorKind::MissingRequiredArgument => format!("缺少必需的参数：{arg}"),
        ErrorKind::MissingSubcommand => "缺少子命令".to_string(),
        ErrorKind::ArgumentConflict => {
            format!("参数 {arg} 不能与 {} 同时使用", get(ContextKind::PriorArg))
        }
        ErrorKind::TooManyValues => format!("参数 {arg} 多给了值“{value}”"),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("参数 {arg} 的值的个数不对")
        }
        ErrorKind::NoEquals => format!("参数 {arg} 的值要用 = 连写"),
        _ => format!("命令行有误：{}", e.kind()),
    };
    let valid = get(ContextKind::ValidValue);
    if !valid.is_empty() {
        text.push_str(&format!("；可用的值：{valid}"));
    }
    let suggested = [
        ContextKind::SuggestedArg,
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedValue,
    ]
    .into_iter()
    .map(get)
    .find(|s| !s.is_empty());
    if let Some(s) = suggested {
        text.push_str(&format!("；是否想用 {s}？"));
    }
    if let (ErrorKind::ValueValidation, Some(source)) = (e.kind(), std::error::Error::source(e)) {
        text.push_str(&format!("（{source}）"));
    }
    let usage = get(ContextKind::Usage);
    let usage = usage
        .trim()
        .trim_start_matches("Usage:")
        .trim_start_matches("用法：")
        .trim();
    let mut out = format!("错误：{text}");
    if !usage.is_empty() {
        out.push_str(&format!("\n\n用法：{usage}"));
    }
    out.push_str("\n\n更多说明请运行 phstats --help（或在子命令后加 --help）");
    out
}

/// The `--lang` given on a command line not yet parsed (for `--help`).
#[must_use]
pub fn lang_in_args(args: &[String]) -> Option<Lang> {
    args.iter()
        .enumerate()
        .find_map(|(i, a)| match a.strip_prefix("--lang") {
            Some("") => args.get(i + 1).and_then(|v| Lang::parse(v)),
            Some(rest) => rest.strip_prefix('=').and_then(Lang::parse),
            None => None,
        })
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read returns, check them, and write the consolidated report (汇总表).
    Consolidate(consolidate::Args),
    /// Read returns and check every figure, without writing a report.
    Check(check::Args),
    /// List every validation rule with its severity and documentation.
    Rules(rules::Args),
    /// Generate a fictional city's registry, returns and their true values.
    SampleData(sample_data::Args),
    /// Write fill-in templates (填报模板) for the townships to fill in.
    Template(template::Args),
    /// Record returns in a store, with their history.
    Ingest(store::IngestArgs),
    /// Consolidate the figures in force in a store.
    Report(store::ReportArgs),
    /// List the versions of each submission in a store.
    History(store::HistoryArgs),
    /// Explain where an aggregate of a store comes from.
    Trace(store::TraceArgs),
    /// Take a submission out of force, keeping it in the history.
    Withdraw(store::WithdrawArgs),
    /// The store's generations: log, rollback N, verify.
    Store(store::StoreArgs),
    /// Where the month is at: who has sent, who has not, what is open.
    Status(status::Args),
    /// What moved since a report went up: old → new, and which return moved it.
    Changes(changes::Args),
    /// Mark checked warnings as confirmed (已核实), with who and why.
    Confirm(confirm::Args),
}

/// Options shared by `consolidate` and `check`.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Return workbooks (.xlsx/.xls) and directories searched recursively
    /// (required, but for `check --store`).
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// The unit registry CSV (code,name,level,parent_code,aliases);
    /// required, but for `check --store`.
    #[arg(long, value_name = "UNITS.csv")]
    pub units: Option<PathBuf>,
    /// The period reported: a month (2026-01, 2026年1月…), a quarter
    /// (2026Q1), a half (2026H1), a year (2026) or a year to date
    /// (2026-01..2026-06). Returns of other months are read only as history
    /// for the checks over time.
    #[arg(long, value_name = "P")]
    pub period: Option<String>,
    /// Consolidate one subtree of the registry (a county's code or name):
    /// returns from outside it are left out.
    #[arg(long, value_name = "CODE")]
    pub scope: Option<String>,
    /// Treat the inputs as the whole batch even when given file by file, so
    /// a unit that sent nothing is reported (a folder always is).
    #[arg(long)]
    pub complete: bool,
    /// Write aggregates.csv and findings.csv into this directory.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// Read form schemas from this directory instead of the built-in three.
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,
    /// Print only the summary, not each finding.
    #[arg(long, short)]
    pub quiet: bool,
}

/// What `Common` resolves to before any file is read.
pub struct Setup {
    /// Units.
    pub registry: Registry,
    /// Forms.
    pub schemas: Schemas,
    /// `--period`.
    pub period: Option<Period>,
    /// Workbooks to read.
    pub inputs: Vec<crate::ingest::Input>,
    /// Whether the inputs are the whole batch (a folder, or `--complete`).
    pub complete: bool,
}

impl Common {
    /// Loads the registry and schemas and lists the inputs; any failure here
    /// is a usage error (exit 2).
    ///
    /// # Errors
    /// Bad period, unreadable or inconsistent registry, bad schema, missing input.
    pub fn setup(&self, lang: Lang) -> anyhow::Result<Setup> {
        let period = match &self.period {
            Some(p) => Some(Period::parse(p).with_context(|| match lang {
                Lang::Zh => format!("--period “{p}”不是月份（2026-01）、季度（2026Q1）、半年（2026H1）、年份（2026）或年初至今（2026-01..2026-06）"),
                Lang::En => format!("--period `{p}` is not a month (2026-01), quarter (2026Q1), half (2026H1), year (2026) or year to date (2026-01..2026-06)"),
            })?),
            None => None,
        };
        if self.inputs.is_empty() {
            match lang {
                Lang::Zh => anyhow::bail!("缺少要读入的报表：请给出报表文件或文件夹"),
                Lang::En => anyhow::bail!("no input: give the return files or folders to read"),
            }
        }
        let Some(units) = &self.units else {
            match lang {
                Lang::Zh => anyhow::bail!("缺少必需的参数：--units <UNITS.csv>（单位名录）"),
                Lang::En => anyhow::bail!("missing --units <UNITS.csv> (the unit registry)"),
            }
        };
        let mut registry = Registry::load(units).map_err(|e| anyhow::anyhow!(e.render(lang)))?;
        if let Some(scope) = &self.scope {
            registry = registry
                .scoped(scope)
                .map_err(|e| anyhow::anyhow!(e.render(lang)))?;
        }
        let schemas = match &self.schemas {
            Some(dir) => Schemas::from_dir(dir)?,
            None => Schemas::builtin()?,
        };
        let inputs =
            crate::ingest::collect_inputs(&self.inputs).map_err(|(path, missing)| {
                match (lang, missing) {
                    (Lang::Zh, true) => anyhow::anyhow!("输入 {path} 不存在"),
                    (Lang::En, true) => anyhow::anyhow!("input {path}: no such file or folder"),
                    (Lang::Zh, false) => anyhow::anyhow!("无法读取输入 {path}"),
                    (Lang::En, false) => anyhow::anyhow!("cannot read input {path}"),
                }
            })?;
        if inputs.is_empty() {
            let searched: Vec<String> = self.inputs.iter().map(|p| shown(p)).collect();
            match lang {
                Lang::Zh => {
                    anyhow::bail!("在 {} 中没有找到 .xlsx 或 .xls 文件", searched.join("、"))
                }
                Lang::En => {
                    anyhow::bail!("no .xlsx or .xls files found in {}", searched.join(", "))
                }
            }
        }
        let complete = self.complete || self.inputs.iter().any(|p| p.is_dir());
        Ok(Setup {
            registry,
            schemas,
            period,
            inputs,
            complete,
        })
    }
}

impl Setup {
    /// Reads, checks and consolidates the inputs, with a progress line when
    /// stderr is a terminal; `latest`: without `--period`, report the
    /// latest month rather than every month.
    ///
    /// # Errors
    /// A period with no return.
    pub fn run_pipeline(
        &self,
        latest: bool,
        keep_sheets: bool,
        lang: Lang,
    ) -> anyhow::Result<crate::pipeline::Outcome> {
        let counters = std::sync::Arc::new(crate::ingest::Progress::default());
        let selection = crate::pipeline::Selection {
            period: self.period,
            latest,
            complete: self.complete,
            keep_sheets,
            deadline_day: crate::validate::returns::DEADLINE_DAY,
            indicators: latest,
            forms_side_by_side: false,
        };
        progress::with_progress(self.inputs.len(), &counters, lang, || {
            crate::pipeline::run_watched(
                &self.inputs,
                &self.registry,
                &self.schemas,
                selection,
                Some(&counters),
            )
        })
        .map_err(|e| anyhow::anyhow!(e.render(lang)))
    }
}

/// Runs a parsed command; returns the exit status (0 clean, 1 errors in the data).
///
/// # Errors
/// A usage or I/O failure (exit 2).
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    let langs = Langs {
        terminal: Lang::terminal(cli.lang),
        files: cli.lang.unwrap_or_default(),
    };
    match cli.command {
        Command::Consolidate(a) => consolidate::run(&a, langs),
        Command::Check(a) => check::run(&a, langs),
        Command::Rules(a) => rules::run(&a, langs),
        Command::SampleData(a) => sample_data::run(&a, langs.terminal),
        Command::Template(a) => template::run(&a, langs),
        Command::Ingest(a) => store::ingest(&a, langs),
        Command::Report(a) => store::report(&a, langs),
        Command::History(a) => store::history(&a, langs),
        Command::Trace(a) => store::trace(&a, langs),
        Command::Withdraw(a) => store::withdraw(&a, langs),
        Command::Store(a) => store::store_cmd(&a, langs),
        Command::Status(a) => status::run(&a, langs),
        Command::Changes(a) => changes::run(&a, langs),
        Command::Confirm(a) => confirm::run(&a, langs),
    }
}

/// The languages a run writes in.
#[derive(Debug, Clone, Copy)]
pub struct Langs {
    /// The terminal: `--lang`, else `LANG`, else Chinese.
    pub terminal: Lang,
    /// Workbooks and the CSV messages: `--lang`, else Chinese.
    pub files: Lang,
}

/// `path` relative to the current directory when given so, for messages.
#[must_use]
pub fn shown(path: &Path) -> String {
    crate::ingest::path_text(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every argument of every subcommand has its help in both languages:
    /// a Chinese `--help` with one English line in it reads as unfinished.
    #[test]
    fn every_argument_has_help_in_both_languages() {
        let zh = command(Lang::Zh);
        let en = command(Lang::En);
        let mut missing = Vec::new();
        for (sz, se) in zh.get_subcommands().zip(en.get_subcommands()) {
            for (az, ae) in sz.get_arguments().zip(se.get_arguments()) {
                let id = az.get_id().as_str();
                if matches!(id, "help" | "version" | "lang") {
                    continue;
                }
                let text =
                    |a: &clap::Arg| a.get_help().map(ToString::to_string).unwrap_or_default();
                let (tz, te) = (text(az), text(ae));
                let has_han = tz.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
                if !has_han || tz == te {
                    missing.push(format!("{} --{id}: {tz}", sz.get_name()));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "help without a Chinese text:\n{}",
            missing.join("\n")
        );
    }
}
