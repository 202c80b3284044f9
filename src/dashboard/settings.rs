//! The organisation's settings (`/dashboard/settings`): its name, the age
//! recipient its shared data is encrypted end to end to, and how long its
//! shared data is kept. Each setting is its own form and action; a refused
//! value changes nothing and comes back to its field, as typed, with the
//! reason beside it. Every change is recorded in the audit log.

use axum::http::StatusCode;
use axum::http::request::Parts;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::actions::{self, Act, ActionError};
use super::app::{CsrfField, Layout, PageContext, error_view, page_context, set_status};
use super::guard::CurrentUser;
use crate::store::{AuditAction, Organisation};
use crate::vault::DataRecipient;

pub const PATH: &str = "/dashboard/settings";
/// The longest organisation name, in characters.
pub const NAME_MAX_CHARS: usize = 100;
/// The session key of a refused value, read (once) by the next page.
const REJECTED: &str = "settings_rejected";

/// Whether `user` may change the organisation's settings. Every signed-in
/// user of it may, as there are no roles yet; an owner check belongs here,
/// and every settings action asks this.
fn may_change_settings(_user: &CurrentUser) -> bool {
    true
}

/// Which setting a refused value was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Field {
    Name,
    Recipient,
    Retention,
}

/// A value the last action refused: what was typed, and why, for the form
/// to show again.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Rejected {
    field: Field,
    typed: String,
    why: String,
}

/// The organisation name from what was typed: trimmed, 1 to
/// `NAME_MAX_CHARS` characters, one line.
fn parse_name(typed: &str) -> Result<String, String> {
    let name = typed.trim();
    let count = name.chars().count();
    if count == 0 {
        return Err("Enter your organisation's name.".to_owned());
    }
    if count > NAME_MAX_CHARS {
        return Err(format!(
            "The name can be at most {NAME_MAX_CHARS} characters; this one has {count}."
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("The name must be one line, without control characters.".to_owned());
    }
    Ok(name.to_owned())
}

/// The start of an age private key, which must never be kept or shown.
const AGE_SECRET_KEY_PREFIX: &str = "AGE-SECRET-KEY-";

/// Whether `typed` holds an age private key (pasted in the wrong box).
fn holds_private_key(typed: &str) -> bool {
    typed.to_ascii_uppercase().contains(AGE_SECRET_KEY_PREFIX)
}

/// The end-to-end recipient from what was typed: an age X25519 recipient,
/// or `None` (empty) for encryption at rest.
fn parse_recipient(typed: &str) -> Result<Option<String>, String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    if holds_private_key(typed) {
        return Err(
            "This is a private key: keep it to yourself, it was not saved. Paste the public \
             key, the recipient that starts with age1."
                .to_owned(),
        );
    }
    DataRecipient::parse(typed)
        .map(|r| Some(r.to_string()))
        .map_err(|_| {
            "This is not an age recipient. An age recipient (public key) starts with age1 \
             and is 62 characters long; leave the field empty for encryption at rest."
                .to_owned()
        })
}

/// The organisation's retention from what was typed: whole days from 1 to
/// `max_days` (the deployment's period), or `None` (empty) for the
/// deployment's period.
fn parse_retention(typed: &str, max_days: u32) -> Result<Option<u32>, String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    if max_days == 0 {
        return Err(
            "This deployment keeps shared data for less than a day, so it cannot be shortened \
             here. Leave the field empty."
                .to_owned(),
        );
    }
    match typed.parse::<u32>() {
        Ok(days) if (1..=max_days).contains(&days) => Ok(Some(days)),
        _ => Err(format!(
            "Enter a whole number of days from 1 to {max_days}, or leave the field empty for \
             the deployment's {max_days} days."
        )),
    }
}

/// The deployment's retention period, in whole days.
fn deployment_days(state: &crate::AppState) -> u32 {
    u32::try_from(state.config.data_retention.as_secs() / 86_400).unwrap_or(u32::MAX)
}

fn recipient_text(recipient: Option<&str>) -> String {
    recipient.unwrap_or("none").to_owned()
}

fn retention_text(days: Option<u32>, deployment: u32) -> String {
    match days {
        Some(d) => format!("{d} days"),
        None => format!("the deployment's {deployment} days"),
    }
}

