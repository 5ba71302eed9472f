//! What is generated from the clap definitions cannot drift: the committed man page is
//! exactly the generated one (`cargo run --example man`; it renders without groff warnings), every flag the README names
//! exists (the other direction is in docs.rs), the completion scripts cover the subcommands
//! and flags, and the README's install steps work (run into a scratch prefix).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use clap::CommandFactory;
use mailtrace::cli::Cli;

use crate::util::{mailtrace, root};

/// Flags of other tools the README shows (cargo's, and `perf stat --per-thread`).
const OTHER_TOOLS_FLAGS: &[&str] = &[
    "bench",
    "example",
    "locked",
    "path",
    "per-thread",
    "release",
    "root",
];

fn stdout_of(args: &[&str]) -> String {
    let out = mailtrace().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_committed_man_page_is_the_generated_one() {
    let committed = std::fs::read_to_string(root().join("man/mailtrace.1")).unwrap();
    let generated = String::from_utf8(mailtrace::cmd::man_page().unwrap()).unwrap();
    assert!(
        committed == generated,
        "man/mailtrace.1 is not the generated page: run `cargo run --example man > man/mailtrace.1`"
    );
}

#[test]
fn the_man_page_renders_without_warnings() {
    if Command::new("groff").arg("--version").output().is_err() {
        eprintln!("notice: groff is not installed; skipping the rendering check");
        return;
    }
    let out = Command::new("groff")
        .args(["-man", "-ww", "-z"])
        .arg(root().join("man/mailtrace.1"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// Every long flag of every (sub)command, hidden ones too, and clap's own.
fn cli_flags() -> BTreeSet<String> {
    let mut out: BTreeSet<String> = ["help", "version"].map(String::from).into();
    let mut stack = vec![Cli::command()];
    while let Some(c) = stack.pop() {
        out.extend(
            c.get_arguments()
                .filter_map(|a| a.get_long().map(String::from)),
        );
        stack.extend(c.get_subcommands().cloned());
    }
    out
}

#[test]
fn every_flag_the_readme_names_exists() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let flags = cli_flags();
    let mut unknown = BTreeSet::new();
    for (i, _) in readme.match_indices("--") {
        let rest = &readme[i + 2..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let before = readme[..i].chars().next_back();
        if name.is_empty()
            || !name.starts_with(|c: char| c.is_ascii_lowercase())
            || before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            continue;
        }
        if !flags.contains(&name) && !OTHER_TOOLS_FLAGS.contains(&name.as_str()) {
            unknown.insert(name);
        }
    }
    assert!(
        unknown.is_empty(),
        "README.md names flags mailtrace does not have: {unknown:?}"
    );
}

#[test]
fn completions_cover_every_subcommand_and_flag() {
    let bash = stdout_of(&["completions", "bash"]);
    let zsh = stdout_of(&["completions", "zsh"]);
    let fish = stdout_of(&["completions", "fish"]);
    assert!(bash.contains("complete -F _mailtrace"), "{bash}");
    assert!(zsh.starts_with("#compdef mailtrace\n"), "{zsh}");
    assert!(fish.contains("complete -c mailtrace"), "{fish}");
    for sub in ["report", "events", "trace", "follow", "completions"] {
        for (shell, script) in [("bash", &bash), ("zsh", &zsh), ("fish", &fish)] {
            assert!(script.contains(sub), "{shell}: subcommand {sub}");
        }
    }
    for flag in ["redact-key", "since", "format", "limit-percent", "warn-at"] {
        assert!(bash.contains(&format!("--{flag}")), "bash: --{flag}");
        assert!(zsh.contains(&format!("--{flag}")), "zsh: --{flag}");
        assert!(fish.contains(&format!("-l {flag}")), "fish: --{flag}");
    }
    let check = Command::new("bash")
        .args(["-n", "-c", &bash])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for (shell, script, args) in [
        ("zsh", &zsh, &["-n"][..]),
        ("fish", &fish, &["--no-execute"]),
    ] {
        match Command::new(shell)
            .args(args)
            .arg("-c")
            .arg(script)
            .output()
        {
            Ok(out) => assert!(
                out.status.success(),
                "{shell}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(_) => eprintln!("notice: {shell} is not installed; skipping its syntax check"),
        }
    }
}

#[test]
fn the_readme_install_steps_work() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let install = readme
        .split("\n## Install\n")
        .nth(1)
        .expect("an Install section");
    let block = install
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block in Install");
    assert!(block.contains("cargo install --locked --path ."), "{block}");
    // Everything but the build, into a scratch prefix, with the built binary as `mailtrace`.
    let prefix = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_mailtrace"),
        bin.path().join("mailtrace"),
    )
    .unwrap();
    let script: String = block
        .lines()
        .filter(|l| !l.starts_with("cargo "))
        .map(|l| l.replace("/usr/local", &prefix.path().display().to_string()) + "\n")
        .collect();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .args(["-e", "-c", &script])
        .current_dir(root())
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let installed = |p: &str| std::fs::read_to_string(prefix.path().join(p)).unwrap();
    assert_eq!(
        installed("share/man/man1/mailtrace.1"),
        std::fs::read_to_string(root().join("man/mailtrace.1")).unwrap()
    );
    assert_eq!(
        installed("share/bash-completion/completions/mailtrace"),
        stdout_of(&["completions", "bash"])
    );
    assert_eq!(
        installed("share/zsh/site-functions/_mailtrace"),
        stdout_of(&["completions", "zsh"])
    );
    assert_eq!(
        installed("share/fish/vendor_completions.d/mailtrace.fish"),
        stdout_of(&["completions", "fish"])
    );
    let man = prefix.path().join("share/man/man1/mailtrace.1");
    assert!(Path::new(&man).is_file());
}

#[test]
fn the_readme_states_the_minimum_rust_version() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .map(|v| v.trim_matches('"'))
        .expect("rust-version in Cargo.toml");
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let install = readme.split("\n## Install\n").nth(1).unwrap();
    assert!(
        install.contains(&format!("Rust {version} or newer")),
        "{install}"
    );
    assert!(install.contains("rustup"), "{install}");
}
