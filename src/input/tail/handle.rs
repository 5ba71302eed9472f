//! One open log file read incrementally: the byte position, the partial last line held until
//! its `\n` arrives, and the line shaping rules of [`crate::input::LineReader`] (CR stripped,
//! lines cut at [`MAX_LINE`], invalid UTF-8 replaced).

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::input::lines::{LineFlags, MAX_LINE, complete_end, shape};

/// The callback that receives complete lines.
pub(super) type OnLine<'a> = dyn FnMut(&Path, &str) -> ControlFlow<()> + 'a;

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

/// An open file and how far it has been read.
#[derive(Debug)]
pub(super) struct Handle {
    file: File,
    id: Option<FileId>,
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

    /// Continues reading at `offset`, forgetting any held partial line.
    pub(super) fn seek(&mut self, offset: u64) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(offset))?;
        self.pos = offset;
        self.line_start = offset;
        self.line.clear();
        self.cut = false;
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

    /// Reads to the end of the file, delivering every complete line to `on_line` and holding
    /// the unfinished last one. Checks `stop` before each read. When `on_line` breaks, the
    /// handle is left just past the line that broke, so nothing is lost or repeated if
    /// reading resumes.
    pub(super) fn drain(
        &mut self,
        path: &Path,
        buf: &mut [u8],
        text: &mut String,
        stop: &AtomicBool,
        on_line: &mut OnLine<'_>,
    ) -> io::Result<ControlFlow<()>> {
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(ControlFlow::Break(()));
            }
            let n = match self.file.read(buf) {
                Ok(0) => return Ok(ControlFlow::Continue(())),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let base = self.pos;
            self.pos += n as u64;
            self.last_data = Instant::now();
            let chunk = &buf[..n];
            let mut start = 0;
            for end in memchr::memchr_iter(b'\n', chunk) {
                let piece = &chunk[start..end];
                let flow = if self.line.is_empty() && !self.cut {
                    // The whole line is in this chunk: deliver it without copying.
                    let keep = piece.len().min(MAX_LINE);
                    emit(path, &piece[..keep], piece.len() > keep, text, on_line)
                } else {
                    self.hold(piece);
                    let flow = emit(path, &self.line, self.cut, text, on_line);
                    self.line.clear();
                    self.cut = false;
                    flow
                };
                start = end + 1;
                self.line_start = base + start as u64;
                if flow.is_break() {
                    if start < n {
                        let at = self.line_start;
                        self.file.seek(SeekFrom::Start(at))?;
                        self.pos = at;
                    }
                    return Ok(ControlFlow::Break(()));
                }
            }
            self.hold(&chunk[start..]);
        }
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
    text: &mut String,
    on_line: &mut OnLine<'_>,
) -> ControlFlow<()> {
    let flags = LineFlags {
        truncated: cut,
        ..LineFlags::default()
    };
    on_line(path, shape(line, flags, 0, text).text)
}
