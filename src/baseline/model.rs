//! The baseline file: what trails and alert rules an account must have. TOML; see
//! `baselines/example.toml` for a commented example, or `trailproof baseline init`.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::filter_pattern::{self, FilterPattern, LogEvent};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default)]
    pub trails: Vec<TrailExpectation>,
    #[serde(default)]
    pub rules: Vec<AlertRule>,
    #[serde(default)]
    pub exceptions: Vec<Exception>,
}

/// One trail the account must have. Without `name`, the best multi-region trail is judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailExpectation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default = "yes")]
    pub multi_region: bool,
    /// Management events, read and write, with no event source excluded but those allowed below.
    #[serde(default = "yes")]
    pub management_events: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_management_exclusions: Vec<String>,
    #[serde(default = "yes")]
    pub log_file_validation: bool,
    #[serde(default = "yes")]
    pub cloudwatch_logs: bool,
    /// How old CloudTrail's last delivery to CloudWatch Logs may be.
    #[serde(default = "default_delivery_age")]
    pub cloudwatch_max_delivery_age_hours: u32,
    #[serde(default = "yes")]
    pub kms_encryption: bool,
    #[serde(default = "yes")]
    pub global_service_events: bool,
    #[serde(default = "yes")]
    pub bucket_public_access_block: bool,
    #[serde(default = "yes")]
    pub bucket_versioning: bool,
    #[serde(default)]
    pub bucket_mfa_delete: bool,
    #[serde(default)]
    pub bucket_object_lock: bool,
}

fn yes() -> bool {
    true
}

fn default_delivery_age() -> u32 {
    24
}

impl Default for TrailExpectation {
    fn default() -> Self {
        TrailExpectation {
            name: None,
            multi_region: true,
            management_events: true,
            allowed_management_exclusions: Vec::new(),
            log_file_validation: true,
            cloudwatch_logs: true,
            cloudwatch_max_delivery_age_hours: default_delivery_age(),
            kms_encryption: true,
            global_service_events: true,
            bucket_public_access_block: true,
            bucket_versioning: true,
            bucket_mfa_delete: false,
            bucket_object_lock: false,
        }
    }
}

/// An alert the account must have: a metric filter with the expected meaning on the trail's log
/// group, an alarm on its metric, and a notification path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Stable ID; the checks are `{id}.filter`, `{id}.alarm` and `{id}.notification`.
    pub id: String,
    pub title: String,
    /// The reference filter pattern. Documentation, and the corpus is checked against it.
    pub reference: String,
    /// Events (JSON) a deployed filter must match.
    pub must_match: Vec<String>,
    /// Events the reference matches but a deployed filter may leave out (allowed noise cuts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub may_exclude: Vec<String>,
    /// Events a deployed filter must not match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub must_not_match: Vec<String>,
    pub alarm: AlarmExpectation,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remediation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmExpectation {
    #[serde(default = "default_statistic")]
    pub statistic: String,
    /// Longest period allowed, in seconds.
    #[serde(default = "default_period")]
    pub period: i32,
    /// Most evaluation periods allowed.
    #[serde(default = "one")]
    pub evaluation_periods: i32,
    /// The alarm must fire at this count in one period (or at a lower one).
    #[serde(default = "one_f")]
    pub threshold: f64,
    #[serde(default = "default_comparison")]
    pub comparison: String,
    #[serde(default)]
    pub notification: Notification,
}

fn default_statistic() -> String {
    "Sum".into()
}
fn default_period() -> i32 {
    300
}
fn one() -> i32 {
    1
}
fn one_f() -> f64 {
    1.0
}
fn default_comparison() -> String {
    "GreaterThanOrEqualToThreshold".into()
}

impl Default for AlarmExpectation {
    fn default() -> Self {
        AlarmExpectation {
            statistic: default_statistic(),
            period: default_period(),
            evaluation_periods: 1,
            threshold: 1.0,
            comparison: default_comparison(),
            notification: Notification::default(),
        }
    }
}

/// What the alarm's notification path must reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Notification {
    /// An SNS topic that exists and has at least one confirmed subscription.
    #[default]
    ConfirmedSubscription,
    /// An SNS topic that exists.
    Topic,
    /// No notification required (the alarm alone is enough).
    None,
}

/// Waives checks. `check` is a check ID with `*` globs; `resource` narrows it to one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    pub check: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub reason: String,
    /// After this day (UTC) the exception no longer applies. Written as a TOML date
    /// (`2027-03-31`) or a string (`"2027-03-31"`).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "toml_date")]
    pub expires: Option<NaiveDate>,
}

