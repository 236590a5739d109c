//! The evaluator against hand-computed tables and AWS's documented examples.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::backtest::datapoints::{Datapoints, Statistic};

const P: u32 = 300;

fn t0() -> DateTime<Utc> {
    // 2026-03-01T00:00:00Z: a multiple of every period used here.
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
}

fn at(seconds: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(seconds)
}

/// The absolute index (periods since the epoch) of period `i` counted from t0.
fn index(i: i64) -> i64 {
    t0().timestamp() / i64::from(P) + i
}

/// Start of period `i` (counted from t0).
fn period(i: i64) -> DateTime<Utc> {
    at(i * i64::from(P))
}

fn spec(n: u32, m: u32, treat_missing_data: TreatMissingData) -> AlarmSpec {
    AlarmSpec {
        period_s: P,
        evaluation_periods: n,
        datapoints_to_alarm: Some(m),
        threshold: 5.0,
        comparison: Comparison::GreaterThanOrEqualToThreshold,
        statistic: Statistic::Sum,
        treat_missing_data,
    }
}

/// One character per period from period 0: `X` breaching (Sum 10 ≥ 5), `0` not breaching (Sum
/// 0), `-` missing. Spaces are ignored.
fn pattern(p: &str) -> Datapoints {
    let marks = p.chars().filter(|c| *c != ' ');
    let emissions = marks.enumerate().filter_map(|(i, c)| match c {
        'X' => Some((period(i as i64) + Duration::seconds(7), 10.0)),
        '0' => Some((period(i as i64) + Duration::seconds(7), 0.0)),
        '-' => None,
        other => panic!("bad pattern character {other:?}"),
    });
    Datapoints::from_emissions(P, emissions).unwrap()
}

fn letter(s: AlarmState) -> char {
    match s {
        AlarmState::Ok => 'O',
        AlarmState::Alarm => 'A',
        AlarmState::InsufficientData => 'I',
    }
}

/// The state after each period as a string of O/A/I.
fn states(e: &Evaluation, dps: &Datapoints) -> String {
    e.timeline(dps).map(|p| letter(p.state)).collect()
}

/// Evaluates `spec` over periods `0..periods` of `dps`.
fn run(spec: &AlarmSpec, dps: &Datapoints, periods: i64) -> Evaluation {
    evaluate(spec, dps, (period(0), period(periods))).unwrap()
}

const ALL_TREATMENTS: [TreatMissingData; 4] =
    [TreatMissingData::Missing, TreatMissingData::Ignore, TreatMissingData::Breaching, TreatMissingData::NotBreaching];

// ---- AWS's documented examples -------------------------------------------------------------

/// A row of AWS's tables in "How alarm state is evaluated when data is missing" (CloudWatch User
/// Guide, alarms-and-missing-data; awsdocs/amazon-cloudwatch-user-guide
/// doc_source/AlarmThatSendsEmail.md): the 5 retrieved datapoints, oldest first, then the state
/// for MISSING, IGNORE, BREACHING, NOT BREACHING. `R` is "Retain current state".
type Row = (&'static str, [&'static str; 4]);

/// First table: Datapoints to Alarm and Evaluation Periods both 3.
const AWS_3_OF_3: [Row; 6] = [
    ("0 - X - X", ["OK", "OK", "OK", "OK"]),
    ("0 - - - -", ["OK", "OK", "OK", "OK"]),
    ("- - - - -", ["INSUFFICIENT_DATA", "R", "ALARM", "OK"]),
    ("0 X X - X", ["ALARM", "ALARM", "ALARM", "ALARM"]),
    ("- - - - X", ["INSUFFICIENT_DATA", "R", "ALARM", "OK"]),
    ("X - - - -", ["ALARM", "R", "ALARM", "OK"]),
];

/// Second table: 2 out of 3.
const AWS_2_OF_3: [Row; 5] = [
    ("0 - X - X", ["ALARM", "ALARM", "ALARM", "ALARM"]),
    ("0 0 X 0 X", ["ALARM", "ALARM", "ALARM", "ALARM"]),
    ("0 - X - -", ["OK", "OK", "ALARM", "OK"]),
    ("- - - - 0", ["OK", "OK", "ALARM", "OK"]),
    ("- - - - X", ["INSUFFICIENT_DATA", "R", "ALARM", "OK"]),
];

