//! [`Spool`]: the raw lines of the messages the tracer has not printed yet. Lines stay in
//! memory while their total is under a budget; past it, new lines go to an unnamed
//! temporary file (in `$TMPDIR`, gone when the process ends) and only their offsets stay in
//! memory, so a log of millions of open messages (or one message of huge lines) does not
//! hold its text in memory. A message's lines are read back only if it is printed.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;

/// Bytes of line text held in memory before lines spill to the temporary file.
pub(super) const MEMORY_BUDGET: usize = 32 << 20;

/// Where one spooled line is.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// In the message's own buffer, from this byte.
    Memory { start: u32 },
    /// In the temporary file, at this offset.
    File { offset: u64 },
}

/// One line of a message: its input, its line number, its length and where its text is.
#[derive(Debug, Clone, Copy)]
struct Entry {
    file: u32,
    number: u64,
    len: u32,
    place: Place,
}

/// The spooled lines of one message.
#[derive(Debug, Default)]
pub(super) struct Lines {
    text: String,
    entries: Vec<Entry>,
}

impl Lines {
    /// Bytes of text this message holds in memory.
    pub(super) fn memory(&self) -> usize {
        self.text.capacity()
    }
}

/// The temporary file and the memory budget shared by every message's lines.
#[derive(Debug)]
pub(super) struct Spool {
    budget: usize,
    /// Bytes of line text in memory, over all live messages.
    in_memory: usize,
    file: Option<BufWriter<File>>,
    /// Bytes written to the file so far.
    written: u64,
    /// Lines that went to the file (for the tests and `--verbose`).
    pub(super) spilled_lines: u64,
}

impl Default for Spool {
    fn default() -> Self {
        Spool::with_budget(MEMORY_BUDGET)
    }
}

impl Spool {
    pub(super) fn with_budget(budget: usize) -> Self {
        Spool {
            budget,
            in_memory: 0,
            file: None,
            written: 0,
            spilled_lines: 0,
        }
    }

    /// Appends one line to `lines`: in memory while under the budget, else to the file.
    pub(super) fn push(
        &mut self,
        lines: &mut Lines,
        file: usize,
        number: u64,
        text: &str,
    ) -> io::Result<()> {
        // The reader cuts lines at 1 MiB; a longer one is cut here at a char boundary.
        let mut end = text.len().min(u32::MAX as usize);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let text = &text[..end];
        let len = end as u32;
        let file = u32::try_from(file).unwrap_or(u32::MAX);
        let place = if self.in_memory + text.len() <= self.budget
            && lines.text.len() + text.len() <= u32::MAX as usize
        {
            let before = lines.text.capacity();
            let start = lines.text.len() as u32;
            lines.text.push_str(text);
            self.in_memory += lines.text.capacity() - before;
            Place::Memory { start }
        } else {
            let out = match &mut self.file {
                Some(f) => f,
                None => self
                    .file
                    .insert(BufWriter::with_capacity(1 << 20, tempfile::tempfile()?)),
            };
            out.write_all(text.as_bytes())?;
            let offset = self.written;
            self.written += text.len() as u64;
            self.spilled_lines += 1;
            Place::File { offset }
        };
        lines.entries.push(Entry {
            file,
            number,
            len,
            place,
        });
        Ok(())
    }

    /// Gives back the memory of a message that will not be printed.
    pub(super) fn release(&mut self, lines: Lines) {
        self.in_memory -= lines.memory().min(self.in_memory);
    }

    /// The lines of a message, in order, as (input index, line number, text), releasing
    /// its memory.
    pub(super) fn take(&mut self, lines: Lines) -> io::Result<Vec<(usize, u64, String)>> {
        if let Some(f) = &mut self.file {
            f.flush()?;
        }
        let mut out = Vec::with_capacity(lines.entries.len());
        for e in &lines.entries {
            let text = match e.place {
                Place::Memory { start } => {
                    lines.text[start as usize..start as usize + e.len as usize].to_string()
                }
                Place::File { offset } => {
                    let mut buf = vec![0; e.len as usize];
                    let f = self.file.as_ref().expect("a spilled line has a file");
                    f.get_ref().read_exact_at(&mut buf, offset)?;
                    // The spool holds what was pushed: text, cut at a char boundary.
                    String::from_utf8(buf)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
                }
            };
            out.push((e.file as usize, e.number, text));
        }
        self.release(lines);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_past_the_budget_spill_and_come_back_in_order() {
        let mut spool = Spool::with_budget(64);
        let mut a = Lines::default();
        let mut b = Lines::default();
        let long = "x".repeat(100);
        spool.push(&mut a, 0, 1, "first line of a").unwrap();
        spool.push(&mut b, 0, 2, &long).unwrap();
        spool
            .push(&mut a, 1, 3, "second line of a, ünïcode")
            .unwrap();
        spool.push(&mut b, 1, 4, "short").unwrap();
        assert!(
            spool.spilled_lines >= 1,
            "the 100-byte line is past a 64-byte budget"
        );
        let b = spool.take(b).unwrap();
        assert_eq!(b, vec![(0, 2, long.clone()), (1, 4, "short".to_string())]);
        let a = spool.take(a).unwrap();
        assert_eq!(
            a,
            vec![
                (0, 1, "first line of a".to_string()),
                (1, 3, "second line of a, ünïcode".to_string())
            ]
        );
        assert_eq!(spool.in_memory, 0, "taking a message gives its memory back");
    }

    #[test]
    fn released_memory_lets_later_lines_stay_in_memory() {
        let mut spool = Spool::with_budget(64);
        let mut a = Lines::default();
        spool.push(&mut a, 0, 1, &"y".repeat(60)).unwrap();
        spool.release(a);
        let mut b = Lines::default();
        spool.push(&mut b, 0, 2, &"z".repeat(60)).unwrap();
        assert_eq!(spool.spilled_lines, 0);
        assert_eq!(spool.take(b).unwrap()[0].2, "z".repeat(60));
    }
}
