//! `phstats status` (issue 30): the month's board in the terminal and as one
//! HTML page, opened by headless Chromium, against a hand-built month whose
//! counts are known: who sent, who did not, who was late, what waits on a
//! correction, and where the open errors are.

use crate::util::{self, text, Dir, V};

/// February of the hand registry (two townships):
/// - 城东街道's 家医 return arrived on 3 March (on time) with 新村's 签约
///   600 over its 500 residents: one `exceeds_denominator` error, at 新村;
/// - 新民镇 sent two different 家医 returns, neither marked 更正: received,
///   waiting on a correction, and dated by their ingest (late);
/// - 慢病 came from 城东街道 only: 新民镇 is missing it.
fn month(d: &Dir) {
    util::family(
        d,
        "a/城东街道202602.xlsx",
        "城东街道",
        2,
        &[("东门社区", 1000.0, 400.0), ("新村", 500.0, 600.0)],
    );
    util::family(
        d,
        "b/新民镇202602.xlsx",
        "新民镇",
        2,
        &[("新村", 300.0, 60.0), ("红旗村", 200.0, 50.0)],
    );
    util::family(
        d,
        "b/新民镇202602_二.xlsx",
        "新民镇",
        2,
        &[("新村", 300.0, 70.0), ("红旗村", 200.0, 50.0)],
    );
    let row = |name| {
        (
            name,
            vec![
                ("pop_35plus", V::N(800.0)),
                ("htn_managed", V::N(100.0)),
                ("htn_standard", V::N(70.0)),
            ],
        )
    };
    util::write_return(
        &d.path("a/城东街道202602_慢病.xlsx"),
        "chronic_disease",
        "城东街道",
        Some("2026年2月"),
        &[row("东门社区"), row("新村")],
        None,
    );
    for (dir, extra) in [("a", vec!["--received", "2026年3月3日"]), ("b", vec![])] {
        let mut args = vec!["ingest", dir, "--units", "units.csv", "--store", "db"];
        args.extend(extra);
        let out = util::phstats(d.tmp.path(), &args);
        assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    }
}

