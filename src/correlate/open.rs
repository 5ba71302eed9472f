//! [`OpenTable`]: the open messages by queue ID, with the order of their last lines so the
//! one with the oldest last line is found in amortised O(1) (a queue of touches with lazy
//! deletion, compacted when stale entries outnumber the open messages).

use std::collections::VecDeque;
use std::sync::Arc;

use super::Message;
use crate::util::hash::HashMap;

/// An open message and the tick of its last touch. The message is boxed so the table's
/// buckets stay small (a resize moves 32-byte entries, not whole messages, and the spare
/// capacity of a half-full table costs little).
#[derive(Debug)]
struct Slot {
    touched: u64,
    msg: Box<Message>,
}

/// Open messages by queue ID, in the order of their last touch.
#[derive(Debug, Default)]
pub(super) struct OpenTable {
    map: HashMap<Arc<str>, Slot>,
    /// (tick, queue ID) of every touch, oldest first; an entry whose tick is not its
    /// message's `touched` (touched again since, or gone) is stale and skipped.
    order: VecDeque<(u64, Arc<str>)>,
    tick: u64,
}

impl OpenTable {
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    pub(super) fn contains(&self, id: &str) -> bool {
        self.map.contains_key(id)
    }

    pub(super) fn get(&self, id: &str) -> Option<&Message> {
        self.map.get(id).map(|s| &*s.msg)
    }

    /// Adds (or replaces) the message of `id`, as the most recently touched.
    pub(super) fn insert(&mut self, id: &str, msg: Message) {
        self.compact();
        let key: Arc<str> = Arc::from(id);
        self.tick += 1;
        let touched = self.tick;
        self.map.insert(
            key.clone(),
            Slot {
                touched,
                msg: Box::new(msg),
            },
        );
        self.order.push_back((touched, key));
    }

    /// The message of `id`, marked as the most recently touched.
    pub(super) fn touch(&mut self, id: &str) -> Option<&mut Message> {
        self.compact();
        // One lookup for the key and the slot.
        let (key, slot) = self.map.get_key_value_mut(id)?;
        self.tick += 1;
        slot.touched = self.tick;
        self.order.push_back((self.tick, key.clone()));
        Some(&mut *slot.msg)
    }

    pub(super) fn remove(&mut self, id: &str) -> Option<Message> {
        self.map.remove(id).map(|s| *s.msg)
    }

    /// Removes and returns the message whose last touch is the oldest.
    pub(super) fn pop_oldest(&mut self) -> Option<Message> {
        while let Some((tick, key)) = self.order.pop_front() {
            if self.map.get(&key).is_some_and(|s| s.touched == tick) {
                return self.remove(&key);
            }
        }
        None
    }

    /// The queue IDs of the messages for which `pred` holds.
    pub(super) fn keys_where(&self, pred: impl Fn(&Message) -> bool) -> Vec<Arc<str>> {
        self.map
            .iter()
            .filter(|(_, s)| pred(&s.msg))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Removes every message, in no particular order (boxed: sorting them moves pointers).
    #[allow(
        clippy::vec_box,
        reason = "the caller sorts them: moving 8-byte boxes, not messages"
    )]
    pub(super) fn drain(&mut self) -> Vec<Box<Message>> {
        self.order.clear();
        self.map.drain().map(|(_, s)| s.msg).collect()
    }

    /// Drops the stale entries of `order` once they outnumber the open messages (so each
    /// entry is dropped once: amortised O(1) per touch).
    fn compact(&mut self) {
        if self.order.len() > 2 * self.map.len() + 1024 {
            let map = &self.map;
            self.order
                .retain(|(t, k)| map.get(k).is_some_and(|s| s.touched == *t));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::{Mta, Timestamp};
    use chrono::NaiveDate;

    fn msg(id: &str) -> Message {
        let t = NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        Message::new(id, Mta::Exim, Timestamp::new(t, None))
    }

    #[test]
    fn the_oldest_is_by_last_touch_and_stale_entries_are_compacted() {
        let mut t = OpenTable::default();
        for id in ["a", "b", "c"] {
            t.insert(id, msg(id));
        }
        t.touch("a");
        assert_eq!(t.pop_oldest().unwrap().id, "b");
        for _ in 0..10_000 {
            t.touch("c");
        }
        assert!(t.order.len() <= 2 * t.len() + 1025);
        assert_eq!(t.pop_oldest().unwrap().id, "a");
        assert_eq!(t.pop_oldest().unwrap().id, "c");
        assert!(t.pop_oldest().is_none());
    }
}
