//! A metric filter's `metricValue`: what one matching event adds to the metric.
//!
//! AWS documents three forms: a number (`1`, the usual count), `$.field` taken from a JSON event
//! (`metricFilter: { $.latency = * } metricValue: $.latency`), and `$name` naming a field of a
//! space-delimited pattern (`[ip, id, user, timestamp, request, status_code, size]` with
//! `metricValue: $size`), or `$7`, the event's seventh field, as in AWS's list of extracted fields
//! (`"$7": "1534"`). `defaultValue` is the caller's business: it applies to events the pattern
//! does not match ([`Emission::NotMatched`]).


use super::ast::{Number, Pattern, Step};
use super::eval::{eval, eval_json, match_delimited, resolve, split_fields, JsonKind, JsonView};
use super::parser::Parser;
use super::{FilterPattern, LogEvent, PatternError};

/// A parsed `metricValue`.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    /// A literal number, published for every matching event.
    Constant(f64),
    /// `$.path`: the value at this selector in the matching JSON event.
    Json(JsonPath),
    /// `$name` or `$N`: a field of a space-delimited pattern, by its name in the pattern; when no
    /// field has that name and it is all digits, the event's N-th field (from 1).
    Field(String),
}

/// The selector of a `$.path` metric value, with its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

impl JsonPath {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The selector's steps from the event's root.
    pub(crate) fn steps(&self) -> &[Step] {
        &self.steps
    }
}

/// What one event contributes to a metric filter's metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Emission {
    /// The pattern does not match: the filter's `defaultValue`, if it has one, applies.
    NotMatched,
    /// The pattern matches and publishes this value.
    Value(f64),
    /// The pattern matches but the metric value names nothing numeric in this event (a missing
    /// field, text, a boolean, null, an object): nothing is published, not even the default,
    /// which is for non-matching events.
    NoValue,
}

impl MetricValue {
    /// Parses a `metricValue`. Surrounding blanks are ignored; anything but a number, `$.path`
    /// (the selector syntax of JSON patterns) or `$name` (letters, digits, `_`, `-`) is an error.
    pub fn parse(text: &str) -> Result<MetricValue, PatternError> {
        let lead = text.len() - text.trim_start().len();
        let body = text.trim();
        if let Some(rest) = body.strip_prefix('$') {
            if rest.starts_with('.') || rest.starts_with('[') {
                let selector = Parser::for_source(text).selector(body, lead)?;
                return Ok(MetricValue::Json(JsonPath {
                    text: body.to_owned(),
                    steps: selector.steps,
                }));
            }
            let bad = rest
                .char_indices()
                .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'));
            return match (rest.is_empty(), bad) {
                (true, _) => Err(PatternError::new(
                    lead + 1,
                    "expected `.field` or a field name after `$`, found end of metric value",
                )),
                (false, Some((at, c))) => Err(PatternError::new(
                    lead + 1 + at,
                    format!(
                        "expected a field name (letters, digits, `_`, `-`) after `$`, found `{c}`"
                    ),
                )),
                (false, None) => Ok(MetricValue::Field(rest.to_owned())),
            };
        }
        match Number::parse(body) {
            Some(n) => Ok(MetricValue::Constant(n.value)),
            None => Err(PatternError::new(
                lead,
                format!(
                    "expected a number, `$.field` or `$name` as metric value, found `{}`",
                    body.chars().take(32).collect::<String>()
                ),
            )),
        }
    }
}

impl FilterPattern {
    /// Evaluates `event` once for a metric filter with this pattern and `value`.
    pub fn emission(&self, value: &MetricValue, event: &LogEvent) -> Emission {
        let found = match (&self.pattern, value) {
            // Space-delimited fields need the match's bindings, so they match and extract at once.
            (Pattern::Delimited(fields), MetricValue::Field(name)) => {
                let text = split_fields(event.text());
                let Some(bound) = match_delimited(fields, &text) else {
                    return Emission::NotMatched;
                };
                let named = fields
                    .iter()
                    .zip(&bound)
                    .find_map(|(field, at)| match field {
                        super::ast::DelimField::Field { name: Some(n), .. } if n == name => {
                            Some(*at)
                        }
                        _ => None,
                    });
                let index = match named {
                    Some(at) => at,
                    None => name.parse::<usize>().ok().and_then(|n| n.checked_sub(1)),
                };
                index
                    .and_then(|i| text.get(i))
                    .and_then(|t| Number::parse(t))
                    .map(|n| n.value)
            }
            _ if !eval(&self.pattern, event) => return Emission::NotMatched,
            _ => return published(value, event.json()),
        };
        found.map_or(Emission::NoValue, Emission::Value)
    }

