//! Unit tests of the classifier: the cause table, pattern files, normalisation, precedence,
//! fallbacks, loading and the cache.

use super::*;

fn c() -> &'static Classifier {
    static C: std::sync::OnceLock<Classifier> = std::sync::OnceLock::new();
    C.get_or_init(Classifier::builtin)
}

fn cause(code: Option<u16>, status: Option<&str>, text: &str) -> Cause {
    c().classify(code, status, text).cause
}

#[test]
fn names_round_trip_and_are_distinct() {
    for cause in Cause::ALL {
        assert_eq!(Cause::from_name(cause.as_str()), Some(cause));
        assert!(!cause.describe().is_empty());
        let json = serde_json::to_string(&cause).unwrap();
        assert_eq!(json, format!("\"{}\"", cause.as_str()));
    }
    let mut p = Cause::PRECEDENCE.to_vec();
    p.sort();
    assert_eq!(p, Cause::ALL.to_vec(), "PRECEDENCE lists every cause once");
    assert_eq!(Cause::from_name("nope"), None);
}

#[test]
fn precedence_is_the_documented_order() {
    use Cause::*;
    assert_eq!(
        Cause::PRECEDENCE,
        [
            SendingLimit,
            Blocklisted,
            RelayDenied,
            Greylisted,
            MailboxFull,
            TooLarge,
            MailboxDisabled,
            UserUnknown,
            AuthPolicy,
            RateLimited,
            SpamContent,
            Blocked,
            Expired,
            Network,
            DomainInvalid,
            RemoteError,
            Other,
        ],
        "the order of patterns/README.md"
    );
}

#[test]
fn every_builtin_file_compiles_and_has_a_header() {
    for (cause, text) in BUILTIN {
        let name = format!("patterns/{}.txt", cause.as_str());
        let src = Source {
            cause,
            name: name.clone(),
            text: text.to_string(),
            user: false,
        };
        let one = Classifier::from_sources(vec![src]).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            text.starts_with(&format!("# {name}")),
            "{name} must start with its header comment"
        );
        if cause != Cause::Other {
            assert!(one.rule_count() > 0, "{name} has no rules");
        }
        // Each regex also compiles on its own (the error path relies on it).
        for line in text.lines() {
            if let Some((_, re)) = parse_line(line).unwrap() {
                regex_builder(re).build().unwrap();
            }
        }
    }
    assert!(c().rule_count() > 100);
}

#[test]
fn bad_pattern_is_reported_with_file_and_line() {
    let src = Source {
        cause: Cause::UserUnknown,
        name: "patterns/user_unknown.txt".into(),
        text: "# header\n\nuser unknown\n[code=5xx] (unclosed\n".into(),
        user: false,
    };
    let e = Classifier::from_sources(vec![src]).unwrap_err();
    assert_eq!(e.line, Some(4));
    assert_eq!(
        e.to_string(),
        "patterns/user_unknown.txt:4: regex parse error: unclosed group"
    );
    let src = Source {
        cause: Cause::Blocked,
        name: "x/blocked.txt".into(),
        text: "ok\n[code=5z1] blocked\n".into(),
        user: false,
    };
    let e = Classifier::from_sources(vec![src]).unwrap_err();
    assert_eq!(e.to_string(), "x/blocked.txt:2: bad condition `[code=5z1]`");
    let src = Source {
        cause: Cause::Blocked,
        name: "x/blocked.txt".into(),
        text: "[status=5.7.*]\n".into(),
        user: false,
    };
    let e = Classifier::from_sources(vec![src]).unwrap_err();
    assert_eq!(e.to_string(), "x/blocked.txt:1: conditions without a regex");
}

#[test]
fn line_format() {
    assert_eq!(parse_line("   # comment"), Ok(None));
    assert_eq!(parse_line("  "), Ok(None));
    let (conds, re) = parse_line("[code=5xx,421] [status!=5.1.*] foo bar ")
        .unwrap()
        .unwrap();
    assert_eq!(re, "foo bar");
    assert_eq!(conds.len(), 2);
    assert!(conds[0].holds(Some(550), None));
    assert!(conds[0].holds(Some(421), None));
    assert!(!conds[0].holds(Some(450), None));
    assert!(!conds[0].holds(None, None));
    let s = |x: &str| Status::parse(x);
    assert!(!conds[1].holds(None, s("5.1.1")));
    assert!(conds[1].holds(None, s("5.2.1")));
    assert!(
        conds[1].holds(None, None),
        "!= holds when the value is absent"
    );
    // A character class is not a condition.
    let (conds, re) = parse_line("[a-z]+ unknown").unwrap().unwrap();
    assert!(conds.is_empty());
    assert_eq!(re, "[a-z]+ unknown");
    // none and class
    let (conds, _) = parse_line("[code=none] [class=4] x").unwrap().unwrap();
    assert!(conds[0].holds(None, None));
    assert!(!conds[0].holds(Some(550), None));
    assert!(conds[1].holds(Some(550), s("4.4.7")), "status class wins");
    assert!(conds[1].holds(Some(450), None));
    assert!(!conds[1].holds(None, None));
    assert!(parse_line("[status=5.7] x").is_err());
    assert!(parse_line("[status=5.7.*] x").is_ok());
    assert!(parse_line("[status=*.1.1] x").is_ok());
}

