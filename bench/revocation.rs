//! What the revocation check costs the wallet, against the release binary on
//! loopback. A live identification is answered with an SD-JWT PID whose
//! `status` names a Token Status List on a list server in this process:
//!
//! - baseline: a PID without a status reference (no check at all);
//! - cached: every PID points at one shared list, fetched once in the
//!   warm-up and kept for its `ttl`;
//! - cold: every PID points at a list never fetched before, so each
//!   presentation waits for a fetch and a token verification;
//! - a burst: `--concurrent` presentations posted at once against one fresh
//!   list, which should be fetched once for all of them, beside the same
//!   burst without a status reference.
//!
//! Each presentation is built before the timer starts; only the wallet's
//! POST of its encrypted answer is timed, to the end of the `200` answer.
//!
//! Run it with `bench/run-revocation` (see bench/README.md).

#[path = "common.rs"]
mod common;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use common::{Server, Tenant, percentile, seed, value};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use p256::ecdsa::SigningKey;
use proofme::domain::Timestamp;
use proofme::oid4vp::holder::{self, Issuer};
use proofme::oid4vp::jose::{self, Jwk};
use proofme::oid4vp::x509::{self, CertificateAuthority, Validity};
use proofme::wallet::{self, WalletFormat};
use rand::Rng;
use rand::rngs::OsRng;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Barrier;

const PID_VCT: &str = "urn:eudi:pid:1";
/// Entries in every served list, 1 bit each, all valid: 16 KiB before
/// compression, the smallest size the draft recommends for herd privacy.
const LIST_ENTRIES: u64 = 16 * 1024 * 8;
const WARM_UP: usize = 10;

fn now() -> i64 {
    Timestamp::now().unix_seconds()
}

/// A status list server: `/lists/{name}` answers a Status List Token for
/// exactly that URI, for any name, and the requests are counted per name.
#[derive(Clone)]
struct Lists {
    inner: Arc<ListsInner>,
}

struct ListsInner {
    /// `http://127.0.0.1:{port}/lists`.
    base: String,
    key: SigningKey,
    header: Map<String, Value>,
    /// The compressed list, the same in every token.
    lst: String,
    /// Tokens signed so far, by name (signed ahead by `prepare` so that the
    /// timed fetch does not wait for this process to sign).
    tokens: Mutex<HashMap<String, String>>,
    hits: Mutex<HashMap<String, usize>>,
    total: AtomicUsize,
}

