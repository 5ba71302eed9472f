//! Reading back the followed files at start-up: where each one starts (binary search by
//! time, or the previous rotated file first), and a merge of several files' lines in time
//! order.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};

use super::common;
use crate::error::{InputError, Result};
use crate::input::tail::StartAt;
use crate::input::{self, Input, LineReader};
use crate::model::event::Mta;
use crate::parse::time::{self, MtimeYear, YearTracker};
use crate::parse::{LineParser, YearSource, syslog};

/// Below this many bytes the binary search turns into a linear scan.
const PROBE_SPAN: u64 = 64 * 1024;

/// How to read back.
pub(super) struct ReadBackOptions {
    /// Read lines from this time on; `None`: every followed file from its start.
    pub(super) read_from: Option<NaiveDateTime>,
    pub(super) mta: Option<Mta>,
    pub(super) year: Option<i32>,
}

/// The year source for year-less timestamps of a file: `--year`, or its modification time.
fn year_of(path: &Path, year: Option<i32>) -> (YearSource, MtimeYear) {
    match year {
        Some(y) => (YearSource::Fixed(y), MtimeYear { year: y, month: 12 }),
        None => {
            let (y, m) = Input::Path(path.to_path_buf())
                .mtime_year_month()
                .unwrap_or_else(|| {
                    let now = chrono::Local::now().naive_local();
                    (chrono::Datelike::year(&now), chrono::Datelike::month(&now))
                });
            let my = YearTracker::from_mtime(y, m);
            (YearSource::Mtime(my), my)
        }
    }
}

pub(super) fn new_parser(path: &Path, opts: &ReadBackOptions) -> LineParser {
    LineParser::new(opts.mta, year_of(path, opts.year).0)
}

