//! All the report's English about the diagnosis and what to do: the verdict words, the
//! evidence lines and advice of each [`Diagnosis`], and the next steps.

use std::collections::{BTreeMap, BTreeSet};

use super::{LimitRow, LimitSource, Report};
use crate::aggregate::SubjectKind;
use crate::classify::Cause;
use crate::diagnose::{Diagnosis, Example, GroupKind, Indicator, Note, Remedy, Sign, Verdict};
use crate::model::event::{LimitKind, Mta};
use crate::model::hour::Hour;
use crate::util::text::{percent, plural, short_reply};

/// The verdict in words.
pub fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::CompromisedAccount => "compromised account",
        Verdict::UnsolicitedMail => "unsolicited mail",
        Verdict::StaleList => "stale mailing list",
        Verdict::RecipientBlocking => "recipient blocking the sender",
        Verdict::SenderBlocklisted => "sender on a blocklist",
        Verdict::RemoteServerTrouble => "remote server trouble",
    }
}

/// What was found: a summary line, the met indicators, the notes and example errors, the
/// unmet indicators ("Not met: …") and the confidence basis. Figures come with their
/// thresholds.
pub fn evidence(d: &Diagnosis) -> Vec<String> {
    let f = &d.failures;
    let mut out = vec![format!(
        "{} and {} (threshold {} failure lines); causes: {}",
        plural(f.lines, "failure line", "failure lines"),
        plural(f.recipients, "failing recipient", "failing recipients"),
        f.min_failures,
        top_list(f.causes.iter().map(|(c, n)| (c.as_str(), *n)), 4)
    )];
    if f.explained > 0 {
        out[0].push_str(&format!(
            "; {} left out, explained by the server's listing or a destination's outage",
            plural(
                f.explained,
                "more failing recipient",
                "more failing recipients"
            )
        ));
    }
    out.extend(d.indicators.iter().filter(|i| i.met).map(indicator));
    out.extend(d.notes.iter().map(note));
    out.extend(d.indicators.iter().filter(|i| !i.met).map(indicator));
    out.push(format!(
        "Confidence {:.0}%: {} of {} indicators met",
        d.confidence * 100.0,
        d.met(),
        d.indicators.len()
    ));
    out
}

/// `a 3, b 2, c 1 and 4 more`, largest first.
fn top_list<'x>(items: impl Iterator<Item = (&'x str, u64)>, show: usize) -> String {
    let mut v: Vec<(&str, u64)> = items.collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut s = v
        .iter()
        .take(show)
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    if v.len() > show {
        s.push_str(&format!(" and {} more", v.len() - show));
    }
    s
}

/// [`top_list`] of (domain, recipients) pairs.
fn domains(by_domain: &[(String, u64)]) -> String {
    top_list(by_domain.iter().map(|(d, n)| (d.as_str(), *n)), 4)
}

/// `a, b, c and 4 more`.
pub(super) fn name_list<S: AsRef<str>>(items: &[S], show: usize) -> String {
    let mut s = items
        .iter()
        .take(show)
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > show {
        s.push_str(&format!(" and {} more", items.len() - show));
    }
    s
}

/// The met text, or the unmet one as "Not met: {what} — {text}".
fn met_or(i: &Indicator, met: &str, unmet: &str, text: String) -> String {
    if i.met {
        format!("{met}{text}")
    } else {
        format!("Not met: {unmet} — {text}")
    }
}

