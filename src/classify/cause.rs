//! The causes of failure: one table (the `causes!` invocation below) generates the [`Cause`]
//! enum, [`Cause::ALL`], [`Cause::PRECEDENCE`], [`Cause::as_str`], [`Cause::describe`] and
//! the compiled-in pattern files.
//!
//! # Adding a cause
//!
//! 1. Add one entry to the table: its doc comment, variant, id (snake_case), rank and words
//!    for a support agent. The place in the table is its place in `Ord` (reports list causes
//!    in that order); the rank is its place in the precedence between pattern files (ranks
//!    go in steps of 10, so a new cause slots in between two others).
//! 2. Write `patterns/<id>.txt` (it is compiled in; the table names it) and positive
//!    examples in `fixtures/classify/<id>.txt` (`classify_fixtures_land_in_their_cause`
//!    checks them).
//! 3. Add the cause to the tables of `patterns/README.md`.

use std::fmt;

use serde::Serialize;

/// Generates the enum and its tables from one entry per cause:
/// `/// doc` `Variant = "id", rank N, "description";`.
macro_rules! causes {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident = $id:literal, rank $rank:literal, $describe:literal;
    )*) => {
        /// Why a delivery failed. The snake_case name ([`Cause::as_str`]) is the id used in
        /// pattern file names, JSON output and reports.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
        pub enum Cause {
            $(
                $(#[doc = $doc])*
                #[serde(rename = $id)]
                $name,
            )*
        }

        impl Cause {
            /// Every cause, in declaration (and `Ord`) order.
            pub const ALL: [Cause; COUNT] = [$(Cause::$name,)*];

            /// Pattern-file priority: when rules of several causes match one text, the cause
            /// listed first wins. It is the table's causes ordered by rank; the reasoning is in
            /// the comments of the table and in `patterns/README.md`.
            pub const PRECEDENCE: [Cause; COUNT] = by_rank([$($rank,)*]);

            /// The snake_case id, e.g. `user_unknown`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Cause::$name => $id,)*
                }
            }

            /// Plain words for a support agent.
            pub fn describe(self) -> &'static str {
                match self {
                    $(Cause::$name => $describe,)*
                }
            }
        }

        /// How many causes there are.
        const COUNT: usize = [$($id,)*].len();

        /// The built-in pattern files, compiled in: `patterns/<id>.txt` of every cause.
        pub(super) const BUILTIN: [(Cause, &str); COUNT] = [
            $((Cause::$name, include_str!(concat!("../../patterns/", $id, ".txt"))),)*
        ];
    };
}

// The ranks, in the order of precedence, and why:
// * local sending limits first: those texts come from our own MTA and mean the message was
//   never attempted;
// * a named block list or reputation verdict before everything that merely mentions "spam"
//   or "blocked" (`spamhaus` contains `spam`, `blocked using` contains `blocked`);
// * relaying and greylisting texts are unambiguous;
// * recipient mailbox facts (full, too large, disabled, unknown) before sender-side policy,
//   because a reply that names the mailbox is about the mailbox;
// * authentication (SPF/DKIM/DMARC/PTR) before rate limits, spam and generic blocks, because
//   providers explain those rejections with "to protect our users from spam";
// * generic policy blocks after all specific reasons;
// * "gave up after retrying" before network and remote faults, which it usually wraps, but
//   after every specific reason, which is more useful to report;
// * temporary network and DNS failures before "domain not found" rules, so that
//   `Host not found, try again` is not a missing domain;
// * remote server faults last.
causes! {
    /// The recipient mailbox does not exist.
    UserUnknown = "user_unknown", rank 80, "the address does not exist";
    /// The recipient mailbox is over quota.
    MailboxFull = "mailbox_full", rank 50, "the recipient's mailbox is full";
    /// The recipient mailbox exists but is disabled, suspended, locked or has moved.
    MailboxDisabled = "mailbox_disabled", rank 70,
        "the recipient's mailbox is disabled, suspended or closed";
    /// The recipient domain does not exist, has no (or a null) MX, or cannot be routed.
    DomainInvalid = "domain_invalid", rank 150,
        "the recipient's domain does not exist or cannot receive mail";
    /// Our sending IP, host or domain is on a DNSBL, a provider block list, or has a poor
    /// reputation.
    Blocklisted = "blocklisted", rank 20,
        "our sending server or domain is on a block list or has a poor reputation";
    /// The recipient or its organisation refuses this sender or message by policy, without
    /// pointing at a block list or reputation.
    Blocked = "blocked", rank 120, "the receiving side refuses mail from this sender";
    /// The message was judged spam, phishing or a virus.
    SpamContent = "spam_content", rank 110, "the message was judged to be spam or to carry a virus";
    /// SPF, DKIM, DMARC, reverse DNS / HELO, SMTP authentication, TLS requirements or RFC
    /// format compliance.
    AuthPolicy = "auth_policy", rank 90,
        "the message failed sender checks (SPF, DKIM, DMARC, reverse DNS, login or format rules)";
    /// The remote side throttles us (connections, messages or recipients per period).
    RateLimited = "rate_limited", rank 100, "the receiving server is limiting how fast we may send";
    /// Greylisting: a deliberate temporary refusal that a retry overcomes.
    Greylisted = "greylisted", rank 40,
        "the receiving server asked us to try again later (greylisting)";
    /// The message is larger than the remote side accepts.
    TooLarge = "too_large", rank 60, "the message is too large";
    /// The server refuses to relay for us (open-relay protection, unverified sender identity).
    RelayDenied = "relay_denied", rank 30, "the server refused to pass the message on for us";
    /// Timeouts, refused or lost connections, unreachable hosts, temporary DNS failures,
    /// routing loops.
    Network = "network", rank 140,
        "the receiving server could not be reached (timeout, refused connection or DNS failure)";
    /// A fault of the remote server (internal error, configuration error, disk full, service
    /// unavailable).
    RemoteError = "remote_error", rank 160, "the receiving server had an internal problem";
    /// The MTA gave up after the retry period.
    Expired = "expired", rank 130, "delivery was given up after retrying for too long";
    /// Our own server's sending limits (cPanel hourly limits, holds and suspensions, Exim
    /// ratelimit).
    SendingLimit = "sending_limit", rank 10, "our own server's sending limit stopped the message";
    /// None of the above, or not enough information.
    Other = "other", rank 170, "the reason could not be determined";
}

/// [`Cause::ALL`] ordered by `ranks` (one per cause, in the same order). Two causes with the
/// same rank stop the build.
const fn by_rank(mut ranks: [u32; COUNT]) -> [Cause; COUNT] {
    // A selection sort: `const fn` has no `sort`.
    let mut out = Cause::ALL;
    let mut i = 0;
    while i < COUNT {
        let mut min = i;
        let mut j = i + 1;
        while j < COUNT {
            if ranks[j] < ranks[min] {
                min = j;
            }
            j += 1;
        }
        (ranks[i], ranks[min]) = (ranks[min], ranks[i]);
        (out[i], out[min]) = (out[min], out[i]);
        assert!(
            i == 0 || ranks[i] != ranks[i - 1],
            "two causes have the same rank"
        );
        i += 1;
    }
    out
}

impl Cause {
    /// The cause with this snake_case id.
    pub fn from_name(name: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
