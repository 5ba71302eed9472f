//! The population of a shared server: customer domains and their mailboxes, the networks each
//! mailbox logs in from, and the remote world they mail.
//!
//! Address plan (reserved ranges, so that no real network is named): customers' fixed lines
//! (offices, homes) 100.64.0.0/11; phone carriers 100.96.0.0/11 (IPv4, one /24 per phone) and
//! 2001:db8::/32 (IPv6, one /48 per phone); remote mail servers 198.18.0.0/16; attackers,
//! spam and backscatter sources 198.19.0.0/16 (see `attacks.rs`); the big providers keep the
//! 192.0.2.0/24 addresses of the classic generator, our server is 192.0.2.10.

use std::collections::HashSet;

use crate::names::{BIZ, FIRST, LAST, PLACE, ROLES, TLDS, WORDS};
use crate::rng::{SplitMix64, Weighted};
use crate::world::{LocalDomain, Provider, RemoteDomain, World};

use super::{AccountInfo, DayConfig, PopulationInfo};

/// What a mailbox is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Regular,
    /// Busy: mails hundreds of correspondent domains.
    Business,
    /// Sends newsletter batches (and nothing else).
    Newsletter,
    /// Sends little.
    Quiet,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Regular => "regular",
            Kind::Business => "business",
            Kind::Newsletter => "newsletter",
            Kind::Quiet => "quiet",
        }
    }
}

/// A fixed client network: one address.
#[derive(Debug, Clone)]
pub(crate) struct Fixed {
    pub(crate) ip: String,
    pub(crate) helo: String,
    pub(crate) office: bool,
}

/// A phone: its address changes every `period` inside one carrier network.
#[derive(Debug, Clone)]
pub(crate) struct Phone {
    /// IPv4 `a.b.c` of the /24, or IPv6 the third group of `2001:db8:X::/48`.
    pub(crate) net: [u16; 3],
    pub(crate) v6: bool,
    pub(crate) period: u64,
    pub(crate) phase: u64,
    pub(crate) helo: &'static str,
    pub(crate) salt: u64,
}

