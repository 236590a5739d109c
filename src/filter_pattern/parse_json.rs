//! The JSON-pattern half of the parser: `{ ... }` expressions, selectors and their tests.

use super::ast::{CmpOp, JsonExpr, JsonTest, Literal, Selector, Step};
use super::token::{describe_at, TokenKind};
use super::parser::{cmp_op, collapse, Parser, MAX_EXCERPT_CHARS};
use super::PatternError;

/// Lowers the exact-value equalities of one `||` chain on the same selector into one set lookup:
/// a replay evaluates every filter against every event, and `$.eventName = A || … || $.eventName
/// = N` is then one lookup instead of N comparisons. Matches exactly as the chain did: an exact
/// text literal equals only a string with that text.
fn any_of(items: Vec<JsonExpr>) -> Vec<JsonExpr> {
    let mut groups: Vec<(Selector, Vec<JsonExpr>)> = Vec::new();
    let mut rest = Vec::new();
    for item in items {
        match &item {
            JsonExpr::Test { selector, test: JsonTest::Compare(CmpOp::Eq, Literal::Text(glob)) } if glob.parts.len() == 1 => {
                match groups.iter_mut().find(|(s, _)| s == selector) {
                    Some((_, members)) => members.push(item),
                    None => groups.push((selector.clone(), vec![item])),
                }
            }
            _ => rest.push(item),
        }
    }
    for (selector, members) in groups {
        if members.len() < 2 {
            rest.extend(members);
            continue;
        }
        let values = members
            .into_iter()
            .filter_map(|m| match m {
                JsonExpr::Test { test: JsonTest::Compare(_, Literal::Text(glob)), .. } => glob.parts.into_iter().next(),
                _ => None,
            })
            .collect::<std::collections::HashSet<String, _>>();
        let lengths = values.iter().fold(0, |bits, v| bits | length_bit(v));
        rest.push(JsonExpr::AnyOf { selector, values, lengths });
    }
    rest
}

