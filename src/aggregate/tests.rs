//! Unit tests of the aggregation: the replayed rule, hour keys, the filter, the
//! address-blind classification key, block list names.

use super::*;
use crate::classify::Classifier;
use crate::model::event::Mta;

fn ts(s: &str) -> Timestamp {
    Timestamp::new(
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap(),
        None,
    )
}

fn out<'a>(
    t: &str,
    kind: OutcomeKind,
    sender: &'a str,
    rcpt: &'a str,
    qid: &'a str,
) -> Outcome<'a> {
    Outcome {
        kind,
        time: ts(t),
        mta: Mta::Exim,
        queue_id: Some(qid),
        sender: Some(sender),
        account: Some(sender),
        charged_domain: None,
        client_ip: None,
        script: None,
        recipient: Some(rcpt),
        original_recipient: None,
        host: None,
        ip: None,
        code: Some(550),
        status: Some("5.1.1"),
        text: Some("550 5.1.1 user unknown"),
        router: None,
        limit: None,
        retry_not_due: false,
        is_bounce: false,
    }
}

#[test]
fn counts_percent_follows_cpanel() {
    let c = Counts {
        delivered: 7,
        deferred: 4,
        bounced: 5,
        rejected: 3,
        expired: 0,
    };
    assert_eq!(c.defer_fail(), 9);
    assert!((c.defer_fail_percent() - 56.25).abs() < 1e-9);
    assert_eq!(Counts::default().defer_fail_percent(), 0.0);
}

#[test]
fn hour_keys_are_clock_hours() {
    let h = Hour::of(&ts("2026-11-26 10:59:59"));
    assert_eq!(h.key(), "2026-11-26T10");
    assert_eq!(Hour::of(&ts("2026-11-26 11:00:00")).0, h.0 + 1);
}

#[test]
fn replay_trips_at_the_fifth_failure_with_no_deliveries() {
    let cl = Classifier::builtin();
    let mut a = Aggregates::new(
        LimitRule {
            min: 5,
            percent: Some(100),
        },
        Filter::default(),
        CachedClassifier::new(&cl),
    );
    let ids = ["q1", "q2", "q3", "q4", "q5", "q6"];
    for (i, q) in ids.iter().enumerate() {
        let t = format!("2026-11-26 10:0{i}:00");
        a.outcome(&out(
            &t,
            OutcomeKind::Bounced,
            "info@shop.example",
            "x@gmail.com",
            q,
        ));
    }
    let dh = &a.replay["shop.example"][0].1;
    let trip = dh.trips[0].unwrap();
    assert_eq!(trip.at, ts("2026-11-26 10:04:00"));
    assert_eq!(trip.defer_fail, 5);
    assert_eq!(dh.trips[1].unwrap().at, trip.at);
    assert_eq!(dh.after_trip.len(), 1); // q6 came after the trip
    assert_eq!(a.totals.bounced, 6);
    assert_eq!(a.failing["x@gmail.com"].len(), 1);
    assert_eq!(a.failing["x@gmail.com"][0].attempts(), 6);
}

#[test]
fn replay_at_lower_percent_waits_for_the_ratio() {
    let cl = Classifier::builtin();
    let mut a = Aggregates::new(
        LimitRule {
            min: 5,
            percent: None,
        },
        Filter::default(),
        CachedClassifier::new(&cl),
    );
    // 10 deliveries then failures: at 5 failures the rate is 5/15 = 33%.
    for i in 0..10 {
        a.outcome(&out(
            &format!("2026-11-26 10:00:{i:02}"),
            OutcomeKind::Delivered,
            "a@d.example",
            "r@x.example",
            "q",
        ));
    }
    for i in 0..10 {
        a.outcome(&out(
            &format!("2026-11-26 10:01:{i:02}"),
            OutcomeKind::Bounced,
            "a@d.example",
            "r@x.example",
            "q",
        ));
    }
    let dh = &a.replay["d.example"][0].1;
    assert!(dh.trips[0].is_none(), "off means no configured trip");
    assert!(dh.trips[1].is_none(), "never reaches 100%");
    assert_eq!(dh.trips[2].unwrap().defer_fail, 10); // 10/20 = 50%
    assert_eq!(dh.trips[3].unwrap().defer_fail, 5); // 5/15 = 33% >= 25%
    assert!(dh.after_trip.is_empty(), "no 100% trip, nothing discarded");
}

#[test]
fn messages_after_a_100_percent_replay_trip_count_as_discarded_when_off() {
    let cl = Classifier::builtin();
    let mut a = Aggregates::new(
        LimitRule {
            min: 5,
            percent: None,
        },
        Filter::default(),
        CachedClassifier::new(&cl),
    );
    for (i, q) in ["q1", "q2", "q3", "q4", "q5", "q6", "q7", "q7"]
        .iter()
        .enumerate()
    {
        let t = format!("2026-11-26 10:0{i}:00");
        a.outcome(&out(
            &t,
            OutcomeKind::Bounced,
            "a@d.example",
            "r@x.example",
            q,
        ));
    }
    let dh = &a.replay["d.example"][0].1;
    assert_eq!(dh.after_trip.len(), 2); // q6 and q7
}

