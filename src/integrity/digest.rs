//! CloudTrail digest files: strict gunzip, typed parsing, and the hash of the inflated bytes.
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::integrity::gzip::{self, GzipError};
use crate::limits::Limits;
use crate::time::parse_cloudtrail_time;

/// The only algorithm CloudTrail has ever used for digests and log-file hashes.
pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";
pub const HASH_ALGORITHM: &str = "SHA-256";

/// A digest file as CloudTrail documents it ("CloudTrail digest file structure").
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    /// The account the digest was delivered for.
    pub aws_account_id: String,
    /// Start of the UTC period the digest covers; equals the previous digest's end in a chain.
    pub digest_start_time: String,
    /// End of the covered period; the first line of the string to sign.
    pub digest_end_time: String,
    /// Bucket CloudTrail delivered this digest to.
    #[serde(rename = "digestS3Bucket")]
    pub digest_s3_bucket: String,
    /// Key CloudTrail delivered this digest to.
    #[serde(rename = "digestS3Object")]
    pub digest_s3_object: String,
    /// Hex MD5 of the DER public key whose private half signed this digest.
    pub digest_public_key_fingerprint: String,
    /// Always `SHA256withRSA`.
    pub digest_signature_algorithm: String,
    /// Newest event time over the listed log files; absent when none were delivered.
    #[serde(default)]
    pub newest_event_time: Option<String>,
    /// Oldest event time over the listed log files.
    #[serde(default)]
    pub oldest_event_time: Option<String>,
    /// Bucket of the previous digest; null when this digest starts a chain.
    #[serde(rename = "previousDigestS3Bucket", default)]
    pub previous_digest_s3_bucket: Option<String>,
    /// Key of the previous digest; null when this digest starts a chain.
    #[serde(rename = "previousDigestS3Object", default)]
    pub previous_digest_s3_object: Option<String>,
    /// Hex SHA-256 of the previous digest's inflated bytes.
    #[serde(default)]
    pub previous_digest_hash_value: Option<String>,
    /// Always `SHA-256` when present.
    #[serde(default)]
    pub previous_digest_hash_algorithm: Option<String>,
    /// Hex signature of the previous digest, as in its `signature` metadata; null starts a chain.
    /// Required, even as null: absent is a format error (see [`REQUIRED_FIELDS`]).
    #[serde(deserialize_with = "nullable")]
    pub previous_digest_signature: Option<String>,
    /// The log files delivered in the covered period.
    pub log_files: Vec<LogFileEntry>,
}

/// One `logFiles[]` entry: a log file and the hash CloudTrail recorded for it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogFileEntry {
    #[serde(rename = "s3Bucket")]
    pub s3_bucket: String,
    #[serde(rename = "s3Object")]
    pub s3_object: String,
    /// Hex SHA-256 of the log file's uncompressed bytes.
    pub hash_value: String,
    pub hash_algorithm: String,
    #[serde(default)]
    pub newest_event_time: Option<String>,
    #[serde(default)]
    pub oldest_event_time: Option<String>,
}

