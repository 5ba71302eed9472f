//! Failure causes: which of a fixed set of [`Cause`]s explains a failed, deferred or rejected
//! delivery, from the SMTP reply code, the enhanced status code and the reply text.
//!
//! # Algorithm
//!
//! 1. **Normalise** the text (see [`normalise`]): literal two-character `\n` joins (Exim
//!    multi-line replies) and real line breaks become spaces, everything is lower-cased, a
//!    leading diagnostic type (`smtp;`) is dropped, and reply-code tokens (`550`, `550-`,
//!    `550-5.1.1`) and enhanced status tokens (`5.1.1`, `#5.1.1`) are removed wherever they are
//!    clearly codes. The first code and status seen are kept: they stand in for the `code` and
//!    `enhanced` arguments when the caller passes `None`.
//! 2. **Text rules.** Every rule of every pattern file is one entry of a single
//!    [`RegexSet`], so one pass over the text finds every matching rule. Rules are ordered by
//!    [`Cause::PRECEDENCE`] (the pattern file's priority), then by origin (a `--patterns`
//!    file before the built-in file of the same cause), then by line. The first matching rule
//!    whose conditions hold decides the cause.
//! 3. **Enhanced status** (RFC 3463 / IANA registry, plus a few Microsoft private codes) when
//!    no rule matched.
//! 4. **Basic reply code** (RFC 5321), weak evidence, when there is no usable status.
//! 5. Otherwise [`Cause::Other`].
//!
//! Permanence comes from the class of the enhanced status (`4` temporary, `5` permanent), else
//! from the first digit of the reply code, else it is unknown. It never depends on the cause:
//! an expired message whose last reply was `4.4.7` is reported as temporary, as the code says.
//!
//! The pattern-file format is described in `patterns/README.md` and in [`Classifier::load`].

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use regex::bytes::{RegexBuilder, RegexSet, RegexSetBuilder};
use serde::Serialize;

use crate::model::smtp::{self, Status};

/// Why a delivery failed. The snake_case name ([`Cause::as_str`]) is the id used in pattern
/// file names, JSON output and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The recipient mailbox does not exist.
    UserUnknown,
    /// The recipient mailbox is over quota.
    MailboxFull,
    /// The recipient mailbox exists but is disabled, suspended, locked or has moved.
    MailboxDisabled,
    /// The recipient domain does not exist, has no (or a null) MX, or cannot be routed.
    DomainInvalid,
    /// Our sending IP, host or domain is on a DNSBL, a provider block list, or has a poor
    /// reputation.
    Blocklisted,
    /// The recipient or its organisation refuses this sender or message by policy, without
    /// pointing at a block list or reputation.
    Blocked,
    /// The message was judged spam, phishing or a virus.
    SpamContent,
    /// SPF, DKIM, DMARC, reverse DNS / HELO, SMTP authentication, TLS requirements or RFC
    /// format compliance.
    AuthPolicy,
    /// The remote side throttles us (connections, messages or recipients per period).
    RateLimited,
    /// Greylisting: a deliberate temporary refusal that a retry overcomes.
    Greylisted,
    /// The message is larger than the remote side accepts.
    TooLarge,
    /// The server refuses to relay for us (open-relay protection, unverified sender identity).
    RelayDenied,
    /// Timeouts, refused or lost connections, unreachable hosts, temporary DNS failures,
    /// routing loops.
    Network,
    /// A fault of the remote server (internal error, configuration error, disk full, service
    /// unavailable).
    RemoteError,
    /// The MTA gave up after the retry period.
    Expired,
    /// Our own server's sending limits (cPanel hourly limits, holds and suspensions, Exim
    /// ratelimit).
    SendingLimit,
    /// None of the above, or not enough information.
    Other,
}

impl Cause {
    /// Every cause, in declaration (and `Ord`) order.
    pub const ALL: [Cause; 17] = [
        Cause::UserUnknown,
        Cause::MailboxFull,
        Cause::MailboxDisabled,
        Cause::DomainInvalid,
        Cause::Blocklisted,
        Cause::Blocked,
        Cause::SpamContent,
        Cause::AuthPolicy,
        Cause::RateLimited,
        Cause::Greylisted,
        Cause::TooLarge,
        Cause::RelayDenied,
        Cause::Network,
        Cause::RemoteError,
        Cause::Expired,
        Cause::SendingLimit,
        Cause::Other,
    ];

    /// Pattern-file priority: when rules of several causes match one text, the cause listed
    /// first wins. The reasoning (also in `patterns/README.md`):
    ///
    /// * local sending limits first: those texts come from our own MTA and mean the message
    ///   was never attempted;
    /// * a named block list or reputation verdict before everything that merely mentions
    ///   "spam" or "blocked" (`spamhaus` contains `spam`, `blocked using` contains `blocked`);
    /// * relaying and greylisting texts are unambiguous;
    /// * recipient mailbox facts (full, too large, disabled, unknown) before sender-side
    ///   policy, because a reply that names the mailbox is about the mailbox;
    /// * authentication (SPF/DKIM/DMARC/PTR) before rate limits, spam and generic blocks,
    ///   because providers explain those rejections with "to protect our users from spam";
    /// * generic policy blocks after all specific reasons;
    /// * "gave up after retrying" before network and remote faults, which it usually wraps,
    ///   but after every specific reason, which is more useful to report;
    /// * temporary network and DNS failures before "domain not found" rules, so that
    ///   `Host not found, try again` is not a missing domain;
    /// * remote server faults last.
    pub const PRECEDENCE: [Cause; 17] = [
        Cause::SendingLimit,
        Cause::Blocklisted,
        Cause::RelayDenied,
        Cause::Greylisted,
        Cause::MailboxFull,
        Cause::TooLarge,
        Cause::MailboxDisabled,
        Cause::UserUnknown,
        Cause::AuthPolicy,
        Cause::RateLimited,
        Cause::SpamContent,
        Cause::Blocked,
        Cause::Expired,
        Cause::Network,
        Cause::DomainInvalid,
        Cause::RemoteError,
        Cause::Other,
    ];