impl Phone {
    /// The phone's address at simulation time `t`.
    pub(crate) fn ip_at(&self, t: u64) -> String {
        let slot = (t + self.phase) / self.period;
        let h = mix(self.salt ^ slot.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        if self.v6 {
            format!(
                "2001:db8:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
                self.net[2],
                h & 0xFFFF,
                (h >> 16) & 0xFFFF,
                (h >> 32) & 0xFFFF,
                (h >> 48) & 0xFFFF,
                (mix(h) & 0xFFFF) | 1
            )
        } else {
            format!(
                "{}.{}.{}.{}",
                self.net[0],
                self.net[1],
                self.net[2],
                1 + h % 254
            )
        }
    }

    /// The network in CIDR notation.
    pub(crate) fn cidr(&self) -> String {
        if self.v6 {
            format!("2001:db8:{:x}::/48", self.net[2])
        } else {
            format!("{}.{}.{}.0/24", self.net[0], self.net[1], self.net[2])
        }
    }
}

/// A SplitMix64 finaliser: a fixed hash of a number.
pub(crate) fn mix(x: u64) -> u64 {
    SplitMix64::new(x).next_u64()
}

/// One mailbox.
pub(crate) struct Account {
    pub(crate) addr: String,
    pub(crate) dom: u16,
    pub(crate) kind: Kind,
    /// Share of outbound mail (Zipf).
    pub(crate) weight: f64,
    pub(crate) fixed: Vec<Fixed>,
    pub(crate) phone: Option<Phone>,
    /// Remote domains it usually mails, and how often.
    pub(crate) contacts: Vec<u16>,
    pub(crate) contact_w: Weighted,
    /// Over quota: inbound mail to it is deferred, some of it bounced.
    pub(crate) full: bool,
    /// Newsletters: sent by a web plugin (`P=local`) rather than a mail client.
    pub(crate) plugin: bool,
}

/// Everyone on the server, and what they mail.
pub(crate) struct People {
    pub(crate) accounts: Vec<Account>,
    /// Outbound volume of each account (newsletters excluded: they send in batches).
    pub(crate) send_w: Weighted,
    /// Inbound volume of each account.
    pub(crate) recv_w: Weighted,
    pub(crate) by_dom: Vec<Vec<usize>>,
    /// Remote indices of the big providers, and their shares.
    pub(crate) providers: Vec<u16>,
    pub(crate) provider_w: Weighted,
    /// Remote indices of the small remote domains (by popularity) and their shares.
    pub(crate) generic: Vec<u16>,
    pub(crate) generic_w: Weighted,
    /// Domains that no longer exist (old lists, typos).
    pub(crate) gone: Vec<u16>,
    /// Remote domains that greylist first contacts.
    pub(crate) grey: Vec<bool>,
    /// Customer domains with a web form on their site, and its script folder.
    pub(crate) forms: Vec<(u16, &'static str)>,
    pub(crate) newsletters: Vec<usize>,
    /// Background outage of each remote domain (start, end); (0, 0) for none.
    pub(crate) outage: Vec<(u64, u64)>,
}

const FORM_PATHS: &[&str] = &[
    "/public_html",
    "/public_html/contact",
    "/public_html/wp-content/plugins/contact-form-7",
    "/public_html/shop",
    "/public_html/booking",
];
const OFFICE_HELOS: &[&str] = &["DESKTOP-", "OFFICE-PC", "WIN-", "MacBook-Pro", "laptop"];
const PHONE_HELOS: &[&str] = &["smtpclient.apple", "[127.0.0.1]", "localhost", "android"];

/// The big providers for day mode: as in the classic world, plus their share of mail.
const PROVIDERS: &[(&str, Provider, &str, &str, f64)] = &[
    (
        "gmail.com",
        Provider::Gmail,
        "gmail-smtp-in.l.google.com",
        "192.0.2.201",
        34.0,
    ),
    (
        "outlook.com",
        Provider::Microsoft,
        "outlook-com.olc.protection.outlook.com",
        "192.0.2.225",
        9.0,
    ),
    (
        "hotmail.com",
        Provider::Microsoft,
        "hotmail-com.olc.protection.outlook.com",
        "192.0.2.226",
        8.0,
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
        9.0,
    ),
    (
        "aol.com",
        Provider::Yahoo,
        "mx-aol.mail.gm0.yahoodns.net",
        "192.0.2.216",
        2.0,
    ),
    (
        "icloud.com",
        Provider::Icloud,
        "mx01.mail.icloud.com",
        "192.0.2.230",
        5.0,
    ),
];

/// Number of small remote domains.
const GENERIC: usize = 2500;

/// Builds the server's world and its population.
pub(crate) fn build(rng: &mut SplitMix64, cfg: &DayConfig) -> (World, People) {
    let (locals, names) = customer_domains(rng, cfg.domains.max(1));
    let (remotes, generic, gone) = remote_domains(rng, &names);
    let mut w = World {
        local_w: Weighted::new(std::iter::once(1.0)),
        rcpt_w: Weighted::new(std::iter::once(1.0)),
        sender_w: Weighted::new(std::iter::once(1.0)),
        typos: gone.clone(),
        spam: Vec::new(),
        keys: Vec::new(),
        spam_key0: 0,
        null_key: 0,
        unknown_key: 0,
        hostname: if cfg.cpanel {
            "server1.hosting.example".to_string()
        } else {
            "mx1.hosting.example".to_string()
        },
        locals,
        remotes,
    };
    let people = populate(rng, cfg, &mut w, generic, gone);
    finish_world(&mut w, &people);
    (w, people)
}

/// `n` customer domains, each with an (empty) mailbox list, and the set of their names.
fn customer_domains(rng: &mut SplitMix64, n: usize) -> (Vec<LocalDomain>, HashSet<String>) {
    let mut seen = HashSet::new();
    let mut users = HashSet::new();
    let mut locals = Vec::new();
    while locals.len() < n {
        let biz = *rng.pick(BIZ);
        let place = *rng.pick(PLACE);
        let tld = *rng.pick(TLDS);
        let name = match (place.is_empty(), rng.below(3)) {
            (true, _) => format!("{biz}{}.{tld}", rng.range(1, 99)),
            (false, 0) => format!("{place}{biz}.{tld}"),
            (false, 1) => format!("{biz}-{place}.{tld}"),
            _ => format!("{}{biz}.{tld}", rng.pick(LAST)),
        };
        if !seen.insert(name.clone()) {
            continue;
        }
        let base: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(8)
            .collect();
        let mut cpuser = base.clone();
        let mut k = 1;
        while !users.insert(cpuser.clone()) {
            cpuser = format!("{}{k}", &base[..base.len().min(7)]);
            k += 1;
        }
        let i = locals.len();
        locals.push(LocalDomain {
            name,
            cpuser,
            accounts: Vec::new(),
            office_ip: String::new(),
            office_port_base: 49152 + ((i * 211) % 15000) as u16,
        });
    }
    (locals, seen)
}

/// The providers, [`GENERIC`] small domains (with unique 198.18.x.y servers) and domains that
/// no longer exist; returns the remotes, the small domains' indices and the gone ones'.
fn remote_domains(
    rng: &mut SplitMix64,
    taken: &HashSet<String>,
) -> (Vec<RemoteDomain>, Vec<u16>, Vec<u16>) {
    let mut remotes = Vec::new();
    for (name, p, mx, ip, _) in PROVIDERS {
        remotes.push(RemoteDomain {
            name: name.to_string(),
            provider: *p,
            mx: mx.to_string(),
            ip: ip.to_string(),
            exists: true,
            down_forever: false,
            key: 0,
        });
    }
    let mut seen = taken.clone();
    let mut generic = Vec::new();
    while generic.len() < GENERIC {
        let name = match rng.below(4) {
            0 | 1 => format!(
                "{}{}.example.{}",
                rng.pick(WORDS),
                rng.pick(BIZ),
                ["com", "net", "org"][rng.below(3) as usize]
            ),
            2 => format!("{}-{}.example", rng.pick(BIZ), rng.pick(WORDS)),
            _ => format!("{}{}.example.net", rng.pick(FIRST), rng.pick(LAST)),
        };
        if !seen.insert(name.clone()) {
            continue;
        }
        let k = generic.len();
        let mx = match rng.below(3) {
            0 => format!("mx1.{name}"),
            1 => format!("mail.{name}"),
            _ => format!("smtp.{name}"),
        };
        generic.push(remotes.len() as u16);
        remotes.push(RemoteDomain {
            name,
            provider: Provider::Generic,
            mx,
            ip: format!("198.18.{}.{}", k / 250, 1 + k % 250),
            exists: true,
            down_forever: false,
            key: 0,
        });
    }
    // Mail stuck before the log starts waits for these.
    for (j, w) in ["oldmail", "legacy", "formerco"].iter().enumerate() {
        let name = format!("{w}-{}.example.net", WORDS[j * 5]);
        remotes.push(RemoteDomain {
            mx: format!("mx.{name}"),
            name,
            provider: Provider::Generic,
            ip: format!("198.18.250.{}", 1 + j),
            exists: true,
            down_forever: true,
            key: 0,
        });
    }
    let mut gone = Vec::new();
    for t in [
        "gmaill.example",
        "yahooo.example",
        "outlok.example",
        "hotmial.example",
        "gnail.example",
        "oldisp.example.net",
        "defunct-mail.example",
        "closedshop.example.com",
        "formerhost.example.org",
        "expired-domain.example",
    ] {
        gone.push(remotes.len() as u16);
        remotes.push(RemoteDomain {
            name: t.to_string(),
            provider: Provider::Generic,
            mx: String::new(),
            ip: String::new(),
            exists: false,
            down_forever: false,
            key: 0,
        });
    }
    (remotes, generic, gone)
}

/// Creates the mailboxes, their networks and correspondents.
fn populate(
    rng: &mut SplitMix64,
    cfg: &DayConfig,
    w: &mut World,
    generic: Vec<u16>,
    gone: Vec<u16>,
) -> People {
    let (mut accounts, by_dom) = mailboxes(rng, cfg, w);
    volumes(rng, &mut accounts);
    let generic_w = Weighted::new((0..generic.len()).map(|i| 1.0 / ((i + 1) as f64).powf(0.9)));
    correspondents(rng, &mut accounts, &generic, &generic_w);
    let send_w = Weighted::new(accounts.iter().map(|a| a.weight));
    let recv_w = Weighted::new(accounts.iter().map(|a| 0.3 + a.weight.powf(0.7) * 4.0));
    let providers: Vec<u16> = (0..PROVIDERS.len() as u16).collect();
    let provider_w = Weighted::new(PROVIDERS.iter().map(|p| p.4));
    let grey = w
        .remotes
        .iter()
        .map(|r| r.provider == Provider::Generic && r.exists && rng.chance(0.15))
        .collect();
    // A site's form writes to a mailbox that is not full (an owner whose only mailbox is
    // full would see its own form trip its cPanel limit: not a healthy day).
    let mut forms = Vec::new();
    for (d, boxes) in by_dom.iter().enumerate() {
        let form = rng.chance(0.4);
        let path = *rng.pick(FORM_PATHS);
        if form && boxes.iter().any(|&a| !accounts[a].full) {
            forms.push((d as u16, path));
        }
    }
    let newsletters = (0..accounts.len())
        .filter(|&a| accounts[a].kind == Kind::Newsletter)
        .collect();
    let outage = w
        .remotes
        .iter()
        .map(|r| {
            if r.provider == Provider::Generic && r.exists && !r.down_forever && rng.chance(0.02) {
                let s = crate::sim::BASE + rng.below(cfg.hours.max(1) as u64 * 3_600_000);
                (s, s + rng.range(4, 20) * 60_000)
            } else {
                (0, 0)
            }
        })
        .collect();
    People {
        accounts,
        send_w,
        recv_w,
        by_dom,
        providers,
        provider_w,
        generic,
        generic_w,
        gone,
        grey,
        forms,
        newsletters,
        outage,
    }
}

/// The mailboxes of every domain, with their networks; and each domain's mailboxes.
fn mailboxes(
    rng: &mut SplitMix64,
    cfg: &DayConfig,
    w: &mut World,
) -> (Vec<Account>, Vec<Vec<usize>>) {
    let nd = w.locals.len();
    let na = cfg.accounts.max(nd);
    // Mailboxes per domain: one each, the rest by a Zipf share of the domains.
    let dom_w = Weighted::new((0..nd).map(|i| 1.0 / ((i + 1) as f64).powf(0.8)));
    let mut count = vec![1usize; nd];
    for _ in nd..na {
        count[dom_w.sample(rng)] += 1;
    }
    let offices: Vec<Option<String>> = (0..nd)
        .map(|_| {
            rng.chance(0.85).then(|| {
                format!(
                    "100.{}.{}.{}",
                    64 + rng.below(16),
                    rng.below(256),
                    1 + rng.below(254)
                )
            })
        })
        .collect();
    let newsletter_doms: HashSet<usize> = (0..(nd / 30).max(2))
        .map(|_| rng.below(nd as u64) as usize)
        .collect();
    let mut accounts = Vec::new();
    let mut by_dom = vec![Vec::new(); nd];
    for (d, &n) in count.iter().enumerate() {
        let mut used = HashSet::new();
        for j in 0..n {
            let news = j == n - 1 && n > 1 && newsletter_doms.contains(&d);
            let lp = loop {
                let lp = if news {
                    ["news", "newsletter", "info", "mailing"][rng.below(4) as usize].to_string()
                } else if j == 0 || rng.chance(0.35) {
                    rng.pick(ROLES).to_string()
                } else if rng.chance(0.5) {
                    format!("{}.{}", rng.pick(FIRST), rng.pick(LAST))
                } else {
                    rng.pick(FIRST).to_string()
                };
                if used.insert(lp.clone()) {
                    break lp;
                }
            };
            let addr = format!("{lp}@{}", w.locals[d].name);
            w.locals[d].accounts.push(addr.clone());
            by_dom[d].push(accounts.len());
            let (fixed, phone) = networks(rng, offices[d].as_deref(), accounts.len());
            accounts.push(Account {
                addr,
                dom: d as u16,
                kind: if news {
                    Kind::Newsletter
                } else {
                    Kind::Regular
                },
                weight: 0.0,
                fixed,
                phone,
                contacts: Vec::new(),
                contact_w: Weighted::new(std::iter::once(1.0)),
                full: false,
                plugin: rng.chance(0.5),
            });
        }
        if let Some(ip) = &offices[d] {
            w.locals[d].office_ip = ip.clone();
        }
    }
    (accounts, by_dom)
}

/// Zipf volumes over a random order of the mailboxes (newsletters send in batches, not by
/// volume); the busiest 8% are businesses, a quarter of the rest send little.
fn volumes(rng: &mut SplitMix64, accounts: &mut [Account]) {
    let mut order: Vec<usize> = (0..accounts.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let senders = order
        .iter()
        .filter(|&&a| accounts[a].kind != Kind::Newsletter)
        .count();
    let mut rank = 0;
    for &a in &order {
        let acc = &mut accounts[a];
        if acc.kind == Kind::Newsletter {
            continue;
        }
        rank += 1;
        acc.weight = 1.0 / (rank as f64).powf(0.9);
        if rank <= (senders * 8 / 100).max(3) {
            acc.kind = Kind::Business;
        } else if rng.chance(0.25) {
            acc.kind = Kind::Quiet;
            acc.weight *= 0.15;
        }
        acc.full = rng.chance(0.012);
    }
}

/// The remote domains each mailbox usually mails.
fn correspondents(
    rng: &mut SplitMix64,
    accounts: &mut [Account],
    generic: &[u16],
    generic_w: &Weighted,
) {
    for acc in accounts.iter_mut() {
        let n = match acc.kind {
            Kind::Business => rng.range(120, 400),
            Kind::Regular => rng.range(5, 40),
            Kind::Quiet | Kind::Newsletter => rng.range(2, 10),
        } as usize;
        let mut set = HashSet::new();
        // Businesses mail their own clients: spread over the whole world, not just the
        // popular domains.
        while set.len() < n {
            let g = if acc.kind == Kind::Business && rng.chance(0.6) {
                rng.below(generic.len() as u64) as usize
            } else {
                generic_w.sample(rng)
            };
            set.insert(generic[g]);
        }
        acc.contacts = set.into_iter().collect();
        acc.contacts.sort_unstable();
        for i in (1..acc.contacts.len()).rev() {
            acc.contacts.swap(i, rng.below(i as u64 + 1) as usize);
        }
        acc.contact_w = Weighted::new((0..acc.contacts.len()).map(|i| 1.0 / (i + 1) as f64));
    }
}

/// Webmail on the server itself submits from the loopback address.
pub(crate) const WEBMAIL: &str = "127.0.0.1";

/// One to three usual networks for account number `a`: the office line (shared with its
/// colleagues), a home line, a phone, webmail on the server.
fn networks(rng: &mut SplitMix64, office: Option<&str>, a: usize) -> (Vec<Fixed>, Option<Phone>) {
    let want = match rng.below(20) {
        0..=5 => 1,
        6..=14 => 2,
        _ => 3,
    };
    let mut kinds: Vec<u8> = Vec::new();
    if office.is_some() && rng.chance(0.85) {
        kinds.push(0);
    }
    if rng.chance(0.6) {
        kinds.push(2);
    }
    if rng.chance(0.12) {
        kinds.push(3);
    }
    if rng.chance(0.5) {
        kinds.push(1);
    }
    for k in [2u8, 1] {
        if kinds.len() < want && !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    kinds.truncate(want);
    let mut fixed = Vec::new();
    let mut phone = None;
    let desktop = format!(
        "{}{}",
        rng.pick(OFFICE_HELOS),
        (mix(a as u64) % 0xFFFFF) as u32
    );
    for k in kinds {
        match k {
            0 => fixed.push(Fixed {
                ip: office.expect("office").to_string(),
                helo: desktop.clone(),
                office: true,
            }),
            3 => fixed.push(Fixed {
                ip: WEBMAIL.to_string(),
                helo: "localhost".to_string(),
                office: false,
            }),
            1 => fixed.push(Fixed {
                ip: format!(
                    "100.{}.{}.{}",
                    80 + rng.below(16),
                    rng.below(256),
                    1 + rng.below(254)
                ),
                helo: if rng.chance(0.5) {
                    format!("[192.168.1.{}]", rng.range(2, 250))
                } else {
                    desktop.clone()
                },
                office: false,
            }),
            _ => {
                let v6 = rng.chance(0.3);
                let carrier = rng.below(if v6 { 4 } else { 6 }) as u16;
                let block = rng.below(8) as u16;
                let net = if v6 {
                    [0, 0, 0x4a00 + carrier * 16 + block]
                } else {
                    [100, 96 + carrier, 10 + block * 29]
                };
                phone = Some(Phone {
                    net,
                    v6,
                    period: rng.range(25, 80) * 60_000,
                    phase: rng.below(80 * 60_000),
                    helo: PHONE_HELOS[rng.below(PHONE_HELOS.len() as u64) as usize],
                    salt: rng.next_u64(),
                });
            }
        }
    }
    (fixed, phone)
}

/// Keys for the truth, weights of the world's own tables.
fn finish_world(w: &mut World, p: &People) {
    let mut dom_w = vec![0.0; w.locals.len()];
    for a in &p.accounts {
        dom_w[a.dom as usize] += 0.3 + a.weight.powf(0.7) * 4.0;
    }
    w.local_w = Weighted::new(dom_w);
    let mut rw: Vec<f64> = vec![0.0; w.remotes.len()];
    for (i, &pi) in p.providers.iter().enumerate() {
        rw[pi as usize] = PROVIDERS[i].4;
    }
    for (i, &g) in p.generic.iter().enumerate() {
        rw[g as usize] = 40.0 / ((i + 1) as f64).powf(0.9) / 8.0;
    }
    w.rcpt_w = Weighted::new(rw.iter().copied());
    w.sender_w = Weighted::new(rw);
    let mut keys: Vec<String> = w.locals.iter().map(|l| l.name.clone()).collect();
    for r in w.remotes.iter_mut() {
        r.key = keys.len() as u32;
        keys.push(r.name.clone());
    }
    w.spam_key0 = keys.len() as u32;
    for s in super::attacks::SPAM_DOMAINS {
        keys.push(s.to_string());
    }
    w.null_key = keys.len() as u32;
    keys.push("<>".to_string());
    w.unknown_key = keys.len() as u32;
    keys.push("(unknown)".to_string());
    w.keys = keys;
}

impl People {
    /// The population for the truth file.
    pub(crate) fn info(&self, w: &World) -> PopulationInfo {
        let mut nets = HashSet::new();
        let mut list = Vec::new();
        for a in &self.accounts {
            let mut networks = Vec::new();
            for f in &a.fixed {
                networks.push(format!("{}/32", f.ip));
            }
            if let Some(p) = &a.phone {
                networks.push(p.cidr());
            }
            nets.extend(networks.iter().cloned());
            let d = &w.locals[a.dom as usize];
            list.push(AccountInfo {
                address: a.addr.clone(),
                domain: d.name.clone(),
                cpuser: d.cpuser.clone(),
                kind: a.kind.as_str(),
                networks,
                full_mailbox: a.full,
            });
        }
        PopulationInfo {
            accounts: self.accounts.len(),
            domains: w.locals.len(),
            networks: nets.len(),
            phones: self.accounts.iter().filter(|a| a.phone.is_some()).count(),
            phones_ipv6: self
                .accounts
                .iter()
                .filter(|a| a.phone.as_ref().is_some_and(|p| p.v6))
                .count(),
            remote_domains: w.remotes.len(),
            list,
        }
    }

    /// A usual client of account `a` at time `t` (with hour of day `hour`): (helo, ip).
    pub(crate) fn client(
        &self,
        rng: &mut SplitMix64,
        a: usize,
        t: u64,
        hour: u32,
    ) -> (String, String) {
        let acc = &self.accounts[a];
        let work = (8..18).contains(&hour);
        let mut choices: Vec<(f64, usize)> = Vec::new();
        for (i, f) in acc.fixed.iter().enumerate() {
            let w = match (f.office, work) {
                (true, true) => 0.65,
                (true, false) => 0.1,
                (false, true) => 0.1,
                (false, false) => 0.45,
            };
            choices.push((w, i));
        }
        if acc.phone.is_some() {
            choices.push((0.35, usize::MAX));
        }
        let total: f64 = choices.iter().map(|c| c.0).sum();
        let mut x = rng.f64() * total;
        let mut pick = choices[choices.len() - 1].1;
        for (w, i) in &choices {
            if x < *w {
                pick = *i;
                break;
            }
            x -= w;
        }
        if pick == usize::MAX {
            let p = acc.phone.as_ref().expect("phone");
            (p.helo.to_string(), p.ip_at(t))
        } else {
            let f = &acc.fixed[pick];
            (f.helo.clone(), f.ip.clone())
        }
    }
}
