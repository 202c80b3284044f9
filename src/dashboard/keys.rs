//! API keys: list, create (the secret shown once), revoke.

use axum::http::StatusCode;
use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::hooks::use_params_map;

use super::actions::{self, ActionError};
use super::app::{ConfirmForm, CsrfField, Layout, error_view, page_context, set_status};
use crate::domain::{ApiKeyId, Mode};
use crate::store::ApiKeySummary;

pub const PATH: &str = "/dashboard/keys";

/// Whether a secret left to show once is an API key (and so belongs here).
fn is_api_key(secret: &str) -> bool {
    [Mode::Test, Mode::Live]
        .iter()
        .any(|m| secret.starts_with(m.key_prefix()))
}

/// A secret shown once, right after the action that made or revealed it.
/// Its "Copy" button is for the dashboard's script to show: without
/// JavaScript it stays hidden, and the secret is selected and copied by hand.
#[component]
pub fn OnceSecret(heading: &'static str, secret: String, note: &'static str) -> impl IntoView {
    view! {
        <section class="once" aria-labelledby="once-heading" data-copy-secret="">
            <h2 id="once-heading">{heading}</h2>
            <p class="secret-line">
                <code class="secret">{secret}</code>
                <button type="button" class="secondary copy" hidden>"Copy"</button>
                <span class="copy-feedback" aria-live="polite"></span>
            </p>
            <p>{note}</p>
        </section>
    }
}

