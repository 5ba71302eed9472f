//! `mailtrace follow --metrics` end to end: the binary serves on a free port of 127.0.0.1,
//! the test scrapes it over HTTP with a plain `TcpStream` while Exim lines are appended, and
//! checks the counters per sender domain and account, the 404 and 405 answers, escaping of
//! hostile label values (a quote, a backslash, ESC and CR: a line feed cannot be inside a
//! log line), `--redact`, the cap on series, that the README and the shipped Prometheus rules
//! name only metrics the binary serves, and (with `promtool`) that both pass its checks.
//! `MAILTRACE_PROMTOOL=1` makes a missing `promtool` a failure; unset, the promtool test
//! prints a notice and skips.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{mailtrace, root};

/// How long a scrape may take to show what was written.
const DEADLINE: Duration = Duration::from_secs(20);

const SHOP: &[&str] = &[
    "2026-11-26 14:05:11 1tWx9Q-00000000Aq3-4kZ1 <= info@shop.example H=(pc) [203.0.113.77]:52144 P=esmtpsa A=dovecot_login:info@shop.example S=4312 for a@gmail.com b@gmail.com c@yahoo.com",
    "2026-11-26 14:05:12 1tWx9Q-00000000Aq3-4kZ1 => a@gmail.com R=dkim_lookuphost T=dkim_remote_smtp H=gmail-smtp-in.l.google.com [192.0.2.1] C=\"250 2.0.0 OK\"",
    "2026-11-26 14:05:13 1tWx9Q-00000000Aq3-4kZ1 ** b@gmail.com R=dkim_lookuphost T=dkim_remote_smtp H=gmail-smtp-in.l.google.com [192.0.2.1]: SMTP error from remote mail server after RCPT TO:<b@gmail.com>: 550 5.1.1 The email account that you tried to reach does not exist.",
    "2026-11-26 14:05:14 1tWx9Q-00000000Aq3-4kZ1 == c@yahoo.com R=dkim_lookuphost T=dkim_remote_smtp defer (-44) H=mta5.am0.yahoodns.net [192.0.2.2]: SMTP error from remote mail server after RCPT TO:<c@yahoo.com>: 451 4.7.1 Try again later",
    "2026-11-26 14:06:00 1tWx9Q-00000000Aq3-5kZ2 <= info@shop.example H=(pc) [203.0.113.77]:52144 P=esmtpsa A=dovecot_login:info@shop.example S=4312 for y@yahoo.com",
    "2026-11-26 14:07:00 1tWx9Q-00000000Aq3-5kZ2 ** y@yahoo.com R=enforce_mail_permissions: Domain shop.example has exceeded the max defers and failures per hour (5/5 (100%)) allowed. Message discarded.",
];

/// A sender domain and account made of a quote, a backslash, an ESC and a CR.
const HOSTILE_DOMAIN: &str = "ev\"il\\\x1b[31m\r.example";

fn hostile_lines() -> Vec<String> {
    vec![
        format!(
            "2026-11-26 14:08:00 1tWx9Q-00000000Aq3-6kZ3 <= x@{HOSTILE_DOMAIN} H=(pc) [203.0.113.78]:52144 P=esmtpsa A=dovecot_login:bad\"user\\\x1b@{HOSTILE_DOMAIN} S=4312 for z@gmail.com"
        ),
        "2026-11-26 14:08:01 1tWx9Q-00000000Aq3-6kZ3 ** z@gmail.com R=dkim_lookuphost T=dkim_remote_smtp H=gmail-smtp-in.l.google.com [192.0.2.1]: SMTP error from remote mail server after RCPT TO:<z@gmail.com>: 550 5.1.1 no such user".to_string(),
    ]
}

/// A running `follow --metrics 127.0.0.1:0` on a log of its own; killed when dropped, so
/// no child outlives a failed test.
struct Follow {
    child: Child,
    addr: SocketAddr,
    log: File,
    _dir: tempfile::TempDir,
}

