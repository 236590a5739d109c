//! Unit reports and their merge (`trailproof merge`): each shard of a plan writes one report per
//! unit, validate-logs' JSON document plus `plan_id` and `unit`; the merge joins them into one
//! [`Report`] with validate-logs' shape and verdict rules. Pure: reading the reports is the CLI's.
//!
//! - Summaries are summed unit by unit. Neighbouring time slices of one chain overlap by one
//!   digest period ([`crate::plan::OVERLAP`]), so objects in an overlap are counted in both slices.
//! - Findings keep plan order (the order of a single run over the same targets). A finding that
//!   an earlier slice of the same chain already reported (same kind, bucket and key; for a
//!   finding about a folder rather than an object, the same message too) is reported once.
//! - A slice's tail is not the chain's: when a later slice of the same chain verified a digest,
//!   an earlier slice's tail findings (`digest_tail_missing`, or `unchecked` for an undecidable
//!   tail) are dropped. The later slice walks back across the edge: a digest deleted there is
//!   reported by it as missing, and a legitimate stop as a gap, as in a single run. When no later
//!   slice verified anything, the earlier slice's tail finding stands: the chain ends there.
//! - A slice with no digest at all calls its log files unvouched-for errors ("this region has no
//!   digest in the range"). When another slice of the chain verified digests, the chain has
//!   digests, as a single run over the whole range sees it: such log files are warnings, as
//!   there (not inside a verified digest's period), and the missing digests are judged by the
//!   neighbouring slices' walks (missing, a gap, or a cut tail).
//! - A unit with no report, an unreadable one, or one for another plan or unit is an `unchecked`
//!   error naming the unit: the verdict is at best incomplete.
use std::collections::{BTreeSet, HashMap, HashSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::json::{Span, ValidationDocument};
use super::schema::Version;
use super::{RegionSummary, Report, Summary, Verdict};
use crate::finding::{Finding, FindingKind, Scope};
use crate::plan::{Plan, Unit};
use crate::time::Range;

/// The largest unit report read back (a chain-year with every log file flagged is about 30 MB).
pub const MAX_UNIT_REPORT_BYTES: u64 = 256 * 1024 * 1024;

/// One unit's report as a shard writes it: validate-logs' document, plus the plan and the unit.
#[derive(Serialize, JsonSchema)]
pub struct UnitDocument<'a> {
    #[serde(flatten)]
    pub report: ValidationDocument<'a>,
    /// The plan's `plan_id`.
    pub plan_id: &'a str,
    /// The unit, as the plan lists it.
    pub unit: &'a Unit,
}

/// A unit report read back: what the merge uses of it.
#[derive(Debug, Clone, Deserialize)]
pub struct UnitReport {
    #[allow(dead_code)]
    schema_version: Version<{ super::schema::VALIDATE_LOGS }>,
    pub plan_id: String,
    pub unit: Unit,
    pub trail_arn: String,
    pub found: Option<Span>,
    pub summary: Summary,
    pub per_region: Vec<RegionSummary>,
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
}

impl UnitReport {
    pub fn parse(bytes: &[u8]) -> Result<UnitReport, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("not a unit report: {e}"))
    }
}

/// What the merge got for one unit.
#[derive(Debug, Clone)]
pub enum Got {
    Report(Box<UnitReport>),
    /// No report where it should be.
    Missing,
    /// A report that could not be read or used, and why.
    Unusable(String),
}

/// Why a report does not belong to `unit` of `plan`, if it does not.
fn foreign(plan: &Plan, unit: &Unit, r: &UnitReport) -> Option<String> {
    if r.plan_id != plan.plan_id {
        return Some(format!("it is a report for another plan ({})", r.plan_id));
    }
    if r.unit != *unit || r.trail_arn != plan.trail_arn {
        return Some(format!("it is the report of unit {}, not of this unit", r.unit.id));
    }
    if r.per_region.iter().any(|p| p.account_id != unit.account_id || p.region != unit.region) || r.findings.iter().any(|f| f.account_id != unit.account_id || f.region != unit.region) {
        return Some("it holds findings of other accounts or regions than its unit's".into());
    }
    None
}