#[test]
fn normalisation_joins_exim_multiline_replies() {
    let raw = "550-5.1.1 The email account that you tried to reach does not exist. Please try\\n550-5.1.1 double-checking the recipient's email address for typos or\\n550-5.1.1 unnecessary spaces. Learn more at\\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si2 - gsmtp";
    let n = normalise_full(raw);
    assert_eq!(n.code, Some(550));
    assert_eq!(n.status, Status::parse("5.1.1"));
    assert_eq!(
        n.text,
        "the email account that you tried to reach does not exist. please try double-checking \
         the recipient's email address for typos or unnecessary spaces. learn more at \
         https://support.google.com/mail/?p=nosuchuser a1si2 - gsmtp"
    );
    assert_eq!(
        cause(None, None, raw),
        Cause::UserUnknown,
        "classified from the joined text"
    );
    // Continuation lines without a status, and real line breaks.
    let n = normalise_full("451-Mailbox temporarily\n451 locked, retry later");
    assert_eq!(n.code, Some(451));
    assert_eq!(n.status, None);
    assert_eq!(n.text, "mailbox temporarily locked, retry later");
}

#[test]
fn normalisation_keeps_numbers_that_are_not_codes() {
    let n = normalise_full(
        "SMTP; 554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 Connection timed out>",
    );
    assert_eq!(n.code, Some(554));
    assert_eq!(n.status, Status::parse("4.4.7"));
    assert_eq!(
        n.text,
        "message expired: unable to deliver in 840 minutes.<421 connection timed out>"
    );
    let n = normalise_full(
        "Domain x.example has exceeded the max emails per hour (250/250 (100%)) allowed.  Message discarded.",
    );
    assert_eq!(n.code, None);
    assert!(n.text.contains("(250/250 (100%))"));
    let n = normalise_full(
        "host mx.example[192.0.2.4] said: 550 unknown user (in reply to RCPT TO command)",
    );
    assert_eq!(n.code, Some(550), "after `said:`");
    assert_eq!(
        n.text,
        "host mx.example[192.0.2.4] said: unknown user (in reply to rcpt to command)"
    );
    let n = normalise_full("Exim 4.94.2 says: mail from 10.4.5.2 is fine, 550 of them");
    assert_eq!(n.status, None);
    assert_eq!(n.code, None);
    assert!(n.text.contains("4.94.2") && n.text.contains("10.4.5.2") && n.text.contains("550 of"));
    let n = normalise_full("sorry, no mailbox here by that name. (#5.1.1)");
    assert_eq!(n.status, Status::parse("5.1.1"));
    assert_eq!(n.text, "sorry, no mailbox here by that name.");
}

