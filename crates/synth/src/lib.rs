//! Synthetic Exim (plain or cPanel) and Postfix mail logs with known ground truth, for tests
//! and benchmarks.
//!
//! [`generate`] runs a small discrete-event simulation of a mail server and writes its log:
//! messages arrive over time (more by day than by night) from hosted accounts, web scripts and
//! remote senders; many are in flight at once, so their lines interleave. Recipients have a
//! fate drawn up front (delivered, greylisted, mailbox full, remote down, rate limited, user
//! unknown, blocked, domain missing) that plays out over retries: Exim queue runs with "retry
//! time not reached" deferrals, Postfix re-activation with back-off, "delivery temporarily
//! suspended", content-filter re-injection and queue expiry. Failures produce bounce messages
//! back to the sender; SMTP-time recipient rejections and connection noise are mixed in; now
//! and then a hosted account is taken over and sprays dead addresses. With `cpanel: true`,
//! the cPanel "max defers and failures per hour" limit is enforced exactly as described in
//! [`SynthConfig`], producing `R=enforce_mail_permissions` discards.
//!
//! The [`Truth`] is counted line by line as lines are written, so it describes exactly the
//! bytes produced. Everything is driven by one seeded [`SplitMix64`]: a seed always gives the
//! same output.
//!
//! [`generate_day`] runs the same simulation over a modelled shared server (a population of
//! mailboxes with their usual networks, newsletters, web forms, attacks) with planted
//! problems, and returns a [`DayTruth`]: the findings a diagnosis should give (see the `day`
//! module and `examples/genday.rs`).
//!
//! [`generate_adversarial`] writes logs built to stress memory rather than to look like a
//! day: millions of never-completed queue IDs, distinct senders, distinct authenticated
//! domains or distinct failing recipients, streamed in constant memory (see
//! `examples/genadv.rs`).

mod adversarial;
mod config;
mod day;
mod exim;
mod names;
mod noise;
mod output;
mod postfix;
mod reply;
mod rng;
mod sim;
mod traffic;
mod truth;
mod world;

use std::io::{self, Write};

pub use adversarial::{AdvConfig, AdvMode, AdvSummary, generate_adversarial};
pub use config::{Mta, SynthConfig};
pub use day::{
    AccountInfo, DayConfig, DayTruth, Incidental, PopulationInfo, Scenario, Scenarios, ServerInfo,
    Subject, generate_day,
};
pub use rng::SplitMix64;
pub use truth::{ApartTruth, Counts, Trip, Truth};

use sim::Gen;

/// Writes a synthetic log to `out` and returns what it contains.
pub fn generate<W: Write>(cfg: &SynthConfig, out: &mut W) -> io::Result<Truth> {
    let mut g = Gen::new(cfg, out);
    g.run()?;
    g.finish()
}

/// The domain of an address (`""` without one).
pub(crate) fn domain_of(addr: &str) -> &str {
    addr.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}

/// The local part of an address (the whole of it without an `@`).
pub(crate) fn local_of(addr: &str) -> &str {
    addr.split_once('@').map(|(l, _)| l).unwrap_or(addr)
}
