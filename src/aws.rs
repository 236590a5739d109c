//! AWS clients and the CloudTrail calls trailproof makes: trail lookup, bucket region, public keys.
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudtrail::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use chrono::{DateTime, Utc};

use crate::keys::{KeyRing, PublicKey};

/// The global AWS flags, as in the AWS CLI.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// Request attempts per API call, including the first; None leaves AWS_MAX_ATTEMPTS, the
    /// profile's max_attempts or the SDK's standard mode (3) in charge.
    pub max_attempts: Option<u32>,
    pub timeouts: Timeouts,
}

/// How long trailproof waits on the network before it gives up on an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: std::time::Duration,
    /// Until a response starts (per attempt), and the longest a body may stall mid-stream.
    pub read: std::time::Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect: std::time::Duration::from_secs(10), read: std::time::Duration::from_secs(60) }
    }
}

/// Loads the standard credential chain (env, profile, SSO, IMDS) with the user's overrides.
pub async fn sdk_config(opts: &AwsOptions, region: Option<String>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(r) = region.or_else(|| opts.region.clone()) {
        loader = loader.region(Region::new(r));
    }
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(u) = &opts.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    if let Some(n) = opts.max_attempts {
        loader = loader.retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(n.max(1)));
    }
    // A stalled server must not hang a run: bound the connect, each attempt, and body stalls.
    let t = opts.timeouts;
    loader = loader
        .timeout_config(aws_config::timeout::TimeoutConfig::builder().connect_timeout(t.connect).read_timeout(t.read).operation_attempt_timeout(t.read + t.connect).build())
        .stalled_stream_protection(aws_config::stalled_stream_protection::StalledStreamProtectionConfig::enabled().grace_period(t.read).build());
    loader.load().await
}

/// Local S3 emulators and S3-compatible stores want path-style addressing.
fn custom_s3_endpoint(opts: &AwsOptions) -> bool {
    opts.endpoint_url.is_some()
        || std::env::var_os("AWS_ENDPOINT_URL").is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
}

pub fn s3_client(conf: &SdkConfig, opts: &AwsOptions) -> aws_sdk_s3::Client {
    let builder = aws_sdk_s3::config::Builder::from(conf).force_path_style(custom_s3_endpoint(opts));
    aws_sdk_s3::Client::from_conf(builder.build())
}

pub fn cloudtrail_client(conf: &SdkConfig) -> aws_sdk_cloudtrail::Client {
    aws_sdk_cloudtrail::Client::new(conf)
}

/// An SDK error in one line: the AWS error code and message, else the HTTP status, else the
/// cause (timeout, connection); never a dump of the raw response.
pub fn describe<E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static>(e: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> String {
    match (e.code(), &e) {
        (Some(code), _) => format!("{code}: {}", e.message().unwrap_or("(no message)")),
        (None, SdkError::ServiceError(se)) => format!("HTTP {} with no AWS error code", se.raw().status().as_u16()),
        (None, _) => DisplayErrorContext(e).to_string(),
    }
}

/// The page tokens of one paginated listing. A server that hands back a token it already gave
/// would be paged forever; that is an error, not the end of the list, so nothing goes unlisted
/// in silence. (The SDK's paginators stop quietly on a repeated token instead.)
#[derive(Default)]
pub struct PageTokens {
    seen: std::collections::HashSet<String>,
}

impl PageTokens {
    /// The token for the next page, or `None` after the last page.
    pub fn next(&mut self, received: Option<&str>) -> Result<Option<String>, String> {
        match received {
            Some(t) if !t.is_empty() => match self.seen.insert(t.to_string()) {
                true => Ok(Some(t.to_string())),
                false => Err(format!("the server repeated the page token {t:?}; the listing would never end")),
            },
            _ => Ok(None),
        }
    }
}

/// The bucket's region; GetBucketLocation answers an empty constraint for us-east-1.
pub async fn bucket_region(client: &aws_sdk_s3::Client, bucket: &str) -> Result<String, String> {
    let out = client.get_bucket_location().bucket(bucket).send().await.map_err(|e| format!("GetBucketLocation {bucket}: {}", describe(e)))?;
    Ok(match out.location_constraint().map(|c| c.as_str()) {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(r) => r.to_string(),
    })
}

/// Where a trail delivers: its bucket, key prefix, and whether it is an organization trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailInfo {
    pub bucket: String,
    pub prefix: Option<String>,
    pub is_organization_trail: bool,
}

pub async fn describe_trail(client: &aws_sdk_cloudtrail::Client, trail_arn: &str) -> Result<TrailInfo, String> {
    let out = client
        .describe_trails()
        .trail_name_list(trail_arn)
        .send()
        .await
        .map_err(|e| format!("DescribeTrails: {}", describe(e)))?;
    let trail = out
        .trail_list()
        .iter()
        .find(|t| t.trail_arn() == Some(trail_arn))
        .ok_or_else(|| format!("trail {trail_arn} not found by DescribeTrails"))?;
    Ok(TrailInfo {
        bucket: trail.s3_bucket_name().ok_or("trail has no S3 bucket")?.to_string(),
        prefix: trail.s3_key_prefix().filter(|p| !p.is_empty()).map(str::to_string),
        is_organization_trail: trail.is_organization_trail().unwrap_or(false),
    })
}

