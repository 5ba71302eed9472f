//! Finding a time in a log file without reading all of it: [`offset_of_time`], a binary
//! search over byte offsets (log lines are in time order).

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use chrono::NaiveDateTime;

use super::{YearSource, line_time};
use crate::input::LineReader;

/// Below this many bytes the binary search turns into a linear scan.
const PROBE_SPAN: u64 = 64 * 1024;

/// The next complete line of `r`: its length in bytes and its time. `None` at the end or
/// at an unfinished last line.
fn next_timed(
    r: &mut LineReader<impl BufRead>,
    year: YearSource,
) -> io::Result<Option<(u64, Option<NaiveDateTime>)>> {
    let before = r.bytes();
    let time = match r.next_line()? {
        Some(line) => line_time(line.text, year),
        None => return Ok(None),
    };
    if !r.line_complete() {
        return Ok(None);
    }
    Ok(Some((r.bytes() - before, time)))
}

/// The first line starting after `pos` (after the first `\n` at or after `pos`; at `pos`
/// itself when it is 0) and before `limit` that has a timestamp: its start, its end and
/// its time.
fn probe<R: Read + Seek>(
    f: &mut R,
    pos: u64,
    limit: u64,
    year: YearSource,
) -> io::Result<Option<(u64, u64, NaiveDateTime)>> {
    f.seek(SeekFrom::Start(pos))?;
    let mut r = LineReader::new(BufReader::with_capacity(8 * 1024, f));
    let mut at = pos;
    if pos > 0 {
        let Some((n, _)) = next_timed(&mut r, year)? else {
            return Ok(None);
        };
        at += n;
    }
    while at < limit {
        let Some((n, time)) = next_timed(&mut r, year)? else {
            return Ok(None);
        };
        if let Some(t) = time {
            return Ok(Some((at, at + n, t)));
        }
        at += n;
    }
    Ok(None)
}

/// The byte offset of the first line of `f` (`len` bytes long) whose timestamp is at or
/// after `target`, assuming lines are in time order (lines without a timestamp go with the
/// line before). When every line is older, the end of the last complete line. Binary
/// search over byte offsets down to 64 KiB, then a linear scan: a few dozen small
/// reads, whatever the size of the file.
pub fn offset_of_time<R: Read + Seek>(
    f: &mut R,
    len: u64,
    target: NaiveDateTime,
    year: YearSource,
) -> io::Result<u64> {
    // Every timed line starting before `lo` is older than `target`; `lo` is a line start.
    let (mut lo, mut hi) = (0u64, len);
    while hi - lo > PROBE_SPAN {
        let mid = lo + (hi - lo) / 2;
        match probe(f, mid, hi, year)? {
            Some((_, end, t)) if t < target => lo = end,
            _ => hi = mid,
        }
    }
    f.seek(SeekFrom::Start(lo))?;
    let mut r = LineReader::new(BufReader::with_capacity(16 * 1024, f));
    let mut at = lo;
    loop {
        match next_timed(&mut r, year)? {
            Some((_, Some(t))) if t >= target => return Ok(at),
            Some((n, _)) => at += n,
            None => return Ok(at),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::parse::time::MtimeYear;
    use std::io::Cursor;

    pub(crate) fn nd(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    /// Year-less timestamps of a file last written in November 2026.
    pub(crate) const YEAR: YearSource = YearSource::Mtime(MtimeYear {
        year: 2026,
        month: 11,
    });

    /// Counts the bytes read through it.
    struct Counting<R> {
        inner: R,
        read: u64,
    }

    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read += n as u64;
            Ok(n)
        }
    }

    impl<R: Seek> Seek for Counting<R> {
        fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
            self.inner.seek(pos)
        }
    }

    /// An Exim log from `from`, one line every `step` seconds, `n` lines, with an untimed
    /// continuation line after every seventh.
    pub(crate) fn exim_log(from: &str, step: i64, n: usize) -> String {
        let mut s = String::new();
        let t0 = nd(from);
        for i in 0..n {
            let t = t0 + chrono::Duration::seconds(step * i as i64);
            s.push_str(&format!(
                "{} 1tWx9Q-{i:08}-4kZ1 => x{i}@gmail.com R=dkim_lookuphost T=dkim_remote_smtp H=gmail-smtp-in.l.google.com [192.0.2.1] C=\"250 2.0.0 OK\"\n",
                t.format("%Y-%m-%d %H:%M:%S")
            ));
            if i % 7 == 0 {
                s.push_str(" Suggested action: nothing\n");
            }
        }
        s
    }

    /// The answer by reading every line.
    fn linear(data: &str, target: NaiveDateTime) -> u64 {
        let mut at = 0u64;
        for line in data.split_inclusive('\n') {
            if !line.ends_with('\n') {
                return at;
            }
            if line_time(line.trim_end_matches('\n'), YEAR).is_some_and(|t| t >= target) {
                return at;
            }
            at += line.len() as u64;
        }
        at
    }

    fn search(data: &str, target: &str) -> (u64, u64) {
        let mut c = Counting {
            inner: Cursor::new(data.as_bytes()),
            read: 0,
        };
        let off = offset_of_time(&mut c, data.len() as u64, nd(target), YEAR).unwrap();
        (off, c.read)
    }

    #[test]
    fn binary_search_finds_the_hour_start_reading_little() {
        // Two days, a line every 10 s: about 3 MB.
        let data = exim_log("2026-11-25 00:00:03", 10, 2 * 24 * 360);
        let len = data.len() as u64;
        assert!(len > 2_500_000);
        for target in [
            "2026-11-24 00:00:00",
            "2026-11-25 00:00:00",
            "2026-11-25 01:00:00",
            "2026-11-25 17:00:00",
            "2026-11-25 17:31:07",
            "2026-11-26 10:00:00",
            "2026-11-26 23:00:00",
            "2026-11-26 23:59:53",
            "2026-11-26 23:59:54",
            "2026-11-27 00:00:00",
        ] {
            let (off, read) = search(&data, target);
            assert_eq!(off, linear(&data, nd(target)), "{target}");
            assert!(read < 200_000, "{target}: read {read} of {len} bytes");
            if off < len {
                let line = data[off as usize..].lines().next().unwrap();
                assert!(line_time(line, YEAR).unwrap() >= nd(target));
            }
        }
        assert_eq!(search(&data, "2026-11-24 00:00:00").0, 0);
        assert_eq!(search(&data, "2026-11-27 00:00:00").0, len);
    }

    #[test]
    fn search_handles_small_empty_partial_and_untimed_files() {
        assert_eq!(search("", "2026-11-26 10:00:00").0, 0);
        let data = exim_log("2026-11-26 09:59:58", 1, 4);
        let at10 = data.find("2026-11-26 10:00:00").unwrap() as u64;
        assert_eq!(search(&data, "2026-11-26 10:00:00").0, at10);
        // An unfinished last line is never a place to start reading back from the middle of.
        let mut partial = data.clone();
        partial.push_str("2026-11-26 10:00:09 1tWx9Q-0000009");
        assert_eq!(search(&partial, "2026-11-26 11:00:00").0, data.len() as u64);
        // Junk without timestamps among the lines, large enough to be probed.
        let mut junk = exim_log("2026-11-26 08:00:00", 1, 3000);
        for _ in 0..5000 {
            junk.push_str("garbage line with no time at all\n");
        }
        junk.push_str(&exim_log("2026-11-26 10:00:00", 1, 3000));
        let target = "2026-11-26 09:00:00";
        assert_eq!(search(&junk, target).0, linear(&junk, nd(target)));
    }
}
