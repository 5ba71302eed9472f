//! The scanner: what is at each followed path, looked at on every file-system event (or
//! poll) by a thread of its own, independently of how fast lines are consumed.
//!
//! A file that appears at a path with a new identity (device and inode) is opened at once
//! and queued for the reader, so a rotation is never missed because the reader was busy: the
//! reader drains the files in the order they were opened, each to its end. The file at the
//! path is read ahead of the reader (up to [`super::ahead::AHEAD_CAP`]), so a copytruncate
//! loses only what was written since the scanner's last look. A file at the path that got
//! smaller than what was seen or taken of it was truncated: the scanner marks the place in
//! the file's [`FileState`], and the reader restarts at offset 0 there.

use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use super::ahead::FileState;
use super::handle::{FileId, Handle, not_a_file};

/// What the scanner tells the reader of one path, in the order it happened.
#[derive(Debug)]
pub(super) enum Event {
    /// A new file is at the path, opened at offset 0.
    Opened(Handle),
    /// A file already open (rotated away or missing, now back) is at the path again.
    Returned(Option<FileId>),
    /// Nothing is at the path.
    Missing,
    /// The path cannot be looked at or opened; this message says why.
    Error(String),
}

/// What the last look at a path found.
#[derive(Debug)]
enum Seen {
    File {
        id: Option<FileId>,
        /// Its size then.
        size: u64,
        state: Weak<FileState>,
    },
    Missing,
    Error(String),
}

/// One followed path as the scanner sees it, and the events the reader has not taken yet.
#[derive(Debug)]
pub(super) struct Watched {
    path: PathBuf,
    seen: Seen,
    /// Files opened and still held by the reader (so their inode cannot have been reused).
    known: Vec<(Option<FileId>, Weak<FileState>)>,
    events: VecDeque<Event>,
}

/// A [`Watched`] shared by the scanner thread and the reader.
pub(super) type Shared = Arc<Mutex<Watched>>;

/// Locks a [`Shared`], even after a panic elsewhere (the state stays consistent: every
/// change is a single assignment or push).
pub(super) fn lock(w: &Shared) -> MutexGuard<'_, Watched> {
    w.lock().unwrap_or_else(|e| e.into_inner())
}

impl Watched {
    /// A path whose file, if any, the reader opened already as `h`.
    pub(super) fn new(path: PathBuf, h: Option<&Handle>) -> Watched {
        let (seen, known) = match h {
            Some(h) => {
                let state = Arc::downgrade(h.state());
                let size = h.len().unwrap_or(0);
                let seen = Seen::File {
                    id: h.id(),
                    size,
                    state: state.clone(),
                };
                (seen, vec![(h.id(), state)])
            }
            None => (Seen::Missing, Vec::new()),
        };
        Watched {
            path,
            seen,
            known,
            events: VecDeque::new(),
        }
    }

    /// Moves the events not taken yet to `to`.
    pub(super) fn take_events(&mut self, to: &mut VecDeque<Event>) {
        to.extend(self.events.drain(..));
    }

    /// Looks at the path once. Returns true if and only if something changed (a new event,
    /// or the file's size).
    pub(super) fn scan(&mut self) -> bool {
        match std::fs::metadata(&self.path) {
            Ok(m) if m.is_file() => self.file_at_path(FileId::of(&m), m.len()),
            Ok(m) => self.error(not_a_file(&m).to_string()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => self.missing(),
            Err(e) => self.error(e.to_string()),
        }
    }

    fn missing(&mut self) -> bool {
        if matches!(self.seen, Seen::Missing) {
            return false;
        }
        self.seen = Seen::Missing;
        self.events.push_back(Event::Missing);
        true
    }

    fn error(&mut self, msg: String) -> bool {
        if matches!(&self.seen, Seen::Error(m) if *m == msg) {
            return false;
        }
        self.events.push_back(Event::Error(msg.clone()));
        self.seen = Seen::Error(msg);
        true
    }

    /// A regular file `id` of `size` bytes is at the path.
    fn file_at_path(&mut self, id: Option<FileId>, size: u64) -> bool {
        if let Seen::File {
            id: seen_id,
            size: seen_size,
            state,
        } = &mut self.seen
            // Without inode numbers, a file at the path is taken to be the one seen there.
            && (*seen_id == id || id.is_none())
        {
            let mut changed = *seen_size != size;
            if let Some(state) = state.upgrade() {
                let mut ahead = state.ahead();
                if size < (*seen_size).max(ahead.end()) {
                    ahead.truncated();
                }
                // A read error is the reader's to report, when it reads.
                changed |= ahead.read_ahead(&state.file).unwrap_or(false);
            }
            *seen_size = size;
            return changed;
        }
        self.known.retain(|(_, w)| w.strong_count() > 0);
        if let Some((_, w)) = self.known.iter().find(|(k, _)| id.is_some() && *k == id) {
            self.seen = Seen::File {
                id,
                size,
                state: w.clone(),
            };
            self.events.push_back(Event::Returned(id));
            return true;
        }
        self.open_new()
    }

    /// Opens the new file at the path and queues it for the reader.
    fn open_new(&mut self) -> bool {
        let h = match Handle::open(&self.path) {
            Ok(h) => h,
            // Gone again since the look: the next scan sees what is there.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return self.missing(),
            Err(e) => return self.error(e.to_string()),
        };
        let id = h.id();
        let state = Arc::downgrade(h.state());
        // Replaced again between the look and the open by a file already held.
        if let Some((_, w)) = self.known.iter().find(|(k, _)| id.is_some() && *k == id) {
            self.seen = Seen::File {
                id,
                size: h.len().unwrap_or(0),
                state: w.clone(),
            };
            self.events.push_back(Event::Returned(id));
            return true;
        }
        self.seen = Seen::File {
            id,
            size: h.len().unwrap_or(0),
            state: state.clone(),
        };
        self.known.push((id, state));
        self.events.push_back(Event::Opened(h));
        true
    }
}

/// The scanner thread: it scans every path on each wake-up from the watcher and at least
/// every `interval`, and wakes the reader when the watcher signalled or something changed.
pub(super) struct Scanner {
    thread: Option<JoinHandle<()>>,
    quit: Arc<AtomicBool>,
    /// The same channel the watcher signals on, to wake the thread for quitting.
    tx: Sender<()>,
}

impl Scanner {
    pub(super) fn spawn(
        paths: Vec<Shared>,
        events: Receiver<()>,
        tx: Sender<()>,
        interval: Duration,
        reader: Sender<()>,
    ) -> io::Result<Scanner> {
        let quit = Arc::new(AtomicBool::new(false));
        let q = Arc::clone(&quit);
        let thread = std::thread::Builder::new()
            .name("tail-scanner".to_string())
            .spawn(move || scan_loop(&paths, &events, interval, &reader, &q))?;
        Ok(Scanner {
            thread: Some(thread),
            quit,
            tx,
        })
    }
}

impl Drop for Scanner {
    fn drop(&mut self) {
        self.quit.store(true, Ordering::Relaxed);
        let _ = self.tx.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn scan_loop(
    paths: &[Shared],
    events: &Receiver<()>,
    interval: Duration,
    reader: &Sender<()>,
    quit: &AtomicBool,
) {
    loop {
        let signalled = match events.recv_timeout(interval) {
            Ok(()) => {
                while events.try_recv().is_ok() {}
                true
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        if quit.load(Ordering::Relaxed) {
            return;
        }
        let mut changed = false;
        for p in paths {
            changed |= lock(p).scan();
        }
        if (signalled || changed) && reader.send(()).is_err() {
            return;
        }
    }
}
