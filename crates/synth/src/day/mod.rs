//! A realistic day on a shared server, with planted problems and their ground truth
//! (issue 8: measure the precision and recall of the diagnosis).
//!
//! [`generate_day`] models a hosting server's population (see [`DayConfig`]): a few hundred
//! mailboxes across customer domains with Zipf-distributed volumes; each mailbox used from
//! one to three usual networks (an office, a home line, a phone whose address changes many
//! times a day inside one carrier /24 or IPv6 /48); busy business mailboxes with hundreds of
//! correspondent domains; newsletters sent in batches (a normal, small share of dead
//! addresses and full mailboxes); inbound mail to local mailboxes, some of them full (so our
//! server defers and bounces it); web-form mail from PHP scripts (`cwd=`, `P=local`);
//! brute-force login attempts from attacker networks against many mailboxes, with and
//! without the login name; greylisting and provider rate limits; backscatter and spam refused
//! at SMTP time; on Postfix a content filter (amavis on 127.0.0.1:10024, re-injected under a
//! new queue ID); on cPanel the identification lines and the "max defers and failures per
//! hour" rule with its discards, replayed exactly as in [`crate::SynthConfig`].
//!
//! On top of that healthy traffic it plants the problems switched on in [`Scenarios`], each
//! with ground truth in the shape of the findings contract (`truth.json`): which finding
//! (verdict and accepted subjects) a diagnosis should give, and the expected side effects
//! (`incidental`), such as each domain whose cPanel limit trips. A day with no scenario is a
//! "healthy busy day": a diagnosis should report nothing on it.
//!
//! Everything is deterministic per seed. The day ends at `start + hours` (mail in flight is
//! cut off, as in a real log); the arrival rate is steered so that the log has close to
//! [`DayConfig::lines`] lines.

/// The day state of a generator, borrowing only that field (so that `self.rng` stays free).
macro_rules! day_ref {
    ($g:expr) => {
        $g.day.as_deref().expect("day mode")
    };
}

/// The day state of a generator, mutably, borrowing only that field.
macro_rules! day_mut {
    ($g:expr) => {
        $g.day.as_deref_mut().expect("day mode")
    };
}

mod attacks;
mod plan;
mod population;
mod replies;
mod scenarios;
mod traffic;

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::io::{self, Write};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::config::{Mta, SynthConfig};
use crate::reply::SERVER_IP;
use crate::rng::SplitMix64;
use crate::sim::{BASE, Gen, MINUTE};
use crate::truth::{Counts, Trip, Truth};

pub(crate) use replies::day_reply;

use plan::Plan;
use population::People;
use traffic::Batch;

/// Day mode's own events.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum DayEv {
    /// Steer the arrival rate.
    Calibrate,
    /// The next attempt of a brute-force campaign.
    Brute(u16),
    /// The next session refused at SMTP time.
    Reject,
    /// The next message of a newsletter batch.
    Batch(u32),
    /// Scenario 1: the next spray message, or the dead-address burst at the top of an hour.
    Spray,
    Burst,
    /// Scenario 5: the next cold message.
    Outreach,
    /// Scenario 6: the next message to the destination that refuses the sender.
    Blocked,
}

/// What kind of day to generate.
#[derive(Debug, Clone)]
pub struct DayConfig {
    pub mta: Mta,
    /// Exim only: cPanel's lines and its defers-and-failures limit.
    pub cpanel: bool,
    pub seed: u64,
    /// Time of the first line (default 2026-11-26 07:00:00; read as UTC).
    pub start: NaiveDateTime,
    /// Length of the log in hours (default 11).
    pub hours: u32,
    /// About how many lines to write (default 650,000); the arrival rate is steered to it.
    pub lines: u64,
    /// Mailboxes (default 400).
    pub accounts: usize,
    /// Customer domains (default 150); each has at least one mailbox.
    pub domains: usize,
    /// cPanel "number of failed or deferred messages a domain may send before protections can
    /// be triggered" (default 5).
    pub limit_min: u64,
    /// cPanel "maximum percentage of failed or deferred messages a domain may send per hour"
    /// (default 100).
    pub limit_percent: u64,
    pub scenarios: Scenarios,
}

