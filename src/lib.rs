//! mailtrace: trace deliveries and failures in Exim and Postfix mail logs.
//!
//! The modules in pipeline order; data flows down the list:
//!
//! 1. [`input`]: bytes → lines (files, standard input, gzip, rotated sets, and following
//!    live files like `tail -F` in [`input::tail`]).
//! 2. [`parse`]: line → [`model::event::Event`] (per MTA); [`parse::scan`] reads one whole
//!    input into events, [`parse::seek`] finds a time in a file.
//! 3. [`correlate`]: events → messages (by queue ID) → outcomes.
//! 4. [`classify`]: an MTA's reply → a cause.
//! 5. [`aggregate`]: outcomes → per-hour figures ([`aggregate::threaded`] runs it on a second thread).
//! 6. [`diagnose`]: figures → verdicts about senders, accounts and destinations.
//! 7. [`report`]: the report and its formats (text, Markdown, JSON, CSV).
//!
//! [`trace`] (for `mailtrace trace`) and [`alert`] (for `mailtrace follow`) consume the
//! correlator instead of the aggregates. [`model`] (shared types), [`util`] (leaf helpers)
//! and [`error`] (the error type and the exit status) sit below every stage. [`cli`] is the
//! command line and [`cmd`] the commands, which run the stages and are the only code that
//! prints diagnostics.

pub mod error;
pub mod model;
pub mod util;

pub mod input;
pub mod parse;

pub mod correlate;

pub mod classify;

pub mod aggregate;

pub mod diagnose;

pub mod report;

pub mod alert;
pub mod trace;

pub mod cli;
pub mod cmd;
