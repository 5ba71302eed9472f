//! The SMTP server side: sessions (`connect from`, `client=`, `disconnect from`), access
//! decisions (`reject: RCPT from ...`) and the cleanup/milter/proxy actions logged in the
//! same format, session trouble, warnings.

use super::{Cx, lex};
use crate::model::event::{Event, Kind};

/// `client=host[ip][:port][, sasl_method=M, sasl_username=U][, sasl_sender=S]
/// [, orig_queue_id=Q, orig_client=C]` (`s` is the text after `client=`).
/// `orig_queue_id` (content-filter re-injection with XFORWARD) goes into `related_id`.
pub fn client<'a>(cx: &Cx<'a>, qid: Option<&'a str>, s: &'a str) -> Event<'a> {
    let mut e = cx.event(Kind::Client, qid);
    let mut s = match lex::peer(s) {
        Some((p, r)) => {
            e.host = p.host;
            e.ip = p.ip;
            r
        }
        None => {
            let end = comma_space(s);
            e.host = Some(&s[..end]);
            &s[end..]
        }
    };
    while let Some(r) = s.strip_prefix(", ") {
        let Some((k, v)) = lex::key(r) else { break };
        let end = comma_space(v);
        match k {
            "sasl_username" => e.account = Some(&v[..end]),
            "orig_queue_id" => e.related_id = Some(&v[..end]),
            _ => {}
        }
        s = &v[end..];
    }
    e
}

/// Where the next `, ` is (or the end).
fn comma_space(s: &str) -> usize {
    let b = s.as_bytes();
    let mut at = 0;
    while let Some(i) = memchr::memchr(b',', &b[at..]) {
        if b.get(at + i + 1) == Some(&b' ') {
            return at + i;
        }
        at += i + 1;
    }
    b.len()
}

/// What an action word of an access check, milter, proxy or header/body check means.
fn action_kind(action: &str) -> Kind {
    match action {
        "reject" | "defer" | "hangup" | "milter-reject" | "proxy-reject" => Kind::Rejected,
        "hold" | "milter-hold" => Kind::Frozen,
        _ => Kind::Info,
    }
}

/// `ACTION: STAGE from host[ip][:port]: REPLY; from=<s> to=<r> proto=P helo=<h>` (smtpd,
/// postscreen with commas between the fields, milters), `ACTION: STAGE: REPLY; ...`
/// (before-queue proxy), and cleanup's `ACTION: CLASS CONTENT from CLIENT; from=<s> to=<r>
/// proto=P helo=<h>[: TEXT]`. `rest` is the text after `ACTION: `.
pub fn action<'a>(
    cx: &Cx<'a>,
    qid: Option<&'a str>,
    action: &'a str,
    rest: &'a str,
) -> Option<Event<'a>> {
    let b = rest.as_bytes();
    let n = b
        .iter()
        .take_while(|c| c.is_ascii_uppercase() || **c == b'-')
        .count();
    let mut e = cx.event(action_kind(action), qid);
    if n >= 3 && (rest[n..].starts_with(" from ") || rest[n..].starts_with(": ")) {
        // smtpd form; STAGE = CONNECT, EHLO, HELO, MAIL, RCPT, DATA, END-OF-MESSAGE, ...
        let mut r = &rest[n..];
        if let Some(after) = r.strip_prefix(" from ") {
            let (p, after) = lex::peer(after)?;
            e.host = p.host;
            e.ip = p.ip;
            r = after;
        }
        let r = r.strip_prefix(':')?.trim_start_matches(' ');
        let (reply, tail) = match tail_start(r) {
            Some(i) => (&r[..i], &r[i + 1..]),
            None => (r, ""),
        };
        let (code, status, text) = lex::reply(reply.trim_end());
        e.code = code;
        e.status = status;
        if !text.is_empty() {
            e.text = Some(text);
        }
        fields(&mut e, tail);
        if action == "proxy-accept" {
            e.related_id = lex::id_after(text, &lex::QUEUED_AS);
        }
        return Some(e);
    }
    // cleanup form: CLASS = header, body, mime-header, nested-header, ...
    let sp = memchr::memchr(b' ', b)?;
    let class = &rest[..sp];
    if !class.bytes().all(|c| c.is_ascii_lowercase() || c == b'-') || class.is_empty() {
        return None;
    }
    let r = &rest[sp + 1..];
    let (head, tail) = match tail_start(r) {
        Some(i) => (&r[..i], &r[i + 1..]),
        None => (r, ""),
    };
    let content = match lex::FROM.rfind(head) {
        Some(i) => {
            if let Some((p, _)) = lex::peer(&head[i + 6..]) {
                e.host = p.host;
                e.ip = p.ip;
            }
            &head[..i]
        }
        None => head,
    };
    if class == "header"
        && content.len() > 8
        && content.as_bytes()[..8].eq_ignore_ascii_case(b"subject:")
    {
        e.subject = Some(content[8..].trim_start());
    }
    let after = fields(&mut e, tail);
    match after.strip_prefix(": ") {
        Some(t) => {
            let (code, status, text) = lex::reply(t);
            e.code = code;
            e.status = status;
            e.text = Some(text);
        }
        None => e.text = Some(content),
    }
    Some(e)
}

