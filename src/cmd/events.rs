//! `mailtrace events`: every understood log line as one JSON object per line (NDJSON).

use std::io::{self, BufWriter, StdoutLock, Write};
use std::ops::ControlFlow;

use super::common::{self, How, PerInput, Summaries, Window};
use crate::cli::EventsArgs;
use crate::error::{Error, Exit, Result};
use crate::model::event::{Event, Located};
use crate::parse::scan::At;
use crate::util::sanitize;

/// Writes each event with the input's name and the line number.
struct Printer<'a> {
    out: BufWriter<StdoutLock<'a>>,
    name: String,
    error: Option<io::Error>,
}

impl PerInput for Printer<'_> {
    fn begin(&mut self, name: &str) {
        self.name = name.to_string();
    }

    fn event(&mut self, e: &Event<'_>, at: At<'_>) -> ControlFlow<()> {
        let located = Located {
            event: e,
            file: &self.name,
            line: at.number,
        };
        match sanitize::write_json_line(&mut self.out, &located) {
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
    if args.redact {
        // TODO(merge): write each event through util::redact's keyed event redaction, keyed
        // by `common::redaction_key(&args.redact_key)`. Until that is connected, refuse
        // rather than print addresses in clear.
        return Err(Error::usage(
            "events --redact: redaction of events is not in this build yet",
        ));
    }
    let inputs = common::batch_inputs(&args.input, false)?;
    let stdout = io::stdout();
    let mut printer = Printer {
        out: BufWriter::with_capacity(256 * 1024, stdout.lock()),
        name: String::new(),
        error: None,
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
