//! A ceiling on the subjects tracked one by one: sender domains, sending accounts and
//! envelope senders. Each costs its per-hour table, its replay and its evidence (about 1 to
//! 2 KB), so a log of a million distinct senders would otherwise take gigabytes. Past
//! `max_subjects` of one kind (`--max-subjects`, no cap unless set), the least active subjects with no failure are folded: their
//! per-subject figures are dropped, their lines stay in every total (which are counted
//! apart), and the number folded is reported. A subject with failures is folded only when
//! there are not enough without, and one whose limit tripped (replayed or in the log) never.

use super::{Aggregates, HashMap, HashSet};

/// Subjects folded into the totals, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Folded {
    pub sender_domains: u64,
    pub accounts: u64,
    pub senders: u64,
    /// Of them, those that had deferrals or failures (folded only for want of others).
    pub with_failures: u64,
}

impl Folded {
    pub fn any(&self) -> bool {
        self.sender_domains + self.accounts + self.senders > 0
    }
}

/// Which table a fold pass works on.
#[derive(Debug, Clone, Copy)]
enum Kind {
    SenderDomain,
    Account,
    Sender,
}

/// What a fold pass knows about one subject: never folded when `tripped`; folded first when
/// it has no `problems`, the least `active` first.
#[derive(Debug, Default, Clone, Copy)]
struct State {
    tripped: bool,
    problems: u64,
    active: u64,
}

impl Aggregates<'_> {
    /// At most `n` subjects of each kind tracked one by one (0 = no cap).
    pub fn with_max_subjects(mut self, n: usize) -> Self {
        self.max_subjects = if n == 0 { usize::MAX } else { n };
        self.fold_at = [self.max_subjects; 3];
        self
    }

    /// Folds subjects of a kind whose tables have grown past their threshold: two length
    /// comparisons per table, nothing more, unless one has.
    #[inline]
    pub(super) fn maybe_fold(&mut self) {
        let domains = self
            .by_sender_domain
            .len()
            .max(self.evidence.sender_domains.len())
            .max(self.replay.len());
        if domains > self.fold_at[0] {
            self.fold(Kind::SenderDomain);
        }
        if self.by_account.len().max(self.evidence.accounts.len()) > self.fold_at[1] {
            self.fold(Kind::Account);
        }
        if self.by_sender.len() > self.fold_at[2] {
            self.fold(Kind::Sender);
        }
    }

    /// Every subject of a kind with its state.
    fn states(&self, kind: Kind) -> HashMap<&str, State> {
        let mut out: HashMap<&str, State> = HashMap::default();
        let series = match kind {
            Kind::SenderDomain => &self.by_sender_domain,
            Kind::Account => &self.by_account,
            Kind::Sender => &self.by_sender,
        };
        for (k, s) in series {
            let c = s.total();
            let st = out.entry(k.as_ref()).or_default();
            st.problems += c.problems();
            st.active += c.total();
        }
        let evidence = match kind {
            Kind::SenderDomain => Some(&self.evidence.sender_domains),
            Kind::Account => Some(&self.evidence.accounts),
            Kind::Sender => None,
        };
        for (k, ev) in evidence.into_iter().flatten() {
            let st = out.entry(k.as_ref()).or_default();
            st.problems += ev.counts.problems()
                + ev.auth_failures
                + ev.failing_recipients
                + ev.causes.values().sum::<u64>();
            st.active += ev.messages + ev.counts.total();
        }
        if let Kind::SenderDomain = kind {
            for (k, hours) in &self.replay {
                let st = out.entry(k.as_ref()).or_default();
                for (_, dh) in hours {
                    st.problems += dh.counts.defer_fail();
                    st.tripped |= (0..4).any(|i| dh.trips[i].is_some());
                }
            }
            let limited: HashSet<&str> =
                self.log_limits.iter().map(|l| l.domain.as_str()).collect();
            for (k, st) in out.iter_mut() {
                st.tripped |= limited.contains(k);
            }
        }
        out
    }

    /// One fold pass: subjects without problems, least active first, down to half the cap;
    /// then, if that was not enough, those with problems, fewest first, down to three
    /// quarters of it. Tripped subjects stay. The next pass is due a quarter of the cap
    /// later at the earliest, so each pass is paid for by the subjects added since.
    #[cold]
    fn fold(&mut self, kind: Kind) {
        let cap = self.max_subjects;
        fn rank(k: &str, s: State) -> (bool, u64, u64, &str) {
            (s.problems > 0, s.problems, s.active, k)
        }
        let (mut len, mut order): (usize, Vec<(bool, u64, u64, &str)>) = match kind {
            // Senders are one table, so their states need no merging map: the same states
            // as `states` makes, straight from the table (never tripped).
            Kind::Sender => {
                let order = self
                    .by_sender
                    .iter()
                    .map(|(k, series)| {
                        let c = series.total();
                        let s = State {
                            tripped: false,
                            problems: c.problems(),
                            active: c.total(),
                        };
                        rank(k.as_ref(), s)
                    })
                    .collect();
                (self.by_sender.len(), order)
            }
            _ => {
                let states = self.states(kind);
                let order = states
                    .iter()
                    .filter(|(_, s)| !s.tripped)
                    .map(|(k, s)| rank(k, *s))
                    .collect();
                (states.len(), order)
            }
        };
        order.sort_unstable();
        let mut gone: Vec<Box<str>> = Vec::new();
        let mut with_failures = 0;
        for (failing, _, _, k) in order {
            let target = if failing { cap / 4 * 3 } else { cap / 2 };
            if len <= target {
                if failing {
                    break;
                }
                continue;
            }
            gone.push(k.into());
            with_failures += u64::from(failing);
            len -= 1;
        }
        let n = gone.len() as u64;
        for k in &gone {
            let k = k.as_ref();
            match kind {
                Kind::SenderDomain => {
                    self.by_sender_domain.remove(k);
                    self.evidence.sender_domains.remove(k);
                    self.replay.remove(k);
                }
                Kind::Account => {
                    self.by_account.remove(k);
                    self.evidence.accounts.remove(k);
                }
                Kind::Sender => {
                    self.by_sender.remove(k);
                }
            }
        }
        let (slot, count) = match kind {
            Kind::SenderDomain => (0, &mut self.folded.sender_domains),
            Kind::Account => (1, &mut self.folded.accounts),
            Kind::Sender => (2, &mut self.folded.senders),
        };
        *count += n;
        self.folded.with_failures += with_failures;
        self.fold_at[slot] = cap.max(len.saturating_add((cap / 4).max(1)));
        // Give the freed buckets back: a table that once held the cap keeps its size.
        match kind {
            Kind::SenderDomain => {
                self.by_sender_domain.shrink_to_fit();
                self.evidence.sender_domains.shrink_to_fit();
                self.replay.shrink_to_fit();
            }
            Kind::Account => {
                self.by_account.shrink_to_fit();
                self.evidence.accounts.shrink_to_fit();
            }
            Kind::Sender => self.by_sender.shrink_to_fit(),
        }
    }
}
