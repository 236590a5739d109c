//! CloudWatch metric alarm evaluation, replayed over a time range.
//!
//! [`evaluate`] steps through every period end of a range and computes the state the alarm would
//! have had, from the [`Datapoints`] of its metric; [`sweep`] repeats that at other thresholds.
//!
//! # Semantics
//!
//! AWS documents alarm evaluation in the CloudWatch User Guide, "Alarm evaluation" and
//! "Configuring how CloudWatch alarms treat missing data", section "How alarm state is evaluated
//! when data is missing" (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html>;
//! the same text and tables are in awsdocs/amazon-cloudwatch-user-guide,
//! `doc_source/AlarmThatSendsEmail.md`). Below, N is EvaluationPeriods, M is DatapointsToAlarm
//! (N when unset), "breaching" means the datapoint compares true against the threshold.
//!
//! **Periods and time**
//! * Periods are aligned to multiples of Period since the Unix epoch (see [`Datapoints`]); an
//!   emission at a boundary belongs to the period that starts there.
//! * The evaluated periods are those from the period containing the range's start to the last one
//!   that ends at or before the range's end. A range starting mid-period includes that whole
//!   period (the caller decides which emissions it passes). A range with no whole period is an
//!   error ([`SpecError::EmptyRange`]), not an empty result.
//! * The alarm is evaluated once at the end of each period, on the window that ends with that
//!   period. The state it yields is attributed to that period ("the state after period p"): the
//!   timeline shades the period that caused it, and it holds for one period, so
//!   `time_in_alarm_s` = (evaluations in ALARM) × Period. (Real CloudWatch evaluates a little after
//!   the period ends, once the datapoint is in; a backtest has all data, so it has no delay.)
//! * The state starts as INSUFFICIENT_DATA at the first evaluation. Windows of the first periods
//!   reach back before the range start; datapoints there count if the caller passed them (usually
//!   there are none, so the alarm starts as a new alarm on a new metric would).
//! * `alarm_entries` counts transitions into ALARM (from OK or INSUFFICIENT_DATA): each would run
//!   the alarm actions once, i.e. page someone. Staying in ALARM pages no one again.
//! * `breaching_periods` counts the periods in the range whose own datapoint breaches.
//! * `entries_per_week` = `alarm_entries` ÷ (range seconds ÷ 604,800), with the range as given
//!   (end − start), not rounded to periods.
//!
//! **The evaluation range** (where AWS is silent, our model)
//! * AWS: "CloudWatch attempts to retrieve a higher number of data points than specified by
//!   Evaluation Periods. The exact number ... depends on the length of the alarm period and
//!   whether it is based on a metric with standard resolution or high resolution"; its tables use
//!   5 for N = 3. We model the evaluation range as the last N + [`EXTRA_RANGE_PERIODS`] (= N + 2)
//!   periods for every Period ([`evaluation_range`]).
//! * A consequence AWS documents as well ("alarms may repeatedly re-evaluate the last set of data
//!   points for a period of time after the metric has stopped flowing"): with a sparse metric a
//!   breaching datapoint keeps counting for up to N + 2 evaluations. For the common CloudTrail alarm
//!   (Sum ≥ 1, 1 of 1, missing) one breaching period gives one entry into ALARM and three periods
//!   in ALARM, then INSUFFICIENT_DATA; two breaches up to two empty periods apart are one entry.
//!
//! **Each evaluation**, with k real datapoints among the range's R periods:
//! 1. k = 0, the whole range missing: `missing` → INSUFFICIENT_DATA, `ignore` → the state is kept,
//!    `breaching` → ALARM, `notBreaching` → OK (AWS's table, row "- - - - -").
//! 2. k ≥ N: the N most recent real datapoints are evaluated and TreatMissingData is not used
//!    (AWS: "the value you set for how to treat missing data is not needed and is ignored").
//!    ALARM when at least M breach, else OK.
//! 3. 0 < k < N, N − k missing datapoints are filled ("as few times as possible"), b real ones
//!    breach:
//!    * `breaching`: ALARM when b + (N − k) ≥ M, else OK.
//!    * `notBreaching`: ALARM when b ≥ M, else OK.
//!    * `missing` and `ignore` (AWS documents these only by example; this rule reproduces every row
//!      of both its tables): ALARM when b ≥ M (decided whatever the fill); else OK when any real
//!      datapoint does not breach (AWS's rows "0 - - - -", "0 - X - -", "- - - - 0"); else, all
//!      real datapoints breaching but fewer than M: `ignore` keeps the state; `missing` is ALARM
//!      when the oldest *evaluated* datapoint is real, else INSUFFICIENT_DATA. The evaluated
//!      datapoints are the k real ones plus the N − k most recent missing periods. This is AWS's
//!      own explanation of its row "X - - - -" (ALARM "because the oldest evaluated data point is
//!      breaching and there aren't any non-breaching data points"), against "- - - - X"
//!      (INSUFFICIENT_DATA). So with N > 1 a lone breach on a sparse metric can enter ALARM a few
//!      periods after it happened, once it is the oldest evaluated datapoint; with N = 1 this case
//!      cannot occur.
//!
//! **Inputs**
//! * Statistics: Sum, SampleCount, Average, Minimum, Maximum. Percentiles and other extended
//!   statistics are refused ([`SpecError::UnsupportedStatistic`]), as are the anomaly-detection
//!   comparisons ([`SpecError::UnsupportedComparison`]): they need a model band, not a threshold.
//! * Period must be 10, 20, 30 or a multiple of 60 (PutMetricAlarm's rule); EvaluationPeriods at
//!   least 1; DatapointsToAlarm from 1 to EvaluationPeriods; the threshold finite.
//! * A value equal to the threshold breaches `>=` and `<=`, not `>` and `<`.
//!
//! **Cost**: one step per non-empty period and the N + 1 periods after it; stretches whose whole
//! range is missing are jumped in one step, so a year at 60 s periods (525,600 periods) with
//! sparse data costs about as much as its datapoints. The per-period timeline is not stored:
//! [`Evaluation::spans`] holds the states run-length encoded (bounded by the number of state
//! changes), and [`Evaluation::timeline`] expands it lazily, one [`PeriodState`] per period, for
//! a chart that wants every period (525,600 items for a year at 60 s: a renderer should downsample).
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::datapoints::{at_unix, Datapoints, Statistic};

