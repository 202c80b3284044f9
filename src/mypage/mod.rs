//! MyPage: the page the customer lands on at `myPageUrl`. Server-rendered with
//! Leptos components and complete without JavaScript: outcomes and Cancel are
//! plain form posts answered with `303 See Other` to the `redirectUrl`.

pub mod events;
pub mod i18n;
pub mod qr;
pub mod view;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::sync::Arc;

use crate::AppState;
use crate::connections::ClientAddr;
use crate::domain::{ChangeCause, Identification, IdentificationId, Mode, Status};
use crate::http_common::Fields;
use crate::http_common::headers::{Header, SetHeaders};
use crate::lifecycle::SealError;
use crate::store::{Refusal, StoreError};
use i18n::{Lang, Language};

/// MyPage's own state: rendered pages and QR codes, and the open status
/// streams.
#[derive(Clone)]
pub struct MyPageState {
    pub pages: PageCache,
    pub qr: Arc<qr::QrCache>,
    pub streams: Arc<events::StreamSlots>,
    /// How often an open status stream re-reads the status (see `events`).
    pub recheck: std::time::Duration,
}

/// How many bytes of rendered pages are kept. A page with its QR code is
/// some 10 to 20 KB, so this holds thousands of open identifications.
pub const PAGE_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Rendered MyPages by what they depend on, bounded by their size: when it
/// is full, the least useful pages go, one by one (moka's TinyLFU).
pub type PageCache = moka::sync::Cache<PageKey, RenderedPage>;

/// A page cache holding at most `max_bytes` of pages.
pub fn page_cache(max_bytes: u64) -> PageCache {
    moka::sync::Cache::builder()
        .max_capacity(max_bytes)
        .weigher(|_, page: &RenderedPage| page.weight())
        .build()
}

impl MyPageState {
    pub fn new(config: &crate::config::Config) -> MyPageState {
        MyPageState {
            pages: page_cache(PAGE_CACHE_BYTES),
            qr: Arc::new(qr::QrCache::new(10_000)),
            streams: Arc::new(events::StreamSlots::new(
                config.max_streams_per_identification,
                config.max_streams_per_address,
            )),
            recheck: config.status_recheck,
        }
    }
}

/// What the request says about language, before we know the identification.
struct LangHints {
    /// `?setlang=`: what the customer picked with the language switch.
    chosen: Option<String>,
    /// `?lang=`: a hint in the link the customer followed.
    query: Option<String>,
    accept: Option<String>,
}

impl LangHints {
    fn read(query: Option<&str>, headers: &HeaderMap) -> LangHints {
        let fields = query.and_then(|q| Fields::from_form(q.as_bytes(), &["lang", "setlang"]).ok());
        let field = |name| {
            fields
                .as_ref()
                .and_then(|f| f.text(name).ok().flatten().map(str::to_owned))
        };
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        LangHints {
            chosen: field("setlang"),
            query: field("lang"),
            accept,
        }
    }

    fn choose(&self, ident: Option<&Identification>) -> Lang {
        Lang::choose(
            self.chosen.as_deref(),
            ident.and_then(|i| i.locale.as_ref()),
            self.query.as_deref(),
            self.accept.as_deref(),
        )
    }

    /// How links back into MyPage keep the language this request asked for.
    fn carry(&self) -> LangCarry {
        if self.chosen.as_deref().and_then(Lang::from_tag).is_some() {
            LangCarry::Chosen
        } else if self.query.is_some() {
            LangCarry::Hint
        } else {
            LangCarry::None
        }
    }
}

/// Whether links back into MyPage carry the language, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LangCarry {
    /// The identification or the browser decides again.
    None,
    /// `?lang=`, as the customer's link had it.
    Hint,
    /// `?setlang=`, as the customer picked it.
    Chosen,
}

impl LangCarry {
    fn suffix(self, lang: Lang) -> String {
        match self {
            LangCarry::None => String::new(),
            LangCarry::Hint => format!("?lang={}", lang.html_lang()),
            LangCarry::Chosen => format!("?setlang={}", lang.html_lang()),
        }
    }
}

