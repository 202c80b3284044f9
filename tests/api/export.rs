//! The organisation's own view of its identifications (DESIGN.md section 8):
//! search, filters, sorting and keyset pages, the streamed CSV export, and the
//! detail page's actions scoped to the organisation (resend a webhook).

use crate::helpers::*;
use futures::StreamExt;
use proofme::domain::{
    Description, HttpUrl, Identification, IdentificationId, Metadata, Mode, OrganisationId,
    ProofmeId, Status, Timestamp,
};
use proofme::export::{CSV_HEADER, identifications_csv};
use proofme::lifecycle::{Events, Lifecycle};
use proofme::store::{
    Cursor, IdentificationFilter, Page, ResendRefusal, Sort, SortColumn, SortDirection, Store,
};
use serde_json::{Value, json};
use std::time::Duration;

/// Far enough ahead that nothing seeded expires while a test runs.
const DAY_MS: i64 = 86_400_000;

/// A seeded identification of `org`, created at `created_ms`; `shape` sets
/// the rest.
fn seeded(
    org: &OrganisationId,
    proofme: &ProofmeId,
    created_ms: i64,
    shape: impl FnOnce(&mut Identification),
) -> Identification {
    let at = Timestamp::from_millis(created_ms);
    let mut i = Identification {
        id: IdentificationId::generate(),
        organisation_id: org.clone(),
        proofme_id: proofme.clone(),
        proofme_revision: 1,
        mode: Mode::Test,
        status: Status::Open,
        description: None,
        is_request: true,
        metadata: None,
        redirect_url: HttpUrl::parse("https://shop.example.com/return").expect("url"),
        webhook_url: None,
        locale: None,
        scanned_at: None,
        failure_reason: None,
        expires_at: Timestamp::from_millis(Timestamp::now().millis() + DAY_MS),
        created_at: at,
        updated_at: at,
    };
    shape(&mut i);
    i
}

/// Seeds `n` identifications of one organisation through the store's bulk
/// insert (one transaction per 5,000), the quick way to grow an organisation
/// to 100,000 for a measurement. Created a millisecond apart, in pairs with
/// the same time so that ties occur; statuses and modes rotate.
pub async fn seed_many(
    store: &Store,
    org: &OrganisationId,
    proofme: &ProofmeId,
    n: usize,
) -> Vec<Identification> {
    let base = Timestamp::now().millis() - 10 * DAY_MS;
    let all: Vec<Identification> = (0..n)
        .map(|k| {
            seeded(org, proofme, base + (k / 2) as i64, |i| {
                i.description = Some(Description::truncating(&format!("Order #{k}")));
                i.status = [Status::Open, Status::Verified, Status::Failed][k % 3];
                i.mode = if k % 4 == 0 { Mode::Live } else { Mode::Test };
                i.metadata =
                    Metadata::from_json_text(&format!("{{\"order\":{k}}}")).expect("metadata");
            })
        })
        .collect();
    for batch in all.chunks(5_000) {
        store
            .insert_identifications(batch)
            .await
            .expect("bulk insert");
    }
    all
}

fn ids(rows: &[Identification]) -> Vec<String> {
    rows.iter().map(|i| i.id.to_string()).collect()
}

fn org_of(app: &TestApp) -> (OrganisationId, ProofmeId) {
    (
        OrganisationId::parse(&app.org_id).expect("org id"),
        ProofmeId::parse(&app.proofme_id).expect("proofme id"),
    )
}

/// Every row matching `filter` in `sort` order, walked page by page with
/// cursors of `limit` rows.
async fn walk(
    store: &Store,
    org: &OrganisationId,
    filter: &IdentificationFilter,
    sort: Sort,
    limit: i64,
) -> Vec<String> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .search_identifications(
                org,
                filter,
                sort,
                &Page {
                    after,
                    offset: 0,
                    limit,
                },
            )
            .await
            .expect("search");
        assert!(page.rows.len() as i64 <= limit);
        all.extend(ids(&page.rows));
        match page.next {
            Some(next) => {
                // What a browser would send back.
                let text = next.encode();
                after = Some(Cursor::parse(&text, sort).expect("own cursor parses"));
            }
            None => return all,
        }
    }
}

