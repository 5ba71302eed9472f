//! Byte-level pieces shared by the Postfix line parsers: queue IDs, `host[ip]:port`,
//! `<address>` values, `key=value` lists and SMTP replies. Nothing here allocates.

use std::sync::OnceLock;

use memchr::memmem::{Finder, FinderRev};

use crate::model::smtp::{self, Status};

/// Splits a leading `QUEUEID: ` off `msg`: `NOQUEUE`, a short ID (upper-case hex, at least 6
/// digits) or a long ID (`enable_long_queue_ids`: base-52 time, `z`, base-51 inode).
/// Returns the ID and the text after `: `.
pub(crate) fn split_queue_id(msg: &str) -> Option<(&str, &str)> {
    // One pass: the ID's length, whether it is upper-case hex, and where its last `z` is.
    let b = msg.as_bytes();
    let (mut n, mut hex, mut last_z) = (0, true, 0);
    while n < b.len().min(48) {
        let class = ID_BYTE[b[n] as usize];
        if class == ID_END {
            break;
        }
        hex &= class == ID_HEX;
        if class == ID_Z {
            last_z = n;
        }
        n += 1;
    }
    if n < 6 || b.get(n) != Some(&b':') || b.get(n + 1) != Some(&b' ') {
        return None;
    }
    let id = &msg[..n];
    if hex || long_id(n, last_z) || id == "NOQUEUE" {
        Some((id, &msg[n + 2..]))
    } else {
        None
    }
}

/// What a byte is to [`split_queue_id`]: it ends the ID, or is an upper-case hex digit, a
/// `z`, or another letter. One table look-up per byte instead of a chain of range tests.
const ID_END: u8 = 0;
const ID_HEX: u8 = 1;
const ID_Z: u8 = 2;
const ID_LETTER: u8 = 3;
static ID_BYTE: [u8; 256] = {
    let mut t = [ID_END; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = match c as u8 {
            b'0'..=b'9' | b'A'..=b'F' => ID_HEX,
            b'z' => ID_Z,
            b'G'..=b'Z' | b'a'..=b'y' => ID_LETTER,
            _ => ID_END,
        };
        c += 1;
    }
    t
};

/// Long form (`enable_long_queue_ids`): at least 6 base-52 digits of seconds, exactly 4 of
/// microseconds, `z`, then the inode number in base 51 (no `z`), so the last `z` has at
/// least 10 characters before it and some after. Postfix's alphabet has no vowels; that is
/// not checked (hand-written IDs often have them), and one character less before the `z` is
/// accepted for the same reason. `len` is the ID's length, `last_z` the index of its last `z`
/// (0 when there is none).
fn long_id(len: usize, last_z: usize) -> bool {
    len >= 12 && last_z >= 9 && last_z + 1 < len
}

/// A fixed string to search for, with its searchers built on first use and kept, so a
/// search costs no set-up per line.
pub(crate) struct Needle {
    text: &'static str,
    fwd: OnceLock<Finder<'static>>,
    rev: OnceLock<FinderRev<'static>>,
}

impl Needle {
    const fn new(text: &'static str) -> Self {
        Needle {
            text,
            fwd: OnceLock::new(),
            rev: OnceLock::new(),
        }
    }

    /// The first position of the needle in `hay`.
    pub fn find(&self, hay: &str) -> Option<usize> {
        self.fwd
            .get_or_init(|| Finder::new(self.text))
            .find(hay.as_bytes())
    }

    /// The last position of the needle in `hay`.
    pub fn rfind(&self, hay: &str) -> Option<usize> {
        self.rev
            .get_or_init(|| FinderRev::new(self.text))
            .rfind(hay.as_bytes())
    }

    pub fn len(&self) -> usize {
        self.text.len()
    }

    pub fn as_str(&self) -> &'static str {
        self.text
    }
}

macro_rules! needles {
    ($($name:ident = $text:literal;)*) => {
        $(pub static $name: Needle = Needle::new($text);)*
    };
}

