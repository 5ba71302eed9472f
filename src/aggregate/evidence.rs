//! The evidence the diagnosis stage reasons over: what the logs say about each sending
//! account and sender domain, and the block lists rejections name.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use super::{Aggregates, HashMap, MAX_SET, entry, shared_entry};
use crate::classify::{Cause, Permanence};
use crate::correlate::Message;
use crate::model::event::lower;
use crate::model::event::{Mta, domain_of};
use crate::model::hour::{Counts, Hour};
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::util::sorted::{SortedMap, SortedSet};

/// Which kind of subject an [`Evidence`] record describes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Account,
    Sender,
    SenderDomain,
    RecipientDomain,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Account => "account",
            SubjectKind::Sender => "sender",
            SubjectKind::SenderDomain => "sender_domain",
            SubjectKind::RecipientDomain => "recipient_domain",
        }
    }
}

/// What the logs say about one sending account or sender domain: the facts the diagnosis
/// stage reasons over.
#[derive(Debug, Default, Clone)]
pub struct Evidence {
    pub counts: Counts,
    /// Messages submitted per hour.
    pub messages_by_hour: Vec<(Hour, u64)>,
    pub messages: u64,
    /// Distinct client IPs that submitted its messages (capped).
    pub client_ips: SortedSet,
    /// Per recipient domain: outcome counts (capped at 4096 domains). The names are shared
    /// copies: hundreds of subjects mail the same domains.
    pub recipient_domains: HashMap<Arc<str>, Counts>,
    /// Failures, deferrals and rejections by cause.
    pub causes: BTreeMap<Cause, u64>,
    /// Permanent failures by cause.
    pub permanent_causes: BTreeMap<Cause, u64>,
    /// One example text per cause.
    pub examples: BTreeMap<Cause, String>,
    /// Blocklists named in rejections.
    pub blocklists: SortedSet,
    /// SMTP AUTH failures for this account.
    pub auth_failures: u64,
    /// IPs whose AUTH attempts for this account failed.
    pub auth_failure_ips: SortedSet,
    /// cPanel script directories that submitted its mail (`cwd=`).
    pub scripts: SortedSet,
    /// Distinct failing recipients.
    pub failing_recipients: u64,
    /// Recipients of the messages submitted per hour (the volume the diagnosis compares).
    pub recipients_by_hour: Vec<(Hour, u64)>,
    /// Messages per envelope sender (capped at 32 senders): names the mailboxes behind an
    /// account.
    pub senders: SortedMap<u64>,
    /// Messages submitted by one of our own users: with an account (SMTP AUTH, local user,
    /// cPanel identification), by a script, locally or from a loopback client. A sender
    /// domain with none is someone else's (inbound mail) and is not diagnosed.
    pub own_messages: u64,
    /// The MTA that logged its outcomes (the last seen).
    pub mta: Option<Mta>,
}

impl Evidence {
    fn add_message(&mut self, h: Hour, recipients: u64) {
        self.messages += 1;
        add_hour(&mut self.messages_by_hour, h, 1);
        add_hour(&mut self.recipients_by_hour, h, recipients);
    }
}

/// Adds `n` to hour `h` of a sorted per-hour series.
fn add_hour(series: &mut Vec<(Hour, u64)>, h: Hour, n: u64) {
    match series.iter_mut().rev().find(|(x, _)| *x == h) {
        Some((_, x)) => *x += n,
        None => {
            let at = series.partition_point(|(x, _)| *x < h);
            if series.len() < 4 {
                series.reserve_exact(1);
            }
            series.insert(at, (h, n));
        }
    }
}

/// Evidence per sending account and per sender domain, looked up by `&str` without
/// allocating.
#[derive(Debug, Default, Clone)]
pub struct EvidenceMaps {
    /// Boxed: a table of a million subjects moves and over-allocates pointers, not records.
    pub accounts: HashMap<Box<str>, Box<Evidence>>,
    pub sender_domains: HashMap<Box<str>, Box<Evidence>>,
}

impl EvidenceMaps {
    fn map(&self, kind: SubjectKind) -> Option<&HashMap<Box<str>, Box<Evidence>>> {
        match kind {
            SubjectKind::Account => Some(&self.accounts),
            SubjectKind::SenderDomain => Some(&self.sender_domains),
            _ => None,
        }
    }

    /// The evidence about one subject (accounts and sender domains are kept).
    pub fn get(&self, kind: SubjectKind, subject: &str) -> Option<&Evidence> {
        self.map(kind)?.get(subject).map(|e| &**e)
    }

    pub(super) fn get_mut(&mut self, kind: SubjectKind, subject: &str) -> Option<&mut Evidence> {
        match kind {
            SubjectKind::Account => self.accounts.get_mut(subject).map(|e| &mut **e),
            SubjectKind::SenderDomain => self.sender_domains.get_mut(subject).map(|e| &mut **e),
            _ => None,
        }
    }

