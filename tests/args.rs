//! Argument ranges: time and year values that would overflow the calendar are usage errors
//! (exit 2 with a one-line reason), never a panic (exit 101).

use crate::util::mailtrace;

const LOG: &str = "fixtures/exim/bounce_user_unknown.log";

fn run(args: &[&str]) -> (i32, String) {
    let out = mailtrace().args(args).output().expect("run mailtrace");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn huge_durations_are_usage_errors() {
    for (flag, value) in [
        ("--since", "now-99999999999h"),
        ("--since", "99999999999h"),
        ("--until", "now-99999999999h"),
        ("--until", "99999999999h"),
        ("--since", "now-9223372036854775807s"),
    ] {
        let (code, err) = run(&["report", flag, value, LOG]);
        assert_eq!(code, 2, "{flag} {value}: {err}");
        assert!(err.contains("invalid duration"), "{flag} {value}: {err}");
        assert!(!err.contains("panicked"), "{flag} {value}: {err}");
        let (code, err) = run(&["trace", flag, value, "nobody@example.com", LOG]);
        assert_eq!(code, 2, "trace {flag} {value}: {err}");
    }
}

#[test]
fn follow_now_overflow_is_a_usage_error() {
    let (code, err) = run(&["follow", "--now", "now-99999999999h", LOG]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("invalid duration"), "{err}");
}

#[test]
fn year_out_of_range_is_a_usage_error() {
    for y in ["2147483647", "0", "1969", "10000"] {
        let (code, err) = run(&["report", "--year", y, LOG]);
        assert_eq!(code, 2, "--year {y}: {err}");
        assert!(err.contains("--year"), "--year {y}: {err}");
    }
    let (code, _) = run(&["report", "--year", "2026", LOG]);
    assert!(code == 0 || code == 1);
}
