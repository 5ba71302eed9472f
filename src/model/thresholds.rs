//! The diagnosis thresholds: one struct that clap fills from the command line (its defaults
//! are the flags' defaults), that the diagnosis compares with and the JSON report echoes.
//!
//! `cli` flattens it, so `cli` imports this one `model` type (a deviation from "cli imports
//! nothing": the alternative is a second copy of every field, default and help text).
//!
//! What each threshold means in the diagnosis:
//! - `--min-failures`: failure lines at the destination (deferrals, bounces and expiries; not
//!   greylisting, not our own sending-limit lines or SMTP-time rejections) a sender needs
//!   before it is diagnosed at all.
//! - `--jump-factor`, `--jump-floor`: a volume jump is a busiest hour with at least this many
//!   times the sender's usual recipients per hour (its average over the other hours of the
//!   log) and at least this many recipients.
//! - `--many-ips`: distinct client networks (IPv4 /24, IPv6 /48) that make an account's logins unusual.
//! - `--auth-failures`: failed logins (for the account or its mailboxes, or from the IPs that
//!   sent its mail) that count as an attack on it.
//! - `--many-domains`: distinct recipient domains that make a mailing wide.
//! - `--several-domains`: distinct destination domains that make refusals widespread rather
//!   than one organisation's choice.
//! - `--share`: percentage of a sender's failing recipients a verdict's causes must explain.
//! - `--concentration`: percentage of the deferred recipients on one destination (remote
//!   server trouble), or of the refused recipients on at most two destination domains
//!   (recipient blocking); also the share of a sender domain's failing recipients that
//!   diagnosed accounts must hold for the domain to get no verdict of its own.

use clap::{Args, FromArgMatches};
use serde::Serialize;

/// Thresholds of the offender diagnosis ("Likely causes"); every verdict shows the figures
/// it compared with them.
#[derive(Debug, Clone, PartialEq, Args, Serialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
#[command(next_help_heading = "Diagnosis thresholds")]
pub struct Thresholds {
    /// Failure lines at the destination (deferrals, bounces, expiries; not greylisting, local
    /// sending-limit lines or SMTP-time rejections) a sender needs before it is diagnosed.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub min_failures: u64,

    /// A volume jump is a busiest hour with this many times the sender's usual recipients
    /// per hour …
    #[arg(long, value_name = "X", default_value_t = 5.0)]
    pub jump_factor: f64,

    /// … and at least this many recipients.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub jump_floor: u64,

    /// Distinct client networks (IPv4 /24, IPv6 /48) that make an account's logins unusual.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub many_ips: u64,

    /// Failed logins (for the account, or from the IPs that sent its mail) that count as a
    /// password attack.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub auth_failures: u64,

    /// Distinct recipient domains that make a mailing wide (stale list, compromised account).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub many_domains: u64,

    /// Distinct destinations that make refusals widespread (blocklist, unsolicited mail).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub several_domains: u64,

    /// Percentage of a sender's failing recipients a verdict must explain.
    #[arg(long, value_name = "PERCENT", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=100))]
    pub share: u64,

    /// Percentage of deferrals on one destination (remote server trouble) or of refusals on
    /// at most two domains (recipient blocking).
    #[arg(long, value_name = "PERCENT", default_value_t = 80,
          value_parser = clap::value_parser!(u64).range(1..=100))]
    pub concentration: u64,
}

impl Default for Thresholds {
    /// The flags' defaults (one copy: clap's `default_value_t`).
    fn default() -> Self {
        let cmd = Thresholds::augment_args(clap::Command::new("defaults"));
        let m = cmd
            .try_get_matches_from(["defaults"])
            .expect("threshold defaults parse");
        Thresholds::from_arg_matches(&m).expect("threshold defaults are complete")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn defaults_are_the_flags_defaults() {
        let t = super::Thresholds::default();
        assert_eq!((t.min_failures, t.jump_floor, t.many_ips), (5, 20, 5));
        assert_eq!((t.share, t.concentration, t.several_domains), (60, 80, 3));
        assert_eq!(t.jump_factor, 5.0);
    }
}
