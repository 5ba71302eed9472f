//! The planted problems' own traffic (the spam spray of a stolen mailbox, unsolicited
//! outreach, mail to a destination that refuses its sender), the partner's outage, and the
//! ground truth of every planted scenario.

use std::io::Write;

use crate::reply::SERVER_IP;
use crate::sim::{BASE, Ev, Fate, Gen, HOUR, MINUTE, Origin, SECOND, Why};
use crate::world::Provider;

use super::plan::{
    BLOCKING, COMPROMISED, PARTNER, SENDER_LISTED, SERVER_LISTED, STALE, UNSOLICITED,
};
use super::{Day, DayEv, Incidental, Scenario, Subject};

const SPRAY_SUBJECTS: &[&str] = &[
    "Invoice overdue - action required",
    "Your account needs attention",
    "Document shared with you",
];
const OUTREACH_SUBJECTS: &[&str] = &[
    "Grow your business with our services",
    "Quick question about your website",
    "Special offer for new partners",
];
const SPRAY_HELOS: &[&str] = &["User", "[127.0.0.1]", "localhost", "WIN-7RT3KJQ2P1"];

impl Day {
    /// True if and only if remote domain `di` does not answer at `now`: the partner's
    /// outage (scenario 3) or a short background outage.
    pub(crate) fn down(&self, di: usize, now: u64) -> bool {
        let p = &self.plan;
        if p.on.partner_down
            && di == p.partner as usize
            && now >= p.partner_win.0
            && now < p.partner_win.1
        {
            return true;
        }
        let (s, e) = self.people.outage[di];
        now >= s && now < e
    }
}

