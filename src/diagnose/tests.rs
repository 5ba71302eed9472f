//! Unit tests of the diagnosis: synthetic aggregates in, verdicts and indicators out.

use super::subject::{ip_in, poisson_tail};
use super::*;
use crate::aggregate::Filter;
use crate::classify::{CachedClassifier, Classifier};
use crate::correlate::{Message, RecipientState, Sink};
use crate::model::cpanel::LimitRule;
use crate::model::event::{Event, Kind, Timestamp, domain_of};
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::report::advice::{advice, evidence};
use crate::util::text::short_reply;

const UNKNOWN: &str = "550 5.1.1 <x>: Recipient address rejected: User unknown";
const LISTED: &str =
    "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org";
const SPAM: &str = "550 5.7.1 Message rejected as spam by Content Filtering";
const DENIED: &str = "550 5.7.1 <a@b>: Sender address rejected: Access denied";
const TIMEOUT: &str = "Connection timed out";
const GREY: &str = "451 4.7.1 Greylisted, please try again later";
const FULL: &str = "552 5.2.2 Mailbox full";

fn ts(h: u32, m: u32) -> Timestamp {
    Timestamp::new(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 27)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap(),
        None,
    )
}

/// One delivery attempt: recipient, outcome, reply text.
type Try = (String, OutcomeKind, Option<&'static str>);

/// One message.
struct Mail {
    hour: u32,
    account: Option<&'static str>,
    sender: &'static str,
    ip: String,
    script: Option<&'static str>,
    tries: Vec<Try>,
}

fn mail(hour: u32, account: &'static str, ip: &str, tries: Vec<Try>) -> Mail {
    Mail {
        hour,
        account: Some(account),
        sender: account,
        ip: ip.to_string(),
        script: None,
        tries,
    }
}

fn ok(r: &str) -> Try {
    (r.to_string(), OutcomeKind::Delivered, None)
}

fn bounce(r: &str, text: &'static str) -> Try {
    (r.to_string(), OutcomeKind::Bounced, Some(text))
}

fn defer(r: &str, text: &'static str) -> Try {
    (r.to_string(), OutcomeKind::Deferred, Some(text))
}

/// Recipient `i` at domain `d<i>.example`.
fn at(i: usize, domain: usize) -> String {
    format!("user{i}@d{domain}.example")
}

/// Runs the diagnosis over these messages and failed logins (ip, login).
fn run(mails: &[Mail], logins: &[(&str, Option<&str>)], t: &Thresholds) -> Vec<Diagnosis> {
    let cl = Classifier::builtin();
    let mut a = Aggregates::new(
        LimitRule {
            min: 5,
            percent: None,
        },
        Filter::default(),
        CachedClassifier::new(&cl),
    );
    for (ip, login) in logins {
        let mut e = Event::new(ts(0, 1), Mta::Exim, Kind::AuthFailed);
        e.ip = Some(ip);
        e.account = *login;
        a.event(&e, None);
    }
    for (n, m) in mails.iter().enumerate() {
        let id = format!("q{n}");
        let hosts: Vec<String> = m
            .tries
            .iter()
            .map(|(r, _, _)| format!("mx.{}", domain_of(r).unwrap()))
            .collect();
        for (i, ((r, kind, text), host)) in m.tries.iter().zip(&hosts).enumerate() {
            a.outcome(&Outcome {
                kind: *kind,
                time: ts(m.hour, (i % 60) as u32),
                mta: Mta::Exim,
                queue_id: Some(&id),
                sender: Some(m.sender),
                account: m.account,
                charged_domain: None,
                client_ip: Some(&m.ip),
                script: m.script,
                recipient: Some(r),
                original_recipient: None,
                host: Some(host),
                ip: None,
                code: None,
                status: None,
                text: *text,
                router: None,
                limit: None,
                retry_not_due: false,
                is_bounce: false,
            });
        }
        let mut rcpts: Vec<RecipientState> = Vec::new();
        for (r, kind, _) in &m.tries {
            if !rcpts.iter().any(|x| &x.address == r) {
                rcpts.push(RecipientState {
                    address: r.clone(),
                    last: Some(*kind),
                    deferrals: 0,
                    attempts: 1,
                    last_text: None,
                    last_code: None,
                    last_status: None,
                });
            }
        }
        a.message_done(Message {
            id,
            mta: Mta::Exim,
            sender: Some(m.sender.into()),
            account: m.account.map(Into::into),
            charged_domain: None,
            client_host: None,
            client_ip: Some(m.ip.as_str().into()),
            script: m.script.map(str::to_string),
            size: None,
            subject: None,
            message_id: None,
            protocol: Some("esmtpsa".into()),
            arrived: true,
            first_seen: ts(m.hour, 0),
            last_seen: ts(m.hour, 59),
            parent: None,
            chained_from: None,
            frozen: false,
            expired: false,
            recipients: rcpts,
            ending: None,
        });
    }
    diagnose(&a, t)
}

fn verdicts(d: &[Diagnosis]) -> Vec<(String, SubjectKind, Verdict)> {
    d.iter()
        .map(|x| (x.subject.clone(), x.subject_kind, x.verdict))
        .collect()
}

fn only(d: &[Diagnosis], subject: &str, v: Verdict) {
    assert_eq!(
        verdicts(d),
        vec![(subject.to_string(), SubjectKind::Account, v)],
        "{d:#?}"
    );
}

/// A list mailing: `dead` unknown addresses at `dead` domains, `other` full mailboxes,
/// `good` deliveries, from one IP.
fn list_mailing(dead: usize, other: usize, good: usize) -> Vec<Mail> {
    let mut tries = Vec::new();
    for i in 0..dead {
        tries.push(bounce(&at(i, i), UNKNOWN));
    }
    for i in 0..other {
        tries.push(bounce(&at(100 + i, 100 + i), FULL));
    }
    for i in 0..good {
        tries.push(ok(&at(200 + i, 200 + i)));
    }
    vec![mail(10, "news@shop.example", "192.0.2.5", tries)]
}

fn th() -> Thresholds {
    Thresholds::default()
}

#[test]
fn min_failures_is_inclusive() {
    let t = Thresholds {
        many_domains: 4,
        ..th()
    };
    let four = list_mailing(4, 0, 3);
    assert!(
        run(
            &four,
            &[],
            &Thresholds {
                min_failures: 5,
                ..t.clone()
            }
        )
        .is_empty()
    );
    only(
        &run(
            &four,
            &[],
            &Thresholds {
                min_failures: 4,
                ..t
            },
        ),
        "news@shop.example",
        Verdict::StaleList,
    );
}

#[test]
fn stale_list_needs_the_dead_share_and_the_spread() {
    // 6 dead of 10 failing = 60%: enough; 5 of 9 = 56%: not.
    only(
        &run(&list_mailing(12, 8, 10), &[], &th()),
        "news@shop.example",
        Verdict::StaleList,
    );
    assert!(run(&list_mailing(10, 8, 10), &[], &th()).is_empty());
    // 9 domains where 10 are wanted.
    assert!(run(&list_mailing(9, 0, 10), &[], &th()).is_empty());
    let d = run(&list_mailing(10, 0, 10), &[], &th());
    assert_eq!(d[0].verdict, Verdict::StaleList);
    assert_eq!(d[0].confidence, 1.0);
    assert!(
        evidence(&d[0])
            .iter()
            .any(|e| e.contains("(threshold 60%)"))
    );
    assert!(evidence(&d[0]).iter().any(|e| e.contains("(threshold 10)")));
}

/// Refusals naming a list at `n` domains, plus deliveries elsewhere.
fn listed_at(n: usize) -> Vec<Mail> {
    let mut tries = Vec::new();
    for i in 0..n {
        tries.push(bounce(&at(i, i), LISTED));
        tries.push(bounce(&at(50 + i, i), LISTED));
        tries.push(bounce(&at(60 + i, i), LISTED));
    }
    for i in 0..5 {
        tries.push(ok(&at(100 + i, 100 + i)));
    }
    vec![mail(10, "billing@firm.example", "192.0.2.5", tries)]
}

#[test]
fn blocklist_needs_several_destinations() {
    only(
        &run(&listed_at(3), &[], &th()),
        "billing@firm.example",
        Verdict::SenderBlocklisted,
    );
    // Two destinations: not yet a widespread listing, and no organisation's own choice
    // either (the refusals name a block list): no verdict.
    assert!(run(&listed_at(2), &[], &th()).is_empty());
    let d = run(
        &listed_at(2),
        &[],
        &Thresholds {
            several_domains: 2,
            ..th()
        },
    );
    assert_eq!(d[0].verdict, Verdict::SenderBlocklisted);
}

/// A spam run from `ips` IPs: spam refusals at 4 domains and unknown users at 8 more.
fn spam_run(ips: usize) -> Vec<Mail> {
    (0..12)
        .map(|i| {
            let r = at(i, i);
            let tr = if i < 4 {
                bounce(&r, SPAM)
            } else {
                bounce(&r, UNKNOWN)
            };
            mail(
                3,
                "info@example.org",
                &format!("203.0.{}.7", i % ips),
                vec![tr, ok(&at(100 + i, 100 + i))],
            )
        })
        .collect()
}

#[test]
fn compromise_needs_many_networks_or_a_script() {
    let d = run(&spam_run(5), &[], &th());
    only(&d, "info@example.org", Verdict::CompromisedAccount);
    // IPs, wide mailing, spam refusals: 3 of 5 (no baseline, no failed logins).
    assert_eq!(d[0].confidence, 0.6);
    assert!(
        evidence(&d[0])
            .iter()
            .any(|e| e.contains("5 distinct client networks (IPv4 /24, IPv6 /48; threshold 5)"))
    );
    assert!(
        evidence(&d[0])
            .iter()
            .any(|e| e.contains("single hour") && e.starts_with("Not met: volume jump"))
    );
    // Four networks: the login pattern looks normal.
    let not_compromised =
        |d: &[Diagnosis]| d.iter().all(|x| x.verdict != Verdict::CompromisedAccount);
    assert!(not_compromised(&run(&spam_run(4), &[], &th())));
    // Four networks and five failed logins for the account: password guessers try every
    // mailbox of a shared server all day; without someone else at the account, no break-in.
    let fails: Vec<(&str, Option<&str>)> = (0..5)
        .map(|_| ("198.51.100.99", Some("info@example.org")))
        .collect();
    assert!(not_compromised(&run(&spam_run(4), &fails, &th())));
    // Five networks and the failed logins: 4 of 5.
    let d = run(&spam_run(5), &fails, &th());
    only(&d, "info@example.org", Verdict::CompromisedAccount);
    assert_eq!(d[0].confidence, 0.8);
    // Failed logins without a login name prove nothing about this account, even from an IP
    // that then sent its mail (the address may try every account on the server).
    let anon: Vec<(&str, Option<&str>)> = (0..5).map(|_| ("203.0.1.7", None)).collect();
    assert!(not_compromised(&run(&spam_run(4), &anon, &th())));
    // A phone changing address inside one /24 all day is one network.
    let mut phone = spam_run(5);
    for (i, m) in phone.iter_mut().enumerate() {
        m.ip = format!("198.51.100.{}", 10 + i);
    }
    assert!(not_compromised(&run(&phone, &[], &th())));
}

#[test]
fn a_script_in_an_upload_folder_counts_as_a_break_in() {
    let mut run_ = spam_run(1);
    for m in &mut run_ {
        m.account = Some("shopusr");
        m.sender = "shopusr@cp1.host.example";
        m.ip = "127.0.0.1".into();
        m.script = Some("/home/shopusr/public_html/wp-content/uploads/2026/x");
    }
    let d = run(&run_, &[], &th());
    only(&d, "shopusr", Verdict::CompromisedAccount);
    assert!(
        advice(&d[0]).contains("Delete the script in /home/shopusr/public_html/wp-content/uploads")
    );
    assert!(advice(&d[0]).contains("exiqgrep -i -f shopusr@cp1.host.example | xargs exim -Mrm"));
    // The same mail from the site's own contact form folder is not a break-in.
    for m in &mut run_ {
        m.script = Some("/home/shopusr/public_html/contact");
    }
    let d = run(&run_, &[], &th());
    assert!(d.iter().all(|x| x.verdict != Verdict::CompromisedAccount));
}

/// One message an hour for `quiet` hours, then `burst` recipients in one hour, with spam
/// refusals at 3 domains.
fn burst(quiet: u32, burst: usize) -> Vec<Mail> {
    let mut v: Vec<Mail> = (0..quiet)
        .map(|h| {
            mail(
                h,
                "promo@deals.example",
                "192.0.2.5",
                vec![ok(&at(900, 900))],
            )
        })
        .collect();
    let tries = (0..burst)
        .map(|i| {
            if i < 6 {
                bounce(&at(i, i % 3), SPAM)
            } else {
                ok(&at(i, 10 + i))
            }
        })
        .collect();
    v.push(mail(quiet, "promo@deals.example", "192.0.2.5", tries));
    v
}

fn jump_met(d: &[Diagnosis]) -> bool {
    evidence(&d[0])
        .iter()
        .any(|e| e.starts_with("Volume jump:"))
}

#[test]
fn volume_jump_needs_factor_and_floor() {
    // 10 quiet hours of 1, then 20: usual 1.0, 20 ≥ 5 × 1 and ≥ 20.
    let d = run(&burst(10, 20), &[], &th());
    only(&d, "promo@deals.example", Verdict::UnsolicitedMail);
    assert!(jump_met(&d), "{d:#?}");
    // 19 is under the floor.
    assert!(!jump_met(&run(&burst(10, 19), &[], &th())));
    // With a factor of 25, 20 is not enough over a usual of 1.
    let t = Thresholds {
        jump_factor: 25.0,
        ..th()
    };
    assert!(!jump_met(&run(&burst(10, 20), &[], &t)));
}

/// Timeouts at `at_one` recipients of one domain and `elsewhere` of other domains.
fn timeouts(at_one: usize, elsewhere: usize) -> Vec<Mail> {
    let mut tries = Vec::new();
    for i in 0..at_one {
        tries.push(defer(&at(i, 1), TIMEOUT));
        tries.push(defer(&at(i, 1), TIMEOUT));
    }
    for i in 0..elsewhere {
        tries.push(defer(&at(50 + i, 50 + i), TIMEOUT));
        tries.push(defer(&at(50 + i, 50 + i), TIMEOUT));
    }
    tries.push(ok(&at(99, 99)));
    vec![mail(9, "office@law.example", "192.0.2.5", tries)]
}

#[test]
fn remote_trouble_needs_concentration() {
    // 4 of 5 = 80%.
    let d = run(&timeouts(4, 1), &[], &th());
    only(&d, "office@law.example", Verdict::RemoteServerTrouble);
    assert!(evidence(&d[0]).iter().any(|e| e.contains("(threshold 80%")));
    // 3 of 4 = 75%.
    assert!(run(&timeouts(3, 1), &[], &th()).is_empty());
}

#[test]
fn recipient_blocking_needs_deliveries_elsewhere() {
    let refusals = |deliveries: usize| {
        let mut tries: Vec<Try> = (0..5).map(|i| bounce(&at(i, 7), DENIED)).collect();
        tries.extend((0..deliveries).map(|i| ok(&at(20 + i, 20 + i))));
        vec![mail(9, "sales@acme.example", "192.0.2.5", tries)]
    };
    only(
        &run(&refusals(2), &[], &th()),
        "sales@acme.example",
        Verdict::RecipientBlocking,
    );
    assert!(run(&refusals(0), &[], &th()).is_empty());
}

#[test]
fn healthy_senders_get_nothing() {
    // Greylisting that clears, and full mailboxes, are no offence.
    let mut tries = Vec::new();
    for i in 0..8 {
        tries.push(defer(&at(i, i), GREY));
        tries.push(ok(&at(i, i)));
    }
    for i in 0..6 {
        tries.push(bounce(&at(30 + i, 30 + i), FULL));
    }
    let m = vec![mail(9, "support@host.example", "192.0.2.5", tries)];
    assert!(run(&m, &[], &th()).is_empty());
}

#[test]
fn rejections_by_our_own_server_are_not_the_destination() {
    let tries = (0..8)
        .map(|i| (at(i, i), OutcomeKind::Rejected, Some(SPAM)))
        .collect();
    let m = vec![mail(9, "user@host.example", "192.0.2.5", tries)];
    assert!(run(&m, &[], &th()).is_empty());
}

#[test]
fn the_account_speaks_for_its_domain() {
    // One account: the domain says nothing more.
    let d = run(&listed_at(3), &[], &th());
    assert_eq!(d.len(), 1);
    // Two accounts, each under the minimum, together over it: the domain is diagnosed.
    let split = |acct: &'static str, from: usize| {
        let tries = (from..from + 3)
            .map(|i| bounce(&at(i, i), LISTED))
            .chain([ok(&at(90 + from, 90 + from))])
            .collect();
        mail(9, acct, "192.0.2.5", tries)
    };
    let d = run(
        &[split("a@firm.example", 0), split("b@firm.example", 3)],
        &[],
        &th(),
    );
    assert_eq!(
        verdicts(&d),
        vec![(
            "firm.example".to_string(),
            SubjectKind::SenderDomain,
            Verdict::SenderBlocklisted
        )]
    );
    // Two accounts each listed on their own: the domain is listed, one verdict for it.
    let mut m = listed_at(3);
    m.extend(listed_at(3).into_iter().map(|mut x| {
        x.account = Some("sales@firm.example");
        x.sender = "sales@firm.example";
        x
    }));
    let d = run(&m, &[], &th());
    assert_eq!(
        verdicts(&d),
        vec![(
            "firm.example".to_string(),
            SubjectKind::SenderDomain,
            Verdict::SenderBlocklisted
        )],
        "{d:#?}"
    );
}

