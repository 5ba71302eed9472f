//! The daily summary's tables of the report: senders and recipients by volume, MTA warnings,
//! frozen and administrator-removed messages, each bounded by `--top` with a count of what
//! was cut, built from [`crate::aggregate::daily::Daily`].

use schemars::JsonSchema;
use serde::Serialize;

use crate::aggregate::daily::{Daily, ListedMessage};
use crate::aggregate::topk::{Entry, TopK};
use crate::model::event::{Mta, Timestamp, display_sender};
use crate::util::redact;

/// A volume table: the rows shown, how many monitored keys were cut, and whether the
/// figures are exact.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct VolumeTable<R> {
    pub rows: Vec<R>,
    /// Keys left out by `--top` (of those the bounded table kept).
    pub not_shown: usize,
    /// The table had more distinct keys than its capacity: counts are estimates that
    /// overstate by at most `error_bound`, and bytes and recipients are lower bounds.
    pub approximate: bool,
    /// How much a message count may overstate (0 when exact).
    pub error_bound: u64,
    /// The distinct keys the table can hold.
    pub capacity: usize,
}

/// One sender by messages sent.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SenderVolumeRow {
    pub sender: String,
    pub messages: u64,
    pub recipients: u64,
    pub bytes: u64,
}

/// One recipient by messages delivered to it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RecipientVolumeRow {
    pub recipient: String,
    pub messages: u64,
    pub bytes: u64,
}

/// MTA warning, error, fatal and panic lines grouped by normalised text.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct WarningTable {
    pub rows: Vec<WarningRow>,
    /// Groups left out by `--top`.
    pub not_shown: usize,
    /// Lines of every group (shown or not), and of groups past the table's bound.
    pub lines: u64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct WarningRow {
    pub mta: Mta,
    /// The text with addresses as `ADDRESS` and numbers as `N`.
    pub text: String,
    pub count: u64,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// Frozen or removed messages.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct MessageList {
    pub rows: Vec<MessageRow>,
    /// Messages left out by `--top` (or past the listing bound).
    pub not_shown: u64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct MessageRow {
    pub queue_id: String,
    /// When it was frozen (frozen list) or removed (removed list).
    pub time: Timestamp,
    /// `<>` for the null sender; `null` when unknown.
    pub sender: Option<String>,
}

fn shown(top: usize, n: usize) -> usize {
    if top == 0 { n } else { n.min(top) }
}

fn volume<P: Default, R>(t: &TopK<P>, top: usize, row: impl Fn(&Entry<P>) -> R) -> VolumeTable<R> {
    let sorted = t.sorted();
    let n = shown(top, sorted.len());
    VolumeTable {
        rows: sorted[..n].iter().map(|e| row(e)).collect(),
        not_shown: sorted.len() - n,
        approximate: !t.is_exact(),
        error_bound: t.error_bound(),
        capacity: crate::aggregate::topk::CAPACITY,
    }
}

pub(super) fn top_senders(d: &Daily, top: usize) -> VolumeTable<SenderVolumeRow> {
    volume(&d.senders, top, |e| SenderVolumeRow {
        sender: e.key.to_string(),
        messages: e.count,
        recipients: e.payload.recipients,
        bytes: e.payload.bytes,
    })
}

pub(super) fn top_recipients(d: &Daily, top: usize) -> VolumeTable<RecipientVolumeRow> {
    volume(&d.recipients, top, |e| RecipientVolumeRow {
        recipient: e.key.to_string(),
        messages: e.count,
        bytes: e.payload.bytes,
    })
}

pub(super) fn warnings(d: &Daily, top: usize) -> WarningTable {
    let mut rows: Vec<WarningRow> = d
        .warnings
        .iter()
        .map(|(text, g)| WarningRow {
            mta: g.mta,
            text: text.to_string(),
            count: g.count,
            first: g.first,
            last: g.last,
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.text.cmp(&b.text)));
    let lines = rows.iter().map(|r| r.count).sum::<u64>() + d.warnings_unlisted;
    let n = shown(top, rows.len());
    let not_shown = rows.len() - n;
    rows.truncate(n);
    WarningTable {
        rows,
        not_shown,
        lines,
    }
}

/// The list of `total` messages of which `listed` were kept, in time order, bounded by `top`.
pub(super) fn messages(listed: &[ListedMessage], total: u64, top: usize) -> MessageList {
    let mut v: Vec<&ListedMessage> = listed.iter().collect();
    v.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then_with(|| a.queue_id.cmp(&b.queue_id))
    });
    v.truncate(shown(top, v.len()));
    MessageList {
        not_shown: total.saturating_sub(v.len() as u64),
        rows: v
            .into_iter()
            .map(|m| MessageRow {
                queue_id: m.queue_id.clone(),
                time: m.time,
                sender: m.sender.as_deref().map(|s| display_sender(s).to_string()),
            })
            .collect(),
    }
}

/// Replaces the local parts of the addresses in the daily tables.
pub(super) fn redact(
    senders: &mut VolumeTable<SenderVolumeRow>,
    recipients: &mut VolumeTable<RecipientVolumeRow>,
    warnings: &mut WarningTable,
    lists: [&mut MessageList; 2],
) {
    for r in &mut senders.rows {
        r.sender = redact::address(&r.sender).into_owned();
    }
    for r in &mut recipients.rows {
        r.recipient = redact::address(&r.recipient).into_owned();
    }
    for r in &mut warnings.rows {
        r.text = redact::text(&r.text).into_owned();
    }
    for l in lists {
        for r in &mut l.rows {
            if let Some(s) = &mut r.sender {
                *s = redact::address(s).into_owned();
            }
        }
    }
}
