//! Normalising a reply text before it is matched: lower case, multi-line replies joined,
//! a leading diagnostic type dropped, reply-code and enhanced-status tokens removed (and the
//! first of each kept).

use crate::model::smtp::{self, Status};

/// A normalised reply: the text used for matching plus the first code and status found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Normalised {
    pub(super) code: Option<u16>,
    pub(super) status: Option<Status>,
    pub(super) text: String,
}

/// Lower-cases `raw`, joins multi-line replies (literal `\n` or real line breaks) with
/// spaces, collapses runs of white space, drops a leading diagnostic type (`smtp;`) and
/// removes reply-code and enhanced-status tokens (`550`, `550-`, `550-5.1.1`, `5.1.1`,
/// `(#5.1.1)`). A three-digit code is only removed where it is clearly a code: at the start
/// of a line, before a status, after a `:`, or with a `-` continuation mark.
pub fn normalise(raw: &str) -> String {
    normalise_full(raw).text
}

pub(super) fn normalise_full(raw: &str) -> Normalised {
    // Pass 1: lower case; `\n` (two characters) and line breaks become '\n'; other control
    // and white-space characters become ' '.
    let mut buf: Vec<u8> = Vec::with_capacity(raw.len() + 8);
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() {
            match b {
                b'\\' if bytes.get(i + 1) == Some(&b'n') => {
                    buf.push(b'\n');
                    i += 1;
                }
                b'\n' | b'\r' => buf.push(b'\n'),
                0..=0x1f | 0x7f => buf.push(b' '),
                _ => buf.push(b.to_ascii_lowercase()),
            }
            i += 1;
        } else {
            let c = raw[i..].chars().next().unwrap_or(' ');
            if c.is_whitespace() || c.is_control() {
                buf.push(b' ');
            } else {
                let mut utf8 = [0; 4];
                for l in c.to_lowercase() {
                    buf.extend_from_slice(l.encode_utf8(&mut utf8).as_bytes());
                }
            }
            i += c.len_utf8();
        }
    }
    // Only whole characters were pushed, so this cannot fail.
    let buf = String::from_utf8(buf).unwrap_or_default();

    // Drop a leading diagnostic type such as `smtp;` or `x-postfix;`.
    let mut s = buf.trim_start_matches([' ', '\n']);
    if let Some(i) = s.find(';')
        && i <= 16
        && s[..i].bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
    {
        s = &s[i + 1..];
    }

    // Pass 2: tokens, line by line.
    let mut out = String::with_capacity(s.len());
    let mut code = None;
    let mut status = None;
    let push = |out: &mut String, tok: &str| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(tok);
    };
    for line in s.split('\n') {
        let mut toks = line.split(' ').filter(|t| !t.is_empty()).peekable();
        let mut prev: Option<&str> = None;
        while let Some(tok) = toks.next() {
            // Fast path: codes and statuses start with 2, 4 or 5 (after `#`, `(`, ...).
            let lead = tok
                .bytes()
                .find(|b| !matches!(b, b'#' | b'(' | b'[' | b'<' | b'\'' | b'"'));
            if !matches!(lead, Some(b'2' | b'4' | b'5')) {
                push(&mut out, tok);
                prev = Some(tok);
                continue;
            }
            let core = trim_punct(tok);
            if let Some(st) = status_token(core) {
                status.get_or_insert(st);
            } else if let Some((c, rest)) = code_token(tok) {
                let line_start = prev.is_none();
                let after_colon = prev.is_some_and(|p| p.ends_with(':'));
                let before_status = toks
                    .peek()
                    .is_some_and(|n| status_token(trim_punct(n)).is_some());
                if rest.is_some() || line_start || after_colon || before_status {
                    code.get_or_insert(c);
                    if let Some(rest) = rest {
                        if let Some(st) = status_token(trim_punct(rest)) {
                            status.get_or_insert(st);
                        } else if !rest.is_empty() {
                            push(&mut out, rest);
                        }
                    }
                } else {
                    push(&mut out, tok);
                }
            } else {
                push(&mut out, tok);
            }
            prev = Some(tok);
        }
    }
    Normalised {
        code,
        status,
        text: out,
    }
}

fn trim_punct(tok: &str) -> &str {
    tok.trim_start_matches(['#', '(', '[', '<', '\'', '"'])
        .trim_end_matches([')', ']', '>', '\'', '"', ',', ';', ':', '.'])
}

/// `5.1.1` with a one-digit subject (so that versions like `4.94.2` are not taken).
fn status_token(core: &str) -> Option<Status> {
    let b = core.as_bytes();
    if b.len() < 5 || b.len() > 9 || b[1] != b'.' || b[3] != b'.' || !b[2].is_ascii_digit() {
        return None;
    }
    Status::parse(core)
}

/// A reply-code token: `550`, `#550`, `550:`, `(550)` → `(550, None)`; `550-` or
/// `550-rest` → `(550, Some(rest))` (a continuation line).
fn code_token(tok: &str) -> Option<(u16, Option<&str>)> {
    let t = tok.trim_start_matches(['#', '(', '[', '\'', '"']);
    // A 3xx reply is an intermediate one, never the code of a failure.
    let code = smtp::reply_code(t.as_bytes()).filter(|c| c / 100 != 3)?;
    let tail = &t[3..];
    if let Some(rest) = tail.strip_prefix('-') {
        return Some((code, Some(rest)));
    }
    if tail
        .bytes()
        .all(|b| matches!(b, b':' | b')' | b']' | b',' | b'\'' | b'"'))
    {
        return Some((code, None));
    }
    None
}
