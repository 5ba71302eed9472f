//! Timestamps at the start of log lines: Exim's `YYYY-MM-DD HH:MM:SS[.mmm][ ±HHMM]`, RFC 3339,
//! and year-less syslog `Mon DD HH:MM:SS[.frac]` with the year inferred per file.
//!
//! All parsing is done on bytes by hand: it runs once per line.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use crate::model::event::Timestamp;

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() {
        return None;
    }
    let mut n = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as u32;
    }
    Some(n)
}

/// Parses `HH:MM:SS` at the start of `b`.
fn hms(b: &[u8]) -> Option<(u32, u32, u32)> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    Some((digits(&b[0..2])?, digits(&b[3..5])?, digits(&b[6..8])?))
}

/// Parses `.ddd…` at the start of `b`; returns (nanoseconds, bytes used).
fn fraction(b: &[u8]) -> (u32, usize) {
    if b.first() != Some(&b'.') {
        return (0, 0);
    }
    let mut n = 0u32;
    let mut len = 0usize;
    for &c in &b[1..] {
        if !c.is_ascii_digit() || len == 9 {
            break;
        }
        n = n * 10 + (c - b'0') as u32;
        len += 1;
    }
    if len == 0 {
        return (0, 0);
    }
    (n * 10u32.pow(9 - len as u32), len + 1)
}

fn make(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ns: u32) -> Option<NaiveDateTime> {
    let date = NaiveDate::from_ymd_opt(y, mo, d)?;
    // Leap seconds (`:60`) are clamped rather than rejected.
    let time = NaiveTime::from_hms_nano_opt(h, mi, s.min(59), ns)?;
    Some(NaiveDateTime::new(date, time))
}

/// The numbers of a `YYYY-MM-DD HH:MM:SS[.frac]`, not yet checked as a date and time.
struct Fields {
    y: i32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    ns: u32,
}

impl Fields {
    fn date_time(&self) -> Option<NaiveDateTime> {
        make(self.y, self.mo, self.d, self.h, self.mi, self.s, self.ns)
    }
}

/// Reads `YYYY-MM-DD` + `sep` + `HH:MM:SS[.frac]` at the start of `b`, without building the
/// date (the dearer part, left to the caller once the rest of the prefix matched).
/// Returns the fields and the number of bytes used.
fn date_time_fields(b: &[u8], sep: u8) -> Option<(Fields, usize)> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != sep {
        return None;
    }
    let y = digits(&b[0..4])? as i32;
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    let (h, mi, s) = hms(&b[11..19])?;
    let (ns, flen) = fraction(&b[19..]);
    Some((
        Fields {
            y,
            mo,
            d,
            h,
            mi,
            s,
            ns,
        },
        19 + flen,
    ))
}

/// Parses `YYYY-MM-DD` + `sep` + `HH:MM:SS[.frac]` at the start of `b`.
/// Returns the date-time and the number of bytes used.
fn date_time(b: &[u8], sep: u8) -> Option<(NaiveDateTime, usize)> {
    let (f, used) = date_time_fields(b, sep)?;
    Some((f.date_time()?, used))
}

/// Parses a numeric zone `±HHMM` or `±HH:MM` (or `Z`); returns (offset seconds, bytes used).
fn zone(b: &[u8]) -> Option<(i32, usize)> {
    match b.first()? {
        b'Z' => Some((0, 1)),
        c @ (b'+' | b'-') => {
            let sign = if *c == b'-' { -1 } else { 1 };
            let (hh, mm, used) = if b.len() >= 6 && b[3] == b':' {
                (digits(&b[1..3])?, digits(&b[4..6])?, 6)
            } else if b.len() >= 5 {
                (digits(&b[1..3])?, digits(&b[3..5])?, 5)
            } else {
                return None;
            };
            if hh > 23 || mm > 59 {
                return None;
            }
            Some((sign * (hh as i32 * 3600 + mm as i32 * 60), used))
        }
        _ => None,
    }
}

