#![no_main]
use libfuzzer_sys::fuzz_target;
use proofme::domain::WebhookSecret;
use proofme::webhooks::signing::sign;

// The secret parser, and signing with whatever it accepts: any message id and
// body give one `v1,` signature.
fuzz_target!(|data: &str| {
    if let Ok(secret) = WebhookSecret::parse(data) {
        assert_eq!(WebhookSecret::parse(&secret.expose()), Ok(secret.clone()));
        let signature = sign(&secret, data, 1_700_000_000, data.as_bytes());
        assert!(signature.starts_with("v1,") && !signature.contains(' '));
    }
});
