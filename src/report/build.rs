//! [`Report::build`]: the report's sections from the aggregates and the diagnoses, one
//! function per section.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::bound::ListsCut;
use super::{
    AccountRow, BackscatterRow, BuildOptions, CauseRow, DiagnosisRow, FailedRecipient, FileSummary,
    Filters, HourRow, HourlyTables, KeyHourRow, LimitRow, LimitSource, LocalRelayRow, Period,
    REPORT_SCHEMA_VERSION, RecipientDomainRow, Report, SenderDomainRow, SenderKeyRow, SenderRow,
    Settings, Totals, advice, daily,
};
use crate::aggregate::{Aggregates, DomainHour, FailRec, LogLimit};
use crate::classify::{Cause, Permanence};
use crate::diagnose::Diagnosis;
use crate::model::cpanel::{LimitRule, REPLAY_PERCENTS};
use crate::model::event::{LimitKind, domain_of, lower};
use crate::model::hour::{Hour, HourSeries};
use crate::model::outcome::OutcomeKind;
use crate::parse::scan::FileStats;
use crate::util::hash;
use crate::util::text::round1;

impl Report {
    /// Builds the report from the aggregates and their diagnoses. The failing recipients are
    /// moved out of `agg`, not copied, so the largest table is held once.
    pub fn build(
        agg: &mut Aggregates<'_>,
        diagnoses: &[Diagnosis],
        files: &[FileStats],
        opts: &BuildOptions,
    ) -> Report {
        let top = opts.top;
        let hourly = opts.hourly_tables;
        let own = agg.own_domains();
        // Read before the failing recipients are moved out.
        let domain_causes = domain_causes(agg, &own);
        let backscatter = backscatter(agg, &own);
        let all_findings = crate::diagnose::findings::findings(agg, diagnoses, &opts.thresholds);
        let shown = match top {
            0 => all_findings.len(),
            n => all_findings.len().min(n),
        };
        let failed_recipients = failed_recipients(agg, &own);
        // The per-hour tables are cut to the top keys as they are made.
        let mut cut = ListsCut::default();
        let mut report = Report {
            version: REPORT_SCHEMA_VERSION,
            settings: Settings {
                limit_min: agg.rule.min,
                limit_percent: agg.rule.percent,
                cpanel: agg.cpanel,
                limit_replayed: agg.cpanel || opts.limit_given,
                top,
                redacted: opts.redact,
                thresholds: opts.thresholds.clone(),
                filters: Filters::default(),
                inputs: files.iter().map(|f| f.name.clone()).collect(),
                mailtrace_version: env!("CARGO_PKG_VERSION").to_string(),
                day: opts.day.map(|d| d.format("%Y-%m-%d").to_string()),
            },
            files: files.iter().map(FileSummary::from).collect(),
            period: Period {
                first: agg.first,
                last: agg.last,
            },
            lines: files.iter().map(|f| f.lines).sum(),
            unrecognised_lines: files.iter().map(|f| f.unrecognised).sum(),
            malformed_lines: files.iter().map(|f| f.malformed).sum(),
            totals: totals(agg, &own, &backscatter),
            findings: all_findings[..shown]
                .iter()
                .map(super::findings::FindingRow::from)
                .collect(),
            findings_not_shown: all_findings.len() - shown,
            by_hour: by_hour(agg),
            by_sender_domain: key_hour_rows(
                &agg.by_sender_domain,
                hourly,
                &mut cut.by_sender_domain,
                |domain, row| SenderDomainRow { domain, row },
            ),
            by_account: key_hour_rows(
                &agg.by_account,
                hourly,
                &mut cut.by_account,
                |account, row| AccountRow { account, row },
            ),
            by_sender: key_hour_rows(&agg.by_sender, hourly, &mut cut.by_sender, |sender, row| {
                SenderKeyRow { sender, row }
            }),
            by_recipient_domain: key_hour_rows(
                &agg.by_recipient_domain,
                hourly,
                &mut cut.by_recipient_domain,
                |domain, row| SenderDomainRow { domain, row },
            ),
            limits: limits(agg, agg.cpanel || opts.limit_given),
            failing_senders: take(failing_senders(agg), top),
            failed_recipients,
            failed_recipients_unlisted_lines: agg.failing_unlisted_lines,
            recipient_domains: take(recipient_domains(agg, &domain_causes, &own), top),
            local_relays: local_relays(agg),
            own_domains: own.iter().cloned().collect(),
            backscatter,
            causes: causes(agg),
            diagnoses: diagnoses.iter().map(DiagnosisRow::from).collect(),
            next_steps: Vec::new(),
            lists_cut: cut,
            top_senders: daily::top_senders(&agg.daily, top),
            top_recipients: daily::top_recipients(&agg.daily, top),
            mta_warnings: daily::warnings(&agg.daily, top),
            frozen_messages: daily::messages(&agg.daily.frozen, agg.frozen_messages, top),
            removed_messages: daily::messages(&agg.daily.removed, agg.admin_removed, top),
        };
        report.next_steps = advice::next_steps(&report);
        if opts.redact {
            report.redact();
        }
        report
    }
}

