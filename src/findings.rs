//! What is wrong with the data, as plain data: the rules of FORMS.md §4 with
//! their stable ids and severities, and the findings that name file, sheet
//! and cell. A finding never stops a batch; it is pushed and the run goes on.

use std::fmt;

use serde::{Deserialize, Serialize};

#[cfg(test)]
use crate::message::Label;
use crate::message::{Detail, Lang};
use crate::period::Period;
use crate::registry::UnitCode;
use crate::schema::{FieldId, FormId};

/// How serious a finding is. Any `Error` makes the run exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The figure is wrong or unusable; the statistician must act.
    Error,
    /// Suspicious; worth a look before forwarding.
    Warning,
    /// For the record.
    Info,
}

impl Severity {
    /// The id used in `findings.csv`.
    #[must_use]
    pub fn id(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// The word a Chinese report uses (错误 / 警告 / 提示).
    #[must_use]
    pub fn zh(self) -> &'static str {
        match self {
            Severity::Error => "错误",
            Severity::Warning => "警告",
            Severity::Info => "提示",
        }
    }
}

macro_rules! rules {
    ($( $(#[doc = $doc:literal])* $variant:ident = $id:literal, $zh:literal, $sev:ident, ($what:literal, $why:literal, $example:literal); )*) => {
        /// The rules of FORMS.md §4. Ids are stable: tests and exports match on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Rule {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Rule {
            /// Every rule, in the order of FORMS.md §4.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The stable id (`total_mismatch`).
            #[must_use]
            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            /// The severity FORMS.md assigns.
            #[must_use]
            pub fn severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$sev,)* }
            }

            /// The rule's documentation: what it does, why it matters, an example.
            #[must_use]
            pub fn doc(self) -> &'static str {
                match self { $(Rule::$variant => concat!($($doc, "\n"),*),)* }
            }

            /// The rule's 中文名 (FORMS.md §4).
            #[must_use]
            pub fn zh(self) -> &'static str {
                match self { $(Rule::$variant => $zh,)* }
            }

            /// The documentation in Chinese: what it does, why, an example.
            #[must_use]
            pub fn doc_zh(self) -> [&'static str; 3] {
                match self { $(Rule::$variant => [$what, $why, $example],)* }
            }
        }
    };
}

