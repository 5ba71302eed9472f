//! Queue manager and delivery agents: `from=<s>, size=N, nrcpt=N (queue active)`, the
//! per-recipient `to=<r>, relay=..., status=...` record, and the SMTP client's notes about
//! one MX.

use super::{Cx, lex};
use crate::model::event::{Event, Kind};

/// The delivery-status record:
/// `to=<r>[, orig_to=<o>], relay=R[, conn_use=N], delay=D[, delays=a/b/c/d][, tls=T][, dsn=X.Y.Z], status=S (TEXT)`.
/// Unknown `key=value` items are skipped, so new fields do not break it.
pub fn delivery<'a>(cx: &Cx<'a>, qid: Option<&'a str>, rest: &'a str) -> Option<Event<'a>> {
    let mut e = cx.event(Kind::Info, qid);
    e.transport = Some(cx.service);
    let mut s = rest;
    let word = loop {
        s = lex::skip_sep(s);
        let (k, v) = lex::key(s)?;
        if k == "status" {
            let end = memchr::memchr(b' ', v.as_bytes()).unwrap_or(v.len());
            s = &v[end..];
            break &v[..end];
        }
        let (val, r) = lex::value(v);
        match k {
            "to" => e.recipient = Some(val),
            "orig_to" => e.original_recipient = Some(val),
            "relay" => relay(&mut e, val),
            "dsn" => e.status = Some(val),
            _ => {}
        }
        s = r;
    };
    let s = s.trim_start_matches([' ', '"']);
    let text = match s.strip_prefix('(') {
        Some(t) => &t[..memchr::memrchr(b')', t.as_bytes()).unwrap_or(t.len())],
        None => s,
    };
    if !text.is_empty() {
        e.text = Some(text);
    }
    if e.host.is_none() && e.ip.is_none() {
        // `relay=none`: the server that failed is named in the text, if any
        // (`connect to mx[ip]:25: ...`, `... lost connection with mx[ip] while ...`).
        if let Some(p) = lex::text_peer(text) {
            e.host = p.host;
            e.ip = p.ip;
        }
    }
    let (code, status) = lex::remote_reply(text);
    e.code = code;
    if e.status.is_none() {
        // Postfix before 2.3 logged no `dsn=`: take the one in the reply, if any.
        e.status = status;
    }
    e.kind = match word {
        "sent" => {
            e.related_id = lex::id_after(text, &lex::QUEUED_AS)
                .or_else(|| lex::id_after(text, &lex::FORWARDED_AS));
            Kind::Delivered
        }
        "deferred" | "SOFTBOUNCE" => {
            e.retry_not_due = text.starts_with("delivery temporarily suspended");
            Kind::Deferred
        }
        "bounced" => Kind::Bounced,
        "expired" | "force-expired" => Kind::Expired,
        // Address-verification probes (`deliverable`, `undeliverable`,
        // `undeliverable-but-not-cached`) and anything new.
        _ => Kind::Info,
    };
    Some(e)
}

/// `relay=host[ip]:port`, `relay=local`, `relay=dovecot`, `relay=none`.
fn relay<'a>(e: &mut Event<'a>, val: &'a str) {
    if val == "none" {
        return;
    }
    match lex::peer(val) {
        Some((p, _)) => {
            e.host = p.host;
            e.ip = p.ip;
        }
        None => e.host = Some(val),
    }
}

/// qmgr `from=<s>, size=N, nrcpt=N (queue active)` → Arrival, and
/// `from=<s>, status=expired, returned to sender` (or `force-expired`) → Expired.
/// `s` is the text after `from=`.
pub(crate) fn queue_from<'a>(cx: &Cx<'a>, qid: Option<&'a str>, s: &'a str) -> Option<Event<'a>> {
    let (sender, mut s) = lex::value(s);
    let mut e = cx.event(Kind::Arrival, qid);
    e.sender = Some(sender);
    let mut seen = false;
    loop {
        s = lex::skip_sep(s);
        let Some((k, v)) = lex::key(s) else { break };
        let (val, r) = lex::value(v);
        match k {
            "size" => e.size = val.parse().ok(),
            "nrcpt" => e.nrcpt = val.parse().ok(),
            "status" => {
                e.kind = Kind::Expired;
                e.text = Some(v);
                return Some(e);
            }
            _ => {}
        }
        seen = true;
        s = r;
    }
    if !seen {
        return None;
    }
    if let Some(note) = s.trim_start().strip_prefix('(') {
        e.text = Some(note.trim_end_matches(')'));
    }
    Some(e)
}

/// The SMTP client's notes about one server that do not end the attempt:
/// `host mx[ip] said: ... (in reply to RCPT TO command)`, `host mx[ip] refused to talk to
/// me: ...`, `lost connection with mx[ip] while ...`, `conversation with mx[ip] timed out
/// while ...`. `at` is where the peer starts.
pub(crate) fn remote_info<'a>(
    cx: &Cx<'a>,
    qid: Option<&'a str>,
    rest: &'a str,
    at: usize,
) -> Event<'a> {
    let mut e = cx.text(Kind::Info, qid, rest);
    if let Some((p, _)) = lex::peer(&rest[at..]) {
        e.host = p.host;
        e.ip = p.ip;
    }
    let (code, status) = lex::remote_reply(rest);
    e.code = code;
    e.status = status;
    e
}
