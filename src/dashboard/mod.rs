//! The organisation dashboard at `/dashboard`: where an organisation's people
//! work without curl. Pages are `leptos_router` routes rendered on the server
//! by `leptos_axum` (no WebAssembly, no hydration: every page is complete
//! HTML and every action a plain form post); actions are Leptos server
//! functions; sessions are `tower-sessions` in the service's own database.
//!
//! Around every route, from the outside in: the security headers, the
//! session, the signed-in check (`guard::require_user`) and the CSRF check
//! (`guard::check_csrf`).

pub mod app;
pub mod guard;
pub mod identifications;
pub mod keys;
pub mod login;
pub mod password;
pub mod proofmes;
pub mod webhooks;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::AppState;

pub const LOGIN_PATH: &str = "/dashboard/login";
/// Server functions (the dashboard's actions) are posted under this prefix.
pub const ACTIONS: &str = "/dashboard/act";
pub const SIGN_OUT_PATH: &str = "/dashboard/act/sign-out";
/// The session cookie's name.
pub const COOKIE: &str = "proofme_dashboard";
/// A session unused for this long has ended.
pub const IDLE_EXPIRY: time::Duration = time::Duration::hours(8);

/// A message carried from an action to the page it redirects to.
#[derive(Debug, Clone)]
pub struct Flash(pub String);
/// A secret shown once, on the page an action redirects to.
#[derive(Debug, Clone)]
pub struct Once(pub String);

/// The strict policy: our own stylesheet, forms only to ourselves, no
/// framing, and no script but the inline ones carrying `nonce` (see
/// `app::shell`); without a nonce, none at all.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let script = match nonce {
        Some(n) => format!("'nonce-{n}'"),
        None => "'none'".to_owned(),
    };
    format!(
        "default-src 'none'; script-src {script}; style-src 'self'; img-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// Any other path under `/dashboard`.
async fn not_found() -> axum::response::Response {
    app::message_page(
        axum::http::StatusCode::NOT_FOUND,
        "Not found",
        "There is no such page in your dashboard.",
    )
}

pub fn leptos_options() -> LeptosOptions {
    // The site root is never served from disk (assets are embedded), but
    // must not be the working directory, where the database may lie.
    LeptosOptions::builder()
        .output_name("proofme")
        .site_root("site")
        .build()
}

/// The dashboard's routes, with their layers; `state` is what pages and
/// actions reach through context.
pub fn router(state: &AppState) -> Router<AppState> {
    let secure = state.config.public_url.starts_with("https://");
    let sessions = SessionManagerLayer::new(state.store.sessions())
        .with_name(COOKIE)
        .with_path("/dashboard")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(IDLE_EXPIRY));
    let routes = generate_route_list(app::App);
    Router::new()
        .route(LOGIN_PATH, axum::routing::post(login::sign_in))
        .route(
            identifications::EXPORT_PATH,
            axum::routing::get(identifications::export_csv),
        )
        .leptos_routes_with_context(state, routes, || (), app::shell)
        .route("/dashboard/{*rest}", axum::routing::any(not_found))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::check_csrf,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::require_user,
        ))
        .layer(sessions)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&content_security_policy(None))
                .unwrap_or(HeaderValue::from_static("default-src 'none'")),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}
