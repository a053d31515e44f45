//! What a finding says, kept as data until the edge. A [`Detail`] holds the
//! values involved (labels in both languages, units by name, months, the
//! figures); [`Detail::render`] turns it into the sentence and the fix a
//! person reads, in Chinese or English — the one place either language is
//! written. Writers and the terminal call it with the language they show.

use crate::findings::CellRef;
use crate::period::{Day, Month};
use crate::registry::Level;

/// The language a person reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 中文: the default, for every workbook and terminal.
    #[default]
    Zh,
    /// English (`--lang en`).
    En,
}

impl Lang {
    /// `zh` / `en` (also `zh-CN`, `中文`, `english`).
    #[must_use]
    pub fn parse(text: &str) -> Option<Lang> {
        let t = text.trim().to_ascii_lowercase();
        if t.starts_with("zh") || t == "中文" || t == "cn" {
            Some(Lang::Zh)
        } else if t.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The terminal's language: `--lang` when given, else English when
    /// `LANG` (or `LC_ALL`) starts with `en`, else Chinese. Workbooks never
    /// follow the environment: they go to Chinese readers.
    #[must_use]
    pub fn terminal(flag: Option<Lang>) -> Lang {
        flag.unwrap_or_else(|| {
            let env = std::env::var("LC_ALL")
                .ok()
                .filter(|v| !v.is_empty())
                .or_else(|| std::env::var("LANG").ok())
                .unwrap_or_default();
            if env.starts_with("en") {
                Lang::En
            } else {
                Lang::Zh
            }
        })
    }

    /// `zh` or `en`, whichever this language is.
    #[must_use]
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// What was being done with a path when the system refused it: a missing
/// path and a refused permission mean different things to a person
/// reading a file and to one writing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reading a file that should be there.
    Read,
    /// Writing a file, or making its folder.
    Write,
    /// Either: the error came without saying which.
    Any,
}

/// What a file-system error means to a person, in both languages; one
/// without a plain meaning keeps the system's words (which are English).
#[must_use]
pub fn io_reason(e: &std::io::Error, access: Access) -> Label {
    use std::io::ErrorKind;
    let (zh, en) = match (e.kind(), access) {
        (ErrorKind::NotFound, Access::Read) => ("文件不存在", "the file does not exist"),
        (ErrorKind::NotFound, Access::Write) => ("所在的文件夹不存在", "its folder does not exist"),
        (ErrorKind::NotFound, Access::Any) => ("找不到该文件或文件夹", "no such file or folder"),
        (ErrorKind::PermissionDenied, Access::Read) => ("没有读取权限", "permission denied"),
        (ErrorKind::PermissionDenied, Access::Write) => (
            "没有写入权限（文件夹是否只读，或文件正在 Excel、WPS 中打开？）",
            "permission denied (is the folder read-only, or the file open in Excel?)",
        ),
        (ErrorKind::PermissionDenied, Access::Any) => (
            "没有权限（文件夹是否只读，或文件正在 Excel、WPS 中打开？）",
            "permission denied (is the folder read-only, or the file open in Excel?)",
        ),
        (ErrorKind::NotADirectory, _) => (
            "路径中有一段是文件，不是文件夹",
            "part of the path is a file, not a folder",
        ),
        (ErrorKind::AlreadyExists, _) => ("已有同名的文件", "a file of that name is in the way"),
        (ErrorKind::IsADirectory, _) => ("这是一个文件夹", "it is a folder"),
        (ErrorKind::StorageFull, _) => ("磁盘已满", "the disk is full"),
        (ErrorKind::ReadOnlyFilesystem, _) => ("磁盘是只读的", "the disk is read-only"),
        _ => {
            return Label {
                zh: format!("系统提示：{e}"),
                en: e.to_string(),
            }
        }
    };
    Label {
        zh: zh.into(),
        en: en.into(),
    }
}

/// A name in both languages: a field's label, a form's title.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Label {
    /// 中文.
    pub zh: String,
    /// English.
    pub en: String,
}

impl Label {
    /// The name in `lang`.
    #[must_use]
    pub fn get(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

/// A month as a person reads it: `2026年5月` / `2026-05`.
#[must_use]
pub fn month_label(m: Month, lang: Lang) -> String {
    match lang {
        Lang::Zh => crate::period::Period::Month(m).label_zh(),
        Lang::En => m.to_string(),
    }
}

/// A figure as written in a message: whole numbers without a fraction,
/// others with at most two decimals; a magnitude no count has (1e308), or a
/// fraction too small for two decimals (a denormal, 5e-324), in scientific
/// notation, so it is neither 309 digits nor called 0.
#[must_use]
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        format!("{v}")
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if v.abs() >= 1e15 || v.abs() < 1e-6 {
        format!("{v:e}")
    } else if v.abs() < 0.005 {
        format!("{v}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A figure as a cell held it, at full precision (`12.5`, `95.21`), for a
/// finding's `value`: Rust's shortest round-trip digits, in scientific
/// notation past the magnitudes of counts (`1e308`, `5e-324`).
#[must_use]
pub fn exact(v: f64) -> String {
    if v != 0.0 && v.is_finite() && (v.abs() >= 1e15 || v.abs() < 1e-6) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// How many columns a text takes where a CJK character takes two (a
/// terminal, a table's column in characters of a Latin font's width).
#[must_use]
pub fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 2 } else { 1 })
        .sum()
}

/// What `--scope` left out of the units above it (its county's or city's
/// summaries, which list the scope's own units: their figures are not in a
/// scoped run, FORMS.md §6 `--scope`), in a sentence; `None` where it left
/// out none. The terminal, the workbook's 说明 and an empty period's error
/// all say it so.
#[must_use]
pub fn left_above_scope(outside: &[crate::observation::Outside], lang: Lang) -> Option<String> {
    let (of_above, names) = crate::observation::Outside::above(outside);
    let first = of_above.first()?;
    let place = format!("{}!{}", first.file, first.sheet);
    let n = of_above.len();
    Some(match lang {
        Lang::Zh => format!(
            "{n} 份是上级单位（{}）的报表（如 {place}），表中本范围单位的数字未计入；要计入，请以 --scope {} 汇总",
            names.join("、"),
            names[0]
        ),
        Lang::En => format!(
            "{n} of them are returns of {}, above the scope (first: {place}): the figures they give for the scope's units are not counted; to count them, consolidate with --scope {}",
            names.join(", "),
            names[0]
        ),
    })
}

/// Text from a file or a cell as the terminal may print it: every control
/// character (a line break, an escape sequence's ESC) shown escaped (`\n`,
/// `\u{1b}`), so a file name can neither forge a line of output nor drive
/// the terminal (FORMS.md §6).
#[must_use]
pub fn terminal_text(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A limit of the bounded reader (`ingest::workbook`'s constants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Limit {
    /// The file's size.
    FileBytes,
    /// One part of the package, uncompressed.
    PartBytes,
    /// The shared strings, uncompressed.
    SharedStringsBytes,
    /// The whole package, uncompressed.
    PackageBytes,
    /// Parts in the package.
    Parts,
    /// How much one part inflates.
    CompressionRatio,
    /// Cells with a value in one sheet.
    SheetCells,
    /// Characters in one cell.
    CellChars,
}

impl Limit {
    /// What is measured, and in what: (中文, English, whether in bytes).
    fn what(self) -> (&'static str, &'static str, bool) {
        match self {
            Limit::FileBytes => ("文件大小", "the file's size", true),
            Limit::PartBytes => ("解压后的大小", "the uncompressed size", true),
            Limit::SharedStringsBytes => (
                "共享字符串表解压后的大小",
                "the shared strings' uncompressed size",
                true,
            ),
            Limit::PackageBytes => (
                "各部分解压后的总大小",
                "the package's total uncompressed size",
                true,
            ),
            Limit::Parts => ("包含的部件数", "the number of parts in the package", false),
            Limit::CompressionRatio => (
                "压缩比（解压后为压缩时的倍数）",
                "the compression ratio",
                false,
            ),
            Limit::SheetCells => (
                "有内容的单元格数",
                "the number of cells with a value in the sheet",
                false,
            ),
            Limit::CellChars => (
                "一个单元格中的字符数",
                "the number of characters in one cell",
                false,
            ),
        }
    }
}

/// A size as a person reads it: 3.0 GB, 32 MB, 512 KB, or bytes.
fn size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")];
    for (unit, name) in UNITS {
        if bytes >= unit {
            let v = bytes as f64 / unit as f64;
            return if v >= 10.0 {
                format!("{v:.0} {name}")
            } else {
                format!("{v:.1} {name}")
            };
        }
    }
    format!("{bytes} B")
}

/// A spreadsheet format phstats does not read (see
/// [`Unreadable::OtherSpreadsheet`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum SpreadsheetKind {
    /// OpenDocument (LibreOffice, WPS): .ods.
    Ods,
    /// Excel's binary workbook: .xlsb.
    Xlsb,
    /// WPS 表格's own .et, not saved in an Excel format.
    Et,
}

/// Why a workbook, or a sheet of it, could not be read.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Unreadable {
    /// Zero bytes.
    Empty,
    /// A web page saved with an Excel extension.
    Html,
    /// CSV or other text saved with an Excel extension.
    Text,
    /// Neither xlsx nor xls.
    NotExcel,
    /// A spreadsheet of another format: an OpenDocument (.ods) or Excel
    /// binary (.xlsb) workbook, or a WPS .et file that is neither.
    OtherSpreadsheet(SpreadsheetKind),
    /// Password-protected.
    Encrypted,
    /// The xlsx package is damaged (the reader's words).
    DamagedXlsx(String),
    /// The .xls file is damaged (the reader's words).
    DamagedXls(String),
    /// The file could not be read from disk: why, in both languages.
    Io(#[serde(deserialize_with = "reason_or_system_words")] Label),
    /// The reader failed inside the file (where).
    ReaderPanic(String),
    /// A second sheet of the same name.
    DuplicateSheet {
        /// 1-based position of the sheet.
        n: usize,
        /// Its name.
        name: String,
    },
    /// One sheet's XML/BIFF is damaged.
    SheetDamaged(String),
    /// Past a limit of the bounded reader: a file no spreadsheet
    /// application writes for a return (a zip bomb, a sheet of a million
    /// rows, a name of millions of characters).
    OverLimit {
        /// Which limit.
        limit: Limit,
        /// The package part it was found in, if one.
        part: Option<String>,
        /// What the file has (bytes, cells, characters, or a ratio).
        found: u64,
        /// The most allowed.
        max: u64,
    },
    /// Stray cells far outside the table.
    TooLarge {
        /// First used cell.
        from: CellRef,
        /// Last used cell.
        to: CellRef,
        /// Cells in between.
        area: usize,
    },
}

/// Why a figure cell is not a figure.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum BadCell {
    /// Text that is not a number (as written).
    NotNumber(String),
    /// TRUE/FALSE.
    Bool(String),
    /// A date.
    Date(String),
    /// An error value (`#DIV/0!`).
    ErrorValue(String),
    /// A magnitude no head count has.
    Implausible(f64),
    /// A magnitude no head count has, typed as text (quoted as typed: past
    /// 2^53 a number no longer holds every digit).
    ImplausibleText(String),
    /// A formula saved without its value (the formula text).
    Uncached(String),
    /// Below zero.
    Negative(f64),
    /// Not a whole number.
    Fraction(f64),
    /// Not a rate (as shown).
    NotRate(String),
}

/// Where a return's month was read.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum MonthSource {
    /// The 报告期 cell, as written.
    Sheet(String),
    /// A month above the header with no 报告期 label (a title that opens
    /// with it, a cell holding only it), as written.
    Heading(String),
    /// The file name.
    FileName(String),
}

