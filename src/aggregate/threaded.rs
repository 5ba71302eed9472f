//! Running aggregation on a second thread.
//!
//! Reading, parsing and correlating stay on the calling thread; what the correlator hands
//! its sink (outcomes, finished messages, login failures) is packed into batches and sent
//! over a bounded channel to a thread that owns the [`Aggregates`]. A batch copies the text
//! of its outcomes into one buffer and refers to it by ranges, so nothing is allocated per
//! line, and the buffers are sent back for reuse. The order of everything the sink sees is
//! kept, so the result is identical to running the aggregates in place. Of the other events
//! only what the aggregates read is sent: failed logins, arrival sizes, freezings and MTA
//! warnings.

use std::ops::Range;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::Aggregates;
use crate::correlate::{Message, Sink};
use crate::model::event::{Event, Kind, Limit, LimitKind, Mta, Timestamp};
use crate::model::outcome::{Outcome, OutcomeKind};

/// Items per batch.
const BATCH: usize = 4096;
/// Batches in flight: bounds the memory between the threads.
const IN_FLIGHT: usize = 4;

type Span = Option<Range<u32>>;

/// An [`Outcome`] whose text lives in the batch buffer.
struct PackedOutcome {
    kind: OutcomeKind,
    time: Timestamp,
    mta: Mta,
    code: Option<u16>,
    retry_not_due: bool,
    is_bounce: bool,
    limit: Option<PackedLimit>,
    /// queue_id, sender, account, charged_domain, client_ip, script, recipient,
    /// original_recipient, host, ip, status, text, router
    fields: [Span; 13],
}

/// A cPanel [`Limit`] with its domain in the batch buffer: kind, domain, count, max, percent.
type PackedLimit = (LimitKind, Span, Option<i64>, Option<i64>, Option<i64>);

#[allow(clippy::large_enum_variant)] // outcomes are most items; boxing them would allocate
enum Item {
    Outcome(PackedOutcome),
    /// A hop to a local content filter ([`Sink::hand_off`]).
    HandOff(PackedOutcome),
    Done(Box<Message>),
    /// A failed login: time, account, ip.
    AuthFailed(Timestamp, Mta, Span, Span),
    /// The first line only a cPanel server writes.
    Cpanel,
    /// An arrival's logged size: queue ID, size.
    Size(Span, u64),
    /// A message was frozen: time, queue ID.
    Frozen(Timestamp, Mta, Span),
    /// An MTA warning: time, text.
    Warning(Timestamp, Mta, Span),
}

#[derive(Default)]
struct Batch {
    text: String,
    items: Vec<Item>,
}

impl Batch {
    fn put(&mut self, s: Option<&str>) -> Span {
        let s = s?;
        let start = self.text.len() as u32;
        self.text.push_str(s);
        Some(start..self.text.len() as u32)
    }
}

fn get<'t>(text: &'t str, span: &Span) -> Option<&'t str> {
    span.as_ref()
        .map(|r| &text[r.start as usize..r.end as usize])
}

/// The sending half: a [`Sink`] for the correlator.
pub struct Sender {
    batch: Batch,
    /// A cPanel line was seen (and sent).
    cpanel: bool,
    tx: SyncSender<Batch>,
    spare: Receiver<Batch>,
}

impl Sender {
    fn flush(&mut self) {
        if self.batch.items.is_empty() {
            return;
        }
        let mut next = self.spare.try_recv().unwrap_or_default();
        next.text.clear();
        next.items.clear();
        let full = std::mem::replace(&mut self.batch, next);
        // The receiver only goes away if the aggregating thread panicked; the panic is
        // reported when it is joined.
        let _ = self.tx.send(full);
    }

    fn push(&mut self, item: Item) {
        self.batch.items.push(item);
        if self.batch.items.len() >= BATCH || self.batch.text.len() >= BATCH * 256 {
            self.flush();
        }
    }
}

impl Batch {
    fn pack(&mut self, o: &Outcome<'_>) -> PackedOutcome {
        let fields = [
            self.put(o.queue_id),
            self.put(o.sender),
            self.put(o.account),
            self.put(o.charged_domain),
            self.put(o.client_ip),
            self.put(o.script),
            self.put(o.recipient),
            self.put(o.original_recipient),
            self.put(o.host),
            self.put(o.ip),
            self.put(o.status),
            self.put(o.text),
            self.put(o.router),
        ];
        let limit = o
            .limit
            .map(|l| (l.kind, self.put(l.domain), l.count, l.max, l.percent));
        PackedOutcome {
            kind: o.kind,
            time: o.time,
            mta: o.mta,
            code: o.code,
            retry_not_due: o.retry_not_due,
            is_bounce: o.is_bounce,
            limit,
            fields,
        }
    }
}

impl Sink for Sender {
    fn outcome(&mut self, o: &Outcome<'_>) {
        let p = self.batch.pack(o);
        self.push(Item::Outcome(p));
    }