rules! {
    /// ## What it does
    /// Reports a file that is not a readable xlsx/xls workbook.
    /// ## Why is this bad?
    /// None of its figures can be counted; the township must resend it.
    /// ## Example
    /// A corrupt zip, an encrypted workbook, an HTML page saved as `.xls`.
    UnreadableFile = "unreadable_file", "文件无法读取", Error, ("报告不能读取的 xlsx/xls 文件。", "其中的数字都无法计入，需乡镇重新报送。", "损坏的压缩包、加密的工作簿、另存为 .xls 的网页。");
    /// ## What it does
    /// Reports a workbook or sheet with no recognisable form header.
    /// ## Why is this bad?
    /// A return in an unknown layout would silently be left out.
    /// ## Example
    /// A sheet holding only notes (a stray empty sheet is only info).
    NoReturnFound = "no_return_found", "未找到报表", Warning, ("报告没有可识别报表表头的工作簿或工作表。", "格式不认识的报表会被悄悄漏掉。", "只有说明文字的工作表（空白工作表只作提示）。");
    /// ## What it does
    /// Reports a form's column absent from a return's header.
    /// ## Why is this bad?
    /// That figure is missing for every unit of the return.
    /// ## Example
    /// A vaccination return without the 卡介苗 实种人数 column.
    MissingColumn = "missing_column", "缺少栏目", Error, ("报告表头中缺少的报表栏目。", "本表所有单位的这一数字都缺失。", "免疫报表中没有“卡介苗 实种人数”栏。");
    /// ## What it does
    /// Lists header columns that match no field (once per return).
    /// ## Why is this bad?
    /// Usually harmless (备注); sometimes a misspelt label whose figures are ignored.
    /// ## Example
    /// A 备注 column.
    UnknownColumn = "unknown_column", "未识别栏目", Info, ("列出与任何指标都不对应的表头栏目（每份报表一次）。", "通常无害（备注栏），有时是栏目名称写错，其数字被忽略。", "“备注”栏。");
    /// ## What it does
    /// Reports a return whose 报告期, file name and `--period` disagree.
    /// ## Why is this bad?
    /// Its figures could be counted in the wrong month.
    /// ## Example
    /// 报告期 2026年2月 in a file named `城东街道_202601.xlsx`.
    PeriodConflict = "period_conflict", "报告期不一致", Error, ("报告表中报告期与文件名所示月份不一致的报表。", "数字可能被计入错误的月份。", "文件名为“城东街道_202601.xlsx”，报告期却是 2026年2月。");
    /// ## What it does
    /// Reports a return with no period anywhere.
    /// ## Why is this bad?
    /// Its figures cannot be placed in a month.
    /// ## Example
    /// No 报告期 cell, no month in the file name, no `--period`.
    PeriodMissing = "period_missing", "缺少报告期", Error, ("报告找不到报告期的报表。", "数字无法归入任何月份。", "表中没有报告期，文件名中也没有月份，也未用 --period 指定。");
    /// ## What it does
    /// Reports a row or 填报单位 that is not in the registry under its parent.
    /// ## Why is this bad?
    /// Its figures cannot be placed in the hierarchy.
    /// ## Example
    /// 东门社区 typed as 东们社区 (did you mean 东门社区?).
    UnknownUnit = "unknown_unit", "单位不在名录中", Error, ("报告名录中其上级单位下不存在的行或填报单位。", "其数字无法归入行政层级。", "“东门社区”写成了“东们社区”（是否应为“东门社区”？）。");
    /// ## What it does
    /// Reports the same unit twice in one return.
    /// ## Why is this bad?
    /// It would be counted twice.
    /// ## Example
    /// Two 新村 rows in one township's return.
    DuplicateRow = "duplicate_row", "单位重复填报", Error, ("报告同一份报表中出现两次的单位。", "会被重复计数。", "一个乡镇的报表中有两行“新村”。");
    /// ## What it does
    /// Reports two returns for the same unit, form and month, neither marked 更正.
    /// ## Why is this bad?
    /// Picking one silently could keep the wrong one; neither is counted.
    /// ## Example
    /// The January vaccination return of 城东街道 sent twice with different figures.
    DuplicateReturn = "duplicate_return", "重复报送", Error, ("报告同一单位、同一报表、同一月份的两份数字不同且都未标注更正的报表。", "随意取其一可能取错，因此两份都不计入。", "城东街道 1 月的免疫报表报送了两次，数字不同。");
    /// ## What it does
    /// Notes that a return marked 更正 replaced an earlier one.
    /// ## Why is this bad?
    /// It is not: both are kept in history for audit.
    /// ## Example
    /// `城东街道_202601_更正.xlsx`.
    Correction = "correction", "更正报表", Info, ("提示标注“更正”的报表替代了先前的报表。", "不是问题：两份都保留备查。", "“城东街道_202601_更正.xlsx”。");
    /// ## What it does
    /// Notes the same return received twice: same unit, form and month with
    /// the same figures, under any file name.
    /// ## Why is this bad?
    /// It is not: the copy is counted once. Without this, two copies would be
    /// an unsettled duplicate and the unit would drop out of every total.
    /// ## Example
    /// `城东街道202601.xlsx` and `城东街道202601(1).xlsx`, mailed twice.
    IdenticalCopy = "identical_copy", "重复收到", Info, ("提示同一份报表收到两次（同一单位、报表、月份，数字相同）。", "不是问题：只计一次。若不识别，两份会被当作重复报送，该单位从所有合计中消失。", "“城东街道202601.xlsx”与“城东街道202601(1).xlsx”，邮件发了两次。");
    /// ## What it does
    /// Reports a count cell holding text that is not a number, or an error cell.
    /// ## Why is this bad?
    /// The figure is lost unless the township corrects it.
    /// ## Example
    /// `约30`, `#DIV/0!`, a date in a count column.
    NotANumber = "not_a_number", "非数值", Error, ("报告人数栏中不是数字的文字或错误值。", "该数字丢失，除非乡镇更正。", "“约30”、#DIV/0!、人数栏中的日期。");
    /// ## What it does
    /// Reports a count below zero.
    /// ## Why is this bad?
    /// People cannot be negative.
    /// ## Example
    /// `-3` 实种人数.
    Negative = "negative", "负数", Error, ("报告小于 0 的人数。", "人数不可能为负。", "实种人数填了 -3。");
    /// ## What it does
    /// Reports a count with a fraction.
    /// ## Why is this bad?
    /// People are whole; a fraction is usually a rate typed in the wrong column.
    /// ## Example
    /// `12.5` 应种人数.
    NotWhole = "not_whole", "非整数", Error, ("报告带小数的人数。", "人数是整数；小数通常是把比率填错了栏。", "应种人数填了 12.5。");
    /// ## What it does
    /// Compares the 合计 row with the sum of the unit rows, column by column.
    /// ## Why is this bad?
    /// One of them is wrong, and the county would forward the wrong one.
    /// ## Example
    /// 合计 412, rows sum to 409.
    TotalMismatch = "total_mismatch", "合计不符", Error, ("逐栏比较合计行与各单位行之和。", "两者必有一个错，县里会把错的数字报上去。", "合计 412，各行之和 409。");
    /// ## What it does
    /// Compares a reported rate with the one recomputed from its own row (± 0.1).
    /// ## Why is this bad?
    /// A wrong formula or a typed-over rate.
    /// ## Example
    /// 接种率 95.0 where 实种/应种 gives 93.2.
    RateMismatch = "rate_mismatch", "比率不符", Warning, ("比较填报的比率与按本行分子、分母计算的比率（允许 ±0.1）。", "公式错误或比率被手工改写。", "接种率填 95.0，按实种/应种计算为 93.2。");
    /// ## What it does
    /// Reports `D_given > D_due`.
    /// ## Why is this bad?
    /// Possible (catch-up of floating children) but worth a look.
    /// ## Example
    /// 实种 12, 应种 10.
    GivenExceedsDue = "given_exceeds_due", "实种大于应种", Error, ("报告实种人数大于应种人数。", "查漏补种同时计入应种和实种，实种不会大于应种。", "实种 12，应种 10。");
    /// ## What it does
    /// Reports a return with a header and unit rows but not one figure.
    /// ## Why is this bad?
    /// A blank template sent by mistake is not a report: counted, it would
    /// show the township as reported and make its real return a duplicate.
    /// ## Example
    /// The fill-in template of 城东街道 sent back as it was received.
    EmptyReturn = "empty_return", "空白报表", Warning, ("报告有表头和单位行、却没有一个数字的报表。", "误发的空白模板不算上报：若计入，会把该乡镇算作已报，还会使其真正的报表成为重复报送。", "城东街道把收到的填报模板原样发回。");
    /// ## What it does
    /// Reports, at township level and above, a later dose of a vaccine that
    /// outnumbers an earlier one over the year to date by more than
    /// max(5, 10 %).
    /// ## Why is this bad?
    /// Over a year a township gives more first doses than third: the
    /// reverse is doses counted against the wrong dose, or one left out.
    /// ## Example
    /// 南城镇 2026年1—5月: 百白破第1剂 410, 第3剂 482.
    DoseSequence = "dose_sequence", "剂次倒挂", Warning, ("报告乡镇及以上单位本年累计的后一剂次多于前一剂次、且超出 max(5, 10%) 的情况。", "一年内乡镇的第1剂应多于第3剂：倒挂通常是剂次记错或某一剂次漏报。", "南城镇 2026 年 1—5 月百白破第 1 剂 410 人、第 3 剂 482 人。");
    /// ## What it does
    /// Reports, at township level and above, a dropout below −10 % with more
    /// than 5 children between the doses.
    /// ## Why is this bad?
    /// More third doses than first cannot come from one cohort: doses are
    /// counted against the wrong dose, or a side is incomplete. It is shown,
    /// never ranked.
    /// ## Example
    /// 南城镇 2026年第二季度: 百白破第1剂 120, 第3剂 209, 脱落率 −74.2 %.
    DropoutNegative = "dropout_negative", "脱落率为负", Warning, ("乡镇及以上单位某期的脱落率低于 −10%，且两剂次相差超过 5 人。", "同一批儿童的第3剂不会多于第1剂：剂次记错或某一侧不全。负的脱落率照常显示，但不参加排名。", "南城镇2026年第二季度百白破第1剂120人、第3剂209人，脱落率−74.2%。");
    /// ## What it does
    /// Reports any other `≤` relation of FORMS.md §4 broken.
    /// ## Why is this bad?
    /// A part cannot exceed its whole.
    /// ## Example
    /// 签约人数 1,200 > 常住人口数 1,100.
    ExceedsDenominator = "exceeds_denominator", "分子大于分母", Error, ("报告 FORMS.md §4 中其他“≤”关系被违反。", "部分不能大于整体。", "签约人数 1,200 大于常住人口数 1,100。");
    /// ## What it does
    /// Reports a unit expected by the registry that sent no return (or no row).
    /// ## Why is this bad?
    /// Totals above it are incomplete (上报率 < 100 %).
    /// ## Example
    /// 西山镇 sent no January vaccination return.
    MissingReturn = "missing_return", "未上报", Warning, ("报告名录中应报而未报送报表（或报表中缺少其行）的单位。", "上级合计不完整（上报率低于 100%）。", "西山镇未报送 1 月的免疫报表。");
    /// ## What it does
    /// Reports a year-to-date count (年内累计) that fell from the unit's
    /// previous month of the same year.
    /// ## Why is this bad?
    /// A count from 1 January only grows until the next January: a fall is
    /// a typo, or a month's figure written where the year's belongs.
    /// ## Example
    /// 高血压 已管理人数 412 in May, 398 in June.
    YtdDecrease = "ytd_decrease", "年内累计数减少", Warning, ("报告比本年上月减少的年内累计数。", "年内累计数从 1 月起只增不减，到次年 1 月才重新累计：减少通常是录入错误，或填成了当月数。", "高血压已管理人数 5 月 412、6 月 398。");
    /// ## What it does
    /// Reports a stock that fell more than 10 % from the unit's previous month.
    /// ## Why is this bad?
    /// Stocks (population, signed residents) move slowly: a sudden fall is
    /// usually a typo.
    /// ## Example
    /// 常住人口数 3,200 → 2,100.
    StockDrop = "stock_drop", "存量骤降", Warning, ("报告比上月下降超过 10% 的存量指标。", "存量（人口、签约人数）变化缓慢，骤降通常是录入错误。", "常住人口数由 3,200 降至 2,100。");
    /// ## What it does
    /// Flags a value far outside the unit's own history (modified z-score > 3.5 on ≥ 4 prior months; for a count whose history's median is under 20, a two-sided Poisson probability under 0.001).
    /// ## Why is this bad?
    /// An extra digit or a shifted column.
    /// ## Example
    /// 本月随访人次 30, 28, 31, 29 → 310.
    Outlier = "outlier", "异常值", Warning, ("标出明显偏离本单位历史水平的数字（至少 4 个月历史，修正 z 分数 > 3.5；历史中位数不足 20 的小数字按泊松分布，双侧概率 < 0.001）。", "多打了一位数或填错了栏。", "本月随访人次 30、28、31、29 → 310。");
    /// ## What it does
    /// Notes a return whose 报出日期 is after the deadline (day 5 of the next month by default).
    /// ## Why is this bad?
    /// Late returns hold up the county's and the city's own reports (及时率).
    /// ## Example
    /// The January return dated 2026年2月9日.
    LateReturn = "late_return", "逾期上报", Info, ("提示报出日期晚于截止日（默认次月 5 日）的报表。", "逾期报表会拖延县、市的汇总（及时率）。", "1 月报表的报出日期为 2026年2月9日。");
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The longest text a finding quotes: a cell may hold 32,767 characters,
/// and a message must still fit in one spreadsheet cell and one screen.
pub const MAX_QUOTE: usize = 200;

/// The longest message: anything a cell holds, quoted, stays readable.
pub const MAX_MESSAGE: usize = 1000;

/// `text`, cut to [`MAX_QUOTE`] characters with `…` when longer.
#[must_use]
pub fn clip(text: String) -> String {
    clip_to(text, MAX_QUOTE)
}

fn clip_to(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        text
    } else {
        let mut s: String = text.chars().take(max).collect();
        s.push('…');
        s
    }
}

