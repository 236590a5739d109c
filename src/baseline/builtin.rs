//! Built-in baselines: `cis` (CIS AWS Foundations Benchmark v1.4–v3.0 monitoring, §4.1–4.15) and
//! `essentials` (alerts practitioners commonly add). Each rule carries its reference pattern and
//! a labelled corpus of CloudTrail events; the corpus decides, not the pattern text.
use serde_json::{json, Map, Value};

use super::model::{AlarmExpectation, AlertRule, Baseline, TrailExpectation};

pub const NAMES: &[&str] = &["cis", "essentials"];

/// Parameters of the built-in baselines (`--param key=value`).
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Console logins from anywhere else alert (essentials). `*` wildcards allowed.
    pub allowed_ips: Vec<String>,
    /// Resource creation outside this region alerts (essentials).
    pub home_region: String,
    /// Events per period at which an alarm must fire.
    pub threshold: f64,
    /// Failed console logins per period at which the alarm must fire (essentials).
    pub failed_login_threshold: f64,
    /// Longest alarm period allowed, in seconds.
    pub period: i32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            // Documentation addresses (RFC 5737): a placeholder the user is meant to replace.
            allowed_ips: vec!["203.0.113.10".into()],
            home_region: "us-east-1".into(),
            threshold: 1.0,
            failed_login_threshold: 3.0,
            period: 300,
        }
    }
}

impl Params {
    /// Applies `key=value`; lists are comma-separated.
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (key, value) = assignment.split_once('=').ok_or_else(|| format!("--param {assignment}: expected key=value"))?;
        let number = |v: &str| v.parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0).ok_or_else(|| format!("--param {key}: {v:?} is not a non-negative number"));
        match key {
            "allowed_ips" => self.allowed_ips = value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
            "home_region" if !value.is_empty() => self.home_region = value.to_string(),
            "threshold" => self.threshold = number(value)?,
            "failed_login_threshold" => self.failed_login_threshold = number(value)?,
            "period" => self.period = value.parse().ok().filter(|p| *p >= 10).ok_or_else(|| format!("--param period: {value:?} is not a period of at least 10 seconds"))?,
            _ => return Err(format!("--param {key}: unknown parameter (allowed_ips, home_region, threshold, failed_login_threshold, period)")),
        }
        Ok(())
    }
}

pub fn by_name(name: &str, params: &Params) -> Option<Baseline> {
    match name {
        "cis" => Some(cis(params)),
        "essentials" => Some(essentials(params)),
        _ => None,
    }
}

/// A realistic CloudTrail event: the envelope every record has, then `fields` (dotted paths)
/// on top. Real envelopes matter: a deployed filter with a noise cut such as
/// `$.sourceIPAddress != "..."` needs the field to be there.
fn event(fields: &[(&str, Value)]) -> String {
    let mut e = json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"},
        "eventTime": "2026-03-01T12:00:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "GetUser",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": null,
        "responseElements": null,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "111122223333",
        "eventCategory": "Management"
    });
    for (path, value) in fields {
        set_path(&mut e, path, value.clone());
    }
    e.to_string()
}

fn set_path(root: &mut Value, path: &str, value: Value) {
    let mut node = root;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else { return };
        if parts.peek().is_none() {
            if value.is_null() {
                map.remove(part);
            } else {
                map.insert(part.to_string(), value);
            }
            return;
        }
        node = map.entry(part.to_string()).or_insert(Value::Null);
    }
}

fn call(source: &str, name: &str) -> String {
    event(&[("eventSource", json!(source)), ("eventName", json!(name))])
}

fn alarm(params: &Params, threshold: f64) -> AlarmExpectation {
    AlarmExpectation { threshold, period: params.period, ..AlarmExpectation::default() }
}

/// A rule that fires on a set of API calls, optionally only from one event source.
/// `near_misses` are calls of the same service that must not alert.
fn calls_rule(params: &Params, id: &str, title: &str, source: &str, require_source: bool, names: &[&str], near_misses: &[(&str, &str)]) -> AlertRule {
    let names_clause = names.iter().map(|n| format!("($.eventName = {n})")).collect::<Vec<_>>().join(" || ");
    let reference = if require_source { format!("{{ ($.eventSource = {source}) && ({names_clause}) }}") } else { format!("{{ {names_clause} }}") };
    AlertRule {
        id: id.into(),
        title: title.into(),
        reference,
        must_match: names.iter().map(|n| call(source, n)).collect(),
        may_exclude: vec![],
        must_not_match: near_misses.iter().map(|(s, n)| call(s, n)).collect(),
        alarm: alarm(params, params.threshold),
        remediation: String::new(),
    }
}

