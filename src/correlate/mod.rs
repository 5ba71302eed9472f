//! Correlation: queue IDs → messages → per-recipient outcomes.
//!
//! The [`Correlator`] keeps one [`Message`] per open queue ID and, for every delivery,
//! deferral, failure, rejection or expiry line, hands an [`Outcome`] to a [`Sink`] with the
//! message's envelope sender and sending account filled in (from the arrival line, `F=`, cPanel
//! `Sender identification`, Postfix `client=`/`sasl_username=` or a content-filter parent);
//! a delivery that only handed the message on within this host (a content filter) goes to
//! [`Sink::hand_off`] instead. Finished messages (Exim `Completed`, Postfix `removed`) are handed to the sink and
//! dropped, and a queue ID with no line for longer than `max_age` is folded as incomplete,
//! so memory stays bounded by the messages in flight. A hard cap on open messages
//! (`max_open`) bounds it whatever the log holds: a new queue ID past the cap first folds
//! the message whose last line is the oldest, as incomplete (counted in `folded_early`).
//!
//! The types and the folding are here; [`Correlator::feed`], which applies one event, is in
//! `feed.rs`; the open-message table with its recency order is in `open.rs`.

use std::sync::Arc;

use crate::model::event::{Event, Mta, Timestamp};
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::util::intern::Interner;

mod feed;
mod filter;
mod open;

use open::{OpenTable, Slot};

pub use filter::Filter;

/// The state of one recipient of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientState {
    pub address: String,
    pub last: Option<OutcomeKind>,
    pub deferrals: u32,
    pub attempts: u32,
    pub last_text: Option<String>,
    pub last_code: Option<u16>,
    pub last_status: Option<String>,
}

/// How a message left the correlator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Exim `Completed` or Postfix `removed`.
    Completed,
    /// Removed by an administrator.
    AdminRemoved,
    /// Still open at the end of the input, or silent for longer than `max_age`.
    Incomplete,
}

/// Everything known about one queue ID.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub mta: Mta,
    pub sender: Option<Arc<str>>,
    pub account: Option<Arc<str>>,
    pub charged_domain: Option<Arc<str>>,
    pub client_host: Option<Arc<str>>,
    pub client_ip: Option<Arc<str>>,
    pub script: Option<String>,
    pub size: Option<u64>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    pub protocol: Option<Arc<str>>,
    /// The arrival line was seen (false when the message arrived before the log starts).
    pub arrived: bool,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// The message this one is a bounce of (Exim `R=`, Postfix non-delivery notification).
    pub parent: Option<String>,
    /// The message this one continues after a content filter (Postfix `queued as`).
    pub chained_from: Option<String>,
    pub frozen: bool,
    pub expired: bool,
    pub recipients: Vec<RecipientState>,
    pub ending: Option<Ending>,
}

impl Message {
    fn new(id: &str, mta: Mta, time: Timestamp) -> Self {
        Message {
            id: id.to_string(),
            mta,
            sender: None,
            account: None,
            charged_domain: None,
            client_host: None,
            client_ip: None,
            script: None,
            size: None,
            subject: None,
            message_id: None,
            protocol: None,
            arrived: false,
            first_seen: time,
            last_seen: time,
            parent: None,
            chained_from: None,
            frozen: false,
            expired: false,
            recipients: Vec::new(),
            ending: None,
        }
    }

    /// Returns true if and only if this is a bounce or other null-sender report.
    pub(crate) fn is_bounce(&self) -> bool {
        self.sender.as_deref() == Some("") || self.parent.is_some()
    }

    /// Returns true if and only if the message counts as a message of its own (content-filter
    /// continuations are part of the message they came from).
    pub(crate) fn counts_as_message(&self) -> bool {
        self.chained_from.is_none() && (self.arrived || !self.recipients.is_empty())
    }

