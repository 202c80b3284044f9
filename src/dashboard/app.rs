//! The dashboard as one Leptos application: the document shell, the
//! `leptos_router` routes, the layout every signed-in page shares (navigation,
//! "Sign out"), the sign-in page, and the small pieces pages reuse.

use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use super::guard::{CSRF_FIELD, CsrfToken, CurrentUser};
use super::login::SignOut;
use super::{
    Alert, Flash, FormBack, ShownOnce, audit, identifications, keys, overview, proofmes, settings,
    webhooks,
};
use crate::AppState;
use crate::pages::{Head, assets};

/// The whole document, as `leptos_axum` renders it for every route.
pub fn shell() -> impl IntoView {
    // Leptos ends each page with small inline scripts (its resource and
    // chunk bootstrap) marked with this response's nonce; only they, and our
    // own script carrying the same nonce, may run.
    let nonce = leptos::nonce::use_nonce().map(|n| n.to_string());
    if let Some(nonce) = &nonce {
        if let Ok(csp) = HeaderValue::from_str(&super::content_security_policy(Some(nonce))) {
            expect_context::<leptos_axum::ResponseOptions>()
                .insert_header(header::CONTENT_SECURITY_POLICY, csp);
        }
    }
    // Without a nonce (and so a policy without script) there is no script.
    let script = nonce.as_ref().map(|_| &assets::DASHBOARD_SCRIPT);
    // `leptos_axum` provides the request to every route it renders: without
    // it nothing here can work, and that is a bug to see, not a blank page.
    let title = page_title(expect_context::<Parts>().uri.path());
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <Head
                title=title.to_owned()
                stylesheet=&assets::DASHBOARD_STYLE
                script=script
                nonce=nonce.unwrap_or_default()
            />
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The document's title, by route.
fn page_title(path: &str) -> &'static str {
    match path.trim_end_matches('/') {
        super::LOGIN_PATH => "Sign in – Proofme dashboard",
        "/dashboard" => "Identifications – Proofme dashboard",
        super::overview::PATH => "Overview – Proofme dashboard",
        p if p.starts_with("/dashboard/identifications/") && p.ends_with("/revoke") => {
            "Revoke identification – Proofme dashboard"
        }
        p if p.starts_with("/dashboard/identifications/") && p.ends_with("/erase") => {
            "Erase shared data – Proofme dashboard"
        }
        p if p.starts_with("/dashboard/identifications/") => "Identification – Proofme dashboard",
        p if p.starts_with("/dashboard/keys/") && p.ends_with("/revoke") => {
            "Revoke API key – Proofme dashboard"
        }
        "/dashboard/webhooks/rotate" => "Rotate webhook secret – Proofme dashboard",
        p if p.starts_with("/dashboard/proofmes") => "Proofmes – Proofme dashboard",
        p if p.starts_with("/dashboard/keys") => "API keys – Proofme dashboard",
        p if p.starts_with("/dashboard/webhooks") => "Webhooks – Proofme dashboard",
        audit::PATH => "Audit log – Proofme dashboard",
        settings::PATH => "Settings – Proofme dashboard",
        _ => "Proofme dashboard",
    }
}

/// Every dashboard route. Each loads its data before the first byte is sent
/// (`SsrMode::Async`): there is no JavaScript to swap content in later, and a
/// page can still choose its status (a real 404).
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/dashboard/login") view=LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/dashboard") view=identifications::ListPage ssr=SsrMode::Async/>
                <Route path=path!("/dashboard/overview") view=overview::OverviewPage ssr=SsrMode::Async/>
                <Route
                    path=path!("/dashboard/identifications/:id")
                    view=identifications::DetailPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/dashboard/identifications/:id/revoke")
                    view=identifications::ConfirmRevokePage
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/dashboard/identifications/:id/erase")
                    view=identifications::ConfirmErasePage
                    ssr=SsrMode::Async
                />
                <Route path=path!("/dashboard/proofmes") view=proofmes::ListPage ssr=SsrMode::Async/>
                <Route path=path!("/dashboard/proofmes/new") view=proofmes::NewPage ssr=SsrMode::Async/>
                <Route path=path!("/dashboard/proofmes/:id") view=proofmes::EditPage ssr=SsrMode::Async/>
                <Route path=path!("/dashboard/keys") view=keys::KeysPage ssr=SsrMode::Async/>
                <Route
                    path=path!("/dashboard/keys/:id/revoke")
                    view=keys::ConfirmRevokePage
                    ssr=SsrMode::Async
                />
                <Route path=path!("/dashboard/webhooks") view=webhooks::WebhooksPage ssr=SsrMode::Async/>
                <Route path=path!("/dashboard/audit") view=audit::AuditPage ssr=SsrMode::Async/>
                <Route
                    path=path!("/dashboard/webhooks/rotate")
                    view=webhooks::ConfirmRotatePage
                    ssr=SsrMode::Async
                />
                <Route path=path!("/dashboard/settings") view=settings::SettingsPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}

