//! The account as the baseline sees it: gathered once through the SDKs, then checked purely.
//!
//! Every call's answer is a [`Fetched`]: either what AWS said, or why trailproof could not ask.
//! The checks turn the second kind into `error` results, never into passes. The snapshot is plain
//! serde data, so `baseline --save-snapshot` can keep it and `--snapshot` can check it offline.
use std::collections::BTreeMap;

use aws_config::SdkConfig;
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::aws::{self, AwsOptions};

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
    pub value: String,
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

pub(crate) fn smithy_utc(t: Option<&aws_sdk_cloudtrail::primitives::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| Utc.timestamp_opt(t.secs(), 0).single())
}

/// One SDK config per region, loaded on first use.
struct Configs {
    options: AwsOptions,
    by_region: BTreeMap<String, SdkConfig>,
}

impl Configs {
    async fn get(&mut self, region: &str) -> &SdkConfig {
        if !self.by_region.contains_key(region) {
            let conf = aws::sdk_config(&self.options, Some(region.to_string())).await;
            self.by_region.insert(region.to_string(), conf);
        }
        &self.by_region[region]
    }
}

/// Reads everything the baseline checks need, from the account the credentials belong to.
pub async fn gather(options: &AwsOptions) -> Result<AccountSnapshot, String> {
    let home = aws::sdk_config(options, None).await;
    let region = home.region().map(|r| r.to_string()).ok_or("no AWS region: pass --region or set AWS_REGION")?;
    let mut configs = Configs { options: options.clone(), by_region: BTreeMap::new() };
    configs.by_region.insert(region.clone(), home);

    let trails: Fetched<Vec<Trail>> = match describe_trails(configs.get(&region).await).await {
        Ok(described) => {
            let mut trails = Vec::new();
            for mut trail in described {
                let conf = configs.get(&trail.home_region.clone()).await;
                let client = aws::cloudtrail_client(conf);
                trail.status = aws::trail_status_full(&client, &trail.arn).await.into();
                trail.selectors = aws::event_selectors(&client, &trail.arn).await.into();
                trails.push(trail);
            }
            Fetched::Ok(trails)
        }
        Err(e) => Fetched::Error(e),
    };
    let mut snapshot = AccountSnapshot {
        taken_at: Utc::now(),
        region: region.clone(),
        trails,
        buckets: BTreeMap::new(),
        log_groups: BTreeMap::new(),
        alarms: BTreeMap::new(),
        topics: BTreeMap::new(),
    };
    let trails = match &snapshot.trails {
        Fetched::Ok(t) => t.clone(),
        Fetched::Error(_) => return Ok(snapshot),
    };

    for bucket in trails.iter().filter_map(|t| t.s3_bucket.clone()) {
        if snapshot.buckets.contains_key(&bucket) {
            continue;
        }
        let s3 = aws::s3_client(configs.get(&region).await, options);
        let info = match aws::bucket_region(&s3, &bucket).await {
            Ok(bucket_region) => {
                let s3 = aws::s3_client(configs.get(&bucket_region).await, options);
                aws::bucket_hardening(&s3, &bucket).await
            }
            Err(e) => Bucket { public_access_block: Fetched::Error(e.clone()), versioning: Fetched::Error(e.clone()), object_lock_enabled: Fetched::Error(e) },
        };
        snapshot.buckets.insert(bucket, info);
    }

    for arn in trails.iter().filter_map(|t| t.cloudwatch_logs_log_group_arn.as_deref()) {
        let Some((group_region, name, key)) = parse_log_group_arn(arn) else { continue };
        if snapshot.log_groups.contains_key(&key) {
            continue;
        }
        let logs = aws_sdk_cloudwatchlogs::Client::new(configs.get(&group_region).await);
        let metric_filters = aws::metric_filters(&logs, &name).await.into();
        snapshot.log_groups.insert(key, LogGroup { name, region: group_region.clone(), metric_filters });
        if !snapshot.alarms.contains_key(&group_region) {
            let cloudwatch = aws_sdk_cloudwatch::Client::new(configs.get(&group_region).await);
            snapshot.alarms.insert(group_region.clone(), aws::metric_alarms(&cloudwatch).await.into());
        }
    }

    let topic_arns: Vec<String> = snapshot
        .alarms
        .values()
        .filter_map(|a| a.as_result().ok())
        .flatten()
        .flat_map(|a| a.alarm_actions.iter())
        .filter(|a| sns_topic_region(a).is_some())
        .cloned()
        .collect();
    for arn in topic_arns {
        if snapshot.topics.contains_key(&arn) {
            continue;
        }
        let Some(topic_region) = sns_topic_region(&arn) else { continue };
        let sns = aws_sdk_sns::Client::new(configs.get(topic_region).await);
        let topic = aws::sns_topic(&sns, &arn).await.into();
        snapshot.topics.insert(arn, topic);
    }
    Ok(snapshot)
}

async fn describe_trails(conf: &SdkConfig) -> Result<Vec<Trail>, String> {
    let client = aws::cloudtrail_client(conf);
    let out = client
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .map_err(|e| format!("DescribeTrails: {}", aws::describe(e)))?;
    Ok(out
        .trail_list()
        .iter()
        .map(|t| Trail {
            name: t.name().unwrap_or_default().to_string(),
            arn: t.trail_arn().unwrap_or_default().to_string(),
            home_region: t.home_region().unwrap_or_default().to_string(),
            is_multi_region: t.is_multi_region_trail().unwrap_or(false),
            is_organization_trail: t.is_organization_trail().unwrap_or(false),
            include_global_service_events: t.include_global_service_events().unwrap_or(false),
            log_file_validation: t.log_file_validation_enabled().unwrap_or(false),
            kms_key_id: t.kms_key_id().filter(|k| !k.is_empty()).map(str::to_string),
            s3_bucket: t.s3_bucket_name().map(str::to_string),
            cloudwatch_logs_log_group_arn: t.cloud_watch_logs_log_group_arn().filter(|a| !a.is_empty()).map(str::to_string),
            status: Fetched::Error("not asked".into()),
            selectors: Fetched::Error("not asked".into()),
        })
        .collect())
}
