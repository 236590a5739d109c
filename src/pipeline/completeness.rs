//! The completeness stage: what should be there but is not vouched for. The rules are pure
//! (`integrity::completeness`); this turns their answers into findings, and lists the log folders.
use chrono::{DateTime, Utc};

use tokio::sync::mpsc::Receiver;

use super::list::LoggedDay;
use super::logs::Referenced;
use super::Run;
use crate::finding::{Finding, FindingKind, Scope, Severity};
use crate::integrity::completeness::{self, Periods};
use crate::layout::Target;

/// Log files no authentic digest lists, from the listed date folders `days`: one finding each (see
/// [`unreferenced_finding`]), and an access error for a folder that could not be listed. Returns
/// the findings and the count of unreferenced log files.
pub async fn unreferenced(run: &Run<'_>, referenced: &Referenced, covered: &Periods, unread: &Periods, no_digests: bool, mut days: Receiver<LoggedDay>) -> (Vec<Finding>, usize) {
    let Run { target, ref scope, range, .. } = *run;
    let (mut findings, mut count) = (Vec::new(), 0);
    while let Some((day, listed)) = days.recv().await {
        match listed {
            Ok(keys) => {
                let found = completeness::unreferenced(&keys, &target.source_region, day, &|k| referenced.contains(k), covered, range.start, range.end);
                count += found.len();
                findings.extend(found.iter().map(|u| unreferenced_finding(scope, target, u, unread, no_digests)));
            }
            Err(e) => findings.push(scope.finding(FindingKind::AccessError, &target.bucket, &target.log_dir(), format!("could not list log files: {e}"))),
        }
    }
    (findings, count)
}

/// The finding for a log file no authentic digest lists.
fn unreferenced_finding(scope: &Scope, target: &Target, u: &completeness::Unreferenced, unread: &Periods, no_digests: bool) -> Finding {
    let f = scope.finding(FindingKind::LogUnreferenced, &target.bucket, &u.key, "");
    let Some(delivered) = u.delivered else {
        return Finding { message: format!("no digest lists it, and {}: it was placed there", u.problem.as_deref().unwrap_or("its name is not a CloudTrail log file name")), ..f };
    };
    let at = crate::time::display(delivered);
    let f = f.with("delivered", at.clone());
    if no_digests {
        return Finding { message: format!("delivered {at}, but this region has no digest in the range: nothing vouches for it"), ..f };
    }
    // An authentic digest names an unread predecessor that may list it: unchecked, not injected,
    // unless it lies surely inside a verified period.
    if !u.surely_covered && unread.contains(delivered) {
        return Finding { kind: FindingKind::Unchecked, message: format!("delivered {at}; no digest read lists it, but the unread digest of its period may: unchecked"), ..f };
    }
    if u.inside_covered_period {
        Finding { message: format!("delivered {at} inside a period a verified digest covers, but no digest lists it: it may have been injected"), ..f }
    } else {
        Finding {
            severity: Severity::Warning,
            message: format!("delivered {at}, not wholly inside a verified digest's period (validation off, not yet digested, or its digest is bad or could not be read)"),
            ..f
        }
    }
}

/// The truncated-tail check of the regular chain, from its newest authentic digest (the rule is
/// `completeness::judge_tail`): a cut tail is invalid, one that cannot be decided unchecked.
pub fn tail_finding(run: &Run<'_>, newest_end: Option<DateTime<Utc>>) -> Option<Finding> {
    let Run { ctx, target, ref scope, range, .. } = *run;
    let status = match &ctx.status {
        Some(Ok(status)) => Some(status),
        _ => None,
    };
    let (kind, from, to, message) = match completeness::judge_tail(newest_end?, range.end, status, ctx.options.now) {
        completeness::Tail::Whole => return None,
        completeness::Tail::Cut(cut) => {
            let message = format!("no digests from {} to {}: {}", crate::time::display(cut.from), crate::time::display(cut.to), cut.reason);
            (FindingKind::DigestTailMissing, cut.from, cut.to, message)
        }
        completeness::Tail::Undecided { from, to } => {
            let why_unknown = match &ctx.status {
                Some(Err(e)) => format!("GetTrailStatus failed ({e})"),
                _ => "there is no trail status offline".to_string(),
            };
            let message = format!(
                "the newest authentic digest ends at {}, before the range's end {}, and {why_unknown}: a stopped trail cannot be told from a cut-off tail. \
                 Allow cloudtrail:GetTrailStatus, or give --trail-status (trailproof export saves it), or end the range at {}",
                crate::time::display(from),
                crate::time::display(to),
                crate::time::display(from)
            );
            (FindingKind::Unchecked, from, to, message)
        }
    };
    Some(scope.finding(kind, &target.bucket, &target.digest_dir(), message).with("from", crate::time::display(from)).with("to", crate::time::display(to)))
}
