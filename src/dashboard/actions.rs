//! What every dashboard action (a Leptos server function posted by a plain
//! form) shares: who is asking, and how it ends: a message for the next page
//! and a redirect there (`303`-style POST-redirect-GET, so a reload never
//! posts twice).

use axum::http::request::Parts;
use leptos::prelude::*;
use tower_sessions::Session;

use super::guard::{CurrentUser, FLASH, ONCE};
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

pub async fn context() -> Result<Act, ActionError> {
    let parts = use_context::<Parts>().ok_or(ActionError::Internal)?;
    Ok(Act {
        state: use_context::<AppState>().ok_or(ActionError::Internal)?,
        user: parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or(ActionError::NotSignedIn)?,
        session: parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or(ActionError::Internal)?,
    })
}

impl Act {
    /// Ends the action: `message` on the page at `to`.
    pub async fn done(&self, to: &str, message: &str) -> Result<(), ServerFnError> {
        let _ = self.session.insert(FLASH, message).await;
        leptos_axum::redirect(to);
        Ok(())
    }

    /// Ends the action showing `secret` once on the page at `to`.
    pub async fn reveal(&self, to: &str, message: &str, secret: &str) -> Result<(), ServerFnError> {
        let _ = self.session.insert(ONCE, secret).await;
        self.done(to, message).await
    }
}