#[track_caller]
fn check_aws_table(n: u32, m: u32, rows: &[Row]) {
    for (points, wants) in rows {
        let dps = pattern(points);
        for (treat, want) in ALL_TREATMENTS.into_iter().zip(wants) {
            let spec = spec(n, m, treat);
            for current in [AlarmState::Ok, AlarmState::Alarm, AlarmState::InsufficientData] {
                let want = if *want == "R" { current.as_str() } else { want };
                let got = state_at(&spec, &dps, index(4), current);
                assert_eq!(got.as_str(), want, "{m} of {n}, {points:?}, {treat}, from {current}");
            }
            if *want != "R" {
                // The whole evaluator, from the start state, agrees on the last period.
                let e = run(&spec, &dps, 5);
                let last = e.spans.last().unwrap().state;
                assert_eq!(last.as_str(), *want, "{m} of {n}, {points:?}, {treat}, whole run");
            }
        }
    }
}

#[test]
fn aws_table_three_of_three() {
    check_aws_table(3, 3, &AWS_3_OF_3);
}

#[test]
fn aws_table_two_of_three() {
    check_aws_table(3, 2, &AWS_2_OF_3);
}

#[test]
fn aws_evaluation_range_is_five_for_three_periods() {
    assert_eq!(evaluation_range(&spec(3, 3, TreatMissingData::Missing)), 5);
    assert_eq!(evaluation_range(&spec(1, 1, TreatMissingData::Missing)), 3);
}

/// AWS's note on the second row of the first table: "The next time this alarm is evaluated, if
/// the data is still missing it will go to ALARM, as that non-breaching data point will no longer
/// be among the 5 most recent data points retrieved."
#[test]
fn aws_second_row_goes_to_alarm_when_the_good_point_leaves_the_range() {
    let dps = pattern("0 - - - - -");
    let e = run(&spec(3, 3, TreatMissingData::Breaching), &dps, 6);
    assert_eq!(states(&e, &dps), "OOOOOA");
}

// ---- M of N over a whole timeline, hand-computed -------------------------------------------

/// 3 of 5 (evaluation range 7), periods 0..13, datapoints `X X - X 0` then nothing. Worked by hand
/// from the rules in the module documentation:
/// * 0-2: one or two real breaches, fewer than 3: breaching fills reach 3 → ALARM; notBreaching →
///   OK; missing → INSUFFICIENT_DATA (the oldest evaluated datapoint is a filled one); ignore keeps
///   INSUFFICIENT_DATA.
/// * 3-6: three real breaches in the range → ALARM whatever the treatment.
/// * 7-10: period 0 has left the range; the real `0` makes missing and ignore OK; breaching fills
///   still reach 3.
/// * 11-12: the whole range is missing.
#[test]
fn three_of_five_with_each_treatment() {
    let dps = pattern("X X - X 0 - - - - - - - -");
    let cases = [
        (TreatMissingData::Missing, "IIIAAAAOOOOII", 4),
        (TreatMissingData::Ignore, "IIIAAAAOOOOOO", 4),
        (TreatMissingData::Breaching, "AAAAAAAAAAAAA", 13),
        (TreatMissingData::NotBreaching, "OOOAAAAOOOOOO", 4),
    ];
    for (treat, want, alarm_periods) in cases {
        let e = run(&spec(5, 3, treat), &dps, 13);
        assert_eq!(states(&e, &dps), want, "{treat}");
        assert_eq!(e.alarm_entries, 1, "{treat}");
        assert_eq!(e.breaching_periods, 3, "{treat}");
        assert_eq!(e.time_in_alarm_s, alarm_periods * u64::from(P), "{treat}");
        assert_eq!(e.periods, 13);
    }
}

/// A lone breach on a sparse metric, 3 of 3, missing: INSUFFICIENT_DATA until the breach is the
/// oldest evaluated datapoint (two periods later), then ALARM until it leaves the range (AWS's
/// rows "- - - - X" and "X - - - -").
#[test]
fn lone_breach_three_of_three_missing_enters_alarm_late() {
    let dps = pattern("- - X - - - - -");
    let e = run(&spec(3, 3, TreatMissingData::Missing), &dps, 8);
    assert_eq!(states(&e, &dps), "IIIIAAAI");
    assert_eq!(e.alarm_entries, 1);
}

