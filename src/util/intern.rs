//! [`Interner`]: one shared copy of strings that repeat across many records (a sender, an
//! account, a client address, a protocol name), so a million open messages from a few
//! hundred accounts do not hold a million copies. Strings no record holds any more are
//! dropped by a sweep whose cost is amortised over the insertions.

use std::sync::Arc;

use crate::util::hash::HashSet;

/// Shared copies of strings, dropped once nothing else holds them.
#[derive(Debug, Default)]
pub struct Interner {
    set: HashSet<Arc<str>>,
    /// Size of the set after the last sweep: the next sweep comes when it has doubled.
    after_sweep: usize,
}

impl Interner {
    /// The shared copy of `s`.
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.set.get(s) {
            return a.clone();
        }
        if self.set.len() >= 2 * self.after_sweep + 4096 {
            self.set.retain(|a| Arc::strong_count(a) > 1);
            self.after_sweep = self.set.len();
        }
        let a: Arc<str> = Arc::from(s);
        self.set.insert(a.clone());
        a
    }

    /// Strings held (some may be waiting for the next sweep).
    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_one_copy() {
        let mut i = Interner::default();
        let a = i.get("bob@example.com");
        let b = i.get("bob@example.com");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(i.len(), 1);
    }

    #[test]
    fn strings_nobody_holds_are_swept() {
        let mut i = Interner::default();
        let kept = i.get("kept");
        for n in 0..100_000 {
            drop(i.get(&format!("gone{n}")));
        }
        assert!(i.len() < 10_000, "{} strings held", i.len());
        assert!(Arc::ptr_eq(&kept, &i.get("kept")));
    }
}
