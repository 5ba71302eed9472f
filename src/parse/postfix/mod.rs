//! Postfix log messages: the entry point [`parse`] and the queue-ID-scoped records; the
//! lexer, smtpd, delivery and daemon lines are in the sibling files.
//!
//! The front-end hands over the syslog tag (`postfix/smtp`, `postfix-out/submission/smtpd`,
//! `mx-in/smtpd`) and the text after `tag[pid]: `. Lines are recognised by their shape rather
//! than by the service, because services are renamed freely in `master.cf`; the service (the
//! tag's last component) only decides the few cases where the same words mean different
//! things (`QUEUEID: removed` from `postsuper` is an administrator's deletion).
//!
//! Everything is hand-written byte scanning over the borrowed line: no allocation and no
//! regular expression per line.
//!
//! Kinds, beyond the obvious ones:
//! * `status=deliverable|undeliverable` (address-verification probes) are [`Kind::Info`]:
//!   they are not deliveries; `SOFTBOUNCE` is [`Kind::Deferred`].
//! * `status=sent (… queued as NEWID)` and local `(forwarded as NEWID)` are
//!   [`Kind::Delivered`] with `related_id = NEWID`, the ID the message continues under.
//! * SMTP-time and cleanup actions: `reject`, `defer`, `hangup`, `milter-reject`,
//!   `proxy-reject` are [`Kind::Rejected`]; `hold`, `milter-hold` are [`Kind::Frozen`]; the
//!   rest (`discard`, `filter`, `redirect`, `warn`, `reject_warning`, `prepend`, `replace`,
//!   `proxy-accept`, `milter-discard`, header edits) are [`Kind::Info`] with their fields: a
//!   discard is an administrator's decision to drop the message silently, not a bounce and
//!   not a rejection the client saw.
//! * `removed` is [`Kind::Completed`] (qmgr, cleanup `removed (discarded)`, 3.10 `canceled`),
//!   or [`Kind::AdminRemoved`] from `postsuper`.
//! * `warning:`, `error:`, `fatal:`, `panic:` are [`Kind::Warning`] with the severity kept at
//!   the start of `text`, except SASL authentication failures of clients
//!   ([`Kind::AuthFailed`]) and client protocol trouble ([`Kind::ProtocolError`]).
//! * Verbose (`-v`) debugging output is [`Kind::Info`].

mod daemon;
mod delivery;
mod lex;
mod smtpd;
#[cfg(test)]
mod tests;

use crate::model::event::{Event, Kind, Mta, Timestamp};

/// What the parsers of one message share.
#[derive(Clone, Copy)]
struct Cx<'a> {
    time: Timestamp,
    program: &'a str,
    /// The last component of the tag: `smtpd`, `qmgr`, `postsuper`, ...
    service: &'a str,
}

impl<'a> Cx<'a> {
    fn event(&self, kind: Kind, queue_id: Option<&'a str>) -> Event<'a> {
        let mut e = Event::new(self.time, Mta::Postfix, kind);
        e.program = Some(self.program);
        e.queue_id = queue_id;
        e
    }

    /// An event whose `text` is `text`.
    fn text(&self, kind: Kind, queue_id: Option<&'a str>, text: &'a str) -> Event<'a> {
        let mut e = self.event(kind, queue_id);
        e.text = Some(text);
        e
    }
}

/// Parses the message of a Postfix syslog record. `program` is the whole tag
/// (`postfix/smtp`, `postfix-out/submission/smtpd`); its last component is the service.
/// Returns `None` when the message is not understood.
pub fn parse<'a>(time: Timestamp, program: &'a str, message: &'a str) -> Option<Event<'a>> {
    let service = match memchr::memrchr(b'/', program.as_bytes()) {
        Some(i) => &program[i + 1..],
        None => program,
    };
    // CSV exports leave `,,,,,,,,,,,,` at the end of every line.
    let msg = message.trim_end_matches([',', ' ', '\t']);
    let cx = Cx {
        time,
        program,
        service,
    };
    let first = *msg.as_bytes().first()?;
    if first.is_ascii_lowercase()
        && let Some(rest) = severity(msg)
    {
        return Some(smtpd::severity(&cx, msg, rest));
    }
    if first.is_ascii_alphanumeric()
        && let Some((id, rest)) = lex::split_queue_id(msg)
    {
        let qid = (id != "NOQUEUE").then_some(id);
        return queued(&cx, qid, rest);
    }
    unqueued(&cx, msg)
}

