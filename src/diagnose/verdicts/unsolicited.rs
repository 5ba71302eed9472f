//! `unsolicited_mail`: spam refusals are the main share (required) at several destinations
//! (required); a wide mailing; a volume jump.

use super::Candidate;
use crate::diagnose::subject::{Subject, ind};
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
        let indicators = vec![share, spread, self.wide(), self.jump()];
        Some(Candidate {
            verdict: Verdict::UnsolicitedMail,
            required: indicators[0].met && indicators[1].met,
            indicators,
            explained: g.recipients,
            notes: g.examples_note().into_iter().collect(),
            remedy: Remedy::UnsolicitedMail,
        })
    }
}
