//! The line buffer of the adversarial generator: the clock and its two timestamp forms,
//! queue IDs, and writing out in blocks.

use std::io::{self, Write};

use chrono::{Datelike, NaiveDateTime, Timelike};

use crate::names::MON;
use crate::output::b62;

/// Bytes buffered before they are written out.
const BLOCK: usize = 1 << 18;

pub(super) struct Lines<'w, W: Write> {
    out: &'w mut W,
    pub(super) buf: Vec<u8>,
    start: NaiveDateTime,
    start_epoch: i64,
    /// Log time of the current step, in ms from `start`.
    pub(super) now_ms: u64,
    sec: Option<u64>,
    ts_exim: String,
    ts_syslog: String,
    written: u64,
    lines: u64,
}

impl<'w, W: Write> Lines<'w, W> {
    pub(super) fn new(out: &'w mut W, start: NaiveDateTime) -> Self {
        Lines {
            out,
            buf: Vec::with_capacity(BLOCK + 4096),
            start,
            start_epoch: start.and_utc().timestamp(),
            now_ms: 0,
            sec: None,
            ts_exim: String::new(),
            ts_syslog: String::new(),
            written: 0,
            lines: 0,
        }
    }

    /// Sets the log time (ms from the start) and the timestamps of the lines that follow.
    pub(super) fn set_clock(&mut self, ms: u64) {
        self.now_ms = ms;
        let sec = ms / 1000;
        if self.sec == Some(sec) {
            return;
        }
        self.sec = Some(sec);
        let dt = self.start + chrono::Duration::seconds(sec as i64);
        self.ts_exim = dt.format("%Y-%m-%d %H:%M:%S").to_string();
        self.ts_syslog = format!(
            "{} {:>2} {:02}:{:02}:{:02}",
            MON[dt.month0() as usize],
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
    }

    /// Seconds since the Unix epoch at log time `ms`.
    pub(super) fn epoch_at(&self, ms: u64) -> i64 {
        self.start_epoch + (ms / 1000) as i64
    }

    /// The current time as `YYYY-MM-DDTHH:MM:SS` (as in some reply texts).
    pub(super) fn iso(&self) -> String {
        self.ts_exim.replacen(' ', "T", 1)
    }

    /// The current time as `YYYYMMDDHHMMSS` (Postfix's bounce message IDs).
    pub(super) fn compact(&self) -> String {
        self.ts_exim.chars().filter(char::is_ascii_digit).collect()
    }

    /// Starts an Exim line: `YYYY-MM-DD HH:MM:SS `.
    pub(super) fn exim(&mut self) {
        self.buf.extend_from_slice(self.ts_exim.as_bytes());
        self.buf.push(b' ');
    }

    /// Starts a Postfix line: `Mon DD HH:MM:SS mx1 prog[pid]: `.
    pub(super) fn syslog(&mut self, prog: &str, pid: u64) {
        self.buf.extend_from_slice(self.ts_syslog.as_bytes());
        let _ = write!(self.buf, " mx1 {prog}[{pid}]: ");
    }

    pub(super) fn s(&mut self, x: &str) {
        self.buf.extend_from_slice(x.as_bytes());
    }

    pub(super) fn end(&mut self) {
        self.buf.push(b'\n');
        self.lines += 1;
    }

    pub(super) fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= BLOCK {
            self.out.write_all(&self.buf)?;
            self.written += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes what is left and returns (bytes, lines) written.
    pub(super) fn finish(mut self) -> io::Result<(u64, u64)> {
        self.out.write_all(&self.buf)?;
        self.written += self.buf.len() as u64;
        self.out.flush()?;
        Ok((self.written, self.lines))
    }
}

/// An Exim queue ID (`TTTTTT-PPPPPPPPPPP-SSSS`, base 62) for unique number `n` arriving at
/// `epoch` (ms part `ms`): distinct numbers give distinct IDs.
pub(super) fn exim_id(epoch: i64, ms: u64, n: u64) -> String {
    let mut v = Vec::with_capacity(23);
    b62(&mut v, epoch.max(0) as u64, 6);
    v.push(b'-');
    b62(&mut v, mix64(n.wrapping_add(1)), 11);
    v.push(b'-');
    b62(&mut v, (ms % 1000) * 2 + n % 2, 4);
    String::from_utf8(v).expect("base 62 is ASCII")
}

/// A bijection of 64 bits (SplitMix64's finaliser), so the IDs do not look like counters.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A short Postfix queue ID (10 upper-case hex digits) for unique number `n < 2^40 - 1`: a
/// bijection of 40 bits, so distinct numbers give distinct IDs.
pub(super) fn postfix_id(n: u64) -> String {
    const MASK: u64 = (1 << 40) - 1;
    let mut x = (n + 1) & MASK;
    x = x.wrapping_mul(0x9E_3779_B97F) & MASK; // odd: invertible mod 2^40
    x ^= x >> 20;
    x = x.wrapping_mul(0x51_ED27_0B27) & MASK;
    x ^= x >> 17;
    format!("{x:010X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for n in 0..200_000 {
            assert!(seen.insert(postfix_id(n)));
            assert!(seen.insert(exim_id(1_795_651_200, n % 1000, n)));
        }
        assert_eq!(exim_id(1_795_651_200, 5, 1).len(), 23);
    }
}
