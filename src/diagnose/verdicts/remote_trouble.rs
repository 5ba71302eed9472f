//! `remote_server_trouble`: trouble concentrated on one destination domain or MX host
//! (required), the main share (required); its mail elsewhere was delivered; other senders'
//! mail to that domain failed too.

use super::Candidate;
use crate::diagnose::subject::{Subject, ind, share_ok};
use crate::diagnose::{GroupKind, Note, Remedy, Sign, Verdict};

impl Subject<'_, '_> {
    pub(super) fn remote_trouble(&self) -> Option<Candidate> {
        let g = &self.tally.trouble;
        if g.recipients == 0 {
            return None;
        }
        let (dom, dn) = g.top_domain()?;
        let host = g.top_host();
        let by_host = host.is_some_and(|(_, hn)| hn > dn);
        let n = match host {
            Some((_, hn)) if by_host => hn,
            _ => dn,
        };
        let host_name = host.map(|(h, _)| h.to_string());
        let conc = ind(
            share_ok(n, g.recipients, self.t.concentration),
            Sign::OneDestination {
                domain: dom.to_string(),
                host: host_name.clone(),
                by_host,
                at_it: n,
                recipients: g.recipients,
                threshold: self.t.concentration,
            },
        );
        let share = self.main_share(g.recipients, GroupKind::Trouble);
        let blamed: Vec<&str> = if by_host {
            g.by_domain.keys().map(String::as_str).collect()
        } else {
            vec![dom]
        };
        let (deliveries, domains) = self.delivered_elsewhere(&blamed);
        let elsewhere = ind(
            deliveries > 0,
            Sign::DeliveredElsewhere {
                deliveries,
                domains,
            },
        );
        let others = self.others_failing_at(dom);
        let others_ind = ind(
            others > 0,
            Sign::OthersFailing {
                domain: dom.to_string(),
                failures: others,
            },
        );
        let expired = self.ev.recipient_domains.get(dom).map_or(0, |c| c.expired);
        let mut notes = vec![Note::RetryLines {
            lines: g.lines,
            recipients: g.recipients,
            expired,
        }];
        notes.extend(g.examples_note());
        Some(Candidate {
            verdict: Verdict::RemoteServerTrouble,
            required: conc.met && share.met,
            indicators: vec![conc, share, elsewhere, others_ind],
            explained: g.recipients,
            notes,
            remedy: Remedy::RemoteServerTrouble {
                domain: dom.to_string(),
                host: host_name,
            },
        })
    }
}