pub fn cis(params: &Params) -> Baseline {
    let p = params;
    let login = |fields: &[(&str, Value)]| {
        let mut all = vec![
            ("eventSource", json!("signin.amazonaws.com")),
            ("eventName", json!("ConsoleLogin")),
            ("additionalEventData", json!({"LoginTo": "https://console.aws.amazon.com/", "MobileVersion": "No", "MFAUsed": "No"})),
            ("responseElements", json!({"ConsoleLogin": "Success"})),
        ];
        all.extend(fields.iter().cloned());
        event(&all)
    };
    let denied = |code: &str, name: &str, ip: &str| event(&[("eventSource", json!("s3.amazonaws.com")), ("eventName", json!(name)), ("errorCode", json!(code)), ("sourceIPAddress", json!(ip))]);
    let rules = vec![
        AlertRule {
            id: "cis-4.1".into(),
            title: "CIS 4.1 Unauthorized API calls".into(),
            reference: r#"{($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket")}"#.into(),
            must_match: vec![
                event(&[("eventSource", json!("ec2.amazonaws.com")), ("eventName", json!("RunInstances")), ("errorCode", json!("Client.UnauthorizedOperation"))]),
                denied("AccessDenied", "PutBucketPolicy", "198.51.100.7"),
                event(&[("eventSource", json!("kms.amazonaws.com")), ("eventName", json!("Decrypt")), ("errorCode", json!("AccessDeniedException"))]),
            ],
            // v3.0 cuts AccessDenied from log delivery and HeadBucket (v1.2 does not): such events
            // are left out of the corpus, so both versions pass.
            may_exclude: vec![],
            must_not_match: vec![call("s3.amazonaws.com", "PutBucketPolicy"), denied("NoSuchBucket", "GetBucketAcl", "198.51.100.7"), denied("ThrottlingException", "ListBuckets", "198.51.100.7")],
            alarm: alarm(p, p.threshold),
            remediation: String::new(),
        },
        AlertRule {
            id: "cis-4.2".into(),
            title: "CIS 4.2 Console sign-in without MFA".into(),
            reference: r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#.into(),
            must_match: vec![login(&[])],
            // v3.0's tuned variant adds IAMUser and Success clauses: those cuts are allowed.
            may_exclude: vec![
                login(&[("responseElements", json!({"ConsoleLogin": "Failure"})), ("errorMessage", json!("Failed authentication"))]),
                login(&[("userIdentity.type", json!("AssumedRole")), ("userIdentity.arn", json!("arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin/alice"))]),
            ],
            must_not_match: vec![login(&[("additionalEventData.MFAUsed", json!("Yes"))]), call("iam.amazonaws.com", "GetUser")],
            alarm: alarm(p, p.threshold),
            remediation: String::new(),
        },
        AlertRule {
            id: "cis-4.3".into(),
            title: "CIS 4.3 Usage of the root account".into(),
            reference: r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#.into(),
            must_match: vec![
                login(&[("userIdentity", json!({"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"}))]),
                event(&[("userIdentity", json!({"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"})), ("eventName", json!("CreateAccessKey"))]),
            ],
            may_exclude: vec![],
            must_not_match: vec![
                event(&[("userIdentity", json!({"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333", "invokedBy": "support.amazonaws.com"})), ("eventName", json!("DescribeTrustedAdvisorChecks"))]),
                event(&[("userIdentity", json!({"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"})), ("eventType", json!("AwsServiceEvent")), ("eventName", json!("SharedSnapshotCopyInitiated"))]),
                call("iam.amazonaws.com", "CreateAccessKey"),
            ],
            alarm: alarm(p, p.threshold),
            remediation: String::new(),
        },
        calls_rule(
            p,
            "cis-4.4",
            "CIS 4.4 IAM policy changes",
            "iam.amazonaws.com",
            false,
            &[
                "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion",
                "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy",
            ],
            &[("iam.amazonaws.com", "GetPolicy"), ("iam.amazonaws.com", "ListPolicies"), ("iam.amazonaws.com", "CreateUser")],
        ),
        calls_rule(
            p,
            "cis-4.5",
            "CIS 4.5 CloudTrail configuration changes",
            "cloudtrail.amazonaws.com",
            false,
            &["CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"],
            &[("cloudtrail.amazonaws.com", "DescribeTrails"), ("cloudtrail.amazonaws.com", "GetTrailStatus"), ("cloudtrail.amazonaws.com", "LookupEvents")],
        ),
        AlertRule {
            id: "cis-4.6".into(),
            title: "CIS 4.6 Console authentication failures".into(),
            reference: r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#.into(),
            must_match: vec![login(&[("responseElements", json!({"ConsoleLogin": "Failure"})), ("errorMessage", json!("Failed authentication"))])],
            may_exclude: vec![],
            must_not_match: vec![login(&[]), event(&[("eventSource", json!("signin.amazonaws.com")), ("eventName", json!("CheckMfa")), ("errorMessage", json!("Failed authentication"))])],
            alarm: alarm(p, p.threshold),
            remediation: String::new(),
        },
        calls_rule(
            p,
            "cis-4.7",
            "CIS 4.7 Disabling or scheduled deletion of customer-managed keys",
            "kms.amazonaws.com",
            true,
            &["DisableKey", "ScheduleKeyDeletion"],
            &[("kms.amazonaws.com", "Encrypt"), ("kms.amazonaws.com", "EnableKey"), ("payment-cryptography.amazonaws.com", "DisableKey")],
        ),
        calls_rule(
            p,
            "cis-4.8",
            "CIS 4.8 S3 bucket policy changes",
            "s3.amazonaws.com",
            true,
            &[
                "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle",
                "DeleteBucketReplication",
            ],
            &[("s3.amazonaws.com", "GetBucketPolicy"), ("s3.amazonaws.com", "PutObject"), ("s3-outposts.amazonaws.com", "PutBucketPolicy")],
        ),
        calls_rule(
            p,
            "cis-4.9",
            "CIS 4.9 AWS Config configuration changes",
            "config.amazonaws.com",
            true,
            &["StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder"],
            &[("config.amazonaws.com", "DescribeConfigurationRecorders"), ("config.amazonaws.com", "StartConfigurationRecorder")],
        ),
        calls_rule(
            p,
            "cis-4.10",
            "CIS 4.10 Security group changes",
            "ec2.amazonaws.com",
            false,
            &["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup"],
            &[("ec2.amazonaws.com", "DescribeSecurityGroups"), ("ec2.amazonaws.com", "CreateTags")],
        ),
        calls_rule(
            p,
            "cis-4.11",
            "CIS 4.11 Network ACL changes",
            "ec2.amazonaws.com",
            false,
            &["CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation"],
            &[("ec2.amazonaws.com", "DescribeNetworkAcls")],
        ),
        calls_rule(
            p,
            "cis-4.12",
            "CIS 4.12 Network gateway changes",
            "ec2.amazonaws.com",
            false,
            &["CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway", "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway"],
            &[("ec2.amazonaws.com", "DescribeInternetGateways"), ("ec2.amazonaws.com", "DescribeCustomerGateways")],
        ),
        calls_rule(
            p,
            "cis-4.13",
            "CIS 4.13 Route table changes",
            "ec2.amazonaws.com",
            true,
            &["CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable"],
            &[("ec2.amazonaws.com", "DescribeRouteTables"), ("apigateway.amazonaws.com", "CreateRoute")],
        ),
        calls_rule(
            p,
            "cis-4.14",
            "CIS 4.14 VPC changes",
            "ec2.amazonaws.com",
            false,
            &[
                "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection", "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection",
                "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink", "EnableVpcClassicLink",
            ],
            &[("ec2.amazonaws.com", "DescribeVpcs"), ("ec2.amazonaws.com", "DescribeVpcPeeringConnections")],
        ),
        calls_rule(
            p,
            "cis-4.15",
            "CIS 4.15 AWS Organizations changes",
            "organizations.amazonaws.com",
            true,
            &[
                "AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit", "CreatePolicy", "DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit",
                "DeletePolicy", "DetachPolicy", "DisablePolicyType", "EnablePolicyType", "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount",
                "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit",
            ],
            &[("organizations.amazonaws.com", "DescribeOrganization"), ("organizations.amazonaws.com", "ListAccounts"), ("iam.amazonaws.com", "CreatePolicy")],
        ),
    ];
    Baseline {
        name: "cis".into(),
        description: "CIS AWS Foundations Benchmark v1.4–v3.0: logging (§3.1–3.5) and monitoring (§4.1–4.15)".into(),
        trails: vec![TrailExpectation { bucket_versioning: false, ..TrailExpectation::default() }],
        rules,
        exceptions: vec![],
    }
}

