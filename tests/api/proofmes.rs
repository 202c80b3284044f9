//! Proofmes (DESIGN.md sections 2 and 8): revisions kept by the
//! identifications made with them, organisation scoping, and public links.

use crate::helpers::*;
use proofme::domain::proofme::PublicLink;
use proofme::domain::{
    Credential, CredentialKey, HttpUrl, Mode, OrganisationId, ProofmeId, Purpose,
};
use proofme::mypage::i18n::Lang;
use proofme::store::NewPublicLink;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, REFERRER_POLICY, RETRY_AFTER};
use serde_json::json;

fn ids(app: &TestApp) -> (OrganisationId, ProofmeId) {
    (
        OrganisationId::parse(&app.org_id).expect("org id"),
        ProofmeId::parse(&app.proofme_id).expect("proofme id"),
    )
}

fn credentials(specs: &[&str]) -> Vec<Credential> {
    specs
        .iter()
        .map(|s| s.parse().expect("credential"))
        .collect()
}

fn link(redirect: &str, webhook: Option<&str>, mode: Mode) -> NewPublicLink {
    NewPublicLink {
        redirect_url: HttpUrl::parse(redirect).expect("redirect url"),
        webhook_url: webhook.map(|w| HttpUrl::parse(w).expect("webhook url")),
        mode,
    }
}

/// The visible text of an identification's MyPage.
async fn my_page_text(app: &TestApp, id: &str) -> String {
    let (_, html) = get_page(&app.client, &app.url(&format!("/{id}")), 200).await;
    html.text()
}

