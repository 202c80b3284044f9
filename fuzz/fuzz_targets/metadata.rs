#![no_main]
use libfuzzer_sys::fuzz_target;
use proofme::domain::Metadata;

fuzz_target!(|data: &str| {
    if let Ok(Some(m)) = Metadata::from_form(data) {
        assert!(m.to_json_string().len() <= Metadata::MAX_BYTES);
    }
});