/// What a finding says, with every value it names.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Detail {
    /// A workbook or sheet that cannot be read.
    Unreadable(Unreadable),
    /// A workbook with no sheets (`no_return_found`).
    NoSheets,
    /// A workbook none of whose sheets holds a return.
    NoReturnInWorkbook,
    /// An empty sheet beside the returns.
    StraySheet,
    /// A sheet of text only (a cover, instructions) beside the returns.
    TextOnlySheet,
    /// A hidden sheet beside the returns in sight: not read.
    HiddenSheet,
    /// A return with not one figure (`empty_return`).
    EmptyReturn {
        /// The reporting unit.
        unit: String,
        /// Its month.
        month: Month,
    },
    /// A sheet with text but no form header.
    NoHeader,
    /// A form column absent from the header.
    MissingColumn {
        /// The column.
        label: Label,
        /// Header rows, 1-based.
        rows: (u32, u32),
        /// The return lists its fields as rows (FORMS.md §2): an item, not
        /// a column, is missing.
        listed: bool,
    },
    /// A rate's column absent from a group the return has: the rate is
    /// recomputed from its sides, so nothing is missing from the roll-up.
    MissingRate {
        /// The column.
        label: Label,
        /// Header rows, 1-based.
        rows: (u32, u32),
        /// The return lists its fields as rows.
        listed: bool,
    },
    /// Whole groups of a form absent from the header (an older template).
    MissingGroups {
        /// The groups.
        groups: Vec<Label>,
        /// Header rows, 1-based.
        rows: (u32, u32),
        /// The return lists its fields as rows.
        listed: bool,
    },
    /// Header columns matching no field, and figures under no label.
    UnknownColumns {
        /// Labels matching no field.
        names: Vec<String>,
        /// Columns with figures but no label, and how many.
        unlabelled: Vec<(String, usize)>,
        /// Labels of a field already read from another column.
        #[serde(default)]
        again: Vec<String>,
        /// Labels of a field under a block of another period (本年累计,
        /// 上年同期): not the month's figures.
        #[serde(default)]
        other_period: Vec<String>,
    },
    /// A field's columns under blocks neither a part nor a period (男 |
    /// 女), with no 合计 block: the first block's read, these not.
    BlocksNotRead {
        /// Each column not read, with its block (女 乙肝疫苗第1剂 应种人数).
        labels: Vec<String>,
        /// The header's rows, 1-based.
        rows: (u32, u32),
    },
    /// The 填报单位 is a village.
    ReporterIsVillage {
        /// As written.
        text: String,
    },
    /// The 填报单位 holds one registry name among other words.
    ReporterAssumed {
        /// As written.
        text: String,
        /// The unit it is taken to be.
        unit: String,
        /// Its code.
        code: String,
    },
    /// The 填报单位 is not in the registry.
    ReporterUnknown {
        /// As written.
        text: String,
        /// The nearest registry name.
        suggestion: Option<String>,
    },
    /// No 填报单位 anywhere, but the rows name one unit's children.
    ReporterFromRows {
        /// The unit taken.
        unit: String,
        /// Its code.
        code: String,
        /// How many rows name its children.
        rows: usize,
    },
    /// No 填报单位 in the sheet or the file name, but the folder the file
    /// is in names a unit (a folder a township): taken as its return.
    ReporterFromFolder {
        /// The folder's name.
        folder: String,
        /// The unit taken.
        unit: String,
        /// Its code.
        code: String,
        /// How many rows name its children, where they agree.
        rows: Option<usize>,
    },
    /// No 填报单位 and no unit in the file name.
    ReporterMissing,
    /// No month anywhere.
    PeriodMissing,
    /// A 报告期 of a month without its year (1月), nowhere else a year:
    /// the year taken from the 报出日期.
    PeriodYearAssumed {
        /// The 报告期 as written.
        text: String,
        /// The 报出日期.
        reported: Day,
        /// The month taken.
        month: Month,
        /// `text` is the sheet's name, not its 报告期.
        #[serde(default)]
        sheet_name: bool,
    },
    /// A 报告期 that names no single month (a quarter, a year, a typo),
    /// and no month in the file name.
    PeriodNotAMonth(String),
    /// The sheet and the file name give different months.
    PeriodConflict {
        /// The first source and its month.
        first: (MonthSource, Month),
        /// The disagreeing source and its month.
        second: (MonthSource, Month),
    },
    /// A second 合计 row.
    SecondTotalRow {
        /// 1-based row of the first (its column, `across`).
        first_row: u32,
        /// The units are columns (a table turned).
        #[serde(default)]
        across: bool,
    },
    /// A row named for the reporting unit itself on a sheet that has a
    /// 合计 row too.
    OwnNameBesideTotal {
        /// The name as written.
        name: String,
        /// 1-based row of the 合计 (its column, `across`).
        total_row: u32,
        /// The units are columns (a table turned).
        #[serde(default)]
        across: bool,
    },
    /// A row with figures and no name.
    RowWithoutName {
        /// 1-based row (its column, `across`).
        row: u32,
        /// The units are columns (a table turned).
        #[serde(default)]
        across: bool,
    },
    /// A unit twice in one return.
    RowTwice {
        /// As written.
        name: String,
        /// 1-based row of the first (its column, `across`).
        first_row: u32,
        /// The units are columns (a table turned).
        #[serde(default)]
        across: bool,
    },
    /// A row naming no unit of the reporting unit.
    UnknownRow {
        /// As written.
        name: String,
        /// The reporting unit.
        parent: String,
        /// The likeliest unit meant: one the return does not name.
        suggestion: Option<String>,
        /// The same name elsewhere: (unit, its parent, code).
        elsewhere: Option<(String, String, String)>,
        /// The units are columns (a table turned).
        #[serde(default)]
        across: bool,
    },
    /// A village's row in a county's return that its township's own return
    /// lists too.
    RowListedBelow {
        /// The village.
        unit: String,
        /// The form.
        form: Label,
        /// The month.
        month: Month,
        /// file!sheet of the township's return.
        detail: String,
    },
    /// A row of a county's return naming a village several of its
    /// townships have, taken to be the one of its neighbours' township.
    RowAssumed {
        /// As written.
        name: String,
        /// The reporting unit.
        parent: String,
        /// How many units below it are so named.
        several: usize,
        /// The township taken.
        township: String,
        /// The unit's code.
        code: String,
        /// The units are columns (a table turned).
        #[serde(default)]
        across: bool,
    },
    /// A row of a county's return naming a village several of its
    /// townships have, with no township row or 小计 saying whose.
    AmbiguousRow {
        /// As written.
        name: String,
        /// The reporting unit.
        parent: String,
        /// The townships that have a unit so named.
        places: Vec<String>,
        /// The units are columns (a table turned).
        #[serde(default)]
        across: bool,
    },
    /// A figure cell that is not a figure.
    BadCell {
        /// The column.
        label: Label,
        /// Why.
        why: BadCell,
        /// A rate cell (checked, never counted).
        rate: bool,
    },
    /// `left ≤ right` broken.
    Exceeds {
        /// Left side.
        left: Label,
        /// Its value.
        l: f64,
        /// Right side.
        right: Label,
        /// Its value.
        r: f64,
        /// On the 合计 row.
        total_row: bool,
        /// `given_exceeds_due`: catch-up doses count on both sides, so it
        /// cannot happen; the help says so.
        catch_up: bool,
    },
    /// A reported rate disagreeing with its row.
    RateMismatch {
        /// The rate.
        label: Label,
        /// As reported.
        reported: f64,
        /// Recomputed.
        expected: f64,
        /// On the 合计 row.
        total_row: bool,
    },
    /// The 合计 row against the unit rows.
    TotalMismatch {
        /// The column.
        label: Label,
        /// On the 合计 row.
        total: f64,
        /// Sum of the unit rows.
        sum: f64,
        /// The unit rows' range, e.g. `D9:D15`.
        range: String,
        /// Level of the rows (村 for a township's return).
        rows: Option<Level>,
        /// Where the 合计 falls short by exactly the unit rows' figures
        /// written as text (a spreadsheet's SUM leaves text out): how many
        /// there are, and the first one's cell.
        text: Option<(u32, CellRef)>,
    },
    /// The 合计 sheet of the 本地 / 流动 / 合计 workbook against its parts,
    /// at one cell (FORMS.md §3.1).
    PartsMismatch {
        /// The column.
        label: Label,
        /// On the 合计 sheet.
        total: f64,
        /// The 本地 sheet's name, cell and figure.
        local: (String, crate::findings::CellRef, f64),
        /// The 流动 sheet's name, cell and figure.
        floating: (String, crate::findings::CellRef, f64),
        /// The parts are rows of one sheet (a 类别 column), not sheets.
        #[serde(default)]
        rows: bool,
    },
    /// A 合计 row with figures on a return whose unit rows report none:
    /// the roll-up counts the unit rows, so those figures are not counted.
    TotalWithoutRows {
        /// Level of the rows the return should have (村 for a township's).
        rows: Option<Level>,
    },
    /// A stock falling over 10 % in a month.
    StockDrop {
        /// The field.
        label: Label,
        /// The unit.
        unit: String,
        /// Fall, in percent.
        pct: f64,
        /// The previous month's value.
        prev: f64,
        /// The previous month.
        prev_month: Month,
        /// This month's value.
        value: f64,
        /// This month.
        month: Month,
    },
    /// A year-to-date count below the same year's previous month.
    YtdDecrease {
        /// The field.
        label: Label,
        /// The unit.
        unit: String,
        /// The previous month's value.
        prev: f64,
        /// The previous month.
        prev_month: Month,
        /// This month's value.
        value: f64,
        /// This month.
        month: Month,
    },
    /// A value far from the unit's own history.
    Outlier {
        /// The field.
        label: Label,
        /// The unit.
        unit: String,
        /// The value.
        value: f64,
        /// Its month.
        month: Month,
        /// Median of the prior months.
        median: f64,
        /// How many prior months.
        n: usize,
    },
    /// The same return received twice.
    IdenticalCopy {
        /// The unit.
        unit: String,
        /// The month.
        month: Month,
        /// This copy (`file!sheet`).
        copy: String,
        /// The copy counted.
        first: String,
    },
    /// One path reached twice (`other` is the other name, if it differs).
    SameFile {
        /// The file.
        file: String,
        /// The other name it was reached under.
        other: Option<String>,
    },
    /// A correction replaced an earlier return.
    Correction {
        /// The unit.
        unit: String,
        /// The month.
        month: Month,
        /// The correction (`file!sheet`).
        winner: String,
        /// What it replaced.
        replaced: String,
    },
    /// Different returns for one unit, form and month, none a correction.
    DuplicateReturn {
        /// The unit.
        unit: String,
        /// The month.
        month: Month,
        /// Each return (`file!sheet`).
        places: Vec<String>,
    },
    /// A row also computed from the rows of its own units.
    SummaryOverlap {
        /// The unit of the row.
        unit: String,
        /// The form.
        form: Label,
        /// The month.
        month: Month,
        /// The detailed return (`file!sheet`).
        detail: String,
    },
    /// A unit that sent no return.
    /// A later dose above an earlier one over a year to date.
    DoseSequence {
        /// The unit.
        unit: String,
        /// The year to date, in words.
        period: Label,
        /// The earlier dose's count and label.
        earlier: (f64, Label),
        /// The later dose's count and label.
        later: (f64, Label),
    },
    /// A dropout below −10 % at township level or above.
    DropoutNegative {
        /// The unit.
        unit: String,
        /// The period, in words.
        period: Label,
        /// The dropout's label.
        label: Label,
        /// The earlier dose's count and label.
        first: (f64, Label),
        /// The later dose's count and label.
        later: (f64, Label),
        /// The dropout, percent.
        rate: f64,
    },
    MissingReturn {
        /// The unit.
        unit: String,
        /// Its level.
        level: Level,
        /// The form.
        form: Label,
        /// The month.
        month: Month,
    },
    /// A return dated after its deadline.
    LateReturn {
        /// The reporting unit.
        unit: String,
        /// The month reported.
        month: Month,
        /// Its 报出日期, or the day a store received it.
        reported_on: Day,
        /// The deadline.
        deadline: Day,
        /// `reported_on` is the day a store received it (no 报出日期).
        #[serde(default)]
        by_receipt: bool,
    },
    /// A unit with no row in its parent's return.
    MissingRow {
        /// The unit.
        unit: String,
        /// The reporting unit.
        parent: String,
        /// The month.
        month: Month,
        /// The return's units are columns (a table turned).
        #[serde(default)]
        across: bool,
    },
}

