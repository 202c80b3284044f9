//! A proofme's public link, `/p/{slug}`: anyone with the link may start an
//! identification. Each visit creates one (not a request: `isRequest` false)
//! from the proofme's current revision, with the link's return address,
//! webhook and mode, and sends the visitor to its MyPage. Visits are rate
//! limited per client address, as each one writes a row.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use std::sync::Arc;
use std::time::Duration;

use crate::AppState;
use crate::config::Config;
use crate::connections::ClientAddr;
use crate::domain::identification::Opening;
use crate::domain::{HttpUrl, Identification};
use crate::http_common::address_limit::{AddressLimiter, retry_after_secs};
use crate::mypage::i18n::Lang;
use crate::mypage::{self, view};
use crate::outbound::guard;
use crate::store::CreateOutcome;

/// The most visits one address may make at once, however high the rate.
const MAX_BURST: u32 = 5;

/// Visits per client address (see `router`).
pub type VisitLimiter = AddressLimiter;

/// Why a public link's URLs were refused, by field (`redirectUrl`,
/// `webhookUrl`), with the same rules and words as the API's create.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {reason}")]
pub struct InvalidLinkUrl {
    pub field: &'static str,
    pub reason: String,
}

/// Checks a public link's return address and webhook as `POST
/// /v1/identification` checks them: absolute http(s) URLs, and a webhook
/// reachable on the public internet (unless private webhooks are allowed).
pub async fn check_link_urls(
    config: &Config,
    redirect_url: &str,
    webhook_url: Option<&str>,
) -> Result<(HttpUrl, Option<HttpUrl>), InvalidLinkUrl> {
    let parse = |field: &'static str, value: &str| {
        HttpUrl::parse(value).map_err(|e| InvalidLinkUrl {
            field,
            reason: e.to_string(),
        })
    };
    let redirect_url = parse("redirectUrl", redirect_url)?;
    let webhook_url = webhook_url
        .filter(|w| !w.is_empty())
        .map(|w| parse("webhookUrl", w))
        .transpose()?;
    if let (Some(url), false) = (&webhook_url, config.allow_private_webhooks) {
        guard::check_url(url).await.map_err(|e| InvalidLinkUrl {
            field: "webhookUrl",
            reason: format!("must be reachable on the public internet: {e}"),
        })?;
    }
    Ok((redirect_url, webhook_url))
}

/// `GET /p/{slug}`, with MyPage's headers and its own rate limit.
pub fn router(config: &Config) -> Router<AppState> {
    let limiter = Arc::new(VisitLimiter::new(config.public_link_rate_limit, MAX_BURST));
    mypage::with_page_headers(
        Router::new()
            .route("/p/{slug}", get(visit))
            .layer(Extension(limiter)),
    )
}

fn too_many_visits(lang: Lang, wait: Duration) -> Response {
    let (heading, text) = if lang.html_lang().starts_with("nl") {
        (
            "Even geduld",
            "Vanaf dit adres zijn in korte tijd te veel identificaties gestart. Probeer het over een minuut opnieuw.",
        )
    } else {
        (
            "Please wait a moment",
            "Too many identifications were started from this address in a short time. Try again in a minute.",
        )
    };
    let mut res = mypage::html(
        StatusCode::TOO_MANY_REQUESTS,
        view::message_page(lang, heading, text),
    );
    res.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after_secs(wait)),
    );
    res
}

/// One visit: a new identification of the link's proofme, then 303 to its
/// MyPage. An unknown or removed slug is MyPage's friendly 404.
async fn visit(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<VisitLimiter>>,
    ClientAddr(client): ClientAddr,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let lang = mypage::request_lang(query.as_deref(), &headers);
    if let Err(wait) = limiter.check(client) {
        return too_many_visits(lang, wait);
    }
    let (organisation_id, link) = match state.store.find_public_link(&slug).await {
        Ok(Some(found)) => found,
        Ok(None) => return mypage::not_found_page(lang),
        Err(e) => return mypage::store_error_page(lang, &e),
    };
    let proofme = match state
        .store
        .get_proofme(&organisation_id, &link.proofme_id)
        .await
    {
        Ok(Some(p)) => p,
        Ok(None) => return mypage::not_found_page(lang),
        Err(e) => return mypage::store_error_page(lang, &e),
    };
    let ident = Identification::open(
        &proofme,
        Opening {
            mode: link.mode,
            is_request: false,
            redirect_url: link.redirect_url,
            webhook_url: link.webhook_url,
        },
        state.config.identification_ttl,
        state.clock.now(),
    );
    match state.store.create_identification(&ident, None).await {
        Ok(CreateOutcome::Created) => {}
        Ok(other) => {
            tracing::error!(outcome = ?other, "public link: create without a key answered as a replay");
            return mypage::not_found_page(lang);
        }
        Err(e) => return mypage::store_error_page(lang, &e),
    }
    tracing::info!(id = %ident.id.for_log(), organisation = %ident.organisation_id, mode = %ident.mode, "identification created by public link");
    let my_page = format!("{}/{}", state.config.public_url, ident.id);
    match HeaderValue::from_str(&my_page) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => mypage::not_found_page(lang),
    }
}