/// The problems to plant; each one is independent of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenarios {
    /// (1) A stolen mailbox password: logins from many new networks, a spam spray to many
    /// domains with high bounce and refusal rates; on cPanel the limit trips repeatedly.
    pub compromised: bool,
    /// (2) A newsletter batch to an old list: a large share of dead addresses.
    pub stale_list: bool,
    /// (3) A correspondent domain's mail servers down for about four hours.
    pub partner_down: bool,
    /// (4) The server's IP on one DNS block list checked by a few destinations.
    pub server_blocklisted: bool,
    /// (5) A mailbox mailing people who never asked for it: spam refusals and complaints.
    pub unsolicited: bool,
    /// (6) One destination refusing one sender.
    pub recipient_blocking: bool,
    /// (7) A customer domain on a domain block list (DBL).
    pub sender_blocklisted: bool,
}

impl Scenarios {
    /// Every scenario.
    pub fn all() -> Self {
        Scenarios {
            compromised: true,
            stale_list: true,
            partner_down: true,
            server_blocklisted: true,
            unsolicited: true,
            recipient_blocking: true,
            sender_blocklisted: true,
        }
    }

    /// None: a healthy busy day.
    pub fn none() -> Self {
        Scenarios {
            compromised: false,
            stale_list: false,
            partner_down: false,
            server_blocklisted: false,
            unsolicited: false,
            recipient_blocking: false,
            sender_blocklisted: false,
        }
    }

    /// The names used on the command line and in scenario IDs, with a flag each.
    pub fn names(&self) -> [(&'static str, bool); 7] {
        [
            ("compromised", self.compromised),
            ("stale-list", self.stale_list),
            ("partner-down", self.partner_down),
            ("server-blocklisted", self.server_blocklisted),
            ("unsolicited", self.unsolicited),
            ("recipient-blocking", self.recipient_blocking),
            ("sender-blocklisted", self.sender_blocklisted),
        ]
    }

    /// Switches one scenario by its name; false if the name is unknown.
    pub fn set(&mut self, name: &str, on: bool) -> bool {
        let f = match name {
            "compromised" => &mut self.compromised,
            "stale-list" => &mut self.stale_list,
            "partner-down" => &mut self.partner_down,
            "server-blocklisted" => &mut self.server_blocklisted,
            "unsolicited" => &mut self.unsolicited,
            "recipient-blocking" => &mut self.recipient_blocking,
            "sender-blocklisted" => &mut self.sender_blocklisted,
            _ => return false,
        };
        *f = on;
        true
    }
}

impl DayConfig {
    /// An 11-hour day from 07:00 of about 650,000 lines, 400 mailboxes in 150 domains, seed 1,
    /// every scenario planted; cPanel off.
    pub fn new(mta: Mta) -> Self {
        DayConfig {
            mta,
            cpanel: false,
            seed: 1,
            start: NaiveDate::from_ymd_opt(2026, 11, 26)
                .and_then(|d| d.and_hms_opt(7, 0, 0))
                .expect("valid date"),
            hours: 11,
            lines: 650_000,
            accounts: 400,
            domains: 150,
            limit_min: 5,
            limit_percent: 100,
            scenarios: Scenarios::all(),
        }
    }

    /// The same day with nothing planted.
    pub fn healthy(mut self) -> Self {
        self.scenarios = Scenarios::none();
        self
    }

    fn synth_config(&self) -> SynthConfig {
        let mut c = SynthConfig::new(self.mta);
        c.seed = self.seed;
        c.start = self.start;
        c.cpanel = self.cpanel && self.mta == Mta::Exim;
        c.limit_min = self.limit_min;
        c.limit_percent = self.limit_percent;
        c
    }
}

/// A subject a finding may name (findings contract: `kind` is `account`, `sender_domain`,
/// `server` or `destination`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub kind: &'static str,
    pub subject: String,
}

/// One planted problem: the finding that reports it.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub id: String,
    pub verdict: &'static str,
    /// A finding with `verdict` and any one of these subjects finds the scenario.
    pub accept: Vec<Subject>,
    /// First and last planted line (`YYYY-MM-DDTHH:MM:SS`).
    pub window: [String; 2],
    /// What was planted, in words.
    pub about: String,
    /// Counts of what was planted and what it caused (see each scenario's `about`).
    pub figures: BTreeMap<&'static str, u64>,
}

/// An expected, real consequence of the day's traffic that a finding may report without
/// being false (for example each domain whose cPanel limit tripped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incidental {
    pub kind: &'static str,
    pub subject: String,
    pub verdict: &'static str,
    pub because: String,
}

