//! Arrival lines: `<= sender [R=parent] [H=…] [U=…] [P=…] [A=…] S=… [id=…] [T="…"] [from <…>]
//! [for …]`.

use super::delivery::address_end;
use super::fields::{parse_u64, tag_at, token_end, value_at};
use super::host::{host_at, set_host};
use crate::model::event::Event;

pub(super) fn arrival<'a>(mut ev: Event<'a>, s: &'a str) -> Option<Event<'a>> {
    let b = s.as_bytes();
    let n = b.len();
    let mut i = address_end(s, 0, false);
    let sender = &s[..i];
    ev.sender = Some(if sender == "<>" { "" } else { sender });
    let mut user = None;
    let mut auth = None;
    while i < n {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        if let Some((tag, v)) = tag_at(b, i) {
            if tag == b"H" {
                let h = host_at(s, v);
                set_host(&mut ev, &h);
                i = h.end;
                continue;
            }
            let (val, end) = value_at(s, v);
            match tag {
                b"R" => ev.related_id = Some(val),
                b"U" => user = Some(val),
                b"P" => ev.protocol = Some(val),
                b"A" => auth = Some(val),
                b"S" => ev.size = parse_u64(val),
                b"id" | b"id*" => ev.message_id = Some(val),
                b"T" => ev.subject = Some(val),
                _ => {}
            }
            i = end;
            continue;
        }
        let rest = &s[i..];
        if let Some(r) = rest.strip_prefix("for ") {
            ev.recipients = Some(r);
            break;
        }
        if rest.starts_with("from ") {
            let (_, end) = value_at(s, i + 5);
            i = end;
            continue;
        }
        i = token_end(b, i);
    }
    ev.account = match auth {
        Some(a) => Some(auth_id(a)),
        None if ev
            .protocol
            .is_some_and(|p| p.starts_with("local") || p.starts_with("utf8local")) =>
        {
            user
        }
        None => None,
    };
    Some(ev)
}

/// `A=authenticator:id[:auth_sender]` → the id, or the authenticator when there is none.
pub(super) fn auth_id(a: &str) -> &str {
    match a.split_once(':') {
        Some((name, rest)) => {
            let id = rest.split_once(':').map_or(rest, |(id, _)| id);
            if id.is_empty() { name } else { id }
        }
        None => a,
    }
}
