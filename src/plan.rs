//! The plan of an organization-scale audit (`trailproof plan`): the units of work, one per chain
//! (account × region) or per time slice of a chain, and how they are dealt out to the shards of
//! an array job. Pure: the plan is made from discovered targets, read from bytes, and assigned to
//! shards without I/O. The CLI (`cli::plan`) fetches and writes.
//!
//! `plan_id` is the SHA-256 (hex) of the canonical JSON of what the units' reports depend on:
//! `{"trail_arn", "bucket", "prefix", "organization_id", "units"}` in that order, compact, as
//! serde_json writes it. A unit report naming another `plan_id` belongs to another plan.
use std::collections::{BTreeSet, BinaryHeap};
use std::cmp::Reverse;

use chrono::Duration;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::layout::{is_account_id, is_region_name, parse_trail_arn, Target};
use crate::report::schema::Version;
use crate::time::Range;

/// Neighbouring slices of a chain overlap by one digest period, so that every slice edge lies
/// inside a slice and the link across it is walked by that slice.
pub const OVERLAP: Duration = Duration::hours(1);

/// The most units a plan may hold: about 2,000 chains × a year of daily slices. A plan file is
/// bounded by it too.
pub const MAX_UNITS: usize = 1_000_000;

/// The most shards a plan is dealt into: a Kubernetes Indexed Job's most completions (an AWS
/// Batch array holds at most 10,000 children).
pub const MAX_SHARDS: u64 = 100_000;

/// The largest plan file read (about 300 bytes a unit).
pub const MAX_PLAN_BYTES: u64 = 512 * 1024 * 1024;

/// The plan file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    /// The plan format's version.
    pub plan_version: Version<{ crate::report::schema::PLAN }>,
    /// SHA-256 (hex) of the canonical JSON of trail_arn, bucket, prefix, organization_id and units.
    pub plan_id: String,
    pub trail_arn: String,
    /// Where the trail's evidence lies, as discovered when planning.
    pub bucket: String,
    pub prefix: Option<String>,
    pub organization_id: Option<String>,
    /// What was asked for.
    pub requested: Requested,
    pub units: Vec<Unit>,
}

/// The flags the plan was made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Requested {
    /// RFC 3339.
    pub start_time: String,
    pub end_time: String,
    pub all_regions: bool,
    pub all_accounts: bool,
    /// The slice length in hours, when chains were cut into slices.
    pub slice_hours: Option<i64>,
}

/// One unit of work: one chain's range, or a slice of it. It runs as one validate-logs job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Unit {
    /// `{account}-{region}`, and `-{start, compact UTC}` for a slice: also its report's file name.
    pub id: String,
    pub account_id: String,
    pub region: String,
    /// RFC 3339.
    pub start_time: String,
    pub end_time: String,
}

impl Unit {
    /// The unit's range; None when a time does not parse (a plan is checked when read).
    pub fn range(&self) -> Option<Range> {
        let start = crate::time::parse_user_time(&self.start_time).ok()?;
        let end = crate::time::parse_user_time(&self.end_time).ok()?;
        (start <= end).then_some(Range { start, end })
    }

    /// The expected size: the hours of evidence it covers (at least one).
    pub fn hours(&self) -> i64 {
        self.range().map_or(1, |r| ((r.end - r.start).num_seconds() + 3599) / 3600).max(1)
    }
}

/// Cuts `range` into slices of `slice`, each after the first starting [`OVERLAP`] early; one
/// slice when `slice` is None or covers the range.
pub fn slices(range: Range, slice: Option<Duration>) -> Vec<Range> {
    let Some(slice) = slice.filter(|s| *s > OVERLAP) else { return vec![range] };
    let mut out = Vec::new();
    let mut start = range.start;
    loop {
        let end = (start + slice).min(range.end);
        let from = if out.is_empty() { start } else { (start - OVERLAP).max(range.start) };
        out.push(Range { start: from, end });
        if end >= range.end {
            return out;
        }
        start = end;
    }
}

