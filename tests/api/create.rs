//! POST /v1/identification: the seed's request, each field's rule, both body formats.

use crate::helpers::*;
use proofme::domain::Mode;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn seed_body(app: &TestApp) -> String {
    format!(
        "description=Identification #12345&proofmeId={}&organisationId={}\
         &redirectUrl=https://your-application.example.org/identification/12345/\
         &webhookUrl=https://your-application.example.org/webhook/\
         &metadata={{\"my-data\": 12345}}&testmode=true",
        app.proofme_id, app.org_id
    )
}

#[tokio::test]
async fn create_with_the_seed_curl_body_returns_201_in_the_seed_format() {
    // Arrange
    let app = spawn_app().await;
    let body = seed_body(&app);

    // Act
    let resp = app.post_form(&body).await;

    // Assert
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert!(
        content_type(&resp).starts_with("application/json"),
        "content type {}",
        content_type(&resp)
    );
    let text = resp.text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["resource"], "identification");
    assert_id(&v["id"], "id_", 22);
    assert_eq!(v["mode"], "test");
    assert_eq!(v["proofmeId"], json!(app.proofme_id));
    assert_eq!(v["organisationId"], json!(app.org_id));
    assert_eq!(v["proofmeRevision"], 1);
    assert_eq!(v["status"], "0");
    assert_eq!(v["statusName"], "open");
    assert_eq!(v["description"], "Identification #12345");
    assert_eq!(v["isRequest"], true);
    assert_eq!(v["metadata"], json!({"my-data": 12345}));
    assert_eq!(v["redirectUrl"], REDIRECT_URL);
    assert_eq!(v["webhookUrl"], WEBHOOK_URL);
    let id = v["id"].as_str().unwrap();
    assert_eq!(
        v["myPageUrl"],
        json!(format!("{}/{id}", app.config.public_url))
    );
    assert_eq!(v["locale"], Value::Null);
    assert_eq!(v["scannedAt"], Value::Null);
    assert_seed_timestamp(&v["createdAt"]);
    assert_seed_timestamp(&v["updatedAt"]);
    assert_seed_timestamp(&v["expiresAt"]);
}

#[tokio::test]
async fn create_response_has_exactly_the_documented_members_in_order() {
    let app = spawn_app().await;

    let resp = app.post_form(&seed_body(&app)).await;

    assert_eq!(resp.status(), StatusCode::CREATED);
    let text = resp.text().await.unwrap();
    assert_eq!(top_level_keys(&text), IDENTIFICATION_MEMBERS.to_vec());
}

#[tokio::test]
async fn create_with_a_json_body_returns_201() {
    let app = spawn_app().await;
    let body = json!({
        "description": "Identification #12345",
        "proofmeId": app.proofme_id,
        "organisationId": app.org_id,
        "redirectUrl": REDIRECT_URL,
        "webhookUrl": WEBHOOK_URL,
        "metadata": {"my-data": 12345},
        "locale": "nl_NL",
        "testmode": true,
    });

    let resp = app.post_json(&body).await;

    assert!(content_type(&resp).starts_with("application/json"));
    let v = created(resp).await;
    assert_eq!(v["description"], "Identification #12345");
    assert_eq!(v["metadata"], json!({"my-data": 12345}));
    assert_eq!(v["webhookUrl"], WEBHOOK_URL);
    assert_eq!(v["locale"], "nl_NL");
    assert_eq!(v["mode"], "test");
    assert_eq!(v["isRequest"], true);
}

#[tokio::test]
async fn create_gives_each_identification_a_new_unguessable_id() {
    let app = spawn_app().await;

    let a = created(app.post_form(&app.valid_form_body()).await).await;
    let b = created(app.post_form(&app.valid_form_body()).await).await;

    assert_id(&a["id"], "id_", 22);
    assert_id(&b["id"], "id_", 22);
    assert_ne!(a["id"], b["id"]);
}

#[tokio::test]
async fn create_sets_my_page_url_to_the_public_url_and_the_id() {
    let app = spawn_app_with(|c| c.public_url = "https://verify.example.com".to_owned()).await;

    let v = created(app.post_json(&app.valid_json_body()).await).await;

    let id = v["id"].as_str().unwrap();
    assert_eq!(
        v["myPageUrl"],
        json!(format!("https://verify.example.com/{id}"))
    );
}

