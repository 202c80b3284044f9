//! The dashboard's proofmes: the list, creating and editing (a new revision
//! each time, identifications keeping theirs), public links, and that
//! nothing of another organisation shows or changes.

use proofme::domain::{CredentialKey, OrganisationId, ProofmeId, Purpose};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::json;

use crate::helpers::*;

fn org(app: &TestApp) -> OrganisationId {
    OrganisationId::parse(&app.org_id).expect("org id")
}

fn pr(id: &str) -> ProofmeId {
    ProofmeId::parse(id).expect("proofme id")
}

fn edit_path(id: &str) -> String {
    format!("/dashboard/proofmes/{id}")
}

/// The `href` of the first element `selector` matches.
fn href(page: &crate::browser::Page, selector: &str) -> Option<String> {
    let doc = page.doc();
    let sel = scraper::Selector::parse(selector).expect("selector");
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("href"))
        .map(str::to_owned)
}

#[tokio::test]
async fn the_list_shows_the_organisations_proofmes_with_links() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let mut browser = app.signed_in().await;

    let page = browser.get("/dashboard/proofmes").await;

    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.texts("thead th"),
        [
            "Name",
            "Id",
            "Purpose",
            "Credentials",
            "Revision",
            "Public link"
        ]
    );
    assert_eq!(
        page.texts("tbody td"),
        [
            "Age check".to_owned(),
            app.proofme_id.clone(),
            "Age verification".into(),
            "Older than 18".into(),
            "1".into(),
            "—".into()
        ]
    );
    assert_eq!(
        href(&page, "tbody td.name a"),
        Some(edit_path(&app.proofme_id))
    );
    assert_eq!(
        href(&page, "main a.button"),
        Some("/dashboard/proofmes/new".to_owned())
    );
    assert!(!page.html.contains(&other.proofme_id));
    assert!(!page.html.contains("Other age check"));
}

#[tokio::test]
async fn the_form_labels_every_field() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;

    let page = browser.get("/dashboard/proofmes/new").await;

    assert_eq!(page.status, StatusCode::OK);
    let labels = page.texts("form label");
    for needle in [
        "Name",
        "Purpose",
        "Ask for Older than 18",
        "Ask for Phone number",
    ] {
        assert!(
            labels.contains(&needle.to_owned()),
            "{needle} in {labels:?}"
        );
    }
    // Every input and select has a label pointing at it.
    let doc = page.doc();
    let controls = scraper::Selector::parse("form input:not([type=hidden]), form select").unwrap();
    for control in doc.select(&controls) {
        let id = control.value().attr("id").expect("an id");
        let label = format!(r#"label[for="{id}"]"#);
        assert_eq!(page.texts(&label).len(), 1, "a label for {id}");
    }
    assert_eq!(
        page.texts("select#purpose option"),
        [
            "Age verification",
            "KYC verification",
            "Access control",
            "Online verification",
            "Identification"
        ]
    );
    assert!(
        page.texts("fieldset legend")
            .contains(&"Credentials".to_owned())
    );
    assert!(page.texts("button").contains(&"Create proofme".to_owned()));
}

#[tokio::test]
async fn creating_through_the_form_makes_a_proofme() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    browser.get("/dashboard/proofmes/new").await;

    let answer = browser
        .post(
            "/dashboard/act/save-proofme",
            &[
                ("name", "  Shop sign-up "),
                ("purpose", "KYC_VERIFICATION"),
                ("ask_FIRST_NAME", "yes"),
                ("need_FIRST_NAME", "required"),
                ("ask_EMAIL", "yes"),
                ("need_EMAIL", "optional"),
                ("need_PHOTO", "required"),
            ],
        )
        .await;

    assert!(answer.status.is_redirection(), "{}", answer.status);
    let listed = app.store.list_proofmes(&org(&app)).await.unwrap();
    assert_eq!(listed.len(), 2);
    let made = &listed[1].proofme;
    assert_eq!(made.name, "Shop sign-up");
    assert_eq!(made.purpose, Purpose::KycVerification);
    assert_eq!(made.revision, 1);
    let asked: Vec<_> = made
        .credentials
        .iter()
        .map(|c| (c.key, c.required))
        .collect();
    assert_eq!(
        asked,
        [
            (CredentialKey::FirstName, true),
            (CredentialKey::Email, false)
        ]
    );
    assert_eq!(answer.location(), Some(edit_path(made.id.as_str())));
    let page = browser.get(&edit_path(made.id.as_str())).await;
    assert_eq!(
        page.texts("[role=status]").last().map(String::as_str),
        Some("The proofme is created.")
    );
    let list = browser.get("/dashboard/proofmes").await;
    assert!(
        list.text().contains("First name, Email address (optional)"),
        "{}",
        list.text()
    );
}

