//! The test world: one moto emulator per test process, the trail simulator, and helpers to run
//! the real `trailproof` binary against them.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use trailproof::sim::{self, SimKey, SimTrail, TrailSpec};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python with moto installed: $TRAILPROOF_PYTHON, else the project's .venv, else python3.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TRAILPROOF_PYTHON") {
        return p.into();
    }
    let venv = root().join(".venv/bin/python");
    if venv.exists() { venv } else { "python3".into() }
}

/// moto takes a 12-digit access key ID as the account ID, so the simulated account is real to it.
pub const ACCOUNT: &str = "111122223333";

pub struct Emulator {
    pub endpoint: String,
    /// Where tests put what GetTrailStatus should answer (see tests/emulator/emulator.py).
    pub state: tempfile::TempDir,
    /// Held so the emulator's stdin stays open; it exits when this process does.
    _child: Child,
}

/// The moto emulator this test talks to: the shared one (started once per test process, with
/// ListPublicKeys from keys/public-keys), or this thread's own after [`own_emulator`] or
/// [`resettable_emulator`].
pub fn emulator() -> &'static Emulator {
    static SHARED: OnceLock<Emulator> = OnceLock::new();
    static OWN: OnceLock<Emulator> = OnceLock::new();
    static RESETTABLE: OnceLock<Emulator> = OnceLock::new();
    let cell = match WHICH_EMULATOR.get() {
        Which::Shared => &SHARED,
        Which::Own => &OWN,
        Which::Resettable => &RESETTABLE,
    };
    cell.get_or_init(start_emulator)
}

#[derive(Clone, Copy)]
enum Which {
    Shared,
    Own,
    Resettable,
}

thread_local! {
    static WHICH_EMULATOR: std::cell::Cell<Which> = const { std::cell::Cell::new(Which::Shared) };
}

/// Makes this test thread talk to a second emulator that only such tests share: for tests that
/// change the whole emulator's behaviour (denied API calls), which must not reach other tests.
pub fn own_emulator() {
    WHICH_EMULATOR.set(Which::Own);
}

/// Makes this test thread talk to an emulator that only tests which wipe it use (taking turns):
/// wiping the shared one would delete other tests' buckets while they run.
pub fn resettable_emulator() {
    WHICH_EMULATOR.set(Which::Resettable);
}

/// Starts an emulator: [`emulator`]'s, or one a test module keeps to itself.
pub fn start_emulator() -> Emulator {
    let state = tempfile::tempdir().unwrap();
    let needs = "this test needs the moto emulator: run scripts/setup.sh (or scripts/test), or `cargo test -- --skip emulated::` to leave such tests out";
    let mut child = Command::new(python())
        .arg(root().join("tests/emulator/emulator.py"))
        .arg(root().join("keys/public-keys"))
        .arg(state.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}; {needs}", python().display()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line.trim().strip_prefix("READY ").unwrap_or_else(|| panic!("the emulator did not start ({line:?}); {needs}"));
    Emulator { endpoint: format!("http://127.0.0.1:{port}"), state, _child: child }
}

/// Makes the emulator's GetTrailStatus for `trail_name` answer these fields (epoch seconds).
pub fn set_trail_status(trail_name: &str, fields: Value) {
    let dir = emulator().state.path().join("trail-status");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{trail_name}.json")), fields.to_string()).unwrap();
}

/// Environment for anything talking to the emulator: fake credentials, no retries to speak of.
pub fn aws_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", emulator().endpoint.clone()),
        ("AWS_ACCESS_KEY_ID", ACCOUNT.into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("AWS_MAX_ATTEMPTS", "2".into()),
        ("AWS_CONFIG_FILE", "/nonexistent".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    sdk_config_at(&emulator().endpoint).await
}

/// The SDK's configuration for an emulator at `endpoint` (the shared one, or a test's own).
pub async fn sdk_config_at(endpoint: &str) -> aws_config::SdkConfig {
    let creds = aws_sdk_s3::config::Credentials::new(ACCOUNT, "testing", None, None, "test");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(creds)
        .load()
        .await
}

pub async fn s3() -> aws_sdk_s3::Client {
    s3_for(&sdk_config().await)
}

/// An S3 client for `conf`, path-style as a local endpoint needs.
pub fn s3_for(conf: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(conf).force_path_style(true).build())
}

pub fn keys(region: &str) -> Vec<SimKey> {
    sim::load_keyset(&root().join("keys")).unwrap().remove(region).unwrap()
}

pub fn rogue_key() -> SimKey {
    let pem = std::fs::read_to_string(root().join("keys/test-key-rogue.pem")).unwrap();
    SimKey::from_pem(&pem, t("2026-01-01T00:00:00Z"), t("2027-01-01T00:00:00Z")).unwrap()
}

pub fn t(s: &str) -> DateTime<Utc> {
    trailproof::time::parse_user_time(s).unwrap()
}

/// A 30-hour trail crossing the us-east-1 key rotation (2026-03-02T12:00Z), with a stop of
/// logging at hours 10-11 that starts a second chain.
pub fn spec(bucket: &str) -> TrailSpec {
    let mut spec = TrailSpec::new(bucket, Utc.with_ymd_and_hms(2026, 3, 1, 14, 17, 42).unwrap(), 30);
    spec.stopped_hours = vec![10, 11];
    // One trail per test in the shared emulator.
    spec.trail_name = bucket.to_string();
    spec
}

