//! `recipient_blocking`: refusals concentrated on one or two destination domains (required),
//! the main share of its failed deliveries (required: such a destination refuses the same
//! few correspondents message after message), while other destinations accepted its mail
//! (required), no refusal names a block list (required: a listing is the sender's or the
//! server's reputation, not one organisation's choice), and the other senders' mail there is
//! accepted (required: a destination that refuses everyone refuses the server).

use super::Candidate;
use crate::diagnose::subject::{Subject, ind, share_ok};
use crate::diagnose::{Note, Remedy, Sign, Verdict};

impl Subject<'_, '_> {
    pub(super) fn recipient_blocking(&self) -> Option<Candidate> {
        let g = &self.tally.refused;
        if g.recipients == 0 {
            return None;
        }
        let mut doms: Vec<(&str, u64)> =
            g.by_domain.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        doms.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        doms.truncate(2);
        let blamed: Vec<&str> = doms.iter().map(|d| d.0).collect();
        let domains: Vec<String> = blamed.iter().map(|d| d.to_string()).collect();
        let in_top: u64 = doms.iter().map(|d| d.1).sum();
        let scoped = ind(
            share_ok(in_top, g.recipients, self.t.concentration),
            Sign::OneOrganisation {
                domains: domains.clone(),
                at_them: in_top,
                refused: g.recipients,
                threshold: self.t.concentration,
            },
        );
        let refused_deliveries: u64 = {
            // Failed deliveries at the blamed domains, of the refused recipients.
            let part = g.deliveries;
            if in_top == g.recipients {
                part
            } else {
                // Share of the refused deliveries at the blamed domains, by recipients.
                part * in_top / g.recipients.max(1)
            }
        };
        let share = ind(
            share_ok(refused_deliveries, self.tally.deliveries, self.t.share),
            Sign::RefusedDeliveries {
                part: refused_deliveries,
                whole: self.tally.deliveries,
                threshold: self.t.share,
            },
        );
        let (deliveries, other_domains) = self.delivered_elsewhere(&blamed);
        let elsewhere = ind(
            deliveries > 0,
            Sign::AcceptedElsewhere {
                deliveries,
                domains: other_domains,
            },
        );
        let no_list = ind(
            g.lists.is_empty(),
            Sign::NoBlocklist {
                lists: g.lists.iter().cloned().collect(),
            },
        );
        let (others_refused, others_delivered) = blamed.iter().fold((0, 0), |(r, d), dom| {
            let (r2, d2) = self.others_at(dom);
            (r + r2, d + d2)
        });
        // Others' mail there is mostly accepted (or nobody else wrote to them): a destination
        // that refuses the server refuses more than one of the others' recipients; one is
        // the odd refusal every sender meets (another sender's own complaints).
        let others = ind(
            others_refused < 2
                || others_refused * 100
                    <= (others_refused + others_delivered) * (100 - self.t.concentration),
            Sign::OthersAccepted {
                domains: domains.clone(),
                refused: others_refused,
                delivered: others_delivered,
            },
        );
        let accepted_there: u64 = blamed
            .iter()
            .filter_map(|d| self.ev.recipient_domains.get(*d))
            .map(|c| c.delivered)
            .sum();
        let (addresses, total) = self.refused_addresses(&blamed);
        let mut notes = vec![Note::RefusedRecipients {
            domains: domains.clone(),
            accepted_there,
            addresses,
            total,
        }];
        notes.extend(g.examples_note());
        Some(Candidate {
            verdict: Verdict::RecipientBlocking,
            required: scoped.met && share.met && elsewhere.met && no_list.met && others.met,
            indicators: vec![scoped, share, elsewhere, no_list, others],
            explained: g.recipients,
            notes,
            remedy: Remedy::RecipientBlocking { domains },
        })
    }

    /// Some refused recipient addresses of this subject at these domains (lower case,
    /// sorted), and how many there are in all.
    fn refused_addresses(&self, domains: &[&str]) -> (Vec<String>, u64) {
        let g = &self.tally.refused;
        let mut v: Vec<String> = domains
            .iter()
            .filter_map(|d| g.addresses.get(*d))
            .flatten()
            .map(|a| a.to_ascii_lowercase())
            .collect();
        v.sort();
        v.dedup();
        let total = domains.iter().filter_map(|d| g.by_domain.get(*d)).sum();
        (v, total)
    }
}