/// One indicator as an evidence line.
fn indicator(i: &Indicator) -> String {
    match &i.sign {
        Sign::VolumeJump { .. } => volume_jump(i),
        Sign::ClientIps { .. } => client_ips(i),
        Sign::OneDestination { .. } => one_destination(i),
        Sign::FailedLogins { .. } | Sign::NormalLogins { .. } => logins(i),
        Sign::WideMailing { .. }
        | Sign::SpamRefusals { .. }
        | Sign::ListedAt { .. }
        | Sign::DeadSpread { .. }
        | Sign::RefusedAt { .. } => spread(i),
        Sign::MainShare { .. } | Sign::OneOrganisation { .. } | Sign::RefusedDeliveries { .. } => {
            share(i)
        }
        Sign::SpamOutlier {
            refused,
            tried,
            expected,
            p,
            accounts,
            alpha,
            min_percent,
        } => met_or(
            i,
            "Refused as spam far more often than the other accounts: ",
            "outlier against the other accounts",
            format!(
                "{refused} of {} ({:.1}%) where their rate expects {expected:.1} \
                 (chance {}; threshold {} over {} and at least {min_percent}%)",
                plural(*tried, "recipient tried", "recipients tried"),
                *refused as f64 * 100.0 / (*tried).max(1) as f64,
                chance(*p),
                chance(*alpha),
                plural(*accounts, "account", "accounts"),
            ),
        ),
        Sign::AcceptedElsewhere { .. }
        | Sign::DeliveredElsewhere { .. }
        | Sign::NoBlocklist { .. }
        | Sign::OthersAccepted { .. }
        | Sign::OthersFailing { .. } => elsewhere(i),
    }
}

/// Failed logins and the login pattern.
fn logins(i: &Indicator) -> String {
    match &i.sign {
        Sign::FailedLogins {
            failures,
            ips,
            threshold,
        } => met_or(
            i,
            "Password attack: ",
            "failed logins",
            format!(
                "{} logged with this login name, from {} (threshold {threshold})",
                plural(*failures, "failed login", "failed logins"),
                plural(*ips, "IP", "IPs"),
            ),
        ),
        Sign::NormalLogins {
            ips,
            failed_logins,
            ips_threshold,
            logins_threshold,
        } => met_or(
            i,
            "Normal login pattern: ",
            "normal login pattern",
            format!(
                "{} and {} (thresholds {ips_threshold} and {logins_threshold})",
                plural(*ips, "client network", "client networks"),
                plural(*failed_logins, "failed login", "failed logins"),
            ),
        ),
        _ => unreachable!("logins takes FailedLogins or NormalLogins"),
    }
}

/// How widely the mail went or was refused.
fn spread(i: &Indicator) -> String {
    match &i.sign {
        Sign::WideMailing { domains, threshold } => met_or(
            i,
            "Mailed ",
            "a wide mailing",
            format!(
                "{} (threshold {threshold})",
                plural(*domains, "recipient domain", "recipient domains"),
            ),
        ),
        Sign::SpamRefusals {
            by_domain,
            threshold,
        } => {
            let n = by_domain.len() as u64;
            met_or(
                i,
                "Mail ",
                "spam refusals",
                format!(
                    "refused as spam or for the sender's reputation at {} (threshold {threshold}){}",
                    plural(n, "destination", "destinations"),
                    if n > 0 {
                        format!(": {}", domains(by_domain))
                    } else {
                        String::new()
                    }
                ),
            )
        }
        Sign::ListedAt {
            rejections,
            lists,
            by_domain,
            threshold,
        } => met_or(
            i,
            "",
            "several destinations",
            format!(
                "{} naming a blocklist ({}) at {} (threshold {threshold}): {}",
                plural(*rejections, "rejection", "rejections"),
                name_list(lists, 4),
                plural(by_domain.len() as u64, "destination", "destinations"),
                domains(by_domain)
            ),
        ),
        Sign::DeadSpread {
            by_domain,
            threshold,
        } => met_or(
            i,
            "Dead addresses spread over ",
            "spread over many domains",
            format!(
                "{} (threshold {threshold}): {}",
                plural(
                    by_domain.len() as u64,
                    "recipient domain",
                    "recipient domains"
                ),
                domains(by_domain)
            ),
        ),
        Sign::RefusedAt {
            by_domain,
            threshold,
        } => met_or(
            i,
            "Refused at ",
            "refused at several destinations",
            format!(
                "{} (threshold {threshold}): {}",
                plural(by_domain.len() as u64, "destination", "destinations"),
                domains(by_domain)
            ),
        ),
        _ => unreachable!(
            "spread takes WideMailing or SpamRefusals or ListedAt or DeadSpread or RefusedAt"
        ),
    }
}

