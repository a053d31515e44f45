//! Reporting periods: a month (`2026-01`), a quarter (`2026Q1`) or a year
//! (`2026`), parsed from every notation township staff write (FORMS.md §2)
//! and displayed in the one canonical form used in exports.

use std::fmt;
use std::sync::OnceLock;

use regex::Regex;

/// A month as a single ordinal (`year * 12 + month - 1`), so months sort and
/// subtract as integers in the observation table.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Month(pub i32);

impl Month {
    /// Builds a month; `None` when `month` is not 1–12.
    #[must_use]
    pub fn new(year: i32, month: u32) -> Option<Month> {
        (1..=12)
            .contains(&month)
            .then(|| Month(year * 12 + month as i32 - 1))
    }

    /// Calendar year.
    #[must_use]
    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// Month of the year, 1–12.
    #[must_use]
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    /// Quarter of the year, 1–4.
    #[must_use]
    pub fn quarter(self) -> u32 {
        (self.month() - 1) / 3 + 1
    }

    /// The month before this one.
    #[must_use]
    pub fn prev(self) -> Month {
        Month(self.0 - 1)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.year(), self.month())
    }
}

/// A calendar day, as a return's 报出日期 gives it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Day {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
}

impl Day {
    /// Builds a day; `None` when it is not a date of the calendar.
    #[must_use]
    pub fn new(year: i32, month: u32, day: u32) -> Option<Day> {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let len = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1..=len).contains(&day) && (1900..=2200).contains(&year)).then_some(Day {
            year,
            month,
            day,
        })
    }

    /// A spreadsheet date serial (days since 1899-12-30).
    #[must_use]
    pub fn from_serial(serial: f64) -> Option<Day> {
        if !(1.0..2_958_466.0).contains(&serial) {
            return None;
        }
        // Civil-from-days (H. Hinnant), from 1970-01-01 = serial 25569.
        let z = serial.floor() as i64 - 25_569 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i64::from(m <= 2);
        Day::new(i32::try_from(y).ok()?, m, d)
    }

    /// The first date written in a text: `2026年2月5日`, `2026-02-05`,
    /// `2026.2.5`, `2026/2/5` (full-width digits allowed).
    #[must_use]
    pub fn find_in(text: &str) -> Option<Day> {
        static RE: OnceLock<Regex> = OnceLock::new();
        let re = RE.get_or_init(|| {
            Regex::new(r"(\d{4})\s*(?:年|-|\.|/)\s*(\d{1,2})\s*(?:月|-|\.|/)\s*(\d{1,2})")
                .expect("a valid date pattern")
        });
        let t = written(text);
        let caps = re.captures(&t)?;
        Day::new(
            caps[1].parse().ok()?,
            caps[2].parse().ok()?,
            caps[3].parse().ok()?,
        )
    }

    /// A day written without its year, `4月3日` (full-width digits
    /// allowed): the first such day on or after the first of `month`, as
    /// a return's 报出日期 comes after the month it reports.
    #[must_use]
    pub fn find_after(text: &str, month: Month) -> Option<Day> {
        static RE: OnceLock<Regex> = OnceLock::new();
        let re = RE.get_or_init(|| {
            Regex::new(r"(\d{1,2})\s*月\s*(\d{1,2})\s*日").expect("a valid day pattern")
        });
        let t = written(text);
        let caps = re.captures(&t)?;
        let (m, d): (u32, u32) = (caps[1].parse().ok()?, caps[2].parse().ok()?);
        let this_year = Day::new(month.year(), m, d)?;
        if this_year.month_of() >= month {
            Some(this_year)
        } else {
            Day::new(month.year() + 1, m, d)
        }
    }

    /// The deadline for a month's returns: day `day` of the next month
    /// (clamped to its last day).
    #[must_use]
    pub fn deadline(month: Month, day: u32) -> Day {
        let next = Month(month.0 + 1);
        let mut d = day.clamp(1, 31);
        loop {
            if let Some(x) = Day::new(next.year(), next.month(), d) {
                return x;
            }
            d -= 1;
        }
    }

    /// The month the day falls in.
    #[must_use]
    pub fn month_of(self) -> Month {
        Month(self.year * 12 + self.month as i32 - 1)
    }

    /// `2026年2月5日`.
    #[must_use]
    pub fn label_zh(self) -> String {
        format!("{}年{}月{}日", self.year, self.month, self.day)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A reporting or consolidation period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    /// One calendar month.
    Month(Month),
    /// A calendar quarter: year and 1–4.
    Quarter(i32, u32),
    /// A half year: year and 1–2 (上半年 / 下半年).
    Half(i32, u32),
    /// A calendar year.
    Year(i32),
    /// A run of months within one year, first to last (year to date, 累计:
    /// `2026-01..2026-06`).
    Range(Month, Month),
}

