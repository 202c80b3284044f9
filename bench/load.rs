//! Load and latency benchmark: the release binary on loopback, driven from
//! this (second) process with 32 keep-alive connections. Every figure is
//! reported as a ratio to the HTTP floor (`GET /healthz`) measured in the same
//! run, because these machines are noisy and absolute numbers drift.
//!
//! Run it with `bench/run` (see bench/README.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

use proofme::domain::{
    Description, HttpUrl, Identification, IdentificationId, Mode, OrganisationId, ProofmeId,
    Status, Timestamp,
};
use proofme::store::Store;
use serde_json::{Value, json};
use sqlx::sqlite::SqlitePoolOptions;

#[path = "common.rs"]
mod common;
use common::{Seed, Server, seed};

struct Options {
    connections: usize,
    duration: Duration,
    warmup: Duration,
    grow_to: usize,
}

impl Options {
    fn from_args() -> Options {
        let args: Vec<String> = std::env::args().collect();
        let value = |name: &str| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .and_then(|v| v.parse::<u64>().ok())
        };
        Options {
            connections: value("--connections").unwrap_or(32) as usize,
            duration: Duration::from_secs(value("--seconds").unwrap_or(5)),
            warmup: Duration::from_secs(1),
            grow_to: value("--grow-to").unwrap_or(1_000_000) as usize,
        }
    }
}

/// What one connection sends.
#[derive(Clone)]
enum Request {
    Get {
        urls: Arc<Vec<String>>,
        auth: Option<String>,
    },
    /// To each URL in turn (several instances share the load).
    PostJson {
        urls: Arc<Vec<String>>,
        body: String,
        auth: String,
    },
    /// Opens the status stream, reads the first event, hangs up.
    Sse { urls: Arc<Vec<String>> },
    /// A GET on a new connection each time: the baseline for `Sse`.
    Connect { url: String },
}

#[derive(Default)]
struct Stats {
    requests: usize,
    errors: usize,
    seconds: f64,
    latencies_us: Vec<u32>,
}

