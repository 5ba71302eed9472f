//! The Prometheus metrics of `follow --metrics`: a [`Metrics`] registry shared with the
//! HTTP thread, and the [`Recorder`] that counts into it from the follow thread (lines,
//! events, recipients per sender domain and account, failures per cause) and copies the
//! [`Engine`]'s current-hour figures per sender domain into gauges.
//!
//! # Bounded label sets
//!
//! Sender domains and accounts come from the log, so their number is unbounded. Each of the
//! two label sets holds at most `--metrics-max-series` values ([`Slots`]): a value gets its
//! own series while there is room, and keeps it; past the cap the recipients are counted
//! under [`OTHER`]. At the top of each clock hour (of the log's time), when a set is full,
//! the values with no recipient in the hour that just ended lose their series, making room.
//! A series counts from when it got its slot, so every counter only ever grows (what was
//! counted under [`OTHER`] stays there). The hourly gauges show the `--metrics-max-series`
//! sender domains closest to their limit, from the engine's rows of the live table.
//!
//! Label values are cleaned of control characters ([`sanitize::clean`]) and escaped by the
//! text encoder; with `--redact`, accounts that are addresses are redacted
//! ([`redact::address`]).

use std::collections::HashMap;
use std::sync::Mutex;

use prometheus::core::Collector;
use prometheus::{
    Encoder, GaugeVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use super::{AlertConfig, Caps, DomainRow, Engine, cause_of};
use crate::classify::{CachedClassifier, Classifier};
use crate::correlate::{Message, Sink};
use crate::model::cpanel::sender_domain_key;
use crate::model::event::Event;
use crate::model::hour::Hour;
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::util::{redact, sanitize};

/// The label value that aggregates the sender domains and accounts past the cap.
pub const OTHER: &str = "(other)";

/// The `outcome` label values of the recipient counters.
pub const OUTCOMES: [&str; 6] = [
    "delivered",
    "deferred",
    "bounced",
    "rejected",
    "expired",
    "discarded",
];

/// Content type of the text exposition format served.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The metrics, registered once; cloned handles update the same values.
pub struct Metrics {
    registry: Registry,
    /// Held while the hourly gauges are rewritten and while encoding, so that a scrape
    /// never sees half of them.
    gauges_lock: Mutex<()>,
    lines: IntCounter,
    unrecognised: IntCounter,
    malformed: IntCounter,
    events: IntCounter,
    rotations: IntCounter,
    files: IntGauge,
    domain_recipients: IntCounterVec,
    account_recipients: IntCounterVec,
    failures: IntCounterVec,
    hour_defer_fail: IntGaugeVec,
    hour_delivered: IntGaugeVec,
    hour_limit_ratio: GaugeVec,
    hour_to_limit: IntGaugeVec,
    hour_domains: IntGauge,
    limit_min: IntGauge,
    limit_percent: IntGauge,
}

/// Registers `c` in `r` (names are fixed and distinct, so this cannot fail).
fn register<C: Collector + Clone + 'static>(r: &Registry, c: C) -> C {
    r.register(Box::new(c.clone()))
        .expect("distinct metric names");
    c
}

fn counter(r: &Registry, name: &str, help: &str) -> IntCounter {
    register(r, IntCounter::new(name, help).expect("valid metric"))
}

fn gauge(r: &Registry, name: &str, help: &str) -> IntGauge {
    register(r, IntGauge::new(name, help).expect("valid metric"))
}

fn counter_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    register(
        r,
        IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric"),
    )
}

fn gauge_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    register(
        r,
        IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric"),
    )
}

