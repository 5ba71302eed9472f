//! Offender diagnosis: each fixture in `fixtures/diagnose/` runs through the real binary and
//! must produce exactly its verdicts, with evidence that states figures and thresholds.

use serde_json::Value;

use crate::util;

/// (subject, subject_kind, verdict)
type Expected = (&'static str, &'static str, &'static str);

fn diagnoses(fixture: &str, extra: &[&str]) -> Vec<Value> {
    let out = util::mailtrace()
        .args(["report", "--format", "json", "--year", "2026"])
        .args(extra)
        .arg(format!("fixtures/diagnose/{fixture}"))
        .output()
        .expect("run mailtrace");
    // 1: the report found problems.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{fixture}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(
        v["unrecognised_lines"], 0,
        "{fixture} has unrecognised lines"
    );
    v["diagnoses"].as_array().expect("diagnoses").clone()
}

fn check(fixture: &str, expected: &[Expected]) -> Vec<Value> {
    let d = diagnoses(fixture, &[]);
    let mut got: Vec<(String, String, String)> = d
        .iter()
        .map(|x| {
            (
                x["subject"].as_str().unwrap().to_string(),
                x["subject_kind"].as_str().unwrap().to_string(),
                x["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    want.sort();
    assert_eq!(got, want, "{fixture}");
    for x in &d {
        let ev: Vec<&str> = x["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        assert!(ev.len() >= 3, "{fixture}: thin evidence {ev:?}");
        assert!(
            ev.iter().filter(|e| e.contains("threshold")).count() >= 2,
            "{fixture}: evidence must state thresholds: {ev:?}"
        );
        assert!(
            ev.iter().any(|e| e.starts_with("Example error")),
            "{fixture}: evidence must quote an error: {ev:?}"
        );
        let c = x["confidence"].as_f64().unwrap();
        assert!(c > 0.0 && c <= 1.0, "{fixture}: confidence {c}");
        assert!(!x["advice"].as_str().unwrap().is_empty());
    }
    d
}

fn evidence(d: &Value) -> String {
    d["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn compromised_account_postfix() {
    let d = check(
        "compromised_account.log",
        &[("info@example.org", "account", "compromised_account")],
    );
    let ev = evidence(&d[0]);
    assert!(ev.contains("Volume jump: 80 recipients"), "{ev}");
    // Its clients came from seven networks (IPv4 /24s and IPv6 /48s).
    assert!(ev.contains("7 distinct client networks"), "{ev}");
    assert!(ev.contains("Password attack"), "{ev}");
    let advice = d[0]["advice"].as_str().unwrap();
    assert!(advice.contains("postsuper -d"), "{advice}");
    assert!(advice.contains("info@example.org"), "{advice}");
}

#[test]
fn unsolicited_mail() {
    let d = check(
        "unsolicited_mail.log",
        &[("promo@deals.example", "account", "unsolicited_mail")],
    );
    assert!(evidence(&d[0]).contains("refused as spam"));
}

#[test]
fn stale_list_on_cpanel_names_the_mailbox() {
    // The subject is the mailbox that logged in (A=), not the cPanel user (U=) owning the domain.
    let d = check(
        "stale_list.log",
        &[("news@shop.example", "account", "stale_list")],
    );
    let ev = evidence(&d[0]);
    assert!(ev.contains("Normal login pattern"), "{ev}");
    let advice = d[0]["advice"].as_str().unwrap();
    assert!(advice.contains("news@shop.example"), "{advice}");
    assert!(advice.contains("--suppression-list"), "{advice}");
}

#[test]
fn recipient_blocking() {
    let d = check(
        "recipient_blocking.log",
        &[("sales@acme.example", "account", "recipient_blocking")],
    );
    assert!(evidence(&d[0]).contains("partner.example"));
}

/// The report's findings.
fn findings(fixture: &str) -> Vec<Value> {
    let out = util::mailtrace()
        .args(["report", "--format", "json", "--year", "2026"])
        .arg(format!("fixtures/diagnose/{fixture}"))
        .output()
        .expect("run mailtrace");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    v["findings"].as_array().expect("findings").clone()
}

#[test]
fn sender_blocklisted_postfix_web_application() {
    // firm.example's refusals name our IP, as alerts@monitor.example's one does: the
    // server's listing, one server finding naming both senders, and no verdict of the
    // sender's own (its failures are all the server's).
    check("sender_blocklisted.log", &[]);
    let f = findings("sender_blocklisted.log");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["kind"], "server");
    assert_eq!(f[0]["subject"], "192.0.2.10");
    assert_eq!(f[0]["verdict"], "server_blocklisted");
    let senders: Vec<&str> = f[0]["senders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_str().unwrap())
        .collect();
    assert_eq!(senders, ["firm.example", "monitor.example"]);
    assert!(f[0].to_string().contains("zen.spamhaus.org"), "{}", f[0]);
}

#[test]
fn remote_server_trouble() {
    // slowisp.example times out for lawfirm.example and bakery.example alike: one
    // destination finding, and no sender verdict (the destination explains its failures).
    check("remote_server_trouble.log", &[]);
    let f = findings("remote_server_trouble.log");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0]["kind"], "destination");
    assert_eq!(f[0]["subject"], "slowisp.example");
    assert_eq!(f[0]["verdict"], "remote_server_trouble");
    assert_eq!(f[0]["senders"][0][0], "lawfirm.example");
}

#[test]
fn mixed_day_gives_each_offender_its_verdict_and_healthy_senders_none() {
    check(
        "mixed_day.log",
        &[
            ("mary@dentist.example", "account", "compromised_account"),
            ("newsletter@garden.example", "account", "stale_list"),
            ("accounts@builder.example", "account", "sender_blocklisted"),
            ("sales@acme.example", "account", "recipient_blocking"),
            ("office@lawfirm.example", "account", "remote_server_trouble"),
            ("promo@deals.example", "account", "unsolicited_mail"),
        ],
    );
}

#[test]
fn thresholds_are_flags_and_echoed() {
    // A stricter --min-failures silences the smaller offenders of the mixed day. Accounts come
    // by failure lines, most first; lawfirm's 10 "retry time not reached" lines are no
    // failure lines (no attempt was made), so it comes after promo.
    let d = diagnoses("mixed_day.log", &["--min-failures", "20"]);
    let subjects: Vec<&str> = d.iter().map(|x| x["subject"].as_str().unwrap()).collect();
    assert_eq!(
        subjects,
        [
            "mary@dentist.example",
            "promo@deals.example",
            "office@lawfirm.example"
        ]
    );
    let out = util::mailtrace()
        .args([
            "report",
            "--format",
            "json",
            "--year",
            "2026",
            "--many-ips",
            "9",
        ])
        .arg("fixtures/diagnose/compromised_account.log")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["settings"]["thresholds"]["many_ips"], 9);
    let ev = evidence(&v["diagnoses"][0]);
    assert!(
        ev.contains("threshold 9)") || ev.contains("thresholds 9 and"),
        "{ev}"
    );
}

#[test]
fn text_report_reads_like_a_ticket() {
    let out = util::mailtrace()
        .args(["report", "--year", "2026"])
        .arg("fixtures/diagnose/recipient_blocking.log")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("1. [CHECK] sales@acme.example: recipient blocking the sender"),
        "{text}"
    );
    assert!(text.contains("What to do: partner.example refuses mail from sales@acme.example"));
    assert!(text.contains("sales@acme.example (account): recipient blocking the sender"));
    assert!(text.contains("sales@acme.example: partner.example refuses mail"));
}

#[test]
fn the_same_log_gives_the_same_words() {
    let run = || {
        util::mailtrace()
            .args(["report", "--year", "2026"])
            .arg("fixtures/diagnose/mixed_day.log")
            .output()
            .unwrap()
            .stdout
    };
    let first = run();
    for _ in 0..3 {
        assert!(run() == first, "the report changed between runs");
    }
}
