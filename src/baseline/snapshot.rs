//! The account as the baseline sees it: gathered once through the SDKs (`gather`), then checked
//! purely.
//!
//! Every call's answer is a [`Fetched`]: either what AWS said, or why trailproof could not ask.
//! The checks turn the second kind into `error` results, never into passes. The snapshot is plain
//! serde data, so `baseline --save-snapshot` can keep it and `--snapshot` can check it offline.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An API answer, or the reason it could not be had (AccessDenied, throttling, network).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fetched<T> {
    Ok(T),
    Error(String),
}

impl<T> Fetched<T> {
    pub fn as_result(&self) -> Result<&T, &str> {
        match self {
            Fetched::Ok(v) => Ok(v),
            Fetched::Error(e) => Err(e),
        }
    }
}

impl<T> From<Result<T, String>> for Fetched<T> {
    fn from(r: Result<T, String>) -> Self {
        match r {
            Ok(v) => Fetched::Ok(v),
            Err(e) => Fetched::Error(e),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountSnapshot {
    /// When the snapshot was taken; delivery ages are measured from here.
    pub taken_at: DateTime<Utc>,
    pub region: String,
    pub trails: Fetched<Vec<Trail>>,
    /// By bucket name.
    #[serde(default)]
    pub buckets: BTreeMap<String, Bucket>,
    /// By log group ARN (without the trailing `:*`).
    #[serde(default)]
    pub log_groups: BTreeMap<String, LogGroup>,
    /// Metric alarms, by region.
    #[serde(default)]
    pub alarms: BTreeMap<String, Fetched<Vec<Alarm>>>,
    /// By topic ARN, for every SNS topic an alarm notifies.
    #[serde(default)]
    pub topics: BTreeMap<String, Fetched<Topic>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    pub is_multi_region: bool,
    pub is_organization_trail: bool,
    pub include_global_service_events: bool,
    pub log_file_validation: bool,
    pub kms_key_id: Option<String>,
    pub s3_bucket: Option<String>,
    pub cloudwatch_logs_log_group_arn: Option<String>,
    pub status: Fetched<TrailStatus>,
    pub selectors: Fetched<EventSelectors>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailStatus {
    pub is_logging: bool,
    pub latest_cloudwatch_logs_delivery: Option<DateTime<Utc>>,
    pub latest_cloudwatch_logs_delivery_error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventSelectors {
    #[serde(default)]
    pub classic: Vec<ClassicSelector>,
    #[serde(default)]
    pub advanced: Vec<AdvancedSelector>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassicSelector {
    /// `All`, `ReadOnly` or `WriteOnly`; AWS's default is `All`.
    pub read_write_type: String,
    pub include_management_events: bool,
    #[serde(default)]
    pub exclude_management_event_sources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvancedSelector {
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldSelector {
    pub field: String,
    #[serde(default)]
    pub equals: Vec<String>,
    #[serde(default)]
    pub starts_with: Vec<String>,
    #[serde(default)]
    pub ends_with: Vec<String>,
    #[serde(default)]
    pub not_equals: Vec<String>,
    #[serde(default)]
    pub not_starts_with: Vec<String>,
    #[serde(default)]
    pub not_ends_with: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// `None`: the bucket has no public access block configuration.
    pub public_access_block: Fetched<Option<PublicAccessBlock>>,
    pub versioning: Fetched<Versioning>,
    pub object_lock_enabled: Fetched<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versioning {
    /// `Enabled`, `Suspended`, or `None` if never enabled.
    pub status: Option<String>,
    pub mfa_delete: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogGroup {
    pub name: String,
    pub region: String,
    pub metric_filters: Fetched<Vec<MetricFilter>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricFilter {
    pub name: String,
    pub pattern: String,
    pub transformations: Vec<MetricTransformation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricTransformation {
    pub namespace: String,
    pub name: String,
    /// `metricValue`: `1`, a number, or `$.field` taken from the matching event.
    pub value: String,
    /// `defaultValue`: emitted for each event the filter does not match, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub name: String,
    pub arn: Option<String>,
    pub namespace: Option<String>,
    pub metric_name: Option<String>,
    /// `Sum`, `Average`, ... or an extended statistic such as `p99`.
    pub statistic: Option<String>,
    pub period: Option<i32>,
    pub evaluation_periods: Option<i32>,
    pub datapoints_to_alarm: Option<i32>,
    pub threshold: Option<f64>,
    pub comparison: Option<String>,
    pub actions_enabled: bool,
    #[serde(default)]
    pub alarm_actions: Vec<String>,
    /// Metric filters publish dimensionless metrics unless told otherwise; an alarm with
    /// dimensions watches a different time series.
    #[serde(default)]
    pub dimensions: Vec<String>,
    /// Metric-math alarms: not judged (reported as such).
    #[serde(default)]
    pub uses_metric_math: bool,
    /// `TreatMissingData` (`missing`, `ignore`, `breaching`, `notBreaching`); AWS's default,
    /// `missing`, when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treat_missing_data: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    pub exists: bool,
    #[serde(default)]
    pub subscriptions: Vec<Subscription>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    /// `PendingConfirmation` (literally) until the endpoint confirms.
    pub arn: String,
    pub protocol: String,
    pub endpoint: String,
}

impl Subscription {
    pub fn is_confirmed(&self) -> bool {
        // AWS also shows `Deleted` for a subscription removed but still listed.
        self.arn.starts_with("arn:")
    }
}

/// `arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]` → (region, name, arn without `:*`).
pub fn parse_log_group_arn(arn: &str) -> Option<(String, String, String)> {
    let trimmed = arn.strip_suffix(":*").unwrap_or(arn);
    let parts: Vec<&str> = trimmed.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", _, "logs", region, _, "log-group", name] if !name.is_empty() => Some((region.to_string(), name.to_string(), trimmed.to_string())),
        _ => None,
    }
}

/// The region of an SNS topic ARN, `arn:aws:sns:REGION:ACCOUNT:NAME`.
pub fn sns_topic_region(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "sns", region, _, name] if !region.is_empty() && !name.is_empty() => Some(region),
        _ => None,
    }
}
