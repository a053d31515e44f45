//! Text normalisation shared by header labels and unit names (FORMS.md §1, §2):
//! full-width → half-width, whitespace removed, trailing units and
//! organisation suffixes dropped.

/// Full-width ASCII forms (U+FF01–U+FF5E) and the ideographic space become
/// their half-width twins; `％` becomes `%`, `（）` become `()`.
#[must_use]
pub fn half_width(text: &str) -> String {
    text.chars().map(half_width_char).collect()
}

fn half_width_char(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Whether NFKC might change `c`: outside ASCII, the CJK Unified
/// Ideographs, CJK punctuation (U+3000–3035) and the full-width ASCII forms
/// (which [`half_width_char`] folds exactly as NFKC does). Nearly every
/// label and name is inside those, and skips the NFKC tables.
fn may_fold(c: char) -> bool {
    !(c.is_ascii()
        || ('\u{4E00}'..='\u{9FFF}').contains(&c)
        || ('\u{3000}'..='\u{3035}').contains(&c)
        || ('\u{FF01}'..='\u{FF5E}').contains(&c))
}

/// Invisible format characters pasted along with names: zero-width spaces
/// and joiners, word joiner, byte-order mark, soft hyphen.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}')
}

/// Half-width, with every whitespace character (spaces, line breaks inside a
/// header cell, non-breaking spaces) and invisible character removed.
/// Compatibility characters (Kangxi radicals and compatibility ideographs
/// pasted from PDFs, circled digits) are folded by NFKC first.
#[must_use]
pub fn compact(text: &str) -> String {
    use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};
    let keep = |c: &char| !c.is_whitespace() && !is_invisible(*c);
    // Nearly every label, name and number is compact already: copied whole,
    // not rebuilt a character at a time (a village name grew its String
    // three or four times).
    let unchanged = |c: char| keep(&c) && !may_fold(c) && half_width_char(c) == c;
    if text.chars().all(unchanged) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    if !text.chars().any(may_fold) || is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        out.extend(text.chars().map(half_width_char).filter(keep));
    } else {
        out.extend(text.nfkc().map(half_width_char).filter(keep));
    }
    out
}

/// Units a header may end with, dropped before matching (`应种人数(人)`).
const TRAILING_UNITS: [&str; 6] = ["(人)", "(人次)", "(%)", "(个)", "(户)", "(例)"];

/// A header label ready for lookup: compact, a trailing unit like `(人)` or
/// `(%)` dropped (FORMS.md §2).
#[must_use]
pub fn label(text: &str) -> String {
    let mut s = compact(text);
    // Most texts have neither a dose nor a type: no copy made for them.
    if s.contains('第') {
        s = dose_numbers(&s);
    }
    if s.contains('型') {
        s = disease_types(&s);
    }
    if s.contains('岁') {
        s = ages(&s);
    }
    loop {
        let before = s.len();
        for unit in TRAILING_UNITS {
            if let Some(stripped) = s.strip_suffix(unit) {
                s.truncate(stripped.len());
            }
        }
        if let Some(stripped) = s.strip_suffix('%') {
            s.truncate(stripped.len());
        }
        if s.len() == before {
            return s;
        }
    }
}

/// A dose written as forms and clerks write it, as the schemas do: 第一剂,
/// 第1剂次, 第1针 and (第1剂) are all 第1剂 (乙肝疫苗（第一剂） is
/// 乙肝疫苗第1剂). Other text is left as it is.
fn dose_numbers(text: &str) -> String {
    const WORDS: [&str; 4] = ["剂次", "针次", "剂", "针"];
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let bracketed = chars[i] == '(' && chars.get(i + 1) == Some(&'第');
        let start = if bracketed { i + 1 } else { i };
        if chars[start] == '第' {
            let digits: String = chars[start + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || "一二三四五六七八九十".contains(**c))
                .collect();
            let after = start + 1 + digits.chars().count();
            let rest: String = chars[after..].iter().collect();
            let word = WORDS.iter().find(|w| rest.starts_with(**w));
            if let (Some(n), Some(word)) = (dose_number(&digits), word) {
                let mut end = after + word.chars().count();
                if bracketed {
                    if chars.get(end) != Some(&')') {
                        out.push('(');
                        i += 1;
                        continue;
                    }
                    end += 1;
                }
                out.push_str(&format!("第{n}剂"));
                i = end;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// A disease's type in a Roman or Chinese numeral, as 2型糖尿病 is often
/// written: Ⅱ型 (II型 once folded), 二型; also Ⅰ型, 一型.
fn disease_types(text: &str) -> String {
    if !text.contains('型') {
        return text.to_string();
    }
    text.replace("II型", "2型")
        .replace("二型", "2型")
        .replace("I型", "1型")
        .replace("一型", "1型")
}

/// An age as forms and clerks write it, as the schemas do: 周岁 is 岁, and
/// a range of ages takes `-` whatever joins it (0—6岁, 0–6岁, 0~6岁, 0至6岁,
/// 0到6岁 are all 0-6岁). Other text is left as it is.
fn ages(text: &str) -> String {
    let text = text.replace("周岁", "岁");
    let chars: Vec<char> = text.chars().collect();
    let joins = |c: char| matches!(c, '—' | '–' | '‐' | '‑' | '−' | '~' | '〜' | '至' | '到');
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let between_digits = i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(char::is_ascii_digit);
            if between_digits && joins(c) {
                '-'
            } else {
                c
            }
        })
        .collect()
}

/// 1–19 in digits or in Chinese numerals (三, 十, 十二).
fn dose_number(text: &str) -> Option<u32> {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit()) {
        return text.parse().ok();
    }
    let digit = |c: char| "一二三四五六七八九".find(c).map(|i| i as u32 / 3 + 1);
    let chars: Vec<char> = text.chars().collect();
    match chars[..] {
        ['十'] => Some(10),
        [c] => digit(c),
        ['十', c] => digit(c).map(|d| 10 + d),
        _ => None,
    }
}

