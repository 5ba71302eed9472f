//! [`Correlator::feed`]: one event applied to its message, by kind family: what the message
//! is (arrival, client, Message-ID, sender identification), its outcomes (delivery,
//! deferral, bounce, rejection, expiry), and its life cycle (bounce notice, freezing,
//! completion, removal), then what follows from it (a chained or bounce message, the end).

use super::open::Slot;
use super::{
    Correlator, Ending, Message, PendingScript, Sink, is_loopback, own, set_if_none, share,
};
use crate::model::event::{Event, Kind, Mta};
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::util::intern::Interner;

/// What an event leaves to do once its message is updated.
enum Next<'a> {
    Nothing,
    /// A content filter re-queued the message under this queue ID (Postfix `queued as`).
    Chain(&'a str),
    /// The message's bounce went out under this queue ID.
    BounceChild(&'a str),
    /// The message is finished.
    Finish(Ending),
}

impl Correlator {
    /// Applies one event.
    pub fn feed(&mut self, e: &Event<'_>, sink: &mut impl Sink) {
        if self.tick(e, sink) {
            sink.event(e, None);
            return;
        }
        let Some(qid) = e.queue_id else {
            // Connection-level lines: only SMTP-time rejections are counted.
            if e.kind == Kind::Rejected && e.recipient.is_some() {
                sink.outcome(&standalone_rejection(e));
            }
            sink.event(e, None);
            return;
        };
        // The queue ID is hashed once: the slot serves every step of this line.
        let slot = match self.open.find(qid) {
            Some(slot) => slot,
            // Lines that only close or describe a message we never saw open nothing.
            None if matches!(e.kind, Kind::Completed | Kind::AdminRemoved) => {
                sink.event(e, None);
                return;
            }
            None => self.open_new(qid, e.mta, e.time, sink),
        };
        let script = self.script.take();
        let keep_texts = self.keep_texts;
        // A delivery re-queued under a queue ID this log already follows is a hop.
        let into_open = e.kind == Kind::Delivered
            && e.related_id
                .is_some_and(|n| n != qid && self.open.contains(n));
        let msg = self.open.touch(slot);
        let pool = &mut self.intern;
        msg.last_seen = e.time;
        let next = match e.kind {
            Kind::Arrival => {
                arrival(msg, e, script, keep_texts, pool);
                Next::Nothing
            }
            Kind::Client | Kind::MessageId | Kind::SenderIdentified => {
                described(msg, e, keep_texts, pool);
                Next::Nothing
            }
            Kind::Delivered | Kind::Deferred | Kind::Bounced | Kind::Rejected | Kind::Expired => {
                match outcome(msg, qid, e, keep_texts, into_open, pool, sink) {
                    Some(new_id) => Next::Chain(new_id),
                    None => Next::Nothing,
                }
            }
            _ => life_cycle(msg, e),
        };
        sink.event(e, Some(msg));
        self.follow_up(qid, slot, e, next, sink);
    }

    /// Lets an event go by without correlating it, as `feed` would for a message nobody
    /// follows: it still moves the clock and the count that time stale messages out, and
    /// it consumes a pending cPanel script line like any line of a queue ID would. `trace`
    /// uses it for the lines of messages it does not need; those messages are never opened,
    /// so they do not count towards `max_open` either.
    pub fn skip(&mut self, e: &Event<'_>, sink: &mut impl Sink) {
        if self.tick(e, sink) {
            return;
        }
        let Some(qid) = e.queue_id else { return };
        if self.open.contains(qid) || !matches!(e.kind, Kind::Completed | Kind::AdminRemoved) {
            self.script = None;
        }
    }

    /// What every event does first, fed or skipped: it moves the clock, every 65,536th
    /// folds the stale messages, and a cPanel script line is kept for the arrival that
    /// follows it. Returns true if the event was that script line (nothing more to do).
    fn tick(&mut self, e: &Event<'_>, sink: &mut impl Sink) -> bool {
        self.seen += 1;
        if self.now.is_none_or(|n| e.time > n) {
            self.now = Some(e.time);
        }
        if self.seen.is_multiple_of(1 << 16) {
            self.fold_stale(sink);
        }
        if e.kind == Kind::Script {
            self.script = Some(PendingScript {
                time: e.time,
                cwd: e.text.unwrap_or("").to_string(),
            });
            return true;
        }
        false
    }

    /// Opens the chained or bounce message, or hands the finished one to the sink. `slot`
    /// is the message of `qid`, which this event was applied to.
    fn follow_up(
        &mut self,
        qid: &str,
        slot: Slot,
        e: &Event<'_>,
        next: Next<'_>,
        sink: &mut impl Sink,
    ) {
        match next {
            Next::Nothing => {}
            Next::Chain(new_id) if new_id != qid => {
                let parent = self.open.get(slot);
                let (sender, account, host, ip, charged) = (
                    parent.sender.clone(),
                    parent.account.clone(),
                    parent.client_host.clone(),
                    parent.client_ip.clone(),
                    parent.charged_domain.clone(),
                );
                let child = self.child(new_id, e, sink);
                child.chained_from = Some(qid.to_string());
                // The filter re-injects from localhost: the real client is the parent's.
                child.client_host = host.or(child.client_host.take());
                child.client_ip = ip.or(child.client_ip.take());
                child.sender = child.sender.take().or(sender);
                child.account = child.account.take().or(account);
                child.charged_domain = child.charged_domain.take().or(charged);
            }
            Next::BounceChild(new_id) if new_id != qid => {
                let child = self.child(new_id, e, sink);
                child.parent = Some(qid.to_string());
            }
            Next::Chain(_) | Next::BounceChild(_) => {}
            Next::Finish(ending) => {
                let mut m = self.open.remove(slot);
                if m.ending.is_none() {
                    m.ending = Some(ending);
                }
                sink.message_done(m);
            }
        }
    }

    /// The message of `id` (a chained or bounce message of this event's), opened if new.
    fn child(&mut self, id: &str, e: &Event<'_>, sink: &mut impl Sink) -> &mut Message {
        let slot = match self.open.find(id) {
            Some(slot) => slot,
            None => self.open_new(id, e.mta, e.time, sink),
        };
        self.open.touch(slot)
    }
}

/// The arrival line: envelope sender, account, client, size, subject, recipients, and the
/// script a cPanel `cwd=` line right before a local submission names.
fn arrival(
    msg: &mut Message,
    e: &Event<'_>,
    script: Option<PendingScript>,
    keep_texts: bool,
    pool: &mut Interner,
) {
    msg.arrived = true;
    if let Some(s) = e.sender {
        msg.sender = Some(pool.get(s));
    }
    share(&mut msg.account, e.account, pool);
    share(&mut msg.client_host, e.host, pool);
    share(&mut msg.client_ip, e.ip, pool);
    msg.size = e.size.or(msg.size);
    if keep_texts {
        set_if_none(&mut msg.subject, e.subject);
        set_if_none(&mut msg.message_id, e.message_id);
    }
    share(&mut msg.protocol, e.protocol, pool);
    if e.mta == Mta::Exim
        && let Some(parent) = e.related_id
    {
        msg.parent = Some(parent.to_string());
    }
    if let Some(list) = e.recipients {
        for r in list.split(' ').filter(|r| !r.is_empty()) {
            msg.recipient_mut(r);
        }
    }
    if let Some(s) = script {
        let local = e.protocol.is_some_and(|p| p.starts_with("local"));
        let close = (e.time.local - s.time.local).num_seconds().abs() <= 5;
        if local && close && msg.script.is_none() {
            msg.script = Some(s.cwd);
        }
    }
}

/// Lines that describe the message besides its arrival: Postfix `client=`, the Message-ID,
/// cPanel `Sender identification`.
fn described(msg: &mut Message, e: &Event<'_>, keep_texts: bool, pool: &mut Interner) {
    match e.kind {
        Kind::Client => {
            share(&mut msg.account, e.account, pool);
            share(&mut msg.client_host, e.host, pool);
            share(&mut msg.client_ip, e.ip, pool);
            share(&mut msg.sender, e.sender, pool);
        }
        Kind::MessageId if keep_texts => set_if_none(&mut msg.message_id, e.message_id),
        Kind::SenderIdentified => {
            // cPanel's `U=` names the cPanel user that owns the domain; an SMTP AUTH login
            // (the mailbox whose password was used) is the more precise account, so `U=`
            // only fills the account of mail sent without a login (scripts, local users).
            share(&mut msg.account, e.account, pool);
            share(&mut msg.charged_domain, e.domain, pool);
            share(&mut msg.sender, e.sender, pool);
        }
        _ => {}
    }
}

/// Returns true if and only if a delivery handed the message on within this host: it
/// names the queue ID the message continues under (`queued as`, `forwarded as`), and that
/// ID is already open in this log (`into_open`), or the relay is a loopback address or
/// Postfix's `local` delivery agent. A `queued as` from a remote server (a smarthost's own
/// queue ID) is a real delivery.
fn is_hand_off(qid: &str, e: &Event<'_>, into_open: bool) -> bool {
    e.kind == Kind::Delivered
        && e.related_id.is_some_and(|n| n != qid)
        && (into_open || is_loopback(e.host, e.ip) || (e.ip.is_none() && e.host == Some("local")))
}

/// A delivery, deferral, bounce, rejection or expiry: updates the recipient's state and
/// hands the counted line (or the hand-off) to the sink. Returns the queue ID a hand-off
/// re-queued the message under, if any.
fn outcome<'e>(
    msg: &mut Message,
    qid: &str,
    e: &Event<'e>,
    keep_texts: bool,
    into_open: bool,
    pool: &mut Interner,
    sink: &mut impl Sink,
) -> Option<&'e str> {
    share(&mut msg.sender, e.sender, pool);
    let kind = match e.kind {
        Kind::Delivered => OutcomeKind::Delivered,
        Kind::Deferred => OutcomeKind::Deferred,
        Kind::Bounced => OutcomeKind::Bounced,
        Kind::Rejected => OutcomeKind::Rejected,
        _ => OutcomeKind::Expired,
    };
    if kind == OutcomeKind::Expired {
        msg.expired = true;
        for r in &mut msg.recipients {
            if matches!(r.last, None | Some(OutcomeKind::Deferred)) {
                r.last = Some(OutcomeKind::Expired);
            }
        }
    } else if let Some(rcpt) = e.original_recipient.or(e.recipient) {
        let r = msg.recipient_mut(rcpt);
        if kind == OutcomeKind::Deferred {
            r.deferrals += 1;
        }
        // A deferral with no delivery attempt (retry time not reached, queue-only domain)
        // leaves the last real attempt, its code and its text, standing.
        let attempted = !e.retry_not_due;
        if attempted {
            r.attempts += 1;
            r.last = Some(kind);
        } else {
            r.last.get_or_insert(kind);
        }
        if kind != OutcomeKind::Delivered && keep_texts && (attempted || r.last_text.is_none()) {
            r.last_text = own(e.text);
            r.last_code = e.code;
            r.last_status = own(e.status);
        }
    }
    let hand_off = is_hand_off(qid, e, into_open);
    let counted = kind != OutcomeKind::Rejected || e.recipient.is_some();
    if counted {
        let o = Outcome {
            kind,
            time: e.time,
            mta: e.mta,
            queue_id: Some(qid),
            sender: msg.sender.as_deref().or(e.sender),
            account: msg.account.as_deref().or(e.account),
            charged_domain: msg.charged_domain.as_deref(),
            client_ip: msg.client_ip.as_deref(),
            script: msg.script.as_deref(),
            recipient: e.recipient,
            original_recipient: e.original_recipient,
            host: e.host,
            ip: e.ip,
            code: e.code,
            status: e.status,
            text: e.text,
            router: e.router,
            limit: e.limit,
            retry_not_due: e.retry_not_due,
            is_bounce: msg.is_bounce(),
        };
        if hand_off {
            sink.hand_off(&o);
        } else {
            sink.outcome(&o);
        }
    }
    // Only a hand-off continues under a new queue ID of this host. A remote server's
    // `queued as` names its own queue: opening a message for it would keep one that never
    // gets a line in the open table until `--max-age`, on every delivery to a Postfix MX.
    if hand_off { e.related_id } else { None }
}