/// Periods retrieved beyond EvaluationPeriods at each evaluation (our model of AWS's "evaluation
/// range": its documented example retrieves 5 datapoints for 3 evaluation periods).
pub const EXTRA_RANGE_PERIODS: u32 = 2;

const SECONDS_PER_WEEK: f64 = 604_800.0;

/// Why an alarm cannot be evaluated. Each message says what was wrong and what is accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    #[error("alarm statistic '{value}' is not supported: backtest replays Sum, SampleCount, Average, Minimum and Maximum (not percentiles or other extended statistics)")]
    UnsupportedStatistic { value: String },
    #[error("alarm comparison '{value}' is not supported: anomaly-detection alarms compare against a model band, which backtest cannot replay; use a static threshold comparison")]
    UnsupportedComparison { value: String },
    #[error("alarm comparison '{value}' is unknown: use GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold or LessThanOrEqualToThreshold")]
    UnknownComparison { value: String },
    #[error("alarm TreatMissingData '{value}' is unknown: use missing, ignore, breaching or notBreaching")]
    UnknownTreatMissingData { value: String },
    #[error("alarm period {period_s} s is invalid: CloudWatch takes 10, 20, 30 or a multiple of 60 seconds")]
    InvalidPeriod { period_s: u32 },
    #[error("alarm EvaluationPeriods {evaluation_periods} is invalid: it must be at least 1")]
    InvalidEvaluationPeriods { evaluation_periods: u32 },
    #[error("alarm DatapointsToAlarm {datapoints_to_alarm} is invalid: it must be from 1 to EvaluationPeriods ({evaluation_periods})")]
    InvalidDatapointsToAlarm { datapoints_to_alarm: u32, evaluation_periods: u32 },
    #[error("alarm threshold {threshold} is invalid: it must be a finite number")]
    InvalidThreshold { threshold: f64 },
    #[error("datapoints aggregated per {datapoints_period_s} s cannot evaluate an alarm with period {alarm_period_s} s: aggregate the emissions with the alarm's period")]
    PeriodMismatch { alarm_period_s: u32, datapoints_period_s: u32 },
    #[error("backtest range {start} to {end} holds no whole period of {period_s} s: widen the range")]
    EmptyRange { start: DateTime<Utc>, end: DateTime<Utc>, period_s: u32 },
}

