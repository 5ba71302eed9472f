//! Aggregation: counted outcomes → per clock hour figures per sender domain, sending account,
//! envelope sender and recipient domain; cPanel's "max defers and failures per hour" rule
//! replayed per sender domain and hour; the limit trips the log itself records; failing
//! recipients; and the evidence the diagnosis stage reasons over.
//!
//! Keys are looked up by `&str`, so counting a line that belongs to a known key allocates
//! nothing; a string is copied only the first time a key is seen.

use std::collections::{BTreeMap, BTreeSet};

pub use crate::util::hash::{HashMap, HashSet};

use serde::Serialize;

use crate::classify::{CachedClassifier, Cause, Permanence};
use crate::correlate::{Message, Sink};
use crate::model::cpanel::{LimitRule, UNKNOWN, is_local_sender, rule_counts, sender_domain_key};
use crate::model::event::lower;
use crate::model::event::{Event, Kind, LimitKind, Mta, Timestamp, domain_of};
use crate::model::hour::{Counts, Hour, HourSeries};
use crate::model::outcome::{Outcome, OutcomeKind};

/// Looks a key up by `&str`, copying it only when it is new.
fn entry<'m, V: Default>(map: &'m mut HashMap<Box<str>, V>, key: &str) -> &'m mut V {
    use hashbrown::hash_map::RawEntryMut;
    match map.raw_entry_mut().from_key(key) {
        RawEntryMut::Occupied(o) => o.into_mut(),
        RawEntryMut::Vacant(v) => v.insert(key.into(), V::default()).1,
    }
}

/// The moment a replayed rule tripped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TripMark {
    pub at: Timestamp,
    pub defer_fail: u64,
    pub percent: f64,
}

/// Replay state of one sender domain in one hour.
#[derive(Debug, Default, Clone)]
pub struct DomainHour {
    pub counts: Counts,
    /// Trips of the rule at `--limit-percent` (index 0) and at 100/50/25% (1..=3).
    pub trips: [Option<TripMark>; 4],
    /// Highest closeness to the configured (or 100%) trip condition, 1.0 = tripped.
    pub peak: f64,
    pub peak_at: Option<Timestamp>,
    /// Distinct messages with lines after the configured trip (what cPanel would discard).
    pub after_trip: HashSet<Box<str>>,
}

/// A limit trip recorded by the log itself (`R=enforce_mail_permissions`).
#[derive(Debug, Clone, PartialEq)]
pub struct LogLimit {
    pub domain: String,
    pub hour: Hour,
    pub kind: LimitKind,
    pub first: Timestamp,
    pub count: Option<i64>,
    pub max: Option<i64>,
    pub percent: Option<i64>,
    /// Discard (or deferral) lines.
    pub lines: u64,
    /// Distinct messages affected.
    pub messages: HashSet<String>,
    /// Lines that deferred rather than discarded ("Message will be reattempted later").
    pub deferred_lines: u64,
}

/// One failing recipient of one sender.
#[derive(Debug, Clone, PartialEq)]
pub struct FailRec {
    pub recipient: String,
    pub sender: Option<String>,
    pub account: Option<String>,
    pub last: OutcomeKind,
    pub counts: Counts,
    pub code: Option<u16>,
    pub status: Option<String>,
    pub text: Option<String>,
    pub host: Option<String>,
    pub cause: Cause,
    pub permanence: Permanence,
    pub first: Timestamp,
    pub last_time: Timestamp,
    pub queue_ids: Vec<String>,
}

impl FailRec {
    /// Attempts: every line counted for this recipient and sender.
    pub fn attempts(&self) -> u64 {
        self.counts.total()
    }
}

/// Which kind of subject an [`Evidence`] record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
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

/// Caps that keep evidence bounded on huge logs.
const MAX_SET: usize = 4096;

