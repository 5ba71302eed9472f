//! `mailtrace completions SHELL` (clap_complete), and the man page generated from the clap
//! definitions (clap_mangen) with the hand-written prose of `man/prose.roff` around it.
//! `man/mailtrace.1` is [`man_page`] as `cargo run --example man` writes it; a test checks.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_mangen::Man;

use crate::cli::Cli;
use crate::error::{Exit, Result};

/// The hand-written parts: before its first `.SH`, more DESCRIPTION; then whole sections.
const PROSE: &str = include_str!("../../man/prose.roff");

/// Prints the completion script for `shell` on stdout. (Generated into memory first:
/// clap_complete panics when its writer fails, e.g. on a closed pipe.)
pub(super) fn completions(shell: clap_complete::Shell) -> Result<Exit> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "mailtrace", &mut script);
    let mut out = io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(Exit::Ok)
}

/// The man page (roff): NAME, SYNOPSIS (every subcommand), DESCRIPTION, COMMANDS, the
/// options of `report` (the default) and of each other subcommand, then the prose sections.
pub fn man_page() -> io::Result<Vec<u8>> {
    let mut cmd = Cli::command();
    cmd.build();
    let version = cmd.get_version().unwrap_or_default().to_string();
    let subs: Vec<clap::Command> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .cloned()
        .collect();
    let man = Man::new(cmd.clone())
        .title("MAILTRACE")
        .source(format!("mailtrace {version}"))
        .manual("User Commands");
    let (more_description, sections) = PROSE.split_at(PROSE.find("\n.SH ").map_or(0, |i| i + 1));

    let mut w = Vec::new();
    man.render_title(&mut w)?;
    w.extend(body(&man, Man::render_name_section)?);
    writeln!(w, ".SH SYNOPSIS")?;
    write_synopsis(&mut w, &cmd)?;
    for sub in &subs {
        write_synopsis(&mut w, sub)?;
    }
    w.extend(body(&man, Man::render_description_section)?);
    w.extend_from_slice(b".PP\n");
    w.extend_from_slice(more_description.as_bytes());
    write_commands(&mut w, &subs)?;
    w.extend(body(&man, Man::render_options_section)?);
    for sub in subs
        .iter()
        .filter(|s| s.get_name() != "report" && has_options(s))
    {
        let options = body(&Man::new(sub.clone()), Man::render_options_section)?;
        w.extend(demoted(&options, sub.get_name()));
    }
    w.extend_from_slice(sections.as_bytes());
    Ok(ascii_only(&String::from_utf8_lossy(&w)).into_bytes())
}

/// `roff` with every non-ASCII character as a `\[uXXXX]` escape, which every formatter reads
/// whatever its input encoding.
fn ascii_only(roff: &str) -> String {
    let mut out = String::with_capacity(roff.len());
    for c in roff.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("\\[u{:04X}]", c as u32));
        }
    }
    out
}

/// Returns true if and only if `cmd` takes a flag other than `--help`.
fn has_options(cmd: &clap::Command) -> bool {
    cmd.get_arguments()
        .any(|a| !a.is_positional() && !a.is_hide_set() && a.get_long() != Some("help"))
}

/// `cmd`'s usage lines as clap prints them, the command path in bold, one per line.
fn write_synopsis(w: &mut Vec<u8>, cmd: &clap::Command) -> io::Result<()> {
    let bin = cmd.get_bin_name().unwrap_or(cmd.get_name()).to_string();
    let usage = cmd.clone().render_usage().to_string();
    for line in usage.lines() {
        let line = line.trim().trim_start_matches("Usage:").trim();
        let rest = line.strip_prefix(bin.as_str()).unwrap_or(line);
        writeln!(w, "\\fB{}\\fR{}\n.br", roff_text(&bin), roff_text(rest))?;
    }
    Ok(())
}

/// COMMANDS: each subcommand in bold with its long help.
fn write_commands(w: &mut Vec<u8>, subs: &[clap::Command]) -> io::Result<()> {
    writeln!(w, ".SH COMMANDS")?;
    for sub in subs {
        writeln!(w, ".TP\n.B {}", sub.get_name())?;
        let about = sub.get_long_about().or(sub.get_about());
        for line in about.map(|a| a.to_string()).unwrap_or_default().lines() {
            if line.trim().is_empty() {
                writeln!(w, ".IP")?;
            } else {
                writeln!(w, "{}", roff_text(line))?;
            }
        }
    }
    writeln!(
        w,
        ".PP\n\\fBreport\\fR takes the options under OPTIONS, as does \\fBmailtrace\\fR with no \\
         subcommand."
    )
}

/// What `render` writes for `man`, without the string definitions roff repeats at the top
/// of each piece (the title has them once).
fn body(man: &Man, render: fn(&Man, &mut dyn Write) -> io::Result<()>) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    render(man, &mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with(".ie \\n(.g .ds Aq") && !l.starts_with(".el .ds Aq"))
        .map(|l| format!("{}\n", code_spans_bold(l)))
        .collect();
    Ok(kept.into_bytes())
}

/// A text line with the help's `code spans` in bold (control lines kept as they are).
fn code_spans_bold(line: &str) -> String {
    if line.starts_with('.') || !line.matches('`').count().is_multiple_of(2) {
        return line.to_string();
    }
    let mut out = String::new();
    for (i, part) in line.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("\\fB{part}\\fR"));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// A subcommand's options section under `.SH "NAME OPTIONS"`, its help headings as `.SS`.
fn demoted(options: &[u8], name: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(options);
    let mut out = String::new();
    for line in text.lines() {
        if line == ".SH OPTIONS" {
            out.push_str(&format!(".SH \"{} OPTIONS\"\n", name.to_uppercase()));
        } else if let Some(heading) = line.strip_prefix(".SH ") {
            out.push_str(&format!(".SS {heading}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// Plain text as roff: backslashes and a leading dot or quote made safe, hyphen-minus kept
/// a minus.
fn roff_text(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with(['.', '\'']) {
        format!("\\&{s}")
    } else {
        s
    }
}
