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
        "hepb1_timely" => 7.0,
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

/// Village rows start on row 9 (1-based): 表号, title, 填报单位, 计量单位,
/// two header rows, 栏次 and 合计 above them.
const FIRST_VILLAGE_ROW: u32 = 9;

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
            // The returns' sheets, not their 填表说明 (no input cells).
            if !name.starts_with("xl/worksheets/sheet") || !text.contains("<dataValidations") {
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
        util::calc_save_as(&d, "xlsx", d.path("calc"), &path);
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
    assert!(xml.contains("SUM(C9:C10)"), "the 合计 sums the villages");
    // 实种 ≤ 应种 stops the entry like every relation (FORMS.md §4: catch-up
    // doses count on both sides); the message names the rule as check
    // names it in Chinese, with its reason, and no rule id (issue 29).
    assert!(
        !xml.contains("errorStyle="),
        "every validation stops the entry"
    );
    assert!(xml.contains("（实种大于应种）查漏补种同时计入应种和实种"));
    assert!(!xml.contains("given_exceeds_due") && !xml.contains("not_a_number"));
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
            if name == "xl/worksheets/sheet1.xml" {
                // hepb1_given of the first village: 8 → 12, above its 10 due.
                let at = text.find("r=\"D9\"").unwrap();
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
            && x["cell"] == "D9"
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
    assert!(xml.contains("不能大于“可疑症状者人数”") && xml.contains("（分子大于分母）"));
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

/// A template as LibreOffice prints it (issue 29): readable on A4, 30
/// villages a page with the header repeated, a sheet too wide split by
/// dose with 单位名称 on each page, 表号 / 制定机关 / 计量单位 at the top, the
/// full 表尾 at the foot, and a 填表说明 from the schema.
#[test]
fn a_template_prints_thirty_villages_a_page_and_signs_like_a_return() {
    if !util::soffice("printing a template") || !util::pdftotext("measuring the printed pages") {
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
            "template", "--units", "big.csv", "--period", "2026-07", "-o", "tpl",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", util::text(&out));
    let pages = util::prints_readably(&d, "tpl/大山镇_2026年7月_家医签约.xlsx");
    let texts: Vec<String> = pages.iter().map(util::PdfPage::text).collect();
    // The 填表说明 by its table's header, repeated on each of its pages.
    let (form, guide): (Vec<&String>, Vec<&String>) =
        texts.iter().partition(|t| !t.contains("口径及审核关系"));
    // 35 villages: 30 on a page, 5 on the next, for each set of columns
    // (the ten key groups split the sheet by group).
    let first: Vec<&&String> = form.iter().filter(|t| t.contains("第29村")).collect();
    let second: Vec<&&String> = form.iter().filter(|t| t.contains("第34村")).collect();
    assert!(
        !first.is_empty() && first.len() == second.len(),
        "{form:#?}"
    );
    assert_eq!(first.len() + second.len(), form.len(), "{form:#?}");
    assert!(first.iter().all(|t| !t.contains("第30村")));
    assert!(second.iter().all(|t| t.contains("单位名称")));
    for needed in [
        "表号：卫公卫02表",
        "制定机关：青山市卫生健康委员会",
        "计量单位：人、人次、%",
        "填报单位：大山镇",
    ] {
        assert!(form[0].contains(needed), "{needed}: {}", form[0]);
    }
    for needed in [
        "单位负责人：",
        "统计负责人：",
        "填表人：",
        "联系电话：",
        "报出日期：",
    ] {
        assert!(
            second.iter().all(|t| t.contains(needed)),
            "{needed}: {second:#?}"
        );
    }
    assert!(!guide.is_empty());
    let guide: String = guide.iter().map(|t| t.as_str()).collect();
    for needed in [
        "口径及审核关系",
        "月末数",
        "本月数",
        "次月5日前报出",
        "不大于",
    ] {
        assert!(guide.contains(needed), "{needed}: {guide}");
    }
    // 24 columns of doses: split by dose, 单位名称 on every page.
    let pages = util::prints_readably(&d, "tpl/大山镇_2026年7月_免疫.xlsx");
    let form: Vec<String> = pages
        .iter()
        .map(util::PdfPage::text)
        .filter(|t| !t.contains("口径及审核关系"))
        .collect();
    assert!(form.len() >= 4, "two pages of doses, twice: {}", form.len());
    assert!(form.iter().all(|t| t.contains("单位名称")), "{form:#?}");
    // The title whole on each page, once: the later ones marked 续.
    assert!(form.iter().any(|t| t.contains("（续）")));
    assert!(form
        .iter()
        .all(|t| t.matches("免疫规划疫苗常规接种情况月报表").count() <= 1));
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
