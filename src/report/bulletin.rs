//! The 通报 (FORMS.md §8): the period's results as a health bureau
//! circulates them, in Chinese prose and a table, every sentence built from
//! the figures — a sentence with nothing to say is left out, never printed
//! with a blank. Written as a WordprocessingML package (`.docx`) that Word,
//! WPS and LibreOffice open.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::findings::{Finding, Severity};
use crate::indicators::{headline, published, short_label, Indicator, Targets};
use crate::period::Period;
use crate::registry::{Level, Registry, UnitIdx};
use crate::schema::{FieldIdx, FormIdx, Schemas};
use crate::validate::returns::Tally;
use crate::validate::Completeness;

/// What the 通报 is written from.
pub struct BulletinInput<'a> {
    /// The period.
    pub period: Period,
    /// Units.
    pub registry: &'a Registry,
    /// Forms.
    pub schemas: &'a Schemas,
    /// Every indicator of the period.
    pub indicators: &'a [Indicator],
    /// The targets in force.
    pub targets: &'a Targets,
    /// 上报率 and 及时率.
    pub completeness: &'a [Completeness],
    /// The findings of the period.
    pub findings: &'a [Finding],
    /// The issuing date line (`2026年4月8日`).
    pub date: &'a str,
}

/// A paragraph or a table of the document.
enum Block {
    Title(String),
    Heading(String),
    Text(String),
    Table(Vec<Vec<String>>),
    Right(String),
}

fn pct(v: f64) -> String {
    format!("{:.1}%", published(v))
}

fn points(v: f64) -> String {
    format!("{:.1} 个百分点", published(v.abs()))
}

/// `提高 1.3 个百分点` / `下降 0.5 个百分点` / `持平`.
fn moved(v: f64) -> String {
    let p = published(v);
    if p > 0.0 {
        format!("提高 {}", points(v))
    } else if p < 0.0 {
        format!("下降 {}", points(v))
    } else {
        "持平".into()
    }
}

fn names(registry: &Registry, units: &[(UnitIdx, f64)]) -> String {
    units
        .iter()
        .map(|(u, v)| format!("{}（{}）", registry.unit(*u).name, pct(*v)))
        .collect::<Vec<_>>()
        .join("、")
}