/// What the logs say about one sending account or sender domain: the facts the diagnosis
/// stage reasons over.
#[derive(Debug, Default, Clone)]
pub struct Evidence {
    pub counts: Counts,
    /// Messages submitted per hour.
    pub messages_by_hour: Vec<(Hour, u64)>,
    pub messages: u64,
    /// Distinct client IPs that submitted its messages (capped).
    pub client_ips: BTreeSet<String>,
    /// Per recipient domain: outcome counts (capped at [`MAX_SET`] domains).
    pub recipient_domains: HashMap<Box<str>, Counts>,
    /// Per destination MX host of failing or deferred attempts.
    pub failing_hosts: HashMap<Box<str>, Counts>,
    /// Failures, deferrals and rejections by cause.
    pub causes: BTreeMap<Cause, u64>,
    /// Permanent failures by cause.
    pub permanent_causes: BTreeMap<Cause, u64>,
    /// One example text per cause.
    pub examples: BTreeMap<Cause, String>,
    /// Blocklists named in rejections.
    pub blocklists: BTreeSet<String>,
    /// SMTP AUTH failures for this account.
    pub auth_failures: u64,
    /// IPs whose AUTH attempts for this account failed.
    pub auth_failure_ips: BTreeSet<String>,
    /// cPanel script directories that submitted its mail (`cwd=`).
    pub scripts: BTreeSet<String>,
    /// Distinct failing recipients.
    pub failing_recipients: u64,
    /// Recipients of the messages submitted per hour (the volume the diagnosis compares).
    pub recipients_by_hour: Vec<(Hour, u64)>,
    /// Messages per envelope sender (capped at 32 senders): names the mailboxes behind an
    /// account.
    pub senders: BTreeMap<String, u64>,
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
            series.insert(at, (h, n));
        }
    }
}

/// Evidence per sending account and per sender domain, looked up by `&str` without
/// allocating.
#[derive(Debug, Default, Clone)]
pub struct EvidenceMaps {
    pub accounts: HashMap<Box<str>, Evidence>,
    pub sender_domains: HashMap<Box<str>, Evidence>,
}

impl EvidenceMaps {
    fn map(&self, kind: SubjectKind) -> Option<&HashMap<Box<str>, Evidence>> {
        match kind {
            SubjectKind::Account => Some(&self.accounts),
            SubjectKind::SenderDomain => Some(&self.sender_domains),
            _ => None,
        }
    }

    /// The evidence about one subject (accounts and sender domains are kept).
    pub fn get(&self, kind: SubjectKind, subject: &str) -> Option<&Evidence> {
        self.map(kind)?.get(subject)
    }

    fn get_mut(&mut self, kind: SubjectKind, subject: &str) -> Option<&mut Evidence> {
        match kind {
            SubjectKind::Account => self.accounts.get_mut(subject),
            SubjectKind::SenderDomain => self.sender_domains.get_mut(subject),
            _ => None,
        }
    }

    fn slot(&mut self, kind: SubjectKind, subject: &str) -> &mut Evidence {
        match kind {
            SubjectKind::Account => entry(&mut self.accounts, subject),
            _ => entry(&mut self.sender_domains, subject),
        }
    }

    /// Every subject with its kind.
    pub fn iter(&self) -> impl Iterator<Item = (SubjectKind, &str, &Evidence)> {
        self.accounts
            .iter()
            .map(|(k, v)| (SubjectKind::Account, k.as_ref(), v))
            .chain(
                self.sender_domains
                    .iter()
                    .map(|(k, v)| (SubjectKind::SenderDomain, k.as_ref(), v)),
            )
    }
}

/// Returns true if and only if `ip` is a loopback address (mail submitted on this host).
fn is_loopback(ip: &str) -> bool {
    ip.starts_with("127.") || ip == "::1"
}

