//! Findings: what a sysadmin has to act on, one per problem, not one per sender.
//!
//! A finding has a subject of one of four kinds — an `account`, a `sender_domain`, the
//! `server` itself (its IP refused by a block list across many senders), or a `destination`
//! (a recipient domain whose mail servers are in trouble) — a verdict, a time window, the
//! figures that measure its harm, and the evidence. They are built from the aggregates and
//! the per-subject [`Diagnosis`] list:
//!
//! 1. **Server**: refusals that name a block list and an IP address (Barracuda's "not
//!    accepting mail from 192.0.2.10: listed at …", Spamhaus's "Client host [192.0.2.10]
//!    blocked using …"). An outbound refusal can only name the address that connected, our
//!    own; when it is named for at least two sender domains, it is one `server_blocklisted`
//!    finding that lists the senders affected.
//! 2. **Destinations**: trouble (timeouts, refused connections, 4xx server faults, expiry)
//!    at one recipient domain for several senders, while most of the mail to it in that
//!    window failed: one `remote_server_trouble` finding naming the destination and the
//!    senders affected. When such trouble is everywhere at once (most destinations with
//!    deferrals), the fault is ours: one server finding `resolver_failing` (DNS lookups fail
//!    temporarily), `port25_blocked` (connections time out everywhere) or `relayhost_down`
//!    (one smarthost serves every failing domain) instead of a destination per domain.
//! 3. **Sending limits**: every domain the log shows cPanel blocking
//!    (`R=enforce_mail_permissions`) is a `sending_limit` finding: when it tripped, the
//!    messages refused after the block (mail lost that must be sent again after the hour),
//!    and the failures of that hour that tripped it, grouped by cause, with the accounts
//!    that sent them.
//! 4. **Senders**: each remaining diagnosis is an `account` or `sender_domain` finding. A
//!    diagnosis whose failing recipients are mostly explained by a server or destination
//!    finding is folded into that finding (the sender is a victim, not the cause).
//!
//! Findings are ranked by severity (act now, check, note), then by harm: discarded messages,
//! then failing recipients, then trips.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;

use super::{Diagnosis, Remedy, Sign, Verdict};
use crate::aggregate::{Aggregates, FailRec, SubjectKind, blocklist_name};
use crate::classify::Cause;
use crate::model::event::{Timestamp, domain_of, lower};
use crate::model::hour::Hour;
use crate::model::thresholds::Thresholds;

mod limits;
use limits::limits;

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Account,
    SenderDomain,
    Server,
    Destination,
}

/// The finding's verdict: the six causes of the hosting notice, the server-wide ones and
/// cPanel's block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FindingVerdict {
    SendingLimit,
    CompromisedAccount,
    ServerBlocklisted,
    SenderBlocklisted,
    RelayhostDown,
    ResolverFailing,
    Port25Blocked,
    UnsolicitedMail,
    StaleList,
    RecipientBlocking,
    RemoteServerTrouble,
}

impl FindingVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingVerdict::SendingLimit => "sending_limit",
            FindingVerdict::CompromisedAccount => "compromised_account",
            FindingVerdict::ServerBlocklisted => "server_blocklisted",
            FindingVerdict::SenderBlocklisted => "sender_blocklisted",
            FindingVerdict::RelayhostDown => "relayhost_down",
            FindingVerdict::ResolverFailing => "resolver_failing",
            FindingVerdict::Port25Blocked => "port25_blocked",
            FindingVerdict::UnsolicitedMail => "unsolicited_mail",
            FindingVerdict::StaleList => "stale_list",
            FindingVerdict::RecipientBlocking => "recipient_blocking",
            FindingVerdict::RemoteServerTrouble => "remote_server_trouble",
        }
    }

    fn of(v: Verdict) -> FindingVerdict {
        match v {
            Verdict::CompromisedAccount => FindingVerdict::CompromisedAccount,
            Verdict::UnsolicitedMail => FindingVerdict::UnsolicitedMail,
            Verdict::StaleList => FindingVerdict::StaleList,
            Verdict::RecipientBlocking => FindingVerdict::RecipientBlocking,
            Verdict::SenderBlocklisted => FindingVerdict::SenderBlocklisted,
            Verdict::RemoteServerTrouble => FindingVerdict::RemoteServerTrouble,
        }
    }
}

/// How urgent a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    ActNow,
    Check,
    Note,
}

