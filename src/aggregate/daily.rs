//! The figures of the daily summary: bytes received and delivered, messages received per
//! hour, senders and recipients by volume (bounded [`TopK`] tables), MTA warnings grouped by
//! their normalised text, and the frozen and administrator-removed messages.
//!
//! Every table here is bounded: the volume tables by [`topk::CAPACITY`] keys, the warnings by
//! [`MAX_WARNING_GROUPS`] groups, the listed messages by [`MAX_LISTED`]; what did not fit is
//! counted. The sizes and freezing times of open messages are kept until the message is done
//! (so as long as the correlator keeps it open).

use std::collections::BTreeMap;

use super::topk::{self, TopK};
use super::{HashMap, entry};
use crate::correlate::{Ending, Message};
use crate::model::event::{Event, Kind, Mta, Timestamp, lower};
use crate::model::hour::Hour;
use crate::model::outcome::{Outcome, OutcomeKind};

/// The most warning groups kept; lines of further groups are only counted.
pub const MAX_WARNING_GROUPS: usize = 1000;
/// The most frozen (and removed) messages listed; further ones are only counted.
pub const MAX_LISTED: usize = 1000;

/// What a sender sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SenderVolume {
    pub recipients: u64,
    pub bytes: u64,
}

/// What a recipient was delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecipientVolume {
    pub bytes: u64,
}

/// One group of MTA warnings with the same normalised text.
#[derive(Debug, Clone)]
pub struct WarningGroup {
    pub mta: Mta,
    pub count: u64,
    pub first: Timestamp,
    pub last: Timestamp,
}

/// A frozen or removed message.
#[derive(Debug, Clone)]
pub struct ListedMessage {
    pub queue_id: String,
    pub time: Timestamp,
    pub sender: Option<String>,
}

/// The daily summary's figures.
pub struct Daily {
    pub bytes_received: u64,
    pub bytes_delivered: u64,
    /// Messages received (their arrival line seen), by the hour of their first line.
    pub received_by_hour: BTreeMap<Hour, u64>,
    /// Messages sent per envelope sender (lower case; `<>` for the null sender).
    pub senders: TopK<SenderVolume>,
    /// Deliveries per recipient (lower case).
    pub recipients: TopK<RecipientVolume>,
    /// MTA warnings by normalised text.
    pub warnings: HashMap<Box<str>, WarningGroup>,
    /// Warning lines of groups past [`MAX_WARNING_GROUPS`].
    pub warnings_unlisted: u64,
    pub frozen: Vec<ListedMessage>,
    pub removed: Vec<ListedMessage>,
    /// The size of each open message whose size was logged.
    sizes: HashMap<Box<str>, u64>,
    /// When each open message was first frozen.
    frozen_at: HashMap<Box<str>, Timestamp>,
}

impl Default for Daily {
    fn default() -> Self {
        Daily {
            bytes_received: 0,
            bytes_delivered: 0,
            received_by_hour: BTreeMap::new(),
            senders: TopK::new(topk::CAPACITY),
            recipients: TopK::new(topk::CAPACITY),
            warnings: HashMap::default(),
            warnings_unlisted: 0,
            frozen: Vec::new(),
            removed: Vec::new(),
            sizes: HashMap::default(),
            frozen_at: HashMap::default(),
        }
    }
}

/// Returns true if and only if a line is a warning, error, fatal or panic of the MTA itself:
/// every Postfix `warning:`/`error:`/`fatal:`/`panic:` line, and Exim's warnings except
/// sender and recipient verification results (about a client's addresses) and cPanel's
/// per-message SpamAssassin verdicts.
pub(crate) fn is_mta_warning(e: &Event<'_>) -> bool {
    if e.kind != Kind::Warning {
        return false;
    }
    match e.mta {
        Mta::Postfix => true,
        Mta::Exim => {
            e.sender.is_none()
                && e.recipient.is_none()
                && !e.text.is_some_and(|t| t.contains("SpamAssassin as "))
        }
    }
}

/// The text a warning is grouped by: addresses become `ADDRESS`, runs of digits `N`,
/// whitespace one space, and at most 200 characters are kept.
pub(crate) fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(200));
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if let Some(at) = word.find('@')
            && at > 0
        {
            let start = word
                .find(|c: char| c.is_alphanumeric())
                .unwrap_or(0)
                .min(at);
            let end = word
                .rfind(|c: char| c.is_alphanumeric())
                .map_or(word.len(), |e| e + 1)
                .max(at + 1);
            out.push_str(&word[..start]);
            out.push_str("ADDRESS");
            out.push_str(&word[end..]);
            continue;
        }
        numbers(word, &mut out);
    }
    if out.chars().count() > 200 {
        out = out.chars().take(199).collect();
        out.push('…');
    }
    out
}

