//! When a domain is really invalid: `domain_invalid` (and so the suppression list) never comes
//! from a temporary DNS failure, nor from a domain that mail was delivered to in the same log
//! (before the failure, or after it: then the earlier failures are corrected). Either is a
//! resolver or network fault, counted as `network`.

use super::{Aggregates, MAX_SET, entry};
use crate::classify::{Cause, Classification, Permanence};
use crate::model::outcome::{Outcome, OutcomeKind};

/// Texts of DNS lookups that failed for now, not for good.
const TEMPORARY: [&str; 6] = [
    "try again",
    "temporarily",
    "servfail",
    "temporary failure",
    "timed out",
    "did not complete",
];

/// The cause a temporary DNS failure, or a "domain not found" for a domain that exists, is
/// counted as.
const FAULT: Classification = Classification {
    cause: Cause::Network,
    permanence: Permanence::Temporary,
};

/// Returns true if and only if a line classified `domain_invalid` says the lookup failed for
/// now: a deferral, a temporary verdict, a 4xx reply or `4.x.x` status, or a text saying so.
fn is_temporary(o: &Outcome<'_>, v: &Classification) -> bool {
    o.kind == OutcomeKind::Deferred
        || v.permanence == Permanence::Temporary
        || o.code.is_some_and(|c| (400..500).contains(&c))
        || o.status.is_some_and(|s| s.starts_with("4."))
        || o.text.is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            TEMPORARY.iter().any(|w| t.contains(w))
        })
}

impl Aggregates<'_> {
    /// The verdict of a line, with `domain_invalid` turned into a network fault when the
    /// failure was temporary or the domain was delivered to earlier in the log. A
    /// `domain_invalid` that stands is remembered per domain, to be corrected if mail to the
    /// domain is delivered later.
    pub(super) fn check_domain_invalid(
        &mut self,
        o: &Outcome<'_>,
        rcpt_domain: Option<&str>,
        v: Classification,
    ) -> Classification {
        if v.cause != Cause::DomainInvalid {
            return v;
        }
        if is_temporary(o, &v) {
            return FAULT;
        }
        let Some(d) = rcpt_domain else { return v };
        let reached = self
            .by_recipient_domain
            .get(d)
            .is_some_and(|s| s.hours.iter().any(|(_, c)| c.delivered > 0));
        if reached {
            return FAULT;
        }
        if self.invalid_domains.len() < MAX_SET || self.invalid_domains.contains_key(d) {
            *entry(&mut self.invalid_domains, d) += 1;
        }
        v
    }

    /// A delivery to `domain`: if lines for it were counted as `domain_invalid`, they were a
    /// resolver or network fault after all. Moves them to `network` in the causes and in the
    /// failing recipients of that domain.
    pub(super) fn domain_reached(&mut self, domain: &str) {
        let Some(lines) = self.invalid_domains.remove(domain) else {
            return;
        };
        if let Some(n) = self.causes.get_mut(&Cause::DomainInvalid) {
            *n = n.saturating_sub(lines);
            if *n == 0 {
                self.causes.remove(&Cause::DomainInvalid);
            }
        }
        *self.causes.entry(Cause::Network).or_default() += lines;
        let suffix = format!("@{domain}");
        for (rcpt, rows) in self.failing.iter_mut() {
            if !rcpt.ends_with(&suffix) {
                continue;
            }
            for r in rows.iter_mut().filter(|r| r.cause == Cause::DomainInvalid) {
                r.cause = FAULT.cause;
                r.permanence = FAULT.permanence;
            }
        }
    }
}
