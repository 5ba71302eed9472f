//! The JSON report's lists cut to `--top` ([`Report::bound_lists`]): a report of a busy day
//! lists hundreds of thousands of recipients and per-hour rows, which belong in the streamed
//! export (`--format ndjson`), not in one document. What was left out of each list is
//! counted in `lists_cut` ([`ListsCut`]).

use schemars::JsonSchema;
use serde::Serialize;

use super::Report;

/// How many entries `--top` left out of each list of the JSON report (0: none; for the
/// per-hour tables, keys).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ListsCut {
    /// Replays of cPanel's rule at the lower percentages past the first `--top` (the log's
    /// own trips, trips of the configured rule and near misses are all kept).
    pub limits: u64,
    pub failed_recipients: u64,
    pub diagnoses: u64,
    pub next_steps: u64,
    pub own_domains: u64,
    pub backscatter: u64,
    pub local_relays: u64,
    pub by_sender_domain: u64,
    pub by_account: u64,
    pub by_sender: u64,
    pub by_recipient_domain: u64,
}

impl Report {
    /// Keeps the first `top` entries of every list that can grow with the log (the lists are
    /// already ordered most important first), every headline limit row and `top` replays at
    /// lower percentages; records in `lists_cut` how many entries each list lost. `top` 0
    /// keeps everything. The per-hour tables are cut as they are built
    /// ([`HourlyTables::Top`](super::HourlyTables::Top)), which keeps their counts here.
    pub fn bound_lists(&mut self, top: usize) {
        if top == 0 {
            return;
        }
        let n = |lost: usize| lost as u64;
        let limits = n(self.cut_replays(top));
        self.lists_cut = ListsCut {
            limits,
            failed_recipients: n(truncate(&mut self.failed_recipients, top)),
            diagnoses: n(truncate(&mut self.diagnoses, top)),
            next_steps: n(truncate(&mut self.next_steps, top)),
            own_domains: n(truncate(&mut self.own_domains, top)),
            backscatter: n(truncate(&mut self.backscatter, top)),
            local_relays: n(truncate(&mut self.local_relays, top)),
            ..self.lists_cut.clone()
        };
    }
}

impl Report {
    /// Keeps every headline limit row and the first `top` others; returns how many it cut.
    fn cut_replays(&mut self, top: usize) -> usize {
        let mut others = 0;
        let keep: Vec<bool> = self
            .limits
            .iter()
            .map(|l| {
                let headline = self.is_headline(l);
                if !headline {
                    others += 1;
                }
                headline || others <= top
            })
            .collect();
        let mut keep = keep.into_iter();
        let before = self.limits.len();
        self.limits.retain(|_| keep.next().unwrap_or(true));
        before - self.limits.len()
    }
}

/// Cuts `v` to `top` entries; returns how many it lost.
fn truncate<T>(v: &mut Vec<T>, top: usize) -> usize {
    let lost = v.len().saturating_sub(top);
    v.truncate(top);
    lost
}
