//! Offender diagnosis: for each sending account and sender domain with failures, the likely
//! reason among the six hosting support names, with its confidence and the indicators that
//! support it.
//!
//! Diagnosis runs once over the finished [`Aggregates`]; it reads only what the logs hold.
//! It returns data ([`Diagnosis`]: verdict, indicators with their figures and thresholds,
//! notes, the facts the advice needs); the report stage (`report::advice`) puts it into
//! words.
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
//! recipients and those whose last line is our own sending limit are left out, and so are
//! the failures a server or destination finding explains (refusals naming the server's
//! listed IP, trouble at a destination that is down; see
//! `findings::explained_records`): a sender is not blamed for the server's problem, nor
//! is its own problem hidden under it (the evidence says how many were left out). Their
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
//! Each verdict has *indicators* ([`Indicator`]); some are *required*. A verdict is a
//! candidate when its required indicators hold. Confidence is the share of its indicators
//! that hold, so it says how many of the signs of that pattern were found; every indicator
//! is kept, met or not, with the figure and the threshold. A subject gets at most one
//! verdict: `compromised_account` whenever it is a candidate (a break-in explains the other
//! patterns); otherwise the candidate that explains the most failing recipients, then the
//! higher confidence, then the order below.
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
//! * **unsolicited_mail**: spam refusals far more often than the other accounts (required:
//!   a Poisson tail test against their rate, Bonferroni-corrected for the number of
//!   accounts, and at least 2% of the recipients tried) at several destinations (required);
//!   the main share; a wide mailing (many recipient domains); a volume jump.
//! * **recipient_blocking**: refusals concentrated on one or two destination domains
//!   (required), the main share of its failed *deliveries* (required: such a destination
//!   refuses the same few correspondents message after message), while other destinations
//!   accepted its mail (required), no refusal names a block list (required) and the other
//!   senders' mail there is accepted (required).
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
//! Accounts are diagnosed first. A system user that is not an address and sent as more
//! than one sender domain (`www-data` running every site's scripts) gets no verdict of its
//! own but a break-in: its domains are diagnosed on their own. A sender domain then gets a
//! verdict only when it says
//! something its accounts do not: it is skipped when diagnosed accounts sent at least
//! [`Thresholds::concentration`] of its failing recipients, or when one of its accounts got
//! the same verdict (the account says the same thing more precisely). A domain is diagnosed
//! on its own when its failures are spread over several accounts with no verdict (a
//! blocklisting of the domain, a list sent by several mailboxes) or were sent without an
//! account (a web application on the server itself). When two or more of its accounts are
//! `sender_blocklisted` and so is the domain, the domain's verdict replaces theirs: the
//! domain is listed, one finding.
//!
//! # Order
//!
//! Accounts first, then sender domains; within each, most failure lines first, then by name.

use serde::Serialize;

use crate::aggregate::{Aggregates, Evidence, SubjectKind};
use crate::classify::Cause;
use crate::model::event::Mta;
use crate::model::hour::Hour;
use crate::model::thresholds::Thresholds;

pub mod findings;
mod subject;
#[cfg(test)]
mod tests;
mod verdicts;

use subject::{Facts, Subject, Tally, share_ok};

/// The six verdicts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    CompromisedAccount,
    UnsolicitedMail,
    StaleList,
    RecipientBlocking,
    SenderBlocklisted,
    RemoteServerTrouble,
}

/// One verdict for one subject, as data.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    /// The account name or sender domain (lower case).
    pub subject: String,
    pub subject_kind: SubjectKind,
    pub verdict: Verdict,
    /// Share of the verdict's indicators that hold, 0..1 (two decimals).
    pub confidence: f64,
    /// The failures the diagnosis is based on.
    pub failures: Failures,
    /// The verdict's indicators, met or not, in the verdict's order.
    pub indicators: Vec<Indicator>,
    /// Further facts (scope, example errors), in the order the evidence lists them.
    pub notes: Vec<Note>,
    /// Who sent the mail, as the advice names it and queue commands select it.
    pub sender: Sender,
    /// What the advice for this verdict points at.
    pub remedy: Remedy,
}

impl Diagnosis {
    /// The number of indicators that hold.
    pub fn met(&self) -> usize {
        self.indicators.iter().filter(|i| i.met).count()
    }
}

/// A subject's failing recipients and their failure lines, against
/// [`Thresholds::min_failures`].
#[derive(Debug, Clone, PartialEq)]
pub struct Failures {
    /// Failure lines at the destination (deferrals, bounces, expiries).
    pub lines: u64,
    pub recipients: u64,
    /// The threshold on `lines`.
    pub min_failures: u64,
    /// Failing recipients by cause.
    pub causes: Vec<(Cause, u64)>,
    /// Failing recipients left out of `recipients`: a server or destination finding
    /// explains them (refusals of the server's listed IP, trouble at a destination that is
    /// down).
    pub explained: u64,
}