/// Parses `--slice`: a whole number of hours, days or weeks (`36h`, `7d`, `2w`), longer than
/// the overlap between slices.
pub fn parse_slice(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let unit = t.chars().last().unwrap_or(' ');
    let hours_per = match unit {
        'h' => 1,
        'd' => 24,
        'w' => 168,
        _ => return Err(format!("'{t}' is not a duration: give hours, days or weeks such as 36h, 7d or 2w")),
    };
    let count: i64 = t[..t.len() - 1].parse().map_err(|_| format!("'{t}' is not a duration: give a whole number, such as 7d"))?;
    let hours = count.checked_mul(hours_per).filter(|h| (2..=24 * 366 * 100).contains(h)).ok_or_else(|| format!("'{t}': a slice is from 2 hours (longer than the 1-hour overlap) to 100 years"))?;
    Ok(Duration::hours(hours))
}

/// The canonical bytes `plan_id` hashes.
#[derive(Serialize)]
struct Canonical<'a> {
    trail_arn: &'a str,
    bucket: &'a str,
    prefix: &'a Option<String>,
    organization_id: &'a Option<String>,
    units: &'a [Unit],
}

/// The plan ID of these fields.
pub fn plan_id(trail_arn: &str, bucket: &str, prefix: &Option<String>, organization_id: &Option<String>, units: &[Unit]) -> String {
    // Serialising plain strings and options into a Vec cannot fail.
    let bytes = serde_json::to_vec(&Canonical { trail_arn, bucket, prefix, organization_id, units }).expect("plain data serialises");
    hex::encode(Sha256::digest(bytes))
}

impl Plan {
    /// The plan of `targets` (as validate-logs discovers them, in its order) over `range`.
    pub fn new(targets: &[Target], range: Range, requested: Requested, slice: Option<Duration>) -> Result<Plan, String> {
        let first = targets.first().ok_or("no chains to plan: no account or region was found")?;
        let mut units = Vec::new();
        for t in targets {
            let cut = slices(range, slice);
            let sliced = cut.len() > 1;
            for r in cut {
                let id = if sliced {
                    format!("{}-{}-{}", t.account_id, t.source_region, r.start.format(crate::time::KEY_FORMAT))
                } else {
                    format!("{}-{}", t.account_id, t.source_region)
                };
                units.push(Unit { id, account_id: t.account_id.clone(), region: t.source_region.clone(), start_time: crate::time::display(r.start), end_time: crate::time::display(r.end) });
                if units.len() > MAX_UNITS {
                    return Err(format!("more than {MAX_UNITS} units: give a longer --slice"));
                }
            }
        }
        let plan_id = plan_id(&first.trail_arn, &first.bucket, &first.prefix, &first.organization_id, &units);
        Ok(Plan {
            plan_version: Version,
            plan_id,
            trail_arn: first.trail_arn.clone(),
            bucket: first.bucket.clone(),
            prefix: first.prefix.clone(),
            organization_id: first.organization_id.clone(),
            requested,
            units,
        })
    }

    /// Reads a plan file and checks it whole: its version, its ID against its units, every
    /// unit's account, region, range and ID. A plan is trusted as the user's own flags are, but
    /// a damaged or edited one must not steer a run.
    pub fn parse(bytes: &[u8]) -> Result<Plan, String> {
        let plan: Plan = serde_json::from_slice(bytes).map_err(|e| format!("not a trailproof plan: {e}"))?;
        parse_trail_arn(&plan.trail_arn)?;
        if plan.range().is_none_or(|r| r.start > r.end) {
            return Err("its requested start_time and end_time are not a time range".into());
        }
        if plan.units.is_empty() || plan.units.len() > MAX_UNITS {
            return Err(format!("{} units: a plan holds 1 to {MAX_UNITS}", plan.units.len()));
        }
        let mut ids = BTreeSet::new();
        for u in &plan.units {
            let safe = !u.id.is_empty() && u.id.len() <= 128 && u.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !safe || !ids.insert(u.id.as_str()) {
                return Err(format!("unit id '{}' is not a unique name of letters, digits, - and _", u.id.escape_debug()));
            }
            if !is_account_id(&u.account_id) || !is_region_name(&u.region) || u.range().is_none() {
                return Err(format!("unit {}: not an account ID, a region and a time range", u.id));
            }
        }
        let id = plan_id(&plan.trail_arn, &plan.bucket, &plan.prefix, &plan.organization_id, &plan.units);
        if id != plan.plan_id {
            return Err(format!("its plan_id {} is not the SHA-256 of its units ({id}): the file was changed after `trailproof plan` wrote it", plan.plan_id));
        }
        Ok(plan)
    }

