//! Evaluates a parsed pattern against one event.
//!
//! Cost is bounded by the sizes of the pattern and the event: globs are matched with a
//! leftmost-first scan (no backtracking), regexes by the `regex` crate (linear time), `...` in
//! space-delimited patterns by the same greedy scan over fields, and JSON selectors are walked
//! iteratively, so event nesting never turns into evaluator recursion. The only recursion is over
//! the pattern's own parentheses, which the parser has bounded.

use std::cmp::Ordering;

use serde_json::Value;

use super::ast::{
    CmpOp, DelimField, FieldExpr, Glob, JsonExpr, JsonTest, Literal, Number, Pattern, Step, Term,
};
use super::LogEvent;

pub(crate) fn eval(pattern: &Pattern, event: &LogEvent) -> bool {
    match pattern {
        Pattern::MatchAll => true,
        Pattern::Terms(groups) => {
            let text = event.text();
            groups.iter().any(|group| {
                group.required.iter().all(|t| term_found(t, text))
                    && !group.excluded.iter().any(|t| term_found(t, text))
            })
        }
        // A non-JSON event has no fields, so no JSON pattern (not even `NOT EXISTS`) matches it.
        Pattern::Json(expr) => event.json().is_some_and(|root| eval_json(expr, root)),
        Pattern::Delimited(fields) => {
            match_delimited(fields, &split_fields(event.text())).is_some()
        }
    }
}

fn term_found(term: &Term, text: &str) -> bool {
    match term {
        Term::Text(t) => text.contains(t.as_str()),
        Term::Regex(r) => r.is_match(text),
    }
}

/// What a JSON value is, as far as a pattern can tell: scalars with their value, containers only
/// by kind (patterns reach into them through [`JsonView::key`] and [`JsonView::index`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JsonKind<'a> {
    Null,
    Bool(bool),
    Number(&'a serde_json::Number),
    String(&'a str),
    Array,
    Object,
}

/// Read access to a parsed JSON event, so that JSON patterns evaluate the same on any
/// representation: `serde_json::Value`, or a replay's records borrowed from the log file's bytes.
/// A representation must read as the `Value` serde_json would build from the same text (for a
/// key given twice, the last value).
pub trait JsonView {
    /// The member `key` of an object; None for a missing key or a value that is no object.
    fn key(&self, key: &str) -> Option<&Self>;
    /// The element `index` of an array; None when out of range or the value is no array.
    fn index(&self, index: usize) -> Option<&Self>;
    fn kind(&self) -> JsonKind<'_>;
}

impl JsonView for Value {
    fn key(&self, key: &str) -> Option<&Value> {
        self.as_object()?.get(key)
    }
    fn index(&self, index: usize) -> Option<&Value> {
        self.as_array()?.get(index)
    }
    fn kind(&self) -> JsonKind<'_> {
        match self {
            Value::Null => JsonKind::Null,
            Value::Bool(b) => JsonKind::Bool(*b),
            Value::Number(n) => JsonKind::Number(n),
            Value::String(s) => JsonKind::String(s),
            Value::Array(_) => JsonKind::Array,
            Value::Object(_) => JsonKind::Object,
        }
    }
}

pub(crate) fn eval_json<V: JsonView + ?Sized>(expr: &JsonExpr, root: &V) -> bool {
    match expr {
        JsonExpr::Or(items) => items.iter().any(|e| eval_json(e, root)),
        JsonExpr::And(items) => items.iter().all(|e| eval_json(e, root)),
        JsonExpr::AnyOf { selector, values, lengths } => matches!(resolve(&selector.steps, root).map(JsonView::kind),
            Some(JsonKind::String(s)) if lengths & super::parse_json::length_bit(s) != 0 && values.contains(s)),
        JsonExpr::Test { selector, test } => {
            let field = resolve(&selector.steps, root).map(JsonView::kind);
            match test {
                JsonTest::NotExists => field.is_none(),
                JsonTest::IsNull => matches!(field, Some(JsonKind::Null)),
                JsonTest::IsTrue => matches!(field, Some(JsonKind::Bool(true))),
                JsonTest::IsFalse => matches!(field, Some(JsonKind::Bool(false))),
                JsonTest::Compare(op, literal) => {
                    field.is_some_and(|f| apply(*op, compare_json(f, literal)))
                }
            }
        }
    }
}

/// Walks the selector one step at a time; a key on a non-object or an index on a non-array (or
/// out of range) means the field does not exist.
pub(crate) fn resolve<'v, V: JsonView + ?Sized>(steps: &[Step], root: &'v V) -> Option<&'v V> {
    steps.iter().try_fold(root, |value, step| match step {
        Step::Key(k) => value.key(k),
        Step::Index(i) => value.index(*i),
    })
}

/// How a field relates to a literal. `Incomparable` makes every operator false, `!=` included:
/// `!=` asserts that a comparable value differs, not merely that the field is something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Equal(bool),
    Order(Ordering),
    Incomparable,
}

