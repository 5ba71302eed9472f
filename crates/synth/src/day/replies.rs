//! Remote replies that only the planted problems produce: our server on a DNS block list,
//! spam refusals and complaints, a destination refusing one sender, a sender domain on a
//! domain block list.

use crate::domain_of;
use crate::reply::{Reply, SERVER_IP, Stage};
use crate::rng::SplitMix64;
use crate::sim::Why;
use crate::world::Provider;

use super::plan::{DBL, DNSBLS};
use super::population::mix;

/// A stable choice among `n` styles for one destination domain (a destination runs one
/// kind of software, so it always answers the same way).
fn style(rdom: &str, n: u64) -> u64 {
    let mut h = 0u64;
    for b in rdom.bytes() {
        h = h.wrapping_mul(31).wrapping_add(b as u64);
    }
    mix(h) % n
}

fn dnsbl_url(list: &str) -> String {
    match list {
        "b.barracudacentral.org" => {
            format!("http://www.barracudanetworks.com/reputation/?pr=1&ip={SERVER_IP}")
        }
        "bl.spamcop.net" => format!("https://www.spamcop.net/bl.shtml?{SERVER_IP}"),
        _ => format!("https://psbl.org/listing?ip={SERVER_IP}"),
    }
}

/// The reply for the day-only reasons of [`Why`] from remote server `mx` of `rdom`.
///
/// Like `reply::reply`, one table of reply texts, one arm per (reason, provider); long
/// because the texts are.
pub(crate) fn day_reply(
    rng: &mut SplitMix64,
    why: Why,
    p: Provider,
    sender: &str,
    rdom: &str,
    mx: &str,
) -> Reply {
    let r = |stage, text: String, dsn| Reply { stage, text, dsn };
    let sdom = domain_of(sender);
    match (why, p) {
        (Why::Listed(i), _) => {
            let list = DNSBLS[i as usize % DNSBLS.len()];
            match style(rdom, 3) {
                0 => r(
                    Stage::Rcpt,
                    format!(
                        "554 5.7.1 Service unavailable; Client host [{SERVER_IP}] blocked using {list}; {}",
                        dnsbl_url(list)
                    ),
                    "5.7.1",
                ),
                1 => r(
                    Stage::Rcpt,
                    format!("550 5.7.1 rejected because {SERVER_IP} is in a black list at {list}"),
                    "5.7.1",
                ),
                _ => r(
                    Stage::Connect,
                    format!(
                        "554 5.7.1 {mx} ESMTP not accepting mail from {SERVER_IP}: listed at {list}"
                    ),
                    "5.7.1",
                ),
            }
        }
        (Why::Spam, Provider::Gmail) => r(
            Stage::Data,
            format!(
                "550-5.7.1 [{SERVER_IP}      12] Our system has detected that this message is\\n550-5.7.1 likely unsolicited mail. To reduce the amount of spam sent to Gmail,\\n550-5.7.1 this message has been blocked. For more information, go to\\n550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError {:013x}si{} - gsmtp",
                rng.next_u64() >> 12,
                rng.range(1_000_000, 9_999_999)
            ),
            "5.7.1",
        ),
        (Why::Spam, Provider::Microsoft) => r(
            Stage::Data,
            format!(
                "550 5.7.520 Message blocked because it contains content identified as spam. AS(4810) [DB8EUR05FT0{:04X}.eurprd05.prod.outlook.com]",
                rng.below(0xFFFF)
            ),
            "5.7.520",
        ),
        (Why::Spam, Provider::Yahoo) => r(
            Stage::Data,
            "554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes".into(),
            "5.7.9",
        ),
        (Why::Spam, Provider::Icloud) => r(
            Stage::Data,
            "554 5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137".into(),
            "5.7.1",
        ),
        (Why::Spam, Provider::Generic) => match style(rdom, 3) {
            0 => r(
                Stage::Data,
                "550 5.7.1 Message rejected as spam by Content Filtering.".into(),
                "5.7.1",
            ),
            1 => r(
                Stage::Data,
                format!(
                    "554 5.7.1 Rejected: message looks like spam (score {}.{})",
                    rng.range(9, 25),
                    rng.below(10)
                ),
                "5.7.1",
            ),
            _ => r(
                Stage::Data,
                "550 5.7.1 High probability of spam".into(),
                "5.7.1",
            ),
        },
        (Why::Complaint, Provider::Gmail) => r(
            Stage::Data,
            format!(
                "421-4.7.28 [{SERVER_IP}      15] Our system has detected an unusual rate of\\n421-4.7.28 unsolicited mail originating from your IP address. To protect our\\n421-4.7.28 users from spam, mail sent from your IP address has been temporarily\\n421 4.7.28 rate limited. https://support.google.com/mail/?p=UnsolicitedRateLimitError {:013x}si{} - gsmtp",
                rng.next_u64() >> 12,
                rng.range(1_000_000, 9_999_999)
            ),
            "4.7.28",
        ),
        (Why::Complaint, Provider::Generic) => r(
            Stage::Mail,
            format!(
                "550 5.7.1 <{sender}>: mail from this sender is refused after complaints from our users"
            ),
            "5.7.1",
        ),
        (Why::Complaint, _) => r(
            Stage::Mail,
            format!(
                "421 4.7.0 [TSS04] Messages from {SERVER_IP} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"
            ),
            "4.7.0",
        ),
        (Why::SenderBlock, _) => match style(rdom, 2) {
            0 => r(
                Stage::Rcpt,
                format!("550 5.7.1 <{sender}>: Sender address rejected: Access denied"),
                "5.7.1",
            ),
            _ => r(
                Stage::Mail,
                format!("550 5.7.1 Mail from {sender} refused by the recipient's policy"),
                "5.7.1",
            ),
        },
        (Why::DomainListed, _) => match style(rdom, 2) {
            0 => r(
                Stage::Rcpt,
                format!(
                    "554 5.7.1 Service unavailable; Sender address [{sender}] blocked using {DBL}; https://www.spamhaus.org/query/dbl?domain={sdom}"
                ),
                "5.7.1",
            ),
            _ => r(
                Stage::Mail,
                format!("550 5.7.1 Sender domain {sdom} is listed at {DBL}"),
                "5.7.1",
            ),
        },
        _ => r(Stage::Connect, String::new(), "4.4.1"),
    }
}
