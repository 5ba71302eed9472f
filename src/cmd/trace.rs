//! `mailtrace trace TARGET`: every message that involves an address, a queue ID or a domain,
//! printed by the [`Tracer`] as the correlator finishes it. With colour on, [`Painter`]
//! styles the tracer's text: message headers bold, each recipient's verdict in green
//! (delivered), yellow (deferred) or red (bounced, rejected, expired).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::{ControlFlow, Range};
use std::path::Path;

use rayon::prelude::*;

use super::common::{self, How, PerInput, Summaries, Window};
use crate::classify::Classifier;
use crate::cli::TraceArgs;
use crate::correlate::Correlator;
use crate::error::{Exit, Result};
use crate::input::grep::{self, Needles};
use crate::input::{self, Input, lines};
use crate::model::event::{Event, Mta};
use crate::parse::scan::At;
use crate::parse::{LineParser, Parsed, YearSource};
use crate::trace::{MAX_IDS, Relevant, Target, Tracer};
use crate::util::text::thousands;

/// Runs `mailtrace trace`: status 2 if an input failed or there was nothing to analyse, else
/// 1 if no message involves the target, else 0.
pub(super) fn run(args: &TraceArgs) -> Result<Exit> {
    let inputs = common::batch_inputs(&args.input, false)?;
    let filter = common::build_filter(&args.filter, &inputs, &args.input, false)?;
    let window = Window::of(&filter);
    common::apply_redaction_key(&args.redact_key)?;
    let classifier = Classifier::builtin();
    let stdout = io::stdout();
    let mut out: Box<dyn Write> = if common::use_color(args.color) {
        Box::new(Painter::new(io::BufWriter::new(stdout.lock())))
    } else {
        Box::new(io::BufWriter::new(stdout.lock()))
    };
    let target = Target::parse(&args.target);
    let relevant = find_relevant(&inputs, &target, common::scan_options(&args.input).mta);
    if args.input.verbose {
        common::warn(&match &relevant {
            Some(r) => format!(
                "trace: {} queue IDs found by searching the inputs; only their lines are correlated",
                thousands(r.len() as u64)
            ),
            None => "trace: every line is correlated (the inputs were not searched first)".into(),
        });
    }
    let mut tracer = Tracer::new(target.clone(), &mut out, &classifier, args.redact, filter)
        .with_width(super::report::text_width(args.width));
    // MAILTRACE_TRACE_MEMORY (bytes): how much unprinted line text stays in memory before
    // the rest spools to a temporary file (the tests set it to 0 to spool every line).
    if let Some(n) = std::env::var("MAILTRACE_TRACE_MEMORY")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        tracer = tracer.with_memory_budget(n);
    }
    let mut per_input = Trace {
        tracer,
        correlator: Correlator::new(48).with_max_open(args.max_open),
        target,
        relevant,
    };
    let how = How {
        summaries: Summaries::VerboseOrError,
        quiet: false,
        streams: true,
        window,
    };
    let reading = common::read_inputs(&inputs, &args.input, &how, &mut per_input)?;
    let Trace {
        mut tracer,
        mut correlator,
        ..
    } = per_input;
    correlator.finish(&mut tracer);
    if let Some(e) = tracer.error.take() {
        return Err(e.into());
    }
    let found = tracer.printed + tracer.standalone;
    drop(tracer);
    out.flush()?;
    if !reading.check_analysed(&window) {
        return Ok(Exit::Error);
    }
    if found == 0 {
        common::warn(&format!("no message involves {}", args.target));
    }
    Ok(reading.exit().merge(Exit::of(false, found == 0)))
}

/// Feeds each event with its raw line to the tracer through the correlator; with the
/// messages found beforehand (`relevant`), only theirs and the lines without a queue ID.
struct Trace<'w, 'c> {
    tracer: Tracer<'w, 'c>,
    correlator: Correlator,
    target: Target,
    relevant: Option<Relevant>,
}

impl PerInput for Trace<'_, '_> {
    fn begin(&mut self, name: &str) {
        self.tracer.begin_file(name);
    }

