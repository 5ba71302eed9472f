//! Integration tests: one binary, one module per area.

mod args;
mod classify;
mod corpus;
mod counting;
mod day;
mod diagnose;
mod docs;
mod follow;
mod golden;
mod gzip;
mod postfix_bodies;
mod report;
mod synth;
mod tail;
mod util;