fn parse_span(s: &Span) -> Option<Range> {
    let start = crate::time::parse_user_time(&s.start_time).ok()?;
    let end = crate::time::parse_user_time(&s.end_time).ok()?;
    Some(Range { start, end })
}

/// What makes two findings of one chain the same finding.
fn identity(f: &Finding) -> (FindingKind, String, String, String) {
    let about_folder = f.key.is_empty() || f.key.ends_with('/');
    (f.kind, f.bucket.clone(), f.key.clone(), if about_folder { f.message.clone() } else { String::new() })
}

/// A finding about a chain's newest end (`pipeline::completeness::tail_finding`): about the digest
/// folder, with the span `from` to `to`.
fn is_tail(f: &Finding, digest_dir: &str) -> bool {
    let span = f.details.contains_key("from") && f.details.contains_key("to");
    f.key == digest_dir && (f.kind == FindingKind::DigestTailMissing || (f.kind == FindingKind::Unchecked && span))
}

/// A log file a slice without digests reported as vouched for by nothing, as a run over a range
/// where its chain has digests reports it: a warning, not inside a verified digest's period.
fn as_in_a_chain_with_digests(f: Finding) -> Finding {
    match (f.kind, f.details.get("delivered").and_then(|d| d.as_str())) {
        (FindingKind::LogUnreferenced, Some(at)) => Finding {
            severity: crate::finding::Severity::Warning,
            message: format!("delivered {at}, not wholly inside a verified digest's period (validation off, not yet digested, or its digest is bad or could not be read)"),
            ..f
        },
        _ => f,
    }
}

