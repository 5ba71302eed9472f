//! The hostile background of a day: password guessing against many mailboxes, spam and
//! backscatter refused at SMTP time, scanners.
//!
//! Attackers come from 198.19.0.0/17 (a /24 each), spam and backscatter sources from
//! 198.19.128.0/18, scanners from 198.19.250.0/24.

use std::io::Write;

use crate::names::ROLES;
use crate::noise::Reject;
use crate::reply::SERVER_IP;
use crate::sim::{Ev, Gen};
use crate::world::local_part;

use super::DayEv;
use super::plan::{COMPROMISED, Target};

/// Sender domains of spam refused at SMTP time.
pub(crate) const SPAM_DOMAINS: &[&str] = &[
    "bestdeals-online.example",
    "promo-offers.example.net",
    "cheap-meds.example.com",
    "crypto-profit.example",
    "luckywinner.example.org",
    "fastloans.example.net",
    "replica-watch.example.com",
    "seo-ranking.example",
];
const ATTACK_HELOS: &[&str] = &["User", "localhost", "ylmf-pc", "WIN-CLJ1B0GQ6JP", "ADMIN"];

impl<W: Write> Gen<'_, W> {
    /// One login attempt of brute-force campaign `c`, then the next one.
    pub(crate) fn day_brute(&mut self, c: u16) {
        let now = self.now;
        let (ip, target, named, end, gap, scen) = {
            let d = self.day.as_deref().expect("day mode");
            let camp = &d.plan.campaigns[c as usize];
            let ip = camp.ips[self.rng.below(camp.ips.len() as u64) as usize].clone();
            let target = camp.targets[self.rng.below(camp.targets.len() as u64) as usize];
            let scen = if d.plan.on.compromised && c as usize == d.plan.campaigns.len() - 1 {
                COMPROMISED
            } else {
                0
            };
            let named = self.rng.chance(camp.named);
            (ip, target, named, camp.end, camp.gap, scen)
        };
        if now >= end {
            return;
        }
        let next = now + self.rng.exp(gap as f64) as u64 + 200;
        self.at(next, Ev::Day(DayEv::Brute(c)));
        let login = match target {
            Target::Account(a) => day_ref!(self).people.accounts[a].addr.clone(),
            Target::Guess(d, name) => format!("{name}@{}", self.w.locals[d as usize].name),
        };
        if let (Target::Account(a), true) = (target, scen != 0)
            && a == day_ref!(self).plan.victim
        {
            self.tally(scen, "failed_logins_for_victim");
        }
        let helo = *self.rng.pick(ATTACK_HELOS);
        let port = self.rng.range(1024, 65535);
        if self.exim() {
            self.exim_auth_failure(&ip, port, helo, named.then_some(login.as_str()));
        } else {
            self.pf_auth_failure(&ip, named.then_some(login.as_str()));
        }
    }

    fn exim_auth_failure(&mut self, ip: &str, port: u64, helo: &str, login: Option<&str>) {
        if self.cpanel() {
            self.ex();
            let c = self.rng.range(1, 4);
            let _ = write!(
                self.buf,
                "SMTP connection from [{ip}]:{port} (TCP/IP connection count = {c})"
            );
            self.end();
            self.ex();
            let _ = write!(
                self.buf,
                "dovecot_login authenticator failed for ({helo}) [{ip}]:{port}: 535 Incorrect authentication data"
            );
        } else {
            self.ex();
            let _ = write!(
                self.buf,
                "dovecot_plain authenticator failed for H=({helo}) [{ip}]: 535 Incorrect authentication data"
            );
        }
        if let Some(l) = login {
            let _ = write!(self.buf, " (set_id={l})");
        }
        self.end();
        if self.cpanel() {
            self.ex();
            let secs = self.rng.range(1, 20);
            let _ = write!(
                self.buf,
                "SMTP connection from ({helo}) [{ip}]:{port} lost D={secs}s"
            );
            self.end();
        }
    }

    fn pf_auth_failure(&mut self, ip: &str, login: Option<&str>) {
        let pid = 25_000 + self.rng.below(10) as u32;
        self.sys("postfix/submission/smtpd", pid);
        let _ = write!(self.buf, "connect from unknown[{ip}]");
        self.end();
        self.sys("postfix/submission/smtpd", pid);
        match login {
            Some(l) => {
                let _ = write!(
                    self.buf,
                    "warning: unknown[{ip}]: SASL LOGIN authentication failed: authentication failure, sasl_username={l}"
                );
            }
            None => {
                let _ = write!(
                    self.buf,
                    "warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"
                );
            }
        }
        self.end();
        self.sys("postfix/submission/smtpd", pid);
        let _ = write!(
            self.buf,
            "disconnect from unknown[{ip}] ehlo=1 auth=0/1 rset=1 quit=1 commands=3/4"
        );
        self.end();
    }

    /// A session refused at SMTP time: backscatter (bounces from `<>` to made-up addresses
    /// at our domains), spam from listed or unknown hosts, relay attempts; then the next.
    pub(crate) fn day_reject(&mut self) {
        let rate = 0.12 * day_ref!(self).k * super::activity(self.now_dt()) + 0.01;
        let gap = self.rng.exp(1000.0 / rate) as u64 + 1;
        self.at(self.now + gap, Ev::Day(DayEv::Reject));
        let x = self.rng.below(20);
        let nlocal = self.w.locals.len() as u64;
        let (sender, skey, reason) = if x < 8 {
            (String::new(), self.w.null_key, self.rng.below(4))
        } else if x < 17 {
            let i = self.rng.below(SPAM_DOMAINS.len() as u64) as usize;
            let reason = match self.rng.below(20) {
                0..=9 => 4,
                10..=15 => self.rng.below(4),
                16..=17 => 7,
                18 => 6,
                _ => 9,
            };
            (
                format!("{}@{}", local_part(&mut self.rng), SPAM_DOMAINS[i]),
                self.w.spam_key0 + i as u32,
                reason,
            )
        } else {
            // A forged sender at one of our domains.
            let d = self.rng.below(nlocal) as usize;
            (
                format!("{}@{}", self.rng.pick(ROLES), self.w.locals[d].name),
                d as u32,
                self.rng.below(4),
            )
        };
        let ip = format!(
            "198.19.{}.{}",
            128 + self.rng.below(64),
            1 + self.rng.below(254)
        );
        let host = if self.rng.chance(0.5) {
            "unknown".to_string()
        } else {
            format!("mail{}.{}", self.rng.below(9), SPAM_DOMAINS[x as usize % 8])
        };
        let helo = if host == "unknown" {
            format!("[{ip}]")
        } else {
            host.clone()
        };
        let mut rcpts = Vec::new();
        for _ in 0..self.rng.range(1, 3) {
            let dom = if reason == 6 {
                let r = self.w.rcpt_w.sample(&mut self.rng);
                self.w.remotes[r].name.clone()
            } else {
                let d = self.w.local_w.sample(&mut self.rng);
                self.w.locals[d].name.clone()
            };
            let lp = if reason < 4 {
                local_part(&mut self.rng)
            } else {
                (*self.rng.pick(ROLES)).to_string()
            };
            rcpts.push(format!("{lp}@{dom}"));
        }
        let r = Reject {
            sender,
            skey,
            host,
            helo,
            ip,
            port: self.rng.range(32768, 60999) as u16,
            rcpts,
            reason,
        };
        if self.exim() {
            self.exim_reject(&r);
        } else {
            self.pf_reject(&r);
        }
    }

    /// Scanners and broken clients.
    pub(crate) fn day_noise(&mut self) {
        let gap = self.rng.exp(40_000.0) as u64 + 500;
        self.at(self.now + gap, Ev::Noise);
        let ip = format!("198.19.250.{}", 1 + self.rng.below(254));
        let port = self.rng.range(32768, 60999);
        let kind = self.rng.below(3);
        if self.exim() {
            self.ex();
            match kind {
                0 => {
                    let _ = write!(self.buf, "no host name found for IP address {ip}");
                }
                1 if self.cpanel() => {
                    let _ = write!(
                        self.buf,
                        "TLS error on connection from [{ip}]:{port} (SSL_accept): error:0A000126:SSL routines::unexpected eof while reading"
                    );
                }
                _ => {
                    let _ = write!(
                        self.buf,
                        "SMTP call from [{ip}] dropped: too many nonmail commands (last was \"RSET\")"
                    );
                }
            }
            self.end();
        } else if kind == 0 {
            let pid = 21_000 + self.rng.below(30) as u32;
            self.sys("postfix/smtpd", pid);
            let _ = write!(
                self.buf,
                "warning: hostname ptr-{}.example.net does not resolve to address {ip}: Name or service not known",
                self.rng.below(999)
            );
            self.end();
        } else {
            self.sys("postfix/postscreen", 1130);
            let _ = write!(self.buf, "CONNECT from [{ip}]:{port} to [{SERVER_IP}]:25");
            self.end();
            self.sys("postfix/postscreen", 1130);
            let _ = write!(
                self.buf,
                "PREGREET 11 after 0.14 from [{ip}]:{port}: EHLO User\\r\\n"
            );
            self.end();
            self.sys("postfix/postscreen", 1130);
            let _ = write!(self.buf, "DISCONNECT [{ip}]:{port}");
            self.end();
        }
    }

    /// The wall-clock time now.
    pub(crate) fn now_dt(&self) -> chrono::NaiveDateTime {
        self.cfg.start + chrono::Duration::milliseconds((self.now - crate::sim::BASE) as i64)
    }
}
