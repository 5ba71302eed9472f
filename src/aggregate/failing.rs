//! Failing recipients: one record per (recipient, sender) with its counts, last reply and
//! cause, bounded by [`MAX_FAILING_RECIPIENTS`].

use super::{Aggregates, SubjectKind, entry};
use crate::classify::{Cause, Permanence};
use crate::model::event::lower;
use crate::model::event::{Timestamp, domain_of};
use crate::model::hour::Counts;
use crate::model::outcome::{Outcome, OutcomeKind};

/// One failing recipient of one sender.
#[derive(Debug, Clone, PartialEq)]
pub struct FailRec {
    pub recipient: String,
    pub sender: Option<String>,
    pub account: Option<String>,
    pub last: OutcomeKind,
    pub counts: Counts,
    pub code: Option<u16>,
    pub status: Option<String>,
    pub text: Option<String>,
    pub host: Option<String>,
    pub cause: Cause,
    pub permanence: Permanence,
    pub first: Timestamp,
    pub last_time: Timestamp,
    pub queue_ids: Vec<String>,
    /// Lines where our own sending limit refused it (cPanel's block): a consequence, which
    /// never replaces the real reason an earlier attempt gave.
    pub discards: u32,
}

impl FailRec {
    /// Attempts: every line counted for this recipient and sender.
    pub fn attempts(&self) -> u64 {
        self.counts.total()
    }
}

/// The most failing recipients listed one by one. Lines of further recipients still count in
/// every total; the report says how many were not listed.
pub const MAX_FAILING_RECIPIENTS: usize = 100_000;

impl Aggregates<'_> {
    /// Records one line of a failing recipient; `host` is the destination host that
    /// answered (`None` for a rejection: its host is the client we refused).
    pub(super) fn record_failing(
        &mut self,
        o: &Outcome<'_>,
        (cause, permanence): (Cause, Permanence),
        host: Option<&str>,
    ) {
        let Some(rcpt) = o.recipient.or(o.original_recipient) else {
            return;
        };
        let key = lower(rcpt);
        if o.kind == OutcomeKind::Delivered {
            // Only an address that has failed before is tracked.
            if let Some(list) = self.failing.get_mut(key.as_ref())
                && let Some(r) = list.iter_mut().find(|r| r.sender.as_deref() == o.sender)
            {
                r.last = OutcomeKind::Delivered;
                r.counts.add(OutcomeKind::Delivered);
                r.last_time = o.time;
            }
            return;
        }
        if self.failing.len() >= MAX_FAILING_RECIPIENTS && !self.failing.contains_key(key.as_ref())
        {
            self.failing_unlisted_lines += 1;
            return;
        }
        let list = entry(&mut self.failing, &key);
        let is_new_sender = !list.iter().any(|r| r.sender.as_deref() == o.sender);
        if is_new_sender {
            // Nearly every recipient fails for one sender: keep the list exactly that long.
            list.reserve_exact(1);
            list.push(FailRec {
                recipient: rcpt.to_string(),
                sender: o.sender.map(str::to_string),
                account: o.account.map(str::to_string),
                last: o.kind,
                counts: Counts::default(),
                code: None,
                status: None,
                text: None,
                host: None,
                cause,
                permanence,
                first: o.time,
                last_time: o.time,
                queue_ids: Vec::new(),
                discards: 0,
            });
        }
        let r = list
            .iter_mut()
            .find(|r| r.sender.as_deref() == o.sender)
            .expect("present");
        r.counts.add(o.kind);
        r.last = o.kind;
        r.last_time = o.time;
        if cause == Cause::SendingLimit {
            r.discards += 1;
            if r.cause != Cause::SendingLimit && r.text.is_some() {
                // Keep the reason that led to the block, not the block itself.
                return;
            }
        }
        // The code, status, text and host all come from this one line, so a row never mixes
        // one attempt's code with another's text.
        r.cause = cause;
        r.permanence = permanence;
        r.code = o.code;
        r.status = o.status.map(str::to_string);
        if r.text.as_deref() != o.text {
            r.text = o.text.map(str::to_string);
        }
        r.host = host.map(str::to_string);
        if r.account.is_none() {
            r.account = o.account.map(str::to_string);
        }
        if let Some(q) = o.queue_id
            && r.queue_ids.len() < 8
            && !r.queue_ids.iter().any(|x| x == q)
        {
            r.queue_ids.push(q.to_string());
        }
        if is_new_sender {
            for (kind, subject) in [
                (SubjectKind::Account, o.account),
                (SubjectKind::SenderDomain, o.sender.and_then(domain_of)),
            ] {
                if let Some(s) = subject
                    && let Some(ev) = self.evidence.get_mut(kind, &lower(s))
                {
                    ev.failing_recipients += 1;
                }
            }
        }
    }
}