#[test]
fn precedence_between_files() {
    // A named list wins over the bare word "blocked" and over "spam" in "spamhaus".
    assert_eq!(
        cause(
            Some(554),
            Some("5.7.1"),
            "Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org"
        ),
        Cause::Blocklisted
    );
    // "Mailbox full" wins over a generic mailbox-status code and over "user" words.
    assert_eq!(
        cause(
            Some(550),
            Some("5.2.0"),
            "Sorry, the user's mailbox is full"
        ),
        Cause::MailboxFull
    );
    // The text wins over the enhanced status.
    assert_eq!(
        cause(
            Some(550),
            Some("5.2.1"),
            "<bob@example.net>... User unknown"
        ),
        Cause::UserUnknown
    );
    // Local cPanel limits win over everything, but only without a reply code.
    let cpanel = "Domain shop.example has exceeded the max defers and failures per hour (5/5 (100%)) allowed. Message discarded.";
    assert_eq!(cause(None, None, cpanel), Cause::SendingLimit);
    assert_eq!(
        cause(Some(550), None, cpanel),
        Cause::RateLimited,
        "a smarthost said it"
    );
    // Authentication failures explained with "to protect our users from spam".
    assert_eq!(
        cause(
            Some(550),
            Some("5.7.26"),
            "This mail has been blocked because the sender is unauthenticated. To protect our users from spam, mail must pass SPF or DKIM checks"
        ),
        Cause::AuthPolicy
    );
    // Expiry wraps a network error; a specific reason wins over expiry.
    assert_eq!(
        cause(None, None, "retry timeout exceeded: connection timed out"),
        Cause::Expired
    );
    assert_eq!(
        cause(None, None, "mailbox is full: retry timeout exceeded"),
        Cause::MailboxFull
    );
    // Temporary DNS failure is not a missing domain.
    assert_eq!(
        cause(
            None,
            Some("4.4.3"),
            "Host or domain name not found. Name service error for name=example.org type=MX: Host not found, try again"
        ),
        Cause::Network
    );
    assert_eq!(
        cause(
            None,
            Some("5.4.4"),
            "Host or domain name not found. Name service error for name=example.org type=A: Host not found"
        ),
        Cause::DomainInvalid
    );
    // Sender-domain problems are about us, not the recipient's domain.
    assert_eq!(
        cause(
            Some(553),
            Some("5.1.8"),
            "<info@shop.example>... Domain of sender address info@shop.example does not exist"
        ),
        Cause::Blocked
    );
    // Reputation throttling is a reputation problem, not a plain rate limit.
    assert_eq!(
        cause(
            Some(451),
            Some("4.7.650"),
            "The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation."
        ),
        Cause::Blocklisted
    );
}

#[test]
fn conditions_restrict_rules() {
    // Generic "mailbox unavailable" means a missing user only when permanent.
    assert_eq!(
        cause(
            Some(550),
            None,
            "Requested action not taken: mailbox unavailable"
        ),
        Cause::UserUnknown
    );
    assert_ne!(
        cause(Some(450), Some("4.2.1"), "mailbox unavailable"),
        Cause::UserUnknown
    );
    // Microsoft directory-based edge blocking is a user-unknown only with 5.4.1.
    let dbeb = "Recipient address rejected: Access denied. AS(201806281)";
    assert_eq!(cause(Some(550), Some("5.4.1"), dbeb), Cause::UserUnknown);
    assert_eq!(cause(Some(550), Some("5.7.1"), dbeb), Cause::Blocked);
}

#[test]
fn enhanced_status_and_code_fallback() {
    let e = |s: &str| cause(None, Some(s), "no words we know");
    assert_eq!(e("5.1.1"), Cause::UserUnknown);
    assert_eq!(e("5.1.2"), Cause::DomainInvalid);
    assert_eq!(e("5.1.10"), Cause::DomainInvalid);
    assert_eq!(e("5.4.4"), Cause::DomainInvalid);
    assert_eq!(e("4.4.4"), Cause::Network);
    assert_eq!(e("5.2.2"), Cause::MailboxFull);
    assert_eq!(e("5.2.1"), Cause::MailboxDisabled);
    assert_eq!(e("5.3.4"), Cause::TooLarge);
    assert_eq!(e("5.2.3"), Cause::TooLarge);
    assert_eq!(e("5.7.1"), Cause::Blocked);
    assert_eq!(e("5.7.26"), Cause::AuthPolicy);
    assert_eq!(e("5.7.25"), Cause::AuthPolicy);
    assert_eq!(e("4.4.7"), Cause::Expired);
    assert_eq!(e("4.4.1"), Cause::Network);
    assert_eq!(e("4.5.3"), Cause::RateLimited);
    assert_eq!(e("5.7.606"), Cause::Blocklisted);
    assert_eq!(e("5.1.8"), Cause::Blocked);
    // X.0.0 says nothing: the code decides; then "other".
    assert_eq!(
        cause(Some(552), Some("5.0.0"), "no words we know"),
        Cause::MailboxFull
    );
    assert_eq!(
        cause(Some(421), None, "no words we know"),
        Cause::RemoteError
    );
    assert_eq!(cause(Some(550), None, "no words we know"), Cause::Other);
    assert_eq!(cause(None, None, "no words we know"), Cause::Other);
    assert_eq!(cause(None, None, ""), Cause::Other);
    let x = c();
    let ex = x.explain(None, Some("5.1.1"), "zzz");
    assert_eq!(ex.basis, Basis::EnhancedStatus);
    let ex = x.explain(Some(551), None, "zzz");
    assert_eq!(ex.basis, Basis::ReplyCode);
    let ex = x.explain(None, None, "user unknown");
    assert!(matches!(
        ex.basis,
        Basis::Rule {
            file: "patterns/user_unknown.txt",
            ..
        }
    ));
}

