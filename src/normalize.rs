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
    if !text.chars().any(may_fold) || is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        text.chars().map(half_width_char).filter(keep).collect()
    } else {
        text.nfkc().map(half_width_char).filter(keep).collect()
    }
}

/// Units a header may end with, dropped before matching (`应种人数(人)`).
const TRAILING_UNITS: [&str; 6] = ["(人)", "(人次)", "(%)", "(个)", "(户)", "(例)"];

/// A header label ready for lookup: compact, a trailing unit like `(人)` or
/// `(%)` dropped (FORMS.md §2).
#[must_use]
pub fn label(text: &str) -> String {
    let mut s = compact(text);
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

/// Suffixes a row's unit name may carry that the registry name lacks
/// (FORMS.md §1), longest first so `社区居委会` wins over `居委会`.
pub const NAME_SUFFIXES: [&str; 6] = [
    "社区居委会",
    "村民委员会",
    "村卫生室",
    "村委会",
    "居委会",
    "卫生室",
];

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
}
