//! The JSON Schemas of `mailtrace schema report|events`: the committed copies in
//! examples/schema/ are the generated ones, the JSON report of every fixture (default,
//! `--redact`, `--top 0`, filtered, incomplete) and the events of every fixture validate
//! (jsonschema), members the schema does not name fail, and `settings` says which filters
//! and inputs produced the report.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::util::{mailtrace, root};

/// The output of `mailtrace schema WHICH`, checked to succeed silently.
fn generated(which: &str) -> String {
    let out = mailtrace().args(["schema", which]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "schema {which}");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    String::from_utf8(out.stdout).unwrap()
}

fn validator(which: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&generated(which)).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

/// Panics with every validation error of `value`.
fn assert_valid(v: &jsonschema::Validator, value: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}:\n{}", errors.join("\n"));
}

/// Every fixture log (plain and gzip; not the expectations, pattern examples or scripts).
fn fixture_logs() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                if name != "classify" && name != "tools" {
                    walk(&p, out);
                }
            } else if !name.ends_with(".expect.json")
                && !name.ends_with(".py")
                && !name.ends_with(".md")
                && !name.starts_with('.')
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("fixtures"), &mut out);
    out.sort();
    assert!(out.len() > 40, "only {} fixtures found", out.len());
    out
}

/// `mailtrace ARGS`' stdout, checked to exit 0 or 1 (problems found).
fn run_ok(args: &[&str]) -> Vec<u8> {
    let out = mailtrace().args(args).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn report_json(args: &[&str]) -> Value {
    let mut all = vec!["report", "--format", "json", "--year", "2026"];
    all.extend_from_slice(args);
    serde_json::from_slice(&run_ok(&all)).unwrap()
}

#[test]
fn the_committed_schemas_are_the_generated_ones() {
    for which in ["report", "events"] {
        let path = root().join(format!("examples/schema/{which}.v1.schema.json"));
        let committed = std::fs::read_to_string(&path).unwrap();
        assert!(
            committed == generated(which),
            "{} is not the generated schema: run `cargo run --example schema`",
            path.display()
        );
        let schema: Value = serde_json::from_str(&committed).unwrap();
        assert_eq!(
            schema["$id"],
            format!("urn:mailtrace:schema:{which}.v1.schema.json")
        );
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
}

#[test]
fn every_fixture_report_validates() {
    let v = validator("report");
    for log in fixture_logs() {
        let log = log.to_string_lossy();
        for extra in [&[][..], &["--redact"], &["--top", "0"]] {
            let mut args = extra.to_vec();
            args.push(&log);
            let report = report_json(&args);
            assert_valid(&v, &report, &format!("report {args:?}"));
            assert_eq!(report["version"], 1);
        }
    }
}

#[test]
fn filtered_and_incomplete_reports_validate() {
    let v = validator("report");
    let log = "fixtures/exim/cpanel_domain_blocked.log";
    let filtered = report_json(&[
        "--since",
        "2026-11-26 14:00",
        "--until",
        "10m",
        "--sender",
        "@shop.example",
        "--domain",
        "@Shop.Example",
        "--account",
        "shopuser",
        log,
    ]);
    assert_valid(&v, &filtered, "filtered report");
    let out = mailtrace()
        .args(["report", "--format", "json", log, "fixtures/missing.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let incomplete: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(incomplete["complete"], false);
    assert_valid(&v, &incomplete, "incomplete report");
}

#[test]
fn every_fixture_events_validate() {
    let v = validator("events");
    let mut lines = 0;
    for log in fixture_logs() {
        let log = log.to_string_lossy();
        for extra in [&[][..], &["--redact"]] {
            let mut args = vec!["events", "--year", "2026"];
            args.extend_from_slice(extra);
            args.push(&log);
            let out = mailtrace().args(&args).output().unwrap();
            assert!(
                matches!(out.status.code(), Some(0 | 2)),
                "{args:?}: {:?}",
                out.status
            );
            for line in String::from_utf8(out.stdout).unwrap().lines() {
                let event: Value = serde_json::from_str(line).unwrap();
                assert_valid(&v, &event, &format!("{args:?}: {line}"));
                lines += 1;
            }
        }
    }
    assert!(lines > 1000, "only {lines} events");
}

/// The paths of every object in `value`, the first element standing for each array.
fn object_paths(value: &Value, at: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match value {
        Value::Object(members) => {
            out.push(at.clone());
            for (k, v) in members {
                at.push(json!(k));
                object_paths(v, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            if let Some(first) = items.first() {
                at.push(json!(0));
                object_paths(first, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// `value` with a member `not_in_the_schema` added to the object at `path`.
fn with_extra_member(value: &Value, path: &[Value]) -> Value {
    let mut v = value.clone();
    let mut at = &mut v;
    for key in path {
        at = match key {
            Value::String(k) => &mut at[k.as_str()],
            Value::Number(i) => &mut at[i.as_u64().unwrap() as usize],
            _ => unreachable!(),
        };
    }
    at.as_object_mut()
        .unwrap()
        .insert("not_in_the_schema".into(), json!(1));
    v
}

/// Adding a member to any object of `value` makes it invalid; returns how many objects.
fn assert_closed(v: &jsonschema::Validator, value: &Value, what: &str) -> usize {
    assert_valid(v, value, what);
    let mut paths = Vec::new();
    object_paths(value, &mut Vec::new(), &mut paths);
    for path in &paths {
        let changed = with_extra_member(value, path);
        assert!(
            !v.is_valid(&changed),
            "{what}: an extra member at {path:?} validates"
        );
    }
    paths.len()
}

#[test]
fn members_the_schema_does_not_name_fail() {
    let v = validator("report");
    let mut objects = 0;
    for log in [
        "fixtures/diagnose/mixed_day.log",
        "fixtures/exim/cpanel_domain_blocked.log",
        "fixtures/postfix/amavis_filter.log",
        "fixtures/postfix/inbound_refusals.log",
    ] {
        let report = report_json(&["--top", "0", "--since", "2026-11-01", log]);
        objects += assert_closed(&v, &report, log);
        let mut wrong = report.clone();
        wrong["version"] = json!(2);
        assert!(!v.is_valid(&wrong), "{log}: version 2 validates");
    }
    assert!(objects > 40, "only {objects} report objects");

    let v = validator("events");
    let out = run_ok(&["events", "fixtures/exim/cpanel_domain_blocked.log"]);
    let events: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let with_limit = events
        .iter()
        .find(|e| e["limit"].is_object())
        .expect("an event with limit figures");
    assert_eq!(assert_closed(&v, with_limit, "event"), 2);
    let mut missing = with_limit.clone();
    missing.as_object_mut().unwrap().remove("queue_id");
    assert!(!v.is_valid(&missing), "an event without queue_id validates");
    let mut wrong = with_limit.clone();
    wrong["v"] = json!(2);
    assert!(!v.is_valid(&wrong), "an event of version 2 validates");
}

#[test]
fn settings_say_which_filters_and_inputs_produced_the_report() {
    let log = "fixtures/exim/cpanel_domain_blocked.log";
    let plain = report_json(&[log]);
    assert_eq!(
        plain["settings"]["filters"],
        json!({"since": null, "since_resolved": null, "until": null, "until_resolved": null,
               "sender": null, "account": null, "domain": null})
    );
    assert_eq!(plain["settings"]["inputs"], json!([log]));
    assert_eq!(
        plain["settings"]["mailtrace_version"],
        env!("CARGO_PKG_VERSION")
    );
    let filtered = report_json(&[
        "--since",
        "2026-11-26 14:00",
        "--until",
        "10m",
        "--domain",
        "@Shop.Example",
        "--sender",
        "info@shop.example",
        log,
    ]);
    let f = &filtered["settings"]["filters"];
    assert_eq!(f["since"], "2026-11-26 14:00");
    assert_eq!(f["since_resolved"], "2026-11-26T14:00:00");
    assert_eq!(f["until"], "10m");
    assert_eq!(f["until_resolved"], "2026-11-26T14:34:18");
    let end = plain["period"]["last"].as_str().unwrap();
    assert!(
        f["until_resolved"].as_str().unwrap() < end,
        "{f} (log end {end})"
    );
    assert_eq!(f["domain"], "shop.example");
    assert_eq!(f["sender"], "info@shop.example");
    // --redact hides the sender filter's local part like every other address.
    let redacted = report_json(&["--redact", "--sender", "info@shop.example", log]);
    let sender = redacted["settings"]["filters"]["sender"].as_str().unwrap();
    assert!(
        !sender.contains("info") && sender.ends_with("@shop.example"),
        "{sender}"
    );
}

/// Every property name anywhere in `schema`.
fn property_names(schema: &Value, out: &mut std::collections::BTreeSet<String>) {
    match schema {
        Value::Object(members) => {
            if let Some(Value::Object(props)) = members.get("properties") {
                out.extend(props.keys().cloned());
            }
            members.values().for_each(|v| property_names(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| property_names(v, out)),
        _ => {}
    }
}

/// The README section that starts with the heading `### {title}`.
fn readme_section(title: &str) -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find(&format!("### {title}"))
        .unwrap_or_else(|| panic!("README has no section {title}"));
    let rest = &readme[start + 4..];
    rest[..rest.find("\n#").unwrap_or(rest.len())].to_string()
}

#[test]
fn the_readme_names_every_member_of_both_schemas() {
    for (which, section) in [
        ("report", "Report JSON"),
        ("events", "Event schema"),
        ("report", "Incomplete reports"),
    ] {
        let schema: Value = serde_json::from_str(&generated(which)).unwrap();
        let mut names = std::collections::BTreeSet::new();
        property_names(&schema, &mut names);
        let text = readme_section(section);
        let incomplete = ["complete", "errors", "input", "error"];
        let missing: Vec<&String> = names
            .iter()
            .filter(|n| (section == "Incomplete reports") == incomplete.contains(&n.as_str()))
            .filter(|n| !text.contains(&format!("`{n}`")) && !text.contains(&format!("\"{n}\"")))
            .collect();
        assert!(
            missing.is_empty(),
            "README \"{section}\" does not name {missing:?}"
        );
    }
}

/// The real logs of `$MAILTRACE_CORPORA` (not the test-suite fragments).
fn corpus_logs() -> Option<Vec<PathBuf>> {
    let corpora = crate::util::corpora()?;
    let mut out = Vec::new();
    for dir in ["exim-real", "postfix-real", "lightmeter", "crowdsec-hub"] {
        out.extend(crate::util::files_under(&corpora.join(dir)));
    }
    out.sort();
    Some(out)
}

#[test]
fn corpus_reports_and_events_validate() {
    let Some(logs) = corpus_logs() else { return };
    let (report, events) = (validator("report"), validator("events"));
    let (mut reports, mut lines) = (0, 0);
    for log in &logs {
        let log = log.to_string_lossy();
        let out = mailtrace()
            .args(["report", "--format", "json", "--top", "0", &log])
            .output()
            .unwrap();
        // Nothing to analyse (status 2, no report) happens on some fragments.
        if !out.stdout.is_empty() {
            let value: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_valid(&report, &value, &log);
            reports += 1;
        }
        let out = mailtrace().args(["events", &log]).output().unwrap();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let value: Value = serde_json::from_str(line).unwrap();
            assert_valid(&events, &value, &format!("{log}: {line}"));
            lines += 1;
        }
    }
    assert!(
        reports > logs.len() / 2,
        "{reports} reports of {}",
        logs.len()
    );
    assert!(lines > 10_000, "only {lines} events");
}
