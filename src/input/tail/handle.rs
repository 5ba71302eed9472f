//! One open log file read incrementally: the byte position, the partial last line held until
//! its `\n` arrives, the line shaping rules of [`crate::input::LineReader`] (CR stripped,
//! lines cut at [`MAX_LINE`], invalid UTF-8 replaced), and the progress it shares with the
//! scanner ([`FileState`]) so a truncation seen there restarts reading here.

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::TailLine;
use crate::input::lines::{LineFlags, MAX_LINE, complete_end, shape};

/// The callback that receives complete lines.
pub(super) type OnLine<'a> = dyn FnMut(TailLine<'_>) -> ControlFlow<()> + 'a;

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

/// What the reader of a file and the scanner that watches its path share.
#[derive(Debug, Default)]
pub(super) struct FileState {
    progress: Mutex<Progress>,
}

/// How far a file has been read, and the truncations the scanner saw.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Progress {
    /// The reader's position (the offset of the next byte it reads).
    pub(super) pos: u64,
    /// Truncations the scanner saw.
    pub(super) truncations: u64,
    /// Truncations the reader has acted on (restarted at 0 for).
    pub(super) acted_on: u64,
}

impl FileState {
    /// The progress, even if a thread panicked while holding it (it holds plain numbers).
    pub(super) fn progress(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
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
    file: File,
    id: Option<FileId>,
    state: Arc<FileState>,
    /// Lines before `line_start`, when known.
    line_no: Option<u64>,
    /// Offset of the next byte to read.
    pos: u64,
    /// Offset just past the last delivered line: where the held partial line starts.
    line_start: u64,
    /// The partial line read so far, without its end; at most [`MAX_LINE`] bytes.
    line: Vec<u8>,
    /// The partial line passed [`MAX_LINE`]; its remaining bytes are skipped.
    cut: bool,
    /// When bytes were last read (or the handle was opened).
    last_data: Instant,
}

impl Handle {
    /// Opens `path` for reading from offset 0. Fails on anything but a regular file, since
    /// reading a FIFO or a device could block the follower.
    pub(super) fn open(path: &Path) -> io::Result<Handle> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        Ok(Handle {
            file,
            id: FileId::of(&meta),
            state: Arc::default(),
            line_no: Some(0),
            pos: 0,
            line_start: 0,
            line: Vec::new(),
            cut: false,
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

    /// Offset of the next byte to read.
    pub(super) fn pos(&self) -> u64 {
        self.pos
    }

    /// The file's current size, from the open handle (so it works after an unlink too).
    pub(super) fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    pub(super) fn last_data(&self) -> Instant {
        self.last_data
    }

    /// Starts the quiet period of a handle whose file was just rotated away.
    pub(super) fn retire(&mut self) {
        self.last_data = Instant::now();
    }

    /// Continues reading at `offset`, forgetting any held partial line. Line numbers stay
    /// known only when `offset` is 0 (or the handle's own position).
    pub(super) fn seek(&mut self, offset: u64) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(offset))?;
        if offset == 0 {
            self.line_no = Some(0);
        } else if offset != self.line_start {
            self.line_no = None;
        }
        self.pos = offset;
        self.line_start = offset;
        self.line.clear();
        self.cut = false;
        self.state.progress().pos = offset;
        Ok(())
    }