#[test]
fn one_of_one_missing_holds_alarm_for_the_evaluation_range() {
    // Two breaches with two empty periods between: one entry; with three: two entries.
    let spec = spec(1, 1, TreatMissingData::Missing);
    let dps = pattern("X - - X - - - - X");
    let e = run(&spec, &dps, 9);
    assert_eq!(states(&e, &dps), "AAAAAAIIA");
    assert_eq!(e.alarm_entries, 2);
    assert_eq!(e.breaching_periods, 3);
    assert_eq!(e.time_in_alarm_s, 7 * u64::from(P));
}

#[test]
fn one_of_one_ok_between_breaches_is_a_new_entry() {
    let dps = pattern("X 0 X 0 X");
    let e = run(&spec(1, 1, TreatMissingData::Missing), &dps, 5);
    assert_eq!(states(&e, &dps), "AOAOA");
    assert_eq!(e.alarm_entries, 3);
}

// ---- the whole range missing ---------------------------------------------------------------

#[test]
fn no_data_at_all_with_each_treatment() {
    let dps = pattern("");
    let cases = [
        (TreatMissingData::Missing, "IIIIIIIIII", 0),
        (TreatMissingData::Ignore, "IIIIIIIIII", 0),
        (TreatMissingData::Breaching, "AAAAAAAAAA", 1),
        (TreatMissingData::NotBreaching, "OOOOOOOOOO", 0),
    ];
    for (treat, want, entries) in cases {
        let e = run(&spec(3, 2, treat), &dps, 10);
        assert_eq!(states(&e, &dps), want, "{treat}");
        assert_eq!(e.alarm_entries, entries, "{treat}");
        assert_eq!(e.spans.len(), 1, "{treat}: one run of one state");
    }
}

#[test]
fn ignore_keeps_alarm_and_ok_through_a_gap() {
    let spec = spec(1, 1, TreatMissingData::Ignore);
    let dps = pattern("X - - - - - 0 - - - - -");
    let e = run(&spec, &dps, 12);
    assert_eq!(states(&e, &dps), "AAAAAAOOOOOO");
    let missing = run(&AlarmSpec { treat_missing_data: TreatMissingData::Missing, ..spec }, &dps, 12);
    assert_eq!(states(&missing, &dps), "AAAIIIOOOIII");
}

// ---- statistics and comparisons ------------------------------------------------------------

#[test]
fn each_statistic_of_one_period() {
    // Out of order on purpose; Sum 9, SampleCount 3, Average 3, Minimum 1, Maximum 6.
    let dps = Datapoints::from_emissions(P, [(at(200), 6.0), (at(0), 1.0), (at(299), 2.0)]).unwrap();
    let agg = dps.get(at(0)).unwrap();
    let cases = [
        (Statistic::Sum, 9.0),
        (Statistic::SampleCount, 3.0),
        (Statistic::Average, 3.0),
        (Statistic::Minimum, 1.0),
        (Statistic::Maximum, 6.0),
    ];
    for (statistic, want) in cases {
        assert_eq!(agg.statistic(statistic), want, "{statistic}");
        // Through the evaluator: > 3 breaches only for Sum and Maximum.
        let spec = AlarmSpec { statistic, threshold: 3.0, comparison: Comparison::GreaterThanThreshold, ..spec(1, 1, TreatMissingData::Missing) };
        let e = run(&spec, &dps, 1);
        assert_eq!(e.breaching_periods, u64::from(want > 3.0), "{statistic}");
        let point = e.timeline(&dps).next().unwrap();
        assert_eq!(point.datapoint, Some(want), "{statistic}");
    }
}

#[test]
fn each_comparison_including_ties() {
    use Comparison::*;
    let cases = [
        (GreaterThanOrEqualToThreshold, [false, true, true]),
        (GreaterThanThreshold, [false, false, true]),
        (LessThanThreshold, [true, false, false]),
        (LessThanOrEqualToThreshold, [true, true, false]),
    ];
    for (comparison, wants) in cases {
        for (value, want) in [4.0, 5.0, 6.0].into_iter().zip(wants) {
            assert_eq!(comparison.breaches(value, 5.0), want, "{value} {comparison} 5");
        }
    }
}

