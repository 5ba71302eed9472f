//! The report's selection: `--since`, `--until`, `--sender`, `--account`, `--domain`.

use super::Message;
use crate::model::event::{Timestamp, domain_of};
use crate::model::outcome::Outcome;

/// Selects what the report counts (`--since`, `--until`, `--sender`, `--account`, `--domain`).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since: Option<chrono::NaiveDateTime>,
    pub until: Option<chrono::NaiveDateTime>,
    /// An address, or `@domain`.
    pub sender: Option<String>,
    pub account: Option<String>,
    pub domain: Option<String>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.since.is_none()
            && self.until.is_none()
            && self.sender.is_none()
            && self.account.is_none()
            && self.domain.is_none()
    }

    pub(crate) fn time_ok(&self, t: &Timestamp) -> bool {
        self.since.is_none_or(|s| t.local >= s) && self.until.is_none_or(|u| t.local < u)
    }

    fn sender_ok(&self, sender: Option<&str>) -> bool {
        match &self.sender {
            None => true,
            Some(want) => sender.is_some_and(|s| {
                if let Some(d) = want.strip_prefix('@') {
                    domain_of(s).is_some_and(|sd| sd.eq_ignore_ascii_case(d))
                } else {
                    s.eq_ignore_ascii_case(want)
                }
            }),
        }
    }

    fn account_ok(&self, account: Option<&str>) -> bool {
        self.account
            .as_deref()
            .is_none_or(|want| account.is_some_and(|a| a.eq_ignore_ascii_case(want)))
    }

    fn domain_ok(&self, sender: Option<&str>, recipient: Option<&str>) -> bool {
        match &self.domain {
            None => true,
            Some(d) => [sender, recipient].into_iter().flatten().any(|a| {
                domain_of(a).is_some_and(|x| {
                    x.eq_ignore_ascii_case(d)
                        || (x.len() > d.len()
                            && x.to_ascii_lowercase()
                                .ends_with(&format!(".{}", d.to_ascii_lowercase())))
                })
            }),
        }
    }

    pub(crate) fn outcome_ok(&self, o: &Outcome<'_>) -> bool {
        self.time_ok(&o.time)
            && self.sender_ok(o.sender)
            && self.account_ok(o.account)
            && self.domain_ok(o.sender, o.recipient)
    }

    pub(crate) fn message_ok(&self, m: &Message) -> bool {
        self.time_ok(&m.first_seen)
            && self.sender_ok(m.sender.as_deref())
            && self.account_ok(m.account.as_deref())
            && (self.domain.is_none()
                || self.domain_ok(m.sender.as_deref(), None)
                || m.recipients
                    .iter()
                    .any(|r| self.domain_ok(None, Some(&r.address))))
    }
}
