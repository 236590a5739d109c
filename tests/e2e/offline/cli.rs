//! The command line itself: help (AWS options heading, examples, exit status), short flags,
//! --quiet, --version everywhere, completions and man pages, one-line errors, and the key-file
//! hint, all through the real binary.

use std::process::Command;

use crate::common::*;
use serde_json::Value;

const ARN: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events";

/// The bundled sample over its whole range, offline, with the given key file.
fn sample(keys: &str, extra: &[&str]) -> Run {
    let sample = path_str(&root().join("testdata/sample"));
    let mut args = vec!["validate-logs", "--source", &sample, "--public-keys", keys, "--trail-arn", ARN,
                        "--start-time", "2026-03-01T00:00:00Z", "--end-time", "2026-03-02T12:17:42Z"];
    args.extend_from_slice(extra);
    trailproof(&args, &[])
}

fn sample_keys() -> String {
    path_str(&root().join("testdata/public-keys.json"))
}

/// Every command, as typed before `--help`.
const COMMANDS: &[&[&str]] = &[
    &["validate-logs"], &["export"], &["keys", "export"], &["baseline"], &["baseline", "init"],
    &["filter", "test"], &["completions"], &["man"], &["schema"], &["backtest"], &["events"], &["plan"], &["merge"],
];

#[test]
fn long_help_has_aws_options_examples_and_exit_status() {
    for command in COMMANDS {
        let args: Vec<&str> = command.iter().copied().chain(["--help"]).collect();
        let run = trailproof(&args, &[]);
        assert_eq!(run.code, 0, "{command:?}: {}", run.stderr);
        let help = &run.stdout;
        let heading = help.find("\nAWS options:\n").unwrap_or_else(|| panic!("{command:?}: no AWS options heading:\n{help}"));
        for flag in ["--region", "--profile", "--endpoint-url", "--max-attempts", "--connect-timeout", "--read-timeout"] {
            // The option's own line (other help texts may name it).
            let at = help.find(&format!("{flag} <")).unwrap_or_else(|| panic!("{command:?}: no {flag}"));
            assert!(at > heading, "{command:?}: {flag} is not under AWS options:\n{help}");
        }
        let examples = help.find("\nExamples:\n  ").unwrap_or_else(|| panic!("{command:?}: no examples:\n{help}"));
        assert!(help[examples..].matches("\n  trailproof ").count() + help[examples..].matches("| trailproof ").count() >= 2, "{command:?}: fewer than 2 examples:\n{help}");
        let status = help.find("\nExit status:\n").unwrap_or_else(|| panic!("{command:?}: no exit status:\n{help}"));
        for code in ["0", "2"] {
            assert!(help[status..].contains(&format!("\n  {code}  ")), "{command:?}: exit {code} missing:\n{help}");
        }
    }
    // The checking commands define all four codes, as the README's "Exit status" does.
    for command in ["validate-logs", "baseline"] {
        let help = trailproof(&[command, "--help"], &[]).stdout;
        let status = &help[help.find("\nExit status:\n").unwrap()..];
        for code in ["0", "1", "2", "3"] {
            assert!(status.contains(&format!("\n  {code}  ")), "{command}: exit {code} missing:\n{status}");
        }
    }
    // Short help stays short and points to the long one.
    let short = trailproof(&["validate-logs", "-h"], &[]).stdout;
    assert!(!short.contains("Exit status:") && short.contains("'--help'"), "{short}");
}

#[test]
fn short_flags_output_verbose_quiet() {
    let keys = sample_keys();
    let long = sample(&keys, &["--output", "json"]);
    let short = sample(&keys, &["-o", "json"]);
    assert_eq!((short.code, &short.stdout), (0, &long.stdout), "{}", short.stderr);
    assert_eq!(short.json()["verdict"], "valid");

    let verbose = sample(&keys, &["-v"]);
    assert_eq!(verbose.code, 0, "{}", verbose.stderr);
    assert_eq!(verbose.stdout.lines().filter(|l| l.ends_with("\tvalid")).count(), 34 + 113, "{}", verbose.stdout);

    let full = sample(&keys, &[]);
    let quiet = sample(&keys, &["-q"]);
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    // The verdict and summary only: the full output from its summary on, nothing before it.
    let summary = &full.stdout[full.stdout.find("Results requested for").unwrap()..];
    assert_eq!(quiet.stdout, summary);
    assert!(full.stdout.contains("digest_chain_gap") && !quiet.stdout.contains("digest_chain_gap"));
    assert!(quiet.stdout.ends_with("Verdict: valid\n"), "{}", quiet.stdout);
    assert_eq!(sample(&keys, &["--quiet"]).stdout, quiet.stdout);

    // Machine formats are whole documents, quiet or not.
    for format in ["json", "junit", "sarif"] {
        assert_eq!(sample(&keys, &["-q", "-o", format]).stdout, sample(&keys, &["-o", format]).stdout, "{format}");
    }
    let both = sample(&keys, &["-q", "-v"]);
    assert_eq!(both.code, 2, "{}", both.stderr);
}