/// The share of the failing recipients a verdict explains, and how concentrated the refusals are.
fn share(i: &Indicator) -> String {
    match &i.sign {
        Sign::MainShare {
            group,
            part,
            whole,
            threshold,
        } => met_or(
            i,
            "",
            "main problem",
            format!(
                "{part} of {whole} failing recipients ({}%) {} (threshold {threshold}%)",
                percent(*part, *whole),
                group_words(*group)
            ),
        ),
        Sign::OneOrganisation {
            domains,
            at_them,
            refused,
            threshold,
        } => met_or(
            i,
            "Refusals come from one organisation: ",
            "one organisation",
            format!(
                "{at_them} of its {refused} refused recipients ({}%) are at {} (threshold \
                 {threshold}% on at most two domains)",
                percent(*at_them, *refused),
                domains.join(" and ")
            ),
        ),
        Sign::RefusedDeliveries {
            part,
            whole,
            threshold,
        } => met_or(
            i,
            "",
            "main problem",
            format!(
                "{part} of its {whole} failed deliveries ({}%) were refused there (threshold \
                 {threshold}%)",
                percent(*part, *whole)
            ),
        ),
        _ => unreachable!("share takes MainShare or OneOrganisation or RefusedDeliveries"),
    }
}

/// What happened to the mail elsewhere: deliveries, block lists named, other senders.
fn elsewhere(i: &Indicator) -> String {
    match &i.sign {
        Sign::AcceptedElsewhere {
            deliveries,
            domains,
        } => {
            if i.met {
                format!(
                    "Other destinations accepted its mail: {} to {}",
                    plural(*deliveries, "delivery", "deliveries"),
                    plural(*domains, "other domain", "other domains")
                )
            } else {
                "Not met: other destinations accept it — no delivery to another domain was seen"
                    .to_string()
            }
        }
        Sign::DeliveredElsewhere {
            deliveries,
            domains,
        } => {
            if i.met {
                format!(
                    "Its mail to other destinations was delivered: {} to {}",
                    plural(*deliveries, "delivery", "deliveries"),
                    plural(*domains, "other domain", "other domains")
                )
            } else {
                "Not met: delivered elsewhere — none of its mail to other domains was seen \
                 delivered"
                    .to_string()
            }
        }
        Sign::NoBlocklist { lists } => {
            if i.met {
                "No refusal names a blocklist".to_string()
            } else {
                format!(
                    "Not met: no blocklist — the refusals name {}",
                    name_list(lists, 3)
                )
            }
        }
        Sign::OthersAccepted {
            domains,
            refused,
            delivered,
        } => met_or(
            i,
            "Other senders' mail there is accepted: ",
            "others accepted there",
            format!(
                "to {}, {} and {} refused",
                domains.join(" and "),
                plural(*delivered, "delivery", "deliveries"),
                plural(*refused, "recipient", "recipients")
            ),
        ),
        Sign::OthersFailing { domain, failures } => {
            if i.met {
                format!(
                    "Other senders' mail to {domain} failed too: {}",
                    plural(
                        *failures,
                        "more deferral or failure",
                        "more deferrals or failures"
                    )
                )
            } else {
                format!(
                    "Not met: other senders affected — no other sender mailed {domain} and failed"
                )
            }
        }
        _ => unreachable!(
            "elsewhere takes AcceptedElsewhere or DeliveredElsewhere or NoBlocklist or OthersFailing"
        ),
    }
}

