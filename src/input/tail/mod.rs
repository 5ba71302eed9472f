//! Following live logs, like `tail -F`: deliver each new complete line of one or more files
//! as it is written, and keep following across rotation, truncation and deletion.
//!
//! # How it works
//!
//! The parent folder of each file is watched non-recursively with notify's
//! `RecommendedWatcher` (inotify on Linux), and events are filtered down to our paths (as
//! uutils `tail` does: watching the file itself misbehaves on rename and delete). If that
//! watcher cannot be created (inotify limits) or [`FollowOptions::poll`] is set, notify's
//! `PollWatcher` is used instead, and the follower also re-checks every file each
//! [`FollowOptions::poll_interval`] (the `PollWatcher` compares modification times in whole
//! seconds, so it alone would be slow to see appends). Whatever the watcher, every file is
//! re-checked at least every [`FollowOptions::recheck`], so a missed event never stalls it.
//!
//! Each wake-up checks every file: `stat` the path and compare with the open handle.
//!
//! - **Appended data**: read to the end of the file; deliver complete lines and hold the
//!   unfinished last line until its `\n` arrives.
//! - **New device or inode** (rename-and-create rotation): first drain the old handle to its
//!   end, then open the new file from offset 0 ([`Notice::Replaced`]). The old handle is kept
//!   and drained on every check until it has been quiet for 5 × `recheck`, so lines a writer
//!   adds to the old file before it reopens its log are not lost either (vector's
//!   `rotate_wait`).
//! - **Smaller than our position** (copytruncate): read again from offset 0
//!   ([`Notice::Truncated`]).
//! - **Path missing**: keep reading the old handle ([`Notice::Disappeared`], once). When a
//!   file appears at the path again, open it from offset 0 ([`Notice::Appeared`]); if it is
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
//! - **copytruncate can lose lines**, as with every `tail`: lines written after our last
//!   read but before the truncation are in the copy, not in the file we follow. With a
//!   reader that keeps up (the usual case) nothing is lost.
//! - A truncation followed by enough new data to reach our old position before we look is
//!   indistinguishable from an append: we then skip the start of the new data. Files are not
//!   fingerprinted.
//! - A file is identified by its path. If two followed paths are rotated into each other
//!   (`mail.log` and `mail.log.1`), the renamed file is read again under its new name.
//! - If a followed path is a symlink, writes to its target are only seen by the periodic
//!   re-check (the target's folder is not watched).

mod handle;
mod watch;

#[cfg(test)]
mod tests;

use std::fmt;
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub use crate::error::FollowError;
use handle::{FileId, Handle, OnLine};

/// How the follower watches files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowOptions {
    /// Use notify's `PollWatcher` (and re-check every `poll_interval`) even where an
    /// event-driven watcher is available, e.g. for network file systems.
    pub poll: bool,
    /// How often to poll when polling.
    pub poll_interval: Duration,
    /// How often every file is re-checked even without events.
    pub recheck: Duration,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            poll: false,
            poll_interval: Duration::from_secs(1),
            recheck: Duration::from_secs(1),
        }
    }
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
    /// The file shrank below our position (copytruncate); reading restarts at 0.
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
        }
    }
}

