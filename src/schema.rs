//! Forms as data: `schemas/*.toml` describe every field of a return (id,
//! Chinese labels, kind, rate definition), the `≤` audit relations and the
//! targets (FORMS.md §3–§4). The engine has no form-specific code: a new
//! form is a new TOML file.

use foldhash::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::findings::Rule;
use crate::message::{Label, Lang};
use crate::normalize;

/// The three forms of FORMS.md §3, compiled into the binary so it runs
/// without its source tree.
const BUILTIN: [(&str, &str); 3] = [
    (
        "vaccination.toml",
        include_str!("../schemas/vaccination.toml"),
    ),
    (
        "family_doctor.toml",
        include_str!("../schemas/family_doctor.toml"),
    ),
    (
        "chronic_disease.toml",
        include_str!("../schemas/chronic_disease.toml"),
    ),
];

/// Why a schema could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The TOML did not parse or lacks a required key.
    #[error("schema {file}: {source}")]
    Toml {
        /// File name of the schema.
        file: String,
        /// The parser's message.
        source: toml::de::Error,
    },
    /// A schema is internally inconsistent (unknown field referenced, duplicate id…).
    #[error("schema {file}: {message}")]
    Invalid {
        /// File name of the schema.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The schema directory could not be read.
    #[error("reading schema directory {path}: {source}")]
    Io {
        /// Directory or file path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// How a field aggregates over months and units (FORMS.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Counted within the month: summed over months and units.
    Flow,
    /// Point-in-time count at month end: last value in the period, summed over units.
    Stock,
    /// Counted from 1 January to the month end (年内累计), restarting each
    /// January: over months taken like a stock, but never falling within a
    /// year (`ytd_decrease`) and never compared across a January.
    Ytd,
    /// Recomputed from numerator and denominator at every level and period.
    Rate,
}

impl Kind {
    /// Whether a period takes the latest month's value (LAST_IN_PERIOD: a
    /// stock, a year-to-date count) rather than the sum of its months.
    #[must_use]
    pub fn takes_latest(self) -> bool {
        matches!(self, Kind::Stock | Kind::Ytd)
    }
}

/// Index of a form in [`Schemas::forms`].
pub type FormIdx = u16;
/// Index of a field in [`Form::fields`].
pub type FieldIdx = u16;

/// A stable id of the schemas, shared rather than copied (a city-year's
/// findings name a form and a field each), and of its own type so that a
/// form's id is never taken for a field's. It reads as the text it is
/// (`&*id`, `id.as_str()`) and is written as that text (a store, a CSV).
macro_rules! schema_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(std::sync::Arc<str>);

        impl $name {
            /// The id as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> $name {
                $name(id.into())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> $name {
                $name(id.into())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                &*self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                *self.0 == **other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                &*self.0 == *other
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                String::deserialize(d).map($name::from)
            }
        }
    };
}

schema_id! {
    /// A form's stable id (`vaccination`).
    FormId
}

schema_id! {
    /// A field's stable id (`hepb1_due`), within its form.
    FieldId
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForm {
    id: String,
    title: String,
    short: String,
    #[serde(default)]
    unit_note: String,
    #[serde(default)]
    table_no: Option<String>,
    fields: Vec<RawField>,
    #[serde(default)]
    checks: Vec<RawCheck>,
    #[serde(default)]
    targets: Vec<RawTarget>,
    #[serde(default)]
    sequences: Vec<RawSequence>,
    #[serde(default)]
    group_aliases: HashMap<String, Vec<String>>,
    /// 口径 of the fields, for a template's 填表说明: keyed by a field's
    /// group and label joined (乙肝疫苗第1剂应种人数) or by the label alone
    /// (应种人数, for every dose).
    #[serde(default)]
    definitions: HashMap<String, String>,
    #[serde(default)]
    en: RawEn,
}

/// The English side of a form (`--lang en`): its title, and every group and
/// label word. A word without one is shown in Chinese.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEn {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    short: Option<String>,
    #[serde(default)]
    unit_note: Option<String>,
    #[serde(default)]
    words: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    id: String,
    #[serde(default)]
    group: Option<String>,
    label: String,
    kind: Kind,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    derived: bool,
    #[serde(default)]
    lower_is_better: bool,
    /// The indicator's full name as a 公文 writes it (家庭医生签约率),
    /// where group and label do not make it.
    #[serde(default)]
    name: Option<String>,
    numerator: Option<String>,
    minus: Option<String>,
    denominator: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    left: String,
    right: String,
    rule: Rule,
}

/// Two doses of one vaccine, in the order given (`dose_sequence`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSequence {
    earlier: String,
    later: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    field: String,
    /// The least acceptable value of a rate where higher is better.
    #[serde(default)]
    min: Option<f64>,
    /// The most acceptable value of one where lower is better (a dropout).
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    level: Option<String>,
}

