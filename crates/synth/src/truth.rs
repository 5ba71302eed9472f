//! The ground truth: counts by the counting rule, cPanel trips.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::sim::{BASE, Gen, HOUR};

/// Event counts by the counting rule of [`SynthConfig`](crate::SynthConfig).
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct Counts {
    pub delivered: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub rejected: u64,
    pub expired: u64,
}

impl Counts {
    pub(crate) fn add(&mut self, k: Count) {
        match k {
            Count::Delivered => self.delivered += 1,
            Count::Deferred => self.deferred += 1,
            Count::Bounced => self.bounced += 1,
            Count::Rejected => self.rejected += 1,
            Count::Expired => self.expired += 1,
        }
    }

    pub(crate) fn is_zero(&self) -> bool {
        *self == Counts::default()
    }
}

/// One trip of the cPanel defers-and-failures limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trip {
    pub domain: String,
    /// Clock hour `YYYY-MM-DDTHH`.
    pub hour: String,
    /// Time of the `==`/`**` line that met the condition (`YYYY-MM-DDTHH:MM:SS`).
    pub condition_at: String,
    /// Time of the first `enforce_mail_permissions` discard line, if the domain sent again in
    /// that hour.
    pub tripped_at: Option<String>,
    /// deferred + bounced at the trip (the N of `N/limit_min`).
    pub count: u64,
    /// Percentage printed in the discard lines (rounded down).
    pub percent: u64,
    /// Number of discard lines written for this trip.
    pub discarded: u64,
}

/// What a generated log contains.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Truth {
    /// Messages accepted during the log, bounces included: Exim `<=` lines; Postfix queue
    /// files created (smtpd, pickup, content-filter re-injection, bounce notifications).
    pub messages: u64,
    /// Arrival lines: Exim `<=`; Postfix qmgr `(queue active)` lines, which a deferred
    /// message logs again at each retry.
    pub arrival_lines: u64,
    pub totals: Counts,
    /// By clock hour `YYYY-MM-DDTHH` (hours without counted lines are absent).
    pub by_hour: BTreeMap<String, Counts>,
    /// By (sender domain, clock hour); the null sender is `<>`. Serialised as
    /// `{domain: {hour: counts}}`.
    #[serde(serialize_with = "nested_map")]
    pub by_sender_domain_hour: BTreeMap<(String, String), Counts>,
    /// The part of the counts above that a report keeps apart: in `deferred`, the deferrals
    /// that made no delivery attempt (Exim `defer (-54): retry time not reached`, Postfix
    /// `delivery temporarily suspended`); in `delivered`, the hand-offs to the content filter
    /// (Postfix `relay=127.0.0.1[127.0.0.1]:10024 … queued as NEWID`). The other counts are 0.
    pub apart: ApartTruth,
    /// cPanel trips in order (empty unless `cpanel`).
    pub trips: Vec<Trip>,
    /// The hosted (local) sender domains: the only ones the cPanel limit applies to.
    pub local_domains: Vec<String>,
    pub bytes: u64,
    pub lines: u64,
}

/// Adds one `k` at index `h`, growing the vector as needed.
fn add_at(v: &mut Vec<Counts>, h: usize, k: Count) {
    if v.len() <= h {
        v.resize(h + 1, Counts::default());
    }
    v[h].add(k);
}

pub(crate) fn nested_map<S: Serializer>(
    m: &BTreeMap<(String, String), Counts>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut outer: BTreeMap<&str, BTreeMap<&str, &Counts>> = BTreeMap::new();
    for ((d, h), c) in m {
        outer.entry(d.as_str()).or_default().insert(h.as_str(), c);
    }
    let mut map = s.serialize_map(Some(outer.len()))?;
    for (d, hours) in &outer {
        map.serialize_entry(d, hours)?;
    }
    map.end()
}

/// [`Truth::apart`]: the same three views as the main counts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ApartTruth {
    pub totals: Counts,
    pub by_hour: BTreeMap<String, Counts>,
    #[serde(serialize_with = "nested_map")]
    pub by_sender_domain_hour: BTreeMap<(String, String), Counts>,
}

/// The generator's running tally of [`ApartTruth`], by hour index and sender key.
#[derive(Debug, Clone, Default)]
pub(crate) struct Apart {
    totals: Counts,
    by_hour: Vec<Counts>,
    by_dom_hour: Vec<Vec<Counts>>,
}

#[derive(Clone, Copy)]
pub(crate) enum Count {
    Delivered,
    Deferred,
    Bounced,
    Rejected,
    Expired,
}

#[derive(Default, Clone, Copy)]
pub(crate) struct Tracker {
    pub(crate) hour: u32,
    pub(crate) ok: u64,
    pub(crate) df: u64,
    pub(crate) trip: Option<u32>,
    /// Day mode: the hour's deferrals and failures by scenario tag (0: background).
    pub(crate) by_scen: [u32; 8],
}

