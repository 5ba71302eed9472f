//! `mailtrace events`: every understood log line as one JSON object per line (NDJSON).

use std::io::{self, BufWriter, StdoutLock, Write};
use std::ops::ControlFlow;

use super::common::{self, How, PerInput, Summaries, Window};
use crate::cli::EventsArgs;
use crate::error::{Exit, Result};
use crate::model::event::{Event, Located};
use crate::parse::scan::At;
use crate::util::sanitize;

/// Writes each event with the input's name and the line number.
struct Printer<'a> {
    out: BufWriter<StdoutLock<'a>>,
    name: String,
    error: Option<io::Error>,
    /// `--redact`: addresses and local parts in the event's fields are replaced by tokens.
    redact: bool,
}

/// The event with every field that can hold an address redacted (`events --redact`).
fn write_redacted(out: &mut impl Write, e: &Event<'_>, file: &str, line: u64) -> io::Result<()> {
    use crate::util::redact;
    let addr = |v: Option<&str>| v.map(|s| redact::local_part(s).into_owned());
    let text = |v: Option<&str>| v.map(|s| redact::text(s).into_owned());
    let (sender, recipient, original) = (
        addr(e.sender),
        addr(e.recipient),
        addr(e.original_recipient),
    );
    let (account, body, subject, message_id) = (
        e.account.map(|a| redact::address(a).into_owned()),
        text(e.text),
        text(e.subject),
        text(e.message_id),
    );
    let mut r = e.clone();
    r.sender = sender.as_deref();
    r.recipient = recipient.as_deref();
    r.original_recipient = original.as_deref();
    r.account = account.as_deref();
    r.text = body.as_deref();
    r.subject = subject.as_deref();
    r.message_id = message_id.as_deref();
    let located = Located {
        event: &r,
        file,
        line,
    };
    sanitize::write_json_line(out, &located)
}

impl PerInput for Printer<'_> {
    fn begin(&mut self, name: &str) {
        self.name = name.to_string();
    }

    fn event(&mut self, e: &Event<'_>, at: At<'_>) -> ControlFlow<()> {
        let written = if self.redact {
            write_redacted(&mut self.out, e, &self.name, at.number)
        } else {
            let located = Located {
                event: e,
                file: &self.name,
                line: at.number,
            };
            sanitize::write_json_line(&mut self.out, &located)
        };
        match written {
            Ok(()) => ControlFlow::Continue(()),
            Err(err) => {
                self.error = Some(err);
                ControlFlow::Break(())
            }
        }
    }

    fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }
}

/// Runs `mailtrace events`: status 2 if an input failed or no line was understood, else 0.
pub(super) fn run(args: &EventsArgs) -> Result<Exit> {
    common::apply_redaction_key(&args.redact_key)?;
    let inputs = common::batch_inputs(&args.input, false)?;
    let stdout = io::stdout();
    let mut printer = Printer {
        out: BufWriter::with_capacity(256 * 1024, stdout.lock()),
        name: String::new(),
        error: None,
        redact: args.redact,
    };
    let how = How {
        summaries: Summaries::Always,
        quiet: false,
        streams: true,
        window: Window::default(),
    };
    let reading = common::read_inputs(&inputs, &args.input, &how, &mut printer)?;
    printer.out.flush()?;
    if !reading.check_analysed(&how.window) {
        return Ok(Exit::Error);
    }
    Ok(reading.exit())
}