#[test]
fn inbound_senders_are_not_diagnosed() {
    let mut m = list_mailing(12, 0, 0);
    m[0].account = None;
    // Not ours: no account, not local, not loopback.
    assert!(run(&m, &[], &th()).is_empty());
    m[0].ip = "127.0.0.1".into();
    let d = run(&m, &[], &th());
    assert_eq!(
        verdicts(&d),
        vec![(
            "shop.example".to_string(),
            SubjectKind::SenderDomain,
            Verdict::StaleList
        )]
    );
}

#[test]
fn replies_are_unwrapped_and_listed_ips_found() {
    assert_eq!(
        short_reply("SMTP error from remote mail server after RCPT TO:<a@b.example>: 550 5.1.1 no"),
        "550 5.1.1 no"
    );
    assert_eq!(
        short_reply(
            "host mx.b.example[198.51.100.1] said: 554 5.7.1 go away (in reply to RCPT TO command)"
        ),
        "554 5.7.1 go away"
    );
    assert_eq!(ip_in(LISTED).as_deref(), Some("192.0.2.10"));
    assert_eq!(ip_in("550 5.7.1 no"), None);
    assert_eq!(ip_in("version 1.2.3.4.5"), None);
}

#[test]
fn thresholds_defaults_are_documented_values() {
    let t = Thresholds::default();
    assert_eq!(
        (
            t.min_failures,
            t.jump_factor,
            t.jump_floor,
            t.many_ips,
            t.auth_failures,
            t.many_domains,
            t.several_domains,
            t.share,
            t.concentration
        ),
        (5, 5.0, 20, 5, 5, 10, 3, 60, 80)
    );
}

