//! `sender_blocklisted`: refusals naming a block list at several destinations (required),
//! the main share of the failing recipients.

use super::Candidate;
use crate::diagnose::subject::{Subject, ind, ip_in};
use crate::diagnose::{GroupKind, Note, Remedy, Sign, Verdict};
use crate::util::text::short_reply;

impl Subject<'_, '_> {
    pub(super) fn blocklisted(&self) -> Option<Candidate> {
        let g = &self.tally.listed;
        if g.recipients == 0 {
            return None;
        }
        let lists: Vec<String> = g.lists.iter().cloned().collect();
        let spread = ind(
            g.domains() >= self.t.several_domains,
            Sign::ListedAt {
                rejections: g.recipients,
                lists: lists.clone(),
                by_domain: g.domain_list(),
                threshold: self.t.several_domains,
            },
        );
        let share = self.main_share(g.recipients, GroupKind::Listed);
        let mut notes = Vec::new();
        let ip = g
            .examples()
            .iter()
            .find_map(|(_, t)| ip_in(&short_reply(t)));
        if let Some(ip) = &ip {
            notes.push(Note::ListedIp { ip: ip.clone() });
        }
        notes.push(Note::OthersListed {
            senders: self.others_listed(&g.lists),
        });
        notes.extend(g.examples_note());
        Some(Candidate {
            verdict: Verdict::SenderBlocklisted,
            required: spread.met,
            indicators: vec![spread, share],
            explained: g.recipients,
            notes,
            remedy: Remedy::SenderBlocklisted { lists, ip },
        })
    }
}
