//! Who sends what to whom in an adversarial log: every field of message `i` is drawn from a
//! generator seeded by (seed, i), so the same message can be rebuilt at any step.

use crate::names::{BIZ, FIRST, HELOS, LAST, ROLES, SUBJECTS, WORDS};
use crate::reply::{Reply, Stage, reply};
use crate::rng::SplitMix64;
use crate::sim::Why;
use crate::world::{Provider, doc_ip};

use super::{AdvConfig, AdvMode};

/// Hosted domains of the pooled senders, and accounts in each.
const HOSTED_DOMAINS: u64 = 50;
const ACCOUNTS_PER_DOMAIN: u64 = 10;
/// Remote recipients of the pooled kind, and remote domains of the distinct senders.
const REMOTE_RCPTS: u64 = 5000;
const GENERIC_DOMAINS: u64 = 1000;

/// The big providers: domain, kind, inbound MX and its address, outbound relay prefix.
const PROVIDERS: &[(&str, Provider, &str, &str, &str)] = &[
    (
        "gmail.com",
        Provider::Gmail,
        "gmail-smtp-in.l.google.com",
        "192.0.2.201",
        "mail-wm1-f",
    ),
    (
        "outlook.com",
        Provider::Microsoft,
        "outlook-com.olc.protection.outlook.com",
        "192.0.2.225",
        "mail-db8eur05on20",
    ),
    (
        "hotmail.com",
        Provider::Microsoft,
        "hotmail-com.olc.protection.outlook.com",
        "192.0.2.226",
        "mail-am6eur05on20",
    ),
    (
        "yahoo.com",
        Provider::Yahoo,
        "mta6.am0.yahoodns.net",
        "192.0.2.212",
        "sonic3",
    ),
];

/// A mail server outside: its domain's kind, MX host and address.
pub(super) struct Remote {
    pub(super) provider: Provider,
    pub(super) mx: String,
    pub(super) ip: String,
}

/// Where the message came from.
pub(super) struct Client {
    /// Reverse DNS name; `None` for a desktop client known only by its HELO.
    pub(super) host: Option<String>,
    pub(super) helo: &'static str,
    pub(super) ip: String,
    pub(super) port: u16,
}

/// What happens to the message's one recipient.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    /// Deferred once, then nothing more: the queue ID never completes.
    Deferred(Why),
    DeliveredLocal,
    DeliveredRemote,
    /// Refused for good; a bounce goes back to the sender.
    Bounced,
}

/// One message of the log, rebuilt from (seed, index).
pub(super) struct Msg {
    /// Index of the message (its arrival step).
    pub(super) i: u64,
    pub(super) arrived_ms: u64,
    pub(super) sender: String,
    /// SMTP AUTH id and cPanel user of a hosted sender.
    pub(super) auth: Option<(String, String)>,
    pub(super) client: Client,
    pub(super) rcpt: String,
    /// The recipient's server, for remote recipients.
    pub(super) remote: Option<Remote>,
    pub(super) fate: Fate,
    pub(super) size: u32,
    pub(super) tag: u64,
    pub(super) subject: &'static str,
    /// Draws for the outcome lines (reply texts, delays), after the fields above.
    pub(super) rng: SplitMix64,
}