/// How sure the finding is. Only `High` is worded as a certainty ("very likely").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    High,
    Medium,
    Low,
}

/// The harm a finding measures, used to rank findings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Harm {
    /// Messages our server refused to send because of a block (to be sent again).
    pub discarded: u64,
    pub failing_recipients: u64,
    pub failure_lines: u64,
    pub trips: u64,
}

/// What each kind of finding found, beyond its harm.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    /// A sender's verdict, with its indicators (see [`Diagnosis`]).
    Sender(Box<Diagnosis>),
    /// Our IP named in block-list refusals.
    Server {
        ip: String,
        lists: Vec<String>,
        destinations: Vec<(String, u64)>,
    },
    /// A destination in trouble.
    Destination {
        domain: String,
        host: Option<String>,
        delivered_in_window: u64,
        /// Example reply.
        example: Option<String>,
    },
    /// A fault of our own behind the deferrals everywhere.
    LocalFault {
        /// The smarthost for `relayhost_down`.
        host: Option<String>,
        destinations: u64,
        example: Option<String>,
    },
    /// A cPanel block of a sender domain.
    Limit {
        hour: Hour,
        tripped_at: Timestamp,
        /// The figures the log printed (`5/5 (100%)`).
        figures: Option<(i64, i64, i64)>,
        /// Recipients failing in the hour before the block, by cause.
        causes: Vec<(Cause, u64)>,
        /// The accounts that sent those failures, most first.
        accounts: Vec<(String, u64)>,
        /// Addresses that failed permanently before the block (dead addresses first).
        failed: Vec<String>,
        /// Recipients of the refused messages (examples).
        refused: Vec<String>,
    },
}

/// One finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: FindingKind,
    pub subject: String,
    pub verdict: FindingVerdict,
    pub severity: Severity,
    pub confidence: Confidence,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// Still going at the end of the log (the last evidence is in its last hour).
    pub ongoing: bool,
    pub harm: Harm,
    /// The senders affected (server and destination findings), most failing recipients
    /// first, with their failing recipients.
    pub senders: Vec<(String, u64)>,
    pub detail: Detail,
}

/// Failing recipients explained by server/destination findings, per subject (account or
/// sender domain), for folding sender diagnoses.
#[derive(Default)]
struct Explained {
    by_subject: BTreeMap<String, u64>,
}

/// Builds the findings from the aggregates and the sender diagnoses, ranked.
pub fn findings(agg: &Aggregates<'_>, diagnoses: &[Diagnosis], t: &Thresholds) -> Vec<Finding> {
    let recs: Vec<&FailRec> = agg.failing.values().flatten().collect();
    let last = agg.last;
    let mut out = Vec::new();
    let mut explained = Explained::default();
    let local = local_fault(&recs, t, last);
    if let Some((f, rs)) = local {
        explain(&mut explained, &rs);
        out.push(f);
    } else {
        for (f, rs) in destinations(agg, &recs, t, last) {
            explain(&mut explained, &rs);
            out.push(f);
        }
    }
    for (f, rs) in servers(&recs, t, last) {
        explain(&mut explained, &rs);
        out.push(f);
    }
    out.extend(limits(agg, &recs));
    let windows = if diagnoses.is_empty() {
        BTreeMap::new()
    } else {
        windows_by_subject(&recs)
    };
    for d in diagnoses {
        if folded(d, &explained, &out) {
            continue;
        }
        let (first, last) = windows.get(&d.subject).copied().unwrap_or((None, None));
        out.push(sender_finding(d, first, last, agg.last));
    }
    out.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(b.harm.discarded.cmp(&a.harm.discarded))
            .then(b.harm.failing_recipients.cmp(&a.harm.failing_recipients))
            .then(b.harm.trips.cmp(&a.harm.trips))
            .then(a.subject.cmp(&b.subject))
    });
    out
}

