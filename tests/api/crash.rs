//! Recovery from `kill -9` (DESIGN.md section 5: deliveries are rows that
//! survive a crash), with the real binary.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;
use tokio::process::{Child, Command};

/// A port nothing listens on (bound, then released).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

struct Binary {
    dir: TempDir,
    database_url: String,
    _database: TestDatabase,
}

impl Binary {
    async fn new() -> Binary {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = TestDatabase::fresh(dir.path(), "db").await;
        Binary {
            database_url: database.url.clone(),
            _database: database,
            dir,
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_proofme"));
        if on_postgres() {
            // A restarted instance cannot tell its own cut-off claims from
            // another instance's live ones, so it waits out their lease:
            // the shortest one allowed.
            cmd.env("PROOFME_DATA_KEY_FILE", self.dir.path().join("data-key"))
                .env("PROOFME_WEBHOOK_LEASE_SECS", "16");
        }
        cmd.env("DATABASE_URL", &self.database_url)
            .env("PROOFME_ALLOW_PRIVATE_WEBHOOKS", "true")
            .env("PROOFME_WEBHOOK_RETRY_SCHEDULE", "1,1,1")
            .env("PROOFME_RATE_LIMIT", "0")
            .env_remove("PROOFME_PUBLIC_URL")
            .env_remove("PROOFME_IDENTIFICATION_TTL_SECS")
            .env_remove("RUST_LOG")
            .current_dir(self.dir.path())
            .kill_on_drop(true);
        cmd
    }

    /// Runs an `admin` command and returns the JSON object it prints.
    async fn admin(&self, args: &[&str]) -> Value {
        let out = self
            .command()
            .arg("admin")
            .args(args)
            .env_remove("PROOFME_ADDR")
            .output()
            .await
            .expect("run proofme admin");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "admin {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("admin {args:?} printed no JSON ({e}): {stdout}"))
    }

    /// Starts `proofme serve --no-demo` on a fresh port and waits for /healthz.
    async fn serve(&self, client: &crate::helpers::Client) -> (Child, String) {
        let port = free_port();
        let child = self
            .command()
            .args(["serve", "--no-demo"])
            .env("PROOFME_ADDR", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start proofme serve");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            if let Ok(resp) = client.get(format!("{base}/healthz")).send().await {
                if resp.status() == StatusCode::OK {
                    return (child, base);
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "proofme serve did not answer /healthz within {DEADLINE:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

struct Api {
    client: crate::helpers::Client,
    base: String,
    key: String,
    body: Value,
}

impl Api {
    async fn create(&self, changes: Value) -> reqwest_middleware::Result<reqwest::Response> {
        let mut body = self.body.clone();
        for (k, v) in changes.as_object().expect("object") {
            body[k] = v.clone();
        }
        self.client
            .post(format!("{}/v1/identification", self.base))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("GET")
    }
}

/// An organisation with a test key and an age-check proofme, made with the
/// admin commands.
struct Tenant {
    org_id: String,
    key: String,
    proofme_id: String,
}

impl Binary {
    async fn tenant(&self) -> Tenant {
        let org = self
            .admin(&["create-organisation", "--name", "Crash Shop"])
            .await;
        let org_id = org["id"].as_str().expect("org id").to_owned();
        let key = self
            .admin(&[
                "create-api-key",
                "--organisation",
                &org_id,
                "--mode",
                "test",
            ])
            .await;
        let proofme = self
            .admin(&[
                "create-proofme",
                "--organisation",
                &org_id,
                "--name",
                "Age check",
                "--purpose",
                "AGE_VERIFICATION",
                "--credential",
                "EPASS:OLDER_THAN_18",
            ])
            .await;
        Tenant {
            org_id,
            key: key["key"].as_str().expect("key").to_owned(),
            proofme_id: proofme["id"].as_str().expect("proofme id").to_owned(),
        }
    }
}

fn http_client() -> crate::helpers::Client {
    crate::helpers::client()
}

/// Polls `done` until it holds; panics after `DEADLINE`.
async fn wait_until(done: impl Fn() -> bool, what: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "no {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// SQLite's own check of the file. A PostgreSQL server survives its clients'
/// kills and keeps its own checks: there, that it still answers.
async fn integrity_check(database_url: &str) -> String {
    if on_postgres() {
        let mut conn = sqlx::PgConnection::connect(database_url)
            .await
            .expect("connect to the database");
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&mut conn)
            .await
            .expect("SELECT 1");
        conn.close().await.expect("close");
        return if one == 1 { "ok" } else { "no answer" }.to_owned();
    }
    let mut conn = sqlx::SqliteConnection::connect(database_url)
        .await
        .expect("open the database file");
    let result: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .expect("integrity_check");
    conn.close().await.expect("close");
    result
}

#[tokio::test]
async fn after_kill_9_nothing_acknowledged_is_lost_and_the_webhook_still_arrives() {
    let bin = Binary::new().await;
    let client = http_client();
    let tenant = bin.tenant().await;
    let org_id = tenant.org_id.clone();
    // Nothing listens here until after the crash.
    let receiver_port = free_port();
    let webhook_url = format!("http://127.0.0.1:{receiver_port}/hook");

    let (mut first, base) = bin.serve(&client).await;
    let api = Arc::new(Api {
        client: client.clone(),
        base,
        key: tenant.key.clone(),
        body: json!({
            "proofmeId": tenant.proofme_id,
            "organisationId": org_id,
            "redirectUrl": REDIRECT_URL,
        }),
    });
    let hooked = created(
        api.create(json!({ "webhookUrl": webhook_url }))
            .await
            .unwrap(),
    )
    .await;
    let hooked_id = hooked["id"].as_str().unwrap().to_owned();
    let resp = api
        .client
        .post(format!(
            "{}/v1/identification/{hooked_id}/test-outcome",
            api.base
        ))
        .bearer_auth(&api.key)
        .json(&json!({ "status": "verified" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // Wait for the first (failed) attempt to be recorded, so the kill cannot
    // land inside an attempt (a claimed row waits out its lease).
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let rows: Value = api
            .get(&format!("/v1/identification/{hooked_id}/webhooks"))
            .await
            .json()
            .await
            .unwrap();
        let attempts = rows["rows"][0]["attempts"].as_array().map_or(0, Vec::len);
        if attempts >= 1 {
            assert_eq!(rows["rows"][0]["state"], "pending", "{rows}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no attempt: {rows}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Identifications being created when the process dies.
    let acknowledged = Arc::new(Mutex::new(vec![hooked_id.clone()]));
    let mut writers = Vec::new();
    for _ in 0..4 {
        let (api, acknowledged) = (api.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            while let Ok(resp) = api
                .create(json!({ "description": "before the crash" }))
                .await
            {
                if resp.status() != StatusCode::CREATED {
                    break;
                }
                let Ok(body) = resp.json::<Value>().await else {
                    break;
                };
                let id = body["id"].as_str().unwrap().to_owned();
                acknowledged.lock().unwrap().push(id);
            }
        }));
    }
    // Kill once creates are being answered, whenever that is.
    wait_until(
        || acknowledged.lock().unwrap().len() > 5,
        "creates before the kill",
    )
    .await;
    first.kill().await.expect("SIGKILL");
    for w in writers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 1,
        "no identification created before the kill"
    );
    println!(
        "{} identifications acknowledged before the kill",
        acknowledged.len()
    );

    assert_eq!(integrity_check(&bin.database_url).await, "ok");

    let receiver_listener = std::net::TcpListener::bind(("127.0.0.1", receiver_port))
        .expect("bind the receiver's port");
    let receiver = receiver_on(receiver_listener).await;
    let (_second, base) = bin.serve(&client).await;
    let api = Api {
        base,
        ..Arc::try_unwrap(api).unwrap_or_else(|_| panic!("api still shared"))
    };

    let requests = wait_for_requests(&receiver, 1).await;
    assert_eq!(
        requests[0].body_json::<Value>().unwrap(),
        json!({ "id": hooked_id })
    );
    for id in &acknowledged {
        let resp = api.get(&format!("/v1/identification/{id}")).await;
        assert_eq!(resp.status(), StatusCode::OK, "{id} was lost in the crash");
    }
    let list: Value = api
        .get("/v1/identification?limit=250")
        .await
        .json()
        .await
        .unwrap();
    assert!(list["count"].as_u64().unwrap() >= acknowledged.len() as u64);
    assert_eq!(integrity_check(&bin.database_url).await, "ok");
}

/// What a writer was told: ids answered 201, and status changes answered 200.
#[derive(Default)]
struct Acknowledged {
    created: Vec<String>,
    changes: Vec<(String, &'static str)>,
}

async fn post_outcome(api: &Api, id: &str, status: &str) -> bool {
    api.client
        .post(format!("{}/v1/identification/{id}/test-outcome", api.base))
        .bearer_auth(&api.key)
        .json(&json!({ "status": status }))
        .send()
        .await
        .is_ok_and(|r| r.status() == StatusCode::OK)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "long: run by scripts/test's long step"]
async fn twenty_random_kills_lose_nothing_acknowledged_and_every_webhook_arrives() {
    const ROUNDS: u64 = 20;
    let bin = Binary::new().await;
    let client = http_client();
    let tenant = bin.tenant().await;
    let org_id = tenant.org_id.clone();
    let receiver = receiver().await;
    let body = json!({
        "proofmeId": tenant.proofme_id,
        "organisationId": org_id,
        "redirectUrl": REDIRECT_URL,
        "webhookUrl": format!("{}/hook", receiver.uri()),
    });
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));

    for round in 0..ROUNDS {
        let (mut child, base) = bin.serve(&client).await;
        let api = Arc::new(Api {
            client: client.clone(),
            base,
            key: tenant.key.clone(),
            body: body.clone(),
        });
        let mut writers = Vec::new();
        for w in 0..4u64 {
            let (api, acknowledged) = (api.clone(), acknowledged.clone());
            writers.push(tokio::spawn(async move {
                let finals = ["verified", "failed", "canceled", "expired"];
                for n in 0.. {
                    let Ok(resp) = api
                        .create(json!({ "description": format!("round {round}") }))
                        .await
                    else {
                        return;
                    };
                    if resp.status() != StatusCode::CREATED {
                        return;
                    }
                    let Ok(created) = resp.json::<Value>().await else {
                        return;
                    };
                    let id = created["id"].as_str().expect("id").to_owned();
                    acknowledged.lock().expect("lock").created.push(id.clone());
                    if !post_outcome(&api, &id, "pending").await {
                        return;
                    }
                    acknowledged
                        .lock()
                        .expect("lock")
                        .changes
                        .push((id.clone(), "pending"));
                    let last = finals[((round + w + n) % 4) as usize];
                    if !post_outcome(&api, &id, last).await {
                        return;
                    }
                    acknowledged.lock().expect("lock").changes.push((id, last));
                }
            }));
        }
        // Once this round's writers have work acknowledged (however long
        // that takes), a different moment each round, spread over 0..400 ms.
        let before = acknowledged.lock().expect("lock").created.len();
        wait_until(
            || acknowledged.lock().expect("lock").created.len() >= before + 3,
            "creates in this round",
        )
        .await;
        let delay = (round * 7919 + 13) % 400;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        child.kill().await.expect("SIGKILL");
        for w in writers {
            w.await.expect("writer");
        }
        assert_eq!(
            integrity_check(&bin.database_url).await,
            "ok",
            "after round {round}"
        );
    }

    let (_server, base) = bin.serve(&client).await;
    let api = Api {
        client: client.clone(),
        base,
        key: tenant.key.clone(),
        body,
    };
    let acknowledged = std::mem::take(&mut *acknowledged.lock().expect("lock"));
    assert!(
        acknowledged.created.len() > 40,
        "too few creates to mean anything: {}",
        acknowledged.created.len()
    );

    for id in &acknowledged.created {
        let resp = api.get(&format!("/v1/identification/{id}")).await;
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "{id} was answered 201 and then lost"
        );
    }
    for (id, status) in &acknowledged.changes {
        let history: Value = api
            .get(&format!("/v1/identification/{id}/history"))
            .await
            .json()
            .await
            .expect("json");
        let names: Vec<&str> = history["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .filter_map(|r| r["statusName"].as_str())
            .collect();
        assert!(
            names.contains(status),
            "{id}: acknowledged {status} is missing from {names:?}"
        );
        if *status != "pending" {
            let now: Value = api
                .get(&format!("/v1/identification/{id}"))
                .await
                .json()
                .await
                .expect("json");
            assert_eq!(
                now["statusName"], *status,
                "{id}: an acknowledged final status changed"
            );
        }
    }

    // Every outbox row is delivered, including any cut off mid-attempt.
    let mut expected = std::collections::HashSet::new();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    for id in acknowledged
        .created
        .iter()
        .filter(|id| acknowledged.changes.iter().any(|(c, _)| c == *id))
    {
        loop {
            let d: Value = api
                .get(&format!("/v1/identification/{id}/webhooks"))
                .await
                .json()
                .await
                .expect("json");
            let rows = d["rows"].as_array().expect("rows");
            if rows.iter().all(|r| r["state"] == "delivered") {
                expected.extend(
                    rows.iter()
                        .filter_map(|r| r["id"].as_str().map(str::to_owned)),
                );
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{id}: webhooks not delivered: {d}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let received: std::collections::HashSet<String> = received_by(&receiver)
        .await
        .iter()
        .map(|r| header(r, "webhook-id").to_owned())
        .collect();
    for message in &expected {
        assert!(
            received.contains(message),
            "webhook {message} was marked delivered but never arrived"
        );
    }
    assert_eq!(integrity_check(&bin.database_url).await, "ok");
    println!(
        "{ROUNDS} kills: {} creates and {} status changes acknowledged, {} webhooks delivered",
        acknowledged.created.len(),
        acknowledged.changes.len(),
        expected.len()
    );
}

#[tokio::test]
async fn sigterm_ends_open_status_streams_and_exits_cleanly() {
    let bin = Binary::new().await;
    let client = http_client();
    let tenant = bin.tenant().await;
    let org_id = tenant.org_id.clone();
    let (mut child, base) = bin.serve(&client).await;
    let api = Api {
        client: client.clone(),
        base: base.clone(),
        key: tenant.key.clone(),
        body: json!({"proofmeId": tenant.proofme_id, "organisationId": org_id, "redirectUrl": REDIRECT_URL}),
    };
    let created = created(api.create(json!({})).await.expect("create")).await;
    let id = created["id"].as_str().expect("id");
    let mut stream = client
        .get(format!("{base}/{id}/events"))
        .send()
        .await
        .expect("stream");
    let first = stream.chunk().await.expect("first event").expect("bytes");
    assert!(first.starts_with(b"event: status"), "{first:?}");

    let pid = child.id().expect("pid").to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill");
    assert!(killed.success());

    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .expect("the server did not stop after SIGTERM")
        .expect("wait");
    assert!(status.success(), "exit status {status:?}");
    let rest = tokio::time::timeout(DEADLINE, stream.chunk())
        .await
        .expect("the stream ended");
    assert!(
        matches!(rest, Ok(None) | Err(_)),
        "the stream kept going: {rest:?}"
    );
    assert_eq!(integrity_check(&bin.database_url).await, "ok");
}