#[test]
fn a_tie_breaches_greater_or_equal_but_not_greater() {
    // Sum exactly 5 in period 0.
    let dps = Datapoints::from_emissions(P, [(at(1), 2.0), (at(2), 3.0)]).unwrap();
    let ge = run(&spec(1, 1, TreatMissingData::Missing), &dps, 1);
    assert_eq!((ge.alarm_entries, ge.breaching_periods), (1, 1));
    let gt = AlarmSpec { comparison: Comparison::GreaterThanThreshold, ..spec(1, 1, TreatMissingData::Missing) };
    let gt = run(&gt, &dps, 1);
    assert_eq!((gt.alarm_entries, gt.breaching_periods), (0, 0));
}

#[test]
fn a_low_alarm_breaches_below() {
    // LessThanThreshold 5 on Minimum: 1 breaches, missing data does not.
    let dps = Datapoints::from_emissions(P, [(period(0), 7.0), (period(1), 1.0), (period(1), 9.0)]).unwrap();
    let spec = AlarmSpec { comparison: Comparison::LessThanThreshold, statistic: Statistic::Minimum, ..spec(1, 1, TreatMissingData::NotBreaching) };
    let e = run(&spec, &dps, 5);
    assert_eq!(states(&e, &dps), "OAAAO");
}

// ---- periods, ranges, order ----------------------------------------------------------------

#[test]
fn an_emission_at_a_boundary_belongs_to_the_period_starting_there() {
    // 1 at 299.999 s and 1 at 300 s: two periods of Sum 1, never Sum 2.
    let just_before = at(299) + Duration::milliseconds(999);
    let dps = Datapoints::from_emissions(P, [(just_before, 1.0), (at(300), 1.0)]).unwrap();
    assert_eq!(dps.len(), 2);
    assert_eq!(dps.get(period(0)).unwrap().sum, 1.0);
    assert_eq!(dps.get(period(1)).unwrap().sum, 1.0);
    let spec = AlarmSpec { threshold: 2.0, ..spec(1, 1, TreatMissingData::Missing) };
    assert_eq!(run(&spec, &dps, 2).breaching_periods, 0);
}

#[test]
fn periods_are_aligned_to_the_epoch_even_before_it() {
    let dps = Datapoints::from_emissions(60, [(DateTime::from_timestamp(-1, 0).unwrap(), 1.0), (DateTime::from_timestamp(0, 0).unwrap(), 1.0)]).unwrap();
    let starts: Vec<i64> = dps.iter().map(|(t, _)| t.timestamp()).collect();
    assert_eq!(starts, [-60, 0]);
}

#[test]
fn a_range_starting_mid_period_includes_that_period() {
    let dps = pattern("X - - - - -");
    let spec = spec(1, 1, TreatMissingData::Missing);
    // Start 150 s into period 0, end 10 s into period 3: periods 0, 1, 2 are evaluated.
    let e = evaluate(&spec, &dps, (at(150), period(3) + Duration::seconds(10))).unwrap();
    assert_eq!(e.periods, 3);
    assert_eq!(e.breaching_periods, 1);
    assert_eq!(e.spans[0].start, period(0));
    assert_eq!(e.spans.last().unwrap().end, period(3));
    // The week rate uses the range as given: 1 entry in 760 s.
    assert!((e.entries_per_week - 604_800.0 / 760.0).abs() < 1e-9, "{}", e.entries_per_week);
    // The last period must end at or before the end: ending 1 s early drops period 2.
    let e = evaluate(&spec, &dps, (at(150), period(3) - Duration::seconds(1))).unwrap();
    assert_eq!(e.periods, 2);
}

#[test]
fn a_range_without_a_whole_period_is_an_error() {
    let dps = pattern("X");
    let spec = spec(1, 1, TreatMissingData::Missing);
    let err = evaluate(&spec, &dps, (at(10), at(299))).unwrap_err();
    assert!(matches!(err, SpecError::EmptyRange { .. }), "{err}");
    assert!(matches!(evaluate(&spec, &dps, (at(600), at(0))), Err(SpecError::EmptyRange { .. })));
}

