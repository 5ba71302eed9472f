//! Following live logs, like `tail -F`: deliver each new complete line of one or more files
//! as it is written, and keep following across rotation, truncation and deletion.
//!
//! # How it works
//!
//! Two threads share the work, so that a slow consumer of lines never makes the follower
//! miss a file:
//!
//! - The **scanner** (`scan.rs`) looks at every followed path on each file-system event (the
//!   parent folders are watched non-recursively with notify's `RecommendedWatcher`, inotify
//!   on Linux, and events are filtered down to our paths, as uutils `tail` does) and at least
//!   every [`FollowOptions::recheck`]; when polling ([`FollowOptions::poll`], or when the
//!   watcher cannot be created) every [`FollowOptions::poll_interval`]. It tracks files by
//!   identity (device and inode): a new file at the path is opened at once and queued, and a
//!   file at the path that shrank is marked truncated.
//! - The **reader** (the thread calling [`Follower::run`]) delivers lines. On each wake-up it
//!   looks at the paths too, then acts on what the scanner queued, in order, and reads.
//!   Every read of a file goes through one shared position (`ahead.rs`): the scanner reads
//!   the file at the path ahead of a reader that is busy (up to 8 MiB), so a truncation
//!   loses only what was written since the scanner's last read.
//! - A **FIFO** is read by a thread of its own (`pipe.rs`), which never blocks in `open(2)`
//!   and waits for the next writer after each one closes.
//!
//! What happens to a path:
//!
//! - **Appended data**: read to the end of the file; deliver complete lines and hold the
//!   unfinished last line until its `\n` arrives.
//! - **New device or inode** (rename-and-create or delete-and-create rotation): the scanner
//!   has opened the new file already; the reader drains the old handle to its end, then
//!   reads the new file from offset 0 ([`Notice::Replaced`]). However many rotations happen
//!   while the reader is busy, each file is opened by the scanner while it is at the path
//!   and read in turn, to its end. An old handle is kept and drained on every check until it
//!   has been quiet for 5 × `recheck`, so lines a writer adds to the old file before it
//!   reopens its log are not lost either (vector's `rotate_wait`). Compressing the old file
//!   afterwards (`gzip mail.log.1`) does not matter: the open handle still reads it.
//! - **Smaller than what was seen or read of it** (copytruncate): what was read before the
//!   truncation is delivered, then reading starts again at offset 0 ([`Notice::Truncated`]).
//! - **Path missing**: keep reading the old handle ([`Notice::Disappeared`], once). When a
//!   file appears at the path again, read it from offset 0 ([`Notice::Appeared`]); if it is
//!   the same file as before (renamed away and back), just carry on.
//!
//! Lines are shaped as [`crate::input::LineReader`] shapes them: no `\n`, a trailing `\r`
//! removed, cut at [`crate::input::MAX_LINE`] bytes, invalid UTF-8 replaced with U+FFFD. A
//! line is only ever delivered with its `\n` written, so the bytes of an unfinished line are
//! dropped when the file they are in stops being followed: when an old handle is let go after
//! a rotation or deletion, or when the file is truncated.
//!
//! # Limits
//!
//! - **copytruncate can lose lines**, as with every `tail`: lines written after the
//!   scanner's last read but before the truncation are in the copy, not in the file we
//!   follow. With the event-driven watcher the scanner reads within about a millisecond of
//!   each write, whether or not the reader is busy: at ~9,000 lines a second, 0.8 lines per
//!   truncation on average and 10 at most (one write) in `tests/tail.rs`. When polling, up
//!   to one `poll_interval` of lines (43 on average, 90 at most, at 10 ms). A reader more
//!   than 8 MiB behind loses, in addition, what the scanner could not hold.
//! - A file rotated away and then rewritten in place while it is still drained (a copy made
//!   onto `mail.log.1` when that is the file renamed there before) is let go if it shrank
//!   below what was read of it; if it is already longer again, what follows our position
//!   is read as if appended.
//! - Read-ahead takes memory while the reader is busy: up to 8 MiB for the file at the path,
//!   and what was read ahead of each file rotated away meanwhile until it is delivered.
//! - A truncation followed by enough new data to reach what was seen of the file before the
//!   scanner looks is indistinguishable from an append: we then skip the start of the new
//!   data. With the event-driven watcher the scanner looks within milliseconds; when
//!   polling, within one `poll_interval`. Files are not fingerprinted.
//! - When polling, a file that is at the path for less than one `poll_interval` (rotated
//!   again before the next poll) may never be opened.
//! - A file is identified by its path. If two followed paths are rotated into each other
//!   (`mail.log` and `mail.log.1`), the renamed file is read again under its new name. A
//!   file renamed away, let go when quiet, and renamed back is read again from 0.
//! - If a followed path is a symlink, writes to its target are only seen by the periodic
//!   re-check (the target's folder is not watched).

