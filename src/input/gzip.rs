//! Gzip input that survives a damaged member: every member is decoded in turn (a rotated log
//! appended to with `gzip >>` has several), and when one is corrupt the reader skips to the
//! next member header it can find and goes on, so the valid members after the damage are
//! still read. The damage is not hidden: once the input is exhausted, the reader returns one
//! error that names every damaged member (its byte offset, what was wrong, where reading
//! resumed), which the scanner reports like any other read error (exit status 2).

use std::io::{self, BufRead, Read};

use flate2::bufread::GzDecoder;

/// A gzip member starts with the magic bytes and the deflate method.
const MEMBER_HEADER: [u8; 3] = [0x1f, 0x8b, 0x08];

/// One damaged member.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Damage {
    /// Offset of the damaged member's header in the compressed input.
    at: u64,
    what: String,
    /// Offset of the next member header, or `None` when none followed.
    resumed: Option<u64>,
}

/// A `BufRead` over the compressed bytes that counts how many were consumed and can give
/// back up to three bytes (a member header split across two buffer fills).
struct Counting<R> {
    inner: R,
    offset: u64,
    back: [u8; 3],
    back_pos: usize,
    back_len: usize,
}

impl<R: BufRead> Counting<R> {
    /// Puts bytes just consumed back in front of the input. Only when none are pending.
    fn unread(&mut self, bytes: &[u8]) {
        debug_assert!(self.back_pos == self.back_len && bytes.len() <= 3);
        self.back[..bytes.len()].copy_from_slice(bytes);
        self.back_pos = 0;
        self.back_len = bytes.len();
        self.offset -= bytes.len() as u64;
    }
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.back_pos < self.back_len {
            return Ok(&self.back[self.back_pos..self.back_len]);
        }
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.offset += amt as u64;
        if self.back_pos < self.back_len {
            self.back_pos += amt;
        } else {
            self.inner.consume(amt);
        }
    }
}

enum State<R> {
    /// Between members: the next bytes are a header, or the end.
    Between(Counting<R>),
    /// Inside the member that starts at this offset.
    Member(Box<GzDecoder<Counting<R>>>, u64),
    /// The input is exhausted and the damage, if any, has been reported.
    Done,
    /// Transient, while moving between states.
    Poisoned,
}

/// Decodes every gzip member of `R`, resuming after damaged ones.
pub struct ResumingGzDecoder<R> {
    state: State<R>,
    damage: Vec<Damage>,
    /// The last decoded byte was a line end (so a member cut short does not glue its partial
    /// last line onto the next member's first line).
    at_line_start: bool,
    /// A line end to emit before the next member's data.
    pending_newline: bool,
}

impl<R: BufRead> ResumingGzDecoder<R> {
    pub fn new(inner: R) -> Self {
        ResumingGzDecoder {
            state: State::Between(Counting {
                inner,
                offset: 0,
                back: [0; 3],
                back_pos: 0,
                back_len: 0,
            }),
            damage: Vec::new(),
            at_line_start: true,
            pending_newline: false,
        }
    }

    /// Skips forward to the next member header; returns its offset, or `None` at the end.
    /// A header split across two buffer fills is found too (three fills is not: the
    /// buffers here are 256 KiB).
    fn resync(r: &mut Counting<R>) -> io::Result<Option<u64>> {
        loop {
            let buf = r.fill_buf()?;
            if buf.is_empty() {
                return Ok(None);
            }
            let Some(i) = memchr::memchr(MEMBER_HEADER[0], buf) else {
                let n = buf.len();
                r.consume(n);
                continue;
            };
            let k = (buf.len() - i).min(MEMBER_HEADER.len());
            if buf[i..i + k] != MEMBER_HEADER[..k] {
                r.consume(i + 1);
                continue;
            }
            if k == MEMBER_HEADER.len() {
                r.consume(i);
                return Ok(Some(r.offset));
            }
            // A partial header ends the buffer: take it out and look at what follows.
            let mut w = [0u8; 3];
            w[..k].copy_from_slice(&buf[i..i + k]);
            r.consume(i + k);
            let next = r.fill_buf()?;
            let m = (MEMBER_HEADER.len() - k).min(next.len());
            w[k..k + m].copy_from_slice(&next[..m]);
            if k + m == MEMBER_HEADER.len() && w == MEMBER_HEADER {
                r.consume(m);
                r.unread(&w);
                return Ok(Some(r.offset));
            }
            r.unread(&w[1..k]);
        }
    }

    fn fail(&mut self, at: u64, e: io::Error, mut r: Counting<R>) -> io::Result<()> {
        let resumed = Self::resync(&mut r)?;
        self.damage.push(Damage {
            at,
            what: e.to_string(),
            resumed,
        });
        if !self.at_line_start {
            self.pending_newline = true;
        }
        self.state = match resumed {
            Some(_) => State::Between(r),
            None => State::Done,
        };
        Ok(())
    }

