//! The unit registry (FORMS.md §1): the only source of truth for names,
//! codes and the village → township → county → city tree. Loaded from a CSV
//! `code,name,level,parent_code,aliases`, checked once, then trusted.

use foldhash::HashMap;
use std::fmt;
use std::path::Path;

use crate::message::{Label, Lang};
use crate::normalize;

/// Why a registry was refused.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The file could not be read.
    #[error("cannot read the unit registry {path}: {}", reason.en)]
    Io {
        /// Path given.
        path: String,
        /// What the system said, once.
        reason: Label,
    },
    /// A CSV-level problem (encoding, quoting, wrong header).
    #[error("registry {path}: {}", message.en)]
    Csv {
        /// Path given.
        path: String,
        /// What is wrong.
        message: Label,
    },
    /// A row breaks a registry rule; every broken row is listed.
    #[error("registry {path} is inconsistent:\n{}", problems.iter().map(|p| p.en.as_str()).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// Path given.
        path: String,
        /// One line per problem, each naming the CSV line.
        problems: Vec<Label>,
    },
    /// `--scope` names no unit that can be a scope.
    #[error("{}", message.en)]
    Scope {
        /// What is wrong.
        message: Label,
    },
}

impl RegistryError {
    /// The error as a person reads it, in `lang`.
    #[must_use]
    pub fn render(&self, lang: Lang) -> String {
        match (self, lang) {
            (RegistryError::Io { path, reason }, Lang::Zh) => {
                format!("无法读取单位名录 {path}：{}", reason.zh)
            }
            (RegistryError::Csv { path, message }, Lang::Zh) => {
                format!("单位名录 {path}：{}", message.zh)
            }
            (RegistryError::Invalid { path, problems }, Lang::Zh) => format!(
                "单位名录 {path} 有误，未使用：\n{}",
                problems
                    .iter()
                    .map(|p| p.zh.as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            (RegistryError::Scope { message }, Lang::Zh) => message.zh.clone(),
            (e, Lang::En) => e.to_string(),
        }
    }
}

/// A message in both languages.
fn bi(zh: String, en: String) -> Label {
    Label { zh, en }
}

/// Administrative level (FORMS.md §1).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Level {
    /// 地级市.
    City,
    /// 县 / 区 / 县级市.
    County,
    /// 乡 / 镇 / 街道.
    Township,
    /// 村 / 社区.
    Village,
}

impl Level {
    /// All levels, top to bottom.
    pub const ALL: [Level; 4] = [Level::City, Level::County, Level::Township, Level::Village];

    /// The id used in exports (`township`).
    #[must_use]
    pub fn id(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
        }
    }

    /// Chinese name for reports.
    #[must_use]
    pub fn zh(self) -> &'static str {
        match self {
            Level::City => "市",
            Level::County => "县(区)",
            Level::Township => "乡镇(街道)",
            Level::Village => "村(社区)",
        }
    }

    /// Parses an id (`township`) or its Chinese name (`乡镇`).
    #[must_use]
    pub fn parse(text: &str) -> Option<Level> {
        match normalize::compact(text).to_lowercase().as_str() {
            "city" | "市" | "地级市" => Some(Level::City),
            "county" | "县" | "区" | "县区" | "县(区)" => Some(Level::County),
            "township" | "乡" | "镇" | "乡镇" | "街道" | "乡镇(街道)" => {
                Some(Level::Township)
            }
            "village" | "村" | "社区" | "村(社区)" => Some(Level::Village),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A 12-digit statistical division code (统计用区划代码), kept and written
/// as its number.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct UnitCode(pub u64);

impl From<u64> for UnitCode {
    fn from(code: u64) -> UnitCode {
        UnitCode(code)
    }
}

impl UnitCode {
    /// Parses exactly 12 ASCII digits.
    #[must_use]
    pub fn parse(text: &str) -> Option<UnitCode> {
        UnitCode::of_name(&normalize::compact(text))
    }

    /// [`UnitCode::parse`] of a text already normalised by
    /// [`normalize::name`]: not normalised again.
    fn of_name(key: &str) -> Option<UnitCode> {
        (key.len() == 12 && key.bytes().all(|b| b.is_ascii_digit()))
            .then(|| key.parse().ok().map(UnitCode))
            .flatten()
    }

    /// A name cell that writes the code beside the name, either side
    /// (`439901001001光明村`, `光明村(439901001001)`, spaces already gone):
    /// the code and the name. A key of only digits, or whose digits are
    /// not 12, is not one.
    fn beside_name(key: &str) -> Option<(UnitCode, &str)> {
        // 新村(439902001201): the code in brackets after the name.
        let key = key.strip_suffix(')').unwrap_or(key);
        let lead = key.bytes().take_while(u8::is_ascii_digit).count();
        let trail = key.bytes().rev().take_while(u8::is_ascii_digit).count();
        let (code, name) = if lead == 12 && key.len() > 12 {
            (&key[..12], &key[12..])
        } else if trail == 12 && key.len() > 12 {
            (&key[key.len() - 12..], &key[..key.len() - 12])
        } else {
            return None;
        };
        let name = name.trim_matches(['-', '_', ':', '|', '/', '(', ')']);
        (!name.is_empty() && !name.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Some((UnitCode::of_name(code)?, name)))
            .flatten()
    }

    /// The level the digits say: trailing zero groups (DOMAIN.md §1).
    #[must_use]
    pub fn level(self) -> Option<Level> {
        let c = self.0;
        if !c.is_multiple_of(1000) {
            Some(Level::Village)
        } else if !c.is_multiple_of(1_000_000) {
            Some(Level::Township)
        } else if !c.is_multiple_of(100_000_000) {
            Some(Level::County)
        } else if !c.is_multiple_of(10_000_000_000) {
            Some(Level::City)
        } else {
            None
        }
    }

    /// The parent code the digits say (lower digits zeroed).
    #[must_use]
    pub fn parent(self) -> Option<UnitCode> {
        let c = self.0;
        match self.level()? {
            Level::Village => Some(UnitCode(c / 1000 * 1000)),
            Level::Township => Some(UnitCode(c / 1_000_000 * 1_000_000)),
            Level::County => Some(UnitCode(c / 100_000_000 * 100_000_000)),
            Level::City => None,
        }
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:012}", self.0)
    }
}

/// Index of a unit in [`Registry::units`].
pub type UnitIdx = u32;

/// A registry line as read: line number, code, name, level, parent, aliases.
type RawLine = (
    usize,
    UnitCode,
    String,
    Level,
    Option<UnitCode>,
    Vec<String>,
);

/// One administrative unit.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Division code.
    pub code: UnitCode,
    /// Registry name.
    pub name: String,
    /// Level.
    pub level: Level,
    /// Parent unit, `None` for a city.
    pub parent: Option<UnitIdx>,
    /// Other names (the health centre's name for a township).
    pub aliases: Vec<String>,
    /// Children in registry order.
    pub children: Vec<UnitIdx>,
}