// Structured indicators: figures and thresholds, no words.

/// The first indicator of `d` whose sign `pick` accepts.
fn sign<T>(d: &Diagnosis, pick: impl Fn(&Sign) -> Option<T>) -> (bool, T) {
    d.indicators
        .iter()
        .find_map(|i| pick(&i.sign).map(|x| (i.met, x)))
        .unwrap_or_else(|| panic!("no such indicator in {d:#?}"))
}

#[test]
fn stale_list_indicators_carry_figures_and_thresholds() {
    let d = run(&list_mailing(10, 0, 10), &[], &th());
    let d = &d[0];
    assert_eq!(
        (
            d.failures.lines,
            d.failures.recipients,
            d.failures.min_failures
        ),
        (10, 10, 5)
    );
    assert_eq!(d.failures.causes, vec![(Cause::UserUnknown, 10)]);
    assert_eq!(
        d.indicators[0],
        Indicator {
            met: true,
            sign: Sign::MainShare {
                group: GroupKind::Dead,
                part: 10,
                whole: 10,
                threshold: 60
            }
        }
    );
    let (met, (domains, threshold)) = sign(d, |s| match s {
        Sign::DeadSpread {
            by_domain,
            threshold,
        } => Some((by_domain.len(), *threshold)),
        _ => None,
    });
    assert!(met);
    assert_eq!((domains, threshold), (10, 10));
    let (met, logins) = sign(d, |s| match s {
        Sign::NormalLogins {
            ips,
            failed_logins,
            ips_threshold,
            logins_threshold,
        } => Some((*ips, *failed_logins, *ips_threshold, *logins_threshold)),
        _ => None,
    });
    assert!(met);
    assert_eq!(logins, (1, 0, 5, 5));
    assert!(d.notes.contains(&Note::HardBounces {
        dead: 10,
        tried: 20
    }));
    assert_eq!(d.remedy, Remedy::StaleList { dead: 10 });
    assert_eq!(d.met(), 3);
}

