//! The listing stage: which digests and log files the range's date folders hold. Folders bound
//! every listing; names are claims, judged later.
use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use futures::StreamExt;
use tokio::sync::mpsc::Receiver;

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

/// One date folder's log file keys, or why it could not be listed.
pub type LoggedDay = (NaiveDate, Result<Vec<String>, SourceError>);

/// How many date folders are listed ahead of the completeness check: the listing overlaps the
/// chain's fetching, and at most this many days' keys wait in memory.
const DAYS_AHEAD: usize = 3;

/// Lists the log files of the range's date folders, one day's prefix at a time (so the cost
/// follows the range), in a task of its own that runs while the chain is fetched. Days arrive in
/// order; the first that fails to list is the last sent.
pub fn log_days(source: Arc<dyn Source>, target: Target, range: Range) -> Receiver<LoggedDay> {
    let (days_tx, days_rx) = tokio::sync::mpsc::channel(DAYS_AHEAD);
    let first = (range.start - Duration::minutes(1)).date_naive();
    let last = range.end.date_naive();
    let days = std::iter::successors(Some(first), |d| d.succ_opt()).take_while(move |d| *d <= last);
    tokio::spawn(async move {
        let mut listed = futures::stream::iter(days)
            .map(|day| {
                let (source, prefix) = (source.clone(), format!("{}{}", target.log_dir(), day.format("%Y/%m/%d/")));
                let bucket = target.bucket.clone();
                async move { (day, source.list(&bucket, &prefix, None, &|_| false).await) }
            })
            .buffered(DAYS_AHEAD);
        while let Some((day, keys)) = listed.next().await {
            let failed = keys.is_err();
            // The receiver is gone when the target's run ended early: nothing more is wanted.
            if days_tx.send((day, keys)).await.is_err() || failed {
                break;
            }
        }
    });
    days_rx
}
