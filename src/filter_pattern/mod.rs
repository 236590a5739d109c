//! CloudWatch Logs filter patterns: parse once, then test log events against them.
//!
//! trailproof uses this to check what a metric filter (for example a CIS monitoring alarm)
//! would actually catch. It is a small compiler: `lexer` → `parser` → `ast` → `eval`,
//! plus `events` for reading sample events. Everything except `events` is pure, and nothing
//! panics or recurses without bound on hostile patterns or events.
//!
//! # Pattern kinds
//!
//! The first non-blank character decides: nothing → matches every event; `{` → JSON pattern;
//! `[` → space-delimited pattern; anything else → term pattern.
//!
//! # Semantic decisions
//!
//! The reference is AWS's "Filter and Pattern Syntax" page of the CloudWatch Logs User Guide;
//! every example on it is a row of `tests::aws_filter_and_pattern_syntax_page`. Where the page is
//! silent, or contradicts itself, these are the choices made (each is tested):
//!
//! **Limits**
//! * Pattern length is counted in characters, like AWS's 1024-character limit
//!   ([`PatternLimits::max_pattern_len`]); the error points at the first character past it.
//! * [`PatternLimits::max_depth`] bounds parenthesis nesting; it is clamped to 256 whatever the
//!   caller asks, because parsing and evaluation recurse once per `(`.
//! * At most 2 `%regex%` per pattern (AWS's limit); each is compiled with a size limit.
//!
//! **Term patterns** (match the raw event text, case-sensitive substring)
//! * A term is a `"quoted phrase"` (`\"` and `\\` are escapes; other backslashes are literal), a
//!   `%regex%`, or any run of non-blank characters up to a `"`. Unquoted terms may contain any
//!   punctuation (AWS asks for quotes around non-alphanumerics; we accept both).
//! * `*` has no special meaning in terms; `ERROR*` looks for the text `ERROR*`.
//! * A `-` prefix excludes a term; quote a term that itself starts with `-` (`"-1"`). Blanks may
//!   follow the `-` (AWS's example `"ERROR" - "Exiting"`), so a lone `-` is never a term.
//! * `?` starts a new alternative and the event matches if any alternative matches; plain and `-`
//!   terms belong to the alternative they follow, and terms before the first `?` form an
//!   alternative of their own. So `?ERROR ?WARN` is ERROR or WARN, `?ERROR -Exiting ?WARN` is
//!   (ERROR and not Exiting) or WARN, `ERROR ?WARN` is ERROR or WARN. This is how the AWS CDK's
//!   `anyTermGroup` renders groups (`?"a" "b" ?"c" "d"`).
//! * `?` must be glued to its term; `? ERROR` is an error.
//!
//! **JSON patterns** (only events whose text is JSON can match, even `NOT EXISTS`)
//! * `&&` binds tighter than `||`; parentheses nest; whitespace between tokens is insignificant.
//! * Selectors: `$` followed by one or more `.name` / `[index]` steps. Names are letters and
//!   digits (any script), `_`, `-`, `@`, `:`. There is no quoting for other keys and no `[*]`.
//! * Keywords `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS` are case-insensitive (AWS documents
//!   upper case; nothing else can stand in that position, so lower case is unambiguous).
//! * Values: `"quoted"` or unquoted text, a number (AWS's NUMBER: an optional `+` or `-`, digits
//!   with an optional fraction, an optional `e`/`E` exponent with its own optional sign: `5`,
//!   `+1000`, `-1.5`, `10e-3`; never `inf`/`NaN`), unquoted `true`/`false`/`null` (exact lower
//!   case, the JSON literals; quote them to compare text), or `%regex%`.
//! * In quoted and unquoted text values alike, a `*` at the start or the end is a wildcard (any
//!   run, including empty) and a `*` anywhere else is literal: AWS says "`Ev*ent` will only
//!   match the actual string `Ev*ent`". There is no escape for a leading or trailing literal `*`.
//!   (Baseline exceptions use [`glob_matches`], where every `*` is a wildcard.)
//! * A value of only `*` (`{ $.latency = * }`, quoted or not) matches any string or number, as in
//!   AWS's metric-value example where `latency` is the number 50; it does not match booleans,
//!   null, objects, arrays or a missing field. Any other text (`5*`) compares with strings only.
//! * A `%regex%` is an unanchored search within the string value (AWS: `%AUTHORIZED%` matches
//!   `UNAUTHORIZED`); use `^`/`$` to anchor. It ends at the next `%`. The `regex` crate's syntax
//!   is accepted, a superset of AWS's dialect. An invalid regex is an error at its `%`.
//! * Comparisons are typed: text values (globs, regexes) compare with JSON strings only (save a
//!   bare `*`, above), numbers
//!   with JSON numbers only (exactly when both are integers), `true`/`false` with booleans,
//!   `null` with null. So `$.code = 5` does not match `"5"`, and `$.code = "5"` does not match 5.
//! * A comparison needs the field to exist and be comparable with the value; otherwise every
//!   operator is false, **`!=` included**: `!=` on a missing field, on a field of another type
//!   (string field vs numeric value) or on an object/array does not match. Use `NOT EXISTS` to
//!   test absence.
//! * `<`, `<=`, `>`, `>=` require a numeric value; anything else is a parse error.
//! * A selector that resolves to an object or array never matches: comparisons and `IS ...` are
//!   false, and `NOT EXISTS` is false because the field exists. A missing intermediate step
//!   (key on a non-object, index on a non-array, index out of range) means "does not exist".
//!
//! **Space-delimited patterns**
//! * Event text splits on runs of whitespace; a field starting with `"` runs to the next `"`, one
//!   starting with `[` to its matching `]`; the quotes/brackets are stripped. Unclosed ones run to
//!   the end of the text.
//! * Without `...` the field count must match exactly; each `...` matches zero or more fields
//!   (several are allowed). Field names are ASCII letters, digits, `_`, `-`.
//! * An empty slot (`[a, , b]`, or the trailing comma of AWS's `[..., request=*.html*,
//!   status_code=4*,]`) is one field with no name and no condition: AWS's extracted fields for that
//!   example give the slot the event's last field. `[]` is an error.
//! * A condition tests only its own field. AWS's page shows
//!   `[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]`, six slots for its
//!   seven-field lines; it cannot mean what it shows, and it is an error here. The page also says
//!   `[w1!=ERROR&&w1!=WARN, w2]` matches `ERROR WARN message`, which contradicts its own rules;
//!   it does not match here.
//! * A field may carry a condition: `name op value`, combined with `&&`, `||` and parentheses;
//!   every name in one field's condition must be that field's name (a condition cannot test
//!   another field).
//! * Values are as in JSON patterns, except `true`/`false`/`null` are plain text. A numeric value
//!   compares numerically when the field text is a number in the same syntax (`+5`, `1e3`);
//!   against non-numeric text every operator (`!=` included) is false, as for a type mismatch in
//!   JSON. Text values (`4*`) compare with the field's text whatever it holds.
//!
//! **Case and script.** Term, key and value comparisons are case-sensitive and compare characters
//! as written (no Unicode normalization); only the keywords `IS`, `NULL`, `TRUE`, `FALSE`, `NOT`,
//! `EXISTS` ignore case. A regex can ask for case-insensitivity itself (`%(?i)error%`).
//!
//! **Metric values** ([`MetricValue`], [`FilterPattern::emission`]): what a matching event
//! publishes.
//! * `metricValue` is a number (`1`, `+2.5`, `1e3`), `$.path` (a JSON selector, same syntax as in
//!   patterns), `$name` (a named field of a space-delimited pattern) or `$N` (the event's N-th
//!   field from 1, when no pattern field is named `N`). Anything else is an error.
//! * `$.path` reads the matching event's JSON whatever the pattern's kind, and whether or not the
//!   pattern mentions the path (AWS advises `{ $.latency = * }` so that only events carrying it
//!   match; it does not say what happens otherwise). `$name`/`$N` need a space-delimited pattern;
//!   with any other pattern they publish nothing.
//! * A JSON number publishes itself. A JSON string holding exactly a number in pattern syntax
//!   (`"100"`, `"-2.5"`) publishes that number, as a space-delimited field's text does (AWS's
//!   `$size` example is text "1534"). Booleans, null, objects, arrays, other text, and a missing
//!   field publish nothing ([`Emission::NoValue`]).
//! * `defaultValue` is for events the pattern does not match ([`Emission::NotMatched`]); a matching
//!   event that publishes nothing does not get the default either.
//!
//! **Errors** carry the byte offset of the offending token (for an unterminated string or
//! regex: of its opening quote or `%`) and say what was expected and what was found.