/// Where the `; from=<s> to=<r> proto=P helo=<h>` tail of an action line starts (the index
/// of its `;`). Reply texts may contain `; ` themselves (`Service unavailable; Client host
/// [...] blocked using ...`), so the `;` must be followed by one of the tail's keys.
fn tail_start(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut at = 0;
    while let Some(i) = memchr::memchr(b';', &b[at..]) {
        let semi = at + i;
        let t = &s[semi + 1..];
        if t.starts_with(" from=<")
            || t.starts_with(" to=<")
            || t.starts_with(" proto=")
            || t.starts_with(" helo=<")
            || t.starts_with(" sasl_")
        {
            return Some(semi);
        }
        at = semi + 1;
    }
    None
}

/// Reads the `from=<s> to=<r> proto=P helo=<h> sasl_username=U` fields (space or comma
/// separated) into `e`; returns the text after them.
fn fields<'a>(e: &mut Event<'a>, mut s: &'a str) -> &'a str {
    loop {
        let t = s.trim_start_matches([' ', ',']);
        let Some((k, v)) = lex::key(t) else { return s };
        let (mut val, mut r) = lex::value(v);
        if !v.starts_with('<') && val.ends_with(':') {
            // `proto=ESMTP: text` in cleanup lines without a HELO name.
            val = &val[..val.len() - 1];
            r = &v[val.len()..];
        }
        match k {
            "from" => e.sender = Some(val),
            "to" => e.recipient = Some(val),
            "proto" => e.protocol = Some(val),
            "sasl_username" => e.account = Some(val),
            _ => {}
        }
        s = r;
    }
}

/// `lost connection after CMD from host[ip]`, `timeout after CMD from ...`, `too many
/// errors after CMD from ...`, `improper command pipelining after CMD from host[ip]: ...`,
/// `bare <LF> received after CMD from ...` → ProtocolError, text = the part before ` from `.
pub(crate) fn session_trouble<'a>(
    cx: &Cx<'a>,
    qid: Option<&'a str>,
    msg: &'a str,
) -> Option<Event<'a>> {
    const TROUBLE: &[&str] = &[
        "lost connection after ",
        "timeout after ",
        "too many errors after ",
        "improper command pipelining after ",
        "bare <LF> received after ",
        "SSL_accept error from ",
        "unexpected end-of-input from ",
    ];
    if !matches!(
        msg.as_bytes().first(),
        Some(b'l' | b't' | b'i' | b'b' | b'S' | b'u')
    ) || !TROUBLE.iter().any(|p| msg.starts_with(p))
    {
        return None;
    }
    let mut e = cx.event(Kind::ProtocolError, qid);
    match lex::FROM.find(msg) {
        Some(i) => {
            e.text = Some(&msg[..i]);
            if let Some((p, _)) = lex::peer(&msg[i + 6..]) {
                e.host = p.host;
                e.ip = p.ip;
            }
        }
        None => e.text = Some(msg),
    }
    Some(e)
}

/// `warning:`, `error:`, `fatal:`, `panic:` lines; `rest` is the text after the severity.
pub fn severity<'a>(cx: &Cx<'a>, msg: &'a str, rest: &'a str) -> Event<'a> {
    let (qid, rest) = match lex::split_queue_id(rest) {
        Some((id, r)) => ((id != "NOQUEUE").then_some(id), r),
        None => (None, rest),
    };
    let mut e = cx.text(Kind::Warning, qid, msg);
    if !msg.starts_with('w') {
        return e;
    }
    // `host[ip]: SASL LOGIN authentication failed: reason[, sasl_username=u]`
    if let Some((p, r)) = lex::peer(rest).filter(|(p, r)| {
        p.ip.is_some_and(|ip| ip.contains(['.', ':'])) && r.starts_with([':', ' '])
    }) {
        e.host = p.host;
        e.ip = p.ip;
        if r.starts_with(" sent non-SMTP command") {
            // Postfix 2.x: `host[ip] sent non-SMTP command: ...`
            e.kind = Kind::ProtocolError;
        }
        // `SASL <mechanism> authentication failed: ...`
        if let Some(sasl) = r.strip_prefix(": SASL ")
            && let Some(sp) = memchr::memchr(b' ', sasl.as_bytes())
            && sasl[sp + 1..].starts_with("authentication failed")
        {
            e.kind = Kind::AuthFailed;
            e.text = Some(&r[2..]);
            if memchr::memchr(b'=', sasl.as_bytes()).is_some()
                && let Some(i) = lex::SASL_USERNAME.rfind(sasl)
            {
                e.account = Some(&sasl[i + 16..]);
            }
        }
        return e;
    }
    if rest.starts_with("non-SMTP command from ")
        || rest.starts_with("Illegal address syntax from ")
    {
        e.kind = Kind::ProtocolError;
    }
    warning_peer(&mut e, rest);
    e
}