/// What the failing recipients of a main share are.
fn group_words(g: GroupKind) -> &'static str {
    match g {
        GroupKind::Dead => "are addresses that do not exist, are disabled or whose domain is gone",
        GroupKind::Listed => "were refused by a blocklist",
        GroupKind::Spam => "were refused as spam or for the sender's reputation",
        GroupKind::Refused => "were refused by the destination",
        GroupKind::Trouble => {
            "could not be delivered because the destination timed out, refused connections \
             or reported a temporary fault"
        }
    }
}

fn volume_jump(i: &Indicator) -> String {
    let Sign::VolumeJump {
        peak,
        usual,
        other_hours,
        factor,
        floor,
    } = &i.sign
    else {
        unreachable!("volume_jump takes a VolumeJump")
    };
    let th = format!("threshold: {factor}× the usual and at least {floor}");
    let Some((h, peak)) = peak else {
        return format!("Not met: volume jump — no message of it was seen arriving ({th})");
    };
    match usual {
        None => format!(
            "Not met: volume jump — {peak} recipients in {}, but the log covers a single hour, \
             so there is no usual volume to compare with ({th})",
            h.display()
        ),
        Some(u) => met_or(
            i,
            "Volume jump: ",
            "volume jump",
            format!(
                "{peak} recipients in the hour {} against a usual {u:.1} per hour over the other \
                 {other_hours} hours of the log ({th})",
                h.display(),
            ),
        ),
    }
}

fn client_ips(i: &Indicator) -> String {
    let Sign::ClientIps {
        ips,
        threshold,
        suspicious_scripts,
    } = &i.sign
    else {
        unreachable!("client_ips takes a ClientIps")
    };
    let n = ips.len() as u64;
    let list = name_list(ips, 4);
    if n >= *threshold {
        format!(
            "Logged in from {n} distinct client networks (IPv4 /24, IPv6 /48; threshold {threshold}): {list}"
        )
    } else if !suspicious_scripts.is_empty() {
        format!(
            "Mail came from a script in an upload, cache or temporary folder, where no \
             legitimate mailer lives: {}",
            name_list(suspicious_scripts, 2)
        )
    } else {
        format!(
            "Not met: many client networks — {} ({}; threshold {threshold})",
            plural(n, "client network", "client networks"),
            if list.is_empty() {
                "none logged"
            } else {
                &list
            },
        )
    }
}

fn one_destination(i: &Indicator) -> String {
    let Sign::OneDestination {
        domain,
        host,
        by_host,
        at_it,
        recipients,
        threshold,
    } = &i.sign
    else {
        unreachable!("one_destination takes a OneDestination")
    };
    let dest_words = match host {
        Some(h) if *by_host => format!("the mail server {h}"),
        Some(h) => format!("{domain} (mail server {h})"),
        None => domain.to_string(),
    };
    met_or(
        i,
        "Trouble concentrated on one destination: ",
        "one destination",
        format!(
            "{at_it} of its {recipients} deferred or timed-out recipients ({}%) are at \
             {dest_words} (threshold {threshold}% on one destination)",
            percent(*at_it, *recipients),
        ),
    )
}

