//! Stage 2 of the pipeline, line → [`Event`].
//!
//! [`LineParser`] finds the line's shape (Exim mainlog, syslog with an `exim`/`postfix` tag,
//! RFC 3339 syslog, journald JSON), reads the timestamp, and hands the message text to the
//! MTA's own parser ([`exim`], [`postfix`]). Parsing never prints and never fails: a line is
//! an event, a line of another program, a line we know but do not use, or unrecognised.
//! [`YearSource::for_input`] is the one rule for the year of year-less timestamps, and
//! [`line_time`] reads just a line's time. [`scan`] reads one whole input into events;
//! [`seek`] finds a time in a file by binary search.

pub mod exim;
pub mod postfix;
pub mod scan;
pub mod seek;
pub mod syslog;
pub mod time;

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use crate::input::Input;
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

impl YearSource {
    /// Where the year-less timestamps of `input` take their year from: `year` (`--year`)
    /// if given, else the input's modification time (now for standard input, or when the
    /// time cannot be read, e.g. of a followed file that does not exist yet).
    pub fn for_input(input: &Input, year: Option<i32>) -> YearSource {
        match year {
            Some(y) => YearSource::Fixed(y),
            None => {
                let (y, m) = input.mtime_year_month().unwrap_or_else(|| {
                    let now = chrono::Local::now();
                    (now.year(), now.month())
                });
                YearSource::Mtime(YearTracker::from_mtime(y, m))
            }
        }
    }

    /// The year of a file's first year-less line, dated in `month`.
    pub(crate) fn first_line_year(&self, month: u32) -> i32 {
        match self {
            YearSource::Fixed(y) => *y,
            YearSource::Mtime(m) => m.first_line_year(month),
        }
    }
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
                YearTracker::new(self.year_source.first_line_year(st.month))
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

/// The local time a log line starts with (Exim, RFC 3339, syslog with the year from `year`,
/// journald JSON), whatever the line says after it. Unlike [`LineParser::parse`] it keeps no
/// state across lines: a syslog date takes the year of the file's first line in its month
/// (the year before for a 29 February that year lacks).
pub fn line_time(line: &str, year: YearSource) -> Option<NaiveDateTime> {
    let first = *line.as_bytes().first()?;
    if first.is_ascii_digit() {
        if let Some((t, _)) = time::iso_prefix(line) {
            return Some(t.local);
        }
        return time::exim_prefix(line).map(|(t, _)| t.local);
    }
    if first == b'{' {
        return syslog::journal_fields(line).map(|r| r.0.local);
    }
    let (st, _) = time::syslog_prefix(line)?;
    let y = year.first_line_year(st.month);
    let d = NaiveDate::from_ymd_opt(y, st.month, st.day)
        .or_else(|| NaiveDate::from_ymd_opt(y - 1, st.month, st.day))?;
    Some(d.and_time(st.time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::seek::tests::{YEAR, nd};
    use chrono::Timelike;

    #[test]
    fn line_time_reads_every_log_shape() {
        for (line, want) in [
            (
                "2026-11-26 10:00:01 1tWx9Q-00000000Aq3-4kZ1 ** x@gmail.com",
                "2026-11-26 10:00:01",
            ),
            (
                "2026-11-26 10:00:01.712 +0100 [123] 1tWx9Q-00000000Aq3-4kZ1 <= a@b",
                "2026-11-26 10:00:01",
            ),
            (
                "2026-11-26T10:00:01.123456+00:00 mx1 postfix/smtp[1]: ABC: to=<a@b>",
                "2026-11-26 10:00:01",
            ),
            (
                "Nov 26 10:00:01 mx1 postfix/smtp[1]: ABC: to=<a@b>",
                "2026-11-26 10:00:01",
            ),
            // After the file's modification month: last year.
            ("Dec 31 23:59:59 mx1 exim[1]: x", "2025-12-31 23:59:59"),
        ] {
            let t = line_time(line, YEAR).unwrap();
            assert_eq!(t.with_nanosecond(0).unwrap(), nd(want), "{line}");
        }
        assert_eq!(line_time(" Suggested action: x", YEAR), None);
        assert_eq!(line_time("", YEAR), None);
        assert_eq!(line_time("garbage", YEAR), None);
    }
}