/// Selects what the report counts (`--since`, `--until`, `--sender`, `--account`, `--domain`).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since: Option<chrono::NaiveDateTime>,
    pub until: Option<chrono::NaiveDateTime>,
    /// An address, or `@domain`.
    pub sender: Option<String>,
    pub account: Option<String>,
    pub domain: Option<String>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.since.is_none()
            && self.until.is_none()
            && self.sender.is_none()
            && self.account.is_none()
            && self.domain.is_none()
    }

    pub fn time_ok(&self, t: &Timestamp) -> bool {
        self.since.is_none_or(|s| t.local >= s) && self.until.is_none_or(|u| t.local < u)
    }

    fn sender_ok(&self, sender: Option<&str>) -> bool {
        match &self.sender {
            None => true,
            Some(want) => sender.is_some_and(|s| {
                if let Some(d) = want.strip_prefix('@') {
                    domain_of(s).is_some_and(|sd| sd.eq_ignore_ascii_case(d))
                } else {
                    s.eq_ignore_ascii_case(want)
                }
            }),
        }
    }

    fn account_ok(&self, account: Option<&str>) -> bool {
        self.account
            .as_deref()
            .is_none_or(|want| account.is_some_and(|a| a.eq_ignore_ascii_case(want)))
    }

    fn domain_ok(&self, sender: Option<&str>, recipient: Option<&str>) -> bool {
        match &self.domain {
            None => true,
            Some(d) => [sender, recipient].into_iter().flatten().any(|a| {
                domain_of(a).is_some_and(|x| {
                    x.eq_ignore_ascii_case(d)
                        || (x.len() > d.len()
                            && x.to_ascii_lowercase()
                                .ends_with(&format!(".{}", d.to_ascii_lowercase())))
                })
            }),
        }
    }

    pub fn outcome_ok(&self, o: &Outcome<'_>) -> bool {
        self.time_ok(&o.time)
            && self.sender_ok(o.sender)
            && self.account_ok(o.account)
            && self.domain_ok(o.sender, o.recipient)
    }

    pub fn message_ok(&self, m: &Message) -> bool {
        self.time_ok(&m.first_seen)
            && self.sender_ok(m.sender.as_deref())
            && self.account_ok(m.account.as_deref())
            && (self.domain.is_none()
                || self.domain_ok(m.sender.as_deref(), None)
                || m.recipients
                    .iter()
                    .any(|r| self.domain_ok(None, Some(&r.address))))
    }
}

/// Every figure the report is built from.
pub struct Aggregates<'c> {
    pub rule: LimitRule,
    pub filter: Filter,
    classifier: CachedClassifier<'c>,
    /// Verdicts by an address-blind hash of (code, status, text): texts that differ only in
    /// the recipient's address ("550 5.1.1 <a@x>: no such user") are classified once.
    verdicts: HashMap<u64, crate::classify::Classification>,
    pub totals: Counts,
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
    /// [`MAX_FAILING_RECIPIENTS`] recipients are listed, so memory stays bounded.
    pub failing: HashMap<Box<str>, Vec<FailRec>>,
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
}

/// The most failing recipients listed one by one. Lines of further recipients still count in
/// every total; the report says how many were not listed.
pub const MAX_FAILING_RECIPIENTS: usize = 100_000;

impl<'c> Aggregates<'c> {
    pub fn new(rule: LimitRule, filter: Filter, classifier: CachedClassifier<'c>) -> Self {
        Aggregates {
            rule,
            filter,
            classifier,
            verdicts: HashMap::default(),
            totals: Counts::default(),
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
            failing_unlisted_lines: 0,
            evidence: EvidenceMaps::default(),
            auth_failures: 0,
            auth_failures_by_ip: HashMap::default(),
            causes: BTreeMap::new(),
        }
    }

    /// Replays the cPanel rule for one counted line of a sender domain.
    fn replay_line(&mut self, domain: &str, h: Hour, o: &Outcome<'_>) {
        let rule = self.rule;
        let hours = entry(&mut self.replay, domain);
        let i = match hours.iter().rposition(|(x, _)| *x == h) {
            Some(i) => i,
            None => {
                hours.push((h, DomainHour::default()));
                hours.len() - 1
            }
        };
        let dh = &mut hours[i].1;
        // Messages after the trip of the configured rule (or of the 100% replay when the
        // percentage is off): what cPanel would have discarded.
        let effective = if rule.percent.is_some() { 0 } else { 1 };
        if let (Some(_), Some(q)) = (dh.trips[effective], o.queue_id)
            && dh.after_trip.len() < MAX_SET
            && !dh.after_trip.contains(q)
        {
            dh.after_trip.insert(q.into());
        }
        dh.counts.add(o.kind);
        if !o.kind.is_defer_fail() {
            return;
        }
        let df = dh.counts.defer_fail();
        let pct = dh.counts.defer_fail_percent();
        let mark = TripMark {
            at: o.time,
            defer_fail: df,
            percent: pct,
        };
        let thresholds = [rule.percent, Some(100), Some(50), Some(25)];
        for (slot, p) in thresholds.iter().enumerate() {
            if let Some(p) = p
                && dh.trips[slot].is_none()
                && rule.trips_at(&dh.counts, *p)
            {
                dh.trips[slot] = Some(mark);
            }
        }
        let target = rule.percent.unwrap_or(100) as f64;
        let closeness = (df as f64 / rule.min.max(1) as f64)
            .min(pct / target)
            .min(1.0);
        if closeness > dh.peak {
            dh.peak = closeness;
            dh.peak_at = Some(o.time);
        }
    }

