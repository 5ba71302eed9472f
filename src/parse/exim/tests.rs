//! Table tests for the Exim parser.

use super::delivery::cpanel_limit;
use super::fields::smtp_code;
use super::*;

use crate::model::event::LimitKind;

/// Parses a whole mainlog line: timestamp prefix, then [`parse`].
fn p(line: &str) -> Option<Event<'_>> {
    let (ts, rest) = crate::parse::time::exim_prefix(line).expect("timestamp");
    parse(ts, rest)
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "~".to_string(), |x| x.to_string())
}

/// One field of an event as text; `~` is `None`.
fn field(e: &Event<'_>, name: &str) -> String {
    match name {
        "kind" => e.kind.as_str().to_string(),
        "queue_id" => opt(e.queue_id),
        "sender" => opt(e.sender),
        "recipient" => opt(e.recipient),
        "original_recipient" => opt(e.original_recipient),
        "host" => opt(e.host),
        "ip" => opt(e.ip),
        "code" => opt(e.code),
        "status" => opt(e.status),
        "text" => opt(e.text),
        "account" => opt(e.account),
        "router" => opt(e.router),
        "transport" => opt(e.transport),
        "size" => opt(e.size),
        "subject" => opt(e.subject),
        "message_id" => opt(e.message_id),
        "protocol" => opt(e.protocol),
        "related_id" => opt(e.related_id),
        "recipients" => opt(e.recipients),
        "domain" => opt(e.domain),
        "retry_not_due" => e.retry_not_due.to_string(),
        "limit" => opt(e.limit.map(|l| {
            format!(
                "{:?} {} {}/{} {}%",
                l.kind,
                opt(l.domain),
                opt(l.count),
                opt(l.max),
                opt(l.percent)
            )
        })),
        other => panic!("unknown field {other}"),
    }
}

/// Checks `line` against `want`: `(field, value)` pairs; a field name ending in `^` compares
/// a prefix. Fields not named are not checked.
#[track_caller]
fn check(line: &str, kind: Kind, want: &[(&str, &str)]) {
    let e = p(line).unwrap_or_else(|| panic!("not recognised: {line}"));
    assert_eq!(e.mta, Mta::Exim);
    assert_eq!(e.kind, kind, "kind of {line}\n{e:?}");
    for (name, value) in want {
        if let Some(name) = name.strip_suffix('^') {
            let got = field(&e, name);
            assert!(
                got.starts_with(value),
                "{name} of {line}\n got: {got}\nwant prefix: {value}"
            );
        } else {
            assert_eq!(field(&e, name), *value, "{name} of {line}");
        }
    }
}

const ID: &str = "1tWx9Q-00000000Aq3-4kZ1";
const OLD: &str = "1rAbCd-0001AB-Ef";

#[test]
fn message_ids_in_both_forms_and_pid_prefix() {
    assert_eq!(split_id(ID).0, Some(ID));
    assert_eq!(split_id(OLD).0, Some(OLD));
    assert_eq!(
        split_id("1rAbCd-0001AB-Ef Completed"),
        (Some(OLD), "Completed")
    );
    assert_eq!(split_id("1rAbCd-0001AB-E Completed").0, None);
    assert_eq!(split_id("1rAbCd-0001AB-Efg Completed").0, None);
    assert_eq!(split_id("1tWx9Q-00000000Aq3-4kZ").0, None);
    assert_eq!(split_id("SMTP connection from x").0, None);
    assert_eq!(strip_pid("[12345] rest"), "rest");
    assert_eq!(strip_pid("[ip] rest"), "[ip] rest");
    check(
        "2026-03-01 10:00:01 [12345] 1tWx9Q-00000000Aq3-4kZ1 Completed",
        Kind::Completed,
        &[("queue_id", ID)],
    );
    check(
        "2026-03-01 10:00:01.712 +0100 [9] 1rAbCd-0001AB-Ef Completed QT=2s",
        Kind::Completed,
        &[("queue_id", OLD)],
    );
}

#[test]
fn arrivals() {
    check(
        "2026-03-01 10:00:01 1tWx9Q-00000000Aq3-4kZ1 <= info@shop.example H=mail.shop.example (shop.example) [203.0.113.9]:51234 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_login:info@shop.example S=4521 id=inv.2026.03@shop.example T=\"Invoice \\\"March\\\" for you\" from <info@shop.example> for a@remote.example b@remote.example",
        Kind::Arrival,
        &[
            ("queue_id", ID),
            ("sender", "info@shop.example"),
            ("host", "mail.shop.example"),
            ("ip", "203.0.113.9"),
            ("protocol", "esmtpsa"),
            ("account", "info@shop.example"),
            ("size", "4521"),
            ("message_id", "inv.2026.03@shop.example"),
            ("subject", "Invoice \\\"March\\\" for you"),
            ("recipients", "a@remote.example b@remote.example"),
            ("related_id", "~"),
        ],
    );
    // Local submission: U= is the account.
    check(
        "2026-03-01 10:00:02 1rAbCd-0001AB-Ef <= webuser@host.example U=webuser P=local S=812 T=\"Contact form\" for owner@shop.example",
        Kind::Arrival,
        &[
            ("queue_id", OLD),
            ("account", "webuser"),
            ("protocol", "local"),
            ("host", "~"),
            ("ip", "~"),
            ("recipients", "owner@shop.example"),
        ],
    );
    // A bounce: null sender, R= is the parent message.
    check(
        "2026-03-01 10:00:03 1tWxAA-00000000Aq9-0001 <= <> R=1tWx9Q-00000000Aq3-4kZ1 U=mailnull P=local S=3100 T=\"Mail delivery failed: returning message to sender\" for info@shop.example",
        Kind::Arrival,
        &[
            ("sender", ""),
            ("related_id", ID),
            (
                "subject",
                "Mail delivery failed: returning message to sender",
            ),
            ("recipients", "info@shop.example"),
        ],
    );
    // HELO only; remote U= (ident) is not an account; authenticator without id.
    check(
        "2026-03-01 10:00:04 1tWxAB-00000000Aq9-0002 <= x@remote.example H=(helo.remote.example) [198.51.100.4] U=ident P=esmtpa A=fixed_login S=100",
        Kind::Arrival,
        &[
            ("host", "helo.remote.example"),
            ("ip", "198.51.100.4"),
            ("account", "fixed_login"),
        ],
    );
    check(
        "2026-03-01 10:00:05 1tWxAC-00000000Aq9-0003 <= x@remote.example H=[2001:db8::7]:40001 I=[2001:db8::1]:25 P=esmtp S=200 id*=E1tWxAC@host.example",
        Kind::Arrival,
        &[
            ("host", "~"),
            ("ip", "2001:db8::7"),
            ("account", "~"),
            ("message_id", "E1tWxAC@host.example"),
        ],
    );
    // A HELO that is an address literal is not a host name.
    check(
        "2026-03-01 10:00:06 1tWxAD-00000000Aq9-0004 (= spam@bulk.example H=([192.0.2.99]) [192.0.2.98] P=smtp S=900 A=plain:joe:<joe@shop.example>",
        Kind::Arrival,
        &[("host", "~"), ("ip", "192.0.2.98"), ("account", "joe")],
    );
    check(
        "2026-03-01 10:00:07 1tWxAE-00000000Aq9-0005 <= \"john smith\"@shop.example U=john P=local S=10",
        Kind::Arrival,
        &[
            ("sender", "\"john smith\"@shop.example"),
            ("account", "john"),
        ],
    );
}

