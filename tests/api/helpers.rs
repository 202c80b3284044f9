//! `spawn_app()`: a real server on 127.0.0.1:0 over a fresh database, with an
//! organisation, a test API key and a proofme ready to use.
//!
//! The database is a fresh SQLite file, or with `PROOFME_TEST_BACKEND=postgres`
//! a fresh PostgreSQL database (created for the test and dropped after it) on
//! the server `TEST_DATABASE_URL` names (default: PostgreSQL on 127.0.0.1 as
//! user postgres).

#![allow(dead_code)]

use proofme::config::Config;
use proofme::domain::{Clock, Credential, Mode, Purpose};
use proofme::store::Store;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use reqwest::{Response, StatusCode};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Value, json};
use sqlx::Connection;
use std::fmt;
use std::time::Duration;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
pub use wiremock::{Mock, MockServer, Request, ResponseTemplate};

pub const FORM: &str = "application/x-www-form-urlencoded";
pub const REDIRECT_URL: &str = "https://your-application.example.org/identification/12345/";
pub const WEBHOOK_URL: &str = "https://your-application.example.org/webhook/";
/// How long a test waits for a state that should come about: generous, as the
/// machine may be busy with other work. Only a failing test waits this long.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub address: String,
    pub client: Client,
    pub store: Store,
    pub config: Config,
    pub database_url: String,
    pub org_id: String,
    /// The secret (`test_…`) of a test-mode key of `org_id`.
    pub api_key: String,
    /// The public id (`key_…`) of `api_key`.
    pub api_key_id: String,
    /// A proofme of `org_id` (EPASS:OLDER_THAN_18, AGE_VERIFICATION).
    pub proofme_id: String,
    /// The organisation's name, as MyPage shows it.
    pub org_name: String,
    /// The organisation's Standard Webhooks secret, `whsec_<base64>`.
    pub webhook_secret: String,
    /// The running server's state, for what only the process can see or
    /// hold (its password-check slots).
    pub state: proofme::AppState,
    /// The app's clock: tests move it on past a deadline instead of waiting.
    pub clock: Clock,
    server: Option<RunningServer>,
    _database: TestDatabase,
    _dir: TempDir,
}