/// Joins the units' reports (one [`Got`] per unit of `plan`, in plan order) into one report.
/// `location` says where a unit's report should be, for the findings about missing ones.
pub fn merge(plan: &Plan, got: Vec<Got>, location: &dyn Fn(&Unit) -> String) -> Report {
    struct Chain {
        account_id: String,
        region: String,
        summary: Summary,
        findings: Vec<Finding>,
        seen: HashSet<(FindingKind, String, String, String)>,
        checked: bool,
        digest_dir: String,
    }
    let mut chains: Vec<Chain> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut found: Option<Range> = None;
    // Whether a later unit of the same chain verified anything; which chains verified anything.
    let mut later_verified = vec![false; plan.units.len()];
    let mut verified_after: HashSet<(&str, &str)> = HashSet::new();
    for (i, (unit, got)) in plan.units.iter().zip(&got).enumerate().rev() {
        let chain = (unit.account_id.as_str(), unit.region.as_str());
        later_verified[i] = verified_after.contains(&chain);
        if matches!(got, Got::Report(r) if r.found.is_some()) {
            verified_after.insert(chain);
        }
    }
    let chain_verified = verified_after;
    for ((unit, got), later_verified) in plan.units.iter().zip(got).zip(later_verified) {
        let at = *index.entry((unit.account_id.clone(), unit.region.clone())).or_insert_with(|| {
            chains.push(Chain {
                account_id: unit.account_id.clone(),
                region: unit.region.clone(),
                summary: Summary::default(),
                findings: Vec::new(),
                seen: HashSet::new(),
                checked: false,
                digest_dir: plan.target(unit).digest_dir(),
            });
            chains.len() - 1
        });
        let chain = &mut chains[at];
        let why = match got {
            Got::Report(r) => match foreign(plan, unit, &r) {
                None => {
                    let s = &r.summary;
                    let no_digests = s.digests.valid + s.digests.invalid + s.backfill_digests.valid + s.backfill_digests.invalid == 0;
                    let chain_has_digests = no_digests && chain_verified.contains(&(unit.account_id.as_str(), unit.region.as_str()));
                    let ours: Vec<Finding> = r.findings.into_iter()
                        .map(|f| if chain_has_digests { as_in_a_chain_with_digests(f) } else { f })
                        .filter(|f| !chain.seen.contains(&identity(f)))
                        .filter(|f| !(later_verified && is_tail(f, &chain.digest_dir)))
                        .collect();
                    chain.seen.extend(ours.iter().map(identity));
                    chain.findings.extend(ours);
                    chain.summary += r.summary;
                    if let Some(span) = r.found.as_ref().and_then(parse_span) {
                        chain.checked = true;
                        found = Some(match found {
                            None => span,
                            Some(f) => Range { start: f.start.min(span.start), end: f.end.max(span.end) },
                        });
                    }
                    continue;
                }
                Some(why) => why,
            },
            Got::Missing => "there is no report: its shard did not run, or failed before writing it".into(),
            Got::Unusable(why) => why,
        };
        let scope = Scope { account_id: unit.account_id.clone(), region: unit.region.clone() };
        let message = format!(
            "unit {} ({} {}, {} to {}) is not checked: {why} ({}); run its shard again, then merge again",
            unit.id, unit.account_id, unit.region, unit.start_time, unit.end_time, location(unit)
        );
        let finding = scope.finding(FindingKind::Unchecked, &plan.bucket, &location(unit), message).with("unit", unit.id.clone()).with("start_time", unit.start_time.clone()).with("end_time", unit.end_time.clone());
        chain.findings.push(finding);
    }

    let mut report = Report {
        trail_arn: plan.trail_arn.clone(),
        requested: plan.range().unwrap_or(Range { start: chrono::DateTime::UNIX_EPOCH, end: chrono::DateTime::UNIX_EPOCH }),
        found,
        regions: plan.units.iter().map(|u| u.region.clone()).collect::<BTreeSet<_>>().into_iter().collect(),
        accounts: plan.units.iter().map(|u| u.account_id.clone()).collect::<BTreeSet<_>>().into_iter().collect(),
        summary: Summary::default(),
        findings: Vec::new(),
        objects: Vec::new(),
        per_region: Vec::new(),
        resumed_from: Vec::new(),
        verdict: Verdict::Incomplete,
    };
    let mut checked_any = false;
    for c in chains {
        report.per_region.push(RegionSummary {
            account_id: c.account_id,
            region: c.region,
            summary: c.summary.clone(),
            verdict: Verdict::of(&c.findings, c.checked),
            head: None,
            bucket: plan.bucket.clone(),
            digest_dir: c.digest_dir,
            objects: 0..0,
        });
        report.summary += c.summary;
        report.findings.extend(c.findings);
        checked_any |= c.checked;
    }
    report.verdict = Verdict::of(&report.findings, checked_any);
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::plan::Requested;
    use crate::report::Counts;

    fn plan(slice: Option<chrono::Duration>) -> Plan {
        let target = crate::plan::tests::target;
        let range = Range { start: crate::time::parse_user_time("2026-03-01T00:00:00Z").unwrap(), end: crate::time::parse_user_time("2026-03-15T00:00:00Z").unwrap() };
        let requested = Requested { start_time: "2026-03-01T00:00:00Z".into(), end_time: "2026-03-15T00:00:00Z".into(), all_regions: true, all_accounts: true, slice_hours: None };
        Plan::new(&[target("111122223333", "us-east-1"), target("444455556666", "eu-west-1")], range, requested, slice).unwrap()
    }

    fn report(plan: &Plan, unit: &Unit, valid: usize, findings: Vec<Finding>) -> Got {
        let summary = Summary { digests: Counts { valid, invalid: findings.len() }, ..Summary::default() };
        let verdict = Verdict::of(&findings, valid > 0);
        Got::Report(Box::new(UnitReport {
            schema_version: Version,
            plan_id: plan.plan_id.clone(),
            unit: unit.clone(),
            trail_arn: plan.trail_arn.clone(),
            found: (valid > 0).then(|| Span { start_time: unit.start_time.clone(), end_time: unit.end_time.clone() }),
            summary: summary.clone(),
            per_region: vec![RegionSummary { account_id: unit.account_id.clone(), region: unit.region.clone(), summary, verdict, head: None, bucket: String::new(), digest_dir: String::new(), objects: 0..0 }],
            findings,
            verdict,
        }))
    }

    fn missing(unit: &Unit, key: &str) -> Finding {
        Scope { account_id: unit.account_id.clone(), region: unit.region.clone() }.finding(FindingKind::DigestMissing, "b", key, "gone")
    }

    fn at(u: &Unit) -> String {
        format!("reports/{}.json", u.id)
    }

    #[test]
    fn clean_units_merge_valid_with_summed_counts() {
        let p = plan(None);
        let got = p.units.iter().map(|u| report(&p, u, 5, vec![])).collect();
        let r = merge(&p, got, &at);
        assert_eq!((r.verdict, r.summary.digests.valid, r.per_region.len()), (Verdict::Valid, 10, 2));
        assert_eq!(r.accounts, ["111122223333", "444455556666"]);
        assert_eq!(r.regions, ["eu-west-1", "us-east-1"]);
        assert_eq!(r.per_region[1].digest_dir, "AWSLogs/o-exampleorg1/444455556666/CloudTrail-Digest/eu-west-1/");
    }

    #[test]
    fn tampering_in_one_unit_makes_the_merge_invalid() {
        let p = plan(None);
        let got = vec![report(&p, &p.units[0], 5, vec![]), report(&p, &p.units[1], 4, vec![missing(&p.units[1], "d1")])];
        let r = merge(&p, got, &at);
        assert_eq!((r.verdict, r.per_region[0].verdict, r.per_region[1].verdict), (Verdict::Invalid, Verdict::Valid, Verdict::Invalid));
        assert_eq!(r.findings.len(), 1);
    }

    /// A missing, foreign or unreadable report leaves its unit unchecked: incomplete, naming it.
    #[test]
    fn a_unit_without_its_report_is_unchecked() {
        let p = plan(None);
        let other = plan(Some(chrono::Duration::days(7)));
        for (second, why) in [
            (Got::Missing, "there is no report"),
            (Got::Unusable("not a unit report: EOF".into()), "not a unit report"),
            (report(&other, &p.units[1], 5, vec![]), "another plan"),
            (report(&p, &p.units[0], 5, vec![]), "report of unit 111122223333-us-east-1"),
        ] {
            let r = merge(&p, vec![report(&p, &p.units[0], 5, vec![]), second], &at);
            assert_eq!(r.verdict, Verdict::Incomplete, "{why}");
            let f = &r.findings[0];
            assert_eq!((f.kind, f.severity, f.account_id.as_str()), (FindingKind::Unchecked, Severity::Error, "444455556666"));
            assert!(f.message.contains("unit 444455556666-eu-west-1") && f.message.contains(why), "{}", f.message);
            assert_eq!(f.key, "reports/444455556666-eu-west-1.json");
            assert_eq!(r.per_region[1].verdict, Verdict::Incomplete);
        }
        // Tampering found elsewhere still outranks it.
        let r = merge(&p, vec![report(&p, &p.units[0], 4, vec![missing(&p.units[0], "d")]), Got::Missing], &at);
        assert_eq!(r.verdict, Verdict::Invalid);
    }

    /// A finding at a slice edge, reported by both slices, is reported once; counts are summed.
    #[test]
    fn overlapping_slices_report_a_finding_once() {
        let p = plan(Some(chrono::Duration::days(7)));
        assert_eq!(p.units.len(), 4);
        let (u0, u1) = (&p.units[0], &p.units[1]);
        let gap = |u: &Unit, m: &str| Scope { account_id: u.account_id.clone(), region: u.region.clone() }.finding(FindingKind::DigestChainGap, "b", "AWSLogs/x/", m);
        let got = vec![
            report(&p, u0, 5, vec![missing(u0, "edge"), gap(u0, "gap one")]),
            report(&p, u1, 5, vec![missing(u1, "edge"), missing(u1, "later"), gap(u1, "gap one"), gap(u1, "gap two")]),
            report(&p, &p.units[2], 5, vec![]),
            report(&p, &p.units[3], 5, vec![]),
        ];
        let r = merge(&p, got, &at);
        let keys: Vec<(&str, &str)> = r.findings.iter().map(|f| (f.key.as_str(), f.message.as_str())).collect();
        assert_eq!(keys, [("edge", "gone"), ("AWSLogs/x/", "gap one"), ("later", "gone"), ("AWSLogs/x/", "gap two")]);
        assert_eq!(r.per_region.len(), 2);
        assert_eq!(r.summary.digests.valid, 20);
        // The second slice's own report of the edge finding stays in its unit report: the merge
        // dedupes only across slices of one chain, and only what an earlier slice reported.
        assert_eq!(r.verdict, Verdict::Invalid);
    }

    /// An earlier slice's tail finding is dropped when a later slice verified digests; it stands
    /// when none did (the chain ends in that slice).
    #[test]
    fn a_slice_tail_is_judged_by_the_later_slices() {
        let p = plan(Some(chrono::Duration::days(7)));
        let u0 = &p.units[0];
        let dir = p.target(u0).digest_dir();
        let scope = Scope { account_id: u0.account_id.clone(), region: u0.region.clone() };
        let tail = scope.finding(FindingKind::DigestTailMissing, "b", &dir, "cut").with("from", "x").with("to", "y");
        let undecided = scope.finding(FindingKind::Unchecked, "b", &dir, "undecided").with("from", "x").with("to", "y");
        let rest = |valid| vec![report(&p, &p.units[1], valid, vec![]), report(&p, &p.units[2], 5, vec![]), report(&p, &p.units[3], 5, vec![])];
        for f in [tail, undecided] {
            let first = report(&p, u0, 5, vec![f.clone()]);
            let r = merge(&p, [vec![first.clone()], rest(5)].concat(), &at);
            assert_eq!((r.verdict, r.findings.len()), (Verdict::Valid, 0), "{:?}", f.kind);
            let r = merge(&p, [vec![first], rest(0)].concat(), &at);
            assert_ne!(r.verdict, Verdict::Valid, "{:?}", f.kind);
            assert_eq!(r.findings, vec![f]);
        }
    }

    /// The log files of a slice without digests are warnings when the chain has digests in
    /// another slice, errors when it has none anywhere.
    #[test]
    fn a_slice_without_digests_is_judged_with_its_chain() {
        let p = plan(Some(chrono::Duration::days(7)));
        let u1 = &p.units[1];
        let scope = Scope { account_id: u1.account_id.clone(), region: u1.region.clone() };
        let stray = scope.finding(FindingKind::LogUnreferenced, "b", "AWSLogs/l.json.gz", "delivered 2026-03-09T00:00:00Z, but this region has no digest in the range: nothing vouches for it").with("delivered", "2026-03-09T00:00:00Z");
        let rest = vec![report(&p, &p.units[2], 5, vec![]), report(&p, &p.units[3], 5, vec![])];
        // No digest listed at all: every count zero.
        let bare = || match report(&p, u1, 0, vec![stray.clone()]) {
            Got::Report(mut r) => {
                r.summary = Summary::default();
                Got::Report(r)
            }
            other => other,
        };
        let r = merge(&p, [vec![report(&p, &p.units[0], 5, vec![]), bare()], rest.clone()].concat(), &at);
        assert_eq!((r.verdict, r.findings[0].severity), (Verdict::Valid, Severity::Warning));
        assert!(r.findings[0].message.contains("not wholly inside a verified digest's period"), "{}", r.findings[0].message);
        let r = merge(&p, [vec![report(&p, &p.units[0], 0, vec![]), bare()], rest].concat(), &at);
        assert_eq!((r.verdict, &r.findings[0]), (Verdict::Invalid, &stray));
    }

    /// A slice with no authentic digest (logging off that week) does not make its chain
    /// incomplete when another slice verified: the chain is judged whole, as one run would.
    #[test]
    fn an_empty_slice_is_judged_with_its_chain() {
        let p = plan(Some(chrono::Duration::days(7)));
        let got = vec![report(&p, &p.units[0], 5, vec![]), report(&p, &p.units[1], 0, vec![]), report(&p, &p.units[2], 5, vec![]), report(&p, &p.units[3], 5, vec![])];
        let r = merge(&p, got, &at);
        assert_eq!((r.verdict, r.per_region[0].verdict), (Verdict::Valid, Verdict::Valid));
    }
}
