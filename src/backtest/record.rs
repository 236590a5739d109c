//! A replay's records, read straight from a verified log file's bytes: each record's strings are
//! borrowed from the bytes, and only the parts of the record some selector can reach are built.
//!
//! The reduced record reads exactly as the `serde_json::Value` of the whole record would for
//! every selector it was reduced for (tested below against `Value` on tricky records), and the
//! file is refused on exactly the same input as before: wherever a kept field's value lies,
//! everything in it is still parsed and checked (strings for UTF-8 and escapes, numbers for
//! range, nesting for depth) even when it is not built; top-level fields no selector names are
//! skipped unchecked, as they were.
//!
//! Two readings build these records: `scan`, a hand-written pass for the files it is sure of
//! (nearly all), and serde_json through the seeds below for every other file. The tests hold
//! `scan` to serde_json's records on every one-byte change of sample files.
use std::borrow::Cow;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

use crate::filter_pattern::{JsonKind, JsonView, Step};

mod scan;

/// A JSON value whose strings are borrowed from the text it was parsed from (owned only when
/// the text has escapes). An object keeps its members in text order, repeated keys included;
/// a read finds the last one, as in the `Value` serde_json builds.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<Member<'a>>),
}

/// An object's member.
#[derive(Debug, Clone, PartialEq)]
pub struct Member<'a> {
    /// [`print`] of the key: most keys that differ are told apart by it alone.
    print: u64,
    key: Cow<'a, str>,
    value: Json<'a>,
}

impl<'a> Member<'a> {
    fn new(key: Cow<'a, str>, value: Json<'a>) -> Member<'a> {
        Member { print: print(&key), key, value }
    }
}

/// Whether two keys whose prints are equal are the same key. A print tells apart keys of the
/// same length up to 8 bytes; longer ones are told apart by their tails, without a call to
/// `memcmp` up to 16 bytes (most of CloudTrail's keys).
#[inline]
fn same_key(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0..=8 => true,
        9..=16 => last_word(a) == last_word(b),
        _ => a[8..] == b[8..],
    }
}

/// The last eight bytes of `b` (at least eight long) as a word.
#[inline]
fn last_word(b: &[u8]) -> u64 {
    let w = &b[b.len() - 8..];
    u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]])
}

/// A key's length and first eight bytes (or all of them) in one word: equal keys have equal
/// prints, so comparing prints first spares comparing the bytes of most keys that differ.
fn print(key: &str) -> u64 {
    let bytes = key.as_bytes();
    let head = match bytes.get(..8) {
        Some(first) => {
            let mut word = [0u8; 8];
            word.copy_from_slice(first);
            u64::from_le_bytes(word)
        }
        None => bytes.iter().fold(0u64, |word, &b| word << 8 | u64::from(b)),
    };
    head ^ (bytes.len() as u64).rotate_right(8)
}

impl JsonView for Json<'_> {
    fn key(&self, key: &str) -> Option<&Self> {
        match self {
            Json::Object(members) => {
                let p = print(key);
                members.iter().rev().find(|m| m.print == p && same_key(&m.key, key)).map(|m| &m.value)
            }
            _ => None,
        }
    }
    fn index(&self, index: usize) -> Option<&Self> {
        match self {
            Json::Array(items) => items.get(index),
            _ => None,
        }
    }
    fn kind(&self) -> JsonKind<'_> {
        match self {
            Json::Null => JsonKind::Null,
            Json::Bool(b) => JsonKind::Bool(*b),
            Json::Number(n) => JsonKind::Number(n),
            Json::String(s) => JsonKind::String(s),
            Json::Array(_) => JsonKind::Array,
            Json::Object(_) => JsonKind::Object,
        }
    }
}

impl Json<'_> {
    /// The `Value` serde_json builds from the same text (for the rare reads that need a value's
    /// compact text: a top driver that is not a string).
    pub fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.clone()),
            Json::String(s) => Value::String(s.to_string()),
            Json::Array(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            // Inserting in text order leaves the last of repeated keys, as serde_json does.
            Json::Object(members) => Value::Object(members.iter().map(|m| (m.key.to_string(), m.value.to_value())).collect()),
        }
    }
}

