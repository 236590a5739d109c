//! Time parsing and formatting in the forms CloudTrail and the AWS CLI use.
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// The compact UTC form used in CloudTrail object keys, e.g. `20260301T051742Z`.
pub const KEY_FORMAT: &str = "%Y%m%dT%H%M%SZ";
/// The form the AWS CLI prints, e.g. `2026-03-01T05:17:42Z`.
pub const DISPLAY_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Parses a user-supplied time in the forms the AWS CLI (dateutil) takes for the same flags: RFC
/// 3339; a date as `2026-03-01`, `2026/03/01`, `20260301`, `Mar 1 2026`, `March 1, 2026` or
/// `1 Mar 2026`; then optionally `T` or a space and a time as `05:17[:42[.5]]` or `0517[42]`;
/// then optionally `Z`, ` UTC`, ` GMT` or an offset (`+01:00`, `+0100`). Times without a zone
/// are UTC, as the CLI takes them. Day-first or month-first numeric dates (`01/03/2026`) are
/// refused: they are ambiguous.
pub fn parse_user_time(s: &str) -> Result<DateTime<Utc>, String> {
    let t = parse_any_year(s)?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&t.year()) {
        return Err(format!("time '{}' is outside the years {MIN_YEAR} to {MAX_YEAR}", s.trim()));
    }
    Ok(t)
}

/// A time given on the command line: what [`parse_user_time`] takes, plus `now` and a time before
/// now as `-30m`, `-24h`, `-7d` or `-2w` (also `s`). Only for flags: evidence is never read
/// relative to the clock.
pub fn parse_cli_time(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(ago) = t.strip_prefix('-').filter(|a| a.len() >= 2 && a.is_char_boundary(a.len() - 1)) {
        let (count, unit) = ago.split_at(ago.len() - 1);
        let seconds_per = match unit {
            "s" => Some(1),
            "m" => Some(60),
            "h" => Some(3_600),
            "d" => Some(86_400),
            "w" => Some(604_800),
            _ => None,
        };
        if let (Some(per), Ok(count)) = (seconds_per, count.parse::<i64>()) {
            return count
                .checked_mul(per)
                .and_then(chrono::Duration::try_seconds)
                .and_then(|d| now.checked_sub_signed(d))
                .filter(|t| t.year() >= MIN_YEAR)
                .ok_or_else(|| format!("time '{t}' reaches back before {MIN_YEAR}"));
        }
    }
    parse_user_time(s)
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
    let (local, offset) = split_zone(s);
    local_time(local)
        .and_then(|t| t.checked_sub_signed(offset))
        .map(|t| Utc.from_utc_datetime(&t))
        .ok_or_else(|| format!("cannot parse time '{s}': use RFC 3339 (2026-03-01T05:00:00Z), the compact form 20260301T050000Z, or a date such as 2026-03-01 or Mar 1 2026 with an optional time"))
}

/// Splits a trailing zone off: `Z`, ` UTC`, ` GMT`, or a numeric offset after a time.
fn split_zone(s: &str) -> (&str, chrono::Duration) {
    let zero = chrono::Duration::zero();
    if let Some(rest) = s.strip_suffix(['Z', 'z']) {
        return (rest, zero);
    }
    for name in [" UTC", " GMT", " utc", " gmt"] {
        if let Some(rest) = s.strip_suffix(name) {
            return (rest, zero);
        }
    }
    // `+01:00` or `+0100`, only after a time, so that a date's own dashes are never read as one.
    for len in [6, 5] {
        let Some((rest, zone)) = s.len().checked_sub(len).and_then(|at| Some((s.get(..at)?, s.get(at..)?))) else { continue };
        // The sign first: it is one byte, so what follows it can be sliced.
        let sign = match zone.as_bytes()[0] {
            b'+' => 1,
            b'-' => -1,
            _ => continue,
        };
        let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
        let shaped = (len == 5 || zone.as_bytes()[3] == b':') && digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit());
        let after_time = rest.contains(':') || rest.contains('T');
        if shaped && after_time {
            let (h, m): (i64, i64) = (digits[..2].parse().unwrap_or(99), digits[2..].parse().unwrap_or(99));
            if h < 24 && m < 60 {
                return (rest, chrono::Duration::minutes(sign * (h * 60 + m)));
            }
        }
    }
    (s, zero)
}

