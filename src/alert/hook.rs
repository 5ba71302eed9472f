//! `--alert-command CMD`: runs `sh -c CMD` for each alert with the alert as one line of
//! JSON on its standard input. The alert is never put into the command line.
//!
//! Commands run one at a time, in order, on a thread of their own, so a slow command never
//! holds up the follower. At most [`QUEUE`] alerts wait; when the queue is full an alert is
//! skipped for the command (it is still printed) and that is reported. A command that runs
//! longer than its timeout is killed. Every failure (cannot start, non-zero exit, killed by
//! a signal, timeout) is reported through the `report` callback, and the next alert is
//! handled as usual. The command's standard output goes to our standard error, so it never
//! mixes with the alert stream on standard output.

use std::io::{self, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::Alert;

/// Alerts that may wait for the command.
pub const QUEUE: usize = 64;

/// The command runner.
pub struct Hook {
    tx: Option<SyncSender<Vec<u8>>>,
    done: Receiver<()>,
    thread: Option<JoinHandle<()>>,
    report: Box<dyn Fn(String) + Send + Sync>,
    /// Alerts skipped because the queue was full.
    pub skipped: u64,
}

impl Hook {
    /// Starts the runner thread for `command`. `report` receives one message per failure.
    pub fn start(
        command: String,
        timeout: Duration,
        report: impl Fn(String) + Send + Sync + Clone + 'static,
    ) -> Hook {
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(QUEUE);
        let (done_tx, done) = mpsc::channel();
        let thread_report = report.clone();
        let thread = thread::Builder::new()
            .name("alert-command".to_string())
            .spawn(move || {
                for json in rx {
                    if let Err(msg) = run_one(&command, &json, timeout) {
                        thread_report(msg);
                    }
                }
                let _ = done_tx.send(());
            })
            .expect("spawn the alert-command thread");
        Hook {
            tx: Some(tx),
            done,
            thread: Some(thread),
            report: Box::new(report),
            skipped: 0,
        }
    }

    /// Queues `alert` for the command. Returns false (and reports it) if the queue is full.
    pub fn send(&mut self, alert: &Alert) -> bool {
        let mut json = Vec::with_capacity(512);
        if crate::sanitize::write_json_line(&mut json, alert).is_err() {
            return false;
        }
        let Some(tx) = &self.tx else { return false };
        match tx.try_send(json) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.skipped += 1;
                (self.report)(format!(
                    "alert command: {QUEUE} alerts are already waiting; not running it for this {} alert",
                    alert.kind.as_str()
                ));
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Stops taking alerts and waits up to `wait` for the queued ones to be handled.
    /// Returns true if and only if they all were.
    pub fn finish(mut self, wait: Duration) -> bool {
        self.tx = None;
        let ok = self.done.recv_timeout(wait).is_ok();
        if ok && let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        ok
    }
}

/// Runs the command once with `json` on its standard input.
fn run_one(command: &str, json: &[u8], timeout: Duration) -> Result<(), String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::from(io::stderr()))
        .spawn()
        .map_err(|e| format!("alert command: cannot run sh: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input closes the pipe: not an error.
        match stdin.write_all(json) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("alert command: cannot write the alert: {e}"));
            }
        }
    }
    let start = Instant::now();
    let mut nap = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "alert command: still running after {} s; killed",
                    timeout.as_secs_f64()
                ));
            }
            Ok(None) => {
                thread::sleep(nap);
                nap = (nap * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(format!("alert command: {e}")),
        }
    };
    if status.success() {
        Ok(())
    } else {
        Err(match status.code() {
            Some(code) => format!("alert command exited with status {code}"),
            None => format!("alert command ended abnormally ({status})"),
        })
    }
}
