//! The one loop that reads the inputs of `events`, `report` and `trace` ([`read_inputs`]):
//! each input opened (a FIFO waits for a writer and says so, a directory is refused),
//! parsed and fed to the command, with what went wrong kept as [`Failure`]s and what was
//! read summed up in a [`Reading`], which also tells when there was nothing to analyse.

use std::fs::File;
use std::io::{self, BufRead};
use std::ops::ControlFlow;

use chrono::NaiveDateTime;
use indicatif::ProgressBar;

use super::common::{print_file_summary, scan_options, warn};
use super::progress::Progress;
use crate::aggregate::Filter;
use crate::cli::InputArgs;
use crate::error::{Exit, InputError, Result};
use crate::input::{self, Input};
use crate::model::event::Event;
use crate::parse::YearSource;
use crate::parse::scan::{self, At, FileStats, ScanOptions};
use crate::util::text::thousands;

/// What a command does with the inputs [`read_inputs`] reads.
pub(crate) trait PerInput {
    /// Called before each input, with its display name.
    fn begin(&mut self, _name: &str) {}

    /// Called with each event; `Break` stops reading (after an output error).
    fn event(&mut self, e: &Event<'_>, at: At<'_>) -> ControlFlow<()>;

    /// The output error that made [`PerInput::event`] stop, if any; it ends the command.
    fn take_error(&mut self) -> Option<io::Error> {
        None
    }
}

/// When [`read_inputs`] prints an input's summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Summaries {
    /// After every input (`events`).
    Always,
    /// With `--verbose`, or when reading the input failed.
    VerboseOrError,
}

/// How [`read_inputs`] reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct How {
    pub summaries: Summaries,
    /// `-q`: no progress bar (diagnostics of failures are printed all the same).
    pub quiet: bool,
    /// The command writes its output while it reads (`events`, `trace`).
    pub streams: bool,
    /// The time range of `--since`/`--until`, to tell when no line is in it.
    pub window: Window,
}

/// The time range of `--since` and `--until` (`[since, until)`, either end open).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Window {
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

impl Window {
    /// The range of a report or trace filter.
    pub(crate) fn of(filter: &Filter) -> Window {
        Window {
            since: filter.since,
            until: filter.until,
        }
    }

    fn contains(&self, t: NaiveDateTime) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }

    /// "from A to B", "at or after A", "before B".
    fn describe(&self) -> String {
        let f = |t: NaiveDateTime| t.format("%Y-%m-%d %H:%M:%S").to_string();
        match (self.since, self.until) {
            (Some(s), Some(u)) => format!("from {} to {}", f(s), f(u)),
            (Some(s), None) => format!("at or after {}", f(s)),
            (None, Some(u)) => format!("before {}", f(u)),
            (None, None) => "at all".to_string(),
        }
    }
}

/// An input that could not be read, at all or to its end, or is not a mail log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The input's display name.
    pub input: String,
    /// What went wrong, without the name.
    pub error: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.input, self.error)
    }
}

impl Failure {
    fn of_open(name: &str, e: &InputError) -> Failure {
        let error = match e {
            InputError::Open { source, .. } => source.to_string(),
            InputError::Directory { .. } => "is a directory".to_string(),
            InputError::Special { what, .. } => format!("is a {what}"),
            other => other.to_string(),
        };
        Failure {
            input: name.to_string(),
            error,
        }
    }
}

/// What [`read_inputs`] read.
#[derive(Debug, Default)]
pub(crate) struct Reading {
    /// One per input that could be opened, in reading order.
    pub stats: Vec<FileStats>,
    /// The inputs that failed, in reading order; the report is incomplete without them.
    pub failures: Vec<Failure>,
    names: Vec<String>,
    events: u64,
    in_window: u64,
    first: Option<NaiveDateTime>,
    last: Option<NaiveDateTime>,
}

impl Reading {
    /// How many inputs were read or tried.
    pub(crate) fn inputs(&self) -> usize {
        self.names.len()
    }

    /// [`Exit::Error`] if an input failed, else [`Exit::Ok`].
    pub(crate) fn exit(&self) -> Exit {
        Exit::of(!self.failures.is_empty(), false)
    }

    /// Returns false, after saying why on stderr, when there was nothing to analyse: no
    /// line understood (empty or unknown-format inputs), or none in `window`. When every
    /// input failed, their own diagnostics already said why.
    pub(crate) fn check_analysed(&self, window: &Window) -> bool {
        match self.nothing_analysed(window) {
            None => true,
            Some(why) => {
                if let Some(why) = why {
                    warn(&format!("nothing to analyse: {why}"));
                }
                false
            }
        }
    }

    /// Why nothing was analysed (`Some(None)`: the failures said it), or `None`.
    fn nothing_analysed(&self, window: &Window) -> Option<Option<String>> {
        let names = self.names.join(", ");
        if self.events == 0 {
            if !self.failures.is_empty() {
                return Some(None);
            }
            let lines: u64 = self.stats.iter().map(|s| s.lines).sum();
            if lines == 0 {
                let verb = if self.names.len() == 1 { "is" } else { "are" };
                return Some(Some(format!("{names} {verb} empty")));
            }
            return Some(Some(format!(
                "no Exim or Postfix log line understood among the {} lines of {names}",
                thousands(lines)
            )));
        }
        if self.in_window > 0 {
            return None;
        }
        let span = match (self.first, self.last) {
            (Some(a), Some(b)) => format!(
                " ({names}: {} to {})",
                a.format("%Y-%m-%d %H:%M:%S"),
                b.format("%Y-%m-%d %H:%M:%S")
            ),
            _ => String::new(),
        };
        Some(Some(format!("no log line {}{span}", window.describe())))
    }