/// The failing records that a server or destination finding explains (or a fault of our
/// own): refusals of the server's listed IP, trouble at a destination that is down. A
/// sender's verdict is chosen without them, so a sender is neither blamed for the server's
/// problem nor has its own problem hidden under it.
pub(crate) fn explained_records(agg: &Aggregates<'_>, t: &Thresholds) -> HashSet<*const FailRec> {
    let recs: Vec<&FailRec> = agg.failing.values().flatten().collect();
    let mut out: HashSet<*const FailRec> = HashSet::new();
    let mut add = |rs: &[&FailRec]| out.extend(rs.iter().map(|r| *r as *const FailRec));
    if let Some((_, rs)) = local_fault(&recs, t, agg.last) {
        add(&rs);
    } else {
        for (_, rs) in destinations(agg, &recs, t, agg.last) {
            add(&rs);
        }
    }
    for (_, rs) in servers(&recs, t, agg.last) {
        add(&rs);
    }
    out
}

fn explain(e: &mut Explained, rs: &[&FailRec]) {
    for r in rs {
        for key in subjects_of(r).into_iter().flatten() {
            *subject_entry(&mut e.by_subject, key, 0) += 1;
        }
    }
}

/// The account and sender domain a failing record counts for, as logged (the tables that
/// count them lower-case them: [`subject_entry`]).
fn subjects_of(r: &FailRec) -> [Option<&str>; 2] {
    [
        r.account.as_deref(),
        r.sender.as_deref().and_then(domain_of),
    ]
}

/// The entry of the subject `key` (lower-cased), copied only when it is new.
fn subject_entry<'m, V>(m: &'m mut BTreeMap<String, V>, key: &str, new: V) -> &'m mut V {
    let key = lower(key);
    if !m.contains_key(key.as_ref()) {
        m.insert(key.to_string(), new);
    }
    m.get_mut(key.as_ref()).expect("inserted")
}

/// Returns true if and only if the diagnosis is explained by a server, destination or local
/// finding (most of its failing recipients are theirs) or repeats one.
fn folded(d: &Diagnosis, e: &Explained, found: &[Finding]) -> bool {
    if let Remedy::RemoteServerTrouble { domain, .. } = &d.remedy
        && found
            .iter()
            .any(|f| f.kind == FindingKind::Destination && &f.subject == domain)
    {
        return true;
    }
    // A sender "on a block list" whose refusals name our server's IP, or only the lists
    // the server is on, is a victim of the server's listing.
    if let Remedy::SenderBlocklisted { lists, ip } = &d.remedy {
        for f in found {
            if let Detail::Server {
                ip: server_ip,
                lists: server_lists,
                ..
            } = &f.detail
                && (ip.as_deref() == Some(server_ip.as_str())
                    || (!lists.is_empty() && lists.iter().all(|l| server_lists.contains(l))))
            {
                return true;
            }
        }
    }
    // "One organisation refuses it" where that organisation refuses our server's IP.
    if let Remedy::RecipientBlocking { domains } = &d.remedy {
        let refused_server = found.iter().any(|f| match &f.detail {
            Detail::Server { destinations, .. } => domains
                .iter()
                .any(|d| destinations.iter().any(|(x, _)| x == d)),
            _ => false,
        });
        if refused_server {
            return true;
        }
    }
    // A verdict that blames the sender's own mail (compromise, stale list, unsolicited
    // mail, one organisation's block) stands even when the server's listing or a destination
    // in trouble explains many of its other failures.
    if !matches!(
        d.verdict,
        Verdict::SenderBlocklisted | Verdict::RemoteServerTrouble
    ) {
        return false;
    }
    let explained = e.by_subject.get(&d.subject).copied().unwrap_or(0);
    explained * 2 >= d.failures.recipients.max(1)
}

/// Trouble causes: the destination (or the way to it) failed, not the recipient.
fn is_trouble(c: Cause) -> bool {
    matches!(c, Cause::Network | Cause::RemoteError | Cause::Expired)
}

fn is_loopback_host(h: &str) -> bool {
    let h = h.trim_matches(|c| c == '[' || c == ']');
    h == "localhost" || h.starts_with("127.") || h == "::1"
}

fn in_last_hour(t: Option<Timestamp>, last: Option<Timestamp>) -> bool {
    match (t, last) {
        (Some(t), Some(l)) => (l.local - t.local).num_minutes() < 60,
        _ => false,
    }
}

/// First and last failure per subject (account and sender domain, as [`subjects_of`]), in
/// one pass over the failing recipients.
fn windows_by_subject(
    recs: &[&FailRec],
) -> BTreeMap<String, (Option<Timestamp>, Option<Timestamp>)> {
    let mut m: BTreeMap<String, (Option<Timestamp>, Option<Timestamp>)> = BTreeMap::new();
    for r in recs {
        for key in subjects_of(r).into_iter().flatten() {
            let w = subject_entry(&mut m, key, (None, None));
            if w.0.is_none_or(|t| r.first.local < t.local) {
                w.0 = Some(r.first);
            }
            if w.1.is_none_or(|t| r.last_time.local >= t.local) {
                w.1 = Some(r.last_time);
            }
        }
    }
    m
}

