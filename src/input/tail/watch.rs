//! Wake-ups from the file system: a notify watcher on the parent folders of the followed
//! files, reduced to a channel of "something happened to one of our paths" signals.

use std::path::PathBuf;
use std::sync::mpsc::Sender;

use notify::{Config, Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use super::FollowOptions;

/// A running watcher, or none when polling.
pub(super) struct Watch {
    /// Kept alive for its side effect: dropping it stops the watch.
    _watcher: Option<Box<dyn Watcher + Send>>,
    pub(super) polling: bool,
    /// Why the recommended watcher could not be used, when it was not asked for.
    pub(super) fallback: Option<String>,
}

/// Watches each of `dirs` non-recursively and signals on `tx` when an event names one of
/// `paths` (which must be `dir.join(file_name)` with `dir` canonical, as notify reports
/// them), when notify asks for a rescan, or on a watcher error. With
/// [`FollowOptions::poll`], or when the event-driven watcher cannot be set up, nothing is
/// watched: the scanner polls.
pub(super) fn start(
    dirs: &[PathBuf],
    paths: &[PathBuf],
    opts: &FollowOptions,
    tx: Sender<()>,
) -> Watch {
    if opts.poll {
        return Watch {
            _watcher: None,
            polling: true,
            fallback: None,
        };
    }
    match recommended(dirs, handler(tx, paths.to_vec())) {
        Ok(w) => Watch {
            _watcher: Some(w),
            polling: false,
            fallback: None,
        },
        Err(e) => Watch {
            _watcher: None,
            polling: true,
            fallback: Some(e.to_string()),
        },
    }
}

/// The platform's event-driven watcher on all `dirs`, or the first error (inotify instance or
/// watch limits, typically).
fn recommended(
    dirs: &[PathBuf],
    handler: impl notify::EventHandler,
) -> notify::Result<Box<dyn Watcher + Send>> {
    let mut watcher = RecommendedWatcher::new(handler, Config::default())?;
    for dir in dirs {
        watcher.watch(dir, RecursiveMode::NonRecursive)?;
    }
    Ok(Box::new(watcher))
}

/// Turns notify events into wake-ups, dropping events about other files in the same folders
/// and access events (our own `open` of a file would otherwise wake us up again).
fn handler(tx: Sender<()>, paths: Vec<PathBuf>) -> impl notify::EventHandler {
    move |res: notify::Result<Event>| {
        let wanted = match &res {
            Ok(ev) => {
                ev.need_rescan()
                    || (!matches!(ev.kind, EventKind::Access(_))
                        && (ev.paths.is_empty() || ev.paths.iter().any(|p| paths.contains(p))))
            }
            Err(_) => true,
        };
        if wanted {
            // The receiver is gone only once the follower is dropped.
            let _ = tx.send(());
        }
    }
}