/// The 通报's blocks, from the figures.
fn blocks(input: &BulletinInput<'_>) -> Vec<Block> {
    let reg = input.registry;
    let root = reg
        .units
        .iter()
        .position(|u| u.parent.is_none())
        .map(|i| i as UnitIdx);
    let root_name = root.map(|r| reg.unit(r).name.clone()).unwrap_or_default();
    let period = input.period.label_zh();
    let heads = headline(input.schemas, input.targets);
    let index: std::collections::HashMap<(UnitIdx, FormIdx, FieldIdx), &Indicator> = input
        .indicators
        .iter()
        .map(|r| ((r.unit, r.form, r.field), r))
        .collect();
    let find = |u: UnitIdx, f: FormIdx, k: FieldIdx| index.get(&(u, f, k)).copied();
    let townships: Vec<UnitIdx> = reg
        .depth_first()
        .into_iter()
        .filter(|&u| reg.unit(u).level == Level::Township)
        .collect();
    let mut out = vec![Block::Title(format!(
        "关于{root_name}{period}基本公共卫生服务主要指标情况的通报"
    ))];
    out.push(Block::Text(
        "各县（区）卫生健康局，各乡镇卫生院、社区卫生服务中心：".into(),
    ));
    // 1. The headline results and their changes.
    out.push(Block::Heading("一、主要指标完成情况".into()));
    let mut sentences = Vec::new();
    if let Some(r) = root {
        for &(f, k) in &heads {
            let Some(ind) = find(r, f, k) else { continue };
            let Some(cur) = ind.current else { continue };
            let name = short_label(input.schemas, f, k).zh;
            let mut s = format!("{name}为 {}", pct(cur));
            if let Some(c) = ind.change_previous {
                let _ = write!(s, "，比上期{}", moved(c));
            }
            if let Some(c) = ind.change_last_year {
                let _ = write!(s, "，比上年同期{}", moved(c));
            }
            sentences.push(s);
        }
    }
    if sentences.is_empty() {
        out.push(Block::Text(format!("{period}没有可计算的主要指标。")));
    } else {
        out.push(Block::Text(format!(
            "{period}，全{}{}。",
            level_word(root.map(|r| reg.unit(r).level)),
            sentences.join("；")
        )));
    }
    // 2. Each target: who met it and who did not.
    out.push(Block::Heading("二、目标完成情况".into()));
    let mut table = vec![vec![
        "指标".to_string(),
        "目标值".to_string(),
        format!("全{}", level_word(root.map(|r| reg.unit(r).level))),
        "达标乡镇数".to_string(),
        "未达标乡镇数".to_string(),
    ]];
    let mut any_target = false;
    for &(f, k) in &heads {
        let name = short_label(input.schemas, f, k).zh;
        let field = input.schemas.form(f).field(k);
        let rows: Vec<&Indicator> = townships
            .iter()
            .filter_map(|&u| find(u, f, k))
            .filter(|i| i.met.is_some())
            .collect();
        if rows.is_empty() {
            continue;
        }
        any_target = true;
        let target = rows[0].target.unwrap_or_default();
        let met: Vec<&&Indicator> = rows.iter().filter(|i| i.met == Some(true)).collect();
        let mut missed: Vec<(UnitIdx, f64)> = rows
            .iter()
            .filter(|i| i.met == Some(false))
            .filter_map(|i| Some((i.unit, i.current?)))
            .collect();
        missed.sort_by(|a, b| a.1.total_cmp(&b.1));
        let bound = if field.lower_is_better {
            "不高于"
        } else {
            "不低于"
        };
        let text = if missed.is_empty() {
            format!(
                "{name}（目标{bound} {}）：报告数据的 {} 个乡镇（街道）全部达标。",
                pct(target),
                rows.len()
            )
        } else {
            format!(
                "{name}（目标{bound} {}）：报告数据的 {} 个乡镇（街道）中 {} 个达标，{} 个未达标：{}。",
                pct(target),
                rows.len(),
                met.len(),
                missed.len(),
                names(reg, &missed)
            )
        };
        out.push(Block::Text(text));
        let city = root
            .and_then(|r| find(r, f, k))
            .and_then(|i| i.current)
            .map(pct)
            .unwrap_or_default();
        table.push(vec![
            name,
            pct(target),
            city,
            met.len().to_string(),
            missed.len().to_string(),
        ]);
    }
    if any_target {
        out.push(Block::Table(table));
    } else {
        out.push(Block::Text("本期没有设定目标值的指标数据。".into()));
    }
    // 3. The best and worst ranked.
    out.push(Block::Heading("三、乡镇（街道）排名".into()));
    let mut ranked_any = false;
    for &(f, k) in &heads {
        let name = short_label(input.schemas, f, k).zh;
        let mut rows: Vec<(UnitIdx, f64, u32)> = townships
            .iter()
            .filter_map(|&u| find(u, f, k))
            .filter_map(|i| Some((i.unit, i.current?, i.rank?)))
            .collect();
        if rows.len() < 2 {
            continue;
        }
        ranked_any = true;
        rows.sort_by_key(|r| r.2);
        let n = rows.len().min(3).min(rows.len() / 2).max(1);
        let best: Vec<(UnitIdx, f64)> = rows[..n].iter().map(|r| (r.0, r.1)).collect();
        let worst: Vec<(UnitIdx, f64)> = rows[rows.len() - n..]
            .iter()
            .rev()
            .map(|r| (r.0, r.1))
            .collect();
        out.push(Block::Text(format!(
            "{name}：排名前 {n} 位的是{}；排名后 {n} 位的是{}。",
            names(reg, &best),
            names(reg, &worst)
        )));
    }
    if !ranked_any {
        out.push(Block::Text(
            "本期参与排名的乡镇（街道）不足两个，不作排名。".into(),
        ));
    }
    // 4. Completeness and timeliness.
    out.push(Block::Heading("四、报表上报情况".into()));
    let t = Tally::of(input.completeness, input.period, |_| true);
    if t.expected == 0 {
        out.push(Block::Text("本期没有应报的报表。".into()));
    } else {
        let mut s = format!(
            "本期应报报表 {} 份，实报 {} 份，上报率 {}",
            t.expected,
            t.reported,
            pct(t.rate().unwrap_or(0.0))
        );
        if let Some(on_time) = t.timeliness() {
            let _ = write!(
                s,
                "；有报出日期或收到日期的 {} 份中按时上报 {} 份，及时率 {}",
                t.dated,
                t.dated - t.late,
                pct(on_time)
            );
        }
        s.push('。');
        let names = |units: &[UnitIdx]| {
            units
                .iter()
                .map(|&u| reg.unit(u).name.as_str())
                .collect::<Vec<_>>()
                .join("、")
        };
        if !t.missing_units.is_empty() {
            let _ = write!(s, "未按要求报送的单位：{}。", names(&t.missing_units));
        }
        if !t.late_units.is_empty() {
            let _ = write!(s, "逾期上报的单位：{}。", names(&t.late_units));
        }
        out.push(Block::Text(s));
    }
    // 5. The data problems still open.
    out.push(Block::Heading("五、数据质量问题".into()));
    let errors = input
        .findings
        .iter()
        .filter(|f| f.severity() == Severity::Error)
        .count();
    let warnings = input
        .findings
        .iter()
        .filter(|f| f.severity() == Severity::Warning)
        .count();
    if errors + warnings == 0 {
        out.push(Block::Text(
            "本期报表审核未发现需要处理的错误或警告。".into(),
        ));
    } else {
        let mut by_rule: Vec<(crate::findings::Rule, usize)> = Vec::new();
        for f in input
            .findings
            .iter()
            .filter(|f| f.severity() != Severity::Info)
        {
            match by_rule.iter_mut().find(|(r, _)| *r == f.rule) {
                Some((_, n)) => *n += 1,
                None => by_rule.push((f.rule, 1)),
            }
        }
        by_rule.sort_by_key(|r| std::cmp::Reverse(r.1));
        let list: Vec<String> = by_rule
            .iter()
            .map(|(r, n)| format!("{}{} 条", r.zh(), n))
            .collect();
        out.push(Block::Text(format!(
            "本期审核发现错误 {errors} 条、警告 {warnings} 条尚待处理，其中{}。请有关单位按退回修改清单核实更正后重新报送。",
            list.join("、")
        )));
    }
    out.push(Block::Right(format!("{root_name}卫生健康委员会")));
    out.push(Block::Right(input.date.to_string()));
    out
}

