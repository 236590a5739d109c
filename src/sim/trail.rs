//! A simulated trail: its spec, the simulation (log files, hourly digests, chains, backfill),
//! edits to it for tamper tests, and writing it to a directory or S3.
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use flate2::{write::GzEncoder, Compression};
use rand::{rngs::StdRng, Rng, SeedableRng};
use sha2::{Digest as _, Sha256};

use super::keys::SimKey;
use crate::integrity::digest::{string_to_sign, Digest, LogFileEntry, HASH_ALGORITHM, SIGNATURE_ALGORITHM};
use crate::layout::Target;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct TrailSpec {
    pub account_id: String,
    /// The source region whose events and digests this simulates.
    pub region: String,
    /// The trail's home region (in its ARN and in every digest file name).
    pub home_region: String,
    /// Set for an organization trail: keys lie under `AWSLogs/{organization}/{account}/`.
    pub organization_id: Option<String>,
    pub trail_name: String,
    pub bucket: String,
    pub prefix: Option<String>,
    /// Start of the first digest's period.
    pub start: DateTime<Utc>,
    /// Number of hourly digest periods.
    pub hours: u32,
    /// Log files per non-empty hour, inclusive range.
    pub logs_per_hour: (u32, u32),
    /// Records per log file, inclusive range.
    pub records_per_log: (u32, u32),
    /// Chance (0..=1) that an hour delivers no log files (its digest is empty).
    pub empty_hour_chance: f64,
    /// Hours (0-based) during which logging was stopped: no logs and no digest; the digest after
    /// a stop starts a new chain.
    pub stopped_hours: Vec<u32>,
    /// Hours (0-based) whose regular digest was never delivered; a backfill digest chain,
    /// generated at `backfill_generated_at`, covers them instead.
    pub backfill_hours: Vec<u32>,
    pub backfill_generated_at: Option<DateTime<Utc>>,
    pub seed: u64,
    /// Records of a test's own (each with its `eventTime`), delivered in one extra log file in
    /// the hour whose period holds their time; dropped in stopped hours. The random records are
    /// generated as without them.
    pub planted: Vec<serde_json::Value>,
}

impl TrailSpec {
    pub fn new(bucket: &str, start: DateTime<Utc>, hours: u32) -> TrailSpec {
        TrailSpec {
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            home_region: "us-east-1".into(),
            organization_id: None,
            trail_name: "management-events".into(),
            bucket: bucket.into(),
            prefix: None,
            start,
            hours,
            logs_per_hour: (2, 5),
            records_per_log: (3, 12),
            empty_hour_chance: 0.1,
            stopped_hours: Vec::new(),
            backfill_hours: Vec::new(),
            backfill_generated_at: None,
            seed: 7,
            planted: Vec::new(),
        }
    }

    /// The bundled sample in testdata/sample: 36 hours of us-east-1 crossing a key rotation, with
    /// logging stopped for two hours (so it holds two chains).
    pub fn sample() -> TrailSpec {
        let start = DateTime::parse_from_rfc3339("2026-03-01T00:17:42Z").expect("constant time").with_timezone(&Utc);
        let mut spec = TrailSpec::new("trailproof-sample", start, 36);
        spec.stopped_hours = vec![20, 21];
        spec
    }

    pub fn trail_arn(&self) -> String {
        format!("arn:aws:cloudtrail:{}:{}:trail/{}", self.home_region, self.account_id, self.trail_name)
    }

    /// Where the simulated trail's keys lie: the same layout trailproof reads.
    pub fn target(&self) -> Target {
        Target {
            trail_arn: self.trail_arn(),
            trail_name: self.trail_name.clone(),
            home_region: self.home_region.clone(),
            source_region: self.region.clone(),
            account_id: self.account_id.clone(),
            organization_id: self.organization_id.clone(),
            bucket: self.bucket.clone(),
            prefix: self.prefix.clone(),
        }
    }
}

/// One S3 object of the simulated trail.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimObject {
    pub bucket: String,
    pub key: String,
    pub body: Vec<u8>,
    pub metadata: BTreeMap<String, String>,
}

