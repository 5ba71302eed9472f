//! Corpus tests: every Exim mainlog and Postfix log under `$MAILTRACE_CORPORA`.
//!
//! For each file, the number of `delivered`, `deferred` and `bounced` events must equal the
//! number of such lines counted independently with a plain regex, and unrecognised MTA lines
//! must stay under 0.5% of all MTA lines. The per-source figures are printed.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use mailtrace::model::event::{Kind, Mta};
use mailtrace::parse::YearSource;
use mailtrace::parse::scan::{FileStats, ScanOptions, scan_reader};
use regex::Regex;

use crate::util;

/// Files that are Exim mainlogs (possibly syslog-wrapped) or Postfix logs.
/// Excluded: `aminer-runConfAvailableTest/exim-lines.log`, a set of copy-paste fragments
/// (SOURCES.md: "use these to test robustness, not as ground truth"); it is still read in
/// `corpus_dirty_input_never_panics`. fail2ban files are used in their `.stripped.log` form
/// (the originals interleave JSON annotations).
fn corpus_files(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut walk = |dir: &str, keep: &dyn Fn(&Path) -> bool| {
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    stack.push(p);
                } else if keep(&p) {
                    out.push((dir.to_string(), p));
                }
            }
        }
    };
    walk("exim-real", &|p| !p.to_string_lossy().contains("aminer"));
    walk("exim-testsuite/log", &|_| true);
    walk("postfix-real", &|p| !p.ends_with("rfc5424.log"));
    walk("lightmeter", &|_| true);
    walk("crowdsec-hub", &|_| true);
    walk("fail2ban", &|p| {
        p.to_string_lossy().ends_with(".stripped.log")
    });
    out
}

fn read_text(p: &Path) -> String {
    let raw = std::fs::read(p).unwrap();
    let mut r = mailtrace::input::from_reader(Box::new(Cursor::new(raw))).unwrap();
    let mut buf = Vec::new();
    // A truncated gzip member still yields what it decoded.
    let _ = std::io::Read::read_to_end(&mut r, &mut buf);
    let mut s = String::from_utf8_lossy(&buf).into_owned();
    // modoboa's log is a template with the month and day left as `%(day)s` (SOURCES.md).
    if s.contains("%(day)s") {
        s = s.replace("%(day)s", "Nov 07");
    }
    s
}

#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
struct Triple {
    delivered: u64,
    deferred: u64,
    bounced: u64,
}

fn expected_counts(text: &str) -> Triple {
    let exim = Regex::new(
        r"(?m)(?:^|\s)[0-9A-Za-z]{6}-[0-9A-Za-z]{6}(?:[0-9A-Za-z]{5})?-[0-9A-Za-z]{2}(?:[0-9A-Za-z]{2})? (=>|->|==|\*\*) ",
    )
    .unwrap();
    let postfix = Regex::new(
        r"(?m)^.*\bpostfix[^\s\[:]*/[a-z]+(?:\[\d+\])?: .*? status=(sent|deferred|bounced)\b",
    )
    .unwrap();
    let mut t = Triple::default();
    for c in exim.captures_iter(text) {
        match &c[1] {
            "=>" | "->" => t.delivered += 1,
            "==" => t.deferred += 1,
            _ => t.bounced += 1,
        }
    }
    for c in postfix.captures_iter(text) {
        match &c[1] {
            "sent" => t.delivered += 1,
            "deferred" => t.deferred += 1,
            _ => t.bounced += 1,
        }
    }
    t
}

fn scan_text(name: &str, text: &str) -> (FileStats, Triple) {
    let mut got = Triple::default();
    let opts = ScanOptions {
        samples: 5,
        ..ScanOptions::default()
    };
    let st = scan_reader(
        name.to_string(),
        Cursor::new(text.as_bytes()),
        YearSource::Fixed(2020),
        &opts,
        |e, _| match e.kind {
            Kind::Delivered => got.delivered += 1,
            Kind::Deferred => got.deferred += 1,
            Kind::Bounced => got.bounced += 1,
            _ => {}
        },
    );
    (st, got)
}

