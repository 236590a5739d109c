//! Recursive descent from tokens to [`Pattern`].
//!
//! Grammar (whitespace between tokens is insignificant; keywords are ASCII case-insensitive):
//!
//! ```text
//! pattern    := ε | terms | json | delimited            (chosen by the first non-blank char)
//! terms      := ( '?'? '-'? (WORD | STRING | REGEX) )+   (prefixes glued to their term)
//! json       := '{' or '}'
//! or         := and ( '||' and )*
//! and        := primary ( '&&' primary )*
//! primary    := '(' or ')' | SELECTOR test
//! test       := op value | 'IS' ('NULL' | 'TRUE' | 'FALSE') | 'NOT' 'EXISTS'
//! op         := '=' | '!=' | '<' | '<=' | '>' | '>='
//! value      := STRING | REGEX | WORD                    (WORD: number, true/false/null, or text)
//! delimited  := '[' field ( ',' field )* ']'
//! field      := '...' | NAME | f_or                      (every NAME in one f_or is the same)
//! f_or       := f_and ( '||' f_and )*
//! f_and      := f_prim ( '&&' f_prim )*
//! f_prim     := '(' f_or ')' | NAME op value
//! ```
//!
//! Recursion happens only at `(`, and every `(` is counted against the depth limit before the
//! parser descends, so hostile nesting is an error rather than a stack overflow.

use regex::{Regex, RegexBuilder};

use super::ast::{
    CmpOp, DelimField, FieldExpr, Glob, JsonExpr, JsonTest, Literal, Number, Pattern, Selector,
    Step, Term, TermGroup,
};
use super::lexer::{describe_at, lex_structured, lex_terms, Token, TokenKind};
use super::{PatternError, PatternLimits};

/// Whatever limits a caller asks for, parsing recursion never goes deeper than this: the parser,
/// the evaluator and the derived `Drop`/`Clone` of the tree all recurse once per `(`.
pub(crate) const HARD_MAX_DEPTH: usize = 256;

/// AWS allows two regular expressions per filter pattern. Keeping to it also bounds the memory a
/// hostile pattern can make the regex compiler spend.
pub(crate) const MAX_REGEXES: usize = 2;

/// Per-regex compiled program size; far above anything AWS's restricted regex dialect produces.
const REGEX_SIZE_LIMIT: usize = 256 * 1024;
/// Per-regex lazy-DFA cache, which bounds matching memory.
const REGEX_DFA_SIZE_LIMIT: usize = 1024 * 1024;

/// Longest source excerpt quoted in an error message.
const MAX_EXCERPT_CHARS: usize = 32;

