//! Integration tests: one binary, one module per area.

mod args;
mod broken_pipe;
mod classify;
mod corpus;
mod counting;
mod day;
mod diagnose;
mod docs;
mod exit_status;
mod fifo;
mod findings;
mod follow;
mod generated_docs;
mod golden;
mod gzip;
mod postfix_bodies;
mod progress;
mod redact;
mod redact_key;
mod report;
mod reserved;
mod stdin;
mod synth;
mod tail;
mod util;
