//! Postfix lines.

use std::io::Write;

use crate::reply::{Reply, SERVER_IP, Stage, confirmation};
use crate::sim::{
    BASE, Dest, Ev, Fate, Gen, Id, MINUTE, Origin, POSTFIX_LIFETIME, Rcpt, SECOND, Step, Why,
};
use crate::truth::Count;
use crate::{domain_of, local_of};

pub(crate) const LMTP_RELAY: &str = "mx1.example.com[private/dovecot-lmtp]";

/// What one delivery run needs to know about its message.
struct PfAttempt {
    id: Id,
    skey: u32,
    sender: String,
    arrived: u64,
    tag: u64,
}

impl<W: Write> Gen<'_, W> {
    pub(crate) fn pf_client(&self, c: &(String, String, String, u16)) -> String {
        let (host, _, ip, _) = c;
        if host.is_empty() {
            format!("unknown[{ip}]")
        } else {
            format!("{host}[{ip}]")
        }
    }

    pub(crate) fn pf_smtpd_prog(origin: Origin) -> &'static str {
        match origin {
            Origin::Auth | Origin::Spray => "postfix/submission/smtpd",
            _ => "postfix/smtpd",
        }
    }

    pub(crate) fn pf_connect(&mut self, h: u64) {
        let Some(m) = self.msg(h) else { return };
        let origin = m.origin;
        let client = m.client.clone();
        if origin == Origin::Script {
            self.at(self.now, Ev::Receive(h));
            return;
        }
        let c = client.expect("smtp arrival has a client");
        let pid = match origin {
            Origin::Auth | Origin::Spray => 25_000 + self.rng.below(10) as u32,
            _ => 21_000 + self.rng.below(30) as u32,
        };
        if let Some(m) = self.msg(h) {
            m.pid = pid;
        }
        if origin == Origin::Inbound && self.rng.chance(0.25) {
            self.sys("postfix/postscreen", 1130);
            let _ = write!(
                self.buf,
                "CONNECT from [{}]:{} to [{SERVER_IP}]:25",
                c.2, c.3
            );
            self.end();
            self.sys("postfix/postscreen", 1130);
            let _ = write!(self.buf, "PASS OLD [{}]:{}", c.2, c.3);
            self.end();
        }
        let cl = self.pf_client(&c);
        self.sys(Self::pf_smtpd_prog(origin), pid);
        self.s("connect from ");
        self.s(&cl);
        self.end();
        self.after(200, 2500, Ev::Receive(h));
    }

    pub(crate) fn pf_receive(&mut self, h: u64) {
        let now = self.now;
        let id = self.new_id(now, false);
        let (origin, sender, client, local_dom, pid, tag) = {
            let Some(m) = self.msg(h) else { return };
            m.id = id;
            m.arrived = now;
            (
                m.origin,
                m.sender.clone(),
                m.client.clone(),
                m.local_dom,
                m.pid,
                m.tag,
            )
        };
        self.live_ids.insert(id.b);
        match origin {
            Origin::Script => {
                let d = local_dom.expect("hosted") as u64;
                self.pfm("postfix/pickup", 1123, &id);
                let _ = write!(self.buf, "{} from=<{}>", uid_of(d), local_of(&sender));
                self.end();
            }
            _ => {
                let c = client.expect("smtp arrival has a client");
                let cl = self.pf_client(&c);
                self.pfm(Self::pf_smtpd_prog(origin), pid, &id);
                self.s("client=");
                self.s(&cl);
                if matches!(origin, Origin::Auth | Origin::Spray) {
                    let _ = write!(self.buf, ", sasl_method=PLAIN, sasl_username={sender}");
                }
                self.end();
            }
        }
        let cpid = 22_000 + self.rng.below(8) as u32;
        self.pfm("postfix/cleanup", cpid, &id);
        let _ = write!(self.buf, "message-id=<{tag:016x}@{}>", domain_of(&sender));
        self.end();
        self.truth_messages += 1;
        self.after(1, 80, Ev::PfQueue(h));
    }

    pub(crate) fn qmgr_active(&mut self, id: &Id, sender: &str, size: u32, nrcpt: usize) {
        self.pfm("postfix/qmgr", 1120, id);
        let _ = write!(
            self.buf,
            "from=<{sender}>, size={size}, nrcpt={nrcpt} (queue active)"
        );
        self.end();
        self.arrival_lines += 1;
    }

    pub(crate) fn ev_pf_queue(&mut self, h: u64) {
        let Some(m) = self.msg(h) else { return };
        let (id, origin, sender, size, n, client, pid, filter, tag) = (
            m.id,
            m.origin,
            m.sender.clone(),
            m.size,
            m.rcpts.len(),
            m.client.clone(),
            m.pid,
            m.filter,
            m.tag,
        );
        self.qmgr_active(&id, &sender, size, n);
        if let (Some(c), true) = (client, origin != Origin::Script) {
            let cl = self.pf_client(&c);
            self.sys(Self::pf_smtpd_prog(origin), pid);
            let _ = write!(self.buf, "disconnect from {cl} ");
            match origin {
                Origin::Auth | Origin::Spray => {
                    let _ = write!(
                        self.buf,
                        "ehlo=2 starttls=1 auth=1 mail=1 rcpt={n} data=1 quit=1 commands={}",
                        n + 7
                    );
                }
                _ if tag.is_multiple_of(7) => {
                    let _ = write!(
                        self.buf,
                        "ehlo=1 mail=1 rcpt={n} data=1 quit=1 commands={}",
                        n + 4
                    );
                }
                _ => {
                    let _ = write!(
                        self.buf,
                        "ehlo=2 starttls=1 mail=1 rcpt={n} data=1 quit=1 commands={}",
                        n + 6
                    );
                }
            }
            self.end();
        }
        if filter {
            self.after(200, 1500, Ev::PfDeliver(h));
        } else {
            self.after(300, 3000, Ev::PfDeliver(h));
        }
    }

    pub(crate) fn ev_pf_reactivate(&mut self, h: u64) {
        let Some(m) = self.msg(h) else { return };
        let (id, sender, size, n) = (m.id, m.sender.clone(), m.size, m.rcpts.len());
        self.qmgr_active(&id, &sender, size, n);
        self.after(5, 500, Ev::PfDeliver(h));
    }

    pub(crate) fn ev_pf_deliver(&mut self, h: u64) {
        let Some(m) = self.msg(h) else { return };
        if m.filter {
            return self.pf_filter(h);
        }
        let id = m.id;
        let skey = m.skey;
        let sender = m.sender.clone();
        let arrived = m.arrived;
        let tag = m.tag;
        let local_dom = m.local_dom;
        let mut rcpts = std::mem::take(&mut m.rcpts);
        let a = PfAttempt {
            id,
            skey,
            sender: sender.clone(),
            arrived,
            tag,
        };
        let mut failed = 0usize;
        for r in rcpts.iter_mut() {
            if r.done {
                continue;
            }
            match r.dest {
                Dest::Local(_) => {
                    if self.pf_local_attempt(&a, r) {
                        failed += 1;
                    }
                }
                Dest::Remote(di) => {
                    if self.pf_remote_attempt(&a, r, di) {
                        failed += 1;
                    }
                }
            }
        }
        let pending = rcpts.iter().filter(|r| !r.done).count();
        let mut expired = false;
        if pending > 0 && self.now >= arrived + POSTFIX_LIFETIME {
            self.pfm("postfix/qmgr", 1120, &id);
            let _ = write!(
                self.buf,
                "from=<{sender}>, status=expired, returned to sender"
            );
            self.end();
            self.count(Count::Expired, skey);
            for r in rcpts.iter_mut() {
                r.done = true;
            }
            expired = true;
        }
        if let Some(m) = self.msg(h) {
            m.rcpts = rcpts;
        }
        if (failed > 0 || expired) && !sender.is_empty() {
            let dest = self.bounce_dest(local_dom, skey);
            self.pf_ndr(&id, &sender, dest);
        }
        if pending == 0 || expired {
            self.pfm("postfix/qmgr", 1120, &id);
            self.s("removed");
            self.end();
            self.release(h);
        } else {
            let b = self.msg(h).map(|m| {
                m.backoff += 1;
                m.backoff
            });
            let b = b.unwrap_or(1);
            let base = ((300 * SECOND) << (b - 1).min(5)).min(4000 * SECOND);
            let jitter = self.rng.range(0, base / 5);
            self.at(self.now + base + jitter, Ev::PfReactivate(h));
        }
    }

    /// One LMTP delivery attempt to a local mailbox. Returns true if it failed for good (day
    /// mode: a mailbox that stayed full).
    fn pf_local_attempt(&mut self, a: &PfAttempt, r: &mut Rcpt) -> bool {
        self.cur_scen = r.scen;
        let addr = r.addr.clone();
        let step = r.fate.step(r.step);
        r.step += 1;
        let pid = 30_000 + self.rng.below(6) as u32;
        self.pfm("postfix/lmtp", pid, &a.id);
        let _ = write!(self.buf, "to=<{addr}>, relay={LMTP_RELAY}, ");
        let x = self.rng.range(10, 400);
        self.delays(a.arrived, 10, x);
        match step {
            Step::Defer(_) => {
                let _ = write!(
                    self.buf,
                    "dsn=4.2.2, status=deferred (host {LMTP_RELAY} said: 452 4.2.2 <{addr}> Quota exceeded (mailbox for user is full) (in reply to end of DATA command))"
                );
                self.end();
                self.count(Count::Deferred, a.skey);
                false
            }
            Step::Fail(_) => {
                let _ = write!(
                    self.buf,
                    "dsn=5.2.2, status=bounced (host {LMTP_RELAY} said: 552 5.2.2 <{addr}> Quota exceeded (mailbox for user is full) (in reply to end of DATA command))"
                );
                self.end();
                self.count(Count::Bounced, a.skey);
                r.done = true;
                true
            }
            Step::Deliver => {
                let _ = write!(
                    self.buf,
                    "dsn=2.0.0, status=sent (250 2.0.0 <{addr}> {:016x} Saved)",
                    self.rng.next_u64()
                );
                self.end();
                self.count(Count::Delivered, a.skey);
                r.done = true;
                false
            }
        }
    }

    /// One SMTP delivery attempt to a remote recipient (or a "delivery temporarily suspended"
    /// deferral). Returns true if the recipient failed for good.
    fn pf_remote_attempt(&mut self, a: &PfAttempt, r: &mut Rcpt, di: u16) -> bool {
        self.cur_scen = r.scen;
        let addr = r.addr.clone();
        let (provider, mx, ip, rdom, exists) = {
            let x = &self.w.remotes[di as usize];
            (
                x.provider,
                x.mx.clone(),
                x.ip.clone(),
                x.name.clone(),
                x.exists,
            )
        };
        let smtp_pid = 20_000 + self.rng.below(60) as u32;
        if exists && self.dead_until[di as usize] > self.now {
            let pid = 24_000 + self.rng.below(4) as u32;
            self.pfm("postfix/error", pid, &a.id);
            let _ = write!(self.buf, "to=<{addr}>, relay=none, ");
            self.delays(a.arrived, 0, 10);
            let _ = write!(
                self.buf,
                "dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to {mx}[{ip}]:25: Connection timed out)"
            );
            self.end();
            self.count_apart(Count::Deferred, a.skey);
            self.tally(r.scen, "retry_not_due_lines");
            return false;
        }
        let step = if exists && self.remote_down(di as usize) {
            Step::Defer(Why::Down)
        } else {
            let st = r.fate.step(r.step);
            r.step = r.step.saturating_add(1);
            st
        };
        match step {
            Step::Deliver => {
                let epoch = self.epoch_now();
                let iso = self.iso_now();
                let conf = confirmation(
                    &mut self.rng,
                    provider,
                    epoch,
                    a.tag,
                    &iso,
                    domain_of(&a.sender),
                );
                self.pfm("postfix/smtp", smtp_pid, &a.id);
                let _ = write!(self.buf, "to=<{addr}>, relay={mx}[{ip}]:25, ");
                let c = self.rng.range(100, 1500);
                let x = self.rng.range(50, 900);
                self.delays(a.arrived, c, x);
                let _ = write!(self.buf, "dsn=2.0.0, status=sent ({conf})");
                self.end();
                self.count(Count::Delivered, a.skey);
                self.tally(r.scen, "delivered");
                r.done = true;
                false
            }
            Step::Defer(Why::Down) => {
                self.pfm("postfix/smtp", smtp_pid, &a.id);
                let _ = write!(self.buf, "to=<{addr}>, relay=none, ");
                self.delays(a.arrived, 30_000, 0);
                let _ = write!(
                    self.buf,
                    "dsn=4.4.1, status=deferred (connect to {mx}[{ip}]:25: Connection timed out)"
                );
                self.end();
                self.count(Count::Deferred, a.skey);
                self.tally(r.scen, "deferred_lines");
                let dead = self.rng.range(10 * MINUTE, 25 * MINUTE);
                self.dead_until[di as usize] = self.now + dead;
                false
            }
            Step::Fail(Why::NoDomain) => {
                self.pfm("postfix/smtp", smtp_pid, &a.id);
                let _ = write!(self.buf, "to=<{addr}>, relay=none, ");
                self.delays(a.arrived, 200, 0);
                let _ = write!(
                    self.buf,
                    "dsn=5.4.4, status=bounced (Host or domain name not found. Name service error for name={rdom} type=MX: Host not found)"
                );
                self.end();
                self.count(Count::Bounced, a.skey);
                self.tally(r.scen, "bounced");
                r.done = true;
                true
            }
            Step::Defer(why) | Step::Fail(why) => {
                let fail = matches!(step, Step::Fail(_));
                let why = if fail && why == Why::Full {
                    Why::GiveUp
                } else {
                    why
                };
                let rep = self.remote_reply(why, provider, &addr, &rdom, &mx, &a.sender);
                self.pfm("postfix/smtp", smtp_pid, &a.id);
                let _ = write!(self.buf, "to=<{addr}>, relay={mx}[{ip}]:25, ");
                let c = self.rng.range(100, 1500);
                let x = self.rng.range(20, 600);
                self.delays(a.arrived, c, x);
                let status = if fail { "bounced" } else { "deferred" };
                let _ = write!(
                    self.buf,
                    "dsn={}, status={status} (host {mx}[{ip}] ",
                    rep.dsn
                );
                self.pf_reply_text(&rep);
                self.end();
                if fail {
                    self.count(Count::Bounced, a.skey);
                    self.tally(r.scen, "bounced");
                    r.done = true;
                } else {
                    self.count(Count::Deferred, a.skey);
                    self.tally(r.scen, "deferred_lines");
                }
                fail
            }
        }
    }

    /// The remote's reply inside a delivery line's parentheses, multi-line replies joined.
    fn pf_reply_text(&mut self, rep: &Reply) {
        let text = rep.text.replace("\\n", " ");
        match rep.stage {
            Stage::Connect => {
                let _ = write!(self.buf, "refused to talk to me: {text})");
            }
            st => {
                let cmd = match st {
                    Stage::Mail => "MAIL FROM",
                    Stage::Data => "end of DATA",
                    _ => "RCPT TO",
                };
                let _ = write!(self.buf, "said: {text} (in reply to {cmd} command))");
            }
        }
    }

    /// A non-delivery notification to a hosted sender.
    pub(crate) fn pf_ndr(&mut self, parent: &Id, to: &str, dest: Option<Dest>) {
        let Some(dest) = dest else { return };
        let null = self.w.null_key;
        let mut m = self.new_msg(Origin::Bounce, String::new(), null, None);
        m.parent = Some(*parent);
        m.size = self.rng.range(2500, 9000) as u32;
        m.rcpts.push(Rcpt {
            addr: to.to_string(),
            dest,
            fate: Fate::Ok,
            step: 0,
            done: false,
            next_retry: 0,
            scen: 0,
        });
        let now = self.now;
        m.id = self.new_id(now, false);
        let id = m.id;
        let size = m.size;
        let h = self.alloc(m);
        let cpid = 22_000 + self.rng.below(8) as u32;
        let stamp = (self.cfg.start + chrono::Duration::milliseconds((now - BASE) as i64))
            .format("%Y%m%d%H%M%S")
            .to_string();
        self.pfm("postfix/cleanup", cpid, &id);
        let _ = write!(
            self.buf,
            "message-id=<{stamp}.{}@{}>",
            id.as_str(),
            self.w.hostname
        );
        self.end();
        let bpid = 23_000 + self.rng.below(4) as u32;
        self.pfm("postfix/bounce", bpid, parent);
        let _ = write!(
            self.buf,
            "sender non-delivery notification: {}",
            id.as_str()
        );
        self.end();
        self.truth_messages += 1;
        self.qmgr_active(&id, "", size, 1);
        self.after(5, 400, Ev::PfDeliver(h));
    }

    /// Hands a message to amavis at 127.0.0.1:10024, which re-injects it under a new queue id.
    pub(crate) fn pf_filter(&mut self, h: u64) {
        let Some(m) = self.msg(h) else { return };
        let id = m.id;
        let sender = m.sender.clone();
        let skey = m.skey;
        let local_dom = m.local_dom;
        let origin = m.origin;
        let arrived = m.arrived;
        let size = m.size;
        let subject = m.subject;
        let tag = m.tag;
        let client = m.client.clone();
        let rcpts = std::mem::take(&mut m.rcpts);
        let now = self.now;
        let mut f = self.new_msg(Origin::Filtered, sender.clone(), skey, local_dom);
        f.id = self.new_id(now, false);
        f.size = size + 700;
        f.subject = subject;
        f.tag = tag;
        f.orig = Some(id);
        let fid = f.id;
        let addrs: Vec<String> = rcpts.iter().map(|r| r.addr.clone()).collect();
        f.rcpts = rcpts;
        let fh = self.alloc(f);
        let spid = 21_100 + self.rng.below(4) as u32;
        self.sys("postfix/smtpd", spid);
        self.s("connect from localhost[127.0.0.1]");
        self.end();
        self.pfm("postfix/smtpd", spid, &fid);
        let _ = write!(
            self.buf,
            "client=localhost[127.0.0.1], orig_queue_id={}",
            id.as_str()
        );
        if let Some(c) = &client {
            let cl = self.pf_client(c);
            let _ = write!(self.buf, ", orig_client={cl}");
        }
        self.end();
        let cpid = 22_000 + self.rng.below(8) as u32;
        self.pfm("postfix/cleanup", cpid, &fid);
        let _ = write!(self.buf, "message-id=<{tag:016x}@{}>", domain_of(&sender));
        self.end();
        self.truth_messages += 1;
        self.qmgr_active(&fid, &sender, size + 700, addrs.len());
        let apid = 2250 + self.rng.below(4) as u32;
        self.sys("amavis", apid);
        let dir = if origin == Origin::Inbound {
            "RelayedInbound"
        } else {
            "RelayedOutbound"
        };
        let _ = write!(
            self.buf,
            "({apid:05}-{:02}) Passed CLEAN {{{dir}}}, ",
            self.rng.range(1, 99)
        );
        if let Some((_, _, ip, port)) = &client {
            let _ = write!(self.buf, "[{ip}]:{port} ");
        } else {
            self.s("LOCAL [127.0.0.1] ");
        }
        let _ = write!(self.buf, "<{sender}> -> ");
        for (i, a) in addrs.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            let _ = write!(self.buf, "<{a}>");
        }
        let hits = (self.rng.below(60) as f64 - 20.0) / 10.0;
        let _ = write!(
            self.buf,
            ", Queue-ID: {}, Message-ID: <{tag:016x}@{}>, mail_id: {:012x}, Hits: {:.1}, size: {size}, queued_as: {}, {} ms",
            id.as_str(),
            domain_of(&sender),
            self.rng.next_u64() >> 16,
            hits,
            fid.as_str(),
            self.rng.range(200, 2500)
        );
        self.end();
        let smtp_pid = 20_000 + self.rng.below(60) as u32;
        for a in &addrs {
            self.pfm("postfix/smtp", smtp_pid, &id);
            let _ = write!(self.buf, "to=<{a}>, relay=127.0.0.1[127.0.0.1]:10024, ");
            let x = self.rng.range(200, 2000);
            self.delays(arrived, 1, x);
            let _ = write!(
                self.buf,
                "dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as {})",
                fid.as_str()
            );
            self.end();
            self.count_apart(Count::Delivered, skey);
        }
        self.pfm("postfix/qmgr", 1120, &id);
        self.s("removed");
        self.end();
        self.sys("postfix/smtpd", spid);
        let n = addrs.len();
        let _ = write!(
            self.buf,
            "disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt={n} data=1 quit=1 commands={}",
            n + 4
        );
        self.end();
        self.release(h);
        self.after(5, 600, Ev::PfDeliver(fh));
    }
}

/// The local user (`uid=N`) pickup names for the scripts of hosted domain `d`.
pub(crate) fn uid_of(d: u64) -> String {
    format!("uid={}", 1001 + d)
}
