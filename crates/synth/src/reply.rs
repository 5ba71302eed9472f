//! What remote servers answer.

use std::io::Write;

use crate::day::day_reply;
use crate::rng::SplitMix64;
use crate::sim::{Gen, HOUR, MINUTE, Why};
use crate::world::Provider;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Connect,
    Mail,
    Rcpt,
    Data,
}

pub(crate) struct Reply {
    pub(crate) stage: Stage,
    /// The reply, multi-line replies joined by a literal `\n` (as Exim logs them).
    pub(crate) text: String,
    pub(crate) dsn: &'static str,
}

pub(crate) const SERVER_IP: &str = "192.0.2.10";

pub(crate) fn google_id(rng: &mut SplitMix64) -> String {
    format!(
        "{:013x}-{:011x}si{}{}.{}",
        rng.next_u64() >> 12,
        rng.next_u64() >> 20,
        rng.range(1_000_000, 9_999_999),
        ["a", "b", "f", "q"][rng.below(4) as usize],
        rng.range(1, 400)
    )
}

pub(crate) fn ms_host(rng: &mut SplitMix64, iso: &str) -> String {
    format!(
        "[{}{:04X}{}.eurprd0{}.prod.outlook.com {}.{:03}Z {:016X}]",
        ["AM4PEPF0000", "DB8EUR05FT0", "PAXPR04MB0", "VI1EUR04FT0"][rng.below(4) as usize],
        rng.below(0xFFFF),
        ["A5C", "B1E", "41", "7D"][rng.below(4) as usize],
        rng.range(1, 9),
        iso,
        rng.below(1000),
        rng.next_u64()
    )
}

