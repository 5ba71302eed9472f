//! Golden tests: the exact output of each format on fixtures, with the environment pinned
//! (TZ=UTC, NO_COLOR, C locale, --year). Regenerate with `UPDATE_GOLDEN=1 cargo test golden`
//! and review the diff.

use std::path::PathBuf;

use crate::util::{mailtrace, root};

/// (golden file name, arguments)
const CASES: &[(&str, &[&str])] = &[
    (
        "cpanel_report.txt",
        &["report", "fixtures/exim/cpanel_domain_blocked.log"],
    ),
    (
        "cpanel_report.md",
        &[
            "report",
            "--format",
            "markdown",
            "fixtures/exim/cpanel_domain_blocked.log",
        ],
    ),
    (
        "cpanel_report.json",
        &[
            "report",
            "--format",
            "json",
            "fixtures/exim/cpanel_domain_blocked.log",
        ],
    ),
    (
        "cpanel_report.csv",
        &[
            "report",
            "--format",
            "csv",
            "fixtures/exim/cpanel_domain_blocked.log",
        ],
    ),
    (
        "cpanel_report_redacted.md",
        &[
            "report",
            "--redact",
            "--redact-key",
            "golden-test-key",
            "--format",
            "markdown",
            "fixtures/exim/cpanel_domain_blocked.log",
        ],
    ),
    (
        "postfix_bounce_report.txt",
        &[
            "report",
            "--year",
            "2026",
            "fixtures/postfix/bounce_user_unknown.log",
        ],
    ),
    (
        "postfix_bounce_report.md",
        &[
            "report",
            "--year",
            "2026",
            "--format",
            "markdown",
            "fixtures/postfix/bounce_user_unknown.log",
        ],
    ),
    (
        "postfix_bounce_report.json",
        &[
            "report",
            "--year",
            "2026",
            "--format",
            "json",
            "fixtures/postfix/bounce_user_unknown.log",
        ],
    ),
    (
        "postfix_bounce_report.csv",
        &[
            "report",
            "--year",
            "2026",
            "--format",
            "csv",
            "fixtures/postfix/bounce_user_unknown.log",
        ],
    ),
    (
        "postfix_rotated_report.txt",
        &[
            "report",
            "--year",
            "2026",
            "fixtures/postfix/rotated/mail.log",
            "fixtures/postfix/rotated/mail.log.1",
        ],
    ),
    (
        "long_names_report_80.txt",
        &["report", "--width", "80", "fixtures/exim/long_names.log"],
    ),
    (
        "long_names_report_100.txt",
        &["report", "--width", "100", "fixtures/exim/long_names.log"],
    ),
    (
        "exim_events.ndjson",
        &["events", "fixtures/exim/deferred_then_delivered.log"],
    ),
    (
        "postfix_events.ndjson",
        &[
            "events",
            "--year",
            "2026",
            "fixtures/postfix/content_filter_requeue.log",
        ],
    ),
    (
        "exim_trace.txt",
        &[
            "trace",
            "info@shop.example",
            "fixtures/exim/cpanel_domain_blocked.log",
        ],
    ),
    (
        "postfix_trace.txt",
        &[
            "trace",
            "--year",
            "2026",
            "example.com",
            "fixtures/postfix/bounce_user_unknown.log",
        ],
    ),
];

fn golden_path(name: &str) -> PathBuf {
    root().join("tests/golden").join(name)
}

