//! cPanel's "max defers and failures per hour" rule: which outcomes it counts, under which
//! sender-domain key, and when it trips.

use crate::model::event::domain_of;
use crate::model::event::lower;
use crate::model::hour::Counts;
use crate::model::outcome::{Outcome, OutcomeKind};

/// The sender-domain key of outcomes whose envelope sender is not known.
pub(crate) const UNKNOWN: &str = "(unknown)";

/// The percentages at which the trip rule is replayed when `--limit-percent` is off.
pub(crate) const REPLAY_PERCENTS: [u64; 3] = [100, 50, 25];

/// cPanel rule settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitRule {
    pub min: u64,
    /// `None` = off (cPanel's default).
    pub percent: Option<u64>,
}

impl LimitRule {
    /// Returns true if and only if the rule trips at `percent` for these counts: at least
    /// `min` defers+failures and a defer+fail percentage of at least `percent`.
    pub(crate) fn trips_at(&self, c: &Counts, percent: u64) -> bool {
        c.defer_fail() >= self.min && c.defer_fail_percent() >= percent as f64
    }
}

/// The sender-domain key an outcome is counted under: the envelope sender's domain in
/// lower case, `(local)` for a sender without a domain, `<>` for the null sender and
/// `(unknown)` when the sender is not known.
pub fn sender_domain_key<'a>(sender: Option<&'a str>) -> std::borrow::Cow<'a, str> {
    match sender {
        Some(s) => domain_of(s)
            .map(lower)
            .unwrap_or(std::borrow::Cow::Borrowed("(local)")),
        None => std::borrow::Cow::Borrowed(UNKNOWN),
    }
}

/// Returns true if and only if the outcome belongs to an identified local sender (an
/// authenticated account, a local user, cPanel's `Sender identification`, or a cPanel limit
/// line): the mail cPanel charges to its sender's domain. Mail relayed in from outside is not.
pub(crate) fn is_local_sender(o: &Outcome<'_>) -> bool {
    o.account.is_some() || o.charged_domain.is_some() || o.limit.is_some()
}

/// Returns true if and only if cPanel's defer/fail rule counts this outcome for the
/// sender-domain key `domain` (from [`sender_domain_key`]): identified local senders'
/// deliveries, deferrals and failures; not rejections, expiries, the null sender or unknown
/// senders.
pub fn rule_counts(o: &Outcome<'_>, domain: &str) -> bool {
    o.kind != OutcomeKind::Rejected
        && o.kind != OutcomeKind::Expired
        && is_local_sender(o)
        && domain != "<>"
        && domain != UNKNOWN
}
