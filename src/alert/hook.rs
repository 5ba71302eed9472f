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
pub(crate) struct Hook {
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
        if crate::util::sanitize::write_json_line(&mut json, alert).is_err() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertKind, Figures, IpFigures, SubjectType};
    use crate::model::event::Timestamp;
    use std::sync::{Arc, Mutex};

    const WAIT: Duration = Duration::from_secs(20);

    fn alert(kind: AlertKind, subject: &str) -> Alert {
        let t = chrono::NaiveDateTime::parse_from_str("2026-11-26 10:00:01", "%Y-%m-%d %H:%M:%S")
            .unwrap();
        Alert::new(
            kind,
            Timestamp::new(t, None),
            SubjectType::Account,
            subject,
            format!("{subject}: test"),
            Figures::Ips(IpFigures {
                ips: 5,
                ip_list: vec!["192.0.2.1".into()],
                messages: 7,
            }),
        )
    }

    /// A report callback that collects messages.
    fn collector() -> (
        Arc<Mutex<Vec<String>>>,
        impl Fn(String) + Send + Sync + Clone,
    ) {
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = Arc::clone(&got);
        (got, move |m: String| g.lock().unwrap().push(m))
    }

    fn quote(p: &std::path::Path) -> String {
        format!("'{}'", p.display())
    }

    #[test]
    fn the_command_gets_each_alert_as_json_on_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("alerts.ndjson");
        let (errors, report) = collector();
        let mut hook = Hook::start(format!("cat >> {}", quote(&out)), WAIT, report);
        assert!(hook.send(&alert(AlertKind::LoginIps, "u@shop.example")));
        assert!(hook.send(&alert(AlertKind::VolumeJump, "v@shop.example")));
        assert!(hook.finish(WAIT));
        assert!(errors.lock().unwrap().is_empty());
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["type"], "alert");
        assert_eq!(lines[0]["kind"], "login_ips");
        assert_eq!(lines[0]["subject"], "u@shop.example");
        assert_eq!(lines[0]["ips"], 5);
        assert_eq!(lines[1]["kind"], "volume_jump");
    }

    #[test]
    fn failures_are_reported_and_the_next_alert_still_runs() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("ok.ndjson");
        // Fails for warnings, exits 0 after saving anything else; a command that does not
        // exist is only a failure of that alert.
        let cmd = format!(
            "x=$(cat); case \"$x\" in *'\"kind\":\"login_ips\"'*) exit 3;; *'\"kind\":\"burst\"'*) exec no-such-command-here;; esac; printf '%s\\n' \"$x\" >> {}",
            quote(&out)
        );
        let (errors, report) = collector();
        let mut hook = Hook::start(cmd, WAIT, report);
        assert!(hook.send(&alert(AlertKind::LoginIps, "a")));
        assert!(hook.send(&alert(AlertKind::Burst, "b")));
        assert!(hook.send(&alert(AlertKind::VolumeJump, "c")));
        assert!(hook.finish(WAIT));
        let errors = errors.lock().unwrap().clone();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0], "alert command exited with status 3");
        assert_eq!(errors[1], "alert command exited with status 127");
        let text = std::fs::read_to_string(&out).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("\"subject\":\"c\""));
    }

    #[test]
    fn a_slow_command_is_killed_after_its_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("ok.ndjson");
        let cmd = format!(
            "x=$(cat); case \"$x\" in *'\"subject\":\"slow\"'*) exec sleep 30;; esac; printf '%s\\n' \"$x\" >> {}",
            quote(&out)
        );
        let (errors, report) = collector();
        let mut hook = Hook::start(cmd, Duration::from_millis(300), report);
        let started = Instant::now();
        assert!(hook.send(&alert(AlertKind::LoginIps, "slow")));
        assert!(hook.send(&alert(AlertKind::LoginIps, "fast")));
        assert!(hook.finish(WAIT));
        assert!(started.elapsed() < Duration::from_secs(15));
        let errors = errors.lock().unwrap().clone();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("killed"), "{errors:?}");
        assert!(std::fs::read_to_string(&out).unwrap().contains("\"fast\""));
    }

    #[test]
    fn the_alert_is_never_part_of_the_command_line() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let marker = dir.path().join("pwned");
        let subject = format!(
            "$(touch {m}); `touch {m}` '; touch {m}; ' \"; touch {m}; \"",
            m = marker.display()
        );
        let (errors, report) = collector();
        let mut hook = Hook::start(format!("cat > {}", quote(&out)), WAIT, report);
        assert!(hook.send(&alert(AlertKind::LoginIps, &subject)));
        assert!(hook.finish(WAIT));
        assert!(errors.lock().unwrap().is_empty());
        assert!(!marker.exists());
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(v["subject"], subject.as_str());
    }

    #[test]
    fn a_full_queue_skips_alerts_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let go = dir.path().join("go");
        let cmd = format!(
            "cat >/dev/null; while [ ! -e {} ]; do sleep 0.02; done",
            quote(&go)
        );
        let (errors, report) = collector();
        let mut hook = Hook::start(cmd, WAIT, report);
        let started = Instant::now();
        let sent = (0..QUEUE + 10)
            .filter(|_| hook.send(&alert(AlertKind::Burst, "x")))
            .count();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(sent <= QUEUE + 1, "{sent}");
        assert!(hook.skipped >= 9);
        assert_eq!(errors.lock().unwrap().len() as u64, hook.skipped);
        std::fs::write(&go, "").unwrap();
        assert!(hook.finish(WAIT));
    }
}
