//! Time parsing and formatting in the forms CloudTrail and the AWS CLI use.
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// The compact UTC form used in CloudTrail object keys, e.g. `20260301T051742Z`.
pub const KEY_FORMAT: &str = "%Y%m%dT%H%M%SZ";
/// The form the AWS CLI prints, e.g. `2026-03-01T05:17:42Z`.
pub const DISPLAY_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Parses a user-supplied time: RFC 3339, `YYYY-MM-DDTHH:MM:SS[Z]`, `YYYY-MM-DD HH:MM:SS`,
/// `YYYY-MM-DD`, or the CLI's compact `YYYYMMDDTHHMMSSZ` / `YYYYMMDDTHHMMZ`. Times without an
/// offset are UTC, as in the AWS CLI.
pub fn parse_user_time(s: &str) -> Result<DateTime<Utc>, String> {
    let t = parse_any_year(s)?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&t.year()) {
        return Err(format!("time '{}' is outside the years {MIN_YEAR} to {MAX_YEAR}", s.trim()));
    }
    Ok(t)
}

/// Times outside these years are refused where they are parsed, so that arithmetic on them (a
/// range widened by hours, a period's edges) can never overflow.
pub const MIN_YEAR: i32 = 1970;
pub const MAX_YEAR: i32 = 9999;

fn parse_any_year(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive_forms = [
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%MZ",
        "%Y-%m-%dT%H:%M",
        "%Y%m%dT%H%M%SZ",
        "%Y%m%dT%H%MZ",
    ];
    for f in naive_forms {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists")));
    }
    Err(format!(
        "cannot parse time '{s}': use RFC 3339 (2026-03-01T05:00:00Z) or the compact form 20260301T050000Z"
    ))
}

/// Parses a CloudTrail timestamp as written in digests (`2026-03-01T05:17:42Z`).
pub fn parse_cloudtrail_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// Parses the `YYYYMMDDTHHMMSSZ` stamp embedded in a digest key.
pub fn parse_key_time(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, KEY_FORMAT).ok().map(|t| Utc.from_utc_datetime(&t))
}

pub fn display(t: DateTime<Utc>) -> String {
    t.format(DISPLAY_FORMAT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_times_accept_rfc3339_and_compact_forms() {
        let want = Utc.with_ymd_and_hms(2026, 3, 1, 5, 17, 42).unwrap();
        for s in [
            "2026-03-01T05:17:42Z",
            "2026-03-01T06:17:42+01:00",
            "2026-03-01T05:17:42",
            "2026-03-01 05:17:42",
            "20260301T051742Z",
        ] {
            assert_eq!(parse_user_time(s).unwrap(), want, "{s}");
        }
        assert_eq!(
            parse_user_time("2026-03-01").unwrap(),
            Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
        );
        assert!(parse_user_time("yesterday").is_err());
        assert!(parse_user_time("+262142-12-31T23:59:59Z").is_err());
        assert!(parse_user_time("0001-01-01T00:00:00Z").is_err());
        assert!(parse_user_time("2026-13-01T00:00:00Z").is_err());
    }
}

/// A span of time, both ends included: a requested range, or what verified digests cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}
