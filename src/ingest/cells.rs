//! One honest cell type: calamine's `Data` converted once into [`Cell`],
//! then into a figure, "not reported", or a finding (FORMS.md §2, §4).

use calamine::Data;

use crate::findings::Rule;
use crate::message::BadCell;
use crate::normalize;

/// What a spreadsheet cell holds, without calamine's types.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// Nothing.
    Empty,
    /// A number (formulas arrive as the value the application saved).
    Number(f64),
    /// Text, as stored.
    Text(&'a str),
    /// TRUE/FALSE.
    Bool(bool),
    /// A date or time (a date format on a number, or an ISO text).
    Date(String),
    /// An error value (`#DIV/0!`, `#REF!`).
    Error(String),
    /// A formula saved without its value (by a program that does not
    /// calculate): the formula text, without `=`.
    Uncached(&'a str),
}

/// Converts calamine's cell value.
#[must_use]
pub fn classify(d: &Data) -> Cell<'_> {
    match d {
        Data::Empty => Cell::Empty,
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::String(s) => Cell::Text(s),
        Data::Bool(b) => Cell::Bool(*b),
        // As a person reads it: 2026-03-01, not the serial number 46082.
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, mo, d, h, mi, _, _) = dt.to_ymd_hms_milli();
            Cell::Date(if (h, mi) == (0, 0) {
                format!("{y}-{mo:02}-{d:02}")
            } else {
                format!("{y}-{mo:02}-{d:02} {h:02}:{mi:02}")
            })
        }
        Data::DateTime(dt) => Cell::Date(format!("{dt}")),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Date(s.clone()),
        Data::Error(e) => Cell::Error(format!("{e}")),
    }
}

impl<'a> Cell<'a> {
    /// Non-empty text, trimmed.
    #[must_use]
    pub fn text(&self) -> Option<&'a str> {
        match self {
            Cell::Text(s) => Some(s.trim()).filter(|s| !s.is_empty()),
            _ => None,
        }
    }

    /// The cell as a name: text, or a whole number written as digits (a code).
    #[must_use]
    pub fn as_name(&self) -> Option<String> {
        match self {
            Cell::Text(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Some(format!("{}", *n as i64)),
            _ => None,
        }
    }

    /// Whether the cell holds nothing a person could see.
    #[must_use]
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The value as a person reads it, for messages.
    #[must_use]
    pub fn shown(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Number(n) => crate::message::exact(*n),
            Cell::Text(s) => (*s).to_string(),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::Date(d) => d.clone(),
            Cell::Error(e) => e.clone(),
            Cell::Uncached(f) => format!("={f}"),
        }
    }
}

/// Counts above this are not plausible head counts for any unit of a city;
/// they are typos or overflow (`1e308`) and must not poison sums.
pub const MAX_COUNT: f64 = 1e9;

/// Why a cell could not be read as a figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Bad {
    /// `not_a_number`, `negative` or `not_whole`.
    pub rule: Rule,
    /// What the cell holds instead of a figure.
    pub why: BadCell,
    /// The number, when the cell holds one that breaks a rule (negative,
    /// not whole): it is on the sheet, so the 合计 check still sums it.
    pub number: Option<f64>,
}

fn bad(rule: Rule, why: BadCell) -> Bad {
    Bad {
        rule,
        why,
        number: None,
    }
}

/// FORMS.md §2: formulas count by their saved value; one saved without a
/// value cannot be read, and is not silently "not reported".
fn uncached(formula: &str) -> Bad {
    bad(Rule::NotANumber, BadCell::Uncached(formula.to_string()))
}

/// Markers FORMS.md §2 reads as "not reported".
fn is_not_reported_marker(t: &str) -> bool {
    matches!(t, "" | "-" | "--" | "—" | "——" | "/" | "–" | "－")
}

/// Reads a text as a number: thousands separators, full-width digits and
/// surrounding spaces allowed; `pct` says whether a trailing `%` is allowed.
/// `Ok(None)` for the "not reported" markers.
/// Unit words a count may be typed with, longest first.
const COUNT_UNITS: [&str; 5] = ["人次", "人", "例", "户", "名"];