#[test]
fn filter_by_time_and_domain() {
    let cl = Classifier::builtin();
    let f = Filter {
        since: Some(ts("2026-11-26 10:30:00").local),
        domain: Some("shop.example".into()),
        ..Filter::default()
    };
    let mut a = Aggregates::new(
        LimitRule {
            min: 5,
            percent: None,
        },
        f,
        CachedClassifier::new(&cl),
    );
    a.outcome(&out(
        "2026-11-26 10:00:00",
        OutcomeKind::Bounced,
        "a@shop.example",
        "r@x.example",
        "q",
    ));
    a.outcome(&out(
        "2026-11-26 10:40:00",
        OutcomeKind::Bounced,
        "a@shop.example",
        "r@x.example",
        "q",
    ));
    a.outcome(&out(
        "2026-11-26 10:40:00",
        OutcomeKind::Bounced,
        "a@other.example",
        "r@x.example",
        "q",
    ));
    a.outcome(&out(
        "2026-11-26 10:40:00",
        OutcomeKind::Bounced,
        "a@other.example",
        "r@mail.shop.example",
        "q",
    ));
    assert_eq!(a.totals.bounced, 2);
}

#[test]
fn address_blind_hash_ignores_only_addresses() {
    use std::hash::{BuildHasher, Hasher};
    let st = hashbrown::DefaultHashBuilder::default();
    let key = |t: &str| {
        let mut h = st.build_hasher();
        hash_without_addresses(t, &mut h);
        h.finish()
    };
    assert_eq!(
        key("550 5.1.1 <a@x.example>: no such user"),
        key("550 5.1.1 <bob.smith@y.example>: no such user")
    );
    assert_ne!(key("550 5.1.1 no such user"), key("550 5.2.2 mailbox full"));
    assert_ne!(key("a b"), key("ab"));
}

#[test]
fn blocklist_names_are_found() {
    assert_eq!(
        blocklist_name(
            "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"
        )
        .as_deref(),
        Some("zen.spamhaus.org")
    );
    assert_eq!(
        blocklist_name("listed at Spamcop").as_deref(),
        Some("spamcop")
    );
    assert_eq!(blocklist_name("user unknown"), None);
}

fn capped(cl: &Classifier, max: usize) -> Aggregates<'_> {
    Aggregates::new(
        LimitRule {
            min: 5,
            percent: Some(100),
        },
        Filter::default(),
        CachedClassifier::new(cl),
    )
    .with_max_subjects(max)
}

#[test]
fn past_max_subjects_the_least_active_without_failures_are_folded_and_totals_kept() {
    let cl = Classifier::builtin();
    let mut a = capped(&cl, 8);
    // One domain that fails, then many that deliver once, and one that delivers often.
    a.outcome(&out(
        "2026-11-26 10:00:00",
        OutcomeKind::Bounced,
        "info@failing.example",
        "x@gmail.com",
        "f1",
    ));
    for i in 0..5 {
        a.outcome(&out(
            "2026-11-26 10:00:01",
            OutcomeKind::Delivered,
            "info@busy.example",
            "y@gmail.com",
            &format!("b{i}"),
        ));
    }
    let senders: Vec<String> = (0..100).map(|i| format!("a@d{i}.example")).collect();
    for (i, s) in senders.iter().enumerate() {
        a.outcome(&out(
            "2026-11-26 10:01:00",
            OutcomeKind::Delivered,
            s,
            "y@gmail.com",
            &format!("q{i}"),
        ));
    }
    assert_eq!(a.totals.delivered, 105);
    assert_eq!(a.totals.bounced, 1);
    assert!(
        a.by_sender_domain.len() <= 8,
        "{}",
        a.by_sender_domain.len()
    );
    assert!(a.evidence.sender_domains.len() <= 8);
    assert!(a.by_account.len() <= 8 && a.by_sender.len() <= 8);
    assert!(a.by_sender_domain.contains_key("failing.example"));
    assert!(a.by_sender_domain.contains_key("busy.example"));
    assert!(
        a.evidence
            .get(SubjectKind::SenderDomain, "failing.example")
            .is_some()
    );
    assert!(a.by_account.contains_key("info@failing.example"));
    let kept: u64 = a.by_sender_domain.values().map(|s| s.total().total()).sum();
    assert_eq!(
        kept + a.folded.sender_domains,
        106,
        "each folded domain had one line"
    );
    assert!(a.folded.sender_domains >= 95);
    assert!(a.folded.accounts >= 95 && a.folded.senders >= 95);
    assert_eq!(a.folded.with_failures, 0);
}

#[test]
fn subjects_with_failures_are_folded_only_for_want_of_others_and_tripped_ones_never() {
    let cl = Classifier::builtin();
    let mut a = capped(&cl, 8);
    for i in 0..6 {
        a.outcome(&out(
            &format!("2026-11-26 10:00:0{i}"),
            OutcomeKind::Bounced,
            "info@tripped.example",
            "x@gmail.com",
            &format!("t{i}"),
        ));
    }
    let senders: Vec<String> = (0..40).map(|i| format!("a@d{i}.example")).collect();
    for (i, s) in senders.iter().enumerate() {
        a.outcome(&out(
            "2026-11-26 10:01:00",
            OutcomeKind::Deferred,
            s,
            "y@gmail.com",
            &format!("q{i}"),
        ));
    }
    assert!(a.replay["tripped.example"][0].1.trips[0].is_some());
    assert!(a.by_sender_domain.contains_key("tripped.example"));
    assert!(
        a.by_sender_domain.len() <= 8,
        "{}",
        a.by_sender_domain.len()
    );
    assert!(a.folded.with_failures > 0);
    assert_eq!(a.totals.deferred, 40);
    assert_eq!(a.totals.bounced, 6);
}

#[test]
fn no_cap_folds_nothing() {
    let cl = Classifier::builtin();
    let mut a = capped(&cl, 0);
    let senders: Vec<String> = (0..300).map(|i| format!("a@d{i}.example")).collect();
    for (i, s) in senders.iter().enumerate() {
        a.outcome(&out(
            "2026-11-26 10:01:00",
            OutcomeKind::Delivered,
            s,
            "y@gmail.com",
            &format!("q{i}"),
        ));
    }
    assert_eq!(a.by_sender_domain.len(), 300);
    assert!(!a.folded.any());
}
