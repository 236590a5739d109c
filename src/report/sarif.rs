//! SARIF 2.1.0, for code-scanning UIs (GitHub's included): one rule per rule ID met, one result
//! per case that did not pass. Every result has a physical location, as GitHub requires:
//! evidence is located by its `s3://` URI, a baseline check by the baseline file and the line of
//! the rule it judges (or `trailproof://baseline/NAME` for a built-in baseline), with the resource
//! judged as a logical location. The output passes Microsoft's SARIF Multitool
//! (`validate --rule-kind "Gh;Sarif"`) without errors; tests/e2e/offline/formats.rs runs it.
use std::collections::BTreeSet;
use std::io::{self, Write};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::cases::{Case, Location, Outcome};

pub fn write(cases: &[Case<'_>], out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(cases))?;
    writeln!(out)
}

pub fn document(cases: &[Case<'_>]) -> Value {
    let mut seen = BTreeSet::new();
    let rules: Vec<Value> = cases
        .iter()
        .filter(|c| seen.insert(c.rule.id.clone()))
        .map(|c| {
            json!({
                "id": c.rule.id,
                "shortDescription": {"text": c.rule.title},
                "fullDescription": {"text": c.rule.description},
                "help": {"text": c.rule.remediation},
            })
        })
        .collect();
    let results: Vec<Value> = cases.iter().filter(|c| c.outcome != Outcome::Pass).map(result).collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "trailproof", "version": env!("CARGO_PKG_VERSION"), "informationUri": "https://github.com/trailproof/trailproof", "rules": rules}},
            "results": results,
        }],
    })
}

fn result(c: &Case<'_>) -> Value {
    let level = match c.outcome {
        Outcome::Fail => "error",
        Outcome::Error | Outcome::Warning => "warning",
        Outcome::Pass | Outcome::Skipped => "note",
    };
    let uri = c.location.uri();
    let mut location = json!({"physicalLocation": {"artifactLocation": {"uri": uri}}});
    let mut resource = "";
    if let Location::Check { resource: r, baseline } = &c.location {
        resource = r;
        if let Some(line) = baseline.line {
            location["physicalLocation"]["region"] = json!({"startLine": line});
        }
        if !r.is_empty() {
            location["logicalLocations"] = json!([{"fullyQualifiedName": r, "kind": "resource"}]);
        }
    }
    // Code scanning matches results across runs by fingerprint; it computes none for locations
    // outside the repository, so trailproof gives its own: the rule and what it is about.
    let fingerprint = Sha256::digest(format!("{}\n{uri}\n{resource}", c.rule.id));
    let mut result = json!({
        "ruleId": c.rule.id,
        "level": level,
        "message": {"text": format!("{}: {}", c.rule.title, c.message)},
        "locations": [location],
        "partialFingerprints": {"trailproof/v1": hex::encode(fingerprint)},
        "properties": {"status": c.outcome.as_str(), "remediation": c.rule.remediation},
    });
    if c.outcome == Outcome::Skipped {
        result["suppressions"] = json!([{"kind": "external", "justification": c.message}]);
    }
    result
}
