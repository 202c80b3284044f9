//! Signing in and out. A failed sign-in answers the same, in the same time,
//! whether the email is unknown or the password wrong; five failures within
//! fifteen minutes for one email, or from one client address, close sign-in
//! for it (429) until the oldest of them is fifteen minutes old, even for
//! the right password. The failures are counted in the database, so every
//! instance counts them all.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tower_sessions::Session;

use super::app::{LoginForm, document, message_page};
use super::guard::{self, CSRF, USER};
use crate::AppState;
use crate::connections::ClientAddr;

/// Failures that close sign-in, and the window they are counted in.
pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Deserialize)]
pub struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// The subjects a failure counts against: the email (hashed: the table
/// need not hold addresses of people) and the client address.
fn subjects(email: &str, addr: ClientAddr) -> (String, Option<String>) {
    let email = format!(
        "email:{}",
        hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
    );
    (email, addr.0.map(|ip| format!("addr:{ip}")))
}

/// `POST /dashboard/login`.
pub async fn sign_in(
    State(state): State<AppState>,
    session: Session,
    addr: ClientAddr,
    headers: axum::http::HeaderMap,
    Form(form): Form<Credentials>,
) -> Response {
    let store = &state.store;
    let (email_subject, addr_subject) = subjects(&form.email, addr);
    let now = state.clock.now();
    let mut counted = vec![email_subject.as_str()];
    counted.extend(addr_subject.as_deref());
    // The place is taken before the password is checked: checking first
    // and counting after let a burst of attempts all see room.
    let attempt = match store
        .reserve_login_attempt(&counted, now.minus(FAILURE_WINDOW), now, MAX_FAILURES)
        .await
    {
        Ok(Some(attempt)) => attempt,
        Ok(None) => return throttled(),
        Err(e) => return unavailable(&e),
    };
    let user = match store.find_user_by_email(form.email.trim()).await {
        Ok(user) => user,
        Err(e) => {
            let _ = store.release_login_attempt(&attempt).await;
            return unavailable(&e);
        }
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = match super::password::verify(&state.password_slots, hash, form.password).await {
        Ok(matches) => matches,
        Err(super::password::Busy) => {
            // Nothing was checked: the place goes back.
            let _ = store.release_login_attempt(&attempt).await;
            return busy();
        }
    };
    if !matches {
        // The place taken stays: it is this failure.
        tracing::info!("dashboard sign-in refused");
        if let Some(account) = &user {
            super::audit::record_failed_sign_in(store, account);
        }
        // The form again, with the token of its cookie (checked already).
        let csrf = guard::login_token(&headers).unwrap_or_default();
        return login_page(
            StatusCode::UNAUTHORIZED,
            csrf,
            "The email or the password is not right.",
            form.email.trim().to_owned(),
        );
    }
    let Some(user) = user else {
        return unavailable(&crate::store::StoreError::Corrupt("user vanished".into()));
    };
    let _ = store.release_login_attempt(&attempt).await;
    let _ = store.clear_login_failures(&email_subject).await;
    // A new id at sign-in: an id planted before it (session fixation) is
    // worth nothing after it. A new CSRF token for the same reason.
    if session.cycle_id().await.is_err()
        || session.insert(USER, user.id.as_str()).await.is_err()
        || session
            .insert(guard::SIGNED_IN_AT, state.clock.now().millis())
            .await
            .is_err()
        || session
            .insert(CSRF, crate::domain::ids::random_base62(32))
            .await
            .is_err()
    {
        return message_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Please try again",
            "You could not be signed in just now. Please try again in a moment.",
        );
    }
    tracing::info!(user = %user.id.as_str(), "dashboard sign-in");
    super::audit::record_signed_in(store, &user).await;
    Redirect::to(super::overview::PATH).into_response()
}

fn login_page(status: StatusCode, csrf: String, error: &'static str, email: String) -> Response {
    let body = view! { <LoginForm csrf=csrf error=Some(error.to_owned()) email=email/> };
    (status, Html(document("Sign in – Proofme dashboard", body))).into_response()
}

fn throttled() -> Response {
    let mut res = message_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        "Sign-in is paused after too many failed attempts. Please wait 15 minutes, then try again.",
    );
    res.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(FAILURE_WINDOW.as_secs()),
    );
    res
}

/// Every password-hashing slot stayed taken: a burst of sign-ins.
fn busy() -> Response {
    tracing::warn!("dashboard sign-in refused: password hashing is busy");
    let mut res = message_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again",
        "Many people are signing in just now. Please try again in a few seconds.",
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    res
}

fn unavailable(e: &crate::store::StoreError) -> Response {
    tracing::warn!(error = %e, "dashboard sign-in could not reach the store");
    message_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again",
        "Signing in is briefly unavailable. Please try again in a moment.",
    )
}

/// "Sign out": ends the session (its row is deleted) and goes to sign-in.
#[server(prefix = "/dashboard/act", endpoint = "sign-out")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    let session: Session = leptos_axum::extract().await?;
    let signed_in = super::actions::context().await.ok();
    session
        .flush()
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    if let Some(act) = signed_in {
        act.audit(crate::store::AuditAction::SignedOut, None, "")
            .await;
    }
    leptos_axum::redirect(super::LOGIN_PATH);
    Ok(())
}