    fn count(&mut self, e: &Event<'_>, window: &Window) {
        let t = e.time.local;
        self.events += 1;
        self.in_window += window.contains(t) as u64;
        self.first = Some(self.first.map_or(t, |f| f.min(t)));
        self.last = Some(self.last.map_or(t, |l| l.max(t)));
    }
}

/// Reads every input into `per_input`: the one loop of `events`, `report` and `trace`. An
/// input that cannot be opened, breaks off or is not a mail log is reported and kept as a
/// [`Failure`], and the next input is read; an output error ends the command.
pub(crate) fn read_inputs(
    inputs: &[Input],
    args: &InputArgs,
    how: &How,
    per_input: &mut impl PerInput,
) -> Result<Reading> {
    let opts = scan_options(args);
    let progress = Progress::start(inputs, how.quiet, how.streams);
    let mut reading = Reading::default();
    for input in inputs {
        let bar = progress.as_ref().and_then(|p| p.begin(input));
        read_one(input, &opts, args, how, bar, per_input, &mut reading)?;
    }
    Ok(reading)
}

/// Reads one input of [`read_inputs`].
fn read_one(
    input: &Input,
    opts: &ScanOptions,
    args: &InputArgs,
    how: &How,
    bar: Option<&ProgressBar>,
    per_input: &mut impl PerInput,
    reading: &mut Reading,
) -> Result<()> {
    let name = input.display_name();
    reading.names.push(name.clone());
    per_input.begin(&name);
    let reader = match open(input, bar) {
        Ok(r) => r,
        Err(e) => {
            warn(&e.to_string());
            reading.failures.push(Failure::of_open(&name, &e));
            return Ok(());
        }
    };
    let year = YearSource::for_input(input, opts.year);
    let st = scan::scan_reader(name.clone(), reader, year, opts, |e, at| {
        reading.count(e, &how.window);
        per_input.event(e, at)
    });
    if let Some(e) = per_input.take_error() {
        return Err(e.into());
    }
    if how.summaries == Summaries::Always || args.verbose || st.error.is_some() {
        print_file_summary(&st, args.verbose);
    }
    if let Some(e) = &st.error {
        reading.failures.push(Failure {
            input: name,
            error: e.clone(),
        });
    } else if is_unknown_format(&st) {
        let f = Failure {
            input: name,
            error: if st.lines == 1 {
                "not an Exim or Postfix log (its only line was not recognised)".to_string()
            } else {
                format!(
                    "not an Exim or Postfix log (none of its {} lines was recognised)",
                    thousands(st.lines)
                )
            },
        };
        warn(&f.to_string());
        reading.failures.push(f);
    }
    reading.stats.push(st);
    Ok(())
}

/// Returns true if and only if no line of the input had a log shape: not a mail log at all
/// (README.md given as the log). Only blank and malformed lines, at least one malformed.
fn is_unknown_format(st: &FileStats) -> bool {
    st.events == 0 && st.unrecognised == 0 && st.foreign == 0 && st.malformed > 0
}

/// Opens an input: a directory, device or socket is refused, a FIFO waits for a writer
/// (saying so once, see [`input::open_with`]), and a regular file's bytes are counted by the
/// progress bar.
fn open(input: &Input, bar: Option<&ProgressBar>) -> Result<Box<dyn BufRead + Send>, InputError> {
    let name = input.display_name();
    if let Input::Path(p) = input {
        refuse_special(p, &name)?;
        if let Some(bar) = bar {
            let open_err = |source| InputError::Open {
                path: name.clone(),
                source,
            };
            let file = File::open(p).map_err(open_err)?;
            return input::from_reader(Box::new(bar.wrap_read(file))).map_err(open_err);
        }
    }
    input::open_with(input, &mut |path| {
        warn(&format!("{path}: waiting for a writer on this FIFO"));
    })
}

/// The error for a path that is a directory, a device or a socket (symlinks followed).
fn refuse_special(p: &std::path::Path, name: &str) -> Result<(), InputError> {
    use std::os::unix::fs::FileTypeExt;
    let Ok(t) = std::fs::metadata(p).map(|m| m.file_type()) else {
        return Ok(()); // Opening it says why.
    };
    let what = if t.is_dir() {
        return Err(InputError::Directory {
            path: name.to_string(),
        });
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_socket() {
        "socket"
    } else {
        return Ok(());
    };
    Err(InputError::Special {
        path: name.to_string(),
        what,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn windows_are_half_open_and_described() {
        let w = Window {
            since: Some(t("2026-11-26 10:00:00")),
            until: Some(t("2026-11-26 11:00:00")),
        };
        assert!(w.contains(t("2026-11-26 10:00:00")));
        assert!(!w.contains(t("2026-11-26 11:00:00")));
        assert_eq!(
            w.describe(),
            "from 2026-11-26 10:00:00 to 2026-11-26 11:00:00"
        );
        assert!(Window::default().contains(t("1999-01-01 00:00:00")));
    }

    #[test]
    fn nothing_analysed_says_why() {
        let mut r = Reading {
            names: vec!["a.log".into()],
            stats: vec![FileStats::default()],
            ..Reading::default()
        };
        let all = Window::default();
        assert_eq!(
            r.nothing_analysed(&all),
            Some(Some("a.log is empty".into()))
        );
        r.failures.push(Failure {
            input: "a.log".into(),
            error: "x".into(),
        });
        assert_eq!(r.nothing_analysed(&all), Some(None));
        r.events = 3;
        r.in_window = 3;
        assert_eq!(r.nothing_analysed(&all), None);
    }
}
