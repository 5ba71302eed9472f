//! What the commands share: the inputs named on the command line (or standard input, or the
//! default log), the one place that prints `mailtrace: …` diagnostics (sanitised), and the
//! settings built from flags that several commands take (filter, colour, limit rule,
//! classifier, redaction key). The loop that reads the inputs is in `read.rs`.

use std::io::{self, BufRead, IsTerminal};
use std::os::fd::AsFd;
use std::time::Duration;

use crate::aggregate::Filter;
use crate::classify::Classifier;
use crate::cli::{ColorArg, FilterArgs, InputArgs, LimitArgs, MtaArg, ReportArgs};
use crate::error::{Error, Result};
use crate::input::{self, Input};
use crate::model::cpanel::LimitRule;
use crate::model::event::Mta;
use crate::parse::scan::{self, FileStats, ScanOptions};
use crate::util::sanitize::clean;
use crate::util::text::thousands;
use crate::util::timearg::{self, TimeArg};

pub(crate) use super::read::{How, PerInput, Summaries, Window, read_inputs};

/// A diagnostic as printed: `mailtrace: {msg}`, with anything from a log made safe.
pub(crate) fn diagnostic(msg: &str) -> String {
    format!("mailtrace: {}", clean(msg))
}

/// Prints a diagnostic on stderr (clearing the progress bar meanwhile).
pub(crate) fn warn(msg: &str) {
    super::progress::suspend(|| eprintln!("{}", diagnostic(msg)));
}

/// Prints the error that ended a command.
pub fn print_error(e: &Error) {
    warn(&e.to_string());
}

/// The inputs of a batch command (`events`, `report`, `trace`): those named on the command
/// line in reading order; with none, standard input when it is not a terminal and has data
/// (`zcat old.gz | mailtrace`); else the default log, named on stderr unless `quiet`. An
/// empty standard input (cron's, `/dev/null`) falls back to the default log.
pub(crate) fn batch_inputs(args: &InputArgs, quiet: bool) -> Result<Vec<Input>> {
    if args.files.is_empty() {
        if stdin_has_data() {
            return Ok(vec![Input::Stdin]);
        }
        let p = input::find_default_log()?;
        if !quiet {
            warn(&format!("reading {}", p.display()));
        }
        return Ok(vec![Input::Path(p)]);
    }
    Ok(input::order_rotated(
        args.files.iter().map(|f| Input::from_arg(f)).collect(),
    ))
}

/// Returns true if and only if standard input is not a terminal and gives data (not just an
/// end of file). When nothing comes within a second, says once what it waits for; Ctrl-C
/// ends the wait.
fn stdin_has_data() -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return false;
    }
    let fd = stdin.as_fd();
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let second = Timespec {
        tv_sec: 1,
        tv_nsec: 0,
    };
    let mut told = false;
    loop {
        let timeout = if told { None } else { Some(&second) };
        match poll(&mut fds, timeout) {
            Ok(0) => {
                told = true;
                warn("no FILE given: waiting for data on standard input (or name a log file)");
            }
            Ok(_) if fds[0].revents().contains(PollFlags::NVAL) => return false,
            Ok(_) => break,
            Err(rustix::io::Errno::INTR) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => return false,
        }
    }
    // Stdin keeps what this reads in its own buffer, so the reading proper starts with it.
    stdin.lock().fill_buf().is_ok_and(|b| !b.is_empty())
}

/// The inputs named on the command line in reading order, or the default log (`follow`).
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
        super::progress::suspend(|| {
            for (n, line) in &st.samples {
                eprintln!("  {}:{}: {}", clean(&st.name), n, clean(line));
            }
        });
    }
    if let Some(e) = &st.error {
        warn(&format!("{}: {e}", st.name));
    }
}

/// The key of `--redact-key` / `MAILTRACE_REDACT_KEY` (an empty one is none).
///
/// Sets the process-wide redaction key from `--redact-key` / `MAILTRACE_REDACT_KEY` (a
/// stable key: the same address gives the same token on every run and server, so tickets
/// can be compared). Without one, tokens come from a random key and differ per run.
pub(crate) fn apply_redaction_key(redact_key: &Option<String>) -> Result<()> {
    if let Some(k) = redaction_key(redact_key) {
        let key = crate::util::redact::Key::from_passphrase(&k)
            .map_err(|e| Error::usage(format!("--redact-key: {e}")))?;
        crate::util::redact::set_key(key)
            .map_err(|e| Error::usage(format!("--redact-key: {e}")))?;
    }
    Ok(())
}

fn redaction_key(redact_key: &Option<String>) -> Option<String> {
    redact_key.clone().filter(|k| !k.is_empty())
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
/// from the end of the log (`--since 1h`) reads the end of the last input (not of standard
/// input or a FIFO, which cannot be read twice: then back from now, said unless `quiet`).
/// A range that ends before it starts is a usage error. `--day D` is D 00:00 to the next
/// day's 00:00.
pub(crate) fn build_filter(
    f: &FilterArgs,
    inputs: &[Input],
    input: &InputArgs,
    quiet: bool,
) -> Result<Filter> {
    let now = chrono::Local::now().naive_local();
    let parse = |flag: &str, arg: &Option<String>| {
        arg.as_deref()
            .map(|s| timearg::parse(s, now))
            .transpose()
            .map_err(|e| Error::usage(format!("{flag}: {e}")))
    };
    if let Some(day) = &f.day {
        let d = timearg::parse_day(day, now).map_err(|e| Error::usage(format!("--day: {e}")))?;
        let (since, until) = timearg::day_window(d);
        return Ok(selection(f, Some(since), until));
    }
    let since = parse("--since", &f.since)?;
    let until = parse("--until", &f.until)?;
    let needs_end =
        since.is_some_and(|t| t.needs_log_end()) || until.is_some_and(|t| t.needs_log_end());
    let log_end = if needs_end {
        let opts = scan_options(input);
        let end = match inputs.last() {
            Some(i @ Input::Path(p)) if !input::fifo::is_fifo(p) => scan::last_event_time(i, &opts),
            _ => None,
        };
        if end.is_none() && !quiet {
            warn("cannot find the end of the log; counting relative times back from now");
        }
        end
    } else {
        None
    };
    let resolve = |t: Option<TimeArg>| t.map(|t| t.resolve(log_end, now));
    let (since_at, until_at) = (resolve(since), resolve(until));
    if let (Some(s), Some(u)) = (since_at, until_at)
        && s >= u
    {
        let fmt = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M:%S").to_string();
        return Err(Error::usage(format!(
            "--since {} ({}) is not before --until {} ({})",
            f.since.as_deref().unwrap_or_default(),
            fmt(s),
            f.until.as_deref().unwrap_or_default(),
            fmt(u)
        )));
    }
    Ok(selection(f, since_at, until_at))
}

/// The filter of a resolved time range and the other selections of `f`.
fn selection(
    f: &FilterArgs,
    since: Option<chrono::NaiveDateTime>,
    until: Option<chrono::NaiveDateTime>,
) -> Filter {
    Filter {
        since,
        until,
        sender: f.sender.clone(),
        account: f.account.clone(),
        domain: f
            .domain
            .clone()
            .map(|d| d.trim_start_matches('@').to_ascii_lowercase()),
    }
}