/// PutMetricAlarm's rule for Period.
pub(crate) fn check_period(period_s: u32) -> Result<(), SpecError> {
    if matches!(period_s, 10 | 20 | 30) || (period_s > 0 && period_s % 60 == 0) {
        Ok(())
    } else {
        Err(SpecError::InvalidPeriod { period_s })
    }
}

/// `ComparisonOperator` of a static-threshold alarm: `datapoint <op> threshold` breaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub enum Comparison {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
}

impl Comparison {
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            Comparison::GreaterThanThreshold => "GreaterThanThreshold",
            Comparison::LessThanThreshold => "LessThanThreshold",
            Comparison::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
        }
    }

    /// Whether `value` breaches `threshold`.
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterThanOrEqualToThreshold => value >= threshold,
            Comparison::GreaterThanThreshold => value > threshold,
            Comparison::LessThanThreshold => value < threshold,
            Comparison::LessThanOrEqualToThreshold => value <= threshold,
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Comparison {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        Ok(match s {
            "GreaterThanOrEqualToThreshold" => Comparison::GreaterThanOrEqualToThreshold,
            "GreaterThanThreshold" => Comparison::GreaterThanThreshold,
            "LessThanThreshold" => Comparison::LessThanThreshold,
            "LessThanOrEqualToThreshold" => Comparison::LessThanOrEqualToThreshold,
            "LessThanLowerOrGreaterThanUpperThreshold" | "LessThanLowerThreshold" | "GreaterThanUpperThreshold" => {
                return Err(SpecError::UnsupportedComparison { value: s.to_string() })
            }
            other => return Err(SpecError::UnknownComparison { value: other.to_string() }),
        })
    }
}

impl<'de> Deserialize<'de> for Comparison {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// `TreatMissingData`: how periods without a datapoint count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TreatMissingData {
    /// AWS's default.
    #[default]
    Missing,
    Ignore,
    Breaching,
    NotBreaching,
}

impl TreatMissingData {
    pub fn as_str(self) -> &'static str {
        match self {
            TreatMissingData::Missing => "missing",
            TreatMissingData::Ignore => "ignore",
            TreatMissingData::Breaching => "breaching",
            TreatMissingData::NotBreaching => "notBreaching",
        }
    }
}

impl fmt::Display for TreatMissingData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TreatMissingData {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        Ok(match s {
            "missing" => TreatMissingData::Missing,
            "ignore" => TreatMissingData::Ignore,
            "breaching" => TreatMissingData::Breaching,
            "notBreaching" => TreatMissingData::NotBreaching,
            other => return Err(SpecError::UnknownTreatMissingData { value: other.to_string() }),
        })
    }
}

impl<'de> Deserialize<'de> for TreatMissingData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// An alarm's state, spelled as AWS's `StateValue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

