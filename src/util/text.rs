//! Small text helpers shared by every output: digit grouping, reply unwrapping, cell
//! shortening and cutting, word wrapping, percentages, rounding, plurals.

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Which MTA wrapping [`unwrap_reply`] removes from a reply text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wrapping {
    /// Table cells: Exim's "SMTP error from remote mail server after …: " and "LMTP error
    /// after …: " prefixes (the command part ends after the address, at `>: `, else at the
    /// first `: `), Postfix's `host mx[ip] said: ` and any "(in reply to …)" tail.
    Cell,
    /// Diagnosis evidence: Exim's two SMTP prefixes up to the first `: ` (each removed in
    /// turn), Postfix's `host mx[ip] said: ` and the tail only as "(in reply to … command)".
    Evidence,
}

/// The part of an error text worth reading: the remote reply without the MTA's wrapping
/// (see [`Wrapping`]). JSON and CSV keep the full text.
pub(crate) fn unwrap_reply(text: &str, wrapping: Wrapping) -> &str {
    let mut t = text.trim();
    let prefixes: &[&str] = match wrapping {
        Wrapping::Cell => &[
            "SMTP error from remote mail server after ",
            "SMTP error from remote mailer after ",
            "LMTP error after ",
        ],
        Wrapping::Evidence => &[
            "SMTP error from remote mail server after ",
            "SMTP error from remote mailer after ",
        ],
    };
    for prefix in prefixes {
        if let Some(rest) = t.strip_prefix(prefix) {
            let end = match wrapping {
                // The command part ends at the first ": " after it (RCPT TO:<x>: 550 …).
                Wrapping::Cell => rest
                    .find(">: ")
                    .map(|i| i + 3)
                    .or_else(|| rest.find(": ").map(|i| i + 2)),
                Wrapping::Evidence => rest.find(": ").map(|i| i + 2),
            };
            if let Some(i) = end {
                t = &rest[i..];
            }
            if wrapping == Wrapping::Cell {
                break;
            }
        }
    }
    if let Some(i) = t.find(" said: ")
        && t.starts_with("host ")
    {
        t = &t[i + 7..];
    }
    let tail_ok = match wrapping {
        Wrapping::Cell => t.ends_with(')'),
        Wrapping::Evidence => t.ends_with(" command)"),
    };
    if tail_ok && let Some(i) = t.rfind(" (in reply to ") {
        t = &t[..i];
    }
    t
}

/// The reply of an error text in a narrow table column ([`Wrapping::Cell`]).
pub(crate) fn reply_part(text: &str) -> &str {
    unwrap_reply(text, Wrapping::Cell)
}

/// Characters of a reply quoted in diagnosis evidence.
pub(crate) const EVIDENCE_REPLY_CHARS: usize = 110;

/// The reply of an error text as diagnosis evidence quotes it ([`Wrapping::Evidence`]): on
/// one line and cut to [`EVIDENCE_REPLY_CHARS`].
pub(crate) fn short_reply(text: &str) -> String {
    shorten(unwrap_reply(text, Wrapping::Evidence), EVIDENCE_REPLY_CHARS)
}

/// Text on one line for a table cell: joins Exim's literal `\n` line breaks and collapses
/// whitespace.
pub fn one_line(text: &str) -> String {
    let joined = text.replace("\\n", " ");
    let mut s = String::with_capacity(joined.len());
    let mut last_space = false;
    for c in joined.chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        s.push(c);
    }
    s.trim().to_string()
}

/// [`one_line`], cut at `max` characters with an ellipsis.
pub fn shorten(text: &str, max: usize) -> String {
    let s = one_line(text);
    if s.chars().count() <= max {
        s
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Cuts `s` to at most `n` characters, marking the cut with `…` (which comes on top of the
/// `n`). Unlike [`shorten`], whitespace is kept as it is.
pub fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", &s[..i]),
    }
}

/// Word-wraps a paragraph to `width` characters; a word longer than that is cut into pieces.
pub(crate) fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    let width = width.max(1);
    // A word longer than the width (a hostile address) is cut into pieces.
    let words = s.split(' ').flat_map(|w| {
        let chars: Vec<char> = w.chars().collect();
        if chars.len() <= width {
            vec![w.to_string()]
        } else {
            chars.chunks(width).map(|c| c.iter().collect()).collect()
        }
    });
    for word in words {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Rounds to one decimal, for JSON figures.
pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `part` as a percentage of `whole` with one decimal (`12.5%`), `-` when `whole` is 0.
pub fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

/// `part` as a whole percentage of `whole`, rounded; 0 when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        0
    } else {
        (part as f64 * 100.0 / whole as f64).round() as u64
    }
}

/// `1 recipient`, `2 recipients`.
pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(12403), "12,403");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn reply_part_strips_mta_wrappers() {
        assert_eq!(
            reply_part(
                "SMTP error from remote mail server after RCPT TO:<a@b.example>: 550 5.1.1 no such user"
            ),
            "550 5.1.1 no such user"
        );
        assert_eq!(
            reply_part(
                "host mx.example.net[192.0.2.1] said: 550 5.1.1 <a@b>: unknown (in reply to RCPT TO command)"
            ),
            "550 5.1.1 <a@b>: unknown"
        );
        assert_eq!(reply_part("Connection timed out"), "Connection timed out");
    }

    #[test]
    fn evidence_wrapping_is_stricter_than_cells() {
        let data = "SMTP error from remote mail server after end of data: 550 5.7.1 <a@b>: spam";
        assert_eq!(reply_part(data), "spam");
        assert_eq!(
            unwrap_reply(data, Wrapping::Evidence),
            "550 5.7.1 <a@b>: spam"
        );
        let lmtp = "LMTP error after RCPT TO:<a@b>: 452 full";
        assert_eq!(reply_part(lmtp), "452 full");
        assert_eq!(unwrap_reply(lmtp, Wrapping::Evidence), lmtp);
        let tail = "host mx[192.0.2.1] said: 550 no (in reply to end of DATA)";
        assert_eq!(reply_part(tail), "550 no");
        assert_eq!(
            unwrap_reply(tail, Wrapping::Evidence),
            "550 no (in reply to end of DATA)"
        );
        assert_eq!(
            short_reply(
                "SMTP error from remote mail server after RCPT TO:<a@b.example>: 550 5.1.1 no"
            ),
            "550 5.1.1 no"
        );
    }

    #[test]
    fn figures() {
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(round1(12.345), 12.3);
        assert_eq!(pct(1, 8), "12.5%");
        assert_eq!(pct(1, 0), "-");
        assert_eq!(percent(2, 3), 67);
        assert_eq!(percent(2, 0), 0);
        assert_eq!(plural(1, "IP", "IPs"), "1 IP");
        assert_eq!(plural(0, "IP", "IPs"), "0 IPs");
    }

    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("", 5), vec![""]);
        assert_eq!(wrap("abcdefghij x", 4), vec!["abcd", "efgh", "ij x"]);
    }

    #[test]
    fn shorten_joins_multiline_replies_and_cuts() {
        assert_eq!(
            shorten("550-5.1.1 a\\n550 5.1.1 b", 80),
            "550-5.1.1 a 550 5.1.1 b"
        );
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("  a   b  ", 10), "a b");
    }
}
