//! Day mode's healthy traffic: submissions by the mailboxes from their usual networks, web
//! forms, inbound mail to local mailboxes, newsletters, mail stuck from before the log; and
//! the steering of the arrival rate towards the wanted number of lines.

use std::io::Write;

use chrono::{Duration, Timelike};

use crate::rng::SplitMix64;
use crate::sim::{
    BASE, Dest, EXIM_QUEUE_INTERVAL, EXIM_RETRY_CUTOFF, Ev, Fate, Gen, HOUR, MINUTE, Msg, Origin,
    POSTFIX_LIFETIME, Rcpt, SECOND,
};
use crate::world::{Provider, doc_ip, local_part};

use super::plan::{BLOCKING, PARTNER, SENDER_LISTED, SERVER_LISTED, STALE};
use super::population::{Kind, WEBMAIL, mix};
use super::{DayEv, activity};

/// Subjects of newsletters.
const NEWS_SUBJECTS: &[&str] = &[
    "Our November newsletter",
    "This week at the shop",
    "News and offers for members",
    "Upcoming events",
    "Winter opening hours",
];
const PLUGIN: &str = "/public_html/wp-content/plugins/mailpoet";

/// One newsletter batch in progress.
pub(crate) struct Batch {
    pub(crate) acct: usize,
    pub(crate) left: u32,
    pub(crate) size: u32,
    pub(crate) gap: u64,
    /// Share of dead addresses (user unknown, disabled) and of domains gone.
    pub(crate) dead: f64,
    pub(crate) gone: f64,
    pub(crate) scen: u8,
    pub(crate) subject: &'static str,
}