#[tokio::test]
async fn create_sets_expires_at_one_day_after_created_at_by_default() {
    let app = spawn_app().await;

    let v = created(app.post_json(&app.valid_json_body()).await).await;

    assert_eq!(seconds_between(&v["createdAt"], &v["expiresAt"]), 86_400);
    assert_eq!(v["createdAt"], v["updatedAt"]);
}

#[tokio::test]
async fn create_sets_expires_at_from_the_configured_ttl() {
    let app = spawn_app_with(|c| c.identification_ttl = std::time::Duration::from_secs(600)).await;

    let v = created(app.post_json(&app.valid_json_body()).await).await;

    assert_eq!(seconds_between(&v["createdAt"], &v["expiresAt"]), 600);
}

#[tokio::test]
async fn create_returns_null_for_absent_optional_fields() {
    let app = spawn_app().await;

    let v = created(app.post_form(&app.valid_form_body()).await).await;

    for member in [
        "description",
        "metadata",
        "webhookUrl",
        "locale",
        "scannedAt",
    ] {
        assert_eq!(v[member], Value::Null, "{member}");
        assert!(
            v.as_object().unwrap().contains_key(member),
            "{member} missing"
        );
    }
}

// ---- description ----

#[tokio::test]
async fn create_truncates_long_descriptions_at_255_characters() {
    let app = spawn_app().await;
    let long = "é".repeat(300);

    let v = created(
        app.post_json(&app.json_body_with(json!({ "description": long })))
            .await,
    )
    .await;

    assert_eq!(v["description"], json!("é".repeat(255)));
}

#[tokio::test]
async fn create_truncates_form_descriptions_at_255_characters() {
    let app = spawn_app().await;
    let body = format!("{}&description={}", app.valid_form_body(), "é".repeat(300));

    let v = created(app.post_form(&body).await).await;

    assert_eq!(v["description"], json!("é".repeat(255)));
}

#[tokio::test]
async fn create_truncates_emoji_descriptions_without_cutting_inside_a_character() {
    let app = spawn_app().await;
    let long = format!("{}{}", "a".repeat(254), "😀👍🏽🎉");

    let v = created(
        app.post_json(&app.json_body_with(json!({ "description": long })))
            .await,
    )
    .await;

    assert_eq!(v["description"], json!(format!("{}😀", "a".repeat(254))));
    let all_emoji = "😀".repeat(400);
    let w = created(
        app.post_json(&app.json_body_with(json!({ "description": all_emoji })))
            .await,
    )
    .await;
    assert_eq!(w["description"], json!("😀".repeat(255)));
}

#[tokio::test]
async fn create_keeps_a_description_of_exactly_255_characters() {
    let app = spawn_app().await;
    let exact = format!("{}ü", "x".repeat(254));

    let v = created(
        app.post_json(&app.json_body_with(json!({ "description": exact })))
            .await,
    )
    .await;

    assert_eq!(v["description"], json!(exact));
}

// ---- required fields ----

#[tokio::test]
async fn create_without_a_required_field_is_422_naming_it() {
    let app = spawn_app().await;
    for field in ["proofmeId", "organisationId", "redirectUrl"] {
        // JSON
        let resp = app.post_json(&app.json_body_without(field)).await;
        assert_problem(resp, 422, Some(field)).await;
        // JSON null counts as absent
        let resp = app
            .post_json(&app.json_body_with(json!({ field: null })))
            .await;
        assert_problem(resp, 422, Some(field)).await;
        // Form
        let pairs: Vec<String> = [
            ("proofmeId", app.proofme_id.as_str()),
            ("organisationId", app.org_id.as_str()),
            ("redirectUrl", REDIRECT_URL),
        ]
        .iter()
        .filter(|(k, _)| *k != field)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
        let resp = app.post_form(&pairs.join("&")).await;
        assert_problem(resp, 422, Some(field)).await;
    }
}

#[tokio::test]
async fn create_rejects_an_empty_form_body_with_422() {
    let app = spawn_app().await;

    let resp = app.post_form("").await;

    let problem = assert_problem_status(resp, 422).await;
    assert!(
        problem["field"].is_string(),
        "a missing field is named: {problem}"
    );
}

#[tokio::test]
async fn create_rejects_another_organisations_id_with_422() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;

    // The other org's id, with a proofme of the other org: still not this key's org.
    let resp = app
        .post_json(&app.json_body_with(json!({
            "organisationId": other.org_id,
            "proofmeId": other.proofme_id,
        })))
        .await;

    assert_problem(resp, 422, Some("organisationId")).await;
}

