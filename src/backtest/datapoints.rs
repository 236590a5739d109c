//! Metric datapoints: emitted values aggregated into an alarm's periods.
//!
//! A period is `[k × Period, (k + 1) × Period)` seconds since the Unix epoch, as CloudWatch aligns
//! an alarm's periods. An emission at exactly `k × Period` belongs to the period that starts there.
//! Sub-second parts of a timestamp never move it across a boundary (boundaries are whole seconds).
//! Emissions may come in any order. Memory grows with the number of periods that received at least
//! one value, never with the number of emissions: a period with no emission has no datapoint.
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::alarm::{check_period, SpecError};

/// The statistic an alarm reads from each period's values (`Statistic` in PutMetricAlarm).
/// Percentiles and other extended statistics (`p99`, `tm90`, ...) are not supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
pub enum Statistic {
    Sum,
    SampleCount,
    Average,
    Minimum,
    Maximum,
}

impl Statistic {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::Sum => "Sum",
            Statistic::SampleCount => "SampleCount",
            Statistic::Average => "Average",
            Statistic::Minimum => "Minimum",
            Statistic::Maximum => "Maximum",
        }
    }
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Statistic {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, SpecError> {
        Ok(match s {
            "Sum" => Statistic::Sum,
            "SampleCount" => Statistic::SampleCount,
            "Average" => Statistic::Average,
            "Minimum" => Statistic::Minimum,
            "Maximum" => Statistic::Maximum,
            other => return Err(SpecError::UnsupportedStatistic { value: other.to_string() }),
        })
    }
}

impl<'de> Deserialize<'de> for Statistic {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// What one period received: enough to compute every supported statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aggregate {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

impl Aggregate {
    fn new(value: f64) -> Self {
        Aggregate { count: 1, sum: value, min: value, max: value }
    }

    fn add(&mut self, value: f64) {
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// The datapoint the alarm sees for this period.
    pub fn statistic(&self, statistic: Statistic) -> f64 {
        match statistic {
            Statistic::Sum => self.sum,
            // u64 → f64 is exact below 2^53 emissions in one period.
            Statistic::SampleCount => self.count as f64,
            Statistic::Average => self.sum / self.count as f64,
            Statistic::Minimum => self.min,
            Statistic::Maximum => self.max,
        }
    }
}

/// Emitted metric values aggregated per period of `period_s` seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Datapoints {
    period_s: u32,
    /// Period index (period start ÷ `period_s`) → what it received.
    periods: BTreeMap<i64, Aggregate>,
    dropped: u64,
}

impl Datapoints {
    /// No datapoints yet; `period_s` as an alarm's Period (10, 20, 30 or a multiple of 60).
    pub fn new(period_s: u32) -> Result<Self, SpecError> {
        check_period(period_s)?;
        Ok(Datapoints { period_s, periods: BTreeMap::new(), dropped: 0 })
    }

    /// Aggregates a stream of `(timestamp, value)` emissions, in any order.
    pub fn from_emissions<I>(period_s: u32, emissions: I) -> Result<Self, SpecError>
    where
        I: IntoIterator<Item = (DateTime<Utc>, f64)>,
    {
        let mut points = Datapoints::new(period_s)?;
        for (at, value) in emissions {
            points.push(at, value);
        }
        Ok(points)
    }

    /// Adds one emission. NaN and infinite values are not valid metric values (PutMetricData
    /// refuses them): they are dropped, counted in [`Datapoints::dropped`], and `false` is returned.
    pub fn push(&mut self, at: DateTime<Utc>, value: f64) -> bool {
        if !value.is_finite() {
            self.dropped += 1;
            return false;
        }
        self.periods
            .entry(self.index_of(at.timestamp()))
            .and_modify(|a| a.add(value))
            .or_insert_with(|| Aggregate::new(value));
        true
    }

    pub fn period_s(&self) -> u32 {
        self.period_s
    }

    /// Emissions refused as NaN or infinite.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Periods that received at least one value.
    pub fn len(&self) -> usize {
        self.periods.len()
    }

    pub fn is_empty(&self) -> bool {
        self.periods.is_empty()
    }

    /// The aggregate of the period containing `at`, if it received any value.
    pub fn get(&self, at: DateTime<Utc>) -> Option<&Aggregate> {
        self.periods.get(&self.index_of(at.timestamp()))
    }

    /// Every non-empty period, oldest first, by its start.
    pub fn iter(&self) -> impl Iterator<Item = (DateTime<Utc>, &Aggregate)> + '_ {
        self.periods.iter().map(move |(&i, a)| (self.start_of(i), a))
    }

    pub(crate) fn index_of(&self, unix_s: i64) -> i64 {
        unix_s.div_euclid(i64::from(self.period_s))
    }

    pub(crate) fn start_of(&self, index: i64) -> DateTime<Utc> {
        at_unix(index.saturating_mul(i64::from(self.period_s)))
    }

    pub(crate) fn aggregate(&self, index: i64) -> Option<&Aggregate> {
        self.periods.get(&index)
    }

    /// Non-empty periods with index in `from..=to`, oldest first.
    pub(crate) fn between(&self, from: i64, to: i64) -> impl Iterator<Item = (i64, &Aggregate)> + '_ {
        // BTreeMap::range panics on a reversed range: an empty one yields nothing instead.
        (from <= to).then(|| self.periods.range(from..=to)).into_iter().flatten().map(|(&i, a)| (i, a))
    }

    /// The first non-empty period with index above `index`.
    pub(crate) fn next_after(&self, index: i64) -> Option<i64> {
        let from = index.checked_add(1)?;
        self.periods.range(from..).next().map(|(&i, _)| i)
    }
}

/// Seconds since the epoch as a time, clamped to chrono's range (period starts are computed from
/// valid timestamps, so only a period at the very edge of that range could need the clamp).
pub(crate) fn at_unix(unix_s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix_s, 0).unwrap_or(if unix_s < 0 { DateTime::<Utc>::MIN_UTC } else { DateTime::<Utc>::MAX_UTC })
}