impl Period {
    /// Parses a period as a user writes it on the command line: every month
    /// notation of FORMS.md §2, `2026Q1` (or `2026-Q1`, `2026年第1季度`) and `2026`.
    ///
    /// ```
    /// use phstats::period::Period;
    /// assert_eq!(Period::parse("2026年1月").unwrap().to_string(), "2026-01");
    /// assert_eq!(Period::parse("2026Q1").unwrap().to_string(), "2026Q1");
    /// ```
    #[must_use]
    pub fn parse(text: &str) -> Option<Period> {
        // The month as phstats itself writes it (the store's submissions and
        // findings, the exports): read without the notations' patterns,
        // which a report from a store ran some 20,000 times.
        if let [y0, y1, y2, y3, b'-', m0, m1] = *text.as_bytes() {
            let digits = [y0, y1, y2, y3, m0, m1];
            if digits.iter().all(u8::is_ascii_digit) {
                let n = |d: &[u8]| d.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
                return Month::new(n(&digits[..4]) as i32, n(&digits[4..])).map(Period::Month);
            }
        }
        Period::parse_written(text)
    }

    /// [`Period::parse`] of every notation, the patterns tried in turn.
    fn parse_written(text: &str) -> Option<Period> {
        let t: String = written(text.trim())
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if let Some(caps) = quarter_re().captures(&t) {
            let year = caps[1].parse().ok()?;
            let q: u32 = caps[2].parse().ok()?;
            return (1..=4).contains(&q).then_some(Period::Quarter(year, q));
        }
        if let Some(m) = parse_month_exact(&t) {
            return Some(Period::Month(m));
        }
        if let Some(caps) = half_re().captures(&t) {
            let year = caps[1].parse().ok()?;
            let h = match caps.get(2).or_else(|| caps.get(3)).map(|m| m.as_str()) {
                Some("1" | "上") => 1,
                _ => 2,
            };
            return Some(Period::Half(year, h));
        }
        for sep in ["..", "~", "～", "至", "—", "–"] {
            if let Some((a, b)) = t.split_once(sep) {
                let (Some(from), Some(to)) = (parse_month_exact(a), parse_month_exact(b)) else {
                    return None;
                };
                if from > to || from.year() != to.year() {
                    return None;
                }
                return Some(if from == to {
                    Period::Month(from)
                } else {
                    Period::Range(from, to)
                });
            }
        }
        let year = t.strip_suffix('年').unwrap_or(&t);
        if year.len() == 4 && year.chars().all(|c| c.is_ascii_digit()) {
            return year.parse().ok().map(Period::Year);
        }
        None
    }

    /// The months this period covers, in order.
    #[must_use]
    pub fn months(self) -> Vec<Month> {
        match self {
            Period::Month(m) => vec![m],
            Period::Quarter(y, q) => (0..3)
                .filter_map(|i| Month::new(y, (q - 1) * 3 + 1 + i))
                .collect(),
            Period::Half(y, h) => (1..=6)
                .filter_map(|i| Month::new(y, (h - 1) * 6 + i))
                .collect(),
            Period::Year(y) => (1..=12).filter_map(|m| Month::new(y, m)).collect(),
            Period::Range(a, b) => (a.0..=b.0).map(Month).collect(),
        }
    }

    /// The first and last month of the period.
    #[must_use]
    pub fn bounds(self) -> (Month, Month) {
        let ms = self.months();
        // ok: every period covers at least one month.
        (ms[0], ms[ms.len() - 1])
    }

    /// The period of the same length just before (上期): 2026-01 → 2025-12,
    /// 2026Q1 → 2025Q4, 2026H1 → 2025H2, 2026 → 2025.
    #[must_use]
    pub fn previous(self) -> Period {
        match self {
            Period::Month(m) => Period::Month(m.prev()),
            Period::Quarter(y, 1) => Period::Quarter(y - 1, 4),
            Period::Quarter(y, q) => Period::Quarter(y, q - 1),
            Period::Half(y, 1) => Period::Half(y - 1, 2),
            Period::Half(y, _) => Period::Half(y, 1),
            Period::Year(y) => Period::Year(y - 1),
            Period::Range(a, b) => {
                let len = b.0 - a.0 + 1;
                Period::Range(Month(a.0 - len), Month(a.0 - 1))
            }
        }
    }

    /// The same period one year before (同期).
    #[must_use]
    pub fn year_before(self) -> Period {
        match self {
            Period::Month(m) => Period::Month(Month(m.0 - 12)),
            Period::Quarter(y, q) => Period::Quarter(y - 1, q),
            Period::Half(y, h) => Period::Half(y - 1, h),
            Period::Year(y) => Period::Year(y - 1),
            Period::Range(a, b) => Period::Range(Month(a.0 - 12), Month(b.0 - 12)),
        }
    }

