//! Word lines, mostly without a message ID: connections, rejections before a message, TLS
//! and protocol errors, authentication failures, daemon and queue-runner notes, scripts.

use memchr::{memchr, memmem};

use super::fields::{colon_sep, smtp_code, strip_colon, tag_at, token_end, unangle, value_at};
use super::host::{host_at, set_host};
use super::message::{identification, sender_identification};
use super::session::{rejected, session, session_fields};
use crate::model::event::{Event, Kind};

/// Host information after `from ` etc.: 4.99 prefixes it with `H=`.
fn host_after<'a>(ev: &mut Event<'a>, s: &'a str, i: usize) -> usize {
    let i = if s.get(i..).unwrap_or("").starts_with("H=") {
        i + 2
    } else {
        i
    };
    let h = host_at(s, i);
    set_host(ev, &h);
    h.end
}

/// Skips ` I=[ip]:port`, ` Ci=n`, ` U=x`, ` X=…`, ` CV=…`, ` D=…` after host information;
/// returns the index of the next word (after its leading space).
fn skip_conn_fields(s: &str, mut i: usize) -> usize {
    let b = s.as_bytes();
    while b.get(i) == Some(&b' ') {
        match tag_at(b, i + 1) {
            Some((_, v)) => i = value_at(s, v).1,
            None => return i + 1,
        }
    }
    i
}

/// Lines recognised by their opening words alone, with the kind they get; the text is the
/// whole line (for `Warning: ` the words after it).
const WORDS: &[(&str, Kind)] = &[
    ("Warning: ", Kind::Warning),
    ("WARNING: ", Kind::Warning),
    ("DKIM: ", Kind::Info),
    ("SIGHUP received", Kind::Info),
    ("Spool file ", Kind::Info),
    ("Sender rate ", Kind::Info),
    ("ETRN ", Kind::Info),
    ("ATRN ", Kind::Info),
    ("ignoring AUTH=", Kind::Warning),
    ("spool directory space check failed", Kind::Warning),
    ("configured error code starts with", Kind::Warning),
    ("invalid ", Kind::Warning),
    ("failed to expand ", Kind::Warning),
    ("expansion of ", Kind::Warning),
    ("Expansion of ", Kind::Warning),
    ("exec of ", Kind::Warning),
    ("bind of ", Kind::Warning),
    ("sender verify defer ", Kind::Warning),
    ("sender verify fail ", Kind::Warning),
    ("recipient verify defer ", Kind::Warning),
    ("recipient verify fail ", Kind::Warning),
    ("TLS session: ", Kind::ProtocolError),
    // TLS setup errors: `(SSL_CTX_use_PrivateKey_file file=…): error:…`
    ("(SSL_", Kind::Warning),
    ("(gnutls_", Kind::Warning),
    ("timed out while reading ", Kind::ProtocolError),
    ("overlong message header line ", Kind::ProtocolError),
    ("ridiculously long message header ", Kind::ProtocolError),
    ("too many recipients: ", Kind::Rejected),
];

/// A line without a flag, recognised by its opening words. `None` when it is none of the
/// known shapes.
pub(super) fn other_line<'a>(mut ev: Event<'a>, s: &'a str) -> Option<Event<'a>> {
    let b = s.as_bytes();
    // Connection fields first: `H=… F=<…> rejected RCPT <…>: …`, `U=user …`.
    if b.len() > 2
        && (b[1] == b'=' || (b[2] == b'=' && b[0].is_ascii_uppercase()))
        && let Some(e) = session(ev.clone(), s)
    {
        return Some(e);
    }
    if let Some(r) = s.strip_prefix("SMTP ")
        && let Some(e) = smtp_words(ev.clone(), s, r)
    {
        return Some(e);
    }
    if s.starts_with("cwd=") {
        return Some(script(ev, s));
    }
    // `<name> authenticator failed for <host>: 535 … (set_id=user)`
    let first = token_end(b, 0);
    if s[first..].starts_with(" authenticator failed for ") {
        return Some(auth_failed(ev, s, first + 26));
    }
    if let Some(r) = s.strip_prefix("rejected ") {
        return Some(rejected_early(ev, s, r));
    }
    if let Some(r) = s.strip_prefix("temporarily rejected ") {
        return Some(rejected(ev, r));
    }
    if s.starts_with("Sender identification ") {
        return Some(sender_identification(ev, s));
    }
    if s.starts_with("nobody send identification ") {
        return Some(identification(ev, s, 27));
    }
    // The groups below start with words no other group starts with, so their order does
    // not matter.
    if peer_words(&mut ev, s) || server_words(&mut ev, s) || table_words(&mut ev, s) {
        return Some(ev);
    }
    None
}