/// Which parts of a record to build: the keys on the way to each selector, and where a
/// selector's value is (kept whole). A selector step into an array keeps the array whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    whole: bool,
    /// (print of the key, key, what to keep below it).
    children: Vec<(u64, String, Fields)>,
    /// One bit per child ([`bit`] of its print): most keys that are no child miss it, and are
    /// known not to be without a search.
    bits: u64,
}

/// A print's bit in [`Fields::bits`].
#[inline]
fn bit(print: u64) -> u64 {
    1 << (print.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58)
}

impl Fields {
    /// Keeps what the path of keys `keys`, from the record's root, reaches.
    pub fn add_keys(&mut self, keys: &[&str]) {
        self.add(&keys.iter().map(|k| Step::Key((*k).to_string())).collect::<Vec<_>>());
    }

    /// Keeps what `steps`, from the record's root, reach.
    pub fn add(&mut self, steps: &[Step]) {
        // A record that counts is an object: an index on its root never resolves.
        if matches!(steps.first(), Some(Step::Index(_))) {
            return;
        }
        let mut node = self;
        for step in steps {
            if node.whole {
                return;
            }
            let Step::Key(key) = step else { break };
            let at = match node.children.iter().position(|(_, k, _)| k == key) {
                Some(at) => at,
                None => {
                    node.children.push((print(key), key.clone(), Fields::default()));
                    node.bits |= bit(print(key));
                    node.children.len() - 1
                }
            };
            node = &mut node.children[at].2;
        }
        node.whole = true;
        node.children.clear();
        node.bits = 0;
    }

    pub(crate) fn child(&self, key: &str) -> Option<&Fields> {
        self.child_printed(print(key), key)
    }

    /// [`Fields::child`] of a key whose print is known.
    #[inline]
    fn child_printed(&self, p: u64, key: &str) -> Option<&Fields> {
        if self.bits & bit(p) == 0 {
            return None;
        }
        self.children.iter().find(|(q, k, _)| *q == p && same_key(k, key)).map(|(_, _, f)| f)
    }
}

/// A member's key, borrowed from the text unless it has escapes. (`Cow<str>`'s own Deserialize
/// always copies.)
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(Key)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// One record of a log file, reduced to `Fields`. A record that is not an object is `Null`: it
/// has no fields (and no time, so it is never replayed).
#[derive(Clone, Copy)]
pub struct Record<'f>(pub &'f Fields);

impl<'de> DeserializeSeed<'de> for Record<'_> {
    type Value = Json<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        if self.0.whole {
            return d.deserialize_any(WholeVisitor);
        }
        d.deserialize_any(Reduced { fields: self.0, top: true })
    }
}

/// A value below which only some keys are read.
struct Reduced<'f> {
    fields: &'f Fields,
    /// At the record's root: keys no selector names are skipped unchecked, as a record was
    /// always read. Deeper, they are checked as the whole `Value` would have been.
    top: bool,
}

impl<'de> DeserializeSeed<'de> for Reduced<'_> {
    type Value = Json<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Reduced<'_> {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut kept = Vec::with_capacity(self.fields.children.len());
        while let Some(key) = map.next_key_seed(Key)? {
            match self.fields.child(&key) {
                Some(child) if child.whole => kept.push(Member::new(key, map.next_value_seed(Whole)?)),
                Some(child) => kept.push(Member::new(key, map.next_value_seed(Reduced { fields: child, top: false })?)),
                None if self.top => {
                    map.next_value::<IgnoredAny>()?;
                }
                None => map.next_value_seed(Checked)?,
            }
        }
        Ok(Json::Object(kept))
    }

    // Below the root, a non-object keeps its kind (no key resolves in it, whatever it holds),
    // so an array is kept empty; scalars are kept as they are. At the root, as before, a record
    // that is not an object is `Null`.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        if self.top {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(Json::Null);
        }
        while seq.next_element_seed(Checked)?.is_some() {}
        Ok(Json::Array(Vec::new()))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(if self.top { Json::Null } else { Json::Bool(v) })
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(if self.top { Json::Null } else { Json::Number(v.into()) })
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(if self.top { Json::Null } else { Json::Number(v.into()) })
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json<'de>, E> {
        Ok(if self.top { Json::Null } else { float(v) })
    }
    fn visit_str<E>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(if self.top { Json::Null } else { Json::String(Cow::Owned(v.to_owned())) })
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(if self.top { Json::Null } else { Json::String(Cow::Borrowed(v)) })
    }
    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
}

