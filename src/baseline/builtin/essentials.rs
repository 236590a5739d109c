//! The `essentials` baseline: alerts practitioners commonly add beyond CIS.
use serde_json::{json, Value};

use super::*;

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
