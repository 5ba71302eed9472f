//! [`OpenTable`]: the open messages by queue ID, in the order of their last lines, so the
//! one with the oldest last line is found in O(1). The messages sit in a slab whose entries
//! are linked from the least to the most recently touched; a hash table holds their slab
//! indices, keyed by each message's queue ID (its `id`). A line's message is found by
//! hashing its queue ID once ([`OpenTable::find`]), and moving it to the end of the order
//! costs a few index updates: no key copies, no reference counts, no queue to compact.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::Message;

/// No slab entry (the ends of the order).
const NIL: u32 = u32::MAX;

/// A message's place in the table, from [`OpenTable::find`] or [`OpenTable::insert`]:
/// valid until a message is next added or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slot(u32);

/// One slab entry: its neighbours in the order of last touches and its message (`None`
/// while the entry is free). The message is boxed so that growing the slab and sorting the
/// drained messages move pointers, not messages.
#[derive(Debug)]
struct Node {
    prev: u32,
    next: u32,
    msg: Option<Box<Message>>,
}

/// Open messages by queue ID, in the order of their last touch.
#[derive(Debug)]
pub(super) struct OpenTable {
    /// Slab indices, hashed by the queue ID of the message there.
    index: HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
    nodes: Vec<Node>,
    /// Free slab entries, reused before the slab grows.
    free: Vec<u32>,
    /// The least and the most recently touched message.
    oldest: u32,
    newest: u32,
}

impl Default for OpenTable {
    fn default() -> Self {
        OpenTable {
            index: HashTable::new(),
            hasher: Default::default(),
            nodes: Vec::new(),
            free: Vec::new(),
            oldest: NIL,
            newest: NIL,
        }
    }
}

impl OpenTable {
    pub(super) fn len(&self) -> usize {
        self.index.len()
    }

    /// The slot of the message of `id`.
    pub(super) fn find(&self, id: &str) -> Option<Slot> {
        let nodes = &self.nodes;
        self.index
            .find(self.hasher.hash_one(id), |&i| {
                nodes[i as usize].msg.as_ref().is_some_and(|m| m.id == id)
            })
            .map(|&i| Slot(i))
    }

    pub(super) fn contains(&self, id: &str) -> bool {
        self.find(id).is_some()
    }

    pub(super) fn get(&self, slot: Slot) -> &Message {
        self.nodes[slot.0 as usize]
            .msg
            .as_deref()
            .expect("a slot holds a message")
    }

