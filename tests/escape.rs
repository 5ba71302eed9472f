//! No escape sequence from a log reaches a terminal: Exim and Postfix logs whose addresses,
//! HELO names, host names, reply texts, subjects and accounts carry random hostile strings
//! (CSI, OSC titles, OSC 8 hyperlinks, C1 CSI, BEL, DEL, bidi, zero-width, invalid UTF-8)
//! go through every subcommand and format of the binary, colour off; no ESC, BEL, C1,
//! DEL, other C0 control (but the line end), bidi, zero-width or BOM character may appear
//! on stdout, stderr or in a written suppression list.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use crate::util::mailtrace;

/// Pieces of hostile text, each a class the sanitiser must catch (or a harmless filler).
const PIECES: &[&[u8]] = &[
    b"\x1b[31m",
    b"\x1b[0m",
    b"\x1b[2J\x1b[H",
    b"\x1b]0;PWNED\x07",
    b"\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    b"\x1bP+q\x1b\\",
    b"\x1b",
    "\u{9b}31m".as_bytes(),
    "\u{9d}0;t\u{9c}".as_bytes(),
    b"\x07",
    b"\x7f",
    b"\x00",
    b"\x08\x08",
    b"\r",
    b"\t",
    b"\x0b\x0c",
    "\u{202a}".as_bytes(),
    "\u{202b}".as_bytes(),
    "\u{202c}".as_bytes(),
    "\u{202d}".as_bytes(),
    "\u{202e}".as_bytes(),
    "\u{2066}".as_bytes(),
    "\u{2067}".as_bytes(),
    "\u{2068}".as_bytes(),
    "\u{2069}".as_bytes(),
    "\u{200b}".as_bytes(),
    "\u{200c}".as_bytes(),
    "\u{200d}".as_bytes(),
    "\u{2060}".as_bytes(),
    "\u{feff}".as_bytes(),
    "\u{2028}".as_bytes(),
    // Invalid UTF-8: a raw 8-bit CSI, a lone lead byte, a stray continuation, 0xff.
    b"\x9b",
    b"\x9b31m",
    b"\xc2",
    b"\x80",
    b"\xff\xfe",
    b"\xe2\x80",
    // Markup that other formats must defuse.
    b"=cmd|' /C calc'!A0",
    b"+1",
    b"-2",
    b"@SUM(A1)",
    b"[x](http://evil.example)",
    b"<script>",
    b"|",
    b"`",
    b"*",
    b"_",
    b"#",
    b"\"",
    b",",
    b"a",
    b"evil",
    b"example",
    b".",
    b" ",
];

/// One piece of hostile text: a listed piece, or any character.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::sample::select(PIECES).prop_map(|p| p.to_vec()),
        1 => any::<char>().prop_map(|c| c.to_string().into_bytes()),
    ]
}

/// A random hostile string of 1 to 6 pieces.
fn hostile() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(piece(), 1..6).prop_map(|v| v.concat())
}

/// The log fields that carry hostile text.
#[derive(Debug, Clone)]
struct Fields {
    /// Address local parts and domain labels, HELO and host names, the account: no spaces.
    tokens: Vec<Vec<u8>>,
    /// Reply texts and subjects: spaces allowed.
    texts: Vec<Vec<u8>>,
}

fn fields() -> impl Strategy<Value = Fields> {
    (
        proptest::collection::vec(hostile(), 6),
        proptest::collection::vec(hostile(), 3),
    )
        .prop_map(|(tokens, texts)| Fields {
            tokens: tokens.into_iter().map(|t| one_line(t, b'_')).collect(),
            texts: texts.into_iter().map(|t| one_line(t, b' ')).collect(),
        })
}

/// Keeps a field on its line (and a token in one word): line ends, and for tokens spaces
/// too, become `with`.
fn one_line(mut t: Vec<u8>, with: u8) -> Vec<u8> {
    for b in &mut t {
        if *b == b'\n' || (with == b'_' && *b == b' ') {
            *b = with;
        }
    }
    t
}

