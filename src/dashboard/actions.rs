//! What every dashboard action (a Leptos server function posted by a plain
//! form) shares: who is asking, and how it ends: a message for the next page
//! and a redirect there (`303`-style POST-redirect-GET, so a reload never
//! posts twice). A failed action ends the same way, back on its page with
//! the reason in an alert; never with the reason in the URL.

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use leptos::prelude::*;
use tower_sessions::Session;

use super::guard::{ALERT, CurrentUser, FLASH, FORM, Failure, ONCE};
use crate::AppState;

/// The URL of the action named `endpoint`.
pub fn path(endpoint: &str) -> String {
    format!("{}/{endpoint}", super::ACTIONS)
}

/// Why an action could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("not signed in")]
    NotSignedIn,
    #[error("the dashboard is briefly unavailable; please try again")]
    Unavailable,
    #[error("something went wrong on our side")]
    Internal,
}

impl ActionError {
    /// The error a failed action's message names, if it is one of ours.
    fn from_message(message: &str) -> Option<ActionError> {
        [
            ActionError::NotSignedIn,
            ActionError::Unavailable,
            ActionError::Internal,
        ]
        .into_iter()
        .find(|e| e.to_string() == message)
    }

    pub fn store(e: &crate::store::StoreError) -> ActionError {
        if e.is_retryable() {
            ActionError::Unavailable
        } else {
            tracing::error!(error = %e, "a dashboard action failed");
            ActionError::Internal
        }
    }
}

/// The signed-in caller of an action.
pub struct Act {
    pub state: AppState,
    pub user: CurrentUser,
    pub session: Session,
}

/// Who is asking. The request and the state are handed to every action;
/// without them the action fails loudly (logged, and an alert on its page),
/// never silently.
pub async fn context() -> Result<Act, ActionError> {
    let missing = |what: &str| {
        tracing::error!(what, "a dashboard action ran without its context");
        ActionError::Internal
    };
    let parts = use_context::<Parts>().ok_or_else(|| missing("request"))?;
    Ok(Act {
        state: use_context::<AppState>().ok_or_else(|| missing("state"))?,
        user: parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or(ActionError::NotSignedIn)?,
        session: parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or_else(|| missing("session"))?,
    })
}

impl Act {
    /// Ends the action: `message` on the page at `to`.
    pub async fn done(&self, to: &str, message: &str) -> Result<(), ServerFnError> {
        let _ = self.session.insert(FLASH, message).await;
        leptos_axum::redirect(to);
        Ok(())
    }

    /// Ends the action without doing it: `why` on the page at `to`, as an
    /// alert (a form value that is wrong, something that is not there).
    pub async fn fail(&self, to: &str, why: &str) -> Result<(), ServerFnError> {
        let _ = self.session.insert(ALERT, why).await;
        leptos_axum::redirect(to);
        Ok(())
    }

    /// Ends the action without doing it, sending the form back to its page
    /// with what was typed and the reason beside the field at fault.
    pub async fn fail_form(&self, back: super::FormBack) -> Result<(), ServerFnError> {
        let to = back.page.clone();
        let _ = self.session.insert(FORM, back).await;
        leptos_axum::redirect(&to);
        Ok(())
    }

    /// Ends the action showing `secret` once on the page at `to`. The
    /// session (a database row, and the database's log) holds it sealed
    /// under the deployment data key, never in clear; the next page opens it.
    pub async fn reveal(&self, to: &str, message: &str, secret: &str) -> Result<(), ServerFnError> {
        let sealed = seal_once(&self.state.data_key, &self.user.id, secret);
        let _ = self.session.insert(ONCE, sealed).await;
        self.done(to, message).await
    }
}

/// What a once-shown secret is sealed to: this user's session only.
fn once_context(user: &crate::domain::UserId) -> String {
    format!("dashboard-once:{}", user.as_str())
}

/// `secret` sealed for the session of `user`, as text a session can hold.
pub(super) fn seal_once(
    key: &crate::vault::DataKey,
    user: &crate::domain::UserId,
    secret: &str,
) -> String {
    URL_SAFE.encode(key.wrap(secret.as_bytes(), &once_context(user)))
}

/// The secret `seal_once` sealed, if it opens for `user`.
pub(super) fn open_once(
    key: &crate::vault::DataKey,
    user: &crate::domain::UserId,
    sealed: &str,
) -> Option<String> {
    let wrapped = URL_SAFE.decode(sealed).ok()?;
    let secret = key.unwrap_secret(&wrapped, &once_context(user)).ok()?;
    String::from_utf8(secret).ok()
}

/// The header the server-function framework marks its failed answers with.
const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";

/// How an action failed, as the framework encodes it (`Kind|message`).
fn failure_kind(encoded: &str) -> (&str, &str) {
    encoded.split_once('|').unwrap_or(("", encoded))
}