impl fmt::Display for AlarmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The settings of a static-threshold metric alarm that decide its state. Field names are the
/// report's (snake_case); AWS's PutMetricAlarm names are accepted as aliases when reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AlarmSpec {
    /// `Period`, in seconds.
    #[serde(alias = "Period")]
    pub period_s: u32,
    /// `EvaluationPeriods` (N).
    #[serde(alias = "EvaluationPeriods")]
    pub evaluation_periods: u32,
    /// `DatapointsToAlarm` (M); EvaluationPeriods when unset.
    #[serde(default, alias = "DatapointsToAlarm")]
    pub datapoints_to_alarm: Option<u32>,
    #[serde(alias = "Threshold")]
    pub threshold: f64,
    #[serde(alias = "ComparisonOperator")]
    pub comparison: Comparison,
    #[serde(alias = "Statistic")]
    pub statistic: Statistic,
    #[serde(default, alias = "TreatMissingData")]
    pub treat_missing_data: TreatMissingData,
}

impl AlarmSpec {
    /// M: DatapointsToAlarm, or EvaluationPeriods when unset.
    pub fn effective_datapoints_to_alarm(&self) -> u32 {
        self.datapoints_to_alarm.unwrap_or(self.evaluation_periods)
    }

    /// Checks the settings as PutMetricAlarm would.
    pub fn validate(&self) -> Result<(), SpecError> {
        check_period(self.period_s)?;
        if self.evaluation_periods == 0 {
            return Err(SpecError::InvalidEvaluationPeriods { evaluation_periods: self.evaluation_periods });
        }
        let m = self.effective_datapoints_to_alarm();
        if m == 0 || m > self.evaluation_periods {
            return Err(SpecError::InvalidDatapointsToAlarm { datapoints_to_alarm: m, evaluation_periods: self.evaluation_periods });
        }
        if !self.threshold.is_finite() {
            return Err(SpecError::InvalidThreshold { threshold: self.threshold });
        }
        Ok(())
    }
}

/// The number of most recent periods retrieved at each evaluation (our model: N + 2).
pub fn evaluation_range(spec: &AlarmSpec) -> u32 {
    spec.evaluation_periods.saturating_add(EXTRA_RANGE_PERIODS)
}

/// A run of consecutive periods whose evaluations gave the same state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StateSpan {
    /// Start of the first period of the run.
    #[schemars(with = "String")]
    pub start: DateTime<Utc>,
    /// End of the last period of the run.
    #[schemars(with = "String")]
    pub end: DateTime<Utc>,
    pub state: AlarmState,
}

/// One period of the timeline: its datapoint (the statistic's value, if it received any emission)
/// and the state evaluated at its end.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PeriodState {
    #[schemars(with = "String")]
    pub start: DateTime<Utc>,
    pub datapoint: Option<f64>,
    pub state: AlarmState,
}

/// What the alarm would have done over the range.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Evaluation {
    pub period_s: u32,
    pub statistic: Statistic,
    /// Periods evaluated (one evaluation at the end of each).
    pub periods: u64,
    /// Transitions into ALARM: each would run the alarm actions once.
    pub alarm_entries: u64,
    /// Periods in the range whose own datapoint breaches the threshold.
    pub breaching_periods: u64,
    /// Evaluations in ALARM × Period.
    pub time_in_alarm_s: u64,
    /// `alarm_entries` per 604,800 s of the range as given.
    pub entries_per_week: f64,
    /// The states, run-length encoded, oldest first; together they cover every evaluated period.
    pub spans: Vec<StateSpan>,
}

impl Evaluation {
    /// Every evaluated period, oldest first, with its datapoint and state, computed lazily from
    /// [`Evaluation::spans`] and the datapoints the evaluation was made from.
    pub fn timeline<'a>(&'a self, datapoints: &'a Datapoints) -> impl Iterator<Item = PeriodState> + 'a {
        let period = i64::from(self.period_s);
        let statistic = self.statistic;
        self.spans.iter().flat_map(move |span| {
            let first = span.start.timestamp().div_euclid(period);
            let end = span.end.timestamp().div_euclid(period);
            (first..end).map(move |i| PeriodState {
                start: at_unix(i.saturating_mul(period)),
                datapoint: datapoints.aggregate(i).map(|a| a.statistic(statistic)),
                state: span.state,
            })
        })
    }
}

