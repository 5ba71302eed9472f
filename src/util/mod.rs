//! Leaf helpers: hashing, text, sanitising and redacting output, time arguments. Import
//! nothing of the crate.

pub mod hash;
pub mod intern;
pub mod redact;
pub mod sanitize;
pub mod sorted;
pub mod text;
pub mod timearg;
