//! Delivery, deferral and failure lines (`=> -> >> *> == **`): the address, the fields, the
//! error text, and what a failure's text says (reply code, remote host, retry, cPanel limit).

use memchr::{memchr, memmem};

use super::fields::{
    colon_sep, find_near, parse_i64, parse_u64, quote_end, smtp_code, strip_colon, tag_at,
    token_end, unangle, value_at,
};
use super::host::{host_at, set_host};
use crate::model::event::{Event, Kind, Limit, LimitKind};

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
pub(super) fn address_end(s: &str, i: usize, failure: bool) -> usize {
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

/// A delivery, deferral or failure line after its flag: the address, then the fields, then
/// the error (or `C=` confirmation) text.
pub(super) fn delivery<'a>(mut ev: Event<'a>, s: &'a str) -> Option<Event<'a>> {
    let failing = matches!(ev.kind, Kind::Bounced | Kind::Deferred);
    let i = address_end(s, 0, failing);
    if i == 0 {
        return None;
    }
    ev.recipient = Some(&s[..i]);
    let mut errno: Option<&str> = None;
    let text_at = if colon_sep(s.as_bytes(), i) {
        Some(i + 2)
    } else {
        delivery_items(&mut ev, s, i, failing, &mut errno)
    };
    if let Some(t) = text_at {
        set_text(&mut ev, s, t);
    }
    if failing {
        finish_failure(&mut ev, errno);
    }
    Some(ev)
}

/// Where reading a delivery line goes on after one item.
enum Step {
    /// The next item is at or after this index.
    At(usize),
    /// The text starts at this index (the end of the line when it is past it).
    Text(usize),
    /// An unterminated item: stop, without a text.
    Stop,
}

/// Reads the items after the address from `i` on; returns where the text starts, if any.
/// `errno` receives the number of a `defer (N)` / `routing defer (N)`.
fn delivery_items<'a>(
    ev: &mut Event<'a>,
    s: &'a str,
    mut i: usize,
    failing: bool,
    errno: &mut Option<&'a str>,
) -> Option<usize> {
    let b = s.as_bytes();
    let n = b.len();
    while i < n {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        let step = match b[i] {
            b'(' => parents(b, i),
            b'<' => original(ev, s, i),
            // ` : message` (4.99+)
            b':' if matches!(b.get(i + 1), None | Some(b' ')) => Step::Text(i + 2),
            _ => match tag_at(b, i) {
                Some((tag, v)) => field(ev, s, tag, v),
                None if failing => failure_word(s, i, errno),
                None => Step::At(token_end(b, i)),
            },
        };
        match step {
            Step::At(j) => i = j,
            Step::Text(t) => return Some(t),
            Step::Stop => return None,
        }
    }
    None
}

/// After an item that ends at `i`: the text when a separator follows, else the next item.
fn after_item(b: &[u8], i: usize) -> Step {
    if colon_sep(b, i) {
        Step::Text(i + 2)
    } else {
        Step::At(i)
    }
}

/// `(parent, parent)` at `i`.
fn parents(b: &[u8], i: usize) -> Step {
    let end = match find_near(b, i, b')') {
        Some(p) => p + 1,
        None => token_end(b, i),
    };
    after_item(b, end)
}

/// `<original address>` at `i`; the first one that is not `system-filter` is kept.
fn original<'a>(ev: &mut Event<'a>, s: &'a str, i: usize) -> Step {
    let b = s.as_bytes();
    let Some(e) = find_near(b, i, b'>') else {
        return Step::At(token_end(b, i));
    };
    let orig = &s[i + 1..e];
    if ev.original_recipient.is_none() && orig != "system-filter" {
        ev.original_recipient = Some(orig);
    }
    after_item(b, e + 1)
}

/// The field `tag=` whose value starts at `v`.
fn field<'a>(ev: &mut Event<'a>, s: &'a str, tag: &[u8], v: usize) -> Step {
    let b = s.as_bytes();
    if tag == b"H" {
        let h = host_at(s, v);
        set_host(ev, &h);
        return after_item(b, h.end);
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
        b"C" if ev.kind != Kind::Bounced && ev.kind != Kind::Deferred => ev.text = Some(val),
        _ => {}
    }
    if sep {
        Step::Text(end + if quoted { 2 } else { 1 })
    } else {
        Step::At(end)
    }
}

/// A word at `i` of a deferral or failure line that is not a field: `defer (N)`,
/// `routing defer (N)`, a bare flag, or the start of the error text.
fn failure_word<'a>(s: &'a str, i: usize, errno: &mut Option<&'a str>) -> Step {
    let b = s.as_bytes();
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
            return Step::Stop;
        };
        *errno = Some(&s[d..close]);
        return after_item(b, close + 1);
    }
    // Bare words of a delivery line (L, K, PRDR, …) never appear here; any other word
    // starts the error text (`** addr mua_wrapper forced failure …`).
    if is_bare_flag(&b[i..token_end(b, i)]) {
        Step::At(token_end(b, i))
    } else {
        Step::Text(i)
    }
}

/// Sets the text that starts at `t`, without a trailing ` DT=1.2s` (`deliver_time`).
fn set_text<'a>(ev: &mut Event<'a>, s: &'a str, t: usize) {
    let t = t.min(s.len());
    if t < s.len() {
        let mut text = &s[t..];
        if let Some(p) = text.rfind(" DT=")
            && !text[p + 1..].contains(' ')
        {
            text = &text[..p];
        }
        ev.text = Some(text);
    }
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
pub(super) fn finish_failure<'a>(ev: &mut Event<'a>, errno: Option<&'a str>) {
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
        ev.retry_not_due =
            matches!(n, Some(-57..=-52) | Some(-23)) || ev.text.is_some_and(is_not_attempted_text);
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

/// Deferral texts that say no delivery was attempted, whatever the errno: the retry time,
/// or a queue-only routing (`domain matches queue_smtp_domains, or -odqs set`, in newer
/// versions `first-pass only routing due to -odqs, queue_smtp_domains or control=queue`,
/// `domain is in queue_domains`), which Exim logs with errno -1.
fn is_not_attempted_text(t: &str) -> bool {
    const TEXTS: [&[u8]; 5] = [
        b"retry time not reached",
        b"matches queue_smtp_domains",
        b"domain is in queue_domains",
        b"-odqs set",
        b"first-pass only routing",
    ];
    TEXTS
        .iter()
        .any(|p| memmem::find(t.as_bytes(), p).is_some())
}

/// The figures of a cPanel `R=enforce_mail_permissions` text.
pub(super) fn cpanel_limit(text: &str) -> Limit<'_> {
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
