#![no_main]
use libfuzzer_sys::fuzz_target;
use proofme::http_common::{BodyFormat, Fields};

const KNOWN: &[&str] = &["proofmeId", "organisationId", "description", "redirectUrl", "metadata", "testmode"];

fuzz_target!(|data: &[u8]| {
    let _ = Fields::from_body(BodyFormat::Form, data, KNOWN);
    let _ = Fields::from_body(BodyFormat::Json, data, KNOWN);
});
