//! Property: a filter that means the same as a CIS reference pattern passes, however it is
//! written. Equivalents are made here, independently of trailproof's parser: clause order
//! shuffled within `&&` and `||` lists, values quoted or unquoted, redundant parentheses, and
//! random spacing. Each is judged through the whole pure core (`baseline::evaluate`).
use std::collections::BTreeMap;

use chrono::Utc;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use trailproof::baseline::builtin::{self, Params};
use trailproof::baseline::snapshot::*;
use trailproof::baseline::{evaluate, Status};

enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Atom(String),
}

/// A tiny parser for the shapes CIS patterns use: `{ expr }` with `||`, `&&`, parentheses and
/// atoms (comparisons or `NOT EXISTS` tests) that contain no parentheses.
fn parse(pattern: &str) -> Expr {
    let body = pattern.trim().strip_prefix('{').and_then(|p| p.strip_suffix('}')).expect("a JSON pattern");
    let tokens = tokenize(body);
    let mut pos = 0;
    let e = parse_or(&tokens, &mut pos);
    assert_eq!(pos, tokens.len(), "trailing tokens in {pattern}");
    e
}

fn tokenize(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut atom = String::new();
    let mut chars = s.chars().peekable();
    let mut in_quote = false;
    let flush = |atom: &mut String, out: &mut Vec<String>| {
        if !atom.trim().is_empty() {
            out.push(atom.trim().to_string());
        }
        atom.clear();
    };
    while let Some(c) = chars.next() {
        if c == '"' {
            in_quote = !in_quote;
            atom.push(c);
        } else if in_quote {
            atom.push(c);
        } else if c == '(' || c == ')' {
            flush(&mut atom, &mut out);
            out.push(c.to_string());
        } else if (c == '&' || c == '|') && chars.peek() == Some(&c) {
            chars.next();
            flush(&mut atom, &mut out);
            out.push(format!("{c}{c}"));
        } else {
            atom.push(c);
        }
    }
    flush(&mut atom, &mut out);
    out
}

fn parse_or(t: &[String], pos: &mut usize) -> Expr {
    let mut items = vec![parse_and(t, pos)];
    while t.get(*pos).map(String::as_str) == Some("||") {
        *pos += 1;
        items.push(parse_and(t, pos));
    }
    if items.len() == 1 { items.pop().unwrap() } else { Expr::Or(items) }
}

fn parse_and(t: &[String], pos: &mut usize) -> Expr {
    let mut items = vec![parse_primary(t, pos)];
    while t.get(*pos).map(String::as_str) == Some("&&") {
        *pos += 1;
        items.push(parse_primary(t, pos));
    }
    if items.len() == 1 { items.pop().unwrap() } else { Expr::And(items) }
}

fn parse_primary(t: &[String], pos: &mut usize) -> Expr {
    let tok = t[*pos].clone();
    *pos += 1;
    if tok == "(" {
        let e = parse_or(t, pos);
        assert_eq!(t[*pos], ")");
        *pos += 1;
        e
    } else {
        Expr::Atom(tok)
    }
}

fn space(rng: &mut StdRng) -> &'static str {
    ["", " ", "  ", "\t"][rng.gen_range(0..4)]
}

fn reformat_atom(atom: &str, rng: &mut StdRng) -> String {
    if let Some(sel) = atom.strip_suffix("NOT EXISTS") {
        return format!("{}{} NOT EXISTS", space(rng), sel.trim());
    }
    let (sel, op, value) = ["!=", "="]
        .iter()
        .find_map(|op| atom.split_once(op).map(|(s, v)| (s.trim(), *op, v.trim())))
        .unwrap_or_else(|| panic!("unexpected atom {atom}"));
    let bare = value.trim_matches('"');
    // Unquoted values may only hold these characters; anything else stays quoted.
    let plain = !bare.is_empty() && bare.chars().all(|c| c.is_ascii_alphanumeric() || ".-_*".contains(c)) && bare.parse::<f64>().is_err();
    let value = if plain && rng.gen_bool(0.5) { bare.to_string() } else { format!("\"{bare}\"") };
    format!("{sel}{}{op}{}{value}", space(rng), space(rng))
}

fn emit(e: &Expr, rng: &mut StdRng, inside_and: bool) -> String {
    let wrap = |s: String, must: bool, rng: &mut StdRng| if must || rng.gen_bool(0.4) { format!("({}{s}{})", space(rng), space(rng)) } else { s };
    match e {
        Expr::Atom(a) => {
            let s = reformat_atom(a, rng);
            wrap(s, false, rng)
        }
        Expr::And(items) | Expr::Or(items) => {
            let is_and = matches!(e, Expr::And(_));
            let mut order: Vec<&Expr> = items.iter().collect();
            order.shuffle(rng);
            let parts: Vec<String> = order.iter().map(|i| emit(i, rng, is_and)).collect();
            let joiner = if is_and { "&&" } else { "||" };
            let joined = parts.join(&format!("{}{joiner}{}", space(rng), space(rng)));
            // An `||` list inside `&&` needs its parentheses; anything else may have them.
            wrap(joined, !is_and && inside_and, rng)
        }
    }
}

