//! Property tests for every parser at the edge: whatever bytes arrive, parsing
//! answers (never panics), and what it accepts keeps its invariants. The
//! inputs are shaped to reach both sides of each check: well-formed values,
//! near misses (one bad character, a wrong prefix, one too many), and
//! anything at all; `the_generated_inputs_reach_acceptance_and_rejection`
//! keeps them so.

use proofme::api::input::parse_idempotency_key;
use proofme::domain::WebhookSecret;
use proofme::domain::{Description, HttpUrl, IdentificationId, Locale, Metadata, ProofmeId};
use proofme::http_common::{BodyFormat, Fields};
use proofme::mypage::i18n::Lang;
use proofme::webhooks::signing::sign;
use proptest::collection::SizeRange;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reqwest::header::HeaderMap;
use std::sync::LazyLock;

/// `s` with the character at `at` replaced by `bad`.
fn with_char_replaced(s: &str, at: Index, bad: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return s.to_owned();
    }
    let i = at.index(chars.len());
    let before: String = chars[..i].iter().collect();
    let after: String = chars[i + 1..].iter().collect();
    format!("{before}{bad}{after}")
}

/// The rule for identification ids, written out: `id_` and 22 to 64 base62.
fn is_identification_id(s: &str) -> bool {
    s.strip_prefix("id_").is_some_and(|rest| {
        (22..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

fn id_like() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[0-9A-Za-z]{22,64}".prop_map(|s| format!("id_{s}")),
        1 => "[0-9A-Za-z]{0,21}".prop_map(|s| format!("id_{s}")),
        1 => "[0-9A-Za-z]{65,80}".prop_map(|s| format!("id_{s}")),
        2 => ("[0-9A-Za-z]{22,64}", any::<Index>(), "[^0-9A-Za-z]")
            .prop_map(|(s, at, bad)| format!("id_{}", with_char_replaced(&s, at, &bad))),
        2 => (
            "(ID_|Id_|id-|id|i_|_id_| id_|id_ |pr_|org_|idx_|)",
            "[0-9A-Za-z]{22,64}"
        )
            .prop_map(|(prefix, s)| format!("{prefix}{s}")),
        1 => "\\PC{0,80}",
    ]
}

fn is_locale(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && b[..2].iter().all(u8::is_ascii_lowercase)
        && b[2] == b'_'
        && b[3..].iter().all(u8::is_ascii_uppercase)
}

fn locale_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{2}_[A-Z]{2}",
        ("[a-z]{2}_[A-Z]{2}", any::<Index>(), "[^_]")
            .prop_map(|(s, at, bad)| with_char_replaced(&s, at, &bad)),
        "[a-zA-Z]{1,3}[-_ ]?[a-zA-Z]{1,3}",
        "\\PC{0,8}",
    ]
}

fn url_like() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        3 => "https?://",
        1 => "(HTTPS://|Http://|ftp://|https:/|//|javascript:|)",
    ];
    let host = prop_oneof![
        3 => "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\\.[a-z0-9-]{1,8}){0,3}\\.?",
        1 => "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
        1 => "\\[[0-9a-f:]{2,24}\\]",
        1 => "[a-z]{1,8}(:[a-z]{0,8})?@[a-z]{1,8}\\.example",
        1 => "xn--[a-z0-9]{1,10}\\.example",
        1 => "\\PC{0,12}",
    ];
    let port = "(:[0-9]{0,6})?";
    let rest = "(/\\PC{0,20})?(\\?\\PC{0,10})?(#\\PC{0,5})?";
    prop_oneof![
        4 => (scheme, host, port, rest).prop_map(|(a, b, c, d)| format!("{a}{b}{c}{d}")),
        1 => "(https?://)?\\PC{0,60}",
    ]
}

fn is_idempotency_key(bytes: &[u8]) -> bool {
    (1..=255).contains(&bytes.len()) && bytes.iter().all(|b| (0x20..0x7f).contains(b))
}

