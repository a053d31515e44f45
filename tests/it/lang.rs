//! What a person reads is Chinese by default and English on request: every
//! cell of the report and of the feedback workbooks made from a batch with
//! every kind of finding is scanned for English sentences, and the feedback
//! list prints one page wide.

use std::collections::HashSet;
use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader};
use rust_xlsxwriter::Formula;

use crate::util::{self, cell_of, pos_of, Dir, V};

/// A batch in which every rule of FORMS.md §4 fires at least once.
fn every_kind(d: &Dir) {
    let vac = "vaccination";
    let fd = "family_doctor";
    // Cell faults, an unknown and a repeated unit, a 合计 that does not add up.
    let mut wb = util::return_book(
        vac,
        vac,
        "城东街道",
        Some("2026年6月"),
        &[
            (
                "东门社区",
                vec![
                    ("hepb1_due", V::T("约30")),
                    ("hepb1_given", V::N(-2.0)),
                    ("bcg_due", V::N(12.5)),
                    ("ipv1_due", V::N(10.0)),
                    ("ipv1_given", V::N(12.0)),
                    ("mmr1_due", V::N(10.0)),
                    ("mmr1_given", V::N(9.0)),
                    ("mmr1_rate", V::N(95.0)),
                    // 20 first doses, 30 third: the township's dropout is
                    // −50 %, dropout_negative.
                    ("dtap1_due", V::N(20.0)),
                    ("dtap1_given", V::N(20.0)),
                    ("dtap3_due", V::N(30.0)),
                    ("dtap3_given", V::N(30.0)),
                ],
            ),
            ("新村", vec![("bcg_due", V::N(7.0))]),
            ("东们社区", vec![("bcg_due", V::N(1.0))]),
            ("新村村委会", vec![("bcg_due", V::N(1.0))]),
        ],
        Some(&("合计", vec![("bcg_due", V::N(30.0))])),
    );
    // A misspelt column label: a missing column and an unknown one.
    let (_, c) = pos_of(vac, "je1_given", 0);
    let ws = wb.worksheet_from_index(0).unwrap();
    ws.write_string(3, c, "实种人数（备用）").unwrap();
    // Dated late.
    ws.write_string(
        util::FIRST_DATA_ROW + 6,
        0,
        "填表人：李四    报出日期：2026年7月12日",
    )
    .unwrap();
    wb.save(d.path("in/城东街道_2026年6月_免疫.xlsx")).unwrap();
    // 新民镇: six months of family-doctor returns, a stock falling in June,
    // an outlier, and 签约 above 常住人口.
    for m in 1..=6u32 {
        let pop = if m == 6 { 500.0 } else { 1000.0 };
        let services = if m == 6 {
            400.0
        } else {
            30.0 + f64::from(m % 2)
        };
        let signed = if m == 6 { 700.0 } else { 300.0 };
        util::write_return(
            &d.path(&format!("in/新民镇_2026年{m}月_家医.xlsx")),
            fd,
            "新民镇",
            Some(&format!("2026年{m}月")),
            &[
                (
                    "新村",
                    vec![
                        ("resident_pop", V::N(pop)),
                        ("signed", V::N(signed)),
                        ("services", V::N(services)),
                    ],
                ),
                (
                    "红旗村",
                    vec![
                        ("resident_pop", V::N(200.0)),
                        ("signed", V::N(50.0)),
                        ("services", V::N(5.0)),
                    ],
                ),
            ],
            None,
        );
    }
    // 城东街道's June family-doctor return twice with different figures, once
    // more as an identical copy, and a correction of 新民镇's chronic return.
    for (file, signed) in [
        ("in/城东街道_家医_a.xlsx", 100.0),
        ("in/城东街道_家医_b.xlsx", 110.0),
    ] {
        util::write_return(
            &d.path(file),
            fd,
            "城东街道",
            Some("2026年6月"),
            &[
                ("东门社区", vec![("signed", V::N(signed))]),
                ("新村", vec![("signed", V::N(5.0))]),
            ],
            None,
        );
    }
    std::fs::copy(
        d.path("in/城东街道_家医_a.xlsx"),
        d.path("in/城东街道_家医_a(1).xlsx"),
    )
    .unwrap();
    // May's 年内已管理 60 at 新村, June's (corrected) 55: ytd_decrease.
    util::write_return(
        &d.path("in/新民镇_2026年5月_慢病.xlsx"),
        "chronic_disease",
        "新民镇",
        Some("2026年5月"),
        &[("新村", vec![("htn_managed", V::N(60.0))])],
        None,
    );
    for (file, managed) in [
        ("in/新民镇_慢病.xlsx", 50.0),
        ("in/新民镇_慢病_更正.xlsx", 55.0),
    ] {
        util::write_return(
            &d.path(file),
            "chronic_disease",
            "新民镇",
            Some("2026年6月"),
            &[
                ("新村", vec![("htn_managed", V::N(managed))]),
                ("红旗村", vec![("htn_managed", V::N(5.0))]),
            ],
            None,
        );
    }
    // Identity broken: a period that disagrees with the file name, none at
    // all, an unknown 填报单位.
    let rows = [
        ("东门社区", vec![("htn_managed", V::N(3.0))]),
        ("新村", vec![("htn_managed", V::N(3.0))]),
    ];
    util::write_return(
        &d.path("in/城东街道_202605_慢病.xlsx"),
        "chronic_disease",
        "城东街道",
        Some("2026年6月"),
        &rows,
        None,
    );
    util::write_return(
        &d.path("nodate/城东街道_慢病.xlsx"),
        "chronic_disease",
        "城东街道",
        None,
        &rows,
        None,
    );
    std::fs::rename(
        d.path("nodate/城东街道_慢病.xlsx"),
        d.path("in/慢病无日期.xlsx"),
    )
    .unwrap();
    util::write_return(
        &d.path("in/西山镇_2026年6月.xlsx"),
        "chronic_disease",
        "西山镇",
        Some("2026年6月"),
        &rows,
        None,
    );
    // A blank template sent back: empty_return.
    util::write_return(
        &d.path("in/新民镇_空白_慢病.xlsx"),
        "chronic_disease",
        "新民镇",
        Some("2026年6月"),
        &[("新村", vec![]), ("红旗村", vec![])],
        None,
    );
    // Unreadable and not a return.
    std::fs::write(
        d.path("in/乱码.xlsx"),
        b"\x00\x01 random bytes, not a workbook",
    )
    .unwrap();
    std::fs::write(
        d.path("in/网页.xls"),
        "<html><body><table><tr><td>1</td></tr></table></body></html>",
    )
    .unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "家庭医生签约服务情况月报表").unwrap();
    ws.write_formula(1, 0, Formula::new("=1+1").set_result("2"))
        .unwrap();
    wb.save(d.path("in/只有标题.xlsx")).unwrap();
}

