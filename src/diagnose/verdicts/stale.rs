//! `stale_list`: dead addresses are the main share (required), spread over many recipient
//! domains (required), and at least [`MIN_DEAD_PERCENT`] of all the recipients it tried
//! (required: a busy sender whose few failures are mostly dead addresses keeps a clean list;
//! a maintained list stays under 2%); for an account, a normal login pattern.

/// The hard-bounce rate (dead addresses among the recipients tried) a stale list has at
/// least.
pub(crate) const MIN_DEAD_PERCENT: u64 = 5;

use super::Candidate;
use crate::diagnose::subject::{Subject, ind};
use crate::diagnose::{GroupKind, Note, Remedy, Sign, Verdict};

impl Subject<'_, '_> {
    pub(super) fn stale(&self) -> Option<Candidate> {
        let g = &self.tally.dead;
        if g.recipients == 0 {
            return None;
        }
        let share = self.main_share(g.recipients, GroupKind::Dead);
        let spread = ind(
            g.domains() >= self.t.many_domains,
            Sign::DeadSpread {
                by_domain: g.domain_list(),
                threshold: self.t.many_domains,
            },
        );
        let mut indicators = vec![share, spread];
        if self.is_account() {
            let ips = self.networks().len() as u64;
            let (fails, _) = self.failed_logins();
            indicators.push(ind(
                ips < self.t.many_ips && fails < self.t.auth_failures,
                Sign::NormalLogins {
                    ips,
                    failed_logins: fails,
                    ips_threshold: self.t.many_ips,
                    logins_threshold: self.t.auth_failures,
                },
            ));
        }
        let tried = self.ev.counts.delivered + self.tally.recipients;
        let high_rate = g.recipients * 100 >= tried * MIN_DEAD_PERCENT;
        let mut notes = vec![Note::HardBounces {
            dead: g.recipients,
            tried,
        }];
        notes.extend(g.examples_note());
        Some(Candidate {
            verdict: Verdict::StaleList,
            required: indicators[0].met && indicators[1].met && high_rate,
            indicators,
            explained: g.recipients,
            notes,
            remedy: Remedy::StaleList { dead: g.recipients },
        })
    }
}
