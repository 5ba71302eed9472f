//! Table of Postfix message shapes with the event each must give. The lines are written for
//! these tests after the shapes Postfix writes and those seen in public corpora; names,
//! addresses and IDs are made up (example.com/net/org, RFC 5737 and RFC 3849 addresses).

use super::*;
use chrono::NaiveDate;

fn ts() -> Timestamp {
    Timestamp::new(
        NaiveDate::from_ymd_opt(2026, 11, 27)
            .unwrap()
            .and_hms_opt(10, 0, 1)
            .unwrap(),
        None,
    )
}

/// Expected `None`.
const NO: &str = "\u{0}";

struct Case {
    program: &'static str,
    msg: &'static str,
    kind: Kind,
    /// Fields to check: name and value (`NO` for `None`; numbers and flags as text).
    fields: &'static [(&'static str, &'static str)],
}

const fn case(
    program: &'static str,
    msg: &'static str,
    kind: Kind,
    fields: &'static [(&'static str, &'static str)],
) -> Case {
    Case {
        program,
        msg,
        kind,
        fields,
    }
}

fn field(e: &Event<'_>, name: &str) -> Option<String> {
    let s = |v: Option<&str>| v.map(str::to_string);
    match name {
        "queue_id" => s(e.queue_id),
        "sender" => s(e.sender),
        "recipient" => s(e.recipient),
        "orig" => s(e.original_recipient),
        "host" => s(e.host),
        "ip" => s(e.ip),
        "code" => e.code.map(|c| c.to_string()),
        "status" => s(e.status),
        "text" => s(e.text),
        "account" => s(e.account),
        "transport" => s(e.transport),
        "size" => e.size.map(|n| n.to_string()),
        "subject" => s(e.subject),
        "message_id" => s(e.message_id),
        "protocol" => s(e.protocol),
        "related_id" => s(e.related_id),
        "nrcpt" => e.nrcpt.map(|n| n.to_string()),
        "retry_not_due" => Some(e.retry_not_due.to_string()),
        "program" => s(e.program),
        other => panic!("unknown field {other}"),
    }
}

const SMTPD: &str = "postfix/smtpd";
const SMTP: &str = "postfix/smtp";
const CLEANUP: &str = "postfix/cleanup";
const QMGR: &str = "postfix/qmgr";
const SCREEN: &str = "postfix/postscreen";
const SUPER: &str = "postfix/postsuper";