/// A parsed digest together with facts derived from its exact bytes.
#[derive(Debug, Clone)]
pub struct ParsedDigest {
    pub digest: Digest,
    /// SHA-256 of the inflated bytes exactly as stored (never of a re-serialisation).
    pub sha256: [u8; 32],
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl ParsedDigest {
    /// The previous digest's location, or None when this digest starts a chain.
    pub fn previous(&self) -> Option<(&str, &str)> {
        match (&self.digest.previous_digest_s3_bucket, &self.digest.previous_digest_s3_object) {
            (Some(b), Some(k)) => Some((b.as_str(), k.as_str())),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestFormatError {
    #[error("not valid gzip: {0}")]
    Gzip(String),
    #[error("{0} bytes follow the gzip data")]
    TrailingData(usize),
    #[error("larger than the {limit}-byte limit")]
    TooLarge { limit: u64 },
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("required field '{0}' is absent")]
    MissingField(&'static str),
    #[error("field '{field}' is not a valid time: '{value}'")]
    BadTime { field: &'static str, value: String },
    #[error("digestSignatureAlgorithm is '{0}', not SHA256withRSA")]
    Algorithm(String),
}

/// Inflates exactly one gzip member (see [`gzip::Members::One`]).
pub fn gunzip_strict(gz: &[u8], max_inflated: u64) -> Result<Vec<u8>, DigestFormatError> {
    gzip::gunzip(gz, max_inflated, gzip::Members::One).map_err(|e| match e {
        GzipError::Invalid(why) => DigestFormatError::Gzip(why),
        GzipError::TrailingData(n) => DigestFormatError::TrailingData(n),
        GzipError::TooLarge { limit } => DigestFormatError::TooLarge { limit },
    })
}

/// The result of reading a digest object: the inflated hash is kept even when the JSON is bad,
/// because the next digest's link names that hash.
#[derive(Debug, Clone)]
pub struct DigestBytes {
    pub inflated_sha256: Option<[u8; 32]>,
    /// Boxed: a chain holds one per digest, and released digests hold none.
    pub parsed: Result<Box<ParsedDigest>, DigestFormatError>,
}

/// Gunzips, hashes and parses a digest object.
pub fn parse(gz: &[u8], limits: &Limits) -> DigestBytes {
    let inflated = match gunzip_strict(gz, limits.max_digest_inflated) {
        Ok(b) => b,
        Err(e) => return DigestBytes { inflated_sha256: None, parsed: Err(e) },
    };
    let sha256: [u8; 32] = Sha256::digest(&inflated).into();
    DigestBytes { inflated_sha256: Some(sha256), parsed: parse_json(&inflated, sha256).map(Box::new) }
}

/// Fields that must be present (possibly null) before a digest can be checked; the AWS CLI
/// requires the same, plus logFiles which it needs to check log files. The typed parse enforces
/// them: each is a plain field, or `nullable`, and serde refuses a missing one.
const REQUIRED_FIELDS: [&str; 8] = [
    "awsAccountId",
    "digestStartTime",
    "digestEndTime",
    "digestS3Bucket",
    "digestS3Object",
    "digestPublicKeyFingerprint",
    "previousDigestSignature",
    "logFiles",
];

/// A field that may be null but must be present: unlike a plain `Option` field, serde reports it
/// missing when absent (a field read by `deserialize_with` has no implicit default).
fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

fn parse_json(inflated: &[u8], sha256: [u8; 32]) -> Result<ParsedDigest, DigestFormatError> {
    // Typed, straight from the bytes, in one pass: a field named twice is an error ("duplicate
    // field"), not a silent choice. CloudTrail never writes one, and two verifiers picking
    // different copies (Python's json keeps the last) could be made to disagree about what was
    // signed.
    let digest: Digest = serde_json::from_slice(inflated).map_err(|e| {
        let message = e.to_string();
        let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
        match REQUIRED_FIELDS.iter().find(|f| Some(**f) == missing) {
            Some(field) => DigestFormatError::MissingField(field),
            None => DigestFormatError::Json(message),
        }
    })?;
    if digest.digest_signature_algorithm != SIGNATURE_ALGORITHM {
        return Err(DigestFormatError::Algorithm(digest.digest_signature_algorithm.clone()));
    }
    let time = |field: &'static str, value: &str| {
        parse_cloudtrail_time(value).ok_or_else(|| DigestFormatError::BadTime { field, value: value.to_string() })
    };
    let start = time("digestStartTime", &digest.digest_start_time)?;
    let end = time("digestEndTime", &digest.digest_end_time)?;
    Ok(ParsedDigest { digest, sha256, start, end })
}

/// The exact bytes CloudTrail signs: end time, `bucket/key`, hex SHA-256 of the inflated digest,
/// and the previous signature (the literal `null` when the digest starts a chain).
pub fn string_to_sign(digest: &Digest, inflated_sha256: &[u8; 32]) -> String {
    format!(
        "{}\n{}/{}\n{}\n{}",
        digest.digest_end_time,
        digest.digest_s3_bucket,
        digest.digest_s3_object,
        hex::encode(inflated_sha256),
        digest.previous_digest_signature.as_deref().unwrap_or("null")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    /// Test data is gzipped as the simulator writes it.
    use crate::sim::gzip as gz;


    const SAMPLE: &str = r#"{"awsAccountId":"111122223333","digestStartTime":"2026-03-01T04:17:42Z","digestEndTime":"2026-03-01T05:17:42Z","digestS3Bucket":"b","digestS3Object":"k","digestPublicKeyFingerprint":"ab","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[{"s3Bucket":"b","s3Object":"l","hashValue":"00","hashAlgorithm":"SHA-256","newestEventTime":"2026-03-01T05:00:00Z","oldestEventTime":"2026-03-01T04:30:00Z"}]}"#;

    #[test]
    fn parses_all_fields_and_hashes_the_exact_bytes() {
        // Reordered whitespace must change the hash: we hash bytes, never a re-serialisation.
        let spaced = SAMPLE.replace(",\"", ", \"");
        let a = parse(&gz(SAMPLE.as_bytes()), &Limits::default());
        let b = parse(&gz(spaced.as_bytes()), &Limits::default());
        let pa = a.parsed.unwrap();
        let pb = b.parsed.unwrap();
        assert_eq!(pa.digest, pb.digest);
        assert_ne!(pa.sha256, pb.sha256);
        let want: [u8; 32] = Sha256::digest(SAMPLE.as_bytes()).into();
        assert_eq!(pa.sha256, want);
        assert_eq!(pa.digest.log_files[0].s3_object, "l");
        assert_eq!(pa.previous(), None);
        assert_eq!(pa.end - pa.start, chrono::Duration::hours(1));
    }

    #[test]
    fn string_to_sign_uses_null_for_a_chain_start_and_the_signature_otherwise() {
        let mut d = parse(&gz(SAMPLE.as_bytes()), &Limits::default()).parsed.unwrap().digest;
        let h = [0xabu8; 32];
        assert_eq!(
            string_to_sign(&d, &h),
            format!("2026-03-01T05:17:42Z\nb/k\n{}\nnull", "ab".repeat(32))
        );
        d.previous_digest_signature = Some("beef".into());
        assert!(string_to_sign(&d, &h).ends_with("\nbeef"));
    }

    #[test]
    fn trailing_bytes_after_gzip_are_a_format_error() {
        let mut bytes = gz(SAMPLE.as_bytes());
        assert!(parse(&bytes, &Limits::default()).parsed.is_ok());
        bytes.extend_from_slice(b"junk");
        assert_eq!(parse(&bytes, &Limits::default()).parsed.unwrap_err(), DigestFormatError::TrailingData(4));
        // A second gzip member is trailing data too.
        let mut two = gz(SAMPLE.as_bytes());
        two.extend(gz(b"{}"));
        assert!(matches!(parse(&two, &Limits::default()).parsed, Err(DigestFormatError::TrailingData(_))));
    }

    #[test]
    fn malformed_digests_are_errors_not_panics() {
        let l = Limits::default();
        assert!(matches!(parse(b"not gzip", &l).parsed, Err(DigestFormatError::Gzip(_))));
        let full = gz(SAMPLE.as_bytes());
        assert!(matches!(parse(&full[..full.len() - 5], &l).parsed, Err(DigestFormatError::Gzip(_))));
        assert!(matches!(parse(&gz(b"[1,2]"), &l).parsed, Err(DigestFormatError::Json(_))));
        assert!(matches!(parse(&gz(b"\xff\xfe"), &l).parsed, Err(DigestFormatError::Json(_))));
        // Each required field absent is named; present as null, the nullable one is fine.
        for field in REQUIRED_FIELDS {
            let mut fields: serde_json::Map<String, serde_json::Value> = serde_json::from_str(SAMPLE).unwrap();
            fields.remove(field);
            let without = serde_json::to_vec(&fields).unwrap();
            assert_eq!(parse(&gz(&without), &l).parsed.unwrap_err(), DigestFormatError::MissingField(field));
        }
        assert!(SAMPLE.contains("\"previousDigestSignature\":null,"));
        let bad_time = SAMPLE.replace("2026-03-01T05:17:42Z", "yesterday");
        assert!(matches!(parse(&gz(bad_time.as_bytes()), &l).parsed, Err(DigestFormatError::BadTime { .. })));
        let md5 = SAMPLE.replace("SHA256withRSA", "MD5withRSA");
        assert!(matches!(parse(&gz(md5.as_bytes()), &l).parsed, Err(DigestFormatError::Algorithm(_))));
        let tiny = Limits { max_digest_inflated: 10, ..l };
        assert_eq!(parse(&full, &tiny).parsed.unwrap_err(), DigestFormatError::TooLarge { limit: 10 });
        // A format error after inflating still yields the hash the successor's link names.
        assert!(parse(&gz(b"[1]"), &l).inflated_sha256.is_some());
    }

    #[test]
    fn hostile_json_is_a_format_error() {
        let l = Limits::default();
        // A field named twice is refused, wherever it is.
        let twice = SAMPLE.replacen("\"digestEndTime\"", "\"digestEndTime\":\"2026-03-01T09:00:00Z\",\"digestEndTime\"", 1);
        let err = parse(&gz(twice.as_bytes()), &l).parsed.unwrap_err();
        assert!(matches!(&err, DigestFormatError::Json(m) if m.contains("duplicate field `digestEndTime`")), "{err}");
        let entry_twice = SAMPLE.replacen("\"hashAlgorithm\"", "\"hashValue\":\"00\",\"hashAlgorithm\"", 1);
        assert!(matches!(parse(&gz(entry_twice.as_bytes()), &l).parsed, Err(DigestFormatError::Json(m)) if m.contains("duplicate field `hashValue`")));
        // Deep nesting: serde_json skips an unknown field without recursing, and stops a known
        // one at its recursion limit (128) or at the first wrong type; never the stack.
        let deep = SAMPLE.replacen("{", &format!("{{\"x\":{}{},", "[".repeat(100_000), "]".repeat(100_000)), 1);
        assert!(parse(&gz(deep.as_bytes()), &l).parsed.is_ok());
        let deep_known = SAMPLE.replacen("\"newestEventTime\":null", &format!("\"newestEventTime\":{}{}", "[".repeat(100_000), "]".repeat(100_000)), 1);
        assert!(matches!(parse(&gz(deep_known.as_bytes()), &l).parsed, Err(DigestFormatError::Json(_))));
        // Invalid UTF-8 inside a string.
        let mut bad_utf8 = SAMPLE.as_bytes().to_vec();
        let at = SAMPLE.find(r#""digestS3Bucket":"b""#).unwrap() + r#""digestS3Bucket":""#.len();
        bad_utf8[at] = 0xff;
        let err = parse(&gz(&bad_utf8), &l).parsed.unwrap_err();
        assert!(matches!(&err, DigestFormatError::Json(m) if m.contains("unicode")), "{err}");
    }

    #[test]
    fn a_million_log_file_entries_are_bounded_by_the_inflated_limit() {
        let entry = r#"{"s3Bucket":"b","s3Object":"AWSLogs/111122223333/CloudTrail/us-east-1/x.json.gz","hashValue":"00","hashAlgorithm":"SHA-256"}"#;
        let entries = vec![entry; 1_000_000].join(",");
        let huge = SAMPLE.replacen("\"logFiles\":[", &format!("\"logFiles\":[{entries},"), 1);
        let bytes = gz(huge.as_bytes());
        assert!(huge.len() > 100 << 20);
        let l = Limits::default();
        assert_eq!(parse(&bytes, &l).parsed.unwrap_err(), DigestFormatError::TooLarge { limit: l.max_digest_inflated });
        // Under a limit that admits it, it parses: the limit is what bounds memory.
        let roomy = Limits { max_digest_inflated: 256 << 20, ..l };
        assert!(parse(&bytes, &roomy).parsed.unwrap().digest.log_files.len() > 1_000_000);
    }
}
