//! cargo-fuzz target `syslog`: [`targets::syslog`] on the fuzzer's bytes.
#![no_main]

#[allow(dead_code)]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::syslog(data));
