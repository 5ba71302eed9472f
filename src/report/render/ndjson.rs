//! `--format ndjson`: the whole report as a stream of JSON objects, one per line, for days too
//! big for one document. The first line (`"list": "report"`) holds the header, settings,
//! totals and the bounded daily tables; then every entry of every list, in the order of the
//! JSON report, as its own object with `"list"` naming the list (`failed_recipients`,
//! `by_sender`, …) and the entry's members beside it (`"value"` for lists of strings). The
//! lists `--format json` cuts to `--top` (see `lists_cut`) come whole; findings, failing
//! senders and recipient domains obey `--top` as in every format (`--top 0`: all). Control characters are escaped as in `--format json`. A report whose
//! inputs failed starts with a `"list": "incomplete"` line naming them.

use std::io::{self, Write};

use serde::Serialize;

use crate::report::Report;
use crate::util::sanitize;

/// One entry of a list.
#[derive(Serialize)]
struct Entry<'a, T: Serialize> {
    list: &'a str,
    #[serde(flatten)]
    item: &'a T,
}

/// One entry of a list of strings.
#[derive(Serialize)]
struct Value<'a> {
    list: &'a str,
    value: &'a str,
}

/// The first line: everything but the lists.
#[derive(Serialize)]
struct Head<'a> {
    list: &'a str,
    version: u32,
    settings: &'a crate::report::Settings,
    files: &'a [crate::report::FileSummary],
    period: &'a crate::report::Period,
    lines: u64,
    unrecognised_lines: u64,
    malformed_lines: u64,
    totals: &'a crate::report::Totals,
    findings_not_shown: usize,
    failed_recipients_unlisted_lines: u64,
    top_senders: &'a crate::report::daily::VolumeTable<crate::report::daily::SenderVolumeRow>,
    top_recipients: &'a crate::report::daily::VolumeTable<crate::report::daily::RecipientVolumeRow>,
    mta_warnings: &'a crate::report::daily::WarningTable,
    frozen_messages: &'a crate::report::daily::MessageList,
    removed_messages: &'a crate::report::daily::MessageList,
}

fn list<T: Serialize>(w: &mut dyn Write, name: &str, items: &[T]) -> io::Result<()> {
    for item in items {
        sanitize::write_json_line(w, &Entry { list: name, item })?;
    }
    Ok(())
}

fn strings(w: &mut dyn Write, name: &str, items: &[String]) -> io::Result<()> {
    for value in items {
        sanitize::write_json_line(w, &Value { list: name, value })?;
    }
    Ok(())
}

/// The first line of the stream of a report whose inputs failed:
/// `{"list":"incomplete","complete":false,"errors":[…]}`.
pub fn render_incomplete(
    marker: &crate::report::Incomplete<'_>,
    w: &mut dyn Write,
) -> io::Result<()> {
    sanitize::write_json_line(
        w,
        &Entry {
            list: "incomplete",
            item: marker,
        },
    )
}

pub fn render(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let head = Head {
        list: "report",
        version: r.version,
        settings: &r.settings,
        files: &r.files,
        period: &r.period,
        lines: r.lines,
        unrecognised_lines: r.unrecognised_lines,
        malformed_lines: r.malformed_lines,
        totals: &r.totals,
        findings_not_shown: r.findings_not_shown,
        failed_recipients_unlisted_lines: r.failed_recipients_unlisted_lines,
        top_senders: &r.top_senders,
        top_recipients: &r.top_recipients,
        mta_warnings: &r.mta_warnings,
        frozen_messages: &r.frozen_messages,
        removed_messages: &r.removed_messages,
    };
    sanitize::write_json_line(w, &head)?;
    list(w, "findings", &r.findings)?;
    list(w, "by_hour", &r.by_hour)?;
    list(w, "by_sender_domain", &r.by_sender_domain)?;
    list(w, "by_account", &r.by_account)?;
    list(w, "by_sender", &r.by_sender)?;
    list(w, "by_recipient_domain", &r.by_recipient_domain)?;
    list(w, "limits", &r.limits)?;
    list(w, "failing_senders", &r.failing_senders)?;
    list(w, "failed_recipients", &r.failed_recipients)?;
    list(w, "recipient_domains", &r.recipient_domains)?;
    list(w, "local_relays", &r.local_relays)?;
    strings(w, "own_domains", &r.own_domains)?;
    list(w, "backscatter", &r.backscatter)?;
    list(w, "causes", &r.causes)?;
    list(w, "diagnoses", &r.diagnoses)?;
    strings(w, "next_steps", &r.next_steps)
}
