//! Alerts for `mailtrace follow`: an [`Engine`] that takes the correlator's outcomes and
//! events one by one, keeps the current clock hour's counters as cPanel does, and raises an
//! [`Alert`] the first time in an hour that a subject crosses a threshold.
//!
//! # Counting
//!
//! Counters are kept per **clock hour of the log's own time** and reset when a line of a
//! later hour arrives (cPanel resets at the top of each hour). A line of an earlier hour
//! than the current one (another file lagging behind) is not counted. Sender domains are
//! counted exactly as the report's rule replay counts them
//! ([`crate::model::cpanel::sender_domain_key`], [`crate::model::cpanel::rule_counts`]): per domain
//! of the envelope sender, deliveries, deferrals and failures; every deferral attempt counts.
//!
//! # Alert kinds and thresholds
//!
//! With `--limit-min` = *m* (default 5), `--limit-percent` = *p* (default off: *p* = 100 is
//! used, the only percentage at which a domain with no delivery at all would trip) and
//! `--warn-at` = *w* (default 80):
//!
//! | `kind` | subject | fires when (once per subject per hour) |
//! |---|---|---|
//! | `warning` | sender domain | after a defer/fail line: defers+fails ≥ ⌈*w*·*m*/100⌉ **and** percentage ≥ *w*·*p*/100, and the rule has not tripped. Defaults: ≥ 4 defers+fails and ≥ 80 %. |
//! | `tripped` | sender domain | cPanel's rule replayed on the counters trips: defers+fails ≥ *m* **and** 100·defer_fail/(delivered+defer_fail) ≥ *p*. |
//! | `blocked` | sender domain | the log shows cPanel refusing the domain's mail: an `R=enforce_mail_permissions` line for the max defers and failures per hour (`limit` = `defer_fail`) or the max emails per hour (`emails_per_hour`). Fires once per domain, limit and hour. |
//! | `volume_jump` | account | an account (SMTP AUTH id or local user) submits its *n*-th message this hour with *n* ≥ `--account-min` (50) **and** *n* > `--account-factor` (5) × its average messages per hour over the previous `--baseline` hours (6; fewer if the follower has seen fewer). Needs at least one earlier hour seen; bounces are not counted. |
//! | `login_ips` | account | the account's messages this hour came from ≥ `--account-ips` (5) distinct client IPs. |
//! | `burst` | cause | ≥ `--burst` (20) delivery failures of one cause within 10 minutes: deferrals, failures and expiries, not SMTP-time rejections, retry-time-not-reached deferrals or cPanel's own limit refusals (those raise `blocked`). The window slides across hours; the alert still fires at most once per cause per hour. `--burst 0` turns it off. |
//!
//! # Bounded state
//!
//! Whatever the log holds, the engine's memory is bounded (module `state`): at most 20,000 sender
//! domains this hour and 25,000 accounts in full (the least active without an alert are
//! folded into hashed records that give their counters back when they return), queue IDs
//! counted as 64-bit hashes in two generations of 131,072, at most 65,536 failures per cause
//! in a burst window and 20,000 failure texts in the classifier's cache. Each kind of fold is
//! said once on stderr and counted ([`Engine::folds`]).
//!
//! # JSON schema (`--format json` and `--alert-command`)
//!
//! One object per line. Every alert has:
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `type` | `"alert"` | record type (the Ctrl-C summary has `"summary"`) |
//! | `v` | integer | schema version, [`ALERT_SCHEMA_VERSION`] |
//! | `time` | string | log time of the line that raised it, `YYYY-MM-DDTHH:MM:SS[.fff][±HH:MM]` |
//! | `hour` | string | the clock hour counted, `YYYY-MM-DDTHH` |
//! | `kind` | string | `warning`, `tripped`, `blocked`, `volume_jump`, `login_ips` or `burst` |
//! | `subject_type` | string | `sender_domain`, `account` or `cause` |
//! | `subject` | string | the domain, account or cause name |
//! | `text` | string | the one-line human-readable alert (as printed, without the time) |
//! | `replayed` | bool | raised while reading back lines written before following started |
//!
//! `warning`, `tripped` and `blocked` add the domain's counters this hour: `delivered`,
//! `deferred`, `bounced`, `defer_fail` (integers), `percent` (number, one decimal),
//! `limit_min` (integer), `limit_percent` (integer, `null` when `--limit-percent` is off),
//! `warn_defer_fail` (integer), `warn_percent` (number), `to_limit` (integer: more
//! defers+fails that would trip the rule with no more deliveries; `0` once tripped; `null`
//! when it cannot trip this hour). `blocked` also has `limit` (`defer_fail` or
//! `emails_per_hour`) and the figures the log printed, `logged_count`, `logged_max`,
//! `logged_percent` (integers or `null`).
//!
//! `volume_jump` adds `messages` (this hour), `average` (messages per hour before, one
//! decimal), `baseline_hours` (hours averaged), `factor` and `min` (the thresholds).
//!
//! `login_ips` adds `ips` (count), `ip_list` (up to 10 of them) and `messages` (this hour).
//!
//! `burst` adds `count`, `window_minutes` (10), `since` (time of the oldest failure in the
//! window), `top_sender_domain` (the sender domain with the most of them, or `null`) and
//! `example` (one failure text, cut at 200 characters, or `null`).
//!
//! Log text in alerts (domains, accounts, failure texts) is as logged: JSON output escapes
//! every control character ([`crate::util::sanitize::write_json_line`]) and text output passes
//! through [`crate::util::sanitize::clean`].

