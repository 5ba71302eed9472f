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