/// Whether the tests run on PostgreSQL (see the module documentation).
pub fn on_postgres() -> bool {
    std::env::var("PROOFME_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The PostgreSQL server the tests use, as a URL of a database that exists.
pub fn postgres_server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database for one test: a SQLite file in `dir`, or a PostgreSQL database
/// of its own, dropped when this is.
pub struct TestDatabase {
    pub url: String,
    /// The server and the name to drop (PostgreSQL only).
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A fresh, empty database. `dir` holds a SQLite file (`name`).
    pub async fn fresh(dir: &std::path::Path, name: &str) -> TestDatabase {
        if !on_postgres() {
            return TestDatabase {
                url: format!("sqlite://{}/{name}", dir.display()),
                postgres: None,
            };
        }
        let server = postgres_server_url();
        let db_name = format!("proofme_test_{}", uuid_like());
        let mut admin = sqlx::PgConnection::connect(&server)
            .await
            .expect("connect to the PostgreSQL test server");
        sqlx::query(&format!("CREATE DATABASE \"{db_name}\""))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let _ = admin.close().await;
        let mut url = url::Url::parse(&server).expect("TEST_DATABASE_URL");
        url.set_path(&format!("/{db_name}"));
        TestDatabase {
            url: url.to_string(),
            postgres: Some((server, db_name)),
        }
    }

    /// Where a data key file lives for this database: beside the SQLite file
    /// by default; PostgreSQL needs one named (in `dir`).
    pub fn configure(&self, config: &mut Config, dir: &std::path::Path) {
        if self.postgres.is_some() {
            config.data_key_file = Some(dir.join("data-key"));
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        // Dropped from inside the test's runtime: on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&server).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut admin)
                            .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// 24 random lowercase hex digits: unique enough for a database name.
fn uuid_like() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..24)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// A second organisation with its own key and proofme, for isolation tests.
pub struct OtherOrganisation {
    pub org_id: String,
    pub api_key: String,
    pub proofme_id: String,
    /// `whsec_<base64>`.
    pub webhook_secret: String,
}

struct RunningServer {
    shutdown: oneshot::Sender<()>,
    handle: JoinHandle<std::io::Result<()>>,
}

/// The test client: every `/v1` response it receives is checked against
/// the OpenAPI document (see `contract`), so a drift fails the test.
pub type Client = reqwest_middleware::ClientWithMiddleware;

pub fn client() -> Client {
    checked(
        reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("reqwest client"),
    )
}

/// `client` with the contract check on its answers.
pub fn checked(client: reqwest::Client) -> Client {
    reqwest_middleware::ClientBuilder::new(client)
        .with(crate::contract::check_response)
        .build()
}

/// Starts `proofme::serve` on a fresh port. Returns the address, the
/// server's state and the server.
async fn start_server(config: Config, store: Store) -> (String, proofme::AppState, RunningServer) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let addr = listener.local_addr().expect("local addr");
    let address = format!("http://{addr}");
    let state = proofme::AppState::load(config, store)
        .await
        .expect("app state");
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(proofme::serve(listener, state.clone(), async move {
        let _ = rx.await;
    }));
    (
        address,
        state,
        RunningServer {
            shutdown: tx,
            handle,
        },
    )
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like `spawn_app`, with a chance to change the configuration first
/// (`public_url` is set to the server's address before `configure` runs).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = TestDatabase::fresh(dir.path(), "proofme.db").await;
    let database_url = database.url.clone();
    let clock = Clock::manual();
    let store = Store::connect(&database_url)
        .await
        .expect("connect store")
        .with_clock(clock.clone());

    let org = store
        .create_organisation("Test Shop")
        .await
        .expect("organisation");
    let key = store
        .create_api_key(&org.id, Mode::Test)
        .await
        .expect("api key");
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

    // The address must be known before the config is final (public_url), so bind
    // first and hand the listener over.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let addr = listener.local_addr().expect("local addr");
    let mut config = Config::with_database(database_url.clone());
    config.addr = addr;
    config.public_url = format!("http://{addr}");
    config.rate_limit = 0;
    config.auth_failure_limit = 0;
    database.configure(&mut config, dir.path());
    configure(&mut config);

    let state = proofme::AppState::load(config.clone(), store.clone())
        .await
        .expect("app state");
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(proofme::serve(listener, state.clone(), async move {
        let _ = rx.await;
    }));

    TestApp {
        state,
        clock,
        address: format!("http://{addr}"),
        client: client(),
        store,
        config,
        database_url,
        org_id: org.id.to_string(),
        api_key: key.secret,
        api_key_id: key.key.id.to_string(),
        proofme_id: proofme.id.to_string(),
        org_name: org.name.clone(),
        webhook_secret: org.webhook_secret.clone(),
        server: Some(RunningServer {
            shutdown: tx,
            handle,
        }),
        _database: database,
        _dir: dir,
    }
}

/// Starts an in-process server over an existing database (for the admin CLI tests).
/// Returns the address; the server lives until the test's runtime ends.
pub async fn serve_database(
    database_url: &str,
    data_key_file: Option<std::path::PathBuf>,
) -> String {
    serve_database_with_clock(database_url, data_key_file, Clock::system()).await
}

/// `serve_database`, reading the time from `clock`.
pub async fn serve_database_with_clock(
    database_url: &str,
    data_key_file: Option<std::path::PathBuf>,
    clock: Clock,
) -> String {
    let store = Store::connect(database_url)
        .await
        .expect("connect store")
        .with_clock(clock);
    let mut config = Config::with_database(database_url.to_owned());
    config.data_key_file = data_key_file;
    config.rate_limit = 0;
    config.auth_failure_limit = 0;
    let (address, _state, server) = start_server(config, store).await;
    // Keep it running: dropping the sender would end the shutdown future.
    std::mem::forget(server.shutdown);
    address
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Stops the server and starts a new one (new `AppState`, new `Store`) over the
    /// same database file. `public_url` stays the same, the port changes.
    pub async fn restart(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = server.shutdown.send(());
            let abort = server.handle.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), server.handle)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        let store = Store::connect(&self.database_url)
            .await
            .expect("reconnect store")
            .with_clock(self.clock.clone());
        let (address, state, server) = start_server(self.config.clone(), store.clone()).await;
        self.address = address;
        self.state = state;
        self.store = store;
        self.client = client();
        self.server = Some(server);
    }

    /// A raw form body, as `curl -d` sends it (nothing is encoded).
    pub async fn post_form(&self, body: &str) -> Response {
        self.post_form_with_key(&self.api_key, body).await
    }

    pub async fn post_form_with_key(&self, api_key: &str, body: &str) -> Response {
        self.client
            .post(self.url("/v1/identification"))
            .bearer_auth(api_key)
            .header(CONTENT_TYPE, FORM)
            .body(body.to_owned())
            .send()
            .await
            .expect("POST form")
    }

    pub async fn post_json(&self, body: &Value) -> Response {
        self.post_json_with_key(&self.api_key, body).await
    }

    pub async fn post_json_with_key(&self, api_key: &str, body: &Value) -> Response {
        self.client
            .post(self.url("/v1/identification"))
            .bearer_auth(api_key)
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("POST json")
    }

    /// POST /v1/identification with any content type (or none) and raw bytes.
    pub async fn post_raw(&self, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> Response {
        let mut req = self
            .client
            .post(self.url("/v1/identification"))
            .bearer_auth(&self.api_key)
            .body(body.into());
        if let Some(ct) = content_type {
            req = req.header(CONTENT_TYPE, ct);
        }
        req.send().await.expect("POST raw")
    }

    /// POST /v1/identification with an `Idempotency-Key`.
    pub async fn post_form_idempotent(&self, api_key: &str, key: &str, body: &str) -> Response {
        self.client
            .post(self.url("/v1/identification"))
            .bearer_auth(api_key)
            .header(CONTENT_TYPE, FORM)
            .header("Idempotency-Key", key)
            .body(body.to_owned())
            .send()
            .await
            .expect("POST idempotent")
    }

    /// GET with the app's API key.
    pub async fn get(&self, path: &str) -> Response {
        self.get_with_key(&self.api_key, path).await
    }

    pub async fn get_with_key(&self, api_key: &str, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(api_key)
            .send()
            .await
            .expect("GET")
    }

    /// GET with no Authorization header at all.
    pub async fn get_anonymous(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_with_headers(&self, path: &str, headers: HeaderMap) -> Response {
        self.client
            .get(self.url(path))
            .headers(headers)
            .send()
            .await
            .expect("GET")
    }

    /// The three required fields as a raw form body.
    pub fn valid_form_body(&self) -> String {
        format!(
            "proofmeId={}&organisationId={}&redirectUrl={REDIRECT_URL}",
            self.proofme_id, self.org_id
        )
    }

    /// The required fields plus a description as a JSON object.
    pub fn valid_json_body(&self) -> Value {
        json!({
            "proofmeId": self.proofme_id,
            "organisationId": self.org_id,
            "redirectUrl": REDIRECT_URL,
            "description": "Order 12345",
        })
    }

    /// `valid_json_body()` with `changes` merged in (a `null` value is kept as null).
    pub fn json_body_with(&self, changes: Value) -> Value {
        let mut body = self.valid_json_body();
        let obj = body.as_object_mut().expect("object");
        for (k, v) in changes.as_object().expect("changes must be an object") {
            obj.insert(k.clone(), v.clone());
        }
        body
    }

    /// `valid_json_body()` without `field`.
    pub fn json_body_without(&self, field: &str) -> Value {
        let mut body = self.valid_json_body();
        body.as_object_mut().expect("object").remove(field);
        body
    }

    /// Creates an identification through the API and returns the 201 body.
    pub async fn create_identification(&self, changes: Value) -> Value {
        let resp = self.post_json(&self.json_body_with(changes)).await;
        assert_eq!(resp.status(), StatusCode::CREATED, "create failed");
        resp.json().await.expect("JSON body")
    }

    /// Creates an identification with this description; returns its id.
    pub async fn create_with_description(&self, description: &str) -> String {
        let created = self
            .create_identification(json!({ "description": description }))
            .await;
        created["id"].as_str().expect("id").to_owned()
    }

    /// A new key of the app's organisation.
    pub async fn create_api_key(&self, mode: Mode) -> String {
        let org = proofme::domain::OrganisationId::parse(&self.org_id).expect("org id");
        self.store
            .create_api_key(&org, mode)
            .await
            .expect("api key")
            .secret
    }

    /// Another organisation with a test key and a proofme.
    pub async fn create_other_organisation(&self) -> OtherOrganisation {
        let org = self
            .store
            .create_organisation("Other Shop")
            .await
            .expect("organisation");
        let key = self
            .store
            .create_api_key(&org.id, Mode::Test)
            .await
            .expect("api key");
        let proofme = self
            .store
            .create_proofme(
                &org.id,
                "Other age check",
                Purpose::AgeVerification,
                &["EPASS:OLDER_THAN_18"
                    .parse::<Credential>()
                    .expect("credential")],
            )
            .await
            .expect("proofme");
        OtherOrganisation {
            org_id: org.id.to_string(),
            api_key: key.secret,
            proofme_id: proofme.id.to_string(),
            webhook_secret: org.webhook_secret,
        }
    }

    /// `{"count", "rows"}` of GET /v1/identification?<query>, asserting 200.
    pub async fn list(&self, query: &str) -> Value {
        let resp = self.get(&format!("/v1/identification?{query}")).await;
        assert_eq!(resp.status(), StatusCode::OK, "list ?{query}");
        resp.json().await.expect("JSON body")
    }
}

impl OtherOrganisation {
    pub fn valid_form_body(&self) -> String {
        format!(
            "proofmeId={}&organisationId={}&redirectUrl={REDIRECT_URL}",
            self.proofme_id, self.org_id
        )
    }
}

/// Percent-encodes pairs as a browser would (`application/x-www-form-urlencoded`).
pub fn encoded_form(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

pub fn content_type(resp: &Response) -> String {
    resp.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Asserts an RFC 9457 problem: status, content type, `status` member, title
/// (the reason phrase), a non-empty `detail`, and `field` (or its absence).
/// Returns the problem body.
pub async fn assert_problem(resp: Response, status: u16, field: Option<&str>) -> Value {
    let actual = resp.status();
    let ct = content_type(&resp);
    let text = resp.text().await.expect("body");
    assert_eq!(actual.as_u16(), status, "HTTP status; body: {text}");
    assert!(
        ct.starts_with("application/problem+json"),
        "content type {ct:?} for a {status}; body: {text}"
    );
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("problem body is not JSON ({e}): {text}"));
    assert_eq!(body["status"], json!(status), "status member: {text}");
    let title = body["title"]
        .as_str()
        .unwrap_or_else(|| panic!("no title: {text}"));
    let reason = actual.canonical_reason().expect("a known status");
    // RFC 9110 renamed 413 and 422; both spellings are reason phrases.
    let also = match status {
        413 => Some("Content Too Large"),
        _ => None,
    };
    assert!(
        title == reason || Some(title) == also,
        "title {title:?}, expected {reason:?}: {text}"
    );
    let detail = body["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("no detail: {text}"));
    assert!(!detail.trim().is_empty(), "empty detail: {text}");
    match field {
        Some(f) => assert_eq!(body["field"], json!(f), "field member: {text}"),
        None => assert!(
            body.get("field").is_none_or(|v| v.is_null()),
            "unexpected field member: {text}"
        ),
    }
    body
}

/// Asserts a problem with any `field` (for checks that only care about status).
pub async fn assert_problem_status(resp: Response, status: u16) -> Value {
    let actual = resp.status();
    let ct = content_type(&resp);
    let text = resp.text().await.expect("body");
    assert_eq!(actual.as_u16(), status, "HTTP status; body: {text}");
    assert!(
        ct.starts_with("application/problem+json"),
        "content type {ct:?}; body: {text}"
    );
    let body: Value = serde_json::from_str(&text).expect("problem JSON");
    assert_eq!(body["status"], json!(status));
    body
}

/// Reads a 201 response, asserting the status, and returns its JSON.
pub async fn created(resp: Response) -> Value {
    let status = resp.status();
    let text = resp.text().await.expect("body");
    assert_eq!(status, StatusCode::CREATED, "expected 201, body: {text}");
    serde_json::from_str(&text).expect("JSON body")
}

/// `2022-01-01T12:00:00+00:00`, exactly that shape.
pub fn assert_seed_timestamp(value: &Value) {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("timestamp is not a string: {value}"));
    let b = s.as_bytes();
    let shape_ok = b.len() == 25
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 | 22 => *c == b':',
            19 => *c == b'+',
            20 | 21 | 23 | 24 => *c == b'0',
            _ => c.is_ascii_digit(),
        });
    assert!(
        shape_ok,
        "timestamp {s:?} is not like 2022-01-01T12:00:00+00:00"
    );
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
}

pub fn seconds_between(from: &Value, to: &Value) -> i64 {
    let parse = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("timestamp string"))
            .expect("RFC 3339")
    };
    (parse(to) - parse(from)).num_seconds()
}

