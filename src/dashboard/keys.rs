//! API keys: list, create (the secret shown once), revoke.

use leptos::prelude::*;

use super::actions::{self, ActionError};
use super::app::{CsrfField, Layout, error_view, page_context};
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
#[component]
pub fn OnceSecret(heading: &'static str, secret: String, note: &'static str) -> impl IntoView {
    view! {
        <section class="once" aria-labelledby="once-heading">
            <h2 id="once-heading">{heading}</h2>
            <p><code class="secret">{secret}</code></p>
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
                note="Proofme keeps only a hash of it. If it is lost, create another key and revoke this one."
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
                Ok(keys) => keys_table(&ctx.csrf, keys).into_any(),
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

fn keys_table(csrf: &str, keys: Vec<ApiKeySummary>) -> impl IntoView {
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
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| "never".to_owned());
            let (status, revoke) = match k.revoked_at {
                Some(at) => (format!("revoked {}", at.to_rfc3339()), None),
                None => {
                    let label = format!("Revoke {id}");
                    let (csrf, id) = (csrf.to_owned(), id.clone());
                    let form = view! {
                        <ActionForm action={ServerAction::<RevokeApiKey>::new()}>
                            <CsrfField token=csrf/>
                            <input type="hidden" name="id" value=id/>
                            <button type="submit" class="danger" aria-label=label>"Revoke"</button>
                        </ActionForm>
                    };
                    ("active".to_owned(), Some(form))
                }
            };
            view! {
                <tr>
                    <td class="id">{id}</td>
                    <td>{k.mode.as_str()}</td>
                    <td><code>{prefix}</code></td>
                    <td>{k.created_at.to_rfc3339()}</td>
                    <td>{last_used}</td>
                    <td>{status}</td>
                    <td>{revoke}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap" role="region" aria-label="API keys" tabindex="0">
            <table>
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
