//! The text report's width and length (issue 8): at 80 and 100 columns no key value (a
//! limited or failing domain, a sender, a recipient, an MX host) is cut, `--width` below 40
//! is a usage error, and a busy generated day's report stays within 250 lines.

use std::collections::BTreeSet;
use std::io::Write;

use mailtrace_synth::{DayConfig, Mta, generate_day};
use serde_json::Value;

use crate::util::mailtrace;

const LONG_NAMES: &str = "fixtures/exim/long_names.log";

fn run(args: &[&str]) -> String {
    let out = mailtrace().args(args).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The key values of the JSON report that the text lists: limited domains, failing senders,
/// failing recipients and their senders, recipient domains and their MX hosts.
fn key_values(json: &Value) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut add = |v: &Value| {
        if let Some(s) = v.as_str().filter(|s| !s.is_empty()) {
            keys.insert(s.to_string());
        }
    };
    let list = |name: &str| json[name].as_array().cloned().unwrap_or_default();
    for l in list("limits") {
        add(&l["domain"]);
    }
    for s in list("failing_senders") {
        add(&s["name"]);
    }
    for f in list("failed_recipients") {
        add(&f["recipient"]);
        add(&f["sender"]);
    }
    for d in list("recipient_domains") {
        add(&d["domain"]);
        for h in d["hosts"].as_array().cloned().unwrap_or_default() {
            add(&h[0]);
        }
    }
    keys
}

#[test]
fn no_key_value_is_cut_at_80_or_100_columns() {
    let json: Value = serde_json::from_str(&run(&[
        "report", "--format", "json", "--top", "0", LONG_NAMES,
    ]))
    .unwrap();
    let keys = key_values(&json);
    assert!(
        keys.iter().any(|k| k.len() >= 60) && keys.len() >= 15,
        "the fixture has long keys: {keys:?}"
    );
    for width in ["80", "100"] {
        let text = run(&["report", "--width", width, "--top", "0", LONG_NAMES]);
        let w: usize = width.parse().unwrap();
        for line in text.lines() {
            assert!(line.chars().count() <= w, "wider than {w}: {line}");
        }
        for k in &keys {
            assert!(
                text.lines().any(|l| l.contains(k.as_str())),
                "{k} is not whole on a line at {width} columns:\n{text}"
            );
        }
        assert!(!text.contains("…@"), "an address cut at {width} columns");
    }
}

#[test]
fn width_below_40_is_a_usage_error() {
    for w in ["0", "39"] {
        let out = mailtrace()
            .args(["report", "--width", w, LONG_NAMES])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--width {w}");
    }
    let out = mailtrace()
        .args(["trace", "--width", "0", "x@example.com", LONG_NAMES])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn trace_wraps_the_whole_reply_to_the_width() {
    let text = run(&[
        "trace",
        "--width",
        "60",
        "jonathan.dalton.weddingplanner1987@gmail.com",
        LONG_NAMES,
    ]);
    let verdict: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("  -> jonathan"))
        .take_while(|l| !l.is_empty() && !l.starts_with("  -> katherine"))
        .collect();
    assert!(verdict.len() > 2, "{text}");
    assert!(verdict.iter().all(|l| l.chars().count() <= 60), "{text}");
    assert!(verdict.join(" ").contains("NoSuchUser"), "{text}");
}

#[test]
fn a_busy_days_text_report_stays_within_250_lines() {
    for (mta, cpanel, seed) in [(Mta::Exim, true, 11), (Mta::Postfix, false, 12)] {
        let mut cfg = DayConfig::new(mta);
        cfg.cpanel = cpanel;
        cfg.seed = seed;
        cfg.hours = 6;
        cfg.lines = 60_000;
        cfg.accounts = 120;
        cfg.domains = 40;
        let mut f = tempfile::NamedTempFile::new().unwrap();
        {
            let mut w = std::io::BufWriter::new(f.as_file_mut());
            generate_day(&cfg, &mut w).unwrap();
            w.flush().unwrap();
        }
        let path = f.path().to_str().unwrap().to_string();
        let text = run(&["report", "--year", "2026", &path]);
        let lines = text.lines().count();
        assert!(lines <= 250, "{mta:?} day: {lines} lines:\n{text}");
        // --top 0 keeps every finding and failing recipient.
        let all = run(&["report", "--year", "2026", "--top", "0", &path]);
        assert!(all.lines().count() > lines);
    }
}
