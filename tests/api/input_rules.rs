//! Input that used to get through (DESIGN.md section 3): long and NUL
//! searches, duplicate JSON members, metadata numbers beyond 64 bits, URL
//! hosts that are not host names, and refusals that named internal addresses.

use crate::helpers::*;
use serde_json::json;

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