#[test]
fn deliveries() {
    check(
        "2026-03-01 10:00:11 1tWx9Q-00000000Aq3-4kZ1 => a@remote.example R=dkim_lookuphost T=dkim_remote_smtp H=mx1.remote.example [198.51.100.20] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes K C=\"250 2.0.0 OK  1772359211 x12si3456 - gsmtp\" QT=1s DT=0.4s",
        Kind::Delivered,
        &[
            ("recipient", "a@remote.example"),
            ("original_recipient", "~"),
            ("router", "dkim_lookuphost"),
            ("transport", "dkim_remote_smtp"),
            ("host", "mx1.remote.example"),
            ("ip", "198.51.100.20"),
            ("text", "250 2.0.0 OK  1772359211 x12si3456 - gsmtp"),
            ("code", "~"),
        ],
    );
    check(
        "2026-03-01 10:00:11 1tWx9Q-00000000Aq3-4kZ1 -> b@remote.example F=<info@shop.example> P=<bounces@shop.example> R=dkim_lookuphost T=dkim_remote_smtp S=4600 H=mx1.remote.example [198.51.100.20]:25* PS=sehla C=\"250 OK\"",
        Kind::Delivered,
        &[
            ("recipient", "b@remote.example"),
            ("sender", "info@shop.example"),
            ("ip", "198.51.100.20"),
            ("size", "4600"),
            ("text", "250 OK"),
        ],
    );
    // The return path stands in for the sender when F= is absent.
    check(
        "2026-03-01 10:00:12 1rAbCd-0001AB-Ef => c@remote.example P=<> R=r T=t H=mx [192.0.2.1]",
        Kind::Delivered,
        &[("sender", "")],
    );
    check(
        "2026-03-01 10:00:12 1rAbCd-0001AB-Ef => /var/mail/root <root@host.example> R=mail4root T=address_file",
        Kind::Delivered,
        &[
            ("recipient", "/var/mail/root"),
            ("original_recipient", "root@host.example"),
            ("transport", "address_file"),
        ],
    );
    check(
        "2026-03-01 10:00:12 1rAbCd-0001AB-Ef => nick (nick@cpanel.example, nick@pigdog.example) <nick@pigdog.example> R=virtual_user T=virtual_userdelivery",
        Kind::Delivered,
        &[
            ("recipient", "nick"),
            ("original_recipient", "nick@pigdog.example"),
            ("router", "virtual_user"),
        ],
    );
    check(
        "2026-03-01 10:00:12 1rAbCd-0001AB-Ef => \"john smith\"@remote.example <\"john smith\"@remote.example> R=lookuphost T=remote_smtp H=mx.remote.example [2001:db8::25]:25",
        Kind::Delivered,
        &[
            ("recipient", "\"john smith\"@remote.example"),
            ("original_recipient", "\"john smith\"@remote.example"),
            ("ip", "2001:db8::25"),
        ],
    );
    check(
        "2026-03-01 10:00:12 1rAbCd-0001AB-Ef => |/usr/local/bin/autoresp --quiet \"x y\" <help@shop.example> R=pipe_router T=address_pipe",
        Kind::Delivered,
        &[
            ("recipient", "|/usr/local/bin/autoresp --quiet \"x y\""),
            ("original_recipient", "help@shop.example"),
            ("transport", "address_pipe"),
        ],
    );
    check(
        "2026-03-01 10:00:12 1rAbCd-0001AB-Ef => :blackhole: <spam@shop.example> R=blackhole_router",
        Kind::Delivered,
        &[
            ("recipient", ":blackhole:"),
            ("original_recipient", "spam@shop.example"),
            ("transport", "~"),
        ],
    );
    check(
        "2026-03-01 10:00:12 1rAbCd-0001AB-Ef => >autoreply@shop.example <info@shop.example> R=filter T=autoreply",
        Kind::Delivered,
        &[("recipient", ">autoreply@shop.example")],
    );
    check(
        "2026-03-01 10:00:12 1rAbCd-0001AB-Ef >> a@remote.example P=<info@shop.example> R=all T=smtp H=mx [192.0.2.1] C=\"250 OK\"",
        Kind::CutThrough,
        &[("recipient", "a@remote.example"), ("text", "250 OK")],
    );
    check(
        "2026-03-01 10:00:12 1rAbCd-0001AB-Ef *> a@remote.example R=ok T=t1 H=mx [192.0.2.1] C=\"delivery bypassed by -N option\"",
        Kind::Suppressed,
        &[("recipient", "a@remote.example")],
    );
}

