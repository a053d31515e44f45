//! Fill-in templates (FORMS.md §9): written from the schemas, filled in as a
//! clerk would, recalculated by LibreOffice, and read back as returns with
//! the figures typed and nothing but info findings.

use std::collections::HashMap;
use std::path::Path;

use crate::util::{self, Dir};

/// The figure typed into `field` for the `i`-th village: every `≤` relation
/// of FORMS.md §4 holds, and each village's figures differ.
fn typed(field: &str, i: usize) -> f64 {
    let k = (i + 1) as f64;
    let base = match field {
        f if f.ends_with("_due") => 10.0,
        f if f.ends_with("_given") => 8.0,
        "resident_pop" => 1000.0,
        "signed" => 500.0,
        "key_pop" => 300.0,
        "key_signed" => 200.0,
        "services" => 20.0,
        f if f.ends_with("_pop") => 100.0,
        f if f.ends_with("_signed") => 50.0,
        "pop_35plus" => 800.0,
        f if f.ends_with("_managed") => 100.0,
        f if f.ends_with("_standard") => 80.0,
        f if f.ends_with("_controlled") => 60.0,
        f if f.ends_with("_followups") => 30.0,
        f if f.ends_with("_new") => 5.0,
        other => panic!("no figure for {other}"),
    };
    base * k
}

/// Village rows start on row 8 (1-based): title lines, two header rows,
/// 栏次 and 合计 above them.
const FIRST_VILLAGE_ROW: u32 = 8;

/// Types a figure into every input cell of every template in `dir`, as the
/// cell's own XML (`<c r="C8" s="5"/>` → `<c r="C8" s="5"><v>10</v></c>`).
fn fill(dir: &Path, villages: &HashMap<&str, usize>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let form = ["免疫", "家医签约", "慢病管理"]
            .iter()
            .zip(["vaccination", "family_doctor", "chronic_disease"])
            .find(|(short, _)| path.to_string_lossy().contains(*short))
            .map(|(_, id)| id)
            .unwrap();
        let town = path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .split('_')
            .next()
            .unwrap()
            .to_string();
        let n = villages[town.as_str()];
        let cols = util::columns(form);
        util::patch_xlsx(&path, |name, text| {
            if !name.starts_with("xl/worksheets/sheet") {
                return text;
            }
            let mut text = text;
            for i in 0..n {
                let row = FIRST_VILLAGE_ROW + i as u32;
                for (k, (field, _, _)) in cols.iter().enumerate() {
                    if field.ends_with("_rate") || field.ends_with("dropout") {
                        continue;
                    }
                    let cell = format!(
                        "{}{row}",
                        phstats::findings::CellRef::col_name(2 + k as u32)
                    );
                    let open = format!("<c r=\"{cell}\" s=\"");
                    let at = text
                        .find(&open)
                        .unwrap_or_else(|| panic!("{cell} not an input cell"));
                    let end = at + text[at..].find("/>").unwrap();
                    let style = &text[at + open.len()..end - 1];
                    let filled = format!(
                        "<c r=\"{cell}\" s=\"{style}\"><v>{}</v></c>",
                        typed(field, i)
                    );
                    text.replace_range(at..end + 2, &filled);
                }
            }
            text
        });
    }
}

