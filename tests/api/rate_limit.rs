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
