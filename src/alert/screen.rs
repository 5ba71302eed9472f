//! What `mailtrace follow` shows: alert lines (coloured or not), and the table of the
//! current hour's sender domains, redrawn on a terminal and printed once as the Ctrl-C
//! summary. Everything from the log passes through [`clean`].

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};

use super::{Alert, AlertConfig, AlertKind, DomainRow};
use crate::model::event::Timestamp;
use crate::model::hour::Hour;
use crate::util::sanitize::clean;
use crate::util::text::thousands;

/// Moves the cursor home and clears the screen.
pub(crate) const CLEAR: &str = "\x1b[H\x1b[2J";

const RESET: &str = "\x1b[0m";

fn kind_color(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::Warning => "\x1b[33m",
        AlertKind::Tripped | AlertKind::Blocked => "\x1b[1;31m",
        AlertKind::VolumeJump | AlertKind::LoginIps => "\x1b[35m",
        AlertKind::Burst => "\x1b[36m",
    }
}

/// An alert as one line for a terminal or a plain text stream, safe to print.
pub(crate) fn alert_line(a: &Alert, color: bool) -> String {
    let label = format!("{:<7}", a.kind.label());
    let label = if color {
        format!("{}{label}{RESET}", kind_color(a.kind))
    } else {
        label
    };
    format!(
        "{} {label} {}",
        a.time.local.format("%Y-%m-%d %H:%M:%S"),
        clean(&a.text)
    )
}

/// The lines above the table: the hour, how much was read, and the thresholds.
pub fn header(
    hour: Option<Hour>,
    lines: u64,
    last: Option<Timestamp>,
    cfg: &AlertConfig,
    color: bool,
) -> String {
    let hour = match hour {
        Some(h) => format!("hour {} (log time)", h.display()),
        None => "no mail lines yet".to_string(),
    };
    let last = match last {
        Some(t) => format!(", last line {}", t.local.format("%H:%M:%S")),
        None => String::new(),
    };
    let title = format!(
        "mailtrace follow: {hour}, {} lines read{last}",
        thousands(lines)
    );
    let title = if color {
        format!("\x1b[1m{title}{RESET}")
    } else {
        title
    };
    let percent = match cfg.rule.percent {
        Some(p) => format!("{p}%"),
        None => "100% (percentage limit off: shown at 100%)".to_string(),
    };
    format!(
        "{title}\nLimit per sender domain and hour: {} defers+fails and {percent}; warning at {} and {}%.",
        cfg.rule.min,
        cfg.warn_defer_fail(),
        cfg.warn_percent()
    )
}

/// The table of sender domains this hour (at most `max_rows`; 0 = all), `width` columns wide
/// (`None`: the terminal's width).
pub fn table(rows: &[DomainRow], max_rows: usize, width: Option<u16>) -> String {
    if rows.is_empty() {
        return "No mail from local sender domains this hour yet.".to_string();
    }
    let mut t = Table::new();
    t.load_preset(presets::ASCII_BORDERS_ONLY_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header([
            "Sender domain",
            "Delivered",
            "Deferred",
            "Failed",
            "Defer+fail",
            "%",
            "To limit",
            "State",
        ]);
    if let Some(w) = width {
        t.set_width(w);
    }
    let shown = if max_rows == 0 {
        rows.len()
    } else {
        rows.len().min(max_rows)
    };
    for r in &rows[..shown] {
        let to_limit = match r.to_limit {
            Some(0) => "reached".to_string(),
            Some(n) => n.to_string(),
            None => "-".to_string(),
        };
        let state = match r.since {
            Some(t) => format!("{} {}", r.state, t.local.format("%H:%M:%S")),
            None => String::new(),
        };
        t.add_row([
            clean(&r.domain).into_owned(),
            thousands(r.delivered),
            thousands(r.deferred),
            thousands(r.bounced),
            thousands(r.defer_fail),
            format!("{:.0}", r.percent),
            to_limit,
            state,
        ]);
    }
    for i in 1..=6 {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut out = t.to_string();
    if shown < rows.len() {
        out.push_str(&format!(
            "\n… and {} more sender domains",
            rows.len() - shown
        ));
    }
    out
}

/// A whole screen: clear, header, the recent alerts, the table.
pub(crate) fn frame(header: &str, recent: &[String], table: &str) -> String {
    let mut s = String::with_capacity(4096);
    s.push_str(CLEAR);
    s.push_str(header);
    s.push_str("\n\n");
    if recent.is_empty() {
        s.push_str("No alerts yet.\n");
    } else {
        for line in recent {
            s.push_str(line);
            s.push('\n');
        }
    }
    s.push('\n');
    s.push_str(table);
    s.push('\n');
    s
}
