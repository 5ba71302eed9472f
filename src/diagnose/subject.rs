//! What one subject's rules look at: its failing recipients tallied into groups ([`Tally`],
//! [`Group`]), the facts shared by all subjects ([`Facts`]), and the indicators more than one
//! verdict uses ([`Subject`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::{Example, GroupKind, Indicator, Note, Sender, Sign};
use crate::aggregate::{Aggregates, Evidence, FailRec, SubjectKind, blocklist_name};
use crate::classify::Cause;
use crate::model::event::{Timestamp, domain_of};
use crate::model::hour::Hour;
use crate::model::thresholds::Thresholds;
use crate::util::text::short_reply;

/// Failing recipients of one group (dead, spam, …) of one subject.
#[derive(Debug, Default)]
pub(super) struct Group<'a> {
    pub(super) recipients: u64,
    /// Failure lines of those recipients.
    pub(super) lines: u64,
    /// Failed deliveries of those recipients (see [`deliveries_of`]).
    pub(super) deliveries: u64,
    /// Recipients per destination domain (lower case).
    pub(super) by_domain: BTreeMap<String, u64>,
    /// Recipients per destination host (last host that answered).
    by_host: BTreeMap<&'a str, u64>,
    /// Per destination domain, the earliest failing recipient with a reply text:
    /// (first failure, recipient, text). Chosen by time, not by map order, so the report is
    /// the same on every run.
    examples: BTreeMap<String, (Timestamp, &'a str, &'a str)>,
    /// Block lists named.
    pub(super) lists: BTreeSet<String>,
    /// Up to 8 recipient addresses per destination domain.
    pub(super) addresses: BTreeMap<String, Vec<&'a str>>,
}