    /// January to the end of this period, in its year (累计); a period that
    /// already starts in January is its own.
    #[must_use]
    pub fn year_to_date(self) -> Period {
        let (first, last) = self.bounds();
        if first.month() == 1 {
            return self;
        }
        let jan = Month(last.year() * 12);
        Period::Range(jan, last)
    }

    /// This period as far as month `m`: itself where `m` is its last month
    /// or later, else its months up to `m` (`2026` up to March is
    /// `2026-01..2026-03`, 2026年1—3月; a quarter up to its first month is
    /// that month).
    #[must_use]
    pub fn until(self, m: Month) -> Period {
        let (first, last) = self.bounds();
        if m >= last {
            self
        } else if m <= first {
            Period::Month(first)
        } else {
            Period::Range(first, m)
        }
    }

    /// Whether every month of `other` falls inside this period.
    #[must_use]
    pub fn covers(self, other: Period) -> bool {
        let (a, b) = other.bounds();
        self.contains(a) && self.contains(b)
    }

    /// Whether `m` falls inside this period.
    #[must_use]
    pub fn contains(self, m: Month) -> bool {
        match self {
            Period::Month(p) => p == m,
            Period::Quarter(y, q) => m.year() == y && m.quarter() == q,
            Period::Half(y, h) => m.year() == y && (m.month() - 1) / 6 + 1 == h,
            Period::Year(y) => m.year() == y,
            Period::Range(a, b) => a <= m && m <= b,
        }
    }

    /// The period as a statistician titles a report and a 公文 names it:
    /// `2026年1月`, `2026年第一季度` (a quarter in Chinese numerals, FORMS.md
    /// §8), `2026年上半年`, `2026年`, `2026年1—6月`. The one label of a
    /// period in Chinese: the workbook's titles, the terminal and the 通报
    /// all read it.
    #[must_use]
    pub fn label_zh(self) -> String {
        match self {
            Period::Month(m) => format!("{}年{}月", m.year(), m.month()),
            Period::Quarter(y, q) => match q {
                1..=4 => format!("{y}年第{}季度", ["一", "二", "三", "四"][q as usize - 1]),
                // Never made (a quarter is parsed as 1–4): its digits.
                _ => format!("{y}年第{q}季度"),
            },
            Period::Half(y, 1) => format!("{y}年上半年"),
            Period::Half(y, _) => format!("{y}年下半年"),
            Period::Year(y) => format!("{y}年"),
            Period::Range(a, b) => format!("{}年{}—{}月", a.year(), a.month(), b.month()),
        }
    }

    /// Sort key placing a month before its quarter before its year.
    #[must_use]
    pub fn sort_key(self) -> (i32, u32, u32) {
        match self {
            Period::Month(m) => (m.year(), m.quarter(), m.month()),
            Period::Quarter(y, q) => (y, q, 13),
            Period::Half(y, h) => (y, 2 * h, 14),
            Period::Year(y) => (y, 5, 0),
            Period::Range(_, b) => (b.year(), b.quarter(), 15 + b.month()),
        }
    }
}

impl From<Month> for Period {
    fn from(m: Month) -> Period {
        Period::Month(m)
    }
}

/// As it is written (`2026-01`, `2026Q1`, `2026-01..2026-06`): the form a
/// finding keeps in a store and `findings.csv` shows.
impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Period, D::Error> {
        let text = String::deserialize(d)?;
        Period::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a period: {text:?}")))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month(m) => m.fmt(f),
            Period::Quarter(y, q) => write!(f, "{y}Q{q}"),
            Period::Half(y, h) => write!(f, "{y}H{h}"),
            Period::Year(y) => write!(f, "{y}"),
            Period::Range(a, b) => write!(f, "{a}..{b}"),
        }
    }
}

