//! The progress bar of a long batch run: on stderr, only when stderr is a terminal, the
//! inputs are large ([`LARGE`] bytes as stored) and `-q` is off, and not when a streaming
//! command (`events`, `trace`) writes to that terminal too. Diagnostics printed while it is
//! shown go through [`suspend`], so they do not tear it.

use std::io::{self, IsTerminal};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use crate::input::Input;
use crate::util::sanitize::clean;

/// Inputs larger than this in all (bytes on disk) get a progress bar: 50 MB.
pub(crate) const LARGE: u64 = 50_000_000;

/// The bar being shown, for [`suspend`].
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Runs `f` (which prints on stderr) with the bar, if one is shown, cleared meanwhile.
pub(crate) fn suspend<R>(f: impl FnOnce() -> R) -> R {
    let bar = SHOWN.lock().ok().and_then(|b| b.clone());
    match bar {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

/// A shown progress bar over the regular files among the inputs; cleared when dropped.
pub(crate) struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// The bar for reading `inputs`, or `None` when it should not be shown. `streams`: the
    /// command writes its output while reading (so not when stdout is the terminal too).
    pub(crate) fn start(inputs: &[Input], quiet: bool, streams: bool) -> Option<Progress> {
        if quiet || !io::stderr().is_terminal() || (streams && io::stdout().is_terminal()) {
            return None;
        }
        let total: u64 = inputs.iter().filter_map(regular_file_len).sum();
        if total <= LARGE {
            return None;
        }
        let style = ProgressStyle::with_template(
            "{msg} {wide_bar} {binary_bytes}/{binary_total_bytes} ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = ProgressBar::new(total).with_style(style);
        if let Ok(mut shown) = SHOWN.lock() {
            *shown = Some(bar.clone());
        }
        Some(Progress { bar })
    }

    /// Shows `input`'s name, and returns the bar to count its bytes when it is a regular file
    /// (the others are not in the total).
    pub(crate) fn begin(&self, input: &Input) -> Option<&ProgressBar> {
        self.bar
            .set_message(clean(&input.display_name()).into_owned());
        regular_file_len(input).map(|_| &self.bar)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Ok(mut shown) = SHOWN.lock() {
            *shown = None;
        }
        self.bar.finish_and_clear();
    }
}

/// The size of `input` when it is a regular file.
fn regular_file_len(input: &Input) -> Option<u64> {
    match input {
        Input::Path(p) => std::fs::metadata(p)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len()),
        Input::Stdin => None,
    }
}