fn search(q: &str) -> IdentificationFilter {
    IdentificationFilter {
        q: Some(q.to_owned()),
        ..IdentificationFilter::default()
    }
}

async fn matching(
    store: &Store,
    org: &OrganisationId,
    filter: &IdentificationFilter,
) -> Vec<String> {
    let mut found = walk(store, org, filter, Sort::default(), 100).await;
    assert_eq!(
        store
            .count_identifications(org, filter)
            .await
            .expect("count"),
        found.len() as i64,
        "count of {filter:?}"
    );
    found.sort();
    found
}

#[tokio::test]
async fn search_matches_ids_by_prefix_and_descriptions_literally() {
    let app = spawn_app().await;
    let (org, proofme) = org_of(&app);
    let other = app.create_other_organisation().await;
    let other_org = OrganisationId::parse(&other.org_id).expect("org id");
    let other_proofme = ProofmeId::parse(&other.proofme_id).expect("proofme id");
    let now = Timestamp::now().millis();
    let described = |d: &str, k: i64| {
        let d = d.to_owned();
        seeded(&org, &proofme, now - k, move |i| {
            i.description = Some(Description::truncating(&d));
        })
    };
    let rows = vec![
        described("Spring SALE order", 1),
        described("50% off", 2),
        described("500 off", 3),
        described("a_b", 4),
        described("axb", 5),
        described("back\\slash", 6),
        described("plain", 7),
    ];
    app.store.insert_identifications(&rows).await.expect("seed");
    // Another organisation's identification that every search would match.
    let theirs = seeded(&other_org, &other_proofme, now, |i| {
        i.description = Some(Description::truncating("Spring sale 50% off a_b"));
    });
    app.store
        .insert_identifications(std::slice::from_ref(&theirs))
        .await
        .expect("seed");
    let id = |n: usize| rows[n].id.to_string();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };

    // Case-insensitive substring of the description.
    assert_eq!(matching(&app.store, &org, &search("sale")).await, [id(0)]);
    assert_eq!(matching(&app.store, &org, &search("RING s")).await, [id(0)]);
    // Wildcards are plain characters.
    assert_eq!(matching(&app.store, &org, &search("50%")).await, [id(1)]);
    assert_eq!(matching(&app.store, &org, &search("%")).await, [id(1)]);
    assert_eq!(matching(&app.store, &org, &search("a_b")).await, [id(3)]);
    assert_eq!(matching(&app.store, &org, &search("_")).await, [id(3)]);
    assert_eq!(matching(&app.store, &org, &search("\\")).await, [id(5)]);
    assert_eq!(
        matching(&app.store, &org, &search(" off")).await,
        sorted(vec![id(1), id(2)])
    );
    // An id exactly, or by its beginning.
    assert_eq!(matching(&app.store, &org, &search(&id(6))).await, [id(6)]);
    assert_eq!(
        matching(&app.store, &org, &search(&id(6)[..14])).await,
        [id(6)]
    );
    // Only the beginning of an id counts.
    assert!(
        matching(&app.store, &org, &search(&id(6)[5..]))
            .await
            .is_empty()
    );
    // Another organisation's id is not found, even exactly.
    assert!(
        matching(&app.store, &org, &search(theirs.id.as_str()))
            .await
            .is_empty()
    );
    assert_eq!(
        matching(&app.store, &other_org, &search("50%")).await,
        [theirs.id.to_string()]
    );
    // An empty search is no search.
    assert_eq!(matching(&app.store, &org, &search("")).await.len(), 7);

    // The API's list is unchanged: its search still finds parts of ids.
    let listed = app.list(&format!("search={}", &id(6)[5..])).await;
    assert_eq!(listed["count"], 1, "{listed}");
}

