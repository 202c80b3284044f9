//! MyPage's components, rendered on the server. Every text comes from the
//! translation table; components are named for what the customer sees.
//!
//! One document serves phones and desktops: the stylesheet decides which of
//! the two ways to the wallet leads (the button on a small or touch screen,
//! the QR code on a desktop), so the page needs no script and no guess about
//! the device.

use leptos::prelude::*;
use std::sync::Arc;

use super::i18n::{Lang, Language, Strings, with_org};
use crate::domain::proofme::Proofme;
use crate::domain::{FailureReason, Identification, Mode, Status};
use crate::pages::{Head, assets};

/// What the identification page needs, loaded before rendering.
pub struct PageData {
    pub ident: Identification,
    pub org_name: String,
    pub proofme: Proofme,
    pub wallet_link: String,
    pub qr_svg: Option<Arc<str>>,
    pub lang: Lang,
    /// The answer to "Don't have a wallet app?".
    pub wallet_help: String,
    /// Appended to links back into MyPage so they keep the language the
    /// customer asked for (`?lang=…`, `?setlang=…`), or empty.
    pub lang_suffix: String,
}

/// What the cancel confirmation needs.
pub struct ConfirmData {
    pub ident: Identification,
    pub org_name: String,
    pub lang: Lang,
    pub lang_suffix: String,
}

/// Renders a complete HTML document.
pub fn document(
    lang: Lang,
    title: String,
    with_script: bool,
    body: impl IntoView + 'static,
) -> String {
    let html = Owner::new().with(|| {
        view! {
            <html lang=lang.html_lang()>
                <Head
                    title=title
                    stylesheet=&assets::STYLE
                    script=with_script.then_some(&assets::SCRIPT)
                />
                <body>{body}</body>
            </html>
        }
        .to_html()
    });
    format!("<!DOCTYPE html>{html}")
}