/// Three or more English words in a row, outside ids (`total_mismatch`),
/// file and sheet names, cell ranges and formulas.
fn english_sentence(text: &str) -> Option<String> {
    if text.starts_with('=') {
        return None;
    }
    let mut run: Vec<&str> = Vec::new();
    for token in
        text.split(|c: char| c.is_whitespace() || "，。；：、（）()“”[]【】,;:".contains(c))
    {
        let word = token.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let is_word = word.len() >= 2
            && word.chars().all(|c| c.is_ascii_alphabetic())
            && !token.contains(['_', '.', '/', '!', '-']);
        if is_word {
            run.push(word);
            if run.len() >= 3 {
                return Some(run.join(" "));
            }
        } else if !token.is_empty() {
            run.clear();
        }
    }
    None
}

/// Every text cell of every sheet of a workbook.
fn texts(path: &Path) -> Vec<(String, String)> {
    let mut wb = open_workbook_auto(path).unwrap();
    let mut out = Vec::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).unwrap();
        for row in range.rows() {
            for c in row {
                if let Data::String(s) = c {
                    out.push((name.clone(), s.clone()));
                }
            }
        }
    }
    out
}

fn feedback_files(d: &Dir, dir: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(d.path(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn every_word_of_the_report_and_the_feedback_is_chinese() {
    let d = Dir::new();
    every_kind(&d);
    let out = util::run_in(
        &d,
        "consolidate",
        // Without --period: the latest month is reported, and the return
        // with no month anywhere is a period_missing.
        &["--export", "out", "-o", "r.xlsx"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rules: HashSet<String> = util::read_csv(&d.path("out/findings.csv"))
        .into_iter()
        .map(|f| f["rule"].clone())
        .collect();
    for rule in phstats::findings::Rule::ALL {
        assert!(
            rules.contains(rule.id()),
            "the batch lacks a {rule} finding: {rules:?}"
        );
    }
    let out = util::run_in(&d, "check", &["--feedback", "fb"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The terminal too, LANG or not, unless it asks for English.
    assert!(stdout.contains("错误[total_mismatch]"), "{stdout}");
    let mut books = vec![d.path("r.xlsx")];
    books.extend(feedback_files(&d, "fb"));
    assert!(books.len() >= 4, "{books:?}");
    let mut bad = Vec::new();
    for book in &books {
        for (sheet, text) in texts(book) {
            if let Some(run) = english_sentence(&text) {
                bad.push(format!("{}!{sheet}: `{run}` in {text}", book.display()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} English sentences, first: {:#?}",
        bad.len(),
        &bad[..bad.len().min(8)]
    );
    // The terminal's sentences are Chinese as well.
    for line in stdout.lines() {
        assert_eq!(english_sentence(line), None, "{line}");
    }
    // The statistician's 审核结果 and the township's list name their
    // columns alike (the list numbers its rows first).
    let row_of = |book: &Path, sheet: Option<&str>, first: &str| -> Option<Vec<String>> {
        let mut wb = open_workbook_auto(book).unwrap();
        for name in wb.sheet_names() {
            if sheet.is_some_and(|s| s != name) {
                continue;
            }
            let range = wb.worksheet_range(&name).unwrap();
            for row in range.rows() {
                if row.first().is_some_and(|c| *c == first) {
                    return Some(row.iter().map(ToString::to_string).collect());
                }
            }
        }
        None
    };
    let findings = row_of(&d.path("r.xlsx"), Some("审核结果"), "级别").unwrap();
    assert_eq!(findings[3], "报告期", "{findings:?}");
    for book in feedback_files(&d, "fb") {
        let list = row_of(&book, None, "序号").unwrap();
        assert_eq!(list[1..], findings[..], "{}", book.display());
    }
}

#[test]
fn english_on_request_and_the_terminal_follows_lang() {
    let d = Dir::new();
    every_kind(&d);
    let out = util::run_in(
        &d,
        "consolidate",
        &[
            "--lang", "en", "--export", "out", "-o", "r.xlsx", "--period", "2026-06",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("error[total_mismatch]") && stdout.contains("report for 2026-06"),
        "{stdout}"
    );
    let f = util::read_csv(&d.path("out/findings.csv"));
    let nan = f.iter().find(|x| x["rule"] == "not_a_number").unwrap();
    assert!(
        nan["message"].contains("is not a number"),
        "{}",
        nan["message"]
    );
    let wb = open_workbook_auto(d.path("r.xlsx")).unwrap();
    assert!(
        wb.sheet_names().contains(&"Findings".to_string()),
        "{:?}",
        wb.sheet_names()
    );
    // LANG=en: the terminal speaks English, the workbooks stay Chinese.
    let out = assert_cmd::Command::cargo_bin("phstats")
        .unwrap()
        .current_dir(d.tmp.path())
        .env("LANG", "en_US.UTF-8")
        .env_remove("LC_ALL")
        .args([
            "consolidate",
            "in",
            "--units",
            "units.csv",
            "-o",
            "r2.xlsx",
            "--export",
            "out2",
            "--period",
            "2026-06",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("error[total_mismatch]"), "{stdout}");
    let wb = open_workbook_auto(d.path("r2.xlsx")).unwrap();
    assert!(wb.sheet_names().contains(&"审核结果".to_string()));
    let f = util::read_csv(&d.path("out2/findings.csv"));
    let nan = f.iter().find(|x| x["rule"] == "not_a_number").unwrap();
    assert!(nan["message"].contains("不是数字"), "{}", nan["message"]);
    // --help and rules.
    let out = util::phstats(d.tmp.path(), &["consolidate", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("要写出的汇总表工作簿"));
    let out = util::phstats(d.tmp.path(), &["--lang", "en", "consolidate", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("The report workbook to write"));
    let out = util::phstats(d.tmp.path(), &["rules"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("合计不符 [total_mismatch]（错误）"));
}

#[test]
fn a_flow_reads_for_the_period_and_dates_are_chinese() {
    let d = Dir::new();
    every_kind(&d);
    util::run_in(&d, "consolidate", &["-o", "q.xlsx", "--period", "2026Q2"]);
    let all: Vec<String> = texts(&d.path("q.xlsx")).into_iter().map(|t| t.1).collect();
    let summary: Vec<String> = texts(&d.path("q.xlsx"))
        .into_iter()
        .filter(|t| t.0 == "家医签约")
        .map(|t| t.1)
        .collect();
    assert!(
        summary.iter().any(|t| t == "本季度履约服务人次"),
        "a quarter's flow"
    );
    assert!(!summary.iter().any(|t| t == "本月履约服务人次"));
    assert!(all.iter().any(|t| t.starts_with("报告期：2026年第二季度")));
    let generated = all
        .iter()
        .position(|t| t == "生成时间")
        .map(|i| all[i + 1].clone())
        .unwrap();
    assert!(
        generated.contains('年') && generated.contains('日'),
        "{generated}"
    );
    let _ = cell_of("family_doctor", "services", 0);
}

/// The feedback as LibreOffice prints it (issue 29): readable on every
/// page; the list one A4 landscape page wide with the deadline and the
/// contact at the top; the reproduced returns split by column with the
/// unit names repeated, never shrunk to a smudge.
#[test]
fn the_feedback_prints_readably_with_its_deadline_at_the_top() {
    if !util::soffice("printing the feedback") || !util::pdftotext("measuring the printed pages") {
        return;
    }
    let d = Dir::new();
    every_kind(&d);
    util::run_in(
        &d,
        "check",
        &[
            "--period",
            "2026-06",
            "--feedback",
            "fb",
            "--deadline",
            "2026-07-10",
            "--contact",
            "李四 0731-1234567",
        ],
    );
    let pages = util::prints_readably(&d, "fb/城东街道_2026年6月_退回修改.xlsx");
    let first = pages[0].text();
    // One page wide: its first and last columns on the first page.
    for needed in [
        "序号",
        "问题及修改建议",
        "请于2026年7月10日前修改后重新报送",
        "联系人：李四",
    ] {
        assert!(first.contains(needed), "{needed}: {first}");
    }
    assert!(pages[1..]
        .iter()
        .all(|p| !p.text().contains("问题及修改建议") || p.text().contains("序号")));
    let pdf = std::fs::read(d.path("pdf/城东街道_2026年6月_退回修改.pdf")).unwrap();
    let text = String::from_utf8_lossy(&pdf);
    // A4 landscape.
    let media = text
        .find("/MediaBox")
        .map(|i| text[i..i + 40].to_string())
        .unwrap_or_default();
    let dims: Vec<f64> = media
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|t| t.parse().ok())
        .collect();
    assert!(
        dims.len() >= 4 && (dims[2] - 842.0).abs() < 2.0 && (dims[3] - 595.0).abs() < 2.0,
        "not A4 landscape: {media}"
    );
}

#[test]
fn an_output_that_cannot_be_written_is_said_in_the_terminals_language() {
    let d = Dir::new();
    every_kind(&d);
    std::fs::write(d.path("挡路"), "a file where a folder should be").unwrap();
    std::fs::create_dir_all(d.path("文件夹.xlsx")).unwrap();
    let error_line = |out: &std::process::Output| {
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        stderr
            .lines()
            .find(|l| l.starts_with("错误：") || l.starts_with("error: "))
            .unwrap_or_else(|| panic!("no error line: {stderr}"))
            .to_string()
    };
    let export = [
        "--export",
        "挡路/out",
        "-o",
        "r.xlsx",
        "--period",
        "2026-06",
    ];
    let line = error_line(&util::run_in(&d, "consolidate", &export));
    assert_eq!(
        line,
        "错误：无法写入 挡路/out：路径中有一段是文件，不是文件夹"
    );
    // The report is written all the same.
    assert!(open_workbook_auto(d.path("r.xlsx")).is_ok());
    let line = error_line(&util::run_in(&d, "consolidate", &["-o", "文件夹.xlsx"]));
    assert!(line.ends_with("：这是一个文件夹"), "{line}");
    assert_eq!(english_sentence(&line), None, "{line}");
    let line = error_line(&util::run_in(&d, "consolidate", &["-o", "挡路/r.xlsx"]));
    assert!(
        line.contains("挡路") && line.ends_with("：已有同名的文件"),
        "{line}"
    );
    assert_eq!(english_sentence(&line), None, "{line}");
    // English on request.
    let mut en = vec!["--lang", "en", "--force"];
    en.extend(export);
    let line = error_line(&util::run_in(&d, "consolidate", &en));
    assert_eq!(
        line,
        "error: cannot write 挡路/out: part of the path is a file, not a folder"
    );
    // The store's files too: what the system said, in the terminal's language.
    let ingest = |lang: &[&str]| {
        let mut args = vec!["ingest", "in", "--units", "units.csv", "--store", "挡路/db"];
        args.extend_from_slice(lang);
        error_line(&util::phstats(d.tmp.path(), &args))
    };
    assert_eq!(
        ingest(&[]),
        "错误：数据库文件 挡路/db：路径中有一段是文件，不是文件夹；数据库保持原样"
    );
    assert_eq!(
        ingest(&["--lang", "en"]),
        "error: store 挡路/db: part of the path is a file, not a folder"
    );
}

/// clap's own words follow `--lang` too (issue 30): an unknown argument,
/// a missing one and a bad value are Chinese sentences with the usage
/// (exit 2), `--help` has Chinese headings, and English stays clap's.
#[test]
fn command_line_errors_and_help_headings_are_chinese() {
    let d = Dir::new();
    let run = |args: &[&str]| {
        let out = util::phstats(d.tmp.path(), args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, err, _) = run(&["history", "--store", "db", "--uint", "新村"]);
    assert_eq!(code, Some(2));
    assert!(
        err.starts_with("错误：不认识的参数 --uint；是否想用 --unit？"),
        "{err}"
    );
    assert!(
        err.contains("用法：phstats history") && !err.contains("Usage") && !err.contains("error:"),
        "{err}"
    );
    let (code, err, _) = run(&["trace", "--store", "db"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("缺少必需的参数：--period <P>、--unit <U>、--field <F>"),
        "{err}"
    );
    let (code, err, _) = run(&["report", "--store", "db", "--deadline-day", "五"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("参数 --deadline-day <N> 的值“五”不对"),
        "{err}"
    );
    let (code, _, help) = run(&["trace", "--help"]);
    assert_eq!(code, Some(0));
    assert!(
        help.contains("用法：") && help.contains("选项：") && help.contains("显示本说明"),
        "{help}"
    );
    // Every heading ends in a full-width colon, as 用法： does; the
    // arguments apart from the options, before them.
    for args in [&["--help"][..], &["store", "--help"], &["trace", "--help"]] {
        let (code, _, help) = run(args);
        assert_eq!(code, Some(0));
        for ascii in ["选项:", "子命令:", "参数:"] {
            assert!(!help.contains(ascii), "{args:?}: {help}");
        }
    }
    let (_, _, help) = run(&["--help"]);
    assert!(help.contains("\n子命令：\n  consolidate"), "{help}");
    let (_, _, help) = run(&["store", "--help"]);
    let (args_at, options_at) = (
        help.find("\n参数：\n  <log|rollback|verify>"),
        help.find("\n选项：\n"),
    );
    assert!(
        args_at.zip(options_at).is_some_and(|(a, o)| a < o)
            && !help[options_at.unwrap_or(0)..].contains("<log|rollback|verify>  "),
        "{help}"
    );
    assert!(
        !help.contains("Usage") && !help.contains("Options") && !help.contains("Print help"),
        "{help}"
    );
    // Defaults in the help's own words, once.
    let (_, _, help) = run(&["sample-data", "--help"]);
    assert!(
        help.contains("随机种子（默认 1）") && !help.contains("[default"),
        "{help}"
    );
    let (_, _, help) = run(&["status", "--help"]);
    assert!(
        help.contains("次月第 N 日（默认 5）") && !help.contains("[default"),
        "{help}"
    );
    // No English sentence in any Chinese help: clap lists a value enum's
    // variants with their (English) doc comments unless told not to.
    let english = regex::Regex::new(r"\b[A-Za-z]{2,} [a-z]{2,} [a-z]{2,}\b").unwrap();
    let (_, _, top) = run(&["--help"]);
    let subcommands: Vec<&str> = top
        .lines()
        .skip_while(|l| !l.starts_with("子命令"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        subcommands.contains(&"store") && subcommands.len() >= 10,
        "{top}"
    );
    for sub in subcommands {
        let (code, _, help) = run(&[sub, "--help"]);
        assert_eq!(code, Some(0), "{sub}");
        assert!(!english.is_match(&help), "{sub}: {help}");
    }
    let (_, _, help) = run(&["store", "--help"]);
    assert!(help.contains("rollback N：把第 N 版设为有效"), "{help}");
    let (_, _, help) = run(&["--lang", "en", "store", "--help"]);
    assert!(
        help.contains("rollback N: make generation N the one in force")
            && !help.contains("Possible values"),
        "{help}"
    );
    let (code, err, _) = run(&["--lang", "en", "history", "--store", "db", "--uint", "x"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unexpected argument '--uint'"), "{err}");
}

/// A report from a store names the store's registry in the workbook's
/// language: English with `--lang en`, Chinese where only the terminal
/// speaks English (`LANG=en_US.UTF-8`).
#[test]
fn the_stores_registry_is_named_in_the_workbooks_language() {
    let d = Dir::new();
    util::ingest_sample_month(&d, "2026-01", &[]);
    let registry_line = |book: &str, sheet: &str| -> String {
        let mut wb = open_workbook_auto(d.path(book)).unwrap();
        let range = wb.worksheet_range(sheet).unwrap();
        range
            .rows()
            .filter_map(|r| match (&r[0], r.get(1)) {
                (Data::String(a), Some(Data::String(b)))
                    if a == "Unit registry" || a == "单位登记表" =>
                {
                    Some(b.clone())
                }
                _ => None,
            })
            .next()
            .unwrap_or_else(|| panic!("no registry line in {book}"))
    };
    let report = |book: &str, lang_en: bool, env_en: bool| {
        let mut cmd = assert_cmd::Command::cargo_bin("phstats").unwrap();
        cmd.current_dir(d.tmp.path()).env_remove("LC_ALL");
        if env_en {
            cmd.env("LANG", "en_US.UTF-8");
        } else {
            cmd.env("LANG", "C.UTF-8");
        }
        let mut args = vec!["report", "--store", "db", "-o", book, "--quiet"];
        if lang_en {
            args.extend(["--lang", "en"]);
        }
        let o = cmd.args(&args).output().unwrap();
        assert!(
            o.status.code().unwrap() < 2,
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    report("en.xlsx", true, false);
    let line = registry_line("en.xlsx", "Notes");
    assert!(line.starts_with("db (the store's registry)"), "{line}");
    assert!(
        !line.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)),
        "{line}"
    );
    report("zh.xlsx", false, true);
    let line = registry_line("zh.xlsx", "说明");
    assert!(line.starts_with("db（数据库中的单位名录）"), "{line}");
}
