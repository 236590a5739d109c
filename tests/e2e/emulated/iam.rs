//! The IAM policies of deploy/iam/ against what each command really calls: the emulator logs the
//! IAM action (and resource) of every request it serves (tests/emulator/emulator.py), each
//! command runs under an access key ID of its own, and its calls must all be allowed by its
//! policy, while every action in the policy must be called by some run (least privilege), but for
//! the ones a test names as needed only in cases it does not set up.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use crate::common::*;
use crate::offline::deploy::json_policy;
use serde_json::Value;

/// A glob with `*` only, as IAM resources use it.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => text.strip_prefix(head).is_some_and(|t| (0..=t.len()).any(|i| t.is_char_boundary(i) && glob(rest, &t[i..]))),
    }
}

/// The (action, resource) pairs the emulator logged for one access key ID.
fn calls(log: &Path, key_id: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut words = l.splitn(3, ' ');
            (words.next() == Some(key_id)).then(|| (words.next().unwrap_or_default().to_string(), words.next().unwrap_or_default().to_string()))
        })
        .collect()
}

/// Asserts that the policy in deploy/iam/`file`, its placeholders replaced by `placeholders`,
/// allows every call logged for `key_id` on its resource, and that every action it allows was
/// called, except those in `uncalled`.
pub fn assert_policy_fits(log: &Path, key_id: &str, file: &str, placeholders: &[(&str, &str)], uncalled: &[&str]) {
    assert_policies_fit(log, key_id, &[file], placeholders, uncalled)
}

/// [`assert_policy_fits`] for a role holding several of the policies.
pub fn assert_policies_fit(log: &Path, key_id: &str, files: &[&str], placeholders: &[(&str, &str)], uncalled: &[&str]) {
    let mut statements = Vec::new();
    for f in files {
        let mut text = json_policy(f).to_string();
        for (from, to) in placeholders {
            text = text.replace(from, to);
        }
        let policy: Value = serde_json::from_str(&text).unwrap();
        statements.extend(policy["Statement"].as_array().unwrap().iter().cloned());
    }
    assert_statements_fit(log, key_id, &files.join(" + "), &statements, uncalled);
}

/// [`assert_policy_fits`] for policy statements (`Action` and `Resource` as strings or lists),
/// named `name` in failures.
pub fn assert_statements_fit(log: &Path, key_id: &str, name: &str, statements: &[Value], uncalled: &[&str]) {
    let file = name;
    let calls = calls(log, key_id);
    assert!(!calls.is_empty(), "no calls logged for {key_id} in {}", log.display());
    let strings = |v: &Value| -> Vec<String> {
        match v {
            Value::String(one) => vec![one.clone()],
            Value::Array(list) => list.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
            _ => Vec::new(),
        }
    };
    let allows = |action: &str, resource: &str| {
        statements.iter().any(|s| strings(&s["Action"]).iter().any(|a| glob(a, action)) && strings(&s["Resource"]).iter().any(|r| glob(r, resource)))
    };
    let denied: BTreeSet<String> = calls.iter().filter(|(a, r)| !allows(a, r)).map(|(a, r)| format!("{a} on {r}")).collect();
    assert!(denied.is_empty(), "{file} does not allow what the command called: {denied:#?}");
    let called: BTreeSet<String> = calls.into_iter().map(|(a, _)| a).collect();
    let unused: BTreeSet<String> = statements.iter().flat_map(|s| strings(&s["Action"])).filter(|a| !called.contains(a) && !uncalled.contains(&a.as_str())).collect();
    assert!(unused.is_empty(), "{file} allows actions the command never called: {unused:?} (called: {called:?})");
}

/// An emulator of these tests' own: no other test resets it or denies calls on it while a command
/// runs.
fn own() -> &'static Emulator {
    static OWN: OnceLock<Emulator> = OnceLock::new();
    OWN.get_or_init(start_emulator)
}

/// The emulator environment, on our own emulator and under `key_id`.
fn env_as(key_id: &str) -> Vec<(&'static str, String)> {
    let mut env: Vec<(&'static str, String)> = aws_env().into_iter().filter(|(k, _)| *k != "AWS_ENDPOINT_URL" && *k != "AWS_ACCESS_KEY_ID").collect();
    env.push(("AWS_ENDPOINT_URL", own().endpoint.clone()));
    env.push(("AWS_ACCESS_KEY_ID", key_id.to_string()));
    env
}

async fn own_config() -> aws_config::SdkConfig {
    sdk_config_at(&own().endpoint).await
}

/// A simulated trail uploaded to our emulator and registered with its CloudTrail.
fn trail() -> &'static trailproof::sim::SimTrail {
    static TRAIL: OnceLock<trailproof::sim::SimTrail> = OnceLock::new();
    TRAIL.get_or_init(|| {
        let trail = simulate(&spec(&bucket("iam-policies")));
        runtime().block_on(async {
            let conf = own_config().await;
            let s3 = s3_for(&conf);
            s3.create_bucket().bucket(&trail.spec.bucket).send().await.unwrap();
            trail.upload(&s3, 16).await.unwrap();
            aws_sdk_cloudtrail::Client::new(&conf)
                .create_trail()
                .name(&trail.spec.trail_name)
                .s3_bucket_name(&trail.spec.bucket)
                .set_s3_key_prefix(trail.spec.prefix.clone())
                .enable_log_file_validation(true)
                .send()
                .await
                .unwrap();
        });
        trail
    })
}

