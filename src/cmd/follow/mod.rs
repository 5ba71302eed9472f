//! `mailtrace follow`: follow live logs and raise [`crate::alert`]s as lines arrive.
//!
//! # Start-up: reading back
//!
//! So that the first alert already carries cPanel's numbers, each followed file is read
//! back from the start of the current clock hour ("now" in local time; `--now` or
//! `MAILTRACE_NOW` pins it), and `--baseline` hours before that, which only teach the
//! accounts' usual volumes (alerts of those hours are not shown). The place to start is
//! found by binary search over byte offsets, since log lines are in time order
//! ([`crate::parse::seek::offset_of_time`]). If the hour began before the file's first
//! line, the previous rotated file (`mail.log.1`, `exim_mainlog-YYYYMMDD`, `mainlog.1`,
//! compressed or not: [`crate::input::previous_rotated`]) is read back first: by binary
//! search when plain, by a linear scan when compressed. `--from-start` reads every followed
//! file from its beginning instead (and then shows the alerts of every hour). When several
//! files are followed, the lines read back are merged in time order ([`readback`]).
//!
//! Following then goes on with [`crate::input::tail::Follower`] from the end of the last
//! complete line read back, so no line is read twice or missed. A FIFO has nothing to read
//! back: its lines are read as writers write them, and after a writer closes, the next
//! writer is waited for. A queue ID silent for longer than `--max-age` hours is folded as
//! incomplete, as in `report`.
//!
//! What cannot be followed is refused at start with its path and the reason: standard input,
//! a folder, a device, a compressed file.
//!
//! # Output
//!
//! - stdout a terminal and `--format text`: the screen is redrawn (at most once a second)
//!   with the last 10 alerts above a table of the current hour's sender domains.
//! - `--format text` otherwise: one line per alert.
//! - `--format json`: one JSON object per alert (schema in [`crate::alert`]).
//! - `--format events`: no read-back and no alerts, but the event of every new line (every
//!   line with `--from-start`) as `mailtrace events` prints it ([`events`]).
//!
//! With `--metrics ADDR`, Prometheus metrics are served from a background thread
//! ([`metrics`]); the follow thread counts into them ([`crate::alert::metrics::Recorder`])
//! and copies the engine's current-hour figures into their gauges once a second.
//!
//! Notices of the follower (rotation, truncation) go to stderr as `mailtrace: {notice}`.
//! Ctrl-C prints the current hour's summary (the table; a `"type":"summary"` object in JSON:
//! see [`output::Summary`]) and ends with status 0, as does a closed stdout pipe.

mod events;
mod metrics;
mod output;
mod readback;

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::ops::ControlFlow;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{NaiveDateTime, Timelike};

use super::common;
use crate::alert::hook::Hook;
use crate::alert::metrics::{LineKind, Metrics, Recorder, WithMetrics};
use crate::alert::{AlertConfig, Caps, Engine};
use crate::classify::Classifier;
use crate::cli::{FollowArgs, FollowFormatArg};
use crate::correlate::Correlator;
use crate::error::{Error, Exit, Result};
use crate::input::tail::{FollowOptions, Follower, Notice, StartAt};
use crate::input::{self, Input};
use crate::model::event::{Mta, Timestamp};
use crate::model::hour::Hour;
use crate::parse::{LineParser, Parsed};
use crate::util::text::thousands;
use crate::util::timearg::{self, TimeArg};
use output::{Mode, Output};
use readback::{ReadBack, ReadBackOptions, Stream};

/// How long to wait at exit for queued alert commands.
const HOOK_GRACE: Duration = Duration::from_secs(5);

/// Runs `mailtrace follow` (Ctrl-C ends it with the summary, status 0).
pub(super) fn run(args: &FollowArgs) -> Result<Exit> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        if let Err(e) = ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed)) {
            common::warn(&format!("cannot catch Ctrl-C: {e}"));
        }
    }
    if args.metrics.is_some() && args.format == FollowFormatArg::Events {
        return Err(Error::usage(
            "--metrics counts what the alerts count: not with --format events",
        ));
    }
    if args.redact {
        common::apply_redaction_key(&args.redact_key)?;
    }
    let stdout = io::stdout();
    let mode = match args.format {
        FollowFormatArg::Json => Mode::Json,
        FollowFormatArg::Text if stdout.is_terminal() => Mode::Screen,
        FollowFormatArg::Text => Mode::Text,
        FollowFormatArg::Events => {
            let paths = followed_paths(common::resolve_inputs(&args.input)?)?;
            events::follow_events(args, &paths, &stop, &mut stdout.lock())?;
            return Ok(Exit::Ok);
        }
    };
    let mut out = stdout.lock();
    follow(args, mode, common::use_color(args.color), &stop, &mut out)?;
    Ok(Exit::Ok)
}

