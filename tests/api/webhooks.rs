//! Webhooks (DESIGN.md section 5) against a real receiver on loopback: one
//! signed POST per status change, retries on the schedule, redirects, the
//! address guard at create and at delivery time.

use crate::helpers::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::path;

/// An app that may call loopback receivers, retrying after 1 s and 1 s.
async fn spawn_webhook_app() -> TestApp {
    spawn_app_with(|c| {
        c.allow_private_webhooks = true;
        c.webhook_retry_schedule = vec![Duration::from_secs(1), Duration::from_secs(1)];
    })
    .await
}

/// Creates a test identification whose webhooks go to `url`; returns its id.
async fn create_with_webhook(app: &TestApp, url: &str) -> String {
    let created = app
        .create_identification(json!({ "webhookUrl": url }))
        .await;
    assert_eq!(created["webhookUrl"], url);
    created["id"].as_str().expect("id").to_owned()
}

fn hook(receiver: &MockServer) -> String {
    format!("{}/hook", receiver.uri())
}

/// Answers `status` to every request to `path` (before the default 200).
async fn reply(receiver: &MockServer, to: &str, status: u16) {
    Mock::given(path(to))
        .respond_with(ResponseTemplate::new(status))
        .mount(receiver)
        .await;
}

fn status_codes(delivery: &Value) -> Vec<Value> {
    delivery["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["statusCode"].clone())
        .collect()
}

fn state_is(state: &'static str) -> impl Fn(&[Value]) -> bool {
    move |rows: &[Value]| rows.len() == 1 && rows[0]["state"] == state
}

fn has_an_attempt(rows: &[Value]) -> bool {
    rows.len() == 1 && !rows[0]["attempts"].as_array().expect("attempts").is_empty()
}

// --- what is sent ----------------------------------------------------------

#[tokio::test]
async fn each_status_change_sends_exactly_one_signed_post() {
    let app = spawn_webhook_app().await;
    let receiver = receiver().await;
    let id = create_with_webhook(&app, &hook(&receiver)).await;

    app.set_outcome(&id, "pending").await;
    app.set_outcome(&id, "verified").await;
    // Both delivered, one attempt each and nothing scheduled: what the
    // receiver has now is all it will get.
    let rows = app
        .wait_for_deliveries(&id, DEADLINE, |rows| {
            rows.len() == 2 && rows.iter().all(|r| r["state"] == "delivered")
        })
        .await;
    for row in &rows {
        assert_eq!(status_codes(row), [json!(200)], "{row}");
        assert_eq!(row["nextAttemptAt"], Value::Null, "{row}");
    }

    let requests = received_by(&receiver).await;
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let now = chrono::Utc::now().timestamp();
    for req in &requests {
        assert_eq!(req.method, wiremock::http::Method::POST);
        assert_eq!(req.url.path(), "/hook");
        assert_eq!(req.body, format!("{{\"id\":\"{id}\"}}").into_bytes());
        assert_eq!(req.body_json::<Value>().unwrap(), json!({ "id": id }));
        assert!(header(req, "content-type").starts_with("application/json"));
        assert_id(&json!(header(req, "webhook-id")), "msg_", 1);
        let ts: i64 = header(req, "webhook-timestamp").parse().expect("seconds");
        assert!((now - ts).abs() < 60, "timestamp {ts} is far from {now}");
        assert!(header(req, "webhook-signature").starts_with("v1,"));
        assert_signed(req, &app.webhook_secret);
    }
    assert_ne!(
        header(&requests[0], "webhook-id"),
        header(&requests[1], "webhook-id"),
        "two changes, two messages"
    );
    // The deliveries are listed per change, with the ids the receiver saw.
    let statuses: Vec<&Value> = rows.iter().map(|r| &r["status"]).collect();
    assert_eq!(statuses, [&json!("1"), &json!("2")]);
    let mut listed: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut seen: Vec<&str> = requests.iter().map(|r| header(r, "webhook-id")).collect();
    listed.sort_unstable();
    seen.sort_unstable();
    assert_eq!(listed, seen);
}

#[tokio::test]
async fn revocation_and_mypage_outcomes_send_webhooks_too() {
    let app = spawn_webhook_app().await;
    let receiver = receiver().await;
    let revoked = create_with_webhook(&app, &hook(&receiver)).await;
    let canceled = create_with_webhook(&app, &hook(&receiver)).await;

    let resp = app.delete(&format!("/v1/identification/{revoked}")).await;
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    let resp = app
        .client
        .post(app.url(&format!("/{canceled}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::SEE_OTHER);

    let requests = wait_for_requests(&receiver, 2).await;
    let mut ids: Vec<String> = requests
        .iter()
        .map(|r| {
            r.body_json::<Value>().unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    ids.sort_unstable();
    let mut expected = vec![revoked, canceled];
    expected.sort_unstable();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn creating_an_identification_sends_no_webhook() {
    let app = spawn_webhook_app().await;
    let receiver = receiver().await;
    let id = create_with_webhook(&app, &hook(&receiver)).await;

    // A webhook is written to the outbox with the change it announces, in
    // the same transaction: a create wrote none.
    assert!(app.deliveries(&id).await.is_empty());
    // The next change is the first message the receiver ever gets.
    app.set_outcome(&id, "pending").await;
    let rows = app
        .wait_for_deliveries(&id, DEADLINE, state_is("delivered"))
        .await;

    assert_eq!(rows[0]["status"], "1");
    let requests = received_by(&receiver).await;
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(header(&requests[0], "webhook-id"), rows[0]["id"]);
}

#[tokio::test]
async fn a_tampered_body_or_timestamp_fails_verification() {
    use standardwebhooks::WebhookError::InvalidSignature;
    let app = spawn_webhook_app().await;
    let receiver = receiver().await;
    let id = create_with_webhook(&app, &hook(&receiver)).await;
    app.set_outcome(&id, "verified").await;
    let req = wait_for_requests(&receiver, 1).await.remove(0);
    let secret = &app.webhook_secret;
    assert!(verify_webhook(secret, &req.body, &req.headers).is_ok());

    let with = |name: &'static str, value: String| {
        let mut headers = req.headers.clone();
        headers.insert(name, value.parse().expect("header value"));
        headers
    };
    let tampered_body = br#"{"id":"id_someoneElsesIdentification0"}"#;
    let later: i64 = header(&req, "webhook-timestamp").parse::<i64>().unwrap() + 1;
    let other_org = app.create_other_organisation().await;

    for (what, result) in [
        ("body", verify_webhook(secret, tampered_body, &req.headers)),
        (
            "timestamp",
            verify_webhook(
                secret,
                &req.body,
                &with("webhook-timestamp", later.to_string()),
            ),
        ),
        (
            "message id",
            verify_webhook(secret, &req.body, &with("webhook-id", "msg_other".into())),
        ),
        (
            "secret",
            verify_webhook(&other_org.webhook_secret, &req.body, &req.headers),
        ),
    ] {
        assert!(
            matches!(result, Err(InvalidSignature)),
            "another {what}: {result:?}"
        );
    }
}

// --- retries and outcomes --------------------------------------------------

#[tokio::test]
async fn a_failing_receiver_is_retried_on_the_schedule_until_it_answers_2xx() {
    let app = spawn_webhook_app().await;
    let receiver = receiver().await;
    // 500, 500, then 200; the arrival times show the spacing of the retries.
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let log = arrivals.clone();
    Mock::given(path("/hook"))
        .respond_with(move |_: &Request| {
            let mut arrivals = log.lock().unwrap();
            arrivals.push(Instant::now());
            ResponseTemplate::new(if arrivals.len() <= 2 { 500 } else { 200 })
        })
        .mount(&receiver)
        .await;
    let id = create_with_webhook(&app, &hook(&receiver)).await;

    app.set_outcome(&id, "verified").await;
    let rows = app
        .wait_for_deliveries(&id, DEADLINE, state_is("delivered"))
        .await;

    let requests = received_by(&receiver).await;
    assert_eq!(requests.len(), 3, "{requests:#?}");
    let msg = header(&requests[0], "webhook-id");
    for req in &requests {
        assert_eq!(header(req, "webhook-id"), msg, "the id changed on a retry");
        assert_eq!(req.body_json::<Value>().unwrap(), json!({ "id": id }));
        assert_signed(req, &app.webhook_secret);
    }
    // Never before the schedule says (a busy machine only makes gaps longer).
    for pair in arrivals.lock().unwrap().windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(900), "retried after {gap:?}");
    }
    assert_eq!(rows[0]["id"], msg);
    assert_eq!(status_codes(&rows[0]), [json!(500), json!(500), json!(200)]);
    let numbers: Vec<&Value> = rows[0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["attempt"])
        .collect();
    assert_eq!(numbers, [&json!(1), &json!(2), &json!(3)]);
    assert_eq!(rows[0]["nextAttemptAt"], Value::Null);
    // A delivered message is never sent again. With the clock past every
    // retry, a later message to the same receiver goes out; the first,
    // were it still due, would have gone out in the same round or before.
    app.clock.advance(Duration::from_secs(3600));
    let later = create_with_webhook(&app, &hook(&receiver)).await;
    app.set_outcome(&later, "verified").await;
    app.wait_for_deliveries(&later, DEADLINE, state_is("delivered"))
        .await;
    let sent = received_by(&receiver).await;
    assert_eq!(sent.len(), 4, "{sent:#?}");
    assert_eq!(
        sent.iter()
            .filter(|r| header(r, "webhook-id") == msg)
            .count(),
        3,
        "sent again after a 2xx"
    );
}

#[tokio::test]
async fn a_410_stops_the_retries_after_one_attempt() {
    let app = spawn_webhook_app().await;
    let receiver = receiver().await;
    reply(&receiver, "/hook", 410).await;
    let id = create_with_webhook(&app, &hook(&receiver)).await;

    app.set_outcome(&id, "verified").await;
    let rows = app
        .wait_for_deliveries(&id, DEADLINE, state_is("gone"))
        .await;

    assert_eq!(status_codes(&rows[0]), [json!(410)]);
    assert_eq!(
        rows[0]["nextAttemptAt"],
        Value::Null,
        "a retry is scheduled"
    );
    assert_eq!(received_by(&receiver).await.len(), 1);
}

#[tokio::test]
async fn a_delivery_fails_for_good_once_the_schedule_is_exhausted() {
    let app = spawn_webhook_app().await;
    let receiver = receiver().await;
    reply(&receiver, "/hook", 503).await;
    let id = create_with_webhook(&app, &hook(&receiver)).await;

    app.set_outcome(&id, "failed").await;
    let rows = app
        .wait_for_deliveries(&id, DEADLINE, state_is("failed"))
        .await;

    // The first call and one per entry of the schedule.
    assert_eq!(status_codes(&rows[0]), [json!(503), json!(503), json!(503)]);
    assert_eq!(rows[0]["nextAttemptAt"], Value::Null);
    assert_eq!(received_by(&receiver).await.len(), 3);
}

#[tokio::test]
async fn an_unreachable_receiver_is_recorded_with_an_error_and_retried() {
    let app = spawn_webhook_app().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let id = create_with_webhook(&app, &format!("http://127.0.0.1:{port}/hook")).await;

    app.set_outcome(&id, "verified").await;
    let rows = app.wait_for_deliveries(&id, DEADLINE, has_an_attempt).await;

    let attempt = &rows[0]["attempts"][0];
    assert_eq!(attempt["statusCode"], Value::Null);
    assert!(
        attempt["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{attempt}"
    );
    assert!(matches!(
        rows[0]["state"].as_str(),
        Some("pending" | "failed")
    ));
}

// --- redirects -------------------------------------------------------------

#[tokio::test]
async fn a_307_is_followed_to_the_new_location() {
    let app = spawn_webhook_app().await;
    let receiver = receiver().await;
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(307).insert_header("location", "/moved"))
        .mount(&receiver)
        .await;
    reply(&receiver, "/moved", 204).await;
    let id = create_with_webhook(&app, &hook(&receiver)).await;

    app.set_outcome(&id, "verified").await;
    let rows = app
        .wait_for_deliveries(&id, DEADLINE, state_is("delivered"))
        .await;

    assert_eq!(status_codes(&rows[0]), [json!(204)]);
    let requests = received_by(&receiver).await;
    let paths: Vec<&str> = requests.iter().map(|r| r.url.path()).collect();
    assert_eq!(paths, ["/hook", "/moved"]);
    let moved = &requests[1];
    assert_eq!(moved.method, wiremock::http::Method::POST);
    assert_eq!(moved.body_json::<Value>().unwrap(), json!({ "id": id }));
    assert_signed(moved, &app.webhook_secret);
}

#[tokio::test]
async fn a_302_is_not_followed_and_counts_as_a_failure() {
    let app = spawn_webhook_app().await;
    let receiver = receiver().await;
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/moved"))
        .mount(&receiver)
        .await;
    let id = create_with_webhook(&app, &hook(&receiver)).await;

    app.set_outcome(&id, "verified").await;
    let rows = app.wait_for_deliveries(&id, DEADLINE, has_an_attempt).await;

    let attempt = &rows[0]["attempts"][0];
    assert_eq!(attempt["statusCode"], 302);
    let error = attempt["error"].as_str().unwrap_or("");
    assert!(error.contains("not followed"), "{attempt}");
    assert_ne!(rows[0]["state"], "delivered");
    assert!(
        received_by(&receiver)
            .await
            .iter()
            .all(|r| r.url.path() == "/hook"),
        "the redirect was followed"
    );
}

// --- isolation -------------------------------------------------------------

#[tokio::test]
async fn a_slow_receiver_does_not_delay_another_organisations_webhook() {
    let app = spawn_webhook_app().await;
    let slow = receiver().await;
    // Slower than the 15 s delivery timeout: these attempts end, and are
    // recorded, only when they time out.
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(120)))
        .mount(&slow)
        .await;
    let fast = receiver().await;
    // More hanging deliveries than one organisation may have under way.
    let mut hanging = Vec::new();
    for _ in 0..6 {
        let id = create_with_webhook(&app, &hook(&slow)).await;
        app.set_outcome(&id, "verified").await;
        hanging.push(id);
    }
    wait_for_requests(&slow, 4).await;
    let other = app.create_other_organisation().await;
    let created = created(
        app.post_json_with_key(
            &other.api_key,
            &other.json_body_with(json!({ "webhookUrl": hook(&fast) })),
        )
        .await,
    )
    .await;
    let other_id = created["id"].as_str().unwrap();

    let resp = app
        .api_test_outcome_with_key(&other.api_key, other_id, "verified")
        .await;
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    let requests = wait_for_requests(&fast, 1).await;

    // It arrived while the slow deliveries were still waiting for an answer.
    for id in &hanging {
        let rows = app.deliveries(id).await;
        assert!(!has_an_attempt(&rows), "{rows:#?}");
    }
    assert_eq!(
        requests[0].body_json::<Value>().unwrap(),
        json!({ "id": other_id })
    );
    assert_signed(&requests[0], &other.webhook_secret);
}

// --- the address guard -----------------------------------------------------

#[tokio::test]
async fn non_public_webhook_addresses_are_rejected_at_create_time() {
    let app = spawn_app().await;

    for url in [
        "http://127.0.0.1/",
        "http://127.1.2.3:8080/hook",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.0.0.1/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://localhost/",
        "http://LOCALHOST:3000/",
        "http://api.localhost/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://192.0.2.1/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
    ] {
        let resp = app
            .post_json(&app.json_body_with(json!({ "webhookUrl": url })))
            .await;
        let problem = assert_problem(resp, 422, Some("webhookUrl")).await;
        assert!(
            problem["detail"].as_str().unwrap_or("").contains("public"),
            "{url}: {problem}"
        );
    }
    assert_eq!(
        app.list("").await["count"],
        0,
        "a refused request was stored"
    );
}

#[tokio::test]
async fn a_public_webhook_address_is_accepted() {
    let app = spawn_app().await;

    let resp = app
        .post_json(&app.json_body_with(json!({ "webhookUrl": "https://8.8.8.8/hook" })))
        .await;

    created(resp).await;
}

#[tokio::test]
async fn private_webhook_addresses_are_accepted_when_allowed() {
    let app = spawn_webhook_app().await;

    let resp = app
        .post_json(&app.json_body_with(json!({ "webhookUrl": "http://127.0.0.1:9/hook" })))
        .await;

    created(resp).await;
}

/// Names in /etc/hosts other than localhost that resolve only to non-public
/// addresses on this machine.
async fn local_names_from_hosts_file() -> Vec<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let mut names = Vec::new();
    for line in hosts.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut parts = line.split_whitespace();
        let Some(ip) = parts
            .next()
            .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
        else {
            continue;
        };
        if !ip.is_loopback() {
            continue;
        }
        for name in parts {
            let lower = name.to_ascii_lowercase();
            if lower == "localhost"
                || lower.ends_with(".localhost")
                || !lower.contains(|c: char| c.is_ascii_alphabetic())
            {
                continue;
            }
            let Ok(addrs) = tokio::net::lookup_host((name, 80)).await else {
                continue;
            };
            let addrs: Vec<_> = addrs.collect();
            if !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()) {
                names.push(name.to_owned());
            }
        }
    }
    names
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_rejected_at_create_time() {
    let app = spawn_app().await;
    let mut hosts = vec!["localhost.".to_owned()];
    let from_file = local_names_from_hosts_file().await;
    println!("names resolving to loopback from /etc/hosts: {from_file:?}");
    hosts.extend(from_file);

    for host in hosts {
        let url = format!("http://{host}:8080/hook");
        let resp = app
            .post_json(&app.json_body_with(json!({ "webhookUrl": url })))
            .await;
        assert_problem(resp, 422, Some("webhookUrl")).await;
    }
}

