//! Organization-scale audits as an array job, end to end against the emulator: `plan`, shards
//! run as separate processes with the variables AWS Batch or an Indexed Job sets, and `merge`,
//! compared with one `validate-logs --all-accounts --all-regions` run over the same data.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::*;
use serde_json::Value;
use trailproof::plan::Plan;

const ACCOUNTS: [&str; 3] = [ACCOUNT, "444455556666", "777788889999"];
const REGIONS: [&str; 2] = ["eu-west-1", "us-west-2"];
const ORG: &str = "o-exampleorg1";

/// An organization trail of three member accounts × two regions in `bucket`, with a changed log
/// file and a deleted digest in account 444455556666, us-west-2.
fn tampered_org(bucket: &str) -> Vec<trailproof::sim::SimTrail> {
    let mut trails = multi(bucket, Some(ORG), &ACCOUNTS, &REGIONS, |_| {});
    let victim = trails.iter_mut().find(|t| t.spec.account_id == "444455556666" && t.spec.region == "us-west-2").unwrap();
    let gone = victim.digest_keys[4].clone();
    victim.objects.remove(&gone);
    let log = victim.log_keys[20].clone();
    victim.rewrite_log(&log, |json| json.extend_from_slice(b" "));
    upload_all(&trails);
    trails
}

/// The flags that pick the organization's chains, without DescribeTrails or DescribeOrganization.
fn selection(bucket: &str) -> Vec<String> {
    ["--all-accounts", "--all-regions", "--organization-id", ORG, "--s3-bucket", bucket].map(String::from).to_vec()
}

fn args_of(trail: &trailproof::sim::SimTrail, command: &str, extra: &[String]) -> Vec<String> {
    let (start, end) = range(trail);
    args_between(trail, command, &start, &end, extra)
}

fn args_between(trail: &trailproof::sim::SimTrail, command: &str, start: &str, end: &str, extra: &[String]) -> Vec<String> {
    let mut args: Vec<String> = [command, "--trail-arn", &trail.spec.trail_arn(), "--start-time", start, "--end-time", end].map(String::from).to_vec();
    args.extend_from_slice(extra);
    args
}

fn run(args: &[String], env: &[(&str, String)]) -> Run {
    trailproof(&args.iter().map(String::as_str).collect::<Vec<_>>(), env)
}

/// `trailproof plan` over the organization; returns the plan as read back.
fn plan(trail: &trailproof::sim::SimTrail, out: &str, extra: &[&str]) -> Plan {
    let (start, end) = range(trail);
    plan_between(trail, &start, &end, out, extra)
}

fn plan_between(trail: &trailproof::sim::SimTrail, start: &str, end: &str, out: &str, extra: &[&str]) -> Plan {
    let bucket = trail.spec.bucket.clone();
    let mut flags = selection(&bucket);
    flags.extend(["--out".to_string(), out.to_string()]);
    flags.extend(extra.iter().map(|s| s.to_string()));
    let made = run(&args_between(trail, "plan", start, end, &flags), &aws_env());
    assert_eq!(made.code, 0, "plan: {}{}", made.stdout, made.stderr);
    assert!(made.stdout.contains(" units ("), "{}", made.stdout);
    let bytes = match out.strip_prefix("s3://") {
        Some(rest) => get_object(rest),
        None => std::fs::read(out).unwrap(),
    };
    let value: Value = serde_json::from_slice(&bytes).unwrap();
    assert_fits_schema("plan", &value);
    Plan::parse(&bytes).unwrap()
}

fn get_object(bucket_and_key: &str) -> Vec<u8> {
    let (bucket, key) = bucket_and_key.split_once('/').unwrap();
    runtime().block_on(async { s3().await.get_object().bucket(bucket).key(key).send().await.unwrap().body.collect().await.unwrap().into_bytes().to_vec() })
}

/// Shards `indices` of `count`, each its own process at once, as the children of an AWS Batch
/// array job: the index and size only in AWS_BATCH_JOB_ARRAY_INDEX and AWS_BATCH_JOB_ARRAY_SIZE.
fn batch_children(plan: &str, dir: &str, indices: &[usize], count: usize) -> Vec<Run> {
    std::thread::scope(|s| {
        let children: Vec<_> = indices.iter().map(|i| s.spawn(move || {
            let mut env = aws_env();
            env.push(("AWS_BATCH_JOB_ARRAY_INDEX", i.to_string()));
            env.push(("AWS_BATCH_JOB_ARRAY_SIZE", count.to_string()));
            trailproof(&["validate-logs", "--plan", plan, "--report-dir", dir, "--output", "json", "--no-progress"], &env)
        })).collect();
        children.into_iter().map(|c| c.join().unwrap()).collect()
    })
}

