//! The walk over a chain's authentic digests: every link between them, the digests that are
//! gone (gaps), those nothing links to (off-chain), and each digest's verdict.
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::authenticate::truncate;
use super::{Auth, Authentic, DigestSlot, DigestVerdict, Fetched, HexText, PreviousLink};
use crate::finding::{Finding, FindingKind, Scope};
use crate::integrity::digest::HASH_ALGORITHM;
use crate::layout::Target;
use crate::time::display;

/// Inferred missing digests get one finding each up to this many per run of missing hours; the
/// run's own finding carries the full count, so a deletion of years costs a few findings.
pub const MISSING_HOURS_LISTED: i64 = 24;

/// The outcome of walking the chain.
#[derive(Debug, Default)]
pub struct ChainReport {
    /// Newest first.
    pub findings: Vec<Finding>,
    /// Authentic slots, newest first: their log files are checked.
    pub verified: Vec<usize>,
    /// Every digest object judged, newest first.
    pub verdicts: Vec<(usize, DigestVerdict)>,
    /// Derived from `verdicts`; `invalid` also counts digests inferred missing from the cadence.
    pub valid: usize,
    pub invalid: usize,
    /// The end of the newest authentic digest.
    pub newest_end: Option<DateTime<Utc>>,
    /// Periods whose digest an authentic successor names but which could not be read: their log
    /// files are unchecked, not injected. Derived from the successor's signed start time.
    pub unread: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

/// Checks every link between the authentic digests and judges every slot. `in_trail` says whether
/// a bucket and key lie in the trail's own digest folder (links leaving it are not followed).
pub fn walk(slots: &[DigestSlot], range_start: DateTime<Utc>, scope: &Scope, target: &Target, in_trail: &dyn Fn(&str, &str) -> bool) -> ChainReport {
    let mut report = ChainReport::default();
    let when = |i: usize| slots[i].authentic().map(Authentic::end).or(slots[i].key_time);
    // Newest first; the order places findings, it decides nothing.
    let mut order: Vec<usize> = (0..slots.len()).collect();
    order.sort_by(|&a, &b| (when(b), &slots[b].key).cmp(&(when(a), &slots[a].key)));
    let index: HashMap<(&str, &str), usize> = slots.iter().enumerate().map(|(i, s)| ((s.bucket.as_str(), s.key.as_str()), i)).collect();
    let authentic: Vec<usize> = order.iter().copied().filter(|&i| slots[i].authentic().is_some()).collect();
    let end_of = |i: usize| slots[i].authentic().map(Authentic::end);
    // The newest authentic digest that ended no later than `t` (other than `not`): `authentic`
    // is in `order`, newest end first, so a binary search finds where to start.
    let newest_until = |t: DateTime<Utc>, not: usize| {
        let from = authentic.partition_point(|&j| end_of(j).is_some_and(|e| e > t));
        authentic[from..].iter().copied().find(|&j| j != not)
    };

    let mut findings: Vec<(usize, Finding)> = Vec::new();
    let mut push = |at: usize, f: Finding| findings.push((at, f));
    let mut linked = vec![false; slots.len()];
    let mut broken = vec![false; slots.len()];
    // The newest authentic digest below a break in the chain is a chain's legitimate head.
    let mut head_excused = vec![false; slots.len()];
    let mut inferred_missing = 0usize;
    let mut missing_reported = vec![false; slots.len()];

    for &i in &authentic {
        let Some(a) = slots[i].authentic() else { continue };
        if a.start < range_start {
            continue; // covers the range's start: where the walk ends
        }
        let here = (slots[i].bucket.as_str(), slots[i].key.as_str());
        let excuse_below = |head_excused: &mut Vec<bool>| {
            if let Some(o) = newest_until(a.start, i) {
                head_excused[o] = true;
            }
        };
        let Some(prev) = &a.previous else {
            if let Some(o) = newest_until(a.start, i) {
                head_excused[o] = true;
                let from = end_of(o).unwrap_or(a.start);
                push(i, scope.finding(FindingKind::DigestChainGap, here.0, here.1,
                    format!("a new chain starts here: no digest covers {} to {} (logging or validation was off, or digests were removed)", display(from), display(a.start)))
                    .with("from", display(from)).with("to", display(a.start)));
            }
            continue;
        };
        if !in_trail(&prev.bucket, &prev.key) {
            excuse_below(&mut head_excused);
            push(i, scope.finding(FindingKind::Unchecked, here.0, here.1,
                format!("links back to s3://{}/{}, outside the trail's digest folder: not followed, so the link is unchecked; validate that location with --s3-bucket/--s3-prefix", truncate(&prev.bucket), truncate(&prev.key))));
            continue;
        }
        let Some(&p) = index.get(&(prev.bucket.as_str(), prev.key.as_str())) else {
            excuse_below(&mut head_excused);
            push(i, scope.finding(FindingKind::AccessError, &prev.bucket, &prev.key, "previous digest was not fetched"));
            continue;
        };
        if p == i || end_of(p).is_some_and(|e| e > a.start) {
            excuse_below(&mut head_excused);
            push(i, scope.finding(FindingKind::DigestChainMismatch, here.0, here.1,
                format!("links back to s3://{}/{}, which is not older in the chain (a loop)", prev.bucket, prev.key)));
            continue;
        }
        let present = match &slots[p].fetched {
            Fetched::Present { metadata, bytes } => Some((metadata.signature.as_deref(), bytes.inflated_sha256)),
            Fetched::Released => Some((None, slots[p].authentic().map(Authentic::sha256))),
            Fetched::Missing | Fetched::Unreadable(_) => None,
        };
        match &slots[p].fetched {
            Fetched::Present { .. } | Fetched::Released => {
                let (metadata_signature, sha256) = present.unwrap_or_default();
                // Compared as bytes when both are hex: no signature is spelled out to compare it.
                let metadata_signature = metadata_signature.filter(|_| slots[p].authentic().is_none()).map(|s| HexText::new(s.trim()));
                let actual_signature = slots[p].authentic().map(|a| &a.signature).or(metadata_signature.as_ref());
                let problems = link_problems(prev, actual_signature, sha256);
                if problems.is_empty() {
                    linked[p] = true;
                    if slots[p].authentic().is_none() {
                        excuse_below(&mut head_excused); // its own finding says why
                    }
                } else {
                    broken[p] = true;
                    excuse_below(&mut head_excused);
                    push(i, scope.finding(FindingKind::DigestChainMismatch, here.0, here.1,
                        format!("link to s3://{}/{} broken: {}", prev.bucket, prev.key, problems.join("; "))));
                }
            }
            Fetched::Missing => {
                missing_reported[p] = true;
                let to = a.start; // the missing digest's end
                let lower = newest_until(to - Duration::minutes(1), i);
                if let Some(o) = lower {
                    head_excused[o] = true;
                }
                let mut f = scope.finding(FindingKind::DigestMissing, &prev.bucket, &prev.key, "not found").with("to", display(to));
                match lower.and_then(end_of) {
                    Some(from) => {
                        // Hourly digests: the hours between the bounds are how many are gone.
                        let count = ((to - from).num_seconds() as f64 / 3600.0).round().max(1.0) as i64;
                        f.message = if count > 1 {
                            format!("not found; {count} digests are missing from {} to {} (inferred from the hourly cadence)", display(from), display(to))
                        } else {
                            "not found".into()
                        };
                        f = f.with("from", display(from)).with("count", count);
                        push(i, f);
                        for k in 1..count.min(MISSING_HOURS_LISTED + 1) {
                            let end = to - Duration::hours(k);
                            push(i, scope.finding(FindingKind::DigestMissing, &prev.bucket, &target.missing_digest_pattern(end),
                                format!("not found: the chain has no digest for the hour ending about {} (inferred from the hourly cadence)", display(end))));
                        }
                        inferred_missing += (count - 1) as usize;
                    }
                    None => {
                        f.message = "not found; no authentic older digest in range bounds how many more are missing".into();
                        push(i, f);
                    }
                }
            }
            Fetched::Unreadable(_) => {
                excuse_below(&mut head_excused);
                let edge = Duration::minutes(1);
                report.unread.push((a.start - Duration::hours(1) - edge, a.start + edge));
            }
        }
    }

    // An authentic chain links every digest it delivered: an authentic digest in range that
    // nothing links to, and that is neither the newest nor below a break, was moved off the chain.
    let newest = authentic.first().copied();
    for &j in &authentic {
        if Some(j) != newest && !linked[j] && !head_excused[j] && end_of(j).is_some_and(|e| e >= range_start) {
            broken[j] = true;
            push(j, scope.finding(FindingKind::DigestChainMismatch, &slots[j].bucket, &slots[j].key, "lies in range but no digest in the chain links to it"));
        }
    }

    // Each object's own verdict and finding, newest first, followed by what the walk found there.
    let mut at: HashMap<usize, Vec<Finding>> = HashMap::new();
    for (i, f) in findings {
        at.entry(i).or_default().push(f);
    }
    for &i in &order {
        let s = &slots[i];
        let own = |kind, message: String| scope.finding(kind, &s.bucket, &s.key, message);
        let verdict = match (&s.fetched, &s.auth) {
            (Fetched::Missing, _) => {
                if !missing_reported[i] {
                    report.findings.push(own(FindingKind::DigestMissing, "not found".into()));
                }
                DigestVerdict::Missing
            }
            (Fetched::Unreadable(why), _) => {
                report.findings.push(own(FindingKind::AccessError, format!("could not read digest: {why}; the log files of its period are unchecked")));
                DigestVerdict::Unreadable
            }
            (_, Auth::Authentic(_)) => {
                report.verified.push(i);
                if broken[i] { DigestVerdict::Invalid } else { DigestVerdict::Valid }
            }
            (_, Auth::Invalid(kind, message)) => {
                report.findings.push(own(*kind, message.clone()));
                DigestVerdict::Invalid
            }
            (_, Auth::Unverifiable(why)) => {
                report.findings.push(own(FindingKind::Unchecked, format!("unverifiable: {why}")));
                DigestVerdict::Unverifiable
            }
            (_, Auth::Pending) => {
                report.findings.push(own(FindingKind::Unchecked, "not authenticated".into()));
                DigestVerdict::Unverifiable
            }
        };
        report.verdicts.push((i, verdict));
        report.findings.extend(at.remove(&i).unwrap_or_default());
    }
    report.newest_end = newest.and_then(end_of);
    let count = |wanted: &[DigestVerdict]| report.verdicts.iter().filter(|(_, v)| wanted.contains(v)).count();
    report.valid = count(&[DigestVerdict::Valid]);
    report.invalid = count(&[DigestVerdict::Invalid, DigestVerdict::Missing]) + inferred_missing;
    report
}

/// What is wrong with an authentic digest's link to the object it names: it must commit to exactly
/// that object, by its signature and by the hash of its inflated bytes.
fn link_problems(prev: &PreviousLink, actual_signature: Option<&HexText>, actual_sha256: Option<[u8; 32]>) -> Vec<String> {
    let mut problems = Vec::new();
    if let (Some(stated), Some(actual)) = (&prev.signature, actual_signature) {
        if !stated.same(actual) {
            problems.push("previousDigestSignature differs from the previous digest's signature".to_string());
        }
    }
    match prev.hash_algorithm.as_deref() {
        Some(HASH_ALGORITHM) | None => {}
        Some(other) => problems.push(format!("previousDigestHashAlgorithm is '{}', not SHA-256", truncate(other))),
    }
    match (&prev.hash, &actual_sha256) {
        (Some(stated), Some(actual)) if stated.is_hex_of(actual) => {}
        (Some(_), Some(_)) => problems.push("previousDigestHashValue differs from the SHA-256 of the previous digest".into()),
        (Some(_), None) => problems.push("the previous digest cannot be inflated to check previousDigestHashValue".into()),
        (None, _) => problems.push("previousDigestHashValue is absent".into()),
    }
    problems
}