#[test]
fn deferrals() {
    check(
        "2026-03-01 10:01:00 1tWx9Q-00000000Aq3-4kZ1 == a@remote.example R=dkim_lookuphost T=dkim_remote_smtp defer (-44) H=mx1.remote.example [198.51.100.20]: SMTP error from remote mail server after RCPT TO:<a@remote.example>: 451-4.7.1 Greylisted, please try again later\\n451 4.7.1 See the help page",
        Kind::Deferred,
        &[
            ("recipient", "a@remote.example"),
            ("router", "dkim_lookuphost"),
            ("transport", "dkim_remote_smtp"),
            ("host", "mx1.remote.example"),
            ("ip", "198.51.100.20"),
            ("code", "451"),
            ("status", "4.7.1"),
            (
                "text^",
                "SMTP error from remote mail server after RCPT TO:<a@remote.example>: 451-4.7.1 Greylisted",
            ),
            ("retry_not_due", "false"),
        ],
    );
    check(
        "2026-03-01 10:01:00 1tWx9Q-00000000Aq3-4kZ1 == a@remote.example R=dkim_lookuphost T=dkim_remote_smtp defer (-54): retry time not reached for any host for 'remote.example'",
        Kind::Deferred,
        &[
            (
                "text",
                "retry time not reached for any host for 'remote.example'",
            ),
            ("retry_not_due", "true"),
            ("code", "~"),
        ],
    );
    check(
        "2026-03-01 10:01:00 1rAbCd-0001AB-Ef == a@remote.example routing defer (-51): retry time not reached",
        Kind::Deferred,
        &[
            ("router", "~"),
            ("retry_not_due", "true"),
            ("text", "retry time not reached"),
        ],
    );
    for line in [
        "2026-03-01 10:01:00 1rAbCd-0001AB-Ef == a@remote.example R=dnslookup defer (-1): domain matches queue_smtp_domains, or -odqs set",
        "2026-03-01 10:01:00 1rAbCd-0001AB-Ef == a@local.example routing defer (-56): domain is in queue_domains",
        "2026-03-01 10:01:00 1rAbCd-0001AB-Ef == a@remote.example R=smarthost T=smtp defer (-1): first-pass only routing due to -odqs, queue_smtp_domains or control=queue",
        "2026-03-01 10:01:00 1rAbCd-0001AB-Ef == a@remote.example R=dnslookup T=remote_smtp defer (-55): ",
        "2026-03-01 10:01:00 1rAbCd-0001AB-Ef == a@remote.example R=dnslookup T=remote_smtp defer (-23): domain held",
        "2026-03-01 10:01:00 1rAbCd-0001AB-Ef == a@remote.example R=dnslookup T=remote_smtp defer (-57): transport concurrency limit reached",
    ] {
        check(line, Kind::Deferred, &[("retry_not_due", "true")]);
    }
    check(
        "2026-03-01 10:01:00 1rAbCd-0001AB-Ef == a@remote.example R=dnslookup defer (-1): host lookup did not complete",
        Kind::Deferred,
        &[("retry_not_due", "false")],
    );
    check(
        "2026-03-01 10:01:00 1rAbCd-0001AB-Ef == a@remote.example R=x T=y defer (-53): Retry time not yet reached",
        Kind::Deferred,
        &[("retry_not_due", "true")],
    );
    check(
        "2026-03-01 10:01:00 1rAbCd-0001AB-Ef == a@remote.example R=dnslookup T=remote_smtp defer (110): Connection timed out H=mx2.remote.example [192.0.2.30]: SMTP timeout after EHLO host.example",
        Kind::Deferred,
        &[
            ("text^", "Connection timed out"),
            ("host", "mx2.remote.example"),
            ("ip", "192.0.2.30"),
            ("retry_not_due", "false"),
        ],
    );
    check(
        "2026-03-01 10:01:00 1rAbCd-0001AB-Ef == a@remote.example R=dnslookup T=remote_smtp defer (111): Connection refused",
        Kind::Deferred,
        &[("text", "Connection refused"), ("host", "~")],
    );
    check(
        "2026-03-01 10:01:00 1rAbCd-0001AB-Ef == a@remote.example R=dnslookup defer (-1): host lookup did not complete",
        Kind::Deferred,
        &[
            ("router", "dnslookup"),
            ("transport", "~"),
            ("text", "host lookup did not complete"),
        ],
    );
    check(
        "2026-03-01 10:01:00 1rAbCd-0001AB-Ef == u@shop.example <U@shop.example> R=localuser T=local_delivery defer (-22): mailbox is full (MTA-imposed quota exceeded while writing to /home/shop/mail/u)",
        Kind::Deferred,
        &[
            ("original_recipient", "U@shop.example"),
            ("text^", "mailbox is full"),
        ],
    );
    check(
        "2026-03-01 10:01:00 1rAbCd-0001AB-Ef == a@remote.example R=lookuphost T=remote_smtp defer (-45) H=mx.remote.example [192.0.2.8]:25 I=[192.0.2.1]:41000: SMTP error from remote mail server after MAIL FROM:<info@shop.example> SIZE=1234: 450 4.7.0 Try later",
        Kind::Deferred,
        &[("ip", "192.0.2.8"), ("code", "450"), ("status", "4.7.0")],
    );
    check(
        "2026-03-01 10:01:00 1rAbCd-0001AB-Ef == a@remote.example R=all T=smtp defer (-1)",
        Kind::Deferred,
        &[("text", "~"), ("transport", "smtp")],
    );
    // cPanel: deferred for the hourly limit.
    check(
        "2026-03-01 10:01:00 1tWx9Q-00000000Aq3-4kZ1 == a@remote.example R=enforce_mail_permissions defer (-1): Domain shop.example has exceeded the max emails per hour (12/10 (120%)) allowed.  Message will be reattempted later",
        Kind::Deferred,
        &[
            ("limit", "EmailsPerHour shop.example 12/10 120%"),
            ("domain", "shop.example"),
            ("router", "enforce_mail_permissions"),
            ("retry_not_due", "false"),
        ],
    );
    check(
        "2026-03-01 10:01:00 1tWx9Q-00000000Aq3-4kZ1 == a@remote.example R=enforce_mail_permissions defer (-1): Sender info@shop.example has an outgoing mail hold.  Message will be reattempted later",
        Kind::Deferred,
        &[("limit", "Other info@shop.example ~/~ ~%")],
    );
}