/// One mailbox of the population.
#[derive(Debug, Clone, Serialize)]
pub struct AccountInfo {
    pub address: String,
    pub domain: String,
    /// The cPanel user owning the domain.
    pub cpuser: String,
    /// `regular`, `business`, `newsletter` or `quiet`.
    pub kind: &'static str,
    /// The usual networks it logs in from: `a.b.c.d/32` (office, home), `a.b.c.0/24` or
    /// `x:y:z::/48` (a phone, whose address changes inside that network).
    pub networks: Vec<String>,
    /// The mailbox is over quota: inbound mail to it is deferred and some bounced.
    pub full_mailbox: bool,
}

/// The population of the day.
#[derive(Debug, Clone, Serialize)]
pub struct PopulationInfo {
    pub accounts: usize,
    pub domains: usize,
    /// Distinct usual networks over all mailboxes (shared office lines count once).
    pub networks: usize,
    pub phones: usize,
    pub phones_ipv6: usize,
    pub remote_domains: usize,
    pub list: Vec<AccountInfo>,
}

/// Our server, the subject of `server` findings.
#[derive(Debug, Clone, Serialize)]
pub struct ServerInfo {
    pub ip: &'static str,
    pub hostname: String,
}

/// What a generated day contains (`truth.json`).
#[derive(Debug, Clone, Serialize)]
pub struct DayTruth {
    pub seed: u64,
    pub mta: &'static str,
    pub cpanel: bool,
    pub lines: u64,
    pub bytes: u64,
    pub start: String,
    pub end: String,
    pub server: ServerInfo,
    pub scenarios: Vec<Scenario>,
    pub incidental: Vec<Incidental>,
    /// cPanel trips in order (as in [`Truth::trips`]).
    pub trips: Vec<Trip>,
    pub totals: Counts,
    pub population: PopulationInfo,
    /// The line counts of the log, by the counting rule of [`SynthConfig`].
    pub counts: Truth,
}

/// Writes a day's log to `out` and returns its ground truth.
pub fn generate_day<W: Write>(cfg: &DayConfig, out: &mut W) -> io::Result<DayTruth> {
    let sc = cfg.synth_config();
    let mut rng = SplitMix64::new(cfg.seed ^ 0x6461_7973_6572_7665);
    let (world, people) = population::build(&mut rng, cfg);
    let plan = Plan::new(&mut rng, cfg, &people, &world);
    let day = Day::new(cfg, people, plan);
    let mut g = Gen::with_world(&sc, out, rng, world, day);
    g.run_day()?;
    g.finish_day(cfg)
}

/// Figures of one scenario, counted as its lines are written.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally {
    pub(crate) first: u64,
    pub(crate) last: u64,
    pub(crate) figures: BTreeMap<&'static str, u64>,
}

impl Tally {
    pub(crate) fn add(&mut self, what: &'static str, n: u64) {
        *self.figures.entry(what).or_default() += n;
    }
}

/// The state of day mode inside the simulation.
pub(crate) struct Day {
    pub(crate) people: People,
    pub(crate) plan: Plan,
    /// Simulation time the log ends.
    pub(crate) end: u64,
    /// Target line count.
    pub(crate) target: u64,
    /// Messages per second at an activity of 1, steered by [`Gen::day_calibrate`].
    pub(crate) k: f64,
    /// Cumulative activity per minute of the day (for steering).
    pub(crate) cum: Vec<f64>,
    /// Lines per hour relative to the default day (sizes of batches and attacks follow it).
    pub(crate) scale: f64,
    /// Per scenario (index = [`plan::Sc`] as usize).
    pub(crate) tallies: Vec<Tally>,
    pub(crate) hours: u32,
    pub(crate) batches: Vec<Batch>,
    /// Scenario 1: the /24s the spammer logged in from.
    pub(crate) spray_nets: Vec<String>,
}

