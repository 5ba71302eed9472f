//! Outcomes: the unit every count in the report is made of.

use crate::model::event::{Limit, Mta, Timestamp};

/// The outcome of one delivery line: the unit every count in the report is made of.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    Delivered,
    Deferred,
    Bounced,
    Rejected,
    Expired,
}

impl OutcomeKind {
    pub const ALL: [OutcomeKind; 5] = [
        OutcomeKind::Delivered,
        OutcomeKind::Deferred,
        OutcomeKind::Bounced,
        OutcomeKind::Rejected,
        OutcomeKind::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Delivered => "delivered",
            OutcomeKind::Deferred => "deferred",
            OutcomeKind::Bounced => "bounced",
            OutcomeKind::Rejected => "rejected",
            OutcomeKind::Expired => "expired",
        }
    }

    /// Returns true if and only if this outcome counts toward cPanel's defer+fail figure.
    pub(crate) fn is_defer_fail(self) -> bool {
        matches!(self, OutcomeKind::Deferred | OutcomeKind::Bounced)
    }
}

/// One counted line with everything the later stages need, borrowed from the event and the
/// message it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Outcome<'a> {
    pub kind: OutcomeKind,
    pub time: Timestamp,
    pub mta: Mta,
    pub queue_id: Option<&'a str>,
    /// Envelope sender; `None` when unknown, `Some("")` for the null sender.
    pub sender: Option<&'a str>,
    pub account: Option<&'a str>,
    /// cPanel's charged domain (`Sender identification D=`), when logged.
    pub charged_domain: Option<&'a str>,
    /// The client that submitted the message (IP), for login-pattern evidence.
    pub client_ip: Option<&'a str>,
    /// The cPanel script directory that submitted the message (`cwd=`), if any.
    pub script: Option<&'a str>,
    pub recipient: Option<&'a str>,
    pub original_recipient: Option<&'a str>,
    pub host: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub code: Option<u16>,
    pub status: Option<&'a str>,
    pub text: Option<&'a str>,
    pub router: Option<&'a str>,
    pub limit: Option<Limit<'a>>,
    pub retry_not_due: bool,
    /// True when the message is a bounce or other null-sender report.
    pub is_bounce: bool,
}
