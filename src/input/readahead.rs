//! Read-ahead on a background thread: a compressed input is decompressed on its own thread
//! into a few fixed-size buffers handed over in order through a bounded channel, while the
//! caller parses the buffer before; so decompression and parsing use two cores. Buffers come
//! back to the thread to be refilled (no allocation per buffer), memory stays at
//! [`DEPTH`] + 2 buffers, and the bytes and the error (if any) arrive exactly as the reader
//! gave them.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, sync_channel};
use std::thread;

/// Size of one buffer.
const CHUNK: usize = 256 * 1024;

/// Filled buffers that may wait in the channel.
const DEPTH: usize = 4;

/// One message of the thread: a buffer and how many of its bytes are filled, or the error
/// the reader gave (the last message).
type Filled = io::Result<(Vec<u8>, usize)>;

/// A [`BufRead`] over the bytes a background thread reads from another reader.
pub(crate) struct ReadAhead {
    filled: Receiver<Filled>,
    empty: SyncSender<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
    len: usize,
    done: bool,
}

/// Reads `inner` on a background thread; if no thread can be started, `inner` is read in
/// place.
pub(crate) fn spawn(inner: Box<dyn Read + Send>) -> Box<dyn BufRead + Send> {
    let (filled_tx, filled) = sync_channel::<Filled>(DEPTH);
    let (empty, empty_rx) = sync_channel::<Vec<u8>>(DEPTH + 2);
    // The reader is moved into the thread only once it has started.
    let (start_tx, start_rx) = sync_channel::<Box<dyn Read + Send>>(1);
    let started = thread::Builder::new()
        .name("mailtrace-decompress".into())
        .spawn(move || {
            if let Ok(inner) = start_rx.recv() {
                fill(inner, &filled_tx, &empty_rx);
            }
        });
    if started.is_err() {
        return Box::new(io::BufReader::with_capacity(CHUNK, inner));
    }
    if let Err(e) = start_tx.send(inner) {
        return Box::new(io::BufReader::with_capacity(CHUNK, e.0));
    }
    Box::new(ReadAhead {
        filled,
        empty,
        cur: Vec::new(),
        pos: 0,
        len: 0,
        done: false,
    })
}

/// The thread's loop: fills buffers from `inner` until its end, its first error, or until
/// the reading side is dropped.
fn fill(mut inner: Box<dyn Read + Send>, filled: &SyncSender<Filled>, empty: &Receiver<Vec<u8>>) {
    loop {
        let mut buf = match empty.try_recv() {
            Ok(b) => b,
            Err(TryRecvError::Empty) => vec![0u8; CHUNK],
            Err(TryRecvError::Disconnected) => return,
        };
        let mut n = 0;
        let mut error = None;
        while n < buf.len() {
            match inner.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        let end = n < buf.len();
        if n > 0 && filled.send(Ok((buf, n))).is_err() {
            return;
        }
        if let Some(e) = error {
            let _ = filled.send(Err(e));
            return;
        }
        if end {
            return;
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ReadAhead {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.len && !self.done {
            match self.filled.recv() {
                Ok(Ok((buf, n))) => {
                    let used = std::mem::replace(&mut self.cur, buf);
                    if used.len() == CHUNK {
                        // The thread may have ended: then the buffer is simply dropped.
                        let _ = self.empty.try_send(used);
                    }
                    self.pos = 0;
                    self.len = n;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => self.done = true,
            }
        }
        Ok(&self.cur[self.pos..self.len])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives its bytes a few at a time, then an error.
    struct Dribble {
        data: Vec<u8>,
        at: usize,
        fail: bool,
    }

    impl Read for Dribble {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.at == self.data.len() {
                if self.fail {
                    self.fail = false;
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "broken"));
                }
                return Ok(0);
            }
            let n = out.len().min(1000).min(self.data.len() - self.at);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn data() -> Vec<u8> {
        (0..(3 * CHUNK + 17))
            .map(|i| (i * 31 % 251) as u8)
            .collect()
    }

    #[test]
    fn bytes_arrive_in_order_and_complete() {
        let d = data();
        let mut r = spawn(Box::new(Dribble {
            data: d.clone(),
            at: 0,
            fail: false,
        }));
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert!(out == d);
    }

    #[test]
    fn the_error_comes_after_every_byte_read_before_it() {
        let d = data();
        let mut r = spawn(Box::new(Dribble {
            data: d.clone(),
            at: 0,
            fail: true,
        }));
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(err.to_string(), "broken");
        assert!(out == d);
        assert_eq!(r.fill_buf().unwrap(), b"");
    }

    #[test]
    fn dropping_the_reader_early_ends_the_thread() {
        let mut r = spawn(Box::new(io::repeat(b'x')));
        assert_eq!(r.fill_buf().unwrap()[0], b'x');
        drop(r);
    }
}