    /// The canonical JSON text of the plan file.
    pub fn render(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serialises") + "\n"
    }

    /// The target (where the chain's digests lie) of a unit.
    pub fn target(&self, unit: &Unit) -> Target {
        // Checked when the plan was read.
        let arn = parse_trail_arn(&self.trail_arn).unwrap_or_else(|_| crate::layout::TrailArn { region: String::new(), account_id: String::new(), name: String::new() });
        Target {
            trail_arn: self.trail_arn.clone(),
            trail_name: arn.name,
            home_region: arn.region,
            source_region: unit.region.clone(),
            account_id: unit.account_id.clone(),
            organization_id: self.organization_id.clone(),
            bucket: self.bucket.clone(),
            prefix: self.prefix.clone(),
        }
    }

    /// The whole range the plan covers.
    pub fn range(&self) -> Option<Range> {
        let start = crate::time::parse_user_time(&self.requested.start_time).ok()?;
        let end = crate::time::parse_user_time(&self.requested.end_time).ok()?;
        Some(Range { start, end })
    }

    /// The units of shard `index` of `count`, in plan order.
    pub fn shard(&self, index: usize, count: usize) -> Vec<&Unit> {
        let of = assign(&self.units, count);
        self.units.iter().zip(of).filter(|(_, s)| *s == index).map(|(u, _)| u).collect()
    }
}

