//! Exit statuses cron can trust: nothing analysed (an unknown-format, empty or out-of-range
//! input) and an inverted time range are errors (status 2, one line on stderr, nothing on
//! stdout); `-q` prints nothing on a healthy log, on stdout or stderr; a failed input (missing,
//! a directory, a truncated gzip) marks the report incomplete at its top in every format.

use std::io::Write;
use std::process::Output;

use serde_json::Value;

use crate::util::{mailtrace, root};

const LOG: &str = "fixtures/exim/cpanel_domain_blocked.log";
const HEALTHY: &str = "fixtures/postfix/deferred_then_sent.log";
const MISSING: &str = "/nonexistent/mainlog";
const MISSING_ERR: &str =
    "mailtrace: /nonexistent/mainlog: No such file or directory (os error 2)\n";

fn run(args: &[&str]) -> Output {
    mailtrace().args(args).output().expect("run mailtrace")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts status 2, an empty stdout and exactly `err` on stderr.
fn assert_error(out: &Output, err: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert_eq!(stdout(out), "");
    assert_eq!(stderr(out), err);
}

#[test]
fn a_file_that_is_not_a_mail_log_is_an_error_in_every_command() {
    let lines = std::fs::read_to_string(root().join("README.md"))
        .unwrap()
        .lines()
        .count();
    let err = format!(
        "mailtrace: README.md: not an Exim or Postfix log (none of its {lines} lines was recognised)\n"
    );
    assert_error(&run(&["-q", "README.md"]), &err);
    assert_error(&run(&["report", "--format", "json", "README.md"]), &err);
    assert_error(&run(&["trace", "someone@example.com", "README.md"]), &err);
    // events prints its per-file summary line first.
    let out = run(&["events", "README.md"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).ends_with(&err), "{}", stderr(&out));
}

#[test]
fn an_empty_input_is_nothing_to_analyse() {
    let f = tempfile::NamedTempFile::new().unwrap();
    let name = f.path().display().to_string();
    let err = format!("mailtrace: nothing to analyse: {name} is empty\n");
    assert_error(&run(&["-q", &name]), &err);
    assert_error(&run(&["trace", "x@example.com", &name]), &err);
}

#[test]
fn a_log_with_no_line_in_the_time_range_is_nothing_to_analyse() {
    let err = "mailtrace: nothing to analyse: no log line at or after 2030-01-01 00:00:00 \
(fixtures/exim/cpanel_domain_blocked.log: 2026-11-26 14:05:09 to 2026-11-26 14:44:18)\n";
    assert_error(&run(&["-q", "--since", "2030-01-01", LOG]), err);
    assert_error(
        &run(&["report", "--format", "csv", "--since", "2030-01-01", LOG]),
        err,
    );
    assert_error(
        &run(&["trace", "--since", "2030-01-01", "shop.example", LOG]),
        err,
    );
    let err = "mailtrace: nothing to analyse: no log line from 2026-11-26 15:00:00 to \
2026-11-26 16:00:00 (fixtures/exim/cpanel_domain_blocked.log: 2026-11-26 14:05:09 to \
2026-11-26 14:44:18)\n";
    assert_error(
        &run(&[
            "-q",
            "--since",
            "2026-11-26 15:00",
            "--until",
            "2026-11-26 16:00",
            LOG,
        ]),
        err,
    );
}

#[test]
fn an_inverted_range_is_a_usage_error() {
    let err = "mailtrace: --since 2026-11-27 (2026-11-27 00:00:00) is not before --until \
2026-11-26 (2026-11-26 00:00:00)\n";
    assert_error(
        &run(&["-q", "--since", "2026-11-27", "--until", "2026-11-26", LOG]),
        err,
    );
    assert_error(
        &run(&[
            "trace",
            "--since",
            "2026-11-27",
            "--until",
            "2026-11-26",
            "x@example.com",
            LOG,
        ]),
        err,
    );
    // The issue's case, with the dates the words stand for (TZ=UTC in these tests).
    let today = chrono::Utc::now().date_naive();
    let yesterday = today.pred_opt().unwrap();
    let out = run(&["-q", "--since", "today", "--until", "yesterday", LOG]);
    let err = format!(
        "mailtrace: --since today ({today} 00:00:00) is not before --until yesterday \
({yesterday} 00:00:00)\n"
    );
    assert_error(&out, &err);
    // An empty range too.
    let out = run(&["-q", "--since", "2026-11-26", "--until", "2026-11-26", LOG]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn quiet_prints_nothing_at_all_on_a_healthy_log() {
    let out = run(&["-q", "--year", "2026", HEALTHY]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");
}

#[test]
fn quiet_keeps_notes_off_stderr() {
    // Standard input has no end to read back from: without -q that is said on stderr.
    let log = std::fs::read(root().join(HEALTHY)).unwrap();
    let with_stdin = |args: &[&str]| {
        let mut child = mailtrace()
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&log).unwrap();
        child.wait_with_output().unwrap()
    };
    let noted = with_stdin(&["--year", "2026", "--since", "1000d", "-"]);
    assert_eq!(
        stderr(&noted),
        "mailtrace: cannot find the end of the log; counting relative times back from now\n"
    );
    let quiet = with_stdin(&["-q", "--year", "2026", "--since", "1000d", "-"]);
    assert_eq!(quiet.status.code(), Some(0), "{}", stderr(&quiet));
    assert_eq!(stderr(&quiet), "");
    assert_eq!(stdout(&quiet), "");
}

#[test]
fn an_input_that_fails_alone_prints_no_report() {
    assert_error(&run(&["-q", MISSING]), MISSING_ERR);
    assert_error(&run(&["report", "--format", "json", MISSING]), MISSING_ERR);
}

#[test]
fn a_failed_input_marks_the_text_and_markdown_reports_incomplete_at_the_top() {
    let out = run(&["report", MISSING, LOG]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out), MISSING_ERR);
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "INCOMPLETE REPORT: 1 of 2 inputs failed:\n \
1. /nonexistent/mainlog: No such file or directory (os error 2)\n\n\
mailtrace: tracing deliveries and failures\n"
        ),
        "{text}"
    );
    // -q does not hide a report whose status is 2.
    let quiet = run(&["-q", MISSING, LOG]);
    assert_eq!(quiet.status.code(), Some(2));
    assert_eq!(stdout(&quiet), text);

    let out = run(&["report", "--format", "markdown", MISSING, LOG]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).starts_with(
            // Markdown: the error text from the input is escaped like any other text.
            "INCOMPLETE REPORT: 1 of 2 inputs failed:\n\n\
1. /nonexistent/mainlog: No such file or directory \\(os error 2\\)\n\n\
# mailtrace: tracing deliveries and failures\n"
        ),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_failed_input_marks_the_json_report_incomplete_first() {
    let out = run(&["report", "--format", "json", MISSING, LOG]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out), MISSING_ERR);
    let json = stdout(&out);
    assert!(
        json.starts_with(
            r#"{"complete":false,"errors":[{"input":"/nonexistent/mainlog","error":"No such file or directory (os error 2)"}],"version":1,"#
        ),
        "{json}"
    );
    let r: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        r["totals"]["bounced"], 10,
        "the good input is still counted"
    );
    // A complete report has neither member (and is unchanged).
    let whole: Value =
        serde_json::from_slice(&run(&["report", "--format", "json", LOG]).stdout).unwrap();
    assert!(whole.get("complete").is_none() && whole.get("errors").is_none());
    let mut r = r;
    r.as_object_mut().unwrap().remove("complete");
    r.as_object_mut().unwrap().remove("errors");
    assert_eq!(r, whole);
}