/// A day from a TOML local date (`2027-03-31`, what people write) or a string.
fn toml_date<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Day {
        Toml(toml::value::Datetime),
        Text(String),
    }
    let text = match Day::deserialize(deserializer)? {
        Day::Toml(t) => match (t.date, t.time, t.offset) {
            (Some(d), None, None) => {
                let day = NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into());
                return day.map(Some).ok_or_else(|| serde::de::Error::custom(format!("expires: {t} is not a day")));
            }
            _ => t.to_string(),
        },
        Day::Text(s) => s,
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map(Some).map_err(|e| serde::de::Error::custom(format!("expires: {text:?} is not a day (YYYY-MM-DD): {e}")))
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("baseline file: {0}")]
    Toml(String),
    #[error("rule {rule}: reference pattern: {error}")]
    Reference { rule: String, error: filter_pattern::PatternError },
    #[error("rule {rule}: {which} event #{index} is not JSON: {error}")]
    Event { rule: String, which: &'static str, index: usize, error: String },
    #[error("rule {rule}: the reference pattern {verdict} {which} event #{index}: {event}")]
    Corpus { rule: String, which: &'static str, index: usize, verdict: &'static str, event: String },
    #[error("rule {rule}: no must_match events; a filter could match nothing and pass")]
    EmptyCorpus { rule: String },
    #[error("duplicate rule ID {0}")]
    DuplicateRule(String),
}

/// A baseline whose rules all passed their own corpus: the only form [`super::evaluate`] takes.
pub struct Compiled<'a> {
    pub baseline: &'a Baseline,
    pub rules: Vec<CompiledRule<'a>>,
}

/// An alert rule ready to judge filters: the reference compiled, the corpus parsed.
pub struct CompiledRule<'a> {
    pub rule: &'a AlertRule,
    pub reference: FilterPattern,
    pub must_match: Vec<LogEvent>,
    pub may_exclude: Vec<LogEvent>,
    pub must_not_match: Vec<LogEvent>,
}

impl Baseline {
    /// Reads a baseline file. Its rules are checked when it is compiled, once, before use.
    pub fn from_toml(text: &str) -> Result<Baseline, BaselineError> {
        toml::from_str(text).map_err(|e| BaselineError::Toml(e.to_string()))
    }

    pub fn to_toml(&self) -> String {
        // A Baseline is plain strings, numbers and tables; serialization cannot fail.
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks every rule's corpus against its reference: the reference must match every
    /// must_match and may_exclude event and none of the must_not_match ones. A baseline whose
    /// own corpus is wrong would judge deployed filters wrongly, so it is refused.
    pub fn compile(&self) -> Result<Compiled<'_>, BaselineError> {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for rule in &self.rules {
            if !seen.insert(rule.id.as_str()) {
                return Err(BaselineError::DuplicateRule(rule.id.clone()));
            }
            let reference = filter_pattern::parse(&rule.reference).map_err(|error| BaselineError::Reference { rule: rule.id.clone(), error })?;
            if rule.must_match.is_empty() {
                return Err(BaselineError::EmptyCorpus { rule: rule.id.clone() });
            }
            let events = |which: &'static str, list: &[String]| -> Result<Vec<LogEvent>, BaselineError> {
                list.iter()
                    .enumerate()
                    .map(|(index, text)| {
                        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| BaselineError::Event { rule: rule.id.clone(), which, index, error: e.to_string() })?;
                        Ok(LogEvent::from_json(value))
                    })
                    .collect()
            };
            let compiled = CompiledRule {
                must_match: events("must_match", &rule.must_match)?,
                may_exclude: events("may_exclude", &rule.may_exclude)?,
                must_not_match: events("must_not_match", &rule.must_not_match)?,
                reference,
                rule,
            };
            for (which, list, want) in [("must_match", &compiled.must_match, true), ("may_exclude", &compiled.may_exclude, true), ("must_not_match", &compiled.must_not_match, false)] {
                for (index, event) in list.iter().enumerate() {
                    if compiled.reference.matches(event) != want {
                        return Err(BaselineError::Corpus {
                            rule: rule.id.clone(),
                            which,
                            index,
                            verdict: if want { "does not match" } else { "matches" },
                            event: event.text().to_string(),
                        });
                    }
                }
            }
            out.push(compiled);
        }
        Ok(Compiled { baseline: self, rules: out })
    }
}

