//! The syslog record shared by Postfix and syslog-wrapped Exim: `host program[pid]: message`
//! after the timestamp, Solaris `[ID nnn facility.level]` tags, and journald JSON records.

use std::borrow::Cow;

use chrono::DateTime;

use crate::model::event::{Mta, Timestamp};

/// A syslog record after its timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub host: &'a str,
    /// The tag, e.g. `postfix/smtp`, `postfix-out/submission/smtpd`, `exim`.
    pub program: &'a str,
    /// The text after `program[pid]: `, with any Solaris `[ID n f.l]` tag removed.
    pub message: &'a str,
}

/// Splits `host program[pid]: message`.
pub fn record(rest: &str) -> Option<Record<'_>> {
    let sp = byte_pos(rest, b' ')?;
    let host = &rest[..sp];
    let mut rec = tag_and_message(&rest[sp + 1..])?;
    rec.host = host;
    Some(rec)
}

/// The first position of `b` in `s`. The fields searched here (a host name, a pid) are a
/// few bytes long: a plain scan beats setting up `str::find`'s searcher.
fn byte_pos(s: &str, b: u8) -> Option<usize> {
    s.bytes().position(|c| c == b)
}

/// Splits `program[pid]: message` (host left empty).
pub fn tag_and_message(s: &str) -> Option<Record<'_>> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && !matches!(b[i], b'[' | b':' | b' ') {
        i += 1;
    }
    if i == 0 || i >= b.len() {
        return None;
    }
    let program = &s[..i];
    if b[i] == b'[' {
        // `[pid]`: digits up to the `]`.
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += 1 + digits;
        if b.get(i) != Some(&b']') {
            return None;
        }
        i += 1;
    }
    if b.get(i) != Some(&b':') {
        return None;
    }
    let mut message = s.get(i + 1..)?;
    message = message.strip_prefix(' ').unwrap_or(message);
    Some(Record {
        host: "",
        program,
        message: strip_solaris_id(message),
    })
}

/// Removes a leading Solaris `[ID 197553 mail.info] ` tag.
fn strip_solaris_id(m: &str) -> &str {
    if let Some(after) = m.strip_prefix("[ID ")
        && let Some(close) = after.find("] ")
    {
        let inner = &after[..close];
        let mut parts = inner.split(' ');
        if parts
            .next()
            .is_some_and(|n| n.bytes().all(|c| c.is_ascii_digit()))
            && parts.next().is_some_and(|f| f.contains('.'))
        {
            return &after[close + 2..];
        }
    }
    m
}

/// Postfix daemon names: a tag whose last component is one of these belongs to Postfix even
/// when `syslog_name` was changed.
const POSTFIX_SERVICES: &[&str] = &[
    "smtpd",
    "smtp",
    "lmtp",
    "qmgr",
    "nqmgr",
    "oqmgr",
    "cleanup",
    "pickup",
    "local",
    "virtual",
    "pipe",
    "error",
    "retry",
    "discard",
    "bounce",
    "postscreen",
    "dnsblog",
    "tlsproxy",
    "anvil",
    "scache",
    "verify",
    "master",
    "postsuper",
    "sendmail",
    "postdrop",
    "postfix-script",
    "postlogd",
    "trivial-rewrite",
    "flush",
    "showq",
    "proxymap",
    "tlsmgr",
    "postmap",
    "postmulti",
    "relay",
    "postqueue",
    "postlog",
    "qmqpd",
    "spawn",
];

/// Which MTA a syslog tag belongs to, if any.
pub fn program_mta(program: &str) -> Option<Mta> {
    if program.starts_with("exim") {
        return Some(Mta::Exim);
    }
    // `postfix` has no `/`: the tag starts with it if and only if its first component does.
    if program.starts_with("postfix") {
        return Some(Mta::Postfix);
    }
    // A renamed instance (`mx-out/smtpd`, syslog_name in master.cf) is told by its service;
    // but a service with a generic name (`master`, `relay`, `local`…) is Postfix only under a
    // `postfix…` name, and other mail software with slash tags (Cyrus `cyrus/master`,
    // `cyrus/lmtpunix`, Dovecot, amavis) is never Postfix.
    if let (Some((first, _)), Some((_, last))) = (program.split_once('/'), program.rsplit_once('/'))
        && POSTFIX_SERVICES.contains(&last)
        && !GENERIC_SERVICES.contains(&last)
        && !NOT_POSTFIX.iter().any(|p| first.starts_with(p))
    {
        return Some(Mta::Postfix);
    }
    None
}

/// Postfix services whose names other programs use too: Postfix only under a `postfix` tag.
const GENERIC_SERVICES: &[&str] = &[
    "master", "relay", "spawn", "verify", "flush", "sendmail", "local", "virtual", "pipe", "error",
    "retry", "discard", "showq", "anvil", "scache", "proxymap",
];

/// Tag prefixes of other mail software that logs `name/service`.
const NOT_POSTFIX: &[&str] = &[
    "cyrus",
    "dovecot",
    "amavis",
    "opendkim",
    "opendmarc",
    "spamd",
    "clamd",
    "rspamd",
    "sympa",
    "mailman",
];

