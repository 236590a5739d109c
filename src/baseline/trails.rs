//! Trail checks: logging, management events, validation, CloudWatch Logs delivery, encryption,
//! global events and bucket hardening. One result per check and trail expectation.
use chrono::Duration;

use super::model::{Baseline, TrailExpectation};
use super::snapshot::{AccountSnapshot, AdvancedSelector, EventSelectors, Fetched, Trail};
use super::codes::{Code, TrailCheck};
use super::{CheckResult, Status};

fn check(c: TrailCheck) -> CheckResult {
    CheckResult::new(Code::Trail(c), c.title(), c.remediation())
}

/// Runs the trail checks; returns, per expectation, the trail judged (if any) so the alert
/// checks look at its log group.
pub fn evaluate<'a>(baseline: &Baseline, snapshot: &'a AccountSnapshot, results: &mut Vec<CheckResult>) -> Vec<&'a Trail> {
    let mut chosen = Vec::new();
    for (index, expect) in baseline.trails.iter().enumerate() {
        let first = results.len();
        judge_expectation(expect, snapshot, results, &mut chosen);
        for r in &mut results[first..] {
            r.expectation = Some(index);
        }
    }
    chosen
}

/// One expectation's checks; the trail judged goes to `chosen`.
fn judge_expectation<'a>(expect: &TrailExpectation, snapshot: &'a AccountSnapshot, results: &mut Vec<CheckResult>, chosen: &mut Vec<&'a Trail>) {
    let ids = wanted(expect);
    let trails = match &snapshot.trails {
        Fetched::Ok(t) => t,
        Fetched::Error(e) => {
            results.extend(ids.iter().map(|&c| check(c).status(Status::Error, "account", format!("could not list trails: {e}"))));
            return;
        }
    };
    let trail = match &expect.name {
        Some(name) => trails.iter().find(|t| &t.name == name || &t.arn == name),
        None => trails.iter().max_by_key(|t| (t.is_multi_region, logging(t) == Some(true), score(expect, snapshot, t))),
    };
    let Some(trail) = trail else {
        let why = match &expect.name {
            Some(name) => format!("no trail named {name}"),
            None => "the account has no trails".to_string(),
        };
        results.extend(ids.iter().map(|&c| check(c).status(Status::Fail, expect.name.clone().unwrap_or_else(|| "account".into()), why.clone())));
        return;
    };
    for c in ids {
        let (status, evidence) = judge(c, expect, snapshot, trail);
        results.push(check(c).status(status, trail.arn.clone(), evidence));
    }
    chosen.push(trail);
}

fn wanted(expect: &TrailExpectation) -> Vec<TrailCheck> {
    TrailCheck::ALL.into_iter().filter(|c| c.wanted_by(expect)).collect()
}

fn logging(trail: &Trail) -> Option<bool> {
    trail.status.as_result().ok().map(|s| s.is_logging)
}

fn score(expect: &TrailExpectation, snapshot: &AccountSnapshot, trail: &Trail) -> usize {
    wanted(expect).into_iter().filter(|&c| judge(c, expect, snapshot, trail).0 == Status::Pass).count()
}

fn verdict(ok: bool, pass: impl Into<String>, fail: impl Into<String>) -> (Status, String) {
    if ok {
        (Status::Pass, pass.into())
    } else {
        (Status::Fail, fail.into())
    }
}

