//! Stage 1 of the pipeline, bytes → lines: files and standard input, gzip, xz, bzip2 and
//! zstd recognised by their magic bytes and decompressed on a background thread ([`open`]
//! and [`from_reader`] are the one way in; [`is_compressed`] is the one test), the default
//! logs, rotated sets put oldest first ([`rotation`]), a line reader that reuses one buffer,
//! strips CR, bounds line length and never fails on invalid UTF-8 ([`lines`]), and following
//! live files like `tail -F` ([`tail`]).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

mod compress;
pub mod fifo;
pub mod grep;
mod gzip;
pub mod lines;
mod readahead;
pub mod rotation;
pub mod tail;

pub use compress::Compression;
pub use gzip::ResumingGzDecoder;

pub use crate::error::InputError;
pub use lines::{Line, LineFlags, LineReader, MAX_LINE};
pub use rotation::{order_rotated, previous_rotated};

/// Logs looked for, in order, when no file is given.
pub(crate) const DEFAULT_LOGS: &[&str] = &[
    "/var/log/exim_mainlog",
    "/var/log/exim4/mainlog",
    "/var/log/exim/mainlog",
    "/var/log/mail.log",
    "/var/log/maillog",
];

/// One input: a path or standard input (`-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Path(PathBuf),
    Stdin,
}

impl Input {
    pub(crate) fn from_arg(arg: &str) -> Input {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::Path(PathBuf::from(arg))
        }
    }

    /// The name used in messages and in the `file` field of events.
    pub(crate) fn display_name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::Path(p) => p.display().to_string(),
        }
    }

    /// The file's modification time as (year, month), for year-less timestamps.
    pub(crate) fn mtime_year_month(&self) -> Option<(i32, u32)> {
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

pub(crate) fn find_default_log_in(candidates: &[&str]) -> Result<PathBuf, InputError> {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or(InputError::NoDefaultLog {
            tried: DEFAULT_LOGS,
        })
}

/// Opens an input as a buffered reader, decompressing it when its magic bytes are those of a
/// [`Compression`].
pub fn open(input: &Input) -> Result<Box<dyn BufRead + Send>, InputError> {
    open_with(input, &mut |_| {})
}

/// [`open`], calling `on_wait(path)` once when a FIFO has had no writer for a second (so the
/// caller can say what it waits for). A FIFO is opened without blocking in `open(2)`, so
/// Ctrl-C always works (see [`fifo`]).
pub(crate) fn open_with(
    input: &Input,
    on_wait: &mut dyn FnMut(&str),
) -> Result<Box<dyn BufRead + Send>, InputError> {
    let name = input.display_name();
    let open_err = |source| InputError::Open {
        path: name.clone(),
        source,
    };
    let raw: Box<dyn Read + Send> = match input {
        Input::Stdin => Box::new(io::stdin()),
        Input::Path(p) if fifo::is_fifo(p) => {
            match fifo::open_fifo(p, &|| false, &mut || on_wait(&name)).map_err(open_err)? {
                Some(f) => Box::new(f),
                None => Box::new(io::empty()),
            }
        }
        Input::Path(p) => Box::new(File::open(p).map_err(open_err)?),
    };
    from_reader(raw).map_err(|source| InputError::Open { path: name, source })
}

/// The compression of the file at `path`: by its first bytes, or by its name when it cannot
/// be read (a file that does not exist yet).
pub fn compression_of(path: &Path) -> Option<Compression> {
    let mut head = [0u8; compress::MAGIC_LEN];
    match File::open(path) {
        Ok(f) => {
            let mut n = 0;
            let mut f = f.take(head.len() as u64);
            while let Ok(k @ 1..) = f.read(&mut head[n..]) {
                n += k;
            }
            Compression::sniff(&head[..n])
        }
        Err(_) => Compression::from_name(&path.to_string_lossy()),
    }
}

/// Returns true if and only if `path` is compressed in one of the [`Compression`] formats
/// (see [`compression_of`]).
pub fn is_compressed(path: &Path) -> bool {
    compression_of(path).is_some()
}

/// Wraps any reader, sniffing for a [`Compression`] without losing the magic bytes; a
/// compressed stream is decompressed on a background thread (module `readahead`).
pub fn from_reader(mut raw: Box<dyn Read + Send>) -> io::Result<Box<dyn BufRead + Send>> {
    // A pipe may deliver fewer bytes in one read than the magic bytes take: read on only
    // while they could still be a format's magic.
    let mut head = [0u8; compress::MAGIC_LEN];
    let mut n = 0;
    while n == 0 || Compression::undecided(&head[..n]) {
        match raw.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let format = Compression::sniff(&head[..n]);
    let whole =
        BufReader::with_capacity(256 * 1024, io::Cursor::new(head[..n].to_vec()).chain(raw));
    match format {
        Some(format) => Ok(readahead::spawn(compress::decoder(format, whole))),
        None => Ok(Box::new(whole)),
    }
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