/// A cell position, 0-based, displayed in A1 style (`D9`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct CellRef {
    /// 0-based row.
    pub row: u32,
    /// 0-based column.
    pub col: u32,
}

impl CellRef {
    /// Column letters for a 0-based column index (`0` → `A`, `26` → `AA`).
    #[must_use]
    pub fn col_name(col: u32) -> String {
        let mut n = col as u64 + 1;
        let mut out = Vec::new();
        while n > 0 {
            let rem = ((n - 1) % 26) as u8;
            out.push(b'A' + rem);
            n = (n - 1) / 26;
        }
        out.reverse();
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Parses `D9` back into a cell reference.
    #[must_use]
    pub fn parse(text: &str) -> Option<CellRef> {
        let split = text.find(|c: char| c.is_ascii_digit())?;
        let (letters, digits) = text.split_at(split);
        if letters.is_empty() || !letters.chars().all(|c| c.is_ascii_uppercase()) {
            return None;
        }
        let mut col: u64 = 0;
        for b in letters.bytes() {
            col = col.checked_mul(26)?.checked_add(u64::from(b - b'A') + 1)?;
        }
        let row: u32 = digits.parse().ok()?;
        Some(CellRef {
            row: row.checked_sub(1)?,
            col: u32::try_from(col - 1).ok()?,
        })
    }
}

impl fmt::Display for CellRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::col_name(self.col), self.row as u64 + 1)
    }
}

