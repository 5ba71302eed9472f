//! Exim mainlog lines (see the mail-log reference §1–2).
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

use memchr::{memchr, memchr2, memmem};

use crate::model::event::{Event, Kind, Limit, LimitKind, Mta, Timestamp};

#[cfg(test)]
mod tests;

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

// ---------------------------------------------------------------------------------------
// Prefix: pid and message ID
// ---------------------------------------------------------------------------------------

/// Removes a leading `[pid] ` (`+pid` log selector).
fn strip_pid(s: &str) -> &str {
    let b = s.as_bytes();
    if b.first() != Some(&b'[') {
        return s;
    }
    let end = b.len().min(24);
    match memchr(b']', &b[1..end]) {
        Some(p) if p > 0 && b[1..=p].iter().all(u8::is_ascii_digit) => {
            let after = p + 2;
            match b.get(after) {
                None => "",
                Some(b' ') => &s[after + 1..],
                Some(_) => s,
            }
        }
        _ => s,
    }
}

fn all_alnum(b: &[u8]) -> bool {
    b.iter().all(u8::is_ascii_alphanumeric)
}

/// Splits off a message ID in either format when it is followed by a space or the end.
fn split_id(s: &str) -> (Option<&str>, &str) {
    let b = s.as_bytes();
    if b.len() < 16 || b[6] != b'-' || !all_alnum(&b[..6]) {
        return (None, s);
    }
    let len = if b[13] == b'-' && all_alnum(&b[7..13]) && all_alnum(&b[14..16]) {
        16
    } else if b.len() >= 23 && b[18] == b'-' && all_alnum(&b[7..18]) && all_alnum(&b[19..23]) {
        23
    } else {
        return (None, s);
    };
    match b.get(len) {
        None => (Some(&s[..len]), ""),
        Some(b' ') => (Some(&s[..len]), &s[len + 1..]),
        Some(_) => (None, s),
    }
}

/// True when `b` is an Exim message ID (either format).
fn is_message_id(s: &str) -> bool {
    matches!(split_id(s), (Some(id), "") if id.len() == s.len())
}

// ---------------------------------------------------------------------------------------
// Small scanning helpers
// ---------------------------------------------------------------------------------------

/// Index of the next space at or after `i`, or the end.
#[inline]
fn token_end(b: &[u8], i: usize) -> usize {
    match memchr(b' ', &b[i.min(b.len())..]) {
        Some(p) => i + p,
        None => b.len(),
    }
}

/// How far ahead a closing `>` or `)` is looked for. Addresses, HELO names and parent lists
/// are far shorter; the bound keeps lines of many unclosed brackets linear.
const LOOKAHEAD: usize = 2048;

/// Index of `c` at or after `i`, within [`LOOKAHEAD`] bytes.
#[inline]
fn find_near(b: &[u8], i: usize, c: u8) -> Option<usize> {
    let end = b.len().min(i.saturating_add(LOOKAHEAD));
    memchr(c, b.get(i..end)?).map(|p| i + p)
}

/// Index of the `"` closing a quoted string whose opening quote is at `open`; backslash
/// escapes are skipped. `None` when unterminated.
fn quote_end(b: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    while i < b.len() {
        let p = memchr2(b'"', b'\\', &b[i..])?;
        if b[i + p] == b'"' {
            return Some(i + p);
        }
        i += p + 2;
    }
    None
}

/// If a field tag `TAG=` starts at `i`, returns the tag and the index of its value.
#[inline]
fn tag_at(b: &[u8], i: usize) -> Option<(&[u8], usize)> {
    let first = *b.get(i)?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    let lim = b.len().min(i + 7);
    let mut j = i + 1;
    while j < lim {
        match b[j] {
            b'=' => return Some((&b[i..j], j + 1)),
            c if c.is_ascii_alphanumeric() || c == b'*' || c == b'_' => j += 1,
            _ => return None,
        }
    }
    None
}

