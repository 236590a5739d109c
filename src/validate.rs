//! Runs a validation: lists and fetches digests and log files from a source, then hands the bytes
//! to the pure core and assembles the report. Fetching overlaps under a concurrency bound; the
//! report's order is fixed by the chain walk, not by completion order.
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures::{stream, StreamExt};

use crate::finding::{Finding, FindingKind, Scope, Severity};
use crate::integrity::chain::{self, DigestMetadata, DigestSlot, Fetched, Naming};
use crate::integrity::digest::{self, LogFileEntry, HASH_ALGORITHM};
use crate::integrity::logfile::{self, LogVerdict};
use crate::keys::KeyRing;
use crate::limits::Limits;
use crate::source::{read_bounded, Source, SourceError};

/// Which trail's digests to validate, and where they lie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub trail_arn: String,
    pub trail_name: String,
    /// The region in the trail's ARN; part of every digest's file name.
    pub home_region: String,
    /// The region whose events the digests cover (`CloudTrail-Digest/{region}/`).
    pub source_region: String,
    pub account_id: String,
    pub bucket: String,
    pub prefix: Option<String>,
}

impl Target {
    /// `{prefix/}AWSLogs/{account}/CloudTrail-Digest/{region}/`
    pub fn digest_dir(&self) -> String {
        let prefix = self.prefix.as_deref().map(|p| format!("{}/", p.trim_end_matches('/'))).unwrap_or_default();
        format!("{prefix}AWSLogs/{}/CloudTrail-Digest/{}/", self.account_id, self.source_region)
    }

    /// `{account}_CloudTrail-Digest_{region}_{trail}_{home region}_`
    pub fn file_stem(&self) -> String {
        format!("{}_CloudTrail-Digest_{}_{}_{}_", self.account_id, self.source_region, self.trail_name, self.home_region)
    }

    /// The key a digest ending at `t` would have.
    pub fn digest_key(&self, t: DateTime<Utc>) -> String {
        format!("{}{}{}{}.json.gz", self.digest_dir(), t.format("%Y/%m/%d/"), self.file_stem(), t.format(crate::time::KEY_FORMAT))
    }

    /// Whether `key` is one of this trail's (non-backfill) digests, and its time stamp.
    pub fn digest_key_time(&self, key: &str) -> Option<DateTime<Utc>> {
        let rest = key.strip_prefix(&self.digest_dir())?;
        let (date_dirs, name) = rest.split_at_checked(11)?; // "YYYY/MM/DD/"
        let is_date = date_dirs.bytes().enumerate().all(|(i, b)| if matches!(i, 4 | 7 | 10) { b == b'/' } else { b.is_ascii_digit() });
        let stamp = name.strip_prefix(&self.file_stem())?.strip_suffix(".json.gz")?;
        if !is_date || stamp.len() != 16 {
            return None;
        }
        crate::time::parse_key_time(stamp)
    }

    fn scope(&self) -> Scope {
        Scope { account_id: self.account_id.clone(), region: self.source_region.clone() }
    }

    fn naming(&self) -> Naming {
        Naming { digest_prefix: self.digest_dir(), file_stem: self.file_stem() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// The most object requests in flight at once.
    pub concurrency: usize,
    pub limits: Limits,
}

impl Default for Options {
    fn default() -> Self {
        Options { concurrency: 32, limits: Limits::default() }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub valid: usize,
    pub invalid: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub digests: Counts,
    pub backfill_digests: Counts,
    pub log_files: Counts,
    pub unreferenced_log_files: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Valid,
    Invalid,
    Incomplete,
}

impl Verdict {
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Valid => 0,
            Verdict::Invalid => 1,
            Verdict::Incomplete => 3,
        }
    }
}

/// A file that was checked and found valid, for `--verbose` listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub is_digest: bool,
    pub bucket: String,
    pub key: String,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub trail_arn: String,
    pub requested: Range,
    pub found: Option<Range>,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub valid_files: Vec<Checked>,
    pub verdict: Verdict,
}

/// Proven tampering outranks "could not check everything"; a run that checked nothing is never valid.
fn verdict(findings: &[Finding], checked_any: bool) -> Verdict {
    if findings.iter().any(|f| f.severity == Severity::Error && f.kind != FindingKind::AccessError) {
        Verdict::Invalid
    } else if !checked_any || findings.iter().any(|f| f.kind == FindingKind::AccessError) {
        Verdict::Incomplete
    } else {
        Verdict::Valid
    }
}