/// One note as an evidence line.
fn note(n: &Note) -> String {
    match n {
        Note::DeadAddresses { recipients } => format!(
            "{recipients} addresses that do not exist, typical of a harvested or bought list"
        ),
        Note::Scripts { scripts } => format!("Submitted by script(s): {}", name_list(scripts, 2)),
        Note::ListedIp { ip } => format!("Listed address named in the rejections: {ip}"),
        Note::OthersListed { senders: 0 } => {
            "No other sender on this server was refused by these lists".to_string()
        }
        Note::OthersListed { senders } => format!(
            "{} on this server {} refused by the same list(s): the server's IP is probably \
             listed, not just this sender",
            plural(*senders, "other sender", "other senders"),
            if *senders == 1 { "was" } else { "were" }
        ),
        Note::HardBounces { dead, tried } => format!(
            "Hard-bounce rate: {dead} of the {tried} recipients it tried are dead addresses \
             ({}%; a maintained list stays under 2%)",
            percent(*dead, *tried)
        ),
        Note::RefusedRecipients {
            domains,
            accepted_there,
            addresses,
            total,
        } => {
            let names = domains.join(" and ");
            let shown = addresses.len().min(4);
            let mut refused = addresses[..shown].join(", ");
            if *total > shown as u64 {
                refused.push_str(&format!(" and {} more", total - shown as u64));
            }
            if *accepted_there > 0 {
                format!(
                    "{names} accepted {} of its other mail, so individual recipients block it: \
                     {refused}",
                    plural(*accepted_there, "delivery", "deliveries"),
                )
            } else {
                format!(
                    "{names} accepted none of its mail, so the whole organisation refuses it; \
                     refused: {refused}"
                )
            }
        }
        Note::RetryLines {
            lines,
            recipients,
            expired,
        } => format!(
            "{} for {}: on cPanel every retry counts towards the hourly defer/fail limit{}",
            plural(*lines, "failure line", "failure lines"),
            plural(*recipients, "recipient", "recipients"),
            if *expired > 0 {
                format!("; {expired} gave up after the retry period")
            } else {
                String::new()
            }
        ),
        Note::Examples(examples) => examples_line(examples),
    }
}

fn examples_line(examples: &[Example]) -> String {
    let parts: Vec<String> = examples
        .iter()
        .map(|e| format!("{}: \"{}\"", e.domain, short_reply(&e.reply)))
        .collect();
    format!(
        "{}: {}",
        if parts.len() == 1 {
            "Example error"
        } else {
            "Example errors"
        },
        parts.join("; ")
    )
}

/// "info@shop.example", "a@x, b@x (account shopusr)", "mail from shop.example".
fn who(d: &Diagnosis) -> String {
    match d.subject_kind {
        SubjectKind::SenderDomain => format!("mail from {}", d.subject),
        _ if d.subject.contains('@') => d.subject.clone(),
        _ if d.sender.mailboxes.is_empty() => format!("account {}", d.subject),
        _ => format!(
            "{} (account {})",
            name_list(&d.sender.mailboxes, 3),
            d.subject
        ),
    }
}

/// The subject as the object of a sentence: a sender domain by its name, else [`who`].
fn whom(d: &Diagnosis) -> String {
    match d.subject_kind {
        SubjectKind::SenderDomain => d.subject.clone(),
        _ => who(d),
    }
}

/// A command that removes the subject's queued mail.
fn purge_command(d: &Diagnosis) -> Option<String> {
    let (exim_pat, pf_test) = match d.subject_kind {
        SubjectKind::SenderDomain => (
            format!("'@{}$'", d.subject),
            format!("$7 ~ /@{}$/", d.subject.replace('.', "\\.")),
        ),
        _ => {
            let s = d.sender.address.as_deref()?;
            (s.to_string(), format!("$7 == \"{s}\""))
        }
    };
    Some(match d.sender.mta {
        // mailq: a header line, then one paragraph per message whose 7th field is the
        // sender; the queue ID may carry a `*` (active) or `!` (held) mark.
        Some(Mta::Postfix) => format!(
            "mailq | tail -n +2 | awk 'BEGIN {{ RS = \"\" }} {pf_test} {{ gsub(/[^0-9A-Za-z]/, \
             \"\", $1); print $1 }}' | postsuper -d -"
        ),
        _ => format!("exiqgrep -i -f {exim_pat} | xargs exim -Mrm"),
    })
}

