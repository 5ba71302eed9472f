//! The simulation: messages, recipients, the event queue and the message slab.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::io::{self, Write};

use chrono::Timelike;

use crate::config::{Mta, SynthConfig};
use crate::day::{Day, DayEv};
use crate::names::SUBJECTS;
use crate::output::b62;
use crate::rng::SplitMix64;
use crate::truth::{Apart, Counts, Tracker, Trip};
use crate::world::{Provider, World};

pub(crate) const SECOND: u64 = 1000;
pub(crate) const MINUTE: u64 = 60 * SECOND;
pub(crate) const HOUR: u64 = 60 * MINUTE;
pub(crate) const DAY: u64 = 24 * HOUR;
/// Simulation time of the first line; earlier times belong to messages queued before the log
/// starts.
pub(crate) const BASE: u64 = 10 * DAY;
/// Messages per second at the busiest hour of the day.
pub(crate) const PEAK_RATE: f64 = 5.0;
pub(crate) const EXIM_QUEUE_INTERVAL: u64 = 30 * MINUTE;
pub(crate) const EXIM_RETRY_CUTOFF: u64 = 4 * DAY;
pub(crate) const POSTFIX_LIFETIME: u64 = 5 * DAY;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Fate {
    Ok,
    /// `n` greylisting deferrals, then delivered.
    Grey(u8),
    /// `n` "mailbox full" deferrals, then delivered (`false`) or bounced (`true`).
    Full(u8, bool),
    /// `n` provider rate-limit deferrals, then delivered.
    Rate(u8),
    Unknown,
    Disabled,
    Blocked,
    NoDomain,
    /// Day mode: refused for good for this reason.
    Refuse(Why),
    /// Day mode: `n` deferrals for this reason, then delivered.
    Soft(Why, u8),
}

