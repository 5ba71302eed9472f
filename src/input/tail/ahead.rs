//! What the reader of a file and the scanner watching its path share: the open file, and the
//! data taken from it but not delivered yet. Every read of the file goes through here, at
//! one shared position, so the scanner can read ahead of a reader that is busy (at most
//! [`AHEAD_CAP`] bytes), and mark a truncation at the exact place in the data where it
//! happened: the reader delivers what was read before it, then restarts at offset 0.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::{Mutex, MutexGuard};

/// Most bytes the scanner reads ahead of the reader, per file.
pub(super) const AHEAD_CAP: usize = 8 * 1024 * 1024;

/// The size of one read.
pub(super) const CHUNK: usize = 64 * 1024;

/// An open file shared by the reader and the scanner.
#[derive(Debug)]
pub(super) struct FileState {
    pub(super) file: File,
    ahead: Mutex<Ahead>,
}

/// The data taken from the file and not delivered yet, in order.
#[derive(Debug, Default)]
pub(super) struct Ahead {
    /// The offset of the next byte to take from the file.
    end: u64,
    chunks: VecDeque<Chunk>,
    /// Bytes held in `chunks`.
    bytes: usize,
}

/// A piece of what the reader has to deliver.
#[derive(Debug)]
pub(super) enum Chunk {
    Data(Vec<u8>),
    /// The file was truncated here: what follows starts at offset 0.
    Truncated,
}

/// What [`Ahead::take`] gave.
#[derive(Debug)]
pub(super) enum Taken {
    /// A chunk read ahead.
    Chunk(Chunk),
    /// This many bytes read just now into the caller's buffer.
    Read(usize),
    /// Nothing more for now.
    End,
}

impl FileState {
    pub(super) fn new(file: File) -> FileState {
        FileState {
            file,
            ahead: Mutex::default(),
        }
    }

    /// The shared data, even after a panic elsewhere (every change keeps it consistent).
    pub(super) fn ahead(&self) -> MutexGuard<'_, Ahead> {
        self.ahead.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Ahead {
    /// The offset of the next byte to take from the file.
    pub(super) fn end(&self) -> u64 {
        self.end
    }

    /// Forgets what was read ahead and goes on taking from `offset`.
    pub(super) fn restart_at(&mut self, offset: u64) {
        self.chunks.clear();
        self.bytes = 0;
        self.end = offset;
    }

    /// The next chunk read ahead, or else a read from the file into `buf`.
    pub(super) fn take(&mut self, file: &File, buf: &mut [u8]) -> io::Result<Taken> {
        if let Some(c) = self.chunks.pop_front() {
            if let Chunk::Data(d) = &c {
                self.bytes -= d.len();
            }
            return Ok(Taken::Chunk(c));
        }
        loop {
            match file.read_at(buf, self.end) {
                Ok(0) => return Ok(Taken::End),
                Ok(n) => {
                    self.end += n as u64;
                    return Ok(Taken::Read(n));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Puts back the undelivered end of a chunk, to be taken first next time.
    pub(super) fn put_back(&mut self, data: &[u8]) {
        if !data.is_empty() {
            self.bytes += data.len();
            self.chunks.push_front(Chunk::Data(data.to_vec()));
        }
    }

    /// Marks a truncation: what is taken from now on starts at offset 0.
    pub(super) fn truncated(&mut self) {
        self.chunks.push_back(Chunk::Truncated);
        self.end = 0;
    }

    /// Reads what the file holds beyond what was taken, up to [`AHEAD_CAP`] held. Returns
    /// true if and only if anything was read.
    pub(super) fn read_ahead(&mut self, file: &File) -> io::Result<bool> {
        let mut any = false;
        while self.bytes < AHEAD_CAP {
            let mut data = vec![0; CHUNK.min(AHEAD_CAP - self.bytes)];
            match file.read_at(&mut data, self.end) {
                Ok(0) => break,
                Ok(n) => {
                    data.truncate(n);
                    self.end += n as u64;
                    self.bytes += n;
                    self.chunks.push_back(Chunk::Data(data));
                    any = true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(any)
    }
}