fn compare_json(field: JsonKind, literal: &Literal) -> Outcome {
    match (literal, field) {
        (Literal::Text(glob), JsonKind::String(s)) => Outcome::Equal(glob.matches(s)),
        // `{ $.latency = * }` is AWS's own example for a numeric field ("latency": 50): a bare
        // wildcard stands for any value of the two kinds a selector may point at, strings and
        // numbers. Any other glob is text and compares with strings only.
        (Literal::Text(glob), JsonKind::Number(_)) if glob.is_any() => Outcome::Equal(true),
        (Literal::Regex(re), JsonKind::String(s)) => Outcome::Equal(re.is_match(s)),
        (Literal::Number(n), JsonKind::Number(f)) => json_number(f)
            .and_then(|f| compare_numbers(&f, n))
            .map_or(Outcome::Incomparable, Outcome::Order),
        (Literal::Bool(b), JsonKind::Bool(f)) => Outcome::Equal(*b == f),
        (Literal::Null, JsonKind::Null) => Outcome::Equal(true),
        // Type mismatch, including objects and arrays, which no literal can describe.
        _ => Outcome::Incomparable,
    }
}

fn apply(op: CmpOp, outcome: Outcome) -> bool {
    match (op, outcome) {
        (_, Outcome::Incomparable) => false,
        (CmpOp::Eq, Outcome::Equal(eq)) => eq,
        (CmpOp::Ne, Outcome::Equal(eq)) => !eq,
        (op, Outcome::Order(ord)) => match op {
            CmpOp::Eq => ord == Ordering::Equal,
            CmpOp::Ne => ord != Ordering::Equal,
            CmpOp::Lt => ord == Ordering::Less,
            CmpOp::Le => ord != Ordering::Greater,
            CmpOp::Gt => ord == Ordering::Greater,
            CmpOp::Ge => ord != Ordering::Less,
        },
        // The parser only allows ordering operators with numeric literals.
        (_, Outcome::Equal(_)) => false,
    }
}

fn json_number(n: &serde_json::Number) -> Option<Number> {
    let int = n
        .as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from));
    Some(Number {
        value: n.as_f64()?,
        int,
    })
}

/// Exact when both sides are integers, otherwise as `f64`.
fn compare_numbers(field: &Number, literal: &Number) -> Option<Ordering> {
    match (field.int, literal.int) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => field.value.partial_cmp(&literal.value),
    }
}

impl Glob {
    /// `*` matches any run of characters, including none. With only `*` as a metacharacter the
    /// leftmost occurrence of each middle part is always a safe choice, so one forward scan
    /// decides the match: no backtracking, O(len(text) * len(pattern)) at worst.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let (first, rest) = match self.parts.split_first() {
            Some(split) => split,
            None => return text.is_empty(),
        };
        let Some((last, middle)) = rest.split_last() else {
            return text == first;
        };
        let Some(text) = text.strip_prefix(first.as_str()) else {
            return false;
        };
        // Stripping the suffix from what is left keeps prefix and suffix from overlapping.
        let Some(mut text) = text.strip_suffix(last.as_str()) else {
            return false;
        };
        for part in middle {
            match text.find(part.as_str()) {
                Some(at) => text = text.get(at + part.len()..).unwrap_or_default(),
                None => return false,
            }
        }
        true
    }
}

/// Splits event text into space-delimited fields. Whitespace runs separate fields; a field that
/// starts with `"` runs to the next `"` and one that starts with `[` to its matching `]` (nested
/// brackets count), and the enclosing quotes or brackets are stripped, so in
/// `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200` the timestamp and request
/// are one field each. An unclosed quote or bracket runs to the end of the text.
pub(crate) fn split_fields(text: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        chars.next();
        let inner = start + c.len_utf8();
        let field = match c {
            '"' => {
                let end = chars
                    .find(|&(_, c)| c == '"')
                    .map_or(text.len(), |(i, _)| i);
                text.get(inner..end)
            }
            '[' => {
                let mut depth = 1usize;
                let end = chars
                    .find(|&(_, c)| {
                        match c {
                            '[' => depth += 1,
                            ']' => depth -= 1,
                            _ => {}
                        }
                        depth == 0
                    })
                    .map_or(text.len(), |(i, _)| i);
                text.get(inner..end)
            }
            _ => {
                let mut end = text.len();
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_whitespace() {
                        end = i;
                        break;
                    }
                    chars.next();
                }
                text.get(start..end)
            }
        };
        // All slice ends come from `char_indices`, so `get` cannot fail here.
        fields.push(field.unwrap_or_default());
    }
    fields
}

