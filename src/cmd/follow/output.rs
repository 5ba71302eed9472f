//! Where `follow` shows its alerts: a redrawn screen on a terminal, text lines, or NDJSON,
//! and the summary at exit.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::common;
use crate::alert::{Alert, DomainRow, Engine, screen};
use crate::model::event::Timestamp;
use crate::model::hour::Hour;
use crate::util::sanitize;

/// Alerts kept on screen.
const RECENT: usize = 10;

/// Sender domains shown in the live table.
const TABLE_ROWS: usize = 15;

/// Width of the summary table when stdout is not a terminal.
const PLAIN_WIDTH: u16 = 100;

/// Most sender domains in the text summary at exit (the JSON summary lists them all): a
/// table of 20,000 rows would take some 40 MiB to lay out.
const SUMMARY_ROWS: usize = 1_000;

/// How the alerts are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// A redrawn screen (stdout is a terminal).
    Screen,
    /// One text line per alert.
    Text,
    /// One JSON object per alert.
    Json,
}
/// The Ctrl-C summary in JSON: `{"type":"summary","v":1,"hour":"2026-11-26T10",
/// "last_time":…,"lines":N,"alerts":N,"limit_min":5,"limit_percent":null,"domains":[…]}`,
/// where each domain has `domain`, `delivered`, `deferred`, `bounced`, `defer_fail`,
/// `percent`, `to_limit`, `state` (`blocked`, `tripped`, `warning` or `ok`), `since` (when
/// it reached that state, or `null`) and `refusals` (cPanel refusal lines this hour).
#[derive(Debug, Serialize)]
pub(super) struct Summary<'a> {
    #[serde(rename = "type")]
    record: &'static str,
    v: u32,
    hour: Option<Hour>,
    last_time: Option<Timestamp>,
    lines: u64,
    alerts: u64,
    limit_min: u64,
    limit_percent: Option<u64>,
    domains: &'a [DomainRow],
}

/// Where alerts go.
pub(super) struct Output<'w> {
    w: &'w mut dyn Write,
    mode: Mode,
    color: bool,
    recent: VecDeque<String>,
    dirty: bool,
    last_draw: Option<Instant>,
}

impl<'w> Output<'w> {
    pub(super) fn new(w: &'w mut dyn Write, mode: Mode, color: bool) -> Self {
        Output {
            w,
            mode,
            color,
            recent: VecDeque::with_capacity(RECENT + 1),
            dirty: true,
            last_draw: None,
        }
    }

    fn remember(&mut self, line: String) {
        self.recent.push_back(line);
        while self.recent.len() > RECENT {
            self.recent.pop_front();
        }
        self.dirty = true;
    }

    pub(super) fn alert(&mut self, a: &Alert) -> io::Result<()> {
        match self.mode {
            Mode::Json => {
                sanitize::write_json_line(self.w, a)?;
                self.w.flush()
            }
            Mode::Text => {
                writeln!(self.w, "{}", screen::alert_line(a, self.color))?;
                self.w.flush()
            }
            Mode::Screen => {
                let line = screen::alert_line(a, self.color);
                self.remember(line);
                Ok(())
            }
        }
    }

    /// A notice of the follower: on stderr, and on the screen among the alerts.
    pub(super) fn notice(&mut self, msg: &str) {
        common::warn(msg);
        if self.mode == Mode::Screen {
            self.remember(common::diagnostic(msg));
        }
    }

    /// Redraws the screen (terminal only).
    pub(super) fn draw(&mut self, engine: &Engine<'_>, lines: u64) -> io::Result<()> {
        if self.mode != Mode::Screen {
            return Ok(());
        }
        let header = screen::header(
            engine.hour(),
            lines,
            engine.last_time(),
            engine.config(),
            self.color,
        );
        let recent: Vec<String> = self.recent.iter().cloned().collect();
        let table = screen::table(&engine.domain_rows(), TABLE_ROWS, None);
        self.w
            .write_all(screen::frame(&header, &recent, &table).as_bytes())?;
        self.w.flush()?;
        self.dirty = false;
        self.last_draw = Some(Instant::now());
        Ok(())
    }

    /// Redraws if something changed and the last redraw is a second old (or `tick`: the
    /// follower's once-a-second tick).
    pub(super) fn maybe_draw(
        &mut self,
        engine: &Engine<'_>,
        lines: u64,
        tick: bool,
    ) -> io::Result<()> {
        let due = tick
            || self
                .last_draw
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if self.mode == Mode::Screen && self.dirty && due {
            self.draw(engine, lines)?;
        }
        Ok(())
    }

    /// The summary at exit.
    pub(super) fn summary(&mut self, engine: &Engine<'_>, lines: u64) -> io::Result<()> {
        match self.mode {
            Mode::Screen => {
                self.dirty = true;
                self.draw(engine, lines)
            }
            Mode::Text => {
                let header = screen::header(
                    engine.hour(),
                    lines,
                    engine.last_time(),
                    engine.config(),
                    self.color,
                );
                let table = screen::table(&engine.domain_rows(), SUMMARY_ROWS, Some(PLAIN_WIDTH));
                writeln!(self.w, "\n{header}\n\n{table}")?;
                self.w.flush()
            }
            Mode::Json => {
                let rows = engine.domain_rows();
                let cfg = engine.config();
                let s = Summary {
                    record: "summary",
                    v: crate::alert::ALERT_SCHEMA_VERSION,
                    hour: engine.hour(),
                    last_time: engine.last_time(),
                    lines,
                    alerts: engine.raised,
                    limit_min: cfg.rule.min,
                    limit_percent: cfg.rule.percent,
                    domains: &rows,
                };
                sanitize::write_json_line(self.w, &s)?;
                self.w.flush()
            }
        }
    }
}
