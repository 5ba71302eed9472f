//! postscreen and its helpers, statistics, master, postsuper and postfix-script notes, and
//! verbose (`-v`) debugging output.

use super::{Cx, lex};
use crate::model::event::{Event, Kind};

/// postscreen verdicts, all about the client `[ip]:port` in the line.
const SCREEN: &[&str] = &[
    "PASS NEW ",
    "PASS OLD ",
    "DNSBL rank ",
    "PREGREET ",
    "HANGUP ",
    "COMMAND PIPELINING ",
    "COMMAND TIME LIMIT ",
    "COMMAND COUNT LIMIT ",
    "COMMAND LENGTH LIMIT ",
    "NON-SMTP COMMAND ",
    "BARE NEWLINE ",
    "WHITELISTED ",
    "BLACKLISTED ",
    "ALLOWLISTED ",
    "DENYLISTED ",
    "WHITELIST VETO ",
    "ALLOWLIST VETO ",
];

/// postsuper totals: `Deleted: 7 messages`, `Requeued: 1 message`, ...
const POSTSUPER_TOTALS: &[&str] = &[
    "Deleted: ",
    "Requeued: ",
    "Placed on hold: ",
    "Released from hold: ",
    "Expired: ",
];

/// master and postfix-script notes.
const DAEMON_NOTES: &[&str] = &[
    "daemon started",
    "reload ",
    "reload --",
    "terminating on signal ",
    "starting the Postfix mail system",
    "stopping the Postfix mail system",
    "refreshing the Postfix mail system",
    "waiting for the Postfix mail system",
    "the Postfix mail system is ",
    "Postfix is running",
    "postfix/postfix-script: ",
];

/// Lines without a queue ID that are not the SMTP server's or client's.
pub(crate) fn unqueued<'a>(cx: &Cx<'a>, msg: &'a str) -> Option<Event<'a>> {
    let b = msg.as_bytes();
    if b[0].is_ascii_uppercase() {
        if msg.starts_with("CONNECT from ") || msg.starts_with("DISCONNECT ") {
            return Some(screen(cx, Kind::Connection, msg));
        }
        // tlsproxy (postscreen's TLS front end): `TLS handshake failed for service=smtpd
        // peer=[192.0.2.7]:40000`; the client is the bracketed address.
        if msg.starts_with("TLS handshake failed for service=") {
            return Some(screen(cx, Kind::Info, msg));
        }
        if SCREEN.iter().any(|p| msg.starts_with(p)) {
            return Some(screen(cx, Kind::Screen, msg));
        }
        if POSTSUPER_TOTALS.iter().any(|p| msg.starts_with(p)) && msg.contains(" message") {
            return Some(cx.text(Kind::Info, None, msg));
        }
    }
    if let Some(r) = msg.strip_prefix("statistics: ") {
        // anvil: `max connection rate 8/60s for (smtp:192.0.2.7) at Dec 15 07:58:40`.
        let mut e = cx.text(Kind::Info, None, msg);
        if let Some(i) = r.find(" for (") {
            let inner = &r[i + 6..];
            let inner = &inner[..inner.find(')').unwrap_or(inner.len())];
            // `(service:client)`; the service may itself be `127.0.0.1:2525`, in which case
            // only an IPv4 client can be told apart.
            if let Some((svc, client)) = inner.split_once(':') {
                let client = if svc.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
                    Some(client)
                } else {
                    inner
                        .rsplit_once(':')
                        .map(|(_, c)| c)
                        .filter(|c| c.contains('.'))
                };
                e.ip = client.filter(|c| *c != "unknown");
            }
        }
        return Some(e);
    }
    // dnsblog: `addr 192.0.2.7 listed by domain zen.spamhaus.org as 127.0.0.4`.
    if let Some(r) = msg.strip_prefix("addr ")
        && let Some((ip, _)) = r.split_once(" listed by domain ")
    {
        let mut e = cx.text(Kind::Info, None, msg);
        e.ip = Some(ip);
        return Some(e);
    }
    if msg.starts_with("entering STRESS mode")
        || msg.starts_with("leaving STRESS mode")
        || (msg.starts_with("cache ") && msg.contains(" cleanup: "))
    {
        return Some(cx.text(Kind::Info, None, msg));
    }
    if DAEMON_NOTES.iter().any(|p| msg.starts_with(p)) || cx.service == "postfix-script" {
        return Some(cx.text(Kind::Info, None, msg));
    }
    if is_verbose(msg) {
        return Some(cx.text(Kind::Info, None, msg));
    }
    None
}

/// A postscreen line: the client address is the first `[...]`.
fn screen<'a>(cx: &Cx<'a>, kind: Kind, msg: &'a str) -> Event<'a> {
    let mut e = cx.text(kind, None, msg);
    e.ip = lex::first_bracketed(msg);
    e
}

/// Debugging output of `-v` daemons and `debug_peer_list`: `function_name: ...`,
/// attribute dumps, the SMTP dialogue (`< host[ip]: EHLO x`, `> host[ip]: 250 ...`), ...
fn is_verbose(msg: &str) -> bool {
    let b = msg.as_bytes();
    let n = b
        .iter()
        .take_while(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_'))
        .count();
    if n > 0 && b[0].is_ascii_lowercase() {
        if b.get(n) == Some(&b':') {
            return true;
        }
        // `unknown_address_tempfail_action = defer_if_permit`
        if msg[n..].starts_with(" = ") {
            return true;
        }
    }
    const PREFIXES: &[&str] = &[
        "input attribute ",
        "send attr ",
        "connect to subsystem ",
        "connection established",
        "> ",
        "< ",
        ">>> ",
        "start ",
        "end ",
        "done ",
        "rewrite stream disconnect",
        "proxymap stream disconnect",
        "connection closed",
        "connecting to ",
        "lookup ",
        "begin ",
        "initial envelope ",
        "extracted envelope ",
        "cleanup flags = ",
        "idle timeout -- exiting",
        "master disconnect -- exiting",
        "process generation: ",
        "Compiled against ",
        "Run-time linked against ",
        "open ",
        "request ignored",
        "wakeup ",
        "pref ",
        "host name lookup methods",
        "before input_transp_cleanup",
        "after input_transp_cleanup",
        "trigger_server",
        "private/",
        "public/",
    ];
    if PREFIXES.iter().any(|p| msg.starts_with(p)) {
        return true;
    }
    msg.contains(" socket: wanted attribute: ")
}