#[tokio::test]
async fn create_rejects_an_unknown_organisation_id_with_422() {
    let app = spawn_app().await;

    let resp = app
        .post_json(&app.json_body_with(json!({ "organisationId": "org_doesnotexist" })))
        .await;

    assert_problem(resp, 422, Some("organisationId")).await;
}

#[tokio::test]
async fn create_rejects_a_proofme_of_another_organisation_with_422() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;

    let resp = app
        .post_json(&app.json_body_with(json!({ "proofmeId": other.proofme_id })))
        .await;

    assert_problem(resp, 422, Some("proofmeId")).await;
}

#[tokio::test]
async fn create_rejects_unknown_or_malformed_proofme_ids_with_422() {
    let app = spawn_app().await;
    for bad in ["pr_12345", "pr_", "org_12345", "not an id", "pr_ü"] {
        let resp = app
            .post_json(&app.json_body_with(json!({ "proofmeId": bad })))
            .await;
        assert_problem(resp, 422, Some("proofmeId")).await;
    }
}

// ---- URLs ----

#[tokio::test]
async fn create_rejects_redirect_urls_that_are_not_absolute_http() {
    let app = spawn_app().await;
    for bad in [
        "ftp://example.org/file",
        "/identification/12345",
        "identification/12345",
        "javascript:alert(1)",
        "https://",
        "mailto:someone@example.org",
        "",
    ] {
        let resp = app
            .post_json(&app.json_body_with(json!({ "redirectUrl": bad })))
            .await;
        assert_problem(resp, 422, Some("redirectUrl")).await;
    }
}

#[tokio::test]
async fn create_rejects_webhook_urls_that_are_not_absolute_http() {
    let app = spawn_app().await;
    for bad in [
        "ftp://example.org/hook",
        "/webhook",
        "javascript:alert(1)",
        "https://",
    ] {
        let resp = app
            .post_json(&app.json_body_with(json!({ "webhookUrl": bad })))
            .await;
        assert_problem(resp, 422, Some("webhookUrl")).await;
    }
}

const PRIVATE_WEBHOOKS: [&str; 10] = [
    "http://127.0.0.1/x",
    "http://127.1.2.3:8080/hook",
    "http://10.0.0.1/",
    "http://192.168.1.10/hook",
    "http://172.16.0.1/hook",
    "http://[::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:127.0.0.1]/",
    "http://localhost/",
    "http://0.0.0.0/",
];

#[tokio::test]
async fn create_rejects_webhook_urls_on_private_addresses() {
    let app = spawn_app().await;
    for bad in PRIVATE_WEBHOOKS {
        let resp = app
            .post_json(&app.json_body_with(json!({ "webhookUrl": bad })))
            .await;
        let status = resp.status();
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad} was accepted"
        );
        assert_problem(resp, 422, Some("webhookUrl")).await;
    }
}

#[tokio::test]
async fn create_accepts_private_webhook_urls_when_the_server_allows_them() {
    let app = spawn_app_with(|c| c.allow_private_webhooks = true).await;
    for url in [
        "http://127.0.0.1/x",
        "http://10.0.0.1/",
        "http://[::1]/",
        "http://localhost/",
    ] {
        let resp = app
            .post_json(&app.json_body_with(json!({ "webhookUrl": url })))
            .await;
        let v = created(resp).await;
        assert_eq!(v["webhookUrl"], url);
    }
}

#[tokio::test]
async fn create_accepts_a_webhook_url_whose_name_does_not_resolve() {
    let app = spawn_app().await;

    let resp = app
        .post_json(&app.json_body_with(json!({ "webhookUrl": WEBHOOK_URL })))
        .await;

    assert_eq!(created(resp).await["webhookUrl"], WEBHOOK_URL);
}

#[tokio::test]
async fn create_accepts_http_and_https_redirect_urls() {
    let app = spawn_app().await;
    for url in [
        "http://shop.example.org/return?order=1",
        "https://shop.example.org/r/12345/",
    ] {
        let v = created(
            app.post_json(&app.json_body_with(json!({ "redirectUrl": url })))
                .await,
        )
        .await;
        assert_eq!(v["redirectUrl"], url);
    }
}

// ---- locale ----

