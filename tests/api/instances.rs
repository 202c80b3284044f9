//! Several instances on one PostgreSQL database (DESIGN.md section 9): two
//! real server processes, A and B, over the same database behave as one
//! service. These run only on PostgreSQL (`PROOFME_TEST_BACKEND=postgres`):
//! two processes never share one SQLite file.

use crate::helpers::*;
use proofme::domain::{Credential, Mode, Purpose};
use proofme::store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::process::Stdio;
use std::time::Duration;
use tempfile::TempDir;
use tokio::process::{Child, Command};

/// Seconds a webhook claim lasts in these tests: just over the attempt
/// timeout, so a dead instance's claim is taken over soon.
const LEASE_SECS: &str = "16";

/// One database, its tenant, and the instances started over it.
struct Cluster {
    dir: TempDir,
    database: TestDatabase,
    client: Client,
    org_id: String,
    proofme_id: String,
    key: String,
    /// For changes made from outside any instance (as the admin command does).
    store: Store,
}

struct Instance {
    child: Child,
    base: String,
}

/// `None` (and a note on stderr) unless the tests run on PostgreSQL.
async fn cluster() -> Option<Cluster> {
    if !on_postgres() {
        eprintln!("skipped: several instances need PostgreSQL (PROOFME_TEST_BACKEND=postgres)");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let database = TestDatabase::fresh(dir.path(), "db").await;
    let store = Store::connect(&database.url).await.expect("store");
    let org = store.create_organisation("Shared Shop").await.expect("org");
    let key = store
        .create_api_key(&org.id, Mode::Test)
        .await
        .expect("key");
    let proofme = store
        .create_proofme(
            &org.id,
            "Age check",
            Purpose::AgeVerification,
            &["EPASS:OLDER_THAN_18"
                .parse::<Credential>()
                .expect("credential")],
        )
        .await
        .expect("proofme");
    Some(Cluster {
        dir,
        database,
        client: client(),
        org_id: org.id.to_string(),
        proofme_id: proofme.id.to_string(),
        key: key.secret,
        store,
    })
}

impl Cluster {
    /// Starts `proofme serve` over the shared database and waits for /healthz.
    async fn start(&self) -> Instance {
        self.start_with(&[]).await
    }

    /// `start` with more settings.
    async fn start_with(&self, env: &[(&str, &str)]) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_proofme"))
            .args(["serve", "--no-demo"])
            .env("DATABASE_URL", &self.database.url)
            .env("PROOFME_DATA_KEY_FILE", self.dir.path().join("data-key"))
            .env("PROOFME_ADDR", format!("127.0.0.1:{port}"))
            .env("PROOFME_ALLOW_PRIVATE_WEBHOOKS", "true")
            .env("PROOFME_RATE_LIMIT", "0")
            .env("PROOFME_WEBHOOK_LEASE_SECS", LEASE_SECS)
            // Behind one load balancer: one public address.
            .env("PROOFME_PUBLIC_URL", "https://verify.shop.example")
            .env_remove("PROOFME_IDENTIFICATION_TTL_SECS")
            .env_remove("PROOFME_WEBHOOK_RETRY_SCHEDULE")
            .env_remove("RUST_LOG")
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .envs(env.iter().copied())
            .kill_on_drop(true)
            .spawn()
            .expect("start proofme serve");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            if let Ok(resp) = self.client.get(format!("{base}/healthz")).send().await {
                if resp.status() == StatusCode::OK {
                    return Instance { child, base };
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "an instance did not answer /healthz"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn body(&self, changes: Value) -> Value {
        let mut body = json!({
            "proofmeId": self.proofme_id,
            "organisationId": self.org_id,
            "redirectUrl": REDIRECT_URL,
        });
        for (k, v) in changes.as_object().expect("object") {
            body[k] = v.clone();
        }
        body
    }

    async fn create_on(&self, on: &Instance, changes: Value) -> Value {
        let resp = self
            .client
            .post(format!("{}/v1/identification", on.base))
            .bearer_auth(&self.key)
            .json(&self.body(changes))
            .send()
            .await
            .expect("POST");
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.expect("json")
    }

    async fn get_on(&self, on: &Instance, id: &str) -> reqwest::Response {
        self.client
            .get(format!("{}/v1/identification/{id}", on.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("GET")
    }

    async fn outcome_on(&self, on: &Instance, id: &str, status: &str) -> StatusCode {
        self.client
            .post(format!("{}/v1/identification/{id}/test-outcome", on.base))
            .bearer_auth(&self.key)
            .json(&json!({ "status": status }))
            .send()
            .await
            .expect("POST test-outcome")
            .status()
    }
}

/// Waits until `done` holds, for at most `DEADLINE`.
async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "no {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_identification_created_on_one_instance_reads_the_same_on_the_other() {
    let Some(c) = cluster().await else { return };
    let (a, b) = (c.start().await, c.start().await);

    let created = c.create_on(&a, json!({"description": "From A"})).await;
    let id = created["id"].as_str().expect("id");
    let on_b = c.get_on(&b, id).await;

    assert_eq!(on_b.status(), StatusCode::OK);
    let on_b: Value = on_b.json().await.expect("json");
    assert_eq!(on_b, created);
}

#[tokio::test]
async fn a_change_on_one_instance_is_read_on_the_other_at_once() {
    let Some(c) = cluster().await else { return };
    let (a, b) = (c.start().await, c.start().await);
    let created = c.create_on(&a, json!({})).await;
    let id = created["id"].as_str().expect("id");
    // A has read it (and would have it cached, were that allowed).
    let before: Value = c.get_on(&a, id).await.json().await.expect("json");
    assert_eq!(before["statusName"], "open");

    assert_eq!(c.outcome_on(&b, id, "verified").await, StatusCode::OK);
    let after: Value = c.get_on(&a, id).await.json().await.expect("json");

    assert_eq!(after["statusName"], "verified", "A read a stale status");
}

#[tokio::test]
async fn a_key_revoked_elsewhere_stops_working_on_every_instance_at_once() {
    let Some(c) = cluster().await else { return };
    let (a, b) = (c.start().await, c.start().await);
    let created = c.create_on(&a, json!({})).await;
    let id = created["id"].as_str().expect("id");
    assert_eq!(c.get_on(&a, id).await.status(), StatusCode::OK);
    assert_eq!(c.get_on(&b, id).await.status(), StatusCode::OK);

    let key = c
        .store
        .find_api_key(&c.key)
        .await
        .expect("lookup")
        .expect("the key");
    assert!(c.store.revoke_api_key(&key.id).await.expect("revoke"));

    assert_eq!(c.get_on(&a, id).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(c.get_on(&b, id).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_status_stream_on_one_instance_follows_a_change_on_the_other() {
    let Some(c) = cluster().await else { return };
    // A re-reads an open stream's status only once an hour: a change on B
    // reaches it through the database's announcements, or not in time.
    let a = c
        .start_with(&[("PROOFME_STATUS_RECHECK_SECS", "3600")])
        .await;
    let b = c.start().await;
    let created = c.create_on(&a, json!({})).await;
    let id = created["id"].as_str().expect("id");
    let resp = c
        .client
        .get(format!("{}/{id}/events", a.base))
        .send()
        .await
        .expect("GET events");
    let mut events = EventStream::new(resp);
    let first = events.next(DEADLINE).await.expect("the current status");
    let first: Value = serde_json::from_str(&first.data).expect("json");
    assert_eq!(first["statusName"], "open");

    assert_eq!(c.outcome_on(&b, id, "verified").await, StatusCode::OK);
    let next = events.next(DEADLINE).await.expect("the change");

    let next: Value = serde_json::from_str(&next.data).expect("json");
    assert_eq!(next["statusName"], "verified");
    assert_eq!(next["final"], true);
}

#[tokio::test]
async fn concurrent_creates_with_one_key_across_instances_make_one_identification() {
    let Some(c) = cluster().await else { return };
    let instances = [c.start().await, c.start().await];
    let body = c.body(json!({"description": "Concurrent"}));

    let requests = (0..32).map(|i| {
        let (client, base, key, body) = (
            c.client.clone(),
            instances[i % 2].base.clone(),
            c.key.clone(),
            body.clone(),
        );
        async move {
            let resp = client
                .post(format!("{base}/v1/identification"))
                .bearer_auth(key)
                .header("Idempotency-Key", "one-order")
                .json(&body)
                .send()
                .await
                .expect("POST");
            let status = resp.status().as_u16();
            (status, resp.text().await.expect("body"))
        }
    });
    let responses = futures::future::join_all(requests).await;

    let mut ids = HashSet::new();
    for (status, text) in &responses {
        match status {
            201 => {
                let v: Value = serde_json::from_str(text).expect("json");
                ids.insert(v["id"].as_str().expect("id").to_owned());
            }
            409 => {}
            other => panic!("unexpected status {other}: {text}"),
        }
    }
    assert_eq!(ids.len(), 1, "every 201 carries the same id: {ids:?}");
    let list: Value = c
        .client
        .get(format!("{}/v1/identification", instances[1].base))
        .bearer_auth(&c.key)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list["count"], 1, "{list}");
}

#[tokio::test]
async fn status_changes_on_both_instances_each_send_one_webhook() {
    let Some(c) = cluster().await else { return };
    let receiver = receiver().await;
    let instances = [c.start().await, c.start().await];
    let hook = format!("{}/hook", receiver.uri());
    let mut ids = Vec::new();
    for i in 0..40 {
        let created = c
            .create_on(&instances[i % 2], json!({"webhookUrl": hook}))
            .await;
        ids.push(created["id"].as_str().expect("id").to_owned());
    }

    for (i, id) in ids.iter().enumerate() {
        // Made on the instance that did not create it.
        let status = c.outcome_on(&instances[(i + 1) % 2], id, "verified").await;
        assert_eq!(status, StatusCode::OK);
    }
    wait_until("settled outbox", async || {
        c.store.pending_webhook_count().await.expect("count") == 0
    })
    .await;

    let requests = receiver.received_requests().await.expect("recorded");
    let mut per_message: HashMap<String, usize> = HashMap::new();
    for r in &requests {
        *per_message
            .entry(header(r, "webhook-id").to_owned())
            .or_default() += 1;
    }
    assert_eq!(per_message.len(), 40, "one message per change");
    assert!(
        per_message.values().all(|n| *n == 1),
        "a message was delivered twice: {per_message:?}"
    );
}

#[tokio::test]
async fn a_delivery_cut_off_by_kill_9_is_sent_by_the_other_instance() {
    let Some(c) = cluster().await else { return };
    let receiver = receiver().await;
    // The first attempt hangs: the instance is killed while it waits.
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(600)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&receiver)
        .await;
    let mut a = c.start().await;
    let created = c
        .create_on(
            &a,
            json!({"webhookUrl": format!("{}/hook", receiver.uri())}),
        )
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(c.outcome_on(&a, &id, "verified").await, StatusCode::OK);
    wait_until("first attempt", async || {
        receiver
            .received_requests()
            .await
            .is_some_and(|r| !r.is_empty())
    })
    .await;

    a.child.kill().await.expect("kill -9");
    let _b = c.start().await;

    wait_until("delivery by the other instance", async || {
        c.store.pending_webhook_count().await.expect("count") == 0
    })
    .await;
    let requests = receiver.received_requests().await.expect("recorded");
    assert_eq!(
        requests.len(),
        2,
        "the cut-off attempt and the one that landed"
    );
    assert_eq!(
        header(&requests[0], "webhook-id"),
        header(&requests[1], "webhook-id")
    );
    let deliveries = c
        .store
        .webhook_deliveries(&proofme::domain::IdentificationId::parse(&id).expect("id"))
        .await
        .expect("deliveries");
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].state,
        proofme::store::DeliveryState::Delivered
    );
}

/// Runs `proofme serve` with `env` until it exits; (success, stderr).
async fn serve_once(env: &[(&str, &str)]) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_proofme"))
        .args(["serve", "--no-demo"])
        .env_remove("PROOFME_DATA_KEY_FILE")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .env("PROOFME_ADDR", "127.0.0.1:0")
        .current_dir(dir.path())
        .kill_on_drop(true)
        .output()
        .await
        .expect("run proofme serve");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn an_unreachable_database_server_stops_the_start_with_one_line_and_no_password() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("postgres://proofme:hunter2@127.0.0.1:{port}/proofme");
    let key = tempfile::tempdir().expect("temp dir");
    let key = key.path().join("data-key");

    let (ok, stderr) = serve_once(&[
        ("DATABASE_URL", &url),
        ("PROOFME_DATA_KEY_FILE", key.to_str().expect("path")),
    ])
    .await;

    assert!(!ok, "started without its database");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot open"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the password is in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn postgresql_without_a_data_key_file_does_not_start() {
    let (ok, stderr) =
        serve_once(&[("DATABASE_URL", "postgres://proofme@127.0.0.1:5432/proofme")]).await;

    assert!(!ok);
    assert!(stderr.contains("PROOFME_DATA_KEY_FILE"), "{stderr}");
}

/// Ends every connection to the cluster's database from outside, as a
/// database restart or failover does. Returns how many were ended.
async fn terminate_all_backends(c: &Cluster) -> i64 {
    use sqlx::Connection;
    let name = url::Url::parse(&c.database.url)
        .expect("database url")
        .path()
        .trim_start_matches('/')
        .to_owned();
    let mut admin = sqlx::PgConnection::connect(&postgres_server_url())
        .await
        .expect("connect as admin");
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()) AS t",
    )
    .bind(&name)
    .fetch_one(&mut admin)
    .await
    .expect("terminate backends");
    let _ = admin.close().await;
    ended
}