pub fn simulate(spec: &TrailSpec) -> SimTrail {
    sim::simulate(spec, &keys(&spec.region)).unwrap()
}

/// Creates the bucket and the trail, and uploads the trail's objects.
pub fn upload(trail: &SimTrail) {
    upload_objects(trail);
    create_trail(trail);
}

/// Creates the bucket (if new) and uploads the objects only.
pub fn upload_objects(trail: &SimTrail) {
    runtime().block_on(async {
        let s3 = s3().await;
        let _ = s3.create_bucket().bucket(&trail.spec.bucket).send().await;
        trail.upload(&s3, 16).await.unwrap();
    })
}

/// Registers the trail with the emulator's CloudTrail, for DescribeTrails lookups.
pub fn create_trail(trail: &SimTrail) {
    runtime().block_on(async {
        let ct = aws_sdk_cloudtrail::Client::new(&sdk_config().await);
        ct.create_trail()
            .name(&trail.spec.trail_name)
            .s3_bucket_name(&trail.spec.bucket)
            .set_s3_key_prefix(trail.spec.prefix.clone())
            .enable_log_file_validation(true)
            .send()
            .await
            .unwrap();
    })
}

/// A unique bucket name per test.
pub fn bucket(test: &str) -> String {
    format!("tp-{}", test.replace('_', "-"))
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }

    /// Finding kinds in report order.
    pub fn kinds(&self) -> Vec<String> {
        self.json()["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap().to_string()).collect()
    }

    /// Distinct finding kinds, sorted.
    pub fn kind_set(&self) -> Vec<String> {
        let mut k = self.kinds();
        k.sort();
        k.dedup();
        k
    }

    /// Distinct kinds of the error findings, sorted.
    pub fn error_kinds(&self) -> Vec<String> {
        let mut k: Vec<String> = self.json()["findings"].as_array().unwrap().iter()
            .filter(|f| f["severity"] == "error").map(|f| f["kind"].as_str().unwrap().to_string()).collect();
        k.sort();
        k.dedup();
        k
    }

    pub fn count(&self, what: &str, which: &str) -> u64 {
        self.json()["summary"][what][which].as_u64().unwrap()
    }
}

/// No AWS endpoint is reachable and no credentials or config are read: any request fails, so an
/// offline run that made one would turn incomplete.
pub fn offline_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_CONFIG_FILE", "/nonexistent".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".into()),
    ]
}

/// Runs the trailproof binary with `args` and the given environment.
pub fn trailproof(args: &[&str], env: &[(&str, String)]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_trailproof"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k.to_string(), v.clone())))
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// `validate-logs --output json` over the whole simulated range, against the emulator.
pub fn validate_s3(trail: &SimTrail, extra: &[&str]) -> Run {
    let arn = trail.spec.trail_arn();
    let (start, end) = range(trail);
    let mut args = vec!["validate-logs", "--trail-arn", &arn, "--start-time", &start, "--end-time", &end, "--output", "json"];
    args.extend_from_slice(extra);
    trailproof(&args, &aws_env())
}

/// The trail's whole range, as CLI arguments.
pub fn range(trail: &SimTrail) -> (String, String) {
    let start = trail.spec.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let end = (trail.spec.start + chrono::Duration::hours(trail.spec.hours as i64)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    (start, end)
}

pub fn write_dir(trail: &SimTrail) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    trail.write_dir(dir.path()).unwrap();
    dir
}

pub fn path_str(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// `trailproof schema DOCUMENT`: a JSON Schema, itself valid draft 2020-12 (checked against the
/// meta-schema).
pub fn schema(document: &str) -> Value {
    let run = trailproof(&["schema", document], &[]);
    assert_eq!(run.code, 0, "trailproof schema {document}: {}", run.stderr);
    let schema = run.json();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
        panic!("trailproof schema {document} is not a valid draft 2020-12 schema: {e} at {}", e.instance_path());
    }
    schema
}

/// Validates a document trailproof wrote against `trailproof schema DOCUMENT`, naming every violation.
pub fn assert_fits_schema(document: &str, instance: &Value) {
    let schema = schema(document);
    let validator = jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("trailproof schema {document}: {e}"));
    let errors: Vec<String> = validator.iter_errors(instance).map(|e| format!("{e} (at {})", e.instance_path())).collect();
    assert!(errors.is_empty(), "the {document} document does not fit its schema:\n{}\n{instance:#}", errors.join("\n"));
}

/// One trail (home us-east-1) simulated in several accounts and regions, sharing a bucket.
pub fn multi(bucket: &str, organization: Option<&str>, accounts: &[&str], regions: &[&str], edit: impl Fn(&mut TrailSpec)) -> Vec<SimTrail> {
    let mut out = Vec::new();
    for (a, account) in accounts.iter().enumerate() {
        for (r, region) in regions.iter().enumerate() {
            let mut s = spec(bucket);
            s.account_id = account.to_string();
            s.region = region.to_string();
            s.organization_id = organization.map(str::to_string);
            s.seed = 100 + (a * 10 + r) as u64;
            edit(&mut s);
            out.push(trailproof::sim::simulate(&s, &keys(region)).unwrap());
        }
    }
    out
}

pub fn upload_all(trails: &[SimTrail]) {
    for t in trails {
        upload_objects(t);
    }
}
