//! The listing stage: which digests and log files the range's date folders hold. Folders bound
//! every listing; names are claims, judged later.
use std::collections::BTreeSet;

use chrono::Duration;

use crate::integrity::completeness;
use crate::layout::Target;
use crate::source::{Source, SourceError};
use crate::time::Range;

/// A target's digest keys in range, by chain.
#[derive(Default)]
pub struct DigestListing {
    pub regular: Vec<String>,
    pub backfill: Vec<String>,
    /// Digests of other trails delivering to the same folder.
    pub other_trails: Vec<String>,
}

/// Lists the digests of the range's date folders. The folder structure bounds the listing, never
/// a name's claimed time: a planted name cannot end it early. As the AWS CLI: digests stamped from
/// a minute before the start to an hour after the end, since a digest delivered after the end may
/// cover logs from inside the range. A name whose stamp disagrees with its folder is no name
/// CloudTrail writes; it is kept, to be judged.
pub async fn digests(source: &dyn Source, target: &Target, range: Range) -> Result<DigestListing, SourceError> {
    let first = range.start - Duration::minutes(1);
    let last = range.end + Duration::hours(1);
    let dir = target.digest_dir();
    let start_after = format!("{dir}{}", first.format("%Y/%m/%d/"));
    let after_last = last.date_naive().succ_opt().map(|d| format!("{dir}{}", d.format("%Y/%m/%d/")));
    let stop = |key: &str| after_last.as_deref().is_some_and(|a| key >= a);
    // Deduplicated: a key listed twice is one object, and must not be judged as two.
    let keys: BTreeSet<String> = source.list(&target.bucket, &dir, Some(&start_after), &stop).await?.into_iter().collect();
    let mut listing = DigestListing::default();
    for key in keys {
        let Some(name) = target.parse_digest_name(&key) else { continue };
        let matches_folder = name.stamp.date_naive() == name.folder;
        if matches_folder && (name.stamp < first || name.stamp > last) {
            continue;
        }
        match (name.ours, name.backfill) {
            (true, false) => listing.regular.push(key),
            (true, true) => listing.backfill.push(key),
            (false, _) => listing.other_trails.push(key),
        }
    }
    Ok(listing)
}

/// Lists the log files of the range's date folders, one day's prefix at a time so that the cost
/// follows the range, and keeps those no authentic digest lists.
pub async fn unreferenced_logs(
    source: &dyn Source,
    target: &Target,
    range: Range,
    referenced: &dyn Fn(&str) -> bool,
    covered: &completeness::Periods,
) -> Result<Vec<completeness::Unreferenced>, SourceError> {
    let mut found = Vec::new();
    let mut day = (range.start - Duration::minutes(1)).date_naive();
    while day <= range.end.date_naive() {
        let prefix = format!("{}{}", target.log_dir(), day.format("%Y/%m/%d/"));
        let listed = source.list(&target.bucket, &prefix, None, &|_| false).await?;
        found.extend(completeness::unreferenced(&listed, &target.source_region, day, referenced, covered, range.start, range.end));
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    Ok(found)
}
