//! The CI formats end to end, offline: SARIF from both commands passes Microsoft's SARIF
//! Multitool (`validate --rule-kind "Gh;Sarif"`, GitHub code scanning's ingestion rules and the
//! SARIF spec's), and JUnit has the documented structure (read back with an XML parser).
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use trailproof::sim::{SimTrail, TrailSpec};

use crate::common::*;


/// The Multitool scripts/setup.sh installs: $SARIF_MULTITOOL, else where setup.sh puts it.
fn multitool() -> PathBuf {
    if let Some(p) = std::env::var_os("SARIF_MULTITOOL") {
        return p.into();
    }
    let tools = std::env::var_os("TRAILPROOF_TOOLS").map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from);
        let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache"));
        cache.or(home).unwrap_or_else(|| root().join(".bench/.cache")).join("trailproof")
    });
    let platform = match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    };
    tools.join(format!("npm/node_modules/@microsoft/sarif-multitool-{platform}/Sarif.Multitool"))
}

/// Runs the Multitool's validation on a SARIF document; returns its errors and warnings, one line
/// each. Fails, saying what to run, when the Multitool is not installed.
fn multitool_validate(sarif: &str) -> (Vec<String>, Vec<String>) {
    let tool = multitool();
    let needs = "the SARIF tests need Microsoft's SARIF Multitool: run scripts/setup.sh (it installs @microsoft/sarif-multitool from npm)";
    assert!(tool.exists(), "{} not found; {needs}", tool.display());
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("trailproof.sarif"), dir.path().join("validation.sarif"));
    std::fs::write(&input, sarif).unwrap();
    let run = Command::new(&tool)
        .args(["validate", &path_str(&input), "--rule-kind", "Gh;Sarif", "-o", &path_str(&output)])
        // A self-contained .NET program: without this it needs ICU, which slim images lack.
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}; {needs}", tool.display()));
    let console = String::from_utf8_lossy(&run.stdout);
    // The exit status is 0 even when the log has errors: the verdict is in the validation log.
    let log: Value = serde_json::from_slice(&std::fs::read(&output).unwrap_or_else(|e| panic!("the Multitool wrote no log ({e}): {console}"))).unwrap();
    assert_eq!(log["runs"][0]["invocations"][0]["executionSuccessful"], true, "{console}");
    let lines = |level: &str| -> Vec<String> { console.lines().filter(|l| l.contains(&format!(": {level} "))).map(str::to_string).collect() };
    let (errors, warnings) = (lines("error"), lines("warning"));
    let counted = |level: &str| log["runs"][0]["results"].as_array().unwrap().iter().filter(|r| r["level"].as_str().unwrap_or("warning") == level).count();
    assert_eq!((counted("error"), counted("warning")), (errors.len(), warnings.len()), "{console}");
    (errors, warnings)
}

/// Asserts the Multitool finds no error; its warnings are printed (they are documented in the
/// README) and returned.
fn assert_valid_sarif(sarif: &str) -> Vec<String> {
    let (errors, warnings) = multitool_validate(sarif);
    assert!(errors.is_empty(), "the SARIF Multitool found {} errors:\n{}\n{sarif}", errors.len(), errors.join("\n"));
    for w in &warnings {
        eprintln!("multitool: {w}");
    }
    warnings
}

/// Every result has a rule ID, a level and a physical location; returns the results.
fn results(sarif: &str) -> Vec<Value> {
    let doc: Value = serde_json::from_str(sarif).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let results = doc["runs"][0]["results"].as_array().unwrap().clone();
    for r in &results {
        assert!(r["ruleId"].as_str().is_some_and(|id| !id.is_empty()), "{r:#}");
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap_or("")), "{r:#}");
        assert!(uri(r).is_some_and(|u| !u.is_empty()), "{r:#}");
    }
    results
}

fn uri(result: &Value) -> Option<&str> {
    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str()
}

fn validate(dir: &std::path::Path, trail: &SimTrail, keys: &str, format: &str, extra: &[&str]) -> Run {
    let (start, end) = range(trail);
    let (dir, arn) = (path_str(dir), trail.spec.trail_arn());
    let mut args = vec!["validate-logs", "--source", &dir, "--public-keys", keys, "--trail-arn", &arn];
    args.extend(["--start-time", &start, "--end-time", &end, "--output", format]);
    args.extend(extra);
    trailproof(&args, &offline_env())
}

fn us_east_1_keys() -> String {
    path_str(&root().join("testdata/public-keys.json"))
}

/// A 12-hour trail with one log file rewritten; returns it, its directory and the victim's key.
fn tampered(name: &str) -> (SimTrail, tempfile::TempDir, String) {
    let mut s = spec(name);
    s.stopped_hours.clear();
    s.hours = 12;
    let mut trail = simulate(&s);
    let victim = trail.log_keys[3].clone();
    trail.rewrite_log(&victim, |json| json.extend_from_slice(b" "));
    let dir = write_dir(&trail);
    (trail, dir, victim)
}