/// A simulated trail: every object, plus the digest and log keys in delivery order.
#[derive(Debug, Clone)]
pub struct SimTrail {
    pub spec: TrailSpec,
    pub objects: BTreeMap<String, SimObject>,
    pub digest_keys: Vec<String>,
    pub log_keys: Vec<String>,
    /// End time of each digest, parallel to `digest_keys`.
    pub digest_ends: Vec<DateTime<Utc>>,
    pub backfill_keys: Vec<String>,
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).expect("writing to a Vec cannot fail");
    e.finish().expect("writing to a Vec cannot fail")
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    crate::integrity::digest::gunzip_strict(bytes, u64::MAX).expect("simulated objects are valid gzip")
}

const EVENTS: [(&str, &str, bool); 10] = [
    ("s3.amazonaws.com", "GetBucketAcl", true),
    ("ec2.amazonaws.com", "DescribeInstances", true),
    ("ec2.amazonaws.com", "RunInstances", false),
    ("iam.amazonaws.com", "CreateUser", false),
    ("signin.amazonaws.com", "ConsoleLogin", false),
    ("sts.amazonaws.com", "AssumeRole", true),
    ("kms.amazonaws.com", "Decrypt", true),
    ("cloudtrail.amazonaws.com", "LookupEvents", true),
    ("logs.amazonaws.com", "PutLogEvents", false),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", false),
];

fn record(rng: &mut StdRng, spec: &TrailSpec, at: DateTime<Utc>) -> serde_json::Value {
    let (source, name, read_only) = EVENTS[rng.gen_range(0..EVENTS.len())];
    let id = |rng: &mut StdRng| {
        let b: [u8; 16] = rng.gen();
        let h = hex::encode(b);
        format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
    };
    serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": format!("AROA{}:session-{}", rng.gen_range(100000..999999), rng.gen_range(1..50)),
            "arn": format!("arn:aws:sts::{}:assumed-role/Operator/session", spec.account_id),
            "accountId": spec.account_id,
            "accessKeyId": format!("ASIA{:016X}", rng.gen::<u64>()),
        },
        "eventTime": at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "eventSource": source,
        "eventName": name,
        "awsRegion": spec.region,
        "sourceIPAddress": format!("203.0.113.{}", rng.gen_range(1..255)),
        "userAgent": "aws-cli/2.17.0 md/Botocore#1.34.0 ua/2.0 os/linux",
        "requestParameters": {"maxResults": rng.gen_range(1..1000)},
        "responseElements": null,
        "requestID": id(rng),
        "eventID": id(rng),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": spec.account_id,
        "eventCategory": "Management",
    })
}

