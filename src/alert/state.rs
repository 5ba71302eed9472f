//! The bounded state of the alert [`Engine`](super::Engine): what it remembers about sender
//! domains, accounts, arrivals and bursts, each with a cap so that a log of millions of
//! distinct senders, accounts, queue IDs or failure texts cannot grow it without end.
//!
//! # Caps ([`Caps`])
//!
//! - **Sender domains** (this hour, 20,000): past the cap, the least active domains are
//!   *folded* into a compact record (a 64-bit hash of the name and its counters). A folded
//!   domain that shows up again gets its counters back, so folding loses nothing while its
//!   record is kept. Domains that raised an alert this hour are never folded; among the
//!   others, those without a defer or failure this hour go first, then those far from the
//!   warning level, least activity first. Records are kept in two generations: when the
//!   newer fills, the older is dropped, and a domain folded that long ago starts
//!   again from zero (which can only undercount its defers+fails, unless it had
//!   deliveries: then a percentage could come out too high). Generations hold 114,688
//!   entries, the most a table of 131,072 buckets takes.
//! - **Accounts** (25,000): the same, for the sending accounts and their volume history.
//!   Accounts that alerted this hour or are near an alert are never folded; accounts with
//!   no earlier hour go first (restarting them loses nothing but this hour's count, which
//!   the record keeps). An account folded with a history loses it: when it comes back, its
//!   baseline starts afresh at that hour, so it cannot raise a `volume_jump` against
//!   hours it was not counted in.
//! - **Arrivals** (queue IDs counted once each): 64-bit hashes in two generations; an
//!   arrival line of a queue ID older than both is counted again.
//! - **Burst windows**: at most 65,536 failures per cause in the window; past that the
//!   oldest leave early (the count is then "at least" 65,536, far above any threshold).
//! - **Classifier cache**: started afresh past 20,000 distinct failure texts.
//!
//! Each kind of fold is said once on stderr (through [`Engine::take_notices`](super::Engine::take_notices))
//! and counted ([`Folds`]).

use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::sync::Arc;

use chrono::NaiveDateTime;

use super::AlertConfig;
use crate::model::event::Timestamp;
use crate::model::hour::{Counts, Hour};
use crate::util::hash::HashMap;
use crate::util::text::thousands;

/// How much the engine remembers (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Sender domains counted in full this hour.
    pub domains: usize,
    /// Accounts counted in full.
    pub accounts: usize,
    /// Failures per cause in the burst window.
    pub burst: usize,
    /// Entries of one generation of hashes (arrivals, folded records): 114,688 fill a
    /// table of 131,072 buckets to its load limit of 7/8.
    pub generation: usize,
    /// Distinct failure texts in the classifier cache.
    pub texts: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            domains: 20_000,
            accounts: 25_000,
            burst: 65_536,
            generation: 114_688,
            texts: 20_000,
        }
    }
}

impl Caps {
    /// Caps from `domains=N,accounts=N,burst=N,generation=N,texts=N` (any subset; the rest
    /// default). Every value must be at least 1.
    pub fn parse(s: &str) -> Result<Caps, String> {
        let mut c = Caps::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}': expected NAME=NUMBER"))?;
            let n: usize = value
                .trim()
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| format!("'{part}': expected a number of at least 1"))?;
            match name.trim() {
                "domains" => c.domains = n,
                "accounts" => c.accounts = n,
                "burst" => c.burst = n,
                "generation" => c.generation = n,
                "texts" => c.texts = n,
                other => {
                    return Err(format!(
                        "'{other}': not a cap (domains, accounts, burst, generation, texts)"
                    ));
                }
            }
        }
        Ok(c)
    }
}

/// What the caps folded so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Folds {
    /// Sender domains folded into compact records.
    pub domains: u64,
    /// Accounts folded into compact records.
    pub accounts: u64,
    /// Generations of hashes dropped (arrivals and folded records).
    pub generations: u64,
    /// Failures that left a burst window early.
    pub burst: u64,
    /// Times the classifier cache was started afresh.
    pub texts: u64,
}