mod ahead;
mod assemble;
mod handle;
mod pipe;
mod scan;
mod track;
mod watch;

#[cfg(test)]
mod tests;

use std::fmt;
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub use crate::error::FollowError;
use crate::input::fifo;
use assemble::OnLine;
use handle::Handle;
use track::{Cx, Tail};

/// How the follower watches files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowOptions {
    /// Poll the files every `poll_interval` even where an event-driven watcher is
    /// available, e.g. for network file systems.
    pub poll: bool,
    /// How often to poll when polling.
    pub poll_interval: Duration,
    /// How often every file is re-checked even without events.
    pub recheck: Duration,
    /// Number the lines of a file that is read from mid-file ([`StartAt::End`],
    /// [`StartAt::Offset`]) by counting the lines before, which reads that part once when
    /// following starts. Without it, [`TailLine::number`] is `None` for those files.
    pub count_lines: bool,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            poll: false,
            poll_interval: Duration::from_secs(1),
            recheck: Duration::from_secs(1),
            count_lines: false,
        }
    }
}

/// A complete line of a followed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TailLine<'a> {
    /// The followed path, as given.
    pub path: &'a Path,
    /// The line, shaped as [`crate::input::LineReader`] shapes it.
    pub text: &'a str,
    /// Its 1-based number in the file it was read from, when known: the file was read from
    /// its beginning, or [`FollowOptions::count_lines`] counted the lines before.
    pub number: Option<u64>,
}

/// Where to start reading a file that exists when following starts. A file that appears
/// later is always read from its beginning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// From offset 0.
    Beginning,
    /// From the end, so only new lines are delivered. If the file ends with an unfinished
    /// line, that line is delivered once it is finished.
    End,
    /// From this byte offset, e.g. one saved from [`Follower::offset`]. An offset beyond the
    /// end of the file means it was truncated meanwhile: reading starts at 0 with a
    /// [`Notice::Truncated`].
    Offset(u64),
}

/// A change of state worth telling the user about. `Display` gives GNU `tail -F` wording
/// without a program-name prefix: print it as `mailtrace: {notice}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The file shrank below what was seen or read of it (copytruncate); reading restarts
    /// at 0.
    Truncated(PathBuf),
    /// A different file is now at the path (rename-and-create rotation); the new one is read
    /// from 0 after the old one was drained.
    Replaced(PathBuf),
    /// Nothing is at the path any more; the old file, if open, is still read.
    Disappeared(PathBuf),
    /// A file is at the path again (or for the first time); it is read from 0.
    Appeared(PathBuf),
    /// The event-driven watcher could not be used, for this reason; polling instead.
    PollingFallback(String),
    /// Reading or opening the file failed; the follower keeps trying at each check. Each
    /// distinct error is reported once until the file can be read again.
    ReadError(PathBuf, String),
    /// The path is a FIFO that has had no writer for a while since following started
    /// ([`crate::input::fifo`]); it is read as soon as one comes, and again after each
    /// writer closes (without a new notice).
    Waiting(PathBuf),
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Truncated(p) => write!(f, "{}: file truncated", p.display()),
            Notice::Replaced(p) => {
                write!(f, "{} has been replaced; following new file", p.display())
            }
            Notice::Disappeared(p) => write!(
                f,
                "{} has become inaccessible: No such file or directory",
                p.display()
            ),
            Notice::Appeared(p) => {
                write!(f, "{} has appeared; following new file", p.display())
            }
            Notice::PollingFallback(why) => write!(f, "using polling: {why}"),
            Notice::ReadError(p, e) => write!(f, "{}: {e}", p.display()),
            Notice::Waiting(p) => write!(f, "waiting for a writer on {}", p.display()),
        }
    }
}