    /// [`FilterPattern::emission`] for an event given as parsed JSON only, in any representation;
    /// None when the pattern reads the event's text (term and space-delimited patterns), which
    /// only a [`LogEvent`] has. For a JSON pattern (or an empty one) it is exactly what
    /// `emission` gives for the `LogEvent` of the same JSON.
    pub fn json_emission<V: JsonView + ?Sized>(&self, value: &MetricValue, json: &V) -> Option<Emission> {
        let matched = match &self.pattern {
            Pattern::MatchAll => true,
            Pattern::Json(expr) => eval_json(expr, json),
            Pattern::Terms(_) | Pattern::Delimited(_) => return None,
        };
        Some(if matched { published(value, Some(json)) } else { Emission::NotMatched })
    }

    /// The value a matching event publishes; `None` when the pattern does not match or the event
    /// has nothing numeric where `value` points.
    pub fn metric_value(&self, value: &MetricValue, event: &LogEvent) -> Option<f64> {
        match self.emission(value, event) {
            Emission::Value(v) => Some(v),
            Emission::NotMatched | Emission::NoValue => None,
        }
    }
}

/// What a matching event publishes (for any pattern but a space-delimited one with `$name`).
fn published<V: JsonView + ?Sized>(value: &MetricValue, json: Option<&V>) -> Emission {
    let found = match value {
        MetricValue::Constant(v) => Some(*v),
        MetricValue::Json(path) => json
            .and_then(|root| resolve(&path.steps, root))
            .and_then(|v| json_number(v.kind())),
        // `$name` names a field of a space-delimited pattern; other patterns have none.
        MetricValue::Field(_) => None,
    };
    found.map_or(Emission::NoValue, Emission::Value)
}