/// How a name was resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum NameMatch {
    /// Found: the text is the unit's name, an alias or its code (after
    /// normalisation), or that name with only its institution's words around
    /// it (城东街道社区卫生服务中心（公章）).
    Found(UnitIdx),
    /// Not the unit's name, but a longer text containing exactly one
    /// registry name: a guess the caller must report.
    Assumed(UnitIdx),
    /// Not found.
    NotFound {
        /// The nearest registry name, for a "did you mean", if any is close
        /// (`find_reporting_unit`; a row's comes from `suggest_child`).
        suggestion: Option<String>,
        /// The same name exists elsewhere in the registry (another township).
        elsewhere: Option<UnitIdx>,
    },
}

/// The checked unit tree.
#[derive(Debug, Clone)]
pub struct Registry {
    /// All units in file order.
    pub units: Vec<Unit>,
    by_code: HashMap<UnitCode, UnitIdx>,
    /// (parent, normalised name or alias) → child.
    by_parent_name: HashMap<(Option<UnitIdx>, String), UnitIdx>,
    /// normalised name or alias → non-village units with it.
    by_name_upper: HashMap<String, Vec<UnitIdx>>,
    /// normalised name → every unit below the city with it, in file order:
    /// where else a row's unknown village name is found.
    by_name: HashMap<String, Vec<UnitIdx>>,
    /// Normalised names, aliases and codes of the reporting units left out
    /// by `--scope` (empty for a whole registry).
    outside: std::collections::HashSet<String>,
    /// Normalised names and aliases of the villages left out by `--scope`.
    outside_villages: std::collections::HashSet<String>,
    /// The units above the scope's root (`--scope`: its county, its city),
    /// nearest first: each one's name, and its normalised names, aliases
    /// and code. Their summaries list the scope's units.
    above: Vec<(String, Vec<String>)>,
}

/// Whether a normalised text `key` names `n` (a normalised name, alias or
/// code): it is `n`, or holds it where `n` is two characters or more and
/// not a number alone.
fn names_key(key: &str, n: &str) -> bool {
    key == n
        || (n.chars().count() >= 2 && key.contains(n) && !n.chars().all(|c| c.is_ascii_digit()))
}

impl Registry {
    /// Reads and checks a registry CSV.
    ///
    /// # Errors
    /// Unreadable file, bad header, or any broken rule (all listed at once).
    pub fn load(path: &Path) -> Result<Registry, RegistryError> {
        let text = std::fs::read(path).map_err(|e| RegistryError::Io {
            path: path.display().to_string(),
            reason: match e.kind() {
                std::io::ErrorKind::NotFound => bi("文件不存在".into(), "no such file".into()),
                std::io::ErrorKind::IsADirectory => bi(
                    "这是文件夹，不是 CSV 文件".into(),
                    "it is a folder, not a CSV file".into(),
                ),
                _ => bi(e.to_string(), e.to_string()),
            },
        })?;
        Self::from_csv(&text, &path.display().to_string())
    }

