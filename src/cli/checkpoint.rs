//! `--checkpoint FILE|s3://bucket/key`: where a scheduled audit keeps its checkpoint. Reading and
//! writing only; the format is `crate::checkpoint`, the checks are the pipeline's.
use std::path::PathBuf;

use aws_sdk_s3::primitives::ByteStream;

use super::RunError;
use crate::aws::{self, AwsOptions};
use crate::checkpoint::{Checkpoint, MAX_BYTES};

/// Where the checkpoint lives.
pub enum Store {
    File(PathBuf),
    S3 { bucket: String, key: String },
}

impl Store {
    pub fn parse(location: &str) -> Result<Store, RunError> {
        match location.strip_prefix("s3://") {
            Some(rest) => match rest.split_once('/') {
                Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() && !key.ends_with('/') => {
                    Ok(Store::S3 { bucket: bucket.to_string(), key: key.to_string() })
                }
                _ => Err(RunError::Usage(format!("--checkpoint {location}: an S3 checkpoint is s3://BUCKET/KEY, the key naming one object"))),
            },
            None if location.is_empty() => Err(RunError::Usage("--checkpoint: give a file or s3://BUCKET/KEY".into())),
            None => Ok(Store::File(PathBuf::from(location))),
        }
    }

    fn name(&self) -> String {
        match self {
            Store::File(p) => p.display().to_string(),
            Store::S3 { bucket, key } => format!("s3://{bucket}/{key}"),
        }
    }

    /// The checkpoint for `trail_arn`, or None when there is none yet (the first run). A file that
    /// is there but is not a checkpoint for this trail is a usage error: nothing is overwritten.
    pub async fn load(&self, aws_opts: &AwsOptions, trail_arn: &str) -> Result<Option<Checkpoint>, RunError> {
        let bytes = match self {
            Store::File(path) => match std::fs::metadata(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(RunError::Usage(format!("--checkpoint {}: {e}", self.name()))),
                Ok(m) if m.len() > MAX_BYTES => return Err(RunError::Usage(format!("--checkpoint {}: {} bytes, larger than any checkpoint ({MAX_BYTES})", self.name(), m.len()))),
                Ok(_) => std::fs::read(path).map_err(|e| RunError::Usage(format!("--checkpoint {}: {e}", self.name())))?,
            },
            Store::S3 { bucket, key } => {
                let client = client(aws_opts, bucket).await?;
                let out = match client.get_object().bucket(bucket).key(key).send().await {
                    Ok(out) => out,
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
                    Err(e) => return Err(RunError::Unavailable(format!("reading --checkpoint {}: {}", self.name(), aws::describe(e)))),
                };
                if out.content_length().is_some_and(|n| n as u64 > MAX_BYTES) {
                    return Err(RunError::Usage(format!("--checkpoint {}: larger than any checkpoint ({MAX_BYTES} bytes)", self.name())));
                }
                let body = out.body.collect().await.map_err(|e| RunError::Unavailable(format!("reading --checkpoint {}: {e}", self.name())))?;
                body.into_bytes().to_vec()
            }
        };
        Checkpoint::parse(&bytes, trail_arn).map(Some).map_err(|e| RunError::Usage(format!("--checkpoint {}: {e}", self.name())))
    }

    /// Writes the checkpoint whole: a file through a temporary name renamed over it, so that an
    /// interrupted run leaves the old checkpoint, never half of a new one.
    pub async fn save(&self, aws_opts: &AwsOptions, checkpoint: &Checkpoint) -> Result<(), String> {
        let text = checkpoint.render();
        match self {
            Store::File(path) => {
                let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
                let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|e| e.to_string())?;
                file.persist(path).map_err(|e| e.to_string())?;
                Ok(())
            }
            Store::S3 { bucket, key } => {
                let client = client(aws_opts, bucket).await.map_err(|e| e.to_string())?;
                let put = client.put_object().bucket(bucket).key(key).content_type("application/json").body(ByteStream::from(text.into_bytes()));
                put.send().await.map(|_| ()).map_err(aws::describe)
            }
        }
    }

    pub fn describe(&self) -> String {
        self.name()
    }
}

async fn client(aws_opts: &AwsOptions, bucket: &str) -> Result<aws_sdk_s3::Client, RunError> {
    // GetBucketLocation answers for any bucket from us-east-1.
    let home = aws::sdk_config(aws_opts, Some(aws_opts.region.clone().unwrap_or_else(|| "us-east-1".into()))).await;
    aws::bucket_client(&home, aws_opts, bucket).await.map_err(|e| RunError::Unavailable(format!("--checkpoint s3://{bucket}/…: {e}")))
}
