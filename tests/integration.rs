//! Integration tests: one binary, one module per area.

mod classify;
mod corpus;
mod follow;
mod util;
