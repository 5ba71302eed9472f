//! The text and Markdown reports. Both are rendered from one document model built from
//! the [`Report`], so the two never disagree: headings, paragraphs, tables and lists.
//! Every string passes through [`sanitize::clean`] on the way out.

use std::io::{self, Write};

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};

use super::{LimitSource, Report, shorten};
use crate::app::thousands;
use crate::correlate::OutcomeKind;
use crate::event::LimitKind;
use crate::sanitize::clean;

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
    },
    Numbered(Vec<String>),
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

fn time_short(t: &crate::event::Timestamp) -> String {
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
                    (LimitSource::Log, LimitKind::DeferFail) => "log: defers+failures".to_string(),
                    (LimitSource::Log, LimitKind::EmailsPerHour) => {
                        "log: emails per hour".to_string()
                    }
                    (LimitSource::Log, LimitKind::Other) => "log: restriction".to_string(),
                    (LimitSource::Replay, _) if l.tripped_at.is_some() => {
                        format!("replay at {}%", l.threshold_percent.unwrap_or(0))
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
        });
    }

    // 5. Offending recipients, grouped by sender.
    d.push(Block::Heading("Offending recipients".into()));
    if r.failed_recipients.is_empty() {
        d.push(Block::Para("No recipient is failing.".into()));
    } else {
        let mut groups: Vec<(Option<&str>, Vec<&super::FailedRecipient>)> = Vec::new();
        for f in &r.failed_recipients {
            match groups.iter_mut().find(|g| g.0 == f.sender.as_deref()) {
                Some(g) => g.1.push(f),
                None => groups.push((f.sender.as_deref(), vec![f])),
            }
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
                        shorten(f.text.as_deref().unwrap_or("-"), 48),
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
            });
            if top > 0 && list.len() > top {
                d.push(Block::Para(format!(
                    "… and {} more (use --top 0 to list all).",
                    list.len() - top
                )));
            }
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
                "Main cause".into(),
                "MX hosts (problems)".into(),
            ],
            right: vec![false, true, true, true, true, false, false],
            rows,
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
                crate::diagnose::verdict_words(g.verdict),
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
                writeln!(w, "{}", clean(h))?;
            }
            Block::Para(p) => {
                for line in wrap(&clean(p), width as usize) {
                    writeln!(w, "{line}")?;
                }
            }
            Block::Fields(fs) => {
                let kw = fs.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
                for (k, v) in fs {
                    let lines = wrap(&clean(v), (width as usize).saturating_sub(kw + 2).max(20));
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
            } => {
                let mut t = Table::new();
                t.load_preset(presets::ASCII_BORDERS_ONLY_CONDENSED)
                    .set_content_arrangement(ContentArrangement::Dynamic)
                    .set_width(width)
                    .set_header(headers.iter().map(|h| clean(h).into_owned()));
                for row in rows {
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

/// Word-wraps a paragraph.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split(' ') {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
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
    }

    #[test]
    fn markdown_cells_escape_pipes_and_controls() {
        assert_eq!(md_cell("a|b\x1b[1m"), "a\\|b\\\\x1b[1m");
    }
}