impl Msg {
    pub(super) fn new(cfg: &AdvConfig, i: u64) -> Msg {
        let mut rng = SplitMix64::new(
            cfg.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.wrapping_mul(0xD1B5_4A32_D192_ED03),
        );
        rng.next_u64();
        let arrived_ms = i * 1000 / cfg.per_second.max(1);
        let size = (rng.exp(12_000.0) as u32).clamp(600, 5_000_000);
        let tag = rng.next_u64();
        let subject = *rng.pick(SUBJECTS);
        let (sender, auth, client) = match cfg.mode {
            AdvMode::Senders => distinct_sender(&mut rng, i),
            AdvMode::LocalSenders => distinct_mailbox(&mut rng, i),
            AdvMode::AuthDomains => distinct_hosted(&mut rng, i),
            AdvMode::OpenIds | AdvMode::FailingRcpts => pooled_hosted(&mut rng),
        };
        let (rcpt, remote, fate) = match cfg.mode {
            AdvMode::Senders => (pooled_local(&mut rng), None, Fate::DeliveredLocal),
            AdvMode::AuthDomains | AdvMode::LocalSenders => {
                let (a, r) = pooled_remote(&mut rng);
                (a, Some(r), Fate::DeliveredRemote)
            }
            AdvMode::OpenIds => {
                let (a, r) = pooled_remote(&mut rng);
                let why = *rng.pick(&[Why::Grey, Why::Full, Why::Rate]);
                (a, Some(r), Fate::Deferred(why))
            }
            AdvMode::FailingRcpts => {
                let (a, r) = distinct_remote(&mut rng, i);
                (a, Some(r), Fate::Bounced)
            }
        };
        Msg {
            i,
            arrived_ms,
            sender,
            auth,
            client,
            rcpt,
            remote,
            fate,
            size,
            tag,
            subject,
            rng,
        }
    }

    /// The sender's domain.
    pub(super) fn sender_domain(&self) -> &str {
        crate::domain_of(&self.sender)
    }

    /// The remote server's reply to this recipient (a deferral for `Deferred`, a refusal
    /// otherwise); the refusal text always names the recipient, so each is distinct.
    pub(super) fn reply(&mut self, iso: &str) -> Reply {
        let p = self
            .remote
            .as_ref()
            .map_or(Provider::Generic, |r| r.provider);
        let why = match self.fate {
            Fate::Deferred(why) => why,
            _ => Why::Unknown,
        };
        let rdom = crate::domain_of(&self.rcpt).to_string();
        let mut rep = reply(&mut self.rng, why, p, &self.rcpt, &rdom, iso);
        if why == Why::Unknown && !rep.text.contains(&self.rcpt) && p == Provider::Generic {
            rep = Reply {
                stage: Stage::Rcpt,
                text: format!("550 5.1.1 <{}>... User unknown", self.rcpt),
                dsn: "5.1.1",
            };
        }
        rep
    }
}

/// A hosted domain of the pool: `{word}{biz}.example.net` and its cPanel user.
fn hosted_domain(d: u64) -> (String, String) {
    let w = WORDS[(d % WORDS.len() as u64) as usize];
    let b = BIZ[(d % BIZ.len() as u64) as usize];
    (
        format!("{w}{b}.example.net"),
        format!("{}{}", &w[..w.len().min(4)], &b[..b.len().min(4)]),
    )
}

/// A desktop mail client of a hosted office.
fn office_client(rng: &mut SplitMix64, office: u64) -> Client {
    Client {
        host: None,
        helo: HELOS[rng.below(HELOS.len() as u64) as usize],
        ip: doc_ip("office", office as usize),
        port: rng.range(49152, 65535) as u16,
    }
}

/// One of the few hundred hosted accounts, authenticated from its office.
fn pooled_hosted(rng: &mut SplitMix64) -> (String, Option<(String, String)>, Client) {
    let a = rng.below(HOSTED_DOMAINS * ACCOUNTS_PER_DOMAIN);
    let d = a % HOSTED_DOMAINS;
    let (dom, cpuser) = hosted_domain(d);
    let addr = format!(
        "{}@{dom}",
        ROLES[(a / HOSTED_DOMAINS) as usize % ROLES.len()]
    );
    (addr.clone(), Some((addr, cpuser)), office_client(rng, d))
}

/// The hosted mailbox of message `i` alone, in one of the pooled hosted domains, authenticated
/// from its domain's office.
fn distinct_mailbox(rng: &mut SplitMix64, i: u64) -> (String, Option<(String, String)>, Client) {
    let d = rng.below(HOSTED_DOMAINS);
    let (dom, cpuser) = hosted_domain(d);
    let addr = format!("{}@{dom}", unique_local(i, "."));
    (addr.clone(), Some((addr, cpuser)), office_client(rng, d))
}