pub(crate) fn html(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

pub(crate) fn not_found_page(lang: Lang) -> Response {
    let t = lang.strings();
    html(
        StatusCode::NOT_FOUND,
        view::message_page(lang, t.not_found_title, t.not_found_text),
    )
}

fn error_page(lang: Lang, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "MyPage failed");
    let t = lang.strings();
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        view::message_page(lang, t.error_title, t.error_text),
    )
}

/// A failure of the store: while the database is unavailable for a while
/// (full disk, lock held elsewhere) a page saying to come back soon, 503 with
/// `Retry-After`; otherwise the error page.
pub(crate) fn store_error_page(lang: Lang, e: &StoreError) -> Response {
    let Some(retry_after) = e.retry_after() else {
        return error_page(lang, e);
    };
    tracing::warn!(error = %e, "MyPage refused: the database is unavailable");
    let t = lang.strings();
    let mut res = html(
        StatusCode::SERVICE_UNAVAILABLE,
        view::message_page(lang, t.unavailable_title, t.unavailable_text),
    );
    res.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(retry_after.as_secs().max(1)),
    );
    res
}

/// The language a page answers in before any identification is known.
pub(crate) fn request_lang(query: Option<&str>, headers: &HeaderMap) -> Lang {
    LangHints::read(query, headers).choose(None)
}

/// The 404 for every path that is not the API's and not a MyPage.
pub async fn not_found(RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    not_found_page(LangHints::read(query.as_deref(), &headers).choose(None))
}

/// The strict policy for pages: our own script and style only, no inline
/// script, no framing. Forms may post to us and be redirected to the
/// organisation (Chromium checks `form-action` on the redirect target too).
fn content_security_policy(redirect_origin: Option<&str>) -> String {
    let form_action = match redirect_origin {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// The identification a MyPage URL names, or the page to answer instead
/// (a localized 404, or an error page).
async fn load(state: &AppState, hints: &LangHints, id: &str) -> Result<Identification, Response> {
    let Ok(id) = IdentificationId::parse(id) else {
        return Err(not_found_page(hints.choose(None)));
    };
    match state.store.find_identification(&id).await {
        Ok(Some(i)) => Ok(i),
        Ok(None) => Err(not_found_page(hints.choose(None))),
        Err(e) => Err(store_error_page(hints.choose(None), &e)),
    }
}

/// Which page of an identification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    /// `GET /{id}`.
    Main,
    /// `GET /{id}/cancel`: "Cancel this identification?".
    ConfirmCancel,
}

/// What a rendered identification page depends on, beyond the identification's
/// fixed fields, its organisation and its proofme (none of which change), and
/// the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    id: IdentificationId,
    status: Status,
    lang: Lang,
    carry: LangCarry,
    view: View,
}

/// A rendered page and its Content-Security-Policy.
#[derive(Clone)]
pub struct RenderedPage {
    body: Bytes,
    csp: HeaderValue,
}

impl RenderedPage {
    /// What the page costs the cache: its bytes, and a little for the entry.
    fn weight(&self) -> u32 {
        u32::try_from(self.body.len() + self.csp.len() + 64).unwrap_or(u32::MAX)
    }

    fn response(self) -> Response {
        let mut res = (StatusCode::OK, Html(self.body)).into_response();
        res.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, self.csp);
        res
    }
}

async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    // The request itself rather than a copy of its headers.
    req: Request,
) -> Response {
    let hints = LangHints::read(query.as_deref(), req.headers());
    let ident = match load(&state, &hints, &id).await {
        Ok(i) => i,
        Err(page) => return page,
    };
    cached(&state, ident, &hints, View::Main).await
}

