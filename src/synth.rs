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

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashSet};
use std::io::{self, Write};

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::event::Mta;

/// What to generate.
///
/// Counting rule of the truth: each Exim `=>`/`->` line and each Postfix `status=sent` line
/// is one `delivered`; each Exim `==` line (retry-not-reached too) and each Postfix
/// `status=deferred` line is one `deferred`; each Exim `**` line (cPanel discards too) and each
/// Postfix `status=bounced` line is one `bounced`; each Exim `rejected RCPT` and Postfix
/// `NOQUEUE: reject: RCPT` line is one `rejected`, charged to the sender in `F=`/`from=`; each
/// Postfix `status=expired` line is one `expired`. Lines are charged to the domain of the
/// message's envelope sender (`<>` for the null sender) and to the clock hour of their own
/// timestamp.
///
/// cPanel limit (`cpanel: true`, Exim only): for each hosted sender domain and clock hour, the
/// limit trips at the first `==`/`**` line after which `deferred + bounced >= limit_min` and
/// `100 * (deferred + bounced) >= limit_percent * (delivered + deferred + bounced)`. From then
/// until the hour ends, every delivery attempt to a remote recipient of a message from that
/// domain becomes a `** … R=enforce_mail_permissions: Domain D has exceeded the max defers and
/// failures per hour (N/limit_min (P%)) allowed. Message discarded.` line, with N and P
/// (rounded down) frozen at the trip, and the message's sender gets a bounce. Remote senders
/// and `<>` are never limited.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub mta: Mta,
    /// Messages to originate when `target_bytes` is `None`; the log then runs until every
    /// message has finished.
    pub messages: u64,
    /// Stop as soon as this many bytes have been written (messages still in flight are cut off,
    /// as in a real log).
    pub target_bytes: Option<u64>,
    pub seed: u64,
    /// Wall-clock time of the first line (the log has no zone; read it as UTC).
    pub start: NaiveDateTime,
    /// Exim only: cPanel lines (`Sender identification`, `cwd=`, `SMTP connection outbound`,
    /// cPanel router names) and the defers-and-failures limit.
    pub cpanel: bool,
    /// cPanel "number of failed or deferred messages a domain may send before protections can
    /// be triggered" (default 5).
    pub limit_min: u64,
    /// cPanel "maximum percentage of failed or deferred messages a domain may send per hour".
    pub limit_percent: u64,
}

impl SynthConfig {
    /// 1000 messages from 2026-11-26 00:00:00, seed 1, no cPanel, limit 5 / 100 %.
    pub fn new(mta: Mta) -> Self {
        SynthConfig {
            mta,
            messages: 1000,
            target_bytes: None,
            seed: 1,
            start: NaiveDate::from_ymd_opt(2026, 11, 26)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .expect("valid date"),
            cpanel: false,
            limit_min: 5,
            limit_percent: 100,
        }
    }
}

/// Event counts by the counting rule of [`SynthConfig`].
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct Counts {
    pub delivered: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub rejected: u64,
    pub expired: u64,
}

impl Counts {
    fn add(&mut self, k: Count) {
        match k {
            Count::Delivered => self.delivered += 1,
            Count::Deferred => self.deferred += 1,
            Count::Bounced => self.bounced += 1,
            Count::Rejected => self.rejected += 1,
            Count::Expired => self.expired += 1,
        }
    }

    fn is_zero(&self) -> bool {
        *self == Counts::default()
    }
}

/// One trip of the cPanel defers-and-failures limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trip {
    pub domain: String,
    /// Clock hour `YYYY-MM-DDTHH`.
    pub hour: String,
    /// Time of the `==`/`**` line that met the condition (`YYYY-MM-DDTHH:MM:SS`).
    pub condition_at: String,
    /// Time of the first `enforce_mail_permissions` discard line, if the domain sent again in
    /// that hour.
    pub tripped_at: Option<String>,
    /// deferred + bounced at the trip (the N of `N/limit_min`).
    pub count: u64,
    /// Percentage printed in the discard lines (rounded down).
    pub percent: u64,
    /// Number of discard lines written for this trip.
    pub discarded: u64,
}

/// What a generated log contains.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Truth {
    /// Messages accepted during the log, bounces included: Exim `<=` lines; Postfix queue
    /// files created (smtpd, pickup, content-filter re-injection, bounce notifications).
    pub messages: u64,
    /// Arrival lines: Exim `<=`; Postfix qmgr `(queue active)` lines, which a deferred
    /// message logs again at each retry.
    pub arrival_lines: u64,
    pub totals: Counts,
    /// By clock hour `YYYY-MM-DDTHH` (hours without counted lines are absent).
    pub by_hour: BTreeMap<String, Counts>,
    /// By (sender domain, clock hour); the null sender is `<>`. Serialised as
    /// `{domain: {hour: counts}}`.
    #[serde(serialize_with = "nested_map")]
    pub by_sender_domain_hour: BTreeMap<(String, String), Counts>,
    /// cPanel trips in order (empty unless `cpanel`).
    pub trips: Vec<Trip>,
    /// The hosted (local) sender domains: the only ones the cPanel limit applies to.
    pub local_domains: Vec<String>,
    pub bytes: u64,
    pub lines: u64,
}

fn nested_map<S: Serializer>(
    m: &BTreeMap<(String, String), Counts>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut outer: BTreeMap<&str, BTreeMap<&str, &Counts>> = BTreeMap::new();
    for ((d, h), c) in m {
        outer.entry(d.as_str()).or_default().insert(h.as_str(), c);
    }
    let mut map = s.serialize_map(Some(outer.len()))?;
    for (d, hours) in &outer {
        map.serialize_entry(d, hours)?;
    }
    map.end()
}

/// Writes a synthetic log to `out` and returns what it contains.
pub fn generate<W: Write>(cfg: &SynthConfig, out: &mut W) -> io::Result<Truth> {
    let mut g = Gen::new(cfg, out);
    g.run()?;
    g.finish()
}

// ---------------------------------------------------------------------------------------------
// PRNG

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, good enough for simulation.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Exponentially distributed with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.f64()).ln()
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// A table for drawing indices with given weights.
struct Weighted {
    cum: Vec<f64>,
}

impl Weighted {
    fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut acc = 0.0;
        let cum = weights
            .into_iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        Weighted { cum }
    }

    fn sample(&self, rng: &mut SplitMix64) -> usize {
        let total = *self.cum.last().expect("non-empty weights");
        let x = rng.f64() * total;
        self.cum
            .partition_point(|&c| c <= x)
            .min(self.cum.len() - 1)
    }
}

// ---------------------------------------------------------------------------------------------
// Static material

const FIRST: &[&str] = &[
    "anna", "ben", "carla", "david", "elena", "felix", "grace", "hugo", "irene", "jack", "karin",
    "leo", "maria", "nina", "oscar", "paula", "quentin", "rosa", "sam", "tina", "ugo", "vera",
    "will", "xenia", "yusuf", "zoe", "ahmed", "bea", "chen", "diego", "emma", "farah", "george",
    "hana", "ivan", "julia", "kofi", "lena", "marco", "noor", "olga", "pedro", "rita", "tom",
];
const LAST: &[&str] = &[
    "smith", "jones", "garcia", "muller", "rossi", "dubois", "novak", "khan", "silva", "kim",
    "nguyen", "ivanova", "brown", "lopez", "wilson", "tanaka", "olsen", "costa", "weber", "murphy",
    "berg", "cohen", "fischer", "hill", "kowalski", "lee", "moreau", "patel", "reyes", "dalton",
    "meyer", "okafor", "santos", "walsh",
];
const BIZ: &[&str] = &[
    "bakery",
    "florist",
    "dental",
    "autorepair",
    "lawfirm",
    "yoga",
    "bikeshop",
    "books",
    "cafe",
    "plumbing",
    "realty",
    "travel",
    "printshop",
    "vetclinic",
    "photo",
    "school",
    "chapel",
    "fitness",
    "hotel",
    "winery",
    "brewery",
    "garden",
    "petcare",
    "salon",
    "tailor",
    "music",
    "kidsclub",
    "farm",
    "physio",
    "design",
    "itservice",
    "solar",
    "roofing",
    "cleaning",
    "catering",
    "optics",
    "pharmacy",
    "studio",
    "media",
    "events",
    "shop",
    "crafts",
    "toys",
];
const PLACE: &[&str] = &[
    "", "north", "south", "city", "green", "lake", "hill", "river", "old", "new", "central", "bay",
    "park", "star", "sun",
];
const TLDS: &[&str] = &["example", "example.com", "example.net", "example.org"];
const ROLES: &[&str] = &[
    "info", "sales", "office", "admin", "contact", "orders", "billing", "support", "hello", "team",
    "bookings", "news",
];
const WORDS: &[&str] = &[
    "acme", "blue", "cedar", "delta", "ember", "fjord", "globe", "harbor", "iris", "jade", "kite",
    "lumen", "maple", "nova", "orbit", "pine", "quartz", "rapid", "sierra", "terra", "umber",
    "vista", "willow", "xylo", "yonder", "zephyr", "alder", "birch", "coral", "dune",
];
const SUBJECTS: &[&str] = &[
    "Invoice",
    "Re: Meeting on Thursday",
    "Your order has shipped",
    "Quote request",
    "Fwd: contract draft",
    "Payment reminder",
    "Weekly newsletter",
    "Re: Re: holiday schedule",
    "Booking confirmation",
    "Password reset",
    "Minutes of the committee meeting",
    "New price list",
    "Re: question about your service",
    "Delivery note",
    "Happy birthday!",
    "Monthly report",
    "Re: Catering for Saturday",
    "Welcome to our community",
    "Appointment reminder",
    "Re: Photos from the trip",
    "Statement of account",
    "Special offer this week",
    "Re: Job application",
    "Survey: how did we do?",
];
const SPRAY_SUBJECTS: &[&str] = &[
    "Payment reminder",
    "Invoice overdue",
    "Your account needs attention",
    "Document shared with you",
];
const HELOS: &[&str] = &[
    "DESKTOP-7Q2KJ3L",
    "User",
    "WIN-4F1C0KQ2",
    "localhost",
    "laptop",
];
const MON: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const B62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const SECOND: u64 = 1000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
/// Simulation time of the first line; earlier times belong to messages queued before the log
/// starts.
const BASE: u64 = 10 * DAY;
/// Messages per second at the busiest hour of the day.
const PEAK_RATE: f64 = 5.0;
const EXIM_QUEUE_INTERVAL: u64 = 30 * MINUTE;
const EXIM_RETRY_CUTOFF: u64 = 4 * DAY;
const POSTFIX_LIFETIME: u64 = 5 * DAY;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Provider {
    Gmail,
    Microsoft,
    Yahoo,
    Icloud,
    Generic,
}

struct LocalDomain {
    name: String,
    cpuser: String,
    accounts: Vec<String>,
    office_ip: String,
    office_port_base: u16,
}

struct RemoteDomain {
    name: String,
    provider: Provider,
    mx: String,
    ip: String,
    exists: bool,
    /// A dead domain whose servers never answer (old mail stays queued for it).
    down_forever: bool,
    key: u32,
}

struct World {
    locals: Vec<LocalDomain>,
    local_w: Weighted,
    remotes: Vec<RemoteDomain>,
    /// Recipient domains of outbound mail (existing domains only).
    rcpt_w: Weighted,
    /// Sender domains of inbound mail.
    sender_w: Weighted,
    typos: Vec<u16>,
    spam: Vec<(String, String, String)>, // (domain, host, ip)
    keys: Vec<String>,
    spam_key0: u32,
    null_key: u32,
    /// Exim messages queued before the log starts: their lines name no sender (no `<=` line
    /// and no `F=`), so a log reader can only count them as "(unknown)".
    unknown_key: u32,
    hostname: String,
}

/// Documentation addresses, one block per role so that no two roles share an address:
/// remote mail servers 198.51.100.1-250, hosted offices 203.0.113.1-50, spam sources
/// 203.0.113.60-79, taken-over clients 203.0.113.100-149, scanners 203.0.113.150-209, big
/// providers' outbound relays 192.0.2.20-119 (their inbound MXs are 192.0.2.201-230).
fn doc_ip(block: &str, i: usize) -> String {
    match block {
        "remote" => format!("198.51.100.{}", 1 + i % 250),
        "office" => format!("203.0.113.{}", 1 + i % 50),
        "spam" => format!("203.0.113.{}", 60 + i % 20),
        "spray" => format!("203.0.113.{}", 100 + i % 50),
        "scan" => format!("203.0.113.{}", 150 + i % 60),
        _ => format!("192.0.2.{}", 20 + i % 100),
    }
}

