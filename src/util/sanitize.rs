//! The output boundary for log-derived text: one function per kind of writer.
//!
//! Addresses, HELO names, host names, reply texts and subjects in logs are chosen by
//! strangers. Every string that came from a log passes one of these on its way out:
//!
//! | Writer                        | Function                                       |
//! |-------------------------------|------------------------------------------------|
//! | terminal, plain text, stderr  | [`clean`]                                      |
//! | CSV                           | [`csv_cell`]                                   |
//! | Markdown text and table cells | [`markdown`]                                   |
//! | Markdown code spans           | [`markdown_code`], [`markdown_code_cell`]      |
//! | JSON, NDJSON                  | [`write_json_line`], [`json_string`], [`SafeFormatter`] |
//!
//! All of them show the characters of [`is_unsafe`] escaped (`\x1b`, `\u{202e}`): C0 and C1
//! controls, ESC, DEL, bidi marks, embeddings, overrides and isolates, zero-width and other
//! invisible format characters, and the Unicode line and paragraph separators. No escape
//! sequence, bell, title change or hyperlink from a log can reach a terminal, and no text
//! can be reordered or hidden on screen.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

/// Returns true if and only if `c` must not be printed raw: C0 and C1 controls (ESC, BEL,
/// CSI U+009B, …), DEL, the Arabic letter mark, zero-width characters and LRM/RLM
/// (U+200B–U+200F), the line and paragraph separators and bidi embeddings and overrides
/// (U+2028–U+202E), word joiner, invisible operators, bidi isolates and the deprecated
/// format characters (U+2060–U+206F), the byte order mark U+FEFF and the interlinear
/// annotation characters (U+FFF9–U+FFFB). Space is safe; tab and line ends are not (a
/// value never spans lines).
pub fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != ' ')
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

/// Appends the visible escape of an unsafe character: `\xNN` below U+0100, else `\u{NNNN}`.
fn push_escape(out: &mut String, c: char) {
    // Writing to a String cannot fail.
    let _ = if (c as u32) < 0x100 {
        write!(out, "\\x{:02x}", c as u32)
    } else {
        write!(out, "\\u{{{:04x}}}", c as u32)
    };
}