#[test]
fn the_board_says_who_sent_who_did_not_and_what_is_open() {
    let d = Dir::new();
    month(&d);
    let out = util::phstats(d.tmp.path(), &["status", "--store", "db"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.starts_with("青山市 2026年2月 报表进度（数据库第 2 版）"),
        "{said}"
    );
    let line = |short: &str| -> Vec<String> {
        said.lines()
            .find(|l| l.starts_with(short))
            .unwrap_or_else(|| panic!("no line {short}: {said}"))
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    // 家医: both townships sent (a duplicate is received), one of two dated
    // returns late.
    assert_eq!(
        line("家医签约"),
        ["家医签约", "2", "2", "100.0%", "50.0%", "—"]
    );
    // 慢病: only 城东街道, on time.
    assert_eq!(
        line("慢病管理"),
        ["慢病管理", "2", "1", "50.0%", "100.0%", "新民镇"]
    );
    assert!(said.contains("逾期（家医签约）1 份：新民镇"), "{said}");
    assert!(said.contains("待更正的重复报表 1 组"), "{said}");
    assert!(
        said.contains("新民镇 家医签约 2026年2月：b/新民镇202602.xlsx!family_doctor、b/新民镇202602_二.xlsx!family_doctor"),
        "{said}"
    );
    // Two errors: 新村's 签约 over its residents in 城东街道, and 新民镇's
    // duplicate; one warning, 新民镇's missing 慢病 return.
    let errors: usize = said
        .split("未解决的问题：错误 ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    assert_eq!(errors, 2, "{said}");
    assert!(said.contains("错误 2 条，警告 1 条"), "{said}");
    assert!(said.contains("  城东街道  错误    1  警告    0"), "{said}");
    assert!(said.contains("  新民镇    错误    1  警告    1"), "{said}");

    // The same board as a page.
    let out = util::phstats(
        d.tmp.path(),
        &["status", "--store", "db", "--html", "board.html"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let page = std::fs::read_to_string(d.path("board.html")).unwrap();
    assert!(
        page.contains("<code>a/城东街道202602.xlsx!family_doctor!"),
        "every finding names file!sheet!cell"
    );
    assert!(
        !page.contains("<script") && !page.contains("http"),
        "self-contained"
    );
    // Never replaced without --force.
    let again = util::phstats(
        d.tmp.path(),
        &["status", "--store", "db", "--html", "board.html"],
    );
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("--force"), "{}", text(&again));

    if !util::chromium("the status page in a real browser") {
        return;
    }
    // Loaded by a real browser: no console error, and the counts it shows
    // are the terminal's.
    let out = util::chromium_cmd(&d)
        .arg("--dump-dom")
        .arg(format!("file://{}", d.path("board.html").display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("CONSOLE") && !stderr.contains("Uncaught"),
        "{stderr}"
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    let shown = |form: &str, k: &str| -> String {
        let row = dom
            .split(&format!("<tr data-form=\"{form}\">"))
            .nth(1)
            .unwrap_or_else(|| panic!("no row {form}: {dom}"));
        let cell = row.split(&format!("data-k=\"{k}\">")).nth(1).unwrap();
        cell.split('<').next().unwrap().to_string()
    };
    for (form, short) in [
        ("family_doctor", "家医签约"),
        ("chronic_disease", "慢病管理"),
    ] {
        let t = line(short);
        assert_eq!(shown(form, "expected"), t[1]);
        assert_eq!(shown(form, "reported"), t[2]);
        assert_eq!(shown(form, "rate"), t[3]);
        assert_eq!(shown(form, "timeliness"), t[4]);
    }
    assert!(dom.contains("data-k=\"errors\">2<"), "{dom}");
    assert!(dom.contains("data-k=\"warnings\">1<"), "{dom}");
    assert!(dom.contains("data-k=\"waiting\">1<"), "{dom}");
    // A screenshot a person can look at.
    let out = util::chromium_cmd(&d)
        .arg(format!("--screenshot={}", d.path("board.png").display()))
        .arg("--window-size=1280,900")
        .arg(format!("file://{}", d.path("board.html").display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let png = std::fs::read(d.path("board.png")).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{}",
        png.len()
    );
}

/// `--scope` narrows the board to one township; a scope that is no unit
/// exits 2.
#[test]
fn the_board_of_one_township() {
    let d = Dir::new();
    month(&d);
    let out = util::phstats(
        d.tmp.path(),
        &["status", "--store", "db", "--scope", "新民镇"],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.starts_with("新民镇 2026年2月"), "{said}");
    assert!(
        said.contains("慢病管理") && said.contains("新民镇"),
        "{said}"
    );
    let line = said.lines().find(|l| l.starts_with("慢病管理")).unwrap();
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        ["慢病管理", "1", "0", "0.0%", "—", "新民镇"]
    );
    assert!(!said.contains("城东街道"), "{said}");
    let out = util::phstats(
        d.tmp.path(),
        &["status", "--store", "db", "--scope", "不存在镇"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// A quarter's board names each missing or late unit with its months: a
/// quarter summed its months' units into one list, and `逾期 200 份：东城街道、…`
/// did not say which of the three months a township was late in. February
/// as above; in March only 城东街道 sends 家医, received on 20 April (after
/// the deadline), and nobody sends 慢病.
#[test]
fn a_quarters_board_names_each_units_months() {
    let d = Dir::new();
    month(&d);
    util::family(
        &d,
        "c/城东街道202603.xlsx",
        "城东街道",
        3,
        &[("东门社区", 1000.0, 410.0), ("新村", 500.0, 300.0)],
    );
    let out = util::phstats(
        d.tmp.path(),
        &[
            "ingest",
            "c",
            "--units",
            "units.csv",
            "--store",
            "db",
            "--received",
            "2026-04-20",
        ],
    );
    assert!(out.status.code().unwrap() < 2, "{}", text(&out));
    let out = util::phstats(
        d.tmp.path(),
        &["status", "--store", "db", "--period", "2026Q1"],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let line = |short: &str| {
        said.lines()
            .find(|l| l.starts_with(short))
            .unwrap_or_else(|| panic!("no line {short}: {said}"))
            .to_string()
    };
    assert!(line("家医签约").ends_with("  新民镇（3月）"), "{said}");
    assert!(
        line("慢病管理").ends_with("  城东街道（3月）、新民镇（2月、3月）"),
        "{said}"
    );
    assert_eq!(
        line("逾期（家医签约）"),
        "逾期（家医签约）2 份：城东街道（3月）、新民镇（2月）"
    );
    // A month's board names the units alone.
    let out = util::phstats(
        d.tmp.path(),
        &["status", "--store", "db", "--period", "2026-03"],
    );
    let said = text(&out);
    assert!(said.contains("逾期（家医签约）1 份：城东街道\n"), "{said}");
    // In English, the months as 2026-03.
    let out = util::phstats(
        d.tmp.path(),
        &[
            "status", "--store", "db", "--period", "2026Q1", "--lang", "en",
        ],
    );
    let said = text(&out);
    assert!(
        said.contains("城东街道 (2026-03), 新民镇 (2026-02, 2026-03)"),
        "{said}"
    );
    assert!(
        said.contains("Late (Family doctor), 2: 城东街道 (2026-03), 新民镇 (2026-02)"),
        "{said}"
    );
}
