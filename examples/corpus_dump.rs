//! A diagnostic for the Exim parser, not a check: parses every file of the Exim sources of
//! `$MAILTRACE_CORPORA`, writes each unrecognised line to `exim-dump-unrec.txt` and each
//! event to `exim-dump-events.txt` in `OUT_DIR` (default: the system's temporary folder), and
//! prints per-source figures for the files that are Exim logs (selected as `tests/corpus.rs`
//! does), with the `=>`/`->`, `==` and `**` lines counted by the parser and by a regex.
//!
//! ```text
//! MAILTRACE_CORPORA=../shared/corpora cargo run --example corpus_dump [-- OUT_DIR]
//! ```

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mailtrace::input::LineReader;
use mailtrace::model::event::{Event, Kind, Mta};
use mailtrace::parse::{LineParser, Parsed, YearSource};
use mailtrace::util::sanitize::clean;

/// The corpus folders that hold Exim logs.
const SOURCES: [&str; 4] = [
    "exim-real",
    "exim-testsuite/log",
    "crowdsec-hub",
    "fail2ban",
];

/// The figures of one source: files, MTA lines, unrecognised lines, and the
/// [delivered, deferred, bounced] lines found by the parser and by the regex.
#[derive(Default)]
struct Source {
    files: u64,
    mta_lines: u64,
    unrecognised: u64,
    parsed: [u64; 3],
    by_regex: [u64; 3],
}

/// What the auto-detecting front-end made of one file.
#[derive(Default)]
struct FileCounts {
    exim_events: u64,
    postfix_events: u64,
    unrecognised: u64,
    ignored: u64,
    /// Delivered, deferred, bounced.
    outcomes: [u64; 3],
}

impl FileCounts {
    fn of(text: &str) -> FileCounts {
        let mut c = FileCounts::default();
        let mut parser = LineParser::new(None, YearSource::Fixed(2020));
        let mut reader = LineReader::new(Cursor::new(text.as_bytes()));
        while let Ok(Some(line)) = reader.next_line() {
            match parser.parse(line.text) {
                Parsed::Event(e) => {
                    match e.mta {
                        Mta::Exim => c.exim_events += 1,
                        Mta::Postfix => c.postfix_events += 1,
                    }
                    match e.kind {
                        Kind::Delivered => c.outcomes[0] += 1,
                        Kind::Deferred => c.outcomes[1] += 1,
                        Kind::Bounced => c.outcomes[2] += 1,
                        _ => {}
                    }
                }
                Parsed::Unrecognised => c.unrecognised += 1,
                Parsed::Ignored => c.ignored += 1,
                Parsed::Foreign | Parsed::Malformed => {}
            }
        }
        c
    }

    /// True when most events are Exim's, as the scan decides a file's MTA.
    fn is_exim(&self) -> bool {
        self.exim_events > 0 && self.exim_events >= self.postfix_events
    }

    fn mta_lines(&self) -> u64 {
        self.exim_events + self.postfix_events + self.unrecognised + self.ignored
    }
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack: Vec<PathBuf> = SOURCES.iter().map(|s| root.join(s)).collect();
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Every line of `text` as the Exim parser sees it: events to `events`, unrecognised lines
/// to `unrec`.
fn dump(path: &Path, text: &str, events: &mut impl Write, unrec: &mut impl Write) {
    let mut lp = LineParser::new(Some(Mta::Exim), YearSource::Fixed(2020));
    for line in text.lines() {
        let r = match lp.parse(line) {
            Parsed::Event(e) => writeln!(events, "{}\t{}", clean(line), fmt_event(&e)),
            Parsed::Unrecognised => {
                writeln!(
                    unrec,
                    "{}: {}",
                    clean(&path.display().to_string()),
                    clean(line)
                )
            }
            _ => Ok(()),
        };
        r.expect("writing the dump");
    }
}

fn run(root: &Path, out: &Path) -> std::io::Result<()> {
    let mut unrec = BufWriter::new(File::create(out.join("exim-dump-unrec.txt"))?);
    let mut evs = BufWriter::new(File::create(out.join("exim-dump-events.txt"))?);
    let flag = regex::Regex::new(
        r"(?m)(?:^|\s)[0-9A-Za-z]{6}-[0-9A-Za-z]{6}(?:[0-9A-Za-z]{5})?-[0-9A-Za-z]{2}(?:[0-9A-Za-z]{2})? (=>|->|==|\*\*) ",
    )
    .expect("valid regex");
    let mut by_source = BTreeMap::<String, Source>::new();
    for p in files_under(root) {
        let text = String::from_utf8_lossy(&std::fs::read(&p)?).into_owned();
        let rel = p
            .strip_prefix(root)
            .unwrap_or(&p)
            .to_string_lossy()
            .into_owned();
        let counted = !rel.contains("aminer")
            && (!rel.starts_with("fail2ban") || rel.ends_with(".stripped.log"));
        let c = FileCounts::of(&text);
        if counted && c.is_exim() {
            let mut want = [0u64; 3];
            for cap in flag.captures_iter(&text) {
                want[match &cap[1] {
                    "=>" | "->" => 0,
                    "==" => 1,
                    _ => 2,
                }] += 1;
            }
            let source = if rel.starts_with("exim-testsuite") {
                "exim-testsuite/log".to_string()
            } else {
                rel.split('/').next().unwrap_or("").to_string()
            };
            let a = by_source.entry(source).or_default();
            a.files += 1;
            a.mta_lines += c.mta_lines();
            a.unrecognised += c.unrecognised;
            for (k, w) in want.iter().enumerate() {
                a.parsed[k] += c.outcomes[k];
                a.by_regex[k] += w;
            }
        }
        dump(&p, &text, &mut evs, &mut unrec);
    }
    unrec.flush()?;
    evs.flush()?;
    println!(
        "source (Exim files)   files  MTA lines  unrec  unrec%  =>/->,==,** parsed | by regex"
    );
    for (s, a) in &by_source {
        println!(
            "{s:<22} {:>5} {:>10} {:>6} {:>6.3}%  {:?} | {:?} {}",
            a.files,
            a.mta_lines,
            a.unrecognised,
            100.0 * a.unrecognised as f64 / a.mta_lines.max(1) as f64,
            a.parsed,
            a.by_regex,
            if a.parsed == a.by_regex {
                "match"
            } else {
                "MISMATCH"
            }
        );
    }
    println!("dump written to {}", out.display());
    Ok(())
}

/// An event's kind and its set fields, `{:?}`-quoted.
fn fmt_event(e: &Event<'_>) -> String {
    let mut s = e.kind.as_str().to_string();
    macro_rules! f {
        ($($n:ident),*) => {$(
            if let Some(v) = &e.$n { s.push_str(&format!(" {}={:?}", stringify!($n), v)); }
        )*};
    }
    f!(
        queue_id,
        sender,
        recipient,
        original_recipient,
        host,
        ip,
        code,
        status,
        text,
        account,
        router,
        transport,
        size,
        subject,
        message_id,
        protocol,
        related_id,
        recipients,
        domain,
        limit
    );
    if e.retry_not_due {
        s.push_str(" retry_not_due");
    }
    s
}

fn main() -> ExitCode {
    let Some(root) = std::env::var_os("MAILTRACE_CORPORA") else {
        eprintln!("corpus_dump: set MAILTRACE_CORPORA to the corpora folder");
        return ExitCode::from(2);
    };
    let out = std::env::args_os()
        .nth(1)
        .map_or_else(std::env::temp_dir, PathBuf::from);
    match run(Path::new(&root), &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corpus_dump: {e}");
            ExitCode::FAILURE
        }
    }
}
