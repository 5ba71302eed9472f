//! `--redact-key KEY` and `MAILTRACE_REDACT_KEY` are taken by report, trace and events, and
//! the key is never shown in `--help` (clap would print an env value there by default).

use crate::util::mailtrace;

const LOG: &str = "fixtures/exim/cpanel_domain_blocked.log";

#[test]
fn the_key_is_accepted_by_every_redacting_command() {
    for args in [
        &["report", "--redact", "--redact-key", "k1", LOG][..],
        &["--redact", "--redact-key", "k1", LOG],
        &[
            "trace",
            "--redact",
            "--redact-key",
            "k1",
            "shop.example",
            LOG,
        ],
    ] {
        let out = mailtrace().args(args).output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = mailtrace()
        .args(["report", "--redact", LOG])
        .env("MAILTRACE_REDACT_KEY", "k2")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn help_never_shows_the_key() {
    for sub in [
        &["--help"][..],
        &["report", "--help"],
        &["trace", "--help"],
        &["events", "--help"],
    ] {
        let out = mailtrace()
            .args(sub)
            .env("MAILTRACE_REDACT_KEY", "s3cr3t-key")
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("--redact-key"), "{sub:?}");
        assert!(help.contains("MAILTRACE_REDACT_KEY"), "{sub:?}");
        assert!(!help.contains("s3cr3t"), "{sub:?}: {help}");
    }
}
