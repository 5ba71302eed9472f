//! Day mode: determinism, the healthy preset, the population's properties, and planted
//! figures that match the lines written. Small days keep this quick; the large ones are for
//! benches/findings_eval.sh.

use std::collections::{BTreeSet, HashMap, HashSet};

use mailtrace_synth::{DayConfig, DayTruth, Mta, Scenario, Scenarios, generate_day};

/// A short day: 4 hours from 08:00, about 60,000 lines, 120 mailboxes in 40 domains.
fn small(mta: Mta, cpanel: bool, seed: u64) -> DayConfig {
    let mut c = DayConfig::new(mta);
    c.cpanel = cpanel;
    c.seed = seed;
    c.hours = 4;
    c.lines = 60_000;
    c.accounts = 120;
    c.domains = 40;
    c.start = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
        .and_then(|d| d.and_hms_opt(8, 0, 0))
        .unwrap();
    c
}

fn run(cfg: &DayConfig) -> (String, DayTruth) {
    let mut out = Vec::new();
    let truth = generate_day(cfg, &mut out).expect("writing to a Vec cannot fail");
    (String::from_utf8(out).expect("UTF-8"), truth)
}

fn scenario<'a>(t: &'a DayTruth, id: &str) -> &'a Scenario {
    t.scenarios
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no scenario {id}"))
}

fn figure(s: &Scenario, name: &str) -> u64 {
    s.figures.get(name).copied().unwrap_or(0)
}

/// Texts that only planted problems produce.
const PLANTED_TEXTS: &[&str] = &[
    "b.barracudacentral.org",
    "bl.spamcop.net",
    "psbl.surriel.com",
    "dbl.spamhaus.org",
    "Sender address rejected: Access denied",
    "refused by the recipient's policy",
    "content identified as spam",
    "likely unsolicited mail",
    "unusual rate of",
    "complaints from our users",
    "Message rejected as spam",
    "looks like spam",
    "High probability of spam",
    "Message not accepted for policy reasons",
];

#[test]
fn a_day_is_deterministic_for_a_seed() {
    for (mta, cpanel) in [(Mta::Exim, true), (Mta::Postfix, false)] {
        let cfg = small(mta, cpanel, 11);
        let (a, ta) = run(&cfg);
        let (b, tb) = run(&cfg);
        assert_eq!(a, b, "{mta:?}: same seed, same bytes");
        assert_eq!(
            serde_json::to_string(&ta).unwrap(),
            serde_json::to_string(&tb).unwrap()
        );
        let (c, _) = run(&small(mta, cpanel, 12));
        assert_ne!(a, c, "{mta:?}: another seed, another day");
    }
}

#[test]
fn the_line_count_follows_the_target() {
    for (mta, cpanel) in [(Mta::Exim, true), (Mta::Exim, false), (Mta::Postfix, false)] {
        let (log, t) = run(&small(mta, cpanel, 3));
        assert_eq!(t.lines, log.lines().count() as u64);
        assert_eq!(t.bytes, log.len() as u64);
        let off = (t.lines as f64 - 60_000.0).abs() / 60_000.0;
        assert!(off < 0.15, "{mta:?} cPanel {cpanel}: {} lines", t.lines);
        assert_eq!(t.start, "2026-11-26T08:00:00");
        assert_eq!(t.end, "2026-11-26T12:00:00");
    }
}

#[test]
fn the_healthy_preset_plants_nothing() {
    for (mta, cpanel, seed) in [
        (Mta::Exim, true, 1),
        (Mta::Exim, true, 2),
        (Mta::Exim, false, 3),
        (Mta::Postfix, false, 4),
    ] {
        let (log, t) = run(&small(mta, cpanel, seed).healthy());
        assert!(t.scenarios.is_empty() && t.incidental.is_empty());
        assert!(t.trips.is_empty(), "seed {seed}: {:?}", t.trips);
        assert!(!log.contains("enforce_mail_permissions"));
        for text in PLANTED_TEXTS {
            assert!(
                !log.contains(text),
                "seed {seed}: {text:?} on a healthy day"
            );
        }
        // The background is there: password guessing, backscatter, greylisting, full
        // mailboxes, web forms.
        let needles: &[&str] = match mta {
            Mta::Exim => &[
                "authenticator failed for",
                "F=<> rejected RCPT",
                "Greylisted",
                "mailbox is full",
            ],
            Mta::Postfix => &[
                "SASL LOGIN authentication failed",
                "from=<> to=<",
                "Greylisted",
                "Quota exceeded",
                "relay=127.0.0.1[127.0.0.1]:10024",
                "orig_queue_id=",
                "postfix/pickup",
            ],
        };
        for n in needles {
            assert!(log.contains(n), "seed {seed}: no {n:?}");
        }
        if cpanel {
            assert!(log.contains("cwd=/home/") && log.contains("Sender identification U="));
        }
    }
}

