//! Aggregation: counted outcomes → per clock hour figures per sender domain, sending account,
//! envelope sender and recipient domain; cPanel's "max defers and failures per hour" rule
//! replayed per sender domain and hour; the limit trips the log itself records; failing
//! recipients; and the evidence the diagnosis stage reasons over.
//!
//! Keys are looked up by `&str`, so counting a line that belongs to a known key allocates
//! nothing; a string is copied only the first time a key is seen.
//!
//! [`Aggregates`] and its [`Sink`] impl are here; the replay and log limits in `replay.rs`,
//! failing recipients in `failing.rs`, evidence in `evidence.rs`, the selection in
//! `filter.rs`, hand-offs, loopback relays and our own domains in `local.rs`, when a domain
//! is really invalid in `dns.rs`; the daily summary's figures (bytes, volumes, warnings,
//! frozen and removed messages) in `daily.rs` with its bounded tables in `topk.rs`;
//! [`threaded`] runs the aggregates on a second thread.

use std::collections::BTreeMap;

pub use crate::util::hash::{HashMap, HashSet};

use crate::classify::{CachedClassifier, Cause, Permanence};
use crate::correlate::{Message, Sink};
use crate::model::cpanel::{LimitRule, UNKNOWN, is_local_sender, rule_counts, sender_domain_key};
use crate::model::event::lower;
use crate::model::event::{Event, Kind, Timestamp, domain_of};
use crate::model::hour::{Counts, Hour, HourSeries};
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::util::intern::Interner;

pub mod daily;
mod dns;
mod evidence;
mod failing;
mod fold;

mod local;
mod replay;
#[cfg(test)]
mod tests;
pub mod threaded;
pub mod topk;

pub use crate::correlate::Filter;
pub use evidence::{Evidence, EvidenceMaps, SubjectKind, blocklist_name};
pub use failing::{FailRec, MAX_FAILING_RECIPIENTS};
pub use fold::Folded;
pub use local::LocalRelay;
pub use replay::{DomainHour, LogLimit, TripMark, Trips, is_cpanel_line};

/// Looks a key up by `&str`, copying it only when it is new.
fn entry<'m, V: Default>(map: &'m mut HashMap<Box<str>, V>, key: &str) -> &'m mut V {
    entry_with(map, key, |k| k.into())
}

/// Looks a key up by `&str`; a new key is the pool's shared copy, so a text that many
/// tables hold (a recipient domain, an MX host) is stored once.
fn shared_entry<'m, V: Default>(
    map: &'m mut HashMap<std::sync::Arc<str>, V>,
    pool: &mut Interner,
    key: &str,
) -> &'m mut V {
    entry_with(map, key, |k| pool.get(k))
}

/// The entry of `key`, looked up by `&str`; a new one's key is made by `make`.
fn entry_with<'m, K, V: Default>(
    map: &'m mut HashMap<K, V>,
    key: &str,
    make: impl FnOnce(&str) -> K,
) -> &'m mut V
where
    K: std::borrow::Borrow<str> + std::hash::Hash + Eq,
{
    use hashbrown::hash_map::RawEntryMut;
    match map.raw_entry_mut().from_key(key) {
        RawEntryMut::Occupied(o) => o.into_mut(),
        RawEntryMut::Vacant(v) => v.insert(make(key), V::default()).1,
    }
}

/// Caps that keep evidence bounded on huge logs.
const MAX_SET: usize = 4096;

