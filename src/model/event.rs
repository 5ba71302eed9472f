//! Parsed log events: the one type every parser produces and every later stage consumes.
//!
//! An [`Event`] borrows its text fields from the line it was parsed from, so parsing a line
//! allocates nothing. Fields that a line does not carry are `None`. The JSON form of an event
//! (`mailtrace events`) is `EventJson`, schema version [`EVENT_SCHEMA_VERSION`], documented
//! in the README and man page; its JSON Schema is derived from that type.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;
use serde::ser::Serializer;

/// Version of the NDJSON event schema printed by `mailtrace events`.
pub const EVENT_SCHEMA_VERSION: u32 = 1;

/// The mail transfer agent whose log a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Mta {
    Exim,
    Postfix,
}

impl Mta {
    pub fn as_str(self) -> &'static str {
        match self {
            Mta::Exim => "exim",
            Mta::Postfix => "postfix",
        }
    }
}

/// What a log line says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A message was accepted into the queue (Exim `<=`, `(=`; Postfix qmgr `from=`).
    Arrival,
    /// One recipient delivered (Exim `=>`, `->`; Postfix `status=sent`).
    Delivered,
    /// One delivery attempt deferred (Exim `==`; Postfix `status=deferred`/`SOFTBOUNCE`).
    Deferred,
    /// One recipient failed permanently (Exim `**`; Postfix `status=bounced`).
    Bounced,
    /// A recipient, sender or connection refused at SMTP time (Exim `rejected RCPT`,
    /// Postfix `NOQUEUE: reject:`), or a message refused after DATA.
    Rejected,
    /// The message outlived the queue lifetime (Postfix `status=expired`).
    Expired,
    /// The message left the queue (Exim `Completed`, Postfix `removed`).
    Completed,
    /// A message was frozen (Exim) or put on hold (Postfix).
    Frozen,
    /// A message was thawed / released from hold.
    Unfrozen,
    /// An administrator deleted the message (Exim `removed by`, Postfix `postsuper` removal).
    AdminRemoved,
    /// Exim cut-through delivery (`>>`).
    CutThrough,
    /// Exim fake delivery under `-N` (`*>`); not a real delivery.
    Suppressed,
    /// cPanel `Sender identification U= D= S=`.
    SenderIdentified,
    /// cPanel / Exim `cwd=... N args: ...`: which script invoked the MTA.
    Script,
    /// Postfix smtpd `client=` line (with `sasl_username=`), or pickup `uid= from=`.
    Client,
    /// Postfix cleanup `message-id=`.
    MessageId,
    /// A bounce/DSN was generated for this message: `related_id` is the new queue ID.
    BounceNotice,
    /// An SMTP client connected or disconnected (Exim `SMTP connection from`, Postfix
    /// `connect from`/`disconnect from`, postscreen `CONNECT`).
    Connection,
    /// An SMTP AUTH attempt failed.
    AuthFailed,
    /// SMTP protocol/syntax errors, early talkers, lost connections, timeouts.
    ProtocolError,
    /// Postscreen verdicts (PASS, DNSBL, PREGREET, ...).
    Screen,
    /// MTA warnings, errors, fatal and panic lines.
    Warning,
    /// Any other line the MTA logs that we understand but do not use
    /// (queue runs, daemon start, TLS details, statistics).
    Info,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Arrival => "arrival",
            Kind::Delivered => "delivered",
            Kind::Deferred => "deferred",
            Kind::Bounced => "bounced",
            Kind::Rejected => "rejected",
            Kind::Expired => "expired",
            Kind::Completed => "completed",
            Kind::Frozen => "frozen",
            Kind::Unfrozen => "unfrozen",
            Kind::AdminRemoved => "admin_removed",
            Kind::CutThrough => "cut_through",
            Kind::Suppressed => "suppressed",
            Kind::SenderIdentified => "sender_identified",
            Kind::Script => "script",
            Kind::Client => "client",
            Kind::MessageId => "message_id",
            Kind::BounceNotice => "bounce_notice",
            Kind::Connection => "connection",
            Kind::AuthFailed => "auth_failed",
            Kind::ProtocolError => "protocol_error",
            Kind::Screen => "screen",
            Kind::Warning => "warning",
            Kind::Info => "info",
        }
    }
}