/// Byte-string formatting: `{0}` … `{9}` in `template` are replaced by `args`.
fn fill(template: &str, args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = template.as_bytes();
    while let Some(i) = rest.iter().position(|&b| b == b'{') {
        out.extend_from_slice(&rest[..i]);
        let n = (rest[i + 1] - b'0') as usize;
        out.extend_from_slice(args[n]);
        rest = &rest[i + 3..];
    }
    out.extend_from_slice(rest);
    out
}

const EXIM_ID: &str = "1tWx9Q-00000000Aq3-4kZ1";
const EXIM_ID2: &str = "1tWxAB-00000000Bc4-5kZ2";
const POSTFIX_ID: &str = "2D4C6E8A01";
const POSTFIX_ID2: &str = "3E5D7F9B12";
/// The sender of the first message, clean so that `trace ADDRESS` finds it; the second
/// message comes from a hostile sender (so `follow` alerts name a hostile domain).
const SENDER: &str = "info@shop.example";

/// The hostile sender: `{local}@{dom}.example`.
fn hostile_sender(f: &Fields) -> Vec<u8> {
    [&f.tokens[5][..], b"@", &f.tokens[1], b".example"].concat()
}

/// One Exim message from `sender`: an arrival with hostile HELO, account, subject and
/// recipients, six hostile `**` bounces (a cPanel trip) and a `==` deferral.
fn exim_message(f: &Fields, id: &str, sender: &[u8], minute: u8) -> Vec<u8> {
    let [rcpt, dom, helo, host, acct, local] = [0, 1, 2, 3, 4, 5].map(|i| f.tokens[i].as_slice());
    let [reply, subject, other] = [0, 1, 2].map(|i| f.texts[i].as_slice());
    let m = [b'0' + minute];
    let mut log = fill(
        &format!(
            "2026-11-26 14:{{8}}1:11 {id} <= {{7}} H=({{2}}) [203.0.113.77]:52144 P=esmtpsa A=dovecot_login:{{4}} S=4312 id=x{{5}}@shop.example T=\"{{6}}\" for {{0}}@gmail.com {{5}}@{{1}}.example\n"
        ),
        &[rcpt, dom, helo, host, acct, local, subject, sender, &m],
    );
    for n in 0..6u8 {
        let n = [b'0' + n];
        log.extend(fill(
            &format!(
                "2026-11-26 14:{{4}}1:1{{2}} {id} ** {{0}}{{2}}@gmail.com R=dkim_lookuphost T=dkim_remote_smtp H={{1}} [192.0.2.201]: SMTP error from remote mail server after RCPT TO:<{{0}}{{2}}@gmail.com>: 550 5.1.1 {{3}}\n"
            ),
            &[rcpt, host, &n, reply, &m],
        ));
    }
    log.extend(fill(
        &format!(
            "2026-11-26 14:{{4}}1:17 {id} == {{0}}@{{1}}.example R=dnslookup T=remote_smtp defer (-44) H={{2}} [198.51.100.25]: SMTP error from remote mail server after RCPT TO:<{{0}}@{{1}}.example>: 451 4.7.1 {{3}}\n\
             2026-11-26 14:{{4}}1:18 {id} {{5}}\n\
             2026-11-26 14:{{4}}1:20 {id} Completed\n"
        ),
        &[local, dom, host, other, &m, reply],
    ));
    log
}

/// An Exim mainlog: a message from [`SENDER`] and one from the hostile sender, an SMTP-time
/// rejection and unrecognised lines, all with hostile fields.
fn exim_log(f: &Fields) -> Vec<u8> {
    let [rcpt, dom, helo, host, _, local] = [0, 1, 2, 3, 4, 5].map(|i| f.tokens[i].as_slice());
    let reply = f.texts[0].as_slice();
    let mut log = exim_message(f, EXIM_ID, SENDER.as_bytes(), 0);
    log.extend(exim_message(f, EXIM_ID2, &hostile_sender(f), 2));
    log.extend(fill(
        "2026-11-26 14:30:18 {0}\n2026-11-26 14:30:19 H={1} ({2}) [203.0.113.9]:33710 F=<{3}@{4}> rejected RCPT <{5}@example.com>: {0}\n",
        &[reply, host, helo, local, dom, rcpt],
    ));
    log
}

