//! cargo-fuzz target `correlate`: [`targets::correlate`] on the fuzzer's bytes.
#![no_main]

#[allow(dead_code)]
#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::correlate(data));