/// The text after a `warning: `, `error: `, `fatal: ` or `panic: ` prefix.
fn severity(msg: &str) -> Option<&str> {
    let b = msg.as_bytes();
    let n = match b[0] {
        b'w' if msg.starts_with("warning: ") => 9,
        b'e' if msg.starts_with("error: ") => 7,
        b'f' if msg.starts_with("fatal: ") => 7,
        b'p' if msg.starts_with("panic: ") => 7,
        _ => return None,
    };
    Some(&msg[n..])
}

/// A message after `QUEUEID: ` (`qid` is `None` for `NOQUEUE`).
fn queued<'a>(cx: &Cx<'a>, qid: Option<&'a str>, rest: &'a str) -> Option<Event<'a>> {
    let b = rest.as_bytes();
    match *b.first()? {
        b't' if rest.starts_with("to=") => return delivery::delivery(cx, qid, rest),
        b'f' if rest.starts_with("from=") => return delivery::queue_from(cx, qid, &rest[5..]),
        b'c' if rest.starts_with("client=") => return Some(smtpd::client(cx, qid, &rest[7..])),
        b'm' if rest.starts_with("message-id=") => {
            let mut e = cx.event(Kind::MessageId, qid);
            e.message_id = Some(message_id(&rest[11..]));
            return Some(e);
        }
        b'r' if rest == "removed" || rest.starts_with("removed (") => {
            let kind = if cx.service == "postsuper" {
                Kind::AdminRemoved
            } else {
                Kind::Completed
            };
            let mut e = cx.event(kind, qid);
            if let Some(why) = rest[7..].strip_prefix(" (") {
                // cleanup: `removed (canceled)`, `removed (discarded)`.
                e.text = Some(why.trim_end_matches(')'));
            }
            return Some(e);
        }
        b'u' if rest.starts_with("uid=") => return Some(pickup(cx, qid, rest)),
        _ => {}
    }
    queued_other(cx, qid, rest)
}

/// `message-id=<...>` (also `<>` and values logged without brackets).
fn message_id(v: &str) -> &str {
    match v.strip_prefix('<') {
        Some(inner) => match inner.rfind('>') {
            Some(i) => &inner[..i],
            None => inner,
        },
        None => v,
    }
}

/// pickup: `uid=N from=<sender>[ orig_id=...]`; the account is `uid=N`.
fn pickup<'a>(cx: &Cx<'a>, qid: Option<&'a str>, rest: &'a str) -> Event<'a> {
    let mut e = cx.event(Kind::Client, qid);
    let n = rest[4..].bytes().take_while(u8::is_ascii_digit).count();
    e.account = Some(&rest[..4 + n]);
    if let Some(i) = lex::FROM_EQ.find(rest) {
        e.sender = Some(lex::value(&rest[i + 6..]).0);
    }
    if let Some(i) = lex::ORIG_ID.find(rest) {
        e.related_id = Some(lex::value(&rest[i + 9..]).0);
    }
    e
}