fn window(rs: &[&FailRec]) -> (Option<Timestamp>, Option<Timestamp>) {
    let first = rs.iter().map(|r| r.first).min_by_key(|t| t.local);
    let last = rs.iter().map(|r| r.last_time).max_by_key(|t| t.local);
    (first, last)
}

/// Senders (domain of the envelope sender, else the account) with their failing recipients.
fn sender_counts(rs: &[&FailRec]) -> Vec<(String, u64)> {
    let mut m: BTreeMap<String, u64> = BTreeMap::new();
    for r in rs {
        let k = r
            .sender
            .as_deref()
            .and_then(domain_of)
            .map(|d| d.to_ascii_lowercase())
            .or_else(|| r.account.as_deref().map(str::to_string))
            .unwrap_or_else(|| "(unknown)".into());
        *m.entry(k).or_default() += 1;
    }
    let mut v: Vec<(String, u64)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

fn harm_of(rs: &[&FailRec]) -> Harm {
    Harm {
        failing_recipients: rs.len() as u64,
        failure_lines: rs
            .iter()
            .map(|r| r.counts.deferred + r.counts.bounced + r.counts.expired)
            .sum(),
        ..Harm::default()
    }
}

/// IPv4 literals in a reply text.
fn ipv4s(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'))
        {
            let j = i + b[i..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || **c == b'.')
                .count();
            let cand = text[i..j].trim_end_matches('.');
            if cand.parse::<std::net::Ipv4Addr>().is_ok() {
                out.push(cand);
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// Our IP named in block-list refusals for at least two sender domains.
fn servers<'a>(
    recs: &[&'a FailRec],
    t: &Thresholds,
    last: Option<Timestamp>,
) -> Vec<(Finding, Vec<&'a FailRec>)> {
    let mut by_ip: BTreeMap<&str, Vec<&FailRec>> = BTreeMap::new();
    for r in recs {
        // Refusals by the destination of mail we sent (not our own SMTP-time rejections of
        // inbound mail), naming a block list.
        if r.cause != Cause::Blocklisted || r.counts.bounced + r.counts.deferred == 0 {
            continue;
        }
        let Some(text) = r.text.as_deref() else {
            continue;
        };
        if blocklist_name(text).is_none() {
            continue;
        }
        let reply = crate::util::text::reply_part(text);
        // The last address: a Postfix "host mx[198.51.100.7] refused to talk to me: … from
        // 192.0.2.10" names the remote server first.
        if let Some(ip) = ipv4s(reply).into_iter().last() {
            by_ip.entry(ip).or_default().push(r);
        }
    }
    let mut out = Vec::new();
    for (ip, rs) in by_ip {
        let senders = sender_counts(&rs);
        if senders.len() < 2 || (rs.len() as u64) < t.min_failures {
            continue;
        }
        let lists: BTreeSet<String> = rs
            .iter()
            .filter_map(|r| r.text.as_deref().and_then(blocklist_name))
            .collect();
        let mut dest: BTreeMap<String, u64> = BTreeMap::new();
        for r in &rs {
            if let Some(d) = domain_of(&r.recipient) {
                *dest.entry(lower(d).into_owned()).or_default() += 1;
            }
        }
        let mut destinations: Vec<(String, u64)> = dest.into_iter().collect();
        destinations.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let (first, lastseen) = window(&rs);
        out.push((
            Finding {
                kind: FindingKind::Server,
                subject: ip.to_string(),
                verdict: FindingVerdict::ServerBlocklisted,
                severity: Severity::ActNow,
                confidence: if destinations.len() as u64 >= t.several_domains.min(2) {
                    Confidence::High
                } else {
                    Confidence::Medium
                },
                first,
                last: lastseen,
                ongoing: in_last_hour(lastseen, last),
                harm: harm_of(&rs),
                senders,
                detail: Detail::Server {
                    ip: ip.to_string(),
                    lists: lists.into_iter().collect(),
                    destinations,
                },
            },
            rs,
        ));
    }
    out
}

/// Trouble records by recipient domain, loopback hosts (local content filters) left out.
fn trouble_by_domain<'a>(recs: &[&'a FailRec]) -> BTreeMap<String, Vec<&'a FailRec>> {
    let mut m: BTreeMap<String, Vec<&FailRec>> = BTreeMap::new();
    for r in recs {
        if !is_trouble(r.cause) || r.host.as_deref().is_some_and(is_loopback_host) {
            continue;
        }
        if let Some(d) = domain_of(&r.recipient) {
            m.entry(lower(d).into_owned()).or_default().push(r);
        }
    }
    m
}

/// Destinations in trouble for several senders, most of their mail failing meanwhile.
fn destinations<'a>(
    agg: &Aggregates<'_>,
    recs: &[&'a FailRec],
    t: &Thresholds,
    last: Option<Timestamp>,
) -> Vec<(Finding, Vec<&'a FailRec>)> {
    let mut out = Vec::new();
    for (domain, rs) in trouble_by_domain(recs) {
        let senders = sender_counts(&rs);
        if senders.len() < 2 || (rs.len() as u64) < t.min_failures {
            continue;
        }
        let (first, lastseen) = window(&rs);
        let (Some(f), Some(l)) = (first, lastseen) else {
            continue;
        };
        let (from, to) = (Hour::of(&f), Hour::of(&l));
        // An outage, not the odd timeout: at least two clock hours in which most of the mail
        // to it failed (lines with an attempt; "retry time not reached" is not one, so a
        // ratio over the whole window would be swamped by the retries delivered after it).
        let (mut delivered, mut trouble_hours) = (0, 0);
        if let Some(series) = agg.by_recipient_domain.get(domain.as_str()) {
            for (h, c) in &series.hours {
                if *h >= from && *h <= to {
                    let failed = c.deferred + c.bounced + c.expired;
                    if failed >= 2 && failed * 100 >= (failed + c.delivered) * t.share {
                        trouble_hours += 1;
                    } else {
                        delivered += c.delivered;
                    }
                }
            }
        }
        if trouble_hours < 2 {
            continue;
        }
        let mut hosts: BTreeMap<&str, u64> = BTreeMap::new();
        for r in &rs {
            if let Some(h) = r.host.as_deref() {
                *hosts.entry(h).or_default() += 1;
            }
        }
        let host = hosts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(h, _)| h.to_string());
        let example = rs
            .iter()
            .min_by_key(|r| r.first.local)
            .and_then(|r| r.text.as_deref().map(str::to_string));
        out.push((
            Finding {
                kind: FindingKind::Destination,
                subject: domain.clone(),
                verdict: FindingVerdict::RemoteServerTrouble,
                severity: Severity::Check,
                confidence: if senders.len() as u64 >= t.several_domains {
                    Confidence::High
                } else {
                    Confidence::Medium
                },
                first,
                last: lastseen,
                ongoing: in_last_hour(lastseen, last),
                harm: harm_of(&rs),
                senders,
                detail: Detail::Destination {
                    domain,
                    host,
                    delivered_in_window: delivered,
                    example,
                },
            },
            rs,
        ));
    }
    out
}

