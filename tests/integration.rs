//! Integration tests: one binary, one module per area.

mod classify;
mod corpus;
mod day;
mod diagnose;
mod docs;
mod escape;
mod follow;
mod follow_cmd;
mod fuzz_mutate;
mod golden;
mod postfix_bodies;
mod report;
mod synth;
mod util;
