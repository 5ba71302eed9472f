//! End-to-end tests of `mailtrace report`: a generated realistic log whose known totals,
//! per-hour and per-sender-domain counts and cPanel trips the report must reproduce exactly;
//! exit statuses; bad input.

use std::collections::BTreeMap;
use std::io::Write;

use mailtrace_synth::{Mta, SynthConfig, Truth, generate};
use serde_json::Value;

use crate::util::mailtrace;

fn counts(v: &Value) -> [u64; 5] {
    ["delivered", "deferred", "bounced", "rejected", "expired"].map(|k| {
        v[k].as_u64()
            .unwrap_or_else(|| panic!("missing {k} in {v}"))
    })
}

fn truth_counts(c: &mailtrace_synth::Counts) -> [u64; 5] {
    [c.delivered, c.deferred, c.bounced, c.rejected, c.expired]
}

/// The truth's counts less what the report keeps apart (hand-offs to the content filter,
/// deferrals that made no attempt).
fn reported(c: &mailtrace_synth::Counts, apart: Option<&mailtrace_synth::Counts>) -> [u64; 5] {
    let mut x = truth_counts(c);
    if let Some(a) = apart {
        x[0] -= a.delivered;
        x[1] -= a.deferred;
    }
    x
}

fn generated(mta: Mta, cpanel: bool, messages: u64, seed: u64) -> (tempfile::NamedTempFile, Truth) {
    let mut cfg = SynthConfig::new(mta);
    cfg.messages = messages;
    cfg.seed = seed;
    cfg.cpanel = cpanel;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    let truth = {
        let mut w = std::io::BufWriter::new(f.as_file_mut());
        let t = generate(&cfg, &mut w).unwrap();
        w.flush().unwrap();
        t
    };
    (f, truth)
}

fn report_json(path: &std::path::Path, extra: &[&str]) -> Value {
    let out = mailtrace()
        .args(["report", "--format", "json", "--top", "0", "--year", "2026"])
        .args(extra)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn check_against_truth(mta: Mta, cpanel: bool, seed: u64) {
    let (file, truth) = generated(mta, cpanel, 2500, seed);
    let r = report_json(file.path(), &["--limit-percent", "100"]);
    assert_eq!(r["version"], 1);
    assert_eq!(r["unrecognised_lines"], 0, "generated lines must all parse");
    let apart = &truth.apart;
    assert_eq!(
        counts(&r["totals"]),
        reported(&truth.totals, Some(&apart.totals)),
        "totals"
    );
    assert_eq!(
        r["totals"]["not_attempted"], apart.totals.deferred,
        "queued, not attempted"
    );
    assert_eq!(
        r["totals"]["handed_off"], apart.totals.delivered,
        "hand-offs to the content filter"
    );

    let by_hour: BTreeMap<String, [u64; 5]> = r["by_hour"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["hour"].as_str().unwrap().to_string(), counts(h)))
        .collect();
    let want: BTreeMap<String, [u64; 5]> = truth
        .by_hour
        .iter()
        .map(|(h, c)| (h.clone(), reported(c, apart.by_hour.get(h))))
        .filter(|(_, c)| *c != [0; 5])
        .collect();
    assert_eq!(by_hour, want, "by_hour");

    let by_domain: BTreeMap<(String, String), [u64; 5]> = r["by_sender_domain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                (
                    x["domain"].as_str().unwrap().to_string(),
                    x["hour"].as_str().unwrap().to_string(),
                ),
                counts(x),
            )
        })
        .collect();
    let want: BTreeMap<(String, String), [u64; 5]> = truth
        .by_sender_domain_hour
        .iter()
        .map(|(k, c)| (k.clone(), reported(c, apart.by_sender_domain_hour.get(k))))
        .filter(|(_, c)| *c != [0; 5])
        .collect();
    for (k, c) in &want {
        assert_eq!(by_domain.get(k), Some(c), "by_sender_domain {k:?}");
    }
    for (k, c) in &by_domain {
        assert_eq!(
            want.get(k),
            Some(c),
            "by_sender_domain {k:?} is not in the truth"
        );
    }

    let limits = r["limits"].as_array().unwrap();
    if cpanel {
        assert!(!truth.trips.is_empty(), "the generator must trip the limit");
    }
    for trip in &truth.trips {
        let hour = &trip.hour;
        let replay = limits
            .iter()
            .find(|l| {
                l["source"] == "replay"
                    && l["domain"] == trip.domain.as_str()
                    && l["hour"] == hour.as_str()
                    && l["threshold_percent"] == 100
            })
            .unwrap_or_else(|| panic!("no replayed trip for {trip:?}"));
        assert_eq!(replay["tripped_at"], trip.condition_at.as_str(), "{trip:?}");
        assert_eq!(replay["count"], trip.count, "{trip:?}");
        if let Some(at) = &trip.tripped_at {
            let log = limits
                .iter()
                .find(|l| {
                    l["source"] == "log"
                        && l["domain"] == trip.domain.as_str()
                        && l["hour"] == hour.as_str()
                })
                .unwrap_or_else(|| panic!("no logged trip for {trip:?}"));
            assert_eq!(log["tripped_at"], at.as_str(), "{trip:?}");
            assert_eq!(log["count"], trip.count, "{trip:?}");
            assert_eq!(
                log["percent"].as_f64(),
                Some(trip.percent as f64),
                "{trip:?}"
            );
            assert_eq!(log["lines"], trip.discarded, "{trip:?}");
        }
    }
    // With cPanel's limit in force, every replayed 100% trip of a hosted domain is one the
    // generator made.
    for l in limits.iter().filter(|l| {
        cpanel
            && l["source"] == "replay"
            && l["threshold_percent"] == 100
            && !l["tripped_at"].is_null()
    }) {
        let d = l["domain"].as_str().unwrap();
        if truth.local_domains.iter().any(|x| x == d) {
            assert!(
                truth
                    .trips
                    .iter()
                    .any(|t| t.domain == d && l["hour"] == t.hour.as_str()),
                "replay tripped where the generator did not: {l}"
            );
        }
    }
}

