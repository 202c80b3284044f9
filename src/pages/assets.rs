//! The pages' static files, built into the binary from `style/` and `public/`.
//!
//! Embedding means the server never serves from a folder on disk (so nothing
//! else there, such as the database, can leak) and works from any working
//! directory. Each URL carries a content hash, so browsers may cache for a year.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use tower_http::set_header::SetResponseHeaderLayer;

pub struct Asset {
    pub path: &'static str,
    content_type: &'static str,
    body: &'static str,
    version: LazyLock<String>,
}

impl Asset {
    /// The path with `?v=<hash>`, as pages link it.
    pub fn versioned_path(&self) -> String {
        format!("{}?v={}", self.path, *self.version)
    }

    fn response(&self) -> Response {
        let mut res = self.body.into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        res
    }
}

macro_rules! asset {
    ($path:literal, $file:literal, $ct:literal) => {
        Asset {
            path: $path,
            content_type: $ct,
            body: include_str!(concat!("../../", $file)),
            version: LazyLock::new(|| {
                hex::encode(&Sha256::digest(include_str!(concat!("../../", $file)).as_bytes())[..6])
            }),
        }
    };
}

pub static STYLE: Asset = asset!(
    "/style/mypage.css",
    "style/mypage.css",
    "text/css; charset=utf-8"
);
pub static SCRIPT: Asset = asset!(
    "/public/mypage.js",
    "public/mypage.js",
    "text/javascript; charset=utf-8"
);
pub static DASHBOARD_STYLE: Asset = asset!(
    "/style/dashboard.css",
    "style/dashboard.css",
    "text/css; charset=utf-8"
);
pub static DASHBOARD_SCRIPT: Asset = asset!(
    "/public/dashboard.js",
    "public/dashboard.js",
    "text/javascript; charset=utf-8"
);
pub static FAVICON: Asset = asset!("/public/favicon.svg", "public/favicon.svg", "image/svg+xml");

/// The routes for the files above. They need no state, so the router fits
/// any app's (and `pages/` stays below the state the handlers share).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(STYLE.path, get(|| async { STYLE.response() }))
        .route(
            DASHBOARD_STYLE.path,
            get(|| async { DASHBOARD_STYLE.response() }),
        )
        .route(SCRIPT.path, get(|| async { SCRIPT.response() }))
        .route(
            DASHBOARD_SCRIPT.path,
            get(|| async { DASHBOARD_SCRIPT.response() }),
        )
        .route(FAVICON.path, get(|| async { FAVICON.response() }))
        .route("/favicon.ico", get(|| async { FAVICON.response() }))
        // The URL carries the content's hash, so browsers may keep it a year.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ))
}
