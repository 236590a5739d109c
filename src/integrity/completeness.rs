//! What should be there and is not, or is there and should not be: a truncated tail of the digest
//! chain, and log files that no digest lists. Pure: listings and times in, findings out.
use chrono::{DateTime, Duration, Utc};

use crate::time::display;

/// What GetTrailStatus said about the trail (all optional). Saved by `trailproof export` as
/// `trail-status.json`, in GetTrailStatus's own field names, for `--trail-status` offline.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TrailStatus {
    pub is_logging: Option<bool>,
    #[serde(rename = "LatestDigestDeliveryTime")]
    pub latest_digest_delivery: Option<DateTime<Utc>>,
    #[serde(rename = "StartLoggingTime")]
    pub start_logging: Option<DateTime<Utc>>,
    #[serde(rename = "StopLoggingTime")]
    pub stop_logging: Option<DateTime<Utc>>,
}

/// A digest is delivered within minutes of its period's end; this much lateness is normal.
pub const DELIVERY_SLACK: Duration = Duration::minutes(75);

/// A missing tail: digests should exist from `from` to `to` but none were found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingTail {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub reason: String,
}

/// Checks the newest end of a chain. `newest_end` is the end of the newest digest present (valid
/// or not) in the listing.
///
/// Two rules, each applied only where it can be decided:
/// - **Delivery time.** When the range reaches GetTrailStatus's `LatestDigestDeliveryTime`, the
///   newest digest must end within `DELIVERY_SLACK` of it: CloudTrail delivered a later one.
/// - **Cadence.** While the trail was logging, a digest arrives every hour, so the newest digest
///   must end within `DELIVERY_SLACK` of the range's end (or of now, or of when logging stopped).
///
/// A legitimate stop is told apart by GetTrailStatus: when logging is off and `StopLoggingTime`
/// is no later than the newest digest's end plus the slack, nothing was cut off. Without a
/// status, see [`judge_tail`].
pub fn check_tail(newest_end: Option<DateTime<Utc>>, range_end: DateTime<Utc>, status: &TrailStatus, now: DateTime<Utc>) -> Option<MissingTail> {
    let newest = newest_end?;
    if let Some(latest) = status.latest_digest_delivery {
        if range_end + Duration::hours(1) >= latest && newest + DELIVERY_SLACK < latest {
            return Some(MissingTail {
                from: newest,
                to: latest,
                reason: format!(
                    "CloudTrail last delivered a digest at {} (GetTrailStatus), but the newest digest here ends at {}",
                    display(latest),
                    display(newest)
                ),
            });
        }
    }
    let logging_until = match (status.is_logging, status.stop_logging) {
        (Some(true), _) => now,
        (Some(false), Some(stop)) => stop,
        _ => return None,
    };
    // Logging restarted after the newest digest: no digest was owed before the restart.
    let logging_since = status.start_logging.filter(|_| status.is_logging == Some(true));
    let expected_until = range_end.min(now).min(logging_until);
    let owed_from = logging_since.map_or(newest, |s| s.max(newest));
    if owed_from + DELIVERY_SLACK < expected_until {
        return Some(MissingTail {
            from: newest,
            to: expected_until,
            reason: format!(
                "the trail was logging until {}, so hourly digests were due, but the newest digest here ends at {}",
                display(expected_until),
                display(newest)
            ),
        });
    }
    None
}

/// What can be said of a chain's newest end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    /// Nothing is missing at the tail.
    Whole,
    /// Digests were cut off.
    Cut(MissingTail),
    /// Digests from `from` to `to` are absent, and without a trail status a stopped trail cannot
    /// be told from a cut-off chain.
    Undecided { from: DateTime<Utc>, to: DateTime<Utc> },
}

