//! The synthetic log generator: determinism, and a truth that matches its own output when the
//! output is counted independently, line by line.

use std::collections::{BTreeMap, HashMap, HashSet};

use mailtrace_synth::{Counts, Mta, SynthConfig, Truth, generate};

/// Starts at 09:55, a busy time of day, so that a few megabytes cross a clock hour.
fn config(mta: Mta, cpanel: bool, bytes: u64, seed: u64) -> SynthConfig {
    let mut c = SynthConfig::new(mta);
    c.start = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
        .and_then(|d| d.and_hms_opt(9, 55, 0))
        .unwrap();
    c.cpanel = cpanel;
    c.target_bytes = Some(bytes);
    c.seed = seed;
    c
}

fn run(cfg: &SynthConfig) -> (String, Truth) {
    let mut out = Vec::new();
    let truth = generate(cfg, &mut out).expect("writing to a Vec cannot fail");
    (
        String::from_utf8(out).expect("the generator writes UTF-8"),
        truth,
    )
}

/// What one line is, by the counting rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Delivered,
    Deferred,
    Bounced,
    Rejected,
    Expired,
    Arrival,
}

/// A counted line: its kind, clock hour, message id (if any) and the rest of the text after
/// the flag or status.
struct Counted<'a> {
    kind: Kind,
    hour: String,
    id: Option<&'a str>,
    text: &'a str,
}

fn add(c: &mut Counts, k: Kind) {
    match k {
        Kind::Delivered => c.delivered += 1,
        Kind::Deferred => c.deferred += 1,
        Kind::Bounced => c.bounced += 1,
        Kind::Rejected => c.rejected += 1,
        Kind::Expired => c.expired += 1,
        Kind::Arrival => {}
    }
}

/// Splits an Exim line into (hour, optional id, rest).
fn exim_parts(line: &str) -> (String, Option<&str>, &str) {
    assert!(
        line.len() > 20 && &line[19..20] == " ",
        "bad Exim line: {line}"
    );
    let hour = format!("{}T{}", &line[..10], &line[11..13]);
    let rest = &line[20..];
    let b = rest.as_bytes();
    let new_id = b.len() > 24 && b[6] == b'-' && b[18] == b'-' && b[23] == b' ';
    let old_id = b.len() > 17 && b[6] == b'-' && b[13] == b'-' && b[16] == b' ';
    if new_id {
        (hour, Some(&rest[..23]), &rest[24..])
    } else if old_id {
        (hour, Some(&rest[..16]), &rest[17..])
    } else {
        (hour, None, rest)
    }
}

fn count_exim(log: &str) -> Vec<Counted<'_>> {
    let mut v = Vec::new();
    for line in log.lines() {
        let (hour, id, rest) = exim_parts(line);
        let kind = match (id, rest.get(..3)) {
            (Some(_), Some("<= ")) => Kind::Arrival,
            (Some(_), Some("=> " | "-> ")) => Kind::Delivered,
            (Some(_), Some("== ")) => Kind::Deferred,
            (Some(_), Some("** ")) => Kind::Bounced,
            (None, _) if rest.starts_with("H=") && rest.contains(" rejected RCPT <") => {
                Kind::Rejected
            }
            _ => continue,
        };
        let text = if kind == Kind::Rejected {
            rest
        } else {
            &rest[3..]
        };
        v.push(Counted {
            kind,
            hour,
            id,
            text,
        });
    }
    v
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn count_postfix(log: &str, year: i32) -> Vec<Counted<'_>> {
    let mut v = Vec::new();
    for line in log.lines() {
        let mon = MONTHS.iter().position(|m| *m == &line[..3]).expect("month") + 1;
        let day: u32 = line[4..6].trim().parse().expect("day");
        let hour = format!("{year}-{mon:02}-{day:02}T{}", &line[7..9]);
        let msg = line.split_once("]: ").expect("tag").1;
        let (id, body) = match msg.split_once(": ") {
            Some((id, body)) if id.bytes().all(|c| c.is_ascii_hexdigit()) => (Some(id), body),
            _ => (None, msg),
        };
        let kind = if let (Some(_), true) = (id, body.starts_with("to=<")) {
            let st = body.split(", status=").nth(1).expect("status");
            match st.split([' ', ',']).next() {
                Some("sent") => Kind::Delivered,
                Some("deferred") => Kind::Deferred,
                Some("bounced") => Kind::Bounced,
                other => panic!("unexpected status {other:?} in {line}"),
            }
        } else if id.is_some() && body.ends_with("(queue active)") {
            Kind::Arrival
        } else if id.is_some() && body.ends_with(", status=expired, returned to sender") {
            Kind::Expired
        } else if body.starts_with("NOQUEUE: reject: RCPT from ") {
            Kind::Rejected
        } else {
            continue;
        };
        v.push(Counted {
            kind,
            hour,
            id,
            text: body,
        });
    }
    v
}

