//! Damaged gzip input: a corrupt member is reported (exit 2, the byte offset named) and the
//! valid members after it are still read.

use std::io::Write;

use serde_json::Value;

use crate::util::{mailtrace, root};

fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn report(data: &[u8]) -> (Option<i32>, String, Value) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(data).unwrap();
    let out = mailtrace()
        .args(["report", "--format", "json"])
        .arg(f.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), err, v)
}

#[test]
fn reading_resumes_after_a_corrupt_member() {
    let log =
        std::fs::read_to_string(root().join("fixtures/exim/cpanel_domain_blocked.log")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    let third = lines.len() / 3;
    let part = |r: std::ops::Range<usize>| -> String {
        lines[r].iter().map(|l| format!("{l}\n")).collect()
    };
    let (a, b, c) = (
        part(0..third),
        part(third..2 * third),
        part(2 * third..lines.len()),
    );
    let (ga, mut gb, gc) = (gz(&a), gz(&b), gz(&c));

    // Undamaged: the three members read like the plain log.
    let clean = [ga.clone(), gb.clone(), gc.clone()].concat();
    let (code, err, whole) = report(&clean);
    assert!(matches!(code, Some(0) | Some(1)), "{err}");
    let total_lines = whole["lines"].as_u64().unwrap();
    assert_eq!(total_lines, lines.len() as u64);

    // Damage the middle member's deflate data.
    let end = gb.len() - 8;
    for x in &mut gb[12..end] {
        *x ^= 0xa5;
    }
    let damaged = [ga.clone(), gb.clone(), gc].concat();
    let (code, err, r) = report(&damaged);
    assert_eq!(code, Some(2), "a damaged input is an error: {err}");
    assert!(
        err.contains(&format!("damaged gzip member at byte {}", ga.len())),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "resumed at the member at byte {}",
            ga.len() + gb.len()
        )),
        "{err}"
    );
    // Every line of the first and last members was read (the damaged one may add a few
    // unrecognised fragments, which are counted, never merged into a good line).
    let got = r["lines"].as_u64().unwrap();
    let want = (a.lines().count() + c.lines().count()) as u64;
    assert!(
        got >= want,
        "read {got} lines, the valid members hold {want}"
    );
    assert!(r["files"][0]["error"].is_string());
    // The last member's outcomes are in the totals.
    let last_delivered = c.lines().filter(|l| l.contains(" => ")).count() as u64;
    let first_delivered = a.lines().filter(|l| l.contains(" => ")).count() as u64;
    assert!(
        r["totals"]["delivered"].as_u64().unwrap() >= first_delivered + last_delivered,
        "{}",
        r["totals"]
    );
}
