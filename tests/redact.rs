//! `--redact` tokens: stable under one key, unrelated across keys, free of collisions on a
//! million addresses, not recoverable with a dictionary, and applied to every address form
//! of free text; through the binary, random per run when no key is set.

use std::collections::HashSet;

use mailtrace::util::redact::{Key, Redactor};

use crate::util::mailtrace;

fn keyed(passphrase: &str) -> Redactor {
    Redactor::new(Key::from_passphrase(passphrase).unwrap())
}

/// Local parts a dictionary attack tries first.
const COMMON: [&str; 16] = [
    "info",
    "admin",
    "john",
    "michael",
    "sales",
    "support",
    "contact",
    "office",
    "mail",
    "webmaster",
    "postmaster",
    "david",
    "maria",
    "billing",
    "noreply",
    "hello",
];

const FIRST: [&str; 10] = [
    "james", "mary", "robert", "patricia", "john", "jennifer", "michael", "linda", "david", "anna",
];
const LAST: [&str; 10] = [
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "martin", "lee",
];

#[test]
fn one_key_gives_one_token_and_another_key_another() {
    let (a, b) = (keyed("first key"), keyed("second key"));
    let random = Redactor::new(Key::random());
    for addr in ["jane.doe@example.com", "info@shop.example", "x@y.example"] {
        let t = a.address_token(addr).unwrap();
        assert_eq!(keyed("first key").address_token(addr), Some(t), "{addr}");
        assert_eq!(a.address(addr), a.address(addr));
        assert_ne!(b.address_token(addr), Some(t), "{addr}");
        assert_ne!(random.address_token(addr), Some(t), "{addr}");
    }
    assert_ne!(a.local_part("michael"), b.local_part("michael"));
}

/// 1,000,000 distinct addresses: 984,000 `first.last{n}@d{m}.example` and the 16 common
/// local parts on 1,000 domains; their 64-bit tokens are all different.
#[test]
fn a_million_addresses_give_a_million_tokens() {
    let r = Redactor::new(Key::random());
    let mut seen: HashSet<u64> = HashSet::with_capacity(1_000_000);
    let mut n = 0u32;
    let mut addr = String::new();
    let mut add = |addr: &str| {
        n += 1;
        assert!(
            seen.insert(r.address_token(addr).unwrap().bits()),
            "collision on {addr}"
        );
    };
    for i in 0..984_000u32 {
        addr.clear();
        let (f, l) = (FIRST[(i % 10) as usize], LAST[(i / 10 % 10) as usize]);
        std::fmt::Write::write_fmt(&mut addr, format_args!("{f}.{l}{i}@d{}.example", i % 997))
            .unwrap();
        add(&addr);
    }
    for m in 0..1_000 {
        for c in COMMON {
            add(&format!("{c}@d{m}.example"));
        }
    }
    assert_eq!(n, 1_000_000);
    assert_eq!(seen.len(), 1_000_000);
}

/// Whoever guesses local parts cannot tell which token is which: tokens under a random key
/// match none computed under keys an attacker would try, and a token shows nothing of its
/// local part (same shape for every input; its first character follows the key, not the
/// name).
#[test]
fn a_dictionary_does_not_recover_local_parts() {
    let secret = Redactor::new(Key::random());
    let shown: HashSet<String> = COMMON
        .iter()
        .flat_map(|c| {
            [
                secret.address(&format!("{c}@shop.example")).into_owned(),
                secret.local_part(c).into_owned(),
            ]
        })
        .collect();
    for guess in [
        "mailtrace",
        "redact",
        "key",
        "secret",
        "password",
        "shop.example",
        " ",
    ] {
        let g = keyed(guess);
        for c in COMMON {
            assert!(
                !shown.contains(g.address(&format!("{c}@shop.example")).as_ref()),
                "{guess}: {c}"
            );
            assert!(!shown.contains(g.local_part(c).as_ref()), "{guess}: {c}");
        }
    }
    for c in COMMON {
        let t = secret.local_part(c);
        assert!(t.len() == 15 && t.starts_with("u-"), "{t}");
        assert_eq!(secret.address(c), c, "not an address");
        let a = secret.address(&format!("{c}@shop.example")).into_owned();
        let local = a.strip_suffix("@shop.example").unwrap();
        assert_eq!(local.len(), 15, "{a}");
        assert!(
            local[2..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)),
            "{a}"
        );
        assert!(!local.contains(c), "{a}");
    }
    // Under 1,000 keys the first character of michael's token is spread over the 32 symbols
    // (about 31 each); the old format always began with "m".
    let mut count = [0u32; 256];
    for k in 0..1_000 {
        let t = keyed(&format!("key {k}"))
            .local_part("michael")
            .into_owned();
        count[t.as_bytes()[2] as usize] += 1;
    }
    assert!(
        count.iter().all(|&c| c < 80),
        "{:?}",
        &count[b'a' as usize..]
    );
    assert!(count.iter().filter(|&&c| c > 0).count() >= 30);
}

