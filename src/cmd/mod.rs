//! The commands: one file per subcommand, run from the one dispatch in [`run`].
//!
//! This is the only place that prints diagnostics (`common.rs`) and picks the exit status
//! ([`Exit`]). Nothing else in the crate imports `cmd`, and only `cmd` imports `cli`.
//! [`man_page`] is for `examples/man.rs`, which writes `man/mailtrace.1`.

mod common;
mod docs;
mod events;
mod follow;
mod progress;
mod read;
mod report;
mod trace;

use crate::cli::{Cli, Command};
use crate::error::{Exit, Result};

pub use common::print_error;
pub use docs::man_page;

/// Runs the command line and returns the exit status.
pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Some(Command::Events(args)) => events::run(&args),
        Some(Command::Report(args)) => report::run(&args),
        None => report::run(&cli.report),
        Some(Command::Trace(args)) => trace::run(&args),
        Some(Command::Follow(args)) => follow::run(&args),
        Some(Command::Completions(args)) => docs::completions(args.shell),
    }
}
