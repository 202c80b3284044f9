//! MyPage: the page the customer lands on at `myPageUrl`. Server-rendered with
//! Leptos components and complete without JavaScript: outcomes and Cancel are
//! plain form posts answered with `303 See Other` to the `redirectUrl`.

pub mod assets;
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

use crate::AppState;
use crate::api::input::Fields;
use crate::domain::{ChangeCause, Identification, IdentificationId, Mode, Status};
use crate::lifecycle;
use crate::store::Refusal;
use i18n::{Lang, Language};

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

fn html(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

fn not_found_page(lang: Lang) -> Response {
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
        Err(e) => Err(error_page(hints.choose(None), e)),
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
    headers: HeaderMap,
) -> Response {
    let hints = LangHints::read(query.as_deref(), &headers);
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
    headers: HeaderMap,
) -> Response {
    let hints = LangHints::read(query.as_deref(), &headers);
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
    if let Some(page) = state.pages.get(&key) {
        return page.response();
    }
    match render_page(state, ident, &key).await {
        Ok(page) => {
            state.pages.insert(key, page.clone());
            page.response()
        }
        Err(e) => error_page(lang, e),
    }
}

async fn render_page(
    state: &AppState,
    ident: Identification,
    key: &PageKey,
) -> Result<RenderedPage, String> {
    let lang = key.lang;
    let lang_suffix = key.carry.suffix(lang);
    let org = state
        .store
        .get_organisation(&ident.organisation_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("identification without organisation")?;
    let origin = ident.redirect_url.url().origin().ascii_serialization();
    let csp = HeaderValue::from_str(&content_security_policy(Some(&origin)))
        .map_err(|e| e.to_string())?;
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
    let proofme = state
        .store
        .get_proofme(&ident.organisation_id, &ident.proofme_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("identification without proofme")?;
    let wallet_link = qr::wallet_link(
        &state.config.public_url,
        &state.verifier.identity.client_id,
        &ident.id,
    );
    // Only an open page shows the QR code: once a wallet has the request a
    // second scan would replace it, and a final page has nothing to scan.
    let qr_svg = (ident.status == Status::Open)
        .then(|| state.qr.get_or_render(&ident.id, &wallet_link))
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
    let change = match lifecycle::test_outcome_change(state, &ident, next, cause).await {
        Ok(c) => c,
        Err(e) => return error_page(lang, e),
    };
    match lifecycle::change_status(state, &id, None, change).await {
        Ok(Ok(done)) => Redirect::to(done.redirect_url.as_str()).into_response(),
        // Already over (a second click, or it expired): the customer is done too.
        Ok(Err(Refusal::AlreadyFinal(done))) => {
            Redirect::to(done.redirect_url.as_str()).into_response()
        }
        Ok(Err(Refusal::NotAllowed(_))) => Redirect::to(&format!("/{id}")).into_response(),
        Ok(Err(Refusal::NotFound)) => not_found_page(lang),
        Err(e) => error_page(lang, e),
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
    let given = query
        .and_then(|q| Fields::from_form(q.as_bytes(), &["response_code"]).ok())
        .and_then(|f| f.text("response_code").ok().flatten().map(str::to_owned));
    let expected = match state.store.wallet_transaction(&ident.id).await {
        Ok(t) => t.and_then(|t| t.response_code),
        Err(e) => return error_page(hints.choose(Some(&ident)), e),
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

async fn status_events(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = IdentificationId::parse(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match state.store.find_identification(&id).await {
        Ok(Some(ident)) => events::stream(state, ident).into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "status stream failed to start");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Headers for every MyPage response: the URL is the secret, so it must not
/// leak by referrer, cache or frame.
async fn page_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(csp) = HeaderValue::from_str(&content_security_policy(None)) {
            h.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
    }
    res
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{id}", get(page))
        .route("/{id}/events", get(status_events))
        .route("/{id}/test-outcome", post(test_outcome))
        .route("/{id}/cancel", get(confirm_cancel).post(cancel))
        .route("/{id}/done", get(done))
        .fallback(not_found)
        .layer(middleware::from_fn(page_headers))
        .merge(assets::router())
}
