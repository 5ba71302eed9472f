//! The report: plain data built from the aggregates and their diagnoses ([`Report::build`]),
//! rendered as text, Markdown, JSON or CSV by [`render`]. Nothing here reads files or
//! compiles patterns; renderers take `&Report` and a writer. All the English about diagnoses
//! and what to do comes from [`advice`].

pub mod advice;
pub mod bound;
mod build;
pub mod daily;
pub mod findings;
pub mod render;

/// The renderers by the paths the command layer uses (`report::doc::render_text`,
/// `report::json::render`, `report::csv::render_suppression`).
pub use render::{self as doc, csv, json, ndjson};

use schemars::JsonSchema;
use std::sync::Arc;

use serde::Serialize;

use crate::aggregate::SubjectKind;
use crate::classify::Cause;
use crate::diagnose::{Diagnosis, Verdict};
use crate::model::event::{LimitKind, Mta, Timestamp};
use crate::model::hour::{Counts, Hour};
use crate::model::outcome::OutcomeKind;
use crate::model::thresholds::Thresholds;
use crate::parse::scan::FileStats;
use crate::util::redact;

/// Version of the JSON report schema.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// One input as summarised in the header.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct FileSummary {
    pub name: String,
    pub mta: Option<Mta>,
    pub lines: u64,
    pub bytes: u64,
    pub events: u64,
    pub unrecognised: u64,
    pub malformed: u64,
    pub other_programs: u64,
    pub invalid_utf8: u64,
    pub truncated: u64,
    pub error: Option<String>,
}

impl From<&FileStats> for FileSummary {
    fn from(s: &FileStats) -> Self {
        FileSummary {
            name: s.name.clone(),
            mta: s.mta,
            lines: s.lines,
            bytes: s.bytes,
            events: s.events,
            unrecognised: s.unrecognised,
            malformed: s.malformed,
            other_programs: s.foreign,
            invalid_utf8: s.invalid_utf8,
            truncated: s.truncated,
            error: s.error.clone(),
        }
    }
}

/// The first and last event time read (`null` when no line was in range).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Period {
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

/// Counts over the whole selection; one per log line (README "How lines are counted").
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Totals {
    pub messages: u64,
    pub bounce_messages: u64,
    pub recipients: u64,
    pub delivered: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub rejected: u64,
    pub expired: u64,
    /// Queued, not attempted: deferrals that made no delivery attempt (retry time not
    /// reached, a queue-only or held domain, a suspended destination). They are not in
    /// `deferred` nor in any failure rate.
    pub not_attempted: u64,
    /// Deliveries that handed the message on to a local content filter or another queue of
    /// this host: hops in the message's chain, not deliveries (not in `delivered`).
    pub handed_off: u64,
    /// Rejections (part of `rejected`) of mail to our own domains: inbound traffic, not
    /// listed as failing recipients or recipient-domain problems.
    pub inbound_refused: u64,
    /// Inbound refusals of bounces (null sender) for mail we never sent: to addresses that
    /// do not exist here or never sent mail in the log (backscatter).
    pub backscatter: u64,
    pub incomplete_messages: u64,
    /// Messages folded as incomplete before the end because `--max-open` messages were
    /// open; in the JSON only when not 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub folded_early: u64,
    /// Sender domains, accounts and envelope senders folded into the totals because
    /// `--max-subjects` of their kind were tracked: their lines count in every total but in
    /// no per-subject table (a subject seen again after it was folded is tracked anew, and
    /// counted again if folded again). In the JSON only when not 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub folded_sender_domains: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub folded_accounts: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub folded_senders: u64,
    /// Of the folded subjects, those that had deferrals or failures (folded only when there
    /// were not enough without). In the JSON only when not 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub folded_with_failures: u64,
    pub admin_removed: u64,
    pub frozen: u64,
    pub auth_failures: u64,
    /// The sizes of the messages received (their arrival line in the selection), each
    /// message once.
    pub bytes_received: u64,
    /// The size of the message for every counted delivery (per recipient).
    pub bytes_delivered: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One row of `by_hour`: the hour's five counts.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct HourRow {
    pub hour: Hour,
    /// Messages received (arrival line seen) in the hour.
    pub received: u64,
    #[serde(flatten)]
    pub counts: Counts,
}

/// One row of `by_sender_domain`, `by_account`, `by_sender` or `by_recipient_domain`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct KeyHourRow {
    #[serde(skip)]
    pub key: String,
    pub hour: Hour,
    #[serde(flatten)]
    pub counts: Counts,
    pub defer_fail_percent: f64,
}

/// Where a limit row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LimitSource {
    /// `R=enforce_mail_permissions` lines in the log.
    Log,
    /// mailtrace's replay of the rule.
    Replay,
}

