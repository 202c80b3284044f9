//! Erasure erases (DESIGN.md section 5a): once `DELETE
//! /v1/identification/data/{id}` has answered, the shared data's ciphertext
//! and wrapped key are in none of SQLite's files, the WAL included.
//! (PostgreSQL keeps dead rows until VACUUM; see README.)

use crate::helpers::*;
use proofme::wallet;
use reqwest::StatusCode;
use sqlx::Connection;

/// Every file SQLite writes for the database at `path`.
fn database_files(path: &str) -> Vec<std::path::PathBuf> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| std::path::PathBuf::from(format!("{path}{suffix}")))
        .filter(|p| p.exists())
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn erased_shared_data_is_in_neither_the_database_nor_its_wal() {
    if on_postgres() {
        eprintln!("SQLite files only: PostgreSQL erasure relies on VACUUM");
        return;
    }
    // Arrange: a test identification completed through the wallet protocol.
    let app = spawn_app().await;
    let id = app.create_with_description("x").await;
    let link = app.identification(&id).await["myPageUrl"]
        .as_str()
        .expect("myPageUrl")
        .to_owned();
    let outcome = wallet::present(&wallet::PresentOptions {
        link,
        ..Default::default()
    })
    .await
    .expect("present");
    assert_eq!(outcome.status, 200, "{:?}", outcome.body);
    let path = app
        .database_url
        .strip_prefix("sqlite://")
        .expect("a SQLite file");
    let mut db = sqlx::SqliteConnection::connect(&app.database_url)
        .await
        .expect("connect");
    let (wrapped_key, ciphertext): (Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT wrapped_key, ciphertext FROM shared_data WHERE identification_id = ?",
    )
    .bind(&id)
    .fetch_one(&mut db)
    .await
    .expect("the stored data");
    db.close().await.expect("close");
    let stored = |bytes: &[u8]| {
        database_files(path).into_iter().find(|file| {
            let on_disk = std::fs::read(file).expect("read a database file");
            contains(&on_disk, bytes)
        })
    };
    assert!(stored(&ciphertext).is_some(), "the ciphertext is on disk");

    // Act
    let erased = app.delete(&format!("/v1/identification/data/{id}")).await;

    // Assert
    assert_eq!(erased.status(), StatusCode::OK);
    assert_eq!(stored(&ciphertext), None, "the ciphertext is still on disk");
    assert_eq!(
        stored(&wrapped_key),
        None,
        "the wrapped key is still on disk"
    );
}