/// An Exim mainlog prefix: `YYYY-MM-DD HH:MM:SS[.mmm][ ±HHMM] `.
/// Returns the timestamp and the rest of the line after the following space.
pub fn exim_prefix(line: &str) -> Option<(Timestamp, &str)> {
    let b = line.as_bytes();
    let (dt, mut i) = date_time(b, b' ')?;
    let mut offset = None;
    if b.get(i) == Some(&b' ')
        && matches!(b.get(i + 1), Some(b'+' | b'-'))
        && let Some((off, used)) = zone(&b[i + 1..])
    {
        // Only a zone when followed by a space or the end of the line.
        if matches!(b.get(i + 1 + used), None | Some(b' ')) {
            offset = Some(off);
            i += 1 + used;
        }
    }
    match b.get(i) {
        Some(b' ') => Some((Timestamp::new(dt, offset), &line[i + 1..])),
        None => Some((Timestamp::new(dt, offset), "")),
        _ => None,
    }
}

/// An RFC 3339 / ISO 8601 timestamp followed by a space: `T` between date and time and a
/// zone of `Z`, `±HH:MM` or `±HHMM`; or a space between date and time, which is accepted only
/// with `Z` or `±HH:MM` so that an Exim line with `log_timezone` (`±HHMM`) is not mistaken
/// for one. Returns the timestamp and the rest after the space.
pub fn iso_prefix(line: &str) -> Option<(Timestamp, &str)> {
    let b = line.as_bytes();
    let (f, i, spaced) = match date_time_fields(b, b'T') {
        Some((f, i)) => (f, i, false),
        None => {
            let (f, i) = date_time_fields(b, b' ')?;
            (f, i, true)
        }
    };
    let (off, used) = zone(&b[i..])?;
    if spaced && used == 5 {
        return None;
    }
    let j = i + used;
    if b.get(j) != Some(&b' ') {
        return None;
    }
    // The date is built last: an Exim line (no zone after the time) is told apart first.
    Some((Timestamp::new(f.date_time()?, Some(off)), &line[j + 1..]))
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// A year-less syslog time as written: month, day, time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyslogTime {
    pub month: u32,
    pub day: u32,
    pub time: NaiveTime,
}

/// `Mon DD HH:MM:SS[.frac] ` with a space- or zero-padded day. Returns the time and the rest.
pub fn syslog_prefix(line: &str) -> Option<(SyslogTime, &str)> {
    let b = line.as_bytes();
    if b.len() < 16 || b[3] != b' ' {
        return None;
    }
    let month = MONTHS.iter().position(|m| &b[0..3] == *m)? as u32 + 1;
    let day = match (b[4], b[5]) {
        (b' ', d) if d.is_ascii_digit() => (d - b'0') as u32,
        (a, d) if a.is_ascii_digit() && d.is_ascii_digit() => ((a - b'0') * 10 + (d - b'0')) as u32,
        _ => return None,
    };
    if b[6] != b' ' {
        return None;
    }
    let (h, mi, s) = hms(&b[7..15])?;
    let (ns, flen) = fraction(&b[15..]);
    let i = 15 + flen;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    let time = NaiveTime::from_hms_nano_opt(h, mi, s.min(59), ns)?;
    if day == 0 || day > 31 {
        return None;
    }
    Some((SyslogTime { month, day, time }, &line[i + 1..]))
}

/// Gives year-less syslog times a year, reading one file forward.
///
/// The first line takes `base_year` (from `--year`, or the file's modification time); each
/// time the month goes backwards by more than one month (December → January) the year
/// advances, so a file that spans New Year keeps its order.
#[derive(Debug, Clone)]
pub struct YearTracker {
    year: i32,
    last_month: Option<u32>,
}

impl YearTracker {
    pub fn new(base_year: i32) -> Self {
        YearTracker {
            year: base_year,
            last_month: None,
        }
    }

    /// A tracker for a file whose last write was at `mtime` (year and month) when no
    /// `--year` is given: the first line's year is the modification year, or the year
    /// before if the first line's month lies after the modification month.
    pub fn from_mtime(mtime_year: i32, mtime_month: u32) -> MtimeYear {
        MtimeYear {
            year: mtime_year,
            month: mtime_month,
        }
    }

    pub fn resolve(&mut self, t: SyslogTime) -> Option<NaiveDateTime> {
        if let Some(last) = self.last_month {
            if t.month + 1 < last {
                self.year += 1;
            } else if t.month > last + 1 && last == 1 && t.month == 12 {
                // A stray December line right after January (out-of-order syslog
                // relay): keep it in the previous year without moving the tracker.
                let d = NaiveDate::from_ymd_opt(self.year - 1, t.month, t.day)?;
                return Some(NaiveDateTime::new(d, t.time));
            }
        }
        self.last_month = Some(t.month);
        let d = NaiveDate::from_ymd_opt(self.year, t.month, t.day)
            // 29 February in a non-leap year: the year guess was wrong; try the next one back.
            .or_else(|| NaiveDate::from_ymd_opt(self.year - 1, t.month, t.day))?;
        Some(NaiveDateTime::new(d, t.time))
    }
}