/// Validates `target`'s digests and log files delivered within `range`.
pub async fn validate(source: Arc<dyn Source>, target: &Target, range: Range, keys: &KeyRing, opts: &Options) -> Report {
    let scope = target.scope();
    let mut report = Report {
        trail_arn: target.trail_arn.clone(),
        requested: range,
        found: None,
        summary: Summary::default(),
        findings: Vec::new(),
        valid_files: Vec::new(),
        verdict: Verdict::Incomplete,
    };

    // As the AWS CLI: digests stamped from a minute before the start to an hour after the end,
    // since a digest delivered after the end may cover logs from inside the range.
    let marker = target.digest_key(range.start - Duration::minutes(1));
    let last = range.end + Duration::hours(1);
    let stop = |key: &str| target.digest_key_time(key).is_some_and(|t| t > last);
    let keys_in_range = match source.list(&target.bucket, &target.digest_dir(), Some(&marker), &stop).await {
        Ok(keys) => keys,
        Err(e) => {
            report.findings.push(scope.finding(FindingKind::AccessError, &target.bucket, &target.digest_dir(), format!("could not list digests: {e}")));
            report.verdict = verdict(&report.findings, false);
            return report;
        }
    };
    let mut listed: Vec<(String, DateTime<Utc>)> = keys_in_range
        .into_iter()
        .filter_map(|k| target.digest_key_time(&k).map(|t| (k, t)))
        .filter(|(_, t)| *t >= range.start - Duration::minutes(1))
        .collect();
    listed.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));

    if listed.is_empty() {
        report.findings.push(scope.finding(
            FindingKind::DigestChainGap,
            &target.bucket,
            &target.digest_dir(),
            format!(
                "no digest files found: nothing covers {} to {}",
                crate::time::display(range.start),
                crate::time::display(range.end)
            ),
        ));
        report.verdict = verdict(&report.findings, false);
        return report;
    }

    let fetches = listed.into_iter().map(|(key, t)| (target.bucket.clone(), key, Some(t), true));
    let mut slots = fetch_digests(&source, fetches, opts).await;

    // Follow previous-digest links that leave the listing (deleted digests, another bucket) until
    // every in-range digest's predecessor has been looked up.
    loop {
        let known: std::collections::HashSet<(String, String)> = slots.iter().map(|s| (s.bucket.clone(), s.key.clone())).collect();
        let wanted: BTreeMap<(String, String), ()> = slots
            .iter()
            .filter_map(|s| s.parsed())
            .filter(|p| p.start >= range.start)
            .filter_map(|p| p.previous())
            .map(|(b, k)| ((b.to_string(), k.to_string()), ()))
            .filter(|(bk, _)| !known.contains(bk))
            .collect();
        if wanted.is_empty() {
            break;
        }
        let fetches = wanted.into_keys().map(|(b, k)| {
            let t = chain::key_time(&k);
            (b, k, t, false)
        });
        slots.extend(fetch_digests(&source, fetches, opts).await);
    }

    let chain = chain::walk(&slots, keys, range.start, &scope, &target.naming());
    report.summary.digests = Counts { valid: chain.valid, invalid: chain.invalid };
    report.findings.extend(chain.findings);

    for &i in &chain.verified {
        let s = &slots[i];
        report.valid_files.push(Checked { is_digest: true, bucket: s.bucket.clone(), key: s.key.clone() });
        if let Some(p) = s.parsed() {
            let start = p.start.max(range.start);
            let end = p.end.min(range.end);
            report.found = Some(match report.found {
                None => Range { start, end },
                Some(r) => Range { start: r.start.min(start), end: r.end.max(end) },
            });
        }
    }

    let logs: Vec<LogFileEntry> =
        chain.verified.iter().filter_map(|&i| slots[i].parsed()).flat_map(|p| p.digest.log_files.iter().cloned()).collect();
    let results: Vec<(LogFileEntry, Result<LogVerdict, SourceError>)> = stream::iter(logs)
        .map(|entry| {
            let source = source.clone();
            let max = opts.limits.max_log_inflated;
            async move {
                let verdict = check_log(source, &entry, max).await;
                (entry, verdict)
            }
        })
        .buffered(opts.concurrency.max(1))
        .collect()
        .await;
    for (entry, verdict) in results {
        let (b, k) = (&entry.s3_bucket, &entry.s3_object);
        let finding = |kind, message: String| scope.finding(kind, b, k, message);
        let verdict = match verdict {
            Ok(v) => v,
            Err(SourceError::NotFound) => {
                report.summary.log_files.invalid += 1;
                report.findings.push(finding(FindingKind::LogMissing, "not found".into()));
                continue;
            }
            Err(SourceError::Access(why)) => LogVerdict::ReadError(why),
        };
        match verdict {
            LogVerdict::Valid => {
                report.summary.log_files.valid += 1;
                report.valid_files.push(Checked { is_digest: false, bucket: b.clone(), key: k.clone() });
            }
            LogVerdict::HashMismatch { actual } => {
                report.summary.log_files.invalid += 1;
                report.findings.push(finding(FindingKind::LogHashMismatch, format!("hash value doesn't match: digest says {}, file has {actual}", entry.hash_value)));
            }
            LogVerdict::Format(why) => {
                report.summary.log_files.invalid += 1;
                report.findings.push(finding(FindingKind::LogFormatInvalid, format!("invalid format: {why}")));
            }
            LogVerdict::ReadError(why) => report.findings.push(finding(FindingKind::AccessError, format!("could not read log file: {why}"))),
        }
    }

    report.verdict = verdict(&report.findings, !chain.verified.is_empty());
    report
}

