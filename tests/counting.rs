//! What the report counts on real-server shapes (issue 9): deferrals that made no delivery
//! attempt, hand-offs to a local content filter, inbound refusals and backscatter, where
//! cPanel's rule applies, and when a domain is really invalid. One fixture per behaviour,
//! checked on the report's totals, failure rates, findings and suppression list.

use serde_json::Value;

use crate::util::mailtrace;

/// `mailtrace report --format json --top 0 --year 2026 ARGS…`: the exit status and the report.
fn report(args: &[&str]) -> (i32, Value) {
    let out = mailtrace()
        .args(["report", "--format", "json", "--top", "0", "--year", "2026"])
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        matches!(code, 0 | 1),
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

/// The text report.
fn text(args: &[&str]) -> String {
    let out = mailtrace()
        .args(["report", "--year", "2026"])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// The text with every run of white space as one space, so wrapped lines read as one.
fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// The failing-recipient row of `addr`.
fn row<'a>(r: &'a Value, addr: &str) -> Option<&'a Value> {
    r["failed_recipients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["recipient"] == addr)
}

/// The recipient-domain row of `domain`.
fn domain_row<'a>(r: &'a Value, domain: &str) -> Option<&'a Value> {
    r["recipient_domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == domain)
}

// Deferrals that made no delivery attempt.