fn idempotency_key_like() -> impl Strategy<Value = Vec<u8>> {
    let printable = |len: SizeRange| proptest::collection::vec(0x20u8..0x7f, len);
    prop_oneof![
        printable((1..=255).into()),
        printable((256..300).into()),
        Just(Vec::new()),
        (
            printable((1..=255).into()),
            any::<Index>(),
            prop_oneof![0u8..0x20, 0x7fu8..=0xff]
        )
            .prop_map(|(mut key, at, bad)| {
                let i = at.index(key.len());
                key[i] = bad;
                key
            }),
        proptest::collection::vec(any::<u8>(), 0..300),
    ]
}

/// JSON text with white space between tokens, duplicate members now and then.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        "-?[0-9]{1,25}(\\.[0-9]{1,5})?([eE][+-]?[0-9]{1,3})?",
        "\\PC{0,40}".prop_map(|s| serde_json::Value::from(s).to_string()),
    ];
    leaf.prop_recursive(3, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8)
                .prop_map(|items| format!("[ {} ]", items.join(" ,\n "))),
            proptest::collection::vec(("[a-c]{1,2}", inner), 0..8).prop_map(|members| {
                let members: Vec<String> = members
                    .iter()
                    .map(|(k, v)| format!("\"{k}\" : {v}"))
                    .collect();
                format!("{{ {} }}", members.join(",\t"))
            }),
        ]
    })
}

fn metadata_like() -> impl Strategy<Value = String> {
    prop_oneof![json_text(), "\\PC{0,1200}"]
}

// Webhook signatures, checked with the Standard Webhooks reference library
// (independent of Proofme's signing code).

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MSG_ID: &str = "msg_1";
const BODY: &str = r#"{"id":"id_4Fq9ZtK2mB7xL0pR8sV3wY0000000"}"#;
/// One timestamp for the run, near enough to now for the library's check.
static NOW: LazyLock<i64> = LazyLock::new(|| chrono::Utc::now().timestamp());

