//! One open log file read incrementally: the position delivered up to, the line being
//! assembled ([`Assembler`]), and the file and read-ahead data it shares with the scanner
//! ([`FileState`]).

use std::fs::{File, Metadata};
use std::io;
use std::ops::ControlFlow;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::ahead::{Chunk, FileState, Taken};
use super::assemble::{Assembler, OnLine};
use crate::input::lines::complete_end;

/// What identifies a file independently of its name: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// The identity in `meta`, or `None` where the platform has no inodes.
    pub(super) fn of(meta: &Metadata) -> Option<FileId> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(FileId {
                dev: meta.dev(),
                ino: meta.ino(),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }
}

/// Why something that is not a regular file cannot be followed as one.
pub(super) fn not_a_file(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO, not a regular file (follow it anew to read it as a FIFO)";
        }
    }
    if t.is_dir() {
        "is a directory"
    } else {
        "not a regular file or FIFO"
    }
}

/// What [`Handle::drain`] stopped at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Drained {
    /// The end of the file.
    End,
    /// `on_line` asked to stop, or the stop flag was set.
    Break,
    /// The scanner saw the file truncated: the handle was moved back to offset 0.
    Truncated,
}

/// An open file and how far it has been read.
#[derive(Debug)]
pub(super) struct Handle {
    id: Option<FileId>,
    state: Arc<FileState>,
    /// Offset of the next byte to deliver.
    pos: u64,
    /// Offset just past the last delivered line: where the held partial line starts.
    line_start: u64,
    /// The line being assembled, and the count of lines before `line_start`.
    asm: Assembler,
    /// When bytes were last read (or the handle was opened).
    last_data: Instant,
}

impl Handle {
    /// Opens `path` for reading from offset 0. Fails on anything but a regular file (a
    /// FIFO is followed by [`super::pipe`]; opening one here could block).
    pub(super) fn open(path: &Path) -> io::Result<Handle> {
        if let Ok(meta) = std::fs::metadata(path)
            && !meta.is_file()
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                not_a_file(&meta),
            ));
        }
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                not_a_file(&meta),
            ));
        }
        Ok(Handle {
            id: FileId::of(&meta),
            state: Arc::new(FileState::new(file)),
            pos: 0,
            line_start: 0,
            asm: Assembler::new(Some(0)),
            last_data: Instant::now(),
        })
    }

    pub(super) fn id(&self) -> Option<FileId> {
        self.id
    }

    /// The state shared with the scanner.
    pub(super) fn state(&self) -> &Arc<FileState> {
        &self.state
    }

    /// Offset just past the last delivered line.
    pub(super) fn offset(&self) -> u64 {
        self.line_start
    }

    /// Offset of the next byte to deliver.
    pub(super) fn pos(&self) -> u64 {
        self.pos
    }

    /// The file's current size, from the open handle (so it works after an unlink too).
    pub(super) fn len(&self) -> io::Result<u64> {
        Ok(self.state.file.metadata()?.len())
    }

    pub(super) fn last_data(&self) -> Instant {
        self.last_data
    }

    /// Starts the quiet period of a handle whose file was just rotated away.
    pub(super) fn retire(&mut self) {
        self.last_data = Instant::now();
    }

    /// Continues reading at `offset`, forgetting any held partial line and anything read
    /// ahead. Line numbers stay known only when `offset` is 0 (or the handle's own
    /// position).
    pub(super) fn seek(&mut self, offset: u64) {
        self.state.ahead().restart_at(offset);
        self.restart(offset);
    }

    /// Sets the position to `offset` after the data taken from the file got there.
    fn restart(&mut self, offset: u64) {
        let line_no = match offset {
            0 => Some(0),
            _ if offset == self.line_start => self.asm.line_no(),
            _ => None,
        };
        self.asm.reset(line_no);
        self.pos = offset;
        self.line_start = offset;
    }

    /// Numbers the lines from here on by counting the lines before the read position
    /// (reading that part of the file once).
    pub(super) fn count_lines(&mut self) -> io::Result<()> {
        if self.asm.line_no().is_some() {
            return Ok(());
        }
        let mut buf = vec![0; 256 * 1024];
        let (mut at, mut n) = (0u64, 0u64);
        while at < self.line_start {
            let want = buf.len().min((self.line_start - at) as usize);
            match self.state.file.read_at(&mut buf[..want], at) {
                Ok(0) => break,
                Ok(k) => {
                    n += memchr::memchr_iter(b'\n', &buf[..k]).count() as u64;
                    at += k as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.asm.set_line_no(Some(n));
        Ok(())
    }

    /// Positions the handle for [`super::StartAt::End`]: at the start of the last line if
    /// the file ends without a newline (so that line is delivered whole once it is
    /// finished), otherwise at the end.
    pub(super) fn seek_end(&mut self) -> io::Result<()> {
        let len = self.len()?;
        let start = complete_end(&mut &self.state.file, len)?;
        self.seek(start);
        Ok(())
    }

    /// Reads to the end of the file (first what the scanner read ahead), delivering every
    /// complete line to `on_line` and holding the unfinished last one. Checks `stop` before
    /// each chunk. Stops at a truncation the scanner marked, having moved back to offset 0.
    /// When `on_line` breaks, the handle is left just past the line that broke, so nothing
    /// is lost or repeated if reading resumes.
    pub(super) fn drain(
        &mut self,
        path: &Path,
        buf: &mut [u8],
        text: &mut String,
        stop: &AtomicBool,
        on_line: &mut OnLine<'_>,
    ) -> io::Result<Drained> {
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(Drained::Break);
            }
            let taken = self.state.ahead().take(&self.state.file, buf)?;
            let flow = match taken {
                Taken::End => return Ok(Drained::End),
                Taken::Chunk(Chunk::Truncated) => {
                    self.restart(0);
                    return Ok(Drained::Truncated);
                }
                Taken::Chunk(Chunk::Data(d)) => self.deliver(path, &d, text, on_line),
                Taken::Read(n) => self.deliver(path, &buf[..n], text, on_line),
            };
            if flow.is_break() {
                return Ok(Drained::Break);
            }
        }
    }

    /// Delivers the lines completed by `chunk`, the data at `self.pos`, and holds its
    /// unfinished end. On a break, puts back the part after the line that broke.
    fn deliver(
        &mut self,
        path: &Path,
        chunk: &[u8],
        text: &mut String,
        on_line: &mut OnLine<'_>,
    ) -> ControlFlow<()> {
        let base = self.pos;
        self.last_data = Instant::now();
        let fed = self.asm.feed(path, chunk, text, on_line);
        if let Some(end) = fed.last_end {
            self.line_start = base + end as u64;
        }
        if fed.flow.is_break() {
            let end = fed.last_end.unwrap_or(chunk.len());
            self.state.ahead().put_back(&chunk[end..]);
            self.pos = base + end as u64;
        } else {
            self.pos = base + chunk.len() as u64;
        }
        fed.flow
    }
}