/// Matches pattern fields against event fields. `...` behaves like `*` in a glob whose
/// "characters" are fields and each named field is a predicate on one event field, so the same
/// greedy scan with a single backtrack point applies: O(fields * pattern fields) predicate calls.
///
/// On a match, returns for each pattern field the index of the event field it took (`None` for
/// `...`). Bindings before the last `...` never change on backtracking and the ones after it are
/// rewritten on every retry, so the final pass leaves exactly the matching assignment.
pub(crate) fn match_delimited(
    pattern: &[DelimField],
    fields: &[&str],
) -> Option<Vec<Option<usize>>> {
    let mut bound: Vec<Option<usize>> = vec![None; pattern.len()];
    let (mut p, mut f) = (0usize, 0usize);
    // Position after the last `...` seen, and the event field it was last tried from.
    let mut resume: Option<(usize, usize)> = None;
    while f < fields.len() {
        match (pattern.get(p), fields.get(f)) {
            (Some(DelimField::Ellipsis), _) => {
                p += 1;
                resume = Some((p, f));
            }
            (Some(DelimField::Field { cond, .. }), Some(text))
                if cond.as_ref().is_none_or(|c| eval_field(c, text)) =>
            {
                if let Some(slot) = bound.get_mut(p) {
                    *slot = Some(f);
                }
                p += 1;
                f += 1;
            }
            _ => match resume {
                Some((rp, rf)) => {
                    p = rp;
                    f = rf + 1;
                    resume = Some((rp, rf + 1));
                }
                None => return None,
            },
        }
    }
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|d| matches!(d, DelimField::Ellipsis))
        .then_some(bound)
}

fn eval_field(expr: &FieldExpr, text: &str) -> bool {
    match expr {
        FieldExpr::Or(items) => items.iter().any(|e| eval_field(e, text)),
        FieldExpr::And(items) => items.iter().all(|e| eval_field(e, text)),
        FieldExpr::Compare(op, literal) => apply(*op, compare_text(text, literal)),
    }
}

/// Space-delimited fields are text; a numeric literal compares numerically when the field text
/// is a number in the same syntax as pattern numbers, and is incomparable otherwise.
fn compare_text(text: &str, literal: &Literal) -> Outcome {
    match literal {
        Literal::Text(glob) => Outcome::Equal(glob.matches(text)),
        Literal::Regex(re) => Outcome::Equal(re.is_match(text)),
        Literal::Number(n) => Number::parse(text)
            .and_then(|f| compare_numbers(&f, n))
            .map_or(Outcome::Incomparable, Outcome::Order),
        // The parser never builds these for delimited patterns.
        Literal::Bool(_) | Literal::Null => Outcome::Incomparable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_rules() {
        let cases = [
            ("abc", "abc", true),
            ("abc", "abcd", false),
            ("", "", true),
            ("", "a", false),
            ("*", "", true),
            ("*", "anything", true),
            ("**", "", true),
            ("a*", "a", true),
            ("a*", "abc", true),
            ("a*", "ba", false),
            ("*c", "abc", true),
            ("*c", "c", true),
            ("*c", "cb", false),
            ("a*c", "ac", true),
            ("a*c", "abbbc", true),
            ("a*c", "abcb", false),
            ("aa*aa", "aaa", false),
            ("aa*aa", "aaaa", true),
            ("a*b*c", "axbyc", true),
            ("a*b*c", "acb", false),
            ("*b*b*", "abcb", true),
            ("*b*b*", "abc", false),
            ("*.8xlarge", "m5.8xlarge", true),
            ("*.8xlarge", "m5.4xlarge", false),
            ("é*ü", "éaü", true),
            ("AccessDenied*", "AccessDenied", true),
            ("AccessDenied*", "AccessDeniedException", true),
            ("AccessDenied*", "Client.AccessDenied", false),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(
                Glob::new(pattern).matches(text),
                want,
                "{pattern:?} vs {text:?}"
            );
        }
    }

    #[test]
    fn glob_is_not_exponential() {
        let text = "a".repeat(20_000);
        let pattern = format!("{}b", "a*".repeat(200));
        assert!(!Glob::new(&pattern).matches(&text));
    }

    #[test]
    fn field_splitting() {
        let cases: [(&str, &[&str]); 7] = [
            ("", &[]),
            ("  a  b\tc ", &["a", "b", "c"]),
            (
                "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 1534",
                &[
                    "127.0.0.1",
                    "-",
                    "frank",
                    "10/Oct/2000:13:25:15 -0700",
                    "GET /apache_pb.gif HTTP/1.0",
                    "200",
                    "1534",
                ],
            ),
            ("[a [b] c] d", &["a [b] c", "d"]),
            ("\"unclosed quote", &["unclosed quote"]),
            ("[unclosed", &["unclosed"]),
            ("x\"y z\"", &["x\"y", "z\""]),
        ];
        for (text, want) in cases {
            assert_eq!(split_fields(text), want, "{text:?}");
        }
    }

    #[test]
    fn number_compare_is_exact_for_integers() {
        let big = Number::parse("9007199254740993").unwrap();
        let near = Number::parse("9007199254740992").unwrap();
        assert_eq!(compare_numbers(&big, &near), Some(Ordering::Greater));
        let float = Number::parse("1e3").unwrap();
        let int = Number::parse("1000").unwrap();
        assert_eq!(compare_numbers(&int, &float), Some(Ordering::Equal));
    }
}
