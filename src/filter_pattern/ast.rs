//! The syntax tree the parser builds and the evaluator walks.
//!
//! Literals are lowered once at parse time (globs split on `*`, numbers parsed, regexes compiled)
//! so that evaluating a pattern against many events never re-parses anything.

use regex::Regex;

/// A whole filter pattern; which variant is decided by the first non-blank character.
#[derive(Debug, Clone)]
pub(crate) enum Pattern {
    /// Empty or blank pattern.
    MatchAll,
    /// Term pattern: the event matches if any group matches (see [`TermGroup`]).
    Terms(Vec<TermGroup>),
    /// `{ ... }` pattern over the event's parsed JSON.
    Json(JsonExpr),
    /// `[ ... ]` pattern over the event's space-delimited fields.
    Delimited(Vec<DelimField>),
}

/// One alternative of a term pattern. A `?` starts a new group; plain and `-` terms join the
/// group they follow. That reading is the one the AWS CDK relies on when it renders
/// `anyTermGroup(["ERROR", "MainThread"], ["WARN", "Deadlock"])` as
/// `?"ERROR" "MainThread" ?"WARN" "Deadlock"`.
#[derive(Debug, Clone, Default)]
pub(crate) struct TermGroup {
    pub(crate) required: Vec<Term>,
    pub(crate) excluded: Vec<Term>,
}

#[derive(Debug, Clone)]
pub(crate) enum Term {
    /// Case-sensitive substring of the raw event text.
    Text(String),
    /// Unanchored regex search in the raw event text.
    Regex(Regex),
}

#[derive(Debug, Clone)]
pub(crate) enum JsonExpr {
    Or(Vec<JsonExpr>),
    And(Vec<JsonExpr>),
    Test { selector: Selector, test: JsonTest },
    /// `$.s = "a" || $.s = "b" || …`, exact values only: the field is a string in the set. Lowered
    /// from such chains by the parser (CIS filters are long ones).
    /// `lengths` has bit `min(len, 63)` set for each value's length: most strings not in the set
    /// are told apart by it without hashing them.
    AnyOf { selector: Selector, values: std::collections::HashSet<String, foldhash::fast::RandomState>, lengths: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selector {
    pub(crate) steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone)]
pub(crate) enum JsonTest {
    Compare(CmpOp, Literal),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// Ordering operators only make sense against numbers; the parser enforces that.
    pub(crate) fn is_ordering(self) -> bool {
        matches!(self, CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge)
    }

    pub(crate) fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone)]
pub(crate) enum Literal {
    /// Quoted or unquoted string; a leading or trailing `*` is a wildcard in both (see
    /// [`Glob::affix`]).
    Text(Glob),
    Number(Number),
    Regex(Regex),
    /// Unquoted `true` / `false` in a JSON pattern.
    Bool(bool),
    /// Unquoted `null` in a JSON pattern.
    Null,
}

/// A string with `*` wildcards, pre-split into the literal runs between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    /// Always at least one element; exactly one means the glob has no wildcard.
    pub(crate) parts: Vec<String>,
}

impl Glob {
    /// Every `*` is a wildcard: the glob of baseline exceptions and parameters.
    pub(crate) fn new(text: &str) -> Glob {
        Glob {
            parts: text.split('*').map(str::to_owned).collect(),
        }
    }

    /// A filter-pattern value: only `*`s at the start or the end are wildcards, one in the middle
    /// is literal. AWS: "`*Event` will match PutEvent and GetEvent. `Event*` will match EventId
    /// and EventName. `Ev*ent` will only match the actual string `Ev*ent`."
    pub(crate) fn affix(text: &str) -> Glob {
        let body = text.trim_start_matches('*');
        let leading = body.len() < text.len();
        let trimmed = body.trim_end_matches('*');
        let trailing = trimmed.len() < body.len();
        let mut parts = Vec::with_capacity(3);
        if leading {
            parts.push(String::new());
        }
        parts.push(trimmed.to_owned());
        if trailing {
            parts.push(String::new());
        }
        Glob { parts }
    }

    /// True for a value made only of `*`s (`{ $.latency = * }`): any value at all.
    pub(crate) fn is_any(&self) -> bool {
        self.parts.len() > 1 && self.parts.iter().all(String::is_empty)
    }
}

/// A numeric literal. Integers are kept exactly so that 64-bit values (byte counts, epoch
/// milliseconds) compare without the rounding an `f64` would introduce.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Number {
    pub(crate) value: f64,
    pub(crate) int: Option<i128>,
}

