//! Replaying verified CloudTrail records through metric filters into the alarms' datapoints.
//!
//! The pipeline hands over each log file whose SHA-256 matched an authentic digest (and only
//! those: [`crate::pipeline::Replay`]). Each record is one log event at its `eventTime`, as
//! CloudTrail delivers it to CloudWatch Logs. Each filter publishes its metric value for a
//! matching event, or its `defaultValue` for a non-matching one; every alarm on that metric
//! (namespace and name) receives the value. Memory grows with the alarms' non-empty periods and
//! the distinct values of the top-driver fields (capped), never with the number of events.
use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::alarm::AlarmSpec;
use super::datapoints::Datapoints;
use super::definitions::{AlarmDef, Definitions, FilterDef};
use crate::filter_pattern::{Emission, FilterPattern, LogEvent, MetricValue};
use crate::finding::Scope;

/// The fields whose most frequent values explain an alarm (`top` in the report).
pub const TOP_FIELDS: [&str; 5] = ["eventName", "principal", "sourceIPAddress", "awsRegion", "errorCode"];

/// Distinct values counted per top field and alarm; beyond it, values are counted as `(other)`,
/// so that a flood of distinct values cannot grow memory without bound.
const MAX_DISTINCT: usize = 10_000;

/// A filter ready to run.
struct Compiled {
    def: FilterDef,
    pattern: FilterPattern,
    value: MetricValue,
    /// The alarms on this filter's metric.
    alarms: Vec<usize>,
}

/// (account, region).
type Chain = (String, String);
/// A period of time, start to end.
type Span = (DateTime<Utc>, DateTime<Utc>);

/// What the replay has seen so far.
#[derive(Default)]
struct State {
    datapoints: Vec<Datapoints>,
    alarm_matched: Vec<u64>,
    filter_matched: Vec<u64>,
    top: Vec<[HashMap<String, u64>; 5]>,
    events: u64,
    events_without_time: u64,
    log_files: u64,
    unverified_logs: u64,
    /// Per (account, region): the periods authentic digests cover, and those with a log file
    /// that did not verify.
    covered: BTreeMap<Chain, Vec<Span>>,
    holes: BTreeMap<Chain, Vec<Span>>,
    /// Verified log files that are not CloudTrail log files (no `Records` array).
    unreadable_records: u64,
}

/// The replay of one run: the filters and alarms, and what the verified records did to them.
pub struct Replay {
    filters: Vec<Compiled>,
    alarms: Vec<AlarmDef>,
    /// The record fields any filter, metric value or top-driver field reads; None when a term or
    /// space-delimited pattern reads the whole record.
    fields: Option<Vec<String>>,
    state: Mutex<State>,
}

/// A filter or alarm that cannot be replayed, and why (reported, never silently dropped).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct NotReplayed {
    pub kind: &'static str,
    pub name: String,
    pub reason: String,
}