/// Which cPanel sending limit a `R=enforce_mail_permissions` line reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// "has exceeded the max defers and failures per hour"
    DeferFail,
    /// "has exceeded the max emails per hour"
    EmailsPerHour,
    /// Outgoing mail suspension or hold, `nobody` restrictions and other
    /// `enforce_mail_permissions` refusals.
    Other,
}

/// The figures of a cPanel limit line: `Domain D has exceeded ... (N/M (P%))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Limit<'a> {
    pub kind: LimitKind,
    /// The domain (or sender) that the limit is charged to.
    pub domain: Option<&'a str>,
    /// First figure: the count when the limit tripped.
    pub count: Option<i64>,
    /// Second figure: the configured limit or minimum.
    pub max: Option<i64>,
    /// Third figure: the percentage cPanel printed.
    pub percent: Option<i64>,
}

/// A point in time as written in the log: local wall-clock time plus the UTC offset if the
/// line stated one. Hours are bucketed on the wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    pub local: chrono::NaiveDateTime,
    /// Offset east of UTC in seconds, when the log line carried one.
    pub offset: Option<i32>,
}

impl Timestamp {
    pub fn new(local: chrono::NaiveDateTime, offset: Option<i32>) -> Self {
        Timestamp { local, offset }
    }

    /// ISO 8601 text: `2026-11-26T10:00:01[.123][+01:00]`.
    pub fn to_iso(&self) -> String {
        use std::fmt::Write;
        let mut s = String::with_capacity(32);
        let _ = write!(s, "{}", self.local.format("%Y-%m-%dT%H:%M:%S"));
        let nanos = chrono::Timelike::nanosecond(&self.local);
        if nanos != 0 {
            if nanos.is_multiple_of(1_000_000) {
                let _ = write!(s, ".{:03}", nanos / 1_000_000);
            } else {
                let _ = write!(s, ".{:06}", nanos / 1_000);
            }
        }
        if let Some(off) = self.offset {
            let sign = if off < 0 { '-' } else { '+' };
            let a = off.unsigned_abs();
            let _ = write!(s, "{}{:02}:{:02}", sign, a / 3600, (a % 3600) / 60);
        }
        s
    }

    /// The clock hour key `YYYY-MM-DDTHH` in the log's own time.
    pub fn hour_key(&self) -> String {
        self.local.format("%Y-%m-%dT%H").to_string()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_iso())
    }
}

/// The JSON form [`Timestamp::to_iso`] writes: not RFC 3339 `date-time`, whose offset is
/// required, hence a pattern.
impl JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "ISO 8601 local time as in the log, with milliseconds or \
                microseconds when the log has them and the UTC offset when the line states one.",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\
                (\\.[0-9]{3}|\\.[0-9]{6})?([+-][0-9]{2}:[0-9]{2})?$"
        })
    }
}

