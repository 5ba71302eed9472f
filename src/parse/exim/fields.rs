//! Small scanning helpers shared by the line parsers: tokens, quoted and angle-bracketed
//! values, `TAG=` field tags, separators, numbers and the reply code of a text.

use memchr::{memchr, memchr2, memmem};

use crate::model::smtp::{self, Status};

/// Index of the next space at or after `i`, or the end.
#[inline]
pub(super) fn token_end(b: &[u8], i: usize) -> usize {
    match memchr(b' ', &b[i.min(b.len())..]) {
        Some(p) => i + p,
        None => b.len(),
    }
}

/// How far ahead a closing `>` or `)` is looked for. Addresses, HELO names and parent lists
/// are far shorter; the bound keeps lines of many unclosed brackets linear.
pub(super) const LOOKAHEAD: usize = 2048;

/// Index of `c` at or after `i`, within [`LOOKAHEAD`] bytes.
#[inline]
pub(super) fn find_near(b: &[u8], i: usize, c: u8) -> Option<usize> {
    let end = b.len().min(i.saturating_add(LOOKAHEAD));
    memchr(c, b.get(i..end)?).map(|p| i + p)
}

/// Index of the `"` closing a quoted string whose opening quote is at `open`; backslash
/// escapes are skipped. `None` when unterminated.
pub(super) fn quote_end(b: &[u8], open: usize) -> Option<usize> {
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
pub(super) fn tag_at(b: &[u8], i: usize) -> Option<(&[u8], usize)> {
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
pub(super) fn value_at(s: &str, i: usize) -> (&str, usize) {
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
pub(super) fn colon_sep(b: &[u8], i: usize) -> bool {
    b.get(i) == Some(&b':') && matches!(b.get(i + 1), None | Some(b' '))
}

/// Strips a trailing `:` from a plain token value; true when it had one.
#[inline]
pub(super) fn strip_colon(v: &str) -> (&str, bool) {
    match v.strip_suffix(':') {
        Some(x) => (x, true),
        None => (v, false),
    }
}

pub(super) fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

pub(super) fn parse_i64(s: &str) -> Option<i64> {
    let d = s.strip_prefix('-').unwrap_or(s);
    if d.is_empty() || d.len() > 18 || !d.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `<>` is the null sender `""`; otherwise the address without angle brackets.
pub(super) fn unangle(v: &str) -> &str {
    v.strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(v)
}

/// The first SMTP reply code in `text` (at its start or after a `": "`), and the enhanced
/// status code right after it.
pub(super) fn smtp_code(text: &str) -> (Option<u16>, Option<&str>) {
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

/// A reply code at `i`, followed by the end, a space, a `-` or Exim's literal `\n`, and the
/// status after its separator.
fn code_at(text: &str, i: usize) -> Option<(Option<u16>, Option<&str>)> {
    let b = text.as_bytes();
    let code = smtp::reply_code(b.get(i..)?)?;
    match b.get(i + 3) {
        None => {}
        Some(b' ') | Some(b'-') => {}
        Some(b'\\') if b.get(i + 4) == Some(&b'n') => {}
        _ => return None,
    }
    Some((Some(code), enhanced_status(text, i + 4)))
}

/// An enhanced status at `i`, followed by the end, a space, a `\n`, a `;` or a `,`.
fn enhanced_status(text: &str, i: usize) -> Option<&str> {
    let b = text.as_bytes();
    let (_, len) = Status::lex(b.get(i..)?)?;
    match b.get(i + len) {
        None | Some(b' ') | Some(b'\\') | Some(b';') | Some(b',') => Some(&text[i..i + len]),
        _ => None,
    }
}
