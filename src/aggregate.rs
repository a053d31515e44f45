//! Roll-ups as one lazy polars plan over the observation table (FORMS.md §5):
//! per leaf unit and period, flows are summed over months and stocks take
//! the latest month of the period that has a value (LAST_IN_PERIOD); the
//! hierarchy then sums leaves upwards through an ancestor table; rates are
//! recomputed last from the aggregated numerator and denominator. Missing
//! values are filtered out, never turned into zero.

use std::collections::HashMap;

use polars::prelude::*;

use crate::observation::{Batch, ReturnStatus};
use crate::period::{Month, Period};
use crate::registry::{Registry, UnitIdx};
use crate::schema::{FieldIdx, FormIdx, Kind, Schemas};

/// Why aggregation failed (an internal polars error; data problems are findings).
#[derive(Debug, thiserror::Error)]
#[error("aggregation failed: {0}")]
pub struct AggregateError(#[from] PolarsError);

/// One aggregated figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aggregate {
    /// Period.
    pub period: Period,
    /// Unit (any level, villages included).
    pub unit: UnitIdx,
    /// Form.
    pub form: FormIdx,
    /// Field (rates and derived rates included).
    pub field: FieldIdx,
    /// Value; rates in percent.
    pub value: f64,
}

/// Every aggregated figure of a run, with a lookup by key.
#[derive(Debug, Clone, Default)]
pub struct Aggregates {
    /// Periods consolidated, in report order.
    pub periods: Vec<Period>,
    /// Rows sorted by period, form, unit, field.
    pub rows: Vec<Aggregate>,
    index: HashMap<(Period, UnitIdx, FormIdx, FieldIdx), f64>,
}

impl Aggregates {
    /// The figure for a key; `None` when nothing was reported.
    #[must_use]
    pub fn get(
        &self,
        period: Period,
        unit: UnitIdx,
        form: FormIdx,
        field: FieldIdx,
    ) -> Option<f64> {
        self.index.get(&(period, unit, form, field)).copied()
    }
}

