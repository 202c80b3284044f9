//! Proofmes: list, create, edit (each edit a new revision), public links.

use std::collections::HashMap;

use axum::http::StatusCode;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::FormBack;
use super::actions::{self, ActionError};
use super::app::{
    CsrfField, Layout, PageContext, error_view, fault, field_error, page_context, set_status,
};
use crate::domain::proofme::{Proofme, PublicLink};
use crate::domain::{Credential, CredentialKey, Mode, ProofmeId, Purpose};
use crate::store::{NewPublicLink, ProofmeListing};

pub const LIST_PATH: &str = "/dashboard/proofmes";
/// The longest proofme name the dashboard accepts.
pub const MAX_NAME: usize = 100;

const NOT_FOUND: &str = "There is no such proofme in your organisation.";

fn edit_path(id: &str) -> String {
    format!("{LIST_PATH}/{id}")
}

/// How a purpose reads on a page.
pub fn purpose_label(p: Purpose) -> &'static str {
    match p {
        Purpose::AgeVerification => "Age verification",
        Purpose::KycVerification => "KYC verification",
        Purpose::AccessControl => "Access control",
        Purpose::OnlineVerification => "Online verification",
        Purpose::Identification => "Identification",
    }
}

/// How a credential reads on a page.
pub fn credential_label(k: CredentialKey) -> &'static str {
    match k {
        CredentialKey::OlderThan18 => "Older than 18",
        CredentialKey::OlderThan21 => "Older than 21",
        CredentialKey::FirstName => "First name",
        CredentialKey::LastName => "Last name",
        CredentialKey::DateOfBirth => "Date of birth",
        CredentialKey::Nationality => "Nationality",
        CredentialKey::DocumentNumber => "Document number",
        CredentialKey::Photo => "Photo",
        CredentialKey::Email => "Email address",
        CredentialKey::PhoneNumber => "Phone number",
    }
}

fn ask_field(k: CredentialKey) -> String {
    format!("ask_{}", k.as_str())
}

fn need_field(k: CredentialKey) -> String {
    format!("need_{}", k.as_str())
}

/// Why the form was refused, and which of its fields (by id) is at fault.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The names of the page's forms, for a form sent back.
const PROOFME_FORM: &str = "proofme";
const LINK_FORM: &str = "public-link";

/// The id of the credentials' fieldset, where "ask for at least one" is told.
const CREDENTIALS: &str = "credentials";
/// The most of one field a form sent back keeps (a name is far shorter).
const KEPT_CHARS: usize = 1000;

/// The fields of a posted form worth showing again: those the form has.
fn kept_fields(fields: &HashMap<String, String>) -> Vec<(String, String)> {
    let mut kept: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| {
            matches!(k.as_str(), "name" | "purpose")
                || CredentialKey::ALL
                    .iter()
                    .any(|c| **k == ask_field(*c) || **k == need_field(*c))
        })
        .map(|(k, v)| (k.clone(), v.chars().take(KEPT_CHARS).collect()))
        .collect();
    kept.sort();
    kept
}

/// A proofme as the form posts it, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ProofmeInput {
    pub name: String,
    pub purpose: Purpose,
    pub credentials: Vec<Credential>,
}

impl ProofmeInput {
    /// Reads the form's fields; what is wrong is a message for the page.
    pub fn parse(fields: &HashMap<String, String>) -> Result<ProofmeInput, FieldError> {
        let name = fields.get("name").map(|n| n.trim()).unwrap_or_default();
        if name.is_empty() {
            return Err(FieldError::new("name", "A proofme needs a name."));
        }
        if name.chars().count() > MAX_NAME {
            return Err(FieldError::new(
                "name",
                format!("The name can be at most {MAX_NAME} characters."),
            ));
        }
        let purpose = fields
            .get("purpose")
            .and_then(|p| Purpose::parse(p))
            .ok_or_else(|| FieldError::new("purpose", "Choose one of the purposes."))?;
        let mut credentials = Vec::new();
        for key in CredentialKey::ALL {
            if fields.get(&ask_field(key)).is_none_or(|v| v.is_empty()) {
                continue;
            }
            let required = match fields.get(&need_field(key)).map(String::as_str) {
                None | Some("required") => true,
                Some("optional") => false,
                Some(_) => {
                    return Err(FieldError::new(
                        need_field(key),
                        format!("{} must be required or optional.", credential_label(key)),
                    ));
                }
            };
            credentials.push(Credential { key, required });
        }
        if credentials.is_empty() {
            return Err(FieldError::new(
                CREDENTIALS,
                "Ask for at least one credential.",
            ));
        }
        Ok(ProofmeInput {
            name: name.to_owned(),
            purpose,
            credentials,
        })
    }
}

