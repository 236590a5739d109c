# trailproof's least-privilege IAM, one managed policy per command (README "IAM permissions").
# The same actions as the JSON policies beside this file and trailproof.yaml; a test
# (tests/e2e/offline/deploy.rs) keeps the three in step. Attach the policies to the role that
# runs trailproof, e.g. with aws_iam_role_policy_attachment.

variable "trail_bucket" {
  description = "The bucket the trail delivers to."
  type        = string
}

variable "logs_root" {
  description = "The key prefix before CloudTrail/ and CloudTrail-Digest/: PREFIX/AWSLogs/ACCOUNT (without PREFIX/ if the trail has none), PREFIX/AWSLogs/o-ID/ACCOUNT for one account of an organization trail, PREFIX/AWSLogs/o-ID/* for --all-accounts."
  type        = string
}

variable "checkpoint_bucket" {
  description = "Bucket of the validate-logs --checkpoint object (s3://bucket/key)."
  type        = string
  default     = null
}

variable "checkpoint_key" {
  description = "Key of the validate-logs --checkpoint object."
  type        = string
  default     = null
}

# validate-logs and export read the same objects through the same calls: export copies what a
# validation reads.
data "aws_iam_policy_document" "validate_logs" {
  statement {
    sid = "TrailLookupAndKeys"
    actions = [
      "cloudtrail:DescribeTrails",
      "cloudtrail:GetTrailStatus",
      "cloudtrail:ListPublicKeys",
      "organizations:DescribeOrganization",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "TrailBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = ["arn:aws:s3:::${var.trail_bucket}"]
  }
  statement {
    sid     = "DigestAndLogFiles"
    actions = ["s3:GetObject"]
    resources = [
      "arn:aws:s3:::${var.trail_bucket}/${var.logs_root}/CloudTrail-Digest/*",
      "arn:aws:s3:::${var.trail_bucket}/${var.logs_root}/CloudTrail/*",
    ]
  }
}

data "aws_iam_policy_document" "export" {
  statement {
    sid = "TrailLookupAndKeys"
    actions = [
      "cloudtrail:DescribeTrails",
      "cloudtrail:GetTrailStatus",
      "cloudtrail:ListPublicKeys",
      "organizations:DescribeOrganization",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "TrailBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = ["arn:aws:s3:::${var.trail_bucket}"]
  }
  statement {
    sid     = "DigestAndLogFiles"
    actions = ["s3:GetObject"]
    resources = [
      "arn:aws:s3:::${var.trail_bucket}/${var.logs_root}/CloudTrail-Digest/*",
      "arn:aws:s3:::${var.trail_bucket}/${var.logs_root}/CloudTrail/*",
    ]
  }
}

data "aws_iam_policy_document" "keys_export" {
  statement {
    sid       = "PublicKeys"
    actions   = ["cloudtrail:ListPublicKeys"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "baseline" {
  statement {
    sid = "TrailsAlarmsAndTopics"
    actions = [
      "cloudtrail:DescribeTrails",
      "cloudtrail:GetEventSelectors",
      "cloudtrail:GetTrailStatus",
      "cloudwatch:DescribeAlarms",
      "logs:DescribeMetricFilters",
      "sns:GetTopicAttributes",
      "sns:ListSubscriptionsByTopic",
    ]
    resources = ["*"]
  }
  statement {
    sid = "TrailBucketSettings"
    actions = [
      "s3:GetBucketLocation",
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketPublicAccessBlock",
      "s3:GetBucketVersioning",
    ]
    resources = ["arn:aws:s3:::${var.trail_bucket}"]
  }
}

# The checkpoint is read, then rewritten. ListBucket, limited to the one key, lets a first run
# see "no such key" (404) instead of AccessDenied (403), which S3 answers for a missing object
# to a caller that may not list the bucket.
data "aws_iam_policy_document" "checkpoint" {
  count = var.checkpoint_bucket == null ? 0 : 1
  statement {
    sid       = "CheckpointObject"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["arn:aws:s3:::${var.checkpoint_bucket}/${var.checkpoint_key}"]
  }
  statement {
    sid       = "CheckpointBucketRegion"
    actions   = ["s3:GetBucketLocation"]
    resources = ["arn:aws:s3:::${var.checkpoint_bucket}"]
  }
  statement {
    sid       = "CheckpointAbsentIsNotFound"
    actions   = ["s3:ListBucket"]
    resources = ["arn:aws:s3:::${var.checkpoint_bucket}"]
    condition {
      test     = "StringEquals"
      variable = "s3:prefix"
      values   = [var.checkpoint_key]
    }
  }
}

resource "aws_iam_policy" "validate_logs" {
  name        = "trailproof-validate-logs"
  description = "trailproof validate-logs from S3"
  policy      = data.aws_iam_policy_document.validate_logs.json
}

resource "aws_iam_policy" "export" {
  name        = "trailproof-export"
  description = "trailproof export"
  policy      = data.aws_iam_policy_document.export.json
}

resource "aws_iam_policy" "keys_export" {
  name        = "trailproof-keys-export"
  description = "trailproof keys export"
  policy      = data.aws_iam_policy_document.keys_export.json
}

resource "aws_iam_policy" "baseline" {
  name        = "trailproof-baseline"
  description = "trailproof baseline"
  policy      = data.aws_iam_policy_document.baseline.json
}

resource "aws_iam_policy" "checkpoint" {
  count       = var.checkpoint_bucket == null ? 0 : 1
  name        = "trailproof-checkpoint"
  description = "trailproof validate-logs --checkpoint s3://bucket/key"
  policy      = data.aws_iam_policy_document.checkpoint[0].json
}
