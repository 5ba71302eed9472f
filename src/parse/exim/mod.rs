//! Exim mainlog lines: the entry point [`parse`], which reads the prefix and dispatches on
//! the flag or the opening words to the parsers in the sibling files.
//!
//! The parser works on bytes by hand: no allocation and no regular expression per line. Every
//! slice it returns is cut at an ASCII delimiter found in the line, so it is always on a
//! character boundary.
//!
//! Shape of a line after the timestamp: `[pid] ` (optional), the message ID (optional, old
//! 16-character `TTTTTT-PPPPPP-SS` or 4.97+ 23-character `TTTTTT-PPPPPPPPPPP-SSSS`), then a
//! two-character flag (`<= (= => -> >> *> ** ==`) or words.
//!
//! Lines that match none of the known shapes are the output of ACL `logwrite`/`log_message`,
//! system filters and local_scan, whose wording is the administrator's. They are kept as
//! [`Kind::Info`] with the whole text when they are printable: always when they carry a
//! message ID (it says which message they belong to), and otherwise when they have at least
//! two words. Single words, junk (control characters, U+FFFD), flags without a message ID
//! and truncated flag lines are not understood (`None`).

mod arrival;
mod delivery;
mod fields;
mod host;
mod id;
mod message;
mod session;
mod words;

#[cfg(test)]
mod tests;

use memchr::{memchr2, memmem};

use crate::model::event::{Event, Kind, Mta, Timestamp};
use arrival::arrival;
use delivery::delivery;
use fields::token_end;
use id::{split_id, strip_pid};
use message::message_line;
use words::other_line;

/// Parses the text of an Exim log line after its timestamp (and zone): optional `[pid]`,
/// optional message ID, then the flag or word. Returns `None` when the line is not
/// understood.
pub fn parse(time: Timestamp, rest: &str) -> Option<Event<'_>> {
    parse_inner(time, rest, true)
}

fn parse_inner(time: Timestamp, rest: &str, unwrap: bool) -> Option<Event<'_>> {
    let s = strip_pid(rest);
    let (id, body) = split_id(s);
    let mut ev = Event::new(time, Mta::Exim, Kind::Info);
    ev.queue_id = id;
    let b = body.as_bytes();
    if b.len() >= 2 && (b.len() == 2 || b[2] == b' ') {
        let kind = match (b[0], b[1]) {
            (b'<', b'=') | (b'(', b'=') => Some(Kind::Arrival),
            (b'=', b'>') | (b'-', b'>') => Some(Kind::Delivered),
            (b'=', b'=') => Some(Kind::Deferred),
            (b'*', b'*') => Some(Kind::Bounced),
            (b'>', b'>') => Some(Kind::CutThrough),
            (b'*', b'>') => Some(Kind::Suppressed),
            _ => None,
        };
        if let Some(kind) = kind {
            // A flag needs a message ID and something after it.
            if id.is_none() || b.len() <= 3 {
                return None;
            }
            ev.kind = kind;
            let after = &body[3..];
            return if kind == Kind::Arrival {
                arrival(ev, after)
            } else {
                delivery(ev, after)
            };
        }
    }
    if body.is_empty() {
        return None;
    }
    if id.is_some() {
        return message_line(ev, body);
    }
    if let Some(e) = other_line(ev.clone(), body) {
        return Some(e);
    }
    if unwrap && let Some(e) = syslog_in_mainlog(time, body) {
        return Some(e);
    }
    free_text(ev, body)
}

/// A syslog record kept behind an Exim timestamp: `host exim[pid]: [YYYY-MM-DD HH:MM:SS] …`.
fn syslog_in_mainlog(time: Timestamp, s: &str) -> Option<Event<'_>> {
    let (_host, r) = s.split_once(' ')?;
    let (tag, msg) = r.split_once(": ")?;
    let prog = tag.split('[').next().unwrap_or(tag);
    if !prog.starts_with("exim") || prog.contains(' ') {
        return None;
    }
    let (time, msg) = crate::parse::time::exim_prefix(msg).unwrap_or((time, msg));
    parse_inner(time, msg, false)
}

/// An Exim line of no known shape: the output of an ACL `logwrite`/`log_message`, a filter
/// or local_scan. Kept as [`Kind::Info`] when it is printable words; junk is `None`.
fn free_text<'a>(mut ev: Event<'a>, s: &'a str) -> Option<Event<'a>> {
    let b = s.as_bytes();
    let first = memchr2(b' ', b'\t', b).unwrap_or(b.len());
    if first == b.len() || first > 64 || !printable(b) {
        return None;
    }
    // `host prog[pid]: …` or `host postfix/smtpd: …` is another program's syslog record.
    let second = &s[first + 1..];
    let tag = &second[..token_end(second.as_bytes(), 0)];
    if tag.len() > 1
        && tag.ends_with(':')
        && (tag.ends_with("]:") && tag.contains('[') || tag.contains('/'))
    {
        return None;
    }
    ev.kind = Kind::Info;
    ev.text = Some(s);
    Some(ev)
}

/// No control characters (other than tab) and no U+FFFD from invalid UTF-8.
fn printable(b: &[u8]) -> bool {
    !b.iter().any(|&c| c < 0x20 && c != b'\t') && memmem::find(b, "\u{FFFD}".as_bytes()).is_none()
}