#[test]
fn a_failed_input_gives_the_csv_report_an_input_error_row_first() {
    let out = run(&["report", "--format", "csv", MISSING, LOG]);
    assert_eq!(out.status.code(), Some(2));
    let csv = stdout(&out);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "recipient,sender,account,outcome,attempts,code,status,cause,permanent,first,last,queue_ids,text"
        )
    );
    assert_eq!(
        lines.next(),
        Some(",,,input_error,,,,,,,,,/nonexistent/mainlog: No such file or directory (os error 2)")
    );
    let whole = stdout(&run(&["report", "--format", "csv", LOG]));
    assert_eq!(
        lines.collect::<Vec<_>>(),
        whole.lines().skip(1).collect::<Vec<_>>()
    );
}

#[test]
fn a_directory_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let name = dir.path().display().to_string();
    let out = run(&["report", "--format", "json", &name, LOG]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out), format!("mailtrace: {name}: is a directory\n"));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["complete"], false);
    assert_eq!(r["errors"][0]["input"], name.as_str());
    assert_eq!(r["errors"][0]["error"], "is a directory");
    assert_error(
        &run(&["events", &name]),
        &format!("mailtrace: {name}: is a directory\n"),
    );
}

#[test]
fn a_truncated_gzip_marks_the_report_incomplete() {
    let data = std::fs::read(root().join("fixtures/exim/cpanel_domain_blocked.log.gz")).unwrap();
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(&data[..data.len() * 2 / 3]).unwrap();
    let name = f.path().display().to_string();
    for format in ["text", "markdown"] {
        let out = run(&["report", "--format", format, &name]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stdout(&out).starts_with("INCOMPLETE REPORT: 1 of 1 inputs failed:\n"),
            "{}",
            stdout(&out)
        );
    }
    let out = run(&["report", "--format", "json", &name]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["complete"], false);
    assert_eq!(r["errors"][0]["input"], name.as_str());
    let error = r["errors"][0]["error"].as_str().unwrap();
    assert!(error.starts_with("line "), "{error}");
    assert_eq!(r["files"][0]["error"], error);
}

#[test]
fn a_failed_input_starts_the_ndjson_stream_with_an_incomplete_line() {
    let out = run(&["report", "--format", "ndjson", MISSING, LOG]);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    let mut lines = text.lines();
    let first: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(first["list"], "incomplete");
    assert_eq!(first["complete"], false);
    assert_eq!(first["errors"][0]["input"], MISSING);
    let second: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(second["list"], "report");
}
