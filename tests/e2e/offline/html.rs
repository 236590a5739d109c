//! The backtest's HTML report in a real headless browser (Debian's Chromium, which
//! scripts/setup.sh installs): it renders without console errors, loads nothing from the
//! network, its screenshot is not blank and shows the charts, and hostile evidence text stays
//! text in the DOM.
//!
//! The report is built through the library as the command builds it: records replayed through
//! filters and alarms (`backtest::replay`), then `backtest::report::build`.
use std::io::{Read, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use serde_json::json;
use trailproof::backtest::alarm::{AlarmSpec, Comparison, TreatMissingData};
use trailproof::backtest::definitions::{AlarmDef, Definitions, FilterDef};
use trailproof::backtest::html::{write_html, ALARM_FILL, UNVERIFIED_FILL};
use trailproof::backtest::replay::Replay;
use trailproof::backtest::report::{build, BacktestReport, Inputs};
use trailproof::backtest::Statistic;
use trailproof::finding::Scope;
use trailproof::pipeline::Replay as _;
use trailproof::report::Verdict;

use crate::common::ACCOUNT;

const HOSTILE: &str = "<script>alert(1)</script>";
const NEEDS: &str = "this test renders the HTML report in Chromium: run scripts/setup.sh (it installs Debian's chromium)";

fn t(day: u32, hour: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, min, 0).unwrap()
}

fn filter(name: &str, pattern: &str, metric: &str) -> FilterDef {
    FilterDef {
        log_group: "aws-cloudtrail-logs".into(),
        filter_name: name.into(),
        pattern: pattern.into(),
        namespace: "CloudTrailMetrics".into(),
        metric_name: metric.into(),
        metric_value: "1".into(),
        default_value: None,
    }
}

fn alarm(name: &str, metric: &str, threshold: f64) -> AlarmDef {
    AlarmDef {
        alarm_name: name.into(),
        namespace: "CloudTrailMetrics".into(),
        metric_name: metric.into(),
        spec: AlarmSpec {
            period_s: 300,
            evaluation_periods: 1,
            datapoints_to_alarm: None,
            threshold,
            comparison: Comparison::GreaterThanOrEqualToThreshold,
            statistic: Statistic::Sum,
            treat_missing_data: TreatMissingData::Missing,
        },
    }
}

fn record(at: DateTime<Utc>, event: &str, arn: &str, error: Option<&str>) -> serde_json::Value {
    let mut r = json!({
        "eventVersion": "1.08", "eventTime": at.format("%Y-%m-%dT%H:%M:%SZ").to_string(), "eventName": event,
        "eventSource": "sts.amazonaws.com", "awsRegion": "us-east-1", "sourceIPAddress": "\"><img src=x onerror=alert(2)>",
        "userIdentity": {"type": "AssumedRole", "arn": arn}, "eventType": "AwsApiCall",
    });
    if let Some(e) = error {
        r["errorCode"] = json!(e);
    }
    r
}

/// A week: an AccessDenied storm by a principal whose name is markup, a few root logins, and a
/// log file that did not verify in eu-west-1.
fn report() -> BacktestReport {
    let definitions = Definitions {
        filters: vec![
            filter(
                "access-denied",
                "{ $.errorCode = \"AccessDenied\" }",
                "AccessDenied",
            ),
            filter(
                "console-login",
                "{ $.eventName = \"ConsoleLogin\" }",
                "ConsoleLogin",
            ),
        ],
        alarms: vec![
            alarm("AccessDeniedStorm", "AccessDenied", 10.0),
            alarm("ConsoleLogins", "ConsoleLogin", 1.0),
        ],
        skipped: vec![],
    };
    let (replay, not_replayed) = Replay::new(definitions);
    let mut records = Vec::new();
    for day in [2, 4, 6] {
        // 30 denials in each of two 5-minute periods: above the threshold of 10.
        for second in (0..600).step_by(10) {
            records.push(record(
                t(day, 9, 0) + Span::seconds(second),
                "AssumeRole",
                HOSTILE,
                Some("AccessDenied"),
            ));
        }
    }
    for (day, hour) in [(1, 8), (3, 12), (5, 18), (7, 22)] {
        records.push(record(
            t(day, hour, 5),
            "ConsoleLogin",
            "arn:aws:iam::111122223333:root",
            None,
        ));
    }
    replay.replay_log_file(json!({ "Records": records }).to_string().as_bytes());
    let us = Scope {
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
    };
    let eu = Scope {
        account_id: ACCOUNT.into(),
        region: "eu-west-1".into(),
    };
    let range = (t(1, 0, 0), t(8, 0, 0));
    replay.covered(&us, range.0, range.1);
    replay.covered(&eu, range.0, range.1);
    replay.unverified(
        &eu,
        "AWSLogs/x.json.gz",
        (t(3, 0, 0), t(3, 0, 0) + Span::hours(6)),
    );
    let replayed = replay.finish();
    let targets = [
        (ACCOUNT.to_string(), "us-east-1".to_string()),
        (ACCOUNT.to_string(), "eu-west-1".to_string()),
    ];
    let report = build(
        &replayed,
        Inputs {
            trail_arn: "arn:aws:cloudtrail:us-east-1:111122223333:trail/main",
            range,
            verdict: Verdict::Invalid,
            targets: &targets,
            thresholds: &[1.0, 10.0, 50.0],
            not_replayed,
        },
    );
    assert_eq!(report.alarms.len(), 2, "{:?}", report.not_replayed);
    assert!(report.alarms.iter().all(|a| a.alarm_entries > 0));
    assert!(!report.evidence.unverified_spans.is_empty());
    report
}