impl<W: Write> Gen<'_, W> {
    // -----------------------------------------------------------------------------------------
    // Truth

    pub(crate) fn hour_index(&self) -> u32 {
        ((self.now - BASE + self.start_hour_offset) / HOUR) as u32
    }

    /// Records one counted line; returns `Some(trip)` if this line tripped the cPanel limit.
    pub(crate) fn count(&mut self, k: Count, skey: u32) {
        let h = self.hour_index() as usize;
        self.totals.add(k);
        if self.by_hour.len() <= h {
            self.by_hour.resize(h + 1, Counts::default());
        }
        self.by_hour[h].add(k);
        let v = &mut self.by_dom_hour[skey as usize];
        if v.len() <= h {
            v.resize(h + 1, Counts::default());
        }
        v[h].add(k);
        if self.cpanel() && (skey as usize) < self.w.locals.len() {
            let scen = self.cur_scen as usize;
            let tr = self.tracker(skey as u16);
            match k {
                Count::Delivered => tr.ok += 1,
                Count::Deferred | Count::Bounced => {
                    tr.df += 1;
                    tr.by_scen[scen.min(7)] += 1;
                }
                _ => {}
            }
            let (ok, df, tripped) = (tr.ok, tr.df, tr.trip.is_some());
            if !tripped
                && matches!(k, Count::Deferred | Count::Bounced)
                && df >= self.cfg.limit_min
                && 100 * df >= self.cfg.limit_percent * (ok + df)
            {
                let percent = 100 * df / (ok + df);
                let idx = self.trips.len() as u32;
                let condition_at = self.iso_now();
                self.trips.push(Trip {
                    domain: self.w.locals[skey as usize].name.clone(),
                    hour: self.hour_key(h as u32),
                    condition_at,
                    tripped_at: None,
                    count: df,
                    percent,
                    discarded: 0,
                });
                self.trackers[skey as usize].trip = Some(idx);
                self.trip_causes.push(self.trackers[skey as usize].by_scen);
            }
        }
    }

    /// Records one counted line that a report keeps apart ([`Truth::apart`]): counted like
    /// any other line, and once more in the apart tally.
    pub(crate) fn count_apart(&mut self, k: Count, skey: u32) {
        self.count(k, skey);
        let h = self.hour_index() as usize;
        let a = &mut self.apart;
        a.totals.add(k);
        add_at(&mut a.by_hour, h, k);
        let key = skey as usize;
        if a.by_dom_hour.len() <= key {
            a.by_dom_hour.resize(key + 1, Vec::new());
        }
        add_at(&mut a.by_dom_hour[key], h, k);
    }

    /// Per-hour counts by hour key, and per (sender key, hour) counts by name and hour key.
    fn keyed(
        &self,
        by_hour: &[Counts],
        by_dom_hour: &[Vec<Counts>],
    ) -> (BTreeMap<String, Counts>, BTreeMap<(String, String), Counts>) {
        let mut hours = BTreeMap::new();
        for (h, c) in by_hour.iter().enumerate() {
            if !c.is_zero() {
                hours.insert(self.hour_key(h as u32), *c);
            }
        }
        let mut by_dom = BTreeMap::new();
        for (k, hs) in by_dom_hour.iter().enumerate() {
            for (h, c) in hs.iter().enumerate() {
                if !c.is_zero() {
                    by_dom.insert((self.w.keys[k].clone(), self.hour_key(h as u32)), *c);
                }
            }
        }
        (hours, by_dom)
    }

    /// The tracker of a hosted domain, reset at the top of each hour.
    pub(crate) fn tracker(&mut self, dom: u16) -> &mut Tracker {
        let h = self.hour_index();
        let tr = &mut self.trackers[dom as usize];
        if tr.hour != h {
            *tr = Tracker {
                hour: h,
                ..Tracker::default()
            };
        }
        tr
    }

    /// The active trip of a hosted domain in the current hour.
    pub(crate) fn active_trip(&mut self, dom: Option<u16>) -> Option<u32> {
        if !self.cpanel() {
            return None;
        }
        let d = dom?;
        self.tracker(d).trip
    }

    pub(crate) fn hour_key(&self, h: u32) -> String {
        let base = self.cfg.start - chrono::Duration::milliseconds(self.start_hour_offset as i64);
        (base + chrono::Duration::hours(h as i64))
            .format("%Y-%m-%dT%H")
            .to_string()
    }

    /// The current time as `YYYY-MM-DDTHH:MM:SS`.
    pub(crate) fn iso_now(&mut self) -> String {
        self.set_clock(self.now);
        let mut s = String::from_utf8_lossy(&self.ts_exim).into_owned();
        s.replace_range(10..11, "T");
        s
    }

    pub(crate) fn finish(mut self) -> io::Result<Truth> {
        self.out.write_all(&self.buf)?;
        self.flushed += self.buf.len() as u64;
        self.buf.clear();
        self.out.flush()?;
        let (by_hour, by_dom) = self.keyed(&self.by_hour, &self.by_dom_hour);
        let (apart_hour, apart_dom) = self.keyed(&self.apart.by_hour, &self.apart.by_dom_hour);
        Ok(Truth {
            messages: self.truth_messages,
            arrival_lines: self.arrival_lines,
            totals: self.totals,
            by_hour,
            by_sender_domain_hour: by_dom,
            apart: ApartTruth {
                totals: self.apart.totals,
                by_hour: apart_hour,
                by_sender_domain_hour: apart_dom,
            },
            trips: self.trips,
            local_domains: self.w.locals.iter().map(|l| l.name.clone()).collect(),
            bytes: self.flushed,
            lines: self.lines,
        })
    }
}