    fn hand_off(&mut self, o: &Outcome<'_>) {
        let p = self.batch.pack(o);
        self.push(Item::HandOff(p));
    }

    fn message_done(&mut self, m: Message) {
        self.push(Item::Done(Box::new(m)));
    }

    fn event(&mut self, e: &Event<'_>, _m: Option<&Message>) {
        if !self.cpanel && super::is_cpanel_line(e) {
            self.cpanel = true;
            self.push(Item::Cpanel);
        }
        match e.kind {
            Kind::Arrival if e.size.is_some() && e.queue_id.is_some() => {
                let q = self.batch.put(e.queue_id);
                self.push(Item::Size(q, e.size.unwrap_or(0)));
            }
            Kind::Frozen if e.queue_id.is_some() => {
                let q = self.batch.put(e.queue_id);
                self.push(Item::Frozen(e.time, e.mta, q));
            }
            Kind::Warning if super::daily::is_mta_warning(e) => {
                let t = self.batch.put(e.text);
                self.push(Item::Warning(e.time, e.mta, t));
            }
            _ => {}
        }
        if e.kind == Kind::AuthFailed {
            let account = self.batch.put(e.account);
            let ip = self.batch.put(e.ip);
            self.push(Item::AuthFailed(e.time, e.mta, account, ip));
        }
    }
}

/// Hands a batch to the aggregates, in order, moving its messages out.
fn replay(batch: &mut Batch, agg: &mut Aggregates<'_>) {
    let text = batch.text.as_str();
    for item in batch.items.drain(..) {
        match item {
            Item::Outcome(p) => agg.outcome(&unpack(text, &p)),
            Item::HandOff(p) => agg.hand_off(&unpack(text, &p)),
            Item::Done(m) => agg.message_done(*m),
            Item::Cpanel => agg.cpanel = true,
            Item::AuthFailed(time, mta, account, ip) => {
                let mut e = Event::new(time, mta, Kind::AuthFailed);
                e.account = get(text, &account);
                e.ip = get(text, &ip);
                agg.event(&e, None);
            }
            Item::Size(q, size) => {
                // The kind and time are not read for a size.
                let mut e = Event::new(
                    Timestamp::new(Default::default(), None),
                    Mta::Exim,
                    Kind::Arrival,
                );
                e.queue_id = get(text, &q);
                e.size = Some(size);
                agg.daily.event(&e, false);
            }
            Item::Frozen(time, mta, q) => {
                let mut e = Event::new(time, mta, Kind::Frozen);
                e.queue_id = get(text, &q);
                agg.daily.event(&e, false);
            }
            Item::Warning(time, mta, t) => {
                let mut e = Event::new(time, mta, Kind::Warning);
                e.text = get(text, &t);
                agg.event(&e, None);
            }
        }
    }
}

/// The outcome a [`PackedOutcome`] holds, its text borrowed from the batch buffer.
fn unpack<'t>(text: &'t str, p: &PackedOutcome) -> Outcome<'t> {
    let f = |i: usize| get(text, &p.fields[i]);
    Outcome {
        kind: p.kind,
        time: p.time,
        mta: p.mta,
        queue_id: f(0),
        sender: f(1),
        account: f(2),
        charged_domain: f(3),
        client_ip: f(4),
        script: f(5),
        recipient: f(6),
        original_recipient: f(7),
        host: f(8),
        ip: f(9),
        code: p.code,
        status: f(10),
        text: f(11),
        router: f(12),
        limit: p
            .limit
            .as_ref()
            .map(|(kind, d, count, max, percent)| Limit {
                kind: *kind,
                domain: get(text, d),
                count: *count,
                max: *max,
                percent: *percent,
            }),
        retry_not_due: p.retry_not_due,
        is_bounce: p.is_bounce,
    }
}

/// Runs `produce` on this thread with a [`Sender`] as its sink, while a second thread feeds
/// everything to `agg`. Returns what `produce` returned, after the aggregates have seen all.
pub fn run<'c, T: Send>(
    agg: &mut Aggregates<'c>,
    produce: impl FnOnce(&mut Sender) -> T + Send,
) -> T
where
    Aggregates<'c>: Send,
{
    let (tx, rx) = sync_channel::<Batch>(IN_FLIGHT);
    let (spare_tx, spare_rx) = sync_channel::<Batch>(IN_FLIGHT + 2);
    std::thread::scope(|scope| {
        let consumer = scope.spawn(move || {
            for mut batch in rx {
                replay(&mut batch, agg);
                let _ = spare_tx.try_send(batch);
            }
        });
        let mut sender = Sender {
            batch: Batch::default(),
            cpanel: false,
            tx,
            spare: spare_rx,
        };
        let out = produce(&mut sender);
        sender.flush();
        drop(sender);
        if let Err(panic) = consumer.join() {
            std::panic::resume_unwind(panic);
        }
        out
    })
}