/// A journald record: (time, SYSLOG_IDENTIFIER, SYSLOG_PID, MESSAGE).
pub(crate) type JournalRecord<'a> = (Timestamp, Cow<'a, str>, Option<Cow<'a, str>>, Cow<'a, str>);

/// Reads a `journalctl -o json` record: (time, SYSLOG_IDENTIFIER, pid, MESSAGE).
/// `MESSAGE` may be a string, an array of strings, or an array of byte values.
pub fn journal_fields(line: &str) -> Option<JournalRecord<'_>> {
    #[derive(serde::Deserialize)]
    struct Rec<'a> {
        #[serde(rename = "__REALTIME_TIMESTAMP", borrow)]
        realtime: Option<Cow<'a, str>>,
        #[serde(rename = "SYSLOG_IDENTIFIER", borrow)]
        ident: Option<Cow<'a, str>>,
        #[serde(rename = "SYSLOG_PID", borrow)]
        pid: Option<Cow<'a, str>>,
        #[serde(rename = "MESSAGE")]
        message: Option<serde_json::Value>,
    }
    let rec: Rec = serde_json::from_str(line).ok()?;
    let micros: i64 = rec.realtime?.parse().ok()?;
    let dt = DateTime::from_timestamp_micros(micros)?.naive_utc();
    let message: Cow<str> = match rec.message? {
        serde_json::Value::String(s) => Cow::Owned(s),
        serde_json::Value::Array(items) => {
            if items.iter().all(|v| v.is_u64()) {
                let bytes: Vec<u8> = items
                    .iter()
                    .filter_map(|v| v.as_u64())
                    .map(|n| n as u8)
                    .collect();
                Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())
            } else {
                let parts: Vec<&str> = items.iter().filter_map(|v| v.as_str()).collect();
                Cow::Owned(parts.join("\n"))
            }
        }
        _ => return None,
    };
    Some((Timestamp::new(dt, Some(0)), rec.ident?, rec.pid, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_splits_host_tag_and_message() {
        let r = record("mx1 postfix-out/submission/smtpd[42]: connect from x[1.2.3.4]").unwrap();
        assert_eq!(r.host, "mx1");
        assert_eq!(r.program, "postfix-out/submission/smtpd");
        assert_eq!(r.message, "connect from x[1.2.3.4]");
        let r = record("mx1 exim[28235]: 2011-03-08 10:29:42 1Pwzn4-000333-1Y <= a@b").unwrap();
        assert_eq!(r.program, "exim");
        let r = record("host postfix/smtp[123]: [ID 197553 mail.info] ABC: to=<a@b>").unwrap();
        assert_eq!(r.message, "ABC: to=<a@b>");
        let r = record("host CRON[9]: (root) CMD (x)").unwrap();
        assert_eq!(program_mta(r.program), None);
        assert!(record("no tag here").is_none());
    }

    #[test]
    fn program_mta_leaves_other_software_alone() {
        for tag in [
            "cyrus/master",
            "cyrus/lmtpunix",
            "cyrus/lmtpd",
            "dovecot/lmtp",
            "amavis/smtp",
            "mx/master",
            "x/relay",
        ] {
            assert_eq!(program_mta(tag), None, "{tag}");
        }
        assert_eq!(program_mta("postfix/master"), Some(Mta::Postfix));
        assert_eq!(program_mta("postfix-out/relay"), Some(Mta::Postfix));
        assert_eq!(program_mta("mx-out/smtpd"), Some(Mta::Postfix));
        assert_eq!(program_mta("mx-out/submission/smtpd"), Some(Mta::Postfix));
    }

    #[test]
    fn program_mta_knows_instances_and_services() {
        assert_eq!(program_mta("postfix/smtp"), Some(Mta::Postfix));
        assert_eq!(program_mta("postfix-out/smtp"), Some(Mta::Postfix));
        assert_eq!(program_mta("mx-in/smtpd"), Some(Mta::Postfix));
        assert_eq!(program_mta("exim4"), Some(Mta::Exim));
        assert_eq!(program_mta("dovecot"), None);
        assert_eq!(program_mta("amavis"), None);
    }

    #[test]
    fn journal_message_as_string_or_bytes() {
        let l = r#"{"__REALTIME_TIMESTAMP":"1795773601123456","SYSLOG_IDENTIFIER":"postfix/qmgr","SYSLOG_PID":"7","MESSAGE":"ABC: removed"}"#;
        let (ts, ident, pid, msg) = journal_fields(l).unwrap();
        assert_eq!(ident, "postfix/qmgr");
        assert_eq!(pid.as_deref(), Some("7"));
        assert_eq!(msg, "ABC: removed");
        assert_eq!(ts.offset, Some(0));
        let l = r#"{"__REALTIME_TIMESTAMP":"1795773601000000","SYSLOG_IDENTIFIER":"postfix/qmgr","MESSAGE":[65,66,255]}"#;
        let (_, _, pid, msg) = journal_fields(l).unwrap();
        assert!(pid.is_none());
        assert_eq!(msg, "AB\u{fffd}");
        assert!(journal_fields("{not json").is_none());
    }
}
