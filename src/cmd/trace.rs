//! `mailtrace trace TARGET`: every message that involves an address, a queue ID or a domain,
//! printed by the [`Tracer`] as the correlator finishes it. With colour on, [`Painter`]
//! styles the tracer's text: message headers bold, each recipient's verdict in green
//! (delivered), yellow (deferred) or red (bounced, rejected, expired).

use std::io::{self, Write};
use std::ops::ControlFlow;

use super::common::{self, How, PerInput, Summaries, Window};
use crate::classify::Classifier;
use crate::cli::TraceArgs;
use crate::correlate::Correlator;
use crate::error::{Exit, Result};
use crate::model::event::Event;
use crate::parse::scan::At;
use crate::trace::{Target, Tracer};

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
    let mut tracer = Tracer::new(target, &mut out, &classifier, args.redact, filter)
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

/// Feeds each event with its raw line to the tracer through the correlator.
struct Trace<'w, 'c> {
    tracer: Tracer<'w, 'c>,
    correlator: Correlator,
}

impl PerInput for Trace<'_, '_> {
    fn begin(&mut self, name: &str) {
        self.tracer.begin_file(name);
    }

    fn event(&mut self, e: &Event<'_>, at: At<'_>) -> ControlFlow<()> {
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
