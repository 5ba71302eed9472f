//! Failing recipients: one record per (recipient, sender) with its counts, last reply and
//! cause, bounded by [`MAX_FAILING_RECIPIENTS`].

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::hash_map::RawEntryMut;

use super::{Aggregates, SubjectKind};
use crate::classify::{Cause, Permanence};
use crate::model::event::lower;
use crate::model::event::{Timestamp, domain_of};
use crate::model::hour::Counts;
use crate::model::outcome::{Outcome, OutcomeKind};

/// One failing recipient of one sender. The texts that repeat across recipients (sender,
/// account, status, reply, host) are shared copies from the aggregates' interner.
#[derive(Debug, Clone, PartialEq)]
pub struct FailRec {
    pub recipient: String,
    pub sender: Option<Arc<str>>,
    pub account: Option<Arc<str>>,
    pub last: OutcomeKind,
    pub counts: Counts,
    pub code: Option<u16>,
    pub status: Option<Arc<str>>,
    pub text: Option<Arc<str>>,
    pub host: Option<Arc<str>>,
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

/// The most failing (recipient, sender) records listed one by one. Lines of further
/// recipients still count in every total; the report says how many were not listed.
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
        // Hashed once for the lookups below.
        let hash = self.failing.hasher().hash_one(key.as_ref());
        if o.kind == OutcomeKind::Delivered {
            // Only an address that has failed before is tracked.
            if let RawEntryMut::Occupied(e) = self
                .failing
                .raw_entry_mut()
                .from_key_hashed_nocheck(hash, key.as_ref())
                && let Some(r) = e
                    .into_mut()
                    .iter_mut()
                    .find(|r| r.sender.as_deref() == o.sender)
            {
                r.last = OutcomeKind::Delivered;
                r.counts.add(OutcomeKind::Delivered);
                r.last_time = o.time;
            }
            return;
        }
        // The cap is on records: one recipient can fail for many senders.
        let listed = self
            .failing
            .raw_entry()
            .from_key_hashed_nocheck(hash, key.as_ref())
            .is_some_and(|(_, l)| l.iter().any(|r| r.sender.as_deref() == o.sender));
        if !listed && self.failing_records >= MAX_FAILING_RECIPIENTS {
            self.failing_unlisted_lines += 1;
            return;
        }
        let pool = &mut self.pool;
        let list = match self
            .failing
            .raw_entry_mut()
            .from_key_hashed_nocheck(hash, key.as_ref())
        {
            RawEntryMut::Occupied(e) => e.into_mut(),
            RawEntryMut::Vacant(e) => {
                e.insert_hashed_nocheck(hash, key.as_ref().into(), Vec::new())
                    .1
            }
        };
        let is_new_sender = !listed;
        if is_new_sender {
            self.failing_records += 1;
            // Nearly every recipient fails for one sender: keep the list exactly that long.
            list.reserve_exact(1);
            list.push(FailRec {
                recipient: rcpt.to_string(),
                sender: o.sender.map(|s| pool.get(s)),
                account: o.account.map(|s| pool.get(s)),
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
        if r.status.as_deref() != o.status {
            r.status = o.status.map(|s| pool.get(s));
        }
        if r.text.as_deref() != o.text {
            r.text = o.text.map(|s| pool.get(s));
        }
        if r.host.as_deref() != host {
            r.host = host.map(|s| pool.get(s));
        }
        if r.account.is_none() {
            r.account = o.account.map(|s| pool.get(s));
        }
        if let Some(q) = o.queue_id
            && r.queue_ids.len() < 8
            && !r.queue_ids.iter().any(|x| x == q)
        {
            if r.queue_ids.is_empty() {
                r.queue_ids.reserve_exact(1);
            }
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