/// `rejected MAIL from [ip]: no HELO/EHLO given`, `rejected EHLO from …`: a rejection before
/// any connection field; `r` is the rest after `rejected `.
fn rejected_early<'a>(ev: Event<'a>, s: &'a str, r: &'a str) -> Event<'a> {
    let mut ev = rejected(ev, r);
    if let Some(p) = s.find(" H=") {
        host_after(&mut ev, s, p + 1);
    } else if let Some(p) = s.find(" from ") {
        let h = host_at(s, p + 6);
        if h.ip.is_some() {
            set_host(&mut ev, &h);
        }
    }
    ev
}

/// Refused connections, TLS errors, failed `VRFY`s and certificate errors of a peer. True
/// when `s` is one of them (and `ev` is filled in).
fn peer_words<'a>(ev: &mut Event<'a>, s: &'a str) -> bool {
    for (p, at, kind) in [
        ("refused connection from ", 24, Kind::Rejected),
        ("temporarily refused connection from ", 36, Kind::Rejected),
        ("Connection from ", 16, Kind::Rejected),
        ("no MAIL in SMTP connection from ", 32, Kind::Connection),
        (
            "unexpected disconnection while reading SMTP command from ",
            57,
            Kind::ProtocolError,
        ),
    ] {
        if s.starts_with(p) {
            ev.kind = kind;
            ev.text = Some(s);
            host_after(ev, s, at);
            return true;
        }
    }
    if s.starts_with("TLS error on ") {
        ev.kind = Kind::ProtocolError;
        ev.text = Some(s);
        if let Some((p, len)) = s
            .find(" from ")
            .map(|p| (p, 6))
            .or(s.find(" to ").map(|p| (p, 4)))
        {
            let e = host_after(ev, s, p + len);
            let j = skip_conn_fields(s, e);
            if j < s.len() {
                ev.text = Some(&s[j..]);
            }
        }
        return true;
    }
    if let Some(r) = s.strip_prefix("VRFY failed for ") {
        // `VRFY failed for <x@y> H=(helo) [ip] U=user`
        ev.kind = Kind::Rejected;
        ev.text = Some(s);
        let start = s.len() - r.len();
        let (addr, end) = value_at(s, start);
        ev.recipient = Some(addr);
        if let Some(rest) = s.get(end + 1..) {
            let _ = session_fields(ev, rest);
        }
        return true;
    }
    // `[ip] SSL verify error: depth=0 error=… cert=…`
    if s.starts_with('[')
        && let Some(p) = memchr(b']', s.as_bytes())
        && s[p..].starts_with("] SSL verify error")
    {
        ev.kind = Kind::ProtocolError;
        ev.ip = Some(&s[1..p]);
        ev.text = Some(s);
        return true;
    }
    false
}

/// Queue runs, DNS lookup notes, cPanel permission checks and daemon starts. True when `s`
/// is one of them (and `ev` is filled in).
fn server_words<'a>(ev: &mut Event<'a>, s: &'a str) -> bool {
    if (s.starts_with("Start ") || s.starts_with("End ")) && s.contains("queue run") {
        info(ev, s);
        return true;
    }
    if let Some(r) = s.strip_prefix("no host name found for IP address ") {
        ev.ip = Some(&r[..token_end(r.as_bytes(), 0)]);
        info(ev, s);
        return true;
    }
    if s.starts_with("no IP address found for host ") {
        if let Some(p) = s.find("connection from ") {
            host_after(ev, s, p + 16);
        }
        info(ev, s);
        return true;
    }
    if s.starts_with("check_mail_permissions ") {
        ev.kind = Kind::Warning;
        ev.text = Some(s);
        if let Some(p) = s.find("for domain ") {
            let r = &s[p + 11..];
            ev.domain = Some(&r[..token_end(r.as_bytes(), 0)]).filter(|d| !d.is_empty());
        }
        return true;
    }
    // `exim 4.96 daemon started: pid=…`, `pid 27421: SIGHUP received: re-exec daemon`
    if (s.starts_with("exim ") && memmem::find(s.as_bytes(), b" daemon started").is_some())
        || s.strip_prefix("pid ").is_some_and(|r| {
            r.split_once(": ")
                .is_some_and(|(_, m)| m.starts_with("SIGHUP"))
        })
    {
        info(ev, s);
        return true;
    }
    false
}

/// The lines of [`WORDS`]. True when `s` is one of them (and `ev` is filled in).
fn table_words<'a>(ev: &mut Event<'a>, s: &'a str) -> bool {
    for &(p, kind) in WORDS {
        if s.starts_with(p) {
            ev.kind = kind;
            ev.text = Some(if p == "Warning: " { &s[9..] } else { s });
            return true;
        }
    }
    false
}