/// Outcomes and messages received per hour: every hour with either.
fn by_hour(agg: &Aggregates<'_>) -> Vec<HourRow> {
    let mut rows: BTreeMap<Hour, HourRow> = BTreeMap::new();
    let row = |h: Hour| HourRow {
        hour: h,
        received: 0,
        counts: Default::default(),
    };
    for (h, c) in &agg.by_hour {
        rows.entry(*h).or_insert_with(|| row(*h)).counts = *c;
    }
    for (h, n) in &agg.daily.received_by_hour {
        rows.entry(*h).or_insert_with(|| row(*h)).received = *n;
    }
    rows.into_values().collect()
}

fn take<T>(mut v: Vec<T>, top: usize) -> Vec<T> {
    if top > 0 {
        v.truncate(top);
    }
    v
}

/// Returns true if and only if a failing-recipient row is an inbound refusal: its last line
/// is an SMTP-time rejection of mail to one of our own domains.
fn is_inbound(r: &FailRec, own: &BTreeSet<String>) -> bool {
    r.last == OutcomeKind::Rejected && is_own(&r.recipient, own)
}

fn is_own(addr: &str, own: &BTreeSet<String>) -> bool {
    domain_of(addr).is_some_and(|d| own.contains(lower(d).as_ref()))
}

/// Refused bounces for mail we never sent, per own domain (most first): null-sender
/// rejections to an address that does not exist here (`user_unknown`) or that sent no mail
/// in the log.
fn backscatter(agg: &Aggregates<'_>, own: &BTreeSet<String>) -> Vec<BackscatterRow> {
    let mut by_domain: BTreeMap<String, u64> = BTreeMap::new();
    for r in agg.failing.values().flatten() {
        let never_sent = r.cause == Cause::UserUnknown
            || !agg.by_sender.contains_key(lower(&r.recipient).as_ref());
        if r.sender.as_deref() == Some("") && is_inbound(r, own) && never_sent {
            let d = domain_of(&r.recipient)
                .unwrap_or_default()
                .to_ascii_lowercase();
            *by_domain.entry(d).or_default() += r.counts.rejected;
        }
    }
    let mut rows: Vec<BackscatterRow> = by_domain
        .into_iter()
        .map(|(domain, lines)| BackscatterRow { domain, lines })
        .collect();
    rows.sort_by(|a, b| b.lines.cmp(&a.lines).then(a.domain.cmp(&b.domain)));
    rows
}

fn totals(agg: &Aggregates<'_>, own: &BTreeSet<String>, backscatter: &[BackscatterRow]) -> Totals {
    let inbound_refused = own
        .iter()
        .filter_map(|d| agg.by_recipient_domain.get(d.as_str()))
        .map(|s| s.total().rejected)
        .sum();
    Totals {
        messages: agg.messages,
        bounce_messages: agg.bounce_messages,
        recipients: agg.recipients,
        delivered: agg.totals.delivered,
        deferred: agg.totals.deferred,
        bounced: agg.totals.bounced,
        rejected: agg.totals.rejected,
        expired: agg.totals.expired,
        not_attempted: agg.not_attempted,
        handed_off: agg.handed_off,
        inbound_refused,
        backscatter: backscatter.iter().map(|b| b.lines).sum(),
        incomplete_messages: agg.incomplete_messages,
        folded_early: 0,
        folded_sender_domains: agg.folded.sender_domains,
        folded_accounts: agg.folded.accounts,
        folded_senders: agg.folded.senders,
        folded_with_failures: agg.folded.with_failures,
        admin_removed: agg.admin_removed,
        frozen: agg.frozen_messages,
        auth_failures: agg.auth_failures,
        bytes_received: agg.daily.bytes_received,
        bytes_delivered: agg.daily.bytes_delivered,
    }
}

