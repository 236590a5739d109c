//! The JSON Schemas (draft 2020-12) of the JSON documents trailproof writes, derived from the
//! serialised types themselves, so a schema cannot drift from its document; and their versions.
//!
//! Every document carries `"schema_version"`, an integer per document kind. It is bumped whenever
//! the document's schema changes at all (a field added, removed, renamed or retyped, a new
//! finding kind, verdict or check ID): a document validates against the schema that
//! `trailproof schema` prints for its version. A test freezes each schema (`tests/schemas/`), so a
//! change to the output cannot go unnoticed.
use schemars::generate::SchemaSettings;
use schemars::transform::{RecursiveTransform, RestrictFormats, Transform};
use schemars::{JsonSchema, Schema};
use serde::Serialize;

/// validate-logs `--output json`.
pub const VALIDATE_LOGS: u32 = 1;
/// baseline `--output json`.
pub const BASELINE: u32 = 1;
/// The evidence report, validate-logs `--report FILE`.
pub const EVIDENCE_REPORT: u32 = 1;
/// export's `manifest.json`.
pub const EXPORT_MANIFEST: u32 = 1;
/// backtest `--output json`.
pub const BACKTEST: u32 = 1;
/// `trailproof plan`'s plan file (its `plan_version`).
pub const PLAN: u32 = 1;
/// A shard's report of one unit (`validate-logs --plan … --report-dir`).
pub const UNIT_REPORT: u32 = 1;

/// `"schema_version": N`; in the schema, the constant N.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Version<const N: u32>;

impl<const N: u32> Serialize for Version<N> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(N)
    }
}

/// Reads back only the version N: a document of another version is refused whole.
impl<'de, const N: u32> serde::Deserialize<'de> for Version<N> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match u32::deserialize(deserializer)? {
            n if n == N => Ok(Version),
            n => Err(serde::de::Error::custom(format!("version {n}; this trailproof reads version {N}"))),
        }
    }
}

impl<const N: u32> JsonSchema for Version<N> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("SchemaVersion{N}").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "description": "The document's schema version (README, \"JSON output\"): bumped whenever its schema changes.",
            "type": "integer",
            "const": N
        })
    }
}

/// The documents that have a schema, as `trailproof schema` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Document {
    /// `validate-logs --output json`
    ValidateLogs,
    /// `baseline --output json`
    Baseline,
    /// `validate-logs --report FILE`
    EvidenceReport,
    /// `export`'s manifest.json
    ExportManifest,
    /// `backtest --output json`
    Backtest,
    /// `trailproof plan`'s plan file
    Plan,
    /// A shard's report of one unit, `validate-logs --plan … --report-dir DIR`
    UnitReport,
}

impl Document {
    pub const ALL: [Document; 7] =
        [Document::ValidateLogs, Document::Baseline, Document::EvidenceReport, Document::ExportManifest, Document::Backtest, Document::Plan, Document::UnitReport];

    fn title(self) -> &'static str {
        match self {
            Document::ValidateLogs => "trailproof validate-logs --output json",
            Document::Baseline => "trailproof baseline --output json",
            Document::EvidenceReport => "trailproof validate-logs --report FILE (evidence report)",
            Document::ExportManifest => "trailproof export: manifest.json",
            Document::Backtest => "trailproof backtest --output json",
            Document::Plan => "trailproof plan: the plan file",
            Document::UnitReport => "trailproof validate-logs --plan FILE --report-dir DIR: one unit's report",
        }
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Document::ValidateLogs => "validate-logs",
            Document::Baseline => "baseline",
            Document::EvidenceReport => "evidence-report",
            Document::ExportManifest => "export-manifest",
            Document::Backtest => "backtest",
            Document::Plan => "plan",
            Document::UnitReport => "unit-report",
        }
    }
}

/// Closes every object that lists its properties: an unknown field is drift, not an extension.
/// Objects without `properties` (a finding's `details`, an object's metadata) stay open.
#[derive(Clone)]
struct Closed;

impl Transform for Closed {
    fn transform(&mut self, schema: &mut Schema) {
        if let Some(object) = schema.as_object_mut() {
            if object.contains_key("properties") && !object.contains_key("additionalProperties") {
                object.insert("additionalProperties".into(), false.into());
            }
        }
    }
}

/// The JSON Schema of `document`.
pub fn of(document: Document) -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12()
        .for_serialize()
        // Drops formats draft 2020-12 does not define (schemars' `uint` for counts).
        .with_transform(RestrictFormats::default())
        .with_transform(RecursiveTransform(Closed))
        .into_generator();
    let mut schema = match document {
        Document::ValidateLogs => generator.into_root_schema_for::<super::json::ValidationDocument<'static>>(),
        Document::Baseline => generator.into_root_schema_for::<super::json::BaselineDocument<'static>>(),
        Document::EvidenceReport => generator.into_root_schema_for::<super::evidence::Document<'static>>(),
        Document::ExportManifest => generator.into_root_schema_for::<crate::export::Manifest>(),
        Document::Backtest => generator.into_root_schema_for::<crate::backtest::report::BacktestReport>(),
        Document::Plan => generator.into_root_schema_for::<crate::plan::Plan>(),
        Document::UnitReport => generator.into_root_schema_for::<super::merge::UnitDocument<'static>>(),
    };
    schema.insert("title".into(), document.title().into());
    schema.to_value()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::codes::{AlertPart, Code, TrailCheck};

    fn fits(schema: &serde_json::Value, pointer: &str, value: serde_json::Value) -> bool {
        let mut sub = schema.pointer(pointer).unwrap_or_else(|| panic!("no {pointer}")).clone();
        sub["$schema"] = "https://json-schema.org/draft/2020-12/schema".into();
        jsonschema::draft202012::new(&sub).unwrap().is_valid(&value)
    }

    /// The vocabularies are closed in the schema: every check ID and finding kind fits, a
    /// renamed one does not.
    #[test]
    fn vocabularies_are_enumerated() {
        let baseline = of(Document::Baseline);
        for c in TrailCheck::ALL {
            assert!(fits(&baseline, "/$defs/CheckId", serde_json::to_value(Code::Trail(c)).unwrap()), "{}", c.id());
        }
        for part in AlertPart::ALL {
            assert!(fits(&baseline, "/$defs/CheckId", serde_json::to_value(Code::Alert { rule: "my rule.1".into(), part }).unwrap()));
        }
        assert!(!fits(&baseline, "/$defs/CheckId", "trail.log-validation".into()));
        assert!(!fits(&baseline, "/$defs/CheckId", "cis-4.1.alarms".into()));

        let validation = of(Document::ValidateLogs);
        for k in crate::finding::FindingKind::ALL {
            assert!(fits(&validation, "/$defs/FindingKind", serde_json::to_value(k).unwrap()), "{k}");
        }
        assert!(!fits(&validation, "/$defs/FindingKind", "log_changed".into()));
    }

    #[test]
    fn every_document_is_versioned_and_closed() {
        for document in Document::ALL {
            let schema = of(document);
            // The plan's version is `plan_version`, as the plan format names it.
            let version = if document == Document::Plan { "plan_version" } else { "schema_version" };
            assert_eq!(schema["required"][0], version, "{}", document.name());
            assert_eq!(schema["additionalProperties"], false, "{}", document.name());
        }
    }
}