/// A date or period as written, ready for the notations' patterns:
/// half-width, and a number written in Chinese numerals before 年, 月, 日,
/// 号 or 季 in digits — 二〇二六年一月 and 2026年十二月 as clerks and 公文
/// write them are 2026年1月 and 2026年12月, 第一季度 is 第1季度. A year
/// takes four digit characters (〇 or ○ for 0); a month 1–12, a day 1–31,
/// a quarter 1–4. Any other run of numerals is left as it is.
///
/// Two more ways clerks write a month: 元月 is 1月, and a year of two
/// digits before 年 is of this century (26年1月 is 2026年1月).
#[must_use]
pub fn written(text: &str) -> String {
    let mut t = crate::normalize::half_width(text);
    if t.contains('年') {
        t = whole_years(&t);
    }
    if t.contains("元月") {
        t = t.replace("元月", "1月");
    }
    if !t.chars().any(is_chinese_numeral) {
        return t;
    }
    let chars: Vec<char> = t.chars().collect();
    let mut out = String::with_capacity(t.len());
    let mut i = 0;
    while i < chars.len() {
        if !is_chinese_numeral(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let end = i + chars[i..]
            .iter()
            .take_while(|&&c| is_chinese_numeral(c))
            .count();
        let run = &chars[i..end];
        // The largest number each word may follow.
        let most = match chars.get(end) {
            Some('月') => 12,
            Some('日' | '号') => 31,
            Some('季') => 4,
            _ => 0,
        };
        let digits = match chars.get(end) {
            Some('年') if run.len() == 4 => run
                .iter()
                .map(|&c| chinese_digit(c).and_then(|d| char::from_digit(d, 10)))
                .collect::<Option<String>>(),
            _ => small_number(run)
                .filter(|n| (1..=most).contains(n))
                .map(|n| n.to_string()),
        };
        match digits {
            Some(d) => out.push_str(&d),
            None => out.extend(run),
        }
        i = end;
    }
    out
}

/// `t` with each year of two digits before 年 (26年, not 2026年 or 126年)
/// written whole: 2026年.
fn whole_years(t: &str) -> String {
    let chars: Vec<char> = t.chars().collect();
    let mut out = String::with_capacity(t.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        let two_digits = c.is_ascii_digit()
            && chars.get(i + 1).is_some_and(char::is_ascii_digit)
            && chars.get(i + 2) == Some(&'年')
            && (i == 0 || !chars[i - 1].is_ascii_digit());
        if two_digits {
            out.push_str("20");
        }
        out.push(c);
    }
    out
}

fn is_chinese_numeral(c: char) -> bool {
    chinese_digit(c).is_some() || c == '十'
}

fn chinese_digit(c: char) -> Option<u32> {
    Some(match c {
        '〇' | '○' | '零' => 0,
        '一' => 1,
        '二' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// 一 to 九十九 as written: 十, 十二, 二十, 二十一.
fn small_number(run: &[char]) -> Option<u32> {
    let digit = |c: &char| chinese_digit(*c).filter(|&d| d > 0);
    match run {
        ['十'] => Some(10),
        [d] => digit(d),
        ['十', u] => Some(10 + digit(u)?),
        [t, '十'] => Some(10 * digit(t)?),
        [t, '十', u] => Some(10 * digit(t)? + digit(u)?),
        _ => None,
    }
}

fn quarter_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // ok: the pattern is a constant known to compile.
    RE.get_or_init(|| {
        Regex::new(r"^(\d{4})(?:-?[Qq]|年第)([1-4])(?:季度|季)?$").expect("valid regex")
    })
}

fn half_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // ok: the pattern is a constant known to compile.
    RE.get_or_init(|| {
        Regex::new(r"^(\d{4})(?:-?[Hh]([12])|年?([上下])半年)$").expect("valid regex")
    })
}

fn month_exact_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // ok: the pattern is a constant known to compile.
    RE.get_or_init(|| {
        Regex::new(r"^(\d{4})(?:年(\d{1,2})月?|[-./_](\d{1,2})月?|(\d{2}))$").expect("valid regex")
    })
}

fn month_anywhere_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // A month somewhere inside a longer text (a 报告期 cell with extra words,
    // a file name): `2026年1月`, `2026-01`, `2026.1`, `2026_01`, or `202601`
    // standing alone (not part of a 12-digit unit code).
    // ok: the pattern is a constant known to compile.
    RE.get_or_init(|| {
        Regex::new(
            r"(?:^|\D)(20\d{2})\s*(?:年\s*(\d{1,2})\s*月|[-./_]\s*(\d{1,2})(?:\D|$)|(0[1-9]|1[0-2])(?:\D|$))",
        )
        .expect("valid regex")
    })
}

fn month_from_caps(caps: &regex::Captures<'_>) -> Option<Month> {
    let year: i32 = caps.get(1)?.as_str().parse().ok()?;
    let month: u32 = caps
        .get(2)
        .or_else(|| caps.get(3))
        .or_else(|| caps.get(4))?
        .as_str()
        .parse()
        .ok()?;
    Month::new(year, month)
}

fn parse_month_exact(t: &str) -> Option<Month> {
    month_exact_re()
        .captures(t)
        .and_then(|c| month_from_caps(&c))
}

/// The month a range of days covers whole, as a 报告期 is sometimes
/// written: 2026年1月1日-1月31日, 2026.1.1-2026.1.31, 2026年2月1日至28日 —
/// from the first of a month to its last day. Any other text, or a range
/// that is not one whole month, is none.
#[must_use]
pub fn month_of_day_range(text: &str) -> Option<Month> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"^[(（]?(\d{4})[年.\-/](\d{1,2})[月.\-/](\d{1,2})日?(?:-|~|～|至|—|–|到)(?:(\d{4})[年.\-/])?(?:(\d{1,2})[月.\-/])?(\d{1,2})日?[)）]?$",
        )
        .expect("a valid range pattern")
    });
    let t: String = written(text)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let caps = re.captures(&t)?;
    let n = |i: usize| caps.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let (year, month) = (n(1)? as i32, n(2)?);
    let end_year = n(4).map_or(year, |y| y as i32);
    let (end_month, end_day) = (n(5).unwrap_or(month), n(6)?);
    let whole = n(3)? == 1
        && (end_year, end_month) == (year, month)
        && Day::new(year, month, end_day).is_some()
        && Day::new(year, month, end_day + 1).is_none();
    whole.then(|| Month::new(year, month)).flatten()
}

