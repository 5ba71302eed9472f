//! `compromised_account`: a volume jump, many client networks (or a script in a suspicious
//! folder), failed logins, a wide mailing, spam refusals at several destinations; 3 of the 5,
//! one of them the networks/script (required: someone else at the account). Failed logins
//! alone do not make a break-in: every mailbox on a shared server is tried by password
//! guessers all day. Accounts only.

use std::collections::BTreeMap;

use super::Candidate;
use crate::diagnose::subject::{Subject, ind};
use crate::diagnose::{Note, Remedy, Sign, Verdict};

impl Subject<'_, '_> {
    pub(super) fn compromised(&self) -> Option<Candidate> {
        if !self.is_account() {
            return None;
        }
        let jump = self.jump();
        let ips = self.many_ips();
        let auth = self.auth();
        let wide = self.wide();
        let bad = &self.tally;
        let mut refusal_domains: BTreeMap<&str, u64> = BTreeMap::new();
        for (d, k) in bad.spam.by_domain.iter().chain(&bad.listed.by_domain) {
            *refusal_domains.entry(d.as_str()).or_default() += k;
        }
        let spam = ind(
            refusal_domains.len() as u64 >= self.t.several_domains,
            Sign::SpamRefusals {
                by_domain: refusal_domains
                    .iter()
                    .map(|(d, n)| (d.to_string(), *n))
                    .collect(),
                threshold: self.t.several_domains,
            },
        );
        let access = ips.met;
        let indicators = vec![jump, ips, auth, wide, spam];
        let met = indicators.iter().filter(|i| i.met).count();
        let explained = bad.spam.recipients + bad.listed.recipients + bad.dead.recipients;
        let mut notes = Vec::new();
        if bad.dead.recipients > 0 {
            notes.push(Note::DeadAddresses {
                recipients: bad.dead.recipients,
            });
        }
        if !self.ev.scripts.is_empty() {
            notes.push(Note::Scripts {
                scripts: self.ev.scripts.iter().cloned().collect(),
            });
        }
        notes.extend(
            bad.spam
                .examples_note()
                .or_else(|| bad.listed.examples_note()),
        );
        let script = self.suspicious_scripts().first().map(|s| s.to_string());
        Some(Candidate {
            verdict: Verdict::CompromisedAccount,
            required: met >= 3 && access,
            indicators,
            explained,
            notes,
            remedy: Remedy::CompromisedAccount { script },
        })
    }
}