/// Bounce notices, freezing and the end of a message.
fn life_cycle<'e>(msg: &mut Message, e: &Event<'e>) -> Next<'e> {
    match e.kind {
        Kind::BounceNotice => e.related_id.map_or(Next::Nothing, Next::BounceChild),
        Kind::Frozen => {
            msg.frozen = true;
            Next::Nothing
        }
        Kind::Unfrozen => {
            msg.frozen = false;
            Next::Nothing
        }
        Kind::Completed => Next::Finish(Ending::Completed),
        Kind::AdminRemoved => {
            msg.ending = Some(Ending::AdminRemoved);
            // Postfix postsuper removal is final; Exim logs `Completed` next.
            if e.mta == Mta::Postfix {
                Next::Finish(Ending::AdminRemoved)
            } else {
                Next::Nothing
            }
        }
        _ => Next::Nothing,
    }
}

/// A rejection at SMTP time, before any queue ID (Postfix `NOQUEUE`, Exim connection-level
/// rejections).
fn standalone_rejection<'a>(e: &Event<'a>) -> Outcome<'a> {
    Outcome {
        kind: OutcomeKind::Rejected,
        time: e.time,
        mta: e.mta,
        queue_id: None,
        sender: e.sender,
        account: e.account,
        charged_domain: None,
        client_ip: e.ip,
        script: None,
        recipient: e.recipient,
        original_recipient: e.original_recipient,
        host: e.host,
        ip: e.ip,
        code: e.code,
        status: e.status,
        text: e.text,
        router: e.router,
        limit: e.limit,
        retry_not_due: false,
        is_bounce: e.sender == Some(""),
    }
}