    /// Adds `msg` under its queue ID (which must not be open already), as the most recently
    /// touched.
    pub(super) fn insert(&mut self, msg: Message) -> Slot {
        debug_assert!(!self.contains(&msg.id), "{} is open already", msg.id);
        let hash = self.hasher.hash_one(msg.id.as_str());
        let node = Node {
            prev: NIL,
            next: NIL,
            msg: Some(Box::new(msg)),
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                u32::try_from(self.nodes.len() - 1).expect("fewer than 2^32 open messages")
            }
        };
        let (nodes, hasher) = (&self.nodes, &self.hasher);
        self.index.insert_unique(hash, i, |&j| {
            let m = nodes[j as usize]
                .msg
                .as_ref()
                .expect("indexed entries hold messages");
            hasher.hash_one(m.id.as_str())
        });
        self.link_newest(i);
        Slot(i)
    }

    /// The message in `slot`, marked as the most recently touched.
    pub(super) fn touch(&mut self, slot: Slot) -> &mut Message {
        let i = slot.0;
        if self.newest != i {
            self.unlink(i);
            self.link_newest(i);
        }
        self.nodes[i as usize]
            .msg
            .as_deref_mut()
            .expect("a slot holds a message")
    }

    /// Removes the message in `slot`.
    pub(super) fn remove(&mut self, slot: Slot) -> Message {
        let i = slot.0;
        let msg = self.nodes[i as usize]
            .msg
            .take()
            .expect("a slot holds a message");
        let hash = self.hasher.hash_one(msg.id.as_str());
        self.index
            .find_entry(hash, |&j| j == i)
            .expect("an open message is indexed")
            .remove();
        self.unlink(i);
        self.free.push(i);
        *msg
    }

    /// Removes and returns the message whose last touch is the oldest.
    pub(super) fn pop_oldest(&mut self) -> Option<Message> {
        (self.oldest != NIL).then(|| self.remove(Slot(self.oldest)))
    }

    /// Removes the messages for which `pred` holds, oldest touch first.
    pub(super) fn remove_where(&mut self, pred: impl Fn(&Message) -> bool) -> Vec<Message> {
        let mut out = Vec::new();
        let mut i = self.oldest;
        while i != NIL {
            let node = &self.nodes[i as usize];
            let (next, hit) = (node.next, node.msg.as_deref().is_some_and(&pred));
            if hit {
                out.push(self.remove(Slot(i)));
            }
            i = next;
        }
        out
    }

    /// Removes every message, in no particular order (boxed: sorting them moves pointers).
    #[allow(
        clippy::vec_box,
        reason = "the caller sorts them: moving 8-byte boxes, not messages"
    )]
    pub(super) fn drain(&mut self) -> Vec<Box<Message>> {
        self.index.clear();
        self.free.clear();
        self.oldest = NIL;
        self.newest = NIL;
        self.nodes.drain(..).filter_map(|n| n.msg).collect()
    }

    /// Takes entry `i` out of the order.
    fn unlink(&mut self, i: u32) {
        let (prev, next) = {
            let n = &self.nodes[i as usize];
            (n.prev, n.next)
        };
        match prev {
            NIL => self.oldest = next,
            p => self.nodes[p as usize].next = next,
        }
        match next {
            NIL => self.newest = prev,
            n => self.nodes[n as usize].prev = prev,
        }
    }

    /// Puts entry `i` (not in the order) at its newest end.
    fn link_newest(&mut self, i: u32) {
        let last = self.newest;
        {
            let n = &mut self.nodes[i as usize];
            n.prev = last;
            n.next = NIL;
        }
        match last {
            NIL => self.oldest = i,
            l => self.nodes[l as usize].next = i,
        }
        self.newest = i;
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

    fn touch(t: &mut OpenTable, id: &str) {
        let s = t.find(id).unwrap();
        t.touch(s);
    }

    #[test]
    fn the_oldest_is_by_last_touch() {
        let mut t = OpenTable::default();
        for id in ["a", "b", "c"] {
            t.insert(msg(id));
        }
        touch(&mut t, "a");
        assert_eq!(t.pop_oldest().unwrap().id, "b");
        for _ in 0..10_000 {
            touch(&mut t, "c");
        }
        assert_eq!(t.len(), 2);
        assert_eq!(t.pop_oldest().unwrap().id, "a");
        assert_eq!(t.pop_oldest().unwrap().id, "c");
        assert!(t.pop_oldest().is_none());
        assert!(t.find("a").is_none());
    }

    #[test]
    fn removed_entries_are_reused_and_the_order_kept() {
        let mut t = OpenTable::default();
        for id in ["a", "b", "c", "d"] {
            t.insert(msg(id));
        }
        let b = t.find("b").unwrap();
        assert_eq!(t.remove(b).id, "b");
        let e = t.insert(msg("e"));
        assert_eq!(e, b, "the free entry is reused");
        assert_eq!(t.get(e).id, "e");
        let gone = t.remove_where(|m| m.id == "a" || m.id == "d");
        let gone: Vec<&str> = gone.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(gone, ["a", "d"]);
        assert_eq!(t.pop_oldest().unwrap().id, "c");
        assert_eq!(t.pop_oldest().unwrap().id, "e");
        assert_eq!(t.len(), 0);
        for n in 0..1000 {
            t.insert(msg(&n.to_string()));
        }
        assert!(t.contains("999") && !t.contains("1000"));
        assert_eq!(t.drain().len(), 1000);
        assert_eq!(t.len(), 0);
        assert!(t.pop_oldest().is_none());
    }
}