#[test]
fn failures() {
    // Before 4.99: ": " after the last field.
    check(
        "2026-03-01 10:02:00 1tWx9Q-00000000Aq3-4kZ1 ** a@remote.example F=<info@shop.example> R=dkim_lookuphost T=dkim_remote_smtp H=mx1.remote.example [198.51.100.20] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes: SMTP error from remote mail server after RCPT TO:<a@remote.example>: 550-5.1.1 The email account that you tried to reach does not exist.\\n550-5.1.1 Please check the address\\n550 5.1.1 for typos - gsmtp",
        Kind::Bounced,
        &[
            ("recipient", "a@remote.example"),
            ("sender", "info@shop.example"),
            ("router", "dkim_lookuphost"),
            ("transport", "dkim_remote_smtp"),
            ("host", "mx1.remote.example"),
            ("ip", "198.51.100.20"),
            ("code", "550"),
            ("status", "5.1.1"),
            (
                "text^",
                "SMTP error from remote mail server after RCPT TO:<a@remote.example>: 550-5.1.1 The email",
            ),
        ],
    );
    // 4.99: " : ".
    check(
        "2026-03-01 10:02:00 1tWx9Q-00000000Aq3-4kZ1 ** b@remote.example R=all T=smtp H=mx.remote.example [192.0.2.1]:25 I=[192.0.2.2]:41001 PS=sehlm : SMTP error from remote mail server after RCPT TO:<b@remote.example>: 550 Recipient refused",
        Kind::Bounced,
        &[
            ("ip", "192.0.2.1"),
            ("code", "550"),
            ("status", "~"),
            (
                "text",
                "SMTP error from remote mail server after RCPT TO:<b@remote.example>: 550 Recipient refused",
            ),
        ],
    );
    check(
        "2026-03-01 10:02:00 1tWx9Q-00000000Aq3-4kZ1 ** c@remote.example R=all T=smtp H=mx.remote.example [192.0.2.1]* : SMTP error from remote mail server after MAIL FROM:<x@shop.example>: 550 Not you",
        Kind::Bounced,
        &[("ip", "192.0.2.1"), ("code", "550")],
    );
    check(
        "2026-03-01 10:02:00 1tWx9Q-00000000Aq3-4kZ1 ** d@remote.example R=all T=smtp H=mx.remote.example [192.0.2.1] DT=0.3s : SMTP error from remote mail server after end of data: 554 5.7.1 Spam DT=1.2s",
        Kind::Bounced,
        &[(
            "text",
            "SMTP error from remote mail server after end of data: 554 5.7.1 Spam",
        )],
    );
    check(
        "2026-03-01 10:02:00 1rAbCd-0001AB-Ef ** c@known.example: retry timeout exceeded",
        Kind::Bounced,
        &[
            ("recipient", "c@known.example"),
            ("text", "retry timeout exceeded"),
        ],
    );
    check(
        "2026-03-01 10:02:00 1rAbCd-0001AB-Ef ** jim@trek.example <Jim@trek.example>: unknown mail domain",
        Kind::Bounced,
        &[
            ("recipient", "jim@trek.example"),
            ("original_recipient", "Jim@trek.example"),
            ("text", "unknown mail domain"),
        ],
    );
    check(
        "2026-03-01 10:02:00 1rAbCd-0001AB-Ef ** userx@bad.example : Unrouteable address",
        Kind::Bounced,
        &[
            ("recipient", "userx@bad.example"),
            ("text", "Unrouteable address"),
            ("router", "~"),
        ],
    );
    check(
        "2026-03-01 10:02:00 1rAbCd-0001AB-Ef ** userx@bad.example R=fail_remote : unrouteable mail domain \"bad.example\" (:fail:)",
        Kind::Bounced,
        &[
            ("router", "fail_remote"),
            ("text^", "unrouteable mail domain"),
        ],
    );
    // Old versions: the host is inside the message.
    check(
        "2026-03-01 10:02:00 1rAbCd-0001AB-Ef ** ace@pb.example R=dnslookup T=remote_smtp: SMTP error from remote mailer after pipelined RCPT TO:<ace@pb.example>: host mail3.pb.example [192.0.2.63]: 553 5.3.0 <ace@pb.example>... Addressee unknown",
        Kind::Bounced,
        &[
            ("host", "mail3.pb.example"),
            ("ip", "192.0.2.63"),
            ("code", "553"),
            ("status", "5.3.0"),
        ],
    );
    // A quoted local part that Exim printed without its quotes.
    check(
        "2026-03-01 10:02:00 1rAbCd-0001AB-Ef ** FAIL route me@some.example <\"FAIL route me\"@some.example> R=q : cannot route this one",
        Kind::Bounced,
        &[
            ("recipient", "FAIL route me@some.example"),
            ("original_recipient", "\"FAIL route me\"@some.example"),
            ("router", "q"),
            ("text", "cannot route this one"),
        ],
    );
    check(
        "2026-03-01 10:02:00 1rAbCd-0001AB-Ef ** |/usr/bin/procmail -d bob <bob@host.example> R=pipe T=address_pipe : Child process of address_pipe transport returned 69",
        Kind::Bounced,
        &[
            ("recipient", "|/usr/bin/procmail -d bob"),
            ("original_recipient", "bob@host.example"),
            ("transport", "address_pipe"),
            ("code", "~"),
        ],
    );
    check(
        "2026-03-01 10:02:00 1rAbCd-0001AB-Ef ** x@remote.example mua_wrapper forced failure for deferred delivery",
        Kind::Bounced,
        &[
            ("recipient", "x@remote.example"),
            ("text^", "mua_wrapper forced"),
        ],
    );
    check(
        "2026-03-01 10:02:00 1rAbCd-0001AB-Ef ** jack@host.example R=smartuser T=lmtp : LMTP error after end of data: 452 4.2.2 Over quota",
        Kind::Bounced,
        &[("code", "452"), ("status", "4.2.2")],
    );
}

#[test]
fn cpanel_limits() {
    check(
        "2026-03-01 11:00:00 1hIAif-00H7J4-Lb ** someone@remote.example <Someone@remote.example> R=enforce_mail_permissions: Domain shop.example has exceeded the max defers and failures per hour (5/5 (100%)) allowed. Message discarded.",
        Kind::Bounced,
        &[
            ("recipient", "someone@remote.example"),
            ("original_recipient", "Someone@remote.example"),
            ("router", "enforce_mail_permissions"),
            ("limit", "DeferFail shop.example 5/5 100%"),
            ("domain", "shop.example"),
            ("text^", "Domain shop.example has exceeded"),
        ],
    );
    check(
        "2026-03-01 11:00:00 1hIAif-00H7J4-Lb ** someone@remote.example F=<info@shop.example> R=enforce_mail_permissionsHG: Domain shop.example has exceeded the max defers and failures per hour (10/10 (58%)) allowed. Message discarded.",
        Kind::Bounced,
        &[
            ("sender", "info@shop.example"),
            ("router", "enforce_mail_permissionsHG"),
            ("limit", "DeferFail shop.example 10/10 58%"),
        ],
    );
    check(
        "2026-03-01 11:00:00 1tWx9Q-00000000Aq3-4kZ1 ** someone@remote.example R=enforce_mail_permissions : Domain shop.example has exceeded the max emails per hour (3/-1 (-300%)) allowed.  Message discarded.",
        Kind::Bounced,
        &[("limit", "EmailsPerHour shop.example 3/-1 -300%")],
    );
    check(
        "2026-03-01 11:00:00 1hIAif-00H7J4-Lb ** someone@remote.example R=enforce_mail_permissions: Domain shop.example has exceeded the max defers and failures per hour (55 (100%)) allowed. Message discarded.",
        Kind::Bounced,
        &[("limit", "DeferFail shop.example 55/~ 100%")],
    );
    check(
        "2026-03-01 11:00:00 1hIAif-00H7J4-Lb ** someone@remote.example R=enforce_mail_permissions: Domain shop.example has exceeded the max emails per hour (200) allowed.  Message discarded.",
        Kind::Bounced,
        &[("limit", "EmailsPerHour shop.example 200/~ ~%")],
    );
    check(
        "2026-03-01 11:00:00 1hIAif-00H7J4-Lb ** someone@remote.example R=enforce_mail_permissions: Domain shop.example has an outgoing mail suspension.  Message discarded.",
        Kind::Bounced,
        &[("limit", "Other shop.example ~/~ ~%")],
    );
    check(
        "2026-03-01 11:00:00 1hIAif-00H7J4-Lb ** someone@remote.example R=enforce_mail_permissions: Mail sent by user nobody being discarded due to sender restrictions in WHM->Tweak Settings",
        Kind::Bounced,
        &[("limit", "Other ~ ~/~ ~%"), ("domain", "~")],
    );
    check(
        "2026-03-01 11:00:01 1hIAif-00H7J4-Lb Sender identification U=shopuser D=shop.example S=info@shop.example",
        Kind::SenderIdentified,
        &[
            ("queue_id", "1hIAif-00H7J4-Lb"),
            ("account", "shopuser"),
            ("domain", "shop.example"),
            ("sender", "info@shop.example"),
        ],
    );
    check(
        "2026-03-01 11:00:01 1tWx9Q-00000000Aq3-4kZ1 SMTP connection outbound 1772362801 1tWx9Q-00000000Aq3-4kZ1 shop.example someone@remote.example",
        Kind::Info,
        &[
            ("domain", "shop.example"),
            ("recipient", "someone@remote.example"),
        ],
    );
    check(
        "2026-03-01 11:00:01 SMTP connection identification H=localhost A=127.0.0.1 P=38410 M=1tWx9Q-00000000Aq3-4kZ1 U=shopuser ID=1004 S=info@shop.example B=authenticated_local_user",
        Kind::Info,
        &[
            ("queue_id", ID),
            ("account", "shopuser"),
            ("sender", "info@shop.example"),
            ("ip", "127.0.0.1"),
        ],
    );
    check(
        "2026-03-01 11:00:01 1tWx9Q-00000000Aq3-4kZ1 nobody send identification H=localhost A=127.0.0.1 U=shopuser ID=1004 B=acl_c_vhost_owner M=trust_x_php_script",
        Kind::Info,
        &[("account", "shopuser"), ("queue_id", ID)],
    );
    check(
        "2026-03-01 11:00:01 1tWx9Q-00000000Aq3-4kZ1 Warning: \"SpamAssassin as cpaneleximscanner detected OUTGOING smtp message as NOT spam (0.1)\"",
        Kind::Warning,
        &[("text^", "\"SpamAssassin as cpaneleximscanner")],
    );
    check(
        "2026-03-01 11:00:01 check_mail_permissions Hit daily email notify limit for domain shop.example",
        Kind::Warning,
        &[("domain", "shop.example")],
    );
    check(
        "2026-03-01 11:00:02 cwd=/home/shopuser/public_html/wp 3 args: /usr/sbin/sendmail -t -i",
        Kind::Script,
        &[
            ("account", "shopuser"),
            (
                "text",
                "cwd=/home/shopuser/public_html/wp 3 args: /usr/sbin/sendmail -t -i",
            ),
        ],
    );
    check(
        "2026-03-01 11:00:02 cwd=/home2/other 2 args: /usr/sbin/sendmail -t",
        Kind::Script,
        &[("account", "other")],
    );
    check(
        "2026-03-01 11:00:02 cwd=/var/spool/exim 3 args: /usr/sbin/exim -Mc 1hIAif-00H7J4-Lb",
        Kind::Script,
        &[("account", "~")],
    );
}