/// The less frequent lines with a queue ID (or `NOQUEUE`).
fn queued_other<'a>(cx: &Cx<'a>, qid: Option<&'a str>, rest: &'a str) -> Option<Event<'a>> {
    // Bounce daemon: `sender non-delivery notification: NEWID` and its siblings.
    if (rest.starts_with("sender ") || rest.starts_with("postmaster "))
        && let Some(i) = lex::NOTIFICATION.find(rest)
    {
        let mut e = cx.text(Kind::BounceNotice, qid, &rest[..i + 13]);
        e.related_id = Some(lex::value(&rest[i + 15..]).0);
        return Some(e);
    }
    if let Some(r) = rest.strip_prefix("sender notification failed") {
        // Postfix 3.11: `sender notification failed to <addr>[: reason]`.
        let mut e = cx.text(Kind::Warning, qid, rest);
        if let Some(to) = r.strip_prefix(" to ") {
            let (addr, _) = lex::value(to);
            e.recipient = Some(addr.trim_end_matches(':'));
        }
        return Some(e);
    }
    // SMTP client trouble with one MX that does not end the attempt.
    if rest.starts_with("host ") {
        return Some(delivery::remote_info(cx, qid, rest, 5));
    }
    if rest.starts_with("lost connection with ") {
        return Some(delivery::remote_info(cx, qid, rest, 21));
    }
    if rest.starts_with("conversation with ") {
        return Some(delivery::remote_info(cx, qid, rest, 18));
    }
    // smtpd (Postfix 3.10 prefixes these with the queue ID or NOQUEUE).
    if let Some(e) = smtpd::session_trouble(cx, qid, rest) {
        return Some(e);
    }
    // postsuper and other queue operations.
    match rest {
        "requeued" | "expired" | "skipped, still being delivered" => {
            return Some(cx.text(Kind::Info, qid, rest));
        }
        "placed on hold" => return Some(cx.text(Kind::Frozen, qid, rest)),
        "released from hold" => return Some(cx.text(Kind::Unfrozen, qid, rest)),
        "canceled" => return Some(cx.text(Kind::Completed, qid, rest)),
        _ => {}
    }
    if let Some(r) = rest.strip_prefix("resent-message-id=") {
        let mut e = cx.event(Kind::Info, qid);
        e.message_id = Some(message_id(r));
        e.text = Some(rest);
        return Some(e);
    }
    // `ACTION: ...` of smtpd access checks, milters, before-queue proxies, cleanup
    // header/body checks.
    let n = rest
        .bytes()
        .take_while(|c| matches!(c, b'a'..=b'z' | b'_' | b'-'))
        .count();
    if n > 0
        && rest[n..].starts_with(": ")
        && let Some(e) = smtpd::action(cx, qid, &rest[..n], &rest[n + 2..])
    {
        return Some(e);
    }
    if let Some(r) = rest.strip_prefix("warning: ") {
        // A warning logged after the queue ID.
        let mut e = cx.text(Kind::Warning, qid, rest);
        smtpd::warning_peer(&mut e, r);
        return Some(e);
    }
    if rest.starts_with("SASL authentication failed; ") {
        // The SMTP client could not log in to a relay: a local configuration problem.
        let mut e = cx.text(Kind::Warning, qid, rest);
        if let Some(i) = lex::SERVER.find(rest)
            && let Some((p, _)) = lex::peer(&rest[i + 7..])
        {
            e.host = p.host;
            e.ip = p.ip;
        }
        let (code, status) = lex::remote_reply(rest);
        e.code = code;
        e.status = status;
        return Some(e);
    }
    // TLS and protocol notes of the SMTP client, qmgr and verbose notes.
    const NOTES: &[&str] = &[
        "enabling PIX workarounds",
        "Used TLS for ",
        "Cannot start TLS",
        "TLS is required",
        "breaking line",
        "recipient limit ",
        "Server certificate",
        "server certificate",
        "certificate verification failed",
    ];
    if NOTES.iter().any(|p| rest.starts_with(p)) {
        let mut e = cx.text(Kind::Info, qid, rest);
        if let Some((_, p, _)) = lex::from_peer(rest).or_else(|| {
            let i = lex::FOR.find(rest)?;
            let (p, r) = lex::peer(&rest[i + 5..])?;
            Some(("", p, r))
        }) {
            e.host = p.host;
            e.ip = p.ip;
        }
        return Some(e);
    }
    None
}

/// Messages without a queue ID.
fn unqueued<'a>(cx: &Cx<'a>, msg: &'a str) -> Option<Event<'a>> {
    if let Some(e) = smtpd::unqueued(cx, msg) {
        return Some(e);
    }
    daemon::unqueued(cx, msg)
}
