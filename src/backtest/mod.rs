//! Alert backtest: what CloudWatch alarms would have done over replayed, verified evidence.
//!
//! `definitions` are the filters and alarms to replay (from an account snapshot or a baseline);
//! `replay` runs verified records through them (fed by the pipeline's replay hook); `report`
//! evaluates the alarms and writes the result. The evaluator is a pure core: metric emissions in,
//! alarm behaviour out. No I/O, no clock, no
//! async. `datapoints` aggregates emitted metric values into the alarm's periods; `alarm` holds the
//! alarm's settings and steps CloudWatch's evaluation through a time range. The semantics, and
//! every choice made where AWS's documentation is silent, are written down in [`alarm`].

pub mod alarm;
pub mod datapoints;
pub mod definitions;
pub mod html;
pub(crate) mod record;
pub mod replay;
pub mod report;

#[doc(hidden)]
pub use record::check_readings_agree;

pub use alarm::{
    evaluate, evaluation_range, sweep, AlarmSpec, AlarmState, Comparison, Evaluation, PeriodState, SpecError, StateSpan,
    SweepPoint, TreatMissingData, EXTRA_RANGE_PERIODS,
};
pub use datapoints::{Aggregate, Datapoints, Statistic};