/// Suffixes a row's unit name may carry that the registry name lacks
/// (FORMS.md §1, and the health stations' own names: 东门社区卫生服务站),
/// longest first so `社区居委会` wins over `居委会`.
pub const NAME_SUFFIXES: [&str; 10] = [
    "社区卫生服务站",
    "社区居委会",
    "村民委员会",
    "卫生服务站",
    "村卫生室",
    "村委会",
    "居委会",
    "卫生室",
    "卫生站",
    "卫生所",
];

/// `key` without the serial number a clerk wrote before the name: `1.团结村`,
/// `2、长乐村`, `(2)团结村`, `(二)团结村`, `三、团结村`, and `②团结村` (folded
/// to `2团结村`: up to three digits straight before a name). Numerals in words are a
/// serial only with their mark after them: 三河村 is a name.
fn without_serial(key: &str) -> Option<&str> {
    let numeral = |c: char| c.is_ascii_digit() || "一二三四五六七八九十".contains(c);
    if let Some(inside) = key.strip_prefix('(') {
        let rest = inside.trim_start_matches(numeral);
        if rest.len() < inside.len() {
            return rest.strip_prefix(')');
        }
    }
    let rest = key.trim_start_matches(numeral);
    if rest.len() == key.len() {
        return None;
    }
    if let Some(name) = rest.strip_prefix(['.', '、', ')', ':', '-', '。']) {
        return Some(name);
    }
    // At most three digits: more are a code beside the name, not a serial.
    let rest = key.trim_start_matches(|c: char| c.is_ascii_digit());
    let serial = (1..=3).contains(&(key.len() - rest.len()));
    (serial && rest.chars().next().is_some_and(|c| !c.is_ascii())).then_some(rest)
}

/// A row's name as written, then with what may stand around a unit's name
/// taken off, one thing at a time: a leading serial number (`1.团结村`,
/// `2、长乐村`, [`without_serial`]), a leading `parent` name (`南城镇团结村`), a trailing
/// bracketed organisation word (`东门社区(居委会)`), and then each of those without a
/// trailing [`NAME_SUFFIXES`] word. `key` is already [`name`]-normalised.
#[must_use]
pub fn name_candidates(key: &str, parent: &str) -> Vec<String> {
    let mut bases = vec![key.to_string()];
    if let Some(rest) = without_serial(key) {
        bases.push(rest.to_string());
    }
    if let Some(rest) = key.strip_prefix(parent) {
        bases.push(rest.to_string());
    }
    // (居委会): an organisation word in brackets, not (二) or (东片); after
    // a serial too (1.东门社区(居委会)).
    for i in 0..bases.len() {
        if let Some((name, word)) = bases[i].strip_suffix(')').and_then(|k| k.rsplit_once('(')) {
            if NAME_SUFFIXES.contains(&word) {
                bases.push(name.to_string());
            }
        }
    }
    let mut out: Vec<String> = Vec::new();
    for base in bases {
        // 光明村委会 is 光明村's, 东门居委会 东门社区's: the word kept where
        // the organisation's name shortens the unit's.
        let stems = NAME_SUFFIXES
            .iter()
            .filter_map(|s| Some((base.strip_suffix(s)?, s)))
            .flat_map(|(stem, s)| {
                let kept = match *s {
                    "村民委员会" | "村委会" | "村卫生室" => Some("村"),
                    "社区居委会" | "居委会" => Some("社区"),
                    _ => None,
                };
                std::iter::once(stem.to_string()).chain(
                    kept.filter(|k| !stem.is_empty() && !stem.ends_with(k))
                        .map(|k| format!("{stem}{k}")),
                )
            })
            .collect::<Vec<_>>();
        for candidate in std::iter::once(base).chain(stems) {
            if !candidate.is_empty() && !out.contains(&candidate) {
                out.push(candidate);
            }
        }
    }
    out
}

