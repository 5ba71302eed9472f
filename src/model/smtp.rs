//! The grammar of SMTP reply codes (RFC 5321 §4.2) and enhanced status codes (RFC 3463), the
//! one copy the Exim parser, the Postfix lexer and the classifier read them with.
//!
//! These functions read a code at the start of a byte string and say how long it is; what may
//! come before or after it (a space, a `-` continuation mark, Exim's literal `\n`, a closing
//! parenthesis) depends on where the code stands, and each caller checks that itself.

/// An enhanced status code `class.subject.detail` (RFC 3463), e.g. `5.1.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Status {
    /// 2 (success), 4 (persistent transient failure) or 5 (permanent failure).
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl Status {
    /// Reads a status at the start of `b`: class 2, 4 or 5, then `.subject.detail` with 1–3
    /// digits each. Returns the status and its length in bytes.
    pub(crate) fn lex(b: &[u8]) -> Option<(Status, usize)> {
        let class = match b.first()? {
            c @ (b'2' | b'4' | b'5') => c - b'0',
            _ => return None,
        };
        if b.get(1) != Some(&b'.') {
            return None;
        }
        let (subject, end) = number(b, 2)?;
        if b.get(end) != Some(&b'.') {
            return None;
        }
        let (detail, end) = number(b, end + 1)?;
        Some((
            Status {
                class,
                subject,
                detail,
            },
            end,
        ))
    }

    /// A string that is a status and nothing else, optionally after a `#` (qmail's
    /// `(#5.1.1)`).
    pub fn parse(s: &str) -> Option<Status> {
        let b = s.strip_prefix('#').unwrap_or(s).as_bytes();
        match Status::lex(b) {
            Some((st, len)) if len == b.len() => Some(st),
            _ => None,
        }
    }
}

/// A run of 1–3 digits at `i` and the index after it; `None` for no digit or more than three.
fn number(b: &[u8], i: usize) -> Option<(u16, usize)> {
    let mut n = 0u16;
    let mut j = i;
    while let Some(&c) = b.get(j).filter(|c| c.is_ascii_digit()) {
        if j - i == 3 {
            return None;
        }
        n = n * 10 + u16::from(c - b'0');
        j += 1;
    }
    (j > i).then_some((n, j))
}

/// Reads a basic reply code at the start of `b`: three digits, the first 2–5.
pub(crate) fn reply_code(b: &[u8]) -> Option<u16> {
    match b.get(..3)? {
        &[c0 @ b'2'..=b'5', c1, c2] if c1.is_ascii_digit() && c2.is_ascii_digit() => {
            Some(u16::from(c0 - b'0') * 100 + u16::from(c1 - b'0') * 10 + u16::from(c2 - b'0'))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_codes() {
        assert_eq!(reply_code(b"550 no"), Some(550));
        assert_eq!(reply_code(b"250"), Some(250));
        assert_eq!(
            reply_code(b"5500"),
            Some(550),
            "what follows is the caller's"
        );
        assert_eq!(reply_code(b"650 x"), None);
        assert_eq!(reply_code(b"55"), None);
        assert_eq!(reply_code(b"5x0"), None);
    }

    #[test]
    fn statuses() {
        let st = |class, subject, detail| Status {
            class,
            subject,
            detail,
        };
        assert_eq!(Status::lex(b"5.1.1 x"), Some((st(5, 1, 1), 5)));
        assert_eq!(Status::lex(b"4.7.650;"), Some((st(4, 7, 650), 7)));
        assert_eq!(Status::lex(b"5.123.456"), Some((st(5, 123, 456), 9)));
        assert_eq!(Status::lex(b"5.1.1234"), None);
        assert_eq!(Status::lex(b"5.1234.1"), None);
        assert_eq!(Status::lex(b"3.1.1"), None);
        assert_eq!(Status::lex(b"5.1"), None);
        assert_eq!(Status::lex(b"5.1."), None);
        assert_eq!(Status::lex(b"5..1"), None);
        assert_eq!(Status::parse("#5.1.1"), Some(st(5, 1, 1)));
        assert_eq!(Status::parse("5.1.1."), None);
        assert_eq!(Status::parse(""), None);
    }
}
