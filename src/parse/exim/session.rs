//! Session lines: `H=… [U=…] [I=…] [X=…] [F=<…>] rejected RCPT <r>: reason` and the other
//! lines that begin with connection fields.

use memchr::{memchr2, memmem};

use super::arrival::auth_id;
use super::fields::{parse_u64, quote_end, smtp_code, tag_at, unangle, value_at};
use super::host::{host_at, set_host};
use crate::model::event::{Event, Kind};

/// Reads leading connection fields (`H= U= I= X= CV= F= P= A= Ci= SNI= DN= …`).
/// Returns the index of the first word that is not a field, or `None` when there was none.
pub(super) fn session_fields<'a>(ev: &mut Event<'a>, s: &'a str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut any = false;
    let mut user = None;
    let mut auth = None;
    while let Some((tag, v)) = tag_at(b, i) {
        any = true;
        if tag == b"H" {
            let h = host_at(s, v);
            set_host(ev, &h);
            i = h.end;
        } else {
            let (val, end) = value_at(s, v);
            match tag {
                b"F" => ev.sender = Some(unangle(val)),
                b"U" => user = Some(val),
                b"A" => auth = Some(val),
                b"P" => ev.protocol = Some(val),
                b"S" => ev.size = parse_u64(val),
                _ => {}
            }
            i = end;
        }
        match b.get(i) {
            Some(b' ') => i += 1,
            _ => break,
        }
    }
    if !any {
        return None;
    }
    // `U=` is the local user only for local SMTP (`-bs`, no host); otherwise it is an ident.
    ev.account = auth
        .map(auth_id)
        .or(user.filter(|_| ev.ip.is_none() && ev.host.is_none()));
    Some(i.min(b.len()))
}

/// The reason after the first `": "` at or after `from`, else `None`.
fn reason_after(s: &str, from: usize) -> Option<&str> {
    let b = s.as_bytes();
    memmem::find(&b[from.min(b.len())..], b": ")
        .map(|p| &s[from + p + 2..])
        .filter(|r| !r.is_empty())
}

/// `rejected …` / `temporarily rejected …` after the session fields; `s` starts after the
/// word `rejected `.
pub(super) fn rejected<'a>(mut ev: Event<'a>, s: &'a str) -> Event<'a> {
    ev.kind = Kind::Rejected;
    let b = s.as_bytes();
    if let Some(r) = s.strip_prefix("RCPT ") {
        let start = s.len() - r.len();
        let (addr, end) = if r.starts_with('<') {
            value_at(s, start)
        } else {
            let e = start + memchr2(b' ', b':', r.as_bytes()).unwrap_or(r.len());
            (&s[start..e], e)
        };
        ev.recipient = Some(addr);
        ev.text = reason_after(s, end);
    } else if let Some(r) = s.strip_prefix("MAIL ") {
        let start = s.len() - r.len();
        if r.starts_with('<') {
            let (addr, end) = value_at(s, start);
            if ev.sender.is_none() {
                ev.sender = Some(addr);
            }
            ev.text = reason_after(s, end);
        } else {
            ev.text = reason_after(s, start).or(Some(s));
        }
    } else {
        // after DATA, EHLO or HELO, connection in "connect" ACL, "VRFY x", by local_scan(),
        // by non-SMTP ACL, AUTH, WELLKNOWN, …: the reason, else the words themselves.
        let from = if b.first() == Some(&b'"') {
            quote_end(b, 0).map_or(0, |q| q + 1)
        } else {
            0
        };
        ev.text = reason_after(s, from).or(Some(s));
    }
    if let Some(t) = ev.text {
        let (code, status) = smtp_code(t);
        ev.code = code;
        ev.status = status;
    }
    ev
}

/// A line that begins with connection fields. `None` when it does not.
pub(super) fn session<'a>(mut ev: Event<'a>, s: &'a str) -> Option<Event<'a>> {
    let i = session_fields(&mut ev, s)?;
    let rest = &s[i..];
    if let Some(r) = rest.strip_prefix("rejected ") {
        return Some(rejected(ev, r));
    }
    if let Some(r) = rest.strip_prefix("temporarily rejected ") {
        return Some(rejected(ev, r));
    }
    if let Some(r) = rest.strip_prefix("dropped by ") {
        ev.kind = Kind::Rejected;
        ev.text = reason_after(r, 0).or(Some(rest));
        return Some(ev);
    }
    if let Some(r) = rest.strip_prefix("Warning: ") {
        ev.kind = Kind::Warning;
        ev.text = Some(r);
        return Some(ev);
    }
    for p in [
        "sender verify fail for ",
        "sender verify defer for ",
        "recipient verify fail for ",
        "recipient verify defer for ",
    ] {
        if let Some(r) = rest.strip_prefix(p) {
            ev.kind = Kind::Warning;
            let start = s.len() - r.len();
            let (addr, end) = value_at(s, start);
            if p.starts_with("sender") {
                ev.sender = Some(addr);
            } else {
                ev.recipient = Some(addr);
            }
            ev.text = reason_after(s, end).or(Some(rest));
            return Some(ev);
        }
    }
    if rest.starts_with("incomplete transaction (") {
        ev.kind = Kind::ProtocolError;
        ev.text = Some(rest);
        if let Some(p) = rest.find(") from ") {
            let start = i + p + 7;
            let (snd, end) = value_at(s, start);
            ev.sender = Some(snd);
            if let Some(r) = s[end..].strip_prefix(" for ") {
                ev.recipients = Some(r);
            }
        }
        return Some(ev);
    }
    if let Some(r) = rest.strip_prefix("RCPT ") {
        // `RCPT <r>: discarded by RCPT ACL`
        let start = s.len() - r.len();
        let (addr, end) = value_at(s, start);
        ev.recipient = Some(addr);
        ev.text = reason_after(s, end);
        return Some(ev);
    }
    // Per-host detail of an outbound attempt (`<id> H=mx [ip]: SMTP error …`,
    // `<id> H=mx [ip] Connection refused`), ACL log lines and anything else that follows
    // connection fields.
    let t = rest.strip_prefix(": ").unwrap_or(rest);
    if !t.is_empty() {
        ev.text = Some(t);
        let (code, status) = smtp_code(t);
        ev.code = code;
        ev.status = status;
    }
    Some(ev)
}
