//! A document the CLI reads or writes whole, in a local file or an S3 object (`s3://BUCKET/KEY`):
//! the checkpoint, the plan, the unit reports. Local writes go through a temporary name renamed
//! over the target, so an interrupted run leaves the old document, never half of a new one; an S3
//! object is replaced whole by PutObject.
use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;

use super::RunError;
use crate::aws::{self, AwsOptions};

/// Where one document lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    S3 { bucket: String, key: String },
}

impl Location {
    /// `--{flag} FILE|s3://BUCKET/KEY`.
    pub fn parse(flag: &str, location: &str) -> Result<Location, RunError> {
        match location.strip_prefix("s3://") {
            Some(rest) => match rest.split_once('/') {
                Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() && !key.ends_with('/') => {
                    Ok(Location::S3 { bucket: bucket.to_string(), key: key.to_string() })
                }
                _ => Err(RunError::Usage(format!("--{flag} {location}: an S3 location is s3://BUCKET/KEY, the key naming one object"))),
            },
            None if location.is_empty() => Err(RunError::Usage(format!("--{flag}: give a file or s3://BUCKET/KEY"))),
            None => Ok(Location::File(PathBuf::from(location))),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Location::File(p) => p.display().to_string(),
            Location::S3 { bucket, key } => format!("s3://{bucket}/{key}"),
        }
    }

    /// The document's bytes, or None when there is none. `what` names the document in errors
    /// ("checkpoint"); a document larger than `max` is refused unread.
    pub async fn read(&self, flag: &str, what: &str, aws_opts: &AwsOptions, max: u64) -> Result<Option<Vec<u8>>, RunError> {
        match self {
            Location::File(path) => read_file(path, flag, what, max),
            Location::S3 { bucket, key } => get(&client(aws_opts, flag, bucket).await?, bucket, key, flag, what, max).await,
        }
    }

    /// Writes the document whole.
    pub async fn write(&self, flag: &str, aws_opts: &AwsOptions, bytes: Vec<u8>) -> Result<(), String> {
        match self {
            Location::File(path) => write_file(path, &bytes),
            Location::S3 { bucket, key } => put(&client(aws_opts, flag, bucket).await.map_err(|e| e.to_string())?, bucket, key, bytes).await,
        }
    }
}

/// A local file's bytes, or None when it does not exist.
pub fn read_file(path: &Path, flag: &str, what: &str, max: u64) -> Result<Option<Vec<u8>>, RunError> {
    let name = path.display();
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RunError::Usage(format!("--{flag} {name}: {e}"))),
        Ok(m) if m.len() > max => Err(RunError::Usage(format!("--{flag} {name}: {} bytes, larger than any {what} ({max})", m.len()))),
        Ok(_) => std::fs::read(path).map(Some).map_err(|e| RunError::Usage(format!("--{flag} {name}: {e}"))),
    }
}

/// Writes a local file through a temporary file in its directory, renamed over it.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::io::Write::write_all(&mut file, bytes).map_err(|e| e.to_string())?;
    file.persist(path).map_err(|e| e.to_string())?;
    Ok(())
}

/// An S3 client for `bucket`, in its region.
pub async fn client(aws_opts: &AwsOptions, flag: &str, bucket: &str) -> Result<aws_sdk_s3::Client, RunError> {
    // GetBucketLocation answers for any bucket from us-east-1.
    let home = aws::sdk_config(aws_opts, Some(aws_opts.region.clone().unwrap_or_else(|| "us-east-1".into()))).await;
    aws::bucket_client(&home, aws_opts, bucket).await.map_err(|e| RunError::Unavailable(format!("--{flag} s3://{bucket}/…: {e}")))
}

/// An object's bytes, or None when there is no such key.
pub async fn get(client: &aws_sdk_s3::Client, bucket: &str, key: &str, flag: &str, what: &str, max: u64) -> Result<Option<Vec<u8>>, RunError> {
    let out = match client.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => out,
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
        Err(e) => return Err(RunError::Unavailable(format!("reading --{flag} s3://{bucket}/{key}: {}", aws::describe(e)))),
    };
    if out.content_length().is_some_and(|n| n as u64 > max) {
        return Err(RunError::Usage(format!("--{flag} s3://{bucket}/{key}: larger than any {what} ({max} bytes)")));
    }
    let body = out.body.collect().await.map_err(|e| RunError::Unavailable(format!("reading --{flag} s3://{bucket}/{key}: {e}")))?;
    Ok(Some(body.into_bytes().to_vec()))
}

/// Replaces an object whole.
pub async fn put(client: &aws_sdk_s3::Client, bucket: &str, key: &str, bytes: Vec<u8>) -> Result<(), String> {
    let put = client.put_object().bucket(bucket).key(key).content_type("application/json").body(ByteStream::from(bytes));
    put.send().await.map(|_| ()).map_err(aws::describe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse() {
        assert_eq!(Location::parse("plan", "s3://b/k/p.json").unwrap(), Location::S3 { bucket: "b".into(), key: "k/p.json".into() });
        assert_eq!(Location::parse("plan", "p.json").unwrap(), Location::File("p.json".into()));
        for bad in ["", "s3://", "s3://b", "s3://b/", "s3:///k", "s3://b/dir/"] {
            assert_eq!(Location::parse("plan", bad).unwrap_err().exit_code(), 2, "{bad}");
        }
    }
}
