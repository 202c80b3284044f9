//! What the benchmarks share: the release binary started on loopback with a
//! fresh database, and the admin commands that set it up.

#![allow(dead_code)]

use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The release binary: `PROOFME_BIN`, else this checkout's `target/release`.
pub fn binary() -> String {
    std::env::var("PROOFME_BIN").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target").to_owned());
        format!("{target}/release/proofme")
    })
}

/// The number after `name` on the command line, else `default`.
pub fn value(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p` quantile (0 to 1) of `sorted`, the nearest sample.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub fn start(bin: &str, db_url: &str) -> Server {
        Server::start_with(bin, db_url, &[])
    }

    /// `start` with more environment.
    pub fn start_with(bin: &str, db_url: &str, env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let child = Command::new(bin)
            .args(["serve", "--no-demo"])
            .env("DATABASE_URL", db_url)
            .env("PROOFME_ADDR", format!("127.0.0.1:{port}"))
            .env("PROOFME_PUBLIC_URL", &base)
            .env("PROOFME_RATE_LIMIT", "0")
            // The benchmarks drive the test issuer from one address.
            .env("PROOFME_TEST_ISSUER_RATE_LIMIT", "0")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server");
        Server { child, base }
    }

    pub async fn wait_ready(&self) {
        let c = reqwest::Client::new();
        for _ in 0..200 {
            if c.get(format!("{}/healthz", self.base)).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not start");
    }

    /// Peak resident memory (VmHWM) in MiB.
    pub fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    }

    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

pub fn admin(bin: &str, db_url: &str, args: &[&str]) -> Value {
    admin_with(bin, db_url, &[], args)
}

/// `admin` with more environment.
pub fn admin_with(bin: &str, db_url: &str, env: &[(&str, &str)], args: &[&str]) -> Value {
    let out = Command::new(bin)
        .arg("admin")
        .args(args)
        .envs(env.iter().copied())
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("admin command");
    assert!(
        out.status.success(),
        "admin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("admin JSON")
}

/// What `seed` made with the admin commands.
pub struct Seed {
    pub org_id: String,
    pub key: String,
    pub proofme_id: String,
}

/// An organisation "Bench Shop" with an API key of `mode` and an age-check
/// proofme (with `more` added to its `create-proofme` arguments), made
/// before the server starts; `env` as for `admin_with`.
pub fn seed(bin: &str, db_url: &str, env: &[(&str, &str)], mode: &str, more: &[&str]) -> Seed {
    let admin = |args: &[&str]| admin_with(bin, db_url, env, args);
    let org = admin(&["create-organisation", "--name", "Bench Shop"]);
    let org_id = org["id"].as_str().expect("org").to_owned();
    let key = admin(&["create-api-key", "--organisation", &org_id, "--mode", mode]);
    let mut proofme = vec![
        "create-proofme",
        "--organisation",
        &org_id,
        "--name",
        "Age check",
        "--credential",
        "EPASS:OLDER_THAN_18",
    ];
    proofme.extend_from_slice(more);
    let pr = admin(&proofme);
    Seed {
        key: key["key"].as_str().expect("key").to_owned(),
        proofme_id: pr["id"].as_str().expect("proofme").to_owned(),
        org_id,
    }
}

/// The seeded tenant on a running server, as a shop and its customers'
/// wallets reach it.
pub struct Tenant {
    pub base: String,
    pub key: String,
    /// The create request's body.
    pub body: String,
    /// Keeps connections alive and follows no redirects, as a wallet does.
    pub http: reqwest::Client,
}

impl Tenant {
    pub fn new(server: &Server, seed: &Seed) -> Tenant {
        Tenant {
            base: server.base.clone(),
            key: seed.key.clone(),
            body: serde_json::json!({"proofmeId": seed.proofme_id,
                                     "organisationId": seed.org_id,
                                     "redirectUrl": "https://shop.example.com/return"})
            .to_string(),
            http: reqwest::Client::builder()
                .tcp_nodelay(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    /// Creates an identification: its JSON.
    pub async fn create(&self) -> Value {
        let resp = self
            .http
            .post(format!("{}/v1/identification", self.base))
            .bearer_auth(&self.key)
            .header("content-type", "application/json")
            .body(self.body.clone())
            .send()
            .await
            .expect("create");
        assert_eq!(resp.status().as_u16(), 201, "create");
        resp.json().await.expect("create JSON")
    }

    /// The request object of `id`, fetched and checked as a wallet does.
    pub async fn request(&self, id: &str) -> proofme::wallet::AuthorizationRequest {
        let jwt = self
            .http
            .get(format!("{}/oid4vp/request/{id}", self.base))
            .send()
            .await
            .expect("request object")
            .text()
            .await
            .expect("request object body");
        proofme::wallet::verify_request(&jwt, None, None, proofme::domain::Timestamp::now())
            .expect("a valid request object")
    }
}