/// Judges the newest end of a chain. With GetTrailStatus, [`check_tail`] decides. Without one
/// (denied, failing, or offline), the hourly cadence still clears a newest digest that ends within
/// `DELIVERY_SLACK` of the range's end (or of now): even had the trail logged all along, nothing
/// would be missing. Beyond that only the status can decide.
pub fn judge_tail(newest: DateTime<Utc>, range_end: DateTime<Utc>, status: Option<&TrailStatus>, now: DateTime<Utc>) -> Tail {
    match status {
        Some(status) => check_tail(Some(newest), range_end, status, now).map_or(Tail::Whole, Tail::Cut),
        None => {
            let logging_all_along = TrailStatus { is_logging: Some(true), ..TrailStatus::default() };
            match check_tail(Some(newest), range_end, &logging_all_along, now) {
                Some(cut) => Tail::Undecided { from: cut.from, to: cut.to },
                None => Tail::Whole,
            }
        }
    }
}

/// A log file no verified digest lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreferenced {
    pub key: String,
    /// The delivery minute its name claims; None when the name is not a CloudTrail log file name
    /// of its folder (then `problem` says why).
    pub delivered: Option<DateTime<Utc>>,
    pub problem: Option<String>,
    /// Inside a period a verified digest covers: the digest would have listed it, so it was
    /// placed there afterwards.
    pub inside_covered_period: bool,
    /// Wholly inside a covered period, whichever second of its stamp's minute it was delivered
    /// in. Otherwise (the minute crosses the period's start or end) it may be the neighbouring
    /// digest's.
    pub surely_covered: bool,
}

/// Periods of time (both ends included), indexed so that asking about one instant costs a binary
/// search, not a pass over every period: sorted by start, with the latest end of every prefix. A
/// range of years holds tens of thousands of periods, and an insider can plant any number of log
/// files to ask about.
#[derive(Debug, Clone, Default)]
pub struct Periods {
    starts: Vec<DateTime<Utc>>,
    latest_end: Vec<DateTime<Utc>>,
}

impl Periods {
    pub fn new(periods: impl IntoIterator<Item = (DateTime<Utc>, DateTime<Utc>)>) -> Periods {
        let mut sorted: Vec<(DateTime<Utc>, DateTime<Utc>)> = periods.into_iter().collect();
        sorted.sort_unstable();
        let starts = sorted.iter().map(|p| p.0).collect();
        let latest_end = sorted.iter().scan(None, |latest: &mut Option<DateTime<Utc>>, p| {
            *latest = Some(latest.map_or(p.1, |l| l.max(p.1)));
            *latest
        });
        Periods { starts, latest_end: latest_end.collect() }
    }

    /// The latest end among the periods that start at or before `t`.
    pub fn latest_end_starting_by(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let n = self.starts.partition_point(|s| *s <= t);
        n.checked_sub(1).map(|i| self.latest_end[i])
    }

    /// Whether some period holds `t`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.latest_end_starting_by(t).is_some_and(|end| end >= t)
    }
}

