//! Table tests for the Exim parser.

use super::*;

/// Diagnostic, not a check: parses every Exim file of `$MAILTRACE_CORPORA` and writes each
/// unrecognised line and each event to `/tmp/exim-dump-*.txt`.
#[test]
#[ignore]
fn corpus_dump() {
    use crate::parse::{LineParser, Parsed, YearSource};
    use std::io::Write;
    let Some(root) = std::env::var_os("MAILTRACE_CORPORA") else {
        return;
    };
    let root = std::path::PathBuf::from(root);
    let mut files = Vec::new();
    let mut stack = vec![
        root.join("exim-real"),
        root.join("exim-testsuite/log"),
        root.join("crowdsec-hub"),
        root.join("fail2ban"),
    ];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut unrec = std::fs::File::create("/tmp/exim-dump-unrec.txt").unwrap();
    let mut evs = std::fs::File::create("/tmp/exim-dump-events.txt").unwrap();
    for p in files {
        let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
        let mut lp = LineParser::new(Some(Mta::Exim), YearSource::Fixed(2020));
        for line in text.lines() {
            match lp.parse(line) {
                Parsed::Event(e) => {
                    writeln!(evs, "{}\t{}", line, fmt_event(&e)).unwrap();
                }
                Parsed::Unrecognised => {
                    writeln!(unrec, "{}: {}", p.display(), line).unwrap();
                }
                _ => {}
            }
        }
    }
}

fn fmt_event(e: &Event<'_>) -> String {
    let mut s = e.kind.as_str().to_string();
    macro_rules! f {
        ($($n:ident),*) => {$(
            if let Some(v) = &e.$n { s.push_str(&format!(" {}={:?}", stringify!($n), v)); }
        )*};
    }
    f!(
        queue_id,
        sender,
        recipient,
        original_recipient,
        host,
        ip,
        code,
        status,
        text,
        account,
        router,
        transport,
        size,
        subject,
        message_id,
        protocol,
        related_id,
        recipients,
        domain,
        limit
    );
    if e.retry_not_due {
        s.push_str(" retry_not_due");
    }
    s
}

// ---------------------------------------------------------------------------------------
// Throughput (ignored; run in release mode, see `bench_scan_throughput`)
// ---------------------------------------------------------------------------------------

/// A small deterministic generator of realistic cPanel-style mainlog traffic.
struct Traffic {
    state: u64,
    secs: u64,
}

const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const USERS: &[&str] = &[
    "info",
    "sales",
    "office",
    "noreply",
    "anna.berg",
    "j.doe",
    "billing",
];
const DOMAINS: &[&str] = &[
    "shop.example",
    "bakery-north.example",
    "law-office.example",
    "photo-studio.example",
    "club.example.org",
];
const REMOTE: &[(&str, &str, &str)] = &[
    ("gmail.example", "mx1.gmail.example", "192.0.2.26"),
    ("outlook.example", "mx-eu.outlook.example", "198.51.100.7"),
    ("yahoo.example", "mta6.am0.yahoo.example", "203.0.113.72"),
    ("isp.example.net", "mail.isp.example.net", "192.0.2.140"),
];