#[test]
fn validate_logs_sarif_of_a_valid_run_passes_the_multitool() {
    let trail = simulate(&TrailSpec::sample());
    let run = validate(&root().join("testdata/sample"), &trail, &us_east_1_keys(), "sarif", &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let results = results(&run.stdout);
    // The sample's stop of logging is a warning, located at the digest that starts the new chain.
    assert!(!results.is_empty());
    for r in &results {
        assert_eq!(r["ruleId"], "digest_chain_gap", "{r:#}");
        assert_eq!(r["level"], "warning");
        assert!(uri(r).unwrap().starts_with("s3://trailproof-sample/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/"), "{r:#}");
    }
    assert_valid_sarif(&run.stdout);
}

#[test]
fn validate_logs_sarif_of_a_tampered_run_passes_the_multitool() {
    let (trail, dir, victim) = tampered("sarif-tampered");
    let run = validate(dir.path(), &trail, &us_east_1_keys(), "sarif", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let results = results(&run.stdout);
    let tampered: Vec<&Value> = results.iter().filter(|r| r["ruleId"] == "log_hash_mismatch").collect();
    assert_eq!(tampered.len(), 1, "{results:#?}");
    assert_eq!(tampered[0]["level"], "error");
    assert_eq!(uri(tampered[0]), Some(format!("s3://{}/{victim}", trail.spec.bucket).as_str()));
    // The region's own verdict fails too, located at its digest folder.
    let region = results.iter().find(|r| r["ruleId"] == "region-verdict").unwrap();
    assert_eq!(region["level"], "error");
    assert_eq!(uri(region), Some(format!("s3://{}/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/", trail.spec.bucket).as_str()));
    assert_valid_sarif(&run.stdout);
}

/// An account with no trail at all: every check of a baseline fails.
fn empty_account() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snapshot.json");
    std::fs::write(&file, r#"{"taken_at": "2026-03-01T00:00:00Z", "region": "us-east-1", "trails": {"ok": []}}"#).unwrap();
    let path = path_str(&file);
    (dir, path)
}

#[test]
fn baseline_sarif_of_built_in_baselines_passes_the_multitool() {
    let (_dir, snapshot) = empty_account();
    for name in ["cis", "essentials"] {
        let run = trailproof(&["baseline", "--baseline", name, "--snapshot", &snapshot, "--output", "sarif"], &[]);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        let results = results(&run.stdout);
        assert!(results.len() > 10, "{name}: {results:#?}");
        for r in &results {
            assert_eq!(uri(r), Some(format!("trailproof://baseline/{name}").as_str()), "{r:#}");
            assert_eq!(r["level"], "error");
            assert!(r["locations"][0]["physicalLocation"]["region"].is_null(), "{r:#}");
        }
        assert_valid_sarif(&run.stdout);
    }
}

/// With a baseline file, each result points at the file and at the line of the `[[trails]]` or
/// `[[rules]]` entry that asks for its check; a relative path stays relative, an absolute one is a
/// file:// URI.
#[test]
fn baseline_sarif_of_a_baseline_file_points_at_each_rule() {
    let (dir, snapshot) = empty_account();
    let example = std::fs::read_to_string(root().join("testdata/baseline-example.toml")).unwrap();
    // Shifted by a comment block, so no line number can be right by accident.
    let moved = dir.path().join("my baseline.toml");
    std::fs::write(&moved, format!("# moved\n#\n#\n{example}")).unwrap();
    // The tests run in the crate's directory: the relative path is the repository's.
    for (path, want_uri, shift) in [
        ("testdata/baseline-example.toml".to_string(), "testdata/baseline-example.toml".to_string(), 0),
        (path_str(&moved), format!("file://{}", path_str(&moved).replace(' ', "%20")), 3),
    ] {
        let run = trailproof(&["baseline", "--baseline", &path, "--snapshot", &snapshot, "--output", "sarif"], &[]);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        let results = results(&run.stdout);
        assert_eq!(results.len(), 15, "{results:#?}");
        let lines: Vec<&str> = example.lines().collect();
        for r in &results {
            assert_eq!(uri(r), Some(want_uri.as_str()), "{r:#}");
            let line = r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap_or_else(|| panic!("no startLine: {r:#}")) as usize;
            let header = lines[line - 1 - shift].trim();
            let id = r["ruleId"].as_str().unwrap();
            if id.starts_with("trail.") {
                assert_eq!(header, "[[trails]]", "{id}");
            } else {
                assert_eq!(header, "[[rules]]", "{id}");
                let rule = id.rsplit_once('.').unwrap().0;
                assert_eq!(lines[line - shift].trim(), format!("id = {rule:?}"), "{id}");
            }
        }
        assert_valid_sarif(&run.stdout);
    }
}

/// JUnit for validate-logs: one suite per account and region, holding the region's verdict and one
/// case per object checked, the tampered one failing with its finding's kind and message.
#[test]
fn validate_logs_junit_has_a_suite_per_region_and_a_case_per_object() {
    let (east, dir, victim) = tampered("junit-regions");
    let mut west_spec = east.spec.clone();
    west_spec.region = "us-west-2".into();
    west_spec.seed += 1;
    let west = simulate(&west_spec);
    west.write_dir(dir.path()).unwrap();
    let keys_file = dir.path().join("keys.json");
    let list = |region: &str| -> Value { serde_json::from_slice(&std::fs::read(root().join(format!("keys/public-keys/{region}.json"))).unwrap()).unwrap() };
    std::fs::write(&keys_file, serde_json::json!({"us-east-1": list("us-east-1"), "us-west-2": list("us-west-2")}).to_string()).unwrap();
    // The evidence folder holds the bucket and the key file: name the bucket.
    let run = validate(dir.path(), &east, &path_str(&keys_file), "junit", &["--all-regions", "--s3-bucket", &east.spec.bucket]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);

    let doc = roxmltree::Document::parse(&run.stdout).unwrap_or_else(|e| panic!("not XML: {e}\n{}", run.stdout));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<roxmltree::Node> = root.children().filter(|n| n.is_element()).collect();
    let names: Vec<&str> = suites.iter().map(|s| s.attribute("name").unwrap()).collect();
    assert_eq!(names, ["111122223333/us-east-1", "111122223333/us-west-2"]);
    let attr = |n: &roxmltree::Node, a: &str| -> usize { n.attribute(a).unwrap_or_else(|| panic!("no {a}")).parse().unwrap() };
    let mut total = 0;
    for (suite, trail) in suites.iter().zip([&east, &west]) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        let cases: Vec<roxmltree::Node> = suite.children().filter(|n| n.is_element()).collect();
        assert!(cases.iter().all(|c| c.tag_name().name() == "testcase" && c.attribute("classname") == suite.attribute("name")));
        assert_eq!(attr(suite, "tests"), cases.len());
        total += cases.len();
        let failing = |tag: &str| cases.iter().filter(|c| c.children().any(|x| x.has_tag_name(tag))).count();
        assert_eq!(attr(suite, "failures"), failing("failure"));
        assert_eq!(attr(suite, "errors"), failing("error"));
        assert_eq!(attr(suite, "skipped"), failing("skipped"));
        // Every object checked is a case of its own.
        for key in trail.digest_keys.iter().map(|k| ("digest", k)).chain(trail.log_keys.iter().map(|k| ("log", k))) {
            let name = format!("{} s3://{}/{}", key.0, trail.spec.bucket, key.1);
            assert_eq!(cases.iter().filter(|c| c.attribute("name") == Some(name.as_str())).count(), 1, "{name}");
        }
        assert_eq!(cases.len(), 1 + trail.digest_keys.len() + trail.log_keys.len(), "{}", run.stdout);
    }
    assert_eq!(attr(&root, "tests"), total);

    let east_cases: Vec<roxmltree::Node> = suites[0].children().filter(|n| n.is_element()).collect();
    let failed: Vec<&roxmltree::Node> = east_cases.iter().filter(|c| c.children().any(|x| x.has_tag_name("failure"))).collect();
    let names: Vec<&str> = failed.iter().map(|c| c.attribute("name").unwrap()).collect();
    assert_eq!(names, ["region-verdict 111122223333/us-east-1".to_string(), format!("log s3://{}/{victim}", east.spec.bucket)], "{}", run.stdout);
    let failure = failed[1].children().find(|x| x.has_tag_name("failure")).unwrap();
    assert_eq!(failure.attribute("type"), Some("log_hash_mismatch"));
    assert!(failure.attribute("message").unwrap().starts_with("hash value doesn't match"), "{:?}", failure.attribute("message"));
    assert_eq!(attr(&suites[1], "failures"), 0);
}

/// JUnit for baseline: one suite named for the baseline, one case per check, failures typed with
/// the check's ID.
#[test]
fn baseline_junit_has_a_case_per_check() {
    let (_dir, snapshot) = empty_account();
    let run = trailproof(&["baseline", "--baseline", "testdata/baseline-example.toml", "--snapshot", &snapshot, "--output", "junit"], &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let json = trailproof(&["baseline", "--baseline", "testdata/baseline-example.toml", "--snapshot", &snapshot, "--output", "json"], &[]).json();
    let doc = roxmltree::Document::parse(&run.stdout).unwrap();
    let suites: Vec<roxmltree::Node> = doc.root_element().children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 1);
    assert_eq!(suites[0].attribute("name"), Some("example"));
    let cases: Vec<roxmltree::Node> = suites[0].children().filter(|n| n.is_element()).collect();
    let ids: Vec<&str> = json["results"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    let names: Vec<&str> = cases.iter().map(|c| c.attribute("name").unwrap()).collect();
    assert_eq!(names, ids);
    for (case, result) in cases.iter().zip(json["results"].as_array().unwrap()) {
        let failure = case.children().find(|x| x.has_tag_name("failure")).unwrap();
        assert_eq!(failure.attribute("type"), result["id"].as_str());
        assert_eq!(failure.attribute("message"), result["evidence"].as_str());
    }
}
