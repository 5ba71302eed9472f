//! Exim mainlog lines (see the mail-log reference §1–2).

use crate::event::{Event, Timestamp};

/// Parses the text of an Exim log line after its timestamp (and zone): optional `[pid]`,
/// optional message ID, then the flag or word. Returns `None` when the line is not
/// understood.
pub fn parse(time: Timestamp, rest: &str) -> Option<Event<'_>> {
    let _ = (time, rest);
    None
}
