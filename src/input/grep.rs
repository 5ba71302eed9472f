//! Finding the lines of an input that hold any of a set of strings, at memory speed: the
//! input is read in large blocks and searched for all the strings at once ([`Needles`]: a
//! SIMD "packed" searcher for a few strings, an Aho-Corasick DFA for many), so the lines that
//! hold nothing are never split, shaped or parsed. `trace` uses it to find the messages it
//! needs before it reads its inputs line by line.
//!
//! A line is handed over as the [`LineReader`](super::LineReader) would cut it: at most
//! [`MAX_LINE`] bytes, `truncated` when it was longer. A match past the cut still hands the
//! cut line over, so the caller sees a superset of the lines that hold a string as read.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::{ControlFlow, Range};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Input, Span, packed};

use super::lines::{LineFlags, MAX_LINE};

/// The strings a search looks for, in the fastest searcher for them.
#[derive(Debug, Clone)]
pub struct Needles {
    finder: Finder,
    /// Matched regardless of ASCII case: the strings are lowercased, and so is (a copy of)
    /// the text searched, which keeps the fast searchers (they match bytes exactly).
    fold_case: bool,
}

#[derive(Debug, Clone)]
enum Finder {
    /// Teddy (SIMD), for up to a few dozen strings: about ten times the speed of the DFA.
    Packed(packed::Searcher),
    /// Past what Teddy takes (or without SIMD): a DFA, whose one lookup per byte is the
    /// fastest search when so many strings defeat every prefilter.
    Dfa(AhoCorasick),
}

impl Needles {
    /// A searcher for `patterns`, matched regardless of ASCII case if
    /// `fold_case`; `None` if none can be built (no pattern, or too many for the DFA).
    pub fn new(patterns: &[String], fold_case: bool) -> Option<Needles> {
        let patterns: Vec<String> = if fold_case {
            patterns.iter().map(|p| p.to_ascii_lowercase()).collect()
        } else {
            patterns.to_vec()
        };
        let finder = match packed::Config::new().builder().extend(&patterns).build() {
            Some(s) => Finder::Packed(s),
            None => Finder::Dfa(
                AhoCorasickBuilder::new()
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&patterns)
                    .ok()?,
            ),
        };
        Some(Needles { finder, fold_case })
    }

    /// The start of the first match in `hay[from..]`.
    fn find(&self, hay: &[u8], from: usize) -> Option<usize> {
        let span = Span {
            start: from,
            end: hay.len(),
        };
        match &self.finder {
            Finder::Packed(s) => s.find_in(hay, span).map(|m| m.start()),
            Finder::Dfa(ac) => ac.find(Input::new(hay).span(span)).map(|m| m.start()),
        }
    }

    /// `text` as searched: lowercased into `low` when matching regardless of case.
    fn haystack<'a>(&self, text: &'a [u8], low: &'a mut Vec<u8>) -> &'a [u8] {
        if !self.fold_case {
            return text;
        }
        low.clear();
        low.extend(text.iter().map(u8::to_ascii_lowercase));
        low
    }
}

/// Bytes read at a time. Far above [`MAX_LINE`], so a block always holds a whole line
/// unless the line is cut anyway.
const BLOCK: usize = 4 << 20;