/// A field value at `i`: `"quoted"` (without the quotes, still escaped), `<angle>` (without
/// the brackets) or a plain token. Returns the value and the index after it.
fn value_at(s: &str, i: usize) -> (&str, usize) {
    let b = s.as_bytes();
    match b.get(i) {
        Some(b'"') => match quote_end(b, i) {
            Some(q) => (&s[i + 1..q], q + 1),
            None => {
                let e = token_end(b, i);
                (&s[i..e], e)
            }
        },
        Some(b'<') => match find_near(b, i, b'>') {
            Some(p) => (&s[i + 1..p], p + 1),
            None => {
                let e = token_end(b, i);
                (&s[i..e], e)
            }
        },
        _ => {
            let e = token_end(b, i);
            (&s[i..e], e)
        }
    }
}

/// True when a pre-4.99 separator `:` ends the field just read, i.e. `b[i] == ':'` followed
/// by a space or the end.
#[inline]
fn colon_sep(b: &[u8], i: usize) -> bool {
    b.get(i) == Some(&b':') && matches!(b.get(i + 1), None | Some(b' '))
}

/// Strips a trailing `:` from a plain token value; true when it had one.
#[inline]
fn strip_colon(v: &str) -> (&str, bool) {
    match v.strip_suffix(':') {
        Some(x) => (x, true),
        None => (v, false),
    }
}

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_i64(s: &str) -> Option<i64> {
    let d = s.strip_prefix('-').unwrap_or(s);
    if d.is_empty() || d.len() > 18 || !d.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `<>` is the null sender `""`; otherwise the address without angle brackets.
fn unangle(v: &str) -> &str {
    v.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(v)
}

// ---------------------------------------------------------------------------------------
// Host information: `name [ip]`, `(helo) [ip]`, `name (helo) [ip]`, `[ip]:port*`
// ---------------------------------------------------------------------------------------

struct Host<'a> {
    host: Option<&'a str>,
    ip: Option<&'a str>,
    end: usize,
}

#[inline]
fn is_port_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Reads Exim's host information starting at `i`. The host is the verified name, or the
/// HELO name when there is none; the IP is without brackets and port.
fn host_at(s: &str, mut i: usize) -> Host<'_> {
    let b = s.as_bytes();
    let n = b.len();
    let (mut name, mut helo, mut ip) = (None, None, None);
    if i < n && b[i] != b'[' && b[i] != b'(' {
        let e = token_end(b, i);
        name = Some(&s[i..e]);
        i = e;
        if i + 1 < n && (b[i + 1] == b'(' || b[i + 1] == b'[') {
            i += 1;
        } else {
            return Host {
                host: name,
                ip: None,
                end: i,
            };
        }
    }
    if i < n && b[i] == b'(' {
        let window = &b[i..n.min(i + LOOKAHEAD)];
        let close = match memchr(b')', window) {
            Some(p) if b.get(i + p + 1) == Some(&b' ') || i + p + 1 == n => Some(i + p),
            Some(_) => memmem::find(window, b") [").map(|p| i + p),
            None => None,
        };
        match close {
            Some(c) => {
                helo = Some(&s[i + 1..c]);
                i = c + 1;
            }
            None => {
                let e = token_end(b, i);
                return Host {
                    host: name.or(Some(&s[i..e])),
                    ip: None,
                    end: e,
                };
            }
        }
        if i + 1 < n && b[i] == b' ' && b[i + 1] == b'[' {
            i += 1;
        }
    }
    if i < n
        && b[i] == b'['
        && let Some(p) = memchr(b']', &b[i..])
    {
        ip = Some(&s[i + 1..i + p]);
        i += p + 1;
        if i + 1 < n && b[i] == b':' && is_port_char(b[i + 1]) {
            i += 1;
            while i < n && is_port_char(b[i]) {
                i += 1;
            }
        }
        if i < n && b[i] == b'*' {
            i += 1;
        }
    }
    // A HELO is used as the host only when there is no verified name, and never when it is
    // empty or an address literal (`([192.0.2.1])`).
    Host {
        host: name.or(helo.filter(|h| !h.is_empty() && !h.starts_with('['))),
        ip,
        end: i,
    }
}