async fn check_log(source: Arc<dyn Source>, entry: &LogFileEntry, max_inflated: u64) -> Result<LogVerdict, SourceError> {
    if entry.hash_algorithm != HASH_ALGORITHM {
        return Ok(LogVerdict::Format(format!("digest names unsupported hashAlgorithm '{}'", entry.hash_algorithm)));
    }
    let object = source.get(&entry.s3_bucket, &entry.s3_object).await?;
    let expected = entry.hash_value.clone();
    // Inflate and SHA-256 are CPU work: run them off the reactor, streaming from the body.
    let reader = tokio_util::io::SyncIoBridge::new(object.body);
    Ok(tokio::task::spawn_blocking(move || logfile::check(reader, &expected, max_inflated))
        .await
        .unwrap_or_else(|e| LogVerdict::ReadError(format!("hashing task failed: {e}"))))
}

async fn fetch_digests(
    source: &Arc<dyn Source>,
    wanted: impl Iterator<Item = (String, String, Option<DateTime<Utc>>, bool)>,
    opts: &Options,
) -> Vec<DigestSlot> {
    let limits = opts.limits;
    stream::iter(wanted)
        .map(|(bucket, key, key_time, listed)| {
            let source = source.clone();
            async move {
                let fetched = fetch_digest(&*source, &bucket, &key, &limits).await;
                DigestSlot { bucket, key, key_time, listed, fetched }
            }
        })
        .buffered(opts.concurrency.max(1))
        .collect()
        .await
}

async fn fetch_digest(source: &dyn Source, bucket: &str, key: &str, limits: &Limits) -> Fetched {
    let object = match source.get(bucket, key).await {
        Ok(o) => o,
        Err(SourceError::NotFound) => return Fetched::Missing,
        Err(SourceError::Access(why)) => return Fetched::Unreadable(why),
    };
    let m: HashMap<String, String> = object.metadata.into_iter().collect();
    let metadata = DigestMetadata { signature: m.get("signature").cloned(), signature_algorithm: m.get("signature-algorithm").cloned() };
    let gz = match read_bounded(object.body, limits.max_digest_bytes).await {
        Ok(b) => b,
        Err(e) => return Fetched::Unreadable(e.to_string()),
    };
    if gz.len() as u64 > limits.max_digest_bytes {
        let parsed = Err(digest::DigestFormatError::TooLarge { limit: limits.max_digest_bytes });
        return Fetched::Present { metadata, bytes: digest::DigestBytes { inflated_sha256: None, parsed } };
    }
    let limits = *limits;
    let bytes = match tokio::task::spawn_blocking(move || digest::parse(&gz, &limits)).await {
        Ok(b) => b,
        Err(e) => return Fetched::Unreadable(format!("parsing task failed: {e}")),
    };
    Fetched::Present { metadata, bytes }
}