#[test]
fn every_scenario_is_planted_with_its_truth() {
    let (log, t) = run(&small(Mta::Exim, true, 5));
    let ids: Vec<&str> = t.scenarios.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "compromised-1",
            "stale-list-1",
            "partner-down-1",
            "server-blocklisted-1",
            "unsolicited-1",
            "recipient-blocking-1",
            "sender-blocklisted-1"
        ]
    );
    let kinds: HashSet<&str> = ["account", "sender_domain", "server", "destination"].into();
    for s in &t.scenarios {
        assert!(!s.accept.is_empty(), "{}", s.id);
        assert!(s.accept.iter().all(|a| kinds.contains(a.kind)), "{}", s.id);
        assert!(s.window[0] <= s.window[1], "{}", s.id);
        assert!(
            s.figures.values().sum::<u64>() > 0,
            "{}: nothing planted",
            s.id
        );
        // The server's host name is accepted too, though the log need not show it.
        for a in s.accept.iter().filter(|a| {
            a.kind != "server" || a.subject.contains(':') || a.subject.starts_with("192.")
        }) {
            assert!(
                log.to_ascii_lowercase().contains(&a.subject),
                "{}: {} not in the log",
                s.id,
                a.subject
            );
        }
    }
    // Each scenario can be switched off on its own.
    for (name, _) in Scenarios::all().names() {
        let mut cfg = small(Mta::Exim, true, 5);
        cfg.scenarios.set(name, false);
        let (_, t) = run(&cfg);
        assert_eq!(t.scenarios.len(), 6, "{name}");
        assert!(
            t.scenarios.iter().all(|s| !s.id.starts_with(name)),
            "{name}"
        );
    }
}

/// The lines of an Exim log by message id: `(id, flag or word, rest)`.
fn exim_lines(log: &str) -> impl Iterator<Item = (&str, &str)> {
    log.lines().filter_map(|l| {
        let rest = l.get(20..)?;
        let (id, body) = rest.split_once(' ')?;
        (id.len() == 23 && id.as_bytes()[6] == b'-').then_some((id, body))
    })
}

#[test]
fn planted_refusals_match_the_lines() {
    for (mta, cpanel, seed) in [
        (Mta::Exim, true, 6),
        (Mta::Exim, false, 7),
        (Mta::Postfix, false, 8),
    ] {
        let (log, t) = run(&small(mta, cpanel, seed));
        let count = |needle: &str| log.lines().filter(|l| l.contains(needle)).count() as u64;
        let listed = scenario(&t, "server-blocklisted-1");
        let list = [
            "b.barracudacentral.org",
            "bl.spamcop.net",
            "psbl.surriel.com",
        ]
        .into_iter()
        .find(|l| listed.about.contains(l))
        .expect("the list is named");
        assert_eq!(count(list), figure(listed, "bounced"), "{mta:?} {list}");
        assert!(figure(listed, "bounced") > 10, "{mta:?}");
        let dbl = scenario(&t, "sender-blocklisted-1");
        assert_eq!(count("dbl.spamhaus.org"), figure(dbl, "bounced"), "{mta:?}");
        assert!(figure(dbl, "bounced") > 0, "{mta:?}");
        let blocking = scenario(&t, "recipient-blocking-1");
        assert_eq!(
            count("Sender address rejected: Access denied")
                + count("refused by the recipient's policy"),
            figure(blocking, "bounced"),
            "{mta:?}"
        );
        assert!(figure(blocking, "bounced") >= 5, "{mta:?}");
        if cpanel {
            assert_eq!(
                count("R=enforce_mail_permissions"),
                t.trips.iter().map(|x| x.discarded).sum::<u64>()
            );
        }
    }
}

#[test]
fn the_stale_list_bounces_match_the_lines() {
    let (log, t) = run(&small(Mta::Exim, false, 9));
    let s = scenario(&t, "stale-list-1");
    let sender = &s.accept[0].subject;
    let partner = &scenario(&t, "partner-down-1").accept[0].subject;
    let ids: HashSet<&str> = exim_lines(&log)
        .filter(|(_, b)| b.starts_with(&format!("<= {sender} ")) && b.contains("Back in touch"))
        .map(|(id, _)| id)
        .collect();
    // Recipients refused for our server's listing, or at the partner, count there.
    let ours = |b: &str| {
        !b.contains("in a black list")
            && !b.contains("blocked using")
            && !b.contains("listed at")
            && !b
                .split(' ')
                .nth(1)
                .is_some_and(|r| r.ends_with(partner.as_str()))
    };
    let lines = |flag: &str| {
        exim_lines(&log)
            .filter(|(id, b)| ids.contains(id) && b.starts_with(flag) && ours(b))
            .count() as u64
    };
    assert_eq!(lines("** "), figure(s, "bounced"));
    assert_eq!(lines("=> "), figure(s, "delivered"));
    // About 42% dead and 6% gone, against about 2% in a healthy newsletter.
    let share = figure(s, "bounced") as f64 / ids.len() as f64;
    assert!((0.35..0.6).contains(&share), "{share}");
}

