//! Failure-cause classification: the examples in `fixtures/classify/` and agreement with the
//! Sisimai corpus (`$MAILTRACE_CORPORA/sisimai/`).

use std::collections::BTreeMap;
use std::fs;

use mailtrace::classify::{Cause, Classifier, Permanence};

use crate::util;

/// Sisimai reason → our cause (the same table is in `patterns/README.md`).
///
/// The first cause is the mapping: it decides the confusion table and the strict agreement.
/// The alternatives are the other causes that `mail-log-reference.md` §4.5 (and §4.1 for
/// `expired`: "use the last underlying reason if known") lists for that Sisimai reason, where
/// Sisimai's reason is wider than one of ours: for example Sisimai's `blocked` covers both
/// block lists and reverse-DNS/HELO checks, and the reference's generic `policy` category is
/// split here into `blocked`, `auth_policy`, `spam_content` and `relay_denied`. They give the
/// second, reference-consistent figure. `None`: no counterpart; those rows are left out.
/// A mapped reason: our cause and the reference's alternatives.
type Mapping = Option<(Cause, &'static [Cause])>;

const SISIMAI_REASONS: &[(&str, Mapping)] = &[
    ("userunknown", Some((Cause::UserUnknown, &[]))),
    // A rejection after DATA, in practice mostly "user unknown" from filtering MTAs
    // (reference: user_unknown (weak) / policy).
    ("filtered", Some((Cause::UserUnknown, POLICY))),
    ("hostunknown", Some((Cause::DomainInvalid, &[]))),
    ("notaccept", Some((Cause::DomainInvalid, &[]))),
    ("mailboxfull", Some((Cause::MailboxFull, &[]))),
    ("suspend", Some((Cause::MailboxDisabled, &[]))),
    ("hasmoved", Some((Cause::MailboxDisabled, &[]))),
    // Rejected because of the client IP or host name: block lists, or PTR/HELO checks.
    ("blocked", Some((Cause::Blocklisted, &[Cause::AuthPolicy]))),
    ("badreputation", Some((Cause::Blocklisted, &[]))),
    // Rejected because of the envelope sender (reference: policy / blocked by recipient /
    // auth failure by text).
    ("rejected", Some((Cause::Blocked, POLICY))),
    ("policyviolation", Some((Cause::Blocked, POLICY))),
    ("spamdetected", Some((Cause::SpamContent, &[]))),
    ("virusdetected", Some((Cause::SpamContent, &[]))),
    ("authfailure", Some((Cause::AuthPolicy, &[]))),
    ("requireptr", Some((Cause::AuthPolicy, &[]))),
    ("notcompliantrfc", Some((Cause::AuthPolicy, POLICY))),
    ("contenterror", Some((Cause::AuthPolicy, POLICY))),
    ("securityerror", Some((Cause::AuthPolicy, POLICY))),
    ("failedstarttls", Some((Cause::AuthPolicy, &[]))),
    ("toomanyconn", Some((Cause::RateLimited, &[]))),
    ("speeding", Some((Cause::RateLimited, &[]))),
    ("ratelimited", Some((Cause::RateLimited, &[]))),
    ("mesgtoobig", Some((Cause::TooLarge, &[]))),
    ("exceedlimit", Some((Cause::TooLarge, &[]))),
    ("emailtoolarge", Some((Cause::TooLarge, &[]))),
    ("norelaying", Some((Cause::RelayDenied, &[]))),
    // Reference: dns_temp / remote_unavailable.
    (
        "networkerror",
        Some((Cause::Network, &[Cause::RemoteError])),
    ),
    ("systemerror", Some((Cause::RemoteError, &[Cause::Network]))),
    ("systemfull", Some((Cause::RemoteError, &[Cause::Network]))),
    // Sisimai decides `expired` from the DSN (Action, elapsed time), not from the text; the
    // text then names the underlying failure, "usually connection failures".
    (
        "expired",
        Some((Cause::Expired, &[Cause::Network, Cause::RemoteError])),
    ),
    // Not failures: ARF complaints, auto-replies, success DSNs.
    ("feedback", None),
    ("vacation", None),
    ("delivered", None),
    // Sisimai could not decide either.
    ("undefined", None),
    ("onhold", None),
    // SMTP syntax errors in our own session: no cause of ours (they end up `other`).
    ("syntaxerror", None),
    // A local delivery program (pipe, procmail) failed: no cause of ours; the reference maps
    // it to a local-configuration category that this vocabulary does not have.
    ("mailererror", None),
    // Recipient on a relay's suppression list: a history, not a reply text.
    ("suppressed", None),
];

/// The reference's generic `policy` category, in our causes.
const POLICY: &[Cause] = &[
    Cause::Blocked,
    Cause::AuthPolicy,
    Cause::SpamContent,
    Cause::RelayDenied,
];

/// Agreement floors on the rows whose reason maps to one of our causes. They sit just below
/// the measured figures (83.4% strict, 88.2% reference-consistent at the time of writing) to
/// catch regressions. The 90% target is not reached without fitting rules to single rows:
/// most remaining disagreements are labels Sisimai takes from outside the reply text (DSN
/// action and timing for `expired`, the SMTP stage for `blocked`), non-English texts
/// (Google Groups bounces in a dozen languages), and rows where Sisimai itself labels the
/// same text differently. `patterns/README.md` has the details.
const MIN_STRICT_AGREEMENT: f64 = 0.82;
const MIN_REFERENCE_AGREEMENT: f64 = 0.87;
const MIN_PERMANENCE_AGREEMENT: f64 = 0.80;

/// One example: code, status, text.
type Example = (Option<u16>, Option<String>, String);

/// Reads a fixture file: `#` comments and blank lines skipped; a line is the bare text, or
/// `code<TAB>status<TAB>text`.
fn examples(text: &str) -> Vec<(usize, Example)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let ex = match line.split('\t').collect::<Vec<_>>()[..] {
            [text] => (None, None, text.to_string()),
            [code, status, text] => (
                (!code.is_empty()).then(|| code.parse().expect("bad code column")),
                (!status.is_empty()).then(|| status.to_string()),
                text.to_string(),
            ),
            _ => panic!("line {}: expected 1 or 3 tab-separated fields", i + 1),
        };
        out.push((i + 1, ex));
    }
    out
}

