//! Offender diagnosis: for each sending account and sender domain with failures, the likely
//! reason among the six hosting support names, with confidence, evidence and advice.
//!
//! Diagnosis runs once over the finished [`Aggregates`]; it reads only what the logs hold.
//!
//! # What is diagnosed
//!
//! *Subjects* are sending accounts (SMTP AUTH login, local user, cPanel user; JSON
//! `subject_kind` `account`) and sender domains (`sender_domain`). The other subject kinds
//! (`sender`, `recipient_domain`) are not diagnosed. A sender domain is only diagnosed when
//! some of its mail was submitted by one of our own users (with an account, by a script,
//! locally or from a loopback client): failures of other people's mail (inbound traffic)
//! say nothing about their sender. The null sender, and senders unknown because the message
//! arrived before the log starts, are not diagnosed.
//!
//! # Basis
//!
//! The cause mix is judged on *failing recipients*, not lines (a deferred address is retried
//! many times, a dead one bounces once): each (recipient, sender) pair that failed at least
//! once at the destination, with the last real reason the log gives for it. Recipients only
//! refused by our own server at SMTP time (its decision, not the destination's), greylisted
//! recipients and those whose last line is our own sending limit are left out. Their
//! *failure lines* are their deferrals, bounces and expiries; a subject needs at least
//! [`Thresholds::min_failures`] of them to be diagnosed at all. The recipients fall into
//! groups:
//!
//! * *dead*: `user_unknown`, `mailbox_disabled`, `domain_invalid`;
//! * *listed*: `blocklisted` with a text that names a block list (`zen.spamhaus.org`, …);
//! * *spam*: `spam_content`, `blocked`, `rate_limited` and `blocklisted` naming no list
//!   (reputation);
//! * *refused*: `blocked`, `spam_content` and `blocklisted` (a refusal by the destination);
//! * *trouble*: `network`, `remote_error`, `expired` (timeouts, refused connections, 4xx
//!   server faults, retry period over).
//!
//! "Destinations" and "recipient domains" are recipient domains; the sender's own domains do
//! not count towards a wide mailing.
//!
//! Login facts: the *client IPs* are the distinct IPs that submitted the subject's messages;
//! *failed logins* are the larger of (a) SMTP AUTH failures logged for the account name, or
//! on cPanel for the mailboxes it sent as, and (b) SMTP AUTH failures from the IPs that then
//! submitted its mail (Postfix often logs no login name with a failure).
//!
//! Volume: the recipients of the messages the subject submitted, per clock hour. Its *usual*
//! volume is its average over the other hours of the log's period (quiet hours count as
//! zero); a log of a single hour has no usual volume, and the jump indicator is then not met.
//!
//! # Verdicts
//!
//! Each verdict has *indicators*; some are *required*. A verdict is a candidate when its
//! required indicators hold. Confidence is the share of its indicators that hold, so it says
//! how many of the signs of that pattern were found; every indicator is listed in the
//! evidence, the unmet ones as "Not met: …", with the figure and the threshold. A subject
//! gets at most one verdict: `compromised_account` whenever it is a candidate (it explains
//! the other patterns, §5.4 of the reference); otherwise the candidate that explains the most
//! failing recipients, then the higher confidence, then the order below.
//!
//! * **compromised_account** (accounts only; a domain has many users and so many IPs): a
//!   volume jump; many client IPs (or mail from a script in an upload, cache or temporary
//!   folder); failed logins; many recipient domains; spam or blocklist refusals at several
//!   destinations. Required: 3 of the 5, one of them the IPs/script or the failed logins.
//! * **sender_blocklisted**: refusals naming a block list at several destinations
//!   (required); they are the main share of the failing recipients.
//! * **stale_list**: dead addresses are the main share (required), spread over many
//!   recipient domains (required); for an account, its login pattern is normal (fewer client
//!   IPs and failed logins than the thresholds).
//! * **unsolicited_mail**: spam refusals are the main share (required) at several
//!   destinations (required); a wide mailing (many recipient domains); a volume jump.
//! * **recipient_blocking**: refusals concentrated on one or two destination domains
//!   (required), the main share (required), while other destinations accepted its mail
//!   (required); no refusal names a block list.
//! * **remote_server_trouble**: trouble concentrated on one destination domain or MX host
//!   (required), the main share (required); its mail elsewhere was delivered; other senders'
//!   mail to that domain failed too.
//!
//! "Main share" is [`Thresholds::share`] of the failing recipients; "concentrated" is
//! [`Thresholds::concentration`]; "several" is [`Thresholds::several_domains`]; "many" is
//! [`Thresholds::many_domains`] or [`Thresholds::many_ips`].
//!
//! # Account or domain
//!
//! Accounts are diagnosed first. A sender domain then gets a verdict only when it says
//! something its accounts do not: it is skipped when diagnosed accounts sent at least
//! [`Thresholds::concentration`] of its failing recipients, or when one of its accounts got
//! the same verdict (the account says the same thing more precisely). A domain is diagnosed
//! on its own when its failures are spread over several accounts with no verdict (a
//! blocklisting of the domain, a list sent by several mailboxes) or were sent without an
//! account (a web application on the server itself).
//!
//! # Order
//!
//! Accounts first, then sender domains; within each, most failure lines first, then by name.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::aggregate::{Aggregates, Evidence, FailRec, SubjectKind, blocklist_name};
use crate::classify::Cause;
use crate::model::event::{Mta, Timestamp, domain_of};
use crate::model::hour::Hour;
use crate::model::thresholds::Thresholds;

/// The six verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    CompromisedAccount,
    UnsolicitedMail,
    StaleList,
    RecipientBlocking,
    SenderBlocklisted,
    RemoteServerTrouble,
}

/// One verdict for one subject.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    /// The account name or sender domain (lower case).
    pub subject: String,
    pub subject_kind: SubjectKind,
    pub verdict: Verdict,
    /// Share of the verdict's indicators that hold, 0..1 (two decimals).
    pub confidence: f64,
    /// What was found: a summary line, the met indicators, notes and example errors, the
    /// unmet indicators ("Not met: …") and the confidence basis. Figures come with their
    /// thresholds.
    pub evidence: Vec<String>,
    /// Plain words a support agent can paste, with a command where one helps.
    pub advice: String,
}

/// The verdict in words.
pub fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::CompromisedAccount => "compromised account",
        Verdict::UnsolicitedMail => "unsolicited mail",
        Verdict::StaleList => "stale mailing list",
        Verdict::RecipientBlocking => "recipient blocking the sender",
        Verdict::SenderBlocklisted => "sender on a blocklist",
        Verdict::RemoteServerTrouble => "remote server trouble",
    }
}

/// Order used to break ties between equally supported candidates.
const ORDER: [Verdict; 6] = [
    Verdict::CompromisedAccount,
    Verdict::SenderBlocklisted,
    Verdict::StaleList,
    Verdict::UnsolicitedMail,
    Verdict::RecipientBlocking,
    Verdict::RemoteServerTrouble,
];

/// Subjects that are never diagnosed: the null sender, unknown and local-only senders.
const NOT_SUBJECTS: [&str; 3] = ["<>", "(unknown)", "(local)"];

// ---------------------------------------------------------------------------------------
// Failing-recipient tallies

/// Failing recipients of one group (dead, spam, …) of one subject.
#[derive(Debug, Default)]
struct Group<'a> {
    recipients: u64,
    /// Failure lines of those recipients.
    lines: u64,
    /// Recipients per destination domain (lower case).
    by_domain: BTreeMap<String, u64>,
    /// Recipients per destination host (last host that answered).
    by_host: BTreeMap<&'a str, u64>,
    /// Per destination domain, the earliest failing recipient with a reply text:
    /// (first failure, recipient, text). Chosen by time, not by map order, so the report is
    /// the same on every run.
    examples: BTreeMap<String, (Timestamp, &'a str, &'a str)>,
    /// Block lists named.
    lists: BTreeSet<String>,
    /// Up to 8 recipient addresses per destination domain.
    addresses: BTreeMap<String, Vec<&'a str>>,
}

