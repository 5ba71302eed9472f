//! The recipes for shipping `events` NDJSON to Loki and Elasticsearch (examples/shipping/):
//! Vector's and Fluent Bit's configs are checked by their structure (source → parse → the
//! Loki and Elasticsearch sinks, wired by name), every event field they name is in the events
//! JSON Schema, Loki's labels are only low-cardinality enum fields, and their time formats
//! read the `time` of every fixture's events. Where `vector` or `fluent-bit` is installed it
//! validates its file too; `MAILTRACE_SHIPPING=1` makes a missing tool a failure.

use std::collections::BTreeSet;
use std::process::Command;

use regex::Regex;
use serde_json::Value;

use crate::util::{mailtrace, root};

/// The only event fields a recipe may use as Loki labels.
const LABEL_FIELDS: &[&str] = &["mta", "kind"];

/// The file both recipes read.
const EVENTS_FILE: &str = "/var/log/mailtrace/events.ndjson";

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

/// The committed events schema (tests/schema.rs checks it is the generated one).
fn events_schema() -> Value {
    serde_json::from_str(&read("examples/schema/events.v1.schema.json")).unwrap()
}

/// The top-level event fields of the schema.
fn event_fields() -> BTreeSet<String> {
    let schema = events_schema();
    schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// True if the schema gives `field` a fixed set of values (an enum definition).
fn is_enum_field(field: &str) -> bool {
    let schema = events_schema();
    let Some(reference) = schema["properties"][field]["$ref"].as_str() else {
        return false;
    };
    let name = reference.trim_start_matches("#/$defs/");
    let def = &schema["$defs"][name];
    def["enum"].is_array()
        || def["oneOf"]
            .as_array()
            .is_some_and(|v| v.iter().all(|s| s.get("const").is_some()))
}

/// The `time` of every event of fixtures with and without fractions and UTC offsets.
fn fixture_times() -> Vec<String> {
    let mut out = Vec::new();
    for log in [
        "fixtures/exim/cpanel_domain_blocked.log",
        "fixtures/exim/frozen_and_removed.log",
        "fixtures/postfix/iso_timestamps.log",
        "fixtures/postfix/bounce_user_unknown.log",
    ] {
        let run = mailtrace()
            .args(["events", "--year", "2026", log])
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(0), "{log}");
        for line in String::from_utf8(run.stdout).unwrap().lines() {
            let e: Value = serde_json::from_str(line).unwrap();
            out.push(e["time"].as_str().unwrap().to_string());
        }
    }
    assert!(
        out.iter().any(|t| t.contains('.')),
        "no time with a fraction"
    );
    assert!(
        out.iter()
            .any(|t| t.len() > 19 && t[19..].contains(['+', '-'])),
        "no time with an offset"
    );
    out
}