#[tokio::test]
async fn filters_sorting_and_pages_follow_the_list() {
    let app = spawn_app().await;
    let (org, proofme) = org_of(&app);
    let all = seed_many(&app.store, &org, &proofme, 301).await;
    let other = app.create_other_organisation().await;
    let other_org = OrganisationId::parse(&other.org_id).expect("org id");
    let other_proofme = ProofmeId::parse(&other.proofme_id).expect("proofme id");
    seed_many(&app.store, &other_org, &other_proofme, 20).await;

    // Newest first, ties by id descending: walked in pages of 7 by cursor.
    let mut expected = all.clone();
    expected.sort_by(|a, b| {
        (b.created_at.millis(), b.id.as_str()).cmp(&(a.created_at.millis(), a.id.as_str()))
    });
    let none = IdentificationFilter::default();
    assert_eq!(
        walk(&app.store, &org, &none, Sort::default(), 7).await,
        ids(&expected)
    );
    assert_eq!(
        app.store
            .count_identifications(&org, &none)
            .await
            .expect("count"),
        301
    );

    // Every column, both directions: a cursor walk gives the single query's
    // order, with no row twice and none left out.
    for column in [
        SortColumn::Id,
        SortColumn::Description,
        SortColumn::Status,
        SortColumn::IsRequest,
        SortColumn::CreatedAt,
        SortColumn::UpdatedAt,
    ] {
        for direction in [SortDirection::Asc, SortDirection::Desc] {
            let sort = Sort { column, direction };
            let whole = app
                .store
                .search_identifications(
                    &org,
                    &none,
                    sort,
                    &Page {
                        after: None,
                        offset: 0,
                        limit: 1000,
                    },
                )
                .await
                .expect("one page");
            assert!(whole.next.is_none());
            assert_eq!(
                walk(&app.store, &org, &none, sort, 13).await,
                ids(&whole.rows),
                "{sort:?}"
            );
            let mut seen = ids(&whole.rows);
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), 301, "{sort:?}");
        }
    }
    let by_id = Sort {
        column: SortColumn::Id,
        direction: SortDirection::Asc,
    };
    let mut id_order = ids(&all);
    id_order.sort();
    assert_eq!(walk(&app.store, &org, &none, by_id, 50).await, id_order);

    // Offsets page as the API's do.
    let page = app
        .store
        .search_identifications(
            &org,
            &none,
            Sort::default(),
            &Page {
                after: None,
                offset: 20,
                limit: 10,
            },
        )
        .await
        .expect("page");
    assert_eq!(ids(&page.rows), ids(&expected[20..30]));

    // Status and mode filters, alone and together.
    let count = |f: &dyn Fn(&Identification) -> bool| all.iter().filter(|i| f(i)).count();
    for status in [
        Status::Open,
        Status::Verified,
        Status::Failed,
        Status::Revoked,
    ] {
        for mode in [None, Some(Mode::Test), Some(Mode::Live)] {
            let filter = IdentificationFilter {
                q: None,
                status: Some(status),
                mode,
                ..IdentificationFilter::default()
            };
            let found = matching(&app.store, &org, &filter).await;
            let want = count(&|i| i.status == status && mode.is_none_or(|m| i.mode == m));
            assert_eq!(found.len(), want, "{filter:?}");
        }
    }
    let live = IdentificationFilter {
        mode: Some(Mode::Live),
        ..IdentificationFilter::default()
    };
    assert_eq!(
        matching(&app.store, &org, &live).await.len(),
        count(&|i| i.mode == Mode::Live)
    );
    // A search with filters: "Order #1" begins 1, 10-19, 100-199 (and
    // "Order #1..." matches every one of those).
    let filter = IdentificationFilter {
        q: Some("order #1".into()),
        status: Some(Status::Verified),
        mode: Some(Mode::Test),
        ..IdentificationFilter::default()
    };
    let want = count(&|i| {
        i.description
            .as_ref()
            .is_some_and(|d| d.as_str().starts_with("Order #1"))
            && i.status == Status::Verified
            && i.mode == Mode::Test
    });
    assert!(want > 0);
    assert_eq!(matching(&app.store, &org, &filter).await.len(), want);

    // A cursor is bound to its order; anything else does not parse.
    let first = app
        .store
        .search_identifications(
            &org,
            &none,
            Sort::default(),
            &Page {
                after: None,
                offset: 0,
                limit: 5,
            },
        )
        .await
        .expect("page");
    let cursor = first.next.expect("more pages").encode();
    assert!(Cursor::parse(&cursor, Sort::default()).is_some());
    assert!(Cursor::parse(&cursor, by_id).is_none());
    assert!(Cursor::parse("not a cursor", Sort::default()).is_none());
    assert!(Cursor::parse("", Sort::default()).is_none());
}

