//! What cannot be undone asks first: revoking or erasing an
//! identification, revoking a key, rotating the webhook secret. The page
//! that offers it only links to a question; loading the question changes
//! nothing; only its form (with the CSRF token) does it.

use proofme::domain::OrganisationId;
use reqwest::StatusCode;

use crate::browser::{Browser, Page};
use crate::helpers::*;

const REVOKE_IDENTIFICATION: &str = "/dashboard/act/revoke-identification";
const ERASE_DATA: &str = "/dashboard/act/erase-data";
const REVOKE_KEY: &str = "/dashboard/act/revoke-api-key";
const ROTATE_SECRET: &str = "/dashboard/act/rotate-webhook-secret";

/// How many forms of `page` post to `action`.
fn forms_posting_to(page: &Page, action: &str) -> usize {
    page.texts(&format!(r#"form[action="{action}"]"#)).len()
}

/// The id as a confirmation names it: shortened as everywhere in the
/// dashboard, its first seven and last four characters.
fn short(id: &str) -> String {
    format!("{}…{}", &id[..7], &id[id.len() - 4..])
}

/// An identification of `other`; its id.
async fn create_for(app: &TestApp, other: &OtherOrganisation) -> String {
    let res = app
        .post_form_with_key(&other.api_key, &other.valid_form_body())
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let v: serde_json::Value = res.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

/// The question, checked: it names what it is about, says it cannot be
/// undone, and its form posts `action` with `id` and the CSRF token; the
/// way back goes to `back`.
fn assert_asks(page: &Page, action: &str, id: Option<&str>, confirm: &str, back: &str) {
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains("cannot be undone"), "{}", page.text());
    let (to, fields) = page.form(confirm).expect("the confirming form");
    assert_eq!(to, action);
    assert!(
        fields
            .iter()
            .any(|(k, v)| k == "csrf" && Some(v) == page.csrf().as_ref()),
        "{fields:?}"
    );
    let sent_id = fields
        .iter()
        .find(|(k, _)| k == "id")
        .map(|(_, v)| v.as_str());
    assert_eq!(sent_id, id);
    assert_eq!(page.texts("button.danger"), [confirm]);
    assert!(page.hrefs("a.button.secondary").contains(&back.to_owned()));
}

#[tokio::test]
async fn revoking_an_identification_asks_first_and_asking_changes_nothing() {
    let app = spawn_app().await;
    let id = app.create_with_description("Ask before revoking").await;
    let detail_path = format!("/dashboard/identifications/{id}");
    let confirm_path = format!("{detail_path}/revoke");
    let mut browser = app.signed_in().await;

    let detail = browser.get(&detail_path).await;
    assert_eq!(forms_posting_to(&detail, REVOKE_IDENTIFICATION), 0);
    assert!(
        detail
            .hrefs("a.button.danger-outline")
            .contains(&confirm_path)
    );

    let question = browser.get(&confirm_path).await;
    let again = browser.get(&confirm_path).await;

    assert_asks(
        &question,
        REVOKE_IDENTIFICATION,
        Some(&id),
        "Yes, revoke it",
        &detail_path,
    );
    assert_eq!(question.texts("main"), again.texts("main"));
    let text = question.text();
    assert!(text.contains("“Ask before revoking”"), "{text}");
    assert!(text.contains(&short(&id)), "{text}");
    assert_eq!(app.identification(&id).await["statusName"], "open");
    assert_eq!(app.history(&id).await.len(), 1);

    let answer = browser.submit(&again, "Yes, revoke it").await;

    assert!(answer.status.is_redirection(), "{}", answer.status);
    assert_eq!(answer.location().as_deref(), Some(detail_path.as_str()));
    assert_eq!(app.identification(&id).await["statusName"], "revoked");
    let done = browser.get(&detail_path).await;
    assert_eq!(
        done.texts("[role=status]").last().map(String::as_str),
        Some("The identification is revoked.")
    );
    assert!(done.hrefs("a.button.danger-outline").is_empty());
    // Nothing left to revoke: a page that says so, without the button.
    let after = browser.get(&confirm_path).await;
    assert_eq!(after.status, StatusCode::CONFLICT);
    assert!(after.text().contains("is revoked"), "{}", after.text());
    assert_eq!(forms_posting_to(&after, REVOKE_IDENTIFICATION), 0);
    assert!(after.hrefs("a").contains(&detail_path));
}

#[tokio::test]
async fn erasing_shared_data_asks_first_and_asking_changes_nothing() {
    let app = spawn_app().await;
    let id = app.create_with_description("Ask before erasing").await;
    app.set_outcome(&id, "2").await;
    let detail_path = format!("/dashboard/identifications/{id}");
    let confirm_path = format!("{detail_path}/erase");
    let mut browser = app.signed_in().await;

    let detail = browser.get(&detail_path).await;
    assert_eq!(forms_posting_to(&detail, ERASE_DATA), 0);
    assert!(
        detail
            .hrefs("a.button.danger-outline")
            .contains(&confirm_path)
    );

    let question = browser.get(&confirm_path).await;

    assert_asks(
        &question,
        ERASE_DATA,
        Some(&id),
        "Yes, erase the data",
        &detail_path,
    );
    assert!(question.text().contains("“Ask before erasing”"));
    assert!(question.text().contains(&short(&id)));
    let data = app.get_json(&format!("/v1/identification/data/{id}")).await;
    assert_ne!(data["data"], serde_json::Value::Null, "erased by a GET");

    let answer = browser.submit(&question, "Yes, erase the data").await;

    assert!(answer.status.is_redirection(), "{}", answer.status);
    let data = app.get_json(&format!("/v1/identification/data/{id}")).await;
    assert_eq!(data["data"], serde_json::Value::Null);
    let after = browser.get(&confirm_path).await;
    assert_eq!(after.status, StatusCode::CONFLICT);
    assert!(
        after.text().contains("No shared data is held"),
        "{}",
        after.text()
    );
    assert_eq!(forms_posting_to(&after, ERASE_DATA), 0);
    // Verified: there is nothing to revoke either.
    let revoke = browser.get(&format!("{detail_path}/revoke")).await;
    assert_eq!(revoke.status, StatusCode::CONFLICT);
    assert!(revoke.text().contains("is verified"), "{}", revoke.text());
    assert_eq!(forms_posting_to(&revoke, REVOKE_IDENTIFICATION), 0);
}

#[tokio::test]
async fn another_organisations_or_an_unknown_identification_has_no_question() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let foreign = create_for(&app, &other).await;
    let other_org = OrganisationId::parse(&other.org_id).expect("org id");
    let mut browser = app.signed_in().await;

    for id in [foreign.as_str(), "id_nope"] {
        for what in ["revoke", "erase"] {
            let page = browser
                .get(&format!("/dashboard/identifications/{id}/{what}"))
                .await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{id} {what}");
            assert!(page.text().contains("no such identification"));
            assert!(page.texts("form button.danger").is_empty());
        }
    }
    let keys = app.store.list_api_keys(&other_org).await.expect("keys");
    for id in [keys[0].id.as_str(), "key_nope"] {
        let page = browser.get(&format!("/dashboard/keys/{id}/revoke")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{id}");
        assert!(page.texts("form button.danger").is_empty());
    }
    let theirs: serde_json::Value = app
        .get_with_key(&other.api_key, &format!("/v1/identification/{foreign}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["statusName"], "open");
}

#[tokio::test]
async fn the_confirming_form_still_needs_the_csrf_token() {
    let app = spawn_app().await;
    let id = app.create_with_description("Not without a token").await;
    app.set_outcome(&id, "pending").await;
    let mut browser = app.signed_in().await;
    let origin = app.address.clone();
    browser
        .get(&format!("/dashboard/identifications/{id}/revoke"))
        .await;

    let without = browser
        .post_with(REVOKE_IDENTIFICATION, &[("id", &id)], Some(&origin), None)
        .await;
    let wrong = browser
        .post_with(
            REVOKE_IDENTIFICATION,
            &[("id", &id)],
            Some(&origin),
            Some("0123456789abcdefghijABCDEFGHIJ01"),
        )
        .await;
    let erase = browser
        .post_with(ERASE_DATA, &[("id", &id)], Some(&origin), None)
        .await;
    let key = browser
        .post_with(REVOKE_KEY, &[("id", &app.api_key_id)], Some(&origin), None)
        .await;
    let rotate = browser
        .post_with(ROTATE_SECRET, &[], Some(&origin), None)
        .await;

    for answer in [&without, &wrong, &erase, &key, &rotate] {
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(app.identification(&id).await["statusName"], "pending");
    assert_eq!(app.get("/v1/identification").await.status(), StatusCode::OK);
    let org = OrganisationId::parse(&app.org_id).expect("org id");
    let secret = app.store.get_organisation(&org).await.unwrap().unwrap();
    assert_eq!(secret.webhook_secret, app.webhook_secret);
}

#[tokio::test]
async fn revoking_a_key_asks_first_naming_it_and_asking_changes_nothing() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    let confirm_path = format!("/dashboard/keys/{}/revoke", app.api_key_id);

    let keys = browser.get("/dashboard/keys").await;
    assert_eq!(forms_posting_to(&keys, REVOKE_KEY), 0);
    assert!(
        keys.hrefs("a.button.danger-outline")
            .contains(&confirm_path)
    );

    let question = browser.get(&confirm_path).await;

    assert_asks(
        &question,
        REVOKE_KEY,
        Some(&app.api_key_id),
        "Yes, revoke the key",
        "/dashboard/keys",
    );
    let text = question.text();
    assert!(text.contains(&app.api_key_id), "{text}");
    assert!(text.contains(&format!("{}…", &app.api_key[..12])), "{text}");
    assert!(
        !question.html.contains(&app.api_key),
        "the whole secret is shown"
    );
    assert_eq!(app.get("/v1/identification").await.status(), StatusCode::OK);

    let answer = browser.submit(&question, "Yes, revoke the key").await;

    assert!(answer.status.is_redirection(), "{}", answer.status);
    assert_problem(app.get("/v1/identification").await, 401, None).await;
    let after = browser.get(&confirm_path).await;
    assert_eq!(after.status, StatusCode::CONFLICT);
    assert!(after.text().contains("revoked already"), "{}", after.text());
    assert_eq!(forms_posting_to(&after, REVOKE_KEY), 0);
}

/// The webhook secret the organisation now signs with.
async fn current_secret(app: &TestApp) -> String {
    let org = OrganisationId::parse(&app.org_id).expect("org id");
    app.store
        .get_organisation(&org)
        .await
        .expect("read")
        .expect("the organisation")
        .webhook_secret
}

#[tokio::test]
async fn rotating_the_webhook_secret_asks_first_and_asking_changes_nothing() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;

    let webhooks = browser.get("/dashboard/webhooks").await;
    assert_eq!(forms_posting_to(&webhooks, ROTATE_SECRET), 0);
    assert!(
        webhooks
            .hrefs("a.button.danger-outline")
            .contains(&"/dashboard/webhooks/rotate".to_owned())
    );

    let question = browser.get("/dashboard/webhooks/rotate").await;

    assert_asks(
        &question,
        ROTATE_SECRET,
        None,
        "Yes, rotate the secret",
        "/dashboard/webhooks",
    );
    assert!(
        !question.html.contains("whsec_"),
        "a secret on the question"
    );
    assert!(question.texts(".warning").is_empty());
    assert_eq!(current_secret(&app).await, app.webhook_secret);

    let answer = browser.submit(&question, "Yes, rotate the secret").await;

    assert!(answer.status.is_redirection(), "{}", answer.status);
    let new = current_secret(&app).await;
    assert_ne!(new, app.webhook_secret);
    let shown = browser.get("/dashboard/webhooks").await;
    assert_eq!(shown.texts(".once code.secret"), [new.as_str()]);
    // Within the overlap, the question warns what a second rotation ends.
    let second = browser.get("/dashboard/webhooks/rotate").await;
    assert_eq!(second.status, StatusCode::OK);
    assert!(
        second
            .texts(".warning")
            .iter()
            .any(|w| w.contains("rotating again stops it at once")),
        "{}",
        second.text()
    );
    assert_eq!(current_secret(&app).await, new);
}

#[tokio::test]
async fn the_question_pages_are_not_there_for_a_stranger() {
    let app = spawn_app().await;
    let id = app.create_with_description("Strangers").await;
    let mut stranger = Browser::new(&app.address);

    for path in [
        format!("/dashboard/identifications/{id}/revoke"),
        format!("/dashboard/identifications/{id}/erase"),
        format!("/dashboard/keys/{}/revoke", app.api_key_id),
        "/dashboard/webhooks/rotate".to_owned(),
    ] {
        let page = stranger.get(&path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location().as_deref(), Some("/dashboard/login"));
    }
}
