//! Storage faults cost only the requests made during them, with the real
//! binary: a full disk, and a write lock held by another process. Those
//! requests get 503 with `Retry-After`; `/readyz` answers 503 meanwhile;
//! nothing acknowledged is lost; and the service recovers by itself once the
//! fault is gone, without a restart. The tests print how long the first 503
//! took and how long recovery took (as information, not as assertions).

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A small filesystem of its own for the database: a tmpfs, mounted by the
/// test (which needs root, as in CI). Unmounted when dropped.
struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    /// `None` when this process may not mount.
    fn mount(size: &str) -> Option<Tmpfs> {
        if !rustix::process::geteuid().is_root() {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn resize(&self, size: &str) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.dir.path())
            .status()
            .expect("run mount");
        assert!(status.success(), "remount to {size} failed");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: the server may still be letting go of its files.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// One create's answer, read in full.
struct Answer {
    status: StatusCode,
    retry_after: Option<String>,
    content_type: String,
    body: Value,
}

async fn create(http: &Client, server: &ServedBinary, n: usize) -> Answer {
    let resp = http
        .post(server.url("/v1/identification"))
        .bearer_auth(&server.api_key)
        .json(&json!({
            "proofmeId": server.proofme_id,
            "organisationId": server.org_id,
            "redirectUrl": REDIRECT_URL,
            "description": format!("Order {n} with a description that takes some room on the disk"),
            "metadata": {"order": n, "note": "x".repeat(400)},
        }))
        .send()
        .await
        .expect("POST /v1/identification");
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content_type = content_type(&resp);
    let body = resp.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        retry_after,
        content_type,
        body,
    }
}

/// Four creates at once, so that they share group commits.
async fn create_four(http: &Client, server: &ServedBinary, n: usize) -> Vec<Answer> {
    futures::future::join_all((0..4).map(|i| create(http, server, n + i))).await
}

/// A 503 as a storage fault must look: problem+json, a positive whole
/// number of seconds in `Retry-After`.
fn assert_unavailable(answer: &Answer, server: &ServedBinary) {
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "body {}; log:\n{}",
        answer.body,
        server.log()
    );
    assert_eq!(answer.content_type, "application/problem+json");
    assert_eq!(answer.body["status"], 503);
    let secs: u64 = answer
        .retry_after
        .as_deref()
        .expect("Retry-After on a 503")
        .parse()
        .expect("Retry-After in seconds");
    assert!(secs >= 1, "Retry-After {secs}");
}

async fn readyz(http: &Client, server: &ServedBinary) -> (StatusCode, String) {
    let resp = http
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("GET /readyz");
    let status = resp.status();
    (status, resp.text().await.unwrap_or_default())
}

