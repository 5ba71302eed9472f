//! Reading back the followed files at start-up: where each one starts (binary search by
//! time, or the previous rotated file first), and a merge of several files' lines in time
//! order.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;

use super::common;
use crate::error::{InputError, Result};
use crate::input::tail::StartAt;
use crate::input::{self, Input, LineReader};
use crate::model::event::Mta;
use crate::parse::seek::offset_of_time;
use crate::parse::{LineParser, YearSource, line_time};

/// How to read back.
pub(super) struct ReadBackOptions {
    /// Read lines from this time on; `None`: every followed file from its start.
    pub(super) read_from: Option<NaiveDateTime>,
    pub(super) mta: Option<Mta>,
    pub(super) year: Option<i32>,
}

/// The parser of a followed or rotated file: `--mta`, and the year of
/// [`YearSource::for_input`].
pub(super) fn parser_for(path: &Path, mta: Option<Mta>, year: Option<i32>) -> LineParser {
    LineParser::new(mta, year_source(path, year))
}

fn year_source(path: &Path, year: Option<i32>) -> YearSource {
    YearSource::for_input(&Input::Path(path.to_path_buf()), year)
}

/// One file, or part of it, to read back.
pub(super) struct Segment {
    path: PathBuf,
    reader: LineReader<Box<dyn BufRead + Send>>,
    pub(super) parser: LineParser,
    year: YearSource,
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
        let year = year_source(path, opts.year);
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
            parser: LineParser::new(opts.mta, year),
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
        let year = year_source(path, opts.year);
        let parser = LineParser::new(opts.mta, year);
        if input::is_compressed(path) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::seek::tests::{YEAR, exim_log, nd};
    use std::io::Write;

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