impl Lists {
    async fn start(key: SigningKey, leaf: Vec<u8>) -> Lists {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the list server");
        let addr = listener.local_addr().expect("list server address");
        let header = json!({
            "alg": "ES256",
            "typ": "statuslist+jwt",
            "x5c": x509::encode_x5c(&[leaf]),
        });
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
        encoder
            .write_all(&vec![0u8; (LIST_ENTRIES / 8) as usize])
            .expect("compress");
        let lists = Lists {
            inner: Arc::new(ListsInner {
                base: format!("http://{addr}/lists"),
                key,
                header: header.as_object().cloned().expect("header object"),
                lst: jose::b64url_encode(encoder.finish().expect("compress")),
                tokens: Mutex::default(),
                hits: Mutex::default(),
                total: AtomicUsize::new(0),
            }),
        };
        let router = Router::new()
            .route("/lists/{name}", get(serve_list))
            .with_state(lists.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        lists
    }

    fn uri(&self, name: &str) -> String {
        format!("{}/{name}", self.inner.base)
    }

    /// The token for `name`, signed on first use: valid for an hour, to be
    /// kept for 300 s.
    fn token(&self, name: &str) -> String {
        let mut tokens = self.inner.tokens.lock().expect("tokens");
        tokens
            .entry(name.to_owned())
            .or_insert_with(|| {
                let claims = json!({
                    "sub": self.uri(name),
                    "iat": now() - 10,
                    "exp": now() + 3_600,
                    "ttl": 300,
                    "status_list": {"bits": 1, "lst": self.inner.lst},
                });
                jose::sign_es256(
                    &self.inner.header,
                    claims.as_object().expect("claims object"),
                    &self.inner.key,
                )
            })
            .clone()
    }

    fn hits(&self, name: &str) -> usize {
        let hits = self.inner.hits.lock().expect("hits");
        hits.get(name).copied().unwrap_or(0)
    }

    fn total(&self) -> usize {
        self.inner.total.load(Ordering::SeqCst)
    }
}

async fn serve_list(State(lists): State<Lists>, Path(name): Path<String>) -> impl IntoResponse {
    lists.inner.total.fetch_add(1, Ordering::SeqCst);
    *lists
        .inner
        .hits
        .lock()
        .expect("hits")
        .entry(name.clone())
        .or_default() += 1;
    (
        [(header::CONTENT_TYPE, "application/statuslist+jwt")],
        lists.token(&name),
    )
}

/// Creates a live identification: its id.
async fn create(api: &Tenant) -> String {
    let created = api.create().await;
    assert_eq!(created["mode"], "live", "{created}");
    created["id"].as_str().expect("id").to_owned()
}

async fn assert_verified(api: &Tenant, id: &str) {
    let ident: Value = api
        .http
        .get(format!("{}/v1/identification/{id}", api.base))
        .bearer_auth(&api.key)
        .send()
        .await
        .expect("get identification")
        .json()
        .await
        .expect("identification JSON");
    assert_eq!(ident["statusName"], "verified", "{ident}");
}

/// An answer ready to post.
struct Prepared {
    id: String,
    response_uri: String,
    jwe: String,
}

/// Creates an identification and builds the wallet's encrypted answer: a
/// fresh PID for a fresh holder key, with a status reference into the list
/// `list` names (at a random index) when it names one.
async fn prepare(api: &Tenant, issuer: &Issuer, lists: &Lists, list: Option<&str>) -> Prepared {
    let id = create(api).await;
    let request = api.request(&id).await;
    let holder_key = SigningKey::random(&mut OsRng);
    let claims = holder::pid_claims::<&str>(&[]).expect("PID claims");
    let mut unsigned = issuer.prepare(
        &claims,
        &Jwk::from_verifying_key(holder_key.verifying_key()),
        PID_VCT,
        now() - 60,
        now() + 86_400,
    );
    if let Some(name) = list {
        lists.token(name);
        let idx = OsRng.gen_range(0..LIST_ENTRIES);
        unsigned.payload.insert(
            "status".into(),
            json!({"status_list": {"idx": idx, "uri": lists.uri(name)}}),
        );
    }
    let credential = issuer.sign(&unsigned);
    let paths = request.claim_paths.clone();
    let presentation = holder::present(
        &credential,
        |p: &[String]| paths.iter().any(|w| w.as_slice() == p),
        &holder_key,
        &request.nonce,
        &request.client_id,
        now(),
    )
    .expect("presentation");
    let chosen =
        wallet::choose(&request.offered, Some(WalletFormat::SdJwt), None).expect("SD-JWT offered");
    let payload = json!({"vp_token": {chosen.id.as_str(): [presentation]}, "state": request.state});
    let jwe = jose::encrypt(
        payload.to_string().as_bytes(),
        &request.response_key,
        request.enc,
        request.response_key.kid.as_deref(),
    )
    .expect("JWE");
    Prepared {
        id,
        response_uri: request.response_uri.expect("response_uri"),
        jwe,
    }
}

/// Posts the answer, timing it to the end of the `200`, in ms.
async fn post(api: &Tenant, prepared: &Prepared) -> f64 {
    let started = Instant::now();
    let resp = api
        .http
        .post(&prepared.response_uri)
        .form(&[("response", prepared.jwe.as_str())])
        .send()
        .await
        .expect("wallet answer");
    let status = resp.status().as_u16();
    let body = resp.bytes().await.expect("wallet answer body");
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    elapsed
}

#[derive(Clone, Copy)]
enum Case {
    Baseline,
    Cached,
    Cold,
}

impl Case {
    const ALL: [Case; 3] = [Case::Baseline, Case::Cached, Case::Cold];
}

const SHARED: &str = "shared";

/// Presents one PID of `case` and returns its time; a cold one takes the
/// next fresh list name from `fresh`.
async fn sample(
    api: &Tenant,
    issuer: &Issuer,
    lists: &Lists,
    case: Case,
    fresh: &mut Vec<String>,
) -> f64 {
    let list = match case {
        Case::Baseline => None,
        Case::Cached => Some(SHARED.to_owned()),
        Case::Cold => {
            fresh.push(format!("fresh-{}", fresh.len()));
            fresh.last().cloned()
        }
    };
    let prepared = prepare(api, issuer, lists, list.as_deref()).await;
    let elapsed = post(api, &prepared).await;
    assert_verified(api, &prepared.id).await;
    elapsed
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// `m` answers built first, the connections opened, then all posted at
/// once: their times, sorted, and the time until the last was answered.
async fn burst(
    api: &Arc<Tenant>,
    issuer: &Issuer,
    lists: &Lists,
    list: Option<&str>,
    m: usize,
) -> (Vec<f64>, f64) {
    let mut prepared = Vec::with_capacity(m);
    for _ in 0..m {
        prepared.push(prepare(api, issuer, lists, list).await);
    }
    let opened: Vec<_> = (0..m)
        .map(|_| {
            let api = api.clone();
            tokio::spawn(async move {
                api.http
                    .get(format!("{}/healthz", api.base))
                    .send()
                    .await
                    .expect("healthz")
                    .bytes()
                    .await
                    .expect("healthz body");
            })
        })
        .collect();
    for task in opened {
        task.await.expect("connection task");
    }
    let ids: Vec<String> = prepared.iter().map(|p| p.id.clone()).collect();
    let barrier = Arc::new(Barrier::new(m + 1));
    let tasks: Vec<_> = prepared
        .into_iter()
        .map(|p| {
            let (api, barrier) = (api.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                post(&api, &p).await
            })
        })
        .collect();
    barrier.wait().await;
    let started = Instant::now();
    let mut times = Vec::with_capacity(m);
    for task in tasks {
        times.push(task.await.expect("burst task"));
    }
    let all = started.elapsed().as_secs_f64() * 1000.0;
    for id in &ids {
        assert_verified(api, id).await;
    }
    (sorted(times), all)
}

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "revocation benchmark: run it with bench/run-revocation (cargo bench --bench revocation)"
        );
        return;
    }
    let samples = value("--samples", 200) as usize;
    let concurrent = value("--concurrent", 32) as usize;

    // The PID issuer: a leaf under a CA the server trusts, whose key also
    // signs the status lists (with the chain in `x5c`).
    let validity = Validity::days_from(now() - 86_400, 365);
    let ca = CertificateAuthority::new("Bench status CA", validity).expect("CA");
    let secret = p256::SecretKey::random(&mut OsRng);
    let leaf = ca
        .issue_leaf(&secret.public_key(), "Bench PID issuer", validity)
        .expect("leaf");
    let key = SigningKey::from(&secret);
    let issuer = Issuer::new(key.clone(), vec![leaf.clone()]);
    let anchors = x509::certificate_to_pem(&ca.certificate_der());
    let lists = Lists::start(key, leaf).await;

    let bin = common::binary();
    let dir = tempfile::tempdir().expect("temp dir");
    let db_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let seed = seed(&bin, &db_url, &[], "live", &[]);
    let server = Server::start_with(
        &bin,
        &db_url,
        &[
            ("PROOFME_ALLOW_PRIVATE_WEBHOOKS", "true"),
            ("PROOFME_TRUSTED_ISSUERS", anchors.as_str()),
        ],
    );
    server.wait_ready().await;
    let api = Arc::new(Tenant::new(&server, &seed));
    let issuer = Arc::new(issuer);

    // Warm up every case; the first cached one fetches the shared list.
    let mut fresh = Vec::new();
    for case in Case::ALL {
        for _ in 0..WARM_UP {
            sample(&api, &issuer, &lists, case, &mut fresh).await;
        }
    }
    let warm_fresh = fresh.len();

    // The cases take turns, starting with another one each round, so that
    // each sees the same machine.
    let mut times: Vec<Vec<f64>> = Case::ALL
        .iter()
        .map(|_| Vec::with_capacity(samples))
        .collect();
    for round in 0..samples {
        for k in 0..Case::ALL.len() {
            let i = (round + k) % Case::ALL.len();
            let t = sample(&api, &issuer, &lists, Case::ALL[i], &mut fresh).await;
            times[i].push(t);
        }
    }
    let [baseline, cached, cold]: [Vec<f64>; 3] = times
        .into_iter()
        .map(sorted)
        .collect::<Vec<_>>()
        .try_into()
        .expect("three cases");
    let shared_fetches = lists.hits(SHARED);
    let fresh_fetches: usize = fresh[warm_fresh..].iter().map(|n| lists.hits(n)).sum();

    // The bursts: one to warm up (the server's first burst pays for growing
    // its pools), one without a status reference for comparison, then one
    // against a list nobody fetched yet.
    burst(&api, &issuer, &lists, None, concurrent).await;
    let (plain_burst, plain_burst_ms) = burst(&api, &issuer, &lists, None, concurrent).await;
    let burst_name = "burst";
    let (list_burst, list_burst_ms) =
        burst(&api, &issuer, &lists, Some(burst_name), concurrent).await;
    let burst_fetches = lists.hits(burst_name);

    let peak = server.peak_rss_mib();
    server.stop();

    let p50 = |v: &[f64]| percentile(v, 0.5);
    let p99 = |v: &[f64]| percentile(v, 0.99);
    let base50 = p50(&baseline);
    let presented = samples + WARM_UP;
    println!(
        "\n| case | p50 ms | p99 ms | p50 added to baseline | p50 vs baseline | status list fetches |"
    );
    println!("|---|---:|---:|---:|---:|---|");
    println!(
        "| no status reference (baseline) | {:.2} | {:.2} | | 1.00 | none |",
        base50,
        p99(&baseline)
    );
    println!(
        "| one shared list (cached) | {:.2} | {:.2} | {:+.2} ms | {:.2} | {shared_fetches} for {presented} presentations |",
        p50(&cached),
        p99(&cached),
        p50(&cached) - base50,
        p50(&cached) / base50
    );
    println!(
        "| a fresh list each time (cold fetch) | {:.2} | {:.2} | {:+.2} ms | {:.2} | {fresh_fetches} for {samples} presentations |",
        p50(&cold),
        p99(&cold),
        p50(&cold) - base50,
        p50(&cold) / base50
    );
    let burst50 = p50(&plain_burst);
    println!(
        "| {concurrent} at once, no status reference (burst baseline) | {:.2} | {:.2} | | 1.00 | none |",
        burst50,
        p99(&plain_burst)
    );
    println!(
        "| {concurrent} at once, one fresh list | {:.2} | {:.2} | {:+.2} ms | {:.2} | {burst_fetches} for {concurrent} presentations |",
        p50(&list_burst),
        p99(&list_burst),
        p50(&list_burst) - burst50,
        p50(&list_burst) / burst50
    );
    println!(
        "\nCold over cached at the median: {:+.2} ms ({:.2} x). The bursts were answered in {plain_burst_ms:.1} ms (no status) and {list_burst_ms:.1} ms (one fresh list); their rows compare with the burst baseline.",
        p50(&cold) - p50(&cached),
        p50(&cold) / p50(&cached)
    );
    println!(
        "Status list requests in all: {}. Server peak RSS: {peak:.0} MiB.",
        lists.total()
    );
    println!(
        "{samples} samples per case (after {WARM_UP} to warm up), taking turns; lists of {LIST_ENTRIES} 1-bit entries."
    );
}
