//! The evidence report (`--report FILE`): a JSON record of the run for an examiner to attach to a
//! case. It names the tool and version, the parameters, every object checked with its verdict and
//! SHA-256, and the findings. Its last field, `report_sha256`, is the SHA-256 of the file as
//! written with that field's value replaced by 64 zeros; `verify` recomputes it.
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::finding::Finding;
use super::schema::Version;
use super::{ObjectRecord, Report, Summary, Verdict};

/// How the run was asked for.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Parameters {
    pub command_line: Vec<String>,
    pub trail_arn: String,
    pub start_time: String,
    pub end_time: String,
    /// `s3` or the evidence directory.
    pub source: String,
    /// The key file, or `ListPublicKeys`.
    pub public_keys: String,
}

/// The program that wrote a document (the evidence report, export's manifest).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Tool {
    pub const THIS: Tool = Tool { name: "trailproof", version: env!("CARGO_PKG_VERSION") };
}

/// The evidence report; `report_sha256` must stay the last field.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Document<'a> {
    schema_version: Version<{ super::schema::EVIDENCE_REPORT }>,
    tool: Tool,
    generated_at: String,
    parameters: &'a Parameters,
    regions: &'a [String],
    accounts: &'a [String],
    summary: &'a Summary,
    verdict: Verdict,
    objects: &'a [ObjectRecord],
    findings: &'a [Finding],
    report_sha256: String,
}

const PLACEHOLDER: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Renders the report, self-hash included.
pub fn render(report: &Report, parameters: &Parameters, generated_at: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    let doc = Document {
        schema_version: Version,
        tool: Tool::THIS,
        generated_at: crate::time::display(generated_at),
        parameters,
        regions: &report.regions,
        accounts: &report.accounts,
        summary: &report.summary,
        verdict: report.verdict,
        objects: &report.objects,
        findings: &report.findings,
        report_sha256: PLACEHOLDER.to_string(),
    };
    let mut bytes = serde_json::to_vec_pretty(&doc).expect("the report serialises");
    bytes.push(b'\n');
    let hash = hex::encode(Sha256::digest(&bytes));
    let at = placeholder_at(&bytes).expect("the placeholder was just written");
    bytes[at..at + 64].copy_from_slice(hash.as_bytes());
    bytes
}

/// The placeholder is the value of the last field, so search from the end.
fn placeholder_at(bytes: &[u8]) -> Option<usize> {
    let tail = b"\"report_sha256\": \"";
    let start = bytes.windows(tail.len()).rposition(|w| w == tail)? + tail.len();
    (bytes.len() >= start + 64).then_some(start)
}

/// Checks a report file's self-hash: true when the file is exactly as trailproof wrote it.
pub fn verify(bytes: &[u8]) -> bool {
    let Some(at) = placeholder_at(bytes) else { return false };
    let stated = bytes[at..at + 64].to_vec();
    let mut zeroed = bytes.to_vec();
    zeroed[at..at + 64].copy_from_slice(PLACEHOLDER.as_bytes());
    hex::encode(Sha256::digest(&zeroed)).as_bytes() == stated.as_slice()
}
