//! Named pipes (FIFOs) as input without an uninterruptible wait.
//!
//! `open(2)` on a FIFO blocks until a writer opens the other end, and nothing — not even a
//! Ctrl-C handler that only sets a flag — gets the process out of it. So a FIFO is opened
//! with `O_NONBLOCK` (which returns at once), then polled in short steps until a writer has
//! written something, checking a stop condition between steps and telling the caller once
//! when the wait gets long; only then is the descriptor switched back to blocking reads.
//! Reading then ends when the last writer closes its end, as with a pipe.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fs::{Mode, OFlags};

/// How long to wait for a writer before the caller is told (`on_wait`).
pub(crate) const WAIT_NOTICE_AFTER: Duration = Duration::from_secs(1);

/// One poll step: how often the stop condition is checked.
const STEP: Duration = Duration::from_millis(100);

/// Returns true if and only if `path` names a FIFO.
pub(crate) fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

/// Opens the FIFO at `path` for reading once a writer has written to it. `stop` is checked
/// every 100 ms (return `Ok(None)` when it says so); `on_wait` is called once, after
/// [`WAIT_NOTICE_AFTER`] without a writer, so the caller can say what it is waiting for.
pub(crate) fn open_fifo(
    path: &Path,
    stop: &dyn Fn() -> bool,
    on_wait: &mut dyn FnMut(),
) -> io::Result<Option<File>> {
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let file = File::from(fd);
    let start = Instant::now();
    let mut told = false;
    loop {
        if stop() {
            return Ok(None);
        }
        if readable(&file, STEP)? {
            break;
        }
        if !told && start.elapsed() >= WAIT_NOTICE_AFTER {
            told = true;
            on_wait();
        }
    }
    let flags = rustix::fs::fcntl_getfl(&file)?;
    rustix::fs::fcntl_setfl(&file, flags - OFlags::NONBLOCK)?;
    Ok(Some(file))
}

/// Waits up to `timeout` for data, or for a writer's close, on `f`.
fn readable(f: &File, timeout: Duration) -> io::Result<bool> {
    let fd = f.as_fd();
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let ts = Timespec {
        tv_sec: timeout.as_secs() as _,
        tv_nsec: timeout.subsec_nanos() as _,
    };
    match poll(&mut fds, Some(&ts)) {
        // HUP without IN: a writer came and went without writing (the input is empty).
        Ok(n) => Ok(n > 0 && fds[0].revents().intersects(PollFlags::IN | PollFlags::HUP)),
        Err(rustix::io::Errno::INTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicBool, Ordering};

    fn mkfifo(dir: &Path) -> std::path::PathBuf {
        let p = dir.join("pipe");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &p,
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        p
    }

    #[test]
    fn a_fifo_without_a_writer_waits_tells_and_stops_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let p = mkfifo(dir.path());
        assert!(is_fifo(&p));
        let start = Instant::now();
        let mut told = 0;
        let r = open_fifo(
            &p,
            &|| start.elapsed() > Duration::from_millis(1500),
            &mut || told += 1,
        )
        .unwrap();
        assert!(r.is_none());
        assert_eq!(told, 1);
        assert!(start.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn a_fifo_with_a_writer_reads_to_the_writers_end() {
        let dir = tempfile::tempdir().unwrap();
        let p = mkfifo(dir.path());
        let p2 = p.clone();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            let mut w = std::fs::OpenOptions::new().write(true).open(&p2).unwrap();
            for i in 0..1000 {
                writeln!(w, "line {i}").unwrap();
            }
        });
        let stopped = AtomicBool::new(false);
        let mut f = open_fifo(&p, &|| stopped.load(Ordering::Relaxed), &mut || {})
            .unwrap()
            .expect("a writer came");
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        writer.join().unwrap();
        assert_eq!(s.lines().count(), 1000);
        assert_eq!(s.lines().last(), Some("line 999"));
    }
}
