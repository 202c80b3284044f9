//! Each API key is rate limited (DESIGN.md section 3): beyond its rate and
//! burst, 429 with `Retry-After`, without touching other keys.

use crate::helpers::*;
use proofme::domain::Mode;
use reqwest::Response;
use std::time::{Duration, Instant};

fn retry_after(resp: &Response) -> u64 {
    resp.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in whole seconds")
}

/// Sends requests with `key` until one is refused; returns the statuses
/// before it and the refusal.
async fn until_limited(app: &TestApp, key: &str) -> (Vec<u16>, Response) {
    let mut statuses = Vec::new();
    loop {
        let resp = app.get_with_key(key, "/v1/identification").await;
        if resp.status().as_u16() == 429 {
            return (statuses, resp);
        }
        statuses.push(resp.status().as_u16());
        assert!(statuses.len() < 1000, "never limited: {statuses:?}");
    }
}

#[tokio::test]
async fn a_key_beyond_its_burst_gets_429_with_retry_after_and_other_keys_do_not() {
    let app = spawn_app_with(|c| c.rate_limit = 1).await;
    let other_key = app.create_api_key(Mode::Test).await;

    let started = Instant::now();
    let (statuses, limited) = until_limited(&app, &app.api_key).await;
    let elapsed = started.elapsed();

    // A rate of 1 per second allows a burst of 2, and one more request for
    // every whole second these took: the third is refused unless the
    // machine is slow enough for the allowance to grow back.
    assert_eq!(&statuses[..2], &[200, 200], "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let allowed = 2 + usize::try_from(elapsed.as_secs()).unwrap();
    assert!(
        statuses.len() <= allowed,
        "{} passed in {elapsed:?}: {statuses:?}",
        statuses.len()
    );
    assert_eq!(retry_after(&limited), 1);
    assert_problem(limited, 429, None).await;
    let other = app.get_with_key(&other_key, "/v1/identification").await;
    assert_eq!(other.status().as_u16(), 200, "another key was limited too");
}

#[tokio::test]
async fn a_limited_key_recovers_after_waiting() {
    let app = spawn_app_with(|c| c.rate_limit = 5).await;
    let (_, limited) = until_limited(&app, &app.api_key).await;

    // Time as long as Retry-After says is enough: the allowance grows back.
    app.clock
        .advance(Duration::from_secs(retry_after(&limited)));

    assert_eq!(app.get("/v1/identification").await.status().as_u16(), 200);
}

#[tokio::test]
async fn zero_turns_rate_limiting_off() {
    let app = spawn_app_with(|c| c.rate_limit = 0).await;

    for _ in 0..300 {
        assert_eq!(app.get("/v1/identification").await.status().as_u16(), 200);
    }
}

/// Failed authentications are limited per client address, before any key is
/// looked up (DESIGN.md section 3).
#[tokio::test]
async fn a_flood_of_wrong_keys_gets_429_with_retry_after() {
    let app = spawn_app_with(|c| c.auth_failure_limit = 5).await;
    let wrong = "test_000000000000000000000000000000";

    let started = Instant::now();
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..20 {
        let resp = app.get_with_key(wrong, "/v1/identification").await;
        statuses.push(resp.status().as_u16());
        if resp.status().as_u16() == 429 {
            limited = Some(resp);
            break;
        }
    }

    let elapsed = started.elapsed();
    let limited = limited.unwrap_or_else(|| panic!("never limited: {statuses:?}"));
    // Five failures pass, then 429;
    // plus one failure for every 12 s (a minute's allowance over five) these
    // took, on a machine that slow.
    let grown_back = usize::try_from(elapsed.as_secs() / 12).unwrap();
    assert!(
        statuses.len() <= 7 + grown_back,
        "{statuses:?} in {elapsed:?}"
    );
    assert!(
        statuses[..statuses.len() - 1].iter().all(|s| *s == 401),
        "{statuses:?}"
    );
    assert!(retry_after(&limited) >= 1);
    assert_problem(limited, 429, None).await;
}

#[tokio::test]
async fn a_blocked_address_is_refused_before_its_key_is_looked_at_and_others_are_not() {
    let app = spawn_app_with(|c| c.auth_failure_limit = 3).await;
    let mut attempts = 0;
    while app
        .get_with_key("live_nope", "/v1/identification")
        .await
        .status()
        .as_u16()
        != 429
    {
        attempts += 1;
        assert!(attempts < 20, "wrong keys were never limited");
    }

    // Even the right key: the address is refused before any lookup.
    let same_address = app.get("/v1/identification").await;
    let elsewhere = crate::helpers::checked(
        reqwest::Client::builder()
            .local_address("127.0.0.2".parse::<std::net::IpAddr>().ok())
            .build()
            .expect("client"),
    )
    .get(app.url("/v1/identification"))
    .bearer_auth(&app.api_key)
    .send()
    .await
    .expect("GET from another address");

    assert_eq!(same_address.status().as_u16(), 429);
    assert_eq!(elsewhere.status().as_u16(), 200);
}

#[tokio::test]
async fn right_keys_do_not_use_up_the_failure_allowance() {
    let app = spawn_app_with(|c| c.auth_failure_limit = 2).await;

    for _ in 0..20 {
        assert_eq!(app.get("/v1/identification").await.status().as_u16(), 200);
    }
    assert_eq!(
        app.get_with_key("test_nope", "/v1/identification")
            .await
            .status()
            .as_u16(),
        401
    );
}

#[tokio::test]
async fn exactly_the_failure_limit_passes_and_the_next_attempt_is_the_first_refused() {
    let limit = 30;
    let app = spawn_app_with(|c| c.auth_failure_limit = limit).await;
    let wrong = "test_000000000000000000000000000000";

    let mut statuses = Vec::new();
    for _ in 0..=limit {
        let resp = app.get_with_key(wrong, "/v1/identification").await;
        statuses.push(resp.status().as_u16());
    }

    // Thirty failures pass, and request 31 is the first refused. (These
    // take far less than the 2 s in which the allowance grows back by one.)
    let limit = usize::try_from(limit).unwrap();
    assert!(statuses[..limit].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses[limit], 429, "{statuses:?}");
}
