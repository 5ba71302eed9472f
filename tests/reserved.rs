//! Subcommand names are reserved: a bare first FILE that is a close misspelling of a
//! subcommand, or a flag without its dashes, gets clap's "did you mean" and status 2 (even
//! when such a file exists); given with a path or after `--` it is read as a file.

use std::process::Output;

use crate::util::{mailtrace, root};

fn run_in(dir: &std::path::Path, args: &[&str]) -> Output {
    mailtrace().current_dir(dir).args(args).output().unwrap()
}

/// clap's message for an unknown subcommand `word`, with `tip` as its suggestion.
fn suggestion(word: &str, tip: &str) -> String {
    format!(
        "error: unrecognized subcommand '{word}'\n\n  tip: {tip}\n  tip: to read a file of \
that name, give its path: './{word}'\n\nUsage: mailtrace [OPTIONS] [FILE]...\n       \
mailtrace <COMMAND>\n\nFor more information, try '--help'.\n"
    )
}

fn assert_suggests(out: &Output, word: &str, tip: &str) {
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(String::from_utf8_lossy(&out.stderr), suggestion(word, tip));
}

#[test]
fn misspelt_subcommands_get_clap_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    for (word, sub) in [
        ("reprot", "report"),
        ("evnets", "events"),
        ("trcae", "trace"),
        ("folow", "follow"),
        ("completion", "completions"),
        ("schmea", "schema"),
        ("hlep", "help"),
    ] {
        let out = run_in(dir.path(), &[word, "F"]);
        assert_suggests(&out, word, &format!("a similar subcommand exists: '{sub}'"));
    }
    let out = run_in(dir.path(), &["version"]);
    assert_suggests(&out, "version", "a similar argument exists: '--version'");
}

#[test]
fn an_existing_file_with_a_subcommand_like_name_needs_a_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("fixtures/exim/cpanel_domain_blocked.log"),
        dir.path().join("reprot"),
    )
    .unwrap();
    let bare = run_in(dir.path(), &["reprot"]);
    assert_suggests(&bare, "reprot", "a similar subcommand exists: 'report'");
    for args in [&["./reprot"][..], &["--", "reprot"], &["report", "reprot"]] {
        let out = run_in(dir.path(), args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("shop.example"));
    }
}

#[test]
fn ordinary_log_names_are_files() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["mainlog", "maillog", "syslog", "events.log", "report.txt"] {
        let out = run_in(dir.path(), &[name]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("mailtrace: {name}: No such file or directory (os error 2)\n")
        );
    }
}

#[test]
fn version_flag_prints_the_version() {
    let out = mailtrace().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("mailtrace {}\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
