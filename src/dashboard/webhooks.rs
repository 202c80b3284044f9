//! Webhooks: reveal and rotate the signing secret, send a test webhook.
//! The secret is never part of a page one can simply load: it is shown once,
//! after a form post asks for it.

use axum::http::StatusCode;
use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;

use super::FormBack;
use super::actions::{self, ActionError};
use super::app::{
    ConfirmForm, CsrfField, Layout, PageContext, error_view, fault, field_error, page_context,
    set_status,
};
use super::keys::OnceSecret;
use crate::domain::HttpUrl;
use crate::store::{Organisation, TestWebhook};
use crate::webhooks::deliver::Deliverer;
use crate::webhooks::test_webhook::TestWebhookError;

pub const PATH: &str = "/dashboard/webhooks";
/// Where rotating the secret is asked for.
pub const ROTATE_PATH: &str = "/dashboard/webhooks/rotate";
/// The test webhook's form, by name, for a form sent back.
const TEST_FORM: &str = "test-webhook";
/// How many test webhooks the page lists.
const RECENT: i64 = 10;

/// Whether a secret left to show once is a webhook secret.
fn is_webhook_secret(secret: &str) -> bool {
    secret.starts_with("whsec_")
}

/// `/dashboard/webhooks`.
#[component]
pub fn WebhooksPage() -> impl IntoView {
    let ctx = match page_context() {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let secret = ctx
        .once
        .clone()
        .filter(|s| is_webhook_secret(s))
        .map(|secret| {
            view! {
                <OnceSecret
                    heading="Your webhook signing secret"
                    secret=secret
                    note="Give it to your webhook receiver. This page shows it only until you leave or reload it, but Proofme keeps it: “Reveal signing secret” below shows it again whenever you need it."
                />
            }
        });
    let page = {
        let ctx = ctx.clone();
        async move {
            let store = &ctx.state.store;
            let org = store.get_organisation(&ctx.user.organisation_id).await;
            let recent = store
                .recent_test_webhooks(&ctx.user.organisation_id, RECENT)
                .await;
            match (org, recent) {
                (Ok(Some(org)), Ok(recent)) => content(&ctx, &org, recent).into_any(),
                (Ok(None), Ok(_)) => {
                    set_status(StatusCode::INTERNAL_SERVER_ERROR);
                    view! { <p class="error" role="alert">"Your organisation could not be found."</p> }
                        .into_any()
                }
                (Err(e), _) | (_, Err(e)) => error_view(&e),
            }
        }
    };
    view! {
        <Layout ctx=ctx title="Webhooks".to_owned()>
            {secret}
            <Suspense fallback=|| ()>{Suspend::new(page)}</Suspense>
        </Layout>
    }
    .into_any()
}

fn content(ctx: &PageContext, org: &Organisation, recent: Vec<TestWebhook>) -> impl IntoView {
    let now = ctx.state.clock.now();
    let overlap = org
        .previous_webhook_secret
        .as_ref()
        .filter(|p| now < p.expires_at)
        .map(|p| {
            view! {
                <p class="note" role="note">
                    {format!(
                        "A rotation is under way: the previous secret also signs webhooks until {}.",
                        p.expires_at.to_rfc3339()
                    )}
                </p>
            }
        });
    // A refused URL comes back as typed, the reason beside it.
    let back = ctx.sent_back(TEST_FORM);
    let url = match back {
        Some(b) => b.value("url").unwrap_or_default().to_owned(),
        None => recent.first().map(|t| t.url.clone()).unwrap_or_default(),
    };
    let (url_invalid, url_described, url_focus) = fault(back, "url");
    let url_error = field_error(back, "url");
    // Each form's children are a closure of their own.
    let (reveal_csrf, send_csrf) = (ctx.csrf.clone(), ctx.csrf.clone());
    view! {
        <h2>"Signing secret"</h2>
        <p>
            "Every webhook carries a "<code>"webhook-signature"</code>
            " header (Standard Webhooks) made with your organisation's secret. The secret is not shown on this page; reveal it to set up your receiver."
        </p>
        {overlap}
        <div class="actions">
            <ActionForm action={ServerAction::<RevealWebhookSecret>::new()}>
                <CsrfField token=reveal_csrf/>
                <button type="submit" class="secondary">"Reveal signing secret"</button>
            </ActionForm>
        </div>
        <h2>"Rotate the secret"</h2>
        <p>
            "Rotating makes a new secret and shows it to you (like the current one, it can be revealed again later). The old secret keeps signing for 24 hours beside the new one (each webhook then carries two "
            <code>"v1,"</code>
            " signatures), so your receiver can switch without missing a webhook."
        </p>
        // Rotating cannot be undone: the link asks first.
        <div class="actions">
            <a href=ROTATE_PATH class="button danger-outline">"Rotate secret"</a>
        </div>
        <h2>"Send a test webhook"</h2>
        <p>
            "Sends "<code>{r#"{"type":"test"}"#}</code>
            ", signed like every webhook, once to the URL you give, and records what came of it."
        </p>
        <ActionForm action={ServerAction::<SendTestWebhook>::new()} attr:class="filters">
            <CsrfField token=send_csrf/>
            <label class="wide">"Webhook URL"
                <input
                    id="url"
                    type="url"
                    name="url"
                    required
                    maxlength=HttpUrl::MAX_LEN.to_string()
                    placeholder="https://example.com/webhooks/proofme"
                    value=url
                    aria-invalid=url_invalid
                    aria-describedby=url_described
                    autofocus=url_focus
                />
            </label>
            {url_error}
            <button type="submit">"Send test webhook"</button>
        </ActionForm>
        <h2>"Recent test webhooks"</h2>
        {recent_table(recent)}
    }
}

/// `/dashboard/webhooks/rotate`: asks before rotating the secret. Loading
/// it changes nothing; only its form rotates.
#[component]
pub fn ConfirmRotatePage() -> impl IntoView {
    let ctx = match page_context() {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let page = {
        let ctx = ctx.clone();
        async move {
            let org = match ctx
                .state
                .store
                .get_organisation(&ctx.user.organisation_id)
                .await
            {
                Ok(Some(org)) => org,
                Ok(None) => {
                    set_status(StatusCode::INTERNAL_SERVER_ERROR);
                    return view! { <p class="error" role="alert">"Your organisation could not be found."</p> }
                        .into_any();
                }
                Err(e) => return error_view(&e),
            };
            // A second rotation within the overlap moves the current secret
            // aside in place of the previous one, which stops signing at once.
            let now = ctx.state.clock.now();
            let under_way = org
                .previous_webhook_secret
                .as_ref()
                .filter(|p| now < p.expires_at)
                .map(|p| {
                    view! {
                        <p class="warning">
                            <strong>"A rotation is already under way. "</strong>
                            {format!(
                                "The secret before the current one would have signed until {}; rotating again stops it at once, so a receiver that still uses it starts refusing webhooks.",
                                p.expires_at.to_rfc3339()
                            )}
                        </p>
                    }
                });
            view! {
                <p class="question">"Rotate your organisation's webhook signing secret?"</p>
                <p>
                    "A new secret is made and shown to you on the next page (you can reveal it again later). For 24 hours the current secret keeps signing beside it; after that only the new one signs, so give the new secret to your receiver within that time. "
                    <strong>"This cannot be undone:"</strong>
                    " the current secret cannot be made the signing secret again."
                </p>
                {under_way}
                <ConfirmForm
                    action=RotateWebhookSecret::PATH
                    csrf=ctx.csrf.clone()
                    id=None
                    confirm="Yes, rotate the secret"
                    back=PATH.to_owned()
                    keep="Keep the current secret"
                />
            }
            .into_any()
        }
    };
    view! {
        <Layout ctx=ctx title="Rotate webhook secret".to_owned()>
            <Suspense fallback=|| ()>{Suspend::new(page)}</Suspense>
        </Layout>
    }
    .into_any()
}

fn recent_table(recent: Vec<TestWebhook>) -> AnyView {
    if recent.is_empty() {
        return view! { <p class="muted">"No test webhooks yet."</p> }.into_any();
    }
    let rows = recent
        .into_iter()
        .map(|t| {
            let result = match (t.status_code, t.error.as_deref()) {
                (Some(code), _) => format!("HTTP {code}"),
                (None, Some(e)) => e.to_owned(),
                (None, None) => "—".to_owned(),
            };
            view! {
                <tr>
                    <td data-label="When">{super::words::full_time(t.attempted_at)}</td>
                    <td class="id" data-label="URL">{t.url}</td>
                    <td data-label="Result">{result}</td>
                    <td data-label="Took">{format!("{} ms", t.duration_ms)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap" role="region" aria-label="Recent test webhooks" tabindex="0">
            <table class="cards">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"URL"</th>
                        <th scope="col">"Result"</th>
                        <th scope="col">"Took"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// "Reveal signing secret": the current secret, shown once on the next page.
#[server(prefix = "/dashboard/act", endpoint = "reveal-webhook-secret")]
pub async fn reveal_webhook_secret() -> Result<(), ServerFnError> {
    let act = actions::context().await?;
    let org = act
        .state
        .store
        .get_organisation(&act.user.organisation_id)
        .await
        .map_err(|e| ActionError::store(&e))?
        .ok_or(ActionError::Internal)?;
    tracing::info!(user = %act.user.id.as_str(), "webhook secret revealed in the dashboard");
    act.audit(crate::store::AuditAction::WebhookSecretRevealed, None, "")
        .await;
    act.reveal(
        PATH,
        "Here is your webhook signing secret.",
        &org.webhook_secret,
    )
    .await
}

/// "Rotate secret": a new secret, shown once; the old one keeps signing for
/// the overlap.
#[server(prefix = "/dashboard/act", endpoint = "rotate-webhook-secret")]
pub async fn rotate_webhook_secret() -> Result<(), ServerFnError> {
    let act = actions::context().await?;
    let secret = act
        .state
        .store
        .rotate_webhook_secret(&act.user.organisation_id)
        .await
        .map_err(|e| ActionError::store(&e))?
        .ok_or(ActionError::Internal)?;
    tracing::info!(user = %act.user.id.as_str(), "webhook secret rotated from the dashboard");
    act.audit(crate::store::AuditAction::WebhookSecretRotated, None, "")
        .await;
    act.reveal(
        PATH,
        "The secret is rotated. The previous one keeps signing for 24 hours.",
        &secret,
    )
    .await
}

/// "Send test webhook": `{"type":"test"}` to `url`, signed, through the
/// real delivery path; its attempt is recorded and listed.
#[server(prefix = "/dashboard/act", endpoint = "send-test-webhook")]
pub async fn send_test_webhook(url: String) -> Result<(), ServerFnError> {
    let act = actions::context().await?;
    let url = match HttpUrl::parse(url.trim()) {
        Ok(u) => u,
        Err(e) => {
            // Back as typed, the reason beside the field.
            let refused = FormBack {
                page: PATH.to_owned(),
                form: TEST_FORM.to_owned(),
                fields: vec![(
                    "url".to_owned(),
                    url.chars().take(2 * HttpUrl::MAX_LEN).collect(),
                )],
                field: "url".to_owned(),
                message: format!("The webhook URL {e}."),
            };
            return act.fail_form(refused).await;
        }
    };
    let deliverer = Deliverer::new(act.state.config.allow_private_webhooks).map_err(|e| {
        tracing::error!(error = %e, "no webhook client for a test webhook");
        ActionError::Internal
    })?;
    let sent = crate::webhooks::test_webhook::send_test_webhook(
        &act.state.store,
        &deliverer,
        &act.user.organisation_id,
        &url,
    )
    .await
    .map_err(|e| match e {
        TestWebhookError::Store(e) => ActionError::store(&e),
        other => {
            tracing::error!(error = %other, "a test webhook could not be sent");
            ActionError::Internal
        }
    })?;
    act.audit(
        crate::store::AuditAction::WebhookTestSent,
        Some(sent.id.as_str()),
        &super::audit::test_webhook_detail(&sent),
    )
    .await;
    // A test that did not arrive is what the person must notice: an alert.
    match (sent.status_code, sent.error.as_deref()) {
        (Some(code), _) if sent.succeeded() => {
            act.done(
                PATH,
                &format!("The test webhook was delivered: HTTP {code}."),
            )
            .await
        }
        (Some(code), _) => {
            act.fail(PATH, &format!("The receiver answered HTTP {code}."))
                .await
        }
        (None, Some(e)) => {
            act.fail(PATH, &format!("The test webhook was not delivered: {e}."))
                .await
        }
        (None, None) => act.fail(PATH, "The test webhook was not delivered.").await,
    }
}
