//! The two lexers, from pattern text to tokens (`token`).
//!
//! There are two lexers because the two families of pattern disagree on what a character means:
//! in a term pattern `-` and `?` are prefixes and `=`/`(` are ordinary text (`ERROR(code=5)` is
//! one term), while inside `{...}` and `[...]` they are operators. The parser picks the lexer from
//! the pattern's first non-blank character.

use super::ast::CmpOp;
use super::token::{describe_at, Cursor, Token, TokenKind};
use super::PatternError;

/// Characters that end an unquoted word inside `{...}` and `[...]`.
fn is_structured_word_char(c: char) -> bool {
    !c.is_whitespace()
        && !matches!(
            c,
            '{' | '}' | '(' | ')' | '[' | ']' | ',' | '"' | '&' | '|' | '=' | '!' | '<' | '>' | '%'
        )
}

/// Lexes a JSON (`{...}`) or space-delimited (`[...]`) pattern.
pub(crate) fn lex_structured(src: &str) -> Result<Vec<Token>, PatternError> {
    let mut cur = Cursor::new(src);
    let mut out = Vec::new();
    loop {
        cur.skip_whitespace();
        let start = cur.pos;
        let Some(c) = cur.peek() else { break };
        let kind = match c {
            '{' | '}' | '(' | ')' | '[' | ']' | ',' | '=' => {
                cur.bump();
                match c {
                    '{' => TokenKind::LBrace,
                    '}' => TokenKind::RBrace,
                    '(' => TokenKind::LParen,
                    ')' => TokenKind::RParen,
                    '[' => TokenKind::LBracket,
                    ']' => TokenKind::RBracket,
                    ',' => TokenKind::Comma,
                    _ => TokenKind::Cmp(CmpOp::Eq),
                }
            }
            '&' | '|' => {
                cur.bump();
                if cur.peek() == Some(c) {
                    cur.bump();
                    if c == '&' {
                        TokenKind::AndAnd
                    } else {
                        TokenKind::OrOr
                    }
                } else {
                    return Err(PatternError::new(
                        start,
                        format!("expected `{c}{c}`, found a single `{c}`"),
                    ));
                }
            }
            '!' => {
                cur.bump();
                if cur.peek() == Some('=') {
                    cur.bump();
                    TokenKind::Cmp(CmpOp::Ne)
                } else {
                    return Err(PatternError::new(
                        cur.pos,
                        format!(
                            "expected `=` after `!`, found {}",
                            describe_at(src, cur.pos)
                        ),
                    ));
                }
            }
            '<' | '>' => {
                cur.bump();
                let or_equal = cur.peek() == Some('=');
                if or_equal {
                    cur.bump();
                }
                TokenKind::Cmp(match (c, or_equal) {
                    ('<', false) => CmpOp::Lt,
                    ('<', true) => CmpOp::Le,
                    (_, false) => CmpOp::Gt,
                    (_, true) => CmpOp::Ge,
                })
            }
            '"' => cur.quoted()?,
            '%' => cur.regex()?,
            // A selector keeps its `[n]` steps in the same word, so `$.a[0]` is one token and
            // `[`/`]` elsewhere stay free to delimit space-delimited patterns.
            '$' => TokenKind::Word(
                cur.eat_while(|c| is_structured_word_char(c) || c == '[' || c == ']')
                    .to_owned(),
            ),
            _ => TokenKind::Word(cur.eat_while(is_structured_word_char).to_owned()),
        };
        out.push(cur.token(kind, start));
    }
    out.push(end_token(src));
    Ok(out)
}

/// Lexes a term pattern. A term starts after whitespace (or right after a quoted term) and may
/// carry `?` then `-` as prefixes; the parser checks that a prefix is glued to its term.
pub(crate) fn lex_terms(src: &str) -> Result<Vec<Token>, PatternError> {
    let mut cur = Cursor::new(src);
    let mut out = Vec::new();
    loop {
        cur.skip_whitespace();
        if cur.peek().is_none() {
            break;
        }
        for (prefix, kind) in [('?', TokenKind::Question), ('-', TokenKind::Minus)] {
            if cur.peek() == Some(prefix) {
                let start = cur.pos;
                cur.bump();
                out.push(cur.token(kind, start));
            }
        }
        let start = cur.pos;
        let kind = match cur.peek() {
            None => break,
            Some(c) if c.is_whitespace() => continue,
            Some('"') => cur.quoted()?,
            Some('%') => cur.regex()?,
            Some(_) => {
                TokenKind::Word(cur.eat_while(|c| !c.is_whitespace() && c != '"').to_owned())
            }
        };
        out.push(cur.token(kind, start));
    }
    out.push(end_token(src));
    Ok(out)
}