#[rustfmt::skip]
const CASES: &[Case] = &[
    // ---- smtpd sessions --------------------------------------------------------------
    case(SMTPD, "connect from mail.example.com[192.0.2.10]", Kind::Connection,
        &[("host", "mail.example.com"), ("ip", "192.0.2.10"), ("queue_id", NO)]),
    case(SMTPD, "connect from unknown[2001:db8::7]", Kind::Connection,
        &[("host", "unknown"), ("ip", "2001:db8::7")]),
    case(SMTPD, "disconnect from mail.example.com[192.0.2.10] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4",
        Kind::Connection, &[("host", "mail.example.com"), ("ip", "192.0.2.10"),
        ("text", "disconnect from mail.example.com[192.0.2.10] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4")]),
    case(SMTPD, "disconnect from unknown[unknown] commands=0/0", Kind::Connection,
        &[("host", "unknown"), ("ip", NO)]),
    case(SMTPD, "lost connection after RCPT from dsl-7.example.net[198.51.100.23]", Kind::ProtocolError,
        &[("host", "dsl-7.example.net"), ("ip", "198.51.100.23"), ("text", "lost connection after RCPT")]),
    case(SMTPD, "lost connection after DATA (12345 bytes) from unknown[198.51.100.24]", Kind::ProtocolError,
        &[("text", "lost connection after DATA (12345 bytes)"), ("ip", "198.51.100.24")]),
    case(SMTPD, "timeout after END-OF-MESSAGE from relay.example.org[192.0.2.40]", Kind::ProtocolError,
        &[("text", "timeout after END-OF-MESSAGE"), ("host", "relay.example.org")]),
    case(SMTPD, "too many errors after AUTH from unknown[203.0.113.9]", Kind::ProtocolError,
        &[("text", "too many errors after AUTH"), ("ip", "203.0.113.9")]),
    // Postfix 3.10 prefixes these with NOQUEUE or the queue ID.
    case(SMTPD, "NOQUEUE: lost connection after CONNECT from unknown[192.0.2.66]", Kind::ProtocolError,
        &[("queue_id", NO), ("text", "lost connection after CONNECT"), ("ip", "192.0.2.66")]),
    case(SMTPD, "3D770111AF50: timeout after DATA (0 bytes) from client.example.net[198.51.100.5]",
        Kind::ProtocolError, &[("queue_id", "3D770111AF50"), ("text", "timeout after DATA (0 bytes)")]),
    case(SMTPD, "NOQUEUE: too many errors after RCPT from unknown[198.51.100.6]", Kind::ProtocolError,
        &[("queue_id", NO), ("ip", "198.51.100.6")]),
    case(SMTPD, "improper command pipelining after EHLO from unknown[192.0.2.9]: QUIT", Kind::ProtocolError,
        &[("ip", "192.0.2.9"), ("text", "improper command pipelining after EHLO")]),
    case(SMTPD, "SSL_accept error from unknown[192.0.2.44]: lost connection", Kind::ProtocolError,
        &[("ip", "192.0.2.44")]),
    case(SMTPD, "4F0A21C3B2: client=mail.example.com[192.0.2.10]", Kind::Client,
        &[("queue_id", "4F0A21C3B2"), ("host", "mail.example.com"), ("ip", "192.0.2.10"), ("account", NO)]),
    case(SMTPD, "4F0A21C3B3: client=unknown[192.0.2.11]:53321", Kind::Client,
        &[("host", "unknown"), ("ip", "192.0.2.11")]),
    case("postfix/submission/smtpd",
        "4F0A21C3B4: client=laptop.example.org[198.51.100.4], sasl_method=PLAIN, sasl_username=alice@example.org",
        Kind::Client, &[("account", "alice@example.org"), ("host", "laptop.example.org"),
        ("program", "postfix/submission/smtpd")]),
    case(SMTPD, "4F0A21C3B5: client=localhost[127.0.0.1], orig_queue_id=5C6A2E0F11, orig_client=relay.example.com[192.0.2.30]",
        Kind::Client, &[("related_id", "5C6A2E0F11"), ("host", "localhost"), ("ip", "127.0.0.1")]),
    case(SMTPD, "NOQUEUE: client=unknown[192.0.2.12]", Kind::Client, &[("queue_id", NO), ("ip", "192.0.2.12")]),
    case(SMTPD, "Anonymous TLS connection established from mail.example.com[192.0.2.10]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
        Kind::Info, &[("host", "mail.example.com"), ("ip", "192.0.2.10")]),
    case(SMTPD, "TLS connection established from old.example.com[192.0.2.13]: TLSv1 with cipher DHE-RSA-AES256-SHA (256/256 bits)",
        Kind::Info, &[("host", "old.example.com")]),
    case(SMTPD, "bare <LF> received after DATA from sloppy.example.net[198.51.100.8]", Kind::ProtocolError,
        &[("host", "sloppy.example.net")]),
    // ---- smtpd access decisions ------------------------------------------------------
    case(SMTPD, "NOQUEUE: reject: RCPT from unknown[203.0.113.50]: 554 5.7.1 <bob@example.net>: Relay access denied; from=<spam@example.com> to=<bob@example.net> proto=ESMTP helo=<friend>",
        Kind::Rejected, &[("queue_id", NO), ("code", "554"), ("status", "5.7.1"),
        ("text", "<bob@example.net>: Relay access denied"), ("sender", "spam@example.com"),
        ("recipient", "bob@example.net"), ("host", "unknown"), ("ip", "203.0.113.50"), ("protocol", "ESMTP")]),
    case(SMTPD, "NOQUEUE: reject: RCPT from bad.example.com[203.0.113.51]:40123: 554 5.7.1 Service unavailable; Client host [203.0.113.51] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/203.0.113.51; from=<x@example.com> to=<y@example.org> proto=ESMTP helo=<bad.example.com>",
        Kind::Rejected, &[("code", "554"), ("ip", "203.0.113.51"), ("recipient", "y@example.org"),
        ("text", "Service unavailable; Client host [203.0.113.51] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/203.0.113.51")]),
    case(SMTPD, "NOQUEUE: reject: MAIL from unknown[192.0.2.71]: 452 4.3.1 Insufficient system storage; proto=ESMTP helo=<h.example.com>",
        Kind::Rejected, &[("code", "452"), ("status", "4.3.1"), ("sender", NO), ("recipient", NO),
        ("text", "Insufficient system storage")]),
    case(SMTPD, "NOQUEUE: reject: CONNECT from unknown[192.0.2.14]: 554 5.7.1 Service unavailable; Client host [192.0.2.14] blocked using zen.spamhaus.org; proto=SMTP",
        Kind::Rejected, &[("code", "554"), ("protocol", "SMTP"), ("ip", "192.0.2.14")]),
    case(SMTPD, "NOQUEUE: reject: EHLO from x.example.net[198.51.100.15]: 504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname; proto=SMTP helo=<localhost>",
        Kind::Rejected, &[("code", "504"), ("status", "5.5.2")]),
    case(SMTPD, "NOQUEUE: reject: HELO from x.example.net[198.51.100.16]: 450 4.7.1 <x>: Helo command rejected: Host not found; proto=SMTP helo=<x>",
        Kind::Rejected, &[("code", "450")]),
    case(SMTPD, "NOQUEUE: reject: DATA from relay.example.net[198.51.100.17]: 550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce; from=<> to=<a@example.org> proto=ESMTP helo=<relay.example.net>",
        Kind::Rejected, &[("sender", ""), ("recipient", "a@example.org")]),
    case(SMTPD, "1A2B3C4D5E: reject: END-OF-MESSAGE from relay.example.net[198.51.100.18]: 552 5.3.4 Message size exceeds fixed limit; from=<big@example.net> to=<c@example.org> proto=ESMTP helo=<relay.example.net>",
        Kind::Rejected, &[("queue_id", "1A2B3C4D5E"), ("code", "552"), ("text", "Message size exceeds fixed limit")]),
    case(SMTPD, "NOQUEUE: reject: VRFY from probe.example.net[198.51.100.19]: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table; to=<nobody@example.org> proto=SMTP helo=<probe>",
        Kind::Rejected, &[("recipient", "nobody@example.org"), ("sender", NO)]),
    case(SMTPD, "NOQUEUE: reject: ETRN from probe.example.net[198.51.100.20]: 554 5.7.1 <example.com>: Etrn command rejected: Access denied; proto=ESMTP helo=<probe>",
        Kind::Rejected, &[("code", "554")]),
    case("postfix-in/smtpd", "4TwNdH5zwCz7fxV: reject: BDAT from signer.example.com[192.0.2.109]: 550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce; from=<> to=<d@example.org> proto=ESMTP helo=<signer.example.com>",
        Kind::Rejected, &[("queue_id", "4TwNdH5zwCz7fxV"), ("program", "postfix-in/smtpd")]),
    case(SMTPD, "NOQUEUE: defer: RCPT from mx.example.net[198.51.100.21]: 450 4.2.0 <e@example.org>: Recipient address rejected: Greylisted, see https://greylist.example/help; from=<f@example.net> to=<e@example.org> proto=ESMTP helo=<mx.example.net>",
        Kind::Rejected, &[("code", "450"), ("status", "4.2.0")]),
    case(SMTPD, "6C1A93F2B7: hold: RCPT from mx.example.net[198.51.100.22]: <g@example.org>: Recipient address triggers HOLD action; from=<h@example.net> to=<g@example.org> proto=ESMTP helo=<mx.example.net>",
        Kind::Frozen, &[("queue_id", "6C1A93F2B7"), ("code", NO), ("text", "<g@example.org>: Recipient address triggers HOLD action")]),
    case(SMTPD, "NOQUEUE: discard: MAIL from news.example.com[192.0.2.80]: <list@news.example.com>: Sender address triggers DISCARD action; from=<list@news.example.com> proto=ESMTP helo=<news.example.com>",
        Kind::Info, &[("sender", "list@news.example.com")]),
    case(SMTPD, "NOQUEUE: warn: RCPT from odd.example.com[192.0.2.81]: Suspicious client; from=<i@odd.example.com> to=<j@example.org> proto=ESMTP helo=<odd>",
        Kind::Info, &[("text", "Suspicious client")]),
    case(SMTPD, "NOQUEUE: filter: RCPT from in.example.com[192.0.2.82]: <in.example.com[192.0.2.82]>: Client host triggers FILTER smtp:[127.0.0.1]:10025; from=<k@example.com> to=<l@example.org> proto=ESMTP helo=<in.example.com>",
        Kind::Info, &[("text", "<in.example.com[192.0.2.82]>: Client host triggers FILTER smtp:[127.0.0.1]:10025"),
        ("host", "in.example.com")]),
    case(SMTPD, "D1E2F3A4B5: redirect: RCPT from in.example.com[192.0.2.83]: <m@example.org>: Recipient address triggers REDIRECT audit@example.org; from=<n@example.com> to=<m@example.org> proto=ESMTP helo=<in.example.com>",
        Kind::Info, &[("recipient", "m@example.org")]),
    case(SMTPD, "NOQUEUE: reject_warning: RCPT from unknown[198.51.100.30]: 450 4.7.1 Client host rejected: cannot find your hostname, [198.51.100.30]; from=<o@example.net> to=<p@example.org> proto=ESMTP helo=<q>",
        Kind::Info, &[("code", "450"), ("text", "Client host rejected: cannot find your hostname, [198.51.100.30]")]),
    // Postfix 3.10 appends the SASL login to the tail.
    case(SMTPD, "NOQUEUE: reject: RCPT from client.example.net[198.51.100.77]: 553 5.7.1 <ceo@example.com>: Sender address rejected: not owned by user bob; from=<ceo@example.com> to=<r@example.org> proto=ESMTP helo=<[198.51.100.77]> sasl_method=LOGIN sasl_username=bob",
        Kind::Rejected, &[("account", "bob"), ("sender", "ceo@example.com"), ("code", "553")]),
    // postscreen separates the tail fields with commas.
    case(SCREEN, "NOQUEUE: reject: RCPT from [203.0.113.60]:61234: 550 5.7.1 Service unavailable; client [203.0.113.60] blocked using bl.example.org; from=<s@example.net>, to=<t@example.org>, proto=ESMTP, helo=<spammer.example.net>",
        Kind::Rejected, &[("host", NO), ("ip", "203.0.113.60"), ("sender", "s@example.net"),
        ("recipient", "t@example.org"), ("protocol", "ESMTP"), ("code", "550"),
        ("text", "Service unavailable; client [203.0.113.60] blocked using bl.example.org")]),
    case(SCREEN, "NOQUEUE: reject: CONNECT from [203.0.113.61]:1337: too many connections",
        Kind::Rejected, &[("ip", "203.0.113.61"), ("code", NO), ("text", "too many connections")]),
    // ---- milters and before-queue proxies --------------------------------------------
    case(SMTPD, "NOQUEUE: milter-reject: RCPT from relay.example.com[192.0.2.90]: 451 4.7.1 Greylisting in action, please come back later; from=<u@example.com> to=<v@example.org> proto=ESMTP helo=<relay.example.com>",
        Kind::Rejected, &[("code", "451"), ("status", "4.7.1"), ("text", "Greylisting in action, please come back later")]),
    case(CLEANUP, "7F3E2D1C0B: milter-reject: END-OF-MESSAGE from relay.example.com[192.0.2.91]: 5.7.1 Spam message rejected; from=<w@example.com> to=<x@example.org> proto=ESMTP helo=<relay.example.com>",
        Kind::Rejected, &[("queue_id", "7F3E2D1C0B"), ("code", NO), ("status", "5.7.1"),
        ("text", "Spam message rejected"), ("sender", "w@example.com"), ("host", "relay.example.com")]),
    case(CLEANUP, "7F3E2D1C0C: milter-discard: END-OF-MESSAGE from relay.example.com[192.0.2.92]: milter triggers DISCARD action; from=<y@example.com> to=<z@example.org> proto=ESMTP helo=<relay.example.com>",
        Kind::Info, &[("text", "milter triggers DISCARD action")]),
    case(CLEANUP, "7F3E2D1C0D: milter-hold: END-OF-MESSAGE from relay.example.com[192.0.2.93]: milter triggers HOLD action; from=<y@example.com> to=<z@example.org> proto=ESMTP helo=<relay.example.com>",
        Kind::Frozen, &[("queue_id", "7F3E2D1C0D")]),
    case(SMTPD, "8A7B6C5D4E: proxy-reject: END-OF-MESSAGE: 554 5.7.0 Reject, id=12345-01 - spam; from=<aa@example.com> to=<bb@example.org> proto=ESMTP helo=<mx.example.com>",
        Kind::Rejected, &[("queue_id", "8A7B6C5D4E"), ("code", "554"), ("status", "5.7.0"), ("host", NO)]),
    case(SMTPD, "proxy-accept: END-OF-MESSAGE: 250 2.0.0 Ok: queued as 9B8C7D6E5F; from=<cc@example.com> to=<dd@example.org> proto=ESMTP helo=<mx.example.com>",
        Kind::Info, &[("related_id", "9B8C7D6E5F"), ("sender", "cc@example.com")]),
    // ---- warnings --------------------------------------------------------------------
    case(SMTPD, "warning: unknown[203.0.113.70]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
        Kind::AuthFailed, &[("host", "unknown"), ("ip", "203.0.113.70"), ("account", NO),
        ("text", "SASL LOGIN authentication failed: UGFzc3dvcmQ6")]),
    case(SMTPD, "warning: mx.example.net[203.0.113.71]: SASL PLAIN authentication failed: authentication failure, sasl_username=ee@example.org",
        Kind::AuthFailed, &[("account", "ee@example.org"), ("host", "mx.example.net")]),
    case(SMTPD, "warning: SASL authentication failure: cannot connect to saslauthd server: No such file or directory",
        Kind::Warning, &[("host", NO)]),
    case(SMTPD, "warning: hostname bad.example.net does not resolve to address 198.51.100.99: Name or service not known",
        Kind::Warning, &[("host", "bad.example.net"), ("ip", "198.51.100.99")]),
    case(SMTPD, "warning: 198.51.100.98: address not listed for hostname spoof.example.net",
        Kind::Warning, &[("host", "spoof.example.net"), ("ip", "198.51.100.98")]),
    case(SMTPD, "warning: 2001:db8::98: address not listed for hostname spoof6.example.net",
        Kind::Warning, &[("host", "spoof6.example.net"), ("ip", "2001:db8::98")]),
    case(SMTPD, "warning: 198.51.100.97: hostname dyn.example.net verification failed: Name or service not known",
        Kind::Warning, &[("host", "dyn.example.net"), ("ip", "198.51.100.97")]),
    case(SMTPD, "warning: non-SMTP command from unknown[192.0.2.200]: GET / HTTP/1.1",
        Kind::ProtocolError, &[("ip", "192.0.2.200")]),
    case(SMTPD, "warning: unknown[192.0.2.201] sent non-SMTP command: From: x",
        Kind::ProtocolError, &[("ip", "192.0.2.201")]),
    case(SMTPD, "warning: Connection rate limit exceeded: 42 from flood.example.net[192.0.2.202] for service smtp",
        Kind::Warning, &[("host", "flood.example.net"), ("ip", "192.0.2.202")]),
    case(SMTPD, "warning: TLS library problem: error:0A000102:SSL routines::unsupported protocol:ssl/statem/statem_srvr.c:1657:",
        Kind::Warning, &[("text", "warning: TLS library problem: error:0A000102:SSL routines::unsupported protocol:ssl/statem/statem_srvr.c:1657:")]),
    case("postfix/trivial-rewrite", "error: open database /etc/postfix/transport.db: No such file or directory",
        Kind::Warning, &[("text", "error: open database /etc/postfix/transport.db: No such file or directory")]),
    case("postfix/master", "fatal: bind 0.0.0.0 port 25: Address already in use", Kind::Warning, &[]),
    case("postfix/smtp", "panic: myfree: corrupt or unallocated memory block", Kind::Warning, &[]),
    case(CLEANUP, "warning: 5E4D3C2B1A: sender_canonical_maps map lookup problem for ff@example.com -- message not accepted, try again later",
        Kind::Warning, &[("queue_id", "5E4D3C2B1A")]),
    case(CLEANUP, "warning: dict_ldap_get_values[1]: DN uid=x,dc=example,dc=com not found, skipping",
        Kind::Warning, &[("host", NO), ("ip", NO)]),
    case("postfix/tlsmgr", "warning: request to update table btree:/var/lib/postfix/smtpd_scache in non-postfix directory /var/lib/postfix",
        Kind::Warning, &[]),
    // ---- cleanup ---------------------------------------------------------------------
    case(CLEANUP, "4F0A21C3B2: message-id=<20261127100001.GA1234@mail.example.com>", Kind::MessageId,
        &[("queue_id", "4F0A21C3B2"), ("message_id", "20261127100001.GA1234@mail.example.com")]),
    case(CLEANUP, "4F0A21C3B2: message-id=<>", Kind::MessageId, &[("message_id", "")]),
    case(CLEANUP, "4F0A21C3B2: message-id=local.part.without.brackets", Kind::MessageId,
        &[("message_id", "local.part.without.brackets")]),
    case(CLEANUP, "4F0A21C3B2: resent-message-id=<resent.1@example.com>", Kind::Info,
        &[("message_id", "resent.1@example.com")]),
    case(CLEANUP, "2B3C4D5E6F: reject: header Subject: You won a prize from bulk.example.net[203.0.113.66]; from=<promo@bulk.example.net> to=<gg@example.org> proto=ESMTP helo=<bulk.example.net>: 5.7.1 Spam not welcome",
        Kind::Rejected, &[("queue_id", "2B3C4D5E6F"), ("status", "5.7.1"), ("text", "Spam not welcome"),
        ("subject", "You won a prize"), ("sender", "promo@bulk.example.net"), ("recipient", "gg@example.org"),
        ("host", "bulk.example.net"), ("ip", "203.0.113.66"), ("protocol", "ESMTP")]),
    case(CLEANUP, "2B3C4D5E70: warning: header Subject: Quarterly figures (draft; v2) from local; from=<hh@example.org> to=<ii@example.org>",
        Kind::Info, &[("subject", "Quarterly figures (draft; v2)"), ("host", NO), ("sender", "hh@example.org"),
        ("text", "Subject: Quarterly figures (draft; v2)")]),
    case(CLEANUP, "2B3C4D5E71: hold: header X-Virus-Status: infected from relay.example.com[192.0.2.94]; from=<jj@example.com> to=<kk@example.org> proto=ESMTP helo=<relay.example.com>: quarantined",
        Kind::Frozen, &[("text", "quarantined"), ("host", "relay.example.com")]),
    case(CLEANUP, "2B3C4D5E72: discard: body Click here to unsubscribe from relay.example.com[192.0.2.95]; from=<ll@example.com> to=<mm@example.org> proto=ESMTP helo=<relay.example.com>: dropped by body_checks",
        Kind::Info, &[("text", "dropped by body_checks"), ("recipient", "mm@example.org")]),
    case(CLEANUP, "2B3C4D5E73: replace: header From: Sales <sales@example.com> from localhost[127.0.0.1]; from=<sales@example.com> to=<nn@example.org> proto=ESMTP helo=<localhost>: From: noreply@example.com",
        Kind::Info, &[("text", "From: noreply@example.com")]),
    case(CLEANUP, "2B3C4D5E74: removed (discarded)", Kind::Completed, &[("text", "discarded")]),
    case(CLEANUP, "2B3C4D5E75: canceled", Kind::Completed, &[("queue_id", "2B3C4D5E75")]),
    // ---- qmgr ------------------------------------------------------------------------
    case(QMGR, "4F0A21C3B2: from=<alice@example.org>, size=2345, nrcpt=2 (queue active)", Kind::Arrival,
        &[("sender", "alice@example.org"), ("size", "2345"), ("nrcpt", "2"), ("queue_id", "4F0A21C3B2")]),
    case(QMGR, "4F0A21C3B6: from=<>, size=3012, nrcpt=1 (queue active)", Kind::Arrival,
        &[("sender", ""), ("size", "3012"), ("nrcpt", "1")]),
    case(QMGR, "4F0A21C3B7: from=<Print Shop, Main Office>, size=999, nrcpt=1 (queue active)", Kind::Arrival,
        &[("sender", "Print Shop, Main Office"), ("size", "999")]),
    case(QMGR, "4F0A21C3B2: removed", Kind::Completed, &[("queue_id", "4F0A21C3B2"), ("text", NO)]),
    case(QMGR, "4F0A21C3B8: from=<oo@example.org>, status=expired, returned to sender", Kind::Expired,
        &[("sender", "oo@example.org"), ("text", "expired, returned to sender")]),
    case(QMGR, "4F0A21C3B9: from=<pp@example.org>, status=force-expired, returned to sender", Kind::Expired,
        &[("sender", "pp@example.org")]),
    case(QMGR, "4F0A21C3BA: skipped, still being delivered", Kind::Info, &[]),
    case(QMGR, "4F0A21C3BB: to=<qq@example.net>, relay=none, delay=4021, delays=4020/1/0/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to mx.example.net[203.0.113.5]:25: Connection refused)",
        Kind::Deferred, &[("retry_not_due", "true"), ("status", "4.4.1"), ("host", "mx.example.net"),
        ("ip", "203.0.113.5"), ("transport", "qmgr")]),
    // ---- delivery agents -------------------------------------------------------------
    case(SMTP, "4F0A21C3B2: to=<bob@example.net>, relay=mx.example.net[203.0.113.5]:25, delay=1.2, delays=0.1/0.01/0.4/0.7, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 7D8E9F0A1B)",
        Kind::Delivered, &[("recipient", "bob@example.net"), ("host", "mx.example.net"), ("ip", "203.0.113.5"),
        ("code", "250"), ("status", "2.0.0"), ("related_id", "7D8E9F0A1B"), ("transport", "smtp"),
        ("text", "250 2.0.0 Ok: queued as 7D8E9F0A1B"), ("retry_not_due", "false")]),
    case(SMTP, "4F0A21C3BC: to=<rr@example.org>, orig_to=<sales@example.org>, relay=127.0.0.1[127.0.0.1]:10024, delay=1.6, delays=1.2/0.03/0.03/0.28, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 4B7C12E0A3)",
        Kind::Delivered, &[("related_id", "4B7C12E0A3"), ("orig", "sales@example.org"), ("ip", "127.0.0.1")]),
    case(SMTP, "9D8C7B6A5F: to=<ss@example.org>, relay=127.0.0.1[127.0.0.1]:10024, delay=4, status=sent (250 2.6.0 Ok, id=12345-07, from MTA([127.0.0.1]:10025): 250 Ok: queued as 8C33D21F4)",
        Kind::Delivered, &[("related_id", "8C33D21F4"), ("status", "2.6.0"), ("code", "250")]),
    case(SMTP, "4F0A21C3BD: to=<nobody@example.net>, relay=mx.example.net[203.0.113.5]:25, delay=0.9, delays=0.1/0.01/0.5/0.3, dsn=5.1.1, status=bounced (host mx.example.net[203.0.113.5] said: 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))",
        Kind::Bounced, &[("code", "550"), ("status", "5.1.1"), ("recipient", "nobody@example.net"),
        ("text", "host mx.example.net[203.0.113.5] said: 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)")]),
    case(SMTP, "4F0A21C3BE: to=<tt@example.net>, relay=mx.example.net[203.0.113.5]:25, delay=2, delays=0.1/0/1/0.9, dsn=4.2.0, status=deferred (host mx.example.net[203.0.113.5] said: 450 4.2.0 <tt@example.net>: Recipient address rejected: Greylisted (in reply to RCPT TO command))",
        Kind::Deferred, &[("code", "450"), ("status", "4.2.0"), ("retry_not_due", "false")]),
    case(SMTP, "4F0A21C3BF: to=<uu@example.net>, relay=mx.example.net[203.0.113.5]:25, delay=1, delays=0.1/0/0.5/0.4, dsn=5.7.1, status=SOFTBOUNCE (host mx.example.net[203.0.113.5] said: 554 5.7.1 Rejected (in reply to end of DATA command))",
        Kind::Deferred, &[("code", "554"), ("status", "5.7.1")]),
    case(SMTP, "4F0A21C3C0: to=<vv@example.net>, relay=mx.example.net[203.0.113.5]:25, delay=0.3, delays=0.01/0/0.2/0.1, dsn=2.1.5, status=deliverable (250 2.1.5 Ok)",
        Kind::Info, &[("recipient", "vv@example.net"), ("code", "250")]),
    case(SMTP, "4F0A21C3C1: to=<ww@example.net>, relay=mx.example.net[203.0.113.5]:25, delay=0.3, delays=0.01/0/0.2/0.1, dsn=5.1.1, status=undeliverable (host mx.example.net[203.0.113.5] said: 550 5.1.1 No such user (in reply to RCPT TO command))",
        Kind::Info, &[("code", "550")]),
    case("postfix/error", "4F0A21C3C2: to=<xx@example.net>, relay=none, delay=0.01, delays=0.01/0/0/0, dsn=5.1.1, status=undeliverable-but-not-cached (User unknown in virtual alias table)",
        Kind::Info, &[("transport", "error")]),
    case("postfix/local", "5E6F7A8B9C: to=<yy@example.org>, orig_to=<postmaster@example.org>, relay=local, delay=0.05, delays=0.04/0/0/0.01, dsn=2.0.0, status=sent (delivered to mailbox)",
        Kind::Delivered, &[("orig", "postmaster@example.org"), ("host", "local"), ("ip", NO), ("transport", "local")]),
    case("postfix/local", "5E6F7A8B9D: to=<zz@example.org>, relay=local, delay=0, status=sent (forwarded as 6A7B8C9D0E)",
        Kind::Delivered, &[("related_id", "6A7B8C9D0E"), ("status", NO)]),
    case("postfix/local", "5E6F7A8B9E: to=<ab@example.org>, relay=local, delay=0.11, delays=0.1/0/0/0.01, dsn=5.1.1, status=bounced (unknown user: \"ab\")",
        Kind::Bounced, &[("text", "unknown user: \"ab\""), ("code", NO)]),
    // Postfix before 2.3: no dsn= and no delays=; the status comes from the reply.
    case(SMTP, "5E6F7A8B9F: to=<ac@example.net>, relay=mx.example.net[203.0.113.5], delay=3, status=bounced (host mx.example.net[203.0.113.5] said: 550 5.1.1 <ac@example.net>... User unknown (in reply to RCPT TO command))",
        Kind::Bounced, &[("status", "5.1.1"), ("code", "550")]),
    case(SMTP, "5E6F7A8BA0: to=<ad@example.net>, relay=mx.example.net[203.0.113.5]:25, conn_use=2, delay=0.5, delays=0.1/0/0.1/0.3, tls=may:encrypt, dsn=2.0.0, status=sent (250 2.0.0 OK)",
        Kind::Delivered, &[("status", "2.0.0"), ("host", "mx.example.net")]),
    case("postfix/lmtp", "5E6F7A8BA1: to=<ae@example.org>, relay=mail.example.org[private/dovecot-lmtp], delay=0.2, delays=0.1/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 <ae@example.org> Zx9rQm1aZ2cAAAB Saved)",
        Kind::Delivered, &[("host", "mail.example.org"), ("ip", NO), ("related_id", NO)]),
    case("postfix/pipe", "5E6F7A8BA2: to=<af@example.org>, relay=dovecot, delay=0.2, delays=0.1/0/0/0.1, dsn=2.0.0, status=sent (delivered via dovecot service)",
        Kind::Delivered, &[("host", "dovecot"), ("transport", "pipe")]),
    case("postfix/virtual", "5E6F7A8BA3: to=<ag@example.org>, relay=virtual, delay=0.2, delays=0.1/0/0/0.1, dsn=5.2.2, status=bounced (maildir delivery failed: Disk quota exceeded)",
        Kind::Bounced, &[("status", "5.2.2"), ("transport", "virtual")]),
    case("postfix/error", "5E6F7A8BA4: to=<ah@example.com>, relay=none, delay=0.01, delays=0.01/0/0/0, dsn=5.4.6, status=bounced (mail for example.com loops back to myself)",
        Kind::Bounced, &[("host", NO), ("status", "5.4.6")]),
    case("postfix/retry", "5E6F7A8BA5: to=<ai@example.net>, relay=none, delay=9000, delays=8999/1/0/0, dsn=4.4.3, status=deferred (Host or domain name not found. Name service error for name=example.net type=MX: Host not found, try again)",
        Kind::Deferred, &[("transport", "retry"), ("host", NO)]),
    case("postfix/discard", "5E6F7A8BA6: to=<aj@example.net>, relay=none, delay=0.05, delays=0.04/0/0/0, dsn=2.0.0, status=sent (example.net)",
        Kind::Delivered, &[("text", "example.net")]),
    case("postfix-out/relay", "5E6F7A8BA7: to=<ak@example.net>, relay=smarthost.example.com[192.0.2.25]:587, delay=1, delays=0.1/0/0.5/0.4, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 3F4E5D6C7B)",
        Kind::Delivered, &[("program", "postfix-out/relay"), ("transport", "relay"), ("related_id", "3F4E5D6C7B")]),
    case("mx-out/smtp", "5E6F7A8BA8: to=<\"Doe, Jane\"@example.net>, relay=mx.example.net[2001:db8::25]:25, delay=1, delays=0.1/0/0.5/0.4, dsn=2.0.0, status=sent (250 ok)",
        Kind::Delivered, &[("recipient", "\"Doe, Jane\"@example.net"), ("ip", "2001:db8::25"), ("program", "mx-out/smtp")]),
    case(SMTP, "5E6F7A8BA9: to=<al@example.net>, relay=none, delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to mx.example.net[203.0.113.5]:25: Connection timed out)",
        Kind::Deferred, &[("host", "mx.example.net"), ("ip", "203.0.113.5"), ("retry_not_due", "false"), ("code", NO)]),
    case(SMTP, "5E6F7A8BAA: to=<am@example.net>, relay=mx.example.net[203.0.113.5]:25, delay=1, delays=0.1/0/0.5/0.4, dsn=4.7.0, status=deferred (host mx.example.net[203.0.113.5] refused to talk to me: 421 4.7.0 Try again later)",
        Kind::Deferred, &[("code", "421"), ("status", "4.7.0")]),
    // CSV exports: trailing commas, doubled quotes.
    case(SMTP, "5E6F7A8BAB: to=an@example.net, relay=mx.example.net[203.0.113.5]:25, delay=1, delays=0.1/0/0.5/0.4, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 1C2D3E4F5A),,,,,,,,,,,,",
        Kind::Delivered, &[("recipient", "an@example.net"), ("related_id", "1C2D3E4F5A")]),
    case(SMTP, "5E6F7A8BAC: to=ao@example.net, relay=mx.example.net[203.0.113.5]:25, delay=1.4, delays=0.04/0/0.26/1.1, dsn=5.0.0,\" status=bounced (host mx.example.net[203.0.113.5] said: 550 No Such User Here\"\" (in reply to RCPT TO command))\",,,,,,,",
        Kind::Bounced, &[("status", "5.0.0"), ("code", "550"), ("recipient", "ao@example.net")]),
    case(QMGR, "4F0A21C3C3: removed,,,,,,,,,,,,", Kind::Completed, &[("queue_id", "4F0A21C3C3")]),
    // SMTP client notes that do not end the attempt.
    case(SMTP, "4F0A21C3C4: host mx1.example.net[203.0.113.6] said: 451 4.7.1 Please try again later (in reply to RCPT TO command)",
        Kind::Info, &[("host", "mx1.example.net"), ("ip", "203.0.113.6"), ("code", "451"), ("status", "4.7.1")]),
    case(SMTP, "4F0A21C3C5: host mx1.example.net[203.0.113.6] refused to talk to me: 554 5.7.1 Blocked",
        Kind::Info, &[("code", "554")]),
    case(SMTP, "4F0A21C3C6: lost connection with mx1.example.net[203.0.113.6] while receiving the initial server greeting",
        Kind::Info, &[("host", "mx1.example.net"), ("ip", "203.0.113.6")]),
    case(SMTP, "4F0A21C3C7: conversation with mx1.example.net[203.0.113.6] timed out while sending end of data -- message may be sent more than once",
        Kind::Info, &[("host", "mx1.example.net")]),
    case(SMTP, "connect to mx2.example.net[203.0.113.7]:25: Connection refused", Kind::Info,
        &[("host", "mx2.example.net"), ("ip", "203.0.113.7"), ("queue_id", NO)]),
    case(SMTP, "4F0A21C3C8: enabling PIX workarounds: disable_esmtp delay_dotcrlf for mx3.example.net[203.0.113.8]:25",
        Kind::Info, &[("host", "mx3.example.net")]),
    case(SMTP, "Verified TLS connection established to mx.example.net[203.0.113.5]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
        Kind::Info, &[("host", "mx.example.net"), ("ip", "203.0.113.5")]),
    case(SMTP, "Untrusted TLS connection established to mx.example.net[203.0.113.5]:25: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
        Kind::Info, &[("host", "mx.example.net")]),
    case(SMTP, "Trusted TLS connection established to mx.example.net[203.0.113.5]:25: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
        Kind::Info, &[("ip", "203.0.113.5")]),
    case(SMTP, "4F0A21C3C9: SASL authentication failed; server smarthost.example.com[192.0.2.25] said: 535 5.7.8 Error: authentication failed",
        Kind::Warning, &[("host", "smarthost.example.com"), ("code", "535")]),
    // ---- bounce ----------------------------------------------------------------------
    case("postfix/bounce", "4F0A21C3B2: sender non-delivery notification: 4F0A21C3D0", Kind::BounceNotice,
        &[("queue_id", "4F0A21C3B2"), ("related_id", "4F0A21C3D0"), ("text", "sender non-delivery notification")]),
    case("postfix/bounce", "4F0A21C3B2: sender delay notification: 4F0A21C3D1", Kind::BounceNotice,
        &[("related_id", "4F0A21C3D1")]),
    case("postfix/bounce", "4F0A21C3B2: sender delivery status notification: 4F0A21C3D2", Kind::BounceNotice,
        &[("related_id", "4F0A21C3D2")]),
    case("postfix/bounce", "4F0A21C3B2: postmaster non-delivery notification: 4F0A21C3D3", Kind::BounceNotice,
        &[("related_id", "4F0A21C3D3"), ("text", "postmaster non-delivery notification")]),
    case("postfix/bounce", "4F0A21C3B2: postmaster delay notification: 4F0A21C3D4", Kind::BounceNotice,
        &[("related_id", "4F0A21C3D4")]),
    case("postfix/bounce", "3Pt2mN2VXxznjll: sender non-delivery notification: 3Pt2mN4bcdzkjmn", Kind::BounceNotice,
        &[("queue_id", "3Pt2mN2VXxznjll"), ("related_id", "3Pt2mN4bcdzkjmn")]),
    case("postfix/bounce", "4F0A21C3B2: sender notification failed to <ap@example.com>: queue file write error",
        Kind::Warning, &[("recipient", "ap@example.com")]),
    // ---- pickup, postsuper -----------------------------------------------------------
    case("postfix/pickup", "6D7E8F9A0B: uid=1001 from=<www-data>", Kind::Client,
        &[("account", "uid=1001"), ("sender", "www-data"), ("queue_id", "6D7E8F9A0B")]),
    case(SUPER, "6D7E8F9A0B: removed", Kind::AdminRemoved, &[("queue_id", "6D7E8F9A0B")]),
    case(SUPER, "6D7E8F9A0B: requeued", Kind::Info, &[("queue_id", "6D7E8F9A0B")]),
    case(SUPER, "6D7E8F9A0B: placed on hold", Kind::Frozen, &[("queue_id", "6D7E8F9A0B")]),
    case(SUPER, "6D7E8F9A0B: released from hold", Kind::Unfrozen, &[("queue_id", "6D7E8F9A0B")]),
    case(SUPER, "Deleted: 12 messages", Kind::Info, &[("queue_id", NO)]),
    case(SUPER, "Requeued: 1 message", Kind::Info, &[]),
    case(SUPER, "Placed on hold: 3 messages", Kind::Info, &[]),
    case(SUPER, "Released from hold: 3 messages", Kind::Info, &[]),
    // ---- postscreen, dnsblog, tlsproxy -----------------------------------------------
    case(SCREEN, "CONNECT from [203.0.113.80]:51234 to [192.0.2.1]:25", Kind::Connection,
        &[("ip", "203.0.113.80"), ("host", NO)]),
    case(SCREEN, "PASS NEW [203.0.113.80]:51234", Kind::Screen, &[("ip", "203.0.113.80")]),
    case(SCREEN, "PASS OLD [2001:db8::80]:51235", Kind::Screen, &[("ip", "2001:db8::80")]),
    case(SCREEN, "DNSBL rank 5 for [203.0.113.81]:40000", Kind::Screen, &[("ip", "203.0.113.81")]),
    case(SCREEN, "PREGREET 11 after 0.1 from [203.0.113.82]:40001: EHLO x\\r\\n", Kind::Screen,
        &[("ip", "203.0.113.82")]),
    case(SCREEN, "HANGUP after 2.1 from [203.0.113.83]:40002 in tests before SMTP handshake", Kind::Screen,
        &[("ip", "203.0.113.83")]),
    case(SCREEN, "COMMAND PIPELINING from [203.0.113.84]:40003 after RCPT: DATA\\r\\n", Kind::Screen, &[]),
    case(SCREEN, "NON-SMTP COMMAND from [203.0.113.85]:40004 after CONNECT: GET / HTTP/1.0", Kind::Screen, &[]),
    case(SCREEN, "BARE NEWLINE from [203.0.113.86]:40005 after DATA", Kind::Screen, &[]),
    case(SCREEN, "COMMAND TIME LIMIT from [203.0.113.87]:40006 after RCPT", Kind::Screen, &[]),
    case(SCREEN, "COMMAND COUNT LIMIT from [203.0.113.87]:40007 after RCPT", Kind::Screen, &[]),
    case(SCREEN, "COMMAND LENGTH LIMIT from [203.0.113.87]:40008 after RCPT", Kind::Screen, &[]),
    case(SCREEN, "DISCONNECT [203.0.113.80]:51234", Kind::Connection, &[("ip", "203.0.113.80")]),
    case(SCREEN, "WHITELISTED [192.0.2.100]:40009", Kind::Screen, &[("ip", "192.0.2.100")]),
    case(SCREEN, "BLACKLISTED [203.0.113.88]:40010", Kind::Screen, &[]),
    case(SCREEN, "ALLOWLISTED [192.0.2.100]:40011", Kind::Screen, &[]),
    case(SCREEN, "DENYLISTED [203.0.113.88]:40012", Kind::Screen, &[]),
    case(SCREEN, "WHITELIST VETO [192.0.2.101]:40013", Kind::Screen, &[]),
    case(SCREEN, "ALLOWLIST VETO [192.0.2.101]:40014", Kind::Screen, &[]),
    case(SCREEN, "entering STRESS mode with 70 connections", Kind::Info, &[]),
    case(SCREEN, "leaving STRESS mode with 20 connections", Kind::Info, &[]),
    case(SCREEN, "cache btree:/var/lib/postfix/postscreen_cache full cleanup: retained=12 dropped=3 entries",
        Kind::Info, &[]),
    case(SCREEN, "warning: dnsblog reply timeout 10s for bl.example.org", Kind::Warning, &[]),
    case("postfix/dnsblog", "addr 203.0.113.81 listed by domain bl.example.org as 127.0.0.2", Kind::Info,
        &[("ip", "203.0.113.81")]),
    case("postfix/tlsproxy", "CONNECT from [203.0.113.89]:40015", Kind::Connection, &[("ip", "203.0.113.89")]),
    case("postfix/tlsproxy", "TLS handshake failed for service=smtpd peer=[203.0.113.90]:40016", Kind::Info, &[("ip", "203.0.113.90")]),
    case("postfix/tlsproxy", "DISCONNECT [203.0.113.89]:40015", Kind::Connection, &[]),
    // ---- statistics, daemons, verbose output -----------------------------------------
    case("postfix/anvil", "statistics: max connection rate 8/60s for (smtp:198.51.100.90) at Nov 27 09:58:40",
        Kind::Info, &[("ip", "198.51.100.90")]),
    case("postfix/anvil", "statistics: max connection count 3 for (smtpd:2001:db8::91) at Nov 27 09:58:40",
        Kind::Info, &[("ip", "2001:db8::91")]),
    case("postfix/anvil", "statistics: max cache size 26 at Nov 27 09:58:40", Kind::Info, &[("ip", NO)]),
    case("postfix/anvil", "statistics: max connection count 1 for (127.0.0.1:2525:192.0.2.55) at Nov 27 09:58:40",
        Kind::Info, &[("ip", "192.0.2.55")]),
    case("postfix/anvil", "statistics: max connection rate 1/60s for (smtp:unknown) at Nov 27 09:58:40",
        Kind::Info, &[("ip", NO)]),
    case("postfix/scache", "statistics: domain lookup hits=18 miss=39 success=31%", Kind::Info, &[]),
    case("postfix/scache", "statistics: start interval Nov 27 09:40:09", Kind::Info, &[]),
    case("postfix/master", "daemon started -- version 3.8.6, configuration /etc/postfix", Kind::Info, &[]),
    case("postfix/master", "reload -- version 3.8.6, configuration /etc/postfix", Kind::Info, &[]),
    case("postfix/master", "terminating on signal 15", Kind::Info, &[]),
    case("postfix/postfix-script", "starting the Postfix mail system", Kind::Info, &[]),
    case(QMGR, "qmgr_active_feed: deferred/4/4F0A21C3B2", Kind::Info, &[("queue_id", NO)]),
    case(SMTPD, "input attribute name: status", Kind::Info, &[]),
    case(SMTPD, "send attr sender = a@example.com", Kind::Info, &[]),
    case(QMGR, "private/rewrite socket: wanted attribute: flags", Kind::Info, &[]),
    case(SMTPD, "> client.example.net[192.0.2.3]: 250 2.1.0 Ok", Kind::Info, &[]),
    case(SMTPD, "< client.example.net[192.0.2.3]: RCPT TO:<a@example.org>", Kind::Info, &[]),
    case(SMTPD, "dict_proxy_lookup: table=unix:passwd.byname flags=lock|fold_fix key=a -> status=1 result=", Kind::Info, &[]),
    case(SMTPD, "unknown_address_tempfail_action = defer_if_permit", Kind::Info, &[]),
];