/// One sending-limit trip or near miss of a sender domain in a clock hour.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct LimitRow {
    pub domain: String,
    pub hour: Hour,
    /// `defer_fail`, `emails_per_hour` or `other`.
    pub kind: LimitKind,
    pub source: LimitSource,
    /// Replay: the percentage threshold replayed; log: `null`.
    pub threshold_percent: Option<u64>,
    /// Defer+fail count (replay) or the first figure cPanel printed (log).
    pub count: Option<i64>,
    /// The second figure cPanel printed (its minimum or maximum); replay: `--limit-min`.
    pub max: Option<i64>,
    pub percent: Option<f64>,
    /// When it tripped; `null` for a domain that only came close.
    pub tripped_at: Option<Timestamp>,
    /// Messages discarded (log) or that would have been (replay) after the trip.
    pub discarded: u64,
    /// Log: the limit lines themselves (one per refused recipient); replay: 0.
    pub lines: u64,
    /// Closeness to the trip condition, 1.0 = tripped.
    pub closeness: f64,
    /// The hour's counts for the domain.
    #[serde(flatten)]
    pub counts: Counts,
}

/// A sender domain or account with failures, and its worst hour.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SenderRow {
    /// `sender_domain` or `account`.
    #[schemars(extend("enum" = ["sender_domain", "account"]))]
    pub kind: &'static str,
    pub name: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub defer_fail_percent: f64,
    pub worst_hour: Option<Hour>,
    pub worst_hour_defer_fail: u64,
}

/// One failing recipient of one sender, with the last failure's reply and cause.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct FailedRecipient {
    pub recipient: String,
    pub sender: Option<Arc<str>>,
    pub account: Option<Arc<str>>,
    pub outcome: OutcomeKind,
    pub attempts: u64,
    pub code: Option<u16>,
    pub status: Option<Arc<str>>,
    pub text: Option<Arc<str>>,
    pub cause: Cause,
    pub permanent: bool,
    pub host: Option<Arc<str>>,
    pub first: Timestamp,
    pub last: Timestamp,
    pub queue_ids: Vec<String>,
}

/// A recipient domain with deferrals or failures.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RecipientDomainRow {
    pub domain: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub defer_fail_percent: f64,
    /// Destination hosts of deferred and failed attempts, most first: (host, count).
    pub hosts: Vec<(String, u64)>,
    pub top_cause: Option<Cause>,
}

/// Refused bounces for mail we never sent, to one of our domains.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct BackscatterRow {
    pub domain: String,
    pub lines: u64,
}

/// Deferrals and failures at a loopback relay: our own content filter or relay, not a
/// remote destination.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct LocalRelayRow {
    /// The relay's host (or IP).
    pub relay: String,
    pub deferred: u64,
    pub bounced: u64,
    pub first: Timestamp,
    pub last: Timestamp,
    pub top_cause: Option<Cause>,
    /// The last line's code and text.
    pub code: Option<u16>,
    pub text: Option<String>,
}

/// How many failure lines one cause explains.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct CauseRow {
    pub cause: Cause,
    pub count: u64,
}

/// Settings echoed in the report.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Settings {
    pub limit_min: u64,
    pub limit_percent: Option<u64>,
    /// The log has lines only a cPanel server writes (`Sender identification`,
    /// `enforce_mail_permissions`, …).
    pub cpanel: bool,
    /// cPanel's defer/fail rule is replayed: on a cPanel log, or when `--limit-min` or
    /// `--limit-percent` was given. Otherwise `limits` holds only the trips the log records.
    pub limit_replayed: bool,
    pub top: usize,
    pub redacted: bool,
    pub thresholds: Thresholds,
    /// The selection the report covers (`--since`, `--until`, `--sender`, `--account`,
    /// `--domain`).
    pub filters: Filters,
    /// The inputs read, in the order read (`<stdin>` for standard input).
    pub inputs: Vec<String>,
    /// The version of mailtrace that wrote the report.
    pub mailtrace_version: String,
    /// The day of `--day` (`YYYY-MM-DD`), or `null`.
    pub day: Option<String>,
}

/// The selection filters of `report`, as given on the command line and as applied; `null`
/// where a filter was not given.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Filters {
    /// `--since` as given (`2026-11-26 10:00`, `yesterday`, `1h`, `now-1h`).
    pub since: Option<String>,
    /// `--since` resolved: the first time included, in the log's wall-clock time.
    pub since_resolved: Option<Timestamp>,
    /// `--until` as given.
    pub until: Option<String>,
    /// `--until` resolved: the first time left out, in the log's wall-clock time.
    pub until_resolved: Option<Timestamp>,
    /// `--sender`: an address, or `@domain` (redacted with `--redact`).
    pub sender: Option<String>,
    /// `--account` (redacted with `--redact` when it is an address).
    pub account: Option<String>,
    /// `--domain` as applied: lower case, without a leading `@`.
    pub domain: Option<String>,
}