impl<'a> Group<'a> {
    fn add(&mut self, r: &'a FailRec, domain: &str, list: Option<&str>) {
        self.recipients += 1;
        self.lines += lines_of(r);
        self.deliveries += deliveries_of(r);
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
    /// and with different texts (as evidence quotes them).
    pub(super) fn examples(&self) -> Vec<(&str, &'a str)> {
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

    /// The examples as a note, when there are any.
    pub(super) fn examples_note(&self) -> Option<Note> {
        let examples = self.examples();
        (!examples.is_empty()).then(|| {
            Note::Examples(
                examples
                    .into_iter()
                    .map(|(d, t)| Example {
                        domain: d.to_string(),
                        reply: t.to_string(),
                    })
                    .collect(),
            )
        })
    }

    pub(super) fn domains(&self) -> u64 {
        self.by_domain.len() as u64
    }

    /// Recipients per destination domain, in name order.
    pub(super) fn domain_list(&self) -> Vec<(String, u64)> {
        self.by_domain
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// The destination domain with the most recipients.
    pub(super) fn top_domain(&self) -> Option<(&str, u64)> {
        top(self.by_domain.iter().map(|(k, v)| (k.as_str(), *v)))
    }

    pub(super) fn top_host(&self) -> Option<(&'a str, u64)> {
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
pub(super) struct Tally<'a> {
    pub(super) recipients: u64,
    /// Failure lines of those recipients at the destination.
    pub(super) lines: u64,
    /// Failed deliveries of those recipients (see [`deliveries_of`]).
    pub(super) deliveries: u64,
    /// Failing recipients left out because a server or destination finding explains them
    /// (refusals of the server's listed IP, trouble at a destination that is down).
    pub(super) explained: u64,
    pub(super) by_cause: BTreeMap<Cause, u64>,
    pub(super) dead: Group<'a>,
    pub(super) listed: Group<'a>,
    pub(super) spam: Group<'a>,
    pub(super) refused: Group<'a>,
    pub(super) trouble: Group<'a>,
    /// Recipients per sending account (for sender domains).
    pub(super) by_account: BTreeMap<String, u64>,
}

impl<'a> Tally<'a> {
    fn add(&mut self, r: &'a FailRec, list: Option<&str>) {
        let domain = domain_of(&r.recipient).unwrap_or("").to_ascii_lowercase();
        self.recipients += 1;
        self.lines += lines_of(r);
        self.deliveries += deliveries_of(r);
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

/// Failed deliveries of a recipient: each bounce or expiry is a message that did not
/// arrive; a recipient only deferred (retried, perhaps delivered later) counts once. A
/// destination that refuses one sender refuses the same few correspondents message after
/// message, which its distinct recipients hide and its deliveries show.
fn deliveries_of(r: &FailRec) -> u64 {
    (r.counts.bounced + r.counts.expired).max(1)
}

/// Records the server and destination findings explain, by address (see
/// [`crate::diagnose::findings::explained_records`]).
pub(super) type ExplainedSet = HashSet<*const FailRec>;

/// The family-wise false-alarm rate of the spam outlier test, shared by all accounts.
pub(crate) const OUTLIER_ALPHA: f64 = 0.01;

/// The spam-refusal rate (refused as spam among the recipients tried) an outlier has at
/// least.
pub(crate) const MIN_SPAM_PERCENT: u64 = 2;

/// The population an account's spam refusals are compared with: the accounts that are not
/// outliers themselves (a compromised account's spray would otherwise make everyone
/// else's refusals look normal), found by removing the outliers and testing again until
/// none is left.
#[derive(Debug, Default, Clone)]
pub(super) struct Population {
    /// Accounts on the server (the Bonferroni correction).
    pub(super) accounts: u64,
    /// Spam refusals and recipients tried of the reference accounts.
    pub(super) spam: u64,
    pub(super) tried: u64,
    /// (spam refusals, recipients tried) of each reference account.
    reference: HashMap<String, (u64, u64)>,
}

impl Population {
    fn of(rows: Vec<(String, u64, u64)>) -> Population {
        let n = rows.len() as u64;
        let mut outlier = vec![false; rows.len()];
        for _ in 0..8 {
            let (spam, tried) = rows
                .iter()
                .zip(&outlier)
                .filter(|(_, o)| !**o)
                .fold((0, 0), |(s, t), (r, _)| (s + r.1, t + r.2));
            let next: Vec<bool> = rows
                .iter()
                .zip(&outlier)
                .map(|(r, o)| {
                    let (os, ot) = if *o {
                        (spam, tried)
                    } else {
                        (spam - r.1, tried - r.2)
                    };
                    spam_outlier(r.1, r.2, os, ot, n).3
                })
                .collect();
            if next == outlier {
                break;
            }
            outlier = next;
        }
        let reference: HashMap<String, (u64, u64)> = rows
            .into_iter()
            .zip(outlier)
            .filter(|(_, o)| !o)
            .map(|((name, s, t), _)| (name, (s, t)))
            .collect();
        let (spam, tried) = reference
            .values()
            .fold((0, 0), |(s, t), (a, b)| (s + a, t + b));
        Population {
            accounts: n,
            spam,
            tried,
            reference,
        }
    }

    /// The reference without these accounts' own mail: (spam refusals, recipients tried).
    pub(super) fn without<'x>(&self, accounts: impl Iterator<Item = &'x str>) -> (u64, u64) {
        let (mut spam, mut tried) = (self.spam, self.tried);
        for a in accounts {
            if let Some((s, t)) = self.reference.get(a) {
                spam -= s;
                tried -= t;
            }
        }
        (spam, tried)
    }
}

/// The spam outlier test of `spam` refusals among `tried` recipients against the others'
/// `others_spam` among `others_tried`, on a server of `accounts` accounts:
/// (expected, p, alpha, met). The others' rate is smoothed towards a prior of 1 refusal in
/// 100 recipients (worth 100 recipients): with few other accounts, or none refused, one
/// refusal is no certain proof.
pub(super) fn spam_outlier(
    spam: u64,
    tried: u64,
    others_spam: u64,
    others_tried: u64,
    accounts: u64,
) -> (f64, f64, f64, bool) {
    let rate = (others_spam + 1) as f64 / (others_tried + 100) as f64;
    let expected = rate * tried as f64;
    let p = poisson_tail(spam, expected);
    let alpha = OUTLIER_ALPHA / accounts.max(1) as f64;
    let met = p < alpha && spam * 100 >= tried * MIN_SPAM_PERCENT;
    (expected, p, alpha, met)
}

/// What the rules of every subject share, from one pass over the failing recipients.
pub(super) struct Facts<'a> {
    /// Per account and sender domain.
    pub(super) tallies: HashMap<(SubjectKind, String), Tally<'a>>,
    /// Per block list: our own sender domains it refused (inbound mail we refused is not
    /// about our IP).
    listed_senders: BTreeMap<String, BTreeSet<String>>,
    /// Refused recipients (the *refused* group) per destination domain, all senders, the
    /// explained ones left out.
    pub(super) refused_at: HashMap<String, u64>,
    /// Over the accounts with failures to diagnose.
    pub(super) population: Population,
}

impl<'a> Facts<'a> {
    /// The facts, leaving the `explained` records out of the subjects' tallies (they are
    /// counted in [`Tally::explained`]).
    pub(super) fn of(agg: &'a Aggregates<'_>, explained: &ExplainedSet) -> Facts<'a> {
        let mut tallies: HashMap<(SubjectKind, String), Tally<'a>> = HashMap::new();
        let mut listed_senders: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut refused_at: HashMap<String, u64> = HashMap::new();
        for r in agg.failing.values().flatten().filter(|r| considered(r)) {
            let list = if r.cause == Cause::Blocklisted {
                r.text.as_deref().and_then(blocklist_name)
            } else {
                None
            };
            let list = list.as_deref();
            if explained.contains(&(r as *const FailRec)) {
                if let Some(a) = &r.account {
                    tallies
                        .entry((SubjectKind::Account, a.to_ascii_lowercase()))
                        .or_default()
                        .explained += 1;
                }
                if let Some(d) = r.sender.as_deref().and_then(domain_of) {
                    tallies
                        .entry((SubjectKind::SenderDomain, d.to_ascii_lowercase()))
                        .or_default()
                        .explained += 1;
                }
                continue;
            }
            if matches!(
                r.cause,
                Cause::Blocked | Cause::SpamContent | Cause::Blocklisted
            ) && let Some(d) = domain_of(&r.recipient)
            {
                *refused_at.entry(d.to_ascii_lowercase()).or_default() += 1;
            }
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
        let rows: Vec<(String, u64, u64)> = agg
            .evidence
            .iter()
            .filter(|(kind, _, _)| *kind == SubjectKind::Account)
            .map(|(kind, name, ev)| {
                let t = tallies.get(&(kind, name.to_string()));
                let (spam, failing) = t.map_or((0, 0), |t| (t.spam.recipients, t.recipients));
                (name.to_string(), spam, ev.counts.delivered + failing)
            })
            .collect();
        let population = Population::of(rows);
        Facts {
            tallies,
            listed_senders,
            refused_at,
            population,
        }
    }
}

/// P(X ≥ k) for X Poisson with mean `lambda`: how surprising `k` events are where
/// `lambda` were expected.
pub(super) fn poisson_tail(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda <= 0.0 {
        return 0.0;
    }
    if k as f64 <= lambda {
        // Not in the upper tail (the exact value is about one half or more).
        return 1.0;
    }
    // ln P(X = k) = -λ + k ln λ - ln k!, then the terms above k by their ratio λ/j.
    let ln_fact: f64 = (2..=k).map(|j| (j as f64).ln()).sum();
    let mut term = (-lambda + k as f64 * lambda.ln() - ln_fact).exp();
    let mut sum = 0.0;
    let mut j = k;
    while term > sum * 1e-12 && j < k + 100_000 {
        sum += term;
        j += 1;
        term *= lambda / j as f64;
        if term == 0.0 {
            break;
        }
    }
    sum.min(1.0)
}

/// `part` is at least `percent`% of `whole`.
pub(super) fn share_ok(part: u64, whole: u64, percent: u64) -> bool {
    whole > 0 && part * 100 >= percent * whole
}

pub(super) fn ind(met: bool, sign: Sign) -> Indicator {
    Indicator { met, sign }
}

/// The first `[a.b.c.d]` or bare IPv4 address in a text (the listed IP of a blocklist
/// rejection).
pub(super) fn ip_in(text: &str) -> Option<String> {
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
pub(super) struct Subject<'a, 'c> {
    pub(super) agg: &'a Aggregates<'c>,
    pub(super) t: &'a Thresholds,
    pub(super) kind: SubjectKind,
    pub(super) name: &'a str,
    pub(super) ev: &'a Evidence,
    pub(super) tally: &'a Tally<'a>,
    pub(super) facts: &'a Facts<'a>,
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
    pub(super) fn is_account(&self) -> bool {
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

    pub(super) fn jump(&self) -> Indicator {
        let v = self.volume();
        let met = match (v.peak, v.usual) {
            (Some((_, peak)), Some(u)) => {
                peak >= self.t.jump_floor && peak as f64 >= self.t.jump_factor * u
            }
            _ => false,
        };
        ind(
            met,
            Sign::VolumeJump {
                peak: v.peak,
                usual: v.usual,
                other_hours: v.others,
                factor: self.t.jump_factor,
                floor: self.t.jump_floor,
            },
        )
    }

    /// Scripts in folders where no legitimate mailer lives.
    pub(super) fn suspicious_scripts(&self) -> Vec<&str> {
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

    /// The client networks its mail came from (see [`network_of`]), in name order.
    pub(super) fn networks(&self) -> Vec<String> {
        let nets: BTreeSet<String> = self
            .ev
            .client_ips
            .iter()
            .filter_map(|ip| network_of(ip))
            .collect();
        nets.into_iter().collect()
    }

    pub(super) fn many_ips(&self) -> Indicator {
        let ips = self.networks();
        let sus: Vec<String> = self
            .suspicious_scripts()
            .into_iter()
            .map(str::to_string)
            .collect();
        let met = ips.len() as u64 >= self.t.many_ips || !sus.is_empty();
        ind(
            met,
            Sign::ClientIps {
                ips,
                threshold: self.t.many_ips,
                suspicious_scripts: sus,
            },
        )
    }

    /// Failed logins logged with the account's own login name (and, for an account that
    /// sent as other mailboxes, theirs), and the IPs they came from. Failures logged without
    /// a name are not counted: an address that tried many accounts proves nothing about
    /// this one.
    pub(super) fn failed_logins(&self) -> (u64, u64) {
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
        (by_name, ips.len() as u64)
    }

    pub(super) fn auth(&self) -> Indicator {
        let (failures, ips) = self.failed_logins();
        ind(
            failures >= self.t.auth_failures,
            Sign::FailedLogins {
                failures,
                ips,
                threshold: self.t.auth_failures,
            },
        )
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

    pub(super) fn wide(&self) -> Indicator {
        let domains = self.recipient_domains();
        ind(
            domains >= self.t.many_domains,
            Sign::WideMailing {
                domains,
                threshold: self.t.many_domains,
            },
        )
    }

    /// Delivered recipients at domains outside `blamed`: (deliveries, domains).
    pub(super) fn delivered_elsewhere(&self, blamed: &[&str]) -> (u64, u64) {
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
    pub(super) fn main_share(&self, part: u64, group: GroupKind) -> Indicator {
        let whole = self.tally.recipients;
        ind(
            share_ok(part, whole, self.t.share),
            Sign::MainShare {
                group,
                part,
                whole,
                threshold: self.t.share,
            },
        )
    }

    /// Who sent the mail: the MTA, the sender address of an account, its mailboxes.
    pub(super) fn sender(&self) -> Sender {
        let address = match self.kind {
            SubjectKind::Account if self.name.contains('@') => Some(self.name.to_string()),
            SubjectKind::Account => self
                .ev
                .senders
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(s, _)| s.clone()),
            _ => None,
        };
        let mailboxes = match self.kind {
            SubjectKind::Account if !self.name.contains('@') => self
                .ev
                .senders
                .keys()
                .filter(|s| s.as_str() != self.name)
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        Sender {
            mta: self.ev.mta,
            address,
            mailboxes,
        }
    }

    /// Our own sender domains, other than this subject's, refused by these lists.
    pub(super) fn others_listed(&self, lists: &BTreeSet<String>) -> u64 {
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

    /// Its spam refusals against the other accounts' (see [`Population`]):
    /// `(refused, tried, expected, p, alpha, met)` of [`spam_outlier`].
    pub(super) fn spam_against_population(&self) -> (u64, u64, f64, f64, f64, bool) {
        let k = self.tally.spam.recipients;
        let tried = self.ev.counts.delivered + self.tally.recipients;
        let pop = &self.facts.population;
        // A sender domain's mail is its accounts': left out of "the others" too.
        let (others_spam, others_tried) = if self.is_account() {
            pop.without(std::iter::once(self.name))
        } else {
            pop.without(self.tally.by_account.keys().map(String::as_str))
        };
        let (expected, p, alpha, met) =
            spam_outlier(k, tried, others_spam, others_tried, pop.accounts);
        (k, tried, expected, p, alpha, met)
    }

    /// Refused recipients of other senders at `domain`, and their deliveries there.
    pub(super) fn others_at(&self, domain: &str) -> (u64, u64) {
        let all_refused = self.facts.refused_at.get(domain).copied().unwrap_or(0);
        let mine_refused = self
            .tally
            .refused
            .by_domain
            .get(domain)
            .copied()
            .unwrap_or(0);
        let all_delivered = self
            .agg
            .by_recipient_domain
            .get(domain)
            .map(|s| s.total().delivered)
            .unwrap_or_default();
        let mine_delivered = self
            .ev
            .recipient_domains
            .get(domain)
            .map_or(0, |c| c.delivered);
        (
            all_refused.saturating_sub(mine_refused),
            all_delivered.saturating_sub(mine_delivered),
        )
    }

    /// Deferrals, failures and expiries at `domain` that are not this subject's.
    pub(super) fn others_failing_at(&self, domain: &str) -> u64 {
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
}

/// The network a client address belongs to, the unit logins are counted in: IPv4 /24
/// (`192.0.2.0/24`), IPv6 /48 (`2001:db8:1::/48`). A phone on a carrier network changes
/// address inside one such network all day. Loopback and unparsable addresses give `None`.
pub(crate) fn network_of(ip: &str) -> Option<String> {
    use std::net::IpAddr;
    match ip.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) if v4.is_loopback() => None,
        IpAddr::V4(v4) => {
            let o = v4.octets();
            Some(format!("{}.{}.{}.0/24", o[0], o[1], o[2]))
        }
        IpAddr::V6(v6) if v6.is_loopback() => None,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
        }
    }
}
