//! The crate's error type and the exit status of a run.
//!
//! [`Error`] is what stops a command or one input: an input that cannot be opened or read
//! ([`InputError`]), an invalid pattern file, a file that cannot be followed
//! ([`FollowError`]), a bad argument, or a failed write. [`Exit`] is the status a command
//! ends with; statuses of several inputs [`merge`](Exit::merge) into the worst one.

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

/// `Result` with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can stop a command or one of its inputs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input could not be found, opened or read.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A pattern file given with `--patterns` is invalid (the classifier's own error).
    #[error(transparent)]
    Pattern(Box<dyn std::error::Error + Send + Sync>),
    /// A file cannot be followed.
    #[error(transparent)]
    Follow(#[from] FollowError),
    /// A bad argument, e.g. `--since: invalid time 'x'`.
    #[error("{0}")]
    Usage(String),
    /// A file named on the command line could not be written.
    #[error("{}: {source}", path.display())]
    Output { path: PathBuf, source: io::Error },
    /// Writing the output failed (a closed pipe: see [`Error::is_broken_pipe`]).
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl Error {
    /// A usage error with this message.
    pub fn usage(msg: impl Into<String>) -> Error {
        Error::Usage(msg.into())
    }

    /// Returns true if and only if the error is a closed output pipe (`mailtrace … | head`),
    /// also when a serialiser wrapped it.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Io(e) => is_broken_pipe(e),
            _ => false,
        }
    }
}

/// Returns true if and only if `e` is, or wraps, a closed pipe: `serde_json` reports a failed
/// write as its own error, which [`crate::util::sanitize::write_json_line`] wraps again.
fn is_broken_pipe(e: &io::Error) -> bool {
    if e.kind() == io::ErrorKind::BrokenPipe {
        return true;
    }
    let Some(inner) = e.get_ref() else {
        return false;
    };
    if let Some(json) = inner.downcast_ref::<serde_json::Error>() {
        return json.io_error_kind() == Some(io::ErrorKind::BrokenPipe);
    }
    inner
        .downcast_ref::<io::Error>()
        .is_some_and(is_broken_pipe)
}

/// An error opening or reading one input.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The input could not be opened (or its first bytes read).
    #[error("{path}: {source}")]
    Open { path: String, source: io::Error },
    /// The input is a directory.
    #[error("{path}: is a directory")]
    Directory { path: String },
    /// The input is a device or socket (`what`: "character device", …), which the batch
    /// commands refuse: reading one may never end.
    #[error("{path}: is a {what}")]
    Special { path: String, what: &'static str },
    /// No file was named and none of the default logs (`tried`) exists.
    #[error(
        "no log file given and none of the default logs exists ({}); name one, or use - for standard input",
        tried.join(", ")
    )]
    NoDefaultLog { tried: &'static [&'static str] },
}

/// A failure to start following.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// An existing file could not be opened (other than because it does not exist).
    #[error("{}: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    /// The path names no file inside a folder (`/`, `..`, an empty path).
    #[error("{}: not a file name", path.display())]
    NotAFile { path: PathBuf },
    /// The folder that should hold the file cannot be resolved.
    #[error("{}: cannot watch its folder: {source}", path.display())]
    Folder { path: PathBuf, source: io::Error },
    /// No watcher could be set up, not even a polling one.
    #[error("{}: cannot watch: {source}", path.display())]
    Watch {
        path: PathBuf,
        source: notify::Error,
    },
}

/// How a command ended; the process exit status (documented in `--help`, the README and the
/// man page). Ordered from best to worst, so [`merge`](Exit::merge) keeps the worst.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// 0: nothing wrong found (or `events`/`trace` printed what was asked).
    #[default]
    Ok,
    /// 1: the report found problems, or `trace` found nothing.
    Problems,
    /// 2: an error (a bad argument, an unreadable, corrupt or unknown-format input, or
    /// nothing to analyse).
    Error,
}

impl Exit {
    /// The worse of two statuses.
    #[must_use]
    pub fn merge(self, other: Exit) -> Exit {
        self.max(other)
    }

    /// The worst of several statuses ([`Exit::Ok`] for none).
    pub fn merge_all(all: impl IntoIterator<Item = Exit>) -> Exit {
        all.into_iter().fold(Exit::Ok, Exit::merge)
    }

    /// `Error` if `errored`, else `Problems` if `problems`, else `Ok`.
    pub fn of(errored: bool, problems: bool) -> Exit {
        match (errored, problems) {
            (true, _) => Exit::Error,
            (false, true) => Exit::Problems,
            (false, false) => Exit::Ok,
        }
    }

    /// The numeric status: 0, 1 or 2.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Problems => 1,
            Exit::Error => 2,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_the_worst_status() {
        assert_eq!(Exit::Ok.merge(Exit::Ok), Exit::Ok);
        assert_eq!(Exit::Ok.merge(Exit::Problems), Exit::Problems);
        assert_eq!(Exit::Problems.merge(Exit::Ok), Exit::Problems);
        assert_eq!(Exit::Problems.merge(Exit::Error), Exit::Error);
        assert_eq!(Exit::Error.merge(Exit::Ok), Exit::Error);
        assert_eq!(Exit::merge_all([]), Exit::Ok);
        assert_eq!(
            Exit::merge_all([Exit::Ok, Exit::Error, Exit::Problems]),
            Exit::Error
        );
    }

    #[test]
    fn codes_are_the_documented_ones() {
        assert_eq!(
            [Exit::Ok, Exit::Problems, Exit::Error].map(Exit::code),
            [0, 1, 2]
        );
        assert_eq!(Exit::of(true, true), Exit::Error);
        assert_eq!(Exit::of(false, true), Exit::Problems);
        assert_eq!(Exit::of(false, false), Exit::Ok);
    }

    #[test]
    fn only_a_closed_pipe_is_a_broken_pipe() {
        let pipe = Error::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(pipe.is_broken_pipe());
        assert!(!Error::from(io::Error::from(io::ErrorKind::NotFound)).is_broken_pipe());
        assert!(!Error::usage("--since: x").is_broken_pipe());
        let json = serde_json::Error::io(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(Error::from(io::Error::other(json)).is_broken_pipe());
        let json = serde_json::Error::io(io::Error::from(io::ErrorKind::NotFound));
        assert!(!Error::from(io::Error::other(json)).is_broken_pipe());
    }
}