fn set_host<'a>(ev: &mut Event<'a>, h: &Host<'a>) {
    if h.host.is_some() {
        ev.host = h.host;
    }
    if h.ip.is_some() {
        ev.ip = h.ip;
    }
}

// ---------------------------------------------------------------------------------------
// Arrival: `<= sender [R=parent] [H=…] [U=…] [P=…] [A=…] S=… [id=…] [T="…"] [from <…>] [for …]`
// ---------------------------------------------------------------------------------------

fn arrival<'a>(mut ev: Event<'a>, s: &'a str) -> Option<Event<'a>> {
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
fn auth_id(a: &str) -> &str {
    match a.split_once(':') {
        Some((name, rest)) => {
            let id = rest.split_once(':').map_or(rest, |(id, _)| id);
            if id.is_empty() { name } else { id }
        }
        None => a,
    }
}

// ---------------------------------------------------------------------------------------
// Delivery, deferral, failure: `=> -> >> *> == **`
// ---------------------------------------------------------------------------------------

/// True when a structural item of a delivery line starts at `i`: `<orig>`, `(parents)`,
/// a field tag, a separator, the `defer`/`routing defer` words, or the end.
fn structural(s: &str, i: usize) -> bool {
    let b = s.as_bytes();
    let Some(&c) = b.get(i) else { return true };
    match c {
        b'<' | b':' => true,
        b'(' => match find_near(b, i, b')') {
            Some(p) => matches!(b.get(p + 1), None | Some(b' ') | Some(b':')),
            None => false,
        },
        _ => {
            tag_at(b, i).is_some()
                || s[i..].starts_with("defer (")
                || s[i..].starts_with("routing defer")
        }
    }
}

/// End of the address that starts at `i`. Handles `"quoted local parts"@domain`, pipes with
/// arguments (`|cmd a b <orig>`), and unquoted local parts with spaces that Exim prints
/// without their quotes (extended up to the token that holds the `@`). With `failure`, a
/// trailing `:` (routing failure separator) is not part of the address.
fn address_end(s: &str, i: usize, failure: bool) -> usize {
    let b = s.as_bytes();
    let n = b.len();
    if i >= n {
        return n;
    }
    if b[i] == b'|' {
        return pipe_end(s, i);
    }
    let first = if b[i] == b'"' {
        match quote_end(b, i) {
            Some(q) => token_end(b, q),
            None => token_end(b, i),
        }
    } else {
        token_end(b, i)
    };
    let trim = |e: usize| {
        if failure && e > i + 1 && b[e - 1] == b':' && b[i] != b':' {
            e - 1
        } else {
            e
        }
    };
    if memchr(b'@', &b[i..first]).is_some() || matches!(b[i], b'/' | b'>' | b'"' | b'<') {
        return trim(first);
    }
    // A bare local part: extend over words while none of them is structural and one of them
    // carries the `@` (Exim's display of `"a b c"@dom` is `a b c@dom`).
    let mut j = first;
    for _ in 0..16 {
        if j >= n || structural(s, j + 1) {
            break;
        }
        let e = token_end(b, j + 1);
        if memchr(b'@', &b[j + 1..e]).is_some() {
            return trim(e);
        }
        j = e;
    }
    trim(first)
}

/// End of a pipe address: the ` <orig>` that is followed by the fields, else the first field.
fn pipe_end(s: &str, i: usize) -> usize {
    let b = s.as_bytes();
    let mut from = i;
    // Bounded: each candidate scans ahead for its `>`.
    for _ in 0..32 {
        let Some(p) = memmem::find(&b[from..], b" <") else {
            break;
        };
        let p = from + p;
        if let Some(q) = find_near(b, p, b'>') {
            let a = q + 1;
            let after = &s[a..];
            if after.is_empty()
                || colon_sep(b, a)
                || after.starts_with(" : ")
                || after.starts_with(" defer (")
                || after.starts_with(" routing defer")
                || (after.len() > 3
                    && after.as_bytes()[0] == b' '
                    && tag_at(after.as_bytes(), 1).is_some())
            {
                return p;
            }
        }
        from = p + 2;
    }
    for pat in [" R=", " T=", " : "] {
        if let Some(p) = memmem::find(&b[i..], pat.as_bytes()) {
            return i + p;
        }
    }
    token_end(b, i)
}

fn delivery<'a>(mut ev: Event<'a>, s: &'a str) -> Option<Event<'a>> {
    let b = s.as_bytes();
    let n = b.len();
    let failing = matches!(ev.kind, Kind::Bounced | Kind::Deferred);
    let mut i = address_end(s, 0, failing);
    if i == 0 {
        return None;
    }
    ev.recipient = Some(&s[..i]);
    let mut text_at: Option<usize> = None;
    let mut errno: Option<&str> = None;
    if colon_sep(b, i) {
        text_at = Some(i + 2);
        i = n;
    }
    while i < n {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        match b[i] {
            // `(parent, parent)`
            b'(' => {
                match find_near(b, i, b')') {
                    Some(p) => i = p + 1,
                    None => i = token_end(b, i),
                }
                if colon_sep(b, i) {
                    text_at = Some(i + 2);
                    break;
                }
                continue;
            }
            // `<original address>`
            b'<' => {
                let Some(e) = find_near(b, i, b'>') else {
                    i = token_end(b, i);
                    continue;
                };
                let orig = &s[i + 1..e];
                if ev.original_recipient.is_none() && orig != "system-filter" {
                    ev.original_recipient = Some(orig);
                }
                i = e + 1;
                if colon_sep(b, i) {
                    text_at = Some(i + 2);
                    break;
                }
                continue;
            }
            // ` : message` (4.99+)
            b':' if matches!(b.get(i + 1), None | Some(b' ')) => {
                text_at = Some((i + 2).min(n));
                break;
            }
            _ => {}
        }
        if let Some((tag, v)) = tag_at(b, i) {
            if tag == b"H" {
                let h = host_at(s, v);
                set_host(&mut ev, &h);
                i = h.end;
                if colon_sep(b, i) {
                    text_at = Some(i + 2);
                    break;
                }
                continue;
            }
            let (val, end) = value_at(s, v);
            let quoted = matches!(b.get(v), Some(b'"') | Some(b'<'));
            let (val, sep) = if quoted {
                (val, colon_sep(b, end))
            } else {
                strip_colon(val)
            };
            match tag {
                b"R" => ev.router = Some(val),
                b"T" => ev.transport = Some(val),
                b"F" => ev.sender = Some(unangle(val)),
                // The return path (`return_path_on_delivery`): the sender when `F=` is absent.
                b"P" if ev.sender.is_none() => ev.sender = Some(unangle(val)),
                b"S" => ev.size = parse_u64(val),
                b"C" if ev.kind != Kind::Bounced && ev.kind != Kind::Deferred => {
                    ev.text = Some(val)
                }
                _ => {}
            }
            i = end;
            if sep {
                text_at = Some((end + if quoted { 2 } else { 1 }).min(n));
                break;
            }
            continue;
        }
        if failing {
            let rest = &s[i..];
            let d = if rest.starts_with("defer (") {
                Some(i + 7)
            } else if rest.starts_with("routing defer (") {
                Some(i + 15)
            } else {
                None
            };
            if let Some(d) = d {
                let Some(close) = find_near(b, d, b')') else {
                    break;
                };
                errno = Some(&s[d..close]);
                i = close + 1;
                if colon_sep(b, i) {
                    text_at = Some((i + 2).min(n));
                    break;
                }
                continue;
            }
            // Bare words of a delivery line (L, K, PRDR, …) never appear here; any other word
            // starts the error text (`** addr mua_wrapper forced failure …`).
            if !is_bare_flag(&b[i..token_end(b, i)]) {
                text_at = Some(i);
                break;
            }
        }
        i = token_end(b, i);
    }
    if let Some(t) = text_at {
        let t = t.min(n);
        if t < n {
            let mut text = &s[t..];
            // A trailing ` DT=1.2s` (`deliver_time`) is not part of the message.
            if let Some(p) = text.rfind(" DT=")
                && !text[p + 1..].contains(' ')
            {
                text = &text[..p];
            }
            ev.text = Some(text);
        }
    }
    if failing {
        finish_failure(&mut ev, errno);
    }
    Some(ev)
}

/// Bare words that can appear among the fields of delivery lines.
fn is_bare_flag(w: &[u8]) -> bool {
    matches!(
        w,
        b"L" | b"L*" | b"L." | b"L-" | b"K" | b"PRDR" | b"DS" | b"TFO" | b"TFO*" | b"*"
    )
}

/// Code, status, remote host named in the text, retry-not-due and cPanel limits of a `**` or
/// `==` line.
fn finish_failure<'a>(ev: &mut Event<'a>, errno: Option<&'a str>) {
    if let Some(text) = ev.text {
        // Positive errno: `defer (110): Connection timed out H=host [ip]: SMTP timeout …`.
        if ev.host.is_none() {
            if let Some(p) = memmem::find(text.as_bytes(), b" H=") {
                let h = host_at(text, p + 3);
                set_host(ev, &h);
            } else if let Some(p) = memmem::find(text.as_bytes(), b": host ") {
                // Old form: `SMTP error from remote mailer after …: host name [ip]: 550 …`.
                let h = host_at(text, p + 7);
                if h.ip.is_some() {
                    set_host(ev, &h);
                }
            }
        }
        let (code, status) = smtp_code(text);
        ev.code = code;
        ev.status = status;
    }
    if ev.kind == Kind::Deferred {
        let n = errno.and_then(parse_i64);
        ev.retry_not_due = matches!(n, Some(-54..=-52))
            || ev
                .text
                .is_some_and(|t| memmem::find(t.as_bytes(), b"retry time not reached").is_some());
    }
    let enforce = ev
        .router
        .is_some_and(|r| r.starts_with("enforce_mail_permissions"));
    if enforce
        || ev
            .text
            .is_some_and(|t| t.starts_with("Domain ") && t.contains(" has exceeded the max "))
    {
        ev.limit = Some(cpanel_limit(ev.text.unwrap_or("")));
        if let Some(d) = ev.limit.and_then(|l| l.domain) {
            ev.domain = Some(d);
        }
    }
}