    /// The registry's text: UTF-8 (with or without a BOM), or GB18030 —
    /// which covers GBK and GB2312, what Excel on Chinese Windows saves a
    /// CSV as.
    ///
    /// # Errors
    /// Neither encoding fits; the message names both.
    fn decode(bytes: &[u8], origin: &str) -> Result<String, RegistryError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if let Ok(text) = std::str::from_utf8(bytes) {
            return Ok(text.to_string());
        }
        let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
        if had_errors {
            return Err(RegistryError::Csv {
                path: origin.to_string(),
                message: bi(
                    "文件既不是 UTF-8 也不是 GB18030/GBK 编码的文本；请在 Excel 中另存为“CSV (逗号分隔)”或“CSV UTF-8”".into(),
                    "the file is neither UTF-8 nor GB18030/GBK text; save it from Excel as \"CSV (逗号分隔)\" or \"CSV UTF-8\"".into(),
                ),
            });
        }
        Ok(text.into_owned())
    }

    /// A registry of the subtree under `code` alone (`--scope`): the unit is
    /// its root, and the names and codes of every other reporting unit are
    /// remembered, so a return from outside is told apart from an unknown one.
    ///
    /// # Errors
    /// `code` is not a unit of the registry, or is a village.
    pub fn scoped(&self, code: &str) -> Result<Registry, RegistryError> {
        let found = UnitCode::parse(code.trim())
            .and_then(|c| self.by_code(c))
            .or_else(|| match self.find_reporting_unit(code) {
                NameMatch::Found(u) => Some(u),
                _ => None,
            })
            .ok_or_else(|| RegistryError::Scope {
                message: bi(
                    format!("--scope “{code}”不是单位名录中的单位代码或名称"),
                    format!("--scope `{code}` is not a unit code or name of the registry"),
                ),
            })?;
        if self.unit(found).level == Level::Village {
            return Err(RegistryError::Scope {
                message: bi(
                    format!("--scope “{code}”是村（社区）；请给出县（区）或乡镇"),
                    format!("--scope `{code}` is a village; give a county or township"),
                ),
            });
        }
        let mut inside = vec![false; self.units.len()];
        let mut wtr = csv::Writer::from_writer(Vec::new());
        let io = |e: csv::Error| RegistryError::Scope {
            message: bi(e.to_string(), e.to_string()),
        };
        wtr.write_record(["code", "name", "level", "parent_code", "aliases"])
            .map_err(io)?;
        for u in self.depth_first() {
            let unit = self.unit(u);
            if !self.ancestors_and_self(u).any(|a| a == found) {
                continue;
            }
            inside[u as usize] = true;
            let parent = match unit.parent {
                Some(p) if u != found => self.unit(p).code.to_string(),
                _ => String::new(),
            };
            wtr.write_record([
                unit.code.to_string(),
                unit.name.clone(),
                unit.level.id().to_string(),
                parent,
                unit.aliases.join("|"),
            ])
            .map_err(io)?;
        }
        let bytes = wtr.into_inner().map_err(|e| io(e.into_error().into()))?;
        let mut scoped = Registry::from_csv(&bytes, code)?;
        for (i, u) in self.units.iter().enumerate() {
            if inside[i] {
                continue;
            }
            if u.level == Level::Village {
                for n in std::iter::once(&u.name).chain(&u.aliases) {
                    scoped.outside_villages.insert(normalize::name(n));
                }
                continue;
            }
            scoped.outside.insert(u.code.to_string());
            for n in std::iter::once(&u.name).chain(&u.aliases) {
                scoped.outside.insert(normalize::name(n));
            }
        }
        scoped.above = self
            .ancestors_and_self(found)
            .skip(1)
            .map(|a| {
                let unit = self.unit(a);
                let keys = std::iter::once(unit.code.to_string())
                    .chain(
                        std::iter::once(&unit.name)
                            .chain(&unit.aliases)
                            .map(|n| normalize::name(n)),
                    )
                    .collect();
                (unit.name.clone(), keys)
            })
            .collect();
        Ok(scoped)
    }

    /// Whether `text` is the name of a village outside this registry's
    /// scope (`--scope`): a village's own sheet of a township's workbook
    /// from outside names its village, not its township.
    #[must_use]
    pub fn outside_village(&self, text: &str) -> bool {
        self.outside_villages.contains(&normalize::name(text))
    }

    /// The name of the unit a 填报单位 names when it lies outside this
    /// registry's scope (`--scope`), if it does.
    #[must_use]
    pub fn outside_scope(&self, text: &str) -> bool {
        if self.outside.is_empty() {
            return false;
        }
        let key = normalize::name(text);
        self.outside.iter().any(|n| names_key(&key, n))
    }

    /// The name of the unit above this registry's scope (`--scope`: its
    /// county or city) that a text outside the scope names, where it names
    /// one and no other unit outside the scope: `西岭县_2026年3月_免疫_汇总`
    /// under `--scope 北城镇`, a summary listing 北城镇 among its
    /// townships; not `西岭县西城街道`, a township beside the scope.
    #[must_use]
    pub fn above_scope(&self, text: &str) -> Option<&str> {
        if self.above.is_empty() {
            return None;
        }
        let key = normalize::name(text);
        let named = self
            .above
            .iter()
            .find(|(_, keys)| keys.iter().any(|n| names_key(&key, n)))?;
        let above_keys = |n: &String| self.above.iter().any(|(_, keys)| keys.contains(n));
        let beside = self
            .outside
            .iter()
            .any(|n| !above_keys(n) && names_key(&key, n));
        (!beside).then_some(named.0.as_str())
    }

    /// Parses and checks registry CSV bytes; `origin` names it in messages.
    ///
    /// # Errors
    /// Bad header or any broken rule.
    pub fn from_csv(bytes: &[u8], origin: &str) -> Result<Registry, RegistryError> {
        let text = Self::decode(bytes, origin)?;
        let bytes = text.as_bytes();
        let csv_err = |message: Label| RegistryError::Csv {
            path: origin.to_string(),
            message,
        };
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| csv_err(bi(e.to_string(), e.to_string())))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let col = |name: &str| header.iter().position(|h| h == name);
        let (Some(ci), Some(ni), Some(li), Some(pi)) =
            (col("code"), col("name"), col("level"), col("parent_code"))
        else {
            return Err(csv_err(bi(
                format!(
                    "表头应为 code,name,level,parent_code,aliases，实际为 {}",
                    header.join(",")
                ),
                format!(
                    "header must be `code,name,level,parent_code,aliases`, found `{}`",
                    header.join(",")
                ),
            )));
        };
        let ai = col("aliases");
        let mut problems = Vec::new();
        let mut raw: Vec<RawLine> = Vec::new();
        // Codes of lines refused for their own fault.
        let mut refused: std::collections::HashSet<UnitCode> = std::collections::HashSet::new();
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    problems.push(bi(
                        format!("第 {line} 行：{e}"),
                        format!("line {line}: {e}"),
                    ));
                    continue;
                }
            };
            let get = |j: usize| rec.get(j).unwrap_or("").trim();
            if rec.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let Some(code) = UnitCode::parse(get(ci)) else {
                problems.push(bi(
                    format!("第 {line} 行：代码“{}”不是 12 位数字", get(ci)),
                    format!("line {line}: code `{}` is not 12 digits", get(ci)),
                ));
                continue;
            };
            let name = get(ni).to_string();
            if name.is_empty() {
                problems.push(bi(
                    format!("第 {line} 行：单位 {code} 没有名称"),
                    format!("line {line}: unit {code} has no name"),
                ));
                refused.insert(code);
                continue;
            }
            let Some(level) = Level::parse(get(li)) else {
                problems.push(bi(
                    format!("第 {line} 行：{name} 的层级“{}”不是 city、county、township 或 village（市、县、乡镇、村）", get(li)),
                    format!("line {line}: level `{}` of {name} is not city, county, township or village", get(li)),
                ));
                refused.insert(code);
                continue;
            };
            if code.level() != Some(level) {
                problems.push(bi(
                    format!("第 {line} 行：{name}（{code}）登记为 {}，但其代码是{}代码", level.zh(), code.level().map_or("格式错误的", Level::zh)),
                    format!("line {line}: {name} ({code}) is listed as {level} but its code is a {} code", code.level().map_or("malformed", Level::id)),
                ));
                refused.insert(code);
                continue;
            }
            let parent_text = get(pi);
            let parent = if parent_text.is_empty() {
                None
            } else {
                match UnitCode::parse(parent_text) {
                    Some(p) => Some(p),
                    None => {
                        problems.push(bi(
                            format!("第 {line} 行：{name} 的上级代码“{parent_text}”不是 12 位数字"),
                            format!("line {line}: parent_code `{parent_text}` of {name} is not 12 digits"),
                        ));
                        refused.insert(code);
                        continue;
                    }
                }
            };
            // An empty parent_code makes a root: a county's own registry
            // starts at the county. Checked below: only when the parent the
            // code names is not in the file.
            if parent.is_some() && parent != code.parent() {
                let given = parent.map_or("(empty)".into(), |p| p.to_string());
                let implied = code.parent().map_or("none".into(), |p| p.to_string());
                problems.push(bi(
                    format!("第 {line} 行：{name}（{code}）的上级代码为 {given}，但按其代码应为 {implied}"),
                    format!("line {line}: {name} ({code}) has parent_code {given} but its code says {implied}"),
                ));
                refused.insert(code);
                continue;
            }
            let aliases = ai
                .map(get)
                .unwrap_or("")
                .split('|')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect();
            raw.push((line, code, name, level, parent, aliases));
        }
        let codes: std::collections::HashSet<UnitCode> = raw.iter().map(|r| r.1).collect();
        for (line, code, name, _, parent, _) in &raw {
            if let (None, Some(p)) = (parent, code.parent()) {
                if codes.contains(&p) {
                    problems.push(bi(
                        format!("第 {line} 行：{name}（{code}）没有上级代码，但按其代码上级应为 {p}，而它在名录中"),
                        format!("line {line}: {name} ({code}) has no parent_code but its code says {p}, which is in the registry"),
                    ));
                }
            }
        }
        let mut reg = Registry {
            units: Vec::with_capacity(raw.len()),
            by_code: HashMap::default(),
            by_parent_name: HashMap::default(),
            by_name_upper: HashMap::default(),
            by_name: HashMap::default(),
            outside: std::collections::HashSet::new(),
            outside_villages: std::collections::HashSet::new(),
            above: Vec::new(),
        };
        for (line, code, name, level, _, aliases) in &raw {
            if reg.by_code.contains_key(code) {
                problems.push(bi(
                    format!("第 {line} 行：代码 {code}（{name}）重复出现"),
                    format!("line {line}: code {code} ({name}) appears twice"),
                ));
                continue;
            }
            reg.by_code.insert(*code, reg.units.len() as UnitIdx);
            reg.units.push(Unit {
                code: *code,
                name: name.clone(),
                level: *level,
                parent: None,
                aliases: aliases.clone(),
                children: Vec::new(),
            });
        }
        let mut lines: HashMap<UnitCode, usize> = HashMap::default();
        for (line, code, name, _, parent, _) in &raw {
            lines.entry(*code).or_insert(*line);
            let Some(p) = parent else { continue };
            if refused.contains(p) {
                // The parent's own line is already reported: one mistake,
                // one problem, not one more for each of its children.
                continue;
            }
            match reg.by_code.get(p) {
                Some(&pi) => {
                    if let Some(&ci) = reg.by_code.get(code) {
                        if reg.units[ci as usize].parent.is_none()
                            && reg.units[ci as usize].name == *name
                        {
                            reg.units[ci as usize].parent = Some(pi);
                            reg.units[pi as usize].children.push(ci);
                        }
                    }
                }
                None => problems.push(bi(
                    format!("第 {line} 行：{name}（{code}）的上级 {p} 不在名录中"),
                    format!("line {line}: parent {p} of {name} ({code}) is not in the registry"),
                )),
            }
        }
        for i in 0..reg.units.len() {
            let u = &reg.units[i];
            let idx = i as UnitIdx;
            for n in std::iter::once(&u.name).chain(&u.aliases) {
                let key = normalize::name(n);
                let scope = if u.level == Level::Village {
                    u.parent
                } else {
                    None
                };
                if let Some(&other) = reg.by_parent_name.get(&(scope, key.clone())) {
                    if other != idx {
                        let o = &reg.units[other as usize];
                        let within = match u.level {
                            Level::Village => "within its township",
                            _ => "within the registry",
                        };
                        let line = lines.get(&u.code).copied().unwrap_or(0);
                        let within_zh = match u.level {
                            Level::Village => "同一乡镇内",
                            _ => "整个名录中",
                        };
                        problems.push(bi(
                            format!("第 {line} 行：{}（{}）的名称“{n}”已被 {}（{}）使用；名称在{within_zh}必须唯一", u.name, u.code, o.name, o.code),
                            format!("line {line}: name `{n}` of {} ({}) is already used by {} ({}); names must be unique {within}", u.name, u.code, o.name, o.code),
                        ));
                    }
                    continue;
                }
                reg.by_parent_name.insert((scope, key.clone()), idx);
                if u.level != Level::Village {
                    reg.by_name_upper.entry(key).or_default().push(idx);
                }
            }
        }
        for (i, u) in reg.units.iter().enumerate() {
            if u.level != Level::City {
                let key = normalize::name(&u.name);
                reg.by_name.entry(key).or_default().push(i as UnitIdx);
            }
        }
        if !problems.is_empty() {
            return Err(RegistryError::Invalid {
                path: origin.to_string(),
                problems,
            });
        }
        if reg.units.is_empty() {
            return Err(csv_err(bi("名录中没有单位".into(), "no units".into())));
        }
        Ok(reg)
    }

    /// The unit at `idx`.
    #[must_use]
    pub fn unit(&self, idx: UnitIdx) -> &Unit {
        &self.units[idx as usize]
    }

    /// The unit with this code.
    #[must_use]
    pub fn by_code(&self, code: UnitCode) -> Option<UnitIdx> {
        self.by_code.get(&code).copied()
    }

    /// A reporting unit (not a village) named by code, name or alias anywhere
    /// in the registry, as written in a 填报单位 cell.
    #[must_use]
    pub fn find_reporting_unit(&self, text: &str) -> NameMatch {
        let key = normalize::name(text);
        if let Some(idx) = UnitCode::of_name(&key).and_then(|c| self.by_code(c)) {
            return NameMatch::Found(idx);
        }
        // The code and the name side by side: the unit both name.
        if let Some((code, name)) = UnitCode::beside_name(&key) {
            if let Some(idx) = self.by_code(code) {
                if matches!(self.find_reporting_unit(name), NameMatch::Found(i) if i == idx) {
                    return NameMatch::Found(idx);
                }
            }
        }
        if let Some(v) = self.by_name_upper.get(&key) {
            if let [one] = v.as_slice() {
                return NameMatch::Found(*one);
            }
        }
        // A longer text containing exactly one registry name or alias
        // ("城东街道社区卫生服务中心（公章）").
        let mut hits: Vec<(usize, UnitIdx)> = self
            .by_name_upper
            .iter()
            .filter(|(n, _)| n.chars().count() >= 2 && key.contains(n.as_str()))
            .flat_map(|(n, v)| v.iter().map(move |i| (n.len(), *i)))
            .collect();
        hits.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        if let Some(&(len, idx)) = hits.first() {
            if hits.iter().filter(|h| h.0 == len && h.1 != idx).count() == 0 {
                let name = self
                    .by_name_upper
                    .iter()
                    .find(|(n, v)| n.len() == len && v.contains(&idx) && key.contains(n.as_str()));
                let rest = name.map_or(key.clone(), |(n, _)| key.replacen(n.as_str(), "", 1));
                return if only_institution_words(&rest) {
                    NameMatch::Found(idx)
                } else {
                    NameMatch::Assumed(idx)
                };
            }
        }
        // 东城卫生院, 东城社区卫生服务中心: a township's health centre named
        // by its place without 街道 / 镇 / 乡. Taken to be that township
        // where it is the only one of the registry so named, and said so.
        let place = without_institution_words(&key);
        if place.chars().count() >= 2 {
            let mut named = self.units.iter().enumerate().filter(|(_, u)| {
                u.level == Level::Township
                    && township_core(&normalize::name(&u.name)) == Some(place.as_str())
            });
            if let (Some((idx, _)), None) = (named.next(), named.next()) {
                return NameMatch::Assumed(idx as UnitIdx);
            }
        }
        let candidates = self
            .units
            .iter()
            .filter(|u| u.level != Level::Village)
            .map(|u| u.name.as_str());
        NameMatch::NotFound {
            suggestion: nearest(&key, candidates),
            elsewhere: None,
        }
    }

    /// The one unit whose children a return's rows name, where the return
    /// names no reporting unit: every unit some row names, by name, alias
    /// or code, counted under its parent; the parent with the most, at
    /// least two and more than half the rows' names, and more than any
    /// other parent. With it, how many rows it names.
    #[must_use]
    pub fn parent_of_rows(&self, names: &[String]) -> Option<(UnitIdx, usize)> {
        let mut parents: HashMap<UnitIdx, usize> = HashMap::default();
        for name in names {
            let key = normalize::name(name);
            // As a row is matched: a serial before it (1.东门社区), a
            // 村委会 after it, a code beside it.
            let by_code = UnitCode::of_name(&key)
                .or_else(|| UnitCode::beside_name(&key).map(|(c, _)| c))
                .and_then(|c| self.by_code(c));
            let of_name: Vec<UnitIdx> = match by_code {
                Some(u) => vec![u],
                None => normalize::name_candidates(&key, "")
                    .iter()
                    .find_map(|c| self.by_name.get(c.as_str()).filter(|v| !v.is_empty()))
                    .cloned()
                    .unwrap_or_default(),
            };
            let mut seen: Vec<UnitIdx> = Vec::new();
            for u in of_name {
                let Some(p) = self.units[u as usize].parent else {
                    continue;
                };
                if !seen.contains(&p) {
                    seen.push(p);
                    *parents.entry(p).or_default() += 1;
                }
            }
        }
        let mut ranked: Vec<(usize, UnitIdx)> = parents.into_iter().map(|(p, n)| (n, p)).collect();
        ranked.sort_unstable_by(|a, b| b.cmp(a));
        match ranked.as_slice() {
            [(n, p), rest @ ..]
                if *n >= 2 && 2 * n > names.len() && rest.first().is_none_or(|(m, _)| m < n) =>
            {
                Some((*p, *n))
            }
            _ => None,
        }
    }

    /// A row's unit among the children of `parent`, by name, alias or code,
    /// tolerating a trailing 村委会/居委会/… the registry name lacks. When
    /// there is none, [`Registry::suggest_child`] says which name was meant.
    #[must_use]
    pub fn find_child(&self, parent: UnitIdx, text: &str) -> NameMatch {
        let key = normalize::name(text);
        if let Some(idx) = UnitCode::of_name(&key).and_then(|c| self.by_code(c)) {
            if self.units[idx as usize].parent == Some(parent) {
                return NameMatch::Found(idx);
            }
        }
        let scope = self.child_scope(parent);
        // The key goes into the probe and comes back out: no copy per row.
        let probe = (scope, key);
        if let Some(&idx) = self.by_parent_name.get(&probe) {
            if self.units[idx as usize].parent == Some(parent) {
                return NameMatch::Found(idx);
            }
        }
        let (scope, key) = probe;
        let parent_name = normalize::name(&self.units[parent as usize].name);
        let candidates = normalize::name_candidates(&key, &parent_name);
        for candidate in candidates.iter().skip(1) {
            if let Some(&idx) = self.by_parent_name.get(&(scope, candidate.clone())) {
                if self.units[idx as usize].parent == Some(parent) {
                    return NameMatch::Found(idx);
                }
            }
        }
        // The code and the name side by side: the unit both name.
        if let Some((code, name)) = UnitCode::beside_name(&key) {
            if let Some(idx) = self.by_code(code) {
                if self.units[idx as usize].parent == Some(parent)
                    && matches!(self.find_child(parent, name), NameMatch::Found(i) if i == idx)
                {
                    return NameMatch::Found(idx);
                }
            }
        }
        // Looked up, not searched for: a province's registry has thousands
        // of units, and a township on an old village list has a row like
        // this in every return. The name as written first, then as a row
        // under its own township is found (without 村委会/居委会/…).
        let elsewhere = candidates
            .iter()
            .filter_map(|name| self.by_name.get(name.as_str()))
            .find_map(|units| {
                units
                    .iter()
                    .copied()
                    .find(|&u| self.units[u as usize].parent != Some(parent))
            });
        // No suggestion here: the likeliest name for a row depends on the
        // rows its return already names (`suggest_child`), and a caller
        // that does not ask would pay a distance to every sibling per row.
        NameMatch::NotFound {
            suggestion: None,
            elsewhere,
        }
    }

    /// The units below `ancestor`'s children that a row names, at any
    /// depth, by [`Registry::find_child`] under each unit with children: a
    /// county's return that lists its townships' villages. Village names
    /// are unique only within their township, so there may be several; a
    /// name written after its township's (东城街道新华社区) is that one.
    #[must_use]
    pub fn find_below(&self, ancestor: UnitIdx, text: &str) -> Vec<UnitIdx> {
        let mut found = Vec::new();
        let mut stack: Vec<UnitIdx> = self.units[ancestor as usize]
            .children
            .iter()
            .rev()
            .copied()
            .collect();
        while let Some(u) = stack.pop() {
            let children = &self.units[u as usize].children;
            if children.is_empty() {
                continue;
            }
            if let NameMatch::Found(c) = self.find_child(u, text) {
                found.push(c);
            }
            stack.extend(children.iter().rev().copied());
        }
        found
    }

    /// Whether `unit` is `ancestor` or below it.
    #[must_use]
    pub fn is_within(&self, unit: UnitIdx, ancestor: UnitIdx) -> bool {
        self.ancestors_and_self(unit).any(|a| a == ancestor)
    }

    /// The registry name a misspelt row most likely meant: the nearest of
    /// `parent`'s children that the return does not already name (`named`).
    /// When none is close but exactly one child is missing and this is the
    /// return's only unknown row (`lone`), that child is the likeliest answer.
    #[must_use]
    pub fn suggest_child(
        &self,
        parent: UnitIdx,
        text: &str,
        named: &[UnitIdx],
        lone: bool,
    ) -> Option<UnitIdx> {
        let unnamed: Vec<UnitIdx> = self.units[parent as usize]
            .children
            .iter()
            .copied()
            .filter(|c| !named.contains(c))
            .collect();
        let key = normalize::name(text);
        nearest(
            &key,
            unnamed
                .iter()
                .map(|&c| self.units[c as usize].name.as_str()),
        )
        .and_then(|name| {
            unnamed
                .iter()
                .copied()
                .find(|&c| self.units[c as usize].name == name)
        })
        .or(match unnamed.as_slice() {
            [only] if lone => Some(*only),
            _ => None,
        })
    }

    fn child_scope(&self, parent: UnitIdx) -> Option<UnitIdx> {
        // Villages are keyed by their township; other levels are unique registry-wide.
        let has_village_children = self.units[parent as usize]
            .children
            .first()
            .is_some_and(|&c| self.units[c as usize].level == Level::Village);
        has_village_children.then_some(parent)
    }

    /// The unit and all its ancestors, nearest first.
    pub fn ancestors_and_self(&self, idx: UnitIdx) -> impl Iterator<Item = UnitIdx> + '_ {
        std::iter::successors(Some(idx), move |&i| self.units[i as usize].parent)
    }

    /// The root: the first unit without a parent (the city, or the unit a
    /// scope was cut at).
    #[must_use]
    pub fn root(&self) -> Option<UnitIdx> {
        self.units
            .iter()
            .position(|u| u.parent.is_none())
            .map(|i| i as UnitIdx)
    }

    /// Units in report order: each unit followed by its subtree (depth first), roots first.
    #[must_use]
    pub fn depth_first(&self) -> Vec<UnitIdx> {
        let mut out = Vec::with_capacity(self.units.len());
        let mut stack: Vec<UnitIdx> = self
            .units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.parent.is_none())
            .map(|(i, _)| i as UnitIdx)
            .rev()
            .collect();
        while let Some(i) = stack.pop() {
            out.push(i);
            stack.extend(self.units[i as usize].children.iter().rev());
        }
        out
    }
}