/// Every figure the report is built from.
pub struct Aggregates<'c> {
    pub rule: LimitRule,
    pub filter: Filter,
    classifier: CachedClassifier<'c>,
    /// Verdicts by an address-blind hash of (code, status, text): texts that differ only in
    /// the recipient's address ("550 5.1.1 <a@x>: no such user") are classified once.
    verdicts: HashMap<u64, crate::classify::Classification>,
    pub totals: Counts,
    /// Deferrals that made no delivery attempt ("queued, not attempted"): in no count of
    /// [`totals`](Self::totals) and no table, only in cPanel's replayed rule.
    pub not_attempted: u64,
    /// Deliveries that handed the message on to a local content filter or another queue of
    /// this host (hops, not deliveries): in no other count.
    pub handed_off: u64,
    /// Deferrals and failures at a loopback relay, by relay: counted in the totals and per
    /// sender, never against a recipient domain or as a failing recipient.
    pub local_relays: HashMap<Box<str>, LocalRelay>,
    /// Domains this host delivered mail to (lower case, capped): part of
    /// [`own_domains`](Self::own_domains).
    pub delivered_here: HashSet<Box<str>>,
    /// The log has lines only a cPanel server writes ([`is_cpanel_line`]): cPanel's
    /// defer/fail rule applies to it.
    pub cpanel: bool,
    pub messages: u64,
    pub bounce_messages: u64,
    pub recipients: u64,
    pub incomplete_messages: u64,
    pub admin_removed: u64,
    pub frozen_messages: u64,
    /// Time of the first and last counted event.
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    pub by_hour: BTreeMap<Hour, Counts>,
    pub by_sender_domain: HashMap<Box<str>, HourSeries>,
    pub by_account: HashMap<Box<str>, HourSeries>,
    pub by_sender: HashMap<Box<str>, HourSeries>,
    pub by_recipient_domain: HashMap<Box<str>, HourSeries>,
    /// Per recipient domain: the destination hosts of deferred and failed attempts.
    pub recipient_domain_hosts: HashMap<Box<str>, HashMap<Box<str>, Counts>>,
    /// cPanel rule replay per sender domain and hour.
    pub replay: HashMap<Box<str>, Vec<(Hour, DomainHour)>>,
    /// Trips the log records, keyed by (domain, hour, kind).
    pub log_limits: Vec<LogLimit>,
    /// Failing recipients: recipient (lower case) → one record per sender. At most
    /// [`MAX_FAILING_RECIPIENTS`] (recipient, sender) records are listed, so memory stays bounded.
    pub failing: HashMap<Box<str>, Vec<FailRec>>,
    /// Records in `failing` (capped at [`MAX_FAILING_RECIPIENTS`]).
    failing_records: usize,
    /// Shared copies of the texts failing records repeat (senders, replies, hosts).
    pool: Interner,
    /// Counted lines of failing recipients that were not listed because the list was full.
    pub failing_unlisted_lines: u64,
    /// Evidence per sending account and sender domain.
    pub evidence: EvidenceMaps,
    /// SMTP AUTH failures (all accounts).
    pub auth_failures: u64,
    /// SMTP AUTH failures per client IP (capped), with or without a logged login name.
    pub auth_failures_by_ip: HashMap<Box<str>, u64>,
    /// Counted outcomes by cause (deferred, bounced, rejected, expired).
    pub causes: BTreeMap<Cause, u64>,
    /// Lines counted as `domain_invalid`, per recipient domain not delivered to so far
    /// (capped): corrected to `network` if mail to the domain is delivered later.
    invalid_domains: HashMap<Box<str>, u64>,
    /// The daily summary's figures.
    pub daily: daily::Daily,
    /// Sender domains, accounts and senders tracked one by one, at most (of each kind).
    max_subjects: usize,
    /// The table lengths (sender domains, accounts, senders) that start the next fold.
    fold_at: [usize; 3],
    /// Subjects folded into the totals past `max_subjects`.
    pub folded: Folded,
}

impl<'c> Aggregates<'c> {
    pub fn new(rule: LimitRule, filter: Filter, classifier: CachedClassifier<'c>) -> Self {
        Aggregates {
            rule,
            filter,
            classifier,
            verdicts: HashMap::default(),
            totals: Counts::default(),
            not_attempted: 0,
            handed_off: 0,
            local_relays: HashMap::default(),
            delivered_here: HashSet::default(),
            cpanel: false,
            messages: 0,
            bounce_messages: 0,
            recipients: 0,
            incomplete_messages: 0,
            admin_removed: 0,
            frozen_messages: 0,
            first: None,
            last: None,
            by_hour: BTreeMap::new(),
            by_sender_domain: HashMap::default(),
            by_account: HashMap::default(),
            by_sender: HashMap::default(),
            by_recipient_domain: HashMap::default(),
            recipient_domain_hosts: HashMap::default(),
            replay: HashMap::default(),
            log_limits: Vec::new(),
            failing: HashMap::default(),
            failing_records: 0,
            pool: Interner::default(),
            failing_unlisted_lines: 0,
            evidence: EvidenceMaps::default(),
            auth_failures: 0,
            auth_failures_by_ip: HashMap::default(),
            causes: BTreeMap::new(),
            invalid_domains: HashMap::default(),
            daily: daily::Daily::default(),
            max_subjects: usize::MAX,
            fold_at: [usize::MAX; 3],
            folded: Folded::default(),
        }
    }

