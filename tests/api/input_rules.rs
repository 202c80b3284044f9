//! Input that used to get through (DESIGN.md section 3): long and NUL
//! searches, duplicate JSON members, metadata numbers beyond 64 bits, URL
//! hosts that are not host names, and refusals that named internal addresses.

use crate::helpers::*;
use serde_json::{Value, json};

// --- search ----------------------------------------------------------------

#[tokio::test]
async fn a_search_longer_than_255_characters_is_422() {
    let app = spawn_app().await;

    let huge = app
        .get(&format!("/v1/identification?search={}", "a".repeat(50_000)))
        .await;
    let just_over = app
        .get(&format!("/v1/identification?search={}", "é".repeat(256)))
        .await;
    let at_limit = app
        .get(&format!("/v1/identification?search={}", "é".repeat(255)))
        .await;

    assert_problem(huge, 422, Some("search")).await;
    assert_problem(just_over, 422, Some("search")).await;
    assert_eq!(at_limit.status().as_u16(), 200);
}

#[tokio::test]
async fn a_nul_in_a_search_matches_only_descriptions_with_a_nul() {
    let app = spawn_app().await;
    let _plain = app.create_with_description("plain order").await;
    let with_nul = app.create_with_description("order\u{0}12").await;

    let found = app.list("search=%00").await;
    let nul_then_text = app.list("search=%0012").await;

    assert_eq!(found["count"], 1, "{found}");
    assert_eq!(found["rows"][0]["id"], json!(with_nul));
    assert_eq!(nul_then_text["count"], 1, "{nul_then_text}");
}

#[tokio::test]
async fn a_search_ignores_ascii_case_and_has_no_wildcards() {
    let app = spawn_app().await;
    let id = app.create_with_description("Order ABC").await;
    let _other = app.create_with_description("Order xyz").await;

    let upper = app.list("search=order+abc").await;
    let wildcard = app.list("search=Order+%25").await;

    assert_eq!(upper["count"], 1);
    assert_eq!(upper["rows"][0]["id"], json!(id));
    assert_eq!(wildcard["count"], 0);
}

// --- duplicate JSON members ------------------------------------------------

#[tokio::test]
async fn a_json_body_with_a_field_given_twice_is_422() {
    let app = spawn_app().await;
    let mut body = app.valid_json_body().to_string();
    body.pop();
    body.push_str(r#","redirectUrl":"https://evil.example/"}"#);

    let res = app.post_raw(Some("application/json"), body).await;

    let problem = assert_problem(res, 422, Some("redirectUrl")).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("more than once")
    );
}