/// The periods a run consolidates: every month found, and every quarter and
/// year those months touch; restricted to `selected` when the user gave one.
#[must_use]
pub fn periods_for(months: &[Month], selected: Option<Period>) -> Vec<Period> {
    let mut out: Vec<Period> = Vec::new();
    for &m in months {
        for p in [
            Period::Month(m),
            Period::Quarter(m.year(), m.quarter()),
            Period::Year(m.year()),
        ] {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    if let Some(sel) = selected {
        out.retain(|p| match (sel, *p) {
            (Period::Month(_), _) => *p == sel,
            (Period::Quarter(..), Period::Year(_)) => false,
            (Period::Quarter(..), Period::Quarter(..)) => *p == sel,
            (Period::Quarter(..), Period::Month(m)) => sel.contains(m),
            (Period::Year(y), Period::Year(py)) => y == py,
            (Period::Year(_), Period::Quarter(..)) | (Period::Year(_), Period::Month(_)) => {
                p.months().iter().all(|m| sel.contains(*m))
            }
        });
    }
    out.sort_by_key(|p| p.sort_key());
    out
}

fn u32_col(name: &str, v: Vec<u32>) -> Column {
    Column::new(name.into(), v)
}

/// Aggregates the batch's counted returns over `periods` and the registry's hierarchy.
///
/// # Errors
/// Only an internal polars failure.
pub fn aggregate(
    batch: &Batch,
    registry: &Registry,
    schemas: &Schemas,
    periods: &[Period],
) -> Result<Aggregates, AggregateError> {
    let leaf = leaf_frame(batch, schemas)?;
    let period_map = period_map_frame(periods)?;
    let ancestors = ancestor_frame(registry)?;
    let inner = || JoinArgs::new(JoinType::Inner);

    // Per leaf and period: flows summed, stocks the last month's value.
    let per_leaf = leaf
        .lazy()
        .join(period_map.lazy(), [col("month")], [col("month")], inner())
        .group_by([col("period"), col("unit"), col("form"), col("field")])
        .agg([
            col("value").sum().alias("sum"),
            col("value")
                .sort_by([col("month")], SortMultipleOptions::default())
                .last()
                .alias("last"),
            col("stock").first().alias("stock"),
        ])
        .select([
            col("period"),
            col("unit"),
            col("form"),
            col("field"),
            when(col("stock"))
                .then(col("last"))
                .otherwise(col("sum"))
                .alias("value"),
        ]);

    // Up the hierarchy: every unit's figure is the sum over the leaves below it.
    let counts = per_leaf
        .join(ancestors.lazy(), [col("unit")], [col("unit")], inner())
        .group_by([col("period"), col("ancestor"), col("form"), col("field")])
        .agg([col("value").sum()])
        .select([
            col("period"),
            col("ancestor").alias("unit"),
            col("form"),
            col("field"),
            col("value"),
        ])
        .collect()?;

    let rates = rate_frame(&counts, schemas)?;
    let mut out = Aggregates {
        periods: periods.to_vec(),
        ..Aggregates::default()
    };
    for df in [&counts, &rates] {
        collect_rows(df, periods, &mut out.rows)?;
    }
    out.rows.sort_by(|a, b| {
        (a.period.sort_key(), a.form, a.unit, a.field).cmp(&(
            b.period.sort_key(),
            b.form,
            b.unit,
            b.field,
        ))
    });
    out.index = out
        .rows
        .iter()
        .map(|r| ((r.period, r.unit, r.form, r.field), r.value))
        .collect();
    Ok(out)
}

/// Counted, reported, non-rate observations: the only inputs of a roll-up.
fn leaf_frame(batch: &Batch, schemas: &Schemas) -> PolarsResult<DataFrame> {
    let o = &batch.obs;
    let mut unit = Vec::with_capacity(o.len());
    let mut form = Vec::with_capacity(o.len());
    let mut field = Vec::with_capacity(o.len());
    let mut month = Vec::with_capacity(o.len());
    let mut value = Vec::with_capacity(o.len());
    let mut stock = Vec::with_capacity(o.len());
    for i in 0..o.len() {
        let Some(v) = o.value[i] else { continue };
        if batch.returns[o.ret[i] as usize].status != ReturnStatus::Active {
            continue;
        }
        let kind = schemas.form(o.form[i]).field(o.field[i]).kind;
        if kind == Kind::Rate {
            continue;
        }
        unit.push(o.unit[i]);
        form.push(u32::from(o.form[i]));
        field.push(u32::from(o.field[i]));
        month.push(o.month[i].0);
        value.push(v);
        stock.push(kind == Kind::Stock);
    }
    let height = value.len();
    DataFrame::new(
        height,
        vec![
            u32_col("unit", unit),
            u32_col("form", form),
            u32_col("field", field),
            Column::new("month".into(), month),
            Column::new("value".into(), value),
            Column::new("stock".into(), stock),
        ],
    )
}

/// (month, period) for every month of every consolidated period.
fn period_map_frame(periods: &[Period]) -> PolarsResult<DataFrame> {
    let mut month = Vec::new();
    let mut period = Vec::new();
    for (i, p) in periods.iter().enumerate() {
        for m in p.months() {
            month.push(m.0);
            period.push(i as u32);
        }
    }
    DataFrame::new(
        month.len(),
        vec![
            Column::new("month".into(), month),
            u32_col("period", period),
        ],
    )
}

/// (unit, ancestor) for every unit and each of its ancestors, itself included.
fn ancestor_frame(registry: &Registry) -> PolarsResult<DataFrame> {
    let mut unit = Vec::new();
    let mut anc = Vec::new();
    for i in 0..registry.units.len() as UnitIdx {
        for a in registry.ancestors_and_self(i) {
            unit.push(i);
            anc.push(a);
        }
    }
    DataFrame::new(
        unit.len(),
        vec![u32_col("unit", unit), u32_col("ancestor", anc)],
    )
}

/// Rates recomputed from aggregated counts: `(num − minus) / den × 100`,
/// only where every part was reported and the denominator is not zero.
fn rate_frame(counts: &DataFrame, schemas: &Schemas) -> PolarsResult<DataFrame> {
    let mut form = Vec::new();
    let mut rate = Vec::new();
    let mut num = Vec::new();
    let mut minus = Vec::new();
    let mut den = Vec::new();
    let mut has_minus = Vec::new();
    for (fi, f) in schemas.forms.iter().enumerate() {
        for (ri, field) in f.fields.iter().enumerate() {
            if let Some(r) = field.ratio {
                form.push(fi as u32);
                rate.push(ri as u32);
                num.push(u32::from(r.numerator));
                // The numerator stands in for an absent `minus`; has_minus says which.
                minus.push(u32::from(r.minus.unwrap_or(r.numerator)));
                has_minus.push(r.minus.is_some());
                den.push(u32::from(r.denominator));
            }
        }
    }
    let defs = DataFrame::new(
        form.len(),
        vec![
            u32_col("form", form),
            u32_col("rate", rate),
            u32_col("num", num),
            u32_col("minus", minus),
            u32_col("den", den),
            Column::new("has_minus".into(), has_minus),
        ],
    )?;
    let part = |name: &str| {
        counts.clone().lazy().select([
            col("period"),
            col("unit"),
            col("form"),
            col("field").alias(name),
            col("value").alias(format!("{name}_v")),
        ])
    };
    let inner = || JoinArgs::new(JoinType::Inner);
    let left = || JoinArgs::new(JoinType::Left);
    defs.lazy()
        .join(
            part("num"),
            [col("form"), col("num")],
            [col("form"), col("num")],
            inner(),
        )
        .join(
            part("den"),
            [col("period"), col("unit"), col("form"), col("den")],
            [col("period"), col("unit"), col("form"), col("den")],
            inner(),
        )
        .join(
            part("minus"),
            [col("period"), col("unit"), col("form"), col("minus")],
            [col("period"), col("unit"), col("form"), col("minus")],
            left(),
        )
        .filter(
            col("den_v")
                .neq(lit(0.0))
                .and(col("has_minus").not().or(col("minus_v").is_not_null())),
        )
        .select([
            col("period"),
            col("unit"),
            col("form"),
            col("rate").alias("field"),
            ((col("num_v")
                - when(col("has_minus"))
                    .then(col("minus_v"))
                    .otherwise(lit(0.0)))
                / col("den_v")
                * lit(100.0))
            .alias("value"),
        ])
        .collect()
}

fn collect_rows(df: &DataFrame, periods: &[Period], out: &mut Vec<Aggregate>) -> PolarsResult<()> {
    let period = df.column("period")?.u32()?;
    let unit = df.column("unit")?.u32()?;
    let form = df.column("form")?.u32()?;
    let field = df.column("field")?.u32()?;
    let value = df.column("value")?.f64()?;
    for i in 0..df.height() {
        let (Some(p), Some(u), Some(fo), Some(fi), Some(v)) = (
            period.get(i),
            unit.get(i),
            form.get(i),
            field.get(i),
            value.get(i),
        ) else {
            continue;
        };
        out.push(Aggregate {
            period: periods[p as usize],
            unit: u,
            form: fo as FormIdx,
            field: fi as FieldIdx,
            value: v,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_touched_by_months() {
        let ms = [Month::new(2026, 1).unwrap(), Month::new(2026, 4).unwrap()];
        let ps: Vec<String> = periods_for(&ms, None)
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(ps, ["2026-01", "2026Q1", "2026-04", "2026Q2", "2026"]);
        let ps: Vec<String> = periods_for(&ms, Some(Period::Quarter(2026, 1)))
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(ps, ["2026-01", "2026Q1"]);
    }
}
