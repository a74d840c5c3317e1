#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| arima_fuzz::stored_model(data));
