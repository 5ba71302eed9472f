//! Turning one log line into an [`Event`].
//!
//! This module finds the line's shape (Exim mainlog, syslog with an `exim`/`postfix` tag,
//! RFC 3339 syslog, journald JSON), reads the timestamp, and hands the message text to the
//! MTA's own parser ([`exim`], [`postfix`]). Parsing never prints and never fails: a line is
//! an event, a line of another program, a line we know but do not use, or unrecognised.

pub mod exim;
pub mod postfix;
pub mod syslog;
pub mod time;

use crate::model::event::{Event, Mta, Timestamp};
use time::{MtimeYear, YearTracker};

/// What one line turned out to be.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // built and consumed once per line, never stored
pub enum Parsed<'a> {
    /// An MTA line we understood.
    Event(Event<'a>),
    /// A line of another program in a shared syslog (dovecot, amavis, cron, …).
    Foreign,
    /// An MTA line that carries nothing to report (an Exim continuation line, a blank line).
    Ignored,
    /// A line of an MTA (by its timestamp shape or syslog tag) that its parser did not
    /// understand.
    Unrecognised,
    /// A line of no known log shape: no timestamp, a copy-paste fragment, binary junk.
    Malformed,
}

/// Where year-less syslog timestamps take their year from.
#[derive(Debug, Clone, Copy)]
pub enum YearSource {
    /// `--year`: the year of the file's first line.
    Fixed(i32),
    /// The file's modification time (year, month).
    Mtime(MtimeYear),
}

/// A per-file line parser. It keeps the state that a file needs across lines: the year of
/// year-less timestamps and a scratch buffer for journald JSON records.
pub struct LineParser {
    forced: Option<Mta>,
    year_source: YearSource,
    tracker: Option<YearTracker>,
    scratch: String,
}

impl LineParser {
    pub fn new(forced: Option<Mta>, year_source: YearSource) -> Self {
        LineParser {
            forced,
            year_source,
            tracker: None,
            scratch: String::new(),
        }
    }

    /// The MTA this parser was told to expect with `--mta`.
    pub fn forced(&self) -> Option<Mta> {
        self.forced
    }

    fn accepts(&self, mta: Mta) -> bool {
        self.forced.is_none_or(|f| f == mta)
    }

    /// Parses one line (without its line end).
    pub fn parse<'a>(&'a mut self, line: &'a str) -> Parsed<'a> {
        let first = match line.as_bytes().first() {
            None => return Parsed::Ignored,
            Some(b) => *b,
        };
        if first.is_ascii_digit() {
            if let Some((ts, rest)) = time::iso_prefix(line)
                && let Some(rec) = syslog::record(rest)
            {
                return self.dispatch(ts, rec);
            }
            if let Some((ts, rest)) = time::exim_prefix(line) {
                if !self.accepts(Mta::Exim) {
                    return Parsed::Unrecognised;
                }
                return match exim::parse(ts, rest) {
                    Some(e) => Parsed::Event(e),
                    None => Parsed::Unrecognised,
                };
            }
            return Parsed::Malformed;
        }
        if first == b'{' {
            return self.parse_journal_json(line);
        }
        if first == b' ' || first == b'\t' {
            // Exim continuation of a multi-line entry (e.g. " Suggested action: ...").
            return Parsed::Ignored;
        }
        if let Some((st, rest)) = time::syslog_prefix(line) {
            let Some(rec) = syslog::record(rest) else {
                return Parsed::Malformed;
            };
            let tracker = self.tracker.get_or_insert_with(|| {
                YearTracker::new(match self.year_source {
                    YearSource::Fixed(y) => y,
                    YearSource::Mtime(m) => m.first_line_year(st.month),
                })
            });
            let Some(local) = tracker.resolve(st) else {
                return Parsed::Unrecognised;
            };
            return self.dispatch(Timestamp::new(local, None), rec);
        }
        Parsed::Malformed
    }

    fn dispatch<'a>(&self, ts: Timestamp, rec: syslog::Record<'a>) -> Parsed<'a> {
        match syslog::program_mta(rec.program) {
            Some(Mta::Exim) if self.accepts(Mta::Exim) => {
                // Exim keeps its own timestamp inside syslog records by default; it has the
                // year, so prefer it.
                let (ts, msg) = time::exim_prefix(rec.message).unwrap_or((ts, rec.message));
                match exim::parse(ts, msg) {
                    Some(e) => Parsed::Event(e),
                    None => Parsed::Unrecognised,
                }
            }
            Some(Mta::Postfix) if self.accepts(Mta::Postfix) => {
                match postfix::parse(ts, rec.program, rec.message) {
                    Some(e) => Parsed::Event(e),
                    None => Parsed::Unrecognised,
                }
            }
            _ => Parsed::Foreign,
        }
    }

    fn parse_journal_json<'a>(&'a mut self, line: &'a str) -> Parsed<'a> {
        let Some((ts, ident, pid, message)) = syslog::journal_fields(line) else {
            return Parsed::Malformed;
        };
        self.scratch.clear();
        self.scratch.push_str(&ident);
        if let Some(pid) = pid {
            self.scratch.push('[');
            self.scratch.push_str(&pid);
            self.scratch.push(']');
        }
        self.scratch.push_str(": ");
        self.scratch.push_str(&message);
        let Some(rec) = syslog::tag_and_message(&self.scratch) else {
            return Parsed::Malformed;
        };
        self.dispatch(ts, rec)
    }
}

/// Guesses the MTA of a file from its first lines: the MTA with more recognised lines.
pub fn detect<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<Mta> {
    let (mut exim_n, mut postfix_n) = (0usize, 0usize);
    for line in lines {
        let mut p = LineParser::new(None, YearSource::Fixed(2000));
        if let Parsed::Event(e) = p.parse(line) {
            match e.mta {
                Mta::Exim => exim_n += 1,
                Mta::Postfix => postfix_n += 1,
            }
        }
    }
    match (exim_n, postfix_n) {
        (0, 0) => None,
        (e, p) if e >= p => Some(Mta::Exim),
        _ => Some(Mta::Postfix),
    }
}