impl Metrics {
    /// Every metric, with the limit rule of `cfg` and the build's `version`.
    pub fn new(cfg: &AlertConfig, version: &str) -> Metrics {
        let r = Registry::new();
        let build = gauge_vec(
            &r,
            "mailtrace_build_info",
            "Always 1; the version of mailtrace serving these metrics.",
            &["version"],
        );
        build.with_label_values(&[version]).set(1);
        let m = Metrics {
            lines: counter(&r, "mailtrace_lines_total", "Log lines read."),
            unrecognised: counter(
                &r,
                "mailtrace_unrecognised_lines_total",
                "MTA lines no parser understood.",
            ),
            malformed: counter(
                &r,
                "mailtrace_malformed_lines_total",
                "Lines of no known log shape.",
            ),
            events: counter(&r, "mailtrace_events_total", "Log lines understood as events."),
            rotations: counter(
                &r,
                "mailtrace_rotations_total",
                "Rotations seen: a followed file replaced by a new one, or truncated.",
            ),
            files: gauge(&r, "mailtrace_followed_files", "Files being followed."),
            domain_recipients: counter_vec(
                &r,
                "mailtrace_sender_domain_recipients_total",
                "Recipient lines per envelope sender domain and outcome.",
                &["domain", "outcome"],
            ),
            account_recipients: counter_vec(
                &r,
                "mailtrace_account_recipients_total",
                "Recipient lines per sending account and outcome.",
                &["account", "outcome"],
            ),
            failures: counter_vec(
                &r,
                "mailtrace_failures_total",
                "Deferrals (with a delivery attempt), bounces, rejections and expiries per cause.",
                &["cause"],
            ),
            hour_defer_fail: gauge_vec(
                &r,
                "mailtrace_sender_domain_hour_defer_fail",
                "Defers+failures of the sender domain in the current clock hour, as cPanel counts them.",
                &["domain"],
            ),
            hour_delivered: gauge_vec(
                &r,
                "mailtrace_sender_domain_hour_delivered",
                "Deliveries of the sender domain in the current clock hour, as cPanel counts them.",
                &["domain"],
            ),
            hour_limit_ratio: register(
                &r,
                GaugeVec::new(
                    Opts::new(
                        "mailtrace_sender_domain_hour_limit_ratio",
                        "How close the sender domain is to tripping the hourly defer/fail limit: the smaller of defers+failures over the limit and the defer/fail percentage over the limit percentage, at most 1 (1 = tripped).",
                    ),
                    &["domain"],
                )
                .expect("valid metric"),
            ),
            hour_to_limit: gauge_vec(
                &r,
                "mailtrace_sender_domain_hour_to_limit",
                "More defers+failures that would trip the hourly limit with no more deliveries (0 once tripped; absent when it cannot trip this hour).",
                &["domain"],
            ),
            hour_domains: gauge(
                &r,
                "mailtrace_hour_sender_domains",
                "Sender domains counted in the current clock hour (also those without a series).",
            ),
            limit_min: gauge(
                &r,
                "mailtrace_limit_defer_fail",
                "The hourly limit: defers+failures a sender domain may have before it trips (--limit-min).",
            ),
            limit_percent: gauge(
                &r,
                "mailtrace_limit_percent",
                "The defer/fail percentage that trips the limit (--limit-percent; 100 when off).",
            ),
            gauges_lock: Mutex::new(()),
            registry: r,
        };
        m.limit_min.set(gauge_value(cfg.rule.min));
        m.limit_percent.set(gauge_value(cfg.percent()));
        m
    }

    /// The number of followed files.
    pub fn set_files(&self, n: usize) {
        self.files.set(gauge_value(n as u64));
    }

    /// A rotation of a followed file.
    pub fn rotation(&self) {
        self.rotations.inc();
    }

    /// The metrics in the text exposition format.
    pub fn encode(&self) -> Vec<u8> {
        let _held = self.gauges_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("encoding into memory");
        out
    }

    /// Rewrites the hourly gauges from `rows` (most urgent first), at most `max` domains.
    fn set_hour(&self, rows: &[DomainRow], max: usize) {
        let _held = self.gauges_lock.lock().unwrap_or_else(|e| e.into_inner());
        self.hour_defer_fail.reset();
        self.hour_delivered.reset();
        self.hour_limit_ratio.reset();
        self.hour_to_limit.reset();
        self.hour_domains.set(gauge_value(rows.len() as u64));
        for row in rows.iter().take(max) {
            let label = [&*sanitize::clean(&row.domain)];
            self.hour_defer_fail
                .with_label_values(&label)
                .set(gauge_value(row.defer_fail));
            self.hour_delivered
                .with_label_values(&label)
                .set(gauge_value(row.delivered));
            self.hour_limit_ratio
                .with_label_values(&label)
                .set(row.closeness);
            if let Some(n) = row.to_limit {
                self.hour_to_limit
                    .with_label_values(&label)
                    .set(gauge_value(n));
            }
        }
    }
}