/// `GET /{id}/cancel`: asks before anything changes. A final identification
/// has nothing left to cancel: its page shows how it ended.
async fn confirm_cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    // The request itself rather than a copy of its headers.
    req: Request,
) -> Response {
    let hints = LangHints::read(query.as_deref(), req.headers());
    let ident = match load(&state, &hints, &id).await {
        Ok(i) => i,
        Err(page) => return page,
    };
    if ident.status.is_final() {
        let lang = hints.choose(Some(&ident));
        let suffix = hints.carry().suffix(lang);
        return Redirect::to(&format!("/{}{suffix}", ident.id)).into_response();
    }
    cached(&state, ident, &hints, View::ConfirmCancel).await
}

/// A page from the cache, or rendered and kept.
async fn cached(
    state: &AppState,
    ident: Identification,
    hints: &LangHints,
    view: View,
) -> Response {
    let lang = hints.choose(Some(&ident));
    let key = PageKey {
        id: ident.id.clone(),
        status: ident.status,
        lang,
        carry: hints.carry(),
        view,
    };
    if let Some(page) = state.mypage.pages.get(&key) {
        return page.response();
    }
    match render_page(state, ident, &key).await {
        Ok(page) => {
            state.mypage.pages.insert(key, page.clone());
            page.response()
        }
        Err(RenderError::Store(e)) => store_error_page(lang, &e),
        Err(RenderError::Other(e)) => error_page(lang, e),
    }
}

#[derive(Debug, thiserror::Error)]
enum RenderError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

impl From<&str> for RenderError {
    fn from(e: &str) -> RenderError {
        RenderError::Other(e.to_owned())
    }
}

async fn render_page(
    state: &AppState,
    ident: Identification,
    key: &PageKey,
) -> Result<RenderedPage, RenderError> {
    let lang = key.lang;
    let lang_suffix = key.carry.suffix(lang);
    let org = state
        .store
        .get_organisation(&ident.organisation_id)
        .await?
        .ok_or("identification without organisation")?;
    // Only a plain host goes into the header (rows stored before hosts were
    // checked may hold others); without it the redirect after a form post is
    // left to the browser's own policy.
    let origin = ident
        .redirect_url
        .has_plain_host()
        .then(|| ident.redirect_url.url().origin().ascii_serialization());
    let csp = HeaderValue::from_str(&content_security_policy(origin.as_deref()))
        .map_err(|e| RenderError::Other(e.to_string()))?;
    if key.view == View::ConfirmCancel {
        let body = view::cancel_confirmation_page(view::ConfirmData {
            ident,
            org_name: org.name,
            lang,
            lang_suffix,
        });
        return Ok(RenderedPage {
            body: Bytes::from(body),
            csp,
        });
    }
    let proofme = state.store.proofme_of(&ident).await?;
    let wallet_link = qr::wallet_link(
        &state.config.public_url,
        &state.verifier.identity.client_id,
        &ident.id,
    );
    // Only an open page shows the QR code: once a wallet has the request a
    // second scan would replace it, and a final page has nothing to scan.
    let qr_svg = (ident.status == Status::Open)
        .then(|| state.mypage.qr.get_or_render(&ident.id, &wallet_link))
        .flatten();
    let configured = match lang.language() {
        Language::English => state.config.wallet_help.en.as_deref(),
        Language::Dutch => state.config.wallet_help.nl.as_deref(),
    };
    let wallet_help = configured.unwrap_or(lang.strings().wallet_help).to_owned();
    let body = view::identification_page(view::PageData {
        ident,
        org_name: org.name,
        proofme,
        wallet_link,
        qr_svg,
        lang,
        wallet_help,
        lang_suffix,
    });
    Ok(RenderedPage {
        body: Bytes::from(body),
        csp,
    })
}