/// Every distinct month written inside a free text (a 报告期 cell, a file name).
/// Two different months in one text are returned so the caller can report a conflict.
#[must_use]
pub fn months_in_text(text: &str) -> Vec<Month> {
    months_found(text, false)
}

/// A 报告期 that gives a month without its year (1月, 01月份, 十二月): the
/// month, 1–12. None where a year is written, or anything besides.
#[must_use]
pub fn bare_month(text: &str) -> Option<u32> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re =
        RE.get_or_init(|| Regex::new(r"^[(（]?(\d{1,2})月份?[)）]?$").expect("a valid pattern"));
    let t = written(&crate::normalize::compact(text));
    let m: u32 = re.captures(&t)?.get(1)?.as_str().parse().ok()?;
    (1..=12).contains(&m).then_some(m)
}

/// The years 2000–2099 a file or folder name (or a title) writes, each
/// once, in order: 免疫报表2026.xlsx, 2026年/, 2026年免疫规划…月报表. A
/// full date's year counts too: it is only a hint for a month that has
/// none.
#[must_use]
pub fn years_in(text: &str) -> Vec<i32> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"(?:^|\D)(20\d{2})(?:\D|$)").expect("a valid pattern"));
    let t = written(text);
    let mut years: Vec<i32> = Vec::new();
    // Matches that share a separator are found one at a time.
    let mut at = 0;
    while let Some(c) = re.captures_at(&t, at) {
        let Some(y) = c.get(1) else { break };
        if let Ok(v) = y.as_str().parse() {
            if !years.contains(&v) {
                years.push(v);
            }
        }
        at = y.end();
    }
    years
}

/// The months a file or folder name is about: as [`months_in_text`], but a
/// full date (南城镇_2026-04-05, 报表2026.4.5, 2026年4月5日报) is the day the
/// file was made or sent, not the month it reports, and is passed over.
#[must_use]
pub fn months_in_file_name(text: &str) -> Vec<Month> {
    months_found(text, true)
}

/// Whether the month `caps` found in `t` opens or closes a range of months
/// (2026年1月至3月, 2026.1-2026.3, 202601-202603): no one month's.
fn in_range(t: &str, caps: &regex::Captures<'_>) -> bool {
    let mark = |c: char| matches!(c, '至' | '到' | '~' | '～' | '—' | '–' | '-');
    let digits = |r: &str| r.chars().take_while(char::is_ascii_digit).count();
    let Some(month) = caps.get(2).or_else(|| caps.get(3)).or_else(|| caps.get(4)) else {
        return false;
    };
    let rest = &t[month.end()..];
    let rest = rest.strip_prefix('月').unwrap_or(rest).trim_start();
    let opens = rest
        .strip_prefix(mark)
        .map(str::trim_start)
        .is_some_and(|r| {
            let n = digits(r);
            (n >= 4 && r.starts_with("20")) || ((1..=2).contains(&n) && r[n..].starts_with('月'))
        });
    let year_start = caps.get(1).map_or(0, |y| y.start());
    let closes = t[..year_start]
        .trim_end()
        .strip_suffix(mark)
        .map(str::trim_end)
        .is_some_and(|b| b.ends_with(|c: char| c.is_ascii_digit() || c == '月'));
    opens || closes
}

