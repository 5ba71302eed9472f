//! The bodies of the fuzz targets, shared by the cargo-fuzz binaries (`fuzz/fuzz_targets/`)
//! and the stable mutation test (`tests/fuzz_mutate.rs`, which includes this file with
//! `#[path]`). Each takes arbitrary bytes and must not panic, whatever they hold.
//!
//! * [`exim`]: the Exim mainlog parser, with and without its timestamp.
//! * [`postfix`]: the Postfix message parser, under the line's own syslog tag or one of the
//!   usual services.
//! * [`syslog`]: the line front end: input decoding (gzip, invalid UTF-8, long lines), log
//!   shape and timestamp detection, syslog records, journald JSON, MTA detection.
//! * [`correlate`]: parsed events of the lines fed to the correlator with a sink that does
//!   nothing.
//! * [`trace`]: the same events through the `trace` sink for three targets taken from the
//!   input; its output must hold no character the sanitiser escapes.

use std::io::{BufRead, Cursor};
use std::sync::OnceLock;

use mailtrace::classify::Classifier;
use mailtrace::correlate::{Correlator, Message, Sink};
use mailtrace::model::event::{Event, Mta, Timestamp};
use mailtrace::model::outcome::Outcome;
use mailtrace::parse::scan::{ScanOptions, scan_reader};
use mailtrace::parse::{LineParser, YearSource, exim as exim_parser, postfix as pf};
use mailtrace::parse::{syslog as sl, time};
use mailtrace::trace::{self as tr, Tracer};

/// A target: arbitrary bytes in, no panic.
pub type Target = fn(&[u8]);

/// Every target with its name, in the order the mutation test runs them.
pub const TARGETS: &[(&str, Target)] = &[
    ("exim", exim),
    ("postfix", postfix),
    ("syslog", syslog),
    ("correlate", correlate),
    ("trace", trace),
];

/// Services a Postfix line is tried under when its own tag cannot be read.
const SERVICES: &[&str] = &[
    "postfix/smtp",
    "postfix/smtpd",
    "postfix/qmgr",
    "postfix/cleanup",
    "postfix/local",
    "postfix/bounce",
    "postfix/postscreen",
    "postfix/pickup",
    "postfix/postsuper",
    "postfix/lmtp",
    "postfix/pipe",
    "postfix/error",
    "postfix-out/submission/smtpd",
];

/// 2026-11-26 14:00:00 UTC, the time of lines whose own timestamp is not parsed.
fn noon() -> Timestamp {
    let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default();
    Timestamp::new(d.and_hms_opt(14, 0, 0).unwrap_or_default(), Some(0))
}

/// The lines of `data`, decoded as the input layer would (invalid bytes become U+FFFD).
fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Runs the Exim parser on every line, after its timestamp and on the whole line.
pub fn exim(data: &[u8]) {
    let text = text(data);
    for line in text.lines() {
        let _ = exim_parser::parse(noon(), line);
        if let Some((ts, rest)) = time::exim_prefix(line) {
            let _ = exim_parser::parse(ts, rest);
        }
    }
}

/// Runs the Postfix parser on every line: on the message under the line's own tag when the
/// syslog record can be read, else on the whole line under a service picked by its length.
pub fn postfix(data: &[u8]) {
    let text = text(data);
    for line in text.lines() {
        let rest = time::syslog_prefix(line)
            .map(|(_, r)| r)
            .or_else(|| time::iso_prefix(line).map(|(_, r)| r));
        match rest.and_then(sl::record) {
            Some(rec) => {
                let _ = pf::parse(noon(), rec.program, rec.message);
            }
            None => {
                let _ = pf::parse(noon(), SERVICES[line.len() % SERVICES.len()], line);
            }
        }
    }
}

