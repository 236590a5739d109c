//! A local evidence copy: `ROOT/{bucket}/{key}`, with each object's S3 user metadata in a sidecar
//! `ROOT/{bucket}/{key}.metadata.json` (a flat JSON object of strings).
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use super::{Object, Source, SourceError};

pub const SIDECAR_SUFFIX: &str = ".metadata.json";

pub struct DirSource {
    root: PathBuf,
}

impl DirSource {
    pub fn new(root: impl Into<PathBuf>) -> DirSource {
        DirSource { root: root.into() }
    }

    /// Maps a bucket and key to a path, refusing anything that could leave the root: keys come
    /// from evidence and are hostile until checked.
    fn path(&self, bucket: &str, key: &str) -> Result<PathBuf, SourceError> {
        let mut path = self.bucket_path(bucket)?;
        path.push(checked(key)?);
        Ok(path)
    }

    /// Where `bucket`/`key` lies under the root; refuses keys that would leave it.
    pub fn object_path(&self, bucket: &str, key: &str) -> Result<PathBuf, SourceError> {
        self.path(bucket, key)
    }

    fn bucket_path(&self, bucket: &str) -> Result<PathBuf, SourceError> {
        Ok(self.root.join(checked(bucket)?))
    }
}

fn checked(part: &str) -> Result<&Path, SourceError> {

    let rel = Path::new(part);
    if part.is_empty() || part.contains('\\') || part.contains('\0')
        || !rel.components().all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(SourceError::Access(format!("refusing unsafe path component '{part}'")));
    }
    Ok(rel)
}

#[async_trait::async_trait]
impl Source for DirSource {
    async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        stop: &(dyn for<'k> Fn(&'k str) -> bool + Sync),
    ) -> Result<Vec<String>, SourceError> {
        let bucket_root = self.bucket_path(bucket)?;
        // Only descend into the directory the prefix names; keys are '/'-separated like S3's.
        let dir_part = prefix.rfind('/').map(|i| &prefix[..i]).unwrap_or("");
        let start = if dir_part.is_empty() { bucket_root.clone() } else { self.path(bucket, dir_part)? };
        let (prefix, start_after) = (prefix.to_string(), start_after.map(str::to_string));
        // One blocking hop for the whole walk, not one per directory entry.
        let walked = tokio::task::spawn_blocking(move || walk(&bucket_root, start, &prefix, start_after.as_deref())).await;
        let mut keys = walked.map_err(|e| SourceError::Access(format!("listing task failed: {e}")))??;
        keys.sort();
        if let Some(cut) = keys.iter().position(|k| stop(k)) {
            keys.truncate(cut);
        }
        Ok(keys)
    }

    async fn list_prefixes(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        let dir = match prefix.trim_end_matches('/') {
            "" => self.bucket_path(bucket)?,
            p => self.path(bucket, p)?,
        };
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(SourceError::Access(format!("{}: {e}", dir.display()))),
        };
        let mut names = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(|e| SourceError::Access(e.to_string()))? {
            if entry.file_type().await.is_ok_and(|t| t.is_dir()) {
                if let Ok(name) = entry.file_name().into_string() {
                    names.push(name);
                }
            }
        }
        names.sort();
        Ok(names)
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        let path = self.path(bucket, key)?;
        // Open, check and read the sidecar in one blocking hop.
        let opened = tokio::task::spawn_blocking(move || open_with_sidecar(&path)).await;
        opened.map_err(|e| SourceError::Access(format!("opening task failed: {e}")))?
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

/// The keys under `start` (below `bucket_root`) that begin with `prefix` and sort after
/// `start_after`, sidecars excluded.
fn walk(bucket_root: &Path, start: PathBuf, prefix: &str, start_after: Option<&str>) -> Result<Vec<String>, SourceError> {
    if !bucket_root.is_dir() {
        return Err(SourceError::Access(format!("no bucket directory {}", bucket_root.display())));
    }
    let mut keys = Vec::new();
    let mut stack = vec![start];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(SourceError::Access(format!("{}: {e}", dir.display()))),
        };
        for entry in entries {
            let entry = entry.map_err(|e| SourceError::Access(e.to_string()))?;
            let path = entry.path();
            if entry.file_type().map_err(|e| SourceError::Access(e.to_string()))?.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(rel) = path.strip_prefix(bucket_root) else { continue };
            let Some(key) = rel.to_str().map(|s| s.replace(std::path::MAIN_SEPARATOR, "/")) else { continue };
            if key.ends_with(SIDECAR_SUFFIX) || !key.starts_with(prefix) || start_after.is_some_and(|s| key.as_str() <= s) {
                continue;
            }
            keys.push(key);
        }
    }
    Ok(keys)
}

fn open_with_sidecar(path: &Path) -> Result<Object, SourceError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(SourceError::NotFound),
        Err(e) => return Err(SourceError::Access(format!("{}: {e}", path.display()))),
    };
    if !file.metadata().map_err(|e| SourceError::Access(e.to_string()))?.is_file() {
        return Err(SourceError::Access(format!("{} is not a file", path.display())));
    }
    let mut sidecar = path.as_os_str().to_owned();
    sidecar.push(SIDECAR_SUFFIX);
    let metadata = match std::fs::read(&sidecar) {
        Ok(bytes) => serde_json::from_slice::<BTreeMap<String, String>>(&bytes)
            .map_err(|e| SourceError::Access(format!("{}: not a JSON object of strings: {e}", Path::new(&sidecar).display())))?
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(SourceError::Access(e.to_string())),
    };
    Ok(Object { metadata, body: super::Body::File(file), etag: None, version_id: None })
}

/// Writes an object and its metadata sidecar in the layout `DirSource` reads.
pub fn write_object(root: &Path, bucket: &str, key: &str, body: &[u8], metadata: &BTreeMap<String, String>) -> std::io::Result<()> {
    let path = DirSource::new(root)
        .path(bucket, key)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&path, body)?;
    if !metadata.is_empty() {
        let mut sidecar = path.into_os_string();
        sidecar.push(SIDECAR_SUFFIX);
        std::fs::write(sidecar, serde_json::to_vec_pretty(metadata)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_root() {
        let d = DirSource::new("/evidence");
        assert_eq!(d.path("b", "AWSLogs/1/x.json.gz").unwrap(), PathBuf::from("/evidence/b/AWSLogs/1/x.json.gz"));
        for bad in ["../x", "a/../../x", "/etc/passwd", "a\\..\\x", ""] {
            assert!(d.path("b", bad).is_err(), "{bad}");
        }
        assert!(d.path("..", "x").is_err());
    }
}