/// Simulates a trail with the given region's keys. Digests are signed with the newest key valid
/// at their end time, so a range crossing a key's start rotates keys mid-range.
pub fn simulate(spec: &TrailSpec, keys: &[SimKey]) -> Result<SimTrail, String> {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut trail = SimTrail { spec: spec.clone(), objects: BTreeMap::new(), digest_keys: vec![], log_keys: vec![], digest_ends: vec![], backfill_keys: vec![] };
    let target = spec.target();
    // (key, signature, inflated sha256) of the previous digest in the current chain.
    let mut previous: Option<(String, String, String)> = None;
    let mut previous_backfill: Option<(String, String, String)> = None;
    let mut period_start = spec.start;
    for hour in 0..spec.hours {
        // Delivery drifts by seconds each hour, as CloudTrail's does.
        let end = spec.start + Duration::hours(hour as i64 + 1) + Duration::seconds(rng.gen_range(0..90));
        if spec.stopped_hours.contains(&hour) {
            previous = None;
            period_start = end;
            continue;
        }
        let mut log_files = Vec::new();
        let mut event_times: Vec<DateTime<Utc>> = Vec::new();
        let logs = if rng.gen_bool(spec.empty_hour_chance.clamp(0.0, 1.0)) { 0 } else { rng.gen_range(spec.logs_per_hour.0..=spec.logs_per_hour.1) };
        for _ in 0..logs {
            let span = (end - period_start).num_seconds().max(60);
            let delivered = period_start + Duration::seconds(rng.gen_range(0..span));
            let n = rng.gen_range(spec.records_per_log.0..=spec.records_per_log.1);
            let mut times: Vec<DateTime<Utc>> = (0..n).map(|_| delivered - Duration::seconds(rng.gen_range(30..300))).collect();
            times.sort();
            let records: Vec<_> = times.iter().map(|t| record(&mut rng, spec, *t)).collect();
            let json = serde_json::to_vec(&serde_json::json!({ "Records": records })).map_err(|e| e.to_string())?;
            let suffix: String = (0..16).map(|_| char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[rng.gen_range(0..62)])).collect();
            let key = target.log_key(delivered, &suffix);
            let fmt = |t: &DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            log_files.push(LogFileEntry {
                s3_bucket: spec.bucket.clone(),
                s3_object: key.clone(),
                hash_value: hex::encode(Sha256::digest(&json)),
                hash_algorithm: HASH_ALGORITHM.into(),
                newest_event_time: times.last().map(fmt),
                oldest_event_time: times.first().map(fmt),
            });
            event_times.extend(times);
            trail.objects.insert(key.clone(), SimObject { bucket: spec.bucket.clone(), key: key.clone(), body: gzip(&json), metadata: BTreeMap::new() });
            trail.log_keys.push(key);
        }
        let time_of = |r: &serde_json::Value| r.get("eventTime").and_then(|t| t.as_str()).and_then(crate::time::parse_cloudtrail_time);
        let planted: Vec<&serde_json::Value> = spec.planted.iter().filter(|r| time_of(r).is_some_and(|t| period_start <= t && t < end)).collect();
        if let Some(latest) = planted.iter().filter_map(|r| time_of(r)).max() {
            let delivered = (latest + Duration::seconds(30)).min(end - Duration::seconds(1));
            let json = serde_json::to_vec(&serde_json::json!({ "Records": planted })).map_err(|e| e.to_string())?;
            let key = target.log_key(delivered, &format!("PLANTED{hour:09}"));
            let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            log_files.push(LogFileEntry {
                s3_bucket: spec.bucket.clone(),
                s3_object: key.clone(),
                hash_value: hex::encode(Sha256::digest(&json)),
                hash_algorithm: HASH_ALGORITHM.into(),
                newest_event_time: Some(fmt(latest)),
                oldest_event_time: planted.iter().filter_map(|r| time_of(r)).min().map(fmt),
            });
            event_times.extend(planted.iter().filter_map(|r| time_of(r)));
            trail.objects.insert(key.clone(), SimObject { bucket: spec.bucket.clone(), key: key.clone(), body: gzip(&json), metadata: BTreeMap::new() });
            trail.log_keys.push(key);
        }
        let backfill = spec.backfill_hours.contains(&hour);
        let generated_at = spec.backfill_generated_at.unwrap_or(end);
        let key = if backfill { target.backfill_digest_key(end) } else { target.digest_key(end) };
        // Backfill digests are signed when they are generated, possibly long after the period.
        let signed_at = if backfill { generated_at } else { end };
        let signer = keys
            .iter()
            .filter(|k| k.public.valid_from <= signed_at && signed_at <= k.public.valid_to)
            .max_by_key(|k| k.public.valid_from)
            .ok_or_else(|| format!("no test key in keys/keyset.json for {} is valid at {signed_at}", spec.region))?;
        if backfill {
            // The regular chain breaks where its digests were never delivered.
            previous = None;
        }
        let previous = if backfill { &mut previous_backfill } else { &mut previous };
        let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let digest = Digest {
            aws_account_id: spec.account_id.clone(),
            digest_start_time: fmt(period_start),
            digest_end_time: fmt(end),
            digest_s3_bucket: spec.bucket.clone(),
            digest_s3_object: key.clone(),
            digest_public_key_fingerprint: signer.public.fingerprint.clone(),
            digest_signature_algorithm: SIGNATURE_ALGORITHM.into(),
            newest_event_time: event_times.iter().max().map(|t| fmt(*t)),
            oldest_event_time: event_times.iter().min().map(|t| fmt(*t)),
            previous_digest_s3_bucket: previous.as_ref().map(|_| spec.bucket.clone()),
            previous_digest_s3_object: previous.as_ref().map(|p| p.0.clone()),
            previous_digest_hash_value: previous.as_ref().map(|p| p.2.clone()),
            previous_digest_hash_algorithm: previous.as_ref().map(|_| HASH_ALGORITHM.to_string()),
            previous_digest_signature: previous.as_ref().map(|p| p.1.clone()),
            log_files,
        };
        let (body, signature, sha) = sign_digest(&digest, signer)?;
        let mut object = digest_object(&spec.bucket, &key, body, &signature);
        if backfill {
            object.metadata.insert("backfill-generation-timestamp".into(), generated_at.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            trail.backfill_keys.push(key.clone());
        } else {
            trail.digest_keys.push(key.clone());
            trail.digest_ends.push(end);
        }
        trail.objects.insert(key.clone(), object);
        *previous = Some((key, signature, sha));
        period_start = end;
    }
    Ok(trail)
}