/// The year source for a file read without `--year`: decided on its first syslog line.
#[derive(Debug, Clone, Copy)]
pub struct MtimeYear {
    pub year: i32,
    pub month: u32,
}

impl MtimeYear {
    pub(crate) fn first_line_year(&self, first_month: u32) -> i32 {
        if first_month > self.month {
            self.year - 1
        } else {
            self.year
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nd(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    #[test]
    fn exim_prefix_plain_millis_and_zone() {
        let (t, rest) = exim_prefix("2026-11-26 10:00:01 1abc <= x").unwrap();
        assert_eq!(t.local, nd("2026-11-26 10:00:01"));
        assert_eq!(t.offset, None);
        assert_eq!(rest, "1abc <= x");
        let (t, rest) = exim_prefix("2017-07-30 18:51:05.712 +0100 [123] x").unwrap();
        assert_eq!(t.local, nd("2017-07-30 18:51:05.712"));
        assert_eq!(t.offset, Some(3600));
        assert_eq!(rest, "[123] x");
        let (t, _) = exim_prefix("2003-04-25 11:17:07 -0530 x").unwrap();
        assert_eq!(t.offset, Some(-(5 * 3600 + 1800)));
        assert!(exim_prefix("2026-13-26 10:00:01 x").is_none());
        assert!(exim_prefix("2026-11-26T10:00:01 x").is_none());
        assert!(exim_prefix("Nov 26 10:00:01 x").is_none());
    }

    #[test]
    fn iso_prefix_accepts_both_zone_forms() {
        let (t, rest) =
            iso_prefix("2026-11-27T10:00:01.123456+00:00 mx1 postfix/smtp[1]: x").unwrap();
        assert_eq!(t.local, nd("2026-11-27 10:00:01.123456"));
        assert_eq!(t.offset, Some(0));
        assert_eq!(rest, "mx1 postfix/smtp[1]: x");
        let (t, _) = iso_prefix("2026-11-27T10:00:01+0100 mx1 p: x").unwrap();
        assert_eq!(t.offset, Some(3600));
        let (t, _) = iso_prefix("2026-11-27T10:00:01Z mx1 p: x").unwrap();
        assert_eq!(t.offset, Some(0));
        assert!(iso_prefix("2026-11-27T10:00:01 mx1 p: x").is_none());
    }

    #[test]
    fn syslog_prefix_space_and_zero_padded_days() {
        let (t, rest) = syslog_prefix("Nov  7 10:00:01 host postfix/smtp[123]: x").unwrap();
        assert_eq!((t.month, t.day), (11, 7));
        assert_eq!(rest, "host postfix/smtp[123]: x");
        let (t, _) = syslog_prefix("Nov 07 10:00:01.123456 host p: x").unwrap();
        assert_eq!((t.month, t.day), (11, 7));
        assert_eq!(
            t.time,
            NaiveTime::from_hms_micro_opt(10, 0, 1, 123456).unwrap()
        );
        assert!(syslog_prefix("Foo 07 10:00:01 host p: x").is_none());
        assert!(syslog_prefix("Nov 32 10:00:01 host p: x").is_none());
    }

    #[test]
    fn year_rolls_over_from_december_to_january() {
        let mut y = YearTracker::new(2025);
        let (dec, _) = syslog_prefix("Dec 31 23:59:59 h p: x").unwrap();
        let (jan, _) = syslog_prefix("Jan  1 00:00:01 h p: x").unwrap();
        assert_eq!(y.resolve(dec).unwrap(), nd("2025-12-31 23:59:59"));
        assert_eq!(y.resolve(jan).unwrap(), nd("2026-01-01 00:00:01"));
        // A late December line after the rollover stays in the old year.
        assert_eq!(y.resolve(dec).unwrap(), nd("2025-12-31 23:59:59"));
        assert_eq!(y.resolve(jan).unwrap(), nd("2026-01-01 00:00:01"));
    }

    #[test]
    fn mtime_year_steps_back_when_first_month_is_later() {
        let m = YearTracker::from_mtime(2026, 1);
        assert_eq!(m.first_line_year(12), 2025);
        assert_eq!(m.first_line_year(1), 2026);
    }
}
