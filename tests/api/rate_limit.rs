//! Each API key is rate limited (DESIGN.md section 3): beyond its rate and
//! burst, 429 with `Retry-After`, without touching other keys.

use crate::helpers::*;
use proofme::domain::Mode;

#[tokio::test]
async fn a_key_beyond_its_burst_gets_429_with_retry_after_and_other_keys_do_not() {
    let app = spawn_app_with(|c| c.rate_limit = 2).await;
    let other_key = app.create_api_key(Mode::Test).await;

    // A rate of 2 per second allows a burst of 4.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(app.get("/v1/identification").await.status().as_u16());
    }

    assert_eq!(&statuses[..4], &[200, 200, 200, 200], "{statuses:?}");
    assert_eq!(statuses[5], 429, "{statuses:?}");
    let limited = app.get("/v1/identification").await;
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in whole seconds");
    assert!((1..=2).contains(&retry_after), "Retry-After {retry_after}");
    assert_problem(limited, 429, None).await;
    let other = app.get_with_key(&other_key, "/v1/identification").await;
    assert_eq!(other.status().as_u16(), 200, "another key was limited too");
}

#[tokio::test]
async fn a_limited_key_recovers_after_waiting() {
    let app = spawn_app_with(|c| c.rate_limit = 5).await;
    while app.get("/v1/identification").await.status().as_u16() != 429 {}

    tokio::time::sleep(std::time::Duration::from_millis(400)).await;

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

    let limited = limited.unwrap_or_else(|| panic!("never limited: {statuses:?}"));
    // Five failures pass, the sixth is counted over the limit, then 429;
    // a little slack for allowance that grows back on a slow machine.
    assert!(statuses.len() <= 10, "{statuses:?}");
    assert!(
        statuses[..statuses.len() - 1].iter().all(|s| *s == 401),
        "{statuses:?}"
    );
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in whole seconds");
    assert!(retry_after >= 1);
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
    let elsewhere = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().ok())
        .build()
        .expect("client")
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