#[test]
fn permanence_follows_the_codes() {
    let x = c();
    let p = |code, st, text| x.classify(code, st, text).permanence;
    assert_eq!(p(Some(550), Some("5.1.1"), "x"), Permanence::Permanent);
    assert_eq!(p(Some(450), None, "x"), Permanence::Temporary);
    assert_eq!(
        p(Some(554), Some("4.4.7"), "x"),
        Permanence::Temporary,
        "status wins"
    );
    assert_eq!(
        p(None, None, "smtp; 554 4.4.7 Message expired"),
        Permanence::Temporary
    );
    assert_eq!(p(None, None, "retry timeout exceeded"), Permanence::Unknown);
    assert_eq!(p(None, None, "smtp; 2.1.5 250 OK"), Permanence::Unknown);
    assert_eq!(
        p(None, Some("garbage"), "421 try later"),
        Permanence::Temporary
    );
}

fn temp_dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn load_extends_and_replaces() {
    let text = "550 Mailbox has gone fishing";
    assert_eq!(cause(None, None, "Mailbox has gone fishing"), Cause::Other);
    let dir = temp_dir_with(&[
        ("mailbox_disabled.txt", "# mine\ngone fishing\n"),
        ("README.md", "ignored"),
    ]);
    let x = Classifier::load(dir.path(), false).unwrap();
    assert_eq!(x.classify(None, None, text).cause, Cause::MailboxDisabled);
    // Built-in rules are still there.
    assert_eq!(
        x.classify(None, None, "user unknown").cause,
        Cause::UserUnknown
    );
    assert_eq!(x.rule_count(), c().rule_count() + 1);
    let ex = x.explain(None, None, text);
    let Basis::Rule { file, line } = ex.basis else {
        panic!()
    };
    assert!(file.ends_with("mailbox_disabled.txt") && !file.starts_with("patterns/"));
    assert_eq!(line, 2);

    // Replace: an empty user_unknown.txt switches the built-in user rules off.
    let dir = temp_dir_with(&[("user_unknown.txt", "# nothing\n")]);
    let x = Classifier::load(dir.path(), true).unwrap();
    assert_eq!(x.classify(None, None, "user unknown").cause, Cause::Other);
    assert_eq!(
        x.classify(None, None, "mailbox is full").cause,
        Cause::MailboxFull
    );
    let x = Classifier::load(dir.path(), false).unwrap();
    assert_eq!(
        x.classify(None, None, "user unknown").cause,
        Cause::UserUnknown
    );
}

#[test]
fn load_errors() {
    let dir = temp_dir_with(&[("mailbox_fool.txt", "x\n")]);
    let e = Classifier::load(dir.path(), false).unwrap_err();
    assert!(e.file.ends_with("mailbox_fool.txt"));
    assert!(
        e.to_string().contains("unknown cause `mailbox_fool`"),
        "{e}"
    );
    let dir = temp_dir_with(&[("blocked.txt", "# h\nok\n\n(x\n")]);
    let e = Classifier::load(dir.path(), false).unwrap_err();
    let path = dir.path().join("blocked.txt");
    assert_eq!(
        e.to_string(),
        format!("{}:4: regex parse error: unclosed group", path.display())
    );
    let e = Classifier::load(&dir.path().join("missing"), false).unwrap_err();
    assert!(e.to_string().contains("cannot read pattern folder"), "{e}");
}

#[test]
fn cache_agrees_and_is_bounded() {
    let x = c();
    let mut cached = CachedClassifier::new(x);
    let texts = [
        (Some(550), Some("5.1.1"), "User unknown"),
        (Some(550), Some("5.1.1"), "User   UNKNOWN"),
        (Some(452), Some("4.2.2"), "Mailbox full"),
        (None, None, "retry timeout exceeded"),
        (Some(550), Some("5.1.1"), "User unknown"),
    ];
    for (code, st, text) in texts {
        assert_eq!(cached.classify(code, st, text), x.classify(code, st, text));
    }
    assert_eq!(
        cached.len(),
        3,
        "same normalised text and codes share an entry"
    );
    cached.limit = 50;
    for i in 0..120 {
        cached.classify(None, None, &format!("text number {i}"));
        assert!(cached.len() <= 50);
    }
    assert!(!cached.is_empty());
}