/// Lines that start with `SMTP `; `r` is the rest after it.
fn smtp_words<'a>(mut ev: Event<'a>, s: &'a str, r: &'a str) -> Option<Event<'a>> {
    if r.starts_with("connection ") {
        return smtp_connection(ev, s, 16);
    }
    if r.starts_with("call from ") {
        ev.kind = Kind::ProtocolError;
        let e = host_after(&mut ev, s, 15);
        let j = skip_conn_fields(s, e);
        ev.text = Some(s.get(j..).unwrap_or("").trim_start());
        return Some(ev);
    }
    if r.starts_with("protocol error in ")
        || r.starts_with("syntax error in ")
        || r.starts_with("protocol synchronization error")
    {
        ev.kind = Kind::ProtocolError;
        ev.text = Some(s);
        if let Some(p) = memmem::find(s.as_bytes(), b" H=") {
            let e = host_after(&mut ev, s, p + 1);
            let j = skip_conn_fields(s, e);
            // `SMTP protocol error in "AUTH LOGIN" H=… AUTH command used when not advertised`
            if !r.starts_with("protocol synchronization") && j < s.len() {
                ev.text = Some(&s[j..]);
            }
        }
        return Some(ev);
    }
    if r.starts_with("command timeout ")
        || r.starts_with("data timeout ")
        || r.starts_with("timeout ")
    {
        ev.kind = Kind::ProtocolError;
        ev.text = Some(s);
        if let Some(p) = s.find("connection from ") {
            let e = host_after(&mut ev, s, p + 16);
            let rest = &s[e..];
            if let Some(f) = rest.find(" F=") {
                ev.sender = Some(unangle(value_at(rest, f + 3).0));
            }
        }
        return Some(ev);
    }
    None
}

/// A note kept as [`Kind::Info`] with the whole line as its text.
fn info<'a>(ev: &mut Event<'a>, s: &'a str) {
    ev.kind = Kind::Info;
    ev.text = Some(s);
}

/// `SMTP connection from <host> …`: connect, close (`closed by QUIT/EOF/DROP in ACL`), `lost`.
fn smtp_connection<'a>(mut ev: Event<'a>, s: &'a str, mut i: usize) -> Option<Event<'a>> {
    ev.kind = Kind::Connection;
    ev.text = Some(s);
    let b = s.as_bytes();
    // `SMTP connection Ci=p1234 from …`
    if let Some((_, v)) = tag_at(b, i) {
        i = value_at(s, v).1 + 1;
    }
    let Some(r) = s.get(i..).and_then(|r| r.strip_prefix("from ")) else {
        // `SMTP connection identification …` (cPanel) and other words.
        if s.get(i..).unwrap_or("").starts_with("identification ") {
            return Some(identification(ev, s, i + 15));
        }
        return Some(ev);
    };
    let start = s.len() - r.len();
    let e = host_after(&mut ev, s, start);
    let j = skip_conn_fields(s, e);
    let rest = s.get(j..).unwrap_or("");
    if rest.starts_with("lost") || rest.contains(" lost ") {
        ev.kind = Kind::ProtocolError;
    }
    if !rest.is_empty() {
        ev.text = Some(rest);
    }
    Some(ev)
}

/// `plain authenticator failed for H=(helo) [ip] U=x: 535 Incorrect authentication data
/// (set_id=user)`.
fn auth_failed<'a>(mut ev: Event<'a>, s: &'a str, at: usize) -> Event<'a> {
    ev.kind = Kind::AuthFailed;
    let e = host_after(&mut ev, s, at);
    let mut j = e;
    // ` I=[ip]:port Ci=n U=x` and the `:` separator.
    let b = s.as_bytes();
    loop {
        if colon_sep(b, j) {
            j += 2;
            break;
        }
        if b.get(j) == Some(&b' ')
            && let Some((_, v)) = tag_at(b, j + 1)
        {
            let (val, end) = value_at(s, v);
            let (_, sep) = strip_colon(val);
            j = end;
            if sep {
                j += 1;
                break;
            }
            continue;
        }
        break;
    }
    let text = s.get(j..).unwrap_or("").trim_start();
    if !text.is_empty() {
        ev.text = Some(text);
        let (code, status) = smtp_code(text);
        ev.code = code;
        ev.status = status;
    }
    if let Some(p) = s.rfind("(set_id=") {
        let r = &s[p + 8..];
        if let Some(q) = r.rfind(')') {
            ev.account = Some(&r[..q]);
        }
    }
    ev
}

/// `cwd=/home/user/public_html 3 args: /usr/sbin/sendmail -t -i`.
fn script<'a>(mut ev: Event<'a>, s: &'a str) -> Event<'a> {
    ev.kind = Kind::Script;
    ev.text = Some(s);
    let cwd_end = token_end(s.as_bytes(), 4);
    let cwd = &s[4..cwd_end];
    if let Some(r) = cwd.strip_prefix("/home") {
        let r = r.trim_start_matches(|c: char| c.is_ascii_digit());
        if let Some(r) = r.strip_prefix('/') {
            let user = r.split('/').next().unwrap_or("");
            if !user.is_empty() {
                ev.account = Some(user);
            }
        }
    }
    ev
}