/// `a、b、c`, the first `max` of them, then how many more.
fn list(items: &[String], max: usize, lang: Lang) -> String {
    let shown = items[..items.len().min(max)].join(lang.pick("、", ", "));
    if items.len() > max {
        match lang {
            Lang::Zh => format!("{shown} 等 {} 项", items.len()),
            Lang::En => format!("{shown} and {} more", items.len() - max),
        }
    } else {
        shown
    }
}

/// [`Unreadable::Io`]'s reason as stored: a store written before the
/// reason was kept in both languages holds the system's (English) words
/// alone, read back with no Chinese.
fn reason_or_system_words<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Label, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Both(Label),
        SystemWords(String),
    }
    Ok(match <Stored as serde::Deserialize>::deserialize(d)? {
        Stored::Both(label) => label,
        Stored::SystemWords(en) => Label {
            zh: String::new(),
            en,
        },
    })
}

impl Unreadable {
    /// A file that could not be read from disk, and why.
    #[must_use]
    pub fn from_io(e: &std::io::Error) -> Unreadable {
        Unreadable::Io(io_reason(e, Access::Read))
    }

    fn render(&self, lang: Lang) -> (String, Option<String>) {
        let resend_zh = "请乡镇用 Excel 或 WPS 另存为 .xlsx 后重新报送";
        let resend_en = "ask the township to save it as .xlsx in Excel or WPS and send it again";
        let resend = || Some(lang.pick(resend_zh, resend_en).to_string());
        let (zh, en, help): (String, String, Option<String>) = match self {
            Unreadable::Empty => ("文件是空的".into(), "the file is empty".into(), resend()),
            Unreadable::Html => (
                "文件实为网页（HTML），只是用了 Excel 的扩展名".into(),
                "the file is a web page (HTML) saved with an Excel extension".into(),
                Some(
                    lang.pick(
                        "请在 Excel 中打开后另存为 .xlsx",
                        "open it in Excel and save it as .xlsx",
                    )
                    .into(),
                ),
            ),
            Unreadable::Text => (
                "文件实为 CSV 或文本，只是用了 Excel 的扩展名".into(),
                "the file is CSV or text saved with an Excel extension".into(),
                Some(
                    lang.pick(
                        "请在 Excel 中打开后另存为 .xlsx",
                        "open it in Excel and save it as .xlsx",
                    )
                    .into(),
                ),
            ),
            Unreadable::NotExcel => (
                "文件不是 Excel 工作簿（既不是 xlsx，也不是 xls）".into(),
                "the file is not an Excel workbook (neither xlsx nor xls)".into(),
                resend(),
            ),
            Unreadable::OtherSpreadsheet(kind) => {
                let (zh, en) = match kind {
                    SpreadsheetKind::Ods => (
                        "OpenDocument 表格（.ods）",
                        "an OpenDocument spreadsheet (.ods)",
                    ),
                    SpreadsheetKind::Xlsb => (
                        "Excel 二进制工作簿（.xlsb）",
                        "an Excel binary workbook (.xlsb)",
                    ),
                    SpreadsheetKind::Et => (
                        "WPS 表格自有格式（.et）",
                        "a WPS spreadsheet in its own format (.et)",
                    ),
                };
                (
                    format!("文件是 {zh}，phstats 只读取 .xlsx 和 .xls"),
                    format!("the file is {en}; phstats reads .xlsx and .xls only"),
                    Some(
                        lang.pick(
                            "请用 WPS、Excel 或 LibreOffice 打开后另存为 .xlsx",
                            "open it in WPS, Excel or LibreOffice and save it as .xlsx",
                        )
                        .into(),
                    ),
                )
            }
            Unreadable::Encrypted => (
                "工作簿设有打开密码（已加密），无法读取".into(),
                "the workbook is password-protected (encrypted)".into(),
                Some(
                    lang.pick(
                        "请乡镇取消密码后重新报送",
                        "ask the township to send it without a password",
                    )
                    .into(),
                ),
            ),
            // The reader's own words are English: shown only in English.
            Unreadable::DamagedXlsx(e) => (
                "xlsx 文件已损坏，无法打开".into(),
                format!("the xlsx file is damaged ({e})"),
                resend(),
            ),
            Unreadable::DamagedXls(e) => (
                ".xls 文件已损坏，无法打开".into(),
                format!("the .xls file is damaged ({e})"),
                resend(),
            ),
            Unreadable::Io(why) if why.zh.is_empty() => (
                "无法从磁盘读取文件".into(),
                format!("cannot read the file: {}", why.en),
                None,
            ),
            Unreadable::Io(why) => (
                format!("无法从磁盘读取文件：{}", why.zh),
                format!("cannot read the file: {}", why.en),
                None,
            ),
            Unreadable::ReaderPanic(at) => (
                format!("工作簿结构已损坏，读取时出错{at}"),
                format!("the workbook's structure is damaged: the reader failed on it{at}"),
                resend(),
            ),
            Unreadable::DuplicateSheet { n, name } => {
                let zh = format!(
                    "工作簿的第 {n} 个工作表与前面的工作表同名（{name}），无法区分，未读取"
                );
                let en = format!("sheet {n} of the workbook is a second sheet named {name}; it cannot be told apart from the first and is not read");
                let help = lang.pick(
                    "请给每个工作表起不同的名字后重新报送",
                    "give every sheet its own name and send the file again",
                );
                return (lang.pick(&zh, &en).to_string(), Some(help.into()));
            }
            Unreadable::SheetDamaged(e) => {
                let zh = "工作表已损坏，无法读取，其中的数字未计入".to_string();
                let en = format!("the sheet cannot be read ({e}); its figures are not counted");
                return (lang.pick(&zh, &en).to_string(), resend());
            }
            Unreadable::OverLimit {
                limit,
                part,
                found,
                max,
            } => {
                let (zh_what, en_what, bytes) = limit.what();
                let shown = |v: u64| if bytes { size(v) } else { v.to_string() };
                let (zh_subject, en_of) = match part {
                    Some(p) => (format!("工作簿中的 {p} "), format!(" of {p}")),
                    None if *limit == Limit::SheetCells => ("工作表".to_string(), String::new()),
                    None => ("工作簿".to_string(), String::new()),
                };
                let (zh, en) = if *limit == Limit::SheetCells {
                    // Read as they stream: reading stopped at the first past the limit.
                    (
                        format!("{zh_subject}{zh_what}超过上限 {max} 个（读到第 {found} 个时停止）"),
                        format!("{en_what}{en_of} is over the limit of {max} (reading stopped at cell {found})"),
                    )
                } else {
                    let times = *found as f64 / (*max).max(1) as f64;
                    let (by_zh, by_en) = if times >= 2.0 {
                        (
                            format!("是上限的 {times:.0} 倍"),
                            format!("{times:.0} times the limit"),
                        )
                    } else {
                        let d = shown(found.saturating_sub(*max));
                        (format!("超出 {d}"), format!("{d} over it"))
                    };
                    (
                        format!(
                            "{zh_subject}{zh_what}为 {}，超过上限 {}（{by_zh}）",
                            shown(*found),
                            shown(*max)
                        ),
                        format!(
                            "{en_what}{en_of} is {}, past the limit of {} ({by_en})",
                            shown(*found),
                            shown(*max)
                        ),
                    )
                };
                let help = lang.pick(
                    "报表不会有这样的文件，为免拖垮整批处理未读取；请乡镇只保留报表本身（删除多余的行、列和工作表），用 Excel 或 WPS 另存为 .xlsx 后重新报送",
                    "no return is like this, so it is not read rather than endanger the batch; ask the township to keep only the return (delete extra rows, columns and sheets), save it as .xlsx in Excel or WPS and send it again",
                );
                let text = match lang {
                    Lang::Zh => format!("{zh}，其中的数字均未计入"),
                    Lang::En => format!("{en}; none of its figures are counted"),
                };
                return (text, Some(help.into()));
            }
            Unreadable::TooLarge { from, to, area } => {
                let zh = format!("工作表的使用区域从 {from} 延伸到 {to}（{area} 个单元格），表格以外远处有零散内容，未读取该表");
                let en = format!("the sheet's used area runs from {from} to {to} ({area} cells): there are stray cells far outside the table, so the sheet is not read");
                let help = lang.pick(
                    "请删除表格以外的行和列后重新保存",
                    "delete the rows and columns beyond the table and save again",
                );
                return (lang.pick(&zh, &en).to_string(), Some(help.into()));
            }
        };
        let text = match lang {
            Lang::Zh => format!("{zh}，其中的数字均未计入"),
            Lang::En => format!("{en}; none of its figures are counted"),
        };
        (text, help)
    }
}

impl BadCell {
    /// (中文, English) of what the cell holds.
    fn what(&self, label: &Label) -> (String, String) {
        let (z, e) = (&label.zh, &label.en);
        match self {
            BadCell::NotNumber(raw) => (format!("“{z}”填的是“{raw}”，不是数字"), format!("{e}: `{raw}` is not a number")),
            BadCell::Bool(v) => (format!("“{z}”填的是逻辑值 {v}，不是人数"), format!("{e}: `{v}` (a TRUE/FALSE value) is not a count")),
            BadCell::Date(d) => (format!("“{z}”填的是日期（{d}），不是人数"), format!("{e}: `{d}` is a date, not a count")),
            BadCell::ErrorValue(x) => (format!("“{z}”是表格错误值 {x}，不是数字"), format!("{e}: `{x}` is a spreadsheet error, not a figure")),
            BadCell::Implausible(v) => (format!("“{z}”为 {}，不是合理的人数", num(*v)), format!("{e}: `{}` is not a plausible count", num(*v))),
            BadCell::ImplausibleText(raw) => (format!("“{z}”填的是“{raw}”，不是合理的人数"), format!("{e}: `{raw}` is not a plausible count")),
            BadCell::Uncached(f) => (
                format!("“{z}”是公式 ={f}，但文件中没有保存计算结果（文件由不计算公式的程序写出）"),
                format!("{e}: the cell holds the formula `={f}` but no saved value (the file was written by a program that does not calculate formulas)"),
            ),
            BadCell::Negative(v) => (format!("“{z}”为 {}，人数不能为负数", num(*v)), format!("{e}: {} is below zero", num(*v))),
            BadCell::Fraction(v) => (format!("“{z}”为 {}，人数应为整数", num(*v)), format!("{e}: {} is not a whole number of people", num(*v))),
            BadCell::NotRate(s) => (format!("“{z}”填的是“{s}”，不是比率"), format!("{e}: `{s}` is not a rate")),
        }
    }

    fn help(&self, lang: Lang) -> &'static str {
        match self {
            BadCell::Uncached(_) => lang.pick(
                "请在 Excel 或 WPS 中打开文件，待公式计算后保存，再重新报送",
                "open the file in Excel or WPS so the formulas are calculated, save it and send it again",
            ),
            BadCell::Negative(_) => lang.pick("请填写不小于 0 的整数", "enter the count as a whole number ≥ 0"),
            BadCell::Fraction(_) => lang.pick(
                "人数应为整数；请检查是否把比率填到了这一栏",
                "counts are whole people; check whether a rate was typed into this column",
            ),
            BadCell::ErrorValue(_) => lang.pick("请更正该单元格的公式或数字", "correct the cell's formula or figure"),
            _ => lang.pick(
                "请填写纯数字；未报告的请留空",
                "enter the figure as a plain number, or leave the cell empty if it was not reported",
            ),
        }
    }
}

