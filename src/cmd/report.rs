//! `mailtrace report` (also the default): read every input through the correlator into the
//! aggregates, build the report with its diagnosis, and render it.

use std::fs::File;
use std::io::{self, Write};
use std::ops::ControlFlow;

use super::common::{self, PerInput, Summaries};
use crate::aggregate::Aggregates;
use crate::classify::CachedClassifier;
use crate::cli::{FormatArg, InputArgs, ReportArgs};
use crate::correlate::{Correlator, Sink};
use crate::error::{Error, Exit, Result};
use crate::input::Input;
use crate::model::event::Event;
use crate::parse::scan::{At, FileStats};
use crate::report::{self, BuildOptions, Report};

/// Runs `mailtrace report`: status 2 if an input failed, else 1 if the report found
/// problems, else 0.
pub(super) fn run(args: &ReportArgs) -> Result<Exit> {
    let inputs = common::resolve_inputs(&args.input)?;
    let filter = common::build_filter(&args.filter, &inputs, &args.input)?;
    let classifier = common::load_classifier(args)?;
    let rule = common::limit_rule(&args.limit);
    let mut agg = Aggregates::new(rule, filter, CachedClassifier::new(&classifier));
    let (stats, read) = analyse(&inputs, &args.input, args.max_age, &mut agg)?;
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
            limit_given: args.limit.limit_min.is_some() || args.limit.limit_percent.is_some(),
        },
    );
    if let Some(path) = &args.suppression_list {
        let file = File::create(path).map_err(|source| Error::Output {
            path: path.clone(),
            source,
        })?;
        let mut f = io::BufWriter::new(file);
        report::csv::render_suppression(&report, &mut f)?;
        f.flush()?;
    }
    let problems = report.has_problems();
    if problems || !args.quiet {
        let stdout = io::stdout();
        let mut out = io::BufWriter::new(stdout.lock());
        render(
            &report,
            args.format,
            common::use_color(args.color),
            &mut out,
        )?;
        out.flush()?;
    }
    // Dropping millions of small allocations one by one takes a noticeable share of the run;
    // the process is about to exit, so let the OS reclaim them.
    std::mem::forget(report);
    std::mem::forget(agg);
    Ok(read.merge(Exit::of(false, problems)))
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
/// Returns the per-file statistics and the status of reading.
fn analyse(
    inputs: &[Input],
    input_args: &InputArgs,
    max_age_hours: u64,
    agg: &mut Aggregates<'_>,
) -> Result<(Vec<FileStats>, Exit)> {
    crate::aggregate::threaded::run(agg, |sink| {
        let mut correlator = Correlator::new(max_age_hours).without_texts();
        let mut per_input = Correlate {
            correlator: &mut correlator,
            sink,
        };
        let out = common::read_inputs(
            inputs,
            input_args,
            Summaries::VerboseOrError,
            &mut per_input,
        );
        if input_args.verbose {
            common::warn(&format!(
                "{} queue IDs still open at the end, {} folded after --max-age",
                correlator.open_messages(),
                correlator.folded_stale
            ));
        }
        correlator.finish(sink);
        out
    })
}

/// Writes the report in `format`.
fn render(report: &Report, format: FormatArg, color: bool, out: &mut dyn Write) -> io::Result<()> {
    match format {
        FormatArg::Text => {
            report::doc::render_text(&report::doc::document(report), out, color, 100)
        }
        FormatArg::Markdown => report::doc::render_markdown(&report::doc::document(report), out),
        FormatArg::Json => report::json::render(report, out),
        FormatArg::Csv => report::csv::render(report, out),
    }
}
