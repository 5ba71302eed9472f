//! The shared vocabulary of every stage: events, outcomes, clock hours and cPanel's rule.
//! Imports nothing of the crate outside `model` and `util`.

pub mod cpanel;
pub mod event;
pub mod hour;
pub mod outcome;
pub mod smtp;
pub mod thresholds;