/// An address that none of the allowed patterns covers, for the "outside" event.
fn outside_ip(allowed: &[String]) -> String {
    let candidates = ["192.0.2.250", "198.51.100.250", "203.0.113.250", "100.64.0.1", "172.31.255.254"];
    candidates.iter().find(|ip| !allowed.iter().any(|a| crate::filter_pattern::glob_matches(a, ip))).unwrap_or(&"192.0.2.251").to_string()
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

pub fn essentials(params: &Params) -> Baseline {
    let p = params;
    let login = |fields: &[(&str, Value)]| {
        let mut all = vec![
            ("eventSource", json!("signin.amazonaws.com")),
            ("eventName", json!("ConsoleLogin")),
            ("additionalEventData", json!({"LoginTo": "https://console.aws.amazon.com/", "MobileVersion": "No", "MFAUsed": "Yes"})),
            ("responseElements", json!({"ConsoleLogin": "Success"})),
        ];
        all.extend(fields.iter().cloned());
        event(&all)
    };
    let root = json!({"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"});
    let ip_clauses: String = p.allowed_ips.iter().map(|ip| format!(" && ($.sourceIPAddress != {})", quote(ip))).collect();
    let outside = outside_ip(&p.allowed_ips);
    let run = |ty: &str| event(&[("eventSource", json!("ec2.amazonaws.com")), ("eventName", json!("RunInstances")), ("requestParameters", json!({"instanceType": ty, "minCount": 1, "maxCount": 1}))]);
    let other_region = if p.home_region == "eu-west-1" { "us-west-2" } else { "eu-west-1" };
    let in_region = |region: &str, source: &str, name: &str| event(&[("eventSource", json!(source)), ("eventName", json!(name)), ("awsRegion", json!(region))]);
    let rule = |id: &str, title: &str, reference: String, must_match: Vec<String>, must_not_match: Vec<String>, threshold: f64| AlertRule {
        id: id.into(),
        title: title.into(),
        reference,
        must_match,
        may_exclude: vec![],
        must_not_match,
        alarm: alarm(p, threshold),
        remediation: String::new(),
    };
    let rules = vec![
        rule(
            "essentials.console-login-untrusted-ip",
            "Console login from outside the allowed IP list",
            format!("{{ ($.eventName = ConsoleLogin){ip_clauses} }}"),
            vec![login(&[("sourceIPAddress", json!(outside))])],
            p.allowed_ips.iter().filter(|ip| !ip.contains('*')).map(|ip| login(&[("sourceIPAddress", json!(ip))])).chain([in_region("us-east-1", "iam.amazonaws.com", "GetUser")]).collect(),
            p.threshold,
        ),
        rule(
            "essentials.root-console-login",
            "Root user console login",
            "{ ($.eventName = ConsoleLogin) && ($.userIdentity.type = Root) }".into(),
            vec![login(&[("userIdentity", root.clone())])],
            vec![login(&[]), event(&[("userIdentity", root.clone()), ("eventName", json!("ListBuckets")), ("eventSource", json!("s3.amazonaws.com"))])],
            p.threshold,
        ),
        rule(
            "essentials.failed-console-logins",
            "Failed console logins",
            r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#.into(),
            vec![login(&[("responseElements", json!({"ConsoleLogin": "Failure"})), ("errorMessage", json!("Failed authentication")), ("additionalEventData.MFAUsed", json!("No"))])],
            vec![login(&[])],
            p.failed_login_threshold,
        ),
        rule(
            "essentials.unauthorized-operations",
            "Unauthorized operations",
            r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#.into(),
            vec![
                event(&[("eventSource", json!("ec2.amazonaws.com")), ("eventName", json!("TerminateInstances")), ("errorCode", json!("Client.UnauthorizedOperation"))]),
                event(&[("eventSource", json!("s3.amazonaws.com")), ("eventName", json!("GetObject")), ("errorCode", json!("AccessDenied"))]),
                event(&[("eventSource", json!("kms.amazonaws.com")), ("eventName", json!("Decrypt")), ("errorCode", json!("AccessDeniedException"))]),
            ],
            vec![call("ec2.amazonaws.com", "TerminateInstances"), event(&[("eventSource", json!("s3.amazonaws.com")), ("eventName", json!("GetObject")), ("errorCode", json!("NoSuchKey"))])],
            p.threshold,
        ),
        rule(
            "essentials.large-instances",
            "Very large instance types launched",
            "{ ($.eventName = RunInstances) && (($.requestParameters.instanceType = *.8xlarge) || ($.requestParameters.instanceType = *.4xlarge)) }".into(),
            vec![run("m5.8xlarge"), run("c6i.4xlarge")],
            vec![
                run("t3.micro"),
                run("m5.xlarge"),
                event(&[("eventSource", json!("ec2.amazonaws.com")), ("eventName", json!("ModifyInstanceAttribute")), ("requestParameters", json!({"instanceType": "m5.8xlarge"}))]),
            ],
            p.threshold,
        ),
        rule(
            "essentials.iam-user-created",
            "IAM user created",
            "{ ($.eventSource = iam.amazonaws.com) && ($.eventName = CreateUser) }".into(),
            vec![call("iam.amazonaws.com", "CreateUser")],
            vec![call("iam.amazonaws.com", "GetUser"), call("iam.amazonaws.com", "CreateRole")],
            p.threshold,
        ),
        rule(
            "essentials.create-outside-home-region",
            "Resources created outside the home region",
            format!("{{ ($.awsRegion != {}) && ($.eventName = \"Create*\") }}", quote(&p.home_region)),
            vec![in_region(other_region, "s3.amazonaws.com", "CreateBucket"), in_region(other_region, "ec2.amazonaws.com", "CreateVpc")],
            vec![in_region(&p.home_region, "s3.amazonaws.com", "CreateBucket"), in_region(other_region, "s3.amazonaws.com", "DeleteBucket")],
            p.threshold,
        ),
    ];
    Baseline {
        name: "essentials".into(),
        description: format!("Common practitioner alerts (home region {}, allowed console IPs {})", p.home_region, p.allowed_ips.join(", ")),
        trails: vec![TrailExpectation::default()],
        rules,
        exceptions: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_corpora_agree_with_their_reference_patterns() {
        for name in NAMES {
            let b = by_name(name, &Params::default()).unwrap_or_else(|| panic!("{name} is built in"));
            b.compile().unwrap_or_else(|e| panic!("{name}: {e}"));
            // What `baseline init` writes must load back to the same baseline.
            assert_eq!(Baseline::from_toml(&b.to_toml()).unwrap_or_else(|e| panic!("{name} round trip: {e}")), b);
        }
        assert_eq!(cis(&Params::default()).rules.len(), 15);
    }

    #[test]
    fn parameters_shape_the_essentials() {
        let mut p = Params::default();
        p.set("allowed_ips=192.0.2.250, 10.0.0.*").unwrap();
        p.set("home_region=ap-northeast-1").unwrap();
        p.set("failed_login_threshold=5").unwrap();
        let b = essentials(&p);
        b.compile().unwrap();
        let ip_rule = &b.rules[0];
        assert!(ip_rule.reference.contains(r#"($.sourceIPAddress != "10.0.0.*")"#), "{}", ip_rule.reference);
        assert!(!ip_rule.must_match[0].contains("192.0.2.250"), "the outside address avoids the allowed list");
        assert!(b.rules[6].reference.contains("ap-northeast-1"));
        assert_eq!(b.rules[2].alarm.threshold, 5.0);
        assert!(p.set("threshold=-1").is_err());
        assert!(p.set("colour=blue").is_err());
        assert!(p.set("period=abc").is_err());
    }
}
