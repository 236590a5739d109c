//! Amazon S3 (or an S3-compatible endpoint) as an evidence source.
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::Client;

use super::{Object, Source, SourceError};

pub struct S3Source {
    client: Client,
}

impl S3Source {
    pub fn new(client: Client) -> S3Source {
        S3Source { client }
    }
}

fn access<E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> SourceError {
    match e.code() {
        Some(code) => SourceError::Access(format!("{code}: {}", e.message().unwrap_or("(no message)"))),
        None => SourceError::Access(DisplayErrorContext(e).to_string()),
    }
}

#[async_trait::async_trait]
impl Source for S3Source {
    async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        stop: &(dyn for<'k> Fn(&'k str) -> bool + Sync),
    ) -> Result<Vec<String>, SourceError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_start_after(start_after.map(str::to_string))
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(access)?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                if stop(key) {
                    return Ok(keys);
                }
                keys.push(key.to_string());
            }
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => return Ok(keys),
            }
        }
    }

    async fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .delimiter("/")
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(access)?;
            for p in page.common_prefixes() {
                if let Some(name) = p.prefix().and_then(|p| p.strip_prefix(prefix)).and_then(|p| p.strip_suffix('/')) {
                    names.push(name.to_string());
                }
            }
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => return Ok(names),
            }
        }
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        let out = match self.client.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Err(SourceError::NotFound),
            Err(e) => return Err(access(e)),
        };
        let metadata = out
            .metadata()
            .map(|m| m.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect())
            .unwrap_or_default();
        let etag = out.e_tag().map(str::to_string);
        let version_id = out.version_id().map(str::to_string);
        Ok(Object { metadata, body: Box::pin(out.body.into_async_read()), etag, version_id })
    }

    fn describe(&self) -> String {
        "s3".into()
    }
}
