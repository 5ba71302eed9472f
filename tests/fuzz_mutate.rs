//! Fuzzing on the stable toolchain: the targets of `fuzz/targets.rs` run on lines of the
//! fixture logs mutated at random (bit flips, interesting bytes, truncations, deletions,
//! splices, duplicated and huge fields, hostile escape sequences, huge numbers, shuffled
//! lines) for a bounded time, and must not panic.
//!
//! `MAILTRACE_FUZZ_SECS` is the time per target (default 1 s, so about 5 s for all);
//! `MAILTRACE_FUZZ_SEED` fixes the random seed (printed at the start); a panicking input is
//! saved under `target/tmp/fuzz-crashes/` and `MAILTRACE_FUZZ_INPUT=FILE` runs every target
//! on one saved input. A long run:
//! `MAILTRACE_FUZZ_SECS=1800 cargo test --release --test integration fuzz_mutate -- --nocapture`.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::util::root;

#[path = "../fuzz/targets.rs"]
mod targets;

/// SplitMix64: small, fast, and the same sequence for the same seed everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// The fixture logs: each file's bytes (gzip kept as it is) and its lines.
struct Corpus {
    files: Vec<Vec<u8>>,
    lines: Vec<Vec<u8>>,
}

fn corpus() -> Corpus {
    let mut paths = Vec::new();
    for dir in ["fixtures/exim", "fixtures/postfix"] {
        collect(&root().join(dir), &mut paths);
    }
    paths.sort();
    let files: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let lines = files
        .iter()
        .filter(|f| !f.starts_with(&[0x1f, 0x8b]))
        .flat_map(|f| f.split(|&b| b == b'\n').map(<[u8]>::to_vec))
        .filter(|l| !l.is_empty())
        .collect();
    Corpus { files, lines }
}

/// Every log file under `dir` (not the `.expect.json` expectations).
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else if !p.to_string_lossy().ends_with(".expect.json") {
            out.push(p);
        }
    }
}

/// Bytes that parsers split on or treat specially.
const INTERESTING: &[u8] =
    b"\x00\x01\x1b\x7f\x80\x9b\xc2\xff \t\r\n:;<>[]()=\",@-+./\\{}'0123456789";

/// Hostile or tricky insertions.
const PIECES: &[&[u8]] = &[
    b"\x1b[31m",
    b"\x1b]0;PWNED\x07",
    b"\x1b]8;;http://evil.example/\x1b\\x\x1b]8;;\x1b\\",
    "\u{9b}31m".as_bytes(),
    "\u{202e}".as_bytes(),
    "\u{2066}".as_bytes(),
    "\u{200b}".as_bytes(),
    "\u{feff}".as_bytes(),
    "é日本📬".as_bytes(),
    b"\xff\xfe",
    b"\xe2\x80",
    b"99999999999999999999999",
    b"-1",
    b"4294967296",
    b"18446744073709551616",
    b"0000",
    b" said: ",
    b" (in reply to RCPT TO command)",
    b"status=",
    b"<>",
    b"<@>",
    b"@",
    b"[]",
    b"[::1]:",
    b"H=",
    b"R=",
    b"T=\"",
    b"for ",
    b" ** ",
    b" == ",
    b" => ",
    b" -> ",
    b" <= ",
    b"NOQUEUE: reject: ",
    b"{\"MESSAGE\":[1,2,3],\"__REALTIME_TIMESTAMP\":\"1\"}",
    b"\\n",
    b"Completed",
    b"removed",
];

/// A seed: the whole of a fixture (a quarter of the time) or 1 to 32 consecutive lines.
fn seed_input(rng: &mut Rng, c: &Corpus) -> Vec<u8> {
    if rng.chance(4) {
        return rng.pick(&c.files).clone();
    }
    let start = rng.below(c.lines.len());
    let n = 1 + rng.below(32);
    c.lines[start..(start + n).min(c.lines.len())].join(&b'\n')
}

/// The byte range of a random space-separated field of `d`.
fn field(rng: &mut Rng, d: &[u8]) -> Option<(usize, usize)> {
    if d.is_empty() {
        return None;
    }
    let at = rng.below(d.len());
    let start = d[..at]
        .iter()
        .rposition(|&b| b == b' ')
        .map_or(0, |i| i + 1);
    let end = d[at..]
        .iter()
        .position(|&b| b == b' ')
        .map_or(d.len(), |i| at + i);
    (start < end).then_some((start, end))
}

