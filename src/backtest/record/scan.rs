//! The fast reading of a log file's records: one pass over the bytes by hand, building the same
//! reduced records as the serde_json reading ([`super::Record`]) for the files it is sure of.
//!
//! It never refuses a file. Whatever it is not sure it reads exactly as serde_json does (text
//! that is not UTF-8, an escape in a key, a record that is not an object, nesting deeper than
//! [`MAX_DEPTH`], anything serde_json would refuse) makes it give up, and the caller reads the
//! whole file again with serde_json, which gives the verdict. So a file it reads is one serde_json
//! accepts, with the same records (tested in `super::tests` on every one-byte change of sample
//! files). It checks what serde_json checks where it reads: kept values and the keys and values
//! below them in full, top-level fields no selector names as serde_json skips them (brackets
//! matched, strings' escapes and numbers' form checked, no UTF-8 or range check).
use std::borrow::Cow;

use serde_json::Number;

use super::{Fields, Json, Member};

/// The fast reading gave up: serde_json reads the file.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Unsure;

type Scan<T> = Result<T, Unsure>;

/// Nesting the fast reading follows (serde_json's limit is 128); deeper, serde_json reads.
const MAX_DEPTH: u32 = 64;

/// Reads `{"Records": [...]}` as [`super::read_log_file`] does with [`super::Record`], or gives up.
/// `each` sees the records as they are read (and `None` where a repeated `Records` starts); on
/// `Unsure` the caller must forget what it was given.
pub(super) fn read<'de>(bytes: &'de [u8], fields: &Fields, each: &mut impl FnMut(Option<Json<'de>>)) -> Scan<()> {
    // One UTF-8 check for the whole file; then every string is a slice of `text`.
    let text = std::str::from_utf8(bytes).map_err(|_| Unsure)?;
    // Positions are 32-bit (a replayed log file is at most --max-log-inflated, far less).
    if fields.whole || u32::try_from(bytes.len()).is_err() {
        return Err(Unsure);
    }
    let mut s = Scanner { text, b: bytes, i: 0 };
    s.ws();
    s.expect(b'{')?;
    s.ws();
    if !s.eat(b'}') {
        let mut seen = false;
        loop {
            s.ws();
            let key = s.key()?;
            s.colon()?;
            if key == "Records" {
                if seen {
                    each(None);
                }
                seen = true;
                s.records(fields, each)?;
            } else {
                s.ignore()?;
            }
            s.ws();
            match s.next()? {
                b',' => {}
                b'}' => break,
                _ => return Err(Unsure),
            }
        }
    }
    s.ws();
    if s.i == s.b.len() { Ok(()) } else { Err(Unsure) }
}

/// Where a string's text is in the file (between its quotes), and whether it has escapes.
#[derive(Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
    escaped: bool,
}

struct Scanner<'de> {
    text: &'de str,
    b: &'de [u8],
    i: usize,
}

const ONES: u64 = u64::MAX / 255;
const HIGHS: u64 = ONES << 7;

/// The bytes of `w` that end a string's plain run (`"`, `\` or a control character), as their
/// high bits; the lowest set one is exact (Mycroft's test, as serde_json's own scan).
#[inline]
fn specials(w: u64) -> u64 {
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q;
    let s = w ^ (ONES * u64::from(b'\\'));
    let slash = s.wrapping_sub(ONES) & !s;
    (control | quote | slash) & HIGHS
}