impl Folds {
    /// The folds in words, or `None` when nothing was folded.
    pub fn describe(&self) -> Option<String> {
        let parts: Vec<String> = [
            (self.domains, "sender domain folds"),
            (self.accounts, "account folds"),
            (self.generations, "hash generations dropped"),
            (self.burst, "failures dropped from full burst windows"),
            (self.texts, "classifier cache restarts"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{} {what}", thousands(*n)))
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// Strings to 64-bit hashes, seeded at random per process (so names chosen by a sender
/// cannot be crafted to collide).
#[derive(Debug, Clone, Default)]
pub(super) struct Hasher64(hashbrown::DefaultHashBuilder);

impl Hasher64 {
    pub(super) fn of(&self, s: &str) -> u64 {
        self.0.hash_one(s)
    }
}

/// Values by 64-bit hash in two generations: inserts go to the newer; when it holds `cap`
/// entries it becomes the older and the older is dropped. At most `2 × cap` entries.
#[derive(Debug)]
pub(super) struct Generations<V> {
    new: HashMap<u64, V>,
    old: HashMap<u64, V>,
    cap: usize,
    /// Generations dropped.
    pub(super) dropped: u64,
}

impl<V> Generations<V> {
    pub(super) fn new(cap: usize) -> Self {
        Generations {
            new: HashMap::new(),
            old: HashMap::new(),
            cap: cap.max(1),
            dropped: 0,
        }
    }

    pub(super) fn contains(&self, k: u64) -> bool {
        self.new.contains_key(&k) || self.old.contains_key(&k)
    }

    pub(super) fn insert(&mut self, k: u64, v: V) {
        if self.new.len() >= self.cap && !self.new.contains_key(&k) {
            // The next generation will fill too: sized at once, it never rehashes.
            let full = std::mem::replace(&mut self.new, HashMap::with_capacity(self.cap));
            if !self.old.is_empty() {
                self.dropped += 1;
            }
            self.old = full;
        }
        self.new.insert(k, v);
    }

    pub(super) fn remove(&mut self, k: u64) -> Option<V> {
        self.new.remove(&k).or_else(|| self.old.remove(&k))
    }

    pub(super) fn clear(&mut self) {
        self.new = HashMap::new();
        self.old = HashMap::new();
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.new.len() + self.old.len()
    }
}

/// One sender domain this hour.
#[derive(Debug, Default, Clone)]
pub(super) struct DomainState {
    pub(super) counts: Counts,
    pub(super) warned: Option<Timestamp>,
    pub(super) tripped: Option<Timestamp>,
    pub(super) blocked: Option<Timestamp>,
    /// cPanel refusal lines seen this hour.
    pub(super) refusals: u64,
    /// The limits a `blocked` alert was raised for this hour (1: defers and failures, 2:
    /// emails per hour).
    pub(super) blocked_limits: u8,
}

impl DomainState {
    fn alerted(&self) -> bool {
        self.warned.is_some()
            || self.tripped.is_some()
            || self.blocked.is_some()
            || self.refusals > 0
    }
}

/// The counters of a folded sender domain (the rule counts deliveries, deferrals and
/// failures only), in 12 bytes.
#[derive(Debug, Clone, Copy)]
struct Packed([u32; 3]);

impl Packed {
    fn of(c: &Counts) -> Packed {
        let n = |x: u64| u32::try_from(x).unwrap_or(u32::MAX);
        Packed([n(c.delivered), n(c.deferred), n(c.bounced)])
    }

    fn counts(self) -> Counts {
        Counts {
            delivered: u64::from(self.0[0]),
            deferred: u64::from(self.0[1]),
            bounced: u64::from(self.0[2]),
            ..Counts::default()
        }
    }
}

/// The sender domains of this hour: at most `cap` in full, the rest folded.
#[derive(Debug)]
pub(super) struct Domains {
    map: HashMap<Box<str>, DomainState>,
    cap: usize,
    folded: Generations<Packed>,
}

impl Domains {
    pub(super) fn new(cap: usize, generation: usize) -> Self {
        Domains {
            map: HashMap::new(),
            cap: cap.max(1),
            folded: Generations::new(generation),
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&str, &DomainState)> {
        self.map.iter().map(|(k, v)| (&**k, v))
    }

    /// Folded records kept.
    #[cfg(test)]
    pub(super) fn folded_len(&self) -> usize {
        self.folded.len()
    }

    pub(super) fn generations_dropped(&self) -> u64 {
        self.folded.dropped
    }

    /// The state of `domain`, added if new (with the counters of its folded record, if
    /// any). Returns how many domains were folded to make room.
    pub(super) fn entry(
        &mut self,
        domain: &str,
        h: &Hasher64,
        cfg: &AlertConfig,
    ) -> (&mut DomainState, u64) {
        let mut folded = 0;
        if self.map.len() >= self.cap && !self.map.contains_key(domain) {
            folded = self.fold(h, cfg);
        }
        let records = &mut self.folded;
        let (_, st) = self
            .map
            .raw_entry_mut()
            .from_key(domain)
            .or_insert_with(|| {
                let st = DomainState {
                    counts: records
                        .remove(h.of(domain))
                        .map(Packed::counts)
                        .unwrap_or_default(),
                    ..DomainState::default()
                };
                (domain.into(), st)
            });
        (st, folded)
    }

    /// Folds an eighth of the cap, least urgent first; never a domain that alerted.
    fn fold(&mut self, h: &Hasher64, cfg: &AlertConfig) -> u64 {
        let near = cfg.warn_defer_fail().div_ceil(2).max(1);
        // Urgency: near the warning level, with a failure, activity.
        let rank = |s: &DomainState| {
            let df = s.counts.defer_fail();
            (df >= near, df > 0, s.counts.delivered + df)
        };
        let records = &mut self.folded;
        fold_least(
            &mut self.map,
            (self.cap / 8).max(1),
            DomainState::alerted,
            rank,
            |k, s| records.insert(h.of(k), Packed::of(&s.counts)),
        )
    }

    /// A new hour: every domain starts from zero.
    pub(super) fn clear(&mut self) {
        self.map = HashMap::new();
        self.folded.clear();
    }
}

/// Removes from `map` the `want` entries of least `rank` that `keep` does not hold (fewer if
/// there are not as many), handing each to `fold` first; ties at the cut are taken in the
/// map's order. Returns how many were removed.
fn fold_least<V, R: Ord + Copy>(
    map: &mut HashMap<Box<str>, V>,
    want: usize,
    keep: impl Fn(&V) -> bool,
    rank: impl Fn(&V) -> R,
    mut fold: impl FnMut(&str, &V),
) -> u64 {
    let mut ranks: Vec<R> = map.values().filter(|v| !keep(v)).map(&rank).collect();
    if ranks.is_empty() || want == 0 {
        return 0;
    }
    let want = want.min(ranks.len());
    let (_, limit, _) = ranks.select_nth_unstable(want - 1);
    let limit = *limit;
    let below = ranks.iter().filter(|r| **r < limit).count();
    let mut equal_quota = want - below;
    map.retain(|k, v| {
        if keep(v) {
            return true;
        }
        let r = rank(v);
        if r > limit || (r == limit && equal_quota == 0) {
            return true;
        }
        if r == limit {
            equal_quota -= 1;
        }
        fold(k, v);
        false
    });
    want as u64
}

/// One sending account: this hour's figures and earlier hours' message counts.
#[derive(Debug, Default, Clone)]
pub(super) struct AccountState {
    pub(super) messages: u64,
    /// Distinct client IPs this hour, sorted (shared copies from the correlator).
    pub(super) ips: Vec<Arc<str>>,
    /// Messages in earlier hours, oldest first; hours with none are left out.
    pub(super) history: VecDeque<(Hour, u64)>,
    /// The account was folded with a history and came back: its baseline starts here.
    pub(super) counted_from: Option<Hour>,
    /// The alerts raised about it this hour (1: `volume_jump`, 2: `login_ips`).
    pub(super) fired: u8,
}

/// What a folded account leaves behind, in 12 bytes: the hour it was folded in and its
/// messages then, and whether it had earlier hours.
#[derive(Debug, Clone, Copy)]
struct AccountRecord {
    /// The low 32 bits of the hour (they tell hours apart for 490,000 years).
    hour: u32,
    messages: u32,
    had_history: bool,
}

/// The accounts: at most `cap` in full, the rest folded.
#[derive(Debug)]
pub(super) struct Accounts {
    map: HashMap<Box<str>, AccountState>,
    cap: usize,
    folded: Generations<AccountRecord>,
}

impl Accounts {
    pub(super) fn new(cap: usize, generation: usize) -> Self {
        Accounts {
            map: HashMap::new(),
            cap: cap.max(1),
            folded: Generations::new(generation),
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    pub(super) fn generations_dropped(&self) -> u64 {
        self.folded.dropped
    }

    /// The state of `account` in hour `cur`, added if new (from its folded record, if
    /// any). Returns how many accounts were folded to make room.
    pub(super) fn entry(
        &mut self,
        account: &str,
        cur: Hour,
        h: &Hasher64,
        cfg: &AlertConfig,
    ) -> (&mut AccountState, u64) {
        let mut folded = 0;
        if self.map.len() >= self.cap && !self.map.contains_key(account) {
            folded = self.fold(cur, h, cfg);
        }
        let records = &mut self.folded;
        let (_, st) = self
            .map
            .raw_entry_mut()
            .from_key(account)
            .or_insert_with(|| {
                let mut st = AccountState::default();
                if let Some(r) = records.remove(h.of(account)) {
                    if r.hour == cur.0 as u32 {
                        st.messages = u64::from(r.messages);
                    }
                    if r.had_history {
                        st.counted_from = Some(cur);
                    }
                }
                (account.into(), st)
            });
        (st, folded)
    }

    /// Folds an eighth of the cap, least active first (accounts without history before
    /// those with one); never an account that alerted this hour or is near an alert.
    fn fold(&mut self, cur: Hour, h: &Hasher64, cfg: &AlertConfig) -> u64 {
        let near_messages = cfg.account_min.div_ceil(2).max(1);
        let near_ips = cfg.account_ips.saturating_sub(1).max(2);
        let keep = |a: &AccountState| {
            a.fired != 0 || a.messages >= near_messages || a.ips.len() as u64 >= near_ips
        };
        let rank = |a: &AccountState| {
            let before: u64 = a.history.iter().map(|(_, n)| n).sum();
            (!a.history.is_empty(), a.messages + before)
        };
        let records = &mut self.folded;
        fold_least(&mut self.map, (self.cap / 8).max(1), keep, rank, |k, a| {
            records.insert(
                h.of(k),
                AccountRecord {
                    hour: cur.0 as u32,
                    messages: u32::try_from(a.messages).unwrap_or(u32::MAX),
                    had_history: !a.history.is_empty() || a.counted_from.is_some(),
                },
            );
        })
    }

    /// The top of hour `new` after `old`: this hour's volumes go to the history, which
    /// keeps `baseline` hours; accounts left with none are dropped.
    pub(super) fn close_hour(&mut self, old: Hour, new: Hour, baseline: u64) {
        let keep_from = Hour(new.0 - baseline as i64);
        self.map.retain(|_, a| {
            if a.messages > 0 {
                a.history.push_back((old, a.messages));
            }
            a.messages = 0;
            a.ips.clear();
            a.fired = 0;
            while a.history.front().is_some_and(|(h, _)| *h < keep_from) {
                a.history.pop_front();
            }
            if a.counted_from.is_some_and(|h| h < keep_from) {
                a.counted_from = None;
            }
            !a.history.is_empty()
        });
        // The records stay: one of an account with history still matters in later hours
        // (its baseline is gone); the count of messages in one only in its own hour.
    }
}

/// The burst window of one cause: (time, hash of the sender domain) of each failure, and
/// each domain's failures in the window with its name.
#[derive(Debug, Default)]
pub(super) struct BurstWindow {
    q: VecDeque<(NaiveDateTime, u64)>,
    domains: HashMap<u64, (u64, Box<str>)>,
    /// The hour its alert was raised in.
    pub(super) fired_in: Option<Hour>,
}

impl BurstWindow {
    /// Adds a failure at `t` of `domain`, drops those older than `t - window` and, past
    /// `cap`, the oldest. Returns how many left early because of the cap.
    pub(super) fn push(
        &mut self,
        t: NaiveDateTime,
        domain: &str,
        h: &Hasher64,
        window: chrono::Duration,
        cap: usize,
    ) -> u64 {
        let k = h.of(domain);
        self.q.push_back((t, k));
        self.domains
            .entry(k)
            .or_insert_with(|| (0, domain.into()))
            .0 += 1;
        let mut early = 0;
        while let Some(&(x, _)) = self.q.front() {
            let too_old = x <= t - window;
            let too_many = self.q.len() > cap.max(1);
            if !too_old && !too_many {
                break;
            }
            if !too_old {
                early += 1;
            }
            self.pop();
        }
        early
    }

    fn pop(&mut self) {
        if let Some((_, k)) = self.q.pop_front()
            && let Some(e) = self.domains.get_mut(&k)
        {
            e.0 -= 1;
            if e.0 == 0 {
                self.domains.remove(&k);
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.q.len()
    }

    /// The time of the oldest failure in the window.
    pub(super) fn since(&self) -> Option<NaiveDateTime> {
        self.q.iter().map(|(x, _)| *x).min()
    }

    /// The sender domain with the most failures in the window (placeholders such as
    /// `(local)` left out; ties to the smaller name).
    pub(super) fn top_domain(&self) -> Option<&str> {
        self.domains
            .values()
            .filter(|(_, d)| !d.starts_with('('))
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
            .map(|(_, d)| &**d)
    }
}
