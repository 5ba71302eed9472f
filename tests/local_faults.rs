//! Local faults behind all deferrals (issue 9): when every destination defers at once the
//! fault is this server's — one server finding (relay host down, resolver failing, outbound
//! port 25 blocked), not a destination finding per recipient domain, and no address lands
//! on the suppression list.

use std::io::Write;

use serde_json::Value;

use crate::util::mailtrace;

/// A Postfix log: 3 accounts each send to 12 domains; every delivery defers with `reply`
/// (`{d}` is the recipient domain) through `relay` (`{d}` too).
fn log(relay: &str, reply: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    let mut n = 0;
    for s in 0..3 {
        for d in 0..12 {
            for attempt in 0..2 {
                n += 1;
                let id = format!("A{n:09X}");
                let dom = format!("dest{d}.example");
                let (m, sec) = (n / 60, n % 60);
                let t = format!("Nov 26 10:{m:02}:{sec:02}");
                let relay = relay.replace("{d}", &dom);
                let reply = reply.replace("{d}", &dom);
                writeln!(
                    f,
                    "{t} mx1 postfix/submission/smtpd[2001]: {id}: client=unknown[203.0.113.{s}], sasl_method=PLAIN, sasl_username=user{s}@shop{s}.example"
                )
                .unwrap();
                writeln!(
                    f,
                    "{t} mx1 postfix/qmgr[1001]: {id}: from=<user{s}@shop{s}.example>, size=1200, nrcpt=1 (queue active)"
                )
                .unwrap();
                writeln!(
                    f,
                    "{t} mx1 postfix/smtp[3001]: {id}: to=<person{attempt}@{dom}>, relay={relay}, delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred ({reply})"
                )
                .unwrap();
            }
        }
    }
    f
}

fn findings(f: &tempfile::NamedTempFile) -> Value {
    let out = mailtrace()
        .args(["report", "--format", "json", "--top", "0", "--year", "2026"])
        .arg(f.path())
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0) | Some(1)));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn one_server_finding(r: &Value, verdict: &str) {
    let fs = r["findings"].as_array().unwrap();
    let server: Vec<&Value> = fs.iter().filter(|f| f["kind"] == "server").collect();
    assert_eq!(server.len(), 1, "{fs:#?}");
    assert_eq!(server[0]["verdict"], verdict, "{:#}", server[0]);
    assert_eq!(server[0]["harm"]["failing_recipients"], 72);
    assert!(
        !fs.iter().any(|f| f["kind"] == "destination"),
        "no destination is blamed: {fs:#?}"
    );
    assert!(
        !fs.iter().any(|f| f["verdict"] == "remote_server_trouble"),
        "{fs:#?}"
    );
}

#[test]
fn every_destination_timing_out_is_outbound_port_25_blocked() {
    let f = log(
        "none",
        "connect to mx.{d}[198.51.100.9]:25: Connection timed out",
    );
    one_server_finding(&findings(&f), "port25_blocked");
}

#[test]
fn every_delivery_failing_at_the_smarthost_is_the_relay_host_down() {
    let f = log(
        "smarthost.example.net[192.0.2.50]:587",
        "connect to smarthost.example.net[192.0.2.50]:587: Connection refused",
    );
    let r = findings(&f);
    one_server_finding(&r, "relayhost_down");
    let s = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "server")
        .unwrap();
    assert_eq!(s["subject"], "smarthost.example.net", "{s:#}");
}

#[test]
fn mx_lookups_failing_everywhere_are_the_resolver_not_invalid_domains() {
    let f = log(
        "none",
        "Host or domain name not found. Name service error for name={d} type=MX: Host not found, try again",
    );
    let r = findings(&f);
    one_server_finding(&r, "resolver_failing");
    // A temporary DNS failure never makes an address invalid.
    let rows = r["failed_recipients"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|x| x["cause"] != "domain_invalid"),
        "{rows:#?}"
    );
}

#[test]
fn one_destination_down_is_a_destination_finding_not_a_local_fault() {
    // Three senders' mail to one domain times out for two hours; the other eleven domains
    // accept it.
    let mut f = tempfile::NamedTempFile::new().unwrap();
    let mut n = 0;
    // Two hours of it: an outage, not the odd timeout.
    for (s, hour) in (0..3).flat_map(|s| [(s, 10), (s, 11)]) {
        for d in 0..12 {
            n += 1;
            let id = format!("B{n:09X}");
            let dom = format!("dest{d}.example");
            let t = format!("Nov 26 {hour}:{:02}:{:02}", n % 60, n % 59);
            writeln!(f, "{t} mx1 postfix/submission/smtpd[2001]: {id}: client=unknown[203.0.113.{s}], sasl_method=PLAIN, sasl_username=user{s}@shop{s}.example").unwrap();
            writeln!(f, "{t} mx1 postfix/qmgr[1001]: {id}: from=<user{s}@shop{s}.example>, size=1200, nrcpt=4 (queue active)").unwrap();
            for p in 0..4 {
                if d == 0 {
                    writeln!(f, "{t} mx1 postfix/smtp[3001]: {id}: to=<p{p}@{dom}>, relay=none, delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to mx.{dom}[198.51.100.9]:25: Connection timed out)").unwrap();
                } else {
                    writeln!(f, "{t} mx1 postfix/smtp[3001]: {id}: to=<p{p}@{dom}>, relay=mx.{dom}[198.51.100.{d}]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as X{n})").unwrap();
                }
            }
        }
    }
    let r = findings(&f);
    let fs = r["findings"].as_array().unwrap();
    assert!(
        fs.iter().any(|x| x["kind"] == "destination"
            && x["subject"] == "dest0.example"
            && x["verdict"] == "remote_server_trouble"),
        "{fs:#?}"
    );
    assert!(!fs.iter().any(|x| x["kind"] == "server"), "{fs:#?}");
}
