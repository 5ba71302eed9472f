//! Command-line arguments (clap derive): raw flags only, and the one check clap cannot make
//! ([`Cli::parse_args`]: a bare FILE that looks like a mistyped subcommand). Validation and
//! defaults that need work (times, files, patterns) happen in [`crate::cmd`], the only module
//! that reads these.

use std::path::PathBuf;

use crate::model::thresholds::Thresholds;

/// The default of `--max-open`. An open message takes about 0.9 KB of peak memory in
/// `report` (its queue ID, sender, account, client and recipients, with its share of the
/// table and the order queue, and its size for the daily figures: 1M never-completed Exim
/// queue IDs took 467 MiB with a cap of 200,000, 380 MiB with 100,000 and 337 MiB with
/// 50,000), and more in `trace`, which keeps texts. A busy server has a few thousand to a
/// few tens of thousands of messages in flight within `--max-age`, so 100,000 leaves room
/// for a queue backed up several times over while `report` stays under 300 MiB.
pub const DEFAULT_MAX_OPEN: usize = 100_000;

/// The default of `--max-subjects`: sender domains, accounts and envelope senders, of each,
/// tracked one by one in `report`. Each costs about 1 to 2 KB (its per-hour table, cPanel
/// rule replay and evidence; 1M distinct authenticated sender domains took about 2.5 GB
/// uncapped). A busy cPanel server has a few thousand domains and accounts, and a day of
/// mail from tens of thousands of distinct senders still fits; past it only the least
/// active subjects with no failure are folded, into the totals.
pub const DEFAULT_MAX_SUBJECTS: usize = 50_000;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

/// The exit statuses, as `--help` and the man page state them.
pub(crate) const EXIT_STATUS_HELP: &str = "Exit status: 0 no problems found (or events/trace printed), \
1 the report found problems (a sending limit tripped or nearly tripped, or an offender was \
diagnosed) or trace found nothing, 2 an error (bad arguments, an unreadable, corrupt or \
unknown-format input, or nothing to analyse: no log line in the time range).";

/// Trace deliveries and failures in Exim and Postfix mail logs.
///
/// With no subcommand, `mailtrace [FILE...]` runs `report`.
#[derive(Debug, Parser)]
#[command(
    name = "mailtrace",
    version,
    about = "Trace deliveries and failures in Exim and Postfix mail logs",
    long_about = "Trace deliveries and failures in Exim and Postfix mail logs: which mail failed, \
for whom, why, and what to do about it.\n\nWith no subcommand, `mailtrace [FILE]...` runs `report`.",
    after_help = EXIT_STATUS_HELP,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub report: ReportArgs,
}

impl Cli {
    /// Parses the command line; a bad one exits with clap's message and status 2. A bare
    /// first FILE that is a subcommand's misspelling (`mailtrace reprot F`) or a flag without
    /// its dashes (`mailtrace version`) is a bad one too, with clap's suggestion: a file of
    /// that name is read when given with a path (`./reprot`) or after `--`. Names with a dot
    /// are files.
    pub fn parse_args() -> Cli {
        let cli = Cli::parse();
        let dashdash = std::env::args_os().any(|a| a == "--");
        if !dashdash && let Err(e) = cli.check_reserved_names() {
            e.exit();
        }
        cli
    }

    /// The error for a bare first FILE that looks like a mistyped subcommand or flag.
    pub(crate) fn check_reserved_names(&self) -> Result<(), clap::Error> {
        let Some(first) = self.report.input.files.first() else {
            return Ok(());
        };
        // A path, or a name with an extension (`events.log`), is never a subcommand.
        if self.command.is_some() || first.contains(['/', '.']) {
            return Ok(());
        }
        let mut cmd = Cli::command();
        let (kind, suggestion) = if let Some(sub) = similar_subcommand(&cmd, first) {
            (ContextKind::SuggestedSubcommand, sub)
        } else if cmd.get_arguments().any(|a| a.get_long() == Some(first))
            || first == "version"
            || first == "help"
        {
            (ContextKind::SuggestedArg, format!("--{first}"))
        } else {
            return Ok(());
        };
        let mut err = clap::Error::new(ErrorKind::InvalidSubcommand).with_cmd(&cmd);
        err.insert(
            ContextKind::InvalidSubcommand,
            ContextValue::String(first.clone()),
        );
        err.insert(kind, ContextValue::String(suggestion));
        err.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![
                format!("to read a file of that name, give its path: './{first}'").into(),
            ]),
        );
        err.insert(
            ContextKind::Usage,
            ContextValue::StyledStr(cmd.render_usage()),
        );
        Err(err)
    }
}