fn parse_text_number(raw: &str, pct: bool) -> Result<Option<f64>, Bad> {
    let t = normalize::compact(raw);
    if is_not_reported_marker(&t) {
        return Ok(None);
    }
    // With `pct`, "95.2%" is 95.2: the caller reads the number as percent.
    // A count may carry its unit as typed (1000人, 35人次); what is left must
    // still be a number.
    let body = match t.strip_suffix('%') {
        Some(b) if pct => b,
        _ if !pct => COUNT_UNITS
            .iter()
            .find_map(|u| t.strip_suffix(u))
            .unwrap_or(t.as_str()),
        _ => t.as_str(),
    };
    let cleaned: String = body.chars().filter(|&c| c != ',').collect();
    let ok_chars = !cleaned.is_empty()
        && cleaned
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
        && cleaned.chars().any(|c| c.is_ascii_digit());
    let parsed = ok_chars.then(|| cleaned.parse::<f64>().ok()).flatten();
    match parsed {
        Some(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(bad(
            Rule::NotANumber,
            BadCell::NotNumber(crate::findings::clip(raw.trim().to_string())),
        )),
    }
}

/// A count cell (flow or stock): a whole number ≥ 0, or not reported.
///
/// # Errors
/// `not_a_number` for text, dates, booleans, error cells and implausible
/// magnitudes; `negative`; `not_whole`.
pub fn parse_count(cell: &Cell<'_>) -> Result<Option<f64>, Bad> {
    let v = match cell {
        Cell::Empty => return Ok(None),
        Cell::Number(n) => *n,
        Cell::Text(t) => match parse_text_number(t, false)? {
            // Quoted as typed: past 2^53 the number has lost digits the
            // clerk typed (12345678901234567890 would read 12345678901234567000).
            Some(v) if v.abs() > MAX_COUNT => {
                return Err(bad(
                    Rule::NotANumber,
                    BadCell::ImplausibleText(crate::findings::clip(t.trim().to_string())),
                ))
            }
            Some(v) => v,
            None => return Ok(None),
        },
        Cell::Bool(_) => return Err(bad(Rule::NotANumber, BadCell::Bool(cell.shown()))),
        Cell::Date(d) => return Err(bad(Rule::NotANumber, BadCell::Date(d.clone()))),
        Cell::Error(e) => return Err(bad(Rule::NotANumber, BadCell::ErrorValue(e.clone()))),
        Cell::Uncached(f) => return Err(uncached(f)),
    };
    if !v.is_finite() || v.abs() > MAX_COUNT {
        return Err(bad(Rule::NotANumber, BadCell::Implausible(v)));
    }
    if v < 0.0 {
        return Err(Bad {
            number: Some(v),
            ..bad(Rule::Negative, BadCell::Negative(v))
        });
    }
    if v.fract() != 0.0 {
        return Err(Bad {
            number: Some(v),
            ..bad(Rule::NotWhole, BadCell::Fraction(v))
        });
    }
    Ok(Some(v))
}

/// A reported rate: `95.2`, `"95.2%"`, or `0.952` (a percentage-formatted
/// cell arrives as the fraction; the caller decides which reading matches).
/// Returns the number as written, with a `%` text already in percent.
///
/// # Errors
/// `not_a_number` for anything that is not a number.
pub fn parse_rate(cell: &Cell<'_>) -> Result<Option<RateValue>, Bad> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Number(n) if n.is_finite() => Ok(Some(RateValue {
            value: *n,
            percent_sign: false,
        })),
        Cell::Text(t) => {
            let had_pct = normalize::compact(t).ends_with('%');
            Ok(parse_text_number(t, true)?.map(|value| RateValue {
                value,
                percent_sign: had_pct,
            }))
        }
        Cell::Uncached(f) => Err(uncached(f)),
        _ => Err(bad(Rule::NotANumber, BadCell::NotRate(cell.shown()))),
    }
}

