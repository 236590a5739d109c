//! `trailproof export`: copies what a validation reads (digests, log files, their S3 metadata)
//! plus every log file listed in range into a local evidence directory, with a manifest. The copy
//! verifies later with `validate-logs --source DIR --public-keys DIR/public-keys.json`, offline.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::limits::Limits;
use crate::source::dir::{DirSource, SIDECAR_SUFFIX};
use crate::source::{Object, Source, SourceError};

/// `manifest.json`: what was exported, and every object copied.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Manifest {
    pub schema_version: crate::report::schema::Version<{ crate::report::schema::EXPORT_MANIFEST }>,
    pub tool: crate::report::evidence::Tool,
    pub trail_arn: String,
    /// The range exported, RFC 3339.
    pub start_time: String,
    pub end_time: String,
    pub exported_at: String,
    pub regions: Vec<String>,
    pub accounts: Vec<String>,
    pub objects: Vec<ManifestEntry>,
}

/// One copied object, as recorded in `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ManifestEntry {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// SHA-256 of the stored (compressed) bytes.
    pub sha256: String,
    pub etag: Option<String>,
    pub version_id: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

/// The largest object an export copies: the larger of the digest limit and the inflated log file
/// limit. A log file's gzip bytes exceed its inflated size only by gzip's framing (a few bytes per
/// 32 KiB stored block), so anything larger fails validation anyway; the bound is what stops a
/// hostile bucket from filling the disk.
pub fn max_object_bytes(limits: &Limits) -> u64 {
    limits.max_digest_bytes.max(limits.max_log_inflated)
}

/// A source that copies every object it serves into `root` (the `--source` layout) and remembers
/// every key it listed.
///
/// The objects are untrusted:
/// - An object whose key ends in `.metadata.json` is refused (an access error, so the export is
///   incomplete): in the `--source` layout that name is the metadata sidecar of the object named
///   without the suffix, so copying it would replace or forge that object's metadata.
/// - An object over `max_object_bytes` is refused, and nothing of it is kept.
/// - Each body is written under a temporary name and renamed into place only once complete, so a
///   failed copy never leaves a partial object that a later `--source` run could read.
pub struct RecordingSource {
    inner: Arc<dyn Source>,
    root: PathBuf,
    max_object_bytes: u64,
    copied: Mutex<BTreeMap<(String, String), ManifestEntry>>,
    listed: Mutex<Vec<(String, String)>>,
}

/// Makes temporary names unique within this process (the pid makes them unique across runs).
static TEMPORARY: AtomicU64 = AtomicU64::new(0);

impl RecordingSource {
    /// `max_object_bytes`: the largest body copied (see `max_object_bytes(&Limits)`).
    pub fn new(inner: Arc<dyn Source>, root: &Path, max_object_bytes: u64) -> RecordingSource {
        RecordingSource { inner, root: root.to_path_buf(), max_object_bytes, copied: Mutex::default(), listed: Mutex::default() }
    }

    /// Copies every listed object not copied yet (log files no digest references, chiefly).
    pub async fn copy_listed(&self) -> Vec<(String, String, SourceError)> {
        let listed = self.listed.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut failures = Vec::new();
        for (bucket, key) in listed {
            let done = self.copied.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&(bucket.clone(), key.clone()));
            if !done {
                if let Err(e) = self.get(&bucket, &key).await {
                    failures.push((bucket, key, e));
                }
            }
        }
        failures
    }

    pub fn manifest(&self) -> Vec<ManifestEntry> {
        self.copied.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }

    /// Copies `object` to `path` (its sidecar beside it) and returns its manifest entry.
    async fn copy(&self, bucket: &str, key: &str, object: Object, path: &Path) -> Result<ManifestEntry, SourceError> {
        let io = |e: std::io::Error| SourceError::Access(format!("writing {}: {e}", path.display()));
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io)?;
        }
        let temporary = temporary_name(path);
        let written = self.write_body(bucket, key, object.body.into_async(), &temporary).await;
        let (size, sha256) = match written {
            Ok(done) => done,
            Err(e) => {
                let _ = tokio::fs::remove_file(&temporary).await;
                return Err(e);
            }
        };
        // The sidecar goes in first: a body never stands without the metadata it came with, and a
        // sidecar left from an earlier export into the same folder never outlives its object.
        let mut sidecar = path.as_os_str().to_owned();
        sidecar.push(SIDECAR_SUFFIX);
        let placed = async {
            if object.metadata.is_empty() {
                match tokio::fs::remove_file(&sidecar).await {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
                    _ => {}
                }
            } else {
                let json = serde_json::to_vec_pretty(&object.metadata).map_err(|e| SourceError::Access(e.to_string()))?;
                let sidecar_temporary = temporary_name(Path::new(&sidecar));
                let wrote = write_new(&sidecar_temporary, &json).await;
                let renamed = match wrote {
                    Ok(()) => tokio::fs::rename(&sidecar_temporary, &sidecar).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = renamed {
                    let _ = tokio::fs::remove_file(&sidecar_temporary).await;
                    return Err(io(e));
                }
            }
            tokio::fs::rename(&temporary, path).await.map_err(io)
        }
        .await;
        if let Err(e) = placed {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(e);
        }
        Ok(ManifestEntry {
            bucket: bucket.to_string(),
            key: key.to_string(),
            size,
            sha256,
            etag: object.etag,
            version_id: object.version_id,
            metadata: object.metadata,
        })
    }

    /// Streams `body` into the new file `temporary`, stopping at the object limit; returns the
    /// size and SHA-256.
    async fn write_body(&self, bucket: &str, key: &str, mut body: std::pin::Pin<Box<dyn AsyncRead + Send>>, temporary: &Path) -> Result<(u64, String), SourceError> {
        let io = |e: std::io::Error| SourceError::Access(format!("writing {}: {e}", temporary.display()));
        let mut file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(temporary).await.map_err(io)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = body.read(&mut buf).await.map_err(|e| SourceError::Access(format!("reading s3://{bucket}/{key}: {e}")))?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if size > self.max_object_bytes {
                return Err(SourceError::Access(format!(
                    "s3://{bucket}/{key} is larger than the {}-byte limit for one object; not copied",
                    self.max_object_bytes
                )));
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n]).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
        Ok((size, hex::encode(hasher.finalize())))
    }
}