needles! {
    FROM = " from ";
    FROM_EQ = " from=";
    ORIG_ID = " orig_id=";
    NOTIFICATION = " notification: ";
    SAID = " said: ";
    REFUSED = " refused to talk to me: ";
    QUEUED_AS = "queued as ";
    FORWARDED_AS = "forwarded as ";
    SASL_USERNAME = ", sasl_username=";
    COLON_SPACE = ": ";
    SERVER = "server ";
    FOR = " for ";
}

/// A remote or client end as Postfix logs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Peer<'a> {
    /// The name before `[`; `None` when empty (postscreen's `[ip]:port`).
    pub host: Option<&'a str>,
    /// The address inside `[...]`; `None` for `unknown` and for socket paths
    /// (`[private/dovecot-lmtp]`, `[/var/run/dovecot/lmtp]`).
    pub ip: Option<&'a str>,
}

/// Reads `host[ip]` with an optional `:port` at the start of `s`; returns the peer and the
/// text after it. The host may be empty; it never contains a space.
pub(crate) fn peer(s: &str) -> Option<(Peer<'_>, &str)> {
    let b = s.as_bytes();
    let open = memchr::memchr2(b'[', b' ', b)?;
    if b[open] != b'[' {
        return None;
    }
    // An address holds no space or bracket: stop there rather than search the whole line.
    let close = memchr::memchr3(b']', b'[', b' ', &b[open + 1..])? + open + 1;
    if b[close] != b']' {
        return None;
    }
    let host = &s[..open];
    let ip = &s[open + 1..close];
    let mut end = close + 1;
    if b.get(end) == Some(&b':') {
        let digits = b[end + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits > 0 {
            end += 1 + digits;
        }
    }
    let ip = if ip.is_empty() || ip == "unknown" || ip.contains('/') {
        None
    } else {
        Some(ip)
    };
    let host = if host.is_empty() { None } else { Some(host) };
    Some((Peer { host, ip }, &s[end..]))
}

/// Finds ` from host[ip]` in `s` (the first ` from ` followed by a bracketed peer) and
/// returns the text before it, the peer and the text after it.
pub(crate) fn from_peer(s: &str) -> Option<(&str, Peer<'_>, &str)> {
    let mut at = 0;
    while let Some(i) = FROM.find(&s[at..]) {
        let start = at + i;
        if let Some((p, rest)) = peer(&s[start + 6..]) {
            return Some((&s[..start], p, rest));
        }
        at = start + 6;
    }
    None
}

/// Reads a value that starts right after `key=`: `<...>` (the brackets are removed; the
/// value ends at the first `>` followed by a separator or the end, so `<Print Connections>`
/// and `<a, b>` stay whole) or a bare word ending at `,`, a space or the end.
/// Returns the value and the rest after it.
pub fn value(s: &str) -> (&str, &str) {
    let b = s.as_bytes();
    if b.first() == Some(&b'<') {
        let mut at = 1;
        while let Some(i) = memchr::memchr(b'>', &b[at..]) {
            let close = at + i;
            match b.get(close + 1) {
                None | Some(b',' | b' ' | b';' | b':' | b')' | b'"') => {
                    return (&s[1..close], &s[close + 1..]);
                }
                _ => at = close + 1,
            }
        }
        return (&s[1..], "");
    }
    let end = memchr::memchr2(b',', b' ', b).unwrap_or(b.len());
    (&s[..end], &s[end..])
}

/// Skips the separators between `key=value` items: commas, spaces and the stray double
/// quotes of CSV-mangled logs.
pub(crate) fn skip_sep(s: &str) -> &str {
    let n = s
        .bytes()
        .take_while(|c| matches!(c, b',' | b' ' | b'"'))
        .count();
    &s[n..]
}

/// Reads `key=` at the start of `s` (key: lower-case letters, digits, `_`, `-`);
/// returns the key and the text after `=`.
pub fn key(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let n = b
        .iter()
        .take_while(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
        .count();
    if n == 0 || b.get(n) != Some(&b'=') {
        return None;
    }
    Some((&s[..n], &s[n + 1..]))
}

/// Reads an enhanced status code at the start of `s`, followed by a space, `;`, `)`, `,` or
/// the end. Returns the code and the rest (without the following space).
pub(crate) fn enhanced_status(s: &str) -> Option<(&str, &str)> {
    let (_, end) = Status::lex(s.as_bytes())?;
    match s.as_bytes().get(end) {
        None => Some((s, "")),
        Some(b' ') => Some((&s[..end], &s[end + 1..])),
        Some(b';' | b')' | b',') => Some((&s[..end], &s[end..])),
        _ => None,
    }
}

/// Reads a reply code at the start of `s`, followed by a space, `-` (multi-line replies), or
/// the end. Returns the code and the rest after the separator.
pub(crate) fn reply_code(s: &str) -> Option<(u16, &str)> {
    let code = smtp::reply_code(s.as_bytes())?;
    match s.as_bytes().get(3) {
        None => Some((code, "")),
        Some(b' ' | b'-') => Some((code, &s[4..])),
        _ => None,
    }
}

/// Splits an SMTP reply `550 5.1.1 text` / `550-5.1.1 text` / `5.7.1 text` / `text` into
/// (code, enhanced status, text).
pub fn reply(s: &str) -> (Option<u16>, Option<&str>, &str) {
    let (code, rest) = match reply_code(s) {
        Some((c, r)) => (Some(c), r),
        None => (None, s),
    };
    match enhanced_status(rest) {
        Some((st, r)) => (code, Some(st), r),
        None => (code, None, rest),
    }
}

/// The remote server's reply code and enhanced status inside a delivery text:
/// `250 2.0.0 Ok`, `host mx[ip] said: 550 5.1.1 ...`, `... refused to talk to me: 421 ...`.
pub fn remote_reply(text: &str) -> (Option<u16>, Option<&str>) {
    if let Some((c, rest)) = reply_code(text) {
        return (Some(c), enhanced_status(rest).map(|(s, _)| s));
    }
    for marker in [&SAID, &REFUSED] {
        if let Some(i) = marker.find(text) {
            let (c, s, _) = reply(&text[i + marker.len()..]);
            if c.is_some() || s.is_some() {
                return (c, s);
            }
        }
    }
    (None, None)
}

/// The token after the last `marker` in `text` (letters, digits, `-`, `_`, `.` — a trailing
/// `.` dropped), e.g. the new queue ID in `250 2.0.0 Ok: queued as 4Q2Xk10Abcz2Rt`.
pub(crate) fn id_after<'a>(text: &'a str, marker: &Needle) -> Option<&'a str> {
    // Usually the last word: `... queued as 8B22B43C3`.
    let last = memchr::memrchr(b' ', text.as_bytes()).map_or(0, |i| i + 1);
    let rest = if text[..last].ends_with(marker.as_str()) {
        &text[last..]
    } else {
        &text[marker.rfind(text)? + marker.len()..]
    };
    let n = rest
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        .count();
    let id = rest[..n].trim_end_matches('.');
    (!id.is_empty()).then_some(id)
}