fn check(c: &Case) {
    let Some(e) = parse(ts(), c.program, c.msg) else {
        panic!("not understood: {}", c.msg);
    };
    assert_eq!(e.kind, c.kind, "kind of {}", c.msg);
    assert_eq!(e.mta, Mta::Postfix);
    assert_eq!(e.program, Some(c.program), "program of {}", c.msg);
    assert_eq!(e.time, ts());
    for (name, want) in c.fields {
        let want = if *want == NO {
            None
        } else {
            Some(want.to_string())
        };
        assert_eq!(field(&e, name), want, "{name} of {}", c.msg);
    }
}

#[test]
fn every_line_shape_gives_its_event() {
    for c in CASES {
        check(c);
    }
}

#[test]
fn unknown_and_damaged_messages_are_not_understood() {
    for (program, msg) in [
        (SMTPD, ""),
        (SMTPD, "   ,,,"),
        (SMTPD, "something entirely different"),
        (QMGR, "4F0A21C3B2: removedo"),
        (SMTP, "4F0A21C3B2: to=<cut@example.net>, "),
        (SMTP, "4F0A21C3B2: a line nobody writes"),
        (SMTPD, "NOQUEUE: reject: RCPT from nowhere"),
        (QMGR, "4F0A21C3B2: from=<only@example.org>"),
    ] {
        assert!(parse(ts(), program, msg).is_none(), "{msg}");
    }
}

