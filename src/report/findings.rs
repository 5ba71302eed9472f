//! The findings as the report states them: one short paragraph each (what happened, to
//! whom, since when, the figures) and what to do, in words a support agent can paste.

use schemars::JsonSchema;
use serde::Serialize;

use super::advice;
use crate::diagnose::findings::{
    Confidence, Detail, Finding, FindingKind, FindingVerdict, Harm, Severity,
};
use crate::model::event::Timestamp;
use crate::model::hour::Hour;
use crate::util::text::{Wrapping, plural, shorten, thousands, unwrap_reply};

/// One finding in the report.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct FindingRow {
    pub kind: FindingKind,
    pub subject: String,
    pub verdict: FindingVerdict,
    pub severity: Severity,
    pub confidence: Confidence,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    pub ongoing: bool,
    pub harm: Harm,
    /// Senders affected (server and destination findings; at most 20), with their failing
    /// recipients.
    pub senders: Vec<(String, u64)>,
    pub senders_total: usize,
    /// What happened, in one paragraph.
    pub summary: String,
    /// The figures behind it, with thresholds (sender findings: the diagnosis's evidence).
    pub evidence: Vec<String>,
    pub advice: String,
}

impl From<&Finding> for FindingRow {
    fn from(f: &Finding) -> Self {
        let (summary, evidence, advice) = words(f);
        FindingRow {
            kind: f.kind,
            subject: f.subject.clone(),
            verdict: f.verdict,
            severity: f.severity,
            confidence: f.confidence,
            first: f.first,
            last: f.last,
            ongoing: f.ongoing,
            harm: f.harm.clone(),
            senders: f.senders.iter().take(20).cloned().collect(),
            senders_total: f.senders.len(),
            summary,
            evidence,
            advice,
        }
    }
}

/// "act now", "check", "note".
pub(crate) fn severity_words(s: Severity) -> &'static str {
    match s {
        Severity::ActNow => "act now",
        Severity::Check => "check",
        Severity::Note => "note",
    }
}

/// The verdict in words.
pub fn verdict_words(v: FindingVerdict) -> &'static str {
    match v {
        FindingVerdict::SendingLimit => "blocked by cPanel's hourly limit",
        FindingVerdict::CompromisedAccount => "compromised account",
        FindingVerdict::ServerBlocklisted => "server IP on a block list",
        FindingVerdict::SenderBlocklisted => "sender on a block list",
        FindingVerdict::RelayhostDown => "relay host (smarthost) down",
        FindingVerdict::ResolverFailing => "DNS resolver failing",
        FindingVerdict::Port25Blocked => "outbound port 25 blocked",
        FindingVerdict::UnsolicitedMail => "unsolicited mail",
        FindingVerdict::StaleList => "stale mailing list",
        FindingVerdict::RecipientBlocking => "recipient blocking the sender",
        FindingVerdict::RemoteServerTrouble => "remote server trouble",
    }
}

fn time(t: &Option<Timestamp>) -> String {
    t.map(|t| t.local.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "?".into())
}

fn window(f: &Finding) -> String {
    if f.ongoing {
        format!("since {}, still at the end of the log", time(&f.first))
    } else {
        format!("from {} to {}", time(&f.first), time(&f.last))
    }
}

fn list(items: &[(String, u64)], show: usize) -> String {
    let mut s = items
        .iter()
        .take(show)
        .map(|(k, n)| format!("{k} ({})", thousands(*n)))
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > show {
        s.push_str(&format!(" and {} more", items.len() - show));
    }
    s
}

fn reply(text: &Option<String>) -> String {
    text.as_deref()
        .map(|t| {
            format!(
                " (\"{}\")",
                shorten(unwrap_reply(t, Wrapping::Evidence), 120)
            )
        })
        .unwrap_or_default()
}