#[test]
fn corpus_delivery_counts_match_and_unrecognised_stays_low() {
    let Some(root) = util::corpora() else { return };
    let files = corpus_files(&root);
    assert!(
        files.len() > 800,
        "expected the corpora, found {} files",
        files.len()
    );
    #[derive(Default)]
    struct Agg {
        files: u64,
        mta_lines: u64,
        unrecognised: u64,
        events: u64,
        got: Triple,
    }
    let mut by_source: BTreeMap<String, Agg> = BTreeMap::new();
    let mut by_mta: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    let mut mismatches = Vec::new();
    let mut samples = Vec::new();
    for (source, path) in &files {
        let text = read_text(path);
        let rel = path.strip_prefix(&root).unwrap().display().to_string();
        let (st, got) = scan_text(&rel, &text);
        let want = expected_counts(&text);
        if got != want {
            mismatches.push(format!("{rel}: events {got:?} != lines {want:?}"));
        }
        let a = by_source.entry(source.clone()).or_default();
        a.files += 1;
        a.mta_lines += st.mta_lines();
        a.unrecognised += st.unrecognised;
        a.events += st.events;
        a.got.delivered += got.delivered;
        a.got.deferred += got.deferred;
        a.got.bounced += got.bounced;
        let key = match st.mta {
            Some(Mta::Exim) => "exim",
            Some(Mta::Postfix) => "postfix",
            None => "none",
        };
        let m = by_mta.entry(key).or_default();
        m.0 += st.mta_lines();
        m.1 += st.unrecognised;
        for (n, l) in st.samples.iter().take(3) {
            if samples.len() < 60 {
                samples.push(format!("{rel}:{n}: {l}"));
            }
        }
    }
    println!(
        "{:<22} {:>5} {:>9} {:>9} {:>8} {:>9} {:>8} {:>8} {:>7}",
        "source",
        "files",
        "mta lines",
        "events",
        "unrec",
        "delivered",
        "deferred",
        "bounced",
        "unrec%"
    );
    for (s, a) in &by_source {
        println!(
            "{:<22} {:>5} {:>9} {:>9} {:>8} {:>9} {:>8} {:>8} {:>6.2}%",
            s,
            a.files,
            a.mta_lines,
            a.events,
            a.unrecognised,
            a.got.delivered,
            a.got.deferred,
            a.got.bounced,
            100.0 * a.unrecognised as f64 / a.mta_lines.max(1) as f64
        );
    }
    for (m, (lines, unrec)) in &by_mta {
        println!(
            "{m}: {lines} MTA lines, {unrec} unrecognised ({:.3}%)",
            100.0 * *unrec as f64 / (*lines).max(1) as f64
        );
    }
    if !samples.is_empty() {
        println!("first unrecognised/malformed lines:");
        for s in &samples {
            println!("  {s}");
        }
    }
    assert!(
        mismatches.is_empty(),
        "count mismatches:\n{}",
        mismatches.join("\n")
    );
    for (m, (lines, unrec)) in by_mta.iter().filter(|(_, (lines, _))| *lines > 0) {
        assert!(
            (*unrec as f64) < 0.005 * (*lines as f64),
            "{m}: {unrec} of {lines} MTA lines unrecognised (limit 0.5%)"
        );
    }
}

#[test]
fn corpus_dirty_input_never_panics() {
    let Some(root) = util::corpora() else { return };
    for rel in [
        "exim-real/aminer-runConfAvailableTest/exim-lines.log",
        "fail2ban/exim",
        "fail2ban/postfix",
        "postfix-real/lograptor/rfc5424.log",
        "exim-testsuite/rejectlog/0022",
        "exim-testsuite/paniclog/0022",
    ] {
        let p = root.join(rel);
        if p.exists() {
            let text = read_text(&p);
            let (st, _) = scan_text(rel, &text);
            assert_eq!(st.lines, text.lines().count() as u64, "{rel}");
        }
    }
}

/// On every corpus file, the report's totals equal the events' counts (rejections counted
/// when they name a recipient; deferrals that made no attempt and hand-offs to a local
/// content filter counted apart), and building and rendering the report does not panic.
#[test]
fn corpus_report_totals_equal_event_counts() {
    use mailtrace::aggregate::{Aggregates, Filter};
    use mailtrace::classify::{CachedClassifier, Classifier};
    use mailtrace::correlate::Correlator;
    use mailtrace::model::cpanel::LimitRule;
    use mailtrace::report::{BuildOptions, HourlyTables, Report};

    let Some(root) = util::corpora() else { return };
    let classifier = Classifier::builtin();
    let mut checked = 0;
    for (_, path) in corpus_files(&root) {
        let text = read_text(&path);
        let rel = path.strip_prefix(&root).unwrap().display().to_string();
        let mut agg = Aggregates::new(
            LimitRule {
                min: 5,
                percent: None,
            },
            Filter::default(),
            CachedClassifier::new(&classifier),
        );
        let mut correlator = Correlator::new(48);
        let mut want = [0u64; 5];
        let mut not_attempted = 0u64;
        let st = scan_reader(
            rel.clone(),
            Cursor::new(text.as_bytes()),
            YearSource::Fixed(2020),
            &ScanOptions::default(),
            |e, _| {
                match e.kind {
                    Kind::Delivered => want[0] += 1,
                    Kind::Deferred if e.retry_not_due => not_attempted += 1,
                    Kind::Deferred => want[1] += 1,
                    Kind::Bounced => want[2] += 1,
                    Kind::Rejected if e.recipient.is_some() => want[3] += 1,
                    Kind::Expired => want[4] += 1,
                    _ => {}
                }
                correlator.feed(e, &mut agg);
            },
        );
        correlator.finish(&mut agg);
        let t = agg.totals;
        assert_eq!(
            [
                t.delivered + agg.handed_off,
                t.deferred,
                t.bounced,
                t.rejected,
                t.expired
            ],
            want,
            "{rel}"
        );
        assert_eq!(
            agg.not_attempted, not_attempted,
            "{rel}: queued, not attempted"
        );
        let diagnoses = mailtrace::diagnose::diagnose(&agg, &Default::default());
        let report = Report::build(
            &mut agg,
            &diagnoses,
            &[st],
            &BuildOptions {
                hourly_tables: HourlyTables::All,
                top: 10,
                redact: true,
                thresholds: Default::default(),
                limit_given: false,
                day: None,
            },
        );
        let mut out = Vec::new();
        mailtrace::report::doc::render_text(
            &mailtrace::report::doc::document(&report),
            &mut out,
            false,
            100,
        )
        .unwrap();
        mailtrace::report::json::render(&report, &mut out).unwrap();
        checked += 1;
    }
    println!("report totals equal event counts on {checked} corpus files");
}
