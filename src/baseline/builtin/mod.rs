//! Built-in baselines: `cis` (CIS AWS Foundations Benchmark v1.4–v3.0 monitoring, §4.1–4.15) and
//! `essentials` (alerts practitioners commonly add). Each rule carries its reference pattern and
//! a labelled corpus of CloudTrail events; the corpus decides, not the pattern text.
use serde_json::{json, Map, Value};

use super::model::{AlarmExpectation, AlertRule, Baseline, TrailExpectation};

mod cis;
mod essentials;

pub use cis::cis;
pub use essentials::essentials;

pub const NAMES: &[&str] = &["cis", "essentials"];

/// Parameters of the built-in baselines (`--param key=value`).
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Console logins from anywhere else alert (essentials). `*` wildcards allowed.
    pub allowed_ips: Vec<String>,
    /// Resource creation outside this region alerts (essentials).
    pub home_region: String,
    /// Events per period at which an alarm must fire.
    pub threshold: f64,
    /// Failed console logins per period at which the alarm must fire (essentials).
    pub failed_login_threshold: f64,
    /// Longest alarm period allowed, in seconds.
    pub period: i32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            // Documentation addresses (RFC 5737): a placeholder the user is meant to replace.
            allowed_ips: vec!["203.0.113.10".into()],
            home_region: "us-east-1".into(),
            threshold: 1.0,
            failed_login_threshold: 3.0,
            period: 300,
        }
    }
}

impl Params {
    /// Applies `key=value`; lists are comma-separated.
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (key, value) = assignment.split_once('=').ok_or_else(|| format!("--param {assignment}: expected key=value"))?;
        let number = |v: &str| v.parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0).ok_or_else(|| format!("--param {key}: {v:?} is not a non-negative number"));
        match key {
            "allowed_ips" => self.allowed_ips = value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
            "home_region" if !value.is_empty() => self.home_region = value.to_string(),
            "threshold" => self.threshold = number(value)?,
            "failed_login_threshold" => self.failed_login_threshold = number(value)?,
            "period" => self.period = value.parse().ok().filter(|p| *p >= 10).ok_or_else(|| format!("--param period: {value:?} is not a period of at least 10 seconds"))?,
            _ => return Err(format!("--param {key}: unknown parameter (allowed_ips, home_region, threshold, failed_login_threshold, period)")),
        }
        Ok(())
    }
}

pub fn by_name(name: &str, params: &Params) -> Option<Baseline> {
    match name {
        "cis" => Some(cis(params)),
        "essentials" => Some(essentials(params)),
        _ => None,
    }
}

/// A realistic CloudTrail event: the envelope every record has, then `fields` (dotted paths)
/// on top. Real envelopes matter: a deployed filter with a noise cut such as
/// `$.sourceIPAddress != "..."` needs the field to be there.
fn event(fields: &[(&str, Value)]) -> String {
    let mut e = json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"},
        "eventTime": "2026-03-01T12:00:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "GetUser",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": null,
        "responseElements": null,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management"
    });
    for (path, value) in fields {
        set_path(&mut e, path, value.clone());
    }
    e.to_string()
}

fn set_path(root: &mut Value, path: &str, value: Value) {
    let mut node = root;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else { return };
        if parts.peek().is_none() {
            if value.is_null() {
                map.remove(part);
            } else {
                map.insert(part.to_string(), value);
            }
            return;
        }
        node = map.entry(part.to_string()).or_insert(Value::Null);
    }
}

fn call(source: &str, name: &str) -> String {
    event(&[("eventSource", json!(source)), ("eventName", json!(name))])
}

fn alarm(params: &Params, threshold: f64) -> AlarmExpectation {
    AlarmExpectation { threshold, period: params.period, ..AlarmExpectation::default() }
}

/// A rule that fires on a set of API calls, optionally only from one event source.
/// `near_misses` are calls of the same service that must not alert.
fn calls_rule(params: &Params, id: &str, title: &str, source: &str, require_source: bool, names: &[&str], near_misses: &[(&str, &str)]) -> AlertRule {
    let names_clause = names.iter().map(|n| format!("($.eventName = {n})")).collect::<Vec<_>>().join(" || ");
    let reference = if require_source { format!("{{ ($.eventSource = {source}) && ({names_clause}) }}") } else { format!("{{ {names_clause} }}") };
    AlertRule {
        id: id.into(),
        title: title.into(),
        reference,
        must_match: names.iter().map(|n| call(source, n)).collect(),
        may_exclude: vec![],
        must_not_match: near_misses.iter().map(|(s, n)| call(s, n)).collect(),
        alarm: alarm(params, params.threshold),
        remediation: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_corpora_agree_with_their_reference_patterns() {
        for name in NAMES {
            let b = by_name(name, &Params::default()).unwrap_or_else(|| panic!("{name} is built in"));
            b.compile().unwrap_or_else(|e| panic!("{name}: {e}"));
            // What `baseline init` writes must load back to the same baseline.
            assert_eq!(Baseline::from_toml(&b.to_toml()).unwrap_or_else(|e| panic!("{name} round trip: {e}")), b);
        }
        assert_eq!(cis(&Params::default()).rules.len(), 15);
    }

    #[test]
    fn parameters_shape_the_essentials() {
        let mut p = Params::default();
        p.set("allowed_ips=192.0.2.250, 10.0.0.*").unwrap();
        p.set("home_region=ap-northeast-1").unwrap();
        p.set("failed_login_threshold=5").unwrap();
        let b = essentials(&p);
        b.compile().unwrap();
        let ip_rule = &b.rules[0];
        assert!(ip_rule.reference.contains(r#"($.sourceIPAddress != "10.0.0.*")"#), "{}", ip_rule.reference);
        assert!(!ip_rule.must_match[0].contains("192.0.2.250"), "the outside address avoids the allowed list");
        assert!(b.rules[6].reference.contains("ap-northeast-1"));
        assert_eq!(b.rules[2].alarm.threshold, 5.0);
        assert!(p.set("threshold=-1").is_err());
        assert!(p.set("colour=blue").is_err());
        assert!(p.set("period=abc").is_err());
    }
}