/// One Postfix message from `sender`: a submission with hostile client host name, account
/// and recipients, a header warning with a hostile subject, six bounces and a deferral with
/// hostile reply texts, and an unrecognised line.
fn postfix_message(f: &Fields, q: &str, sender: &[u8], minute: u8) -> Vec<u8> {
    let [rcpt, dom, helo, host, acct, local] = [0, 1, 2, 3, 4, 5].map(|i| f.tokens[i].as_slice());
    let [reply, subject, other] = [0, 1, 2].map(|i| f.texts[i].as_slice());
    let m = [b'0' + minute];
    let mut log = fill(
        &format!(
            "Nov 26 14:{{6}}1:11 mx1 postfix/submission/smtpd[3301]: connect from {{0}}[198.51.100.77]\n\
             Nov 26 14:{{6}}1:11 mx1 postfix/submission/smtpd[3301]: {q}: client={{0}}[198.51.100.77], sasl_method=PLAIN, sasl_username={{1}}\n\
             Nov 26 14:{{6}}1:11 mx1 postfix/cleanup[3105]: {q}: message-id=<{{2}}@shop.example>\n\
             Nov 26 14:{{6}}1:11 mx1 postfix/cleanup[3105]: {q}: warning: header Subject: {{3}} from {{0}}[198.51.100.77]; from=<{{5}}> to=<{{2}}@gmail.com> proto=ESMTP helo=<{{4}}>\n\
             Nov 26 14:{{6}}1:11 mx1 postfix/qmgr[1120]: {q}: from=<{{5}}>, size=5520, nrcpt=7 (queue active)\n"
        ),
        &[host, acct, rcpt, subject, helo, sender, &m],
    );
    for n in 0..6u8 {
        let n = [b'0' + n];
        log.extend(fill(
            &format!(
                "Nov 26 14:{{4}}1:1{{2}} mx1 postfix/smtp[3303]: {q}: to=<{{0}}{{2}}@gmail.com>, relay={{1}}[192.0.2.201]:25, delay=0.9, delays=0.05/0.01/0.5/0.34, dsn=5.1.1, status=bounced (host {{1}}[192.0.2.201] said: 550 5.1.1 {{3}} (in reply to RCPT TO command))\n"
            ),
            &[rcpt, host, &n, reply, &m],
        ));
    }
    log.extend(fill(
        &format!(
            "Nov 26 14:{{4}}1:17 mx1 postfix/smtp[3304]: {q}: to=<{{0}}@{{1}}.example>, relay={{2}}[198.51.100.25]:25, delay=1, delays=0.05/0.01/0.5/0.4, dsn=4.7.1, status=deferred (host {{2}}[198.51.100.25] said: 451 4.7.1 {{3}} (in reply to RCPT TO command))\n\
             Nov 26 14:{{4}}1:18 mx1 postfix/smtp[3304]: {q}: {{5}}\n\
             Nov 26 14:{{4}}1:20 mx1 postfix/qmgr[1120]: {q}: removed\n"
        ),
        &[local, dom, host, other, &m, reply],
    ));
    log
}