/// One problem found in the data, with everything needed to find and fix
/// it: typed data until the edge, where [`Finding::message`] renders it in
/// the reader's language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Which rule.
    pub rule: Rule,
    /// Form id, when known.
    pub form: Option<FormId>,
    /// Period (`2026-01`), when known.
    pub period: Option<Period>,
    /// 12-digit code of the unit concerned, when known.
    pub unit_code: Option<UnitCode>,
    /// File as given on the command line or found under a directory.
    pub file: Option<String>,
    /// Sheet name.
    pub sheet: Option<String>,
    /// The cell FORMS.md §4 says to name.
    pub cell: Option<CellRef>,
    /// Field id.
    pub field: Option<FieldId>,
    /// The value found, as written.
    pub value: Option<String>,
    /// What was found versus what was expected, with the values involved.
    pub detail: Detail,
    /// A severity other than the rule's, where FORMS.md §4 grades a case
    /// lower (a stray empty sheet is only info).
    pub severity_override: Option<Severity>,
    /// Confirmed by a statistician (`phstats confirm`): who, when and why.
    /// A confirmed warning is shown as 已核实 and is not open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed: Option<String>,
}

impl Finding {
    /// A finding with only its rule and what it says; fill the rest with the builders.
    #[must_use]
    pub fn new(rule: Rule, detail: Detail) -> Finding {
        Finding {
            rule,
            form: None,
            period: None,
            unit_code: None,
            file: None,
            sheet: None,
            cell: None,
            field: None,
            value: None,
            detail,
            severity_override: None,
            confirmed: None,
        }
    }