#[tokio::test]
async fn a_form_without_a_name_or_credentials_stores_nothing() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    browser.get("/dashboard/proofmes/new").await;

    let nameless = browser
        .post(
            "/dashboard/act/save-proofme",
            &[
                ("name", "   "),
                ("purpose", "IDENTIFICATION"),
                ("ask_PHOTO", "yes"),
            ],
        )
        .await;
    let page = browser.get("/dashboard/proofmes/new").await;
    let empty = browser
        .post(
            "/dashboard/act/save-proofme",
            &[("name", "Nothing asked"), ("purpose", "IDENTIFICATION")],
        )
        .await;
    let second = browser.get("/dashboard/proofmes/new").await;

    assert_eq!(
        nameless.location(),
        Some("/dashboard/proofmes/new".to_owned())
    );
    assert_eq!(empty.location(), Some("/dashboard/proofmes/new".to_owned()));
    assert_eq!(
        page.texts("[role=alert]").last().map(String::as_str),
        Some("A proofme needs a name.")
    );
    assert_eq!(
        second.texts("[role=alert]").last().map(String::as_str),
        Some("Ask for at least one credential.")
    );
    assert_eq!(app.store.list_proofmes(&org(&app)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_edit_is_a_new_revision_and_identifications_keep_theirs() {
    let app = spawn_app().await;
    let before = app.create_with_description("Before the edit").await;
    let mut browser = app.signed_in().await;
    let page = browser.get(&edit_path(&app.proofme_id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.texts("dd.revision"), ["1"]);
    assert!(
        page.texts("button")
            .contains(&"Save as new revision".to_owned())
    );
    // The form shows the current revision.
    let doc = page.doc();
    let checked = scraper::Selector::parse("input[type=checkbox][checked]").unwrap();
    let ids: Vec<_> = doc
        .select(&checked)
        .filter_map(|e| e.value().attr("id"))
        .collect();
    assert_eq!(ids, ["ask_OLDER_THAN_18"]);

    let answer = browser
        .post(
            "/dashboard/act/save-proofme",
            &[
                ("id", &app.proofme_id),
                ("name", "Age and name"),
                ("purpose", "AGE_VERIFICATION"),
                ("ask_OLDER_THAN_18", "yes"),
                ("need_OLDER_THAN_18", "required"),
                ("ask_LAST_NAME", "yes"),
                ("need_LAST_NAME", "optional"),
            ],
        )
        .await;

    assert_eq!(answer.location(), Some(edit_path(&app.proofme_id)));
    let page = browser.get(&edit_path(&app.proofme_id)).await;
    assert_eq!(page.texts("dd.revision"), ["2"]);
    assert_eq!(
        page.texts("select#need_LAST_NAME option[selected]"),
        ["Optional"]
    );
    assert_eq!(page.texts("input#name[value=\"Age and name\"]").len(), 1);
    assert_eq!(
        page.texts("[role=status]").last().map(String::as_str),
        Some("Saved as revision 2.")
    );
    assert_eq!(app.identification(&before).await["proofmeRevision"], 1);
    let after = app.create_with_description("After the edit").await;
    assert_eq!(app.identification(&after).await["proofmeRevision"], 2);
    let current = app
        .store
        .get_proofme(&org(&app), &pr(&app.proofme_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.name, "Age and name");
    assert_eq!(current.credentials.len(), 2);
}

#[tokio::test]
async fn a_public_link_is_made_shown_visited_and_removed() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    browser.get(&edit_path(&app.proofme_id)).await;

    browser
        .post(
            "/dashboard/act/save-public-link",
            &[
                ("id", &app.proofme_id),
                ("redirect_url", "https://shop.example.com/back"),
                ("webhook_url", ""),
                ("mode", "test"),
            ],
        )
        .await;
    let page = browser.get(&edit_path(&app.proofme_id)).await;

    let link = app
        .store
        .get_public_link(&org(&app), &pr(&app.proofme_id))
        .await
        .unwrap()
        .expect("a link");
    let url = link.url(&app.config.public_url);
    assert!(url.contains("/p/"), "{url}");
    assert_eq!(page.texts("dd.public-link a"), std::slice::from_ref(&url));
    assert!(page.text().contains("https://shop.example.com/back"));
    assert!(page.texts("button").contains(&"Save link".to_owned()));
    assert!(page.texts("h2").contains(&"Public link".to_owned()));
    let list = browser.get("/dashboard/proofmes").await;
    assert_eq!(list.texts("tbody td.link"), std::slice::from_ref(&url));

    let visit = app.client.get(&url).send().await.unwrap();
    assert_eq!(visit.status(), StatusCode::SEE_OTHER);
    let location = visit.headers()[LOCATION].to_str().unwrap().to_owned();
    let id = location
        .strip_prefix(&format!("{}/", app.config.public_url))
        .expect("a MyPage URL");
    assert_eq!(
        app.identification(id).await["redirectUrl"],
        "https://shop.example.com/back"
    );

    // "Save link": new URLs and mode, and a new address; the old one is gone.
    let page = browser.get(&edit_path(&app.proofme_id)).await;
    assert!(page.text().contains("a new address"), "the hint");
    browser
        .post(
            "/dashboard/act/save-public-link",
            &[
                ("id", &app.proofme_id),
                ("redirect_url", "https://shop.example.com/again"),
                ("mode", "live"),
            ],
        )
        .await;
    let changed = app
        .store
        .get_public_link(&org(&app), &pr(&app.proofme_id))
        .await
        .unwrap()
        .expect("a link");
    assert_ne!(changed.slug, link.slug);
    assert_eq!(changed.mode, proofme::domain::Mode::Live);
    assert_eq!(
        changed.redirect_url.as_str(),
        "https://shop.example.com/again"
    );
    let old = app.client.get(&url).send().await.unwrap();
    assert_eq!(old.status(), StatusCode::NOT_FOUND);
    let url = changed.url(&app.config.public_url);

    browser.get(&edit_path(&app.proofme_id)).await;
    browser
        .post(
            "/dashboard/act/remove-public-link",
            &[("id", &app.proofme_id)],
        )
        .await;
    let gone = app.client.get(&url).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let page = browser.get(&edit_path(&app.proofme_id)).await;
    assert!(
        page.texts("button")
            .contains(&"Create public link".to_owned())
    );
}

#[tokio::test]
async fn a_bad_link_url_is_refused_with_its_reason() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    browser.get(&edit_path(&app.proofme_id)).await;

    let answer = browser
        .post(
            "/dashboard/act/save-public-link",
            &[
                ("id", &app.proofme_id),
                ("redirect_url", "javascript:alert(1)"),
                ("mode", "live"),
            ],
        )
        .await;
    let page = browser.get(&edit_path(&app.proofme_id)).await;

    assert_eq!(answer.location(), Some(edit_path(&app.proofme_id)));
    let message = page.texts("[role=alert]").pop().unwrap_or_default();
    assert!(
        message.contains("redirect URL must be an absolute http or https URL"),
        "{message}"
    );
    assert_eq!(
        app.store
            .get_public_link(&org(&app), &pr(&app.proofme_id))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn another_organisations_proofme_is_a_404_and_stays_as_it_was() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let theirs = OrganisationId::parse(&other.org_id).unwrap();
    let mut browser = app.signed_in().await;

    let page = browser.get(&edit_path(&other.proofme_id)).await;
    let nonsense = browser.get("/dashboard/proofmes/pr_nope-").await;
    browser.get(&edit_path(&app.proofme_id)).await;
    browser
        .post(
            "/dashboard/act/save-proofme",
            &[
                ("id", &other.proofme_id),
                ("name", "Taken over"),
                ("purpose", "IDENTIFICATION"),
                ("ask_PHOTO", "yes"),
            ],
        )
        .await;
    browser
        .post(
            "/dashboard/act/save-public-link",
            &[
                ("id", &other.proofme_id),
                ("redirect_url", "https://evil.example.com/"),
                ("mode", "test"),
            ],
        )
        .await;

    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(nonsense.status, StatusCode::NOT_FOUND);
    assert!(!page.html.contains("Other age check"));
    let kept = app
        .store
        .get_proofme(&theirs, &pr(&other.proofme_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.name, "Other age check");
    assert_eq!(kept.revision, 1);
    assert_eq!(
        app.store
            .get_public_link(&theirs, &pr(&other.proofme_id))
            .await
            .unwrap(),
        None
    );
    let created = app
        .create_identification(json!({"description": "still mine"}))
        .await;
    assert_eq!(created["proofmeRevision"], 1);
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    browser.get("/dashboard/proofmes/new").await;
    let origin = browser.base.clone();

    let answer = browser
        .post_with(
            "/dashboard/act/save-proofme",
            &[
                ("name", "No token"),
                ("purpose", "IDENTIFICATION"),
                ("ask_PHOTO", "yes"),
            ],
            Some(&origin),
            None,
        )
        .await;

    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.list_proofmes(&org(&app)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_invalid_field_sends_the_form_back_with_an_alert_and_saves_nothing() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;
    let edit = edit_path(&app.proofme_id);
    browser.get(&edit).await;
    let before = app
        .store
        .get_proofme(&org(&app), &pr(&app.proofme_id))
        .await
        .unwrap()
        .unwrap();

    let answer = browser
        .post(
            "/dashboard/act/save-proofme",
            &[
                ("id", &app.proofme_id),
                ("name", "Renamed"),
                ("purpose", "NOT_A_PURPOSE"),
                ("ask_PHOTO", "yes"),
            ],
        )
        .await;

    follow_failed_action(&mut browser, &answer, &edit, "Choose one of the purposes.").await;
    let after = app
        .store
        .get_proofme(&org(&app), &pr(&app.proofme_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.name, before.name);
    assert_eq!(after.revision, before.revision);
}
