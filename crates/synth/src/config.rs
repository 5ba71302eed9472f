//! What to generate.

use chrono::{NaiveDate, NaiveDateTime};

/// The mail server whose log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mta {
    Exim,
    Postfix,
}

/// What to generate.
///
/// Counting rule of the truth: each Exim `=>`/`->` line and each Postfix `status=sent` line
/// is one `delivered`; each Exim `==` line (retry-not-reached too) and each Postfix
/// `status=deferred` line is one `deferred`; each Exim `**` line (cPanel discards too) and each
/// Postfix `status=bounced` line is one `bounced`; each Exim `rejected RCPT` and Postfix
/// `NOQUEUE: reject: RCPT` line is one `rejected`, charged to the sender in `F=`/`from=`; each
/// Postfix `status=expired` line is one `expired`. Lines are charged to the domain of the
/// message's envelope sender (`<>` for the null sender) and to the clock hour of their own
/// timestamp.
///
/// cPanel limit (`cpanel: true`, Exim only): for each hosted sender domain and clock hour, the
/// limit trips at the first `==`/`**` line after which `deferred + bounced >= limit_min` and
/// `100 * (deferred + bounced) >= limit_percent * (delivered + deferred + bounced)`. From then
/// until the hour ends, every delivery attempt to a remote recipient of a message from that
/// domain becomes a `** … R=enforce_mail_permissions: Domain D has exceeded the max defers and
/// failures per hour (N/limit_min (P%)) allowed. Message discarded.` line, with N and P
/// (rounded down) frozen at the trip, and the message's sender gets a bounce. Remote senders
/// and `<>` are never limited.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub mta: Mta,
    /// Messages to originate when `target_bytes` is `None`; the log then runs until every
    /// message has finished.
    pub messages: u64,
    /// Stop as soon as this many bytes have been written (messages still in flight are cut off,
    /// as in a real log).
    pub target_bytes: Option<u64>,
    pub seed: u64,
    /// Wall-clock time of the first line (the log has no zone; read it as UTC).
    pub start: NaiveDateTime,
    /// Exim only: cPanel lines (`Sender identification`, `cwd=`, `SMTP connection outbound`,
    /// cPanel router names) and the defers-and-failures limit.
    pub cpanel: bool,
    /// cPanel "number of failed or deferred messages a domain may send before protections can
    /// be triggered" (default 5).
    pub limit_min: u64,
    /// cPanel "maximum percentage of failed or deferred messages a domain may send per hour".
    pub limit_percent: u64,
}

impl SynthConfig {
    /// 1000 messages from 2026-11-26 00:00:00, seed 1, no cPanel, limit 5 / 100 %.
    pub fn new(mta: Mta) -> Self {
        SynthConfig {
            mta,
            messages: 1000,
            target_bytes: None,
            seed: 1,
            start: NaiveDate::from_ymd_opt(2026, 11, 26)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .expect("valid date"),
            cpanel: false,
            limit_min: 5,
            limit_percent: 100,
        }
    }
}