/// The reply of a remote server of kind `p` that refuses or defers `addr` for reason `why`,
/// with the SMTP stage it came at and its enhanced status code.
///
/// This is one table of real-world reply texts, one arm per (reason, provider); it is long
/// because the texts are, and splitting it would only scatter the table.
pub(crate) fn reply(
    rng: &mut SplitMix64,
    why: Why,
    p: Provider,
    addr: &str,
    rdom: &str,
    iso: &str,
) -> Reply {
    let r = |stage, text: String, dsn| Reply { stage, text, dsn };
    match (why, p) {
        (Why::Grey, _) => match rng.below(3) {
            0 => r(
                Stage::Rcpt,
                format!(
                    "451 4.7.1 <{addr}>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/{rdom}.html"
                ),
                "4.7.1",
            ),
            1 => r(
                Stage::Rcpt,
                format!(
                    "450 4.2.0 <{addr}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{rdom}.html"
                ),
                "4.2.0",
            ),
            _ => r(
                Stage::Rcpt,
                "451 Temporarily unable to process your email. Please try again later.".into(),
                "4.0.0",
            ),
        },
        (Why::Rate, Provider::Gmail) => r(
            Stage::Rcpt,
            format!(
                "450-4.2.1 The user you are trying to contact is receiving mail at a rate that\\n450-4.2.1 prevents additional messages from being delivered. Please resend your\\n450-4.2.1 message at a later point. If the user is able to receive mail at that\\n450-4.2.1 time, your message will be delivered. For more information, go to\\n450 4.2.1  https://support.google.com/mail/?p=ReceivingRate {} - gsmtp",
                google_id(rng)
            ),
            "4.2.1",
        ),
        (Why::Rate, Provider::Microsoft) => r(
            Stage::Rcpt,
            format!(
                "451 4.7.650 The mail server [{SERVER_IP}] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://aka.ms/postmaster (S775) {}",
                ms_host(rng, iso)
            ),
            "4.7.650",
        ),
        (Why::Rate, Provider::Yahoo) => r(
            Stage::Mail,
            format!(
                "421 4.7.0 [TSS04] Messages from {SERVER_IP} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"
            ),
            "4.7.0",
        ),
        (Why::Rate, _) => r(
            Stage::Connect,
            format!("421 4.7.0 Too many connections from {SERVER_IP}, try again later"),
            "4.7.0",
        ),
        (Why::Full, Provider::Gmail) => r(
            Stage::Rcpt,
            format!(
                "452-4.2.2 The recipient's inbox is out of storage space. Please direct the\\n452-4.2.2 recipient to\\n452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp {} - gsmtp",
                google_id(rng)
            ),
            "4.2.2",
        ),
        (Why::Full, _) => r(
            Stage::Rcpt,
            format!("452 4.2.2 <{addr}>: Recipient address rejected: Mailbox full"),
            "4.2.2",
        ),
        (Why::Unknown, Provider::Gmail) => r(
            Stage::Rcpt,
            format!(
                "550-5.1.1 The email account that you tried to reach does not exist. Please try\\n550-5.1.1 double-checking the recipient's email address for typos or\\n550-5.1.1 unnecessary spaces. For more information, go to\\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser {} - gsmtp",
                google_id(rng)
            ),
            "5.1.1",
        ),
        (Why::Unknown, Provider::Microsoft) => r(
            Stage::Rcpt,
            format!(
                "550 5.5.0 Requested action not taken: mailbox unavailable. {}",
                ms_host(rng, iso)
            ),
            "5.5.0",
        ),
        (Why::Unknown, Provider::Yahoo) => r(
            Stage::Data,
            format!(
                "554 delivery error: dd This user doesn't have a {rdom} account ({addr}) [0] - mta{}.mail.{}.yahoo.com",
                rng.range(4001, 4099),
                ["bf1", "gq1", "ne1"][rng.below(3) as usize]
            ),
            "5.0.0",
        ),
        (Why::Unknown, Provider::Icloud) => r(
            Stage::Rcpt,
            format!("550 5.1.1 <{addr}>: user does not exist"),
            "5.1.1",
        ),
        (Why::Unknown, Provider::Generic) => match rng.below(4) {
            0 => r(
                Stage::Rcpt,
                format!(
                    "550 5.1.1 <{addr}>: Recipient address rejected: User unknown in virtual mailbox table"
                ),
                "5.1.1",
            ),
            1 => r(
                Stage::Rcpt,
                format!(
                    "550 5.1.1 <{addr}>: Recipient address rejected: User unknown in local recipient table"
                ),
                "5.1.1",
            ),
            2 => r(Stage::Rcpt, "550 No Such User Here".into(), "5.0.0"),
            _ => r(
                Stage::Rcpt,
                format!("550 5.1.1 <{addr}>... User unknown"),
                "5.1.1",
            ),
        },
        (Why::Disabled, Provider::Gmail) => r(
            Stage::Rcpt,
            format!(
                "550-5.2.1 The email account that you tried to reach is disabled.\\n550 5.2.1  https://support.google.com/mail/?p=DisabledUser {} - gsmtp",
                google_id(rng)
            ),
            "5.2.1",
        ),
        (Why::Disabled, Provider::Yahoo) => r(
            Stage::Data,
            format!(
                "554 delivery error: dd Sorry your message to {addr} cannot be delivered. This mailbox is disabled (554.30). - mta{}.mail.bf1.yahoo.com",
                rng.range(4001, 4099)
            ),
            "5.0.0",
        ),
        (Why::Disabled, _) => r(
            Stage::Rcpt,
            format!(
                "550 5.2.1 <{addr}>: Recipient address rejected: Mailbox disabled, not accepting messages"
            ),
            "5.2.1",
        ),
        (Why::Blocked, Provider::Gmail) => r(
            Stage::Data,
            format!(
                "550-5.7.1 [{SERVER_IP}      12] Our system has detected that this message is\\n550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\\n550-5.7.1 this message has been blocked. For more information, go to\\n550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError {} - gsmtp",
                google_id(rng)
            ),
            "5.7.1",
        ),
        (Why::Blocked, Provider::Microsoft) => r(
            Stage::Rcpt,
            format!(
                "550 5.7.1 Unfortunately, messages from [{SERVER_IP}] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. {}",
                ms_host(rng, iso)
            ),
            "5.7.1",
        ),
        (Why::Blocked, Provider::Yahoo) => r(
            Stage::Mail,
            format!(
                "553 5.7.1 [BL21] Connections will not be accepted from {SERVER_IP}, because the ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes"
            ),
            "5.7.1",
        ),
        (Why::Blocked, _) => r(
            Stage::Rcpt,
            format!(
                "554 5.7.1 Service unavailable; Client host [{SERVER_IP}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{SERVER_IP}"
            ),
            "5.7.1",
        ),
        // Final "mailbox full" failures.
        (Why::GiveUp, Provider::Gmail) => r(
            Stage::Rcpt,
            format!(
                "552-5.2.2 The recipient's inbox is out of storage space and inactive. Please\\n552-5.2.2 direct the recipient to\\n552 5.2.2  https://support.google.com/mail/?p=OverQuotaPerm {} - gsmtp",
                google_id(rng)
            ),
            "5.2.2",
        ),
        (Why::GiveUp, _) => r(
            Stage::Rcpt,
            format!("552 5.2.2 <{addr}>: Recipient address rejected: Mailbox full"),
            "5.2.2",
        ),
        // No reply (Down, NoDomain), or a day-mode reason (see `Gen::remote_reply`).
        _ => r(Stage::Connect, String::new(), "4.4.1"),
    }
}