/// Applies one random mutation to `d`.
fn mutate(rng: &mut Rng, d: &mut Vec<u8>, c: &Corpus) {
    let pos = |rng: &mut Rng, d: &Vec<u8>| rng.below(d.len() + 1);
    match rng.below(12) {
        0 if !d.is_empty() => {
            let i = rng.below(d.len());
            d[i] ^= 1 << rng.below(8);
        }
        1 if !d.is_empty() => {
            let i = rng.below(d.len());
            d[i] = *rng.pick(INTERESTING);
        }
        2 => d.truncate(pos(rng, d)),
        3 if !d.is_empty() => {
            let a = rng.below(d.len());
            let b = (a + 1 + rng.below(64)).min(d.len());
            d.drain(a..b);
        }
        4 => {
            // Splice: part of another line.
            let other = rng.pick(&c.lines);
            let a = rng.below(other.len() + 1);
            let b = a + rng.below(other.len() - a + 1);
            let at = pos(rng, d);
            d.splice(at..at, other[a..b].iter().copied());
        }
        5 => {
            if let Some((a, b)) = field(rng, d) {
                let copy: Vec<u8> = [b" ", &d[a..b]].concat();
                d.splice(b..b, copy);
            }
        }
        6 => {
            // A huge field: one field repeated, or one byte, up to about 1 MiB.
            let max = if rng.chance(8) { 1 << 20 } else { 4096 };
            let n = 1 + rng.below(max);
            let fill = match field(rng, d) {
                Some((a, b)) if rng.chance(2) => d[a..b].repeat(n / (b - a) + 1),
                _ => vec![*rng.pick(INTERESTING); n],
            };
            let at = pos(rng, d);
            d.splice(at..at, fill);
        }
        7 => {
            let at = pos(rng, d);
            d.splice(at..at, rng.pick(PIECES).iter().copied());
        }
        8 => {
            // Duplicate or swap lines.
            let mut lines: Vec<Vec<u8>> = d.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
            if rng.chance(2) {
                lines.swap(i, j);
            } else {
                let l = lines[i].clone();
                lines.insert(j, l);
            }
            *d = lines.join(&b'\n');
        }
        9 => {
            // A digit run replaced by a huge or odd number.
            if let Some(i) = d.iter().position(|b| b.is_ascii_digit()) {
                let end = d[i..]
                    .iter()
                    .position(|b| !b.is_ascii_digit())
                    .map_or(d.len(), |e| i + e);
                let with =
                    *rng.pick(&[&b"99999999999999999999999"[..], b"0", b"-1", b"4294967296"]);
                d.splice(i..end, with.iter().copied());
            }
        }
        10 => {
            let at = pos(rng, d);
            let n = 1 + rng.below(16);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            d.splice(at..at, bytes);
        }
        _ => {
            // Another seed appended: messages that interleave.
            let s = seed_input(rng, c);
            d.push(b'\n');
            d.extend(s);
        }
    }
    d.truncate(4 << 20);
}

/// What running one target found.
#[derive(Default)]
struct Findings {
    iterations: u64,
    wall: Duration,
    cpu: Duration,
    /// Panic message → (count, saved input).
    crashes: BTreeMap<String, (u64, PathBuf)>,
    slowest: (Duration, usize),
}

/// CPU time of the calling thread, from `/proc/thread-self/stat` (zero where there is none).
fn thread_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return Duration::ZERO;
    };
    let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
    let ticks: u64 = rest
        .split(' ')
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

fn crash_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-crashes")
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Runs `target` on mutated seeds for `budget`.
fn fuzz(name: &str, target: targets::Target, budget: Duration, seed: u64) -> Findings {
    let c = corpus();
    let mut rng = Rng(seed ^ name.bytes().fold(0u64, |h, b| h.rotate_left(8) ^ b as u64));
    let mut f = Findings::default();
    let (start, cpu0) = (Instant::now(), thread_cpu());
    while start.elapsed() < budget {
        let mut input = seed_input(&mut rng, &c);
        for _ in 0..1 + rng.below(4) {
            mutate(&mut rng, &mut input, &c);
        }
        let t = Instant::now();
        let r = catch_unwind(AssertUnwindSafe(|| target(&input)));
        let took = t.elapsed();
        if took > f.slowest.0 {
            f.slowest = (took, input.len());
        }
        f.iterations += 1;
        if let Err(p) = r {
            let msg = panic_message(&*p);
            let e = f.crashes.entry(msg).or_insert_with(|| {
                let dir = crash_dir();
                std::fs::create_dir_all(&dir).unwrap();
                let path = dir.join(format!("{name}-{seed:016x}-{}.bin", f.iterations));
                std::fs::write(&path, &input).unwrap();
                (0, path)
            });
            e.0 += 1;
        }
    }
    f.wall = start.elapsed();
    f.cpu = thread_cpu().saturating_sub(cpu0);
    f
}