/// Fills host/ip of a warning from its usual shapes: `hostname H does not resolve to
/// address IP`, `IP: address not listed for hostname H`, `IP: hostname H verification
/// failed`, `... from host[ip] ...`.
pub(crate) fn warning_peer<'a>(e: &mut Event<'a>, rest: &'a str) {
    if let Some(r) = rest.strip_prefix("hostname ") {
        if let Some((host, r)) = r.split_once(' ') {
            e.host = Some(host);
            if let Some(a) = r.strip_prefix("does not resolve to address ") {
                let end = a.find([':', ' ']).unwrap_or(a.len());
                e.ip = Some(&a[..end]);
            }
        }
        return;
    }
    // `IP: address not listed for hostname H`, `IP: hostname H verification failed: ...`
    if let Some(colon) = lex::COLON_SPACE.find(rest)
        && memchr::memchr(b' ', &rest.as_bytes()[..colon]).is_none()
    {
        let r = &rest[colon + 2..];
        let host = r
            .strip_prefix("address not listed for hostname ")
            .or_else(|| r.strip_prefix("hostname "));
        if let Some(h) = host {
            e.ip = Some(&rest[..colon]);
            e.host = h.split(' ').next();
            return;
        }
    }
    if let Some((_, p, _)) = lex::from_peer(rest) {
        e.host = p.host;
        e.ip = p.ip;
    }
}

/// smtpd, smtp and tlsproxy lines without a queue ID.
pub(crate) fn unqueued<'a>(cx: &Cx<'a>, msg: &'a str) -> Option<Event<'a>> {
    let b = msg.as_bytes();
    match b[0] {
        b'c' if msg.starts_with("connect from ") => {
            return Some(connection(cx, msg, 13));
        }
        b'd' if msg.starts_with("disconnect from ") => {
            return Some(connection(cx, msg, 16));
        }
        b'c' if msg.starts_with("connect to ") => {
            // SMTP client: one address failed, the next MX may be tried.
            return Some(peer_note(cx, Kind::Info, msg, 11));
        }
        _ => {}
    }
    if let Some(e) = session_trouble(cx, None, msg) {
        return Some(e);
    }
    // `[Anonymous|Trusted|Verified|Untrusted ]TLS connection established from|to host[ip]`.
    let tls = match b[0] {
        b'A' => msg.strip_prefix("Anonymous "),
        b'T' => msg.strip_prefix("Trusted ").or(Some(msg)),
        b'V' => msg.strip_prefix("Verified "),
        b'U' => msg.strip_prefix("Untrusted "),
        _ => None,
    };
    if let Some(r) = tls.and_then(|t| t.strip_prefix("TLS connection established ")) {
        let at = if r.starts_with("from ") {
            5
        } else if r.starts_with("to ") {
            3
        } else {
            0
        };
        let mut e = peer_note(cx, Kind::Info, r, at);
        e.text = Some(msg);
        return Some(e);
    }
    const TLS_NOTES: &[(&str, usize)] = &[
        ("setting up TLS connection from ", 31),
        ("setting up TLS connection to ", 29),
        ("SSL_connect error to ", 21),
        ("certificate verification failed for ", 36),
        ("server certificate verification failed for ", 43),
        ("client certificate verification failed for ", 43),
        ("discarding EHLO keywords: ", 0),
    ];
    for (p, at) in TLS_NOTES {
        if msg.starts_with(p) {
            return Some(peer_note(cx, Kind::Info, msg, *at));
        }
    }
    // Before-queue proxy without queue ID: `proxy-accept: END-OF-MESSAGE: 250 ...; from=<>`.
    for (p, a) in [
        ("proxy-accept: ", "proxy-accept"),
        ("proxy-reject: ", "proxy-reject"),
    ] {
        if let Some(r) = msg.strip_prefix(p) {
            return action(cx, None, a, r);
        }
    }
    None
}

/// `connect from host[ip]`, `disconnect from host[ip] ehlo=1 ... commands=N/M`: Connection,
/// with the whole message as text.
fn connection<'a>(cx: &Cx<'a>, msg: &'a str, at: usize) -> Event<'a> {
    peer_note(cx, Kind::Connection, msg, at)
}

/// An event of `kind` with the peer found at `msg[at..]` (when there is one) and `msg` as
/// the text.
fn peer_note<'a>(cx: &Cx<'a>, kind: Kind, msg: &'a str, at: usize) -> Event<'a> {
    let mut e = cx.text(kind, None, msg);
    if let Some((p, _)) = msg.get(at..).and_then(lex::peer) {
        e.host = p.host;
        e.ip = p.ip;
    }
    e
}
