//! The queue IDs a trace needs, found before it reads its inputs line by line.
//!
//! A message belongs to a trace when one of its lines involves the target, or when it is
//! linked to such a message: a bounce of it, the copy a content filter re-queued, a message
//! one of its lines names. Every such line holds the target or a queue ID already found as
//! text, so the set is found by searching the inputs for strings
//! ([`Relevant::first_patterns`]), parsing only the lines that hold one and taking in their
//! IDs ([`Relevant::absorb_ids`]), and searching again for the IDs new in that round, until
//! a round finds none. The trace then correlates only the lines of those messages
//! ([`Relevant::follow`]) and lets the others go
//! by after counting them, which is where most of its time went.

use crate::util::hash::HashSet;

use super::Target;
use crate::model::event::Event;

/// More IDs than this and the search costs more than it saves (a domain with a large share
/// of the traffic): the trace reads everything.
pub const MAX_IDS: usize = 2_000;

/// The queue IDs found so far.
#[derive(Debug, Default)]
pub struct Relevant {
    ids: HashSet<String>,
    /// IDs found in this round, searched for in the next.
    fresh: Vec<String>,
}

impl Relevant {
    /// The strings the first round searches for (case-insensitively): the target itself.
    pub fn first_patterns(target: &Target) -> Vec<String> {
        vec![match target {
            Target::Address(a) => a.clone(),
            Target::Domain(d) => d.clone(),
            Target::QueueId(q) => q.clone(),
        }]
    }

    /// Takes in the IDs of an event a search found (on any thread): its queue ID and the
    /// ID it names, if it involves the target (`matched`) or an ID already found. New IDs
    /// are the next round's patterns ([`Relevant::take_fresh`]).
    pub fn absorb_ids(&mut self, queue_id: Option<&str>, related_id: Option<&str>, matched: bool) {
        if matched || self.knows(queue_id, related_id) {
            self.insert(queue_id, related_id, true);
        }
    }

    /// The IDs found since the last call: the next round's patterns (none: the set is
    /// complete).
    pub fn take_fresh(&mut self) -> Vec<String> {
        std::mem::take(&mut self.fresh)
    }

    /// Number of IDs found.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Returns true if no ID was found.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// For the line-by-line read: returns true if the trace must correlate this event. It
    /// must when the event has no queue ID (connection lines are few and may involve the
    /// target themselves), or involves the target or a message found; then its IDs are
    /// taken in, so a message the search could not see (written to the log since) is
    /// followed from that line on.
    pub fn follow(&mut self, target: &Target, e: &Event<'_>) -> bool {
        if e.queue_id.is_none() {
            return true;
        }
        if !(self.knows(e.queue_id, e.related_id) || target.matches(e)) {
            return false;
        }
        self.insert(e.queue_id, e.related_id, false);
        true
    }

    fn knows(&self, queue_id: Option<&str>, related_id: Option<&str>) -> bool {
        [queue_id, related_id]
            .into_iter()
            .flatten()
            .any(|id| self.ids.contains(id))
    }

    /// Adds the IDs not yet found, as patterns for the next round if `search`.
    fn insert(&mut self, queue_id: Option<&str>, related_id: Option<&str>, search: bool) {
        for id in [queue_id, related_id].into_iter().flatten() {
            if !self.ids.contains(id) {
                self.ids.insert(id.to_string());
                if search {
                    self.fresh.push(id.to_string());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event::{Kind, Mta, Timestamp};
    use chrono::NaiveDate;

    fn ev<'a>(qid: &'a str, related: Option<&'a str>, rcpt: Option<&'a str>) -> Event<'a> {
        let t = NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let mut e = Event::new(Timestamp::new(t, None), Mta::Postfix, Kind::Delivered);
        e.queue_id = Some(qid);
        e.related_id = related;
        e.recipient = rcpt;
        e
    }

    #[test]
    fn ids_spread_from_the_target_through_the_ids_lines_name() {
        let target = Target::parse("bob@example.com");
        let mut r = Relevant::default();
        let absorb = |r: &mut Relevant, e: &Event<'_>| {
            r.absorb_ids(e.queue_id, e.related_id, target.matches(e))
        };
        assert_eq!(Relevant::first_patterns(&target), ["bob@example.com"]);
        // A line that only holds the text (say in a subject) but no field: nothing.
        absorb(&mut r, &ev("AAA", None, Some("carol@example.com")));
        assert!(r.is_empty());
        absorb(&mut r, &ev("AAA", None, Some("Bob@Example.com")));
        assert_eq!(r.take_fresh(), ["AAA"]);
        // A line of AAA naming its bounce BBB brings BBB in; found once only.
        absorb(&mut r, &ev("AAA", Some("BBB"), None));
        absorb(&mut r, &ev("AAA", Some("BBB"), None));
        assert_eq!(r.take_fresh(), ["BBB"]);
        // A line of another message naming a found one brings it in (an Exim bounce's R=).
        absorb(&mut r, &ev("CCC", Some("AAA"), None));
        assert_eq!(r.take_fresh(), ["CCC"]);
        assert!(r.take_fresh().is_empty());
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn the_read_follows_found_messages_lines_without_an_id_and_new_messages_of_the_target() {
        let target = Target::parse("bob@example.com");
        let mut r = Relevant::default();
        r.absorb_ids(Some("AAA"), None, true);
        r.take_fresh();
        assert!(r.follow(&target, &ev("AAA", None, None)));
        assert!(!r.follow(&target, &ev("DDD", None, None)));
        let mut none = ev("DDD", None, None);
        none.queue_id = None;
        assert!(r.follow(&target, &none));
        // A message written since the search: taken in from its first line with the target,
        // and its later lines followed; nothing is queued for a search.
        assert!(r.follow(&target, &ev("EEE", None, Some("bob@example.com"))));
        assert!(r.follow(&target, &ev("EEE", None, None)));
        assert!(r.follow(&target, &ev("FFF", Some("EEE"), None)));
        assert!(r.follow(&target, &ev("FFF", None, None)));
        assert!(r.take_fresh().is_empty());
        assert_eq!(r.len(), 3);
    }
}
