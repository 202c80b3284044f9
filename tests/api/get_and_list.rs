//! GET /v1/identification/{id} and GET /v1/identification (the list).

use crate::helpers::*;
use proofme::domain::Mode;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

fn ids(list: &Value) -> Vec<String> {
    list["rows"]
        .as_array()
        .expect("rows array")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

fn descriptions(list: &Value) -> Vec<String> {
    list["rows"]
        .as_array()
        .expect("rows array")
        .iter()
        .map(|r| r["description"].as_str().unwrap_or("").to_owned())
        .collect()
}

// ---- GET one ----

#[tokio::test]
async fn get_returns_the_same_object_as_create() {
    let app = spawn_app().await;
    let created_text = app
        .post_json(&app.json_body_with(json!({
            "webhookUrl": WEBHOOK_URL,
            "metadata": {"my-data": 12345},
            "locale": "nl_BE",
        })))
        .await
        .text()
        .await
        .unwrap();
    let created: Value = serde_json::from_str(&created_text).unwrap();
    let id = created["id"].as_str().unwrap();

    let resp = app.get(&format!("/v1/identification/{id}")).await;

    assert_eq!(resp.status(), StatusCode::OK);
    assert!(content_type(&resp).starts_with("application/json"));
    let text = resp.text().await.unwrap();
    let fetched: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(fetched, created);
    assert_eq!(top_level_keys(&text), IDENTIFICATION_MEMBERS.to_vec());
}

#[tokio::test]
async fn get_of_an_unknown_id_is_a_404_problem() {
    let app = spawn_app().await;
    let unknown = format!("id_{}", "A".repeat(22));

    let resp = app.get(&format!("/v1/identification/{unknown}")).await;

    assert_problem(resp, 404, None).await;
}

#[tokio::test]
async fn get_of_a_malformed_id_is_a_404_problem() {
    let app = spawn_app().await;
    for bad in ["nope", "id_12345", "pr_12345", "id_%C3%BC"] {
        let resp = app.get(&format!("/v1/identification/{bad}")).await;
        assert_problem(resp, 404, None).await;
    }
}

#[tokio::test]
async fn get_of_another_organisations_identification_is_404() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let theirs = created(
        app.post_form_with_key(&other.api_key, &other.valid_form_body())
            .await,
    )
    .await;
    let id = theirs["id"].as_str().unwrap();

    let resp = app.get(&format!("/v1/identification/{id}")).await;

    assert_problem(resp, 404, None).await;
    // The owner still sees it.
    let own = app
        .get_with_key(&other.api_key, &format!("/v1/identification/{id}"))
        .await;
    assert_eq!(own.status(), StatusCode::OK);
}

// ---- list ----

#[tokio::test]
async fn list_returns_count_and_rows_of_the_keys_organisation_only() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let mine_a = app.create_with_description("mine a").await;
    let mine_b = app.create_with_description("mine b").await;
    created(
        app.post_form_with_key(&other.api_key, &other.valid_form_body())
            .await,
    )
    .await;

    let list = app.list("").await;

    assert_eq!(list["count"], 2);
    let got: HashSet<String> = ids(&list).into_iter().collect();
    assert_eq!(got, HashSet::from([mine_a, mine_b]));
    for row in list["rows"].as_array().unwrap() {
        assert_eq!(row["organisationId"], json!(app.org_id));
        assert_eq!(row["resource"], "identification");
    }
}

#[tokio::test]
async fn list_rows_are_identification_objects() {
    let app = spawn_app().await;
    let created = app
        .create_identification(json!({ "metadata": [1, 2] }))
        .await;

    let list = app.list("").await;

    assert_eq!(list["rows"][0], created);
}

#[tokio::test]
async fn list_of_an_organisation_without_identifications_is_empty() {
    let app = spawn_app().await;

    let list = app.list("").await;

    assert_eq!(list, json!({"count": 0, "rows": []}));
}

#[tokio::test]
async fn list_returns_at_most_50_rows_by_default() {
    let app = spawn_app().await;
    for i in 0..51 {
        app.create_with_description(&format!("order {i}")).await;
    }

    let list = app.list("").await;

    assert_eq!(list["count"], 51);
    assert_eq!(list["rows"].as_array().unwrap().len(), 50);
}