/// The trail's bucket, prefix and account for the policies' placeholders.
fn placeholders(trail: &trailproof::sim::SimTrail) -> Vec<(&'static str, String)> {
    let prefix = trail.spec.prefix.as_ref().map_or(String::new(), |p| format!("{p}/"));
    vec![("TRAIL-BUCKET", trail.spec.bucket.clone()), ("PREFIX/", prefix), ("ACCOUNT", trail.spec.account_id.clone())]
}

fn check(key_id: &str, file: &str, trail: &trailproof::sim::SimTrail, uncalled: &[&str]) {
    let subst = placeholders(trail);
    let subst: Vec<(&str, &str)> = subst.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_policy_fits(&own().state.path().join("iam-actions.log"), key_id, file, &subst, uncalled);
}

// Only organization trails (and --all-accounts) need DescribeOrganization, without
// --organization-id; the validate-logs test calls it, and export looks the trail up through the
// same code (cli::trail::plan).
const ORGANIZATION_ONLY: &[&str] = &["organizations:DescribeOrganization"];

#[test]
fn validate_logs_calls_only_what_its_policy_allows() {
    let trail = trail();
    let (start, end) = range(trail);
    let arn = trail.spec.trail_arn();
    let key_id = "AKIATPVALIDATELOGS01";
    let run = trailproof(&["validate-logs", "--trail-arn", &arn, "--start-time", &start, "--end-time", &end, "--output", "json"], &env_as(key_id));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // --all-accounts asks DescribeOrganization for the organization's folder; the trail is not
    // an organization trail, so no member account is found there.
    let org = runtime().block_on(async {
        let client = aws_sdk_organizations::Client::new(&own_config().await);
        match client.describe_organization().send().await {
            Ok(o) => o.organization().unwrap().id().unwrap().to_string(),
            Err(_) => client.create_organization().send().await.unwrap().organization().unwrap().id().unwrap().to_string(),
        }
    });
    let run = trailproof(&["validate-logs", "--trail-arn", &arn, "--start-time", &start, "--end-time", &end, "--all-accounts"], &env_as(key_id));
    assert!(run.code == 3 && run.stderr.contains(&org), "{}\n{}", run.stdout, run.stderr);
    check(key_id, "validate-logs.json", trail, &[]);
}

#[test]
fn checkpointed_validate_logs_calls_only_what_its_two_policies_allow() {
    let trail = trail();
    let arn = trail.spec.trail_arn();
    let key_id = "AKIATPCHECKPOINT0001";
    runtime().block_on(async {
        let conf = own_config().await;
        let s3 = s3_for(&conf);
        s3.create_bucket().bucket("tp-audit-checkpoints").send().await.unwrap();
    });
    let checkpoint = "s3://tp-audit-checkpoints/trailproof/main.json";
    let at = |h: i64| trailproof::time::display(trail.spec.start + chrono::Duration::hours(h));
    // The first run finds no checkpoint and writes one; the second reads and advances it.
    for (start, end) in [(Some(at(0)), at(20)), (None, at(30))] {
        let mut args = vec!["validate-logs", "--trail-arn", &arn, "--end-time", &end, "--checkpoint", checkpoint];
        if let Some(s) = &start {
            args.extend(["--start-time", s]);
        }
        let run = trailproof(&args, &env_as(key_id));
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    }
    let mut subst = placeholders(trail);
    subst.extend([("CHECKPOINT-BUCKET", "tp-audit-checkpoints".to_string()), ("CHECKPOINT-KEY", "trailproof/main.json".to_string())]);
    let subst: Vec<(&str, &str)> = subst.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // ListBucket on the checkpoint's key only changes S3's answer for a missing checkpoint.
    assert_policies_fit(&own().state.path().join("iam-actions.log"), key_id, &["validate-logs.json", "checkpoint.json"], &subst, &["organizations:DescribeOrganization", "s3:ListBucket"]);
}

#[test]
fn export_calls_only_what_its_policy_allows() {
    let trail = trail();
    let (start, end) = range(trail);
    let arn = trail.spec.trail_arn();
    let out = tempfile::tempdir().unwrap();
    let run = trailproof(&["export", "--trail-arn", &arn, "--start-time", &start, "--end-time", &end, "--out", &path_str(out.path())], &env_as("AKIATPEXPORT00000001"));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    check("AKIATPEXPORT00000001", "export.json", trail, ORGANIZATION_ONLY);
}