    /// Classifies through the address-blind cache.
    fn classify(
        &mut self,
        code: Option<u16>,
        status: Option<&str>,
        text: &str,
    ) -> crate::classify::Classification {
        use std::hash::{BuildHasher, Hash, Hasher};
        let mut h = self.verdicts.hasher().build_hasher();
        code.hash(&mut h);
        status.hash(&mut h);
        hash_without_addresses(text, &mut h);
        let key = h.finish();
        if let Some(v) = self.verdicts.get(&key) {
            return *v;
        }
        if self.verdicts.len() >= 200_000 {
            self.verdicts.clear();
        }
        let v = self.classifier.classify(code, status, text);
        self.verdicts.insert(key, v);
        v
    }

    /// The cause and permanence of a counted line that is not a delivery (`None` for a
    /// delivery), counted by cause and, per recipient domain, by destination host.
    fn cause_of(
        &mut self,
        o: &Outcome<'_>,
        rcpt_domain: Option<&str>,
        dest_host: Option<&str>,
    ) -> Option<(Cause, Permanence)> {
        if o.kind == OutcomeKind::Delivered {
            return None;
        }
        let v = if o.limit.is_some() {
            crate::classify::Classification {
                cause: Cause::SendingLimit,
                permanence: if o.kind == OutcomeKind::Deferred {
                    Permanence::Temporary
                } else {
                    Permanence::Permanent
                },
            }
        } else if o.kind == OutcomeKind::Expired {
            crate::classify::Classification {
                cause: Cause::Expired,
                permanence: Permanence::Permanent,
            }
        } else {
            let v = self.classify(o.code, o.status, o.text.unwrap_or(""));
            self.check_domain_invalid(o, rcpt_domain, v)
        };
        *self.causes.entry(v.cause).or_default() += 1;
        if let (Some(d), Some(host)) = (rcpt_domain, dest_host) {
            let hosts = entry(&mut self.recipient_domain_hosts, d);
            if hosts.len() < 64 || hosts.contains_key(host) {
                entry(hosts, host).add(o.kind);
            }
        }
        Some((v.cause, v.permanence))
    }
}

/// Feeds `text` to a hasher with every address-like token (a run of characters between
/// delimiters that holds an `@`) left out.
fn hash_without_addresses(text: &str, h: &mut impl std::hash::Hasher) {
    let b = text.as_bytes();
    let is_delim = |c: u8| {
        matches!(
            c,
            b' ' | b'<' | b'>' | b'(' | b')' | b'"' | b'\'' | b',' | b';' | b'[' | b']' | b'\t'
        )
    };
    let mut i = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && !is_delim(b[i]) {
            i += 1;
        }
        let token = &b[start..i];
        if !token.contains(&b'@') {
            h.write(token);
        }
        if i < b.len() {
            h.write_u8(b[i]);
            i += 1;
        }
    }
}

impl Aggregates<'_> {
    fn note_period(&mut self, t: &Timestamp) {
        if self.first.is_none_or(|f| *t < f) {
            self.first = Some(*t);
        }
        if self.last.is_none_or(|l| *t > l) {
            self.last = Some(*t);
        }
    }

    /// One counted line that was a delivery attempt (or a rejection or expiry): the totals,
    /// the per-hour tables, the causes, the evidence and the failing recipients.
    fn count_line(&mut self, o: &Outcome<'_>, h: Hour, sender_domain: &str) {
        self.totals.add(o.kind);
        self.by_hour.entry(h).or_default().add(o.kind);
        entry(&mut self.by_sender_domain, sender_domain).add(h, o.kind);
        let account = o.account.map(lower);
        if let Some(a) = &account {
            entry(&mut self.by_account, a).add(h, o.kind);
        }
        let sender_key = match o.sender {
            Some("") => "<>",
            Some(s) => s,
            None => UNKNOWN,
        };
        entry(&mut self.by_sender, &lower(sender_key)).add(h, o.kind);
        // A loopback relay is our own content filter or relay: what fails there says nothing
        // about the recipient's domain or its servers.
        let local_relay = local::at_local_relay(o);
        let rcpt_domain = o
            .recipient
            .or(o.original_recipient)
            .and_then(domain_of)
            .map(lower)
            .filter(|_| !local_relay);
        if let Some(d) = &rcpt_domain {
            entry(&mut self.by_recipient_domain, d).add(h, o.kind);
            if o.kind == OutcomeKind::Delivered {
                self.domain_reached(d);
            }
        }
        // The host of a rejection is the client we refused, not a destination's MX.
        let dest_host = o
            .host
            .filter(|_| !local_relay && o.kind != OutcomeKind::Rejected);

        let verdict = self.cause_of(o, rcpt_domain.as_deref(), dest_host);
        let mut blocklist = None;
        if let Some(a) = &account {
            self.record_evidence(
                SubjectKind::Account,
                a,
                o,
                verdict,
                rcpt_domain.as_deref(),
                &mut blocklist,
            );
        }
        // An SMTP-time rejection without an account is someone else's mail refused at our
        // door (inbound spam): it says nothing about our senders, and keeping evidence for
        // every forged sender domain would grow with the log.
        let ours = is_local_sender(o) || o.kind != OutcomeKind::Rejected;
        if sender_domain != UNKNOWN && ours {
            self.record_evidence(
                SubjectKind::SenderDomain,
                sender_domain,
                o,
                verdict,
                rcpt_domain.as_deref(),
                &mut blocklist,
            );
        }
        let (cause, permanence) = verdict.unwrap_or((Cause::Other, Permanence::Unknown));
        if local_relay {
            self.record_local_relay(o, cause);
        } else {
            self.record_failing(o, (cause, permanence), dest_host);
        }
    }
}