/// Appends `word` with its numbers as `N`: a run of digits, and an identifier with digits
/// in it (a queue ID `3F1A2C0E41`, a long hex or base-62 token).
fn numbers(word: &str, out: &mut String) {
    let b = word.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            // Up to the next ASCII letter or digit (a UTF-8 sequence is never one).
            let end = b[i + 1..]
                .iter()
                .position(|c| c.is_ascii_alphanumeric())
                .map_or(b.len(), |p| i + 1 + p);
            out.push_str(&word[i..end]);
            i = end;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let run = &word[start..i];
        let has_digit = run.bytes().any(|c| c.is_ascii_digit());
        let hex = run.bytes().all(|c| matches!(c, b'0'..=b'9' | b'A'..=b'F'));
        if has_digit && ((hex && run.len() >= 6) || run.len() >= 10) {
            out.push('N');
            continue;
        }
        let mut digits = false;
        for c in run.chars() {
            if c.is_ascii_digit() {
                if !digits {
                    out.push('N');
                }
                digits = true;
            } else {
                digits = false;
                out.push(c);
            }
        }
    }
}

impl Daily {
    /// An event the daily figures use: an arrival's size, a freezing, an MTA warning (in
    /// the time range `in_range`).
    pub(crate) fn event(&mut self, e: &Event<'_>, in_range: bool) {
        match e.kind {
            Kind::Arrival => {
                if let (Some(q), Some(size)) = (e.queue_id, e.size) {
                    *entry(&mut self.sizes, q) = size;
                }
            }
            Kind::Frozen => {
                if let Some(q) = e.queue_id
                    && !self.frozen_at.contains_key(q)
                {
                    self.frozen_at.insert(q.into(), e.time);
                }
            }
            Kind::Warning if in_range && is_mta_warning(e) => self.warning(e),
            _ => {}
        }
    }

    fn warning(&mut self, e: &Event<'_>) {
        let key = normalise(e.text.unwrap_or(""));
        if let Some(g) = self.warnings.get_mut(key.as_str()) {
            g.count += 1;
            g.first = g.first.min(e.time);
            g.last = g.last.max(e.time);
        } else if self.warnings.len() < MAX_WARNING_GROUPS {
            let g = WarningGroup {
                mta: e.mta,
                count: 1,
                first: e.time,
                last: e.time,
            };
            self.warnings.insert(key.into(), g);
        } else {
            self.warnings_unlisted += 1;
        }
    }

    /// A counted delivery (in the selection): its bytes, to its recipient.
    pub(crate) fn delivered(&mut self, o: &Outcome<'_>) {
        if o.kind != OutcomeKind::Delivered {
            return;
        }
        let size = o.queue_id.and_then(|q| self.sizes.get(q)).copied();
        let bytes = size.unwrap_or(0);
        self.bytes_delivered += bytes;
        // The address the mail was for: a local delivery's `=> user <user@domain>` names it
        // second.
        let address = match (o.recipient, o.original_recipient) {
            (Some(r), Some(orig)) if !r.contains('@') => Some(orig),
            (r, orig) => r.or(orig),
        };
        if let Some(r) = address {
            self.recipients.add(&lower(r), 1, |v| v.bytes += bytes);
        }
    }

    /// Forgets the open-message state of a finished message.
    pub(crate) fn forget(&mut self, m: &Message) -> Option<Timestamp> {
        self.sizes.remove(m.id.as_str());
        self.frozen_at.remove(m.id.as_str())
    }

    /// A finished message in the selection: received bytes and hour, its sender's volume,
    /// and the lists of frozen and removed messages. `frozen_at` is when it was frozen.
    pub(crate) fn message(&mut self, m: &Message, frozen_at: Option<Timestamp>) {
        let size = m.size.unwrap_or(0);
        if m.arrived {
            self.bytes_received += size;
            *self
                .received_by_hour
                .entry(Hour::of(&m.first_seen))
                .or_default() += 1;
        }
        let sender = match m.sender.as_deref() {
            Some("") => "<>".into(),
            Some(s) => lower(s),
            None => super::UNKNOWN.into(),
        };
        let recipients = m.recipients.len() as u64;
        self.senders.add(&sender, 1, |v| {
            v.recipients += recipients;
            v.bytes += size;
        });
        let listed = |time: Timestamp| ListedMessage {
            queue_id: m.id.clone(),
            time,
            sender: m.sender.as_deref().map(str::to_string),
        };
        if m.frozen && self.frozen.len() < MAX_LISTED {
            self.frozen.push(listed(frozen_at.unwrap_or(m.last_seen)));
        }
        if m.ending == Some(Ending::AdminRemoved) && self.removed.len() < MAX_LISTED {
            self.removed.push(listed(m.last_seen));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_addresses_and_numbers() {
        assert_eq!(
            normalise("unknown recipient a.b@x.example from <c@y.example> (3 tries)"),
            "unknown recipient ADDRESS from <ADDRESS> (N tries)"
        );
        assert_eq!(
            normalise("warning: hostname  h1.example does not resolve to address 192.0.2.7"),
            "warning: hostname hN.example does not resolve to address N.N.N.N"
        );
        assert_eq!(
            normalise("warning: open active 3F1A2C0E41: No such file or directory"),
            normalise("warning: open active 4D9E1F2A33: No such file or directory"),
        );
        assert_eq!(
            normalise("warning: open active 3F1A2C0E41: x"),
            "warning: open active N: x"
        );
        assert_eq!(normalise("TLS1.3 über 5é"), "TLSN.N über Né");
        assert_eq!(normalise(&"x".repeat(300)).chars().count(), 200);
    }
}