/// How the follower watches, from `--poll` and `--poll-interval`.
fn follow_options(args: &FollowArgs) -> FollowOptions {
    FollowOptions {
        poll: args.poll,
        poll_interval: Duration::from_millis(args.poll_interval.max(1)),
        recheck: Duration::from_secs(1),
        count_lines: false,
    }
}

/// Follows the logs named by `args` until `stop` is set, writing alerts to `out`.
fn follow(
    args: &FollowArgs,
    mode: Mode,
    color: bool,
    stop: &AtomicBool,
    out: &mut dyn Write,
) -> Result<()> {
    let paths = followed_paths(common::resolve_inputs(&args.input)?)?;
    let now = now_arg(args.now.as_deref())?;
    let hour_start = hour_floor(now);
    let start_hour = Hour::of(&Timestamp::new(hour_start, None));
    let classifier = Classifier::builtin();
    let cfg = alert_config(args);
    let caps = caps_from_env()?;
    let recorder = match args.metrics {
        Some(addr) => Some(start_metrics(args, addr, &cfg, &classifier, paths.len())?),
        None => None,
    };
    let out = Output::new(out, mode, color);
    let mut live = Live::new(args, cfg, caps, &classifier, start_hour, out, recorder);

    let read_from = if args.from_start {
        None
    } else {
        Some(hour_start - chrono::Duration::hours(args.baseline as i64))
    };
    let opts = ReadBackOptions {
        read_from,
        mta: live.mta,
        year: live.year,
    };
    let (starts, read) = read_back_all(&paths, &opts, &mut live)?;
    announce(&read, read_from, args.baseline);
    live.engine.set_replaying(false);
    follow_live(args, starts, stop, live)
}

/// Starts serving the metrics on `addr` and says where on stderr (always: with port 0 it
/// is the only way to learn the port).
fn start_metrics<'c>(
    args: &FollowArgs,
    addr: std::net::SocketAddr,
    cfg: &AlertConfig,
    classifier: &'c Classifier,
    files: usize,
) -> Result<Recorder<'c>> {
    let m = Arc::new(Metrics::new(cfg, env!("CARGO_PKG_VERSION")));
    m.set_files(files);
    let bound = metrics::serve(addr, Arc::clone(&m))?;
    common::warn(&format!("serving metrics on http://{bound}/metrics"));
    let max = usize::try_from(args.metrics_max_series).unwrap_or(usize::MAX);
    Ok(Recorder::new(m, classifier, max, args.redact))
}

/// The environment variable that sets the caps of the engine's state (for tests and
/// measurements: `domains=N,accounts=N,burst=N,generation=N,texts=N`, see
/// [`crate::alert::Caps`]).
const CAPS_ENV: &str = "MAILTRACE_FOLLOW_CAPS";

/// The caps of the engine's state: the defaults, or those of [`CAPS_ENV`].
fn caps_from_env() -> Result<Caps> {
    match std::env::var(CAPS_ENV) {
        Ok(v) => Caps::parse(&v).map_err(|e| Error::usage(format!("{CAPS_ENV}: {e}"))),
        Err(_) => Ok(Caps::default()),
    }
}

/// The alert thresholds from `args`.
fn alert_config(args: &FollowArgs) -> AlertConfig {
    AlertConfig {
        rule: common::limit_rule(&args.limit),
        warn_at: args.warn_at.clamp(1, 100),
        burst: args.burst,
        account_factor: args.account_factor.max(0.0),
        account_min: args.account_min,
        account_ips: args.account_ips,
        baseline_hours: args.baseline,
    }
}

/// The files to follow: every input named, each once. Regular files (or paths where one may
/// appear) and FIFOs can be followed; standard input, compressed files, folders and devices
/// cannot.
fn followed_paths(inputs: Vec<Input>) -> Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let Input::Path(p) = input else {
            return Err(Error::usage(
                "standard input cannot be followed: name a log file",
            ));
        };
        check_followable(&p)?;
        if !paths.contains(&p) {
            paths.push(p);
        }
    }
    Ok(paths)
}

/// Fails with a message naming `p` if it cannot be followed.
fn check_followable(p: &Path) -> Result<()> {
    let why = match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => "is a directory",
        Ok(m) if m.file_type().is_fifo() => return Ok(()),
        Ok(m) if !m.is_file() => "not a regular file or FIFO",
        Ok(_) if input::is_compressed(p) => {
            "a compressed file cannot be followed: name the live log"
        }
        // A file that does not exist yet is waited for (its folder must exist: the
        // follower says so when it does not).
        Ok(_) | Err(_) => return Ok(()),
    };
    Err(Error::usage(format!("{}: {why}", p.display())))
}

