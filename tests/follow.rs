//! `mailtrace follow` end to end: a cPanel-style Exim log is written line by line while the
//! real binary follows it; the warning alert must come after the 4th failure and before the
//! trip, the trip alert right after the 5th, and cPanel's own block after its discard line,
//! each exactly once.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use crate::util::mailtrace;

const ARRIVAL: &str = "2026-11-26 14:05:11 1tWx9Q-00000000Aq3-4kZ1 <= info@shop.example H=(pc) [203.0.113.77]:52144 P=esmtpsa A=dovecot_login:info@shop.example S=4312 for a@gmail.com";

fn failure(n: u32) -> String {
    format!(
        "2026-11-26 14:05:1{n} 1tWx9Q-00000000Aq3-4kZ1 ** dead{n}@gmail.com R=dkim_lookuphost T=dkim_remote_smtp H=gmail-smtp-in.l.google.com [192.0.2.1]: SMTP error from remote mail server after RCPT TO:<dead{n}@gmail.com>: 550 5.1.1 The email account that you tried to reach does not exist."
    )
}

const DISCARD: &str = "2026-11-26 14:07:00 1tWx9Q-00000000Aq3-5kZ2 ** y@yahoo.com R=enforce_mail_permissions: Domain shop.example has exceeded the max defers and failures per hour (5/5 (100%)) allowed. Message discarded.";

#[test]
fn warning_fires_before_the_trip_and_the_trip_right_after_it_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("exim_mainlog");
    std::fs::write(&log, "").unwrap();
    let mut child = mailtrace()
        .args([
            "follow",
            "--format",
            "json",
            "--poll",
            "--poll-interval",
            "50",
            "--now",
            "2026-11-26 14:00:00",
        ])
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<serde_json::Value>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line)
                && tx.send(v).is_err()
            {
                break;
            }
        }
    });
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let mut write = |line: &str| {
        writeln!(file, "{line}").unwrap();
        file.flush().unwrap();
    };
    // No alert may come while nothing crosses a threshold; a generous wait for the next one.
    let next = |what: &str| -> serde_json::Value {
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no alert after {what}"))
    };
    let quiet = |what: &str| {
        if let Ok(v) = rx.recv_timeout(Duration::from_millis(600)) {
            panic!("unexpected alert after {what}: {v}");
        }
    };

    write(ARRIVAL);
    for n in 1..=3 {
        write(&failure(n));
    }
    quiet("3 failures");
    write(&failure(4));
    let warning = next("the 4th failure");
    assert_eq!(warning["kind"], "warning", "{warning}");
    assert_eq!(warning["subject"], "shop.example");
    assert_eq!(warning["defer_fail"], 4);
    quiet("the warning");
    write(&failure(5));
    let trip = next("the 5th failure");
    assert_eq!(trip["kind"], "tripped", "{trip}");
    assert_eq!(trip["subject"], "shop.example");
    assert_eq!(trip["defer_fail"], 5);
    assert_eq!(trip["time"], "2026-11-26T14:05:15");
    write(&failure(6));
    quiet("a 6th failure (each alert fires once per hour)");
    write(DISCARD);
    let blocked = next("cPanel's discard line");
    assert_eq!(blocked["kind"], "blocked", "{blocked}");
    assert_eq!(blocked["logged_count"], 5);
    write(DISCARD);
    quiet("a second discard line");
    child.kill().unwrap();
    let _ = child.wait();
}