#[test]
fn the_population_is_as_configured() {
    let mut cfg = small(Mta::Exim, true, 10);
    cfg.accounts = 150;
    cfg.domains = 50;
    let (log, t) = run(&cfg);
    let p = &t.population;
    assert_eq!((p.accounts, p.domains), (150, 50));
    assert_eq!(p.list.len(), 150);
    let doms: BTreeSet<&str> = p.list.iter().map(|a| a.domain.as_str()).collect();
    assert_eq!(doms.len(), 50, "every domain has a mailbox");
    let nets: HashSet<&str> = p
        .list
        .iter()
        .flat_map(|a| a.networks.iter().map(String::as_str))
        .collect();
    assert_eq!(nets.len(), p.networks);
    assert!(p.list.iter().all(|a| (1..=3).contains(&a.networks.len())));
    assert_eq!(
        p.phones,
        p.list
            .iter()
            .filter(|a| a
                .networks
                .iter()
                .any(|n| n.ends_with("/24") || n.ends_with("/48")))
            .count()
    );
    assert!(
        p.phones > 30 && p.phones_ipv6 > 5,
        "{p:?}",
        p = (p.phones, p.phones_ipv6)
    );

    // Every login of a mailbox comes from its usual networks, except the stolen one's.
    let victim = &scenario(&t, "compromised-1").accept[0].subject;
    let usual: HashMap<&str, &Vec<String>> = p
        .list
        .iter()
        .map(|a| (a.address.as_str(), &a.networks))
        .collect();
    let mut phone_ips: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut victim_nets = HashSet::new();
    let mut logins = 0;
    for (_, b) in exim_lines(&log) {
        let Some(a) = b.split(" A=dovecot_login:").nth(1) else {
            continue;
        };
        let login = a.split(' ').next().unwrap();
        let ip = b
            .split(" [")
            .nth(1)
            .and_then(|x| x.split(']').next())
            .unwrap();
        logins += 1;
        if login == victim && ip.starts_with("198.19.") {
            victim_nets.insert(ip.rsplit_once('.').unwrap().0.to_string());
            continue;
        }
        let nets = usual[login];
        let within = nets.iter().any(|n| in_net(ip, n));
        assert!(within, "{login} from {ip}, not in {nets:?}");
        if nets.iter().any(|n| !n.ends_with("/32") && in_net(ip, n)) {
            phone_ips.entry(login).or_default().insert(ip);
        }
    }
    assert!(logins > 1000, "{logins}");
    // Phones change address many times a day, inside their network.
    let busy = phone_ips.values().map(HashSet::len).max().unwrap_or(0);
    assert!(busy >= 4, "a phone used {busy} addresses");
    assert_eq!(
        victim_nets.len() as u64,
        figure(scenario(&t, "compromised-1"), "login_networks")
    );
    assert!(victim_nets.len() >= 10);
}

/// True if and only if `ip` is in `net` (`a.b.c.d/32`, `a.b.c.0/24`, `2001:db8:x::/48`).
fn in_net(ip: &str, net: &str) -> bool {
    let (base, bits) = net.split_once('/').unwrap();
    match bits {
        "32" => ip == base,
        "24" => ip.rsplit_once('.').map(|x| x.0) == base.rsplit_once('.').map(|x| x.0),
        _ => {
            let prefix = base.trim_end_matches("::");
            ip.starts_with(&format!("{prefix}:"))
        }
    }
}

#[test]
fn the_stolen_mailbox_trips_cpanel_again_and_again() {
    let mut cfg = small(Mta::Exim, true, 13);
    cfg.hours = 6;
    cfg.lines = 90_000;
    cfg.scenarios = Scenarios::none();
    cfg.scenarios.compromised = true;
    let (log, t) = run(&cfg);
    let s = scenario(&t, "compromised-1");
    let domain = &s.accept[1].subject;
    let trips: Vec<_> = t.trips.iter().filter(|x| &x.domain == domain).collect();
    assert!(trips.len() >= 2, "{:?}", t.trips);
    assert!(t.trips.iter().all(|x| &x.domain == domain), "{:?}", t.trips);
    assert!(trips.iter().all(|x| x.discarded > 0));
    // The trips discard the spray and its colleagues' mail alike.
    let discarded: u64 = trips.iter().map(|x| x.discarded).sum();
    assert!(figure(s, "discarded") > 0 && figure(s, "discarded") <= discarded);
    assert!(figure(s, "failed_logins_for_victim") >= 5);
    assert_eq!(
        t.incidental
            .iter()
            .filter(|i| &i.subject == domain && i.verdict == "sending_limit")
            .count(),
        1
    );
    // The spray goes to many domains.
    let victim = &s.accept[0].subject;
    let ids: HashSet<&str> = exim_lines(&log)
        .filter(|(_, b)| b.starts_with(&format!("<= {victim} ")) && b.contains("[198.19."))
        .map(|(id, _)| id)
        .collect();
    let domains: HashSet<&str> = exim_lines(&log)
        .filter(|(id, b)| ids.contains(id) && (b.starts_with("** ") || b.starts_with("=> ")))
        .filter_map(|(_, b)| b.split(' ').nth(1)?.rsplit_once('@').map(|x| x.1))
        .collect();
    assert!(domains.len() > 100, "{}", domains.len());
}
