//! `follow --format events`: no alerts, but the event of every line as it arrives, one JSON
//! object per line in the schema of `mailtrace events`, with the followed path as `file` and
//! the line's number in the file it was read from as `line` (it restarts at 1 in the new
//! file after a rotation, and after a truncation).

use std::collections::HashMap;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use super::{common, follow_options, readback};
use crate::cli::FollowArgs;
use crate::error::Result;
use crate::input::tail::{Follower, StartAt, TailLine};
use crate::model::event::{Located, Mta};
use crate::parse::{LineParser, Parsed};
use crate::util::sanitize;

/// A followed path's parser and display name.
struct Source {
    parser: LineParser,
    name: String,
}

/// Follows `paths` from their end (their start with `--from-start`) until `stop` is set,
/// writing each line's event to `out`.
pub(super) fn follow_events(
    args: &FollowArgs,
    paths: &[PathBuf],
    stop: &AtomicBool,
    out: &mut dyn Write,
) -> Result<()> {
    let start = if args.from_start {
        StartAt::Beginning
    } else {
        StartAt::End
    };
    let starts = paths.iter().map(|p| (p.clone(), start)).collect();
    let mut opts = follow_options(args);
    opts.count_lines = true;
    let mut follower = Follower::new(starts, opts)?;
    let mta: Option<Mta> = common::scan_options(&args.input).mta;
    let year = args.input.year;
    let mut sources: HashMap<PathBuf, Source> = HashMap::new();
    let mut error: Option<io::Error> = None;
    follower.run(
        stop,
        |l: TailLine<'_>| {
            let src = sources
                .entry(l.path.to_path_buf())
                .or_insert_with(|| Source {
                    parser: readback::parser_for(l.path, mta, year),
                    name: l.path.display().to_string(),
                });
            let Parsed::Event(e) = src.parser.parse(l.text) else {
                return ControlFlow::Continue(());
            };
            let located = Located {
                event: &e,
                file: &src.name,
                line: l.number.unwrap_or(0),
            };
            match sanitize::write_json_line(out, &located).and_then(|()| out.flush()) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    error = Some(e);
                    ControlFlow::Break(())
                }
            }
        },
        |notice| common::warn(&notice.to_string()),
    )?;
    match error {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}
