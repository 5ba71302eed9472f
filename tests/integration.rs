//! Integration tests: one binary, one module per area.

mod classify;
mod util;