impl<'a> Group<'a> {
    fn add(&mut self, r: &'a FailRec, domain: &str, list: Option<&str>) {
        self.recipients += 1;
        self.lines += lines_of(r);
        *self.by_domain.entry(domain.to_string()).or_default() += 1;
        if let Some(h) = r.host.as_deref() {
            *self.by_host.entry(h).or_default() += 1;
        }
        if let Some(t) = r.text.as_deref() {
            let key = (r.first, r.recipient.as_str(), t);
            match self.examples.get_mut(domain) {
                Some(e) if (e.0, e.1) <= (key.0, key.1) => {}
                Some(e) => *e = key,
                None => {
                    self.examples.insert(domain.to_string(), key);
                }
            }
        }
        if let Some(l) = list {
            self.lists.insert(l.to_string());
        }
        // The 8 first addresses in alphabetical order.
        let a = self.addresses.entry(domain.to_string()).or_default();
        if a.len() < 8 || a.last().is_some_and(|l| r.recipient.as_str() < *l) {
            let at = a.partition_point(|x| *x < r.recipient.as_str());
            a.insert(at, &r.recipient);
            a.truncate(8);
        }
    }

    /// Up to two example (domain, text) pairs: the earliest failures, from different domains
    /// and with different texts.
    fn examples(&self) -> Vec<(&str, &'a str)> {
        let mut all: Vec<(&Timestamp, &str, &str, &'a str)> = self
            .examples
            .iter()
            .map(|(d, (t, r, x))| (t, *r, d.as_str(), *x))
            .collect();
        all.sort();
        let mut out: Vec<(&str, &'a str)> = Vec::new();
        for (_, _, d, x) in all {
            if out.len() == 2 {
                break;
            }
            if !out.iter().any(|(_, y)| short_reply(y) == short_reply(x)) {
                out.push((d, x));
            }
        }
        out
    }

    fn domains(&self) -> u64 {
        self.by_domain.len() as u64
    }

    /// The destination domain with the most recipients.
    fn top_domain(&self) -> Option<(&str, u64)> {
        top(self.by_domain.iter().map(|(k, v)| (k.as_str(), *v)))
    }

    fn top_host(&self) -> Option<(&'a str, u64)> {
        top(self.by_host.iter().map(|(k, v)| (*k, *v)))
    }
}

fn top<'x>(it: impl Iterator<Item = (&'x str, u64)>) -> Option<(&'x str, u64)> {
    it.fold(None, |best: Option<(&str, u64)>, (k, v)| match best {
        Some((_, bv)) if bv >= v => best,
        _ => Some((k, v)),
    })
}

/// The failing recipients of one subject, grouped.
#[derive(Debug, Default)]
struct Tally<'a> {
    recipients: u64,
    /// Failure lines of those recipients at the destination.
    lines: u64,
    by_cause: BTreeMap<Cause, u64>,
    dead: Group<'a>,
    listed: Group<'a>,
    spam: Group<'a>,
    refused: Group<'a>,
    trouble: Group<'a>,
    /// Recipients per sending account (for sender domains).
    by_account: BTreeMap<String, u64>,
}

impl<'a> Tally<'a> {
    fn add(&mut self, r: &'a FailRec, list: Option<&str>) {
        let domain = domain_of(&r.recipient).unwrap_or("").to_ascii_lowercase();
        self.recipients += 1;
        self.lines += lines_of(r);
        *self.by_cause.entry(r.cause).or_default() += 1;
        if let Some(a) = &r.account {
            *self.by_account.entry(a.to_ascii_lowercase()).or_default() += 1;
        }
        match r.cause {
            Cause::UserUnknown | Cause::MailboxDisabled | Cause::DomainInvalid => {
                self.dead.add(r, &domain, None)
            }
            Cause::Blocklisted if list.is_some() => self.listed.add(r, &domain, list),
            Cause::SpamContent | Cause::Blocked | Cause::RateLimited | Cause::Blocklisted => {
                self.spam.add(r, &domain, None)
            }
            Cause::Network | Cause::RemoteError | Cause::Expired => {
                self.trouble.add(r, &domain, None)
            }
            _ => {}
        }
        if matches!(
            r.cause,
            Cause::Blocked | Cause::SpamContent | Cause::Blocklisted
        ) {
            self.refused.add(r, &domain, list);
        }
    }
}

/// Returns true if and only if a failing recipient record counts for the diagnosis: it failed
/// at the destination (deferred, bounced or expired), not only at our own server's SMTP-time
/// checks (rejections are our decisions, not the destination's), and its reason is neither
/// greylisting nor our own sending limit.
fn considered(r: &FailRec) -> bool {
    r.counts.problems() > r.counts.rejected
        && !matches!(r.cause, Cause::SendingLimit | Cause::Greylisted)
}

/// Failure lines of a recipient at the destination: deferrals, bounces and expiries.
fn lines_of(r: &FailRec) -> u64 {
    r.counts.problems() - r.counts.rejected
}

/// What the rules of every subject share, from one pass over the failing recipients.
struct Facts<'a> {
    /// Per account and sender domain.
    tallies: HashMap<(SubjectKind, String), Tally<'a>>,
    /// Per block list: our own sender domains it refused (inbound mail we refused is not
    /// about our IP).
    listed_senders: BTreeMap<String, BTreeSet<String>>,
}

fn facts<'a>(agg: &'a Aggregates<'_>) -> Facts<'a> {
    let mut tallies: HashMap<(SubjectKind, String), Tally<'a>> = HashMap::new();
    let mut listed_senders: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in agg.failing.values().flatten().filter(|r| considered(r)) {
        let list = if r.cause == Cause::Blocklisted {
            r.text.as_deref().and_then(blocklist_name)
        } else {
            None
        };
        let list = list.as_deref();
        if let Some(a) = &r.account {
            tallies
                .entry((SubjectKind::Account, a.to_ascii_lowercase()))
                .or_default()
                .add(r, list);
        }
        if let Some(d) = r.sender.as_deref().and_then(domain_of) {
            let d = d.to_ascii_lowercase();
            if let Some(l) = list
                && agg
                    .evidence
                    .get(SubjectKind::SenderDomain, &d)
                    .is_some_and(|e| e.own_messages > 0)
            {
                listed_senders
                    .entry(l.to_string())
                    .or_default()
                    .insert(d.clone());
            }
            tallies
                .entry((SubjectKind::SenderDomain, d))
                .or_default()
                .add(r, list);
        }
    }
    Facts {
        tallies,
        listed_senders,
    }
}

// ---------------------------------------------------------------------------------------
// Indicators and candidates

struct Indicator {
    met: bool,
    /// What was found, with the threshold. Unmet indicators are shown as "Not met: …".
    text: String,
}

fn ind(met: bool, text: String) -> Indicator {
    Indicator { met, text }
}

struct Candidate {
    verdict: Verdict,
    indicators: Vec<Indicator>,
    /// Whether the required indicators hold.
    required: bool,
    /// Failing recipients the verdict explains.
    explained: u64,
    /// Extra evidence lines (examples, scope), after the indicators.
    notes: Vec<String>,
    advice: String,
}

impl Candidate {
    fn confidence(&self) -> f64 {
        let met = self.indicators.iter().filter(|i| i.met).count();
        let all = self.indicators.len().max(1);
        (met as f64 / all as f64 * 100.0).round() / 100.0
    }
}

/// `part` is at least `percent`% of `whole`.
fn share_ok(part: u64, whole: u64, percent: u64) -> bool {
    whole > 0 && part * 100 >= percent * whole
}

fn pct(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        0
    } else {
        (part as f64 * 100.0 / whole as f64).round() as u64
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `a 3, b 2, c 1 and 4 more`, largest first.
fn top_list<'x>(items: impl Iterator<Item = (&'x str, u64)>, show: usize) -> String {
    let mut v: Vec<(&str, u64)> = items.collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut s = v
        .iter()
        .take(show)
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    if v.len() > show {
        s.push_str(&format!(" and {} more", v.len() - show));
    }
    s
}

/// `a, b, c and 4 more`.
fn name_list<'x>(items: impl Iterator<Item = &'x str>, show: usize) -> String {
    let v: Vec<&str> = items.collect();
    let mut s = v.iter().take(show).copied().collect::<Vec<_>>().join(", ");
    if v.len() > show {
        s.push_str(&format!(" and {} more", v.len() - show));
    }
    s
}

/// The remote reply without the MTA's wrapping (Exim's "SMTP error from remote mail server
/// after …:", Postfix's "host … said:" and "(in reply to … command)"), on one line and cut to
/// a readable length.
fn short_reply(text: &str) -> String {
    let mut t = text.trim();
    for p in [
        "SMTP error from remote mail server after ",
        "SMTP error from remote mailer after ",
    ] {
        if let Some(rest) = t.strip_prefix(p)
            && let Some(i) = rest.find(": ")
        {
            t = &rest[i + 2..];
        }
    }
    if t.starts_with("host ")
        && let Some(i) = t.find(" said: ")
    {
        t = &t[i + 7..];
    }
    if t.ends_with(" command)")
        && let Some(i) = t.rfind(" (in reply to ")
    {
        t = &t[..i];
    }
    crate::util::text::shorten(t, 110)
}