/// Words that name a unit's institution or seal rather than another place:
/// what may stand around a registry name in a 填报单位 cell (a township's
/// health centre, a county's health bureau or its CDC).
const INSTITUTION_WORDS: [&str; 22] = [
    "填报",
    "卫生健康委员会",
    "卫生健康局",
    "卫健委",
    "卫健局",
    "卫生局",
    "疾病预防控制中心",
    "疾控中心",
    "社区卫生服务中心",
    "社区卫生服务站",
    "卫生服务中心",
    "卫生服务站",
    "中心卫生院",
    "卫生院",
    "人民政府",
    "办事处",
    "卫生健康办公室",
    "卫健办",
    "公章",
    "盖章",
    "签章",
    "单位",
];

/// Whether `rest` holds nothing but institution words and brackets.
fn only_institution_words(rest: &str) -> bool {
    without_institution_words(rest).is_empty()
}

/// `text` less its institution words, brackets and separators: the place
/// a 填报单位 names (东城卫生院（公章）: 东城).
fn without_institution_words(text: &str) -> String {
    let mut r = text.to_string();
    for w in INSTITUTION_WORDS {
        r = r.replace(w, "");
    }
    r.retain(|c| {
        !matches!(
            c,
            '(' | ')'
                | '['
                | ']'
                | '【'
                | '】'
                | '（'
                | '）'
                | '〔'
                | '〕'
                | ':'
                | '：'
                | '-'
                | '_'
                | '·'
        )
    });
    r
}

