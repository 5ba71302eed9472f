//! The daily summary (`report --day`) on the two-day fixtures: the window is the day of the
//! log's clock, the JSON carries exact byte totals, hourly counts, volume tables, MTA
//! warnings, frozen and removed messages; text and Markdown add the daily sections and name
//! the day; `--day` with `--since`, a bad date and a day outside the log are errors.

use serde_json::Value;

use crate::util::mailtrace;

const EXIM: &str = "fixtures/exim/daily_two_days.log";
const POSTFIX: &str = "fixtures/postfix/daily_two_days.log";

fn run(args: &[&str]) -> (i32, String, String) {
    let out = mailtrace()
        .args(["report", "--year", "2026"])
        .args(args)
        .output()
        .expect("run mailtrace");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> Value {
    let (code, out, err) = run(&[&["--format", "json"], args].concat());
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn totals(v: &Value, keys: &[&str]) -> Vec<u64> {
    keys.iter()
        .map(|k| v["totals"][k].as_u64().unwrap_or_else(|| panic!("{k}")))
        .collect()
}

const KEYS: [&str; 9] = [
    "messages",
    "delivered",
    "deferred",
    "bounced",
    "rejected",
    "frozen",
    "admin_removed",
    "bytes_received",
    "bytes_delivered",
];

/// (hour, received, delivered, deferred, bounced, rejected) of every row of `by_hour`.
fn hours(v: &Value) -> Vec<(String, [u64; 5])> {
    v["by_hour"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let n = |k: &str| h[k].as_u64().unwrap();
            (
                h["hour"].as_str().unwrap().to_string(),
                [
                    n("received"),
                    n("delivered"),
                    n("deferred"),
                    n("bounced"),
                    n("rejected"),
                ],
            )
        })
        .collect()
}

fn rows(v: &Value, table: &str, fields: &[&str]) -> Vec<String> {
    v[table]["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("{table}: {v}"))
        .iter()
        .map(|r| {
            fields
                .iter()
                .map(|f| match &r[f] {
                    Value::String(s) => s.clone(),
                    x => x.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn exim_day_figures_are_exact() {
    let v = json(&["--day", "2026-11-29", EXIM]);
    assert_eq!(v["settings"]["day"], "2026-11-29");
    assert_eq!(totals(&v, &KEYS), [7, 4, 3, 1, 0, 1, 1, 116_000, 57_300]);
    let h = |s: &str, c: [u64; 5]| (format!("2026-11-29T{s}"), c);
    assert_eq!(
        hours(&v),
        [
            h("08", [1, 2, 0, 0, 0]),
            h("09", [1, 1, 1, 0, 0]),
            h("10", [2, 1, 0, 1, 0]),
            h("11", [1, 0, 0, 0, 0]),
            h("12", [1, 0, 1, 0, 0]),
            h("14", [1, 0, 1, 0, 0]),
        ]
    );
    assert_eq!(
        rows(
            &v,
            "top_senders",
            &["sender", "messages", "recipients", "bytes"]
        ),
        [
            "alice@shop.example 3 4 6600",
            "<> 1 1 51500",
            "bulk@shop.example 1 1 7000",
            "helpdesk@shop.example 1 1 900",
            "newsletter@lists.shop.example 1 1 50000",
        ]
    );
    assert_eq!(v["top_senders"]["approximate"], false);
    assert_eq!(
        rows(&v, "top_recipients", &["recipient", "messages", "bytes"]),
        [
            "bob@client.example 1 1200",
            "carol@client.example 1 1200",
            "dave@other.example 1 3400",
            "newsletter@lists.shop.example 1 51500",
        ]
    );
    let w = rows(&v, "mta_warnings", &["count", "first", "last"]);
    assert_eq!(
        w,
        [
            "2 2026-11-29T13:05:10 2026-11-29T13:20:44",
            "1 2026-11-29T14:00:01 2026-11-29T14:00:01",
            "1 2026-11-29T22:15:00 2026-11-29T22:15:00",
        ]
    );
    assert!(
        v["mta_warnings"]["rows"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("failed to expand")
    );
    assert_eq!(v["mta_warnings"]["lines"], 4);
    assert_eq!(
        rows(&v, "frozen_messages", &["queue_id", "time", "sender"]),
        ["1xZd00-00000000Dd5-0dD5 2026-11-29T11:00:10 alice@shop.example"]
    );
    assert_eq!(
        rows(&v, "removed_messages", &["queue_id", "time", "sender"]),
        ["1xZe10-00000000Ee6-0eE6 2026-11-29T12:40:00 bulk@shop.example"]
    );

    let v = json(&["--day", "2026-11-30", EXIM]);
    assert_eq!(totals(&v, &KEYS), [2, 2, 0, 0, 1, 0, 0, 10_300, 10_300]);
    assert_eq!(v["mta_warnings"]["lines"], 1);
}

#[test]
fn postfix_day_figures_are_exact() {
    let v = json(&["--day", "2026-11-29", POSTFIX]);
    // 4A1B2C3D02 logs its size on two qmgr lines: counted once.
    assert_eq!(totals(&v, &KEYS), [7, 5, 2, 1, 1, 1, 1, 88_300, 50_400]);
    let h = |s: &str, c: [u64; 5]| (format!("2026-11-29T{s}"), c);
    assert_eq!(
        hours(&v),
        [
            h("08", [1, 2, 0, 0, 0]),
            h("09", [1, 0, 1, 0, 0]),
            h("10", [1, 2, 0, 0, 0]),
            h("11", [2, 1, 0, 1, 0]),
            h("12", [2, 0, 1, 0, 0]),
            h("13", [0, 0, 0, 0, 1]),
        ]
    );
    assert_eq!(
        rows(&v, "top_senders", &["sender", "messages", "bytes"]),
        [
            "bulk@shop.example 3 40000",
            "<> 1 32000",
            "alice@shop.example 1 2100",
            "partner@remote.example 1 9000",
            "reports@shop.example 1 5200",
        ]
    );
    assert_eq!(
        rows(&v, "mta_warnings", &["count", "text"]),
        [
            "2 warning: hostname dyn-N.pool.example.net does not resolve to address N.N.N.N: \
             Name or service not known",
            "1 error: open database /etc/postfix/transport.lmdb: No such file or directory",
            "1 fatal: no SASL authentication mechanisms",
            "1 panic: myfree: corrupt or unallocated memory block",
            "1 warning: process /usr/lib/postfix/sbin/smtpd pid N exit status N",
        ]
    );
    assert_eq!(
        rows(&v, "frozen_messages", &["queue_id", "time"]),
        ["4A1B2C3D06 2026-11-29T12:00:05"]
    );
    assert_eq!(
        rows(&v, "removed_messages", &["queue_id", "time"]),
        ["4A1B2C3D07 2026-11-29T12:45:00"]
    );
    let v = json(&["--day", "2026-11-30", POSTFIX]);
    assert_eq!(totals(&v, &KEYS), [1, 1, 0, 0, 0, 0, 0, 1_500, 1_500]);
}

#[test]
fn tables_are_bounded_by_top_and_present_without_day() {
    let v = json(&["--top", "2", POSTFIX]);
    assert_eq!(v["settings"]["day"], Value::Null);
    // Both days: 8 messages, 89,800 bytes received.
    assert_eq!(totals(&v, &["messages", "bytes_received"]), [8, 89_800]);
    assert_eq!(v["top_senders"]["rows"].as_array().unwrap().len(), 2);
    assert_eq!(v["top_senders"]["not_shown"], 3);
    assert_eq!(v["mta_warnings"]["rows"].as_array().unwrap().len(), 2);
    assert_eq!(v["mta_warnings"]["not_shown"], 3);
    assert_eq!(v["mta_warnings"]["rows"][0]["count"], 3);
    assert_eq!(v["mta_warnings"]["lines"], 7);
    let v = json(&["--top", "1", "--day", "2026-11-29", EXIM]);
    assert_eq!(v["top_recipients"]["not_shown"], 3);
    assert_eq!(v["frozen_messages"]["rows"].as_array().unwrap().len(), 1);
}

#[test]
fn text_and_markdown_name_the_day_and_add_the_sections() {
    let sections = [
        "Traffic by hour",
        "Top senders by volume",
        "Top recipients by volume",
        "MTA warnings and errors",
        "Frozen messages",
        "Removed by an administrator",
    ];
    for (format, log) in [("text", EXIM), ("markdown", POSTFIX)] {
        let (code, out, err) = run(&["--format", format, "--day", "2026-11-29", log]);
        assert!(code == 0 || code == 1, "{format}: {err}");
        assert!(
            out.contains("Day covered:")
                && out.contains("Sunday 29 November 2026")
                && out.contains("00:00–24:00"),
            "{format}: {out}"
        );
        for s in sections {
            assert!(out.contains(s), "{format}: no {s}: {out}");
        }
        // 24 hourly rows, midnight to 23:00.
        assert!(out.contains("00:00") && out.contains("23:00"), "{out}");
        let after = &out[out.find("Traffic by hour").unwrap()..];
        let rows = after.lines().filter(|l| l.contains(":00 ")).count();
        assert!(rows >= 24, "{format}: {rows} hour rows: {after}");
        let volume = if log == EXIM {
            "Volume: 116 kB received, 57 kB delivered."
        } else {
            "Volume: 88 kB received, 50 kB delivered."
        };
        assert!(out.contains(volume), "{format}: {out}");
        // Without --day: the volume line, no daily sections.
        let (_, out, _) = run(&["--format", format, log]);
        assert!(out.contains("Volume: "), "{format}: {out}");
        assert!(!out.contains("Traffic by hour") && !out.contains("Day covered"));
    }
}

#[test]
fn redact_covers_the_daily_tables() {
    let (_, out, err) = run(&[
        "--redact",
        "--redact-key",
        "daily-test",
        "--format",
        "json",
        "--day",
        "2026-11-29",
        EXIM,
    ]);
    assert!(!out.is_empty(), "{err}");
    for addr in ["alice@", "bob@", "carol@", "bulk@", "newsletter@"] {
        assert!(!out.contains(addr), "{addr} left in: {out}");
    }
    let (_, text, _) = run(&["--redact", "--day", "2026-11-29", EXIM]);
    assert!(!text.contains("alice@shop.example"), "{text}");
}

#[test]
fn day_with_since_or_until_is_a_usage_error() {
    for flag in ["--since", "--until"] {
        let (code, out, err) = run(&["--day", "2026-11-29", flag, "2026-11-29", EXIM]);
        assert_eq!(code, 2, "{flag}: {err}");
        assert!(out.is_empty(), "{out}");
        assert!(
            err.contains("the argument '--day <DAY>' cannot be used with"),
            "{flag}: {err}"
        );
    }
}

#[test]
fn bad_day_is_a_usage_error() {
    for day in ["2026-13-40", "2026-02-30", "tomorrow"] {
        let (code, out, err) = run(&["--day", day, EXIM]);
        assert_eq!(code, 2, "{day}: {err}");
        assert!(out.is_empty(), "{out}");
        assert_eq!(
            err,
            format!(
                "mailtrace: --day: invalid day '{day}': use today, yesterday or a date \
                 YYYY-MM-DD\n"
            )
        );
    }
}

#[test]
fn day_outside_the_log_is_nothing_to_analyse() {
    for quiet in [false, true] {
        let mut args = vec!["--day", "2026-11-28", EXIM];
        if quiet {
            args.insert(0, "-q");
        }
        let (code, out, err) = run(&args);
        assert_eq!(code, 2, "{err}");
        assert!(out.is_empty(), "{out}");
        assert_eq!(
            err,
            "mailtrace: nothing to analyse: no log line from 2026-11-28 00:00:00 to \
             2026-11-29 00:00:00 (fixtures/exim/daily_two_days.log: 2026-11-29 07:58:00 to \
             2026-11-30 09:00:00)\n"
        );
    }
}

#[test]
fn today_and_yesterday_are_accepted() {
    // The fixture is in the past: both days are outside it, and say so.
    for day in ["today", "yesterday"] {
        let (code, _, err) = run(&["--day", day, EXIM]);
        assert_eq!(code, 2, "{day}: {err}");
        assert!(
            err.contains("nothing to analyse: no log line from "),
            "{err}"
        );
    }
}

/// More distinct recipients than the volume table holds: memory stays bounded, the busiest
/// recipient is still first with its exact count, and the table says it is approximate.
#[test]
fn many_distinct_recipients_are_approximate() {
    use std::fmt::Write as _;
    let mut log = String::new();
    let mut n = 0;
    let mut message = |log: &mut String, rcpt: &str| {
        n += 1;
        let id = format!("1xZz{:02}-{:011}-0aA1", n % 60, n);
        let t = format!(
            "2026-11-29 {:02}:{:02}:{:02}",
            n / 3600 % 24,
            n / 60 % 60,
            n % 60
        );
        let _ = writeln!(
            log,
            "{t} {id} <= bulk@shop.example U=bulk P=local S=1000 for {rcpt}"
        );
        let _ = writeln!(
            log,
            "{t} {id} => {rcpt} R=dnslookup T=remote_smtp H=mx.example.net [198.51.100.9] C=\"250 OK\""
        );
        let _ = writeln!(log, "{t} {id} Completed");
    };
    for i in 0..5000 {
        message(&mut log, &format!("user{i}@example.net"));
        if i % 50 == 0 {
            message(&mut log, "heavy@example.net");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.log");
    std::fs::write(&path, log).unwrap();
    let v = json(&["--top", "3", path.to_str().unwrap()]);
    let t = &v["top_recipients"];
    assert_eq!(t["approximate"], true, "{t}");
    assert_eq!(t["capacity"], 4096);
    let bound = t["error_bound"].as_u64().unwrap();
    assert!((1..=5100 / 4096 + 1).contains(&bound), "{t}");
    assert_eq!(t["rows"][0]["recipient"], "heavy@example.net");
    let count = t["rows"][0]["messages"].as_u64().unwrap();
    assert!((100..=100 + bound).contains(&count), "{t}");
    assert_eq!(v["top_senders"]["approximate"], false);
    assert_eq!(v["totals"]["bytes_delivered"], 5_100_000);
    let (_, text, _) = run(&["--day", "2026-11-29", path.to_str().unwrap()]);
    assert!(
        text.contains("Approximate: more than 4,096 distinct addresses"),
        "{text}"
    );
}