/// Runs the front end: the input layer and the line parser (auto, `--mta exim`, `--mta
/// postfix`) through [`scan_reader`], then the record, journald and detection helpers.
pub fn syslog(data: &[u8]) {
    for mta in [None, Some(Mta::Exim), Some(Mta::Postfix)] {
        let Ok(reader) = mailtrace::input::from_reader(Box::new(Cursor::new(data.to_vec()))) else {
            continue;
        };
        let opts = ScanOptions {
            mta,
            year: None,
            samples: 4,
        };
        let year = YearSource::Mtime(time::YearTracker::from_mtime(2026, 1));
        let _ = scan_reader("fuzz".into(), reader, year, &opts, |_, _| ());
    }
    let text = text(data);
    let mut parser = LineParser::new(None, YearSource::Fixed(2026));
    for line in text.lines() {
        let _ = parser.parse(line);
        let _ = sl::record(line);
        let _ = sl::tag_and_message(line);
        let _ = sl::journal_fields(line);
        let _ = time::syslog_prefix(line);
        let _ = time::iso_prefix(line);
    }
    let _ = mailtrace::parse::detect(text.lines());
}

/// A sink that does nothing.
struct Nothing;

impl Sink for Nothing {
    fn outcome(&mut self, _o: &Outcome<'_>) {}
    fn message_done(&mut self, _m: Message) {}
}

/// Calls `each(event, line number, line)` for every event of `data`, read as a log file.
fn events(data: &[u8], mut each: impl FnMut(&Event<'_>, u64, &str)) {
    let reader: Box<dyn BufRead + Send> = Box::new(Cursor::new(data.to_vec()));
    let opts = ScanOptions::default();
    scan_reader(
        "fuzz".into(),
        reader,
        YearSource::Fixed(2026),
        &opts,
        |e, at| each(e, at.number, at.text),
    );
}

/// Feeds every event to a correlator (its maximum age taken from the first byte, so that
/// stale messages are folded too) with a sink that does nothing.
pub fn correlate(data: &[u8]) {
    let max_age = 1 + u64::from(data.first().copied().unwrap_or(0) % 48);
    let mut c = Correlator::new(max_age);
    let mut n = 0u64;
    events(data, |e, _, _| {
        c.feed(e, &mut Nothing);
        n += 1;
        if n.is_multiple_of(64) {
            c.fold_stale(&mut Nothing);
        }
    });
    c.finish(&mut Nothing);
}

/// The built-in classifier, built once.
fn classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(Classifier::builtin)
}

/// Traces the first recipient, its domain and the first queue ID of `data` (plain and
/// redacted), and panics if the output holds a character the sanitiser escapes.
pub fn trace(data: &[u8]) {
    let mut targets = Vec::new();
    events(data, |e, _, _| {
        if targets.is_empty()
            && let Some(r) = e.recipient
        {
            targets.push(tr::Target::parse(r));
            if let Some((_, d)) = r.rsplit_once('@') {
                targets.push(tr::Target::parse(&format!("@{d}")));
            }
        }
        if !targets.iter().any(|t| matches!(t, tr::Target::QueueId(_)))
            && let Some(q) = e.queue_id
        {
            targets.push(tr::Target::QueueId(q.to_string()));
        }
    });
    for (i, target) in targets.into_iter().enumerate() {
        let mut out = Vec::new();
        {
            let filter = mailtrace::aggregate::Filter::default();
            let mut tracer = Tracer::new(target, &mut out, classifier(), i == 1, filter);
            let mut c = Correlator::new(48);
            tracer.begin_file("fuzz");
            events(data, |e, n, line| {
                tracer.line(n, line);
                c.feed(e, &mut tracer);
            });
            c.finish(&mut tracer);
        }
        let out = String::from_utf8(out).expect("trace writes UTF-8");
        if let Some(c) = out
            .chars()
            .find(|&c| c != '\n' && mailtrace::util::sanitize::is_unsafe(c))
        {
            panic!("trace printed {c:?} raw");
        }
    }
}
