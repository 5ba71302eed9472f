//! [`SortedSet`] and [`SortedMap`]: small sorted vectors for the per-subject sets of the
//! evidence (client IPs, senders, scripts), which hold one or two names for nearly every
//! subject. A `BTreeSet` allocates a node of eleven slots for its first name; these hold
//! exactly what they contain, iterate in the same (name) order, and stay fast at the few
//! thousand entries their callers cap them at.

/// A set of names in sorted order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SortedSet(Vec<String>);

impl SortedSet {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.binary_search_by(|x| x.as_str().cmp(name)).is_ok()
    }

    /// Adds `name`; returns false if it was there already.
    pub fn insert(&mut self, name: String) -> bool {
        match self.0.binary_search(&name) {
            Ok(_) => false,
            Err(at) => {
                if self.0.is_empty() {
                    self.0.reserve_exact(1);
                }
                self.0.insert(at, name);
                true
            }
        }
    }

    /// Adds a copy of `name`, made only if it is new; returns false if it was there already.
    pub fn insert_str(&mut self, name: &str) -> bool {
        match self.0.binary_search_by(|x| x.as_str().cmp(name)) {
            Ok(_) => false,
            Err(at) => {
                if self.0.is_empty() {
                    self.0.reserve_exact(1);
                }
                self.0.insert(at, name.to_string());
                true
            }
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }
}

/// A map from names to values, in name order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortedMap<V>(Vec<(String, V)>);

impl<V> Default for SortedMap<V> {
    fn default() -> Self {
        SortedMap(Vec::new())
    }
}

impl<V> SortedMap<V> {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name))
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// The value of `name`, inserted as the default first if missing.
    pub fn get_or_default(&mut self, name: &str) -> &mut V
    where
        V: Default,
    {
        let i = match self.find(name) {
            Ok(i) => i,
            Err(at) => {
                if self.0.is_empty() {
                    self.0.reserve_exact(1);
                }
                self.0.insert(at, (name.to_string(), V::default()));
                at
            }
        };
        &mut self.0[i].1
    }

    pub fn get(&self, name: &str) -> Option<&V> {
        self.find(name).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut V> {
        self.find(name).ok().map(|i| &mut self.0[i].1)
    }

    /// Sets the value of `name`, returning the one it replaces.
    pub fn insert(&mut self, name: String, value: V) -> Option<V> {
        match self.find(&name) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(at) => {
                if self.0.is_empty() {
                    self.0.reserve_exact(1);
                }
                self.0.insert(at, (name, value));
                None
            }
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<'a, V> IntoIterator for &'a SortedMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, V)>,
        fn(&'a (String, V)) -> (&'a String, &'a V),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    #[test]
    fn the_set_iterates_like_a_btreeset() {
        let names = ["b", "a", "c", "a", "10.0.0.2", "10.0.0.10"];
        let mut s = SortedSet::default();
        let mut b = BTreeSet::new();
        for n in names {
            assert_eq!(s.insert(n.to_string()), b.insert(n.to_string()));
            assert!(!s.insert_str(n));
        }
        assert!(s.iter().eq(b.iter()));
        assert_eq!(s.len(), b.len());
        assert!(s.contains("c") && !s.contains("d"));
        assert!(s.insert_str("d") && s.contains("d"));
    }

    #[test]
    fn the_map_iterates_like_a_btreemap() {
        let mut m = SortedMap::default();
        let mut b = BTreeMap::new();
        for (i, n) in ["x@a", "b@a", "x@a", "c@a"].into_iter().enumerate() {
            assert_eq!(m.insert(n.to_string(), i), b.insert(n.to_string(), i));
        }
        *m.get_mut("b@a").unwrap() += 10;
        *m.get_or_default("d@a") += 1;
        *b.entry("d@a".to_string()).or_default() += 1;
        assert!(m.contains_key("d@a"));
        *b.get_mut("b@a").unwrap() += 10;
        assert!(m.iter().eq(b.iter()));
        assert!(m.keys().eq(b.keys()));
        assert_eq!(m.get("zz"), None);
    }
}