/// English | Nederlands. The links keep the page and change only the query,
/// so they work on every page, whatever its path.
#[component]
fn LanguageSwitch(lang: Lang, t: &'static Strings) -> impl IntoView {
    let links = Language::ALL
        .into_iter()
        .map(|l| {
            let current = (l == lang.language()).then_some("true");
            view! {
                <li>
                    <a href=format!("?setlang={}", l.tag()) hreflang=l.tag() lang=l.tag() aria-current=current>
                        {l.name()}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="languages" aria-label=t.language_label>
            <ul>{links}</ul>
        </nav>
    }
}

/// The banner: who asks (or Proofme), test mode, the language switch.
#[component]
fn SiteHeader(
    org_name: Option<String>,
    test_mode: bool,
    lang: Lang,
    t: &'static Strings,
) -> impl IntoView {
    let brand = match org_name {
        Some(name) => view! {
            <div class="brand">
                <p class="org-name">{name}</p>
                <p class="tagline">{t.tagline}</p>
            </div>
        }
        .into_any(),
        None => view! { <div class="brand"><p class="org-name">"Proofme"</p></div> }.into_any(),
    };
    let pill = test_mode.then(|| view! { <p class="test-pill" role="note">{t.test_badge}</p> });
    view! {
        <header class="site-header">
            {brand}
            {pill}
            <LanguageSwitch lang=lang t=t/>
        </header>
    }
}

#[component]
fn SiteFooter(text: &'static str) -> impl IntoView {
    view! { <footer class="site-footer"><p>{text}</p></footer> }
}

#[component]
fn Reference(ident: Identification, t: &'static Strings) -> impl IntoView {
    ident.description.map(|d| {
        view! {
            <p class="reference">
                <span class="label">{t.reference}</span>
                " "
                <span class="value">{d.into_string()}</span>
            </p>
        }
    })
}

#[component]
fn RequestSummary(proofme: Proofme, t: &'static Strings) -> impl IntoView {
    // Long requests go in two columns, so the way to the wallet stays in view.
    let list_class = if proofme.credentials.len() > 4 {
        "credentials many"
    } else {
        "credentials"
    };
    let items = proofme
        .credentials
        .iter()
        .map(|c| {
            let optional = (!c.required)
                .then(|| view! { " " <span class="optional">"(" {t.optional} ")"</span> });
            view! { <li class="credential">{t.credential(c.key)}{optional}</li> }
        })
        .collect_view();
    view! {
        <section class="card request" aria-labelledby="shared-heading">
            <h2 id="shared-heading">{t.what_shared}</h2>
            <ul class=list_class>{items}</ul>
            <div class="why">
                <h2 id="why-heading">{t.why}</h2>
                <p>{t.purpose(proofme.purpose)}</p>
            </div>
        </section>
    }
}

/// Where the customer stands. Open: one line under the heading. Once a
/// wallet has fetched the request (pending) it becomes the page's lead:
/// "continue in your wallet", with the steps. The open page carries the
/// pending parts hidden, so the script can show them when the status
/// changes; without the script a reload renders them.
#[component]
fn Progress(
    status: Status,
    org_name: String,
    check_href: String,
    wallet_link: String,
    t: &'static Strings,
) -> impl IntoView {
    let pending = status == Status::Pending;
    view! {
        <div id="progress" class="progress">
            <h2 id="pending-heading" class="pending-only" tabindex="-1" hidden=!pending>
                {t.pending_heading}
            </h2>
            <ol class="steps pending-only" aria-label=t.progress_label hidden=!pending>
                <li class="done">{t.step_connected}</li>
                <li aria-current="step">{t.step_confirm}</li>
                <li>{with_org(t.step_back, &org_name)}</li>
            </ol>
            <p
                id="status-text"
                role="status"
                data-status=status.name()
                data-msg-pending=with_org(t.status_text(Status::Pending), &org_name)
                data-msg-final=t.redirecting
            >
                {with_org(t.status_text(status), &org_name)}
            </p>
            <p class="status-links">
                <a class="check-status" href=check_href>{t.check_status}</a>
                <a class="reopen pending-only" href=wallet_link hidden=!pending>{t.reopen_wallet}</a>
            </p>
        </div>
    }
}

/// "Use a wallet on this device": the browser's own wallet chooser (the
/// Digital Credentials API). Hidden as rendered: the script shows it only
/// where the browser has the API, so without either the page is unchanged.
/// The messages it may need are here, in the page's language, for the
/// script to put in the live region.
#[component]
fn DeviceWallet(id: String, t: &'static Strings) -> impl IntoView {
    view! {
        <div class="device-wallet">
            <button
                type="button"
                class="button primary device-wallet-button"
                data-dc-api=format!("/{id}/dc-api")
                data-msg-closed=t.device_wallet_closed
                data-msg-failed=t.device_wallet_failed
                hidden
            >
                {t.use_wallet_on_device}
            </button>
            // A live region without the status role: the page has one status, the
            // identification's; this one only speaks up when the sheet fails.
            <p id="device-wallet-message" class="device-wallet-message" aria-live="polite"></p>
        </div>
    }
}

/// The two ways to the wallet. On a phone the button leads and the QR code
/// waits behind a disclosure; on a desktop the stylesheet shows the QR code
/// and turns the button into a quiet link.
#[component]
fn WalletPanel(
    id: String,
    wallet_link: String,
    qr_svg: Option<Arc<str>>,
    wallet_help: String,
    t: &'static Strings,
) -> impl IntoView {
    let qr = qr_svg.map(|svg| {
        view! { <div class="qr" role="img" aria-label=t.qr_label inner_html=svg.to_string()></div> }
    });
    view! {
        <section id="wallet" class="card wallet" aria-labelledby="wallet-heading">
            <h2 id="wallet-heading">{t.wallet_heading}</h2>
            <DeviceWallet id=id t=t/>
            <a class="button primary wallet-button" href=wallet_link.clone()>{t.open_wallet}</a>
            <details class="qr-details">
                <summary>{t.show_qr}</summary>
                <p class="scan-help">{t.scan_help}</p>
                {qr}
            </details>
            <p class="wallet-here"><a href=wallet_link>{t.open_wallet_here}</a></p>
            <details class="help">
                <summary>{t.no_wallet}</summary>
                <p>{wallet_help}</p>
            </details>
        </section>
    }
}

#[component]
fn TestPanel(action: String, org_name: String, t: &'static Strings) -> impl IntoView {
    let buttons = [Status::Verified, Status::Failed, Status::Canceled, Status::Expired]
        .into_iter()
        .map(|s| {
            view! {
                <button type="submit" name="outcome" value=s.name() class=format!("button outcome {}", s.name())>
                    {t.outcome(s)}
                </button>
            }
        })
        .collect_view();
    view! {
        <section class="test-panel" aria-labelledby="test-heading">
            <p class="step-tag">{t.test_panel_tag}</p>
            <h2 id="test-heading">{t.test_panel_heading}</h2>
            <p>{t.test_note} " " {with_org(t.test_panel_help, &org_name)}</p>
            <form method="post" action=action class="outcomes">{buttons}</form>
        </section>
    }
}

/// A quiet way out; it leads to a confirmation, never straight to the end.
#[component]
fn CancelLink(href: String, t: &'static Strings) -> impl IntoView {
    view! {
        <p class="cancel">{t.cancel_question} " " <a href=href>{t.cancel}</a></p>
    }
}

/// The result's picture: decorative, the words say it.
fn status_icon(status: Status) -> &'static str {
    match status {
        Status::Verified => "<path d=\"M15 25l6 6 12-13\"/>",
        Status::Expired => "<path d=\"M24 14v10l6 4\"/>",
        Status::Canceled => "<path d=\"M16 24h16\"/>",
        Status::Revoked => "<path d=\"M17 31l14-14\"/>",
        _ => "<path d=\"M17 17l14 14M31 17l-14 14\"/>",
    }
}

#[component]
fn FinalResult(ident: Identification, org_name: String, t: &'static Strings) -> impl IntoView {
    let status = ident.status;
    let icon = format!(
        "<svg viewBox=\"0 0 48 48\" aria-hidden=\"true\" focusable=\"false\">\
         <circle cx=\"24\" cy=\"24\" r=\"21\"/>{}</svg>",
        status_icon(status)
    );
    let reason = (status == Status::Failed)
        .then_some(ident.failure_reason)
        .flatten()
        .map(
            |r: FailureReason| view! { <p class="reason">{with_org(t.failure(r), &org_name)}</p> },
        );
    let next = t
        .next_step(status)
        .map(|s| view! { <p class="next-step">{with_org(s, &org_name)}</p> });
    let redirect_url = ident.redirect_url.to_string();
    view! {
        <div class=format!("card result-card {}", status.name())>
            <span class="icon" aria-hidden="true" inner_html=icon></span>
            <h1>{t.final_heading(status)}</h1>
            <p class="result" role="status" data-status=status.name()>
                {with_org(t.status_text(status), &org_name)}
            </p>
            {reason}
            <Reference ident=ident t=t/>
            {next}
            <a class="button primary" href=redirect_url>{with_org(t.return_to, &org_name)}</a>
        </div>
    }
}

/// The identification page: open and pending show how to share; a final
/// status shows the result and the way back.
pub fn identification_page(data: PageData) -> String {
    let t = data.lang.strings();
    let ident = data.ident;
    let id = ident.id.to_string();
    let open = !ident.status.is_final();
    let test_mode = ident.mode == Mode::Test;
    let title = format!("{} – {}", t.title, data.org_name);
    let org_name = data.org_name;
    let suffix = data.lang_suffix;
    let content = if open {
        let status = ident.status;
        // Once a wallet has the request, a second scan would only replace it.
        let wallet = (status == Status::Open).then(|| {
            view! {
                <WalletPanel
                    id=id.clone()
                    wallet_link=data.wallet_link.clone()
                    qr_svg=data.qr_svg
                    wallet_help=data.wallet_help
                    t=t
                />
            }
        });
        view! {
            <main id="main" class="journey" data-events-url=format!("/{id}/events") data-status=status.name()>
                <div class="intro">
                    <h1>{with_org(t.heading, &org_name)}</h1>
                    <Reference ident=ident.clone() t=t/>
                </div>
                <Progress
                    status=status
                    org_name=org_name.clone()
                    check_href=format!("/{id}{suffix}")
                    wallet_link=data.wallet_link
                    t=t
                />
                <RequestSummary proofme=data.proofme t=t/>
                {wallet}
                {test_mode.then(|| view! { <TestPanel action=format!("/{id}/test-outcome{suffix}") org_name=org_name.clone() t=t/> })}
                <CancelLink href=format!("/{id}/cancel{suffix}") t=t/>
            </main>
        }
        .into_any()
    } else {
        view! {
            <main id="main" class="final">
                <FinalResult ident=ident org_name=org_name.clone() t=t/>
            </main>
        }
        .into_any()
    };
    let body = view! {
        <SiteHeader org_name=Some(org_name) test_mode=test_mode lang=data.lang t=t/>
        {content}
        <SiteFooter text=t.footer/>
    };
    document(data.lang, title, open, body)
}

/// "Cancel this identification?": the step between the quiet Cancel link and
/// the end, so one tap never ends anything. Only its form cancels.
pub fn cancel_confirmation_page(data: ConfirmData) -> String {
    let t = data.lang.strings();
    let ident = data.ident;
    let id = ident.id.to_string();
    let suffix = data.lang_suffix;
    let org_name = data.org_name;
    let test_mode = ident.mode == Mode::Test;
    let title = format!("{} – {}", t.cancel_title, org_name);
    let body = view! {
        <SiteHeader org_name=Some(org_name.clone()) test_mode=test_mode lang=data.lang t=t/>
        <main id="main" class="confirm" data-events-url=format!("/{id}/events") data-status=ident.status.name()>
            <div class="card confirm-card">
                <h1>{t.cancel_title}</h1>
                <p>{with_org(t.cancel_text, &org_name)}</p>
                <Reference ident=ident.clone() t=t/>
                <div class="confirm-actions">
                    <a class="button primary" href=format!("/{id}{suffix}")>{t.cancel_keep}</a>
                    <form method="post" action=format!("/{id}/cancel{suffix}")>
                        <button type="submit" class="button danger">{t.cancel_yes}</button>
                    </form>
                </div>
            </div>
        </main>
        <SiteFooter text=t.footer/>
    };
    document(data.lang, title, true, body)
}

/// A page with only a heading and a sentence: not found, errors. With the
/// script, a "Go back" button appears where the browser has somewhere to go.
pub fn message_page(lang: Lang, heading: &'static str, text: &'static str) -> String {
    let t = lang.strings();
    let body = view! {
        <SiteHeader org_name=None test_mode=false lang=lang t=t/>
        <main id="main" class="final">
            <div class="card result-card message">
                <h1>{heading}</h1>
                <p>{text}</p>
                <p class="back"><button type="button" class="button secondary" data-back="" hidden>{t.go_back}</button></p>
            </div>
        </main>
        <SiteFooter text=t.footer_plain/>
    };
    document(lang, heading.to_owned(), true, body)
}
