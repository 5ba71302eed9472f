//! `--format json` cuts its long lists to `--top` and says what it cut (`lists_cut`);
//! `--format ndjson` streams the same report whole, one object per line.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::Value;

use crate::util::mailtrace;

/// A log of one sender whose mail to `n` distinct recipients at `n / 2` domains bounces.
fn many_failures(n: usize) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    for i in 0..n {
        let id = format!("1xW{:03}-{:06}-00", i % 1000, i);
        let t = format!("2026-11-26 1{}:{:02}:{:02}", i % 3, (i / 60) % 60, i % 60);
        writeln!(
            f,
            "{t} {id} <= news@shop.example H=(pc) [203.0.113.5] P=esmtpsa \
             A=dovecot_login:news@shop.example S=900 for u{i}@d{}.example",
            i / 2
        )
        .unwrap();
        writeln!(
            f,
            "{t} {id} ** u{i}@d{}.example R=dnslookup T=remote_smtp H=mx.d{}.example \
             [198.51.100.9]: SMTP error from remote mail server after RCPT TO:<u{i}@d{}.example>: \
             550 5.1.1 User unknown",
            i / 2,
            i / 2,
            i / 2
        )
        .unwrap();
        writeln!(f, "{t} {id} Completed").unwrap();
    }
    f
}

fn json(args: &[&str], log: &std::path::Path) -> Value {
    let out = mailtrace().args(args).arg(log).output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn json_lists_obey_top_and_say_what_was_cut() {
    let log = many_failures(60);
    let r = json(&["report", "--format", "json", "--top", "5"], log.path());
    assert_eq!(r["failed_recipients"].as_array().unwrap().len(), 5);
    let cut = &r["lists_cut"];
    assert_eq!(cut["failed_recipients"], 55, "{cut}");
    // The per-hour table keeps the rows of 5 recipient domains of 30.
    let domains: std::collections::BTreeSet<&str> = r["by_recipient_domain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["domain"].as_str().unwrap())
        .collect();
    assert_eq!(domains.len(), 5);
    assert_eq!(cut["by_recipient_domain"], 25, "{cut}");
    // --top 0 keeps everything and cuts nothing.
    let all = json(&["report", "--format", "json", "--top", "0"], log.path());
    assert_eq!(all["failed_recipients"].as_array().unwrap().len(), 60);
    assert!(
        all["lists_cut"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v == 0),
        "{}",
        all["lists_cut"]
    );
    // The totals do not depend on the cut.
    assert_eq!(r["totals"], all["totals"]);
}

#[test]
fn ndjson_streams_every_entry_of_the_whole_report() {
    let log = many_failures(60);
    let out = mailtrace()
        .args(["report", "--format", "ndjson", "--top", "5"])
        .arg(log.path())
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["list"], "report");
    assert_eq!(lines[0]["version"], 1);
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for l in &lines[1..] {
        *count
            .entry(l["list"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    // Whole: the JSON document of --top 0 has as many entries.
    let all = json(&["report", "--format", "json", "--top", "0"], log.path());
    for list in [
        "failed_recipients",
        "by_recipient_domain",
        "by_sender",
        "own_domains",
    ] {
        assert_eq!(
            count.get(list).copied().unwrap_or(0),
            all[list].as_array().unwrap().len(),
            "{list}"
        );
    }
    let rcpt = lines
        .iter()
        .find(|l| l["list"] == "failed_recipients")
        .unwrap();
    assert_eq!(rcpt["cause"], "user_unknown");
    assert_eq!(lines[0]["totals"], all["totals"]);
}

#[test]
fn json_keeps_every_headline_limit_row_and_cuts_the_lower_replays() {
    let log = crate::util::root().join("fixtures/exim/cpanel_domain_blocked.log");
    let all = json(&["report", "--format", "json", "--top", "0"], &log);
    let cut = json(&["report", "--format", "json", "--top", "1"], &log);
    let headline = |l: &Value| {
        l["source"] == "log" || l["tripped_at"].is_null() || l["threshold_percent"] == 100
    };
    let rows = |r: &Value| r["limits"].as_array().unwrap().clone();
    let (all_rows, cut_rows) = (rows(&all), rows(&cut));
    let others = all_rows.iter().filter(|l| !headline(l)).count();
    assert!(
        others >= 2,
        "the fixture replays at lower percentages: {all_rows:?}"
    );
    let kept_headline: Vec<&Value> = cut_rows.iter().filter(|l| headline(l)).collect();
    let all_headline: Vec<&Value> = all_rows.iter().filter(|l| headline(l)).collect();
    assert_eq!(kept_headline, all_headline);
    assert_eq!(cut_rows.len(), all_headline.len() + 1);
    assert_eq!(cut["lists_cut"]["limits"], (others - 1) as u64);
}
