//! A bounded heavy-hitter table (Space-Saving, Metwally et al. 2005) with a payload per key:
//! the keys with the largest counts of a stream in a fixed number of slots, so memory does not
//! grow with the distinct keys (senders, recipients) of a log.
//!
//! While the distinct keys fit the capacity every figure is exact. Past it, a new key takes
//! the slot of the key with the smallest count, inheriting that count (+ its weight) as its
//! count and the smallest count as its error: a count then overstates the key's true count by
//! at most its error, which is at most [`TopK::error_bound`], and every key whose true count
//! exceeds that bound is in the table. The payload (bytes, recipients) of a key that took over
//! a slot counts only from then on: a lower bound.

use super::HashMap;

/// The slots of the senders and recipients tables: a few thousand keys, about 1 MB.
pub const CAPACITY: usize = 4096;

/// One monitored key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<P> {
    pub key: Box<str>,
    /// The estimated count: the true count plus at most `error`.
    pub count: u64,
    /// How much `count` may overstate the true count (0 while the table is exact).
    pub error: u64,
    pub payload: P,
}

/// A Space-Saving table of at most `capacity` keys.
#[derive(Debug, Clone)]
pub struct TopK<P> {
    capacity: usize,
    slots: Vec<Entry<P>>,
    index: HashMap<Box<str>, usize>,
    /// The slots as a binary min-heap by (count, slot), so the smallest count (the lowest
    /// slot among equal counts) is first. Built when the table first replaces a key (only
    /// a replacement and [`TopK::error_bound`] read it), kept up to date from then on.
    heap: Vec<usize>,
    /// The place of each slot in `heap` (while it is built).
    place: Vec<usize>,
    /// A key has been replaced: the figures are estimates.
    evicted: bool,
    /// The sum of every weight added.
    total: u64,
}

impl<P: Default> TopK<P> {
    pub fn new(capacity: usize) -> Self {
        TopK {
            capacity: capacity.max(1),
            slots: Vec::new(),
            index: HashMap::default(),
            heap: Vec::new(),
            place: Vec::new(),
            evicted: false,
            total: 0,
        }
    }

    /// Adds `weight` to the count of `key` and lets `update` add to its payload.
    pub fn add(&mut self, key: &str, weight: u64, update: impl FnOnce(&mut P)) {
        self.total += weight;
        let slot = match self.index.get(key) {
            Some(&i) => {
                self.slots[i].count += weight;
                if self.evicted {
                    // A larger count: the slot can only move away from the top.
                    self.sift_down(self.place[i]);
                }
                i
            }
            None if self.slots.len() < self.capacity => {
                let i = self.slots.len();
                self.slots.push(Entry {
                    key: key.into(),
                    count: weight,
                    error: 0,
                    payload: P::default(),
                });
                self.index.insert(key.into(), i);
                i
            }
            None => {
                if !self.evicted {
                    self.build_heap();
                    self.evicted = true;
                }
                let i = self.heap[0];
                let e = &mut self.slots[i];
                let min = e.count;
                self.index.remove(&e.key);
                *e = Entry {
                    key: key.into(),
                    count: min + weight,
                    error: min,
                    payload: P::default(),
                };
                self.index.insert(key.into(), i);
                self.sift_down(0);
                i
            }
        };
        update(&mut self.slots[slot].payload);
    }

    /// Orders every slot into the heap.
    fn build_heap(&mut self) {
        self.heap = (0..self.slots.len()).collect();
        self.place = (0..self.slots.len()).collect();
        for at in (0..self.heap.len() / 2).rev() {
            self.sift_down(at);
        }
    }

    /// Whether slot `a` comes before slot `b`: a smaller count, or the same and a lower slot.
    fn before(&self, a: usize, b: usize) -> bool {
        (self.slots[a].count, a) < (self.slots[b].count, b)
    }

    /// Moves the slot at heap place `at` down until no child comes before it.
    fn sift_down(&mut self, mut at: usize) {
        let n = self.heap.len();
        loop {
            let left = 2 * at + 1;
            if left >= n {
                break;
            }
            let right = left + 1;
            let child = if right < n && self.before(self.heap[right], self.heap[left]) {
                right
            } else {
                left
            };
            if !self.before(self.heap[child], self.heap[at]) {
                break;
            }
            self.heap.swap(at, child);
            self.place[self.heap[at]] = at;
            self.place[self.heap[child]] = child;
            at = child;
        }
    }

    /// Returns true if and only if every figure is exact (no key was ever replaced).
    pub fn is_exact(&self) -> bool {
        !self.evicted
    }

    /// How much any count may overstate its key's true count, and the largest true count a
    /// key missing from the table can have: the smallest count in a table that replaced keys,
    /// else 0.
    pub fn error_bound(&self) -> u64 {
        if self.evicted {
            self.heap.first().map_or(0, |&i| self.slots[i].count)
        } else {
            0
        }
    }

