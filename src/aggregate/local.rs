//! What happens on this host rather than at a destination: deliveries handed on to a local
//! content filter (hops, not deliveries) and deferrals or failures at a loopback relay (our
//! own filter or relay, never a remote destination).

use std::collections::BTreeMap;

use super::{Aggregates, MAX_SET, entry};
use crate::classify::Cause;
use crate::model::event::Timestamp;
use crate::model::hour::Counts;
use crate::model::outcome::{Outcome, OutcomeKind};

/// Deferrals and failures at one loopback relay (a local content filter or relay).
#[derive(Debug, Clone)]
pub struct LocalRelay {
    pub counts: Counts,
    pub first: Timestamp,
    pub last: Timestamp,
    /// Lines by cause.
    pub causes: BTreeMap<Cause, u64>,
    /// The last line's code and text.
    pub code: Option<u16>,
    pub text: Option<String>,
}

/// Returns true if and only if the line is a deferral or failure at a loopback relay.
pub(super) fn at_local_relay(o: &Outcome<'_>) -> bool {
    matches!(o.kind, OutcomeKind::Deferred | OutcomeKind::Bounced)
        && crate::correlate::is_loopback(o.host, o.ip)
}

impl Aggregates<'_> {
    /// A deferral or failure at a loopback relay, by relay (host, or IP when the host is not
    /// named).
    pub(super) fn record_local_relay(&mut self, o: &Outcome<'_>, cause: Cause) {
        let Some(key) = o.host.or(o.ip) else { return };
        if self.local_relays.len() >= MAX_SET && !self.local_relays.contains_key(key) {
            return;
        }
        let new = !self.local_relays.contains_key(key);
        let r = entry(&mut self.local_relays, key);
        if new {
            r.first = o.time;
        }
        r.last = o.time;
        r.counts.add(o.kind);
        *r.causes.entry(cause).or_default() += 1;
        r.code = o.code;
        r.text = o.text.map(str::to_string);
    }

    /// A hop to a local content filter or another queue of this host: counted apart, in no
    /// other figure.
    pub(super) fn record_hand_off(&mut self, o: &Outcome<'_>) {
        if self.filter.outcome_ok(o) {
            self.handed_off += 1;
        }
    }
}

impl Default for LocalRelay {
    fn default() -> Self {
        let epoch = chrono::NaiveDateTime::default();
        LocalRelay {
            counts: Counts::default(),
            first: Timestamp::new(epoch, None),
            last: Timestamp::new(epoch, None),
            causes: BTreeMap::new(),
            code: None,
            text: None,
        }
    }
}