fn judge(check: TrailCheck, expect: &TrailExpectation, snapshot: &AccountSnapshot, trail: &Trail) -> (Status, String) {
    let name = &trail.name;
    match check {
        TrailCheck::MultiRegionLogging => match &trail.status {
            Fetched::Error(e) => (Status::Error, format!("could not read the trail's status: {e}")),
            Fetched::Ok(s) => {
                let mut problems = Vec::new();
                if expect.multi_region && !trail.is_multi_region {
                    problems.push("is a single-region trail");
                }
                if !s.is_logging {
                    problems.push("is not logging (IsLogging=false)");
                }
                verdict(problems.is_empty(), format!("{name} is multi-region and logging"), format!("{name} {}", problems.join(" and ")))
            }
        },
        TrailCheck::ManagementEvents => match &trail.selectors {
            Fetched::Error(e) => (Status::Error, format!("could not read the event selectors: {e}")),
            Fetched::Ok(sel) => management_events(sel, &expect.allowed_management_exclusions),
        },
        TrailCheck::LogFileValidation => verdict(trail.log_file_validation, "log file validation is enabled", "LogFileValidationEnabled is false: digests are not written, tampering cannot be proven"),
        TrailCheck::CloudwatchLogs => cloudwatch_delivery(expect, snapshot, trail),
        TrailCheck::KmsEncryption => match &trail.kms_key_id {
            Some(key) => (Status::Pass, format!("encrypted with {key}")),
            None => (Status::Fail, "no KmsKeyId: log files use S3-managed encryption only".into()),
        },
        TrailCheck::GlobalServiceEvents => verdict(trail.include_global_service_events, "IncludeGlobalServiceEvents is true", "IncludeGlobalServiceEvents is false: IAM and STS activity is not logged by this trail"),
        TrailCheck::BucketPublicAccessBlock | TrailCheck::BucketVersioning | TrailCheck::BucketMfaDelete | TrailCheck::BucketObjectLock => bucket(check, snapshot, trail),
    }
}

fn cloudwatch_delivery(expect: &TrailExpectation, snapshot: &AccountSnapshot, trail: &Trail) -> (Status, String) {
    let Some(group) = &trail.cloudwatch_logs_log_group_arn else {
        return (Status::Fail, "the trail delivers to no CloudWatch Logs log group".into());
    };
    let status = match &trail.status {
        Fetched::Ok(s) => s,
        Fetched::Error(e) => return (Status::Error, format!("could not read the trail's status: {e}")),
    };
    let max_age = Duration::hours(i64::from(expect.cloudwatch_max_delivery_age_hours));
    match (status.latest_cloudwatch_logs_delivery, &status.latest_cloudwatch_logs_delivery_error) {
        (_, Some(err)) => (Status::Fail, format!("delivery to {group} fails: {err}")),
        (None, None) => (Status::Fail, format!("configured for {group}, but CloudTrail reports no delivery there")),
        (Some(at), None) if snapshot.taken_at - at > max_age => (
            Status::Fail,
            format!("last delivery to {group} was at {} ({} h ago; at most {} h allowed)", at.to_rfc3339(), (snapshot.taken_at - at).num_hours(), expect.cloudwatch_max_delivery_age_hours),
        ),
        (Some(at), None) => (Status::Pass, format!("delivers to {group}; last delivery {}", at.to_rfc3339())),
    }
}

fn bucket(check: TrailCheck, snapshot: &AccountSnapshot, trail: &Trail) -> (Status, String) {
    let Some(name) = &trail.s3_bucket else {
        return (Status::Fail, "the trail names no S3 bucket".into());
    };
    let Some(bucket) = snapshot.buckets.get(name) else {
        return (Status::Error, format!("bucket {name} was not read"));
    };
    match check {
        TrailCheck::BucketPublicAccessBlock => match &bucket.public_access_block {
            Fetched::Error(e) => (Status::Error, e.clone()),
            Fetched::Ok(None) => (Status::Fail, format!("bucket {name} has no public access block")),
            Fetched::Ok(Some(p)) => {
                let off: Vec<&str> = [
                    ("BlockPublicAcls", p.block_public_acls),
                    ("IgnorePublicAcls", p.ignore_public_acls),
                    ("BlockPublicPolicy", p.block_public_policy),
                    ("RestrictPublicBuckets", p.restrict_public_buckets),
                ]
                .iter()
                .filter(|(_, on)| !on)
                .map(|(n, _)| *n)
                .collect();
                verdict(off.is_empty(), format!("bucket {name} blocks all public access"), format!("bucket {name}: {} off", off.join(", ")))
            }
        },
        TrailCheck::BucketVersioning => match &bucket.versioning {
            Fetched::Error(e) => (Status::Error, e.clone()),
            Fetched::Ok(v) => verdict(
                v.status.as_deref() == Some("Enabled"),
                format!("bucket {name} is versioned"),
                format!("bucket {name} versioning is {}", v.status.as_deref().unwrap_or("never enabled")),
            ),
        },
        TrailCheck::BucketMfaDelete => match &bucket.versioning {
            Fetched::Error(e) => (Status::Error, e.clone()),
            Fetched::Ok(v) => verdict(v.mfa_delete.as_deref() == Some("Enabled"), format!("bucket {name} requires MFA delete"), format!("bucket {name} MFA delete is {}", v.mfa_delete.as_deref().unwrap_or("off"))),
        },
        TrailCheck::BucketObjectLock => match &bucket.object_lock_enabled {
            Fetched::Error(e) => (Status::Error, e.clone()),
            Fetched::Ok(on) => verdict(*on, format!("bucket {name} has Object Lock"), format!("bucket {name} has no Object Lock")),
        },
        other => (Status::Error, format!("{} is not a bucket check", other.id())),
    }
}

