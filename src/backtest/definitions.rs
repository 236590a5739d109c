//! The filters and alarms a backtest replays: the account's own (live or a saved snapshot), or a
//! baseline's reference filters and expected alarms (to try a proposed set before deploying it).
use serde::Serialize;

use super::alarm::{AlarmSpec, Comparison, TreatMissingData};
use super::datapoints::Statistic;
use super::replay::NotReplayed;
use crate::baseline::model::Compiled;
use crate::baseline::snapshot::{AccountSnapshot, Alarm};

/// A metric filter: its pattern and the metric it publishes to.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FilterDef {
    pub log_group: String,
    pub filter_name: String,
    pub pattern: String,
    #[serde(skip)]
    pub namespace: String,
    #[serde(skip)]
    pub metric_name: String,
    /// `metricValue`: `1`, a number, or `$.field`.
    #[serde(skip)]
    pub metric_value: String,
    #[serde(skip)]
    pub default_value: Option<f64>,
}

/// A metric alarm on a filter's metric.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmDef {
    pub alarm_name: String,
    pub namespace: String,
    pub metric_name: String,
    pub spec: AlarmSpec,
}

/// What to replay, and what cannot be (with why).
#[derive(Debug, Default)]
pub struct Definitions {
    pub filters: Vec<FilterDef>,
    pub alarms: Vec<AlarmDef>,
    pub skipped: Vec<NotReplayed>,
}

impl Definitions {
    /// The metric filters of the trail's CloudWatch Logs group, and the alarms of that group's
    /// region on their metrics. A trail the snapshot does not hold, or one without a log group, is
    /// an error: there is nothing to replay through.
    pub fn from_snapshot(snapshot: &AccountSnapshot, trail_arn: &str) -> Result<Definitions, String> {
        let trails = snapshot.trails.as_result().map_err(|e| format!("the snapshot has no trails: {e}"))?;
        let name = trail_arn.rsplit('/').next().unwrap_or(trail_arn);
        let trail = trails
            .iter()
            .find(|t| t.arn == trail_arn)
            .or_else(|| trails.iter().find(|t| t.name == name))
            .ok_or_else(|| format!("trail {trail_arn} is not in the account's trails ({})", trails.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")))?;
        let group_arn = trail
            .cloudwatch_logs_log_group_arn
            .as_deref()
            .ok_or_else(|| format!("trail {} delivers to no CloudWatch Logs group: no metric filter sees its events", trail.name))?;
        let group_arn = group_arn.strip_suffix(":*").unwrap_or(group_arn);
        let group = snapshot.log_groups.get(group_arn).ok_or_else(|| format!("the log group {group_arn} was not read"))?;
        let filters = group.metric_filters.as_result().map_err(|e| format!("the metric filters of {}: {e}", group.name))?;
        let mut definitions = Definitions::default();
        for f in filters {
            for t in &f.transformations {
                definitions.filters.push(FilterDef {
                    log_group: group.name.clone(),
                    filter_name: f.name.clone(),
                    pattern: f.pattern.clone(),
                    namespace: t.namespace.clone(),
                    metric_name: t.name.clone(),
                    metric_value: t.value.clone(),
                    default_value: t.default_value,
                });
            }
        }
        let alarms = match snapshot.alarms.get(&group.region) {
            Some(a) => a.as_result().map_err(|e| format!("the alarms of {}: {e}", group.region))?.as_slice(),
            None => &[],
        };
        let on_a_filter = |a: &Alarm| definitions.filters.iter().any(|f| Some(&f.namespace) == a.namespace.as_ref() && Some(&f.metric_name) == a.metric_name.as_ref());
        let mut found = Vec::new();
        for alarm in alarms.iter().filter(|a| on_a_filter(a)) {
            match alarm_def(alarm) {
                Ok(def) => found.push(def),
                Err(reason) => definitions.skipped.push(NotReplayed { kind: "alarm", name: alarm.name.clone(), reason }),
            }
        }
        definitions.alarms = found;
        Ok(definitions)
    }

    /// Each rule's reference filter (published to `trailproof/{baseline}` under the rule's ID, one
    /// per matching event) and the alarm the baseline expects on it.
    pub fn from_baseline(compiled: &Compiled<'_>) -> Result<Definitions, String> {
        let namespace = format!("trailproof/{}", compiled.baseline.name);
        let mut definitions = Definitions::default();
        for rule in &compiled.rules {
            let r = rule.rule;
            definitions.filters.push(FilterDef {
                log_group: "(baseline)".into(),
                filter_name: r.id.clone(),
                pattern: r.reference.clone(),
                namespace: namespace.clone(),
                metric_name: r.id.clone(),
                metric_value: "1".into(),
                default_value: None,
            });
            let a = &r.alarm;
            let spec = AlarmSpec {
                period_s: u32::try_from(a.period).map_err(|_| format!("rule {}: period {} is negative", r.id, a.period))?,
                evaluation_periods: u32::try_from(a.evaluation_periods).map_err(|_| format!("rule {}: evaluation_periods {} is negative", r.id, a.evaluation_periods))?,
                datapoints_to_alarm: None,
                threshold: a.threshold,
                comparison: a.comparison.parse().map_err(|e| format!("rule {}: {e}", r.id))?,
                statistic: a.statistic.parse().map_err(|e| format!("rule {}: {e}", r.id))?,
                treat_missing_data: TreatMissingData::default(),
            };
            definitions.alarms.push(AlarmDef { alarm_name: r.id.clone(), namespace: namespace.clone(), metric_name: r.id.clone(), spec });
        }
        Ok(definitions)
    }
}

/// A snapshot alarm's settings, if backtest can evaluate them: a static threshold on one
/// dimensionless metric, with a standard statistic.
fn alarm_def(a: &Alarm) -> Result<AlarmDef, String> {
    if a.uses_metric_math {
        return Err("a metric-math alarm: not evaluated".into());
    }
    if !a.dimensions.is_empty() {
        return Err(format!("watches dimensions {}: metric filters publish without dimensions unless told to", a.dimensions.join(", ")));
    }
    let need = |what: &str| format!("no {what}");
    let statistic: Statistic = a.statistic.as_deref().ok_or_else(|| need("statistic"))?.parse().map_err(|e: super::alarm::SpecError| e.to_string())?;
    let comparison: Comparison = a.comparison.as_deref().ok_or_else(|| need("comparison operator"))?.parse().map_err(|e: super::alarm::SpecError| e.to_string())?;
    let treat_missing_data: TreatMissingData = match &a.treat_missing_data {
        Some(t) => t.parse().map_err(|e: super::alarm::SpecError| e.to_string())?,
        None => TreatMissingData::default(),
    };
    let positive = |v: Option<i32>, what: &str| v.ok_or_else(|| need(what)).and_then(|v| u32::try_from(v).map_err(|_| format!("{what} {v} is negative")));
    Ok(AlarmDef {
        alarm_name: a.name.clone(),
        namespace: a.namespace.clone().unwrap_or_default(),
        metric_name: a.metric_name.clone().unwrap_or_default(),
        spec: AlarmSpec {
            period_s: positive(a.period, "period")?,
            evaluation_periods: positive(a.evaluation_periods, "evaluation periods")?,
            datapoints_to_alarm: a.datapoints_to_alarm.map(|d| positive(Some(d), "datapoints to alarm")).transpose()?,
            threshold: a.threshold.ok_or_else(|| need("threshold"))?,
            comparison,
            statistic,
            treat_missing_data,
        },
    })
}
