//! The document model the text and Markdown reports are rendered from, so the two never
//! disagree: headings, paragraphs, tables and lists. [`document`] builds it from the
//! [`Report`], one function per section. With `--day` the daily summary's sections follow
//! the others: hourly traffic, senders and recipients by volume, MTA warnings, frozen and
//! removed messages.

use std::collections::{BTreeSet, HashMap};

use crate::aggregate::MAX_FAILING_RECIPIENTS;
use crate::model::event::{LimitKind, Timestamp};
use crate::report::{FailedRecipient, LimitSource, Report};
use crate::util::text::{one_line, pct, reply_part, shorten, thousands};

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
        /// The column that gets the room the others leave in text output and wraps there
        /// (an error text, a list of hosts); the other columns keep their width as long as
        /// the table fits. Markdown is not bound by a width.
        flex: Option<usize>,
    },
    Numbered(Vec<String>),
}

/// Builds the document.
pub fn document(r: &Report) -> Vec<Block> {
    let mut d = vec![Block::Title(
        "mailtrace: tracing deliveries and failures".into(),
    )];
    for section in [
        header,
        findings,
        summary,
        sending_limits,
        failing_senders,
        offending_recipients,
        recipient_domains,
        likely_causes,
        next_steps,
    ] {
        section(r, &mut d);
    }
    if r.settings.day.is_some() {
        for section in [
            hourly_traffic,
            top_senders,
            top_recipients,
            mta_warnings,
            frozen_and_removed,
        ] {
            section(r, &mut d);
        }
    }
    d
}

/// The answer first: one short paragraph per finding, most harmful first.
fn findings(r: &Report, d: &mut Vec<Block>) {
    use crate::report::findings::{severity_words, verdict_words};
    d.push(Block::Heading("Findings".into()));
    if r.findings.is_empty() {
        d.push(Block::Para(
            "Nothing to act on: no blocked domain, no listed server, no destination in \
             trouble and no sender with the pattern of a problem."
                .into(),
        ));
        return;
    }
    // The most harmful in full, the rest by their headline.
    let full = brief(r, r.findings.len());
    for (i, f) in r.findings.iter().enumerate() {
        let headline = format!(
            "{}. [{}] {}: {}",
            i + 1,
            severity_words(f.severity).to_uppercase(),
            f.subject,
            verdict_words(f.verdict)
        );
        if i < full {
            d.push(Block::SubHeading(headline));
            d.push(Block::Para(f.summary.clone()));
            d.push(Block::Para(format!("What to do: {}", f.advice)));
        } else {
            if i == full {
                d.push(Block::SubHeading(
                    "The figures and advice of these are in --top 0 and --format json:".into(),
                ));
            }
            d.push(Block::Para(headline));
        }
    }
    if r.findings_not_shown > 0 {
        d.push(Block::Para(format!(
            "{} more finding(s) not shown (--top 0 shows all).",
            r.findings_not_shown
        )));
    }
}

/// Sections whose items are many lines each (the findings in full, a table per sender and
/// its rows, the evidence of a finding): a quarter of `--top` (at least one; all with
/// `--top 0`), so the report stays short.
fn brief(r: &Report, n: usize) -> usize {
    match r.settings.top {
        0 => n,
        top => n.min(top.div_ceil(4)),
    }
}

/// Half of `--top` (at least one; all with `--top 0`): the recipient domains, the next
/// steps.
fn half(r: &Report, n: usize) -> usize {
    match r.settings.top {
        0 => n,
        top => n.min(top.div_ceil(2)),
    }
}

/// At most `--top` of `n` rows (all with `--top 0`).
fn limit(r: &Report, n: usize) -> usize {
    match r.settings.top {
        0 => n,
        top => n.min(top),
    }
}

