//! Exim (plain and cPanel) lines.

use std::io::Write;

use crate::reply::{Stage, cipher, confirmation, exim_retry_interval};
use crate::sim::{
    BASE, Dest, EXIM_QUEUE_INTERVAL, EXIM_RETRY_CUTOFF, Ev, Fate, Gen, Id, MINUTE, Origin,
    QueueRunState, Rcpt, Step, Why,
};
use crate::truth::Count;
use crate::{domain_of, local_of};

/// What one delivery run needs to know about its message.
struct Attempt {
    id: Id,
    skey: u32,
    local_dom: Option<u16>,
    sender: String,
    arrived: u64,
    size: u32,
    tag: u64,
    queue_run: bool,
}

impl<W: Write> Gen<'_, W> {
    pub(crate) fn epoch_now(&self) -> i64 {
        self.start_epoch + (self.now - BASE) as i64 / 1000
    }

    pub(crate) fn routers(&self) -> (&'static str, &'static str, &'static str, &'static str) {
        if self.cpanel() {
            (
                "dkim_lookuphost",
                "dkim_remote_smtp",
                "virtual_user",
                "dovecot_virtual_delivery",
            )
        } else {
            ("dnslookup", "remote_smtp", "local_user", "mail_spool")
        }
    }

    pub(crate) fn sep(&self) -> &'static str {
        if self.cpanel() { ": " } else { " : " }
    }

    /// `host [ip]:port`, `(helo) [ip]:port` or `host [ip]` for connection and `H=` fields.
    pub(crate) fn host_desc(&mut self, client: &(String, String, String, u16)) {
        let (host, helo, ip, port) = client;
        if !host.is_empty() {
            self.s(host);
            self.s(" [");
        } else {
            self.s("(");
            self.s(helo);
            self.s(") [");
        }
        self.s(ip);
        self.s("]");
        if self.cpanel() {
            self.s(":");
            self.n(*port as u64);
        }
    }

    pub(crate) fn ev_connect(&mut self, h: u64) {
        if !self.exim() {
            return self.pf_connect(h);
        }
        let Some(m) = self.msg(h) else { return };
        let client = m.client.clone();
        if let (true, Some((_, _, ip, port))) = (self.cpanel(), &client) {
            self.ex();
            self.s("SMTP connection from [");
            self.s(ip);
            self.s("]:");
            self.n(*port as u64);
            self.s(" (TCP/IP connection count = ");
            let c = self.rng.range(1, 9);
            self.n(c);
            self.s(")");
            self.end();
        }
        self.after(300, 4000, Ev::Receive(h));
    }

    pub(crate) fn ev_receive(&mut self, h: u64) {
        if !self.exim() {
            return self.pf_receive(h);
        }
        let now = self.now;
        let id = self.new_id(now, false);
        let cpanel = self.cpanel();
        let (origin, client, local_dom, script) = {
            let Some(m) = self.msg(h) else { return };
            m.id = id;
            m.arrived = now;
            (m.origin, m.client.clone(), m.local_dom, m.script)
        };
        self.live_ids.insert(id.b);
        if origin == Origin::Script && cpanel {
            let d = local_dom.expect("script sender is hosted") as usize;
            self.ex();
            self.s("cwd=/home/");
            let cpuser = self.w.locals[d].cpuser.clone();
            self.s(&cpuser);
            if let Some(path) = script {
                self.s(path);
            } else {
                self.s("/public_html");
                let sub = [
                    "",
                    "/wp-content/plugins/contact-form",
                    "/shop",
                    "/newsletter",
                ][self.rng.below(4) as usize];
                self.s(sub);
            }
            self.s(" 3 args: /usr/sbin/sendmail -t -i");
            self.end();
        }
        self.exim_arrival_line(h);
        if let (true, Some(c)) = (cpanel, &client) {
            self.ex();
            self.s("SMTP connection from ");
            self.host_desc(c);
            self.s(" closed by QUIT");
            self.end();
        }
        self.after(0, 300, Ev::DeliverStart(h));
    }

    pub(crate) fn exim_arrival_line(&mut self, h: u64) {
        let cpanel = self.cpanel();
        let idx = (h & 0xFFFF_FFFF) as usize;
        let m = &self.slab[idx];
        let id = m.id;
        let origin = m.origin;
        let sender = m.sender.clone();
        let client = m.client.clone();
        let size = m.size;
        let tag = m.tag;
        let subject = m.subject;
        let parent = m.parent;
        let local_dom = m.local_dom;
        let rcpts: Vec<String> = m.rcpts.iter().map(|r| r.addr.clone()).collect();
        self.exm(&id);
        self.s("<= ");
        if sender.is_empty() {
            self.s("<>");
        } else {
            self.s(&sender);
        }
        match origin {
            Origin::Bounce => {
                self.s(" R=");
                if let Some(p) = parent {
                    self.s(p.as_str());
                }
                self.s(if cpanel {
                    " U=mailnull"
                } else {
                    " U=Debian-exim"
                });
                self.s(" P=local S=");
                self.n(size as u64);
                self.s(" T=\"Mail delivery failed: returning message to sender\"");
            }
            Origin::Script => {
                self.s(" U=");
                if cpanel {
                    let d = local_dom.expect("hosted") as usize;
                    let u = self.w.locals[d].cpuser.clone();
                    self.s(&u);
                } else {
                    self.s("www-data");
                }
                self.s(" P=local S=");
                self.n(size as u64);
                self.s(" id=");
                let _ = write!(self.buf, "{tag:016x}@{}", domain_of(&sender));
                self.s(" T=\"");
                self.s(subject);
                self.s("\"");
            }
            _ => {
                let c = client.expect("smtp arrival has a client");
                self.s(" H=");
                self.host_desc(&c);
                let auth = matches!(origin, Origin::Auth | Origin::Spray);
                if auth {
                    self.s(" P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=");
                    if cpanel {
                        self.s("dovecot_login:");
                        self.s(&sender);
                    } else if self.day.is_some() {
                        self.s("dovecot_plain:");
                        self.s(&sender);
                    } else {
                        self.s("plain:");
                        self.s(local_of(&sender));
                    }
                } else if tag.is_multiple_of(7) {
                    self.s(" P=esmtp");
                } else {
                    self.s(" P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no");
                }
                self.s(" S=");
                self.n(size as u64);
                self.s(" id=");
                let _ = write!(self.buf, "{tag:016x}@{}", domain_of(&sender));
                self.s(" T=\"");
                self.s(subject);
                self.s("\"");
            }
        }
        self.s(" for");
        for r in &rcpts {
            self.buf.push(b' ');
            self.s(r);
        }
        self.end();
        self.truth_messages += 1;
        self.arrival_lines += 1;
    }

    pub(crate) fn ev_deliver_start(&mut self, h: u64) {
        if !self.cpanel() {
            self.after(100, 2500, Ev::Deliver(h));
            return;
        }
        let Some(m) = self.msg(h) else { return };
        let id = m.id;
        let local_dom = m.local_dom;
        let sender = m.sender.clone();
        let remote: Vec<String> = m
            .rcpts
            .iter()
            .filter(|r| matches!(r.dest, Dest::Remote(_)))
            .map(|r| r.addr.clone())
            .collect();
        self.ex();
        self.s("cwd=/var/spool/exim 3 args: /usr/sbin/exim -Mc ");
        self.s(id.as_str());
        self.end();
        if let (Some(d), false) = (local_dom, remote.is_empty()) {
            self.sender_identification(&id, d as usize, &sender);
            if self.active_trip(Some(d)).is_none() {
                let epoch = self.epoch_now();
                let dname = self.w.locals[d as usize].name.clone();
                for r in &remote {
                    self.exm(&id);
                    self.s("SMTP connection outbound ");
                    self.n(epoch as u64);
                    self.buf.push(b' ');
                    self.s(id.as_str());
                    self.buf.push(b' ');
                    self.s(&dname);
                    self.buf.push(b' ');
                    self.s(r);
                    self.end();
                }
            }
        }
        if remote.is_empty() {
            self.after(0, 300, Ev::Deliver(h));
        } else {
            self.after(200, 2500, Ev::Deliver(h));
        }
    }

    pub(crate) fn sender_identification(&mut self, id: &Id, d: usize, sender: &str) {
        let cpuser = self.w.locals[d].cpuser.clone();
        let dname = self.w.locals[d].name.clone();
        self.exm(id);
        self.s("Sender identification U=");
        self.s(&cpuser);
        self.s(" D=");
        self.s(&dname);
        self.s(" S=");
        self.s(sender);
        self.end();
    }

    /// One delivery run of an Exim message: the immediate delivery after arrival
    /// (`queue_run == false`) or a queue runner's visit.
    pub(crate) fn ev_exim_deliver(&mut self, h: u64, queue_run: bool) {
        let Some(m) = self.msg(h) else { return };
        let a = Attempt {
            id: m.id,
            skey: m.skey,
            local_dom: m.local_dom,
            sender: m.sender.clone(),
            arrived: m.arrived,
            size: m.size,
            tag: m.tag,
            queue_run,
        };
        let mut rcpts = std::mem::take(&mut m.rcpts);
        let mut failed = 0usize;
        let mut delivered_to: Vec<u16> = Vec::new();
        // Local deliveries first, then remote ones in order.
        let order: Vec<usize> = (0..rcpts.len())
            .filter(|&i| matches!(rcpts[i].dest, Dest::Local(_)))
            .chain((0..rcpts.len()).filter(|&i| matches!(rcpts[i].dest, Dest::Remote(_))))
            .collect();
        for i in order {
            if rcpts[i].done {
                continue;
            }
            match rcpts[i].dest {
                Dest::Local(d) => {
                    if self.exim_local_attempt(&a, &mut rcpts[i], d) {
                        failed += 1;
                    }
                }
                Dest::Remote(di) => {
                    if self.exim_remote_attempt(&a, &mut rcpts[i], di, &mut delivered_to) {
                        failed += 1;
                    }
                }
            }
        }
        let all_done = rcpts.iter().all(|r| r.done);
        let bounce_to = if failed > 0 && !a.sender.is_empty() {
            Some(a.sender.clone())
        } else {
            None
        };
        if let Some(m) = self.msg(h) {
            m.rcpts = rcpts;
        }
        if let Some(to) = bounce_to {
            let dest = self.bounce_dest(a.local_dom, a.skey);
            self.exim_bounce(&a.id, &to, dest);
        }
        if all_done {
            self.exm(&a.id);
            self.s("Completed");
            self.end();
            self.release(h);
        } else if let Some(m) = self.msg(h)
            && !m.in_queue
        {
            m.in_queue = true;
            self.queue.push(h);
        }
    }

    /// One delivery attempt to a local mailbox: delivered, or deferred because it is full
    /// (day mode: or failed because it stayed full). Returns true if it failed for good.
    fn exim_local_attempt(&mut self, a: &Attempt, r: &mut Rcpt, d: u16) -> bool {
        self.cur_scen = r.scen;
        let (_, _, lr, lt) = self.routers();
        let step = r.fate.step(r.step);
        r.step += 1;
        let addr = r.addr.clone();
        self.exm(&a.id);
        match step {
            Step::Defer(_) => {
                self.s("== ");
                self.s(&addr);
                let _ = write!(
                    self.buf,
                    " R={lr} T={lt} defer (-22): mailbox is full (MTA-imposed quota exceeded while writing to "
                );
                self.local_mailbox_path(d, &addr);
                self.s(")");
                self.end();
                self.count(Count::Deferred, a.skey);
                false
            }
            Step::Fail(_) => {
                self.s("** ");
                self.s(&addr);
                let _ = write!(
                    self.buf,
                    " R={lr} T={lt}: mailbox is full (MTA-imposed quota exceeded while writing to "
                );
                self.local_mailbox_path(d, &addr);
                self.s(")");
                self.end();
                self.count(Count::Bounced, a.skey);
                r.done = true;
                true
            }
            Step::Deliver => {
                self.s("=> ");
                self.s(local_of(&addr));
                self.s(" <");
                self.s(&addr);
                let _ = write!(self.buf, "> R={lr} T={lt}");
                self.end();
                self.count(Count::Delivered, a.skey);
                r.done = true;
                false
            }
        }
    }

    /// The mailbox folder in a quota message.
    fn local_mailbox_path(&mut self, d: u16, addr: &str) {
        if self.cpanel() {
            let u = self.w.locals[d as usize].cpuser.clone();
            let _ = write!(
                self.buf,
                "/home/{u}/mail/{}/{}/",
                domain_of(addr),
                local_of(addr)
            );
        } else {
            let _ = write!(self.buf, "/var/mail/{}", local_of(addr));
        }
    }

    /// Where a bounce of a message goes: a hosted sender's mailbox; in day mode also back to
    /// a remote sender (mail to our full mailboxes). `None`: no bounce is written.
    pub(crate) fn bounce_dest(&self, local_dom: Option<u16>, skey: u32) -> Option<Dest> {
        if let Some(d) = local_dom {
            return Some(Dest::Local(d));
        }
        let nlocal = self.w.locals.len() as u32;
        let remote = skey
            .checked_sub(nlocal)
            .filter(|&i| (i as usize) < self.w.remotes.len());
        match (self.day.is_some(), remote) {
            (true, Some(i)) => Some(Dest::Remote(i as u16)),
            _ => None,
        }
    }

    /// One delivery attempt to a remote recipient (or cPanel's discard of it, or a "retry time
    /// not reached" deferral). Returns true if the recipient failed for good.
    fn exim_remote_attempt(
        &mut self,
        a: &Attempt,
        r: &mut Rcpt,
        di: u16,
        delivered_to: &mut Vec<u16>,
    ) -> bool {
        self.cur_scen = r.scen;
        let (rr, rt, _, _) = self.routers();
        let (exists, rdom) = {
            let x = &self.w.remotes[di as usize];
            (x.exists, x.name.clone())
        };
        if let Some(t) = self.active_trip(a.local_dom) {
            self.exim_discard(a, r, t);
            return true;
        }
        let not_due = exists
            && ((a.queue_run && self.now < r.next_retry)
                || self.dead_until[di as usize] > self.now);
        if not_due {
            self.exm(&a.id);
            self.s("== ");
            self.s(&r.addr);
            let _ = write!(
                self.buf,
                " R={rr} T={rt} defer (-54): retry time not reached for any host for '{rdom}'"
            );
            self.end();
            self.count_apart(Count::Deferred, a.skey);
            self.tally(r.scen, "retry_not_due_lines");
            r.next_retry = r.next_retry.max(self.dead_until[di as usize]);
            return false;
        }
        let mut step = if exists && self.remote_down(di as usize) {
            Step::Defer(Why::Down)
        } else {
            let st = r.fate.step(r.step);
            r.step = r.step.saturating_add(1);
            st
        };
        if matches!(step, Step::Defer(_)) && self.now >= a.arrived + EXIM_RETRY_CUTOFF {
            step = Step::Fail(Why::GiveUp);
        }
        match step {
            Step::Deliver => {
                self.exim_remote_delivered(a, r, di, delivered_to.contains(&di));
                delivered_to.push(di);
                false
            }
            Step::Defer(why) => {
                self.exim_remote_deferred(a, r, di, why);
                false
            }
            Step::Fail(why) => {
                self.exim_remote_failed(a, r, di, why);
                true
            }
        }
    }

    /// cPanel's `R=enforce_mail_permissions` discard after the domain's trip `t`.
    fn exim_discard(&mut self, a: &Attempt, r: &mut Rcpt, t: u32) {
        let (count, percent) = (self.trips[t as usize].count, self.trips[t as usize].percent);
        let dname = self.w.locals[a.local_dom.expect("hosted") as usize]
            .name
            .clone();
        self.exm(&a.id);
        self.s("** ");
        self.s(&r.addr);
        let _ = write!(
            self.buf,
            " R=enforce_mail_permissions: Domain {dname} has exceeded the max defers and failures per hour ({count}/{} ({percent}%)) allowed. Message discarded.",
            self.cfg.limit_min
        );
        self.end();
        self.count(Count::Bounced, a.skey);
        self.tally(r.scen, "discarded");
        let iso = self.iso_now();
        let trip = &mut self.trips[t as usize];
        trip.discarded += 1;
        if trip.tripped_at.is_none() {
            trip.tripped_at = Some(iso);
        }
        r.done = true;
    }

    /// `=>` (or `->` for a further recipient at the same host).
    fn exim_remote_delivered(&mut self, a: &Attempt, r: &mut Rcpt, di: u16, more: bool) {
        let (rr, rt, _, _) = self.routers();
        let (provider, mx, ip) = {
            let x = &self.w.remotes[di as usize];
            (x.provider, x.mx.clone(), x.ip.clone())
        };
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
        self.exm(&a.id);
        self.s(if more { "-> " } else { "=> " });
        self.s(&r.addr);
        let _ = write!(self.buf, " R={rr} T={rt} H={mx} [{ip}]");
        if let Some(x) = cipher(provider, a.tag) {
            let _ = write!(self.buf, " X={x} CV=yes");
        }
        self.s(" C=\"");
        self.s(&conf);
        self.s("\"");
        self.end();
        self.count(Count::Delivered, a.skey);
        self.tally(r.scen, "delivered");
        r.done = true;
    }

    /// `==`: the remote's servers did not answer, or answered with a 4xx.
    fn exim_remote_deferred(&mut self, a: &Attempt, r: &mut Rcpt, di: u16, why: Why) {
        let (rr, rt, _, _) = self.routers();
        let (provider, mx, ip, rdom) = {
            let x = &self.w.remotes[di as usize];
            (x.provider, x.mx.clone(), x.ip.clone(), x.name.clone())
        };
        let addr = r.addr.clone();
        if why == Why::Down {
            let refused = a.tag.is_multiple_of(3);
            let what = if refused {
                "Connection refused"
            } else {
                "Connection timed out"
            };
            self.exm(&a.id);
            let _ = write!(self.buf, "H={mx} [{ip}] {what}");
            self.end();
            self.exm(&a.id);
            self.s("== ");
            self.s(&addr);
            let errno = if refused { 111 } else { 110 };
            let _ = write!(self.buf, " R={rr} T={rt} defer ({errno}): {what}");
            self.end();
            self.count(Count::Deferred, a.skey);
            self.tally(r.scen, "deferred_lines");
            r.next_retry = self.now + exim_retry_interval(r.step);
            let dead = self.rng.range(10 * MINUTE, 25 * MINUTE);
            self.dead_until[di as usize] = self.now + dead;
            return;
        }
        let rep = self.remote_reply(why, provider, &addr, &rdom, &mx, &a.sender);
        let errno = match rep.stage {
            Stage::Rcpt => -44,
            Stage::Mail => -45,
            Stage::Data => -46,
            Stage::Connect => 0,
        };
        self.exm(&a.id);
        self.s("== ");
        self.s(&addr);
        let _ = write!(
            self.buf,
            " R={rr} T={rt} defer ({errno}) H={mx} [{ip}]: SMTP error from remote mail server after "
        );
        self.exim_stage(rep.stage, &addr, &a.sender, a.size);
        self.s(": ");
        self.s(&rep.text);
        self.end();
        self.count(Count::Deferred, a.skey);
        self.tally(r.scen, "deferred_lines");
        r.next_retry = self.now + exim_retry_interval(r.step);
    }

    /// `**`: the recipient failed for good.
    fn exim_remote_failed(&mut self, a: &Attempt, r: &mut Rcpt, di: u16, why: Why) {
        let (rr, rt, _, _) = self.routers();
        let sep = self.sep();
        let (provider, mx, ip, rdom) = {
            let x = &self.w.remotes[di as usize];
            (x.provider, x.mx.clone(), x.ip.clone(), x.name.clone())
        };
        let addr = r.addr.clone();
        self.exm(&a.id);
        self.s("** ");
        self.s(&addr);
        match why {
            Why::NoDomain => {
                self.s(sep);
                self.s("Unrouteable address");
            }
            Why::GiveUp => self.s(": retry timeout exceeded"),
            _ => {
                let why = if why == Why::Full { Why::GiveUp } else { why };
                let rep = self.remote_reply(why, provider, &addr, &rdom, &mx, &a.sender);
                let _ = write!(self.buf, " R={rr} T={rt} H={mx} [{ip}]");
                if let (true, Some(x)) = (rep.stage != Stage::Connect, cipher(provider, a.tag)) {
                    let _ = write!(self.buf, " X={x} CV=yes");
                }
                self.s(sep);
                self.s("SMTP error from remote mail server after ");
                self.exim_stage(rep.stage, &addr, &a.sender, a.size);
                self.s(": ");
                self.s(&rep.text);
            }
        }
        self.end();
        self.count(Count::Bounced, a.skey);
        self.tally(r.scen, "bounced");
        r.done = true;
    }

    pub(crate) fn exim_stage(&mut self, stage: Stage, addr: &str, sender: &str, size: u32) {
        match stage {
            Stage::Connect => self.s("initial connection"),
            Stage::Mail => {
                let _ = write!(self.buf, "MAIL FROM:<{sender}> SIZE={}", size + 420);
            }
            Stage::Rcpt => {
                let _ = write!(self.buf, "RCPT TO:<{addr}>");
            }
            Stage::Data => self.s("end of data"),
        }
    }

    /// A bounce message (`<= <> R=parent`) back to a hosted sender.
    pub(crate) fn exim_bounce(&mut self, parent: &Id, to: &str, dest: Option<Dest>) {
        let Some(dest) = dest else { return };
        if self.cpanel() {
            self.ex();
            self.s("cwd=/var/spool/exim 7 args: /usr/sbin/exim -t -oem -oi -f <> -E");
            self.s(parent.as_str());
            self.end();
        }
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
        m.id = self.new_id(self.now, false);
        let h = self.alloc(m);
        self.exim_arrival_line(h);
        self.after(0, 500, Ev::DeliverStart(h));
    }

    pub(crate) fn ev_queue_run(&mut self) {
        self.at(self.now + EXIM_QUEUE_INTERVAL, Ev::QueueRun);
        let pid = self.next_pid();
        self.ex();
        self.s("Start queue run: pid=");
        self.n(pid as u64);
        self.end();
        let slab = &self.slab;
        self.queue.retain(|&h| {
            let m = &slab[(h & 0xFFFF_FFFF) as usize];
            m.generation == (h >> 32) as u32 && !m.done
        });
        let list = self.queue.clone();
        self.runs.push(QueueRunState { pid, list, pos: 0 });
        let r = (self.runs.len() - 1) as u32;
        self.after(20, 300, Ev::QueueStep(r));
    }

    pub(crate) fn ev_queue_step(&mut self, r: u32) {
        let (pid, next) = {
            let run = &mut self.runs[r as usize];
            let next = run.list.get(run.pos).copied();
            run.pos += 1;
            (run.pid, next)
        };
        let Some(h) = next else {
            self.ex();
            self.s("End queue run: pid=");
            self.n(pid as u64);
            self.end();
            self.runs[r as usize].list = Vec::new();
            return;
        };
        let now = self.now;
        let cpanel = self.cpanel();
        let info = match self.msg(h) {
            Some(m) if now.saturating_sub(m.last_run) > MINUTE => {
                m.last_run = now;
                let remote = m
                    .rcpts
                    .iter()
                    .any(|x| !x.done && matches!(x.dest, Dest::Remote(_)));
                Some((m.id, m.local_dom, m.sender.clone(), remote))
            }
            _ => None,
        };
        if let Some((id, local_dom, sender, remote)) = info {
            if let (true, Some(d), true) = (cpanel, local_dom, remote) {
                self.sender_identification(&id, d as usize, &sender);
            }
            self.ev_exim_deliver(h, true);
            self.after(200, 2500, Ev::QueueStep(r));
        } else {
            self.after(1, 40, Ev::QueueStep(r));
        }
    }
}