impl Replay {
    /// Compiles the definitions. Filters whose pattern or metric value does not parse, and
    /// alarms whose settings CloudWatch would refuse, are returned as not replayed.
    pub fn new(definitions: Definitions) -> (Replay, Vec<NotReplayed>) {
        let mut skipped = definitions.skipped;
        let mut alarms = Vec::new();
        for alarm in definitions.alarms {
            match alarm.spec.validate() {
                Ok(()) => alarms.push(alarm),
                Err(e) => skipped.push(NotReplayed { kind: "alarm", name: alarm.alarm_name, reason: e.to_string() }),
            }
        }
        let mut filters = Vec::new();
        for def in definitions.filters {
            let compiled = crate::filter_pattern::parse(&def.pattern)
                .map_err(|e| format!("pattern: {e}"))
                .and_then(|p| MetricValue::parse(&def.metric_value).map(|v| (p, v)).map_err(|e| format!("metric value: {e}")));
            match compiled {
                Ok((pattern, value)) => {
                    let on_metric = |a: &&AlarmDef| a.namespace == def.namespace && a.metric_name == def.metric_name;
                    let watching = alarms.iter().enumerate().filter(|(_, a)| on_metric(a)).map(|(i, _)| i).collect();
                    filters.push(Compiled { def, pattern, value, alarms: watching });
                }
                Err(reason) => skipped.push(NotReplayed { kind: "filter", name: def.filter_name, reason }),
            }
        }
        let mut fields: Option<HashSet<String>> = Some(["eventTime", "eventName", "userIdentity", "sourceIPAddress", "awsRegion", "errorCode"].map(String::from).into());
        for f in &filters {
            match (f.pattern.json_roots(), &mut fields) {
                (Some(roots), Some(all)) => {
                    all.extend(roots);
                    if let MetricValue::Json(path) = &f.value {
                        all.extend(path.root().map(str::to_string));
                    }
                }
                _ => fields = None,
            }
        }
        let state = State {
            datapoints: alarms.iter().map(|a| datapoints(&a.spec)).collect(),
            alarm_matched: vec![0; alarms.len()],
            filter_matched: vec![0; filters.len()],
            top: alarms.iter().map(|_| Default::default()).collect(),
            ..State::default()
        };
        // A handful of names: a scan beats hashing each key.
        let fields = fields.map(|f| f.into_iter().collect());
        (Replay { filters, alarms, fields, state: Mutex::new(state) }, skipped)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replays one verified log file's records (its inflated bytes).
    pub fn replay_log_file(&self, inflated: &[u8]) {
        let mut reader = serde_json::Deserializer::from_slice(inflated);
        let records = match serde::de::DeserializeSeed::deserialize(LogFile(self.fields.as_ref()), &mut reader).and_then(|r| reader.end().map(|()| r)) {
            Ok(records) => records,
            Err(_) => {
                self.lock().unreadable_records += 1;
                return;
            }
        };
        // Worked out without the lock; applied under it in one go.
        let mut emissions: Vec<(usize, DateTime<Utc>, f64)> = Vec::new();
        let mut alarm_hits: Vec<(usize, [String; 5])> = Vec::new();
        let mut filter_hits: Vec<usize> = Vec::new();
        let (mut events, mut without_time) = (0u64, 0u64);
        for record in records {
            let Some(at) = record.get("eventTime").and_then(Value::as_str).and_then(crate::time::parse_cloudtrail_time) else {
                without_time += 1;
                continue;
            };
            events += 1;
            let event = LogEvent::from_json(record);
            let mut matched_alarms: Vec<usize> = Vec::new();
            for (f, filter) in self.filters.iter().enumerate() {
                let value = match filter.pattern.emission(&filter.value, &event) {
                    Emission::NotMatched => filter.def.default_value,
                    Emission::Value(v) => {
                        filter_hits.push(f);
                        matched_alarms.extend(&filter.alarms);
                        Some(v)
                    }
                    Emission::NoValue => {
                        filter_hits.push(f);
                        matched_alarms.extend(&filter.alarms);
                        None
                    }
                };
                if let Some(v) = value {
                    emissions.extend(filter.alarms.iter().map(|&a| (a, at, v)));
                }
            }
            if matched_alarms.is_empty() {
                continue;
            }
            matched_alarms.sort_unstable();
            matched_alarms.dedup();
            let drivers = event.json().map(drivers).unwrap_or_default();
            alarm_hits.extend(matched_alarms.into_iter().map(|a| (a, drivers.clone())));
        }
        let mut state = self.lock();
        state.log_files += 1;
        state.events += events;
        state.events_without_time += without_time;
        for (a, at, v) in emissions {
            state.datapoints[a].push(at, v);
        }
        for f in filter_hits {
            state.filter_matched[f] += 1;
        }
        for (a, values) in alarm_hits {
            state.alarm_matched[a] += 1;
            for (counts, value) in state.top[a].iter_mut().zip(values) {
                let full = counts.len() >= MAX_DISTINCT && !counts.contains_key(&value);
                *counts.entry(if full { "(other)".to_string() } else { value }).or_default() += 1;
            }
        }
    }

    /// What the replay found, once every log file is in.
    pub fn finish(self) -> Replayed {
        let state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        Replayed { filters: self.filters.into_iter().map(|f| f.def).collect(), alarms: self.alarms, state }
    }
}

impl crate::pipeline::Replay for Replay {
    fn covered(&self, scope: &Scope, start: DateTime<Utc>, end: DateTime<Utc>) {
        self.lock().covered.entry((scope.account_id.clone(), scope.region.clone())).or_default().push((start, end));
    }

    fn verified(&self, _scope: &Scope, _bucket: &str, _key: &str, _digest: &str, inflated: &[u8]) {
        self.replay_log_file(inflated);
    }

    fn unverified(&self, scope: &Scope, _key: &str, digest_period: (DateTime<Utc>, DateTime<Utc>)) {
        let mut state = self.lock();
        state.unverified_logs += 1;
        state.holes.entry((scope.account_id.clone(), scope.region.clone())).or_default().push(digest_period);
    }
}

/// A CloudTrail log file, `{"Records": [...]}`, read with each record reduced to the fields the
/// replay uses (all of them when `fields` is None): skipping the rest without building it is
/// most of what makes a replay cheap.
struct LogFile<'a>(Option<&'a Vec<String>>);