/// serde_json's `Value` has no non-finite numbers: it makes them null.
fn float<'a>(v: f64) -> Json<'a> {
    Number::from_f64(v).map_or(Json::Null, Json::Number)
}

/// A value kept whole.
struct Whole;

impl<'de> DeserializeSeed<'de> for Whole {
    type Value = Json<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        d.deserialize_any(WholeVisitor)
    }
}

impl<'de> serde::Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json<'de>, D::Error> {
        d.deserialize_any(WholeVisitor)
    }
}

struct WholeVisitor;

impl<'de> Visitor<'de> for WholeVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut members = Vec::new();
        while let Some(key) = map.next_key_seed(Key)? {
            members.push(Member::new(key, map.next_value_seed(Whole)?));
        }
        Ok(Json::Object(members))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Whole)? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json<'de>, E> {
        Ok(float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v.to_owned())))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }
    fn visit_string<E>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        d.deserialize_any(WholeVisitor)
    }
}

/// A value no selector reads, parsed (and so checked) as a `Value` would be, but not built.
struct Checked;

impl<'de> DeserializeSeed<'de> for Checked {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(Checked)
    }
}

impl<'de> Visitor<'de> for Checked {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Keys are parsed (and checked) as strings whatever they are read into.
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(Checked)?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Checked)?.is_some() {}
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(Checked)
    }
}

/// Reads a CloudTrail log file, `{"Records": [...]}`, handing each record (read with `seed`) to
/// `each` as it is parsed, so that the file's records are never all in memory at once. Other
/// members are skipped. `each(None)` says a repeated `Records` member starts: as in the `Value`
/// of the file, only the last one counts, so the caller forgets what it has seen.
pub fn read_log_file<'de, S, F>(bytes: &'de [u8], seed: S, each: F) -> Result<(), serde_json::Error>
where
    S: DeserializeSeed<'de> + Clone,
    F: FnMut(Option<S::Value>),
{
    // Valid UTF-8 (as CloudTrail writes) is read as text: serde_json then skips its per-string
    // UTF-8 check, and accepts and reads exactly as from the bytes.
    match std::str::from_utf8(bytes) {
        Ok(text) => read_with(serde_json::Deserializer::from_str(text), seed, each),
        Err(_) => read_with(serde_json::Deserializer::from_slice(bytes), seed, each),
    }
}

fn read_with<'de, R, S, F>(mut reader: serde_json::Deserializer<R>, seed: S, each: F) -> Result<(), serde_json::Error>
where
    R: serde_json::de::Read<'de>,
    S: DeserializeSeed<'de> + Clone,
    F: FnMut(Option<S::Value>),
{
    reader.deserialize_map(LogFile { seed, each })?;
    reader.end()
}

/// [`read_log_file`] with [`Record`]`(fields)`, by the fast hand-written reading when it is sure
/// of the file (nearly always: see `scan`), else by serde_json. Either way the same records, and
/// the same files refused.
pub fn read_records<'de, F>(bytes: &'de [u8], fields: &Fields, mut each: F) -> Result<(), serde_json::Error>
where
    F: FnMut(Option<Json<'de>>),
{
    match scan::read(bytes, fields, &mut each) {
        Ok(()) => Ok(()),
        Err(scan::Unsure) => {
            // Forget the records read so far, as for a repeated `Records`.
            each(None);
            read_log_file(bytes, Record(fields), each)
        }
    }
}

/// For the fuzz harness (`fuzz/harness.rs`): reads `bytes` by both readings, keeping the fields
/// the CIS filters and the top drivers read, and panics if the fast reading, where it is sure of
/// the file, does not give exactly serde_json's records. Any panic inside either reading
/// surfaces here too.
#[doc(hidden)]
pub fn check_readings_agree(bytes: &[u8]) {
    const PATHS: [&[&str]; 9] = [
        &["eventName"],
        &["eventSource"],
        &["errorCode"],
        &["sourceIPAddress"],
        &["awsRegion"],
        &["eventTime"],
        &["userIdentity", "type"],
        &["userIdentity", "arn"],
        &["requestParameters"],
    ];
    let mut fields = Fields::default();
    PATHS.iter().for_each(|path| fields.add_keys(path));
    // Both readings run on every input: serde_json's path goes through this module's seeds too.
    let (fast, by_serde) = (read_fast(bytes, &fields), read_by_serde(bytes, &fields));
    if let Ok(fast) = fast {
        assert!(by_serde.is_ok(), "the fast reading accepted a file serde_json refuses: {:?}", by_serde.err());
        assert_eq!(Ok(fast), by_serde.map_err(|_| ()), "the fast reading differs from serde_json's");
    }
}

/// The records a reading hands over, as a list: `None` (a repeated `Records` starts) forgets
/// the ones before it, as the replay does.
fn collect_records<'a, E>(read: impl FnOnce(&mut dyn FnMut(Option<Json<'a>>)) -> Result<(), E>) -> Result<Vec<Json<'a>>, E> {
    let mut records = Vec::new();
    read(&mut |r| match r {
        Some(r) => records.push(r),
        None => records.clear(),
    })?;
    Ok(records)
}