#[tokio::test]
async fn metadata_with_a_member_given_twice_is_422_in_json_and_in_forms() {
    let app = spawn_app().await;
    let mut body = app.valid_json_body().to_string();
    body.pop();
    body.push_str(r#","metadata":{"order":{"id":1,"id":2}}}"#);
    let form = format!("{}&metadata={{\"id\":1,\"id\":2}}", app.valid_form_body());

    let json_res = app.post_raw(Some("application/json"), body).await;
    let form_res = app.post_form(&form).await;

    assert_problem(json_res, 422, Some("metadata")).await;
    assert_problem(form_res, 422, Some("metadata")).await;
    assert_eq!(app.list("").await["count"], 0, "nothing was stored");
}

#[tokio::test]
async fn an_unknown_member_given_twice_is_422_too_at_any_depth() {
    let app = spawn_app().await;
    for extra in [r#""extra":1,"extra":2"#, r#""extra":[{"a":1,"a":2}]"#] {
        let mut body = app.valid_json_body().to_string();
        body.pop();
        body.push_str(&format!(",{extra}}}"));

        let res = app.post_raw(Some("application/json"), body).await;

        assert_problem(res, 422, None).await;
    }
}

// --- metadata kept exactly -------------------------------------------------

const BIG: &str = "18446744073709551617";

async fn assert_metadata_text(app: &TestApp, id: &str, expected: &str) {
    let get = app.get(&format!("/v1/identification/{id}")).await;
    let text = get.text().await.expect("body");
    assert!(text.contains(expected), "GET lost digits: {text}");
    let list = app.get(&format!("/v1/identification?search={id}")).await;
    let text = list.text().await.expect("body");
    assert!(text.contains(expected), "list lost digits: {text}");
}

#[tokio::test]
async fn metadata_numbers_beyond_64_bits_keep_every_digit_from_json() {
    let app = spawn_app().await;
    let mut body = app.valid_json_body().to_string();
    body.pop();
    body.push_str(&format!(
        r#","metadata": {{ "n": {BIG}, "f": 1.50e+3 }} }}"#
    ));

    let res = app.post_raw(Some("application/json"), body).await;

    let text = res.text().await.expect("body");
    let expected = format!(r#""metadata":{{"n":{BIG},"f":1.50e+3}}"#);
    assert!(text.contains(&expected), "{text}");
    let id = serde_json::from_str::<Value>(&text).expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_metadata_text(&app, &id, &expected).await;
}

#[tokio::test]
async fn metadata_numbers_beyond_64_bits_keep_every_digit_from_a_form() {
    let app = spawn_app().await;
    let form = format!("{}&metadata={BIG}", app.valid_form_body());

    let res = app.post_form(&form).await;

    let text = res.text().await.expect("body");
    let expected = format!(r#""metadata":{BIG}"#);
    assert!(text.contains(&expected), "{text}");
    let id = serde_json::from_str::<Value>(&text).expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_metadata_text(&app, &id, &expected).await;
}

// --- URL hosts -------------------------------------------------------------

#[tokio::test]
async fn urls_with_userinfo_are_422() {
    let app = spawn_app().await;
    for (field, url) in [
        ("redirectUrl", "https://user:pw@shop.example/return"),
        ("redirectUrl", "https://user@shop.example/return"),
        ("webhookUrl", "https://user:pw@shop.example/hook"),
    ] {
        let res = app
            .post_json(&app.json_body_with(json!({ field: url })))
            .await;
        assert_problem(res, 422, Some(field)).await;
    }
}

#[tokio::test]
async fn urls_whose_host_is_not_a_host_name_are_422() {
    let app = spawn_app().await;
    for field in ["redirectUrl", "webhookUrl"] {
        for url in [
            "https://a;script-src/",
            "https://a,b.example/",
            "https://a'b.example/x",
            "https://a*.example/",
        ] {
            let res = app
                .post_json(&app.json_body_with(json!({ field: url })))
                .await;
            assert_problem(res, 422, Some(field)).await;
        }
    }
}

/// A name on this machine that resolves only to addresses that are not
/// public (without being called `localhost`), with those addresses.
async fn a_private_name() -> (String, Vec<String>) {
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let mut names: Vec<String> = vec![hostname.trim().to_owned()];
    for line in hosts.lines() {
        let line = line.split('#').next().unwrap_or("");
        names.extend(line.split_whitespace().skip(1).map(str::to_owned));
    }
    for name in names {
        let lower = name.to_ascii_lowercase();
        if name.is_empty() || lower == "localhost" || lower.ends_with(".localhost") {
            continue;
        }
        let Ok(addrs) = tokio::net::lookup_host((name.as_str(), 80)).await else {
            continue;
        };
        let ips: Vec<std::net::IpAddr> = addrs.map(|a| a.ip()).collect();
        if !ips.is_empty()
            && ips
                .iter()
                .all(|ip| !proofme::outbound::guard::is_public(*ip))
        {
            return (name, ips.iter().map(ToString::to_string).collect());
        }
    }
    panic!(
        "no name on this machine resolves to a private address (checked its hostname and /etc/hosts)"
    );
}

#[tokio::test]
async fn a_refused_webhook_url_does_not_name_the_address_it_resolved_to() {
    let app = spawn_app().await;
    let (name, addresses) = a_private_name().await;

    let res = app
        .post_json(&app.json_body_with(json!({ "webhookUrl": format!("http://{name}/hook") })))
        .await;

    let problem = assert_problem(res, 422, Some("webhookUrl")).await;
    let detail = problem["detail"].as_str().expect("detail");
    for address in &addresses {
        assert!(
            !detail.contains(address.as_str()),
            "{detail} names {address}"
        );
    }
    assert!(detail.contains(&name), "{detail}");
}