    /// The number of keys monitored.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Returns true if and only if nothing was added.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The sum of every weight added.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The keys by count, largest first (ties by key).
    pub fn sorted(&self) -> Vec<&Entry<P>> {
        let mut v: Vec<&Entry<P>> = self.slots.iter().collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(t: &TopK<u64>) -> Vec<(String, u64, u64, u64)> {
        t.sorted()
            .into_iter()
            .map(|e| (e.key.to_string(), e.count, e.error, e.payload))
            .collect()
    }

    #[test]
    fn exact_while_the_keys_fit() {
        let mut t = TopK::<u64>::new(3);
        for (k, bytes) in [("a", 10), ("b", 5), ("a", 7), ("c", 1), ("a", 1), ("b", 2)] {
            t.add(k, 1, |p| *p += bytes);
        }
        assert!(t.is_exact());
        assert_eq!(t.error_bound(), 0);
        assert_eq!(t.total(), 6);
        assert_eq!(
            counts(&t),
            [
                ("a".into(), 3, 0, 18),
                ("b".into(), 2, 0, 7),
                ("c".into(), 1, 0, 1)
            ]
        );
    }

    #[test]
    fn a_new_key_takes_the_smallest_slot_with_its_error() {
        let mut t = TopK::<u64>::new(2);
        for k in ["a", "a", "a", "b", "c"] {
            t.add(k, 1, |p| *p += 100);
        }
        assert!(!t.is_exact());
        assert_eq!(t.len(), 2);
        // `c` replaced `b` (count 1): count 2, error 1, bytes only its own.
        assert_eq!(
            counts(&t),
            [("a".into(), 3, 0, 300), ("c".into(), 2, 1, 100)]
        );
        assert_eq!(t.error_bound(), 2);
    }

    /// The table replaces the same keys as a plain model that keeps its slots ordered by
    /// (count, slot) in a `BTreeSet`: the smallest count, the lowest slot among equal ones.
    #[test]
    fn replaces_the_lowest_slot_of_the_smallest_count() {
        use std::collections::BTreeSet;
        let cap = 7;
        let mut t = TopK::<u64>::new(cap);
        let mut keys: Vec<String> = Vec::new();
        let mut counts: Vec<(u64, u64)> = Vec::new();
        let mut order: BTreeSet<(u64, usize)> = BTreeSet::new();
        let mut x: u64 = 11;
        for _ in 0..5_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let k = format!("k{}", (x >> 33) % 23);
            let w = 1 + (x >> 60) % 3;
            t.add(&k, w, |p| *p += 1);
            match keys.iter().position(|x| *x == k) {
                Some(i) => {
                    order.remove(&(counts[i].0, i));
                    counts[i].0 += w;
                    order.insert((counts[i].0, i));
                }
                None if keys.len() < cap => {
                    keys.push(k);
                    counts.push((w, 0));
                    order.insert((w, keys.len() - 1));
                }
                None => {
                    let (min, i) = order.pop_first().unwrap();
                    keys[i] = k;
                    counts[i] = (min + w, min);
                    order.insert((min + w, i));
                }
            }
            let slots: Vec<(String, u64, u64)> = t
                .slots
                .iter()
                .map(|e| (e.key.to_string(), e.count, e.error))
                .collect();
            let model: Vec<(String, u64, u64)> = keys
                .iter()
                .zip(&counts)
                .map(|(k, (c, e))| (k.clone(), *c, *e))
                .collect();
            assert_eq!(slots, model);
            let bound = if t.is_exact() {
                0
            } else {
                order.first().unwrap().0
            };
            assert_eq!(t.error_bound(), bound);
        }
        assert!(!t.is_exact());
    }

    /// The Space-Saving guarantees on a skewed stream far wider than the table: every count
    /// is within its error of the truth, and every key above the bound is kept.
    #[test]
    fn guarantees_hold_on_a_long_tail() {
        let mut t = TopK::<u64>::new(50);
        let mut truth: std::collections::HashMap<String, u64> = Default::default();
        let mut x: u64 = 7;
        for i in 0..20_000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Ten heavy keys take half the stream; the rest is spread over 5,000 keys.
            let k = if i % 2 == 0 {
                format!("heavy{}", (x >> 33) % 10)
            } else {
                format!("tail{}", (x >> 33) % 5000)
            };
            *truth.entry(k.clone()).or_default() += 1;
            t.add(&k, 1, |_| {});
        }
        let bound = t.error_bound();
        assert!(bound <= 20_000 / 50, "bound {bound}");
        for e in t.sorted() {
            let real = truth[&*e.key];
            assert!(
                e.count >= real && e.count - e.error <= real,
                "{e:?} real {real}"
            );
        }
        for (k, n) in &truth {
            if *n > bound {
                assert!(t.sorted().iter().any(|e| &*e.key == k), "{k} ({n}) missing");
            }
        }
        let top: Vec<_> = t
            .sorted()
            .iter()
            .take(10)
            .map(|e| e.key.to_string())
            .collect();
        assert!(top.iter().all(|k| k.starts_with("heavy")), "{top:?}");
    }
}