#[tokio::test]
async fn a_stored_private_webhook_is_never_delivered_once_the_guard_is_on() {
    let mut app = spawn_webhook_app().await;
    let receiver = receiver().await;
    let id = create_with_webhook(&app, &hook(&receiver)).await;
    app.config.allow_private_webhooks = false;
    app.restart().await;

    app.set_outcome(&id, "verified").await;
    // An attempt is recorded once it is over: had it connected, the receiver
    // would have the request by now.
    let rows = app.wait_for_deliveries(&id, DEADLINE, has_an_attempt).await;

    let attempt = &rows[0]["attempts"][0];
    assert_eq!(attempt["statusCode"], Value::Null);
    let error = attempt["error"].as_str().unwrap_or("");
    assert!(error.contains("not public"), "{attempt}");
    assert_ne!(rows[0]["state"], "delivered");
    let requests = received_by(&receiver).await;
    assert!(requests.is_empty(), "{requests:#?}");
}

#[tokio::test]
async fn an_expiry_sends_its_webhook_within_seconds() {
    let app = spawn_app_with(|c| {
        c.allow_private_webhooks = true;
        c.identification_ttl = Duration::from_secs(1);
    })
    .await;
    let receiver = receiver().await;
    let id = create_with_webhook(&app, &hook(&receiver)).await;

    // Nobody touches it: the sweep records the expiry and enqueues the webhook.
    let requests = wait_for_requests(&receiver, 1).await;

    assert_eq!(
        requests[0].body_json::<Value>().unwrap(),
        json!({ "id": id })
    );
    assert_signed(&requests[0], &app.webhook_secret);
    let rows = app
        .wait_for_deliveries(&id, DEADLINE, state_is("delivered"))
        .await;
    assert_eq!(rows[0]["status"], "5");
}