/// The hosted domain of message `i` alone (`{word}{biz}{n}.example.com`, cPanel user
/// `{wor}{biz}{n}`), its one account authenticated from an office.
fn distinct_hosted(rng: &mut SplitMix64, i: u64) -> (String, Option<(String, String)>, Client) {
    let (nw, nb) = (WORDS.len() as u64, BIZ.len() as u64);
    let w = WORDS[(i % nw) as usize];
    let b = BIZ[((i / nw) % nb) as usize];
    let n = i / (nw * nb);
    let dom = format!("{w}{b}{n}.example.com");
    let cpuser = format!("{}{}{n}", &w[..w.len().min(4)], &b[..b.len().min(4)]);
    let addr = format!("{}@{dom}", rng.pick(ROLES));
    (addr.clone(), Some((addr, cpuser)), office_client(rng, i))
}

/// A local part unique to `i`: `{first}{sep}{last}{n}`.
fn unique_local(i: u64, sep: &str) -> String {
    let (nf, nl) = (FIRST.len() as u64, LAST.len() as u64);
    format!(
        "{}{sep}{}{}",
        FIRST[(i % nf) as usize],
        LAST[((i / nf) % nl) as usize],
        i / (nf * nl)
    )
}

/// A remote domain (one of the big providers or one of the generic ones), its inbound server,
/// and the name and address of an outbound server of it.
fn remote_domain(rng: &mut SplitMix64) -> (String, Remote, (String, String)) {
    if rng.chance(0.6) {
        let (dom, provider, mx, ip, relay) = *rng.pick(PROVIDERS);
        let n = rng.below(100);
        let out = (
            format!("{relay}{n}.outbound.example"),
            doc_ip("relay", n as usize),
        );
        let remote = Remote {
            provider,
            mx: mx.to_string(),
            ip: ip.to_string(),
        };
        (dom.to_string(), remote, out)
    } else {
        let k = rng.below(GENERIC_DOMAINS);
        let (nw, nb) = (WORDS.len() as u64, BIZ.len() as u64);
        let dom = format!(
            "{}{}.example.org",
            WORDS[(k % nw) as usize],
            BIZ[((k / nw) % nb) as usize]
        );
        let remote = Remote {
            provider: Provider::Generic,
            mx: format!("mail.{dom}"),
            ip: doc_ip("remote", k as usize),
        };
        let out = (format!("mail.{dom}"), remote.ip.clone());
        (dom, remote, out)
    }
}

/// The remote sender of message `i` alone, connecting from its domain's outbound server.
fn distinct_sender(rng: &mut SplitMix64, i: u64) -> (String, Option<(String, String)>, Client) {
    let (dom, _, (host, ip)) = remote_domain(rng);
    let client = Client {
        host: Some(host),
        helo: "",
        ip,
        port: rng.range(32768, 60999) as u16,
    };
    (format!("{}@{dom}", unique_local(i, ".")), None, client)
}

/// One of a few thousand remote recipients (each always at the same domain).
fn pooled_remote(rng: &mut SplitMix64) -> (String, Remote) {
    let r = rng.below(REMOTE_RCPTS);
    let (dom, remote, _) = remote_domain(&mut SplitMix64::new(r ^ 0x5EED_0FC0_FFEE));
    (format!("{}@{dom}", unique_local(r, ".")), remote)
}

/// The remote recipient of message `i` alone.
fn distinct_remote(rng: &mut SplitMix64, i: u64) -> (String, Remote) {
    let (dom, remote, _) = remote_domain(rng);
    (format!("{}@{dom}", unique_local(i, "_")), remote)
}

/// One of the hosted mailboxes, as a local recipient.
fn pooled_local(rng: &mut SplitMix64) -> String {
    let a = rng.below(HOSTED_DOMAINS * ACCOUNTS_PER_DOMAIN);
    let (dom, _) = hosted_domain(a % HOSTED_DOMAINS);
    format!(
        "{}@{dom}",
        ROLES[(a / HOSTED_DOMAINS) as usize % ROLES.len()]
    )
}