/// What a page needs from the request: the service, who is signed in, the
/// CSRF token for its forms and any message carried over from the last
/// action (what it did, or why it did nothing).
#[derive(Clone)]
pub struct PageContext {
    pub state: AppState,
    pub user: CurrentUser,
    pub csrf: String,
    pub flash: Option<String>,
    pub alert: Option<String>,
    pub once: Option<String>,
    /// The form the last action sent back, if it was this page's.
    pub form: Option<FormBack>,
}

impl PageContext {
    /// The form sent back to this page, if it is the one named `form`.
    pub fn sent_back(&self, form: &str) -> Option<&FormBack> {
        self.form.as_ref().filter(|b| b.form == form)
    }
}

/// Why the field `id` of a form sent back is at fault, to show beside it
/// (read out at once).
pub fn field_error(back: Option<&FormBack>, id: &str) -> Option<impl IntoView + use<>> {
    let message = back.and_then(|b| b.error_for(id))?;
    Some(view! { <p class="field-error" id=format!("{id}-error") role="alert">{message}</p> })
}

/// What the field `id` carries when it is the one at fault: marked
/// invalid, described by its error, and focused (so the page opens on it,
/// with or without JavaScript).
pub fn fault(back: Option<&FormBack>, id: &str) -> (Option<&'static str>, Option<String>, bool) {
    let at_fault = back.is_some_and(|b| b.field == id);
    (
        at_fault.then_some("true"),
        at_fault.then(|| format!("{id}-error")),
        at_fault,
    )
}

/// The page's context. The request and the state are handed to every route
/// (`leptos_routes_with_context`); missing, they are a bug that must show,
/// so they are expected. A page rendered without a signed-in user (which
/// the guard prevents) answers a page that says something went wrong.
pub fn page_context() -> Result<PageContext, AnyView> {
    let parts = expect_context::<Parts>();
    let state = expect_context::<AppState>();
    let Some(user) = parts.extensions.get::<CurrentUser>().cloned() else {
        tracing::error!(path = %parts.uri.path(), "a dashboard page rendered without a signed-in user");
        return Err(missing_context_view());
    };
    Ok(PageContext {
        state,
        user,
        csrf: parts
            .extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default(),
        flash: parts.extensions.get::<Flash>().map(|f| f.0.clone()),
        alert: parts.extensions.get::<Alert>().map(|a| a.0.clone()),
        once: parts.extensions.get::<ShownOnce>().map(|f| f.0.clone()),
        form: parts
            .extensions
            .get::<FormBack>()
            .filter(|f| f.page == parts.uri.path())
            .cloned(),
    })
}

/// The page for a request that lacks what every page needs: 500, saying so.
fn missing_context_view() -> AnyView {
    set_status(StatusCode::INTERNAL_SERVER_ERROR);
    view! {
        <main id="main" class="narrow">
            <p class="brand">"Proofme"</p>
            <h1>"Something went wrong"</h1>
            <p class="alert" role="alert">"Something went wrong on our side. Please try again."</p>
            <p><a href="/dashboard">"Go to the dashboard"</a></p>
        </main>
    }
    .into_any()
}

/// The page's answer status (a 404, say), for a page rendered by Leptos
/// (which provides the response's options to every route: without them a
/// failure would answer 200, so their absence must show).
pub fn set_status(status: StatusCode) {
    expect_context::<leptos_axum::ResponseOptions>().set_status(status);
}

/// The hidden field every form carries.
#[component]
pub fn CsrfField(token: String) -> impl IntoView {
    view! { <input type="hidden" name=CSRF_FIELD value=token/> }
}

/// The answer of a page that asks before something that cannot be undone:
/// the filled danger button posts the action (the only way to do it), the
/// other way out goes back and changes nothing.
#[component]
pub fn ConfirmForm(
    action: &'static str,
    csrf: String,
    id: Option<String>,
    confirm: &'static str,
    back: String,
    keep: &'static str,
) -> impl IntoView {
    let id = id.map(|id| view! { <input type="hidden" name="id" value=id/> });
    view! {
        <div class="actions confirm">
            <form method="post" action=action>
                <CsrfField token=csrf/>
                {id}
                <button type="submit" class="danger">{confirm}</button>
            </form>
            <a href=back class="button secondary">{keep}</a>
        </div>
    }
}