/// What one selector records of management events.
#[derive(Debug, Default, PartialEq)]
struct Coverage {
    read: bool,
    write: bool,
    /// Management events left out, e.g. `eventSource != kms.amazonaws.com`.
    exclusions: Vec<String>,
    /// Set when the selector records only some management events (e.g. `eventSource = iam...`).
    only: Vec<String>,
}

fn advanced_coverage(s: &AdvancedSelector) -> Option<Coverage> {
    let category = s.field_selectors.iter().find(|f| f.field == "eventCategory")?;
    if !category.equals.iter().any(|v| v == "Management") {
        return None;
    }
    let mut c = Coverage { read: true, write: true, ..Coverage::default() };
    for f in s.field_selectors.iter().filter(|f| f.field != "eventCategory") {
        if f.field == "readOnly" {
            let allows = |v: &str| (f.equals.is_empty() || f.equals.iter().any(|e| e == v)) && !f.not_equals.iter().any(|e| e == v);
            c.read &= allows("true");
            c.write &= allows("false");
            continue;
        }
        for (op, values) in [("=", &f.equals), ("starts with", &f.starts_with), ("ends with", &f.ends_with)] {
            if !values.is_empty() {
                c.only.push(format!("{} {op} {}", f.field, values.join("|")));
            }
        }
        for (op, values) in [("!=", &f.not_equals), ("not starts with", &f.not_starts_with), ("not ends with", &f.not_ends_with)] {
            c.exclusions.extend(values.iter().map(|v| if f.field == "eventSource" && op == "!=" { v.clone() } else { format!("{} {op} {v}", f.field) }));
        }
    }
    Some(c)
}