    fn record_log_limit(&mut self, o: &Outcome<'_>, sender_domain: &str) {
        let Some(l) = o.limit else { return };
        let domain = l
            .domain
            .map(|d| d.to_ascii_lowercase())
            .unwrap_or_else(|| sender_domain.to_string());
        let h = Hour::of(&o.time);
        let rec = match self
            .log_limits
            .iter_mut()
            .find(|x| x.hour == h && x.kind == l.kind && x.domain == domain)
        {
            Some(r) => r,
            None => {
                self.log_limits.push(LogLimit {
                    domain,
                    hour: h,
                    kind: l.kind,
                    first: o.time,
                    count: l.count,
                    max: l.max,
                    percent: l.percent,
                    lines: 0,
                    messages: HashSet::default(),
                    deferred_lines: 0,
                });
                self.log_limits.last_mut().expect("pushed")
            }
        };
        rec.lines += 1;
        if o.kind == OutcomeKind::Deferred {
            rec.deferred_lines += 1;
        }
        if let Some(q) = o.queue_id
            && rec.messages.len() < MAX_SET
        {
            rec.messages.insert(q.to_string());
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

    /// The cause last recorded for this recipient and sender, if any.
    fn previous_verdict(&self, o: &Outcome<'_>) -> Option<crate::classify::Classification> {
        let rcpt = o.recipient.or(o.original_recipient)?;
        let r = self
            .failing
            .get(lower(rcpt).as_ref())?
            .iter()
            .find(|r| r.sender.as_deref() == o.sender)?;
        Some(crate::classify::Classification {
            cause: r.cause,
            permanence: r.permanence,
        })
    }

    fn record_failing(&mut self, o: &Outcome<'_>, cause: Cause, permanence: Permanence) {
        let Some(rcpt) = o.recipient.or(o.original_recipient) else {
            return;
        };
        let key = lower(rcpt);
        if o.kind == OutcomeKind::Delivered {
            // Only an address that has failed before is tracked.
            if let Some(list) = self.failing.get_mut(key.as_ref())
                && let Some(r) = list.iter_mut().find(|r| r.sender.as_deref() == o.sender)
            {
                r.last = OutcomeKind::Delivered;
                r.counts.add(OutcomeKind::Delivered);
                r.last_time = o.time;
            }
            return;
        }
        if self.failing.len() >= MAX_FAILING_RECIPIENTS && !self.failing.contains_key(key.as_ref())
        {
            self.failing_unlisted_lines += 1;
            return;
        }
        let list = entry(&mut self.failing, &key);
        let is_new_sender = !list.iter().any(|r| r.sender.as_deref() == o.sender);
        if is_new_sender {
            // Nearly every recipient fails for one sender: keep the list exactly that long.
            list.reserve_exact(1);
            list.push(FailRec {
                recipient: rcpt.to_string(),
                sender: o.sender.map(str::to_string),
                account: o.account.map(str::to_string),
                last: o.kind,
                counts: Counts::default(),
                code: None,
                status: None,
                text: None,
                host: None,
                cause,
                permanence,
                first: o.time,
                last_time: o.time,
                queue_ids: Vec::new(),
            });
        }
        let r = list
            .iter_mut()
            .find(|r| r.sender.as_deref() == o.sender)
            .expect("present");
        r.counts.add(o.kind);
        r.last = o.kind;
        r.last_time = o.time;
        if o.retry_not_due && r.text.is_some() {
            // Keep the last real reply: a retry-not-due line made no attempt.
            return;
        }
        r.cause = cause;
        r.permanence = permanence;
        if o.code.is_some() || r.code.is_none() {
            r.code = o.code.or(r.code);
        }
        if let Some(s) = o.status {
            r.status = Some(s.to_string());
        }
        if let Some(t) = o.text
            && r.text.as_deref() != Some(t)
        {
            r.text = Some(t.to_string());
        }
        if let Some(h) = o.host {
            r.host = Some(h.to_string());
        }
        if r.account.is_none() {
            r.account = o.account.map(str::to_string);
        }
        if let Some(q) = o.queue_id
            && r.queue_ids.len() < 8
            && !r.queue_ids.iter().any(|x| x == q)
        {
            r.queue_ids.push(q.to_string());
        }
        if is_new_sender {
            for (kind, subject) in [
                (SubjectKind::Account, o.account),
                (SubjectKind::SenderDomain, o.sender.and_then(domain_of)),
            ] {
                if let Some(s) = subject
                    && let Some(ev) = self.evidence.get_mut(kind, &lower(s))
                {
                    ev.failing_recipients += 1;
                }
            }
        }
    }

    fn record_evidence(
        &mut self,
        kind: SubjectKind,
        subject: &str,
        o: &Outcome<'_>,
        cause: Option<(Cause, Permanence)>,
        rcpt_domain: Option<&str>,
    ) {
        let ev = self.evidence.slot(kind, subject);
        ev.counts.add(o.kind);
        ev.mta = Some(o.mta);
        if let Some(d) = rcpt_domain
            && (ev.recipient_domains.len() < MAX_SET || ev.recipient_domains.contains_key(d))
        {
            entry(&mut ev.recipient_domains, d).add(o.kind);
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
                if c == Cause::Blocklisted
                    && ev.blocklists.len() < 32
                    && let Some(name) = blocklist_name(t)
                {
                    ev.blocklists.insert(name);
                }
            }
            if let Some(h) = o.host
                && (ev.failing_hosts.len() < MAX_SET || ev.failing_hosts.contains_key(h))
            {
                entry(&mut ev.failing_hosts, h).add(o.kind);
            }
        }
        if let Some(s) = o.script
            && ev.scripts.len() < 32
        {
            ev.scripts.insert(s.to_string());
        }
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

impl Sink for Aggregates<'_> {
    fn outcome(&mut self, o: &Outcome<'_>) {
        if !self.filter.outcome_ok(o) {
            return;
        }
        self.totals.add(o.kind);
        if self.first.is_none_or(|f| o.time < f) {
            self.first = Some(o.time);
        }
        if self.last.is_none_or(|l| o.time > l) {
            self.last = Some(o.time);
        }
        let h = Hour::of(&o.time);
        self.by_hour.entry(h).or_default().add(o.kind);

        let sender_domain = sender_domain_key(o.sender);
        entry(&mut self.by_sender_domain, &sender_domain).add(h, o.kind);
        if let Some(a) = o.account {
            entry(&mut self.by_account, &lower(a)).add(h, o.kind);
        }
        let sender_key = match o.sender {
            Some("") => "<>",
            Some(s) => s,
            None => UNKNOWN,
        };
        entry(&mut self.by_sender, &lower(sender_key)).add(h, o.kind);
        let rcpt_domain = o
            .recipient
            .or(o.original_recipient)
            .and_then(domain_of)
            .map(lower);
        if let Some(d) = &rcpt_domain {
            entry(&mut self.by_recipient_domain, d).add(h, o.kind);
        }

        // cPanel's rule counts the mail of identified local senders (an authenticated
        // account, a local user, cPanel's `Sender identification`): mail relayed in from
        // outside is not charged to its sender's domain. The null sender and unknown senders
        // have no domain to block.
        let local_sender = is_local_sender(o);
        if rule_counts(o, &sender_domain) {
            let d = sender_domain.clone();
            self.replay_line(&d, h, o);
        }
        if o.limit.is_some() {
            self.record_log_limit(o, &sender_domain);
        }

        let verdict = if o.kind == OutcomeKind::Delivered {
            None
        } else {
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
            } else if let Some(prev) = o.retry_not_due.then(|| self.previous_verdict(o)).flatten() {
                // "retry time not reached": no attempt was made; the reason is the last one.
                prev
            } else {
                self.classify(o.code, o.status, o.text.unwrap_or(""))
            };
            *self.causes.entry(v.cause).or_default() += 1;
            if let (Some(d), Some(host)) = (&rcpt_domain, o.host) {
                let hosts = entry(&mut self.recipient_domain_hosts, d);
                if hosts.len() < 64 || hosts.contains_key(host) {
                    entry(hosts, host).add(o.kind);
                }
            }
            Some((v.cause, v.permanence))
        };
        if let Some(a) = o.account {
            self.record_evidence(
                SubjectKind::Account,
                &lower(a),
                o,
                verdict,
                rcpt_domain.as_deref(),
            );
        }
        // An SMTP-time rejection without an account is someone else's mail refused at our
        // door (inbound spam): it says nothing about our senders, and keeping evidence for
        // every forged sender domain would grow with the log.
        let ours = local_sender || o.kind != OutcomeKind::Rejected;
        if sender_domain != UNKNOWN && ours {
            let d = sender_domain.clone();
            self.record_evidence(
                SubjectKind::SenderDomain,
                &d,
                o,
                verdict,
                rcpt_domain.as_deref(),
            );
        }
        let (cause, permanence) = verdict.unwrap_or((Cause::Other, Permanence::Unknown));
        self.record_failing(o, cause, permanence);
    }

    fn message_done(&mut self, m: Message) {
        let m = &m;
        if !m.counts_as_message() || !self.filter.message_ok(m) {
            return;
        }
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
        for (kind, s) in subjects {
            let Some(s) = s else { continue };
            let ev = self.evidence.slot(kind, &s);
            ev.add_message(h, m.recipients.len() as u64);
            if own {
                ev.own_messages += 1;
            }
            if let Some(sender) = m.sender.as_deref().filter(|s| !s.is_empty()) {
                let sender = lower(sender);
                let full = ev.senders.len() >= 32;
                match ev.senders.get_mut(sender.as_ref()) {
                    Some(n) => *n += 1,
                    None if !full => {
                        ev.senders.insert(sender.into_owned(), 1);
                    }
                    None => {}
                }
            }
            if let Some(ip) = &m.client_ip
                && ev.client_ips.len() < MAX_SET
            {
                ev.client_ips.insert(ip.clone());
            }
            if let Some(sc) = &m.script
                && ev.scripts.len() < 32
            {
                ev.scripts.insert(sc.clone());
            }
        }
    }

    fn event(&mut self, e: &Event<'_>, _m: Option<&Message>) {
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
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Classifier;
    use crate::model::event::Mta;

    fn ts(s: &str) -> Timestamp {
        Timestamp::new(
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap(),
            None,
        )
    }

    fn out<'a>(
        t: &str,
        kind: OutcomeKind,
        sender: &'a str,
        rcpt: &'a str,
        qid: &'a str,
    ) -> Outcome<'a> {
        Outcome {
            kind,
            time: ts(t),
            mta: Mta::Exim,
            queue_id: Some(qid),
            sender: Some(sender),
            account: Some(sender),
            charged_domain: None,
            client_ip: None,
            script: None,
            recipient: Some(rcpt),
            original_recipient: None,
            host: None,
            ip: None,
            code: Some(550),
            status: Some("5.1.1"),
            text: Some("550 5.1.1 user unknown"),
            router: None,
            limit: None,
            retry_not_due: false,
            is_bounce: false,
        }
    }

