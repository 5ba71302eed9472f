//! The commands: one file per subcommand, run from the one dispatch in [`run`].
//!
//! This is the only place that prints diagnostics (`common.rs`) and picks the exit status
//! ([`Exit`]). Nothing else in the crate imports `cmd`, and only `cmd` imports `cli`.
//! [`man_page`] is for `examples/man.rs`, which writes `man/mailtrace.1`, and [`schema_json`]
//! for `examples/schema.rs`, which writes `examples/schema/`.

mod common;
mod docs;
mod events;
mod follow;
mod progress;
mod read;
mod report;
mod schema;
mod trace;

use crate::cli::{Cli, Command};
use crate::error::{Exit, Result};

pub use common::print_error;
pub use docs::man_page;
pub use schema::{file_name as schema_file_name, schema_json};

/// Runs the command line and returns the exit status.
pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Some(Command::Events(args)) => events::run(&args),
        Some(Command::Report(args)) => report::run(&args),
        None => report::run(&cli.report),
        Some(Command::Trace(args)) => trace::run(&args),
        Some(Command::Follow(args)) => follow::run(&args),
        Some(Command::Completions(args)) => docs::completions(args.shell),
        Some(Command::Schema(args)) => schema::run(args.output),
    }
}
