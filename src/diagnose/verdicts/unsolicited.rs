//! `unsolicited_mail`: spam refusals at several destinations (required), not mostly at one or
//! two of them (required: that is one organisation's block), at a rate the other
//! accounts do not show (required: a Poisson tail test against the rate of the other
//! accounts that are not outliers themselves, Bonferroni-corrected for the number of
//! accounts, and at least [`MIN_SPAM_PERCENT`] of the recipients it tried); the main share
//! of its failing recipients; a wide mailing; a volume jump. Every busy sender meets the odd
//! reputation deferral or rate limit at a big provider; only a sender refused far more often
//! than its neighbours on the same server, in the same log, sends mail its recipients did
//! not ask for.

use super::Candidate;
use crate::diagnose::subject::{MIN_SPAM_PERCENT, OUTLIER_ALPHA, Subject, ind, share_ok};
use crate::diagnose::{GroupKind, Remedy, Sign, Verdict};

impl Subject<'_, '_> {
    pub(super) fn unsolicited(&self) -> Option<Candidate> {
        let g = &self.tally.spam;
        if g.recipients == 0 {
            return None;
        }
        let share = self.main_share(g.recipients, GroupKind::Spam);
        let spread = ind(
            g.domains() >= self.t.several_domains,
            Sign::RefusedAt {
                by_domain: g.domain_list(),
                threshold: self.t.several_domains,
            },
        );
        let outlier = self.spam_outlier();
        // Refusals mostly at one or two domains are one organisation's block, not a mailing
        // its recipients everywhere refuse.
        let mut counts: Vec<u64> = g.by_domain.values().copied().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let top_two: u64 = counts.iter().take(2).sum();
        let scattered = !share_ok(top_two, g.recipients, self.t.concentration);
        let required = spread.met && outlier.met && scattered;
        let indicators = vec![outlier, share, spread, self.wide(), self.jump()];
        Some(Candidate {
            verdict: Verdict::UnsolicitedMail,
            required,
            indicators,
            explained: g.recipients,
            notes: g.examples_note().into_iter().collect(),
            remedy: Remedy::UnsolicitedMail,
        })
    }

    /// Its spam refusals are an outlier against the other accounts (see the module
    /// documentation).
    pub(super) fn spam_outlier(&self) -> crate::diagnose::Indicator {
        let (refused, tried, expected, p, _, met) = self.spam_against_population();
        let accounts = self.facts.population.accounts.max(1);
        ind(
            met,
            Sign::SpamOutlier {
                refused,
                tried,
                expected,
                p,
                accounts,
                alpha: OUTLIER_ALPHA,
                min_percent: MIN_SPAM_PERCENT,
            },
        )
    }
}