pub mod hook;
pub mod metrics;
pub mod screen;
mod state;

#[cfg(test)]
mod tests;
mod types;

pub use state::{Caps, Folds};
pub use types::*;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use state::{Accounts, BurstWindow, Domains, Generations, Hasher64};

use crate::classify::{CachedClassifier, Cause, Classifier};
use crate::correlate::{Message, Sink};
use crate::model::cpanel::{rule_counts, sender_domain_key};
use crate::model::event::{Event, Kind, LimitKind, Timestamp};
use crate::model::hour::{Counts, Hour};
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::util::text::{cut, round1 as one_decimal, thousands};

/// Version of the alert JSON schema.
pub const ALERT_SCHEMA_VERSION: u32 = 1;

/// The sliding window of the `burst` alert.
pub const BURST_WINDOW_MINUTES: i64 = 10;

/// At most this many client IPs are remembered per account and hour.
const MAX_IPS: usize = 64;

/// Longest example text in a `burst` alert, in characters.
const EXAMPLE_CHARS: usize = 200;

/// The cause of a failed outcome: an expiry is [`Cause::Expired`]; anything else is what
/// the classifier makes of its reply (code, enhanced status, text). Shared by the engine's
/// burst windows and the metrics' failure counters.
pub(crate) fn cause_of(o: &Outcome<'_>, cache: &mut CachedClassifier<'_>) -> Cause {
    if o.kind == OutcomeKind::Expired {
        Cause::Expired
    } else {
        cache.classify(o.code, o.status, o.text.unwrap_or("")).cause
    }
}

/// One row of the live table: a sender domain this hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainRow {
    pub domain: String,
    pub delivered: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub defer_fail: u64,
    pub percent: f64,
    pub to_limit: Option<u64>,
    /// `blocked`, `tripped`, `warning` or `ok`.
    pub state: &'static str,
    /// When it reached that state.
    pub since: Option<Timestamp>,
    /// cPanel refusal lines seen this hour.
    pub refusals: u64,
    #[serde(skip)]
    closeness: f64,
}

/// The alert engine: a [`Sink`] for the correlator. Alerts it raises are collected until
/// [`Engine::take_alerts`].
pub struct Engine<'c> {
    cfg: AlertConfig,
    cache: CachedClassifier<'c>,
    hour: Option<Hour>,
    /// The first hour any line was seen in: the start of the volume baseline.
    first_hour: Option<Hour>,
    last_time: Option<Timestamp>,
    caps: Caps,
    hasher: Hasher64,
    domains: Domains,
    accounts: Accounts,
    /// Hashes of the queue IDs whose arrival was counted this hour.
    arrivals: Generations<()>,
    /// The failures of each cause in the burst window.
    bursts: HashMap<Cause, BurstWindow>,
    /// (kind, subject key) of the alerts raised this hour.
    fired: HashSet<(AlertKind, String)>,
    replaying: bool,
    quiet_before: Option<Hour>,
    alerts: Vec<Alert>,
    /// Notices for stderr (a cap folding state, said once per kind).
    notices: Vec<String>,
    /// Which kinds of fold were said: domains, accounts, generations, burst, texts.
    said: [bool; 5],
    /// What the caps folded so far.
    folds: Folds,
    /// The lower-cased account of the arrival being counted (reused, not reallocated).
    key: String,
    /// Alerts raised so far (including those kept quiet).
    pub raised: u64,
    /// Lines of an earlier hour than the current one, not counted.
    pub late: u64,
}

