//! Who the planted problems happen to, and when; and the day's brute-force campaigns.

use crate::rng::SplitMix64;
use crate::sim::{BASE, HOUR, MINUTE};
use crate::world::World;

use super::population::{Kind, People};
use super::{DayConfig, Scenarios};

/// Number of scenario kinds.
pub(crate) const SCENARIOS: usize = 7;

/// Scenario numbers (1-based; 0 tags background traffic).
pub(crate) const COMPROMISED: u8 = 1;
pub(crate) const STALE: u8 = 2;
pub(crate) const PARTNER: u8 = 3;
pub(crate) const SERVER_LISTED: u8 = 4;
pub(crate) const UNSOLICITED: u8 = 5;
pub(crate) const BLOCKING: u8 = 6;
pub(crate) const SENDER_LISTED: u8 = 7;

/// DNS block lists a destination may use against our server.
pub(crate) const DNSBLS: &[&str] = &[
    "b.barracudacentral.org",
    "bl.spamcop.net",
    "psbl.surriel.com",
];
/// The domain block list of scenario 7.
pub(crate) const DBL: &str = "dbl.spamhaus.org";

/// Who a login attempt is for: a real mailbox, or a guessed name at a customer domain.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    Account(usize),
    Guess(u16, &'static str),
}

/// A brute-force campaign: a set of attacker addresses trying passwords for a set of
/// mailboxes over a time span.
pub(crate) struct Campaign {
    pub(crate) ips: Vec<String>,
    pub(crate) targets: Vec<Target>,
    pub(crate) start: u64,
    pub(crate) end: u64,
    /// Mean gap between attempts.
    pub(crate) gap: u64,
    /// Share of attempts whose failure line names the login.
    pub(crate) named: f64,
}

pub(crate) struct Plan {
    pub(crate) on: Scenarios,
    pub(crate) victim: usize,
    pub(crate) comp: (u64, u64),
    /// The spammer's login addresses, each in its own /24.
    pub(crate) pool: Vec<String>,
    pub(crate) stale: usize,
    pub(crate) stale_at: u64,
    pub(crate) stale_size: u32,
    pub(crate) partner: u16,
    pub(crate) partner_win: (u64, u64),
    pub(crate) dnsbl: &'static str,
    pub(crate) listed_at: Vec<u16>,
    pub(crate) listed_from: u64,
    pub(crate) unsol: usize,
    pub(crate) unsol_win: (u64, u64),
    pub(crate) unsol_size: u32,
    pub(crate) blocked: usize,
    pub(crate) blocker: u16,
    pub(crate) dbl_dom: u16,
    /// Per remote domain: it refuses senders whose domain is on the DBL.
    pub(crate) dbl_checks: Vec<bool>,
    pub(crate) campaigns: Vec<Campaign>,
}

const GUESSES: &[&str] = &[
    "admin",
    "test",
    "webmaster",
    "root",
    "support",
    "user",
    "mail",
];

/// A random 198.19.0.0/17 address in a /24 not yet in `used`.
pub(crate) fn attacker_ip(rng: &mut SplitMix64, used: &mut Vec<u32>) -> String {
    loop {
        let net = rng.below(128) as u32 * 256 + rng.below(256) as u32;
        if !used.contains(&net) {
            used.push(net);
            return format!("198.19.{}.{}", net / 256, 1 + rng.below(254));
        }
    }
}

impl Plan {
    pub(crate) fn new(rng: &mut SplitMix64, cfg: &DayConfig, p: &People, w: &World) -> Plan {
        let span = cfg.hours.max(1) as u64 * HOUR;
        let at = |f: f64| BASE + (span as f64 * f) as u64;
        let s = (cfg.lines as f64 / cfg.hours.max(1) as f64 / (650_000.0 / 11.0)).clamp(0.1, 1.0);
        // Accounts by volume, busiest first.
        let mut by_w: Vec<usize> = (0..p.accounts.len()).collect();
        by_w.sort_by(|&a, &b| p.accounts[b].weight.total_cmp(&p.accounts[a].weight));
        let mut used: Vec<u16> = Vec::new();
        let sending = |a: usize| matches!(p.accounts[a].kind, Kind::Regular | Kind::Business);
        let victim = pick(rng, p, &by_w, &mut used, (8, 60), &|a| {
            sending(a) && p.accounts[a].phone.is_some()
        });
        let unsol = pick(rng, p, &by_w, &mut used, (2, 25), &|a| {
            p.accounts[a].kind == Kind::Business
        });
        let blocked = pick(rng, p, &by_w, &mut used, (4, 80), &sending);
        let stale = match p
            .newsletters
            .iter()
            .find(|&&n| !used.contains(&p.accounts[n].dom))
        {
            Some(&n) => {
                used.push(p.accounts[n].dom);
                n
            }
            None => pick(rng, p, &by_w, &mut used, (20, 120), &sending),
        };
        let dbl_acct = pick(rng, p, &by_w, &mut used, (10, 90), &|a| {
            p.by_dom[p.accounts[a].dom as usize].len() >= 2
        });
        let dbl_dom = p.accounts[dbl_acct].dom;

        let comp_start = (at(0.3) - BASE) / HOUR * HOUR + BASE + 20 * MINUTE;
        let comp_end = (comp_start + 4 * HOUR).min(BASE + span - 10 * MINUTE);
        let (campaigns, pool) = campaigns(rng, cfg, p, w, (s, victim, comp_start));
        let partner = p.generic[rng.below(2) as usize];
        let partner_start = at(0.35);
        let partner_win = (
            partner_start,
            (partner_start + 4 * HOUR).min(BASE + span - 15 * MINUTE),
        );
        let mut listed_at = Vec::new();
        while listed_at.len() < 4 {
            let g = p.generic[rng.range(2, 14) as usize];
            if g != partner && !listed_at.contains(&g) {
                listed_at.push(g);
            }
        }
        let blocker = *p.accounts[blocked]
            .contacts
            .iter()
            .find(|c| **c != partner && !listed_at.contains(c))
            .unwrap_or(&p.generic[20]);
        let dbl_checks = w
            .remotes
            .iter()
            .enumerate()
            .map(|(i, r)| {
                r.provider == crate::world::Provider::Generic
                    && r.exists
                    && i as u16 != partner
                    && !listed_at.contains(&(i as u16))
                    && rng.chance(0.35)
            })
            .collect();
        let unsol_start = at(0.12);
        Plan {
            on: cfg.scenarios,
            victim,
            comp: (comp_start, comp_end),
            pool,
            stale,
            stale_at: at(0.6),
            stale_size: (1800.0 * s).max(60.0) as u32,
            partner,
            partner_win,
            dnsbl: DNSBLS[rng.below(DNSBLS.len() as u64) as usize],
            listed_at,
            listed_from: at(0.15),
            unsol,
            unsol_win: (
                unsol_start,
                (unsol_start + 3 * HOUR).min(BASE + span - 20 * MINUTE),
            ),
            unsol_size: (700.0 * s).max(40.0) as u32,
            blocked,
            blocker,
            dbl_dom,
            dbl_checks,
            campaigns,
        }
    }
}