impl Traffic {
    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }

    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }

    fn id(&mut self, new_form: bool) -> String {
        let mut s = String::with_capacity(23);
        let (a, b, c) = if new_form { (6, 11, 4) } else { (6, 6, 2) };
        for (k, n) in [a, b, c].into_iter().enumerate() {
            if k > 0 {
                s.push('-');
            }
            for _ in 0..n {
                s.push(ALNUM[(self.next() % 62) as usize] as char);
            }
        }
        s
    }

    fn stamp(&mut self) -> String {
        self.secs += self.next() % 3;
        let s = self.secs;
        format!(
            "2026-11-{:02} {:02}:{:02}:{:02}",
            1 + (s / 86400) % 28,
            (s / 3600) % 24,
            (s / 60) % 60,
            s % 60
        )
    }

    /// Appends the lines of one message (or one connection-level event) to `out`.
    fn message(&mut self, out: &mut String) {
        use std::fmt::Write;
        let new_form = !self.next().is_multiple_of(4);
        let id = self.id(new_form);
        let user = *self.pick(USERS);
        let dom = *self.pick(DOMAINS);
        let cp = &dom[..dom.len().min(8)].replace(['.', '-'], "");
        let (rdom, mx, mxip) = *self.pick(REMOTE);
        let rcpt = format!("{}{}@{}", self.pick(USERS), self.next() % 1000, rdom);
        let ip = format!(
            "{}.{}.{}.{}",
            self.next() % 223 + 1,
            self.next() % 256,
            self.next() % 256,
            self.next() % 254 + 1
        );
        let port = 1024 + self.next() % 60000;
        let t = self.stamp();
        let r = self.next() % 100;
        if r < 12 {
            // Connection noise: scanners, brute force, rejections.
            let _ = writeln!(
                out,
                "{t} SMTP connection from [{ip}]:{port} (TCP/IP connection count = {})",
                1 + r % 7
            );
            match r % 4 {
                0 => {
                    let _ = writeln!(
                        out,
                        "{t} dovecot_login authenticator failed for (User) [{ip}]:{port}: 535 Incorrect authentication data (set_id={user}@{dom})"
                    );
                }
                1 => {
                    let _ = writeln!(
                        out,
                        "{t} H=(WIN-{}) [{ip}]:{port} F=<{user}@{rdom}> rejected RCPT <nobody{}@{dom}>: JunkMail rejected - (WIN) [{ip}]:{port} is in an RBL: https://www.spamhaus.example/query/ip/{ip}",
                        r, r
                    );
                }
                2 => {
                    let _ = writeln!(
                        out,
                        "{t} SMTP call from [{ip}]:{port} dropped: too many syntax or protocol errors (last command was \"\\026\\003\\001\", NULL)"
                    );
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "{t} TLS error on connection from [{ip}]:{port} (SSL_accept): error:0A000076:SSL routines::no suitable signature algorithm"
                    );
                }
            }
            let _ = writeln!(
                out,
                "{t} SMTP connection from (User) [{ip}]:{port} lost D=2.{}s",
                r
            );
            return;
        }
        let local = r < 40;
        if local {
            let _ = writeln!(
                out,
                "{t} cwd=/home/{cp}/public_html 3 args: /usr/sbin/sendmail -t -i"
            );
            let _ = writeln!(
                out,
                "{t} {id} <= {cp}@server.host.example U={cp} P=local S={} id={}.{}@{dom} T=\"Order #{} confirmation \\\"{}\\\"\" for {rcpt}",
                2000 + self.next() % 90000,
                self.next(),
                r,
                self.next() % 100000,
                user
            );
        } else {
            let _ = writeln!(
                out,
                "{t} SMTP connection from ({dom}) [{ip}]:{port} (TCP/IP connection count = 2)"
            );
            let _ = writeln!(
                out,
                "{t} {id} <= {user}@{dom} H=({dom}) [{ip}]:{port} P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_login:{user}@{dom} S={} id={:x}@{dom} T=\"Re: Meeting on Thursday about the {} project\" for {rcpt} {user}2@{rdom}",
                2000 + self.next() % 900000,
                self.next(),
                r
            );
        }
        let _ = writeln!(
            out,
            "{t} {id} Sender identification U={cp} D={dom} S={user}@{dom}"
        );
        let _ = writeln!(
            out,
            "{t} {id} SMTP connection outbound {} {id} {dom} {rcpt}",
            1_790_000_000 + self.secs
        );
        let t2 = self.stamp();
        match r % 10 {
            0 => {
                let _ = writeln!(
                    out,
                    "{t2} {id} == {rcpt} R=dkim_lookuphost T=dkim_remote_smtp defer (-44) H={mx} [{mxip}]: SMTP error from remote mail server after RCPT TO:<{rcpt}>: 451-4.7.1 Greylisted, please try again in 5 minutes.\\n451 4.7.1 See https://{rdom}/greylist for details"
                );
                let _ = writeln!(
                    out,
                    "{t2} {id} == {rcpt} R=dkim_lookuphost T=dkim_remote_smtp defer (-54): retry time not reached for any host for '{rdom}'"
                );
            }
            1 => {
                let _ = writeln!(
                    out,
                    "{t2} {id} ** {rcpt} F=<{user}@{dom}> R=dkim_lookuphost T=dkim_remote_smtp H={mx} [{mxip}] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes: SMTP error from remote mail server after RCPT TO:<{rcpt}>: 550-5.1.1 The email account that you tried to reach does not exist. Please try\\n550-5.1.1 double-checking the recipient's email address for typos or\\n550 5.1.1 unnecessary spaces. x12-20020a05 - gsmtp"
                );
                let bid = self.id(new_form);
                let _ = writeln!(
                    out,
                    "{t2} {bid} <= <> R={id} U=mailnull P=local S={} T=\"Mail delivery failed: returning message to sender\" for {user}@{dom}",
                    3000 + r
                );
                let _ = writeln!(
                    out,
                    "{t2} {bid} => {user} <{user}@{dom}> R=virtual_user T=virtual_userdelivery"
                );
                let _ = writeln!(out, "{t2} {bid} Completed");
            }
            2 if r < 30 => {
                let _ = writeln!(
                    out,
                    "{t2} {id} ** {rcpt} <{rcpt}> R=enforce_mail_permissions: Domain {dom} has exceeded the max defers and failures per hour (5/5 (100%)) allowed. Message discarded."
                );
            }
            _ => {
                let now = self.secs;
                let _ = writeln!(
                    out,
                    "{t2} {id} => {rcpt} R=dkim_lookuphost T=dkim_remote_smtp H={mx} [{mxip}] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes K C=\"250 2.0.0 OK  {} x{}si.{} - gsmtp\"",
                    now,
                    self.next() % 100000,
                    r
                );
                let _ = writeln!(
                    out,
                    "{t2} {id} -> {user}2@{rdom} R=dkim_lookuphost T=dkim_remote_smtp H={mx} [{mxip}]* X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes K C=\"250 2.0.0 OK  {} - gsmtp\"",
                    self.secs
                );
            }
        }
        let _ = writeln!(out, "{t2} {id} Completed");
        if !local {
            let _ = writeln!(
                out,
                "{t2} SMTP connection from ({dom}) [{ip}]:{port} closed by QUIT"
            );
        }
    }
}

