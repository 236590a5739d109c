//! The findings model: what trailproof found about the evidence, in a stable public vocabulary.
use serde::{Deserialize, Serialize};

/// A finding kind. The snake_case names are a stable public interface (JSON `kind`), frozen by a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    DigestMissing,
    DigestSignatureInvalid,
    DigestFormatInvalid,
    DigestMoved,
    DigestKeyUnknown,
    DigestChainMismatch,
    DigestChainGap,
    DigestTailMissing,
    DigestCheckpointMismatch,
    LogMissing,
    LogHashMismatch,
    LogFormatInvalid,
    LogUnreferenced,
    AccessError,
    Unchecked,
    KeyFileMismatch,
}

impl FindingKind {
    pub const ALL: [FindingKind; 16] = [
        FindingKind::DigestMissing,
        FindingKind::DigestSignatureInvalid,
        FindingKind::DigestFormatInvalid,
        FindingKind::DigestMoved,
        FindingKind::DigestKeyUnknown,
        FindingKind::DigestChainMismatch,
        FindingKind::DigestChainGap,
        FindingKind::DigestTailMissing,
        FindingKind::DigestCheckpointMismatch,
        FindingKind::LogMissing,
        FindingKind::LogHashMismatch,
        FindingKind::LogFormatInvalid,
        FindingKind::LogUnreferenced,
        FindingKind::AccessError,
        FindingKind::Unchecked,
        FindingKind::KeyFileMismatch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::DigestMissing => "digest_missing",
            FindingKind::DigestSignatureInvalid => "digest_signature_invalid",
            FindingKind::DigestFormatInvalid => "digest_format_invalid",
            FindingKind::DigestMoved => "digest_moved",
            FindingKind::DigestKeyUnknown => "digest_key_unknown",
            FindingKind::DigestChainMismatch => "digest_chain_mismatch",
            FindingKind::DigestChainGap => "digest_chain_gap",
            FindingKind::DigestTailMissing => "digest_tail_missing",
            FindingKind::DigestCheckpointMismatch => "digest_checkpoint_mismatch",
            FindingKind::LogMissing => "log_missing",
            FindingKind::LogHashMismatch => "log_hash_mismatch",
            FindingKind::LogFormatInvalid => "log_format_invalid",
            FindingKind::LogUnreferenced => "log_unreferenced",
            FindingKind::AccessError => "access_error",
            FindingKind::Unchecked => "unchecked",
            FindingKind::KeyFileMismatch => "key_file_mismatch",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            FindingKind::DigestMissing => "a digest file the chain or the hourly cadence requires is not in the bucket",
            FindingKind::DigestSignatureInvalid => "the digest's SHA256withRSA signature does not verify, or its signature metadata is absent or unusable",
            FindingKind::DigestFormatInvalid => "the digest is not a single gzip member holding the documented JSON fields",
            FindingKind::DigestMoved => "the digest states a bucket or key other than where it lies",
            FindingKind::DigestKeyUnknown => "no trusted public key with the digest's fingerprint was valid at its end time",
            FindingKind::DigestChainMismatch => "a digest's link to its predecessor (signature or hash) does not match, or a digest lies off the chain",
            FindingKind::DigestChainGap => "a span of time with no digest chain covering it (logging or validation was off, or nothing was found)",
            FindingKind::DigestTailMissing => "digests are missing from the newest end of the chain",
            FindingKind::DigestCheckpointMismatch => "the digest an earlier audit verified last (its checkpoint) is gone or changed, or the chain no longer links to it as that audit saw it",
            FindingKind::LogMissing => "a log file listed in a verified digest is not in the bucket",
            FindingKind::LogHashMismatch => "a log file's SHA-256 differs from the one its digest recorded",
            FindingKind::LogFormatInvalid => "a log file listed in a verified digest is not a single well-formed gzip member",
            FindingKind::LogUnreferenced => "a log file that no digest lists",
            FindingKind::AccessError => "trailproof could not read something it needed; it is not counted as valid",
            FindingKind::Unchecked => "something in range could not be checked (no signature to check it with, no trail status, a link leaving the trail's folder); the message says how to make it checkable",
            FindingKind::KeyFileMismatch => "no key in the --public-keys file signed any digest of a region (each is digest_key_unknown): the file is likely for another region or time range",
        }
    }

    /// A short name for reports (a SARIF rule's name, a JUnit test's title).
    pub fn title(self) -> &'static str {
        match self {
            FindingKind::DigestMissing => "Digest file missing",
            FindingKind::DigestSignatureInvalid => "Digest signature invalid",
            FindingKind::DigestFormatInvalid => "Digest file malformed",
            FindingKind::DigestMoved => "Digest file moved",
            FindingKind::DigestKeyUnknown => "Digest signed by an unknown key",
            FindingKind::DigestChainMismatch => "Digest chain link broken",
            FindingKind::DigestChainGap => "Digest chain gap",
            FindingKind::DigestTailMissing => "Newest digests missing",
            FindingKind::DigestCheckpointMismatch => "Chain differs from the last audit",
            FindingKind::LogMissing => "Log file missing",
            FindingKind::LogHashMismatch => "Log file changed",
            FindingKind::LogFormatInvalid => "Log file malformed",
            FindingKind::LogUnreferenced => "Log file no digest lists",
            FindingKind::AccessError => "Could not read",
            FindingKind::Unchecked => "Not checked",
            FindingKind::KeyFileMismatch => "Key file matches no digest",
        }
    }

    /// What to do about a finding of this kind.
    pub fn remediation(self) -> &'static str {
        match self {
            FindingKind::DigestMissing | FindingKind::DigestTailMissing | FindingKind::LogMissing => {
                "Treat as possible deletion: compare with S3 versions and server access logs, and preserve the bucket as evidence."
            }
            FindingKind::DigestSignatureInvalid
            | FindingKind::DigestFormatInvalid
            | FindingKind::DigestMoved
            | FindingKind::DigestChainMismatch
            | FindingKind::DigestCheckpointMismatch
            | FindingKind::LogHashMismatch
            | FindingKind::LogFormatInvalid => "Treat as tampering: preserve the object and its versions, and investigate who wrote it (S3 server access logs, CloudTrail data events).",
            FindingKind::DigestKeyUnknown => "Check the key source: pass the region's ListPublicKeys answer (`trailproof keys export`) or allow cloudtrail:ListPublicKeys.",
            FindingKind::DigestChainGap => "Confirm logging or log file validation was off for the span (StopLogging / UpdateTrail events); otherwise treat as deletion.",
            FindingKind::LogUnreferenced => "Treat as possible injection unless the message says it lies outside every verified period.",
            FindingKind::AccessError => "Grant read access (s3:GetObject, s3:ListBucket, cloudtrail:ListPublicKeys) or fix the network, then run again.",
            FindingKind::KeyFileMismatch => "Write a key file for the trail's region and range: `trailproof keys export --key-region REGION --start-time … --end-time … --out keys.json`, or drop --public-keys to use ListPublicKeys.",
            FindingKind::Unchecked => "Do what the message says to make it checkable (metadata, trail status, key file or range), then run again.",
        }
    }

    /// Gaps are expected when logging stops; everything else means evidence is bad or unchecked.
    pub fn default_severity(self) -> Severity {
        match self {
            // A hint beside the digest_key_unknown errors it explains, which decide the verdict.
            FindingKind::DigestChainGap | FindingKind::KeyFileMismatch => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// Findings that say something was not checked: they make a verdict incomplete, never invalid.
    pub fn is_unchecked(self) -> bool {
        matches!(self, FindingKind::AccessError | FindingKind::Unchecked)
    }

    pub fn is_digest(self) -> bool {
        self.as_str().starts_with("digest_")
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One thing trailproof found about one object (or one span of time) of the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    pub region: String,
    pub account_id: String,
    pub bucket: String,
    pub key: String,
    pub message: String,
    /// The finding's context as data (e.g. `expected` and `actual` hashes; a gap's `from`, `to`
    /// and `count`), for machines; `message` says the same for people.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl Finding {
    /// Adds one detail.
    pub fn with(mut self, name: &str, value: impl Into<serde_json::Value>) -> Finding {
        self.details.insert(name.to_string(), value.into());
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }
}

/// Where in the evidence a finding belongs: the trail's account and source region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub account_id: String,
    pub region: String,
}

impl Scope {
    pub fn finding(&self, kind: FindingKind, bucket: &str, key: &str, message: impl Into<String>) -> Finding {
        Finding {
            kind,
            severity: kind.default_severity(),
            region: self.region.clone(),
            account_id: self.account_id.clone(),
            bucket: bucket.to_string(),
            key: key.to_string(),
            message: message.into(),
            details: serde_json::Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vocabulary is public: renaming a kind breaks users' pipelines.
    #[test]
    fn finding_kinds_are_frozen() {
        let names: Vec<String> = FindingKind::ALL
            .iter()
            .map(|k| serde_json::to_value(k).unwrap().as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "digest_missing",
                "digest_signature_invalid",
                "digest_format_invalid",
                "digest_moved",
                "digest_key_unknown",
                "digest_chain_mismatch",
                "digest_chain_gap",
                "digest_tail_missing",
                "digest_checkpoint_mismatch",
                "log_missing",
                "log_hash_mismatch",
                "log_format_invalid",
                "log_unreferenced",
                "access_error",
                "unchecked",
                "key_file_mismatch"
            ]
        );
        for k in FindingKind::ALL {
            assert_eq!(k.as_str(), serde_json::to_value(k).unwrap().as_str().unwrap());
            assert!(!k.description().is_empty() && !k.title().is_empty() && !k.remediation().is_empty());
        }
    }
}