impl Drop for Follow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Follow {
    /// Starts following an empty log with `extra` arguments and waits for the address on
    /// stderr.
    fn start(extra: &[&str]) -> Follow {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exim_mainlog");
        std::fs::write(&path, "").unwrap();
        let child = mailtrace()
            .args(["follow", "--poll", "--poll-interval", "50"])
            .args(["--now", "2026-11-26 14:00:00", "--metrics", "127.0.0.1:0"])
            .args(extra)
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut follow = Follow {
            child,
            addr: "127.0.0.1:0".parse().unwrap(),
            log: OpenOptions::new().append(true).open(&path).unwrap(),
            _dir: dir,
        };
        follow.addr = bound_address(&mut follow.child);
        follow
    }

    fn write(&mut self, lines: &[impl AsRef<str>]) {
        for l in lines {
            writeln!(self.log, "{}", l.as_ref()).unwrap();
        }
        self.log.flush().unwrap();
    }

    /// Scrapes `/metrics` until `done` holds for the body (or the deadline passes).
    fn scrape_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let (status, body) = get(self.addr, "GET", "/metrics");
            assert_eq!(status, 200, "{body}");
            if done(&body) {
                return body;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "no {what} in time; last scrape:\n{body}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Reads stderr of `child` until the line naming the address served; the rest of stderr is
/// drained on a thread.
fn bound_address(child: &mut Child) -> SocketAddr {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let start = Instant::now();
    while let Ok(line) = rx.recv_timeout(DEADLINE.saturating_sub(start.elapsed())) {
        if let Some(rest) = line.strip_prefix("mailtrace: serving metrics on http://") {
            let addr = rest.strip_suffix("/metrics").expect("ends with /metrics");
            let addr: SocketAddr = addr.parse().expect("an IP address and port");
            assert_ne!(addr.port(), 0, "{line}");
            return addr;
        }
    }
    panic!("follow never said where it serves the metrics");
}

/// One HTTP/1.0 request: the status code and the body.
fn get(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "{method} {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8(raw).expect("UTF-8 answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a header and a body");
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap();
    (status, body.to_string())
}

/// The value of the sample `series` (name and labels exactly as served), if present.
fn value(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn domain(name: &str, outcome: &str) -> String {
    format!("mailtrace_sender_domain_recipients_total{{domain=\"{name}\",outcome=\"{outcome}\"}}")
}

fn account(name: &str, outcome: &str) -> String {
    format!("mailtrace_account_recipients_total{{account=\"{name}\",outcome=\"{outcome}\"}}")
}

/// The metric names a scrape declares (`# TYPE` lines).
fn served_names(body: &str) -> BTreeSet<String> {
    body.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(str::to_string)
        .collect()
}

/// A scrape after every kind of line (delivery, deferral, bounce, cPanel discard, a domain
/// that can still trip), so that every metric has a sample.
fn full_scrape() -> String {
    let mut f = Follow::start(&[]);
    f.write(SHOP);
    f.write(&hostile_lines());
    f.scrape_until("hostile domain's gauges", |b| {
        b.contains("mailtrace_sender_domain_hour_to_limit{") && b.contains("outcome=\"discarded\"")
    })
}

#[test]
fn counters_move_as_lines_are_written() {
    let mut f = Follow::start(&[]);
    let body = f.scrape_until("first scrape", |b| b.contains("mailtrace_build_info"));
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        value(
            &body,
            &format!("mailtrace_build_info{{version=\"{version}\"}}")
        ),
        Some(1.0)
    );
    assert_eq!(value(&body, "mailtrace_lines_total"), Some(0.0));
    assert_eq!(value(&body, "mailtrace_followed_files"), Some(1.0));
    assert_eq!(value(&body, "mailtrace_limit_defer_fail"), Some(5.0));
    assert_eq!(value(&body, "mailtrace_limit_percent"), Some(100.0));

    f.write(SHOP);
    let body = f.scrape_until("6 lines", |b| {
        value(b, "mailtrace_lines_total") == Some(6.0)
            && value(
                b,
                "mailtrace_sender_domain_hour_defer_fail{domain=\"shop.example\"}",
            ) == Some(3.0)
    });
    for (outcome, n) in [
        ("delivered", 1.0),
        ("deferred", 1.0),
        ("bounced", 1.0),
        ("discarded", 1.0),
    ] {
        assert_eq!(
            value(&body, &domain("shop.example", outcome)),
            Some(n),
            "{outcome}\n{body}"
        );
        assert_eq!(
            value(&body, &account("info@shop.example", outcome)),
            Some(n),
            "{outcome}"
        );
    }
    assert_eq!(value(&body, &domain("shop.example", "rejected")), None);
    assert_eq!(value(&body, "mailtrace_events_total"), Some(6.0));
    assert_eq!(
        value(&body, "mailtrace_unrecognised_lines_total"),
        Some(0.0)
    );
    assert_eq!(
        value(&body, "mailtrace_failures_total{cause=\"user_unknown\"}"),
        Some(1.0)
    );
    assert_eq!(
        value(&body, "mailtrace_failures_total{cause=\"sending_limit\"}"),
        Some(1.0)
    );
    let ratio = "mailtrace_sender_domain_hour_limit_ratio{domain=\"shop.example\"}";
    assert_eq!(value(&body, ratio), Some(0.6), "3 of 5 defers+fails");

    // The counters go on growing.
    f.write(&[
        "2026-11-26 14:09:00 1tWx9Q-00000000Aq3-7kZ4 <= info@shop.example H=(pc) [203.0.113.77]:52144 P=esmtpsa A=dovecot_login:info@shop.example S=4312 for d@gmail.com",
        "2026-11-26 14:09:01 1tWx9Q-00000000Aq3-7kZ4 => d@gmail.com R=dkim_lookuphost T=dkim_remote_smtp H=gmail-smtp-in.l.google.com [192.0.2.1] C=\"250 2.0.0 OK\"",
        "garbage that is no log line",
    ]);
    let body = f.scrape_until("a second delivery", |b| {
        value(b, &domain("shop.example", "delivered")) == Some(2.0)
    });
    assert_eq!(
        value(&body, &account("info@shop.example", "delivered")),
        Some(2.0)
    );
    assert_eq!(value(&body, "mailtrace_lines_total"), Some(9.0));
}

#[test]
fn other_paths_are_404_and_other_methods_405() {
    let f = Follow::start(&[]);
    assert_eq!(get(f.addr, "GET", "/").0, 404);
    assert_eq!(get(f.addr, "GET", "/metricsx").0, 404);
    assert_eq!(get(f.addr, "POST", "/metrics").0, 405);
    assert_eq!(get(f.addr, "DELETE", "/metrics").0, 405);
    assert_eq!(get(f.addr, "GET", "/metrics?x=1").0, 200);
}

#[test]
fn hostile_label_values_are_escaped_without_control_characters() {
    let mut f = Follow::start(&[]);
    f.write(&hostile_lines());
    let body = f.scrape_until("its bounce", |b| b.contains("outcome=\"bounced\""));
    assert!(
        !body.chars().any(|c| c.is_control() && c != '\n'),
        "a control character in the scrape:\n{body:?}"
    );
    // Control characters are shown as \xNN, whose backslash the format escapes, as it
    // escapes the quote and the backslash.
    let label = r#"ev\"il\\\\x1b[31m\\x0d.example"#;
    assert_eq!(value(&body, &domain(label, "bounced")), Some(1.0), "{body}");
    let acct = format!(r#"bad\"user\\\\x1b@{label}"#);
    assert_eq!(
        value(&body, &account(&acct, "bounced")),
        Some(1.0),
        "{body}"
    );
    let gauge = format!("mailtrace_sender_domain_hour_defer_fail{{domain=\"{label}\"}}");
    let body = f.scrape_until("its hourly gauge", |b| value(b, &gauge).is_some());
    assert_eq!(value(&body, &gauge), Some(1.0));
}

#[test]
fn series_are_capped_and_the_rest_counted_as_other() {
    let mut f = Follow::start(&["--metrics-max-series", "2"]);
    let mut lines = Vec::new();
    for n in 1..=5 {
        lines.push(format!(
            "2026-11-26 14:10:0{n} 1tWx9Q-00000000Aq3-0kZ{n} <= u@d{n}.example H=(pc) [203.0.113.7{n}]:52144 P=esmtpsa A=dovecot_login:u@d{n}.example S=1000 for r{n}@gmail.com"
        ));
        lines.push(format!(
            "2026-11-26 14:10:1{n} 1tWx9Q-00000000Aq3-0kZ{n} => r{n}@gmail.com R=dkim_lookuphost T=dkim_remote_smtp H=gmail-smtp-in.l.google.com [192.0.2.1] C=\"250 OK\""
        ));
    }
    f.write(&lines);
    let body = f.scrape_until("5 deliveries", |b| {
        value(b, &domain("(other)", "delivered")) == Some(3.0)
            && value(b, "mailtrace_hour_sender_domains") == Some(5.0)
    });
    let series = |prefix: &str| body.lines().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(
        series("mailtrace_sender_domain_recipients_total{"),
        3,
        "{body}"
    );
    assert_eq!(value(&body, &domain("d1.example", "delivered")), Some(1.0));
    assert_eq!(value(&body, &domain("d2.example", "delivered")), Some(1.0));
    assert_eq!(series("mailtrace_account_recipients_total{"), 3, "{body}");
    assert_eq!(value(&body, &account("(other)", "delivered")), Some(3.0));
    assert_eq!(
        series("mailtrace_sender_domain_hour_delivered{"),
        2,
        "{body}"
    );
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("exim_mainlog");
    std::fs::write(&log, "").unwrap();
    let out = mailtrace()
        .args(["follow", "--metrics", &addr.to_string()])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!("mailtrace: --metrics {addr}: cannot listen: ")),
        "{stderr}"
    );
    let out = mailtrace()
        .args(["follow", "--metrics", "localhost"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = mailtrace()
        .args(["follow", "--format", "events", "--metrics", "127.0.0.1:0"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "mailtrace: --metrics counts what the alerts count: not with --format events\n"
    );
}

/// `mailtrace_…` names in `text`, as a rule expression or the README writes them.
fn names_in(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("mailtrace_") {
        let name: String = rest[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[i + name.len()..];
        out.insert(name);
    }
    out
}

/// The README's "Metrics" section.
fn readme_metrics_section() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme.find("\n### Metrics\n").expect("a Metrics section");
    let rest = &readme[start + 1..];
    let end = rest[4..]
        .find("\n## ")
        .into_iter()
        .chain(rest[4..].find("\n### "))
        .min()
        .map_or(rest.len(), |e| e + 4);
    rest[..end].to_string()
}

fn rules_file() -> PathBuf {
    root().join("examples/prometheus/mailtrace-rules.yml")
}

#[test]
fn readme_and_rules_name_only_served_metrics() {
    let served = served_names(&full_scrape());
    let rules = std::fs::read_to_string(rules_file()).unwrap();
    let readme = readme_metrics_section();
    let used_rules = names_in(&rules);
    let used_readme = names_in(&readme);
    assert!(used_rules.len() >= 2, "{used_rules:?}");
    for name in used_rules.iter().chain(&used_readme) {
        assert!(
            served.contains(name),
            "{name} is not served; served: {served:?}"
        );
    }
    // And the README lists every metric served.
    for name in &served {
        assert!(
            used_readme.contains(name),
            "the README's Metrics section omits {name}"
        );
    }
}

#[test]
fn promtool_checks_the_rules_and_a_scrape() {
    let required = std::env::var_os("MAILTRACE_PROMTOOL").is_some_and(|v| v == "1");
    let found = Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(!required, "MAILTRACE_PROMTOOL=1 but promtool cannot be run");
        eprintln!(
            "notice: promtool not found (apt-get install prometheus); skipping promtool test"
        );
        return;
    }
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(rules_file())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool check rules:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let body = full_scrape();
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics:\n{}{}\non:\n{body}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn redact_hashes_accounts_as_events_does() {
    let mut f = Follow::start(&["--redact", "--redact-key", "k1"]);
    f.write(SHOP);
    let body = f.scrape_until("the shop's lines", |b| {
        value(b, &domain("shop.example", "discarded")) == Some(1.0)
    });
    assert!(!body.contains("info@"), "{body}");
    // The token is the one `events --redact` gives with the same key.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("exim_mainlog");
    std::fs::write(&log, SHOP.join("\n") + "\n").unwrap();
    let out = mailtrace()
        .args(["events", "--redact", "--redact-key", "k1"])
        .arg(&log)
        .output()
        .unwrap();
    let first: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    let token = first["account"].as_str().unwrap().to_ascii_lowercase();
    assert!(
        token.ends_with("@shop.example") && !token.starts_with("info@"),
        "{token}"
    );
    assert_eq!(
        value(&body, &account(&token, "delivered")),
        Some(1.0),
        "{body}"
    );
}
