//! Checks on rolled-up figures (FORMS.md §4), at township level and above:
//! a village's monthly counts are small and different birth cohorts make
//! either order normal, a township's are not.

use crate::aggregate::Aggregates;
use crate::findings::{Finding, Rule};
use crate::message::{Detail, Label};
use crate::period::Period;
use crate::registry::{Level, Registry};
use crate::schema::Schemas;

/// Every check of the rolled-up figures: what the pipeline calls once the
/// roll-up is done.
#[must_use]
pub fn check(aggs: &Aggregates, registry: &Registry, schemas: &Schemas) -> Vec<Finding> {
    let mut out = dropout_negative(aggs, registry, schemas);
    out.extend(dose_sequence(aggs, registry, schemas));
    out
}

/// A period as the messages name it.
fn period_label(p: Period) -> Label {
    Label {
        zh: p.label_zh(),
        en: p.to_string(),
    }
}

/// A dropout below this (percent) is `dropout_negative`…
pub const DROPOUT_FLOOR: f64 = -10.0;
/// …when the later dose also outnumbers the earlier by more than this.
pub const DROPOUT_CHILDREN: f64 = 5.0;

/// `dropout_negative`: each dropout (a rate whose numerator less `minus`
/// is over the numerator, lower being better) below −10 % at a township,
/// county or the city, in any period the run reports, where the later dose
/// outnumbers the earlier by more than 5 children.
#[must_use]
pub fn dropout_negative(aggs: &Aggregates, registry: &Registry, schemas: &Schemas) -> Vec<Finding> {
    let mut out = Vec::new();
    let periods: Vec<Period> = aggs
        .periods
        .iter()
        .filter(|p| !aggs.comparison.contains(p))
        .copied()
        .collect();
    for (fi, form) in schemas.forms.iter().enumerate() {
        let fi = fi as crate::schema::FormIdx;
        for (f, field) in form.fields.iter().enumerate() {
            let Some(ratio) = field.ratio else { continue };
            let Some(minus) = ratio.minus else { continue };
            if !field.lower_is_better || ratio.numerator != ratio.denominator {
                continue;
            }
            for &p in &periods {
                for (u, unit) in registry.units.iter().enumerate() {
                    if unit.level == Level::Village {
                        continue;
                    }
                    let u = u as crate::registry::UnitIdx;
                    let get = |x| aggs.get(p, u, fi, x);
                    let (Some(rate), Some(first), Some(later)) =
                        (get(f as u16), get(ratio.numerator), get(minus))
                    else {
                        continue;
                    };
                    if rate >= DROPOUT_FLOOR || later - first <= DROPOUT_CHILDREN {
                        continue;
                    }
                    let detail = Detail::DropoutNegative {
                        unit: unit.name.clone(),
                        period: period_label(p),
                        label: field.label(),
                        first: (first, form.field(ratio.numerator).label()),
                        later: (later, form.field(minus).label()),
                        rate,
                    };
                    out.push(
                        Finding::new(Rule::DropoutNegative, detail)
                            .form(&form.id)
                            .period(p)
                            .unit(unit.code)
                            .field(&field.id)
                            .value(format!("{rate:.1}")),
                    );
                }
            }
        }
    }
    out
}

/// The margin a later dose may exceed an earlier one by over a year to
/// date: `max(5, 10 %)` of the earlier.
#[must_use]
pub fn sequence_margin(earlier: f64) -> f64 {
    (earlier * 0.1).max(5.0)
}

/// The months a run judges its dose sequences in (`dose_sequence`), of
/// its `periods`: those of its period (`focus`) when it reports one, else
/// every month, in order. The roll-up sums the sequences' years to date
/// for these months only.
///
/// A month read only for the year to date, 累计 or the trend charts is
/// history: judged with them, a violation first seen before the period was
/// named in that month, then left out of the report as another period's,
/// and the report said nothing of it.
#[must_use]
pub fn judged_months(periods: &[Period], focus: Option<Period>) -> Vec<crate::period::Month> {
    let mut months: Vec<crate::period::Month> = periods
        .iter()
        .filter_map(|p| match p {
            Period::Month(m) => Some(*m),
            _ => None,
        })
        .filter(|m| focus.is_none_or(|p| p.contains(*m)))
        .collect();
    months.sort_unstable();
    months.dedup();
    months
}

/// `dose_sequence`: for each pair of doses in order (the schema's
/// `sequences`), at a township, county or the city, the first month the
/// run judges ([`judged_months`], the ones the roll-up summed:
/// [`Aggregates::sequence_months`]) of a year whose year to date has the
/// later dose above the earlier by more than [`sequence_margin`]. Once per unit, pair and year: the months after
/// carry the same sums.
///
/// The year to date of the two doses is the roll-up's
/// ([`Aggregates::sequence_to_date`]): paired at each leaf and month as a
/// rate's sides are (FORMS.md §5), so a village that left one of them empty
/// that month counts on neither side, and a gap in the earlier dose is
/// never read as the later one outnumbering it (a relation with a side not
/// reported is not checked, §4); and summed over every month of the year
/// the run read, whatever period it reports.
#[must_use]
pub fn dose_sequence(aggs: &Aggregates, registry: &Registry, schemas: &Schemas) -> Vec<Finding> {
    let months = &aggs.sequence_months;
    let mut out = Vec::new();
    for (fi, form) in schemas.forms.iter().enumerate() {
        let fi = fi as crate::schema::FormIdx;
        for (k, &(earlier, later)) in form.sequences.iter().enumerate() {
            for (u, unit) in registry.units.iter().enumerate() {
                if unit.level == Level::Village {
                    continue;
                }
                let u = u as crate::registry::UnitIdx;
                let mut said: Option<i32> = None;
                for &m in months {
                    if said == Some(m.year()) {
                        continue;
                    }
                    let Some((e, l)) = aggs.sequence_to_date(m, u, fi, k) else {
                        continue;
                    };
                    if l - e <= sequence_margin(e) {
                        continue;
                    }
                    said = Some(m.year());
                    let Some(jan) = crate::period::Month::new(m.year(), 1) else {
                        continue;
                    };
                    let detail = Detail::DoseSequence {
                        unit: unit.name.clone(),
                        period: period_label(Period::Range(jan, m)),
                        earlier: (e, form.field(earlier).label()),
                        later: (l, form.field(later).label()),
                    };
                    out.push(
                        Finding::new(Rule::DoseSequence, detail)
                            .form(&form.id)
                            .period(m)
                            .unit(unit.code)
                            .field(&form.field(later).id)
                            .value(crate::message::num(l)),
                    );
                }
            }
        }
    }
    out
}