/// Where a baseline file declares what it expects, as 1-based lines: each `[[trails]]` entry's
/// header, and each rule's `[[rules]]` header by rule ID. For SARIF, which points code-scanning
/// UIs at the expectation a result judges. Read with the `toml` crate's spans, so it agrees with
/// the parser however the file is written (inline tables, comments, odd spacing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lines {
    pub trails: Vec<usize>,
    pub rules: Vec<(String, usize)>,
}

impl Lines {
    /// The lines of a baseline file's text; empty when it does not parse (then the file is refused
    /// anyway, by [`Baseline::from_toml`]).
    pub fn of(text: &str) -> Lines {
        #[derive(Deserialize)]
        struct Rule {
            id: String,
        }
        #[derive(Deserialize)]
        struct Heads {
            #[serde(default)]
            trails: Vec<toml::Spanned<serde::de::IgnoredAny>>,
            #[serde(default)]
            rules: Vec<toml::Spanned<Rule>>,
        }
        let Ok(heads) = toml::from_str::<Heads>(text) else { return Lines::default() };
        let line = |offset: usize| text.get(..offset).map_or(1, |before| before.matches('\n').count() + 1);
        Lines {
            trails: heads.trails.iter().map(|t| line(t.span().start)).collect(),
            rules: heads.rules.into_iter().map(|r| (line(r.span().start), r.into_inner().id)).map(|(at, id)| (id, at)).collect(),
        }
    }

    pub fn rule(&self, id: &str) -> Option<usize> {
        self.rules.iter().find(|(r, _)| r == id).map(|&(_, line)| line)
    }
}

/// Written at the top of `baseline init` output: the format, in comments.
pub const FILE_HEADER: &str = r#"# trailproof baseline. Check an account with: trailproof baseline --baseline THIS_FILE
#
# [[trails]]            one per trail expected; without `name` the best multi-region trail is judged
#   name, multi_region, management_events, allowed_management_exclusions (event sources),
#   log_file_validation, cloudwatch_logs, cloudwatch_max_delivery_age_hours, kms_encryption,
#   global_service_events, bucket_public_access_block, bucket_versioning, bucket_mfa_delete,
#   bucket_object_lock
#
# [[rules]]             one alert: checks {id}.filter, {id}.alarm and {id}.notification
#   reference           the reference filter pattern (the corpus below is checked against it)
#   must_match          events (JSON) a deployed filter must match
#   may_exclude         events the reference matches that a deployed filter may leave out
#   must_not_match      events a deployed filter must not match
#   A deployed filter passes when it matches every must_match event and no must_not_match
#   event: reordered, re-quoted, re-spaced or noise-tuned filters pass; wrong meanings fail.
#   [rules.alarm]       statistic (Sum), period (longest, seconds), evaluation_periods (most),
#                       threshold + comparison (the alarm must fire at this count or lower),
#                       notification = "confirmed-subscription" | "topic" | "none"
#
# [[exceptions]]        waive checks: check = "cis-4.15.*" (globs), resource (optional glob),
#                       reason (required), expires = 2027-06-30 (optional; ignored after)

"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_point_at_the_headers() {
        let text = "name = \"x\"\n\n# a trail\n[[trails]]\nname = \"a\"\n\n  [[rules]]  # first\nid = \"r1\"\ntitle = \"t\"\n[rules.alarm]\nperiod = 60\n\n[[trails]]\n[[rules]]\ntitle = \"u\"\nid = \"r2\"\n";
        let lines = Lines::of(text);
        assert_eq!(lines.trails, [4, 13]);
        assert_eq!(lines.rule("r1"), Some(7));
        assert_eq!(lines.rule("r2"), Some(14));
        assert_eq!(lines.rule("r3"), None);
        assert_eq!(Lines::of("rules = 3"), Lines::default());
    }

    #[test]
    fn the_example_file_locates_every_rule() {
        let text = include_str!("../../testdata/baseline-example.toml");
        let baseline = Baseline::from_toml(text).unwrap();
        let lines = Lines::of(text);
        let all: Vec<&str> = text.lines().collect();
        assert_eq!(lines.trails.len(), baseline.trails.len());
        for t in &lines.trails {
            assert_eq!(all[t - 1].trim(), "[[trails]]");
        }
        for rule in &baseline.rules {
            let at = lines.rule(&rule.id).unwrap();
            assert_eq!(all[at - 1].trim(), "[[rules]]", "{}", rule.id);
            assert_eq!(all[at].trim(), format!("id = {:?}", rule.id));
        }
    }
}