/// A fault of our own: trouble at most of the destinations with deferrals, at many of them.
fn local_fault<'a>(
    recs: &[&'a FailRec],
    t: &Thresholds,
    last: Option<Timestamp>,
) -> Option<(Finding, Vec<&'a FailRec>)> {
    let by_domain = trouble_by_domain(recs);
    let troubled = by_domain.len() as u64;
    if troubled < t.many_domains {
        return None;
    }
    // Only counted: a hash set, not a sorted one.
    let with_failures: crate::aggregate::HashSet<&str> = recs
        .iter()
        .filter(|r| r.cause != Cause::SendingLimit)
        .filter_map(|r| domain_of(&r.recipient))
        .collect();
    if troubled * 100 < with_failures.len() as u64 * t.concentration {
        return None;
    }
    let rs: Vec<&FailRec> = by_domain.into_values().flatten().collect();
    let texts: Vec<String> = rs
        .iter()
        .filter_map(|r| r.text.as_deref().map(str::to_ascii_lowercase))
        .collect();
    let share = |pred: &dyn Fn(&str) -> bool| {
        texts.iter().filter(|x| pred(x)).count() as u64 * 100
            >= texts.len().max(1) as u64 * t.concentration
    };
    let mut hosts: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in &rs {
        if let (Some(h), Some(d)) = (r.host.as_deref(), domain_of(&r.recipient)) {
            hosts.entry(h).or_default().insert(d);
        }
    }
    let relay = hosts
        .iter()
        .find(|(_, ds)| ds.len() as u64 * 100 >= troubled * t.concentration)
        .map(|(h, _)| h.to_string());
    let verdict = if relay.is_some() {
        FindingVerdict::RelayhostDown
    } else if share(&|x| {
        x.contains("name service error")
            || x.contains("host not found, try again")
            || x.contains("lookup did not complete")
            || x.contains("failed temporarily")
            || x.contains("temporary failure in name resolution")
    }) {
        FindingVerdict::ResolverFailing
    } else if share(&|x| x.contains("timed out") || x.contains("timeout")) {
        FindingVerdict::Port25Blocked
    } else {
        return None;
    };
    let (first, lastseen) = window(&rs);
    let example = rs
        .iter()
        .min_by_key(|r| r.first.local)
        .and_then(|r| r.text.as_deref().map(str::to_string));
    Some((
        Finding {
            kind: FindingKind::Server,
            subject: relay.clone().unwrap_or_else(|| "this server".into()),
            verdict,
            severity: Severity::ActNow,
            confidence: Confidence::Medium,
            first,
            last: lastseen,
            ongoing: in_last_hour(lastseen, last),
            harm: harm_of(&rs),
            senders: sender_counts(&rs),
            detail: Detail::LocalFault {
                host: relay,
                destinations: troubled,
                example,
            },
        },
        rs,
    ))
}