/// Calls `f` with every line of `r` that holds one of the `needles`, once per line, in
/// order, until `f` returns `Break`.
pub fn matching_lines(
    mut r: impl Read,
    needles: &Needles,
    mut f: impl FnMut(&[u8], LineFlags) -> ControlFlow<()>,
) -> io::Result<()> {
    let mut buf = vec![0u8; BLOCK];
    let mut low = Vec::new();
    let mut len = 0;
    // The rest of a line longer than the block is still to be skipped.
    let mut skipping = false;
    loop {
        let n = match r.read(&mut buf[len..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        len += n;
        let eof = n == 0;
        let end = if eof {
            len
        } else {
            match memchr::memrchr(b'\n', &buf[..len]) {
                Some(i) => i + 1,
                None if len == BLOCK => {
                    // One line fills the block: hand over its cut head, skip the rest.
                    if !skipping && needles.find(needles.haystack(&buf, &mut low), 0).is_some() {
                        let flags = LineFlags {
                            truncated: true,
                            ..LineFlags::default()
                        };
                        if f(&buf[..MAX_LINE], flags).is_break() {
                            return Ok(());
                        }
                    }
                    skipping = true;
                    len = 0;
                    continue;
                }
                None => continue,
            }
        };
        let mut start = 0;
        if skipping {
            start = memchr::memchr(b'\n', &buf[..end]).map_or(end, |i| i + 1);
            skipping = false;
        }
        let text = &buf[start..end];
        if search(text, needles.haystack(text, &mut low), needles, &mut f).is_break() {
            return Ok(());
        }
        buf.copy_within(end..len, 0);
        len -= end;
        if eof {
            return Ok(());
        }
    }
}

/// Splits a plain file of `len` bytes into at most `n` byte ranges that start at line
/// starts, so that [`matching_lines`] can search them on as many threads: each line is in
/// exactly one range, and the ranges are in file order.
pub fn line_aligned_parts(f: &mut File, len: u64, n: usize) -> io::Result<Vec<Range<u64>>> {
    let mut cuts = vec![0];
    let mut window = vec![0u8; 64 << 10];
    for k in 1..n.max(1) as u64 {
        let mut at = (len * k / n as u64).max(*cuts.last().unwrap_or(&0));
        // The first line start at or after `at`: right after a `\n` at or after `at - 1`.
        let mut cut = None;
        at = at.saturating_sub(1);
        while cut.is_none() && at < len {
            f.seek(SeekFrom::Start(at))?;
            let got = f.read(&mut window)?;
            if got == 0 {
                break;
            }
            match memchr::memchr(b'\n', &window[..got]) {
                Some(i) => cut = Some(at + i as u64 + 1),
                None => at += got as u64,
            }
        }
        let cut = cut.unwrap_or(len);
        if cut > *cuts.last().unwrap_or(&0) && cut < len {
            cuts.push(cut);
        }
    }
    cuts.push(len);
    Ok(cuts.windows(2).map(|w| w[0]..w[1]).collect())
}

/// Hands over each line of `text` (whole lines, the last one's `\n` optional) that holds a
/// match in `hay` (`text` as searched: the same length, its line ends in the same places),
/// until `f` says to stop.
fn search(
    text: &[u8],
    hay: &[u8],
    needles: &Needles,
    f: &mut impl FnMut(&[u8], LineFlags) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let mut pos = 0;
    while pos < text.len() {
        let Some(at) = needles.find(hay, pos) else {
            return ControlFlow::Continue(());
        };
        let start = memchr::memrchr(b'\n', &text[pos..at]).map_or(pos, |i| pos + i + 1);
        let end = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i);
        let line = &text[start..end];
        let truncated = line.len() > MAX_LINE;
        let line = if truncated { &line[..MAX_LINE] } else { line };
        let flags = LineFlags {
            truncated,
            ..LineFlags::default()
        };
        f(line, flags)?;
        pos = end + 1;
    }
    ControlFlow::Continue(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ac(patterns: &[&str]) -> Needles {
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        Needles::new(&patterns, true).unwrap()
    }

    fn lines(text: &[u8], patterns: &[&str]) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        matching_lines(text, &ac(patterns), |l, f| {
            out.push((String::from_utf8_lossy(l).into_owned(), f.truncated));
            ControlFlow::Continue(())
        })
        .unwrap();
        out
    }

    #[test]
    fn a_break_stops_the_search() {
        let mut seen = 0;
        matching_lines(&b"x1\nx2\nx3\n"[..], &ac(&["x"]), |_, _| {
            seen += 1;
            if seen == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        assert_eq!(seen, 2);
    }

    #[test]
    fn each_matching_line_once_in_order_without_its_line_end() {
        let text = b"a x y\nb\nc x\nd X x\ne";
        let got: Vec<String> = lines(text, &["x"]).into_iter().map(|l| l.0).collect();
        assert_eq!(got, ["a x y", "c x", "d X x"]);
        assert_eq!(lines(b"q\nlast x", &["x"])[0].0, "last x");
        assert!(lines(b"nothing here\n", &["x"]).is_empty());
        assert!(lines(b"", &["x"]).is_empty());
    }

    #[test]
    fn few_and_many_needles_find_the_lines_that_hold_one_with_or_without_case() {
        // Queue-ID-like words; lines of a few words each, some of them needles.
        let word = |i: u64| format!("{:011X}x", i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20);
        let mut text = String::new();
        for i in 0..20_000u64 {
            text.push_str(&format!(
                "{} {} tail\n",
                word(i),
                word(i * 7 + 3).to_lowercase()
            ));
        }
        for (count, fold_case) in [(1, false), (1, true), (10, false), (40, true), (300, false)] {
            let patterns: Vec<String> = (0..count).map(|k| word(k * 61 + 5)).collect();
            let needles = Needles::new(&patterns, fold_case).unwrap();
            if count > 64 {
                assert!(matches!(needles.finder, Finder::Dfa(_)));
            }
            let mut got = Vec::new();
            matching_lines(text.as_bytes(), &needles, |l, _| {
                got.push(String::from_utf8_lossy(l).into_owned());
                ControlFlow::Continue(())
            })
            .unwrap();
            let want: Vec<&str> = text
                .lines()
                .filter(|l| {
                    patterns.iter().any(|p| match fold_case {
                        true => l.to_ascii_lowercase().contains(&p.to_ascii_lowercase()),
                        false => l.contains(p.as_str()),
                    })
                })
                .collect();
            assert!(!want.is_empty());
            assert_eq!(got, want, "{count} needles, fold_case {fold_case}");
        }
    }

    #[test]
    fn lines_across_blocks_are_whole() {
        // Lines of 100 bytes, a match every 7th line: block edges fall inside lines.
        let mut text = Vec::new();
        let mut want = Vec::new();
        for i in 0..120_000 {
            let mut l = format!("{i:08} ");
            if i % 7 == 0 {
                l.push_str("needle ");
            }
            while l.len() < 99 {
                l.push('.');
            }
            if i % 7 == 0 {
                want.push(l.clone());
            }
            text.extend_from_slice(l.as_bytes());
            text.push(b'\n');
        }
        assert!(text.len() > 2 * BLOCK);
        let got: Vec<String> = lines(&text, &["NEEDLE"]).into_iter().map(|l| l.0).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn parts_start_at_line_starts_and_cover_the_file_once() {
        use std::io::Write;
        let mut f = tempfile::tempfile().unwrap();
        let mut text = Vec::new();
        for i in 0..10_000 {
            text.extend_from_slice(format!("line {i} {}\n", "x".repeat(i % 37)).as_bytes());
        }
        f.write_all(&text).unwrap();
        let len = text.len() as u64;
        for n in [1, 2, 3, 7] {
            let parts = line_aligned_parts(&mut f, len, n).unwrap();
            assert_eq!(parts.len(), n);
            assert_eq!(parts[0].start, 0);
            assert_eq!(parts.last().unwrap().end, len);
            for w in parts.windows(2) {
                assert_eq!(w[0].end, w[1].start);
                assert_eq!(text[w[1].start as usize - 1], b'\n');
            }
        }
        // A file of one line cannot be cut; an empty one is one empty part.
        let mut one = tempfile::tempfile().unwrap();
        one.write_all(b"just one line").unwrap();
        assert_eq!(line_aligned_parts(&mut one, 13, 4).unwrap(), vec![0..13]);
        let mut empty = tempfile::tempfile().unwrap();
        assert_eq!(line_aligned_parts(&mut empty, 0, 2).unwrap(), vec![0..0]);
    }

    #[test]
    fn an_overlong_line_is_cut_like_the_line_reader_cuts_it() {
        let mut text = b"short x\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', BLOCK + 10));
        text.extend_from_slice(b"\nafter x\n");
        let got = lines(&text, &["x"]);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], ("short x".to_string(), false));
        assert_eq!(got[1].0.len(), MAX_LINE);
        assert!(got[1].1);
        assert_eq!(got[2], ("after x".to_string(), false));
        let mut mid = b"y\n".to_vec();
        mid.extend(std::iter::repeat_n(b'y', MAX_LINE + 5));
        mid.extend_from_slice(b"x\nz\n");
        let got = lines(&mid, &["x"]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0.len(), MAX_LINE);
        assert!(got[0].1);
    }
}