impl MonthSource {
    fn render(&self, lang: Lang) -> String {
        match (self, lang) {
            (MonthSource::Sheet(t), Lang::Zh) => format!("报告期“{t}”"),
            (MonthSource::Sheet(t), Lang::En) => format!("报告期 `{t}`"),
            (MonthSource::Heading(t), Lang::Zh) => format!("表头上方的“{t}”"),
            (MonthSource::Heading(t), Lang::En) => format!("`{t}` above the header"),
            (MonthSource::FileName(n), Lang::Zh) => format!("文件名“{n}”"),
            (MonthSource::FileName(n), Lang::En) => format!("file name `{n}`"),
        }
    }
}

/// What a unit's line of a return is called, in English and Chinese: a
/// row, or a column where the table is turned (`across`).
fn row_or_column(across: bool) -> (&'static str, &'static str) {
    if across {
        ("column", "列")
    } else {
        ("row", "行")
    }
}

impl Detail {
    /// The sentence and the fix, in `lang`.
    #[must_use]
    pub fn render(&self, lang: Lang) -> (String, Option<String>) {
        let zh = lang == Lang::Zh;
        let pick = |z: String, e: String| if zh { z } else { e };
        let m = |month: &Month| month_label(*month, lang);
        match self {
            Detail::Unreadable(u) => u.render(lang),
            Detail::NoSheets => (
                pick("工作簿中没有工作表，未读入任何数字".into(), "the workbook has no sheets; nothing in it is counted".into()),
                Some(pick("请确认发送的是正确的文件".into(), "check that the right file was sent".into())),
            ),
            Detail::NoReturnInWorkbook => (
                pick("工作簿中没有任何工作表含有报表，未读入任何数字".into(), "no sheet of the workbook holds a return; nothing in it is counted".into()),
                Some(pick("请确认发送的是正确的文件".into(), "check that the right file was sent".into())),
            ),
            Detail::EmptyReturn { unit, month } => (
                pick(
                    format!("{unit}{}的报表有表头和单位行，但没有填写任何数字，不作为已上报，也不与其他报表算作重复", month_label(*month, Lang::Zh)),
                    format!("the return of {unit} for {month} has its header and unit rows but not one figure: it is not counted as reported, nor as a duplicate of another"),
                ),
                Some(pick(
                    "如是误发的空白模板，请乡镇填写后重新报送".into(),
                    "if it is a blank template sent by mistake, ask the township to fill it in and send it again".into(),
                )),
            ),
            Detail::StraySheet => (pick("空白工作表，已忽略".into(), "stray empty sheet, ignored".into()), None),
            Detail::HiddenSheet => (
                pick(
                    "此工作表是隐藏的，未读取（工作簿中可见的工作表才是报送的报表）".into(),
                    "a hidden sheet, not read (the sheets in sight are the returns sent)".into(),
                ),
                Some(pick(
                    "如其中有要报送的数字，请取消隐藏后重新报送".into(),
                    "if it holds figures to report, unhide it and send the workbook again".into(),
                )),
            ),
            Detail::TextOnlySheet => (
                pick(
                    "此工作表只有文字、没有数字（如封面、填表说明），不是报表，已忽略".into(),
                    "a sheet of text only, no figures (a cover, instructions): not a return, ignored".into(),
                ),
                None,
            ),
            Detail::NoHeader => (
                pick(
                    "此工作表中找不到报表表头（没有“应种人数”“签约人数”“已管理人数”等栏目），未读取".into(),
                    "no form header found on this sheet (no columns labelled like 应种人数, 签约人数, 已管理人数…); it is not read".into(),
                ),
                Some(pick(
                    "如果这是报表，请核对表头的栏目名称是否与报表式样一致".into(),
                    "if this sheet is a return, check that its header labels match the form".into(),
                )),
            ),
            Detail::MissingColumn { label, listed: true, .. } => (
                pick(
                    format!("本表没有“{}”这一项，这一数字缺失", label.zh),
                    format!("the return does not list {}; this figure is missing", label.en),
                ),
                Some(pick(
                    "请按报表式样补上这一项".into(),
                    "add this item as the form has it".into(),
                )),
            ),
            Detail::MissingColumn { label, rows, listed: false } => (
                pick(
                    format!("表头（第 {}–{} 行）中没有“{}”栏，本表所有单位的这一数字都缺失", rows.0, rows.1, label.zh),
                    format!("column {} not found in the header (rows {}–{}); this figure is missing for every unit of the return", label.en, rows.0, rows.1),
                ),
                Some(pick(
                    "请使用现行报表式样，或按式样填写栏目名称".into(),
                    "use the current form template, or label the column as the form does".into(),
                )),
            ),
            Detail::MissingRate { label, rows, listed } => (
                match listed {
                    true => pick(
                        format!("本表没有“{}”这一项；比率按分子、分母重新计算，汇总不受影响", label.zh),
                        format!("the return does not list {}; the rate is recomputed from its numerator and denominator, nothing is missing", label.en),
                    ),
                    false => pick(
                        format!("表头（第 {}–{} 行）中没有“{}”栏；比率按分子、分母重新计算，汇总不受影响", rows.0, rows.1, label.zh),
                        format!("column {} not found in the header (rows {}–{}); the rate is recomputed from its numerator and denominator, nothing is missing", label.en, rows.0, rows.1),
                    ),
                },
                None,
            ),
            Detail::MissingGroups { groups, rows, listed } => {
                let list = |en: bool| {
                    groups
                        .iter()
                        .map(|g| if en { g.en.as_str() } else { g.zh.as_str() })
                        .collect::<Vec<_>>()
                };
                (
                    if *listed {
                        pick(
                            format!("本表没有以下项目：{}，按未报告处理，其余数字照常计入", list(false).join("、")),
                            format!("the return lists none of {}: not reported; its other figures count", list(true).join(", ")),
                        )
                    } else {
                        pick(
                            format!("表头（第 {}–{} 行）中没有以下栏目：{}，按未报告处理，其余数字照常计入", rows.0, rows.1, list(false).join("、")),
                            format!("the header (rows {}–{}) has none of {}: not reported; the return's other figures count", rows.0, rows.1, list(true).join(", ")),
                        )
                    },
                    Some(pick(
                        "可能用的是旧版报表式样；请改用现行式样补报这些栏目".into(),
                        "probably an older template: report these on the current one".into(),
                    )),
                )
            }
            Detail::UnknownColumns {
                names,
                unlabelled,
                again,
                other_period,
            } => {
                let mut parts = Vec::new();
                if !names.is_empty() {
                    parts.push(pick(
                        format!("{} 个栏目与报表指标不符，已忽略：{}", names.len(), list(names, 12, lang)),
                        format!("{} column(s) that match no field were ignored: {}", names.len(), list(names, 12, lang)),
                    ));
                }
                if !other_period.is_empty() {
                    parts.push(pick(
                        format!(
                            "{} 个栏目是累计、上月或上年同期的数字，不是本月的，未计入：{}",
                            other_period.len(),
                            list(other_period, 12, lang)
                        ),
                        format!(
                            "{} column(s) under a year-to-date, last-month or last-year heading hold no figure of the month and are not counted: {}",
                            other_period.len(),
                            list(other_period, 12, lang)
                        ),
                    ));
                }
                if !again.is_empty() {
                    parts.push(pick(
                        format!("{} 个栏目与另一栏是同一指标，未重复读取：{}", again.len(), list(again, 12, lang)),
                        format!(
                            "{} column(s) repeat a field read from another column, and are not read: {}",
                            again.len(),
                            list(again, 12, lang)
                        ),
                    ));
                }
                if !unlabelled.is_empty() {
                    let cols: Vec<String> = unlabelled
                        .iter()
                        .map(|(c, n)| pick(format!("{c} 列（{n} 个数）"), format!("{c} ({n} value(s))")))
                        .collect();
                    parts.push(pick(
                        format!("没有栏目名称的列中填有数字，未计入：{}", cols.join("、")),
                        format!("figures in unit rows under no header label are not counted: column {}", cols.join(", ")),
                    ));
                }
                let help = (!unlabelled.is_empty()).then(|| {
                    pick(
                        "请按式样填写栏目名称，或删除误填的内容".into(),
                        "label the column as the form does, or delete what was typed there".into(),
                    )
                });
                (parts.join(lang.pick("；", "; ")), help)
            }
            Detail::BlocksNotRead { labels, rows: (a, b) } => (
                pick(
                    format!(
                        "表头（第 {a}–{b} 行）中同一指标在不同标题下各有一栏，且没有合计栏：只读了第一栏，以下 {} 个栏目的数字未计入：{}",
                        labels.len(),
                        list(labels, 12, lang)
                    ),
                    format!(
                        "the header (rows {a}–{b}) has a field under two headings and no 合计: the first was read, and the figures of these {} column(s) are not counted: {}",
                        labels.len(),
                        list(labels, 12, lang)
                    ),
                ),
                Some(pick(
                    "请加一栏合计（各栏之和），或每个指标只填一栏".into(),
                    "add a 合计 column (their sum), or give each field one column".into(),
                )),
            ),
            Detail::ReporterIsVillage { text } => (
                pick(
                    format!("填报单位“{text}”是村（社区）；报表应由乡镇（街道）及以上单位报送，本表未计入"),
                    format!("填报单位 {text} is a village; returns come from townships and above; the return is not counted"),
                ),
                None,
            ),
            Detail::ReporterAssumed { text, unit, code } => (
                pick(
                    format!("填报单位“{text}”不是名录中的名称，已视为名录中唯一与之相符的“{unit}”（{code}）计入"),
                    format!("填报单位 {text} is not a registry name; the return is taken to be {unit} ({code}), the one registry unit it names"),
                ),
                Some(pick(
                    format!("如确为{unit}的报表，请将填报单位写为“{unit}”；否则请填写正确的单位"),
                    format!("if the return is {unit}'s, write {unit} in 填报单位; otherwise write the right unit"),
                )),
            ),
            Detail::ReporterUnknown { text, suggestion } => (
                pick(
                    format!("填报单位“{text}”不在单位名录中，本表未计入"),
                    format!("填报单位 {text} is not in the registry; the return is not counted"),
                ),
                Some(match suggestion {
                    Some(s) => pick(format!("是否应为“{s}”？"), format!("did you mean {s}?")),
                    None => pick(
                        "请在填报单位中填写乡镇（街道）的名录名称或代码".into(),
                        "write the township's registry name or code in 填报单位".into(),
                    ),
                }),
            ),
            Detail::ReporterFromRows { unit, code, rows } => (
                pick(
                    format!("表中没有填报单位，文件名中也没有名录中的单位；表中 {rows} 行都是{unit}下属的单位，已视为{unit}（{code}）的报表计入"),
                    format!("no 填报单位 in the sheet or the file name; {rows} of its rows are units of {unit}, so the return is taken to be {unit}'s ({code})"),
                ),
                Some(pick(
                    format!("如确为{unit}的报表，请在表头上方填写“填报单位：{unit}”；否则请填写正确的单位"),
                    format!("if the return is {unit}'s, write 填报单位：{unit} above the header; otherwise write the right unit"),
                )),
            ),
            Detail::ReporterFromFolder {
                folder,
                unit,
                code,
                rows,
            } => (
                pick(
                    format!(
                        "表中没有填报单位，文件名中也没有名录中的单位；按所在文件夹“{folder}”{}视为{unit}（{code}）的报表计入",
                        rows.map(|n| format!("（表中 {n} 行都是{unit}下属的单位）")).unwrap_or_default()
                    ),
                    format!(
                        "no 填报单位 in the sheet or the file name; by its folder {folder}{}, the return is taken to be {unit}'s ({code})",
                        rows.map(|n| format!(" (and {n} of its rows are units of {unit})")).unwrap_or_default()
                    ),
                ),
                Some(pick(
                    format!("请在表头上方填写“填报单位：{unit}”"),
                    format!("write 填报单位：{unit} above the header"),
                )),
            ),
            Detail::ReporterMissing => (
                pick(
                    "表中没有填报单位，文件名中也没有名录中的单位，本表未计入".into(),
                    "no 填报单位 on the sheet and no registry unit in the file name; the return is not counted".into(),
                ),
                Some(pick("请填写填报单位（乡镇名称）".into(), "fill in 填报单位 with the township's name".into())),
            ),
            Detail::PeriodMissing => (
                pick(
                    "没有报告期：表中没有报告期，文件名中也没有月份，本表未计入".into(),
                    "no period: no 报告期 on the sheet and no month in the file name; the return is not counted".into(),
                ),
                Some(pick(
                    "请填写报告期（如 2026年1月），或用 --period 2026-01 指定月份".into(),
                    "fill in 报告期 (e.g. 2026年1月), or pass the month with --period 2026-01".into(),
                )),
            ),
            Detail::PeriodYearAssumed { text, reported, month, sheet_name } => (
                match sheet_name {
                    false => pick(
                        format!("报告期“{text}”未写年份，按报出日期{}视为{}计入", reported.label_zh(), m(month)),
                        format!("the 报告期 `{text}` has no year; by its 报出日期 {reported} it is taken to be {month}"),
                    ),
                    true => pick(
                        format!("表中没有报告期，工作表名“{text}”未写年份，按报出日期{}视为{}计入", reported.label_zh(), m(month)),
                        format!("no 报告期, and the sheet's name `{text}` has no year; by its 报出日期 {reported} it is taken to be {month}"),
                    ),
                },
                Some(pick(
                    format!("如不是{}，请在报告期中写明年份（如 {}）", m(month), m(month)),
                    format!("if it is not {month}, write the year in 报告期 (e.g. {})", m(month)),
                )),
            ),
            Detail::PeriodNotAMonth(text) => (
                pick(
                    format!("报告期“{text}”不是某一个月份，文件名中也没有月份，本表未计入"),
                    format!("the 报告期 `{text}` is not a month, and the file name has none; the return is not counted"),
                ),
                Some(pick(
                    "月报表的报告期应为一个月（如 2026年1月），或用 --period 2026-01 指定月份".into(),
                    "a monthly return's 报告期 is one month (e.g. 2026年1月), or pass the month with --period 2026-01".into(),
                )),
            ),
            Detail::PeriodConflict { first, second } => (
                pick(
                    format!("{}为 {}，而{}为 {}，两者不一致，本表未计入", first.0.render(lang), m(&first.1), second.0.render(lang), m(&second.1)),
                    format!("{} says {} but {} says {}; the return is not counted", first.0.render(lang), first.1, second.0.render(lang), second.1),
                ),
                Some(pick(
                    "请更正报告期或文件名，使两者一致".into(),
                    "correct the 报告期 or the file name so they agree".into(),
                )),
            ),
            Detail::SecondTotalRow { first_row, across: false } => (
                pick(format!("出现第二个合计行；第一个合计行在第 {first_row} 行"), format!("a second 合计 row; the first is row {first_row}")),
                Some(pick("请删除其中一个合计行".into(), "delete one of the two 合计 rows".into())),
            ),
            Detail::SecondTotalRow { first_row, across: true } => {
                let col = CellRef::col_name(first_row.saturating_sub(1));
                (
                    pick(format!("出现第二个合计列；第一个合计列在 {col} 列"), format!("a second 合计 column; the first is column {col}")),
                    Some(pick("请删除其中一个合计列".into(), "delete one of the two 合计 columns".into())),
                )
            }
            Detail::OwnNameBesideTotal { name, total_row, across: true } => (
                pick(
                    format!("“{name}”是填报单位本身，本表 {} 列已有合计；此列未计入汇总，也不计入各村之和", CellRef::col_name(total_row.saturating_sub(1))),
                    format!("“{name}” is the reporting unit itself, and column {} is the 合计 already: this column is not counted, nor summed with the villages", CellRef::col_name(total_row.saturating_sub(1))),
                ),
                Some(pick(
                    "如这是又一个合计，请删除其中一列；如是卫生院本级的数字，请计入所属村（社区）".into(),
                    "if it is a second total, delete one of the two; if it is the health centre's own figures, enter them under their villages".into(),
                )),
            ),
            Detail::OwnNameBesideTotal { name, total_row, across: false } => (
                pick(
                    format!("“{name}”是填报单位本身，本表第 {total_row} 行已有合计行；此行未计入汇总，也不计入各村之和"),
                    format!("“{name}” is the reporting unit itself, and row {total_row} is the 合计 already: this row is not counted, nor summed with the villages"),
                ),
                Some(pick(
                    "如这是又一个合计，请删除其中一行；如是卫生院本级的数字，请计入所属村（社区）".into(),
                    "if it is a second total, delete one of the two; if it is the health centre's own figures, enter them under their villages".into(),
                )),
            ),
            Detail::RowWithoutName { row, across: true } => (
                pick(
                    format!("{} 列填有数字，但没有单位名称", CellRef::col_name(row.saturating_sub(1))),
                    format!("column {} has figures but no unit name", CellRef::col_name(row.saturating_sub(1))),
                ),
                Some(pick(
                    "请在该列的“单位名称”处填写村（社区）名称".into(),
                    "write the village/community name at the head of the column".into(),
                )),
            ),
            Detail::RowWithoutName { row, across: false } => (
                pick(format!("第 {row} 行填有数字，但没有单位名称"), format!("row {row} has figures but no unit name")),
                Some(pick(
                    "请在“单位名称”栏填写村（社区）名称".into(),
                    "write the village/community name in the 单位名称 column".into(),
                )),
            ),
            Detail::RowTwice { name, first_row, across: true } => {
                let col = CellRef::col_name(first_row.saturating_sub(1));
                (
                    pick(
                        format!("“{name}”在本表中出现两次（第一次在 {col} 列），此列未计入"),
                        format!("{name} appears twice in this return (first in column {col}); this column is not counted"),
                    ),
                    Some(pick(
                        "请删除重复的列；如是另一个单位，请更正名称".into(),
                        "delete the repeated column, or fix its name if it is another unit".into(),
                    )),
                )
            }
            Detail::RowTwice { name, first_row, across: false } => (
                pick(
                    format!("“{name}”在本表中出现两次（第一次在第 {first_row} 行），此行未计入"),
                    format!("{name} appears twice in this return (first on row {first_row}); this row is not counted"),
                ),
                Some(pick(
                    "请删除重复的行；如是另一个单位，请更正名称".into(),
                    "delete the repeated row, or fix its name if it is another unit".into(),
                )),
            ),
            Detail::UnknownRow { name, parent, suggestion, elsewhere, across } => {
                let (line, zh) = row_or_column(*across);
                let text = pick(
                    format!("“{name}”不是单位名录中{parent}下属的单位，此{zh}未计入汇总"),
                    format!("{name} is not a unit of {parent} in the registry; its {line} is not counted"),
                );
                let note = elsewhere.as_ref().map(|(u, p, code)| {
                    pick(
                        format!("{u}是{p}下属的单位（{code}），不属于{parent}"),
                        format!("{u} exists under {p} ({code}), not under {parent}"),
                    )
                });
                let help = match (suggestion, note) {
                    (Some(s), Some(n)) => pick(format!("是否应为“{s}”？（{n}）"), format!("did you mean {s}? ({n})")),
                    (Some(s), None) => pick(format!("是否应为“{s}”？"), format!("did you mean {s}?")),
                    (None, Some(n)) => n,
                    (None, None) => pick(
                        "请在单位名录中添加该单位，或更正名称".into(),
                        "add the unit to the registry or correct the name".into(),
                    ),
                };
                (text, Some(help))
            }
            Detail::RowAssumed { name, parent, several, township, code, across } => {
                let (line, zh) = row_or_column(*across);
                let beside = if *across { "左右" } else { "上下" };
                let text = pick(
                    format!("{parent}下有 {several} 个“{name}”；按{beside}相邻的{zh}，已视为{township}的“{name}”（{code}）计入"),
                    format!("{parent} has {several} units named {name}; by its neighbouring {line}s it is taken to be {township}'s ({code}) and counted"),
                );
                let help = pick(
                    format!("如不是{township}的，请在名称前写明所属乡镇"),
                    format!("if it is not {township}'s, write its township before the name"),
                );
                (text, Some(help))
            }
            Detail::AmbiguousRow { name, parent, places, across } => {
                let (line, zh) = row_or_column(*across);
                let text = pick(
                    format!(
                        "{parent}下有 {} 个“{name}”（{}），无法确定此{zh}是哪一个，此{zh}未计入汇总",
                        places.len(),
                        places.join("、")
                    ),
                    format!(
                        "{parent} has {} units named {name} (under {}); which one this {line} is cannot be told, and it is not counted",
                        places.len(),
                        places.join(", ")
                    ),
                );
                let first = places.first().cloned().unwrap_or_default();
                let after = if *across { "之后加一列" } else { "之下加一行" };
                let help = pick(
                    format!("请在名称前写明所属乡镇（如“{first}{name}”），或在各乡镇的村{after}“{first}小计”"),
                    format!("write the township before the name ({first}{name}), or close each township's villages with a “{first}小计” {line}"),
                );
                (text, Some(help))
            }
            Detail::BadCell { label, why, rate } => {
                let (z, e) = why.what(label);
                let text = match (zh, rate) {
                    (true, false) => format!("{z}，该数未计入"),
                    (true, true) => format!("{z}，无法核对"),
                    (false, false) => format!("{e}; the figure is not counted"),
                    (false, true) => format!("{e}; it cannot be checked"),
                };
                (text, Some(why.help(lang).to_string()))
            }
            Detail::Exceeds { left, l, right, r, total_row, catch_up } => {
                let prefix = if *total_row { lang.pick("合计行：", "合计 row: ") } else { "" };
                let text = pick(
                    format!("{prefix}“{}”为 {}，大于“{}” {}", left.zh, num(*l), right.zh, num(*r)),
                    format!("{prefix}{} = {} exceeds {} = {}", left.en, num(*l), right.en, num(*r)),
                );
                let help = if *catch_up {
                    pick(
                        "查漏补种同时计入应种和实种，实种不会大于应种；请核对这两个数，常见的是应种漏计了补种的儿童".into(),
                        "catch-up doses count on both sides, so given never exceeds due; check both figures: often the due count left out the children caught up".into(),
                    )
                } else {
                    pick(
                        format!("“{}”不能大于“{}”，请核对这两个数", left.zh, right.zh),
                        format!("{} cannot exceed {}; check both figures", left.en, right.en),
                    )
                };
                (text, Some(help))
            }
            Detail::RateMismatch { label, reported, expected, total_row } => {
                let prefix = if *total_row { lang.pick("合计行：", "合计 row: ") } else { "" };
                (
                    pick(
                        format!(
                            "{prefix}“{}”填报为 {}，按本行数字计算应为 {expected:.1}，相差 {:.1} 个百分点",
                            label.zh,
                            num(*reported),
                            (reported - expected).abs()
                        ),
                        format!(
                            "{prefix}{} reported {} but the row's own figures give {expected:.1}, {:.1} percentage points apart",
                            label.en,
                            num(*reported),
                            (reported - expected).abs()
                        ),
                    ),
                    Some(pick(
                        format!("请改为 {expected:.1}，或核对分子、分母"),
                        format!("use {expected:.1}, or check the numerator and denominator"),
                    )),
                )
            }
            Detail::TotalMismatch { label, total, sum, range, rows, text } => {
                let diff = num((total - sum).abs());
                let each = match rows {
                    Some(Level::Village) => "各村",
                    Some(Level::Township) => "各乡镇",
                    Some(Level::County) => "各县（区）",
                    _ => "各单位",
                };
                (
                    pick(
                        format!("合计行“{}”为 {}，{each}之和为 {}，相差 {diff}；请核对 {range}。", label.zh, num(*total), num(*sum)),
                        format!("合计 {} = {}, rows sum to {} (a difference of {diff}); check {range}", label.en, num(*total), num(*sum)),
                    ),
                    Some(match text {
                        Some((n, first)) => pick(
                            format!("{range} 中有 {n} 个数字是以文本形式存储的（如 {first}），表格的求和公式不计入文本，合计因此少了 {diff}；请把这些单元格转换为数字，再重算合计"),
                            format!("{n} figures of {range} are stored as text (first: {first}), which a spreadsheet's SUM leaves out, so the total falls short by {diff}: convert them to numbers and recalculate the total"),
                        ),
                        None => pick(
                            "常见原因是把小计行计入合计，或某一行录入有误".into(),
                            "a 小计 row counted twice or a typo in one row is the usual cause".into(),
                        ),
                    }),
                )
            }
            Detail::PartsMismatch { label, total, local, floating, rows } => {
                let diff = num((local.2 + floating.2 - total).abs());
                let sum = num(local.2 + floating.2);
                // Where each figure is: rows of one sheet (a 类别 column), or sheets.
                let (at_zh, l_zh, f_zh, at_en, l_en, f_en, help) = if *rows {
                    (
                        "合计行".to_string(),
                        "本地行".to_string(),
                        "流动行".to_string(),
                        "the total row".to_string(),
                        "the local row".to_string(),
                        "the floating row".to_string(),
                        pick(
                            "每个村的本地、流动两行相加应与其合计行逐格相等：请核对这三行中的这一格".into(),
                            "each village's local and floating rows add up to its total row cell by cell: check this cell on all three".into(),
                        ),
                    )
                } else {
                    (
                        "合计表".to_string(),
                        format!("“{}”表", local.0),
                        format!("“{}”表", floating.0),
                        "the total sheet".to_string(),
                        format!("`{}`", local.0),
                        format!("`{}`", floating.0),
                        pick(
                            "本地、流动两表相加应与合计表逐格相等：请核对三表中的这一格".into(),
                            "the local and floating sheets add up to the total sheet cell by cell: check this cell on all three".into(),
                        ),
                    )
                };
                (
                    pick(
                        format!(
                            "“{}”{at_zh}为 {}，{l_zh} {}（{}）加{f_zh} {}（{}）为 {sum}，相差 {diff}。",
                            label.zh,
                            num(*total),
                            num(local.2),
                            local.1,
                            num(floating.2),
                            floating.1,
                        ),
                        format!(
                            "{} is {} on {at_en}, but {} on {l_en} ({}) plus {} on {f_en} ({}) make {sum} (a difference of {diff})",
                            label.en,
                            num(*total),
                            num(local.2),
                            local.1,
                            num(floating.2),
                            floating.1,
                        ),
                    ),
                    Some(help),
                )
            }
            Detail::TotalWithoutRows { rows } => {
                let (each, each_en) = match rows {
                    Some(Level::Village) => ("各村（社区）", "village"),
                    Some(Level::Township) => ("各乡镇（街道）", "township"),
                    Some(Level::County) => ("各县（区）", "county"),
                    _ => ("各单位", "unit"),
                };
                (
                    pick(
                        format!("本表只有合计行填有数字，{each}的行都没有数字；汇总只计{each}的数字，合计行的数字未计入"),
                        format!("only the 合计 row has figures, no {each_en} row has any; the roll-up counts the {each_en} rows, so the 合计's figures are not counted"),
                    ),
                    Some(pick(
                        format!("请按{each}逐行填报，合计行由各行相加"),
                        format!("fill in each {each_en}'s row; the 合计 is their sum"),
                    )),
                )
            }
            Detail::StockDrop { label, unit, pct, prev, prev_month, value, month } => (
                pick(
                    format!("{unit}“{}”由{}的 {} 降至{}的 {}，下降 {pct:.1}%", label.zh, m(prev_month), num(*prev), m(month), num(*value)),
                    format!("{} of {unit} fell {pct:.1}% from {} in {prev_month} to {} in {month}", label.en, num(*prev), num(*value)),
                ),
                Some(pick(
                    "存量指标一个月内很少下降这么多；请核对是否录入有误或漏报了部分人口".into(),
                    "a stock rarely falls this much in a month; check for a typo or a missing part of the population".into(),
                )),
            ),
            Detail::YtdDecrease { label, unit, prev, prev_month, value, month } => (
                pick(
                    format!("{unit}“{}”由{}的 {} 减至{}的 {}", label.zh, m(prev_month), num(*prev), m(month), num(*value)),
                    format!("{} of {unit} fell from {} in {prev_month} to {} in {month}", label.en, num(*prev), num(*value)),
                ),
                Some(pick(
                    "年内累计数从 1 月起只增不减；请核对是否录入有误，或误填了当月数".into(),
                    "a count from 1 January only grows within the year; check for a typo or this month's count written instead".into(),
                )),
            ),
            Detail::Outlier { label, unit, value, month, median, n } => (
                pick(
                    format!("{unit}“{}”{}为 {}，明显偏离其以往水平 {}（前 {n} 个月的中位数）", label.zh, m(month), num(*value), num(*median)),
                    format!("{} of {unit} is {} in {month}, far from its usual {} (median of {n} prior months)", label.en, num(*value), num(*median)),
                ),
                Some(pick(
                    "请检查是否多打或少打了一位数，或把数字填到了别的栏".into(),
                    "check for an extra digit or a figure typed into the wrong column".into(),
                )),
            ),
            Detail::IdenticalCopy { unit, month, copy, first } => (
                pick(
                    format!("{unit}{}：{copy} 与 {first} 的数字完全相同，是同一份报表收到两次，只计一次", m(month)),
                    format!("{unit} {month}: {copy} has the same figures as {first}; it is the same return received twice and is counted once"),
                ),
                None,
            ),
            Detail::SameFile { file, other } => (
                match other {
                    Some(o) => pick(format!("{file} 与 {o} 是同一个文件，只读一次"), format!("{file} and {o} are the same file; it is read once")),
                    None => pick(format!("{file} 被指定了两次，只读一次"), format!("{file} was given twice; it is read once")),
                },
                None,
            ),
            Detail::Correction { unit, month, winner, replaced } => (
                pick(
                    format!("{unit}{}：更正报表 {winner} 替代了 {replaced}，后者保留备查，不计入", m(month)),
                    format!("{unit} {month}: the correction {winner} replaces {replaced}, which is kept for audit but not counted"),
                ),
                None,
            ),
            Detail::DuplicateReturn { unit, month, places } => (
                pick(
                    format!("{unit}{}报送了 {} 份数字不同的报表：{}；在其中一份标注“更正”之前，均不计入", m(month), places.len(), places.join("、")),
                    format!("{unit} sent {} returns with different figures for {month}: {}; none is counted until one is marked a correction", places.len(), places.join(", ")),
                ),
                Some(pick(
                    "请删除错误的一份，或在正确一份的标题或文件名中注明“更正”".into(),
                    "remove the wrong one, or mark the right one 更正 in its title or file name".into(),
                )),
            ),
            Detail::RowListedBelow { unit, form, month, detail } => (
                pick(
                    format!("{unit}{}的{}数字既在本表填报，又在其乡镇自己报送的 {detail} 中；按 {detail} 计入，本行不计入", m(month), form.zh),
                    format!("{unit}'s {} figures for {month} are given in this return and also in its township's own {detail}; those are counted, this row is not", form.en),
                ),
                Some(pick(
                    "同一个月请只报送汇总表或下属单位的明细表，不要两者都报".into(),
                    "for one month, send either the summary or the detailed returns of the units below it, not both".into(),
                )),
            ),
            Detail::SummaryOverlap { unit, form, month, detail } => (
                pick(
                    format!("{unit}{}的{}数字既在本行填报，又可由其下属单位在 {detail} 中的各行汇总得出；按下属单位汇总计入，本行不计入", m(month), form.zh),
                    format!("{unit}'s {} figures for {month} are given in this row and also computed from the rows of its own units in {detail}; those are counted, this row is not", form.en),
                ),
                Some(pick(
                    "同一个月请只报送汇总表或下属单位的明细表，不要两者都报".into(),
                    "for one month, send either the summary or the detailed returns of the units below it, not both".into(),
                )),
            ),
            Detail::DoseSequence { unit, period, earlier, later } => (
                pick(
                    format!(
                        "{unit}{}累计：{} {}，{} {}，后一剂次多于前一剂次",
                        period.zh, later.1.zh, num(later.0), earlier.1.zh, num(earlier.0)
                    ),
                    format!(
                        "{unit}, {} to date: {} {} above {} {}",
                        period.en, later.1.en, num(later.0), earlier.1.en, num(earlier.0)
                    ),
                ),
                Some(pick(
                    "本年累计的后一剂次不应多于前一剂次：请核对各村是否把剂次记错，或前一剂次漏报".into(),
                    "over a year a later dose should not outnumber an earlier one: check the villages for doses counted against the wrong dose, or the earlier one left out".into(),
                )),
            ),
            Detail::DropoutNegative { unit, period, label, first, later, rate } => (
                pick(
                    format!(
                        "{unit}{}：{} {}，{} {}，{}为 {rate:.1}%",
                        period.zh, first.1.zh, num(first.0), later.1.zh, num(later.0), label.zh
                    ),
                    format!(
                        "{unit}, {}: {} {}, {} {}, {} {rate:.1} %",
                        period.en, first.1.en, num(first.0), later.1.en, num(later.0), label.en
                    ),
                ),
                Some(pick(
                    "后一剂次不会多于前一剂次：请核对各村是否把剂次记错，或某一剂次漏报".into(),
                    "a later dose cannot outnumber an earlier one: check the villages for doses counted against the wrong dose, or one left out".into(),
                )),
            ),
            Detail::MissingReturn { unit, level, form, month } => (
                pick(
                    format!("{unit}（{}）未报送{}的{}", level.zh(), m(month), form.zh),
                    format!("{unit} ({}) sent no {} for {month}", level.id(), form.en),
                ),
                None,
            ),
            Detail::LateReturn { unit, month, reported_on, deadline, by_receipt } => (
                match (zh, by_receipt) {
                    (true, false) => format!("{unit}{}的报表报出日期为 {}，晚于截止日 {}", m(month), reported_on.label_zh(), deadline.label_zh()),
                    (true, true) => format!("{unit}{}的报表没有报出日期，{} 才收到，晚于截止日 {}", m(month), reported_on.label_zh(), deadline.label_zh()),
                    (false, false) => format!("{unit}'s return for {month} is dated {reported_on}, after the deadline {deadline}"),
                    (false, true) => format!("{unit}'s return for {month} has no date and was received on {reported_on}, after the deadline {deadline}"),
                },
                None,
            ),
            Detail::MissingRow { unit, parent, month, across } => {
                let (line, zh) = row_or_column(*across);
                (
                    pick(
                        format!("{parent}{}的报表中没有“{unit}”这一{zh}", m(month)),
                        format!("{unit} has no {line} in {parent}'s return for {month}"),
                    ),
                    Some(pick(
                        format!("请补上该单位的{zh}；确实没有数字的，也请保留该{zh}并留空"),
                        format!("add the unit's {line}, with its figures or left empty if it truly reported nothing"),
                    )),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Finding, Rule};

    fn label(zh: &str, en: &str) -> Label {
        Label {
            zh: zh.into(),
            en: en.into(),
        }
    }

    #[test]
    fn a_figure_in_a_message_is_written_as_a_person_reads_it() {
        assert_eq!(num(1e308), "1e308");
        assert_eq!(num(-1e308), "-1e308");
        assert_eq!(num(5e-324), "5e-324", "a denormal is not 0");
        assert_eq!(num(0.001), "0.001");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(140.333), "140.33");
        assert_eq!(num(1234.0), "1234");
        assert_eq!(exact(95.21), "95.21");
        assert_eq!(exact(1e308), "1e308");
        let msg = BadCell::Fraction(5e-324)
            .what(&label("签约人数", "people signed"))
            .0;
        assert_eq!(msg, "“签约人数”为 5e-324，人数应为整数");
        let msg = BadCell::ImplausibleText("12345678901234567890".into())
            .what(&label("签约人数", "people signed"))
            .0;
        assert!(msg.contains("“12345678901234567890”"), "{msg}");
    }

    #[test]
    fn text_from_a_file_cannot_drive_the_terminal() {
        assert_eq!(terminal_text("城东街道.xlsx"), "城东街道.xlsx");
        assert_eq!(terminal_text("a\n错误[x] b"), "a\\n错误[x] b");
        assert_eq!(terminal_text("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(terminal_text("\r\t"), "\\r\\t");
    }

    #[test]
    fn a_limit_passed_says_which_and_by_how_much() {
        let f = Unreadable::OverLimit {
            limit: Limit::PartBytes,
            part: Some("xl/worksheets/sheet1.xml".into()),
            found: 3 << 30,
            max: 32 << 20,
        };
        let (zh, help) = f.render(Lang::Zh);
        assert_eq!(
            zh,
            "工作簿中的 xl/worksheets/sheet1.xml 解压后的大小为 3.0 GB，超过上限 32 MB（是上限的 96 倍），其中的数字均未计入"
        );
        assert!(help.is_some());
        let (en, _) = f.render(Lang::En);
        assert!(
            en.contains("3.0 GB, past the limit of 32 MB (96 times the limit)"),
            "{en}"
        );
        let cells = Unreadable::OverLimit {
            limit: Limit::SheetCells,
            part: None,
            found: 250_001,
            max: 250_000,
        };
        assert!(cells
            .render(Lang::Zh)
            .0
            .starts_with("工作表有内容的单元格数超过上限 250000 个（读到第 250001 个时停止）"));
    }

    /// Three or more English words in a row: a sentence left untranslated.
    fn english_run(text: &str) -> Option<String> {
        let mut run: Vec<&str> = Vec::new();
        for w in text.split(|c: char| !(c.is_ascii_alphabetic() || c == '\'')) {
            if w.len() >= 2 {
                run.push(w);
                if run.len() >= 3 {
                    return Some(run.join(" "));
                }
            } else if !w.is_empty() || run.is_empty() {
                run.clear();
            }
        }
        None
    }

    #[test]
    fn every_rule_speaks_both_languages_with_its_values() {
        let jan = Month::new(2026, 1).unwrap();
        let feb = Month::new(2026, 2).unwrap();
        let due = label("乙肝疫苗第1剂 应种人数", "HepB dose 1 due");
        let given = label("乙肝疫苗第1剂 实种人数", "HepB dose 1 vaccinated");
        let form = label(
            "免疫规划疫苗常规接种情况月报表",
            "Routine immunisation monthly return",
        );
        let cases: Vec<(Rule, Detail, Vec<&str>, Vec<&str>)> = vec![
            (
                Rule::UnreadableFile,
                Detail::Unreadable(Unreadable::Encrypted),
                vec!["密码"],
                vec!["password"],
            ),
            (
                Rule::UnreadableFile,
                Detail::Unreadable(Unreadable::TooLarge {
                    from: CellRef { row: 0, col: 0 },
                    to: CellRef {
                        row: 1_048_575,
                        col: 16_383,
                    },
                    area: 17_179_869_184,
                }),
                vec!["A1", "XFD1048576", "17179869184"],
                vec!["A1", "XFD1048576", "17179869184"],
            ),
            (
                Rule::NoReturnFound,
                Detail::NoHeader,
                vec!["表头"],
                vec!["header"],
            ),
            (
                Rule::MissingColumn,
                Detail::MissingColumn {
                    label: due.clone(),
                    rows: (3, 4),
                    listed: false,
                },
                vec!["乙肝疫苗第1剂 应种人数", "3–4"],
                vec!["HepB dose 1 due", "3–4"],
            ),
            (
                Rule::UnknownColumn,
                Detail::BlocksNotRead {
                    labels: vec!["女 乙肝疫苗第1剂 应种人数".into()],
                    rows: (3, 5),
                },
                vec!["第 3–5 行", "女 乙肝疫苗第1剂 应种人数", "未计入"],
                vec!["rows 3–5", "not counted"],
            ),
            (
                Rule::UnknownColumn,
                Detail::UnknownColumns {
                    names: vec!["备注".into()],
                    unlabelled: vec![("K".into(), 2)],
                    again: vec!["卡介苗 应种人数".into()],
                    other_period: vec!["本年累计 乙肝疫苗第1剂 应种人数".into()],
                },
                vec![
                    "备注",
                    "K 列（2 个数）",
                    "卡介苗 应种人数",
                    "本年累计 乙肝疫苗第1剂 应种人数",
                    "累计",
                ],
                vec!["备注", "K (2 value(s))", "卡介苗 应种人数", "year-to-date"],
            ),
            (
                Rule::PeriodConflict,
                Detail::PeriodConflict {
                    first: (MonthSource::Sheet("2026年2月".into()), feb),
                    second: (MonthSource::FileName("城东街道_202601.xlsx".into()), jan),
                },
                vec!["2026年2月", "城东街道_202601.xlsx", "2026年1月"],
                vec!["2026-02", "城东街道_202601.xlsx", "2026-01"],
            ),
            (
                Rule::PeriodMissing,
                Detail::PeriodMissing,
                vec!["报告期"],
                vec!["no period"],
            ),
            (
                Rule::NoReturnFound,
                Detail::TextOnlySheet,
                vec!["只有文字", "封面"],
                vec!["text only", "a cover"],
            ),
            (
                Rule::PeriodMissing,
                Detail::PeriodNotAMonth("2026年第一季度".into()),
                vec!["2026年第一季度", "不是某一个月份"],
                vec!["2026年第一季度", "is not a month"],
            ),
            (
                Rule::UnknownUnit,
                Detail::UnknownRow {
                    name: "东们社区".into(),
                    parent: "城东街道".into(),
                    suggestion: Some("东门社区".into()),
                    elsewhere: None,
                    across: false,
                },
                vec!["东们社区", "城东街道", "是否应为“东门社区”？"],
                vec!["东们社区", "城东街道", "did you mean 东门社区?"],
            ),
            (
                Rule::UnknownUnit,
                Detail::ReporterAssumed {
                    text: "原城东街道东片区".into(),
                    unit: "城东街道".into(),
                    code: "439902001000".into(),
                },
                vec!["原城东街道东片区", "城东街道", "439902001000"],
                vec!["原城东街道东片区", "城东街道", "439902001000"],
            ),
            (
                Rule::DuplicateRow,
                Detail::RowTwice {
                    name: "新村".into(),
                    first_row: 7,
                    across: false,
                },
                vec!["新村", "第 7 行"],
                vec!["新村", "row 7"],
            ),
            (
                Rule::DuplicateRow,
                Detail::RowTwice {
                    name: "新村".into(),
                    first_row: 3,
                    across: true,
                },
                vec!["新村", "C 列", "此列"],
                vec!["新村", "column C"],
            ),
            (
                Rule::DuplicateReturn,
                Detail::DuplicateReturn {
                    unit: "城东街道".into(),
                    month: jan,
                    places: vec!["a.xlsx!免疫".into(), "b.xlsx!免疫".into()],
                },
                vec![
                    "城东街道",
                    "2026年1月",
                    "2 份",
                    "a.xlsx!免疫",
                    "b.xlsx!免疫",
                ],
                vec![
                    "城东街道",
                    "2026-01",
                    "2 returns",
                    "a.xlsx!免疫",
                    "b.xlsx!免疫",
                ],
            ),
            (
                Rule::Correction,
                Detail::Correction {
                    unit: "城东街道".into(),
                    month: jan,
                    winner: "b_更正.xlsx!免疫".into(),
                    replaced: "a.xlsx!免疫".into(),
                },
                vec!["b_更正.xlsx!免疫", "a.xlsx!免疫"],
                vec!["b_更正.xlsx!免疫", "a.xlsx!免疫"],
            ),
            (
                Rule::IdenticalCopy,
                Detail::IdenticalCopy {
                    unit: "城东街道".into(),
                    month: jan,
                    copy: "a(1).xlsx!免疫".into(),
                    first: "a.xlsx!免疫".into(),
                },
                vec!["a(1).xlsx!免疫", "a.xlsx!免疫", "只计一次"],
                vec!["a(1).xlsx!免疫", "a.xlsx!免疫", "counted once"],
            ),
            (
                Rule::NotANumber,
                Detail::BadCell {
                    label: due.clone(),
                    why: BadCell::NotNumber("约30".into()),
                    rate: false,
                },
                vec!["约30", "乙肝疫苗第1剂 应种人数"],
                vec!["约30", "HepB dose 1 due"],
            ),
            (
                Rule::Negative,
                Detail::BadCell {
                    label: given.clone(),
                    why: BadCell::Negative(-3.0),
                    rate: false,
                },
                vec!["-3"],
                vec!["-3"],
            ),
            (
                Rule::NotWhole,
                Detail::BadCell {
                    label: due.clone(),
                    why: BadCell::Fraction(12.5),
                    rate: false,
                },
                vec!["12.5"],
                vec!["12.5"],
            ),
            (
                Rule::TotalMismatch,
                Detail::TotalMismatch {
                    label: due.clone(),
                    total: 231.0,
                    sum: 224.0,
                    range: "D9:D15".into(),
                    rows: Some(Level::Village),
                    text: None,
                },
                vec![
                    "合计行“乙肝疫苗第1剂 应种人数”为 231，各村之和为 224，相差 7；请核对 D9:D15。",
                ],
                vec!["231", "224", "7", "D9:D15"],
            ),
            (
                Rule::TotalMismatch,
                Detail::TotalWithoutRows {
                    rows: Some(Level::Village),
                },
                vec!["只有合计行", "各村（社区）", "未计入"],
                vec!["only the 合计 row", "village", "not counted"],
            ),
            (
                Rule::RateMismatch,
                Detail::RateMismatch {
                    label: label("接种率(%)", "coverage (%)"),
                    reported: 95.0,
                    expected: 93.24,
                    total_row: false,
                },
                vec!["95", "93.2", "相差 1.8 个百分点"],
                vec!["95", "93.2", "1.8 percentage points"],
            ),
            (
                Rule::GivenExceedsDue,
                Detail::Exceeds {
                    left: given.clone(),
                    l: 12.0,
                    right: due.clone(),
                    r: 10.0,
                    total_row: false,
                    catch_up: true,
                },
                vec!["12", "10", "补种"],
                vec!["12", "10", "catch-up"],
            ),
            (
                Rule::ExceedsDenominator,
                Detail::Exceeds {
                    left: label("签约人数", "signed"),
                    l: 1200.0,
                    right: label("常住人口数", "resident population"),
                    r: 1100.0,
                    total_row: true,
                    catch_up: false,
                },
                vec!["合计行", "签约人数", "1200", "常住人口数", "1100"],
                vec!["合计 row", "signed", "1200", "resident population", "1100"],
            ),
            (
                Rule::MissingReturn,
                Detail::MissingReturn {
                    unit: "西山镇".into(),
                    level: Level::Township,
                    form: form.clone(),
                    month: jan,
                },
                vec!["西山镇", "2026年1月", "免疫规划疫苗常规接种情况月报表"],
                vec!["西山镇", "2026-01", "Routine immunisation monthly return"],
            ),
            (
                Rule::MissingReturn,
                Detail::MissingRow {
                    unit: "红旗村".into(),
                    parent: "新民镇".into(),
                    month: jan,
                    across: false,
                },
                vec!["红旗村", "新民镇"],
                vec!["红旗村", "新民镇"],
            ),
            (
                Rule::StockDrop,
                Detail::StockDrop {
                    label: label("常住人口数", "resident population"),
                    unit: "东门社区".into(),
                    pct: 34.375,
                    prev: 3200.0,
                    prev_month: jan,
                    value: 2100.0,
                    month: feb,
                },
                vec![
                    "东门社区",
                    "3200",
                    "2100",
                    "34.4%",
                    "2026年1月",
                    "2026年2月",
                ],
                vec!["东门社区", "3200", "2100", "34.4%", "2026-01", "2026-02"],
            ),
            (
                Rule::Outlier,
                Detail::Outlier {
                    label: label("本月随访人次", "follow-up visits this month"),
                    unit: "东门社区".into(),
                    value: 310.0,
                    month: feb,
                    median: 29.5,
                    n: 4,
                },
                vec!["310", "29.5", "4 个月"],
                vec!["310", "29.5", "4 prior months"],
            ),
            (
                Rule::EmptyReturn,
                Detail::EmptyReturn {
                    unit: "城东街道".into(),
                    month: jan,
                },
                vec!["城东街道", "2026年1月", "没有填写任何数字", "空白模板"],
                vec!["城东街道", "2026-01", "not one figure", "blank template"],
            ),
            (
                Rule::MissingColumn,
                Detail::MissingGroups {
                    groups: vec![
                        label("乙脑减毒活疫苗第1剂", "JE live dose 1"),
                        label("A群流脑多糖疫苗第1剂", "MenA dose 1"),
                    ],
                    rows: (3, 4),
                    listed: false,
                },
                vec![
                    "第 3–4 行",
                    "乙脑减毒活疫苗第1剂、A群流脑多糖疫苗第1剂",
                    "未报告",
                    "旧版",
                ],
                vec![
                    "rows 3–4",
                    "JE live dose 1, MenA dose 1",
                    "not reported",
                    "older template",
                ],
            ),
            (
                Rule::MissingColumn,
                Detail::MissingGroups {
                    groups: vec![label("乙脑减毒活疫苗第1剂", "JE live dose 1")],
                    rows: (3, 3),
                    listed: true,
                },
                vec!["本表没有以下项目", "乙脑减毒活疫苗第1剂", "未报告"],
                vec!["lists none of", "JE live dose 1", "not reported"],
            ),
            (
                Rule::MissingColumn,
                Detail::MissingRate {
                    label: due.clone(),
                    rows: (3, 4),
                    listed: false,
                },
                vec!["乙肝疫苗第1剂 应种人数", "3–4", "重新计算"],
                vec!["HepB dose 1 due", "3–4", "recomputed"],
            ),
            (
                Rule::MissingColumn,
                Detail::MissingColumn {
                    label: due.clone(),
                    rows: (3, 3),
                    listed: true,
                },
                vec!["本表没有“乙肝疫苗第1剂 应种人数”这一项"],
                vec!["does not list HepB dose 1 due"],
            ),
            (
                Rule::DoseSequence,
                Detail::DoseSequence {
                    unit: "南城镇".into(),
                    period: Label {
                        zh: "2026年1—5月".into(),
                        en: "2026-01..2026-05".into(),
                    },
                    earlier: (410.0, label("百白破第1剂 实种人数", "DTaP dose 1 given")),
                    later: (482.0, label("百白破第3剂 实种人数", "DTaP dose 3 given")),
                },
                vec!["南城镇", "2026年1—5月", "410", "482", "剂次"],
                vec!["482", "410", "wrong dose"],
            ),
            (
                Rule::YtdDecrease,
                Detail::YtdDecrease {
                    label: label("高血压 已管理人数", "hypertension managed"),
                    unit: "东门社区".into(),
                    prev: 412.0,
                    prev_month: jan,
                    value: 398.0,
                    month: feb,
                },
                vec!["东门社区", "412", "398", "2026年2月", "只增不减"],
                vec!["412", "398", "2026-02", "only grows"],
            ),
            (
                Rule::DropoutNegative,
                Detail::DropoutNegative {
                    unit: "南城镇".into(),
                    period: Label {
                        zh: "2026年第二季度".into(),
                        en: "2026Q2".into(),
                    },
                    label: Label {
                        zh: "百白破1-3剂脱落率(%)".into(),
                        en: "DTaP 1–3 dropout (%)".into(),
                    },
                    first: (
                        120.0,
                        Label {
                            zh: "百白破第1剂 实种人数".into(),
                            en: "DTaP dose 1 given".into(),
                        },
                    ),
                    later: (
                        209.0,
                        Label {
                            zh: "百白破第3剂 实种人数".into(),
                            en: "DTaP dose 3 given".into(),
                        },
                    ),
                    rate: -74.16,
                },
                vec!["南城镇", "2026年第二季度", "120", "209", "-74.2%", "剂次"],
                vec!["2026Q2", "120", "209", "-74.2 %", "wrong dose"],
            ),
            (
                Rule::LateReturn,
                Detail::LateReturn {
                    unit: "城东街道".into(),
                    month: jan,
                    reported_on: Day::new(2026, 2, 9).unwrap(),
                    deadline: Day::deadline(jan, 5),
                    by_receipt: false,
                },
                vec!["2026年2月9日", "2026年2月5日"],
                vec!["2026-02-09", "2026-02-05"],
            ),
            (
                Rule::TotalMismatch,
                Detail::PartsMismatch {
                    label: due.clone(),
                    total: 36.0,
                    local: ("免疫".into(), CellRef { row: 7, col: 2 }, 30.0),
                    floating: ("免疫".into(), CellRef { row: 8, col: 2 }, 5.0),
                    rows: true,
                },
                vec!["合计行为 36", "本地行 30（C8）", "流动行 5（C9）", "相差 1"],
                vec![
                    "36 on the total row",
                    "30 on the local row (C8)",
                    "5 on the floating row (C9)",
                ],
            ),
            (
                Rule::NoReturnFound,
                Detail::HiddenSheet,
                vec!["隐藏", "未读取"],
                vec!["hidden", "not read"],
            ),
            (
                Rule::PeriodMissing,
                Detail::PeriodYearAssumed {
                    text: "12月".into(),
                    reported: Day::new(2027, 1, 4).unwrap(),
                    month: Month::new(2026, 12).unwrap(),
                    sheet_name: false,
                },
                vec!["“12月”", "未写年份", "2027年1月4日", "2026年12月"],
                vec!["`12月`", "no year", "2027-01-04", "2026-12"],
            ),
            (
                Rule::PeriodMissing,
                Detail::PeriodYearAssumed {
                    text: "二月".into(),
                    reported: Day::new(2026, 3, 4).unwrap(),
                    month: Month::new(2026, 2).unwrap(),
                    sheet_name: true,
                },
                vec!["工作表名“二月”", "2026年3月4日", "2026年2月"],
                vec!["sheet's name `二月`", "2026-03-04", "2026-02"],
            ),
            (
                Rule::UnknownUnit,
                Detail::AmbiguousRow {
                    name: "新村".into(),
                    parent: "东湖区".into(),
                    places: vec!["城东街道".into(), "新民镇".into()],
                    across: false,
                },
                vec![
                    "2 个“新村”",
                    "城东街道、新民镇",
                    "城东街道新村",
                    "城东街道小计",
                ],
                vec![
                    "2 units named 新村",
                    "城东街道, 新民镇",
                    "城东街道新村",
                    "城东街道小计",
                ],
            ),
            (
                Rule::UnknownUnit,
                Detail::RowAssumed {
                    name: "新村".into(),
                    parent: "东湖区".into(),
                    several: 2,
                    township: "新民镇".into(),
                    code: "439902101201".into(),
                    across: false,
                },
                vec!["2 个“新村”", "新民镇", "439902101201", "相邻"],
                vec![
                    "2 units named 新村",
                    "新民镇",
                    "439902101201",
                    "neighbouring",
                ],
            ),
            (
                Rule::UnknownUnit,
                Detail::RowAssumed {
                    name: "新村".into(),
                    parent: "东湖区".into(),
                    several: 2,
                    township: "新民镇".into(),
                    code: "439902101201".into(),
                    across: true,
                },
                vec!["2 个“新村”", "按左右相邻的列", "439902101201"],
                vec!["2 units named 新村", "neighbouring columns", "439902101201"],
            ),
            (
                Rule::UnknownUnit,
                Detail::AmbiguousRow {
                    name: "新村".into(),
                    parent: "东湖区".into(),
                    places: vec!["城东街道".into(), "新民镇".into()],
                    across: true,
                },
                vec![
                    "无法确定此列是哪一个，此列未计入汇总",
                    "之后加一列“城东街道小计”",
                ],
                vec!["which one this column is", "“城东街道小计” column"],
            ),
            (
                Rule::DuplicateReturn,
                Detail::RowListedBelow {
                    unit: "东门社区".into(),
                    form: form.clone(),
                    month: jan,
                    detail: "城东街道.xlsx!家医".into(),
                },
                vec!["东门社区", "2026年1月", "城东街道.xlsx!家医", "本行不计入"],
                vec![
                    "东门社区",
                    "2026-01",
                    "城东街道.xlsx!家医",
                    "this row is not",
                ],
            ),
        ];
        for rule in Rule::ALL {
            assert!(cases.iter().any(|c| c.0 == *rule), "no case for {rule}");
        }
        for (rule, detail, zh, en) in &cases {
            let f = crate::findings::Finding::new(*rule, detail.clone());
            for (lang, values) in [(Lang::Zh, zh), (Lang::En, en)] {
                let text = f.message_with_help(lang);
                for v in values {
                    assert!(text.contains(v), "{rule} {lang:?}: `{v}` not in {text}");
                }
            }
            // No word said twice running ("sent no … monthly return return").
            let en_text = f.message_with_help(Lang::En);
            let words: Vec<String> = en_text
                .split_whitespace()
                .map(|w| {
                    w.trim_matches(|c: char| !c.is_alphanumeric())
                        .to_lowercase()
                })
                .collect();
            assert!(
                !words.windows(2).any(|w| !w[0].is_empty() && w[0] == w[1]),
                "{rule}: {en_text}"
            );
            let zh_text = f.message_with_help(Lang::Zh);
            assert_eq!(english_run(&zh_text), None, "{rule}: {zh_text}");
            assert!(zh_text
                .chars()
                .any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)));
        }
    }

    #[test]
    fn figures_in_messages_read_as_written() {
        assert_eq!(num(231.0), "231");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(93.2449), "93.24");
        assert_eq!(english_run("请核对 D9:D15。"), None);
        assert!(english_run("the figure is not counted").is_some());
    }

    #[test]
    fn a_file_not_read_says_why_and_reads_back_as_an_older_store_kept_it() {
        let gone = std::io::Error::from(std::io::ErrorKind::NotFound);
        let why = io_reason(&gone, Access::Read);
        let f = Finding::new(
            Rule::UnreadableFile,
            Detail::Unreadable(Unreadable::Io(why)),
        )
        .file("新民镇.xlsx");
        assert!(
            f.message(Lang::Zh)
                .contains("无法从磁盘读取文件：文件不存在"),
            "{}",
            f.message(Lang::Zh)
        );
        let json = serde_json::to_string(&f).unwrap();
        let back: Finding = serde_json::from_str(&json).unwrap();
        assert_eq!(back.message(Lang::Zh), f.message(Lang::Zh));
        // A store written before the reason had its Chinese holds the
        // system's words alone: read back, not dropped.
        let older = json.replace(
            r#"{"zh":"文件不存在","en":"the file does not exist"}"#,
            r#""No such file or directory (os error 2)""#,
        );
        assert_ne!(older, json);
        let back: Finding = serde_json::from_str(&older).unwrap();
        let zh = back.message(Lang::Zh);
        assert!(
            zh.contains("无法从磁盘读取文件") && !zh.contains("os error"),
            "{zh}"
        );
        assert!(back
            .message(Lang::En)
            .contains("No such file or directory (os error 2)"));
        // The same refusal means another thing to a file being written.
        assert_eq!(io_reason(&gone, Access::Write).zh, "所在的文件夹不存在");
        assert_eq!(io_reason(&gone, Access::Any).zh, "找不到该文件或文件夹");
    }
}