/// One of the per-hour tables, by key then hour: the rows `wanted` (see [`HourlyTables`]),
/// with the number of keys left out added to `cut`. `row` names the key column.
fn key_hour_rows<R>(
    map: &hash::HashMap<Box<str>, HourSeries>,
    wanted: HourlyTables,
    cut: &mut u64,
    row: impl Fn(String, KeyHourRow) -> R,
) -> Vec<R> {
    let mut keys: Vec<(&str, &HourSeries)> = match wanted {
        HourlyTables::Omitted => return Vec::new(),
        HourlyTables::All | HourlyTables::Top(_) => {
            map.iter().map(|(k, s)| (k.as_ref(), s)).collect()
        }
    };
    if let HourlyTables::Top(top) = wanted
        && keys.len() > top
    {
        // Most deferrals and failures, then most lines, then by name.
        let rank = |s: &HourSeries| {
            s.hours.iter().fold((0, 0), |(df, t), (_, c)| {
                (df + c.defer_fail(), t + c.total())
            })
        };
        let mut ranked: Vec<((u64, u64), &str, &HourSeries)> =
            keys.iter().map(|&(k, s)| (rank(s), k, s)).collect();
        ranked.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        *cut += (ranked.len() - top) as u64;
        keys = ranked
            .into_iter()
            .take(top)
            .map(|(_, k, s)| (k, s))
            .collect();
    }
    keys.sort_unstable_by(|a, b| a.0.cmp(b.0));
    keys.into_iter()
        .flat_map(|(k, s)| {
            s.hours.iter().map(move |(h, c)| KeyHourRow {
                key: k.to_string(),
                hour: *h,
                counts: *c,
                defer_fail_percent: round1(c.defer_fail_percent()),
            })
        })
        .map(|r| row(r.key.clone(), r))
        .collect()
}

