//! `trailproof filter test`, offline, on the bundled sample's CloudTrail log files. The expected
//! counts are computed here from the records themselves, not by trailproof.

use std::io::Read;
use std::path::PathBuf;

use crate::common::*;
use serde_json::Value;

fn sample_logs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root().join("testdata/sample")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.to_string_lossy().ends_with(".json.gz") && !p.to_string_lossy().contains("CloudTrail-Digest") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn records(path: &PathBuf) -> Vec<Value> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut text).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["Records"].as_array().unwrap().clone()
}

fn filter_test(args: &[&str]) -> Run {
    let mut all = vec!["filter", "test"];
    all.extend_from_slice(args);
    trailproof(&all, &[])
}

#[test]
fn counts_match_the_records() {
    let logs = sample_logs();
    assert!(logs.len() > 100);
    let all: Vec<Value> = logs.iter().flat_map(records).collect();
    let paths: Vec<String> = logs.iter().map(|p| path_str(p)).collect();
    let with = |pattern: &str| {
        let mut args = vec![pattern, "--count"];
        args.extend(paths.iter().map(String::as_str));
        let run = filter_test(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout.trim().parse::<usize>().unwrap()
    };
    let count = |f: &dyn Fn(&Value) -> bool| all.iter().filter(|r| f(r)).count();

    let sg = count(&|r| r["eventName"] == "AuthorizeSecurityGroupIngress");
    assert!(sg > 0);
    assert_eq!(with("{ $.eventName = AuthorizeSecurityGroupIngress }"), sg);
    assert_eq!(with(r#"{ ($.eventSource = "ec2.amazonaws.com") && ($.eventName = "Authorize*") }"#), count(&|r| r["eventSource"] == "ec2.amazonaws.com" && r["eventName"].as_str().unwrap().starts_with("Authorize")));
    assert_eq!(with("{ $.readOnly IS TRUE }"), count(&|r| r["readOnly"] == true));
    assert_eq!(with("{ $.errorCode NOT EXISTS }"), count(&|r| r.get("errorCode").is_none()));
    assert_eq!(with(""), all.len());
    assert_eq!(with("AuthorizeSecurityGroupIngress"), sg);
}

#[test]
fn matching_events_are_printed_and_bad_patterns_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let lines = dir.path().join("events.jsonl");
    std::fs::write(&lines, "{\"eventName\":\"ConsoleLogin\",\"sourceIPAddress\":\"8.8.8.8\"}\n{\"eventName\":\"ConsoleLogin\",\"sourceIPAddress\":\"192.0.2.1\"}\nplain text line\n").unwrap();
    let run = filter_test(&[r#"{ ($.eventName = ConsoleLogin) && ($.sourceIPAddress != "8.8.8.8") }"#, &path_str(&lines)]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, "{\"eventName\":\"ConsoleLogin\",\"sourceIPAddress\":\"192.0.2.1\"}\n");
    assert!(run.stderr.contains("1 of 3 events matched"), "{}", run.stderr);

    let bad = filter_test(&["{ $.eventName = ", &path_str(&lines)]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("at byte"), "{}", bad.stderr);
    let missing = filter_test(&["ERROR", "/nonexistent/file.json"]);
    assert_eq!(missing.code, 2);
}

/// Forms from AWS's filter-pattern page that used to be rejected or misread: a signed number,
/// `= *` on a numeric field, a literal `*` inside a value, a trailing empty field, `- "term"`.
#[test]
fn documented_forms_count_as_aws_describes() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("events.jsonl");
    std::fs::write(&json, concat!(
        "{\"latency\": 1500, \"e\": \"Ev*ent\"}\n",
        "{\"latency\": 50, \"e\": \"Evxent\"}\n",
        "{\"latency\": \"slow\", \"e\": \"PutEvent\"}\n",
        "{\"e\": \"GetEvent\"}\n",
    )).unwrap();
    let apache = dir.path().join("access.log");
    std::fs::write(&apache, concat!(
        "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 404 1534\n",
        "127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] \"GET /apache_pb.gif HTTP/1.0\" 404 5324\n",
        "[ERROR] A fatal exception has occurred\n",
        "Exiting with ERRORCODE: -1\n",
    )).unwrap();
    let count = |pattern: &str, file: &std::path::Path| {
        let run = filter_test(&[pattern, "--count", &path_str(file)]);
        assert_eq!(run.code, 0, "{pattern}: {}", run.stderr);
        run.stdout.trim().parse::<usize>().unwrap()
    };
    assert_eq!(count("{ $.latency > +1000 }", &json), 1);
    assert_eq!(count("{ $.latency = * }", &json), 3);
    assert_eq!(count("{ $.e = Ev*ent }", &json), 1);
    assert_eq!(count("{ $.e = *Event }", &json), 2);
    assert_eq!(count("[..., request=*.html*, status_code=4*,]", &apache), 1);
    assert_eq!(count("\"ERROR\" - \"Exiting\"", &apache), 1);
}
