//! Word lines scoped to a message (with a message ID): `Completed`, `Frozen`, cPanel sender
//! identification, per-host detail of an outbound attempt, and message-scoped free text.

use memchr::memmem;

use super::delivery::finish_failure;
use super::fields::{tag_at, token_end};
use super::host::{host_at, set_host};
use super::id::is_message_id;
use super::printable;
use super::words::other_line;
use crate::model::event::{Event, Kind};

pub(super) fn message_line<'a>(mut ev: Event<'a>, s: &'a str) -> Option<Event<'a>> {
    let set = |mut ev: Event<'a>, kind: Kind, text: &'a str| {
        ev.kind = kind;
        ev.text = Some(text);
        Some(ev)
    };
    match s.as_bytes()[0] {
        b'C' if s.starts_with("Completed") => {
            ev.kind = Kind::Completed;
            return Some(ev);
        }
        b'F' if s.starts_with("Frozen") => return set(ev, Kind::Frozen, s),
        b'f' if s.starts_with("frozen by ") => return set(ev, Kind::Frozen, s),
        b'U' if s.starts_with("Unfrozen") => return set(ev, Kind::Unfrozen, s),
        b'u' if s.starts_with("unfrozen by ") => return set(ev, Kind::Unfrozen, s),
        b'r' if s.starts_with("removed by ") => return set(ev, Kind::AdminRemoved, &s[11..]),
        b'S' if s.starts_with("Sender identification ") => {
            return Some(sender_identification(ev, s));
        }
        b'S' if s.starts_with("SMTP connection outbound ") => return Some(outbound(ev, s)),
        b'S' if s.starts_with("SMTP connection lost") => {
            return set(ev, Kind::ProtocolError, s);
        }
        b'E' if s.starts_with("Error while reading message with no usable sender address") => {
            if let Some(p) = s.find("(R=") {
                let r = &s[p + 3..];
                if let Some(e) = r.find(')') {
                    ev.related_id = Some(&r[..e]);
                }
            }
            return set(ev, Kind::Warning, s);
        }
        b'P' if s.starts_with("Process failed ") => return set(ev, Kind::Warning, s),
        b'l' if s.starts_with("lowest numbered MX record points to local host") => {
            return set(ev, Kind::Warning, s);
        }
        _ => {}
    }
    if let Some(e) = other_line(ev.clone(), s) {
        return Some(e);
    }
    if !printable(s.as_bytes()) {
        return None;
    }
    // `<id> mx.example [ip] Connection timed out` (older per-host lines without `H=`).
    let b = s.as_bytes();
    let first = token_end(b, 0);
    if b.get(first + 1) == Some(&b'[') {
        let h = host_at(s, 0);
        if h.ip.is_some() {
            set_host(&mut ev, &h);
            let t = s[h.end..].trim_start_matches([' ', ':']);
            if !t.is_empty() {
                ev.text = Some(t);
            }
            return Some(ev);
        }
    }
    // Older per-host detail: `<id> SMTP error from remote mail server after …: host h [ip]: 550 …`
    if s.starts_with("SMTP error from remote mail") || s.starts_with("LMTP error after ") {
        ev.text = Some(s);
        finish_failure(&mut ev, None);
        return set(ev, Kind::Info, s);
    }
    // `<id> addr: error ignored` (a failure not reported to the sender).
    if let Some(p) = memmem::find(b, b": error ignored") {
        ev.recipient = Some(&s[..p]);
        return set(ev, Kind::Info, s);
    }
    for w in [
        "Message is frozen",
        "no immediate delivery",
        "cancelled by ",
        "error ignored",
        "SA: ",
    ] {
        if s.starts_with(w) {
            return set(ev, Kind::Info, s);
        }
    }
    // Any other message-scoped text: ACL `logwrite`, filters, local_scan.
    set(ev, Kind::Info, s)
}

/// cPanel `Sender identification U=user D=domain S=sender`.
pub(super) fn sender_identification<'a>(mut ev: Event<'a>, s: &'a str) -> Event<'a> {
    ev.kind = Kind::SenderIdentified;
    let b = s.as_bytes();
    let mut i = 22;
    while i < b.len() {
        if let Some((tag, v)) = tag_at(b, i) {
            let e = token_end(b, v);
            let val = &s[v..e];
            match tag {
                b"U" => ev.account = Some(val),
                b"D" => ev.domain = Some(val),
                b"S" => ev.sender = Some(val),
                _ => {}
            }
            i = e + 1;
        } else {
            i = token_end(b, i) + 1;
        }
    }
    ev
}

/// cPanel `SMTP connection outbound <epoch> <msgid> <domain> <rcpt>`.
fn outbound<'a>(mut ev: Event<'a>, s: &'a str) -> Event<'a> {
    ev.kind = Kind::Info;
    ev.text = Some(s);
    let mut it = s[25..].split(' ');
    let _epoch = it.next();
    let _id = it.next();
    ev.domain = it.next().filter(|d| !d.is_empty());
    ev.recipient = it.next().filter(|d| !d.is_empty());
    ev
}

/// cPanel `SMTP connection identification H= A=ip P=port M=id U=user ID=uid S=sender B=how`
/// and `nobody send identification …`.
pub(super) fn identification<'a>(mut ev: Event<'a>, s: &'a str, from: usize) -> Event<'a> {
    ev.kind = Kind::Info;
    ev.text = Some(s);
    let b = s.as_bytes();
    let mut i = from;
    while i < b.len() {
        if let Some((tag, v)) = tag_at(b, i) {
            let e = token_end(b, v);
            let val = &s[v..e];
            match tag {
                b"H" => ev.host = Some(val),
                b"A" => ev.ip = Some(val),
                b"U" => ev.account = Some(val),
                b"S" => ev.sender = Some(val),
                b"M" if ev.queue_id.is_none() && is_message_id(val) => ev.queue_id = Some(val),
                _ => {}
            }
            i = e + 1;
        } else {
            i = token_end(b, i) + 1;
        }
    }
    ev
}
