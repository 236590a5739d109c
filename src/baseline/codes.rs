//! The baseline's check codes, a stable public vocabulary (result IDs in JSON, exceptions in
//! baseline files, rule IDs in SARIF), frozen by a test: renaming one breaks users' exceptions.
//!
//! Trail checks are a fixed list. Alert rules come from the baseline (built-in or a file), so their
//! codes are the rule's ID with one of three fixed parts: `{rule}.filter`, `{rule}.alarm`,
//! `{rule}.notification`.
use super::model::TrailExpectation;

/// A check on the trail an expectation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrailCheck {
    MultiRegionLogging,
    ManagementEvents,
    LogFileValidation,
    CloudwatchLogs,
    KmsEncryption,
    GlobalServiceEvents,
    BucketPublicAccessBlock,
    BucketVersioning,
    BucketMfaDelete,
    BucketObjectLock,
}

impl TrailCheck {
    pub const ALL: [TrailCheck; 10] = [
        TrailCheck::MultiRegionLogging,
        TrailCheck::ManagementEvents,
        TrailCheck::LogFileValidation,
        TrailCheck::CloudwatchLogs,
        TrailCheck::KmsEncryption,
        TrailCheck::GlobalServiceEvents,
        TrailCheck::BucketPublicAccessBlock,
        TrailCheck::BucketVersioning,
        TrailCheck::BucketMfaDelete,
        TrailCheck::BucketObjectLock,
    ];

    pub fn id(self) -> &'static str {
        match self {
            TrailCheck::MultiRegionLogging => "trail.multi-region-logging",
            TrailCheck::ManagementEvents => "trail.management-events",
            TrailCheck::LogFileValidation => "trail.log-file-validation",
            TrailCheck::CloudwatchLogs => "trail.cloudwatch-logs",
            TrailCheck::KmsEncryption => "trail.kms-encryption",
            TrailCheck::GlobalServiceEvents => "trail.global-service-events",
            TrailCheck::BucketPublicAccessBlock => "trail.bucket-public-access-block",
            TrailCheck::BucketVersioning => "trail.bucket-versioning",
            TrailCheck::BucketMfaDelete => "trail.bucket-mfa-delete",
            TrailCheck::BucketObjectLock => "trail.bucket-object-lock",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            TrailCheck::MultiRegionLogging => "A multi-region trail is logging (CIS 3.1)",
            TrailCheck::ManagementEvents => "Management events, read and write, are logged (CIS 3.1)",
            TrailCheck::LogFileValidation => "Log file validation is on (CIS 3.2)",
            TrailCheck::CloudwatchLogs => "The trail delivers to CloudWatch Logs, recently (CIS 3.4)",
            TrailCheck::KmsEncryption => "Log files are encrypted with a KMS key (CIS 3.5)",
            TrailCheck::GlobalServiceEvents => "Global service events (IAM, STS, CloudFront) are included",
            TrailCheck::BucketPublicAccessBlock => "The trail's bucket blocks public access (CIS 3.3)",
            TrailCheck::BucketVersioning => "The trail's bucket is versioned",
            TrailCheck::BucketMfaDelete => "The trail's bucket requires MFA delete",
            TrailCheck::BucketObjectLock => "The trail's bucket has Object Lock",
        }
    }

    /// Why the check matters.
    pub fn description(self) -> &'static str {
        match self {
            TrailCheck::MultiRegionLogging => "Without a logging multi-region trail, activity in some regions (or all) is not recorded at all.",
            TrailCheck::ManagementEvents => "Excluded management events (read-only calls, or whole services) leave control-plane activity unrecorded.",
            TrailCheck::LogFileValidation => "Without digest files, deleted or altered log files cannot be proven, and trailproof validate-logs has nothing to verify.",
            TrailCheck::CloudwatchLogs => "Metric filters and alarms see only what the trail delivers to CloudWatch Logs; a stale delivery silences every alarm.",
            TrailCheck::KmsEncryption => "A customer-managed KMS key adds a second permission (kms:Decrypt) between a bucket reader and the logs.",
            TrailCheck::GlobalServiceEvents => "IAM, STS and CloudFront events are delivered only to trails that include global service events.",
            TrailCheck::BucketPublicAccessBlock => "A public log bucket exposes the account's activity history to anyone.",
            TrailCheck::BucketVersioning => "Versioning keeps overwritten or deleted log files recoverable.",
            TrailCheck::BucketMfaDelete => "MFA delete stops a stolen credential from deleting log file versions for good.",
            TrailCheck::BucketObjectLock => "Object Lock makes delivered log files immutable for the retention period, even for administrators.",
        }
    }

    pub fn remediation(self) -> &'static str {
        match self {
            TrailCheck::MultiRegionLogging => "Create a trail with --is-multi-region-trail and run `aws cloudtrail start-logging`.",
            TrailCheck::ManagementEvents => "Add an event selector for all management events (ReadWriteType All, or an advanced selector eventCategory = Management with no readOnly or eventSource restriction).",
            TrailCheck::LogFileValidation => "aws cloudtrail update-trail --name TRAIL --enable-log-file-validation",
            TrailCheck::CloudwatchLogs => "aws cloudtrail update-trail --name TRAIL --cloud-watch-logs-log-group-arn ARN --cloud-watch-logs-role-arn ROLE, and check the role's permissions.",
            TrailCheck::KmsEncryption => "aws cloudtrail update-trail --name TRAIL --kms-key-id KEY",
            TrailCheck::GlobalServiceEvents => "aws cloudtrail update-trail --name TRAIL --include-global-service-events",
            TrailCheck::BucketPublicAccessBlock => "aws s3api put-public-access-block --bucket BUCKET with all four settings true.",
            TrailCheck::BucketVersioning => "aws s3api put-bucket-versioning --bucket BUCKET --versioning-configuration Status=Enabled",
            TrailCheck::BucketMfaDelete => "As the root user: aws s3api put-bucket-versioning --bucket BUCKET --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa ...",
            TrailCheck::BucketObjectLock => "Object Lock is enabled at bucket creation (or by AWS support); deliver the trail to such a bucket.",
        }
    }

    /// Whether an expectation asks for this check. A trail that logs is the point of every
    /// expectation, so that check is always wanted.
    pub fn wanted_by(self, expect: &TrailExpectation) -> bool {
        match self {
            TrailCheck::MultiRegionLogging => true,
            TrailCheck::ManagementEvents => expect.management_events,
            TrailCheck::LogFileValidation => expect.log_file_validation,
            TrailCheck::CloudwatchLogs => expect.cloudwatch_logs,
            TrailCheck::KmsEncryption => expect.kms_encryption,
            TrailCheck::GlobalServiceEvents => expect.global_service_events,
            TrailCheck::BucketPublicAccessBlock => expect.bucket_public_access_block,
            TrailCheck::BucketVersioning => expect.bucket_versioning,
            TrailCheck::BucketMfaDelete => expect.bucket_mfa_delete,
            TrailCheck::BucketObjectLock => expect.bucket_object_lock,
        }
    }
}

