//! A memo of classifications in front of a [`Classifier`], for logs where the same texts
//! recur.

use std::collections::HashMap;

use super::normalise::normalise_full;
use super::{Classification, Classifier};
use crate::model::smtp::Status;

/// How many distinct texts a [`CachedClassifier`] remembers before it starts over. Each
/// costs its normalised text (a few hundred bytes): 100,000 of them took about 50 MB in
/// `report` on logs whose texts all differ, while the aggregates' address-blind memo in front
/// of this one already spares it the texts that repeat.
pub const CACHE_LIMIT: usize = 16_384;

type CacheKey = (Option<u16>, Option<Status>, String);

/// A [`Classifier`] with a memo of classifications keyed by (code, status, normalised text), so that
/// each distinct failure text is matched once. The memo is cleared when it exceeds
/// [`CACHE_LIMIT`] entries.
#[derive(Debug)]
pub struct CachedClassifier<'c> {
    classifier: &'c Classifier,
    cache: HashMap<CacheKey, Classification>,
    pub(super) limit: usize,
    restarts: u64,
}

impl<'c> CachedClassifier<'c> {
    pub fn new(classifier: &'c Classifier) -> CachedClassifier<'c> {
        CachedClassifier {
            classifier,
            cache: HashMap::new(),
            limit: CACHE_LIMIT,
            restarts: 0,
        }
    }

    /// A cache that starts over past `limit` distinct texts (at least 1).
    pub fn with_limit(classifier: &'c Classifier, limit: usize) -> CachedClassifier<'c> {
        CachedClassifier {
            limit: limit.max(1),
            ..CachedClassifier::new(classifier)
        }
    }

    /// Forgets every remembered text (the count of restarts stays).
    pub fn clear(&mut self) {
        self.cache = HashMap::new();
    }

    /// Times the cache started over because it was full.
    pub fn restarts(&self) -> u64 {
        self.restarts
    }

    /// Same result as [`Classifier::classify`].
    pub fn classify(
        &mut self,
        code: Option<u16>,
        enhanced: Option<&str>,
        text: &str,
    ) -> Classification {
        let n = normalise_full(text);
        let code = code.or(n.code);
        let status = enhanced.and_then(Status::parse).or(n.status);
        let key = (code, status, n.text);
        if let Some(v) = self.cache.get(&key) {
            return *v;
        }
        if self.cache.len() >= self.limit {
            // A new table: clearing would keep the full one's memory.
            self.cache = HashMap::new();
            self.restarts += 1;
        }
        let v = self.classifier.decide(code, status, &key.2).verdict;
        let mut key = key;
        // The text was built with room for the raw one: keep only what it needs.
        key.2.shrink_to_fit();
        self.cache.insert(key, v);
        v
    }

    /// Number of remembered texts.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }
}
