//! Documentation drift: every subcommand and long flag is in the man page and the README,
//! and the README's quick-start commands exist.

use clap::CommandFactory;
use mailtrace::cli::Cli;

use crate::util::root;

fn all_flags() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let cmd = Cli::command();
    let mut stack = vec![(String::from("mailtrace"), cmd)];
    while let Some((name, c)) = stack.pop() {
        for a in c.get_arguments() {
            if let Some(l) = a.get_long()
                && l != "help"
                && l != "version"
            {
                out.push((name.clone(), l.to_string()));
            }
        }
        for s in c.get_subcommands() {
            if s.get_name() != "help" {
                stack.push((s.get_name().to_string(), s.clone()));
            }
        }
    }
    out
}

#[test]
fn man_page_documents_every_subcommand_and_flag() {
    let man = std::fs::read_to_string(root().join("man/mailtrace.1")).unwrap();
    let mut missing = Vec::new();
    for (cmd, flag) in all_flags() {
        let roff = format!("\\-\\-{}", flag.replace('-', "\\-"));
        if !man.contains(&roff) {
            missing.push(format!("{cmd}: --{flag}"));
        }
    }
    for sub in ["report", "events", "trace", "follow", "schema"] {
        if !man.contains(&format!(".B {sub}")) {
            missing.push(format!("subcommand {sub}"));
        }
    }
    for section in ["EXIT STATUS", "OUTPUT", "PATTERN FILES", "ENVIRONMENT"] {
        if !man.contains(&format!(".SH {section}")) {
            missing.push(format!("section {section}"));
        }
    }
    assert!(
        missing.is_empty(),
        "missing from man/mailtrace.1:\n{}",
        missing.join("\n")
    );
}

#[test]
fn readme_documents_every_flag_and_the_quick_start() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut missing = Vec::new();
    for (cmd, flag) in all_flags() {
        if !readme.contains(&format!("--{flag}")) {
            missing.push(format!("{cmd}: --{flag}"));
        }
    }
    assert!(
        missing.is_empty(),
        "missing from README.md:\n{}",
        missing.join("\n")
    );
    // The quick start runs the main job on a shipped fixture, and the tests.
    let quick = readme
        .split("## Quick start")
        .nth(1)
        .expect("a Quick start section");
    let quick = &quick[..quick.find("\n## ").unwrap_or(quick.len())];
    assert!(quick.contains("cargo test"), "{quick}");
    let fixture = quick
        .split_whitespace()
        .find(|w| w.starts_with("fixtures/"))
        .expect("the quick start names a fixture");
    assert!(root().join(fixture).is_file(), "{fixture} does not exist");
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        // The README's command; CI adds --locked so the committed Cargo.lock is what is tested.
        ci.lines()
            .any(|l| l.trim() == "cargo test" || l.trim() == "cargo test --locked"),
        ".ci/run must run `cargo test`"
    );
}
