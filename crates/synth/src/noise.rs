//! SMTP-time rejections and other connection noise (both MTAs).

use std::io::Write;

use crate::domain_of;
use crate::names::ROLES;
use crate::reply::SERVER_IP;
use crate::sim::{Ev, Gen};
use crate::truth::Count;
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
        if self.day.is_some() {
            return self.day_noise();
        }
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

    /// Exim's lines for a refused session.
    pub(crate) fn exim_reject(&mut self, rej: &Reject) {
        let (sender, skey, host, helo, ip, port, rcpts, reason) = (
            rej.sender.as_str(),
            rej.skey,
            rej.host.as_str(),
            rej.helo.as_str(),
            rej.ip.as_str(),
            rej.port,
            &rej.rcpts[..],
            rej.reason,
        );
        let cpanel = self.cpanel();
        let hd = if host == "unknown" {
            format!("({helo}) [{ip}]")
        } else {
            format!("{host} [{ip}]")
        };
        let hd = if cpanel { format!("{hd}:{port}") } else { hd };
        if cpanel {
            self.ex();
            let _ = write!(
                self.buf,
                "SMTP connection from [{ip}]:{port} (TCP/IP connection count = {})",
                self.rng.range(1, 9)
            );
            self.end();
        }
        if reason == 9 {
            self.ex();
            let _ = write!(
                self.buf,
                "H={hd} sender verify fail for <{sender}>: Unrouteable address"
            );
            self.end();
        }
        for r in rcpts {
            self.ex();
            let s = if sender.is_empty() { "" } else { sender };
            let _ = write!(self.buf, "H={hd} F=<{s}> ");
            match reason {
                0..=3 => {
                    let _ = write!(self.buf, "rejected RCPT <{r}>: ");
                    self.s(if cpanel {
                        "No Such User Here"
                    } else {
                        "Unrouteable address"
                    });
                }
                4..=5 => {
                    if cpanel {
                        let _ = write!(
                            self.buf,
                            "rejected RCPT <{r}>: JunkMail rejected - {hd} is in an RBL: https://www.spamhaus.org/query/ip/{ip}"
                        );
                    } else {
                        let _ = write!(
                            self.buf,
                            "rejected RCPT <{r}>: rejected because {ip} is in a black list at zen.spamhaus.org\\nhttps://www.spamhaus.org/query/ip/{ip}"
                        );
                    }
                }
                6 => {
                    let _ = write!(self.buf, "rejected RCPT <{r}>: relay not permitted");
                }
                7..=8 => {
                    let _ = write!(
                        self.buf,
                        "temporarily rejected RCPT <{r}>: Greylisted, please try again later"
                    );
                }
                _ => {
                    let _ = write!(self.buf, "rejected RCPT <{r}>: Sender verify failed");
                }
            }
            self.end();
            self.count(Count::Rejected, skey);
        }
        if cpanel {
            self.ex();
            let _ = write!(self.buf, "SMTP connection from {hd} closed by QUIT");
            self.end();
        }
    }

    /// Postfix's lines for a refused session (postscreen for listed clients, else smtpd).
    pub(crate) fn pf_reject(&mut self, rej: &Reject) {
        let (sender, skey, host, helo, ip, port, rcpts, reason) = (
            rej.sender.as_str(),
            rej.skey,
            rej.host.as_str(),
            rej.helo.as_str(),
            rej.ip.as_str(),
            rej.port,
            &rej.rcpts[..],
            rej.reason,
        );
        if reason == 4 && self.rng.chance(0.5) {
            self.sys("postfix/postscreen", 1130);
            let _ = write!(self.buf, "CONNECT from [{ip}]:{port} to [{SERVER_IP}]:25");
            self.end();
            self.sys("postfix/dnsblog", 1131);
            let _ = write!(
                self.buf,
                "addr {ip} listed by domain zen.spamhaus.org as 127.0.0.{}",
                self.rng.range(2, 4)
            );
            self.end();
            self.sys("postfix/postscreen", 1130);
            let _ = write!(self.buf, "DNSBL rank 3 for [{ip}]:{port}");
            self.end();
            for r in rcpts {
                self.sys("postfix/postscreen", 1130);
                let _ = write!(
                    self.buf,
                    "NOQUEUE: reject: RCPT from [{ip}]:{port}: 550 5.7.1 Service unavailable; client [{ip}] blocked using zen.spamhaus.org; from=<{sender}>, to=<{r}>, proto=ESMTP, helo=<{helo}>"
                );
                self.end();
                self.count(Count::Rejected, skey);
            }
            self.sys("postfix/postscreen", 1130);
            let _ = write!(self.buf, "DISCONNECT [{ip}]:{port}");
            self.end();
            return;
        }
        let pid = 21_000 + self.rng.below(30) as u32;
        let cl = format!("{host}[{ip}]");
        self.sys("postfix/smtpd", pid);
        let _ = write!(self.buf, "connect from {cl}");
        self.end();
        for r in rcpts {
            self.sys("postfix/smtpd", pid);
            let _ = write!(self.buf, "NOQUEUE: reject: RCPT from {cl}: ");
            match reason {
                0..=3 => {
                    let _ = write!(
                        self.buf,
                        "550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table"
                    );
                }
                4..=5 => {
                    let _ = write!(
                        self.buf,
                        "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{ip}"
                    );
                }
                6 => {
                    let _ = write!(self.buf, "454 4.7.1 <{r}>: Relay access denied");
                }
                7..=8 => {
                    let _ = write!(
                        self.buf,
                        "450 4.2.0 <{r}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{}.html",
                        domain_of(r)
                    );
                }
                _ if !sender.is_empty() => {
                    let _ = write!(
                        self.buf,
                        "450 4.1.8 <{sender}>: Sender address rejected: Domain not found"
                    );
                }
                _ => {
                    let _ = write!(
                        self.buf,
                        "550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table"
                    );
                }
            }
            let _ = write!(
                self.buf,
                "; from=<{sender}> to=<{r}> proto=ESMTP helo=<{helo}>"
            );
            self.end();
            self.count(Count::Rejected, skey);
        }
        self.sys("postfix/smtpd", pid);
        let n = rcpts.len();
        let _ = write!(
            self.buf,
            "disconnect from {cl} ehlo=1 mail=1 rcpt=0/{n} quit=1 commands=3/{}",
            n + 3
        );
        self.end();
    }
}