/// Ends the identification from a MyPage form, then sends the customer back.
/// The change is committed before the redirect leaves, so the organisation's
/// return page reads the final status.
async fn finish(
    state: &AppState,
    hints: &LangHints,
    id: &str,
    next: Status,
    cause: ChangeCause,
) -> Response {
    let ident = match load(state, hints, id).await {
        Ok(i) => i,
        Err(page) => return page,
    };
    let id = ident.id.clone();
    let lang = hints.choose(Some(&ident));
    if cause == ChangeCause::MyPageTestOutcome && ident.mode == Mode::Live {
        let t = lang.strings();
        return html(
            StatusCode::FORBIDDEN,
            view::message_page(lang, t.live_outcome_title, t.live_outcome_text),
        );
    }
    let change = match state
        .lifecycle
        .test_outcome_change(&ident, next, cause)
        .await
    {
        Ok(c) => c,
        Err(SealError::Store(e)) => return store_error_page(lang, &e),
        Err(e) => return error_page(lang, e),
    };
    match state.lifecycle.change_status(&id, None, change).await {
        Ok(Ok(done)) => Redirect::to(done.redirect_url.as_str()).into_response(),
        // Already over (a second click, or it expired): the customer is done too.
        Ok(Err(Refusal::AlreadyFinal(done))) => {
            Redirect::to(done.redirect_url.as_str()).into_response()
        }
        Ok(Err(Refusal::NotAllowed(_))) => Redirect::to(&format!("/{id}")).into_response(),
        Ok(Err(Refusal::NotFound)) => not_found_page(lang),
        Err(e) => store_error_page(lang, &e),
    }
}

async fn test_outcome(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let hints = LangHints::read(query.as_deref(), &headers);
    let outcome = Fields::from_form(&body, &["outcome"])
        .ok()
        .and_then(|f| f.text("outcome").ok().flatten().and_then(Status::parse))
        .filter(|s| {
            matches!(
                s,
                Status::Verified | Status::Failed | Status::Canceled | Status::Expired
            )
        });
    let Some(next) = outcome else {
        return Redirect::to(&format!("/{id}")).into_response();
    };
    finish(&state, &hints, &id, next, ChangeCause::MyPageTestOutcome).await
}

/// `POST /{id}/cancel`: the confirmation itself (only the confirmation page
/// has this form).
async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let hints = LangHints::read(query.as_deref(), &headers);
    finish(
        &state,
        &hints,
        &id,
        Status::Canceled,
        ChangeCause::MyPageCancel,
    )
    .await
}

/// `GET /{id}/done?response_code=…`: where a wallet on the same device sends
/// the customer after answering. With the code the wallet was given, on to the
/// organisation's return page; otherwise to MyPage, which shows the status.
async fn done(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let hints = LangHints::read(query.as_deref(), &headers);
    let ident = match load(&state, &hints, &id).await {
        Ok(i) => i,
        Err(page) => return page,
    };
    let given = Fields::from_query(query.as_deref(), &["response_code"])
        .ok()
        .and_then(|f| f.text("response_code").ok().flatten().map(str::to_owned));
    let expected = match state.store.wallet_transaction(&ident.id).await {
        Ok(t) => t.and_then(|t| t.response_code),
        Err(e) => return store_error_page(hints.choose(Some(&ident)), &e),
    };
    let proven = match (given, expected) {
        (Some(g), Some(e)) => {
            use subtle::ConstantTimeEq;
            bool::from(g.as_bytes().ct_eq(e.as_bytes()))
        }
        _ => false,
    };
    if proven && ident.status.is_final() {
        Redirect::to(ident.redirect_url.as_str()).into_response()
    } else {
        Redirect::to(&format!("/{}", ident.id)).into_response()
    }
}

/// How long a client refused a status stream is asked to wait.
const STREAM_RETRY_AFTER_SECS: u64 = 10;

async fn status_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ClientAddr(client): ClientAddr,
) -> Response {
    let Ok(id) = IdentificationId::parse(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Taken before the lookup, so a flood of streams costs no database work.
    let Some(slot) = state.mypage.streams.take(&id, client) else {
        let mut res = (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many open status streams. Reload the page to check the status.",
        )
            .into_response();
        res.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(STREAM_RETRY_AFTER_SECS),
        );
        return res;
    };
    match state.store.find_identification(&id).await {
        Ok(Some(ident)) => events::stream(
            state.store.clone(),
            state.lifecycle.events().clone(),
            ident,
            slot,
            state.mypage.recheck,
        )
        .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => match e.retry_after() {
            Some(retry_after) => {
                tracing::warn!(error = %e, "status stream refused: the database is unavailable");
                let mut res = StatusCode::SERVICE_UNAVAILABLE.into_response();
                res.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after.as_secs().max(1)),
                );
                res
            }
            None => {
                tracing::error!(error = %e, "status stream failed to start");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        },
    }
}

