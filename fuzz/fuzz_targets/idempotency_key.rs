#![no_main]
use libfuzzer_sys::fuzz_target;
use proofme::api::input::parse_idempotency_key;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = parse_idempotency_key(data) {
        assert_eq!(key.as_bytes(), data);
    }
});
