//! Reading log input: files and standard input, gzip recognised by its magic bytes
//! (multi-member too), rotated sets put oldest first, and a line reader that reuses one
//! buffer, strips CR, bounds line length and never fails on invalid UTF-8.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;

pub use crate::error::InputError;

/// Logs looked for, in order, when no file is given.
pub const DEFAULT_LOGS: &[&str] = &[
    "/var/log/exim_mainlog",
    "/var/log/exim4/mainlog",
    "/var/log/exim/mainlog",
    "/var/log/mail.log",
    "/var/log/maillog",
];

/// Lines longer than this are cut here; the rest of the line is skipped and counted.
pub const MAX_LINE: usize = 64 * 1024;

/// One input: a path or standard input (`-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Path(PathBuf),
    Stdin,
}

impl Input {
    pub fn from_arg(arg: &str) -> Input {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::Path(PathBuf::from(arg))
        }
    }

    /// The name used in messages and in the `file` field of events.
    pub fn display_name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::Path(p) => p.display().to_string(),
        }
    }

    /// The file's modification time as (year, month), for year-less timestamps.
    pub fn mtime_year_month(&self) -> Option<(i32, u32)> {
        use chrono::Datelike;
        let t = match self {
            Input::Stdin => std::time::SystemTime::now(),
            Input::Path(p) => std::fs::metadata(p).ok()?.modified().ok()?,
        };
        let dt: chrono::DateTime<chrono::Local> = t.into();
        Some((dt.year(), dt.month()))
    }
}

/// Finds the first default log that exists.
pub fn find_default_log() -> Result<PathBuf, InputError> {
    find_default_log_in(DEFAULT_LOGS)
}

pub fn find_default_log_in(candidates: &[&str]) -> Result<PathBuf, InputError> {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or(InputError::NoDefaultLog {
            tried: DEFAULT_LOGS,
        })
}

/// Opens an input as a buffered reader, decompressing gzip (detected by its magic bytes).
pub fn open(input: &Input) -> Result<Box<dyn BufRead + Send>, InputError> {
    let name = input.display_name();
    let raw: Box<dyn Read + Send> = match input {
        Input::Stdin => Box::new(io::stdin()),
        Input::Path(p) => Box::new(File::open(p).map_err(|source| InputError::Open {
            path: name.clone(),
            source,
        })?),
    };
    from_reader(raw).map_err(|source| InputError::Open { path: name, source })
}

/// Wraps any reader, sniffing for gzip without consuming the magic bytes.
pub fn from_reader(raw: Box<dyn Read + Send>) -> io::Result<Box<dyn BufRead + Send>> {
    let mut buf = BufReader::with_capacity(256 * 1024, raw);
    let head = buf.fill_buf()?;
    if head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        Ok(Box::new(BufReader::with_capacity(
            256 * 1024,
            MultiGzDecoder::new(buf),
        )))
    } else {
        Ok(Box::new(buf))
    }
}

/// What the line reader had to do to a line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LineFlags {
    /// The line was longer than [`MAX_LINE`] and was cut.
    pub truncated: bool,
    /// The line was not valid UTF-8; invalid bytes were replaced with U+FFFD.
    pub invalid_utf8: bool,
    /// The line held NUL or other binary control bytes.
    pub binary: bool,
}

/// One line as read: its text (without the line end), its 1-based number, and flags.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub text: &'a str,
    pub number: u64,
    pub flags: LineFlags,
}