/// Sending limits: the log's own trips, then the replay (when `replayed`: the log is from a
/// cPanel server or the rule was given), by hour, domain, source and percentage (highest
/// first).
fn limits(agg: &Aggregates<'_>, replayed: bool) -> Vec<LimitRow> {
    let mut limits: Vec<LimitRow> = agg
        .log_limits
        .iter()
        .map(|l| log_limit_row(agg, l))
        .collect();
    let mut replay_domains: Vec<_> = if replayed {
        agg.replay.iter().collect()
    } else {
        Vec::new()
    };
    replay_domains.sort_by(|a, b| a.0.cmp(b.0));
    for (domain, hours) in replay_domains {
        for (h, dh) in hours {
            replay_rows(agg.rule, domain, *h, dh, &mut limits);
        }
    }
    limits.sort_by(|a, b| {
        a.hour
            .cmp(&b.hour)
            .then(a.domain.cmp(&b.domain))
            .then((a.source as u8).cmp(&(b.source as u8)))
            .then(b.threshold_percent.cmp(&a.threshold_percent))
    });
    limits
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

/// The replay of one domain in one hour: a row per percentage that tripped (the configured
/// one, or 100/50/25% when none is set), else a near miss at 80% of the trip condition.
fn replay_rows(rule: LimitRule, domain: &str, h: Hour, dh: &DomainHour, out: &mut Vec<LimitRow>) {
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
            out.push(LimitRow {
                domain: domain.to_string(),
                hour: h,
                kind: LimitKind::DeferFail,
                source: LimitSource::Replay,
                threshold_percent: Some(p),
                count: Some(t.defer_fail as i64),
                max: Some(rule.min as i64),
                percent: Some(round1(t.percent)),
                tripped_at: Some(t.at),
                // Messages with lines after the trip of the configured (or 100%) rule.
                discarded: if slot == 0 || (rule.percent.is_none() && slot == 1) {
                    dh.after_trip.len() as u64
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
        out.push(LimitRow {
            domain: domain.to_string(),
            hour: h,
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

/// Sender domains and accounts with deferred, failed, rejected or expired mail, by
/// defer+fail+rejected (most first), kind and name.
fn failing_senders(agg: &Aggregates<'_>) -> Vec<SenderRow> {
    let mut rows = Vec::new();
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
            rows.push(SenderRow {
                kind,
                name: name.to_string(),
                counts: c,
                defer_fail_percent: round1(c.defer_fail_percent()),
                worst_hour: worst.map(|w| w.0),
                worst_hour_defer_fail: worst.map(|w| w.1.defer_fail() + w.1.rejected).unwrap_or(0),
            });
        }
    }
    rows.sort_by(|a, b| {
        (b.counts.defer_fail() + b.counts.rejected)
            .cmp(&(a.counts.defer_fail() + a.counts.rejected))
            .then(a.kind.cmp(b.kind))
            .then(a.name.cmp(&b.name))
    });
    rows
}

/// Per recipient domain (lower case), the problem lines of its failing recipients by cause
/// (inbound refusals left out).
fn domain_causes(
    agg: &Aggregates<'_>,
    own: &BTreeSet<String>,
) -> HashMap<String, BTreeMap<Cause, u64>> {
    let mut out: HashMap<String, BTreeMap<Cause, u64>> = HashMap::new();
    for r in agg
        .failing
        .values()
        .flatten()
        .filter(|r| !is_inbound(r, own))
    {
        if let Some(d) = domain_of(&r.recipient) {
            *out.entry(d.to_ascii_lowercase())
                .or_default()
                .entry(r.cause)
                .or_default() += r.counts.problems();
        }
    }
    out
}

/// The recipients still failing at the end, moved out of `agg`, inbound refusals left out:
/// most attempts first, then by sender and recipient.
fn failed_recipients(agg: &mut Aggregates<'_>, own: &BTreeSet<String>) -> Vec<FailedRecipient> {
    // Sized first: a list of 100,000 rows grown by doubling peaks at one and a half copies.
    let records = agg.failing.values().map(Vec::len).sum();
    let mut failed: Vec<FailedRecipient> = Vec::with_capacity(records);
    let rows = std::mem::take(&mut agg.failing)
        .into_values()
        .flatten()
        .filter(|r| r.last != OutcomeKind::Delivered && !is_inbound(r, own))
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
            permanent: r.permanence == Permanence::Permanent,
            host: r.host,
            first: r.first,
            last: r.last_time,
            queue_ids: r.queue_ids,
        });
    failed.extend(rows);
    failed.sort_by(|a, b| {
        b.attempts
            .cmp(&a.attempts)
            .then(a.sender.cmp(&b.sender))
            .then(a.recipient.cmp(&b.recipient))
    });
    failed
}

/// Recipient domains with problems, most problems first: their busiest failing hosts and
/// the top cause of their failing recipients. Our own domains' rejections are inbound
/// refusals, not problems of the domain.
fn recipient_domains(
    agg: &Aggregates<'_>,
    domain_causes: &HashMap<String, BTreeMap<Cause, u64>>,
    own: &BTreeSet<String>,
) -> Vec<RecipientDomainRow> {
    let mut rows: Vec<RecipientDomainRow> = agg
        .by_recipient_domain
        .iter()
        .filter_map(|(d, s)| {
            let mut c = s.total();
            if own.contains(d.as_ref()) {
                c.rejected = 0;
            }
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
    rows.sort_by(|a, b| {
        b.counts
            .problems()
            .cmp(&a.counts.problems())
            .then(a.domain.cmp(&b.domain))
    });
    rows
}

/// Deferrals and failures at loopback relays, most lines first, then by relay.
fn local_relays(agg: &Aggregates<'_>) -> Vec<LocalRelayRow> {
    let mut rows: Vec<LocalRelayRow> = agg
        .local_relays
        .iter()
        .map(|(relay, r)| LocalRelayRow {
            relay: relay.to_string(),
            deferred: r.counts.deferred,
            bounced: r.counts.bounced,
            first: r.first,
            last: r.last,
            top_cause: r
                .causes
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(c, _)| *c),
            code: r.code,
            text: r.text.clone(),
        })
        .collect();
    rows.sort_by(|a, b| {
        (b.deferred + b.bounced)
            .cmp(&(a.deferred + a.bounced))
            .then(a.relay.cmp(&b.relay))
    });
    rows
}

/// Counted outcomes by cause, most first.
fn causes(agg: &Aggregates<'_>) -> Vec<CauseRow> {
    let mut rows: Vec<CauseRow> = agg
        .causes
        .iter()
        .map(|(c, n)| CauseRow {
            cause: *c,
            count: *n,
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.cause.cmp(&b.cause)));
    rows
}
