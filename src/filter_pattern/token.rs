//! Tokens with byte offsets, and the character cursor that makes them: shared by both lexers
//! (`lexer`), with the quoted-string and `%regex%` bodies they have in common.

use super::ast::CmpOp;
use super::PatternError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind {
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Comma,
    AndAnd,
    OrOr,
    /// `=`, `!=`, `<`, `<=`, `>`, `>=`, as the parser's own type so the operator list is kept in
    /// one place.
    Cmp(CmpOp),
    /// `?` prefix of a term (term patterns only).
    Question,
    /// `-` prefix of a term (term patterns only).
    Minus,
    /// `"..."` with `\"` and `\\` unescaped.
    Str(String),
    /// The text between `%` and `%`, not yet compiled.
    Regex(String),
    /// Any other run of text: selectors, numbers, keywords, unquoted values, field names, terms.
    Word(String),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    /// Byte offset of the token's first character in the pattern.
    pub(crate) offset: usize,
    /// Length in bytes of the token's source text (quotes and `%` included).
    pub(crate) len: usize,
}

/// Describes what is at `offset` of `src`, for "found ..." in error messages.
pub(crate) fn describe_at(src: &str, offset: usize) -> String {
    match src.get(offset..).and_then(|s| s.chars().next()) {
        None => "end of pattern".to_owned(),
        Some(c) if c.is_whitespace() => "whitespace".to_owned(),
        Some(c) => format!("`{c}`"),
    }
}

pub(super) struct Cursor<'a> {
    src: &'a str,
    pub(super) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(src: &'a str) -> Cursor<'a> {
        Cursor { src, pos: 0 }
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }

    pub(super) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub(super) fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    pub(super) fn eat_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
        // Both ends were reached by stepping whole chars, so they are char boundaries.
        self.src.get(start..self.pos).unwrap_or("")
    }

    /// The token whose source text runs from `start` to the cursor, so no lexer can get a span's
    /// length wrong.
    pub(super) fn token(&self, kind: TokenKind, start: usize) -> Token {
        Token {
            kind,
            offset: start,
            len: self.pos - start,
        }
    }

    /// Cursor is on the opening `"`.
    pub(super) fn quoted(&mut self) -> Result<TokenKind, PatternError> {
        let start = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(PatternError::new(
                        start,
                        "unterminated string: expected a closing `\"`, found end of pattern",
                    ))
                }
                Some('"') => return Ok(TokenKind::Str(out)),
                // Only `\"` and `\\` are escapes; any other backslash is kept, so Windows paths
                // and regex-looking text inside quotes survive unchanged.
                Some('\\') => match self.peek() {
                    Some(c @ ('"' | '\\')) => {
                        self.bump();
                        out.push(c);
                    }
                    _ => out.push('\\'),
                },
                Some(c) => out.push(c),
            }
        }
    }

    /// Cursor is on the opening `%`. The regex ends at the next `%`: AWS's regex dialect has no
    /// `%` in it, so there is nothing to escape.
    pub(super) fn regex(&mut self) -> Result<TokenKind, PatternError> {
        let start = self.pos;
        self.bump();
        let body = self.eat_while(|c| c != '%');
        if self.bump().is_none() {
            return Err(PatternError::new(
                start,
                "unterminated regular expression: expected a closing `%`, found end of pattern",
            ));
        }
        Ok(TokenKind::Regex(body.to_owned()))
    }
}