/// `prefix` followed by at least `min` base62 characters.
pub fn assert_id(value: &Value, prefix: &str, min: usize) {
    let s = value
        .as_str()
        .unwrap_or_else(|| panic!("id is not a string: {value}"));
    let rest = s
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{s:?} does not start with {prefix:?}"));
    assert!(
        rest.len() >= min,
        "{s:?}: fewer than {min} characters after the prefix"
    );
    assert!(
        rest.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{s:?} is not base62 after the prefix"
    );
}

/// The members of a JSON object, in the order the text has them.
pub fn top_level_keys(text: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> Deserialize<'de> for Keys {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(k) = map.next_key::<String>()? {
                        map.next_value::<IgnoredAny>()?;
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Keys>(text).expect("a JSON object").0
}

pub const IDENTIFICATION_MEMBERS: [&str; 20] = [
    "resource",
    "id",
    "mode",
    "proofmeId",
    "proofmeRevision",
    "organisationId",
    "status",
    "statusName",
    "failureReason",
    "description",
    "isRequest",
    "metadata",
    "redirectUrl",
    "webhookUrl",
    "myPageUrl",
    "locale",
    "scannedAt",
    "expiresAt",
    "createdAt",
    "updatedAt",
];

pub fn authorization(value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(AUTHORIZATION, value.parse().expect("header value"));
    h
}

