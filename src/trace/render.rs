//! The exigrep-like text of `trace`: a header per message, its log lines, one verdict per
//! recipient, and the lines of messages without a queue ID. Every string that came from a
//! log (IDs, addresses, file names, raw lines, reply texts) passes [`Show::text`], which
//! redacts when asked and always sanitises for the terminal.

use crate::classify::CachedClassifier;
use crate::correlate::{Ending, Message, RecipientState};
use crate::model::outcome::OutcomeKind;
use crate::util::redact;
use crate::util::sanitize::clean;
use crate::util::text::{one_line, reply_part, wrap};

/// How log text is shown: redacted (`--redact`) or not, always sanitised; verdict lines
/// wrapped to `width` columns.
#[derive(Debug, Clone, Copy)]
pub(super) struct Show {
    pub redact: bool,
    pub width: usize,
}

impl Show {
    /// Log text ready for the terminal.
    pub fn text(&self, s: &str) -> String {
        if self.redact {
            clean(&redact::text(s)).into_owned()
        } else {
            clean(s).into_owned()
        }
    }
}

/// One log line of a message: the file's index, the line number, the raw text.
pub(super) type Line = (usize, u64, String);

/// The `== ID from SENDER, account …, client …` header of a message.
fn header(show: Show, m: &Message) -> String {
    let from = match m.sender.as_deref() {
        Some("") => "<>".to_string(),
        Some(x) => show.text(x),
        None => "(unknown sender)".into(),
    };
    let mut s = format!("== {} from {}", show.text(&m.id), from);
    if let Some(a) = &m.account {
        s.push_str(&format!(", account {}", show.text(a)));
    }
    if let Some(ip) = &m.client_ip {
        s.push_str(&format!(", client {}", show.text(ip)));
    }
    if let Some(p) = &m.parent {
        s.push_str(&format!(" (bounce of {})", show.text(p)));
    }
    if let Some(p) = &m.chained_from {
        s.push_str(&format!(
            " (continues {} after a content filter)",
            show.text(p)
        ));
    }
    s.push('\n');
    s
}

/// A finished message: its header, its lines (`FILE:LINE: text`) and a verdict per
/// recipient, followed by a blank line.
pub(super) fn group(
    show: Show,
    files: &[String],
    classifier: &mut CachedClassifier<'_>,
    m: &Message,
    lines: &[Line],
) -> String {
    let mut s = header(show, m);
    for (f, n, text) in lines {
        let name = files.get(*f).map(String::as_str).unwrap_or_default();
        s.push_str(&format!("  {}:{}: {}\n", clean(name), n, show.text(text)));
    }
    for r in &m.recipients {
        let line = format!(
            "-> {}: {}",
            show.text(&r.address),
            verdict(show, classifier, r, m)
        );
        // Continuation lines are indented past the arrow.
        for (i, part) in wrap(&line, show.width.saturating_sub(5)).iter().enumerate() {
            s.push_str(if i == 0 { "  " } else { "     " });
            s.push_str(part);
            s.push('\n');
        }
    }
    if m.recipients.is_empty() && m.ending == Some(Ending::Incomplete) {
        s.push_str("  -> no delivery lines; still queued at the end of the log\n");
    }
    s.push('\n');
    s
}

/// A line without a queue ID (an SMTP-time rejection): `== KIND (no queue ID)` and the line.
pub(super) fn standalone(show: Show, kind: &str, file: &str, number: u64, text: &str) -> String {
    format!(
        "== {} (no queue ID)\n  {}:{}: {}\n\n",
        kind,
        clean(file),
        number,
        show.text(text)
    )
}

/// The cause of the recipient's last failure and, in parentheses, the whole reply on one line.
fn why(show: Show, classifier: &mut CachedClassifier<'_>, r: &RecipientState) -> String {
    let text = r.last_text.as_deref().unwrap_or("");
    let v = classifier.classify(r.last_code, r.last_status.as_deref(), text);
    let mut s = v.cause.as_str().replace('_', " ");
    if !text.is_empty() {
        s.push_str(&format!(" ({})", show.text(&one_line(reply_part(text)))));
    }
    s
}

/// What became of one recipient: `delivered after 2 deferrals`, `bounced: user unknown (…)`.
fn verdict(
    show: Show,
    classifier: &mut CachedClassifier<'_>,
    r: &RecipientState,
    m: &Message,
) -> String {
    let after = |n: u32| match n {
        0 => String::new(),
        1 => " after 1 deferral".into(),
        n => format!(" after {n} deferrals"),
    };
    match r.last {
        Some(OutcomeKind::Delivered) => format!("delivered{}", after(r.deferrals)),
        Some(OutcomeKind::Bounced) => format!(
            "bounced{}: {}",
            after(r.deferrals),
            why(show, classifier, r)
        ),
        Some(OutcomeKind::Rejected) => format!("rejected: {}", why(show, classifier, r)),
        Some(OutcomeKind::Expired) => format!(
            "expired after {} deferrals: {}",
            r.deferrals,
            why(show, classifier, r)
        ),
        Some(OutcomeKind::Deferred) => {
            let state = if m.ending == Some(Ending::Incomplete) {
                "still queued at the end of the log"
            } else {
                "then removed from the queue"
            };
            format!(
                "deferred {} time(s), {state}: {}",
                r.deferrals,
                why(show, classifier, r)
            )
        }
        None => "no delivery attempt logged".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Classifier;

    fn bounced(text: &str) -> RecipientState {
        RecipientState {
            address: "bob@example.com".into(),
            last: Some(OutcomeKind::Bounced),
            deferrals: 0,
            attempts: 1,
            last_text: Some(text.into()),
            last_code: Some(550),
            last_status: Some("5.1.1".into()),
        }
    }

    #[test]
    fn reply_text_in_the_verdict_is_sanitised() {
        let c = Classifier::builtin();
        let mut cc = CachedClassifier::new(&c);
        let r = bounced("550 5.1.1 \x1b]0;PWNED\x07 no such user \u{202e}x");
        let s = why(
            Show {
                redact: false,
                width: 100,
            },
            &mut cc,
            &r,
        );
        assert!(
            s.contains("(550 5.1.1 \\x1b]0;PWNED\\x07 no such user \\u{202e}x)"),
            "{s}"
        );
    }

    #[test]
    fn reply_text_in_the_verdict_is_redacted_when_asked() {
        let c = Classifier::builtin();
        let mut cc = CachedClassifier::new(&c);
        let r = bounced("550 5.1.1 <jane.doe@example.com>: user unknown");
        let s = why(
            Show {
                redact: true,
                width: 100,
            },
            &mut cc,
            &r,
        );
        assert!(!s.contains("jane.doe"), "{s}");
        assert!(s.contains("@example.com"), "{s}");
    }
}
