//! What the commands share: the inputs named on the command line, the one loop that reads
//! them, the one place that prints `mailtrace: …` diagnostics (sanitised), and the settings
//! built from flags that several commands take (filter, colour, limit rule, classifier).

use std::io::{self, IsTerminal};
use std::ops::ControlFlow;

use crate::aggregate::Filter;
use crate::classify::Classifier;
use crate::cli::{ColorArg, FilterArgs, InputArgs, LimitArgs, MtaArg, ReportArgs};
use crate::error::{Error, Exit, Result};
use crate::input::{self, Input};
use crate::model::cpanel::LimitRule;
use crate::model::event::{Event, Mta};
use crate::parse::scan::{self, At, FileStats, ScanOptions};
use crate::util::sanitize::clean;
use crate::util::text::thousands;
use crate::util::timearg::{self, TimeArg};

/// A diagnostic as printed: `mailtrace: {msg}`, with anything from a log made safe.
pub(crate) fn diagnostic(msg: &str) -> String {
    format!("mailtrace: {}", clean(msg))
}

/// Prints a diagnostic on stderr.
pub(crate) fn warn(msg: &str) {
    eprintln!("{}", diagnostic(msg));
}

/// Prints the error that ended a command.
pub fn print_error(e: &Error) {
    warn(&e.to_string());
}

/// The inputs named on the command line in reading order, or the default log.
pub(crate) fn resolve_inputs(args: &InputArgs) -> Result<Vec<Input>> {
    if args.files.is_empty() {
        let p = input::find_default_log()?;
        warn(&format!("reading {}", p.display()));
        return Ok(vec![Input::Path(p)]);
    }
    Ok(input::order_rotated(
        args.files.iter().map(|f| Input::from_arg(f)).collect(),
    ))
}

/// The reading settings of `--mta`, `--year` and `--verbose`.
pub(crate) fn scan_options(args: &InputArgs) -> ScanOptions {
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
pub(crate) fn print_file_summary(st: &FileStats, verbose: bool) {
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
    warn(&format!("{}: {}", st.name, parts.join(", ")));
    if verbose {
        for (n, line) in &st.samples {
            eprintln!("  {}:{}: {}", clean(&st.name), n, clean(line));
        }
    }
    if let Some(e) = &st.error {
        warn(&format!("{}: {e}", st.name));
    }
}

/// What a command does with the inputs [`read_inputs`] reads.
pub(crate) trait PerInput {
    /// Called before each input, with its display name.
    fn begin(&mut self, _name: &str) {}

    /// Called with each event; `Break` stops reading (after an output error).
    fn event(&mut self, e: &Event<'_>, at: At<'_>) -> ControlFlow<()>;

    /// The output error that made [`PerInput::event`] stop, if any; it ends the command.
    fn take_error(&mut self) -> Option<io::Error> {
        None
    }
}

/// When [`read_inputs`] prints an input's summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Summaries {
    /// After every input (`events`).
    Always,
    /// With `--verbose`, or when reading the input failed.
    VerboseOrError,
}

/// Reads every input into `per_input`: the one loop of `events`, `report` and `trace`. An
/// input that cannot be opened or breaks off is reported and makes the status
/// [`Exit::Error`], and the next input is read; an output error ends the command.
pub(crate) fn read_inputs(
    inputs: &[Input],
    args: &InputArgs,
    summaries: Summaries,
    per_input: &mut impl PerInput,
) -> Result<(Vec<FileStats>, Exit)> {
    let opts = scan_options(args);
    let mut stats = Vec::with_capacity(inputs.len());
    let mut exit = Exit::Ok;
    for input in inputs {
        per_input.begin(&input.display_name());
        let res = scan::scan_input(input, &opts, |e, at| per_input.event(e, at));
        if let Some(e) = per_input.take_error() {
            return Err(e.into());
        }
        match res {
            Ok(st) => {
                if st.error.is_some() {
                    exit = Exit::Error;
                }
                if summaries == Summaries::Always || args.verbose || st.error.is_some() {
                    print_file_summary(&st, args.verbose);
                }
                stats.push(st);
            }
            Err(e) => {
                exit = Exit::Error;
                warn(&e.to_string());
            }
        }
    }
    Ok((stats, exit))
}

/// Returns true if and only if colour should be used on stdout.
pub(crate) fn use_color(arg: ColorArg) -> bool {
    match arg {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// cPanel's "max defers and failures per hour" rule of `--limit-min` and `--limit-percent`.
pub(crate) fn limit_rule(args: &LimitArgs) -> LimitRule {
    LimitRule {
        min: args.limit_min.unwrap_or(5).max(1),
        percent: args.limit_percent,
    }
}

/// Loads the classifier: built-in patterns, extended or replaced by `--patterns DIR`.
pub(crate) fn load_classifier(args: &ReportArgs) -> Result<Classifier> {
    match &args.patterns {
        Some(dir) => {
            Classifier::load(dir, args.patterns_only).map_err(|e| Error::Pattern(Box::new(e)))
        }
        None => Ok(Classifier::builtin()),
    }
}

/// Builds the filter of `report` and `trace` from the command line. A time counted back
/// from the end of the log (`--since 1h`) reads the end of the last input.
pub(crate) fn build_filter(f: &FilterArgs, inputs: &[Input], input: &InputArgs) -> Result<Filter> {
    let now = chrono::Local::now().naive_local();
    let parse = |flag: &str, arg: &Option<String>| {
        arg.as_deref()
            .map(|s| timearg::parse(s, now))
            .transpose()
            .map_err(|e| Error::usage(format!("{flag}: {e}")))
    };
    let since = parse("--since", &f.since)?;
    let until = parse("--until", &f.until)?;
    let needs_end =
        since.is_some_and(|t| t.needs_log_end()) || until.is_some_and(|t| t.needs_log_end());
    let log_end = if needs_end {
        let opts = scan_options(input);
        let end = inputs.last().and_then(|i| scan::last_event_time(i, &opts));
        if end.is_none() {
            warn("cannot find the end of the log; counting relative times back from now");
        }
        end
    } else {
        None
    };
    let resolve = |t: Option<TimeArg>| t.map(|t| t.resolve(log_end, now));
    Ok(Filter {
        since: resolve(since),
        until: resolve(until),
        sender: f.sender.clone(),
        account: f.account.clone(),
        domain: f
            .domain
            .clone()
            .map(|d| d.trim_start_matches('@').to_ascii_lowercase()),
    })
}
