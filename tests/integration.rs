//! Integration tests: one binary, one module per area.

mod corpus;
mod follow;
mod util;