/// A sender diagnosis as a finding.
fn sender_finding(
    d: &Diagnosis,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    log_end: Option<Timestamp>,
) -> Finding {
    let kind = match d.subject_kind {
        SubjectKind::SenderDomain => FindingKind::SenderDomain,
        _ => FindingKind::Account,
    };
    let met = |f: &dyn Fn(&Sign) -> bool| d.indicators.iter().any(|i| i.met && f(&i.sign));
    let confidence = if d.verdict == Verdict::CompromisedAccount {
        // "Very likely stolen" only with direct signs of someone else at the account: many
        // networks or a script in an upload folder, and failed logins for its name.
        let access = met(&|s| matches!(s, Sign::ClientIps { .. }));
        let attack = met(&|s| matches!(s, Sign::FailedLogins { .. }));
        if d.confidence >= 0.8 && access && attack {
            Confidence::High
        } else if d.confidence >= 0.6 {
            Confidence::Medium
        } else {
            Confidence::Low
        }
    } else if d.confidence >= 0.8 {
        Confidence::High
    } else if d.confidence >= 0.5 {
        Confidence::Medium
    } else {
        Confidence::Low
    };
    let severity = match (d.verdict, confidence) {
        (Verdict::CompromisedAccount, Confidence::High) => Severity::ActNow,
        (_, Confidence::Low) => Severity::Note,
        _ => Severity::Check,
    };
    Finding {
        kind,
        subject: d.subject.clone(),
        verdict: FindingVerdict::of(d.verdict),
        severity,
        confidence,
        first,
        last,
        ongoing: in_last_hour(last, log_end),
        harm: Harm {
            failing_recipients: d.failures.recipients,
            failure_lines: d.failures.lines,
            ..Harm::default()
        },
        senders: Vec::new(),
        detail: Detail::Sender(Box::new(d.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_literals_are_found_in_replies() {
        assert_eq!(
            ipv4s(
                "554 5.7.1 mx.example ESMTP not accepting mail from 192.0.2.10: listed at b.barracudacentral.org"
            ),
            vec!["192.0.2.10"]
        );
        assert_eq!(
            ipv4s(
                "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org"
            ),
            vec!["192.0.2.10"]
        );
        assert!(ipv4s("550 5.7.1 version 1.2.3 is not an address").is_empty());
        assert!(ipv4s("550 5.1.1 user unknown").is_empty());
    }

    #[test]
    fn loopback_hosts_are_local() {
        for h in ["127.0.0.1", "[127.0.0.1]", "localhost", "::1"] {
            assert!(is_loopback_host(h), "{h}");
        }
        assert!(!is_loopback_host("mx.example.net"));
    }
}
