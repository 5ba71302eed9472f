//! What the codes say on their own, when no text rule matched: the cause an enhanced status
//! or a basic reply code implies, and the permanence of a failure.

use super::{Cause, Permanence};
use crate::model::smtp::Status;

/// The effective reply class: the status class if known, else the code's first digit.
pub(super) fn reply_class(code: Option<u16>, status: Option<Status>) -> Option<u8> {
    match status {
        Some(s) if s.class == 4 || s.class == 5 => Some(s.class),
        _ => code.map(|c| (c / 100) as u8),
    }
}

/// Temporary for class 4, permanent for class 5 (see [`reply_class`]), else unknown.
pub(super) fn permanence(code: Option<u16>, status: Option<Status>) -> Permanence {
    match reply_class(code, status) {
        Some(4) => Permanence::Temporary,
        Some(5) => Permanence::Permanent,
        _ => Permanence::Unknown,
    }
}

/// The cause an enhanced status implies on its own (RFC 3463, IANA registry, RFC 7372/7505,
/// and Microsoft's private 5.7.5xx–7xx / 4.7.5xx–6xx codes). `None`: the status says
/// nothing useful (X.0.0, X.2.0, X.2.4, ...), so the reply code decides.
pub(super) fn cause_from_status(s: Status) -> Option<Cause> {
    use Cause::*;
    let temp = s.class == 4;
    Some(match (s.subject, s.detail) {
        (0, _) => return None,
        // Addressing.
        (1, 2 | 10) => DomainInvalid,
        (1, 6) => MailboxDisabled,
        (1, 7 | 8) => Blocked, // our sender address or its domain is refused
        (1, 9) => RemoteError,
        (1, 5) => return None,
        (1, _) => UserUnknown,
        // Mailbox.
        (2, 1) => MailboxDisabled,
        (2, 2) => MailboxFull,
        (2, 3) => TooLarge,
        (2, _) => return None,
        // Mail system.
        (3, 4) => TooLarge,
        (3, _) => RemoteError,
        // Network and routing.
        (4, 4) if !temp => DomainInvalid,
        (4, 5) => RemoteError, // mail system congestion
        (4, 7) => Expired,
        (4, 300 | 316) => Expired,      // Microsoft: message expired
        (4, 310) => DomainInvalid,      // Microsoft: DNS domain does not exist
        (4, _) => Network,              // incl. X.4.6 routing loop, X.4.312 DNS query failed
        (5, 3) => RateLimited,          // too many recipients
        (5, _) => Other,                // protocol errors
        (6, _) => AuthPolicy,           // content/media format
        (7, 8..=12 | 14) => AuthPolicy, // SMTP AUTH and encryption
        (7, 13 | 17 | 18) => MailboxDisabled,
        (7, 16) => TooLarge,
        (7, 20..=26 | 29 | 30) => AuthPolicy, // DKIM, SPF, rDNS, DMARC, ARC, REQUIRETLS
        (7, 27) => Blocked,                   // our sender domain has a null MX
        (7, 28) => SpamContent,
        (7, 3..=7) => AuthPolicy,
        (7, 501..=503) => SpamContent,
        (7, 505) => MailboxDisabled,
        (7, 506 | 509) => AuthPolicy,
        (7, 507) => Blocked,
        (7, 511 | 513) => Blocklisted,
        (7, 500..=699) if temp => Blocklisted,
        (7, 606..=649) => Blocklisted,
        (7, 700..=799) => RateLimited,
        (7, _) => Blocked,
        _ => return None,
    })
}

/// The weak default of a basic reply code (RFC 5321 §4.2).
pub(super) fn cause_from_code(code: u16) -> Option<Cause> {
    use Cause::*;
    Some(match code {
        421 | 451 | 452 => RemoteError,
        454 | 530 | 535 | 538 => AuthPolicy,
        521 | 556 => DomainInvalid,
        551 | 553 => UserUnknown,
        552 => MailboxFull,
        400..=599 => Other,
        _ => return None,
    })
}