fn time_short(t: &Timestamp) -> String {
    t.local.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The files read, the period and the line counts.
fn header(r: &Report, d: &mut Vec<Block>) {
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
    if let Some(day) = &r.settings.day {
        fields.insert(1, ("Day covered".into(), day_words(day)));
    }
    if r.settings.redacted {
        fields.push((
            "Addresses".into(),
            "redacted (local parts replaced by a stable hash)".into(),
        ));
    }
    d.push(Block::Fields(fields));
}

/// Totals of messages and recipients, and notes on bounces, incomplete messages and failed logins.
fn summary(r: &Report, d: &mut Vec<Block>) {
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
    if t.inbound_refused > 0 {
        rows.push(vec![
            "Inbound refused".into(),
            thousands(t.inbound_refused),
            pct(t.inbound_refused, attempts),
        ]);
    }
    if t.not_attempted > 0 {
        rows.push(vec![
            "Queued, not attempted".into(),
            thousands(t.not_attempted),
            String::new(),
        ]);
    }
    d.push(Block::Table {
        headers: vec!["".into(), "Count".into(), "Share".into()],
        right: vec![false, true, true],
        rows,
        flex: None,
    });
    d.push(Block::Para(format!(
        "Volume: {} received, {} delivered.",
        human_bytes(t.bytes_received),
        human_bytes(t.bytes_delivered)
    )));
    let mut notes = Vec::new();
    if t.not_attempted > 0 {
        notes.push(format!(
            "{} deferral line(s) made no delivery attempt (retry time not reached, a \
             queue-only or held domain, a suspended destination): they are counted as queued, \
             not attempted, outside the shares and the failure rates.",
            thousands(t.not_attempted)
        ));
    }
    inbound_notes(r, &mut notes);
    if t.handed_off > 0 {
        notes.push(format!(
            "{} delivery line(s) handed the message to a local content filter or another \
             queue of this host: hops, not deliveries; the message's own delivery is counted.",
            thousands(t.handed_off)
        ));
    }
    for l in &r.local_relays {
        notes.push(format!(
            "{} deferral(s) and {} failure(s) stopped at {} on this host (a local content \
             filter or relay, not a remote destination){}.",
            thousands(l.deferred),
            thousands(l.bounced),
            l.relay,
            match &l.text {
                Some(t) => format!("; last error: {}", shorten(reply_part(t), 120)),
                None => String::new(),
            }
        ));
    }
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
    if t.folded_early > 0 {
        notes.push(format!(
            "Memory was capped: {} message(s) were folded as incomplete before the end because \
             --max-open messages were open at once; their later lines count as for messages \
             that started before the log. Raise --max-open (0 = no cap) to follow them whole.",
            thousands(t.folded_early)
        ));
    }
    let folded = [
        (t.folded_sender_domains, "sender domain(s)"),
        (t.folded_accounts, "account(s)"),
        (t.folded_senders, "envelope sender(s)"),
    ];
    if folded.iter().any(|(n, _)| *n > 0) {
        let what: Vec<String> = folded
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, w)| format!("{} {w}", thousands(*n)))
            .collect();
        let failing = match t.folded_with_failures {
            0 => "with no failure".to_string(),
            n => format!("(only {} of them with failures)", thousands(n)),
        };
        notes.push(format!(
            "Memory was capped: {} {failing} were folded into the totals because \
             --max-subjects of their kind were tracked; their lines count in every total but \
             in no per-subject table. Raise --max-subjects (0 = no cap) to list them all.",
            what.join(", ")
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
}

/// Refused bounces for mail we never sent, from this many lines on, suggest that our domain
/// is forged as a sender elsewhere.
const BACKSCATTER_HINT: u64 = 5;

/// What the Summary says about inbound refusals and backscatter.
fn inbound_notes(r: &Report, notes: &mut Vec<String>) {
    let t = &r.totals;
    if t.inbound_refused == 0 {
        return;
    }
    let mut domains: Vec<&str> = r.own_domains.iter().map(String::as_str).take(5).collect();
    if r.own_domains.len() > 5 {
        domains.push("…");
    }
    notes.push(format!(
        "Inbound refused: {} of the {} rejection(s) were mail to our own domains ({}) refused \
         at SMTP time, spam and bounces to addresses that do not exist here; they are not \
         failing recipients or problems of those domains.",
        thousands(t.inbound_refused),
        thousands(t.rejected),
        domains.join(", ")
    ));
    if t.backscatter >= BACKSCATTER_HINT
        && let Some(top) = r.backscatter.first()
    {
        notes.push(format!(
            "{} refused bounce(s) from <> were for mail never sent from here (to addresses \
             that do not exist or sent nothing): someone is probably forging {} as the \
             sender (backscatter). SPF and a DMARC policy (p=quarantine or p=reject) for it \
             make receivers refuse the forgeries instead of bouncing them to us.",
            thousands(t.backscatter),
            top.domain
        ));
    }
}

/// Sending limits: trips the log shows, replayed trips of the configured (or 100%) rule, near misses.
fn sending_limits(r: &Report, d: &mut Vec<Block>) {
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
    if shown.is_empty() && !r.settings.limit_replayed {
        d.push(Block::Para(
            "The log is not from a cPanel server (no Sender identification or \
             enforce_mail_permissions lines), so cPanel's defer/fail limit does not apply and \
             is not replayed (pass --limit-min or --limit-percent to replay it)."
                .into(),
        ));
    } else if shown.is_empty() {
        d.push(Block::Para(format!(
            "No sender domain tripped or came within 80% of the limit (rule: {rule})."
        )));
    } else {
        d.push(Block::Para(format!("Rule: {rule}.")));
        let shown = &shown[..limit(r, shown.len())];
        // The hour without its date when every row is on the same day (the period says which).
        let day = |l: &&crate::report::LimitRow| {
            l.hour.short().split_once(' ').map(|(d, _)| d.to_string())
        };
        let one_day = shown
            .iter()
            .all(|l| day(l).is_some() && day(l) == day(&shown[0]));
        let rows = shown
            .iter()
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
                    match (one_day, l.hour.short().split_once(' ')) {
                        (true, Some((_, hour))) => hour.to_string(),
                        _ => l.hour.short(),
                    },
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
            flex: None,
        });
    }
}