/// A Postfix syslog: a message from [`SENDER`] and one from the hostile sender, a NOQUEUE
/// rejection with hostile HELO and an unrecognised line.
fn postfix_log(f: &Fields) -> Vec<u8> {
    let [rcpt, dom, helo, host, _, local] = [0, 1, 2, 3, 4, 5].map(|i| f.tokens[i].as_slice());
    let reply = f.texts[0].as_slice();
    let mut log = postfix_message(f, POSTFIX_ID, SENDER.as_bytes(), 0);
    log.extend(postfix_message(f, POSTFIX_ID2, &hostile_sender(f), 2));
    log.extend(fill(
        "Nov 26 14:30:18 mx1 postfix/smtpd[4010]: NOQUEUE: reject: RCPT from {2}[198.51.100.61]: 550 5.1.1 <{4}@example.com>: Recipient address rejected: {3}; from=<{0}@{1}> to=<{4}@example.com> proto=ESMTP helo=<{5}>\n\
         Nov 26 14:30:19 mx1 postfix/qmgr[1120]: {3}\n",
        &[local, dom, host, reply, rcpt, helo],
    ));
    log
}

/// The first forbidden character or byte in `bytes`, if any: ESC, BEL, any other C0 control
/// but the line end, DEL, C1 (U+0080–U+009F, also as a raw byte 0x80–0x9f outside a UTF-8
/// sequence), bidi controls, zero-width characters, line and paragraph separators and the BOM.
fn forbidden(bytes: &[u8]) -> Option<String> {
    for chunk in bytes.utf8_chunks() {
        if let Some(c) = chunk.valid().chars().find(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
        }) {
            return Some(format!("{c:?}"));
        }
        if let Some(b) = chunk.invalid().iter().find(|&&b| (0x80..0xa0).contains(&b)) {
            return Some(format!("raw byte {b:#04x}"));
        }
    }
    None
}

/// Fails the case if `out` (of the run described by `what`) holds a forbidden character.
fn check(what: &str, stream: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Some(bad) = forbidden(bytes) {
        let line = bytes
            .split(|&b| b == b'\n')
            .find(|l| forbidden(l).is_some())
            .map(|l| String::from_utf8_lossy(l).escape_debug().to_string())
            .unwrap_or_default();
        return Err(TestCaseError::fail(format!(
            "{what}: {bad} on {stream}, in line: {line}"
        )));
    }
    Ok(())
}

/// Runs the binary with `args` and checks its exit status, stdout and stderr; every
/// problem is added to `failures`.
fn run(what: &str, args: &[&std::ffi::OsStr], failures: &mut Vec<String>) {
    let out = mailtrace().args(args).output().unwrap();
    if !matches!(out.status.code(), Some(0..=2)) {
        failures.push(format!("{what}: exit {:?}", out.status));
    }
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        if let Err(e) = check(what, stream, bytes) {
            failures.push(e.to_string());
        }
    }
}