/// Text safe for a terminal, plain-text reports and stderr: every [`is_unsafe`] character
/// becomes a `\xNN` / `\u{NNNN}` escape. Borrows when there is nothing to escape.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One CSV field (RFC 4180): [`clean`], then a `'` before a first character that a
/// spreadsheet would start a formula with (`=`, `+`, `-`, `@`), then quoted if it holds a
/// comma or a double quote (line ends are already escaped by [`clean`]).
pub fn csv_cell(s: &str) -> String {
    let s = clean(s);
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.into_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Characters that a backslash keeps from meaning anything in GitHub-flavoured Markdown:
/// links and images (`[ ] ( ) !`), raw HTML and autolinks (`< >`), emphasis and
/// strikethrough (`* _ ~`), code (`` ` ``), headings and references (`#`), table cells
/// (`|`), entities (`&`), math (`$`) and the backslash itself.
fn is_markdown_special(c: char) -> bool {
    matches!(
        c,
        '\\' | '`'
            | '*'
            | '_'
            | '['
            | ']'
            | '('
            | ')'
            | '<'
            | '>'
            | '#'
            | '!'
            | '|'
            | '~'
            | '&'
            | '$'
    )
}

/// Returns true if and only if the character at byte `i` of `s` is where GitHub would
/// start an autolink: the `:` of `scheme://`, `mailto:` or `xmpp:`, the `@` of an e-mail
/// address, the `.` of `www.`.
fn is_autolink_point(s: &str, i: usize, c: char) -> bool {
    let b = s.as_bytes();
    let before = |n: usize, word: &[u8]| i >= n && b[i - n..i].eq_ignore_ascii_case(word);
    match c {
        ':' => b[i + 1..].starts_with(b"//") || before(6, b"mailto") || before(4, b"xmpp"),
        '@' => {
            let local = |x: u8| x.is_ascii_alphanumeric() || b".+-_".contains(&x);
            let domain = |x: u8| x.is_ascii_alphanumeric() || b"-_".contains(&x);
            i > 0 && local(b[i - 1]) && b.get(i + 1).is_some_and(|&x| domain(x))
        }
        '.' => before(3, b"www"),
        _ => false,
    }
}

/// The byte offset of the character that would make `s`, at the start of a line, a list
/// item (`- `, `+ `, `1. `, `1) `), a thematic break (`---`) or a setext underline (`===`).
fn block_marker(s: &str) -> Option<usize> {
    // Up to three spaces of indentation still start a block.
    let lead = s.bytes().take_while(|&b| b == b' ').count();
    let rest = &s.as_bytes()[lead..];
    let spaced = |at: usize| rest.get(at).is_none_or(|&b| b == b' ');
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    match rest.first()? {
        b'-' | b'+' if spaced(1) => Some(lead),
        &c @ (b'-' | b'=') if rest.iter().all(|&b| b == c || b == b' ') => Some(lead),
        _ if digits > 0 && matches!(rest.get(digits), Some(b'.' | b')')) && spaced(digits + 1) => {
            Some(lead + digits)
        }
        _ => None,
    }
}

/// Markdown text or a table cell: [`clean`], then every Markdown special character
/// backslash-escaped, so that no log text becomes a link, an image, an autolink, raw HTML,
/// emphasis, an entity, a heading or a table break. Where GitHub autolinks (the `:` of
/// `http://`, the `@` of an address, the `.` of `www.`) and before a leading `-`, `+`, `=`
/// or `1.` (list item, setext underline) a backslash is added too. GitHub's @mentions and
/// `#123` references are resolved after Markdown and ignore escapes: put addresses in
/// [`markdown_code`] spans to keep them inert.
pub fn markdown(s: &str) -> String {
    let s = clean(s);
    let mut out = String::with_capacity(s.len() + 8);
    let marker = block_marker(&s);
    for (i, c) in s.char_indices() {
        if is_markdown_special(c) || Some(i) == marker || is_autolink_point(&s, i, c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The backtick fence for a code span around `s`: one longer than its longest backtick run.
fn fence(s: &str) -> String {
    let (mut run, mut longest) = (0usize, 0usize);
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat(longest + 1)
}

/// A Markdown code span outside a table: [`clean`]ed text shown literally (no link,
/// mention or emphasis happens inside code), fenced with enough backticks and padded with
/// a space where the text starts or ends with a backtick or a space.
pub fn markdown_code(s: &str) -> String {
    let s = clean(s);
    let f = fence(&s);
    let pad = if s.starts_with(['`', ' ']) || s.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{f}{pad}{s}{pad}{f}")
}

/// A Markdown code span inside a table cell: [`markdown_code`] with `|` escaped, which GFM
/// tables require even inside code spans (the cell shows a plain `|`).
pub fn markdown_code_cell(s: &str) -> String {
    markdown_code(s).replace('|', "\\|")
}

/// A `serde_json` formatter that also escapes every [`is_unsafe`] character that JSON
/// allows raw (DEL, C1 controls, bidi, zero-width) as `\uNNNN`; serde_json itself escapes
/// the C0 controls.
#[derive(Debug, Default, Clone, Copy)]
pub struct SafeFormatter;

impl serde_json::ser::Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if !fragment.chars().any(is_unsafe) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut buf = [0u8; 4];
        for c in fragment.chars() {
            if is_unsafe(c) {
                // Every unsafe character is in the Basic Multilingual Plane: one \u escape.
                write!(writer, "\\u{:04x}", c as u32)?;
            } else {
                writer.write_all(c.encode_utf8(&mut buf).as_bytes())?;
            }
        }
        Ok(())
    }
}

/// Serialises `value` as one line of JSON with [`SafeFormatter`].
pub fn write_json_line<W: io::Write + ?Sized, T: serde::Serialize + ?Sized>(
    w: &mut W,
    value: &T,
) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut *w, SafeFormatter);
    value.serialize(&mut ser).map_err(io::Error::other)?;
    w.write_all(b"\n")
}

