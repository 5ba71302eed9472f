//! A generated shared-server day (crates/synth day mode) read by `mailtrace report`: every
//! line parses, and the report reproduces the day's counts and cPanel trips exactly. (How
//! well the diagnosis finds the planted problems is measured by benches/findings_eval.sh,
//! not asserted here.)

use std::collections::BTreeMap;
use std::io::Write;

use mailtrace_synth::{DayConfig, DayTruth, Mta, generate_day};
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

/// A 4-hour day of about 40,000 lines with every scenario planted.
fn day(mta: Mta, cpanel: bool, seed: u64) -> (tempfile::NamedTempFile, DayTruth) {
    let mut cfg = DayConfig::new(mta);
    cfg.cpanel = cpanel;
    cfg.seed = seed;
    cfg.hours = 4;
    cfg.lines = 40_000;
    cfg.accounts = 100;
    cfg.domains = 35;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    let truth = {
        let mut w = std::io::BufWriter::new(f.as_file_mut());
        let t = generate_day(&cfg, &mut w).unwrap();
        w.flush().unwrap();
        t
    };
    (f, truth)
}

fn check(mta: Mta, cpanel: bool, seed: u64) {
    let (file, truth) = day(mta, cpanel, seed);
    let out = mailtrace()
        .args(["report", "--format", "json", "--top", "0", "--year", "2026"])
        .args(["--limit-percent", "100"])
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["unrecognised_lines"], 0, "generated lines must all parse");
    assert_eq!(r["malformed_lines"], 0);
    assert_eq!(r["lines"], truth.lines);
    let c = &truth.counts;
    let apart = &c.apart;
    assert_eq!(
        counts(&r["totals"]),
        reported(&c.totals, Some(&apart.totals)),
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
    let want: BTreeMap<String, [u64; 5]> = c
        .by_hour
        .iter()
        .map(|(h, x)| (h.clone(), reported(x, apart.by_hour.get(h))))
        .filter(|(_, x)| *x != [0; 5])
        .collect();
    assert_eq!(by_hour, want, "by_hour");
    let by_domain: BTreeMap<(String, String), [u64; 5]> = r["by_sender_domain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let key = (
                x["domain"].as_str().unwrap().to_string(),
                x["hour"].as_str().unwrap().to_string(),
            );
            (key, counts(x))
        })
        .collect();
    let want: BTreeMap<(String, String), [u64; 5]> = c
        .by_sender_domain_hour
        .iter()
        .map(|(k, x)| (k.clone(), reported(x, apart.by_sender_domain_hour.get(k))))
        .filter(|(_, x)| *x != [0; 5])
        .collect();
    assert_eq!(by_domain, want, "by_sender_domain");

    let limits = r["limits"].as_array().unwrap();
    if cpanel {
        assert!(
            !truth.trips.is_empty(),
            "the stolen mailbox trips the limit"
        );
    }
    for trip in &truth.trips {
        let find = |source: &str| {
            limits.iter().find(|l| {
                l["source"] == source
                    && l["domain"] == trip.domain.as_str()
                    && l["hour"] == trip.hour.as_str()
                    && (source == "log" || l["threshold_percent"] == 100)
            })
        };
        let replay = find("replay").unwrap_or_else(|| panic!("no replayed trip for {trip:?}"));
        assert_eq!(replay["tripped_at"], trip.condition_at.as_str(), "{trip:?}");
        assert_eq!(replay["count"], trip.count, "{trip:?}");
        if let Some(at) = &trip.tripped_at {
            let log = find("log").unwrap_or_else(|| panic!("no logged trip for {trip:?}"));
            assert_eq!(log["tripped_at"], at.as_str(), "{trip:?}");
            assert_eq!(log["count"], trip.count, "{trip:?}");
            assert_eq!(log["lines"], trip.discarded, "{trip:?}");
        }
    }
    // On cPanel, every replayed 100% trip of a hosted domain is one the generator made.
    for l in limits.iter().filter(|l| {
        cpanel
            && l["source"] == "replay"
            && l["threshold_percent"] == 100
            && !l["tripped_at"].is_null()
    }) {
        let d = l["domain"].as_str().unwrap();
        if c.local_domains.iter().any(|x| x == d) {
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
fn report_reproduces_a_generated_cpanel_day() {
    check(Mta::Exim, true, 21);
}

#[test]
fn report_reproduces_a_generated_exim_day() {
    check(Mta::Exim, false, 22);
}

#[test]
fn report_reproduces_a_generated_postfix_day() {
    check(Mta::Postfix, false, 23);
}
