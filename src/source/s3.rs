//! Amazon S3 (or an S3-compatible endpoint) as an evidence source.
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
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

/// Anything S3 said other than the object itself, in the AWS edge's one wording.
fn access<E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static>(e: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> SourceError {
    SourceError::Access(crate::aws::describe(e))
}

impl S3Source {
    /// Pages through ListObjectsV2, handing each page to `page` until it returns false.
    async fn pages(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        delimiter: Option<&str>,
        mut page: impl FnMut(&aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output) -> bool,
    ) -> Result<(), SourceError> {
        let (mut pages, mut token) = (crate::aws::PageTokens::default(), None);
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_start_after(start_after.map(str::to_string))
                .set_delimiter(delimiter.map(str::to_string))
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(access)?;
            if !page(&out) {
                return Ok(());
            }
            if out.is_truncated() != Some(true) {
                return Ok(());
            }
            let listing = |why: String| SourceError::Access(format!("ListObjectsV2 s3://{bucket}/{prefix}: {why}"));
            token = pages.next(out.next_continuation_token()).map_err(listing)?;
            if token.is_none() {
                // Truncated, but the rest of the listing cannot be asked for.
                return Err(listing("truncated, with no continuation token".into()));
            }
        }
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
        self.pages(bucket, prefix, start_after, None, |out| {
            for key in out.contents().iter().filter_map(|o| o.key()) {
                if stop(key) {
                    return false;
                }
                keys.push(key.to_string());
            }
            true
        })
        .await?;
        Ok(keys)
    }

    async fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        let mut names = Vec::new();
        self.pages(bucket, prefix, None, Some("/"), |out| {
            let found = out.common_prefixes().iter().filter_map(|p| p.prefix()?.strip_prefix(prefix)?.strip_suffix('/'));
            names.extend(found.map(str::to_string));
            true
        })
        .await?;
        Ok(names)
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
        Ok(Object { metadata, body: super::Body::Stream(Box::pin(out.body.into_async_read())), etag, version_id })
    }

    fn describe(&self) -> String {
        "s3".into()
    }
}