/// How a failed action is answered.
#[derive(Debug, PartialEq)]
enum Answer {
    /// A form the framework could not read (a field missing, doubled or
    /// not understood): no page of ours sends one, so it is the sender's
    /// mistake, 400, on a page that says so.
    Unreadable,
    /// The session ended on the way: 403, sign in again.
    SignedOut,
    /// Back to the page the form was on, to tell it there.
    Back(Failure),
}

/// How to answer a failure the framework encoded as `encoded`.
fn answer_for(encoded: &str) -> Answer {
    let (kind, message) = failure_kind(encoded);
    match kind {
        "Args" | "MissingArg" | "Deserialization" => Answer::Unreadable,
        _ => match ActionError::from_message(message) {
            Some(ActionError::NotSignedIn) => Answer::SignedOut,
            Some(ActionError::Unavailable) => Answer::Back(Failure::Unavailable),
            Some(ActionError::Internal) => Answer::Back(Failure::Internal),
            None => {
                tracing::error!(kind, "a dashboard action failed");
                Answer::Back(Failure::Internal)
            }
        },
    }
}

/// The encoded failure a plain form post was sent back with in its
/// redirect (`?__err=`), if any.
fn failure_in_location(res: &Response) -> Option<String> {
    let location = res.headers().get(header::LOCATION)?.to_str().ok()?;
    let url = url::Url::parse("http://x").ok()?.join(location).ok()?;
    let encoded = url
        .query_pairs()
        .find(|(k, _)| k == "__err")
        .map(|(_, v)| v.into_owned())?;
    String::from_utf8(URL_SAFE.decode(encoded).ok()?).ok()
}

/// Around every action: its failures are answered here. Left to the
/// framework, a plain form post that failed was redirected back with the
/// error in the URL (where the page never showed it, and logs kept it), and
/// one that could not be read was a 500. Ours go back to the page the form
/// was on, where the reason is an alert; it travels in a cookie that names
/// one of our fixed messages, as these failures mostly mean the database
/// is not taking writes, the session's included.
pub async fn answer_failures(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_action = req.method() == Method::POST
        && req
            .uri()
            .path()
            .strip_prefix(super::ACTIONS)
            .is_some_and(|rest| rest.starts_with('/'));
    if !is_action {
        return next.run(req).await;
    }
    let back = super::guard::page_posted_from(req.headers(), &state.config.public_url);
    let res = next.run(req).await;
    let in_location = failure_in_location(&res);
    if in_location.is_none() && !res.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return res;
    }
    let body = to_bytes(res.into_body(), super::guard::FORM_LIMIT)
        .await
        .unwrap_or_default();
    let encoded = match in_location {
        Some(encoded) => encoded,
        None => String::from_utf8_lossy(&body).into_owned(),
    };
    match answer_for(&encoded) {
        Answer::Unreadable => {
            tracing::info!("a dashboard form could not be read");
            super::app::message_page(
                StatusCode::BAD_REQUEST,
                "This form could not be read",
                "Something in the form was missing or not understood, so nothing was changed. \
                 Please go back, reload the page and try again.",
            )
        }
        Answer::SignedOut => super::app::message_page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Your session has ended. Please sign in again.",
        ),
        Answer::Back(failure) => {
            let secure = state.config.public_url.starts_with("https://");
            super::guard::back_with_failure(&back, failure, secure)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_user_and_holds_no_clear_text() {
        let key = crate::vault::DataKey::ephemeral();
        let (ann, bob) = (
            crate::domain::UserId::generate(),
            crate::domain::UserId::generate(),
        );
        let sealed = seal_once(&key, &ann, "test_SecretSecret");
        assert!(!sealed.contains("SecretSecret"));
        assert_eq!(
            open_once(&key, &ann, &sealed).as_deref(),
            Some("test_SecretSecret")
        );
        assert_eq!(open_once(&key, &bob, &sealed), None);
        assert_eq!(open_once(&key, &ann, "not sealed"), None);
    }

    #[test]
    fn our_errors_are_known_again_by_their_message() {
        for e in [
            ActionError::NotSignedIn,
            ActionError::Unavailable,
            ActionError::Internal,
        ] {
            let again = ActionError::from_message(&e.to_string()).map(|a| a.to_string());
            assert_eq!(again, Some(e.to_string()));
        }
        assert!(ActionError::from_message("anything else").is_none());
    }

    #[test]
    fn a_form_that_cannot_be_read_is_refused_and_our_failures_go_back_to_the_page() {
        assert_eq!(answer_for("Args|missing field `mode`"), Answer::Unreadable);
        assert_eq!(answer_for("MissingArg|id"), Answer::Unreadable);
        assert_eq!(answer_for("Deserialization|x"), Answer::Unreadable);
        assert_eq!(answer_for("ServerError|not signed in"), Answer::SignedOut);
        assert_eq!(
            answer_for(&format!("ServerError|{}", ActionError::Unavailable)),
            Answer::Back(Failure::Unavailable)
        );
        assert_eq!(
            answer_for(&format!("ServerError|{}", ActionError::Internal)),
            Answer::Back(Failure::Internal)
        );
        assert_eq!(answer_for("garbage"), Answer::Back(Failure::Internal));
    }
}