    #[test]
    fn counts_percent_follows_cpanel() {
        let c = Counts {
            delivered: 7,
            deferred: 4,
            bounced: 5,
            rejected: 3,
            expired: 0,
        };
        assert_eq!(c.defer_fail(), 9);
        assert!((c.defer_fail_percent() - 56.25).abs() < 1e-9);
        assert_eq!(Counts::default().defer_fail_percent(), 0.0);
    }

    #[test]
    fn hour_keys_are_clock_hours() {
        let h = Hour::of(&ts("2026-11-26 10:59:59"));
        assert_eq!(h.key(), "2026-11-26T10");
        assert_eq!(Hour::of(&ts("2026-11-26 11:00:00")).0, h.0 + 1);
    }

    #[test]
    fn replay_trips_at_the_fifth_failure_with_no_deliveries() {
        let cl = Classifier::builtin();
        let mut a = Aggregates::new(
            LimitRule {
                min: 5,
                percent: Some(100),
            },
            Filter::default(),
            CachedClassifier::new(&cl),
        );
        let ids = ["q1", "q2", "q3", "q4", "q5", "q6"];
        for (i, q) in ids.iter().enumerate() {
            let t = format!("2026-11-26 10:0{i}:00");
            a.outcome(&out(
                &t,
                OutcomeKind::Bounced,
                "info@shop.example",
                "x@gmail.com",
                q,
            ));
        }
        let dh = &a.replay["shop.example"][0].1;
        let trip = dh.trips[0].unwrap();
        assert_eq!(trip.at, ts("2026-11-26 10:04:00"));
        assert_eq!(trip.defer_fail, 5);
        assert_eq!(dh.trips[1].unwrap().at, trip.at);
        assert_eq!(dh.after_trip.len(), 1); // q6 came after the trip
        assert_eq!(a.totals.bounced, 6);
        assert_eq!(a.failing["x@gmail.com"].len(), 1);
        assert_eq!(a.failing["x@gmail.com"][0].attempts(), 6);
    }