/// Follows a set of files; see the module documentation.
pub struct Follower {
    tails: Vec<Tail>,
    recheck: Duration,
    /// How long to wait between checks when no event comes.
    wait: Duration,
    /// How long an old handle must be quiet before it is let go.
    rotate_wait: Duration,
    watch: watch::Watch,
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
        let mut tails = Vec::with_capacity(files.len());
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut keys = Vec::with_capacity(files.len());
        let mut pending = Vec::new();
        for (path, start) in files {
            let Some(name) = path.file_name() else {
                return Err(FollowError::NotAFile { path });
            };
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let dir = match parent.canonicalize() {
                Ok(d) => d,
                Err(source) => return Err(FollowError::Folder { path, source }),
            };
            let key = dir.join(name);
            if keys.contains(&key) {
                // The same file named twice (`mail.log`, `./mail.log`): follow it once.
                continue;
            }
            keys.push(key);
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
            let mut tail = Tail::new(path);
            match open_at(&tail.path, start) {
                Ok((h, truncated)) => {
                    if truncated {
                        pending.push(Notice::Truncated(tail.path.clone()));
                    }
                    tail.current = Some(h);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    tail.missing = true;
                    pending.push(Notice::Disappeared(tail.path.clone()));
                }
                Err(source) => {
                    return Err(FollowError::Open {
                        path: tail.path,
                        source,
                    });
                }
            }
            tails.push(tail);
        }
        let watch = watch::start(&dirs, &keys, &opts)?;
        if let Some(why) = &watch.fallback {
            pending.insert(0, Notice::PollingFallback(why.clone()));
        }
        let wait = if watch.polling {
            opts.recheck.min(opts.poll_interval)
        } else {
            opts.recheck
        };
        Ok(Follower {
            tails,
            recheck: opts.recheck,
            wait: wait.max(Duration::from_millis(1)),
            rotate_wait: opts.recheck * 5,
            watch,
            pending,
            buf: vec![0; BUF_SIZE],
            text: String::new(),
        })
    }

    /// Returns true if and only if the follower polls instead of receiving events.
    pub fn is_polling(&self) -> bool {
        self.watch.polling
    }

    /// The byte offset just past the last line delivered from the file now open at `path`
    /// (`None` for an unknown path or when no file is open), for resuming with
    /// [`StartAt::Offset`].
    pub fn offset(&self, path: &Path) -> Option<u64> {
        let tail = self.tails.iter().find(|t| t.path == path)?;
        tail.current.as_ref().map(Handle::offset)
    }

    /// Blocks, delivering each complete line (path as given, line text) and each notice,
    /// until `stop` becomes true (checked at least every `recheck`, or `poll_interval` when
    /// polling, and between reads) or `on_line` returns [`ControlFlow::Break`]. After a
    /// break, calling `run` again continues with the next line.
    pub fn run(
        &mut self,
        stop: &AtomicBool,
        on_line: impl FnMut(&Path, &str) -> ControlFlow<()>,
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
        mut on_line: impl FnMut(&Path, &str) -> ControlFlow<()>,
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
            wait_for_wake(&self.watch.wake, self.wait);
        }
    }

    /// Checks every file once: reopen, restart or drain as its state requires.
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
        ControlFlow::Continue(())
    }
}

/// Blocks until the watcher signals or `timeout` passes, then swallows signals already
/// queued: one check handles them all.
fn wait_for_wake(wake: &Receiver<()>, timeout: Duration) {
    match wake.recv_timeout(timeout) {
        Ok(()) => while wake.try_recv().is_ok() {},
        Err(RecvTimeoutError::Timeout) => {}
        // Cannot happen while the watcher is alive; never spin if it does.
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
                h.seek(n)?;
            }
        }
    }
    Ok((h, truncated))
}

/// What a check needs besides the file's own state.
struct Cx<'a, 'b> {
    buf: &'a mut [u8],
    text: &'a mut String,
    stop: &'a AtomicBool,
    on_line: &'a mut OnLine<'b>,
    on_notice: &'a mut dyn FnMut(Notice),
    rotate_wait: Duration,
}

impl Cx<'_, '_> {
    /// Reads `h` to its end; a read error becomes a notice (once per distinct error).
    fn drain(
        &mut self,
        path: &Path,
        h: &mut Handle,
        last_error: &mut Option<String>,
    ) -> ControlFlow<()> {
        match h.drain(path, self.buf, self.text, self.stop, self.on_line) {
            Ok(flow) => flow,
            Err(e) => {
                self.report(path, last_error, e.to_string());
                ControlFlow::Continue(())
            }
        }
    }

    fn report(&mut self, path: &Path, last_error: &mut Option<String>, msg: String) {
        if last_error.as_deref() != Some(msg.as_str()) {
            (self.on_notice)(Notice::ReadError(path.to_path_buf(), msg.clone()));
            *last_error = Some(msg);
        }
    }
}