/// `s` without its double-quoted string literals (VRL's format strings contain `.f`).
fn without_strings(s: &str) -> String {
    Regex::new(r#""(\\.|[^"\\])*""#)
        .unwrap()
        .replace_all(s, "\"\"")
        .into_owned()
}

/// Every `{{ field }}` template in `text`.
fn templates(text: &str) -> BTreeSet<String> {
    Regex::new(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")
        .unwrap()
        .captures_iter(text)
        .map(|c| c[1].to_string())
        .collect()
}

/// The one table under `section` of a Vector config whose `type` is `kind`: (name, table).
fn vector_component<'a>(
    config: &'a toml::Table,
    section: &str,
    kind: &str,
) -> (&'a str, &'a toml::Table) {
    let found: Vec<(&str, &toml::Table)> = config[section]
        .as_table()
        .unwrap()
        .iter()
        .filter(|(_, c)| c["type"].as_str() == Some(kind))
        .map(|(n, c)| (n.as_str(), c.as_table().unwrap()))
        .collect();
    assert_eq!(found.len(), 1, "one {section} of type {kind}");
    found[0]
}

fn inputs_of(component: &toml::Table) -> Vec<&str> {
    component["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[test]
fn the_vector_recipe_parses_events_into_loki_and_elasticsearch() {
    let text = read("examples/shipping/vector.toml");
    let config: toml::Table = text.parse().unwrap();
    let fields = event_fields();

    let (source, file) = vector_component(&config, "sources", "file");
    assert_eq!(config["sources"].as_table().unwrap().len(), 1);
    assert_eq!(
        file["include"].as_array().unwrap()[0].as_str(),
        Some(EVENTS_FILE)
    );

    let (remap_name, remap) = vector_component(&config, "transforms", "remap");
    assert_eq!(inputs_of(remap), [source]);
    let vrl = remap["source"].as_str().unwrap();
    assert!(vrl.contains("parse_json!(string!(.message))"), "{vrl}");
    assert!(vrl.contains(".timestamp = parse_timestamp"), "{vrl}");

    // Paths the program reads or sets: event fields, and Vector's own `.message` (the raw
    // line) and `.timestamp` (the event time).
    let paths: BTreeSet<String> = Regex::new(r"\.([a-z_][a-z0-9_]*)")
        .unwrap()
        .captures_iter(&without_strings(vrl))
        .map(|c| c[1].to_string())
        .collect();
    assert!(paths.contains("time"), "{paths:?}");
    for p in &paths {
        assert!(
            fields.contains(p) || p == "message" || p == "timestamp",
            "VRL names .{p}, which is not an event field"
        );
    }

    // The formats read every event time; a stated offset is kept.
    let formats: Vec<String> = Regex::new(r#"format: "([^"]+)""#)
        .unwrap()
        .captures_iter(vrl)
        .map(|c| c[1].to_string())
        .collect();
    assert_eq!(formats.len(), 2, "{vrl}");
    for t in fixture_times() {
        let with_offset = chrono::DateTime::parse_from_str(&t, &formats[0]).is_ok();
        let local = chrono::NaiveDateTime::parse_from_str(&t, &formats[1]).is_ok();
        let has_offset = t.len() > 19 && t[19..].contains(['+', '-']);
        assert!(
            if has_offset { with_offset } else { local },
            "{t} is not read by {formats:?}"
        );
    }

    let (_, loki) = vector_component(&config, "sinks", "loki");
    let (_, es) = vector_component(&config, "sinks", "elasticsearch");
    assert_eq!(inputs_of(loki), [remap_name]);
    assert_eq!(inputs_of(es), [remap_name]);
    assert!(loki["endpoint"].as_str().unwrap().starts_with("http"));
    assert_eq!(loki["encoding"]["codec"].as_str(), Some("json"));
    let labels = loki["labels"].as_table().unwrap();
    let mut label_fields = BTreeSet::new();
    for (name, value) in labels {
        let value = value.as_str().unwrap();
        for field in templates(value) {
            assert!(
                LABEL_FIELDS.contains(&field.as_str()),
                "Loki label {name} uses {field}, which is not a low-cardinality field"
            );
            label_fields.insert(field);
        }
    }
    assert_eq!(
        label_fields,
        LABEL_FIELDS.iter().map(|s| s.to_string()).collect()
    );
    assert!(es["endpoints"].as_array().is_some_and(|e| !e.is_empty()));
    for field in templates(&text) {
        assert!(
            fields.contains(&field),
            "{{{{ {field} }}}} is not an event field"
        );
    }
}

#[test]
fn the_fluent_bit_recipe_parses_events_into_loki_and_elasticsearch() {
    let text = read("examples/shipping/fluent-bit.yaml");
    let config: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let fields = event_fields();
    let s = |v: &serde_yaml::Value| v.as_str().map(str::to_string);

    let parsers = config["parsers"].as_sequence().unwrap();
    assert_eq!(parsers.len(), 1);
    let parser = &parsers[0];
    assert_eq!(s(&parser["format"]).as_deref(), Some("json"));
    let time_key = s(&parser["time_key"]).unwrap();
    assert!(fields.contains(&time_key), "time_key {time_key}");
    assert_eq!(time_key, "time");
    assert_eq!(parser["time_keep"].as_bool(), Some(true));
    // Not strict: Fluent Bit reads the leading seconds and keeps the rest in `time`.
    assert_eq!(parser["time_strict"].as_bool(), Some(false));
    let time_format = s(&parser["time_format"]).unwrap();
    for t in fixture_times() {
        assert!(
            chrono::NaiveDateTime::parse_from_str(&t[..19], &time_format).is_ok(),
            "{t} is not read by {time_format}"
        );
    }

    let pipeline = &config["pipeline"];
    let inputs = pipeline["inputs"].as_sequence().unwrap();
    assert_eq!(inputs.len(), 1);
    let tail = &inputs[0];
    assert_eq!(s(&tail["name"]).as_deref(), Some("tail"));
    assert_eq!(s(&tail["path"]).as_deref(), Some(EVENTS_FILE));
    assert_eq!(s(&tail["parser"]), s(&parser["name"]));
    let tag = s(&tail["tag"]).unwrap();

    let outputs = pipeline["outputs"].as_sequence().unwrap();
    let names: BTreeSet<String> = outputs.iter().filter_map(|o| s(&o["name"])).collect();
    assert_eq!(names, ["es", "loki"].map(String::from).into());
    for o in outputs {
        let pattern = s(&o["match"]).unwrap();
        let prefix = pattern.trim_end_matches('*');
        assert!(
            tag.starts_with(prefix) && (pattern.ends_with('*') || pattern == tag),
            "output {:?} matches {pattern}, not the input's tag {tag}",
            o["name"]
        );
    }
    let loki = outputs
        .iter()
        .find(|o| s(&o["name"]).as_deref() == Some("loki"))
        .unwrap();
    assert_eq!(s(&loki["line_format"]).as_deref(), Some("json"));
    let mut label_fields = BTreeSet::new();
    for label in s(&loki["labels"]).unwrap().split(',') {
        let (name, value) = label.trim().split_once('=').unwrap();
        if let Some(field) = value.strip_prefix('$') {
            assert!(
                LABEL_FIELDS.contains(&field),
                "Loki label {name} uses {field}, which is not a low-cardinality field"
            );
            label_fields.insert(field.to_string());
        }
    }
    assert_eq!(
        label_fields,
        LABEL_FIELDS.iter().map(|s| s.to_string()).collect()
    );
    // Every record accessor outside comments names an event field.
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    for c in Regex::new(r"\$([a-z_][a-z0-9_]*)")
        .unwrap()
        .captures_iter(&code)
    {
        assert!(fields.contains(&c[1]), "${} is not an event field", &c[1]);
    }
}

#[test]
fn loki_labels_are_enum_fields_of_the_schema() {
    for field in LABEL_FIELDS {
        assert!(
            is_enum_field(field),
            "{field} is not an enum in the events schema"
        );
    }
}

/// Runs `tool args` when it is installed; a missing tool fails with `MAILTRACE_SHIPPING=1`.
fn validate_with(tool: &str, args: &[&str]) {
    let required = std::env::var_os("MAILTRACE_SHIPPING").is_some_and(|v| v == "1");
    match Command::new(tool).args(args).current_dir(root()).output() {
        Ok(out) => assert!(
            out.status.success(),
            "{tool} {args:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                !required,
                "MAILTRACE_SHIPPING=1 but {tool} is not installed"
            );
            eprintln!("notice: {tool} is not installed; its recipe is checked by schema only");
        }
        Err(e) => panic!("{tool}: {e}"),
    }
}

#[test]
fn the_tools_validate_the_recipes_when_installed() {
    validate_with(
        "vector",
        &[
            "validate",
            "--no-environment",
            "examples/shipping/vector.toml",
        ],
    );
    validate_with(
        "fluent-bit",
        &["--dry-run", "-c", "examples/shipping/fluent-bit.yaml"],
    );
}