#[test]
fn message_scoped_words() {
    for (rest, kind) in [
        ("Completed", Kind::Completed),
        ("Completed QT=3s", Kind::Completed),
        ("Frozen (delivery error message)", Kind::Frozen),
        ("Frozen by the system filter: bulk", Kind::Frozen),
        ("frozen by root", Kind::Frozen),
        ("Unfrozen by errmsg timer", Kind::Unfrozen),
        ("Unfrozen by forced delivery", Kind::Unfrozen),
        ("unfrozen by root", Kind::Unfrozen),
        ("removed by root", Kind::AdminRemoved),
        ("Message is frozen", Kind::Info),
        (
            "Spool file for 1tWx9Q-00000000Aq3-4kZ1 is locked (another process is handling this message)",
            Kind::Info,
        ),
        (
            "no immediate delivery: too many connections (20, max 20)",
            Kind::Info,
        ),
        ("error ignored", Kind::Info),
        ("cancelled by system filter: spam", Kind::Info),
        (
            "DKIM: d=shop.example s=default c=relaxed/relaxed a=rsa-sha256 b=2048 [verification succeeded]",
            Kind::Info,
        ),
        (
            "lowest numbered MX record points to local host",
            Kind::Warning,
        ),
        ("SMTP connection lost after final dot", Kind::ProtocolError),
        (
            "Process failed (1) when writing error message to root@host.example (frozen)",
            Kind::Warning,
        ),
    ] {
        let line = format!("2026-03-01 12:00:00 {ID} {rest}");
        check(&line, kind, &[("queue_id", ID)]);
    }
    check(
        "2026-03-01 12:00:00 1rAbCd-0001AB-Ef removed by root",
        Kind::AdminRemoved,
        &[("text", "root")],
    );
    check(
        "2026-03-01 12:00:00 1rAbCd-0001AB-Ef someone@remote.example: error ignored",
        Kind::Info,
        &[("recipient", "someone@remote.example")],
    );
    check(
        "2026-03-01 12:00:00 1rAbCd-0001AB-Ef Error while reading message with no usable sender address (R=1rAbCd-0001AA-Zz): at least one malformed recipient address",
        Kind::Warning,
        &[("related_id", "1rAbCd-0001AA-Zz")],
    );
    // Per-host detail of an attempt, with and without `H=`.
    check(
        "2026-03-01 12:00:00 1rAbCd-0001AB-Ef H=mx1.remote.example [192.0.2.40] Connection refused",
        Kind::Info,
        &[
            ("host", "mx1.remote.example"),
            ("ip", "192.0.2.40"),
            ("text", "Connection refused"),
        ],
    );
    check(
        "2026-03-01 12:00:00 1rAbCd-0001AB-Ef mx2.remote.example [2001:db8::1a] Network is unreachable",
        Kind::Info,
        &[
            ("host", "mx2.remote.example"),
            ("ip", "2001:db8::1a"),
            ("text", "Network is unreachable"),
        ],
    );
    check(
        "2026-03-01 12:00:00 1rAbCd-0001AB-Ef H=mx1.remote.example [192.0.2.40]: SMTP error from remote mail server after RCPT TO:<a@remote.example>: 452 4.2.2 Mailbox full",
        Kind::Info,
        &[("ip", "192.0.2.40"), ("code", "452"), ("status", "4.2.2")],
    );
    check(
        "2026-03-01 12:00:00 1rAbCd-0001AB-Ef SMTP error from remote mail server after RCPT TO:<a@remote.example>: host mx3.remote.example [192.0.2.41]: 421 4.7.0 [TS01] Messages temporarily deferred",
        Kind::Info,
        &[
            ("host", "mx3.remote.example"),
            ("ip", "192.0.2.41"),
            ("code", "421"),
            ("status", "4.7.0"),
        ],
    );
    // Refused after DATA: an ID but no `<=` line.
    check(
        "2026-03-01 12:00:00 1tWx9Q-00000000Aq3-4kZ1 H=(laptop) [203.0.113.50]:50123 I=[192.0.2.1]:587 X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_login:info@shop.example F=<info@shop.example> rejected after DATA: This message was classified as SPAM and may not be delivered",
        Kind::Rejected,
        &[
            ("queue_id", ID),
            ("sender", "info@shop.example"),
            ("account", "info@shop.example"),
            ("ip", "203.0.113.50"),
            ("host", "laptop"),
            (
                "text",
                "This message was classified as SPAM and may not be delivered",
            ),
        ],
    );
    check(
        "2026-03-01 12:00:00 1rAbCd-0001AB-Ef F=<x@spam.example> H=(spam.example) [192.0.2.77] P=esmtp rejected by local_scan(): Rejected: hits=9.1",
        Kind::Rejected,
        &[("sender", "x@spam.example"), ("text", "Rejected: hits=9.1")],
    );
    // Free-form ACL logwrite output with an ID.
    check(
        "2026-03-01 12:00:00 1rAbCd-0001AB-Ef SA: Action: scanned but not tagged: score=1.2",
        Kind::Info,
        &[("text", "SA: Action: scanned but not tagged: score=1.2")],
    );
}

