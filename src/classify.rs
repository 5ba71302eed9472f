//! TEMPORARY stand-in for the pattern classifier (being built on branch `classify`):
//! same API, enhanced-status fallback only.

use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    UserUnknown,
    MailboxFull,
    MailboxDisabled,
    DomainInvalid,
    Blocklisted,
    Blocked,
    SpamContent,
    AuthPolicy,
    RateLimited,
    Greylisted,
    TooLarge,
    RelayDenied,
    Network,
    RemoteError,
    Expired,
    SendingLimit,
    Other,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::UserUnknown => "user_unknown",
            Cause::MailboxFull => "mailbox_full",
            Cause::MailboxDisabled => "mailbox_disabled",
            Cause::DomainInvalid => "domain_invalid",
            Cause::Blocklisted => "blocklisted",
            Cause::Blocked => "blocked",
            Cause::SpamContent => "spam_content",
            Cause::AuthPolicy => "auth_policy",
            Cause::RateLimited => "rate_limited",
            Cause::Greylisted => "greylisted",
            Cause::TooLarge => "too_large",
            Cause::RelayDenied => "relay_denied",
            Cause::Network => "network",
            Cause::RemoteError => "remote_error",
            Cause::Expired => "expired",
            Cause::SendingLimit => "sending_limit",
            Cause::Other => "other",
        }
    }
    pub fn describe(self) -> &'static str {
        self.as_str()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permanence {
    Temporary,
    Permanent,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub cause: Cause,
    pub permanence: Permanence,
}

pub struct Classifier;

impl Classifier {
    pub fn builtin() -> Classifier {
        Classifier
    }
    pub fn classify(&self, code: Option<u16>, enhanced: Option<&str>, text: &str) -> Verdict {
        let t = text.to_ascii_lowercase();
        let cause = if t.contains("max defers and failures") || t.contains("max emails per hour") {
            Cause::SendingLimit
        } else {
            match enhanced {
                Some(s) if s.ends_with(".1.1") => Cause::UserUnknown,
                Some(s) if s.ends_with(".2.2") => Cause::MailboxFull,
                _ => Cause::Other,
            }
        };
        let permanence = match code.map(|c| c / 100) {
            Some(5) => Permanence::Permanent,
            Some(4) => Permanence::Temporary,
            _ => Permanence::Unknown,
        };
        Verdict { cause, permanence }
    }
}

pub struct CachedClassifier<'c> {
    inner: &'c Classifier,
    cache: HashMap<String, Verdict>,
}

impl<'c> CachedClassifier<'c> {
    pub fn new(inner: &'c Classifier) -> Self {
        CachedClassifier {
            inner,
            cache: HashMap::new(),
        }
    }
    pub fn classify(&mut self, code: Option<u16>, enhanced: Option<&str>, text: &str) -> Verdict {
        if let Some(v) = self.cache.get(text) {
            return *v;
        }
        let v = self.inner.classify(code, enhanced, text);
        self.cache.insert(text.to_string(), v);
        v
    }
}
