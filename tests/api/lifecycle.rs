//! The identification after creation (DESIGN.md sections 2 and 3): revoke,
//! test outcomes, status history, expiry, shared data and its erasure.

use crate::helpers::*;
use proofme::domain::{Credential, Mode, OrganisationId, Purpose};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

async fn create(app: &TestApp) -> String {
    let created = app.create_identification(json!({})).await;
    created["id"].as_str().expect("id").to_owned()
}

async fn json_of(resp: reqwest::Response, status: u16) -> Value {
    let code = resp.status();
    let text = resp.text().await.expect("body");
    assert_eq!(code.as_u16(), status, "{text}");
    serde_json::from_str(&text).expect("JSON body")
}

// --- revoke ----------------------------------------------------------------

#[tokio::test]
async fn delete_revokes_an_open_identification() {
    let app = spawn_app().await;
    let id = create(&app).await;

    let resp = app.delete(&format!("/v1/identification/{id}")).await;

    assert_eq!(
        json_of(resp, 200).await,
        json!({"message": "REVOKE_SUCCESSFUL"})
    );
    let ident = app.identification(&id).await;
    assert_eq!(ident["status"], "6");
    assert_eq!(ident["statusName"], "revoked");
}

#[tokio::test]
async fn delete_revokes_a_pending_identification() {
    let app = spawn_app().await;
    let id = create(&app).await;
    app.set_outcome(&id, "pending").await;

    let resp = app.delete(&format!("/v1/identification/{id}")).await;

    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(app.identification(&id).await["status"], "6");
}

#[tokio::test]
async fn revoking_twice_is_a_409_problem() {
    let app = spawn_app().await;
    let id = create(&app).await;
    let first = app.delete(&format!("/v1/identification/{id}")).await;
    assert_eq!(first.status(), StatusCode::OK);

    let again = app.delete(&format!("/v1/identification/{id}")).await;

    assert_problem(again, 409, None).await;
}

#[tokio::test]
async fn revoking_a_verified_identification_is_a_409_problem() {
    let app = spawn_app().await;
    let id = create(&app).await;
    app.set_outcome(&id, "verified").await;

    let resp = app.delete(&format!("/v1/identification/{id}")).await;

    assert_problem(resp, 409, None).await;
    assert_eq!(app.identification(&id).await["status"], "2");
}

#[tokio::test]
async fn revoking_another_organisations_identification_is_404_and_changes_nothing() {
    let app = spawn_app().await;
    let id = create(&app).await;
    let other = app.create_other_organisation().await;

    let resp = app
        .delete_with_key(&other.api_key, &format!("/v1/identification/{id}"))
        .await;

    assert_problem(resp, 404, None).await;
    assert_eq!(app.identification(&id).await["status"], "0");
}

// --- test outcomes ---------------------------------------------------------

#[tokio::test]
async fn test_outcome_pending_sets_the_status_and_scanned_at() {
    let app = spawn_app().await;
    let id = create(&app).await;

    let resp = app.api_test_outcome(&id, "pending").await;

    let body = json_of(resp, 200).await;
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["status"], "1");
    assert_eq!(body["statusName"], "pending");
    assert_seed_timestamp(&body["scannedAt"]);
    assert_eq!(
        app.identification(&id).await["scannedAt"],
        body["scannedAt"]
    );
}

#[tokio::test]
async fn test_outcome_verified_after_pending_is_final_and_keeps_scanned_at() {
    let app = spawn_app().await;
    let id = create(&app).await;
    let pending = app.set_outcome(&id, "pending").await;

    let verified = app.set_outcome(&id, "verified").await;

    assert_eq!(verified["status"], "2");
    assert_eq!(verified["statusName"], "verified");
    assert_eq!(verified["scannedAt"], pending["scannedAt"]);
}

#[tokio::test]
async fn test_outcome_on_a_final_identification_is_409() {
    let app = spawn_app().await;
    let id = create(&app).await;
    app.set_outcome(&id, "verified").await;

    for status in ["pending", "verified", "failed", "canceled", "expired"] {
        let resp = app.api_test_outcome(&id, status).await;
        assert_problem(resp, 409, None).await;
    }
    assert_eq!(app.identification(&id).await["status"], "2");
}

#[tokio::test]
async fn test_outcome_with_an_invalid_status_is_422_on_status() {
    let app = spawn_app().await;
    let id = create(&app).await;

    for status in ["bogus", "open", "revoked", "", "6"] {
        let resp = app.api_test_outcome(&id, status).await;
        assert_problem(resp, 422, Some("status")).await;
    }
    let missing = app
        .client
        .post(app.url(&format!("/v1/identification/{id}/test-outcome")))
        .bearer_auth(&app.api_key)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(missing, 422, Some("status")).await;
    assert_eq!(app.identification(&id).await["status"], "0");
}

