//! What stands in front of every dashboard page and action: the session
//! (who is signed in, idle expiry), and the CSRF rules for anything that
//! changes state.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use crate::AppState;
use crate::domain::{OrganisationId, UserId};

/// The session's keys.
pub(super) const USER: &str = "user";
pub(super) const CSRF: &str = "csrf";
/// When the session's user signed in (Unix ms): the start of its absolute
/// lifetime.
pub const SIGNED_IN_AT: &str = "signed_in_at";
/// When the session was last marked active (Unix ms).
const SEEN: &str = "seen";
/// A one-line message for the next page (after a redirect): what was done.
pub(super) const FLASH: &str = "flash";
/// A one-line message for the next page: why nothing was done.
pub(super) const ALERT: &str = "alert";
/// A form sent back to the next page, with what was typed (`FormBack`).
pub(super) const FORM: &str = "form";
/// A secret to show once on the next page (a new API key, say).
pub(super) const ONCE: &str = "once";
/// The identification whose shared data the next page shows.
pub(super) const REVEAL: &str = "reveal";

/// The cookie that carries the sign-in form's CSRF token (a double-submit
/// token): before sign-in there is no stored session to keep it in, and a
/// row per view of the sign-in page would let anyone fill the table.
pub const LOGIN_COOKIE: &str = "proofme_login_csrf";
/// The cookie that carries a failure of ours to the page an action goes
/// back to. It holds only the name of one of our fixed messages (see
/// `Failure`), never text: it is used when the database may not be taking
/// writes, and so cannot keep the message in the session.
pub const ALERT_COOKIE: &str = "proofme_alert";
/// Random base62 characters in a CSRF token.
const TOKEN_CHARS: usize = 32;

/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";
/// The most a dashboard form may send.
pub const FORM_LIMIT: usize = 64 * 1024;
/// A session is marked active again at most this often: marking it writes it.
const TOUCH_EVERY_MS: i64 = 5 * 60 * 1000;

/// Who is signed in, for the pages and actions of this request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: UserId,
    pub organisation_id: OrganisationId,
    pub email: String,
}

/// A failure on our side that ends an action, as the next page tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The database is busy or unreachable for a while.
    Unavailable,
    /// Anything else; it is logged where it happened.
    Internal,
}

impl Failure {
    const ALL: [Failure; 2] = [Failure::Unavailable, Failure::Internal];

    fn code(self) -> &'static str {
        match self {
            Failure::Unavailable => "unavailable",
            Failure::Internal => "internal",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Failure::Unavailable => {
                "The dashboard is briefly unavailable, so this was not done. Please try again in a moment."
            }
            Failure::Internal => {
                "Something went wrong on our side, so this was not done. Please try again."
            }
        }
    }
}

/// The failure the request's alert cookie names, if any.
fn failure_in_cookie(headers: &HeaderMap) -> Option<Failure> {
    let code = cookie(headers, ALERT_COOKIE)?;
    Failure::ALL.into_iter().find(|f| f.code() == code)
}

