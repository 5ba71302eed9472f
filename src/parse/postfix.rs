//! Postfix log messages (see the mail-log reference §3).

use crate::event::{Event, Timestamp};

/// Parses the message of a Postfix syslog record. `program` is the whole tag
/// (`postfix/smtp`, `postfix-out/submission/smtpd`); its last component is the service.
/// Returns `None` when the message is not understood.
pub fn parse<'a>(time: Timestamp, program: &'a str, message: &'a str) -> Option<Event<'a>> {
    let _ = (time, program, message);
    None
}