/// Every subcommand and format that reads a log and exits, on `exim` and `postfix`.
fn every_batch_command(dir: &Path, f: &Fields) -> Result<(), TestCaseError> {
    let exim = dir.join("exim_mainlog");
    let postfix = dir.join("maillog");
    std::fs::write(&exim, exim_log(f)).unwrap();
    std::fs::write(&postfix, postfix_log(f)).unwrap();
    let suppression = dir.join("suppress.csv");
    let os = |s: &str| std::ffi::OsString::from(s);
    let logs = [
        exim.clone().into_os_string(),
        postfix.clone().into_os_string(),
    ];
    let year = [os("--year"), os("2026")];
    let mut runs: Vec<(String, Vec<std::ffi::OsString>)> = vec![
        (
            "events".into(),
            [os("events")].into_iter().chain(year.clone()).collect(),
        ),
        (
            "report -v".into(),
            [
                os("report"),
                os("-v"),
                os("--color"),
                os("never"),
                os("--top"),
                os("0"),
            ]
            .into_iter()
            .chain(year.clone())
            .collect(),
        ),
    ];
    for format in ["text", "markdown", "json", "ndjson", "csv"] {
        let mut a = vec![
            os("report"),
            os("--format"),
            os(format),
            os("--color"),
            os("never"),
        ];
        a.extend(year.clone());
        a.extend([os("--top"), os("0"), os("--suppression-list")]);
        a.push(suppression.clone().into_os_string());
        runs.push((format!("report --format {format}"), a));
    }
    let mut targets = vec![os(SENDER), os(EXIM_ID2), os(POSTFIX_ID2), os("gmail.com")];
    // A hostile recipient as the target too, when it can be an argument.
    let rcpt = [&f.tokens[0][..], b"0@gmail.com"].concat();
    if let Ok(s) = String::from_utf8(rcpt)
        && !s.contains('\0')
    {
        targets.push(os(&s));
    }
    for t in targets {
        let mut a = vec![os("trace"), os("-v"), os("--color"), os("never")];
        a.extend(year.clone());
        a.push(t.clone());
        runs.push((format!("trace {}", t.to_string_lossy().escape_debug()), a));
    }
    let mut failures = Vec::new();
    for (what, mut args) in runs {
        args.extend(logs.iter().cloned());
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        run(&what, &args, &mut failures);
        if let Ok(csv) = std::fs::read(&suppression) {
            if let Err(e) = check(&what, "the suppression list", &csv) {
                failures.push(e.to_string());
            }
            std::fs::remove_file(&suppression).unwrap();
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(TestCaseError::fail(failures.join("\n")))
    }
}

/// The number of cases: `PROPTEST_CASES`, or `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(6),
        max_shrink_iters: 16,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// `events`, `report` in every format and with `-v`, and `trace` by address, queue ID,
    /// domain and a hostile address: nothing forbidden on any output.
    #[test]
    fn no_control_reaches_the_output_of_any_command(f in fields()) {
        let dir = tempfile::tempdir().unwrap();
        every_batch_command(dir.path(), &f)?;
    }
}

