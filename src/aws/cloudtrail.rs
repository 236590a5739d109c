//! The CloudTrail (and Organizations) calls of validate-logs: where a trail delivers, its
//! public keys, its status, and the caller's organization.
use chrono::{DateTime, Utc};

use super::{cloudtrail_client, describe, sdk_config, smithy_time, smithy_utc, AwsOptions, PageTokens};
use crate::integrity::keys::{KeyRing, PublicKey};

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
        .ok_or_else(|| format!("trail {trail_arn} not found by DescribeTrails; check --trail-arn and the credentials' account, or give --s3-bucket to skip the lookup"))?;
    Ok(TrailInfo {
        bucket: trail.s3_bucket_name().ok_or("trail has no S3 bucket")?.to_string(),
        prefix: trail.s3_key_prefix().filter(|p| !p.is_empty()).map(str::to_string),
        is_organization_trail: trail.is_organization_trail().unwrap_or(false),
    })
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
pub async fn organization_id(conf: &aws_config::SdkConfig) -> Result<String, String> {
    let out = aws_sdk_organizations::Client::new(conf)
        .describe_organization()
        .send()
        .await
        .map_err(|e| format!("DescribeOrganization: {}", describe(e)))?;
    out.organization().and_then(|o| o.id()).map(str::to_string).ok_or_else(|| "DescribeOrganization returned no ID".to_string())
}