#[test]
fn session_lines() {
    check(
        "2026-03-01 13:00:00 H=mail.bulk.example (bulk) [192.0.2.200]:40000 I=[192.0.2.1]:25 X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no F=<promo@bulk.example> rejected RCPT <info@shop.example>: JunkMail rejected - mail.bulk.example [192.0.2.200]:40000 is in an RBL: listed",
        Kind::Rejected,
        &[
            ("queue_id", "~"),
            ("host", "mail.bulk.example"),
            ("ip", "192.0.2.200"),
            ("sender", "promo@bulk.example"),
            ("recipient", "info@shop.example"),
            ("text^", "JunkMail rejected - mail.bulk.example"),
            ("account", "~"),
        ],
    );
    check(
        "2026-03-01 13:00:00 H=(helo) [192.0.2.201] F=<> temporarily rejected RCPT <info@shop.example>: greylisted",
        Kind::Rejected,
        &[
            ("sender", ""),
            ("recipient", "info@shop.example"),
            ("text", "greylisted"),
        ],
    );
    check(
        "2026-03-01 13:00:00 H=(helo) [192.0.2.201] F=spammer@bulk.example rejected RCPT victim@shop.example: relay not permitted",
        Kind::Rejected,
        &[
            ("sender", "spammer@bulk.example"),
            ("recipient", "victim@shop.example"),
            ("text", "relay not permitted"),
        ],
    );
    check(
        "2026-03-01 13:00:00 H=(WIN-ABC) [192.0.2.202]:58135 rejected MAIL <promo@bulk.example>: Access denied - Invalid HELO name (See RFC2821 4.1.1.1)",
        Kind::Rejected,
        &[
            ("sender", "promo@bulk.example"),
            ("host", "WIN-ABC"),
            ("text^", "Access denied"),
        ],
    );
    check(
        "2026-03-01 13:00:00 H=(shop.example) [192.0.2.203] rejected EHLO or HELO shop.example: you are not me",
        Kind::Rejected,
        &[("text", "you are not me")],
    );
    check(
        "2026-03-01 13:00:00 H=[192.0.2.204]:1234 rejected connection in \"connect\" ACL: blocked country",
        Kind::Rejected,
        &[("ip", "192.0.2.204"), ("text", "blocked country")],
    );
    check(
        "2026-03-01 13:00:00 H=rate.example [192.0.2.205]:18146 temporarily rejected connection in \"connect\" ACL: \"Host is ratelimited (1.9/1h max:1.2)\"",
        Kind::Rejected,
        &[("text", "\"Host is ratelimited (1.9/1h max:1.2)\"")],
    );
    check(
        "2026-03-01 13:00:00 H=(x) [192.0.2.206] rejected VRFY postmaster@shop.example",
        Kind::Rejected,
        &[("ip", "192.0.2.206")],
    );
    check(
        "2026-03-01 13:00:00 U=localuser F=<> rejected RCPT <x@shop.example>: 550 5.7.1 not allowed",
        Kind::Rejected,
        &[
            ("account", "localuser"),
            ("code", "550"),
            ("status", "5.7.1"),
        ],
    );
    check(
        "2026-03-01 13:00:00 H=forged.example [192.0.2.207] sender verify fail for <ceo@shop.example>: Unrouteable address",
        Kind::Warning,
        &[
            ("sender", "ceo@shop.example"),
            ("ip", "192.0.2.207"),
            ("text", "Unrouteable address"),
        ],
    );
    check(
        "2026-03-01 13:00:00 H=forged.example [192.0.2.207] sender verify defer for <ceo@shop.example>: could not connect",
        Kind::Warning,
        &[("sender", "ceo@shop.example")],
    );
    check(
        "2026-03-01 13:00:00 H=(dict) [192.0.2.208] incomplete transaction (QUIT) from <a@bulk.example> for b@shop.example c@shop.example",
        Kind::ProtocolError,
        &[
            ("sender", "a@bulk.example"),
            ("recipients", "b@shop.example c@shop.example"),
        ],
    );
    check(
        "2026-03-01 13:00:00 H=(x) [192.0.2.209] Warning: unknown recipient nobody@shop.example from a@bulk.example",
        Kind::Warning,
        &[("ip", "192.0.2.209"), ("text^", "unknown recipient")],
    );
    check(
        "2026-03-01 13:00:00 H=[192.0.2.210]:62839 dropped by 'connect' ACL: Country is banned",
        Kind::Rejected,
        &[("text", "Country is banned")],
    );
}