#[test]
fn classify_fixtures_land_in_their_cause() {
    let classifier = Classifier::builtin();
    let dir = util::root().join("fixtures/classify");
    let mut failures = Vec::new();
    let mut total = 0;
    for cause in Cause::ALL {
        let path = dir.join(format!("{}.txt", cause.as_str()));
        let text = fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (every cause needs examples)", path.display()));
        let exs = examples(&text);
        let min = if cause == Cause::Other { 1 } else { 5 };
        assert!(
            exs.len() >= min,
            "{}: {} examples, want at least {min}",
            path.display(),
            exs.len()
        );
        for (line, (code, status, text)) in exs {
            total += 1;
            let got = classifier.explain(code, status.as_deref(), &text);
            if got.verdict.cause != cause {
                failures.push(format!(
                    "fixtures/classify/{}.txt:{line}: got {} via {:?}: {text}",
                    cause.as_str(),
                    got.verdict.cause,
                    got.basis
                ));
            }
        }
    }
    // No stray files: every fixture file is named after a cause.
    for entry in fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let stem = name.strip_suffix(".txt").unwrap_or(&name);
        assert!(
            Cause::from_name(stem).is_some(),
            "unexpected fixture file {name}"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {total} examples misclassified:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Sisimai pseudo status codes (`X.0.9xx`) encode Sisimai's own verdict; they are not real
/// replies, so the classifier does not see them.
fn real_status(status: &str) -> Option<&str> {
    let mut parts = status.split('.');
    let (_, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
    let pseudo = subject == "0" && detail.parse::<u16>().is_ok_and(|d| d >= 900);
    (!status.is_empty() && !pseudo).then_some(status)
}

fn short(c: Cause) -> &'static str {
    match c {
        Cause::UserUnknown => "usrunk",
        Cause::MailboxFull => "mbfull",
        Cause::MailboxDisabled => "mbdis",
        Cause::DomainInvalid => "domain",
        Cause::Blocklisted => "blklst",
        Cause::Blocked => "blockd",
        Cause::SpamContent => "spam",
        Cause::AuthPolicy => "auth",
        Cause::RateLimited => "rate",
        Cause::Greylisted => "grey",
        Cause::TooLarge => "large",
        Cause::RelayDenied => "relay",
        Cause::Network => "netwrk",
        Cause::RemoteError => "remote",
        Cause::Expired => "expird",
        Cause::SendingLimit => "sndlim",
        Cause::Other => "other",
    }
}

#[test]
fn classify_sisimai_corpus_agreement() {
    let Some(corpora) = util::corpora() else {
        return;
    };
    let path = corpora.join("sisimai/reasons.tsv");
    let tsv = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let tsv = String::from_utf8_lossy(&tsv);
    let classifier = Classifier::builtin();

    let mut confusion: BTreeMap<Cause, BTreeMap<Cause, usize>> = BTreeMap::new();
    let mut excluded: BTreeMap<&str, usize> = BTreeMap::new();
    let mut misses = Vec::new();
    let (mut rows, mut strict, mut reference, mut text_only) = (0usize, 0usize, 0usize, 0usize);
    for (i, line) in tsv.lines().enumerate().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(
            cols.len(),
            9,
            "{}:{}: expected 9 columns",
            path.display(),
            i + 1
        );
        let (status, code, text, reason) = (cols[1], cols[2], cols[3], cols[4]);
        let Some(&(_, mapped)) = SISIMAI_REASONS.iter().find(|(r, _)| *r == reason) else {
            panic!(
                "{}:{}: Sisimai reason `{reason}` is not in SISIMAI_REASONS",
                path.display(),
                i + 1
            );
        };
        let Some((expected, alternatives)) = mapped else {
            *excluded.entry(reason).or_default() += 1;
            continue;
        };
        let code: Option<u16> = code.parse().ok();
        let got = classifier.classify(code, real_status(status), text).cause;
        rows += 1;
        *confusion
            .entry(expected)
            .or_default()
            .entry(got)
            .or_default() += 1;
        strict += usize::from(got == expected);
        let consistent = got == expected || alternatives.contains(&got);
        reference += usize::from(consistent);
        if got != expected {
            misses.push(format!(
                "  {} {reason:>15}={:<16} got {:<14} {status:>7} {code:>4} {}",
                if consistent { "alt " } else { "MISS" },
                expected.as_str(),
                got.as_str(),
                text.chars().take(100).collect::<String>(),
                code = code.map(|c| c.to_string()).unwrap_or_default(),
            ));
        }
        text_only += usize::from(classifier.classify(None, None, text).cause == expected);
    }

    let pct = |n: usize| 100.0 * n as f64 / rows.max(1) as f64;
    let mut out = format!(
        "\nSisimai reasons.tsv, {rows} rows whose reason maps to one of our causes:\n\
         strict agreement (first cause of the mapping): {strict} ({:.1}%)\n\
         reference-consistent (mapping or an alternative of reference §4.5): {reference} ({:.1}%)\n\
         strict, text only (no code or status given): {text_only} ({:.1}%)\n\
         excluded reasons: {excluded:?}\n\
         confusion (rows = expected via the mapping, columns = ours):\n",
        pct(strict),
        pct(reference),
        pct(text_only),
    );
    out.push_str(&format!("{:>16}", "expected \\ ours"));
    for c in Cause::ALL {
        out.push_str(&format!("{:>7}", short(c)));
    }
    out.push_str(&format!("{:>6}{:>8}\n", "n", "agree"));
    for (expected, got) in &confusion {
        let n: usize = got.values().sum();
        out.push_str(&format!("{:>16}", expected.as_str()));
        for c in Cause::ALL {
            match got.get(&c) {
                Some(k) => out.push_str(&format!("{k:>7}")),
                None => out.push_str(&format!("{:>7}", ".")),
            }
        }
        let ok = got.get(expected).copied().unwrap_or(0);
        out.push_str(&format!("{n:>6}{:>7.1}%\n", 100.0 * ok as f64 / n as f64));
    }
    misses.sort();
    out.push_str(&format!(
        "disagreements ({}; `alt` = an alternative the reference allows):\n{}\n",
        misses.len(),
        misses.join("\n")
    ));
    eprintln!("{out}");

    assert!(rows > 500, "only {rows} mapped rows");
    let share = |n: usize| n as f64 / rows as f64;
    assert!(
        share(strict) >= MIN_STRICT_AGREEMENT,
        "strict agreement {:.1}% is below {:.0}%",
        pct(strict),
        100.0 * MIN_STRICT_AGREEMENT
    );
    assert!(
        share(reference) >= MIN_REFERENCE_AGREEMENT,
        "reference-consistent agreement {:.1}% is below {:.0}%",
        pct(reference),
        100.0 * MIN_REFERENCE_AGREEMENT
    );
}

#[test]
fn classify_sisimai_permanence_agreement() {
    let Some(corpora) = util::corpora() else {
        return;
    };
    let path = corpora.join("sisimai/permanence.tsv");
    let tsv = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let classifier = Classifier::builtin();
    let (mut rows, mut agree) = (0usize, 0usize);
    let mut out = String::from("\nSisimai permanence.tsv (text only):\n");
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (text, class) = (cols[1], cols[2]);
        let expected = match class {
            "temporary" => Permanence::Temporary,
            "permanent" => Permanence::Permanent,
            // A success is neither; we have no "success" value.
            "not_error" => Permanence::Unknown,
            other => panic!("unknown class {other}"),
        };
        let got = classifier.classify(None, None, text).permanence;
        rows += 1;
        let ok = got == expected;
        agree += usize::from(ok);
        out.push_str(&format!(
            "  {} {:<9} {:<9} {}\n",
            if ok { "ok  " } else { "MISS" },
            expected.as_str(),
            got.as_str(),
            text
        ));
    }
    let share = agree as f64 / rows as f64;
    out.push_str(&format!(
        "agreement: {agree}/{rows} ({:.1}%)\n",
        100.0 * share
    ));
    eprintln!("{out}");
    assert!(rows >= 10);
    assert!(
        share >= MIN_PERMANENCE_AGREEMENT,
        "permanence agreement {:.1}%",
        100.0 * share
    );
}