/// Finds listed log files of the date folder `day` that no verified digest references. `covered`
/// are the verified digests' periods. Log files stamped on `day` but outside `[start, end]` are
/// not judged; a name that does not parse, or whose stamp is not of its folder's day, is no name
/// CloudTrail writes and is always reported.
pub fn unreferenced(
    listed: &[String],
    region: &str,
    day: chrono::NaiveDate,
    referenced: &dyn Fn(&str) -> bool,
    covered: &Periods,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<Unreferenced> {
    let minute = Duration::minutes(1);
    let mut out = Vec::new();
    for k in listed.iter().filter(|k| !referenced(k)) {
        let bad = |problem: String| Unreferenced { key: k.clone(), delivered: None, problem: Some(problem), inside_covered_period: false, surely_covered: false };
        let Some(t) = crate::layout::log_key_time(k, region) else {
            out.push(bad("its name is not a CloudTrail log file name".into()));
            continue;
        };
        if t.date_naive() != day {
            out.push(bad(format!("its name's time {} is not of its folder's day {day}", display(t))));
            continue;
        }
        if t < start - Duration::minutes(1) || t > end {
            continue;
        }
        out.push(Unreferenced {
            key: k.clone(),
            delivered: Some(t),
            problem: None,
            // The stamp is truncated to the minute: the file was delivered somewhere in
            // [t, t + 1 min). Inside when verified periods cover that whole minute (one period, or
            // two that meet in it); a minute that reaches past them may belong to the digest of
            // the uncovered side (unverifiable, unread, or not yet delivered). Surely when one
            // period holds the whole minute.
            inside_covered_period: covered.contains(t) && covered.contains(t + minute - Duration::seconds(1)),
            surely_covered: covered.latest_end_starting_by(t).is_some_and(|e| t + minute <= e),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        crate::time::parse_user_time(s).unwrap()
    }

    #[test]
    fn delivery_time_after_the_newest_digest_is_a_missing_tail() {
        let status = TrailStatus { latest_digest_delivery: Some(t("2026-03-02T10:20:00Z")), ..Default::default() };
        let now = t("2026-03-05T00:00:00Z");
        let cut = check_tail(Some(t("2026-03-02T07:18:00Z")), t("2026-03-02T12:00:00Z"), &status, now).unwrap();
        assert_eq!((cut.from, cut.to), (t("2026-03-02T07:18:00Z"), t("2026-03-02T10:20:00Z")));
        // The newest digest is the one last delivered: fine.
        assert_eq!(check_tail(Some(t("2026-03-02T10:18:00Z")), t("2026-03-02T12:00:00Z"), &status, now), None);
        // The range ends long before the last delivery: nothing to say from that rule.
        assert_eq!(check_tail(Some(t("2026-03-01T07:18:00Z")), t("2026-03-01T08:00:00Z"), &status, now), None);
    }

    #[test]
    fn hourly_cadence_while_logging() {
        let logging = TrailStatus { is_logging: Some(true), start_logging: Some(t("2026-02-01T00:00:00Z")), ..Default::default() };
        let now = t("2026-03-05T00:00:00Z");
        let end = t("2026-03-02T12:00:00Z");
        assert!(check_tail(Some(t("2026-03-02T08:00:00Z")), end, &logging, now).is_some());
        assert_eq!(check_tail(Some(t("2026-03-02T11:17:00Z")), end, &logging, now), None);
        // The last hour is not digested yet when the range ends now.
        assert_eq!(check_tail(Some(t("2026-03-02T11:17:00Z")), now, &logging, t("2026-03-02T12:10:00Z")), None);
        // Logging restarted after the newest digest, too recently to owe one.
        let restarted = TrailStatus { start_logging: Some(t("2026-03-02T11:30:00Z")), ..logging.clone() };
        assert_eq!(check_tail(Some(t("2026-03-02T08:00:00Z")), end, &restarted, now), None);
    }

    #[test]
    fn without_a_status_only_a_tail_reaching_the_range_end_is_decided() {
        let now = t("2026-03-05T00:00:00Z");
        let end = t("2026-03-02T12:00:00Z");
        assert_eq!(judge_tail(t("2026-03-02T11:17:00Z"), end, None, now), Tail::Whole);
        assert_eq!(judge_tail(t("2026-03-02T08:00:00Z"), end, None, now), Tail::Undecided { from: t("2026-03-02T08:00:00Z"), to: end });
        // The range ends in the future: only what is due by now counts.
        assert_eq!(judge_tail(t("2026-03-02T08:00:00Z"), now, None, t("2026-03-02T09:00:00Z")), Tail::Whole);
        // With a status, its rules decide either way.
        let stopped = TrailStatus { is_logging: Some(false), stop_logging: Some(t("2026-03-02T08:10:00Z")), ..Default::default() };
        assert_eq!(judge_tail(t("2026-03-02T08:00:00Z"), end, Some(&stopped), now), Tail::Whole);
        let logging = TrailStatus { is_logging: Some(true), ..Default::default() };
        assert!(matches!(judge_tail(t("2026-03-02T08:00:00Z"), end, Some(&logging), now), Tail::Cut(_)));
    }

    #[test]
    fn a_legitimate_stop_is_not_a_missing_tail() {
        let stopped = TrailStatus { is_logging: Some(false), stop_logging: Some(t("2026-03-02T08:40:00Z")), ..Default::default() };
        let now = t("2026-03-05T00:00:00Z");
        assert_eq!(check_tail(Some(t("2026-03-02T08:45:00Z")), t("2026-03-03T00:00:00Z"), &stopped, now), None);
        // Stopped well after the newest digest: digests were cut off before the stop.
        assert!(check_tail(Some(t("2026-03-02T04:00:00Z")), t("2026-03-03T00:00:00Z"), &stopped, now).is_some());
        // Offline, nothing is known.
        assert_eq!(check_tail(Some(t("2026-03-02T04:00:00Z")), now, &TrailStatus::default(), now), None);
    }

    #[test]
    fn unreferenced_logs_inside_and_outside_covered_periods() {
        let key = |stamp: &str| format!("AWSLogs/1/CloudTrail/us-east-1/2026/03/01/1_CloudTrail_us-east-1_{stamp}_abc.json.gz");
        assert_eq!(crate::layout::log_key_time(&key("20260301T0517Z"), "us-east-1"), Some(t("2026-03-01T05:17:00Z")));
        assert_eq!(crate::layout::log_key_time("AWSLogs/1/CloudTrail/us-east-1/x.json.gz", "us-east-1"), None);
        let listed = vec![key("20260301T0517Z"), key("20260301T0630Z"), key("20260301T0900Z"), key("20260301T2300Z")];
        let referenced = |k: &str| k == listed[0];
        let covered = [(t("2026-03-01T05:00:00Z"), t("2026-03-01T07:00:00Z"))];
        let day = t("2026-03-01").date_naive();
        let found = unreferenced(&listed, "us-east-1", day, &referenced, &Periods::new(covered), t("2026-03-01T00:00:00Z"), t("2026-03-01T12:00:00Z"));
        assert_eq!(found.len(), 2);
        assert!(found[0].inside_covered_period && found[0].key == listed[1]);
        assert!(!found[1].inside_covered_period && found[1].key == listed[2]);
        assert!(found[0].surely_covered);
        // Stamped in the minute a covered period ends (or starts), with nothing verified on the
        // other side: the file may belong there, so not inside (issue 14's regression).
        let edge = [key("20260301T0659Z"), key("20260301T0500Z")];
        let found = unreferenced(&edge, "us-east-1", day, &|_| false, &Periods::new([(t("2026-03-01T05:00:30Z"), t("2026-03-01T06:59:40Z"))]), t("2026-03-01T00:00:00Z"), t("2026-03-01T12:00:00Z"));
        assert!(found.iter().all(|u| !u.inside_covered_period && !u.surely_covered), "{found:?}");
        // Two verified periods meeting inside the minute cover it whole: inside, though no one
        // period surely holds it.
        let meeting = Periods::new([(t("2026-03-01T05:00:30Z"), t("2026-03-01T06:59:40Z")), (t("2026-03-01T06:59:40Z"), t("2026-03-01T08:00:10Z"))]);
        let found = unreferenced(&[key("20260301T0659Z")], "us-east-1", day, &|_| false, &meeting, t("2026-03-01T00:00:00Z"), t("2026-03-01T12:00:00Z"));
        assert!(found[0].inside_covered_period && !found[0].surely_covered, "{found:?}");
    }

    /// The index answers as a pass over every period would, on overlapping, nested and touching
    /// periods, at their edges and between them.
    #[test]
    fn periods_answer_as_a_pass_over_every_period_would() {
        let base = t("2026-03-01T00:00:00Z");
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let minute = Duration::minutes(1);
        for _ in 0..200 {
            let periods: Vec<(DateTime<Utc>, DateTime<Utc>)> = (0..next(6))
                .map(|_| {
                    let s = base + Duration::minutes(next(300) as i64);
                    (s, s + Duration::minutes(next(120) as i64))
                })
                .collect();
            let index = Periods::new(periods.clone());
            for half_minutes in 0..880 {
                let at = base + Duration::seconds(30 * half_minutes);
                assert_eq!(index.contains(at), periods.iter().any(|(s, e)| *s <= at && at <= *e), "{periods:?} {at}");
                let inside = periods.iter().any(|(s, e)| at >= *s - minute && at < *e);
                assert_eq!(index.latest_end_starting_by(at + minute).is_some_and(|e| at < e), inside, "{periods:?} {at}");
                let surely = periods.iter().any(|(s, e)| at >= *s && at + minute <= *e);
                assert_eq!(index.latest_end_starting_by(at).is_some_and(|e| at + minute <= e), surely, "{periods:?} {at}");
            }
        }
    }
}