#[test]
fn connection_and_protocol_lines() {
    check(
        "2026-03-01 14:00:00 SMTP connection from [192.0.2.10]:57766 (TCP/IP connection count = 3)",
        Kind::Connection,
        &[
            ("ip", "192.0.2.10"),
            ("host", "~"),
            ("text", "(TCP/IP connection count = 3)"),
        ],
    );
    check(
        "2026-03-01 14:00:00 SMTP connection from mail.remote.example (helo.remote.example) [192.0.2.11]:25001 I=[192.0.2.1]:25 closed by QUIT",
        Kind::Connection,
        &[
            ("host", "mail.remote.example"),
            ("ip", "192.0.2.11"),
            ("text", "closed by QUIT"),
        ],
    );
    check(
        "2026-03-01 14:00:00 1rAbCd-0001AB-Ef SMTP connection from (x) [192.0.2.12]:1 closed by DROP in ACL",
        Kind::Connection,
        &[("queue_id", OLD), ("text", "closed by DROP in ACL")],
    );
    check(
        "2026-03-01 14:00:00 SMTP connection from (localhost) [192.0.2.13]:59474 lost D=2s",
        Kind::ProtocolError,
        &[("host", "localhost"), ("text", "lost D=2s")],
    );
    check(
        "2026-03-01 14:00:00 SMTP connection from [192.0.2.13]:59474 lost while reading message data",
        Kind::ProtocolError,
        &[("ip", "192.0.2.13")],
    );
    check(
        "2026-03-01 14:00:00 SMTP connection Ci=7326 from [192.0.2.14]:1 (TCP/IP connection count = 1)",
        Kind::Connection,
        &[("ip", "192.0.2.14")],
    );
    check(
        "2026-03-01 14:00:00 no MAIL in SMTP connection from host.remote.example (SERVER) [192.0.2.15]:1418 I=[192.0.2.1]:25 D=34s C=EHLO,AUTH",
        Kind::Connection,
        &[("host", "host.remote.example"), ("ip", "192.0.2.15")],
    );
    check(
        "2026-03-01 14:00:00 SMTP call from [192.0.2.16]:60302 dropped: too many unrecognized commands (last was \"\")",
        Kind::ProtocolError,
        &[
            ("ip", "192.0.2.16"),
            ("text^", "dropped: too many unrecognized"),
        ],
    );
    check(
        "2026-03-01 14:00:00 SMTP protocol error in \"AUTH LOGIN\" H=(ylmf-pc) [192.0.2.17]:60723 I=[192.0.2.1]:587 AUTH command used when not advertised",
        Kind::ProtocolError,
        &[
            ("host", "ylmf-pc"),
            ("ip", "192.0.2.17"),
            ("text", "AUTH command used when not advertised"),
        ],
    );
    check(
        "2026-03-01 14:00:00 SMTP syntax error in \"HELO\" H=[192.0.2.18] missing argument",
        Kind::ProtocolError,
        &[("ip", "192.0.2.18")],
    );
    check(
        "2026-03-01 14:00:00 SMTP protocol synchronization error (input sent without waiting for greeting): rejected connection from H=[192.0.2.19]:25936 I=[192.0.2.1]:25 input=\"GET / HTTP/1.1\\r\\n\"",
        Kind::ProtocolError,
        &[
            ("ip", "192.0.2.19"),
            ("text^", "SMTP protocol synchronization error"),
        ],
    );
    check(
        "2026-03-01 14:00:00 SMTP command timeout on TLS connection from (localhost) [192.0.2.20]:40286",
        Kind::ProtocolError,
        &[("ip", "192.0.2.20")],
    );
    check(
        "2026-03-01 14:00:00 SMTP data timeout (message abandoned) on connection from (x) [192.0.2.21] F=<a@b.example>",
        Kind::ProtocolError,
        &[("ip", "192.0.2.21"), ("sender", "a@b.example")],
    );
    check(
        "2026-03-01 14:00:00 unexpected disconnection while reading SMTP command from (x) [192.0.2.22]:1 D=1s",
        Kind::ProtocolError,
        &[("ip", "192.0.2.22")],
    );
    check(
        "2026-03-01 14:00:00 TLS error on connection from [192.0.2.23]:59636 (SSL_accept): error:0A00010B:SSL routines::wrong version number",
        Kind::ProtocolError,
        &[("ip", "192.0.2.23"), ("text^", "(SSL_accept): error")],
    );
    check(
        "2026-03-01 14:00:00 TLS error on connection to mx.remote.example [192.0.2.24] (SSL_connect): timed out",
        Kind::ProtocolError,
        &[("host", "mx.remote.example"), ("ip", "192.0.2.24")],
    );
    // Authentication failures, before and since 4.99.
    check(
        "2026-03-01 14:00:00 dovecot_login authenticator failed for (User) [192.0.2.25]:21298 I=[192.0.2.1]:465 Ci=30416: 535 Incorrect authentication data (set_id=info@shop.example)",
        Kind::AuthFailed,
        &[
            ("host", "User"),
            ("ip", "192.0.2.25"),
            ("account", "info@shop.example"),
            ("code", "535"),
            (
                "text",
                "535 Incorrect authentication data (set_id=info@shop.example)",
            ),
        ],
    );
    check(
        "2026-03-01 14:00:00 login authenticator failed for rrcs.remote.example ([192.168.2.33]) [192.0.2.26]: 535 Incorrect authentication data",
        Kind::AuthFailed,
        &[
            ("host", "rrcs.remote.example"),
            ("ip", "192.0.2.26"),
            ("account", "~"),
        ],
    );
    check(
        "2026-03-01 14:00:00 plain authenticator failed for H=(test.host) [192.0.2.27] U=ident: 535 5.7.8 Incorrect authentication data (set_id=joe)",
        Kind::AuthFailed,
        &[
            ("host", "test.host"),
            ("ip", "192.0.2.27"),
            ("account", "joe"),
            ("status", "5.7.8"),
        ],
    );
    for (line, kind) in [
        ("Start queue run: pid=22086", Kind::Info),
        ("End queue run: pid=22086", Kind::Info),
        ("Start 'lowpri' queue run: pid=1", Kind::Info),
        (
            "exim 4.96 daemon started: pid=27421, -q15m, listening for SMTP on port 25 (IPv6 and IPv4)",
            Kind::Info,
        ),
        ("pid 27421: SIGHUP received: re-exec daemon", Kind::Info),
        ("SIGHUP received: re-exec daemon", Kind::Info),
        ("Warning: purging the environment.", Kind::Warning),
        (
            "refused connection from [192.0.2.28] (host_reject_connection)",
            Kind::Rejected,
        ),
        (
            "Connection from [192.0.2.29] refused: too many connections",
            Kind::Rejected,
        ),
        (
            "no IP address found for host h.example (during SMTP connection from [192.0.2.30])",
            Kind::Info,
        ),
        (
            "VRFY failed for <x@shop.example> H=(x) [192.0.2.31]",
            Kind::Rejected,
        ),
        (
            "rejected MAIL from [192.0.2.32]: no HELO/EHLO given",
            Kind::Rejected,
        ),
        ("peer cert verified 0 for server1.example.com", Kind::Info),
        (
            "(SSL_CTX_use_PrivateKey_file file=/etc/exim/key.pem): error:05800074:x509 certificate routines::key values mismatch",
            Kind::Warning,
        ),
    ] {
        check(&format!("2026-03-01 14:00:00 {line}"), kind, &[]);
    }
    check(
        "2026-03-01 14:00:00 no host name found for IP address 192.0.2.33",
        Kind::Info,
        &[("ip", "192.0.2.33")],
    );
    // A syslog record kept behind an Exim timestamp.
    check(
        "2026-03-01 14:00:00 mx1.host.example exim[29786]: dovecot_login authenticator failed for (User) [192.0.2.34]: 535 Incorrect authentication data (set_id=a@shop.example)",
        Kind::AuthFailed,
        &[("ip", "192.0.2.34"), ("account", "a@shop.example")],
    );
    check(
        "2026-03-01 14:00:00 info exim[8003]: [8003] no MAIL in SMTP connection from (User) [192.0.2.35]:20042",
        Kind::Connection,
        &[("ip", "192.0.2.35")],
    );
}