fn signature_of(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> String {
    let secret = WebhookSecret::parse(secret).expect("secret");
    sign(&secret, msg_id, timestamp, body.as_bytes())
}

fn verify(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &str,
    signature: &str,
) -> Result<(), standardwebhooks::WebhookError> {
    let mut headers = HeaderMap::new();
    headers.insert("webhook-id", msg_id.parse().expect("id header"));
    headers.insert("webhook-timestamp", timestamp.into());
    let value = signature
        .parse()
        .map_err(|_| standardwebhooks::WebhookError::InvalidHeader("signature"))?;
    headers.insert("webhook-signature", value);
    standardwebhooks::Webhook::new(secret)?.verify(body.as_bytes(), &headers)
}

fn real_signature() -> String {
    signature_of(SECRET, MSG_ID, *NOW, BODY)
}

fn signature_header_like() -> impl Strategy<Value = String> {
    let real = real_signature();
    let tag = real.strip_prefix("v1,").expect("v1").to_owned();
    let (tag_a, tag_b) = (tag.clone(), tag.clone());
    prop_oneof![
        Just(real.clone()),
        "[ -~]{0,100}".prop_map(move |others| format!("{others} {real}")),
        (any::<Index>(), "[A-Za-z0-9+/=]")
            .prop_map(move |(at, c)| format!("v1,{}", with_char_replaced(&tag_a, at, &c))),
        any::<Index>().prop_map(move |at| format!("v1,{}", &tag_b[..at.index(tag_b.len())])),
        "(v2|v1a|V1|v0|)".prop_map(move |version| format!("{version},{tag}")),
        "v1,[A-Za-z0-9+/]{43}=",
        "\\PC{0,200}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn identification_ids_accept_only_prefix_and_base62(s in id_like()) {
        let parsed = IdentificationId::parse(&s);
        prop_assert_eq!(parsed.is_ok(), is_identification_id(&s), "{:?}", s);
        if let Ok(id) = parsed {
            prop_assert_eq!(id.as_str(), s.as_str());
        }
    }

    #[test]
    fn well_formed_ids_always_parse(suffix in "[0-9A-Za-z]{22,64}") {
        let s = format!("id_{suffix}");
        prop_assert_eq!(IdentificationId::parse(&s).map(|i| i.to_string()), Ok(s.clone()));
        let p = format!("pr_{suffix}");
        prop_assert!(ProofmeId::parse(&p).is_ok());
    }

    #[test]
    fn urls_that_parse_are_absolute_http_and_stable(s in url_like()) {
        if let Ok(url) = HttpUrl::parse(&s) {
            prop_assert!(matches!(url.url().scheme(), "http" | "https"));
            prop_assert!(url.url().host_str().is_some_and(|h| !h.is_empty()));
            prop_assert!(url.url().username().is_empty() && url.url().password().is_none(), "{}", s);
            prop_assert_eq!(HttpUrl::parse(url.as_str()), Ok(url.clone()));
        }
    }

    #[test]
    fn locales_are_exactly_two_lower_underscore_two_upper(s in locale_like()) {
        prop_assert_eq!(Locale::parse(&s).is_ok(), is_locale(&s), "{:?}", s);
    }

    #[test]
    fn metadata_accepted_from_a_form_fits_in_1024_bytes(s in metadata_like()) {
        if let Ok(Some(m)) = Metadata::from_form(&s) {
            prop_assert!(m.to_json_string().len() <= 1024);
        }
    }

    #[test]
    fn descriptions_are_prefixes_of_at_most_255_characters(s in "\\PC{0,400}") {
        let d = Description::truncating(&s);
        prop_assert!(d.as_str().chars().count() <= 255);
        prop_assert!(s.starts_with(d.as_str()));
        if s.chars().count() <= 255 {
            prop_assert_eq!(d.as_str(), s.as_str());
        }
    }

    #[test]
    fn idempotency_keys_are_1_to_255_printable_ascii(bytes in idempotency_key_like()) {
        let parsed = parse_idempotency_key(&bytes);
        prop_assert_eq!(parsed.is_ok(), is_idempotency_key(&bytes), "{:?}", bytes);
        if let Ok(k) = parsed {
            prop_assert_eq!(k.as_bytes(), &bytes[..]);
        }
    }

    #[test]
    fn form_bodies_of_any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Fields::from_body(BodyFormat::Form, &bytes, &["a", "b", "metadata"]);
        let _ = Fields::from_body(BodyFormat::Json, &bytes, &["a", "b", "metadata"]);
    }

    #[test]
    fn form_values_round_trip_through_percent_encoding(value in "\\PC{1,40}") {
        let encoded: String = value
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect();
        let fields = Fields::from_form(format!("a={encoded}").as_bytes(), &["a"]).expect("form");
        prop_assert_eq!(fields.text("a").expect("text"), Some(value.as_str()));
    }

    #[test]
    fn accept_language_headers_never_panic(s in "\\PC{0,100}") {
        let _ = Lang::from_accept_language(&s);
        let _ = Lang::from_tag(&s);
    }

    /// Only a header holding our exact signature as one of its entries
    /// verifies: near misses (one character off, cut short, another
    /// version) and anything else do not.
    #[test]
    fn signature_headers_of_any_text_never_verify_by_accident(header in signature_header_like()) {
        let real = real_signature();
        // A header value is read as visible ASCII only.
        let holds_it = header.is_ascii() && header.split(' ').any(|entry| entry == real);
        let result = verify(SECRET, MSG_ID, *NOW, BODY, &header);
        prop_assert_eq!(result.is_ok(), holds_it, "{:?}: {:?}", header, result);
    }

    /// What we sign verifies with the reference library, for any key, id and
    /// body; another body, id, timestamp or key does not.
    #[test]
    fn a_signature_verifies_only_its_own_message(
        key in proptest::collection::vec(any::<u8>(), 24..=64),
        msg_id in "msg_[0-9A-Za-z]{1,30}",
        body in "\\PC{0,64}",
        other in "\\PC{0,64}",
    ) {
        use base64::Engine;
        let secret = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(&key));
        let other_secret = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode([&key[..], b"x"].concat()));
        let now = chrono::Utc::now().timestamp();
        let sig = signature_of(&secret, &msg_id, now, &body);
        prop_assert!(verify(&secret, &msg_id, now, &body, &sig).is_ok());
        if other != body {
            prop_assert!(verify(&secret, &msg_id, now, &other, &sig).is_err());
        }
        let other_id = format!("{msg_id}0");
        prop_assert!(verify(&secret, &other_id, now, &body, &sig).is_err());
        prop_assert!(verify(&secret, &msg_id, now + 1, &body, &sig).is_err());
        prop_assert!(verify(&other_secret, &msg_id, now, &body, &sig).is_err());
    }
}

