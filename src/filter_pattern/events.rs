//! Reading log events from a file's bytes, for testing patterns against real data.
//!
//! Accepted shapes, after an optional gzip layer (detected by the magic bytes `1f 8b`):
//!
//! * a CloudTrail log file `{"Records": [...]}`: one event per record;
//! * a JSON array: one event per element (a string element is a plain-text event, so an array of
//!   raw log lines works with term patterns);
//! * a single JSON object: one event;
//! * otherwise JSON lines: one event per non-blank line; a line that is not JSON becomes a
//!   plain-text event. (A pretty-printed stream of several objects is not recognised: it is read
//!   line by line.)
//!
//! A leading UTF-8 byte-order mark is ignored. Events built from parsed JSON carry its compact
//! serialization as their text; events from lines keep the line as written.

use crate::integrity::gzip::{self, GzipError, Members};
use serde_json::Value;

use super::LogEvent;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("the gzip input inflates to more than {limit} bytes; refusing to inflate further")]
    TooLarge { limit: u64 },
    #[error("the input starts like gzip but could not be inflated (corrupt or truncated?): {0}")]
    Gzip(#[source] GzipError),
    #[error("the input is not valid UTF-8: invalid byte at offset {offset}{where_}")]
    InvalidUtf8 {
        /// Offset into the (inflated) text.
        offset: usize,
        /// Empty for plain input, " of the inflated data" for gzip input.
        where_: &'static str,
    },
}

/// Reads events from `bytes`. Gzip input is inflated with a hard cap of `max_inflated` bytes of
/// output: going over it is [`EventsError::TooLarge`], so a decompression bomb costs at most
/// that much memory. Plain input is already in memory and is not capped.
pub fn read_events(bytes: &[u8], max_inflated: u64) -> Result<Vec<LogEvent>, EventsError> {
    let gzipped = bytes.starts_with(&GZIP_MAGIC);
    let inflated;
    let data: &[u8] = if gzipped {
        inflated = inflate(bytes, max_inflated)?;
        &inflated
    } else {
        bytes
    };
    let text = std::str::from_utf8(data).map_err(|e| EventsError::InvalidUtf8 {
        offset: e.valid_up_to(),
        where_: if gzipped { " of the inflated data" } else { "" },
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(mut object)) => match object.remove("Records") {
            Some(Value::Array(records)) => {
                Ok(records.into_iter().map(LogEvent::from_json).collect())
            }
            // An object whose `Records` is not a list is not a CloudTrail file: keep it whole.
            Some(other) => {
                object.insert("Records".to_owned(), other);
                Ok(vec![LogEvent::from_json(Value::Object(object))])
            }
            None => Ok(vec![LogEvent::from_json(Value::Object(object))]),
        },
        Ok(Value::Array(items)) => Ok(items
            .into_iter()
            .map(|item| match item {
                Value::String(line) => LogEvent::new(line),
                other => LogEvent::from_json(other),
            })
            .collect()),
        // A bare scalar document, or not one JSON document at all: read it as lines.
        _ => Ok(text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(LogEvent::new)
            .collect()),
    }
}

fn inflate(bytes: &[u8], max_inflated: u64) -> Result<Vec<u8>, EventsError> {
    gzip::gunzip(bytes, max_inflated, Members::Any).map_err(|e| match e {
        GzipError::TooLarge { limit } => EventsError::TooLarge { limit },
        other => EventsError::Gzip(other),
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;
    /// Test data is gzipped as the simulator writes it.
    use crate::sim::gzip;

    fn texts(events: &[LogEvent]) -> Vec<&str> {
        events.iter().map(LogEvent::text).collect()
    }

    const CLOUDTRAIL: &str =
        r#"{"Records":[{"eventName":"ConsoleLogin","n":1},{"eventName":"StopLogging"}]}"#;

    #[test]
    fn shapes_plain_and_gzip() {
        let cases: Vec<(&str, Vec<&str>)> = vec![
            (
                CLOUDTRAIL,
                vec![
                    r#"{"eventName":"ConsoleLogin","n":1}"#,
                    r#"{"eventName":"StopLogging"}"#,
                ],
            ),
            (
                "[{\"a\": 1}, \"raw ERROR line\", 5]",
                vec![r#"{"a":1}"#, "raw ERROR line", "5"],
            ),
            ("{ \"a\" : [1, 2] }", vec![r#"{"a":[1,2]}"#]),
            (
                "{\"a\":1}\n\n  \nnot json ERROR\r\n{\"b\": 2}\n",
                vec!["{\"a\":1}", "not json ERROR", "{\"b\": 2}"],
            ),
            ("just text", vec!["just text"]),
            ("42", vec!["42"]),
            ("", vec![]),
            ("\u{feff}{\"a\":1}", vec![r#"{"a":1}"#]),
            ("{\"Records\": 5}", vec![r#"{"Records":5}"#]),
        ];
        for (input, want) in cases {
            let plain = read_events(input.as_bytes(), 1 << 20).unwrap();
            assert_eq!(texts(&plain), want, "plain {input:?}");
            let zipped = read_events(&gzip(input.as_bytes()), 1 << 20).unwrap();
            assert_eq!(texts(&zipped), want, "gzip {input:?}");
        }
    }

    #[test]
    fn events_carry_parsed_json() {
        let events = read_events(CLOUDTRAIL.as_bytes(), 1 << 20).unwrap();
        assert_eq!(events[0].json().unwrap()["eventName"], "ConsoleLogin");
        let lines = read_events(b"{\"a\":1}\nplain", 1 << 20).unwrap();
        assert!(lines[0].json().is_some());
        assert!(lines[1].json().is_none());
    }

    #[test]
    fn gzip_cap() {
        let data = vec![b'x'; 10_000];
        let zipped = gzip(&data);
        assert_eq!(read_events(&zipped, 10_000).unwrap().len(), 1);
        let err = read_events(&zipped, 9_999).unwrap_err();
        assert!(
            matches!(err, EventsError::TooLarge { limit: 9_999 }),
            "{err}"
        );
        assert!(err.to_string().contains("more than 9999 bytes"), "{err}");
        // A bomb: 64 MiB of zeros stops at the cap without inflating it all.
        let mut enc = GzEncoder::new(Vec::new(), Compression::best());
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..64 {
            enc.write_all(&chunk).unwrap();
        }
        let bomb = enc.finish().unwrap();
        assert!(matches!(
            read_events(&bomb, 1 << 20),
            Err(EventsError::TooLarge { .. })
        ));
    }

    #[test]
    fn corrupt_gzip_and_bad_utf8() {
        let mut zipped = gzip(CLOUDTRAIL.as_bytes());
        zipped.truncate(zipped.len() / 2);
        let err = read_events(&zipped, 1 << 20).unwrap_err();
        assert!(matches!(err, EventsError::Gzip(_)), "{err}");

        let err = read_events(b"ok \xff\xfe bad", 1 << 20).unwrap_err();
        assert!(
            matches!(err, EventsError::InvalidUtf8 { offset: 3, .. }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "the input is not valid UTF-8: invalid byte at offset 3"
        );
        let err = read_events(&gzip(b"ab\xc3"), 1 << 20).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the input is not valid UTF-8: invalid byte at offset 2 of the inflated data"
        );
    }
}
