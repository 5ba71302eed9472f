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
