//! mailtrace: trace deliveries and failures in Exim and Postfix mail logs.
//!
//! Data flows one way: [`input`] (files, stdin, gzip, rotated sets) → [`parse`] (per MTA) →
//! [`event`] → `correlate` → `classify` → `aggregate` → `report`.

pub mod aggregate;
pub mod alert;
pub mod classify;
pub mod cli;
pub mod cmd;
pub mod correlate;
pub mod diagnose;
pub mod error;
pub mod input;
pub mod model;
pub mod parse;
pub mod pipeline;
pub mod report;
pub mod trace;
pub mod util;

/// [`parse::scan`], also at the crate root (`crate::scan::FileStats`).
pub use parse::scan;
