//! Named pipes (FIFOs) followed: a thread per FIFO opens it without blocking in `open(2)`
//! ([`crate::input::fifo::open_fifo`]), passes on what writers write, and when the last
//! writer closes its end, waits for the next one. The reader assembles the lines as for a
//! file, numbered from the start of following; the writers' close ends an unfinished line,
//! as the end of input does for [`crate::input::LineReader`].

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec, poll};

use super::Notice;
use super::assemble::{Assembler, OnLine};
use crate::input::fifo;

/// Chunks read ahead of the reader; a writer blocks once the reader is this far behind.
const QUEUED_CHUNKS: usize = 64;

/// How often the thread checks whether it should quit while waiting for data.
const STEP: Duration = Duration::from_millis(100);

/// What the FIFO's thread passes on.
enum Msg {
    Data(Vec<u8>),
    /// The last writer closed its end.
    Closed,
    /// No writer for a while ([`fifo::WAIT_NOTICE_AFTER`]) when following started.
    Waiting,
    Error(String),
}

/// A followed FIFO, as the reader sees it.
pub(super) struct Pipe {
    /// The path as given, used in callbacks and notices.
    pub(super) path: PathBuf,
    rx: Receiver<Msg>,
    /// The data of the chunk a break stopped in, not delivered yet.
    rest: VecDeque<u8>,
    asm: Assembler,
    quit: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Pipe {
    /// Starts the thread reading the FIFO at `path`; it signals on `wake` after each
    /// message.
    pub(super) fn start(path: PathBuf, wake: Sender<()>) -> io::Result<Pipe> {
        let (tx, rx) = mpsc::sync_channel(QUEUED_CHUNKS);
        let quit = Arc::new(AtomicBool::new(false));
        let thread = {
            let (path, quit) = (path.clone(), Arc::clone(&quit));
            std::thread::Builder::new()
                .name("tail-fifo".to_string())
                .spawn(move || read_loop(&path, &quit, &tx, &wake))?
        };
        Ok(Pipe {
            path,
            rx,
            rest: VecDeque::new(),
            asm: Assembler::new(Some(0)),
            quit,
            thread: Some(thread),
        })
    }

    /// Delivers the lines read so far and the notices: at most what the channel holds, so a
    /// writer faster than the reader does not keep it from the other files (it is woken
    /// again for the rest).
    pub(super) fn check(
        &mut self,
        text: &mut String,
        stop: &AtomicBool,
        on_line: &mut OnLine<'_>,
        on_notice: &mut dyn FnMut(Notice),
    ) -> ControlFlow<()> {
        if !self.rest.is_empty() {
            let chunk: Vec<u8> = self.rest.drain(..).collect();
            self.feed(&chunk, text, on_line)?;
        }
        for _ in 0..QUEUED_CHUNKS {
            if stop.load(Ordering::Relaxed) {
                return ControlFlow::Break(());
            }
            match self.rx.try_recv() {
                Ok(Msg::Data(chunk)) => self.feed(&chunk, text, on_line)?,
                Ok(Msg::Closed) => self.asm.finish(&self.path, text, on_line)?,
                Ok(Msg::Waiting) => on_notice(Notice::Waiting(self.path.clone())),
                Ok(Msg::Error(e)) => on_notice(Notice::ReadError(self.path.clone(), e)),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        ControlFlow::Continue(())
    }

    fn feed(
        &mut self,
        chunk: &[u8],
        text: &mut String,
        on_line: &mut OnLine<'_>,
    ) -> ControlFlow<()> {
        let path = self.path.clone();
        let fed = self.asm.feed(&path, chunk, text, on_line);
        if fed.flow.is_break() {
            let end = fed.last_end.unwrap_or(chunk.len());
            self.rest.extend(&chunk[end..]);
        }
        fed.flow
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        self.quit.store(true, Ordering::Relaxed);
        // Makes room for a thread blocked in `send`; it then sees `quit` within a STEP.
        while self.rx.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The FIFO's thread: open (waiting for a writer), read until the writers are gone, again.
fn read_loop(path: &Path, quit: &AtomicBool, tx: &SyncSender<Msg>, wake: &Sender<()>) {
    let send = |m: Msg| {
        let ok = tx.send(m).is_ok();
        let _ = wake.send(());
        ok
    };
    let mut last_error: Option<String> = None;
    // Said once: a FIFO whose writers come and go would repeat it after each.
    let mut told = false;
    while !quit.load(Ordering::Relaxed) {
        let opened = fifo::open_fifo(path, &|| quit.load(Ordering::Relaxed), &mut || {
            if !std::mem::replace(&mut told, true) {
                let _ = send(Msg::Waiting);
            }
        });
        match opened {
            Ok(None) => return,
            Ok(Some(f)) => {
                last_error = None;
                match read_until_closed(f, quit, &send) {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => {
                        if !report(&mut last_error, e, &send) {
                            return;
                        }
                    }
                }
            }
            Err(e) => {
                if !report(&mut last_error, e, &send) {
                    return;
                }
                // Retry later (the FIFO may be replaced), still quitting on request.
                for _ in 0..10 {
                    if quit.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(STEP);
                }
            }
        }
    }
}

/// Sends an error once per distinct message. Returns false if the reader is gone.
fn report(last: &mut Option<String>, e: io::Error, send: &dyn Fn(Msg) -> bool) -> bool {
    let msg = e.to_string();
    if last.as_deref() == Some(msg.as_str()) {
        return true;
    }
    *last = Some(msg.clone());
    send(Msg::Error(msg))
}

/// Reads `f` until its writers have all closed (true) or the thread should stop (false).
fn read_until_closed(
    mut f: File,
    quit: &AtomicBool,
    send: &dyn Fn(Msg) -> bool,
) -> io::Result<bool> {
    let mut buf = vec![0; 64 * 1024];
    loop {
        if quit.load(Ordering::Relaxed) {
            return Ok(false);
        }
        if !readable(&f)? {
            continue;
        }
        match f.read(&mut buf) {
            Ok(0) => return Ok(send(Msg::Closed)),
            Ok(n) => {
                if !send(Msg::Data(buf[..n].to_vec())) {
                    return Ok(false);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Waits up to [`STEP`] for data, or for the writers' close, on `f`.
fn readable(f: &File) -> io::Result<bool> {
    let fd = f.as_fd();
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let ts = Timespec {
        tv_sec: 0,
        tv_nsec: STEP.as_nanos() as _,
    };
    match poll(&mut fds, Some(&ts)) {
        Ok(n) => Ok(n > 0),
        Err(rustix::io::Errno::INTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
