//! `trace` first searches its inputs for the target and the queue IDs it leads to, then
//! correlates only those messages' lines. That must change nothing it prints: every trace
//! here runs both ways (MAILTRACE_TRACE_SEARCH=0 reads every line as before) on the
//! fixtures, on generated days of both MTAs with bounces, content-filter hops and deferrals,
//! and on the corpora, for addresses, domains and queue IDs taken from each log.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::util;

/// Up to `n` of `items`, evenly spread.
fn spread(items: BTreeSet<String>, n: usize) -> Vec<String> {
    let v: Vec<String> = items.into_iter().collect();
    let step = v.len().div_ceil(n).max(1);
    v.into_iter().step_by(step).collect()
}

/// Addresses (with their case as logged), domains and queue IDs of a log's text.
fn targets(text: &str, each: usize) -> Vec<String> {
    let address = Regex::new(r"[A-Za-z0-9._%+=-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+").unwrap();
    let exim_id = Regex::new(r"\b[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}\b").unwrap();
    let postfix_id =
        Regex::new(r"\]: ([0-9A-F]{6,12}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}): ").unwrap();
    let mut addresses = BTreeSet::new();
    let mut domains = BTreeSet::new();
    for m in address.find_iter(text) {
        let a = m.as_str().trim_end_matches('.');
        addresses.insert(a.to_string());
        if let Some((_, d)) = a.rsplit_once('@') {
            domains.insert(d.to_string());
        }
    }
    let mut ids: BTreeSet<String> = exim_id
        .find_iter(text)
        .map(|m| m.as_str().to_string())
        .collect();
    ids.extend(postfix_id.captures_iter(text).map(|c| c[1].to_string()));
    let mut all = spread(addresses, each);
    all.extend(spread(domains, each / 2 + 1));
    all.extend(spread(ids, each / 2 + 1));
    all
}

/// stdout, stderr and status of `mailtrace trace TARGET FILE` with the search on or off.
fn trace(file: &Path, target: &str, search: bool) -> (String, String, Option<i32>) {
    let out = util::mailtrace()
        .env("MAILTRACE_TRACE_SEARCH", if search { "1" } else { "0" })
        .args(["trace", "--year", "2026", "--", target])
        .arg(file)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// Traces every target both ways; returns how many traces printed a message, and panics
/// with the first difference.
fn same_both_ways(file: &Path, targets: &[String]) -> usize {
    let mut printed = 0;
    for t in targets {
        let with = trace(file, t, true);
        let without = trace(file, t, false);
        assert_eq!(
            with,
            without,
            "trace {t} {} differs with the search (left) and without (right)",
            file.display()
        );
        printed += (with.2 == Some(0)) as usize;
    }
    printed
}

fn text_of(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        use std::io::Read;
        let mut s = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut s)
            .unwrap();
        return String::from_utf8_lossy(&s).into_owned();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn logs_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            // A .gz fixture is its .log sibling compressed, unless it has none.
            n.ends_with(".log")
                || n.ends_with(".txt")
                || (n.ends_with(".log.gz") && !p.with_extension("").exists())
        })
        .collect();
    v.sort();
    v
}

/// What `trace --verbose example.com` says on stderr about its search, reading `input`
/// (a file, or standard input when `None`) with the search on or off.
fn how_it_read(input: Option<&Path>, search: bool) -> String {
    let file = util::root().join("fixtures/exim/bounce_user_unknown.log");
    let mut c = util::mailtrace();
    c.env("MAILTRACE_TRACE_SEARCH", if search { "1" } else { "0" })
        .args(["trace", "--verbose", "--", "example.com"]);
    match input {
        Some(p) => c.arg(p),
        None => c.arg("-").stdin(std::fs::File::open(file).unwrap()),
    };
    let out = c.output().unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_search_is_used_on_plain_files_not_on_compressed_ones_or_standard_input() {
    let file = util::root().join("fixtures/exim/bounce_user_unknown.log");
    let gz = util::root().join("fixtures/exim/bounce_user_unknown.log.gz");
    let searched = "queue IDs found by searching the inputs";
    let every = "every line is correlated";
    let err = how_it_read(Some(&file), true);
    assert!(err.contains(searched), "{err}");
    let err = how_it_read(Some(&file), false);
    assert!(err.contains(every), "{err}");
    let err = how_it_read(Some(&gz), true);
    assert!(err.contains(every), "{err}");
    let err = how_it_read(None, true);
    assert!(err.contains(every), "{err}");
}

#[test]
fn the_search_changes_no_trace_of_a_fixture() {
    let mut printed = 0;
    let mut runs = 0;
    for dir in ["fixtures/exim", "fixtures/postfix", "fixtures/diagnose"] {
        for file in logs_in(&util::root().join(dir)) {
            let t = targets(&text_of(&file), 2);
            runs += t.len();
            printed += same_both_ways(&file, &t);
        }
    }
    assert!(runs > 120, "only {runs} traces");
    assert!(
        printed > runs / 3,
        "{printed} of {runs} traces found a message"
    );
}

#[test]
fn the_search_changes_no_trace_of_a_generated_day() {
    for (mta, cpanel) in [
        (mailtrace_synth::Mta::Exim, true),
        (mailtrace_synth::Mta::Exim, false),
        (mailtrace_synth::Mta::Postfix, false),
    ] {
        let mut cfg = mailtrace_synth::SynthConfig::new(mta);
        cfg.cpanel = cpanel;
        cfg.target_bytes = Some(1 << 20);
        cfg.seed = 7;
        let mut f = tempfile::NamedTempFile::new().unwrap();
        mailtrace_synth::generate(&cfg, &mut f).unwrap();
        let mut t = targets(&text_of(f.path()), 6);
        // The search lowercases the target and the text it searches: another case finds
        // the same messages.
        let upper: Vec<String> = t
            .iter()
            .filter(|a| a.contains('@'))
            .take(2)
            .map(|a| a.to_uppercase())
            .collect();
        t.extend(upper);
        let printed = same_both_ways(f.path(), &t);
        assert!(printed > t.len() / 2, "{printed} of {}", t.len());
    }
}

#[test]
fn the_search_changes_no_trace_of_the_corpora() {
    let Some(root) = util::corpora() else { return };
    let mut runs = 0;
    for source in ["exim-real", "postfix-real"] {
        let mut files = util::files_under(&root.join(source));
        files.retain(|p| std::fs::metadata(p).unwrap().len() > 2_000);
        for file in files.iter().step_by(files.len().div_ceil(8).max(1)) {
            let t = targets(&text_of(file), 2);
            runs += t.len();
            same_both_ways(file, &t);
        }
    }
    assert!(runs > 50, "only {runs} traces");
}