#[tokio::test]
async fn list_pages_with_limit_and_offset() {
    // Arrange
    let app = spawn_app().await;
    let mut all = HashSet::new();
    for i in 0..7 {
        all.insert(app.create_with_description(&format!("order {i}")).await);
    }

    // Act
    let pages = [
        app.list("limit=3&offset=0").await,
        app.list("limit=3&offset=3").await,
        app.list("limit=3&offset=6").await,
    ];

    // Assert
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["rows"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![3, 3, 1]);
    let mut seen = HashSet::new();
    for page in &pages {
        assert_eq!(page["count"], 7);
        for id in ids(page) {
            assert!(seen.insert(id.clone()), "{id} appears on two pages");
        }
    }
    assert_eq!(seen, all);
    assert_eq!(app.list("limit=3&offset=9").await["rows"], json!([]));
}

#[tokio::test]
async fn list_accepts_limits_from_1_to_250() {
    let app = spawn_app().await;
    app.create_with_description("a").await;
    app.create_with_description("b").await;

    assert_eq!(
        app.list("limit=1").await["rows"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        app.list("limit=250").await["rows"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn list_rejects_a_limit_out_of_range_or_not_a_number_with_422() {
    let app = spawn_app().await;
    for bad in ["0", "251", "-1", "abc", "1.5", ""] {
        let resp = app.get(&format!("/v1/identification?limit={bad}")).await;
        if bad.is_empty() {
            // An empty value may read as absent; it must not be a server error.
            assert!(
                resp.status() == StatusCode::OK
                    || resp.status() == StatusCode::UNPROCESSABLE_ENTITY
            );
            continue;
        }
        assert_problem(resp, 422, Some("limit")).await;
    }
}

#[tokio::test]
async fn list_rejects_a_negative_or_non_numeric_offset_with_422() {
    let app = spawn_app().await;
    for bad in ["-1", "x", "1e3"] {
        let resp = app.get(&format!("/v1/identification?offset={bad}")).await;
        assert_problem(resp, 422, Some("offset")).await;
    }
}

#[tokio::test]
async fn list_accepts_every_documented_sort_column() {
    let app = spawn_app().await;
    app.create_with_description("a").await;
    for column in [
        "id",
        "description",
        "status",
        "isRequest",
        "createdAt",
        "updatedAt",
    ] {
        for direction in ["ASC", "DESC", "asc", "desc", "Asc"] {
            let list = app
                .list(&format!("sortColumn={column}&sortDirection={direction}"))
                .await;
            assert_eq!(list["count"], 1, "{column} {direction}");
        }
    }
}

#[tokio::test]
async fn list_rejects_an_unknown_sort_column_with_422() {
    let app = spawn_app().await;
    for bad in ["name", "created_at", "id;DROP TABLE identifications"] {
        let resp = app
            .get(&format!("/v1/identification?sortColumn={}", encoded(bad)))
            .await;
        assert_problem(resp, 422, Some("sortColumn")).await;
    }
}

#[tokio::test]
async fn list_rejects_an_unknown_sort_direction_with_422() {
    let app = spawn_app().await;
    for bad in ["up", "ascending", "1"] {
        let resp = app
            .get(&format!("/v1/identification?sortDirection={bad}"))
            .await;
        assert_problem(resp, 422, Some("sortDirection")).await;
    }
}

#[tokio::test]
async fn list_sorts_by_description_in_either_direction() {
    let app = spawn_app().await;
    for d in ["banana", "cherry", "apple", "date"] {
        app.create_with_description(d).await;
    }

    let asc = app.list("sortColumn=description&sortDirection=ASC").await;
    let desc = app.list("sortColumn=description&sortDirection=desc").await;

    assert_eq!(
        descriptions(&asc),
        vec!["apple", "banana", "cherry", "date"]
    );
    assert_eq!(
        descriptions(&desc),
        vec!["date", "cherry", "banana", "apple"]
    );
}

#[tokio::test]
async fn list_sorts_by_id_ascending() {
    let app = spawn_app().await;
    for d in ["a", "b", "c", "d", "e"] {
        app.create_with_description(d).await;
    }

    let got = ids(&app.list("sortColumn=id&sortDirection=ASC").await);

    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(got, sorted);
}

#[tokio::test]
async fn list_defaults_to_newest_first() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for d in ["first", "second", "third"] {
        created.push(app.create_with_description(d).await);
        // Distinct creation times.
        app.clock.advance(Duration::from_secs(1));
    }

    let default = ids(&app.list("").await);
    let oldest_first = ids(&app.list("sortDirection=ASC").await);

    created.reverse();
    assert_eq!(default, created);
    created.reverse();
    assert_eq!(oldest_first, created);
}

#[tokio::test]
async fn list_search_matches_a_substring_of_the_description() {
    let app = spawn_app().await;
    let wanted = app.create_with_description("Order 12345 for Alice").await;
    app.create_with_description("Order 99999 for Bob").await;

    let list = app.list("search=12345").await;

    assert_eq!(list["count"], 1);
    assert_eq!(ids(&list), vec![wanted]);
}

#[tokio::test]
async fn list_search_matches_a_substring_of_the_id() {
    let app = spawn_app().await;
    let wanted = app.create_with_description("one").await;
    app.create_with_description("two").await;
    let needle = &wanted[3..15];

    let list = app.list(&format!("search={needle}")).await;

    assert_eq!(ids(&list), vec![wanted.clone()]);
    assert_eq!(list["count"], 1);
}

#[tokio::test]
async fn list_search_treats_percent_and_underscore_literally() {
    let app = spawn_app().await;
    let percent = app.create_with_description("100% done").await;
    let underscore = app.create_with_description("a_b").await;
    app.create_with_description("100 done").await;
    app.create_with_description("axb").await;

    let by_percent = app.list("search=0%25").await;
    let by_underscore = app.list("search=a_b").await;

    assert_eq!(ids(&by_percent), vec![percent]);
    assert_eq!(ids(&by_underscore), vec![underscore]);
}

#[tokio::test]
async fn list_filters_by_status_code_or_name() {
    let app = spawn_app().await;
    app.create_with_description("a").await;
    app.create_with_description("b").await;

    assert_eq!(app.list("status=0").await["count"], 2);
    assert_eq!(app.list("status=open").await["count"], 2);
    assert_eq!(app.list("status=2").await["count"], 0);
    let verified = app.list("status=verified").await;
    assert_eq!(verified["count"], 0);
    assert_eq!(verified["rows"], json!([]));
}

#[tokio::test]
async fn list_rejects_an_unknown_status_with_422() {
    let app = spawn_app().await;
    for bad in ["7", "done", "-1", "OPEN_"] {
        let resp = app.get(&format!("/v1/identification?status={bad}")).await;
        assert_problem(resp, 422, Some("status")).await;
    }
}

#[tokio::test]
async fn list_filters_by_mode() {
    let app = spawn_app().await;
    let live = app.create_api_key(Mode::Live).await;
    let test_id = app.create_with_description("test one").await;
    let live_row = created(app.post_form_with_key(&live, &app.valid_form_body()).await).await;
    assert_eq!(live_row["mode"], "live");
    // A live key sees both modes (a test key sees test ones only).
    let list = |query: &'static str| {
        let (app, live) = (&app, &live);
        async move {
            let resp = app
                .get_with_key(live, &format!("/v1/identification?{query}"))
                .await;
            assert_eq!(resp.status().as_u16(), 200);
            resp.json::<Value>().await.expect("json")
        }
    };

    let tests = list("mode=test").await;
    let lives = list("mode=live").await;
    let both = list("").await;

    assert_eq!(ids(&tests), vec![test_id]);
    assert_eq!(
        ids(&lives),
        vec![live_row["id"].as_str().unwrap().to_owned()]
    );
    assert_eq!(both["count"], 2);
}

#[tokio::test]
async fn list_rejects_an_unknown_mode_with_422() {
    let app = spawn_app().await;
    for bad in ["prod", "TESTING", "1"] {
        let resp = app.get(&format!("/v1/identification?mode={bad}")).await;
        assert_problem(resp, 422, Some("mode")).await;
    }
}

#[tokio::test]
async fn list_combines_search_filters_and_paging_in_count() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.create_with_description(&format!("match {i}")).await;
    }
    app.create_with_description("other").await;

    let list = app
        .list("search=match&status=open&mode=test&limit=2&offset=1&sortColumn=description&sortDirection=ASC")
        .await;

    assert_eq!(list["count"], 5);
    assert_eq!(descriptions(&list), vec!["match 1", "match 2"]);
}

fn encoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