mod ast;
mod eval;
mod events;
mod lexer;
mod metric;
mod parse_delimited;
mod parse_json;
mod parser;
mod token;

use serde_json::Value;

pub use events::{read_events, EventsError};
pub use eval::{JsonKind, JsonView};
pub(crate) use ast::Step;
pub use metric::{Emission, JsonPath, MetricValue};

/// `*` matches any run of characters, everything else is literal: the wildcard of filter-pattern
/// values, also used for baseline exceptions (check IDs, resources) and parameters.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    ast::Glob::new(pattern).matches(text)
}

/// Parser limits. Patterns come from accounts being audited, so they are treated as hostile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternLimits {
    /// Longest accepted pattern, in characters. Default 1024, AWS's limit.
    pub max_pattern_len: usize,
    /// Deepest accepted nesting of parentheses. Default 32; values above 256 act as 256.
    pub max_depth: usize,
}

impl Default for PatternLimits {
    fn default() -> Self {
        PatternLimits {
            max_pattern_len: 1024,
            max_depth: 32,
        }
    }
}

/// Why a pattern was rejected, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("at byte {offset}: {message}")]
pub struct PatternError {
    /// Byte offset into the pattern.
    pub offset: usize,
    /// What was expected and what was found.
    pub message: String,
}

impl PatternError {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> PatternError {
        PatternError {
            offset,
            message: message.into(),
        }
    }
}

