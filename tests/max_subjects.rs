//! `--max-subjects`: a log with more distinct authenticated sender domains than the cap keeps
//! at most that many of each kind one by one; the least active without failures are folded
//! into the totals, which stay whole, and the report says so.

use mailtrace_synth::AdvMode;
use serde_json::Value;

use crate::util::{adversarial_log, adversarial_report, mailtrace};

/// A log of `count` messages, each from its own authenticated sender domain.
fn auth_domains(count: u64) -> tempfile::NamedTempFile {
    adversarial_log(AdvMode::AuthDomains, count)
}

fn report_json(log: &tempfile::NamedTempFile, extra: &[&str]) -> Value {
    adversarial_report(log, extra).1
}

#[test]
fn report_folds_subjects_past_max_subjects_and_keeps_the_totals() {
    let log = auth_domains(600);
    let capped = report_json(&log, &["--top", "0", "--max-subjects", "50"]);
    let whole = report_json(&log, &["--top", "0"]);
    let t = &capped["totals"];
    for field in ["folded_sender_domains", "folded_accounts", "folded_senders"] {
        let n = t[field].as_u64().unwrap_or(0);
        assert!(n >= 500, "{field} {n}: {t}");
        assert!(whole["totals"].get(field).is_none(), "{}", whole["totals"]);
    }
    assert!(t.get("folded_with_failures").is_none(), "{t}");
    let mut a = capped["totals"].as_object().unwrap().clone();
    let mut b = whole["totals"].as_object().unwrap().clone();
    a.retain(|k, _| !k.starts_with("folded_"));
    b.retain(|k, _| !k.starts_with("folded_"));
    assert_eq!(a, b, "every total is the same with and without the cap");
    assert_eq!(capped["by_hour"], whole["by_hour"]);
    let rows = |v: &Value, table: &str| v[table].as_array().map_or(0, Vec::len);
    assert!(rows(&whole, "by_sender_domain") >= 600);
    assert!(rows(&capped, "by_sender_domain") <= 50);
    let text = mailtrace()
        .args(["report", "--max-subjects", "50"])
        .arg(log.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("Memory was capped"), "{text}");
    assert!(
        text.contains("with no failure were folded into the totals"),
        "{text}"
    );
    assert!(text.contains("Raise --max-subjects"), "{text}");
}