/// One threshold of a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SweepPoint {
    pub threshold: f64,
    pub alarm_entries: u64,
}

/// Replays the alarm over every period of `range` (start, end). See the module documentation for
/// the semantics.
pub fn evaluate(spec: &AlarmSpec, datapoints: &Datapoints, range: (DateTime<Utc>, DateTime<Utc>)) -> Result<Evaluation, SpecError> {
    spec.validate()?;
    if datapoints.period_s() != spec.period_s {
        return Err(SpecError::PeriodMismatch { alarm_period_s: spec.period_s, datapoints_period_s: datapoints.period_s() });
    }
    let (start, end) = range;
    let period = i64::from(spec.period_s);
    let first = start.timestamp().div_euclid(period);
    // Periods with index below this end at or before `end`.
    let end_index = end.timestamp().div_euclid(period);
    if end_index <= first {
        return Err(SpecError::EmptyRange { start, end, period_s: spec.period_s });
    }

    let mut run = Run::new(period);
    let reach = i64::from(evaluation_range(spec)) - 1;
    let mut i = first;
    // One buffer for every window: a year at 60 s is 525,600 windows.
    let mut window = Vec::with_capacity(evaluation_range(spec) as usize);
    while i < end_index {
        fill_window(&mut window, spec, datapoints, i, reach);
        if window.is_empty() {
            // Every period end until the next datapoint has a wholly missing range: one step.
            let next = datapoints.next_after(i).map_or(end_index, |d| d.min(end_index));
            let state = whole_range_missing(spec.treat_missing_data, run.state);
            run.record(i, next - i, state);
            i = next;
            continue;
        }
        if window.last().is_some_and(|&(j, breaching)| j == i && breaching) {
            run.breaching_periods += 1;
        }
        let state = evaluate_window(spec, &window, i, reach, run.state);
        run.record(i, 1, state);
        i += 1;
    }

    let range_s = (end - start).num_milliseconds() as f64 / 1000.0;
    Ok(Evaluation {
        period_s: spec.period_s,
        statistic: spec.statistic,
        periods: (end_index - first) as u64,
        alarm_entries: run.entries,
        breaching_periods: run.breaching_periods,
        time_in_alarm_s: run.alarm_periods.saturating_mul(u64::from(spec.period_s)),
        entries_per_week: run.entries as f64 / (range_s / SECONDS_PER_WEEK),
        spans: run.spans,
    })
}

/// The alarm entries at each threshold, in the order given; the rest of `spec` unchanged.
pub fn sweep(spec: &AlarmSpec, datapoints: &Datapoints, range: (DateTime<Utc>, DateTime<Utc>), thresholds: &[f64]) -> Result<Vec<SweepPoint>, SpecError> {
    thresholds
        .iter()
        .map(|&threshold| {
            let at = AlarmSpec { threshold, ..spec.clone() };
            evaluate(&at, datapoints, range).map(|e| SweepPoint { threshold, alarm_entries: e.alarm_entries })
        })
        .collect()
}

/// The real datapoints of the range ending with period `i`, as (index, breaching), oldest first.
fn fill_window(window: &mut Vec<(i64, bool)>, spec: &AlarmSpec, datapoints: &Datapoints, i: i64, reach: i64) {
    window.clear();
    window.extend(
        datapoints
            .between(i.saturating_sub(reach), i)
            .map(|(j, a)| (j, spec.comparison.breaches(a.statistic(spec.statistic), spec.threshold))),
    );
}

