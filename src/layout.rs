//! The one place that names and parses CloudTrail's keys: where a trail's digests and log files
//! lie in its bucket (plain, backfill, organization layouts), what their names claim, and trail
//! ARNs. A name is a claim, never evidence: nothing here is trusted until a digest vouches for it.
use chrono::{DateTime, Utc};

use crate::time::{parse_key_time, KEY_FORMAT};

/// The parts of a trail ARN: arn:{partition}:cloudtrail:{region}:{account}:trail/{name}.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailArn {
    pub region: String,
    pub account_id: String,
    pub name: String,
}

pub fn parse_trail_arn(arn: &str) -> Result<TrailArn, String> {
    let bad = || format!("invalid trail ARN '{arn}': expected arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME");
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, partition, service, region, account, resource] = parts[..] else { return Err(bad()) };
    let name = resource.strip_prefix("trail/").ok_or_else(bad)?;
    let ok = scheme == "arn"
        && !partition.is_empty()
        && service == "cloudtrail"
        && !region.is_empty()
        && is_account_id(account)
        && !name.is_empty()
        && !name.contains('/');
    if !ok {
        return Err(bad());
    }
    Ok(TrailArn { region: region.into(), account_id: account.into(), name: name.into() })
}

/// An AWS account ID: twelve digits (in an ARN, and as an organization's account folder).
pub fn is_account_id(name: &str) -> bool {
    name.len() == 12 && name.bytes().all(|b| b.is_ascii_digit())
}

/// `us-east-1`, `ap-southeast-5`, `us-gov-west-1`, `cn-north-1`, `eu-isoe-west-1`.
pub fn is_region_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && name.len() <= 32
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

/// Which digests to validate: one trail, one account, one source region, and where they lie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub trail_arn: String,
    pub trail_name: String,
    /// The region in the trail's ARN; part of every digest's file name.
    pub home_region: String,
    /// The region whose events the digests cover (`CloudTrail-Digest/{region}/`).
    pub source_region: String,
    pub account_id: String,
    /// Set for organization trails, whose keys lie under `AWSLogs/{organization}/{account}/`.
    pub organization_id: Option<String>,
    pub bucket: String,
    pub prefix: Option<String>,
}

impl Target {
    /// `{prefix/}AWSLogs/{organization/}`: where the account folders lie.
    pub fn logs_root(&self) -> String {
        let prefix = self.prefix.as_deref().map(|p| format!("{}/", p.trim_end_matches('/'))).unwrap_or_default();
        let org = self.organization_id.as_deref().map(|o| format!("{o}/")).unwrap_or_default();
        format!("{prefix}AWSLogs/{org}")
    }

    /// `{prefix/}AWSLogs/{organization/}{account}/`
    pub fn account_root(&self) -> String {
        format!("{}{}/", self.logs_root(), self.account_id)
    }

    /// `…/CloudTrail-Digest/{region}/`
    pub fn digest_dir(&self) -> String {
        format!("{}CloudTrail-Digest/{}/", self.account_root(), self.source_region)
    }

    /// `…/CloudTrail/{region}/`
    pub fn log_dir(&self) -> String {
        format!("{}CloudTrail/{}/", self.account_root(), self.source_region)
    }

    /// `{account}_CloudTrail-Digest_{region}_{trail}_{home region}_`
    pub fn file_stem(&self) -> String {
        format!("{}_CloudTrail-Digest_{}_{}_{}_", self.account_id, self.source_region, self.trail_name, self.home_region)
    }

    /// The key a digest ending at `t` would have.
    pub fn digest_key(&self, t: DateTime<Utc>) -> String {
        format!("{}{}{}{}.json.gz", self.digest_dir(), t.format("%Y/%m/%d/"), self.file_stem(), t.format(KEY_FORMAT))
    }

    /// Whether `key` is one of this trail's digests: its time stamp, and whether it is a backfill.
    pub fn parse_digest_key(&self, key: &str) -> Option<(DateTime<Utc>, bool)> {
        let name = self.parse_digest_name(key)?;
        name.ours.then_some((name.stamp, name.backfill))
    }

    /// Reads a key in this account and region's digest folder, of any trail:
    /// `…/YYYY/MM/DD/{account}_CloudTrail-Digest_{region}_{trail}_{home region}_{stamp}[_backfill].json.gz`.
    pub fn parse_digest_name(&self, key: &str) -> Option<DigestName> {
        let rest = key.strip_prefix(&self.digest_dir())?;
        let (date_dirs, name) = rest.split_at_checked(11)?; // "YYYY/MM/DD/"
        let folder = chrono::NaiveDate::parse_from_str(date_dirs.strip_suffix('/')?, "%Y/%m/%d").ok()?;
        if name.contains('/') {
            return None;
        }
        let stem = name.strip_suffix(".json.gz")?;
        let (stem, backfill) = match stem.strip_suffix("_backfill") {
            Some(s) => (s, true),
            None => (stem, false),
        };
        let (trail_part, stamp) = stem.split_at_checked(stem.len().checked_sub(16)?)?;
        let account_region = format!("{}_CloudTrail-Digest_{}_", self.account_id, self.source_region);
        let trail_and_home = trail_part.strip_prefix(&account_region)?;
        if !trail_and_home.ends_with('_') || trail_and_home.len() < 3 {
            return None;
        }
        let stamp = parse_key_time(stamp)?;
        Some(DigestName { folder, stamp, backfill, ours: trail_part == self.file_stem() })
    }