#[tokio::test]
async fn an_edit_makes_a_new_revision_and_old_identifications_keep_theirs() {
    let app = spawn_app().await;
    let (org, pr) = ids(&app);
    let before = app.create_identification(json!({})).await;
    assert_eq!(before["proofmeRevision"], 1);
    let before_id = before["id"].as_str().expect("id");

    let edited = app
        .store
        .update_proofme(
            &org,
            &pr,
            "Name check",
            Purpose::KycVerification,
            &credentials(&["EPASS:FIRST_NAME", "EMAIL:EMAIL:optional"]),
        )
        .await
        .expect("update")
        .expect("the organisation's proofme");
    let after = app.create_identification(json!({})).await;
    let after_id = after["id"].as_str().expect("id");

    assert_eq!(edited.revision, 2);
    assert_eq!(after["proofmeRevision"], 2);
    assert_eq!(app.identification(before_id).await["proofmeRevision"], 1);
    assert_eq!(app.identification(after_id).await["proofmeRevision"], 2);
    let listed = app.list("").await;
    let revision_of = |id: &str| {
        listed["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["proofmeRevision"].clone())
    };
    assert_eq!(revision_of(before_id), Some(json!(1)));
    assert_eq!(revision_of(after_id), Some(json!(2)));

    let t = Lang::choose(None, None, None, None).strings();
    let old_page = my_page_text(&app, before_id).await;
    let new_page = my_page_text(&app, after_id).await;
    let older = t.credential(CredentialKey::OlderThan18);
    let first_name = t.credential(CredentialKey::FirstName);
    assert!(old_page.contains(older), "{old_page}");
    assert!(!old_page.contains(first_name), "{old_page}");
    assert!(old_page.contains(t.purpose(Purpose::AgeVerification)));
    assert!(new_page.contains(first_name), "{new_page}");
    assert!(!new_page.contains(older), "{new_page}");
    assert!(new_page.contains(t.purpose(Purpose::KycVerification)));

    // Verifying shares what each identification's own revision asks for.
    app.set_outcome(before_id, "verified").await;
    app.set_outcome(after_id, "verified").await;
    let old_data = app
        .get_json(&format!("/v1/identification/data/{before_id}"))
        .await;
    let new_data = app
        .get_json(&format!("/v1/identification/data/{after_id}"))
        .await;
    assert_eq!(old_data["data"], json!({"OLDER_THAN_18": true}));
    assert_eq!(
        new_data["data"],
        json!({"FIRST_NAME": "Test", "EMAIL": "test@example.com"})
    );

    let first = app
        .store
        .get_proofme_revision(&org, &pr, 1)
        .await
        .expect("read")
        .expect("revision 1 is kept");
    assert_eq!(first.name, "Age check");
    assert_eq!(first.credentials, credentials(&["EPASS:OLDER_THAN_18"]));
    let current = app.store.get_proofme(&org, &pr).await.expect("read");
    assert_eq!(current, Some(edited));
}

#[tokio::test]
async fn another_organisations_proofme_is_not_found() {
    let app = spawn_app().await;
    let (org, pr) = ids(&app);
    let other = app.create_other_organisation().await;
    let other_org = OrganisationId::parse(&other.org_id).expect("org id");
    let creds = credentials(&["EPASS:PHOTO"]);

    assert_eq!(
        app.store.get_proofme(&other_org, &pr).await.expect("get"),
        None
    );
    assert_eq!(
        app.store
            .get_proofme_revision(&other_org, &pr, 1)
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        app.store
            .update_proofme(&other_org, &pr, "Taken", Purpose::AccessControl, &creds)
            .await
            .expect("update"),
        None
    );
    let new_link = link("https://shop.example.com/back", None, Mode::Test);
    assert_eq!(
        app.store
            .set_public_link(&other_org, &pr, &new_link)
            .await
            .expect("set"),
        None
    );
    app.store
        .set_public_link(&org, &pr, &new_link)
        .await
        .expect("set")
        .expect("own proofme");
    assert_eq!(
        app.store
            .get_public_link(&other_org, &pr)
            .await
            .expect("get"),
        None
    );
    assert!(
        !app.store
            .remove_public_link(&other_org, &pr)
            .await
            .expect("remove")
    );
    let others: Vec<String> = app
        .store
        .list_proofmes(&other_org)
        .await
        .expect("list")
        .into_iter()
        .map(|l| l.proofme.id.to_string())
        .collect();
    assert_eq!(others, vec![other.proofme_id.clone()]);

    // Still untouched for its own organisation.
    let mine = app
        .store
        .get_proofme_listing(&org, &pr)
        .await
        .expect("get")
        .expect("own proofme");
    assert_eq!(mine.proofme.revision, 1);
    assert_eq!(mine.proofme.name, "Age check");
    assert!(mine.public_link.is_some());
}

#[tokio::test]
async fn a_public_link_visit_creates_an_identification_and_answers_303_to_its_my_page() {
    let app = spawn_app().await;
    let (org, pr) = ids(&app);
    let made = app
        .store
        .set_public_link(
            &org,
            &pr,
            &link(
                "https://shop.example.com/welcome-back",
                Some("https://hooks.example.com/proofme"),
                Mode::Test,
            ),
        )
        .await
        .expect("set")
        .expect("own proofme");
    assert!(made.slug.len() >= 16, "{}", made.slug);
    assert!(made.slug.bytes().all(|b| b.is_ascii_alphanumeric()));
    let listed = app.store.list_proofmes(&org).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].public_link.as_ref(), Some(&made));

    let resp = app
        .client
        .get(made.url(&app.config.public_url))
        .send()
        .await
        .expect("visit");

    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(resp.headers()[REFERRER_POLICY], "no-referrer");
    let location = resp.headers()[LOCATION].to_str().expect("location");
    let id = location
        .strip_prefix(&format!("{}/", app.config.public_url))
        .expect("a MyPage URL");
    let ident = app.identification(id).await;
    assert_eq!(ident["isRequest"], false);
    assert_eq!(
        ident["redirectUrl"],
        "https://shop.example.com/welcome-back"
    );
    assert_eq!(ident["webhookUrl"], "https://hooks.example.com/proofme");
    assert_eq!(ident["mode"], "test");
    assert_eq!(ident["status"], "0");
    assert_eq!(ident["proofmeId"], app.proofme_id);
    assert_eq!(ident["proofmeRevision"], 1);
    assert_eq!(ident["myPageUrl"], location);
    let history = app.history(id).await;
    assert_eq!(history.len(), 1, "{history:?}");
    let page = my_page_text(&app, id).await;
    let t = Lang::choose(None, None, None, None).strings();
    assert!(page.contains(t.credential(CredentialKey::OlderThan18)));

    // Each visit is a new identification, of the current revision.
    app.store
        .update_proofme(
            &org,
            &pr,
            "Photo",
            Purpose::Identification,
            &credentials(&["EPASS:PHOTO"]),
        )
        .await
        .expect("update")
        .expect("own proofme");
    let again = app
        .client
        .get(made.url(&app.config.public_url))
        .send()
        .await
        .expect("visit");
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let second = again.headers()[LOCATION].to_str().expect("location");
    assert_ne!(second, location);
    let second_id = second.rsplit('/').next().expect("id");
    assert_eq!(app.identification(second_id).await["proofmeRevision"], 2);
}

