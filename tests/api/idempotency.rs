//! `Idempotency-Key` on POST /v1/identification.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashSet;

fn replayed(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get("idempotent-replayed")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test]
async fn the_same_key_and_body_replays_the_first_response() {
    // Arrange
    let app = spawn_app().await;
    let body = format!("{}&description=Order 1", app.valid_form_body());

    // Act
    let first = app
        .post_form_idempotent(&app.api_key, "order-1", &body)
        .await;
    let first_replayed = replayed(&first);
    let first_status = first.status();
    let first_text = first.text().await.unwrap();
    let second = app
        .post_form_idempotent(&app.api_key, "order-1", &body)
        .await;

    // Assert
    assert_eq!(first_status, StatusCode::CREATED);
    assert_ne!(
        first_replayed.as_deref(),
        Some("true"),
        "the first response is not a replay"
    );
    assert_eq!(second.status(), StatusCode::CREATED);
    assert_eq!(replayed(&second).as_deref(), Some("true"));
    assert!(content_type(&second).starts_with("application/json"));
    let second_text = second.text().await.unwrap();
    assert_eq!(second_text, first_text, "the replay is byte-identical");
}

#[tokio::test]
async fn a_replay_does_not_create_a_second_identification() {
    let app = spawn_app().await;
    let body = app.valid_form_body();

    for _ in 0..3 {
        let resp = app.post_form_idempotent(&app.api_key, "same", &body).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }

    assert_eq!(app.list("").await["count"], 1);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422() {
    let app = spawn_app().await;
    let body = format!("{}&description=Order 1", app.valid_form_body());
    let other = format!("{}&description=Order 2", app.valid_form_body());
    let first = app
        .post_form_idempotent(&app.api_key, "order-1", &body)
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);

    let resp = app
        .post_form_idempotent(&app.api_key, "order-1", &other)
        .await;

    assert_problem_status(resp, 422).await;
    assert_eq!(app.list("").await["count"], 1);
}

#[tokio::test]
async fn a_key_used_by_a_request_that_failed_validation_can_be_used_again() {
    let app = spawn_app().await;
    let broken = format!("{}&locale=english", app.valid_form_body());
    let fixed = format!("{}&locale=en_GB", app.valid_form_body());

    let failed = app
        .post_form_idempotent(&app.api_key, "retry-me", &broken)
        .await;
    assert_problem(failed, 422, Some("locale")).await;
    let resp = app
        .post_form_idempotent(&app.api_key, "retry-me", &fixed)
        .await;

    let status = resp.status();
    let replay = replayed(&resp);
    let v = created(resp).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(replay.as_deref(), Some("true"));
    assert_eq!(v["locale"], "en_GB");
}

