//! The line prefix: the `[pid] ` of the `+pid` log selector and the message ID in either
//! format (16-character `TTTTTT-PPPPPP-SS`, 4.97+ 23-character `TTTTTT-PPPPPPPPPPP-SSSS`).

use memchr::memchr;

/// Removes a leading `[pid] ` (`+pid` log selector).
pub(super) fn strip_pid(s: &str) -> &str {
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
pub(super) fn split_id(s: &str) -> (Option<&str>, &str) {
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
pub(super) fn is_message_id(s: &str) -> bool {
    matches!(split_id(s), (Some(id), "") if id.len() == s.len())
}
