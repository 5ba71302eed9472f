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
