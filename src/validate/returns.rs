//! Which returns count, and who has not reported: corrections (更正)
//! replace earlier returns, unmarked duplicates count for nothing, and every
//! unit the registry expects is looked for (上报率).

use std::collections::{BTreeMap, HashSet};

use super::RowIndex;
use crate::findings::{Finding, Rule};
use crate::observation::{Batch, ReturnStatus};
use crate::period::Month;
use crate::registry::{Level, Registry, UnitIdx};
use crate::schema::{FormIdx, Schemas};

/// Reporting completeness for one form, month and level.
#[derive(Debug, Clone, PartialEq)]
pub struct Completeness {
    /// Form.
    pub form: FormIdx,
    /// Month.
    pub month: Month,
    /// Level of the units counted.
    pub level: Level,
    /// Units the registry expects.
    pub expected: usize,
    /// Units that reported.
    pub reported: usize,
    /// Units that did not.
    pub missing: Vec<UnitIdx>,
}

/// Settles returns for the same unit, form and month: a 更正 return
/// replaces the others (the last 更正 in input order wins; the rest are kept
/// as superseded); without a 更正, none of them counts.
#[must_use]
pub fn settle_duplicates(
    batch: &mut Batch,
    registry: &Registry,
    schemas: &Schemas,
) -> Vec<Finding> {
    let mut groups: BTreeMap<(UnitIdx, FormIdx, Month), Vec<usize>> = BTreeMap::new();
    for (i, r) in batch.returns.iter().enumerate() {
        groups.entry((r.unit, r.form, r.month)).or_default().push(i);
    }
    let mut findings = Vec::new();
    for ((unit, form, month), idxs) in groups {
        if idxs.len() < 2 {
            continue;
        }
        let unit = registry.unit(unit);
        let form_id = &schemas.form(form).id;
        let places: Vec<String> = batch
            .returns
            .iter()
            .map(|r| format!("{}!{}", batch.files[r.file as usize], r.sheet))
            .collect();
        let place = |i: usize| places[i].clone();
        let winner = idxs
            .iter()
            .rev()
            .find(|&&i| batch.returns[i].correction)
            .copied();
        match winner {
            Some(w) => {
                for &i in &idxs {
                    if i != w {
                        batch.returns[i].status = ReturnStatus::Superseded;
                        findings.push(
                            Finding::new(
                                Rule::Correction,
                                format!("{} {month}: the 更正 return {} replaces {}, which is kept for audit but not counted", unit.name, place(w), place(i)),
                            )
                            .file(&batch.files[batch.returns[w].file as usize])
                            .sheet(&batch.returns[w].sheet)
                            .form(form_id)
                            .period(month)
                            .unit(unit.code.0),
                        );
                    }
                }
            }
            None => {
                let all: Vec<String> = idxs.iter().map(|&i| place(i)).collect();
                for &i in &idxs {
                    batch.returns[i].status = ReturnStatus::Duplicate;
                }
                for &i in &idxs[1..] {
                    findings.push(
                        Finding::new(
                            Rule::DuplicateReturn,
                            format!("{} sent {} returns for {month}: {}; none is counted", unit.name, idxs.len(), all.join(", ")),
                        )
                        .file(&batch.files[batch.returns[i].file as usize])
                        .sheet(&batch.returns[i].sheet)
                        .form(form_id)
                        .period(month)
                        .unit(unit.code.0)
                        .help("remove the wrong one, or mark the newer one 更正 in its title or file name"),
                    );
                }
            }
        }
    }
    findings
}

/// Who was expected and did not report, per form and month: reporting
/// units at the levels that sent returns, and child rows missing from a return.
#[must_use]
pub fn completeness(
    batch: &Batch,
    rows: &RowIndex,
    registry: &Registry,
    schemas: &Schemas,
) -> (Vec<Finding>, Vec<Completeness>) {
    let counted: Vec<usize> = (0..batch.returns.len())
        .filter(|&i| batch.returns[i].status == ReturnStatus::Active)
        .collect();
    let reporter_levels: HashSet<Level> = batch
        .returns
        .iter()
        .map(|r| registry.unit(r.unit).level)
        .collect();
    let mut form_months: BTreeMap<(FormIdx, Month), Vec<usize>> = BTreeMap::new();
    for r in &batch.returns {
        form_months.entry((r.form, r.month)).or_default();
    }
    for &i in &counted {
        let r = &batch.returns[i];
        form_months.entry((r.form, r.month)).or_default().push(i);
    }
    let mut rows_by_ret: BTreeMap<u32, HashSet<UnitIdx>> = BTreeMap::new();
    for span in &rows.rows {
        rows_by_ret.entry(span.ret).or_default().insert(span.unit);
    }
    let mut findings = Vec::new();
    let mut table = Vec::new();
    for ((form, month), rets) in form_months {
        let form_id = &schemas.form(form).id;
        let reported: HashSet<UnitIdx> = rets.iter().map(|&i| batch.returns[i].unit).collect();
        for level in Level::ALL {
            if !reporter_levels.contains(&level) {
                continue;
            }
            let expected: Vec<UnitIdx> = (0..registry.units.len() as UnitIdx)
                .filter(|&u| {
                    registry.unit(u).level == level && !registry.unit(u).children.is_empty()
                })
                .collect();
            let missing: Vec<UnitIdx> = expected
                .iter()
                .copied()
                .filter(|u| !reported.contains(u))
                .collect();
            for &u in &missing {
                let unit = registry.unit(u);
                findings.push(
                    Finding::new(
                        Rule::MissingReturn,
                        format!(
                            "{} ({}) sent no {} return for {month}",
                            unit.name,
                            level.zh(),
                            schemas.form(form).title
                        ),
                    )
                    .form(form_id)
                    .period(month)
                    .unit(unit.code.0),
                );
            }
            table.push(Completeness {
                form,
                month,
                level,
                expected: expected.len(),
                reported: expected.len() - missing.len(),
                missing,
            });
        }
        // One level down: the rows each counted return should have.
        let mut child_expected = 0;
        let mut child_missing = Vec::new();
        let mut child_level = None;
        for &i in &rets {
            let r = &batch.returns[i];
            let present = rows_by_ret.get(&(i as u32));
            for &c in &registry.unit(r.unit).children {
                child_expected += 1;
                child_level = Some(registry.unit(c).level);
                if present.is_none_or(|p| !p.contains(&c)) {
                    child_missing.push(c);
                    let unit = registry.unit(c);
                    findings.push(
                        Finding::new(
                            Rule::MissingReturn,
                            format!("{} has no row in {}'s return for {month}", unit.name, registry.unit(r.unit).name),
                        )
                        .file(&batch.files[r.file as usize])
                        .sheet(&r.sheet)
                        .form(form_id)
                        .period(month)
                        .unit(unit.code.0)
                        .help("add the unit's row, with its figures or left empty if it truly reported nothing"),
                    );
                }
            }
        }
        if let Some(level) = child_level {
            table.push(Completeness {
                form,
                month,
                level,
                expected: child_expected,
                reported: child_expected - child_missing.len(),
                missing: child_missing,
            });
        }
    }
    (findings, table)
}