    /// The snake_case id, e.g. `user_unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::UserUnknown => "user_unknown",
            Cause::MailboxFull => "mailbox_full",
            Cause::MailboxDisabled => "mailbox_disabled",
            Cause::DomainInvalid => "domain_invalid",
            Cause::Blocklisted => "blocklisted",
            Cause::Blocked => "blocked",
            Cause::SpamContent => "spam_content",
            Cause::AuthPolicy => "auth_policy",
            Cause::RateLimited => "rate_limited",
            Cause::Greylisted => "greylisted",
            Cause::TooLarge => "too_large",
            Cause::RelayDenied => "relay_denied",
            Cause::Network => "network",
            Cause::RemoteError => "remote_error",
            Cause::Expired => "expired",
            Cause::SendingLimit => "sending_limit",
            Cause::Other => "other",
        }
    }

    /// The cause with this snake_case id.
    pub fn from_name(name: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Plain words for a support agent.
    pub fn describe(self) -> &'static str {
        match self {
            Cause::UserUnknown => "the address does not exist",
            Cause::MailboxFull => "the recipient's mailbox is full",
            Cause::MailboxDisabled => "the recipient's mailbox is disabled, suspended or closed",
            Cause::DomainInvalid => "the recipient's domain does not exist or cannot receive mail",
            Cause::Blocklisted => {
                "our sending server or domain is on a block list or has a poor reputation"
            }
            Cause::Blocked => "the receiving side refuses mail from this sender",
            Cause::SpamContent => "the message was judged to be spam or to carry a virus",
            Cause::AuthPolicy => {
                "the message failed sender checks (SPF, DKIM, DMARC, reverse DNS, login or format rules)"
            }
            Cause::RateLimited => "the receiving server is limiting how fast we may send",
            Cause::Greylisted => "the receiving server asked us to try again later (greylisting)",
            Cause::TooLarge => "the message is too large",
            Cause::RelayDenied => "the server refused to pass the message on for us",
            Cause::Network => {
                "the receiving server could not be reached (timeout, refused connection or DNS failure)"
            }
            Cause::RemoteError => "the receiving server had an internal problem",
            Cause::Expired => "delivery was given up after retrying for too long",
            Cause::SendingLimit => "our own server's sending limit stopped the message",
            Cause::Other => "the reason could not be determined",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether retrying can succeed, as the reply codes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permanence {
    Temporary,
    Permanent,
    Unknown,
}

impl Permanence {
    pub fn as_str(self) -> &'static str {
        match self {
            Permanence::Temporary => "temporary",
            Permanence::Permanent => "permanent",
            Permanence::Unknown => "unknown",
        }
    }
}

/// The classification of one failure text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Verdict {
    pub cause: Cause,
    pub permanence: Permanence,
}

/// What decided a verdict (for `--explain`-style output and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis<'a> {
    /// A text rule: the pattern file (e.g. `patterns/user_unknown.txt`) and its 1-based line.
    Rule { file: &'a str, line: usize },
    /// The enhanced status code.
    EnhancedStatus,
    /// The basic reply code.
    ReplyCode,
    /// Nothing matched.
    Nothing,
}

/// A verdict and what decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Explanation<'a> {
    pub verdict: Verdict,
    pub basis: Basis<'a>,
}

/// An invalid pattern file or line. Displays as `file:line: message` (or `file: message` when
/// the problem is not on one line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// The file as given: `patterns/<cause>.txt` for built-in files, the path for loaded ones.
    pub file: String,
    /// 1-based line number, if the error is on one line.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for PatternError {}

/// The built-in pattern files, compiled in.
const BUILTIN: [(Cause, &str); 17] = [
    (
        Cause::UserUnknown,
        include_str!("../patterns/user_unknown.txt"),
    ),
    (
        Cause::MailboxFull,
        include_str!("../patterns/mailbox_full.txt"),
    ),
    (
        Cause::MailboxDisabled,
        include_str!("../patterns/mailbox_disabled.txt"),
    ),
    (
        Cause::DomainInvalid,
        include_str!("../patterns/domain_invalid.txt"),
    ),
    (
        Cause::Blocklisted,
        include_str!("../patterns/blocklisted.txt"),
    ),
    (Cause::Blocked, include_str!("../patterns/blocked.txt")),
    (
        Cause::SpamContent,
        include_str!("../patterns/spam_content.txt"),
    ),
    (
        Cause::AuthPolicy,
        include_str!("../patterns/auth_policy.txt"),
    ),
    (
        Cause::RateLimited,
        include_str!("../patterns/rate_limited.txt"),
    ),
    (
        Cause::Greylisted,
        include_str!("../patterns/greylisted.txt"),
    ),
    (Cause::TooLarge, include_str!("../patterns/too_large.txt")),
    (
        Cause::RelayDenied,
        include_str!("../patterns/relay_denied.txt"),
    ),
    (Cause::Network, include_str!("../patterns/network.txt")),
    (
        Cause::RemoteError,
        include_str!("../patterns/remote_error.txt"),
    ),
    (Cause::Expired, include_str!("../patterns/expired.txt")),
    (
        Cause::SendingLimit,
        include_str!("../patterns/sending_limit.txt"),
    ),
    (Cause::Other, include_str!("../patterns/other.txt")),
];

