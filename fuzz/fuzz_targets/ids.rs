#![no_main]
use libfuzzer_sys::fuzz_target;
use proofme::domain::{ApiKeyId, IdentificationId, OrganisationId, ProofmeId};

fuzz_target!(|data: &str| {
    if let Ok(id) = IdentificationId::parse(data) {
        assert_eq!(id.as_str(), data);
    }
    let _ = ProofmeId::parse(data);
    let _ = OrganisationId::parse(data);
    let _ = ApiKeyId::parse(data);
});