#[test]
fn out_of_order_emissions_give_the_same_evaluation() {
    let mut emissions: Vec<(DateTime<Utc>, f64)> = (0..40).map(|k| (at(k * 97), (k % 7) as f64)).collect();
    let sorted = Datapoints::from_emissions(P, emissions.clone()).unwrap();
    emissions.reverse();
    emissions.rotate_left(13);
    let shuffled = Datapoints::from_emissions(P, emissions).unwrap();
    assert_eq!(sorted, shuffled);
    let spec = AlarmSpec { threshold: 12.0, ..spec(2, 1, TreatMissingData::Missing) };
    assert_eq!(run(&spec, &sorted, 20), run(&spec, &shuffled, 20));
}

#[test]
fn non_finite_values_are_dropped_and_counted() {
    let mut dps = Datapoints::new(P).unwrap();
    assert!(!dps.push(at(1), f64::NAN));
    assert!(!dps.push(at(2), f64::INFINITY));
    assert!(!dps.push(at(3), f64::NEG_INFINITY));
    assert!(dps.push(at(4), 1.0));
    assert_eq!(dps.dropped(), 3);
    assert_eq!(dps.get(at(0)).unwrap().count, 1);
}

#[test]
fn entries_per_week() {
    // Two isolated breaches over exactly two weeks: one entry per week.
    let weeks = 2 * 604_800 / i64::from(P);
    let dps = Datapoints::from_emissions(P, [(period(5), 10.0), (period(weeks - 5), 10.0)]).unwrap();
    let e = run(&spec(1, 1, TreatMissingData::Missing), &dps, weeks);
    assert_eq!(e.alarm_entries, 2);
    assert_eq!(e.entries_per_week, 1.0);
}

// ---- sweep ---------------------------------------------------------------------------------

#[test]
fn sweep_counts_entries_at_each_threshold() {
    // Isolated periods with Sum 1, 3 and 6, far enough apart to be separate entries.
    let dps = Datapoints::from_emissions(P, [(period(0), 1.0), (period(10), 3.0), (period(20), 6.0)]).unwrap();
    let got = sweep(&spec(1, 1, TreatMissingData::Missing), &dps, (period(0), period(30)), &[1.0, 2.0, 5.0, 10.0]).unwrap();
    let got: Vec<(f64, u64)> = got.iter().map(|p| (p.threshold, p.alarm_entries)).collect();
    assert_eq!(got, [(1.0, 3), (2.0, 2), (5.0, 1), (10.0, 0)]);
    let err = sweep(&spec(1, 1, TreatMissingData::Missing), &dps, (period(0), period(30)), &[f64::NAN]).unwrap_err();
    assert!(matches!(err, SpecError::InvalidThreshold { .. }));
}

// ---- parsing and validation ----------------------------------------------------------------

#[test]
fn aws_spellings_parse_and_round_trip() {
    for s in ["Sum", "SampleCount", "Average", "Minimum", "Maximum"] {
        let parsed: Statistic = s.parse().unwrap();
        assert_eq!(serde_json::to_value(parsed).unwrap(), s);
        assert_eq!(serde_json::from_value::<Statistic>(s.into()).unwrap(), parsed);
    }
    for s in ["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"] {
        let parsed: Comparison = s.parse().unwrap();
        assert_eq!(serde_json::to_value(parsed).unwrap(), s);
        assert_eq!(serde_json::from_value::<Comparison>(s.into()).unwrap(), parsed);
    }
    for s in ["missing", "ignore", "breaching", "notBreaching"] {
        let parsed: TreatMissingData = s.parse().unwrap();
        assert_eq!(serde_json::to_value(parsed).unwrap(), s);
        assert_eq!(serde_json::from_value::<TreatMissingData>(s.into()).unwrap(), parsed);
    }
    for (state, s) in [(AlarmState::Ok, "OK"), (AlarmState::Alarm, "ALARM"), (AlarmState::InsufficientData, "INSUFFICIENT_DATA")] {
        assert_eq!(serde_json::to_value(state).unwrap(), s);
        assert_eq!(state.as_str(), s);
    }
}

#[test]
fn unsupported_and_unknown_spellings_are_errors() {
    for s in ["LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"] {
        assert_eq!(s.parse::<Comparison>(), Err(SpecError::UnsupportedComparison { value: s.into() }));
    }
    assert!(matches!(">=".parse::<Comparison>(), Err(SpecError::UnknownComparison { .. })));
    assert!(matches!("p99".parse::<Statistic>(), Err(SpecError::UnsupportedStatistic { .. })));
    assert!(matches!("sum".parse::<Statistic>(), Err(SpecError::UnsupportedStatistic { .. })));
    assert!(matches!("NotBreaching".parse::<TreatMissingData>(), Err(SpecError::UnknownTreatMissingData { .. })));
    let err = serde_json::from_value::<Comparison>("LessThanLowerThreshold".into()).unwrap_err();
    assert!(err.to_string().contains("anomaly-detection"), "{err}");
}

