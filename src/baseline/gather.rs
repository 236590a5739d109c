//! Reads the account into an [`AccountSnapshot`] through the SDKs: the one place where SDK types
//! become baseline types. Every call's failure is kept as a [`Fetched::Error`], never dropped.
use std::collections::BTreeMap;

use aws_config::SdkConfig;
use chrono::Utc;

use super::snapshot::{
    parse_log_group_arn, sns_topic_region, AccountSnapshot, AdvancedSelector, Alarm, Bucket, ClassicSelector, EventSelectors, FieldSelector, Fetched, LogGroup,
    MetricFilter, MetricTransformation, PublicAccessBlock, Subscription, Topic, Trail, TrailStatus, Versioning,
};
use aws_sdk_cloudtrail::error::ProvideErrorMetadata;

use crate::aws::{self, describe, smithy_utc, AwsOptions, PageTokens};

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
        // Every check needs the trails: without an answer from AWS (no network, a wrong endpoint,
        // no credentials) each would fail the same way, so the run fails once instead.
        Err(Unanswered(e)) => return Err(format!("nothing could be checked: {e}")),
        Ok(described) => {
            let mut trails = Vec::new();
            for mut trail in described {
                let conf = configs.get(&trail.home_region.clone()).await;
                let client = aws::cloudtrail_client(conf);
                trail.status = trail_status_full(&client, &trail.arn).await.into();
                trail.selectors = event_selectors(&client, &trail.arn).await.into();
                trails.push(trail);
            }
            Fetched::Ok(trails)
        }
        Err(Refused(e)) => Fetched::Error(e),
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
                bucket_hardening(&s3, &bucket).await
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
        let metric_filters = metric_filters(&logs, &name).await.into();
        snapshot.log_groups.insert(key, LogGroup { name, region: group_region.clone(), metric_filters });
        if !snapshot.alarms.contains_key(&group_region) {
            let cloudwatch = aws_sdk_cloudwatch::Client::new(configs.get(&group_region).await);
            snapshot.alarms.insert(group_region.clone(), metric_alarms(&cloudwatch).await.into());
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
        let topic = sns_topic(&sns, &arn).await.into();
        snapshot.topics.insert(arn, topic);
    }
    Ok(snapshot)
}

/// Why DescribeTrails gave no trails.
enum TrailsError {
    /// AWS answered with an error (AccessDenied, throttling): each check reports it.
    Refused(String),
    /// No answer came: a connection, timeout, endpoint or credentials failure.
    Unanswered(String),
}
use TrailsError::{Refused, Unanswered};

async fn describe_trails(conf: &SdkConfig) -> Result<Vec<Trail>, TrailsError> {
    let client = aws::cloudtrail_client(conf);
    let out = client.describe_trails().include_shadow_trails(true).send().await.map_err(|e| {
        let answered = matches!(e, aws_sdk_cloudtrail::error::SdkError::ServiceError(_));
        let message = format!("DescribeTrails: {}", aws::describe(e));
        if answered { Refused(message) } else { Unanswered(message) }
    })?;
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

/// GetTrailStatus, with the CloudWatch Logs delivery fields the baseline needs.
pub async fn trail_status_full(client: &aws_sdk_cloudtrail::Client, trail_arn: &str) -> Result<TrailStatus, String> {
    let out = client.get_trail_status().name(trail_arn).send().await.map_err(|e| format!("GetTrailStatus {trail_arn}: {}", describe(e)))?;
    Ok(TrailStatus {
        is_logging: out.is_logging().unwrap_or(false),
        latest_cloudwatch_logs_delivery: smithy_utc(out.latest_cloud_watch_logs_delivery_time()),
        latest_cloudwatch_logs_delivery_error: out.latest_cloud_watch_logs_delivery_error().filter(|e| !e.is_empty()).map(str::to_string),
    })
}

pub async fn event_selectors(client: &aws_sdk_cloudtrail::Client, trail_arn: &str) -> Result<EventSelectors, String> {
    let out = client.get_event_selectors().trail_name(trail_arn).send().await.map_err(|e| format!("GetEventSelectors {trail_arn}: {}", describe(e)))?;
    let strings = |v: &[String]| v.to_vec();
    Ok(EventSelectors {
        classic: out
            .event_selectors()
            .iter()
            .map(|s| ClassicSelector {
                read_write_type: s.read_write_type().map(|t| t.as_str().to_string()).unwrap_or_else(|| "All".into()),
                include_management_events: s.include_management_events().unwrap_or(true),
                exclude_management_event_sources: strings(s.exclude_management_event_sources()),
            })
            .collect(),
        advanced: out
            .advanced_event_selectors()
            .iter()
            .map(|s| AdvancedSelector {
                name: s.name().map(str::to_string),
                field_selectors: s
                    .field_selectors()
                    .iter()
                    .map(|f| FieldSelector {
                        field: f.field().to_string(),
                        equals: strings(f.equals()),
                        starts_with: strings(f.starts_with()),
                        ends_with: strings(f.ends_with()),
                        not_equals: strings(f.not_equals()),
                        not_starts_with: strings(f.not_starts_with()),
                        not_ends_with: strings(f.not_ends_with()),
                    })
                    .collect(),
            })
            .collect(),
    })
}

/// Public access block, versioning (with MFA delete) and Object Lock of the trail's bucket.
/// "Not configured" answers are facts, not errors.
pub async fn bucket_hardening(s3: &aws_sdk_s3::Client, bucket: &str) -> Bucket {
    let public_access_block = match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => Fetched::Ok(out.public_access_block_configuration().map(|c| PublicAccessBlock {
            block_public_acls: c.block_public_acls().unwrap_or(false),
            ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
            block_public_policy: c.block_public_policy().unwrap_or(false),
            restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
        })),
        Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => Fetched::Ok(None),
        Err(e) => Fetched::Error(format!("GetPublicAccessBlock {bucket}: {}", describe(e))),
    };
    let versioning = match s3.get_bucket_versioning().bucket(bucket).send().await {
        Ok(out) => Fetched::Ok(Versioning {
            status: out.status().map(|s| s.as_str().to_string()),
            mfa_delete: out.mfa_delete().map(|s| s.as_str().to_string()),
        }),
        Err(e) => Fetched::Error(format!("GetBucketVersioning {bucket}: {}", describe(e))),
    };
    let object_lock_enabled = match s3.get_object_lock_configuration().bucket(bucket).send().await {
        Ok(out) => Fetched::Ok(
            out.object_lock_configuration()
                .and_then(|c| c.object_lock_enabled())
                .is_some_and(|e| e.as_str() == "Enabled"),
        ),
        Err(e) if e.code() == Some("ObjectLockConfigurationNotFoundError") => Fetched::Ok(false),
        Err(e) => Fetched::Error(format!("GetObjectLockConfiguration {bucket}: {}", describe(e))),
    };
    Bucket { public_access_block, versioning, object_lock_enabled }
}

