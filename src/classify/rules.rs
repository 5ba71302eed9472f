//! The pattern-line grammar (`[code=…] [status=…] [class=…] regex`, see `patterns/README.md`)
//! and how the regexes of the rules are compiled.

use regex::bytes::{RegexBuilder, RegexSetBuilder};

use super::fallback::reply_class;
use crate::model::smtp::Status;

/// `code=` value: three characters, each a digit or `x`; or `none`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CodePat {
    None,
    Digits([Option<u8>; 3]),
}

impl CodePat {
    fn parse(s: &str) -> Option<CodePat> {
        if s == "none" {
            return Some(CodePat::None);
        }
        let b = s.as_bytes();
        if b.len() != 3 {
            return None;
        }
        let mut d = [None; 3];
        for (i, &c) in b.iter().enumerate() {
            d[i] = match c {
                b'x' | b'X' => None,
                b'0'..=b'9' => Some(c - b'0'),
                _ => return None,
            };
        }
        Some(CodePat::Digits(d))
    }

    fn matches(&self, code: Option<u16>) -> bool {
        match (self, code) {
            (CodePat::None, None) => true,
            (CodePat::Digits(d), Some(c)) => {
                let digits = [(c / 100) as u8, (c / 10 % 10) as u8, (c % 10) as u8];
                d.iter().zip(digits).all(|(p, v)| p.is_none_or(|p| p == v))
            }
            _ => false,
        }
    }
}

/// `status=` value: `C.S.D` where each part is a number or `*`; a trailing `*` part covers
/// the rest (`5.7.*`, `4.*`); or `none`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StatusPat {
    None,
    Parts([Option<u16>; 3]),
}

impl StatusPat {
    fn parse(s: &str) -> Option<StatusPat> {
        if s == "none" {
            return Some(StatusPat::None);
        }
        let parts: Vec<&str> = s.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return None;
        }
        if parts.len() < 3 && parts.last() != Some(&"*") {
            return None;
        }
        let mut p = [None; 3];
        for (i, part) in parts.iter().enumerate() {
            p[i] = match *part {
                "*" => None,
                n if !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()) => {
                    Some(n.parse().ok()?)
                }
                _ => return None,
            };
        }
        Some(StatusPat::Parts(p))
    }

    fn matches(&self, status: Option<Status>) -> bool {
        match (self, status) {
            (StatusPat::None, None) => true,
            (StatusPat::Parts(p), Some(s)) => {
                let v = [u16::from(s.class), s.subject, s.detail];
                p.iter().zip(v).all(|(p, v)| p.is_none_or(|p| p == v))
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum CondKind {
    Code(Vec<CodePat>),
    Status(Vec<StatusPat>),
    /// Reply class (status class, else the code's first digit); `None` = unknown.
    Class(Vec<Option<u8>>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Cond {
    kind: CondKind,
    negate: bool,
}

impl Cond {
    pub(super) fn holds(&self, code: Option<u16>, status: Option<Status>) -> bool {
        let any = match &self.kind {
            CondKind::Code(pats) => pats.iter().any(|p| p.matches(code)),
            CondKind::Status(pats) => pats.iter().any(|p| p.matches(status)),
            CondKind::Class(classes) => {
                let class = reply_class(code, status);
                classes.contains(&class)
            }
        };
        any != self.negate
    }

    /// Parses the inside of `[...]`, or `None` if it does not look like a condition at all
    /// (then the brackets belong to the regex).
    fn parse(inner: &str) -> Option<Result<Cond, String>> {
        let (key, negate, value) = ["code", "status", "class"].iter().find_map(|k| {
            let rest = inner.strip_prefix(k)?;
            if let Some(v) = rest.strip_prefix("!=") {
                Some((*k, true, v))
            } else {
                rest.strip_prefix('=').map(|v| (*k, false, v))
            }
        })?;
        let bad = || Err(format!("bad condition `[{inner}]`"));
        let values: Vec<&str> = value.split(',').map(str::trim).collect();
        if values.iter().any(|v| v.is_empty()) {
            return Some(bad());
        }
        let kind = match key {
            "code" => match values.iter().map(|v| CodePat::parse(v)).collect() {
                Some(p) => CondKind::Code(p),
                None => return Some(bad()),
            },
            "status" => match values.iter().map(|v| StatusPat::parse(v)).collect() {
                Some(p) => CondKind::Status(p),
                None => return Some(bad()),
            },
            _ => {
                let mut classes = Vec::new();
                for v in &values {
                    classes.push(match *v {
                        "2" => Some(2),
                        "4" => Some(4),
                        "5" => Some(5),
                        "none" => None,
                        _ => return Some(bad()),
                    });
                }
                CondKind::Class(classes)
            }
        };
        Some(Ok(Cond { kind, negate }))
    }
}

/// Splits one pattern-file line into conditions and regex. `Ok(None)` for blank and comment
/// lines.
pub(super) fn parse_line(line: &str) -> Result<Option<(Vec<Cond>, &str)>, String> {
    let mut rest = line.trim();
    if rest.is_empty() || rest.starts_with('#') {
        return Ok(None);
    }
    let mut conds = Vec::new();
    while rest.starts_with('[') {
        let Some(end) = rest.find(']') else { break };
        match Cond::parse(&rest[1..end]) {
            None => break,
            Some(Err(e)) => return Err(e),
            Some(Ok(c)) => conds.push(c),
        }
        rest = rest[end + 1..].trim_start();
    }
    if rest.is_empty() {
        return Err("conditions without a regex".to_string());
    }
    Ok(Some((conds, rest)))
}

// Matching runs on the normalised (lower-cased) text as bytes, with Unicode classes off so
// that `\b` and `\w` stay ASCII and the lazy DFA never has to give up on non-ASCII input.
// Case-insensitivity still helps hand-written patterns with capitals. The lazy DFA of a set
// of a few hundred patterns needs a larger cache than the 2 MiB default: with the default,
// matching one text took ~0.5 ms instead of ~1 µs (the cache kept being cleared).
pub(super) fn set_builder(regexes: &[&str]) -> RegexSetBuilder {
    let mut b = RegexSetBuilder::new(regexes);
    b.case_insensitive(true)
        .unicode(false)
        .size_limit(64 << 20)
        .dfa_size_limit(32 << 20);
    b
}

/// The builder for one rule's regex, with the set's settings (to find a culprit).
pub(super) fn regex_builder(regex: &str) -> RegexBuilder {
    let mut b = RegexBuilder::new(regex);
    b.case_insensitive(true).unicode(false);
    b
}

/// `regex parse error: unclosed group` from the multi-line message of the regex crate.
pub(super) fn regex_message(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(s) => {
            let detail = s
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix("error: "))
                .unwrap_or(s.as_str());
            format!("regex parse error: {detail}")
        }
        other => other.to_string(),
    }
}