/// The members that `--format json` puts first in a report of a run in which an input
/// failed; a complete report has neither.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(inline, deny_unknown_fields)]
pub struct Incomplete<'a> {
    /// Always `false`: some input could not be read, or not to its end.
    #[schemars(extend("const" = false))]
    pub complete: bool,
    /// The inputs that failed.
    pub errors: Vec<InputError<'a>>,
}

/// One failed input of an [`Incomplete`] report.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct InputError<'a> {
    pub input: &'a str,
    pub error: &'a str,
}

/// Everything the report says.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Report {
    /// The schema version, [`REPORT_SCHEMA_VERSION`].
    #[schemars(extend("const" = REPORT_SCHEMA_VERSION))]
    pub version: u32,
    pub settings: Settings,
    pub files: Vec<FileSummary>,
    pub period: Period,
    pub lines: u64,
    pub unrecognised_lines: u64,
    pub malformed_lines: u64,
    pub totals: Totals,
    /// What to act on, ranked by harm; obeys `--top` (the full list with `--top 0`).
    pub findings: Vec<findings::FindingRow>,
    /// Findings left out by `--top`.
    pub findings_not_shown: usize,
    pub by_hour: Vec<HourRow>,
    pub by_sender_domain: Vec<SenderDomainRow>,
    pub by_account: Vec<AccountRow>,
    pub by_sender: Vec<SenderKeyRow>,
    pub by_recipient_domain: Vec<SenderDomainRow>,
    pub limits: Vec<LimitRow>,
    pub failing_senders: Vec<SenderRow>,
    pub failed_recipients: Vec<FailedRecipient>,
    /// Counted lines of failing recipients past the listing limit (not in
    /// `failed_recipients`, but in every total).
    pub failed_recipients_unlisted_lines: u64,
    pub recipient_domains: Vec<RecipientDomainRow>,
    /// Deferrals and failures at loopback relays, most lines first.
    pub local_relays: Vec<LocalRelayRow>,
    /// Our own domains (lower case): those this host delivered to and those our users sent
    /// from. Rejections of mail to them are inbound (`totals.inbound_refused`).
    pub own_domains: Vec<String>,
    /// Backscatter by our domain, most first.
    pub backscatter: Vec<BackscatterRow>,
    pub causes: Vec<CauseRow>,
    pub diagnoses: Vec<DiagnosisRow>,
    pub next_steps: Vec<String>,
    /// Entries left out of each list by `--top` in `--format json`: the whole lists are in
    /// `--format ndjson` and `--top 0`.
    pub lists_cut: bound::ListsCut,
    /// Senders by messages sent (bounded; exact unless `approximate`).
    pub top_senders: daily::VolumeTable<daily::SenderVolumeRow>,
    /// Recipients by messages delivered to them (bounded; exact unless `approximate`).
    pub top_recipients: daily::VolumeTable<daily::RecipientVolumeRow>,
    /// MTA warning, error, fatal and panic lines by normalised text.
    pub mta_warnings: daily::WarningTable,
    /// Messages still frozen (or on hold) when they left the log, with when they froze.
    pub frozen_messages: daily::MessageList,
    /// Messages an administrator removed.
    pub removed_messages: daily::MessageList,
}

/// One diagnosis as the report states it: the verdict with its evidence and advice in words
/// ([`advice`]).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct DiagnosisRow {
    /// The account name or sender domain (lower case).
    pub subject: String,
    pub subject_kind: SubjectKind,
    pub verdict: Verdict,
    /// Share of the verdict's indicators that hold, 0..1 (two decimals).
    pub confidence: f64,
    /// What was found, figures with their thresholds ([`advice::evidence`]).
    pub evidence: Vec<String>,
    /// Plain words a support agent can paste ([`advice::advice`]).
    pub advice: String,
}

impl From<&Diagnosis> for DiagnosisRow {
    fn from(d: &Diagnosis) -> Self {
        DiagnosisRow {
            subject: d.subject.clone(),
            subject_kind: d.subject_kind,
            verdict: d.verdict,
            confidence: d.confidence,
            evidence: advice::evidence(d),
            advice: advice::advice(d),
        }
    }
}

/// `by_sender_domain` / `by_recipient_domain` row: `{domain, hour, counts…, defer_fail_percent}`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SenderDomainRow {
    pub domain: String,
    #[serde(flatten)]
    pub row: KeyHourRow,
}

/// `by_account` row.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct AccountRow {
    pub account: String,
    #[serde(flatten)]
    pub row: KeyHourRow,
}