/// The `Set-Cookie` value that carries `failure` to the next page (`None`:
/// that removes it). Short-lived: it is meant for the very next page.
fn alert_cookie(failure: Option<Failure>, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let (value, age) = match failure {
        Some(f) => (f.code(), 60),
        None => ("", 0),
    };
    // Only our fixed codes and digits: always a valid header value.
    HeaderValue::from_str(&format!(
        "{ALERT_COOKIE}={value}; Path=/dashboard; Max-Age={age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("proofme_alert=; Path=/dashboard; Max-Age=0"))
}

/// The dashboard page a form was posted from (its `Referer`), to go back
/// to; the identifications page when it names none of ours. Any query is
/// kept, but never the framework's error parameter.
pub(super) fn page_posted_from(headers: &HeaderMap, public_url: &str) -> String {
    const FALLBACK: &str = "/dashboard";
    let Some(referer) = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
    else {
        return FALLBACK.to_owned();
    };
    let ours = origin_of(public_url);
    let path = referer.path();
    let is_page = (path == "/dashboard" || path.starts_with("/dashboard/"))
        && !path.starts_with(&format!("{}/", super::ACTIONS));
    if ours.as_deref() != Some(referer.origin().ascii_serialization().as_str()) || !is_page {
        return FALLBACK.to_owned();
    }
    let query: Vec<(String, String)> = referer
        .query_pairs()
        .filter(|(k, _)| k != "__err")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if query.is_empty() {
        return path.to_owned();
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!("{path}?{query}")
}

/// Back to `to` (a path of ours), with `failure` to be told there.
pub(super) fn back_with_failure(to: &str, failure: Failure, secure: bool) -> Response {
    let mut res = Redirect::to(to).into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, alert_cookie(Some(failure), secure));
    res
}

/// Runs a page request, handing it the failure the alert cookie carried;
/// once a page has shown it, the cookie is removed.
async fn run_page(mut req: Request, next: Next, secure: bool) -> Response {
    let failure = failure_in_cookie(req.headers());
    if let Some(f) = failure {
        req.extensions_mut()
            .insert(super::Alert(f.message().to_owned()));
    }
    let mut res = next.run(req).await;
    if failure.is_some() && !res.status().is_redirection() {
        res.headers_mut()
            .append(header::SET_COOKIE, alert_cookie(None, secure));
    }
    res
}

/// Around the session layer: when the session could not be saved (the
/// database refusing writes), the layer answers a bare 500, a blank page.
/// A form post goes back to its page with the failure told there instead;
/// a page load gets a page that says to try again.
pub async fn answer_unsaved_sessions(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let back = (req.method() == Method::POST)
        .then(|| page_posted_from(req.headers(), &state.config.public_url));
    let res = next.run(req).await;
    // Every answer of ours has a body with its type; the layer's has none.
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || res.headers().contains_key(header::CONTENT_TYPE)
    {
        return res;
    }
    tracing::warn!("a dashboard session could not be saved");
    let secure = state.config.public_url.starts_with("https://");
    match back {
        Some(back) => back_with_failure(&back, Failure::Unavailable, secure),
        None => {
            let mut res = super::app::message_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again",
                "The dashboard is briefly unavailable. Please try again in a moment.",
            );
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            res
        }
    }
}

/// This session's CSRF token, for the forms a page renders.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// The user a session belongs to, if it is signed in and the user still exists.
async fn signed_in(state: &AppState, session: &Session) -> Option<CurrentUser> {
    let id: String = session.get(USER).await.ok().flatten()?;
    let id = UserId::parse(&id).ok()?;
    let user = state.store.get_user(&id).await.ok().flatten()?;
    Some(CurrentUser {
        id: user.id,
        organisation_id: user.organisation_id,
        email: user.email,
    })
}

/// The session's CSRF token, made (and so the session stored) on first use.
pub(super) async fn csrf_token(session: &Session) -> Option<String> {
    if let Ok(Some(token)) = session.get::<String>(CSRF).await {
        return Some(token);
    }
    let token = crate::domain::ids::random_base62(32);
    session.insert(CSRF, &token).await.ok()?;
    Some(token)
}

/// The sign-in form's token, from the request's cookie, if it holds one of
/// the right shape.
pub(super) fn login_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, LOGIN_COOKIE)
        .filter(|v| v.len() == TOKEN_CHARS && v.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The value of the request's cookie `name`, if it sent one.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
}

/// The `Set-Cookie` value for the sign-in form's token: only sent back to
/// the sign-in form, never to script, and never from another site.
fn login_cookie(token: &str, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={token}; Path={}; HttpOnly; SameSite=Strict{secure}",
        super::LOGIN_PATH
    ))
    .ok()
}

