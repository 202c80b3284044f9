//! The dashboard's identifications: the table, one identification in full,
//! its actions, the CSV export, and that nothing of another organisation
//! shows.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// An identification of `other` with this description; its id.
async fn create_for(app: &TestApp, other: &OtherOrganisation, description: &str) -> String {
    let body = format!(
        "{}&description={}",
        other.valid_form_body(),
        encoded_form(&[("d", description)]).trim_start_matches("d=")
    );
    let res = app.post_form_with_key(&other.api_key, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let v: serde_json::Value = res.json().await.unwrap();
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_table_lists_the_organisations_identifications_with_links() {
    let app = spawn_app().await;
    let id = app.create_with_description("Order #1234").await;
    let other = app.create_other_organisation().await;
    let foreign = create_for(&app, &other, "Not yours").await;
    let mut browser = app.signed_in().await;

    let page = browser.get("/dashboard").await;

    assert_eq!(page.status, StatusCode::OK);
    let headers = page.texts("thead th");
    assert_eq!(
        headers,
        ["Description", "Id", "Created (UTC)", "Status", "Mode"]
    );
    let cells = page.texts("tbody td");
    let short = format!("{}…{}", &id[..7], &id[id.len() - 4..]);
    assert_eq!(cells[..2], ["Order #1234".to_owned(), short]);
    assert_eq!(cells[3..], ["Open", "Test"]);
    // The time reads as a person reads it, and exactly for machines.
    let created = app.identification(&id).await["createdAt"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(cells[2].starts_with("Today "), "{cells:?}");
    let datetime = page.attrs("tbody td time", "datetime");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&datetime[0]).unwrap(),
        chrono::DateTime::parse_from_rfc3339(&created).unwrap()
    );
    assert_eq!(page.listed_ids(), std::slice::from_ref(&id));
    assert!(!page.html.contains(&foreign));
    // The description is the link.
    let link = format!(r#"a[href="/dashboard/identifications/{id}"]"#);
    assert_eq!(page.texts(&link), ["Order #1234"]);
    // Status and mode are pills that say it in words too.
    assert_eq!(page.texts("tbody .pill"), ["Open", "Test"]);
}

#[tokio::test]
async fn search_and_filters_narrow_the_table() {
    let app = spawn_app().await;
    let shoes = app.create_with_description("Shoes 42").await;
    let hat = app.create_with_description("Hat").await;
    app.set_outcome(&hat, "2").await;
    let mut browser = app.signed_in().await;

    let search = browser.get("/dashboard?search=shoes").await;
    let verified = browser.get("/dashboard?status=verified").await;
    let live = browser.get("/dashboard?mode=live").await;

    assert_eq!(search.listed_ids(), [shoes]);
    assert_eq!(verified.listed_ids(), [hat]);
    assert!(live.listed_ids().is_empty());
    // The form shows what was asked.
    let doc = search.doc();
    let input = scraper::Selector::parse(r#"input[name="search"]"#).unwrap();
    assert_eq!(
        doc.select(&input).next().unwrap().value().attr("value"),
        Some("shoes")
    );
    assert!(search.text().contains("Search"));
}

#[tokio::test]
async fn a_bad_filter_is_a_clear_error() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;

    let page = browser.get("/dashboard?status=lost").await;

    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.texts("[role=alert]")[0].contains("There is no status"),
        "{}",
        page.text()
    );
}

#[tokio::test]
async fn pages_of_fifty_follow_the_sort() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for n in 0..55 {
        ids.push(app.create_with_description(&format!("Order {n:02}")).await);
    }
    let mut browser = app.signed_in().await;

    let first = browser.get("/dashboard?sort=description&dir=asc").await;
    let next = first.texts(r#"a[rel="next"]"#);
    assert_eq!(next, ["Next page"]);
    let href = {
        let doc = first.doc();
        let sel = scraper::Selector::parse(r#"a[rel="next"]"#).unwrap();
        doc.select(&sel)
            .next()
            .unwrap()
            .value()
            .attr("href")
            .unwrap()
            .to_owned()
    };
    let second = browser.get(&href).await;

    assert_eq!(first.listed_ids(), ids[..50]);
    assert_eq!(second.listed_ids(), ids[50..]);
    assert!(second.texts(r#"a[rel="next"]"#).is_empty());
    assert!(second.text().contains("51–55 of 55"), "{}", second.text());
}

#[tokio::test]
async fn the_detail_shows_every_field_history_and_metadata() {
    let app = spawn_app().await;
    let created = app
        .create_identification(json!({"metadata": {"order": 7}, "webhookUrl": WEBHOOK_URL}))
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    app.set_outcome(&id, "2").await;
    let mut browser = app.signed_in().await;

    let page = browser
        .get(&format!("/dashboard/identifications/{id}"))
        .await;

    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    for needle in [
        id.as_str(),
        "Verified (2)",
        WEBHOOK_URL,
        REDIRECT_URL,
        "\"order\": 7",
        "(revision 1)",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    assert!(page.texts("h2").contains(&"Status history".to_owned()));
    let history = page.texts("[aria-label=\"Status history\"] tbody tr");
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(
        history[1].contains("Open Verified Test outcome set through the API"),
        "{history:?}"
    );
    // The proofme by name, linked.
    assert_eq!(
        page.attrs("dl.fields dd a", "href"),
        [format!("/dashboard/proofmes/{}", app.proofme_id)]
    );
    assert!(page.texts("button").contains(&"Resend webhook".to_owned()));
    // Erasing asks first: the page links to the question.
    assert_eq!(page.texts("a.button.danger-outline"), ["Erase data"]);
    assert_eq!(
        page.hrefs("a.button.danger-outline"),
        [format!("/dashboard/identifications/{id}/erase")]
    );
    // The shared data by MyPage's names, its values hidden until shown.
    assert!(page.text().contains("18 or older"), "the shared data");
    assert!(!page.text().contains("OLDER_THAN_18"));
    assert_eq!(page.texts("#shared-data dd"), ["Hidden"]);
}

#[tokio::test]
async fn another_organisations_identification_is_a_404() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let foreign = create_for(&app, &other, "Not yours").await;
    let mut browser = app.signed_in().await;

    let page = browser
        .get(&format!("/dashboard/identifications/{foreign}"))
        .await;
    let nonsense = browser.get("/dashboard/identifications/id_nope").await;

    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(nonsense.status, StatusCode::NOT_FOUND);
    assert!(!page.html.contains("Not yours"));
}

#[tokio::test]
async fn revoke_from_the_dashboard_revokes_and_records_why() {
    let app = spawn_app().await;
    let id = app.create_with_description("To revoke").await;
    let mut browser = app.signed_in().await;
    let question = browser
        .get(&format!("/dashboard/identifications/{id}/revoke"))
        .await;

    let answer = browser.submit(&question, "Yes, revoke it").await;

    assert!(answer.status.is_redirection(), "{}", answer.status);
    assert_eq!(
        answer.location(),
        Some(format!("/dashboard/identifications/{id}"))
    );
    assert_eq!(app.identification(&id).await["statusName"], "revoked");
    let history = app.history(&id).await;
    assert_eq!(history.last().unwrap()["cause"], "dashboard_revoke");
    let page = browser
        .get(&format!("/dashboard/identifications/{id}"))
        .await;
    assert_eq!(
        page.texts("[role=status]").last().map(String::as_str),
        Some("The identification is revoked.")
    );
}

#[tokio::test]
async fn revoking_another_organisations_identification_changes_nothing() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let foreign = create_for(&app, &other, "Not yours").await;
    let mut browser = app.signed_in().await;

    browser
        .post("/dashboard/act/revoke-identification", &[("id", &foreign)])
        .await;

    let theirs: serde_json::Value = app
        .get_with_key(&other.api_key, &format!("/v1/identification/{foreign}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["statusName"], "open");
}

#[tokio::test]
async fn erase_data_from_the_dashboard_erases_it() {
    let app = spawn_app().await;
    let id = app.create_with_description("With data").await;
    app.set_outcome(&id, "2").await;
    let mut browser = app.signed_in().await;
    let question = browser
        .get(&format!("/dashboard/identifications/{id}/erase"))
        .await;

    let answer = browser.submit(&question, "Yes, erase the data").await;

    assert!(answer.status.is_redirection(), "{}", answer.status);

    let data = app.get_json(&format!("/v1/identification/data/{id}")).await;
    assert_eq!(data["data"], serde_json::Value::Null);
    let page = browser
        .get(&format!("/dashboard/identifications/{id}"))
        .await;
    assert!(page.text().contains("No shared data is held."));
}

#[tokio::test]
async fn the_csv_export_streams_the_filtered_rows() {
    let app = spawn_app().await;
    let a = app.create_with_description("Shoes, red \"large\"").await;
    let _b = app.create_with_description("Hat").await;
    let other = app.create_other_organisation().await;
    create_for(&app, &other, "Shoes elsewhere").await;
    let mut browser = app.signed_in().await;
    let list = browser.get("/dashboard?search=shoes").await;
    let href = {
        let doc = list.doc();
        let sel = scraper::Selector::parse("a[download]").unwrap();
        doc.select(&sel)
            .next()
            .unwrap()
            .value()
            .attr("href")
            .unwrap()
            .to_owned()
    };
    assert_eq!(list.texts("a[download]"), ["Export CSV"]);

    let res = browser
        .client
        .get(format!("{}{href}", app.address))
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = res.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines[0],
        "id,description,status,statusName,mode,createdAt,updatedAt,metadata,\
         failureReason,proofmeId,proofmeRevision"
    );
    assert_eq!(lines.len(), 2, "{body}");
    assert!(
        lines[1].starts_with(&format!("{a},\"Shoes, red \"\"large\"\"\",0,open,test,")),
        "{body}"
    );
}

#[tokio::test]
async fn the_export_needs_a_signed_in_user() {
    let app = spawn_app().await;

    let res = app
        .client
        .get(app.url("/dashboard/identifications.csv"))
        .send()
        .await
        .unwrap();

    assert_ne!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn revoking_an_identification_that_is_not_the_organisations_goes_back_with_an_alert() {
    let app = spawn_app().await;
    let other = app.create_other_organisation().await;
    let foreign = create_for(&app, &other, "Not yours").await;
    let mut browser = app.signed_in().await;

    for id in [foreign.as_str(), "idn_doesnotexist"] {
        browser.get("/dashboard").await;
        let answer = browser
            .post("/dashboard/act/revoke-identification", &[("id", id)])
            .await;

        follow_failed_action(
            &mut browser,
            &answer,
            "/dashboard",
            "There is no such identification in your organisation.",
        )
        .await;
    }
    let theirs: serde_json::Value = app
        .get_with_key(&other.api_key, &format!("/v1/identification/{foreign}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["statusName"], "open");
}

/// Posts a form while the database takes no writes to identifications:
/// another connection holds SQLite's write lock (the server's write waits
/// out its busy timeout), or on PostgreSQL a lock on the table; there the
/// waiting write is cancelled as its statement timeout would, only sooner.
async fn post_while_writes_are_refused(
    app: &TestApp,
    browser: &mut crate::browser::Browser,
    path: &str,
    fields: &[(&str, &str)],
) -> crate::browser::Page {
    use sqlx::Connection;
    if on_postgres() {
        let mut lock = sqlx::PgConnection::connect(&app.database_url)
            .await
            .expect("open the database");
        sqlx::query("BEGIN")
            .execute(&mut lock)
            .await
            .expect("begin");
        sqlx::query("LOCK TABLE identifications IN EXCLUSIVE MODE")
            .execute(&mut lock)
            .await
            .expect("lock identifications");
        let mut canceller = sqlx::PgConnection::connect(&app.database_url)
            .await
            .expect("open the database");
        let post = browser.post(path, fields);
        tokio::pin!(post);
        let page = loop {
            tokio::select! {
                page = &mut post => break page,
                _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {
                    sqlx::query(
                        "SELECT pg_cancel_backend(pid) FROM pg_stat_activity \
                         WHERE datname = current_database() AND wait_event_type = 'Lock' \
                         AND pid <> pg_backend_pid()",
                    )
                    .execute(&mut canceller)
                    .await
                    .expect("cancel the waiting write");
                }
            }
        };
        sqlx::query("ROLLBACK")
            .execute(&mut lock)
            .await
            .expect("release the lock");
        return page;
    }
    let mut lock = sqlx::SqliteConnection::connect(&app.database_url)
        .await
        .expect("open the database");
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut lock)
        .await
        .expect("take the write lock");
    let page = browser.post(path, fields).await;
    sqlx::query("ROLLBACK")
        .execute(&mut lock)
        .await
        .expect("release the write lock");
    page
}

#[tokio::test]
async fn a_revoke_the_database_cannot_store_goes_back_with_an_alert_and_changes_nothing() {
    let app = spawn_app().await;
    let id = app.create_with_description("Kept open").await;
    let mut browser = app.signed_in().await;
    let detail = format!("/dashboard/identifications/{id}");
    browser.get(&detail).await;
    let history = app.history(&id).await;

    let answer = post_while_writes_are_refused(
        &app,
        &mut browser,
        "/dashboard/act/revoke-identification",
        &[("id", &id)],
    )
    .await;

    let page = follow_failed_action(
        &mut browser,
        &answer,
        &detail,
        "The dashboard is briefly unavailable, so this was not done.",
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(app.identification(&id).await["statusName"], "open");
    assert_eq!(app.history(&id).await, history);
}

/// Fails `id` as a wallet's answer would, for this reason.
async fn fail_for(app: &TestApp, id: &str, reason: proofme::domain::FailureReason) {
    let change = proofme::store::Change {
        failure_reason: Some(reason),
        ..proofme::store::Change::to(
            proofme::domain::Status::Failed,
            proofme::domain::ChangeCause::Wallet,
        )
    };
    let parsed = proofme::domain::IdentificationId::parse(id).unwrap();
    app.store
        .change_status(&parsed, None, change)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn the_failure_reason_proofme_and_date_filters_narrow_the_table_and_the_export() {
    use proofme::domain::FailureReason;
    let app = spawn_app().await;
    let underage = app.create_with_description("Under age").await;
    fail_for(&app, &underage, FailureReason::AgeRequirementNotMet).await;
    let untrusted = app.create_with_description("Untrusted").await;
    fail_for(&app, &untrusted, FailureReason::UntrustedIssuer).await;
    let open = app.create_with_description("Open").await;
    let mut browser = app.signed_in().await;

    let by_reason = browser
        .get("/dashboard?reason=age_requirement_not_met")
        .await;
    let by_proofme = browser
        .get(&format!("/dashboard?proofme={}", app.proofme_id))
        .await;
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let from_tomorrow = browser.get(&format!("/dashboard?from={tomorrow}")).await;
    let until_today = browser
        .get(&format!(
            "/dashboard?from={today}&to={today}&sort=description&dir=asc"
        ))
        .await;

    assert_eq!(by_reason.listed_ids(), std::slice::from_ref(&underage));
    // The detail names the reason in words.
    let detail = browser
        .get(&format!("/dashboard/identifications/{underage}"))
        .await;
    assert!(
        detail.text().contains("Age requirement not met"),
        "{}",
        detail.text()
    );
    assert_eq!(by_proofme.listed_ids().len(), 3);
    assert!(from_tomorrow.listed_ids().is_empty());
    assert_eq!(
        until_today.listed_ids(),
        [open, underage.clone(), untrusted]
    );
    // The form keeps what was asked, with the rarer filters unfolded.
    assert_eq!(
        by_reason.attrs("select[name=reason] option[selected]", "value"),
        ["age_requirement_not_met"]
    );
    assert_eq!(
        by_reason.attrs("details.more-filters[open]", "class").len(),
        1
    );
    assert!(
        browser
            .get("/dashboard")
            .await
            .attrs("details.more-filters[open]", "class")
            .is_empty()
    );

    // The export takes the same filters and carries the new columns.
    let csv = browser
        .client
        .get(format!(
            "{}/dashboard/identifications.csv?reason=age_requirement_not_met",
            app.address
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].starts_with(&underage)
            && lines[1].ends_with(&format!(",age_requirement_not_met,{},1", app.proofme_id)),
        "{csv}"
    );
}

#[tokio::test]
async fn a_bad_date_or_an_unknown_reason_is_a_clear_error_and_the_form_keeps_the_default_order() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;

    let bad_date = browser.get("/dashboard?from=yesterday").await;
    let backwards = browser
        .get("/dashboard?from=2026-12-08&to=2026-12-01")
        .await;
    let reason = browser.get("/dashboard?reason=bored").await;
    let proofme = browser.get("/dashboard?proofme=..").await;

    for (page, says) in [
        (&bad_date, "The start date must be a date like 2026-12-31."),
        (&backwards, "The start date is after the end date."),
        (&reason, "There is no failure reason \"bored\"."),
        (&proofme, "There is no proofme \"..\"."),
    ] {
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert_eq!(page.texts("[role=alert]"), [says]);
        // "Apply" from here lists newest first, as a fresh list does.
        assert_eq!(
            page.attrs("select[name=dir] option[selected]", "value"),
            ["desc"]
        );
    }
}

#[tokio::test]
async fn no_rows_say_why_and_offer_to_clear_the_filters() {
    let app = spawn_app().await;
    let mut browser = app.signed_in().await;

    let nothing_yet = browser.get("/dashboard").await;
    app.create_with_description("Shoes").await;
    let no_match = browser.get("/dashboard?search=hats").await;
    let past_the_end = browser.get("/dashboard?offset=50").await;

    assert!(nothing_yet.text().contains("No identifications yet."));
    assert!(nothing_yet.texts("table").is_empty());
    assert!(!nothing_yet.text().contains("0–0 of 0"));
    assert!(
        no_match
            .text()
            .contains("No identifications match these filters.")
    );
    assert_eq!(
        no_match.texts("a[href=\"/dashboard\"].button"),
        ["Clear filters"]
    );
    assert!(no_match.texts("thead").is_empty());
    assert!(
        past_the_end
            .text()
            .contains("There are no identifications on this page.")
    );
}

#[tokio::test]
async fn shared_data_shows_once_after_show_and_only_for_its_organisation() {
    let app = spawn_app().await;
    let created = app
        .create_identification(json!({"description": "With data"}))
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    app.set_outcome(&id, "2").await;
    let other = app.create_other_organisation().await;
    let foreign = create_for(&app, &other, "Not yours").await;
    let mut browser = app.signed_in().await;
    let path = format!("/dashboard/identifications/{id}");
    let hidden = browser.get(&path).await;
    assert_eq!(hidden.texts("#shared-data dd"), ["Hidden"]);

    let shown = browser
        .post("/dashboard/act/reveal-data", &[("id", &id)])
        .await;

    assert_eq!(shown.location(), Some(format!("{path}#shared-data")));
    let revealed = browser.get(&path).await;
    assert_eq!(revealed.texts("#shared-data dt"), ["18 or older"]);
    assert_eq!(revealed.texts("#shared-data dd"), ["Yes"]);
    assert_eq!(revealed.texts("#shared-data + p a.button"), ["Hide"]);
    // Once: the next visit hides the values again.
    let again = browser.get(&path).await;
    assert_eq!(again.texts("#shared-data dd"), ["Hidden"]);
    // Another organisation's data is never shown.
    let refused = browser
        .post("/dashboard/act/reveal-data", &[("id", &foreign)])
        .await;
    assert_eq!(refused.location().as_deref(), Some("/dashboard"));
    let theirs = browser
        .get(&format!("/dashboard/identifications/{foreign}"))
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_photo_is_shown_as_a_thumbnail_once_revealed() {
    let app = spawn_app().await;
    let proofme = app
        .create_proofme(&["EPASS:PHOTO", "EPASS:FIRST_NAME"])
        .await;
    let created = app
        .create_identification(json!({"proofmeId": proofme}))
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    app.set_outcome(&id, "2").await;
    let mut browser = app.signed_in().await;
    let path = format!("/dashboard/identifications/{id}");
    browser.get(&path).await;

    browser
        .post("/dashboard/act/reveal-data", &[("id", &id)])
        .await;
    let page = browser.get(&path).await;

    assert_eq!(
        page.texts("#shared-data dt"),
        ["First name", "Passport photo"]
    );
    let src = page.attrs("#shared-data img.thumb", "src");
    assert_eq!(src.len(), 1);
    assert!(src[0].starts_with("data:image/png;base64,"));
    assert_eq!(
        page.attrs("#shared-data img.thumb", "alt"),
        ["Passport photo, as shared"]
    );
    assert!(page.text().contains("Test"));
}
