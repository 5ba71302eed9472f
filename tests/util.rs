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