impl Parser<'_> {
    pub(super) fn json(&mut self) -> Result<JsonExpr, PatternError> {
        self.eat(TokenKind::LBrace, "`{`")?;
        let expr = self.json_or(0)?;
        self.eat(TokenKind::RBrace, "`}`")?;
        Ok(expr)
    }

    fn json_or(&mut self, depth: usize) -> Result<JsonExpr, PatternError> {
        let mut items = vec![self.json_and(depth)?];
        while self.peek().kind == TokenKind::OrOr {
            self.next();
            items.push(self.json_and(depth)?);
        }
        Ok(collapse(any_of(items), JsonExpr::Or))
    }

    fn json_and(&mut self, depth: usize) -> Result<JsonExpr, PatternError> {
        let mut items = vec![self.json_primary(depth)?];
        while self.peek().kind == TokenKind::AndAnd {
            self.next();
            items.push(self.json_primary(depth)?);
        }
        Ok(collapse(items, JsonExpr::And))
    }

    fn json_primary(&mut self, depth: usize) -> Result<JsonExpr, PatternError> {
        let tok = self.next();
        match tok.kind {
            TokenKind::LParen => {
                let depth = self.enter(&tok, depth)?;
                let inner = self.json_or(depth)?;
                self.eat(TokenKind::RParen, "`)`")?;
                Ok(inner)
            }
            TokenKind::Word(ref w) if w.starts_with('$') => {
                let selector = self.selector(w, tok.offset)?;
                let test = self.json_test(w)?;
                Ok(JsonExpr::Test { selector, test })
            }
            _ => Err(self.expected(&tok, "a selector such as `$.field`, or `(`")),
        }
    }

    /// `word` starts with `$` and begins at byte `offset` of the pattern.
    pub(super) fn selector(&self, word: &str, offset: usize) -> Result<Selector, PatternError> {
        let bytes = word.as_bytes();
        let mut steps = Vec::new();
        let mut i = 1;
        // Reports what is at word byte `at`: a char of the word, or whatever follows the word.
        let found = |at: usize| describe_at(self.src, offset + at);
        while i < bytes.len() {
            match bytes.get(i) {
                Some(b'.') => {
                    i += 1;
                    let start = i;
                    let rest = word.get(i..).unwrap_or_default();
                    let len: usize = rest
                        .chars()
                        .take_while(|c| is_property_char(*c))
                        .map(char::len_utf8)
                        .sum();
                    if len == 0 {
                        return Err(PatternError::new(
                            offset + i,
                            format!("expected a property name after `.`, found {}", found(i)),
                        ));
                    }
                    i += len;
                    steps.push(Step::Key(word.get(start..i).unwrap_or_default().to_owned()));
                }
                Some(b'[') => {
                    i += 1;
                    let start = i;
                    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                        i += 1;
                    }
                    let digits = word.get(start..i).unwrap_or_default();
                    if digits.is_empty() {
                        return Err(PatternError::new(
                            offset + i,
                            format!(
                                "expected an array index (digits) after `[`, found {}",
                                found(i)
                            ),
                        ));
                    }
                    if bytes.get(i) != Some(&b']') {
                        return Err(PatternError::new(
                            offset + i,
                            format!("expected `]` after the array index, found {}", found(i)),
                        ));
                    }
                    i += 1;
                    let index = digits.parse::<usize>().map_err(|_| {
                        PatternError::new(
                            offset + start,
                            format!(
                                "expected an array index that fits in memory, found `{digits}`"
                            ),
                        )
                    })?;
                    steps.push(Step::Index(index));
                }
                _ => {
                    return Err(PatternError::new(
                        offset + i,
                        format!("expected `.` or `[` in the selector, found {}", found(i)),
                    ))
                }
            }
        }
        if steps.is_empty() {
            return Err(PatternError::new(
                offset + 1,
                format!("expected `.` or `[` after `$`, found {}", found(1)),
            ));
        }
        Ok(Selector { steps })
    }

    fn json_test(&mut self, selector: &str) -> Result<JsonTest, PatternError> {
        let tok = self.next();
        if let Some(op) = cmp_op(&tok.kind) {
            return Ok(JsonTest::Compare(op, self.literal(op, true)?));
        }
        if let TokenKind::Word(ref w) = tok.kind {
            if w.eq_ignore_ascii_case("IS") {
                let what = self.next();
                let test = match what.kind {
                    TokenKind::Word(ref k) if k.eq_ignore_ascii_case("NULL") => JsonTest::IsNull,
                    TokenKind::Word(ref k) if k.eq_ignore_ascii_case("TRUE") => JsonTest::IsTrue,
                    TokenKind::Word(ref k) if k.eq_ignore_ascii_case("FALSE") => JsonTest::IsFalse,
                    _ => return Err(self.expected(&what, "`NULL`, `TRUE` or `FALSE` after `IS`")),
                };
                return Ok(test);
            }
            if w.eq_ignore_ascii_case("NOT") {
                let what = self.next();
                return match what.kind {
                    TokenKind::Word(ref k) if k.eq_ignore_ascii_case("EXISTS") => {
                        Ok(JsonTest::NotExists)
                    }
                    _ => Err(self.expected(&what, "`EXISTS` after `NOT`")),
                };
            }
        }
        let short: String = selector.chars().take(MAX_EXCERPT_CHARS).collect();
        Err(self.expected(
            &tok,
            &format!(
                "an operator (`=`, `!=`, `<`, `<=`, `>`, `>=`, `IS` or `NOT EXISTS`) after `{short}`"
            ),
        ))
    }
}

/// Property names: letters and digits (any script), `_`, `-`, `@` and `:`. That covers
/// CloudTrail (`@type`, `aws:SourceIp`-style keys, `x-amz-id-2`); a key with other characters
/// (spaces, dots) cannot be selected, as there is no quoting syntax for selectors.
fn is_property_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '@' | ':')
}

/// A string's length as a bit of [`JsonExpr::AnyOf`]'s `lengths`.
pub(crate) fn length_bit(s: &str) -> u64 {
    1 << s.len().min(63)
}