fn examples_line(g: &Group<'_>) -> Option<String> {
    let examples = g.examples();
    if examples.is_empty() {
        return None;
    }
    let parts: Vec<String> = examples
        .iter()
        .map(|(d, t)| format!("{d}: \"{}\"", short_reply(t)))
        .collect();
    Some(format!(
        "{}: {}",
        if parts.len() == 1 {
            "Example error"
        } else {
            "Example errors"
        },
        parts.join("; ")
    ))
}

/// The first `[a.b.c.d]` or bare IPv4 address in a text (the listed IP of a blocklist
/// rejection).
fn ip_in(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|w| w.trim_matches('.'))
        .find(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() == 4
                && parts.iter().all(|p| {
                    !p.is_empty() && p.len() <= 3 && p.parse::<u16>().is_ok_and(|n| n < 256)
                })
        })
        .map(str::to_string)
}

/// Everything one subject's rules look at.
struct Subject<'a, 'c> {
    agg: &'a Aggregates<'c>,
    t: &'a Thresholds,
    kind: SubjectKind,
    name: &'a str,
    ev: &'a Evidence,
    tally: &'a Tally<'a>,
    facts: &'a Facts<'a>,
}

/// The busiest hour against the usual hourly volume.
struct Volume {
    peak: Option<(Hour, u64)>,
    /// Average recipients per hour over the other hours of the log; `None` when the log
    /// covers a single hour.
    usual: Option<f64>,
    others: i64,
}

impl Subject<'_, '_> {
    fn is_account(&self) -> bool {
        self.kind == SubjectKind::Account
    }

    fn volume(&self) -> Volume {
        let series = &self.ev.recipients_by_hour;
        let peak = series
            .iter()
            .copied()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
        let mut lo = self.agg.first.map(|t| Hour::of(&t).0);
        let mut hi = self.agg.last.map(|t| Hour::of(&t).0);
        if let (Some(f), Some(l)) = (series.first(), series.last()) {
            lo = Some(lo.map_or(f.0.0, |x| x.min(f.0.0)));
            hi = Some(hi.map_or(l.0.0, |x| x.max(l.0.0)));
        }
        let hours = match (lo, hi) {
            (Some(a), Some(b)) => b - a + 1,
            _ => 1,
        };
        let others = hours - 1;
        let total: u64 = series.iter().map(|(_, n)| n).sum();
        let usual = match peak {
            Some((_, p)) if others > 0 => Some((total - p) as f64 / others as f64),
            _ => None,
        };
        Volume {
            peak,
            usual,
            others,
        }
    }

    fn jump(&self) -> Indicator {
        let v = self.volume();
        let th = format!(
            "threshold: {}× the usual and at least {}",
            self.t.jump_factor, self.t.jump_floor
        );
        let Some((h, peak)) = v.peak else {
            return ind(
                false,
                format!("Not met: volume jump — no message of it was seen arriving ({th})"),
            );
        };
        match v.usual {
            None => ind(
                false,
                format!(
                    "Not met: volume jump — {peak} recipients in {}, but the log covers a \
                     single hour, so there is no usual volume to compare with ({th})",
                    h.display()
                ),
            ),
            Some(u) => {
                let met = peak >= self.t.jump_floor && peak as f64 >= self.t.jump_factor * u;
                let what = format!(
                    "{peak} recipients in the hour {} against a usual {u:.1} per hour over the \
                     other {} hours of the log ({th})",
                    h.display(),
                    v.others
                );
                if met {
                    ind(true, format!("Volume jump: {what}"))
                } else {
                    ind(false, format!("Not met: volume jump — {what}"))
                }
            }
        }
    }

    /// Scripts in folders where no legitimate mailer lives.
    fn suspicious_scripts(&self) -> Vec<&str> {
        const MARKS: [&str; 6] = [
            "/uploads",
            "/tmp",
            "/cache",
            "/.",
            "/images",
            "/wp-includes",
        ];
        self.ev
            .scripts
            .iter()
            .filter(|s| {
                let l = s.to_ascii_lowercase();
                MARKS.iter().any(|m| l.contains(m))
            })
            .map(String::as_str)
            .collect()
    }

    fn many_ips(&self) -> Indicator {
        let n = self.ev.client_ips.len() as u64;
        let ips = name_list(self.ev.client_ips.iter().map(String::as_str), 4);
        let sus = self.suspicious_scripts();
        if n >= self.t.many_ips {
            ind(
                true,
                format!(
                    "Logged in from {n} distinct client IPs (threshold {}): {ips}",
                    self.t.many_ips
                ),
            )
        } else if !sus.is_empty() {
            ind(
                true,
                format!(
                    "Mail came from a script in an upload, cache or temporary folder, where no \
                     legitimate mailer lives: {}",
                    name_list(sus.into_iter(), 2)
                ),
            )
        } else {
            ind(
                false,
                format!(
                    "Not met: many client IPs — {} ({}; threshold {})",
                    plural(n, "client IP", "client IPs"),
                    if ips.is_empty() { "none logged" } else { &ips },
                    self.t.many_ips
                ),
            )
        }
    }

    /// Failed logins for the account (and, on cPanel, for the mailboxes it sent as), or from
    /// the IPs its mail came from: the larger of the two.
    fn failed_logins(&self) -> (u64, u64) {
        let mut by_name = self.ev.auth_failures;
        let mut ips: BTreeSet<&str> = self
            .ev
            .auth_failure_ips
            .iter()
            .map(String::as_str)
            .collect();
        for s in self.ev.senders.keys() {
            if s.as_str() == self.name {
                continue;
            }
            if let Some(e) = self.agg.evidence.get(SubjectKind::Account, s) {
                by_name += e.auth_failures;
                ips.extend(e.auth_failure_ips.iter().map(String::as_str));
            }
        }
        let mut by_ip = 0;
        for ip in &self.ev.client_ips {
            if let Some(n) = self.agg.auth_failures_by_ip.get(ip.as_str()) {
                by_ip += n;
                ips.insert(ip);
            }
        }
        (by_name.max(by_ip), ips.len() as u64)
    }

    fn auth(&self) -> Indicator {
        let (n, ips) = self.failed_logins();
        let what = format!(
            "{} for this login or from the IPs that sent its mail, from {} (threshold {})",
            plural(n, "failed login", "failed logins"),
            plural(ips, "IP", "IPs"),
            self.t.auth_failures
        );
        if n >= self.t.auth_failures {
            ind(true, format!("Password attack: {what}"))
        } else {
            ind(false, format!("Not met: failed logins — {what}"))
        }
    }

    /// Recipient domains other than the sender's own.
    fn recipient_domains(&self) -> u64 {
        let own = self.own_domains();
        self.ev
            .recipient_domains
            .keys()
            .filter(|d| !own.contains(d.as_ref()))
            .count() as u64
    }

    fn own_domains(&self) -> BTreeSet<&str> {
        let mut own: BTreeSet<&str> = self
            .ev
            .senders
            .keys()
            .filter_map(|s| domain_of(s))
            .collect();
        if self.kind == SubjectKind::SenderDomain {
            own.insert(self.name);
        } else if let Some(d) = domain_of(self.name) {
            own.insert(d);
        }
        own
    }

    fn wide(&self) -> Indicator {
        let n = self.recipient_domains();
        let what = format!(
            "{} (threshold {})",
            plural(n, "recipient domain", "recipient domains"),
            self.t.many_domains
        );
        if n >= self.t.many_domains {
            ind(true, format!("Mailed {what}"))
        } else {
            ind(false, format!("Not met: a wide mailing — {what}"))
        }
    }

    /// Delivered recipients at domains outside `blamed`: (deliveries, domains).
    fn delivered_elsewhere(&self, blamed: &[&str]) -> (u64, u64) {
        let mut n = 0;
        let mut d = 0;
        for (dom, c) in &self.ev.recipient_domains {
            if c.delivered > 0 && !blamed.contains(&dom.as_ref()) {
                n += c.delivered;
                d += 1;
            }
        }
        (n, d)
    }

