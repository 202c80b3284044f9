//! Webhooks (DESIGN.md section 5) against a real receiver on loopback: one
//! signed POST per status change, retries on the schedule, redirects, the
//! address guard at create and at delivery time.

use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;

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

/// Standard Webhooks verification, written here from the specification and
/// independent of Proofme's own signing code: the key is the base64 after
/// `whsec_`; the signed content is `{id}.{timestamp}.{body}`; the header holds
/// space-separated `v1,<base64 HMAC-SHA256>` signatures.
fn signature_is_valid(
    secret: &str,
    msg_id: &str,
    timestamp: &str,
    body: &[u8],
    header: &str,
) -> bool {
    let encoded = secret
        .strip_prefix("whsec_")
        .unwrap_or_else(|| panic!("not a whsec_ secret: {secret}"));
    let key = STANDARD.decode(encoded).expect("secret is base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    header
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|sig| sig == expected)
}

fn assert_signed(req: &Received, secret: &str) {
    let id = req.header("webhook-id");
    let ts = req.header("webhook-timestamp");
    let sig = req.header("webhook-signature");
    assert!(
        signature_is_valid(secret, id, ts, &req.body, sig),
        "signature {sig:?} does not verify for {id} at {ts}"
    );
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

// --- what is sent ----------------------------------------------------------

#[tokio::test]
async fn each_status_change_sends_exactly_one_signed_post() {
    let app = spawn_webhook_app().await;
    let receiver = Receiver::start(&[]).await;
    let id = create_with_webhook(&app, &receiver.url("/hook")).await;

    app.set_outcome(&id, "pending").await;
    app.set_outcome(&id, "verified").await;
    receiver.wait_for(2, Duration::from_secs(5)).await;
    // Time for a duplicate to show up, if there were one.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let requests = receiver.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let now = chrono::Utc::now().timestamp();
    for req in &requests {
        assert_eq!(req.method, "POST");
        assert_eq!(req.path, "/hook");
        assert_eq!(req.body, format!("{{\"id\":\"{id}\"}}").into_bytes());
        assert_eq!(req.json(), json!({ "id": id }));
        assert!(req.header("content-type").starts_with("application/json"));
        assert_id(&json!(req.header("webhook-id")), "msg_", 1);
        let ts: i64 = req.header("webhook-timestamp").parse().expect("seconds");
        assert!((now - ts).abs() < 60, "timestamp {ts} is far from {now}");
        assert!(req.header("webhook-signature").starts_with("v1,"));
        assert_signed(req, &app.webhook_secret);
    }
    assert_ne!(
        requests[0].header("webhook-id"),
        requests[1].header("webhook-id"),
        "two changes, two messages"
    );
    // The deliveries are listed per change, with the ids the receiver saw.
    let rows = app
        .wait_for_deliveries(&id, Duration::from_secs(3), |rows| {
            rows.len() == 2 && rows.iter().all(|r| r["state"] == "delivered")
        })
        .await;
    let statuses: Vec<&Value> = rows.iter().map(|r| &r["status"]).collect();
    assert_eq!(statuses, [&json!("1"), &json!("2")]);
    let mut listed: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut seen: Vec<&str> = requests.iter().map(|r| r.header("webhook-id")).collect();
    listed.sort_unstable();
    seen.sort_unstable();
    assert_eq!(listed, seen);
}

#[tokio::test]
async fn revocation_and_mypage_outcomes_send_webhooks_too() {
    let app = spawn_webhook_app().await;
    let receiver = Receiver::start(&[]).await;
    let revoked = create_with_webhook(&app, &receiver.url("/hook")).await;
    let canceled = create_with_webhook(&app, &receiver.url("/hook")).await;

    let resp = app.delete(&format!("/v1/identification/{revoked}")).await;
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    let resp = app
        .client
        .post(app.url(&format!("/{canceled}/cancel")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::SEE_OTHER);

    let requests = receiver.wait_for(2, Duration::from_secs(5)).await;
    let mut ids: Vec<String> = requests
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort_unstable();
    let mut expected = vec![revoked, canceled];
    expected.sort_unstable();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn creating_an_identification_sends_no_webhook() {
    let app = spawn_webhook_app().await;
    let receiver = Receiver::start(&[]).await;
    let id = create_with_webhook(&app, &receiver.url("/hook")).await;

    tokio::time::sleep(Duration::from_millis(1500)).await;

    assert!(receiver.requests().is_empty(), "{:#?}", receiver.requests());
    assert!(app.deliveries(&id).await.is_empty());
}

#[tokio::test]
async fn a_tampered_body_or_timestamp_fails_verification() {
    let app = spawn_webhook_app().await;
    let receiver = Receiver::start(&[]).await;
    let id = create_with_webhook(&app, &receiver.url("/hook")).await;
    app.set_outcome(&id, "verified").await;
    let req = receiver.wait_for(1, Duration::from_secs(5)).await.remove(0);
    let (msg, ts, sig) = (
        req.header("webhook-id"),
        req.header("webhook-timestamp"),
        req.header("webhook-signature"),
    );
    assert!(signature_is_valid(
        &app.webhook_secret,
        msg,
        ts,
        &req.body,
        sig
    ));

    let tampered_body = br#"{"id":"id_someoneElsesIdentification0"}"#;
    let later: i64 = ts.parse::<i64>().unwrap() + 1;
    let other_org = app.create_other_organisation().await;

    assert!(!signature_is_valid(
        &app.webhook_secret,
        msg,
        ts,
        tampered_body,
        sig
    ));
    assert!(!signature_is_valid(
        &app.webhook_secret,
        msg,
        &later.to_string(),
        &req.body,
        sig
    ));
    assert!(!signature_is_valid(
        &app.webhook_secret,
        "msg_other",
        ts,
        &req.body,
        sig
    ));
    assert!(!signature_is_valid(
        &other_org.webhook_secret,
        msg,
        ts,
        &req.body,
        sig
    ));
}

// --- retries and outcomes --------------------------------------------------

#[tokio::test]
async fn a_failing_receiver_is_retried_on_the_schedule_until_it_answers_2xx() {
    let app = spawn_webhook_app().await;
    let receiver = Receiver::start(&[(
        "/hook",
        vec![Reply::Status(500), Reply::Status(500), Reply::Status(200)],
    )])
    .await;
    let id = create_with_webhook(&app, &receiver.url("/hook")).await;

    app.set_outcome(&id, "verified").await;
    let requests = receiver.wait_for(3, Duration::from_secs(10)).await;

    let msg = requests[0].header("webhook-id");
    for req in &requests {
        assert_eq!(req.header("webhook-id"), msg, "the id changed on a retry");
        assert_eq!(req.json(), json!({ "id": id }));
        assert_signed(req, &app.webhook_secret);
    }
    for pair in requests.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(900), "retried after {gap:?}");
    }
    let rows = app
        .wait_for_deliveries(&id, Duration::from_secs(3), state_is("delivered"))
        .await;
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
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(receiver.requests().len(), 3, "sent again after a 2xx");
}

#[tokio::test]
async fn a_410_stops_the_retries_after_one_attempt() {
    let app = spawn_webhook_app().await;
    let receiver = Receiver::start(&[("/hook", vec![Reply::Status(410)])]).await;
    let id = create_with_webhook(&app, &receiver.url("/hook")).await;

    app.set_outcome(&id, "verified").await;
    let rows = app
        .wait_for_deliveries(&id, Duration::from_secs(5), state_is("gone"))
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    assert_eq!(status_codes(&rows[0]), [json!(410)]);
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn a_delivery_fails_for_good_once_the_schedule_is_exhausted() {
    let app = spawn_webhook_app().await;
    let receiver = Receiver::start(&[("/hook", vec![Reply::Status(503)])]).await;
    let id = create_with_webhook(&app, &receiver.url("/hook")).await;

    app.set_outcome(&id, "failed").await;
    let rows = app
        .wait_for_deliveries(&id, Duration::from_secs(10), state_is("failed"))
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // The first call and one per entry of the schedule.
    assert_eq!(status_codes(&rows[0]), [json!(503), json!(503), json!(503)]);
    assert_eq!(rows[0]["nextAttemptAt"], Value::Null);
    assert_eq!(receiver.requests().len(), 3);
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
    let rows = app
        .wait_for_deliveries(&id, Duration::from_secs(5), |rows| {
            rows.len() == 1 && !rows[0]["attempts"].as_array().unwrap().is_empty()
        })
        .await;

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
    let receiver = Receiver::start(&[
        ("/hook", vec![Reply::Redirect(307, "/moved".into())]),
        ("/moved", vec![Reply::Status(204)]),
    ])
    .await;
    let id = create_with_webhook(&app, &receiver.url("/hook")).await;

    app.set_outcome(&id, "verified").await;
    let rows = app
        .wait_for_deliveries(&id, Duration::from_secs(5), state_is("delivered"))
        .await;

    assert_eq!(status_codes(&rows[0]), [json!(204)]);
    let requests = receiver.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/hook", "/moved"]);
    let moved = &requests[1];
    assert_eq!(moved.method, "POST");
    assert_eq!(moved.json(), json!({ "id": id }));
    assert_signed(moved, &app.webhook_secret);
}

#[tokio::test]
async fn a_302_is_not_followed_and_counts_as_a_failure() {
    let app = spawn_webhook_app().await;
    let receiver = Receiver::start(&[
        ("/hook", vec![Reply::Redirect(302, "/moved".into())]),
        ("/moved", vec![Reply::Status(200)]),
    ])
    .await;
    let id = create_with_webhook(&app, &receiver.url("/hook")).await;

    app.set_outcome(&id, "verified").await;
    let rows = app
        .wait_for_deliveries(&id, Duration::from_secs(5), |rows| {
            rows.len() == 1 && !rows[0]["attempts"].as_array().unwrap().is_empty()
        })
        .await;

    let attempt = &rows[0]["attempts"][0];
    assert_eq!(attempt["statusCode"], 302);
    let error = attempt["error"].as_str().unwrap_or("");
    assert!(error.contains("not followed"), "{attempt}");
    assert_ne!(rows[0]["state"], "delivered");
    assert!(
        receiver.requests().iter().all(|r| r.path == "/hook"),
        "the redirect was followed"
    );
}

// --- isolation -------------------------------------------------------------

#[tokio::test]
async fn a_slow_receiver_does_not_delay_another_organisations_webhook() {
    let app = spawn_webhook_app().await;
    let slow = Receiver::start(&[("/hook", vec![Reply::Hang(Duration::from_secs(30))])]).await;
    let fast = Receiver::start(&[]).await;
    // More hanging deliveries than one organisation may have under way.
    for _ in 0..6 {
        let id = create_with_webhook(&app, &slow.url("/hook")).await;
        app.set_outcome(&id, "verified").await;
    }
    slow.wait_for(4, Duration::from_secs(5)).await;
    let other = app.create_other_organisation().await;
    let created = created(
        app.post_json_with_key(
            &other.api_key,
            &other.json_body_with(json!({ "webhookUrl": fast.url("/hook") })),
        )
        .await,
    )
    .await;
    let other_id = created["id"].as_str().unwrap();

    let changed = std::time::Instant::now();
    let resp = app
        .api_test_outcome_with_key(&other.api_key, other_id, "verified")
        .await;
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    let requests = fast.wait_for(1, Duration::from_secs(3)).await;

    assert!(changed.elapsed() < Duration::from_secs(3));
    assert_eq!(requests[0].json(), json!({ "id": other_id }));
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
    let receiver = Receiver::start(&[]).await;
    let id = create_with_webhook(&app, &receiver.url("/hook")).await;
    app.config.allow_private_webhooks = false;
    app.restart().await;

    app.set_outcome(&id, "verified").await;
    let rows = app
        .wait_for_deliveries(&id, Duration::from_secs(5), |rows| {
            rows.len() == 1 && !rows[0]["attempts"].as_array().unwrap().is_empty()
        })
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let attempt = &rows[0]["attempts"][0];
    assert_eq!(attempt["statusCode"], Value::Null);
    let error = attempt["error"].as_str().unwrap_or("");
    assert!(error.contains("not public"), "{attempt}");
    assert_ne!(rows[0]["state"], "delivered");
    assert!(receiver.requests().is_empty(), "{:#?}", receiver.requests());
}

#[tokio::test]
async fn an_expiry_sends_its_webhook_within_seconds() {
    let app = spawn_app_with(|c| {
        c.allow_private_webhooks = true;
        c.identification_ttl = Duration::from_secs(1);
    })
    .await;
    let receiver = Receiver::start(&[]).await;
    let id = create_with_webhook(&app, &receiver.url("/hook")).await;

    // Nobody touches it: the sweep records the expiry and enqueues the webhook.
    let requests = receiver.wait_for(1, Duration::from_secs(5)).await;

    assert_eq!(requests[0].json(), json!({ "id": id }));
    assert_signed(&requests[0], &app.webhook_secret);
    let rows = app
        .wait_for_deliveries(&id, Duration::from_secs(3), state_is("delivered"))
        .await;
    assert_eq!(rows[0]["status"], "5");
}