const SECOND_F: f64 = 1000.0;

/// The day's brute-force campaigns and the stolen mailbox's login addresses. `ctx` is the
/// size factor, the victim and the spray's start.
fn campaigns(
    rng: &mut SplitMix64,
    cfg: &DayConfig,
    p: &People,
    w: &World,
    ctx: (f64, usize, u64),
) -> (Vec<Campaign>, Vec<String>) {
    let (s, victim, comp_start) = ctx;
    let span = cfg.hours.max(1) as u64 * HOUR;
    let mut used_nets = Vec::new();
    let mut campaigns = Vec::new();
    // Background: a few campaigns trying many mailboxes and guessed names all day.
    let n_bg = 4;
    for c in 0..n_bg {
        let ips = (0..rng.range(4, 30))
            .map(|_| attacker_ip(rng, &mut used_nets))
            .collect();
        let mut targets = Vec::new();
        for _ in 0..rng.range(40, 160) {
            if rng.chance(0.75) {
                targets.push(Target::Account(rng.below(p.accounts.len() as u64) as usize));
            } else {
                targets.push(Target::Guess(
                    rng.below(w.locals.len() as u64) as u16,
                    GUESSES[rng.below(GUESSES.len() as u64) as usize],
                ));
            }
        }
        let start = BASE + rng.below(span / 2);
        campaigns.push(Campaign {
            ips,
            targets,
            start,
            end: (start + span / 3 + rng.below(span / 2)).min(BASE + span),
            gap: ((6 + c * 9) as f64 * SECOND_F / s) as u64,
            named: [0.9, 0.6, 0.0, 0.75][c as usize % 4],
        });
    }
    // Scenario 1 starts with an attack on the victim from addresses it will log in from.
    // (Drawn whether or not it is planted, so that the rest of the day stays the same.)
    let ips: Vec<String> = (0..rng.range(12, 20))
        .map(|_| attacker_ip(rng, &mut used_nets))
        .collect();
    let mut pool: Vec<String> = ips.iter().take(8).cloned().collect();
    let mut targets = vec![Target::Account(victim); 6];
    for _ in 0..20 {
        targets.push(Target::Account(rng.below(p.accounts.len() as u64) as usize));
    }
    while pool.len() < 26 {
        pool.push(attacker_ip(rng, &mut used_nets));
    }
    if cfg.scenarios.compromised {
        let start = comp_start.saturating_sub(2 * HOUR).max(BASE + 5 * MINUTE);
        campaigns.push(Campaign {
            ips,
            targets,
            start,
            end: comp_start + 10 * MINUTE,
            gap: (20.0 * SECOND_F / s.sqrt()) as u64,
            named: 0.8,
        });
    }
    (campaigns, pool)
}

/// An account among the `ranks` (busiest first, `by_w`) that passes `ok`, of a domain not
/// yet `used` by another scenario (falling back to any unused domain).
fn pick(
    rng: &mut SplitMix64,
    p: &People,
    by_w: &[usize],
    used: &mut Vec<u16>,
    ranks: (usize, usize),
    ok: &dyn Fn(usize) -> bool,
) -> usize {
    let to = ranks.1.min(by_w.len()).max(1);
    let from = ranks.0.min(to - 1);
    for _ in 0..300 {
        let a = by_w[rng.range(from as u64, to as u64 - 1) as usize];
        let d = p.accounts[a].dom;
        if ok(a) && !used.contains(&d) {
            used.push(d);
            return a;
        }
    }
    let a = by_w
        .iter()
        .copied()
        .find(|&a| !used.contains(&p.accounts[a].dom) && ok(a))
        .or_else(|| {
            by_w.iter()
                .copied()
                .find(|&a| !used.contains(&p.accounts[a].dom))
        })
        .unwrap_or(by_w[0]);
    used.push(p.accounts[a].dom);
    a
}