impl<W: Write> Gen<'_, W> {
    /// Schedules the first events of the day.
    pub(crate) fn day_start(&mut self) {
        self.day_seed_old();
        self.at(BASE, Ev::Arrival);
        if self.exim() {
            let first = BASE + self.rng.range(MINUTE, EXIM_QUEUE_INTERVAL);
            self.at(first, Ev::QueueRun);
        }
        let t = BASE + self.rng.range(SECOND, 40 * SECOND);
        self.at(t, Ev::Noise);
        self.at(BASE + 5 * MINUTE, Ev::Day(DayEv::Calibrate));
        let t = BASE + self.rng.range(SECOND, 20 * SECOND);
        self.at(t, Ev::Day(DayEv::Reject));
        let starts: Vec<u64> = day_ref!(self)
            .plan
            .campaigns
            .iter()
            .map(|c| c.start)
            .collect();
        for (i, s) in starts.into_iter().enumerate() {
            self.at(s, Ev::Day(DayEv::Brute(i as u16)));
        }
        self.day_newsletters();
        self.day_plant();
    }

    pub(crate) fn day_event(&mut self, e: DayEv) {
        match e {
            DayEv::Calibrate => self.day_calibrate(),
            DayEv::Brute(c) => self.day_brute(c),
            DayEv::Reject => self.day_reject(),
            DayEv::Batch(b) => self.day_batch(b),
            DayEv::Spray => self.day_spray(false),
            DayEv::Burst => self.day_spray(true),
            DayEv::Outreach => self.day_outreach(),
            DayEv::Blocked => self.day_blocked_mail(),
        }
    }

    /// The local clock hour now.
    pub(crate) fn day_hour(&self) -> u32 {
        (self.cfg.start + Duration::milliseconds((self.now - BASE) as i64)).hour()
    }

    /// Background messages per second now.
    fn day_rate(&self) -> f64 {
        let t = self.cfg.start + Duration::milliseconds((self.now - BASE) as i64);
        day_ref!(self).k * activity(t)
    }

    /// Steers the arrival rate so that the day ends with about the wanted number of lines.
    fn day_calibrate(&mut self) {
        let lines = self.lines as f64;
        let now = self.now;
        let d = day_mut!(self);
        let m = (((now - BASE) / MINUTE) as usize).min(d.cum.len() - 1);
        let total = *d.cum.last().expect("minutes");
        let expected = d.target as f64 * d.cum[m] / total.max(1e-9);
        if expected > 500.0 && lines > 0.0 {
            let ratio = (expected / lines).clamp(0.6, 1.6);
            d.k = (d.k * ratio.powf(0.8)).max(1e-4);
        }
        self.at(now + 5 * MINUTE, Ev::Day(DayEv::Calibrate));
    }

    /// A background arrival: a submission, a web form, inbound mail or internal mail.
    pub(crate) fn day_arrival(&mut self) {
        let rate = self.day_rate().max(1e-4);
        let gap = self.rng.exp(1000.0 / rate) as u64 + 1;
        self.at(self.now + gap, Ev::Arrival);
        let x = self.rng.f64();
        let h = if x < 0.40 {
            let a = day_ref!(self).people.send_w.sample(&mut self.rng);
            self.day_submission(a)
        } else if x < 0.45 && !day_ref!(self).people.forms.is_empty() {
            self.day_form()
        } else if x < 0.92 {
            self.day_inbound()
        } else {
            self.day_internal()
        };
        self.schedule_arrival(h);
    }

    /// A new message from mailbox `a`, sent from one of its usual networks.
    pub(crate) fn day_msg(&mut self, origin: Origin, a: usize) -> Msg {
        let (addr, dom) = {
            let acc = &day_ref!(self).people.accounts[a];
            (acc.addr.clone(), acc.dom)
        };
        let mut m = self.new_msg(origin, addr, dom as u32, Some(dom));
        if origin == Origin::Auth {
            let hour = self.day_hour();
            let now = self.now;
            let (helo, ip) = {
                let d = self.day.as_deref().expect("day mode");
                d.people.client(&mut self.rng, a, now, hour)
            };
            let port = self.rng.range(49152, 65535) as u16;
            let host = if ip == WEBMAIL { "localhost" } else { "" };
            m.client = Some((host.to_string(), helo, ip, port));
        }
        m.filter = !self.exim() && self.rng.chance(0.85);
        m
    }

    /// An ordinary submission by mailbox `a`.
    fn day_submission(&mut self, a: usize) -> u64 {
        let mut m = self.day_msg(Origin::Auth, a);
        let business = day_ref!(self).people.accounts[a].kind == Kind::Business;
        let n = if business && self.rng.chance(0.3) {
            self.rng.range(2, 6) as usize
        } else {
            self.rcpt_count()
        };
        for _ in 0..n {
            let r = if self.rng.chance(0.06) {
                self.day_colleague_rcpt()
            } else {
                let di = self.day_pick_dest(a);
                self.day_remote_rcpt(Some(a), di, true)
            };
            if m.rcpts.iter().all(|x| x.addr != r.addr) {
                m.rcpts.push(r);
            }
        }
        self.alloc(m)
    }

    /// A recipient domain for mailbox `a`: a big provider, one of its correspondents, or
    /// another small domain; rarely a typo.
    pub(crate) fn day_pick_dest(&mut self, a: usize) -> u16 {
        let d = self.day.as_deref().expect("day mode");
        let rng = &mut self.rng;
        let p = &d.people;
        let acc = &p.accounts[a];
        if rng.chance(0.003) {
            return p.gone[rng.below(5) as usize];
        }
        let prov = match acc.kind {
            Kind::Business => 0.25,
            _ => 0.6,
        };
        if rng.chance(prov) {
            p.providers[p.provider_w.sample(rng)]
        } else if rng.chance(0.9) {
            acc.contacts[acc.contact_w.sample(rng)]
        } else {
            p.generic[p.generic_w.sample(rng)]
        }
    }

    /// A recipient at remote domain `di` for a message from mailbox `a` (`None`: not one of
    /// ours), with its fate. With `stable`, the mailbox's correspondents have a few fixed
    /// addresses at each domain; otherwise each recipient is drawn afresh.
    pub(crate) fn day_remote_rcpt(&mut self, a: Option<usize>, di: u16, stable: bool) -> Rcpt {
        let people_at = if self.w.remotes[di as usize].provider == Provider::Generic {
            4
        } else {
            40
        };
        let who = self.rng.below(people_at);
        let salt = match (a, stable) {
            (Some(a), true) => (a as u64) << 24 ^ (di as u64) << 8 ^ who,
            _ => self.rng.next_u64(),
        };
        let lp = local_part(&mut SplitMix64::new(mix(salt)));
        let addr = format!("{lp}@{}", self.w.remotes[di as usize].name);
        let (fate, scen) = self.day_fate(a, di);
        Rcpt {
            addr,
            dest: Dest::Remote(di),
            fate,
            step: 0,
            done: false,
            next_retry: 0,
            scen,
        }
    }

    /// The fate of a recipient at remote domain `di` of mail from mailbox `a`: a planted
    /// problem if one applies (with its scenario number), else the healthy mix.
    pub(crate) fn day_fate(&mut self, a: Option<usize>, di: u16) -> (Fate, u8) {
        let now = self.now;
        let d = self.day.as_deref().expect("day mode");
        let plan = &d.plan;
        let dom = a.map(|a| d.people.accounts[a].dom);
        if plan.on.server_blocklisted && now >= plan.listed_from && plan.listed_at.contains(&di) {
            let i = super::plan::DNSBLS
                .iter()
                .position(|l| *l == plan.dnsbl)
                .unwrap_or(0);
            return (
                Fate::Refuse(crate::sim::Why::Listed(i as u8)),
                SERVER_LISTED,
            );
        }
        if plan.on.sender_blocklisted && dom == Some(plan.dbl_dom) && plan.dbl_checks[di as usize] {
            return (Fate::Refuse(crate::sim::Why::DomainListed), SENDER_LISTED);
        }
        if plan.on.recipient_blocking && a == Some(plan.blocked) && di == plan.blocker {
            return (Fate::Refuse(crate::sim::Why::SenderBlock), BLOCKING);
        }
        let partner = plan.on.partner_down
            && di == plan.partner
            && now + 30 * MINUTE >= plan.partner_win.0
            && now < plan.partner_win.1;
        let grey = d.people.grey[di as usize];
        let fate = self.healthy_fate(di, grey);
        (fate, if partner { PARTNER } else { 0 })
    }

    /// The healthy mix: a few dead addresses, full mailboxes, greylisting at some small
    /// domains, rate limits at the big providers.
    pub(crate) fn healthy_fate(&mut self, di: u16, grey: bool) -> Fate {
        let r = &self.w.remotes[di as usize];
        if !r.exists {
            return Fate::NoDomain;
        }
        let generic = r.provider == Provider::Generic;
        let x = self.rng.f64();
        let (unknown, disabled, full, rate) = if generic {
            (0.014, 0.002, 0.005, 0.0)
        } else {
            (0.010, 0.0025, 0.005, 0.004)
        };
        if x < unknown {
            Fate::Unknown
        } else if x < unknown + disabled {
            Fate::Disabled
        } else if x < unknown + disabled + full {
            Fate::Full(self.rng.range(1, 3) as u8, self.rng.chance(0.3))
        } else if x < unknown + disabled + full + rate {
            Fate::Rate(self.rng.range(1, 2) as u8)
        } else if grey && self.rng.chance(0.2) {
            Fate::Grey(self.rng.range(1, 2) as u8)
        } else {
            Fate::Ok
        }
    }

    /// A local mailbox as a recipient (inbound volume by mailbox); full mailboxes defer, and
    /// half of them end in a bounce.
    pub(crate) fn day_local_rcpt(&mut self) -> Rcpt {
        let a = day_ref!(self).people.recv_w.sample(&mut self.rng);
        self.day_local_rcpt_to(a)
    }

    /// A local mailbox as the recipient of one of our own mailboxes. Colleagues know whose
    /// mailbox is full and write to someone else (so that a small domain's retries to a full
    /// mailbox do not trip its own cPanel limit on a healthy day).
    fn day_colleague_rcpt(&mut self) -> Rcpt {
        let d = day_ref!(self);
        let mut a = d.people.recv_w.sample(&mut self.rng);
        for _ in 0..20 {
            if !d.people.accounts[a].full {
                break;
            }
            a = d.people.recv_w.sample(&mut self.rng);
        }
        self.day_local_rcpt_to(a)
    }

    fn day_local_rcpt_to(&mut self, a: usize) -> Rcpt {
        let (addr, dom, full) = {
            let acc = &day_ref!(self).people.accounts[a];
            (acc.addr.clone(), acc.dom, acc.full)
        };
        let fate = if full {
            Fate::Full(self.rng.range(1, 3) as u8, self.rng.chance(0.5))
        } else if self.rng.chance(0.003) {
            Fate::Full(1, false)
        } else {
            Fate::Ok
        };
        Rcpt {
            addr,
            dest: Dest::Local(dom),
            fate,
            step: 0,
            done: false,
            next_retry: 0,
            scen: 0,
        }
    }

    /// Mail from the outside world to our mailboxes.
    fn day_inbound(&mut self) -> u64 {
        let (si, provider_sender) = {
            let d = self.day.as_deref().expect("day mode");
            let p = &d.people;
            if self.rng.chance(0.6) {
                (p.providers[p.provider_w.sample(&mut self.rng)], true)
            } else {
                (p.generic[p.generic_w.sample(&mut self.rng)], false)
            }
        };
        let si = si as usize;
        let sender = format!("{}@{}", local_part(&mut self.rng), self.w.remotes[si].name);
        let skey = self.w.remotes[si].key;
        let mut m = self.new_msg(Origin::Inbound, sender, skey, None);
        let first = self.day_local_rcpt();
        let n = if self.rng.chance(0.85) {
            1
        } else {
            self.rng.range(2, 3) as usize
        };
        let Dest::Local(dom) = first.dest else {
            unreachable!("a local recipient")
        };
        m.rcpts.push(first);
        for _ in 1..n {
            let colleagues = &day_ref!(self).people.by_dom[dom as usize];
            let a = colleagues[self.rng.below(colleagues.len() as u64) as usize];
            let r = self.day_local_rcpt_to(a);
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
        let ip = if provider_sender {
            doc_ip("relay", self.rng.below(100) as usize)
        } else {
            self.w.remotes[si].ip.clone()
        };
        let port = self.rng.range(32768, 60999) as u16;
        m.client = Some((host.clone(), host, ip, port));
        m.filter = !self.exim() && self.rng.chance(0.9);
        self.alloc(m)
    }

    /// Mail between two of our mailboxes.
    fn day_internal(&mut self) -> u64 {
        let a = day_ref!(self).people.send_w.sample(&mut self.rng);
        let mut m = self.day_msg(Origin::Auth, a);
        let r = self.day_colleague_rcpt();
        m.rcpts.push(r);
        self.alloc(m)
    }

    /// A web form on a customer's site: a notice to the site's mailbox, sometimes a copy to
    /// the visitor (whose address is often made up).
    fn day_form(&mut self) -> u64 {
        let (dom, path, owner) = {
            let p = &day_ref!(self).people;
            let (dom, path) = p.forms[self.rng.below(p.forms.len() as u64) as usize];
            let boxes = &p.by_dom[dom as usize];
            let owner = boxes
                .iter()
                .copied()
                .find(|&a| !p.accounts[a].full)
                .unwrap_or(boxes[0]);
            (dom, path, owner)
        };
        let name = &self.w.locals[dom as usize].name;
        let sender = match self.rng.below(3) {
            0 => format!("wordpress@{name}"),
            1 => format!("noreply@{name}"),
            _ => day_ref!(self).people.accounts[owner].addr.clone(),
        };
        let mut m = self.new_msg(Origin::Script, sender, dom as u32, Some(dom));
        m.script = Some(path);
        m.subject = "New message from your website";
        m.size = self.rng.range(1500, 6000) as u32;
        let r = self.day_local_rcpt_to(owner);
        m.rcpts.push(r);
        if self.rng.chance(0.35) {
            let di = {
                let p = &day_ref!(self).people;
                if self.rng.chance(0.8) {
                    p.providers[p.provider_w.sample(&mut self.rng)]
                } else {
                    p.generic[p.generic_w.sample(&mut self.rng)]
                }
            };
            let mut r = self.day_remote_rcpt(None, di, false);
            if r.fate == Fate::Ok && self.rng.chance(0.07) {
                r.fate = Fate::Unknown;
            }
            m.rcpts.push(r);
        }
        m.filter = !self.exim() && self.rng.chance(0.85);
        self.alloc(m)
    }

    /// Newsletter batches of the day (the stale list of scenario 2 is one of them).
    fn day_newsletters(&mut self) {
        let span = day_ref!(self).hours as u64 * HOUR;
        let scale = day_ref!(self).scale.min(3.0);
        let news = day_ref!(self).people.newsletters.clone();
        let (stale_on, stale) = {
            let p = &day_ref!(self).plan;
            (p.on.stale_list, p.stale)
        };
        for a in news {
            if stale_on && a == stale {
                continue;
            }
            for _ in 0..self.rng.range(1, 2) {
                let size = ((self.rng.range(150, 1200) as f64 * scale) as u32).max(20);
                let at = BASE + span / 10 + self.rng.below(span * 7 / 10);
                let subject = *self.rng.pick(NEWS_SUBJECTS);
                self.day_add_batch(at, a, size, 0.012, 0.002, 0, subject);
            }
        }
        if stale_on {
            let (at, size) = {
                let p = &day_ref!(self).plan;
                (p.stale_at, p.stale_size)
            };
            self.day_add_batch(
                at,
                stale,
                size,
                0.42,
                0.06,
                STALE,
                "Back in touch: our news",
            );
        }
    }

    #[allow(clippy::too_many_arguments)] // a batch is these seven facts; a struct literal would only move them
    fn day_add_batch(
        &mut self,
        at: u64,
        acct: usize,
        size: u32,
        dead: f64,
        gone: f64,
        scen: u8,
        subject: &'static str,
    ) {
        let minutes = self.rng.range(25, 50);
        let b = Batch {
            acct,
            left: size,
            size,
            gap: (minutes * MINUTE / size.max(1) as u64).max(300),
            dead,
            gone,
            scen,
            subject,
        };
        let d = day_mut!(self);
        d.batches.push(b);
        let i = (d.batches.len() - 1) as u32;
        self.at(at, Ev::Day(DayEv::Batch(i)));
    }

    /// The next message of newsletter batch `b`: one recipient each.
    fn day_batch(&mut self, b: u32) {
        let (acct, left, gap, dead, gone, scen, subject, size) = {
            let x = &mut day_mut!(self).batches[b as usize];
            if x.left == 0 {
                return;
            }
            x.left -= 1;
            (
                x.acct, x.left, x.gap, x.dead, x.gone, x.scen, x.subject, x.size,
            )
        };
        let plugin = day_ref!(self).people.accounts[acct].plugin;
        let mut m = if plugin {
            let mut m = self.day_msg(Origin::Script, acct);
            m.script = Some(PLUGIN);
            m
        } else {
            let mut m = self.day_msg(Origin::Auth, acct);
            // A mass-mailing program on the office computer: always the same network.
            let f = day_ref!(self).people.accounts[acct]
                .fixed
                .first()
                .map(|f| (f.helo.clone(), f.ip.clone()));
            if let (Some((helo, ip)), Some(c)) = (f, m.client.as_mut()) {
                c.1 = helo;
                c.2 = ip;
            }
            m
        };
        m.subject = subject;
        m.size = 20_000 + (size % 7) * 1000 + self.rng.below(400) as u32;
        let r = if self.rng.chance(gone) {
            let g = {
                let p = &day_ref!(self).people;
                p.gone[5 + self.rng.below(p.gone.len() as u64 - 5) as usize]
            };
            self.day_remote_rcpt(Some(acct), g, false)
        } else {
            let di = {
                let p = &day_ref!(self).people;
                if self.rng.chance(0.55) {
                    p.providers[p.provider_w.sample(&mut self.rng)]
                } else {
                    p.generic[p.generic_w.sample(&mut self.rng)]
                }
            };
            let mut r = self.day_remote_rcpt(Some(acct), di, false);
            // Planted refusals (block lists) keep their own reason.
            if self.rng.chance(dead) && r.scen == 0 {
                r.fate = if self.rng.chance(0.85) {
                    Fate::Unknown
                } else {
                    Fate::Disabled
                };
            }
            r
        };
        let mut r = r;
        if scen != 0 && r.scen == 0 {
            r.scen = scen;
        }
        m.rcpts.push(r);
        let h = self.alloc(m);
        self.schedule_arrival(h);
        if left > 0 {
            let g = self.rng.range(gap / 2, gap * 3 / 2);
            self.at(self.now + g, Ev::Day(DayEv::Batch(b)));
        }
    }

    /// Mail queued before the log starts, stuck on domains whose servers are gone: one
    /// message each for a dozen busy domains (so that no domain's hour fills with their
    /// retries).
    fn day_seed_old(&mut self) {
        let dead: Vec<u16> = (0..self.w.remotes.len())
            .filter(|&i| self.w.remotes[i].down_forever)
            .map(|i| i as u16)
            .collect();
        let mut doms = Vec::new();
        for _ in 0..12 {
            let a = day_ref!(self).people.send_w.sample(&mut self.rng);
            let dom = day_ref!(self).people.accounts[a].dom;
            if doms.contains(&dom) {
                continue;
            }
            doms.push(dom);
            let life = if self.exim() {
                EXIM_RETRY_CUTOFF
            } else {
                POSTFIX_LIFETIME
            };
            let left = self.rng.range(2 * HOUR, 2 * crate::sim::DAY);
            let arrived = BASE - (life - left);
            let sender = day_ref!(self).people.accounts[a].addr.clone();
            // As in the classic generator: plain Exim names no sender after arrival.
            let skey = if self.exim() && !self.cpanel() {
                self.w.unknown_key
            } else {
                dom as u32
            };
            let mut m = self.new_msg(Origin::Old, sender, skey, Some(dom));
            m.arrived = arrived;
            let di = dead[self.rng.below(dead.len() as u64) as usize];
            let addr = format!(
                "{}@{}",
                local_part(&mut self.rng),
                self.w.remotes[di as usize].name
            );
            m.rcpts.push(Rcpt {
                addr,
                dest: Dest::Remote(di),
                fate: Fate::Ok,
                step: self.rng.range(10, 30) as u8,
                done: false,
                next_retry: BASE + self.rng.range(0, 40 * MINUTE),
                scen: 0,
            });
            m.backoff = 10;
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
}