/// `/dashboard/settings`.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let ctx = match page_context() {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let session = expect_context::<Parts>()
        .extensions
        .get::<Session>()
        .cloned();
    let page = {
        let ctx = ctx.clone();
        async move {
            // Taken once: a reload shows the saved values again.
            let rejected = match session {
                Some(s) => s.remove::<Rejected>(REJECTED).await.ok().flatten(),
                None => None,
            };
            match ctx
                .state
                .store
                .get_organisation(&ctx.user.organisation_id)
                .await
            {
                Ok(Some(org)) => content(&ctx, &org, rejected).into_any(),
                Ok(None) => {
                    set_status(StatusCode::INTERNAL_SERVER_ERROR);
                    view! { <p class="error" role="alert">"Your organisation could not be found."</p> }
                        .into_any()
                }
                Err(e) => error_view(&e),
            }
        }
    };
    view! {
        <Layout ctx=ctx title="Settings".to_owned()>
            <p>"Your organisation's settings, the same for everyone in it. Each one is saved on its own."</p>
            <Suspense fallback=|| ()>{Suspend::new(page)}</Suspense>
        </Layout>
    }
    .into_any()
}

/// What a field shows: the value typed if it was just refused (and why),
/// else the saved one.
fn field_state(
    rejected: &Option<Rejected>,
    field: Field,
    saved: String,
) -> (String, Option<String>) {
    match rejected {
        Some(r) if r.field == field => (r.typed.clone(), Some(r.why.clone())),
        _ => (saved, None),
    }
}

/// The reason beside a field, and what the field is described by.
fn field_error(id: &str, why: Option<String>) -> (Option<AnyView>, String) {
    let hint = format!("{id}-hint");
    match why {
        Some(why) => {
            let error_id = format!("{id}-error");
            let described = format!("{hint} {error_id}");
            let view =
                view! { <p id=error_id class="field-error" role="alert">{why}</p> }.into_any();
            (Some(view), described)
        }
        None => (None, hint),
    }
}