impl Stats {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

async fn one(client: &reqwest::Client, req: &Request, n: usize) -> bool {
    match req {
        Request::Get { urls, auth } => {
            let mut r = client.get(&urls[n % urls.len()]);
            if let Some(a) = auth {
                r = r.bearer_auth(a);
            }
            match r.send().await {
                Ok(res) => res.status().is_success() && res.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
        Request::PostJson { urls, body, auth } => {
            let r = client
                .post(&urls[n % urls.len()])
                .bearer_auth(auth)
                .header("content-type", "application/json")
                .body(body.clone());
            match r.send().await {
                Ok(res) => res.status().as_u16() == 201 && res.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
        Request::Connect { url } => match client.get(url).send().await {
            Ok(res) => res.status().is_success() && res.bytes().await.is_ok(),
            Err(_) => false,
        },
        // The client keeps no idle connections: each stream pays its connect.
        Request::Sse { urls } => match client.get(&urls[n % urls.len()]).send().await {
            Ok(mut res) if res.status().is_success() => {
                matches!(res.chunk().await, Ok(Some(c)) if c.starts_with(b"event: status"))
            }
            _ => false,
        },
    }
}

fn client_no_pool() -> reqwest::Client {
    reqwest::Client::builder()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(0)
        .build()
        .expect("http client")
}

async fn load(req: Request, opts: &Options) -> Stats {
    let start = Instant::now();
    let measure_from = start + opts.warmup;
    let until = measure_from + opts.duration;
    let mut tasks = Vec::new();
    for c in 0..opts.connections {
        let req = req.clone();
        tasks.push(tokio::spawn(async move {
            let client = match req {
                Request::Sse { .. } | Request::Connect { .. } => client_no_pool(),
                _ => client(),
            };
            let mut s = Stats::default();
            let mut n = c * 7919;
            loop {
                let t0 = Instant::now();
                if t0 >= until {
                    break;
                }
                let ok = one(&client, &req, n).await;
                n += 1;
                if t0 >= measure_from {
                    s.requests += 1;
                    if !ok {
                        s.errors += 1;
                    }
                    s.latencies_us
                        .push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                }
            }
            s
        }));
    }
    let mut all = Stats {
        seconds: opts.duration.as_secs_f64(),
        ..Stats::default()
    };
    for t in tasks {
        let s = t.await.expect("load task");
        all.requests += s.requests;
        all.errors += s.errors;
        all.latencies_us.extend(s.latencies_us);
    }
    all.latencies_us.sort_unstable();
    all
}

/// `commit` called one after another for the warm-up and then the
/// measured time, each call timed; it says whether it committed.
async fn commits(opts: &Options, mut commit: impl AsyncFnMut() -> bool) -> Stats {
    let start = Instant::now();
    let (measure_from, until) = (start + opts.warmup, start + opts.warmup + opts.duration);
    let mut s = Stats {
        seconds: opts.duration.as_secs_f64(),
        ..Stats::default()
    };
    loop {
        let t0 = Instant::now();
        if t0 >= until {
            break;
        }
        let ok = commit().await;
        if t0 >= measure_from {
            s.requests += 1;
            s.errors += usize::from(!ok);
            s.latencies_us.push(t0.elapsed().as_micros() as u32);
        }
    }
    s.latencies_us.sort_unstable();
    s
}

/// Single-row commits, one after another, on one connection with the
/// store's own pragmas: what SQLite here can commit without batching.
async fn storage_limit(dir: &std::path::Path, opts: &Options) -> Stats {
    let url = format!("sqlite://{}", dir.join("storage.db").display());
    let options = proofme::store::connect_options(&url).expect("options");
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("storage db");
    sqlx::query("CREATE TABLE commits (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
        .execute(&pool)
        .await
        .expect("table");
    let payload = "x".repeat(300);
    let s = commits(opts, async || {
        sqlx::query("INSERT INTO commits (payload) VALUES (?)")
            .bind(&payload)
            .execute(&pool)
            .await
            .is_ok()
    })
    .await;
    pool.close().await;
    s
}

struct Row {
    name: &'static str,
    stats: Stats,
    target: Option<(f64, &'static str)>,
}

fn print_table(floor: f64, rows: &[Row]) {
    println!("\n| scenario | req/s | p50 ms | p99 ms | errors | vs floor | target | met |");
    println!("|---|---:|---:|---:|---:|---:|---|---|");
    for r in rows {
        let ratio = r.stats.rps() / floor;
        let (target, met) = match r.target {
            Some((min, label)) => {
                let ok = ratio >= min && r.stats.percentile_ms(0.99) <= 10.0 && r.stats.errors == 0;
                (label.to_owned(), if ok { "yes" } else { "NO" })
            }
            None => ("".to_owned(), ""),
        };
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {} | {:.2} | {} | {} |",
            r.name,
            r.stats.rps(),
            r.stats.percentile_ms(0.5),
            r.stats.percentile_ms(0.99),
            r.stats.errors,
            ratio,
            target,
            met
        );
    }
}

async fn grow(db_url: &str, org: &str, proofme: &str, to: usize) {
    let store = Store::connect(db_url).await.expect("store");
    let org = OrganisationId::parse(org).expect("org id");
    let everything = proofme::store::ListQuery {
        limit: 1,
        offset: 0,
        sort_column: proofme::store::SortColumn::CreatedAt,
        sort_direction: proofme::store::SortDirection::Desc,
        search: None,
        status: None,
        mode: None,
    };
    let (have, _) = store
        .list_identifications(&org, &everything)
        .await
        .expect("count");
    let have = usize::try_from(have).unwrap_or(0);
    let proofme = ProofmeId::parse(proofme).expect("proofme id");
    let redirect = HttpUrl::parse("https://shop.example.com/return").expect("url");
    let mut made = have;
    let started = Instant::now();
    while made < to {
        let n = (to - made).min(20_000);
        let now = Timestamp::now();
        let batch: Vec<Identification> = (0..n)
            .map(|i| Identification {
                id: IdentificationId::generate(),
                organisation_id: org.clone(),
                proofme_id: proofme.clone(),
                proofme_revision: 1,
                mode: Mode::Test,
                status: Status::Open,
                description: Some(Description::truncating(&format!("Order #{}", made + i))),
                is_request: true,
                metadata: None,
                redirect_url: redirect.clone(),
                webhook_url: None,
                locale: None,
                scanned_at: None,
                failure_reason: None,
                expires_at: now.plus(Duration::from_secs(86_400)),
                created_at: now,
                updated_at: now,
            })
            .collect();
        store
            .insert_identifications(&batch)
            .await
            .expect("bulk insert");
        made += n;
    }
    store.close().await;
    eprintln!(
        "grew to {made} identifications in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The body of a create request, as a shop sends it.
fn create_body(org_id: &str, pr_id: &str) -> String {
    json!({
        "proofmeId": pr_id, "organisationId": org_id,
        "description": "Order #12345", "redirectUrl": "https://shop.example.com/return/12345",
        "metadata": {"order": 12345}
    })
    .to_string()
}

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("load benchmark: run it with bench/run (cargo bench --bench load)");
        return;
    }
    let opts = Options::from_args();
    let bin = common::binary();
    let dir = tempfile::tempdir().expect("temp dir");
    let db_url = format!("sqlite://{}", dir.path().join("bench.db").display());

    let Seed {
        org_id,
        key,
        proofme_id: pr_id,
    } = seed(
        &bin,
        &db_url,
        &[],
        "test",
        &["--purpose", "AGE_VERIFICATION"],
    );

    let server = Server::start(&bin, &db_url);
    server.wait_ready().await;
    let base = server.base.clone();
    // The WAL must stay bounded under load: sample its size throughout.
    let wal_path = dir.path().join("bench.db-wal");
    let wal_peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampler = {
        let wal_peak = wal_peak.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(m) = std::fs::metadata(&wal_path) {
                    wal_peak.fetch_max(m.len(), std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    eprintln!(
        "{} connections, {} s per scenario after {} s warm-up",
        opts.connections,
        opts.duration.as_secs(),
        opts.warmup.as_secs()
    );

    let create_body = create_body(&org_id, &pr_id);
    let create = Request::PostJson {
        urls: Arc::new(vec![format!("{base}/v1/identification")]),
        body: create_body.clone(),
        auth: key.clone(),
    };

    let floor = load(
        Request::Get {
            urls: Arc::new(vec![format!("{base}/healthz")]),
            auth: None,
        },
        &opts,
    )
    .await;
    let storage = storage_limit(dir.path(), &opts).await;
    let created = load(create.clone(), &opts).await;

    // Targets for reads: a thousand existing identifications.
    let c = client();
    let mut ids = Vec::new();
    for _ in 0..1000 {
        let res = c
            .post(format!("{base}/v1/identification"))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(create_body.clone())
            .send()
            .await
            .expect("create");
        let v: Value = res.json().await.expect("json");
        ids.push(v["id"].as_str().expect("id").to_owned());
    }
    let api_urls = Arc::new(
        ids.iter()
            .map(|i| format!("{base}/v1/identification/{i}"))
            .collect::<Vec<_>>(),
    );
    let page_urls = Arc::new(
        ids.iter()
            .map(|i| format!("{base}/{i}"))
            .collect::<Vec<_>>(),
    );
    let sse_urls = Arc::new(
        ids.iter()
            .map(|i| format!("{base}/{i}/events"))
            .collect::<Vec<_>>(),
    );

    let get = load(
        Request::Get {
            urls: api_urls,
            auth: Some(key.clone()),
        },
        &opts,
    )
    .await;
    let list = load(
        Request::Get {
            urls: Arc::new(vec![format!("{base}/v1/identification?limit=50")]),
            auth: Some(key.clone()),
        },
        &opts,
    )
    .await;
    let page = load(
        Request::Get {
            urls: page_urls,
            auth: None,
        },
        &opts,
    )
    .await;
    let connect = load(
        Request::Connect {
            url: format!("{base}/healthz"),
        },
        &opts,
    )
    .await;
    let sse = load(Request::Sse { urls: sse_urls }, &opts).await;
    let rss = server.peak_rss_mib();
    server.stop();
    sampler.abort();
    let wal_peak_mib = wal_peak.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1_048_576.0;

    grow(&db_url, &org_id, &pr_id, opts.grow_to).await;
    let server = Server::start(&bin, &db_url);
    server.wait_ready().await;
    let create_at_size = load(
        Request::PostJson {
            urls: Arc::new(vec![format!("{}/v1/identification", server.base)]),
            body: create_body,
            auth: key,
        },
        &opts,
    )
    .await;
    server.stop();

    let f = floor.rps();
    let limit = f.min(storage.rps());
    let (create_start, create_grown) = (created.rps(), create_at_size.rps());
    let create_vs_storage = create_start / storage.rps();
    print_table(
        f,
        &[
            Row {
                name: "GET /healthz (floor)",
                stats: floor,
                target: None,
            },
            Row {
                name: "SQLite single-row commits (storage limit)",
                stats: storage,
                target: None,
            },
            Row {
                name: "POST /v1/identification",
                stats: created,
                target: Some((0.6 * limit / f, ">= 0.6 x min(floor, storage)")),
            },
            Row {
                name: "GET /v1/identification/{id}",
                stats: get,
                target: Some((0.7, ">= 0.7 x floor")),
            },
            Row {
                name: "GET /v1/identification?limit=50",
                stats: list,
                target: None,
            },
            Row {
                name: "MyPage GET /{id}",
                stats: page,
                target: Some((0.6, ">= 0.6 x floor")),
            },
            Row {
                name: "GET /healthz on a new connection each time",
                stats: connect,
                target: None,
            },
            Row {
                name: "SSE GET /{id}/events (connect + first event)",
                stats: sse,
                target: None,
            },
            Row {
                name: "POST /v1/identification at grown size",
                stats: create_at_size,
                target: None,
            },
        ],
    );
    println!("\ncreate / storage limit: {create_vs_storage:.2}");
    println!(
        "create at {} rows / create on a fresh database: {:.2} (target >= 0.80: {})",
        opts.grow_to,
        create_grown / create_start,
        if create_grown / create_start >= 0.8 {
            "yes"
        } else {
            "NO"
        }
    );
    println!("server peak RSS: {rss:.1} MiB; largest WAL file seen: {wal_peak_mib:.1} MiB");

    postgres_column(&bin, &opts, f).await;
}

/// The same scenarios on PostgreSQL, with one and with two instances over
/// one database, as ratios to this run's HTTP floor and to single-row
/// inserts, one after another, on one connection to the same server (its
/// storage limit). The server is `BENCH_DATABASE_URL` (default: PostgreSQL
/// on 127.0.0.1 as user postgres); a database is made for the run and
/// dropped after. Skipped, with a note, when no server answers.
async fn postgres_column(bin: &str, opts: &Options, floor: f64) {
    use sqlx::Connection;
    let server_url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let Ok(mut admin_conn) = sqlx::PgConnection::connect(&server_url).await else {
        println!(
            "
PostgreSQL column skipped: no server answers at BENCH_DATABASE_URL"
        );
        return;
    };
    let name = format!("proofme_bench_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\""))
        .execute(&mut admin_conn)
        .await
        .expect("drop old bench database");
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin_conn)
        .await
        .expect("create bench database");
    let mut url = url::Url::parse(&server_url).expect("BENCH_DATABASE_URL");
    url.set_path(&format!("/{name}"));
    let db_url = url.to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("data-key");
    let key_file = key_file.to_str().expect("path");
    let env = [("PROOFME_DATA_KEY_FILE", key_file)];

    let storage = postgres_storage_limit(&db_url, opts).await;
    let Seed {
        org_id,
        key,
        proofme_id: pr_id,
    } = seed(
        bin,
        &db_url,
        &env,
        "test",
        &["--purpose", "AGE_VERIFICATION"],
    );
    let create_body = create_body(&org_id, &pr_id);

    let mut servers = vec![Server::start_with(bin, &db_url, &env)];
    servers[0].wait_ready().await;
    let mut rows = Vec::new();
    for instances in [1, 2] {
        if instances == 2 {
            servers.push(Server::start_with(bin, &db_url, &env));
            servers[1].wait_ready().await;
        }
        let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
        let spread = |path: &dyn Fn(&str) -> Vec<String>| -> Arc<Vec<String>> {
            Arc::new(bases.iter().flat_map(|b| path(b)).collect())
        };
        let created = load(
            Request::PostJson {
                urls: spread(&|b| vec![format!("{b}/v1/identification")]),
                body: create_body.clone(),
                auth: key.clone(),
            },
            opts,
        )
        .await;
        let c = client();
        let mut ids = Vec::new();
        for _ in 0..1000 {
            let v: Value = c
                .post(format!("{}/v1/identification", bases[0]))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(create_body.clone())
                .send()
                .await
                .expect("create")
                .json()
                .await
                .expect("json");
            ids.push(v["id"].as_str().expect("id").to_owned());
        }
        let get = load(
            Request::Get {
                urls: spread(&|b| {
                    ids.iter()
                        .map(|i| format!("{b}/v1/identification/{i}"))
                        .collect()
                }),
                auth: Some(key.clone()),
            },
            opts,
        )
        .await;
        let list = load(
            Request::Get {
                urls: spread(&|b| vec![format!("{b}/v1/identification?limit=50")]),
                auth: Some(key.clone()),
            },
            opts,
        )
        .await;
        let page = load(
            Request::Get {
                urls: spread(&|b| ids.iter().map(|i| format!("{b}/{i}")).collect()),
                auth: None,
            },
            opts,
        )
        .await;
        rows.push((instances, "POST /v1/identification", created));
        rows.push((instances, "GET /v1/identification/{id}", get));
        rows.push((instances, "GET /v1/identification?limit=50", list));
        rows.push((instances, "MyPage GET /{id}", page));
    }
    for s in servers {
        s.stop();
    }

    println!(
        "
PostgreSQL ({} connections in all, spread over the instances):",
        opts.connections
    );
    println!(
        "\n| scenario | instances | req/s | p50 ms | p99 ms | errors | vs floor | vs storage |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| PostgreSQL single-row inserts (storage limit) | - | {:.0} | {:.2} | {:.2} | {} | {:.2} | 1.00 |",
        storage.rps(),
        storage.percentile_ms(0.5),
        storage.percentile_ms(0.99),
        storage.errors,
        storage.rps() / floor
    );
    for (instances, name, stats) in &rows {
        println!(
            "| {name} | {instances} | {:.0} | {:.2} | {:.2} | {} | {:.2} | {:.2} |",
            stats.rps(),
            stats.percentile_ms(0.5),
            stats.percentile_ms(0.99),
            stats.errors,
            stats.rps() / floor,
            stats.rps() / storage.rps()
        );
    }
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin_conn)
        .await;
}

/// Single-row inserts, one after another, on one connection (each its own
/// commit): what this PostgreSQL server commits without batching.
async fn postgres_storage_limit(db_url: &str, opts: &Options) -> Stats {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(db_url).await.expect("connect");
    sqlx::query("CREATE TABLE commits (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL)")
        .execute(&mut conn)
        .await
        .expect("table");
    let payload = "x".repeat(300);
    let s = commits(opts, async || {
        sqlx::query("INSERT INTO commits (payload) VALUES ($1)")
            .bind(&payload)
            .execute(&mut conn)
            .await
            .is_ok()
    })
    .await;
    sqlx::query("DROP TABLE commits")
        .execute(&mut conn)
        .await
        .expect("drop");
    let _ = conn.close().await;
    s
}
