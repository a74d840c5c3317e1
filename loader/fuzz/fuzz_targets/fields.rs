#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| loader_fuzz::fields(data));