pub(crate) fn parse_pattern(src: &str, limits: &PatternLimits) -> Result<Pattern, PatternError> {
    // AWS counts the limit in characters; measuring bytes would reject valid non-ASCII patterns.
    if let Some((offset, _)) = src.char_indices().nth(limits.max_pattern_len) {
        return Err(PatternError::new(
            offset,
            format!(
                "expected a pattern of at most {} characters, found {} characters",
                limits.max_pattern_len,
                src.chars().count()
            ),
        ));
    }
    let tokens = match src.trim_start().chars().next() {
        None => return Ok(Pattern::MatchAll),
        Some('{' | '[') => lex_structured(src)?,
        Some(_) => lex_terms(src)?,
    };
    let mut parser = Parser {
        src,
        tokens,
        pos: 0,
        end: Token {
            kind: TokenKind::End,
            offset: src.len(),
            len: 0,
        },
        max_depth: limits.max_depth.min(HARD_MAX_DEPTH),
        regexes: 0,
    };
    let pattern = match parser.peek().kind {
        TokenKind::LBrace => Pattern::Json(parser.json()?),
        TokenKind::LBracket => Pattern::Delimited(parser.delimited()?),
        _ => Pattern::Terms(parser.terms()?),
    };
    let tok = parser.peek();
    if tok.kind != TokenKind::End {
        return Err(parser.expected(&tok, "end of pattern"));
    }
    Ok(pattern)
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    /// Returned by `peek` past the end, so lookups never need to index.
    end: Token,
    max_depth: usize,
    regexes: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Token {
        self.tokens.get(self.pos).unwrap_or(&self.end).clone()
    }

    fn peek_kind_at(&self, ahead: usize) -> TokenKind {
        self.tokens
            .get(self.pos + ahead)
            .map_or(TokenKind::End, |t| t.kind.clone())
    }

    fn next(&mut self) -> Token {
        let tok = self.peek();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        tok
    }

    fn describe(&self, tok: &Token) -> String {
        if tok.kind == TokenKind::End {
            return "end of pattern".to_owned();
        }
        let text = self
            .src
            .get(tok.offset..tok.offset + tok.len)
            .unwrap_or_default();
        let mut excerpt: String = text.chars().take(MAX_EXCERPT_CHARS).collect();
        if excerpt.len() < text.len() {
            excerpt.push('…');
        }
        format!("`{excerpt}`")
    }

    fn expected(&self, found: &Token, what: &str) -> PatternError {
        PatternError::new(
            found.offset,
            format!("expected {what}, found {}", self.describe(found)),
        )
    }

    fn eat(&mut self, kind: TokenKind, what: &str) -> Result<Token, PatternError> {
        let tok = self.next();
        if tok.kind == kind {
            Ok(tok)
        } else {
            Err(self.expected(&tok, what))
        }
    }

    /// Called on `(` before descending, so depth is checked before any recursion happens.
    fn enter(&self, open: &Token, depth: usize) -> Result<usize, PatternError> {
        let depth = depth + 1;
        if depth > self.max_depth {
            return Err(PatternError::new(
                open.offset,
                format!(
                    "expected parentheses nested at most {} deep, found deeper nesting",
                    self.max_depth
                ),
            ));
        }
        Ok(depth)
    }

    fn regex(&mut self, body: &str, tok: &Token) -> Result<Regex, PatternError> {
        if body.is_empty() {
            return Err(self.expected(tok, "a regular expression between the `%` signs"));
        }
        self.regexes += 1;
        if self.regexes > MAX_REGEXES {
            return Err(PatternError::new(
                tok.offset,
                format!(
                    "expected at most {MAX_REGEXES} regular expressions in one pattern (AWS's limit), found another: {}",
                    self.describe(tok)
                ),
            ));
        }
        RegexBuilder::new(body)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
            .build()
            .map_err(|err| {
                // The regex crate's syntax errors are multi-line drawings; keep the verdict line.
                let text = err.to_string();
                let reason = text
                    .lines()
                    .rev()
                    .find_map(|l| l.trim().strip_prefix("error: "))
                    .map(str::to_owned)
                    .unwrap_or_else(|| text.lines().next().unwrap_or_default().to_owned());
                PatternError::new(
                    tok.offset,
                    format!(
                        "expected a valid regular expression, found {}: {reason}",
                        self.describe(tok)
                    ),
                )
            })
    }

    // ---- term patterns -------------------------------------------------------------------

    fn terms(&mut self) -> Result<Vec<TermGroup>, PatternError> {
        let mut groups: Vec<TermGroup> = Vec::new();
        loop {
            let mut tok = self.next();
            if tok.kind == TokenKind::End {
                break;
            }
            let mut new_group = false;
            let mut excluded = false;
            if tok.kind == TokenKind::Question {
                new_group = true;
                tok = self.glued(&tok)?;
            }
            if tok.kind == TokenKind::Minus {
                excluded = true;
                tok = self.glued(&tok)?;
            }
            let term = match tok.kind {
                TokenKind::Word(ref w) => Term::Text(w.clone()),
                TokenKind::Str(ref s) => Term::Text(s.clone()),
                TokenKind::Regex(ref r) => Term::Regex(self.regex(r, &tok)?),
                _ => return Err(self.expected(&tok, "a term")),
            };
            if new_group || groups.is_empty() {
                groups.push(TermGroup::default());
            }
            if let Some(group) = groups.last_mut() {
                if excluded {
                    group.excluded.push(term);
                } else {
                    group.required.push(term);
                }
            }
        }
        Ok(groups)
    }

    /// The token after a `?`/`-` prefix, which must start right where the prefix ends.
    fn glued(&mut self, prefix: &Token) -> Result<Token, PatternError> {
        let at = prefix.offset + prefix.len;
        let next = self.peek();
        let sign = if prefix.kind == TokenKind::Question {
            '?'
        } else {
            '-'
        };
        if next.offset != at || next.kind == TokenKind::End {
            return Err(PatternError::new(
                at,
                format!(
                    "expected a term right after `{sign}`, found {}",
                    describe_at(self.src, at)
                ),
            ));
        }
        Ok(self.next())
    }

    // ---- JSON patterns -------------------------------------------------------------------

    fn json(&mut self) -> Result<JsonExpr, PatternError> {
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
        Ok(collapse(items, JsonExpr::Or))
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
    fn selector(&self, word: &str, offset: usize) -> Result<Selector, PatternError> {
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

    /// The value after `op`. `json` selects whether unquoted `true`/`false`/`null` are JSON
    /// literals (JSON patterns) or plain text (space-delimited fields are always text).
    fn literal(&mut self, op: CmpOp, json: bool) -> Result<Literal, PatternError> {
        let tok = self.next();
        let sym = op.symbol();
        let literal = match tok.kind {
            TokenKind::Word(ref w) => {
                if let Some(n) = Number::parse(w) {
                    Literal::Number(n)
                } else if op.is_ordering() {
                    return Err(self.expected(&tok, &format!("a number after `{sym}`")));
                } else if json && w == "true" {
                    Literal::Bool(true)
                } else if json && w == "false" {
                    Literal::Bool(false)
                } else if json && w == "null" {
                    Literal::Null
                } else {
                    Literal::Text(Glob::new(w))
                }
            }
            TokenKind::Str(_) | TokenKind::Regex(_) if op.is_ordering() => {
                return Err(self.expected(&tok, &format!("a number after `{sym}`")));
            }
            TokenKind::Str(ref s) => Literal::Text(Glob::new(s)),
            TokenKind::Regex(ref r) => Literal::Regex(self.regex(r, &tok)?),
            _ => return Err(self.expected(&tok, &format!("a value after `{sym}`"))),
        };
        Ok(literal)
    }

    // ---- space-delimited patterns --------------------------------------------------------

    fn delimited(&mut self) -> Result<Vec<DelimField>, PatternError> {
        self.eat(TokenKind::LBracket, "`[`")?;
        let mut fields = Vec::new();
        loop {
            fields.push(self.delimited_field()?);
            let tok = self.next();
            match tok.kind {
                TokenKind::Comma => {}
                TokenKind::RBracket => break,
                _ => return Err(self.expected(&tok, "`,` or `]` after a field")),
            }
        }
        Ok(fields)
    }

    fn delimited_field(&mut self) -> Result<DelimField, PatternError> {
        let tok = self.peek();
        if let TokenKind::Word(ref w) = tok.kind {
            if w == "..." {
                self.next();
                return Ok(DelimField::Ellipsis);
            }
            // A name not followed by an operator is a plain field; what may follow it is then
            // checked by the caller, which gives the better "expected `,` or `]`" message.
            if cmp_op(&self.peek_kind_at(1)).is_none() {
                self.field_name(&tok, None)?;
                self.next();
                return Ok(DelimField::Field { cond: None });
            }
        }
        let cond = self.field_or(0, &mut None)?;
        Ok(DelimField::Field { cond: Some(cond) })
    }

    /// Checks that `tok` is a valid field name and, within one field's condition, the same name
    /// as before: conditions test only their own field, so evaluation stays a per-field
    /// predicate and `...` can be matched without backtracking over bindings.
    fn field_name(&self, tok: &Token, same_as: Option<&str>) -> Result<String, PatternError> {
        let name = match tok.kind {
            TokenKind::Word(ref w)
                if !w.is_empty()
                    && w.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                w.clone()
            }
            _ => {
                let what = if same_as.is_some() {
                    "a field name or `(`"
                } else {
                    "a field name (letters, digits, `_`, `-`), `...` or `(`"
                };
                return Err(self.expected(tok, what));
            }
        };
        if let Some(first) = same_as {
            if first != name {
                return Err(self.expected(
                    tok,
                    &format!("`{first}` (a field's condition can only test that field)"),
                ));
            }
        }
        Ok(name)
    }

    fn field_or(
        &mut self,
        depth: usize,
        name: &mut Option<String>,
    ) -> Result<FieldExpr, PatternError> {
        let mut items = vec![self.field_and(depth, name)?];
        while self.peek().kind == TokenKind::OrOr {
            self.next();
            items.push(self.field_and(depth, name)?);
        }
        Ok(collapse(items, FieldExpr::Or))
    }

    fn field_and(
        &mut self,
        depth: usize,
        name: &mut Option<String>,
    ) -> Result<FieldExpr, PatternError> {
        let mut items = vec![self.field_primary(depth, name)?];
        while self.peek().kind == TokenKind::AndAnd {
            self.next();
            items.push(self.field_primary(depth, name)?);
        }
        Ok(collapse(items, FieldExpr::And))
    }

    fn field_primary(
        &mut self,
        depth: usize,
        name: &mut Option<String>,
    ) -> Result<FieldExpr, PatternError> {
        let tok = self.next();
        if tok.kind == TokenKind::LParen {
            let depth = self.enter(&tok, depth)?;
            let inner = self.field_or(depth, name)?;
            self.eat(TokenKind::RParen, "`)`")?;
            return Ok(inner);
        }
        let this = self.field_name(&tok, name.as_deref())?;
        let op_tok = self.next();
        let Some(op) = cmp_op(&op_tok.kind) else {
            return Err(self.expected(
                &op_tok,
                &format!("an operator (`=`, `!=`, `<`, `<=`, `>`, `>=`) after `{this}`"),
            ));
        };
        let literal = self.literal(op, false)?;
        *name = Some(this);
        Ok(FieldExpr::Compare(op, literal))
    }
}

/// A one-element `&&`/`||` list is just its element; keeps the tree (and its recursion) shallow.
fn collapse<T>(mut items: Vec<T>, wrap: fn(Vec<T>) -> T) -> T {
    match items.pop() {
        Some(only) if items.is_empty() => only,
        Some(last) => {
            items.push(last);
            wrap(items)
        }
        // Callers always pass at least one item; an empty list is the neutral element anyway.
        None => wrap(items),
    }
}

fn cmp_op(kind: &TokenKind) -> Option<CmpOp> {
    Some(match kind {
        TokenKind::Eq => CmpOp::Eq,
        TokenKind::Ne => CmpOp::Ne,
        TokenKind::Lt => CmpOp::Lt,
        TokenKind::Le => CmpOp::Le,
        TokenKind::Gt => CmpOp::Gt,
        TokenKind::Ge => CmpOp::Ge,
        _ => return None,
    })
}

/// Property names: letters and digits (any script), `_`, `-`, `@` and `:`. That covers
/// CloudTrail (`@type`, `aws:SourceIp`-style keys, `x-amz-id-2`); a key with other characters
/// (spaces, dots) cannot be selected, as there is no quoting syntax for selectors.
fn is_property_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '@' | ':')
}
