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
