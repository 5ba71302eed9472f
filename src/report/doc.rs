//! The text and Markdown reports. Both are rendered from one document model built from
//! the [`Report`], so the two never disagree: headings, paragraphs, tables and lists.
//! Every string passes through [`sanitize::clean`] on the way out.

use std::io::{self, Write};

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};

use super::{LimitSource, Report};
use crate::model::event::LimitKind;
use crate::model::outcome::OutcomeKind;
use crate::util::sanitize::clean;
use crate::util::text::{pct, shorten, thousands};

/// One block of the report.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Title(String),
    Heading(String),
    SubHeading(String),
    Para(String),
    /// Key/value lines ("Files read: …").
    Fields(Vec<(String, String)>),
    Table {
        headers: Vec<String>,
        /// Columns aligned right (numbers).
        right: Vec<bool>,
        rows: Vec<Vec<String>>,
        /// A column whose cells are shortened (with an ellipsis) so the table fits the
        /// width in text output; Markdown keeps them whole.
        flex: Option<usize>,
    },
    Numbered(Vec<String>),
}

fn time_short(t: &crate::model::event::Timestamp) -> String {
    t.local.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Builds the document.
pub fn document(r: &Report) -> Vec<Block> {
    let top = r.settings.top;
    let lim = |n: usize| if top == 0 { n } else { n.min(top) };
    let mut d = Vec::new();
    d.push(Block::Title(
        "mailtrace: tracing deliveries and failures".into(),
    ));

    // 1. Header.
    let files: Vec<String> = r
        .files
        .iter()
        .map(|f| {
            let mta = f.mta.map(|m| m.as_str()).unwrap_or("unknown format");
            let mut s = format!("{} ({mta}, {} lines", f.name, thousands(f.lines));
            if f.unrecognised > 0 {
                s.push_str(&format!(", {} unrecognised", thousands(f.unrecognised)));
            }
            if let Some(e) = &f.error {
                s.push_str(&format!(", read error: {e}"));
            }
            s.push(')');
            s
        })
        .collect();
    let period = match (&r.period.first, &r.period.last) {
        (Some(a), Some(b)) => format!("{} to {}", time_short(a), time_short(b)),
        _ => "no deliveries, deferrals or failures found".into(),
    };
    let mut fields = vec![
        ("Files read".to_string(), files.join("; ")),
        ("Period".to_string(), period),
        (
            "Lines read".to_string(),
            format!(
                "{} ({} unrecognised{})",
                thousands(r.lines),
                thousands(r.unrecognised_lines),
                if r.malformed_lines > 0 {
                    format!(", {} not log lines", thousands(r.malformed_lines))
                } else {
                    String::new()
                }
            ),
        ),
    ];
    if r.settings.redacted {
        fields.push((
            "Addresses".into(),
            "redacted (local parts replaced by a stable hash)".into(),
        ));
    }
    d.push(Block::Fields(fields));

    // 2. Summary.
    d.push(Block::Heading("Summary".into()));
    let t = &r.totals;
    let attempts = t.delivered + t.deferred + t.bounced + t.rejected + t.expired;
    let mut rows = vec![
        vec!["Messages".into(), thousands(t.messages), String::new()],
        vec!["Recipients".into(), thousands(t.recipients), String::new()],
    ];
    for (name, n) in [
        ("Delivered", t.delivered),
        ("Deferred", t.deferred),
        ("Bounced", t.bounced),
        ("Rejected", t.rejected),
        ("Expired", t.expired),
    ] {
        rows.push(vec![name.into(), thousands(n), pct(n, attempts)]);
    }
    d.push(Block::Table {
        headers: vec!["".into(), "Count".into(), "Share".into()],
        right: vec![false, true, true],
        rows,
        flex: None,
    });
    let mut notes = Vec::new();
    if t.bounce_messages > 0 {
        notes.push(format!(
            "{} of the messages are bounces or other reports from the null sender.",
            thousands(t.bounce_messages)
        ));
    }
    if t.incomplete_messages > 0 {
        notes.push(format!(
            "{} message(s) were still queued at the end of the log or started before it.",
            thousands(t.incomplete_messages)
        ));
    }
    if t.auth_failures > 0 {
        notes.push(format!(
            "{} failed SMTP logins.",
            thousands(t.auth_failures)
        ));
    }
    if !notes.is_empty() {
        d.push(Block::Para(notes.join(" ")));
    }

    // 3. Sending limits.
    d.push(Block::Heading("Sending limits".into()));
    let wanted = r.settings.limit_percent.unwrap_or(100);
    let shown: Vec<_> = r
        .limits
        .iter()
        .filter(|l| {
            l.source == LimitSource::Log
                || l.threshold_percent == Some(wanted)
                || l.tripped_at.is_none()
        })
        .collect();
    let rule = match r.settings.limit_percent {
        Some(p) => format!(
            "{} deferred or failed and {p}% of the hour's mail",
            r.settings.limit_min
        ),
        None => format!(
            "{} deferred or failed; the percentage is off, as on cPanel by default, so the replay shows where 100%, 50% and 25% would trip",
            r.settings.limit_min
        ),
    };
    if shown.is_empty() {
        d.push(Block::Para(format!(
            "No sender domain tripped or came within 80% of the limit (rule: {rule})."
        )));
    } else {
        d.push(Block::Para(format!("Rule: {rule}.")));
        let rows = shown
            .iter()
            .take(lim(shown.len()))
            .map(|l| {
                let source = match (l.source, l.kind) {
                    (LimitSource::Log, LimitKind::DeferFail) => "log".to_string(),
                    (LimitSource::Log, LimitKind::EmailsPerHour) => "log: per hour".to_string(),
                    (LimitSource::Log, LimitKind::Other) => "log: other".to_string(),
                    (LimitSource::Replay, _) if l.tripped_at.is_some() => {
                        format!("replay {}%", l.threshold_percent.unwrap_or(0))
                    }
                    (LimitSource::Replay, _) => format!("near ({:.0}%)", l.closeness * 100.0),
                };
                let figures = match (l.count, l.max, l.percent) {
                    (Some(c), Some(m), Some(p)) => format!("{c}/{m} ({p:.0}%)"),
                    (Some(c), _, _) => c.to_string(),
                    _ => "-".into(),
                };
                vec![
                    l.domain.clone(),
                    l.hour.display(),
                    source,
                    l.tripped_at
                        .map(|t| t.local.format("%H:%M:%S").to_string())
                        .unwrap_or_else(|| "-".into()),
                    figures,
                    format!(
                        "{}/{}/{}",
                        l.counts.delivered, l.counts.deferred, l.counts.bounced
                    ),
                    if l.tripped_at.is_some() {
                        thousands(l.discarded)
                    } else {
                        "-".into()
                    },
                ]
            })
            .collect();
        d.push(Block::Table {
            headers: vec![
                "Domain".into(),
                "Hour".into(),
                "Source".into(),
                "Tripped".into(),
                "Figures".into(),
                "Dlv/Def/Bnc".into(),
                "Discarded".into(),
            ],
            right: vec![false, false, false, false, true, true, true],
            rows,
            flex: Some(0),
        });
    }

    // 4. Failing senders.
    d.push(Block::Heading("Failing senders".into()));
    if r.failing_senders.is_empty() {
        d.push(Block::Para(
            "No sender had deferred, failed or rejected mail.".into(),
        ));
    } else {
        let rows = r
            .failing_senders
            .iter()
            .take(lim(r.failing_senders.len()))
            .map(|s| {
                vec![
                    if s.kind == "account" {
                        "account"
                    } else {
                        "domain"
                    }
                    .into(),
                    s.name.clone(),
                    thousands(s.counts.delivered),
                    thousands(s.counts.deferred),
                    thousands(s.counts.bounced),
                    thousands(s.counts.rejected),
                    format!("{:.1}%", s.defer_fail_percent),
                    s.worst_hour
                        .map(|h| format!("{} ({})", h.short(), s.worst_hour_defer_fail))
                        .unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        d.push(Block::Table {
            headers: vec![
                "Kind".into(),
                "Sender".into(),
                "Delivered".into(),
                "Deferred".into(),
                "Bounced".into(),
                "Rejected".into(),
                "Rate".into(),
                "Worst hour".into(),
            ],
            right: vec![false, false, true, true, true, true, true, false],
            rows,
            flex: Some(1),
        });
    }

    // 5. Offending recipients, grouped by sender.
    d.push(Block::Heading("Offending recipients".into()));
    if r.failed_recipients.is_empty() {
        d.push(Block::Para("No recipient is failing.".into()));
    } else {
        let mut index: std::collections::HashMap<Option<&str>, usize> = Default::default();
        let mut groups: Vec<(Option<&str>, Vec<&super::FailedRecipient>)> = Vec::new();
        for f in &r.failed_recipients {
            let key = f.sender.as_deref();
            let i = *index.entry(key).or_insert_with(|| {
                groups.push((key, Vec::new()));
                groups.len() - 1
            });
            groups[i].1.push(f);
        }
        groups.sort_by(|a, b| {
            let sa: u64 = a.1.iter().map(|f| f.attempts).sum();
            let sb: u64 = b.1.iter().map(|f| f.attempts).sum();
            b.1.len()
                .cmp(&a.1.len())
                .then(sb.cmp(&sa))
                .then(a.0.cmp(&b.0))
        });
        let ngroups = groups.len();
        for (sender, list) in groups.iter().take(lim(ngroups)) {
            let name = match sender {
                Some("") => "<> (bounces and reports)".to_string(),
                Some(s) => s.to_string(),
                None => "an unknown sender (message arrived before the log starts)".into(),
            };
            let accounts: std::collections::BTreeSet<&str> =
                list.iter().filter_map(|f| f.account.as_deref()).collect();
            let acct = if accounts.is_empty()
                || (accounts.len() == 1 && Some(*accounts.iter().next().unwrap()) == *sender)
            {
                String::new()
            } else {
                format!(
                    " (account {})",
                    accounts.into_iter().collect::<Vec<_>>().join(", ")
                )
            };
            d.push(Block::SubHeading(format!(
                "From {name}{acct}: {} failing recipient(s)",
                list.len()
            )));
            let rows = list
                .iter()
                .take(lim(list.len()))
                .map(|f| {
                    vec![
                        f.recipient.clone(),
                        f.outcome.as_str().into(),
                        f.attempts.to_string(),
                        match (&f.code, &f.status) {
                            (Some(c), Some(s)) => format!("{c} {s}"),
                            (Some(c), None) => c.to_string(),
                            (None, Some(s)) => s.clone(),
                            _ => "-".into(),
                        },
                        f.cause.as_str().into(),
                        shorten(
                            crate::util::text::reply_part(f.text.as_deref().unwrap_or("-")),
                            160,
                        ),
                    ]
                })
                .collect();
            d.push(Block::Table {
                headers: vec![
                    "Recipient".into(),
                    "Outcome".into(),
                    "Tries".into(),
                    "Code".into(),
                    "Cause".into(),
                    "Last error".into(),
                ],
                right: vec![false, false, true, false, false, false],
                rows,
                flex: Some(5),
            });
            if top > 0 && list.len() > top {
                d.push(Block::Para(format!(
                    "… and {} more (use --top 0 to list all).",
                    list.len() - top
                )));
            }
        }
        if r.failed_recipients_unlisted_lines > 0 {
            d.push(Block::Para(format!(
                "{} more deferral, failure or rejection line(s) of further recipients are in \
                 the totals but not listed: the list stops at {} recipients to bound memory.",
                thousands(r.failed_recipients_unlisted_lines),
                thousands(crate::aggregate::MAX_FAILING_RECIPIENTS as u64)
            )));
        }
        if top > 0 && ngroups > top {
            d.push(Block::Para(format!(
                "… and {} more sender(s) with failing recipients (use --top 0 to list all).",
                ngroups - top
            )));
        }
    }

    // 6. Recipient domains.
    d.push(Block::Heading("Recipient domains with problems".into()));
    if r.recipient_domains.is_empty() {
        d.push(Block::Para(
            "No destination domain deferred or refused mail.".into(),
        ));
    } else {
        let rows = r
            .recipient_domains
            .iter()
            .map(|x| {
                vec![
                    x.domain.clone(),
                    thousands(x.counts.delivered),
                    thousands(x.counts.deferred),
                    thousands(x.counts.bounced),
                    thousands(x.counts.rejected + x.counts.expired),
                    x.top_cause.map(|c| c.as_str()).unwrap_or("-").into(),
                    if x.hosts.is_empty() {
                        "-".into()
                    } else {
                        x.hosts
                            .iter()
                            .map(|(h, n)| format!("{h} ({n})"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                ]
            })
            .collect();
        d.push(Block::Table {
            headers: vec![
                "Domain".into(),
                "Delivered".into(),
                "Deferred".into(),
                "Bounced".into(),
                "Rej/Exp".into(),
                "Cause".into(),
                "MX hosts".into(),
            ],
            right: vec![false, true, true, true, true, false, false],
            rows,
            flex: Some(6),
        });
    }

    // 7. Likely causes.
    d.push(Block::Heading("Likely causes".into()));
    if r.diagnoses.is_empty() {
        d.push(Block::Para(
            "No sender shows the pattern of a compromised account, unsolicited mail, a stale \
             list, a blocklisting, recipient blocking or remote server trouble."
                .into(),
        ));
    } else {
        for g in &r.diagnoses {
            d.push(Block::SubHeading(format!(
                "{} ({}): {} (confidence {:.0}%)",
                g.subject,
                g.subject_kind.as_str().replace('_', " "),
                super::advice::verdict_words(g.verdict),
                g.confidence * 100.0
            )));
            d.push(Block::Numbered(g.evidence.clone()));
            d.push(Block::Para(format!("Advice: {}", g.advice)));
        }
    }
    if !r.causes.is_empty() {
        let total: u64 = r.causes.iter().map(|c| c.count).sum();
        let parts: Vec<String> = r
            .causes
            .iter()
            .take(lim(r.causes.len()))
            .map(|c| {
                format!(
                    "{} {} ({})",
                    c.cause.as_str(),
                    thousands(c.count),
                    pct(c.count, total)
                )
            })
            .collect();
        d.push(Block::Para(format!(
            "Deferrals, failures and rejections by cause: {}.",
            parts.join(", ")
        )));
    }

    // 8. Next steps.
    d.push(Block::Heading("What to do next".into()));
    if r.next_steps.is_empty() {
        d.push(Block::Para("Nothing needs doing.".into()));
    } else {
        d.push(Block::Numbered(r.next_steps.clone()));
    }
    let _ = OutcomeKind::ALL;
    d
}

/// ANSI styling used on a terminal.
struct Style {
    on: bool,
}

impl Style {
    fn bold(&self, s: &str) -> String {
        if self.on {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// Renders plain text (comfy-table tables), at most `width` columns wide.
pub fn render_text(blocks: &[Block], w: &mut dyn Write, color: bool, width: u16) -> io::Result<()> {
    let style = Style { on: color };
    for b in blocks {
        match b {
            Block::Title(t) => {
                writeln!(w, "{}", style.bold(&clean(t)))?;
                writeln!(w)?;
            }
            Block::Heading(h) => {
                writeln!(w)?;
                writeln!(w, "{}", style.bold(&clean(h)))?;
                writeln!(w, "{}", "=".repeat(h.chars().count()))?;
            }
            Block::SubHeading(h) => {
                writeln!(w)?;
                for line in wrap(&clean(h), width as usize) {
                    writeln!(w, "{line}")?;
                }
            }
            Block::Para(p) => {
                for line in wrap(&clean(p), width as usize) {
                    writeln!(w, "{line}")?;
                }
            }
            Block::Fields(fs) => {
                let kw = fs.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
                for (k, v) in fs {
                    let lines = wrap(&clean(v), (width as usize).saturating_sub(kw + 3).max(20));
                    for (i, line) in lines.iter().enumerate() {
                        if i == 0 {
                            writeln!(w, "{:<kw$}  {line}", format!("{k}:"), kw = kw + 1)?;
                        } else {
                            writeln!(w, "{:<kw$}  {line}", "", kw = kw + 1)?;
                        }
                    }
                }
            }
            Block::Table {
                headers,
                right,
                rows,
                flex,
            } => {
                let rows = fit_flex(headers, rows, *flex, width as usize);
                let mut t = Table::new();
                t.load_preset(presets::ASCII_BORDERS_ONLY_CONDENSED)
                    .set_content_arrangement(ContentArrangement::Disabled)
                    .set_width(width)
                    .set_header(headers.iter().map(|h| clean(h).into_owned()));
                for row in &rows {
                    t.add_row(row.iter().map(|c| clean(c).into_owned()));
                }
                for (i, r) in right.iter().enumerate() {
                    if *r && let Some(col) = t.column_mut(i) {
                        col.set_cell_alignment(CellAlignment::Right);
                    }
                }
                writeln!(w, "{t}")?;
            }
            Block::Numbered(items) => {
                for (i, it) in items.iter().enumerate() {
                    let prefix = format!("{:>2}. ", i + 1);
                    for (j, line) in wrap(&clean(it), (width as usize).saturating_sub(4))
                        .iter()
                        .enumerate()
                    {
                        if j == 0 {
                            writeln!(w, "{prefix}{line}")?;
                        } else {
                            writeln!(w, "    {line}")?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Shortens the flex column so that a table with ASCII borders fits `width`.
fn fit_flex(
    headers: &[String],
    rows: &[Vec<String>],
    flex: Option<usize>,
    width: usize,
) -> Vec<Vec<String>> {
    // No cell may take more than this, so hostile or huge values cannot blow the width.
    const CELL_MAX: usize = 40;
    let ncol = headers.len();
    let mut rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, c)| {
                    let c = clean(c).into_owned();
                    if Some(i) == flex {
                        c
                    } else {
                        shorten(&c, CELL_MAX)
                    }
                })
                .collect()
        })
        .collect();
    let Some(f) = flex else {
        return rows;
    };
    let col_width = |rows: &[Vec<String>], i: usize| {
        rows.iter()
            .map(|r| r.get(i).map(|c| c.chars().count()).unwrap_or(0))
            .chain(std::iter::once(headers[i].chars().count()))
            .max()
            .unwrap_or(0)
    };
    // Each column has one space of padding on each side and a one-space separator, and the
    // table a border on each side.
    let others: usize = (0..ncol)
        .filter(|i| *i != f)
        .map(|i| col_width(&rows, i))
        .sum();
    // The flex column should keep at least this much; take it from the widest other column
    // (down to 16 characters) when the others leave too little.
    const FLEX_MIN: usize = 20;
    let fixed = 3 * ncol + 2;
    let deficit = (others + fixed + FLEX_MIN).saturating_sub(width);
    if deficit > 0
        && let Some(widest) = (0..ncol)
            .filter(|i| *i != f)
            .max_by_key(|i| col_width(&rows, *i))
    {
        let cap = col_width(&rows, widest).saturating_sub(deficit).max(16);
        for r in &mut rows {
            if let Some(c) = r.get_mut(widest) {
                *c = shorten(c, cap);
            }
        }
    }
    let others: usize = (0..ncol)
        .filter(|i| *i != f)
        .map(|i| col_width(&rows, i))
        .sum();
    let room = width
        .saturating_sub(others + fixed)
        .max(headers[f].chars().count())
        .max(6);
    for r in &mut rows {
        if let Some(c) = r.get_mut(f) {
            *c = shorten(c, room);
        }
    }
    rows
}

/// Word-wraps a paragraph.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    let width = width.max(1);
    // A word longer than the width (a hostile address) is cut into pieces.
    let words = s.split(' ').flat_map(|w| {
        let chars: Vec<char> = w.chars().collect();
        if chars.len() <= width {
            vec![w.to_string()]
        } else {
            chars.chunks(width).map(|c| c.iter().collect()).collect()
        }
    });
    for word in words {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

fn md_cell(s: &str) -> String {
    clean(s)
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
}

fn md_text(s: &str) -> String {
    // Keep addresses and angle brackets from turning into HTML or links.
    clean(s).replace('<', "&lt;").replace('>', "&gt;")
}

/// Renders GitHub-flavoured Markdown that pastes cleanly into a ticket or chat.
pub fn render_markdown(blocks: &[Block], w: &mut dyn Write) -> io::Result<()> {
    for b in blocks {
        match b {
            Block::Title(t) => writeln!(w, "# {}\n", md_text(t))?,
            Block::Heading(h) => writeln!(w, "\n## {}\n", md_text(h))?,
            Block::SubHeading(h) => writeln!(w, "\n**{}**\n", md_text(h))?,
            Block::Para(p) => writeln!(w, "{}\n", md_text(p))?,
            Block::Fields(fs) => {
                for (k, v) in fs {
                    writeln!(w, "- **{}:** {}", md_text(k), md_text(v))?;
                }
                writeln!(w)?;
            }
            Block::Table {
                headers,
                right,
                rows,
                ..
            } => {
                writeln!(
                    w,
                    "| {} |",
                    headers
                        .iter()
                        .map(|h| md_cell(h))
                        .collect::<Vec<_>>()
                        .join(" | ")
                )?;
                writeln!(
                    w,
                    "|{}|",
                    right
                        .iter()
                        .map(|r| if *r { "---:" } else { "---" })
                        .collect::<Vec<_>>()
                        .join("|")
                )?;
                for row in rows {
                    writeln!(
                        w,
                        "| {} |",
                        row.iter()
                            .map(|c| {
                                let c = md_cell(c);
                                if c.contains('@') || c.contains('<') {
                                    format!("`{}`", c.replace('`', "'"))
                                } else {
                                    c
                                }
                            })
                            .collect::<Vec<_>>()
                            .join(" | ")
                    )?;
                }
                writeln!(w)?;
            }
            Block::Numbered(items) => {
                for (i, it) in items.iter().enumerate() {
                    writeln!(w, "{}. {}", i + 1, md_text(it))?;
                }
                writeln!(w)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("", 5), vec![""]);
        assert_eq!(wrap("abcdefghij x", 4), vec!["abcd", "efgh", "ij x"]);
    }

    #[test]
    fn markdown_cells_escape_pipes_and_controls() {
        assert_eq!(md_cell("a|b\x1b[1m"), "a\\|b\\\\x1b[1m");
    }
}
