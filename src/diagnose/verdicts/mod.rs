//! The six rules, one file each, and the choice among the candidates they return.

mod blocklisted;
mod compromised;
mod recipient_blocking;
mod remote_trouble;
mod stale;
mod unsolicited;

use super::subject::Subject;
use super::{Diagnosis, Failures, Indicator, Note, ORDER, Remedy, Verdict};

/// A verdict whose rule found something, with its indicators.
pub(super) struct Candidate {
    verdict: Verdict,
    indicators: Vec<Indicator>,
    /// Whether the required indicators hold.
    required: bool,
    /// Failing recipients the verdict explains.
    explained: u64,
    /// Facts listed after the met indicators (examples, scope).
    notes: Vec<Note>,
    remedy: Remedy,
}

impl Candidate {
    fn confidence(&self) -> f64 {
        let met = self.indicators.iter().filter(|i| i.met).count();
        let all = self.indicators.len().max(1);
        (met as f64 / all as f64 * 100.0).round() / 100.0
    }
}

impl Subject<'_, '_> {
    /// The subject's verdict: `compromised_account` when it is a candidate, else the
    /// candidate that explains the most failing recipients, then the higher confidence, then
    /// [`ORDER`].
    pub(in crate::diagnose) fn diagnose(&self) -> Option<Diagnosis> {
        let candidates: Vec<Candidate> = [
            self.compromised(),
            self.blocklisted(),
            self.stale(),
            self.unsolicited(),
            self.recipient_blocking(),
            self.remote_trouble(),
        ]
        .into_iter()
        .flatten()
        .filter(|c| c.required)
        .collect();
        let rank = |v: Verdict| ORDER.iter().position(|x| *x == v).unwrap_or(ORDER.len());
        let best = candidates
            .iter()
            .find(|c| c.verdict == Verdict::CompromisedAccount)
            .or_else(|| {
                candidates.iter().max_by(|a, b| {
                    a.explained
                        .cmp(&b.explained)
                        .then(a.confidence().total_cmp(&b.confidence()))
                        .then(rank(b.verdict).cmp(&rank(a.verdict)))
                })
            })?;
        Some(Diagnosis {
            subject: self.name.to_string(),
            subject_kind: self.kind,
            verdict: best.verdict,
            confidence: best.confidence(),
            failures: Failures {
                lines: self.tally.lines,
                recipients: self.tally.recipients,
                min_failures: self.t.min_failures,
                causes: self.tally.by_cause.iter().map(|(c, n)| (*c, *n)).collect(),
                explained: self.tally.explained,
            },
            indicators: best.indicators.clone(),
            notes: best.notes.clone(),
            sender: self.sender(),
            remedy: best.remedy.clone(),
        })
    }
}