/// A rate as found on the sheet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateValue {
    /// The number as written (percent if `percent_sign`).
    pub value: f64,
    /// Written with a `%`, so certainly in percent.
    pub percent_sign: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(c: Cell<'_>) -> Result<Option<f64>, Rule> {
        parse_count(&c).map_err(|b| b.rule)
    }

    #[test]
    fn counts_in_every_notation() {
        for t in ["1234", "1,234", "１２３４", " 1234 ", "１，２３４", "+1234"] {
            assert_eq!(count(Cell::Text(t)), Ok(Some(1234.0)), "{t}");
        }
        assert_eq!(count(Cell::Number(56.0)), Ok(Some(56.0)));
        assert_eq!(count(Cell::Number(0.0)), Ok(Some(0.0)), "zero is a figure");
        // With the unit typed after it.
        for t in ["1234人", "1,234 人", "1234人次", "１２３４例"] {
            assert_eq!(count(Cell::Text(t)), Ok(Some(1234.0)), "{t}");
        }
        for t in ["人", "约1234人", "1234人左右", "无"] {
            assert_eq!(count(Cell::Text(t)), Err(Rule::NotANumber), "{t}");
        }
    }

    #[test]
    fn not_reported_is_not_zero() {
        for t in ["", "  ", "-", "—", "/", "－", "——"] {
            assert_eq!(count(Cell::Text(t)), Ok(None), "{t:?}");
        }
        assert_eq!(count(Cell::Empty), Ok(None));
    }

    #[test]
    fn an_implausible_count_is_quoted_as_the_clerk_typed_it() {
        // Past 2^53 an f64 has lost the digits the clerk typed.
        let typed = "12345678901234567890";
        match parse_count(&Cell::Text(typed)) {
            Err(b) => assert_eq!(b.why, BadCell::ImplausibleText(typed.to_string())),
            Ok(v) => panic!("{v:?}"),
        }
        // A number cell is shown as the spreadsheet holds it.
        assert_eq!(Cell::Number(1e308).shown(), "1e308");
        assert_eq!(Cell::Number(5e-324).shown(), "5e-324");
        assert_eq!(Cell::Number(12.5).shown(), "12.5");
        match parse_count(&Cell::Number(5e-324)) {
            Err(b) => assert_eq!(b.why, BadCell::Fraction(5e-324)),
            Ok(v) => panic!("{v:?}"),
        }
    }

    #[test]
    fn bad_counts_are_findings() {
        assert_eq!(count(Cell::Text("约30")), Err(Rule::NotANumber));
        assert_eq!(count(Cell::Text("12%")), Err(Rule::NotANumber));
        assert_eq!(count(Cell::Text("NaN")), Err(Rule::NotANumber));
        assert_eq!(count(Cell::Text("inf")), Err(Rule::NotANumber));
        assert_eq!(count(Cell::Number(1e308)), Err(Rule::NotANumber));
        assert_eq!(count(Cell::Error("#DIV/0!".into())), Err(Rule::NotANumber));
        assert_eq!(
            count(Cell::Date("2026-01-05".into())),
            Err(Rule::NotANumber)
        );
        assert_eq!(count(Cell::Bool(true)), Err(Rule::NotANumber));
        assert_eq!(count(Cell::Number(-3.0)), Err(Rule::Negative));
        assert_eq!(count(Cell::Text("-3")), Err(Rule::Negative));
        assert_eq!(count(Cell::Number(12.5)), Err(Rule::NotWhole));
    }

    #[test]
    fn rates_in_three_notations() {
        let r = |c: Cell<'_>| parse_rate(&c).unwrap().unwrap();
        assert_eq!(r(Cell::Number(95.2)).value, 95.2);
        assert_eq!(
            r(Cell::Text("95.2%")),
            RateValue {
                value: 95.2,
                percent_sign: true
            }
        );
        assert_eq!(r(Cell::Text("９５.２％")).value, 95.2);
        assert_eq!(r(Cell::Number(0.952)).value, 0.952);
        assert_eq!(parse_rate(&Cell::Text("-")).unwrap(), None);
        assert!(parse_rate(&Cell::Text("高")).is_err());
    }

    #[test]
    fn calamine_variants_convert() {
        assert_eq!(classify(&Data::Int(3)), Cell::Number(3.0));
        assert_eq!(classify(&Data::Float(2.5)), Cell::Number(2.5));
        assert_eq!(classify(&Data::Empty), Cell::Empty);
        assert_eq!(classify(&Data::Bool(false)), Cell::Bool(false));
        assert!(matches!(
            classify(&Data::Error(calamine::CellErrorType::Div0)),
            Cell::Error(_)
        ));
        assert!(matches!(
            classify(&Data::DateTimeIso("2026-01-01".into())),
            Cell::Date(_)
        ));
        let s = Data::String("x".into());
        assert_eq!(classify(&s).text(), Some("x"));
        assert_eq!(
            Cell::Number(439902101003.0).as_name().as_deref(),
            Some("439902101003")
        );
    }
}