/// A rate's definition: `(numerator − minus) / denominator × 100`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    /// Numerator field.
    pub numerator: FieldIdx,
    /// Optional field subtracted from the numerator (`dtap_dropout`).
    pub minus: Option<FieldIdx>,
    /// Denominator field.
    pub denominator: FieldIdx,
}

/// One field of a form.
#[derive(Debug, Clone)]
pub struct Field {
    /// Stable id (`hepb1_due`).
    pub id: FieldId,
    /// Group header (`乙肝疫苗第1剂`), if the field sits under one.
    pub group: Option<String>,
    /// Sub-header, or the whole label for an ungrouped field (`应种人数`).
    pub label: String,
    /// Flow, stock or rate.
    pub kind: Kind,
    /// Computed only, never a column of a return (`dtap_dropout`).
    pub derived: bool,
    /// For rates: how to recompute it.
    pub ratio: Option<Ratio>,
    /// The group header in English.
    pub group_en: Option<String>,
    /// The sub-header in English.
    pub label_en: String,
    /// A lower value is better (a dropout rate): ranked from the lowest,
    /// and its target is a maximum.
    pub lower_is_better: bool,
    /// The full name as a 公文 writes it, when the schema gives one.
    pub name: Option<String>,
}

impl Field {
    /// The indicator's full name in a sentence (家庭医生签约率, 乙肝疫苗第1剂接种率):
    /// the schema's `name`, else group and label joined, without `(%)`.
    #[must_use]
    pub fn full_name(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        let label = self.label.replace("(%)", "");
        match &self.group {
            Some(g) => format!("{g}{label}"),
            None => label,
        }
    }

    /// The label a statistician reads: group and sub-header joined by a space.
    #[must_use]
    pub fn display_label(&self) -> String {
        match &self.group {
            Some(g) => format!("{g} {}", self.label),
            None => self.label.clone(),
        }
    }

    /// The label in both languages (`乙肝疫苗第1剂 应种人数` / `HepB dose 1 due`).
    #[must_use]
    pub fn label(&self) -> Label {
        Label {
            zh: self.display_label(),
            en: match &self.group_en {
                Some(g) => format!("{g} {}", self.label_en),
                None => self.label_en.clone(),
            },
        }
    }

    /// The sub-header in `lang`.
    #[must_use]
    pub fn sub_label(&self, lang: Lang) -> &str {
        lang.pick(&self.label, &self.label_en)
    }

    /// The group header in `lang`.
    #[must_use]
    pub fn group_label(&self, lang: Lang) -> Option<&str> {
        match lang {
            Lang::Zh => self.group.as_deref(),
            Lang::En => self.group_en.as_deref(),
        }
    }
}

/// An audit relation `left ≤ right` (FORMS.md §4).
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// The side that must not exceed the other; its cell is the one named.
    pub left: FieldIdx,
    /// The bound.
    pub right: FieldIdx,
    /// `given_exceeds_due` or `exceeds_denominator`.
    pub rule: Rule,
}

/// A target such as 接种率 ≥ 90, or 脱落率 ≤ 10 for a rate where lower is
/// better.
#[derive(Debug, Clone)]
pub struct Target {
    /// The rate field.
    pub field: FieldIdx,
    /// The bound, in percent: the least acceptable value, or the most where
    /// the field's lower is better (`min` / `max` in the schema file).
    pub value: f64,
    /// The level it applies at (`township`), if restricted.
    pub level: Option<String>,
}

/// One form (报表).
#[derive(Debug, Clone)]
pub struct Form {
    /// Stable id (`vaccination`).
    pub id: FormId,
    /// Official title (`免疫规划疫苗常规接种情况月报表`).
    pub title: String,
    /// Short name for sheet names (`免疫`).
    pub short: String,
    /// Units line printed under the report title.
    pub unit_note: String,
    /// Title, short name and units line in English.
    pub en: (String, String, String),
    /// 表号, printed on a template's first line.
    pub table_no: Option<String>,
    /// Fields in the order of the return's columns.
    pub fields: Vec<Field>,
    /// `≤` relations.
    pub checks: Vec<Check>,
    /// Targets.
    pub targets: Vec<Target>,
    /// Doses given in order, `(earlier, later)`: over a year to date the
    /// later should not outnumber the earlier (`dose_sequence`).
    pub sequences: Vec<(FieldIdx, FieldIdx)>,
    /// 口径 by group and label joined, or by label alone (`[definitions]`).
    definitions: HashMap<String, String>,
    /// Normalised full label → field, for header matching.
    labels: HashMap<String, FieldIdx>,
    /// Normalised sub-header that names exactly one field on its own.
    unique_sub_labels: HashMap<String, FieldIdx>,
    /// Every normalised sub-header of a reported field in a group.
    sub_labels: foldhash::HashSet<String>,
    /// The last character of every label above, sorted: a text ending in
    /// another (a village's name, a number, 合计) is no label, known
    /// without hashing it. A return's header search asks of every cell
    /// of its first rows, mostly of such texts; with the doses' aliases
    /// the tables hold thousands of spellings.
    label_ends: Vec<char>,
    /// Each field by its id: a store's layouts name a hundred fields for
    /// each of thousands of returns.
    ids: HashMap<String, FieldIdx>,
}