    /// The finding's short stable id (FORMS.md §6, the last column of
    /// `findings.csv`): the same rule on the same unit, form, period, field,
    /// cell and value keeps it from run to run, whatever file it came in, so
    /// a statistician confirms it once; a changed value is a new finding.
    #[must_use]
    pub fn id(&self) -> String {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        for part in [
            self.rule.id(),
            // The number as it is, unpadded, as ids were first made.
            &self.unit_code.map(|c| c.0.to_string()).unwrap_or_default(),
            self.form.as_deref().unwrap_or(""),
            &self.period.map(|p| p.to_string()).unwrap_or_default(),
            self.field.as_deref().unwrap_or(""),
            &self.cell.map(|c| c.to_string()).unwrap_or_default(),
            self.value.as_deref().unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
        // A finding tied to no unit or cell (an unreadable file) is told
        // apart by its file.
        if self.unit_code.is_none() && self.cell.is_none() {
            h.update(self.file.as_deref().unwrap_or("").as_bytes());
        }
        h.finalize()
            .iter()
            .take(5)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether the finding still needs someone: not info, not confirmed.
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.severity() != Severity::Info && self.confirmed.is_none()
    }

    /// Severity of the rule.
    #[must_use]
    pub fn severity(&self) -> Severity {
        self.severity_override.unwrap_or(self.rule.severity())
    }

    /// Grades this finding at least `floor` (a column of figures that
    /// counts nowhere is more than a note).
    #[must_use]
    pub fn at_least(mut self, floor: Severity) -> Finding {
        if self.severity() > floor {
            self.severity_override = Some(floor);
        }
        self
    }

    /// Grades this finding as info only.
    #[must_use]
    pub fn info(mut self) -> Finding {
        self.severity_override = Some(Severity::Info);
        self
    }

    /// Grades this finding no higher than `cap` (a rate cell is only
    /// checked, never counted, so a problem there is at most a warning).
    #[must_use]
    pub fn at_most(mut self, cap: Severity) -> Finding {
        if self.severity() < cap {
            self.severity_override = Some(cap);
        }
        self
    }

    /// Sets the file.
    #[must_use]
    pub fn file(mut self, file: impl Into<String>) -> Finding {
        self.file = Some(file.into());
        self
    }

    /// Sets the sheet.
    #[must_use]
    pub fn sheet(mut self, sheet: impl Into<String>) -> Finding {
        self.sheet = Some(sheet.into());
        self
    }

    /// Sets the cell.
    #[must_use]
    pub fn cell(mut self, cell: CellRef) -> Finding {
        self.cell = Some(cell);
        self
    }

    /// Sets the form id.
    #[must_use]
    pub fn form(mut self, form: &FormId) -> Finding {
        self.form = Some(form.clone());
        self
    }

    /// Sets the period.
    #[must_use]
    pub fn period(mut self, period: impl Into<Period>) -> Finding {
        self.period = Some(period.into());
        self
    }

    /// Sets the unit code.
    #[must_use]
    pub fn unit(mut self, code: impl Into<UnitCode>) -> Finding {
        self.unit_code = Some(code.into());
        self
    }

    /// Sets the field id.
    #[must_use]
    pub fn field(mut self, field: &FieldId) -> Finding {
        self.field = Some(field.clone());
        self
    }

    /// Sets the value as written.
    #[must_use]
    pub fn value(mut self, value: impl Into<String>) -> Finding {
        self.value = Some(clip(value.into()));
        self
    }

    /// What was found, in `lang`, clipped to one readable cell.
    #[must_use]
    pub fn message(&self, lang: Lang) -> String {
        clip_to(self.detail.render(lang).0, MAX_MESSAGE)
    }

    /// The fix, in `lang`, where one is obvious.
    #[must_use]
    pub fn help(&self, lang: Lang) -> Option<String> {
        self.detail.render(lang).1.map(|h| clip_to(h, MAX_MESSAGE))
    }

    /// The message with its fix, for one cell or one CSV field:
    /// `…（建议：…）` / `… (help: …)`.
    #[must_use]
    pub fn message_with_help(&self, lang: Lang) -> String {
        let (text, help) = self.detail.render(lang);
        let text = clip_to(text, MAX_MESSAGE);
        let mut out = match (help, lang) {
            (Some(h), Lang::Zh) => format!("{text}（建议：{}）", clip_to(h, MAX_MESSAGE)),
            (Some(h), Lang::En) => format!("{text} (help: {})", clip_to(h, MAX_MESSAGE)),
            (None, _) => text,
        };
        if let Some(note) = &self.confirmed {
            out.push_str(lang.pick("；", "; "));
            out.push_str(note);
        }
        out
    }

    /// The level as a person reads it: 错误 / error.
    #[must_use]
    pub fn severity_label(&self, lang: Lang) -> &'static str {
        if self.confirmed.is_some() {
            return lang.pick("已核实", "confirmed");
        }
        match lang {
            Lang::Zh => self.severity().zh(),
            Lang::En => self.severity().id(),
        }
    }

