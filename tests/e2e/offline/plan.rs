//! `plan`, `validate-logs --plan` and `merge` on a local evidence copy (`--source`), and their
//! usage errors: a bad shard index or count, an unreadable or edited plan.

use serde_json::Value;

use crate::common::*;

struct World {
    _dir: tempfile::TempDir,
    source: String,
    keys: String,
    trail: trailproof::sim::SimTrail,
    plan: String,
    work: tempfile::TempDir,
}

/// The 30-hour trail, with a changed log file if `tampered`, copied to a directory, and a plan of
/// it in 12-hour slices.
fn world(name: &str, tampered: bool) -> World {
    let mut trail = simulate(&spec(name));
    if tampered {
        let log = trail.log_keys[3].clone();
        trail.rewrite_log(&log, |json| json.extend_from_slice(b" "));
    }
    let dir = write_dir(&trail);
    let work = tempfile::tempdir().unwrap();
    let plan = path_str(&work.path().join("plan.json"));
    let source = path_str(dir.path());
    let (start, end) = range(&trail);
    let made = trailproof(&["plan", "--source", &source, "--trail-arn", &trail.spec.trail_arn(), "--start-time", &start, "--end-time", &end, "--slice", "12h", "--out", &plan, "--shards", "2"], &offline_env());
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    assert!(made.stdout.contains("3 units") && made.stdout.contains("Dealt into 2 shards"), "{}", made.stdout);
    World { _dir: dir, source, keys: path_str(&root().join("testdata/public-keys.json")), trail, plan, work }
}

fn shard(w: &World, extra: &[&str], env: &[(&str, String)]) -> Run {
    let mut args = vec!["validate-logs", "--plan", &w.plan, "--source", &w.source, "--public-keys", &w.keys, "--output", "json"];
    args.extend_from_slice(extra);
    let mut env = env.to_vec();
    env.extend(offline_env());
    trailproof(&args, &env)
}

