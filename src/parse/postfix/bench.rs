//! Throughput measurement (not a pass/fail test):
//!
//! ```text
//! cargo test --release --lib postfix::bench -- --ignored --nocapture
//! ```
//!
//! Builds about 200 MB of syslog Postfix lines in memory, in the proportions of a busy MX
//! with submission (sessions, rejects, SASL noise, deliveries, postscreen), with varied
//! queue IDs, hosts, addresses and timestamps, then times: the line reader alone, the whole
//! pipeline (`scan::scan_reader`: line reader → line parser → this parser), and this parser
//! alone on pre-split messages. Prints MB/s of log text; best of several runs.

use std::io::Cursor;
use std::time::Instant;

use crate::input::LineReader;
use crate::model::event::Kind;
use crate::parse::{YearSource, syslog, time};
use crate::scan::{ScanOptions, scan_reader};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const HOSTS: &[&str] = &[
    "mail.example.com",
    "unknown",
    "dsl-77-12.pool.example.net",
    "mx-out-3.bulk.example.org",
    "smtp.relay.example.com",
    "static-198-51-100-7.isp.example",
];
const MX: &[&str] = &[
    "gmail-smtp-in.l.google.com",
    "mx1.example.net",
    "example-org.mail.protection.outlook.com",
    "mx.mail.example.de",
];
const USERS: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "info", "noreply",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "example.net",
    "example.org",
    "mail.example.de",
    "shop.example",
];

fn qid(r: &mut Rng) -> String {
    format!("{:X}", 0x1_0000_0000 + r.below(0xF_FFFF_FFFF))
}

fn ip(r: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        [192, 198, 203, 185][r.below(4) as usize],
        r.below(256),
        r.below(256),
        1 + r.below(254)
    )
}

fn addr(r: &mut Rng) -> String {
    format!(
        "{}{}@{}",
        USERS[r.below(USERS.len() as u64) as usize],
        r.below(100),
        DOMAINS[r.below(DOMAINS.len() as u64) as usize]
    )
}

fn pick<'a>(r: &mut Rng, xs: &[&'a str]) -> &'a str {
    xs[r.below(xs.len() as u64) as usize]
}

/// One message (program, text) drawn from a realistic mix.
fn message(r: &mut Rng) -> (&'static str, String) {
    let h = pick(r, HOSTS);
    let mx = pick(r, MX);
    match r.below(100) {
        0..=11 => ("postfix/smtpd", format!("connect from {h}[{}]", ip(r))),
        12..=23 => (
            "postfix/smtpd",
            format!(
                "disconnect from {h}[{}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
                ip(r)
            ),
        ),
        24..=28 => (
            "postfix/smtpd",
            format!("{}: client={h}[{}]", qid(r), ip(r)),
        ),
        29..=30 => (
            "postfix/submission/smtpd",
            format!(
                "{}: client={h}[{}], sasl_method=PLAIN, sasl_username={}",
                qid(r),
                ip(r),
                addr(r)
            ),
        ),
        31..=37 => (
            "postfix/cleanup",
            format!(
                "{}: message-id=<{}.{}@{}>",
                qid(r),
                r.next(),
                r.below(1000),
                pick(r, DOMAINS)
            ),
        ),
        38..=44 => (
            "postfix/qmgr",
            format!(
                "{}: from=<{}>, size={}, nrcpt=1 (queue active)",
                qid(r),
                addr(r),
                500 + r.below(200_000)
            ),
        ),
        45..=51 => ("postfix/qmgr", format!("{}: removed", qid(r))),
        52..=59 => (
            "postfix/smtp",
            format!(
                "{}: to=<{}>, relay={mx}[{}]:25, delay=1.{}, delays=0.1/0.01/0.4/0.{}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {})",
                qid(r),
                addr(r),
                ip(r),
                r.below(10),
                r.below(10),
                qid(r)
            ),
        ),
        60..=61 => (
            "postfix/smtp",
            format!(
                "{}: to=<{}>, relay=none, delay={}, delays={}/0/30/0, dsn=4.4.1, status=deferred (connect to {mx}[{}]:25: Connection timed out)",
                qid(r),
                addr(r),
                r.below(90_000),
                r.below(90_000),
                ip(r)
            ),
        ),
        62 => (
            "postfix/smtp",
            format!(
                "{}: to=<{}>, relay={mx}[{}]:25, delay=0.9, delays=0.1/0.01/0.5/0.3, dsn=5.1.1, status=bounced (host {mx}[{}] said: 550 5.1.1 <{}>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))",
                qid(r),
                addr(r),
                ip(r),
                ip(r),
                addr(r)
            ),
        ),
        63..=65 => (
            "postfix/lmtp",
            format!(
                "{}: to=<{}>, relay=mail.example.com[private/dovecot-lmtp], delay=0.06, delays=0/0.02/0.01/0.03, dsn=2.0.0, status=sent (250 2.0.0 <{}> pPC9Mx2fY2BGKAAA Saved)",
                qid(r),
                addr(r),
                addr(r)
            ),
        ),
        66..=73 => (
            "postfix/smtpd",
            format!(
                "NOQUEUE: reject: RCPT from {h}[{}]: 554 5.7.1 Service unavailable; Client host [{}] blocked using zen.spamhaus.org; from=<{}> to=<{}> proto=ESMTP helo=<{h}>",
                ip(r),
                ip(r),
                addr(r),
                addr(r)
            ),
        ),
        74..=76 => (
            "postfix/smtpd",
            format!(
                "warning: {h}[{}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
                ip(r)
            ),
        ),
        77..=79 => (
            "postfix/smtpd",
            format!("lost connection after AUTH from {h}[{}]", ip(r)),
        ),
        80..=83 => (
            "postfix/smtpd",
            format!(
                "Anonymous TLS connection established from {h}[{}]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
                ip(r)
            ),
        ),
        84..=86 => (
            "postfix/postscreen",
            format!(
                "CONNECT from [{}]:{} to [192.0.2.1]:25",
                ip(r),
                1024 + r.below(60000)
            ),
        ),
        87..=88 => (
            "postfix/postscreen",
            format!("PASS OLD [{}]:{}", ip(r), 1024 + r.below(60000)),
        ),
        89 => (
            "postfix/postscreen",
            format!("DNSBL rank 3 for [{}]:{}", ip(r), 1024 + r.below(60000)),
        ),
        90..=91 => (
            "postfix/bounce",
            format!("{}: sender non-delivery notification: {}", qid(r), qid(r)),
        ),
        92..=93 => (
            "postfix/smtpd",
            format!(
                "warning: hostname {h} does not resolve to address {}: Name or service not known",
                ip(r)
            ),
        ),
        94 => (
            "postfix/anvil",
            format!(
                "statistics: max connection rate 8/60s for (smtp:{}) at Nov 27 07:58:40",
                ip(r)
            ),
        ),
        95..=96 => (
            "postfix/smtp",
            format!(
                "Trusted TLS connection established to {mx}[{}]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
                ip(r)
            ),
        ),
        97 => (
            "postfix/pickup",
            format!("{}: uid={} from=<www-data>", qid(r), 33 + r.below(2000)),
        ),
        _ => (
            "postfix/cleanup",
            format!(
                "{}: milter-reject: END-OF-MESSAGE from {h}[{}]: 5.7.1 Spam message rejected; from=<{}> to=<{}> proto=ESMTP helo=<{h}>",
                qid(r),
                ip(r),
                addr(r),
                addr(r)
            ),
        ),
    }
}

