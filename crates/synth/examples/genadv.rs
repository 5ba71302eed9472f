//! Writes an adversarial log for memory benchmarks (see `mailtrace_synth::generate_adversarial`),
//! streaming it in constant memory.
//!
//! ```text
//! cargo run --release -p mailtrace-synth --example genadv -- \
//!     open-ids|senders|local-senders|auth-domains|failing-rcpts [--mta exim|postfix] --count N \
//!     [--seed 1] [--per-second 1000] [--start 2026-11-26T00:00:00] --out FILE
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use mailtrace_synth::{AdvConfig, AdvMode, Mta, generate_adversarial};

const USAGE: &str = "usage: genadv MODE [--mta exim|postfix] --count N [--seed N] [--per-second N]
              [--start YYYY-MM-DDTHH:MM:SS] --out FILE
MODE: open-ids      N queue IDs that never complete (arrival and a deferral, no Completed/removed)
      senders       N distinct remote envelope senders, each with one message delivered here
      local-senders N distinct hosted mailboxes (50 domains), each sending one message out
      auth-domains  N distinct authenticated sender domains (each its own cPanel user)
      failing-rcpts N distinct failing recipients, each with its own reply text and a bounce
N takes a K or M suffix (thousands, millions). --mta defaults to exim (cPanel Exim lines).
--per-second: messages per second of log time (default 1000: 3M messages span 50 minutes).
Use `-` as FILE for standard output.";

fn parse_count(s: &str) -> Option<u64> {
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1e3),
        'm' | 'M' => (&s[..s.len() - 1], 1e6),
        _ => (s, 1.0),
    };
    let n: f64 = num.parse().ok()?;
    (n >= 0.0).then_some((n * mult).round() as u64)
}

/// The configuration and output path from the command line; `None` for `--help`.
fn parse_args() -> Result<Option<(AdvConfig, String)>, String> {
    let mut args = std::env::args().skip(1);
    let mut cfg = AdvConfig::new(AdvMode::OpenIds, Mta::Exim, 0);
    let (mut mode, mut count, mut out) = (None, None, None);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--mta" => {
                cfg.mta = match value("--mta")?.as_str() {
                    "exim" => Mta::Exim,
                    "postfix" => Mta::Postfix,
                    other => return Err(format!("unknown MTA {other:?}")),
                }
            }
            "--count" => {
                let v = value("--count")?;
                count = Some(parse_count(&v).ok_or(format!("bad count {v:?}"))?);
            }
            "--seed" => {
                let v = value("--seed")?;
                cfg.seed = v.parse().map_err(|_| format!("bad seed {v:?}"))?;
            }
            "--per-second" => {
                let v = value("--per-second")?;
                cfg.per_second = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or(format!("bad rate {v:?}"))?;
            }
            "--start" => {
                let v = value("--start")?;
                cfg.start = chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M:%S")
                    .map_err(|e| format!("bad --start {v:?}: {e}"))?;
            }
            "--out" => out = Some(value("--out")?),
            "-h" | "--help" => return Ok(None),
            m if !m.starts_with('-') && mode.is_none() => {
                mode = Some(AdvMode::from_name(m).ok_or(format!("unknown mode {m:?}\n{USAGE}"))?)
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    cfg.mode = mode.ok_or(format!("give a MODE\n{USAGE}"))?;
    cfg.count = count.ok_or(format!("--count is required\n{USAGE}"))?;
    let out = out.ok_or(format!("--out is required\n{USAGE}"))?;
    Ok(Some((cfg, out)))
}

fn run() -> Result<(), String> {
    let Some((cfg, out)) = parse_args()? else {
        println!("{USAGE}");
        return Ok(());
    };
    let sink: Box<dyn Write> = if out == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(File::create(&out).map_err(|e| format!("{out}: {e}"))?)
    };
    let mut w = BufWriter::with_capacity(1 << 20, sink);
    let t0 = Instant::now();
    let s = generate_adversarial(&cfg, &mut w).map_err(|e| format!("{out}: {e}"))?;
    w.flush().map_err(|e| format!("{out}: {e}"))?;
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "genadv: {out}: {} {:?}: {} messages, {} lines, {} bytes in {:.2} s ({:.0} MB/s)",
        cfg.mode.name(),
        cfg.mta,
        s.messages,
        s.lines,
        s.bytes,
        secs,
        s.bytes as f64 / 1e6 / secs.max(1e-9)
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("genadv: {e}");
            ExitCode::from(2)
        }
    }
}