pub async fn metric_filters(logs: &aws_sdk_cloudwatchlogs::Client, log_group: &str) -> Result<Vec<MetricFilter>, String> {
    let mut filters = Vec::new();
    let (mut pages, mut token) = (PageTokens::default(), None);
    loop {
        let out = logs
            .describe_metric_filters()
            .log_group_name(log_group)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| format!("DescribeMetricFilters {log_group}: {}", describe(e)))?;
        filters.extend(out.metric_filters().iter().map(|f| MetricFilter {
            name: f.filter_name().unwrap_or_default().to_string(),
            pattern: f.filter_pattern().unwrap_or_default().to_string(),
            transformations: f
                .metric_transformations()
                .iter()
                .map(|t| MetricTransformation {
                    namespace: t.metric_namespace().to_string(),
                    name: t.metric_name().to_string(),
                    value: t.metric_value().to_string(),
                    default_value: t.default_value(),
                })
                .collect(),
        }));
        token = pages.next(out.next_token()).map_err(|e| format!("DescribeMetricFilters {log_group}: {e}"))?;
        if token.is_none() {
            return Ok(filters);
        }
    }
}

pub async fn metric_alarms(cloudwatch: &aws_sdk_cloudwatch::Client) -> Result<Vec<Alarm>, String> {
    let mut alarms = Vec::new();
    let (mut pages, mut token) = (PageTokens::default(), None);
    loop {
        let out = cloudwatch
            .describe_alarms()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| format!("DescribeAlarms: {}", describe(e)))?;
        alarms.extend(out.metric_alarms().iter().map(|a| Alarm {
            name: a.alarm_name().unwrap_or_default().to_string(),
            arn: a.alarm_arn().map(str::to_string),
            namespace: a.namespace().map(str::to_string),
            metric_name: a.metric_name().map(str::to_string),
            statistic: a.statistic().map(|s| s.as_str().to_string()).or_else(|| a.extended_statistic().map(str::to_string)),
            period: a.period(),
            evaluation_periods: a.evaluation_periods(),
            datapoints_to_alarm: a.datapoints_to_alarm(),
            threshold: a.threshold(),
            comparison: a.comparison_operator().map(|c| c.as_str().to_string()),
            actions_enabled: a.actions_enabled().unwrap_or(false),
            alarm_actions: a.alarm_actions().to_vec(),
            dimensions: a.dimensions().iter().map(|d| format!("{}={}", d.name().unwrap_or_default(), d.value().unwrap_or_default())).collect(),
            uses_metric_math: !a.metrics().is_empty(),
            treat_missing_data: a.treat_missing_data().map(str::to_string),
        }));
        token = pages.next(out.next_token()).map_err(|e| format!("DescribeAlarms: {e}"))?;
        if token.is_none() {
            return Ok(alarms);
        }
    }
}

/// Whether the topic exists, and its subscriptions.
pub async fn sns_topic(sns: &aws_sdk_sns::Client, arn: &str) -> Result<Topic, String> {
    match sns.get_topic_attributes().topic_arn(arn).send().await {
        Ok(_) => {}
        Err(e) if e.code() == Some("NotFound") => return Ok(Topic { exists: false, subscriptions: Vec::new() }),
        Err(e) => return Err(format!("GetTopicAttributes {arn}: {}", describe(e))),
    }
    let mut subscriptions = Vec::new();
    let (mut pages, mut token) = (PageTokens::default(), None);
    loop {
        let out = sns
            .list_subscriptions_by_topic()
            .topic_arn(arn)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| format!("ListSubscriptionsByTopic {arn}: {}", describe(e)))?;
        subscriptions.extend(out.subscriptions().iter().map(|s| Subscription {
            arn: s.subscription_arn().unwrap_or_default().to_string(),
            protocol: s.protocol().unwrap_or_default().to_string(),
            endpoint: s.endpoint().unwrap_or_default().to_string(),
        }));
        token = pages.next(out.next_token()).map_err(|e| format!("ListSubscriptionsByTopic {arn}: {e}"))?;
        if token.is_none() {
            return Ok(Topic { exists: true, subscriptions });
        }
    }
}