    #[test]
    fn replay_at_lower_percent_waits_for_the_ratio() {
        let cl = Classifier::builtin();
        let mut a = Aggregates::new(
            LimitRule {
                min: 5,
                percent: None,
            },
            Filter::default(),
            CachedClassifier::new(&cl),
        );
        // 10 deliveries then failures: at 5 failures the rate is 5/15 = 33%.
        for i in 0..10 {
            a.outcome(&out(
                &format!("2026-11-26 10:00:{i:02}"),
                OutcomeKind::Delivered,
                "a@d.example",
                "r@x.example",
                "q",
            ));
        }
        for i in 0..10 {
            a.outcome(&out(
                &format!("2026-11-26 10:01:{i:02}"),
                OutcomeKind::Bounced,
                "a@d.example",
                "r@x.example",
                "q",
            ));
        }
        let dh = &a.replay["d.example"][0].1;
        assert!(dh.trips[0].is_none(), "off means no configured trip");
        assert!(dh.trips[1].is_none(), "never reaches 100%");
        assert_eq!(dh.trips[2].unwrap().defer_fail, 10); // 10/20 = 50%
        assert_eq!(dh.trips[3].unwrap().defer_fail, 5); // 5/15 = 33% >= 25%
        assert!(dh.after_trip.is_empty(), "no 100% trip, nothing discarded");
    }