/// `/dashboard/keys`: the organisation's API keys.
#[component]
pub fn KeysPage() -> impl IntoView {
    let ctx = match page_context() {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let new_key = ctx.once.clone().filter(|s| is_api_key(s)).map(|secret| {
        view! {
            <OnceSecret
                heading="Copy this key now: it is shown only once"
                secret=secret
                note="Proofme keeps only a hash of it, so no one can show it to you again once you leave or reload this page. If it is lost, create another key and revoke this one."
            />
        }
    });
    let page = {
        let ctx = ctx.clone();
        async move {
            match ctx
                .state
                .store
                .list_api_keys(&ctx.user.organisation_id)
                .await
            {
                Ok(keys) => keys_table(keys).into_any(),
                Err(e) => error_view(&e),
            }
        }
    };
    let csrf = ctx.csrf.clone();
    view! {
        <Layout ctx=ctx title="API keys".to_owned()>
            {new_key}
            <h2>"Your keys"</h2>
            <Suspense fallback=|| ()>{Suspend::new(page)}</Suspense>
            <h2>"Create an API key"</h2>
            <p>"A test key sees only test identifications; a live key sees both."</p>
            <ActionForm action={ServerAction::<CreateApiKey>::new()} attr:class="filters">
                <CsrfField token=csrf/>
                <label>"Mode"
                    <select name="mode">
                        <option value="test" selected>"test"</option>
                        <option value="live">"live"</option>
                    </select>
                </label>
                <button type="submit">"Create API key"</button>
            </ActionForm>
        </Layout>
    }
    .into_any()
}

fn keys_table(keys: Vec<ApiKeySummary>) -> impl IntoView {
    let rows = keys
        .into_iter()
        .map(|k| {
            let id = k.id.as_str().to_owned();
            let prefix = k
                .secret_prefix
                .map(|p| format!("{p}…"))
                .unwrap_or_else(|| "—".to_owned());
            let last_used = k
                .last_used_at
                .map(super::words::full_time)
                .unwrap_or_else(|| "never".to_owned());
            let (status, revoke) = match k.revoked_at {
                Some(at) => (format!("revoked {}", at.to_rfc3339()), None),
                None => {
                    // Revoking cannot be undone: the link asks first.
                    let label = format!("Revoke {id}");
                    let link = view! {
                        <a href=revoke_path(&id) class="button danger-outline" aria-label=label>"Revoke"</a>
                    };
                    ("active".to_owned(), Some(link))
                }
            };
            view! {
                <tr>
                    <td class="id name" data-label="Id">{id}</td>
                    <td data-label="Mode">{k.mode.as_str()}</td>
                    <td data-label="Key"><code>{prefix}</code></td>
                    <td data-label="Created">{super::words::full_time(k.created_at)}</td>
                    <td data-label="Last used">{last_used}</td>
                    <td data-label="Status">{status}</td>
                    <td data-label="Action">{revoke}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap" role="region" aria-label="API keys" tabindex="0">
            <table class="cards">
                <thead>
                    <tr>
                        <th scope="col">"Id"</th>
                        <th scope="col">"Mode"</th>
                        <th scope="col">"Key"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Action"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

fn revoke_path(id: &str) -> String {
    format!("{PATH}/{id}/revoke")
}

/// A key as a page names it: its id and the beginning of its secret.
fn named(k: &ApiKeySummary) -> String {
    match &k.secret_prefix {
        Some(prefix) => format!("{} ({prefix}…)", k.id.as_str()),
        None => k.id.as_str().to_owned(),
    }
}

/// `/dashboard/keys/{id}/revoke`: asks before revoking a key. Loading it
/// changes nothing; only its form revokes.
#[component]
pub fn ConfirmRevokePage() -> impl IntoView {
    let ctx = match page_context() {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let id = use_params_map()
        .get_untracked()
        .get("id")
        .unwrap_or_default();
    let page = {
        let ctx = ctx.clone();
        async move {
            let keys = match ctx
                .state
                .store
                .list_api_keys(&ctx.user.organisation_id)
                .await
            {
                Ok(keys) => keys,
                Err(e) => return error_view(&e),
            };
            let Some(key) = keys.into_iter().find(|k| k.id.as_str() == id) else {
                set_status(StatusCode::NOT_FOUND);
                return view! {
                    <p role="alert">"There is no such key in your organisation."</p>
                    <p><a href=PATH>"Back to API keys"</a></p>
                }
                .into_any();
            };
            if key.revoked_at.is_some() {
                set_status(StatusCode::CONFLICT);
                return view! {
                    <p class="note" role="status">
                        {format!("The key {} is revoked already: there is nothing to do.", named(&key))}
                    </p>
                    <p><a href=PATH>"Back to API keys"</a></p>
                }
                .into_any();
            }
            let last_used = key
                .last_used_at
                .map(|t| format!("It was last used {}.", t.to_rfc3339()))
                .unwrap_or_else(|| "It has never been used.".to_owned());
            view! {
                <p class="question">{format!("Revoke the {} key {}?", key.mode.as_str(), named(&key))}</p>
                <p>{last_used}</p>
                <p>
                    "From the moment you confirm, every API request made with it is refused (401), so anything still using it stops working. "
                    <strong>"This cannot be undone:"</strong>
                    " a revoked key never works again. To go on, create a new key."
                </p>
                <ConfirmForm
                    action=RevokeApiKey::PATH
                    csrf=ctx.csrf.clone()
                    id=Some(id.clone())
                    confirm="Yes, revoke the key"
                    back=PATH.to_owned()
                    keep="Keep the key"
                />
            }
            .into_any()
        }
    };
    view! {
        <Layout ctx=ctx title="Revoke API key".to_owned()>
            <Suspense fallback=|| ()>{Suspend::new(page)}</Suspense>
        </Layout>
    }
    .into_any()
}

/// "Create API key": a new key of the chosen mode, its secret shown once.
#[server(prefix = "/dashboard/act", endpoint = "create-api-key")]
pub async fn create_api_key(mode: String) -> Result<(), ServerFnError> {
    let act = actions::context().await?;
    let Some(mode) = Mode::parse(&mode) else {
        return act.fail(PATH, "Choose test or live for the new key.").await;
    };
    let created = act
        .state
        .store
        .create_api_key(&act.user.organisation_id, mode)
        .await
        .map_err(|e| ActionError::store(&e))?;
    tracing::info!(user = %act.user.id.as_str(), key = %created.key.id.as_str(), "API key created from the dashboard");
    act.audit(
        crate::store::AuditAction::ApiKeyCreated,
        Some(created.key.id.as_str()),
        mode.as_str(),
    )
    .await;
    let message = format!(
        "The {} key {} is created.",
        mode.as_str(),
        created.key.id.as_str()
    );
    act.reveal(PATH, &message, &created.secret).await
}

/// "Revoke": the key stops authenticating at once. Only the organisation's
/// own active keys can be revoked.
#[server(prefix = "/dashboard/act", endpoint = "revoke-api-key")]
pub async fn revoke_api_key(id: String) -> Result<(), ServerFnError> {
    let act = actions::context().await?;
    let revoked = match ApiKeyId::parse(&id) {
        Ok(key) => act
            .state
            .store
            .revoke_api_key_of(&act.user.organisation_id, &key)
            .await
            .map_err(|e| ActionError::store(&e))?,
        Err(_) => false,
    };
    if !revoked {
        return act
            .fail(
                PATH,
                "There is no such key among your organisation's active keys.",
            )
            .await;
    }
    tracing::info!(user = %act.user.id.as_str(), key = %id, "API key revoked from the dashboard");
    act.audit(
        crate::store::AuditAction::ApiKeyRevoked,
        Some(id.as_str()),
        "",
    )
    .await;
    act.done(
        PATH,
        &format!("The key {id} is revoked: it no longer authenticates."),
    )
    .await
}