// ---------------------------------------------------------------------------
// The rest of the identification resource: status changes, history, data.

impl TestApp {
    /// POST /v1/identification/{id}/test-outcome with `{"status": status}`.
    pub async fn api_test_outcome(&self, id: &str, status: &str) -> Response {
        self.api_test_outcome_with_key(&self.api_key, id, status)
            .await
    }

    pub async fn api_test_outcome_with_key(
        &self,
        api_key: &str,
        id: &str,
        status: &str,
    ) -> Response {
        self.client
            .post(self.url(&format!("/v1/identification/{id}/test-outcome")))
            .bearer_auth(api_key)
            .header(CONTENT_TYPE, "application/json")
            .body(json!({ "status": status }).to_string())
            .send()
            .await
            .expect("POST test-outcome")
    }

    /// Sets a test outcome through the API, asserting 200; returns the object.
    pub async fn set_outcome(&self, id: &str, status: &str) -> Value {
        let resp = self.api_test_outcome(id, status).await;
        let code = resp.status();
        let text = resp.text().await.expect("body");
        assert_eq!(code, StatusCode::OK, "test-outcome {status}: {text}");
        serde_json::from_str(&text).expect("JSON body")
    }

    /// DELETE with the app's API key.
    pub async fn delete(&self, path: &str) -> Response {
        self.delete_with_key(&self.api_key, path).await
    }

