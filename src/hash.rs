//! Hash maps and sets with foldhash: several times faster than the standard SipHash on the
//! short keys the aggregates use (domains, addresses, queue IDs), and seeded at random per
//! process, so keys chosen by a sender cannot be crafted to collide.

pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