#[test]
fn not_understood() {
    for rest in [
        "",
        "1tWx9Q-00000000Aq3-4kZ1",
        "1tWx9Q-00000000Aq3-4kZ1 ",
        "1tWx9Q-00000000Aq3-4kZ1 <=",
        "1tWx9Q-00000000Aq3-4kZ1 <= ",
        "1abcde-000000-00 <=",
        "1abcde-000000-00 ** ",
        "<= a@b.example H=x [1.2.3.4] P=smtp S=1",
        "=> a@b.example R=r T=t",
        "**",
        "==",
        "localhost",
        "\u{1}\u{2}\u{3} binary junk",
        "1tWx9Q-00000000Aq3-4kZ1 \u{0}\u{7f}\u{1b}[0m junk",
        "text with \u{FFFD} replacement char",
        // Another program's syslog record behind a space-separated timestamp.
        "mailhost postfix/smtpd[2211]: connect from unknown[192.0.2.1]",
        "mailhost dovecot[77]: imap-login: Login: user=<a@b.example>",
    ] {
        let t = Timestamp::new(chrono::NaiveDateTime::default(), None);
        assert!(parse(t, rest).is_none(), "understood: {rest:?}");
    }
    let long = "x".repeat(64 * 1024);
    let t = Timestamp::new(chrono::NaiveDateTime::default(), None);
    assert!(parse(t, &long).is_none());
}

/// Every line of the tables above, cut at every character boundary, and some junk: the
/// parser must never panic.
#[test]
fn cut_lines_never_panic() {
    let src = include_str!("tests.rs");
    let t = Timestamp::new(chrono::NaiveDateTime::default(), None);
    let mut lines: Vec<String> = src
        .split('"')
        .filter(|s| s.starts_with("2026-") && s.len() > 20)
        .map(|s| s[20..].replace("\\\"", "\""))
        .collect();
    lines.push(format!(
        "{ID} ** a@b.example R=x T=y H=h [1.2.3.4]:PORT_D* : 550-5.1.1 a\\n550 5.1.1 b"
    ));
    lines.push(format!(
        "{ID} == a R=x defer (dd): Connection refused H=(h) [ip4.ip4.ip4.ip4]"
    ));
    lines.push(format!("{ID} <= \"unterminated@x H=( [ T=\"abc"));
    lines.push(format!("{ID} => |cmd <a <b> <c R="));
    lines.push("H=(((( [[[ ]]] F=<<<< rejected RCPT <".to_string());
    lines.push("x authenticator failed for H=".to_string());
    lines.push("SMTP connection from".to_string());
    lines.push("SMTP connection Ci=".to_string());
    assert!(lines.len() > 100, "{}", lines.len());
    for l in &lines {
        for (i, _) in l.char_indices().chain([(l.len(), ' ')]) {
            let _ = parse(t, &l[..i]);
            let _ = parse(t, &l[i..]);
        }
    }
}

/// Long lines built from repeated pieces that make scanners look ahead: these must stay
/// fast (no check on time; a quadratic scan would show as a slow test).
#[test]
fn pathological_long_lines() {
    let t = Timestamp::new(chrono::NaiveDateTime::default(), None);
    for piece in [
        " <", "| <", " (", "(", ": ", "H=( ", "H=(", "\"\\", "a ", "<a> ", "[", " [", "\\n550-",
        "defer (", ") [", "F=<", "x=",
    ] {
        let body = piece.repeat(64 * 1024 / piece.len());
        for prefix in [
            "",
            "1tWx9Q-00000000Aq3-4kZ1 ",
            "1tWx9Q-00000000Aq3-4kZ1 ** ",
            "1tWx9Q-00000000Aq3-4kZ1 <= ",
            "1tWx9Q-00000000Aq3-4kZ1 == a ",
            "1tWx9Q-00000000Aq3-4kZ1 => |",
            "H=",
            "SMTP connection from ",
        ] {
            let line = format!("{prefix}{body}");
            let _ = parse(t, &line);
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
    /// Random sequences of the pieces Exim lines are made of.
    #[test]
    fn random_pieces_never_panic(pieces in proptest::collection::vec(proptest::sample::select(vec![
        "1tWx9Q-00000000Aq3-4kZ1 ", "1rAbCd-0001AB-Ef ", "[123] ", "<= ", "=> ", "-> ", "== ", "** ",
        ">> ", "*> ", "(= ", "H=", "F=", "R=", "T=", "P=", "A=", "U=", "C=", "S=", "id=", "<", ">",
        "(", ")", "[", "]", "\"", "\\", ":", ": ", " : ", " ", "a@b.example", "|", "defer (", "-54",
        ")", "routing defer (", "for ", "from ", "rejected ", "RCPT ", "SMTP connection from ",
        "authenticator failed for ", "é", "\u{FFFD}", "550-5.1.1 ", "\\n", "*", "Domain ",
        "has exceeded the max emails per hour (", "/", "%", "cwd=/home/", "x ",
    ]), 0..24)) {
        let s: String = pieces.concat();
        let t = Timestamp::new(chrono::NaiveDateTime::default(), None);
        let _ = parse(t, &s);
    }
}

#[test]
fn smtp_code_and_status() {
    assert_eq!(smtp_code("550 5.1.1 no"), (Some(550), Some("5.1.1")));
    assert_eq!(
        smtp_code("x: 451-4.7.1 a\\n451 4.7.1 b"),
        (Some(451), Some("4.7.1"))
    );
    assert_eq!(smtp_code("after RCPT TO:<a@b>: 550 No"), (Some(550), None));
    assert_eq!(smtp_code("x: 550\\n550 y"), (Some(550), None));
    assert_eq!(smtp_code("returned 127 (could mean)"), (None, None));
    assert_eq!(smtp_code("x: 5500 y"), (None, None));
    assert_eq!(smtp_code("x: 250 2.0.0"), (Some(250), Some("2.0.0")));
    assert_eq!(smtp_code("x: 550 5.1.10 y"), (Some(550), Some("5.1.10")));
    assert_eq!(smtp_code("x: 550 5.1 y"), (Some(550), None));
    assert_eq!(smtp_code(""), (None, None));
    let l = cpanel_limit(
        "Domain d.example has exceeded the max emails per hour (750/600 (125%)) allowed.",
    );
    assert_eq!(l.kind, LimitKind::EmailsPerHour);
    assert_eq!(
        (l.count, l.max, l.percent),
        (Some(750), Some(600), Some(125))
    );
}

/// Found by tests/fuzz_mutate.rs: a byte offset after a mutated `fr=` tag landed inside a
/// multi-byte character and the slice panicked.
#[test]
fn offsets_inside_multibyte_characters_do_not_panic() {
    for line in [
        "2026-03-01 14:00:00 SMTP connection fr=<2026om [198.51.100.40]:62001 (TCP/IP connection count\u{fffd}Q\u{fffd}>\u{fffd}\u{fffd} = 1)",
        "2026-03-01 14:00:00 SMTP connection Ci=\u{fffd}\u{fffd} identification x",
        "2026-03-01 14:00:00 1rAbCd-0001AB-Ef H=\u{fffd}\u{fffd}\u{fffd} rejected",
    ] {
        let _ = p(line);
    }
}