/// The effective reply class: the status class if known, else the code's first digit.
fn reply_class(code: Option<u16>, status: Option<Status>) -> Option<u8> {
    match status {
        Some(s) if s.class == 4 || s.class == 5 => Some(s.class),
        _ => code.map(|c| (c / 100) as u8),
    }
}

fn permanence(code: Option<u16>, status: Option<Status>) -> Permanence {
    match reply_class(code, status) {
        Some(4) => Permanence::Temporary,
        Some(5) => Permanence::Permanent,
        _ => Permanence::Unknown,
    }
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/// A normalised reply: the text used for matching plus the first code and status found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Normalised {
    code: Option<u16>,
    status: Option<Status>,
    text: String,
}

/// Lower-cases `raw`, joins multi-line replies (literal `\n` or real line breaks) with
/// spaces, collapses runs of white space, drops a leading diagnostic type (`smtp;`) and
/// removes reply-code and enhanced-status tokens (`550`, `550-`, `550-5.1.1`, `5.1.1`,
/// `(#5.1.1)`). A three-digit code is only removed where it is clearly a code: at the start
/// of a line, before a status, after a `:`, or with a `-` continuation mark.
pub fn normalise(raw: &str) -> String {
    normalise_full(raw).text
}

fn normalise_full(raw: &str) -> Normalised {
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

// ---------------------------------------------------------------------------------------------
// Rule conditions

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
struct Cond {
    kind: CondKind,
    negate: bool,
}

impl Cond {
    fn holds(&self, code: Option<u16>, status: Option<Status>) -> bool {
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
fn parse_line(line: &str) -> Result<Option<(Vec<Cond>, &str)>, String> {
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

// ---------------------------------------------------------------------------------------------
// Fallbacks

/// The cause an enhanced status implies on its own (RFC 3463, IANA registry, RFC 7372/7505,
/// and Microsoft's private 5.7.5xx–7xx / 4.7.5xx–6xx codes). `None`: the status says
/// nothing useful (X.0.0, X.2.0, X.2.4, ...), so the reply code decides.
fn cause_from_status(s: Status) -> Option<Cause> {
    use Cause::*;
    let temp = s.class == 4;
    Some(match (s.subject, s.detail) {
        (0, _) => return None,
        // Addressing.
        (1, 2 | 10) => DomainInvalid,
        (1, 6) => MailboxDisabled,
        (1, 7 | 8) => Blocked, // our sender address or its domain is refused
        (1, 9) => RemoteError,
        (1, 5) => return None,
        (1, _) => UserUnknown,
        // Mailbox.
        (2, 1) => MailboxDisabled,
        (2, 2) => MailboxFull,
        (2, 3) => TooLarge,
        (2, _) => return None,
        // Mail system.
        (3, 4) => TooLarge,
        (3, _) => RemoteError,
        // Network and routing.
        (4, 4) if !temp => DomainInvalid,
        (4, 5) => RemoteError, // mail system congestion
        (4, 7) => Expired,
        (4, 300 | 316) => Expired,      // Microsoft: message expired
        (4, 310) => DomainInvalid,      // Microsoft: DNS domain does not exist
        (4, _) => Network,              // incl. X.4.6 routing loop, X.4.312 DNS query failed
        (5, 3) => RateLimited,          // too many recipients
        (5, _) => Other,                // protocol errors
        (6, _) => AuthPolicy,           // content/media format
        (7, 8..=12 | 14) => AuthPolicy, // SMTP AUTH and encryption
        (7, 13 | 17 | 18) => MailboxDisabled,
        (7, 16) => TooLarge,
        (7, 20..=26 | 29 | 30) => AuthPolicy, // DKIM, SPF, rDNS, DMARC, ARC, REQUIRETLS
        (7, 27) => Blocked,                   // our sender domain has a null MX
        (7, 28) => SpamContent,
        (7, 3..=7) => AuthPolicy,
        (7, 501..=503) => SpamContent,
        (7, 505) => MailboxDisabled,
        (7, 506 | 509) => AuthPolicy,
        (7, 507) => Blocked,
        (7, 511 | 513) => Blocklisted,
        (7, 500..=699) if temp => Blocklisted,
        (7, 606..=649) => Blocklisted,
        (7, 700..=799) => RateLimited,
        (7, _) => Blocked,
        _ => return None,
    })
}

/// The weak default of a basic reply code (RFC 5321 §4.2, reference §4.2).
fn cause_from_code(code: u16) -> Option<Cause> {
    use Cause::*;
    Some(match code {
        421 | 451 | 452 => RemoteError,
        454 | 530 | 535 | 538 => AuthPolicy,
        521 | 556 => DomainInvalid,
        551 | 553 => UserUnknown,
        552 => MailboxFull,
        400..=599 => Other,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// The classifier

#[derive(Debug, Clone)]
struct Rule {
    cause: Cause,
    conds: Vec<Cond>,
    file: usize,
    line: usize,
}

/// Classifies failure texts. Build it once ([`Classifier::builtin`] or [`Classifier::load`])
/// and share it; wrap it in a [`CachedClassifier`] when the same texts recur.
#[derive(Debug, Clone)]
pub struct Classifier {
    set: RegexSet,
    rules: Vec<Rule>,
    files: Vec<String>,
}

/// One source file of rules.
struct Source {
    cause: Cause,
    name: String,
    text: String,
    user: bool,
}

impl Classifier {
    /// The compiled-in patterns (`patterns/*.txt`).
    pub fn builtin() -> Classifier {
        Classifier::from_sources(builtin_sources(&[]))
            .unwrap_or_else(|e| panic!("built-in pattern error: {e}"))
    }

    /// The built-in patterns plus (or, with `replace`, instead of) the pattern files in `dir`.
    ///
    /// Every `*.txt` file in `dir` must be named `<cause>.txt` for one of the [`Cause`] ids;
    /// an unknown name is an error. Other files (a README, say) are ignored. Without
    /// `replace`, a file's rules are added to the built-in rules of its cause (before them).
    /// With `replace`, a file replaces the built-in file of its cause, and the causes without
    /// a file keep their built-in rules; an empty file switches a cause's text rules off.
    pub fn load(dir: &Path, replace: bool) -> Result<Classifier, PatternError> {
        let dir_err = |e: std::io::Error| PatternError {
            file: dir.display().to_string(),
            line: None,
            message: format!("cannot read pattern folder: {e}"),
        };
        let mut paths: Vec<PathBuf> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(dir_err)? {
            let path = entry.map_err(dir_err)?.path();
            if path.extension().is_some_and(|e| e == "txt") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut user = Vec::new();
        for path in paths {
            let name = path.display().to_string();
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let Some(cause) = Cause::from_name(stem) else {
                let known: Vec<&str> = Cause::ALL.iter().map(|c| c.as_str()).collect();
                return Err(PatternError {
                    file: name,
                    line: None,
                    message: format!(
                        "unknown cause `{stem}`; pattern files are named <cause>.txt, cause one of: {}",
                        known.join(", ")
                    ),
                });
            };
            let text = std::fs::read_to_string(&path).map_err(|e| PatternError {
                file: name.clone(),
                line: None,
                message: format!("cannot read: {e}"),
            })?;
            user.push(Source {
                cause,
                name,
                text,
                user: true,
            });
        }
        let replaced: Vec<Cause> = if replace {
            user.iter().map(|s| s.cause).collect()
        } else {
            Vec::new()
        };
        let mut sources = user;
        sources.extend(builtin_sources(&replaced));
        Classifier::from_sources(sources)
    }

    fn from_sources(mut sources: Vec<Source>) -> Result<Classifier, PatternError> {
        let rank = |c: Cause| Cause::PRECEDENCE.iter().position(|&p| p == c).unwrap_or(99);
        // Stable: within a cause, user files (listed first) stay before the built-in one.
        sources.sort_by_key(|s| (rank(s.cause), !s.user));
        let mut rules = Vec::new();
        let mut regexes: Vec<&str> = Vec::new();
        let mut files = Vec::new();
        for (fi, src) in sources.iter().enumerate() {
            files.push(src.name.clone());
            for (li, line) in src.text.lines().enumerate() {
                let parsed = parse_line(line).map_err(|message| PatternError {
                    file: src.name.clone(),
                    line: Some(li + 1),
                    message,
                })?;
                if let Some((conds, regex)) = parsed {
                    rules.push(Rule {
                        cause: src.cause,
                        conds,
                        file: fi,
                        line: li + 1,
                    });
                    regexes.push(regex);
                }
            }
        }
        let set = match set_builder(&regexes).build() {
            Ok(set) => set,
            Err(set_err) => {
                // Find the culprit to report file and line.
                for (rule, regex) in rules.iter().zip(&regexes) {
                    if let Err(e) = regex_builder(regex).build() {
                        return Err(PatternError {
                            file: files[rule.file].clone(),
                            line: Some(rule.line),
                            message: regex_message(&e),
                        });
                    }
                }
                return Err(PatternError {
                    file: "patterns".to_string(),
                    line: None,
                    message: regex_message(&set_err),
                });
            }
        };
        Ok(Classifier { set, rules, files })
    }

    /// Number of text rules.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Classifies one failure: the basic reply code, the enhanced status (`"5.1.1"`) and the
    /// reply or reason text. `None` code or status are taken from the text when it starts
    /// with them (or carries them as `NNN X.Y.Z`).
    pub fn classify(&self, code: Option<u16>, enhanced: Option<&str>, text: &str) -> Verdict {
        self.explain(code, enhanced, text).verdict
    }

    /// Like [`Classifier::classify`], and says which rule or code decided.
    pub fn explain(
        &self,
        code: Option<u16>,
        enhanced: Option<&str>,
        text: &str,
    ) -> Explanation<'_> {
        let n = normalise_full(text);
        let code = code.or(n.code);
        let status = enhanced.and_then(Status::parse).or(n.status);
        self.decide(code, status, &n.text)
    }

    fn decide(&self, code: Option<u16>, status: Option<Status>, text: &str) -> Explanation<'_> {
        let (cause, basis) = self.cause(code, status, text);
        Explanation {
            verdict: Verdict {
                cause,
                permanence: permanence(code, status),
            },
            basis,
        }
    }

    fn cause(&self, code: Option<u16>, status: Option<Status>, text: &str) -> (Cause, Basis<'_>) {
        if !text.is_empty() {
            for i in self.set.matches(text.as_bytes()).iter() {
                let rule = &self.rules[i];
                if rule.conds.iter().all(|c| c.holds(code, status)) {
                    let basis = Basis::Rule {
                        file: &self.files[rule.file],
                        line: rule.line,
                    };
                    return (rule.cause, basis);
                }
            }
        }
        if let Some(c) = status.and_then(cause_from_status) {
            return (c, Basis::EnhancedStatus);
        }
        if let Some(c) = code.and_then(cause_from_code) {
            return (c, Basis::ReplyCode);
        }
        (Cause::Other, Basis::Nothing)
    }
}

fn builtin_sources(skip: &[Cause]) -> Vec<Source> {
    BUILTIN
        .iter()
        .filter(|(c, _)| !skip.contains(c))
        .map(|&(cause, text)| Source {
            cause,
            name: format!("patterns/{}.txt", cause.as_str()),
            text: text.to_string(),
            user: false,
        })
        .collect()
}

// Matching runs on the normalised (lower-cased) text as bytes, with Unicode classes off so
// that `\b` and `\w` stay ASCII and the lazy DFA never has to give up on non-ASCII input.
// Case-insensitivity still helps hand-written patterns with capitals. The lazy DFA of a set
// of a few hundred patterns needs a larger cache than the 2 MiB default: with the default,
// matching one text took ~0.5 ms instead of ~1 µs (the cache kept being cleared).
fn set_builder(regexes: &[&str]) -> RegexSetBuilder {
    let mut b = RegexSetBuilder::new(regexes);
    b.case_insensitive(true)
        .unicode(false)
        .size_limit(64 << 20)
        .dfa_size_limit(32 << 20);
    b
}

fn regex_builder(regex: &str) -> RegexBuilder {
    let mut b = RegexBuilder::new(regex);
    b.case_insensitive(true).unicode(false);
    b
}

/// `regex parse error: unclosed group` from the multi-line message of the regex crate.
fn regex_message(e: &regex::Error) -> String {
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

// ---------------------------------------------------------------------------------------------
// Cache

/// How many distinct texts a [`CachedClassifier`] remembers before it starts over.
pub const CACHE_LIMIT: usize = 100_000;

type CacheKey = (Option<u16>, Option<Status>, String);

/// A [`Classifier`] with a memo of verdicts keyed by (code, status, normalised text), so that
/// each distinct failure text is matched once. The memo is cleared when it exceeds
/// [`CACHE_LIMIT`] entries.
#[derive(Debug)]
pub struct CachedClassifier<'c> {
    classifier: &'c Classifier,
    cache: HashMap<CacheKey, Verdict>,
    limit: usize,
}

impl<'c> CachedClassifier<'c> {
    pub fn new(classifier: &'c Classifier) -> CachedClassifier<'c> {
        CachedClassifier {
            classifier,
            cache: HashMap::new(),
            limit: CACHE_LIMIT,
        }
    }

    /// Same result as [`Classifier::classify`].
    pub fn classify(&mut self, code: Option<u16>, enhanced: Option<&str>, text: &str) -> Verdict {
        let n = normalise_full(text);
        let code = code.or(n.code);
        let status = enhanced.and_then(Status::parse).or(n.status);
        let key = (code, status, n.text);
        if let Some(v) = self.cache.get(&key) {
            return *v;
        }
        if self.cache.len() >= self.limit {
            self.cache.clear();
        }
        let v = self.classifier.decide(code, status, &key.2).verdict;
        self.cache.insert(key, v);
        v
    }

    /// Number of remembered texts.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c() -> &'static Classifier {
        static C: std::sync::OnceLock<Classifier> = std::sync::OnceLock::new();
        C.get_or_init(Classifier::builtin)
    }

    fn cause(code: Option<u16>, status: Option<&str>, text: &str) -> Cause {
        c().classify(code, status, text).cause
    }

    #[test]
    fn names_round_trip_and_are_distinct() {
        for cause in Cause::ALL {
            assert_eq!(Cause::from_name(cause.as_str()), Some(cause));
            assert!(!cause.describe().is_empty());
            let json = serde_json::to_string(&cause).unwrap();
            assert_eq!(json, format!("\"{}\"", cause.as_str()));
        }
        let mut p = Cause::PRECEDENCE.to_vec();
        p.sort();
        assert_eq!(p, Cause::ALL.to_vec(), "PRECEDENCE lists every cause once");
        assert_eq!(Cause::from_name("nope"), None);
    }

    #[test]
    fn every_builtin_file_compiles_and_has_a_header() {
        for (cause, text) in BUILTIN {
            let name = format!("patterns/{}.txt", cause.as_str());
            let src = Source {
                cause,
                name: name.clone(),
                text: text.to_string(),
                user: false,
            };
            let one = Classifier::from_sources(vec![src]).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                text.starts_with(&format!("# {name}")),
                "{name} must start with its header comment"
            );
            if cause != Cause::Other {
                assert!(one.rule_count() > 0, "{name} has no rules");
            }
            // Each regex also compiles on its own (the error path relies on it).
            for line in text.lines() {
                if let Some((_, re)) = parse_line(line).unwrap() {
                    regex_builder(re).build().unwrap();
                }
            }
        }
        assert!(c().rule_count() > 100);
    }

    #[test]
    fn bad_pattern_is_reported_with_file_and_line() {
        let src = Source {
            cause: Cause::UserUnknown,
            name: "patterns/user_unknown.txt".into(),
            text: "# header\n\nuser unknown\n[code=5xx] (unclosed\n".into(),
            user: false,
        };
        let e = Classifier::from_sources(vec![src]).unwrap_err();
        assert_eq!(e.line, Some(4));
        assert_eq!(
            e.to_string(),
            "patterns/user_unknown.txt:4: regex parse error: unclosed group"
        );
        let src = Source {
            cause: Cause::Blocked,
            name: "x/blocked.txt".into(),
            text: "ok\n[code=5z1] blocked\n".into(),
            user: false,
        };
        let e = Classifier::from_sources(vec![src]).unwrap_err();
        assert_eq!(e.to_string(), "x/blocked.txt:2: bad condition `[code=5z1]`");
        let src = Source {
            cause: Cause::Blocked,
            name: "x/blocked.txt".into(),
            text: "[status=5.7.*]\n".into(),
            user: false,
        };
        let e = Classifier::from_sources(vec![src]).unwrap_err();
        assert_eq!(e.to_string(), "x/blocked.txt:1: conditions without a regex");
    }

    #[test]
    fn line_format() {
        assert_eq!(parse_line("   # comment"), Ok(None));
        assert_eq!(parse_line("  "), Ok(None));
        let (conds, re) = parse_line("[code=5xx,421] [status!=5.1.*] foo bar ")
            .unwrap()
            .unwrap();
        assert_eq!(re, "foo bar");
        assert_eq!(conds.len(), 2);
        assert!(conds[0].holds(Some(550), None));
        assert!(conds[0].holds(Some(421), None));
        assert!(!conds[0].holds(Some(450), None));
        assert!(!conds[0].holds(None, None));
        let s = |x: &str| Status::parse(x);
        assert!(!conds[1].holds(None, s("5.1.1")));
        assert!(conds[1].holds(None, s("5.2.1")));
        assert!(
            conds[1].holds(None, None),
            "!= holds when the value is absent"
        );
        // A character class is not a condition.
        let (conds, re) = parse_line("[a-z]+ unknown").unwrap().unwrap();
        assert!(conds.is_empty());
        assert_eq!(re, "[a-z]+ unknown");
        // none and class
        let (conds, _) = parse_line("[code=none] [class=4] x").unwrap().unwrap();
        assert!(conds[0].holds(None, None));
        assert!(!conds[0].holds(Some(550), None));
        assert!(conds[1].holds(Some(550), s("4.4.7")), "status class wins");
        assert!(conds[1].holds(Some(450), None));
        assert!(!conds[1].holds(None, None));
        assert!(parse_line("[status=5.7] x").is_err());
        assert!(parse_line("[status=5.7.*] x").is_ok());
        assert!(parse_line("[status=*.1.1] x").is_ok());
    }

    #[test]
    fn normalisation_joins_exim_multiline_replies() {
        let raw = "550-5.1.1 The email account that you tried to reach does not exist. Please try\\n550-5.1.1 double-checking the recipient's email address for typos or\\n550-5.1.1 unnecessary spaces. Learn more at\\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si2 - gsmtp";
        let n = normalise_full(raw);
        assert_eq!(n.code, Some(550));
        assert_eq!(n.status, Status::parse("5.1.1"));
        assert_eq!(
            n.text,
            "the email account that you tried to reach does not exist. please try double-checking \
             the recipient's email address for typos or unnecessary spaces. learn more at \
             https://support.google.com/mail/?p=nosuchuser a1si2 - gsmtp"
        );
        assert_eq!(
            cause(None, None, raw),
            Cause::UserUnknown,
            "classified from the joined text"
        );
        // Continuation lines without a status, and real line breaks.
        let n = normalise_full("451-Mailbox temporarily\n451 locked, retry later");
        assert_eq!(n.code, Some(451));
        assert_eq!(n.status, None);
        assert_eq!(n.text, "mailbox temporarily locked, retry later");
    }

    #[test]
    fn normalisation_keeps_numbers_that_are_not_codes() {
        let n = normalise_full(
            "SMTP; 554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 Connection timed out>",
        );
        assert_eq!(n.code, Some(554));
        assert_eq!(n.status, Status::parse("4.4.7"));
        assert_eq!(
            n.text,
            "message expired: unable to deliver in 840 minutes.<421 connection timed out>"
        );
        let n = normalise_full(
            "Domain x.example has exceeded the max emails per hour (250/250 (100%)) allowed.  Message discarded.",
        );
        assert_eq!(n.code, None);
        assert!(n.text.contains("(250/250 (100%))"));
        let n = normalise_full(
            "host mx.example[192.0.2.4] said: 550 unknown user (in reply to RCPT TO command)",
        );
        assert_eq!(n.code, Some(550), "after `said:`");
        assert_eq!(
            n.text,
            "host mx.example[192.0.2.4] said: unknown user (in reply to rcpt to command)"
        );
        let n = normalise_full("Exim 4.94.2 says: mail from 10.4.5.2 is fine, 550 of them");
        assert_eq!(n.status, None);
        assert_eq!(n.code, None);
        assert!(
            n.text.contains("4.94.2") && n.text.contains("10.4.5.2") && n.text.contains("550 of")
        );
        let n = normalise_full("sorry, no mailbox here by that name. (#5.1.1)");
        assert_eq!(n.status, Status::parse("5.1.1"));
        assert_eq!(n.text, "sorry, no mailbox here by that name.");
    }

    #[test]
    fn precedence_between_files() {
        // A named list wins over the bare word "blocked" and over "spam" in "spamhaus".
        assert_eq!(
            cause(
                Some(554),
                Some("5.7.1"),
                "Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org"
            ),
            Cause::Blocklisted
        );
        // "Mailbox full" wins over a generic mailbox-status code and over "user" words.
        assert_eq!(
            cause(
                Some(550),
                Some("5.2.0"),
                "Sorry, the user's mailbox is full"
            ),
            Cause::MailboxFull
        );
        // The text wins over the enhanced status.
        assert_eq!(
            cause(
                Some(550),
                Some("5.2.1"),
                "<bob@example.net>... User unknown"
            ),
            Cause::UserUnknown
        );
        // Local cPanel limits win over everything, but only without a reply code.
        let cpanel = "Domain shop.example has exceeded the max defers and failures per hour (5/5 (100%)) allowed. Message discarded.";
        assert_eq!(cause(None, None, cpanel), Cause::SendingLimit);
        assert_eq!(
            cause(Some(550), None, cpanel),
            Cause::RateLimited,
            "a smarthost said it"
        );
        // Authentication failures explained with "to protect our users from spam".
        assert_eq!(
            cause(
                Some(550),
                Some("5.7.26"),
                "This mail has been blocked because the sender is unauthenticated. To protect our users from spam, mail must pass SPF or DKIM checks"
            ),
            Cause::AuthPolicy
        );
        // Expiry wraps a network error; a specific reason wins over expiry.
        assert_eq!(
            cause(None, None, "retry timeout exceeded: connection timed out"),
            Cause::Expired
        );
        assert_eq!(
            cause(None, None, "mailbox is full: retry timeout exceeded"),
            Cause::MailboxFull
        );
        // Temporary DNS failure is not a missing domain.
        assert_eq!(
            cause(
                None,
                Some("4.4.3"),
                "Host or domain name not found. Name service error for name=example.org type=MX: Host not found, try again"
            ),
            Cause::Network
        );
        assert_eq!(
            cause(
                None,
                Some("5.4.4"),
                "Host or domain name not found. Name service error for name=example.org type=A: Host not found"
            ),
            Cause::DomainInvalid
        );
        // Sender-domain problems are about us, not the recipient's domain.
        assert_eq!(
            cause(
                Some(553),
                Some("5.1.8"),
                "<info@shop.example>... Domain of sender address info@shop.example does not exist"
            ),
            Cause::Blocked
        );
        // Reputation throttling is a reputation problem, not a plain rate limit.
        assert_eq!(
            cause(
                Some(451),
                Some("4.7.650"),
                "The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation."
            ),
            Cause::Blocklisted
        );
    }

    #[test]
    fn conditions_restrict_rules() {
        // Generic "mailbox unavailable" means a missing user only when permanent.
        assert_eq!(
            cause(
                Some(550),
                None,
                "Requested action not taken: mailbox unavailable"
            ),
            Cause::UserUnknown
        );
        assert_ne!(
            cause(Some(450), Some("4.2.1"), "mailbox unavailable"),
            Cause::UserUnknown
        );
        // Microsoft directory-based edge blocking is a user-unknown only with 5.4.1.
        let dbeb = "Recipient address rejected: Access denied. AS(201806281)";
        assert_eq!(cause(Some(550), Some("5.4.1"), dbeb), Cause::UserUnknown);
        assert_eq!(cause(Some(550), Some("5.7.1"), dbeb), Cause::Blocked);
    }

    #[test]
    fn enhanced_status_and_code_fallback() {
        let e = |s: &str| cause(None, Some(s), "no words we know");
        assert_eq!(e("5.1.1"), Cause::UserUnknown);
        assert_eq!(e("5.1.2"), Cause::DomainInvalid);
        assert_eq!(e("5.1.10"), Cause::DomainInvalid);
        assert_eq!(e("5.4.4"), Cause::DomainInvalid);
        assert_eq!(e("4.4.4"), Cause::Network);
        assert_eq!(e("5.2.2"), Cause::MailboxFull);
        assert_eq!(e("5.2.1"), Cause::MailboxDisabled);
        assert_eq!(e("5.3.4"), Cause::TooLarge);
        assert_eq!(e("5.2.3"), Cause::TooLarge);
        assert_eq!(e("5.7.1"), Cause::Blocked);
        assert_eq!(e("5.7.26"), Cause::AuthPolicy);
        assert_eq!(e("5.7.25"), Cause::AuthPolicy);
        assert_eq!(e("4.4.7"), Cause::Expired);
        assert_eq!(e("4.4.1"), Cause::Network);
        assert_eq!(e("4.5.3"), Cause::RateLimited);
        assert_eq!(e("5.7.606"), Cause::Blocklisted);
        assert_eq!(e("5.1.8"), Cause::Blocked);
        // X.0.0 says nothing: the code decides; then "other".
        assert_eq!(
            cause(Some(552), Some("5.0.0"), "no words we know"),
            Cause::MailboxFull
        );
        assert_eq!(
            cause(Some(421), None, "no words we know"),
            Cause::RemoteError
        );
        assert_eq!(cause(Some(550), None, "no words we know"), Cause::Other);
        assert_eq!(cause(None, None, "no words we know"), Cause::Other);
        assert_eq!(cause(None, None, ""), Cause::Other);
        let x = c();
        let ex = x.explain(None, Some("5.1.1"), "zzz");
        assert_eq!(ex.basis, Basis::EnhancedStatus);
        let ex = x.explain(Some(551), None, "zzz");
        assert_eq!(ex.basis, Basis::ReplyCode);
        let ex = x.explain(None, None, "user unknown");
        assert!(matches!(
            ex.basis,
            Basis::Rule {
                file: "patterns/user_unknown.txt",
                ..
            }
        ));
    }

    #[test]
    fn permanence_follows_the_codes() {
        let x = c();
        let p = |code, st, text| x.classify(code, st, text).permanence;
        assert_eq!(p(Some(550), Some("5.1.1"), "x"), Permanence::Permanent);
        assert_eq!(p(Some(450), None, "x"), Permanence::Temporary);
        assert_eq!(
            p(Some(554), Some("4.4.7"), "x"),
            Permanence::Temporary,
            "status wins"
        );
        assert_eq!(
            p(None, None, "smtp; 554 4.4.7 Message expired"),
            Permanence::Temporary
        );
        assert_eq!(p(None, None, "retry timeout exceeded"), Permanence::Unknown);
        assert_eq!(p(None, None, "smtp; 2.1.5 250 OK"), Permanence::Unknown);
        assert_eq!(
            p(None, Some("garbage"), "421 try later"),
            Permanence::Temporary
        );
    }

    fn temp_dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn load_extends_and_replaces() {
        let text = "550 Mailbox has gone fishing";
        assert_eq!(cause(None, None, "Mailbox has gone fishing"), Cause::Other);
        let dir = temp_dir_with(&[
            ("mailbox_disabled.txt", "# mine\ngone fishing\n"),
            ("README.md", "ignored"),
        ]);
        let x = Classifier::load(dir.path(), false).unwrap();
        assert_eq!(x.classify(None, None, text).cause, Cause::MailboxDisabled);
        // Built-in rules are still there.
        assert_eq!(
            x.classify(None, None, "user unknown").cause,
            Cause::UserUnknown
        );
        assert_eq!(x.rule_count(), c().rule_count() + 1);
        let ex = x.explain(None, None, text);
        let Basis::Rule { file, line } = ex.basis else {
            panic!()
        };
        assert!(file.ends_with("mailbox_disabled.txt") && !file.starts_with("patterns/"));
        assert_eq!(line, 2);

        // Replace: an empty user_unknown.txt switches the built-in user rules off.
        let dir = temp_dir_with(&[("user_unknown.txt", "# nothing\n")]);
        let x = Classifier::load(dir.path(), true).unwrap();
        assert_eq!(x.classify(None, None, "user unknown").cause, Cause::Other);
        assert_eq!(
            x.classify(None, None, "mailbox is full").cause,
            Cause::MailboxFull
        );
        let x = Classifier::load(dir.path(), false).unwrap();
        assert_eq!(
            x.classify(None, None, "user unknown").cause,
            Cause::UserUnknown
        );
    }

    #[test]
    fn load_errors() {
        let dir = temp_dir_with(&[("mailbox_fool.txt", "x\n")]);
        let e = Classifier::load(dir.path(), false).unwrap_err();
        assert!(e.file.ends_with("mailbox_fool.txt"));
        assert!(
            e.to_string().contains("unknown cause `mailbox_fool`"),
            "{e}"
        );
        let dir = temp_dir_with(&[("blocked.txt", "# h\nok\n\n(x\n")]);
        let e = Classifier::load(dir.path(), false).unwrap_err();
        let path = dir.path().join("blocked.txt");
        assert_eq!(
            e.to_string(),
            format!("{}:4: regex parse error: unclosed group", path.display())
        );
        let e = Classifier::load(&dir.path().join("missing"), false).unwrap_err();
        assert!(e.to_string().contains("cannot read pattern folder"), "{e}");
    }

    #[test]
    fn cache_agrees_and_is_bounded() {
        let x = c();
        let mut cached = CachedClassifier::new(x);
        let texts = [
            (Some(550), Some("5.1.1"), "User unknown"),
            (Some(550), Some("5.1.1"), "User   UNKNOWN"),
            (Some(452), Some("4.2.2"), "Mailbox full"),
            (None, None, "retry timeout exceeded"),
            (Some(550), Some("5.1.1"), "User unknown"),
        ];
        for (code, st, text) in texts {
            assert_eq!(cached.classify(code, st, text), x.classify(code, st, text));
        }
        assert_eq!(
            cached.len(),
            3,
            "same normalised text and codes share an entry"
        );
        cached.limit = 50;
        for i in 0..120 {
            cached.classify(None, None, &format!("text number {i}"));
            assert!(cached.len() <= 50);
        }
        assert!(!cached.is_empty());
    }
}
