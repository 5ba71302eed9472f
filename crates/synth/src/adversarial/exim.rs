//! cPanel Exim lines of the adversarial generator.

use std::io::Write;

use crate::reply::{Stage, cipher, confirmation};
use crate::{domain_of, local_of};

use super::lines::{Lines, exim_id};
use super::plan::{Fate, Msg};

const CIPHER_IN: &str = "TLS1.3:TLS_AES_256_GCM_SHA384:256";

fn id_of<W: Write>(l: &Lines<W>, m: &Msg) -> String {
    exim_id(l.epoch_at(m.arrived_ms), m.arrived_ms, 2 * m.i)
}

/// `<=` (and `Sender identification` for an authenticated sender).
pub(super) fn arrival<W: Write>(l: &mut Lines<W>, m: &Msg) {
    let id = id_of(l, m);
    let sdom = m.sender_domain();
    let c = &m.client;
    l.exim();
    let _ = write!(l.buf, "{id} <= {} H=", m.sender);
    match &c.host {
        Some(h) => {
            let _ = write!(l.buf, "{h} [{}]:{} P=esmtps", c.ip, c.port);
        }
        None => {
            let _ = write!(l.buf, "({}) [{}]:{} P=esmtpsa", c.helo, c.ip, c.port);
        }
    }
    let _ = write!(l.buf, " X={CIPHER_IN} CV=no");
    if let Some((acct, _)) = &m.auth {
        let _ = write!(l.buf, " A=dovecot_login:{acct}");
    }
    let _ = write!(
        l.buf,
        " S={} id={:016x}@{sdom} T=\"{}\" for {}",
        m.size, m.tag, m.subject, m.rcpt
    );
    l.end();
    if let Some((_, cpuser)) = &m.auth {
        l.exim();
        let _ = write!(
            l.buf,
            "{id} Sender identification U={cpuser} D={sdom} S={}",
            m.sender
        );
        l.end();
    }
}

/// `==`, `=>` with `Completed`, or `**` with the bounce message and `Completed`.
pub(super) fn outcome<W: Write>(l: &mut Lines<W>, m: &mut Msg) {
    let id = id_of(l, m);
    match m.fate {
        Fate::Deferred(_) => refused(l, m, &id, "=="),
        Fate::DeliveredLocal => {
            local_delivery(l, &id, &m.rcpt);
            completed(l, &id);
        }
        Fate::DeliveredRemote => {
            remote_delivery(l, m, &id);
            completed(l, &id);
        }
        Fate::Bounced => {
            refused(l, m, &id, "**");
            bounce(l, m, &id);
            completed(l, &id);
        }
    }
}

fn completed<W: Write>(l: &mut Lines<W>, id: &str) {
    l.exim();
    let _ = write!(l.buf, "{id} Completed");
    l.end();
}

fn local_delivery<W: Write>(l: &mut Lines<W>, id: &str, to: &str) {
    l.exim();
    let _ = write!(
        l.buf,
        "{id} => {} <{to}> R=virtual_user T=dovecot_virtual_delivery",
        local_of(to)
    );
    l.end();
}

fn remote_delivery<W: Write>(l: &mut Lines<W>, m: &mut Msg, id: &str) {
    let r = m.remote.as_ref().expect("remote recipient");
    let (p, mx, ip) = (r.provider, r.mx.clone(), r.ip.clone());
    let iso = l.iso();
    let epoch = l.epoch_at(l.now_ms);
    let conf = confirmation(&mut m.rng, p, epoch, m.tag, &iso, domain_of(&m.sender));
    l.exim();
    let _ = write!(
        l.buf,
        "{id} => {} R=dkim_lookuphost T=dkim_remote_smtp H={mx} [{ip}]",
        m.rcpt
    );
    if let Some(x) = cipher(p, m.tag) {
        let _ = write!(l.buf, " X={x} CV=yes");
    }
    let _ = write!(l.buf, " C=\"{conf}\"");
    l.end();
}

/// A deferral (`==`) or a permanent failure (`**`) with the remote server's reply.
fn refused<W: Write>(l: &mut Lines<W>, m: &mut Msg, id: &str, flag: &str) {
    let iso = l.iso();
    let rep = m.reply(&iso);
    let r = m.remote.as_ref().expect("remote recipient");
    l.exim();
    let _ = write!(
        l.buf,
        "{id} {flag} {} R=dkim_lookuphost T=dkim_remote_smtp",
        m.rcpt
    );
    if flag == "==" {
        let errno = match rep.stage {
            Stage::Rcpt => -44,
            Stage::Mail => -45,
            Stage::Data => -46,
            Stage::Connect => 0,
        };
        let _ = write!(l.buf, " defer ({errno}) H={} [{}]: ", r.mx, r.ip);
    } else {
        let _ = write!(l.buf, " H={} [{}]", r.mx, r.ip);
        if let (true, Some(x)) = (rep.stage != Stage::Connect, cipher(r.provider, m.tag)) {
            let _ = write!(l.buf, " X={x} CV=yes");
        }
        l.s(": ");
    }
    l.s("SMTP error from remote mail server after ");
    match rep.stage {
        Stage::Connect => l.s("initial connection"),
        Stage::Mail => {
            let _ = write!(l.buf, "MAIL FROM:<{}> SIZE={}", m.sender, m.size + 420);
        }
        Stage::Rcpt => {
            let _ = write!(l.buf, "RCPT TO:<{}>", m.rcpt);
        }
        Stage::Data => l.s("end of data"),
    }
    let _ = write!(l.buf, ": {}", rep.text);
    l.end();
}

/// The bounce message back to the hosted sender, delivered locally.
fn bounce<W: Write>(l: &mut Lines<W>, m: &Msg, parent: &str) {
    let bid = exim_id(l.epoch_at(l.now_ms), l.now_ms, 2 * m.i + 1);
    l.exim();
    let _ = write!(
        l.buf,
        "{bid} <= <> R={parent} U=mailnull P=local S={} T=\"Mail delivery failed: returning message to sender\" for {}",
        m.size.min(60_000) + 2400,
        m.sender
    );
    l.end();
    local_delivery(l, &bid, &m.sender);
    completed(l, &bid);
}