/// A unit name ready for comparison: compact (trimmed, half-width, no inner
/// spaces). Suffix stripping depends on the registry name and is done by the
/// registry's matcher.
#[must_use]
pub fn name(text: &str) -> String {
    compact(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dose_and_a_disease_type_are_one_label_however_written() {
        for t in [
            "乙肝疫苗第1剂",
            "乙肝疫苗第一剂",
            "乙肝疫苗（第一剂）",
            "乙肝疫苗(第1剂)",
            "乙肝疫苗第1剂次",
            "乙肝疫苗第一针",
            "乙肝疫苗 第 1 剂",
        ] {
            assert_eq!(label(t), "乙肝疫苗第1剂", "{t}");
        }
        assert_eq!(label("百白破疫苗第三剂"), "百白破疫苗第3剂");
        for t in [
            "2型糖尿病",
            "Ⅱ型糖尿病",
            "II型糖尿病",
            "二型糖尿病",
            "Ⅱ 型糖尿病",
        ] {
            assert_eq!(label(t), "2型糖尿病", "{t}");
        }
        assert_eq!(label("第十二剂"), "第12剂");
        // An age range however joined, and 周岁.
        for t in [
            "0-6岁儿童",
            "0—6岁儿童",
            "0–6岁儿童",
            "0～6岁儿童",
            "0~6岁儿童",
            "0至6岁儿童",
            "0到6岁儿童",
            "0-6周岁儿童",
        ] {
            assert_eq!(label(t), "0-6岁儿童", "{t}");
        }
        assert_eq!(label("65周岁及以上老年人"), "65岁及以上老年人");
        // 至 beside a word is left alone.
        assert_eq!(label("6月龄至1岁儿童"), "6月龄至1岁儿童");
        // Not a dose: left alone.
        for t in ["第一季度", "(第1组)", "第剂", "(第1剂", "第二十一剂"] {
            assert_eq!(label(t), t, "{t}");
        }
    }

    #[test]
    fn full_width_digits_and_brackets() {
        assert_eq!(half_width("１２３４"), "1234");
        assert_eq!(half_width("接种率（％）"), "接种率(%)");
        assert_eq!(half_width("a\u{3000}b"), "a b");
    }

    #[test]
    fn labels_drop_spaces_breaks_and_units() {
        assert_eq!(label(" 应种\n人数（人）"), "应种人数");
        assert_eq!(label("接种率(%)"), "接种率");
        assert_eq!(label("接种率（％）"), "接种率");
        assert_eq!(label("接种率%"), "接种率");
        assert_eq!(label("本月随访人次(人次)"), "本月随访人次");
        assert_eq!(label("乙肝疫苗第1剂 应种人数"), "乙肝疫苗第1剂应种人数");
    }

    #[test]
    fn names_compact() {
        assert_eq!(name(" 东门 社区 "), "东门社区");
        assert_eq!(name("城东街道\u{3000}"), "城东街道");
        assert_eq!(name("东门\u{200D}社区\u{00A0}"), "东门社区");
        // Kangxi radical ⽣ (U+2F63) is 生; compatibility ideograph U+F900 is 豈.
        assert_eq!(name("新\u{2F63}村"), "新生村");
        assert_eq!(name("\u{F900}村"), "\u{8C48}村");
    }

    /// The whole-copy shortcut gives what the character-by-character path
    /// gives, on every mix of the characters either path treats apart.
    #[test]
    fn the_shortcut_of_compact_changes_nothing() {
        use unicode_normalization::UnicodeNormalization;
        let slow = |t: &str| -> String {
            t.nfkc()
                .map(half_width_char)
                .filter(|c| !c.is_whitespace() && !is_invisible(*c))
                .collect()
        };
        let parts = [
            "东门", "社区", "a", "7", " ", "\u{3000}", "（", "）", "％", "１２", "\u{200B}",
            "\u{00AD}", "\u{2F63}", "\u{F900}", "①", "é", "e\u{301}", "\n", "\u{00A0}", "-",
        ];
        for a in parts {
            for b in parts {
                for c in parts {
                    let t = format!("{a}{b}{c}");
                    assert_eq!(compact(&t), slow(&t), "{t:?}");
                }
            }
        }
    }
}