/// `by_sender` row.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SenderKeyRow {
    pub sender: String,
    #[serde(flatten)]
    pub row: KeyHourRow,
}

/// The per-hour tables a report holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HourlyTables {
    /// None (the text, Markdown and CSV outputs do not print them).
    Omitted,
    /// Every key's rows (`--format ndjson`, the full export).
    All,
    /// The rows of the N keys with the most deferrals and failures (then the most lines,
    /// then by name); how many keys were left out is in `lists_cut`. Choosing them before
    /// the rows are made keeps a busy day's hundreds of thousands of rows out of memory.
    Top(usize),
}

/// What the report builder needs besides the aggregates.
pub struct BuildOptions {
    /// Which rows of the per-hour tables (`by_sender_domain`, `by_account`, `by_sender`,
    /// `by_recipient_domain`) to build: only the JSON and NDJSON outputs print them.
    pub hourly_tables: HourlyTables,
    pub top: usize,
    pub redact: bool,
    pub thresholds: Thresholds,
    /// `--limit-min` or `--limit-percent` was given: replay cPanel's rule even on a log that
    /// is not from a cPanel server.
    pub limit_given: bool,
    /// The day of `--day`: the report is a daily summary.
    pub day: Option<chrono::NaiveDate>,
}

impl Report {
    /// Returns true if and only if the report found something a person should act on: a
    /// finding, or a limit tripped (in the log, or by the configured rule or at 100% when
    /// none is set) or came within 80% of it.
    pub(crate) fn has_problems(&self) -> bool {
        !self.findings.is_empty()
            || self.findings_not_shown > 0
            || self.limits.iter().any(|l| self.is_headline(l))
    }

    /// Returns true if and only if a limit row is one a person acts on: a trip the log
    /// records, a trip of the configured rule (or at 100% when it is off), or a near miss;
    /// not a replay at one of the lower percentages.
    pub(crate) fn is_headline(&self, l: &LimitRow) -> bool {
        l.source == LimitSource::Log
            || l.tripped_at.is_none()
            || l.threshold_percent == Some(self.settings.limit_percent.unwrap_or(100))
    }

    /// The limit rows a person needs: real trips, trips of the configured rule (or at 100%
    /// when it is off), near misses. Replays at lower percentages are kept for JSON.
    pub fn headline_limits(&self) -> impl Iterator<Item = &LimitRow> {
        self.limits.iter()
    }

    /// Sets `settings.filters`, redacting the addresses in them when the report is redacted.
    pub fn set_filters(&mut self, mut filters: Filters) {
        if self.settings.redacted {
            for f in [&mut filters.sender, &mut filters.account]
                .into_iter()
                .flatten()
            {
                *f = redact::address(f).into_owned();
            }
        }
        self.settings.filters = filters;
    }

    fn redact(&mut self) {
        let a = |s: &mut String| *s = redact::address(s).into_owned();
        let t = |s: &mut Option<String>| {
            if let Some(x) = s {
                *x = redact::text(x).into_owned();
            }
        };
        let shared_address = |s: &mut Option<Arc<str>>| {
            if let Some(x) = s {
                *x = Arc::from(redact::address(x).as_ref());
            }
        };
        let shared_text = |s: &mut Option<Arc<str>>| {
            if let Some(x) = s {
                *x = Arc::from(redact::text(x).as_ref());
            }
        };
        for r in &mut self.by_account {
            a(&mut r.account);
        }
        for r in &mut self.by_sender {
            a(&mut r.sender);
        }
        for r in &mut self.failing_senders {
            a(&mut r.name);
        }
        for r in &mut self.failed_recipients {
            a(&mut r.recipient);
            shared_address(&mut r.sender);
            shared_address(&mut r.account);
            shared_text(&mut r.text);
        }
        for r in &mut self.local_relays {
            t(&mut r.text);
        }
        for d in &mut self.diagnoses {
            d.subject = redact::address(&d.subject).into_owned();
            for e in &mut d.evidence {
                *e = redact::text(e).into_owned();
            }
            d.advice = redact::text(&d.advice).into_owned();
        }
        for s in &mut self.next_steps {
            *s = redact::text(s).into_owned();
        }
        daily::redact(
            &mut self.top_senders,
            &mut self.top_recipients,
            &mut self.mta_warnings,
            [&mut self.frozen_messages, &mut self.removed_messages],
        );
        for f in &mut self.findings {
            f.subject = redact::address(&f.subject).into_owned();
            f.summary = redact::text(&f.summary).into_owned();
            f.advice = redact::text(&f.advice).into_owned();
            for e in &mut f.evidence {
                *e = redact::text(e).into_owned();
            }
            for (s, _) in &mut f.senders {
                *s = redact::address(s).into_owned();
            }
        }
    }
}
