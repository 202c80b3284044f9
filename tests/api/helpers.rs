//! `spawn_app()`: a real server on 127.0.0.1:0 over a fresh SQLite file, with an
//! organisation, a test API key and a proofme ready to use.

#![allow(dead_code)]

use proofme::config::Config;
use proofme::domain::{Credential, Mode, Purpose};
use proofme::store::Store;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use reqwest::{Response, StatusCode};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Value, json};
use std::fmt;
use std::time::Duration;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const FORM: &str = "application/x-www-form-urlencoded";
pub const REDIRECT_URL: &str = "https://your-application.example.org/identification/12345/";
pub const WEBHOOK_URL: &str = "https://your-application.example.org/webhook/";

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub address: String,
    pub client: reqwest::Client,
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
    server: Option<RunningServer>,
    _dir: TempDir,
}

/// A second organisation with its own key and proofme, for isolation tests.
pub struct OtherOrganisation {
    pub org_id: String,
    pub api_key: String,
    pub proofme_id: String,
}

struct RunningServer {
    shutdown: oneshot::Sender<()>,
    handle: JoinHandle<std::io::Result<()>>,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client")
}

/// Starts `proofme::serve` on a fresh port. Returns the address and the server.
async fn start_server(config: Config, store: Store) -> (String, Config, RunningServer) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
    let addr = listener.local_addr().expect("local addr");
    let address = format!("http://{addr}");
    let state = proofme::AppState::new(config.clone(), store);
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(proofme::serve(listener, state, async move {
        let _ = rx.await;
    }));
    (
        address,
        config,
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
    let database_url = format!("sqlite://{}/proofme.db", dir.path().display());
    let store = Store::connect(&database_url).await.expect("connect store");

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
    configure(&mut config);

    let state = proofme::AppState::new(config.clone(), store.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(proofme::serve(listener, state, async move {
        let _ = rx.await;
    }));

    TestApp {
        address: format!("http://{addr}"),
        client: client(),
        store,
        config,
        database_url,
        org_id: org.id.to_string(),
        api_key: key.secret,
        api_key_id: key.key.id.to_string(),
        proofme_id: proofme.id.to_string(),
        server: Some(RunningServer {
            shutdown: tx,
            handle,
        }),
        _dir: dir,
    }
}

/// Starts an in-process server over an existing database (for the admin CLI tests).
/// Returns the address; the server lives until the test's runtime ends.
pub async fn serve_database(database_url: &str) -> String {
    let store = Store::connect(database_url).await.expect("connect store");
    let mut config = Config::with_database(database_url.to_owned());
    config.rate_limit = 0;
    let (address, _config, server) = start_server(config, store).await;
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
            .expect("reconnect store");
        let (address, config, server) = start_server(self.config.clone(), store.clone()).await;
        self.address = address;
        self.config = config;
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

pub const IDENTIFICATION_MEMBERS: [&str; 18] = [
    "resource",
    "id",
    "mode",
    "proofmeId",
    "organisationId",
    "status",
    "statusName",
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
