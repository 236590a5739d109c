//! Where trusted public keys come from: CloudTrail's ListPublicKeys (see `aws`), or a key file
//! for offline use. Keys are never taken from the evidence being checked.
use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::integrity::keys::{KeyError, KeyRing};

#[async_trait::async_trait]
pub trait KeySource: Send + Sync {
    /// The keys of `region` whose validity overlaps `[start, end]`.
    async fn keys(&self, region: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<KeyRing, String>;
}

/// Keys from a file, in either shape:
/// - `{"PublicKeyList": [...]}` as `aws cloudtrail list-public-keys` prints: used for every region;
/// - `{"us-east-1": {"PublicKeyList": [...]}, ...}` as `trailproof keys export` writes: per region.
///
/// Validity windows are still enforced per digest; the file's keys are not filtered by range.
#[derive(Debug, Default)]
pub struct FileKeys {
    any_region: Option<KeyRing>,
    by_region: BTreeMap<String, KeyRing>,
}

impl FileKeys {
    pub fn parse(bytes: &[u8]) -> Result<FileKeys, KeyError> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| KeyError::Json(e.to_string()))?;
        if value.get("PublicKeyList").is_some() {
            return Ok(FileKeys { any_region: Some(KeyRing::from_list_public_keys_json(bytes)?), by_region: BTreeMap::new() });
        }
        let object = value.as_object().ok_or_else(|| KeyError::Json("expected an object".into()))?;
        let mut by_region = BTreeMap::new();
        for (region, list) in object {
            by_region.insert(region.clone(), KeyRing::from_list_public_keys_json(list.to_string().as_bytes())?);
        }
        Ok(FileKeys { any_region: None, by_region })
    }

    /// Whether the file lists no key at all (not even one refused): nothing could be verified
    /// with it, which is a mistake in the command, not a finding about the evidence.
    pub fn lists_no_key(&self) -> bool {
        let rings = || self.any_region.iter().chain(self.by_region.values());
        rings().all(|r| r.is_empty()) && self.rejected().is_empty()
    }

    /// Every key rejected while reading the file, for warnings.
    pub fn rejected(&self) -> Vec<(String, String)> {
        self.any_region
            .iter()
            .chain(self.by_region.values())
            .flat_map(|r| r.rejected().map(|(a, b)| (a.clone(), b.clone())))
            .collect()
    }
}

#[async_trait::async_trait]
impl KeySource for FileKeys {
    async fn keys(&self, region: &str, _start: DateTime<Utc>, _end: DateTime<Utc>) -> Result<KeyRing, String> {
        match (&self.any_region, self.by_region.get(region)) {
            (Some(ring), _) | (None, Some(ring)) => Ok(ring.clone()),
            (None, None) => Err(format!("the key file has no keys for region {region}")),
        }
    }
}

/// Wraps a key source and remembers every key it handed out, per region (for exports).
pub struct RecordingKeys<'a> {
    inner: &'a dyn KeySource,
    seen: Mutex<BTreeMap<String, KeyRing>>,
}

impl<'a> RecordingKeys<'a> {
    pub fn new(inner: &'a dyn KeySource) -> Self {
        RecordingKeys { inner, seen: Mutex::new(BTreeMap::new()) }
    }

    /// `{region: {"PublicKeyList": [...]}}`, the by-region key-file shape.
    pub fn to_json(&self) -> serde_json::Value {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        serde_json::Value::Object(seen.iter().map(|(r, ring)| (r.clone(), ring.to_list_public_keys_json())).collect())
    }
}

#[async_trait::async_trait]
impl KeySource for RecordingKeys<'_> {
    async fn keys(&self, region: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<KeyRing, String> {
        let ring = self.inner.keys(region, start, end).await?;
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).entry(region.to_string()).or_default().merge(ring.clone());
        Ok(ring)
    }
}