fn digest_object(bucket: &str, key: &str, body: Vec<u8>, signature: &str) -> SimObject {
    let metadata = BTreeMap::from([
        ("signature".to_string(), signature.to_string()),
        ("signature-algorithm".to_string(), SIGNATURE_ALGORITHM.to_string()),
    ]);
    SimObject { bucket: bucket.into(), key: key.into(), body, metadata }
}

impl SimTrail {
    pub fn object(&mut self, key: &str) -> &mut SimObject {
        self.objects.get_mut(key).unwrap_or_else(|| panic!("no simulated object {key}"))
    }

    /// The digest object's parsed JSON.
    pub fn digest(&self, key: &str) -> Digest {
        serde_json::from_slice(&gunzip(&self.objects[key].body)).expect("simulated digests parse")
    }

    /// Rewrites a digest's JSON and signs it again with `key`, as an attacker holding a signing
    /// key (or a test) would. Returns the new signature.
    pub fn resign(&mut self, digest_key: &str, key: &SimKey, edit: impl FnOnce(&mut Digest)) -> Result<String, String> {
        let mut digest = self.digest(digest_key);
        edit(&mut digest);
        let (body, signature, _) = sign_digest(&digest, key)?;
        let object = self.object(digest_key);
        object.body = body;
        object.metadata.insert("signature".into(), signature.clone());
        Ok(signature)
    }

    /// Replaces a log file's content, keeping it valid gzip.
    pub fn rewrite_log(&mut self, log_key: &str, edit: impl FnOnce(&mut Vec<u8>)) {
        let object = self.object(log_key);
        let mut json = gunzip(&object.body);
        edit(&mut json);
        object.body = gzip(&json);
    }

    /// Writes the trail as `root/{bucket}/{key}` with `.metadata.json` sidecars.
    pub fn write_dir(&self, root: &Path) -> std::io::Result<()> {
        for o in self.objects.values() {
            crate::source::dir::write_object(root, &o.bucket, &o.key, &o.body, &o.metadata)?;
        }
        Ok(())
    }

    #[cfg(feature = "aws")]
    /// Uploads the trail to S3 (the bucket must exist), `concurrency` objects at a time.
    pub async fn upload(&self, client: &aws_sdk_s3::Client, concurrency: usize) -> Result<(), String> {
        use futures::StreamExt;
        let puts = self.objects.values().map(|o| {
            let client = client.clone();
            async move {
                client
                    .put_object()
                    .bucket(&o.bucket)
                    .key(&o.key)
                    .set_metadata(Some(o.metadata.clone().into_iter().collect()))
                    .body(o.body.clone().into())
                    .send()
                    .await
                    .map_err(|e| format!("PutObject {}: {}", o.key, crate::aws::describe(e)))
            }
        });
        let results: Vec<_> = futures::stream::iter(puts).buffer_unordered(concurrency.max(1)).collect().await;
        results.into_iter().collect::<Result<Vec<_>, _>>().map(|_| ())
    }
}

/// Serialises and signs a digest: returns the gzip body, hex signature and hex SHA-256 of the JSON.
pub fn sign_digest(digest: &Digest, key: &SimKey) -> Result<(Vec<u8>, String, String), String> {
    let json = serde_json::to_vec(digest).map_err(|e| e.to_string())?;
    let sha: [u8; 32] = Sha256::digest(&json).into();
    let signature = key.sign(string_to_sign(digest, &sha).as_bytes());
    Ok((gzip(&json), signature, hex::encode(sha)))
}
