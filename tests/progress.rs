//! The progress bar: never when stderr is not a terminal (whatever the input's size), and —
//! where `script(1)` can give the command a terminal — shown for a large input, but not for
//! a small one, not with -q, and not when a streaming command writes to that terminal.

use std::io::Write;
use std::process::Command;

use crate::util::{mailtrace, root};

const LOG: &str = "fixtures/exim/cpanel_domain_blocked.log";

/// A 51 MB log: long malformed lines (cheap to read) and then the fixture.
fn large_log() -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    {
        let mut w = std::io::BufWriter::new(f.as_file_mut());
        let line = [vec![b'x'; 60_000], vec![b'\n']].concat();
        for _ in 0..860 {
            w.write_all(&line).unwrap();
        }
        w.write_all(&std::fs::read(root().join(LOG)).unwrap())
            .unwrap();
        w.flush().unwrap();
    }
    assert!(f.as_file().metadata().unwrap().len() > 50_000_000);
    f
}

#[test]
fn never_a_progress_bar_when_stderr_is_not_a_terminal() {
    let big = large_log();
    let out = mailtrace().arg(big.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let out = mailtrace()
        .args(["trace", "shop.example"])
        .arg(big.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let out = mailtrace().arg("events").arg(big.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "mailtrace: {}: 943 lines, 0 unrecognised, 860 malformed\n",
            big.path().display()
        )
    );
}

/// What `shell_command` writes to a terminal made by `script(1)`, or `None` without it.
fn on_a_terminal(shell_command: &str) -> Option<String> {
    let out = Command::new("script")
        .args(["-qec", shell_command, "/dev/null"])
        .current_dir(root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .output()
        .ok()?;
    // The command's own output, stderr included, goes to the terminal: script's stderr has
    // only script's complaints.
    if !out.stderr.is_empty() {
        eprintln!("notice: script(1) cannot make a terminal here; skipping");
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The bar's own text: `… 12.00 MiB/49.22 MiB (3s left)`.
fn has_bar(s: &str) -> bool {
    s.contains(" MiB (") && s.contains(" left)")
}

#[test]
fn a_progress_bar_on_a_terminal_for_a_large_input_only() {
    let big = large_log();
    let bin = env!("CARGO_BIN_EXE_mailtrace");
    let big = big.path().display().to_string();
    let Some(shown) = on_a_terminal(&format!("{bin} {big} > /dev/null")) else {
        return;
    };
    assert!(has_bar(&shown), "{shown:?}");
    assert!(shown.contains(&big), "the bar names the file: {shown:?}");
    let events = on_a_terminal(&format!("{bin} events {big} > /dev/null")).unwrap();
    assert!(has_bar(&events), "{events:?}");
    for quiet in [
        format!("{bin} -q {big} > /dev/null"),
        format!("{bin} {LOG} > /dev/null"),
        // events writing to the terminal itself: no bar across its lines.
        format!("{bin} events {big}"),
    ] {
        let out = on_a_terminal(&quiet).unwrap();
        assert!(!has_bar(&out), "{quiet}: {out:?}");
    }
}
