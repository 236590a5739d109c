//! SARIF 2.1.0 for code-scanning UIs: one rule per rule ID met, one result per case that did not
//! pass. Evidence is located by its `s3://` URI; configuration by its resource name.
use std::collections::BTreeSet;
use std::io::{self, Write};

use serde_json::{json, Value};

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
                "name": c.rule.id,
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
    let location = match c.location {
        Location::Object { .. } => json!({"physicalLocation": {"artifactLocation": {"uri": c.location.to_string()}}}),
        Location::Resource(name) => json!({"logicalLocations": [{"name": name, "kind": "resource"}]}),
    };
    let mut result = json!({
        "ruleId": c.rule.id,
        "level": level,
        "message": {"text": format!("{}: {}", c.rule.title, c.message)},
        "locations": [location],
        "properties": {"status": c.outcome.as_str(), "remediation": c.rule.remediation},
    });
    if c.outcome == Outcome::Skipped {
        result["suppressions"] = json!([{"kind": "external", "justification": c.message}]);
    }
    result
}
