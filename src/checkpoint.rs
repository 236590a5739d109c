//! Checkpoints: where earlier audits left each chain of a trail, so that a scheduled audit checks
//! only what is new and still proves it links to what was verified before.
//!
//! A checkpoint is the user's own record (like a key file), written by trailproof after a run and
//! trusted as the user vouches for it: keep it where the writers of the evidence bucket cannot
//! write. It is never read from the evidence.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The format's version; a file without it is not a trailproof checkpoint.
pub const VERSION: u32 = 1;

/// One chain's newest digest that verified with everything before it in range valid: the
/// digest's location, its signature, the SHA-256 of its inflated bytes and its `digestEndTime`
/// (all signed by CloudTrail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainHead {
    pub bucket: String,
    pub key: String,
    /// Lower-case hex, as a successor's `previousDigestSignature` names it.
    pub signature: String,
    /// Lower-case hex, as a successor's `previousDigestHashValue` names it.
    pub sha256: String,
    #[serde(with = "utc")]
    pub end_time: DateTime<Utc>,
}

/// A chain's head with the chain it belongs to and when it was verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainRecord {
    pub account_id: String,
    pub region: String,
    #[serde(flatten)]
    pub head: ChainHead,
    #[serde(with = "utc")]
    pub verified_at: DateTime<Utc>,
}

/// The checkpoint document: one trail, one record per chain (account × region).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Names the format: a JSON file without it is someone else's.
    pub trailproof_checkpoint: u32,
    pub trail_arn: String,
    pub chains: Vec<ChainRecord>,
}

/// Why a file is not a checkpoint this run can use (a usage error: nothing was checked yet).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CheckpointError {
    #[error("not a trailproof checkpoint ({0})")]
    Foreign(String),
    #[error("checkpoint format version {0}; this trailproof reads version {VERSION}")]
    Version(u32),
    #[error("the checkpoint is for trail {found}, not {wanted}")]
    OtherTrail { found: String, wanted: String },
    #[error("the checkpoint records account {0} region {1} twice")]
    Duplicate(String, String),
}

/// Largest checkpoint read: thousands of chains fit many times over.
pub const MAX_BYTES: u64 = 16 << 20;

impl Checkpoint {
    pub fn new(trail_arn: &str) -> Checkpoint {
        Checkpoint { trailproof_checkpoint: VERSION, trail_arn: trail_arn.to_string(), chains: Vec::new() }
    }

    /// Reads a checkpoint for `trail_arn`.
    pub fn parse(bytes: &[u8], trail_arn: &str) -> Result<Checkpoint, CheckpointError> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| CheckpointError::Foreign(format!("not JSON: {e}")))?;
        match value.get("trailproof_checkpoint").and_then(serde_json::Value::as_u64) {
            None => return Err(CheckpointError::Foreign("no \"trailproof_checkpoint\" version field".into())),
            Some(v) if v != u64::from(VERSION) => return Err(CheckpointError::Version(u32::try_from(v).unwrap_or(u32::MAX))),
            Some(_) => {}
        }
        let checkpoint: Checkpoint = serde_json::from_value(value).map_err(|e| CheckpointError::Foreign(e.to_string()))?;
        if checkpoint.trail_arn != trail_arn {
            return Err(CheckpointError::OtherTrail { found: checkpoint.trail_arn, wanted: trail_arn.to_string() });
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &checkpoint.chains {
            if !seen.insert((&c.account_id, &c.region)) {
                return Err(CheckpointError::Duplicate(c.account_id.clone(), c.region.clone()));
            }
        }
        Ok(checkpoint)
    }

    /// The record of one chain.
    pub fn head(&self, account_id: &str, region: &str) -> Option<&ChainRecord> {
        self.chains.iter().find(|c| c.account_id == account_id && c.region == region)
    }

    /// The earliest recorded end: where chains with no record of their own start when the run
    /// gives no `--start-time`.
    pub fn earliest_end(&self) -> Option<DateTime<Utc>> {
        self.chains.iter().map(|c| c.head.end_time).min()
    }

    /// Moves each chain that verified valid to its new head; every other record stays as it was.
    pub fn advance(&mut self, verified: impl IntoIterator<Item = ChainRecord>) {
        let mut chains: BTreeMap<(String, String), ChainRecord> =
            std::mem::take(&mut self.chains).into_iter().map(|c| ((c.account_id.clone(), c.region.clone()), c)).collect();
        for record in verified {
            chains.insert((record.account_id.clone(), record.region.clone()), record);
        }
        self.chains = chains.into_values().collect();
    }

    pub fn render(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

/// Times as the reports write them (`2026-03-01T00:00:00Z`).
mod utc {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::time::display(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s).map(|t| t.with_timezone(&Utc)).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/main";

    fn record(region: &str, hour: u32) -> ChainRecord {
        let t = |h| DateTime::parse_from_rfc3339(&format!("2026-03-01T{h:02}:00:00Z")).unwrap().with_timezone(&Utc);
        ChainRecord {
            account_id: "111122223333".into(),
            region: region.into(),
            head: ChainHead { bucket: "b".into(), key: format!("k{hour}"), signature: "ab".into(), sha256: "cd".into(), end_time: t(hour) },
            verified_at: t(23),
        }
    }

    #[test]
    fn a_checkpoint_reads_back_what_it_wrote() {
        let mut c = Checkpoint::new(ARN);
        c.advance([record("us-east-1", 3), record("eu-west-1", 5)]);
        assert_eq!(Checkpoint::parse(c.render().as_bytes(), ARN).unwrap(), c);
        assert_eq!(c.earliest_end(), Some(record("x", 3).head.end_time));
    }

    #[test]
    fn advancing_replaces_only_the_chains_that_verified() {
        let mut c = Checkpoint::new(ARN);
        c.advance([record("us-east-1", 3), record("eu-west-1", 5)]);
        c.advance([record("us-east-1", 9)]);
        assert_eq!(c.head("111122223333", "us-east-1").unwrap().head.key, "k9");
        assert_eq!(c.head("111122223333", "eu-west-1").unwrap().head.key, "k5");
    }

    #[test]
    fn foreign_files_other_trails_and_versions_are_refused() {
        assert!(matches!(Checkpoint::parse(b"{\"PublicKeyList\": []}", ARN), Err(CheckpointError::Foreign(_))));
        assert!(matches!(Checkpoint::parse(b"not json", ARN), Err(CheckpointError::Foreign(_))));
        let other = Checkpoint::new("arn:aws:cloudtrail:us-east-1:111122223333:trail/other").render();
        assert!(matches!(Checkpoint::parse(other.as_bytes(), ARN), Err(CheckpointError::OtherTrail { .. })));
        let v2 = Checkpoint::new(ARN).render().replace("\"trailproof_checkpoint\": 1", "\"trailproof_checkpoint\": 2");
        assert_eq!(Checkpoint::parse(v2.as_bytes(), ARN), Err(CheckpointError::Version(2)));
        let mut twice = Checkpoint::new(ARN);
        twice.chains = vec![record("us-east-1", 3), record("us-east-1", 4)];
        assert!(matches!(Checkpoint::parse(twice.render().as_bytes(), ARN), Err(CheckpointError::Duplicate(..))));
    }
}