#[test]
fn an_offline_plan_shards_and_merges_like_one_run() {
    let w = world("plan-offline", true);
    let reports = path_str(&w.work.path().join("reports"));
    for i in ["0", "1"] {
        let run = shard(&w, &["--report-dir", &reports, "--shard-index", i, "--shard-count", "2"], &[]);
        assert!(run.code == 0 || run.code == 1, "{}{}", run.stdout, run.stderr);
    }
    let merged = trailproof(&["merge", "--plan", &w.plan, "--report-dir", &reports, "--output", "json"], &offline_env());
    let (start, end) = range(&w.trail);
    let single = trailproof(&["validate-logs", "--source", &w.source, "--public-keys", &w.keys, "--trail-arn", &w.trail.spec.trail_arn(), "--start-time", &start, "--end-time", &end, "--output", "json"], &offline_env());
    assert_eq!((merged.code, single.code), (1, 1), "{}\n{}", merged.stdout, single.stdout);
    let errors = |run: &Run| -> Vec<(String, String)> {
        let mut e: Vec<(String, String)> = run.json()["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "error").map(|f| (f["kind"].as_str().unwrap().into(), f["key"].as_str().unwrap().into())).collect();
        e.sort();
        e
    };
    assert_eq!(errors(&merged), errors(&single));
    assert_eq!(errors(&merged).len(), 1);
    assert_eq!(merged.json()["verdict"], "invalid");
}

/// Every digest from hour 8 on deleted: the chain ends inside the first 12-hour slice. The later
/// slices verify nothing, so the first slice's tail finding stands, their log files are judged
/// as in a chain with digests, and the merge is as incomplete as the single run (offline, a cut
/// tail cannot be told from a stop).
#[test]
fn a_chain_cut_off_in_an_early_slice_is_not_valid() {
    let w = world("plan-cut", false);
    let cut_from = w.trail.spec.start + chrono::Duration::hours(8);
    let bucket_dir = std::path::Path::new(&w.source).join(&w.trail.spec.bucket);
    for (key, end) in w.trail.digest_keys.iter().zip(&w.trail.digest_ends) {
        if *end > cut_from {
            std::fs::remove_file(bucket_dir.join(key)).unwrap();
        }
    }
    let reports = path_str(&w.work.path().join("reports"));
    for i in ["0", "1"] {
        shard(&w, &["--report-dir", &reports, "--shard-index", i, "--shard-count", "2"], &[]);
    }
    let merged = trailproof(&["merge", "--plan", &w.plan, "--report-dir", &reports, "--output", "json"], &offline_env());
    let (start, end) = range(&w.trail);
    let single = trailproof(&["validate-logs", "--source", &w.source, "--public-keys", &w.keys, "--trail-arn", &w.trail.spec.trail_arn(), "--start-time", &start, "--end-time", &end, "--output", "json"], &offline_env());
    assert_ne!(single.code, 0, "{}", single.stdout);
    assert_eq!(merged.code, single.code, "merged: {}\nsingle: {}", merged.stdout, single.stdout);
    assert_eq!(merged.json()["verdict"], single.json()["verdict"]);
    let errors = |run: &Run| -> Vec<String> { run.json()["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "error").map(|f| f["kind"].as_str().unwrap().to_string()).collect() };
    assert_eq!(errors(&merged), ["unchecked"]);
    assert_eq!(errors(&merged), errors(&single));
}

#[test]
fn shard_usage_errors_exit_2() {
    let w = world("plan-usage", true);
    let reports = path_str(&w.work.path().join("reports"));
    // (flags, environment, what stderr says)
    type Case<'a> = (&'a [&'a str], Vec<(&'a str, String)>, &'a str);
    let cases: [Case; 6] = [
        (&["--shard-index", "0", "--shard-count", "18446744073709551615"], vec![], "at most 100000 shards"),
        (&["--shard-index", "2", "--shard-count", "2"], vec![], "not below the shard count 2"),
        (&["--shard-index", "0"], vec![], "--shard-count is required"),
        (&["--shard-count", "2"], vec![], "--shard-index is required"),
        (&[], vec![("AWS_BATCH_JOB_ARRAY_INDEX", "1".into()), ("AWS_BATCH_JOB_ARRAY_SIZE", "x".into())], "AWS_BATCH_JOB_ARRAY_SIZE"),
        (&["--shard-count", "0", "--shard-index", "0"], vec![], "not below the shard count 0"),
    ];
    for (flags, env, says) in cases {
        let mut args = vec!["--report-dir", reports.as_str()];
        args.extend_from_slice(flags);
        let run = shard(&w, &args, &env);
        assert_eq!(run.code, 2, "{flags:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{flags:?}: {}", run.stderr);
    }
    // An unreadable, absent or edited plan; the plan's own flags beside --plan.
    let edited = w.work.path().join("edited.json");
    let text = std::fs::read_to_string(&w.plan).unwrap();
    let plan: Value = serde_json::from_str(&text).unwrap();
    let first = plan["units"][0]["end_time"].as_str().unwrap().to_string();
    std::fs::write(&edited, text.replacen(&first, "2026-03-01T15:00:00Z", 1)).unwrap();
    let garbage = w.work.path().join("garbage.json");
    std::fs::write(&garbage, b"\x1f\x8b not a plan").unwrap();
    for (plan, says) in [(path_str(&edited), "plan_id"), (path_str(&garbage), "not a trailproof plan"), (path_str(&w.work.path().join("none.json")), "no such file")] {
        for command in ["validate-logs", "merge"] {
            let mut args = vec![command, "--plan", &plan, "--report-dir", &reports];
            if command == "validate-logs" {
                args.extend(["--shard-index", "0", "--shard-count", "1"]);
            }
            let run = trailproof(&args, &offline_env());
            assert_eq!(run.code, 2, "{command} {plan}: {}", run.stderr);
            assert!(run.stderr.contains(says), "{command}: {}", run.stderr);
        }
    }
    let run = shard(&w, &["--report-dir", &reports, "--all-regions"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
    // More shards than units: the extra one has nothing to do, and says so.
    let idle = shard(&w, &["--report-dir", &reports, "--shard-index", "5", "--shard-count", "6"], &[]);
    assert_eq!(idle.code, 0, "{}", idle.stderr);
    assert!(idle.stderr.contains("no units"), "{}", idle.stderr);
}