/// The subcommand `word` is most like, as clap's own suggestion measures it (Jaro > 0.7).
fn similar_subcommand(cmd: &clap::Command, word: &str) -> Option<String> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name())
        .chain(["help"])
        .map(|name| (strsim::jaro(word, name), name))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name.to_string())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the tracing deliveries and failures report (the default).
    ///
    /// The report: header (files, period, lines read and unrecognised), summary, sending
    /// limits, failing senders, offending recipients grouped by sender, recipient domains with
    /// problems, likely causes, and what to do next.
    Report(ReportArgs),
    /// Print every understood log line as one JSON object per line (NDJSON).
    ///
    /// One object per understood log line (see OUTPUT in the man page), and on stderr a
    /// one-line summary per file (`mailtrace: mail.log: 12,403 lines, 3 unrecognised`).
    Events(EventsArgs),
    /// Print every message that involves an address, queue ID or domain, like exigrep.
    ///
    /// An argument with `@` is an address, one shaped like an Exim message ID or a Postfix
    /// queue ID is a queue ID, anything else a domain (subdomains included). Each message's
    /// lines are grouped in order, bounces and content-filter continuations linked to their
    /// parent, with a one-line verdict per recipient. Exits 1 when nothing matched.
    Trace(TraceArgs),
    /// Follow live logs and warn before a domain hits its hourly sending limit.
    ///
    /// Follows the files like `tail -F` (across rename and copytruncate rotation, deletion
    /// and re-creation), keeps cPanel's hourly counters from the start of the current clock
    /// hour, and prints an alert when a sender domain nears or trips its limit, an account's
    /// volume or login IPs jump, or one failure cause bursts. On a terminal it shows a live
    /// table of the current hour. Ctrl-C prints the hour's summary and exits 0.
    Follow(FollowArgs),
    /// Print a shell completion script on stdout.
    ///
    /// For bash, zsh, fish, elvish or PowerShell: `mailtrace completions bash >
    /// /usr/local/share/bash-completion/completions/mailtrace` (see the README for each
    /// shell's folder).
    Completions(CompletionsArgs),
    /// Print the JSON Schema of `report --format json` or of `events` on stdout.
    ///
    /// JSON Schema 2020-12, generated from the types that are serialised; its `$id` names the
    /// schema version (the report's `version`, the events' `v`). The same files are in
    /// examples/schema/.
    Schema(SchemaArgs),
}

/// Arguments of `mailtrace schema`.
#[derive(Debug, Clone, Args)]
pub struct SchemaArgs {
    /// Which output's schema.
    #[arg(value_enum, value_name = "OUTPUT")]
    pub output: SchemaOutput,
}

/// The outputs `mailtrace schema` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaOutput {
    /// The JSON report (`report --format json`).
    Report,
    /// The NDJSON events (`events`, `follow --format events`), one object per line.
    Events,
}

/// Arguments of `mailtrace completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MtaArg {
    Exim,
    Postfix,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorArg {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FormatArg {
    #[default]
    Text,
    Markdown,
    /// One JSON document; lists cut to --top (what was cut is in `lists_cut`).
    Json,
    /// The whole report, one JSON object per line (`list` names the list); no --top cut.
    Ndjson,
    Csv,
}

/// Output formats of `follow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FollowFormatArg {
    #[default]
    Text,
    Json,
    /// The parsed events of the new lines, as `mailtrace events` prints them (no alerts).
    Events,
}

/// Options shared by every subcommand that reads logs.
#[derive(Debug, Clone, Args, Default)]
pub struct InputArgs {
    /// Log files to read (`-` for standard input; gzip, xz, bzip2 and zstd are recognised by content). A rotated
    /// set given in any order is read oldest first. Default: standard input when it is not a
    /// terminal and has data (not for follow), else the first that exists of
    /// /var/log/exim_mainlog, /var/log/exim4/mainlog, /var/log/exim/mainlog,
    /// /var/log/mail.log, /var/log/maillog.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,

    /// Parse every file as this MTA instead of detecting it.
    #[arg(long, value_enum, value_name = "MTA")]
    pub mta: Option<MtaArg>,

    /// Year of the first line of year-less (syslog) timestamps. Default: from the file's
    /// modification time.
    #[arg(long, value_name = "YEAR", value_parser = clap::value_parser!(i32).range(1970..=9999))]
    pub year: Option<i32>,

    /// Show the first unrecognised lines of each file on stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

/// Filters shared by `report` and `trace`.
#[derive(Debug, Clone, Args, Default)]
pub struct FilterArgs {
    /// Only events at or after this time: `YYYY-MM-DD[ HH:MM[:SS]]`, `today`, `yesterday`,
    /// or a duration back from the end of the log (`1h`, `30m`, `2d`); `now-1h` counts back
    /// from now.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only events before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Only the events of one day of the log's clock, 00:00 to 24:00: `today`, `yesterday`
    /// or `YYYY-MM-DD` (instead of --since and --until). `report` then adds the daily
    /// summary: hourly traffic, top senders and recipients by volume, MTA warnings, frozen
    /// and removed messages.
    #[arg(long, value_name = "DAY", conflicts_with_all = ["since", "until"])]
    pub day: Option<String>,