/// The state of one evaluation at the end of period `i`, from state `current` (one step of
/// [`evaluate`], without its jumps over missing stretches).
#[cfg(test)]
fn state_at(spec: &AlarmSpec, datapoints: &Datapoints, i: i64, current: AlarmState) -> AlarmState {
    let reach = i64::from(evaluation_range(spec)) - 1;
    let mut window = Vec::new();
    fill_window(&mut window, spec, datapoints, i, reach);
    if window.is_empty() {
        whole_range_missing(spec.treat_missing_data, current)
    } else {
        evaluate_window(spec, &window, i, reach, current)
    }
}

fn whole_range_missing(treat: TreatMissingData, current: AlarmState) -> AlarmState {
    match treat {
        TreatMissingData::Missing => AlarmState::InsufficientData,
        TreatMissingData::Ignore => current,
        TreatMissingData::Breaching => AlarmState::Alarm,
        TreatMissingData::NotBreaching => AlarmState::Ok,
    }
}

/// One evaluation at the end of period `i`, on the real datapoints `window` (index, breaching;
/// oldest first, non-empty) of the range `i - reach ..= i`.
fn evaluate_window(spec: &AlarmSpec, window: &[(i64, bool)], i: i64, reach: i64, current: AlarmState) -> AlarmState {
    let n = spec.evaluation_periods as usize;
    let m = spec.effective_datapoints_to_alarm() as usize;
    let verdict = |breaches: usize| if breaches >= m { AlarmState::Alarm } else { AlarmState::Ok };
    let k = window.len();
    if k >= n {
        return verdict(window[k - n..].iter().filter(|&&(_, b)| b).count());
    }
    let fill = n - k;
    let breaches = window.iter().filter(|&&(_, b)| b).count();
    match spec.treat_missing_data {
        TreatMissingData::Breaching => verdict(breaches + fill),
        TreatMissingData::NotBreaching => verdict(breaches),
        TreatMissingData::Missing | TreatMissingData::Ignore => {
            if breaches >= m {
                AlarmState::Alarm
            } else if breaches < k {
                AlarmState::Ok
            } else if spec.treat_missing_data == TreatMissingData::Ignore {
                current
            } else if window[0].0 < oldest_filled(window, i, reach, fill) {
                AlarmState::Alarm
            } else {
                AlarmState::InsufficientData
            }
        }
    }
}

/// The oldest of the `fill` most recent missing periods of the range `i - reach ..= i`.
fn oldest_filled(window: &[(i64, bool)], i: i64, reach: i64, fill: usize) -> i64 {
    let mut real = window.iter().rev().map(|&(j, _)| j).peekable();
    let mut taken = 0;
    let mut j = i;
    // The range has reach + 1 = N + 2 periods and k < N of them are real, so at least
    // fill + 2 are missing: the loop always finds `fill` of them inside the range.
    while j >= i - reach {
        if real.peek() == Some(&j) {
            real.next();
        } else {
            taken += 1;
            if taken == fill {
                return j;
            }
        }
        j -= 1;
    }
    i - reach
}

/// The running totals of one evaluation.
struct Run {
    period: i64,
    state: AlarmState,
    entries: u64,
    breaching_periods: u64,
    alarm_periods: u64,
    spans: Vec<StateSpan>,
}

impl Run {
    fn new(period: i64) -> Self {
        Run { period, state: AlarmState::InsufficientData, entries: 0, breaching_periods: 0, alarm_periods: 0, spans: Vec::new() }
    }

    /// `count` consecutive evaluations, from the end of period `from`, all giving `state`.
    fn record(&mut self, from: i64, count: i64, state: AlarmState) {
        if state == AlarmState::Alarm {
            if self.state != AlarmState::Alarm {
                self.entries += 1;
            }
            self.alarm_periods += count as u64;
        }
        self.state = state;
        let end = at_unix((from + count).saturating_mul(self.period));
        match self.spans.last_mut() {
            Some(last) if last.state == state => last.end = end,
            _ => self.spans.push(StateSpan { start: at_unix(from.saturating_mul(self.period)), end, state }),
        }
    }
}

#[cfg(test)]
mod tests;
