//! Clock hours and the outcome counts kept per hour.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;

use crate::model::event::Timestamp;
use crate::model::outcome::OutcomeKind;

/// A clock hour in the log's own time: hours since 1970-01-01T00 of the wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hour(pub i64);

impl Hour {
    pub fn of(t: &Timestamp) -> Hour {
        Hour(t.local.and_utc().timestamp().div_euclid(3600))
    }

    /// `YYYY-MM-DDTHH`.
    pub fn key(self) -> String {
        match chrono::DateTime::from_timestamp(self.0 * 3600, 0) {
            Some(dt) => dt.naive_utc().format("%Y-%m-%dT%H").to_string(),
            None => format!("hour{}", self.0),
        }
    }

    /// `MM-DD HH:00`, for narrow columns.
    pub fn short(self) -> String {
        match chrono::DateTime::from_timestamp(self.0 * 3600, 0) {
            Some(dt) => dt.naive_utc().format("%m-%d %H:00").to_string(),
            None => format!("hour{}", self.0),
        }
    }

    /// `YYYY-MM-DD HH:00`.
    pub fn display(self) -> String {
        match chrono::DateTime::from_timestamp(self.0 * 3600, 0) {
            Some(dt) => dt.naive_utc().format("%Y-%m-%d %H:00").to_string(),
            None => format!("hour{}", self.0),
        }
    }
}

impl Serialize for Hour {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

/// The JSON form [`Hour::key`] writes.
impl JsonSchema for Hour {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Hour".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A clock hour in the log's own time, `YYYY-MM-DDTHH`.",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}$"
        })
    }
}

/// The five outcome counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Counts {
    pub delivered: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub rejected: u64,
    pub expired: u64,
}

impl Counts {
    pub fn add(&mut self, k: OutcomeKind) {
        match k {
            OutcomeKind::Delivered => self.delivered += 1,
            OutcomeKind::Deferred => self.deferred += 1,
            OutcomeKind::Bounced => self.bounced += 1,
            OutcomeKind::Rejected => self.rejected += 1,
            OutcomeKind::Expired => self.expired += 1,
        }
    }

    pub fn get(&self, k: OutcomeKind) -> u64 {
        match k {
            OutcomeKind::Delivered => self.delivered,
            OutcomeKind::Deferred => self.deferred,
            OutcomeKind::Bounced => self.bounced,
            OutcomeKind::Rejected => self.rejected,
            OutcomeKind::Expired => self.expired,
        }
    }

    pub fn merge(&mut self, o: &Counts) {
        self.delivered += o.delivered;
        self.deferred += o.deferred;
        self.bounced += o.bounced;
        self.rejected += o.rejected;
        self.expired += o.expired;
    }

    /// cPanel's defer+fail count: deferrals plus failures.
    pub fn defer_fail(&self) -> u64 {
        self.deferred + self.bounced
    }

    /// cPanel's percentage: `100 × (deferred + bounced) / (delivered + deferred + bounced)`.
    pub fn defer_fail_percent(&self) -> f64 {
        let denom = self.delivered + self.deferred + self.bounced;
        if denom == 0 {
            0.0
        } else {
            100.0 * self.defer_fail() as f64 / denom as f64
        }
    }

    /// Every line counted.
    pub fn total(&self) -> u64 {
        self.delivered + self.deferred + self.bounced + self.rejected + self.expired
    }

    /// Everything but deliveries.
    pub fn problems(&self) -> u64 {
        self.deferred + self.bounced + self.rejected + self.expired
    }
}

/// Counts per clock hour for one key, in an append-mostly vector (logs are in time order).
#[derive(Debug, Default, Clone)]
pub struct HourSeries {
    pub hours: Vec<(Hour, Counts)>,
}

impl HourSeries {
    fn slot(&mut self, h: Hour) -> usize {
        // The hours are sorted and distinct, and nearly every line is of the latest hour.
        let at = match self.hours.last() {
            Some((x, _)) if *x == h => return self.hours.len() - 1,
            Some((x, _)) if *x < h => self.hours.len(),
            _ => match self.hours.binary_search_by(|(x, _)| x.cmp(&h)) {
                Ok(i) => return i,
                Err(at) => at,
            },
        };
        // Most keys (a sender seen once) have one hour: do not let `Vec` round up to four.
        if self.hours.len() < 4 {
            self.hours.reserve_exact(1);
        }
        self.hours.insert(at, (h, Counts::default()));
        at
    }

    pub fn add(&mut self, h: Hour, k: OutcomeKind) {
        let i = self.slot(h);
        self.hours[i].1.add(k);
    }

    pub fn total(&self) -> Counts {
        let mut c = Counts::default();
        for (_, x) in &self.hours {
            c.merge(x);
        }
        c
    }

    /// The hour with the most defers+failures (ties: the earliest).
    pub(crate) fn worst_hour(&self) -> Option<(Hour, Counts)> {
        self.hours
            .iter()
            .filter(|(_, c)| c.defer_fail() + c.rejected > 0)
            .max_by(|a, b| {
                (a.1.defer_fail() + a.1.rejected)
                    .cmp(&(b.1.defer_fail() + b.1.rejected))
                    .then(b.0.cmp(&a.0))
            })
            .copied()
    }
}
