//! Names as people type them on the command line (issue 30): a unit by
//! code, name, alias or 乡镇+村 (中城乡新村); a form by id, title or short
//! name, or a part of one (慢病); a field by id or label, with or without
//! `(%)` and spaces. One that names nothing, or more than one thing, is a
//! usage error (exit 2) listing the nearest names or the candidates — never
//! a silent pick of one of three 新村, and never "nothing matches" for a typo.

use crate::message::Lang;
use crate::normalize;
use crate::registry::{Registry, UnitCode, UnitIdx};
use crate::schema::{FieldIdx, FormIdx, Schemas};

/// How many candidates or nearest names an error lists.
const LISTED: usize = 8;

/// A unit's name as a person tells it apart: 新村（新民镇，439902101201）.
fn unit_shown(registry: &Registry, u: UnitIdx) -> String {
    let unit = registry.unit(u);
    match unit.parent {
        Some(p) => format!("{}（{}，{}）", unit.name, registry.unit(p).name, unit.code),
        None => format!("{}（{}）", unit.name, unit.code),
    }
}

/// Says that `what` named nothing or several things, in `lang`.
fn refuse(flag: &str, text: &str, found: &[String], several: bool, lang: Lang) -> anyhow::Error {
    let list = found
        .iter()
        .take(LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(lang.pick("、", ", "));
    match (several, found.is_empty(), lang) {
        (true, _, Lang::Zh) => anyhow::anyhow!(
            "{flag} “{text}”同时指 {} 个，请写得更具体（如写上代码）：{list}",
            found.len()
        ),
        (true, _, Lang::En) => anyhow::anyhow!(
            "{flag} `{text}` names {} of them; be more specific (give the code): {list}",
            found.len()
        ),
        (false, true, Lang::Zh) => anyhow::anyhow!("{flag} “{text}”什么也没有找到"),
        (false, true, Lang::En) => anyhow::anyhow!("{flag} `{text}` matches nothing"),
        (false, false, Lang::Zh) => {
            anyhow::anyhow!("{flag} “{text}”什么也没有找到；最接近的是：{list}")
        }
        (false, false, Lang::En) => {
            anyhow::anyhow!("{flag} `{text}` matches nothing; the nearest: {list}")
        }
    }
}

/// The names nearest to `key` among `names` (normalised), best first.
fn nearest(key: &str, names: impl Iterator<Item = (String, String)>) -> Vec<String> {
    let mut scored: Vec<(f64, String)> = names
        .map(|(norm, shown)| (strsim::normalized_levenshtein(key, &norm), shown))
        .filter(|(s, _)| *s > 0.3)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().map(|(_, s)| s).take(3).collect()
}

/// The one of `hits`; with none, a usage error listing the nearest of
/// `all` to `key` (by their `names`); with several, one listing them — each
/// as `shown`. `asked` is the flag, the text typed and the language.
fn the_one<T: Copy>(
    hits: &[T],
    all: &[T],
    key: &str,
    names: impl Fn(T) -> Vec<String>,
    shown: impl Fn(T) -> String,
    (flag, text, lang): (&str, &str, Lang),
) -> anyhow::Result<T> {
    match hits {
        [one] => Ok(*one),
        [] => {
            let near = nearest(
                key,
                all.iter().flat_map(|&x| {
                    names(x)
                        .into_iter()
                        .map(|n| (n, shown(x)))
                        .collect::<Vec<_>>()
                }),
            );
            Err(refuse(flag, text, &near, false, lang))
        }
        several => {
            let list: Vec<String> = several.iter().map(|&x| shown(x)).collect();
            Err(refuse(flag, text, &list, true, lang))
        }
    }
}

/// The unit `text` names: its code, its name or an alias (at any level),
/// or a township's name followed by one of its villages' (中城乡新村).
///
/// # Errors
/// None or several: a usage error listing the nearest or the candidates.
pub fn unit(registry: &Registry, text: &str, flag: &str, lang: Lang) -> anyhow::Result<UnitIdx> {
    if let Some(u) = UnitCode::parse(text.trim()).and_then(|c| registry.by_code(c)) {
        return Ok(u);
    }
    let key = normalize::name(text);
    let names = |u: &crate::registry::Unit| -> Vec<String> {
        std::iter::once(normalize::name(&u.name))
            .chain(u.aliases.iter().map(|a| normalize::name(a)))
            .collect()
    };
    let mut hits: Vec<UnitIdx> = (0..registry.units.len() as UnitIdx)
        .filter(|&u| names(registry.unit(u)).contains(&key))
        .collect();
    if hits.is_empty() {
        // 乡镇 + 村: the village of that name under that township.
        hits = (0..registry.units.len() as UnitIdx)
            .filter(|&u| {
                let unit = registry.unit(u);
                unit.parent.is_some_and(|p| {
                    names(registry.unit(p)).iter().any(|pn| {
                        key.strip_prefix(pn.as_str()).is_some_and(|rest| {
                            !rest.is_empty() && names(unit).iter().any(|n| n == rest)
                        })
                    })
                })
            })
            .collect();
    }
    let all: Vec<UnitIdx> = (0..registry.units.len() as UnitIdx).collect();
    the_one(
        &hits,
        &all,
        &key,
        |u| names(registry.unit(u)),
        |u| unit_shown(registry, u),
        (flag, text, lang),
    )
}

/// A form's id, title or short name, normalised, in both languages.
fn form_names(schemas: &Schemas, f: FormIdx) -> Vec<String> {
    let form = schemas.form(f);
    [
        form.id.to_string(),
        form.title_in(Lang::Zh).to_string(),
        form.title_in(Lang::En).to_string(),
        form.short_in(Lang::Zh).to_string(),
        form.short_in(Lang::En).to_string(),
    ]
    .iter()
    .map(|n| normalize::name(n).to_lowercase())
    .collect()
}

/// The form `text` names: its id, title or short name, or a part of one
/// that only it has (慢病 for 慢病管理).
///
/// # Errors
/// None or several: a usage error listing the nearest or the candidates.
pub fn form(schemas: &Schemas, text: &str, flag: &str, lang: Lang) -> anyhow::Result<FormIdx> {
    let key = normalize::name(text).to_lowercase();
    let all = 0..schemas.forms.len() as FormIdx;
    let mut hits: Vec<FormIdx> = all
        .clone()
        .filter(|&f| form_names(schemas, f).contains(&key))
        .collect();
    if hits.is_empty() && !key.is_empty() {
        hits = all
            .clone()
            .filter(|&f| form_names(schemas, f).iter().any(|n| n.contains(&key)))
            .collect();
    }
    let shown = |f: FormIdx| {
        let form = schemas.form(f);
        format!("{}（{}）", form.short_in(lang), form.id)
    };
    let all: Vec<FormIdx> = all.collect();
    the_one(
        &hits,
        &all,
        &key,
        |f| form_names(schemas, f),
        shown,
        (flag, text, lang),
    )
}

/// A field's name as compared: no spaces, no `(%)`, half-width, lower case.
fn field_key(text: &str) -> String {
    normalize::compact(text)
        .replace("(%)", "")
        .replace('%', "")
        .to_lowercase()
}

/// The field `text` names in `forms` (every form when `None`): its id or
/// its label, with or without its group and `(%)`.
///
/// # Errors
/// None or several: a usage error listing the nearest or the candidates.
pub fn field(
    schemas: &Schemas,
    forms: Option<FormIdx>,
    text: &str,
    flag: &str,
    lang: Lang,
) -> anyhow::Result<(FormIdx, FieldIdx)> {
    let key = field_key(text);
    let every: Vec<(FormIdx, FieldIdx)> = (0..schemas.forms.len() as FormIdx)
        .filter(|&f| forms.is_none_or(|g| g == f))
        .flat_map(|f| (0..schemas.form(f).fields.len() as FieldIdx).map(move |k| (f, k)))
        .collect();
    // A field's whole names (id, group and label, English), then its
    // sub-header alone: 签约率 is the form's own 签约率(%), not also each
    // key group's 签约率(%) under its group header.
    let whole = |(f, k): (FormIdx, FieldIdx)| {
        let field = schemas.form(f).field(k);
        [
            field.id.to_string(),
            field.display_label(),
            field.label().en,
        ]
        .iter()
        .map(|n| field_key(n))
        .collect::<Vec<_>>()
    };
    let names = |(f, k): (FormIdx, FieldIdx)| {
        let mut n = whole((f, k));
        n.push(field_key(&schemas.form(f).field(k).label));
        n
    };
    let shown = |(f, k): (FormIdx, FieldIdx)| {
        let field = schemas.form(f).field(k);
        format!("{}（{}）", field.label().get(lang), field.id)
    };
    let by = |names: &dyn Fn((FormIdx, FieldIdx)) -> Vec<String>| -> Vec<(FormIdx, FieldIdx)> {
        every
            .iter()
            .copied()
            .filter(|&x| names(x).contains(&key))
            .collect()
    };
    let mut hits = by(&whole);
    if hits.is_empty() {
        hits = by(&names);
    }
    the_one(&hits, &every, &key, names, shown, (flag, text, lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNITS: &str = "code,name,level,parent_code,aliases
439900000000,青山市,city,,
439902000000,东湖区,county,439900000000,
439902001000,城东街道,township,439902000000,城东街道社区卫生服务中心
439902001002,新村,village,439902001000,
439902101000,中城乡,township,439902000000,
439902101201,新村,village,439902101000,
439902101202,红旗村,village,439902101000,
";

    #[test]
    fn a_unit_is_found_however_it_is_typed_and_never_guessed() {
        let r = Registry::from_csv(UNITS.as_bytes(), "u.csv").unwrap();
        let code = |u: UnitIdx| r.unit(u).code.to_string();
        assert_eq!(
            code(unit(&r, "439902101201", "--unit", Lang::Zh).unwrap()),
            "439902101201"
        );
        assert_eq!(
            code(unit(&r, "中城乡新村", "--unit", Lang::Zh).unwrap()),
            "439902101201"
        );
        assert_eq!(
            code(unit(&r, "城东街道社区卫生服务中心", "--unit", Lang::Zh).unwrap()),
            "439902001000"
        );
        let two = unit(&r, "新村", "--unit", Lang::Zh)
            .unwrap_err()
            .to_string();
        assert!(
            two.contains("同时指 2 个") && two.contains("新村（中城乡，439902101201）"),
            "{two}"
        );
        let typo = unit(&r, "中成乡", "--unit", Lang::Zh)
            .unwrap_err()
            .to_string();
        assert!(typo.contains("最接近的是：中城乡"), "{typo}");
    }

    #[test]
    fn forms_and_fields_are_found_by_any_of_their_names() {
        let s = Schemas::builtin().unwrap();
        let id = |f: FormIdx| s.form(f).id.clone();
        assert_eq!(
            id(form(&s, "慢病", "--form", Lang::Zh).unwrap()),
            "chronic_disease"
        );
        assert_eq!(
            id(form(&s, "家庭医生签约服务情况月报表", "--form", Lang::Zh).unwrap()),
            "family_doctor"
        );
        assert_eq!(
            id(form(&s, "vaccination", "--form", Lang::Zh).unwrap()),
            "vaccination"
        );
        let fid = |x: (FormIdx, FieldIdx)| s.form(x.0).field(x.1).id.clone();
        for typed in [
            "签约率",
            "签约率(%)",
            "签约率（%）",
            " 签约率 ",
            "signing_rate",
        ] {
            assert_eq!(
                fid(field(&s, None, typed, "--field", Lang::Zh).unwrap()),
                "signing_rate",
                "{typed}"
            );
        }
        let many = field(&s, None, "应种人数", "--field", Lang::Zh)
            .unwrap_err()
            .to_string();
        assert!(
            many.contains("同时指") && many.contains("hepb1_due"),
            "{many}"
        );
        let typo = field(&s, None, "签约绿", "--field", Lang::Zh)
            .unwrap_err()
            .to_string();
        assert!(
            typo.contains("最接近的是") && typo.contains("signing_rate"),
            "{typo}"
        );
    }
}