/// Failing senders: sender domains and accounts (the names with an `@`) with deferred,
/// failed or rejected mail.
fn failing_senders(r: &Report, d: &mut Vec<Block>) {
    d.push(Block::Heading("Failing senders".into()));
    if r.failing_senders.is_empty() {
        d.push(Block::Para(
            "No sender had deferred, failed or rejected mail.".into(),
        ));
    } else {
        d.push(Block::Para(
            "Recipients delivered (Dlv), deferred (Def), bounced (Bnc), rejected (Rej).".into(),
        ));
        let rows = r
            .failing_senders
            .iter()
            .take(limit(r, r.failing_senders.len()))
            .map(|s| {
                vec![
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
                "Sender".into(),
                "Dlv".into(),
                "Def".into(),
                "Bnc".into(),
                "Rej".into(),
                "Rate".into(),
                "Worst hour".into(),
            ],
            right: vec![false, true, true, true, true, true, false],
            rows,
            flex: None,
        });
    }
}

/// Offending recipients, grouped by sender.
fn offending_recipients(r: &Report, d: &mut Vec<Block>) {
    let top = r.settings.top;
    d.push(Block::Heading("Offending recipients".into()));
    if r.failed_recipients.is_empty() {
        d.push(Block::Para("No recipient is failing.".into()));
        return;
    }
    let groups = sender_groups(r);
    let shown = brief(r, groups.len());
    for (sender, list) in groups.iter().take(shown) {
        sender_group(r, *sender, list, d);
    }
    if r.failed_recipients_unlisted_lines > 0 {
        d.push(Block::Para(format!(
            "{} more deferral, failure or rejection line(s) of further recipients are in \
             the totals but not listed: the list stops at {} recipients to bound memory.",
            thousands(r.failed_recipients_unlisted_lines),
            thousands(MAX_FAILING_RECIPIENTS as u64)
        )));
    }
    if top > 0 && groups.len() > shown {
        d.push(Block::Para(format!(
            "… and {} more sender(s) with failing recipients (use --top 0 to list all).",
            groups.len() - shown
        )));
    }
}

/// The failing recipients by envelope sender: most recipients first, then most attempts,
/// then by sender.
fn sender_groups(r: &Report) -> Vec<(Option<&str>, Vec<&FailedRecipient>)> {
    let mut index: HashMap<Option<&str>, usize> = HashMap::new();
    let mut groups: Vec<(Option<&str>, Vec<&FailedRecipient>)> = Vec::new();
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
    groups
}