/// Runs `follow` on `logs` from their start until it has printed something and then been
/// quiet for a while (or 20 s have passed), kills it and returns what it printed.
fn follow_output(format: &str, logs: &[&Path]) -> (Vec<u8>, Vec<u8>) {
    let mut child = mailtrace()
        .args(["follow", "--from-start", "--poll", "--poll-interval", "50"])
        .args(["--format", format, "--color", "never", "--year", "2026"])
        .args(["--now", "2026-11-26 14:00:00", "-v"])
        .args(logs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        let mut line = Vec::new();
        while r.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            if tx.send(std::mem::take(&mut line)).is_err() {
                break;
            }
        }
    });
    let mut stderr = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut out = Vec::new();
    while Instant::now() < deadline {
        let quiet = if out.is_empty() { 1000 } else { 700 };
        match rx.recv_timeout(Duration::from_millis(quiet)) {
            Ok(line) => out.extend(line),
            Err(mpsc::RecvTimeoutError::Timeout) if !out.is_empty() => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    child.kill().unwrap();
    let _ = child.wait();
    while let Ok(line) = rx.try_recv() {
        out.extend(line);
    }
    (out, err.join().unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(6).div_ceil(3),
        max_shrink_iters: 4,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// `follow` (text and JSON alerts, `-v` notices) on the same logs: it runs until killed,
    /// so it is stopped once its alerts for the replayed lines are out.
    #[test]
    fn no_control_reaches_follow_alerts(f in fields()) {
        let dir = tempfile::tempdir().unwrap();
        follow_both_formats(dir.path(), &f)?;
    }
}

/// Every piece in every field, in a different order per field.
fn all_pieces() -> Fields {
    let rotated = |i: usize, with: u8| {
        let mut p = PIECES.to_vec();
        p.rotate_left(i * 7 % PIECES.len());
        one_line(p.concat(), with)
    };
    Fields {
        tokens: (0..6).map(|i| rotated(i, b'_')).collect(),
        texts: (0..3).map(|i| rotated(i, b' ')).collect(),
    }
}

/// Follows the logs of `f` in both formats and checks what `follow` printed.
fn follow_both_formats(dir: &Path, f: &Fields) -> Result<(), TestCaseError> {
    let exim = dir.join("exim_mainlog");
    let postfix = dir.join("maillog");
    std::fs::write(&exim, exim_log(f)).unwrap();
    std::fs::write(&postfix, postfix_log(f)).unwrap();
    for format in ["text", "json"] {
        let (out, err) = follow_output(format, &[&exim, &postfix]);
        let what = format!("follow --format {format}");
        prop_assert!(!out.is_empty(), "{}: no alert for the replayed trips", what);
        check(&what, "stdout", &out)?;
        check(&what, "stderr", &err)?;
    }
    Ok(())
}

/// Every class at once, in every field, through every command (follow included).
#[test]
fn every_piece_in_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let f = all_pieces();
    if let Err(e) =
        every_batch_command(dir.path(), &f).and_then(|()| follow_both_formats(dir.path(), &f))
    {
        panic!("{e}");
    }
}

#[test]
fn the_checker_finds_every_forbidden_class() {
    for p in PIECES.iter().take(33) {
        assert!(forbidden(p).is_some(), "{:?}", String::from_utf8_lossy(p));
    }
    assert!(forbidden(b"\x9b").is_some());
    assert!(forbidden("\u{9b}".as_bytes()).is_some());
    assert!(forbidden("ok \\x1b[31m Û ╛ …\n".as_bytes()).is_none());
}

/// Markup planted in a reply text, a subject, the sender's domain and the account.
const MARKUP: &str = "[click](http://evil.example) **bold** ![i](http://evil.example/x.png) <b>x</b> https://evil.example www.evil.example ~~s~~ &#x202e;";

/// `line` without its code spans (`` `…` ``, ``` ``…`` ```), where nothing is markup.
fn outside_code(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find('`') {
        out.push_str(&rest[..i]);
        let run = rest[i..].bytes().take_while(|&b| b == b'`').count();
        let fence = &rest[i..i + run];
        match rest[i + run..].find(fence) {
            Some(j) => rest = &rest[i + run + j + run..],
            None => {
                out.push_str(&rest[i..]);
                return out;
            }
        }
    }
    out.push_str(rest);
    out
}

/// No log text becomes a link, an image, an autolink, raw HTML, emphasis or an entity in
/// the Markdown report: outside code spans, the planted markup shows only escaped.
#[test]
fn markdown_report_keeps_log_text_inert() {
    let link = "[t](http://evil.example)";
    let mut log = format!(
        "2026-11-26 14:05:11 {EXIM_ID} <= info@shop{link}.example H=(h) [203.0.113.77]:52144 P=esmtpsa A=dovecot_login:acc{link} S=4312 id=x@shop.example T=\"subj {MARKUP}\" for r@gmail.com\n"
    );
    for n in 0..6 {
        log.push_str(&format!(
            "2026-11-26 14:05:1{n} {EXIM_ID} ** r{n}@gmail.com R=dkim_lookuphost T=dkim_remote_smtp H=host [192.0.2.201]: SMTP error from remote mail server after RCPT TO:<r{n}@gmail.com>: 550 5.1.1 {}\n",
            MARKUP.replace('<', "(").replace('>', ")")
        ));
    }
    log.push_str(&format!("2026-11-26 14:05:20 {EXIM_ID} Completed\n"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exim_mainlog");
    std::fs::write(&path, log).unwrap();
    let out = mailtrace()
        .args(["report", "--format", "markdown", "--top", "0"])
        .arg(&path)
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    let live: Vec<String> = md
        .lines()
        .map(outside_code)
        .filter(|l| {
            ["](", "![", "<b>", "www.", "**bold**", "~~s~~", "&#x"]
                .iter()
                .any(|m| l.contains(m))
                || l.match_indices("://").any(|(i, _)| !l[..i].ends_with('\\'))
        })
        .collect();
    assert!(live.is_empty(), "live markup:\n{}", live.join("\n"));
}

#[test]
fn code_spans_are_left_out_of_the_markup_check() {
    assert_eq!(outside_code("a `[x](y)` b ``c`d`` e"), "a  b  e");
    assert_eq!(outside_code("a `open"), "a `open");
}