#[test]
fn keys_export_calls_only_what_its_policy_allows() {
    let trail = trail();
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("keys.json");
    let run = trailproof(&["keys", "export", "--start-time", "2026-02-28T00:00:00Z", "--end-time", "2026-03-03T00:00:00Z", "--key-region", "us-east-1", "--out", &path_str(&file)], &env_as("AKIATPKEYSEXPORT0001"));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    check("AKIATPKEYSEXPORT0001", "keys-export.json", trail, &[]);
}

#[test]
fn policy_check_fails_on_a_call_the_policy_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("iam-actions.log");
    std::fs::write(&log, "K cloudtrail:ListPublicKeys *\nK cloudtrail:LookupEvents *\n").unwrap();
    let outcome = std::panic::catch_unwind(|| assert_policy_fits(&log, "K", "keys-export.json", &[], &[]));
    assert!(outcome.is_err(), "a call outside the policy passed");
    // And on an object outside the policy's resources.
    std::fs::write(&log, "K s3:GetObject arn:aws:s3:::b/AWSLogs/111122223333/elsewhere/x\n").unwrap();
    let subst = [("TRAIL-BUCKET", "b"), ("PREFIX/", ""), ("ACCOUNT", "111122223333")];
    let outcome = std::panic::catch_unwind(|| assert_policy_fits(&log, "K", "validate-logs.json", &subst, &["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus", "cloudtrail:ListPublicKeys", "organizations:DescribeOrganization", "s3:GetBucketLocation", "s3:ListBucket"]));
    assert!(outcome.is_err(), "a read outside CloudTrail/ and CloudTrail-Digest/ passed");
    assert!(glob("a/*/c*", "a/b/x/cd") && !glob("a/*/c", "a/b/d"));
}

/// The shards of an array job (and the merge) under deploy/aws-batch.yaml's job role: the
/// template's statements, its `Fn::Sub` placeholders filled in, allow every call and nothing
/// never called.
#[test]
fn shard_and_merge_call_only_what_the_batch_job_role_allows() {
    let trail = trail();
    let (start, end) = range(trail);
    let arn = trail.spec.trail_arn();
    runtime().block_on(async {
        let conf = own_config().await;
        let s3 = s3_for(&conf);
        s3.create_bucket().bucket("tp-audit-work").send().await.unwrap();
    });
    let plan = "s3://tp-audit-work/trailproof/plans/p.json";
    let reports = "s3://tp-audit-work/trailproof/reports/run1";
    let made = trailproof(&["plan", "--trail-arn", &arn, "--start-time", &start, "--end-time", &end, "--slice", "12h", "--out", plan], &env_as("AKIATPPLANNER0000001"));
    assert_eq!(made.code, 0, "{}", made.stderr);
    let key_id = "AKIATPBATCHSHARD0001";
    for i in 0..2 {
        let mut env = env_as(key_id);
        env.push(("AWS_BATCH_JOB_ARRAY_INDEX", i.to_string()));
        env.push(("AWS_BATCH_JOB_ARRAY_SIZE", "2".into()));
        let run = trailproof(&["validate-logs", "--plan", plan, "--report-dir", reports, "-q"], &env);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    }
    let run = trailproof(&["merge", "--plan", plan, "--report-dir", reports], &env_as(key_id));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    let template = crate::offline::deploy::yaml_as_json(&root().join("deploy/aws-batch.yaml"));
    let role = &template["Resources"]["JobRole"]["Properties"]["Policies"][0]["PolicyDocument"];
    let logs_root = format!("{}AWSLogs/{}", trail.spec.prefix.as_ref().map_or(String::new(), |p| format!("{p}/")), trail.spec.account_id);
    let fill = |v: &Value| -> Value {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other["Fn::Sub"].as_str().unwrap_or_else(|| panic!("a resource that is neither a string nor Fn::Sub: {other}")).to_string(),
        };
        let filled = [("${AWS::Partition}", "aws"), ("${TrailBucket}", &trail.spec.bucket), ("${LogsRoot}", &logs_root), ("${WorkBucket}", "tp-audit-work"), ("${WorkPrefix}", "trailproof")]
            .iter().fold(text, |t, (from, to)| t.replace(from, to));
        Value::String(filled)
    };
    let statements: Vec<Value> = role["Statement"].as_array().unwrap().iter().map(|s| {
        let resources: Vec<Value> = match &s["Resource"] {
            Value::Array(list) => list.iter().map(fill).collect(),
            one => vec![fill(one)],
        };
        serde_json::json!({ "Action": s["Action"], "Resource": resources })
    }).collect();
    assert_statements_fit(&own().state.path().join("iam-actions.log"), key_id, "deploy/aws-batch.yaml JobRole", &statements, &[]);
}