impl<'c> Engine<'c> {
    pub fn new(cfg: AlertConfig, classifier: &'c Classifier) -> Self {
        Self::with_caps(cfg, classifier, Caps::default())
    }

    /// An engine that remembers at most what `caps` allow (see module `state`).
    pub fn with_caps(cfg: AlertConfig, classifier: &'c Classifier, caps: Caps) -> Self {
        Engine {
            cfg,
            cache: CachedClassifier::with_limit(classifier, caps.texts),
            hour: None,
            first_hour: None,
            last_time: None,
            caps,
            hasher: Hasher64::default(),
            domains: Domains::new(caps.domains, caps.generation),
            accounts: Accounts::new(caps.accounts, caps.generation),
            arrivals: Generations::new(caps.generation),
            bursts: HashMap::new(),
            fired: HashSet::new(),
            replaying: false,
            quiet_before: None,
            alerts: Vec::new(),
            notices: Vec::new(),
            said: [false; 5],
            folds: Folds::default(),
            key: String::new(),
            raised: 0,
            late: 0,
        }
    }

    /// What the caps folded so far.
    pub fn folds(&self) -> Folds {
        let mut f = self.folds;
        f.generations = self.arrivals.dropped
            + self.domains.generations_dropped()
            + self.accounts.generations_dropped();
        f.texts = self.cache.restarts();
        f
    }

    /// How much state is held: (sender domains in full, folded domain records, accounts
    /// in full, arrival hashes, failures in burst windows).
    #[cfg(test)]
    pub(crate) fn held(&self) -> (usize, usize, usize, usize, usize) {
        (
            self.domains.len(),
            self.domains.folded_len(),
            self.accounts.len(),
            self.arrivals.len(),
            self.bursts.values().map(|b| b.len()).sum(),
        )
    }