/// A township's name less the word for its level (东城街道: 东城; 新民镇:
/// 新民), as its health centre is often called (东城卫生院); a name that
/// would keep fewer than two characters is none.
fn township_core(name: &str) -> Option<&str> {
    ["街道办事处", "街道", "镇", "乡"]
        .iter()
        .find_map(|w| name.strip_suffix(w))
        .filter(|core| core.chars().count() >= 2)
}

/// The nearest candidate by edit distance, if it is close enough to be a
/// plausible typo (at most a third of the characters differ).
fn nearest<'a>(key: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::normalized_levenshtein(key, &normalize::name(c));
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.filter(|(s, _)| *s >= 0.34).map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "code,name,level,parent_code,aliases
439900000000,青山市,city,,
439902000000,东湖区,county,439900000000,
439902001000,城东街道,township,439902000000,城东街道社区卫生服务中心
439902001001,东门社区,village,439902001000,
439902001201,新村,village,439902001000,
439902101000,新民镇,township,439902000000,新民镇卫生院
439902101201,新村,village,439902101000,
";

    /// A scope's county and city are told apart from the units beside it:
    /// a text naming the county alone is of the county (its summary), one
    /// naming the county and a township beside the scope is that township's.
    #[test]
    fn a_text_of_a_unit_above_the_scope_is_told_apart() {
        let r = Registry::from_csv(CSV.as_bytes(), "units.csv").unwrap();
        let scoped = r.scoped("城东街道").unwrap();
        assert_eq!(
            scoped.above_scope("东湖区_2026年3月_免疫_汇总"),
            Some("东湖区")
        );
        assert_eq!(scoped.above_scope("439902000000"), Some("东湖区"));
        assert_eq!(scoped.above_scope("青山市汇总"), Some("青山市"));
        assert!(scoped.outside_scope("东湖区新民镇卫生院"));
        assert_eq!(scoped.above_scope("东湖区新民镇卫生院"), None);
        assert_eq!(scoped.above_scope("新民镇"), None);
        // A whole registry has nothing above it; a county's scope its city.
        assert_eq!(r.above_scope("东湖区"), None);
        let county = r.scoped("东湖区").unwrap();
        assert_eq!(county.above_scope("青山市_2026年3月"), Some("青山市"));
        assert_eq!(county.above_scope("东湖区"), None);
    }

    #[test]
    fn an_unknown_row_name_is_found_elsewhere_in_file_order() {
        let r = Registry::from_csv(
            "code,name,level,parent_code,aliases
439900000000,青山市,city,,
439902000000,东湖区,county,439900000000,
439902001000,城东街道,township,439902000000,
439902001201,新村,village,439902001000,
439902101000,新民镇,township,439902000000,
439902101201,新村,village,439902101000,
439902201000,西山镇,township,439902000000,
439902201001,西山村,village,439902201000,
"
            .as_bytes(),
            "units.csv",
        )
        .unwrap();
        let code = |c| r.by_code(UnitCode(c)).unwrap();
        let elsewhere = |parent, text| match r.find_child(parent, text) {
            NameMatch::NotFound { elsewhere, .. } => elsewhere,
            other => panic!("{text}: {other:?}"),
        };
        let xs = code(439902201000);
        // Two 新村 elsewhere: the first in the file is named.
        assert_eq!(elsewhere(xs, "新村"), Some(code(439902001201)));
        assert_eq!(elsewhere(xs, "新村村委会"), Some(code(439902001201)));
        assert_eq!(elsewhere(xs, "新民镇"), Some(code(439902101000)));
        assert_eq!(elsewhere(xs, "青山市"), None, "the city is no one's row");
        assert_eq!(elsewhere(xs, "东山村委会"), None);
        assert_eq!(elsewhere(xs, "东山村"), None);
        assert_eq!(
            r.find_child(code(439902101000), "新村"),
            NameMatch::Found(code(439902101201))
        );
    }

    /// A return that names no unit: the one whose children its rows name,
    /// where those rows say so plainly.
    #[test]
    fn the_unit_whose_children_the_rows_name() {
        let r = Registry::from_csv(CSV.as_bytes(), "units.csv").unwrap();
        let cd = r.by_code(UnitCode(439902001000)).unwrap();
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            r.parent_of_rows(&names(&["东门社区", "新村", "合计"])),
            Some((cd, 2))
        );
        // 新村 is under both townships: no more one's than the other's.
        assert_eq!(r.parent_of_rows(&names(&["新村", "合计"])), None);
        // Written as rows are: a serial, a 居委会, a code beside the name.
        assert_eq!(
            r.parent_of_rows(&names(&["1.东门社区（居委会）", "2、新村村委会", "合计"])),
            Some((cd, 2))
        );
        assert_eq!(
            r.parent_of_rows(&names(&["439902001001 东门社区", "新村"])),
            Some((cd, 2))
        );
        // Two of five rows are not more than half.
        assert_eq!(
            r.parent_of_rows(&names(&["东门社区", "新村", "甲村", "乙村", "丙村"])),
            None
        );
    }

    #[test]
    fn a_row_name_is_found_under_what_clerks_put_around_it() {
        let r = Registry::from_csv(CSV.as_bytes(), "units.csv").unwrap();
        let cd = r.by_code(UnitCode(439902001000)).unwrap();
        let dm = r.by_code(UnitCode(439902001001)).unwrap();
        let xc = r.by_code(UnitCode(439902001201)).unwrap();
        for (text, unit) in [
            ("1.东门社区", dm),
            ("２、新村", xc),
            ("12．新村", xc),
            // A serial in brackets, in words, or circled.
            ("（2）新村", xc),
            ("(12)新村", xc),
            ("（二）新村", xc),
            ("三、东门社区", dm),
            ("②新村", xc),
            ("城东街道新村", xc),
            ("东门社区（居委会）", dm),
            ("3.东门社区（居委会）", dm),
            ("东门社区卫生服务站", dm),
            ("新村卫生所", xc),
            ("1.新村村委会", xc),
            // The organisation's name shortening the unit's.
            ("新村委会", xc),
            ("新村民委员会", xc),
            ("东门居委会", dm),
            ("东门社区居委会", dm),
            // The code beside the name, either side, as some templates write them.
            ("439902001001 东门社区", dm),
            ("新村（439902001201）", xc),
            ("439902001201-新村", xc),
        ] {
            assert_eq!(r.find_child(cd, text), NameMatch::Found(unit), "{text}");
        }
        // A code and a name that name two units are neither.
        assert!(matches!(
            r.find_child(cd, "439902001201 东门社区"),
            NameMatch::NotFound { .. }
        ));
        assert_eq!(
            r.find_reporting_unit("439902001000 城东街道"),
            NameMatch::Found(cd)
        );
        // A health centre named by its place without 街道 / 镇: taken to be
        // the one township so named, and said to be assumed.
        let xm = r.by_code(UnitCode(439902101000)).unwrap();
        for (text, unit) in [
            ("城东卫生院", cd),
            ("城东社区卫生服务中心（公章）", cd),
            ("新民卫生院", xm),
        ] {
            assert_eq!(
                r.find_reporting_unit(text),
                NameMatch::Assumed(unit),
                "{text}"
            );
        }
        assert!(matches!(
            r.find_reporting_unit("城西卫生院"),
            NameMatch::NotFound { .. }
        ));
        // A name that is only spaces is no one's, and no panic.
        assert!(matches!(r.find_child(cd, "  "), NameMatch::NotFound { .. }));
        // Nothing of a name is guessed away: these stay unknown.
        for text in ["1新", "东门", "新民镇新村", "(新村)", "东门社区（二）"] {
            assert!(
                matches!(r.find_child(cd, text), NameMatch::NotFound { .. }),
                "{text}"
            );
        }
    }

    #[test]
    fn loads_tree_and_matches_names_within_parent() {
        let r = Registry::from_csv(CSV.as_bytes(), "units.csv").unwrap();
        let cd = r.by_code(UnitCode(439902001000)).unwrap();
        let xm = r.by_code(UnitCode(439902101000)).unwrap();
        assert_eq!(
            r.find_reporting_unit("城东街道社区卫生服务中心"),
            NameMatch::Found(cd)
        );
        assert_eq!(r.find_reporting_unit(" 城东街道 "), NameMatch::Found(cd));
        assert_eq!(r.find_reporting_unit("439902101000"), NameMatch::Found(xm));
        assert_eq!(
            r.find_reporting_unit("填报：新民镇卫生院（盖章）"),
            NameMatch::Found(xm)
        );
        // A longer text holding one registry name is a guess, reported.
        assert_eq!(
            r.find_reporting_unit("原城东街道东片区"),
            NameMatch::Assumed(cd)
        );
        let NameMatch::Found(a) = r.find_child(cd, "新村") else {
            panic!()
        };
        let NameMatch::Found(b) = r.find_child(xm, "新村村委会") else {
            panic!()
        };
        assert_ne!(a, b, "新村 is two different villages");
        assert_eq!(
            r.find_child(cd, "东门社区居委会"),
            NameMatch::Found(r.by_code(UnitCode(439902001001)).unwrap())
        );
        assert_eq!(
            r.find_child(cd, "東門社区"),
            NameMatch::NotFound {
                suggestion: None,
                elsewhere: None
            }
        );
        assert_eq!(
            r.suggest_child(cd, "東門社区", &[], false),
            r.by_code(UnitCode(439902001001))
        );
        let order: Vec<&str> = r
            .depth_first()
            .iter()
            .map(|&i| r.unit(i).name.as_str())
            .collect();
        assert_eq!(
            order,
            [
                "青山市",
                "东湖区",
                "城东街道",
                "东门社区",
                "新村",
                "新民镇",
                "新村"
            ]
        );
    }

    #[test]
    fn codes_know_their_level_and_parent() {
        assert_eq!(UnitCode(439902101003).level(), Some(Level::Village));
        assert_eq!(
            UnitCode(439902101003).parent(),
            Some(UnitCode(439902101000))
        );
        assert_eq!(
            UnitCode(439902101000).parent(),
            Some(UnitCode(439902000000))
        );
        assert_eq!(
            UnitCode(439902000000).parent(),
            Some(UnitCode(439900000000))
        );
        assert_eq!(UnitCode(439900000000).level(), Some(Level::City));
        assert_eq!(UnitCode(439900000000).parent(), None);
        assert_eq!(UnitCode::parse("43990210100"), None);
    }

    #[test]
    fn broken_registries_are_refused_with_every_reason() {
        let bad = "code,name,level,parent_code,aliases
439900000000,青山市,city,,
439902000000,东湖区,township,439900000000,
439903000000,西岭县,county,439800000000,
439903001000,甲街道,township,439903000000,
439903001000,乙街道,township,439903000000,
439903002000,甲街道,township,439903000000,
439904001000,丙街道,township,439904000000,
";
        let err = Registry::from_csv(bad.as_bytes(), "u.csv")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "line 3: 东湖区 (439902000000) is listed as township but its code is a county code"
            ),
            "{err}"
        );
        assert!(
            err.contains("line 4: 西岭县 (439903000000) has parent_code 439800000000"),
            "{err}"
        );
        assert!(
            err.contains("code 439903001000 (乙街道) appears twice"),
            "{err}"
        );
        assert!(err.contains("name `甲街道`"), "{err}");
        assert!(err.contains("parent 439904000000 of 丙街道"), "{err}");
        let err = Registry::from_csv(b"id,name\n1,x\n", "u.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("header must be"), "{err}");
        // A township that lost its parent_code while its county is listed.
        let err = Registry::from_csv(
            "code,name,level,parent_code,aliases
439902000000,东湖区,county,,
439902001000,城东街道,township,,
"
            .as_bytes(),
            "u.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(
                "城东街道 (439902001000) has no parent_code but its code says 439902000000"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_county_keeps_its_own_registry() {
        let county = "code,name,level,parent_code,aliases
439902000000,东湖区,county,,
439902001000,城东街道,township,439902000000,
439902001001,东门社区,village,439902001000,
";
        let r = Registry::from_csv(county.as_bytes(), "u.csv").unwrap();
        let order: Vec<&str> = r
            .depth_first()
            .iter()
            .map(|&i| r.unit(i).name.as_str())
            .collect();
        assert_eq!(order, ["东湖区", "城东街道", "东门社区"]);
    }
}