/// One sender's failing recipients: a sub-heading naming the sender (and its accounts) and
/// a table.
fn sender_group(r: &Report, sender: Option<&str>, list: &[&FailedRecipient], d: &mut Vec<Block>) {
    let name = match sender {
        Some("") => "<> (bounces and reports)".to_string(),
        Some(s) => s.to_string(),
        None => "an unknown sender (message arrived before the log starts)".into(),
    };
    let accounts: BTreeSet<&str> = list.iter().filter_map(|f| f.account.as_deref()).collect();
    let acct = if accounts.is_empty()
        || (accounts.len() == 1 && Some(*accounts.iter().next().unwrap()) == sender)
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
    let shown = brief(r, list.len());
    let rows = list
        .iter()
        .take(shown)
        .map(|f| {
            vec![
                f.recipient.clone(),
                f.outcome.as_str().into(),
                f.attempts.to_string(),
                f.cause.as_str().into(),
                last_error(f),
            ]
        })
        .collect();
    d.push(Block::Table {
        headers: vec![
            "Recipient".into(),
            "Outcome".into(),
            "Tries".into(),
            "Cause".into(),
            "Last error".into(),
        ],
        right: vec![false, false, true, false, false],
        rows,
        flex: Some(4),
    });
    if list.len() > shown {
        d.push(Block::Para(format!(
            "… and {} more (use --top 0 to list all).",
            list.len() - shown
        )));
    }
}

/// A failing recipient's last reply on one line, led by its code and status when the reply
/// does not start with its code, without the recipient's own `<address>: ` (it is in the
/// row).
fn last_error(f: &FailedRecipient) -> String {
    let code = match (&f.code, &f.status) {
        (Some(c), Some(s)) => format!("{c} {s}"),
        (Some(c), None) => c.to_string(),
        (None, Some(s)) => s.to_string(),
        _ => String::new(),
    };
    let text = f.text.as_deref().map(|t| {
        let t = one_line(reply_part(t));
        let quoted = format!("<{}>", f.recipient);
        if f.recipient.is_empty() {
            t
        } else {
            t.replace(&format!("{quoted}: "), "")
                .replace(&format!("{quoted}... "), "")
        }
    });
    match text {
        Some(t) if code.is_empty() || f.code.is_some_and(|c| t.starts_with(&c.to_string())) => t,
        Some(t) if !t.is_empty() => format!("{code}: {t}"),
        _ if code.is_empty() => "-".into(),
        _ => code,
    }
}

/// Recipient domains with problems.
fn recipient_domains(r: &Report, d: &mut Vec<Block>) {
    d.push(Block::Heading("Recipient domains with problems".into()));
    if r.recipient_domains.is_empty() {
        d.push(Block::Para(
            "No destination domain deferred or refused mail.".into(),
        ));
    } else {
        let shown = half(r, r.recipient_domains.len());
        let rows = r
            .recipient_domains
            .iter()
            .take(shown)
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
            flex: None,
        });
        if shown < r.recipient_domains.len() {
            d.push(Block::Para(format!(
                "… and {} more domain(s) (use --top 0 to list all).",
                r.recipient_domains.len() - shown
            )));
        }
    }
}