#[tokio::test]
async fn create_accepts_any_well_formed_locale() {
    let app = spawn_app().await;
    for locale in ["en_US", "en_GB", "nl_NL", "nl_BE", "de_DE", "fr_CA"] {
        let v = created(
            app.post_json(&app.json_body_with(json!({ "locale": locale })))
                .await,
        )
        .await;
        assert_eq!(v["locale"], locale);
    }
}

#[tokio::test]
async fn create_rejects_malformed_locales_with_422() {
    let app = spawn_app().await;
    for bad in [
        "en-US", "english", "en_us", "EN_US", "en", "en_USA", "e_US", " en_US",
    ] {
        let resp = app
            .post_json(&app.json_body_with(json!({ "locale": bad })))
            .await;
        assert_problem(resp, 422, Some("locale")).await;
    }
}

// ---- metadata ----

#[tokio::test]
async fn create_stores_form_metadata_that_parses_as_json_as_that_json() {
    let app = spawn_app().await;
    let body = format!("{}&metadata={{\"my-data\": 12345}}", app.valid_form_body());

    let v = created(app.post_form(&body).await).await;

    assert_eq!(v["metadata"], json!({"my-data": 12345}));
}

#[tokio::test]
async fn create_stores_form_metadata_that_is_not_json_as_a_string() {
    let app = spawn_app().await;
    let body = format!("{}&metadata=order 12345", app.valid_form_body());

    let v = created(app.post_form(&body).await).await;

    assert_eq!(v["metadata"], json!("order 12345"));
}

#[tokio::test]
async fn create_stores_any_json_metadata_value_as_given() {
    let app = spawn_app().await;
    for metadata in [
        json!({"order": {"id": 12345, "lines": [1, 2]}}),
        json!([1, "two", 3.5]),
        json!(42),
        json!("a plain string"),
        json!(true),
    ] {
        let v = created(
            app.post_json(&app.json_body_with(json!({ "metadata": metadata })))
                .await,
        )
        .await;
        assert_eq!(v["metadata"], metadata);
    }
}

#[tokio::test]
async fn create_accepts_metadata_of_exactly_1024_bytes_as_compact_json() {
    let app = spawn_app().await;
    // A string of 1022 characters is 1024 bytes with its quotes.
    let metadata = json!("a".repeat(1022));

    let v = created(
        app.post_json(&app.json_body_with(json!({ "metadata": metadata })))
            .await,
    )
    .await;

    assert_eq!(v["metadata"], metadata);
}

#[tokio::test]
async fn create_rejects_metadata_over_1024_bytes_with_422() {
    let app = spawn_app().await;

    let resp = app
        .post_json(&app.json_body_with(json!({ "metadata": "a".repeat(1023) })))
        .await;
    assert_problem(resp, 422, Some("metadata")).await;

    let big_object: serde_json::Map<String, Value> =
        (0..200).map(|i| (format!("k{i}"), json!(i))).collect();
    let resp = app
        .post_json(&app.json_body_with(json!({ "metadata": big_object })))
        .await;
    assert_problem(resp, 422, Some("metadata")).await;

    let body = format!("{}&metadata={}", app.valid_form_body(), "b".repeat(1100));
    assert_problem(app.post_form(&body).await, 422, Some("metadata")).await;
}

// ---- testmode and mode ----

#[tokio::test]
async fn create_with_a_test_key_always_makes_test_identifications() {
    let app = spawn_app().await;
    for testmode in [json!(false), json!(true), Value::Null] {
        let v = created(
            app.post_json(&app.json_body_with(json!({ "testmode": testmode })))
                .await,
        )
        .await;
        assert_eq!(v["mode"], "test", "testmode {testmode}");
    }
    let body = format!("{}&testmode=false", app.valid_form_body());
    assert_eq!(created(app.post_form(&body).await).await["mode"], "test");
}

#[tokio::test]
async fn create_with_a_live_key_makes_live_identifications_unless_testmode_is_true() {
    let app = spawn_app().await;
    let live = app.create_api_key(Mode::Live).await;
    assert!(live.starts_with("live_"));
    let form = app.valid_form_body();

    let plain = created(app.post_form_with_key(&live, &form).await).await;
    let off = created(
        app.post_form_with_key(&live, &format!("{form}&testmode=false"))
            .await,
    )
    .await;
    let on = created(
        app.post_form_with_key(&live, &format!("{form}&testmode=true"))
            .await,
    )
    .await;
    let json_on = created(
        app.post_json_with_key(&live, &app.json_body_with(json!({ "testmode": true })))
            .await,
    )
    .await;
    let json_off = created(
        app.post_json_with_key(&live, &app.json_body_with(json!({ "testmode": false })))
            .await,
    )
    .await;

    assert_eq!(plain["mode"], "live");
    assert_eq!(off["mode"], "live");
    assert_eq!(on["mode"], "test");
    assert_eq!(json_on["mode"], "test");
    assert_eq!(json_off["mode"], "live");
}