#[test]
fn baseline_quiet_prints_the_summary_line_only() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot.json");
    std::fs::write(&snapshot, r#"{"taken_at": "2026-03-01T00:00:00Z", "region": "us-east-1", "trails": {"ok": []}}"#).unwrap();
    let snapshot = path_str(&snapshot);
    let full = trailproof(&["baseline", "--snapshot", &snapshot], &[]);
    let quiet = trailproof(&["baseline", "--snapshot", &snapshot, "-q"], &[]);
    assert_eq!((full.code, quiet.code), (1, 1), "{}{}", full.stderr, quiet.stderr);
    assert!(full.stdout.lines().count() > 50, "{}", full.stdout);
    let last = full.stdout.lines().last().unwrap();
    assert!(last.contains(" passed, ") && last.contains(" failed"), "{last}");
    assert_eq!(quiet.stdout.trim(), last);
    let json = trailproof(&["baseline", "--snapshot", &snapshot, "-o", "json"], &[]);
    assert_eq!(trailproof(&["baseline", "--snapshot", &snapshot, "-q", "-o", "json"], &[]).stdout, json.stdout);
}

#[test]
fn version_on_every_subcommand() {
    let version = env!("CARGO_PKG_VERSION");
    for command in COMMANDS {
        let args: Vec<&str> = command.iter().copied().chain(["--version"]).collect();
        let run = trailproof(&args, &[]);
        assert_eq!(run.code, 0, "{command:?}: {}", run.stderr);
        assert!(run.stdout.trim_end().ends_with(&format!(" {version}")), "{command:?}: {}", run.stdout);
    }
}

#[test]
fn completions_for_bash_zsh_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let run = trailproof(&["completions", shell], &[]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for word in ["validate-logs", "baseline", "trail-arn", "endpoint-url"] {
            assert!(run.stdout.contains(word), "{shell}: no {word} in\n{}", run.stdout);
        }
    }
    assert!(trailproof(&["completions", "fish"], &[]).stdout.contains("complete -c trailproof"));
    assert!(trailproof(&["completions", "zsh"], &[]).stdout.starts_with("#compdef trailproof"));
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("trailproof.bash");
    std::fs::write(&script, trailproof(&["completions", "bash"], &[]).stdout).unwrap();
    let check = Command::new("bash").arg("-n").arg(&script).output().expect("bash is needed to check the bash completion script");
    assert!(check.status.success(), "bash -n: {}", String::from_utf8_lossy(&check.stderr));
    assert_eq!(trailproof(&["completions", "tcsh"], &[]).code, 2);
}

/// groff renders a page; its warnings (-ww) are failures.
fn groff(page: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-P-cbou"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("groff: {e}; this test renders the man page with groff: run scripts/setup.sh (it installs groff-base)"));
    child.stdin.take().unwrap().write_all(page).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "groff: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into()
}

