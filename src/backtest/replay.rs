//! Replaying verified CloudTrail records through metric filters into the alarms' datapoints.
//!
//! The pipeline hands over each log file whose SHA-256 matched an authentic digest (and only
//! those: [`crate::pipeline::Replay`]). Each record is one log event at its `eventTime`, as
//! CloudTrail delivers it to CloudWatch Logs. Each filter publishes its metric value for a
//! matching event, or its `defaultValue` for a non-matching one; every alarm on that metric
//! (namespace and name) receives the value. Memory grows with the alarms' non-empty periods and
//! the distinct values of the top-driver fields (capped), never with the number of events.
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::alarm::AlarmSpec;
use super::datapoints::Datapoints;
use super::definitions::{AlarmDef, Definitions, FilterDef};
use super::record::{self, Fields, Json, WholeValue};
use crate::filter_pattern::{Emission, FilterPattern, JsonKind, JsonView, LogEvent, MetricValue};
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
    /// The parts of a record any filter, metric value or top-driver field reads; None when a
    /// term or space-delimited pattern reads the whole record's text.
    fields: Option<Fields>,
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
        let mut drivers = Fields::default();
        DRIVER_PATHS.iter().for_each(|path| drivers.add_keys(path));
        let mut fields = Some(drivers);
        for f in &filters {
            match (f.pattern.json_selectors(), &mut fields) {
                (Some(selectors), Some(all)) => {
                    selectors.into_iter().for_each(|steps| all.add(steps));
                    if let MetricValue::Json(path) = &f.value {
                        all.add(path.steps());
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
        (Replay { filters, alarms, fields, state: Mutex::new(state) }, skipped)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replays one verified log file's records (its inflated bytes). Each record is replayed as
    /// it is parsed; what it does is applied only once the whole file has parsed.
    pub fn replay_log_file(&self, inflated: &[u8]) {
        let mut file = FileHits::default();
        let read = match &self.fields {
            // JSON patterns only: records reduced to what they read, borrowed from the bytes.
            Some(fields) => record::read_records(inflated, fields, |r| match r {
                Some(json) => self.replay_record(&mut file, &json, |f| f.pattern.json_emission(&f.value, &json).unwrap_or(Emission::NotMatched)),
                None => file = FileHits::default(),
            }),
            // A pattern reads the record's text: whole records, as log events.
            None => record::read_log_file(inflated, WholeValue, |r| match r {
                Some(value) => {
                    let event = LogEvent::from_json(value);
                    let json = event.json().unwrap_or(&Value::Null);
                    self.replay_record(&mut file, json, |f| f.pattern.emission(&f.value, &event));
                }
                None => file = FileHits::default(),
            }),
        };
        let mut state = self.lock();
        if read.is_err() {
            state.unreadable_records += 1;
            return;
        }
        state.log_files += 1;
        state.events += file.events;
        state.events_without_time += file.without_time;
        for (a, at, v) in file.emissions {
            state.datapoints[a].push(at, v);
        }
        for f in file.filter_hits {
            state.filter_matched[f] += 1;
        }
        for (a, d) in file.alarm_hits {
            state.alarm_matched[a] += 1;
            for (counts, value) in state.top[a].iter_mut().zip(&file.drivers[d]) {
                let full = counts.len() >= MAX_DISTINCT && !counts.contains_key(value);
                match counts.get_mut(if full { "(other)" } else { value.as_str() }) {
                    Some(n) => *n += 1,
                    None => {
                        counts.insert(if full { "(other)".to_string() } else { value.clone() }, 1);
                    }
                }
            }
        }
    }

    /// Runs one record through every filter; `emission` evaluates a filter on it.
    fn replay_record<V: DriverFields + ?Sized>(&self, file: &mut FileHits, record: &V, emission: impl Fn(&Compiled) -> Emission) {
        let time = match record.key("eventTime").map(JsonView::kind) {
            Some(JsonKind::String(s)) => event_time(s),
            _ => None,
        };
        let Some(at) = time else {
            file.without_time += 1;
            return;
        };
        file.events += 1;
        let mut matched_alarms: Vec<usize> = Vec::new();
        for (f, filter) in self.filters.iter().enumerate() {
            let value = match emission(filter) {
                Emission::NotMatched => filter.def.default_value,
                Emission::Value(v) => {
                    file.filter_hits.push(f);
                    matched_alarms.extend(&filter.alarms);
                    Some(v)
                }
                Emission::NoValue => {
                    file.filter_hits.push(f);
                    matched_alarms.extend(&filter.alarms);
                    None
                }
            };
            if let Some(v) = value {
                file.emissions.extend(filter.alarms.iter().map(|&a| (a, at, v)));
            }
        }
        if matched_alarms.is_empty() {
            return;
        }
        matched_alarms.sort_unstable();
        matched_alarms.dedup();
        let d = file.drivers.len();
        file.drivers.push(drivers(record));
        file.alarm_hits.extend(matched_alarms.into_iter().map(|a| (a, d)));
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

/// What one log file's records did, worked out without the lock and applied under it in one go.
#[derive(Default)]
struct FileHits {
    emissions: Vec<(usize, DateTime<Utc>, f64)>,
    /// (alarm, index in `drivers`).
    alarm_hits: Vec<(usize, usize)>,
    drivers: Vec<[String; 5]>,
    filter_hits: Vec<usize>,
    events: u64,
    without_time: u64,
}

/// A record's `eventTime`, read as [`crate::time::parse_cloudtrail_time`] reads it: CloudTrail's
/// own form (`2026-03-01T05:17:42Z`) worked out directly (a tenth of chrono's RFC 3339 parse, once
/// per replayed record), anything else, or any doubt (a leap second), by chrono.
fn event_time(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let number = |at: usize, len: usize| b[at..at + len].iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')));
    if b.len() == 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':' && b[19] == b'Z' {
        if let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(sec @ 0..=59)) = (number(0, 4), number(5, 2), number(8, 2), number(11, 2), number(14, 2), number(17, 2)) {
            let at = chrono::NaiveDate::from_ymd_opt(y as i32, mo, d).and_then(|day| day.and_hms_opt(h, mi, sec));
            if let Some(at) = at {
                return Some(at.and_utc());
            }
        }
    }
    crate::time::parse_cloudtrail_time(s)
}

/// The record fields the top drivers read.
const DRIVER_PATHS: [&[&str]; 8] = [&["eventTime"], &["eventName"], &["userIdentity", "arn"], &["userIdentity", "type"], &["userIdentity", "principalId"], &["sourceIPAddress"], &["awsRegion"], &["errorCode"]];

/// A record as the top drivers read it: a JSON view that can also give a value's compact text.
trait DriverFields: JsonView {
    fn text(&self) -> String;
}

impl DriverFields for Value {
    fn text(&self) -> String {
        self.to_string()
    }
}

impl DriverFields for Json<'_> {
    fn text(&self) -> String {
        self.to_value().to_string()
    }
}
fn datapoints(spec: &AlarmSpec) -> Datapoints {
    // The spec was validated, so its period is one CloudWatch accepts.
    Datapoints::new(spec.period_s).unwrap_or_else(|_| Datapoints::new(60).expect("60 s is a valid period"))
}

/// The record's top-driver values: `principal` is `userIdentity.arn`, else
/// `userIdentity.type:userIdentity.principalId`; a missing field is `-`.
fn drivers<V: DriverFields + ?Sized>(record: &V) -> [String; 5] {
    let text = |v: Option<&V>| match v.map(|v| (v, v.kind())) {
        Some((_, JsonKind::String(s))) => s.chars().take(256).collect(),
        Some((_, JsonKind::Null)) | None => "-".to_string(),
        Some((other, _)) => other.text().chars().take(256).collect(),
    };
    let identity = record.key("userIdentity");
    let principal = match identity.and_then(|i| i.key("arn")).map(JsonView::kind) {
        Some(JsonKind::String(arn)) => arn.chars().take(256).collect(),
        _ => format!("{}:{}", text(identity.and_then(|i| i.key("type"))), text(identity.and_then(|i| i.key("principalId")))),
    };
    [text(record.key("eventName")), principal, text(record.key("sourceIPAddress")), text(record.key("awsRegion")), text(record.key("errorCode"))]
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
        assert!(json_only.fields.as_ref().is_some_and(|f| f.child("requestParameters").is_none() && f.child("errorCode").is_some()));
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
    fn event_times_read_as_chrono_reads_them() {
        let mut times = vec![
            "2026-03-01T05:17:42Z", "2024-02-29T23:59:59Z", "2026-02-29T00:00:00Z", "2026-12-31T23:59:60Z", "2026-03-01T24:00:00Z",
            "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-03-00T00:00:00Z",
            "2026-03-01T05:60:00Z", "2026-03-01t05:17:42z", "2026-03-01 05:17:42Z", "2026-03-01T05:17:42+01:00", "2026-03-01T05:17:42.5Z",
            "2026-03-01T05:17:4Z", "2026-03-01T05:17:42ZZ", "+026-03-01T05:17:42Z", "2026-03-01T05:17:-2Z", "", "garbage",
        ];
        let days: Vec<String> = (0..400).map(|d| format!("2026-{:02}-{:02}T{:02}:{:02}:{:02}Z", d % 14, d % 33, d % 25, d % 61, (d * 7) % 61)).collect();
        times.extend(days.iter().map(String::as_str));
        for s in times {
            assert_eq!(event_time(s), crate::time::parse_cloudtrail_time(s), "{s}");
        }
        assert!(event_time("2026-03-01T05:17:42Z").is_some());
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
