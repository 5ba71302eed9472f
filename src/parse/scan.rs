//! Reading one input from end to end: lines ([`LineReader`]) → [`LineParser`] → events, with
//! the per-file counts the report header and the `events` summary print. It does not print;
//! a read error midway is kept in [`FileStats::error`].

use std::io::BufRead;
use std::ops::ControlFlow;

use super::{LineParser, Parsed, YearSource};
use crate::input::{self, Input, LineReader};
use crate::model::event::{Event, Mta};

/// What an event callback returns: `()` to go on, or a [`ControlFlow`] to stop early
/// (e.g. when the output pipe closed).
pub trait Flow {
    fn is_break(&self) -> bool;
}

impl Flow for () {
    fn is_break(&self) -> bool {
        false
    }
}

impl Flow for ControlFlow<()> {
    fn is_break(&self) -> bool {
        matches!(self, ControlFlow::Break(()))
    }
}

/// Where an event came from: its line number and the line's text.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    pub number: u64,
    pub text: &'a str,
}

/// Settings that apply to every input.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// `--mta`: parse every file as this MTA.
    pub mta: Option<Mta>,
    /// `--year`: the year of the first line of year-less logs.
    pub year: Option<i32>,
    /// How many unrecognised lines to keep per file for `--verbose`.
    pub samples: usize,
}

/// What reading one input found.
#[derive(Debug, Clone, Default)]
pub struct FileStats {
    pub name: String,
    /// The MTA most events came from.
    pub mta: Option<Mta>,
    pub lines: u64,
    pub bytes: u64,
    pub events: u64,
    /// MTA lines no parser understood.
    pub unrecognised: u64,
    /// Lines with no known log shape.
    pub malformed: u64,
    /// Lines of other programs in a shared syslog.
    pub foreign: u64,
    /// MTA lines with nothing to report (continuations, blank lines).
    pub ignored: u64,
    pub invalid_utf8: u64,
    pub truncated: u64,
    pub binary: u64,
    /// The first few unrecognised or malformed lines: (line number, text).
    pub samples: Vec<(u64, String)>,
    /// A read error that ended this input early (e.g. a corrupt or truncated compressed
    /// stream).
    pub error: Option<String>,
    /// The caller asked to stop before the end of the input.
    pub stopped: bool,
    exim_events: u64,
    postfix_events: u64,
}

impl FileStats {
    /// Lines that belong to an MTA: understood, ignored continuation, or unrecognised.
    pub fn mta_lines(&self) -> u64 {
        self.events + self.unrecognised + self.ignored
    }
}

/// Opens `input` and feeds every event to `on_event(event, at)`.
/// An input that cannot be opened is an `Err`; a read error midway is kept in
/// [`FileStats::error`] after the lines read before it were delivered.
pub fn scan_input<F: Flow>(
    input: &Input,
    opts: &ScanOptions,
    on_event: impl FnMut(&Event<'_>, At<'_>) -> F,
) -> Result<FileStats, input::InputError> {
    let reader = input::open(input)?;
    let year_source = YearSource::for_input(input, opts.year);
    Ok(scan_reader(
        input.display_name(),
        reader,
        year_source,
        opts,
        on_event,
    ))
}

/// Like [`scan_input`] on an already opened reader.
pub fn scan_reader<F: Flow>(
    name: String,
    reader: impl BufRead,
    year_source: YearSource,
    opts: &ScanOptions,
    mut on_event: impl FnMut(&Event<'_>, At<'_>) -> F,
) -> FileStats {
    let mut parser = LineParser::new(opts.mta, year_source);
    let mut lines = LineReader::new(reader);
    let mut st = FileStats {
        name,
        ..FileStats::default()
    };
    loop {
        let input::Line {
            text: line,
            number: n,
            flags,
        } = match lines.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                st.error = Some(format!("line {}: {e}", lines.line_no() + 1));
                break;
            }
        };
        st.invalid_utf8 += flags.invalid_utf8 as u64;
        st.truncated += flags.truncated as u64;
        st.binary += flags.binary as u64;
        match parser.parse(line) {
            Parsed::Event(e) => {
                st.events += 1;
                match e.mta {
                    Mta::Exim => st.exim_events += 1,
                    Mta::Postfix => st.postfix_events += 1,
                }
                if on_event(
                    &e,
                    At {
                        number: n,
                        text: line,
                    },
                )
                .is_break()
                {
                    st.stopped = true;
                    break;
                }
            }
            Parsed::Foreign => st.foreign += 1,
            Parsed::Ignored => st.ignored += 1,
            bad @ (Parsed::Unrecognised | Parsed::Malformed) => {
                if matches!(bad, Parsed::Unrecognised) {
                    st.unrecognised += 1;
                } else {
                    st.malformed += 1;
                }
                if st.samples.len() < opts.samples {
                    st.samples.push((n, line.chars().take(300).collect()));
                }
            }
        }
    }
    st.lines = lines.line_no();
    st.bytes = lines.bytes();
    st.mta = match (st.exim_events, st.postfix_events) {
        (0, 0) => opts.mta,
        (e, p) if e >= p => Some(Mta::Exim),
        _ => Some(Mta::Postfix),
    };
    st
}

/// The time of the last event in `input`, for `--since 1h` (back from the log's end).
/// A plain file is read from its last 256 KiB; a compressed one is read through.
/// Standard input cannot be read twice: `None`.
pub(crate) fn last_event_time(input: &Input, opts: &ScanOptions) -> Option<chrono::NaiveDateTime> {
    use std::io::{Seek, SeekFrom};
    let Input::Path(p) = input else { return None };
    let mut last = None;
    if input::is_compressed(p) {
        let opts = ScanOptions {
            samples: 0,
            ..opts.clone()
        };
        scan_input(input, &opts, |e, _| last = Some(e.time.local)).ok()?;
        return last;
    }
    let mut f = std::fs::File::open(p).ok()?;
    let len = f.metadata().ok()?.len();
    let start = len.saturating_sub(256 * 1024);
    f.seek(SeekFrom::Start(start)).ok()?;
    let mut reader = std::io::BufReader::new(f);
    if start > 0 {
        let mut skip = Vec::new();
        reader.read_until(b'\n', &mut skip).ok()?;
    }
    let year_source = YearSource::for_input(input, opts.year);
    scan_reader(String::new(), reader, year_source, opts, |e, _| {
        last = Some(e.time.local)
    });
    last
}