/// Returns true if and only if the line is a deferral that made no delivery attempt (retry
/// time not reached, a queue-only or held domain, Postfix's suspended destination).
fn is_not_attempted(o: &Outcome<'_>) -> bool {
    o.retry_not_due && o.kind == OutcomeKind::Deferred
}

impl Sink for Aggregates<'_> {
    fn outcome(&mut self, o: &Outcome<'_>) {
        // Which domains are ours is a fact of the whole log, whatever the selection.
        self.record_own_domain(o);
        if !self.filter.outcome_ok(o) {
            return;
        }
        self.note_period(&o.time);
        let h = Hour::of(&o.time);
        let sender_domain = sender_domain_key(o.sender);
        // cPanel's rule counts the mail of identified local senders (an authenticated
        // account, a local user, cPanel's `Sender identification`): mail relayed in from
        // outside is not charged to its sender's domain. The null sender and unknown senders
        // have no domain to block. It counts every `==` line, those that made no attempt too.
        if rule_counts(o, &sender_domain) {
            self.replay_line(&sender_domain, h, o);
        }
        if o.limit.is_some() {
            self.record_log_limit(o, &sender_domain);
        }
        if is_not_attempted(o) {
            // Queued, not attempted: not a failed delivery, so no failure rate, cause,
            // evidence or failing recipient counts it.
            self.not_attempted += 1;
            return;
        }
        self.count_line(o, h, &sender_domain);
        self.daily.delivered(o);
        self.maybe_fold();
    }

    fn hand_off(&mut self, o: &Outcome<'_>) {
        self.record_hand_off(o);
    }

    fn message_done(&mut self, m: Message) {
        let m = &m;
        let frozen_at = self.daily.forget(m);
        if !m.counts_as_message() || !self.filter.message_ok(m) {
            return;
        }
        self.daily.message(m, frozen_at);
        self.messages += 1;
        if m.is_bounce() {
            self.bounce_messages += 1;
        }
        self.recipients += m.recipients.len() as u64;
        match m.ending {
            Some(crate::correlate::Ending::Incomplete) => self.incomplete_messages += 1,
            Some(crate::correlate::Ending::AdminRemoved) => self.admin_removed += 1,
            _ => {}
        }
        if m.frozen {
            self.frozen_messages += 1;
        }
        self.record_message(m);
        self.maybe_fold();
    }

    fn event(&mut self, e: &Event<'_>, _m: Option<&Message>) {
        if !self.cpanel && is_cpanel_line(e) {
            self.cpanel = true;
        }
        self.daily.event(e, self.filter.time_ok(&e.time));
        if e.kind == Kind::AuthFailed && self.filter.time_ok(&e.time) {
            self.auth_failures += 1;
            if let Some(ip) = e.ip
                && (self.auth_failures_by_ip.len() < MAX_SET
                    || self.auth_failures_by_ip.contains_key(ip))
            {
                *entry(&mut self.auth_failures_by_ip, ip) += 1;
            }
            if let Some(a) = e.account {
                let ev = self.evidence.slot(SubjectKind::Account, &lower(a));
                ev.auth_failures += 1;
                if let Some(ip) = e.ip
                    && ev.auth_failure_ips.len() < MAX_SET
                {
                    ev.auth_failure_ips.insert(ip.to_string());
                }
                self.maybe_fold();
            }
        }
    }
}