/// What one headless Chromium run saw.
struct Rendered {
    /// Chromium's log (stderr): console messages are its `:CONSOLE` lines.
    log: String,
    stdout: String,
    /// The first line of each request that reached the proxy, Chromium's own calls to Google
    /// (time, accounts) left out.
    requests: Vec<String>,
}

/// Opens `page` in headless Chromium with a fresh profile, every request sent to a local proxy
/// that answers nothing (so the test never touches the network and sees every request).
fn chromium(page: &Path, mode: &[&str]) -> Rendered {
    let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = proxy.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    // Lives until the process ends; it only accepts, reads a request line and hangs up.
    std::thread::spawn(move || {
        for mut conn in proxy.incoming().flatten() {
            conn.set_read_timeout(Some(Duration::from_secs(2))).ok();
            let mut head = [0u8; 512];
            let n = conn.read(&mut head).unwrap_or(0);
            record.lock().unwrap().push(
                String::from_utf8_lossy(&head[..n])
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string(),
            );
        }
    });
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-color-profile=srgb",
            "--enable-logging=stderr",
            "--v=0",
            &format!("--proxy-server=http://127.0.0.1:{port}"),
            "--proxy-bypass-list=<-loopback>",
            &format!("--user-data-dir={}", profile.path().display()),
        ])
        .args(mode)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("chromium: {e}; {NEEDS}"));
    // Drained while it runs: a page's DOM dump can outgrow a pipe's buffer.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).ok();
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    // A browser that hangs must fail the test, not stall the suite.
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("chromium did not finish within 120 s (a JavaScript dialog such as alert() blocks headless Chromium: did evidence text run as script?)");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    let log = String::from_utf8_lossy(&stderr).into_owned();
    assert!(status.success(), "chromium failed ({status}):\n{log}");
    let requests = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|r| !is_chromiums_own(r))
        .cloned()
        .collect();
    Rendered {
        log,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        requests,
    }
}

/// Chromium's own background calls (network time, account sign-in checks) to Google hosts,
/// which the flags do not all stop; a page's request would name another host.
fn is_chromiums_own(request_line: &str) -> bool {
    let target = request_line.split(' ').nth(1).unwrap_or("");
    let host = target
        .trim_start_matches("http://")
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    host == "google.com" || host.ends_with(".google.com")
}

fn console_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