/// One understood log line.
///
/// Text fields are slices of the log line. Addresses are as logged, without angle brackets;
/// the null sender is `""` inside `sender` (printed as `<>` by reports).
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    pub time: Timestamp,
    pub mta: Mta,
    pub kind: Kind,
    /// Exim message ID or Postfix queue ID; `None` for connection-level lines and NOQUEUE.
    pub queue_id: Option<&'a str>,
    /// Envelope sender (`<=`, `F=`, `from=`); `Some("")` is the null sender `<>`.
    pub sender: Option<&'a str>,
    /// The recipient of a delivery, deferral, failure or rejection.
    pub recipient: Option<&'a str>,
    /// The recipient's original address before aliasing (`<orig>` / `orig_to=`).
    pub original_recipient: Option<&'a str>,
    /// Remote host name (`H=`, `relay=`, `client=`), without brackets.
    pub host: Option<&'a str>,
    /// Remote IP address.
    pub ip: Option<&'a str>,
    /// Basic SMTP reply code (e.g. 550).
    pub code: Option<u16>,
    /// Enhanced status code (e.g. `5.1.1`).
    pub status: Option<&'a str>,
    /// Error, deferral or rejection text (the remote reply or the local reason).
    pub text: Option<&'a str>,
    /// Sending account: Exim `A=auth:id`, `U=` for local submissions, cPanel `U=`,
    /// Postfix `sasl_username=`/`uid=`.
    pub account: Option<&'a str>,
    /// Exim router (`R=` on delivery lines).
    pub router: Option<&'a str>,
    /// Exim transport (`T=` on delivery lines) or Postfix delivery service (`smtp`, `local`).
    pub transport: Option<&'a str>,
    /// Message size in bytes (`S=`, `size=`).
    pub size: Option<u64>,
    /// Subject (`T="..."` on Exim arrivals), still escaped as logged.
    pub subject: Option<&'a str>,
    /// RFC 5322 Message-ID (`id=`, `message-id=`).
    pub message_id: Option<&'a str>,
    /// Protocol on arrival (`P=esmtpa`, `proto=ESMTP`).
    pub protocol: Option<&'a str>,
    /// A linked queue ID: the parent of an Exim bounce (`R=` on `<= <>`), or the new queue ID
    /// of a Postfix bounce notice, or of a content-filter requeue (on the `delivered` event
    /// whose reply says `queued as NEWID`).
    pub related_id: Option<&'a str>,
    /// Space-separated recipient list of an Exim arrival (`for a b c`).
    pub recipients: Option<&'a str>,
    /// cPanel: the domain charged for sending limits (`Sender identification D=`).
    pub domain: Option<&'a str>,
    /// cPanel limit figures on `R=enforce_mail_permissions` lines.
    pub limit: Option<Limit<'a>>,
    /// True for deferrals where no delivery was attempted: Exim "retry time not reached"
    /// (errno -52 to -54), queue-only domains (`queue_domains`, `queue_smtp_domains`, `-odqs`:
    /// -55, -56, or -1 with that text), held domains (-23), a transport's concurrency limit
    /// (-57); Postfix "delivery temporarily suspended". They are counted apart as "queued,
    /// not attempted", never as failed deliveries (the JSON name is kept for schema v1).
    pub retry_not_due: bool,
    /// Postfix instance/service as in `postfix-out/smtp` (the whole syslog tag); Exim: `None`.
    pub program: Option<&'a str>,
    /// Postfix `nrcpt=`: the number of recipients of a queued message.
    pub nrcpt: Option<u32>,
}

impl<'a> Event<'a> {
    /// An event with every optional field empty.
    pub fn new(time: Timestamp, mta: Mta, kind: Kind) -> Self {
        Event {
            time,
            mta,
            kind,
            queue_id: None,
            sender: None,
            recipient: None,
            original_recipient: None,
            host: None,
            ip: None,
            code: None,
            status: None,
            text: None,
            account: None,
            router: None,
            transport: None,
            size: None,
            subject: None,
            message_id: None,
            protocol: None,
            related_id: None,
            recipients: None,
            domain: None,
            limit: None,
            retry_not_due: false,
            program: None,
            nrcpt: None,
        }
    }
}

/// An event with the file and line it came from: the unit printed by `mailtrace events`.
pub(crate) struct Located<'e, 'a> {
    pub event: &'e Event<'a>,
    pub file: &'e str,
    pub line: u64,
}

impl Serialize for Located<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        EventJson::of(self).serialize(s)
    }
}

