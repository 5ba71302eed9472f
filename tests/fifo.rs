//! A FIFO as the input of a batch command: with a writer it is read to the writer's end,
//! like the same log in a file; with none, `mailtrace: PATH: waiting for a writer on this
//! FIFO` is said once (also with -q: a silent wait would look like a hang) and Ctrl-C ends
//! the wait at once. Devices are refused (reading one may never end); process substitution
//! (a pipe behind /dev/fd/N) is read.

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{mailtrace, root};

const LOG: &str = "fixtures/exim/cpanel_domain_blocked.log";

fn mkfifo(dir: &Path) -> PathBuf {
    let p = dir.join("mainlog.fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &p,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    p
}

fn spawn(args: &[&str], fifo: &Path) -> Child {
    mailtrace()
        .args(args)
        .arg(fifo)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs `args` on a FIFO that a writer fills with the fixture after a short delay.
fn with_writer(args: &[&str]) -> (Output, String) {
    let dir = tempfile::tempdir().unwrap();
    let fifo = mkfifo(dir.path());
    let child = spawn(args, &fifo);
    let path = fifo.clone();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        w.write_all(&std::fs::read(root().join(LOG)).unwrap())
            .unwrap();
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (out, fifo.display().to_string())
}

/// What `args` print on the fixture itself, with its name replaced by `name`.
fn on_the_file(args: &[&str], name: &str) -> (Option<i32>, String, String) {
    let out = mailtrace().args(args).arg(LOG).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).replace(LOG, name);
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn a_fifo_with_a_writer_is_read_to_its_end_by_every_batch_command() {
    for args in [
        &["events"][..],
        &["report", "--format", "json"],
        &["report"],
        &["trace", "shop.example"],
    ] {
        let (out, name) = with_writer(args);
        let (code, stdout, stderr) = on_the_file(args, &name);
        assert_eq!(out.status.code(), code, "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), stdout, "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), stderr, "{args:?}");
    }
}

#[test]
fn a_relative_time_on_a_fifo_counts_back_from_now_without_reading_it_twice() {
    let (out, _) = with_writer(&["report", "--format", "json", "--since", "1000d"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "mailtrace: cannot find the end of the log; counting relative times back from now\n"
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["totals"]["bounced"], 10);
}

/// Waits for the notice, sends SIGINT, and returns the output, how long the exit took, all
/// of stderr and the FIFO's name.
fn interrupted(args: &[&str]) -> (Output, Duration, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let fifo = mkfifo(dir.path());
    let mut child = spawn(args, &fifo);
    let mut stderr = child.stderr.take().unwrap();
    let mut notice = vec![0u8; 0];
    let mut byte = [0u8; 1];
    while !notice.ends_with(b"\n") {
        // The notice comes after a second without a writer.
        assert_eq!(stderr.read(&mut byte).unwrap(), 1, "stderr closed early");
        notice.push(byte[0]);
    }
    let start = Instant::now();
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let notice = String::from_utf8(notice).unwrap() + &rest;
    (out, start.elapsed(), notice, fifo.display().to_string())
}

#[test]
fn a_fifo_without_a_writer_is_said_once_and_ctrl_c_ends_the_wait() {
    for args in [
        &["events"][..],
        &["report"],
        &["-q"],
        &["trace", "shop.example"],
    ] {
        let (out, took, stderr, name) = interrupted(args);
        assert_eq!(out.status.signal(), Some(2), "{args:?}: {:?}", out.status);
        assert!(took < Duration::from_secs(2), "{args:?}: {took:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "", "{args:?}");
        assert_eq!(
            stderr,
            format!("mailtrace: {name}: waiting for a writer on this FIFO\n"),
            "{args:?}"
        );
    }
}

#[test]
fn devices_are_refused_and_process_substitution_is_read() {
    for args in [&["events"][..], &["-q"], &["trace", "x@example.com"]] {
        let out = mailtrace().args(args).arg("/dev/null").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "mailtrace: /dev/null: is a character device\n"
        );
    }
    // `mailtrace <(zcat mainlog.gz)`: bash hands over /dev/fd/63, a pipe.
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "exec {} report --format json <(cat {LOG})",
            env!("CARGO_BIN_EXE_mailtrace")
        ))
        .current_dir(root())
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["totals"]["bounced"], 10);
}
