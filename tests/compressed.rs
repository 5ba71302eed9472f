//! Compressed inputs (gzip, xz, bzip2, zstd), made at run time from the fixtures with the
//! crates' encoders: each reads like the plain file, a mixed rotated set reads oldest first,
//! damage is exit 2 naming the file with the lines before it counted, and an xz log with a
//! cPanel limit trip reports it under `-q`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::util::{mailtrace, root};

#[derive(Debug, Clone, Copy)]
enum Format {
    Gzip,
    Xz,
    Bzip2,
    Zstd,
}

const ALL: [Format; 4] = [Format::Gzip, Format::Xz, Format::Bzip2, Format::Zstd];

impl Format {
    fn suffix(self) -> &'static str {
        match self {
            Format::Gzip => "gz",
            Format::Xz => "xz",
            Format::Bzip2 => "bz2",
            Format::Zstd => "zst",
        }
    }

    fn compress(self, data: &[u8]) -> Vec<u8> {
        match self {
            Format::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Format::Xz => {
                let opts = lzma_rust2::XzOptions::with_preset(1);
                let mut w = lzma_rust2::XzWriter::new(Vec::new(), opts).unwrap();
                w.write_all(data).unwrap();
                w.finish().unwrap()
            }
            Format::Bzip2 => {
                let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
            Format::Zstd => {
                // With a checksum, as the zstd command writes by default.
                let mut e = zstd::Encoder::new(Vec::new(), 1).unwrap();
                e.include_checksum(true).unwrap();
                e.write_all(data).unwrap();
                e.finish().unwrap()
            }
        }
    }
}

/// The plain fixture logs of both MTAs.
fn fixture_logs() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for mta in ["exim", "postfix"] {
        for e in std::fs::read_dir(root().join("fixtures").join(mta)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "log") {
                v.push(p);
            }
        }
    }
    v.sort();
    assert!(v.len() >= 10, "{v:?}");
    v
}

fn run(args: &[&str], files: &[&Path]) -> Output {
    mailtrace().args(args).args(files).output().unwrap()
}