fn merge(plan: &str, dir: &str) -> Run {
    trailproof(&["merge", "--plan", plan, "--report-dir", dir, "--output", "json"], &aws_env())
}

/// (kind, account, region, key) of every error finding.
fn error_findings(doc: &Value) -> BTreeSet<(String, String, String, String)> {
    doc["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "error")
        .map(|f| [&f["kind"], &f["account_id"], &f["region"], &f["key"]].map(|v| v.as_str().unwrap().to_string()))
        .map(|[a, b, c, d]| (a, b, c, d))
        .collect()
}

/// What must be equal between a merged report and the single run: verdict, summary, the set of
/// error findings, and each chain's verdict and summary.
fn assert_same_outcome(merged: &Run, single: &Run) {
    let (m, s) = (merged.json(), single.json());
    assert_eq!(merged.code, single.code, "exit codes\nmerged: {}\nsingle: {}", merged.stdout, single.stdout);
    assert_eq!(m["verdict"], s["verdict"]);
    assert_eq!(m["summary"], s["summary"], "summary");
    assert_eq!(error_findings(&m), error_findings(&s), "error findings");
    assert_eq!(m["per_region"], s["per_region"], "per_region");
    assert_eq!((&m["accounts"], &m["regions"]), (&s["accounts"], &s["regions"]));
    assert_eq!((&m["requested"], &m["found"]), (&s["requested"], &s["found"]));
    assert_eq!(m["findings"].as_array().unwrap().len(), s["findings"].as_array().unwrap().len(), "{:#}", m["findings"]);
}

/// Three shards as AWS Batch children, and again as the completions of an Indexed Job: each
/// merge equals the single run, and the tampering in one member account is found through them.
#[test]
fn sharded_run_merges_to_the_single_run() {
    let bucket = bucket("scale-shards");
    let trails = tampered_org(&bucket);
    let single = run(&args_of(&trails[0], "validate-logs", &[selection(&bucket), vec!["--output".into(), "json".into()]].concat()), &aws_env());
    assert_eq!(single.code, 1, "{}{}", single.stdout, single.stderr);

    let work = tempfile::tempdir().unwrap();
    let plan_file = path_str(&work.path().join("plan.json"));
    let planned = plan(&trails[0], &plan_file, &["--shards", "3"]);
    assert_eq!(planned.units.len(), 6);
    let ids: Vec<&str> = planned.units.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids[..2], ["111122223333-eu-west-1", "111122223333-us-west-2"]);

    let batch = path_str(&work.path().join("batch"));
    let children = batch_children(&plan_file, &batch, &[0, 1, 2], 3);
    let victim_shard = planned.shard(0, 3).iter().chain(&planned.shard(1, 3)).chain(&planned.shard(2, 3)).count();
    assert_eq!(victim_shard, 6, "every unit in one shard");
    for (i, child) in children.iter().enumerate() {
        let own: Vec<&str> = planned.shard(i, 3).iter().map(|u| u.id.as_str()).collect();
        let tampered = own.contains(&"444455556666-us-west-2");
        assert_eq!(child.code, if tampered { 1 } else { 0 }, "shard {i} ({own:?}): {}{}", child.stdout, child.stderr);
        assert_eq!(child.json()["per_region"].as_array().unwrap().len(), own.len());
    }
    let written: BTreeSet<String> = std::fs::read_dir(&batch).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(written, planned.units.iter().map(|u| format!("{}.json", u.id)).collect());
    let unit: Value = serde_json::from_slice(&std::fs::read(Path::new(&batch).join("444455556666-us-west-2.json")).unwrap()).unwrap();
    assert_fits_schema("unit-report", &unit);
    assert_eq!((unit["plan_id"].as_str(), unit["unit"]["id"].as_str(), unit["verdict"].as_str()), (Some(planned.plan_id.as_str()), Some("444455556666-us-west-2"), Some("invalid")));

    let merged = merge(&plan_file, &batch);
    assert_fits_schema("validate-logs", &merged.json());
    assert_same_outcome(&merged, &single);
    let errors = error_findings(&merged.json());
    assert!(errors.iter().all(|(_, account, region, _)| account == "444455556666" && region == "us-west-2"), "{errors:?}");
    let kinds: BTreeSet<&str> = errors.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(kinds, BTreeSet::from(["digest_missing", "log_hash_mismatch"]));

    // An Indexed Job: JOB_COMPLETION_INDEX, the count given (Kubernetes has no size variable).
    let indexed = path_str(&work.path().join("indexed"));
    for i in 0..2 {
        let mut env = aws_env();
        env.push(("JOB_COMPLETION_INDEX", i.to_string()));
        let child = trailproof(&["validate-logs", "--plan", &plan_file, "--report-dir", &indexed, "--shard-count", "2", "-q"], &env);
        assert!(child.code == 0 || child.code == 1, "{}{}", child.stdout, child.stderr);
    }
    assert_same_outcome(&merge(&plan_file, &indexed), &single);

    // Text, JUnit and SARIF come from the same reporters as validate-logs'.
    for format in ["text", "junit", "sarif"] {
        let out = trailproof(&["merge", "--plan", &plan_file, "--report-dir", &batch, "--output", format], &aws_env());
        assert_eq!(out.code, 1, "{format}: {}", out.stderr);
        assert!(out.stdout.contains("444455556666"), "{format}: {}", out.stdout);
    }
}