    /// The key a backfill digest ending at `t` would have.
    pub fn backfill_digest_key(&self, t: DateTime<Utc>) -> String {
        self.digest_key(t).replace(".json.gz", "_backfill.json.gz")
    }

    /// The key of a log file delivered at `delivered` (to the minute), with its unique suffix.
    pub fn log_key(&self, delivered: DateTime<Utc>, unique: &str) -> String {
        let (account, region) = (&self.account_id, &self.source_region);
        format!("{}{}{account}_CloudTrail_{region}_{}_{unique}.json.gz", self.log_dir(), delivered.format("%Y/%m/%d/"), delivered.format("%Y%m%dT%H%MZ"))
    }

    /// The key a digest ending in the hour of `end` would have, with the minutes unknown: how a
    /// digest that is gone without a trace is named.
    pub fn missing_digest_pattern(&self, end: DateTime<Utc>) -> String {
        format!("{}{}{}{}*.json.gz", self.digest_dir(), end.format("%Y/%m/%d/"), self.file_stem(), end.format("%Y%m%dT%H"))
    }
}

/// What a digest key's name claims (unauthenticated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestName {
    /// The `YYYY/MM/DD` folder it lies in.
    pub folder: chrono::NaiveDate,
    /// The end time stamped in the name.
    pub stamp: DateTime<Utc>,
    pub backfill: bool,
    /// This trail's (rather than another trail's delivering to the same folder).
    pub ours: bool,
}

/// Extracts the `YYYYMMDDTHHMMSSZ` stamp from a digest key (also `…_backfill.json.gz`).
pub fn digest_key_time(key: &str) -> Option<DateTime<Utc>> {
    let stem = key.strip_suffix(".json.gz")?;
    let stem = stem.strip_suffix("_backfill").unwrap_or(stem);
    let stamp = stem.get(stem.len().checked_sub(16)?..)?;
    parse_key_time(stamp)
}

/// Reads the delivery minute stamped in a log file's name:
/// `{account}_CloudTrail_{region}_{YYYYMMDDTHHMMZ}_{unique}.json.gz`.
pub fn log_key_time(key: &str, region: &str) -> Option<DateTime<Utc>> {
    let name = key.rsplit('/').next()?;
    let marker = format!("_CloudTrail_{region}_");
    let at = name.find(&marker)? + marker.len();
    let stamp = name.get(at..at + 14)?;
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%MZ").ok().map(|t| t.and_utc())
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_region_shaped_folder_names_are_regions() {
        for good in ["us-east-1", "ap-southeast-5", "us-gov-west-1", "cn-north-1", "eu-isoe-west-1", "il-central-1"] {
            assert!(is_region_name(good), "{good}");
        }
        for bad in ["", "us-east", "us-east-1x", "US-EAST-1", "..", "us--1", "evil", "us-east-1/..", "a-b-300", &"a-".repeat(20)] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }

    #[test]
    fn trail_arns_are_checked() {
        let a = parse_trail_arn("arn:aws:cloudtrail:us-east-1:111122223333:trail/main").unwrap();
        assert_eq!(a, TrailArn { region: "us-east-1".into(), account_id: "111122223333".into(), name: "main".into() });
        assert!(parse_trail_arn("arn:aws-cn:cloudtrail:cn-north-1:111122223333:trail/x").is_ok());
        for bad in [
            "",
            "arn:aws:cloudtrail:us-east-1:111122223333:main",
            "arn:aws:s3:us-east-1:111122223333:trail/main",
            "arn:aws:cloudtrail:us-east-1:1111:trail/main",
            "arn:aws:cloudtrail::111122223333:trail/main",
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/",
        ] {
            assert!(parse_trail_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_time_reads_the_stamp_from_plain_and_backfill_keys() {
        let k = "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/03/01/1_CloudTrail-Digest_us-east-1_t_us-east-1_20260301T051742Z.json.gz";
        assert_eq!(digest_key_time(k), Some(crate::time::parse_user_time("2026-03-01T05:17:42Z").unwrap()));
        assert_eq!(digest_key_time(&k.replace(".json.gz", "_backfill.json.gz")), digest_key_time(k));
        assert_eq!(digest_key_time("short.json.gz"), None);
        assert_eq!(digest_key_time("x"), None);
    }
}