fn write_templates(d: &Dir, extra: &[&str]) {
    let mut args = vec![
        "template",
        "--units",
        "units.csv",
        "--period",
        "2026-07",
        "-o",
        "tpl",
    ];
    args.extend_from_slice(extra);
    let out = util::phstats(d.tmp.path(), &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The township sums of the typed figures, by field.
fn expected(form: &str, n: usize) -> HashMap<String, f64> {
    util::columns(form)
        .into_iter()
        .filter(|(f, _, _)| !f.ends_with("_rate"))
        .map(|(f, _, _)| {
            let sum = (0..n).map(|i| typed(&f, i)).sum();
            (f, sum)
        })
        .collect()
}

fn check_round_trip(d: &Dir, dir: &str) {
    let out = util::phstats(
        d.tmp.path(),
        &[
            "consolidate",
            dir,
            "--units",
            "units.csv",
            "--export",
            "out",
            "-o",
            "r.xlsx",
            "--force",
        ],
    );
    let f = util::read_csv(&d.path("out/findings.csv"));
    let serious: Vec<_> = f.iter().filter(|x| x["severity"] != "info").collect();
    assert!(serious.is_empty(), "{serious:#?}");
    assert_eq!(out.status.code(), Some(0));
    let a = util::aggregates(&d.path("out/aggregates.csv"));
    for (unit, code, n) in [
        ("城东街道", "439902001000", 2),
        ("新民镇", "439902101000", 2),
    ] {
        for form in ["vaccination", "family_doctor", "chronic_disease"] {
            for (field, sum) in expected(form, n) {
                assert_eq!(
                    a.get(&("2026-07".into(), code.into(), field.clone())),
                    Some(&sum),
                    "{unit} {field}"
                );
            }
        }
        // Rates are recomputed: 8 of 10 given.
        assert_eq!(
            a.get(&("2026-07".into(), code.into(), "hepb1_rate".into())),
            Some(&80.0)
        );
    }
}

#[test]
fn templates_filled_in_and_recalculated_read_back_as_typed() {
    let d = Dir::new();
    write_templates(&d, &[]);
    let villages: HashMap<&str, usize> = [("城东街道", 2), ("新民镇", 2)].into_iter().collect();
    let files: Vec<_> = std::fs::read_dir(d.path("tpl")).unwrap().collect();
    assert_eq!(files.len(), 6, "two townships × three forms");
    fill(&d.path("tpl"), &villages);
    // As saved, never calculated: the formulas' results are empty texts, so
    // the typed figures alone are read and nothing is a finding.
    check_round_trip(&d, "tpl");
    if !util::soffice("the template's round trip recalculated by LibreOffice") {
        return;
    }
    // As a clerk's spreadsheet leaves it: LibreOffice calculates every
    // formula (their saved results dropped first) and saves.
    for entry in std::fs::read_dir(d.path("tpl")).unwrap() {
        let path = entry.unwrap().path();
        util::patch_xlsx(&path, |_, text| text.replace("</f><v></v>", "</f>"));
        let out = util::soffice_cmd(&d)
            .args(["--headless", "--calc", "--convert-to", "xlsx", "--outdir"])
            .arg(d.path("calc"))
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let xml = util::sheet_xml(&d.path("calc/城东街道_2026年7月_免疫.xlsx"));
    assert!(
        xml.contains("<v>80</v>"),
        "LibreOffice calculated the rates"
    );
    check_round_trip(&d, "calc");
}

#[test]
fn templates_carry_their_checks_and_a_breach_is_the_same_rule() {
    let d = Dir::new();
    write_templates(&d, &["--unit", "城东街道", "--combined"]);
    let files: Vec<String> = std::fs::read_dir(d.path("tpl"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["城东街道_2026年7月.xlsx"]);
    let path = d.path("tpl/城东街道_2026年7月.xlsx");
    let xml = util::sheet_xml(&path);
    assert!(xml.contains("<sheetProtection"), "protected");
    assert!(!xml.contains("password"), "without a password");
    assert!(xml.contains("<dataValidation") && xml.contains("type=\"custom\""));
    assert!(xml.contains("IF(AND(ISNUMBER("), "rates are formulas");
    assert!(xml.contains("SUM(C8:C9)"), "the 合计 sums the villages");
    // 实种 ≤ 应种 stops the entry like every relation (FORMS.md §4: catch-up
    // doses count on both sides); the message names the rule check reports.
    assert!(
        !xml.contains("errorStyle="),
        "every validation stops the entry"
    );
    assert!(xml.contains("given_exceeds_due"));
    // A breach pasted in anyway (a paste passes over validation) is
    // reported by check with that rule id, as an error.
    let villages: HashMap<&str, usize> = [("城东街道", 2)].into_iter().collect();
    std::fs::create_dir_all(d.path("one")).unwrap();
    util::phstats(
        d.tmp.path(),
        &[
            "template",
            "--units",
            "units.csv",
            "--period",
            "2026-07",
            "-o",
            "one",
            "--unit",
            "城东街道",
            "--form",
            "vaccination",
        ],
    );
    fill(&d.path("one"), &villages);
    util::patch_xlsx(
        &d.path("one/城东街道_2026年7月_免疫.xlsx"),
        |name, text| {
            if name.starts_with("xl/worksheets/sheet") {
                // hepb1_given of the first village: 8 → 12, above its 10 due.
                let at = text.find("r=\"D8\"").unwrap();
                let v = at + text[at..].find("<v>8</v>").unwrap();
                let mut text = text;
                text.replace_range(v..v + 8, "<v>12</v>");
                text
            } else {
                text
            }
        },
    );
    util::phstats(
        d.tmp.path(),
        // One file: the other townships' completeness is not judged.
        &[
            "check",
            "one/城东街道_2026年7月_免疫.xlsx",
            "--units",
            "units.csv",
            "--export",
            "out",
        ],
    );
    let f = util::read_csv(&d.path("out/findings.csv"));
    assert!(
        f.iter().any(|x| x["rule"] == "given_exceeds_due"
            && x["cell"] == "D8"
            && x["severity"] == "error"),
        "{f:#?}"
    );
}

#[test]
fn a_fourth_form_gets_templates_from_its_schema_alone() {
    let d = Dir::new();
    std::fs::write(
        d.path("schemas/tb.toml"),
        "id = \"tb_screening\"\ntitle = \"肺结核可疑症状者筛查月报表\"\nshort = \"结核筛查\"\n\n[[fields]]\nid = \"suspects\"\nlabel = \"可疑症状者人数\"\nkind = \"flow\"\n\n[[fields]]\nid = \"screened\"\nlabel = \"已筛查人数\"\nkind = \"flow\"\n\n[[fields]]\nid = \"screen_rate\"\nlabel = \"筛查率(%)\"\nkind = \"rate\"\nnumerator = \"screened\"\ndenominator = \"suspects\"\n\n[[checks]]\nleft = \"screened\"\nright = \"suspects\"\nrule = \"exceeds_denominator\"\n",
    )
    .unwrap();
    write_templates(&d, &["--schemas", "schemas", "--form", "tb_screening"]);
    let xml = util::sheet_xml(&d.path("tpl/新民镇_2026年7月_结核筛查.xlsx"));
    assert!(xml.contains("exceeds_denominator"));
    let out = util::phstats(
        d.tmp.path(),
        &[
            "check",
            "tpl",
            "--units",
            "units.csv",
            "--schemas",
            "schemas",
            "--export",
            "out",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "an empty template reads cleanly: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Read back unfilled, each is an empty_return (FORMS.md §4) and nothing else.
    let f = util::read_csv(&d.path("out/findings.csv"));
    assert!(
        f.iter()
            .all(|x| x["severity"] == "info" || x["rule"] == "empty_return"),
        "{f:#?}"
    );
    assert!(f.iter().any(|x| x["rule"] == "empty_return"), "{f:#?}");
}

#[test]
fn a_template_prints_thirty_villages_a_page() {
    if !util::soffice("a_template_prints_thirty_villages_a_page") {
        return;
    }
    let d = Dir::new();
    let mut units = String::from(
        "code,name,level,parent_code,aliases\n439900000000,青山市,city,,\n439902000000,东湖区,county,439900000000,\n439902101000,大山镇,township,439902000000,\n",
    );
    for v in 0..35 {
        units.push_str(&format!("4399021012{v:02},第{v}村,village,439902101000,\n"));
    }
    std::fs::write(d.path("big.csv"), units).unwrap();
    let out = util::phstats(
        d.tmp.path(),
        &[
            "template",
            "--units",
            "big.csv",
            "--period",
            "2026-07",
            "-o",
            "tpl",
            "--form",
            "family_doctor",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let book = d.path("tpl/大山镇_2026年7月_家医签约.xlsx");
    let out = util::soffice_cmd(&d)
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(d.path("pdf"))
        .arg(&book)
        .output()
        .unwrap();
    assert!(out.status.success());
    let pdf = std::fs::read(d.path("pdf/大山镇_2026年7月_家医签约.pdf")).unwrap();
    let text = String::from_utf8_lossy(&pdf);
    let pages = text.matches("/Type/Page").count() - text.matches("/Type/Pages").count();
    assert_eq!(
        pages, 2,
        "35 villages: 30 on the first page, 5 on the second"
    );
    // The header rows repeat on every page.
    let wb = {
        use std::io::Read;
        let bytes = std::fs::read(&book).unwrap();
        let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut t = String::new();
        zin.by_name("xl/workbook.xml")
            .unwrap()
            .read_to_string(&mut t)
            .unwrap();
        t
    };
    assert!(wb.contains("_xlnm.Print_Titles"), "{wb}");
}

#[test]
fn a_template_from_a_store_shows_last_months_stocks() {
    let d = Dir::new();
    util::write_return(
        &d.path("jun/城东街道.xlsx"),
        "family_doctor",
        "城东街道",
        Some("2026年6月"),
        &[
            (
                "东门社区",
                vec![
                    ("resident_pop", util::V::N(1234.0)),
                    ("signed", util::V::N(400.0)),
                ],
            ),
            ("新村", vec![("resident_pop", util::V::N(500.0))]),
        ],
        None,
    );
    let out = util::phstats(
        d.tmp.path(),
        &["ingest", "jun", "--units", "units.csv", "--store", "db"],
    );
    assert!(out.status.code().unwrap() < 2);
    write_templates(
        &d,
        &[
            "--store",
            "db",
            "--unit",
            "城东街道",
            "--form",
            "family_doctor",
        ],
    );
    let notes = {
        use std::io::Read;
        let bytes = std::fs::read(d.path("tpl/城东街道_2026年7月_家医签约.xlsx")).unwrap();
        let mut zin = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut t = String::new();
        zin.by_name("xl/comments1.xml")
            .unwrap()
            .read_to_string(&mut t)
            .unwrap();
        t
    };
    assert!(notes.contains("上月（2026年6月）：1234"), "{notes}");
    assert!(notes.contains("上月（2026年6月）：400"), "{notes}");
    assert!(notes.contains("上月（2026年6月）：500"), "{notes}");
}
