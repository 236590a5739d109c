//! The AWS edge: credentials and clients, one way to describe an SDK error, pagination guards,
//! and the calls validate-logs makes (`cloudtrail`). It knows no baseline types: the baseline
//! maps SDK answers into its snapshot in `baseline::gather`.
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudtrail::error::{ProvideErrorMetadata, SdkError};
use chrono::{DateTime, TimeZone, Utc};

pub mod cloudtrail;
pub use cloudtrail::{describe_trail, list_public_keys, organization_id, trail_status, ApiKeys, TrailInfo};

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
/// chain of causes (timeout, connection, credentials); never a dump of the raw response.
pub fn describe<E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static>(e: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> String {
    match (e.code(), &e) {
        (Some(code), _) => format!("{code}: {}", e.message().unwrap_or("(no message)")),
        (None, SdkError::ServiceError(se)) => format!("HTTP {} with no AWS error code", se.raw().status().as_u16()),
        // No answer at all: the fix is on this side.
        (None, SdkError::TimeoutError(_)) => format!("{}; check the network and --endpoint-url, or raise --connect-timeout/--read-timeout", causes(&e)),
        (None, SdkError::DispatchFailure(d)) if d.is_io() || d.is_timeout() => format!("{}; check the network (proxy, firewall, DNS) and --endpoint-url", causes(&e)),
        (None, _) => causes(&e),
    }
}

/// Each cause's first line, outermost first, joined: the SDK's `DisplayErrorContext` ends with a
/// debug dump of the whole chain, several hundred characters of it for missing credentials.
fn causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        // "no credentials found in chain. Attempted:" is followed by one line per provider.
        let line = text.lines().next().unwrap_or_default().trim().trim_end_matches(':').trim_end_matches(" Attempted").trim_end_matches('.').to_string();
        // "failed to apply endpoint `…` to request `Request { body: … }`": the request is a dump.
        let line = match line.find(" to request `") {
            Some(at) => line[..at].to_string(),
            None => line,
        };
        // The connector's error kind says nothing ("other").
        if !line.is_empty() && line != "other" && !lines.iter().any(|l| l.contains(&line)) {
            lines.push(line);
        }
        next = err.source();
    }
    let text = lines.join(": ");
    if text.contains("failed to apply endpoint") {
        return format!("{text}; give an http(s) URL in --endpoint-url or AWS_ENDPOINT_URL(_S3, _CLOUDTRAIL, …)");
    }
    if text.contains("no credentials") {
        return format!("{text}; configure AWS credentials (environment, profile, SSO or instance role)");
    }
    text
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

/// An S3 client in the bucket's own region, found with GetBucketLocation through `home`'s region.
pub async fn bucket_client(home: &SdkConfig, opts: &AwsOptions, bucket: &str) -> Result<aws_sdk_s3::Client, String> {
    let region = bucket_region(&s3_client(home, opts), bucket).await?;
    Ok(s3_client(&sdk_config(opts, Some(region)).await, opts))
}

/// The bucket's region; GetBucketLocation answers an empty constraint for us-east-1.
pub async fn bucket_region(client: &aws_sdk_s3::Client, bucket: &str) -> Result<String, String> {
    let out = client.get_bucket_location().bucket(bucket).send().await.map_err(|e| {
        let fix = match e.code() {
            Some("NoSuchBucket") => "; check --s3-bucket (or the trail's bucket) and --endpoint-url",
            Some("AccessDenied") => "; allow s3:GetBucketLocation on the bucket",
            _ => "",
        };
        format!("GetBucketLocation {bucket}: {}{fix}", describe(e))
    })?;
    Ok(match out.location_constraint().map(|c| c.as_str()) {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(r) => r.to_string(),
    })
}

/// A smithy time as chrono's, to the second.
pub fn smithy_utc(t: Option<&aws_sdk_cloudtrail::primitives::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| Utc.timestamp_opt(t.secs(), 0).single())
}

fn smithy_time(t: DateTime<Utc>) -> aws_sdk_cloudtrail::primitives::DateTime {
    aws_sdk_cloudtrail::primitives::DateTime::from_secs(t.timestamp())
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