/// The token `peek` returns at and past the end of `src`.
pub(super) fn end_token(src: &str) -> Token {
    Token {
        kind: TokenKind::End,
        offset: src.len(),
        len: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::TokenKind::*;
    use super::*;

    fn kinds(tokens: Vec<Token>) -> Vec<TokenKind> {
        tokens.into_iter().map(|t| t.kind).collect()
    }

    fn w(s: &str) -> TokenKind {
        Word(s.to_owned())
    }

    #[test]
    fn structured_tokens() {
        let cases: Vec<(&str, Vec<TokenKind>)> = vec![
            (
                "{ $.a[0].b = 1 }",
                vec![LBrace, w("$.a[0].b"), Cmp(CmpOp::Eq), w("1"), RBrace, End],
            ),
            (
                "{$.x!=\"a\\\"b\\\\c\\d\"&&$.y<=-1.5||$.z>=1e3}",
                vec![
                    LBrace,
                    w("$.x"),
                    Cmp(CmpOp::Ne),
                    Str("a\"b\\c\\d".into()),
                    AndAnd,
                    w("$.y"),
                    Cmp(CmpOp::Le),
                    w("-1.5"),
                    OrOr,
                    w("$.z"),
                    Cmp(CmpOp::Ge),
                    w("1e3"),
                    RBrace,
                    End,
                ],
            ),
            (
                "[ip, ..., code = 4* || code = %5\\d\\d%, b>1]",
                vec![
                    LBracket,
                    w("ip"),
                    Comma,
                    w("..."),
                    Comma,
                    w("code"),
                    Cmp(CmpOp::Eq),
                    w("4*"),
                    OrOr,
                    w("code"),
                    Cmp(CmpOp::Eq),
                    Regex("5\\d\\d".into()),
                    Comma,
                    w("b"),
                    Cmp(CmpOp::Gt),
                    w("1"),
                    RBracket,
                    End,
                ],
            ),
            (
                "{ $.arn = arn:aws:iam::123:root }",
                vec![
                    LBrace,
                    w("$.arn"),
                    Cmp(CmpOp::Eq),
                    w("arn:aws:iam::123:root"),
                    RBrace,
                    End,
                ],
            ),
            ("<>", vec![Cmp(CmpOp::Lt), Cmp(CmpOp::Gt), End]),
        ];
        for (src, want) in cases {
            assert_eq!(kinds(lex_structured(src).unwrap()), want, "{src}");
        }
    }

    #[test]
    fn structured_offsets() {
        let tokens = lex_structured("{ $.a = \"x\" }").unwrap();
        let spans: Vec<(usize, usize)> = tokens.iter().map(|t| (t.offset, t.len)).collect();
        assert_eq!(
            spans,
            vec![(0, 1), (2, 3), (6, 1), (8, 3), (12, 1), (13, 0)]
        );
    }

    #[test]
    fn term_tokens() {
        let cases: Vec<(&str, Vec<TokenKind>)> = vec![
            ("ERROR -Exiting", vec![w("ERROR"), Minus, w("Exiting"), End]),
            (
                "?ERROR ?WARN",
                vec![Question, w("ERROR"), Question, w("WARN"), End],
            ),
            ("?-\"a b\"", vec![Question, Minus, Str("a b".into()), End]),
            ("a-b x=(1)", vec![w("a-b"), w("x=(1)"), End]),
            ("%ERR.R%", vec![Regex("ERR.R".into()), End]),
            ("\"a\"b", vec![Str("a".into()), w("b"), End]),
            ("- x", vec![Minus, w("x"), End]),
        ];
        for (src, want) in cases {
            assert_eq!(kinds(lex_terms(src).unwrap()), want, "{src}");
        }
    }

    #[test]
    fn lexer_errors() {
        let cases = [
            ("{ $.a = \"abc", 8, "unterminated string"),
            ("ERROR \"abc", 6, "unterminated string"),
            ("{ $.a = %abc }", 8, "unterminated regular expression"),
            (
                "{ $.a = 1 & $.b = 2 }",
                10,
                "expected `&&`, found a single `&`",
            ),
            (
                "{ $.a = 1 | $.b = 2 }",
                10,
                "expected `||`, found a single `|`",
            ),
            ("{ $.a ! 1 }", 7, "expected `=` after `!`, found whitespace"),
        ];
        for (src, offset, msg) in cases {
            let err = lex_structured(src)
                .and_then(|_| lex_terms(src))
                .unwrap_err();
            assert_eq!(err.offset, offset, "{src}: {err}");
            assert!(err.message.contains(msg), "{src}: {err}");
        }
    }
}