/// Pages and actions need a signed-in user; the sign-in page and its form
/// do not. Unsigned requests for pages go to the sign-in page; for anything
/// else they get 403.
pub async fn require_user(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let path = req.uri().path();
    let public = path == super::LOGIN_PATH;
    let secure = state.config.public_url.starts_with("https://");
    let user = match signed_in(&state, &session).await {
        // However active, a session ends this long after sign-in (a session
        // without its sign-in time predates the rule, and ends too).
        Some(user) if within_lifetime(&state, &session).await => Some(user),
        Some(_) => {
            let _ = session.flush().await;
            None
        }
        None => None,
    };
    let user_id = user.as_ref().map(|u| u.id.clone());
    match user {
        Some(_) if public && req.method() == Method::GET => {
            return Redirect::to(super::overview::PATH).into_response();
        }
        Some(user) => {
            touch(&state, &session).await;
            req.extensions_mut().insert(user);
        }
        None if public => {
            // The sign-in page stores nothing: its token lives in a cookie.
            if req.method() != Method::GET {
                return next.run(req).await;
            }
            let (token, fresh) = match login_token(req.headers()) {
                Some(token) => (token, false),
                None => (crate::domain::ids::random_base62(TOKEN_CHARS), true),
            };
            req.extensions_mut().insert(CsrfToken(token.clone()));
            let mut res = run_page(req, next, secure).await;
            if let Some(cookie) = login_cookie(&token, secure).filter(|_| fresh) {
                res.headers_mut().append(header::SET_COOKIE, cookie);
            }
            return res;
        }
        None if req.method() == Method::GET || req.method() == Method::HEAD => {
            return Redirect::to(super::LOGIN_PATH).into_response();
        }
        None => return forbidden("Your session has ended. Please sign in again."),
    }
    // Only pages that show a form need the token; it is made then. What the
    // last action left to say is said once, on the next page.
    if req.method() == Method::GET {
        if let Some(token) = csrf_token(&session).await {
            req.extensions_mut().insert(CsrfToken(token));
        }
        if let Some(flash) = take(&session, FLASH).await {
            req.extensions_mut().insert(super::Flash(flash));
        }
        if let Some(alert) = take(&session, ALERT).await {
            req.extensions_mut().insert(super::Alert(alert));
        }
        if let Some(id) = take(&session, REVEAL).await {
            req.extensions_mut().insert(super::Revealed(id));
        }
        if session
            .get::<super::FormBack>(FORM)
            .await
            .ok()
            .flatten()
            .is_some()
        {
            if let Ok(Some(back)) = session.remove::<super::FormBack>(FORM).await {
                req.extensions_mut().insert(back);
            }
        }
        if let (Some(sealed), Some(user)) = (take(&session, ONCE).await, user_id.as_ref()) {
            if let Some(once) = super::actions::open_once(&state.data_key, user, &sealed) {
                req.extensions_mut().insert(super::ShownOnce(once));
            }
        }
        return run_page(req, next, secure).await;
    }
    next.run(req).await
}

/// The message under `key`, removed from the session. Only a session that
/// held one is changed (and so written): removing marks it changed even
/// when there was nothing to remove, and a page load should write nothing.
async fn take(session: &Session, key: &str) -> Option<String> {
    session.get::<String>(key).await.ok().flatten()?;
    session.remove::<String>(key).await.ok().flatten()
}

/// Whether the session's sign-in was less than `max` ago.
async fn within_lifetime(state: &AppState, session: &Session) -> bool {
    let Ok(Some(at)) = session.get::<i64>(SIGNED_IN_AT).await else {
        return false;
    };
    let max = state.config.dashboard_session_max;
    let max_ms = i64::try_from(max.as_millis()).unwrap_or(i64::MAX);
    state.clock.now().millis().saturating_sub(at) < max_ms
}

/// Keeps an active session from expiring: a session is stored (and so its
/// idle expiry moved) only when it changes, so mark it now and then.
async fn touch(state: &AppState, session: &Session) {
    let now = state.clock.now().millis();
    let seen: i64 = session.get(SEEN).await.ok().flatten().unwrap_or(0);
    if now - seen >= TOUCH_EVERY_MS {
        let _ = session.insert(SEEN, now).await;
    }
}

/// Every request that may change state (anything but GET and HEAD) must come
/// from our own pages: a same-origin `Origin` (or, without one, `Referer`),
/// and the session's CSRF token in the form. Otherwise 403, before anything
/// runs.
pub async fn check_csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    if !same_origin(req.headers(), &state.config.public_url) {
        return forbidden("This form did not come from the Proofme dashboard.");
    }
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response();
    };
    let sent = url::form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == CSRF_FIELD)
        .map(|(_, value)| value.into_owned());
    // The sign-in form is checked against its cookie; everything else
    // against the signed-in session's token.
    let expected: Option<String> = if parts.uri.path() == super::LOGIN_PATH {
        login_token(&parts.headers)
    } else {
        session.get(CSRF).await.ok().flatten()
    };
    let valid = match (sent, expected) {
        (Some(sent), Some(expected)) => bool::from(sent.as_bytes().ct_eq(expected.as_bytes())),
        _ => false,
    };
    if !valid {
        return forbidden("This form has expired. Please go back, reload the page and try again.");
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Whether the request names our own origin as where it came from.
fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let Some(ours) = origin_of(public_url) else {
        return false;
    };
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin.to_str().ok().and_then(origin_of).as_deref() == Some(ours.as_str());
    }
    headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(origin_of)
        .is_some_and(|theirs| theirs == ours)
}