/// Builds about `mb` megabytes of mainlog text.
fn build_traffic(mb: usize) -> String {
    let mut g = Traffic {
        state: 0x9E37_79B9_7F4A_7C15,
        secs: 0,
    };
    let mut out = String::with_capacity(mb * 1_000_000 + 4096);
    while out.len() < mb * 1_000_000 {
        g.message(&mut out);
    }
    out
}

/// Throughput of the whole pipeline (LineReader → LineParser → Exim parser) on generated
/// cPanel-style traffic. Not a check; run with
/// `cargo test --release --lib bench_scan_throughput -- --ignored --nocapture`.
/// `MAILTRACE_BENCH_MB` sets the size (default 200); with `MAILTRACE_BENCH_FILE` the text is
/// written to that file once and read back through a `BufReader<File>`, so that peak memory
/// can be compared across sizes.
#[test]
#[ignore]
fn bench_scan_throughput() {
    use crate::parse::YearSource;
    use crate::scan::{ScanOptions, scan_reader};
    let mb: usize = std::env::var("MAILTRACE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let opts = ScanOptions {
        samples: 5,
        ..ScanOptions::default()
    };
    let mut kinds = std::collections::BTreeMap::new();
    let start;
    let st = if let Some(path) = std::env::var_os("MAILTRACE_BENCH_FILE") {
        let path = std::path::PathBuf::from(path);
        if !path.exists() {
            std::fs::write(&path, build_traffic(mb)).unwrap();
        }
        let f = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(&path).unwrap());
        start = std::time::Instant::now();
        scan_reader("bench".into(), f, YearSource::Fixed(2026), &opts, |e, _| {
            *kinds.entry(e.kind.as_str()).or_insert(0u64) += 1;
        })
    } else {
        let text = build_traffic(mb);
        start = std::time::Instant::now();
        scan_reader(
            "bench".into(),
            std::io::Cursor::new(text.as_bytes()),
            YearSource::Fixed(2026),
            &opts,
            |e, _| {
                *kinds.entry(e.kind.as_str()).or_insert(0u64) += 1;
            },
        )
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "scan_reader: {} bytes, {} lines, {} events, {} unrecognised in {:.3} s: {:.0} MB/s, {:.2} M lines/s",
        st.bytes,
        st.lines,
        st.events,
        st.unrecognised,
        secs,
        st.bytes as f64 / 1e6 / secs,
        st.lines as f64 / 1e6 / secs
    );
    println!("{kinds:?}");
    for (n, l) in &st.samples {
        println!("  unrecognised {n}: {l}");
    }
    if std::env::var_os("MAILTRACE_BENCH_FILE").is_none() {
        // The Exim parser alone, on the text after the timestamp.
        let text = build_traffic(mb.min(100));
        let rests: Vec<&str> = text.lines().map(|l| &l[20..]).collect();
        let t = Timestamp::new(chrono::NaiveDateTime::default(), None);
        let start = std::time::Instant::now();
        let mut n = 0usize;
        for r in &rests {
            n += usize::from(std::hint::black_box(parse(t, r)).is_some());
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "exim::parse alone: {} lines ({} events) in {:.3} s: {:.0} MB/s, {:.0} ns/line",
            rests.len(),
            n,
            secs,
            text.len() as f64 / 1e6 / secs,
            secs * 1e9 / rests.len() as f64
        );
    }
}
