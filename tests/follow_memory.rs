//! `mailtrace follow` keeps its state bounded (issue 14), through the real binary: with
//! small caps set through `MAILTRACE_FOLLOW_CAPS`, a log of many distinct authenticated
//! sender domains folds the least active ones, says so once on stderr and counts the folds
//! at exit, and a domain that tripped the limit is kept with its counters.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use crate::follow::{interrupt, json_lines, wait_exit};
use crate::util::mailtrace;

fn qid(i: u32) -> String {
    format!("1tWx9Q-{i:011}-4kZ1")
}

/// A message from `info@DOMAIN`, logged in as itself, delivered (or refused for good).
fn message(out: &mut String, i: u32, domain: &str, fail: bool) {
    let q = qid(i);
    out.push_str(&format!(
        "2026-11-26 14:05:11 {q} <= info@{domain} H=(pc) [203.0.113.77]:52144 P=esmtpsa A=dovecot_login:info@{domain} S=4312 for a{i}@gmail.com\n"
    ));
    if fail {
        out.push_str(&format!(
            "2026-11-26 14:05:12 {q} ** a{i}@gmail.com R=dkim_lookuphost T=dkim_remote_smtp H=gmail-smtp-in.l.google.com [192.0.2.1]: SMTP error from remote mail server after RCPT TO:<a{i}@gmail.com>: 550 5.1.1 The email account that you tried to reach does not exist.\n"
        ));
    } else {
        out.push_str(&format!(
            "2026-11-26 14:05:12 {q} => a{i}@gmail.com R=dkim_lookuphost T=dkim_remote_smtp H=gmail-smtp-in.l.google.com [192.0.2.1] C=\"250 2.0.0 OK\"\n"
        ));
    }
    out.push_str(&format!("2026-11-26 14:05:12 {q} Completed\n"));
}

#[test]
fn distinct_sender_domains_past_the_cap_are_folded_said_once_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("exim_mainlog");
    let mut data = String::new();
    for i in 0..5 {
        message(&mut data, i, "shop.example", true);
    }
    for i in 5..1005 {
        message(&mut data, i, &format!("d{i}.example"), false);
    }
    std::fs::write(&log, data).unwrap();
    let mut child = mailtrace()
        .env("MAILTRACE_FOLLOW_CAPS", "domains=16,accounts=16")
        .args(["follow", "--format", "json", "--from-start", "--poll"])
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = json_lines(child.stdout.take().unwrap());
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut said = Vec::new();
    for line in err.by_ref().map_while(Result::ok) {
        let done = line.starts_with("mailtrace: read ");
        said.push(line);
        if done {
            break;
        }
    }
    interrupt(&child);
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
    said.extend(err.map_while(Result::ok));
    let about = |what: &str| said.iter().filter(|l| l.contains(what)).count();
    assert_eq!(about("more than 16 sender domains"), 1, "{said:?}");
    assert_eq!(about("more than 16 sending accounts"), 1, "{said:?}");
    let capped: Vec<_> = said
        .iter()
        .filter(|l| l.starts_with("mailtrace: state capped to bound memory: "))
        .collect();
    assert_eq!(capped.len(), 1, "{said:?}");
    assert!(capped[0].contains(" sender domain folds"), "{said:?}");

    let records: Vec<serde_json::Value> = rx.iter().collect();
    let tripped = records
        .iter()
        .filter(|v| v["kind"] == "tripped" && v["subject"] == "shop.example")
        .count();
    assert_eq!(tripped, 1, "{records:?}");
    let summary = records
        .iter()
        .find(|v| v["type"] == "summary")
        .expect("a summary at exit");
    let domains = summary["domains"].as_array().unwrap();
    assert!(domains.len() <= 16, "{} domains held", domains.len());
    let shop = domains
        .iter()
        .find(|d| d["domain"] == "shop.example")
        .expect("the tripped domain is never folded");
    assert_eq!(shop["defer_fail"], 5);
    assert_eq!(shop["state"], "tripped");
}

#[test]
fn a_malformed_caps_variable_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("exim_mainlog");
    std::fs::write(&log, "").unwrap();
    let out = mailtrace()
        .env("MAILTRACE_FOLLOW_CAPS", "domains=0")
        .args(["follow", "--from-start", "--poll"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("MAILTRACE_FOLLOW_CAPS"), "{err}");
}