fn totals(lines: &[Counted]) -> (Counts, BTreeMap<String, Counts>, u64) {
    let mut t = Counts::default();
    let mut by_hour: BTreeMap<String, Counts> = BTreeMap::new();
    let mut arrivals = 0;
    for c in lines {
        if c.kind == Kind::Arrival {
            arrivals += 1;
            continue;
        }
        add(&mut t, c.kind);
        add(by_hour.entry(c.hour.clone()).or_default(), c.kind);
    }
    (t, by_hour, arrivals)
}

fn sum<'a>(it: impl Iterator<Item = &'a Counts>) -> Counts {
    let mut s = Counts::default();
    for c in it {
        s.delivered += c.delivered;
        s.deferred += c.deferred;
        s.bounced += c.bounced;
        s.rejected += c.rejected;
        s.expired += c.expired;
    }
    s
}

fn check_truth_against_log(log: &str, truth: &Truth, counted: &[Counted]) {
    assert_eq!(truth.bytes, log.len() as u64, "bytes");
    assert_eq!(truth.lines, log.lines().count() as u64, "lines");
    assert!(log.ends_with('\n'));
    let (t, by_hour, arrivals) = totals(counted);
    assert_eq!(truth.totals, t, "totals");
    assert_eq!(truth.by_hour, by_hour, "by hour");
    assert_eq!(truth.arrival_lines, arrivals, "arrival lines");
    assert_eq!(
        sum(truth.by_sender_domain_hour.values()),
        t,
        "domain-hour sums"
    );
    for (hour, c) in &truth.by_hour {
        let per_domain = sum(truth
            .by_sender_domain_hour
            .iter()
            .filter(|((_, h), _)| h == hour)
            .map(|(_, c)| c));
        assert_eq!(&per_domain, c, "domains of hour {hour}");
    }
}

/// Sender domain of each message id, from the arrival lines (`<=` / qmgr `from=`).
fn senders<'a>(counted: &[Counted<'a>], mta: Mta) -> HashMap<&'a str, String> {
    let mut m = HashMap::new();
    for c in counted.iter().filter(|c| c.kind == Kind::Arrival) {
        let addr = match mta {
            Mta::Exim => c.text.split(' ').next().unwrap_or(""),
            Mta::Postfix => c.text["from=<".len()..].split('>').next().unwrap_or(""),
        };
        let dom = match addr.rsplit_once('@') {
            Some((_, d)) => d.to_string(),
            None => "<>".to_string(),
        };
        m.insert(c.id.expect("arrivals have ids"), dom);
    }
    m
}