    pub(super) fn slot(&mut self, kind: SubjectKind, subject: &str) -> &mut Evidence {
        match kind {
            SubjectKind::Account => entry::<Box<Evidence>>(&mut self.accounts, subject),
            _ => entry::<Box<Evidence>>(&mut self.sender_domains, subject),
        }
    }

    /// Every subject with its kind.
    pub fn iter(&self) -> impl Iterator<Item = (SubjectKind, &str, &Evidence)> {
        self.accounts
            .iter()
            .map(|(k, v)| (SubjectKind::Account, k.as_ref(), &**v))
            .chain(
                self.sender_domains
                    .iter()
                    .map(|(k, v)| (SubjectKind::SenderDomain, k.as_ref(), &**v)),
            )
    }
}

/// Returns true if and only if `ip` is a loopback address (mail submitted on this host).
fn is_loopback(ip: &str) -> bool {
    ip.starts_with("127.") || ip == "::1"
}

/// A blocklist named in a rejection text: the first `*.spamhaus.org`-style zone, or a
/// well-known list name.
pub fn blocklist_name(text: &str) -> Option<String> {
    let t = text.to_ascii_lowercase();
    const KNOWN: &[&str] = &[
        "spamhaus",
        "spamcop",
        "barracuda",
        "sorbs",
        "uceprotect",
        "psbl",
        "abuseat",
        "cbl",
        "sbl",
        "xbl",
        "pbl",
        "zen",
        "mailspike",
        "hostkarma",
        "senderscore",
        "invaluement",
        "truncate.gbudb",
        "backscatterer",
        "spamrats",
        "s5h",
    ];
    for word in t.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-')) {
        let w = word.trim_matches('.');
        if w.contains('.') && KNOWN.iter().any(|k| w.contains(k)) {
            return Some(w.to_string());
        }
    }
    KNOWN
        .iter()
        .take(6)
        .find(|k| t.contains(*k))
        .map(|k| k.to_string())
}

impl Aggregates<'_> {
    pub(super) fn record_evidence(
        &mut self,
        kind: SubjectKind,
        subject: &str,
        o: &Outcome<'_>,
        cause: Option<(Cause, Permanence)>,
        rcpt_domain: Option<&str>,
        blocklist: &mut Option<Option<String>>,
    ) {
        let pool = &mut self.pool;
        let ev = self.evidence.slot(kind, subject);
        ev.counts.add(o.kind);
        ev.mta = Some(o.mta);
        if let Some(d) = rcpt_domain
            && (ev.recipient_domains.len() < MAX_SET || ev.recipient_domains.contains_key(d))
        {
            shared_entry(&mut ev.recipient_domains, pool, d).add(o.kind);
        }
        if let Some((c, p)) = cause {
            *ev.causes.entry(c).or_default() += 1;
            if p == Permanence::Permanent && o.kind != OutcomeKind::Deferred {
                *ev.permanent_causes.entry(c).or_default() += 1;
            }
            if let Some(t) = o.text {
                ev.examples
                    .entry(c)
                    .or_insert_with(|| t.chars().take(300).collect());
                // `blocklist`: the name found in this outcome's text, found once for both
                // of its subjects.
                if c == Cause::Blocklisted
                    && ev.blocklists.len() < 32
                    && let Some(name) = blocklist.get_or_insert_with(|| blocklist_name(t))
                {
                    ev.blocklists.insert_str(name);
                }
            }
        }
        if let Some(s) = o.script
            && ev.scripts.len() < 32
        {
            ev.scripts.insert_str(s);
        }
    }

    /// Records a finished message in the evidence of its account and sender domain: volume
    /// per hour, whether one of our own users sent it, its envelope sender, client IP and
    /// script.
    pub(super) fn record_message(&mut self, m: &Message) {
        let h = Hour::of(&m.first_seen);
        let subjects = [
            (SubjectKind::Account, m.account.as_deref().map(lower)),
            (
                SubjectKind::SenderDomain,
                m.sender.as_deref().and_then(domain_of).map(lower),
            ),
        ];
        let own = m.account.is_some()
            || m.script.is_some()
            || m.client_ip.as_deref().is_some_and(is_loopback)
            || m.protocol
                .as_deref()
                .is_some_and(|p| p.starts_with("local"));
        let sender = m.sender.as_deref().filter(|s| !s.is_empty()).map(lower);
        for (kind, s) in subjects {
            let Some(s) = s else { continue };
            let ev = self.evidence.slot(kind, &s);
            ev.add_message(h, m.recipients.len() as u64);
            if own {
                ev.own_messages += 1;
            }
            if let Some(sender) = &sender {
                let full = ev.senders.len() >= 32;
                match ev.senders.get_mut(sender.as_ref()) {
                    Some(n) => *n += 1,
                    None if !full => {
                        ev.senders.insert(sender.to_string(), 1);
                    }
                    None => {}
                }
            }
            if let Some(ip) = &m.client_ip
                && ev.client_ips.len() < MAX_SET
            {
                ev.client_ips.insert_str(ip);
            }
            if let Some(sc) = &m.script
                && ev.scripts.len() < 32
            {
                ev.scripts.insert_str(sc);
            }
        }
    }
}