#[tokio::test]
async fn a_replaced_or_removed_link_is_a_friendly_404() {
    let app = spawn_app().await;
    let (org, pr) = ids(&app);
    let first = app
        .store
        .set_public_link(&org, &pr, &link("https://a.example.com/", None, Mode::Test))
        .await
        .expect("set")
        .expect("own proofme");
    let second = app
        .store
        .set_public_link(&org, &pr, &link("https://b.example.com/", None, Mode::Live))
        .await
        .expect("set")
        .expect("own proofme");
    assert_ne!(first.slug, second.slug);
    let found = app
        .store
        .find_public_link(&second.slug)
        .await
        .expect("find")
        .expect("the new link");
    assert_eq!(found, (org.clone(), second.clone()));

    let (headers, page) = get_page(&app.client, &first.url(&app.config.public_url), 404).await;
    assert_eq!(headers[CACHE_CONTROL], "no-store");
    let t = Lang::choose(None, None, None, None).strings();
    assert!(page.text().contains(t.not_found_title), "{}", page.raw);

    assert!(
        app.store
            .remove_public_link(&org, &pr)
            .await
            .expect("remove")
    );
    get_page(&app.client, &second.url(&app.config.public_url), 404).await;
    assert_eq!(
        app.store.get_public_link(&org, &pr).await.expect("get"),
        None
    );
    for slug in ["AAAAAAAAAAAAAAAAAAAAAA", "short", "not-base62-at-all-here"] {
        get_page(&app.client, &app.url(&format!("/p/{slug}")), 404).await;
    }
    assert_eq!(app.list("").await["count"], 0, "no visit created anything");
}

#[tokio::test]
async fn visits_over_the_limit_per_address_are_429() {
    let app = spawn_app_with(|c| c.public_link_rate_limit = 2).await;
    let (org, pr) = ids(&app);
    let made = app
        .store
        .set_public_link(
            &org,
            &pr,
            &link("https://shop.example.com/", None, Mode::Test),
        )
        .await
        .expect("set")
        .expect("own proofme");
    let url = made.url(&app.config.public_url);

    for _ in 0..2 {
        let resp = app.client.get(&url).send().await.expect("visit");
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    }
    let resp = app.client.get(&url).send().await.expect("visit");

    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = resp.headers()[RETRY_AFTER]
        .to_str()
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!(wait >= 1, "{wait}");
    assert_eq!(resp.headers()[CACHE_CONTROL], "no-store");
    assert!(
        resp.headers()[CONTENT_TYPE]
            .to_str()
            .expect("content type")
            .starts_with("text/html")
    );
    assert_eq!(
        app.list("").await["count"],
        2,
        "the refused visit made none"
    );
}

#[tokio::test]
async fn a_link_with_bad_urls_is_refused_with_the_create_rules() {
    let app = spawn_app().await;
    let mut config = app.config.clone();
    config.allow_private_webhooks = false;
    let check = proofme::public_link::check_link_urls;

    for bad in ["", "not a url", "ftp://shop.example.com/", "/relative"] {
        let e = check(&config, bad, None).await.expect_err(bad);
        assert_eq!(e.field, "redirectUrl", "{bad}");
    }
    for bad in [
        "javascript:alert(1)",
        "http://127.0.0.1/hook",
        "http://localhost/x",
    ] {
        let e = check(&config, "https://shop.example.com/", Some(bad))
            .await
            .expect_err(bad);
        assert_eq!(e.field, "webhookUrl", "{bad}");
    }
    let (redirect, webhook) = check(
        &config,
        "https://shop.example.com/back",
        Some("https://8.8.8.8/hook"),
    )
    .await
    .expect("good urls");
    assert_eq!(redirect.as_str(), "https://shop.example.com/back");
    assert_eq!(
        webhook.map(|w| w.as_str().to_owned()),
        Some("https://8.8.8.8/hook".into())
    );
    assert!(PublicLink::is_slug(&PublicLink::new_slug()));
}

#[tokio::test]
async fn an_identification_from_a_public_link_sends_its_webhooks_to_the_links_url() {
    let app = spawn_app_with(|c| c.allow_private_webhooks = true).await;
    let (org, pr) = ids(&app);
    let receiver = receiver().await;
    let hook = format!("{}/hook", receiver.uri());
    let (redirect, webhook) = proofme::public_link::check_link_urls(
        &app.config,
        "https://shop.example.com/",
        Some(&hook),
    )
    .await
    .expect("loopback is allowed here");
    let made = app
        .store
        .set_public_link(
            &org,
            &pr,
            &NewPublicLink {
                redirect_url: redirect,
                webhook_url: webhook,
                mode: Mode::Test,
            },
        )
        .await
        .expect("set")
        .expect("own proofme");
    let resp = app
        .client
        .get(made.url(&app.config.public_url))
        .send()
        .await
        .expect("visit");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let location = resp.headers()[LOCATION].to_str().expect("location");
    let id = location.rsplit('/').next().expect("id").to_owned();

    app.set_outcome(&id, "verified").await;

    let requests = wait_for_requests(&receiver, 1).await;
    assert_eq!(requests[0].url.path(), "/hook");
    assert_eq!(
        requests[0].body_json::<serde_json::Value>().expect("json"),
        json!({ "id": id })
    );
    assert_signed(&requests[0], &app.webhook_secret);
    let history = app.history(&id).await;
    assert_eq!(history.len(), 2, "{history:?}");
}