/// Polls `/readyz` until it answers `want`; returns the body.
async fn wait_for_readyz(http: &Client, server: &ServedBinary, want: StatusCode) -> String {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let (status, body) = readyz(http, server).await;
        if status == want {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz stayed {status} ({body}), not {want}; log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates until one is acknowledged again (each answer 201 or 503); returns
/// its id.
async fn wait_for_a_create(http: &Client, server: &ServedBinary, n: usize) -> String {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let answer = create(http, server, n).await;
        if answer.status == StatusCode::CREATED {
            return answer.body["id"].as_str().expect("id").to_owned();
        }
        assert_unavailable(&answer, server);
        assert!(
            Instant::now() < deadline,
            "creates still fail; log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn assert_all_readable(http: &Client, server: &ServedBinary, ids: &[String]) {
    for id in ids {
        let resp = http
            .get(server.url(&format!("/v1/identification/{id}")))
            .bearer_auth(&server.api_key)
            .send()
            .await
            .expect("GET identification");
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "an acknowledged create is missing"
        );
    }
}

/// Where the database runs out of room, and how room comes back.
enum Room {
    /// A 3 MB filesystem of its own, enlarged to 50 MB.
    Tmpfs(Tmpfs),
    /// A database size limit (`PROOFME_MAX_DATABASE_MB`, SQLite's
    /// `max_page_count`) part of which a filler table takes; dropping the
    /// table frees its pages for the service. Needs no privileges.
    SizeLimit,
}

/// The size limit in the `SizeLimit` runs, and the filler's share of it.
const LIMIT_MB: &str = "3";
const FILLER_BYTES: usize = 1024 * 1024;

async fn second_connection(server: &ServedBinary) -> sqlx::SqliteConnection {
    let options =
        sqlx::sqlite::SqliteConnectOptions::from_str(&server.database_url).expect("database url");
    sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("second connection")
}

impl Room {
    async fn serve(&self) -> ServedBinary {
        match self {
            Room::Tmpfs(disk) => serve_binary_in(Some(disk.path()), &[], None).await,
            Room::SizeLimit => {
                let server = serve_binary(&[("PROOFME_MAX_DATABASE_MB", LIMIT_MB)], None).await;
                let mut db = second_connection(&server).await;
                sqlx::query("CREATE TABLE filler (b BLOB)")
                    .execute(&mut db)
                    .await
                    .expect("create filler");
                sqlx::query("INSERT INTO filler VALUES (zeroblob(?))")
                    .bind(FILLER_BYTES as i64)
                    .execute(&mut db)
                    .await
                    .expect("fill");
                db.close().await.expect("close");
                server
            }
        }
    }

    async fn free(&self, server: &ServedBinary) {
        match self {
            Room::Tmpfs(disk) => disk.resize("50m"),
            Room::SizeLimit => {
                let mut db = second_connection(server).await;
                sqlx::query("DROP TABLE filler")
                    .execute(&mut db)
                    .await
                    .expect("drop filler");
                db.close().await.expect("close");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_costs_only_the_creates_made_while_it_is_full() {
    match Tmpfs::mount("3m") {
        Some(disk) => {
            let room = Room::Tmpfs(disk);
            let server = room.serve().await;
            // 3 MB is far below the default minimum of 256 MB free.
            let (status, body) = readyz(&client(), &server).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert!(body.starts_with("ready\nwarning: low disk space"), "{body}");
            server
                .wait_for_log("low disk space", Duration::from_secs(60))
                .await;
            no_create_lost_to_a_full_disk(&room, server, "a full 3 MB tmpfs").await;
        }
        None => {
            eprintln!("not root, so no tmpfs: a database size limit stands in for the disk");
            let server = Room::SizeLimit.serve().await;
            no_create_lost_to_a_full_disk(&Room::SizeLimit, server, "a full database").await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_at_its_size_limit_costs_only_the_creates_made_meanwhile() {
    let server = Room::SizeLimit.serve().await;
    no_create_lost_to_a_full_disk(&Room::SizeLimit, server, "a database at its size limit").await;
}

/// Fills the room with creates; then, while it is full, creates get 503
/// and `/readyz` 503; once room comes back both recover by themselves; and
/// every acknowledged create is there.
async fn no_create_lost_to_a_full_disk(room: &Room, server: ServedBinary, what: &str) {
    let http = client();
    let mut acknowledged: Vec<String> = Vec::new();
    let filling = Instant::now();
    let mut n = 0;
    let first_refusal = 'fill: loop {
        let sent = Instant::now();
        for answer in create_four(&http, &server, n).await {
            match answer.status {
                StatusCode::CREATED => {
                    acknowledged.push(answer.body["id"].as_str().expect("id").to_owned())
                }
                _ => {
                    assert_unavailable(&answer, &server);
                    break 'fill sent.elapsed();
                }
            }
        }
        n += 4;
        assert!(n < 20_000, "it never filled up; log:\n{}", server.log());
    };
    eprintln!(
        "{what}: full after {} acknowledged creates ({:?} of filling); \
         the first refused create was answered 503 in {first_refusal:?}",
        acknowledged.len(),
        filling.elapsed()
    );

    // While it is full: only 201 or 503, and readiness says so. A rolled-back
    // batch or a checkpoint can hand back a few pages, so a create may
    // succeed now and then, and readiness rightly follows it; more creates
    // use that room up, so keep creating until readiness reports the outage.
    let deadline = Instant::now() + DEADLINE;
    let body = loop {
        n += 4;
        for answer in create_four(&http, &server, n).await {
            if answer.status == StatusCode::CREATED {
                acknowledged.push(answer.body["id"].as_str().expect("id").to_owned());
            } else {
                assert_unavailable(&answer, &server);
            }
        }
        let (status, body) = readyz(&http, &server).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            break body;
        }
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            Instant::now() < deadline,
            "/readyz never reported the full disk; log:\n{}",
            server.log()
        );
    };
    assert!(
        body.starts_with("database unavailable: disk full"),
        "{body}"
    );
    assert!(server.log().contains("disk full"), "{}", server.log());

    // Room comes back: the service follows by itself.
    room.free(&server).await;
    let freed = Instant::now();
    acknowledged.push(wait_for_a_create(&http, &server, n + 1).await);
    let create_again = freed.elapsed();
    let body = wait_for_readyz(&http, &server, StatusCode::OK).await;
    let ready_again = freed.elapsed();
    assert!(body.starts_with("ready"), "{body}");
    eprintln!(
        "{what}: after room came back, the first create was acknowledged after \
         {create_again:?}, /readyz answered 200 after {ready_again:?}"
    );
    for answer in create_four(&http, &server, n + 2).await {
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        acknowledged.push(answer.body["id"].as_str().expect("id").to_owned());
    }

    assert_all_readable(&http, &server, &acknowledged).await;
    assert!(
        !server.log().contains("transaction depth"),
        "{}",
        server.log()
    );
}

/// The rows of an identification's status history.
async fn history(http: &Client, server: &ServedBinary, id: &str) -> Vec<Value> {
    let body: Value = http
        .get(server.url(&format!("/v1/identification/{id}/history")))
        .bearer_auth(&server.api_key)
        .send()
        .await
        .expect("GET history")
        .json()
        .await
        .expect("history JSON");
    body["rows"].as_array().expect("rows").clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_lock_held_elsewhere_costs_only_the_requests_made_meanwhile() {
    // Identifications expire after 2 s, so that the expiry sweep meets the
    // lock too.
    let server = serve_binary(
        &[
            ("PROOFME_BUSY_TIMEOUT_MS", "300"),
            ("PROOFME_IDENTIFICATION_TTL_SECS", "2"),
        ],
        None,
    )
    .await;
    let http = client();
    let mut acknowledged = Vec::new();
    acknowledged.push(wait_for_a_create(&http, &server, 0).await);
    wait_for_readyz(&http, &server, StatusCode::OK).await;

    // Another process takes the write lock and keeps it.
    let mut holder = second_connection(&server).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .expect("take the write lock");
    let locked = Instant::now();

    let answer = create(&http, &server, 1).await;
    let first_503 = locked.elapsed();
    assert_unavailable(&answer, &server);
    // Creates that queue up behind a batch waiting for the lock are
    // answered with it, not after another wait of their own.
    let sent = Instant::now();
    let (http_ref, server_ref) = (&http, &server);
    let answers = futures::future::join_all((0..8).map(|i| async move {
        let answer = create(http_ref, server_ref, 10 + i).await;
        (answer, sent.elapsed())
    }))
    .await;
    let slowest = answers
        .iter()
        .map(|(_, took)| *took)
        .max()
        .unwrap_or_default();
    for (answer, _) in &answers {
        assert_unavailable(answer, &server);
    }
    let body = wait_for_readyz(&http, &server, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(
        body.starts_with("database unavailable: database locked"),
        "{body}"
    );
    // Reads do not need the lock.
    assert_all_readable(&http, &server, &acknowledged).await;
    // MyPage says to come back soon.
    let resp = http
        .post(server.url(&format!("/{}/cancel", acknowledged[0])))
        .header(reqwest::header::CONTENT_TYPE, FORM)
        .body("")
        .send()
        .await
        .expect("POST cancel");
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().contains_key("retry-after"));
    assert!(content_type(&resp).starts_with("text/html"));
    let page = Html::parse(&resp.text().await.expect("page"));
    assert!(
        page.text().contains("Temporarily unavailable"),
        "{}",
        page.text()
    );
    // The expiry sweep meets the lock once the first identification is due
    // (unless a slow start let it expire before the lock was taken).
    let sweep_met_the_lock = history(&http, &server, &acknowledged[0]).await.len() == 1;
    if sweep_met_the_lock {
        server.wait_for_log("background job failed", DEADLINE).await;
    } else {
        eprintln!("the identification expired before the lock was taken");
    }

    sqlx::query("ROLLBACK")
        .execute(&mut holder)
        .await
        .expect("release the write lock");
    let released = Instant::now();
    acknowledged.push(wait_for_a_create(&http, &server, 2).await);
    let create_again = released.elapsed();
    wait_for_readyz(&http, &server, StatusCode::OK).await;
    let ready_again = released.elapsed();
    eprintln!(
        "write lock held elsewhere (busy timeout 300 ms): first 503 after {first_503:?}, \
         the slowest of 8 creates at once answered 503 after {slowest:?}; after release, first create acknowledged after {create_again:?}, \
         /readyz 200 after {ready_again:?}"
    );
    assert_all_readable(&http, &server, &acknowledged).await;

    // The sweep carried on: the expiry is recorded after all.
    let deadline = Instant::now() + DEADLINE;
    while history(&http, &server, &acknowledged[0]).await.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the expiry was never recorded; log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if sweep_met_the_lock {
        server
            .wait_for_log("background job works again", DEADLINE)
            .await;
    }
    holder.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallet_that_meets_a_held_write_lock_is_asked_to_come_back() {
    let server = serve_binary(&[("PROOFME_BUSY_TIMEOUT_MS", "300")], None).await;
    let http = client();
    let id = wait_for_a_create(&http, &server, 0).await;
    let fetch_request = || async {
        http.get(server.url(&format!("/oid4vp/request/{id}")))
            .send()
            .await
            .expect("GET request object")
    };

    let mut holder = second_connection(&server).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .expect("take the write lock");
    let resp = fetch_request().await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().contains_key("retry-after"));
    let body: Value = resp.json().await.expect("OAuth error JSON");
    assert_eq!(body["error"], "temporarily_unavailable");

    sqlx::query("ROLLBACK")
        .execute(&mut holder)
        .await
        .expect("release the write lock");
    let resp = fetch_request().await;
    assert_eq!(resp.status(), StatusCode::OK, "log:\n{}", server.log());
    holder.close().await.expect("close");
}

/// Writes zeros into a file on `dir` until the filesystem refuses more, so
/// that not one byte is left free there; returns the file, to delete.
fn take_every_free_byte(dir: &Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("ballast");
    let mut file = std::fs::File::create(&path).expect("create ballast");
    let chunk = vec![0u8; 4096];
    // A full disk ends the loop; a page at a time, then byte by byte.
    while file.write_all(&chunk).is_ok() {}
    while file.write_all(&[0]).is_ok() {}
    let _ = file.sync_all();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_unavailable_while_creates_fail_for_a_full_disk_and_ready_once_they_would_not() {
    let Some(disk) = Tmpfs::mount("3m") else {
        eprintln!("not root, so no tmpfs to fill: skipped");
        return;
    };
    let server = serve_binary_in(Some(disk.path()), &[], None).await;
    let http = client();
    let mut acknowledged = vec![wait_for_a_create(&http, &server, 0).await];
    wait_for_readyz(&http, &server, StatusCode::OK).await;

    // Something else takes every free byte of the filesystem.
    let ballast = take_every_free_byte(disk.path());
    let mut n = 1;
    loop {
        let answer = create(&http, &server, n).await;
        if answer.status == StatusCode::CREATED {
            acknowledged.push(answer.body["id"].as_str().expect("id").to_owned());
        } else {
            assert_unavailable(&answer, &server);
            break;
        }
        n += 1;
        assert!(n < 1_000, "creates never failed; log:\n{}", server.log());
    }

    // Creates fail for lack of space: readiness says so, every time it is
    // asked, however small its own write would be.
    for _ in 0..3 {
        let (status, body) = readyz(&http, &server).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(
            body.starts_with("database unavailable: disk full"),
            "{body}"
        );
    }

    // Space comes back; with no create to show it, readiness sees it.
    std::fs::remove_file(&ballast).expect("remove ballast");
    let freed = Instant::now();
    let body = wait_for_readyz(&http, &server, StatusCode::OK).await;
    eprintln!(
        "a filesystem filled by another file: /readyz answered 200 {:?} after space came back",
        freed.elapsed()
    );
    assert!(body.starts_with("ready"), "{body}");
    let answer = create(&http, &server, n + 1).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    acknowledged.push(answer.body["id"].as_str().expect("id").to_owned());
    assert_all_readable(&http, &server, &acknowledged).await;
}