#[test]
fn queue_ids_short_long_and_noqueue() {
    let cases = [
        ("4F0A21: removed", Some("4F0A21")),
        ("3D770111AF50: removed", Some("3D770111AF50")),
        ("4TwNdH5zwCz7fxV: removed", Some("4TwNdH5zwCz7fxV")),
        ("3Pt2mN2VXxznjll: removed", Some("3Pt2mN2VXxznjll")),
    ];
    for (msg, id) in cases {
        let e = parse(ts(), QMGR, msg).unwrap();
        assert_eq!(e.queue_id, id, "{msg}");
        assert_eq!(e.kind, Kind::Completed);
    }
    // Too short, lower-case hex, and words are not queue IDs.
    for msg in [
        "4F0A2: removed",
        "4f0a21c3b2: removed",
        "Statistics: removed",
    ] {
        assert!(parse(ts(), QMGR, msg).is_none(), "{msg}");
    }
}

#[test]
fn service_is_the_last_tag_component() {
    for program in [
        "postfix/smtp",
        "postfix-out/smtp",
        "postfix/submission/smtp",
        "mx-out/smtp",
        "smtp",
    ] {
        let e = parse(
            ts(),
            program,
            "4F0A21C3B2: to=<a@example.net>, relay=none, delay=1, delays=1/0/0/0, dsn=4.4.1, status=deferred (connect to mx.example.net[203.0.113.5]:25: Connection refused)",
        )
        .unwrap();
        assert_eq!(e.transport, Some("smtp"), "{program}");
        assert_eq!(e.program, Some(program));
    }
    // Only postsuper's `removed` is an administrator's deletion.
    assert_eq!(
        parse(ts(), "postfix-out/postsuper", "4F0A21C3B2: removed")
            .unwrap()
            .kind,
        Kind::AdminRemoved
    );
    assert_eq!(
        parse(ts(), "postfix-out/qmgr", "4F0A21C3B2: removed")
            .unwrap()
            .kind,
        Kind::Completed
    );
}

