//! Writing lines: timestamps, prefixes, numbers.

use std::io::{self, Write};

use chrono::{Datelike, Timelike};

use crate::names::{B62, MON};
use crate::sim::{BASE, Gen, Id};

impl<W: Write> Gen<'_, W> {
    // -----------------------------------------------------------------------------------------
    // Output

    pub(crate) fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= 1 << 18 {
            self.out.write_all(&self.buf)?;
            self.flushed += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    pub(crate) fn set_clock(&mut self, t: u64) {
        let sec = t / 1000;
        if sec == self.ts_sec {
            return;
        }
        self.ts_sec = sec;
        let dt = self.cfg.start + chrono::Duration::milliseconds((t - BASE) as i64);
        let mut v = Vec::with_capacity(19);
        let _ = write!(
            v,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        self.ts_exim.copy_from_slice(&v);
        v.clear();
        let _ = write!(
            v,
            "{} {:>2} {:02}:{:02}:{:02}",
            MON[dt.month0() as usize],
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        self.ts_syslog.copy_from_slice(&v);
    }

    /// Starts an Exim line: `YYYY-MM-DD HH:MM:SS `.
    pub(crate) fn ex(&mut self) {
        self.set_clock(self.now);
        self.buf.extend_from_slice(&self.ts_exim);
        self.buf.push(b' ');
    }

    /// Starts an Exim line for a message: `YYYY-MM-DD HH:MM:SS ID `.
    pub(crate) fn exm(&mut self, id: &Id) {
        self.ex();
        self.buf.extend_from_slice(&id.b[..id.len as usize]);
        self.buf.push(b' ');
    }

    /// Starts a syslog line: `Mon DD HH:MM:SS host prog[pid]: `.
    pub(crate) fn sys(&mut self, prog: &str, pid: u32) {
        self.set_clock(self.now);
        self.buf.extend_from_slice(&self.ts_syslog);
        self.buf.extend_from_slice(b" mx1 ");
        self.s(prog);
        self.buf.push(b'[');
        self.n(pid as u64);
        self.buf.extend_from_slice(b"]: ");
    }

    /// Starts a Postfix line for a queue id.
    pub(crate) fn pfm(&mut self, prog: &str, pid: u32, id: &Id) {
        self.sys(prog, pid);
        self.buf.extend_from_slice(&id.b[..id.len as usize]);
        self.buf.extend_from_slice(b": ");
    }

    pub(crate) fn s(&mut self, x: &str) {
        self.buf.extend_from_slice(x.as_bytes());
    }

    pub(crate) fn n(&mut self, mut x: u64) {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b'0' + (x % 10) as u8;
            x /= 10;
            if x == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&tmp[i..]);
    }

    pub(crate) fn end(&mut self) {
        self.buf.push(b'\n');
        self.lines += 1;
    }

    /// Postfix delay figures: `delay=D, delays=a/b/c/d, `.
    pub(crate) fn delays(&mut self, since: u64, conn_ms: u64, xfer_ms: u64) {
        let total = self.now.saturating_sub(since);
        let (mut b, mut conn_ms, mut xfer_ms) = (10, conn_ms, xfer_ms);
        if b + conn_ms + xfer_ms > total {
            // The parts never add up to more than the whole.
            b = b.min(total / 10);
            let rest = total - b;
            let want = (conn_ms + xfer_ms).max(1);
            conn_ms = rest * conn_ms / want * 9 / 10;
            xfer_ms = rest * xfer_ms / want * 9 / 10;
        }
        let a = total - b - conn_ms - xfer_ms;
        self.s("delay=");
        fmt_delay(&mut self.buf, total);
        self.s(", delays=");
        fmt_delay(&mut self.buf, a);
        self.buf.push(b'/');
        fmt_delay(&mut self.buf, b);
        self.buf.push(b'/');
        fmt_delay(&mut self.buf, conn_ms);
        self.buf.push(b'/');
        fmt_delay(&mut self.buf, xfer_ms);
        self.s(", ");
    }
}

pub(crate) fn b62(v: &mut Vec<u8>, mut x: u64, width: usize) {
    let start = v.len();
    v.resize(start + width, b'0');
    for i in (0..width).rev() {
        v[start + i] = B62[(x % 62) as usize];
        x /= 62;
    }
}

/// Postfix-style delay: integers from 10 s, else at most two significant digits.
pub(crate) fn fmt_delay(buf: &mut Vec<u8>, ms: u64) {
    if ms >= 10_000 {
        let _ = write!(buf, "{}", ms / 1000);
    } else if ms >= 1000 {
        let tenths = ms / 100;
        if tenths.is_multiple_of(10) {
            let _ = write!(buf, "{}", tenths / 10);
        } else {
            let _ = write!(buf, "{}.{}", tenths / 10, tenths % 10);
        }
    } else if ms >= 100 {
        let hundredths = ms / 10;
        if hundredths.is_multiple_of(10) {
            let _ = write!(buf, "0.{}", hundredths / 10);
        } else {
            let _ = write!(buf, "0.{:02}", hundredths);
        }
    } else if ms >= 10 {
        let _ = write!(buf, "0.0{}", ms / 10);
    } else {
        buf.push(b'0');
    }
}