/// The local time a log line starts with (Exim, RFC 3339, syslog with the year from `year`,
/// journald JSON), whatever the line says after it.
pub(super) fn line_time(line: &str, year: MtimeYear) -> Option<NaiveDateTime> {
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

/// The next complete line of `r`: its length in bytes and its time. `None` at the end or
/// at an unfinished last line.
fn next_timed(
    r: &mut LineReader<impl BufRead>,
    year: MtimeYear,
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
    year: MtimeYear,
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
/// search over byte offsets down to [`PROBE_SPAN`], then a linear scan: a few dozen small
/// reads, whatever the size of the file.
pub(super) fn offset_of_time<R: Read + Seek>(
    f: &mut R,
    len: u64,
    target: NaiveDateTime,
    year: MtimeYear,
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

/// One file, or part of it, to read back.
pub(super) struct Segment {
    path: PathBuf,
    reader: LineReader<Box<dyn BufRead + Send>>,
    pub(super) parser: LineParser,
    year: MtimeYear,
    /// Lines are skipped until one at or after this time (compressed files).
    skip_before: Option<NaiveDateTime>,
    /// The followed file itself (its parser is kept for following).
    live: bool,
}

/// The next line of a stream, read ahead to merge streams by time.
struct Head {
    time: Option<NaiveDateTime>,
    text: String,
}

/// The files read back for one followed path: maybe the previous rotated file, then the
/// live file.
pub(super) struct Stream {
    pub(super) path: PathBuf,
    segments: VecDeque<Segment>,
    head: Option<Head>,
    pub(super) live_parser: Option<LineParser>,
    /// The files have lines older than the read-back start.
    covered: bool,
}

impl Stream {
    /// Prepares reading back `path`. Returns the stream, where the follower starts, and
    /// whether the log reaches back before the read-back start (so the hours in between
    /// are known to be quiet rather than unseen).
    pub(super) fn open(
        path: &Path,
        followed: &[PathBuf],
        opts: &ReadBackOptions,
    ) -> Result<(Stream, StartAt, bool)> {
        let mut stream = Stream {
            path: path.to_path_buf(),
            segments: VecDeque::new(),
            head: None,
            live_parser: None,
            covered: false,
        };
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok((stream, StartAt::Beginning, false));
            }
            Err(source) => {
                return Err(InputError::Open {
                    path: path.display().to_string(),
                    source,
                }
                .into());
            }
        };
        let len = file.metadata()?.len();
        let end = input::lines::complete_end(&mut &file, len)?;
        let (source, year) = year_of(path, opts.year);
        let start = match opts.read_from {
            None => 0,
            Some(t) => offset_of_time(&mut &file, len, t, year)?.min(end),
        };
        stream.covered = start > 0;
        if start == 0
            && let Some(t) = opts.read_from
            && let Some(prev) = input::previous_rotated(path)
            && !followed.contains(&prev)
        {
            match Segment::earlier(&prev, t, opts) {
                Ok(Some((seg, c))) => {
                    stream.covered |= c;
                    stream.segments.push_back(seg);
                }
                Ok(None) => {}
                Err(e) => common::warn(&format!("{}: {e}", prev.display())),
            }
        }
        let mut f = file;
        f.seek(SeekFrom::Start(start))?;
        let reader: Box<dyn BufRead + Send> =
            Box::new(BufReader::with_capacity(256 * 1024, f.take(end - start)));
        stream.segments.push_back(Segment {
            path: path.to_path_buf(),
            reader: LineReader::new(reader),
            parser: LineParser::new(opts.mta, source),
            year,
            skip_before: None,
            live: true,
        });
        // Reads ahead the first line, skipping the older lines of a compressed file.
        stream.advance();
        let covered = stream.covered;
        Ok((stream, StartAt::Offset(end), covered))
    }

    /// Moves to the next line to merge, if any.
    fn advance(&mut self) {
        self.head = None;
        while let Some(seg) = self.segments.front_mut() {
            match seg.reader.next_line() {
                Ok(Some(line)) => {
                    let t = line_time(line.text, seg.year);
                    if let Some(cut) = seg.skip_before {
                        if t.is_none_or(|t| t < cut) {
                            self.covered |= t.is_some();
                            continue;
                        }
                        seg.skip_before = None;
                    }
                    self.head = Some(Head {
                        time: t,
                        text: line.text.to_string(),
                    });
                    return;
                }
                Ok(None) => {}
                Err(e) => common::warn(&format!("{}: {e}", seg.path.display())),
            }
            let seg = self.segments.pop_front().expect("front exists");
            if seg.live {
                self.live_parser = Some(seg.parser);
            }
        }
    }
}

impl Segment {
    /// The part of the previous rotated file `path` from `from` on (`None` if nothing),
    /// and whether that file has lines before `from` (for a compressed file that is only
    /// known once the stream skips them).
    fn earlier(
        path: &Path,
        from: NaiveDateTime,
        opts: &ReadBackOptions,
    ) -> io::Result<Option<(Segment, bool)>> {
        let (source, year) = year_of(path, opts.year);
        let parser = LineParser::new(opts.mta, source);
        if input::is_gzip(path) {
            let reader = input::open(&Input::Path(path.to_path_buf())).map_err(io::Error::other)?;
            return Ok(Some((
                Segment {
                    path: path.to_path_buf(),
                    reader: LineReader::new(reader),
                    parser,
                    year,
                    skip_before: Some(from),
                    live: false,
                },
                false,
            )));
        }
        let mut f = File::open(path)?;
        let len = f.metadata()?.len();
        let start = offset_of_time(&mut f, len, from, year)?;
        if start >= len {
            return Ok(None);
        }
        f.seek(SeekFrom::Start(start))?;
        let reader: Box<dyn BufRead + Send> =
            Box::new(BufReader::with_capacity(256 * 1024, f.take(len - start)));
        Ok(Some((
            Segment {
                path: path.to_path_buf(),
                reader: LineReader::new(reader),
                parser,
                year,
                skip_before: None,
                live: false,
            },
            start > 0,
        )))
    }
}

/// What was read back.
pub(super) struct ReadBack {
    pub(super) lines: u64,
    pub(super) files: Vec<PathBuf>,
}

/// Reads every stream to its end, merging them in time order (a line without a timestamp
/// goes right after the line before it in its own file), and hands each line with the
/// segment it came from to `on_line`.
pub(super) fn merge(
    streams: &mut [Stream],
    mut on_line: impl FnMut(&mut Segment, &str) -> io::Result<()>,
) -> io::Result<ReadBack> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut lines = 0u64;
    loop {
        let mut pick: Option<(usize, Option<NaiveDateTime>)> = None;
        for (i, s) in streams.iter().enumerate() {
            let Some(h) = &s.head else { continue };
            match (h.time, pick) {
                (None, _) => {
                    pick = Some((i, None));
                    break;
                }
                (Some(t), Some((_, Some(best)))) if t >= best => {}
                (Some(t), _) => pick = Some((i, Some(t))),
            }
        }
        let Some((i, _)) = pick else { break };
        let s = &mut streams[i];
        let head = s.head.take().expect("picked a stream with a head");
        let seg = s.segments.front_mut().expect("a head comes from a segment");
        if !files.contains(&seg.path) {
            files.push(seg.path.clone());
        }
        lines += 1;
        on_line(seg, &head.text)?;
        s.advance();
    }
    Ok(ReadBack { lines, files })
}