/// The JSON report of `files`, with the file names taken out.
fn report_json(files: &[&Path]) -> (Option<i32>, String, Value) {
    let out = run(&["report", "--format", "json"], files);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{files:?}: {e}; stderr: {err}"));
    v["settings"]["inputs"] = Value::Null;
    for f in v["files"].as_array_mut().unwrap() {
        f["name"] = Value::Null;
    }
    (out.status.code(), err, v)
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

#[test]
fn every_format_of_every_fixture_reports_like_the_plain_file() {
    let dir = tempfile::tempdir().unwrap();
    for log in fixture_logs() {
        let plain = std::fs::read(&log).unwrap();
        let name = log.file_name().unwrap().to_str().unwrap();
        let want = report_json(&[&log]);
        for f in ALL {
            let p = write(
                dir.path(),
                &format!("{name}.{}", f.suffix()),
                &f.compress(&plain),
            );
            let got = report_json(&[&p]);
            assert_eq!(got.0, want.0, "{name} as {f:?}: {}", got.1);
            assert!(got.2 == want.2, "{name} as {f:?} reports differently");
        }
    }
}

/// A generated Exim log of a few megabytes (several xz chunks, zstd blocks, bzip2 blocks).
fn big_log() -> Vec<u8> {
    let mut cfg = mailtrace_synth::SynthConfig::new(mailtrace_synth::Mta::Exim);
    cfg.messages = 5_000;
    cfg.seed = 3;
    cfg.cpanel = true;
    let mut out = Vec::new();
    mailtrace_synth::generate(&cfg, &mut out).unwrap();
    out
}

/// `data` cut into `n` parts at line ends.
fn split_lines(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 1..n {
        let mut end = data.len() * i / n;
        while data[end - 1] != b'\n' {
            end += 1;
        }
        parts.push(&data[start..end]);
        start = end;
    }
    parts.push(&data[start..]);
    parts
}

#[test]
fn a_mixed_rotated_set_reads_oldest_first_like_the_whole_log() {
    let data = std::fs::read(root().join("fixtures/exim/daily_two_days.log")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let whole = write(dir.path(), "whole.log", &data);
    let parts = split_lines(&data, 6);
    // Oldest first: .5.gz, .4.xz, .3.bz2, .2.zst, .1, the live file.
    let names = [
        "mainlog.5.gz",
        "mainlog.4.xz",
        "mainlog.3.bz2",
        "mainlog.2.zst",
        "mainlog.1",
        "mainlog",
    ];
    let formats = [
        Some(Format::Gzip),
        Some(Format::Xz),
        Some(Format::Bzip2),
        Some(Format::Zstd),
        None,
        None,
    ];
    let mut paths = Vec::new();
    for ((name, f), part) in names.iter().zip(formats).zip(&parts) {
        let bytes = f.map_or(part.to_vec(), |f| f.compress(part));
        paths.push(write(dir.path(), name, &bytes));
    }
    // Named in a scrambled order.
    let given: Vec<&Path> = [2, 0, 5, 3, 1, 4]
        .iter()
        .map(|&i| paths[i].as_path())
        .collect();
    let out = run(&["report", "--format", "json"], &given);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let read: Vec<String> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let n = f["name"].as_str().unwrap();
            Path::new(n)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(read, names);
    for (f, part) in v["files"].as_array().unwrap().iter().zip(&parts) {
        assert_eq!(f["bytes"].as_u64().unwrap(), part.len() as u64, "{f}");
        assert!(f["error"].is_null(), "{f}");
    }
    let (_, _, set) = report_json(&given);
    let (_, _, one) = report_json(&[&whole]);
    for key in [
        "lines",
        "period",
        "totals",
        "findings",
        "failed_recipients",
        "limits",
    ] {
        assert_eq!(set[key], one[key], "{key}");
    }
}

/// Runs `report --format json` on damaged `bytes` written as `name` and checks the exit
/// status, the message (file and line named) and that the lines before the damage count.
fn check_damaged(dir: &Path, name: &str, bytes: &[u8], format: Format, total_lines: u64) {
    let p = write(dir, name, bytes);
    let out = run(&["report", "--format", "json"], &[&p]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: {err}");
    assert!(err.contains(name), "{name}: the file is named: {err}");
    assert!(err.contains("line "), "{name}: the line is named: {err}");
    let label = match format {
        Format::Gzip => "gzip",
        Format::Xz => "xz",
        Format::Bzip2 => "bzip2",
        Format::Zstd => "zstd",
    };
    assert!(err.contains(label), "{name}: the format is named: {err}");
    assert!(!err.contains("panicked"), "{name}: {err}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let lines = v["lines"].as_u64().unwrap_or(0);
    assert!(
        lines > total_lines / 10 && lines < total_lines,
        "{name}: {lines} of {total_lines} lines counted"
    );
    assert!(v["files"][0]["error"].is_string(), "{name}: {v}");
}

#[test]
fn truncated_and_corrupt_streams_are_exit_2_with_the_earlier_lines_counted() {
    let data = big_log();
    let total = data.iter().filter(|&&b| b == b'\n').count() as u64;
    let dir = tempfile::tempdir().unwrap();
    for f in ALL {
        let c = f.compress(&data);
        let name = format!("cut.log.{}", f.suffix());
        check_damaged(dir.path(), &name, &c[..c.len() * 3 / 4], f, total);
        let mut bad = c.clone();
        let at = bad.len() * 3 / 4;
        for b in &mut bad[at..at + 64] {
            *b ^= 0x5a;
        }
        let name = format!("corrupt.log.{}", f.suffix());
        check_damaged(dir.path(), &name, &bad, f, total);
    }
}

#[test]
fn an_xz_log_with_a_cpanel_limit_trip_is_reported_under_quiet() {
    let log = std::fs::read(root().join("fixtures/exim/cpanel_domain_blocked.log")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "exim_mainlog-20261126.xz",
        &Format::Xz.compress(&log),
    );
    let out = run(&["report", "-q"], &[&p]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("blocked by cPanel's hourly limit"),
        "{stdout}"
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