/// Every prefix and suffix of every message in the table (and some multi-byte text) goes
/// through the parser without a panic.
#[test]
fn garbage_never_panics() {
    let mut msgs: Vec<&str> = CASES.iter().map(|c| c.msg).collect();
    msgs.extend([
        "4F0A21C3B2: to=<ü@exämple.net>, relay=mx.exämple.net[203.0.113.5]:25, delay=1, dsn=5.1.1, status=bounced (host mx.exämple.net[203.0.113.5] said: 550 5.1.1 ☃ (in reply to RCPT TO command))",
        "NOQUEUE: reject: RCPT from ☃[203.0.113.5]: 554 5.7.1 ☃; from=<☃> to=<☃> proto=ESMTP helo=<☃>",
        "warning: ☃[1.2.3.4]: SASL LOGIN authentication failed: ☃, sasl_username=☃",
        "4F0A21C3B2: reject: header Subject: ☃ from ☃[1.2.3.4]; from=<☃> to=<☃>: ☃",
        "[[[[]]]]: <<<>>> ;;; from=< to=< ( ) said: 5",
    ]);
    let programs = [
        SMTPD,
        SMTP,
        CLEANUP,
        QMGR,
        SCREEN,
        SUPER,
        "postfix/postfix-script",
    ];
    // Long hostile lines (the line reader allows 64 KiB): each must stay one pass.
    let long = [
        format!(
            "4F0A21C3B2: to=<a@b>, relay=none, delay=1, status=deferred ({}",
            "x[".repeat(30_000)
        ),
        format!("NOQUEUE: reject: RCPT from {}", " from x[".repeat(8_000)),
        format!("4F0A21C3B2: reject: header {}", ";; from=<".repeat(6_000)),
        format!("warning: {}", "[1.2.3.4 ".repeat(7_000)),
    ];
    for msg in &long {
        for program in programs {
            let _ = parse(ts(), program, msg);
        }
    }
    for msg in msgs {
        for (i, _) in msg.char_indices().chain([(msg.len(), ' ')]) {
            for program in programs {
                let _ = parse(ts(), program, &msg[..i]);
                let _ = parse(ts(), program, &msg[i..]);
            }
        }
    }
}