    fn event(&mut self, e: &Event<'_>, at: At<'_>) -> ControlFlow<()> {
        if let Some(r) = &mut self.relevant
            && !r.follow(&self.target, e)
        {
            self.correlator.skip(e, &mut self.tracer);
            return ControlFlow::Continue(());
        }
        self.tracer.line(at.number, at.text);
        self.correlator.feed(e, &mut self.tracer);
        if self.tracer.error.is_some() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn take_error(&mut self) -> Option<io::Error> {
        self.tracer.error.take()
    }
}

/// Rounds of search before giving up (a chain of re-queued messages this long is not a
/// trace's ordinary case).
const MAX_ROUNDS: usize = 4;

/// Lines a search may find in one part of one round: far more than [`MAX_IDS`] messages
/// have (a few lines each), so past it the search is given up without holding them all.
const MAX_FOUND_LINES: usize = 50 * MAX_IDS;

/// A plain file at least this large is searched in parts, one per thread.
const PARALLEL_MIN: u64 = 16 << 20;

/// The messages the trace needs ([`Relevant`]), found by searching the inputs for the
/// target and then for the IDs each round finds; `None` when an input cannot be read twice
/// (standard input, a FIFO), is compressed (each round would decompress it again: measured
/// slower than correlating every line), a search fails (the trace then says why as it
/// reads), or the target is in too many messages for the search to pay: then every line is
/// correlated.
/// MAILTRACE_TRACE_SEARCH=0 turns the search off (the tests compare both ways).
fn find_relevant(inputs: &[Input], target: &Target, mta: Option<Mta>) -> Option<Relevant> {
    if std::env::var_os("MAILTRACE_TRACE_SEARCH").is_some_and(|v| v == "0") {
        return None;
    }
    let files = inputs
        .iter()
        .map(|i| match i {
            Input::Path(p)
                if std::fs::metadata(p).is_ok_and(|m| m.is_file()) && !input::is_compressed(p) =>
            {
                Some(p.as_path())
            }
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    let mut relevant = Relevant::default();
    let mut patterns = Relevant::first_patterns(target);
    for round in 0..MAX_ROUNDS {
        if patterns.is_empty() {
            break;
        }
        // The target is matched regardless of ASCII case, as `Target` compares; the IDs
        // of the later rounds as they are.
        let needles = Needles::new(&patterns, round == 0)?;
        for (queue_id, related_id, matched) in search_round(&files, &needles, target, mta)? {
            relevant.absorb_ids(queue_id.as_deref(), related_id.as_deref(), matched);
        }
        if relevant.len() > MAX_IDS {
            return None;
        }
        patterns = relevant.take_fresh();
    }
    // Complete if the last round found nothing new.
    patterns.is_empty().then_some(relevant)
}

/// An event a search found: its queue ID, the ID it names, whether it involves the target.
type Found = (Option<String>, Option<String>, bool);

/// One round of [`find_relevant`]: the events of the lines that hold a pattern, in input
/// order. A large file is searched in parts on all threads, small ones whole in parallel.
fn search_round(
    files: &[&Path],
    needles: &Needles,
    target: &Target,
    mta: Option<Mta>,
) -> Option<Vec<Found>> {
    let mut parts = Vec::new();
    for &path in files {
        let mut f = File::open(path).ok()?;
        let len = f.metadata().ok()?.len();
        if len >= PARALLEL_MIN {
            let threads = rayon::current_num_threads();
            for r in grep::line_aligned_parts(&mut f, len, threads).ok()? {
                parts.push((path, Some(r)));
            }
        } else {
            parts.push((path, None));
        }
    }
    let found: Vec<Option<Vec<Found>>> = parts
        .par_iter()
        .map(|(path, range)| search_part(path, range.clone(), needles, target, mta))
        .collect();
    Some(found.into_iter().collect::<Option<Vec<_>>>()?.concat())
}

/// The events of the lines of `path` (of `range` of it) that hold a pattern.
fn search_part(
    path: &Path,
    range: Option<Range<u64>>,
    needles: &Needles,
    target: &Target,
    mta: Option<Mta>,
) -> Option<Vec<Found>> {
    let mut file = File::open(path).ok()?;
    let reader: Box<dyn Read> = match range {
        Some(r) => {
            file.seek(SeekFrom::Start(r.start)).ok()?;
            Box::new(file.take(r.end - r.start))
        }
        None => input::from_reader(Box::new(file)).ok()?,
    };
    // The year of year-less timestamps does not change an ID.
    let mut parser = LineParser::new(mta, YearSource::Fixed(2000));
    let mut scratch = String::new();
    let mut found = Vec::new();
    let mut too_many = false;
    grep::matching_lines(reader, needles, |raw, flags| {
        let line = lines::shape(raw, flags, 0, &mut scratch);
        if let Parsed::Event(e) = parser.parse(line.text) {
            let owned = |s: Option<&str>| s.map(str::to_string);
            found.push((owned(e.queue_id), owned(e.related_id), target.matches(&e)));
        }
        // A target in much of the traffic: stop before the found lines take memory.
        too_many = found.len() > MAX_FOUND_LINES;
        if too_many {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .ok()?;
    (!too_many).then_some(found)
}

const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

/// The colour of each verdict the tracer writes after `  -> ADDRESS: `.
const VERDICTS: &[(&str, &str)] = &[
    ("delivered", GREEN),
    ("deferred", YELLOW),
    ("bounced", RED),
    ("rejected", RED),
    ("expired", RED),
];

/// Styles the tracer's output line by line. The text it receives is already sanitised (no
/// control characters from the logs), so the only escape sequences are the ones added here.
struct Painter<W: Write> {
    inner: W,
    /// The unfinished last line.
    pending: Vec<u8>,
}

impl<W: Write> Painter<W> {
    fn new(inner: W) -> Self {
        Painter {
            inner,
            pending: Vec::new(),
        }
    }

    fn paint_line(&mut self, line: &[u8]) -> io::Result<()> {
        let text = String::from_utf8_lossy(line);
        self.inner.write_all(paint(&text).as_bytes())
    }
}

/// One line of trace output (with its `\n`), styled.
fn paint(line: &str) -> String {
    let body = line.strip_suffix('\n').unwrap_or(line);
    let end = &line[body.len()..];
    if body.starts_with("== ") {
        return format!("{BOLD}{body}{RESET}{end}");
    }
    if let Some(rest) = body.strip_prefix("  -> ") {
        for (at, _) in rest.match_indices(": ") {
            let verdict = &rest[at + 2..];
            if let Some((_, colour)) = VERDICTS.iter().find(|(w, _)| verdict.starts_with(w)) {
                let split = body.len() - verdict.len();
                return format!("{}{colour}{verdict}{RESET}{end}", &body[..split]);
            }
        }
    }
    line.to_string()
}

impl<W: Write> Write for Painter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            let (line, tail) = rest.split_at(i + 1);
            if self.pending.is_empty() {
                self.paint_line(line)?;
            } else {
                let mut whole = std::mem::take(&mut self.pending);
                whole.extend_from_slice(line);
                self.paint_line(&whole)?;
            }
            rest = tail;
        }
        self.pending.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.paint_line(&line)?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_bold_and_verdicts_coloured() {
        assert_eq!(
            paint("== 1tWx9Q-0000 from a@b.example\n"),
            "\x1b[1m== 1tWx9Q-0000 from a@b.example\x1b[0m\n"
        );
        assert_eq!(
            paint("  -> x@gmail.com: bounced: user unknown (550 5.1.1)\n"),
            "  -> x@gmail.com: \x1b[31mbounced: user unknown (550 5.1.1)\x1b[0m\n"
        );
        assert_eq!(
            paint("  -> x@gmail.com: delivered after 1 deferral\n"),
            "  -> x@gmail.com: \x1b[32mdelivered after 1 deferral\x1b[0m\n"
        );
        let plain = "  f.log:3: 2026-11-26 10:00:00 1tWx9Q ** x@gmail.com\n";
        assert_eq!(paint(plain), plain);
        assert_eq!(paint("\n"), "\n");
    }

    #[test]
    fn lines_split_across_writes_are_painted_whole() {
        let mut p = Painter::new(Vec::new());
        p.write_all(b"== 1tWx9Q from a@b.exa").unwrap();
        p.write_all(b"mple\n  -> x@y: deferred 2 time(s)\n\n")
            .unwrap();
        p.flush().unwrap();
        assert_eq!(
            String::from_utf8(p.inner).unwrap(),
            concat!(
                "\x1b[1m== 1tWx9Q from a@b.example\x1b[0m\n",
                "  -> x@y: \x1b[33mdeferred 2 time(s)\x1b[0m\n\n"
            )
        );
    }
}