#[test]
fn man_page_renders() {
    let run = trailproof(&["man"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(".TH trailproof 1") && run.stdout.contains(".SH SYNOPSIS"), "{}", run.stdout);
    let text = groff(run.stdout.as_bytes());
    for section in ["NAME", "SYNOPSIS", "OPTIONS", "AWS OPTIONS", "SUBCOMMANDS", "EXAMPLES", "EXIT STATUS"] {
        assert!(text.lines().any(|l| l == section), "no {section} in\n{text}");
    }
    assert!(text.contains("trailproof-validate-logs(1)"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let run = trailproof(&["man", "--out", &path_str(dir.path())], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut pages: Vec<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    pages.sort();
    assert_eq!(pages, ["trailproof-backtest.1", "trailproof-baseline-init.1", "trailproof-baseline.1", "trailproof-completions.1", "trailproof-events.1", "trailproof-export.1", "trailproof-filter-test.1",
                       "trailproof-filter.1", "trailproof-keys-export.1", "trailproof-keys.1", "trailproof-man.1", "trailproof-merge.1", "trailproof-plan.1", "trailproof-schema.1", "trailproof-validate-logs.1", "trailproof.1"]);
    let page = groff(&std::fs::read(dir.path().join("trailproof-validate-logs.1")).unwrap());
    // Unfilled: an example keeps its line, whatever its length.
    assert!(page.lines().any(|l| l.trim() == "trailproof validate-logs --source ./evidence --public-keys keys.json --trail-arn ARN --start-time 2026-03-01 -q"), "{page}");
    for section in ["AWS OPTIONS", "EXAMPLES", "EXIT STATUS"] {
        assert!(page.lines().any(|l| l == section), "no {section} in\n{page}");
    }
}

/// A port nothing listens on: connections are refused at once.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Credentials and a region, but no config files or instance metadata: the endpoint each test gives is all it can reach.
fn fake_credentials_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", ACCOUNT.into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_CONFIG_FILE", "/nonexistent".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}

#[test]
fn baseline_without_network_fails_once_with_exit_3() {
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    for format in ["text", "json"] {
        let run = trailproof(&["baseline", "--endpoint-url", &endpoint, "--max-attempts", "1", "-o", format], &fake_credentials_env());
        assert_eq!(run.code, 3, "{format}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.stdout, "", "{format}");
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{format}: {}", run.stderr);
        // The operation, the cause and the fix.
        for part in ["DescribeTrails", "Connection refused", "check the network", "--endpoint-url"] {
            assert!(lines[0].contains(part), "{format}: no {part:?} in {}", lines[0]);
        }
    }
}

#[test]
fn a_bad_endpoint_url_is_a_usage_error_in_one_line() {
    let run = trailproof(&["validate-logs", "--endpoint-url", "not a url", "--trail-arn", ARN, "--start-time", "2026-03-01"], &fake_credentials_env());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--endpoint-url") && run.stderr.contains("http") && !run.stderr.contains("Request {"), "{}", run.stderr);
    // From the environment it reaches the SDK, which dumps the whole request into its error.
    let mut env = fake_credentials_env();
    env.push(("AWS_ENDPOINT_URL", "not a url".into()));
    let run = trailproof(&["baseline"], &env);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(!run.stderr.contains("Request {") && run.stderr.contains("AWS_ENDPOINT_URL"), "{}", run.stderr);
}

/// A key file for another range (or region) matches no digest: the digest_key_unknown errors
/// stay, and one warning says what the file is likely for and how to write the right one.
#[test]
fn key_file_matching_no_digest_adds_a_hint() {
    let mut keys: Value = serde_json::from_str(&std::fs::read_to_string(sample_keys()).unwrap()).unwrap();
    for key in keys["PublicKeyList"].as_array_mut().unwrap() {
        key["ValidityStartTime"] = "2024-01-01T00:00:00Z".into();
        key["ValidityEndTime"] = "2024-02-01T00:00:00Z".into();
    }
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("last-years-keys.json");
    std::fs::write(&wrong, keys.to_string()).unwrap();
    let run = sample(&path_str(&wrong), &["-o", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let findings = run.json()["findings"].as_array().unwrap().clone();
    assert_eq!(findings.iter().filter(|f| f["kind"] == "digest_key_unknown" && f["severity"] == "error").count(), 34);
    let hints: Vec<&Value> = findings.iter().filter(|f| f["kind"] == "key_file_mismatch").collect();
    assert_eq!(hints.len(), 1, "{findings:?}");
    let hint = hints[0];
    assert_eq!(hint["severity"], "warning");
    assert_eq!(hint["key"], "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/");
    let message = hint["message"].as_str().unwrap();
    for part in ["another region or time range", "trailproof keys export --key-region us-east-1 --start-time 2026-02-28T22:00:00Z --end-time 2026-03-02T14:17:42Z", "last-years-keys.json"] {
        assert!(message.contains(part), "no {part:?} in {message}");
    }
    let text = sample(&path_str(&wrong), &[]);
    assert!(text.stdout.contains("WARNING (key_file_mismatch)"), "{}", text.stdout);

    // The right file: no hint.
    let right = sample(&sample_keys(), &["-o", "json"]);
    assert_eq!(right.code, 0);
    assert!(!right.kinds().contains(&"key_file_mismatch".to_string()));
}