impl Day {
    fn new(cfg: &DayConfig, people: People, plan: Plan) -> Box<Day> {
        let minutes = cfg.hours.max(1) as usize * 60;
        let mut cum = Vec::with_capacity(minutes + 1);
        let mut acc = 0.0;
        cum.push(0.0);
        for m in 0..minutes {
            let t = cfg.start + Duration::minutes(m as i64) + Duration::seconds(30);
            acc += activity(t);
            cum.push(acc);
        }
        let per_hour = cfg.lines as f64 / cfg.hours.max(1) as f64;
        let scale = (per_hour / (650_000.0 / 11.0)).clamp(0.05, 20.0);
        // A first guess of lines per message; steering corrects it within minutes.
        let lines_per_msg = match (cfg.mta, cfg.cpanel) {
            (Mta::Exim, true) => 8.0,
            (Mta::Exim, false) => 5.5,
            (Mta::Postfix, _) => 11.0,
        };
        let k = cfg.lines as f64 / lines_per_msg / (acc * 60.0).max(1.0);
        Box::new(Day {
            people,
            plan,
            end: BASE + cfg.hours.max(1) as u64 * 60 * MINUTE,
            target: cfg.lines,
            k,
            cum,
            scale,
            tallies: vec![Tally::default(); plan::SCENARIOS],
            hours: cfg.hours.max(1),
            batches: Vec::new(),
            spray_nets: Vec::new(),
        })
    }
}

/// Relative mail activity at a time of day: low at night, a plateau over office hours with a
/// dip at lunch.
pub(crate) fn activity(t: NaiveDateTime) -> f64 {
    use chrono::Timelike;
    let h = t.hour() as f64 + t.minute() as f64 / 60.0;
    let day = if (6.0..22.0).contains(&h) {
        (std::f64::consts::PI * (h - 6.0) / 16.0).sin().powf(0.6)
    } else {
        0.0
    };
    let lunch = if (12.0..13.5).contains(&h) { 0.8 } else { 1.0 };
    (0.15 + 0.85 * day) * lunch
}

impl<W: Write> Gen<'_, W> {
    /// The main loop of day mode: runs until the day's end.
    pub(crate) fn run_day(&mut self) -> io::Result<()> {
        self.day_start();
        let end = day_ref!(self).end;
        while let Some(Reverse((t, _, ev))) = self.heap.pop() {
            if t >= end {
                break;
            }
            self.now = t;
            self.dispatch(ev)?;
        }
        Ok(())
    }

    /// The ISO time of a simulation time.
    pub(crate) fn iso_at(&self, t: u64) -> String {
        (self.cfg.start + Duration::milliseconds((t - BASE) as i64))
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()
    }

    /// Counts one planted event of scenario `sc` (1-based; 0 is none) at the current time.
    pub(crate) fn tally(&mut self, sc: u8, what: &'static str) {
        if sc == 0 {
            return;
        }
        let now = self.now;
        if let Some(d) = self.day.as_deref_mut() {
            let t = &mut d.tallies[sc as usize - 1];
            if t.first == 0 {
                t.first = now;
            }
            t.last = now;
            t.add(what, 1);
        }
    }

    fn finish_day(self, cfg: &DayConfig) -> io::Result<DayTruth> {
        let (scenarios, mut incidental) = self.day_scenarios();
        for (trip, causes) in self.trips.iter().zip(&self.trip_causes) {
            let total: u32 = causes.iter().sum();
            let mut parts: Vec<String> = (1..causes.len())
                .filter(|&i| causes[i] > 0)
                .map(|i| format!("{} from scenario {}", causes[i], scenarios::NAMES[i - 1]))
                .collect();
            if causes[0] > 0 {
                parts.push(format!("{} from healthy traffic", causes[0]));
            }
            let inc = Incidental {
                kind: "sender_domain",
                subject: trip.domain.clone(),
                verdict: "sending_limit",
                because: format!(
                    "cPanel's limit tripped in hour {} at {} after {total} deferrals and failures: {}",
                    trip.hour,
                    trip.condition_at,
                    parts.join(", ")
                ),
            };
            if !incidental
                .iter()
                .any(|i| i.subject == inc.subject && i.verdict == inc.verdict)
            {
                incidental.push(inc);
            }
        }
        let population = day_ref!(self).people.info(&self.w);
        let hostname = self.w.hostname.clone();
        let start = self.iso_at(BASE);
        let end = self.iso_at(day_ref!(self).end);
        let counts = self.finish()?;
        Ok(DayTruth {
            seed: cfg.seed,
            mta: match cfg.mta {
                Mta::Exim => "exim",
                Mta::Postfix => "postfix",
            },
            cpanel: cfg.cpanel && cfg.mta == Mta::Exim,
            lines: counts.lines,
            bytes: counts.bytes,
            start,
            end,
            server: ServerInfo {
                ip: SERVER_IP,
                hostname,
            },
            scenarios,
            incidental,
            trips: counts.trips.clone(),
            totals: counts.totals,
            population,
            counts,
        })
    }
}