#[test]
fn report_reproduces_a_generated_cpanel_exim_log() {
    check_against_truth(Mta::Exim, true, 7);
}

#[test]
fn report_reproduces_a_generated_exim_log() {
    check_against_truth(Mta::Exim, false, 11);
}

#[test]
fn report_reproduces_a_generated_postfix_log() {
    check_against_truth(Mta::Postfix, false, 3);
}

#[test]
fn quiet_report_prints_nothing_and_exits_0_on_a_healthy_log() {
    let out = mailtrace()
        .args([
            "report",
            "-q",
            "fixtures/postfix/deferred_then_sent.log",
            "--year",
            "2026",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn report_exits_1_when_a_domain_was_blocked() {
    let out = mailtrace()
        .args(["-q", "fixtures/exim/cpanel_domain_blocked.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("shop.example"), "{s}");
}

#[test]
fn missing_file_is_reported_and_exits_2_after_reading_the_rest() {
    let out = mailtrace()
        .args([
            "report",
            "--format",
            "json",
            "/nonexistent/mainlog",
            "fixtures/exim/bounce_user_unknown.log",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mailtrace: /nonexistent/mainlog: No such file"),
        "{err}"
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["totals"]["bounced"], 5);
}

#[test]
fn corrupt_gzip_reports_the_error_and_keeps_what_was_read() {
    let data =
        std::fs::read(crate::util::root().join("fixtures/exim/cpanel_domain_blocked.log.gz"))
            .unwrap();
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(&data[..data.len() * 2 / 3]).unwrap();
    let out = mailtrace()
        .args(["report", "--format", "json"])
        .arg(f.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line "), "{err}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["lines"].as_u64().unwrap() > 0);
    assert!(r["files"][0]["error"].is_string());
}

#[test]
fn binary_junk_and_long_lines_are_counted_not_fatal() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(b"2026-11-26 10:00:00 1tWx9Q-00000000Aq3-4kZ1 <= a@b.example H=x [192.0.2.1] P=esmtpa A=login:a@b.example S=1 for c@d.example\n").unwrap();
    f.write_all(&[0u8, 159, 146, 150, 0xff, b'\n']).unwrap();
    f.write_all(&vec![b'x'; 1 << 20]).unwrap();
    f.write_all(b"\n\x1b[2J\x1b]0;pwned\x07\n").unwrap();
    f.write_all(b"2026-11-26 10:00:01 1tWx9Q-00000000Aq3-4kZ1 ** c@d.example R=r T=t H=mx [192.0.2.2]: SMTP error from remote mail server after RCPT TO:<c@d.example>: 550 5.1.1 \x1b[31mno\n").unwrap();
    let out = mailtrace()
        .args(["report", "-v"])
        .arg(f.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    for s in [&text, &err] {
        assert!(!s.contains('\x1b'), "raw escape reached the terminal: {s}");
        assert!(!s.contains('\x07'));
    }
    assert!(
        err.contains("5 lines, 0 unrecognised, 3 malformed"),
        "{err}"
    );
    assert!(
        err.contains("invalid UTF-8") && err.contains("cut at 64 KiB"),
        "{err}"
    );
    assert!(text.contains("c@d.example"), "{text}");
}