/// The frame of every signed-in page: the banner with navigation and
/// "Sign out", the page heading, the message from the last action.
#[component]
pub fn Layout(ctx: PageContext, title: String, children: Children) -> impl IntoView {
    let path = expect_context::<Parts>().uri.path().to_owned();
    let nav = [
        (super::overview::PATH, "Overview"),
        ("/dashboard", "Identifications"),
        ("/dashboard/proofmes", "Proofmes"),
        ("/dashboard/keys", "API keys"),
        ("/dashboard/webhooks", "Webhooks"),
        (audit::PATH, "Audit log"),
        (settings::PATH, "Settings"),
    ]
    .into_iter()
    .map(|(href, label)| {
        let current = if href == "/dashboard" {
            path == "/dashboard" || path.starts_with("/dashboard/identifications")
        } else {
            path.starts_with(href)
        };
        view! {
            <li><a href=href aria-current=current.then_some("page")>{label}</a></li>
        }
    })
    .collect_view();
    let sign_out = ServerAction::<SignOut>::new();
    // Why the last action did nothing is an alert, read out at once and
    // set apart from what an action did.
    let alert = ctx
        .alert
        .clone()
        .map(|m| view! { <p class="alert" role="alert">{m}</p> });
    let flash = ctx
        .flash
        .clone()
        .map(|m| view! { <p class="flash" role="status">{m}</p> });
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="top">
            <p class="brand"><a href="/dashboard">"Proofme"</a></p>
            <nav aria-label="Dashboard">
                <ul>{nav}</ul>
            </nav>
            <ActionForm action=sign_out attr:class="sign-out">
                <CsrfField token=ctx.csrf.clone()/>
                <span class="who">{ctx.user.email.clone()}</span>
                <button type="submit" class="link-button">"Sign out"</button>
            </ActionForm>
        </header>
        <main id="main">
            <h1>{title}</h1>
            {alert}
            {flash}
            {children()}
        </main>
    }
}

/// A page whose data could not be loaded: the store is unavailable for a
/// while, or something failed on our side.
pub fn error_view(e: &crate::store::StoreError) -> AnyView {
    let (status, message) = if e.is_retryable() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "The dashboard is briefly unavailable. Please try again in a moment.",
        )
    } else {
        tracing::error!(error = %e, "a dashboard page failed");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side. Please try again.",
        )
    };
    set_status(status);
    view! { <p class="error" role="alert">{message}</p> }.into_any()
}

/// No such page (or not this organisation's): 404.
#[component]
pub fn NotFound() -> impl IntoView {
    set_status(StatusCode::NOT_FOUND);
    view! {
        <main id="main" class="narrow">
            <h1>"Not found"</h1>
            <p>"There is no such page in your dashboard."</p>
            <p><a href="/dashboard">"Back to identifications"</a></p>
        </main>
    }
}

/// The sign-in form, and what the last attempt came to.
#[component]
pub fn LoginForm(csrf: String, error: Option<String>, email: String) -> impl IntoView {
    let error = error.map(|e| view! { <p class="error" role="alert" id="login-error">{e}</p> });
    view! {
        <main id="main" class="narrow">
            <p class="brand">"Proofme"</p>
            <h1>"Sign in to your dashboard"</h1>
            {error}
            <form method="post" action=super::LOGIN_PATH class="stack">
                <CsrfField token=csrf/>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" required value=email/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required/>
                <button type="submit">"Sign in"</button>
            </form>
        </main>
    }
}

#[component]
fn LoginPage() -> impl IntoView {
    let parts = expect_context::<Parts>();
    let csrf = parts
        .extensions
        .get::<CsrfToken>()
        .map(|t| t.0.clone())
        .unwrap_or_default();
    // A sign-in that failed on our side comes back here with why.
    let error = parts.extensions.get::<Alert>().map(|a| a.0.clone());
    view! { <LoginForm csrf=csrf error=error email=String::new()/> }
}

/// A complete document rendered outside the router: the sign-in page after
/// a failed attempt, and short messages (403, 429).
pub fn document(title: &str, body: impl IntoView + 'static) -> String {
    let title = title.to_owned();
    let html = Owner::new().with(|| {
        view! {
            <html lang="en">
                <Head title=title stylesheet=&assets::DASHBOARD_STYLE script=None/>
                <body>{body}</body>
            </html>
        }
        .to_html()
    });
    format!("<!DOCTYPE html>{html}")
}

/// A short page with one message, such as a refusal.
pub fn message_page(status: StatusCode, title: &'static str, message: &'static str) -> Response {
    let body = view! {
        <main id="main" class="narrow">
            <p class="brand">"Proofme"</p>
            <h1>{title}</h1>
            <p>{message}</p>
            <p><a href="/dashboard">"Go to the dashboard"</a></p>
        </main>
    };
    (
        status,
        Html(document(&format!("{title} – Proofme dashboard"), body)),
    )
        .into_response()
}