impl Form {
    /// Index of the field with this id.
    #[must_use]
    pub fn field_idx(&self, id: &str) -> Option<FieldIdx> {
        self.ids.get(id).copied()
    }

    /// The title in both languages.
    #[must_use]
    pub fn title_label(&self) -> Label {
        Label {
            zh: self.title.clone(),
            en: self.en.0.clone(),
        }
    }

    /// The title in `lang`.
    #[must_use]
    pub fn title_in(&self, lang: Lang) -> &str {
        lang.pick(&self.title, &self.en.0)
    }

    /// The short name in `lang` (sheet names).
    #[must_use]
    pub fn short_in(&self, lang: Lang) -> &str {
        lang.pick(&self.short, &self.en.1)
    }

    /// The units line in `lang`.
    #[must_use]
    pub fn unit_note_in(&self, lang: Lang) -> &str {
        lang.pick(&self.unit_note, &self.en.2)
    }

    /// The 表号 line of a return (表号：卫公卫01表), the short name standing
    /// in where the schema gives no 表号.
    #[must_use]
    pub fn table_no_line(&self) -> String {
        format!("表号：{}", self.table_no.as_deref().unwrap_or(&self.short))
    }

    /// The 口径 of a field, as the schema defines it: by its group and label
    /// joined, else by its label alone.
    #[must_use]
    pub fn definition(&self, idx: FieldIdx) -> Option<&str> {
        let f = self.field(idx);
        let joined = format!("{}{}", f.group.as_deref().unwrap_or(""), f.label);
        self.definitions
            .get(&joined)
            .or_else(|| self.definitions.get(&f.label))
            .map(String::as_str)
    }

    /// The field at `idx`.
    #[must_use]
    pub fn field(&self, idx: FieldIdx) -> &Field {
        &self.fields[idx as usize]
    }

    /// How `fields` (in column order) fall under group headers: runs of
    /// consecutive fields sharing a group (`高血压患者` over 人数 and 签约人数),
    /// and single ungrouped fields, as (group, index range into `fields`).
    /// Every writer of a two-row grouped header lays it out from these.
    #[must_use]
    pub fn group_runs(&self, fields: &[FieldIdx]) -> Vec<(Option<&str>, std::ops::Range<usize>)> {
        let mut runs = Vec::new();
        let mut i = 0;
        while i < fields.len() {
            let group = self.field(fields[i]).group.as_deref();
            let mut j = i + 1;
            if group.is_some() {
                while j < fields.len() && self.field(fields[j]).group.as_deref() == group {
                    j += 1;
                }
            }
            runs.push((group, i..j));
            i = j;
        }
        runs
    }