/// Reads lines into one reused buffer.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    text: String,
    line_no: u64,
    bytes: u64,
    /// Bytes of the last line returned in place, consumed on the next call.
    pending: usize,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R) -> Self {
        LineReader {
            inner,
            buf: Vec::with_capacity(4096),
            text: String::new(),
            line_no: 0,
            bytes: 0,
            pending: 0,
        }
    }

    /// Line number of the last line returned (1-based).
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// Bytes consumed so far (after decompression).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Reads the next line without its `\n`/`\r\n`. Returns `Ok(None)` at the end.
    ///
    /// A line that lies whole in the reader's buffer is returned in place, without a copy;
    /// only a line that straddles two buffer fills is assembled in `self.buf`.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        if self.pending > 0 {
            self.inner.consume(self.pending);
            self.pending = 0;
        }
        // Fast path: the whole line is already buffered.
        let newline = loop {
            match self.inner.fill_buf() {
                Ok(b) => break memchr::memchr(b'\n', b).filter(|i| *i <= MAX_LINE),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if let Some(i) = newline {
            self.pending = i + 1;
            self.bytes += (i + 1) as u64;
            self.line_no += 1;
            let avail = self.inner.fill_buf()?;
            return Ok(Some(finish_line(
                &avail[..i],
                LineFlags::default(),
                self.line_no,
                &mut self.text,
            )));
        }
        self.buf.clear();
        let mut flags = LineFlags::default();
        let mut seen_any = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                if !seen_any {
                    return Ok(None);
                }
                break;
            }
            seen_any = true;
            let (chunk, used, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (&avail[..i], i + 1, true),
                None => (avail, avail.len(), false),
            };
            let room = MAX_LINE.saturating_sub(self.buf.len());
            if chunk.len() > room {
                flags.truncated = true;
            }
            self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.inner.consume(used);
            self.bytes += used as u64;
            if done {
                break;
            }
        }
        self.line_no += 1;
        Ok(Some(finish_line(
            &self.buf,
            flags,
            self.line_no,
            &mut self.text,
        )))
    }
}

/// Returns true if and only if `b` holds a control byte other than tab (binary junk or an
/// escape sequence). Branch-free, so it runs at memory speed on ordinary lines.
fn has_control_bytes(b: &[u8]) -> bool {
    b.iter().fold(0u8, |acc, &c| {
        acc | (((c < 0x20) & (c != b'\t')) | (c == 0x7f)) as u8
    }) != 0
}

/// Strips a trailing CR, flags binary bytes, and checks UTF-8 (replacing invalid bytes
/// into `scratch`).
fn finish_line<'a>(
    raw: &'a [u8],
    mut flags: LineFlags,
    number: u64,
    scratch: &'a mut String,
) -> Line<'a> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    flags.binary = has_control_bytes(raw);
    let text = match std::str::from_utf8(raw) {
        Ok(s) => s,
        // A line cut inside a multi-byte character is not a UTF-8 problem.
        Err(e) if flags.truncated && e.error_len().is_none() => {
            std::str::from_utf8(&raw[..e.valid_up_to()]).unwrap_or("")
        }
        Err(_) => {
            flags.invalid_utf8 = true;
            scratch.clear();
            scratch.push_str(&String::from_utf8_lossy(raw));
            scratch.as_str()
        }
    };
    Line {
        text,
        number,
        flags,
    }
}

/// Puts inputs in reading order: the files of one rotated set (same base name after removing
/// `.gz`, a numeric `.N` suffix or a `-YYYYMMDD` date) oldest first, sets in the order they
/// were first named. Standard input stays where it was given.
pub fn order_rotated(inputs: Vec<Input>) -> Vec<Input> {
    let mut groups: Vec<(String, Vec<(RotationAge, Input)>)> = Vec::new();
    for input in inputs {
        let (base, age) = match &input {
            Input::Stdin => (String::from("\0stdin"), RotationAge::Current),
            Input::Path(p) => rotation_key(p),
        };
        if input == Input::Stdin {
            groups.push((base, vec![(age, input)]));
            continue;
        }
        match groups.iter_mut().find(|(b, _)| *b == base) {
            Some((_, members)) => members.push((age, input)),
            None => groups.push((base, vec![(age, input)])),
        }
    }
    let mut out = Vec::new();
    for (_, mut members) in groups {
        members.sort_by(|a, b| a.0.cmp(&b.0));
        out.extend(members.into_iter().map(|(_, i)| i));
    }
    out
}

/// How old a member of a rotated set is; sorts oldest first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum RotationAge {
    /// `-YYYYMMDD` (or other digits): older dates first.
    Dated(String),
    /// `.N`: a larger N is older, so it is stored negated.
    Numbered(i64),
    /// The live file.
    Current,
}