#[tokio::test]
async fn create_rejects_a_testmode_that_is_not_a_boolean_with_422() {
    let app = spawn_app().await;
    for bad in [json!("true"), json!("yes"), json!(1), json!({})] {
        let resp = app
            .post_json(&app.json_body_with(json!({ "testmode": bad })))
            .await;
        assert_problem(resp, 422, Some("testmode")).await;
    }
    for bad in ["yes", "1", "TRUEish", "on"] {
        let body = format!("{}&testmode={bad}", app.valid_form_body());
        assert_problem(app.post_form(&body).await, 422, Some("testmode")).await;
    }
}

// ---- body details ----

#[tokio::test]
async fn create_treats_json_null_as_absent() {
    let app = spawn_app().await;
    let body = app.json_body_with(json!({
        "description": null,
        "webhookUrl": null,
        "metadata": null,
        "locale": null,
        "testmode": null,
    }));

    let v = created(app.post_json(&body).await).await;

    for member in ["description", "webhookUrl", "metadata", "locale"] {
        assert_eq!(v[member], Value::Null, "{member}");
    }
    assert_eq!(v["mode"], "test");
}

#[tokio::test]
async fn create_ignores_unknown_fields() {
    let app = spawn_app().await;

    let json = created(
        app.post_json(&app.json_body_with(json!({ "amount": {"value": "10.00"}, "foo": 1 })))
            .await,
    )
    .await;
    let form = created(
        app.post_form(&format!(
            "{}&amount=10.00&foo=bar&foo=baz",
            app.valid_form_body()
        ))
        .await,
    )
    .await;

    assert_eq!(json["status"], "0");
    assert_eq!(form["status"], "0");
    assert!(json.get("amount").is_none());
}

#[tokio::test]
async fn create_rejects_a_known_field_given_twice_in_a_form_with_422() {
    let app = spawn_app().await;
    let base = app.valid_form_body();
    let cases = [
        ("description", format!("{base}&description=a&description=b")),
        ("redirectUrl", format!("{base}&redirectUrl={REDIRECT_URL}")),
        ("proofmeId", format!("{base}&proofmeId={}", app.proofme_id)),
        ("testmode", format!("{base}&testmode=true&testmode=true")),
    ];
    for (field, body) in cases {
        assert_problem(app.post_form(&body).await, 422, Some(field)).await;
    }
}

#[tokio::test]
async fn create_treats_an_empty_optional_form_value_as_absent() {
    let app = spawn_app().await;
    let body = format!(
        "{}&webhookUrl=&locale=&metadata=&description=&testmode=",
        app.valid_form_body()
    );

    let v = created(app.post_form(&body).await).await;

    for member in ["webhookUrl", "locale", "metadata", "description"] {
        assert_eq!(v[member], Value::Null, "{member}");
    }
}

#[tokio::test]
async fn create_rejects_a_non_string_in_a_json_string_field_with_422() {
    let app = spawn_app().await;
    let cases = [
        ("description", json!(5)),
        ("redirectUrl", json!(["https://example.org/"])),
        ("webhookUrl", json!(true)),
        ("locale", json!({"lang": "en"})),
        ("proofmeId", json!(12345)),
        ("organisationId", json!(false)),
    ];
    for (field, value) in cases {
        let resp = app
            .post_json(&app.json_body_with(json!({ field: value })))
            .await;
        assert_problem(resp, 422, Some(field)).await;
    }
}

#[tokio::test]
async fn create_decodes_percent_escapes_and_plus_in_form_bodies() {
    let app = spawn_app().await;
    let body = format!(
        "{}&description=Order+%2312345%20%E2%82%AC+a%2Bb%26c",
        app.valid_form_body()
    );

    let v = created(app.post_form(&body).await).await;

    assert_eq!(v["description"], "Order #12345 € a+b&c");
}