#[test]
fn spec_reads_aws_and_report_names_with_aws_defaults() {
    let aws = serde_json::json!({"Period": 300, "EvaluationPeriods": 3, "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold", "Statistic": "Sum"});
    let spec: AlarmSpec = serde_json::from_value(aws).unwrap();
    assert_eq!(spec.treat_missing_data, TreatMissingData::Missing);
    assert_eq!(spec.datapoints_to_alarm, None);
    assert_eq!(spec.effective_datapoints_to_alarm(), 3);
    let ours = serde_json::to_value(&spec).unwrap();
    assert_eq!(ours["period_s"], 300);
    assert_eq!(ours["treat_missing_data"], "missing");
    assert_eq!(serde_json::from_value::<AlarmSpec>(ours).unwrap(), spec);
}

#[test]
fn invalid_specs_are_refused() {
    let ok = spec(3, 2, TreatMissingData::Missing);
    assert_eq!(ok.validate(), Ok(()));
    for period_s in [10, 20, 30, 60, 120, 86_400] {
        assert_eq!(AlarmSpec { period_s, ..ok.clone() }.validate(), Ok(()), "{period_s}");
    }
    for period_s in [0, 1, 45, 90] {
        assert_eq!(AlarmSpec { period_s, ..ok.clone() }.validate(), Err(SpecError::InvalidPeriod { period_s }));
        assert!(Datapoints::new(period_s).is_err());
    }
    assert!(matches!(AlarmSpec { evaluation_periods: 0, datapoints_to_alarm: None, ..ok.clone() }.validate(), Err(SpecError::InvalidEvaluationPeriods { .. })));
    assert!(matches!(AlarmSpec { datapoints_to_alarm: Some(4), ..ok.clone() }.validate(), Err(SpecError::InvalidDatapointsToAlarm { .. })));
    assert!(matches!(AlarmSpec { datapoints_to_alarm: Some(0), ..ok.clone() }.validate(), Err(SpecError::InvalidDatapointsToAlarm { .. })));
    assert!(matches!(AlarmSpec { threshold: f64::INFINITY, ..ok.clone() }.validate(), Err(SpecError::InvalidThreshold { .. })));
    let other = Datapoints::new(60).unwrap();
    assert!(matches!(evaluate(&ok, &other, (period(0), period(1))), Err(SpecError::PeriodMismatch { .. })));
}

// ---- properties ----------------------------------------------------------------------------

/// The evaluator without its jumps: one [`state_at`] per period.
fn reference(spec: &AlarmSpec, dps: &Datapoints, periods: i64) -> (String, u64) {
    let mut state = AlarmState::InsufficientData;
    let mut entries = 0;
    let mut out = String::new();
    for i in 0..periods {
        let next = state_at(spec, dps, index(i), state);
        if next == AlarmState::Alarm && state != AlarmState::Alarm {
            entries += 1;
        }
        state = next;
        out.push(letter(state));
    }
    (out, entries)
}