#[test]
fn compromise_indicators_name_the_ips_and_the_missing_baseline() {
    let d = run(&spam_run(5), &[], &th());
    let d = &d[0];
    let (met, (ips, threshold)) = sign(d, |s| match s {
        Sign::ClientIps { ips, threshold, .. } => Some((ips.len(), *threshold)),
        _ => None,
    });
    assert!(met);
    assert_eq!((ips, threshold), (5, 5));
    let (met, (usual, floor)) = sign(d, |s| match s {
        Sign::VolumeJump { usual, floor, .. } => Some((*usual, *floor)),
        _ => None,
    });
    assert!(!met);
    assert_eq!((usual, floor), (None, 20));
    let (met, spam) = sign(d, |s| match s {
        Sign::SpamRefusals {
            by_domain,
            threshold,
        } => Some((by_domain.len(), *threshold)),
        _ => None,
    });
    assert!(met);
    assert_eq!(spam, (4, 3));
    assert_eq!(d.met(), 3);
    assert_eq!(d.sender.address.as_deref(), Some("info@example.org"));
    assert_eq!(d.remedy, Remedy::CompromisedAccount { script: None });
}

#[test]
fn volume_jump_measures_peak_against_usual() {
    let d = run(&burst(10, 20), &[], &th());
    let (met, jump) = sign(&d[0], |s| match s {
        Sign::VolumeJump {
            peak,
            usual,
            other_hours,
            factor,
            floor,
        } => Some((peak.map(|p| p.1), *usual, *other_hours, *factor, *floor)),
        _ => None,
    });
    assert!(met);
    assert_eq!(jump, (Some(20), Some(1.0), 10, 5.0, 20));
}