/// The fast reading alone (it gives up with `Unsure` on what it is not sure of).
fn read_fast<'a>(bytes: &'a [u8], fields: &Fields) -> Result<Vec<Json<'a>>, scan::Unsure> {
    collect_records(|mut each| scan::read(bytes, fields, &mut each))
}

/// The serde_json reading alone.
fn read_by_serde<'a>(bytes: &'a [u8], fields: &Fields) -> Result<Vec<Json<'a>>, serde_json::Error> {
    collect_records(|each| read_log_file(bytes, Record(fields), each))
}

struct LogFile<S, F> {
    seed: S,
    each: F,
}

impl<'de, S, F> Visitor<'de> for LogFile<S, F>
where
    S: DeserializeSeed<'de> + Clone,
    F: FnMut(Option<S::Value>),
{
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a CloudTrail log file")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key_seed(Key)? {
            if key == "Records" {
                if seen {
                    (self.each)(None);
                }
                seen = true;
                map.next_value_seed(Records { seed: self.seed.clone(), each: &mut self.each })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Records<'e, S, F> {
    seed: S,
    each: &'e mut F,
}

impl<'de, S, F> DeserializeSeed<'de> for Records<'_, S, F>
where
    S: DeserializeSeed<'de> + Clone,
    F: FnMut(Option<S::Value>),
{
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, S, F> Visitor<'de> for Records<'_, S, F>
where
    S: DeserializeSeed<'de> + Clone,
    F: FnMut(Option<S::Value>),
{
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(record) = seq.next_element_seed(self.seed.clone())? {
            (self.each)(Some(record));
        }
        Ok(())
    }
}

/// Reads each record as a whole `serde_json::Value` (for patterns that read the record's text).
#[derive(Clone, Copy)]
pub struct WholeValue;

impl<'de> DeserializeSeed<'de> for WholeValue {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        serde::Deserialize::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter_pattern::Step::{Index as I, Key as K};

    /// The replay's reading before records were reduced below their top-level fields: each
    /// record an object of its top-level fields named in `roots`, each a whole `Value`, the
    /// others skipped unchecked; a record that is no object is null. The reference.
    mod before {
        use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
        use serde_json::Value;

        pub fn read(bytes: &[u8], roots: &[String]) -> Result<Vec<Value>, serde_json::Error> {
            let mut reader = serde_json::Deserializer::from_slice(bytes);
            let records = serde::Deserializer::deserialize_map(&mut reader, LogFile(roots))?;
            reader.end().map(|()| records)
        }

        struct LogFile<'a>(&'a [String]);
        impl<'de> Visitor<'de> for LogFile<'_> {
            type Value = Vec<Value>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a log file")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Value>, A::Error> {
                let mut records = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "Records" {
                        records = map.next_value_seed(Records(self.0))?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(records)
            }
        }
        struct Records<'a>(&'a [String]);
        impl<'de> DeserializeSeed<'de> for Records<'_> {
            type Value = Vec<Value>;
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<Value>, D::Error> {
                d.deserialize_seq(self)
            }
        }
        impl<'de> Visitor<'de> for Records<'_> {
            type Value = Vec<Value>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("records")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Value>, A::Error> {
                let mut records = Vec::new();
                while let Some(r) = seq.next_element_seed(Record(self.0))? {
                    records.push(r);
                }
                Ok(records)
            }
        }
        struct Record<'a>(&'a [String]);
        impl<'de> DeserializeSeed<'de> for Record<'_> {
            type Value = Value;
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                d.deserialize_any(self)
            }
        }
        impl<'de> Visitor<'de> for Record<'_> {
            type Value = Value;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a record")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut kept = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if self.0.contains(&key) {
                        kept.insert(key, map.next_value()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Value::Object(kept))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Value::Null)
            }
            fn visit_str<E>(self, _: &str) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
        }
    }

    fn selectors() -> Vec<Vec<Step>> {
        let k = |s: &str| K(s.to_string());
        vec![
            vec![k("eventName")],
            vec![k("userIdentity"), k("type")],
            vec![k("userIdentity"), k("sessionContext"), k("attributes"), k("mfa")],
            vec![k("requestParameters"), k("items"), I(1), k("id")],
            vec![k("requestParameters"), k("n")],
            vec![k("dup"), k("x")],
            vec![k("arr"), I(0)],
            vec![k("s")],
            vec![k("missing"), k("deeper")],
            vec![k("eventTime")],
            vec![k("nums")],
            vec![k("é\"q")],
            // An index on the record's root never resolves: records that count are objects.
            vec![I(0)],
        ]
    }

    /// The new reading: the reduced records, borrowed from `bytes`.
    fn read_reduced<'a>(bytes: &'a [u8], fields: &Fields) -> Result<Vec<Json<'a>>, serde_json::Error> {
        collect_records(|each| read_records(bytes, fields, each))
    }

    fn test_fields() -> Fields {
        let mut fields = Fields::default();
        selectors().iter().for_each(|s| fields.add(s));
        fields
    }

    /// Every selector, and every prefix of one, reads the same kind and value in both readings,
    /// and a file is refused by both or by neither. The fast reading, where it is sure of the
    /// file, reads exactly the records serde_json reads. Returns whether it was sure.
    #[track_caller]
    fn agree(file: impl AsRef<[u8]>) -> bool {
        let file = file.as_ref();
        let shown = String::from_utf8_lossy(file);
        let selectors = selectors();
        let fields = test_fields();
        let fast = read_fast(file, &fields);
        if let Ok(fast) = &fast {
            assert_eq!(read_by_serde(file, &fields).ok().as_ref(), Some(fast), "the fast reading differs from serde_json's on {shown}");
        }
        let roots: Vec<String> = selectors.iter().filter_map(|s| match s.first() {
            Some(K(k)) => Some(k.clone()),
            _ => None,
        }).collect();
        let (old, new) = (before::read(file, &roots), read_reduced(file, &fields));
        let (old, new) = match (old, new) {
            (Ok(old), Ok(new)) => (old, new),
            (Err(_), Err(_)) => return fast.is_ok(),
            (old, new) => panic!("refused differently: before {:?}, now {:?}, on {shown}", old.err(), new.err()),
        };
        assert_eq!(Ok(&new), read_by_serde(file, &fields).as_ref().map_err(|_| ()), "{shown}");
        assert_eq!(old.len(), new.len(), "{shown}");
        for (value, json) in old.iter().zip(&new) {
            for steps in &selectors {
                for end in 1..=steps.len() {
                    let at = &steps[..end];
                    let (v, j) = (crate::filter_pattern::resolve_for_tests(at, value), crate::filter_pattern::resolve_for_tests(at, json));
                    assert_eq!(v.map(JsonView::kind), j.map(JsonView::kind), "{at:?} in {value} ({shown})");
                    if end == steps.len() {
                        assert_eq!(v.cloned(), j.map(Json::to_value), "{at:?} in {value} ({shown})");
                    }
                }
            }
        }
        fast.is_ok()
    }

    #[test]
    fn reduced_records_read_as_whole_values_do() {
        let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        let files = [
            // Nested objects and arrays, kept and pruned.
            r#"{"Records":[{"eventName":"A","userIdentity":{"type":"Root","arn":"x","sessionContext":{"attributes":{"mfa":"true","other":[1,{"a":null}]},"issuer":{"k":"v"}}},"requestParameters":{"items":[{"id":1},{"id":"two","x":[]}],"n":-0.5e3,"big":{"deep":[[[]]]}}}]}"#,
            // Escaped strings, in keys and values; unicode; a surrogate pair.
            r#"{"Records":[{"eventName":"a\"b\\c\/d\n\u00e9\ud83d\ude00","s":"\u0041","\u00e9\"q":"key with escapes","requestParameters":{"n":"\t"}}]}"#,
            // Numbers in every JSON form.
            r#"{"Records":[{"nums":0,"s":-0,"arr":[1.0,-1,1e3,1E-3,-2.5e+2,18446744073709551615,18446744073709551616,-9223372036854775808,-9223372036854775809,123456789012345678901234567890,0.1]},{"nums":[0,-0.0,1e308]}]}"#,
            // Nulls, booleans, missing fields, values of the wrong kind on the way.
            r#"{"Records":[{"eventName":null,"userIdentity":null,"requestParameters":{"items":"no","n":true},"arr":{"0":1},"missing":null},{"userIdentity":[{"type":"Root"}],"requestParameters":[1,2],"dup":"s"},{}]}"#,
            // Repeated keys: the last wins, at the top and below; a kept key after a pruned one.
            r#"{"Records":[{"dup":{"x":1},"dup":{"y":2},"eventName":"first","eventName":"second","userIdentity":{"type":"a","type":"b"},"requestParameters":{"n":1,"n":{"m":2}}}]}"#,
            // Records that are not objects, and an empty one.
            r#"{"Records":[[1,2],"text",5,-1.5,true,null,{"eventName":"ok"},{}],"other":{"ignored":[1]}}"#,
            // Repeated Records: only the last counts; members before and after it.
            r#"{"before":1,"Records":[{"eventName":"lost"}],"Records":[{"eventName":"kept"}],"after":[{"x":"\u00e9"}]}"#,
            r#"{"Records":[]}"#,
            r#"{}"#,
            // Refused by both: not a log file, a bad Records, trailing content.
            r#"[]"#,
            r#"{"Records":{"eventName":"x"}}"#,
            r#"{"Records":null}"#,
            r#"{"Records":[{"eventName":"x"}]} {}"#,
            r#"{"Records":[{"eventName":"x"},]}"#,
            // Bad input inside a kept field, even below what any selector reads: refused by both.
            r#"{"Records":[{"userIdentity":{"type":"a","other":"\ud800"}}]}"#,
            r#"{"Records":[{"userIdentity":{"type":"a","other":1e400}}]}"#,
            r#"{"Records":[{"userIdentity":{"type":"a","other":"\x"}}]}"#,
            r#"{"Records":[{"userIdentity":{"type":"a","\ud800":1}}]}"#,
            // ... and inside a top-level field no selector names: skipped by both.
            r#"{"Records":[{"unread":"\ud800","eventName":"x"}]}"#,
            r#"{"Records":[{"unread":1e400,"eventName":"x"}]}"#,
        ];
        let sure: Vec<bool> = files.iter().map(agree).collect();
        // The fast reading reads every file serde_json accepts but the one with records that are
        // not objects (and gives the refused ones to serde_json).
        let (t, f) = (true, false);
        assert_eq!(sure, [t, t, t, t, t, f, t, t, t, f, f, f, f, f, f, f, f, f, t, t]);
        // Nesting past serde_json's limit: refused inside kept fields, skipped elsewhere; past
        // the fast reading's, left to serde_json.
        let nested = |n| {
            [
                format!(r#"{{"Records":[{{"userIdentity":{{"type":"a","other":{}}}}}]}}"#, deep(n)),
                format!(r#"{{"Records":[{{"unread":{},"eventName":"x"}}]}}"#, deep(n)),
                format!(r#"{{"Records":[{{"requestParameters":{{"n":{}}}}}]}}"#, deep(n)),
                format!(r#"{{"Records":[{{"arr":{}}}]}}"#, deep(n)),
            ]
        };
        assert_eq!(nested(140).map(agree), [f, f, f, f]);
        assert_eq!(nested(120).map(agree), [f, f, f, f]);
        assert_eq!(nested(50).map(agree), [t, t, t, t]);
    }

    /// A log file as CloudTrail writes one, with a little of everything the readings tell apart.
    const SAMPLE: &str = r#"{"Records":[{"awsRegion":"us-east-1","eventName":"ConsoleLogin","eventTime":"2026-03-03T00:10:05Z","managementEvent":true,"readOnly":false,"requestParameters":{"maxResults":841,"items":[{"id":1},{"id":"t\u00e9"}],"n":-2.5e-3},"responseElements":null,"s":"a\"b","userAgent":"cli/2 \"q\" \u00e9","userIdentity":{"arn":"arn:aws:sts::1:assumed-role/O/s","sessionContext":{"attributes":{"mfa":"true","at":[1,{"a":null}]}},"type":"AssumedRole"},"arr":[0,{"k":[true,false]}],"é\"q":"v","nums":{"a":[1e2]}},{"eventName":"x","dup":{"x":[]}}],"x":{"y":[1,"z"]}}"#;

    /// Each one-byte change of a sample file (a byte replaced by one of those that matter to a
    /// JSON reader, removed, or a byte inserted) and each of its prefixes: the fast reading
    /// reads it as serde_json does or leaves it to serde_json, and the file is read as before.
    #[test]
    fn every_one_byte_change_is_read_alike_or_left_to_serde_json() {
        let bases = [SAMPLE.as_bytes(), br#"{"Records":[{"eventName":"\u0041\ud83d\ude00","requestParameters":{"n":[0,-0,-0.0,18446744073709551616,-9223372036854775809]}}]}"#];
        let bytes = b"\"\\{}[],:0-19.eE+ nulltrfasu/x\x01\x1f\x7f\xc3\xa9\xff";
        let (mut sure, mut changes) = (0, 0);
        for base in bases {
            assert!(agree(base), "the fast reading reads {}", String::from_utf8_lossy(base));
            for at in 0..base.len() {
                let mut tried = vec![base[..at].to_vec(), [&base[..at], &base[at + 1..]].concat()];
                for &c in bytes {
                    let mut changed = base.to_vec();
                    changed[at] = c;
                    tried.push(changed);
                    tried.push([&base[..at], &[c], &base[at..]].concat());
                }
                for file in tried {
                    changes += 1;
                    sure += usize::from(agree(&file));
                }
            }
        }
        // Most changes are refused (and given to serde_json); many are read fast.
        assert!(sure > changes / 10, "{sure} of {changes}");
    }

    #[test]
    fn invalid_utf8_is_refused_where_it_was() {
        let fields = {
            let mut f = Fields::default();
            f.add(&[K("userIdentity".into()), K("type".into())]);
            f
        };
        let roots = ["userIdentity".to_string()];
        let kept = b"{\"Records\":[{\"userIdentity\":{\"type\":\"a\",\"other\":\"\xff\"}}]}";
        let unread = b"{\"Records\":[{\"unread\":\"\xff\",\"userIdentity\":{\"type\":\"a\"}}]}";
        let key = b"{\"Records\":[{\"\xff\":1,\"userIdentity\":{\"type\":\"a\"}}]}";
        for file in [&kept[..], &unread[..], &key[..]] {
            assert_eq!(before::read(file, &roots).is_ok(), read_reduced(file, &fields).is_ok(), "{}", String::from_utf8_lossy(file));
        }
        assert!(read_reduced(kept, &fields).is_err() && read_reduced(unread, &fields).is_ok() && read_reduced(key, &fields).is_err());
    }

    #[test]
    fn fields_keep_the_way_to_each_selector_and_its_value_whole() {
        let mut f = Fields::default();
        f.add(&[K("a".into()), K("b".into())]);
        f.add(&[K("a".into()), K("c".into()), I(2), K("d".into())]);
        f.add(&[K("e".into())]);
        f.add(&[K("e".into()), K("f".into())]);
        f.add(&[I(0)]);
        let a = f.child("a").unwrap();
        assert!(!f.whole && !a.whole && a.child("b").unwrap().whole && a.child("c").unwrap().whole);
        assert!(a.child("c").unwrap().children.is_empty());
        assert!(f.child("e").unwrap().whole && f.child("e").unwrap().children.is_empty());
        assert_eq!(f.children.len(), 2);
    }
}