/// The time `--now` gives, or the local time.
fn now_arg(arg: Option<&str>) -> Result<NaiveDateTime> {
    let now = chrono::Local::now().naive_local();
    match arg.map(|s| timearg::parse(s, now)) {
        None => Ok(now),
        Some(Ok(TimeArg::At(t))) => Ok(t),
        Some(Ok(TimeArg::BeforeLogEnd(_))) => {
            Err(Error::usage("--now: give a time, not a duration"))
        }
        Some(Err(e)) => Err(Error::usage(format!("--now: {e}"))),
    }
}

/// The start of the clock hour of `t`.
fn hour_floor(t: NaiveDateTime) -> NaiveDateTime {
    t.date()
        .and_hms_opt(t.hour(), 0, 0)
        .expect("a valid hour of a valid date")
}

/// Reads back every followed file into `live` and keeps each file's parser for following.
/// Returns where the follower starts in each file, and what was read.
fn read_back_all(
    paths: &[PathBuf],
    opts: &ReadBackOptions,
    live: &mut Live<'_, '_>,
) -> Result<(Vec<(PathBuf, StartAt)>, ReadBack)> {
    let mut starts = Vec::with_capacity(paths.len());
    let mut streams = Vec::with_capacity(paths.len());
    let mut covers_start = false;
    for p in paths {
        if input::fifo::is_fifo(p) {
            // Nothing to read back: a FIFO holds only what is written from now on.
            starts.push((p.clone(), StartAt::End));
            continue;
        }
        let (stream, start, covered) = Stream::open(p, paths, opts)?;
        covers_start |= covered;
        starts.push((p.clone(), start));
        streams.push(stream);
    }
    if covers_start && let Some(t) = opts.read_from {
        live.engine
            .observed_from(Hour::of(&Timestamp::new(t, None)));
    }
    let read = readback::merge(&mut streams, |seg, text| {
        live.lines += 1;
        feed(
            &mut seg.parser,
            text,
            &mut live.correlator,
            &mut live.engine,
            live.recorder.as_mut(),
        );
        live.flush_alerts()
    })?;
    for s in streams {
        let parser = s
            .live_parser
            .unwrap_or_else(|| readback::parser_for(&s.path, opts.mta, opts.year));
        live.parsers.insert(s.path, parser);
    }
    Ok((starts, read))
}

/// Says on stderr what was read back.
fn announce(read: &ReadBack, read_from: Option<NaiveDateTime>, baseline: u64) {
    if read.lines == 0 {
        return;
    }
    let names: Vec<String> = read.files.iter().map(|p| p.display().to_string()).collect();
    let lines = match read.lines {
        1 => "1 line".to_string(),
        n => format!("{} lines", thousands(n)),
    };
    match read_from {
        None => common::warn(&format!(
            "read {lines} from the start of {}",
            names.join(", ")
        )),
        Some(t) => common::warn(&format!(
            "read back {lines} since {} ({}) from {}",
            t.format("%Y-%m-%d %H:%M"),
            match baseline {
                0 => "this hour".to_string(),
                1 => "this hour and the hour before".to_string(),
                n => format!("this hour and the {n} before"),
            },
            names.join(", ")
        )),
    }
}

/// Follows the files from `starts` until `stop` is set, then prints the summary.
fn follow_live(
    args: &FollowArgs,
    starts: Vec<(PathBuf, StartAt)>,
    stop: &AtomicBool,
    mut live: Live<'_, '_>,
) -> Result<()> {
    let mut follower = Follower::new(starts, follow_options(args))?;
    live.refresh_metrics();
    live.out.draw(&live.engine, live.lines)?;
    // The three callbacks share `live`; the first output error stops the follower.
    let cell = RefCell::new((live, None::<io::Error>));
    let keep = |res: io::Result<()>, err: &mut Option<io::Error>| match res {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => {
            *err = Some(e);
            ControlFlow::Break(())
        }
    };
    follower.run_with_tick(
        stop,
        |l| {
            let (live, err) = &mut *cell.borrow_mut();
            keep(live.line(l.path, l.text), err)
        },
        |notice| {
            let (live, _) = &mut *cell.borrow_mut();
            live.notice(&notice);
        },
        || {
            let (live, err) = &mut *cell.borrow_mut();
            live.refresh_metrics();
            keep(live.out.maybe_draw(&live.engine, live.lines, true), err)
        },
    )?;
    let (mut live, err) = cell.into_inner();
    if let Some(e) = err {
        return Err(e.into());
    }
    live.out.summary(&live.engine, live.lines)?;
    if let Some(folds) = live.engine.folds().describe() {
        common::warn(&format!("state capped to bound memory: {folds}"));
    }
    if let Some(hook) = live.hook.take()
        && !hook.finish(HOOK_GRACE)
    {
        common::warn("alert commands still running at exit were left behind");
    }
    Ok(())
}

