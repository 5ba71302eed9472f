//! The `report` command (also the default), and `trace` and `follow` (being built).

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;

use crate::aggregate::{Aggregates, Filter};
use crate::app::{self, EXIT_ERROR, EXIT_OK, EXIT_PROBLEMS};
use crate::classify::{CachedClassifier, Classifier};
use crate::cli::{ColorArg, FilterArgs, FollowArgs, FormatArg, InputArgs, ReportArgs, TraceArgs};
use crate::correlate::Correlator;
use crate::input::Input;
use crate::model::cpanel::LimitRule;
use crate::report::{self, BuildOptions, Report};
use crate::scan::{self, FileStats};
use crate::util::sanitize::clean;
use crate::util::timearg::{self, TimeArg};

/// Returns true if and only if colour should be used on stdout.
pub fn use_color(arg: ColorArg) -> bool {
    match arg {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

/// Builds the report filter from the command line.
pub fn build_filter(f: &FilterArgs, inputs: &[Input], input: &InputArgs) -> anyhow::Result<Filter> {
    let now = chrono::Local::now().naive_local();
    let since = f
        .since
        .as_deref()
        .map(|s| timearg::parse(s, now))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--since: {e}"))?;
    let until = f
        .until
        .as_deref()
        .map(|s| timearg::parse(s, now))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--until: {e}"))?;
    let needs_end =
        since.is_some_and(|t| t.needs_log_end()) || until.is_some_and(|t| t.needs_log_end());
    let log_end = if needs_end {
        let opts = app::scan_options(input);
        let end = inputs.last().and_then(|i| scan::last_event_time(i, &opts));
        if end.is_none() {
            eprintln!(
                "mailtrace: cannot find the end of the log; counting relative times back from now"
            );
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

/// Loads the classifier: built-in patterns, extended or replaced by `--patterns DIR`.
pub fn load_classifier(args: &ReportArgs) -> anyhow::Result<Classifier> {
    match &args.patterns {
        Some(dir) => Ok(Classifier::load(dir, args.patterns_only)?),
        None => Ok(Classifier::builtin()),
    }
}

/// Reads every input through the correlator into the aggregates.
/// Returns the per-file statistics and whether any input failed.
pub fn analyse(
    inputs: &[Input],
    input_args: &InputArgs,
    max_age_hours: u64,
    agg: &mut Aggregates<'_>,
) -> (Vec<FileStats>, bool) {
    let opts = app::scan_options(input_args);
    crate::aggregate::threaded::run(agg, |sink| {
        let mut correlator = Correlator::new(max_age_hours).without_texts();
        let out = read_all(inputs, input_args, &opts, &mut correlator, sink);
        if input_args.verbose {
            eprintln!(
                "mailtrace: {} queue IDs still open at the end, {} folded after --max-age",
                correlator.open_messages(),
                correlator.folded_stale
            );
        }
        correlator.finish(sink);
        out
    })
}

/// Reads every input through the correlator into `sink`.
fn read_all(
    inputs: &[Input],
    input_args: &InputArgs,
    opts: &scan::ScanOptions,
    correlator: &mut Correlator,
    sink: &mut impl crate::correlate::Sink,
) -> (Vec<FileStats>, bool) {
    let mut stats = Vec::new();
    let mut errored = false;
    for input in inputs {
        match scan::scan_input(input, opts, |e, _| correlator.feed(e, sink)) {
            Ok(st) => {
                errored |= st.error.is_some();
                if input_args.verbose || st.error.is_some() {
                    app::print_file_summary(&st, input_args.verbose);
                }
                stats.push(st);
            }
            Err(e) => {
                errored = true;
                eprintln!("mailtrace: {}", clean(&e.to_string()));
            }
        }
    }
    (stats, errored)
}

pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let inputs = app::resolve_inputs(&args.input)?;
    let filter = build_filter(&args.filter, &inputs, &args.input)?;
    let classifier = load_classifier(args)?;
    let rule = LimitRule {
        min: args.limit.limit_min.max(1),
        percent: args.limit.limit_percent,
    };
    let mut agg = Aggregates::new(rule, filter, CachedClassifier::new(&classifier));
    let (stats, errored) = analyse(&inputs, &args.input, args.max_age, &mut agg);
    let diagnoses = crate::diagnose::diagnose(&agg, &args.thresholds);
    let report = Report::build(
        &mut agg,
        &diagnoses,
        &stats,
        &BuildOptions {
            hourly_tables: args.format == FormatArg::Json,
            top: args.top,
            redact: args.redact,
            thresholds: args.thresholds.clone(),
        },
    );
    if let Some(path) = &args.suppression_list {
        let mut f =
            io::BufWriter::new(File::create(path).with_context(|| format!("{}", path.display()))?);
        report::csv::render_suppression(&report, &mut f)?;
        f.flush()?;
    }
    let problems = report.has_problems();
    if problems || !args.quiet {
        let stdout = io::stdout();
        let mut out = io::BufWriter::new(stdout.lock());
        render(&report, args.format, use_color(args.color), &mut out)?;
        out.flush()?;
    }
    // Dropping millions of small allocations one by one takes a noticeable share of the run;
    // the process is about to exit, so let the OS reclaim them (as ripgrep does).
    std::mem::forget(report);
    std::mem::forget(agg);
    Ok(ExitCode::from(if errored {
        EXIT_ERROR
    } else if problems {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }))
}

pub fn render(
    report: &Report,
    format: FormatArg,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        FormatArg::Text => {
            report::doc::render_text(&report::doc::document(report), out, color, 100)
        }
        FormatArg::Markdown => report::doc::render_markdown(&report::doc::document(report), out),
        FormatArg::Json => report::json::render(report, out),
        FormatArg::Csv => report::csv::render(report, out),
    }
}

pub fn trace(args: &TraceArgs) -> anyhow::Result<ExitCode> {
    let inputs = app::resolve_inputs(&args.input)?;
    let filter = build_filter(&args.filter, &inputs, &args.input)?;
    let classifier = Classifier::builtin();
    let target = crate::trace::Target::parse(&args.target);
    let opts = app::scan_options(&args.input);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut tracer = crate::trace::Tracer::new(target, &mut out, &classifier, args.redact, filter);
    let mut correlator = Correlator::new(48);
    let mut errored = false;
    for input in &inputs {
        tracer.begin_file(&input.display_name());
        let res = scan::scan_input(input, &opts, |e, at| {
            tracer.line(at.number, at.text);
            correlator.feed(e, &mut tracer);
            if tracer.error.is_some() {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        });
        if let Some(e) = tracer.error.take() {
            return Err(e.into());
        }
        match res {
            Ok(st) => {
                errored |= st.error.is_some();
                if args.input.verbose || st.error.is_some() {
                    app::print_file_summary(&st, args.input.verbose);
                }
            }
            Err(e) => {
                errored = true;
                eprintln!("mailtrace: {}", clean(&e.to_string()));
            }
        }
    }
    correlator.finish(&mut tracer);
    if let Some(e) = tracer.error.take() {
        return Err(e.into());
    }
    let found = tracer.printed + tracer.standalone;
    drop(tracer);
    out.flush()?;
    if found == 0 {
        eprintln!("mailtrace: no message involves {}", clean(&args.target));
    }
    Ok(ExitCode::from(if errored {
        EXIT_ERROR
    } else if found == 0 {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }))
}

pub fn follow(args: &FollowArgs) -> anyhow::Result<ExitCode> {
    crate::follow_cmd::run(args)
}