/// Likely causes: the diagnoses, then deferrals, failures and rejections by cause.
fn likely_causes(r: &Report, d: &mut Vec<Block>) {
    use crate::diagnose::findings::FindingKind;
    d.push(Block::Heading("Likely causes".into()));
    // The evidence behind the sender findings (their words and advice are in Findings).
    let senders: Vec<_> = r
        .findings
        .iter()
        .filter(|f| matches!(f.kind, FindingKind::Account | FindingKind::SenderDomain))
        .filter(|f| {
            !f.evidence.is_empty()
                && f.verdict != crate::diagnose::findings::FindingVerdict::SendingLimit
        })
        .collect();
    if senders.is_empty() {
        d.push(Block::Para(
            "No sender shows the pattern of a compromised account, unsolicited mail, a stale \
             list, a blocklisting, recipient blocking or remote server trouble."
                .into(),
        ));
    } else {
        let show = brief(r, senders.len());
        for f in &senders[..show] {
            d.push(Block::SubHeading(format!(
                "{} ({}): {}",
                f.subject,
                if f.kind == FindingKind::Account {
                    "account"
                } else {
                    "sender domain"
                },
                crate::report::findings::verdict_words(f.verdict),
            )));
            // The met indicators and notes; what was not met, and the figures the finding's
            // paragraph already gives, are in --top 0 and JSON.
            let lines: Vec<String> = f
                .evidence
                .iter()
                .filter(|e| {
                    r.settings.top == 0 || !(e.starts_with("Not met") || f.summary.contains(*e))
                })
                .take(brief(r, f.evidence.len()))
                .cloned()
                .collect();
            d.push(Block::Numbered(lines));
        }
        if show < senders.len() {
            d.push(Block::Para(format!(
                "The evidence of {} more sender finding(s) is in --top 0 and --format json.",
                senders.len() - show
            )));
        }
    }
    if !r.causes.is_empty() {
        let total: u64 = r.causes.iter().map(|c| c.count).sum();
        let parts: Vec<String> = r
            .causes
            .iter()
            .take(limit(r, r.causes.len()))
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
}

/// What to do next.
fn next_steps(r: &Report, d: &mut Vec<Block>) {
    d.push(Block::Heading("What to do next".into()));
    if r.next_steps.is_empty() {
        d.push(Block::Para("Nothing needs doing.".into()));
    } else {
        let show = half(r, r.next_steps.len());
        d.push(Block::Numbered(r.next_steps[..show].to_vec()));
        if show < r.next_steps.len() {
            d.push(Block::Para(format!(
                "{} more step(s) in --top 0 and --format json.",
                r.next_steps.len() - show
            )));
        }
    }
}

/// A byte count in decimal units: `512 B`, `2.8 kB`, `980 MB`, `1.2 GB`.
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 999.95 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else if v < 9.95 {
        format!("{v:.1} {}", UNITS[u])
    } else {
        format!("{v:.0} {}", UNITS[u])
    }
}

/// `2026-12-03` → `Thursday 3 December 2026 (00:00–24:00)`.
fn day_words(day: &str) -> String {
    match chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
        Ok(d) => format!("{} (00:00–24:00)", d.format("%A %-d %B %Y")),
        Err(_) => day.to_string(),
    }
}

/// "and N more (--top 0 shows all)." after a cut table.
fn more(d: &mut Vec<Block>, n: u64, what: &str) {
    if n > 0 {
        d.push(Block::Para(format!(
            "And {} more {what} (--top 0 shows all).",
            thousands(n)
        )));
    }
}

/// Received, delivered, deferred, bounced and rejected per hour of the day: 24 rows.
fn hourly_traffic(r: &Report, d: &mut Vec<Block>) {
    use crate::model::hour::Hour;
    let Some(day) = r
        .settings
        .day
        .as_deref()
        .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    else {
        return;
    };
    d.push(Block::Heading("Traffic by hour".into()));
    let start = Hour::of(&Timestamp::new(day.and_time(chrono::NaiveTime::MIN), None));
    let rows = (0..24)
        .map(|i| {
            let h = Hour(start.0 + i);
            let row = r.by_hour.iter().find(|x| x.hour == h);
            let c = row.map(|x| x.counts).unwrap_or_default();
            vec![
                format!("{i:02}:00"),
                thousands(row.map_or(0, |x| x.received)),
                thousands(c.delivered),
                thousands(c.deferred),
                thousands(c.bounced),
                thousands(c.rejected),
            ]
        })
        .collect();
    d.push(Block::Table {
        headers: [
            "Hour",
            "Received",
            "Delivered",
            "Deferred",
            "Bounced",
            "Rejected",
        ]
        .map(String::from)
        .to_vec(),
        right: vec![false, true, true, true, true, true],
        rows,
        flex: None,
    });
}

/// The note under a volume table whose distinct keys did not fit.
fn approximate_note<R>(d: &mut Vec<Block>, t: &crate::report::daily::VolumeTable<R>) {
    if t.approximate {
        d.push(Block::Para(format!(
            "Approximate: more than {} distinct addresses, so only the busiest are followed; \
             a message count may be over by at most {}, bytes and recipients are at least \
             the figures shown.",
            thousands(t.capacity as u64),
            thousands(t.error_bound)
        )));
    }
}