/// One sign of a verdict's pattern: whether it holds and what was measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub met: bool,
    pub sign: Sign,
}

/// What an indicator measured, with the threshold it was compared with. Domain lists are
/// (domain, failing recipients), in name order.
#[derive(Debug, Clone, PartialEq)]
pub enum Sign {
    /// The busiest hour (`peak`: hour, recipients) against the usual recipients per hour
    /// over the `other_hours` of the log (`usual` is `None` for a log of one hour). Met when
    /// the peak is at least `factor` × usual and at least `floor`.
    VolumeJump {
        peak: Option<(Hour, u64)>,
        usual: Option<f64>,
        other_hours: i64,
        factor: f64,
        floor: u64,
    },
    /// Distinct client IPs that submitted its mail (met at `threshold`), or a script in a
    /// folder where no legitimate mailer lives (met when `suspicious_scripts` is not empty).
    ClientIps {
        ips: Vec<String>,
        threshold: u64,
        suspicious_scripts: Vec<String>,
    },
    /// Failed logins for the login or from the IPs that sent its mail, from `ips` IPs.
    FailedLogins {
        failures: u64,
        ips: u64,
        threshold: u64,
    },
    /// Recipient domains other than the sender's own.
    WideMailing { domains: u64, threshold: u64 },
    /// Destinations that refused its mail as spam or named a block list (threshold on
    /// `by_domain.len()`).
    SpamRefusals {
        by_domain: Vec<(String, u64)>,
        threshold: u64,
    },
    /// `part` of the `whole` failing recipients are in `group`; met at `threshold` percent.
    MainShare {
        group: GroupKind,
        part: u64,
        whole: u64,
        threshold: u64,
    },
    /// Rejections naming a block list (`lists`), at `by_domain.len()` destinations.
    ListedAt {
        rejections: u64,
        lists: Vec<String>,
        by_domain: Vec<(String, u64)>,
        threshold: u64,
    },
    /// Dead addresses spread over `by_domain.len()` recipient domains.
    DeadSpread {
        by_domain: Vec<(String, u64)>,
        threshold: u64,
    },
    /// An account's client IPs and failed logins both under their thresholds.
    NormalLogins {
        ips: u64,
        failed_logins: u64,
        ips_threshold: u64,
        logins_threshold: u64,
    },
    /// `refused` of the `tried` recipients were refused as spam where the other accounts'
    /// rate expects `expected`; `p` is the Poisson probability of that many or more. Met when
    /// `p` < `alpha` / `accounts` (Bonferroni over the accounts) and the rate is at least
    /// `min_percent`.
    SpamOutlier {
        refused: u64,
        tried: u64,
        expected: f64,
        p: f64,
        accounts: u64,
        alpha: f64,
        min_percent: u64,
    },
    /// Spam refusals at `by_domain.len()` destinations.
    RefusedAt {
        by_domain: Vec<(String, u64)>,
        threshold: u64,
    },
    /// `at_them` of the `refused` recipients are at the one or two `domains` that refuse
    /// most; met at `threshold` percent.
    OneOrganisation {
        domains: Vec<String>,
        at_them: u64,
        refused: u64,
        threshold: u64,
    },
    /// `part` of its `whole` failed deliveries (a bounce or expiry each; a recipient only
    /// deferred once) were refusals at the one or two refusing domains; met at `threshold`
    /// percent.
    RefusedDeliveries {
        part: u64,
        whole: u64,
        threshold: u64,
    },
    /// Deliveries to other domains than the refusing ones.
    AcceptedElsewhere { deliveries: u64, domains: u64 },
    /// Other senders' mail at the refusing `domains`: `refused` recipients and `delivered`
    /// deliveries (refusals the server's listing explains left out); met when fewer than 2
    /// or at most 100 − [`Thresholds::concentration`] percent of it was refused.
    OthersAccepted {
        domains: Vec<String>,
        refused: u64,
        delivered: u64,
    },
    /// No refusal names a block list (met when `lists` is empty).
    NoBlocklist { lists: Vec<String> },
    /// `at_it` of the `recipients` in trouble are at one destination: the mail server
    /// `host` when `by_host` (it serves more of them than the top `domain` holds), else
    /// `domain` (whose busiest failing server is `host`); met at `threshold` percent.
    OneDestination {
        domain: String,
        host: Option<String>,
        by_host: bool,
        at_it: u64,
        recipients: u64,
        threshold: u64,
    },
    /// Deliveries to other domains than the troubled destination.
    DeliveredElsewhere { deliveries: u64, domains: u64 },
    /// Deferrals, failures and expiries of other senders at `domain`.
    OthersFailing { domain: String, failures: u64 },
}

/// The groups of failing recipients (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Dead,
    Listed,
    Spam,
    Refused,
    Trouble,
}