/// The first `host[address]` in a free text (`connect to mx.example[192.0.2.1]:25: ...`),
/// with a host name made of name characters and an address with `.` or `:` in it.
pub(crate) fn text_peer(text: &str) -> Option<Peer<'_>> {
    let b = text.as_bytes();
    let mut at = 0;
    while let Some(i) = memchr::memchr(b'[', &b[at..]) {
        let open = at + i;
        at = open + 1;
        let start = b[..open]
            .iter()
            .rposition(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_')))
            .map_or(0, |p| p + 1);
        if start == open {
            continue;
        }
        let len = memchr::memchr3(b']', b'[', b' ', &b[open + 1..])?;
        if b[open + 1 + len] != b']' {
            continue;
        }
        let ip = &text[open + 1..open + 1 + len];
        if ip.contains(['.', ':']) && !ip.contains('/') {
            return Some(Peer {
                host: Some(&text[start..open]),
                ip: Some(ip),
            });
        }
    }
    None
}

/// The first `[...]` in `s`, as an address (postscreen and dnsblog lines).
pub(crate) fn first_bracketed(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let open = memchr::memchr(b'[', b)?;
    let close = memchr::memchr(b']', &b[open + 1..])? + open + 1;
    let ip = &s[open + 1..close];
    (!ip.is_empty()).then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_ids_short_long_and_not() {
        let id = |s: &'static str| split_queue_id(s).map(|(id, _)| id);
        assert_eq!(
            split_queue_id("DC8BD1641F1: removed"),
            Some(("DC8BD1641F1", "removed"))
        );
        assert_eq!(
            split_queue_id("NOQUEUE: reject: x"),
            Some(("NOQUEUE", "reject: x"))
        );
        assert_eq!(id("3Pt2mN2VXxznjll: x"), Some("3Pt2mN2VXxznjll"));
        assert_eq!(id("4TwNdH5zwCz7fxV: x"), Some("4TwNdH5zwCz7fxV"));
        assert_eq!(id("4Q2Xk05Lyz1Wq: x"), Some("4Q2Xk05Lyz1Wq"));
        assert_eq!(id("3Pt2mN2VXxz: x"), None);
        assert_eq!(id("statistics: x"), None);
        assert_eq!(id("ABCDE: x"), None);
        assert_eq!(id("Deleted: 3 messages"), None);
        assert_eq!(id("qmgr_active_feed: skip A94DF404B38D"), None);
        assert_eq!(id("DC8BD1641F1:removed"), None);
    }

    #[test]
    fn peers_values_and_replies() {
        let (p, rest) = peer("mx.example.net[203.0.113.5]:25, delay=1").unwrap();
        assert_eq!(p.host, Some("mx.example.net"));
        assert_eq!(p.ip, Some("203.0.113.5"));
        assert_eq!(rest, ", delay=1");
        let (p, rest) = peer("[2001:db8::1]:4711 to [192.0.2.1]:25").unwrap();
        assert_eq!((p.host, p.ip), (None, Some("2001:db8::1")));
        assert_eq!(rest, " to [192.0.2.1]:25");
        let (p, _) = peer("lmtp.example[private/dovecot-lmtp], delay=1").unwrap();
        assert_eq!((p.host, p.ip), (Some("lmtp.example"), None));
        assert!(peer("no peer here [1.2.3.4]").is_none());
        assert_eq!(
            value("<Print Connections>, size=1"),
            ("Print Connections", ", size=1")
        );
        assert_eq!(value("<a>b@x> to=<y>"), ("a>b@x", " to=<y>"));
        assert_eq!(
            value("plain@x.example, relay=y"),
            ("plain@x.example", ", relay=y")
        );
        assert_eq!(
            reply("550 5.1.1 <x>: no"),
            (Some(550), Some("5.1.1"), "<x>: no")
        );
        assert_eq!(reply("452-4.2.2 full"), (Some(452), Some("4.2.2"), "full"));
        assert_eq!(reply("5.7.1 spam"), (None, Some("5.7.1"), "spam"));
        assert_eq!(
            reply("too many connections"),
            (None, None, "too many connections")
        );
        assert_eq!(
            remote_reply("host mx[1.2.3.4] said: 550 5.1.1 unknown (in reply to RCPT TO command)"),
            (Some(550), Some("5.1.1"))
        );
        assert_eq!(
            id_after("250 2.0.0 Ok: queued as 8B22B43C3", &QUEUED_AS),
            Some("8B22B43C3")
        );
    }
}