impl<'de> serde::de::DeserializeSeed<'de> for LogFile<'_> {
    type Value = Vec<Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<Value>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for LogFile<'_> {
    type Value = Vec<Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a CloudTrail log file")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Vec<Value>, A::Error> {
        let mut records = Vec::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "Records" {
                records = map.next_value_seed(Records(self.0))?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(records)
    }
}

struct Records<'a>(Option<&'a Vec<String>>);

impl<'de> serde::de::DeserializeSeed<'de> for Records<'_> {
    type Value = Vec<Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<Value>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Records<'_> {
    type Value = Vec<Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Value>, A::Error> {
        let mut records = Vec::new();
        while let Some(record) = seq.next_element_seed(Record(self.0))? {
            records.push(record);
        }
        Ok(records)
    }
}

struct Record<'a>(Option<&'a Vec<String>>);

impl<'de> serde::de::DeserializeSeed<'de> for Record<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        match self.0 {
            None => Value::deserialize(d),
            Some(_) => d.deserialize_any(self),
        }
    }
}

impl<'de> serde::de::Visitor<'de> for Record<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a record")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = serde_json::Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if self.0.is_none_or(|fields| fields.iter().any(|f| f == key.as_ref())) {
                kept.insert(key.into_owned(), map.next_value()?);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(Value::Object(kept))
    }

    // A record that is not an object has no fields: nothing to match.
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Value::Null)
    }
    fn visit_str<E>(self, _: &str) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

fn datapoints(spec: &AlarmSpec) -> Datapoints {
    // The spec was validated, so its period is one CloudWatch accepts.
    Datapoints::new(spec.period_s).unwrap_or_else(|_| Datapoints::new(60).expect("60 s is a valid period"))
}

/// The record's top-driver values: `principal` is `userIdentity.arn`, else
/// `userIdentity.type:userIdentity.principalId`; a missing field is `-`.
fn drivers(record: &Value) -> [String; 5] {
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.chars().take(256).collect(),
        Some(Value::Null) | None => "-".to_string(),
        Some(other) => other.to_string().chars().take(256).collect(),
    };
    let identity = record.get("userIdentity");
    let principal = match identity.and_then(|i| i.get("arn")).and_then(Value::as_str) {
        Some(arn) => arn.chars().take(256).collect(),
        None => format!("{}:{}", text(identity.and_then(|i| i.get("type"))), text(identity.and_then(|i| i.get("principalId")))),
    };
    [text(record.get("eventName")), principal, text(record.get("sourceIPAddress")), text(record.get("awsRegion")), text(record.get("errorCode"))]
}

/// The replay's outcome, for the report.
pub struct Replayed {
    pub filters: Vec<FilterDef>,
    pub alarms: Vec<AlarmDef>,
    state: State,
}

impl Replayed {
    pub fn events(&self) -> u64 {
        self.state.events
    }
    pub fn events_without_time(&self) -> u64 {
        self.state.events_without_time
    }
    pub fn log_files(&self) -> u64 {
        self.state.log_files
    }
    pub fn unverified_log_files(&self) -> u64 {
        self.state.unverified_logs
    }
    pub fn not_cloudtrail_files(&self) -> u64 {
        self.state.unreadable_records
    }
    pub fn datapoints(&self, alarm: usize) -> &Datapoints {
        &self.state.datapoints[alarm]
    }
    pub fn alarm_matched(&self, alarm: usize) -> u64 {
        self.state.alarm_matched[alarm]
    }
    pub fn filter_matched(&self, filter: usize) -> u64 {
        self.state.filter_matched[filter]
    }

    /// At most `n` values per top field, by count, ties by value.
    /// In [`TOP_FIELDS`] order.
    pub fn top(&self, alarm: usize, n: usize) -> [Vec<(String, u64)>; 5] {
        self.state.top[alarm].each_ref().map(|counts| {
            let mut list: Vec<(String, u64)> = counts.iter().map(|(v, c)| (v.clone(), *c)).collect();
            list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            list.truncate(n);
            list
        })
    }

