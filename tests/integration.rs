//! Integration tests: one binary, one module per area.

mod classify;
mod corpus;
mod follow;
mod postfix_bodies;
mod util;