/// Splits RFC 4180 text into rows of cells.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => {
                assert!(cell.is_empty(), "a quote inside an unquoted cell");
                quoted = true;
            }
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "a bare CR ends no row");
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\n') => panic!("a bare LF outside quotes"),
            (false, c) => cell.push(c),
        }
    }
    assert!(
        !quoted && cell.is_empty() && row.is_empty(),
        "text ends mid-row"
    );
    rows
}

#[tokio::test]
async fn the_csv_export_streams_every_row_in_small_chunks() {
    let app = spawn_app().await;
    let (org, proofme) = org_of(&app);
    let mut all = seed_many(&app.store, &org, &proofme, 9_999).await;
    let nasty_description = "=HYPERLINK(\"http://x\"),\"quoted\"\r\nnext line, and more";
    let nasty = seeded(&org, &proofme, Timestamp::now().millis(), |i| {
        i.description = Some(Description::truncating(nasty_description));
        i.metadata = Metadata::from_json_text("{ \"note\": \"a, \\\"b\\\"\\nc\", \"n\": [1, 2] }")
            .expect("metadata");
        i.status = Status::Revoked;
    });
    app.store
        .insert_identifications(std::slice::from_ref(&nasty))
        .await
        .expect("seed");
    all.push(nasty.clone());
    let other = app.create_other_organisation().await;
    let other_org = OrganisationId::parse(&other.org_id).expect("org id");
    let other_proofme = ProofmeId::parse(&other.proofme_id).expect("proofme id");
    seed_many(&app.store, &other_org, &other_proofme, 50).await;

    let mut stream = Box::pin(identifications_csv(
        app.store.clone(),
        org.clone(),
        IdentificationFilter::default(),
        Sort::default(),
    ));
    let mut body = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("chunk");
        assert!(
            chunk.len() <= 256 * 1024,
            "a chunk of {} bytes",
            chunk.len()
        );
        body.extend_from_slice(&chunk);
        chunks += 1;
    }
    assert!(chunks >= 20, "{chunks} chunks for 10,000 rows");

    let text = String::from_utf8(body).expect("UTF-8");
    assert!(text.starts_with(&format!("{CSV_HEADER}\r\n")));
    assert_eq!(
        CSV_HEADER,
        "id,description,status,statusName,mode,createdAt,updatedAt,metadata,\
         failureReason,proofmeId,proofmeRevision"
    );
    let rows = parse_csv(&text);
    assert_eq!(rows.len(), 10_001);
    assert!(rows.iter().all(|r| r.len() == 11));

    // Newest first (the nasty one is newest), as the table sorts.
    all.sort_by(|a, b| {
        (b.created_at.millis(), b.id.as_str()).cmp(&(a.created_at.millis(), a.id.as_str()))
    });
    let exported: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(exported, ids(&all));

    let first = &rows[1];
    assert_eq!(first[0], nasty.id.to_string());
    // A formula is defused with a leading quote; the rest is kept as it was.
    assert_eq!(first[1], format!("'{nasty_description}"));
    assert_eq!(first[2], "6");
    assert_eq!(first[3], "revoked");
    assert_eq!(first[4], "test");
    assert_eq!(first[5], nasty.created_at.to_rfc3339());
    assert!(first[5].ends_with("+00:00") || first[5].ends_with('Z'));
    assert_eq!(first[7], r#"{"note":"a, \"b\"\nc","n":[1,2]}"#);
    let metadata: Value = serde_json::from_str(&first[7]).expect("JSON");
    assert_eq!(metadata, json!({ "note": "a, \"b\"\nc", "n": [1, 2] }));
    // And the raw text quotes it as RFC 4180 wants.
    assert!(text.contains(r#""'=HYPERLINK(""http://x""),""quoted"""#));

    let plain = &rows[2];
    assert!(plain[1].starts_with("Order #"));
    assert!(plain[7].starts_with("{\"order\":"));

    // The table's filters apply.
    let filter = IdentificationFilter {
        q: Some("order #99".into()),
        status: Some(Status::Verified),
        mode: None,
        ..IdentificationFilter::default()
    };
    let chunks: Vec<_> = identifications_csv(
        app.store.clone(),
        org.clone(),
        filter.clone(),
        Sort::default(),
    )
    .collect()
    .await;
    let text: String = chunks
        .into_iter()
        .map(|c| String::from_utf8(c.expect("chunk").to_vec()).expect("UTF-8"))
        .collect();
    let rows = parse_csv(&text);
    assert_eq!(
        rows.len() as i64 - 1,
        app.store
            .count_identifications(&org, &filter)
            .await
            .expect("count")
    );
    assert!(rows.len() > 1);
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[3] == "verified" && r[1].starts_with("Order #99"))
    );

    // Nothing matches: the header alone.
    let chunks: Vec<_> = identifications_csv(
        app.store.clone(),
        org,
        search("no such thing"),
        Sort::default(),
    )
    .collect()
    .await;
    assert_eq!(chunks.len(), 1);
    assert_eq!(
        chunks[0].as_ref().expect("chunk").as_ref(),
        format!("{CSV_HEADER}\r\n").as_bytes()
    );
}

