//! Writes a realistic day on a shared server (`day.log`) and its ground truth (`truth.json`)
//! into a folder (see `mailtrace_synth::generate_day`).
//!
//! ```text
//! cargo run --release -p mailtrace-synth --example genday -- --mta exim|postfix [--cpanel]
//!     [--seed 1] [--hours 11] [--lines 650000] [--accounts 400] [--domains 150]
//!     [--start 2026-11-26T07:00:00] [--limit-min 5] [--limit-percent 100]
//!     [--healthy] [--only NAME,...] [--without NAME,...] --out DIR
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use mailtrace_synth::{DayConfig, Mta, Scenarios, generate_day};

const USAGE: &str = "usage: genday --mta exim|postfix [--cpanel] [--seed N] [--hours H] [--lines N]
              [--accounts N] [--domains N] [--start YYYY-MM-DDTHH:MM:SS]
              [--limit-min N] [--limit-percent N]
              [--healthy | --only NAME,... | --without NAME,...] --out DIR
N takes a K or M suffix (thousands, millions). Scenario names: compromised, stale-list,
partner-down, server-blocklisted, unsolicited, recipient-blocking, sender-blocklisted
(all planted unless --healthy, --only or --without says otherwise).
Writes DIR/day.log and DIR/truth.json.";

fn parse_count(s: &str) -> Option<u64> {
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1e3),
        'm' | 'M' => (&s[..s.len() - 1], 1e6),
        _ => (s, 1.0),
    };
    let n: f64 = num.parse().ok()?;
    (n >= 0.0).then_some((n * mult) as u64)
}

fn number<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("{name}: bad number {v:?}"))
}

fn scenario_list(list: &str, on: bool, into: &mut Scenarios) -> Result<(), String> {
    for name in list.split(',').filter(|s| !s.is_empty()) {
        if !into.set(name, on) {
            return Err(format!("unknown scenario {name:?}\n{USAGE}"));
        }
    }
    Ok(())
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut cfg = DayConfig::new(Mta::Exim);
    let mut mta = None;
    let mut out = None;
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
            "--cpanel" => cfg.cpanel = true,
            "--healthy" => cfg.scenarios = Scenarios::none(),
            "--only" => {
                cfg.scenarios = Scenarios::none();
                scenario_list(&value("--only")?, true, &mut cfg.scenarios)?;
            }
            "--without" => scenario_list(&value("--without")?, false, &mut cfg.scenarios)?,
            "--seed" => cfg.seed = number("--seed", &value("--seed")?)?,
            "--hours" => cfg.hours = number("--hours", &value("--hours")?)?,
            "--accounts" => cfg.accounts = number("--accounts", &value("--accounts")?)?,
            "--domains" => cfg.domains = number("--domains", &value("--domains")?)?,
            "--limit-min" => cfg.limit_min = number("--limit-min", &value("--limit-min")?)?,
            "--limit-percent" => {
                cfg.limit_percent = number("--limit-percent", &value("--limit-percent")?)?
            }
            "--lines" => {
                let v = value("--lines")?;
                cfg.lines = parse_count(&v).ok_or(format!("bad count {v:?}"))?;
            }
            "--start" => {
                let v = value("--start")?;
                cfg.start = chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M:%S")
                    .map_err(|e| format!("bad --start {v:?}: {e}"))?;
            }
            "--out" => out = Some(value("--out")?),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    cfg.mta = mta.ok_or(format!("--mta is required\n{USAGE}"))?;
    let dir = std::path::PathBuf::from(out.ok_or(format!("--out is required\n{USAGE}"))?);
    if cfg.cpanel && cfg.mta != Mta::Exim {
        return Err("--cpanel needs --mta exim".into());
    }
    if cfg.hours == 0 || cfg.accounts == 0 || cfg.domains == 0 {
        return Err("--hours, --accounts and --domains must be at least 1".into());
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let log = dir.join("day.log");
    let file = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let t0 = Instant::now();
    let truth = generate_day(&cfg, &mut w).map_err(|e| format!("{}: {e}", log.display()))?;
    w.flush().map_err(|e| format!("{}: {e}", log.display()))?;
    let secs = t0.elapsed().as_secs_f64().max(1e-9);
    let path = dir.join("truth.json");
    let mut f =
        BufWriter::new(File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?);
    serde_json::to_writer_pretty(&mut f, &truth).map_err(|e| format!("{}: {e}", path.display()))?;
    writeln!(f)
        .and_then(|_| f.flush())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!(
        "genday: {}: {} lines, {} bytes in {:.2} s ({:.2} M lines/s, {:.0} MB/s); {} scenarios, {} cPanel trips",
        log.display(),
        truth.lines,
        truth.bytes,
        secs,
        truth.lines as f64 / 1e6 / secs,
        truth.bytes as f64 / 1e6 / secs,
        truth.scenarios.len(),
        truth.trips.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("genday: {e}");
            ExitCode::from(2)
        }
    }
}