pub(crate) enum Step {
    Deliver,
    Defer(Why),
    Fail(Why),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Why {
    Grey,
    Full,
    Down,
    Rate,
    Unknown,
    Disabled,
    Blocked,
    NoDomain,
    GiveUp,
    /// Our server's IP is on the day's DNS block list (index into `day::plan::DNSBLS`).
    Listed(u8),
    /// The message looks like spam.
    Spam,
    /// Recipients complained about this sender (deferral at providers, refusal elsewhere).
    Complaint,
    /// The destination refuses this one sender.
    SenderBlock,
    /// The sender's domain is on a domain block list.
    DomainListed,
}

impl Why {
    /// True for the reasons only day mode uses (their texts are in `day::replies`).
    pub(crate) fn is_day(self) -> bool {
        matches!(
            self,
            Why::Listed(_) | Why::Spam | Why::Complaint | Why::SenderBlock | Why::DomainListed
        )
    }
}

impl Fate {
    pub(crate) fn step(self, k: u8) -> Step {
        match self {
            Fate::Ok => Step::Deliver,
            Fate::Grey(n) | Fate::Rate(n) if k < n => {
                Step::Defer(if matches!(self, Fate::Grey(_)) {
                    Why::Grey
                } else {
                    Why::Rate
                })
            }
            Fate::Grey(_) | Fate::Rate(_) => Step::Deliver,
            Fate::Full(n, _) if k < n => Step::Defer(Why::Full),
            Fate::Full(_, true) => Step::Fail(Why::Full),
            Fate::Full(_, false) => Step::Deliver,
            Fate::Unknown => Step::Fail(Why::Unknown),
            Fate::Disabled => Step::Fail(Why::Disabled),
            Fate::Blocked => Step::Fail(Why::Blocked),
            Fate::NoDomain => Step::Fail(Why::NoDomain),
            Fate::Refuse(why) => Step::Fail(why),
            Fate::Soft(why, n) if k < n => Step::Defer(why),
            Fate::Soft(..) => Step::Deliver,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dest {
    Local(u16),
    Remote(u16),
}

pub(crate) struct Rcpt {
    pub(crate) addr: String,
    pub(crate) dest: Dest,
    pub(crate) fate: Fate,
    pub(crate) step: u8,
    pub(crate) done: bool,
    pub(crate) next_retry: u64,
    /// Day mode: the planted scenario this recipient belongs to (0: none).
    pub(crate) scen: u8,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Origin {
    /// Authenticated SMTP submission by a hosted account.
    Auth,
    /// Local submission by a web script (`P=local`, pickup).
    Script,
    /// From a remote server.
    Inbound,
    /// A bounce (`<>`) generated here.
    Bounce,
    /// A taken-over hosted account spraying dead addresses.
    Spray,
    /// Queued before the log starts.
    Old,
    /// Postfix: re-injected by the content filter.
    Filtered,
}

#[derive(Clone, Copy, Default)]
pub(crate) struct Id {
    pub(crate) b: [u8; 23],
    pub(crate) len: u8,
}

impl Id {
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.b[..self.len as usize]).expect("ascii id")
    }
}

pub(crate) struct Msg {
    pub(crate) generation: u32,
    pub(crate) id: Id,
    pub(crate) sender: String,
    pub(crate) skey: u32,
    /// Hosted domain the sender belongs to (the domain cPanel charges).
    pub(crate) local_dom: Option<u16>,
    pub(crate) origin: Origin,
    pub(crate) rcpts: Vec<Rcpt>,
    pub(crate) arrived: u64,
    pub(crate) size: u32,
    pub(crate) subject: &'static str,
    pub(crate) tag: u64,
    /// Remote client of an SMTP arrival: (host or "", helo, ip, port).
    pub(crate) client: Option<(String, String, String, u16)>,
    pub(crate) parent: Option<Id>,
    pub(crate) in_queue: bool,
    pub(crate) last_run: u64,
    /// Postfix: pass through the content filter on first delivery.
    pub(crate) filter: bool,
    /// Postfix: back-off exponent for re-activation.
    pub(crate) backoff: u32,
    /// Postfix: queue ID of the message this one was re-injected from.
    pub(crate) orig: Option<Id>,
    /// Postfix: pid of the smtpd process that received it.
    pub(crate) pid: u32,
    pub(crate) done: bool,
    /// Day mode: the folder of the web script that submitted it (cPanel `cwd=`).
    pub(crate) script: Option<&'static str>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Ev {
    Arrival,
    Connect(u64),
    Receive(u64),
    DeliverStart(u64),
    Deliver(u64),
    QueueRun,
    QueueStep(u32),
    PfQueue(u64),
    PfDeliver(u64),
    PfReactivate(u64),
    Noise,
    SprayNext(u32),
    /// Day mode's own events.
    Day(DayEv),
}

pub(crate) struct Spray {
    pub(crate) dom: u16,
    pub(crate) account: String,
    pub(crate) ip: String,
    pub(crate) helo: &'static str,
    pub(crate) port: u16,
    pub(crate) left: u32,
    pub(crate) sent: u32,
}

pub(crate) struct QueueRunState {
    pub(crate) pid: u32,
    pub(crate) list: Vec<u64>,
    pub(crate) pos: usize,
}

pub(crate) struct Gen<'a, W: Write> {
    pub(crate) cfg: &'a SynthConfig,
    pub(crate) out: &'a mut W,
    pub(crate) rng: SplitMix64,
    pub(crate) w: World,
    pub(crate) buf: Vec<u8>,
    pub(crate) flushed: u64,
    pub(crate) lines: u64,
    // clock and scheduling
    pub(crate) now: u64,
    pub(crate) seq: u64,
    pub(crate) heap: BinaryHeap<Reverse<(u64, u64, Ev)>>,
    // message slab
    pub(crate) slab: Vec<Msg>,
    pub(crate) free: Vec<u32>,
    pub(crate) live_ids: HashSet<[u8; 23]>,
    pub(crate) queue: Vec<u64>,
    pub(crate) runs: Vec<QueueRunState>,
    // arrival process
    pub(crate) originated: u64,
    pub(crate) target_msgs: u64,
    pub(crate) stop_arrivals: bool,
    pub(crate) next_spray_at: u64,
    pub(crate) sprays: Vec<Spray>,
    pub(crate) spraying: HashSet<u16>,
    pub(crate) pid: u32,
    pub(crate) inode: u64,
    /// Per remote domain: until when a connection attempt is not even tried (Exim host
    /// retry record, Postfix dead destination) after a timeout.
    pub(crate) dead_until: Vec<u64>,
    /// Per remote domain: the current outage ends / the next one starts.
    pub(crate) outage_until: Vec<u64>,
    pub(crate) next_outage: Vec<u64>,
    // truth
    pub(crate) truth_messages: u64,
    pub(crate) arrival_lines: u64,
    pub(crate) totals: Counts,
    pub(crate) by_hour: Vec<Counts>,
    pub(crate) by_dom_hour: Vec<Vec<Counts>>,
    /// The counted lines that a report keeps apart, as in [`Truth::apart`](crate::Truth).
    pub(crate) apart: Apart,
    pub(crate) trackers: Vec<Tracker>,
    pub(crate) trips: Vec<Trip>,
    pub(crate) start_epoch: i64,
    pub(crate) start_hour_offset: u64,
    pub(crate) ts_sec: u64,
    pub(crate) ts_exim: [u8; 19],
    pub(crate) ts_syslog: [u8; 15],
    /// Day mode (`None` for the classic generator).
    pub(crate) day: Option<Box<Day>>,
    /// Day mode: the scenario tag of the recipient being attempted (0: background).
    pub(crate) cur_scen: u8,
    /// Day mode: per trip, the deferrals and failures of its hour by scenario tag.
    pub(crate) trip_causes: Vec<[u32; 8]>,
}

impl<'a, W: Write> Gen<'a, W> {
    pub(crate) fn new(cfg: &'a SynthConfig, out: &'a mut W) -> Self {
        let mut rng = SplitMix64::new(cfg.seed ^ 0x6D61_696C_7472_6163);
        let cpanel = cfg.cpanel && cfg.mta == Mta::Exim;
        let w = World::new(&mut rng, cpanel);
        let nkeys = w.keys.len();
        let nlocal = w.locals.len();
        let nremote = w.remotes.len();
        let target_msgs = match cfg.target_bytes {
            Some(b) => (b / 1500).max(50),
            None => cfg.messages,
        };
        let start_epoch = cfg.start.and_utc().timestamp();
        let start_hour_offset =
            (cfg.start.minute() as u64 * 60 + cfg.start.second() as u64) * SECOND;
        Gen {
            cfg,
            out,
            rng,
            w,
            buf: Vec::with_capacity(1 << 19),
            flushed: 0,
            lines: 0,
            now: BASE,
            seq: 0,
            heap: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            live_ids: HashSet::new(),
            queue: Vec::new(),
            runs: Vec::new(),
            originated: 0,
            target_msgs,
            stop_arrivals: false,
            next_spray_at: (target_msgs / 25).clamp(8, 400).min(target_msgs / 2),
            sprays: Vec::new(),
            spraying: HashSet::new(),
            pid: 10_000 + (cfg.seed % 5000) as u32,
            inode: 0x10000,
            dead_until: vec![0; nremote],
            outage_until: vec![0; nremote],
            next_outage: vec![u64::MAX; nremote],
            truth_messages: 0,
            arrival_lines: 0,
            totals: Counts::default(),
            by_hour: Vec::new(),
            by_dom_hour: vec![Vec::new(); nkeys],
            apart: Apart::default(),
            trackers: vec![Tracker::default(); nlocal],
            trips: Vec::new(),
            start_epoch,
            start_hour_offset,
            ts_sec: u64::MAX,
            ts_exim: [b' '; 19],
            ts_syslog: [b' '; 15],
            day: None,
            cur_scen: 0,
            trip_causes: Vec::new(),
        }
    }