/// A link of an alert rule's path: filter → alarm → notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertPart {
    Filter,
    Alarm,
    Notification,
}

impl AlertPart {
    pub const ALL: [AlertPart; 3] = [AlertPart::Filter, AlertPart::Alarm, AlertPart::Notification];

    /// The suffix of the rule's ID.
    pub fn suffix(self) -> &'static str {
        match self {
            AlertPart::Filter => "filter",
            AlertPart::Alarm => "alarm",
            AlertPart::Notification => "notification",
        }
    }

    /// The suffix of the rule's title.
    pub fn title(self) -> &'static str {
        match self {
            AlertPart::Filter => "metric filter",
            AlertPart::Alarm => "alarm",
            AlertPart::Notification => "notification",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            AlertPart::Filter => "A metric filter on the trail's log group matches what the rule's reference pattern matches, judged over its labelled events.",
            AlertPart::Alarm => "An alarm on the filter's metric (same namespace and name) fires when the rule expects, with its actions enabled.",
            AlertPart::Notification => "The alarm notifies an SNS topic with at least one confirmed subscription: someone is paged.",
        }
    }
}

/// What a baseline result is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Code {
    Trail(TrailCheck),
    Alert { rule: String, part: AlertPart },
}

/// A code is written as its ID.
impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.id())
    }
}

/// In the JSON Schema: one of the trail checks' IDs, or a rule's ID with one of the alert parts
/// (rule IDs come from the baseline, so only their suffix is fixed).
impl schemars::JsonSchema for Code {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CheckId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let trail: Vec<&str> = TrailCheck::ALL.iter().map(|c| c.id()).collect();
        let parts: Vec<&str> = AlertPart::ALL.iter().map(|p| p.suffix()).collect();
        schemars::json_schema!({
            "description": "The check's stable ID (README, \"Check IDs\")",
            "anyOf": [
                { "type": "string", "enum": trail },
                { "type": "string", "pattern": format!("^[\\s\\S]*\\.({})$", parts.join("|")) }
            ]
        })
    }
}

impl Code {
    pub fn id(&self) -> String {
        match self {
            Code::Trail(c) => c.id().to_string(),
            Code::Alert { rule, part } => format!("{rule}.{}", part.suffix()),
        }
    }

    pub fn description(&self) -> &'static str {
        match self {
            Code::Trail(c) => c.description(),
            Code::Alert { part, .. } => part.description(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vocabulary is public: exceptions in users' baseline files name these IDs.
    #[test]
    fn check_codes_are_frozen() {
        let ids: Vec<&str> = TrailCheck::ALL.iter().map(|c| c.id()).collect();
        assert_eq!(
            ids,
            [
                "trail.multi-region-logging",
                "trail.management-events",
                "trail.log-file-validation",
                "trail.cloudwatch-logs",
                "trail.kms-encryption",
                "trail.global-service-events",
                "trail.bucket-public-access-block",
                "trail.bucket-versioning",
                "trail.bucket-mfa-delete",
                "trail.bucket-object-lock",
            ]
        );
        let parts: Vec<String> = AlertPart::ALL.iter().map(|&part| Code::Alert { rule: "cis-4.1".into(), part }.id()).collect();
        assert_eq!(parts, ["cis-4.1.filter", "cis-4.1.alarm", "cis-4.1.notification"]);
        for c in TrailCheck::ALL {
            assert!(!c.title().is_empty() && !c.description().is_empty() && !c.remediation().is_empty());
        }
        for p in AlertPart::ALL {
            assert!(!p.title().is_empty() && !p.description().is_empty());
        }
    }
}