impl World {
    fn new(rng: &mut SplitMix64, cpanel: bool) -> World {
        let mut seen = HashSet::new();
        let mut locals = Vec::new();
        while locals.len() < 50 {
            let biz = *rng.pick(BIZ);
            let place = *rng.pick(PLACE);
            let tld = *rng.pick(TLDS);
            let name = if place.is_empty() {
                format!("{biz}.{tld}")
            } else if rng.chance(0.5) {
                format!("{place}{biz}.{tld}")
            } else {
                format!("{biz}-{place}.{tld}")
            };
            if !seen.insert(name.clone()) {
                continue;
            }
            let cpuser: String = name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .take(8)
                .collect();
            let n_acc = rng.range(2, 6) as usize;
            let mut accounts = Vec::new();
            let mut used = HashSet::new();
            while accounts.len() < n_acc {
                let lp = if accounts.is_empty() || rng.chance(0.6) {
                    rng.pick(ROLES).to_string()
                } else {
                    rng.pick(FIRST).to_string()
                };
                if used.insert(lp.clone()) {
                    accounts.push(format!("{lp}@{name}"));
                }
            }
            let i = locals.len();
            locals.push(LocalDomain {
                name,
                cpuser,
                accounts,
                office_ip: doc_ip("office", i),
                office_port_base: 49152 + (i as u16) * 211,
            });
        }
        // Heavy-tailed volume: Zipf with s = 1.1.
        let local_w = Weighted::new((0..locals.len()).map(|i| 1.0 / ((i + 1) as f64).powf(1.1)));

        let mut remotes = Vec::new();
        let providers: &[(&str, Provider, &str, &str, f64)] = &[
            (
                "gmail.com",
                Provider::Gmail,
                "gmail-smtp-in.l.google.com",
                "192.0.2.201",
                30.0,
            ),
            (
                "outlook.com",
                Provider::Microsoft,
                "outlook-com.olc.protection.outlook.com",
                "192.0.2.225",
                7.0,
            ),
            (
                "hotmail.com",
                Provider::Microsoft,
                "hotmail-com.olc.protection.outlook.com",
                "192.0.2.226",
                6.0,
            ),
            (
                "live.com",
                Provider::Microsoft,
                "live-com.olc.protection.outlook.com",
                "192.0.2.227",
                2.0,
            ),
            (
                "yahoo.com",
                Provider::Yahoo,
                "mta6.am0.yahoodns.net",
                "192.0.2.212",
                8.0,
            ),
            (
                "aol.com",
                Provider::Yahoo,
                "mx-aol.mail.gm0.yahoodns.net",
                "192.0.2.216",
                1.5,
            ),
            (
                "icloud.com",
                Provider::Icloud,
                "mx01.mail.icloud.com",
                "192.0.2.230",
                3.0,
            ),
        ];
        let mut rcpt_weights = Vec::new();
        for (name, p, mx, ip, w) in providers {
            remotes.push(RemoteDomain {
                name: name.to_string(),
                provider: *p,
                mx: mx.to_string(),
                ip: ip.to_string(),
                exists: true,
                down_forever: false,
                key: 0,
            });
            rcpt_weights.push(*w);
        }
        let mut seen_r = HashSet::new();
        let mut k = 0usize;
        while remotes.len() < providers.len() + 160 {
            let a = *rng.pick(WORDS);
            let b = *rng.pick(BIZ);
            let tld = ["com", "net", "org"][rng.below(3) as usize];
            let name = format!("{a}{b}.example.{tld}");
            if !seen_r.insert(name.clone()) || seen.contains(&name) {
                continue;
            }
            let mx = match rng.below(3) {
                0 => format!("mx1.{name}"),
                1 => format!("mail.{name}"),
                _ => format!("smtp.{name}"),
            };
            k += 1;
            rcpt_weights.push(40.0 / (k as f64).powf(0.9) / 8.0);
            remotes.push(RemoteDomain {
                name,
                provider: Provider::Generic,
                mx,
                ip: doc_ip("remote", k),
                exists: true,
                down_forever: false,
                key: 0,
            });
        }
        for (j, w) in ["oldmail", "legacy", "formerco"].iter().enumerate() {
            let name = format!("{w}-{}.example.net", WORDS[j * 5]);
            remotes.push(RemoteDomain {
                mx: format!("mx.{name}"),
                name,
                provider: Provider::Generic,
                ip: doc_ip("remote", 240 + j),
                exists: true,
                down_forever: true,
                key: 0,
            });
            rcpt_weights.push(0.05);
        }
        let mut typos = Vec::new();
        for t in [
            "gmaill.example",
            "yahooo.example",
            "outlok.example",
            "hotmial.example",
            "gnail.example",
        ] {
            typos.push(remotes.len() as u16);
            remotes.push(RemoteDomain {
                name: t.to_string(),
                provider: Provider::Generic,
                mx: String::new(),
                ip: String::new(),
                exists: false,
                down_forever: false,
                key: 0,
            });
            rcpt_weights.push(0.0);
        }
        let rcpt_w = Weighted::new(rcpt_weights.iter().copied());
        let sender_w = Weighted::new(
            remotes
                .iter()
                .zip(&rcpt_weights)
                .map(|(r, w)| if r.exists { *w } else { 0.0 }),
        );
        let mut spam = Vec::new();
        for i in 0..20 {
            let w = WORDS[(i * 7) % WORDS.len()];
            let d = match i % 3 {
                0 => format!("{w}-deals.example"),
                1 => format!("promo-{w}.example.net"),
                _ => format!("{w}mail.example.com"),
            };
            let host = if i % 4 == 0 {
                "unknown".to_string()
            } else {
                format!("mail{}.{d}", i % 5)
            };
            spam.push((d, host, doc_ip("spam", i)));
        }
        let mut keys: Vec<String> = locals.iter().map(|l| l.name.clone()).collect();
        for r in remotes.iter_mut() {
            r.key = keys.len() as u32;
            keys.push(r.name.clone());
        }
        let spam_key0 = keys.len() as u32;
        keys.extend(spam.iter().map(|s| s.0.clone()));
        let null_key = keys.len() as u32;
        keys.push("<>".to_string());
        let unknown_key = keys.len() as u32;
        keys.push("(unknown)".to_string());
        World {
            locals,
            local_w,
            remotes,
            rcpt_w,
            sender_w,
            typos,
            spam,
            keys,
            spam_key0,
            null_key,
            unknown_key,
            hostname: if cpanel {
                "server1.hosting.example".to_string()
            } else {
                "mx1.example.com".to_string()
            },
        }
    }
}

fn local_part(rng: &mut SplitMix64) -> String {
    let f = *rng.pick(FIRST);
    let l = *rng.pick(LAST);
    match rng.below(7) {
        0 => format!("{f}.{l}"),
        1 => format!("{}{l}", &f[..1]),
        2 => format!("{f}_{l}"),
        3 => format!("{f}{l}{}", rng.range(60, 99)),
        4 => format!("{f}.{}", &l[..1]),
        5 => format!("{f}{}", rng.range(1, 9999)),
        _ => format!("{f}.{l}{}", rng.range(1970, 2008)),
    }
}

// ---------------------------------------------------------------------------------------------
// Messages and recipients

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fate {
    Ok,
    /// `n` greylisting deferrals, then delivered.
    Grey(u8),
    /// `n` "mailbox full" deferrals, then delivered (`false`) or bounced (`true`).
    Full(u8, bool),
    /// `n` provider rate-limit deferrals, then delivered.
    Rate(u8),
    Unknown,
    Disabled,
    Blocked,
    NoDomain,
}

