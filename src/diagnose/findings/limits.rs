//! `sending_limit` findings: each cPanel block of a sender domain the log records, with the
//! failures of the hour that tripped it and the mail refused after it.

use std::collections::BTreeMap;

use super::{
    Confidence, Detail, Finding, FindingKind, FindingVerdict, Harm, Severity, in_last_hour,
};
use crate::aggregate::{Aggregates, FailRec, HashMap};
use crate::classify::{Cause, Permanence};
use crate::model::event::{LimitKind, Timestamp, domain_of, lower};
use crate::model::hour::Hour;

/// One finding per cPanel block of a sender domain and hour that the log records.
pub(super) fn limits(agg: &Aggregates<'_>, recs: &[&FailRec]) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    // The records by the (lower-case) domain of their sender, in the order of `recs`, made
    // once for every block rather than a pass over every record per block.
    let mut by_domain: Option<HashMap<String, Vec<&FailRec>>> = None;
    for l in &agg.log_limits {
        if l.kind != LimitKind::DeferFail || l.messages.is_empty() {
            continue;
        }
        let domain = l.domain.to_ascii_lowercase();
        let by_domain = by_domain.get_or_insert_with(|| {
            let mut m: HashMap<String, Vec<&FailRec>> = HashMap::default();
            for r in recs {
                if let Some(d) = r.sender.as_deref().and_then(domain_of) {
                    match m.get_mut(lower(d).as_ref()) {
                        Some(v) => v.push(r),
                        None => {
                            m.insert(d.to_ascii_lowercase(), vec![r]);
                        }
                    }
                }
            }
            m
        });
        let of_domain: &[&FailRec] = by_domain.get(&domain).map_or(&[], Vec::as_slice);
        let in_hour = |t: &Timestamp| Hour::of(t) == l.hour;
        let mut causes: BTreeMap<Cause, u64> = BTreeMap::new();
        let mut accounts: BTreeMap<String, u64> = BTreeMap::new();
        let mut failed = Vec::new();
        let mut refused = Vec::new();
        for r in of_domain {
            if r.discards > 0 && in_hour(&r.last_time) {
                refused.push(r.recipient.clone());
            }
            if r.cause == Cause::SendingLimit {
                continue;
            }
            // Failing in that hour before the block (a deferral retried since an earlier
            // hour counts too: cPanel counts every attempt).
            // (Approximate: a record keeps its first and last line only, so one that failed
            // in the window but neither first nor last there is missed.)
            let hour_start = l.hour.0 * 3600;
            let in_window = |t: &Timestamp| {
                let x = t.local.and_utc().timestamp();
                x >= hour_start && t.local <= l.first.local
            };
            if !(in_window(&r.first) || in_window(&r.last_time)) {
                continue;
            }
            let permanent = r.permanence == Permanence::Permanent;
            *causes.entry(r.cause).or_default() += 1;
            if let Some(a) = &r.account {
                *accounts.entry(a.to_string()).or_default() += 1;
            }
            if permanent {
                failed.push(r.recipient.clone());
            }
        }
        failed.sort();
        refused.sort();
        refused.truncate(5);
        let mut causes: Vec<(Cause, u64)> = causes.into_iter().collect();
        causes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut accounts: Vec<(String, u64)> = accounts.into_iter().collect();
        accounts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let discarded = l.messages.len() as u64;
        if let Some(f) = out.iter_mut().find(|f| f.subject == domain) {
            // A second blocked hour of the same domain: one finding, summed.
            f.harm.discarded += discarded;
            f.harm.trips += 1;
            f.last = Some(l.first);
            continue;
        }
        let failing: u64 = causes.iter().map(|(_, n)| n).sum();
        out.push(Finding {
            kind: FindingKind::SenderDomain,
            subject: domain.clone(),
            verdict: FindingVerdict::SendingLimit,
            severity: Severity::ActNow,
            confidence: Confidence::High,
            first: Some(l.first),
            last: Some(l.first),
            ongoing: in_last_hour(Some(l.first), agg.last),
            harm: Harm {
                discarded,
                failing_recipients: failed.len() as u64,
                failure_lines: failing,
                trips: 1,
            },
            senders: accounts.clone(),
            detail: Detail::Limit {
                hour: l.hour,
                tripped_at: l.first,
                figures: match (l.count, l.max, l.percent) {
                    (Some(c), Some(m), Some(p)) => Some((c, m, p)),
                    _ => None,
                },
                causes,
                accounts,
                failed,
                refused,
            },
        });
    }
    out
}