    pub async fn delete_with_key(&self, api_key: &str, path: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(api_key)
            .send()
            .await
            .expect("DELETE")
    }

    /// GET with the app's key, asserting 200; the JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        let resp = self.get(path).await;
        let code = resp.status();
        let text = resp.text().await.expect("body");
        assert_eq!(code, StatusCode::OK, "GET {path}: {text}");
        serde_json::from_str(&text).expect("JSON body")
    }

    /// The identification as the API reads it now.
    pub async fn identification(&self, id: &str) -> Value {
        self.get_json(&format!("/v1/identification/{id}")).await
    }

    /// `rows` of GET /v1/identification/{id}/history.
    pub async fn history(&self, id: &str) -> Vec<Value> {
        let body = self
            .get_json(&format!("/v1/identification/{id}/history"))
            .await;
        body["rows"].as_array().expect("rows").clone()
    }

    /// `rows` of GET /v1/identification/{id}/webhooks.
    pub async fn deliveries(&self, id: &str) -> Vec<Value> {
        let body = self
            .get_json(&format!("/v1/identification/{id}/webhooks"))
            .await;
        body["rows"].as_array().expect("rows").clone()
    }

    /// Polls the deliveries until `done` holds for them; panics after `timeout`.
    pub async fn wait_for_deliveries(
        &self,
        id: &str,
        timeout: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let rows = self.deliveries(id).await;
            if done(&rows) {
                return rows;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "deliveries did not get there within {timeout:?}: {rows:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl OtherOrganisation {
    /// The required fields as a JSON object, with `changes` merged in.
    pub fn json_body_with(&self, changes: Value) -> Value {
        let mut body = json!({
            "proofmeId": self.proofme_id,
            "organisationId": self.org_id,
            "redirectUrl": REDIRECT_URL,
        });
        let obj = body.as_object_mut().expect("object");
        for (k, v) in changes.as_object().expect("changes must be an object") {
            obj.insert(k.clone(), v.clone());
        }
        body
    }
}

// ---------------------------------------------------------------------------
// HTML, parsed by scraper (html5ever, the HTML standard's parser): elements
// and their visible text, however Leptos separates text nodes (`<!>`).

/// One element: its attributes and its visible text.
#[derive(Debug, Clone)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed HTML document.
pub struct Html {
    pub raw: String,
    doc: scraper::Html,
}

/// The text under `el`, with a space at every element boundary (as a browser
/// separates blocks) and without script or style content.
fn push_text(el: scraper::ElementRef, out: &mut String) {
    for child in el.children() {
        if let Some(child) = scraper::ElementRef::wrap(child) {
            out.push(' ');
            if !matches!(child.value().name(), "script" | "style") {
                push_text(child, out);
            }
            out.push(' ');
        } else if let scraper::Node::Text(text) = child.value() {
            out.push_str(text);
        }
    }
}

fn visible_text(el: scraper::ElementRef) -> String {
    let mut text = String::new();
    push_text(el, &mut text);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Html {
    pub fn parse(raw: &str) -> Html {
        Html {
            raw: raw.to_owned(),
            doc: scraper::Html::parse_document(raw),
        }
    }

    /// The visible text of the body, whitespace collapsed.
    pub fn text(&self) -> String {
        self.elements_of("body")
            .next()
            .map(visible_text)
            .unwrap_or_default()
    }

    fn elements_of(&self, name: &str) -> impl Iterator<Item = scraper::ElementRef<'_>> {
        let selector = scraper::Selector::parse(name).expect("an element name");
        self.doc.select(&selector).collect::<Vec<_>>().into_iter()
    }

    /// Every element named `name`, in document order.
    pub fn elements(&self, name: &str) -> Vec<Element> {
        self.elements_of(name)
            .map(|el| Element {
                name: el.value().name().to_owned(),
                attrs: el
                    .value()
                    .attrs()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
                text: visible_text(el),
            })
            .collect()
    }

    /// The first element named `name` whose attribute `attr` is `value`.
    pub fn find(&self, name: &str, attr: &str, value: &str) -> Option<Element> {
        self.elements(name)
            .into_iter()
            .find(|e| e.attr(attr) == Some(value))
    }

    /// `<html lang>`.
    pub fn lang(&self) -> Option<String> {
        self.elements_of("html")
            .next()
            .and_then(|e| e.value().attr("lang").map(str::to_owned))
    }
}

/// GETs a page and parses it, asserting a status and an HTML content type.
pub async fn get_page(client: &Client, url: &str, status: u16) -> (HeaderMap, Html) {
    let resp = client.get(url).send().await.expect("GET page");
    read_page(resp, status).await
}

pub async fn read_page(resp: Response, status: u16) -> (HeaderMap, Html) {
    let code = resp.status();
    let headers = resp.headers().clone();
    let body = resp.text().await.expect("page body");
    assert_eq!(code.as_u16(), status, "status of the page; body: {body}");
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(ct.starts_with("text/html"), "content type {ct:?}");
    (headers, Html::parse(&body))
}

// ---------------------------------------------------------------------------
// Server-Sent Events, parsed by eventsource-stream from the response's bytes.

/// One event: its `event:` name and its `data:` lines joined.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

type Events = std::pin::Pin<
    Box<
        dyn futures::Stream<
                Item = Result<
                    eventsource_stream::Event,
                    eventsource_stream::EventStreamError<reqwest::Error>,
                >,
            > + Send,
    >,
>;

pub struct EventStream {
    events: Events,
    /// Whether the bytes so far end with a blank line, so that the stream
    /// cannot have ended inside an event (the server writes `\n` line ends).
    at_boundary: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl EventStream {
    pub fn new(resp: Response) -> EventStream {
        use eventsource_stream::Eventsource;
        use futures::StreamExt;
        let at_boundary = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let boundary = at_boundary.clone();
        let mut tail = Vec::new();
        let bytes = resp.bytes_stream().inspect(move |chunk| {
            if let Ok(chunk) = chunk {
                tail.extend_from_slice(chunk);
                tail.drain(..tail.len().saturating_sub(2));
                boundary.store(tail == b"\n\n", std::sync::atomic::Ordering::Relaxed);
            }
        });
        EventStream {
            events: Box::pin(bytes.eventsource()),
            at_boundary,
        }
    }

    /// The next event; `None` once the server ended the stream. Panics if
    /// nothing arrives within `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> Option<SseEvent> {
        use futures::StreamExt;
        let next = tokio::time::timeout(timeout, self.events.next())
            .await
            .unwrap_or_else(|_| panic!("no event within {timeout:?}"));
        let Some(event) = next else {
            assert!(
                self.at_boundary.load(std::sync::atomic::Ordering::Relaxed),
                "the stream ended inside an event"
            );
            return None;
        };
        let event = event.expect("read the event stream");
        Some(SseEvent {
            event: Some(event.event),
            data: event.data,
        })
    }
}

// ---------------------------------------------------------------------------
// Webhook receivers: wiremock servers on 127.0.0.1 that record every request.
// A test mounts the replies it needs (500 then 200, 410, redirects, delays)
// with wiremock's `Mock`; anything else is answered 200.

/// A receiver on a fresh loopback port.
pub async fn receiver() -> MockServer {
    answer_200_by_default(MockServer::builder().start().await).await
}

/// A receiver on a loopback port the test bound itself.
pub async fn receiver_on(listener: std::net::TcpListener) -> MockServer {
    let addr = listener.local_addr().expect("receiver address");
    assert!(addr.ip().is_loopback(), "receivers listen on loopback only");
    answer_200_by_default(MockServer::builder().listener(listener).start().await).await
}

async fn answer_200_by_default(server: MockServer) -> MockServer {
    // The lowest priority: every mock a test mounts comes first.
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    server
}

/// Every request so far, once there are at least `n`; panics after `DEADLINE`.
pub async fn wait_for_requests(server: &MockServer, n: usize) -> Vec<Request> {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let seen = server.received_requests().await.expect("recording is on");
        if seen.len() >= n {
            return seen;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of {n} requests within {DEADLINE:?}: {seen:#?}",
            seen.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every request so far.
pub async fn received_by(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.expect("recording is on")
}

/// A header of a received request, which must be there.
pub fn header<'a>(req: &'a Request, name: &str) -> &'a str {
    req.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header: {:?}", req.headers))
}

/// Checks a received webhook's signature with the Standard Webhooks
/// reference library, independent of Proofme's signing code.
pub fn verify_webhook(
    secret: &str,
    body: &[u8],
    headers: &HeaderMap,
) -> Result<(), standardwebhooks::WebhookError> {
    standardwebhooks::Webhook::new(secret)?.verify(body, headers)
}

/// Asserts that a received webhook is signed with `secret` (`whsec_…`).
pub fn assert_signed(req: &Request, secret: &str) {
    if let Err(e) = verify_webhook(secret, &req.body, &req.headers) {
        panic!("{e}: {:?} does not verify", req.headers);
    }
}

// --- raw connections -------------------------------------------------------

/// A TCP connection to `address` (`http://127.0.0.1:port`) from `source`
/// (any address in 127.0.0.0/8 on Linux), to model another client address.
pub async fn connect_from(source: &str, address: &str) -> tokio::net::TcpStream {
    let target: std::net::SocketAddr = address
        .trim_start_matches("http://")
        .parse()
        .expect("socket address");
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{source}:0").parse().expect("source"))
        .expect("bind source address");
    socket.connect(target).await.expect("connect")
}

/// Waits (up to `within`) for the server to close `stream`: end of file or a
/// reset. Whatever the server sent before is returned. Panics if the
/// connection is still open after `within`.
pub async fn wait_for_close(stream: &mut tokio::net::TcpStream, within: Duration) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut received = Vec::new();
    let read_all = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read_all)
        .await
        .unwrap_or_else(|_| panic!("the server kept the connection open for {within:?}"));
    received
}

