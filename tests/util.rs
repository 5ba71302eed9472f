//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `mailtrace` command with a pinned environment: UTC, no colour, C locale.
pub fn mailtrace() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mailtrace"));
    c.env_clear()
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .env("LC_ALL", "C")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(root());
    c
}

/// The corpora folder from `$MAILTRACE_CORPORA`. `None` (with a printed notice) when the
/// variable is unset; a panic when it is set but the folder is missing.
pub fn corpora() -> Option<PathBuf> {
    match std::env::var_os("MAILTRACE_CORPORA") {
        None => {
            eprintln!("notice: MAILTRACE_CORPORA is not set; skipping corpus test");
            None
        }
        Some(v) => {
            let p = PathBuf::from(v);
            assert!(
                p.is_dir(),
                "MAILTRACE_CORPORA={} is not a folder",
                p.display()
            );
            Some(p)
        }
    }
}

/// Every file under `dir`, in its subfolders too, sorted.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A temporary log from the synth crate's adversarial generator: `count` of `mode`, Exim.
pub fn adversarial_log(mode: mailtrace_synth::AdvMode, count: u64) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    let cfg = mailtrace_synth::AdvConfig::new(mode, mailtrace_synth::Mta::Exim, count);
    mailtrace_synth::generate_adversarial(&cfg, &mut f).unwrap();
    f
}

/// `mailtrace report --format json EXTRA LOG`: its exit code and the parsed report.
pub fn adversarial_report(
    log: &tempfile::NamedTempFile,
    extra: &[&str],
) -> (Option<i32>, serde_json::Value) {
    let out = mailtrace()
        .args(["report", "--format", "json"])
        .args(extra)
        .arg(log.path())
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), v)
}