fn budget() -> Duration {
    let secs: f64 = std::env::var("MAILTRACE_FUZZ_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    Duration::from_secs_f64(secs)
}

fn random_seed() -> u64 {
    std::env::var("MAILTRACE_FUZZ_SEED")
        .ok()
        .and_then(|v| u64::from_str_radix(v.trim_start_matches("0x"), 16).ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
}

/// Runs one target for the budget, prints its figures and fails on any panic.
fn run_target(name: &str) {
    let (_, target) = targets::TARGETS.iter().find(|(n, _)| *n == name).unwrap();
    if let Some(path) = std::env::var_os("MAILTRACE_FUZZ_INPUT") {
        target(&std::fs::read(path).unwrap());
        return;
    }
    let seed = random_seed();
    let f = fuzz(name, *target, budget(), seed);
    println!(
        "fuzz_mutate {name}: seed {seed:016x}: {} iterations in {:.1} s ({:.1} s CPU), slowest {:.3} s on {} bytes, {} distinct panics",
        f.iterations,
        f.wall.as_secs_f64(),
        f.cpu.as_secs_f64(),
        f.slowest.0.as_secs_f64(),
        f.slowest.1,
        f.crashes.len()
    );
    let crashes: Vec<String> = f
        .crashes
        .iter()
        .map(|(msg, (n, path))| format!("{n}× {msg} (input: {})", path.display()))
        .collect();
    assert!(
        crashes.is_empty(),
        "{name}: panics:\n{}",
        crashes.join("\n")
    );
}

#[test]
fn fuzz_mutate_exim() {
    run_target("exim");
}

#[test]
fn fuzz_mutate_postfix() {
    run_target("postfix");
}

#[test]
fn fuzz_mutate_syslog() {
    run_target("syslog");
}

#[test]
fn fuzz_mutate_correlate() {
    run_target("correlate");
}

#[test]
fn fuzz_mutate_trace() {
    run_target("trace");
}

#[test]
fn fuzz_mutate_every_target_has_a_test() {
    let names: Vec<&str> = targets::TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["exim", "postfix", "syslog", "correlate", "trace"]);
}

/// A target with a planted bug: panics on a CSI sequence, which only a mutation inserts.
fn planted(d: &[u8]) {
    assert!(!d.windows(2).any(|w| w == b"\x1b["), "planted");
}

#[test]
fn fuzz_mutate_finds_a_planted_panic() {
    let f = fuzz("planted", planted, Duration::from_millis(500), 1);
    let (n, path) = f
        .crashes
        .get("planted")
        .expect("the planted panic is found");
    assert!(*n > 0);
    assert!(
        std::fs::read(path)
            .unwrap()
            .windows(2)
            .any(|w| w == b"\x1b[")
    );
}

/// Panics the long runs found outside `sanitize` and `trace`, minimised, with where they
/// panic; each becomes a regression test once its parser is fixed.
const KNOWN_PANICS: &[(&str, &[u8], &str)] = &[(
    "exim",
    "2026-11-26 03:14:25 SMTP connection r=<>é".as_bytes(),
    "src/parse/exim/words.rs (was exim.rs:1468): s[i..] with i inside a multi-byte character",
)];

#[test]
fn fuzz_mutate_known_panics_are_fixed() {
    let still: Vec<&str> = KNOWN_PANICS
        .iter()
        .filter(|(name, input, _)| {
            let (_, target) = targets::TARGETS.iter().find(|(n, _)| n == name).unwrap();
            catch_unwind(|| target(input)).is_err()
        })
        .map(|(_, _, what)| *what)
        .collect();
    assert!(still.is_empty(), "still panicking:\n{}", still.join("\n"));
}
