//! What happens on this host rather than at a destination: deliveries handed on to a local
//! content filter (hops, not deliveries), deferrals or failures at a loopback relay (our
//! own filter or relay, never a remote destination), and our own domains (those we deliver
//! to here or our users send from), which tell inbound refusals from outbound ones.

use std::collections::{BTreeMap, BTreeSet};

use super::{Aggregates, MAX_SET, entry};
use crate::classify::Cause;
use crate::model::cpanel::UNKNOWN;
use crate::model::event::{Mta, Timestamp, domain_of, lower};
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

/// Relay names of Postfix `pipe` services that are content filters, not mailbox deliveries.
const FILTER_WORDS: [&str; 6] = ["spam", "amavis", "filter", "scan", "clam", "rspamd"];

/// The domain of the recipient of a delivery made on this host (into a mailbox, a local
/// alias, a pipe or a file): Exim deliveries without a remote host (`H=`), Postfix deliveries
/// by an agent without an IP (`relay=local`, `relay=virtual`, `relay=dovecot`, LMTP over a
/// unix socket), content-filter pipes excepted. `None` for remote deliveries and for
/// deliveries to a pipe or file without the address it was for.
pub(super) fn local_delivery_domain<'a>(o: &Outcome<'a>) -> Option<&'a str> {
    if o.kind != OutcomeKind::Delivered || o.ip.is_some() {
        return None;
    }
    let here = match o.mta {
        Mta::Exim => o.host.is_none(),
        Mta::Postfix => o.host.is_some_and(|h| {
            // Case-blind, without a lower-case copy of the name.
            !FILTER_WORDS.iter().any(|w| {
                h.as_bytes()
                    .windows(w.len())
                    .any(|x| x.eq_ignore_ascii_case(w.as_bytes()))
            })
        }),
    };
    let addr = o.original_recipient.or(o.recipient)?;
    if !here || addr.starts_with(['|', '/', '>', ':']) {
        return None;
    }
    domain_of(addr).filter(|d| *d != "<>")
}

impl Aggregates<'_> {
    /// Remembers the domain of a recipient delivered on this host as one of ours.
    pub(super) fn record_own_domain(&mut self, o: &Outcome<'_>) {
        if let Some(d) = local_delivery_domain(o).map(lower)
            && self.delivered_here.len() < MAX_SET
            && !self.delivered_here.contains(d.as_ref())
        {
            self.delivered_here.insert(d.into());
        }
    }

    /// Our own domains: those this host delivered mail to (into mailboxes, aliases, pipes)
    /// and the sender domains of mail our own users sent (with an account, by a script,
    /// locally or from a loopback client). Lower case.
    pub fn own_domains(&self) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self.delivered_here.iter().map(|d| d.to_string()).collect();
        for (d, ev) in &self.evidence.sender_domains {
            if ev.own_messages > 0 && !matches!(d.as_ref(), "<>" | "(local)" | UNKNOWN) {
                out.insert(d.to_string());
            }
        }
        out
    }

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