#[test]
fn blocklist_and_remote_trouble_facts() {
    let d = run(&listed_at(3), &[], &th());
    assert_eq!(
        d[0].remedy,
        Remedy::SenderBlocklisted {
            lists: vec!["zen.spamhaus.org".into()],
            ip: Some("192.0.2.10".into())
        }
    );
    assert!(d[0].notes.contains(&Note::OthersListed { senders: 0 }));
    assert!(matches!(d[0].notes.last(), Some(Note::Examples(e)) if e.len() == 1));

    let d = run(&timeouts(4, 1), &[], &th());
    let (met, dest) = sign(&d[0], |s| match s {
        Sign::OneDestination {
            domain,
            by_host,
            at_it,
            recipients,
            threshold,
            ..
        } => Some((domain.clone(), *by_host, *at_it, *recipients, *threshold)),
        _ => None,
    });
    assert!(met);
    assert_eq!(dest, ("d1.example".to_string(), false, 4, 5, 80));
    assert!(d[0].notes.contains(&Note::RetryLines {
        lines: 10,
        recipients: 5,
        expired: 0
    }));
}

/// Refusals naming our own IP (the server's listing) for `senders` other sender domains at
/// 3 destinations each.
fn server_listed(senders: usize) -> Vec<Mail> {
    const SENDERS: [&str; 3] = ["a@one.example", "b@two.example", "c@three.example"];
    SENDERS[..senders]
        .iter()
        .enumerate()
        .map(|(s, acct)| {
            let tries = (0..3)
                .map(|i| bounce(&at(40 + 3 * s + i, 40 + i), LISTED))
                .chain([ok(&at(80 + s, 80 + s))])
                .collect();
            mail(9, acct, "192.0.2.5", tries)
        })
        .collect()
}

