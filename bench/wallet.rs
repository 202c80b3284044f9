//! The wallet flow end to end, against the release binary on loopback:
//!
//! - latency: from the moment a wallet posts its answer to the moment a
//!   desktop MyPage's status stream announces the final status (what makes
//!   the tab move on), over many identifications one after another;
//! - throughput: identifications taken from create to verified through the
//!   real protocol (fetch the signed request, get a PID from the test issuer,
//!   present, encrypt, post) by several concurrent wallets.
//!
//! Run it with `bench/run-wallet` (see bench/README.md).

#[path = "common.rs"]
mod common;

use common::{Server, Tenant, percentile, seed, value};
use proofme::oid4vp::dcql;
use proofme::oid4vp::jose::{self, ContentEncryption};
use proofme::wallet;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What the wallet answers with.
#[derive(Debug, Clone, Copy)]
enum Format {
    PidSdJwt,
    PidMdoc,
    AgeMdoc,
}

impl Format {
    const ALL: [Format; 3] = [Format::PidSdJwt, Format::PidMdoc, Format::AgeMdoc];

    fn wallet_format(self) -> wallet::WalletFormat {
        match self {
            Format::PidSdJwt => wallet::WalletFormat::SdJwt,
            _ => wallet::WalletFormat::Mdoc,
        }
    }

    fn doctype(self) -> Option<&'static str> {
        match self {
            Format::PidSdJwt => None,
            Format::PidMdoc => Some(dcql::PID_DOCTYPE),
            Format::AgeMdoc => Some(dcql::AV_DOCTYPE),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Format::PidSdJwt => "PID, SD-JWT VC",
            Format::PidMdoc => "PID, mdoc",
            Format::AgeMdoc => "age attestation, mdoc",
        }
    }
}

/// One identification: open its status stream as a desktop would, then act as
/// the wallet, timing from the POST of the answer to the final event.
async fn one_latency(t: &Tenant, format: Format) -> f64 {
    let created = t.create().await;
    let id = created["id"].as_str().expect("id");
    let stream = t
        .http
        .get(format!("{}/{id}/events", t.base))
        .send()
        .await
        .expect("events");
    let mut events = eventsource(stream);
    events.next().await.expect("first event");

    let request = t.request(id).await;
    let pending = events.next().await.expect("pending event");
    assert!(pending.contains("pending"), "{pending}");
    // The wallet command's own code gets the credential and presents it.
    let chosen = wallet::choose(
        &request.offered,
        Some(format.wallet_format()),
        format.doctype(),
    )
    .expect("offered");
    let presentation = wallet::presentation(
        &t.http,
        &wallet::PresentOptions::default(),
        &request,
        chosen,
        wallet::Bound::ResponseUri(request.response_uri.as_deref().expect("response_uri")),
        &t.base,
    )
    .await
    .expect("presentation");
    let payload = json!({"vp_token": {chosen.id.as_str(): [presentation]}, "state": request.state});
    let jwe = jose::encrypt(
        payload.to_string().as_bytes(),
        &request.response_key,
        ContentEncryption::A128Gcm,
        request.response_key.kid.as_deref(),
    )
    .expect("JWE");

    let started = Instant::now();
    let answer = t
        .http
        .post(request.response_uri.as_deref().expect("response_uri"))
        .form(&[("response", jwe.as_str())])
        .send()
        .await
        .expect("response");
    assert_eq!(answer.status().as_u16(), 200, "wallet answer");
    let last = events.next().await.expect("final event");
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    assert!(last.contains("\"verified\""), "{last}");
    elapsed
}

/// The `data:` lines of a status stream, event by event.
struct Events {
    resp: reqwest::Response,
    buf: String,
}

fn eventsource(resp: reqwest::Response) -> Events {
    Events {
        resp,
        buf: String::new(),
    }
}

impl Events {
    async fn next(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let event: String = self.buf.drain(..end + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data:")) {
                    return Some(data.trim().to_owned());
                }
                continue;
            }
            let chunk = self.resp.chunk().await.ok()??;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("wallet benchmark: run it with bench/run-wallet (cargo bench --bench wallet)");
        return;
    }
    let samples = value("--samples", 300) as usize;
    let wallets = value("--wallets", 8) as usize;
    let seconds = value("--seconds", 10);
    let bin = common::binary();
    let dir = tempfile::tempdir().expect("temp dir");
    let db_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let seed = seed(&bin, &db_url, &[], "test", &[]);
    let server = Server::start(&bin, &db_url);
    server.wait_ready().await;
    let tenant = Arc::new(Tenant::new(&server, &seed));

    // Warm up, then the latency of one flow at a time, the formats taking
    // turns so that each sees the same machine.
    for format in Format::ALL {
        for _ in 0..10 {
            one_latency(&tenant, format).await;
        }
    }
    let mut latencies: Vec<Vec<f64>> = Format::ALL
        .iter()
        .map(|_| Vec::with_capacity(samples))
        .collect();
    for _ in 0..samples {
        for (i, format) in Format::ALL.into_iter().enumerate() {
            latencies[i].push(one_latency(&tenant, format).await);
        }
    }
    for l in &mut latencies {
        l.sort_by(f64::total_cmp);
    }

    // Throughput: wallets in parallel, each taking identifications from
    // create to verified with the wallet command's own code.
    let done = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..wallets)
        .map(|_| {
            let (t, done, failed) = (tenant.clone(), done.clone(), failed.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let created = t.create().await;
                    let outcome = wallet::present(&wallet::PresentOptions {
                        link: created["myPageUrl"].as_str().unwrap_or_default().to_owned(),
                        ..Default::default()
                    })
                    .await;
                    match outcome {
                        Ok(o) if o.status == 200 => done.fetch_add(1, Ordering::Relaxed),
                        _ => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let peak = server.peak_rss_mib();
    server.stop();

    println!("\n| measure | value |");
    println!("|---|---:|");
    for (format, l) in Format::ALL.iter().zip(&latencies) {
        println!(
            "| wallet POST → final status event, {}, p50 / p99 | {:.2} / {:.2} ms |",
            format.label(),
            percentile(l, 0.5),
            percentile(l, 0.99)
        );
    }
    println!(
        "| create → verified through the protocol, {wallets} wallets | {:.0} /s |",
        done.load(Ordering::Relaxed) as f64 / elapsed
    );
    println!("| failed flows | {} |", failed.load(Ordering::Relaxed));
    println!("| server peak RSS | {peak:.0} MiB |");
    println!("\n{samples} latency samples per format; throughput over {seconds} s.");
}