/// A parsed filter pattern, ready to test events against.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    source: String,
    pattern: ast::Pattern,
}

impl FilterPattern {
    pub fn matches(&self, event: &LogEvent) -> bool {
        eval::eval(&self.pattern, event)
    }

    /// The pattern text as given.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The selectors of a JSON pattern, each as its steps from the event's root; None when the
    /// pattern reads the raw text (term and space-delimited patterns). An event reduced to what
    /// these selectors reach (each selector's value kept whole) matches exactly as the whole event
    /// does.
    pub(crate) fn json_selectors(&self) -> Option<Vec<&[Step]>> {
        fn walk<'p>(e: &'p ast::JsonExpr, out: &mut Vec<&'p [Step]>) {
            match e {
                ast::JsonExpr::Or(list) | ast::JsonExpr::And(list) => list.iter().for_each(|e| walk(e, out)),
                ast::JsonExpr::Test { selector, .. } | ast::JsonExpr::AnyOf { selector, .. } => out.push(&selector.steps),
            }
        }
        let mut out = Vec::new();
        match &self.pattern {
            ast::Pattern::MatchAll => Some(out),
            ast::Pattern::Json(e) => {
                walk(e, &mut out);
                Some(out)
            }
            ast::Pattern::Terms(_) | ast::Pattern::Delimited(_) => None,
        }
    }
}

/// The value a selector's steps reach, for tests outside this module.
#[cfg(test)]
pub(crate) fn resolve_for_tests<'v, V: JsonView + ?Sized>(steps: &[Step], root: &'v V) -> Option<&'v V> {
    eval::resolve(steps, root)
}

/// Parses `pattern` with the default [`PatternLimits`].
pub fn parse(pattern: &str) -> Result<FilterPattern, PatternError> {
    parse_with(pattern, &PatternLimits::default())
}

pub fn parse_with(pattern: &str, limits: &PatternLimits) -> Result<FilterPattern, PatternError> {
    Ok(FilterPattern {
        pattern: parser::parse_pattern(pattern, limits)?,
        source: pattern.to_owned(),
    })
}

/// Deeper JSON than this is not serialized by [`LogEvent::from_json`]: serde_json's serializer
/// recurses per level. serde_json's own parser refuses deeper input, so only values built in
/// code can hit it.
const MAX_JSON_DEPTH: usize = 128;

/// One log event: its raw text, and its JSON parsed once if the text is JSON. An event made from
/// JSON serializes its text only when a term or space-delimited pattern first asks for it: a
/// replay through JSON patterns alone never pays for it.
#[derive(Debug, Clone)]
pub struct LogEvent {
    text: std::sync::OnceLock<String>,
    json: Option<Value>,
}

impl LogEvent {
    /// An event from raw text; JSON patterns can match it only if the text parses as JSON.
    pub fn new(text: impl Into<String>) -> LogEvent {
        let text = text.into();
        // serde_json's parser has a recursion limit, so hostile nesting fails instead of
        // overflowing the stack; the event then simply is not JSON.
        let json = serde_json::from_str(&text).ok();
        LogEvent { text: std::sync::OnceLock::from(text), json }
    }

    /// An event from parsed JSON; its text (for term and space-delimited patterns) is the compact
    /// serialization. A value nested deeper than 128 levels gets empty text rather than risk
    /// the serializer's recursion; JSON patterns still see the value.
    pub fn from_json(value: Value) -> LogEvent {
        LogEvent {
            text: std::sync::OnceLock::new(),
            json: Some(value),
        }
    }

    pub fn text(&self) -> &str {
        self.text.get_or_init(|| match &self.json {
            Some(value) if !nested_deeper_than(value, MAX_JSON_DEPTH) => value.to_string(),
            _ => String::new(),
        })
    }

    pub fn json(&self) -> Option<&Value> {
        self.json.as_ref()
    }
}

/// Iterative, so that measuring depth cannot itself overflow the stack.
fn nested_deeper_than(value: &Value, max: usize) -> bool {
    let mut stack = vec![(value, 1usize)];
    while let Some((value, depth)) = stack.pop() {
        if depth > max {
            return true;
        }
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests;
