//! `--format csv`: one row per failing recipient, and the suppression list.
//! Fields are quoted as RFC 4180 says; a cell that a spreadsheet would run as a formula
//! (`=`, `+`, `-`, `@` first) is prefixed with `'`.

use std::io::{self, Write};

use crate::classify::Cause;
use crate::report::{FailedRecipient, Report};

/// One CSV field.
pub fn field(s: &str) -> String {
    crate::util::sanitize::csv_cell(s)
}

fn row(w: &mut dyn Write, cells: &[&str]) -> io::Result<()> {
    let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
    writeln!(w, "{}", line.join(","))
}

pub fn render(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    row(
        w,
        &[
            "recipient",
            "sender",
            "account",
            "outcome",
            "attempts",
            "code",
            "status",
            "cause",
            "permanent",
            "first",
            "last",
            "queue_ids",
            "text",
        ],
    )?;
    for f in &r.failed_recipients {
        let code = f.code.map(|c| c.to_string()).unwrap_or_default();
        let first = f.first.to_iso();
        let last = f.last.to_iso();
        let attempts = f.attempts.to_string();
        let qids = f.queue_ids.join(" ");
        row(
            w,
            &[
                &f.recipient,
                f.sender
                    .as_deref()
                    .map(crate::model::event::display_sender)
                    .unwrap_or(""),
                f.account.as_deref().unwrap_or(""),
                f.outcome.as_str(),
                &attempts,
                &code,
                f.status.as_deref().unwrap_or(""),
                f.cause.as_str(),
                if f.permanent { "yes" } else { "no" },
                &first,
                &last,
                &qids,
                f.text.as_deref().unwrap_or(""),
            ],
        )?;
    }
    Ok(())
}

/// Returns true if and only if the address should come off mailing lists: a permanent
/// failure saying it does not exist, is disabled, or its domain is invalid.
pub(crate) fn is_suppressible(f: &FailedRecipient) -> bool {
    f.permanent
        && matches!(
            f.cause,
            Cause::UserUnknown | Cause::MailboxDisabled | Cause::DomainInvalid
        )
}

/// The suppression list: `sender,address,cause,last_seen,count`.
pub(crate) fn render_suppression(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    row(w, &["sender", "address", "cause", "last_seen", "count"])?;
    for f in r.failed_recipients.iter().filter(|f| is_suppressible(f)) {
        let count = (f.attempts).to_string();
        row(
            w,
            &[
                f.sender
                    .as_deref()
                    .map(crate::model::event::display_sender)
                    .unwrap_or(""),
                &f.recipient,
                f.cause.as_str(),
                &f.last.to_iso(),
                &count,
            ],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_and_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=cmd()"), "'=cmd()");
        assert_eq!(field("x\x1by"), "x\\x1by");
    }
}
