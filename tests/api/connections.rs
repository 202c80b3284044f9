//! Slow, silent and idle clients (DESIGN.md section 3, connections): headers
//! must arrive in time, idle connections close, connections are capped per
//! client address and in total, and the server keeps serving others.

use crate::helpers::*;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A timeout the tests wait out; long enough that a client on a busy machine
/// still sends a whole request head within it.
const SHORT: Duration = Duration::from_secs(1);
/// How long a test waits for something that should happen after `SHORT`.
const PATIENCE: Duration = Duration::from_secs(20);

/// Sends a complete keep-alive request and reads its whole answer, leaving
/// the connection open and idle.
async fn one_request(stream: &mut tokio::net::TcpStream) {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: proofme\r\n\r\n")
        .await
        .expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    // `/healthz` answers `ok`: the answer is complete once that body is in.
    while !got.ends_with(b"\r\n\r\nok") {
        let n = tokio::time::timeout(PATIENCE, stream.read(&mut buf))
            .await
            .expect("an answer")
            .expect("read");
        assert!(
            n > 0,
            "closed before answering: {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let app = spawn_app_with(|c| c.header_read_timeout = SHORT).await;
    let mut silent = connect_from("127.0.0.1", &app.address).await;

    let sent = wait_for_close(&mut silent, PATIENCE).await;

    assert!(sent.is_empty(), "{:?}", String::from_utf8_lossy(&sent));
}

#[tokio::test]
async fn a_connection_that_sends_half_a_header_is_closed() {
    let app = spawn_app_with(|c| c.header_read_timeout = SHORT).await;
    let mut slow = connect_from("127.0.0.1", &app.address).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: pro")
        .await
        .expect("write");

    wait_for_close(&mut slow, PATIENCE).await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_by_the_header_timer() {
    // The header timer restarts when a kept-alive connection waits for its
    // next request, so it bounds idleness even with a long idle timeout.
    let app = spawn_app_with(|c| {
        c.header_read_timeout = SHORT;
        c.idle_timeout = Duration::from_secs(3600);
    })
    .await;
    let mut conn = connect_from("127.0.0.1", &app.address).await;
    one_request(&mut conn).await;

    wait_for_close(&mut conn, PATIENCE).await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let app = spawn_app_with(|c| {
        c.header_read_timeout = Duration::from_secs(3600);
        c.idle_timeout = SHORT;
    })
    .await;
    let mut conn = connect_from("127.0.0.1", &app.address).await;
    one_request(&mut conn).await;

    wait_for_close(&mut conn, PATIENCE).await;
}

#[tokio::test]
async fn an_address_beyond_its_connection_limit_is_refused_and_others_are_served() {
    let app = spawn_app_with(|c| c.max_connections_per_address = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = connect_from("127.0.0.2", &app.address).await;
        one_request(&mut conn).await;
        held.push(conn);
    }

    let mut fourth = connect_from("127.0.0.2", &app.address).await;
    let _ = fourth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: proofme\r\n\r\n")
        .await;
    let answer = wait_for_close(&mut fourth, PATIENCE).await;

    assert!(answer.is_empty(), "the fourth was served");
    let res = app.get_anonymous("/healthz").await;
    assert_eq!(res.status().as_u16(), 200, "another address was refused");
    one_request(&mut held[0]).await;
}

#[tokio::test]
async fn at_the_total_limit_an_idle_connection_makes_room_for_a_new_client() {
    let app = spawn_app_with(|c| c.max_connections = Some(4)).await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        let mut conn = connect_from("127.0.0.2", &app.address).await;
        one_request(&mut conn).await;
        idle.push(conn);
    }

    let res = app.get_anonymous("/healthz").await;

    assert_eq!(res.status().as_u16(), 200);
    // The one idle longest (the first) was closed to make room.
    wait_for_close(&mut idle[0], PATIENCE).await;
}

#[tokio::test]
async fn with_few_file_descriptors_hundreds_of_idle_connections_do_not_stop_the_server() {
    let server = serve_binary(&[], Some(256)).await;
    let mut idle = Vec::new();
    for _ in 0..400 {
        idle.push(connect_from("127.0.0.2", &server.address).await);
    }

    let res = client()
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("/healthz while the idle connections are open");

    assert_eq!(res.status().as_u16(), 200);
    let log = server.log();
    assert!(!log.contains("Too many open files"), "{log}");
    assert!(log.contains("limits in force"), "{log}");
    drop(idle);
}

#[tokio::test]
async fn status_streams_beyond_the_limits_get_429() {
    let app = spawn_app_with(|c| {
        c.max_streams_per_identification = 2;
        c.max_streams_per_address = 3;
    })
    .await;
    let a = app.create_identification(json!({})).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let b = app.create_identification(json!({})).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let open = |id: &str, client: &Client| client.get(app.url(&format!("/{id}/events"))).send();
    let local = client();
    let mut streams = Vec::new();
    for id in [&a, &a] {
        let resp = open(id, &local).await.expect("stream");
        assert_eq!(resp.status().as_u16(), 200);
        streams.push(resp);
    }

    let third_on_a = open(&a, &local).await.expect("answer");
    assert_eq!(third_on_a.status().as_u16(), 429, "per identification");
    assert!(third_on_a.headers().contains_key("retry-after"));
    let first_on_b = open(&b, &local).await.expect("stream");
    assert_eq!(first_on_b.status().as_u16(), 200);
    let second_on_b = open(&b, &local).await.expect("answer");
    assert_eq!(second_on_b.status().as_u16(), 429, "per address");
    let elsewhere = checked(
        reqwest::Client::builder()
            .local_address("127.0.0.2".parse::<std::net::IpAddr>().ok())
            .build()
            .expect("client"),
    );
    let from_another_address = open(&b, &elsewhere).await.expect("stream");
    assert_eq!(from_another_address.status().as_u16(), 200);

    // A stream that ends gives its place back.
    drop(streams.pop());
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let again = open(&a, &elsewhere).await.expect("answer");
        if again.status().as_u16() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the place never came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_request_whose_body_does_not_arrive_in_time_gets_408() {
    let app = spawn_app_with(|c| c.request_timeout = SHORT).await;
    let request = format!(
        "POST /v1/identification HTTP/1.1\r\nHost: proofme\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"des",
        app.api_key
    );

    let answer = raw_exchange(&app.address, request.as_bytes()).await;

    assert_eq!(raw_status(&answer), 408, "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
}

#[tokio::test]
async fn a_status_stream_outlives_the_request_timeout() {
    // Long enough for the create and the outcome on a busy machine.
    let timeout = Duration::from_secs(3);
    let app = spawn_app_with(|c| c.request_timeout = timeout).await;
    let id = app.create_identification(json!({})).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let resp = app
        .client
        .get(app.url(&format!("/{id}/events")))
        .send()
        .await
        .expect("stream");
    let mut events = EventStream::new(resp);
    assert!(events.next(PATIENCE).await.is_some(), "first event");

    // Past the timeout, as a request begun after the stream shows: its body
    // never comes, and it is answered 408 only once its timeout has run.
    let late = format!(
        "POST /v1/identification HTTP/1.1\r\nHost: proofme\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{",
        app.api_key
    );
    let answer = raw_exchange(&app.address, late.as_bytes()).await;
    assert_eq!(raw_status(&answer), 408, "{answer}");
    app.set_outcome(&id, "verified").await;

    let last = events.next(PATIENCE).await.expect("the final event");
    assert!(last.data.contains("verified"), "{}", last.data);
}