#[test]
fn text_redacts_every_address_and_mailbox_form() {
    let r = keyed("text test");
    let input = "2026-11-26 14:05:14 1vXy-0001 ** bob.smith+shop@gmail.com <bob.smith+shop@gmail.com> \
                 R=dkim_lookuphost T=remote_smtp H=gmail-smtp-in.l.google.com [142.250.1.26]: \
                 550-5.1.1 The email account \"bob.smith+shop@gmail.com\" does not exist; \
                 write to 'postmaster@gmail.com' or mailto:abuse@gmail.com, \
                 \"Jane Q\"@example.org, jane@[192.0.2.7] \
                 postfix/smtpd[1]: client=x[192.0.2.1], sasl_method=PLAIN, sasl_username=michael \
                 dovecot: imap-login: Login: user=<admin>, rip=192.0.2.9 \
                 postfix/local[2]: to=<root@host.example>, orig_to=<sales>, status=sent\n\
                 => info <info@shop.example> R=virtual_user T=dovecot_delivery";
    let out = r.text(input);
    for gone in [
        "bob.smith",
        "postmaster@",
        "abuse@",
        "Jane Q",
        "jane@",
        "michael",
        "admin",
        "sales",
        "root@",
        "info",
    ] {
        assert!(!out.contains(gone), "{gone} left in {out}");
    }
    for kept in [
        "@gmail.com <u-",
        "R=dkim_lookuphost T=remote_smtp H=gmail-smtp-in.l.google.com [142.250.1.26]: 550-5.1.1",
        "mailto:u-",
        "@example.org, u-",
        "@[192.0.2.7]",
        "client=x[192.0.2.1], sasl_method=PLAIN, sasl_username=u-",
        "user=<u-",
        "rip=192.0.2.9",
        "@host.example>, orig_to=<u-",
        "@shop.example> R=virtual_user",
        "2026-11-26 14:05:14 1vXy-0001 ** u-",
    ] {
        assert!(out.contains(kept), "{kept} missing from {out}");
    }
    let token = r.address("bob.smith+shop@gmail.com");
    assert_eq!(out.matches(token.as_ref()).count(), 3, "{out}");
}

/// Without a key the binary draws one per run: two runs give different tokens, and neither
/// shows a local part of the log in any format.
#[test]
fn the_binary_redacts_with_a_random_key_per_run() {
    let log = "fixtures/exim/cpanel_domain_blocked.log";
    let text = std::fs::read_to_string(crate::util::root().join(log)).unwrap();
    let locals: HashSet<&str> = text
        .split(|c: char| c.is_whitespace() || "<>,\"'()".contains(c))
        .filter_map(|w| w.split_once('@').map(|(l, _)| l))
        .filter(|l| l.len() > 2 && !l.contains('='))
        .collect();
    assert!(locals.len() >= 5, "{locals:?}");
    let run = |format: &str| {
        let out = mailtrace()
            .args(["report", "--redact", "--format", format, log])
            .output()
            .unwrap();
        assert!(out.status.code().is_some_and(|c| c <= 1), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    for format in ["text", "markdown", "json", "ndjson", "csv"] {
        let out = run(format);
        for l in &locals {
            assert!(!out.contains(&format!("{l}@")), "{format}: {l} left");
        }
        assert!(out.contains("u-"), "{format}");
    }
    let tokens = |s: &str| -> HashSet<String> {
        s.match_indices("u-")
            .map(|(i, _)| s[i..].chars().take(15).collect())
            .collect()
    };
    let (a, b) = (tokens(&run("markdown")), tokens(&run("markdown")));
    assert!(!a.is_empty() && a.is_disjoint(&b), "{a:?} {b:?}");
}
