//! Offender diagnosis: for each sending account and sender domain with failures, the likely
//! reason among the six hosting support names, with confidence, evidence and advice.

use serde::Serialize;

use crate::aggregate::{Aggregates, SubjectKind};

/// The six verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    CompromisedAccount,
    UnsolicitedMail,
    StaleList,
    RecipientBlocking,
    SenderBlocklisted,
    RemoteServerTrouble,
}

/// Tunable thresholds (documented in the README and man page; shown with every verdict).
#[derive(Debug, Clone, Serialize)]
pub struct Thresholds {
    /// Minimum failures+deferrals+rejections before a subject is diagnosed at all.
    pub min_failures: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { min_failures: 5 }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub subject: String,
    pub subject_kind: SubjectKind,
    pub verdict: Verdict,
    pub confidence: f64,
    pub evidence: Vec<String>,
    pub advice: String,
}

/// Diagnoses every subject in the aggregates (being built).
pub fn diagnose(_agg: &Aggregates<'_>, _t: &Thresholds) -> Vec<Diagnosis> {
    Vec::new()
}

/// The verdict in words.
pub fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::CompromisedAccount => "compromised account",
        Verdict::UnsolicitedMail => "unsolicited mail",
        Verdict::StaleList => "stale mailing list",
        Verdict::RecipientBlocking => "recipient blocking the sender",
        Verdict::SenderBlocklisted => "sender on a blocklist",
        Verdict::RemoteServerTrouble => "remote server trouble",
    }
}