/// A date, and optionally a time, with no zone.
fn local_time(s: &str) -> Option<NaiveDateTime> {
    const NUMERIC_DATES: [&str; 3] = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"];
    const NAMED_DATES: [&str; 6] = ["%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y"];
    const TIMES: [&str; 5] = ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M", "%H%M%S", "%H%M"];
    let dates = NUMERIC_DATES.iter().map(|d| (d, &["T", " "][..])).chain(NAMED_DATES.iter().map(|d| (d, &[" "][..])));
    for (date, separators) in dates {
        if let Ok(d) = NaiveDate::parse_from_str(s, date) {
            return d.and_hms_opt(0, 0, 0);
        }
        for sep in separators {
            for time in TIMES {
                if let Ok(t) = NaiveDateTime::parse_from_str(s, &format!("{date}{sep}{time}")) {
                    return Some(t);
                }
            }
        }
    }
    None
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

/// A span of time, both ends included: a requested range, or what verified digests cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_times_may_be_relative_to_now() {
        let now = parse_user_time("2026-03-08T12:00:00Z").unwrap();
        let at = |s| parse_cli_time(s, now).map(display);
        assert_eq!(at("now").unwrap(), "2026-03-08T12:00:00Z");
        assert_eq!(at("-24h").unwrap(), "2026-03-07T12:00:00Z");
        assert_eq!(at("-7d").unwrap(), "2026-03-01T12:00:00Z");
        assert_eq!(at("-2w").unwrap(), "2026-02-22T12:00:00Z");
        assert_eq!(at("-90m").unwrap(), "2026-03-08T10:30:00Z");
        assert_eq!(at(" -30s ").unwrap(), "2026-03-08T11:59:30Z");
        assert_eq!(at("2026-03-01").unwrap(), "2026-03-01T00:00:00Z");
        for bad in ["-24", "-h", "-24x", "-9999999999999999d", "-1é", "+24h", "-100000w"] {
            assert!(at(bad).is_err(), "{bad} accepted");
        }
        // Evidence is never relative to the clock.
        assert!(parse_user_time("now").is_err() && parse_user_time("-24h").is_err());
    }

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
        assert!(parse_user_time("01/03/2026").is_err(), "day or month first: ambiguous");
        assert!(parse_user_time("+262142-12-31T23:59:59Z").is_err());
        assert!(parse_user_time("0001-01-01T00:00:00Z").is_err());
        assert!(parse_user_time("2026-13-01T00:00:00Z").is_err());
    }

    /// The forms `aws cloudtrail validate-logs` takes (it parses with dateutil).
    #[test]
    fn user_times_accept_the_aws_clis_forms() {
        let at = |y, mo, d, h, mi, s| Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap();
        for (text, want) in [
            ("20240531T14:00:00Z", at(2024, 5, 31, 14, 0, 0)),
            ("2024-05-31 14:00", at(2024, 5, 31, 14, 0, 0)),
            ("2024-05-31T14:00", at(2024, 5, 31, 14, 0, 0)),
            ("2024-05-31 14:00:05.250", at(2024, 5, 31, 14, 0, 5) + chrono::Duration::milliseconds(250)),
            ("May 31 2024", at(2024, 5, 31, 0, 0, 0)),
            ("May 31, 2024 14:30", at(2024, 5, 31, 14, 30, 0)),
            ("31 May 2024", at(2024, 5, 31, 0, 0, 0)),
            ("march 1 2026", at(2026, 3, 1, 0, 0, 0)),
            ("2024/05/31", at(2024, 5, 31, 0, 0, 0)),
            ("2024/05/31 14:00:00", at(2024, 5, 31, 14, 0, 0)),
            ("20240531", at(2024, 5, 31, 0, 0, 0)),
            ("20240531T1400Z", at(2024, 5, 31, 14, 0, 0)),
            ("2024-05-31 14:00 UTC", at(2024, 5, 31, 14, 0, 0)),
            ("2024-05-31T16:00:00+0200", at(2024, 5, 31, 14, 0, 0)),
            ("2024-05-31 09:00-05:00", at(2024, 5, 31, 14, 0, 0)),
        ] {
            assert_eq!(parse_user_time(text), Ok(want), "{text}");
        }
        for bad in ["2024-05-31 25:00", "2024-05-31T14:00+2500", "May 32 2024", "2024-05", "14:00", "", "2024-05-31T14:€12", "2024-05-31T14€:00"] {
            assert!(parse_user_time(bad).is_err(), "{bad}");
        }
    }
}
