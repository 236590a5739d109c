//! Where evidence comes from: S3 or a local directory, behind one small trait.
use std::collections::BTreeMap;
use std::pin::Pin;

use tokio::io::AsyncRead;

pub mod dir;
#[cfg(feature = "aws")]
pub mod s3;

/// An object's bytes: a stream (S3), or a local file, which a worker thread can read and hash in
/// one go rather than hopping threads for every read.
pub enum Body {
    Stream(Pin<Box<dyn AsyncRead + Send>>),
    File(std::fs::File),
}

impl Body {
    pub fn into_async(self) -> Pin<Box<dyn AsyncRead + Send>> {
        match self {
            Body::Stream(s) => s,
            Body::File(f) => Box::pin(tokio::fs::File::from_std(f)),
        }
    }
}

/// An object's body (streamed) and user metadata (lower-case names, without `x-amz-meta-`).
pub struct Object {
    pub metadata: BTreeMap<String, String>,
    pub body: Body,
    /// S3's ETag and version ID, where the source has them (recorded in export manifests).
    pub etag: Option<String>,
    pub version_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("not found")]
    NotFound,
    /// Anything that stopped us from looking: denied, throttled past retries, network, bad path.
    #[error("{0}")]
    Access(String),
}

/// A bucket-and-key store of evidence.
#[async_trait::async_trait]
pub trait Source: Send + Sync {
    /// Keys under `prefix` after `start_after`, in ascending order. Listing stops before the first
    /// key for which `stop` is true, so the cost follows the range, not the bucket.
    async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        stop: &(dyn for<'k> Fn(&'k str) -> bool + Sync),
    ) -> Result<Vec<String>, SourceError>;

    /// The names one level below `prefix` (which ends in '/'), like S3's common prefixes with a
    /// '/' delimiter: regions under `CloudTrail-Digest/`, accounts under an organization.
    async fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError>;

    async fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError>;

    /// A local source's files, opened on the calling (worker) thread: a log file's open, read,
    /// inflate and hash then cost one hop. None for a remote source (use `get`).
    fn local(&self) -> Option<&dyn LocalFiles> {
        None
    }

    /// A human name for messages (`s3://` or a directory).
    fn describe(&self) -> String;
}

/// A source whose objects are local files (see [`Source::local`]).
pub trait LocalFiles: Send + Sync {
    /// Opens an object's body, blocking, with the same checks as `get` but without its metadata,
    /// and says how large it was when opened (a hint: the file may still change). `folders` keeps
    /// folders open between calls (a batch of log files shares a few).
    fn open(&self, folders: &mut dir::Folders, bucket: &str, key: &str) -> Result<(std::fs::File, u64), SourceError>;

    /// Opens an object with its metadata, blocking: `get` on the calling (worker) thread.
    fn open_object(&self, folders: &mut dir::Folders, bucket: &str, key: &str) -> Result<Object, SourceError>;
}

/// [`read_bounded`] of a local file, on the calling (blocking) thread.
pub fn read_bounded_blocking(file: std::fs::File, max: u64) -> Result<Vec<u8>, SourceError> {
    use std::io::Read;
    // The file's size spares the many small reads of a buffer grown from empty. A hint only, and
    // within the bound: a file that grew is still read to the bound, one that shrank to its end.
    let size = file.metadata().map_or(0, |m| m.len()).min(max.saturating_add(1));
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max.saturating_add(1)).read_to_end(&mut out).map_err(|e| SourceError::Access(format!("reading body: {e}")))?;
    Ok(out)
}

/// Reads a whole (small) object, but never more than `max + 1` bytes: a longer result means the
/// object is over the limit.
pub async fn read_bounded(body: Body, max: u64) -> Result<Vec<u8>, SourceError> {
    use tokio::io::AsyncReadExt;
    let mut out = Vec::new();
    body.into_async()
        .take(max.saturating_add(1))
        .read_to_end(&mut out)
        .await
        .map_err(|e| SourceError::Access(format!("reading body: {e}")))?;
    Ok(out)
}