/// Sends one raw request on a new connection and reads the answer until the
/// server closes it (send `Connection: close`).
pub async fn raw_exchange(address: &str, request: &[u8]) -> String {
    use tokio::io::AsyncWriteExt;
    let mut stream = connect_from("127.0.0.1", address).await;
    stream.write_all(request).await.expect("write request");
    let received = wait_for_close(&mut stream, Duration::from_secs(30)).await;
    String::from_utf8_lossy(&received).into_owned()
}

/// The status code of a raw HTTP/1.1 answer.
pub fn raw_status(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"))
}

// --- the real binary -------------------------------------------------------

/// `proofme serve` as a child process over a fresh database holding one
/// organisation, test key and proofme. Its stderr (the log) is collected.
pub struct ServedBinary {
    pub child: tokio::process::Child,
    pub address: String,
    pub database_url: String,
    pub api_key: String,
    pub org_id: String,
    pub proofme_id: String,
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
    _dir: TempDir,
}

/// Starts the binary with extra environment and, if given, an open-files
/// limit (soft and hard) set in the child before it runs.
pub async fn serve_binary(env: &[(&str, &str)], open_files: Option<u64>) -> ServedBinary {
    serve_binary_in(None, env, open_files).await
}

/// `serve_binary` with the database (and the data key beside it) in
/// `db_dir` instead of the binary's own temporary folder. Always a SQLite
/// file, whatever the tests run on: these tests are about the process's own
/// files, limits and SQLite's storage faults.
pub async fn serve_binary_in(
    db_dir: Option<&std::path::Path>,
    env: &[(&str, &str)],
    open_files: Option<u64>,
) -> ServedBinary {
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!(
        "sqlite://{}/proofme.db",
        db_dir.unwrap_or(dir.path()).display()
    );
    let (org_id, api_key, proofme_id) = {
        let store = Store::connect(&database_url).await.expect("connect store");
        let org = store.create_organisation("Bin Shop").await.expect("org");
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
        store.close().await;
        (org.id.to_string(), key.secret, proofme.id.to_string())
    };
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_proofme"));
    cmd.args(["serve", "--no-demo"])
        .env("DATABASE_URL", &database_url)
        .env("PROOFME_ADDR", format!("127.0.0.1:{port}"))
        .env("PROOFME_RATE_LIMIT", "0")
        .env_remove("PROOFME_PUBLIC_URL")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(limit) = open_files {
        // SAFETY: between fork and exec only the setrlimit system call runs;
        // it allocates nothing and takes no lock.
        unsafe {
            cmd.pre_exec(move || {
                let lim = rustix::process::Rlimit {
                    current: Some(limit),
                    maximum: Some(limit),
                };
                rustix::process::setrlimit(rustix::process::Resource::Nofile, lim)
                    .map_err(std::io::Error::from)
            });
        }
    }
    let mut child = cmd.spawn().expect("start proofme serve");
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut stderr = child.stderr.take().expect("stderr");
    let sink = log.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 8192];
        while let Ok(n) = stderr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            sink.lock()
                .expect("log")
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let address = format!("http://127.0.0.1:{port}");
    let probe = client();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Ok(resp) = probe.get(format!("{address}/healthz")).send().await {
            if resp.status() == StatusCode::OK {
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "proofme serve did not answer /healthz; log:\n{}",
            log.lock().expect("log")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ServedBinary {
        child,
        address,
        database_url,
        api_key,
        org_id,
        proofme_id,
        log,
        _dir: dir,
    }
}

impl ServedBinary {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    /// Waits until the log holds `needle`.
    pub async fn wait_for_log(&self, needle: &str, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while !self.log().contains(needle) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {needle:?} in the log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Follows the redirect a failed dashboard action answered with, and
/// returns the page it leads to. The action must go back to `back` (the
/// failure in no URL), that page must tell `message` as an alert (not as
/// the note of an action done), and only once: a reload no longer does.
pub async fn follow_failed_action(
    browser: &mut crate::browser::Browser,
    answer: &crate::browser::Page,
    back: &str,
    message: &str,
) -> crate::browser::Page {
    // 302 or 303: both are followed with a GET (307 and 308 would post again).
    assert!(
        matches!(answer.status, StatusCode::FOUND | StatusCode::SEE_OTHER),
        "{} {}",
        answer.status,
        answer.html
    );
    let location = answer.location().expect("a redirect");
    assert_eq!(location, back, "the action goes back to its page");
    let lowered = location.to_lowercase();
    assert!(
        !lowered.contains("err") && !location.contains(message),
        "a failure in the URL: {location}"
    );
    let page = browser.get(&location).await;
    let alerts = page.texts("[role=alert]");
    assert!(
        alerts.iter().any(|a| a.contains(message)),
        "no alert {message:?} in {alerts:?}: {}",
        page.text()
    );
    assert!(
        page.texts("[role=status]")
            .iter()
            .all(|s| !s.contains(message)),
        "{message:?} told as a success"
    );
    let again = browser.get(&location).await;
    assert!(
        again
            .texts("[role=alert]")
            .iter()
            .all(|a| !a.contains(message)),
        "{message:?} told twice"
    );
    page
}