fn arb_treatment() -> impl Strategy<Value = TreatMissingData> {
    prop::sample::select(ALL_TREATMENTS.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn jumps_agree_with_stepping_every_period(
        marks in prop::collection::vec(prop::sample::select(vec!['X', '0', '-', '-', '-']), 0..60),
        n in 1u32..6, m_less in 0u32..6, treat in arb_treatment(), extra in 0i64..10,
    ) {
        let m = n - m_less.min(n - 1);
        let spec = spec(n, m, treat);
        let dps = pattern(&marks.iter().collect::<String>());
        let periods = marks.len() as i64 + extra + 1;
        let e = run(&spec, &dps, periods);
        let (want, entries) = reference(&spec, &dps, periods);
        prop_assert_eq!(states(&e, &dps), want);
        prop_assert_eq!(e.alarm_entries, entries);
        prop_assert_eq!(e.breaching_periods, marks.iter().filter(|c| **c == 'X').count() as u64);
    }

    #[test]
    fn totals_stay_within_their_bounds(
        emissions in prop::collection::vec((0i64..20_000, -5.0f64..20.0), 0..200),
        n in 1u32..5, treat in arb_treatment(), threshold in 0.0f64..15.0, start in 0i64..600, len in 1i64..20_000,
    ) {
        let dps = Datapoints::from_emissions(P, emissions.iter().map(|&(s, v)| (at(s), v))).unwrap();
        let spec = AlarmSpec { threshold, ..spec(n, 1, treat) };
        let range = (at(start), at(start) + Duration::seconds(len));
        match evaluate(&spec, &dps, range) {
            Err(SpecError::EmptyRange { .. }) => prop_assert!(len < i64::from(P)),
            Err(e) => prop_assert!(false, "{}", e),
            Ok(e) => {
                // An entry needs a non-ALARM evaluation before it, except the first.
                prop_assert!(e.alarm_entries <= e.periods.div_ceil(2));
                prop_assert!(e.breaching_periods <= e.periods.min(dps.len() as u64));
                prop_assert!(e.time_in_alarm_s <= e.periods * u64::from(P));
                prop_assert_eq!(e.timeline(&dps).count() as u64, e.periods);
                prop_assert!(e.spans.windows(2).all(|w| w[0].end == w[1].start && w[0].state != w[1].state));
            }
        }
    }

    #[test]
    fn not_breaching_without_emissions_never_alarms(n in 1u32..10, periods in 1i64..500) {
        let dps = Datapoints::new(P).unwrap();
        let e = run(&spec(n, 1, TreatMissingData::NotBreaching), &dps, periods);
        prop_assert_eq!(e.alarm_entries, 0);
        prop_assert_eq!(e.time_in_alarm_s, 0);
        prop_assert!(e.spans.iter().all(|s| s.state == AlarmState::Ok));
    }
}

// ---- size ----------------------------------------------------------------------------------

/// A year at 60 s periods: 525,600 evaluations. Sparse data is jumped over, and the timeline is
/// never stored: the spans stay as few as the state changes.
#[test]
fn a_year_at_sixty_second_periods() {
    let year = 525_600;
    let minute = |i: i64| t0() + Duration::seconds(60 * i);
    // One event a day at 03:00, and a storm of 50 in one minute in the middle of the year.
    let daily = (0..365).map(|d| (minute(d * 1440 + 180), 1.0));
    let storm = (0..50).map(|k| (minute(200 * 1440) + Duration::seconds(k), 1.0));
    let dps = Datapoints::from_emissions(60, daily.chain(storm)).unwrap();
    let spec = AlarmSpec { period_s: 60, threshold: 10.0, ..spec(1, 1, TreatMissingData::Missing) };
    let started = std::time::Instant::now();
    let e = evaluate(&spec, &dps, (minute(0), minute(year))).unwrap();
    eprintln!("sparse year at 60 s: {:?}", started.elapsed());
    assert_eq!(e.periods, 525_600);
    assert_eq!((e.alarm_entries, e.breaching_periods, e.time_in_alarm_s), (1, 1, 3 * 60));
    // INSUFFICIENT_DATA, then each day OK for 3 periods and INSUFFICIENT_DATA again (the storm's
    // day adds ALARM for 3 periods): as many spans as state changes, not one per period.
    assert_eq!(e.spans.len(), 1 + 2 * 365 + 2);
    assert_eq!(e.timeline(&dps).count(), 525_600);

    // Every minute has a datapoint: one step per period.
    let dense = Datapoints::from_emissions(60, (0..year).map(|i| (minute(i), (i % 13) as f64))).unwrap();
    let started = std::time::Instant::now();
    let e = evaluate(&spec, &dense, (minute(0), minute(year))).unwrap();
    eprintln!("dense year at 60 s: {:?}", started.elapsed());
    // Values 10, 11, 12 of every 13 breach, three in a row: one entry per whole cycle of 13
    // minutes (525,600 = 13 × 40,430 + 10; the last partial cycle holds 0 to 9).
    assert_eq!(e.alarm_entries, 40_430);
    assert_eq!(e.breaching_periods, 3 * 40_430);
    assert_eq!(e.time_in_alarm_s, 3 * 40_430 * 60);
}