/// `messages` messages of `acct` refused by d7.example's policy, to the same 2 recipients,
/// and one delivery elsewhere each.
fn refused_by_one(acct: &'static str, messages: usize) -> Vec<Mail> {
    (0..messages)
        .map(|n| {
            mail(
                10,
                acct,
                "192.0.2.5",
                vec![bounce(&at(n % 2, 7), DENIED), ok(&at(300 + n, 300 + n))],
            )
        })
        .collect()
}

#[test]
fn recipient_blocking_is_judged_without_the_servers_listing() {
    // sales@acme.example: 8 refusals by d7.example (2 recipients), and its share of the
    // server's listing (3 recipients at 3 destinations) as the other senders have.
    let mut m = refused_by_one("sales@acme.example", 8);
    m.push(mail(
        9,
        "sales@acme.example",
        "192.0.2.5",
        (0..3)
            .map(|i| bounce(&at(60 + i, 60 + i), LISTED))
            .collect(),
    ));
    // Alone, the listing is its own (no server finding: one sender); by recipients the
    // refusals are split 2 to 3, so no organisation is to blame.
    let d = run(&m, &[], &th());
    assert_eq!(verdicts(&d)[0].2, Verdict::SenderBlocklisted, "{d:#?}");
    // With two more senders refused for the server's IP, the listing is the server's
    // finding: left out, the 8 refused deliveries at d7.example are its problem.
    m.extend(server_listed(2));
    let d = run(&m, &[], &th());
    let acme: Vec<&Diagnosis> = d
        .iter()
        .filter(|x| x.subject == "sales@acme.example")
        .collect();
    assert_eq!(acme.len(), 1, "{d:#?}");
    assert_eq!(acme[0].verdict, Verdict::RecipientBlocking);
    assert_eq!(acme[0].failures.explained, 3);
    let ev = evidence(acme[0]);
    assert!(
        ev[0].contains("3 more failing recipients left out"),
        "{ev:?}"
    );
    assert!(
        ev.iter()
            .any(|e| e.starts_with("8 of its 8 failed deliveries (100%) were refused there")),
        "{ev:?}"
    );
    // The other senders' only failures are the server's: no verdict of their own.
    assert!(
        d.iter().all(|x| x.subject == "sales@acme.example"),
        "{d:#?}"
    );
}

