//! SMTP-time rejections and other connection noise (both MTAs).

use std::io::Write;

use crate::names::ROLES;
use crate::reply::SERVER_IP;
use crate::sim::{Ev, Gen};
use crate::world::{doc_ip, local_part};

/// One SMTP session from a remote client whose recipients our server refuses.
pub(crate) struct Reject {
    pub(crate) sender: String,
    /// Truth key of the sender's domain.
    pub(crate) skey: u32,
    /// Verified host name, or "unknown".
    pub(crate) host: String,
    pub(crate) helo: String,
    pub(crate) ip: String,
    pub(crate) port: u16,
    pub(crate) rcpts: Vec<String>,
    /// Which refusal (0-9): unknown user, RBL, relay, greylisting, sender verify.
    pub(crate) reason: u64,
}

impl<W: Write> Gen<'_, W> {
    pub(crate) fn ev_reject(&mut self) {
        let (sender, skey) = match self.rng.below(20) {
            0..=11 => {
                let i = self.rng.below(self.w.spam.len() as u64) as usize;
                let lp = local_part(&mut self.rng);
                (
                    format!("{lp}@{}", self.w.spam[i].0),
                    self.w.spam_key0 + i as u32,
                )
            }
            12..=14 => {
                // Forged sender in a hosted domain.
                let d = self.w.local_w.sample(&mut self.rng);
                let lp = *self.rng.pick(ROLES);
                (format!("{lp}@{}", self.w.locals[d].name), d as u32)
            }
            15..=16 => (String::new(), self.w.null_key),
            _ => {
                let si = self.w.sender_w.sample(&mut self.rng);
                let lp = local_part(&mut self.rng);
                (
                    format!("{lp}@{}", self.w.remotes[si].name),
                    self.w.remotes[si].key,
                )
            }
        };
        let si = self.rng.below(self.w.spam.len() as u64) as usize;
        let (_, host, ip) = self.w.spam[si].clone();
        let port = self.rng.range(32768, 60999) as u16;
        let helo = if host == "unknown" {
            format!("[{ip}]")
        } else {
            host.clone()
        };
        let n = self.rng.range(1, 4) as usize;
        let reason = self.rng.below(10);
        let mut rcpts = Vec::new();
        for _ in 0..n {
            let d = self.w.local_w.sample(&mut self.rng);
            let lp = if reason < 4 {
                local_part(&mut self.rng)
            } else {
                (*self.rng.pick(ROLES)).to_string()
            };
            let dom = if reason == 6 {
                let r = self.w.rcpt_w.sample(&mut self.rng);
                self.w.remotes[r].name.clone()
            } else {
                self.w.locals[d].name.clone()
            };
            rcpts.push(format!("{lp}@{dom}"));
        }
        let r = Reject {
            sender,
            skey,
            host,
            helo,
            ip,
            port,
            rcpts,
            reason,
        };
        if self.exim() {
            self.exim_reject(&r);
        } else {
            self.pf_reject(&r);
        }
    }

    pub(crate) fn ev_noise(&mut self) {
        let gap = self.rng.exp(25_000.0) as u64 + 500;
        self.at(self.now + gap, Ev::Noise);
        let ip = doc_ip("scan", self.rng.below(60) as usize);
        let port = self.rng.range(32768, 60999);
        let d = self.w.local_w.sample(&mut self.rng);
        let acct = self.rng.pick(&self.w.locals[d].accounts).clone();
        let kind = self.rng.below(4);
        if self.exim() {
            self.ex();
            match (kind, self.cpanel()) {
                (0 | 1, true) => {
                    let _ = write!(
                        self.buf,
                        "dovecot_login authenticator failed for (User) [{ip}]:{port}: 535 Incorrect authentication data (set_id={acct})"
                    );
                }
                (0 | 1, false) => {
                    let _ = write!(
                        self.buf,
                        "plain authenticator failed for H=(User) [{ip}]: 535 Incorrect authentication data (set_id={acct})"
                    );
                }
                (2, _) => {
                    let _ = write!(self.buf, "no host name found for IP address {ip}");
                }
                _ => {
                    let _ = write!(
                        self.buf,
                        "SMTP call from (User) [{ip}] dropped: too many nonmail commands (last was \"RSET\")"
                    );
                }
            }
            self.end();
        } else {
            match kind {
                0 | 1 => {
                    let pid = 25_000 + self.rng.below(10) as u32;
                    self.sys("postfix/submission/smtpd", pid);
                    let _ = write!(
                        self.buf,
                        "warning: unknown[{ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username={acct}"
                    );
                    self.end();
                }
                2 => {
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
                _ => {
                    let pid = 21_000 + self.rng.below(30) as u32;
                    self.sys("postfix/smtpd", pid);
                    let _ = write!(
                        self.buf,
                        "warning: hostname ptr-{}.example.net does not resolve to address {ip}: Name or service not known",
                        self.rng.below(999)
                    );
                    self.end();
                }
            }
        }
    }
}