fn credentials_text(credentials: &[Credential]) -> String {
    credentials
        .iter()
        .map(|c| {
            if c.required {
                credential_label(c.key).to_owned()
            } else {
                format!("{} (optional)", credential_label(c.key))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `/dashboard/proofmes`: the organisation's proofmes.
#[component]
pub fn ListPage() -> impl IntoView {
    let ctx = match page_context() {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let page = {
        let ctx = ctx.clone();
        async move {
            match ctx
                .state
                .store
                .list_proofmes(&ctx.user.organisation_id)
                .await
            {
                Ok(rows) => list_table(&ctx, rows).into_any(),
                Err(e) => error_view(&e),
            }
        }
    };
    view! {
        <Layout ctx=ctx title="Proofmes".to_owned()>
            <p><a href="/dashboard/proofmes/new" class="button">"Create proofme"</a></p>
            <Suspense fallback=|| ()>{Suspend::new(page)}</Suspense>
        </Layout>
    }
    .into_any()
}

fn list_table(ctx: &PageContext, rows: Vec<ProofmeListing>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">"No proofmes yet."</p> }.into_any();
    }
    let public_url = ctx.state.config.public_url.clone();
    let body = rows
        .into_iter()
        .map(|l| {
            let p = l.proofme;
            let id = p.id.as_str().to_owned();
            let link = match l.public_link {
                Some(link) => {
                    let url = link.url(&public_url);
                    let href = url.clone();
                    view! { <a href=href>{url}</a> }.into_any()
                }
                None => "—".into_any(),
            };
            view! {
                <tr>
                    <td class="name"><a href=edit_path(&id)>{p.name.clone()}</a></td>
                    <td class="id" data-label="Id">{id}</td>
                    <td data-label="Purpose">{purpose_label(p.purpose)}</td>
                    <td data-label="Credentials">{credentials_text(&p.credentials)}</td>
                    <td data-label="Revision">{p.revision}</td>
                    <td class="link" data-label="Public link">{link}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap" role="region" aria-label="Proofmes" tabindex="0">
            <table class="cards">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Id"</th>
                        <th scope="col">"Purpose"</th>
                        <th scope="col">"Credentials"</th>
                        <th scope="col">"Revision"</th>
                        <th scope="col">"Public link"</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The name, purpose and credentials form: empty, with a proofme's current
/// revision, or as it was sent when it was refused (`back`, which wins).
fn proofme_form(
    csrf: String,
    current: Option<&Proofme>,
    back: Option<&FormBack>,
) -> impl IntoView + use<> {
    let name = match back {
        Some(b) => b.value("name").unwrap_or_default().to_owned(),
        None => current.map(|p| p.name.clone()).unwrap_or_default(),
    };
    let purpose = match back {
        Some(b) => b.value("purpose").and_then(Purpose::parse),
        None => current.map(|p| p.purpose),
    };
    let purposes = Purpose::ALL
        .into_iter()
        .map(|p| {
            view! { <option value=p.as_str() selected=purpose == Some(p)>{purpose_label(p)}</option> }
        })
        .collect_view();
    let first_credential = CredentialKey::ALL.first().copied();
    let rows = CredentialKey::ALL
        .into_iter()
        .map(|key| {
            let (ask, need) = (ask_field(key), need_field(key));
            let (asked, optional) = match back {
                Some(b) => (
                    b.value(&ask).is_some_and(|v| !v.is_empty()),
                    b.value(&need) == Some("optional"),
                ),
                None => {
                    let c = current.and_then(|p| p.credentials.iter().find(|c| c.key == key));
                    (c.is_some(), c.is_some_and(|c| !c.required))
                }
            };
            let label = credential_label(key);
            // "Ask for at least one" opens the page on the first checkbox.
            let focus_ask = first_credential == Some(key) && back.is_some_and(|b| b.field == CREDENTIALS);
            let (need_invalid, need_described, need_focus) = fault(back, &need);
            let need_error = field_error(back, &need);
            view! {
                <fieldset class="credential">
                    <legend>{label}</legend>
                    <span class="check">
                        <input type="checkbox" id=ask.clone() name=ask.clone() value="yes" checked=asked autofocus=focus_ask/>
                        <label for=ask>{format!("Ask for {label}")}</label>
                    </span>
                    <label for=need.clone()>"Required or optional"</label>
                    <select
                        id=need.clone()
                        name=need
                        aria-invalid=need_invalid
                        aria-describedby=need_described
                        autofocus=need_focus
                    >
                        <option value="required" selected=!optional>"Required"</option>
                        <option value="optional" selected=optional>"Optional"</option>
                    </select>
                    {need_error}
                </fieldset>
            }
        })
        .collect_view();
    let id = current.map(|p| {
        view! { <input type="hidden" name="id" value=p.id.as_str().to_owned()/> }
    });
    let button = if current.is_some() {
        "Save as new revision"
    } else {
        "Create proofme"
    };
    let (name_invalid, name_described, name_focus) = fault(back, "name");
    let (purpose_invalid, purpose_described, purpose_focus) = fault(back, "purpose");
    let (name_error, purpose_error, credentials_error) = (
        field_error(back, "name"),
        field_error(back, "purpose"),
        field_error(back, CREDENTIALS),
    );
    let credentials_described = back
        .is_some_and(|b| b.field == CREDENTIALS)
        .then(|| format!("{CREDENTIALS}-error"));
    view! {
        <ActionForm action={ServerAction::<SaveProofme>::new()} attr:class="stack proofme-form">
            <CsrfField token=csrf/>
            {id}
            <label for="name">"Name"</label>
            {name_error}
            <input
                id="name"
                name="name"
                type="text"
                required
                maxlength=MAX_NAME.to_string()
                value=name
                aria-invalid=name_invalid
                aria-describedby=name_described
                autofocus=name_focus
            />
            <label for="purpose">"Purpose"</label>
            {purpose_error}
            <select
                id="purpose"
                name="purpose"
                required
                aria-invalid=purpose_invalid
                aria-describedby=purpose_described
                autofocus=purpose_focus
            >
                {purposes}
            </select>
            <fieldset class="credentials" id=CREDENTIALS aria-describedby=credentials_described>
                <legend>"Credentials"</legend>
                <p class="muted">"Ask for at least one."</p>
                {credentials_error}
                {rows}
            </fieldset>
            <button type="submit">{button}</button>
        </ActionForm>
    }
}

/// `/dashboard/proofmes/new`: an empty form.
#[component]
pub fn NewPage() -> impl IntoView {
    let ctx = match page_context() {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let (csrf, back) = (ctx.csrf.clone(), ctx.sent_back(PROOFME_FORM).cloned());
    view! {
        <Layout ctx=ctx title="New proofme".to_owned()>
            <p><a href=LIST_PATH>"Back to proofmes"</a></p>
            {proofme_form(csrf, None, back.as_ref())}
        </Layout>
    }
    .into_any()
}

/// `/dashboard/proofmes/{id}`: the current revision to edit, and the
/// public link.
#[component]
pub fn EditPage() -> impl IntoView {
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
            let found = match ProofmeId::parse(&id) {
                Ok(id) => {
                    ctx.state
                        .store
                        .get_proofme_listing(&ctx.user.organisation_id, &id)
                        .await
                }
                Err(_) => Ok(None),
            };
            match found {
                Err(e) => error_view(&e),
                Ok(None) => {
                    set_status(StatusCode::NOT_FOUND);
                    view! {
                        <p role="alert">{NOT_FOUND}</p>
                        <p><a href=LIST_PATH>"Back to proofmes"</a></p>
                    }
                    .into_any()
                }
                Ok(Some(listing)) => edit_view(&ctx, listing).into_any(),
            }
        }
    };
    view! {
        <Layout ctx=ctx title="Edit proofme".to_owned()>
            <Suspense fallback=|| ()>{Suspend::new(page)}</Suspense>
        </Layout>
    }
    .into_any()
}

fn edit_view(ctx: &PageContext, listing: ProofmeListing) -> impl IntoView {
    let p = &listing.proofme;
    let id = p.id.as_str().to_owned();
    let revision = p.revision;
    let form = proofme_form(ctx.csrf.clone(), Some(p), ctx.sent_back(PROOFME_FORM));
    let link_back = ctx.sent_back(LINK_FORM);
    let link = match &listing.public_link {
        None => {
            let form = link_form(ctx.csrf.clone(), &id, None, link_back);
            view! {
                <p class="muted">"This proofme has no public link."</p>
                {form}
            }
            .into_any()
        }
        Some(link) => {
            let url = link.url(&ctx.state.config.public_url);
            let href = url.clone();
            let form = link_form(ctx.csrf.clone(), &id, Some(link), link_back);
            let (csrf, id) = (ctx.csrf.clone(), id.clone());
            view! {
                <dl class="fields">
                    <dt>"Address"</dt>
                    <dd class="public-link"><a href=href>{url}</a></dd>
                    <dt>"Redirect URL"</dt>
                    <dd>{link.redirect_url.as_str().to_owned()}</dd>
                    <dt>"Webhook URL"</dt>
                    <dd>{link.webhook_url.as_ref().map(|u| u.as_str().to_owned()).unwrap_or_else(|| "—".to_owned())}</dd>
                    <dt>"Mode"</dt>
                    <dd>{link.mode.as_str()}</dd>
                </dl>
                <h3>"Change the link"</h3>
                <p class="muted">"Saving gives the link a new address; the current one stops working."</p>
                {form}
                <div class="actions">
                    <ActionForm action={ServerAction::<RemovePublicLink>::new()}>
                        <CsrfField token=csrf/>
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="danger">"Remove public link"</button>
                    </ActionForm>
                </div>
            }
            .into_any()
        }
    };
    view! {
        <p><a href=LIST_PATH>"Back to proofmes"</a></p>
        <dl class="fields">
            <dt>"Id"</dt>
            <dd class="id">{id.clone()}</dd>
            <dt>"Revision"</dt>
            <dd class="revision">{revision}</dd>
        </dl>
        <p class="muted">"Saving makes a new revision; identifications already made keep the revision they were made with."</p>
        {form}
        <h2>"Public link"</h2>
        {link}
    }
}

/// The public link's form: empty, with the current link, or as it was sent
/// when it was refused (`back`, which wins).
fn link_form(
    csrf: String,
    id: &str,
    current: Option<&PublicLink>,
    back: Option<&FormBack>,
) -> impl IntoView + use<> {
    let (redirect, webhook, mode) = match back {
        Some(b) => (
            b.value("redirect_url").unwrap_or_default().to_owned(),
            b.value("webhook_url").unwrap_or_default().to_owned(),
            b.value("mode").and_then(Mode::parse).unwrap_or(Mode::Test),
        ),
        None => (
            current
                .map(|l| l.redirect_url.as_str().to_owned())
                .unwrap_or_default(),
            current
                .and_then(|l| l.webhook_url.as_ref().map(|u| u.as_str().to_owned()))
                .unwrap_or_default(),
            current.map(|l| l.mode).unwrap_or(Mode::Test),
        ),
    };
    let (redirect_invalid, redirect_described, redirect_focus) = fault(back, "redirect_url");
    let (webhook_invalid, webhook_described, webhook_focus) = fault(back, "webhook_url");
    let (mode_invalid, mode_described, mode_focus) = fault(back, "mode");
    let (redirect_error, webhook_error, mode_error) = (
        field_error(back, "redirect_url"),
        field_error(back, "webhook_url"),
        field_error(back, "mode"),
    );
    let modes = [Mode::Test, Mode::Live]
        .into_iter()
        .map(|m| view! { <option value=m.as_str() selected=mode == m>{m.as_str()}</option> })
        .collect_view();
    let id = id.to_owned();
    let button = if current.is_some() {
        "Save link"
    } else {
        "Create public link"
    };
    view! {
        <ActionForm action={ServerAction::<SavePublicLink>::new()} attr:class="stack">
            <CsrfField token=csrf/>
            <input type="hidden" name="id" value=id/>
            <label for="redirect_url">"Redirect URL"</label>
            {redirect_error}
            <input
                id="redirect_url"
                name="redirect_url"
                type="url"
                required
                value=redirect
                aria-invalid=redirect_invalid
                aria-describedby=redirect_described
                autofocus=redirect_focus
            />
            <label for="webhook_url">"Webhook URL (optional)"</label>
            {webhook_error}
            <input
                id="webhook_url"
                name="webhook_url"
                type="url"
                value=webhook
                aria-invalid=webhook_invalid
                aria-describedby=webhook_described
                autofocus=webhook_focus
            />
            <label for="mode">"Mode"</label>
            {mode_error}
            <select
                id="mode"
                name="mode"
                aria-invalid=mode_invalid
                aria-describedby=mode_described
                autofocus=mode_focus
            >
                {modes}
            </select>
            <button type="submit">{button}</button>
        </ActionForm>
    }
}

/// "Create proofme" and "Save as new revision": the form's fields (the
/// credentials are one checkbox and one choice per catalogue entry).
#[server(prefix = "/dashboard/act", endpoint = "save-proofme")]
pub async fn save_proofme(
    #[server(flatten)] fields: HashMap<String, String>,
) -> Result<(), ServerFnError> {
    let act = actions::context().await?;
    let store = &act.state.store;
    let org = &act.user.organisation_id;
    let id = match fields.get("id").filter(|i| !i.is_empty()) {
        None => None,
        Some(raw) => match ProofmeId::parse(raw) {
            Ok(id) => Some(id),
            Err(_) => return act.fail(LIST_PATH, NOT_FOUND).await,
        },
    };
    let back = id
        .as_ref()
        .map(|i| edit_path(i.as_str()))
        .unwrap_or_else(|| format!("{LIST_PATH}/new"));
    let input = match ProofmeInput::parse(&fields) {
        Ok(input) => input,
        Err(e) => {
            // Back to the form as it was typed, the reason beside the field.
            let sent_back = FormBack {
                page: back,
                form: PROOFME_FORM.to_owned(),
                fields: kept_fields(&fields),
                field: e.field,
                message: e.message,
            };
            return act.fail_form(sent_back).await;
        }
    };
    match id {
        None => {
            let made = store
                .create_proofme(org, &input.name, input.purpose, &input.credentials)
                .await
                .map_err(|e| ActionError::store(&e))?;
            tracing::info!(proofme = %made.id.as_str(), "proofme created from the dashboard");
            act.audit(
                crate::store::AuditAction::ProofmeCreated,
                Some(made.id.as_str()),
                &input.name,
            )
            .await;
            act.done(&edit_path(made.id.as_str()), "The proofme is created.")
                .await
        }
        Some(id) => {
            let saved = store
                .update_proofme(org, &id, &input.name, input.purpose, &input.credentials)
                .await
                .map_err(|e| ActionError::store(&e))?;
            match saved {
                None => act.fail(LIST_PATH, NOT_FOUND).await,
                Some(p) => {
                    let message = format!("Saved as revision {}.", p.revision);
                    act.audit(
                        crate::store::AuditAction::ProofmeEdited,
                        Some(id.as_str()),
                        &message,
                    )
                    .await;
                    act.done(&back, &message).await
                }
            }
        }
    }
}

/// "Create public link" and "Save link": a link with these URLs and mode
/// (a new address each time).
#[server(prefix = "/dashboard/act", endpoint = "save-public-link")]
pub async fn save_public_link(
    id: String,
    redirect_url: String,
    #[server(default)] webhook_url: Option<String>,
    mode: String,
) -> Result<(), ServerFnError> {
    let act = actions::context().await?;
    let Ok(parsed) = ProofmeId::parse(&id) else {
        return act.fail(LIST_PATH, NOT_FOUND).await;
    };
    let back = edit_path(&id);
    // A refusal sends the form back as typed, the reason beside `field`.
    let sent_back = |field: &str, message: String| FormBack {
        page: back.clone(),
        form: LINK_FORM.to_owned(),
        fields: [
            ("redirect_url", redirect_url.as_str()),
            ("webhook_url", webhook_url.as_deref().unwrap_or_default()),
            ("mode", mode.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.chars().take(KEPT_CHARS).collect()))
        .collect(),
        field: field.to_owned(),
        message,
    };
    let Some(parsed_mode) = Mode::parse(&mode) else {
        let refused = sent_back("mode", "The mode must be test or live.".to_owned());
        return act.fail_form(refused).await;
    };
    let webhook = webhook_url.as_deref().map(str::trim);
    let (redirect_url, webhook_url) =
        match crate::public_link::check_link_urls(&act.state.config, redirect_url.trim(), webhook)
            .await
        {
            Ok(urls) => urls,
            Err(e) => {
                let (field, name) = if e.field == "redirectUrl" {
                    ("redirect_url", "redirect URL")
                } else {
                    ("webhook_url", "webhook URL")
                };
                let message = format!("Nothing was saved: the {name} {}.", e.reason);
                return act.fail_form(sent_back(field, message)).await;
            }
        };
    let link = NewPublicLink {
        redirect_url,
        webhook_url,
        mode: parsed_mode,
    };
    let saved = act
        .state
        .store
        .set_public_link(&act.user.organisation_id, &parsed, &link)
        .await
        .map_err(|e| ActionError::store(&e))?;
    match saved {
        None => act.fail(LIST_PATH, NOT_FOUND).await,
        Some(_) => {
            act.audit(
                crate::store::AuditAction::PublicLinkSaved,
                Some(id.as_str()),
                link.mode.as_str(),
            )
            .await;
            act.done(&back, "The public link is saved.").await
        }
    }
}

/// "Remove public link": its address answers 404 from now on.
#[server(prefix = "/dashboard/act", endpoint = "remove-public-link")]
pub async fn remove_public_link(id: String) -> Result<(), ServerFnError> {
    let act = actions::context().await?;
    let Ok(parsed) = ProofmeId::parse(&id) else {
        return act.fail(LIST_PATH, NOT_FOUND).await;
    };
    let removed = act
        .state
        .store
        .remove_public_link(&act.user.organisation_id, &parsed)
        .await
        .map_err(|e| ActionError::store(&e))?;
    if removed {
        act.audit(
            crate::store::AuditAction::PublicLinkRemoved,
            Some(id.as_str()),
            "",
        )
        .await;
        act.done(&edit_path(&id), "The public link is removed.")
            .await
    } else {
        act.fail(&edit_path(&id), "There was no public link to remove.")
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_form_reads_name_purpose_and_asked_credentials_in_catalogue_order() {
        let input = ProofmeInput::parse(&fields(&[
            ("name", "  Shop  "),
            ("purpose", "KYC_VERIFICATION"),
            ("ask_EMAIL", "yes"),
            ("need_EMAIL", "optional"),
            ("ask_FIRST_NAME", "yes"),
            ("need_FIRST_NAME", "required"),
            ("need_PHOTO", "optional"),
        ]))
        .unwrap();
        assert_eq!(input.name, "Shop");
        assert_eq!(input.purpose, Purpose::KycVerification);
        assert_eq!(
            input.credentials,
            [
                Credential {
                    key: CredentialKey::FirstName,
                    required: true
                },
                Credential {
                    key: CredentialKey::Email,
                    required: false
                }
            ]
        );
    }

    #[test]
    fn a_form_sent_back_keeps_only_the_forms_own_fields_and_not_too_much() {
        let long = "y".repeat(KEPT_CHARS + 5);
        let kept = kept_fields(&fields(&[
            ("name", long.as_str()),
            ("purpose", "NOPE"),
            ("ask_EMAIL", "yes"),
            ("need_EMAIL", "optional"),
            ("csrf", "token"),
            ("id", "pr_x"),
            ("anything", "else"),
        ]));
        let names: Vec<&str> = kept.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["ask_EMAIL", "name", "need_EMAIL", "purpose"]);
        assert_eq!(kept[1].1.chars().count(), KEPT_CHARS);
    }

    #[test]
    fn the_form_refuses_what_a_proofme_cannot_be() {
        let ok = [("purpose", "IDENTIFICATION"), ("ask_PHOTO", "yes")];
        let long = "x".repeat(MAX_NAME + 1);
        for (extra, expected) in [
            (vec![("name", "   ")], "needs a name"),
            (vec![("name", long.as_str())], "at most 100"),
            (
                vec![("name", "A"), ("need_PHOTO", "maybe")],
                "required or optional",
            ),
        ] {
            let mut all = ok.to_vec();
            all.extend(extra);
            let err = ProofmeInput::parse(&fields(&all)).unwrap_err();
            assert!(err.message.contains(expected), "{err:?}");
        }
        let none = ProofmeInput::parse(&fields(&[("name", "A"), ("purpose", "IDENTIFICATION")]));
        let none = none.unwrap_err();
        assert!(none.message.contains("at least one credential"));
        assert_eq!(none.field, CREDENTIALS);
        let bad = ProofmeInput::parse(&fields(&[
            ("name", "A"),
            ("purpose", "NOPE"),
            ("ask_PHOTO", "yes"),
        ]));
        let bad = bad.unwrap_err();
        assert!(bad.message.contains("purposes"));
        assert_eq!(bad.field, "purpose");
    }
}