    /// The indicator "this verdict explains the main share of the failing recipients".
    fn main_share(&self, part: u64, what: &str) -> Indicator {
        let whole = self.tally.recipients;
        let ok = share_ok(part, whole, self.t.share);
        let s = format!(
            "{part} of {} failing recipients ({}%) {what} (threshold {}%)",
            whole,
            pct(part, whole),
            self.t.share
        );
        ind(
            ok,
            if ok {
                s
            } else {
                format!("Not met: main problem — {s}")
            },
        )
    }

    /// The sender address to use in queue commands and advice.
    fn sender_address(&self) -> Option<&str> {
        if self.kind == SubjectKind::Account && self.name.contains('@') {
            return Some(self.name);
        }
        if self.kind == SubjectKind::Account {
            return self
                .ev
                .senders
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(s, _)| s.as_str());
        }
        None
    }

    /// A command that removes the subject's queued mail.
    fn purge_command(&self) -> Option<String> {
        let (exim_pat, pf_test) = match self.kind {
            SubjectKind::SenderDomain => (
                format!("'@{}$'", self.name),
                format!("$7 ~ /@{}$/", self.name.replace('.', "\\.")),
            ),
            _ => {
                let s = self.sender_address()?;
                (s.to_string(), format!("$7 == \"{s}\""))
            }
        };
        Some(match self.ev.mta {
            // mailq: a header line, then one paragraph per message whose 7th field is the
            // sender; the queue ID may carry a `*` (active) or `!` (held) mark.
            Some(Mta::Postfix) => format!(
                "mailq | tail -n +2 | awk 'BEGIN {{ RS = \"\" }} {pf_test} {{ gsub(/[^0-9A-Za-z]/, \
                 \"\", $1); print $1 }}' | postsuper -d -"
            ),
            _ => format!("exiqgrep -i -f {exim_pat} | xargs exim -Mrm"),
        })
    }

    /// "info@shop.example", "the mailboxes a@x, b@x of cPanel account shopusr", "mail from
    /// shop.example".
    fn who(&self) -> String {
        match self.kind {
            SubjectKind::SenderDomain => format!("mail from {}", self.name),
            _ if self.name.contains('@') => self.name.to_string(),
            _ => {
                let senders: Vec<&str> = self
                    .ev
                    .senders
                    .keys()
                    .map(String::as_str)
                    .filter(|s| *s != self.name)
                    .collect();
                if senders.is_empty() {
                    format!("account {}", self.name)
                } else {
                    format!(
                        "{} (account {})",
                        name_list(senders.into_iter(), 3),
                        self.name
                    )
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------
    // The six rules

    fn compromised(&self) -> Option<Candidate> {
        if !self.is_account() {
            return None;
        }
        let jump = self.jump();
        let ips = self.many_ips();
        let auth = self.auth();
        let wide = self.wide();
        let bad = &self.tally;
        let mut refusal_domains: BTreeMap<&str, u64> = BTreeMap::new();
        for (d, k) in bad.spam.by_domain.iter().chain(&bad.listed.by_domain) {
            *refusal_domains.entry(d.as_str()).or_default() += k;
        }
        let n = refusal_domains.len() as u64;
        let what = format!(
            "refused as spam or for the sender's reputation at {} (threshold {}){}",
            plural(n, "destination", "destinations"),
            self.t.several_domains,
            if n > 0 {
                format!(
                    ": {}",
                    top_list(refusal_domains.iter().map(|(k, v)| (*k, *v)), 4)
                )
            } else {
                String::new()
            }
        );
        let spam = if n >= self.t.several_domains {
            ind(true, format!("Mail {what}"))
        } else {
            ind(false, format!("Not met: spam refusals — {what}"))
        };
        let access = ips.met || auth.met;
        let indicators = vec![jump, ips, auth, wide, spam];
        let met = indicators.iter().filter(|i| i.met).count();
        let explained = bad.spam.recipients + bad.listed.recipients + bad.dead.recipients;
        let mut notes = Vec::new();
        if bad.dead.recipients > 0 {
            notes.push(format!(
                "{} addresses that do not exist, typical of a harvested or bought list",
                bad.dead.recipients
            ));
        }
        if !self.ev.scripts.is_empty() {
            notes.push(format!(
                "Submitted by script(s): {}",
                name_list(self.ev.scripts.iter().map(String::as_str), 2)
            ));
        }
        notes.extend(examples_line(&bad.spam).or_else(|| examples_line(&bad.listed)));
        let who = self.who();
        let purge = self
            .purge_command()
            .map(|c| format!(" Remove the spam still queued: {c}"))
            .unwrap_or_default();
        let sus = self.suspicious_scripts();
        let advice = if !sus.is_empty() {
            format!(
                "Someone is sending spam through a script on the website of {who}. Delete the \
                 script in {}, update the site's CMS and plugins, and change the cPanel and FTP \
                 passwords.{purge}",
                sus[0]
            )
        } else {
            format!(
                "The password of {who} has very likely been stolen. Change it now and check the \
                 mail clients and devices that log in with it (scan them for malware); if the \
                 server's IP gets listed, request delisting once the spam has stopped.{purge}"
            )
        };
        Some(Candidate {
            verdict: Verdict::CompromisedAccount,
            required: met >= 3 && access,
            indicators,
            explained,
            notes,
            advice,
        })
    }

    fn blocklisted(&self) -> Option<Candidate> {
        let g = &self.tally.listed;
        if g.recipients == 0 {
            return None;
        }
        let n = g.domains();
        let lists = name_list(g.lists.iter().map(String::as_str), 4);
        let what = format!(
            "{} naming a blocklist ({lists}) at {} (threshold {}): {}",
            plural(g.recipients, "rejection", "rejections"),
            plural(n, "destination", "destinations"),
            self.t.several_domains,
            top_list(g.by_domain.iter().map(|(k, v)| (k.as_str(), *v)), 4)
        );
        let spread = if n >= self.t.several_domains {
            ind(true, what)
        } else {
            ind(false, format!("Not met: several destinations — {what}"))
        };
        let share = self.main_share(g.recipients, "were refused by a blocklist");
        let mut notes = Vec::new();
        let ip = g
            .examples()
            .iter()
            .find_map(|(_, t)| ip_in(&short_reply(t)));
        if let Some(ip) = &ip {
            notes.push(format!("Listed address named in the rejections: {ip}"));
        }
        let others = self.others_listed(&g.lists);
        notes.push(if others > 0 {
            format!(
                "{} on this server {} refused by the same list(s): the server's IP is \
                 probably listed, not just this sender",
                plural(others, "other sender", "other senders"),
                if others == 1 { "was" } else { "were" }
            )
        } else {
            "No other sender on this server was refused by these lists".to_string()
        });
        notes.extend(examples_line(g));
        let advice = format!(
            "{} is refused because {} on {lists}. Look the address up on the \
             list's website, find and stop what got it listed (often a compromised account or a \
             spam run, see the other causes here), then request delisting; until then, \
             recipients using these lists will not get its mail.",
            capitalise(&match self.kind {
                SubjectKind::SenderDomain => format!("mail from {}", self.name),
                _ => format!("mail from {}", self.who()),
            }),
            match &ip {
                Some(ip) => format!("{ip} is listed"),
                None => "the sending server or domain is listed".to_string(),
            },
        );
        Some(Candidate {
            verdict: Verdict::SenderBlocklisted,
            required: spread.met,
            indicators: vec![spread, share],
            explained: g.recipients,
            notes,
            advice,
        })
    }

    /// Our own sender domains, other than this subject's, refused by these lists.
    fn others_listed(&self, lists: &BTreeSet<String>) -> u64 {
        let own = self.own_domains();
        let others: BTreeSet<&str> = lists
            .iter()
            .filter_map(|l| self.facts.listed_senders.get(l))
            .flatten()
            .map(String::as_str)
            .filter(|d| !own.contains(d))
            .collect();
        others.len() as u64
    }

    fn stale(&self) -> Option<Candidate> {
        let g = &self.tally.dead;
        if g.recipients == 0 {
            return None;
        }
        let share = self.main_share(
            g.recipients,
            "are addresses that do not exist, are disabled or whose domain is gone",
        );
        let n = g.domains();
        let what = format!(
            "{} (threshold {}): {}",
            plural(n, "recipient domain", "recipient domains"),
            self.t.many_domains,
            top_list(g.by_domain.iter().map(|(k, v)| (k.as_str(), *v)), 4)
        );
        let spread = if n >= self.t.many_domains {
            ind(true, format!("Dead addresses spread over {what}"))
        } else {
            ind(false, format!("Not met: spread over many domains — {what}"))
        };
        let mut indicators = vec![share, spread];
        if self.is_account() {
            let ips = self.ev.client_ips.len() as u64;
            let (fails, _) = self.failed_logins();
            let normal = ips < self.t.many_ips && fails < self.t.auth_failures;
            let what = format!(
                "{} and {} (thresholds {} and {})",
                plural(ips, "client IP", "client IPs"),
                plural(fails, "failed login", "failed logins"),
                self.t.many_ips,
                self.t.auth_failures
            );
            indicators.push(if normal {
                ind(true, format!("Normal login pattern: {what}"))
            } else {
                ind(false, format!("Not met: normal login pattern — {what}"))
            });
        }
        let mut notes = Vec::new();
        let delivered = self.ev.counts.delivered;
        notes.push(format!(
            "Hard-bounce rate: {} of the {} recipients it tried are dead addresses ({}%; a \
             maintained list stays under 2%)",
            g.recipients,
            delivered + self.tally.recipients,
            pct(g.recipients, delivered + self.tally.recipients)
        ));
        notes.extend(examples_line(g));
        let advice = format!(
            "{} is going to an old or bought list: {} addresses no longer exist. Remove them \
             before the next mailing (mailtrace report --suppression-list FILE exports them), \
             have the rest confirm their subscription, and send in smaller batches so the \
             hourly defer/fail limit is not tripped.",
            capitalise(&match self.kind {
                SubjectKind::SenderDomain => format!("mail from {}", self.name),
                _ => format!("the mailing of {}", self.who()),
            }),
            g.recipients
        );
        Some(Candidate {
            verdict: Verdict::StaleList,
            required: indicators[0].met && indicators[1].met,
            indicators,
            explained: g.recipients,
            notes,
            advice,
        })
    }

    fn unsolicited(&self) -> Option<Candidate> {
        let g = &self.tally.spam;
        if g.recipients == 0 {
            return None;
        }
        let share = self.main_share(
            g.recipients,
            "were refused as spam or for the sender's reputation",
        );
        let n = g.domains();
        let what = format!(
            "{} (threshold {}): {}",
            plural(n, "destination", "destinations"),
            self.t.several_domains,
            top_list(g.by_domain.iter().map(|(k, v)| (k.as_str(), *v)), 4)
        );
        let spread = if n >= self.t.several_domains {
            ind(true, format!("Refused at {what}"))
        } else {
            ind(
                false,
                format!("Not met: refused at several destinations — {what}"),
            )
        };
        let indicators = vec![share, spread, self.wide(), self.jump()];
        let mut notes = Vec::new();
        notes.extend(examples_line(g));
        let purge = self
            .purge_command()
            .map(|c| format!(" Remove what is still queued: {c}"))
            .unwrap_or_default();
        let advice = format!(
            "Recipients' servers treat {} as spam. Stop the campaign and send only to people \
             who asked for the mail (confirmed opt-in), with a working unsubscribe link; if \
             the sender says it sent nothing, treat the account as compromised.{purge}",
            self.who()
        );
        Some(Candidate {
            verdict: Verdict::UnsolicitedMail,
            required: indicators[0].met && indicators[1].met,
            indicators,
            explained: g.recipients,
            notes,
            advice,
        })
    }

    fn recipient_blocking(&self) -> Option<Candidate> {
        let g = &self.tally.refused;
        if g.recipients == 0 {
            return None;
        }
        let mut doms: Vec<(&str, u64)> =
            g.by_domain.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        doms.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        doms.truncate(2);
        let blamed: Vec<&str> = doms.iter().map(|d| d.0).collect();
        let in_top: u64 = doms.iter().map(|d| d.1).sum();
        let names = blamed.join(" and ");
        let what = format!(
            "{in_top} of its {} refused recipients ({}%) are at {names} (threshold {}% on at most \
             two domains)",
            g.recipients,
            pct(in_top, g.recipients),
            self.t.concentration
        );
        let scoped = if share_ok(in_top, g.recipients, self.t.concentration) {
            ind(true, format!("Refusals come from one organisation: {what}"))
        } else {
            ind(false, format!("Not met: one organisation — {what}"))
        };
        let share = self.main_share(g.recipients, "were refused by the destination");
        let (n, d) = self.delivered_elsewhere(&blamed);
        let elsewhere = if n > 0 {
            ind(
                true,
                format!(
                    "Other destinations accepted its mail: {} to {}",
                    plural(n, "delivery", "deliveries"),
                    plural(d, "other domain", "other domains")
                ),
            )
        } else {
            ind(
                false,
                "Not met: other destinations accept it — no delivery to another domain was seen"
                    .to_string(),
            )
        };
        let no_list = if g.lists.is_empty() {
            ind(true, "No refusal names a blocklist".to_string())
        } else {
            ind(
                false,
                format!(
                    "Not met: no blocklist — the refusals name {}",
                    name_list(g.lists.iter().map(String::as_str), 3)
                ),
            )
        };
        let mut notes = Vec::new();
        let accepted_there: u64 = blamed
            .iter()
            .filter_map(|d| self.ev.recipient_domains.get(*d))
            .map(|c| c.delivered)
            .sum();
        let (rcpts, total) = self.refused_addresses(&blamed);
        let shown = rcpts.len().min(4);
        let mut refused = rcpts[..shown].join(", ");
        if total > shown as u64 {
            refused.push_str(&format!(" and {} more", total - shown as u64));
        }
        notes.push(if accepted_there > 0 {
            format!(
                "{names} accepted {} of its other mail, so individual recipients block it: {}",
                plural(accepted_there, "delivery", "deliveries"),
                refused
            )
        } else {
            format!(
                "{names} accepted none of its mail, so the whole organisation refuses it; \
                 refused: {refused}"
            )
        });
        notes.extend(examples_line(g));
        let advice = format!(
            "{names} refuses mail from {} while other destinations accept it; nothing is wrong \
             on this server. Ask the recipients to add the sender to their allow list (or their \
             IT to contact postmaster@{}), and stop sending to them until they do, because each \
             refusal counts towards the hourly defer/fail limit.",
            match self.kind {
                SubjectKind::SenderDomain => self.name.to_string(),
                _ => self.who(),
            },
            blamed[0]
        );
        Some(Candidate {
            verdict: Verdict::RecipientBlocking,
            required: scoped.met && share.met && elsewhere.met,
            indicators: vec![scoped, share, elsewhere, no_list],
            explained: g.recipients,
            notes,
            advice,
        })
    }

    /// Some refused recipient addresses of this subject at these domains, and how many
    /// there are in all.
    fn refused_addresses(&self, domains: &[&str]) -> (Vec<String>, u64) {
        let g = &self.tally.refused;
        let mut v: Vec<String> = domains
            .iter()
            .filter_map(|d| g.addresses.get(*d))
            .flatten()
            .map(|a| a.to_ascii_lowercase())
            .collect();
        v.sort();
        v.dedup();
        let total = domains.iter().filter_map(|d| g.by_domain.get(*d)).sum();
        (v, total)
    }

    fn remote_trouble(&self) -> Option<Candidate> {
        let g = &self.tally.trouble;
        if g.recipients == 0 {
            return None;
        }
        let (dom, dn) = g.top_domain()?;
        let host = g.top_host();
        let by_host = host.is_some_and(|(_, hn)| hn > dn);
        let (dest, n) = match host {
            Some((h, hn)) if by_host => (h, hn),
            _ => (dom, dn),
        };
        let dest_words = if by_host {
            format!("the mail server {dest}")
        } else {
            match host {
                Some((h, _)) => format!("{dest} (mail server {h})"),
                None => dest.to_string(),
            }
        };
        let what = format!(
            "{n} of its {} deferred or timed-out recipients ({}%) are at {dest_words} \
             (threshold {}% on one destination)",
            g.recipients,
            pct(n, g.recipients),
            self.t.concentration
        );
        let conc = if share_ok(n, g.recipients, self.t.concentration) {
            ind(
                true,
                format!("Trouble concentrated on one destination: {what}"),
            )
        } else {
            ind(false, format!("Not met: one destination — {what}"))
        };
        let share = self.main_share(
            g.recipients,
            "could not be delivered because the destination timed out, refused connections \
             or reported a temporary fault",
        );
        let blamed: Vec<&str> = if by_host {
            g.by_domain.keys().map(String::as_str).collect()
        } else {
            vec![dom]
        };
        let (dn_el, dd_el) = self.delivered_elsewhere(&blamed);
        let elsewhere = if dn_el > 0 {
            ind(
                true,
                format!(
                    "Its mail to other destinations was delivered: {} to {}",
                    plural(dn_el, "delivery", "deliveries"),
                    plural(dd_el, "other domain", "other domains")
                ),
            )
        } else {
            ind(
                false,
                "Not met: delivered elsewhere — none of its mail to other domains was seen \
                 delivered"
                    .to_string(),
            )
        };
        let others = self.others_failing_at(dom);
        let others_ind = if others > 0 {
            ind(
                true,
                format!(
                    "Other senders' mail to {dom} failed too: {}",
                    plural(
                        others,
                        "more deferral or failure",
                        "more deferrals or failures"
                    )
                ),
            )
        } else {
            ind(
                false,
                format!(
                    "Not met: other senders affected — no other sender mailed {dom} and failed"
                ),
            )
        };
        let mut notes = Vec::new();
        let expired: u64 = g
            .by_domain
            .get(dom)
            .map(|_| self.ev.recipient_domains.get(dom).map_or(0, |c| c.expired))
            .unwrap_or(0);
        notes.push(format!(
            "{} for {}: on cPanel every retry counts towards the hourly defer/fail limit{}",
            plural(g.lines, "failure line", "failure lines"),
            plural(g.recipients, "recipient", "recipients"),
            if expired > 0 {
                format!("; {expired} gave up after the retry period")
            } else {
                String::new()
            }
        ));
        notes.extend(examples_line(g));
        let advice = format!(
            "The mail server of {dom}{} is not accepting mail (timeouts or temporary errors); \
             nothing is wrong with {}. The server keeps retrying: tell the sender the mail is \
             delayed, and if it lasts more than a day, ask the recipients to have their IT check \
             their mail server (MX).",
            match host {
                Some((h, _)) => format!(" ({h})"),
                None => String::new(),
            },
            match self.kind {
                SubjectKind::SenderDomain => self.name.to_string(),
                _ => self.who(),
            }
        );
        Some(Candidate {
            verdict: Verdict::RemoteServerTrouble,
            required: conc.met && share.met,
            indicators: vec![conc, share, elsewhere, others_ind],
            explained: g.recipients,
            notes,
            advice,
        })
    }

    /// Deferrals, failures and expiries at `domain` that are not this subject's.
    fn others_failing_at(&self, domain: &str) -> u64 {
        let all = self
            .agg
            .by_recipient_domain
            .get(domain)
            .map(|s| s.total())
            .unwrap_or_default();
        let mine = self
            .ev
            .recipient_domains
            .get(domain)
            .copied()
            .unwrap_or_default();
        (all.problems()).saturating_sub(mine.problems())
    }

    fn diagnose(&self) -> Option<Diagnosis> {
        let candidates: Vec<Candidate> = [
            self.compromised(),
            self.blocklisted(),
            self.stale(),
            self.unsolicited(),
            self.recipient_blocking(),
            self.remote_trouble(),
        ]
        .into_iter()
        .flatten()
        .filter(|c| c.required)
        .collect();
        let rank = |v: Verdict| ORDER.iter().position(|x| *x == v).unwrap_or(ORDER.len());
        let best = candidates
            .iter()
            .find(|c| c.verdict == Verdict::CompromisedAccount)
            .or_else(|| {
                candidates.iter().max_by(|a, b| {
                    a.explained
                        .cmp(&b.explained)
                        .then(a.confidence().total_cmp(&b.confidence()))
                        .then(rank(b.verdict).cmp(&rank(a.verdict)))
                })
            })?;
        let mut evidence = Vec::new();
        let causes = top_list(self.tally.by_cause.iter().map(|(c, n)| (c.as_str(), *n)), 4);
        evidence.push(format!(
            "{} and {} (threshold {} failure lines); causes: {causes}",
            plural(self.tally.lines, "failure line", "failure lines"),
            plural(
                self.tally.recipients,
                "failing recipient",
                "failing recipients"
            ),
            self.t.min_failures
        ));
        evidence.extend(
            best.indicators
                .iter()
                .filter(|i| i.met)
                .map(|i| i.text.clone()),
        );
        evidence.extend(best.notes.iter().cloned());
        evidence.extend(
            best.indicators
                .iter()
                .filter(|i| !i.met)
                .map(|i| i.text.clone()),
        );
        let met = best.indicators.iter().filter(|i| i.met).count();
        evidence.push(format!(
            "Confidence {:.0}%: {met} of {} indicators met",
            best.confidence() * 100.0,
            best.indicators.len()
        ));
        Some(Diagnosis {
            subject: self.name.to_string(),
            subject_kind: self.kind,
            verdict: best.verdict,
            confidence: best.confidence(),
            evidence,
            advice: best.advice.clone(),
        })
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A subject to diagnose: its key, evidence and failing recipients.
type SubjectRow<'a> = (SubjectKind, &'a str, &'a Evidence, &'a Tally<'a>);

/// Diagnoses every account and sender domain in the aggregates. Accounts come first, then
/// sender domains, each by failure lines (most first), then name.
pub fn diagnose(agg: &Aggregates<'_>, t: &Thresholds) -> Vec<Diagnosis> {
    let facts = facts(agg);
    let mut subjects: Vec<SubjectRow<'_>> = agg
        .evidence
        .iter()
        .filter(|(kind, name, ev)| {
            !NOT_SUBJECTS.contains(name) && (*kind == SubjectKind::Account || ev.own_messages > 0)
        })
        .filter_map(|(kind, name, ev)| {
            let tally = facts.tallies.get(&(kind, name.to_string()))?;
            (tally.recipients > 0 && tally.lines >= t.min_failures.max(1))
                .then_some((kind, name, ev, tally))
        })
        .collect();
    subjects.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(b.3.lines.cmp(&a.3.lines))
            .then(a.1.cmp(b.1))
    });
    let mut out: Vec<Diagnosis> = Vec::new();
    for (kind, name, ev, tally) in subjects {
        if kind == SubjectKind::SenderDomain {
            let covered: u64 = out
                .iter()
                .filter(|d| d.subject_kind == SubjectKind::Account)
                .filter_map(|d| tally.by_account.get(&d.subject))
                .sum();
            if share_ok(covered, tally.recipients, t.concentration) {
                continue;
            }
        }
        let s = Subject {
            agg,
            t,
            kind,
            name,
            ev,
            tally,
            facts: &facts,
        };
        let Some(d) = s.diagnose() else { continue };
        if kind == SubjectKind::SenderDomain
            && out.iter().any(|a| {
                a.subject_kind == SubjectKind::Account
                    && a.verdict == d.verdict
                    && tally.by_account.contains_key(&a.subject)
            })
        {
            continue;
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::Filter;
    use crate::classify::{CachedClassifier, Classifier};
    use crate::correlate::{Message, RecipientState, Sink};
    use crate::model::cpanel::LimitRule;
    use crate::model::event::{Event, Kind, Timestamp};
    use crate::model::outcome::{Outcome, OutcomeKind};

    const UNKNOWN: &str = "550 5.1.1 <x>: Recipient address rejected: User unknown";
    const LISTED: &str =
        "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org";
    const SPAM: &str = "550 5.7.1 Message rejected as spam by Content Filtering";
    const DENIED: &str = "550 5.7.1 <a@b>: Sender address rejected: Access denied";
    const TIMEOUT: &str = "Connection timed out";
    const GREY: &str = "451 4.7.1 Greylisted, please try again later";
    const FULL: &str = "552 5.2.2 Mailbox full";

    fn ts(h: u32, m: u32) -> Timestamp {
        Timestamp::new(
            chrono::NaiveDate::from_ymd_opt(2026, 11, 27)
                .unwrap()
                .and_hms_opt(h, m, 0)
                .unwrap(),
            None,
        )
    }

    /// One delivery attempt: recipient, outcome, reply text.
    type Try = (String, OutcomeKind, Option<&'static str>);

    /// One message.
    struct Mail {
        hour: u32,
        account: Option<&'static str>,
        sender: &'static str,
        ip: String,
        script: Option<&'static str>,
        tries: Vec<Try>,
    }

    fn mail(hour: u32, account: &'static str, ip: &str, tries: Vec<Try>) -> Mail {
        Mail {
            hour,
            account: Some(account),
            sender: account,
            ip: ip.to_string(),
            script: None,
            tries,
        }
    }

    fn ok(r: &str) -> Try {
        (r.to_string(), OutcomeKind::Delivered, None)
    }

    fn bounce(r: &str, text: &'static str) -> Try {
        (r.to_string(), OutcomeKind::Bounced, Some(text))
    }

    fn defer(r: &str, text: &'static str) -> Try {
        (r.to_string(), OutcomeKind::Deferred, Some(text))
    }

    /// Recipient `i` at domain `d<i>.example`.
    fn at(i: usize, domain: usize) -> String {
        format!("user{i}@d{domain}.example")
    }

    /// Runs the diagnosis over these messages and failed logins (ip, login).
    fn run(mails: &[Mail], logins: &[(&str, Option<&str>)], t: &Thresholds) -> Vec<Diagnosis> {
        let cl = Classifier::builtin();
        let mut a = Aggregates::new(
            LimitRule {
                min: 5,
                percent: None,
            },
            Filter::default(),
            CachedClassifier::new(&cl),
        );
        for (ip, login) in logins {
            let mut e = Event::new(ts(0, 1), Mta::Exim, Kind::AuthFailed);
            e.ip = Some(ip);
            e.account = *login;
            a.event(&e, None);
        }
        for (n, m) in mails.iter().enumerate() {
            let id = format!("q{n}");
            let hosts: Vec<String> = m
                .tries
                .iter()
                .map(|(r, _, _)| format!("mx.{}", domain_of(r).unwrap()))
                .collect();
            for (i, ((r, kind, text), host)) in m.tries.iter().zip(&hosts).enumerate() {
                a.outcome(&Outcome {
                    kind: *kind,
                    time: ts(m.hour, (i % 60) as u32),
                    mta: Mta::Exim,
                    queue_id: Some(&id),
                    sender: Some(m.sender),
                    account: m.account,
                    charged_domain: None,
                    client_ip: Some(&m.ip),
                    script: m.script,
                    recipient: Some(r),
                    original_recipient: None,
                    host: Some(host),
                    ip: None,
                    code: None,
                    status: None,
                    text: *text,
                    router: None,
                    limit: None,
                    retry_not_due: false,
                    is_bounce: false,
                });
            }
            let mut rcpts: Vec<RecipientState> = Vec::new();
            for (r, kind, _) in &m.tries {
                if !rcpts.iter().any(|x| &x.address == r) {
                    rcpts.push(RecipientState {
                        address: r.clone(),
                        last: Some(*kind),
                        deferrals: 0,
                        attempts: 1,
                        last_text: None,
                        last_code: None,
                        last_status: None,
                    });
                }
            }
            a.message_done(Message {
                id,
                mta: Mta::Exim,
                sender: Some(m.sender.to_string()),
                account: m.account.map(str::to_string),
                charged_domain: None,
                client_host: None,
                client_ip: Some(m.ip.clone()),
                script: m.script.map(str::to_string),
                size: None,
                subject: None,
                message_id: None,
                protocol: Some("esmtpsa".into()),
                arrived: true,
                first_seen: ts(m.hour, 0),
                last_seen: ts(m.hour, 59),
                parent: None,
                chained_from: None,
                frozen: false,
                expired: false,
                recipients: rcpts,
                ending: None,
            });
        }
        diagnose(&a, t)
    }

    fn verdicts(d: &[Diagnosis]) -> Vec<(String, SubjectKind, Verdict)> {
        d.iter()
            .map(|x| (x.subject.clone(), x.subject_kind, x.verdict))
            .collect()
    }

    fn only(d: &[Diagnosis], subject: &str, v: Verdict) {
        assert_eq!(
            verdicts(d),
            vec![(subject.to_string(), SubjectKind::Account, v)],
            "{d:#?}"
        );
    }

    /// A list mailing: `dead` unknown addresses at `dead` domains, `other` full mailboxes,
    /// `good` deliveries, from one IP.
    fn list_mailing(dead: usize, other: usize, good: usize) -> Vec<Mail> {
        let mut tries = Vec::new();
        for i in 0..dead {
            tries.push(bounce(&at(i, i), UNKNOWN));
        }
        for i in 0..other {
            tries.push(bounce(&at(100 + i, 100 + i), FULL));
        }
        for i in 0..good {
            tries.push(ok(&at(200 + i, 200 + i)));
        }
        vec![mail(10, "news@shop.example", "192.0.2.5", tries)]
    }

    fn th() -> Thresholds {
        Thresholds::default()
    }

    #[test]
    fn min_failures_is_inclusive() {
        let t = Thresholds {
            many_domains: 4,
            ..th()
        };
        let four = list_mailing(4, 0, 3);
        assert!(
            run(
                &four,
                &[],
                &Thresholds {
                    min_failures: 5,
                    ..t.clone()
                }
            )
            .is_empty()
        );
        only(
            &run(
                &four,
                &[],
                &Thresholds {
                    min_failures: 4,
                    ..t
                },
            ),
            "news@shop.example",
            Verdict::StaleList,
        );
    }

    #[test]
    fn stale_list_needs_the_dead_share_and_the_spread() {
        // 6 dead of 10 failing = 60%: enough; 5 of 9 = 56%: not.
        only(
            &run(&list_mailing(12, 8, 10), &[], &th()),
            "news@shop.example",
            Verdict::StaleList,
        );
        assert!(run(&list_mailing(10, 8, 10), &[], &th()).is_empty());
        // 9 domains where 10 are wanted.
        assert!(run(&list_mailing(9, 0, 10), &[], &th()).is_empty());
        let d = run(&list_mailing(10, 0, 10), &[], &th());
        assert_eq!(d[0].verdict, Verdict::StaleList);
        assert_eq!(d[0].confidence, 1.0);
        assert!(d[0].evidence.iter().any(|e| e.contains("(threshold 60%)")));
        assert!(d[0].evidence.iter().any(|e| e.contains("(threshold 10)")));
    }

    /// Refusals naming a list at `n` domains, plus deliveries elsewhere.
    fn listed_at(n: usize) -> Vec<Mail> {
        let mut tries = Vec::new();
        for i in 0..n {
            tries.push(bounce(&at(i, i), LISTED));
            tries.push(bounce(&at(50 + i, i), LISTED));
            tries.push(bounce(&at(60 + i, i), LISTED));
        }
        for i in 0..5 {
            tries.push(ok(&at(100 + i, 100 + i)));
        }
        vec![mail(10, "billing@firm.example", "192.0.2.5", tries)]
    }

    #[test]
    fn blocklist_needs_several_destinations() {
        only(
            &run(&listed_at(3), &[], &th()),
            "billing@firm.example",
            Verdict::SenderBlocklisted,
        );
        // Two destinations: one organisation's choice, not a widespread listing.
        let d = run(&listed_at(2), &[], &th());
        only(&d, "billing@firm.example", Verdict::RecipientBlocking);
        assert!(
            d[0].evidence
                .iter()
                .any(|e| e.starts_with("Not met: no blocklist"))
        );
        assert_eq!(d[0].confidence, 0.75);
        let d = run(
            &listed_at(2),
            &[],
            &Thresholds {
                several_domains: 2,
                ..th()
            },
        );
        assert_eq!(d[0].verdict, Verdict::SenderBlocklisted);
    }

    /// A spam run from `ips` IPs: spam refusals at 4 domains and unknown users at 8 more.
    fn spam_run(ips: usize) -> Vec<Mail> {
        (0..12)
            .map(|i| {
                let r = at(i, i);
                let tr = if i < 4 {
                    bounce(&r, SPAM)
                } else {
                    bounce(&r, UNKNOWN)
                };
                mail(
                    3,
                    "info@example.org",
                    &format!("203.0.113.{}", i % ips),
                    vec![tr, ok(&at(100 + i, 100 + i))],
                )
            })
            .collect()
    }

    #[test]
    fn compromise_needs_many_ips_or_failed_logins() {
        let d = run(&spam_run(5), &[], &th());
        only(&d, "info@example.org", Verdict::CompromisedAccount);
        // IPs, wide mailing, spam refusals: 3 of 5 (no baseline, no failed logins).
        assert_eq!(d[0].confidence, 0.6);
        assert!(
            d[0].evidence
                .iter()
                .any(|e| e.contains("5 distinct client IPs (threshold 5)"))
        );
        assert!(
            d[0].evidence
                .iter()
                .any(|e| e.contains("single hour") && e.starts_with("Not met: volume jump"))
        );
        // Four IPs: the login pattern looks normal.
        let not_compromised =
            |d: &[Diagnosis]| d.iter().all(|x| x.verdict != Verdict::CompromisedAccount);
        assert!(not_compromised(&run(&spam_run(4), &[], &th())));
        // Four IPs but five failed logins for the account.
        let fails: Vec<(&str, Option<&str>)> = (0..5)
            .map(|_| ("198.51.100.99", Some("info@example.org")))
            .collect();
        let d = run(&spam_run(4), &fails, &th());
        only(&d, "info@example.org", Verdict::CompromisedAccount);
        // Four failed logins are not an attack.
        assert!(not_compromised(&run(&spam_run(4), &fails[..4], &th())));
        // Failed logins without a login name, from an IP that then sent its mail.
        let anon: Vec<(&str, Option<&str>)> = (0..5).map(|_| ("203.0.113.1", None)).collect();
        let d = run(&spam_run(4), &anon, &th());
        assert_eq!(d[0].verdict, Verdict::CompromisedAccount);
    }

    #[test]
    fn a_script_in_an_upload_folder_counts_as_a_break_in() {
        let mut run_ = spam_run(1);
        for m in &mut run_ {
            m.account = Some("shopusr");
            m.sender = "shopusr@cp1.host.example";
            m.ip = "127.0.0.1".into();
            m.script = Some("/home/shopusr/public_html/wp-content/uploads/2026/x");
        }
        let d = run(&run_, &[], &th());
        only(&d, "shopusr", Verdict::CompromisedAccount);
        assert!(
            d[0].advice
                .contains("Delete the script in /home/shopusr/public_html/wp-content/uploads")
        );
        assert!(
            d[0].advice
                .contains("exiqgrep -i -f shopusr@cp1.host.example | xargs exim -Mrm")
        );
        // The same mail from the site's own contact form folder is not a break-in.
        for m in &mut run_ {
            m.script = Some("/home/shopusr/public_html/contact");
        }
        let d = run(&run_, &[], &th());
        assert!(d.iter().all(|x| x.verdict != Verdict::CompromisedAccount));
    }

    /// One message an hour for `quiet` hours, then `burst` recipients in one hour, with spam
    /// refusals at 3 domains.
    fn burst(quiet: u32, burst: usize) -> Vec<Mail> {
        let mut v: Vec<Mail> = (0..quiet)
            .map(|h| {
                mail(
                    h,
                    "promo@deals.example",
                    "192.0.2.5",
                    vec![ok(&at(900, 900))],
                )
            })
            .collect();
        let tries = (0..burst)
            .map(|i| {
                if i < 6 {
                    bounce(&at(i, i % 3), SPAM)
                } else {
                    ok(&at(i, 10 + i))
                }
            })
            .collect();
        v.push(mail(quiet, "promo@deals.example", "192.0.2.5", tries));
        v
    }

    fn jump_met(d: &[Diagnosis]) -> bool {
        d[0].evidence.iter().any(|e| e.starts_with("Volume jump:"))
    }

    #[test]
    fn volume_jump_needs_factor_and_floor() {
        // 10 quiet hours of 1, then 20: usual 1.0, 20 ≥ 5 × 1 and ≥ 20.
        let d = run(&burst(10, 20), &[], &th());
        only(&d, "promo@deals.example", Verdict::UnsolicitedMail);
        assert!(jump_met(&d), "{d:#?}");
        // 19 is under the floor.
        assert!(!jump_met(&run(&burst(10, 19), &[], &th())));
        // With a factor of 25, 20 is not enough over a usual of 1.
        let t = Thresholds {
            jump_factor: 25.0,
            ..th()
        };
        assert!(!jump_met(&run(&burst(10, 20), &[], &t)));
    }

    /// Timeouts at `at_one` recipients of one domain and `elsewhere` of other domains.
    fn timeouts(at_one: usize, elsewhere: usize) -> Vec<Mail> {
        let mut tries = Vec::new();
        for i in 0..at_one {
            tries.push(defer(&at(i, 1), TIMEOUT));
            tries.push(defer(&at(i, 1), TIMEOUT));
        }
        for i in 0..elsewhere {
            tries.push(defer(&at(50 + i, 50 + i), TIMEOUT));
            tries.push(defer(&at(50 + i, 50 + i), TIMEOUT));
        }
        tries.push(ok(&at(99, 99)));
        vec![mail(9, "office@law.example", "192.0.2.5", tries)]
    }

    #[test]
    fn remote_trouble_needs_concentration() {
        // 4 of 5 = 80%.
        let d = run(&timeouts(4, 1), &[], &th());
        only(&d, "office@law.example", Verdict::RemoteServerTrouble);
        assert!(d[0].evidence.iter().any(|e| e.contains("(threshold 80%")));
        // 3 of 4 = 75%.
        assert!(run(&timeouts(3, 1), &[], &th()).is_empty());
    }

    #[test]
    fn recipient_blocking_needs_deliveries_elsewhere() {
        let refusals = |deliveries: usize| {
            let mut tries: Vec<Try> = (0..5).map(|i| bounce(&at(i, 7), DENIED)).collect();
            tries.extend((0..deliveries).map(|i| ok(&at(20 + i, 20 + i))));
            vec![mail(9, "sales@acme.example", "192.0.2.5", tries)]
        };
        only(
            &run(&refusals(2), &[], &th()),
            "sales@acme.example",
            Verdict::RecipientBlocking,
        );
        assert!(run(&refusals(0), &[], &th()).is_empty());
    }

    #[test]
    fn healthy_senders_get_nothing() {
        // Greylisting that clears, and full mailboxes, are no offence.
        let mut tries = Vec::new();
        for i in 0..8 {
            tries.push(defer(&at(i, i), GREY));
            tries.push(ok(&at(i, i)));
        }
        for i in 0..6 {
            tries.push(bounce(&at(30 + i, 30 + i), FULL));
        }
        let m = vec![mail(9, "support@host.example", "192.0.2.5", tries)];
        assert!(run(&m, &[], &th()).is_empty());
    }

    #[test]
    fn rejections_by_our_own_server_are_not_the_destination() {
        let tries = (0..8)
            .map(|i| (at(i, i), OutcomeKind::Rejected, Some(SPAM)))
            .collect();
        let m = vec![mail(9, "user@host.example", "192.0.2.5", tries)];
        assert!(run(&m, &[], &th()).is_empty());
    }

    #[test]
    fn the_account_speaks_for_its_domain() {
        // One account: the domain says nothing more.
        let d = run(&listed_at(3), &[], &th());
        assert_eq!(d.len(), 1);
        // Two accounts, each under the minimum, together over it: the domain is diagnosed.
        let split = |acct: &'static str, from: usize| {
            let tries = (from..from + 3)
                .map(|i| bounce(&at(i, i), LISTED))
                .chain([ok(&at(90 + from, 90 + from))])
                .collect();
            mail(9, acct, "192.0.2.5", tries)
        };
        let d = run(
            &[split("a@firm.example", 0), split("b@firm.example", 3)],
            &[],
            &th(),
        );
        assert_eq!(
            verdicts(&d),
            vec![(
                "firm.example".to_string(),
                SubjectKind::SenderDomain,
                Verdict::SenderBlocklisted
            )]
        );
    }

    #[test]
    fn inbound_senders_are_not_diagnosed() {
        let mut m = list_mailing(12, 0, 0);
        m[0].account = None;
        // Not ours: no account, not local, not loopback.
        assert!(run(&m, &[], &th()).is_empty());
        m[0].ip = "127.0.0.1".into();
        let d = run(&m, &[], &th());
        assert_eq!(
            verdicts(&d),
            vec![(
                "shop.example".to_string(),
                SubjectKind::SenderDomain,
                Verdict::StaleList
            )]
        );
    }

    #[test]
    fn replies_are_unwrapped_and_listed_ips_found() {
        assert_eq!(
            short_reply(
                "SMTP error from remote mail server after RCPT TO:<a@b.example>: 550 5.1.1 no"
            ),
            "550 5.1.1 no"
        );
        assert_eq!(
            short_reply(
                "host mx.b.example[198.51.100.1] said: 554 5.7.1 go away (in reply to RCPT TO command)"
            ),
            "554 5.7.1 go away"
        );
        assert_eq!(ip_in(LISTED).as_deref(), Some("192.0.2.10"));
        assert_eq!(ip_in("550 5.7.1 no"), None);
        assert_eq!(ip_in("version 1.2.3.4.5"), None);
    }

    #[test]
    fn thresholds_defaults_are_documented_values() {
        let t = Thresholds::default();
        assert_eq!(
            (
                t.min_failures,
                t.jump_factor,
                t.jump_floor,
                t.many_ips,
                t.auth_failures,
                t.many_domains,
                t.several_domains,
                t.share,
                t.concentration
            ),
            (5, 5.0, 20, 5, 5, 10, 3, 60, 80)
        );
    }
}
