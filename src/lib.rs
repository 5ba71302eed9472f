//! mailtrace: trace deliveries and failures in Exim and Postfix mail logs.
//!
//! Data flows one way: [`input`] (files, stdin, gzip, rotated sets) → [`parse`] (per MTA) →
//! [`event`] → `correlate` → `classify` → `aggregate` → `report`.

pub mod aggregate;
pub mod alert;
pub mod app;
pub mod classify;
pub mod cli;
pub mod correlate;
pub mod diagnose;
pub mod follow;
pub mod follow_cmd;
pub mod input;
pub mod model;
pub mod parse;
pub mod report;
pub mod report_cmd;
pub mod scan;
pub mod trace;
pub mod util;