/// A count as a gauge's value.
fn gauge_value(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A bounded label set: which values have their own series (see the module documentation).
#[derive(Debug)]
pub struct Slots {
    cap: usize,
    /// Each value with a series, and the last hour it was counted in.
    held: HashMap<Box<str>, Hour>,
    /// The hour of the last eviction check.
    checked: Option<Hour>,
}

impl Slots {
    pub fn new(cap: usize) -> Slots {
        Slots {
            cap: cap.max(1),
            held: HashMap::new(),
            checked: None,
        }
    }

    /// The label to count `value` under in `hour`: `value` itself while it holds a slot or
    /// one is free, else [`OTHER`]. The values evicted on the way are pushed to `evicted`.
    pub fn label<'v>(
        &mut self,
        value: &'v str,
        hour: Hour,
        evicted: &mut Vec<Box<str>>,
    ) -> &'v str {
        if let Some(h) = self.held.get_mut(value) {
            *h = (*h).max(hour);
            return value;
        }
        if self.held.len() >= self.cap && self.checked.is_none_or(|c| c < hour) {
            self.checked = Some(hour);
            let idle_before = Hour(hour.0 - 1);
            self.held.retain(|v, h| {
                let keep = *h >= idle_before;
                if !keep {
                    evicted.push(v.clone());
                }
                keep
            });
        }
        if self.held.len() < self.cap {
            self.held.insert(value.into(), hour);
            return value;
        }
        OTHER
    }
}

/// Counts what the follow thread sees into a [`Metrics`].
pub struct Recorder<'c> {
    metrics: std::sync::Arc<Metrics>,
    cache: CachedClassifier<'c>,
    domains: Slots,
    accounts: Slots,
    max_series: usize,
    redact: bool,
    /// Something was counted since the hourly gauges were last rewritten.
    dirty: bool,
    evicted: Vec<Box<str>>,
}

/// What a parsed line was, for the line counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Event,
    Unrecognised,
    Malformed,
    Other,
}

impl<'c> Recorder<'c> {
    /// A recorder with label sets of at most `max_series` values each; `redact` redacts
    /// accounts that are addresses.
    pub fn new(
        metrics: std::sync::Arc<Metrics>,
        classifier: &'c Classifier,
        max_series: usize,
        redact: bool,
    ) -> Self {
        Recorder {
            metrics,
            cache: CachedClassifier::with_limit(classifier, Caps::default().texts),
            domains: Slots::new(max_series),
            accounts: Slots::new(max_series),
            max_series: max_series.max(1),
            redact,
            dirty: true,
            evicted: Vec::new(),
        }
    }

    /// One line read, parsed as `kind`.
    pub fn line(&mut self, kind: LineKind) {
        self.metrics.lines.inc();
        match kind {
            LineKind::Event => self.metrics.events.inc(),
            LineKind::Unrecognised => self.metrics.unrecognised.inc(),
            LineKind::Malformed => self.metrics.malformed.inc(),
            LineKind::Other => {}
        }
    }

    /// A rotation of a followed file.
    pub fn rotation(&self) {
        self.metrics.rotation();
    }

    /// Rewrites the hourly gauges from `engine` if anything was counted since last time.
    pub fn refresh(&mut self, engine: &Engine<'_>) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        self.metrics
            .set_hour(&engine.domain_rows(), self.max_series);
    }