/// Recounts per (sender domain, hour) from the log, for messages whose arrival is logged, and
/// checks that the truth agrees for those and has at most the remainder for the others.
fn check_domains(truth: &Truth, counted: &[Counted], mta: Mta) {
    let senders = senders(counted, mta);
    let mut known: BTreeMap<(String, String), Counts> = BTreeMap::new();
    let mut unknown = Counts::default();
    for c in counted {
        if c.kind == Kind::Arrival {
            continue;
        }
        let dom = if c.kind == Kind::Rejected {
            let f = match mta {
                Mta::Exim => c.text.split(" F=<").nth(1),
                Mta::Postfix => c.text.split("from=<").nth(1),
            };
            let addr = f.and_then(|s| s.split('>').next()).unwrap_or("");
            Some(
                addr.rsplit_once('@')
                    .map_or("<>".to_string(), |(_, d)| d.to_string()),
            )
        } else {
            c.id.and_then(|id| senders.get(id).cloned())
        };
        match dom {
            Some(d) => add(known.entry((d, c.hour.clone())).or_default(), c.kind),
            None => add(&mut unknown, c.kind),
        }
    }
    let mut rest = Counts::default();
    for (k, t) in &truth.by_sender_domain_hour {
        let l = known.get(k).copied().unwrap_or_default();
        assert!(
            l.delivered <= t.delivered
                && l.deferred <= t.deferred
                && l.bounced <= t.bounced
                && l.rejected == t.rejected
                && l.expired <= t.expired,
            "{k:?}: log {l:?} truth {t:?}"
        );
        rest.delivered += t.delivered - l.delivered;
        rest.deferred += t.deferred - l.deferred;
        rest.bounced += t.bounced - l.bounced;
        rest.expired += t.expired - l.expired;
    }
    for k in known.keys() {
        assert!(
            truth.by_sender_domain_hour.contains_key(k),
            "{k:?} missing from truth"
        );
    }
    assert_eq!(
        rest, unknown,
        "lines of messages that arrived before the log"
    );
}

#[test]
fn generator_is_deterministic_for_a_seed() {
    for (mta, cpanel) in [(Mta::Exim, true), (Mta::Postfix, false)] {
        let cfg = config(mta, cpanel, 400_000, 7);
        let (a, ta) = run(&cfg);
        let (b, tb) = run(&cfg);
        assert_eq!(a, b, "{mta:?}: same seed, same bytes");
        assert_eq!(
            serde_json::to_string(&ta).unwrap(),
            serde_json::to_string(&tb).unwrap()
        );
        let (c, _) = run(&config(mta, cpanel, 400_000, 8));
        assert_ne!(a, c, "{mta:?}: another seed, another log");
    }
}

#[test]
fn exim_cpanel_truth_matches_its_own_lines() {
    let cfg = config(Mta::Exim, true, 3_000_000, 1);
    let (log, truth) = run(&cfg);
    let counted = count_exim(&log);
    check_truth_against_log(&log, &truth, &counted);
    check_domains(&truth, &counted, Mta::Exim);
    assert_eq!(truth.messages, truth.arrival_lines);
    let t = truth.totals;
    assert!(
        t.delivered > 1000 && t.deferred > 20 && t.bounced > 50 && t.rejected > 100,
        "{t:?}"
    );
    assert!(truth.by_hour.len() >= 2, "spans several clock hours");
}

#[test]
fn exim_plain_truth_matches_its_own_lines() {
    let cfg = config(Mta::Exim, false, 2_000_000, 2);
    let (log, truth) = run(&cfg);
    assert!(!log.contains("enforce_mail_permissions") && !log.contains("Sender identification"));
    assert!(
        log.contains(" : SMTP error from remote mail server"),
        "4.99 separator"
    );
    let counted = count_exim(&log);
    check_truth_against_log(&log, &truth, &counted);
    check_domains(&truth, &counted, Mta::Exim);
    assert!(truth.trips.is_empty());
}

#[test]
fn postfix_truth_matches_its_own_lines() {
    let cfg = config(Mta::Postfix, false, 8_000_000, 3);
    let (log, truth) = run(&cfg);
    let counted = count_postfix(&log, 2026);
    check_truth_against_log(&log, &truth, &counted);
    check_domains(&truth, &counted, Mta::Postfix);
    for needle in [
        "sender non-delivery notification: ",
        "relay=127.0.0.1[127.0.0.1]:10024",
        "orig_queue_id=",
        "postfix/postscreen",
        "delivery temporarily suspended",
        "status=expired, returned to sender",
        "nrcpt=3 (queue active)",
    ] {
        assert!(log.contains(needle), "no {needle:?} in the log");
    }
    assert!(truth.totals.expired > 0);
    assert!(truth.messages > 0 && truth.arrival_lines > truth.messages);
}