    #[test]
    fn messages_after_a_100_percent_replay_trip_count_as_discarded_when_off() {
        let cl = Classifier::builtin();
        let mut a = Aggregates::new(
            LimitRule {
                min: 5,
                percent: None,
            },
            Filter::default(),
            CachedClassifier::new(&cl),
        );
        for (i, q) in ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q7"]
            .iter()
            .enumerate()
        {
            let t = format!("2026-11-26 10:0{i}:00");
            a.outcome(&out(
                &t,
                OutcomeKind::Bounced,
                "a@d.example",
                "r@x.example",
                q,
            ));
        }
        let dh = &a.replay["d.example"][0].1;
        assert_eq!(dh.after_trip.len(), 2); // q6 and q7
    }

    #[test]
    fn filter_by_time_and_domain() {
        let cl = Classifier::builtin();
        let f = Filter {
            since: Some(ts("2026-11-26 10:30:00").local),
            domain: Some("shop.example".into()),
            ..Filter::default()
        };
        let mut a = Aggregates::new(
            LimitRule {
                min: 5,
                percent: None,
            },
            f,
            CachedClassifier::new(&cl),
        );
        a.outcome(&out(
            "2026-11-26 10:00:00",
            OutcomeKind::Bounced,
            "a@shop.example",
            "r@x.example",
            "q",
        ));
        a.outcome(&out(
            "2026-11-26 10:40:00",
            OutcomeKind::Bounced,
            "a@shop.example",
            "r@x.example",
            "q",
        ));
        a.outcome(&out(
            "2026-11-26 10:40:00",
            OutcomeKind::Bounced,
            "a@other.example",
            "r@x.example",
            "q",
        ));
        a.outcome(&out(
            "2026-11-26 10:40:00",
            OutcomeKind::Bounced,
            "a@other.example",
            "r@mail.shop.example",
            "q",
        ));
        assert_eq!(a.totals.bounced, 2);
    }

    #[test]
    fn address_blind_hash_ignores_only_addresses() {
        use std::hash::{BuildHasher, Hasher};
        let st = hashbrown::DefaultHashBuilder::default();
        let key = |t: &str| {
            let mut h = st.build_hasher();
            hash_without_addresses(t, &mut h);
            h.finish()
        };
        assert_eq!(
            key("550 5.1.1 <a@x.example>: no such user"),
            key("550 5.1.1 <bob.smith@y.example>: no such user")
        );
        assert_ne!(key("550 5.1.1 no such user"), key("550 5.2.2 mailbox full"));
        assert_ne!(key("a b"), key("ab"));
    }

    #[test]
    fn blocklist_names_are_found() {
        assert_eq!(
            blocklist_name("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org").as_deref(),
            Some("zen.spamhaus.org")
        );
        assert_eq!(
            blocklist_name("listed at Spamcop").as_deref(),
            Some("spamcop")
        );
        assert_eq!(blocklist_name("user unknown"), None);
    }
}