/// Counts how many of `n` generated values `accepted` takes.
fn accepted_of<S: Strategy>(strategy: S, n: usize, accepted: impl Fn(&S::Value) -> bool) -> usize {
    let mut runner = TestRunner::deterministic();
    (0..n)
        .filter(|_| {
            let value = strategy.new_tree(&mut runner).expect("a value").current();
            accepted(&value)
        })
        .count()
}

/// Each shaped strategy above sends at least a tenth of its inputs to each
/// side of its parser, so no property checks one side only.
#[test]
fn the_generated_inputs_reach_acceptance_and_rejection() {
    // The runner is seeded, so the counts are the same on every run.
    const N: usize = 200;
    let counts = [
        (
            "ids",
            accepted_of(id_like(), N, |s| IdentificationId::parse(s).is_ok()),
        ),
        (
            "locales",
            accepted_of(locale_like(), N, |s| Locale::parse(s).is_ok()),
        ),
        (
            "urls",
            accepted_of(url_like(), N, |s| HttpUrl::parse(s).is_ok()),
        ),
        (
            "idempotency keys",
            accepted_of(idempotency_key_like(), N, |k| {
                parse_idempotency_key(k).is_ok()
            }),
        ),
        (
            "metadata",
            accepted_of(metadata_like(), N, |s| {
                matches!(Metadata::from_form(s), Ok(Some(_)))
            }),
        ),
        (
            "metadata as JSON",
            accepted_of(metadata_like(), N, |s| {
                serde_json::from_str::<serde_json::Value>(s).is_ok()
                    && matches!(Metadata::from_form(s), Ok(Some(_)))
            }),
        ),
        (
            "signature headers",
            accepted_of(signature_header_like(), N, |h| {
                verify(SECRET, MSG_ID, *NOW, BODY, h).is_ok()
            }),
        ),
    ];
    for (what, accepted) in counts {
        println!("{what}: {accepted} of {N} accepted");
        assert!(
            (N / 10..=N - N / 10).contains(&accepted),
            "{what}: {accepted} of {N} accepted"
        );
    }
}

/// Every input in the fuzz corpora (seeds and past finds) still goes through
/// its parser without a panic.
#[test]
fn fuzz_corpus_inputs_are_handled() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut seen = 0;
    for target in std::fs::read_dir(&root).expect("fuzz/corpus") {
        let target = target.expect("entry").path();
        for input in std::fs::read_dir(&target).expect("corpus dir") {
            let bytes = std::fs::read(input.expect("entry").path()).expect("input");
            let text = String::from_utf8_lossy(&bytes);
            let _ = IdentificationId::parse(&text);
            let _ = HttpUrl::parse(&text);
            let _ = Locale::parse(&text);
            let _ = Lang::from_accept_language(&text);
            let _ = Metadata::from_form(&text);
            let _ = parse_idempotency_key(&bytes);
            let _ = WebhookSecret::parse(&text);
            let _ = Fields::from_body(BodyFormat::Form, &bytes, &["description", "metadata"]);
            let _ = Fields::from_body(BodyFormat::Json, &bytes, &["description", "metadata"]);
            seen += 1;
        }
    }
    assert!(seen >= 7, "the corpora are missing ({seen} inputs)");
}