/// Reads back every stream into `live`.

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;
    use std::io::Cursor;
    use std::io::Write;

    fn nd(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    const YEAR: MtimeYear = MtimeYear {
        year: 2026,
        month: 11,
    };

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
    fn exim_log(from: &str, step: i64, n: usize) -> String {
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

    fn opts(read_from: Option<&str>) -> ReadBackOptions {
        ReadBackOptions {
            read_from: read_from.map(nd),
            mta: None,
            year: Some(2026),
        }
    }

    /// Every line a set of streams reads back, in merged order.
    fn read_all(streams: &mut [Stream]) -> Vec<String> {
        let mut got = Vec::new();
        merge(streams, |_, t| {
            got.push(t.to_string());
            Ok(())
        })
        .unwrap();
        got
    }

    fn gz(data: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn read_back_starts_in_the_previous_rotated_file_when_the_hour_began_there() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("exim_mainlog");
        // Rotated at 09:30: the old file has 08:00–09:29, the live one 09:30–10:20.
        let old = exim_log("2026-11-26 08:00:00", 60, 90);
        let new = exim_log("2026-11-26 09:30:00", 60, 51);
        std::fs::write(&live, &new).unwrap();
        let old_path = dir.path().join("exim_mainlog-20261126");
        std::fs::write(&old_path, &old).unwrap();
        let followed = [live.clone()];
        let timed = |v: &[String]| v.iter().filter(|l| !l.starts_with(' ')).count();

        // The hour began in the live file: the old one is not read.
        let (s, start, covered) =
            Stream::open(&live, &followed, &opts(Some("2026-11-26 10:00:00"))).unwrap();
        assert_eq!(start, StartAt::Offset(new.len() as u64));
        assert!(covered);
        let got = read_all(&mut [s]);
        assert_eq!(timed(&got), 21);
        assert!(got[0].starts_with("2026-11-26 10:00:00"));

        // The hour began before the rotation: 09:00–09:29 from the old file, then the rest.
        for compress in [false, true] {
            if compress {
                std::fs::remove_file(&old_path).unwrap();
                std::fs::write(dir.path().join("exim_mainlog-20261126.gz"), gz(&old)).unwrap();
            }
            let (s, start, covered) =
                Stream::open(&live, &followed, &opts(Some("2026-11-26 09:00:00"))).unwrap();
            assert_eq!(start, StartAt::Offset(new.len() as u64));
            assert!(covered);
            let got = read_all(&mut [s]);
            assert_eq!(timed(&got), 30 + 51, "compressed: {compress}");
            assert!(got[0].starts_with("2026-11-26 09:00:00"), "{}", got[0]);
            assert!(
                got.last().unwrap().starts_with(' ') || got.last().unwrap().contains("10:20:00")
            );
        }

        // Reading back from before the old file began: all of it, and the log does not
        // reach back that far.
        let (s, _, covered) =
            Stream::open(&live, &followed, &opts(Some("2026-11-26 07:00:00"))).unwrap();
        assert!(!covered);
        assert_eq!(timed(&read_all(&mut [s])), 90 + 51);

        // --from-start: the live file only.
        let (s, _, _) = Stream::open(&live, &followed, &opts(None)).unwrap();
        assert_eq!(timed(&read_all(&mut [s])), 51);
    }

    #[test]
    fn read_back_stops_before_an_unfinished_line_and_a_missing_file_waits() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("mail.log");
        let mut data = exim_log("2026-11-26 10:00:00", 1, 3);
        let complete = data.len() as u64;
        data.push_str("2026-11-26 10:00:05 1tWx9Q-unfinished");
        std::fs::write(&live, &data).unwrap();
        let (s, start, _) = Stream::open(
            &live,
            std::slice::from_ref(&live),
            &opts(Some("2026-11-26 10:00:00")),
        )
        .unwrap();
        assert_eq!(start, StartAt::Offset(complete));
        let got = read_all(&mut [s]);
        assert!(got.iter().all(|l| !l.contains("unfinished")));
        assert_eq!(got.len(), 4);

        let missing = dir.path().join("nothing.log");
        let (s, start, covered) = Stream::open(
            &missing,
            std::slice::from_ref(&missing),
            &opts(Some("2026-11-26 10:00:00")),
        )
        .unwrap();
        assert_eq!(start, StartAt::Beginning);
        assert!(!covered);
        assert!(read_all(&mut [s]).is_empty());
    }

    #[test]
    fn several_files_are_read_back_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.log");
        let b = dir.path().join("b.log");
        std::fs::write(&a, exim_log("2026-11-26 10:00:00", 120, 10)).unwrap();
        std::fs::write(&b, exim_log("2026-11-26 10:01:00", 120, 10)).unwrap();
        let followed = [a.clone(), b.clone()];
        let o = opts(Some("2026-11-26 10:00:00"));
        let mut streams = vec![
            Stream::open(&a, &followed, &o).unwrap().0,
            Stream::open(&b, &followed, &o).unwrap().0,
        ];
        let got = read_all(&mut streams);
        let times: Vec<NaiveDateTime> = got.iter().filter_map(|l| line_time(l, YEAR)).collect();
        assert_eq!(times.len(), 20);
        assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
        // Continuation lines stay right after their own line.
        for (i, l) in got.iter().enumerate() {
            if l.starts_with(' ') {
                assert!(got[i - 1].contains("-00000000-") || got[i - 1].contains("-00000007-"));
            }
        }
    }
}