/// `s` as a quoted JSON string literal, escaped as [`write_json_line`] does.
pub fn json_string(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, SafeFormatter);
    // Serialising a str into a Vec cannot fail, and the output is UTF-8.
    let _ = serde::Serialize::serialize(s, &mut ser);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One sample of every class that must come out escaped, with its escape.
    const UNSAFE: &[(&str, &str)] = &[
        ("\x1b", "\\x1b"),
        ("\x07", "\\x07"),
        ("\x00", "\\x00"),
        ("\t", "\\x09"),
        ("\n", "\\x0a"),
        ("\r", "\\x0d"),
        ("\x7f", "\\x7f"),
        ("\u{80}", "\\x80"),
        ("\u{9b}", "\\x9b"),
        ("\u{9d}", "\\x9d"),
        ("\u{9f}", "\\x9f"),
        ("\u{61c}", "\\u{061c}"),
        ("\u{200b}", "\\u{200b}"),
        ("\u{200c}", "\\u{200c}"),
        ("\u{200d}", "\\u{200d}"),
        ("\u{200e}", "\\u{200e}"),
        ("\u{200f}", "\\u{200f}"),
        ("\u{2028}", "\\u{2028}"),
        ("\u{2029}", "\\u{2029}"),
        ("\u{202a}", "\\u{202a}"),
        ("\u{202b}", "\\u{202b}"),
        ("\u{202c}", "\\u{202c}"),
        ("\u{202d}", "\\u{202d}"),
        ("\u{202e}", "\\u{202e}"),
        ("\u{2060}", "\\u{2060}"),
        ("\u{2066}", "\\u{2066}"),
        ("\u{2067}", "\\u{2067}"),
        ("\u{2068}", "\\u{2068}"),
        ("\u{2069}", "\\u{2069}"),
        ("\u{feff}", "\\u{feff}"),
        ("\u{fff9}", "\\u{fff9}"),
    ];

    #[test]
    fn clean_escapes_every_unsafe_class() {
        for (raw, esc) in UNSAFE {
            assert_eq!(clean(&format!("a{raw}b")), format!("a{esc}b"), "{raw:?}");
        }
    }

    #[test]
    fn clean_escapes_escape_sequences_and_c1() {
        assert_eq!(clean("x\x1b[31mred\x07"), "x\\x1b[31mred\\x07");
        assert_eq!(clean("\x1b]0;PWNED\x07"), "\\x1b]0;PWNED\\x07");
        assert_eq!(
            clean("\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"),
            "\\x1b]8;;http://evil.example/\\x1b\\click\\x1b]8;;\\x1b\\"
        );
        assert_eq!(clean("a\u{9b}31m"), "a\\x9b31m");
        assert_eq!(clean("rtl\u{202e}txt"), "rtl\\u{202e}txt");
    }

    #[test]
    fn clean_keeps_ordinary_text_and_borrows_it() {
        for s in [
            "plain a@b.example",
            "550 5.1.1 <bob@example.com>: user unknown (in reply to RCPT TO)",
            "Grüße, 日本語, émoji 📬, \\n as two characters",
            "",
        ] {
            assert!(matches!(clean(s), Cow::Borrowed(_)), "{s:?}");
        }
    }

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        for f in ["=cmd()", "+1", "-2+3", "@SUM(A1)"] {
            assert_eq!(csv_cell(f), format!("'{f}"));
        }
        assert_eq!(
            csv_cell("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_cell("a=b"), "a=b");
        assert_eq!(csv_cell("x\x1by"), "x\\x1by");
        assert_eq!(csv_cell("two\nlines"), "two\\x0alines");
        assert_eq!(csv_cell("\u{202e}=1"), "\\u{202e}=1");
    }

    #[test]
    fn markdown_escapes_links_emphasis_html_and_tables() {
        assert_eq!(markdown("plain text 42"), "plain text 42");
        assert_eq!(markdown("at 14:00, 5/5 - ok."), "at 14:00, 5/5 - ok.");
        assert_eq!(
            markdown("[click](http://x.example)"),
            "\\[click\\]\\(http\\://x.example\\)"
        );
        assert_eq!(markdown("![img](y)"), "\\!\\[img\\]\\(y\\)");
        assert_eq!(markdown("<script>"), "\\<script\\>");
        assert_eq!(markdown("*a* _b_ ~~c~~"), "\\*a\\* \\_b\\_ \\~\\~c\\~\\~");
        assert_eq!(markdown("a|b"), "a\\|b");
        assert_eq!(markdown("`code`"), "\\`code\\`");
        assert_eq!(markdown("# title"), "\\# title");
        assert_eq!(markdown("&lt; &#x202e;"), "\\&lt; \\&\\#x202e;");
        assert_eq!(markdown("$x$"), "\\$x\\$");
        assert_eq!(markdown("back\\slash"), "back\\\\slash");
    }

    #[test]
    fn markdown_defuses_autolinks_and_block_markers() {
        assert_eq!(markdown("bob@example.com"), "bob\\@example.com");
        assert_eq!(markdown("a.b+c@x-y.example"), "a.b+c\\@x-y.example");
        assert_eq!(markdown("<> @ @x x@"), "\\<\\> @ @x x@");
        assert_eq!(markdown("mailto:bob"), "mailto\\:bob");
        assert_eq!(markdown("XMPP:bob"), "XMPP\\:bob");
        assert_eq!(markdown("ftp://x"), "ftp\\://x");
        assert_eq!(markdown("https://evil.example"), "https\\://evil.example");
        assert_eq!(markdown("see www.evil.example"), "see www\\.evil.example");
        assert_eq!(markdown("WWW.x"), "WWW\\.x");
        assert_eq!(markdown("- item"), "\\- item");
        assert_eq!(markdown("+ item"), "\\+ item");
        assert_eq!(markdown("==="), "\\===");
        assert_eq!(markdown("12. item"), "12\\. item");
        assert_eq!(markdown("1) item"), "1\\) item");
        assert_eq!(markdown("  - item"), "  \\- item");
        assert_eq!(markdown("5.1.1 x-y"), "5.1.1 x-y");
        assert_eq!(markdown("40.0%"), "40.0%");
        assert_eq!(markdown("-2"), "-2");
        assert_eq!(markdown("3."), "3\\.");
        assert_eq!(markdown("---"), "\\---");
        assert_eq!(markdown("= ="), "\\= =");
        assert_eq!(markdown("éwww.x"), "éwww\\.x");
        assert_eq!(markdown("é."), "é.");
    }

    #[test]
    fn markdown_shows_control_escapes_literally() {
        // The backslash of the control escape is itself escaped: the page shows `\x1b`.
        assert_eq!(markdown("a\x1b[1m"), "a\\\\x1b\\[1m");
        assert_eq!(markdown("\u{202e}"), "\\\\u{202e}");
        for (raw, _) in UNSAFE {
            assert!(!markdown(raw).contains(raw), "{raw:?}");
        }
    }

    #[test]
    fn markdown_code_spans_fence_and_escape_pipes_in_tables() {
        assert_eq!(markdown_code("bob@example.com"), "`bob@example.com`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`x"), "`` `x ``");
        assert_eq!(markdown_code("a\x1bb"), "`a\\x1bb`");
        assert_eq!(markdown_code("a|b"), "`a|b`");
        assert_eq!(markdown_code_cell("a|b"), "`a\\|b`");
    }

    #[test]
    fn json_escapes_every_unsafe_class_as_u_escapes() {
        for (raw, _) in UNSAFE {
            let s = json_string(raw);
            let c = raw.chars().next().unwrap();
            assert!(!s.contains(c), "{raw:?} → {s}");
            assert_eq!(
                serde_json::from_str::<String>(&s).unwrap(),
                *raw,
                "round trip"
            );
        }
        assert_eq!(json_string("a\u{202e}b"), "\"a\\u202eb\"");
        assert_eq!(json_string("\u{feff}"), "\"\\ufeff\"");
        assert_eq!(json_string("é\"q"), "\"é\\\"q\"");
    }

    #[test]
    fn json_lines_escape_controls_json_leaves_raw() {
        let mut out = Vec::new();
        write_json_line(
            &mut out,
            &serde_json::json!({"t": "a\u{1b}[2J\u{9b}\u{7f}\u{200b}é"}),
        )
        .unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s, "{\"t\":\"a\\u001b[2J\\u009b\\u007f\\u200bé\"}\n");
        assert!(!s.chars().any(|c| is_unsafe(c) && c != '\n'));
    }
}
