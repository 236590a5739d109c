//! Recursive descent from tokens to [`Pattern`].
//!
//! Grammar (whitespace between tokens is insignificant; keywords are ASCII case-insensitive):
//!
//! ```text
//! pattern    := ε | terms | json | delimited            (chosen by the first non-blank char)
//! terms      := ( '?'? '-'? (WORD | STRING | REGEX) )+   ('?' glued to what follows it)
//! json       := '{' or '}'
//! or         := and ( '||' and )*
//! and        := primary ( '&&' primary )*
//! primary    := '(' or ')' | SELECTOR test
//! test       := op value | 'IS' ('NULL' | 'TRUE' | 'FALSE') | 'NOT' 'EXISTS'
//! op         := '=' | '!=' | '<' | '<=' | '>' | '>='
//! value      := STRING | REGEX | WORD                    (WORD: number, true/false/null, or text)
//! delimited  := '[' field ( ',' field )* ']'
//! field      := '...' | NAME | f_or | ε                  (every NAME in one f_or is the same;
//!                                                         ε, an unnamed field, not in `[]`)
//! f_or       := f_and ( '||' f_and )*
//! f_and      := f_prim ( '&&' f_prim )*
//! f_prim     := '(' f_or ')' | NAME op value
//! ```
//!
//! Recursion happens only at `(`, and every `(` is counted against the depth limit before the
//! parser descends, so hostile nesting is an error rather than a stack overflow.
//!
//! This file holds the entry point, the token plumbing, values and term patterns; `json` lives in
//! `parse_json` and `delimited` in `parse_delimited`, both as more `impl Parser` blocks.

use regex::{Regex, RegexBuilder};

use super::ast::{CmpOp, Glob, Literal, Number, Pattern, Term, TermGroup};
use super::lexer::{end_token, lex_structured, lex_terms};
use super::token::{describe_at, Token, TokenKind};
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
pub(super) const MAX_EXCERPT_CHARS: usize = 32;

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
        end: end_token(src),
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

impl<'a> Parser<'a> {
    /// A parser with no tokens, for the pieces of syntax parsed on their own (the selector of a
    /// metric value).
    pub(super) fn for_source(src: &'a str) -> Parser<'a> {
        Parser {
            src,
            tokens: Vec::new(),
            pos: 0,
            end: end_token(src),
            max_depth: 0,
            regexes: 0,
        }
    }
}

pub(super) struct Parser<'a> {
    pub(super) src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    /// Returned by `peek` past the end, so lookups never need to index.
    end: Token,
    max_depth: usize,
    regexes: usize,
}

impl Parser<'_> {
    pub(super) fn peek(&self) -> Token {
        self.tokens.get(self.pos).unwrap_or(&self.end).clone()
    }

    pub(super) fn peek_kind_at(&self, ahead: usize) -> TokenKind {
        self.tokens
            .get(self.pos + ahead)
            .map_or(TokenKind::End, |t| t.kind.clone())
    }

    pub(super) fn next(&mut self) -> Token {
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

    pub(super) fn expected(&self, found: &Token, what: &str) -> PatternError {
        PatternError::new(
            found.offset,
            format!("expected {what}, found {}", self.describe(found)),
        )
    }

    pub(super) fn eat(&mut self, kind: TokenKind, what: &str) -> Result<Token, PatternError> {
        let tok = self.next();
        if tok.kind == kind {
            Ok(tok)
        } else {
            Err(self.expected(&tok, what))
        }
    }

    /// Called on `(` before descending, so depth is checked before any recursion happens.
    pub(super) fn enter(&self, open: &Token, depth: usize) -> Result<usize, PatternError> {
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

    /// The token after a `?`/`-` prefix. After `?` it must start right where the prefix ends;
    /// after `-` blanks may come between, because AWS's own example writes
    /// `"ERROR" - "Exiting"` (ERROR and not Exiting).
    fn glued(&mut self, prefix: &Token) -> Result<Token, PatternError> {
        let at = prefix.offset + prefix.len;
        let next = self.peek();
        let sign = if prefix.kind == TokenKind::Question {
            '?'
        } else {
            '-'
        };
        if sign == '-' && next.kind != TokenKind::End {
            return Ok(self.next());
        }
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

    /// The value after `op`. `json` selects whether unquoted `true`/`false`/`null` are JSON
    /// literals (JSON patterns) or plain text (space-delimited fields are always text).
    pub(super) fn literal(&mut self, op: CmpOp, json: bool) -> Result<Literal, PatternError> {
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
                    Literal::Text(Glob::affix(w))
                }
            }
            TokenKind::Str(_) | TokenKind::Regex(_) if op.is_ordering() => {
                return Err(self.expected(&tok, &format!("a number after `{sym}`")));
            }
            TokenKind::Str(ref s) => Literal::Text(Glob::affix(s)),
            TokenKind::Regex(ref r) => Literal::Regex(self.regex(r, &tok)?),
            _ => return Err(self.expected(&tok, &format!("a value after `{sym}`"))),
        };
        Ok(literal)
    }
}

/// A one-element `&&`/`||` list is just its element; keeps the tree (and its recursion) shallow.
pub(super) fn collapse<T>(mut items: Vec<T>, wrap: fn(Vec<T>) -> T) -> T {
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

pub(super) fn cmp_op(kind: &TokenKind) -> Option<CmpOp> {
    match kind {
        TokenKind::Cmp(op) => Some(*op),
        _ => None,
    }
}