fn smithy_time(t: DateTime<Utc>) -> aws_sdk_cloudtrail::primitives::DateTime {
    aws_sdk_cloudtrail::primitives::DateTime::from_secs(t.timestamp())
}

/// Calls ListPublicKeys for `[start, end]`, through every page. Keys that fail their checks are
/// remembered as rejected.
pub async fn list_public_keys(client: &aws_sdk_cloudtrail::Client, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<KeyRing, String> {
    let mut ring = KeyRing::default();
    let (mut pages, mut token) = (PageTokens::default(), None);
    loop {
        let out = client
            .list_public_keys()
            .start_time(smithy_time(start))
            .end_time(smithy_time(end))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| format!("ListPublicKeys: {}", describe(e)))?;
        for k in out.public_key_list() {
            let fp = k.fingerprint().unwrap_or_default();
            let built = match (k.value(), smithy_utc(k.validity_start_time()), smithy_utc(k.validity_end_time())) {
                (Some(der), Some(from), Some(to)) => PublicKey::new(der.as_ref(), fp, from, to).map_err(|e| e.to_string()),
                _ => Err("ListPublicKeys entry lacks a value or validity time".to_string()),
            };
            match built {
                Ok(key) => ring.insert(key),
                Err(why) => ring.reject(fp, why),
            }
        }
        token = pages.next(out.next_token()).map_err(|e| format!("ListPublicKeys: {e}"))?;
        if token.is_none() {
            return Ok(ring);
        }
    }
}

/// ListPublicKeys in each region, through the user's credentials.
pub struct ApiKeys {
    pub options: AwsOptions,
}

#[async_trait::async_trait]
impl crate::keysource::KeySource for ApiKeys {
    async fn keys(&self, region: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<KeyRing, String> {
        let conf = sdk_config(&self.options, Some(region.to_string())).await;
        list_public_keys(&cloudtrail_client(&conf), start, end).await
    }
}

/// GetTrailStatus, reduced to what the tail check needs.
pub async fn trail_status(client: &aws_sdk_cloudtrail::Client, trail_arn: &str) -> Result<crate::integrity::completeness::TrailStatus, String> {
    let out = client.get_trail_status().name(trail_arn).send().await.map_err(|e| format!("GetTrailStatus: {}", describe(e)))?;
    Ok(crate::integrity::completeness::TrailStatus {
        is_logging: out.is_logging(),
        latest_digest_delivery: smithy_utc(out.latest_digest_delivery_time()),
        start_logging: smithy_utc(out.start_logging_time()),
        stop_logging: smithy_utc(out.stop_logging_time()),
    })
}

/// The caller's organization ID, for organization trails' `AWSLogs/{organization}/` layout.
pub async fn organization_id(conf: &SdkConfig) -> Result<String, String> {
    let out = aws_sdk_organizations::Client::new(conf)
        .describe_organization()
        .send()
        .await
        .map_err(|e| format!("DescribeOrganization: {}", describe(e)))?;
    out.organization().and_then(|o| o.id()).map(str::to_string).ok_or_else(|| "DescribeOrganization returned no ID".to_string())
}

use crate::baseline::snapshot::{
    smithy_utc, AdvancedSelector, Alarm, Bucket, ClassicSelector, EventSelectors, FieldSelector, Fetched, MetricFilter, MetricTransformation,
    PublicAccessBlock, Subscription, Topic, TrailStatus as BaselineTrailStatus, Versioning,
};

/// GetTrailStatus, with the CloudWatch Logs delivery fields the baseline needs.
pub async fn trail_status_full(client: &aws_sdk_cloudtrail::Client, trail_arn: &str) -> Result<BaselineTrailStatus, String> {
    let out = client.get_trail_status().name(trail_arn).send().await.map_err(|e| format!("GetTrailStatus {trail_arn}: {}", describe(e)))?;
    Ok(BaselineTrailStatus {
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

#[cfg(test)]
mod tests {
    use super::PageTokens;

    #[test]
    fn page_tokens_end_on_none_or_empty_and_refuse_a_repeat() {
        let mut pages = PageTokens::default();
        assert_eq!(pages.next(Some("a")), Ok(Some("a".into())));
        assert_eq!(pages.next(Some("b")), Ok(Some("b".into())));
        // A cycle back to an earlier token, not only the one just sent, would loop too.
        let err = pages.next(Some("a")).unwrap_err();
        assert!(err.contains("repeated the page token \"a\""), "{err}");
        assert_eq!(PageTokens::default().next(None), Ok(None));
        assert_eq!(PageTokens::default().next(Some("")), Ok(None));
    }
}
