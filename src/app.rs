//! Orchestration: turns parsed arguments into a run of the pipeline and an exit status.
//! Only this module (and `main.rs`) write to stdout and stderr.

use std::io::{self, Write};
use std::ops::ControlFlow;

use crate::cli::{Cli, Command, EventsArgs, InputArgs, MtaArg};
use crate::error::{Exit, Result};
use crate::input::{self, Input};
use crate::model::event::{Located, Mta};
use crate::scan::{self, FileStats, ScanOptions};
use crate::util::sanitize::{self, clean};
use crate::util::text::thousands;

/// Runs the command line and returns the exit status.
pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Some(Command::Events(args)) => events(&args),
        Some(Command::Report(args)) => crate::report_cmd::run(&args),
        None => crate::report_cmd::run(&cli.report),
        Some(Command::Trace(args)) => crate::report_cmd::trace(&args),
        Some(Command::Follow(args)) => crate::report_cmd::follow(&args),
    }
}

/// The inputs named on the command line in reading order, or the default log.
pub fn resolve_inputs(args: &InputArgs) -> Result<Vec<Input>> {
    if args.files.is_empty() {
        let p = input::find_default_log()?;
        eprintln!("mailtrace: reading {}", clean(&p.display().to_string()));
        return Ok(vec![Input::Path(p)]);
    }
    Ok(input::order_rotated(
        args.files.iter().map(|f| Input::from_arg(f)).collect(),
    ))
}

pub fn scan_options(args: &InputArgs) -> ScanOptions {
    ScanOptions {
        mta: args.mta.map(|m| match m {
            MtaArg::Exim => Mta::Exim,
            MtaArg::Postfix => Mta::Postfix,
        }),
        year: args.year,
        samples: if args.verbose { 5 } else { 0 },
    }
}

/// The one-line per-file summary on stderr, and with `--verbose` the first unrecognised
/// lines: `mailtrace: mail.log: 12,403 lines, 3 unrecognised`.
pub fn print_file_summary(st: &FileStats, verbose: bool) {
    let mut parts = vec![
        format!("{} lines", thousands(st.lines)),
        format!("{} unrecognised", thousands(st.unrecognised)),
    ];
    for (n, what) in [
        (st.malformed, "malformed"),
        (st.invalid_utf8, "invalid UTF-8"),
        (st.truncated, "cut at 64 KiB"),
        (st.binary, "with binary bytes"),
    ] {
        if n > 0 {
            parts.push(format!("{} {what}", thousands(n)));
        }
    }
    eprintln!("mailtrace: {}: {}", clean(&st.name), parts.join(", "));
    if verbose {
        for (n, line) in &st.samples {
            eprintln!("  {}:{}: {}", clean(&st.name), n, clean(line));
        }
    }
    if let Some(e) = &st.error {
        eprintln!("mailtrace: {}: {}", clean(&st.name), clean(e));
    }
}

fn events(args: &EventsArgs) -> Result<Exit> {
    let inputs = resolve_inputs(&args.input)?;
    let opts = scan_options(&args.input);
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let mut errored = false;
    for input in &inputs {
        let name = input.display_name();
        let mut write_err: Option<io::Error> = None;
        let res = scan::scan_input(input, &opts, |e, at| {
            let located = Located {
                event: e,
                file: &name,
                line: at.number,
            };
            match sanitize::write_json_line(&mut out, &located) {
                Ok(()) => ControlFlow::Continue(()),
                Err(err) => {
                    write_err = Some(err);
                    ControlFlow::Break(())
                }
            }
        });
        if let Some(e) = write_err {
            return Err(e.into());
        }
        match res {
            Ok(st) => {
                errored |= st.error.is_some();
                print_file_summary(&st, args.input.verbose);
            }
            Err(e) => {
                errored = true;
                eprintln!("mailtrace: {}", clean(&e.to_string()));
            }
        }
    }
    out.flush()?;
    Ok(Exit::of(errored, false))
}
