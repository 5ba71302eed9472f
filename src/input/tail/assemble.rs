//! Complete lines out of chunks of bytes as they are read: the unfinished last line is held
//! until its `\n` arrives (at most [`MAX_LINE`] bytes of it), and each line is shaped as
//! [`crate::input::LineReader`] shapes it (CR stripped, cut at [`MAX_LINE`], invalid UTF-8
//! replaced) and numbered.

use std::ops::ControlFlow;
use std::path::Path;

use super::TailLine;
use crate::input::lines::{LineFlags, MAX_LINE, shape};

/// The callback that receives complete lines.
pub(super) type OnLine<'a> = dyn FnMut(TailLine<'_>) -> ControlFlow<()> + 'a;

/// The line being assembled, and how many came before.
#[derive(Debug)]
pub(super) struct Assembler {
    /// The partial line so far, without its end; at most [`MAX_LINE`] bytes.
    line: Vec<u8>,
    /// The partial line passed [`MAX_LINE`]; its remaining bytes are skipped.
    cut: bool,
    /// Lines delivered before, when known.
    line_no: Option<u64>,
}

/// What [`Assembler::feed`] did with a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fed {
    /// `Break` if `on_line` asked to stop: the chunk after `last_end` was then not used.
    pub(super) flow: ControlFlow<()>,
    /// Where in the chunk the last line delivered ends (after its `\n`).
    pub(super) last_end: Option<usize>,
}

impl Assembler {
    pub(super) fn new(line_no: Option<u64>) -> Assembler {
        Assembler {
            line: Vec::new(),
            cut: false,
            line_no,
        }
    }

    /// Forgets the held partial line and sets the count of lines before.
    pub(super) fn reset(&mut self, line_no: Option<u64>) {
        self.line.clear();
        self.cut = false;
        self.line_no = line_no;
    }

    /// Lines delivered before, when known.
    pub(super) fn line_no(&self) -> Option<u64> {
        self.line_no
    }

    pub(super) fn set_line_no(&mut self, n: Option<u64>) {
        self.line_no = n;
    }

    /// Delivers the lines `chunk` completes and, unless `on_line` breaks, holds its
    /// unfinished end.
    pub(super) fn feed(
        &mut self,
        path: &Path,
        chunk: &[u8],
        text: &mut String,
        on_line: &mut OnLine<'_>,
    ) -> Fed {
        let mut start = 0;
        let mut last_end = None;
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
            last_end = Some(start);
            if flow.is_break() {
                return Fed { flow, last_end };
            }
        }
        self.hold(&chunk[start..]);
        Fed {
            flow: ControlFlow::Continue(()),
            last_end,
        }
    }

    /// Delivers the held partial line, if any, as a line: the end of a stream ends it.
    pub(super) fn finish(
        &mut self,
        path: &Path,
        text: &mut String,
        on_line: &mut OnLine<'_>,
    ) -> ControlFlow<()> {
        if self.line.is_empty() && !self.cut {
            return ControlFlow::Continue(());
        }
        let number = self.line_no.map(|n| n + 1);
        let flow = emit(path, &self.line, self.cut, number, text, on_line);
        self.line.clear();
        self.cut = false;
        self.line_no = number;
        flow
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
fn emit(
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