#[tokio::test]
async fn resend_queues_the_current_status_again_for_the_receiver() {
    let app = spawn_app_with(|c| {
        c.allow_private_webhooks = true;
        c.webhook_retry_schedule = vec![Duration::from_secs(1)];
    })
    .await;
    let receiver = receiver().await;
    let url = format!("{}/hook", receiver.uri());
    let (org, _) = org_of(&app);
    let events = Events::default();
    let lifecycle = Lifecycle::new(
        app.store.clone(),
        events.clone(),
        proofme::vault::DataKey::ephemeral(),
    );

    // Not yet changed: the current (open) status gets its first delivery.
    let created = app
        .create_identification(json!({ "webhookUrl": url }))
        .await;
    let id = IdentificationId::parse(created["id"].as_str().expect("id")).expect("id");
    let first = lifecycle
        .resend_webhook(&org, &id)
        .await
        .expect("store")
        .expect("queued");
    // The worker is woken as by a status change.
    tokio::time::timeout(DEADLINE, events.webhooks_due.notified())
        .await
        .expect("the worker is woken");
    let rows = app
        .wait_for_deliveries(id.as_str(), DEADLINE, |rows| {
            rows.len() == 1 && rows[0]["state"] == "delivered"
        })
        .await;
    assert_eq!(rows[0]["id"], first);
    assert_eq!(rows[0]["status"], "0");

    // Verified and delivered; resent, the same message arrives once more.
    app.set_outcome(id.as_str(), "verified").await;
    let rows = app
        .wait_for_deliveries(id.as_str(), DEADLINE, |rows| {
            rows.len() == 2 && rows.iter().all(|r| r["state"] == "delivered")
        })
        .await;
    let verified_id = rows[1]["id"].as_str().expect("id").to_owned();
    let again = lifecycle
        .resend_webhook(&org, &id)
        .await
        .expect("store")
        .expect("queued");
    assert_eq!(again, verified_id);
    let rows = app
        .wait_for_deliveries(id.as_str(), DEADLINE, |rows| {
            rows.len() == 2
                && rows[1]["state"] == "delivered"
                && rows[1]["attempts"].as_array().is_some_and(|a| a.len() == 2)
        })
        .await;
    assert_eq!(rows[1]["status"], "2");
    let received = received_by(&receiver).await;
    let for_verified: Vec<_> = received
        .iter()
        .filter(|r| header(r, "webhook-id") == verified_id)
        .collect();
    assert_eq!(for_verified.len(), 2, "the verified webhook twice");
    assert_eq!(received.len(), 3);
    let body: Value = serde_json::from_slice(&for_verified[1].body).expect("JSON");
    assert_eq!(body, json!({ "id": id.as_str() }));

    // No webhook URL: refused, nothing queued.
    let plain = app.create_identification(json!({})).await;
    let plain = IdentificationId::parse(plain["id"].as_str().expect("id")).expect("id");
    assert_eq!(
        lifecycle.resend_webhook(&org, &plain).await.expect("store"),
        Err(ResendRefusal::NoWebhookUrl)
    );
    assert!(app.deliveries(plain.as_str()).await.is_empty());

    // Another organisation's identification is not found, for every action.
    let other = app.create_other_organisation().await;
    let other_org = OrganisationId::parse(&other.org_id).expect("org id");
    assert_eq!(
        lifecycle
            .resend_webhook(&other_org, &id)
            .await
            .expect("store"),
        Err(ResendRefusal::NotFound)
    );
    let store = &app.store;
    assert!(
        store
            .status_history_of(&other_org, &id)
            .await
            .expect("store")
            .is_none()
    );
    assert!(
        store
            .webhook_deliveries_of(&other_org, &id)
            .await
            .expect("store")
            .is_none()
    );
    assert!(
        store
            .erase_shared_data_of(&other_org, &id)
            .await
            .expect("store")
            .is_none()
    );
    assert_eq!(
        store
            .status_history_of(&org, &id)
            .await
            .expect("store")
            .map(|h| h.len()),
        Some(2)
    );
    assert_eq!(
        store
            .webhook_deliveries_of(&org, &id)
            .await
            .expect("store")
            .map(|d| d.len()),
        Some(2)
    );
    assert_eq!(
        store.erase_shared_data_of(&org, &id).await.expect("store"),
        Some(1)
    );
    assert_eq!(app.deliveries(id.as_str()).await.len(), 2);
}