fn rgb(hex: &str) -> [u8; 3] {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap();
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

#[test]
fn html_report_renders_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let mut file = std::fs::File::create(&page).unwrap();
    write_html(&report(), &mut file).unwrap();
    file.flush().unwrap();
    drop(file);

    let shot = dir.path().join("report.png");
    let run = chromium(
        &page,
        &[
            "--window-size=1280,2000",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    let console = console_lines(&run.log);
    assert!(
        console.is_empty(),
        "console messages while rendering the report:\n{}",
        console.join("\n")
    );
    assert!(
        run.requests.is_empty(),
        "the report made network requests: {:?}",
        run.requests
    );

    // Not blank: many colours, a good share of non-white pixels, and the charts' own fills (the
    // ALARM shading, the unverified span) on screen.
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&shot)
            .unwrap_or_else(|e| panic!("no screenshot {}: {e}\n{}", shot.display(), run.log)),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (1280, 2000));
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let rgbs: Vec<[u8; 3]> = pixels[..info.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    let distinct: std::collections::HashSet<[u8; 3]> = rgbs.iter().copied().collect();
    let non_white = rgbs.iter().filter(|p| **p != [255, 255, 255]).count();
    // The charts' fills, told from their 12-pixel legend swatches by their extent: an ALARM
    // run spans the plot's height (a column of them), the unverified span hours of the axis (a
    // row of them).
    let width = info.width as usize;
    let (alarm, unverified) = (rgb(ALARM_FILL), rgb(UNVERIFIED_FILL));
    let tallest_alarm = (0..width)
        .map(|x| rgbs.iter().skip(x).step_by(width).filter(|p| **p == alarm).count())
        .max()
        .unwrap_or(0);
    let widest_unverified = rgbs
        .chunks(width)
        .map(|row| row.iter().filter(|p| **p == unverified).count())
        .max()
        .unwrap_or(0);
    assert!(
        distinct.len() > 50,
        "{} colours: the screenshot is (nearly) blank",
        distinct.len()
    );
    assert!(
        non_white * 50 > rgbs.len(),
        "only {non_white} of {} pixels are not white",
        rgbs.len()
    );
    assert!(
        tallest_alarm > 100,
        "no ALARM shading on screen: at most {tallest_alarm} pixels of it in a column"
    );
    assert!(
        widest_unverified > 24,
        "no unverified span on screen: at most {widest_unverified} pixels of it in a row"
    );

    // The DOM: the hostile principal is text, not an element.
    let run = chromium(&page, &["--dump-dom"]);
    assert!(console_lines(&run.log).is_empty(), "{}", run.log);
    let dom = run.stdout;
    assert!(
        dom.contains("AccessDeniedStorm")
            && dom.contains("Threshold sweep")
            && dom.contains("Top drivers"),
        "{dom}"
    );
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{dom}"
    );
    assert!(!dom.contains("<script") && !dom.contains("<img"), "{dom}");
}

/// The page as the command writes it: `backtest --output html --out FILE` on the noise month with
/// one planted log file tampered, rendered in Chromium.
#[test]
fn backtest_writes_an_html_report_that_renders() {
    use trailproof::sim::noise;
    let trail = crate::common::simulate(&noise::month());
    let dir = crate::common::write_dir(&trail);
    let planted = trail.log_keys.iter().find(|k| k.contains("PLANTED") && k.contains("/2026/03/12/")).unwrap();
    let path = dir.path().join("tp-backtest").join(planted);
    let mut body = trailproof::sim::gunzip(&std::fs::read(&path).unwrap());
    body.insert(1, b' ');
    std::fs::write(&path, trailproof::sim::gzip(&body)).unwrap();
    let page = dir.path().join("report.html");
    let keys = crate::common::path_str(&crate::common::root().join("keys/public-keys/eu-west-1.json"));
    let snapshot = crate::common::path_str(&crate::common::root().join("testdata/backtest-snapshot.json"));
    let run = crate::common::trailproof(
        &["backtest", "--source", &crate::common::path_str(dir.path()), "--public-keys", &keys, "--trail-arn", &trail.spec.trail_arn(),
          "--start-time", noise::START, "--end-time", noise::END, "--snapshot", &snapshot, "--threshold-sweep", "1,5,10",
          "--output", "html", "--out", &crate::common::path_str(&page)],
        &crate::common::offline_env(),
    );
    assert_eq!(run.code, 1, "the tampered log file is an error finding: {}", run.stderr);
    assert!(run.stdout.is_empty(), "the page goes to --out: {}", run.stdout);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") || html.starts_with("<!doctype html>"), "{}", &html[..100.min(html.len())]);

    let shot = dir.path().join("report.png");
    let rendered = chromium(&page, &["--window-size=1280,2000", &format!("--screenshot={}", shot.display())]);
    let console = console_lines(&rendered.log);
    assert!(console.is_empty(), "console messages: {}", console.join("\n"));
    assert!(rendered.requests.is_empty(), "network requests: {:?}", rendered.requests);
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let channels = info.color_type.samples();
    let distinct: std::collections::HashSet<&[u8]> = pixels[..info.buffer_size()].chunks(channels).collect();
    assert!(distinct.len() > 50, "{} colours: the screenshot is (nearly) blank", distinct.len());
    let dom = chromium(&page, &["--dump-dom"]).stdout;
    for text in ["denied-storm", "outside-regions", "root-usage", "iam-attach", "2026-03-12"] {
        assert!(dom.contains(text), "no {text} in the page:\n{dom}");
    }
}