#[tokio::test]
async fn a_lost_database_connection_costs_only_the_requests_made_during_it() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let Some(c) = cluster().await else { return };
    // A hears of B's changes only through the database's announcements: its
    // listening connection must come back after it is ended.
    let a = c
        .start_with(&[("PROOFME_STATUS_RECHECK_SECS", "3600")])
        .await;
    let b = c.start().await;
    let watched = c.create_on(&a, json!({})).await;
    let watched = watched["id"].as_str().expect("id").to_owned();
    let resp = c
        .client
        .get(format!("{}/{watched}/events", a.base))
        .send()
        .await
        .expect("GET events");
    let mut events = EventStream::new(resp);
    let first = events.next(DEADLINE).await.expect("the current status");
    let first: Value = serde_json::from_str(&first.data).expect("json");
    assert_eq!(first["statusName"], "open");

    // Creates on both instances throughout; every connection is ended in the
    // middle of them.
    let stop = Arc::new(AtomicBool::new(false));
    let created = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    for (n, base) in [a.base.clone(), b.base.clone()]
        .into_iter()
        .cycle()
        .take(4)
        .enumerate()
    {
        let (client, key, body, stop, created) = (
            c.client.clone(),
            c.key.clone(),
            c.body(json!({ "description": format!("Load {n}") })),
            stop.clone(),
            created.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut answers: Vec<(StatusCode, Option<String>, Option<String>)> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let resp = client
                    .post(format!("{base}/v1/identification"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                    .expect("POST");
                let status = resp.status();
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let id = if status == StatusCode::CREATED {
                    created.fetch_add(1, Ordering::Relaxed);
                    let v: Value = resp.json().await.expect("json");
                    v["id"].as_str().map(str::to_owned)
                } else {
                    None
                };
                answers.push((status, retry_after, id));
            }
            answers
        }));
    }
    wait_until("creates before the fault", async || {
        created.load(Ordering::Relaxed) > 20
    })
    .await;
    let ended = terminate_all_backends(&c).await;
    assert!(ended > 0, "no connection to end");

    // Both instances serve creates again by themselves.
    for on in [&a, &b] {
        wait_until("a create after the fault", async || {
            c.client
                .post(format!("{}/v1/identification", on.base))
                .bearer_auth(&c.key)
                .json(&c.body(json!({})))
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::CREATED)
        })
        .await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut answers = Vec::new();
    for task in load {
        answers.extend(task.await.expect("load task"));
    }

    // During the fault: 503 with Retry-After, never anything else.
    for (status, retry_after, _) in &answers {
        assert!(
            *status == StatusCode::CREATED || *status == StatusCode::SERVICE_UNAVAILABLE,
            "a create answered {status}"
        );
        if *status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(retry_after.is_some(), "a 503 without Retry-After");
        }
    }
    let refused = answers
        .iter()
        .filter(|(s, ..)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    eprintln!(
        "{} creates during the test, {refused} refused with 503, {ended} connections ended",
        answers.len()
    );
    // Nothing acknowledged is lost.
    for (_, _, id) in &answers {
        if let Some(id) = id {
            assert_eq!(c.get_on(&b, id).await.status(), StatusCode::OK, "{id} lost");
        }
    }

    // A's stream still follows a change made on B.
    assert_eq!(c.outcome_on(&b, &watched, "verified").await, StatusCode::OK);
    let next = events.next(DEADLINE).await.expect("the change");
    let next: Value = serde_json::from_str(&next.data).expect("json");
    assert_eq!(next["statusName"], "verified");
}
