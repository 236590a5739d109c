//! The space-delimited half of the parser: `[ ... ]` fields and their per-field conditions.

use super::ast::{DelimField, FieldExpr};
use super::token::{Token, TokenKind};
use super::parser::{cmp_op, collapse, Parser};
use super::PatternError;

impl Parser<'_> {
    pub(super) fn delimited(&mut self) -> Result<Vec<DelimField>, PatternError> {
        self.eat(TokenKind::LBracket, "`[`")?;
        let mut fields = Vec::new();
        loop {
            // An empty slot is a field without a name or condition: AWS's own example
            // `[..., request=*.html*, status_code=4*,]` ends with one, and its extracted fields
            // show that slot taking the event's last field. `[]` stays an error.
            let next = self.peek().kind;
            let empty =
                next == TokenKind::Comma || (next == TokenKind::RBracket && !fields.is_empty());
            if empty {
                fields.push(DelimField::Field {
                    name: None,
                    cond: None,
                });
            } else {
                fields.push(self.delimited_field()?);
            }
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
                let name = self.field_name(&tok, None)?;
                self.next();
                return Ok(DelimField::Field {
                    name: Some(name),
                    cond: None,
                });
            }
        }
        let mut name = None;
        let cond = self.field_or(0, &mut name)?;
        Ok(DelimField::Field {
            name,
            cond: Some(cond),
        })
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