/// Plan and reports in S3. A shard never run leaves the merge incomplete, naming each of its
/// units; run late, it completes the merge; run again (a retried child), nothing changes.
#[test]
fn a_missing_shard_is_named_and_a_retried_one_changes_nothing() {
    let bucket = bucket("scale-retry");
    let trails = multi(&bucket, Some(ORG), &ACCOUNTS, &REGIONS, |_| {});
    upload_all(&trails);
    let plan_uri = format!("s3://{bucket}/audit/plan.json");
    let dir = format!("s3://{bucket}/audit/reports");
    let planned = plan(&trails[0], &plan_uri, &[]);

    for child in batch_children(&plan_uri, &dir, &[0, 2], 3) {
        assert_eq!(child.code, 0, "{}{}", child.stdout, child.stderr);
    }
    let partial = merge(&plan_uri, &dir);
    assert_eq!(partial.code, 3, "{}{}", partial.stdout, partial.stderr);
    assert_eq!(partial.json()["verdict"], "incomplete");
    let unchecked: Vec<Value> = partial.json()["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "unchecked").cloned().collect();
    let named: BTreeSet<&str> = unchecked.iter().map(|f| f["details"]["unit"].as_str().unwrap()).collect();
    let never_run: BTreeSet<&str> = planned.shard(1, 3).iter().map(|u| u.id.as_str()).collect();
    assert!(!never_run.is_empty());
    assert_eq!(named, never_run);
    for f in &unchecked {
        assert!(f["message"].as_str().unwrap().contains(f["details"]["unit"].as_str().unwrap()) && f["key"].as_str().unwrap().starts_with(&format!("s3://{bucket}/audit/reports/")), "{f}");
    }

    let late = batch_children(&plan_uri, &dir, &[1], 3);
    assert_eq!(late[0].code, 0, "{}", late[0].stderr);
    let whole = merge(&plan_uri, &dir);
    assert_eq!(whole.code, 0, "{}{}", whole.stdout, whole.stderr);
    let single = run(&args_of(&trails[0], "validate-logs", &[selection(&bucket), vec!["--output".into(), "json".into()]].concat()), &aws_env());
    assert_same_outcome(&whole, &single);

    let objects = |dir: &str| -> Vec<(String, Vec<u8>)> {
        planned.units.iter().map(|u| {
            let at = format!("{}/{}.json", dir.strip_prefix("s3://").unwrap(), u.id);
            (u.id.clone(), get_object(&at))
        }).collect()
    };
    let before = objects(&dir);
    let retried = batch_children(&plan_uri, &dir, &[1], 3);
    assert_eq!(retried[0].code, 0);
    assert_eq!(objects(&dir), before, "a retried shard rewrote a report differently");
    assert_eq!(merge(&plan_uri, &dir).stdout, whole.stdout);

    // The reports of this plan are not another plan's, though their unit IDs are the same.
    let (start, end) = range(&trails[0]);
    let earlier = trailproof::time::display(trailproof::time::parse_user_time(&end).unwrap() - chrono::Duration::hours(1));
    let other_uri = format!("s3://{bucket}/audit/other-plan.json");
    let mut args = vec!["plan".to_string(), "--trail-arn".into(), trails[0].spec.trail_arn(), "--start-time".into(), start, "--end-time".into(), earlier, "--out".into(), other_uri.clone()];
    args.extend(selection(&bucket));
    assert_eq!(run(&args, &aws_env()).code, 0);
    let foreign = merge(&other_uri, &dir);
    assert_eq!(foreign.code, 3, "{}", foreign.stdout);
    let foreign = foreign.json();
    let messages: Vec<&str> = foreign["findings"].as_array().unwrap().iter().filter(|f| f["kind"] == "unchecked").map(|f| f["message"].as_str().unwrap()).collect();
    assert_eq!(messages.len(), 6, "{foreign:#}");
    assert!(messages.iter().all(|m| m.contains("a report for another plan")), "{messages:?}");
}

/// Slices of 12 hours, the range starting so that a digest's period ends exactly at the first
/// slice edge: that digest, deleted, is still reported, once, and the merge's error findings are
/// the single run's.
#[test]
fn a_sliced_plan_reports_a_digest_deleted_at_a_slice_edge() {
    let bucket = bucket("scale-slices");
    let mut trails = multi(&bucket, Some(ORG), &ACCOUNTS[..2], &REGIONS[..1], |s| s.stopped_hours.clear());
    let victim = &mut trails[1];
    let gone = victim.digest_keys[11].clone();
    let edge = victim.digest_ends[11];
    victim.objects.remove(&gone);
    upload_all(&trails);
    let start = trailproof::time::display(edge - chrono::Duration::hours(12));
    let (_, end) = range(&trails[0]);
    let work = tempfile::tempdir().unwrap();
    let plan_file = path_str(&work.path().join("plan.json"));
    let planned = plan_between(&trails[0], &start, &end, &plan_file, &["--slice", "12h"]);
    assert_eq!(planned.units.len(), 6, "{:?}", planned.units);
    assert_eq!(planned.units[0].end_time, trailproof::time::display(edge));
    assert_eq!(planned.units[1].start_time, trailproof::time::display(edge - chrono::Duration::hours(1)));

    let dir = path_str(&work.path().join("reports"));
    for child in batch_children(&plan_file, &dir, &[0, 1], 2) {
        assert!(child.code == 0 || child.code == 1, "{}{}", child.stdout, child.stderr);
    }
    let merged = merge(&plan_file, &dir);
    assert_eq!(merged.code, 1, "{}{}", merged.stdout, merged.stderr);
    let doc = merged.json();
    let about_gone: Vec<&Value> = doc["findings"].as_array().unwrap().iter().filter(|f| f["key"] == gone.as_str()).collect();
    assert_eq!(about_gone.len(), 1, "the edge digest reported once: {:#}", doc["findings"]);
    assert_eq!(about_gone[0]["kind"], "digest_missing");
    assert_eq!(about_gone[0]["account_id"], "444455556666");

    let single = run(&args_between(&trails[0], "validate-logs", &start, &end, &[selection(&bucket), vec!["--output".into(), "json".into()]].concat()), &aws_env());
    assert_eq!(single.code, 1);
    assert_eq!(error_findings(&doc), error_findings(&single.json()));
    assert_eq!(doc["per_region"].as_array().unwrap().len(), 2);
    // The warnings both slices give about the log files of the deleted digest's hour are
    // reported once, as the single run does.
    let all = |d: &Value| -> Vec<(String, String)> { d["findings"].as_array().unwrap().iter().map(|f| (f["kind"].as_str().unwrap().to_string(), f["key"].as_str().unwrap().to_string())).collect() };
    let (mut m, mut s) = (all(&doc), all(&single.json()));
    m.sort();
    s.sort();
    assert!(m.iter().filter(|f| f.0 == "log_unreferenced").count() >= 2, "{m:?}");
    assert_eq!(m, s);
}