    /// The columns `rule` … `value` of `findings.csv` (FORMS.md §6), shared by
    /// the CSV export and the report's 审核结果 sheet; unknown parts are empty.
    #[must_use]
    pub fn export_fields(&self) -> [String; 9] {
        [
            self.rule.id().to_string(),
            self.form.as_deref().unwrap_or_default().to_string(),
            self.period.map(|p| p.to_string()).unwrap_or_default(),
            self.unit_code.map(|c| c.to_string()).unwrap_or_default(),
            self.file.clone().unwrap_or_default(),
            self.sheet.clone().unwrap_or_default(),
            self.cell.map(|c| c.to_string()).unwrap_or_default(),
            self.field.as_deref().unwrap_or_default().to_string(),
            self.value.clone().unwrap_or_default(),
        ]
    }

    /// `城东街道.xlsx!免疫!D9`, or as much of it as is known.
    #[must_use]
    pub fn location(&self) -> String {
        let mut s = self.file.clone().unwrap_or_default();
        if let Some(sheet) = &self.sheet {
            s.push('!');
            s.push_str(sheet);
        }
        if let Some(cell) = self.cell {
            s.push('!');
            s.push_str(&cell.to_string());
        }
        s
    }

    /// As the terminal prints it, like a compiler:
    /// `错误[total_mismatch] 城东街道.xlsx!免疫!D9：…` and the fix below.
    #[must_use]
    /// Text from files and cells is shown with its control characters
    /// escaped, so a file name with a line break cannot forge a finding.
    pub fn render(&self, lang: Lang) -> String {
        use crate::message::terminal_text;
        let loc = self.location();
        let mut out = format!("{}[{}]", self.severity_label(lang), self.rule.id());
        if !loc.is_empty() {
            out.push(' ');
            out.push_str(&terminal_text(&loc));
        }
        out.push_str(lang.pick("：", ": "));
        out.push_str(&terminal_text(&self.message(lang)));
        if let Some(h) = self.help(lang) {
            out.push_str(lang.pick("\n  建议：", "\n  help: "));
            out.push_str(&terminal_text(&h));
        }
        if let Some(note) = &self.confirmed {
            out.push_str("\n  ");
            out.push_str(&terminal_text(note));
        }
        out
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

/// Whether any finding is an error (exit status 1).
#[must_use]
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity() == Severity::Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_kept_as_it_is_written_and_read_back_typed() {
        use crate::period::Month;
        let months = Period::Range(Month::new(2026, 1).unwrap(), Month::new(2026, 6).unwrap());
        for (period, written) in [
            (Period::Month(Month::new(2026, 3).unwrap()), "2026-03"),
            (Period::Quarter(2026, 2), "2026Q2"),
            (Period::Half(2026, 1), "2026H1"),
            (Period::Year(2026), "2026"),
            (months, "2026-01..2026-06"),
        ] {
            let f = Finding::new(
                Rule::MissingReturn,
                Detail::Unreadable(crate::message::Unreadable::Empty),
            )
            .unit(440_101_001_000)
            .period(period);
            let json = serde_json::to_string(&f).unwrap();
            assert!(json.contains(&format!(r#""period":"{written}""#)), "{json}");
            let back: Finding = serde_json::from_str(&json).unwrap();
            assert_eq!(back.period, Some(period));
            assert_eq!(back.id(), f.id());
            assert_eq!(f.export_fields()[2], written);
        }
        // The stable id is made of the period as written, as when findings
        // kept it as text, so a confirmation made before still holds:
        // sha256 of "missing_return␟440101001000␟␟2026-03␟␟␟␟", its first
        // five bytes (worked out apart, with Python's hashlib).
        let march = Finding::new(
            Rule::MissingReturn,
            Detail::Unreadable(crate::message::Unreadable::Empty),
        )
        .unit(440_101_001_000)
        .period(Month::new(2026, 3).unwrap());
        assert_eq!(march.id(), "168e347abc");
        let bad = r#"{"rule":"missing_return","period":"2026-13","detail":null}"#;
        assert!(serde_json::from_str::<Finding>(bad).is_err());
    }

    #[test]
    fn cell_refs_in_a1_style() {
        assert_eq!(CellRef { row: 8, col: 3 }.to_string(), "D9");
        assert_eq!(CellRef { row: 0, col: 25 }.to_string(), "Z1");
        assert_eq!(CellRef { row: 0, col: 26 }.to_string(), "AA1");
        assert_eq!(
            CellRef {
                row: 99,
                col: 16383
            }
            .to_string(),
            "XFD100"
        );
        for (row, col) in [(0, 0), (8, 3), (1_048_575, 16383), (41, 701), (5, 702)] {
            let c = CellRef { row, col };
            assert_eq!(CellRef::parse(&c.to_string()), Some(c));
        }
        assert_eq!(CellRef::parse("9D"), None);
        assert_eq!(CellRef::parse("D0"), None);
    }

    #[test]
    fn rule_ids_and_severities_match_forms_md() {
        let table = [
            ("unreadable_file", "error"),
            ("no_return_found", "warning"),
            ("missing_column", "error"),
            ("unknown_column", "info"),
            ("period_conflict", "error"),
            ("period_missing", "error"),
            ("unknown_unit", "error"),
            ("duplicate_row", "error"),
            ("duplicate_return", "error"),
            ("correction", "info"),
            ("identical_copy", "info"),
            ("not_a_number", "error"),
            ("negative", "error"),
            ("not_whole", "error"),
            ("total_mismatch", "error"),
            ("rate_mismatch", "warning"),
            ("given_exceeds_due", "error"),
            ("empty_return", "warning"),
            ("dose_sequence", "warning"),
            ("dropout_negative", "warning"),
            ("exceeds_denominator", "error"),
            ("missing_return", "warning"),
            ("ytd_decrease", "warning"),
            ("stock_drop", "warning"),
            ("outlier", "warning"),
            ("late_return", "info"),
        ];
        let got: Vec<(&str, &str)> = Rule::ALL
            .iter()
            .map(|r| (r.id(), r.severity().id()))
            .collect();
        assert_eq!(got, table);
        for r in Rule::ALL {
            assert!(r.doc().contains("## Why is this bad?"), "{r}");
        }
    }

    #[test]
    fn rendered_like_cargo_with_help() {
        let f = Finding::new(
            Rule::TotalMismatch,
            Detail::TotalMismatch {
                label: Label {
                    zh: "应种人数".into(),
                    en: "due".into(),
                },
                total: 231.0,
                sum: 224.0,
                range: "D9:D15".into(),
                rows: Some(crate::registry::Level::Village),
                text: None,
            },
        )
        .file("城东街道.xlsx")
        .sheet("免疫")
        .cell(CellRef { row: 8, col: 3 });
        assert_eq!(
            f.render(Lang::Zh),
            "错误[total_mismatch] 城东街道.xlsx!免疫!D9：合计行“应种人数”为 231，各村之和为 224，相差 7；请核对 D9:D15。\n  建议：常见原因是把小计行计入合计，或某一行录入有误"
        );
        assert!(f.render(Lang::En).starts_with(
            "error[total_mismatch] 城东街道.xlsx!免疫!D9: 合计 due = 231, rows sum to 224"
        ));
    }
}
