//! `mailtrace report` (also the default): read every input through the correlator into the
//! aggregates, build the report with its diagnosis, and render it, marked incomplete at its
//! top when an input failed ([`write_marked`]).

use std::fs::File;
use std::io::{self, Write};
use std::ops::ControlFlow;

use super::common::{self, How, PerInput, Summaries, Window};
use super::read::{Failure, Reading};
use crate::aggregate::Aggregates;
use crate::classify::CachedClassifier;
use crate::cli::{FormatArg, ReportArgs};
use crate::correlate::{Correlator, Filter, Sink};
use crate::error::{Error, Exit, Result};
use crate::input::Input;
use crate::model::event::{Event, Timestamp};
use crate::parse::scan::At;
use crate::report::{self, BuildOptions, HourlyTables, Report, doc::Block};
use crate::util::sanitize;

/// Runs `mailtrace report`: status 2 if an input failed or there was nothing to analyse,
/// else 1 if the report found problems, else 0. With `-q`, a run that ends with 0 prints
/// nothing.
pub(super) fn run(args: &ReportArgs) -> Result<Exit> {
    let inputs = common::batch_inputs(&args.input, args.quiet)?;
    let filter = common::build_filter(&args.filter, &inputs, &args.input, args.quiet)?;
    let filters = filters_of(args, &filter);
    let how = How {
        summaries: Summaries::VerboseOrError,
        quiet: args.quiet,
        streams: false,
        window: Window::of(&filter),
    };
    let classifier = common::load_classifier(args)?;
    let rule = common::limit_rule(&args.limit);
    let filter_since = filter.since;
    let mut agg = Aggregates::new(rule, filter, CachedClassifier::new(&classifier))
        .with_max_subjects(args.max_subjects);
    let (reading, folded_early) = analyse(&inputs, args, &how, &mut agg)?;
    if !reading.check_analysed(&how.window) {
        std::mem::forget(agg);
        return Ok(Exit::Error);
    }
    common::apply_redaction_key(&args.redact_key)?;
    let diagnoses = crate::diagnose::diagnose(&agg, &args.thresholds);
    let mut report = Report::build(
        &mut agg,
        &diagnoses,
        &reading.stats,
        &BuildOptions {
            hourly_tables: match args.format {
                FormatArg::Json if args.top > 0 => HourlyTables::Top(args.top),
                FormatArg::Json | FormatArg::Ndjson => HourlyTables::All,
                _ => HourlyTables::Omitted,
            },
            top: args.top,
            redact: args.redact,
            thresholds: args.thresholds.clone(),
            limit_given: args.limit.limit_min.is_some() || args.limit.limit_percent.is_some(),
            day: args.filter.day.as_ref().and(filter_since).map(|t| t.date()),
        },
    );
    report.totals.folded_early = folded_early;
    report.set_filters(filters);
    if let Some(path) = &args.suppression_list {
        let file = File::create(path).map_err(|source| Error::Output {
            path: path.clone(),
            source,
        })?;
        let mut f = io::BufWriter::new(file);
        report::csv::render_suppression(&report, &mut f)?;
        f.flush()?;
    }
    let exit = reading.exit().merge(Exit::of(false, report.has_problems()));
    if args.format == FormatArg::Json {
        report.bound_lists(args.top);
    }
    if exit != Exit::Ok || !args.quiet {
        let stdout = io::stdout();
        let mut out = io::BufWriter::new(stdout.lock());
        let color = common::use_color(args.color);
        let width = text_width(args.width);
        if reading.failures.is_empty() {
            render(&report, args.format, color, width, &mut out)?;
        } else {
            write_marked(&report, &reading, args.format, color, width, &mut out)?;
        }
        out.flush()?;
    }
    // Dropping millions of small allocations one by one takes a noticeable share of the run;
    // the process is about to exit, so let the OS reclaim them.
    std::mem::forget(report);
    std::mem::forget(agg);
    Ok(exit)
}

/// The filters as given and as resolved, for the report's `settings.filters`.
fn filters_of(args: &ReportArgs, filter: &Filter) -> report::Filters {
    let resolved = |t: Option<chrono::NaiveDateTime>| t.map(|t| Timestamp::new(t, None));
    report::Filters {
        since: args.filter.since.clone(),
        since_resolved: resolved(filter.since),
        until: args.filter.until.clone(),
        until_resolved: resolved(filter.until),
        sender: filter.sender.clone(),
        account: filter.account.clone(),
        domain: filter.domain.clone(),
    }
}

/// Feeds each event to the correlator, which hands outcomes and messages to the sink.
struct Correlate<'a, S> {
    correlator: &'a mut Correlator,
    sink: &'a mut S,
}

impl<S: Sink> PerInput for Correlate<'_, S> {
    fn event(&mut self, e: &Event<'_>, _at: At<'_>) -> ControlFlow<()> {
        self.correlator.feed(e, self.sink);
        ControlFlow::Continue(())
    }
}