/// Read and write management events must each be recorded by some selector with no restriction
/// and no exclusion beyond those allowed. Selectors are ORed by CloudTrail, so one suffices.
pub(crate) fn management_events(sel: &EventSelectors, allowed: &[String]) -> (Status, String) {
    let coverages: Vec<Coverage> = sel
        .classic
        .iter()
        .filter(|s| s.include_management_events)
        .map(|s| Coverage {
            read: matches!(s.read_write_type.as_str(), "All" | "ReadOnly"),
            write: matches!(s.read_write_type.as_str(), "All" | "WriteOnly"),
            exclusions: s.exclude_management_event_sources.clone(),
            only: Vec::new(),
        })
        .chain(sel.advanced.iter().filter_map(advanced_coverage))
        .collect();
    if coverages.is_empty() {
        return (Status::Fail, "no event selector records management events".into());
    }
    let full = |c: &Coverage| c.only.is_empty() && c.exclusions.iter().all(|e| allowed.contains(e));
    let read = coverages.iter().any(|c| c.read && full(c));
    let write = coverages.iter().any(|c| c.write && full(c));
    if read && write {
        return (Status::Pass, "read and write management events are recorded".into());
    }
    let mut why = Vec::new();
    type Wants = fn(&Coverage) -> bool;
    let directions: [(&str, bool, Wants); 2] = [("read", read, |c| c.read), ("write", write, |c| c.write)];
    for (dir, ok, wants) in directions {
        if ok {
            continue;
        }
        let partial: Vec<String> = coverages
            .iter()
            .filter(|c| wants(c))
            .map(|c| {
                let mut parts = Vec::new();
                if !c.only.is_empty() {
                    parts.push(format!("only {}", c.only.join(", ")));
                }
                let excluded: Vec<&String> = c.exclusions.iter().filter(|e| !allowed.contains(e)).collect();
                if !excluded.is_empty() {
                    parts.push(format!("excluding {}", excluded.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")))
                }
                parts.join(" and ")
            })
            .collect();
        why.push(if partial.is_empty() { format!("{dir} management events are not recorded") } else { format!("{dir} management events are recorded {}", partial.join("; ")) });
    }
    (Status::Fail, why.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::snapshot::{ClassicSelector, FieldSelector};

    fn classic(rw: &str, excluded: &[&str]) -> ClassicSelector {
        ClassicSelector { read_write_type: rw.into(), include_management_events: true, exclude_management_event_sources: excluded.iter().map(|s| s.to_string()).collect() }
    }

    fn field(name: &str, equals: &[&str], not_equals: &[&str]) -> FieldSelector {
        FieldSelector { field: name.into(), equals: equals.iter().map(|s| s.to_string()).collect(), not_equals: not_equals.iter().map(|s| s.to_string()).collect(), ..Default::default() }
    }

    fn advanced(fields: Vec<FieldSelector>) -> EventSelectors {
        EventSelectors { classic: vec![], advanced: vec![AdvancedSelector { name: None, field_selectors: fields }] }
    }

    #[test]
    fn classic_selectors() {
        let all = EventSelectors { classic: vec![classic("All", &[])], advanced: vec![] };
        assert_eq!(management_events(&all, &[]).0, Status::Pass);
        let split = EventSelectors { classic: vec![classic("ReadOnly", &[]), classic("WriteOnly", &[])], advanced: vec![] };
        assert_eq!(management_events(&split, &[]).0, Status::Pass);
        let write_only = EventSelectors { classic: vec![classic("WriteOnly", &[])], advanced: vec![] };
        let (status, why) = management_events(&write_only, &[]);
        assert_eq!(status, Status::Fail);
        assert!(why.contains("read management events are not recorded"), "{why}");
        let excluded = EventSelectors { classic: vec![classic("All", &["kms.amazonaws.com"])], advanced: vec![] };
        let (status, why) = management_events(&excluded, &[]);
        assert_eq!(status, Status::Fail);
        assert!(why.contains("excluding kms.amazonaws.com"), "{why}");
        assert_eq!(management_events(&excluded, &["kms.amazonaws.com".into()]).0, Status::Pass);
        let none = EventSelectors { classic: vec![ClassicSelector { include_management_events: false, ..classic("All", &[]) }], advanced: vec![] };
        assert_eq!(management_events(&none, &[]).0, Status::Fail);
    }

    #[test]
    fn advanced_selectors() {
        assert_eq!(management_events(&advanced(vec![field("eventCategory", &["Management"], &[])]), &[]).0, Status::Pass);
        let reads = advanced(vec![field("eventCategory", &["Management"], &[]), field("readOnly", &["true"], &[])]);
        assert_eq!(management_events(&reads, &[]).0, Status::Fail);
        let no_rds = advanced(vec![field("eventCategory", &["Management"], &[]), field("eventSource", &[], &["rdsdata.amazonaws.com"])]);
        let (status, why) = management_events(&no_rds, &[]);
        assert_eq!(status, Status::Fail);
        assert!(why.contains("excluding rdsdata.amazonaws.com"), "{why}");
        assert_eq!(management_events(&no_rds, &["rdsdata.amazonaws.com".into()]).0, Status::Pass);
        let iam_only = advanced(vec![field("eventCategory", &["Management"], &[]), field("eventSource", &["iam.amazonaws.com"], &[])]);
        let (status, why) = management_events(&iam_only, &[]);
        assert_eq!(status, Status::Fail);
        assert!(why.contains("only eventSource = iam.amazonaws.com"), "{why}");
        let data = advanced(vec![field("eventCategory", &["Data"], &[]), field("resources.type", &["AWS::S3::Object"], &[])]);
        assert_eq!(management_events(&data, &[]).0, Status::Fail);
    }
}