/// A name beside `path` for writing it before it is complete. It starts with a dot and ends
/// `.partial`, and is created exclusively, so it never replaces a file already there.
fn temporary_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = TEMPORARY.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}-{n}.partial", std::process::id()))
}

async fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = tokio::fs::OpenOptions::new().write(true).create_new(true).open(path).await?;
    file.write_all(bytes).await?;
    file.flush().await
}

#[async_trait::async_trait]
impl Source for RecordingSource {
    async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        stop: &(dyn for<'k> Fn(&'k str) -> bool + Sync),
    ) -> Result<Vec<String>, SourceError> {
        let keys = self.inner.list(bucket, prefix, start_after, stop).await?;
        self.listed.lock().unwrap_or_else(|e| e.into_inner()).extend(keys.iter().map(|k| (bucket.to_string(), k.clone())));
        Ok(keys)
    }

    async fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        self.inner.list_prefixes(bucket, prefix).await
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        let local = DirSource::new(&self.root);
        if !self.copied.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&(bucket.to_string(), key.to_string())) {
            if let Some(owner) = key.strip_suffix(SIDECAR_SUFFIX) {
                return Err(SourceError::Access(format!(
                    "s3://{bucket}/{key}: not copied: its name ends in '{SIDECAR_SUFFIX}', which in the evidence copy is the metadata sidecar of s3://{bucket}/{owner}"
                )));
            }
            // The path check refuses keys that would leave the export directory.
            let path = local.object_path(bucket, key)?;
            let object = self.inner.get(bucket, key).await?;
            let entry = self.copy(bucket, key, object, &path).await?;
            self.copied.lock().unwrap_or_else(|e| e.into_inner()).insert((bucket.to_string(), key.to_string()), entry);
        }
        // Serve the copy, so what was checked is exactly what was saved.
        local.get(bucket, key).await
    }

    fn describe(&self) -> String {
        format!("{} (copying to {})", self.inner.describe(), self.root.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::dir::tests::refused;
    use crate::source::dir::write_object;

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    /// Every file under `root`, relative, sorted.
    fn files(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
                }
            }
        }
        out.sort();
        out
    }

    fn exporting(max: u64) -> (tempfile::TempDir, tempfile::TempDir, RecordingSource) {
        let (from, to) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let meta = BTreeMap::from([("signature".to_string(), "00".to_string())]);
        write_object(from.path(), "b", "logs/k.json.gz", b"0123456789", &meta).unwrap();
        write_object(from.path(), "b", "logs/big", &[7u8; 1000], &BTreeMap::new()).unwrap();
        let inner: Arc<dyn Source> = Arc::new(DirSource::new(from.path()));
        let recorder = RecordingSource::new(inner, to.path(), max);
        (from, to, recorder)
    }

    #[test]
    fn object_named_like_a_sidecar_is_not_copied() {
        let (_from, to, recorder) = exporting(100);
        // In S3 this is an object of its own; copied, it would become the metadata of the other.
        refused(run(recorder.get("b", "logs/k.json.gz.metadata.json")), "metadata sidecar of s3://b/logs/k.json.gz");
        assert!(files(to.path()).is_empty(), "{:?}", files(to.path()));
        assert!(recorder.manifest().is_empty());
        let copied = run(recorder.get("b", "logs/k.json.gz")).unwrap();
        assert_eq!(copied.metadata["signature"], "00");
        assert_eq!(files(to.path()), ["b/logs/k.json.gz", "b/logs/k.json.gz.metadata.json"]);
    }

    #[test]
    fn object_over_the_limit_is_not_copied_and_leaves_no_file() {
        let (_from, to, recorder) = exporting(100);
        refused(run(recorder.get("b", "logs/big")), "100-byte limit");
        assert!(files(to.path()).is_empty(), "{:?}", files(to.path()));
        assert!(recorder.manifest().is_empty());
        // At the limit is fine.
        let (_from, to, recorder) = exporting(1000);
        assert!(run(recorder.get("b", "logs/big")).is_ok());
        assert_eq!(files(to.path()), ["b/logs/big"]);
        assert_eq!(recorder.manifest()[0].size, 1000);
    }

    #[test]
    fn stale_sidecar_does_not_outlive_a_recopied_object() {
        // Exporting again into the same folder: the object now has no metadata, so the old
        // sidecar must not lend it some.
        let (_from, to, recorder) = exporting(1000);
        std::fs::create_dir_all(to.path().join("b/logs")).unwrap();
        std::fs::write(to.path().join("b/logs/big.metadata.json"), br#"{"signature":"ff"}"#).unwrap();
        let copied = run(recorder.get("b", "logs/big")).unwrap();
        assert!(copied.metadata.is_empty(), "{:?}", copied.metadata);
        assert_eq!(files(to.path()), ["b/logs/big"]);
    }

    #[test]
    fn limit_covers_digests_and_inflated_log_files() {
        let limits = Limits::default();
        assert_eq!(max_object_bytes(&limits), limits.max_log_inflated);
        let small = Limits { max_digest_bytes: 1 << 30, max_log_inflated: 1 << 20, ..limits };
        assert_eq!(max_object_bytes(&small), 1 << 30);
    }
}