/// Reads every input through the correlator into the aggregates (on a second thread).
/// Returns the reading and the number of messages folded early (past `--max-open`).
fn analyse(
    inputs: &[Input],
    args: &ReportArgs,
    how: &How,
    agg: &mut Aggregates<'_>,
) -> Result<(Reading, u64)> {
    crate::aggregate::threaded::run(agg, |sink| {
        let mut correlator = Correlator::new(args.max_age)
            .with_max_open(args.max_open)
            .without_texts();
        let mut per_input = Correlate {
            correlator: &mut correlator,
            sink,
        };
        let out = common::read_inputs(inputs, &args.input, how, &mut per_input);
        if args.input.verbose {
            common::warn(&format!(
                "{} queue IDs still open at the end, {} folded after --max-age, {} folded \
                 early past --max-open",
                correlator.open_messages(),
                correlator.folded_stale,
                correlator.folded_early
            ));
        }
        correlator.finish(sink);
        out.map(|r| (r, correlator.folded_early))
    })
}

/// Text output is this wide when standard output is not a terminal.
const DEFAULT_WIDTH: u16 = 100;

/// The width of text output: `--width`, else the terminal's (at least 40), else
/// [`DEFAULT_WIDTH`].
pub(super) fn text_width(arg: Option<u16>) -> u16 {
    arg.or_else(|| report::doc::terminal_width().map(|w| w.max(40)))
        .unwrap_or(DEFAULT_WIDTH)
}

/// Writes the report in `format`, text at most `width` columns wide.
fn render(
    report: &Report,
    format: FormatArg,
    color: bool,
    width: u16,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        FormatArg::Text => {
            report::doc::render_text(&report::doc::document(report), out, color, width)
        }
        FormatArg::Markdown => report::doc::render_markdown(&report::doc::document(report), out),
        FormatArg::Json => report::json::render(report, out),
        FormatArg::Ndjson => report::ndjson::render(report, out),
        FormatArg::Csv => report::csv::render(report, out),
    }
}

/// Writes the report of a run in which an input failed, marked incomplete at its top:
/// - text and Markdown: a first line `INCOMPLETE REPORT: N of M inputs failed:` and the
///   numbered failures, before the title;
/// - JSON: `"complete": false` and `"errors": [{"input", "error"}]` as the first members;
/// - CSV: right after the header, one row per failure with `outcome` = `input_error` and
///   `PATH: error` in `text`, every other cell empty (CSV has no comments).
fn write_marked(
    report: &Report,
    reading: &Reading,
    format: FormatArg,
    color: bool,
    width: u16,
    out: &mut dyn Write,
) -> io::Result<()> {
    let failures = &reading.failures;
    let inputs = reading.inputs();
    let marker = [
        Block::Para(format!(
            "INCOMPLETE REPORT: {} of {inputs} inputs failed:",
            failures.len()
        )),
        Block::Numbered(failures.iter().map(Failure::to_string).collect()),
    ];
    match format {
        FormatArg::Text => {
            report::doc::render_text(&marker, out, color, width)?;
            writeln!(out)?;
            render(report, format, color, width, out)
        }
        FormatArg::Markdown => {
            report::doc::render_markdown(&marker, out)?;
            render(report, format, color, width, out)
        }
        FormatArg::Json => {
            let mut body = Vec::new();
            render(report, format, color, width, &mut body)?;
            out.write_all(&json_marked(&body, failures)?)
        }
        FormatArg::Ndjson => {
            report::ndjson::render_incomplete(&json_incomplete(failures), out)?;
            render(report, format, color, width, out)
        }
        FormatArg::Csv => {
            let mut body = Vec::new();
            render(report, format, color, width, &mut body)?;
            out.write_all(&csv_marked(&body, failures))
        }
    }
}

/// The `complete: false` marker of a report whose inputs failed.
fn json_incomplete(failures: &[Failure]) -> report::Incomplete<'_> {
    report::Incomplete {
        complete: false,
        errors: failures
            .iter()
            .map(|f| report::InputError {
                input: &f.input,
                error: &f.error,
            })
            .collect(),
    }
}

/// The JSON report `body` with `"complete": false, "errors": […]` as its first members.
fn json_marked(body: &[u8], failures: &[Failure]) -> io::Result<Vec<u8>> {
    let marker = json_incomplete(failures);
    let mut head = Vec::new();
    sanitize::write_json_line(&mut head, &marker)?;
    // `{"complete":false,"errors":[…]}\n` → the members between the braces.
    let members = &head[1..head.len() - 2];
    let Some(rest) = body.strip_prefix(b"{") else {
        return Err(io::Error::other("the JSON report is not an object"));
    };
    let mut out = Vec::with_capacity(body.len() + head.len());
    out.push(b'{');
    out.extend_from_slice(members);
    if !rest.starts_with(b"}") {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    Ok(out)
}

/// The CSV report `body` with one `input_error` row per failure right after its header.
fn csv_marked(body: &[u8], failures: &[Failure]) -> Vec<u8> {
    let split = memchr::memchr(b'\n', body).map_or(body.len(), |i| i + 1);
    let (header, rows) = body.split_at(split);
    let columns: Vec<&str> = std::str::from_utf8(header)
        .unwrap_or("")
        .trim_end()
        .split(',')
        .collect();
    let at =
        |name: &str, default: usize| columns.iter().position(|c| *c == name).unwrap_or(default);
    let (outcome, text) = (
        at("outcome", 0),
        at("text", columns.len().saturating_sub(1)),
    );
    let mut out = header.to_vec();
    for f in failures {
        let mut cells = vec![String::new(); columns.len().max(1)];
        cells[outcome] = "input_error".to_string();
        cells[text] = report::csv::field(&f.to_string());
        out.extend_from_slice(cells.join(",").as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(rows);
    out
}