    fn report(&self) -> io::Error {
        let parts: Vec<String> = self
            .damage
            .iter()
            .map(|d| match d.resumed {
                Some(to) => format!(
                    "damaged gzip member at byte {} ({}), read resumed at the member at byte {}",
                    d.at, d.what, to
                ),
                None => format!(
                    "damaged gzip member at byte {} ({}), no valid member after it",
                    d.at, d.what
                ),
            })
            .collect();
        io::Error::new(io::ErrorKind::InvalidData, parts.join("; "))
    }
}

impl<R: BufRead> Read for ResumingGzDecoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.pending_newline {
                self.pending_newline = false;
                self.at_line_start = true;
                out[0] = b'\n';
                return Ok(1);
            }
            match std::mem::replace(&mut self.state, State::Poisoned) {
                State::Poisoned => return Err(io::Error::other("gzip reader used after a panic")),
                State::Done => {
                    self.state = State::Done;
                    if self.damage.is_empty() {
                        return Ok(0);
                    }
                    let e = self.report();
                    self.damage.clear();
                    return Err(e);
                }
                State::Between(mut r) => {
                    if r.fill_buf()?.is_empty() {
                        self.state = State::Done;
                        continue;
                    }
                    let at = r.offset;
                    self.state = State::Member(Box::new(GzDecoder::new(r)), at);
                }
                State::Member(mut d, at) => match d.read(out) {
                    Ok(0) => self.state = State::Between(d.into_inner()),
                    Ok(n) => {
                        self.at_line_start = out[n - 1] == b'\n';
                        self.state = State::Member(d, at);
                        return Ok(n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                        self.state = State::Member(d, at);
                    }
                    Err(e) => {
                        let mut r = d.into_inner();
                        // Do not find the damaged member's own header again.
                        if r.offset == at {
                            let n = r.fill_buf()?.len().min(1);
                            r.consume(n);
                        }
                        self.fail(at, e, r)?;
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    fn read_all(data: &[u8]) -> (String, Option<String>) {
        let mut r = ResumingGzDecoder::new(io::BufReader::with_capacity(16, data));
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        let err = loop {
            match r.read(&mut buf) {
                Ok(0) => break None,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => break Some(e.to_string()),
            }
        };
        (String::from_utf8_lossy(&out).into_owned(), err)
    }

    #[test]
    fn reads_every_member_of_a_clean_file() {
        let mut data = gz("one\ntwo\n");
        data.extend(gz("three\n"));
        data.extend(gz("four\n"));
        assert_eq!(read_all(&data), ("one\ntwo\nthree\nfour\n".into(), None));
    }

    #[test]
    fn a_corrupt_member_is_reported_and_the_next_ones_are_read() {
        let first = gz("alpha line\nbeta line\n");
        let mut bad = gz(&"gamma line that is long enough to compress\n".repeat(20));
        let mid = bad.len() / 2;
        for b in &mut bad[12..mid] {
            *b ^= 0x5a;
        }
        let last = gz("delta\nepsilon\n");
        let mut data = first.clone();
        data.extend(&bad);
        data.extend(&last);
        let (text, err) = read_all(&data);
        assert!(text.starts_with("alpha line\nbeta line\n"), "{text:?}");
        assert!(text.ends_with("delta\nepsilon\n"), "{text:?}");
        let err = err.expect("the damage is reported");
        let resumed_at = first.len() + bad.len();
        assert!(
            err.contains(&format!("damaged gzip member at byte {}", first.len())),
            "{err}"
        );
        assert!(err.contains(&format!("byte {resumed_at}")), "{err}");
    }

    #[test]
    fn a_truncated_last_member_is_reported_with_what_was_read() {
        let mut data = gz("one\n");
        let lines: String = (0..2000)
            .map(|i| format!("two {i} {}\n", i * 7919 % 10007))
            .collect();
        let second = gz(&lines);
        data.extend(&second[..second.len() / 2]);
        let (text, err) = read_all(&data);
        assert!(text.starts_with("one\ntwo 0 0\n"), "{text:?}");
        assert!(text.ends_with('\n'), "a partial line is ended: {text:?}");
        assert!(err.unwrap().contains("no valid member after it"));
    }

    #[test]
    fn garbage_between_members_is_skipped() {
        let mut data = gz("one\n");
        data.extend(b"\x1f\x8b\x08\x00garbage\x1f\x1fjunk");
        data.extend(gz("two\n"));
        let (text, err) = read_all(&data);
        assert!(
            text.starts_with("one\n") && text.ends_with("two\n"),
            "{text:?}"
        );
        assert!(err.is_some());
    }
}