#[test]
fn message_count_mode_finishes_every_message() {
    let mut cfg = SynthConfig::new(Mta::Exim);
    cfg.messages = 150;
    cfg.cpanel = true;
    let (log, truth) = run(&cfg);
    let counted = count_exim(&log);
    check_truth_against_log(&log, &truth, &counted);
    // Every message that arrived in the log also completed in it.
    let arrived: HashSet<&str> = counted
        .iter()
        .filter(|c| c.kind == Kind::Arrival)
        .filter_map(|c| c.id)
        .collect();
    let completed: HashSet<&str> = log
        .lines()
        .filter_map(|l| match exim_parts(l) {
            (_, Some(id), "Completed") => Some(id),
            _ => None,
        })
        .collect();
    assert!(arrived.is_subset(&completed));
    // The others were queued before the log started (old 16-character ids).
    assert!(completed.difference(&arrived).all(|id| id.len() == 16));
    assert!(truth.messages >= 150);
}

#[test]
fn lines_are_in_time_order() {
    let (log, _) = run(&config(Mta::Exim, true, 1_000_000, 4));
    let mut last = "";
    for line in log.lines() {
        let ts = &line[..19];
        assert!(ts >= last, "{ts} after {last}");
        last = ts;
    }
}

/// Replays the cPanel rule from the log alone and compares with the truth's trips.
#[test]
fn cpanel_trips_follow_the_rule_and_discards_are_counted() {
    for seed in [1, 5] {
        let cfg = config(Mta::Exim, true, 3_000_000, seed);
        let (log, truth) = run(&cfg);
        assert!(!truth.trips.is_empty(), "seed {seed}: at least one trip");
        let discards = log.matches("R=enforce_mail_permissions").count() as u64;
        assert_eq!(
            discards,
            truth.trips.iter().map(|t| t.discarded).sum::<u64>()
        );
        assert!(discards > 0);

        let local: HashSet<&str> = truth.local_domains.iter().map(String::as_str).collect();
        // Charged domain per message id: `<=` sender, or cPanel `Sender identification D=`.
        let mut charged: HashMap<&str, &str> = HashMap::new();
        #[derive(Default)]
        struct St {
            ok: u64,
            df: u64,
            trip: Option<(u64, u64)>,
        }
        let mut state: HashMap<(&str, String), St> = HashMap::new();
        let mut replayed = Vec::new();
        for line in log.lines() {
            let (hour, id, rest) = exim_parts(line);
            let Some(id) = id else { continue };
            if let Some(s) = rest.strip_prefix("<= ") {
                let sender = s.split(' ').next().unwrap_or("");
                if let Some((_, d)) = sender.rsplit_once('@') {
                    charged.insert(id, d);
                }
                continue;
            }
            if let Some(s) = rest.strip_prefix("Sender identification ") {
                let d = s
                    .split(" D=")
                    .nth(1)
                    .and_then(|x| x.split(' ').next())
                    .unwrap();
                charged.insert(id, d);
                continue;
            }
            let flag = &rest[..rest.len().min(3)];
            if !matches!(flag, "=> " | "-> " | "== " | "** ") {
                continue;
            }
            let Some(&dom) = charged.get(id) else {
                continue;
            };
            if !local.contains(dom) {
                continue;
            }
            let rcpt = rest[3..].split(' ').next().unwrap();
            let remote = !local.contains(rcpt.rsplit_once('@').map_or("", |(_, d)| d));
            let st = state.entry((dom, hour.clone())).or_default();
            let discard = rest.contains(" R=enforce_mail_permissions: ");
            if let Some((n, p)) = st.trip {
                if remote {
                    assert!(discard, "after the trip of {dom} in {hour}: {line}");
                    let want =
                        format!("exceeded the max defers and failures per hour ({n}/5 ({p}%))");
                    assert!(rest.contains(&want), "{line} should say {want}");
                } else {
                    assert!(!discard);
                }
            } else {
                assert!(!discard, "discard before any trip: {line}");
            }
            match flag {
                "=> " | "-> " => st.ok += 1,
                _ => st.df += 1,
            }
            if st.trip.is_none()
                && flag != "=> "
                && flag != "-> "
                && st.df >= 5
                && st.df * 100 >= 100 * (st.ok + st.df)
            {
                let p = 100 * st.df / (st.ok + st.df);
                st.trip = Some((st.df, p));
                replayed.push((
                    dom.to_string(),
                    hour.clone(),
                    st.df,
                    p,
                    line[..19].replace(' ', "T"),
                ));
            }
        }
        let from_truth: Vec<_> = truth
            .trips
            .iter()
            .map(|t| {
                (
                    t.domain.clone(),
                    t.hour.clone(),
                    t.count,
                    t.percent,
                    t.condition_at.clone(),
                )
            })
            .collect();
        assert_eq!(replayed, from_truth, "seed {seed}");
        // No hosted domain-hour ends over the limit without having tripped.
        let tripped: HashSet<(&str, &str)> = truth
            .trips
            .iter()
            .map(|t| (t.domain.as_str(), t.hour.as_str()))
            .collect();
        for ((d, h), c) in &truth.by_sender_domain_hour {
            let df = c.deferred + c.bounced;
            if local.contains(d.as_str()) && df >= 5 && df * 100 >= 100 * (df + c.delivered) {
                assert!(tripped.contains(&(d.as_str(), h.as_str())), "{d} {h} {c:?}");
            }
        }
    }
}

