//! The `cis` baseline: CIS AWS Foundations Benchmark v1.4–v3.0 monitoring, §4.1–4.15.
use serde_json::{json, Value};

use super::*;

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
