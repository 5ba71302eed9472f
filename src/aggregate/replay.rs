//! cPanel's "max defers and failures per hour" rule replayed per sender domain and hour,
//! the limit trips the log itself records, and whether the log is from a cPanel server.

use super::{Aggregates, HashSet, MAX_SET, entry};
use crate::model::event::{Event, Kind, LimitKind, Timestamp};
use crate::model::hour::{Counts, Hour};
use crate::model::outcome::{Outcome, OutcomeKind};

/// The moment a replayed rule tripped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TripMark {
    pub at: Timestamp,
    pub defer_fail: u64,
    pub percent: f64,
}

/// The trips of one domain-hour at the four replayed percentages, allocated on the first
/// trip: nearly every domain-hour never trips, and four empty marks would triple its size.
#[derive(Debug, Default, Clone)]
pub struct Trips(Option<Box<[Option<TripMark>; 4]>>);

const NO_TRIP: Option<TripMark> = None;

impl std::ops::Index<usize> for Trips {
    type Output = Option<TripMark>;

    fn index(&self, slot: usize) -> &Option<TripMark> {
        match &self.0 {
            Some(t) => &t[slot],
            None => {
                assert!(slot < 4, "trip slot {slot} out of 0..4");
                &NO_TRIP
            }
        }
    }
}

impl std::ops::IndexMut<usize> for Trips {
    fn index_mut(&mut self, slot: usize) -> &mut Option<TripMark> {
        &mut self.0.get_or_insert_with(|| Box::new([None; 4]))[slot]
    }
}

/// Replay state of one sender domain in one hour.
#[derive(Debug, Default, Clone)]
pub struct DomainHour {
    pub counts: Counts,
    /// Trips of the rule at `--limit-percent` (index 0) and at 100/50/25% (1..=3).
    pub trips: Trips,
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

impl Aggregates<'_> {
    /// Replays the cPanel rule for one counted line of a sender domain.
    pub(super) fn replay_line(&mut self, domain: &str, h: Hour, o: &Outcome<'_>) {
        let rule = self.rule;
        let hours = entry(&mut self.replay, domain);
        let i = match hours.iter().rposition(|(x, _)| *x == h) {
            Some(i) => i,
            None => {
                // Most domains send in one hour: no spare room for three more on the first.
                if hours.capacity() == 0 {
                    hours.reserve_exact(1);
                }
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

    pub(super) fn record_log_limit(&mut self, o: &Outcome<'_>, sender_domain: &str) {
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
}

/// Routers only cPanel's Exim configuration has.
const CPANEL_ROUTERS: [&str; 4] = [
    "enforce_mail_permissions",
    "dkim_lookuphost",
    "virtual_user_spam",
    "virtual_aliases_nostar",
];

/// Returns true if and only if the line is one only a cPanel server writes: `Sender
/// identification`, `SMTP connection outbound`, `SMTP connection identification`, `nobody
/// send identification`, or a delivery through a cPanel router (`enforce_mail_permissions`,
/// `dkim_lookuphost`, `virtual_user_spam`, `virtual_aliases_nostar`, `boxtrapper_*`).
pub fn is_cpanel_line(e: &Event<'_>) -> bool {
    const TEXTS: [&str; 3] = [
        "SMTP connection outbound ",
        "SMTP connection identification ",
        "nobody send identification ",
    ];
    e.kind == Kind::SenderIdentified
        || e.limit.is_some()
        || e.router
            .is_some_and(|r| CPANEL_ROUTERS.contains(&r) || r.starts_with("boxtrapper_"))
        || (e.kind == Kind::Info
            && e.text
                .is_some_and(|t| TEXTS.iter().any(|p| t.starts_with(p))))
}
