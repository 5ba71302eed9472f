//! Reading lines: [`LineReader`] reuses one buffer, strips CR, cuts lines at [`MAX_LINE`]
//! and never fails on invalid UTF-8; [`shape`] is that line shaping for readers that split
//! lines themselves (the `tail -F` engine); [`complete_end`] finds where the last complete
//! line of a file ends.

use std::io::{self, BufRead, Read, Seek, SeekFrom};

/// Lines longer than this are cut here; the rest of the line is skipped and counted.
pub const MAX_LINE: usize = 64 * 1024;

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
    /// The last line returned ended with `\n` (it was not cut short by the end of input).
    complete: bool,
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
            complete: false,
        }
    }

    /// Line number of the last line returned (1-based).
    pub(crate) fn line_no(&self) -> u64 {
        self.line_no
    }

    /// Bytes consumed so far (after decompression).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Returns true if and only if the last line returned ended with `\n`, rather than at
    /// the end of the input (an unfinished line of a file still being written).
    pub(crate) fn line_complete(&self) -> bool {
        self.complete
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
            self.complete = true;
            let avail = self.inner.fill_buf()?;
            return Ok(Some(shape(
                &avail[..i],
                LineFlags::default(),
                self.line_no,
                &mut self.text,
            )));
        }
        self.buf.clear();
        let mut flags = LineFlags::default();
        let mut seen_any = false;
        self.complete = false;
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
                self.complete = true;
                break;
            }
        }
        self.line_no += 1;
        Ok(Some(shape(&self.buf, flags, self.line_no, &mut self.text)))
    }
}

/// Returns true if and only if `b` holds a control byte other than tab (binary junk or an
/// escape sequence). Branch-free, so it runs at memory speed on ordinary lines.
fn has_control_bytes(b: &[u8]) -> bool {
    b.iter().fold(0u8, |acc, &c| {
        acc | (((c < 0x20) & (c != b'\t')) | (c == 0x7f)) as u8
    }) != 0
}

/// Shapes one raw line (without its `\n`, at most [`MAX_LINE`] bytes; `flags.truncated` if
/// it was cut): strips a trailing CR, flags binary bytes, drops a character cut in half by
/// the truncation, and replaces other invalid UTF-8 with U+FFFD into `scratch`.
pub fn shape<'a>(
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

/// The end of the last complete line of `f`, `len` bytes long: the offset after its last
/// `\n` (0 if it has none). An unfinished last line longer than [`MAX_LINE`] would be cut
/// anyway, so then the end of the file.
pub fn complete_end<R: Read + Seek>(f: &mut R, len: u64) -> io::Result<u64> {
    let back = len.min(MAX_LINE as u64 + 1);
    let mut tail = vec![0; back as usize];
    f.seek(SeekFrom::Start(len - back))?;
    f.read_exact(&mut tail)?;
    Ok(match memchr::memrchr(b'\n', &tail) {
        Some(i) => len - back + i as u64 + 1,
        None if back == len => 0,
        None => len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn lines_say_whether_they_were_finished() {
        let mut r = LineReader::new(Cursor::new(b"one\r\ntwo\nthr".to_vec()));
        let mut got = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            let text = l.text.to_string();
            got.push((text, r.line_complete(), r.bytes()));
        }
        assert_eq!(
            got,
            [
                ("one".to_string(), true, 5),
                ("two".to_string(), true, 9),
                ("thr".to_string(), false, 12)
            ]
        );
    }

    #[test]
    fn complete_end_is_after_the_last_newline() {
        let end = |s: &str| complete_end(&mut Cursor::new(s.as_bytes()), s.len() as u64).unwrap();
        assert_eq!(end(""), 0);
        assert_eq!(end("partial"), 0);
        assert_eq!(end("a\nb\n"), 4);
        assert_eq!(end("a\nb\npart"), 4);
        let long = format!("a\n{}", "x".repeat(MAX_LINE + 10));
        assert_eq!(end(&long), long.len() as u64);
    }
}