impl<'de> Scanner<'de> {
    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }
    #[inline]
    fn peek(&self) -> Scan<u8> {
        self.b.get(self.i).copied().ok_or(Unsure)
    }
    #[inline]
    fn next(&mut self) -> Scan<u8> {
        let c = self.peek()?;
        self.i += 1;
        Ok(c)
    }
    #[inline]
    fn eat(&mut self, c: u8) -> bool {
        let hit = self.b.get(self.i) == Some(&c);
        self.i += usize::from(hit);
        hit
    }
    #[inline]
    fn expect(&mut self, c: u8) -> Scan<()> {
        if self.eat(c) { Ok(()) } else { Err(Unsure) }
    }
    #[inline]
    fn colon(&mut self) -> Scan<()> {
        // CloudTrail writes `"key":value`: one test for that, the general way otherwise.
        if let Some([b':', c]) = self.b.get(self.i..self.i + 2) {
            if *c > b' ' {
                self.i += 1;
                return Ok(());
            }
        }
        self.ws();
        self.expect(b':')?;
        self.ws();
        Ok(())
    }
    fn literal(&mut self, word: &[u8]) -> Scan<()> {
        match self.b.get(self.i..self.i + word.len()) {
            Some(w) if w == word => {
                self.i += word.len();
                Ok(())
            }
            _ => Err(Unsure),
        }
    }

    /// Moves to the next `"`, `\` or control character (or the end).
    #[inline]
    fn plain(&mut self) {
        let rest = &self.b[self.i.min(self.b.len())..];
        let mut at = 0;
        while let Some(chunk) = rest.get(at..at + 8) {
            let w = u64::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7]]);
            let m = specials(w);
            if m != 0 {
                self.i += at + (m.trailing_zeros() / 8) as usize;
                return;
            }
            at += 8;
        }
        while let Some(&c) = rest.get(at) {
            if c == b'"' || c == b'\\' || c < 0x20 {
                break;
            }
            at += 1;
        }
        self.i += at;
    }

    /// The rest of a string (after its `"`), as serde_json skips one: escapes checked for form.
    fn skip_str(&mut self) -> Scan<()> {
        loop {
            self.plain();
            match self.next()? {
                b'"' => return Ok(()),
                b'\\' => match self.next()? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                    b'u' => {
                        for _ in 0..4 {
                            if !self.next()?.is_ascii_hexdigit() {
                                return Err(Unsure);
                            }
                        }
                    }
                    _ => return Err(Unsure),
                },
                _ => return Err(Unsure),
            }
        }
    }

    /// The rest of a string (after its `"`), found: where its text is, and whether it has
    /// escapes (checked for form only; [`Scanner::text_of`] decodes them).
    #[inline(always)]
    fn span(&mut self) -> Scan<Span> {
        let start = self.i as u32;
        self.plain();
        match self.b.get(self.i) {
            Some(b'"') => {
                let end = self.i as u32;
                self.i += 1;
                Ok(Span { start, end, escaped: false })
            }
            Some(b'\\') => {
                self.skip_str()?;
                Ok(Span { start, end: self.i as u32 - 1, escaped: true })
            }
            _ => Err(Unsure),
        }
    }

    /// A string's text: borrowed from the file, or, with escapes, decoded by serde_json itself.
    #[inline(always)]
    fn text_of(&self, span: Span) -> Scan<Cow<'de, str>> {
        if span.escaped {
            return self.decoded(span);
        }
        self.text.get(span.start as usize..span.end as usize).map(Cow::Borrowed).ok_or(Unsure)
    }
    #[cold]
    #[inline(never)]
    fn decoded(&self, span: Span) -> Scan<Cow<'de, str>> {
        let quoted = self.text.get(span.start as usize - 1..span.end as usize + 1).ok_or(Unsure)?;
        serde_json::from_str::<String>(quoted).map(Cow::Owned).map_err(|_| Unsure)
    }

    /// The rest of a string (after its `"`), read.
    #[inline]
    fn str(&mut self) -> Scan<Cow<'de, str>> {
        let span = self.span()?;
        self.text_of(span)
    }

    /// An object's key, read (the `"` next).
    #[inline(always)]
    fn key(&mut self) -> Scan<Cow<'de, str>> {
        self.expect(b'"')?;
        let span = self.span()?;
        self.text_of(span)
    }

    /// A number's text, checked for JSON's form (as serde_json skips one).
    fn number(&mut self) -> Scan<&'de str> {
        let start = self.i;
        self.eat(b'-');
        match self.next()? {
            b'0' => {
                if self.peek().is_ok_and(|c| c.is_ascii_digit()) {
                    return Err(Unsure);
                }
            }
            b'1'..=b'9' => self.digits(),
            _ => return Err(Unsure),
        }
        if self.eat(b'.') {
            self.some_digits()?;
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            self.some_digits()?;
        }
        self.text.get(start..self.i).ok_or(Unsure)
    }
    #[inline]
    fn digits(&mut self) {
        while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
    }
    fn some_digits(&mut self) -> Scan<()> {
        let from = self.i;
        self.digits();
        if self.i > from { Ok(()) } else { Err(Unsure) }
    }

    /// A number read as serde_json reads it: a short unsigned integer here, anything else by
    /// serde_json itself (its float reading, its range check).
    fn number_value(&mut self) -> Scan<Number> {
        let text = self.number()?;
        if text.len() <= 18 && text.bytes().all(|c| c.is_ascii_digit()) {
            return Ok(Number::from(text.bytes().fold(0u64, |n, c| n * 10 + u64::from(c - b'0'))));
        }
        text.parse::<Number>().map_err(|_| Unsure)
    }

    /// A value no selector reaches at the record's top level (or a log file's member other than
    /// `Records`): skipped as serde_json's `IgnoredAny` skips it. Nesting is followed in a bit
    /// stack (1 an object, 0 an array).
    fn ignore(&mut self) -> Scan<()> {
        let mut stack = 0u64;
        let mut depth = 0u32;
        loop {
            self.ws();
            match self.next()? {
                b'"' => self.skip_str()?,
                b'-' | b'0'..=b'9' => {
                    self.i -= 1;
                    self.number()?;
                }
                b'n' => self.literal(b"ull")?,
                b't' => self.literal(b"rue")?,
                b'f' => self.literal(b"alse")?,
                open @ (b'[' | b'{') => {
                    if depth == MAX_DEPTH {
                        return Err(Unsure);
                    }
                    let object = open == b'{';
                    self.ws();
                    if !self.eat(if object { b'}' } else { b']' }) {
                        stack = stack << 1 | u64::from(object);
                        depth += 1;
                        if object {
                            self.ignored_key()?;
                        }
                        continue;
                    }
                }
                _ => return Err(Unsure),
            }
            // After a value: close what ends here, up to the next member or element.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                self.ws();
                let object = stack & 1 == 1;
                match self.next()? {
                    b',' => {
                        if object {
                            self.ignored_key()?;
                        }
                        break;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => return Err(Unsure),
                }
                stack >>= 1;
                depth -= 1;
            }
        }
    }
    fn ignored_key(&mut self) -> Scan<()> {
        self.ws();
        self.expect(b'"')?;
        self.skip_str()?;
        self.colon()
    }

    fn records(&mut self, fields: &Fields, each: &mut impl FnMut(Option<Json<'de>>)) -> Scan<()> {
        self.expect(b'[')?;
        self.ws();
        if self.eat(b']') {
            return Ok(());
        }
        loop {
            self.ws();
            // A record that is no object is read as serde_json reads it.
            if self.peek()? != b'{' {
                return Err(Unsure);
            }
            let record = self.object(fields, true, 3)?;
            each(Some(record));
            self.ws();
            match self.next()? {
                b',' => {}
                b']' => return Ok(()),
                _ => return Err(Unsure),
            }
        }
    }

    /// An object (at its `{`) reduced to `fields`: `top` at a record's root, where keys no
    /// selector names are skipped as serde_json skips them; below it they are checked in full.
    fn object(&mut self, fields: &Fields, top: bool, depth: u32) -> Scan<Json<'de>> {
        self.i += 1;
        if depth > MAX_DEPTH {
            return Err(Unsure);
        }
        let mut kept = Vec::with_capacity(fields.children.len());
        self.ws();
        if self.eat(b'}') {
            return Ok(Json::Object(kept));
        }
        loop {
            self.ws();
            let key = self.key()?;
            self.colon()?;
            let print = super::print(&key);
            match fields.child_printed(print, &key) {
                // Most kept values are strings: read in place.
                Some(child) if child.whole && self.eat(b'"') => {
                    let span = self.span()?;
                    if span.escaped {
                        let value = Json::String(self.decoded(span)?);
                        kept.push(Member { print, key, value });
                    } else {
                        let text = self.text.get(span.start as usize..span.end as usize).ok_or(Unsure)?;
                        kept.push(Member { print, key, value: Json::String(Cow::Borrowed(text)) });
                    }
                }
                Some(child) if child.whole => {
                    let value = self.whole(depth)?;
                    kept.push(Member { print, key, value });
                }
                Some(child) => {
                    let value = self.reduced(child, depth)?;
                    kept.push(Member { print, key, value });
                }
                None if top && self.eat(b'"') => self.skip_str()?,
                None if top => self.ignore()?,
                None => self.checked(depth)?,
            }
            self.ws();
            match self.next()? {
                b',' => {}
                b'}' => return Ok(Json::Object(kept)),
                _ => return Err(Unsure),
            }
        }
    }

    /// A value below which `fields` are kept. A non-object keeps its kind: an array is kept
    /// empty (its elements checked), a scalar as it is.
    fn reduced(&mut self, fields: &Fields, depth: u32) -> Scan<Json<'de>> {
        match self.peek()? {
            b'{' => self.object(fields, false, depth + 1),
            b'[' => {
                self.elements(depth, |s, d| s.checked(d))?;
                Ok(Json::Array(Vec::new()))
            }
            _ => self.whole(depth),
        }
    }

    /// A value kept whole.
    fn whole(&mut self, depth: u32) -> Scan<Json<'de>> {
        match self.next()? {
            b'"' => self.str().map(Json::String),
            b'-' | b'0'..=b'9' => {
                self.i -= 1;
                self.number_value().map(Json::Number)
            }
            b'n' => self.literal(b"ull").map(|()| Json::Null),
            b't' => self.literal(b"rue").map(|()| Json::Bool(true)),
            b'f' => self.literal(b"alse").map(|()| Json::Bool(false)),
            b'[' => {
                self.i -= 1;
                let mut items = Vec::new();
                self.elements(depth, |s, d| s.whole(d).map(|v| items.push(v)))?;
                Ok(Json::Array(items))
            }
            b'{' => {
                self.i -= 1;
                let mut members = Vec::new();
                self.members(depth, |s, key, d| s.whole(d).map(|v| members.push(Member::new(key, v))))?;
                Ok(Json::Object(members))
            }
            _ => Err(Unsure),
        }
    }

    /// A value no selector reaches below a kept key: checked as serde_json reads it into a
    /// `Value` (strings decoded, numbers read), not built.
    fn checked(&mut self, depth: u32) -> Scan<()> {
        match self.next()? {
            b'"' => self.str().map(drop),
            b'-' | b'0'..=b'9' => {
                self.i -= 1;
                self.number_value().map(drop)
            }
            b'n' => self.literal(b"ull"),
            b't' => self.literal(b"rue"),
            b'f' => self.literal(b"alse"),
            b'[' => {
                self.i -= 1;
                self.elements(depth, |s, d| s.checked(d))
            }
            b'{' => {
                self.i -= 1;
                self.members(depth, |s, _, d| s.checked(d))
            }
            _ => Err(Unsure),
        }
    }

    /// An array's elements (at its `[`), each read by `item` one level deeper.
    fn elements(&mut self, depth: u32, item: impl FnMut(&mut Self, u32) -> Scan<()>) -> Scan<()> {
        self.sequence(depth, b']', item)
    }

    /// An object's members (at its `{`), each value read by `member` one level deeper.
    fn members(&mut self, depth: u32, mut member: impl FnMut(&mut Self, Cow<'de, str>, u32) -> Scan<()>) -> Scan<()> {
        self.sequence(depth, b'}', |s, depth| {
            let key = s.key()?;
            s.colon()?;
            member(s, key, depth)
        })
    }

    /// The comma-separated items of an array or object (at its opening bracket) up to `close`,
    /// each read by `item` one level deeper.
    fn sequence(&mut self, depth: u32, close: u8, mut item: impl FnMut(&mut Self, u32) -> Scan<()>) -> Scan<()> {
        self.i += 1;
        if depth + 1 > MAX_DEPTH {
            return Err(Unsure);
        }
        self.ws();
        if self.eat(close) {
            return Ok(());
        }
        loop {
            self.ws();
            item(self, depth + 1)?;
            self.ws();
            match self.next()? {
                b',' => {}
                c if c == close => return Ok(()),
                _ => return Err(Unsure),
            }
        }
    }
}
