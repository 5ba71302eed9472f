//! `mailtrace trace`: every message that involves an address, a queue ID or a domain, its
//! log lines grouped in order, bounces under the message they report on, and a one-line
//! verdict per recipient — exigrep for both MTAs.
//!
//! The tracer rides on the correlator: it keeps the raw lines of each open queue ID (in
//! memory up to a budget, then in a temporary file: `spool`) and prints a message's group
//! when the message finishes, if it matched. `render` turns a group into text.

mod relevant;
mod render;
mod spool;

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use crate::classify::{CachedClassifier, Classifier};
use crate::correlate::{Message, Sink};
use crate::model::event::{Event, domain_of};
use crate::model::outcome::Outcome;
pub use relevant::{MAX_IDS, Relevant};
use render::Show;

/// What to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Address(String),
    QueueId(String),
    Domain(String),
}

impl Target {
    /// An argument with `@` is an address; one shaped like an Exim message ID or a Postfix
    /// queue ID is a queue ID; anything else is a domain.
    pub fn parse(s: &str) -> Target {
        let s = s.trim().trim_matches(|c| c == '<' || c == '>');
        if s.contains('@') && !s.starts_with('@') {
            return Target::Address(s.to_ascii_lowercase());
        }
        if is_queue_id(s) {
            return Target::QueueId(s.to_string());
        }
        Target::Domain(s.trim_start_matches('@').to_ascii_lowercase())
    }

    fn matches_address(&self, a: &str) -> bool {
        match self {
            Target::Address(want) => a.eq_ignore_ascii_case(want),
            Target::Domain(d) => domain_of(a).is_some_and(|x| {
                x.eq_ignore_ascii_case(d)
                    || (x.len() > d.len() + 1
                        && x.as_bytes()[x.len() - d.len() - 1] == b'.'
                        && x[x.len() - d.len()..].eq_ignore_ascii_case(d))
            }),
            Target::QueueId(_) => false,
        }
    }

    /// Returns true if and only if the event involves the target.
    pub fn matches(&self, e: &Event<'_>) -> bool {
        if let Target::QueueId(q) = self {
            return e.queue_id == Some(q.as_str()) || e.related_id == Some(q.as_str());
        }
        [e.sender, e.recipient, e.original_recipient, e.account]
            .into_iter()
            .flatten()
            .any(|a| self.matches_address(a))
            || e.recipients
                .is_some_and(|l| l.split(' ').any(|a| self.matches_address(a)))
    }
}

/// Exim IDs (6-6-2 or 6-11-4) and Postfix short (hex) or long queue IDs.
fn is_queue_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let alnum = |p: &str| p.bytes().all(|c| c.is_ascii_alphanumeric());
    if parts.len() == 3 && parts.iter().all(|p| alnum(p)) {
        let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        return lens == [6, 6, 2] || lens == [6, 11, 4];
    }
    if s.len() >= 6 && !s.contains('.') {
        let hex = s
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c));
        let long = s.len() >= 12
            && alnum(s)
            && s.contains('z')
            && s.bytes().any(|c| c.is_ascii_uppercase());
        return hex || long;
    }
    false
}

struct Group {
    lines: spool::Lines,
    matched: bool,
}

/// Collects and prints traced messages.
pub struct Tracer<'w, 'c> {
    target: Target,
    out: &'w mut dyn Write,
    classifier: CachedClassifier<'c>,
    files: Vec<String>,
    file: usize,
    /// The line whose event comes next: its number and text (the buffer is reused).
    pending: Option<u64>,
    pending_text: String,
    open: HashMap<String, Group>,
    spool: spool::Spool,
    /// Matched messages (for linking their bounces and continuations).
    matched_ids: HashSet<String>,
    show: Show,
    filter: crate::correlate::Filter,
    /// Messages printed.
    pub printed: u64,
    /// Standalone (NOQUEUE) lines printed.
    pub standalone: u64,
    /// A write error stops the trace.
    pub error: Option<io::Error>,
}

impl<'w, 'c> Tracer<'w, 'c> {
    pub fn new(
        target: Target,
        out: &'w mut dyn Write,
        classifier: &'c Classifier,
        redact: bool,
        filter: crate::correlate::Filter,
    ) -> Self {
        Tracer {
            target,
            out,
            classifier: CachedClassifier::new(classifier),
            files: Vec::new(),
            file: 0,
            pending: None,
            pending_text: String::new(),
            open: HashMap::new(),
            spool: spool::Spool::default(),
            matched_ids: HashSet::new(),
            show: Show { redact, width: 100 },
            filter,
            printed: 0,
            standalone: 0,
            error: None,
        }
    }

    /// Wraps verdict lines to `width` columns (default 100).
    pub fn with_width(mut self, width: u16) -> Self {
        self.show.width = width.into();
        self
    }

    /// Keeps at most `bytes` of unprinted line text in memory (the rest goes to the
    /// temporary file); the default is 32 MiB.
    pub fn with_memory_budget(mut self, bytes: usize) -> Self {
        self.spool = spool::Spool::with_budget(bytes);
        self
    }