/// What `stat` says is at a followed path.
enum AtPath {
    File(Option<FileId>),
    Missing,
    Error(String),
}

fn stat(path: &Path) -> AtPath {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => AtPath::File(FileId::of(&m)),
        Ok(_) => AtPath::Error("not a regular file".to_string()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => AtPath::Missing,
        Err(e) => AtPath::Error(e.to_string()),
    }
}

/// One followed path: the file open now, old files still drained after a rotation, and
/// what has been reported.
#[derive(Debug)]
struct Tail {
    /// The path as given, used in callbacks and notices.
    path: PathBuf,
    current: Option<Handle>,
    /// Handles of files rotated away, drained until quiet for `rotate_wait`.
    retired: Vec<Handle>,
    /// [`Notice::Disappeared`] was delivered and no file is at the path since.
    missing: bool,
    /// The last [`Notice::ReadError`] message, so it is not repeated.
    last_error: Option<String>,
}

impl Tail {
    fn new(path: PathBuf) -> Tail {
        Tail {
            path,
            current: None,
            retired: Vec::new(),
            missing: false,
            last_error: None,
        }
    }

    fn check(&mut self, cx: &mut Cx<'_, '_>) -> ControlFlow<()> {
        match stat(&self.path) {
            AtPath::Missing => {
                if !self.missing {
                    self.missing = true;
                    (cx.on_notice)(Notice::Disappeared(self.path.clone()));
                }
            }
            AtPath::Error(msg) => cx.report(&self.path, &mut self.last_error, msg),
            AtPath::File(id) => {
                let was_missing = std::mem::replace(&mut self.missing, false);
                let same = match &self.current {
                    None => false,
                    // Without inode numbers, a file at the path is taken to be the same.
                    Some(h) => id.is_none() || h.id() == id,
                };
                if !same {
                    self.reopen(cx, was_missing)?;
                }
            }
        }

        // Old files first: their lines were most likely written before the new file's.
        let mut i = 0;
        while i < self.retired.len() {
            cx.drain(&self.path, &mut self.retired[i], &mut self.last_error)?;
            let h = &self.retired[i];
            let shrunk = h.len().is_ok_and(|len| len < h.pos());
            if shrunk || h.last_data().elapsed() >= cx.rotate_wait {
                self.retired.swap_remove(i);
            } else {
                i += 1;
            }
        }

        if let Some(h) = &mut self.current {
            match h.len() {
                Ok(len) if len < h.pos() => {
                    if let Err(e) = h.seek(0) {
                        cx.report(&self.path, &mut self.last_error, e.to_string());
                        return ControlFlow::Continue(());
                    }
                    (cx.on_notice)(Notice::Truncated(self.path.clone()));
                }
                Ok(_) => {}
                Err(e) => cx.report(&self.path, &mut self.last_error, e.to_string()),
            }
            cx.drain(&self.path, h, &mut self.last_error)?;
        }
        ControlFlow::Continue(())
    }

    /// A different file (or a file after none) is at the path: drain the old handle, then
    /// switch to the new file from offset 0, keeping the old handle to drain later.
    fn reopen(&mut self, cx: &mut Cx<'_, '_>, was_missing: bool) -> ControlFlow<()> {
        if let Some(old) = &mut self.current {
            cx.drain(&self.path, old, &mut self.last_error)?;
        }
        match Handle::open(&self.path) {
            Ok(h) => {
                self.last_error = None;
                let notice = if was_missing || self.current.is_none() {
                    Notice::Appeared(self.path.clone())
                } else {
                    Notice::Replaced(self.path.clone())
                };
                if let Some(mut old) = self.current.replace(h) {
                    old.retire();
                    self.retired.push(old);
                }
                (cx.on_notice)(notice);
            }
            // Gone again between stat and open: the next check sees it missing.
            Err(e) if e.kind() == io::ErrorKind::NotFound => self.missing = was_missing,
            Err(e) => cx.report(&self.path, &mut self.last_error, e.to_string()),
        }
        ControlFlow::Continue(())
    }
}
