//! Writes a synthetic Exim or Postfix log with known ground truth (see `mailtrace_synth`).
//!
//! ```text
//! cargo run --release -p mailtrace-synth --example genlog -- --mta exim|postfix (--bytes 1G | --messages N)
//!     [--seed 1] [--cpanel] [--start 2026-11-26T00:00:00] [--limit-min 5]
//!     [--limit-percent 100] --out FILE [--truth FILE.json]
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use mailtrace_synth::{Mta, SynthConfig, generate};

const USAGE: &str =
    "usage: genlog --mta exim|postfix (--bytes SIZE | --messages N) [--seed N] [--cpanel]
              [--start YYYY-MM-DDTHH:MM:SS] [--limit-min N] [--limit-percent N]
              --out FILE [--truth FILE.json]
SIZE takes a K, M or G suffix (powers of 1024).";

fn parse_size(s: &str) -> Option<u64> {
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1u64 << 10),
        'm' | 'M' => (&s[..s.len() - 1], 1 << 20),
        'g' | 'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    let n: f64 = num.parse().ok()?;
    (n >= 0.0).then_some((n * mult as f64) as u64)
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut cfg = SynthConfig::new(Mta::Exim);
    let mut mta = None;
    let mut out = None;
    let mut truth = None;
    let mut sized = false;
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--mta" => {
                mta = Some(match value("--mta")?.as_str() {
                    "exim" => Mta::Exim,
                    "postfix" => Mta::Postfix,
                    other => return Err(format!("unknown MTA {other:?}")),
                })
            }
            "--bytes" => {
                let v = value("--bytes")?;
                cfg.target_bytes = Some(parse_size(&v).ok_or(format!("bad size {v:?}"))?);
                sized = true;
            }
            "--messages" => {
                let v = value("--messages")?;
                cfg.messages = v.parse().map_err(|_| format!("bad count {v:?}"))?;
                sized = true;
            }
            "--seed" => {
                let v = value("--seed")?;
                cfg.seed = v.parse().map_err(|_| format!("bad seed {v:?}"))?;
            }
            "--cpanel" => cfg.cpanel = true,
            "--start" => {
                let v = value("--start")?;
                cfg.start = chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M:%S")
                    .map_err(|e| format!("bad --start {v:?}: {e}"))?;
            }
            "--limit-min" => {
                let v = value("--limit-min")?;
                cfg.limit_min = v.parse().map_err(|_| format!("bad number {v:?}"))?;
            }
            "--limit-percent" => {
                let v = value("--limit-percent")?;
                cfg.limit_percent = v.parse().map_err(|_| format!("bad number {v:?}"))?;
            }
            "--out" => out = Some(value("--out")?),
            "--truth" => truth = Some(value("--truth")?),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    cfg.mta = mta.ok_or(format!("--mta is required\n{USAGE}"))?;
    let out = out.ok_or(format!("--out is required\n{USAGE}"))?;
    if !sized {
        return Err(format!("give --bytes or --messages\n{USAGE}"));
    }
    if cfg.cpanel && cfg.mta != Mta::Exim {
        return Err("--cpanel needs --mta exim".into());
    }
    let file = File::create(&out).map_err(|e| format!("{out}: {e}"))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let t0 = Instant::now();
    let t = generate(&cfg, &mut w).map_err(|e| format!("{out}: {e}"))?;
    w.flush().map_err(|e| format!("{out}: {e}"))?;
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "genlog: {out}: {} bytes, {} lines, {} messages in {:.2} s ({:.0} MB/s); delivered {} deferred {} bounced {} rejected {} expired {}; {} cPanel trips",
        t.bytes,
        t.lines,
        t.messages,
        secs,
        t.bytes as f64 / 1e6 / secs.max(1e-9),
        t.totals.delivered,
        t.totals.deferred,
        t.totals.bounced,
        t.totals.rejected,
        t.totals.expired,
        t.trips.len()
    );
    if let Some(path) = truth {
        let mut f = BufWriter::new(File::create(&path).map_err(|e| format!("{path}: {e}"))?);
        serde_json::to_writer_pretty(&mut f, &t).map_err(|e| format!("{path}: {e}"))?;
        writeln!(f)
            .and_then(|_| f.flush())
            .map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("genlog: {e}");
            ExitCode::from(2)
        }
    }
}