    /// Numbers the lines from here on by counting the lines before the read position
    /// (reading that part of the file once).
    pub(super) fn count_lines(&mut self) -> io::Result<()> {
        if self.line_no.is_some() {
            return Ok(());
        }
        (&self.file).seek(SeekFrom::Start(0))?;
        let mut f = (&self.file).take(self.line_start);
        let mut buf = vec![0; 256 * 1024];
        let mut n = 0u64;
        loop {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => n += memchr::memchr_iter(b'\n', &buf[..k]).count() as u64,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        (&self.file).seek(SeekFrom::Start(self.pos))?;
        self.line_no = Some(n);
        Ok(())
    }

    /// Positions the handle for [`super::StartAt::End`]: at the start of the last line if
    /// the file ends without a newline (so that line is delivered whole once it is
    /// finished), otherwise at the end.
    pub(super) fn seek_end(&mut self) -> io::Result<()> {
        let len = self.len()?;
        let start = complete_end(&mut self.file, len)?;
        self.seek(start)
    }

    /// Restarts at offset 0 if the scanner saw a truncation this handle has not acted on.
    fn restart_if_truncated(&mut self) -> io::Result<bool> {
        let mut p = self.state.progress();
        if p.truncations == p.acted_on {
            return Ok(false);
        }
        p.acted_on = p.truncations;
        drop(p);
        self.seek(0)?;
        Ok(true)
    }

    /// Reads to the end of the file, delivering every complete line to `on_line` and holding
    /// the unfinished last one. Checks `stop`, and for a truncation seen by the scanner,
    /// before each read. When `on_line` breaks, the handle is left just past the line that
    /// broke, so nothing is lost or repeated if reading resumes.
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
            if self.restart_if_truncated()? {
                return Ok(Drained::Truncated);
            }
            let n = match self.file.read(buf) {
                Ok(0) => return Ok(Drained::End),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let base = self.pos;
            self.pos += n as u64;
            self.state.progress().pos = self.pos;
            self.last_data = Instant::now();
            if self
                .deliver(path, base, &buf[..n], text, on_line)
                .is_break()
            {
                return Ok(Drained::Break);
            }
        }
    }

    /// Delivers the lines completed by `chunk`, read at offset `base`, and holds its
    /// unfinished end. On a break, moves the file back to just past the line that broke.
    fn deliver(
        &mut self,
        path: &Path,
        base: u64,
        chunk: &[u8],
        text: &mut String,
        on_line: &mut OnLine<'_>,
    ) -> ControlFlow<()> {
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', chunk) {
            let piece = &chunk[start..end];
            let number = self.line_no.map(|n| n + 1);
            let flow = if self.line.is_empty() && !self.cut {
                // The whole line is in this chunk: deliver it without copying.
                let keep = piece.len().min(MAX_LINE);
                emit(
                    path,
                    &piece[..keep],
                    piece.len() > keep,
                    number,
                    text,
                    on_line,
                )
            } else {
                self.hold(piece);
                let flow = emit(path, &self.line, self.cut, number, text, on_line);
                self.line.clear();
                self.cut = false;
                flow
            };
            self.line_no = number;
            start = end + 1;
            self.line_start = base + start as u64;
            if flow.is_break() {
                if start < chunk.len() {
                    let at = self.line_start;
                    // Where the next read starts; should the seek fail, the next read
                    // continues after the chunk and its held lines are lost.
                    if self.file.seek(SeekFrom::Start(at)).is_ok() {
                        self.pos = at;
                        self.state.progress().pos = at;
                    }
                }
                return ControlFlow::Break(());
            }
        }
        self.hold(&chunk[start..]);
        ControlFlow::Continue(())
    }

    /// Adds bytes to the held partial line, keeping at most [`MAX_LINE`].
    fn hold(&mut self, bytes: &[u8]) {
        let room = MAX_LINE - self.line.len();
        if bytes.len() > room {
            self.cut = true;
        }
        self.line.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

/// Delivers one line (without its `\n`, at most [`MAX_LINE`] bytes) shaped as
/// [`crate::input::LineReader`] shapes it ([`shape`]), using the reused `text` buffer.
pub(super) fn emit(
    path: &Path,
    line: &[u8],
    cut: bool,
    number: Option<u64>,
    text: &mut String,
    on_line: &mut OnLine<'_>,
) -> ControlFlow<()> {
    let flags = LineFlags {
        truncated: cut,
        ..LineFlags::default()
    };
    let text = shape(line, flags, 0, text).text;
    on_line(TailLine { path, text, number })
}