fn content(ctx: &PageContext, org: &Organisation, rejected: Option<Rejected>) -> impl IntoView {
    let deployment = deployment_days(&ctx.state);
    let (name, name_why) = field_state(&rejected, Field::Name, org.name.clone());
    let (recipient, recipient_why) = field_state(
        &rejected,
        Field::Recipient,
        org.data_recipient.clone().unwrap_or_default(),
    );
    let (retention, retention_why) = field_state(
        &rejected,
        Field::Retention,
        org.data_retention_days
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    let name_invalid = name_why.is_some().then_some("true");
    let recipient_invalid = recipient_why.is_some().then_some("true");
    let retention_invalid = retention_why.is_some().then_some("true");
    let (name_error, name_described) = field_error("name", name_why);
    let (recipient_error, recipient_described) = field_error("recipient", recipient_why);
    let (retention_error, retention_described) = field_error("retention", retention_why);
    let encryption_now = match &org.data_recipient {
        Some(r) => view! {
            "Now: end to end, to "<code class="recipient-now">{r.clone()}</code>"."
        }
        .into_any(),
        None => view! { "Now: encryption at rest (no recipient)." }.into_any(),
    };
    let retention_now = format!(
        "Now: {}.",
        retention_text(
            org.data_retention_days.map(|d| d.min(deployment)),
            deployment
        )
    );
    // Each form's children are a closure of their own.
    let (csrf_name, csrf_recipient, csrf_retention) =
        (ctx.csrf.clone(), ctx.csrf.clone(), ctx.csrf.clone());
    view! {
        <section class="setting" aria-labelledby="name-heading">
            <h2 id="name-heading">"Organisation name"</h2>
            <ActionForm action={ServerAction::<SaveOrganisationName>::new()} attr:class="stack">
                <CsrfField token=csrf_name.clone()/>
                <label for="name">"Name"</label>
                <p id="name-hint" class="hint">
                    {format!("Customers see this name on MyPage when you ask them to verify. 1 to {NAME_MAX_CHARS} characters.")}
                </p>
                <input
                    id="name"
                    name="name"
                    type="text"
                    autocomplete="organization"
                    required
                    value=name
                    aria-describedby=name_described
                    aria-invalid=name_invalid
                />
                {name_error}
                <button type="submit">"Save name"</button>
            </ActionForm>
        </section>
        <section class="setting" aria-labelledby="recipient-heading">
            <h2 id="recipient-heading">"End-to-end encryption"</h2>
            <p>
                "Shared data is always encrypted. Without a recipient, Proofme encrypts it at rest with this \
                 deployment's key: Proofme can read it, and the dashboard can show it."
            </p>
            <p>
                "With a recipient, shared data is encrypted end to end to your age public key: only whoever \
                 holds the matching private key can read it. Proofme cannot read it and the dashboard cannot \
                 show it; you fetch it with the API and decrypt it yourself."
            </p>
            <p>"A change applies to data shared from then on; data already stored stays as it was encrypted."</p>
            <p class="now">{encryption_now}</p>
            <ActionForm action={ServerAction::<SaveDataRecipient>::new()} attr:class="stack">
                <CsrfField token=csrf_recipient.clone()/>
                <label for="recipient">"Age recipient (public key)"</label>
                <p id="recipient-hint" class="hint">"Starts with age1. Leave empty for encryption at rest."</p>
                <input
                    id="recipient"
                    name="recipient"
                    type="text"
                    class="code"
                    autocomplete="off"
                    autocapitalize="none"
                    spellcheck="false"
                    value=recipient
                    aria-describedby=recipient_described
                    aria-invalid=recipient_invalid
                />
                {recipient_error}
                <button type="submit">"Save recipient"</button>
            </ActionForm>
        </section>
        <section class="setting" aria-labelledby="retention-heading">
            <h2 id="retention-heading">"Data retention"</h2>
            <p>
                {format!(
                    "Shared data is erased this many days after its identification became final. This \
                     deployment keeps it for at most {deployment} days; here you can only shorten that for \
                     your organisation."
                )}
            </p>
            <p class="now">{retention_now}</p>
            <ActionForm action={ServerAction::<SaveDataRetention>::new()} attr:class="stack">
                <CsrfField token=csrf_retention.clone()/>
                <label for="retention">{format!("Days (1 to {deployment})")}</label>
                <p id="retention-hint" class="hint">
                    {format!(
                        "Leave empty for the deployment's {deployment} days. Data older than a shorter period \
                         is erased within a minute of saving."
                    )}
                </p>
                <input
                    id="retention"
                    name="retention_days"
                    type="number"
                    inputmode="numeric"
                    min="1"
                    max=deployment.to_string()
                    step="1"
                    value=retention
                    aria-describedby=retention_described
                    aria-invalid=retention_invalid
                />
                {retention_error}
                <button type="submit">"Save retention"</button>
            </ActionForm>
        </section>
    }
}

/// The signed-in caller, if they may change the settings; `None` once the
/// answer that says they may not is given.
async fn settings_act() -> Result<Option<Act>, ServerFnError> {
    let act = actions::context().await?;
    if may_change_settings(&act.user) {
        return Ok(Some(act));
    }
    act.fail(PATH, "You may not change your organisation's settings.")
        .await?;
    Ok(None)
}

impl Act {
    /// Ends a settings action without changing anything: back to the page,
    /// where `field` shows `typed` again with `why` beside it.
    async fn refuse(&self, field: Field, typed: String, why: String) -> Result<(), ServerFnError> {
        let rejected = Rejected { field, typed, why };
        if let Err(e) = self.session.insert(REJECTED, rejected).await {
            tracing::warn!(error = %e, "a refused setting could not be kept for the page");
        }
        leptos_axum::redirect(PATH);
        Ok(())
    }

    /// The signed-in user's organisation, as it is before a change.
    async fn organisation(&self) -> Result<Organisation, ServerFnError> {
        match self
            .state
            .store
            .get_organisation(&self.user.organisation_id)
            .await
        {
            Ok(Some(org)) => Ok(org),
            Ok(None) => {
                tracing::error!(user = %self.user.id.as_str(), "a signed-in user's organisation is missing");
                Err(ActionError::Internal.into())
            }
            Err(e) => Err(ActionError::store(&e).into()),
        }
    }
}

/// "Save name": the name MyPage shows customers.
#[server(prefix = "/dashboard/act", endpoint = "settings-name")]
pub async fn save_organisation_name(name: String) -> Result<(), ServerFnError> {
    let Some(act) = settings_act().await? else {
        return Ok(());
    };
    let new = match parse_name(&name) {
        Ok(new) => new,
        Err(why) => return act.refuse(Field::Name, name, why).await,
    };
    let org = act.organisation().await?;
    if org.name == new {
        return act
            .done(
                PATH,
                &format!("The name is already “{new}”; nothing changed."),
            )
            .await;
    }
    act.state
        .store
        .rename_organisation(&org.id, &new)
        .await
        .map_err(|e| ActionError::store(&e))?;
    tracing::info!(user = %act.user.id.as_str(), "organisation renamed from the dashboard");
    act.audit(
        AuditAction::SettingsNameChanged,
        None,
        &format!("“{}” → “{new}”", org.name),
    )
    .await;
    act.done(PATH, &format!("Your organisation's name is now “{new}”."))
        .await
}

/// "Save recipient": shared data from now on is encrypted end to end to
/// this age recipient, or (empty) at rest.
#[server(prefix = "/dashboard/act", endpoint = "settings-recipient")]
pub async fn save_data_recipient(recipient: String) -> Result<(), ServerFnError> {
    let Some(act) = settings_act().await? else {
        return Ok(());
    };
    let new = match parse_recipient(&recipient) {
        Ok(new) => new,
        // A private key pasted here is neither kept nor shown again.
        Err(why) if holds_private_key(&recipient) => {
            return act.refuse(Field::Recipient, String::new(), why).await;
        }
        Err(why) => return act.refuse(Field::Recipient, recipient, why).await,
    };
    let org = act.organisation().await?;
    if org.data_recipient == new {
        return act
            .done(PATH, "The recipient is already this one; nothing changed.")
            .await;
    }
    act.state
        .store
        .set_data_recipient(&org.id, new.as_deref())
        .await
        .map_err(|e| ActionError::store(&e))?;
    tracing::info!(user = %act.user.id.as_str(), end_to_end = new.is_some(), "data recipient changed from the dashboard");
    // Public keys only: neither is secret.
    act.audit(
        AuditAction::SettingsRecipientChanged,
        None,
        &format!(
            "{} → {}",
            recipient_text(org.data_recipient.as_deref()),
            recipient_text(new.as_deref())
        ),
    )
    .await;
    let message = match &new {
        Some(_) => {
            "Shared data is now encrypted end to end to your recipient: the dashboard cannot show it."
        }
        None => "Shared data is now encrypted at rest, with no recipient.",
    };
    act.done(PATH, message).await
}

/// "Save retention": how many days (within the deployment's period) the
/// organisation's shared data is kept, or (empty) the deployment's period.
#[server(prefix = "/dashboard/act", endpoint = "settings-retention")]
pub async fn save_data_retention(retention_days: String) -> Result<(), ServerFnError> {
    let Some(act) = settings_act().await? else {
        return Ok(());
    };
    let deployment = deployment_days(&act.state);
    let new = match parse_retention(&retention_days, deployment) {
        Ok(new) => new,
        Err(why) => return act.refuse(Field::Retention, retention_days, why).await,
    };
    let org = act.organisation().await?;
    if org.data_retention_days == new {
        return act
            .done(
                PATH,
                &format!(
                    "Shared data is already kept for {}; nothing changed.",
                    retention_text(new, deployment)
                ),
            )
            .await;
    }
    act.state
        .store
        .set_data_retention_days(&org.id, new)
        .await
        .map_err(|e| ActionError::store(&e))?;
    tracing::info!(user = %act.user.id.as_str(), days = ?new, "data retention changed from the dashboard");
    act.audit(
        AuditAction::SettingsRetentionChanged,
        None,
        &format!(
            "{} → {}",
            retention_text(org.data_retention_days, deployment),
            retention_text(new, deployment)
        ),
    )
    .await;
    let message = format!(
        "Shared data is now kept for {}.",
        retention_text(new, deployment)
    );
    act.done(PATH, &message).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_1_to_100_characters_on_one_line() {
        assert_eq!(parse_name("  Shop B  ").as_deref(), Ok("Shop B"));
        assert!(parse_name("   ").is_err());
        assert!(parse_name(&"é".repeat(100)).is_ok());
        assert!(parse_name(&"é".repeat(101)).is_err());
        assert!(parse_name("Shop\nB").is_err());
    }

    #[test]
    fn a_recipient_is_an_age_recipient_or_nothing() {
        let key = age::x25519::Identity::generate().to_public().to_string();
        assert_eq!(parse_recipient(&format!(" {key} ")), Ok(Some(key.clone())));
        assert_eq!(parse_recipient("  "), Ok(None));
        assert!(parse_recipient("age1nope").is_err());
        assert!(parse_recipient(&key.replace("age1", "age2")).is_err());
        use age::secrecy::ExposeSecret;
        let secret = age::x25519::Identity::generate().to_string();
        assert!(holds_private_key(secret.expose_secret()));
        assert!(parse_recipient(secret.expose_secret()).is_err());
    }

    #[test]
    fn a_retention_only_shortens_the_deployments() {
        assert_eq!(parse_retention("", 30), Ok(None));
        assert_eq!(parse_retention(" 7 ", 30), Ok(Some(7)));
        assert_eq!(parse_retention("30", 30), Ok(Some(30)));
        for refused in ["0", "31", "-1", "7.5", "seven"] {
            assert!(parse_retention(refused, 30).is_err(), "{refused}");
        }
        assert!(parse_retention("1", 0).is_err());
        assert_eq!(parse_retention("", 0), Ok(None));
    }
}