#[test]
fn lower_limit_percent_trips_more_often() {
    let mut strict = config(Mta::Exim, true, 1_500_000, 9);
    strict.limit_percent = 100;
    let mut loose = strict.clone();
    loose.limit_percent = 20;
    let (_, a) = run(&strict);
    let (log, b) = run(&loose);
    assert!(b.trips.len() >= a.trips.len());
    for t in &b.trips {
        assert!(t.percent >= 20 && t.count >= 5, "{t:?}");
        let want = format!("({}/5 ({}%))", t.count, t.percent);
        assert!(log.matches(&want).count() as u64 >= t.discarded, "{want}");
    }
}

#[test]
fn cpanel_trips_even_in_a_tiny_log() {
    let mut cfg = SynthConfig::new(Mta::Exim);
    cfg.cpanel = true;
    cfg.messages = 3;
    let (log, truth) = run(&cfg);
    assert_eq!(truth.trips.len(), 1, "{:?}", truth.trips);
    let t = &truth.trips[0];
    assert_eq!((t.count, t.percent), (5, 100));
    assert!(t.discarded >= 1 && t.tripped_at.is_some());
    assert_eq!(
        log.matches("R=enforce_mail_permissions").count() as u64,
        t.discarded
    );
}

#[test]
fn truth_serialises_domains_as_nested_maps() {
    let mut cfg = SynthConfig::new(Mta::Postfix);
    cfg.messages = 30;
    let (_, truth) = run(&cfg);
    let v: serde_json::Value = serde_json::to_value(&truth).unwrap();
    let by_dom = v["by_sender_domain_hour"].as_object().unwrap();
    assert!(!by_dom.is_empty());
    for (dom, hours) in by_dom {
        for (hour, c) in hours.as_object().unwrap() {
            let key = (dom.clone(), hour.clone());
            let want = truth.by_sender_domain_hour[&key];
            assert_eq!(c["delivered"].as_u64(), Some(want.delivered));
            assert_eq!(hour.len(), "2026-11-26T00".len());
        }
    }
    assert_eq!(
        v["totals"]["delivered"].as_u64(),
        Some(truth.totals.delivered)
    );
}
