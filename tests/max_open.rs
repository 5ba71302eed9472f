//! `--max-open`: a log with more never-completed queue IDs than the cap is read with at most
//! that many open messages; the report counts the messages folded early and says so.

use mailtrace_synth::AdvMode;

use crate::util::{adversarial_log, adversarial_report as report_json, mailtrace};

/// A log of `count` queue IDs that arrive, are deferred once and never complete.
fn open_ids(count: u64) -> tempfile::NamedTempFile {
    adversarial_log(AdvMode::OpenIds, count)
}

#[test]
fn report_folds_the_oldest_past_max_open_and_counts_them() {
    let log = open_ids(500);
    let (code, capped) = report_json(&log, &["--max-open", "10"]);
    let (default_code, whole) = report_json(&log, &[]);
    let folded = capped["totals"]["folded_early"].as_u64().unwrap();
    assert!(folded > 0, "folded_early {folded}");
    assert!(
        whole["totals"].get("folded_early").is_none(),
        "{}",
        whole["totals"]
    );
    // Every deferral is still counted once. A folded message's later lines no longer know
    // its sender, so the findings by sender (and with them status 1) may go; the run is
    // still a report, never an error.
    assert_eq!(capped["totals"]["deferred"], whole["totals"]["deferred"]);
    assert_eq!(default_code, Some(1));
    assert!(matches!(code, Some(0 | 1)), "{code:?}");
    let text = mailtrace()
        .args(["report", "--max-open", "10"])
        .arg(log.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Memory was capped"), "{text}");
    assert!(text.contains("Raise --max-open"), "{text}");
}

#[test]
fn trace_and_follow_take_max_open() {
    let log = open_ids(50);
    let out = mailtrace()
        .args(["trace", "--max-open", "5", "ext"])
        .arg(log.path())
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    let help = mailtrace().args(["follow", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("--max-open"));
}

/// Deliveries to a remote Postfix MX, whose reply names its own queue (`queued as`), each
/// message finished before the next begins.
fn remote_queued_as(messages: usize) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    for n in 0..messages {
        let (id, remote) = (
            format!("{:010X}", 0xA0000 + n),
            format!("{:010X}", 0xF0000 + n),
        );
        let t = format!("Nov 26 10:{:02}:{:02}", n / 60 % 60, n % 60);
        writeln!(
            f,
            "{t} mx1 postfix/qmgr[200]: {id}: from=<s{n}@shop.example>, size=900, nrcpt=1 (queue active)\n\
             {t} mx1 postfix/smtp[300]: {id}: to=<r{n}@x.example>, relay=mx.x.example[203.0.113.5]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {remote})\n\
             {t} mx1 postfix/qmgr[200]: {id}: removed"
        )
        .unwrap();
    }
    f
}

#[test]
fn a_remote_servers_queue_id_is_not_a_message_in_flight() {
    // Each message completes before the next begins: at most one is ever open, so a cap of
    // 2 folds nothing. Before, each remote `queued as` opened a message that never got a
    // line, and the cap folded them (and with them real messages) early.
    let log = remote_queued_as(50);
    let (_, report) = report_json(&log, &["--max-open", "2"]);
    let totals = &report["totals"];
    assert!(totals.get("folded_early").is_none(), "{totals}");
    assert_eq!(totals["delivered"], 50, "{totals}");
    assert_eq!(totals["messages"], 50, "{totals}");
}