/// `scheme://host[:port]` of a URL, as browsers write `Origin`.
fn origin_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    match url.origin() {
        url::Origin::Tuple(..) => Some(url.origin().ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

fn forbidden(message: &'static str) -> Response {
    super::app::message_page(StatusCode::FORBIDDEN, "Not allowed", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_origin_must_be_ours() {
        let ours = "https://id.example.com";
        assert!(same_origin(
            &headers(&[(header::ORIGIN, "https://id.example.com")]),
            ours
        ));
        assert!(!same_origin(
            &headers(&[(header::ORIGIN, "https://evil.example")]),
            ours
        ));
        assert!(!same_origin(
            &headers(&[(header::ORIGIN, "http://id.example.com")]),
            ours
        ));
        assert!(!same_origin(&headers(&[(header::ORIGIN, "null")]), ours));
        // Origin decides when present, whatever Referer says.
        assert!(!same_origin(
            &headers(&[
                (header::ORIGIN, "https://evil.example"),
                (header::REFERER, "https://id.example.com/dashboard")
            ]),
            ours
        ));
    }

    #[test]
    fn without_origin_the_referer_must_be_ours() {
        let ours = "http://127.0.0.1:3000";
        assert!(same_origin(
            &headers(&[(header::REFERER, "http://127.0.0.1:3000/dashboard/keys")]),
            ours
        ));
        assert!(!same_origin(
            &headers(&[(header::REFERER, "http://127.0.0.1:3001/dashboard")]),
            ours
        ));
        assert!(!same_origin(
            &headers(&[(header::REFERER, "http://127.0.0.1:3000.evil.example/")]),
            ours
        ));
        assert!(!same_origin(&headers(&[]), ours));
    }
}

#[cfg(test)]
mod back_tests {
    use super::*;

    fn from(referer: Option<&str>) -> String {
        let mut h = HeaderMap::new();
        if let Some(r) = referer {
            h.insert(header::REFERER, HeaderValue::from_str(r).unwrap());
        }
        page_posted_from(&h, "https://id.example.com")
    }

    #[test]
    fn a_failed_form_goes_back_only_to_a_page_of_our_dashboard() {
        assert_eq!(
            from(Some("https://id.example.com/dashboard/keys")),
            "/dashboard/keys"
        );
        assert_eq!(
            from(Some(
                "https://id.example.com/dashboard?status=open&__err=U2VydmVy"
            )),
            "/dashboard?status=open"
        );
        assert_eq!(
            from(Some("https://evil.example/dashboard/keys")),
            "/dashboard"
        );
        assert_eq!(
            from(Some("https://id.example.com/v1/identification")),
            "/dashboard"
        );
        assert_eq!(
            from(Some("https://id.example.com/dashboard/act/sign-out")),
            "/dashboard"
        );
        assert_eq!(
            from(Some("https://id.example.com/dashboardx")),
            "/dashboard"
        );
        assert_eq!(from(None), "/dashboard");
    }

    #[test]
    fn the_alert_cookie_names_only_our_failures() {
        for f in Failure::ALL {
            let set = alert_cookie(Some(f), true);
            let sent = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            let mut h = HeaderMap::new();
            h.insert(header::COOKIE, HeaderValue::from_str(&sent).unwrap());
            assert_eq!(failure_in_cookie(&h), Some(f));
            assert!(set.to_str().unwrap().contains("HttpOnly"));
        }
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("proofme_alert=<script>"),
        );
        assert_eq!(failure_in_cookie(&h), None);
    }
}

#[cfg(test)]
mod login_token_tests {
    use super::*;

    #[test]
    fn the_sign_in_token_is_read_from_its_cookie_only_when_well_formed() {
        let good = "a".repeat(TOKEN_CHARS);
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("x=1; {LOGIN_COOKIE}={good}")).unwrap(),
        );
        assert_eq!(login_token(&h), Some(good));
        let mut short = HeaderMap::new();
        short.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{LOGIN_COOKIE}=abc")).unwrap(),
        );
        assert_eq!(login_token(&short), None);
        assert_eq!(login_token(&HeaderMap::new()), None);
    }
}
