//! Building messages: arrivals, recipients and their fates, spray episodes.

use std::io::Write;

use chrono::Timelike;

use crate::names::{HELOS, SPRAY_SUBJECTS};
use crate::sim::{
    BASE, Dest, EXIM_RETRY_CUTOFF, Ev, Fate, Gen, HOUR, MINUTE, Origin, PEAK_RATE,
    POSTFIX_LIFETIME, Rcpt, SECOND, Spray,
};
use crate::world::{Provider, doc_ip, local_part};

impl<W: Write> Gen<'_, W> {
    // -----------------------------------------------------------------------------------------
    // Building messages

    pub(crate) fn rate_now(&self) -> f64 {
        let t = self.cfg.start + chrono::Duration::milliseconds((self.now - BASE) as i64);
        let h = t.hour() as f64 + t.minute() as f64 / 60.0;
        let day = if (6.0..22.0).contains(&h) {
            (std::f64::consts::PI * (h - 6.0) / 16.0).sin()
        } else {
            0.0
        };
        PEAK_RATE * (0.25 + 0.75 * day)
    }

    pub(crate) fn remote_rcpt(&mut self, dead_bias: f64) -> Rcpt {
        let typo = self.rng.chance(0.004 + dead_bias * 0.1);
        let di = if typo {
            *self.rng.pick(&self.w.typos) as usize
        } else {
            self.w.rcpt_w.sample(&mut self.rng)
        };
        let provider = self.w.remotes[di].provider;
        let addr = format!("{}@{}", local_part(&mut self.rng), self.w.remotes[di].name);
        let fate = if !self.w.remotes[di].exists {
            Fate::NoDomain
        } else {
            self.remote_fate(provider, dead_bias)
        };
        Rcpt {
            addr,
            dest: Dest::Remote(di as u16),
            fate,
            step: 0,
            done: false,
            next_retry: 0,
            scen: 0,
        }
    }

    pub(crate) fn remote_fate(&mut self, p: Provider, dead_bias: f64) -> Fate {
        let x = self.rng.f64();
        if x < dead_bias {
            return if self.rng.chance(0.85) {
                Fate::Unknown
            } else {
                Fate::Disabled
            };
        }
        let x = self.rng.f64();
        let grey = if p == Provider::Generic { 0.035 } else { 0.0 };
        let rate = if p == Provider::Generic { 0.002 } else { 0.012 };
        let mut c = 0.0;
        let mut pick = |p: f64| {
            c += p;
            x < c
        };
        if pick(0.028) {
            Fate::Unknown
        } else if pick(0.004) {
            Fate::Disabled
        } else if pick(0.006) {
            Fate::Blocked
        } else if pick(grey) {
            Fate::Grey(self.rng.range(1, 2) as u8)
        } else if pick(rate) {
            Fate::Rate(self.rng.range(1, 3) as u8)
        } else if pick(0.012) {
            Fate::Full(self.rng.range(1, 4) as u8, self.rng.chance(0.4))
        } else {
            Fate::Ok
        }
    }

    pub(crate) fn local_rcpt(&mut self, dom: usize) -> Rcpt {
        let acc = self.rng.pick(&self.w.locals[dom].accounts).clone();
        let fate = if self.rng.chance(0.006) {
            Fate::Full(self.rng.range(1, 3) as u8, false)
        } else {
            Fate::Ok
        };
        Rcpt {
            addr: acc,
            dest: Dest::Local(dom as u16),
            fate,
            step: 0,
            done: false,
            next_retry: 0,
            scen: 0,
        }
    }

    pub(crate) fn rcpt_count(&mut self) -> usize {
        let x = self.rng.f64();
        if x < 0.72 {
            1
        } else if x < 0.87 {
            2
        } else if x < 0.94 {
            3
        } else if x < 0.985 {
            self.rng.range(4, 6) as usize
        } else {
            self.rng.range(7, 15) as usize
        }
    }

    pub(crate) fn pick_local_sender(&mut self) -> usize {
        loop {
            let d = self.w.local_w.sample(&mut self.rng);
            if !self.spraying.contains(&(d as u16)) {
                return d;
            }
        }
    }

    pub(crate) fn ev_arrival(&mut self) {
        if self.day.is_some() {
            return self.day_arrival();
        }
        if self.stop_arrivals {
            return;
        }
        // Next arrival.
        let gap = self.rng.exp(1000.0 / self.rate_now()) as u64 + 1;
        self.at(self.now + gap, Ev::Arrival);
        if self.rng.chance(0.11) {
            self.ev_reject();
            return;
        }
        if self.originated >= self.next_spray_at {
            self.start_spray();
        }
        self.originated += 1;
        if self.cfg.target_bytes.is_none() && self.originated >= self.target_msgs {
            self.stop_arrivals = true;
        }
        let x = self.rng.f64();
        let h = if x < 0.40 {
            self.make_outbound(Origin::Auth, 0.0)
        } else if x < 0.47 {
            let dead = if self.rng.chance(0.05) { 0.35 } else { 0.0 };
            self.make_outbound(Origin::Script, dead)
        } else if x < 0.92 {
            self.make_inbound()
        } else {
            self.make_local_to_local()
        };
        self.schedule_arrival(h);
    }

    pub(crate) fn make_outbound(&mut self, origin: Origin, dead_bias: f64) -> u64 {
        let d = self.pick_local_sender();
        let sender = self.rng.pick(&self.w.locals[d].accounts).clone();
        let mut m = self.new_msg(origin, sender, d as u32, Some(d as u16));
        let mut n = self.rcpt_count();
        if origin == Origin::Script && dead_bias > 0.0 {
            n = self.rng.range(8, 20) as usize;
        }
        for _ in 0..n {
            let r = if self.rng.chance(0.06) {
                let ld = self.w.local_w.sample(&mut self.rng);
                self.local_rcpt(ld)
            } else {
                self.remote_rcpt(dead_bias)
            };
            m.rcpts.push(r);
        }
        if origin == Origin::Auth {
            let port = self.w.locals[d].office_port_base + self.rng.below(200) as u16;
            let helo = if self.rng.chance(0.5) {
                format!(
                    "{}-pc",
                    &self.w.locals[d].cpuser.chars().take(5).collect::<String>()
                )
            } else {
                (*self.rng.pick(HELOS)).to_string()
            };
            m.client = Some((
                String::new(),
                helo,
                self.w.locals[d].office_ip.clone(),
                port,
            ));
        }
        m.filter = !self.exim() && self.rng.chance(0.3);
        self.alloc(m)
    }

    pub(crate) fn make_inbound(&mut self) -> u64 {
        let si = self.w.sender_w.sample(&mut self.rng);
        let sender = format!("{}@{}", local_part(&mut self.rng), self.w.remotes[si].name);
        let skey = self.w.remotes[si].key;
        let mut m = self.new_msg(Origin::Inbound, sender, skey, None);
        let n = if self.rng.chance(0.85) {
            1
        } else {
            self.rng.range(2, 3) as usize
        };
        let ld = self.w.local_w.sample(&mut self.rng);
        for _ in 0..n {
            let d = if self.rng.chance(0.8) {
                ld
            } else {
                self.w.local_w.sample(&mut self.rng)
            };
            let r = self.local_rcpt(d);
            if m.rcpts.iter().all(|x| x.addr != r.addr) {
                m.rcpts.push(r);
            }
        }
        let host = {
            let r = &self.w.remotes[si];
            let n = self.rng.range(1, 60);
            match r.provider {
                Provider::Generic => r.mx.clone(),
                Provider::Gmail => format!("mail-wm1-f{n}.google.com"),
                Provider::Microsoft => {
                    format!("mail-db8eur05on20{n:02}.outbound.protection.outlook.com")
                }
                Provider::Yahoo => format!("sonic3{n:02}-2.consmr.mail.ne1.yahoo.com"),
                Provider::Icloud => format!("ms11p00im-qufo170{n:02}.me.com"),
            }
        };
        let ip = if self.w.remotes[si].provider == Provider::Generic {
            self.w.remotes[si].ip.clone()
        } else {
            doc_ip("relay", self.rng.below(100) as usize)
        };
        let port = self.rng.range(32768, 60999) as u16;
        m.client = Some((host.clone(), host, ip, port));
        m.filter = !self.exim() && self.rng.chance(0.4);
        self.alloc(m)
    }

    pub(crate) fn make_local_to_local(&mut self) -> u64 {
        let d = self.pick_local_sender();
        let sender = self.rng.pick(&self.w.locals[d].accounts).clone();
        let mut m = self.new_msg(Origin::Auth, sender, d as u32, Some(d as u16));
        let ld = self.w.local_w.sample(&mut self.rng);
        let r = self.local_rcpt(ld);
        m.rcpts.push(r);
        let port = self.w.locals[d].office_port_base + self.rng.below(200) as u16;
        m.client = Some((
            String::new(),
            "office-pc".into(),
            self.w.locals[d].office_ip.clone(),
            port,
        ));
        self.alloc(m)
    }

    pub(crate) fn schedule_arrival(&mut self, h: u64) {
        let origin = self.msg(h).map(|m| m.origin).expect("new message");
        match (self.exim(), origin) {
            (true, Origin::Script) => self.at(self.now, Ev::Receive(h)),
            (true, _) => self.at(self.now, Ev::Connect(h)),
            (false, _) => self.at(self.now, Ev::Connect(h)),
        }
    }

    pub(crate) fn seed_old_messages(&mut self) {
        let n = (self.target_msgs / 400).clamp(3, 400);
        for _ in 0..n {
            let life = if self.exim() {
                EXIM_RETRY_CUTOFF
            } else {
                POSTFIX_LIFETIME
            };
            // Time left until the message is given up: mostly within the first hour.
            let left = (self.rng.exp(45.0 * MINUTE as f64) as u64).clamp(MINUTE, 6 * HOUR);
            let age = life - left;
            let arrived = BASE - age;
            let d = self.w.local_w.sample(&mut self.rng);
            let sender = self.rng.pick(&self.w.locals[d].accounts).clone();
            // Plain Exim logs nothing about a message's sender after its arrival line (no `F=`
            // here), so the truth counts old Exim messages as "(unknown)". cPanel repeats
            // `Sender identification … S=` at every attempt, and Postfix repeats `from=` when
            // qmgr takes the message up again.
            let skey = if self.exim() && !self.cpanel() {
                self.w.unknown_key
            } else {
                d as u32
            };
            let mut m = self.new_msg(Origin::Old, sender, skey, Some(d as u16));
            m.arrived = arrived;
            // Old deferred mail is stuck on a domain whose servers are gone.
            let dead: Vec<usize> = (0..self.w.remotes.len())
                .filter(|&i| self.w.remotes[i].down_forever)
                .collect();
            let di = *self.rng.pick(&dead);
            let mut r = Rcpt {
                addr: format!("{}@{}", local_part(&mut self.rng), self.w.remotes[di].name),
                dest: Dest::Remote(di as u16),
                fate: Fate::Ok,
                step: 0,
                done: false,
                next_retry: 0,
                scen: 0,
            };
            r.step = self.rng.range(10, 30) as u8;
            m.backoff = 10;
            r.next_retry = BASE + self.rng.range(0, 40 * MINUTE);
            m.rcpts.push(r);
            m.id = self.new_id(arrived, true);
            m.in_queue = true;
            let h = self.alloc(m);
            if self.exim() {
                self.queue.push(h);
            } else {
                let t = BASE + self.rng.range(10 * SECOND, 20 * MINUTE);
                self.at(t, Ev::PfReactivate(h));
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Spray episodes (a taken-over hosted account)

    pub(crate) fn start_spray(&mut self) {
        self.next_spray_at = self.originated + (self.target_msgs / 6).clamp(2_000, 60_000);
        // A small domain with no successes this hour and nothing in the queue.
        let n = self.w.locals.len();
        let mut dom = None;
        for attempt in 0..n {
            let d = n - 1 - ((attempt * 7 + self.sprays.len() * 3) % n);
            let busy = self
                .slab
                .iter()
                .any(|m| !m.done && m.local_dom == Some(d as u16));
            let ok = {
                let tr = self.tracker(d as u16);
                tr.ok
            };
            if !busy && ok == 0 && !self.spraying.contains(&(d as u16)) {
                dom = Some(d);
                break;
            }
        }
        let Some(d) = dom else { return };
        let account = self.w.locals[d].accounts[0].clone();
        let ip = doc_ip("spray", self.rng.below(50) as usize);
        let helo = *self.rng.pick(HELOS);
        let left = self.rng.range(25, 70) as u32;
        self.sprays.push(Spray {
            dom: d as u16,
            account,
            ip,
            helo,
            port: self.rng.range(50000, 60000) as u16,
            left,
            sent: 0,
        });
        self.spraying.insert(d as u16);
        let s = (self.sprays.len() - 1) as u32;
        self.at(self.now, Ev::SprayNext(s));
    }

    pub(crate) fn ev_spray(&mut self, s: u32) {
        let (d, account, ip, helo, port, left, first) = {
            let sp = &mut self.sprays[s as usize];
            if sp.left == 0 {
                return;
            }
            sp.left -= 1;
            sp.sent += 1;
            sp.port = if sp.port >= 65000 { 50000 } else { sp.port + 1 };
            (
                sp.dom,
                sp.account.clone(),
                sp.ip.clone(),
                sp.helo,
                sp.port,
                sp.left,
                sp.sent == 1,
            )
        };
        if left == 0 {
            self.spraying.remove(&d);
        }
        let mut m = self.new_msg(Origin::Spray, account, d as u32, Some(d));
        m.subject = *self.rng.pick(SPRAY_SUBJECTS);
        m.size = self.rng.range(3000, 5000) as u32;
        let n = if first {
            6
        } else {
            self.rng.range(1, 6) as usize
        };
        for _ in 0..n {
            let mut r = self.remote_rcpt(0.0);
            if let Dest::Remote(di) = r.dest {
                let rd = &self.w.remotes[di as usize];
                if rd.exists {
                    r.fate = match self.rng.below(20) {
                        _ if first => Fate::Unknown,
                        12..=14 => Fate::Disabled,
                        15..=16 => Fate::Blocked,
                        _ => Fate::Unknown,
                    };
                }
            }
            m.rcpts.push(r);
        }
        m.client = Some((String::new(), helo.to_string(), ip, port));
        self.originated += 1;
        let h = self.alloc(m);
        self.schedule_arrival(h);
        if left > 0 {
            let gap = self.rng.range(4 * SECOND, 45 * SECOND);
            self.at(self.now + gap, Ev::SprayNext(s));
        }
    }
}
