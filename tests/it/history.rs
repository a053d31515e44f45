//! Cross-period checks end to end (FORMS.md §4): six months of one
//! township's family-doctor returns with a known stock drop and a known
//! outlier, a slowly growing stock that must not be flagged, and a return
//! whose column label was deleted.

use crate::util::{self, cell_of, Dir, V};

#[test]
fn stock_drops_and_outliers_over_months() {
    let d = Dir::new();
    let fd = "family_doctor";
    // 新村: resident_pop (stock) 1000 ×5 then 800 (−20 %: stock_drop; not
    // an outlier: the MAD and mean deviation are 0 and 20 % is under 50 %).
    // services (flow) 50 52 48 51 49 then 300: outlier (modified z far
    // above 3.5, |300 − 50| > max(5, 5)).
    // 红旗村: key_pop 195 196 196 196 196 197: neither.
    let pop = [1000.0, 1000.0, 1000.0, 1000.0, 1000.0, 800.0];
    let services = [50.0, 52.0, 48.0, 51.0, 49.0, 300.0];
    let key = [195.0, 196.0, 196.0, 196.0, 196.0, 197.0];
    for m in 0..6 {
        util::write_return(
            &d.path(&format!("in/新民镇_2026-0{}.xlsx", m + 1)),
            fd,
            "新民镇",
            Some(&format!("2026年{}月", m + 1)),
            &[
                (
                    "新村",
                    vec![
                        ("resident_pop", V::N(pop[m])),
                        ("services", V::N(services[m])),
                    ],
                ),
                ("红旗村", vec![("key_pop", V::N(key[m]))]),
            ],
            None,
        );
    }
    // 城东街道, June: the 常住人口数 and 序号 labels were deleted.
    let mut wb = util::return_book(
        fd,
        fd,
        "城东街道",
        Some("2026-06"),
        &[
            (
                "东门社区",
                vec![("resident_pop", V::N(70.0)), ("signed", V::N(30.0))],
            ),
            (
                "新村",
                vec![("resident_pop", V::N(90.0)), ("signed", V::N(40.0))],
            ),
        ],
        None,
    );
    let ws = wb.worksheet_from_index(0).unwrap();
    let (_, pop_col) = util::pos_of(fd, "resident_pop", 0);
    ws.write_blank(2, pop_col, &rust_xlsxwriter::Format::new())
        .unwrap();
    // The 序号 label is gone too: 1, 2 down column A is a serial, not figures.
    ws.write_blank(2, 0, &rust_xlsxwriter::Format::new())
        .unwrap();
    wb.save(d.path("in/城东街道_2026-06.xlsx")).unwrap();

    let out = util::run_in(&d, "check", &["--export", "out"]);
    assert_eq!(out.status.code(), Some(1), "missing_column is an error");
    let f = util::read_csv(&d.path("out/findings.csv"));
    let of = |rule: &str| -> Vec<_> { f.iter().filter(|x| x["rule"] == rule).collect() };

    let drops = of("stock_drop");
    assert_eq!(drops.len(), 1, "{f:#?}");
    assert!(drops[0]["file"].ends_with("新民镇_2026-06.xlsx"));
    assert_eq!(drops[0]["cell"], cell_of(fd, "resident_pop", 0));
    assert_eq!(drops[0]["field"], "resident_pop");
    assert_eq!(drops[0]["severity"], "warning");
    assert_eq!(drops[0]["period"], "2026-06");

    let outliers = of("outlier");
    assert_eq!(outliers.len(), 1, "{f:#?}");
    assert!(outliers[0]["file"].ends_with("新民镇_2026-06.xlsx"));
    assert_eq!(outliers[0]["cell"], cell_of(fd, "services", 0));
    assert_eq!(outliers[0]["value"], "300");
    assert_eq!(outliers[0]["unit_code"], "439902101201");

    let missing = of("missing_column");
    assert_eq!(missing.len(), 1, "{missing:#?}");
    assert!(missing[0]["file"].ends_with("城东街道_2026-06.xlsx"));
    assert_eq!(missing[0]["field"], "resident_pop");
    // Its figures are not silently dropped: the column is named, at its
    // first figure, in the return's one unknown_column finding.
    let unlabelled: Vec<_> = of("unknown_column")
        .into_iter()
        .filter(|x| x["file"].ends_with("城东街道_2026-06.xlsx"))
        .collect();
    assert_eq!(unlabelled.len(), 1, "once per return: {f:#?}");
    assert_eq!(unlabelled[0]["cell"], cell_of(fd, "resident_pop", 0));
    assert!(
        unlabelled[0]["message"].contains("2 个数"),
        "{}",
        unlabelled[0]["message"]
    );
}