impl<W: Write> Gen<'_, W> {
    /// Schedules the planted problems' own traffic.
    pub(crate) fn day_plant(&mut self) {
        let plan = &day_ref!(self).plan;
        let on = plan.on;
        let (c0, c1) = plan.comp;
        let u0 = plan.unsol_win.0;
        if on.compromised {
            self.at(c0, Ev::Day(DayEv::Spray));
            // cPanel counts per clock hour: the spray's first recipients of each new hour
            // are a batch of dead addresses, as the spammer's old lists are.
            let mut h = (c0 - BASE) / HOUR * HOUR + BASE + HOUR;
            while h < c1 {
                self.at(h + SECOND, Ev::Day(DayEv::Burst));
                h += HOUR;
            }
        }
        if on.unsolicited {
            self.at(u0, Ev::Day(DayEv::Outreach));
        }
        if on.recipient_blocking {
            let t = BASE + self.rng.range(10 * MINUTE, 40 * MINUTE);
            self.at(t, Ev::Day(DayEv::Blocked));
        }
    }

    /// One spray message of the stolen mailbox (scenario 1), from one of the spammer's
    /// addresses; `burst`: the dead-address batch at the top of an hour.
    pub(crate) fn day_spray(&mut self, burst: bool) {
        let (victim, end, ip) = {
            let p = &day_ref!(self).plan;
            let ip = p.pool[self.rng.below(p.pool.len() as u64) as usize].clone();
            (p.victim, p.comp.1, ip)
        };
        if self.now >= end {
            return;
        }
        if !burst {
            let gap = self.rng.range(15 * SECOND, 60 * SECOND);
            // The top of each hour belongs to the burst.
            let next = self.now + gap;
            let into_hour = (next - BASE) % HOUR;
            let next = if into_hour < 40 * SECOND {
                next + 40 * SECOND
            } else {
                next
            };
            self.at(next, Ev::Day(DayEv::Spray));
        }
        let mut m = self.day_msg(Origin::Spray, victim);
        let helo = *self.rng.pick(SPRAY_HELOS);
        let port = self.rng.range(49152, 65535) as u16;
        m.client = Some((String::new(), helo.to_string(), ip.clone(), port));
        m.subject = *self.rng.pick(SPRAY_SUBJECTS);
        m.size = self.rng.range(3000, 6000) as u32;
        let n = if burst {
            self.rng.range(8, 10)
        } else {
            self.rng.range(1, 8)
        };
        for _ in 0..n {
            let di = self.wide_dest(0.45);
            let mut r = self.day_remote_rcpt(None, di, false);
            if r.scen == 0 {
                r.fate = if burst {
                    Fate::Unknown
                } else {
                    self.spam_fate(di, 0.33, 0.18, 0.05)
                };
            }
            if r.scen == 0 {
                r.scen = COMPROMISED;
            }
            m.rcpts.push(r);
        }
        self.tally(COMPROMISED, "spray_messages");
        let net = ip
            .rsplit_once('.')
            .map_or(ip.clone(), |(n, _)| n.to_string());
        let d = day_mut!(self);
        if !d.spray_nets.contains(&net) {
            d.spray_nets.push(net);
        }
        let h = self.alloc(m);
        self.schedule_arrival(h);
    }

    /// A recipient domain anywhere: a big provider with probability `prov`, else any small
    /// domain at all (a harvested or bought list, not correspondents).
    fn wide_dest(&mut self, prov: f64) -> u16 {
        let p = &day_ref!(self).people;
        if self.rng.chance(prov) {
            p.providers[p.provider_w.sample(&mut self.rng)]
        } else {
            p.generic[self.rng.below(p.generic.len() as u64) as usize]
        }
    }

    /// Fate of unwanted mail: `dead` dead addresses, `spam` refused as spam, `complaint`
    /// refused or deferred after complaints; else the healthy mix.
    fn spam_fate(&mut self, di: u16, dead: f64, spam: f64, complaint: f64) -> Fate {
        let x = self.rng.f64();
        let generic = self.w.remotes[di as usize].provider == Provider::Generic;
        if !self.w.remotes[di as usize].exists {
            Fate::NoDomain
        } else if x < dead {
            if self.rng.chance(0.85) {
                Fate::Unknown
            } else {
                Fate::Disabled
            }
        } else if x < dead + spam {
            Fate::Refuse(Why::Spam)
        } else if x < dead + spam + complaint {
            if generic {
                Fate::Refuse(Why::Complaint)
            } else {
                Fate::Soft(Why::Complaint, self.rng.range(1, 2) as u8)
            }
        } else {
            let grey = day_ref!(self).people.grey[di as usize];
            self.healthy_fate(di, grey)
        }
    }

    /// One cold message of the unsolicited mailing (scenario 5), from the sender's usual
    /// office.
    pub(crate) fn day_outreach(&mut self) {
        let (a, end, size) = {
            let p = &day_ref!(self).plan;
            (p.unsol, p.unsol_win.1, p.unsol_size)
        };
        let sent = day_ref!(self).tallies[UNSOLICITED as usize - 1]
            .figures
            .get("messages")
            .copied()
            .unwrap_or(0);
        if self.now >= end || sent >= size as u64 {
            return;
        }
        let span = end.saturating_sub(self.now).max(MINUTE);
        let gap = span / (size as u64 - sent).max(1);
        let g = self.rng.range(gap / 2, gap * 3 / 2 + 1);
        self.at(self.now + g, Ev::Day(DayEv::Outreach));
        let mut m = self.day_msg(Origin::Auth, a);
        m.subject = *self.rng.pick(OUTREACH_SUBJECTS);
        let di = self.wide_dest(0.4);
        let mut r = self.day_remote_rcpt(None, di, false);
        if r.scen == 0 {
            r.fate = self.spam_fate(di, 0.04, 0.16, 0.07);
            r.scen = UNSOLICITED;
        }
        m.rcpts.push(r);
        self.tally(UNSOLICITED, "messages");
        let h = self.alloc(m);
        self.schedule_arrival(h);
    }

    /// Mail from the blocked sender to the destination that refuses it (scenario 6), with
    /// now and then a colleague elsewhere in copy.
    pub(crate) fn day_blocked_mail(&mut self) {
        let (a, di) = {
            let p = &day_ref!(self).plan;
            (p.blocked, p.blocker)
        };
        let g = self.rng.range(12 * MINUTE, 40 * MINUTE);
        self.at(self.now + g, Ev::Day(DayEv::Blocked));
        let mut m = self.day_msg(Origin::Auth, a);
        for _ in 0..self.rng.range(1, 2) {
            let r = self.day_remote_rcpt(Some(a), di, true);
            if m.rcpts.iter().all(|x| x.addr != r.addr) {
                m.rcpts.push(r);
            }
        }
        if self.rng.chance(0.3) {
            let d2 = self.day_pick_dest(a);
            let r = self.day_remote_rcpt(Some(a), d2, true);
            if m.rcpts.iter().all(|x| x.addr != r.addr) {
                m.rcpts.push(r);
            }
        }
        self.tally(BLOCKING, "messages");
        let h = self.alloc(m);
        self.schedule_arrival(h);
    }

    /// The ground truth of the planted scenarios, and their expected side effects.
    pub(crate) fn day_scenarios(&self) -> (Vec<Scenario>, Vec<Incidental>) {
        let d = day_ref!(self);
        let mut out = Vec::new();
        for sc in 1..=NAMES.len() as u8 {
            let Some((verdict, accept, about)) = self.planted(sc) else {
                continue;
            };
            let t = &d.tallies[sc as usize - 1];
            let mut figures = t.figures.clone();
            if sc == COMPROMISED {
                figures.insert("login_networks", d.spray_nets.len() as u64);
            }
            let (a, b) = if t.first == 0 {
                (BASE, BASE)
            } else {
                (t.first, t.last)
            };
            out.push(Scenario {
                id: format!("{}-1", NAMES[sc as usize - 1]),
                verdict,
                accept,
                window: [self.iso_at(a), self.iso_at(b)],
                about,
                figures,
            });
        }
        let mut incidental = Vec::new();
        if d.plan.on.compromised {
            let dom = &self.w.locals[d.people.accounts[d.plan.victim].dom as usize];
            if self.trips.iter().any(|t| t.domain == dom.name) {
                incidental.push(Incidental {
                    kind: "sender_domain",
                    subject: dom.name.clone(),
                    verdict: "sending_limit",
                    because: "the spray of the stolen mailbox trips cPanel's limit".into(),
                });
            }
        }
        (out, incidental)
    }

    /// The subjects a finding may name for mailbox `a`: the mailbox, its domain and, on
    /// cPanel, the domain's cPanel user (the `U=` of its identification lines); on Postfix,
    /// the domain's local user (`uid=N` of pickup, which submits its web scripts' and
    /// mailing plugins' mail).
    fn account_subjects(&self, a: usize) -> Vec<Subject> {
        let acc = &day_ref!(self).people.accounts[a];
        let dom = &self.w.locals[acc.dom as usize];
        let mut v = vec![
            subject("account", &acc.addr),
            subject("sender_domain", &dom.name),
        ];
        if self.cpanel() {
            v.push(subject("account", &dom.cpuser));
        }
        if !self.exim() {
            v.push(subject("account", &crate::postfix::uid_of(acc.dom as u64)));
        }
        v
    }

    /// Scenario `sc` if it is planted: its verdict, accepted subjects and description.
    fn planted(&self, sc: u8) -> Option<(&'static str, Vec<Subject>, String)> {
        let d = day_ref!(self);
        let p = &d.plan;
        let addr = |a: usize| d.people.accounts[a].addr.as_str();
        let on = [
            p.on.compromised,
            p.on.stale_list,
            p.on.partner_down,
            p.on.server_blocklisted,
            p.on.unsolicited,
            p.on.recipient_blocking,
            p.on.sender_blocklisted,
        ];
        if !on[sc as usize - 1] {
            return None;
        }
        Some(match sc {
            COMPROMISED => (
                "compromised_account",
                self.account_subjects(p.victim),
                format!(
                    "{} logs in from up to {} new networks (198.19.x.0/24, some of which guessed its password first) and sprays spam to freemail and random domains; figures count its failed logins and the spray's recipient lines",
                    addr(p.victim),
                    p.pool.len()
                ),
            ),
            STALE => (
                "stale_list",
                self.account_subjects(p.stale),
                format!(
                    "{} sends a newsletter of {} messages to an old list: about 42% dead addresses, 6% domains gone; figures count its recipient lines",
                    addr(p.stale),
                    p.stale_size
                ),
            ),
            PARTNER => {
                let r = &self.w.remotes[p.partner as usize];
                (
                    "remote_server_trouble",
                    vec![
                        subject("destination", &r.name),
                        subject("destination", &r.mx),
                    ],
                    format!(
                        "the mail servers of {} ({} [{}]) time out or refuse connections from {} to {}; mail to it is deferred and delivered afterwards; figures count the recipient lines of all senders' mail to it",
                        r.name,
                        r.mx,
                        r.ip,
                        self.iso_at(p.partner_win.0),
                        self.iso_at(p.partner_win.1)
                    ),
                )
            }
            SERVER_LISTED => {
                let names: Vec<&str> = p
                    .listed_at
                    .iter()
                    .map(|&i| self.w.remotes[i as usize].name.as_str())
                    .collect();
                (
                    "server_blocklisted",
                    vec![
                        subject("server", SERVER_IP),
                        subject("server", &self.w.hostname),
                    ],
                    format!(
                        "from {} our IP {SERVER_IP} is listed at {}, which {} check: all senders' mail to them is refused; figures count the refused recipient lines",
                        self.iso_at(p.listed_from),
                        p.dnsbl,
                        names.join(", ")
                    ),
                )
            }
            UNSOLICITED => (
                "unsolicited_mail",
                self.account_subjects(p.unsol),
                format!(
                    "{} sends {} cold messages from its usual office to people who never asked: spam refusals and complaints at several destinations",
                    addr(p.unsol),
                    p.unsol_size
                ),
            ),
            BLOCKING => {
                let r = &self.w.remotes[p.blocker as usize];
                (
                    "recipient_blocking",
                    self.account_subjects(p.blocked),
                    format!(
                        "{} refuses mail from {} (and only from it); its other mail, and others' mail to {}, is delivered; figures count the refused recipient lines",
                        r.name,
                        addr(p.blocked),
                        r.name
                    ),
                )
            }
            SENDER_LISTED => {
                let dom = &self.w.locals[p.dbl_dom as usize];
                let mut accept = vec![subject("sender_domain", &dom.name)];
                for &a in &d.people.by_dom[p.dbl_dom as usize] {
                    accept.push(subject("account", addr(a)));
                }
                if self.cpanel() {
                    accept.push(subject("account", &dom.cpuser));
                }
                (
                    "sender_blocklisted",
                    accept,
                    format!(
                        "{} is listed at {}; destinations that check it refuse all its senders; figures count the refused recipient lines",
                        dom.name,
                        super::plan::DBL
                    ),
                )
            }
            _ => return None,
        })
    }
}

/// Scenario names, as in their IDs and on the command line.
pub(crate) const NAMES: [&str; 7] = [
    "compromised",
    "stale-list",
    "partner-down",
    "server-blocklisted",
    "unsolicited",
    "recipient-blocking",
    "sender-blocklisted",
];

fn subject(kind: &'static str, s: &str) -> Subject {
    Subject {
        kind,
        subject: s.to_ascii_lowercase(),
    }
}