/// A fact reported with a verdict besides its indicators.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// Failing recipients that do not exist (a harvested or bought list).
    DeadAddresses { recipients: u64 },
    /// Scripts that submitted its mail.
    Scripts { scripts: Vec<String> },
    /// The IP address a blocklist rejection names.
    ListedIp { ip: String },
    /// Our own other sender domains refused by the same lists.
    OthersListed { senders: u64 },
    /// `dead` of the `tried` recipients are dead addresses.
    HardBounces { dead: u64, tried: u64 },
    /// The refusing `domains` accepted `accepted_there` deliveries of its other mail;
    /// `addresses` are refused recipients there (lower case, sorted), of `total`.
    RefusedRecipients {
        domains: Vec<String>,
        accepted_there: u64,
        addresses: Vec<String>,
        total: u64,
    },
    /// Failure lines (retries) for the recipients in trouble; `expired` gave up at the
    /// top destination.
    RetryLines {
        lines: u64,
        recipients: u64,
        expired: u64,
    },
    /// Up to two example errors: the earliest failures, from different domains and with
    /// different replies.
    Examples(Vec<Example>),
}

/// One example error: the destination domain and the full reply text.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub domain: String,
    pub reply: String,
}

/// The subject as the advice names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sender {
    /// The MTA that logged its mail (the last seen).
    pub mta: Option<Mta>,
    /// For an account: the sender address its queued mail carries (its own name when it is
    /// an address, else its busiest envelope sender).
    pub address: Option<String>,
    /// For an account that is not an address: the mailboxes it sent as, in name order.
    pub mailboxes: Vec<String>,
}

/// What the advice of each verdict needs beyond the subject.
#[derive(Debug, Clone, PartialEq)]
pub enum Remedy {
    /// `script`: the first script in a suspicious folder, when the break-in is a website's.
    CompromisedAccount {
        script: Option<String>,
    },
    UnsolicitedMail,
    /// `dead`: the dead addresses to remove.
    StaleList {
        dead: u64,
    },
    /// The one or two refusing domains, the busiest first.
    RecipientBlocking {
        domains: Vec<String>,
    },
    /// The block lists named and the listed IP, when a rejection names it.
    SenderBlocklisted {
        lists: Vec<String>,
        ip: Option<String>,
    },
    /// The troubled domain and its busiest failing mail server.
    RemoteServerTrouble {
        domain: String,
        host: Option<String>,
    },
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

/// Returns true if and only if an account is a system user (not an address) that sent mail
/// as more than one sender domain.
fn is_shared_system_user(name: &str, ev: &Evidence) -> bool {
    if name.contains('@') {
        return false;
    }
    let domains: std::collections::BTreeSet<String> = ev
        .senders
        .keys()
        .filter_map(|s| crate::model::event::domain_of(s))
        .map(str::to_ascii_lowercase)
        .collect();
    domains.len() >= 2
}

/// Subjects that are never diagnosed: the null sender, unknown and local-only senders.
const NOT_SUBJECTS: [&str; 3] = ["<>", "(unknown)", "(local)"];

/// A subject to diagnose: its key, evidence and failing recipients.
type SubjectRow<'a> = (SubjectKind, &'a str, &'a Evidence, &'a Tally<'a>);

/// Diagnoses every account and sender domain in the aggregates. Accounts come first, then
/// sender domains, each by failure lines (most first), then name.
pub fn diagnose(agg: &Aggregates<'_>, t: &Thresholds) -> Vec<Diagnosis> {
    let explained = findings::explained_records(agg, t);
    let facts = Facts::of(agg, &explained);
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
        let s = Subject {
            agg,
            t,
            kind,
            name,
            ev,
            tally,
            facts: &facts,
        };
        if kind == SubjectKind::SenderDomain {
            // Several of its accounts on a block list: the domain is listed, one finding.
            let listed: Vec<usize> = (0..out.len())
                .filter(|&i| {
                    out[i].subject_kind == SubjectKind::Account
                        && out[i].verdict == Verdict::SenderBlocklisted
                        && tally.by_account.contains_key(&out[i].subject)
                })
                .collect();
            if listed.len() >= 2
                && let Some(d) = s.diagnose()
                && d.verdict == Verdict::SenderBlocklisted
            {
                for i in listed.into_iter().rev() {
                    out.remove(i);
                }
                out.push(d);
                continue;
            }
            let covered: u64 = out
                .iter()
                .filter(|d| d.subject_kind == SubjectKind::Account)
                .filter_map(|d| tally.by_account.get(&d.subject))
                .sum();
            if share_ok(covered, tally.recipients, t.concentration) {
                continue;
            }
        }
        let Some(d) = s.diagnose() else { continue };
        // A system user that sends for several domains (`www-data` running every site's
        // scripts) is no one's account: its domains are diagnosed on their own. Only a
        // break-in (a script in an upload folder) is its own.
        if kind == SubjectKind::Account
            && d.verdict != Verdict::CompromisedAccount
            && is_shared_system_user(name, ev)
        {
            continue;
        }
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
