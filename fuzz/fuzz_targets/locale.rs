#![no_main]
use libfuzzer_sys::fuzz_target;
use proofme::domain::Locale;
use proofme::mypage::i18n::Lang;

fuzz_target!(|data: &str| {
    if let Ok(locale) = Locale::parse(data) {
        assert_eq!(locale.as_str().len(), 5);
    }
    let _ = Lang::from_tag(data);
    let _ = Lang::from_accept_language(data);
});
