//! Adversarial logs for memory benchmarks: millions of one kind of distinct thing, written as
//! a stream in constant memory.
//!
//! Four modes ([`AdvMode`]), each of `count` messages:
//! - `open-ids`: queue IDs that never complete (arrival and one deferral, no `Completed` or
//!   `removed`), from a small pool of hosted senders to a pool of remote recipients;
//! - `senders`: distinct remote envelope senders, each with one message delivered locally;
//! - `local-senders`: distinct hosted mailboxes (in the pooled hosted domains), each
//!   authenticated and with one message delivered remotely;
//! - `auth-domains`: distinct authenticated hosted sender domains (each its own cPanel user),
//!   each with one message delivered remotely;
//! - `failing-rcpts`: distinct remote recipients, each refused for good with its own reply text,
//!   with the bounce message back to the (pooled) hosted sender.
//!
//! Exim lines are cPanel Exim's (`dkim_lookuphost`, `dovecot_login`, `Sender identification`);
//! Postfix lines are syslog lines of smtpd, cleanup, qmgr, smtp, lmtp and bounce.
//!
//! Every message is a pure function of the seed and its index ([`plan::Msg::new`]), so its
//! later lines are rebuilt rather than remembered: message `i` arrives at step `i` and its
//! outcome lines are written [`LAG`] steps later, interleaved with later arrivals. Steps are
//! `1000 / per_second` ms apart.

mod exim;
mod lines;
mod plan;
mod postfix;

use std::io::{self, Write};

use chrono::{NaiveDate, NaiveDateTime};

use crate::config::Mta;
use lines::Lines;
use plan::Msg;

/// Steps between a message's arrival and its outcome lines.
pub const LAG: u64 = 7;

/// Which kind of distinct thing the log holds millions of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvMode {
    OpenIds,
    Senders,
    LocalSenders,
    AuthDomains,
    FailingRcpts,
}

impl AdvMode {
    /// Every mode, in the order of their names.
    pub const ALL: [AdvMode; 5] = [
        AdvMode::OpenIds,
        AdvMode::Senders,
        AdvMode::LocalSenders,
        AdvMode::AuthDomains,
        AdvMode::FailingRcpts,
    ];

    /// The mode's command-line name (`open-ids`, `senders`, `local-senders`, `auth-domains`,
    /// `failing-rcpts`).
    pub fn name(self) -> &'static str {
        match self {
            AdvMode::OpenIds => "open-ids",
            AdvMode::Senders => "senders",
            AdvMode::LocalSenders => "local-senders",
            AdvMode::AuthDomains => "auth-domains",
            AdvMode::FailingRcpts => "failing-rcpts",
        }
    }

    /// The mode of a command-line name.
    pub fn from_name(s: &str) -> Option<AdvMode> {
        AdvMode::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct AdvConfig {
    pub mode: AdvMode,
    pub mta: Mta,
    /// Messages (each one distinct thing of the mode).
    pub count: u64,
    pub seed: u64,
    /// Time of the first line.
    pub start: NaiveDateTime,
    /// Messages per second of log time (at least 1).
    pub per_second: u64,
}

impl AdvConfig {
    /// `count` messages of `mode` from 2026-11-26 00:00:00 at 1000 a second, seed 1.
    pub fn new(mode: AdvMode, mta: Mta, count: u64) -> Self {
        AdvConfig {
            mode,
            mta,
            count,
            seed: 1,
            start: NaiveDate::from_ymd_opt(2026, 11, 26)
                .expect("valid date")
                .and_hms_opt(0, 0, 0)
                .expect("valid time"),
            per_second: 1000,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdvSummary {
    pub bytes: u64,
    pub lines: u64,
    pub messages: u64,
}

/// Writes the adversarial log of `cfg` to `out`; memory use does not depend on `cfg.count`.
pub fn generate_adversarial<W: Write>(cfg: &AdvConfig, out: &mut W) -> io::Result<AdvSummary> {
    let per_second = cfg.per_second.max(1);
    let mut l = Lines::new(out, cfg.start);
    for step in 0..cfg.count + LAG {
        l.set_clock(step * 1000 / per_second);
        if step < cfg.count {
            let m = Msg::new(cfg, step);
            head(&mut l, cfg.mta, &m);
        }
        if step >= LAG && step - LAG < cfg.count {
            let mut m = Msg::new(cfg, step - LAG);
            tail(&mut l, cfg.mta, &mut m);
        }
        l.maybe_flush()?;
    }
    let (bytes, lines) = l.finish()?;
    Ok(AdvSummary {
        bytes,
        lines,
        messages: cfg.count,
    })
}

/// The lines written when message `m` arrives.
fn head<W: Write>(l: &mut Lines<W>, mta: Mta, m: &Msg) {
    match mta {
        Mta::Exim => exim::arrival(l, m),
        Mta::Postfix => postfix::arrival(l, m),
    }
}

/// The lines of message `m`'s outcome.
fn tail<W: Write>(l: &mut Lines<W>, mta: Mta, m: &mut Msg) {
    match mta {
        Mta::Exim => exim::outcome(l, m),
        Mta::Postfix => postfix::outcome(l, m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(mode: AdvMode, mta: Mta, count: u64) -> (AdvSummary, String) {
        let mut cfg = AdvConfig::new(mode, mta, count);
        cfg.seed = 7;
        let mut v = Vec::new();
        let s = generate_adversarial(&cfg, &mut v).unwrap();
        (s, String::from_utf8(v).unwrap())
    }

    #[test]
    fn same_seed_same_bytes_and_counts_add_up() {
        for mode in AdvMode::ALL {
            for mta in [Mta::Exim, Mta::Postfix] {
                let (a, text) = run(mode, mta, 50);
                let (b, again) = run(mode, mta, 50);
                assert_eq!(a, b);
                assert_eq!(text, again);
                assert_eq!(a.bytes as usize, text.len());
                assert_eq!(a.lines as usize, text.lines().count());
            }
        }
    }

    #[test]
    fn open_ids_never_complete() {
        let (_, exim) = run(AdvMode::OpenIds, Mta::Exim, 200);
        assert!(!exim.contains("Completed"));
        assert_eq!(exim.matches(" <= ").count(), 200);
        assert_eq!(exim.matches(" == ").count(), 200);
        let (_, pf) = run(AdvMode::OpenIds, Mta::Postfix, 200);
        assert!(!pf.contains("removed"));
        assert_eq!(pf.matches("status=deferred").count(), 200);
    }

    #[test]
    fn distinct_things_are_distinct() {
        use std::collections::HashSet;
        let field = |text: &str, pat: &str, end: char| -> HashSet<String> {
            text.lines()
                .filter_map(|l| l.split_once(pat))
                .map(|(_, r)| r.split(end).next().unwrap().to_string())
                .collect()
        };
        let (_, t) = run(AdvMode::Senders, Mta::Exim, 3000);
        assert_eq!(field(&t, " <= ", ' ').len(), 3000);
        let (_, t) = run(AdvMode::LocalSenders, Mta::Postfix, 3000);
        assert_eq!(field(&t, "sasl_username=", ' ').len(), 3000);
        let (_, t) = run(AdvMode::AuthDomains, Mta::Exim, 3000);
        assert_eq!(field(&t, " D=", ' ').len(), 3000);
        let (_, t) = run(AdvMode::FailingRcpts, Mta::Postfix, 3000);
        assert_eq!(field(&t, "status=bounced (", ')').len(), 3000);
        let (_, t) = run(AdvMode::OpenIds, Mta::Postfix, 3000);
        assert_eq!(field(&t, "qmgr[1120]: ", ':').len(), 3000);
    }
}