/// (summary, evidence, advice).
fn words(f: &Finding) -> (String, Vec<String>, String) {
    match &f.detail {
        Detail::Sender(d) => {
            let ev = advice::evidence(d);
            let summary = format!(
                "{} {} {}: {}.",
                advice::capitalise(kind_words(f.kind)),
                f.subject,
                window(f),
                ev.first().cloned().unwrap_or_default()
            );
            let mut adv = advice::advice(d);
            if f.verdict == FindingVerdict::CompromisedAccount && f.confidence != Confidence::High {
                adv = format!(
                    "Check this account: the signs fit a stolen password but are not conclusive \
                     (confidence {}). {adv}",
                    conf_words(f.confidence)
                );
            }
            (summary, ev, adv)
        }
        Detail::Server {
            ip,
            lists,
            destinations,
        } => server_words(f, ip, lists, destinations),
        Detail::Destination {
            domain,
            host,
            delivered_in_window,
            example,
        } => destination_words(f, domain, host, *delivered_in_window, example),
        Detail::LocalFault {
            host,
            destinations,
            example,
        } => local_words(f, host, *destinations, example),
        Detail::Limit { .. } => limit_words(f),
    }
}

fn kind_words(k: FindingKind) -> &'static str {
    match k {
        FindingKind::Account => "account",
        FindingKind::SenderDomain => "sender domain",
        FindingKind::Server => "this server",
        FindingKind::Destination => "destination",
    }
}

