//! Findings (issue 8): the report's answer, judged against ground truth. The showcase fixture
//! names the block, the account and the dead addresses first; generated shared-server days
//! give each kind of finding (account, sender domain, server, destination) for the problems
//! planted in them, at most one false finding, and a healthy busy day gives none.
//! `benches/findings_eval.sh` measures the same on full-size days.

use std::io::Write;

use mailtrace_synth::{DayConfig, DayTruth, Mta, generate_day};
use serde_json::Value;

use crate::util::mailtrace;

fn report(args: &[&str], file: &std::path::Path) -> Value {
    let out = mailtrace()
        .args(["report", "--format", "json", "--year", "2026"])
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_blocked_domain_is_the_first_finding_with_its_account_dead_addresses_and_lost_mail() {
    let r = report(
        &[],
        &crate::util::root().join("fixtures/exim/cpanel_domain_blocked.log"),
    );
    let f = &r["findings"][0];
    assert_eq!(f["verdict"], "sending_limit", "{f:#}");
    assert_eq!(f["kind"], "sender_domain");
    assert_eq!(f["subject"], "shop.example");
    assert_eq!(f["severity"], "act_now");
    assert_eq!(
        f["harm"]["discarded"], 3,
        "three messages refused after the block"
    );
    let summary = f["summary"].as_str().unwrap();
    for must in [
        "info@shop.example",
        "j.dalton1987@gmail.com",
        "kate_w_smith@yahoo.com",
        "old.mailbox@outlook.com",
        "user_unknown 3",
        "greylisted 2",
        "3 messages",
        "15:00",
    ] {
        assert!(summary.contains(must), "{must:?} missing from: {summary}");
    }
    // The consequence does not hide the cause: the greylisted recipients keep their reply.
    let rows = r["failed_recipients"].as_array().unwrap();
    let billing = rows
        .iter()
        .find(|x| x["recipient"] == "billing@mail.example.net")
        .unwrap();
    assert_eq!(billing["cause"], "greylisted", "{billing:#}");
    // The text report opens with it.
    let out = mailtrace()
        .args([
            "report",
            "--year",
            "2026",
            "fixtures/exim/cpanel_domain_blocked.log",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let findings = text.find("Findings").unwrap();
    assert!(findings < text.find("Summary").unwrap());
    assert!(text.contains("1. [ACT NOW] shop.example: blocked by cPanel's hourly limit"));
}

fn day(mta: Mta, cpanel: bool, seed: u64, healthy: bool) -> (tempfile::NamedTempFile, DayTruth) {
    let mut cfg = DayConfig::new(mta);
    cfg.cpanel = cpanel;
    cfg.seed = seed;
    cfg.hours = 6;
    cfg.lines = 80_000;
    cfg.accounts = 120;
    cfg.domains = 40;
    if healthy {
        cfg = cfg.healthy();
    }
    let mut f = tempfile::NamedTempFile::new().unwrap();
    let truth = {
        let mut w = std::io::BufWriter::new(f.as_file_mut());
        let t = generate_day(&cfg, &mut w).unwrap();
        w.flush().unwrap();
        t
    };
    (f, truth)
}

/// (kind, subject, verdict, confidence) of a finding.
type Row = (String, String, String, String);

/// (kind, subject, verdict, confidence) of every finding.
fn findings(r: &Value) -> Vec<Row> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_ascii_lowercase();
            (s("kind"), s("subject"), s("verdict"), s("confidence"))
        })
        .collect()
}

/// The planted scenarios found (by id) and the findings that match nothing planted.
fn score(t: &DayTruth, r: &Value) -> (Vec<String>, Vec<Row>) {
    let fs = findings(r);
    let found: Vec<String> = t
        .scenarios
        .iter()
        .filter(|s| {
            fs.iter().any(|(k, subj, v, _)| {
                v == s.verdict && s.accept.iter().any(|a| a.kind == k && &a.subject == subj)
            })
        })
        .map(|s| s.id.clone())
        .collect();
    let false_findings = fs
        .into_iter()
        .filter(|(k, subj, v, _)| {
            let planted = t.scenarios.iter().any(|s| {
                v == s.verdict && s.accept.iter().any(|a| a.kind == k && &a.subject == subj)
            });
            let incidental = t
                .incidental
                .iter()
                .any(|i| i.kind == k && i.subject == *subj && i.verdict == v);
            !planted && !incidental
        })
        .collect();
    (found, false_findings)
}

#[test]
fn a_cpanel_day_gives_server_destination_account_and_domain_findings() {
    let (f, t) = day(Mta::Exim, true, 11, false);
    let r = report(&["--top", "0"], f.path());
    let (found, false_findings) = score(&t, &r);
    for want in [
        "server-blocklisted-1",
        "partner-down-1",
        "compromised-1",
        "stale-list-1",
        "unsolicited-1",
        "recipient-blocking-1",
    ] {
        assert!(
            found.contains(&want.to_string()),
            "{want} not found: {found:?}"
        );
    }
    let fs = findings(&r);
    let kinds: Vec<&str> = fs.iter().map(|f| f.0.as_str()).collect();
    for k in ["server", "destination", "account", "sender_domain"] {
        assert!(kinds.contains(&k), "no {k} finding: {fs:?}");
    }
    // The planted compromise, said with confidence.
    let victim = t
        .scenarios
        .iter()
        .find(|s| s.id == "compromised-1")
        .unwrap();
    assert!(fs.iter().any(|(k, s, v, c)| k == "account"
        && v == "compromised_account"
        && c == "high"
        && victim.accept.iter().any(|a| &a.subject == s)));
    // The spray tripped cPanel's limit: a sending_limit finding for the victim's domain.
    assert!(
        fs.iter()
            .any(|(k, _, v, _)| k == "sender_domain" && v == "sending_limit")
    );
    assert!(
        false_findings.len() <= 1,
        "false findings: {false_findings:?}"
    );
    assert!(
        !false_findings
            .iter()
            .any(|(_, _, v, c)| v == "compromised_account" && c == "high"),
        "{false_findings:?}"
    );
}

#[test]
fn a_postfix_day_finds_every_planted_problem_with_at_most_one_false_finding() {
    let (f, t) = day(Mta::Postfix, false, 12, false);
    let r = report(&["--top", "0"], f.path());
    let (found, false_findings) = score(&t, &r);
    assert_eq!(
        found.len(),
        t.scenarios.len(),
        "found only {found:?} of {:?}",
        t.scenarios.iter().map(|s| &s.id).collect::<Vec<_>>()
    );
    assert!(
        false_findings.len() <= 1,
        "false findings: {false_findings:?}"
    );
}

#[test]
fn a_healthy_busy_day_has_no_finding() {
    for (mta, cpanel, seed) in [(Mta::Exim, true, 13), (Mta::Postfix, false, 14)] {
        let (f, t) = day(mta, cpanel, seed, true);
        assert!(t.scenarios.is_empty());
        let r = report(&["--top", "0"], f.path());
        assert_eq!(
            findings(&r),
            vec![],
            "{mta:?}: a healthy day has nothing to act on"
        );
        let out = mailtrace()
            .args(["report", "--year", "2026"])
            .arg(f.path())
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Nothing to act on"), "{text}");
    }
}
