//! Standard input without `-`: read when no FILE is given and it is not a terminal and has
//! data (`zcat old.gz | mailtrace`), plain or gzip, by report, events and trace; an empty one
//! (cron's, `/dev/null`) falls back to the default log; one that stays open without data is
//! waited for, saying so once.

use std::io::Write;
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::util::{mailtrace, root};

const LOG: &str = "fixtures/exim/cpanel_domain_blocked.log";

fn spawn(args: &[&str]) -> Child {
    mailtrace()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs with `data` on standard input (written from a thread, then closed).
fn with_stdin(args: &[&str], data: Vec<u8>) -> Output {
    let mut child = spawn(args);
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // The command may stop reading early (an error): a closed pipe is fine here.
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    })
}

#[test]
fn a_piped_log_is_read_without_a_file_argument() {
    let log = std::fs::read(root().join(LOG)).unwrap();
    let from_file = mailtrace()
        .args(["report", "--format", "json", LOG])
        .output()
        .unwrap();
    for args in [&["--format", "json"][..], &["report", "--format", "json"]] {
        let out = with_stdin(args, log.clone());
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
        let (piped, file) = (json(&out), json(&from_file));
        assert_eq!(piped["files"][0]["name"], "<stdin>");
        assert_eq!(piped["totals"], file["totals"]);
        assert_eq!(piped["limits"], file["limits"]);
    }
}

#[test]
fn a_piped_gzip_log_is_read_like_zcat_would() {
    let gz = std::fs::read(root().join("fixtures/exim/cpanel_domain_blocked.log.gz")).unwrap();
    let out = with_stdin(&["--format", "json"], gz);
    assert_eq!(out.status.code(), Some(1));
    let file = mailtrace()
        .args(["report", "--format", "json", LOG])
        .output()
        .unwrap();
    assert_eq!(json(&out)["totals"], json(&file)["totals"]);
}

#[test]
fn events_and_trace_read_a_piped_log_too() {
    let log = std::fs::read(root().join(LOG)).unwrap();
    let events = with_stdin(&["events"], log.clone());
    assert_eq!(events.status.code(), Some(0));
    let lines = String::from_utf8(events.stdout).unwrap();
    let first: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert_eq!(first["file"], "<stdin>");
    assert_eq!(
        String::from_utf8_lossy(&events.stderr),
        "mailtrace: <stdin>: 83 lines, 0 unrecognised\n"
    );
    let trace = with_stdin(&["trace", "shop.example"], log);
    assert_eq!(trace.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&trace.stdout).contains("== "));
}

#[test]
fn an_empty_standard_input_falls_back_to_the_default_log() {
    let out = mailtrace()
        .args(["-q"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    match mailtrace::input::find_default_log() {
        Err(e) => {
            assert_eq!(out.status.code(), Some(2));
            assert_eq!(err, format!("mailtrace: {e}\n"));
        }
        // A machine with a mail log: -q reads it without naming it.
        Ok(p) => assert!(!err.contains(&p.display().to_string()), "{err}"),
    }
    // An explicit `-` is standard input, even empty.
    let out = mailtrace()
        .args(["-q", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "mailtrace: nothing to analyse: <stdin> is empty\n"
    );
}

#[test]
fn a_silent_standard_input_is_waited_for_and_said_once() {
    let mut child = spawn(&["--format", "json"]);
    let mut stdin = child.stdin.take().unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    stdin
        .write_all(&std::fs::read(root().join(LOG)).unwrap())
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "mailtrace: no FILE given: waiting for data on standard input (or name a log file)\n"
    );
    assert_eq!(json(&out)["files"][0]["name"], "<stdin>");
}