    /// Fields that are columns of a return (not derived).
    pub fn reported_fields(&self) -> impl Iterator<Item = (FieldIdx, &Field)> {
        self.fields
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.derived)
            .map(|(i, f)| (i as FieldIdx, f))
    }

    /// The field a header label (already normalised with [`normalize::label`]) names.
    #[must_use]
    pub fn match_label(&self, label: &str) -> Option<FieldIdx> {
        if !self.may_be_label(label) {
            return None;
        }
        self.labels.get(label).copied()
    }

    /// Whether `label` ends as some label does ([`Form::label_ends`]).
    fn may_be_label(&self, label: &str) -> bool {
        label
            .chars()
            .next_back()
            .is_some_and(|c| self.label_ends.binary_search(&c).is_ok())
    }

    /// Whether `label` (normalised) is the sub-header of a reported field
    /// in a group (`应种人数` under `乙肝疫苗第1剂`).
    #[must_use]
    pub fn is_sub_label(&self, label: &str) -> bool {
        self.may_be_label(label) && self.sub_labels.contains(label)
    }

    /// The field a bare sub-header names, when only one field has it.
    #[must_use]
    pub fn match_sub_label(&self, label: &str) -> Option<FieldIdx> {
        if !self.may_be_label(label) {
            return None;
        }
        self.unique_sub_labels.get(label).copied()
    }

    fn from_raw(raw: RawForm, file: &str) -> Result<Form, SchemaError> {
        let invalid = |message: String| SchemaError::Invalid {
            file: file.to_string(),
            message,
        };
        // Each field by its id, the form's own map ([`Form::field_idx`]).
        let mut ids: HashMap<String, FieldIdx> = HashMap::default();
        for (i, f) in raw.fields.iter().enumerate() {
            if ids.insert(f.id.clone(), i as FieldIdx).is_some() {
                return Err(invalid(format!("field `{}` defined twice", f.id)));
            }
        }
        let idx_of = |id: &str| -> Result<FieldIdx, SchemaError> {
            ids.get(id)
                .copied()
                .ok_or_else(|| invalid(format!("unknown field `{id}`")))
        };
        let mut fields = Vec::with_capacity(raw.fields.len());
        for f in &raw.fields {
            let ratio = match (&f.numerator, &f.denominator) {
                (Some(n), Some(d)) => Some(Ratio {
                    numerator: idx_of(n)?,
                    minus: f.minus.as_deref().map(idx_of).transpose()?,
                    denominator: idx_of(d)?,
                }),
                (None, None) => None,
                _ => {
                    return Err(invalid(format!(
                        "field `{}` needs both numerator and denominator",
                        f.id
                    )))
                }
            };
            if (f.kind == Kind::Rate) != ratio.is_some() {
                return Err(invalid(format!(
                    "field `{}`: a rate needs numerator and denominator, other kinds none",
                    f.id
                )));
            }
            if f.derived && f.kind != Kind::Rate {
                return Err(invalid(format!(
                    "field `{}`: only rates can be derived",
                    f.id
                )));
            }
            let english = |w: &str| {
                raw.en
                    .words
                    .get(w)
                    .cloned()
                    .unwrap_or_else(|| w.to_string())
            };
            fields.push(Field {
                id: f.id.clone().into(),
                group: f.group.clone(),
                label: f.label.clone(),
                kind: f.kind,
                derived: f.derived,
                ratio,
                group_en: f.group.as_deref().map(english),
                label_en: english(&f.label),
                lower_is_better: f.lower_is_better,
                name: f.name.clone(),
            });
        }
        for f in &fields {
            if let Some(r) = f.ratio {
                for part in [Some(r.numerator), r.minus, Some(r.denominator)]
                    .into_iter()
                    .flatten()
                {
                    if fields[part as usize].kind == Kind::Rate {
                        return Err(invalid(format!(
                            "rate `{}` is built on another rate `{}`",
                            f.id, fields[part as usize].id
                        )));
                    }
                }
            }
        }
        let checks = raw
            .checks
            .iter()
            .map(|c| {
                if !matches!(c.rule, Rule::GivenExceedsDue | Rule::ExceedsDenominator) {
                    return Err(invalid(format!(
                        "check rule `{}` is not a ≤ rule",
                        c.rule.id()
                    )));
                }
                Ok(Check {
                    left: idx_of(&c.left)?,
                    right: idx_of(&c.right)?,
                    rule: c.rule,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let targets = raw
            .targets
            .iter()
            .map(|t| {
                let field = idx_of(&t.field)?;
                let lower = fields[field as usize].lower_is_better;
                let value = match (t.min, t.max) {
                    (Some(v), None) if !lower => v,
                    (None, Some(v)) if lower => v,
                    _ => {
                        return Err(invalid(format!(
                            "target of `{}` needs {}",
                            t.field,
                            if lower {
                                "`max` alone (lower is better)"
                            } else {
                                "`min` alone"
                            }
                        )))
                    }
                };
                Ok(Target {
                    field,
                    value,
                    level: t.level.clone(),
                })
            })
            .collect::<Result<Vec<_>, SchemaError>>()?;
        let sequences = raw
            .sequences
            .iter()
            .map(|q| Ok((idx_of(&q.earlier)?, idx_of(&q.later)?)))
            .collect::<Result<Vec<_>, SchemaError>>()?;
        let (labels, unique_sub_labels) = build_label_maps(&raw, &fields).map_err(invalid)?;
        if let Some(key) = raw.definitions.keys().find(|k| {
            !fields.iter().any(|f| {
                f.label == **k || format!("{}{}", f.group.as_deref().unwrap_or(""), f.label) == **k
            })
        }) {
            return Err(invalid(format!(
                "definitions: `{key}` is neither a field's label nor its group and label"
            )));
        }
        let en = (
            raw.en.title.clone().unwrap_or_else(|| raw.title.clone()),
            raw.en.short.clone().unwrap_or_else(|| raw.short.clone()),
            raw.en
                .unit_note
                .clone()
                .unwrap_or_else(|| raw.unit_note.clone()),
        );
        // Every spelling of a grouped field's sub-header, its aliases too
        // (应种数 heads a column as 应种人数 does).
        let sub_labels: foldhash::HashSet<String> = fields
            .iter()
            .zip(&raw.fields)
            .filter(|(f, _)| !f.derived && f.group.is_some())
            .flat_map(|(f, rf)| std::iter::once(&f.label).chain(&rf.aliases))
            .map(|l| normalize::label(l))
            .collect();
        let mut label_ends: Vec<char> = labels
            .keys()
            .chain(unique_sub_labels.keys())
            .chain(&sub_labels)
            .filter_map(|l| l.chars().next_back())
            .collect();
        label_ends.sort_unstable();
        label_ends.dedup();
        Ok(Form {
            en,
            table_no: raw.table_no.clone(),
            id: raw.id.into(),
            title: raw.title,
            short: raw.short,
            unit_note: raw.unit_note,
            fields,
            checks,
            targets,
            sequences,
            definitions: raw.definitions,
            labels,
            unique_sub_labels,
            sub_labels,
            label_ends,
            ids,
        })
    }
}

type LabelMaps = (HashMap<String, FieldIdx>, HashMap<String, FieldIdx>);

/// Every accepted spelling of every column, normalised: group (and its
/// aliases) joined with the label (and its aliases), plus bare sub-labels
/// that are unique within the form.
fn build_label_maps(raw: &RawForm, fields: &[Field]) -> Result<LabelMaps, String> {
    let mut labels: HashMap<String, FieldIdx> = HashMap::default();
    let mut sub_count: HashMap<String, Vec<FieldIdx>> = HashMap::default();
    for (i, (f, rf)) in fields.iter().zip(&raw.fields).enumerate() {
        if f.derived {
            continue;
        }
        let i = i as FieldIdx;
        let subs: Vec<&str> = std::iter::once(f.label.as_str())
            .chain(rf.aliases.iter().map(String::as_str))
            .collect();
        let groups: Vec<&str> = match &f.group {
            Some(g) => std::iter::once(g.as_str())
                .chain(
                    raw.group_aliases
                        .get(g)
                        .into_iter()
                        .flatten()
                        .map(String::as_str),
                )
                .collect(),
            None => vec![""],
        };
        for g in &groups {
            for s in &subs {
                let key = normalize::label(&format!("{g}{s}"));
                if let Some(other) = labels.insert(key.clone(), i) {
                    if other != i {
                        return Err(format!(
                            "label `{key}` names both `{}` and `{}`",
                            fields[other as usize].id, f.id
                        ));
                    }
                }
            }
        }
        for s in &subs {
            let entry = sub_count.entry(normalize::label(s)).or_default();
            if !entry.contains(&i) {
                entry.push(i);
            }
        }
    }
    let unique_sub_labels = sub_count
        .into_iter()
        .filter(|(k, v)| v.len() == 1 && !labels.contains_key(k))
        .map(|(k, v)| (k, v[0]))
        .collect();
    Ok((labels, unique_sub_labels))
}

/// All forms the engine knows.
#[derive(Debug, Clone)]
pub struct Schemas {
    /// Forms in load order.
    pub forms: Vec<Form>,
}

impl Schemas {
    /// The three forms of FORMS.md §3.
    ///
    /// # Errors
    /// Only if a built-in schema is broken, which the unit tests rule out.
    pub fn builtin() -> Result<Schemas, SchemaError> {
        Self::from_sources(BUILTIN.iter().map(|(f, t)| (f.to_string(), t.to_string())))
    }

    /// Every `*.toml` in `dir`, in file-name order.
    ///
    /// # Errors
    /// An unreadable directory or an invalid schema.
    pub fn from_dir(dir: &Path) -> Result<Schemas, SchemaError> {
        let io = |source| SchemaError::Io {
            path: dir.display().to_string(),
            source,
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        paths.sort();
        let mut sources = Vec::new();
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(|source| SchemaError::Io {
                path: p.display().to_string(),
                source,
            })?;
            sources.push((p.display().to_string(), text));
        }
        Self::from_sources(sources.into_iter())
    }

    fn from_sources(
        sources: impl Iterator<Item = (String, String)>,
    ) -> Result<Schemas, SchemaError> {
        let mut forms: Vec<Form> = Vec::new();
        for (file, text) in sources {
            let raw: RawForm = toml::from_str(&text).map_err(|source| SchemaError::Toml {
                file: file.clone(),
                source,
            })?;
            if forms.iter().any(|f| *f.id == *raw.id) {
                return Err(SchemaError::Invalid {
                    file,
                    message: format!("form `{}` defined twice", raw.id),
                });
            }
            forms.push(Form::from_raw(raw, &file)?);
        }
        if forms.is_empty() {
            return Err(SchemaError::Invalid {
                file: "(none)".into(),
                message: "no form schema found".into(),
            });
        }
        Ok(Schemas { forms })
    }

    /// The form at `idx`.
    #[must_use]
    pub fn form(&self, idx: FormIdx) -> &Form {
        &self.forms[idx as usize]
    }

    /// Index of the form with this id.
    #[must_use]
    pub fn form_idx(&self, id: &str) -> Option<FormIdx> {
        self.forms
            .iter()
            .position(|f| f.id == id)
            .map(|i| i as FormIdx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_forms_match_forms_md() {
        let s = Schemas::builtin().unwrap();
        let ids: Vec<&str> = s.forms.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["vaccination", "family_doctor", "chronic_disease"]);
        let v = &s.forms[0];
        // 22 doses × (due, given, rate), 首针及时 (count, rate), dtap_dropout.
        assert_eq!(v.fields.len(), 22 * 3 + 2 + 1);
        let groups: std::collections::BTreeSet<&str> =
            v.fields.iter().filter_map(|f| f.group.as_deref()).collect();
        assert_eq!(groups.len(), 23, "{groups:?}");
        assert_eq!(v.targets.len(), 24, "every dose, 首针及时, the dropout");
        let t = v
            .field(v.field_idx("hepb1_timely_rate").unwrap())
            .ratio
            .unwrap();
        assert_eq!(v.field(t.denominator).id, "hepb1_given");
        let f = v.field(v.field_idx("hepb1_rate").unwrap());
        assert_eq!(f.kind, Kind::Rate);
        let r = f.ratio.unwrap();
        assert_eq!(v.field(r.numerator).id, "hepb1_given");
        assert_eq!(v.field(r.denominator).id, "hepb1_due");
        let seq: Vec<(&str, &str)> = v
            .sequences
            .iter()
            .map(|&(a, b)| (v.field(a).id.as_str(), v.field(b).id.as_str()))
            .collect();
        assert_eq!(seq.len(), 13);
        for pair in [
            ("hepb2_given", "hepb3_given"),
            ("dtap1_given", "dtap3_given"),
            ("dtap3_given", "dtap4_given"),
            ("menac1_given", "menac2_given"),
        ] {
            assert!(seq.contains(&pair), "{pair:?}");
        }
        let d = v.field(v.field_idx("dtap_dropout").unwrap());
        assert!(d.derived);
        assert_eq!(v.field(d.ratio.unwrap().minus.unwrap()).id, "dtap3_given");
        let fd = &s.forms[1];
        assert_eq!(fd.field(fd.field_idx("signed").unwrap()).kind, Kind::Stock);
        assert_eq!(fd.field(fd.field_idx("services").unwrap()).kind, Kind::Flow);
        // FORMS.md §4: signed, key_pop ≤ resident_pop; key_signed ≤ key_pop
        // and ≤ signed; every G_pop ≤ key_pop; G_signed ≤ G_pop and ≤
        // key_signed; X_managed ≤ pop_35plus.
        let pairs = |f: &Form| -> Vec<(String, String)> {
            f.checks
                .iter()
                .map(|c| {
                    (
                        f.field(c.left).id.to_string(),
                        f.field(c.right).id.to_string(),
                    )
                })
                .collect()
        };
        let mut want: Vec<(String, String)> = [
            ("signed", "resident_pop"),
            ("key_pop", "resident_pop"),
            ("key_signed", "key_pop"),
            ("key_signed", "signed"),
        ]
        .iter()
        .map(|(l, r)| (l.to_string(), r.to_string()))
        .collect();
        // The ten key groups (十类重点人群), each with its 签约率.
        for g in [
            "elderly", "maternal", "child", "htn", "dm", "tb", "smi", "disabled", "poor", "fpsf",
        ] {
            let rate = fd.field(fd.field_idx(&format!("{g}_signing_rate")).unwrap());
            assert_eq!(
                fd.field(rate.ratio.unwrap().denominator).id,
                format!("{g}_pop")
            );
            want.push((format!("{g}_pop"), "key_pop".into()));
            want.push((format!("{g}_signed"), format!("{g}_pop")));
            want.push((format!("{g}_signed"), "key_signed".into()));
        }
        let mut got = pairs(fd);
        got.sort();
        want.sort();
        assert_eq!(got, want);
        let cd = &s.forms[2];
        for g in ["htn", "dm"] {
            assert!(pairs(cd).contains(&(format!("{g}_managed"), "pop_35plus".into())));
        }
        assert_eq!(
            cd.field(cd.field_idx("htn_followups").unwrap()).kind,
            Kind::Flow
        );
        // 年内已管理人数: counted from January (FORMS.md §3.3).
        for id in ["dm_managed", "dm_standard", "htn_controlled"] {
            assert_eq!(cd.field(cd.field_idx(id).unwrap()).kind, Kind::Ytd, "{id}");
        }
        assert_eq!(
            cd.field(cd.field_idx("pop_35plus").unwrap()).kind,
            Kind::Stock
        );
    }

    #[test]
    fn labels_match_joined_grouped_and_aliases() {
        let s = Schemas::builtin().unwrap();
        let v = &s.forms[0];
        let hit = |l: &str| {
            v.match_label(&normalize::label(l))
                .map(|i| v.field(i).id.clone())
        };
        assert_eq!(hit("乙肝疫苗第1剂应种人数").as_deref(), Some("hepb1_due"));
        assert_eq!(
            hit("乙肝疫苗第1剂 接种率（％）").as_deref(),
            Some("hepb1_rate")
        );
        assert_eq!(hit("卡介苗实种数").as_deref(), Some("bcg_given"));
        // Doses as clerks shorten them, and the schedule's abbreviations;
        // the four polio doses numbered in one run (FORMS.md §3.1).
        for (label, id) in [
            ("乙肝第2剂应种人数", "hepb2_due"),
            ("乙肝疫苗3实种人数", "hepb3_given"),
            ("百白破第三剂应接种人数", "dtap3_due"),
            ("白破实际接种人数", "dt_given"),
            ("乙脑1应种人数", "je1_due"),
            ("A+C流脑第2剂实种人数", "menac2_given"),
            ("A群流脑第1剂应种人数", "mena1_due"),
            ("甲肝疫苗应种人数", "hepa_due"),
            ("卡介苗（BCG）接种人数", "bcg_given"),
            ("脊灰疫苗第2剂应种人数", "ipv2_due"),
            ("脊灰疫苗第3剂应种人数", "bopv1_due"),
            ("bOPV第4剂实种人数", "bopv2_given"),
            ("DTaP1应种人数", "dtap1_due"),
            ("乙肝首针及时接种人数", "hepb1_timely"),
            ("乙肝疫苗第1剂应种", "hepb1_due"),
            ("卡介苗已种人数", "bcg_given"),
            ("卡介实接种人数", "bcg_given"),
            ("乙肝疫苗第1剂实接种人数", "hepb1_given"),
        ] {
            assert_eq!(hit(label).as_deref(), Some(id), "{label}");
        }
        // A sub-header is known by its aliases too, as fields-as-rows
        // returns head their columns (应种 | 实种 | 接种率).
        for sub in ["应种人数", "应种数", "应种", "实种", "接种数", "接种率"] {
            assert!(v.is_sub_label(&normalize::label(sub)), "{sub}");
        }
        assert_eq!(
            hit("百白破1-3剂脱落率(%)"),
            None,
            "derived fields are not columns"
        );
        let fd = &s.forms[1];
        let hit = |l: &str| {
            fd.match_label(&normalize::label(l))
                .map(|i| fd.field(i).id.clone())
        };
        assert_eq!(hit("高血压签约人数").as_deref(), Some("htn_signed"));
        assert_eq!(hit("签约人数").as_deref(), Some("signed"));
        for (label, id) in [
            ("签约数", "signed"),
            ("辖区常住人口数", "resident_pop"),
            ("重点人群签约数", "key_signed"),
            ("履约服务人次", "services"),
            ("65岁及以上老年人数", "elderly_pop"),
            ("孕产妇签约数", "maternal_signed"),
            ("0至6岁儿童签约人数", "child_signed"),
            ("65周岁及以上老年人人数", "elderly_pop"),
            ("老年人(65岁及以上)签约人数", "elderly_signed"),
        ] {
            assert_eq!(hit(label).as_deref(), Some(id), "{label}");
        }
        assert_eq!(fd.match_sub_label("人数"), None, "人数 names five fields");
        // FORMS.md §3.3: the years to date as also written.
        let cd = &s.forms[2];
        let hit = |l: &str| {
            cd.match_label(&normalize::label(l))
                .map(|i| cd.field(i).id.clone())
        };
        for (label, id) in [
            ("高血压年内已管理人数", "htn_managed"),
            ("高血压患者年内规范管理人数", "htn_standard"),
            ("Ⅱ型糖尿病最近一次随访控制达标人数", "dm_controlled"),
            ("糖尿病年内已管理人数", "dm_managed"),
            ("2型糖尿病规范管理人数", "dm_standard"),
            ("高血压管理人数", "htn_managed"),
            ("高血压血压控制达标人数", "htn_controlled"),
            ("糖尿病随访人次", "dm_followups"),
            ("糖尿病新发现患者数", "dm_new"),
            ("糖尿病管理人群血糖控制率(%)", "dm_control_rate"),
            // As clerks head them too.
            ("35周岁及以上常住人口数", "pop_35plus"),
            ("35岁以上人口数", "pop_35plus"),
            ("原发性高血压控制满意人数", "htn_controlled"),
            ("2型糖尿病血糖控制满意人数", "dm_controlled"),
            ("高血压本月新检出人数", "htn_new"),
            ("糖尿病新发现患者人数", "dm_new"),
        ] {
            assert_eq!(hit(label).as_deref(), Some(id), "{label}");
        }
    }

    #[test]
    fn broken_schema_is_refused_with_its_reason() {
        let bad = r#"
id = "x"
title = "t"
short = "s"
[[fields]]
id = "a_rate"
label = "率"
kind = "rate"
numerator = "a"
denominator = "b"
"#;
        let err = Schemas::from_sources(std::iter::once(("x.toml".into(), bad.into())))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `a`"), "{err}");
    }

    /// Two fields with one id are refused, naming the id; each field is
    /// then found by its id.
    #[test]
    fn a_field_id_defined_twice_is_refused() {
        let form = |second: &str| {
            format!(
                "id = \"x\"\ntitle = \"t\"\nshort = \"s\"\n\
                 [[fields]]\nid = \"a\"\nlabel = \"甲\"\nkind = \"flow\"\n\
                 [[fields]]\nid = \"b\"\nlabel = \"乙\"\nkind = \"flow\"\n\
                 [[fields]]\nid = \"{second}\"\nlabel = \"丙\"\nkind = \"flow\"\n"
            )
        };
        let load = |text: String| Schemas::from_sources(std::iter::once(("x.toml".into(), text)));
        let err = load(form("a")).unwrap_err().to_string();
        assert!(err.contains("field `a` defined twice"), "{err}");
        let ok = load(form("c")).expect("three ids");
        let f = &ok.forms[0];
        assert_eq!(
            ["a", "b", "c", "d"].map(|id| f.field_idx(id)),
            [Some(0), Some(1), Some(2), None]
        );
    }

    /// A target is a least (`min`), or a most (`max`) where lower is
    /// better; the other way round is refused rather than judged upside down.
    #[test]
    fn a_target_bound_follows_the_direction_of_its_rate() {
        let form = |bound: &str| {
            format!(
                r#"
id = "x"
title = "t"
short = "s"
[[fields]]
id = "first"
label = "一"
kind = "flow"
[[fields]]
id = "third"
label = "三"
kind = "flow"
[[fields]]
id = "drop"
label = "脱落率"
kind = "rate"
numerator = "first"
minus = "third"
denominator = "first"
lower_is_better = true
[[targets]]
field = "drop"
{bound}
"#
            )
        };
        let load =
            |bound: &str| Schemas::from_sources(std::iter::once(("x.toml".into(), form(bound))));
        let ok = load("max = 10.0").unwrap();
        assert_eq!(ok.forms[0].targets[0].value, 10.0);
        let err = load("min = 10.0").unwrap_err().to_string();
        assert!(err.contains("`max` alone"), "{err}");
    }

    /// A 口径 is found by a field's group and label, else by its label for
    /// every group; a key naming no field is a typo, refused.
    #[test]
    fn a_definition_names_a_field_by_its_label() {
        let s = Schemas::builtin().unwrap();
        let v = &s.forms[0];
        let due = v.field_idx("hepb1_due").unwrap();
        let mmr = v.field_idx("mmr1_due").unwrap();
        assert!(v.definition(due).unwrap().contains("漏种"));
        assert_eq!(v.definition(due), v.definition(mmr));
        assert_eq!(v.definition(v.field_idx("hepb1_rate").unwrap()), None);
        let form = |key: &str| {
            format!(
                "id = \"x\"\ntitle = \"t\"\nshort = \"s\"\n[[fields]]\nid = \"a\"\ngroup = \"甲\"\nlabel = \"人数\"\nkind = \"flow\"\n[definitions]\n\"{key}\" = \"本月的人数\"\n"
            )
        };
        let load = |key: &str| Schemas::from_sources(std::iter::once(("x.toml".into(), form(key))));
        for key in ["人数", "甲人数"] {
            let ok = load(key).unwrap();
            assert_eq!(ok.forms[0].definition(0), Some("本月的人数"), "{key}");
        }
        let err = load("人头数").unwrap_err().to_string();
        assert!(err.contains("`人头数`"), "{err}");
    }
}
