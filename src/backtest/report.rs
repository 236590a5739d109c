//! The backtest's report: one model (`BacktestReport`, which is also the JSON document), written
//! as text, JSON or a self-contained HTML page.
use std::io::{self, Write};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;

use super::alarm::{evaluate, sweep, AlarmState, Evaluation, SweepPoint};
use super::definitions::FilterDef;
use super::replay::{NotReplayed, Replayed};
use crate::report::json::Span;
use crate::report::schema::Version;
use crate::report::Verdict;

/// Most values listed per top-driver field.
pub const TOP_N: usize = 10;

#[derive(Debug, Serialize, JsonSchema)]
pub struct BacktestReport {
    pub schema_version: Version<{ crate::report::schema::BACKTEST }>,
    pub trail_arn: String,
    pub requested: Span,
    pub evidence: Evidence,
    pub alarms: Vec<AlarmResult>,
    pub filters_without_alarm: Vec<FilterWithoutAlarm>,
    /// Filters and alarms that could not be replayed (a pattern that does not parse, a
    /// metric-math alarm, an extended statistic …), with why.
    pub not_replayed: Vec<NotReplayed>,
}

/// What the replay stood on.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Evidence {
    /// validate-logs' verdict on the same evidence.
    pub verdict: Verdict,
    pub log_files_replayed: u64,
    /// Log files authentic digests list that did not verify: never replayed.
    pub log_files_unverified: u64,
    pub events_replayed: u64,
    /// Spans of the range whose log files were not all replayed (no authentic digest covers
    /// them, or one that does lists a log file that did not verify).
    pub unverified_spans: Vec<RegionSpan>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RegionSpan {
    pub account_id: String,
    pub region: String,
    pub start_time: String,
    pub end_time: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AlarmResult {
    pub alarm_name: String,
    pub namespace: String,
    pub metric_name: String,
    pub filters: Vec<FilterDef>,
    pub statistic: String,
    pub period_s: u32,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    pub threshold: f64,
    pub comparison: String,
    pub treat_missing_data: String,
    /// Replayed events that any of the alarm's filters matched.
    pub matched_events: u64,
    pub breaching_periods: u64,
    /// Transitions into ALARM: each would have run the alarm's actions (paged someone).
    pub alarm_entries: u64,
    pub time_in_alarm_s: u64,
    pub entries_per_week: f64,
    /// Per field, at most 10 `[value, count]`, by count, ties by value.
    pub top: Top,
    pub sweep: Vec<SweepPoint>,
    /// Per period: start, datapoint, state (for the HTML timeline); not in the JSON.
    #[serde(skip)]
    #[schemars(skip)]
    pub timeline: Vec<(DateTime<Utc>, Option<f64>, AlarmState)>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[allow(non_snake_case)] // CloudTrail's own field names
pub struct Top {
    pub eventName: Vec<(String, u64)>,
    pub principal: Vec<(String, u64)>,
    pub sourceIPAddress: Vec<(String, u64)>,
    pub awsRegion: Vec<(String, u64)>,
    pub errorCode: Vec<(String, u64)>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FilterWithoutAlarm {
    pub filter_name: String,
    pub log_group: String,
    pub matched_events: u64,
}

/// Everything the report is built from besides the replay.
pub struct Inputs<'a> {
    pub trail_arn: &'a str,
    pub range: (DateTime<Utc>, DateTime<Utc>),
    pub verdict: Verdict,
    /// (account, region) of every target.
    pub targets: &'a [(String, String)],
    pub thresholds: &'a [f64],
    pub not_replayed: Vec<NotReplayed>,
}

/// Evaluates every alarm over the range and assembles the report.
pub fn build(replayed: &Replayed, inputs: Inputs<'_>) -> BacktestReport {
    let range = inputs.range;
    let mut not_replayed = inputs.not_replayed;
    let mut alarms = Vec::new();
    for (i, def) in replayed.alarms.iter().enumerate() {
        let points = replayed.datapoints(i);
        let evaluation: Evaluation = match evaluate(&def.spec, points, range) {
            Ok(e) => e,
            Err(e) => {
                not_replayed.push(NotReplayed { kind: "alarm", name: def.alarm_name.clone(), reason: e.to_string() });
                continue;
            }
        };
        let swept = sweep(&def.spec, points, range, inputs.thresholds).unwrap_or_default();
        let [event_name, principal, source_ip, region, error_code] = replayed.top(i, TOP_N);
        let top = Top { eventName: event_name, principal, sourceIPAddress: source_ip, awsRegion: region, errorCode: error_code };
        let s = &def.spec;
        alarms.push(AlarmResult {
            alarm_name: def.alarm_name.clone(),
            namespace: def.namespace.clone(),
            metric_name: def.metric_name.clone(),
            filters: replayed.filters.iter().filter(|f| f.namespace == def.namespace && f.metric_name == def.metric_name).cloned().collect(),
            statistic: s.statistic.as_str().to_string(),
            period_s: s.period_s,
            evaluation_periods: s.evaluation_periods,
            datapoints_to_alarm: s.effective_datapoints_to_alarm(),
            threshold: s.threshold,
            comparison: s.comparison.as_str().to_string(),
            treat_missing_data: s.treat_missing_data.as_str().to_string(),
            matched_events: replayed.alarm_matched(i),
            breaching_periods: evaluation.breaching_periods,
            alarm_entries: evaluation.alarm_entries,
            time_in_alarm_s: evaluation.time_in_alarm_s,
            entries_per_week: evaluation.entries_per_week,
            top,
            sweep: swept,
            timeline: evaluation.timeline(points).map(|p| (p.start, p.datapoint, p.state)).collect(),
        });
    }
    alarms.sort_by(|a, b| a.alarm_name.cmp(&b.alarm_name));
    let filters_without_alarm = replayed
        .filters
        .iter()
        .enumerate()
        .filter(|(_, f)| !replayed.alarms.iter().any(|a| a.namespace == f.namespace && a.metric_name == f.metric_name))
        .map(|(i, f)| FilterWithoutAlarm { filter_name: f.filter_name.clone(), log_group: f.log_group.clone(), matched_events: replayed.filter_matched(i) })
        .collect();
    let show = crate::time::display;
    BacktestReport {
        schema_version: Version,
        trail_arn: inputs.trail_arn.to_string(),
        requested: Span { start_time: show(range.0), end_time: show(range.1) },
        evidence: Evidence {
            verdict: inputs.verdict,
            log_files_replayed: replayed.log_files(),
            log_files_unverified: replayed.unverified_log_files(),
            events_replayed: replayed.events(),
            unverified_spans: replayed
                .unverified_spans(inputs.targets, range)
                .into_iter()
                .map(|(account_id, region, s, e)| RegionSpan { account_id, region, start_time: show(s), end_time: show(e) })
                .collect(),
        },
        alarms,
        filters_without_alarm,
        not_replayed,
    }
}

impl BacktestReport {
    /// The exit status: 0 on fully verified evidence, 1 when the evidence has error findings
    /// (the backtest still ran, on the verified part), 3 when it is incomplete.
    pub fn exit_code(&self) -> i32 {
        self.evidence.verdict.exit_code()
    }
}

pub fn write_json(report: &BacktestReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// For people: one block per alarm, busiest first.
pub fn write_text(report: &BacktestReport, out: &mut dyn Write) -> io::Result<()> {
    let e = &report.evidence;
    writeln!(out, "Backtest of trail {} from {} to {}", report.trail_arn, report.requested.start_time, report.requested.end_time)?;
    writeln!(out, "Evidence: {} ({} log files replayed, {} events; {} log files not verified, never replayed)", e.verdict.as_str(), e.log_files_replayed, e.events_replayed, e.log_files_unverified)?;
    for s in &e.unverified_spans {
        writeln!(out, "  not replayed: {} {} {} to {}", s.account_id, s.region, s.start_time, s.end_time)?;
    }
    let mut order: Vec<&AlarmResult> = report.alarms.iter().collect();
    order.sort_by(|a, b| b.alarm_entries.cmp(&a.alarm_entries).then_with(|| a.alarm_name.cmp(&b.alarm_name)));
    for a in order {
        writeln!(out)?;
        writeln!(out, "{}  ({} {}/{} {} {} per {} s, {} of {}, missing data: {})", a.alarm_name, a.statistic, a.namespace, a.metric_name, a.comparison, a.threshold, a.period_s, a.datapoints_to_alarm, a.evaluation_periods, a.treat_missing_data)?;
        writeln!(out, "  would have paged {} times ({:.2} per week); {} events matched, {} breaching periods, {} s in ALARM", a.alarm_entries, a.entries_per_week, a.matched_events, a.breaching_periods, a.time_in_alarm_s)?;
        for (field, list) in [("eventName", &a.top.eventName), ("principal", &a.top.principal), ("sourceIPAddress", &a.top.sourceIPAddress), ("errorCode", &a.top.errorCode)] {
            if !list.is_empty() {
                let shown: Vec<String> = list.iter().take(3).map(|(v, n)| format!("{v} ({n})")).collect();
                writeln!(out, "  top {field}: {}", shown.join(", "))?;
            }
        }
        if !a.sweep.is_empty() {
            let shown: Vec<String> = a.sweep.iter().map(|p| format!("{} → {}", p.threshold, p.alarm_entries)).collect();
            writeln!(out, "  threshold sweep (threshold → pages): {}", shown.join(", "))?;
        }
    }
    for f in &report.filters_without_alarm {
        writeln!(out, "\nFilter {} ({}) has no alarm: {} events matched", f.filter_name, f.log_group, f.matched_events)?;
    }
    for n in &report.not_replayed {
        writeln!(out, "\nNot replayed: {} {}: {}", n.kind, n.name, n.reason)?;
    }
    Ok(())
}