pub(super) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Plain words a support agent can paste, with a command where one helps.
pub fn advice(d: &Diagnosis) -> String {
    let purge = |what: &str| {
        purge_command(d)
            .map(|c| format!(" {what}: {c}"))
            .unwrap_or_default()
    };
    match &d.remedy {
        Remedy::CompromisedAccount {
            script: Some(script),
        } => format!(
            "Someone is sending spam through a script on the website of {}. Delete the script \
             in {script}, update the site's CMS and plugins, and change the cPanel and FTP \
             passwords.{}",
            who(d),
            purge("Remove the spam still queued")
        ),
        Remedy::CompromisedAccount { script: None } => format!(
            "The password of {} has very likely been stolen. Change it now and check the mail \
             clients and devices that log in with it (scan them for malware); if the server's \
             IP gets listed, request delisting once the spam has stopped.{}",
            who(d),
            purge("Remove the spam still queued")
        ),
        Remedy::SenderBlocklisted { lists, ip } => format!(
            "{} is refused because {} on {}. Look the address up on the list's website, find \
             and stop what got it listed (often a compromised account or a spam run, see the \
             other causes here), then request delisting; until then, recipients using these \
             lists will not get its mail.",
            capitalise(&match d.subject_kind {
                SubjectKind::SenderDomain => format!("mail from {}", d.subject),
                _ => format!("mail from {}", who(d)),
            }),
            match ip {
                Some(ip) => format!("{ip} is listed"),
                None => "the sending server or domain is listed".to_string(),
            },
            name_list(lists, 4),
        ),
        Remedy::StaleList { dead } => format!(
            "{} is going to an old or bought list: {dead} addresses no longer exist. Remove them \
             before the next mailing (mailtrace report --suppression-list FILE exports them), \
             have the rest confirm their subscription, and send in smaller batches so the \
             hourly defer/fail limit is not tripped.",
            capitalise(&match d.subject_kind {
                SubjectKind::SenderDomain => format!("mail from {}", d.subject),
                _ => format!("the mailing of {}", who(d)),
            }),
        ),
        Remedy::UnsolicitedMail => format!(
            "Recipients' servers treat {} as spam. Stop the campaign and send only to people \
             who asked for the mail (confirmed opt-in), with a working unsubscribe link; if \
             the sender says it sent nothing, treat the account as compromised.{}",
            who(d),
            purge("Remove what is still queued")
        ),
        Remedy::RecipientBlocking { domains } => format!(
            "{} refuses mail from {} while other destinations accept it; nothing is wrong on \
             this server. Ask the recipients to add the sender to their allow list (or their \
             IT to contact postmaster@{}), and stop sending to them until they do, because each \
             refusal counts towards the hourly defer/fail limit.",
            domains.join(" and "),
            whom(d),
            domains.first().map(String::as_str).unwrap_or_default()
        ),
        Remedy::RemoteServerTrouble { domain, host } => format!(
            "The mail server of {domain}{} is not accepting mail (timeouts or temporary errors); \
             nothing is wrong with {}. The server keeps retrying: tell the sender the mail is \
             delayed, and if it lasts more than a day, ask the recipients to have their IT check \
             their mail server (MX).",
            match host {
                Some(h) => format!(" ({h})"),
                None => String::new(),
            },
            whom(d)
        ),
    }
}

/// Plain-words next steps, one per problem, most urgent first: limits the log shows
/// tripped, replayed trips and near misses, the diagnoses' advice, dead addresses to remove.
pub fn next_steps(r: &Report) -> Vec<String> {
    let mut seen_domains = BTreeSet::new();
    let mut out = log_limit_steps(r, &mut seen_domains);
    out.extend(replay_steps(r, &seen_domains));
    for d in &r.diagnoses {
        out.push(format!("{}: {}", d.subject, d.advice));
    }
    let permanent_dead = r
        .failed_recipients
        .iter()
        .filter(|f| {
            f.permanent
                && matches!(
                    f.cause,
                    Cause::UserUnknown | Cause::MailboxDisabled | Cause::DomainInvalid
                )
        })
        .count();
    if permanent_dead > 0 {
        out.push(format!(
            "Remove {permanent_dead} address(es) that do not exist from the senders' lists \
             (use --suppression-list FILE to export them)."
        ));
    }
    out
}