    /// Starts a new input file.
    pub fn begin_file(&mut self, name: &str) {
        self.files.push(name.to_string());
        self.file = self.files.len() - 1;
    }

    /// Remembers the raw text of the line whose event comes next.
    pub fn line(&mut self, number: u64, text: &str) {
        self.pending = Some(number);
        self.pending_text.clear();
        self.pending_text.push_str(text);
    }

    /// Records a spool error as the trace's error (it stops the trace like a write error).
    fn fail(&mut self, e: io::Error) {
        self.error.get_or_insert(e);
    }

    fn write(&mut self, s: &str) {
        if self.error.is_none()
            && let Err(e) = self.out.write_all(s.as_bytes())
        {
            self.error = Some(e);
        }
    }

    fn print_group(&mut self, m: &Message, g: Group) {
        let lines = match self.spool.take(g.lines) {
            Ok(l) => l,
            Err(e) => return self.fail(e),
        };
        let s = render::group(self.show, &self.files, &mut self.classifier, m, &lines);
        self.write(&s);
        self.printed += 1;
    }
}

impl Sink for Tracer<'_, '_> {
    fn outcome(&mut self, _o: &Outcome<'_>) {}

    fn event(&mut self, e: &Event<'_>, m: Option<&Message>) {
        let raw = self.pending.take();
        let matched = self.target.matches(e);
        let Some(qid) = e.queue_id else {
            if matched
                && self.filter.time_ok(&e.time)
                && let Some(n) = raw
            {
                let name = self.files.get(self.file).map(String::as_str);
                let line = render::standalone(
                    self.show,
                    e.kind.as_str(),
                    name.unwrap_or_default(),
                    n,
                    &self.pending_text,
                );
                self.write(&line);
                self.standalone += 1;
            }
            return;
        };
        let linked = m.is_some_and(|m| {
            [m.parent.as_deref(), m.chained_from.as_deref()]
                .into_iter()
                .flatten()
                .any(|p| self.matched_ids.contains(p))
        }) || e.related_id.is_some_and(|r| self.matched_ids.contains(r));
        if !self.open.contains_key(qid) {
            let g = Group {
                lines: spool::Lines::default(),
                matched: false,
            };
            self.open.insert(qid.to_string(), g);
        }
        let g = self.open.get_mut(qid).expect("inserted above");
        if let Some(n) = raw
            && let Err(err) = self
                .spool
                .push(&mut g.lines, self.file, n, &self.pending_text)
        {
            self.error.get_or_insert(err);
        }
        if matched || linked {
            g.matched = true;
            self.matched_ids.insert(qid.to_string());
        }
        // A bounce or requeue announced by a matched message belongs to the trace too.
        if (matched || g.matched)
            && e.related_id.is_some()
            && let Some(r) = e.related_id
        {
            self.matched_ids.insert(r.to_string());
        }
    }

    fn message_done(&mut self, m: Message) {
        let m = &m;
        let Some(g) = self.open.remove(&m.id) else {
            return;
        };
        let linked = [m.parent.as_deref(), m.chained_from.as_deref()]
            .into_iter()
            .flatten()
            .any(|p| self.matched_ids.contains(p));
        if (g.matched || linked || self.matched_ids.contains(&m.id)) && self.filter.message_ok(m) {
            self.print_group(m, g);
        } else {
            self.spool.release(g.lines);
        }
        if self.matched_ids.len() > 1_000_000 {
            self.matched_ids.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_kinds_are_recognised() {
        assert_eq!(
            Target::parse("Bob@Example.com"),
            Target::Address("bob@example.com".into())
        );
        assert_eq!(
            Target::parse("1tWx9Q-00000000Aq3-4kZ1"),
            Target::QueueId("1tWx9Q-00000000Aq3-4kZ1".into())
        );
        assert_eq!(
            Target::parse("1abCde-0001wC-Pk"),
            Target::QueueId("1abCde-0001wC-Pk".into())
        );
        assert_eq!(
            Target::parse("DC8BD1641F1"),
            Target::QueueId("DC8BD1641F1".into())
        );
        assert_eq!(
            Target::parse("3Pt2mN2VXxznjll"),
            Target::QueueId("3Pt2mN2VXxznjll".into())
        );
        assert_eq!(
            Target::parse("@gmail.com"),
            Target::Domain("gmail.com".into())
        );
        assert_eq!(
            Target::parse("shop.example"),
            Target::Domain("shop.example".into())
        );
        assert_eq!(Target::parse("cafe"), Target::Domain("cafe".into()));
    }

    #[test]
    fn domain_target_matches_subdomains_only_at_dots() {
        let t = Target::Domain("example.com".into());
        assert!(t.matches_address("a@example.com"));
        assert!(t.matches_address("a@mail.EXAMPLE.com"));
        assert!(!t.matches_address("a@badexample.com"));
    }
}
