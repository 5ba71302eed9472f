//! Parse throughput: MB/s of log text through the line reader, the front-end (timestamp and
//! line shape, then the MTA's parser) and each MTA's parser alone, on logs generated in memory
//! by `mailtrace-synth` (an Exim log with cPanel lines and a Postfix syslog).
//!
//! ```text
//! cargo bench --bench parse
//! MAILTRACE_BENCH_MB=200 MAILTRACE_BENCH_RUNS=5 cargo bench --bench parse
//! ```
//!
//! `MAILTRACE_BENCH_MB` is the size of each log (default 100), `MAILTRACE_BENCH_RUNS` the
//! number of runs of each measurement (default 3); the best run is printed. Without the
//! `--bench` argument that `cargo bench` passes (as under `cargo test --all-targets`), it
//! runs once on 1 MB, as a smoke test.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::Cursor;
use std::time::Instant;

use mailtrace::input::LineReader;
use mailtrace::model::event::{Mta, Timestamp};
use mailtrace::parse::{LineParser, Parsed, YearSource, exim, postfix, syslog, time};
use mailtrace_synth::SynthConfig;

/// How much to generate and how often to measure.
struct Settings {
    bytes: u64,
    runs: usize,
}

impl Settings {
    fn from_env() -> Settings {
        if !std::env::args().any(|a| a == "--bench") {
            return Settings {
                bytes: 1_000_000,
                runs: 1,
            };
        }
        let var = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        Settings {
            bytes: var("MAILTRACE_BENCH_MB", 100) * 1_000_000,
            runs: var("MAILTRACE_BENCH_RUNS", 3).max(1) as usize,
        }
    }
}

fn main() {
    let settings = Settings::from_env();
    for mta in [Mta::Exim, Mta::Postfix] {
        let data = generate(mta, settings.bytes);
        bench(mta, &data, settings.runs);
    }
}

/// About `bytes` of log text from the generator: cPanel Exim or syslog Postfix.
fn generate(mta: Mta, bytes: u64) -> Vec<u8> {
    let mut cfg = SynthConfig::new(match mta {
        Mta::Exim => mailtrace_synth::Mta::Exim,
        Mta::Postfix => mailtrace_synth::Mta::Postfix,
    });
    cfg.target_bytes = Some(bytes);
    cfg.cpanel = mta == Mta::Exim;
    let mut out = Vec::with_capacity(bytes as usize + (1 << 20));
    let start = Instant::now();
    mailtrace_synth::generate(&cfg, &mut out).expect("writing to memory does not fail");
    let lines = out.iter().filter(|&&b| b == b'\n').count();
    println!(
        "\n{mta:?}: {:.1} MB, {lines} lines, {:.0} bytes/line (generated in {:.1} s)",
        out.len() as f64 / 1e6,
        out.len() as f64 / lines.max(1) as f64,
        start.elapsed().as_secs_f64()
    );
    out
}

/// The best time of `runs` runs of `f`, and the value of its last run.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(v);
    }
    (best, last.expect("at least one run"))
}

fn report(what: &str, bytes: usize, lines: usize, secs: f64, note: &str) {
    println!(
        "  {what:<34} {:7.0} MB/s {:6.0} ns/line  {note}",
        bytes as f64 / 1e6 / secs,
        secs * 1e9 / lines.max(1) as f64
    );
}

fn bench(mta: Mta, data: &[u8], runs: usize) {
    let text = std::str::from_utf8(data).expect("the generator writes UTF-8");
    let lines: Vec<&str> = text.lines().collect();

    let (secs, n) = best(runs, || {
        let mut reader = LineReader::new(Cursor::new(data));
        let mut n = 0usize;
        while let Ok(Some(l)) = reader.next_line() {
            n += l.text.len();
        }
        n
    });
    report("line reader", data.len(), lines.len(), secs, "");
    assert!(n > 0);

    let (secs, counts) = best(runs, || {
        let mut parser = LineParser::new(None, YearSource::Fixed(2026));
        let mut counts = Counts::default();
        for l in &lines {
            counts.add(&parser.parse(l));
        }
        counts
    });
    report(
        "front-end + parser",
        data.len(),
        lines.len(),
        secs,
        &counts.note(),
    );

    let (secs, counts) = best(runs, || {
        let mut reader = LineReader::new(Cursor::new(data));
        let mut parser = LineParser::new(None, YearSource::Fixed(2026));
        let mut counts = Counts::default();
        while let Ok(Some(l)) = reader.next_line() {
            counts.add(&parser.parse(l.text));
        }
        counts
    });
    report(
        "line reader + front-end + parser",
        data.len(),
        lines.len(),
        secs,
        &counts.note(),
    );

    parser_alone(mta, &lines, runs);
}

/// The MTA's parser alone, on the lines of that MTA split beforehand (timestamp, and for
/// syslog the tag). MB/s are of those whole lines.
fn parser_alone(mta: Mta, lines: &[&str], runs: usize) {
    let (secs, n, len, bytes, what) = match mta {
        Mta::Exim => {
            let split: Vec<(&str, Timestamp, &str)> = lines
                .iter()
                .filter_map(|l| time::exim_prefix(l).map(|(ts, rest)| (*l, ts, rest)))
                .collect();
            let (secs, n) = best(runs, || {
                let mut n = 0usize;
                for &(_, ts, rest) in &split {
                    n += usize::from(black_box(exim::parse(ts, rest)).is_some());
                }
                n
            });
            let bytes = split.iter().map(|s| s.0.len() + 1).sum();
            (secs, n, split.len(), bytes, "exim::parse alone")
        }
        Mta::Postfix => {
            let ts = Timestamp::new(
                chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .expect("valid date"),
                None,
            );
            let split: Vec<(&str, &str, &str)> = lines
                .iter()
                .filter_map(|l| {
                    let (_, rest) = time::syslog_prefix(l)?;
                    let rec = syslog::record(rest)?;
                    (syslog::program_mta(rec.program) == Some(Mta::Postfix)).then_some((
                        *l,
                        rec.program,
                        rec.message,
                    ))
                })
                .collect();
            let (secs, n) = best(runs, || {
                let mut n = 0usize;
                for &(_, program, msg) in &split {
                    n += usize::from(black_box(postfix::parse(ts, program, msg)).is_some());
                }
                n
            });
            let bytes = split.iter().map(|s| s.0.len() + 1).sum();
            (secs, n, split.len(), bytes, "postfix::parse alone")
        }
    };
    report(
        what,
        bytes,
        len,
        secs,
        &format!("{n} events of {len} lines"),
    );
}

/// What the front-end made of the lines.
#[derive(Default)]
struct Counts {
    events: u64,
    other: BTreeMap<&'static str, u64>,
}

impl Counts {
    fn add(&mut self, p: &Parsed<'_>) {
        let what = match p {
            Parsed::Event(_) => {
                self.events += 1;
                return;
            }
            Parsed::Foreign => "foreign",
            Parsed::Ignored => "ignored",
            Parsed::Unrecognised => "unrecognised",
            Parsed::Malformed => "malformed",
        };
        *self.other.entry(what).or_default() += 1;
    }

    fn note(&self) -> String {
        let mut s = format!("{} events", self.events);
        for (what, n) in &self.other {
            s.push_str(&format!(", {n} {what}"));
        }
        s
    }
}
