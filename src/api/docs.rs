//! `GET /docs`: the API reference for people, rendered in the browser by
//! Redoc from `/v1/openapi.json`. Redoc's bundle is vendored in
//! `vendor/redoc/` (see `scripts/vendor-redoc`) and built into the binary, so
//! the page loads nothing from elsewhere.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::http_common::headers::{Header, SetHeaders};

/// The renderer's version, which is also its URL's cache buster.
pub const REDOC_VERSION: &str = include_str!("../../vendor/redoc/VERSION");
static REDOC: &[u8] = include_bytes!("../../vendor/redoc/redoc.standalone.js");
static REDOC_LICENSE: &str = include_str!("../../vendor/redoc/LICENSE");

/// The bundle's path carries its version, so browsers may keep it a year.
fn redoc_path() -> String {
    format!("/docs/redoc-{}.standalone.js", REDOC_VERSION.trim())
}

/// Starts Redoc on the page with its telemetry off (the page's CSP would
/// block it anyway). Importing the bundle also runs its own start, which
/// finds no `<redoc>` element here and does nothing.
fn start_script() -> String {
    format!(
        "// Renders the API reference from the published document.\n\
         import {{ init }} from '{}';\n\
         init('/v1/openapi.json', {{ disableTelemetry: true }}, document.getElementById('api-reference'));\n",
        redoc_path()
    )
}

/// No inline script. Redoc writes its styles into `<style>` elements at run
/// time (styled-components), and renders nothing without them, so styles may
/// be inline; its icon font is a `data:` URL. Everything else comes from this
/// origin: its attribution logo, which it would load from elsewhere, is
/// refused and hidden.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const PAGE: &str = "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Proofme API reference</title>\n\
         <link rel=\"icon\" href=\"/public/favicon.svg\" type=\"image/svg+xml\">\n\
         </head>\n<body>\n\
         <noscript>The API reference needs JavaScript. The document it shows is \
         <a href=\"/v1/openapi.json\">/v1/openapi.json</a>.</noscript>\n\
         <div id=\"api-reference\"></div>\n\
         <script type=\"module\" src=\"/docs/docs.js\"></script>\n\
         </body>\n</html>\n";

async fn docs() -> Response {
    let mut res = PAGE.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

async fn start() -> Response {
    let mut res = start_script().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    res
}

async fn script() -> Response {
    let mut res = REDOC.into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    // The URL carries the version, so browsers may keep it a year.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    res
}

async fn license() -> Response {
    let mut res = REDOC_LICENSE.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

static HEADERS: [Header; 2] = [
    Header::overriding(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    Header::overriding(header::REFERRER_POLICY, "no-referrer"),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/docs", get(docs))
        .route("/docs/docs.js", get(start))
        .route(&redoc_path(), get(script))
        .route("/docs/redoc.LICENSE.txt", get(license))
        .layer(SetHeaders(&HEADERS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_no_inline_script_and_loads_the_vendored_renderer() {
        let page = PAGE;
        assert!(page.contains("<script type=\"module\" src=\"/docs/docs.js\"></script>"));
        assert!(start_script().contains(&redoc_path()));
        assert_eq!(page.matches("<script").count(), 1, "{page}");
        assert!(!page.contains("<style"), "{page}");
        assert!(!page.contains(" style="), "{page}");
        assert!(!REDOC_VERSION.trim().is_empty());
        assert!(REDOC.starts_with(b"/**"));
    }
}