    /// Notices raised since the last call (a cap started folding state).
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }

    /// Says `text` once for fold kind `which`.
    fn say_once(&mut self, which: usize, text: impl FnOnce(&Caps) -> String) {
        if let Some(said) = self.said.get_mut(which)
            && !*said
        {
            *said = true;
            let t = text(&self.caps);
            self.notices.push(t);
        }
    }

    /// Says the new folds of the hash generations and the classifier cache, once each.
    fn check_generations(&mut self) {
        let f = self.folds();
        if f.generations > 0 {
            self.say_once(2, |c| {
                format!(
                    "more than {} queue IDs or folded records in one hour: the oldest are forgotten (an arrival may be counted twice, a folded sender domain or account restart from zero)",
                    thousands(2 * c.generation as u64)
                )
            });
        }
        if f.texts > 0 {
            self.say_once(4, |c| {
                format!(
                    "more than {} distinct failure texts: the classifier's cache starts afresh (slower, not less exact)",
                    thousands(c.texts as u64)
                )
            });
        }
    }

    pub fn config(&self) -> &AlertConfig {
        &self.cfg
    }

    /// Marks the lines fed from now on as read back (`replayed` in alerts) or live.
    pub(crate) fn set_replaying(&mut self, replaying: bool) {
        self.replaying = replaying;
    }

    /// Alerts of hours before `hour` are counted but not raised (the baseline read back
    /// before the current hour).
    pub(crate) fn set_quiet_before(&mut self, hour: Option<Hour>) {
        self.quiet_before = hour;
    }

    /// Tells the engine that the log covers every hour from `hour` on (it has older lines),
    /// so hours without mail since then count as quiet hours in the volume baseline rather
    /// than as unseen.
    pub(crate) fn observed_from(&mut self, hour: Hour) {
        self.first_hour = Some(self.first_hour.map_or(hour, |f| f.min(hour)));
    }

    /// The clock hour being counted.
    pub fn hour(&self) -> Option<Hour> {
        self.hour
    }

    /// The time of the latest line seen.
    pub(crate) fn last_time(&self) -> Option<Timestamp> {
        self.last_time
    }

    /// The alerts raised since the last call.
    pub fn take_alerts(&mut self) -> Vec<Alert> {
        self.check_generations();
        std::mem::take(&mut self.alerts)
    }

    /// Moves to the hour of `t` if it is later. Returns false if `t` is of an earlier hour
    /// (the line is not counted).
    fn roll(&mut self, t: &Timestamp) -> bool {
        let h = Hour::of(t);
        if self.last_time.is_none_or(|l| *t > l) {
            self.last_time = Some(*t);
        }
        match self.hour {
            None => {
                self.hour = Some(h);
                self.first_hour.get_or_insert(h);
                true
            }
            Some(cur) if h > cur => {
                self.close_hour(cur, h);
                self.hour = Some(h);
                true
            }
            Some(cur) if h < cur => {
                self.late += 1;
                false
            }
            Some(_) => true,
        }
    }

    /// The top of a new hour: keep the accounts' volumes for the baseline, reset the rest.
    fn close_hour(&mut self, old: Hour, new: Hour) {
        self.check_generations();
        self.accounts.close_hour(old, new, self.cfg.baseline_hours);
        self.domains.clear();
        self.arrivals.clear();
        self.fired = HashSet::new();
        // The classifier cache holds this hour's distinct failure texts: start it afresh
        // (keeping the count of restarts).
        self.cache.clear();
    }

    /// Raises `alert` unless an alert of its kind with the same `key` was raised this hour.
    fn fire(&mut self, key: String, mut alert: Alert) {
        if !self.fired.insert((alert.kind, key)) {
            return;
        }
        self.raised += 1;
        if self.quiet_before.is_some_and(|q| alert.hour < q) {
            return;
        }
        alert.replayed = self.replaying;
        self.alerts.push(alert);
    }

    fn domain_figures(&self, c: &Counts, logged: Option<LoggedLimit>) -> DomainFigures {
        DomainFigures {
            delivered: c.delivered,
            deferred: c.deferred,
            bounced: c.bounced,
            defer_fail: c.defer_fail(),
            percent: one_decimal(c.defer_fail_percent()),
            limit_min: self.cfg.rule.min,
            limit_percent: self.cfg.rule.percent,
            warn_defer_fail: self.cfg.warn_defer_fail(),
            warn_percent: one_decimal(self.cfg.warn_percent()),
            to_limit: self.cfg.to_limit(c),
            logged,
        }
    }

    /// `shop.example: 4 defers+fails this hour (1 deferred, 3 failed, 0 delivered: 100%)`.
    fn describe_counts(domain: &str, c: &Counts) -> String {
        format!(
            "{domain}: {} defers+fails this hour ({} deferred, {} failed, {} delivered: {:.0}%)",
            c.defer_fail(),
            c.deferred,
            c.bounced,
            c.delivered,
            c.defer_fail_percent()
        )
    }

    /// The rule in words: `5 defers+fails and 100%`, noting when the percentage is off.
    fn rule_words(&self) -> String {
        match self.cfg.rule.percent {
            Some(p) => format!("{} defers+fails and {p}%", self.cfg.rule.min),
            None => format!(
                "{} defers+fails and 100% (percentage limit off: checked at 100%)",
                self.cfg.rule.min
            ),
        }
    }

    /// Counts and says `n` sender domains folded.
    fn domain_folds(&mut self, n: u64) {
        self.folds.domains += n;
        self.say_once(0, |c| {
            format!(
                "more than {} sender domains this hour: the least active without an alert are folded into compact records (their counters come back with them)",
                thousands(c.domains as u64)
            )
        });
    }

    /// A counted line of a sender domain.
    fn count_domain(&mut self, domain: &str, o: &Outcome<'_>) {
        let (st, folded) = self.domains.entry(domain, &self.hasher, &self.cfg);
        st.counts.add(o.kind);
        let c = st.counts;
        // Each kind is raised once per domain and hour: its time set here says so (the
        // alert text is only built for the line that raises it).
        let kind = if !o.kind.is_defer_fail() {
            None
        } else if self.cfg.trips(&c) {
            st.tripped.is_none().then(|| {
                st.tripped = Some(o.time);
                AlertKind::Tripped
            })
        } else if st.tripped.is_none() && st.warned.is_none() && self.cfg.warns(&c) {
            st.warned = Some(o.time);
            Some(AlertKind::Warning)
        } else {
            None
        };
        if folded > 0 {
            self.domain_folds(folded);
        }
        let Some(kind) = kind else { return };
        let text = if kind == AlertKind::Tripped {
            let next = Hour(Hour::of(&o.time).0 + 1).display();
            let until = &next[11..];
            let consequence = if self.cfg.rule.percent.is_some() {
                format!("cPanel discards its outgoing mail until {until}")
            } else {
                format!(
                    "with the percentage limit at 100% cPanel would discard its outgoing mail until {until}"
                )
            };
            format!(
                "{} reach the limit of {}: {consequence}",
                Self::describe_counts(domain, &c),
                self.rule_words()
            )
        } else {
            let more = match self.cfg.to_limit(&c) {
                Some(n) => format!("; {n} more trip it"),
                None => String::new(),
            };
            format!(
                "{} near the limit of {}{more}",
                Self::describe_counts(domain, &c),
                self.rule_words()
            )
        };
        let figures = Figures::Domain(self.domain_figures(&c, None));
        self.fire(
            domain.to_string(),
            Alert::new(
                kind,
                o.time,
                SubjectType::SenderDomain,
                domain,
                text,
                figures,
            ),
        );
    }

    /// A cPanel refusal line: the server enforces a limit on the domain.
    fn refusal(&mut self, o: &Outcome<'_>, sender_domain: &str) {
        let Some(l) = o.limit else { return };
        let what = match l.kind {
            LimitKind::DeferFail => "max defers and failures per hour",
            LimitKind::EmailsPerHour => "max emails per hour",
            LimitKind::Other => return,
        };
        let domain = l
            .domain
            .map(|d| d.to_ascii_lowercase())
            .unwrap_or_else(|| sender_domain.to_string());
        let (st, folded) = self.domains.entry(&domain, &self.hasher, &self.cfg);
        st.refusals += 1;
        if st.blocked.is_none() {
            st.blocked = Some(o.time);
        }
        // Raised once per limit, domain and hour.
        let bit = if l.kind == LimitKind::DeferFail { 1 } else { 2 };
        let first = st.blocked_limits & bit == 0;
        st.blocked_limits |= bit;
        let c = st.counts;
        if folded > 0 {
            self.domain_folds(folded);
        }
        if !first {
            return;
        }
        let num = |x: Option<i64>| x.map_or("?".to_string(), |n| n.to_string());
        let effect = if o.kind == OutcomeKind::Deferred {
            "deferring"
        } else {
            "discarding"
        };
        let text = format!(
            "{domain}: the server is {effect} its mail: {what} exceeded ({}/{} ({}%)); {} defers+fails counted this hour",
            num(l.count),
            num(l.max),
            num(l.percent),
            c.defer_fail()
        );
        let logged = LoggedLimit {
            limit: l.kind,
            logged_count: l.count,
            logged_max: l.max,
            logged_percent: l.percent,
        };
        let figures = Figures::Domain(self.domain_figures(&c, Some(logged)));
        let key = format!("{}\0{domain}", what);
        self.fire(
            key,
            Alert::new(
                AlertKind::Blocked,
                o.time,
                SubjectType::SenderDomain,
                &domain,
                text,
                figures,
            ),
        );
    }

    /// A delivery failure: the burst window of its cause.
    fn failure(&mut self, o: &Outcome<'_>, sender_domain: &str) {
        if self.cfg.burst == 0 {
            return;
        }
        let cause = cause_of(o, &mut self.cache);
        if cause == Cause::SendingLimit {
            return;
        }
        let t = o.time.local;
        let window = chrono::Duration::minutes(BURST_WINDOW_MINUTES);
        let hour = self.hour;
        let q = self.bursts.entry(cause).or_default();
        let early = q.push(t, sender_domain, &self.hasher, window, self.caps.burst);
        let count = q.len() as u64;
        // Raised at most once per cause and hour: nothing to build once it was.
        let due = count >= self.cfg.burst && q.fired_in != hour;
        let (since, top) = if due {
            q.fired_in = hour;
            (q.since().unwrap_or(t), q.top_domain().map(str::to_string))
        } else {
            (t, None)
        };
        if early > 0 {
            self.folds.burst += early;
            self.say_once(3, |c| {
                format!(
                    "more than {} failures of one cause in {BURST_WINDOW_MINUTES} minutes: the oldest leave the burst window early",
                    thousands(c.burst as u64)
                )
            });
        }
        if !due {
            return;
        }
        let example = o.text.map(|t| cut(t, EXAMPLE_CHARS));
        let mut text = format!(
            "{count} {} failures in {BURST_WINDOW_MINUTES} minutes (since {})",
            cause.as_str(),
            since.format("%H:%M:%S")
        );
        if let Some(d) = &top {
            text.push_str(&format!(", most from {d}"));
        }
        if let Some(e) = &example {
            text.push_str(&format!(": {e}"));
        }
        let figures = Figures::Burst(BurstFigures {
            count,
            window_minutes: BURST_WINDOW_MINUTES,
            since: Timestamp::new(since, o.time.offset),
            top_sender_domain: top,
            example,
        });
        self.fire(
            cause.as_str().to_string(),
            Alert::new(
                AlertKind::Burst,
                o.time,
                SubjectType::Cause,
                cause.as_str(),
                text,
                figures,
            ),
        );
    }

    /// A message arrived: count it for its account.
    fn arrival(&mut self, m: &Message, time: Timestamp) {
        let Some(account) = m.account.as_deref() else {
            return;
        };
        if m.is_bounce() {
            return;
        }
        let id = self.hasher.of(&m.id);
        if self.arrivals.contains(id) {
            return;
        }
        self.arrivals.insert(id, ());
        let mut key = std::mem::take(&mut self.key);
        key.clear();
        key.push_str(account);
        key.make_ascii_lowercase();
        self.count_arrival(&key, m, time);
        self.key = key;
    }

    /// Counts an arrival for the account `key` (lower-cased) and raises its alerts.
    fn count_arrival(&mut self, key: &str, m: &Message, time: Timestamp) {
        let cur = self.hour.unwrap_or(Hour::of(&time));
        let (a, folded) = self.accounts.entry(key, cur, &self.hasher, &self.cfg);
        // The baseline: hours seen before this one, since the account is counted.
        let seen_from = match (self.first_hour, a.counted_from) {
            (Some(f), Some(c)) => Some(f.max(c)),
            (f, c) => f.or(c),
        };
        let span = seen_from.map_or(0, |f| {
            ((cur.0 - f.0).max(0) as u64).min(self.cfg.baseline_hours)
        });
        a.messages += 1;
        if let Some(ip) = &m.client_ip
            && a.ips.len() < MAX_IPS
            && let Err(i) = a.ips.binary_search(ip)
        {
            a.ips.insert(i, Arc::clone(ip));
        }
        let messages = a.messages;
        let from = Hour(cur.0 - span as i64);
        let before: u64 = a
            .history
            .iter()
            .filter(|(h, _)| *h >= from && *h < cur)
            .map(|(_, n)| n)
            .sum();
        let average = if span > 0 {
            before as f64 / span as f64
        } else {
            0.0
        };
        // Each kind is raised once per account and hour: the bits say which were.
        let volume = a.fired & 1 == 0
            && span > 0
            && messages >= self.cfg.account_min
            && messages as f64 > self.cfg.account_factor * average;
        let ips_due = a.fired & 2 == 0
            && self.cfg.account_ips > 0
            && a.ips.len() as u64 >= self.cfg.account_ips;
        let ips: Vec<String> = if ips_due {
            a.ips.iter().map(|ip| ip.to_string()).collect()
        } else {
            Vec::new()
        };
        a.fired |= u8::from(volume) | (u8::from(ips_due) << 1);
        if folded > 0 {
            self.folds.accounts += folded;
            self.say_once(1, |c| {
                format!(
                    "more than {} sending accounts: the least active without an alert are folded into compact records (their messages this hour come back with them; an account folded with earlier hours loses that baseline)",
                    thousands(c.accounts as u64)
                )
            });
        }
        if volume {
            let hours = if span == 1 { "hour" } else { "hours" };
            let text = if before == 0 {
                format!(
                    "{key}: {messages} messages this hour, none in the previous {span} {hours} (possible compromised account)"
                )
            } else {
                format!(
                    "{key}: {messages} messages this hour, {:.1}× its average of {average:.1} per hour over the previous {span} {hours} (possible compromised account)",
                    messages as f64 / average
                )
            };
            let figures = Figures::Volume(VolumeFigures {
                messages,
                average: one_decimal(average),
                baseline_hours: span,
                factor: self.cfg.account_factor,
                min: self.cfg.account_min,
            });
            self.fire(
                key.to_string(),
                Alert::new(
                    AlertKind::VolumeJump,
                    time,
                    SubjectType::Account,
                    key,
                    text,
                    figures,
                ),
            );
        }
        if ips_due {
            let list: Vec<String> = ips.iter().take(10).cloned().collect();
            let more = if ips.len() > list.len() { ", …" } else { "" };
            let text = format!(
                "{key}: mail submitted from {} client IPs this hour ({}{more}) (possible compromised account)",
                ips.len(),
                list.join(", ")
            );
            let figures = Figures::Ips(IpFigures {
                ips: ips.len() as u64,
                ip_list: list,
                messages,
            });
            self.fire(
                key.to_string(),
                Alert::new(
                    AlertKind::LoginIps,
                    time,
                    SubjectType::Account,
                    key,
                    text,
                    figures,
                ),
            );
        }
    }

    /// The current hour's sender domains, most urgent first.
    pub(crate) fn domain_rows(&self) -> Vec<DomainRow> {
        let target = self.cfg.percent() as f64;
        let mut rows: Vec<DomainRow> = self
            .domains
            .iter()
            .map(|(d, st)| {
                let c = &st.counts;
                let (state, since) = if let Some(t) = st.blocked {
                    ("blocked", Some(t))
                } else if let Some(t) = st.tripped {
                    ("tripped", Some(t))
                } else if let Some(t) = st.warned {
                    ("warning", Some(t))
                } else {
                    ("ok", None)
                };
                let closeness = (c.defer_fail() as f64 / self.cfg.rule.min.max(1) as f64)
                    .min(c.defer_fail_percent() / target)
                    .min(1.0);
                DomainRow {
                    domain: d.to_string(),
                    delivered: c.delivered,
                    deferred: c.deferred,
                    bounced: c.bounced,
                    defer_fail: c.defer_fail(),
                    percent: one_decimal(c.defer_fail_percent()),
                    to_limit: self.cfg.to_limit(c),
                    state,
                    since,
                    refusals: st.refusals,
                    closeness,
                }
            })
            .collect();
        let rank = |s: &str| match s {
            "blocked" => 0,
            "tripped" => 1,
            "warning" => 2,
            _ => 3,
        };
        rows.sort_by(|a, b| {
            rank(a.state)
                .cmp(&rank(b.state))
                .then(b.closeness.total_cmp(&a.closeness))
                .then(b.defer_fail.cmp(&a.defer_fail))
                .then((b.delivered + b.defer_fail).cmp(&(a.delivered + a.defer_fail)))
                .then(a.domain.cmp(&b.domain))
        });
        rows
    }
}

impl Sink for Engine<'_> {
    fn outcome(&mut self, o: &Outcome<'_>) {
        if !self.roll(&o.time) {
            return;
        }
        let domain = sender_domain_key(o.sender);
        if rule_counts(o, &domain) {
            self.count_domain(&domain, o);
        }
        if o.limit.is_some() {
            self.refusal(o, &domain);
        } else if matches!(
            o.kind,
            OutcomeKind::Deferred | OutcomeKind::Bounced | OutcomeKind::Expired
        ) && !o.retry_not_due
        {
            self.failure(o, &domain);
        }
    }

    fn message_done(&mut self, _m: Message) {}

    fn event(&mut self, e: &Event<'_>, m: Option<&Message>) {
        if !self.roll(&e.time) {
            return;
        }
        if e.kind == Kind::Arrival
            && let Some(m) = m
        {
            self.arrival(m, e.time);
        }
    }
}
