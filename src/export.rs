//! `trailproof export`: copies what a validation reads (digests, log files, their S3 metadata)
//! plus every log file listed in range into a local evidence directory, with a manifest. The copy
//! verifies later with `validate-logs --source DIR --public-keys DIR/public-keys.json`, offline.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::source::dir::{DirSource, SIDECAR_SUFFIX};
use crate::source::{Object, Source, SourceError};

/// One copied object, as recorded in `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// A source that copies every object it serves into `root` (the `--source` layout) and remembers
/// every key it listed.
pub struct RecordingSource {
    inner: Arc<dyn Source>,
    root: PathBuf,
    copied: Mutex<BTreeMap<(String, String), ManifestEntry>>,
    listed: Mutex<Vec<(String, String)>>,
}

impl RecordingSource {
    pub fn new(inner: Arc<dyn Source>, root: &Path) -> RecordingSource {
        RecordingSource { inner, root: root.to_path_buf(), copied: Mutex::default(), listed: Mutex::default() }
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
            let object = self.inner.get(bucket, key).await?;
            let mut body = object.body.into_async();
            // The path check refuses keys that would leave the export directory.
            let path = local.object_path(bucket, key)?;
            let io = |e: std::io::Error| SourceError::Access(format!("writing {}: {e}", path.display()));
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent).await.map_err(io)?;
            }
            let mut file = tokio::fs::File::create(&path).await.map_err(io)?;
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = body.read(&mut buf).await.map_err(|e| SourceError::Access(format!("reading s3://{bucket}/{key}: {e}")))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                size += n as u64;
                file.write_all(&buf[..n]).await.map_err(io)?;
            }
            file.flush().await.map_err(io)?;
            if !object.metadata.is_empty() {
                let mut sidecar = path.clone().into_os_string();
                sidecar.push(SIDECAR_SUFFIX);
                let json = serde_json::to_vec_pretty(&object.metadata).map_err(|e| SourceError::Access(e.to_string()))?;
                tokio::fs::write(&sidecar, json).await.map_err(io)?;
            }
            let entry = ManifestEntry {
                bucket: bucket.to_string(),
                key: key.to_string(),
                size,
                sha256: hex::encode(hasher.finalize()),
                etag: object.etag,
                version_id: object.version_id,
                metadata: object.metadata,
            };
            self.copied.lock().unwrap_or_else(|e| e.into_inner()).insert((bucket.to_string(), key.to_string()), entry);
        }
        // Serve the copy, so what was checked is exactly what was saved.
        local.get(bucket, key).await
    }

    fn describe(&self) -> String {
        format!("{} (copying to {})", self.inner.describe(), self.root.display())
    }
}
