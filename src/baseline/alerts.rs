//! Alert-rule checks along the path filter → metric → alarm → topic → subscription.
//!
//! Filters are judged by what they match over the rule's labelled corpus, never by their text.
//! Alarms are linked to filters by metric namespace **and** name, and judged by when they fire.
use super::codes::{AlertPart, Code};
use super::model::{AlarmExpectation, CompiledRule, Notification};
use super::snapshot::{AccountSnapshot, Alarm, Fetched, MetricFilter, Trail};
use super::{CheckResult, Status};
use crate::filter_pattern;

/// Events listed in evidence, at most, per kind of mistake.
const EVIDENCE_EVENTS: usize = 3;

pub fn evaluate(rules: &[CompiledRule<'_>], snapshot: &AccountSnapshot, trails: &[&Trail], results: &mut Vec<CheckResult>) {
    for rule in rules {
        judge_rule(rule, snapshot, trails, results);
    }
}

fn results_for(rule: &CompiledRule) -> [CheckResult; 3] {
    let r = rule.rule;
    let code = |part| Code::Alert { rule: r.id.clone(), part };
    let fix = if r.remediation.is_empty() { format!("Create a metric filter on the trail's log group with a pattern like {}", r.reference) } else { r.remediation.clone() };
    [
        CheckResult::new(code(AlertPart::Filter), format!("{}: {}", r.title, AlertPart::Filter.title()), fix),
        CheckResult::new(
            code(AlertPart::Alarm),
            format!("{}: {}", r.title, AlertPart::Alarm.title()),
            format!(
                "Create an alarm on the filter's metric (same namespace and name): statistic {}, period {} s, {} evaluation period(s), {} {}, actions enabled.",
                r.alarm.statistic, r.alarm.period, r.alarm.evaluation_periods, r.alarm.comparison, r.alarm.threshold
            ),
        ),
        CheckResult::new(code(AlertPart::Notification), format!("{}: {}", r.title, AlertPart::Notification.title()), "Point the alarm at an SNS topic with at least one confirmed subscription."),
    ]
}

fn judge_rule(rule: &CompiledRule, snapshot: &AccountSnapshot, trails: &[&Trail], results: &mut Vec<CheckResult>) {
    let [filter_check, alarm_check, notify_check] = results_for(rule);
    let fail_all = |status: Status, resource: &str, evidence: String, results: &mut Vec<CheckResult>| {
        for c in [filter_check.clone(), alarm_check.clone(), notify_check.clone()] {
            results.push(c.status(status, resource, evidence.clone()));
        }
    };

    if let Fetched::Error(e) = &snapshot.trails {
        fail_all(Status::Error, "account", format!("could not list trails, so their log groups are unknown: {e}"), results);
        return;
    }
    let groups: Vec<&str> = trails.iter().filter_map(|t| t.cloudwatch_logs_log_group_arn.as_deref()).collect();
    if groups.is_empty() {
        let why = if trails.is_empty() { "no trail was judged, so there is no log group to look in" } else { "the trail delivers to no CloudWatch Logs log group" };
        fail_all(Status::Fail, "account", why.to_string(), results);
        return;
    }

    // Every filter on every judged trail's log group, with its verdict over the corpus.
    let mut judged = Vec::new();
    let mut group_names = Vec::new();
    for arn in groups {
        let key = arn.strip_suffix(":*").unwrap_or(arn);
        let Some(group) = snapshot.log_groups.get(key) else {
            fail_all(Status::Error, key, format!("log group {key} was not read"), results);
            return;
        };
        match &group.metric_filters {
            Fetched::Error(e) => {
                fail_all(Status::Error, &group.name, format!("could not read metric filters: {e}"), results);
                return;
            }
            Fetched::Ok(filters) => {
                group_names.push(group.name.clone());
                judged.extend(filters.iter().map(|f| (group, f, judge_filter(rule, f))));
            }
        }
    }
    let passing: Vec<_> = judged.iter().filter(|(_, _, v)| v.is_ok()).collect();
    if passing.is_empty() {
        let evidence = if judged.is_empty() {
            "the log group has no metric filters".to_string()
        } else {
            // Closest first: filters that catch some required event (the rule's own filter, gone
            // wrong) before unrelated ones, then by how many verdicts are wrong.
            let mut by_fit: Vec<_> = judged.iter().filter_map(|(_, f, v)| v.as_ref().err().map(|e| ((e.hits == 0, e.wrong), f, &e.why))).collect();
            by_fit.sort_by_key(|(fit, _, _)| *fit);
            let related = by_fit.iter().filter(|(fit, _, _)| !fit.0).count();
            if related == 0 {
                format!("none of the log group's {} metric filter(s) matches any required event, e.g. {}", judged.len(), rule.must_match.first().map(|e| e.text()).unwrap_or_default())
            } else {
                let shown: Vec<String> = by_fit.iter().take(related.min(3)).map(|(_, f, why)| format!("filter {:?} ({}): {why}", f.name, f.pattern)).collect();
                format!("no metric filter has the expected meaning; closest: {}", shown.join(" | "))
            }
        };
        let downstream = format!("no metric filter with the expected meaning (see {}), so no metric to alarm on", filter_check.code.id());
        results.push(filter_check.status(Status::Fail, group_names.join(", "), evidence));
        results.push(alarm_check.status(Status::Fail, "-", downstream.clone()));
        results.push(notify_check.status(Status::Fail, "-", downstream));
        return;
    }
    let names: Vec<String> = passing.iter().map(|(g, f, _)| format!("{} on {}", f.name, g.name)).collect();
    results.push(filter_check.status(Status::Pass, names.join(", "), format!("matches all {} required events and none of {} forbidden ones", rule.must_match.len(), rule.must_not_match.len())));

    // filter → metric → alarm
    let mut good_alarms: Vec<&Alarm> = Vec::new();
    let mut alarm_notes = Vec::new();
    let mut alarm_error = None;
    for (group, filter, _) in &passing {
        let alarms = match snapshot.alarms.get(&group.region) {
            Some(Fetched::Ok(a)) => a,
            Some(Fetched::Error(e)) => {
                alarm_error = Some(format!("could not read alarms in {}: {e}", group.region));
                continue;
            }
            None => {
                alarm_error = Some(format!("alarms in {} were not read", group.region));
                continue;
            }
        };
        for t in &filter.transformations {
            let on_metric: Vec<&Alarm> = alarms.iter().filter(|a| a.metric_name.as_deref() == Some(&t.name) && a.namespace.as_deref() == Some(&t.namespace)).collect();
            if on_metric.is_empty() {
                let same_name: Vec<String> = alarms
                    .iter()
                    .filter(|a| a.metric_name.as_deref() == Some(&t.name))
                    .map(|a| format!("{} watches {}/{} (wrong namespace)", a.name, a.namespace.as_deref().unwrap_or("?"), t.name))
                    .collect();
                alarm_notes.push(format!("no alarm watches metric {}/{} of filter {}{}", t.namespace, t.name, filter.name, if same_name.is_empty() { String::new() } else { format!("; {}", same_name.join("; ")) }));
            }
            for alarm in on_metric {
                match judge_alarm(alarm, &rule.rule.alarm) {
                    Ok(()) => good_alarms.push(alarm),
                    Err(why) => alarm_notes.push(format!("alarm {} on {}/{}: {}", alarm.name, t.namespace, t.name, why.join(", "))),
                }
            }
        }
    }
    if good_alarms.is_empty() {
        let (status, evidence) = match alarm_error {
            Some(e) if alarm_notes.is_empty() => (Status::Error, e),
            Some(e) => (Status::Error, format!("{e}; {}", alarm_notes.join("; "))),
            None => (Status::Fail, alarm_notes.join("; ")),
        };
        let downstream = if status == Status::Error { format!("the alarms are unknown: {evidence}") } else { format!("no alarm meets the expectation (see {})", alarm_check.code.id()) };
        results.push(alarm_check.status(status, "-", evidence));
        results.push(notify_check.status(status, "-", downstream));
        return;
    }
    let alarm_names: Vec<&str> = good_alarms.iter().map(|a| a.name.as_str()).collect();
    results.push(alarm_check.status(Status::Pass, alarm_names.join(", "), format!("{} {} over {} s, actions enabled", rule.rule.alarm.comparison, rule.rule.alarm.threshold, rule.rule.alarm.period)));

    // alarm → topic → subscription
    let (status, resource, evidence) = judge_notification(&good_alarms, snapshot, rule.rule.alarm.notification);
    results.push(notify_check.status(status, resource, evidence));
}

/// How a filter departs from a rule's meaning.
struct Misfit {
    /// Wrong verdicts over the corpus.
    wrong: usize,
    /// Required events it does match.
    hits: usize,
    /// The events that expose it.
    why: String,
}

/// `Ok` if the filter matches every required event and no forbidden one.
fn judge_filter(rule: &CompiledRule, filter: &MetricFilter) -> Result<(), Misfit> {
    let pattern = match filter_pattern::parse(&filter.pattern) {
        Ok(p) => p,
        // CloudWatch accepted it, trailproof cannot read it: say so rather than guess.
        Err(e) => return Err(Misfit { wrong: usize::MAX, hits: 0, why: format!("trailproof cannot parse this pattern ({e})") }),
    };
    let missed: Vec<&str> = rule.must_match.iter().filter(|e| !pattern.matches(e)).map(|e| e.text()).collect();
    let extra: Vec<&str> = rule.must_not_match.iter().filter(|e| pattern.matches(e)).map(|e| e.text()).collect();
    if missed.is_empty() && extra.is_empty() {
        return Ok(());
    }
    let mut why = Vec::new();
    if !missed.is_empty() {
        why.push(format!("misses {} required event(s): {}", missed.len(), missed.iter().take(EVIDENCE_EVENTS).copied().collect::<Vec<_>>().join(" ")));
    }
    if !extra.is_empty() {
        why.push(format!("matches {} forbidden event(s): {}", extra.len(), extra.iter().take(EVIDENCE_EVENTS).copied().collect::<Vec<_>>().join(" ")));
    }
    Err(Misfit { wrong: missed.len() + extra.len(), hits: rule.must_match.len() - missed.len(), why: why.join("; ") })
}

/// The smallest whole count in one period at which the comparison fires, if it fires on high
/// counts at all. Metric filters count events, so thresholds compare to whole numbers.
fn firing_count(comparison: &str, threshold: f64) -> Option<f64> {
    if !threshold.is_finite() {
        return None;
    }
    match comparison {
        "GreaterThanOrEqualToThreshold" => Some(threshold.ceil().max(0.0)),
        "GreaterThanThreshold" => Some((threshold.floor() + 1.0).max(0.0)),
        _ => None,
    }
}

/// An alarm passes when it is at least as sensitive as expected: same statistic, no longer
/// period, no more periods to breach, and it fires at the expected count or a lower one.
fn judge_alarm(alarm: &Alarm, want: &AlarmExpectation) -> Result<(), Vec<String>> {
    let mut why = Vec::new();
    if alarm.statistic.as_deref() != Some(want.statistic.as_str()) {
        why.push(format!("statistic is {} (expected {})", alarm.statistic.as_deref().unwrap_or("unset"), want.statistic));
    }
    match alarm.period {
        Some(p) if p <= want.period => {}
        p => why.push(format!("period is {} s (at most {} s expected)", p.map_or("unset".into(), |p| p.to_string()), want.period)),
    }
    let breaches = alarm.datapoints_to_alarm.or(alarm.evaluation_periods);
    match breaches {
        Some(n) if n <= want.evaluation_periods => {}
        n => why.push(format!("needs {} breaching period(s) (at most {} expected)", n.map_or("unset".into(), |n| n.to_string()), want.evaluation_periods)),
    }
    let wanted = firing_count(&want.comparison, want.threshold);
    let actual = alarm.comparison.as_deref().and_then(|c| firing_count(c, alarm.threshold.unwrap_or(f64::NAN)));
    match (actual, wanted) {
        (Some(a), Some(w)) if a <= w => {}
        (Some(a), _) => why.push(format!("fires only at {a} events per period (expected {} {})", want.comparison, want.threshold)),
        (None, _) => why.push(format!("{} {} never fires on a rising count", alarm.comparison.as_deref().unwrap_or("no comparison"), alarm.threshold.map_or("?".into(), |t| t.to_string()))),
    }
    if !alarm.dimensions.is_empty() {
        why.push(format!("watches dimensions {} the filter's metric does not have", alarm.dimensions.join(",")));
    }
    if !alarm.actions_enabled {
        why.push("actions are disabled".into());
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(why)
    }
}

fn judge_notification(alarms: &[&Alarm], snapshot: &AccountSnapshot, want: Notification) -> (Status, String, String) {
    if want == Notification::None {
        return (Status::Pass, "-".into(), "no notification required by the baseline".into());
    }
    let mut notes = Vec::new();
    let mut unknown = false;
    for alarm in alarms {
        let topics: Vec<&String> = alarm.alarm_actions.iter().filter(|a| a.contains(":sns:")).collect();
        if topics.is_empty() {
            notes.push(format!("alarm {} notifies no SNS topic", alarm.name));
        }
        for arn in topics {
            match snapshot.topics.get(arn) {
                None => {
                    unknown = true;
                    notes.push(format!("topic {arn} was not read"));
                }
                Some(Fetched::Error(e)) => {
                    unknown = true;
                    notes.push(format!("topic {arn}: {e}"));
                }
                Some(Fetched::Ok(t)) if !t.exists => notes.push(format!("alarm {} notifies topic {arn}, which does not exist", alarm.name)),
                Some(Fetched::Ok(t)) => {
                    let confirmed: Vec<_> = t.subscriptions.iter().filter(|s| s.is_confirmed()).collect();
                    if want == Notification::Topic {
                        return (Status::Pass, arn.clone(), format!("alarm {} notifies existing topic {arn}", alarm.name));
                    }
                    if let Some(s) = confirmed.first() {
                        return (Status::Pass, arn.clone(), format!("alarm {} → topic {arn} → confirmed {} subscription {}", alarm.name, s.protocol, s.endpoint));
                    }
                    let pending = t.subscriptions.len();
                    notes.push(if pending == 0 { format!("topic {arn} has no subscriptions") } else { format!("topic {arn} has no confirmed subscription ({pending} pending confirmation)") });
                }
            }
        }
    }
    (if unknown { Status::Error } else { Status::Fail }, alarms.first().map(|a| a.name.clone()).unwrap_or_default(), notes.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm() -> Alarm {
        Alarm {
            name: "a".into(),
            arn: None,
            namespace: Some("CIS".into()),
            metric_name: Some("M".into()),
            statistic: Some("Sum".into()),
            period: Some(300),
            evaluation_periods: Some(1),
            datapoints_to_alarm: None,
            threshold: Some(1.0),
            comparison: Some("GreaterThanOrEqualToThreshold".into()),
            actions_enabled: true,
            alarm_actions: vec![],
            dimensions: vec![],
            uses_metric_math: false,
            treat_missing_data: None,
        }
    }

    #[test]
    fn alarms_are_judged_by_when_they_fire() {
        let want = AlarmExpectation::default();
        assert!(judge_alarm(&alarm(), &want).is_ok());
        // "> 0" fires at the same count as ">= 1".
        assert!(judge_alarm(&Alarm { comparison: Some("GreaterThanThreshold".into()), threshold: Some(0.0), ..alarm() }, &want).is_ok());
        assert!(judge_alarm(&Alarm { period: Some(60), ..alarm() }, &want).is_ok());
        let cases: Vec<(Alarm, &str)> = vec![
            (Alarm { statistic: Some("Average".into()), ..alarm() }, "statistic is Average"),
            (Alarm { threshold: Some(5.0), ..alarm() }, "fires only at 5"),
            (Alarm { comparison: Some("GreaterThanThreshold".into()), ..alarm() }, "fires only at 2"),
            (Alarm { comparison: Some("LessThanThreshold".into()), ..alarm() }, "never fires"),
            (Alarm { period: Some(3600), ..alarm() }, "period is 3600"),
            (Alarm { evaluation_periods: Some(3), ..alarm() }, "needs 3 breaching"),
            (Alarm { actions_enabled: false, ..alarm() }, "actions are disabled"),
            (Alarm { dimensions: vec!["k=v".into()], ..alarm() }, "dimensions"),
            (Alarm { threshold: Some(f64::NAN), ..alarm() }, "never fires"),
        ];
        for (a, expect) in cases {
            let why = judge_alarm(&a, &want).expect_err(expect).join(", ");
            assert!(why.contains(expect), "{why} lacks {expect}");
        }
    }
}
