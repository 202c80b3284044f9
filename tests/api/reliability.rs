//! Under sustained concurrent load the service answers every request without a
//! server error: no `database is locked`, no 5xx of any kind.

use crate::helpers::*;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Seconds of load; the contract asks for 30.
const SOAK_SECS: u64 = 30;
/// The load goes on past `SOAK_SECS` until at least this much work was done,
/// however busy the machine, and stops after `LIMIT_SECS` in any case.
const ENOUGH_CREATES: usize = 1000;
const ENOUGH_OUTCOMES: usize = 100;
const LIMIT_SECS: u64 = 300;
const CLIENTS: usize = 64;

#[derive(Default)]
struct Tally {
    requests: AtomicUsize,
    server_errors: AtomicUsize,
    unexpected: AtomicUsize,
    creates: AtomicUsize,
    outcomes: AtomicUsize,
}

impl Tally {
    fn enough(&self) -> bool {
        self.creates.load(Ordering::Relaxed) > ENOUGH_CREATES
            && self.outcomes.load(Ordering::Relaxed) > ENOUGH_OUTCOMES
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "long: run by scripts/test's long step"]
async fn sixty_four_clients_of_mixed_work_for_thirty_seconds_get_no_server_error() {
    let app = Arc::new(spawn_app().await);
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let going = {
        let tally = tally.clone();
        move || {
            let elapsed = started.elapsed();
            elapsed < Duration::from_secs(LIMIT_SECS)
                && (elapsed < Duration::from_secs(SOAK_SECS) || !tally.enough())
        }
    };

    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (app, tally, going) = (app.clone(), tally.clone(), going.clone());
        clients.push(tokio::spawn(async move {
            let mut mine: Vec<String> = Vec::new();
            let mut n = c;
            while going() {
                n += 1;
                let (status, expected): (u16, &[u16]) = match n % 5 {
                    0 | 1 => {
                        let body =
                            app.json_body_with(json!({"description": format!("soak {c}-{n}")}));
                        let res = app.post_json(&body).await;
                        let status = res.status().as_u16();
                        if status == 201 {
                            let v: serde_json::Value = res.json().await.expect("json");
                            mine.push(v["id"].as_str().expect("id").to_owned());
                            tally.creates.fetch_add(1, Ordering::Relaxed);
                        }
                        (status, &[201])
                    }
                    2 => match mine.last() {
                        Some(id) => (
                            app.get(&format!("/v1/identification/{id}"))
                                .await
                                .status()
                                .as_u16(),
                            &[200],
                        ),
                        None => (
                            app.get("/v1/identification?limit=20")
                                .await
                                .status()
                                .as_u16(),
                            &[200],
                        ),
                    },
                    3 => match mine.pop() {
                        // Each identification gets one outcome: 200, never 409.
                        Some(id) => {
                            let outcome = ["verified", "failed", "canceled", "expired"][n % 4];
                            let status = app.api_test_outcome(&id, outcome).await.status().as_u16();
                            if status == 200 {
                                tally.outcomes.fetch_add(1, Ordering::Relaxed);
                            }
                            (status, &[200])
                        }
                        None => (
                            app.get_anonymous("/healthz").await.status().as_u16(),
                            &[200],
                        ),
                    },
                    _ => match mine.first() {
                        Some(id) => (
                            app.get_anonymous(&format!("/{id}")).await.status().as_u16(),
                            &[200],
                        ),
                        None => (
                            app.get("/v1/identification?limit=50&sortColumn=status")
                                .await
                                .status()
                                .as_u16(),
                            &[200],
                        ),
                    },
                };
                tally.requests.fetch_add(1, Ordering::Relaxed);
                if status >= 500 {
                    tally.server_errors.fetch_add(1, Ordering::Relaxed);
                } else if !expected.contains(&status) {
                    tally.unexpected.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for c in clients {
        c.await.expect("client task");
    }

    let requests = tally.requests.load(Ordering::Relaxed);
    assert_eq!(
        tally.server_errors.load(Ordering::Relaxed),
        0,
        "5xx answers out of {requests}"
    );
    assert_eq!(
        tally.unexpected.load(Ordering::Relaxed),
        0,
        "unexpected answers out of {requests}"
    );
    assert!(
        tally.creates.load(Ordering::Relaxed) > ENOUGH_CREATES,
        "too little work was done to mean anything"
    );
    assert!(
        tally.outcomes.load(Ordering::Relaxed) > ENOUGH_OUTCOMES,
        "too few status changes"
    );
    assert_eq!(
        app.store.integrity_check().await.expect("integrity check"),
        "ok"
    );
}
