#![no_main]
use libfuzzer_sys::fuzz_target;
use proofme::domain::HttpUrl;

fuzz_target!(|data: &str| {
    if let Ok(url) = HttpUrl::parse(data) {
        assert!(matches!(url.url().scheme(), "http" | "https"));
        assert_eq!(HttpUrl::parse(url.as_str()), Ok(url.clone()));
    }
});