enum Step {
    Deliver,
    Defer(Why),
    Fail(Why),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Why {
    Grey,
    Full,
    Down,
    Rate,
    Unknown,
    Disabled,
    Blocked,
    NoDomain,
    GiveUp,
}

impl Fate {
    fn step(self, k: u8) -> Step {
        match self {
            Fate::Ok => Step::Deliver,
            Fate::Grey(n) | Fate::Rate(n) if k < n => {
                Step::Defer(if matches!(self, Fate::Grey(_)) {
                    Why::Grey
                } else {
                    Why::Rate
                })
            }
            Fate::Grey(_) | Fate::Rate(_) => Step::Deliver,
            Fate::Full(n, _) if k < n => Step::Defer(Why::Full),
            Fate::Full(_, true) => Step::Fail(Why::Full),
            Fate::Full(_, false) => Step::Deliver,
            Fate::Unknown => Step::Fail(Why::Unknown),
            Fate::Disabled => Step::Fail(Why::Disabled),
            Fate::Blocked => Step::Fail(Why::Blocked),
            Fate::NoDomain => Step::Fail(Why::NoDomain),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dest {
    Local(u16),
    Remote(u16),
}

struct Rcpt {
    addr: String,
    dest: Dest,
    fate: Fate,
    step: u8,
    done: bool,
    next_retry: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Origin {
    /// Authenticated SMTP submission by a hosted account.
    Auth,
    /// Local submission by a web script (`P=local`, pickup).
    Script,
    /// From a remote server.
    Inbound,
    /// A bounce (`<>`) generated here.
    Bounce,
    /// A taken-over hosted account spraying dead addresses.
    Spray,
    /// Queued before the log starts.
    Old,
    /// Postfix: re-injected by the content filter.
    Filtered,
}

#[derive(Clone, Copy, Default)]
struct Id {
    b: [u8; 23],
    len: u8,
}

impl Id {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.b[..self.len as usize]).expect("ascii id")
    }
}

struct Msg {
    generation: u32,
    id: Id,
    sender: String,
    skey: u32,
    /// Hosted domain the sender belongs to (the domain cPanel charges).
    local_dom: Option<u16>,
    origin: Origin,
    rcpts: Vec<Rcpt>,
    arrived: u64,
    size: u32,
    subject: &'static str,
    tag: u64,
    /// Remote client of an SMTP arrival: (host or "", helo, ip, port).
    client: Option<(String, String, String, u16)>,
    parent: Option<Id>,
    in_queue: bool,
    last_run: u64,
    /// Postfix: pass through the content filter on first delivery.
    filter: bool,
    /// Postfix: back-off exponent for re-activation.
    backoff: u32,
    /// Postfix: queue ID of the message this one was re-injected from.
    orig: Option<Id>,
    /// Postfix: pid of the smtpd process that received it.
    pid: u32,
    done: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Ev {
    Arrival,
    Connect(u64),
    Receive(u64),
    DeliverStart(u64),
    Deliver(u64),
    QueueRun,
    QueueStep(u32),
    PfQueue(u64),
    PfDeliver(u64),
    PfReactivate(u64),
    Noise,
    SprayNext(u32),
}

#[derive(Clone, Copy)]
enum Count {
    Delivered,
    Deferred,
    Bounced,
    Rejected,
    Expired,
}

#[derive(Default, Clone, Copy)]
struct Tracker {
    hour: u32,
    ok: u64,
    df: u64,
    trip: Option<u32>,
}

struct Spray {
    dom: u16,
    account: String,
    ip: String,
    helo: &'static str,
    port: u16,
    left: u32,
    sent: u32,
}

struct QueueRunState {
    pid: u32,
    list: Vec<u64>,
    pos: usize,
}

struct Gen<'a, W: Write> {
    cfg: &'a SynthConfig,
    out: &'a mut W,
    rng: SplitMix64,
    w: World,
    buf: Vec<u8>,
    flushed: u64,
    lines: u64,
    // clock and scheduling
    now: u64,
    seq: u64,
    heap: BinaryHeap<Reverse<(u64, u64, Ev)>>,
    // message slab
    slab: Vec<Msg>,
    free: Vec<u32>,
    live_ids: HashSet<[u8; 23]>,
    queue: Vec<u64>,
    runs: Vec<QueueRunState>,
    // arrival process
    originated: u64,
    target_msgs: u64,
    stop_arrivals: bool,
    next_spray_at: u64,
    sprays: Vec<Spray>,
    spraying: HashSet<u16>,
    pid: u32,
    inode: u64,
    /// Per remote domain: until when a connection attempt is not even tried (Exim host
    /// retry record, Postfix dead destination) after a timeout.
    dead_until: Vec<u64>,
    /// Per remote domain: the current outage ends / the next one starts.
    outage_until: Vec<u64>,
    next_outage: Vec<u64>,
    // truth
    truth_messages: u64,
    arrival_lines: u64,
    totals: Counts,
    by_hour: Vec<Counts>,
    by_dom_hour: Vec<Vec<Counts>>,
    trackers: Vec<Tracker>,
    trips: Vec<Trip>,
    start_epoch: i64,
    start_hour_offset: u64,
    ts_sec: u64,
    ts_exim: [u8; 19],
    ts_syslog: [u8; 15],
}

impl<'a, W: Write> Gen<'a, W> {
    fn new(cfg: &'a SynthConfig, out: &'a mut W) -> Self {
        let mut rng = SplitMix64::new(cfg.seed ^ 0x6D61_696C_7472_6163);
        let cpanel = cfg.cpanel && cfg.mta == Mta::Exim;
        let w = World::new(&mut rng, cpanel);
        let nkeys = w.keys.len();
        let nlocal = w.locals.len();
        let nremote = w.remotes.len();
        let target_msgs = match cfg.target_bytes {
            Some(b) => (b / 1500).max(50),
            None => cfg.messages,
        };
        let start_epoch = cfg.start.and_utc().timestamp();
        let start_hour_offset =
            (cfg.start.minute() as u64 * 60 + cfg.start.second() as u64) * SECOND;
        Gen {
            cfg,
            out,
            rng,
            w,
            buf: Vec::with_capacity(1 << 19),
            flushed: 0,
            lines: 0,
            now: BASE,
            seq: 0,
            heap: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            live_ids: HashSet::new(),
            queue: Vec::new(),
            runs: Vec::new(),
            originated: 0,
            target_msgs,
            stop_arrivals: false,
            next_spray_at: (target_msgs / 25).clamp(8, 400).min(target_msgs / 2),
            sprays: Vec::new(),
            spraying: HashSet::new(),
            pid: 10_000 + (cfg.seed % 5000) as u32,
            inode: 0x10000,
            dead_until: vec![0; nremote],
            outage_until: vec![0; nremote],
            next_outage: vec![u64::MAX; nremote],
            truth_messages: 0,
            arrival_lines: 0,
            totals: Counts::default(),
            by_hour: Vec::new(),
            by_dom_hour: vec![Vec::new(); nkeys],
            trackers: vec![Tracker::default(); nlocal],
            trips: Vec::new(),
            start_epoch,
            start_hour_offset,
            ts_sec: u64::MAX,
            ts_exim: [b' '; 19],
            ts_syslog: [b' '; 15],
        }
    }

    fn exim(&self) -> bool {
        self.cfg.mta == Mta::Exim
    }

    fn cpanel(&self) -> bool {
        self.cfg.cpanel && self.exim()
    }

    fn bytes(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    fn target_reached(&self) -> bool {
        match self.cfg.target_bytes {
            Some(b) => self.bytes() >= b,
            None => false,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Scheduling

    fn at(&mut self, t: u64, ev: Ev) {
        self.seq += 1;
        self.heap.push(Reverse((t.max(self.now), self.seq, ev)));
    }

    fn after(&mut self, lo_ms: u64, hi_ms: u64, ev: Ev) {
        let d = self.rng.range(lo_ms, hi_ms);
        self.at(self.now + d, ev);
    }

    fn run(&mut self) -> io::Result<()> {
        for i in 0..self.w.remotes.len() {
            let r = &self.w.remotes[i];
            if r.down_forever {
                self.outage_until[i] = u64::MAX;
            } else if r.exists && r.provider == Provider::Generic {
                // About one outage a day per small domain.
                self.next_outage[i] = BASE + self.rng.exp(DAY as f64) as u64;
            }
        }
        self.seed_old_messages();
        self.at(BASE, Ev::Arrival);
        if self.exim() {
            let first = BASE + self.rng.range(MINUTE, EXIM_QUEUE_INTERVAL);
            self.at(first, Ev::QueueRun);
        }
        let t = BASE + self.rng.range(SECOND, 40 * SECOND);
        self.at(t, Ev::Noise);
        while let Some(Reverse((t, _, ev))) = self.heap.pop() {
            self.now = t;
            if self.target_reached() {
                break;
            }
            if self.cfg.target_bytes.is_none()
                && self.stop_arrivals
                && self.active_messages() == 0
                && self.sprays.iter().all(|s| s.left == 0)
            {
                // Every message has finished: only queue runs and noise would remain.
                break;
            }
            self.dispatch(ev)?;
        }
        Ok(())
    }

    fn active_messages(&self) -> usize {
        self.slab.len() - self.free.len()
    }

    /// True if and only if the servers of remote domain `di` do not answer right now.
    fn remote_down(&mut self, di: usize) -> bool {
        if self.now >= self.next_outage[di] {
            let len = self.rng.range(20 * MINUTE, 3 * HOUR);
            self.outage_until[di] = self.now + len;
            self.next_outage[di] = self.now + len + self.rng.exp(DAY as f64) as u64;
        }
        self.now < self.outage_until[di]
    }

    fn dispatch(&mut self, ev: Ev) -> io::Result<()> {
        match ev {
            Ev::Arrival => self.ev_arrival(),
            Ev::Connect(m) => self.ev_connect(m),
            Ev::Receive(m) => self.ev_receive(m),
            Ev::DeliverStart(m) => self.ev_deliver_start(m),
            Ev::Deliver(m) => self.ev_exim_deliver(m, false),
            Ev::QueueRun => self.ev_queue_run(),
            Ev::QueueStep(r) => self.ev_queue_step(r),
            Ev::PfQueue(m) => self.ev_pf_queue(m),
            Ev::PfDeliver(m) => self.ev_pf_deliver(m),
            Ev::PfReactivate(m) => self.ev_pf_reactivate(m),
            Ev::Noise => self.ev_noise(),
            Ev::SprayNext(s) => self.ev_spray(s),
        }
        self.maybe_flush()
    }

    // -----------------------------------------------------------------------------------------
    // Message slab

    fn alloc(&mut self, m: Msg) -> u64 {
        let idx = match self.free.pop() {
            Some(i) => {
                let generation = self.slab[i as usize].generation.wrapping_add(1);
                self.slab[i as usize] = Msg { generation, ..m };
                i
            }
            None => {
                self.slab.push(m);
                (self.slab.len() - 1) as u32
            }
        };
        let generation = self.slab[idx as usize].generation;
        self.live_ids.insert(self.slab[idx as usize].id.b);
        ((generation as u64) << 32) | idx as u64
    }

    fn msg(&mut self, h: u64) -> Option<&mut Msg> {
        let idx = (h & 0xFFFF_FFFF) as usize;
        let generation = (h >> 32) as u32;
        match self.slab.get_mut(idx) {
            Some(m) if m.generation == generation && !m.done => Some(m),
            _ => None,
        }
    }

    fn release(&mut self, h: u64) {
        let idx = (h & 0xFFFF_FFFF) as usize;
        let id = self.slab[idx].id.b;
        self.live_ids.remove(&id);
        let m = &mut self.slab[idx];
        m.done = true;
        m.rcpts = Vec::new();
        m.sender = String::new();
        m.client = None;
        self.free.push(idx as u32);
    }

    fn new_msg(
        &mut self,
        origin: Origin,
        sender: String,
        skey: u32,
        local_dom: Option<u16>,
    ) -> Msg {
        let size = (1200.0 + self.rng.exp(1.0).powf(2.2) * 9000.0).min(24e6) as u32;
        let subject = *self.rng.pick(SUBJECTS);
        Msg {
            generation: 0,
            id: Id::default(),
            sender,
            skey,
            local_dom,
            origin,
            rcpts: Vec::new(),
            arrived: self.now,
            size,
            subject,
            tag: self.rng.next_u64(),
            client: None,
            parent: None,
            in_queue: false,
            last_run: 0,
            filter: false,
            backoff: 0,
            orig: None,
            pid: 0,
            done: false,
        }
    }

    fn next_pid(&mut self) -> u32 {
        self.pid += self.rng.range(1, 37) as u32;
        if self.pid > 4_000_000 {
            self.pid = 1000 + self.pid % 1000;
        }
        self.pid
    }

    /// A new Exim message id (23-char, or 16-char for `old`) or Postfix short queue id.
    fn new_id(&mut self, at: u64, old: bool) -> Id {
        loop {
            let mut id = Id::default();
            if self.exim() {
                let secs = (self.start_epoch + (at as i64 - BASE as i64) / 1000).max(0) as u64;
                let pid = self.next_pid() as u64;
                let sub = (at % 1000) * 1000 + self.rng.below(1000);
                let mut v = Vec::with_capacity(23);
                b62(&mut v, secs, 6);
                v.push(b'-');
                if old {
                    b62(&mut v, pid, 6);
                    v.push(b'-');
                    b62(&mut v, sub * 3844 / 1_000_000, 2);
                } else {
                    b62(&mut v, pid, 11);
                    v.push(b'-');
                    b62(&mut v, sub / 2, 4);
                }
                id.b[..v.len()].copy_from_slice(&v);
                id.len = v.len() as u8;
            } else {
                let usec = (at % 1000) * 1000 + self.rng.below(1000);
                self.inode += self.rng.range(1, 600);
                if self.inode > 0xFF_FFFF {
                    self.inode = 0x10000 + self.inode % 0x1000;
                }
                let s = format!("{:05X}{:X}", usec & 0xFFFFF, self.inode);
                id.b[..s.len()].copy_from_slice(s.as_bytes());
                id.len = s.len() as u8;
            }
            if !self.live_ids.contains(&id.b) {
                return id;
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Output

    fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= 1 << 18 {
            self.out.write_all(&self.buf)?;
            self.flushed += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    fn set_clock(&mut self, t: u64) {
        let sec = t / 1000;
        if sec == self.ts_sec {
            return;
        }
        self.ts_sec = sec;
        let dt = self.cfg.start + chrono::Duration::milliseconds((t - BASE) as i64);
        let mut v = Vec::with_capacity(19);
        let _ = write!(
            v,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        self.ts_exim.copy_from_slice(&v);
        v.clear();
        let _ = write!(
            v,
            "{} {:>2} {:02}:{:02}:{:02}",
            MON[dt.month0() as usize],
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        self.ts_syslog.copy_from_slice(&v);
    }

    /// Starts an Exim line: `YYYY-MM-DD HH:MM:SS `.
    fn ex(&mut self) {
        self.set_clock(self.now);
        self.buf.extend_from_slice(&self.ts_exim);
        self.buf.push(b' ');
    }

    /// Starts an Exim line for a message: `YYYY-MM-DD HH:MM:SS ID `.
    fn exm(&mut self, id: &Id) {
        self.ex();
        self.buf.extend_from_slice(&id.b[..id.len as usize]);
        self.buf.push(b' ');
    }

    /// Starts a syslog line: `Mon DD HH:MM:SS host prog[pid]: `.
    fn sys(&mut self, prog: &str, pid: u32) {
        self.set_clock(self.now);
        self.buf.extend_from_slice(&self.ts_syslog);
        self.buf.extend_from_slice(b" mx1 ");
        self.s(prog);
        self.buf.push(b'[');
        self.n(pid as u64);
        self.buf.extend_from_slice(b"]: ");
    }

    /// Starts a Postfix line for a queue id.
    fn pfm(&mut self, prog: &str, pid: u32, id: &Id) {
        self.sys(prog, pid);
        self.buf.extend_from_slice(&id.b[..id.len as usize]);
        self.buf.extend_from_slice(b": ");
    }

    fn s(&mut self, x: &str) {
        self.buf.extend_from_slice(x.as_bytes());
    }

    fn n(&mut self, mut x: u64) {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b'0' + (x % 10) as u8;
            x /= 10;
            if x == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&tmp[i..]);
    }

    fn end(&mut self) {
        self.buf.push(b'\n');
        self.lines += 1;
    }

    /// Postfix delay figures: `delay=D, delays=a/b/c/d, `.
    fn delays(&mut self, since: u64, conn_ms: u64, xfer_ms: u64) {
        let total = self.now.saturating_sub(since);
        let (mut b, mut conn_ms, mut xfer_ms) = (10, conn_ms, xfer_ms);
        if b + conn_ms + xfer_ms > total {
            // The parts never add up to more than the whole.
            b = b.min(total / 10);
            let rest = total - b;
            let want = (conn_ms + xfer_ms).max(1);
            conn_ms = rest * conn_ms / want * 9 / 10;
            xfer_ms = rest * xfer_ms / want * 9 / 10;
        }
        let a = total - b - conn_ms - xfer_ms;
        self.s("delay=");
        fmt_delay(&mut self.buf, total);
        self.s(", delays=");
        fmt_delay(&mut self.buf, a);
        self.buf.push(b'/');
        fmt_delay(&mut self.buf, b);
        self.buf.push(b'/');
        fmt_delay(&mut self.buf, conn_ms);
        self.buf.push(b'/');
        fmt_delay(&mut self.buf, xfer_ms);
        self.s(", ");
    }

    // -----------------------------------------------------------------------------------------
    // Truth

    fn hour_index(&self) -> u32 {
        ((self.now - BASE + self.start_hour_offset) / HOUR) as u32
    }

    /// Records one counted line; returns `Some(trip)` if this line tripped the cPanel limit.
    fn count(&mut self, k: Count, skey: u32) {
        let h = self.hour_index() as usize;
        self.totals.add(k);
        if self.by_hour.len() <= h {
            self.by_hour.resize(h + 1, Counts::default());
        }
        self.by_hour[h].add(k);
        let v = &mut self.by_dom_hour[skey as usize];
        if v.len() <= h {
            v.resize(h + 1, Counts::default());
        }
        v[h].add(k);
        if self.cpanel() && (skey as usize) < self.w.locals.len() {
            let tr = self.tracker(skey as u16);
            match k {
                Count::Delivered => tr.ok += 1,
                Count::Deferred | Count::Bounced => tr.df += 1,
                _ => {}
            }
            let (ok, df, tripped) = (tr.ok, tr.df, tr.trip.is_some());
            if !tripped
                && matches!(k, Count::Deferred | Count::Bounced)
                && df >= self.cfg.limit_min
                && 100 * df >= self.cfg.limit_percent * (ok + df)
            {
                let percent = 100 * df / (ok + df);
                let idx = self.trips.len() as u32;
                let condition_at = self.iso_now();
                self.trips.push(Trip {
                    domain: self.w.locals[skey as usize].name.clone(),
                    hour: self.hour_key(h as u32),
                    condition_at,
                    tripped_at: None,
                    count: df,
                    percent,
                    discarded: 0,
                });
                self.trackers[skey as usize].trip = Some(idx);
            }
        }
    }

    /// The tracker of a hosted domain, reset at the top of each hour.
    fn tracker(&mut self, dom: u16) -> &mut Tracker {
        let h = self.hour_index();
        let tr = &mut self.trackers[dom as usize];
        if tr.hour != h {
            *tr = Tracker {
                hour: h,
                ..Tracker::default()
            };
        }
        tr
    }

    /// The active trip of a hosted domain in the current hour.
    fn active_trip(&mut self, dom: Option<u16>) -> Option<u32> {
        if !self.cpanel() {
            return None;
        }
        let d = dom?;
        self.tracker(d).trip
    }

    fn hour_key(&self, h: u32) -> String {
        let base = self.cfg.start - chrono::Duration::milliseconds(self.start_hour_offset as i64);
        (base + chrono::Duration::hours(h as i64))
            .format("%Y-%m-%dT%H")
            .to_string()
    }

    /// The current time as `YYYY-MM-DDTHH:MM:SS`.
    fn iso_now(&mut self) -> String {
        self.set_clock(self.now);
        let mut s = String::from_utf8_lossy(&self.ts_exim).into_owned();
        s.replace_range(10..11, "T");
        s
    }

    fn finish(mut self) -> io::Result<Truth> {
        self.out.write_all(&self.buf)?;
        self.flushed += self.buf.len() as u64;
        self.buf.clear();
        self.out.flush()?;
        let mut by_hour = BTreeMap::new();
        for (h, c) in self.by_hour.iter().enumerate() {
            if !c.is_zero() {
                by_hour.insert(self.hour_key(h as u32), *c);
            }
        }
        let mut by_dom = BTreeMap::new();
        for (k, hours) in self.by_dom_hour.iter().enumerate() {
            for (h, c) in hours.iter().enumerate() {
                if !c.is_zero() {
                    by_dom.insert((self.w.keys[k].clone(), self.hour_key(h as u32)), *c);
                }
            }
        }
        Ok(Truth {
            messages: self.truth_messages,
            arrival_lines: self.arrival_lines,
            totals: self.totals,
            by_hour,
            by_sender_domain_hour: by_dom,
            trips: self.trips,
            local_domains: self.w.locals.iter().map(|l| l.name.clone()).collect(),
            bytes: self.flushed,
            lines: self.lines,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Building messages

    fn rate_now(&self) -> f64 {
        let t = self.cfg.start + chrono::Duration::milliseconds((self.now - BASE) as i64);
        let h = t.hour() as f64 + t.minute() as f64 / 60.0;
        let day = if (6.0..22.0).contains(&h) {
            (std::f64::consts::PI * (h - 6.0) / 16.0).sin()
        } else {
            0.0
        };
        PEAK_RATE * (0.25 + 0.75 * day)
    }

    fn remote_rcpt(&mut self, dead_bias: f64) -> Rcpt {
        let typo = self.rng.chance(0.004 + dead_bias * 0.1);
        let di = if typo {
            *self.rng.pick(&self.w.typos) as usize
        } else {
            self.w.rcpt_w.sample(&mut self.rng)
        };
        let provider = self.w.remotes[di].provider;
        let addr = format!("{}@{}", local_part(&mut self.rng), self.w.remotes[di].name);
        let fate = if !self.w.remotes[di].exists {
            Fate::NoDomain
        } else {
            self.remote_fate(provider, dead_bias)
        };
        Rcpt {
            addr,
            dest: Dest::Remote(di as u16),
            fate,
            step: 0,
            done: false,
            next_retry: 0,
        }
    }

    fn remote_fate(&mut self, p: Provider, dead_bias: f64) -> Fate {
        let x = self.rng.f64();
        if x < dead_bias {
            return if self.rng.chance(0.85) {
                Fate::Unknown
            } else {
                Fate::Disabled
            };
        }
        let x = self.rng.f64();
        let grey = if p == Provider::Generic { 0.035 } else { 0.0 };
        let rate = if p == Provider::Generic { 0.002 } else { 0.012 };
        let mut c = 0.0;
        let mut pick = |p: f64| {
            c += p;
            x < c
        };
        if pick(0.028) {
            Fate::Unknown
        } else if pick(0.004) {
            Fate::Disabled
        } else if pick(0.006) {
            Fate::Blocked
        } else if pick(grey) {
            Fate::Grey(self.rng.range(1, 2) as u8)
        } else if pick(rate) {
            Fate::Rate(self.rng.range(1, 3) as u8)
        } else if pick(0.012) {
            Fate::Full(self.rng.range(1, 4) as u8, self.rng.chance(0.4))
        } else {
            Fate::Ok
        }
    }

    fn local_rcpt(&mut self, dom: usize) -> Rcpt {
        let acc = self.rng.pick(&self.w.locals[dom].accounts).clone();
        let fate = if self.rng.chance(0.006) {
            Fate::Full(self.rng.range(1, 3) as u8, false)
        } else {
            Fate::Ok
        };
        Rcpt {
            addr: acc,
            dest: Dest::Local(dom as u16),
            fate,
            step: 0,
            done: false,
            next_retry: 0,
        }
    }

    fn rcpt_count(&mut self) -> usize {
        let x = self.rng.f64();
        if x < 0.72 {
            1
        } else if x < 0.87 {
            2
        } else if x < 0.94 {
            3
        } else if x < 0.985 {
            self.rng.range(4, 6) as usize
        } else {
            self.rng.range(7, 15) as usize
        }
    }

    fn pick_local_sender(&mut self) -> usize {
        loop {
            let d = self.w.local_w.sample(&mut self.rng);
            if !self.spraying.contains(&(d as u16)) {
                return d;
            }
        }
    }

    fn ev_arrival(&mut self) {
        if self.stop_arrivals {
            return;
        }
        // Next arrival.
        let gap = self.rng.exp(1000.0 / self.rate_now()) as u64 + 1;
        self.at(self.now + gap, Ev::Arrival);
        if self.rng.chance(0.11) {
            self.ev_reject();
            return;
        }
        if self.originated >= self.next_spray_at {
            self.start_spray();
        }
        self.originated += 1;
        if self.cfg.target_bytes.is_none() && self.originated >= self.target_msgs {
            self.stop_arrivals = true;
        }
        let x = self.rng.f64();
        let h = if x < 0.40 {
            self.make_outbound(Origin::Auth, 0.0)
        } else if x < 0.47 {
            let dead = if self.rng.chance(0.05) { 0.35 } else { 0.0 };
            self.make_outbound(Origin::Script, dead)
        } else if x < 0.92 {
            self.make_inbound()
        } else {
            self.make_local_to_local()
        };
        self.schedule_arrival(h);
    }

    fn make_outbound(&mut self, origin: Origin, dead_bias: f64) -> u64 {
        let d = self.pick_local_sender();
        let sender = self.rng.pick(&self.w.locals[d].accounts).clone();
        let mut m = self.new_msg(origin, sender, d as u32, Some(d as u16));
        let mut n = self.rcpt_count();
        if origin == Origin::Script && dead_bias > 0.0 {
            n = self.rng.range(8, 20) as usize;
        }
        for _ in 0..n {
            let r = if self.rng.chance(0.06) {
                let ld = self.w.local_w.sample(&mut self.rng);
                self.local_rcpt(ld)
            } else {
                self.remote_rcpt(dead_bias)
            };
            m.rcpts.push(r);
        }
        if origin == Origin::Auth {
            let port = self.w.locals[d].office_port_base + self.rng.below(200) as u16;
            let helo = if self.rng.chance(0.5) {
                format!(
                    "{}-pc",
                    &self.w.locals[d].cpuser.chars().take(5).collect::<String>()
                )
            } else {
                (*self.rng.pick(HELOS)).to_string()
            };
            m.client = Some((
                String::new(),
                helo,
                self.w.locals[d].office_ip.clone(),
                port,
            ));
        }
        m.filter = !self.exim() && self.rng.chance(0.3);
        self.alloc(m)
    }

    fn make_inbound(&mut self) -> u64 {
        let si = self.w.sender_w.sample(&mut self.rng);
        let sender = format!("{}@{}", local_part(&mut self.rng), self.w.remotes[si].name);
        let skey = self.w.remotes[si].key;
        let mut m = self.new_msg(Origin::Inbound, sender, skey, None);
        let n = if self.rng.chance(0.85) {
            1
        } else {
            self.rng.range(2, 3) as usize
        };
        let ld = self.w.local_w.sample(&mut self.rng);
        for _ in 0..n {
            let d = if self.rng.chance(0.8) {
                ld
            } else {
                self.w.local_w.sample(&mut self.rng)
            };
            let r = self.local_rcpt(d);
            if m.rcpts.iter().all(|x| x.addr != r.addr) {
                m.rcpts.push(r);
            }
        }
        let host = {
            let r = &self.w.remotes[si];
            let n = self.rng.range(1, 60);
            match r.provider {
                Provider::Generic => r.mx.clone(),
                Provider::Gmail => format!("mail-wm1-f{n}.google.com"),
                Provider::Microsoft => {
                    format!("mail-db8eur05on20{n:02}.outbound.protection.outlook.com")
                }
                Provider::Yahoo => format!("sonic3{n:02}-2.consmr.mail.ne1.yahoo.com"),
                Provider::Icloud => format!("ms11p00im-qufo170{n:02}.me.com"),
            }
        };
        let ip = if self.w.remotes[si].provider == Provider::Generic {
            self.w.remotes[si].ip.clone()
        } else {
            doc_ip("relay", self.rng.below(100) as usize)
        };
        let port = self.rng.range(32768, 60999) as u16;
        m.client = Some((host.clone(), host, ip, port));
        m.filter = !self.exim() && self.rng.chance(0.4);
        self.alloc(m)
    }

    fn make_local_to_local(&mut self) -> u64 {
        let d = self.pick_local_sender();
        let sender = self.rng.pick(&self.w.locals[d].accounts).clone();
        let mut m = self.new_msg(Origin::Auth, sender, d as u32, Some(d as u16));
        let ld = self.w.local_w.sample(&mut self.rng);
        let r = self.local_rcpt(ld);
        m.rcpts.push(r);
        let port = self.w.locals[d].office_port_base + self.rng.below(200) as u16;
        m.client = Some((
            String::new(),
            "office-pc".into(),
            self.w.locals[d].office_ip.clone(),
            port,
        ));
        self.alloc(m)
    }

    fn schedule_arrival(&mut self, h: u64) {
        let origin = self.msg(h).map(|m| m.origin).expect("new message");
        match (self.exim(), origin) {
            (true, Origin::Script) => self.at(self.now, Ev::Receive(h)),
            (true, _) => self.at(self.now, Ev::Connect(h)),
            (false, _) => self.at(self.now, Ev::Connect(h)),
        }
    }

    fn seed_old_messages(&mut self) {
        let n = (self.target_msgs / 400).clamp(3, 400);
        for _ in 0..n {
            let life = if self.exim() {
                EXIM_RETRY_CUTOFF
            } else {
                POSTFIX_LIFETIME
            };
            // Time left until the message is given up: mostly within the first hour.
            let left = (self.rng.exp(45.0 * MINUTE as f64) as u64).clamp(MINUTE, 6 * HOUR);
            let age = life - left;
            let arrived = BASE - age;
            let d = self.w.local_w.sample(&mut self.rng);
            let sender = self.rng.pick(&self.w.locals[d].accounts).clone();
            // Plain Exim logs nothing about a message's sender after its arrival line (no `F=`
            // here), so the truth counts old Exim messages as "(unknown)". cPanel repeats
            // `Sender identification … S=` at every attempt, and Postfix repeats `from=` when
            // qmgr takes the message up again.
            let skey = if self.exim() && !self.cpanel() {
                self.w.unknown_key
            } else {
                d as u32
            };
            let mut m = self.new_msg(Origin::Old, sender, skey, Some(d as u16));
            m.arrived = arrived;
            // Old deferred mail is stuck on a domain whose servers are gone.
            let dead: Vec<usize> = (0..self.w.remotes.len())
                .filter(|&i| self.w.remotes[i].down_forever)
                .collect();
            let di = *self.rng.pick(&dead);
            let mut r = Rcpt {
                addr: format!("{}@{}", local_part(&mut self.rng), self.w.remotes[di].name),
                dest: Dest::Remote(di as u16),
                fate: Fate::Ok,
                step: 0,
                done: false,
                next_retry: 0,
            };
            r.step = self.rng.range(10, 30) as u8;
            m.backoff = 10;
            r.next_retry = BASE + self.rng.range(0, 40 * MINUTE);
            m.rcpts.push(r);
            m.id = self.new_id(arrived, true);
            m.in_queue = true;
            let h = self.alloc(m);
            if self.exim() {
                self.queue.push(h);
            } else {
                let t = BASE + self.rng.range(10 * SECOND, 20 * MINUTE);
                self.at(t, Ev::PfReactivate(h));
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Spray episodes (a taken-over hosted account)

    fn start_spray(&mut self) {
        self.next_spray_at = self.originated + (self.target_msgs / 6).clamp(2_000, 60_000);
        // A small domain with no successes this hour and nothing in the queue.
        let n = self.w.locals.len();
        let mut dom = None;
        for attempt in 0..n {
            let d = n - 1 - ((attempt * 7 + self.sprays.len() * 3) % n);
            let busy = self
                .slab
                .iter()
                .any(|m| !m.done && m.local_dom == Some(d as u16));
            let ok = {
                let tr = self.tracker(d as u16);
                tr.ok
            };
            if !busy && ok == 0 && !self.spraying.contains(&(d as u16)) {
                dom = Some(d);
                break;
            }
        }
        let Some(d) = dom else { return };
        let account = self.w.locals[d].accounts[0].clone();
        let ip = doc_ip("spray", self.rng.below(50) as usize);
        let helo = *self.rng.pick(HELOS);
        let left = self.rng.range(25, 70) as u32;
        self.sprays.push(Spray {
            dom: d as u16,
            account,
            ip,
            helo,
            port: self.rng.range(50000, 60000) as u16,
            left,
            sent: 0,
        });
        self.spraying.insert(d as u16);
        let s = (self.sprays.len() - 1) as u32;
        self.at(self.now, Ev::SprayNext(s));
    }

    fn ev_spray(&mut self, s: u32) {
        let (d, account, ip, helo, port, left, first) = {
            let sp = &mut self.sprays[s as usize];
            if sp.left == 0 {
                return;
            }
            sp.left -= 1;
            sp.sent += 1;
            sp.port = if sp.port >= 65000 { 50000 } else { sp.port + 1 };
            (
                sp.dom,
                sp.account.clone(),
                sp.ip.clone(),
                sp.helo,
                sp.port,
                sp.left,
                sp.sent == 1,
            )
        };
        if left == 0 {
            self.spraying.remove(&d);
        }
        let mut m = self.new_msg(Origin::Spray, account, d as u32, Some(d));
        m.subject = *self.rng.pick(SPRAY_SUBJECTS);
        m.size = self.rng.range(3000, 5000) as u32;
        let n = if first {
            6
        } else {
            self.rng.range(1, 6) as usize
        };
        for _ in 0..n {
            let mut r = self.remote_rcpt(0.0);
            if let Dest::Remote(di) = r.dest {
                let rd = &self.w.remotes[di as usize];
                if rd.exists {
                    r.fate = match self.rng.below(20) {
                        _ if first => Fate::Unknown,
                        12..=14 => Fate::Disabled,
                        15..=16 => Fate::Blocked,
                        _ => Fate::Unknown,
                    };
                }
            }
            m.rcpts.push(r);
        }
        m.client = Some((String::new(), helo.to_string(), ip, port));
        self.originated += 1;
        let h = self.alloc(m);
        self.schedule_arrival(h);
        if left > 0 {
            let gap = self.rng.range(4 * SECOND, 45 * SECOND);
            self.at(self.now + gap, Ev::SprayNext(s));
        }
    }
}

fn b62(v: &mut Vec<u8>, mut x: u64, width: usize) {
    let start = v.len();
    v.resize(start + width, b'0');
    for i in (0..width).rev() {
        v[start + i] = B62[(x % 62) as usize];
        x /= 62;
    }
}

/// Postfix-style delay: integers from 10 s, else at most two significant digits.
fn fmt_delay(buf: &mut Vec<u8>, ms: u64) {
    if ms >= 10_000 {
        let _ = write!(buf, "{}", ms / 1000);
    } else if ms >= 1000 {
        let tenths = ms / 100;
        if tenths.is_multiple_of(10) {
            let _ = write!(buf, "{}", tenths / 10);
        } else {
            let _ = write!(buf, "{}.{}", tenths / 10, tenths % 10);
        }
    } else if ms >= 100 {
        let hundredths = ms / 10;
        if hundredths.is_multiple_of(10) {
            let _ = write!(buf, "0.{}", hundredths / 10);
        } else {
            let _ = write!(buf, "0.{:02}", hundredths);
        }
    } else if ms >= 10 {
        let _ = write!(buf, "0.0{}", ms / 10);
    } else {
        buf.push(b'0');
    }
}

// ---------------------------------------------------------------------------------------------
// Remote replies

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Connect,
    Mail,
    Rcpt,
    Data,
}

struct Reply {
    stage: Stage,
    /// The reply, multi-line replies joined by a literal `\n` (as Exim logs them).
    text: String,
    dsn: &'static str,
}

const SERVER_IP: &str = "192.0.2.10";

fn google_id(rng: &mut SplitMix64) -> String {
    format!(
        "{:013x}-{:011x}si{}{}.{}",
        rng.next_u64() >> 12,
        rng.next_u64() >> 20,
        rng.range(1_000_000, 9_999_999),
        ["a", "b", "f", "q"][rng.below(4) as usize],
        rng.range(1, 400)
    )
}

fn ms_host(rng: &mut SplitMix64, iso: &str) -> String {
    format!(
        "[{}{:04X}{}.eurprd0{}.prod.outlook.com {}.{:03}Z {:016X}]",
        ["AM4PEPF0000", "DB8EUR05FT0", "PAXPR04MB0", "VI1EUR04FT0"][rng.below(4) as usize],
        rng.below(0xFFFF),
        ["A5C", "B1E", "41", "7D"][rng.below(4) as usize],
        rng.range(1, 9),
        iso,
        rng.below(1000),
        rng.next_u64()
    )
}

fn reply(rng: &mut SplitMix64, why: Why, p: Provider, addr: &str, rdom: &str, iso: &str) -> Reply {
    let r = |stage, text: String, dsn| Reply { stage, text, dsn };
    match (why, p) {
        (Why::Grey, _) => match rng.below(3) {
            0 => r(
                Stage::Rcpt,
                format!(
                    "451 4.7.1 <{addr}>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/{rdom}.html"
                ),
                "4.7.1",
            ),
            1 => r(
                Stage::Rcpt,
                format!(
                    "450 4.2.0 <{addr}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{rdom}.html"
                ),
                "4.2.0",
            ),
            _ => r(
                Stage::Rcpt,
                "451 Temporarily unable to process your email. Please try again later.".into(),
                "4.0.0",
            ),
        },
        (Why::Rate, Provider::Gmail) => r(
            Stage::Rcpt,
            format!(
                "450-4.2.1 The user you are trying to contact is receiving mail at a rate that\\n450-4.2.1 prevents additional messages from being delivered. Please resend your\\n450-4.2.1 message at a later point. If the user is able to receive mail at that\\n450-4.2.1 time, your message will be delivered. For more information, go to\\n450 4.2.1  https://support.google.com/mail/?p=ReceivingRate {} - gsmtp",
                google_id(rng)
            ),
            "4.2.1",
        ),
        (Why::Rate, Provider::Microsoft) => r(
            Stage::Rcpt,
            format!(
                "451 4.7.650 The mail server [{SERVER_IP}] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://aka.ms/postmaster (S775) {}",
                ms_host(rng, iso)
            ),
            "4.7.650",
        ),
        (Why::Rate, Provider::Yahoo) => r(
            Stage::Mail,
            format!(
                "421 4.7.0 [TSS04] Messages from {SERVER_IP} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"
            ),
            "4.7.0",
        ),
        (Why::Rate, _) => r(
            Stage::Connect,
            format!("421 4.7.0 Too many connections from {SERVER_IP}, try again later"),
            "4.7.0",
        ),
        (Why::Full, Provider::Gmail) => r(
            Stage::Rcpt,
            format!(
                "452-4.2.2 The recipient's inbox is out of storage space. Please direct the\\n452-4.2.2 recipient to\\n452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp {} - gsmtp",
                google_id(rng)
            ),
            "4.2.2",
        ),
        (Why::Full, _) => r(
            Stage::Rcpt,
            format!("452 4.2.2 <{addr}>: Recipient address rejected: Mailbox full"),
            "4.2.2",
        ),
        (Why::Unknown, Provider::Gmail) => r(
            Stage::Rcpt,
            format!(
                "550-5.1.1 The email account that you tried to reach does not exist. Please try\\n550-5.1.1 double-checking the recipient's email address for typos or\\n550-5.1.1 unnecessary spaces. For more information, go to\\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser {} - gsmtp",
                google_id(rng)
            ),
            "5.1.1",
        ),
        (Why::Unknown, Provider::Microsoft) => r(
            Stage::Rcpt,
            format!(
                "550 5.5.0 Requested action not taken: mailbox unavailable. {}",
                ms_host(rng, iso)
            ),
            "5.5.0",
        ),
        (Why::Unknown, Provider::Yahoo) => r(
            Stage::Data,
            format!(
                "554 delivery error: dd This user doesn't have a {rdom} account ({addr}) [0] - mta{}.mail.{}.yahoo.com",
                rng.range(4001, 4099),
                ["bf1", "gq1", "ne1"][rng.below(3) as usize]
            ),
            "5.0.0",
        ),
        (Why::Unknown, Provider::Icloud) => r(
            Stage::Rcpt,
            format!("550 5.1.1 <{addr}>: user does not exist"),
            "5.1.1",
        ),
        (Why::Unknown, Provider::Generic) => match rng.below(4) {
            0 => r(
                Stage::Rcpt,
                format!(
                    "550 5.1.1 <{addr}>: Recipient address rejected: User unknown in virtual mailbox table"
                ),
                "5.1.1",
            ),
            1 => r(
                Stage::Rcpt,
                format!(
                    "550 5.1.1 <{addr}>: Recipient address rejected: User unknown in local recipient table"
                ),
                "5.1.1",
            ),
            2 => r(Stage::Rcpt, "550 No Such User Here".into(), "5.0.0"),
            _ => r(
                Stage::Rcpt,
                format!("550 5.1.1 <{addr}>... User unknown"),
                "5.1.1",
            ),
        },
        (Why::Disabled, Provider::Gmail) => r(
            Stage::Rcpt,
            format!(
                "550-5.2.1 The email account that you tried to reach is disabled.\\n550 5.2.1  https://support.google.com/mail/?p=DisabledUser {} - gsmtp",
                google_id(rng)
            ),
            "5.2.1",
        ),
        (Why::Disabled, Provider::Yahoo) => r(
            Stage::Data,
            format!(
                "554 delivery error: dd Sorry your message to {addr} cannot be delivered. This mailbox is disabled (554.30). - mta{}.mail.bf1.yahoo.com",
                rng.range(4001, 4099)
            ),
            "5.0.0",
        ),
        (Why::Disabled, _) => r(
            Stage::Rcpt,
            format!(
                "550 5.2.1 <{addr}>: Recipient address rejected: Mailbox disabled, not accepting messages"
            ),
            "5.2.1",
        ),
        (Why::Blocked, Provider::Gmail) => r(
            Stage::Data,
            format!(
                "550-5.7.1 [{SERVER_IP}      12] Our system has detected that this message is\\n550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\\n550-5.7.1 this message has been blocked. For more information, go to\\n550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError {} - gsmtp",
                google_id(rng)
            ),
            "5.7.1",
        ),
        (Why::Blocked, Provider::Microsoft) => r(
            Stage::Rcpt,
            format!(
                "550 5.7.1 Unfortunately, messages from [{SERVER_IP}] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. {}",
                ms_host(rng, iso)
            ),
            "5.7.1",
        ),
        (Why::Blocked, Provider::Yahoo) => r(
            Stage::Mail,
            format!(
                "553 5.7.1 [BL21] Connections will not be accepted from {SERVER_IP}, because the ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes"
            ),
            "5.7.1",
        ),
        (Why::Blocked, _) => r(
            Stage::Rcpt,
            format!(
                "554 5.7.1 Service unavailable; Client host [{SERVER_IP}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{SERVER_IP}"
            ),
            "5.7.1",
        ),
        // Final "mailbox full" failures.
        (Why::GiveUp, Provider::Gmail) => r(
            Stage::Rcpt,
            format!(
                "552-5.2.2 The recipient's inbox is out of storage space and inactive. Please\\n552-5.2.2 direct the recipient to\\n552 5.2.2  https://support.google.com/mail/?p=OverQuotaPerm {} - gsmtp",
                google_id(rng)
            ),
            "5.2.2",
        ),
        (Why::GiveUp, _) => r(
            Stage::Rcpt,
            format!("552 5.2.2 <{addr}>: Recipient address rejected: Mailbox full"),
            "5.2.2",
        ),
        (Why::Down | Why::NoDomain, _) => r(Stage::Connect, String::new(), "4.4.1"),
    }
}

/// The remote's answer to a successful delivery.
fn confirmation(
    rng: &mut SplitMix64,
    p: Provider,
    epoch: i64,
    tag: u64,
    iso: &str,
    sdom: &str,
) -> String {
    match p {
        Provider::Gmail => format!("250 2.0.0 OK  {epoch} {} - gsmtp", google_id(rng)),
        Provider::Microsoft => format!(
            "250 2.6.0 <{tag:016x}@{sdom}> [InternalId={}, Hostname={}] {} bytes in {}.{:03}, {}.{:03} KB/sec Queued mail for delivery -> 250 2.1.5",
            rng.range(10_000_000_000, 99_999_999_999),
            ms_host(rng, iso)
                .split(' ')
                .next()
                .unwrap_or("[X")
                .trim_start_matches('['),
            rng.range(2000, 90000),
            rng.below(1),
            rng.range(20, 400),
            rng.range(10, 900),
            rng.below(1000)
        ),
        Provider::Yahoo => "250 ok dirdel".to_string(),
        Provider::Icloud => format!("250 2.0.0 Ok: queued as {:X}", rng.next_u64() >> 24),
        Provider::Generic => format!(
            "250 2.0.0 Ok: queued as {:X}",
            rng.range(0x10_0000_0000, 0xFF_FFFF_FFFF)
        ),
    }
}

fn cipher(p: Provider, r: u64) -> Option<&'static str> {
    match p {
        Provider::Gmail | Provider::Icloud => Some("TLS1.3:TLS_AES_256_GCM_SHA384:256"),
        Provider::Microsoft => Some("TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256"),
        Provider::Yahoo => Some("TLS1.3:TLS_AES_128_GCM_SHA256:128"),
        Provider::Generic => match r % 5 {
            0 => None,
            1 => Some("TLS1.2:ECDHE-RSA-AES128-GCM-SHA256:128"),
            _ => Some("TLS1.3:TLS_AES_256_GCM_SHA384:256"),
        },
    }
}

fn exim_retry_interval(step: u8) -> u64 {
    if step <= 8 {
        15 * MINUTE
    } else {
        let k = (step - 8).min(6) as i32;
        ((HOUR as f64) * 1.5f64.powi(k)).min(6.0 * HOUR as f64) as u64
    }
}

fn domain_of(addr: &str) -> &str {
    addr.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}

fn local_of(addr: &str) -> &str {
    addr.split_once('@').map(|(l, _)| l).unwrap_or(addr)
}

// ---------------------------------------------------------------------------------------------
// Exim

impl<W: Write> Gen<'_, W> {
    fn epoch_now(&self) -> i64 {
        self.start_epoch + (self.now - BASE) as i64 / 1000
    }

    fn routers(&self) -> (&'static str, &'static str, &'static str, &'static str) {
        if self.cpanel() {
            (
                "dkim_lookuphost",
                "dkim_remote_smtp",
                "virtual_user",
                "dovecot_virtual_delivery",
            )
        } else {
            ("dnslookup", "remote_smtp", "local_user", "mail_spool")
        }
    }

    fn sep(&self) -> &'static str {
        if self.cpanel() { ": " } else { " : " }
    }

    /// `host [ip]:port`, `(helo) [ip]:port` or `host [ip]` for connection and `H=` fields.
    fn host_desc(&mut self, client: &(String, String, String, u16)) {
        let (host, helo, ip, port) = client;
        if !host.is_empty() {
            self.s(host);
            self.s(" [");
        } else {
            self.s("(");
            self.s(helo);
            self.s(") [");
        }
        self.s(ip);
        self.s("]");
        if self.cpanel() {
            self.s(":");
            self.n(*port as u64);
        }
    }

    fn ev_connect(&mut self, h: u64) {
        if !self.exim() {
            return self.pf_connect(h);
        }
        let Some(m) = self.msg(h) else { return };
        let client = m.client.clone();
        if let (true, Some((_, _, ip, port))) = (self.cpanel(), &client) {
            self.ex();
            self.s("SMTP connection from [");
            self.s(ip);
            self.s("]:");
            self.n(*port as u64);
            self.s(" (TCP/IP connection count = ");
            let c = self.rng.range(1, 9);
            self.n(c);
            self.s(")");
            self.end();
        }
        self.after(300, 4000, Ev::Receive(h));
    }

    fn ev_receive(&mut self, h: u64) {
        if !self.exim() {
            return self.pf_receive(h);
        }
        let now = self.now;
        let id = self.new_id(now, false);
        let cpanel = self.cpanel();
        let (origin, client, local_dom) = {
            let Some(m) = self.msg(h) else { return };
            m.id = id;
            m.arrived = now;
            (m.origin, m.client.clone(), m.local_dom)
        };
        self.live_ids.insert(id.b);
        if origin == Origin::Script && cpanel {
            let d = local_dom.expect("script sender is hosted") as usize;
            self.ex();
            self.s("cwd=/home/");
            let cpuser = self.w.locals[d].cpuser.clone();
            self.s(&cpuser);
            self.s("/public_html");
            let sub = [
                "",
                "/wp-content/plugins/contact-form",
                "/shop",
                "/newsletter",
            ][self.rng.below(4) as usize];
            self.s(sub);
            self.s(" 3 args: /usr/sbin/sendmail -t -i");
            self.end();
        }
        self.exim_arrival_line(h);
        if let (true, Some(c)) = (cpanel, &client) {
            self.ex();
            self.s("SMTP connection from ");
            self.host_desc(c);
            self.s(" closed by QUIT");
            self.end();
        }
        self.after(0, 300, Ev::DeliverStart(h));
    }

    fn exim_arrival_line(&mut self, h: u64) {
        let cpanel = self.cpanel();
        let idx = (h & 0xFFFF_FFFF) as usize;
        let m = &self.slab[idx];
        let id = m.id;
        let origin = m.origin;
        let sender = m.sender.clone();
        let client = m.client.clone();
        let size = m.size;
        let tag = m.tag;
        let subject = m.subject;
        let parent = m.parent;
        let local_dom = m.local_dom;
        let rcpts: Vec<String> = m.rcpts.iter().map(|r| r.addr.clone()).collect();
        self.exm(&id);
        self.s("<= ");
        if sender.is_empty() {
            self.s("<>");
        } else {
            self.s(&sender);
        }
        match origin {
            Origin::Bounce => {
                self.s(" R=");
                if let Some(p) = parent {
                    self.s(p.as_str());
                }
                self.s(if cpanel {
                    " U=mailnull"
                } else {
                    " U=Debian-exim"
                });
                self.s(" P=local S=");
                self.n(size as u64);
                self.s(" T=\"Mail delivery failed: returning message to sender\"");
            }
            Origin::Script => {
                self.s(" U=");
                if cpanel {
                    let d = local_dom.expect("hosted") as usize;
                    let u = self.w.locals[d].cpuser.clone();
                    self.s(&u);
                } else {
                    self.s("www-data");
                }
                self.s(" P=local S=");
                self.n(size as u64);
                self.s(" id=");
                let _ = write!(self.buf, "{tag:016x}@{}", domain_of(&sender));
                self.s(" T=\"");
                self.s(subject);
                self.s("\"");
            }
            _ => {
                let c = client.expect("smtp arrival has a client");
                self.s(" H=");
                self.host_desc(&c);
                let auth = matches!(origin, Origin::Auth | Origin::Spray);
                if auth {
                    self.s(" P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=");
                    if cpanel {
                        self.s("dovecot_login:");
                        self.s(&sender);
                    } else {
                        self.s("plain:");
                        self.s(local_of(&sender));
                    }
                } else if tag.is_multiple_of(7) {
                    self.s(" P=esmtp");
                } else {
                    self.s(" P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no");
                }
                self.s(" S=");
                self.n(size as u64);
                self.s(" id=");
                let _ = write!(self.buf, "{tag:016x}@{}", domain_of(&sender));
                self.s(" T=\"");
                self.s(subject);
                self.s("\"");
            }
        }
        self.s(" for");
        for r in &rcpts {
            self.buf.push(b' ');
            self.s(r);
        }
        self.end();
        self.truth_messages += 1;
        self.arrival_lines += 1;
    }

    fn ev_deliver_start(&mut self, h: u64) {
        if !self.cpanel() {
            self.after(100, 2500, Ev::Deliver(h));
            return;
        }
        let Some(m) = self.msg(h) else { return };
        let id = m.id;
        let local_dom = m.local_dom;
        let sender = m.sender.clone();
        let remote: Vec<String> = m
            .rcpts
            .iter()
            .filter(|r| matches!(r.dest, Dest::Remote(_)))
            .map(|r| r.addr.clone())
            .collect();
        self.ex();
        self.s("cwd=/var/spool/exim 3 args: /usr/sbin/exim -Mc ");
        self.s(id.as_str());
        self.end();
        if let (Some(d), false) = (local_dom, remote.is_empty()) {
            self.sender_identification(&id, d as usize, &sender);
            if self.active_trip(Some(d)).is_none() {
                let epoch = self.epoch_now();
                let dname = self.w.locals[d as usize].name.clone();
                for r in &remote {
                    self.exm(&id);
                    self.s("SMTP connection outbound ");
                    self.n(epoch as u64);
                    self.buf.push(b' ');
                    self.s(id.as_str());
                    self.buf.push(b' ');
                    self.s(&dname);
                    self.buf.push(b' ');
                    self.s(r);
                    self.end();
                }
            }
        }
        if remote.is_empty() {
            self.after(0, 300, Ev::Deliver(h));
        } else {
            self.after(200, 2500, Ev::Deliver(h));
        }
    }

    fn sender_identification(&mut self, id: &Id, d: usize, sender: &str) {
        let cpuser = self.w.locals[d].cpuser.clone();
        let dname = self.w.locals[d].name.clone();
        self.exm(id);
        self.s("Sender identification U=");
        self.s(&cpuser);
        self.s(" D=");
        self.s(&dname);
        self.s(" S=");
        self.s(sender);
        self.end();
    }

    /// One delivery run of an Exim message: the immediate delivery after arrival
    /// (`queue_run == false`) or a queue runner's visit.
    fn ev_exim_deliver(&mut self, h: u64, queue_run: bool) {
        let Some(m) = self.msg(h) else { return };
        let id = m.id;
        let skey = m.skey;
        let local_dom = m.local_dom;
        let sender = m.sender.clone();
        let arrived = m.arrived;
        let size = m.size;
        let tag = m.tag;
        let mut rcpts = std::mem::take(&mut m.rcpts);
        let (rr, rt, lr, lt) = self.routers();
        let sep = self.sep();
        let mut failed = 0usize;
        let mut delivered_to: Vec<u16> = Vec::new();
        // Local deliveries first, then remote ones in order.
        let order: Vec<usize> = (0..rcpts.len())
            .filter(|&i| matches!(rcpts[i].dest, Dest::Local(_)))
            .chain((0..rcpts.len()).filter(|&i| matches!(rcpts[i].dest, Dest::Remote(_))))
            .collect();
        for i in order {
            if rcpts[i].done {
                continue;
            }
            match rcpts[i].dest {
                Dest::Local(d) => {
                    let step = rcpts[i].fate.step(rcpts[i].step);
                    rcpts[i].step += 1;
                    let addr = rcpts[i].addr.clone();
                    self.exm(&id);
                    match step {
                        Step::Defer(_) => {
                            self.s("== ");
                            self.s(&addr);
                            let _ = write!(
                                self.buf,
                                " R={lr} T={lt} defer (-22): mailbox is full (MTA-imposed quota exceeded while writing to "
                            );
                            if self.cpanel() {
                                let u = self.w.locals[d as usize].cpuser.clone();
                                let _ = write!(
                                    self.buf,
                                    "/home/{u}/mail/{}/{}/",
                                    domain_of(&addr),
                                    local_of(&addr)
                                );
                            } else {
                                let _ = write!(self.buf, "/var/mail/{}", local_of(&addr));
                            }
                            self.s(")");
                            self.end();
                            self.count(Count::Deferred, skey);
                        }
                        _ => {
                            self.s("=> ");
                            self.s(local_of(&addr));
                            self.s(" <");
                            self.s(&addr);
                            let _ = write!(self.buf, "> R={lr} T={lt}");
                            self.end();
                            self.count(Count::Delivered, skey);
                            rcpts[i].done = true;
                        }
                    }
                }
                Dest::Remote(di) => {
                    let addr = rcpts[i].addr.clone();
                    let (provider, mx, ip, rdom, exists) = {
                        let r = &self.w.remotes[di as usize];
                        (
                            r.provider,
                            r.mx.clone(),
                            r.ip.clone(),
                            r.name.clone(),
                            r.exists,
                        )
                    };
                    if let Some(t) = self.active_trip(local_dom) {
                        let (count, percent) =
                            (self.trips[t as usize].count, self.trips[t as usize].percent);
                        let dname = self.w.locals[local_dom.expect("hosted") as usize]
                            .name
                            .clone();
                        self.exm(&id);
                        self.s("** ");
                        self.s(&addr);
                        let _ = write!(
                            self.buf,
                            " R=enforce_mail_permissions: Domain {dname} has exceeded the max defers and failures per hour ({count}/{} ({percent}%)) allowed. Message discarded.",
                            self.cfg.limit_min
                        );
                        self.end();
                        self.count(Count::Bounced, skey);
                        let iso = self.iso_now();
                        let trip = &mut self.trips[t as usize];
                        trip.discarded += 1;
                        if trip.tripped_at.is_none() {
                            trip.tripped_at = Some(iso);
                        }
                        rcpts[i].done = true;
                        failed += 1;
                        continue;
                    }
                    let not_due = exists
                        && ((queue_run && self.now < rcpts[i].next_retry)
                            || self.dead_until[di as usize] > self.now);
                    if not_due {
                        self.exm(&id);
                        self.s("== ");
                        self.s(&addr);
                        let _ = write!(
                            self.buf,
                            " R={rr} T={rt} defer (-54): retry time not reached for any host for '{rdom}'"
                        );
                        self.end();
                        self.count(Count::Deferred, skey);
                        rcpts[i].next_retry = rcpts[i].next_retry.max(self.dead_until[di as usize]);
                        continue;
                    }
                    let mut step = if exists && self.remote_down(di as usize) {
                        Step::Defer(Why::Down)
                    } else {
                        let st = rcpts[i].fate.step(rcpts[i].step);
                        rcpts[i].step = rcpts[i].step.saturating_add(1);
                        st
                    };
                    if matches!(step, Step::Defer(_)) && self.now >= arrived + EXIM_RETRY_CUTOFF {
                        step = Step::Fail(Why::GiveUp);
                    }
                    match step {
                        Step::Deliver => {
                            let epoch = self.epoch_now();
                            let iso = self.iso_now();
                            let conf = confirmation(
                                &mut self.rng,
                                provider,
                                epoch,
                                tag,
                                &iso,
                                domain_of(&sender),
                            );
                            let more = delivered_to.contains(&di);
                            self.exm(&id);
                            self.s(if more { "-> " } else { "=> " });
                            self.s(&addr);
                            let _ = write!(self.buf, " R={rr} T={rt} H={mx} [{ip}]");
                            if let Some(x) = cipher(provider, tag) {
                                let _ = write!(self.buf, " X={x} CV=yes");
                            }
                            self.s(" C=\"");
                            self.s(&conf);
                            self.s("\"");
                            self.end();
                            self.count(Count::Delivered, skey);
                            rcpts[i].done = true;
                            delivered_to.push(di);
                        }
                        Step::Defer(Why::Down) => {
                            let refused = tag % 3 == 0;
                            let what = if refused {
                                "Connection refused"
                            } else {
                                "Connection timed out"
                            };
                            self.exm(&id);
                            let _ = write!(self.buf, "H={mx} [{ip}] {what}");
                            self.end();
                            self.exm(&id);
                            self.s("== ");
                            self.s(&addr);
                            let errno = if refused { 111 } else { 110 };
                            let _ = write!(self.buf, " R={rr} T={rt} defer ({errno}): {what}");
                            self.end();
                            self.count(Count::Deferred, skey);
                            let k = rcpts[i].step;
                            rcpts[i].next_retry = self.now + exim_retry_interval(k);
                            let dead = self.rng.range(10 * MINUTE, 25 * MINUTE);
                            self.dead_until[di as usize] = self.now + dead;
                        }
                        Step::Defer(why) => {
                            let iso = self.iso_now();
                            let rep = reply(&mut self.rng, why, provider, &addr, &rdom, &iso);
                            let errno = match rep.stage {
                                Stage::Rcpt => -44,
                                Stage::Mail => -45,
                                Stage::Data => -46,
                                Stage::Connect => 0,
                            };
                            self.exm(&id);
                            self.s("== ");
                            self.s(&addr);
                            let _ = write!(
                                self.buf,
                                " R={rr} T={rt} defer ({errno}) H={mx} [{ip}]: SMTP error from remote mail server after "
                            );
                            self.exim_stage(rep.stage, &addr, &sender, size);
                            self.s(": ");
                            self.s(&rep.text);
                            self.end();
                            self.count(Count::Deferred, skey);
                            let k = rcpts[i].step;
                            rcpts[i].next_retry = self.now + exim_retry_interval(k);
                        }
                        Step::Fail(why) => {
                            self.exm(&id);
                            self.s("** ");
                            self.s(&addr);
                            match why {
                                Why::NoDomain => {
                                    self.s(sep);
                                    self.s("Unrouteable address");
                                }
                                Why::GiveUp => self.s(": retry timeout exceeded"),
                                _ => {
                                    let why = if why == Why::Full { Why::GiveUp } else { why };
                                    let iso = self.iso_now();
                                    let rep =
                                        reply(&mut self.rng, why, provider, &addr, &rdom, &iso);
                                    let _ = write!(self.buf, " R={rr} T={rt} H={mx} [{ip}]");
                                    if let (true, Some(x)) =
                                        (rep.stage != Stage::Connect, cipher(provider, tag))
                                    {
                                        let _ = write!(self.buf, " X={x} CV=yes");
                                    }
                                    self.s(sep);
                                    self.s("SMTP error from remote mail server after ");
                                    self.exim_stage(rep.stage, &addr, &sender, size);
                                    self.s(": ");
                                    self.s(&rep.text);
                                }
                            }
                            self.end();
                            self.count(Count::Bounced, skey);
                            rcpts[i].done = true;
                            failed += 1;
                        }
                    }
                }
            }
        }
        let all_done = rcpts.iter().all(|r| r.done);
        let bounce_to = if failed > 0 && !sender.is_empty() {
            Some(sender.clone())
        } else {
            None
        };
        if let Some(m) = self.msg(h) {
            m.rcpts = rcpts;
        }
        if let Some(to) = bounce_to {
            self.exim_bounce(&id, &to, local_dom);
        }
        if all_done {
            self.exm(&id);
            self.s("Completed");
            self.end();
            self.release(h);
        } else if let Some(m) = self.msg(h)
            && !m.in_queue
        {
            m.in_queue = true;
            self.queue.push(h);
        }
    }

    fn exim_stage(&mut self, stage: Stage, addr: &str, sender: &str, size: u32) {
        match stage {
            Stage::Connect => self.s("initial connection"),
            Stage::Mail => {
                let _ = write!(self.buf, "MAIL FROM:<{sender}> SIZE={}", size + 420);
            }
            Stage::Rcpt => {
                let _ = write!(self.buf, "RCPT TO:<{addr}>");
            }
            Stage::Data => self.s("end of data"),
        }
    }

    /// A bounce message (`<= <> R=parent`) back to a hosted sender.
    fn exim_bounce(&mut self, parent: &Id, to: &str, local_dom: Option<u16>) {
        let Some(d) = local_dom else { return };
        if self.cpanel() {
            self.ex();
            self.s("cwd=/var/spool/exim 7 args: /usr/sbin/exim -t -oem -oi -f <> -E");
            self.s(parent.as_str());
            self.end();
        }
        let null = self.w.null_key;
        let mut m = self.new_msg(Origin::Bounce, String::new(), null, None);
        m.parent = Some(*parent);
        m.size = self.rng.range(2500, 9000) as u32;
        m.rcpts.push(Rcpt {
            addr: to.to_string(),
            dest: Dest::Local(d),
            fate: Fate::Ok,
            step: 0,
            done: false,
            next_retry: 0,
        });
        m.id = self.new_id(self.now, false);
        let h = self.alloc(m);
        self.exim_arrival_line(h);
        self.after(0, 500, Ev::DeliverStart(h));
    }

    fn ev_queue_run(&mut self) {
        self.at(self.now + EXIM_QUEUE_INTERVAL, Ev::QueueRun);
        let pid = self.next_pid();
        self.ex();
        self.s("Start queue run: pid=");
        self.n(pid as u64);
        self.end();
        let slab = &self.slab;
        self.queue.retain(|&h| {
            let m = &slab[(h & 0xFFFF_FFFF) as usize];
            m.generation == (h >> 32) as u32 && !m.done
        });
        let list = self.queue.clone();
        self.runs.push(QueueRunState { pid, list, pos: 0 });
        let r = (self.runs.len() - 1) as u32;
        self.after(20, 300, Ev::QueueStep(r));
    }

    fn ev_queue_step(&mut self, r: u32) {
        let (pid, next) = {
            let run = &mut self.runs[r as usize];
            let next = run.list.get(run.pos).copied();
            run.pos += 1;
            (run.pid, next)
        };
        let Some(h) = next else {
            self.ex();
            self.s("End queue run: pid=");
            self.n(pid as u64);
            self.end();
            self.runs[r as usize].list = Vec::new();
            return;
        };
        let now = self.now;
        let cpanel = self.cpanel();
        let info = match self.msg(h) {
            Some(m) if now.saturating_sub(m.last_run) > MINUTE => {
                m.last_run = now;
                let remote = m
                    .rcpts
                    .iter()
                    .any(|x| !x.done && matches!(x.dest, Dest::Remote(_)));
                Some((m.id, m.local_dom, m.sender.clone(), remote))
            }
            _ => None,
        };
        if let Some((id, local_dom, sender, remote)) = info {
            if let (true, Some(d), true) = (cpanel, local_dom, remote) {
                self.sender_identification(&id, d as usize, &sender);
            }
            self.ev_exim_deliver(h, true);
            self.after(200, 2500, Ev::QueueStep(r));
        } else {
            self.after(1, 40, Ev::QueueStep(r));
        }
    }

    // -----------------------------------------------------------------------------------------
    // SMTP-time rejections and other connection noise (both MTAs)

    fn ev_reject(&mut self) {
        let (sender, skey) = match self.rng.below(20) {
            0..=11 => {
                let i = self.rng.below(self.w.spam.len() as u64) as usize;
                let lp = local_part(&mut self.rng);
                (
                    format!("{lp}@{}", self.w.spam[i].0),
                    self.w.spam_key0 + i as u32,
                )
            }
            12..=14 => {
                // Forged sender in a hosted domain.
                let d = self.w.local_w.sample(&mut self.rng);
                let lp = *self.rng.pick(ROLES);
                (format!("{lp}@{}", self.w.locals[d].name), d as u32)
            }
            15..=16 => (String::new(), self.w.null_key),
            _ => {
                let si = self.w.sender_w.sample(&mut self.rng);
                let lp = local_part(&mut self.rng);
                (
                    format!("{lp}@{}", self.w.remotes[si].name),
                    self.w.remotes[si].key,
                )
            }
        };
        let si = self.rng.below(self.w.spam.len() as u64) as usize;
        let (_, host, ip) = self.w.spam[si].clone();
        let port = self.rng.range(32768, 60999) as u16;
        let helo = if host == "unknown" {
            format!("[{ip}]")
        } else {
            host.clone()
        };
        let n = self.rng.range(1, 4) as usize;
        let reason = self.rng.below(10);
        let mut rcpts = Vec::new();
        for _ in 0..n {
            let d = self.w.local_w.sample(&mut self.rng);
            let lp = if reason < 4 {
                local_part(&mut self.rng)
            } else {
                (*self.rng.pick(ROLES)).to_string()
            };
            let dom = if reason == 6 {
                let r = self.w.rcpt_w.sample(&mut self.rng);
                self.w.remotes[r].name.clone()
            } else {
                self.w.locals[d].name.clone()
            };
            rcpts.push(format!("{lp}@{dom}"));
        }
        if self.exim() {
            self.exim_reject(&sender, skey, &host, &helo, &ip, port, &rcpts, reason);
        } else {
            self.pf_reject(&sender, skey, &host, &helo, &ip, port, &rcpts, reason);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn exim_reject(
        &mut self,
        sender: &str,
        skey: u32,
        host: &str,
        helo: &str,
        ip: &str,
        port: u16,
        rcpts: &[String],
        reason: u64,
    ) {
        let cpanel = self.cpanel();
        let hd = if host == "unknown" {
            format!("({helo}) [{ip}]")
        } else {
            format!("{host} [{ip}]")
        };
        let hd = if cpanel { format!("{hd}:{port}") } else { hd };
        if cpanel {
            self.ex();
            let _ = write!(
                self.buf,
                "SMTP connection from [{ip}]:{port} (TCP/IP connection count = {})",
                self.rng.range(1, 9)
            );
            self.end();
        }
        if reason == 9 {
            self.ex();
            let _ = write!(
                self.buf,
                "H={hd} sender verify fail for <{sender}>: Unrouteable address"
            );
            self.end();
        }
        for r in rcpts {
            self.ex();
            let s = if sender.is_empty() { "" } else { sender };
            let _ = write!(self.buf, "H={hd} F=<{s}> ");
            match reason {
                0..=3 => {
                    let _ = write!(self.buf, "rejected RCPT <{r}>: ");
                    self.s(if cpanel {
                        "No Such User Here"
                    } else {
                        "Unrouteable address"
                    });
                }
                4..=5 => {
                    if cpanel {
                        let _ = write!(
                            self.buf,
                            "rejected RCPT <{r}>: JunkMail rejected - {hd} is in an RBL: https://www.spamhaus.org/query/ip/{ip}"
                        );
                    } else {
                        let _ = write!(
                            self.buf,
                            "rejected RCPT <{r}>: rejected because {ip} is in a black list at zen.spamhaus.org\\nhttps://www.spamhaus.org/query/ip/{ip}"
                        );
                    }
                }
                6 => {
                    let _ = write!(self.buf, "rejected RCPT <{r}>: relay not permitted");
                }
                7..=8 => {
                    let _ = write!(
                        self.buf,
                        "temporarily rejected RCPT <{r}>: Greylisted, please try again later"
                    );
                }
                _ => {
                    let _ = write!(self.buf, "rejected RCPT <{r}>: Sender verify failed");
                }
            }
            self.end();
            self.count(Count::Rejected, skey);
        }
        if cpanel {
            self.ex();
            let _ = write!(self.buf, "SMTP connection from {hd} closed by QUIT");
            self.end();
        }
    }

    fn ev_noise(&mut self) {
        let gap = self.rng.exp(25_000.0) as u64 + 500;
        self.at(self.now + gap, Ev::Noise);
        let ip = doc_ip("scan", self.rng.below(60) as usize);
        let port = self.rng.range(32768, 60999);
        let d = self.w.local_w.sample(&mut self.rng);
        let acct = self.rng.pick(&self.w.locals[d].accounts).clone();
        let kind = self.rng.below(4);
        if self.exim() {
            self.ex();
            match (kind, self.cpanel()) {
                (0 | 1, true) => {
                    let _ = write!(
                        self.buf,
                        "dovecot_login authenticator failed for (User) [{ip}]:{port}: 535 Incorrect authentication data (set_id={acct})"
                    );
                }
                (0 | 1, false) => {
                    let _ = write!(
                        self.buf,
                        "plain authenticator failed for H=(User) [{ip}]: 535 Incorrect authentication data (set_id={acct})"
                    );
                }
                (2, _) => {
                    let _ = write!(self.buf, "no host name found for IP address {ip}");
                }
                _ => {
                    let _ = write!(
                        self.buf,
                        "SMTP call from (User) [{ip}] dropped: too many nonmail commands (last was \"RSET\")"
                    );
                }
            }
            self.end();
        } else {
            match kind {
                0 | 1 => {
                    let pid = 25_000 + self.rng.below(10) as u32;
                    self.sys("postfix/submission/smtpd", pid);
                    let _ = write!(
                        self.buf,
                        "warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username={acct}"
                    );
                    self.end();
                }
                2 => {
                    self.sys("postfix/postscreen", 1130);
                    let _ = write!(self.buf, "CONNECT from [{ip}]:{port} to [{SERVER_IP}]:25");
                    self.end();
                    self.sys("postfix/postscreen", 1130);
                    let _ = write!(
                        self.buf,
                        "PREGREET 11 after 0.14 from [{ip}]:{port}: EHLO User\\r\\n"
                    );
                    self.end();
                    self.sys("postfix/postscreen", 1130);
                    let _ = write!(self.buf, "DISCONNECT [{ip}]:{port}");
                    self.end();
                }
                _ => {
                    let pid = 21_000 + self.rng.below(30) as u32;
                    self.sys("postfix/smtpd", pid);
                    let _ = write!(
                        self.buf,
                        "warning: hostname ptr-{}.example.net does not resolve to address {ip}: Name or service not known",
                        self.rng.below(999)
                    );
                    self.end();
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Postfix

const LMTP_RELAY: &str = "mx1.example.com[private/dovecot-lmtp]";

impl<W: Write> Gen<'_, W> {
    fn pf_client(&self, c: &(String, String, String, u16)) -> String {
        let (host, _, ip, _) = c;
        if host.is_empty() {
            format!("unknown[{ip}]")
        } else {
            format!("{host}[{ip}]")
        }
    }

    fn pf_smtpd_prog(origin: Origin) -> &'static str {
        match origin {
            Origin::Auth | Origin::Spray => "postfix/submission/smtpd",
            _ => "postfix/smtpd",
        }
    }

    fn pf_connect(&mut self, h: u64) {
        let Some(m) = self.msg(h) else { return };
        let origin = m.origin;
        let client = m.client.clone();
        if origin == Origin::Script {
            self.at(self.now, Ev::Receive(h));
            return;
        }
        let c = client.expect("smtp arrival has a client");
        let pid = match origin {
            Origin::Auth | Origin::Spray => 25_000 + self.rng.below(10) as u32,
            _ => 21_000 + self.rng.below(30) as u32,
        };
        if let Some(m) = self.msg(h) {
            m.pid = pid;
        }
        if origin == Origin::Inbound && self.rng.chance(0.25) {
            self.sys("postfix/postscreen", 1130);
            let _ = write!(
                self.buf,
                "CONNECT from [{}]:{} to [{SERVER_IP}]:25",
                c.2, c.3
            );
            self.end();
            self.sys("postfix/postscreen", 1130);
            let _ = write!(self.buf, "PASS OLD [{}]:{}", c.2, c.3);
            self.end();
        }
        let cl = self.pf_client(&c);
        self.sys(Self::pf_smtpd_prog(origin), pid);
        self.s("connect from ");
        self.s(&cl);
        self.end();
        self.after(200, 2500, Ev::Receive(h));
    }

    fn pf_receive(&mut self, h: u64) {
        let now = self.now;
        let id = self.new_id(now, false);
        let (origin, sender, client, local_dom, pid, tag) = {
            let Some(m) = self.msg(h) else { return };
            m.id = id;
            m.arrived = now;
            (
                m.origin,
                m.sender.clone(),
                m.client.clone(),
                m.local_dom,
                m.pid,
                m.tag,
            )
        };
        self.live_ids.insert(id.b);
        match origin {
            Origin::Script => {
                let d = local_dom.expect("hosted") as u64;
                self.pfm("postfix/pickup", 1123, &id);
                let _ = write!(self.buf, "uid={} from=<{}>", 1001 + d, local_of(&sender));
                self.end();
            }
            _ => {
                let c = client.expect("smtp arrival has a client");
                let cl = self.pf_client(&c);
                self.pfm(Self::pf_smtpd_prog(origin), pid, &id);
                self.s("client=");
                self.s(&cl);
                if matches!(origin, Origin::Auth | Origin::Spray) {
                    let _ = write!(self.buf, ", sasl_method=PLAIN, sasl_username={sender}");
                }
                self.end();
            }
        }
        let cpid = 22_000 + self.rng.below(8) as u32;
        self.pfm("postfix/cleanup", cpid, &id);
        let _ = write!(self.buf, "message-id=<{tag:016x}@{}>", domain_of(&sender));
        self.end();
        self.truth_messages += 1;
        self.after(1, 80, Ev::PfQueue(h));
    }

    fn qmgr_active(&mut self, id: &Id, sender: &str, size: u32, nrcpt: usize) {
        self.pfm("postfix/qmgr", 1120, id);
        let _ = write!(
            self.buf,
            "from=<{sender}>, size={size}, nrcpt={nrcpt} (queue active)"
        );
        self.end();
        self.arrival_lines += 1;
    }

    fn ev_pf_queue(&mut self, h: u64) {
        let Some(m) = self.msg(h) else { return };
        let (id, origin, sender, size, n, client, pid, filter, tag) = (
            m.id,
            m.origin,
            m.sender.clone(),
            m.size,
            m.rcpts.len(),
            m.client.clone(),
            m.pid,
            m.filter,
            m.tag,
        );
        self.qmgr_active(&id, &sender, size, n);
        if let (Some(c), true) = (client, origin != Origin::Script) {
            let cl = self.pf_client(&c);
            self.sys(Self::pf_smtpd_prog(origin), pid);
            let _ = write!(self.buf, "disconnect from {cl} ");
            match origin {
                Origin::Auth | Origin::Spray => {
                    let _ = write!(
                        self.buf,
                        "ehlo=2 starttls=1 auth=1 mail=1 rcpt={n} data=1 quit=1 commands={}",
                        n + 7
                    );
                }
                _ if tag.is_multiple_of(7) => {
                    let _ = write!(
                        self.buf,
                        "ehlo=1 mail=1 rcpt={n} data=1 quit=1 commands={}",
                        n + 4
                    );
                }
                _ => {
                    let _ = write!(
                        self.buf,
                        "ehlo=2 starttls=1 mail=1 rcpt={n} data=1 quit=1 commands={}",
                        n + 6
                    );
                }
            }
            self.end();
        }
        if filter {
            self.after(200, 1500, Ev::PfDeliver(h));
        } else {
            self.after(300, 3000, Ev::PfDeliver(h));
        }
    }

    fn ev_pf_reactivate(&mut self, h: u64) {
        let Some(m) = self.msg(h) else { return };
        let (id, sender, size, n) = (m.id, m.sender.clone(), m.size, m.rcpts.len());
        self.qmgr_active(&id, &sender, size, n);
        self.after(5, 500, Ev::PfDeliver(h));
    }

    fn ev_pf_deliver(&mut self, h: u64) {
        let Some(m) = self.msg(h) else { return };
        if m.filter {
            return self.pf_filter(h);
        }
        let id = m.id;
        let skey = m.skey;
        let sender = m.sender.clone();
        let arrived = m.arrived;
        let tag = m.tag;
        let local_dom = m.local_dom;
        let mut rcpts = std::mem::take(&mut m.rcpts);
        let mut failed = 0usize;
        for r in rcpts.iter_mut() {
            if r.done {
                continue;
            }
            let addr = r.addr.clone();
            match r.dest {
                Dest::Local(_) => {
                    let step = r.fate.step(r.step);
                    r.step += 1;
                    let pid = 30_000 + self.rng.below(6) as u32;
                    self.pfm("postfix/lmtp", pid, &id);
                    let _ = write!(self.buf, "to=<{addr}>, relay={LMTP_RELAY}, ");
                    let x = self.rng.range(10, 400);
                    self.delays(arrived, 10, x);
                    match step {
                        Step::Defer(_) => {
                            let _ = write!(
                                self.buf,
                                "dsn=4.2.2, status=deferred (host {LMTP_RELAY} said: 452 4.2.2 <{addr}> Quota exceeded (mailbox for user is full) (in reply to end of DATA command))"
                            );
                            self.end();
                            self.count(Count::Deferred, skey);
                        }
                        _ => {
                            let _ = write!(
                                self.buf,
                                "dsn=2.0.0, status=sent (250 2.0.0 <{addr}> {:016x} Saved)",
                                self.rng.next_u64()
                            );
                            self.end();
                            self.count(Count::Delivered, skey);
                            r.done = true;
                        }
                    }
                }
                Dest::Remote(di) => {
                    let (provider, mx, ip, rdom, exists) = {
                        let x = &self.w.remotes[di as usize];
                        (
                            x.provider,
                            x.mx.clone(),
                            x.ip.clone(),
                            x.name.clone(),
                            x.exists,
                        )
                    };
                    let smtp_pid = 20_000 + self.rng.below(60) as u32;
                    if exists && self.dead_until[di as usize] > self.now {
                        let pid = 24_000 + self.rng.below(4) as u32;
                        self.pfm("postfix/error", pid, &id);
                        let _ = write!(self.buf, "to=<{addr}>, relay=none, ");
                        self.delays(arrived, 0, 10);
                        let _ = write!(
                            self.buf,
                            "dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to {mx}[{ip}]:25: Connection timed out)"
                        );
                        self.end();
                        self.count(Count::Deferred, skey);
                        continue;
                    }
                    let step = if exists && self.remote_down(di as usize) {
                        Step::Defer(Why::Down)
                    } else {
                        let st = r.fate.step(r.step);
                        r.step = r.step.saturating_add(1);
                        st
                    };
                    match step {
                        Step::Deliver => {
                            let epoch = self.epoch_now();
                            let iso = self.iso_now();
                            let conf = confirmation(
                                &mut self.rng,
                                provider,
                                epoch,
                                tag,
                                &iso,
                                domain_of(&sender),
                            );
                            self.pfm("postfix/smtp", smtp_pid, &id);
                            let _ = write!(self.buf, "to=<{addr}>, relay={mx}[{ip}]:25, ");
                            let c = self.rng.range(100, 1500);
                            let x = self.rng.range(50, 900);
                            self.delays(arrived, c, x);
                            let _ = write!(self.buf, "dsn=2.0.0, status=sent ({conf})");
                            self.end();
                            self.count(Count::Delivered, skey);
                            r.done = true;
                        }
                        Step::Defer(Why::Down) => {
                            self.pfm("postfix/smtp", smtp_pid, &id);
                            let _ = write!(self.buf, "to=<{addr}>, relay=none, ");
                            self.delays(arrived, 30_000, 0);
                            let _ = write!(
                                self.buf,
                                "dsn=4.4.1, status=deferred (connect to {mx}[{ip}]:25: Connection timed out)"
                            );
                            self.end();
                            self.count(Count::Deferred, skey);
                            let dead = self.rng.range(10 * MINUTE, 25 * MINUTE);
                            self.dead_until[di as usize] = self.now + dead;
                        }
                        Step::Fail(Why::NoDomain) => {
                            self.pfm("postfix/smtp", smtp_pid, &id);
                            let _ = write!(self.buf, "to=<{addr}>, relay=none, ");
                            self.delays(arrived, 200, 0);
                            let _ = write!(
                                self.buf,
                                "dsn=5.4.4, status=bounced (Host or domain name not found. Name service error for name={rdom} type=MX: Host not found)"
                            );
                            self.end();
                            self.count(Count::Bounced, skey);
                            r.done = true;
                            failed += 1;
                        }
                        Step::Defer(why) | Step::Fail(why) => {
                            let fail = matches!(step, Step::Fail(_));
                            let why = if fail && why == Why::Full {
                                Why::GiveUp
                            } else {
                                why
                            };
                            let iso = self.iso_now();
                            let rep = reply(&mut self.rng, why, provider, &addr, &rdom, &iso);
                            self.pfm("postfix/smtp", smtp_pid, &id);
                            let _ = write!(self.buf, "to=<{addr}>, relay={mx}[{ip}]:25, ");
                            let c = self.rng.range(100, 1500);
                            let x = self.rng.range(20, 600);
                            self.delays(arrived, c, x);
                            let status = if fail { "bounced" } else { "deferred" };
                            let _ = write!(
                                self.buf,
                                "dsn={}, status={status} (host {mx}[{ip}] ",
                                rep.dsn
                            );
                            let text = rep.text.replace("\\n", " ");
                            match rep.stage {
                                Stage::Connect => {
                                    let _ = write!(self.buf, "refused to talk to me: {text})");
                                }
                                st => {
                                    let cmd = match st {
                                        Stage::Mail => "MAIL FROM",
                                        Stage::Data => "end of DATA",
                                        _ => "RCPT TO",
                                    };
                                    let _ = write!(
                                        self.buf,
                                        "said: {text} (in reply to {cmd} command))"
                                    );
                                }
                            }
                            self.end();
                            if fail {
                                self.count(Count::Bounced, skey);
                                r.done = true;
                                failed += 1;
                            } else {
                                self.count(Count::Deferred, skey);
                            }
                        }
                    }
                }
            }
        }
        let pending = rcpts.iter().filter(|r| !r.done).count();
        let mut expired = false;
        if pending > 0 && self.now >= arrived + POSTFIX_LIFETIME {
            self.pfm("postfix/qmgr", 1120, &id);
            let _ = write!(
                self.buf,
                "from=<{sender}>, status=expired, returned to sender"
            );
            self.end();
            self.count(Count::Expired, skey);
            for r in rcpts.iter_mut() {
                r.done = true;
            }
            expired = true;
        }
        if let Some(m) = self.msg(h) {
            m.rcpts = rcpts;
        }
        if (failed > 0 || expired) && !sender.is_empty() {
            self.pf_ndr(&id, &sender, local_dom);
        }
        if pending == 0 || expired {
            self.pfm("postfix/qmgr", 1120, &id);
            self.s("removed");
            self.end();
            self.release(h);
        } else {
            let b = self.msg(h).map(|m| {
                m.backoff += 1;
                m.backoff
            });
            let b = b.unwrap_or(1);
            let base = ((300 * SECOND) << (b - 1).min(5)).min(4000 * SECOND);
            let jitter = self.rng.range(0, base / 5);
            self.at(self.now + base + jitter, Ev::PfReactivate(h));
        }
    }

    /// A non-delivery notification to a hosted sender.
    fn pf_ndr(&mut self, parent: &Id, to: &str, local_dom: Option<u16>) {
        let Some(d) = local_dom else { return };
        let null = self.w.null_key;
        let mut m = self.new_msg(Origin::Bounce, String::new(), null, None);
        m.parent = Some(*parent);
        m.size = self.rng.range(2500, 9000) as u32;
        m.rcpts.push(Rcpt {
            addr: to.to_string(),
            dest: Dest::Local(d),
            fate: Fate::Ok,
            step: 0,
            done: false,
            next_retry: 0,
        });
        let now = self.now;
        m.id = self.new_id(now, false);
        let id = m.id;
        let size = m.size;
        let h = self.alloc(m);
        let cpid = 22_000 + self.rng.below(8) as u32;
        let stamp = (self.cfg.start + chrono::Duration::milliseconds((now - BASE) as i64))
            .format("%Y%m%d%H%M%S")
            .to_string();
        self.pfm("postfix/cleanup", cpid, &id);
        let _ = write!(
            self.buf,
            "message-id=<{stamp}.{}@{}>",
            id.as_str(),
            self.w.hostname
        );
        self.end();
        let bpid = 23_000 + self.rng.below(4) as u32;
        self.pfm("postfix/bounce", bpid, parent);
        let _ = write!(
            self.buf,
            "sender non-delivery notification: {}",
            id.as_str()
        );
        self.end();
        self.truth_messages += 1;
        self.qmgr_active(&id, "", size, 1);
        self.after(5, 400, Ev::PfDeliver(h));
    }

    /// Hands a message to amavis at 127.0.0.1:10024, which re-injects it under a new queue id.
    fn pf_filter(&mut self, h: u64) {
        let Some(m) = self.msg(h) else { return };
        let id = m.id;
        let sender = m.sender.clone();
        let skey = m.skey;
        let local_dom = m.local_dom;
        let origin = m.origin;
        let arrived = m.arrived;
        let size = m.size;
        let subject = m.subject;
        let tag = m.tag;
        let client = m.client.clone();
        let rcpts = std::mem::take(&mut m.rcpts);
        let now = self.now;
        let mut f = self.new_msg(Origin::Filtered, sender.clone(), skey, local_dom);
        f.id = self.new_id(now, false);
        f.size = size + 700;
        f.subject = subject;
        f.tag = tag;
        f.orig = Some(id);
        let fid = f.id;
        let addrs: Vec<String> = rcpts.iter().map(|r| r.addr.clone()).collect();
        f.rcpts = rcpts;
        let fh = self.alloc(f);
        let spid = 21_100 + self.rng.below(4) as u32;
        self.sys("postfix/smtpd", spid);
        self.s("connect from localhost[127.0.0.1]");
        self.end();
        self.pfm("postfix/smtpd", spid, &fid);
        let _ = write!(
            self.buf,
            "client=localhost[127.0.0.1], orig_queue_id={}",
            id.as_str()
        );
        if let Some(c) = &client {
            let cl = self.pf_client(c);
            let _ = write!(self.buf, ", orig_client={cl}");
        }
        self.end();
        let cpid = 22_000 + self.rng.below(8) as u32;
        self.pfm("postfix/cleanup", cpid, &fid);
        let _ = write!(self.buf, "message-id=<{tag:016x}@{}>", domain_of(&sender));
        self.end();
        self.truth_messages += 1;
        self.qmgr_active(&fid, &sender, size + 700, addrs.len());
        let apid = 2250 + self.rng.below(4) as u32;
        self.sys("amavis", apid);
        let dir = if origin == Origin::Inbound {
            "RelayedInbound"
        } else {
            "RelayedOutbound"
        };
        let _ = write!(
            self.buf,
            "({apid:05}-{:02}) Passed CLEAN {{{dir}}}, ",
            self.rng.range(1, 99)
        );
        if let Some((_, _, ip, port)) = &client {
            let _ = write!(self.buf, "[{ip}]:{port} ");
        } else {
            self.s("LOCAL [127.0.0.1] ");
        }
        let _ = write!(self.buf, "<{sender}> -> ");
        for (i, a) in addrs.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            let _ = write!(self.buf, "<{a}>");
        }
        let hits = (self.rng.below(60) as f64 - 20.0) / 10.0;
        let _ = write!(
            self.buf,
            ", Queue-ID: {}, Message-ID: <{tag:016x}@{}>, mail_id: {:012x}, Hits: {:.1}, size: {size}, queued_as: {}, {} ms",
            id.as_str(),
            domain_of(&sender),
            self.rng.next_u64() >> 16,
            hits,
            fid.as_str(),
            self.rng.range(200, 2500)
        );
        self.end();
        let smtp_pid = 20_000 + self.rng.below(60) as u32;
        for a in &addrs {
            self.pfm("postfix/smtp", smtp_pid, &id);
            let _ = write!(self.buf, "to=<{a}>, relay=127.0.0.1[127.0.0.1]:10024, ");
            let x = self.rng.range(200, 2000);
            self.delays(arrived, 1, x);
            let _ = write!(
                self.buf,
                "dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as {})",
                fid.as_str()
            );
            self.end();
            self.count(Count::Delivered, skey);
        }
        self.pfm("postfix/qmgr", 1120, &id);
        self.s("removed");
        self.end();
        self.sys("postfix/smtpd", spid);
        let n = addrs.len();
        let _ = write!(
            self.buf,
            "disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt={n} data=1 quit=1 commands={}",
            n + 4
        );
        self.end();
        self.release(h);
        self.after(5, 600, Ev::PfDeliver(fh));
    }

    #[allow(clippy::too_many_arguments)]
    fn pf_reject(
        &mut self,
        sender: &str,
        skey: u32,
        host: &str,
        helo: &str,
        ip: &str,
        port: u16,
        rcpts: &[String],
        reason: u64,
    ) {
        if reason == 4 && self.rng.chance(0.5) {
            self.sys("postfix/postscreen", 1130);
            let _ = write!(self.buf, "CONNECT from [{ip}]:{port} to [{SERVER_IP}]:25");
            self.end();
            self.sys("postfix/dnsblog", 1131);
            let _ = write!(
                self.buf,
                "addr {ip} listed by domain zen.spamhaus.org as 127.0.0.{}",
                self.rng.range(2, 4)
            );
            self.end();
            self.sys("postfix/postscreen", 1130);
            let _ = write!(self.buf, "DNSBL rank 3 for [{ip}]:{port}");
            self.end();
            for r in rcpts {
                self.sys("postfix/postscreen", 1130);
                let _ = write!(
                    self.buf,
                    "NOQUEUE: reject: RCPT from [{ip}]:{port}: 550 5.7.1 Service unavailable; client [{ip}] blocked using zen.spamhaus.org; from=<{sender}>, to=<{r}>, proto=ESMTP, helo=<{helo}>"
                );
                self.end();
                self.count(Count::Rejected, skey);
            }
            self.sys("postfix/postscreen", 1130);
            let _ = write!(self.buf, "DISCONNECT [{ip}]:{port}");
            self.end();
            return;
        }
        let pid = 21_000 + self.rng.below(30) as u32;
        let cl = format!("{host}[{ip}]");
        self.sys("postfix/smtpd", pid);
        let _ = write!(self.buf, "connect from {cl}");
        self.end();
        for r in rcpts {
            self.sys("postfix/smtpd", pid);
            let _ = write!(self.buf, "NOQUEUE: reject: RCPT from {cl}: ");
            match reason {
                0..=3 => {
                    let _ = write!(
                        self.buf,
                        "550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table"
                    );
                }
                4..=5 => {
                    let _ = write!(
                        self.buf,
                        "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{ip}"
                    );
                }
                6 => {
                    let _ = write!(self.buf, "454 4.7.1 <{r}>: Relay access denied");
                }
                7..=8 => {
                    let _ = write!(
                        self.buf,
                        "450 4.2.0 <{r}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{}.html",
                        domain_of(r)
                    );
                }
                _ if !sender.is_empty() => {
                    let _ = write!(
                        self.buf,
                        "450 4.1.8 <{sender}>: Sender address rejected: Domain not found"
                    );
                }
                _ => {
                    let _ = write!(
                        self.buf,
                        "550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table"
                    );
                }
            }
            let _ = write!(
                self.buf,
                "; from=<{sender}> to=<{r}> proto=ESMTP helo=<{helo}>"
            );
            self.end();
            self.count(Count::Rejected, skey);
        }
        self.sys("postfix/smtpd", pid);
        let n = rcpts.len();
        let _ = write!(
            self.buf,
            "disconnect from {cl} ehlo=1 mail=1 rcpt=0/{n} quit=1 commands=3/{}",
            n + 3
        );
        self.end();
    }
}
