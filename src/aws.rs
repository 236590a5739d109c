//! AWS clients and the CloudTrail calls trailproof makes: trail lookup, bucket region, public keys.
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudtrail::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use chrono::{DateTime, TimeZone, Utc};

use crate::keys::{KeyRing, PublicKey};

/// The global AWS flags, as in the AWS CLI.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
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

fn describe<E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> String {
    match e.code() {
        Some(code) => format!("{code}: {}", e.message().unwrap_or("(no message)")),
        None => DisplayErrorContext(e).to_string(),
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
    let mut token = None;
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
            let time = |t: Option<&aws_sdk_cloudtrail::primitives::DateTime>| t.and_then(|t| Utc.timestamp_opt(t.secs(), 0).single());
            let built = match (k.value(), time(k.validity_start_time()), time(k.validity_end_time())) {
                (Some(der), Some(from), Some(to)) => PublicKey::new(der.as_ref(), fp, from, to).map_err(|e| e.to_string()),
                _ => Err("ListPublicKeys entry lacks a value or validity time".to_string()),
            };
            match built {
                Ok(key) => ring.insert(key),
                Err(why) => ring.reject(fp, why),
            }
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(ring),
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
    let time = |t: Option<&aws_sdk_cloudtrail::primitives::DateTime>| t.and_then(|t| Utc.timestamp_opt(t.secs(), 0).single());
    Ok(crate::integrity::completeness::TrailStatus {
        is_logging: out.is_logging(),
        latest_digest_delivery: time(out.latest_digest_delivery_time()),
        start_logging: time(out.start_logging_time()),
        stop_logging: time(out.stop_logging_time()),
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