/// Everything that happens to a line once read: parse, correlate, raise alerts, show them.
struct Live<'c, 'w> {
    engine: Engine<'c>,
    correlator: Correlator,
    /// The parser of each followed file (made after read-back).
    parsers: HashMap<PathBuf, LineParser>,
    /// `--mta` and `--year`, for the parser of a file that has none yet.
    mta: Option<Mta>,
    year: Option<i32>,
    out: Output<'w>,
    hook: Option<Hook>,
    /// Counts into the metrics served with `--metrics`.
    recorder: Option<Recorder<'c>>,
    start_hour: Hour,
    lines: u64,
}

impl<'c, 'w> Live<'c, 'w> {
    /// The alert engine set up with `cfg`, replaying (alerts before `start_hour` muted
    /// unless `--from-start`), and the alert command started.
    fn new(
        args: &FollowArgs,
        cfg: AlertConfig,
        caps: Caps,
        classifier: &'c Classifier,
        start_hour: Hour,
        out: Output<'w>,
        recorder: Option<Recorder<'c>>,
    ) -> Self {
        let mut engine = Engine::with_caps(cfg, classifier, caps);
        engine.set_quiet_before((!args.from_start).then_some(start_hour));
        engine.set_replaying(true);
        let hook = args.alert_command.clone().map(|cmd| {
            Hook::start(
                cmd,
                Duration::from_secs(args.alert_timeout.max(1)),
                |msg: String| common::warn(&msg),
            )
        });
        Live {
            engine,
            // The engine never reads the messages' error texts: only `trace` shows them.
            correlator: Correlator::new(args.max_age)
                .with_max_open(args.max_open)
                .without_texts(),
            parsers: HashMap::new(),
            mta: common::scan_options(&args.input).mta,
            year: args.input.year,
            out,
            hook,
            recorder,
            start_hour,
            lines: 0,
        }
    }

    /// A notice of the follower: shown, and a rotation counted.
    fn notice(&mut self, notice: &Notice) {
        if let Some(r) = &self.recorder
            && matches!(notice, Notice::Replaced(_) | Notice::Truncated(_))
        {
            r.rotation();
        }
        self.out.notice(&notice.to_string());
    }

    /// Brings the metrics' hourly gauges up to date.
    fn refresh_metrics(&mut self) {
        if let Some(r) = &mut self.recorder {
            r.refresh(&self.engine);
        }
    }

    /// A line of a followed file.
    fn line(&mut self, path: &Path, text: &str) -> io::Result<()> {
        if !self.parsers.contains_key(path) {
            let p = readback::parser_for(path, self.mta, self.year);
            self.parsers.insert(path.to_path_buf(), p);
        }
        let parser = self.parsers.get_mut(path).expect("inserted above");
        self.lines += 1;
        feed(
            parser,
            text,
            &mut self.correlator,
            &mut self.engine,
            self.recorder.as_mut(),
        );
        self.flush_alerts()?;
        self.out.maybe_draw(&self.engine, self.lines, false)
    }

    /// Shows the alerts raised so far and hands them to the alert command.
    fn flush_alerts(&mut self) -> io::Result<()> {
        for n in self.engine.take_notices() {
            self.out.notice(&n);
        }
        for a in self.engine.take_alerts() {
            self.out.alert(&a)?;
            // Alerts of past hours replayed with --from-start are history: shown, not run.
            if let Some(hook) = &mut self.hook
                && !(a.replayed && a.hour < self.start_hour)
            {
                hook.send(&a);
            }
        }
        Ok(())
    }
}

/// Parses one line and feeds its event, if any, to the correlator and the engine (and the
/// metrics' recorder, with `--metrics`).
fn feed<'c>(
    parser: &mut LineParser,
    text: &str,
    correlator: &mut Correlator,
    engine: &mut Engine<'c>,
    recorder: Option<&mut Recorder<'c>>,
) {
    let parsed = parser.parse(text);
    let Some(recorder) = recorder else {
        if let Parsed::Event(e) = parsed {
            correlator.feed(&e, engine);
        }
        return;
    };
    recorder.line(match &parsed {
        Parsed::Event(_) => LineKind::Event,
        Parsed::Unrecognised => LineKind::Unrecognised,
        Parsed::Malformed => LineKind::Malformed,
        Parsed::Foreign | Parsed::Ignored => LineKind::Other,
    });
    if let Parsed::Event(e) = parsed {
        correlator.feed(&e, &mut WithMetrics { engine, recorder });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_floor_truncates() {
        let nd = |s| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(
            hour_floor(nd("2026-11-26 10:59:59")),
            nd("2026-11-26 10:00:00")
        );
    }
}
