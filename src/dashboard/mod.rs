//! The organisation dashboard at `/dashboard`: where an organisation's people
//! work without curl. Pages are `leptos_router` routes rendered on the server
//! by `leptos_axum` (no WebAssembly, no hydration: every page is complete
//! HTML and every action a plain form post); actions are Leptos server
//! functions; sessions are `tower-sessions` in the service's own database
//! (read through an in-memory cache on SQLite, see `sessions`).
//!
//! Around every route, from the outside in: the security headers, the
//! answer to a session that could not be saved, the session, the signed-in
//! check (`guard::require_user`) and the CSRF check
//! (`guard::check_csrf`).

pub mod actions;
pub mod app;
pub mod audit;
pub mod cleanup;
pub mod guard;
pub mod identifications;
pub mod keys;
pub mod login;
pub mod overview;
pub mod password;
pub mod proofmes;
pub mod sessions;
pub mod settings;
pub mod webhooks;
pub mod words;

use axum::Router;
use axum::http::header;
use axum::middleware;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::AppState;
use crate::http_common::headers::{Header, SetHeaders};

pub const LOGIN_PATH: &str = "/dashboard/login";
/// Server functions (the dashboard's actions) are posted under this prefix.
pub const ACTIONS: &str = "/dashboard/act";
pub const SIGN_OUT_PATH: &str = "/dashboard/act/sign-out";
/// The session cookie's name.
pub const COOKIE: &str = "proofme_dashboard";
/// A session unused for this long has ended.
pub const IDLE_EXPIRY: time::Duration = time::Duration::hours(8);

/// The policy of an answer that carries no nonce (redirects, errors, the
/// CSV export): no script at all.
const CSP_WITHOUT_SCRIPTS: &str = "default-src 'none'; script-src 'none'; style-src 'self'; \
    img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The headers of every dashboard answer. A page's own policy, with its
/// nonce, is kept.
static HEADERS: [Header; 4] = [
    Header::if_absent(header::CONTENT_SECURITY_POLICY, CSP_WITHOUT_SCRIPTS),
    Header::overriding(header::REFERRER_POLICY, "same-origin"),
    Header::overriding(header::X_FRAME_OPTIONS, "DENY"),
    Header::overriding(header::CACHE_CONTROL, "no-store"),
];

/// A message carried from an action to the page it redirects to: what was
/// done.
#[derive(Debug, Clone)]
pub struct Flash(pub String);
/// Why an action did nothing, carried to the page it redirects to.
#[derive(Debug, Clone)]
pub struct Alert(pub String);
/// The identification whose shared data "Show" asked to see, on the page
/// the action redirects to.
#[derive(Debug, Clone)]
pub struct Revealed(pub String);
/// A form an action sent back unsaved: what was typed, which field is at
/// fault and why, for the page at `page` to show again as it was.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FormBack {
    pub page: String,
    /// Which of the page's forms it is.
    pub form: String,
    pub fields: Vec<(String, String)>,
    /// The id of the field at fault on the page.
    pub field: String,
    pub message: String,
}

impl FormBack {
    /// What was typed in the field `name`, if it was sent.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Why the field `id` is at fault, if it is the one.
    pub fn error_for(&self, id: &str) -> Option<String> {
        (self.field == id).then(|| self.message.clone())
    }
}

/// A secret shown once, on the page an action redirects to.
#[derive(Debug, Clone)]
pub struct ShownOnce(pub String);

/// The strict policy: our own stylesheet, forms only to ourselves, no
/// framing, and no script but the inline ones carrying `nonce` (see
/// `app::shell`); without a nonce, none at all.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let script = match nonce {
        Some(n) => format!("'nonce-{n}'"),
        None => "'none'".to_owned(),
    };
    format!(
        "default-src 'none'; script-src {script}; style-src 'self'; img-src 'self' data:; \
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
    let sessions =
        SessionManagerLayer::new(sessions::DashboardSessions::new(state.store.sessions()))
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
        .route(audit::EXPORT_PATH, axum::routing::get(audit::export_csv))
        .leptos_routes_with_context(state, routes, || (), app::shell)
        .route("/dashboard/{*rest}", axum::routing::any(not_found))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            actions::answer_failures,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::check_csrf,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::require_user,
        ))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::answer_unsaved_sessions,
        ))
        .layer(SetHeaders(&HEADERS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_without_scripts_is_the_policy_without_a_nonce() {
        assert_eq!(CSP_WITHOUT_SCRIPTS, content_security_policy(None));
    }
}