fn rotation_key(p: &Path) -> (String, RotationAge) {
    let full = p.to_string_lossy();
    let mut name: &str = &full;
    if let Some(s) = name.strip_suffix(".gz") {
        name = s;
    }
    if let Some((base, n)) = name.rsplit_once('.')
        && !n.is_empty()
        && n.len() <= 4
        && n.bytes().all(|c| c.is_ascii_digit())
    {
        return (
            base.to_string(),
            RotationAge::Numbered(-n.parse::<i64>().unwrap_or(0)),
        );
    }
    if let Some((base, d)) = name.rsplit_once('-')
        && d.len() >= 8
        && d.bytes().all(|c| c.is_ascii_digit())
    {
        return (base.to_string(), RotationAge::Dated(d.to_string()));
    }
    (name.to_string(), RotationAge::Current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all(r: Box<dyn BufRead + Send>) -> Vec<(String, LineFlags)> {
        let mut lr = LineReader::new(r);
        let mut out = Vec::new();
        while let Some(l) = lr.next_line().unwrap() {
            out.push((l.text.to_string(), l.flags));
        }
        out
    }

    #[test]
    fn plain_gzip_and_multi_member_gzip_read_the_same() {
        let plain = b"a\r\nb\nc".to_vec();
        let mut multi = gz(b"a\r\nb\n");
        multi.extend(gz(b"c"));
        for data in [plain.clone(), gz(&plain), multi] {
            let lines = read_all(from_reader(Box::new(Cursor::new(data))).unwrap());
            let texts: Vec<&str> = lines.iter().map(|(l, _)| l.as_str()).collect();
            assert_eq!(texts, ["a", "b", "c"]);
        }
    }

    #[test]
    fn truncated_gzip_is_an_error_not_a_panic() {
        let mut data = gz(&b"line one\nline two\n".repeat(1000));
        data.truncate(data.len() / 2);
        let mut lr = LineReader::new(from_reader(Box::new(Cursor::new(data))).unwrap());
        let mut n = 0;
        let err = loop {
            match lr.next_line() {
                Ok(Some(_)) => n += 1,
                Ok(None) => panic!("truncated gzip read to a clean end after {n} lines"),
                Err(e) => break e,
            }
        };
        assert!(n > 0);
        assert!(!err.to_string().is_empty());
    }

    #[test]
    fn invalid_utf8_long_lines_and_binary_are_flagged() {
        let mut data = b"ok\n\xff\xfebad\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 1024 * 1024));
        data.extend(b"\nbin\x00\x1b[31m\nlast\n");
        let lines = read_all(from_reader(Box::new(Cursor::new(data))).unwrap());
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0].0, "ok");
        assert!(lines[1].1.invalid_utf8);
        assert_eq!(lines[1].0, "\u{fffd}\u{fffd}bad");
        assert!(lines[2].1.truncated);
        assert_eq!(lines[2].0.len(), MAX_LINE);
        assert!(lines[3].1.binary);
        assert_eq!(lines[4].0, "last");
    }

    #[test]
    fn rotated_sets_are_read_oldest_first() {
        let names = |v: Vec<Input>| -> Vec<String> { v.iter().map(|i| i.display_name()).collect() };
        let i = |s: &str| Input::from_arg(s);
        assert_eq!(
            names(order_rotated(vec![
                i("exim_mainlog"),
                i("exim_mainlog-20261126.gz"),
                i("exim_mainlog-20261120.gz")
            ])),
            [
                "exim_mainlog-20261120.gz",
                "exim_mainlog-20261126.gz",
                "exim_mainlog"
            ]
        );
        assert_eq!(
            names(order_rotated(vec![
                i("mail.log"),
                i("mail.log.1"),
                i("other.log"),
                i("mail.log.2.gz"),
                i("mail.log.10.gz")
            ])),
            [
                "mail.log.10.gz",
                "mail.log.2.gz",
                "mail.log.1",
                "mail.log",
                "other.log"
            ]
        );
    }

    #[test]
    fn missing_default_logs_are_all_named() {
        let err = find_default_log_in(&["/nonexistent/a", "/nonexistent/b"]).unwrap_err();
        let msg = InputError::NoDefaultLog {
            tried: DEFAULT_LOGS,
        }
        .to_string();
        assert_eq!(err.to_string(), msg);
        for p in DEFAULT_LOGS {
            assert!(msg.contains(p));
        }
    }
}
