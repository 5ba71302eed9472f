//! The `mailtrace` binary: parse arguments, run, map the result to an exit status.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = mailtrace::cli::Cli::parse();
    match mailtrace::app::run(cli) {
        Ok(code) => code,
        Err(e) if mailtrace::app::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "mailtrace: {}",
                mailtrace::sanitize::clean(&format!("{e:#}"))
            );
            ExitCode::from(mailtrace::app::EXIT_ERROR)
        }
    }
}