fn conf_words(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

fn server_words(
    f: &Finding,
    ip: &str,
    lists: &[String],
    destinations: &[(String, u64)],
) -> (String, Vec<String>, String) {
    let lists_s = if lists.is_empty() {
        "a block list".to_string()
    } else {
        advice::name_list(lists, 3)
    };
    let summary = format!(
        "This server's IP {ip} is refused as listed at {lists_s} {}: {} at {} ({}) for {} ({}).",
        window(f),
        plural(f.harm.failing_recipients, "recipient", "recipients"),
        plural(destinations.len() as u64, "destination", "destinations"),
        list(destinations, 3),
        plural(f.senders.len() as u64, "sender domain", "sender domains"),
        list(&f.senders, 3),
    );
    let evidence = vec![
        format!("Destinations refusing: {}", list(destinations, 8)),
        format!("Senders affected: {}", list(&f.senders, 8)),
    ];
    let advice = format!(
        "The listing is about the server, not one sender. Find what sent the mail that got it \
         listed (a compromised account or script: see the other findings), stop it, then ask \
         {lists_s} to delist {ip}. Until then the affected senders' mail to these destinations \
         keeps bouncing."
    );
    (summary, evidence, advice)
}

fn destination_words(
    f: &Finding,
    domain: &str,
    host: &Option<String>,
    delivered: u64,
    example: &Option<String>,
) -> (String, Vec<String>, String) {
    let at = host
        .as_deref()
        .map(|h| format!(" (mail server {h})"))
        .unwrap_or_default();
    let summary = format!(
        "The mail servers of {domain}{at} were in trouble {}: {} of {} deferred or failed{}, \
         {} delivered there meanwhile.",
        window(f),
        plural(f.harm.failing_recipients, "recipient", "recipients"),
        plural(f.senders.len() as u64, "sender domain", "sender domains"),
        reply(example),
        thousands(delivered),
    );
    let evidence = vec![
        format!(
            "{} failure lines for {} ({} deliveries in the same hours)",
            thousands(f.harm.failure_lines),
            plural(f.harm.failing_recipients, "recipient", "recipients"),
            thousands(delivered)
        ),
        format!("Senders affected: {}", list(&f.senders, 8)),
    ];
    let advice = format!(
        "Nothing is wrong on this server or with the senders: deferred mail is retried \
         automatically. If it lasts, tell the senders affected and contact {domain}'s \
         postmaster; mail that expires must be sent again."
    );
    (summary, evidence, advice)
}

fn local_words(
    f: &Finding,
    host: &Option<String>,
    destinations: u64,
    example: &Option<String>,
) -> (String, Vec<String>, String) {
    let what = match f.verdict {
        FindingVerdict::RelayhostDown => format!(
            "every failing delivery went through the relay host {} and it did not accept mail",
            host.as_deref().unwrap_or("?")
        ),
        FindingVerdict::ResolverFailing => {
            "DNS lookups failed temporarily for most destinations at once".to_string()
        }
        _ => "connections to port 25 timed out at most destinations at once".to_string(),
    };
    let summary = format!(
        "The fault is on this server's side {}: {what}; {} at {} could not be delivered{}.",
        window(f),
        plural(f.harm.failing_recipients, "recipient", "recipients"),
        plural(destinations, "destination", "destinations"),
        reply(example)
    );
    let advice = match f.verdict {
        FindingVerdict::RelayhostDown => {
            "Check the relay host (smarthost): is it up, does it accept this server's login? \
             The recipient domains are not at fault."
        }
        FindingVerdict::ResolverFailing => {
            "Check this server's DNS resolver (/etc/resolv.conf, the local resolver service): \
             the recipient domains are not at fault and the addresses are not invalid."
        }
        _ => {
            "Check whether the provider or a firewall blocks outbound port 25 (test with \
             `nc -vz gmail-smtp-in.l.google.com 25`); relay through a smarthost on port 587 if \
             it does."
        }
    }
    .to_string();
    (
        summary,
        vec![format!("Senders affected: {}", list(&f.senders, 8))],
        advice,
    )
}

fn limit_words(f: &Finding) -> (String, Vec<String>, String) {
    let Detail::Limit {
        hour,
        tripped_at,
        figures,
        causes,
        accounts,
        failed,
        refused,
    } = &f.detail
    else {
        unreachable!("limit_words takes a Limit")
    };
    let next = Hour(hour.0 + 1).display();
    let figures = figures
        .map(|(c, m, p)| format!(" ({c}/{m} ({p}%))"))
        .unwrap_or_default();
    let causes_s = causes
        .iter()
        .map(|(c, n)| format!("{} {}", c.as_str(), n))
        .collect::<Vec<_>>()
        .join(", ");
    let who = if accounts.is_empty() {
        String::new()
    } else {
        format!(", sent by {}", list(accounts, 3))
    };
    let blocks = if f.harm.trips > 1 {
        format!(" (blocked in {} hours in all)", f.harm.trips)
    } else {
        String::new()
    };
    let dead = if failed.is_empty() {
        String::new()
    } else {
        format!(" Failed addresses: {}.", advice::name_list(failed, 5))
    };
    let summary = format!(
        "cPanel blocked {} at {}{figures}{blocks}: the recipients failing in the hour before \
         the block, by cause: {}{who}.{dead} It refused {} until {next}: that mail is lost and must be sent \
         again.",
        f.subject,
        tripped_at.local.format("%Y-%m-%d %H:%M:%S"),
        if causes_s.is_empty() {
            "not in the log".to_string()
        } else {
            causes_s
        },
        plural(f.harm.discarded, "message", "messages"),
    );
    let mut evidence = Vec::new();
    if !failed.is_empty() {
        evidence.push(format!(
            "Addresses that failed before the block: {}",
            advice::name_list(failed, 10)
        ));
    }
    if !refused.is_empty() {
        evidence.push(format!(
            "Recipients of refused messages (send again after {next}): {}",
            advice::name_list(refused, 5)
        ));
    }
    let advice = format!(
        "Stop the mail that fails: remove the failed addresses above from the sender's list \
         (or find out why its mail is refused), then send the {} refused after {next}, or \
         remove /var/cpanel/email_send_limits/max_deferfail_{} to lift the block early once \
         the cause is fixed.",
        plural(f.harm.discarded, "message", "messages"),
        f.subject
    );
    (summary, evidence, advice)
}