#[tokio::test]
async fn a_key_of_255_characters_is_accepted() {
    let app = spawn_app().await;
    let key = "k".repeat(255);

    let resp = app
        .post_form_idempotent(&app.api_key, &key, &app.valid_form_body())
        .await;

    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_key_longer_than_255_characters_is_400() {
    let app = spawn_app().await;
    let key = "k".repeat(256);

    let resp = app
        .post_form_idempotent(&app.api_key, &key, &app.valid_form_body())
        .await;

    assert_problem_status(resp, 400).await;
    assert_eq!(app.list("").await["count"], 0);
}

#[tokio::test]
async fn an_empty_key_is_400() {
    let app = spawn_app().await;

    let resp = app
        .post_form_idempotent(&app.api_key, "", &app.valid_form_body())
        .await;

    assert_problem_status(resp, 400).await;
    assert_eq!(app.list("").await["count"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_requests_with_one_key_create_exactly_one_identification() {
    // Arrange
    let app = spawn_app().await;
    let body = format!("{}&description=Concurrent", app.valid_form_body());

    // Act
    let (app_ref, body_ref) = (&app, &body);
    let requests = (0..50).map(|_| async move {
        let resp = app_ref
            .post_form_idempotent(&app_ref.api_key, "concurrent", body_ref)
            .await;
        let status = resp.status();
        let ct = content_type(&resp);
        let text = resp.text().await.unwrap();
        (status, ct, text)
    });
    let responses = futures::future::join_all(requests).await;

    // Assert
    let mut ids = HashSet::new();
    for (status, ct, text) in &responses {
        match status.as_u16() {
            201 => {
                let v: Value = serde_json::from_str(text).unwrap();
                ids.insert(v["id"].as_str().unwrap().to_owned());
            }
            409 => {
                assert!(
                    ct.starts_with("application/problem+json"),
                    "409 as {ct}: {text}"
                );
                let v: Value = serde_json::from_str(text).unwrap();
                assert_eq!(v["status"], 409);
                assert_eq!(v["title"], "Conflict");
                assert!(
                    v["detail"].as_str().is_some_and(|d| !d.is_empty()),
                    "{text}"
                );
            }
            other => panic!("unexpected status {other}: {text}"),
        }
    }
    assert_eq!(ids.len(), 1, "every 201 carries the same id: {ids:?}");
    assert_eq!(app.list("").await["count"], 1);
}

#[tokio::test]
async fn keys_are_per_api_key() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;

    let mine = app
        .post_form_idempotent(&app.api_key, "order-1", &app.valid_form_body())
        .await;
    let theirs = app
        .post_form_idempotent(&other.api_key, "order-1", &other.valid_form_body())
        .await;

    assert_ne!(replayed(&theirs).as_deref(), Some("true"));
    let mine = created(mine).await;
    let theirs = created(theirs).await;
    assert_ne!(mine["id"], theirs["id"]);
    assert_eq!(theirs["organisationId"], serde_json::json!(other.org_id));
}

#[tokio::test]
async fn keys_survive_a_restart() {
    let mut app = spawn_app().await;
    let body = app.valid_form_body();
    let first = app
        .post_form_idempotent(&app.api_key, "durable", &body)
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_text = first.text().await.unwrap();

    app.restart().await;
    let again = app
        .post_form_idempotent(&app.api_key, "durable", &body)
        .await;

    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(replayed(&again).as_deref(), Some("true"));
    assert_eq!(again.text().await.unwrap(), first_text);
    assert_eq!(app.list("").await["count"], 1);
}

#[tokio::test]
async fn keys_are_per_api_key_even_within_one_organisation() {
    let app = spawn_app().await;
    let second_key = app.create_api_key(proofme::domain::Mode::Test).await;
    let body = app.valid_form_body();

    let first = created(
        app.post_form_idempotent(&app.api_key, "shared", &body)
            .await,
    )
    .await;
    let second = app.post_form_idempotent(&second_key, "shared", &body).await;

    assert_ne!(replayed(&second).as_deref(), Some("true"));
    let second = created(second).await;
    assert_ne!(first["id"], second["id"]);
    assert_eq!(app.list("").await["count"], 2);
}

#[tokio::test]
async fn a_json_request_is_replayed_too() {
    let app = spawn_app().await;
    let body = app.valid_json_body().to_string();
    let send = || {
        app.client
            .post(app.url("/v1/identification"))
            .bearer_auth(&app.api_key)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", "json-1")
            .body(body.clone())
            .send()
    };

    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_text = first.text().await.unwrap();
    let second = send().await.unwrap();

    assert_eq!(second.status(), StatusCode::CREATED);
    assert_eq!(replayed(&second).as_deref(), Some("true"));
    assert_eq!(second.text().await.unwrap(), first_text);
}

#[tokio::test]
async fn keys_older_than_24_hours_are_pruned_and_newer_ones_kept() {
    use ::proofme::domain::{
        Credential, HttpUrl, Identification, IdentificationId, Mode, Purpose, Status, Timestamp,
    };
    use ::proofme::store::{CreateOutcome, IdempotencyRecord, Store};
    // A store with no server over it, so no background prune races this one.
    let dir = tempfile::tempdir().expect("temp dir");
    let database = TestDatabase::fresh(dir.path(), "db").await;
    let store = Store::connect(&database.url).await.expect("store");
    let org = store.create_organisation("Shop").await.expect("org");
    let key = store
        .create_api_key(&org.id, Mode::Test)
        .await
        .expect("key");
    let credential: Credential = "EPASS:OLDER_THAN_18".parse().expect("credential");
    let proofme = store
        .create_proofme(&org.id, "Age", Purpose::AgeVerification, &[credential])
        .await
        .expect("proofme");
    let made = |created_at: Timestamp| Identification {
        id: IdentificationId::generate(),
        organisation_id: org.id.clone(),
        proofme_id: proofme.id.clone(),
        proofme_revision: proofme.revision,
        mode: Mode::Test,
        status: Status::Open,
        description: None,
        is_request: true,
        metadata: None,
        redirect_url: HttpUrl::parse(REDIRECT_URL).expect("url"),
        webhook_url: None,
        locale: None,
        scanned_at: None,
        failure_reason: None,
        expires_at: created_at.plus(std::time::Duration::from_secs(86_400)),
        created_at,
        updated_at: created_at,
    };
    let record = |k: &str| IdempotencyRecord {
        api_key_id: key.key.id.clone(),
        key: k.to_owned(),
        request_sha256: "0".repeat(64),
        response_status: 201,
        response_body: "{}".to_owned(),
    };
    let day_and_an_hour_ago = Timestamp::from_millis(Timestamp::now().millis() - 25 * 3_600_000);
    for (when, k) in [(day_and_an_hour_ago, "old"), (Timestamp::now(), "new")] {
        let outcome = store
            .create_identification(&made(when), Some(&record(k)))
            .await;
        assert_eq!(outcome.expect("create"), CreateOutcome::Created);
    }

    let pruned = store.prune_idempotency_keys().await.expect("prune");

    assert_eq!(pruned, 1);
    assert_eq!(
        store.prune_idempotency_keys().await.expect("prune again"),
        0
    );
    let kept = store
        .find_idempotent_response(&key.key.id, "new", &"0".repeat(64))
        .await
        .expect("find");
    assert!(
        matches!(kept, Some(CreateOutcome::Replay { status: 201, .. })),
        "{kept:?}"
    );
}
