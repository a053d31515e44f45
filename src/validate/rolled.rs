//! Checks on rolled-up figures (FORMS.md §4), at township level and above:
//! a village's monthly counts are small and different birth cohorts make
//! either order normal, a township's are not.

use crate::aggregate::Aggregates;
use crate::findings::{Finding, Rule};
use crate::message::{Detail, Label};
use crate::period::Period;
use crate::registry::{Level, Registry};
use crate::schema::Schemas;

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
                        period: Label {
                            zh: p.label_zh(),
                            en: p.to_string(),
                        },
                        label: field.label(),
                        first: (first, form.field(ratio.numerator).label()),
                        later: (later, form.field(minus).label()),
                        rate,
                    };
                    out.push(
                        Finding::new(Rule::DropoutNegative, detail)
                            .form(&form.id)
                            .period(p)
                            .unit(unit.code.0)
                            .field(&field.id)
                            .value(format!("{rate:.1}")),
                    );
                }
            }
        }
    }
    out
}
