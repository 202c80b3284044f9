#![no_main]
use libfuzzer_sys::fuzz_target;
use proofme::domain::WebhookSecret;
use proofme::webhooks::signing::verify;

fuzz_target!(|data: &str| {
    let _ = WebhookSecret::parse(data);
    if let Ok(secret) = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") {
        assert!(verify(&secret, "msg_1", 1_700_000_000, b"{}", data, 1_700_000_000, 300).is_err());
    }
});