#[tokio::test]
async fn test_outcome_on_a_live_identification_is_403() {
    let app = spawn_app().await;
    let live_key = app.create_api_key(Mode::Live).await;
    let created = created(
        app.post_json_with_key(&live_key, &app.valid_json_body())
            .await,
    )
    .await;
    assert_eq!(created["mode"], "live");
    let id = created["id"].as_str().unwrap();

    let resp = app
        .api_test_outcome_with_key(&live_key, id, "verified")
        .await;

    assert_problem(resp, 403, None).await;
    let ident = app
        .get_with_key(&live_key, &format!("/v1/identification/{id}"))
        .await;
    assert_eq!(json_of(ident, 200).await["status"], "0");
}

#[tokio::test]
async fn test_outcome_on_another_organisations_identification_is_404() {
    let app = spawn_app().await;
    let id = create(&app).await;
    let other = app.create_other_organisation().await;

    let resp = app
        .api_test_outcome_with_key(&other.api_key, &id, "verified")
        .await;

    assert_problem(resp, 404, None).await;
    assert_eq!(app.identification(&id).await["status"], "0");
}

// --- history ---------------------------------------------------------------

#[tokio::test]
async fn history_lists_the_creation_then_every_change_with_its_cause() {
    let app = spawn_app().await;
    let id = create(&app).await;
    app.set_outcome(&id, "pending").await;
    let resp = app.delete(&format!("/v1/identification/{id}")).await;
    assert_eq!(resp.status(), StatusCode::OK);

    let body = app
        .get_json(&format!("/v1/identification/{id}/history"))
        .await;

    assert_eq!(body["id"], id.as_str());
    let rows = body["rows"].as_array().expect("rows");
    let summary: Vec<(Value, Value, Value, Value)> = rows
        .iter()
        .map(|r| {
            (
                r["status"].clone(),
                r["statusName"].clone(),
                r["previousStatus"].clone(),
                r["cause"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!("0"), json!("open"), Value::Null, json!("created")),
            (
                json!("1"),
                json!("pending"),
                json!("0"),
                json!("api_test_outcome")
            ),
            (
                json!("6"),
                json!("revoked"),
                json!("1"),
                json!("api_revoke")
            ),
        ]
    );
    for pair in rows.windows(2) {
        assert!(seconds_between(&pair[0]["changedAt"], &pair[1]["changedAt"]) >= 0);
    }
    for r in rows {
        chrono::DateTime::parse_from_rfc3339(r["changedAt"].as_str().expect("changedAt"))
            .expect("RFC 3339");
    }
}

#[tokio::test]
async fn history_records_mypage_causes() {
    let app = spawn_app().await;
    let test_outcome = create(&app).await;
    let cancel = create(&app).await;

    for (id, path, body) in [
        (&test_outcome, "test-outcome", "outcome=failed"),
        (&cancel, "cancel", ""),
    ] {
        let resp = app
            .client
            .post(app.url(&format!("/{id}/{path}")))
            .header(reqwest::header::CONTENT_TYPE, FORM)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    }

    let causes =
        |rows: Vec<Value>| -> Vec<Value> { rows.iter().map(|r| r["cause"].clone()).collect() };
    assert_eq!(
        causes(app.history(&test_outcome).await),
        [json!("created"), json!("mypage_test_outcome")]
    );
    assert_eq!(
        causes(app.history(&cancel).await),
        [json!("created"), json!("mypage_cancel")]
    );
}

#[tokio::test]
async fn history_of_another_organisations_identification_is_404() {
    let app = spawn_app().await;
    let id = create(&app).await;
    let other = app.create_other_organisation().await;

    let resp = app
        .get_with_key(&other.api_key, &format!("/v1/identification/{id}/history"))
        .await;

    assert_problem(resp, 404, None).await;
}

// --- expiry ----------------------------------------------------------------

/// A minute to live: long enough that nothing expires before a test moves
/// the clock past it (`past_ttl`), however slow the machine.
const TTL: Duration = Duration::from_secs(60);

async fn spawn_app_with_one_minute_ttl() -> TestApp {
    spawn_app_with(|c| c.identification_ttl = TTL).await
}

fn past_ttl(app: &TestApp) {
    app.clock.advance(TTL + Duration::from_secs(1));
}

#[tokio::test]
async fn an_identification_reads_expired_once_past_expires_at() {
    let app = spawn_app_with_one_minute_ttl().await;
    let created = app.create_identification(json!({})).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        seconds_between(&created["createdAt"], &created["expiresAt"]),
        60
    );

    past_ttl(&app);
    let ident = app.identification(id).await;

    assert_eq!(ident["statusName"], "expired");
    assert_eq!(ident["status"], "5");
}

