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

/// The held-out style of slip, put into a generated city's September, is
/// caught under both rules of FORMS.md §4 (a count with a history median of
/// 20 or more by the modified z-score, a smaller one by the Poisson model),
/// and the clean months of small counts raise nothing: the generator draws
/// its flows from a Poisson of each village's own mean, so an outlier among
/// them would be a false one.
#[test]
fn slips_are_caught_and_ordinary_small_counts_are_not_outliers() {
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    let d = Dir::new();
    util::corpus(&d, 6, 9, false, 11);
    let check = |out: &str| {
        let o = util::phstats(
            d.tmp.path(),
            &[
                "check",
                "corpus/returns",
                "--units",
                "corpus/units.csv",
                "--export",
                out,
                "-q",
            ],
        );
        assert!(
            o.status.code().is_some_and(|c| c <= 1),
            "{}",
            util::text(&o)
        );
        util::read_csv(&d.path(&format!("{out}/findings.csv")))
            .into_iter()
            .filter(|f| f["rule"] == "outlier")
            .map(|f| {
                (
                    f["period"].clone(),
                    f["unit_code"].clone(),
                    f["field"].clone(),
                )
            })
            .collect::<BTreeSet<_>>()
    };

    // The generator's truth: (unit, form, field) → value by month.
    let schemas = phstats::schema::Schemas::builtin().unwrap();
    let flow = |form: &str, field: &str| {
        let f = &schemas.forms[schemas.form_idx(form).unwrap() as usize];
        f.field_idx(field)
            .is_some_and(|i| f.field(i).kind == phstats::schema::Kind::Flow)
    };
    let mut truth: BTreeMap<(String, String, String), BTreeMap<String, f64>> = BTreeMap::new();
    for r in util::read_csv(&d.path("corpus/truth.csv")) {
        truth
            .entry((
                r["unit_code"].clone(),
                r["form"].clone(),
                r["field"].clone(),
            ))
            .or_default()
            .insert(r["month"].clone(), r["value"].parse().unwrap());
    }
    let median = |h: &[f64]| {
        let mut s = h.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        if n % 2 == 1 {
            s[n / 2]
        } else {
            (s[n / 2 - 1] + s[n / 2]) / 2.0
        }
    };
    let history = |m: &BTreeMap<String, f64>| -> Vec<f64> {
        m.iter()
            .filter(|(k, _)| k.as_str() < "2026-09")
            .map(|(_, v)| *v)
            .collect()
    };

    let clean = check("clean");
    // The outliers of a clean batch are a known, small set (issue 28): the
    // z-score's misjudged spread on visits and follow-ups, under 0.5 % of
    // the figures (measured 0.2 % on a 6-township year).
    let figures = std::fs::read_to_string(d.path("corpus/truth.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert!(
        clean.len() * 200 < figures,
        "{} outliers among {figures} figures",
        clean.len()
    );
    // Small counts of a clean city are flagged about as often as p < 0.001
    // and the history's own noise allow (the z-score alone flagged 5 % of
    // them on this corpus: 20 of 386).
    let small = |p: &str, m: &BTreeMap<String, f64>| {
        let h: Vec<f64> = m.range(..p.to_string()).map(|(_, v)| *v).collect();
        h.len() >= 4 && median(&h) < 20.0
    };
    let tested = truth
        .values()
        .map(|m| m.keys().filter(|p| small(p, m)).count())
        .sum::<usize>();
    let flagged = clean
        .iter()
        .filter(|(p, u, f)| {
            let m = truth
                .iter()
                .find(|((tu, _, tf), _)| tu == u && tf == f)
                .unwrap()
                .1;
            small(p, m)
        })
        .count();
    assert!(tested > 300, "{tested}");
    assert!(
        flagged * 100 <= tested,
        "{flagged} of {tested} small counts flagged"
    );

    // The first township's villages: name and code.
    let units = util::read_csv(&d.path("corpus/units.csv"));
    let town = units.iter().find(|u| u["level"] == "township").unwrap();
    let villages: HashMap<String, String> = units
        .iter()
        .filter(|u| u["parent_code"] == town["code"])
        .map(|u| (u["code"].clone(), u["name"].clone()))
        .collect();
    // One slip of each kind, each on its own (village, field).
    type Pick = fn(f64, f64, f64) -> Option<f64>;
    let slips: [(&str, Pick); 4] = [
        ("×10, large", |med, _, x| (med >= 20.0).then_some(x * 10.0)),
        ("dropped digit, large", |med, _, x| {
            (med >= 30.0 && x >= 30.0).then_some((x / 10.0).floor())
        }),
        ("×10, small", |med, _, x| {
            (med < 20.0 && (3.0..20.0).contains(&x)).then_some(x * 10.0)
        }),
        ("dropped digit, small", |med, mean, x| {
            (med < 20.0 && mean >= 12.0 && x >= 12.0).then_some((x / 10.0).floor())
        }),
    ];
    let mut slipped: HashMap<(String, String, String), f64> = HashMap::new();
    for (what, pick) in slips {
        let hit = truth.iter().find_map(|((u, form, f), m)| {
            if !villages.contains_key(u)
                || !flow(form, f)
                || slipped.keys().any(|(su, _, sf)| su == u && sf == f)
            {
                return None;
            }
            let h = history(m);
            let mean = h.iter().sum::<f64>() / h.len() as f64;
            pick(median(&h), mean, *m.get("2026-09")?)
                .map(|v| ((u.clone(), form.clone(), f.clone()), v))
        });
        let (key, v) = hit.unwrap_or_else(|| panic!("no cell for {what}"));
        slipped.insert(key, v);
    }

    // September of the township rewritten from the truth, with the slips.
    let name = &town["name"];
    for e in std::fs::read_dir(d.path("corpus/returns/2026-09")).unwrap() {
        let p = e.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .contains(name.as_str())
        {
            std::fs::remove_file(p).unwrap();
        }
    }
    for form in ["vaccination", "family_doctor", "chronic_disease"] {
        let mut rows: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
        for ((u, fo, f), m) in &truth {
            if fo != form || !villages.contains_key(u) {
                continue;
            }
            let Some(v) = m.get("2026-09") else { continue };
            let v = slipped
                .get(&(u.clone(), fo.clone(), f.clone()))
                .copied()
                .unwrap_or(*v);
            rows.entry(villages[u].clone())
                .or_default()
                .push((f.clone(), v));
        }
        let rows: Vec<util::Row<'_>> = rows
            .iter()
            .map(|(n, vs)| {
                (
                    n.as_str(),
                    vs.iter().map(|(f, v)| (f.as_str(), V::N(*v))).collect(),
                )
            })
            .collect();
        util::write_return(
            &d.path(&format!("corpus/returns/2026-09/{name}_{form}.xlsx")),
            form,
            name,
            Some("2026年9月"),
            &rows,
            None,
        );
    }

    // Every slip is an outlier; nothing else changed.
    let after = check("slipped");
    let expected: BTreeSet<_> = clean
        .iter()
        .cloned()
        .chain(
            slipped
                .keys()
                .map(|(u, _, f)| ("2026-09".to_string(), u.clone(), f.clone())),
        )
        .collect();
    let missed: Vec<_> = expected.difference(&after).collect();
    let extra: Vec<_> = after.difference(&expected).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "not flagged: {missed:?}; flagged besides: {extra:?}; slips: {slipped:?}"
    );
}
