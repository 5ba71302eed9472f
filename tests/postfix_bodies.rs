//! Postfix message bodies from other projects' parser tests (`$MAILTRACE_CORPORA`):
//! `postfix-grok-patterns/messages.jsonl` (Logstash grok tests) and
//! `sekoia-intake-formats/postfix-tests.jsonl` (SEKOIA.IO intake tests). Every Postfix body
//! must be understood, and the fields those projects expect must agree with the event:
//! queue ID, client/relay host and IP, status, reply code, addresses, linked IDs.

use std::path::Path;

use chrono::NaiveDate;
use mailtrace::model::event::{Event, Kind, Timestamp};
use mailtrace::parse::postfix;
use serde_json::Value;

use crate::util;

fn ts() -> Timestamp {
    Timestamp::new(
        NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
        None,
    )
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn kind_of_status(status: &str) -> Kind {
    match status {
        "sent" => Kind::Delivered,
        "deferred" => Kind::Deferred,
        "bounced" => Kind::Bounced,
        "expired" => Kind::Expired,
        _ => Kind::Info,
    }
}

/// Compares one expected value with the event, collecting disagreements.
fn expect(problems: &mut Vec<String>, what: &str, msg: &str, got: Option<&str>, want: &str) {
    if got != Some(want) {
        problems.push(format!("{what}: got {got:?}, want {want:?} in {msg}"));
    }
}

#[test]
fn grok_pattern_bodies_parse_with_their_fields() {
    let Some(root) = util::corpora() else { return };
    let mut problems = Vec::new();
    let mut checked = 0;
    for v in jsonl(&root.join("postfix-grok-patterns/messages.jsonl")) {
        let pattern = v["pattern"].as_str().unwrap();
        // Patterns for fragments of a line, not whole messages.
        if [
            "COMMAND_COUNTER_DATA",
            "POSTFIX_DELAYS",
            "POSTFIX_RELAY}",
            "TLS_FEATURES",
        ]
        .iter()
        .any(|p| pattern.contains(p))
        {
            continue;
        }
        let file = v["file"].as_str().unwrap();
        let stem = file.rsplit('/').next().unwrap().rsplit_once('_').unwrap().0;
        let service = match stem {
            "script" => "postfix-script".to_string(),
            "tls_features" => "smtp".to_string(),
            s => s.replace('_', "-"),
        };
        let program = format!("postfix/{service}");
        let msg = v["message"].as_str().unwrap();
        let Some(e) = postfix::parse(ts(), &program, msg) else {
            problems.push(format!("not understood ({file}): {msg}"));
            continue;
        };
        checked += 1;
        check_grok(&mut problems, &e, &v["results"], msg);
    }
    assert!(checked > 150, "only {checked} bodies checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn check_grok(problems: &mut Vec<String>, e: &Event<'_>, r: &Value, msg: &str) {
    let s = |k: &str| r.get(k).and_then(Value::as_str);
    if let Some(q) = s("postfix_queueid") {
        let want = (q != "NOQUEUE").then_some(q);
        if e.queue_id != want {
            problems.push(format!(
                "queue_id: got {:?}, want {want:?} in {msg}",
                e.queue_id
            ));
        }
    }
    if let Some(q) = s("postfix_bounce_queueid") {
        expect(problems, "related_id", msg, e.related_id, q);
    }
    if let Some(id) = s("postfix_message-id") {
        expect(problems, "message_id", msg, e.message_id, id);
    }
    for key in ["postfix_client_ip", "postfix_relay_ip"] {
        if let Some(ip) = s(key) {
            expect(problems, key, msg, e.ip, ip);
        }
    }
    for key in ["postfix_client_hostname", "postfix_relay_hostname"] {
        if let Some(host) = s(key) {
            expect(problems, key, msg, e.host, host);
        }
    }
    if let Some(from) = s("postfix_from") {
        expect(problems, "sender", msg, e.sender, from);
    }
    if let Some(st) = s("postfix_status")
        && e.kind != kind_of_status(st)
    {
        problems.push(format!("kind: got {:?} for status={st} in {msg}", e.kind));
    }
    if let Some(code) = r.get("postfix_status_code").and_then(Value::as_u64)
        && e.code != Some(code as u16)
    {
        problems.push(format!("code: got {:?}, want {code} in {msg}", e.code));
    }
    if let Some(st) = s("postfix_status_code_enhanced") {
        expect(problems, "status", msg, e.status, st);
    }
    if let Some(action) = s("postfix_action") {
        let want = match action {
            "reject" | "milter-reject" => Kind::Rejected,
            _ => Kind::Info,
        };
        if e.kind != want {
            problems.push(format!(
                "kind: got {:?} for action {action} in {msg}",
                e.kind
            ));
        }
    }
}

#[test]
fn sekoia_bodies_parse_with_their_fields() {
    let Some(root) = util::corpora() else { return };
    let mut problems = Vec::new();
    let mut checked = 0;
    for v in jsonl(&root.join("sekoia-intake-formats/postfix-tests.jsonl")) {
        // Bodies of other programs in the same test set (policyd-spf, spamd, postgrey).
        let program = match v["appname"].as_str() {
            None | Some("" | "-") => "postfix/smtp",
            Some(p) if p.starts_with("postfix") => p,
            Some(_) => continue,
        };
        let msg = v["message"].as_str().unwrap();
        let Some(e) = postfix::parse(ts(), program, msg) else {
            problems.push(format!("not understood: {msg}"));
            continue;
        };
        checked += 1;
        if let Some(action) = v["expected_action"].as_str()
            && matches!(action, "sent" | "deferred" | "bounced")
            && e.kind != kind_of_status(action)
        {
            problems.push(format!("kind: got {:?} for {action} in {msg}", e.kind));
        }
        let pf = &v["expected_postfix"];
        if let Some(local) = pf["queue_id"]["local"].as_str() {
            expect(&mut problems, "queue_id", msg, e.queue_id, local);
        }
        if let Some(remote) = pf["queue_id"]["remote"].as_str() {
            expect(&mut problems, "related_id", msg, e.related_id, remote);
        }
        if let Some(orig) = pf["orig_to"].as_str() {
            expect(&mut problems, "orig_to", msg, e.original_recipient, orig);
        }
        let mail = &v["expected_email"];
        if let Some(to) = mail["to"]["address"][0].as_str() {
            expect(&mut problems, "recipient", msg, e.recipient, to);
        }
        if let Some(id) = mail["message_id"].as_str() {
            expect(&mut problems, "message_id", msg, e.message_id, id);
        }
        // Only envelope senders: SEKOIA also takes `From:` out of header_checks lines.
        if let (Some(from), Some(_)) = (mail["from"]["address"][0].as_str(), e.sender) {
            expect(&mut problems, "sender", msg, e.sender, from);
        }
    }
    assert!(checked > 60, "only {checked} bodies checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