#[tokio::test]
async fn the_expiry_sweep_records_the_expiry_within_seconds() {
    let app = spawn_app_with_one_minute_ttl().await;
    let id = create(&app).await;
    past_ttl(&app);

    let deadline = tokio::time::Instant::now() + DEADLINE;
    let rows = loop {
        let rows = app.history(&id).await;
        if rows.len() > 1 || tokio::time::Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert_eq!(rows[1]["status"], "5");
    assert_eq!(rows[1]["previousStatus"], "0");
    assert_eq!(rows[1]["cause"], "expiry");
}

#[tokio::test]
async fn the_status_filter_treats_an_overdue_identification_as_expired() {
    let app = spawn_app_with_one_minute_ttl().await;
    let id = create(&app).await;

    past_ttl(&app);
    let ids = |list: Value| -> Vec<String> {
        list["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };

    assert!(ids(app.list("status=expired").await).contains(&id));
    assert!(ids(app.list("status=5").await).contains(&id));
    assert!(!ids(app.list("status=open").await).contains(&id));
    assert!(!ids(app.list("status=0").await).contains(&id));
}

#[tokio::test]
async fn a_test_outcome_after_expiry_is_409() {
    let app = spawn_app_with_one_minute_ttl().await;
    let id = create(&app).await;

    past_ttl(&app);
    let resp = app.api_test_outcome(&id, "verified").await;

    assert_problem(resp, 409, None).await;
    assert_eq!(app.identification(&id).await["status"], "5");
}

#[tokio::test]
async fn revoking_after_expiry_is_409() {
    let app = spawn_app_with_one_minute_ttl().await;
    let id = create(&app).await;

    past_ttl(&app);
    let resp = app.delete(&format!("/v1/identification/{id}")).await;

    assert_problem(resp, 409, None).await;
    assert_eq!(app.identification(&id).await["status"], "5");
}

// --- shared data -----------------------------------------------------------

fn data_path(id: &str) -> String {
    format!("/v1/identification/data/{id}")
}

#[tokio::test]
async fn data_is_null_before_verification() {
    let app = spawn_app().await;
    let id = create(&app).await;

    let open = app.get_json(&data_path(&id)).await;
    app.set_outcome(&id, "pending").await;
    let pending = app.get_json(&data_path(&id)).await;

    assert_eq!(
        open,
        json!({"id": id, "status": "0", "statusName": "open", "data": null, "encryptedData": null})
    );
    assert_eq!(
        pending,
        json!({"id": id, "status": "1", "statusName": "pending", "data": null, "encryptedData": null})
    );
}

#[tokio::test]
async fn data_after_a_test_verification_has_exactly_the_proofmes_credentials() {
    let app = spawn_app().await;
    let id = create(&app).await;
    app.set_outcome(&id, "verified").await;

    let body = app.get_json(&data_path(&id)).await;

    assert_eq!(
        body,
        json!({"id": id, "status": "2", "statusName": "verified", "data": {"OLDER_THAN_18": true}, "encryptedData": null})
    );
}

#[tokio::test]
async fn data_follows_a_proofme_with_several_credentials() {
    let app = spawn_app().await;
    let org = OrganisationId::parse(&app.org_id).unwrap();
    let creds: Vec<Credential> = [
        "EPASS:FIRST_NAME",
        "EPASS:DATE_OF_BIRTH",
        "EMAIL:EMAIL:optional",
    ]
    .iter()
    .map(|c| c.parse().unwrap())
    .collect();
    let proofme = app
        .store
        .create_proofme(&org, "KYC", Purpose::KycVerification, &creds)
        .await
        .unwrap();
    let created = app
        .create_identification(json!({ "proofmeId": proofme.id.to_string() }))
        .await;
    let id = created["id"].as_str().unwrap();
    app.set_outcome(id, "verified").await;

    let body = app.get_json(&data_path(id)).await;

    let data = body["data"].as_object().expect("data object");
    let mut keys: Vec<&str> = data.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["DATE_OF_BIRTH", "EMAIL", "FIRST_NAME"]);
    assert!(data.values().all(|v| !v.is_null()), "{body}");
}

#[tokio::test]
async fn data_stays_null_after_a_failed_outcome() {
    let app = spawn_app().await;
    let id = create(&app).await;
    app.set_outcome(&id, "failed").await;

    let body = app.get_json(&data_path(&id)).await;

    assert_eq!(
        body,
        json!({"id": id, "status": "3", "statusName": "failed", "data": null, "encryptedData": null})
    );
}

#[tokio::test]
async fn deleting_data_erases_it_once() {
    let app = spawn_app().await;
    let id = create(&app).await;
    app.set_outcome(&id, "verified").await;

    let first = json_of(app.delete(&data_path(&id)).await, 200).await;
    let after = app.get_json(&data_path(&id)).await;
    let second = json_of(app.delete(&data_path(&id)).await, 200).await;

    assert_eq!(
        first,
        json!({"message": "DELETED_SUCCESSFULLY", "count": 1})
    );
    assert_eq!(
        after,
        json!({"id": id, "status": "2", "statusName": "verified", "data": null, "encryptedData": null})
    );
    assert_eq!(
        second,
        json!({"message": "DELETED_SUCCESSFULLY", "count": 0})
    );
    // The identification itself stays.
    assert_eq!(app.identification(&id).await["status"], "2");
}

#[tokio::test]
async fn data_of_another_organisations_identification_is_404() {
    let app = spawn_app().await;
    let id = create(&app).await;
    app.set_outcome(&id, "verified").await;
    let other = app.create_other_organisation().await;

    let get = app.get_with_key(&other.api_key, &data_path(&id)).await;
    let delete = app.delete_with_key(&other.api_key, &data_path(&id)).await;

    assert_problem(get, 404, None).await;
    assert_problem(delete, 404, None).await;
    assert_eq!(
        app.get_json(&data_path(&id)).await["data"],
        json!({"OLDER_THAN_18": true})
    );
}

#[tokio::test]
async fn data_is_erased_by_itself_after_the_retention_period() {
    let app = spawn_app_with(|c| c.data_retention = std::time::Duration::from_secs(1)).await;
    let kept = spawn_app().await;
    let id = create(&app).await;
    let kept_id = create(&kept).await;
    app.set_outcome(&id, "verified").await;
    kept.set_outcome(&kept_id, "verified").await;
    assert_eq!(
        app.get_json(&data_path(&id)).await["data"],
        json!({"OLDER_THAN_18": true})
    );

    // The sweep runs by itself; wait for its effect (bounded).
    let deadline = std::time::Instant::now() + DEADLINE;
    while !app.get_json(&data_path(&id)).await["data"].is_null() {
        assert!(
            std::time::Instant::now() < deadline,
            "data outlived its retention"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    assert_eq!(app.identification(&id).await["status"], "2");
    // The default period (30 days) keeps it.
    assert_eq!(
        kept.get_json(&data_path(&kept_id)).await["data"],
        json!({"OLDER_THAN_18": true})
    );
}

#[tokio::test]
async fn data_of_an_unknown_identification_is_404() {
    let app = spawn_app().await;

    for path in [
        data_path("id_0000000000000000000000"),
        data_path("nonsense"),
    ] {
        assert_problem(app.get(&path).await, 404, None).await;
        assert_problem(app.delete(&path).await, 404, None).await;
    }
}

// --- the OpenAPI document --------------------------------------------------

#[tokio::test]
async fn the_openapi_document_lists_the_lifecycle_paths() {
    let app = spawn_app().await;

    let doc = app.get_json("/v1/openapi.json").await;

    let paths = doc["paths"].as_object().expect("paths");
    for (path, methods) in [
        ("/v1/identification/{id}", &["get", "delete"][..]),
        ("/v1/identification/{id}/test-outcome", &["post"][..]),
        ("/v1/identification/{id}/history", &["get"][..]),
        ("/v1/identification/{id}/webhooks", &["get"][..]),
        ("/v1/identification/data/{id}", &["get", "delete"][..]),
    ] {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing from {:?}", paths.keys()));
        for m in methods {
            assert!(item.get(*m).is_some(), "{path} has no {m}");
        }
    }
}

/// Reads are served from written-out JSON while the identification is
/// unchanged: a read before each change must not hide the change, and
/// reading twice gives the same object.
#[tokio::test]
async fn a_read_before_each_change_does_not_hide_it() {
    let app = spawn_app().await;
    let id = create(&app).await;
    let first = app.identification(&id).await;
    assert_eq!(first, app.identification(&id).await, "unchanged, the same");
    assert_eq!(first["statusName"], "open");

    app.set_outcome(&id, "pending").await;
    let pending = app.identification(&id).await;
    assert_eq!(pending["statusName"], "pending");
    assert!(pending["scannedAt"].is_string());

    app.delete(&format!("/v1/identification/{id}")).await;
    assert_eq!(app.identification(&id).await["statusName"], "revoked");
}

/// The clock alone changes an identification: one read while it is open
/// must not keep it open past `expiresAt`.
#[tokio::test]
async fn a_read_before_expiry_does_not_hide_it() {
    let app = spawn_app_with_one_minute_ttl().await;
    let id = create(&app).await;
    let before = app.identification(&id).await;
    assert_eq!(before["statusName"], "open");

    past_ttl(&app);

    assert_eq!(app.identification(&id).await["statusName"], "expired");
}