#[test]
fn recipient_blocking_needs_the_others_accepted_there() {
    // d7.example refuses two of our senders alike: it refuses the server, not one sender.
    let mut m = refused_by_one("sales@acme.example", 6);
    m.extend(refused_by_one("info@other.example", 6));
    assert!(
        run(&m, &[], &th())
            .iter()
            .all(|x| x.verdict != Verdict::RecipientBlocking),
    );
    // While the others' mail there is delivered, it is this sender's block.
    let mut m = refused_by_one("sales@acme.example", 6);
    m.push(mail(
        10,
        "info@other.example",
        "192.0.2.5",
        (10..14).map(|i| ok(&at(i, 7))).collect(),
    ));
    only(
        &run(&m, &[], &th()),
        "sales@acme.example",
        Verdict::RecipientBlocking,
    );
}

/// `accounts` accounts of 200 recipients each, 2 of them (1%) refused as spam, and one
/// more with `spam` spam refusals and 2 dead addresses among its 200.
fn spam_population(accounts: usize, spam: usize) -> Vec<Mail> {
    const NAMES: [&str; 12] = [
        "a@p.example",
        "b@p.example",
        "c@p.example",
        "d@p.example",
        "e@p.example",
        "f@p.example",
        "g@p.example",
        "h@p.example",
        "i@p.example",
        "j@p.example",
        "k@p.example",
        "l@p.example",
    ];
    let mut v: Vec<Mail> = NAMES[..accounts]
        .iter()
        .enumerate()
        .map(|(n, acct)| {
            let tries = (0..200)
                .map(|i| {
                    if i < 2 {
                        bounce(&at(1000 * n + i, 2 * n + i), SPAM)
                    } else {
                        ok(&at(1000 * n + i, i % 40))
                    }
                })
                .collect();
            mail(9, acct, "192.0.2.5", tries)
        })
        .collect();
    let tries = (0..200)
        .map(|i| {
            let r = at(50_000 + i, i % 40);
            if i < spam {
                bounce(&r, SPAM)
            } else if i < spam + 2 {
                bounce(&at(60_000 + i, 100 + i), UNKNOWN)
            } else {
                ok(&r)
            }
        })
        .collect();
    v.push(mail(9, "promo@deals.example", "192.0.2.7", tries));
    v
}