#[test]
fn golden_outputs_match() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for (name, args) in CASES {
        let out = mailtrace().args(*args).output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{name}: exit {:?}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let got = String::from_utf8(out.stdout).unwrap();
        let path = golden_path(name);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
        if got != want {
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(got.lines().count().min(want.lines().count()));
            let (g, w) = (
                got.lines().nth(line).unwrap_or(""),
                want.lines().nth(line).unwrap_or(""),
            );
            let col = g
                .chars()
                .zip(w.chars())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            let around =
                |s: &str| -> String { s.chars().skip(col.saturating_sub(40)).take(120).collect() };
            failures.push(format!(
                "{name}: differs at line {}, column {}:\n  got:  …{}…\n  want: …{}…",
                line + 1,
                col + 1,
                around(g),
                around(w)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (UPDATE_GOLDEN=1 to accept):\n{}",
        failures.join("\n")
    );
}

#[test]
fn json_report_has_the_documented_fields() {
    let out = mailtrace()
        .args([
            "report",
            "--format",
            "json",
            "fixtures/exim/cpanel_domain_blocked.log",
        ])
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "version",
        "period",
        "totals",
        "findings",
        "findings_not_shown",
        "by_hour",
        "by_sender_domain",
        "by_account",
        "by_sender",
        "by_recipient_domain",
        "limits",
        "failed_recipients",
        "unrecognised_lines",
        "diagnoses",
        "local_relays",
        "own_domains",
        "backscatter",
    ] {
        assert!(r.get(key).is_some(), "missing {key}");
    }
    for key in [
        "messages",
        "delivered",
        "deferred",
        "bounced",
        "rejected",
        "expired",
        "not_attempted",
        "handed_off",
        "inbound_refused",
        "backscatter",
    ] {
        assert!(r["totals"][key].is_u64(), "totals.{key}");
    }
    let lim = &r["limits"][0];
    for key in [
        "domain",
        "hour",
        "kind",
        "count",
        "percent",
        "tripped_at",
        "source",
        "discarded",
    ] {
        assert!(lim.get(key).is_some(), "limits.{key}");
    }
    let f = &r["failed_recipients"][0];
    for key in [
        "recipient",
        "sender",
        "account",
        "outcome",
        "attempts",
        "code",
        "status",
        "text",
        "cause",
        "first",
        "last",
        "queue_ids",
    ] {
        assert!(f.get(key).is_some(), "failed_recipients.{key}");
    }
    assert_eq!(r["by_sender_domain"][0]["hour"].as_str().unwrap().len(), 13);
    assert!(r["by_account"][0]["account"].is_string());
    assert!(r["by_sender"][0]["sender"].is_string());
}

/// `trace` keeps unprinted lines in memory up to a budget and spools the rest to a temporary
/// file: with a budget of 0 every line goes through the file, and the output must not change.
#[test]
fn trace_output_is_the_same_when_every_line_is_spooled() {
    for (name, args) in CASES.iter().filter(|(_, a)| a[0] == "trace") {
        let want = std::fs::read_to_string(golden_path(name)).unwrap();
        let out = mailtrace()
            .env("MAILTRACE_TRACE_MEMORY", "0")
            .args(*args)
            .output()
            .unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{name}: {out:?}");
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            want,
            "{name} spooled"
        );
    }
    // A long line and many messages, spooled, against the in-memory run.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("many.log");
    let mut text = String::new();
    for i in 0..2000 {
        let id = format!("1xW{:03}-{:06}-00", i % 1000, i);
        text.push_str(&format!(
            "2026-11-26 10:{:02}:{:02} {id} <= s{i}@shop.example H=(pc) [203.0.113.5] P=esmtpsa \
             A=dovecot_login:s{i}@shop.example S=900 T=\"{}\" for r{i}@far.example\n",
            (i / 60) % 60,
            i % 60,
            "x".repeat(i % 700)
        ));
        text.push_str(&format!(
            "2026-11-26 10:{:02}:{:02} {id} ** r{i}@far.example R=dnslookup T=remote_smtp \
             H=mx.far.example [198.51.100.9]: SMTP error from remote mail server after RCPT \
             TO:<r{i}@far.example>: 550 5.1.1 User unknown\n",
            (i / 60) % 60,
            i % 60
        ));
        if i % 3 != 0 {
            text.push_str(&format!(
                "2026-11-26 10:{:02}:{:02} {id} Completed\n",
                (i / 60) % 60,
                i % 60
            ));
        }
    }
    std::fs::write(&log, text).unwrap();
    let run = |budget: Option<&str>| {
        let mut c = mailtrace();
        if let Some(b) = budget {
            c.env("MAILTRACE_TRACE_MEMORY", b);
        }
        let out = c.args(["trace", "far.example"]).arg(&log).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let memory = run(None);
    assert_eq!(
        memory.matches("\n== ").count() + 1,
        2000,
        "every message traced"
    );
    assert_eq!(run(Some("0")), memory);
    assert_eq!(run(Some("100000")), memory, "part in memory, part spooled");
}
