//! Integration tests: one binary, one module per area.

mod corpus;
mod postfix_bodies;
mod util;