/// Senders by messages sent, with their recipients and bytes.
fn top_senders(r: &Report, d: &mut Vec<Block>) {
    d.push(Block::Heading("Top senders by volume".into()));
    let t = &r.top_senders;
    if t.rows.is_empty() {
        d.push(Block::Para("No message was sent.".into()));
        return;
    }
    let rows = t
        .rows
        .iter()
        .map(|x| {
            vec![
                x.sender.clone(),
                thousands(x.messages),
                thousands(x.recipients),
                human_bytes(x.bytes),
            ]
        })
        .collect();
    d.push(Block::Table {
        headers: ["Sender", "Messages", "Recipients", "Bytes"]
            .map(String::from)
            .to_vec(),
        right: vec![false, true, true, true],
        rows,
        flex: Some(0),
    });
    more(d, t.not_shown as u64, "sender(s)");
    approximate_note(d, t);
}

/// Recipients by messages delivered to them, with the bytes.
fn top_recipients(r: &Report, d: &mut Vec<Block>) {
    d.push(Block::Heading("Top recipients by volume".into()));
    let t = &r.top_recipients;
    if t.rows.is_empty() {
        d.push(Block::Para("No message was delivered.".into()));
        return;
    }
    let rows = t
        .rows
        .iter()
        .map(|x| {
            vec![
                x.recipient.clone(),
                thousands(x.messages),
                human_bytes(x.bytes),
            ]
        })
        .collect();
    d.push(Block::Table {
        headers: ["Recipient", "Messages", "Bytes"]
            .map(String::from)
            .to_vec(),
        right: vec![false, true, true],
        rows,
        flex: Some(0),
    });
    more(d, t.not_shown as u64, "recipient(s)");
    approximate_note(d, t);
}

/// Warning, error, fatal and panic lines of the MTA, grouped by text.
fn mta_warnings(r: &Report, d: &mut Vec<Block>) {
    d.push(Block::Heading("MTA warnings and errors".into()));
    let w = &r.mta_warnings;
    if w.rows.is_empty() {
        d.push(Block::Para(
            "No warning, error, fatal or panic line of the MTA.".into(),
        ));
        return;
    }
    let rows = w
        .rows
        .iter()
        .map(|x| {
            // The lines are all of the day: the time of day is enough.
            let clock = |t: &Timestamp| t.local.format("%H:%M:%S").to_string();
            vec![
                thousands(x.count),
                clock(&x.first),
                clock(&x.last),
                x.text.clone(),
            ]
        })
        .collect();
    d.push(Block::Table {
        headers: ["Count", "First", "Last", "Text"]
            .map(String::from)
            .to_vec(),
        right: vec![true, false, false, false],
        rows,
        flex: Some(3),
    });
    more(d, w.not_shown as u64, "kind(s) of warning");
    d.push(Block::Para(format!(
        "{} warning line(s) in all; addresses are shown as ADDRESS and numbers as N.",
        thousands(w.lines)
    )));
}

/// The frozen messages and those an administrator removed.
fn frozen_and_removed(r: &Report, d: &mut Vec<Block>) {
    for (title, list, when, none) in [
        (
            "Frozen messages",
            &r.frozen_messages,
            "Frozen at",
            "No message was left frozen or on hold.",
        ),
        (
            "Removed by an administrator",
            &r.removed_messages,
            "Removed at",
            "No message was removed by an administrator.",
        ),
    ] {
        d.push(Block::Heading(title.into()));
        if list.rows.is_empty() && list.not_shown == 0 {
            d.push(Block::Para(none.into()));
            continue;
        }
        let rows = list
            .rows
            .iter()
            .map(|m| {
                vec![
                    m.queue_id.clone(),
                    time_short(&m.time),
                    m.sender.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        d.push(Block::Table {
            headers: vec!["Queue ID".into(), when.into(), "Sender".into()],
            right: vec![false, false, false],
            rows,
            flex: Some(2),
        });
        more(d, list.not_shown, "message(s)");
    }
}
