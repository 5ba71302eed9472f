//! Hash maps and sets for the aggregates: hashbrown with foldhash, several times faster than
//! the standard SipHash on the short keys used here (domains, addresses, queue IDs) and
//! seeded at random per process, so keys chosen by a sender cannot be crafted to collide.
//! hashbrown's raw entries look a `&str` up once and copy it only when it is new.

pub type HashMap<K, V> = hashbrown::HashMap<K, V>;
pub type HashSet<K> = hashbrown::HashSet<K>;
