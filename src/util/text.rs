//! Small text helpers shared by every output: digit grouping, reply unwrapping, cell
//! shortening.

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

/// The part of an error text worth reading in a narrow column: without Exim's "SMTP error
/// from remote mail server after RCPT TO:<…>: " and Postfix's "host mx[ip] said: " prefixes
/// and the "(in reply to … command)" tail. JSON and CSV keep the full text.
pub fn reply_part(text: &str) -> &str {
    let mut t = text.trim();
    for prefix in [
        "SMTP error from remote mail server after ",
        "SMTP error from remote mailer after ",
        "LMTP error after ",
    ] {
        if let Some(rest) = t.strip_prefix(prefix) {
            // The command part ends at the first ": " after it (RCPT TO:<x>: 550 …).
            if let Some(i) = rest
                .find(">: ")
                .map(|i| i + 3)
                .or_else(|| rest.find(": ").map(|i| i + 2))
            {
                t = &rest[i..];
            }
            break;
        }
    }
    if let Some(i) = t.find(" said: ")
        && t.starts_with("host ")
    {
        t = &t[i + 7..];
    }
    if let Some(i) = t.rfind(" (in reply to ")
        && t.ends_with(')')
    {
        t = &t[..i];
    }
    t
}

/// Shortens text for a table cell: joins Exim's literal `\n` line breaks, collapses
/// whitespace and cuts at `max` characters with an ellipsis.
pub fn shorten(text: &str, max: usize) -> String {
    let joined = text.replace("\\n", " ");
    let mut s = String::with_capacity(joined.len().min(max + 4));
    let mut last_space = false;
    for c in joined.chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        s.push(c);
    }
    let s = s.trim().to_string();
    if s.chars().count() <= max {
        s
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
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
    fn shorten_joins_multiline_replies_and_cuts() {
        assert_eq!(
            shorten("550-5.1.1 a\\n550 5.1.1 b", 80),
            "550-5.1.1 a 550 5.1.1 b"
        );
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("  a   b  ", 10), "a b");
    }
}