    /// Only messages from this envelope sender (address, or @domain).
    #[arg(long, value_name = "ADDRESS")]
    pub sender: Option<String>,

    /// Only messages sent by this account (SMTP AUTH id, local user, cPanel user).
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,

    /// Only messages whose sender or recipient is in this domain (subdomains included).
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
}

/// cPanel "max defers and failures per hour" rule.
#[derive(Debug, Clone, Args, Default)]
pub struct LimitArgs {
    /// Defers+failures a domain may have in a clock hour before the limit can trip
    /// (cPanel's "Number of failed or deferred messages a domain may send before protections
    /// can be triggered"). Default: 5. Given, the report replays the rule even on a log that
    /// is not from a cPanel server.
    #[arg(long, value_name = "N")]
    pub limit_min: Option<u64>,

    /// Percentage of defers+failures that trips the limit (cPanel's "Maximum percentage of
    /// failed or deferred messages a domain may send per hour"). Default: off, as on cPanel;
    /// the report then shows where it would trip at 100%, 50% and 25%.
    #[arg(long, value_name = "PERCENT", value_parser = clap::value_parser!(u64).range(1..=100))]
    pub limit_percent: Option<u64>,
}

#[derive(Debug, Clone, Args, Default)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filter: FilterArgs,

    #[command(flatten)]
    pub limit: LimitArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text, value_name = "FORMAT")]
    pub format: FormatArg,

    /// Rows per list (0 = all).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// Replace the local part of every address with a keyed hash (u-am6p6uf5wnxse@example.com),
    /// so the report can be pasted into a ticket.
    #[arg(long)]
    pub redact: bool,

    /// The key of --redact's keyed hash: the same key gives the same tokens, so reports of
    /// different days can be compared.
    #[arg(
        long,
        value_name = "KEY",
        env = "MAILTRACE_REDACT_KEY",
        hide_env_values = true
    )]
    pub redact_key: Option<String>,

    /// For cron: print nothing and exit 0 when no problem was found; no notes on stderr,
    /// only problems and errors.
    #[arg(short, long)]
    pub quiet: bool,

    /// When to use colour in text output.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN")]
    pub color: ColorArg,

    /// Width of the text output in columns, at least 40. Default: the terminal's width, or
    /// 100 when standard output is not a terminal.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(40..))]
    pub width: Option<u16>,

    /// Extra pattern files (`<cause>.txt`) that extend the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub patterns: Option<PathBuf>,

    /// Use only the pattern files in --patterns DIR, not the built-in ones.
    #[arg(long, requires = "patterns")]
    pub patterns_only: bool,

    /// Also write the addresses to remove from mailing lists (permanent user_unknown,
    /// mailbox_disabled, domain_invalid) as CSV to FILE: sender, address, cause, last_seen,
    /// count.
    #[arg(long, value_name = "FILE")]
    pub suppression_list: Option<PathBuf>,

    /// A queue ID with no new line for this many hours is folded as incomplete (which bounds
    /// memory).
    #[arg(long, value_name = "HOURS", default_value_t = 48)]
    pub max_age: u64,

    /// At most this many messages open at once: a new queue ID past it folds the one with
    /// the oldest last line as incomplete (counted as folded early), so memory has a ceiling
    /// (0 = no cap).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_OPEN)]
    pub max_open: usize,

    /// At most this many sender domains, this many accounts and this many envelope senders
    /// tracked one by one: past it the least active with no failure are folded into the
    /// totals (counted, and said in the report), so memory has a ceiling (0 = no cap).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_SUBJECTS)]
    pub max_subjects: usize,

    // Last: its help heading applies to every flag after it.
    #[command(flatten)]
    pub thresholds: Thresholds,
}