    fn recipient_mut(&mut self, address: &str) -> &mut RecipientState {
        let i = match self
            .recipients
            .iter()
            .position(|r| r.address.eq_ignore_ascii_case(address))
        {
            Some(i) => i,
            None => {
                // Most messages have one recipient: no spare capacity for three more on the
                // first (later pushes grow the usual way).
                if self.recipients.capacity() == 0 {
                    self.recipients.reserve_exact(1);
                }
                self.recipients.push(RecipientState {
                    address: address.to_string(),
                    last: None,
                    deferrals: 0,
                    attempts: 0,
                    last_text: None,
                    last_code: None,
                    last_status: None,
                });
                self.recipients.len() - 1
            }
        };
        &mut self.recipients[i]
    }
}

/// Receives what the correlator finds.
pub trait Sink {
    /// One counted line.
    fn outcome(&mut self, o: &Outcome<'_>);
    /// A delivery that handed the message on within this host: to a local content filter or
    /// another queue (`queued as NEWID`, `forwarded as NEWID`, on a loopback relay or into a
    /// queue ID this log already has). It is a hop in the message's chain, not a delivery;
    /// the message's real outcome comes under the new queue ID. The default counts it like
    /// any other line.
    fn hand_off(&mut self, o: &Outcome<'_>) {
        self.outcome(o);
    }
    /// A message left the correlator (finished, removed, or folded as incomplete); the sink
    /// owns it from here.
    fn message_done(&mut self, m: Message);
    /// Every event, with the message it belongs to after the event was applied (used by
    /// `trace`). The default does nothing.
    fn event(&mut self, _e: &Event<'_>, _m: Option<&Message>) {}
}

/// A cPanel `cwd=` script line waiting for the local submission it announces.
#[derive(Debug, Clone)]
struct PendingScript {
    time: Timestamp,
    cwd: String,
}

/// Queue-ID state across all inputs, read in order.
pub struct Correlator {
    open: OpenTable,
    /// The most messages open at once; a new queue ID past it folds the oldest.
    max_open: usize,
    max_age_secs: i64,
    seen: u64,
    now: Option<Timestamp>,
    script: Option<PendingScript>,
    /// Messages folded because they were silent for longer than `max_age`.
    pub folded_stale: u64,
    /// Messages folded because a new queue ID would have exceeded `max_open`.
    pub folded_early: u64,
    /// Keep each recipient's last error text and the Message-ID (for `trace`); the report
    /// takes texts from the outcomes and does not need the copies.
    keep_texts: bool,
    /// Shared copies of the fields that repeat across messages (sender, account, client).
    intern: Interner,
}

/// Returns true if and only if the host or IP of a relay is this host itself: a loopback
/// address (`127.0.0.0/8`, `::1`, IPv4-mapped `::ffff:127.x`) or `localhost`. A relay there is
/// a local content filter or relay, never a remote destination.
pub(crate) fn is_loopback(host: Option<&str>, ip: Option<&str>) -> bool {
    fn addr(a: &str) -> bool {
        let a = a.trim_start_matches('[').trim_end_matches(']');
        let a = a.strip_prefix("::ffff:").unwrap_or(a);
        a.starts_with("127.") || a == "::1"
    }
    match ip {
        Some(ip) => addr(ip),
        None => host.is_some_and(|h| {
            addr(h)
                || h.eq_ignore_ascii_case("localhost")
                || h.eq_ignore_ascii_case("localhost.localdomain")
        }),
    }
}

fn own(s: Option<&str>) -> Option<String> {
    s.map(str::to_string)
}

/// Fills an empty field with the pool's shared copy of `v`.
fn share(slot: &mut Option<Arc<str>>, v: Option<&str>, pool: &mut Interner) {
    if slot.is_none()
        && let Some(v) = v
    {
        *slot = Some(pool.get(v));
    }
}

fn set_if_none(slot: &mut Option<String>, v: Option<&str>) {
    if slot.is_none()
        && let Some(v) = v
    {
        *slot = Some(v.to_string());
    }
}

impl Correlator {
    /// `max_age_hours`: a queue ID with no new line for this long is folded as incomplete.
    /// No cap on open messages until [`Correlator::with_max_open`].
    pub fn new(max_age_hours: u64) -> Self {
        Correlator {
            open: OpenTable::default(),
            max_open: usize::MAX,
            max_age_secs: (max_age_hours as i64).saturating_mul(3600),
            seen: 0,
            now: None,
            script: None,
            folded_stale: 0,
            folded_early: 0,
            keep_texts: true,
            intern: Interner::default(),
        }
    }

    /// At most `max_open` messages open at once (0 = no cap): a new queue ID past it first
    /// folds the message whose last line is the oldest, as incomplete. Its later lines, if
    /// any, open a new message as for one that arrived before the log starts.
    pub fn with_max_open(mut self, max_open: usize) -> Self {
        self.max_open = if max_open == 0 { usize::MAX } else { max_open };
        self
    }

    /// Drops the per-recipient copies of error texts, the Subject and the Message-ID that
    /// only `trace` shows, so messages in flight take less memory.
    pub(crate) fn without_texts(mut self) -> Self {
        self.keep_texts = false;
        self
    }

    /// Number of queue IDs currently open.
    pub(crate) fn open_messages(&self) -> usize {
        self.open.len()
    }

    /// Folds messages with no line for longer than `max_age` as incomplete, least recently
    /// touched first.
    pub fn fold_stale(&mut self, sink: &mut impl Sink) {
        let Some(now) = self.now else { return };
        let max_age = self.max_age_secs;
        let stale = self
            .open
            .remove_where(|m| (now.local - m.last_seen.local).num_seconds() > max_age);
        for mut m in stale {
            m.ending.get_or_insert(Ending::Incomplete);
            self.folded_stale += 1;
            sink.message_done(m);
        }
    }

    /// Opens a message for the new queue ID `id`, first folding the messages with the
    /// oldest last line while the cap would be exceeded; returns its slot.
    fn open_new(&mut self, id: &str, mta: Mta, time: Timestamp, sink: &mut impl Sink) -> Slot {
        while self.open.len() >= self.max_open {
            let Some(mut m) = self.open.pop_oldest() else {
                break;
            };
            m.ending.get_or_insert(Ending::Incomplete);
            self.folded_early += 1;
            sink.message_done(m);
        }
        self.open.insert(Message::new(id, mta, time))
    }

    /// Folds every message still open (end of input), oldest first.
    pub fn finish(&mut self, sink: &mut impl Sink) {
        let mut rest = self.open.drain();
        rest.sort_by(|a, b| a.first_seen.cmp(&b.first_seen).then(a.id.cmp(&b.id)));
        for m in rest {
            let mut m = *m;
            m.ending.get_or_insert(Ending::Incomplete);
            sink.message_done(m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::Kind;
    use chrono::NaiveDateTime;

    fn ts(s: &str) -> Timestamp {
        Timestamp::new(
            NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap(),
            None,
        )
    }

    /// (kind, sender, account, recipient)
    type Seen = (OutcomeKind, Option<String>, Option<String>, Option<String>);

    #[derive(Default)]
    struct Collect {
        outcomes: Vec<Seen>,
        hand_offs: Vec<Option<String>>,
        done: Vec<Message>,
    }

    impl Sink for Collect {
        fn outcome(&mut self, o: &Outcome<'_>) {
            self.outcomes
                .push((o.kind, own(o.sender), own(o.account), own(o.recipient)));
        }
        fn hand_off(&mut self, o: &Outcome<'_>) {
            self.hand_offs.push(own(o.recipient));
        }
        fn message_done(&mut self, m: Message) {
            self.done.push(m);
        }
    }

    fn ev<'a>(t: &str, kind: Kind, qid: Option<&'a str>) -> Event<'a> {
        let mut e = Event::new(ts(t), Mta::Exim, kind);
        e.queue_id = qid;
        e
    }

    #[test]
    fn deliveries_take_sender_and_account_from_the_arrival() {
        let mut c = Correlator::new(48);
        let mut s = Collect::default();
        let mut a = ev("2026-11-26 10:00:00", Kind::Arrival, Some("1abc"));
        a.sender = Some("info@shop.example");
        a.account = Some("info@shop.example");
        a.recipients = Some("x@gmail.com y@outlook.com");
        c.feed(&a, &mut s);
        let mut d = ev("2026-11-26 10:00:01", Kind::Deferred, Some("1abc"));
        d.recipient = Some("x@gmail.com");
        c.feed(&d, &mut s);
        let mut d2 = ev("2026-11-26 10:05:01", Kind::Delivered, Some("1abc"));
        d2.recipient = Some("x@gmail.com");
        c.feed(&d2, &mut s);
        let mut b = ev("2026-11-26 10:05:02", Kind::Bounced, Some("1abc"));
        b.recipient = Some("y@outlook.com");
        c.feed(&b, &mut s);
        c.feed(
            &ev("2026-11-26 10:05:03", Kind::Completed, Some("1abc")),
            &mut s,
        );
        assert_eq!(s.outcomes.len(), 3);
        assert!(
            s.outcomes
                .iter()
                .all(|o| o.1.as_deref() == Some("info@shop.example"))
        );
        assert_eq!(s.done.len(), 1);
        let m = &s.done[0];
        assert_eq!(m.recipients.len(), 2);
        assert_eq!(m.recipients[0].last, Some(OutcomeKind::Delivered));
        assert_eq!(m.recipients[0].deferrals, 1);
        assert_eq!(m.recipients[1].last, Some(OutcomeKind::Bounced));
        assert_eq!(c.open_messages(), 0);
    }

    #[test]
    fn message_arrived_before_log_start_takes_sender_from_f_or_stays_unknown() {
        let mut c = Correlator::new(48);
        let mut s = Collect::default();
        let mut b = ev("2026-11-26 10:00:00", Kind::Bounced, Some("1old"));
        b.recipient = Some("a@b.example");
        c.feed(&b, &mut s);
        let mut b2 = ev("2026-11-26 10:00:00", Kind::Bounced, Some("1older"));
        b2.recipient = Some("a@b.example");
        b2.sender = Some("s@shop.example");
        c.feed(&b2, &mut s);
        assert_eq!(s.outcomes[0].1, None);
        assert_eq!(s.outcomes[1].1.as_deref(), Some("s@shop.example"));
        c.finish(&mut s);
        assert_eq!(s.done.len(), 2);
        assert!(s.done.iter().all(|m| m.ending == Some(Ending::Incomplete)));
        assert!(s.done.iter().all(|m| m.counts_as_message()));
    }

    #[test]
    fn postfix_queue_id_reuse_after_removed_starts_a_new_message() {
        let mut c = Correlator::new(48);
        let mut s = Collect::default();
        for (i, sender) in ["a@one.example", "b@two.example"].iter().enumerate() {
            let t = format!("2026-11-26 10:0{i}:00");
            let mut a = ev(&t, Kind::Arrival, Some("ABC123"));
            a.mta = Mta::Postfix;
            a.sender = Some(sender);
            c.feed(&a, &mut s);
            let mut d = ev(&t, Kind::Delivered, Some("ABC123"));
            d.mta = Mta::Postfix;
            d.recipient = Some("r@x.example");
            c.feed(&d, &mut s);
            let mut r = ev(&t, Kind::Completed, Some("ABC123"));
            r.mta = Mta::Postfix;
            c.feed(&r, &mut s);
        }
        assert_eq!(s.done.len(), 2);
        assert_eq!(s.outcomes[1].1.as_deref(), Some("b@two.example"));
    }

    #[test]
    fn content_filter_requeue_is_one_message_with_the_parent_account() {
        let mut c = Correlator::new(48);
        let mut s = Collect::default();
        let mut cl = ev("2026-11-26 10:00:00", Kind::Client, Some("AAA111"));
        cl.account = Some("alice@example.com");
        cl.ip = Some("198.51.100.7");
        c.feed(&cl, &mut s);
        let mut a = ev("2026-11-26 10:00:00", Kind::Arrival, Some("AAA111"));
        a.sender = Some("alice@example.com");
        c.feed(&a, &mut s);
        let mut d = ev("2026-11-26 10:00:01", Kind::Delivered, Some("AAA111"));
        d.recipient = Some("bob@gmail.com");
        // To a content filter on loopback, which re-queues it before it answers.
        d.host = Some("127.0.0.1");
        d.ip = Some("127.0.0.1");
        d.related_id = Some("BBB222");
        c.feed(&d, &mut s);
        c.feed(
            &ev("2026-11-26 10:00:01", Kind::Completed, Some("AAA111")),
            &mut s,
        );
        let mut cl2 = ev("2026-11-26 10:00:01", Kind::Client, Some("BBB222"));
        cl2.ip = Some("127.0.0.1");
        c.feed(&cl2, &mut s);
        let mut b = ev("2026-11-26 10:00:02", Kind::Bounced, Some("BBB222"));
        b.recipient = Some("bob@gmail.com");
        c.feed(&b, &mut s);
        c.feed(
            &ev("2026-11-26 10:00:03", Kind::Completed, Some("BBB222")),
            &mut s,
        );
        assert_eq!(s.hand_offs.len(), 1);
        assert_eq!(s.outcomes.len(), 1);
        assert_eq!(s.outcomes[0].2.as_deref(), Some("alice@example.com"));
        let counted: Vec<_> = s.done.iter().filter(|m| m.counts_as_message()).collect();
        assert_eq!(counted.len(), 1);
        assert_eq!(s.done[1].client_ip.as_deref(), Some("198.51.100.7"));
    }

    #[test]
    fn a_requeue_on_this_host_is_a_hand_off_and_a_smarthost_queue_id_a_delivery() {
        let mut c = Correlator::new(48);
        let mut s = Collect::default();
        let sent = |qid, host, ip, new_id| {
            let mut d = ev("2026-11-26 10:00:01", Kind::Delivered, Some(qid));
            d.mta = Mta::Postfix;
            d.recipient = Some("bob@gmail.com");
            d.host = host;
            d.ip = ip;
            d.related_id = Some(new_id);
            d
        };
        // To amavis on a loopback relay.
        c.feed(
            &sent("AAA111", Some("127.0.0.1"), Some("127.0.0.1"), "BBB222"),
            &mut s,
        );
        // Into a queue ID this log already has open (a second instance on another address).
        c.feed(
            &ev("2026-11-26 10:00:01", Kind::Arrival, Some("DDD444")),
            &mut s,
        );
        c.feed(
            &sent("CCC333", Some("10.0.0.5"), Some("10.0.0.5"), "DDD444"),
            &mut s,
        );
        // To a smarthost: its `queued as` names its own queue.
        c.feed(
            &sent(
                "EEE555",
                Some("smtp.isp.example"),
                Some("203.0.113.5"),
                "4F9kQz1L",
            ),
            &mut s,
        );
        assert_eq!(s.hand_offs.len(), 2);
        assert_eq!(s.outcomes.len(), 1);
        assert_eq!(s.outcomes[0].0, OutcomeKind::Delivered);
        // Only the hand-offs continue under the new ID: the smarthost's queue ID opens no
        // message, which would never get a line and stay open until `max_age`.
        assert_eq!(c.open_messages(), 5);
        c.finish(&mut s);
        assert!(s.done.iter().all(|m| m.id != "4F9kQz1L"));
        let child = s.done.iter().find(|m| m.id == "BBB222").unwrap();
        assert_eq!(child.chained_from.as_deref(), Some("AAA111"));
    }

    #[test]
    fn loopback_relays_are_this_host() {
        assert!(is_loopback(Some("127.0.0.1"), Some("127.0.0.1")));
        assert!(is_loopback(Some("localhost"), None));
        assert!(is_loopback(None, Some("::1")));
        assert!(is_loopback(None, Some("::ffff:127.0.0.1")));
        assert!(is_loopback(Some("[127.0.0.1]"), None));
        assert!(!is_loopback(Some("localhost"), Some("192.0.2.1")));
        assert!(!is_loopback(Some("mx.example"), Some("203.0.113.5")));
        assert!(!is_loopback(None, None));
    }

    #[test]
    fn stale_queue_ids_are_folded() {
        let mut c = Correlator::new(1);
        let mut s = Collect::default();
        c.feed(
            &ev("2026-11-26 10:00:00", Kind::Arrival, Some("1a")),
            &mut s,
        );
        c.feed(
            &ev("2026-11-26 12:00:00", Kind::Arrival, Some("1b")),
            &mut s,
        );
        c.fold_stale(&mut s);
        assert_eq!(s.done.len(), 1);
        assert_eq!(s.done[0].id, "1a");
        assert_eq!(c.open_messages(), 1);
        assert_eq!(c.folded_stale, 1);
    }

    #[test]
    fn past_max_open_the_oldest_by_last_line_are_folded_early() {
        let mut c = Correlator::new(48).with_max_open(3);
        let mut s = Collect::default();
        for (i, id) in ["1a", "1b", "1c"].iter().enumerate() {
            let mut a = ev(&format!("2026-11-26 10:00:0{i}"), Kind::Arrival, Some(id));
            a.sender = Some("s@shop.example");
            c.feed(&a, &mut s);
        }
        // A later line of 1a makes 1b the oldest.
        let mut d = ev("2026-11-26 10:00:03", Kind::Deferred, Some("1a"));
        d.recipient = Some("r@x.example");
        c.feed(&d, &mut s);
        for (i, id) in ["1d", "1e"].iter().enumerate() {
            c.feed(
                &ev(
                    &format!("2026-11-26 10:00:0{}", 4 + i),
                    Kind::Arrival,
                    Some(id),
                ),
                &mut s,
            );
        }
        assert_eq!(c.folded_early, 2);
        assert_eq!(c.open_messages(), 3);
        let folded: Vec<&str> = s.done.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(folded, ["1b", "1c"]);
        assert!(s.done.iter().all(|m| m.ending == Some(Ending::Incomplete)));
        // A later line of a folded message opens it anew, as one that arrived before the log.
        let mut b = ev("2026-11-26 10:00:06", Kind::Bounced, Some("1b"));
        b.recipient = Some("r@x.example");
        c.feed(&b, &mut s);
        assert_eq!(s.outcomes.last().unwrap().1, None);
        assert_eq!(c.folded_early, 3);
        assert_eq!(s.done[2].id, "1a");
        c.feed(
            &ev("2026-11-26 10:00:07", Kind::Completed, Some("1c")),
            &mut s,
        );
        c.finish(&mut s);
        let reopened = s.done.iter().find(|m| m.id == "1b" && !m.arrived).unwrap();
        assert_eq!(reopened.recipients[0].last, Some(OutcomeKind::Bounced));
        assert_eq!(s.done.len(), 6);
    }

    #[test]
    fn noqueue_rejections_count_only_with_a_recipient() {
        let mut c = Correlator::new(48);
        let mut s = Collect::default();
        let mut r = ev("2026-11-26 10:00:00", Kind::Rejected, None);
        r.sender = Some("spam@bad.example");
        r.recipient = Some("u@local.example");
        c.feed(&r, &mut s);
        let r2 = ev("2026-11-26 10:00:00", Kind::Rejected, None);
        c.feed(&r2, &mut s);
        assert_eq!(s.outcomes.len(), 1);
        assert_eq!(s.outcomes[0].1.as_deref(), Some("spam@bad.example"));
    }
}