/// Deals units to `count` shards: longest first (by [`Unit::hours`], ties in plan order) onto
/// the lightest shard (ties to the lowest index). Deterministic; every unit in exactly one
/// shard. Returns each unit's shard.
pub fn assign(units: &[Unit], count: usize) -> Vec<usize> {
    let count = count.max(1);
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by_key(|&i| (Reverse(units[i].hours()), i));
    let mut load: BinaryHeap<Reverse<(i64, usize)>> = (0..count).map(|s| Reverse((0, s))).collect();
    let mut of = vec![0; units.len()];
    for i in order {
        // The heap holds one entry per shard, never empty.
        let Reverse((l, s)) = load.pop().expect("one entry per shard");
        of[i] = s;
        load.push(Reverse((l + units[i].hours(), s)));
    }
    of
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn t(s: &str) -> DateTime<Utc> {
        crate::time::parse_user_time(s).unwrap()
    }

    /// A chain of an organization trail, for the plan's and the merge's tests.
    pub(crate) fn target(account: &str, region: &str) -> Target {
        Target {
            trail_arn: "arn:aws:cloudtrail:us-east-1:111122223333:trail/org".into(),
            trail_name: "org".into(),
            home_region: "us-east-1".into(),
            source_region: region.into(),
            account_id: account.into(),
            organization_id: Some("o-exampleorg1".into()),
            bucket: "b".into(),
            prefix: None,
        }
    }

    fn requested() -> Requested {
        Requested { start_time: "2026-03-01T00:00:00Z".into(), end_time: "2026-03-15T00:00:00Z".into(), all_regions: true, all_accounts: true, slice_hours: None }
    }

    fn range() -> Range {
        Range { start: t("2026-03-01T00:00:00Z"), end: t("2026-03-15T00:00:00Z") }
    }

    #[test]
    fn slices_overlap_by_one_period_and_cover_the_range() {
        let s = slices(range(), Some(Duration::days(7)));
        assert_eq!(s, vec![
            Range { start: t("2026-03-01T00:00:00Z"), end: t("2026-03-08T00:00:00Z") },
            Range { start: t("2026-03-07T23:00:00Z"), end: t("2026-03-15T00:00:00Z") },
        ]);
        let s = slices(range(), Some(Duration::days(5)));
        assert_eq!(s.len(), 3);
        assert_eq!(s[2], Range { start: t("2026-03-10T23:00:00Z"), end: t("2026-03-15T00:00:00Z") });
        assert_eq!(slices(range(), None), vec![range()]);
        assert_eq!(slices(range(), Some(Duration::days(30))), vec![range()]);
    }

    #[test]
    fn slice_lengths_parse() {
        assert_eq!(parse_slice("7d"), Ok(Duration::days(7)));
        assert_eq!(parse_slice("36h"), Ok(Duration::hours(36)));
        assert_eq!(parse_slice("2w"), Ok(Duration::weeks(2)));
        for bad in ["1h", "0d", "7", "d", "7x", "-3d", "99999999999999999w", ""] {
            assert!(parse_slice(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_plan_reads_back_and_refuses_edits() {
        let targets = [target("111122223333", "us-east-1"), target("444455556666", "us-east-1")];
        let plan = Plan::new(&targets, range(), requested(), Some(Duration::days(7))).unwrap();
        assert_eq!(plan.units.len(), 4);
        assert_eq!(plan.units[1].id, "111122223333-us-east-1-20260307T230000Z");
        let text = plan.render();
        assert_eq!(Plan::parse(text.as_bytes()).unwrap(), plan);
        // Same input, same ID; a changed unit, another.
        assert_eq!(Plan::new(&targets, range(), requested(), Some(Duration::days(7))).unwrap().plan_id, plan.plan_id);
        let edited = text.replace("444455556666", "444455556667");
        assert!(Plan::parse(edited.as_bytes()).unwrap_err().contains("plan_id"));
        for (from, to) in [("\"plan_version\": 1", "\"plan_version\": 2"), ("us-east-1\"", "../../x\""), ("2026-03-08T00:00:00Z", "tomorrow"), ("\"start_time\": \"2026-03-01T00:00:00Z\"", "\"start_time\": \"2027-03-01T00:00:00Z\"")] {
            assert!(Plan::parse(text.replacen(from, to, 1).as_bytes()).is_err(), "{from} -> {to}");
        }
        assert!(Plan::parse(b"{}").is_err());
        assert!(Plan::parse(b"\x00\xff").is_err());
    }

    fn units(hours: &[i64]) -> Vec<Unit> {
        hours.iter().enumerate().map(|(i, h)| Unit {
            id: format!("u{i}"),
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            start_time: "2026-03-01T00:00:00Z".into(),
            end_time: crate::time::display(t("2026-03-01T00:00:00Z") + Duration::hours(*h)),
        }).collect()
    }

    /// Every unit in exactly one shard, longest first onto the lightest, the same every time.
    #[test]
    fn shards_partition_the_units_by_size() {
        let u = units(&[10, 1, 7, 3, 3, 10, 2]);
        let of = assign(&u, 3);
        // 10→0, 10→1, 7→2, 3→2 (7<10, lightest is 2), 3→0 (10,10,10: lowest index), 2→1, 1→2.
        assert_eq!(of, vec![0, 2, 2, 2, 0, 1, 1]);
        assert_eq!(of, assign(&u, 3));
        let loads: Vec<i64> = (0..3).map(|s| u.iter().zip(&of).filter(|(_, x)| **x == s).map(|(u, _)| u.hours()).sum()).collect();
        assert_eq!(loads, vec![13, 12, 11]);
        for n in 1..10 {
            let of = assign(&u, n);
            assert!(of.iter().all(|s| *s < n));
            let total: usize = (0..n).map(|s| of.iter().filter(|x| **x == s).count()).sum();
            assert_eq!(total, u.len());
        }
        // More shards than units: the extra ones are empty.
        assert_eq!(assign(&u[..2], 5), vec![0, 1]);
    }
}
