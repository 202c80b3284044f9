//! A test key sees and changes test identifications only (DESIGN.md section
//! 3): a live one is a 404 to it on every endpoint and never appears in its
//! lists or counts, so a leaked CI key exposes no customer. A live key sees
//! both modes of its organisation.

use crate::helpers::*;
use proofme::domain::Mode;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};

struct Setup {
    app: TestApp,
    live_key: String,
    live_id: String,
    test_id: String,
}

async fn setup() -> Setup {
    let app = spawn_app().await;
    let live_key = app.create_api_key(Mode::Live).await;
    let live = created(
        app.post_json_with_key(
            &live_key,
            &app.json_body_with(json!({"description": "live one"})),
        )
        .await,
    )
    .await;
    assert_eq!(live["mode"], "live");
    let test_id = app.create_with_description("test one").await;
    Setup {
        live_id: live["id"].as_str().expect("id").to_owned(),
        app,
        live_key,
        test_id,
    }
}

async fn json_with_key(app: &TestApp, key: &str, path: &str) -> Value {
    let resp = app.get_with_key(key, path).await;
    assert_eq!(resp.status().as_u16(), 200, "GET {path}");
    resp.json().await.expect("json")
}

fn ids(list: &Value) -> Vec<String> {
    list["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn a_test_key_gets_404_for_a_live_identification_on_every_endpoint() {
    let Setup {
        app,
        live_key,
        live_id,
        ..
    } = setup().await;
    let id = &live_id;

    for path in [
        format!("/v1/identification/{id}"),
        format!("/v1/identification/{id}/history"),
        format!("/v1/identification/{id}/webhooks"),
        format!("/v1/identification/data/{id}"),
    ] {
        assert_problem(app.get(&path).await, 404, None).await;
    }
    let outcome = app
        .client
        .post(app.url(&format!("/v1/identification/{id}/test-outcome")))
        .bearer_auth(&app.api_key)
        .header(CONTENT_TYPE, "application/json")
        .body(json!({"status": "verified"}).to_string())
        .send()
        .await
        .expect("test outcome");
    assert_problem(outcome, 404, None).await;
    assert_problem(
        app.delete(&format!("/v1/identification/data/{id}")).await,
        404,
        None,
    )
    .await;
    assert_problem(
        app.delete(&format!("/v1/identification/{id}")).await,
        404,
        None,
    )
    .await;

    // Nothing changed: the live key still finds it open, with one history entry.
    let live = json_with_key(&app, &live_key, &format!("/v1/identification/{id}")).await;
    assert_eq!(live["status"], "0");
    let history = json_with_key(&app, &live_key, &format!("/v1/identification/{id}/history")).await;
    assert_eq!(history["rows"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_test_key_never_lists_or_counts_live_identifications() {
    let Setup {
        app,
        live_id,
        test_id,
        ..
    } = setup().await;

    let all = app.list("").await;
    let asked_for_live = app.list("mode=live").await;
    let searched = app.list(&format!("search={live_id}")).await;
    let by_status = app.list("status=open").await;

    assert_eq!(ids(&all), vec![test_id.clone()]);
    assert_eq!(all["count"], 1);
    assert_eq!(asked_for_live["count"], 0);
    assert!(ids(&asked_for_live).is_empty());
    assert_eq!(searched["count"], 0);
    assert!(ids(&searched).is_empty());
    assert_eq!(ids(&by_status), vec![test_id]);
    assert_eq!(by_status["count"], 1);
}

#[tokio::test]
async fn a_live_key_sees_and_changes_both_modes() {
    let Setup {
        app,
        live_key,
        live_id,
        test_id,
    } = setup().await;

    let all = json_with_key(&app, &live_key, "/v1/identification").await;
    let test_one = json_with_key(&app, &live_key, &format!("/v1/identification/{test_id}")).await;
    let revoked = app
        .delete_with_key(&live_key, &format!("/v1/identification/{test_id}"))
        .await;

    assert_eq!(all["count"], 2);
    let mut listed = ids(&all);
    listed.sort();
    let mut expected = vec![live_id.clone(), test_id.clone()];
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(test_one["mode"], "test");
    assert_eq!(revoked.status().as_u16(), 200);
    let live = json_with_key(&app, &live_key, &format!("/v1/identification/{live_id}")).await;
    assert_eq!(live["mode"], "live");
}