#[test]
fn exim_queue_only_and_retry_lines_are_queued_not_attempted() {
    let (_, r) = report(&["fixtures/exim/queue_only_bulk.log"]);
    let t = &r["totals"];
    // 13 `queue_smtp_domains` deferrals at reception, 27 "retry time not reached".
    assert_eq!(n(&t["not_attempted"]), 40);
    assert_eq!(
        [&t["delivered"], &t["deferred"], &t["bounced"]].map(n),
        [9, 5, 1]
    );
    // The Deferred share is 5 of 15 attempts, not 45 of 55.
    let s = text(&["fixtures/exim/queue_only_bulk.log"]);
    assert!(
        s.contains("| Deferred                    5   33.3% |"),
        "{s}"
    );
    assert!(
        s.contains("| Queued, not attempted      40         |"),
        "{s}"
    );
    // Failure rates and causes count real attempts only.
    let slow = domain_row(&r, "slow.example").unwrap();
    assert_eq!(n(&slow["deferred"]), 3);
    let bulk = r["failing_senders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "bulk.example")
        .unwrap();
    assert_eq!(bulk["defer_fail_percent"], 40.0);
    let causes: u64 = r["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| n(&c["count"]))
        .sum();
    assert_eq!(causes, 6);
    // The slow domain's recipients keep their last real failure, not the retry text.
    let f = row(&r, "orders@slow.example").unwrap();
    assert_eq!(f["text"], "Connection timed out");
    assert_eq!(f["cause"], "network");
    assert_eq!(n(&f["attempts"]), 1);
    // 3 timeouts and 1 bounce are under --min-failures: no diagnosis, although 18 retry
    // lines followed the timeouts.
    assert_eq!(
        r["diagnoses"].as_array().unwrap().len(),
        0,
        "{}",
        r["diagnoses"]
    );
}

#[test]
fn cpanel_replay_counts_every_deferral_line_as_cpanel_does() {
    let (code, r) = report(&["fixtures/exim/queue_only_bulk.log"]);
    let replay = r["limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["source"] == "replay" && l["threshold_percent"] == 100)
        .unwrap();
    // The 5th queue-only `==` line of the first message trips the rule.
    assert_eq!(replay["domain"], "bulk.example");
    assert_eq!(replay["tripped_at"], "2026-11-26T09:00:05");
    assert_eq!(n(&replay["count"]), 5);
    assert_eq!(n(&replay["deferred"]), 45);
    assert_eq!(code, 1);
}

#[test]
fn postfix_suspended_destination_is_not_attempted_and_rows_never_mix_attempts() {
    let (_, r) = report(&["fixtures/postfix/suspended_destination.log"]);
    let t = &r["totals"];
    assert_eq!(n(&t["not_attempted"]), 15);
    assert_eq!([&t["delivered"], &t["deferred"]].map(n), [2, 3]);
    let down = domain_row(&r, "down.example").unwrap();
    assert_eq!(n(&down["deferred"]), 1);
    // The real attempt stands for the recipient whose later lines were suspended ones.
    let ana = row(&r, "ana@down.example").unwrap();
    assert_eq!(
        ana["text"],
        "connect to mx.down.example[203.0.113.80]:25: Connection timed out"
    );
    assert_eq!(n(&ana["attempts"]), 1);
    // Recipients that only ever waited for the destination are not failing recipients.
    assert!(row(&r, "ops@down.example").is_none());
    // A 421 then a lost connection: the row shows the last attempt whole, no 421 beside
    // the lost-connection text.
    let kai = row(&r, "kai@flaky.example").unwrap();
    assert_eq!(kai["code"], Value::Null);
    assert_eq!(kai["status"], "4.4.2");
    assert!(kai["text"].as_str().unwrap().starts_with("lost connection"));
}

// Local content filters.

#[test]
fn content_filter_hand_offs_are_hops_not_deliveries() {
    let (_, r) = report(&["fixtures/postfix/amavis_filter.log"]);
    let t = &r["totals"];
    // 12 hand-offs to amavis on 127.0.0.1:10024; 13 real deliveries (12 after the filter,
    // one to a smarthost whose own `queued as` id is a delivery).
    assert_eq!(n(&t["handed_off"]), 12);
    assert_eq!(n(&t["delivered"]), 13);
    assert_eq!(n(&t["recipients"]), 13);
    assert!(n(&t["delivered"]) <= n(&t["recipients"]));
    assert_eq!(n(&t["messages"]), 12);
}

#[test]
fn a_loopback_relay_is_never_a_remote_destination() {
    let (_, r) = report(&["fixtures/postfix/amavis_filter.log"]);
    // Six deferrals while amavis refused connections: in the totals, at the local relay.
    assert_eq!(n(&r["totals"]["deferred"]), 6);
    let relays = r["local_relays"].as_array().unwrap();
    assert_eq!(relays.len(), 1);
    assert_eq!(relays[0]["relay"], "127.0.0.1");
    assert_eq!(n(&relays[0]["deferred"]), 6);
    // Not against partner.example, not as failing recipients, no remote-trouble verdict.
    assert_eq!(r["recipient_domains"].as_array().unwrap().len(), 0);
    assert_eq!(r["failed_recipients"].as_array().unwrap().len(), 0);
    assert_eq!(
        r["diagnoses"].as_array().unwrap().len(),
        0,
        "{}",
        r["diagnoses"]
    );
    let s = flat(&text(&["fixtures/postfix/amavis_filter.log"]));
    assert!(
        s.contains("6 deferral(s) and 0 failure(s) stopped at 127.0.0.1 on this host"),
        "{s}"
    );
}

// Inbound refusals and backscatter.

#[test]
fn refusals_of_mail_to_our_domains_are_inbound_and_never_failing_recipients() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("dead.csv");
    let (_, r) = report(&[
        "--suppression-list",
        list.to_str().unwrap(),
        "fixtures/postfix/inbound_refusals.log",
    ]);
    let t = &r["totals"];
    // 3 DNSBL refusals of spam and 6 bounces to addresses that do not exist here, all to
    // acme.example; one relay attempt to gmail.com.
    assert_eq!(n(&t["rejected"]), 10);
    assert_eq!(n(&t["inbound_refused"]), 9);
    assert_eq!(r["own_domains"], serde_json::json!(["acme.example"]));
    // Inbound refusals are no failing recipients, no problem of acme.example, and none of
    // the refused addresses is on the suppression list.
    let failed: Vec<&str> = r["failed_recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["recipient"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["victim@gmail.com"]);
    assert!(domain_row(&r, "acme.example").is_none());
    // A rejection's host is the client we refused, never an MX host.
    let gmail = domain_row(&r, "gmail.com").unwrap();
    assert_eq!(gmail["hosts"], serde_json::json!([]));
    let csv = std::fs::read_to_string(&list).unwrap();
    assert_eq!(csv.lines().count(), 1, "{csv}");
}

#[test]
fn refused_bounces_for_never_sent_mail_are_backscatter_with_an_spf_dmarc_hint() {
    let (_, r) = report(&["fixtures/postfix/inbound_refusals.log"]);
    assert_eq!(n(&r["totals"]["backscatter"]), 6);
    assert_eq!(r["backscatter"][0]["domain"], "acme.example");
    let s = flat(&text(&["fixtures/postfix/inbound_refusals.log"]));
    assert!(s.contains("| Inbound refused 9 69.2% |"), "{s}");
    assert!(
        s.contains("someone is probably forging acme.example as the sender"),
        "{s}"
    );
    assert!(s.contains("SPF and a DMARC policy"), "{s}");
}

// Where cPanel's rule applies.

#[test]
fn cpanel_rule_is_not_replayed_on_a_postfix_box() {
    let (code, r) = report(&["fixtures/postfix/cron_mail.log"]);
    assert_eq!(r["settings"]["cpanel"], false);
    assert_eq!(r["settings"]["limit_replayed"], false);
    assert_eq!(r["limits"].as_array().unwrap().len(), 0);
    assert_eq!(code, 0);
    let steps = r["next_steps"].to_string();
    assert!(!steps.contains("cPanel"), "{steps}");
    let s = flat(&text(&["fixtures/postfix/cron_mail.log"]));
    assert!(s.contains("The log is not from a cPanel server"), "{s}");
    // `-q` stays quiet on it, as cron wants.
    let out = mailtrace()
        .args([
            "report",
            "-q",
            "--year",
            "2026",
            "fixtures/postfix/cron_mail.log",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn an_explicit_limit_replays_cpanel_rule_anywhere() {
    for flag in [["--limit-min", "5"], ["--limit-percent", "100"]] {
        let (code, r) = report(&[flag[0], flag[1], "fixtures/postfix/cron_mail.log"]);
        assert_eq!(r["settings"]["limit_replayed"], true);
        let l = &r["limits"][0];
        assert_eq!(l["domain"], "web1.hosting.example");
        assert_eq!(l["tripped_at"], "2026-11-26T03:40:01");
        assert_eq!(code, 1);
    }
}

#[test]
fn cpanel_lines_make_the_rule_apply() {
    let (_, r) = report(&["fixtures/exim/queue_only_bulk.log"]);
    assert_eq!(r["settings"]["cpanel"], true);
    assert_eq!(r["settings"]["limit_replayed"], true);
    let (_, r) = report(&["fixtures/exim/cpanel_domain_blocked.log"]);
    assert_eq!(r["settings"]["cpanel"], true);
}

// When a domain is really invalid.

#[test]
fn domain_invalid_never_comes_from_a_resolver_fault_or_a_domain_that_was_reached() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("dead.csv");
    let (_, r) = report(&[
        "--suppression-list",
        list.to_str().unwrap(),
        "fixtures/postfix/dns_failures.log",
    ]);
    // gmail.com was delivered to before the resolver failed, outlook.com after it; the
    // "try again" deferral is a temporary failure. Only the typo domain is invalid.
    for addr in [
        "bo.lee@gmail.com",
        "c.diaz@gmail.com",
        "dev.r@outlook.com",
        "e.moss@outlook.com",
    ] {
        let f = row(&r, addr).unwrap();
        assert_eq!(f["cause"], "network", "{addr}");
        assert_eq!(f["permanent"], false, "{addr}");
    }
    let typo = row(&r, "i.wu@gmial-typo.example").unwrap();
    assert_eq!(typo["cause"], "domain_invalid");
    let causes = &r["causes"];
    let count = |c: &str| {
        causes
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["cause"] == c)
            .map_or(0, |x| n(&x["count"]))
    };
    assert_eq!(count("domain_invalid"), 1);
    assert_eq!(count("network"), 5);
    let csv = std::fs::read_to_string(&list).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert!(
        rows[0].contains("i.wu@gmial-typo.example,domain_invalid"),
        "{csv}"
    );
}