    /// Per (account, region): the parts of `range` whose log files were not all replayed: not
    /// covered by an authentic digest, or covered by one that lists a log file that did not verify.
    pub fn unverified_spans(&self, targets: &[(String, String)], range: (DateTime<Utc>, DateTime<Utc>)) -> Vec<(String, String, DateTime<Utc>, DateTime<Utc>)> {
        let mut spans = Vec::new();
        for target in targets {
            let mut covered = self.state.covered.get(target).cloned().unwrap_or_default();
            covered.sort();
            let mut holes: Vec<(DateTime<Utc>, DateTime<Utc>)> = gaps(&covered, range);
            holes.extend(self.state.holes.get(target).into_iter().flatten().map(|&(s, e)| (s.max(range.0), e.min(range.1))).filter(|(s, e)| s < e));
            for (s, e) in merge(holes) {
                spans.push((target.0.clone(), target.1.clone(), s, e));
            }
        }
        spans
    }
}

/// The parts of `range` no period in `sorted` covers.
fn gaps(sorted: &[(DateTime<Utc>, DateTime<Utc>)], range: (DateTime<Utc>, DateTime<Utc>)) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut gaps = Vec::new();
    let mut at = range.0;
    for &(s, e) in sorted {
        if s > at && at < range.1 {
            gaps.push((at, s.min(range.1)));
        }
        at = at.max(e);
    }
    if at < range.1 {
        gaps.push((at, range.1));
    }
    gaps
}