    /// A generator for day mode, with its own world and population.
    pub(crate) fn with_world(
        cfg: &'a SynthConfig,
        out: &'a mut W,
        rng: SplitMix64,
        w: World,
        day: Box<Day>,
    ) -> Self {
        let nkeys = w.keys.len();
        let nlocal = w.locals.len();
        let nremote = w.remotes.len();
        let mut g = Gen::new(cfg, out);
        g.rng = rng;
        g.w = w;
        g.dead_until = vec![0; nremote];
        g.outage_until = vec![0; nremote];
        g.next_outage = vec![u64::MAX; nremote];
        g.by_dom_hour = vec![Vec::new(); nkeys];
        g.trackers = vec![Tracker::default(); nlocal];
        g.target_msgs = u64::MAX;
        g.day = Some(day);
        g
    }

    pub(crate) fn exim(&self) -> bool {
        self.cfg.mta == Mta::Exim
    }

    pub(crate) fn cpanel(&self) -> bool {
        self.cfg.cpanel && self.exim()
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    pub(crate) fn target_reached(&self) -> bool {
        match self.cfg.target_bytes {
            Some(b) => self.bytes() >= b,
            None => false,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Scheduling

    pub(crate) fn at(&mut self, t: u64, ev: Ev) {
        self.seq += 1;
        self.heap.push(Reverse((t.max(self.now), self.seq, ev)));
    }

    pub(crate) fn after(&mut self, lo_ms: u64, hi_ms: u64, ev: Ev) {
        let d = self.rng.range(lo_ms, hi_ms);
        self.at(self.now + d, ev);
    }

    pub(crate) fn run(&mut self) -> io::Result<()> {
        for i in 0..self.w.remotes.len() {
            let r = &self.w.remotes[i];
            if r.down_forever {
                self.outage_until[i] = u64::MAX;
            } else if r.exists && r.provider == Provider::Generic {
                // About one outage a day per small domain.
                self.next_outage[i] = BASE + self.rng.exp(DAY as f64) as u64;
            }
        }
        self.seed_old_messages();
        self.at(BASE, Ev::Arrival);
        if self.exim() {
            let first = BASE + self.rng.range(MINUTE, EXIM_QUEUE_INTERVAL);
            self.at(first, Ev::QueueRun);
        }
        let t = BASE + self.rng.range(SECOND, 40 * SECOND);
        self.at(t, Ev::Noise);
        while let Some(Reverse((t, _, ev))) = self.heap.pop() {
            self.now = t;
            if self.target_reached() {
                break;
            }
            if self.cfg.target_bytes.is_none()
                && self.stop_arrivals
                && self.active_messages() == 0
                && self.sprays.iter().all(|s| s.left == 0)
            {
                // Every message has finished: only queue runs and noise would remain.
                break;
            }
            self.dispatch(ev)?;
        }
        Ok(())
    }

    pub(crate) fn active_messages(&self) -> usize {
        self.slab.len() - self.free.len()
    }

    /// True if and only if the servers of remote domain `di` do not answer right now.
    pub(crate) fn remote_down(&mut self, di: usize) -> bool {
        if let Some(d) = &self.day {
            return d.down(di, self.now);
        }
        if self.now >= self.next_outage[di] {
            let len = self.rng.range(20 * MINUTE, 3 * HOUR);
            self.outage_until[di] = self.now + len;
            self.next_outage[di] = self.now + len + self.rng.exp(DAY as f64) as u64;
        }
        self.now < self.outage_until[di]
    }

    pub(crate) fn dispatch(&mut self, ev: Ev) -> io::Result<()> {
        match ev {
            Ev::Arrival => self.ev_arrival(),
            Ev::Connect(m) => self.ev_connect(m),
            Ev::Receive(m) => self.ev_receive(m),
            Ev::DeliverStart(m) => self.ev_deliver_start(m),
            Ev::Deliver(m) => self.ev_exim_deliver(m, false),
            Ev::QueueRun => self.ev_queue_run(),
            Ev::QueueStep(r) => self.ev_queue_step(r),
            Ev::PfQueue(m) => self.ev_pf_queue(m),
            Ev::PfDeliver(m) => self.ev_pf_deliver(m),
            Ev::PfReactivate(m) => self.ev_pf_reactivate(m),
            Ev::Noise => self.ev_noise(),
            Ev::SprayNext(s) => self.ev_spray(s),
            Ev::Day(e) => self.day_event(e),
        }
        self.maybe_flush()
    }

    // -----------------------------------------------------------------------------------------
    // Message slab

    pub(crate) fn alloc(&mut self, m: Msg) -> u64 {
        let idx = match self.free.pop() {
            Some(i) => {
                let generation = self.slab[i as usize].generation.wrapping_add(1);
                self.slab[i as usize] = Msg { generation, ..m };
                i
            }
            None => {
                self.slab.push(m);
                (self.slab.len() - 1) as u32
            }
        };
        let generation = self.slab[idx as usize].generation;
        self.live_ids.insert(self.slab[idx as usize].id.b);
        ((generation as u64) << 32) | idx as u64
    }

    pub(crate) fn msg(&mut self, h: u64) -> Option<&mut Msg> {
        let idx = (h & 0xFFFF_FFFF) as usize;
        let generation = (h >> 32) as u32;
        match self.slab.get_mut(idx) {
            Some(m) if m.generation == generation && !m.done => Some(m),
            _ => None,
        }
    }

    pub(crate) fn release(&mut self, h: u64) {
        let idx = (h & 0xFFFF_FFFF) as usize;
        let id = self.slab[idx].id.b;
        self.live_ids.remove(&id);
        let m = &mut self.slab[idx];
        m.done = true;
        m.rcpts = Vec::new();
        m.sender = String::new();
        m.client = None;
        self.free.push(idx as u32);
    }

    pub(crate) fn new_msg(
        &mut self,
        origin: Origin,
        sender: String,
        skey: u32,
        local_dom: Option<u16>,
    ) -> Msg {
        let size = (1200.0 + self.rng.exp(1.0).powf(2.2) * 9000.0).min(24e6) as u32;
        let subject = *self.rng.pick(SUBJECTS);
        Msg {
            generation: 0,
            id: Id::default(),
            sender,
            skey,
            local_dom,
            origin,
            rcpts: Vec::new(),
            arrived: self.now,
            size,
            subject,
            tag: self.rng.next_u64(),
            client: None,
            parent: None,
            in_queue: false,
            last_run: 0,
            filter: false,
            backoff: 0,
            orig: None,
            pid: 0,
            done: false,
            script: None,
        }
    }

    pub(crate) fn next_pid(&mut self) -> u32 {
        self.pid += self.rng.range(1, 37) as u32;
        if self.pid > 4_000_000 {
            self.pid = 1000 + self.pid % 1000;
        }
        self.pid
    }

    /// A new Exim message id (23-char, or 16-char for `old`) or Postfix short queue id.
    pub(crate) fn new_id(&mut self, at: u64, old: bool) -> Id {
        loop {
            let mut id = Id::default();
            if self.exim() {
                let secs = (self.start_epoch + (at as i64 - BASE as i64) / 1000).max(0) as u64;
                let pid = self.next_pid() as u64;
                let sub = (at % 1000) * 1000 + self.rng.below(1000);
                let mut v = Vec::with_capacity(23);
                b62(&mut v, secs, 6);
                v.push(b'-');
                if old {
                    b62(&mut v, pid, 6);
                    v.push(b'-');
                    b62(&mut v, sub * 3844 / 1_000_000, 2);
                } else {
                    b62(&mut v, pid, 11);
                    v.push(b'-');
                    b62(&mut v, sub / 2, 4);
                }
                id.b[..v.len()].copy_from_slice(&v);
                id.len = v.len() as u8;
            } else {
                let usec = (at % 1000) * 1000 + self.rng.below(1000);
                self.inode += self.rng.range(1, 600);
                if self.inode > 0xFF_FFFF {
                    self.inode = 0x10000 + self.inode % 0x1000;
                }
                let s = format!("{:05X}{:X}", usec & 0xFFFFF, self.inode);
                id.b[..s.len()].copy_from_slice(s.as_bytes());
                id.len = s.len() as u8;
            }
            if !self.live_ids.contains(&id.b) {
                return id;
            }
        }
    }
}