/// The first SMTP reply code in `text` (at its start or after a `": "`), and the enhanced
/// status code right after it.
fn smtp_code(text: &str) -> (Option<u16>, Option<&str>) {
    let b = text.as_bytes();
    let mut i = 0;
    loop {
        if let Some(r) = code_at(text, i) {
            return r;
        }
        match memmem::find(&b[i..], b": ") {
            Some(p) => i += p + 2,
            None => return (None, None),
        }
    }
}

fn code_at(text: &str, i: usize) -> Option<(Option<u16>, Option<&str>)> {
    let b = text.as_bytes();
    let c = b.get(i..i + 3)?;
    if !(b'2'..=b'5').contains(&c[0]) || !c[1].is_ascii_digit() || !c[2].is_ascii_digit() {
        return None;
    }
    match b.get(i + 3) {
        None => {}
        Some(b' ') | Some(b'-') => {}
        Some(b'\\') if b.get(i + 4) == Some(&b'n') => {}
        _ => return None,
    }
    let code = (c[0] - b'0') as u16 * 100 + (c[1] - b'0') as u16 * 10 + (c[2] - b'0') as u16;
    Some((Some(code), enhanced_status(text, i + 4)))
}

/// `X.Y.Z` at `i`, followed by a space, the end or a `\n`.
fn enhanced_status(text: &str, i: usize) -> Option<&str> {
    let b = text.as_bytes();
    let first = *b.get(i)?;
    if !(b'2'..=b'5').contains(&first) || b.get(i + 1) != Some(&b'.') {
        return None;
    }
    let mut j = i + 2;
    let mut parts = 1;
    let mut digits = 0;
    while j < b.len() {
        match b[j] {
            c if c.is_ascii_digit() => {
                digits += 1;
                if digits > 3 {
                    return None;
                }
            }
            b'.' if digits > 0 && parts == 1 => {
                parts += 1;
                digits = 0;
            }
            _ => break,
        }
        j += 1;
    }
    if parts != 2 || digits == 0 {
        return None;
    }
    match b.get(j) {
        None | Some(b' ') | Some(b'\\') | Some(b';') | Some(b',') => Some(&text[i..j]),
        _ => None,
    }
}

