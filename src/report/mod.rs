//! The report: plain data built from the aggregates ([`Report::build`]), rendered as text,
//! Markdown, JSON or CSV by the submodules. Nothing here reads files or compiles patterns;
//! renderers take `&Report` and a writer. All the English about diagnoses and what to do
//! comes from [`advice`].

pub mod advice;
pub mod csv;
pub mod doc;
pub mod json;

use serde::Serialize;

use crate::aggregate::SubjectKind;
use crate::aggregate::{Aggregates, LogLimit};
use crate::classify::Cause;
use crate::diagnose::{self, Diagnosis, Verdict};
use crate::model::cpanel::REPLAY_PERCENTS;
use crate::model::event::{LimitKind, Mta, Timestamp};
use crate::model::hour::{Counts, Hour, HourSeries};
use crate::model::outcome::OutcomeKind;
use crate::model::thresholds::Thresholds;
use crate::scan::FileStats;
use crate::util::redact;
use crate::util::text::round1;

/// Version of the JSON report schema.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// One input as summarised in the header.
#[derive(Debug, Clone, Serialize)]
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

#[derive(Debug, Clone, Serialize)]
pub struct Period {
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub messages: u64,
    pub bounce_messages: u64,
    pub recipients: u64,
    pub delivered: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub rejected: u64,
    pub expired: u64,
    pub incomplete_messages: u64,
    pub admin_removed: u64,
    pub frozen: u64,
    pub auth_failures: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct HourRow {
    pub hour: Hour,
    #[serde(flatten)]
    pub counts: Counts,
}

/// One row of `by_sender_domain`, `by_account`, `by_sender` or `by_recipient_domain`.
#[derive(Debug, Clone, Serialize)]
pub struct KeyHourRow {
    #[serde(skip)]
    pub key: String,
    pub hour: Hour,
    #[serde(flatten)]
    pub counts: Counts,
    pub defer_fail_percent: f64,
}

/// Where a limit row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitSource {
    /// `R=enforce_mail_permissions` lines in the log.
    Log,
    /// mailtrace's replay of the rule.
    Replay,
}

#[derive(Debug, Clone, Serialize)]
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