/// One line of `mailtrace events` (and `follow --format events`): what [`Located`] writes,
/// field for field, so the JSON Schema derived from it (`mailtrace schema events`) is the
/// output's. Every member is always present, `null` when the line does not carry it.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Event", deny_unknown_fields)]
pub(crate) struct EventJson<'a> {
    /// Schema version.
    #[schemars(extend("const" = EVENT_SCHEMA_VERSION))]
    v: u32,
    time: Timestamp,
    mta: Mta,
    kind: Kind,
    /// Exim message ID or Postfix queue ID; `null` for NOQUEUE and connection lines.
    queue_id: Option<&'a str>,
    /// Envelope sender; `<>` is the null sender.
    sender: Option<&'a str>,
    /// The recipient of a delivery, deferral, failure or rejection.
    recipient: Option<&'a str>,
    /// The recipient's address before aliasing (`<orig>`, `orig_to=`).
    original_recipient: Option<&'a str>,
    /// Remote host name (`H=`, `relay=`, `client=`), without brackets.
    host: Option<&'a str>,
    /// Remote IP address.
    ip: Option<&'a str>,
    /// Basic SMTP reply code (e.g. 550).
    code: Option<u16>,
    /// Enhanced status code (e.g. `5.1.1`).
    status: Option<&'a str>,
    /// Error, deferral or rejection text (the remote reply or the local reason).
    text: Option<&'a str>,
    /// Sending account: Exim `A=` id, local `U=`, cPanel `U=`, Postfix
    /// `sasl_username=`/`uid=`.
    account: Option<&'a str>,
    /// Exim router (`R=`).
    router: Option<&'a str>,
    /// Exim transport (`T=`) or Postfix delivery service (`smtp`, `local`).
    transport: Option<&'a str>,
    /// Message size in bytes (`S=`, `size=`).
    size: Option<u64>,
    /// Subject (`T="..."` on Exim arrivals), escaped as logged.
    subject: Option<&'a str>,
    /// RFC 5322 Message-ID (`id=`, `message-id=`).
    message_id: Option<&'a str>,
    /// Protocol on arrival (`P=esmtpa`, `proto=ESMTP`).
    protocol: Option<&'a str>,
    /// The bounce's parent (Exim `R=`), or the new queue ID (bounce notice, `queued as`).
    related_id: Option<&'a str>,
    /// Space-separated recipient list of an Exim arrival (`for a b c`).
    recipients: Option<&'a str>,
    /// cPanel: the domain charged for sending limits (`Sender identification D=`).
    domain: Option<&'a str>,
    /// cPanel limit figures on `R=enforce_mail_permissions` lines.
    limit: Option<Limit<'a>>,
    /// A deferral where no delivery was attempted (retry time not reached, a queue-only or
    /// held domain, delivery temporarily suspended).
    retry_not_due: bool,
    /// Postfix syslog tag (`postfix-out/smtp`); Exim: `null`.
    program: Option<&'a str>,
    /// Postfix `nrcpt=`: the number of recipients of a queued message.
    nrcpt: Option<u32>,
    /// The input the line was read from.
    file: &'a str,
    /// The line's number in its input, from 1.
    line: u64,
}

impl<'e> EventJson<'e> {
    fn of<'a: 'e>(l: &Located<'e, 'a>) -> EventJson<'e> {
        let e = l.event;
        EventJson {
            v: EVENT_SCHEMA_VERSION,
            time: e.time,
            mta: e.mta,
            kind: e.kind,
            queue_id: e.queue_id,
            sender: e.sender.map(display_sender),
            recipient: e.recipient,
            original_recipient: e.original_recipient,
            host: e.host,
            ip: e.ip,
            code: e.code,
            status: e.status,
            text: e.text,
            account: e.account,
            router: e.router,
            transport: e.transport,
            size: e.size,
            subject: e.subject,
            message_id: e.message_id,
            protocol: e.protocol,
            related_id: e.related_id,
            recipients: e.recipients,
            domain: e.domain,
            limit: e.limit,
            retry_not_due: e.retry_not_due,
            program: e.program,
            nrcpt: e.nrcpt,
            file: l.file,
            line: l.line,
        }
    }
}

/// The null sender is stored as `""` and shown as `<>`.
pub(crate) fn display_sender(s: &str) -> &str {
    if s.is_empty() { "<>" } else { s }
}

/// Lower-cases a domain without allocating when it already is.
pub(crate) fn lower(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(s.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// The domain part of an address (after the last `@`), lower-cased by the caller if needed;
/// `<>` for the null sender and `None` for an address without a domain.
pub fn domain_of(addr: &str) -> Option<&str> {
    if addr.is_empty() || addr == "<>" {
        return Some("<>");
    }
    // A byte search: `@` is ASCII, so the byte after it starts a character. (`str::rfind`
    // with a `char` goes through the slower generic searcher; this runs for every line.)
    memchr::memrchr(b'@', addr.as_bytes())
        .map(|i| &addr[i + 1..])
        .filter(|d| !d.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn timestamp_iso_keeps_fraction_and_offset() {
        let t = NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_milli_opt(10, 0, 1, 712)
            .unwrap();
        assert_eq!(Timestamp::new(t, None).to_iso(), "2026-11-26T10:00:01.712");
        assert_eq!(
            Timestamp::new(t, Some(-5 * 3600 - 1800)).to_iso(),
            "2026-11-26T10:00:01.712-05:30"
        );
        assert_eq!(Timestamp::new(t, None).hour_key(), "2026-11-26T10");
    }

    #[test]
    fn domain_of_handles_null_sender_and_bare_names() {
        assert_eq!(domain_of(""), Some("<>"));
        assert_eq!(domain_of("a@b.example"), Some("b.example"));
        assert_eq!(domain_of("\"x@y\"@c.example"), Some("c.example"));
        assert_eq!(domain_of("root"), None);
    }
}