/// Overlapping or touching spans joined, in order.
fn merge(mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    spans.sort();
    let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::alarm::{Comparison, TreatMissingData};
    use crate::backtest::datapoints::Statistic;

    fn t(s: &str) -> DateTime<Utc> {
        crate::time::parse_user_time(s).unwrap()
    }

    fn definitions(default_value: Option<f64>, value: &str) -> Definitions {
        Definitions {
            filters: vec![FilterDef {
                log_group: "CloudTrail/audit".into(),
                filter_name: "denied".into(),
                pattern: r#"{ $.errorCode = "AccessDenied" }"#.into(),
                namespace: "Sec".into(),
                metric_name: "Denied".into(),
                metric_value: value.into(),
                default_value,
            }],
            alarms: vec![AlarmDef {
                alarm_name: "denied-storm".into(),
                namespace: "Sec".into(),
                metric_name: "Denied".into(),
                spec: AlarmSpec {
                    period_s: 300,
                    evaluation_periods: 1,
                    datapoints_to_alarm: None,
                    threshold: 3.0,
                    comparison: Comparison::GreaterThanOrEqualToThreshold,
                    statistic: Statistic::Sum,
                    treat_missing_data: TreatMissingData::Missing,
                },
            }],
            skipped: Vec::new(),
        }
    }

    fn log_file(records: &[(&str, &str, Option<&str>)]) -> Vec<u8> {
        let records: Vec<Value> = records
            .iter()
            .map(|(at, name, error)| serde_json::json!({"eventTime": at, "eventName": name, "errorCode": error, "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/dev/alice"}, "sourceIPAddress": "198.51.100.7", "awsRegion": "us-east-1"}))
            .collect();
        serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap()
    }

    #[test]
    fn matching_records_feed_their_alarms_datapoints_and_drivers() {
        let (replay, skipped) = Replay::new(definitions(None, "1"));
        assert!(skipped.is_empty());
        replay.replay_log_file(&log_file(&[
            ("2026-03-01T10:01:00Z", "GetObject", Some("AccessDenied")),
            ("2026-03-01T10:02:00Z", "PutObject", Some("AccessDenied")),
            ("2026-03-01T10:03:00Z", "GetObject", None),
            ("2026-03-01T10:06:00Z", "GetObject", Some("AccessDenied")),
        ]));
        let done = replay.finish();
        assert_eq!((done.events(), done.log_files(), done.alarm_matched(0), done.filter_matched(0)), (4, 1, 3, 3));
        let points: Vec<(i64, f64)> = done.datapoints(0).iter().map(|(start, agg)| (start.timestamp(), agg.statistic(Statistic::Sum))).collect();
        assert_eq!(points, [(t("2026-03-01T10:00:00Z").timestamp(), 2.0), (t("2026-03-01T10:05:00Z").timestamp(), 1.0)]);
        let top = done.top(0, 10);
        assert_eq!((TOP_FIELDS[0], top[0].clone()), ("eventName", vec![("GetObject".to_string(), 2), ("PutObject".to_string(), 1)]));
        assert_eq!((TOP_FIELDS[1], top[1].clone()), ("principal", vec![("arn:aws:sts::1:assumed-role/dev/alice".to_string(), 3)]));
    }

    #[test]
    fn default_values_go_to_non_matching_events_and_field_values_are_read() {
        let (replay, _) = Replay::new(definitions(Some(0.0), "1"));
        replay.replay_log_file(&log_file(&[("2026-03-01T10:01:00Z", "GetObject", None), ("2026-03-01T10:11:00Z", "GetObject", Some("AccessDenied"))]));
        let done = replay.finish();
        let counts: Vec<u64> = done.datapoints(0).iter().map(|(_, agg)| agg.statistic(Statistic::SampleCount) as u64).collect();
        assert_eq!(counts, [1, 1], "the default is a sample too");
        assert_eq!(done.alarm_matched(0), 1);
    }

    #[test]
    fn files_that_are_not_cloudtrail_logs_and_records_without_time_are_counted_apart() {
        let (replay, _) = Replay::new(definitions(None, "1"));
        replay.replay_log_file(b"not json");
        replay.replay_log_file(br#"{"Records":[{"eventName":"x","errorCode":"AccessDenied"}]}"#);
        let done = replay.finish();
        assert_eq!((done.not_cloudtrail_files(), done.events(), done.events_without_time()), (1, 0, 1));
    }

    #[test]
    fn records_are_reduced_to_what_the_filters_read_but_never_change_a_match() {
        let file = br#"{"Records":[{"eventTime":"2026-03-01T10:01:00Z","errorCode":"AccessDenied","requestParameters":{"note":"needle","deep":[1,{"x":2}]}}],"extra":{"ignored":true}}"#;
        let (json_only, _) = Replay::new(definitions(None, "1"));
        assert!(json_only.fields.as_ref().is_some_and(|f| !f.iter().any(|k| k == "requestParameters")));
        json_only.replay_log_file(file);
        assert_eq!(json_only.finish().alarm_matched(0), 1);
        // A term pattern reads the whole record's text: nothing may be left out.
        let mut defs = definitions(None, "1");
        defs.filters[0].pattern = "needle".into();
        let (terms, _) = Replay::new(defs);
        assert!(terms.fields.is_none());
        terms.replay_log_file(file);
        assert_eq!(terms.finish().alarm_matched(0), 1);
        // A field a JSON pattern names below the top level is kept whole.
        let mut defs = definitions(None, "$.requestParameters.deep[1].x");
        defs.filters[0].pattern = r#"{ $.requestParameters.note = "needle" }"#.into();
        let (nested, _) = Replay::new(defs);
        nested.replay_log_file(file);
        let done = nested.finish();
        assert_eq!(done.datapoints(0).iter().map(|(_, a)| a.sum).collect::<Vec<_>>(), [2.0]);
    }

    #[test]
    fn unparsable_filters_are_reported_not_dropped() {
        let mut defs = definitions(None, "$.nope nope");
        defs.filters[0].pattern = "{ $.a = ".into();
        let (_, skipped) = Replay::new(defs);
        assert_eq!(skipped.len(), 1);
        assert_eq!((skipped[0].kind, skipped[0].name.as_str()), ("filter", "denied"));
    }

    #[test]
    fn spans_without_verified_logs_are_the_range_minus_coverage_plus_bad_digests() {
        use crate::pipeline::Replay as _;
        let (replay, _) = Replay::new(definitions(None, "1"));
        let scope = Scope { account_id: "1".into(), region: "us-east-1".into() };
        replay.covered(&scope, t("2026-03-01T01:00:00Z"), t("2026-03-01T02:00:00Z"));
        replay.covered(&scope, t("2026-03-01T02:00:00Z"), t("2026-03-01T03:00:00Z"));
        replay.covered(&scope, t("2026-03-01T04:00:00Z"), t("2026-03-01T05:00:00Z"));
        replay.unverified(&scope, "k", (t("2026-03-01T02:00:00Z"), t("2026-03-01T03:00:00Z")));
        let done = replay.finish();
        let spans = done.unverified_spans(&[("1".into(), "us-east-1".into())], (t("2026-03-01T00:30:00Z"), t("2026-03-01T05:00:00Z")));
        let shown: Vec<(String, String)> = spans.iter().map(|s| (crate::time::display(s.2), crate::time::display(s.3))).collect();
        assert_eq!(shown, [
            ("2026-03-01T00:30:00Z".to_string(), "2026-03-01T01:00:00Z".to_string()),
            ("2026-03-01T02:00:00Z".to_string(), "2026-03-01T04:00:00Z".to_string()),
        ]);
    }
}
