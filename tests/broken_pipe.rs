//! A closed output pipe (`mailtrace … | head`) ends every command and format with status 0
//! and nothing on stderr: closed before the first write, and closed after the first bytes
//! while output is still coming.

use std::io::{Read, Write};
use std::process::{Output, Stdio};

use mailtrace_synth::{Mta, SynthConfig, generate};

use crate::util::mailtrace;

const LOG: &str = "fixtures/exim/cpanel_domain_blocked.log";

/// A generated cPanel day big enough that every output outgrows a pipe's buffer.
fn big_log() -> tempfile::NamedTempFile {
    let mut cfg = SynthConfig::new(Mta::Exim);
    cfg.messages = 9000;
    cfg.seed = 5;
    cfg.cpanel = true;
    let mut f = tempfile::NamedTempFile::new().unwrap();
    {
        let mut w = std::io::BufWriter::new(f.as_file_mut());
        generate(&cfg, &mut w).unwrap();
        w.flush().unwrap();
    }
    f
}

/// Runs `args` with stdout closed after `keep` bytes were read (0: before any write).
fn closed_after(args: &[&str], keep: usize) -> Output {
    let mut child = mailtrace()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    if keep > 0 {
        let mut head = vec![0u8; keep];
        stdout.read_exact(&mut head).unwrap();
    }
    drop(stdout);
    child.wait_with_output().unwrap()
}

fn assert_silent_success(args: &[&str], keep: usize) {
    let out = closed_after(args, keep);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?} (pipe closed after {keep} bytes): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "{args:?} (pipe closed after {keep} bytes)"
    );
}

#[test]
fn every_report_format_ends_quietly_on_a_closed_pipe() {
    let big = big_log();
    let big = big.path().to_str().unwrap();
    for format in ["text", "markdown", "json", "ndjson", "csv"] {
        for file in [LOG, big] {
            assert_silent_success(&["report", "--format", format, file], 0);
            assert_silent_success(&["--format", format, file], 0);
        }
        // Like `| head -c 100` on a report larger than the pipe's buffer.
        let out = mailtrace()
            .args(["report", "--top", "0", "--format", format, big])
            .output()
            .unwrap();
        assert!(
            out.stdout.len() > 256 * 1024,
            "{format}: {}",
            out.stdout.len()
        );
        assert_silent_success(&["report", "--top", "0", "--format", format, big], 100);
    }
}

#[test]
fn events_ends_quietly_on_a_closed_pipe() {
    let big = big_log();
    let big = big.path().to_str().unwrap();
    assert_silent_success(&["events", big], 0);
    assert_silent_success(&["events", big], 1000);
}

#[test]
fn trace_ends_quietly_on_a_closed_pipe() {
    let big = big_log();
    let big = big.path().to_str().unwrap();
    let out = mailtrace()
        .args(["trace", "gmail.com", big])
        .output()
        .unwrap();
    assert!(out.stdout.len() > 256 * 1024, "{}", out.stdout.len());
    assert_silent_success(&["trace", "gmail.com", big], 0);
    assert_silent_success(&["trace", "gmail.com", big], 100);
    assert_silent_success(&["trace", "--color", "always", "gmail.com", big], 100);
}

#[test]
fn completions_and_help_end_quietly_on_a_closed_pipe() {
    for args in [
        &["completions", "bash"][..],
        &["completions", "zsh"],
        &["completions", "fish"],
        &["schema", "report"],
        &["schema", "events"],
        &["--help"],
        &["trace", "--help"],
    ] {
        assert_silent_success(args, 0);
    }
}
