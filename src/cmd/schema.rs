//! `mailtrace schema report|events`: the JSON Schemas (2020-12) of `report --format json` and
//! of `events`, derived (schemars, serialisation contract) from the types that are written:
//! [`Report`] with the [`Incomplete`] marker's members, and the events' `EventJson`. Every
//! object of a fixed shape has `additionalProperties: false`. `examples/schema/` holds
//! [`schema_json`] as `cargo run --example schema` writes it; a test checks.

use std::io::{self, Write};

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{Schema, SchemaGenerator};
use serde_json::Value;

use crate::cli::SchemaOutput;
use crate::error::{Exit, Result};
use crate::model::event::{EVENT_SCHEMA_VERSION, EventJson};
use crate::report::{Incomplete, REPORT_SCHEMA_VERSION, Report};

/// Prints the schema of `output` on stdout.
pub(super) fn run(output: SchemaOutput) -> Result<Exit> {
    let mut out = io::stdout().lock();
    out.write_all(schema_json(output).as_bytes())?;
    out.flush()?;
    Ok(Exit::Ok)
}

/// The file name of `output`'s schema, with its version: `report.v1.schema.json`.
pub fn file_name(output: SchemaOutput) -> String {
    let (name, version) = match output {
        SchemaOutput::Report => ("report", REPORT_SCHEMA_VERSION),
        SchemaOutput::Events => ("events", EVENT_SCHEMA_VERSION),
    };
    format!("{name}.v{version}.schema.json")
}

/// The schema of `output` as pretty-printed JSON with a final newline.
pub fn schema_json(output: SchemaOutput) -> String {
    let schema = match output {
        SchemaOutput::Report => report_schema(),
        SchemaOutput::Events => events_schema(),
    };
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .for_serialize()
        .with_transform(RecursiveTransform(plain_description))
        .into_generator()
}

/// A doc comment as a description: rustdoc links (`` [`x`] ``) as plain code, wrapped lines
/// joined, paragraphs kept.
fn plain_description(schema: &mut Schema) {
    if let Some(Value::String(doc)) = schema.get_mut("description") {
        *doc = doc
            .split("\n\n")
            .map(|p| p.lines().map(str::trim).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n\n")
            .replace("[`", "`")
            .replace("`]", "`");
    }
}

/// `$id`, `title` and `description` naming the output and its schema version.
fn identify(schema: &mut Schema, output: SchemaOutput, title: &str, description: &str) {
    let id = format!("urn:mailtrace:schema:{}", file_name(output));
    schema.insert("$id".into(), Value::String(id));
    schema.insert("title".into(), Value::String(title.into()));
    schema.insert("description".into(), Value::String(description.into()));
}

fn report_schema() -> Schema {
    let mut generator = generator();
    let marker = generator.subschema_for::<Incomplete<'static>>();
    let mut schema = generator.into_root_schema_for::<Report>();
    identify(
        &mut schema,
        SchemaOutput::Report,
        &format!("mailtrace report --format json, version {REPORT_SCHEMA_VERSION}"),
        "The JSON report: one object. A report of a run in which an input failed has \
         `complete` (false) and `errors` as its first members.",
    );
    // The marker's members are optional: only a report of a run in which an input failed
    // has them.
    if let (Some(Value::Object(members)), Some(Value::Object(properties))) = (
        marker.get("properties").cloned(),
        schema.get_mut("properties"),
    ) {
        properties.extend(members);
    }
    schema
}

fn events_schema() -> Schema {
    let mut schema = generator().into_root_schema_for::<EventJson<'static>>();
    identify(
        &mut schema,
        SchemaOutput::Events,
        &format!("mailtrace events, version {EVENT_SCHEMA_VERSION}"),
        "One understood log line: `mailtrace events` and `follow --format events` write one \
         such object per line (NDJSON). Every member is always present, null when the line \
         does not carry it.",
    );
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemars::JsonSchema;

    /// True when the derive gives `T` a closed object schema.
    fn closed<T: JsonSchema>() -> bool {
        let s = generator().into_root_schema_for::<T>();
        s.get("additionalProperties") == Some(&Value::Bool(false))
    }

    #[test]
    fn the_roots_are_closed_and_versioned() {
        assert!(closed::<Report>());
        assert!(closed::<EventJson<'static>>());
        let r: Value = serde_json::from_str(&schema_json(SchemaOutput::Report)).unwrap();
        assert_eq!(r["$id"], "urn:mailtrace:schema:report.v1.schema.json");
        assert_eq!(r["properties"]["version"]["const"], 1);
        assert_eq!(r["properties"]["complete"]["const"], false);
        let e: Value = serde_json::from_str(&schema_json(SchemaOutput::Events)).unwrap();
        assert_eq!(e["$id"], "urn:mailtrace:schema:events.v1.schema.json");
        assert_eq!(e["properties"]["v"]["const"], 1);
    }
}
