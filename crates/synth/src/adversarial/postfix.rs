//! Postfix lines of the adversarial generator.

use std::io::Write;

use crate::output::fmt_delay;
use crate::reply::{Stage, confirmation};

use super::lines::{Lines, postfix_id};
use super::plan::{Fate, Msg};

const LMTP_RELAY: &str = "mx1.example.com[private/dovecot-lmtp]";
const QMGR: u64 = 1120;

/// smtpd's `client=`, cleanup's `message-id=` and qmgr's `from=`.
pub(super) fn arrival<W: Write>(l: &mut Lines<W>, m: &Msg) {
    let qid = postfix_id(2 * m.i);
    let k = m.tag % 8;
    let c = &m.client;
    match (&m.auth, &c.host) {
        (Some((acct, _)), _) => {
            l.syslog("postfix/submission/smtpd", 25000 + k);
            let _ = write!(
                l.buf,
                "{qid}: client=unknown[{}], sasl_method=PLAIN, sasl_username={acct}",
                c.ip
            );
        }
        (None, host) => {
            l.syslog("postfix/smtpd", 21000 + k);
            let host = host.as_deref().unwrap_or("unknown");
            let _ = write!(l.buf, "{qid}: client={host}[{}]", c.ip);
        }
    }
    l.end();
    l.syslog("postfix/cleanup", 22000 + k);
    let _ = write!(
        l.buf,
        "{qid}: message-id=<{:016x}@{}>",
        m.tag,
        m.sender_domain()
    );
    l.end();
    queue_active(l, &qid, &m.sender, m.size);
}

fn queue_active<W: Write>(l: &mut Lines<W>, qid: &str, from: &str, size: u32) {
    l.syslog("postfix/qmgr", QMGR);
    let _ = write!(
        l.buf,
        "{qid}: from=<{from}>, size={size}, nrcpt=1 (queue active)"
    );
    l.end();
}

fn removed<W: Write>(l: &mut Lines<W>, qid: &str) {
    l.syslog("postfix/qmgr", QMGR);
    let _ = write!(l.buf, "{qid}: removed");
    l.end();
}

/// The delivery line(s) and, unless deferred, `removed`; a bounce message for `Bounced`.
pub(super) fn outcome<W: Write>(l: &mut Lines<W>, m: &mut Msg) {
    let qid = postfix_id(2 * m.i);
    match m.fate {
        Fate::Deferred(_) => refused(l, m, &qid, "deferred"),
        Fate::DeliveredLocal => {
            let to = m.rcpt.clone();
            lmtp_sent(l, m, &qid, &to);
            removed(l, &qid);
        }
        Fate::DeliveredRemote => {
            remote_sent(l, m, &qid);
            removed(l, &qid);
        }
        Fate::Bounced => {
            refused(l, m, &qid, "bounced");
            bounce(l, m, &qid);
        }
    }
}

/// `delay=D, delays=a/b/c/d, ` for a message that arrived at `m.arrived_ms`.
fn delays<W: Write>(l: &mut Lines<W>, m: &mut Msg) {
    let total = l.now_ms.saturating_sub(m.arrived_ms);
    let conn = m.rng.range(100, 700).min(total / 3);
    let xfer = m.rng.range(20, 400).min(total / 3);
    let b = 10.min(total / 10);
    let a = total - b - conn - xfer;
    l.s("delay=");
    fmt_delay(&mut l.buf, total);
    l.s(", delays=");
    for (n, part) in [a, b, conn, xfer].into_iter().enumerate() {
        if n > 0 {
            l.buf.push(b'/');
        }
        fmt_delay(&mut l.buf, part);
    }
    l.s(", ");
}

fn lmtp_sent<W: Write>(l: &mut Lines<W>, m: &mut Msg, qid: &str, to: &str) {
    l.syslog("postfix/lmtp", 30000 + m.tag % 8);
    let _ = write!(l.buf, "{qid}: to=<{to}>, relay={LMTP_RELAY}, ");
    delays(l, m);
    let _ = write!(
        l.buf,
        "dsn=2.0.0, status=sent (250 2.0.0 <{to}> {:016x} Saved)",
        m.rng.next_u64()
    );
    l.end();
}

fn remote_sent<W: Write>(l: &mut Lines<W>, m: &mut Msg, qid: &str) {
    let r = m.remote.as_ref().expect("remote recipient");
    let (p, mx, ip) = (r.provider, r.mx.clone(), r.ip.clone());
    let (iso, epoch) = (l.iso(), l.epoch_at(l.now_ms));
    let sdom = m.sender_domain().to_string();
    let conf = confirmation(&mut m.rng, p, epoch, m.tag, &iso, &sdom);
    l.syslog("postfix/smtp", 20000 + m.tag % 64);
    let _ = write!(l.buf, "{qid}: to=<{}>, relay={mx}[{ip}]:25, ", m.rcpt);
    delays(l, m);
    let _ = write!(l.buf, "dsn=2.0.0, status=sent ({conf})");
    l.end();
}

/// `status=deferred` or `status=bounced` with the remote server's reply.
fn refused<W: Write>(l: &mut Lines<W>, m: &mut Msg, qid: &str, status: &str) {
    let iso = l.iso();
    let rep = m.reply(&iso);
    let r = m.remote.as_ref().expect("remote recipient");
    let (mx, ip) = (r.mx.clone(), r.ip.clone());
    l.syslog("postfix/smtp", 20000 + m.tag % 64);
    let _ = write!(l.buf, "{qid}: to=<{}>, relay={mx}[{ip}]:25, ", m.rcpt);
    delays(l, m);
    let text = rep.text.replace("\\n", " ");
    let _ = write!(l.buf, "dsn={}, status={status} (host {mx}[{ip}] ", rep.dsn);
    let cmd = match rep.stage {
        Stage::Connect => {
            let _ = write!(l.buf, "refused to talk to me: {text})");
            l.end();
            return;
        }
        Stage::Mail => "MAIL FROM",
        Stage::Data => "end of DATA",
        Stage::Rcpt => "RCPT TO",
    };
    let _ = write!(l.buf, "said: {text} (in reply to {cmd} command))");
    l.end();
}

/// The non-delivery notification back to the hosted sender, delivered by LMTP.
fn bounce<W: Write>(l: &mut Lines<W>, m: &mut Msg, parent: &str) {
    let bqid = postfix_id(2 * m.i + 1);
    let k = m.tag % 4;
    let stamp = l.compact();
    l.syslog("postfix/cleanup", 22000 + k);
    let _ = write!(l.buf, "{bqid}: message-id=<{stamp}.{bqid}@mx1.example.com>");
    l.end();
    l.syslog("postfix/bounce", 23000 + k);
    let _ = write!(l.buf, "{parent}: sender non-delivery notification: {bqid}");
    l.end();
    queue_active(l, &bqid, "", m.size.min(60_000) + 2400);
    removed(l, parent);
    let to = m.sender.clone();
    lmtp_sent(l, m, &bqid, &to);
    removed(l, &bqid);
}
