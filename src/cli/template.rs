//! `phstats template --units UNITS.csv --period P -o DIR [--form F] [--unit U] [--combined]`
//!
//! Writes the fill-in templates of FORMS.md §9: for every township (or the
//! one given) and form (or the one given), the return it must fill in.

use std::path::PathBuf;

use super::Langs;
use crate::message::Lang;
use crate::period::Period;
use crate::registry::{Registry, UnitIdx};
use crate::schema::{FieldId, FormId, Schemas};
use crate::template::{write_templates, TemplateRequest};
use crate::validate::returns::expected_units;

/// Arguments of `template`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The unit registry CSV.
    #[arg(long, value_name = "UNITS.csv")]
    pub units: PathBuf,
    /// The month the templates are for (2026-07, 2026年7月).
    #[arg(long, value_name = "P")]
    pub period: String,
    /// The folder to write them into.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Only this form (id, short name or title).
    #[arg(long, value_name = "F")]
    pub form: Option<String>,
    /// Only this township (name, alias or code).
    #[arg(long, value_name = "U")]
    pub unit: Option<String>,
    /// Only the townships of one county (or one township): code or name.
    #[arg(long, value_name = "CODE")]
    pub scope: Option<String>,
    /// All forms of a township in one workbook, one sheet each.
    #[arg(long)]
    pub combined: bool,
    /// Read form schemas from this directory instead of the built-in three.
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,
    /// A store: last month's stocks in force appear in a note on each stock cell.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// The 制定机关 printed on the templates (default: the registry root's name + 卫生健康委员会).
    #[arg(long, value_name = "NAME")]
    pub issuer: Option<String>,
    /// Day of the next month by which a return is due, stated in the 填表说明.
    #[arg(long, value_name = "N", default_value_t = crate::validate::returns::DEADLINE_DAY)]
    pub deadline_day: u32,
}

/// Last month's stocks in force in a store, by village, form and field.
fn previous_stocks(
    dir: &std::path::Path,
    registry: &Registry,
    schemas: &Schemas,
    month: crate::period::Month,
    lang: Lang,
) -> anyhow::Result<std::collections::HashMap<(UnitIdx, FormId, FieldId), f64>> {
    let st = super::store::open(dir, lang)?;
    let subs = st.submissions().map_err(super::store::store_err(lang))?;
    let prev = month.prev().to_string();
    let live: Vec<&crate::store::Submission> = crate::store::in_force(&subs)
        .into_iter()
        .filter(|s| s.month == prev)
        .collect();
    let (batch, _) = crate::store::load_figures(&st, &live, registry, schemas, lang)
        .map_err(super::store::store_err(lang))?;
    let mut out = std::collections::HashMap::new();
    for i in 0..batch.obs.len() {
        let form = schemas.form(batch.obs.form[i]);
        let field = form.field(batch.obs.field[i]);
        if field.kind != crate::schema::Kind::Stock {
            continue;
        }
        if let Some(v) = batch.obs.value[i] {
            out.insert((batch.obs.unit[i], form.id.clone(), field.id.clone()), v);
        }
    }
    Ok(out)
}

/// Runs `template`.
///
/// # Errors
/// A bad period, form or unit, an unreadable registry, an unwritable folder.
pub fn run(args: &Args, langs: Langs) -> anyhow::Result<i32> {
    let lang = langs.terminal;
    let month = match Period::parse(&args.period) {
        Some(Period::Month(m)) => m,
        _ => anyhow::bail!(
            "{}",
            match lang {
                Lang::Zh => format!(
                    "--period “{}”不是一个月份（如 2026-07）：模板按月填报",
                    args.period
                ),
                Lang::En => format!(
                    "--period `{}` is not a month (e.g. 2026-07): templates are monthly",
                    args.period
                ),
            }
        ),
    };
    let mut registry = Registry::load(&args.units).map_err(|e| anyhow::anyhow!(e.render(lang)))?;
    // The city's, also when the templates are scoped to one county.
    let issuer = crate::report::issuer(&registry, args.issuer.as_deref());
    if let Some(scope) = &args.scope {
        registry = registry
            .scoped(scope)
            .map_err(|e| anyhow::anyhow!(e.render(lang)))?;
    }
    let schemas = match &args.schemas {
        Some(dir) => Schemas::from_dir(dir)?,
        None => Schemas::builtin()?,
    };
    // Names as people type them, resolved by their one owner: an unknown or
    // ambiguous one exits 2 with the candidates.
    let forms: Vec<usize> = match &args.form {
        None => (0..schemas.forms.len()).collect(),
        Some(f) => vec![super::names::form(&schemas, f, "--form", lang)? as usize],
    };
    let all = expected_units(&registry);
    let units = match &args.unit {
        None => all,
        Some(u) => {
            let i = super::names::unit(&registry, u, "--unit", lang)?;
            if !all.contains(&i) {
                anyhow::bail!(
                    "{}",
                    match lang {
                        Lang::Zh => format!("--unit “{u}”不是名录中填报报表的单位（乡镇、街道）"),
                        Lang::En => format!(
                            "--unit `{u}` is not a reporting unit (township) of the registry"
                        ),
                    }
                )
            }
            vec![i]
        }
    };
    let previous = match &args.store {
        Some(dir) => previous_stocks(dir, &registry, &schemas, month, lang)?,
        None => std::collections::HashMap::new(),
    };
    let req = TemplateRequest {
        registry: &registry,
        schemas: &schemas,
        month,
        units,
        forms,
        combined: args.combined,
        previous,
        issuer,
        deadline_day: args.deadline_day,
    };
    let written = write_templates(&args.output, &req)?;
    match lang {
        Lang::Zh => crate::say!(
            "已写出 {} 份{}填报模板到 {}",
            written.len(),
            crate::message::month_label(month, Lang::Zh),
            args.output.display()
        ),
        Lang::En => crate::say!(
            "{} templates for {month} written to {}",
            written.len(),
            args.output.display()
        ),
    }
    Ok(0)
}