    /// The `outcome` label of `o`: a cPanel limit refusal that is not a deferral is
    /// `discarded`.
    fn outcome_label(o: &Outcome<'_>) -> &'static str {
        if o.limit.is_some() && o.kind != OutcomeKind::Deferred {
            "discarded"
        } else {
            o.kind.as_str()
        }
    }

    /// Counts one recipient line.
    fn count(&mut self, o: &Outcome<'_>) {
        self.dirty = true;
        let hour = Hour::of(&o.time);
        let outcome = Self::outcome_label(o);
        let domain = sender_domain_key(o.sender);
        let domain = sanitize::clean(&domain);
        let label = self.domains.label(&domain, hour, &mut self.evicted);
        self.metrics
            .domain_recipients
            .with_label_values(&[label, outcome])
            .inc();
        Self::forget(&self.metrics.domain_recipients, &mut self.evicted);
        if let Some(a) = o.account {
            let a = a.to_ascii_lowercase();
            let a = if self.redact {
                redact::address(&a).into_owned()
            } else {
                a
            };
            let a = sanitize::clean(&a);
            let label = self.accounts.label(&a, hour, &mut self.evicted);
            self.metrics
                .account_recipients
                .with_label_values(&[label, outcome])
                .inc();
            Self::forget(&self.metrics.account_recipients, &mut self.evicted);
        }
        let failed = match o.kind {
            OutcomeKind::Delivered => false,
            OutcomeKind::Deferred => !o.retry_not_due,
            _ => true,
        };
        if failed {
            let cause = cause_of(o, &mut self.cache);
            self.metrics
                .failures
                .with_label_values(&[cause.as_str()])
                .inc();
        }
    }

    /// Removes the series of the `evicted` values from `vec`.
    fn forget(vec: &IntCounterVec, evicted: &mut Vec<Box<str>>) {
        for v in evicted.drain(..) {
            for outcome in OUTCOMES {
                // A value need not have a series of every outcome.
                let _ = vec.remove_label_values(&[&v, outcome]);
            }
        }
    }
}

/// The sink `follow` feeds when it serves metrics: the alert engine and the recorder.
pub struct WithMetrics<'a, 'c> {
    pub engine: &'a mut Engine<'c>,
    pub recorder: &'a mut Recorder<'c>,
}

impl Sink for WithMetrics<'_, '_> {
    fn outcome(&mut self, o: &Outcome<'_>) {
        self.engine.outcome(o);
        self.recorder.count(o);
    }

    /// A hop within this host: the engine counts it as it always does; the recipient
    /// counters wait for the message's own delivery under its new queue ID.
    fn hand_off(&mut self, o: &Outcome<'_>) {
        self.engine.hand_off(o);
    }

    fn message_done(&mut self, m: Message) {
        self.engine.message_done(m);
    }

    fn event(&mut self, e: &Event<'_>, m: Option<&Message>) {
        self.engine.event(e, m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_cap_the_values_and_release_idle_ones_at_the_next_hour() {
        let mut s = Slots::new(2);
        let mut evicted = Vec::new();
        let h = Hour(1000);
        assert_eq!(s.label("a", h, &mut evicted), "a");
        assert_eq!(s.label("b", h, &mut evicted), "b");
        assert_eq!(s.label("c", h, &mut evicted), OTHER);
        assert_eq!(s.label("a", h, &mut evicted), "a");
        // The next hour: both were active in the hour just ended, so both keep their place.
        assert_eq!(s.label("c", Hour(1001), &mut evicted), OTHER);
        assert!(evicted.is_empty());
        assert_eq!(s.label("a", Hour(1001), &mut evicted), "a");
        // Two hours on: b had nothing in hour 1001 and gives up its place, once per hour.
        assert_eq!(s.label("c", Hour(1002), &mut evicted), "c");
        assert_eq!(evicted, vec![Box::<str>::from("b")]);
        evicted.clear();
        assert_eq!(s.label("d", Hour(1002), &mut evicted), OTHER);
        assert!(evicted.is_empty());
    }

    #[test]
    fn a_series_is_removed_with_its_slot() {
        let cfg = AlertConfig::default();
        let m = Metrics::new(&cfg, "test");
        m.domain_recipients
            .with_label_values(&["b", "delivered"])
            .inc();
        let mut evicted = vec![Box::<str>::from("b")];
        Recorder::forget(&m.domain_recipients, &mut evicted);
        let text = String::from_utf8(m.encode()).unwrap();
        assert!(!text.contains("domain=\"b\""), "{text}");
        assert!(
            text.contains("mailtrace_build_info{version=\"test\"} 1"),
            "{text}"
        );
    }
}