impl Number {
    /// Parses `[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?` and nothing else: AWS's
    /// NUMBER, "an integer with an optional + or - sign, a decimal with an optional + or - sign,
    /// or a number in scientific notation" (`{ $.latency > +1000 }`, `10e-3`). Rust's own
    /// `f64::from_str` would also accept `inf` and `NaN`, which are words, not numbers, in a
    /// filter pattern (`{ $.name = inf }` compares against the string "inf").
    pub(crate) fn parse(text: &str) -> Option<Number> {
        let bytes = text.as_bytes();
        let mut i = 0;
        if matches!(bytes.first(), Some(b'-' | b'+')) {
            i += 1;
        }
        let int_start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let mut digits = i - int_start;
        let mut integral = true;
        if bytes.get(i) == Some(&b'.') {
            integral = false;
            i += 1;
            let frac_start = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            digits += i - frac_start;
        }
        if digits == 0 {
            return None;
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            integral = false;
            i += 1;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let exp_start = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == exp_start {
                return None;
            }
        }
        if i != bytes.len() {
            return None;
        }
        let value: f64 = text.parse().ok()?;
        if !value.is_finite() {
            return None;
        }
        let int = if integral {
            text.parse::<i128>().ok()
        } else {
            None
        };
        Some(Number { value, int })
    }
}

/// One comma-separated element of a space-delimited pattern.
#[derive(Debug, Clone)]
pub(crate) enum DelimField {
    /// `...`: any number (including zero) of event fields.
    Ellipsis,
    /// Exactly one event field, optionally with a condition on it. `name` is `None` for an
    /// empty slot (`[..., status_code=4*,]`): a field that matches anything and has no name.
    /// Names are kept for metric values (`$bytes`).
    Field {
        name: Option<String>,
        cond: Option<FieldExpr>,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum FieldExpr {
    Or(Vec<FieldExpr>),
    And(Vec<FieldExpr>),
    Compare(CmpOp, Literal),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_syntax() {
        type Parsed = Option<(f64, Option<i128>)>;
        let cases: &[(&str, Parsed)] = &[
            ("5", Some((5.0, Some(5)))),
            ("-1.5", Some((-1.5, None))),
            ("1e3", Some((1000.0, None))),
            ("1E+3", Some((1000.0, None))),
            ("2.5e-1", Some((0.25, None))),
            ("007", Some((7.0, Some(7)))),
            ("-0", Some((0.0, Some(0)))),
            (".5", Some((0.5, None))),
            ("1.", Some((1.0, None))),
            ("", None),
            ("-", None),
            (".", None),
            ("+1", Some((1.0, Some(1)))),
            ("+1000", Some((1000.0, Some(1000)))),
            ("+1.5e+3", Some((1500.0, None))),
            ("10e-3", Some((0.01, None))),
            ("+", None),
            ("+-1", None),
            ("--1", None),
            ("++1", None),
            ("+inf", None),
            ("1e", None),
            ("1e+", None),
            ("1.2.3", None),
            ("123.123.*", None),
            ("inf", None),
            ("NaN", None),
            ("1e999", None),
            ("0x10", None),
            ("5xx", None),
        ];
        for &(text, want) in cases {
            let got = Number::parse(text).map(|n| (n.value, n.int));
            assert_eq!(got, want, "{text:?}");
        }
        let huge = Number::parse("123456789012345678901234567890123456789012").unwrap();
        assert_eq!(huge.int, None);
        assert!(huge.value > 1e41);
    }

    #[test]
    fn affix_globs() {
        let cases: &[(&str, &[&str], bool)] = &[
            ("Event", &["Event"], false),
            ("*Event", &["", "Event"], false),
            ("Event*", &["Event", ""], false),
            ("*Event*", &["", "Event", ""], false),
            ("Ev*ent", &["Ev*ent"], false),
            ("*a*b*", &["", "a*b", ""], false),
            ("**x**", &["", "x", ""], false),
            ("*", &["", ""], true),
            ("***", &["", ""], true),
            ("", &[""], false),
        ];
        for &(text, parts, any) in cases {
            let glob = Glob::affix(text);
            assert_eq!(glob.parts, parts, "{text:?}");
            assert_eq!(glob.is_any(), any, "{text:?}");
        }
        assert!(!Glob::new("").is_any());
    }

    #[test]
    fn glob_split() {
        assert_eq!(Glob::new("a*b**").parts, vec!["a", "b", "", ""]);
        assert_eq!(Glob::new("").parts, vec![""]);
    }
}
