//! One open log file read incrementally: the byte position, the line being assembled
//! ([`Assembler`]), and the progress it shares with the scanner ([`FileState`]) so a
//! truncation seen there restarts reading here.

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

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
    file: File,
    id: Option<FileId>,
    state: Arc<FileState>,
    /// Offset of the next byte to read.
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
            file,
            id: FileId::of(&meta),
            state: Arc::default(),
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
        let line_no = match offset {
            0 => Some(0),
            _ if offset == self.line_start => self.asm.line_no(),
            _ => None,
        };
        self.asm.reset(line_no);
        self.pos = offset;
        self.line_start = offset;
        self.state.progress().pos = offset;
        Ok(())
    }

    /// Numbers the lines from here on by counting the lines before the read position
    /// (reading that part of the file once).
    pub(super) fn count_lines(&mut self) -> io::Result<()> {
        if self.asm.line_no().is_some() {
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
        self.asm.set_line_no(Some(n));
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
        let fed = self.asm.feed(path, chunk, text, on_line);
        if let Some(end) = fed.last_end {
            self.line_start = base + end as u64;
        }
        if fed.flow.is_break() && fed.last_end.is_some_and(|end| end < chunk.len()) {
            let at = self.line_start;
            // Where the next read starts; should the seek fail, the next read continues
            // after the chunk and the lines after the break in it are lost.
            if self.file.seek(SeekFrom::Start(at)).is_ok() {
                self.pos = at;
                self.state.progress().pos = at;
            }
        }
        fed.flow
    }
}