/// About `target` bytes of syslog lines, one day of a busy server.
fn build(target: usize) -> Vec<u8> {
    use std::io::Write;
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(target + 512);
    let mut n = 0u64;
    while out.len() < target {
        let (program, msg) = message(&mut r);
        let secs = n / 2000;
        let _ = writeln!(
            out,
            "Nov {:2} {:02}:{:02}:{:02} mx1 {program}[{}]: {msg}",
            27 + (secs / 86_400).min(3),
            secs / 3600 % 24,
            secs / 60 % 60,
            secs % 60,
            1000 + r.below(30_000)
        );
        n += 1;
    }
    out
}

fn mbps(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

#[test]
#[ignore = "throughput measurement; run in release with --ignored --nocapture"]
fn throughput() {
    let data = build(200_000_000);
    let lines = data.iter().filter(|&&b| b == b'\n').count();
    println!(
        "{} MB, {lines} lines, {:.0} bytes/line",
        data.len() / 1_000_000,
        data.len() as f64 / lines as f64
    );
    let runs = 3;

    let mut best = f64::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        let mut reader = LineReader::new(Cursor::new(&data[..]));
        let mut n = 0usize;
        while let Ok(Some(l)) = reader.next_line() {
            n += l.text.len();
        }
        assert!(n > 0);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "line reader alone:        {:6.0} MB/s",
        mbps(data.len(), best)
    );

    let mut best = f64::MAX;
    let mut counts = (0u64, 0u64);
    for _ in 0..runs {
        let t = Instant::now();
        let (mut events, mut delivered) = (0u64, 0u64);
        let st = scan_reader(
            "bench".into(),
            Cursor::new(&data[..]),
            YearSource::Fixed(2026),
            &ScanOptions::default(),
            |e, _| {
                events += 1;
                delivered += (e.kind == Kind::Delivered) as u64;
            },
        );
        best = best.min(t.elapsed().as_secs_f64());
        assert_eq!(st.unrecognised, 0);
        counts = (events, delivered);
    }
    println!(
        "whole pipeline:           {:6.0} MB/s ({} events, {} delivered)",
        mbps(data.len(), best),
        counts.0,
        counts.1
    );

    // This parser alone, on messages split beforehand.
    let text = std::str::from_utf8(&data).unwrap();
    let split: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| {
            let (_, rest) = time::syslog_prefix(l)?;
            let rec = syslog::record(rest)?;
            Some((rec.program, rec.message))
        })
        .collect();
    let ts = crate::model::event::Timestamp::new(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 27)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
        None,
    );
    let mut best = f64::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        let mut n = 0u64;
        for (program, msg) in &split {
            n += super::parse(ts, program, msg).is_some() as u64;
        }
        assert_eq!(n as usize, split.len());
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "postfix::parse alone:     {:6.0} MB/s of whole lines ({:.0} ns/line)",
        mbps(data.len(), best),
        best * 1e9 / split.len() as f64
    );
}