/// The figures of a cPanel `R=enforce_mail_permissions` text.
fn cpanel_limit(text: &str) -> Limit<'_> {
    let kind = if text.contains("max defers and failures") {
        LimitKind::DeferFail
    } else if text.contains("max emails per hour") {
        LimitKind::EmailsPerHour
    } else {
        LimitKind::Other
    };
    let domain = text
        .strip_prefix("Domain ")
        .or_else(|| text.strip_prefix("Sender "))
        .and_then(|r| r.split_once(' '))
        .map(|(d, _)| d)
        .filter(|d| !d.is_empty());
    let mut lim = Limit {
        kind,
        domain,
        count: None,
        max: None,
        percent: None,
    };
    if kind != LimitKind::Other
        && let Some(p) = text.find("per hour (")
    {
        figures(&text[p + 10..], &mut lim);
    }
    lim
}

/// `N/M (P%))`, `N (P%))` or `N)`.
fn figures(s: &str, lim: &mut Limit<'_>) {
    let num_end = |s: &str| {
        let b = s.as_bytes();
        let mut j = usize::from(b.first() == Some(&b'-'));
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    let e = num_end(s);
    lim.count = parse_i64(&s[..e]);
    let mut r = &s[e..];
    if let Some(x) = r.strip_prefix('/') {
        let e = num_end(x);
        lim.max = parse_i64(&x[..e]);
        r = &x[e..];
    }
    if let Some(x) = r.strip_prefix(" (") {
        let e = num_end(x);
        if x[e..].starts_with('%') {
            lim.percent = parse_i64(&x[..e]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Session lines: `H=… [U=…] [I=…] [X=…] [F=<…>] rejected RCPT <r>: reason` and friends
// ---------------------------------------------------------------------------------------

/// Reads leading connection fields (`H= U= I= X= CV= F= P= A= Ci= SNI= DN= …`).
/// Returns the index of the first word that is not a field, or `None` when there was none.
fn session_fields<'a>(ev: &mut Event<'a>, s: &'a str) -> Option<usize> {
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
fn rejected<'a>(mut ev: Event<'a>, s: &'a str) -> Event<'a> {
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
fn session<'a>(mut ev: Event<'a>, s: &'a str) -> Option<Event<'a>> {
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

// ---------------------------------------------------------------------------------------
// Message-scoped word lines (with a message ID)
// ---------------------------------------------------------------------------------------

fn message_line<'a>(mut ev: Event<'a>, s: &'a str) -> Option<Event<'a>> {
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
fn sender_identification<'a>(mut ev: Event<'a>, s: &'a str) -> Event<'a> {
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
fn identification<'a>(mut ev: Event<'a>, s: &'a str, from: usize) -> Event<'a> {
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

// ---------------------------------------------------------------------------------------
// Word lines (mostly without a message ID)
// ---------------------------------------------------------------------------------------

/// Host information after `from ` etc.: 4.99 prefixes it with `H=`.
fn host_after<'a>(ev: &mut Event<'a>, s: &'a str, i: usize) -> usize {
    let i = if s[i.min(s.len())..].starts_with("H=") {
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

fn other_line<'a>(mut ev: Event<'a>, s: &'a str) -> Option<Event<'a>> {
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
        // `rejected MAIL from [ip]: no HELO/EHLO given`, `rejected EHLO from …`
        let mut ev = rejected(ev, r);
        if let Some(p) = s.find(" H=") {
            host_after(&mut ev, s, p + 1);
        } else if let Some(p) = s.find(" from ") {
            let h = host_at(s, p + 6);
            if h.ip.is_some() {
                set_host(&mut ev, &h);
            }
        }
        return Some(ev);
    }
    if let Some(r) = s.strip_prefix("temporarily rejected ") {
        return Some(rejected(ev, r));
    }
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
            host_after(&mut ev, s, at);
            return Some(ev);
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
            let e = host_after(&mut ev, s, p + len);
            let j = skip_conn_fields(s, e);
            if j < s.len() {
                ev.text = Some(&s[j..]);
            }
        }
        return Some(ev);
    }
    if (s.starts_with("Start ") || s.starts_with("End ")) && s.contains("queue run") {
        return Some(info(ev, s));
    }
    if let Some(r) = s.strip_prefix("no host name found for IP address ") {
        ev.ip = Some(&r[..token_end(r.as_bytes(), 0)]);
        return Some(info(ev, s));
    }
    if s.starts_with("no IP address found for host ") {
        if let Some(p) = s.find("connection from ") {
            host_after(&mut ev, s, p + 16);
        }
        return Some(info(ev, s));
    }
    if s.starts_with("Sender identification ") {
        return Some(sender_identification(ev, s));
    }
    if s.starts_with("nobody send identification ") {
        return Some(identification(ev, s, 27));
    }
    if s.starts_with("check_mail_permissions ") {
        ev.kind = Kind::Warning;
        ev.text = Some(s);
        if let Some(p) = s.find("for domain ") {
            let r = &s[p + 11..];
            ev.domain = Some(&r[..token_end(r.as_bytes(), 0)]).filter(|d| !d.is_empty());
        }
        return Some(ev);
    }
    if let Some(r) = s.strip_prefix("VRFY failed for ") {
        // `VRFY failed for <x@y> H=(helo) [ip] U=user`
        ev.kind = Kind::Rejected;
        ev.text = Some(s);
        let start = s.len() - r.len();
        let (addr, end) = value_at(s, start);
        ev.recipient = Some(addr);
        if let Some(rest) = s.get(end + 1..) {
            let _ = session_fields(&mut ev, rest);
        }
        return Some(ev);
    }
    // `exim 4.96 daemon started: pid=…`, `pid 27421: SIGHUP received: re-exec daemon`
    if s.starts_with("exim ") && memmem::find(b, b" daemon started").is_some() {
        return Some(info(ev, s));
    }
    if let Some(r) = s.strip_prefix("pid ")
        && r.split_once(": ")
            .is_some_and(|(_, m)| m.starts_with("SIGHUP"))
    {
        return Some(info(ev, s));
    }
    // `[ip] SSL verify error: depth=0 error=… cert=…`
    if b[0] == b'['
        && let Some(p) = memchr(b']', b)
        && s[p..].starts_with("] SSL verify error")
    {
        ev.kind = Kind::ProtocolError;
        ev.ip = Some(&s[1..p]);
        ev.text = Some(s);
        return Some(ev);
    }
    for &(p, kind) in WORDS {
        if s.starts_with(p) {
            ev.kind = kind;
            ev.text = Some(if p == "Warning: " { &s[9..] } else { s });
            return Some(ev);
        }
    }
    None
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
        ev.text = Some(s[j.min(s.len())..].trim_start());
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

fn info<'a>(mut ev: Event<'a>, s: &'a str) -> Event<'a> {
    ev.kind = Kind::Info;
    ev.text = Some(s);
    ev
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
        if s[i.min(s.len())..].starts_with("identification ") {
            return Some(identification(ev, s, i + 15));
        }
        return Some(ev);
    };
    let start = s.len() - r.len();
    let e = host_after(&mut ev, s, start);
    let j = skip_conn_fields(s, e);
    let rest = &s[j.min(s.len())..];
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