/// The remote's answer to a successful delivery.
pub(crate) fn confirmation(
    rng: &mut SplitMix64,
    p: Provider,
    epoch: i64,
    tag: u64,
    iso: &str,
    sdom: &str,
) -> String {
    match p {
        Provider::Gmail => format!("250 2.0.0 OK  {epoch} {} - gsmtp", google_id(rng)),
        Provider::Microsoft => format!(
            "250 2.6.0 <{tag:016x}@{sdom}> [InternalId={}, Hostname={}] {} bytes in {}.{:03}, {}.{:03} KB/sec Queued mail for delivery -> 250 2.1.5",
            rng.range(10_000_000_000, 99_999_999_999),
            ms_host(rng, iso)
                .split(' ')
                .next()
                .unwrap_or("[X")
                .trim_start_matches('['),
            rng.range(2000, 90000),
            rng.below(1),
            rng.range(20, 400),
            rng.range(10, 900),
            rng.below(1000)
        ),
        Provider::Yahoo => "250 ok dirdel".to_string(),
        Provider::Icloud => format!("250 2.0.0 Ok: queued as {:X}", rng.next_u64() >> 24),
        Provider::Generic => format!(
            "250 2.0.0 Ok: queued as {:X}",
            rng.range(0x10_0000_0000, 0xFF_FFFF_FFFF)
        ),
    }
}

pub(crate) fn cipher(p: Provider, r: u64) -> Option<&'static str> {
    match p {
        Provider::Gmail | Provider::Icloud => Some("TLS1.3:TLS_AES_256_GCM_SHA384:256"),
        Provider::Microsoft => Some("TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256"),
        Provider::Yahoo => Some("TLS1.3:TLS_AES_128_GCM_SHA256:128"),
        Provider::Generic => match r % 5 {
            0 => None,
            1 => Some("TLS1.2:ECDHE-RSA-AES128-GCM-SHA256:128"),
            _ => Some("TLS1.3:TLS_AES_256_GCM_SHA384:256"),
        },
    }
}

pub(crate) fn exim_retry_interval(step: u8) -> u64 {
    if step <= 8 {
        15 * MINUTE
    } else {
        let k = (step - 8).min(6) as i32;
        ((HOUR as f64) * 1.5f64.powi(k)).min(6.0 * HOUR as f64) as u64
    }
}

impl<W: Write> Gen<'_, W> {
    /// The reply of remote server `mx` of domain `rdom` refusing or deferring `addr` (sent by
    /// `sender`) for reason `why`.
    pub(crate) fn remote_reply(
        &mut self,
        why: Why,
        p: Provider,
        addr: &str,
        rdom: &str,
        mx: &str,
        sender: &str,
    ) -> Reply {
        if why.is_day() {
            day_reply(&mut self.rng, why, p, sender, rdom, mx)
        } else {
            let iso = self.iso_now();
            reply(&mut self.rng, why, p, addr, rdom, &iso)
        }
    }
}
