//! Keeping log text from reaching a terminal raw.
//!
//! Addresses, HELO names and subjects in logs are chosen by strangers. Everything printed
//! passes through [`clean`] (text reports) or [`SafeFormatter`] (JSON), which escape C0 and C1
//! control characters and DEL, so no escape sequence from a log can drive the terminal.

use std::borrow::Cow;
use std::io;

/// Returns true if and only if `c` must not be printed raw.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != ' ')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Text safe for a terminal: control characters become `\xNN` / `\u{NNNN}` escapes.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            if (c as u32) < 0x100 {
                out.push_str(&format!("\\x{:02x}", c as u32));
            } else {
                out.push_str(&format!("\\u{{{:04x}}}", c as u32));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A `serde_json` formatter that also escapes DEL, C1 controls and bidi overrides, which
/// JSON allows raw (serde_json already escapes C0 controls).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_escapes_escape_sequences_and_c1() {
        assert_eq!(clean("plain a@b.example"), "plain a@b.example");
        assert_eq!(clean("x\x1b[31mred\x07"), "x\\x1b[31mred\\x07");
        assert_eq!(clean("a\u{9b}31m"), "a\\x9b31m");
        assert_eq!(clean("rtl\u{202e}txt"), "rtl\\u{202e}txt");
    }

    #[test]
    fn json_lines_escape_controls_json_leaves_raw() {
        let mut out = Vec::new();
        write_json_line(
            &mut out,
            &serde_json::json!({"t": "a\u{1b}[2J\u{9b}\u{7f}é"}),
        )
        .unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s, "{\"t\":\"a\\u001b[2J\\u009b\\u007fé\"}\n");
        assert!(!s.chars().any(|c| c.is_control() && c != '\n'));
    }
}