/// The distinct months of `text`, in order; with `skip_dates`, none that a
/// day follows.
fn months_found(text: &str, skip_dates: bool) -> Vec<Month> {
    let t = written(text);
    let day_follows = |rest: &str, separated: bool| {
        let rest = rest.trim_start();
        let digits = |r: &str| r.chars().take_while(char::is_ascii_digit).count();
        if separated {
            rest.strip_prefix(['-', '.', '/', '_'])
                .is_some_and(|r| (1..=2).contains(&digits(r)))
        } else {
            let n = digits(rest);
            (1..=2).contains(&n) && rest[n..].trim_start().starts_with(['日', '号'])
        }
    };
    let mut found: Vec<Month> = Vec::new();
    for caps in month_anywhere_re().captures_iter(&t) {
        let full_date = skip_dates
            && match (caps.get(2), caps.get(3)) {
                (Some(_), _) => day_follows(&t[caps.get(0).map_or(0, |m| m.end())..], false),
                (None, Some(month)) => day_follows(&t[month.end()..], true),
                _ => false,
            };
        if full_date || in_range(&t, &caps) {
            continue;
        }
        if let Some(m) = month_from_caps(&caps) {
            if !found.contains(&m) {
                found.push(m);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The label a workbook's title, the terminal and the 通报 share: a
    /// quarter in Chinese numerals (FORMS.md §8: 第二季度, not 第2季度).
    #[test]
    fn a_period_is_labelled_as_a_statistician_titles_it() {
        for (q, label) in [
            (1, "2026年第一季度"),
            (2, "2026年第二季度"),
            (3, "2026年第三季度"),
            (4, "2026年第四季度"),
        ] {
            assert_eq!(Period::Quarter(2026, q).label_zh(), label);
            // And it is read back as the same quarter.
            assert_eq!(Period::parse(label), Some(Period::Quarter(2026, q)));
        }
        assert_eq!(Period::Half(2026, 1).label_zh(), "2026年上半年");
        assert_eq!(Period::Half(2026, 2).label_zh(), "2026年下半年");
        assert_eq!(Period::Year(2026).label_zh(), "2026年");
        let m = |k| Month::new(2026, k).unwrap();
        assert_eq!(Period::Month(m(3)).label_zh(), "2026年3月");
        assert_eq!(Period::Range(m(1), m(6)).label_zh(), "2026年1—6月");
    }

    #[test]
    fn a_period_until_a_month_is_its_months_up_to_it() {
        let m = |y, k| Month::new(y, k).unwrap();
        assert_eq!(
            Period::Year(2026).until(m(2026, 3)),
            Period::Range(m(2026, 1), m(2026, 3))
        );
        assert_eq!(
            Period::Year(2026).until(m(2026, 3)).label_zh(),
            "2026年1—3月"
        );
        assert_eq!(Period::Year(2026).until(m(2026, 12)), Period::Year(2026));
        assert_eq!(
            Period::Quarter(2026, 2).until(m(2026, 4)),
            Period::Month(m(2026, 4))
        );
        assert_eq!(
            Period::Half(2026, 2).until(m(2026, 9)),
            Period::Range(m(2026, 7), m(2026, 9))
        );
        assert_eq!(
            Period::Month(m(2026, 5)).until(m(2026, 5)),
            Period::Month(m(2026, 5))
        );
    }

    /// The shortcut for `2026-01` gives what the patterns give, for every
    /// month number a text of that shape can hold, in any year.
    #[test]
    fn the_written_month_reads_as_every_notation_does() {
        for year in ["0000", "1999", "2026", "2100", "9999"] {
            for month in 0..100 {
                let text = format!("{year}-{month:02}");
                assert_eq!(Period::parse(&text), Period::parse_written(&text), "{text}");
            }
        }
        assert_eq!(
            Period::parse("2026-04"),
            Some(Period::Month(Month::new(2026, 4).unwrap()))
        );
        assert_eq!(Period::parse("2026-13"), None);
    }

    #[test]
    fn a_date_in_a_file_name_is_not_its_month() {
        let mar = Month::new(2026, 3).unwrap();
        for name in [
            "南城镇_2026-04-05.xlsx",
            "南城镇报表2026.4.5.xlsx",
            "南城镇2026年4月5日报.xlsx",
            "南城镇_2026_04_05.xls",
            "南城镇20260405.xlsx",
        ] {
            assert_eq!(months_in_file_name(name), vec![], "{name}");
        }
        for name in [
            "南城镇_2026-03.xlsx",
            "南城镇2026年3月报表_0405.xlsx",
            "南城镇202603（4月5日报）.xlsx",
            "南城镇-2026.3.xlsx",
        ] {
            assert_eq!(months_in_file_name(name), vec![mar], "{name}");
        }
    }

    #[test]
    fn every_month_notation_of_forms_md() {
        let jan = Month::new(2026, 1).unwrap();
        for t in [
            "2026年1月",
            "2026年01月",
            "2026-01",
            "2026.1",
            "202601",
            " 2026-1 ",
            "２０２６年１月",
            // Two more ways clerks write it.
            "26年1月",
            "2026年元月",
        ] {
            assert_eq!(Period::parse(t), Some(Period::Month(jan)), "{t}");
            assert_eq!(months_in_text(t), vec![jan], "{t}");
        }
    }

    /// Dates as 公文 and some clerks write them, in Chinese numerals.
    #[test]
    fn a_date_in_chinese_numerals_is_read_as_its_digits() {
        let m = |y, mo| Month::new(y, mo).unwrap();
        for (t, month) in [
            ("二〇二六年一月", m(2026, 1)),
            ("二○二六年十二月", m(2026, 12)),
            ("2026年十一月", m(2026, 11)),
            ("2026年一月份", m(2026, 1)),
        ] {
            assert_eq!(months_in_text(t), vec![month], "{t}");
        }
        assert_eq!(Period::parse("2026年一月"), Some(Period::Month(m(2026, 1))));
        assert_eq!(
            Period::parse("2026年第一季度"),
            Some(Period::Quarter(2026, 1))
        );
        assert_eq!(
            Day::find_in("报出日期：二〇二六年二月二十五日"),
            Day::new(2026, 2, 25)
        );
        assert_eq!(
            Day::find_after("报出日期：三月三十一日", m(2026, 3)),
            Day::new(2026, 3, 31)
        );
        // Numerals that are not a date stay as they are.
        assert_eq!(written("第一剂"), "第一剂");
        assert_eq!(written("十三月"), "十三月");
        assert_eq!(written("二六年一月"), "二六年1月");
        assert_eq!(written("126年3月"), "126年3月");
        assert_eq!(Day::find_in("报出日期：26年2月5日"), Day::new(2026, 2, 5));
        assert!(months_in_text("一二三四年").is_empty());
    }

    #[test]
    fn a_month_alone_and_the_years_a_name_writes() {
        for (text, month) in [
            ("1月", Some(1)),
            ("01月份", Some(1)),
            ("十二月", Some(12)),
            ("（3月）", Some(3)),
            ("13月", None),
            ("2026年1月", None),
            ("第1季度", None),
            ("1月5日", None),
        ] {
            assert_eq!(bare_month(text), month, "{text}");
        }
        for range in [
            "2026年1月至3月",
            "2026年1月-3月",
            "2026.1-2026.3",
            "202601-202603",
            "2026年1月到2026年3月",
        ] {
            assert!(months_in_file_name(range).is_empty(), "{range}");
            assert!(months_in_text(range).is_empty(), "{range}");
        }
        for one in [
            "2026-01-05",
            "城东街道-2026年1月",
            "城东街道202601-2.xlsx",
            "2026年1月",
        ] {
            assert_eq!(
                months_in_text(one),
                vec![Month::new(2026, 1).unwrap()],
                "{one}"
            );
        }
        assert_eq!(years_in("免疫报表2026.xlsx"), vec![2026]);
        assert_eq!(years_in("2026年"), vec![2026]);
        assert_eq!(years_in("2025-2026年"), vec![2025, 2026]);
        assert_eq!(
            years_in("二〇二六年免疫规划疫苗常规接种情况月报表"),
            vec![2026]
        );
        assert!(
            years_in("439902001000东门社区").is_empty(),
            "no year inside a code"
        );
        assert!(years_in("城东街道.xlsx").is_empty());
    }

    #[test]
    fn a_day_without_its_year_is_the_first_after_the_month_reported() {
        let m = |y, mo| Month::new(y, mo).unwrap();
        let day = |y, mo, d| Day::new(y, mo, d);
        assert_eq!(
            Day::find_after("报出日期：4月3日", m(2026, 3)),
            day(2026, 4, 3)
        );
        assert_eq!(Day::find_after("１月５日", m(2026, 12)), day(2027, 1, 5));
        assert_eq!(Day::find_after("3月31日", m(2026, 3)), day(2026, 3, 31));
        assert_eq!(Day::find_after("4.3", m(2026, 3)), None);
        assert_eq!(Day::find_after("2月30日", m(2026, 3)), None);
    }

    #[test]
    fn months_inside_longer_text() {
        let m = Month::new(2026, 11).unwrap();
        assert_eq!(months_in_text("报告期：2026年11月"), vec![m]);
        assert_eq!(months_in_text("城东街道_202611_免疫.xlsx"), vec![m]);
        assert_eq!(months_in_text("城东街道-2026.11.xls"), vec![m]);
        // a 12-digit division code is not a month
        assert!(months_in_text("439902101000.xlsx").is_empty());
        assert!(months_in_text("城东街道.xlsx").is_empty());
        assert_eq!(months_in_text("2026年1月 2026年2月").len(), 2);
    }

    #[test]
    fn quarters_and_years() {
        assert_eq!(Period::parse("2026Q1"), Some(Period::Quarter(2026, 1)));
        assert_eq!(Period::parse("2026-Q4"), Some(Period::Quarter(2026, 4)));
        assert_eq!(
            Period::parse("2026年第2季度"),
            Some(Period::Quarter(2026, 2))
        );
        assert_eq!(Period::parse("2026"), Some(Period::Year(2026)));
        assert_eq!(Period::parse("2026Q5"), None);
        assert_eq!(Period::parse("2026-13"), None);
        assert_eq!(Period::parse("next month"), None);
    }

    #[test]
    fn display_then_parse_is_identity() {
        for y in [1999, 2026, 2030] {
            for m in 1..=12 {
                let p = Period::Month(Month::new(y, m).unwrap());
                assert_eq!(Period::parse(&p.to_string()), Some(p));
            }
            for q in 1..=4 {
                let p = Period::Quarter(y, q);
                assert_eq!(Period::parse(&p.to_string()), Some(p));
            }
            assert_eq!(
                Period::parse(&Period::Year(y).to_string()),
                Some(Period::Year(y))
            );
        }
    }

    #[test]
    fn a_range_of_one_whole_month_is_that_month() {
        let jan = Month::new(2026, 1);
        for t in [
            "2026年1月1日-1月31日",
            "2026.1.1-2026.1.31",
            "2026年1月1日至2026年1月31日",
            "（2026年1月1日～31日）",
            "2026-01-01 至 2026-01-31",
        ] {
            assert_eq!(month_of_day_range(t), jan, "{t}");
        }
        assert_eq!(
            month_of_day_range("2028年2月1日-2月29日"),
            Month::new(2028, 2)
        );
        for t in [
            "2026年1月1日-1月30日",
            "2026年1月2日-1月31日",
            "2026年1月1日-2月28日",
            "2027年2月1日-2月29日",
            "2026年1月",
            "报出日期：2026年1月31日",
        ] {
            assert_eq!(month_of_day_range(t), None, "{t}");
        }
    }

    #[test]
    fn days_in_every_notation() {
        let d = Day::new(2026, 2, 5).unwrap();
        for t in [
            "报出日期：2026年2月5日",
            "2026-02-05",
            "2026.2.5",
            "2026/2/5",
            "２０２６年２月５日",
        ] {
            assert_eq!(Day::find_in(t), Some(d), "{t}");
        }
        assert_eq!(Day::find_in("2026年2月30日"), None);
        assert_eq!(Day::from_serial(46_058.0), Some(d));
        assert_eq!(Day::from_serial(45_351.0), Day::new(2024, 2, 29));
        assert_eq!(d.to_string(), "2026-02-05");
    }

    #[test]
    fn halves_and_year_to_date() {
        let jan = Month::new(2026, 1).unwrap();
        let jun = Month::new(2026, 6).unwrap();
        for t in ["2026H1", "2026-H1", "2026年上半年"] {
            assert_eq!(Period::parse(t), Some(Period::Half(2026, 1)), "{t}");
        }
        assert_eq!(Period::parse("2026H2"), Some(Period::Half(2026, 2)));
        for t in ["2026-01..2026-06", "2026年1月至2026年6月", "202601~202606"] {
            assert_eq!(Period::parse(t), Some(Period::Range(jan, jun)), "{t}");
        }
        assert_eq!(Period::parse("2026-06..2026-01"), None);
        assert_eq!(
            Period::parse("2025-12..2026-02"),
            None,
            "a range stays in one year"
        );
        let r = Period::Range(jan, jun);
        assert_eq!(r.to_string(), "2026-01..2026-06");
        assert_eq!(Period::parse(&r.to_string()), Some(r));
        assert_eq!(r.label_zh(), "2026年1—6月");
        assert_eq!(r.months().len(), 6);
        assert!(Period::Half(2026, 1).covers(Period::Quarter(2026, 2)));
        assert!(!Period::Half(2026, 1).covers(Period::Quarter(2026, 3)));
        assert_eq!(Period::Half(2026, 2).label_zh(), "2026年下半年");
    }

    #[test]
    fn previous_same_period_and_year_to_date() {
        let m = |y, mo| Month::new(y, mo).unwrap();
        assert_eq!(
            Period::Month(m(2026, 1)).previous(),
            Period::Month(m(2025, 12))
        );
        assert_eq!(
            Period::Quarter(2026, 1).previous(),
            Period::Quarter(2025, 4)
        );
        assert_eq!(Period::Half(2026, 2).previous(), Period::Half(2026, 1));
        assert_eq!(Period::Year(2026).previous(), Period::Year(2025));
        assert_eq!(
            Period::Quarter(2026, 2).year_before(),
            Period::Quarter(2025, 2)
        );
        assert_eq!(
            Period::Quarter(2026, 2).year_to_date(),
            Period::Range(m(2026, 1), m(2026, 6))
        );
        assert_eq!(
            Period::Quarter(2026, 1).year_to_date(),
            Period::Quarter(2026, 1)
        );
        assert_eq!(
            Period::Month(m(2026, 5)).year_to_date(),
            Period::Range(m(2026, 1), m(2026, 5))
        );
        assert_eq!(Period::Year(2026).year_to_date(), Period::Year(2026));
    }

    #[test]
    fn quarter_months() {
        let q = Period::Quarter(2026, 2);
        let ms: Vec<String> = q.months().iter().map(|m| m.to_string()).collect();
        assert_eq!(ms, ["2026-04", "2026-05", "2026-06"]);
        assert!(q.contains(Month::new(2026, 6).unwrap()));
        assert!(!q.contains(Month::new(2026, 7).unwrap()));
    }
}