/// One step per (domain, hour) whose limit the log shows tripped; `seen` collects them.
fn log_limit_steps(r: &Report, seen: &mut BTreeSet<(String, Hour)>) -> Vec<String> {
    let mut out = Vec::new();
    for l in r.limits.iter().filter(|l| l.source == LimitSource::Log) {
        if !seen.insert((l.domain.clone(), l.hour)) {
            continue;
        }
        let what = match l.kind {
            LimitKind::DeferFail => "the maximum of deferred and failed messages per hour",
            LimitKind::EmailsPerHour => "the maximum of emails per hour",
            LimitKind::Other => "a sending restriction",
        };
        out.push(format!(
            "{} hit {} at {} and {} message(s) were refused until {}. Find the account behind \
             the failures (see Likely causes), stop the bad mail, then wait for the next hour \
             or remove /var/cpanel/email_send_limits/max_deferfail_{} to lift the block early.",
            l.domain,
            what,
            l.tripped_at
                .map(|t| t.local.format("%H:%M:%S").to_string())
                .unwrap_or_default(),
            l.discarded,
            Hour(l.hour.0 + 1).display(),
            l.domain,
        ));
    }
    out
}

/// Replayed trips and near misses of the configured rule (or 100%), one step per domain
/// not `seen` in the log, the domain with the worst hour first.
fn replay_steps(r: &Report, seen: &BTreeSet<(String, Hour)>) -> Vec<String> {
    let wanted = r.settings.limit_percent.unwrap_or(100);
    let mut by_domain: BTreeMap<&str, Vec<&LimitRow>> = Default::default();
    for l in r.limits.iter().filter(|l| {
        l.source == LimitSource::Replay
            && l.threshold_percent == Some(wanted)
            && !seen.contains(&(l.domain.clone(), l.hour))
    }) {
        by_domain.entry(&l.domain).or_default().push(l);
    }
    let mut lines: Vec<(u64, String)> = by_domain
        .into_iter()
        .filter_map(|(domain, rows)| replay_step(r, wanted, domain, &rows))
        .collect();
    lines.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    lines.into_iter().map(|(_, l)| l).collect()
}

/// The step for one domain's replay rows, with the defer+fail count of its worst hour.
fn replay_step(r: &Report, wanted: u64, domain: &str, rows: &[&LimitRow]) -> Option<(u64, String)> {
    let trips: Vec<&&LimitRow> = rows.iter().filter(|l| l.tripped_at.is_some()).collect();
    let worst = rows.iter().max_by(|a, b| {
        a.counts
            .defer_fail()
            .cmp(&b.counts.defer_fail())
            .then(b.hour.cmp(&a.hour))
    })?;
    let worst_df = worst.counts.defer_fail();
    let line = if let (Some(first), Some(last)) = (trips.first(), trips.last()) {
        let when = if trips.len() == 1 {
            format!(
                "at {}",
                first
                    .tripped_at
                    .map(|t| t.local.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default()
            )
        } else {
            format!(
                "in {} hours from {} to {}",
                trips.len(),
                first.hour.display(),
                last.hour.display()
            )
        };
        format!(
            "{domain} would trip cPanel's defer/fail limit ({} deferred or failed at \
             {wanted}%) {when}; its worst hour, {}, had {} deferred or failed of {}. Clean up \
             its failing recipients before the limit is enforced.",
            r.settings.limit_min,
            worst.hour.display(),
            worst_df,
            worst.counts.delivered + worst_df,
        )
    } else {
        format!(
            "{domain} came within {:.0}% of cPanel's defer/fail limit in the hour {} ({} \
             deferred or failed): watch it.",
            worst.closeness * 100.0,
            worst.hour.display(),
            worst_df,
        )
    };
    Some((worst_df, line))
}

/// A probability as evidence prints it: `1 in 3,400`, `< 1 in a million`.
fn chance(p: f64) -> String {
    if p >= 0.5 {
        format!("{:.0}%", p * 100.0)
    } else if p < 1e-6 {
        "< 1 in a million".to_string()
    } else {
        format!("1 in {:.0}", 1.0 / p)
    }
}