/// Follows a set of files; see the module documentation.
pub struct Follower {
    tails: Vec<Tail>,
    /// The followed FIFOs (checked after the files).
    pipes: Vec<pipe::Pipe>,
    recheck: Duration,
    /// How long to wait between checks when no event comes.
    wait: Duration,
    /// How long an old handle must be quiet before it is let go.
    rotate_wait: Duration,
    /// Wake-ups: from the scanner, or straight from the watcher when there is no scanner.
    wake: Receiver<()>,
    polling: bool,
    /// The scanner thread (stopped when dropped, before the watcher).
    _scanner: Option<scan::Scanner>,
    _watch: watch::Watch,
    /// Notices from `new`, delivered when `run` starts.
    pending: Vec<Notice>,
    /// The read buffer shared by all files.
    buf: Vec<u8>,
    /// The buffer for lines with invalid UTF-8.
    text: String,
}

/// The read buffer size.
const BUF_SIZE: usize = 64 * 1024;

impl Follower {
    /// Opens the files and starts watching their folders. A file that does not exist yet is
    /// waited for (a [`Notice::Disappeared`] is delivered when `run` starts); a file that
    /// exists but cannot be opened, or whose folder does not exist, is an error. A file named
    /// twice (`mail.log`, `./mail.log`) is followed once, as first named.
    pub fn new(
        files: Vec<(PathBuf, StartAt)>,
        opts: FollowOptions,
    ) -> Result<Follower, FollowError> {
        Follower::with_scanner(files, opts, true)
    }

    /// [`Follower::new`]; without the scanner thread (`scanner` false) paths are only looked
    /// at by the reader's checks, which makes them deterministic for unit tests.
    fn with_scanner(
        files: Vec<(PathBuf, StartAt)>,
        opts: FollowOptions,
        scanner: bool,
    ) -> Result<Follower, FollowError> {
        // The watcher signals on `watch_tx`; the reader wakes on `wake`, signalled by the
        // scanner and the FIFOs' threads (or straight by the watcher without a scanner).
        let (watch_tx, watch_rx) = mpsc::channel();
        let (wake_tx, wake, scan_rx) = if scanner {
            let (tx, rx) = mpsc::channel();
            (tx, rx, Some(watch_rx))
        } else {
            (watch_tx.clone(), watch_rx, None)
        };
        let mut tails = Vec::with_capacity(files.len());
        let mut pipes = Vec::new();
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut keys = Vec::with_capacity(files.len());
        let mut pending = Vec::new();
        for (path, start) in files {
            let (dir, key) = folder_and_key(&path)?;
            if keys.contains(&key) {
                // The same file named twice (`mail.log`, `./mail.log`): follow it once.
                continue;
            }
            keys.push(key);
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
            if fifo::is_fifo(&path) {
                match pipe::Pipe::start(path.clone(), wake_tx.clone()) {
                    Ok(p) => pipes.push(p),
                    Err(source) => return Err(FollowError::Open { path, source }),
                }
            } else {
                tails.push(open_tail(path, start, opts.count_lines, &mut pending)?);
            }
        }
        let watch = watch::start(&dirs, &keys, &opts, watch_tx.clone());
        if let Some(why) = &watch.fallback {
            pending.insert(0, Notice::PollingFallback(why.clone()));
        }
        let wait = if watch.polling {
            opts.recheck.min(opts.poll_interval)
        } else {
            opts.recheck
        };
        let wait = wait.max(Duration::from_millis(1));
        let scanner = match scan_rx {
            Some(rx) => {
                let shared = tails.iter().map(|t| t.watched.clone()).collect();
                let s = scan::Scanner::spawn(shared, rx, watch_tx, wait, wake_tx).map_err(
                    |source| FollowError::Open {
                        path: tails.first().map(|t| t.path.clone()).unwrap_or_default(),
                        source,
                    },
                )?;
                Some(s)
            }
            None => None,
        };
        Ok(Follower {
            tails,
            pipes,
            recheck: opts.recheck,
            wait,
            rotate_wait: opts.recheck * 5,
            wake,
            polling: watch.polling,
            _scanner: scanner,
            _watch: watch,
            pending,
            buf: vec![0; BUF_SIZE],
            text: String::new(),
        })
    }

    /// Returns true if and only if the follower polls instead of receiving events.
    pub fn is_polling(&self) -> bool {
        self.polling
    }

    /// The byte offset just past the last line delivered from the file now open at `path`
    /// (`None` for an unknown path or when no file is open), for resuming with
    /// [`StartAt::Offset`].
    pub fn offset(&self, path: &Path) -> Option<u64> {
        let tail = self.tails.iter().find(|t| t.path == path)?;
        tail.current.as_ref().map(Handle::offset)
    }