#[derive(Debug, Clone, Args, Default)]
pub struct EventsArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Replace the local part of every address with a keyed hash, in every field.
    #[arg(long)]
    pub redact: bool,

    /// The key of --redact's keyed hash (as for report).
    #[arg(
        long,
        value_name = "KEY",
        env = "MAILTRACE_REDACT_KEY",
        hide_env_values = true
    )]
    pub redact_key: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct TraceArgs {
    /// An address, a queue ID or a domain.
    #[arg(value_name = "ADDRESS|QUEUE_ID|DOMAIN")]
    pub target: String,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filter: FilterArgs,

    /// Replace local parts of addresses with a keyed hash.
    #[arg(long)]
    pub redact: bool,

    /// The key of --redact's keyed hash (as for report).
    #[arg(
        long,
        value_name = "KEY",
        env = "MAILTRACE_REDACT_KEY",
        hide_env_values = true
    )]
    pub redact_key: Option<String>,

    /// When to use colour.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN")]
    pub color: ColorArg,

    /// Width of the text output in columns, at least 40. Default: the terminal's width, or
    /// 100 when standard output is not a terminal.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(40..))]
    pub width: Option<u16>,

    /// At most this many messages open at once: a new queue ID past it folds the one with
    /// the oldest last line as incomplete (counted as folded early), so memory has a ceiling
    /// (0 = no cap).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_OPEN)]
    pub max_open: usize,
}

#[derive(Debug, Clone, Args)]
pub struct FollowArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub limit: LimitArgs,

    /// Warn when a domain reaches this percentage of its trip condition: defers+fails of at
    /// least PERCENT% of --limit-min (rounded up) and a defer+fail percentage of at least
    /// PERCENT% of --limit-percent (of 100% when that is off).
    #[arg(long, value_name = "PERCENT", default_value_t = 80,
          value_parser = clap::value_parser!(u64).range(1..=100))]
    pub warn_at: u64,

    /// Replay each file from its start instead of from the start of the current hour.
    #[arg(long)]
    pub from_start: bool,

    /// Poll the files instead of using file-system notifications.
    #[arg(long)]
    pub poll: bool,

    /// Poll interval in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub poll_interval: u64,

    /// Run CMD for each alert, with the alert as JSON on its standard input.
    #[arg(long, value_name = "CMD")]
    pub alert_command: Option<String>,

    /// Alert output: text lines (with a live table on a terminal) or NDJSON; or, with
    /// `events`, no alerts but every new line's event as NDJSON (the schema of `mailtrace
    /// events`; `line` is the line's number in its file), from the end of each file (from
    /// its start with --from-start).
    #[arg(long, value_enum, default_value_t = FollowFormatArg::Text, value_name = "FORMAT")]
    pub format: FollowFormatArg,

    /// A queue ID with no new line for this many hours is folded as incomplete.
    #[arg(long, value_name = "HOURS", default_value_t = 48)]
    pub max_age: u64,

    /// At most this many messages open at once: a new queue ID past it folds the one with
    /// the oldest last line as incomplete (counted as folded early), so memory has a ceiling
    /// (0 = no cap).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_OPEN)]
    pub max_open: usize,

    /// Alert when this many failures of one cause arrive within 10 minutes (0 = off).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub burst: u64,

    /// Read back this many hours before the current one to learn each account's usual
    /// hourly volume (0 = no volume alerts).
    #[arg(long, value_name = "HOURS", default_value_t = 6,
          value_parser = clap::value_parser!(u64).range(0..=168))]
    pub baseline: u64,

    /// Alert when an account submits more than K times its hourly average of the baseline
    /// hours in one hour (and at least --account-min messages).
    #[arg(long, value_name = "K", default_value_t = 5.0)]
    pub account_factor: f64,

    /// The fewest messages in an hour that can count as an account's volume jump.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub account_min: u64,

    /// Alert when an account's mail comes from this many client IPs in one hour (0 = off).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub account_ips: u64,

    /// Kill an --alert-command still running after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub alert_timeout: u64,

    /// Pretend the time is now TIME (`YYYY-MM-DD HH:MM:SS`, local time) when choosing the
    /// hour to read back. For tests.
    #[arg(long, value_name = "TIME", env = "MAILTRACE_NOW", hide = true)]
    pub now: Option<String>,

    /// When to use colour.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN")]
    pub color: ColorArg,

    /// Serve Prometheus metrics on http://ADDR/metrics while following: an IP address and
    /// port (`127.0.0.1:9425`, `[::1]:9425`; port 0 picks a free one). The address served is
    /// named on stderr at start. Not with --format events.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,

    /// At most this many sender domains and this many accounts get series of their own in
    /// --metrics; the others are counted under the label value `(other)`.
    #[arg(long, value_name = "N", default_value_t = 200, requires = "metrics",
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub metrics_max_series: u64,

    /// Replace the local part of every account that is an address in the --metrics labels
    /// with a keyed hash, as report --redact does (sender domains stay in clear).
    #[arg(long, requires = "metrics")]
    pub redact: bool,

    /// The key of --redact's keyed hash (as for report).
    #[arg(
        long,
        value_name = "KEY",
        env = "MAILTRACE_REDACT_KEY",
        hide_env_values = true
    )]
    pub redact_key: Option<String>,
}