/// The largest MyPage form post: an outcome, or nothing at all.
pub const FORM_LIMIT: usize = 16 * 1024;

/// Reads a MyPage form post whole, refusing more than `FORM_LIMIT` bytes
/// with a localized 413 page before anything is changed.
async fn limit_form_body(req: Request, next: Next) -> Response {
    let too_large = |parts: &axum::http::request::Parts| {
        let lang = LangHints::read(parts.uri.query(), &parts.headers).choose(None);
        let t = lang.strings();
        html(
            StatusCode::PAYLOAD_TOO_LARGE,
            view::message_page(lang, t.too_large_title, t.too_large_text),
        )
    };
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > FORM_LIMIT as u64) {
        return too_large(&parts);
    }
    match axum::body::to_bytes(body, FORM_LIMIT).await {
        Ok(bytes) => next.run(Request::from_parts(parts, bytes.into())).await,
        Err(e) if is_length_limit(&e) => too_large(&parts),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// The policy of a page that names no return address (error pages, 404s).
const DEFAULT_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

/// The headers of every MyPage answer, and of the public link's answers,
/// which lead to one: the URL is the secret, so it must not leak by
/// referrer, frame or cache (also not the status stream, which axum marks
/// `no-cache` only).
pub(crate) fn with_page_headers(router: Router<AppState>) -> Router<AppState> {
    static HEADERS: [Header; 4] = [
        Header::overriding(header::CACHE_CONTROL, "no-store"),
        Header::overriding(header::REFERRER_POLICY, "no-referrer"),
        Header::overriding(header::X_FRAME_OPTIONS, "DENY"),
        Header::if_absent(header::CONTENT_SECURITY_POLICY, DEFAULT_CSP),
    ];
    router.layer(SetHeaders(&HEADERS))
}

pub fn router() -> Router<AppState> {
    with_page_headers(
        Router::new()
            .route("/{id}", get(page))
            .route("/{id}/events", get(status_events))
            .route("/{id}/done", get(done))
            .route(
                "/{id}/test-outcome",
                post(test_outcome).layer(middleware::from_fn(limit_form_body)),
            )
            .route(
                "/{id}/cancel",
                get(confirm_cancel).merge(post(cancel).layer(middleware::from_fn(limit_form_body))),
            )
            .fallback(not_found),
    )
    .merge(crate::pages::assets::router())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(bytes: usize) -> RenderedPage {
        RenderedPage {
            body: Bytes::from(vec![b'x'; bytes]),
            csp: HeaderValue::from_static("default-src 'none'"),
        }
    }

    fn key() -> PageKey {
        PageKey {
            id: IdentificationId::generate(),
            status: Status::Open,
            lang: Lang::choose(None, None, None, None),
            carry: LangCarry::None,
            view: View::Main,
        }
    }

    #[test]
    fn the_page_cache_is_bounded_by_bytes_not_pages() {
        let cache = page_cache(100_000);
        let first = key();
        cache.insert(first.clone(), page(10_000));
        for _ in 0..100 {
            cache.insert(key(), page(10_000));
        }
        cache.run_pending_tasks();

        let held: u64 = cache.iter().map(|(_, p)| u64::from(p.weight())).sum();
        assert!(held <= 100_000, "{held} bytes held");
        assert!(cache.entry_count() > 0, "a full cache does not start over");
    }

    #[test]
    fn the_default_policy_is_the_policy_without_a_return_address() {
        assert_eq!(DEFAULT_CSP, content_security_policy(None));
    }

    #[test]
    fn a_cached_page_is_served_again() {
        let cache = page_cache(100_000);
        let k = key();
        cache.insert(k.clone(), page(1_000));
        assert!(cache.get(&k).is_some());
    }
}
