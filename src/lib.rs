//! mailtrace: trace deliveries and failures in Exim and Postfix mail logs.
//!
//! Data flows one way: [`input`] (files, stdin, gzip, rotated sets) → [`parse`] (per MTA) →
//! [`event`] → `correlate` → `classify` → `aggregate` → `report`.

pub mod event;
pub mod input;
pub mod parse;
pub mod synth;