/// How long a search takes over 100,000 identifications of one
/// organisation (SQLite unless `PROOFME_TEST_BACKEND=postgres`). A
/// measurement, not a test: `cargo test --release --test api
/// search_at_scale -- --ignored --nocapture`.
#[tokio::test]
#[ignore]
async fn search_at_scale() {
    let app = spawn_app().await;
    let (org, proofme) = org_of(&app);
    let started = std::time::Instant::now();
    seed_many(&app.store, &org, &proofme, 100_000).await;
    eprintln!("seeded 100,000 in {:?}", started.elapsed());
    let measure = |name: &'static str, filter: IdentificationFilter, sort: Sort| {
        let store = app.store.clone();
        let org = org.clone();
        async move {
            let started = std::time::Instant::now();
            let page = store
                .search_identifications(
                    &org,
                    &filter,
                    sort,
                    &Page {
                        after: None,
                        offset: 0,
                        limit: 50,
                    },
                )
                .await
                .expect("search");
            let page_time = started.elapsed();
            let started = std::time::Instant::now();
            let count = store
                .count_identifications(&org, &filter)
                .await
                .expect("count");
            eprintln!(
                "{name}: page of {} in {page_time:?}; count {count} in {:?}",
                page.rows.len(),
                started.elapsed()
            );
        }
    };
    measure(
        "newest first",
        IdentificationFilter::default(),
        Sort::default(),
    )
    .await;
    measure(
        "search \"order #4242\"",
        search("order #4242"),
        Sort::default(),
    )
    .await;
    measure("search \"zzz\" (no match)", search("zzz"), Sort::default()).await;
    let verified = IdentificationFilter {
        status: Some(Status::Verified),
        ..IdentificationFilter::default()
    };
    measure("status verified", verified, Sort::default()).await;
    let updated = Sort {
        column: SortColumn::UpdatedAt,
        direction: SortDirection::Desc,
    };
    measure("by updatedAt", IdentificationFilter::default(), updated).await;
    let started = std::time::Instant::now();
    let bytes: usize = identifications_csv(
        app.store.clone(),
        org,
        IdentificationFilter::default(),
        Sort::default(),
    )
    .map(|c| c.expect("chunk").len())
    .fold(0, |a, b| async move { a + b })
    .await;
    eprintln!(
        "export of 100,000: {bytes} bytes in {:?}",
        started.elapsed()
    );
}