fn reformat(pattern: &str, seed: u64) -> String {
    let mut rng = StdRng::seed_from_u64(seed);
    let body = emit(&parse(pattern), &mut rng, false);
    format!("{{{}{body}{}}}", space(&mut rng), space(&mut rng))
}

/// An account whose filters are `patterns` (one per CIS rule) with good alarms and topics.
fn account(patterns: &[(String, String)]) -> AccountSnapshot {
    let group = "arn:aws:logs:us-east-1:111122223333:log-group:trail";
    let topic = "arn:aws:sns:us-east-1:111122223333:alerts";
    let filters = patterns
        .iter()
        .map(|(id, p)| MetricFilter { name: id.clone(), pattern: p.clone(), transformations: vec![MetricTransformation { namespace: "N".into(), name: id.clone(), value: "1".into(), default_value: None }] })
        .collect();
    let alarms = patterns
        .iter()
        .map(|(id, _)| Alarm {
            name: id.clone(),
            arn: None,
            namespace: Some("N".into()),
            metric_name: Some(id.clone()),
            statistic: Some("Sum".into()),
            period: Some(300),
            evaluation_periods: Some(1),
            datapoints_to_alarm: None,
            threshold: Some(1.0),
            comparison: Some("GreaterThanOrEqualToThreshold".into()),
            actions_enabled: true,
            alarm_actions: vec![topic.into()],
            dimensions: vec![],
            uses_metric_math: false,
            treat_missing_data: None,
        })
        .collect();
    AccountSnapshot {
        taken_at: Utc::now(),
        region: "us-east-1".into(),
        trails: Fetched::Ok(vec![Trail {
            name: "t".into(),
            arn: "arn:aws:cloudtrail:us-east-1:111122223333:trail/t".into(),
            home_region: "us-east-1".into(),
            is_multi_region: true,
            is_organization_trail: false,
            include_global_service_events: true,
            log_file_validation: true,
            kms_key_id: Some("k".into()),
            s3_bucket: None,
            cloudwatch_logs_log_group_arn: Some(format!("{group}:*")),
            status: Fetched::Ok(TrailStatus { is_logging: true, latest_cloudwatch_logs_delivery: Some(Utc::now()), latest_cloudwatch_logs_delivery_error: None }),
            selectors: Fetched::Ok(EventSelectors::default()),
        }]),
        buckets: BTreeMap::new(),
        log_groups: BTreeMap::from([(group.to_string(), LogGroup { name: "trail".into(), region: "us-east-1".into(), metric_filters: Fetched::Ok(filters) })]),
        alarms: BTreeMap::from([("us-east-1".to_string(), Fetched::Ok(alarms))]),
        topics: BTreeMap::from([(topic.to_string(), Fetched::Ok(Topic { exists: true, subscriptions: vec![Subscription { arn: format!("{topic}:1"), protocol: "sqs".into(), endpoint: "q".into() }] }))]),
    }
}

fn filter_verdicts(patterns: &[(String, String)]) -> Vec<(String, Status, String)> {
    let cis = builtin::cis(&Params::default());
    let report = evaluate(&cis.compile().unwrap(), &account(patterns), Utc::now());
    report.results.into_iter().filter(|r| r.code.id().ends_with(".filter")).map(|r| (r.code.id(), r.status, r.evidence)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn reformatted_cis_patterns_always_pass(seed in any::<u64>()) {
        let cis = builtin::cis(&Params::default());
        let patterns: Vec<(String, String)> = cis.rules.iter().enumerate().map(|(i, r)| (r.id.clone(), reformat(&r.reference, seed.wrapping_add(i as u64)))).collect();
        for (id, status, evidence) in filter_verdicts(&patterns) {
            let pattern = &patterns.iter().find(|(p, _)| id.starts_with(&format!("{p}."))).unwrap().1;
            prop_assert_eq!(status, Status::Pass, "{} with {}: {}", id, pattern, evidence);
        }
    }
}

/// The reformatter is not vacuous: it does change the text, and a broken equivalent fails.
#[test]
fn reformatting_changes_text_and_breaking_meaning_fails() {
    let cis = builtin::cis(&Params::default());
    let kms = &cis.rules[6];
    let variants: std::collections::BTreeSet<String> = (0..20).map(|s| reformat(&kms.reference, s)).collect();
    assert!(variants.len() > 10, "{variants:?}");
    // `&&` → `||` between the clauses: the meaning changes, and the filter check fails.
    let broken = kms.reference.replacen("&&", "||", 1);
    let verdicts = filter_verdicts(&[(kms.id.clone(), broken)]);
    let (_, status, evidence) = verdicts.iter().find(|v| v.0 == "cis-4.7.filter").unwrap();
    assert_eq!(*status, Status::Fail);
    assert!(evidence.contains("forbidden"), "{evidence}");
}