#[test]
fn unsolicited_mail_stands_out_from_the_other_accounts() {
    // 5 spam refusals in 200 (2.5%, the main share of its failures) where the others have
    // 1%: the odd reputation refusal of a busy sender, not an outlier (5 or more at a mean
    // of 2 is 1 in 19).
    let d = run(&spam_population(12, 5), &[], &th());
    assert!(
        d.iter().all(|x| x.verdict != Verdict::UnsolicitedMail),
        "{d:#?}"
    );
    // 20 in 200 (10%): 1 in millions at the others' rate.
    let d = run(&spam_population(12, 20), &[], &th());
    only(&d, "promo@deals.example", Verdict::UnsolicitedMail);
    let ev = evidence(&d[0]);
    assert!(
        ev.iter().any(|e| e.starts_with(
            "Refused as spam far more often than the other accounts: 20 of 200 recipients tried (10.0%)"
        )),
        "{ev:?}"
    );
}

#[test]
fn refusals_at_one_organisation_are_its_block_not_unsolicited_mail() {
    // The same 20 refusals of 200, but 18 of them at d7.example and one each at two more
    // destinations: one organisation refuses the sender.
    let mut m = spam_population(12, 20);
    let promo = m.last_mut().unwrap();
    for (n, t) in promo
        .tries
        .iter_mut()
        .filter(|t| t.2 == Some(SPAM))
        .enumerate()
    {
        let d = match n {
            0 => 8,
            1 => 9,
            _ => 7,
        };
        t.0 = at(70_000 + n, d);
    }
    only(
        &run(&m, &[], &th()),
        "promo@deals.example",
        Verdict::RecipientBlocking,
    );
    // Still not unsolicited mail when the block is not recipient_blocking either (one
    // refusal there names a block list).
    m.last_mut()
        .unwrap()
        .tries
        .push(bounce(&at(79_999, 7), LISTED));
    let d = run(&m, &[], &th());
    assert!(
        d.iter().all(|x| x.verdict != Verdict::UnsolicitedMail),
        "{d:#?}"
    );
}

#[test]
fn poisson_tail_probabilities() {
    let close = |a: f64, b: f64| (a - b).abs() < 1e-4 * b.max(1e-300);
    assert_eq!(poisson_tail(0, 3.0), 1.0);
    // P(X ≥ 3 | 0.5) = 1 − e^−0.5 (1 + 0.5 + 0.125).
    assert!(close(poisson_tail(3, 0.5), 1.0 - (-0.5f64).exp() * 1.625));
    // P(X ≥ 10 | 2) = 4.649e-5.
    assert!(
        close(poisson_tail(10, 2.0), 4.6498e-5),
        "{}",
        poisson_tail(10, 2.0)
    );
    assert!(poisson_tail(170, 23.0) < 1e-60);
    // At or below the mean, not in the upper tail.
    assert_eq!(poisson_tail(2, 5.0), 1.0);
}