fn level_word(level: Option<Level>) -> &'static str {
    match level {
        Some(Level::County) => "县（区）",
        Some(Level::Township) => "乡镇",
        _ => "市",
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn run(text: &str, size: u32, bold: bool, font: &str) -> String {
    format!(
        "<w:r><w:rPr><w:rFonts w:ascii=\"{font}\" w:hAnsi=\"{font}\" w:eastAsia=\"{font}\"/>{}<w:sz w:val=\"{size}\"/><w:szCs w:val=\"{size}\"/></w:rPr><w:t xml:space=\"preserve\">{}</w:t></w:r>",
        if bold { "<w:b/>" } else { "" },
        esc(text)
    )
}

fn document_xml(blocks: &[Block]) -> String {
    let mut body = String::new();
    for b in blocks {
        match b {
            Block::Title(t) => {
                let _ = write!(body, "<w:p><w:pPr><w:jc w:val=\"center\"/><w:spacing w:after=\"240\"/></w:pPr>{}</w:p>", run(t, 36, true, "SimHei"));
            }
            Block::Heading(t) => {
                let _ = write!(
                    body,
                    "<w:p><w:pPr><w:spacing w:before=\"200\" w:after=\"100\"/></w:pPr>{}</w:p>",
                    run(t, 32, true, "SimHei")
                );
            }
            Block::Text(t) => {
                let _ = write!(body, "<w:p><w:pPr><w:ind w:firstLineChars=\"200\" w:firstLine=\"640\"/><w:spacing w:line=\"480\" w:lineRule=\"auto\"/></w:pPr>{}</w:p>", run(t, 32, false, "FangSong"));
            }
            Block::Right(t) => {
                let _ = write!(
                    body,
                    "<w:p><w:pPr><w:jc w:val=\"right\"/></w:pPr>{}</w:p>",
                    run(t, 32, false, "FangSong")
                );
            }
            Block::Table(rows) => {
                body.push_str("<w:tbl><w:tblPr><w:tblW w:w=\"5000\" w:type=\"pct\"/><w:jc w:val=\"center\"/><w:tblBorders>");
                for side in ["top", "left", "bottom", "right", "insideH", "insideV"] {
                    let _ = write!(
                        body,
                        "<w:{side} w:val=\"single\" w:sz=\"4\" w:space=\"0\" w:color=\"000000\"/>"
                    );
                }
                body.push_str("</w:tblBorders></w:tblPr>");
                for (i, row) in rows.iter().enumerate() {
                    body.push_str("<w:tr>");
                    for cell in row {
                        let _ = write!(
                            body,
                            "<w:tc><w:p><w:pPr><w:jc w:val=\"center\"/></w:pPr>{}</w:p></w:tc>",
                            run(cell, 24, i == 0, "SimSun")
                        );
                    }
                    body.push_str("</w:tr>");
                }
                body.push_str("</w:tbl><w:p/>");
            }
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/><w:pgMar w:top=\"1440\" w:right=\"1531\" w:bottom=\"1440\" w:left=\"1531\" w:header=\"851\" w:footer=\"992\" w:gutter=\"0\"/></w:sectPr></w:body></w:document>"
    )
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;

/// The 通报 as `.docx` bytes.
///
/// # Errors
/// Only a failure of the zip writer.
pub fn bulletin_docx(input: &BulletinInput<'_>) -> std::io::Result<Vec<u8>> {
    let xml = document_xml(&blocks(input));
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", RELS),
        ("word/document.xml", xml.as_str()),
    ] {
        zip.start_file(name, opts).map_err(std::io::Error::other)?;
        zip.write_all(data.as_bytes())?;
    }
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}