/// A JSON number, or a string holding exactly a number in the pattern syntax (`"100"`, `"2.5"`):
/// space-delimited fields are text too and AWS publishes them (`$size` = "1534"), so a JSON string
/// gets the same reading. Booleans, null, objects, arrays and other text publish nothing.
fn json_number(value: JsonKind) -> Option<f64> {
    match value {
        JsonKind::Number(n) => n.as_f64().filter(|v| v.is_finite()),
        JsonKind::String(s) => Number::parse(s).map(|n| n.value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter_pattern::parse;

    #[test]
    fn parse_metric_values() {
        let ok: &[(&str, &str)] = &[
            ("1", "Constant(1.0)"),
            (" 1 ", "Constant(1.0)"),
            ("+2.5", "Constant(2.5)"),
            ("-1", "Constant(-1.0)"),
            ("1e3", "Constant(1000.0)"),
            ("$.latency", "Json($.latency)"),
            ("$.a[0].b", "Json($.a[0].b)"),
            ("$[0]", "Json($[0])"),
            ("$size", "Field(size)"),
            ("$status_code", "Field(status_code)"),
            ("$7", "Field(7)"),
        ];
        for &(text, want) in ok {
            let got = match MetricValue::parse(text) {
                Ok(MetricValue::Constant(v)) => format!("Constant({v:?})"),
                Ok(MetricValue::Json(p)) => format!("Json({})", p.as_str()),
                Ok(MetricValue::Field(n)) => format!("Field({n})"),
                Err(e) => format!("error {e}"),
            };
            assert_eq!(got, want, "{text:?}");
        }
        let bad: &[(&str, &str)] = &[
            (
                "",
                "at byte 0: expected a number, `$.field` or `$name` as metric value, found ``",
            ),
            (
                "one",
                "at byte 0: expected a number, `$.field` or `$name` as metric value, found `one`",
            ),
            (
                "inf",
                "at byte 0: expected a number, `$.field` or `$name` as metric value, found `inf`",
            ),
            (
                "$",
                "at byte 1: expected `.field` or a field name after `$`, found end of metric value",
            ),
            (
                " $a b",
                "at byte 3: expected a field name (letters, digits, `_`, `-`) after `$`, found ` `",
            ),
            (
                "$.",
                "at byte 2: expected a property name after `.`, found end of pattern",
            ),
            (
                "$.a[x]",
                "at byte 4: expected an array index (digits) after `[`, found `x`",
            ),
            (
                "$.a.",
                "at byte 4: expected a property name after `.`, found end of pattern",
            ),
            (
                "$é",
                "at byte 1: expected a field name (letters, digits, `_`, `-`) after `$`, found `é`",
            ),
        ];
        for &(text, want) in bad {
            match MetricValue::parse(text) {
                Ok(v) => panic!("{text:?} parsed as {v:?}"),
                Err(e) => assert_eq!(e.to_string(), want, "{text:?}"),
            }
        }
    }

    #[track_caller]
    fn emits(pattern: &str, value: &str, event: &str, want: Emission) {
        let p = parse(pattern).unwrap();
        let v = MetricValue::parse(value).unwrap();
        let e = LogEvent::new(event);
        assert_eq!(
            p.emission(&v, &e),
            want,
            "{pattern:?} {value:?} on {event:?}"
        );
        // The evaluation on JSON alone (a replay's) agrees, or declines for text patterns.
        if let Some(json) = e.json() {
            let text_pattern = matches!(p.pattern, Pattern::Terms(_) | Pattern::Delimited(_));
            assert_eq!(
                p.json_emission(&v, json),
                (!text_pattern).then_some(want),
                "json_emission: {pattern:?} {value:?} on {event:?}"
            );
        }
        let plain = match want {
            Emission::Value(v) => Some(v),
            _ => None,
        };
        assert_eq!(p.metric_value(&v, &e), plain);
        assert_eq!(
            p.matches(&e),
            want != Emission::NotMatched,
            "matches() agrees"
        );
    }

    #[test]
    fn json_metric_values() {
        use Emission::*;
        // AWS: `{ $.latency = * }` with metricValue `$.latency` publishes 50 for this event.
        emits(
            "{ $.latency = * }",
            "$.latency",
            r#"{"latency": 50, "requestType": "GET"}"#,
            Value(50.0),
        );
        let cases: &[(&str, &str, &str, Emission)] = &[
            (
                "{ $.latency = * }",
                "$.latency",
                r#"{"requestType": "GET"}"#,
                NotMatched,
            ),
            (
                "{ $.latency = * }",
                "$.latency",
                r#"{"latency": -2.5}"#,
                Value(-2.5),
            ),
            (
                "{ $.latency = * }",
                "$.latency",
                r#"{"latency": 1e3}"#,
                Value(1000.0),
            ),
            (
                "{ $.latency = * }",
                "$.latency",
                r#"{"latency": "100"}"#,
                Value(100.0),
            ),
            (
                "{ $.latency = * }",
                "$.latency",
                r#"{"latency": "+1.5e1"}"#,
                Value(15.0),
            ),
            (
                "{ $.latency = * }",
                "$.latency",
                r#"{"latency": "fast"}"#,
                NoValue,
            ),
            (
                "{ $.latency = * }",
                "$.latency",
                r#"{"latency": " 100"}"#,
                NoValue,
            ),
            (
                "{ $.latency = * }",
                "$.latency",
                r#"{"latency": ""}"#,
                NoValue,
            ),
            (
                "{ $.latency = * }",
                "$.latency",
                r#"{"latency": "NaN"}"#,
                NoValue,
            ),
            (
                "{ $.latency = * }",
                "$.latency",
                r#"{"latency": "1e999"}"#,
                NoValue,
            ),
            ("{ $.ok IS TRUE }", "$.ok", r#"{"ok": true}"#, NoValue),
            ("{ $.n IS NULL }", "$.n", r#"{"n": null}"#, NoValue),
            ("{ $.a = x }", "$.missing", r#"{"a": "x"}"#, NoValue),
            (
                "{ $.a = x }",
                "$.obj",
                r#"{"a": "x", "obj": {"v": 1}}"#,
                NoValue,
            ),
            ("{ $.a = x }", "$.arr", r#"{"a": "x", "arr": [1]}"#, NoValue),
            (
                "{ $.a = x }",
                "$.arr[1]",
                r#"{"a": "x", "arr": [1, 7]}"#,
                Value(7.0),
            ),
            (
                "{ $.a = x }",
                "$.o.n",
                r#"{"a": "x", "o": {"n": 3}}"#,
                Value(3.0),
            ),
            ("{ $.a = x }", "2.5", r#"{"a": "x"}"#, Value(2.5)),
            ("{ $.a = x }", "2.5", r#"{"a": "y"}"#, NotMatched),
            ("{ $.a = x }", "$a", r#"{"a": "x"}"#, NoValue),
            ("{ $.n > +1000 }", "$.n", r#"{"n": 1500}"#, Value(1500.0)),
            ("{ $.n > +1000 }", "$.n", r#"{"n": 999}"#, NotMatched),
            (
                "{ $.n = * }",
                "$.n",
                r#"{"n": 18446744073709551615}"#,
                Value(18446744073709551615.0),
            ),
            // Term patterns match text; `$.path` still reads the JSON event that matched.
            (
                "ConsoleLogin",
                "$.n",
                r#"{"eventName": "ConsoleLogin", "n": 4}"#,
                Value(4.0),
            ),
            ("ConsoleLogin", "$.n", "ConsoleLogin n=4", NoValue),
            ("", "1", "anything", Value(1.0)),
        ];
        for &(pattern, value, event, want) in cases {
            emits(pattern, value, event, want);
        }
    }

    #[test]
    fn delimited_metric_values() {
        use Emission::*;
        // AWS's ExtractBytesExample: `[ip, id, user, timestamp, request, status_code, size]`
        // with metricValue `$size` publishes the seventh field.
        let apache =
            "127.0.0.1 - - [24/Sep/2013:11:49:52 -0700] \"GET /index.html HTTP/1.1\" 404 287";
        let pattern = "[ip, id, user, timestamp, request, status_code, size]";
        emits(pattern, "$size", apache, Value(287.0));
        emits(pattern, "$7", apache, Value(287.0));
        emits(pattern, "$status_code", apache, Value(404.0));
        emits(pattern, "$request", apache, NoValue);
        emits(pattern, "$nosuch", apache, NoValue);
        emits(pattern, "$8", apache, NoValue);
        emits(pattern, "$0", apache, NoValue);
        emits(pattern, "$.size", apache, NoValue);
        emits(pattern, "1", apache, Value(1.0));
        emits(pattern, "$size", "too few fields", NotMatched);
        // AWS's extracted-fields example: the unnamed trailing slot is $7, named fields by name.
        let line =
            "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 404 1534";
        let p = "[..., request=*.html*, status_code=4*,]";
        emits(p, "$7", line, Value(1534.0));
        emits(p, "$status_code", line, Value(404.0));
        emits(p, "$6", line, Value(404.0));
        emits(p, "$1", line, NoValue);
        // Bindings after `...` are the ones of the final match, not of an abandoned attempt.
        let p = "[..., code = 5*, bytes]";
        emits(p, "$bytes", "500 1 200 2 503 3", Value(3.0));
        emits(p, "$code", "500 1 200 2 503 3", Value(503.0));
        emits("[a, ..., b = x, n, ...]", "$n", "0 x 1 y x 2", Value(1.0));
        emits("[a, ..., b = y, n, ...]", "$n", "0 x 1 y x 2", NoValue);
        emits("[..., b = x, n > 0]", "$n", "x -1 x 5", Value(5.0));
        emits("[..., b = x, n > 0, ...]", "$n", "x -1 x 5 x 6", Value(5.0));
        emits("[..., n > 10, ..., m < 0]", "$n", "1 20 30 -5", Value(20.0));
        emits("[..., n > 10, ..., m < 0]", "$m", "1 20 30 -5", Value(-5.0));
        // A field named with digits wins over the position.
        emits("[2, x]", "$2", "5 6", Value(5.0));
        emits("[a, b]", "$2", "5 +6", Value(6.0));
        emits("[a, b]", "$b", "5 six", NoValue);
        emits("[a, b]", "$b", "5 true", NoValue);
        // `$name` needs a space-delimited pattern.
        emits("{ $.a = * }", "$a", r#"{"a": 1}"#, NoValue);
        emits("ERROR", "$1", "ERROR 5", NoValue);
    }
}