#[tokio::test]
async fn create_accepts_a_fully_percent_encoded_form_body() {
    let app = spawn_app().await;
    let body = encoded_form(&[
        ("description", "Identification #12345 {\"x\"} & more"),
        ("proofmeId", &app.proofme_id),
        ("organisationId", &app.org_id),
        ("redirectUrl", REDIRECT_URL),
        ("webhookUrl", WEBHOOK_URL),
        ("metadata", r#"{"my-data": 12345}"#),
    ]);

    let v = created(app.post_form(&body).await).await;

    assert_eq!(v["description"], "Identification #12345 {\"x\"} & more");
    assert_eq!(v["metadata"], json!({"my-data": 12345}));
    assert_eq!(v["redirectUrl"], REDIRECT_URL);
}

#[tokio::test]
async fn create_rejects_percent_encoded_invalid_utf8_with_400() {
    let app = spawn_app().await;
    let body = format!("{}&description=caf%E9", app.valid_form_body());

    let resp = app.post_form(&body).await;

    assert_problem_status(resp, 400).await;
}

// ---- MyPage ----

#[tokio::test]
async fn my_page_of_a_new_identification_is_an_html_page_not_a_404() {
    let app = spawn_app().await;
    let id = app.create_with_description("Order 12345").await;

    let resp = app
        .client
        .get(app.url(&format!("/{id}")))
        .send()
        .await
        .unwrap();

    assert_ne!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        content_type(&resp).starts_with("text/html"),
        "{}",
        content_type(&resp)
    );
}

#[tokio::test]
async fn create_rejects_webhook_urls_on_private_addresses_in_any_spelling() {
    let app = spawn_app().await;
    for bad in [
        "http://2130706433/",        // 127.0.0.1 as one decimal number
        "http://0x7f000001/",        // 127.0.0.1 in hex
        "http://0177.0.0.1/",        // 127.0.0.1 in octal
        "http://100.64.0.1/",        // CGNAT
        "http://[fe80::1]/",         // IPv6 link-local
        "http://[fc00::1]/",         // IPv6 unique local
        "http://[::]/",              // unspecified
        "http://[::ffff:10.0.0.1]/", // IPv4-mapped private
        "http://[64:ff9b::7f00:1]/", // NAT64 of 127.0.0.1
        "http://localhost./",        // trailing dot
        "http://api.localhost/",     // RFC 6761: *.localhost is loopback
        "http://LOCALHOST/",
        "http://224.0.0.1/",       // multicast
        "http://255.255.255.255/", // broadcast
    ] {
        let resp = app
            .post_json(&app.json_body_with(json!({ "webhookUrl": bad })))
            .await;
        let status = resp.status();
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad} was accepted"
        );
        assert_problem(resp, 422, Some("webhookUrl")).await;
    }
}

#[tokio::test]
async fn create_rejects_a_known_field_given_twice_even_when_one_value_is_empty() {
    let app = spawn_app().await;
    let base = app.valid_form_body();
    let cases = [
        ("description", format!("{base}&description=&description=b")),
        ("description", format!("{base}&description=a&description=")),
        (
            "webhookUrl",
            format!("{base}&webhookUrl=&webhookUrl={WEBHOOK_URL}"),
        ),
    ];
    for (field, body) in cases {
        let resp = app.post_form(&body).await;
        assert_problem(resp, 422, Some(field)).await;
    }
}

#[tokio::test]
async fn create_accepts_content_types_with_a_charset_parameter() {
    let app = spawn_app().await;

    let json = app
        .post_raw(
            Some("application/json; charset=utf-8"),
            app.valid_json_body().to_string(),
        )
        .await;
    let form = app
        .post_raw(
            Some("application/x-www-form-urlencoded; charset=UTF-8"),
            app.valid_form_body(),
        )
        .await;

    assert_eq!(created(json).await["status"], "0");
    assert_eq!(created(form).await["status"], "0");
}

#[tokio::test]
async fn create_keeps_equals_signs_inside_raw_form_values() {
    let app = spawn_app().await;
    let body = format!(
        "proofmeId={}&organisationId={}&redirectUrl=https://shop.example.org/return?order=12345\
         &description=a=b",
        app.proofme_id, app.org_id
    );

    let v = created(app.post_form(&body).await).await;

    assert_eq!(
        v["redirectUrl"],
        "https://shop.example.org/return?order=12345"
    );
    assert_eq!(v["description"], "a=b");
}