    /// Blocks, delivering each complete line and each notice, until `stop` becomes true
    /// (checked at least every `recheck`, or `poll_interval` when polling, and between
    /// reads) or `on_line` returns [`ControlFlow::Break`]. After a break, calling `run`
    /// again continues with the next line.
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        on_line: impl FnMut(TailLine<'_>) -> ControlFlow<()>,
        on_notice: impl FnMut(Notice),
    ) -> Result<(), FollowError> {
        self.run_with_tick(stop, on_line, on_notice, || ControlFlow::Continue(()))
    }

    /// Like [`Follower::run`], and calls `on_tick` after a check of all files, at most once
    /// per `recheck` (and at least once per two), for redrawing a display. `on_tick` can
    /// end the run by returning [`ControlFlow::Break`].
    pub fn run_with_tick(
        &mut self,
        stop: &AtomicBool,
        mut on_line: impl FnMut(TailLine<'_>) -> ControlFlow<()>,
        mut on_notice: impl FnMut(Notice),
        mut on_tick: impl FnMut() -> ControlFlow<()>,
    ) -> Result<(), FollowError> {
        for notice in self.pending.drain(..) {
            on_notice(notice);
        }
        let mut last_tick = Instant::now();
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            if self
                .check_all(stop, &mut on_line, &mut on_notice)
                .is_break()
            {
                return Ok(());
            }
            if last_tick.elapsed() >= self.recheck {
                last_tick = Instant::now();
                if on_tick().is_break() {
                    return Ok(());
                }
            }
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            wait_for_wake(&self.wake, self.wait);
        }
    }

    /// Checks every file once: act on rotations and truncations, then drain.
    fn check_all(
        &mut self,
        stop: &AtomicBool,
        on_line: &mut OnLine<'_>,
        on_notice: &mut dyn FnMut(Notice),
    ) -> ControlFlow<()> {
        let mut cx = Cx {
            buf: &mut self.buf,
            text: &mut self.text,
            stop,
            on_line,
            on_notice,
            rotate_wait: self.rotate_wait,
        };
        for tail in &mut self.tails {
            tail.check(&mut cx)?;
        }
        for pipe in &mut self.pipes {
            pipe.check(cx.text, stop, cx.on_line, cx.on_notice)?;
        }
        ControlFlow::Continue(())
    }
}

/// The canonical folder of `path` and the path in it, as the watcher reports it.
fn folder_and_key(path: &Path) -> Result<(PathBuf, PathBuf), FollowError> {
    let Some(name) = path.file_name() else {
        return Err(FollowError::NotAFile {
            path: path.to_path_buf(),
        });
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match parent.canonicalize() {
        Ok(dir) => {
            let key = dir.join(name);
            Ok((dir, key))
        }
        Err(source) => Err(FollowError::Folder {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Opens one followed path as `start` asks, or notes it missing.
fn open_tail(
    path: PathBuf,
    start: StartAt,
    count_lines: bool,
    pending: &mut Vec<Notice>,
) -> Result<Tail, FollowError> {
    match open_at(&path, start) {
        Ok((mut h, truncated)) => {
            if truncated {
                pending.push(Notice::Truncated(path.clone()));
            }
            if count_lines && let Err(e) = h.count_lines() {
                pending.push(Notice::ReadError(path.clone(), e.to_string()));
            }
            Ok(Tail::new(path, Some(h), false))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            pending.push(Notice::Disappeared(path.clone()));
            Ok(Tail::new(path, None, true))
        }
        Err(source) => Err(FollowError::Open { path, source }),
    }
}

/// Blocks until a wake-up comes or `timeout` passes, then swallows wake-ups already queued:
/// one check handles them all.
fn wait_for_wake(wake: &Receiver<()>, timeout: Duration) {
    match wake.recv_timeout(timeout) {
        Ok(()) => while wake.try_recv().is_ok() {},
        Err(RecvTimeoutError::Timeout) => {}
        // Cannot happen while the scanner (or watcher) is alive; never spin if it does.
        Err(RecvTimeoutError::Disconnected) => std::thread::sleep(timeout),
    }
}

/// Opens `path` and positions it as `start` asks. Also returns true if and only if an
/// offset was beyond the end (so reading starts at 0).
fn open_at(path: &Path, start: StartAt) -> io::Result<(Handle, bool)> {
    let mut h = Handle::open(path)?;
    let mut truncated = false;
    match start {
        StartAt::Beginning => {}
        StartAt::End => h.seek_end()?,
        StartAt::Offset(n) => {
            if n > h.len()? {
                truncated = true;
            } else {
                h.seek(n);
            }
        }
    }
    Ok((h, truncated))
}