#[derive(Debug, Clone, Serialize)]
pub struct SenderRow {
    /// `sender_domain` or `account`.
    pub kind: &'static str,
    pub name: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub defer_fail_percent: f64,
    pub worst_hour: Option<Hour>,
    pub worst_hour_defer_fail: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailedRecipient {
    pub recipient: String,
    pub sender: Option<String>,
    pub account: Option<String>,
    pub outcome: OutcomeKind,
    pub attempts: u64,
    pub code: Option<u16>,
    pub status: Option<String>,
    pub text: Option<String>,
    pub cause: Cause,
    pub permanent: bool,
    pub host: Option<String>,
    pub first: Timestamp,
    pub last: Timestamp,
    pub queue_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecipientDomainRow {
    pub domain: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub defer_fail_percent: f64,
    /// Destination hosts of deferred and failed attempts, most first: (host, count).
    pub hosts: Vec<(String, u64)>,
    pub top_cause: Option<Cause>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CauseRow {
    pub cause: Cause,
    pub count: u64,
}

/// Settings echoed in the report.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub limit_min: u64,
    pub limit_percent: Option<u64>,
    pub top: usize,
    pub redacted: bool,
    pub thresholds: Thresholds,
}

/// Everything the report says.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    pub settings: Settings,
    pub files: Vec<FileSummary>,
    pub period: Period,
    pub lines: u64,
    pub unrecognised_lines: u64,
    pub malformed_lines: u64,
    pub totals: Totals,
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
    pub causes: Vec<CauseRow>,
    pub diagnoses: Vec<DiagnosisRow>,
    pub next_steps: Vec<String>,
}

/// One diagnosis as the report states it: the verdict with its evidence and advice in words
/// ([`advice`]).
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
pub struct SenderDomainRow {
    pub domain: String,
    #[serde(flatten)]
    pub row: KeyHourRow,
}

/// `by_account` row.
#[derive(Debug, Clone, Serialize)]
pub struct AccountRow {
    pub account: String,
    #[serde(flatten)]
    pub row: KeyHourRow,
}

/// `by_sender` row.
#[derive(Debug, Clone, Serialize)]
pub struct SenderKeyRow {
    pub sender: String,
    #[serde(flatten)]
    pub row: KeyHourRow,
}

fn key_hour_rows(
    map: &crate::util::hash::HashMap<Box<str>, HourSeries>,
    wanted: bool,
) -> Vec<KeyHourRow> {
    if !wanted {
        return Vec::new();
    }
    let mut rows: Vec<KeyHourRow> = map
        .iter()
        .flat_map(|(k, s)| {
            s.hours.iter().map(move |(h, c)| KeyHourRow {
                key: k.to_string(),
                hour: *h,
                counts: *c,
                defer_fail_percent: round1(c.defer_fail_percent()),
            })
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key).then(a.hour.cmp(&b.hour)));
    rows
}

fn take<T>(mut v: Vec<T>, top: usize) -> Vec<T> {
    if top > 0 {
        v.truncate(top);
    }
    v
}

/// What the report builder needs besides the aggregates.
pub struct BuildOptions {
    /// Build the per-hour tables (`by_sender_domain`, `by_account`, `by_sender`,
    /// `by_recipient_domain`), which only the JSON output prints.
    pub hourly_tables: bool,
    pub top: usize,
    pub redact: bool,
    pub thresholds: Thresholds,
}

impl Report {
    /// Builds the report. The failing recipients are moved out of `agg`, not copied, so the
    /// largest table is held once.
    pub fn build(agg: &mut Aggregates<'_>, files: &[FileStats], opts: &BuildOptions) -> Report {
        let diagnoses = diagnose::diagnose(agg, &opts.thresholds);
        let top = opts.top;
        let rule = agg.rule;

        // Sending limits: the log's own trips, then the replay.
        let mut limits: Vec<LimitRow> = agg
            .log_limits
            .iter()
            .map(|l| log_limit_row(agg, l))
            .collect();
        let mut replay_domains: Vec<_> = agg.replay.iter().collect();
        replay_domains.sort_by(|a, b| a.0.cmp(b.0));
        for (domain, hours) in replay_domains {
            for (h, dh) in hours {
                let percents: Vec<(usize, u64)> = match rule.percent {
                    Some(p) => vec![(0, p)],
                    None => REPLAY_PERCENTS
                        .iter()
                        .enumerate()
                        .map(|(i, p)| (i + 1, *p))
                        .collect(),
                };
                let mut any = false;
                for (slot, p) in percents {
                    if let Some(t) = dh.trips[slot] {
                        any = true;
                        limits.push(LimitRow {
                            domain: domain.to_string(),
                            hour: *h,
                            kind: LimitKind::DeferFail,
                            source: LimitSource::Replay,
                            threshold_percent: Some(p),
                            count: Some(t.defer_fail as i64),
                            max: Some(rule.min as i64),
                            percent: Some(round1(t.percent)),
                            tripped_at: Some(t.at),
                            discarded: if slot == 0 || (rule.percent.is_none() && slot == 1) {
                                discarded_after(agg, domain, *h, &t.at)
                            } else {
                                0
                            },
                            lines: 0,
                            closeness: 1.0,
                            counts: dh.counts,
                        });
                    }
                }
                if !any && dh.peak >= 0.8 {
                    limits.push(LimitRow {
                        domain: domain.to_string(),
                        hour: *h,
                        kind: LimitKind::DeferFail,
                        source: LimitSource::Replay,
                        threshold_percent: Some(rule.percent.unwrap_or(100)),
                        count: Some(dh.counts.defer_fail() as i64),
                        max: Some(rule.min as i64),
                        percent: Some(round1(dh.counts.defer_fail_percent())),
                        tripped_at: None,
                        discarded: 0,
                        lines: 0,
                        closeness: (dh.peak * 100.0).round() / 100.0,
                        counts: dh.counts,
                    });
                }
            }
        }
        limits.sort_by(|a, b| {
            a.hour
                .cmp(&b.hour)
                .then(a.domain.cmp(&b.domain))
                .then((a.source as u8).cmp(&(b.source as u8)))
                .then(b.threshold_percent.cmp(&a.threshold_percent))
        });

        // Failing senders: sender domains and accounts by defer+fail.
        let mut failing_senders = Vec::new();
        for (kind, map) in [
            ("sender_domain", &agg.by_sender_domain),
            ("account", &agg.by_account),
        ] {
            for (name, series) in map {
                let c = series.total();
                if c.defer_fail() + c.rejected + c.expired == 0 {
                    continue;
                }
                let worst = series.worst_hour();
                failing_senders.push(SenderRow {
                    kind,
                    name: name.to_string(),
                    counts: c,
                    defer_fail_percent: round1(c.defer_fail_percent()),
                    worst_hour: worst.map(|w| w.0),
                    worst_hour_defer_fail: worst
                        .map(|w| w.1.defer_fail() + w.1.rejected)
                        .unwrap_or(0),
                });
            }
        }
        failing_senders.sort_by(|a, b| {
            (b.counts.defer_fail() + b.counts.rejected)
                .cmp(&(a.counts.defer_fail() + a.counts.rejected))
                .then(a.kind.cmp(b.kind))
                .then(a.name.cmp(&b.name))
        });

        // Failing recipients (still failing at the end).
        // Recipient domains with problems, and the causes of each one's failing recipients
        // (one pass over the failing recipients).
        let mut domain_causes: std::collections::HashMap<
            String,
            std::collections::BTreeMap<Cause, u64>,
        > = std::collections::HashMap::new();
        for r in agg.failing.values().flatten() {
            if let Some(d) = crate::model::event::domain_of(&r.recipient) {
                *domain_causes
                    .entry(d.to_ascii_lowercase())
                    .or_default()
                    .entry(r.cause)
                    .or_default() += r.counts.problems();
            }
        }
        let mut failed: Vec<FailedRecipient> = std::mem::take(&mut agg.failing)
            .into_values()
            .flatten()
            .filter(|r| r.last != OutcomeKind::Delivered)
            .map(|r| FailedRecipient {
                attempts: r.attempts(),
                recipient: r.recipient,
                sender: r.sender,
                account: r.account,
                outcome: r.last,
                code: r.code,
                status: r.status,
                text: r.text,
                cause: r.cause,
                permanent: r.permanence == crate::classify::Permanence::Permanent,
                host: r.host,
                first: r.first,
                last: r.last_time,
                queue_ids: r.queue_ids,
            })
            .collect();
        failed.sort_by(|a, b| {
            b.attempts
                .cmp(&a.attempts)
                .then(a.sender.cmp(&b.sender))
                .then(a.recipient.cmp(&b.recipient))
        });

        let mut recipient_domains: Vec<RecipientDomainRow> = agg
            .by_recipient_domain
            .iter()
            .filter_map(|(d, s)| {
                let c = s.total();
                if c.problems() == 0 {
                    return None;
                }
                let mut hosts: Vec<(String, u64)> = agg
                    .recipient_domain_hosts
                    .get(d)
                    .map(|m| {
                        m.iter()
                            .map(|(h, c)| (h.to_string(), c.problems()))
                            .collect()
                    })
                    .unwrap_or_default();
                hosts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                hosts.truncate(3);
                let top_cause = domain_causes
                    .get(d.as_ref())
                    .and_then(|m| m.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))))
                    .map(|(c, _)| *c);
                Some(RecipientDomainRow {
                    domain: d.to_string(),
                    counts: c,
                    defer_fail_percent: round1(c.defer_fail_percent()),
                    hosts,
                    top_cause,
                })
            })
            .collect();
        recipient_domains.sort_by(|a, b| {
            b.counts
                .problems()
                .cmp(&a.counts.problems())
                .then(a.domain.cmp(&b.domain))
        });

        let mut causes: Vec<CauseRow> = agg
            .causes
            .iter()
            .map(|(c, n)| CauseRow {
                cause: *c,
                count: *n,
            })
            .collect();
        causes.sort_by(|a, b| b.count.cmp(&a.count).then(a.cause.cmp(&b.cause)));

        let mut report = Report {
            version: REPORT_SCHEMA_VERSION,
            settings: Settings {
                limit_min: rule.min,
                limit_percent: rule.percent,
                top,
                redacted: opts.redact,
                thresholds: opts.thresholds.clone(),
            },
            files: files.iter().map(FileSummary::from).collect(),
            period: Period {
                first: agg.first,
                last: agg.last,
            },
            lines: files.iter().map(|f| f.lines).sum(),
            unrecognised_lines: files.iter().map(|f| f.unrecognised).sum(),
            malformed_lines: files.iter().map(|f| f.malformed).sum(),
            totals: Totals {
                messages: agg.messages,
                bounce_messages: agg.bounce_messages,
                recipients: agg.recipients,
                delivered: agg.totals.delivered,
                deferred: agg.totals.deferred,
                bounced: agg.totals.bounced,
                rejected: agg.totals.rejected,
                expired: agg.totals.expired,
                incomplete_messages: agg.incomplete_messages,
                admin_removed: agg.admin_removed,
                frozen: agg.frozen_messages,
                auth_failures: agg.auth_failures,
            },
            by_hour: agg
                .by_hour
                .iter()
                .map(|(h, c)| HourRow {
                    hour: *h,
                    counts: *c,
                })
                .collect(),
            by_sender_domain: key_hour_rows(&agg.by_sender_domain, opts.hourly_tables)
                .into_iter()
                .map(|row| SenderDomainRow {
                    domain: row.key.clone(),
                    row,
                })
                .collect(),
            by_account: key_hour_rows(&agg.by_account, opts.hourly_tables)
                .into_iter()
                .map(|row| AccountRow {
                    account: row.key.clone(),
                    row,
                })
                .collect(),
            by_sender: key_hour_rows(&agg.by_sender, opts.hourly_tables)
                .into_iter()
                .map(|row| SenderKeyRow {
                    sender: row.key.clone(),
                    row,
                })
                .collect(),
            by_recipient_domain: key_hour_rows(&agg.by_recipient_domain, opts.hourly_tables)
                .into_iter()
                .map(|row| SenderDomainRow {
                    domain: row.key.clone(),
                    row,
                })
                .collect(),
            limits,
            failing_senders: take(failing_senders, top),
            failed_recipients: failed,
            failed_recipients_unlisted_lines: agg.failing_unlisted_lines,
            recipient_domains: take(recipient_domains, top),
            causes,
            diagnoses: diagnoses.iter().map(DiagnosisRow::from).collect(),
            next_steps: Vec::new(),
        };
        report.next_steps = advice::next_steps(&report);
        if opts.redact {
            report.redact();
        }
        report
    }

    /// Returns true if and only if the report found something a person should act on: a
    /// limit tripped (in the log, or by the configured rule or at 100% when none is set) or
    /// came within 80% of it, or an offender was diagnosed.
    pub fn has_problems(&self) -> bool {
        !self.diagnoses.is_empty()
            || self.limits.iter().any(|l| {
                l.source == LimitSource::Log
                    || l.tripped_at.is_none()
                    || l.threshold_percent == Some(self.settings.limit_percent.unwrap_or(100))
            })
    }

    /// The limit rows a person needs: real trips, trips of the configured rule (or at 100%
    /// when it is off), near misses. Replays at lower percentages are kept for JSON.
    pub fn headline_limits(&self) -> impl Iterator<Item = &LimitRow> {
        self.limits.iter()
    }

    fn redact(&mut self) {
        let a = |s: &mut String| *s = redact::address(s).into_owned();
        let ao = |s: &mut Option<String>| {
            if let Some(x) = s {
                *x = redact::address(x).into_owned();
            }
        };
        let t = |s: &mut Option<String>| {
            if let Some(x) = s {
                *x = redact::text(x).into_owned();
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
            ao(&mut r.sender);
            ao(&mut r.account);
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
    }
}

fn log_limit_row(agg: &Aggregates<'_>, l: &LogLimit) -> LimitRow {
    let counts = agg
        .replay
        .get(l.domain.as_str())
        .and_then(|hs| hs.iter().find(|(h, _)| *h == l.hour))
        .map(|(_, d)| d.counts)
        .unwrap_or_default();
    LimitRow {
        domain: l.domain.clone(),
        hour: l.hour,
        kind: l.kind,
        source: LimitSource::Log,
        threshold_percent: None,
        count: l.count,
        max: l.max,
        percent: l.percent.map(|p| p as f64),
        tripped_at: Some(l.first),
        discarded: l.messages.len() as u64,
        lines: l.lines,
        closeness: 1.0,
        counts,
    }
}

/// Messages of `domain` with lines after the replayed trip in hour `h`.
fn discarded_after(agg: &Aggregates<'_>, domain: &str, h: Hour, _at: &Timestamp) -> u64 {
    agg.replay
        .get(domain)
        .and_then(|hs| hs.iter().find(|(x, _)| *x == h))
        .map(|(_, d)| d.after_trip.len() as u64)
        .unwrap_or(0)
}
