//! The simulated world: hosted domains and accounts, remote domains, address blocks.

use std::collections::HashSet;

use crate::names::{BIZ, FIRST, LAST, PLACE, ROLES, TLDS, WORDS};
use crate::rng::{SplitMix64, Weighted};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Provider {
    Gmail,
    Microsoft,
    Yahoo,
    Icloud,
    Generic,
}

pub(crate) struct LocalDomain {
    pub(crate) name: String,
    pub(crate) cpuser: String,
    pub(crate) accounts: Vec<String>,
    pub(crate) office_ip: String,
    pub(crate) office_port_base: u16,
}

pub(crate) struct RemoteDomain {
    pub(crate) name: String,
    pub(crate) provider: Provider,
    pub(crate) mx: String,
    pub(crate) ip: String,
    pub(crate) exists: bool,
    /// A dead domain whose servers never answer (old mail stays queued for it).
    pub(crate) down_forever: bool,
    pub(crate) key: u32,
}

pub(crate) struct World {
    pub(crate) locals: Vec<LocalDomain>,
    pub(crate) local_w: Weighted,
    pub(crate) remotes: Vec<RemoteDomain>,
    /// Recipient domains of outbound mail (existing domains only).
    pub(crate) rcpt_w: Weighted,
    /// Sender domains of inbound mail.
    pub(crate) sender_w: Weighted,
    pub(crate) typos: Vec<u16>,
    pub(crate) spam: Vec<(String, String, String)>, // (domain, host, ip)
    pub(crate) keys: Vec<String>,
    pub(crate) spam_key0: u32,
    pub(crate) null_key: u32,
    /// Exim messages queued before the log starts: their lines name no sender (no `<=` line
    /// and no `F=`), so a log reader can only count them as "(unknown)".
    pub(crate) unknown_key: u32,
    pub(crate) hostname: String,
}

/// Documentation addresses, one block per role so that no two roles share an address:
/// remote mail servers 198.51.100.1-250, hosted offices 203.0.113.1-50, spam sources
/// 203.0.113.60-79, taken-over clients 203.0.113.100-149, scanners 203.0.113.150-209, big
/// providers' outbound relays 192.0.2.20-119 (their inbound MXs are 192.0.2.201-230).
pub(crate) fn doc_ip(block: &str, i: usize) -> String {
    match block {
        "remote" => format!("198.51.100.{}", 1 + i % 250),
        "office" => format!("203.0.113.{}", 1 + i % 50),
        "spam" => format!("203.0.113.{}", 60 + i % 20),
        "spray" => format!("203.0.113.{}", 100 + i % 50),
        "scan" => format!("203.0.113.{}", 150 + i % 60),
        _ => format!("192.0.2.{}", 20 + i % 100),
    }
}

/// The big providers: name, kind, inbound MX, its address, share of outbound recipients.
const PROVIDERS: &[(&str, Provider, &str, &str, f64)] = &[
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

impl World {
    pub(crate) fn new(rng: &mut SplitMix64, cpanel: bool) -> World {
        let (locals, seen) = hosted_domains(rng);
        // Heavy-tailed volume: Zipf with s = 1.1.
        let local_w = Weighted::new((0..locals.len()).map(|i| 1.0 / ((i + 1) as f64).powf(1.1)));

        let (mut remotes, rcpt_weights, typos) = remote_domains(rng, &seen);
        let rcpt_w = Weighted::new(rcpt_weights.iter().copied());
        let sender_w = Weighted::new(
            remotes
                .iter()
                .zip(&rcpt_weights)
                .map(|(r, w)| if r.exists { *w } else { 0.0 }),
        );
        let spam = spam_sources();
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

/// 50 hosted domains with 2-6 accounts each, and the set of their names.
fn hosted_domains(rng: &mut SplitMix64) -> (Vec<LocalDomain>, HashSet<String>) {
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
    (locals, seen)
}

/// The big providers, 160 small remote domains, three dead ones and five typo domains that
/// do not exist; with each one's weight as a recipient domain and the typo domains' indices.
fn remote_domains(
    rng: &mut SplitMix64,
    seen: &HashSet<String>,
) -> (Vec<RemoteDomain>, Vec<f64>, Vec<u16>) {
    let mut remotes = Vec::new();
    let mut rcpt_weights = Vec::new();
    for (name, p, mx, ip, w) in PROVIDERS {
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
    while remotes.len() < PROVIDERS.len() + 160 {
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
    (remotes, rcpt_weights, typos)
}

/// 20 spam sources: (domain, host or "unknown", ip).
fn spam_sources() -> Vec<(String, String, String)> {
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
    spam
}

pub(crate) fn local_part(rng: &mut SplitMix64) -> String {
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
