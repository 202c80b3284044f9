//! MyPage's components, rendered on the server. Every text comes from the
//! translation table; components are named for what the customer sees.

use leptos::prelude::*;
use std::sync::Arc;

use super::assets;
use super::i18n::{Lang, Strings, with_org};
use crate::domain::proofme::Proofme;
use crate::domain::{Identification, Mode, Status};

/// What the identification page needs, loaded before rendering.
pub struct PageData {
    pub ident: Identification,
    pub org_name: String,
    pub proofme: Proofme,
    pub wallet_link: String,
    pub qr_svg: Option<Arc<str>>,
    pub lang: Lang,
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
                <head>
                    <meta charset="utf-8"/>
                    <meta name="viewport" content="width=device-width, initial-scale=1"/>
                    <meta name="robots" content="noindex, nofollow"/>
                    <title>{title}</title>
                    <link rel="stylesheet" href=assets::STYLE.versioned_path()/>
                    <link rel="icon" href=assets::FAVICON.versioned_path() type="image/svg+xml"/>
                    {with_script.then(|| view! { <script src=assets::SCRIPT.versioned_path() defer></script> })}
                </head>
                <body>{body}</body>
            </html>
        }
        .to_html()
    });
    format!("<!DOCTYPE html>{html}")
}

#[component]
fn SiteHeader(org_name: String, t: &'static Strings) -> impl IntoView {
    view! {
        <header class="site-header">
            <p class="org-name">{org_name}</p>
            <p class="tagline">{t.tagline}</p>
        </header>
    }
}

#[component]
fn SiteFooter(t: &'static Strings) -> impl IntoView {
    view! { <footer class="site-footer"><p>{t.footer}</p></footer> }
}

#[component]
fn TestModeBanner(t: &'static Strings) -> impl IntoView {
    view! {
        <p class="test-banner" role="note">
            <strong>{t.test_badge}</strong>
            " "
            {t.test_note}
        </p>
    }
}

#[component]
fn RequestSummary(
    ident: Identification,
    proofme: Proofme,
    org_name: String,
    t: &'static Strings,
) -> impl IntoView {
    let items = proofme
        .credentials
        .iter()
        .map(|c| {
            let optional = (!c.required)
                .then(|| view! { <span class="optional">" (" {t.optional} ")"</span> });
            view! { <li>{t.credential(c.key)}{optional}</li> }
        })
        .collect_view();
    let reference = ident.description.map(|d| {
        view! {
            <p class="reference">
                <span class="label">{t.reference}</span>
                " "
                <span>{d.into_string()}</span>
            </p>
        }
    });
    view! {
        <h1>{with_org(t.heading, &org_name)}</h1>
        {reference}
        <section class="card" aria-labelledby="shared-heading">
            <h2 id="shared-heading">{t.what_shared}</h2>
            <ul class="credentials">{items}</ul>
            <h2 id="why-heading">{t.why}</h2>
            <p>{t.purpose(proofme.purpose)}</p>
        </section>
    }
}

#[component]
fn WalletPanel(
    wallet_link: String,
    qr_svg: Option<Arc<str>>,
    t: &'static Strings,
) -> impl IntoView {
    let qr = qr_svg.map(|svg| {
        view! { <div class="qr" role="img" aria-label=t.qr_label inner_html=svg.to_string()></div> }
    });
    view! {
        <section class="card wallet" aria-labelledby="scan-heading">
            <h2 id="scan-heading">{t.scan_heading}</h2>
            <p>{t.scan_help}</p>
            {qr}
            <p class="on-phone">{t.on_phone}</p>
            <a class="button primary" href=wallet_link>{t.open_wallet}</a>
        </section>
    }
}

#[component]
fn StatusLine(
    status: Status,
    org_name: String,
    check_href: String,
    t: &'static Strings,
) -> impl IntoView {
    view! {
        <div class="status-line">
            <p
                id="status-text"
                role="status"
                data-status=status.name()
                data-msg-pending=with_org(t.status_text(Status::Pending), &org_name)
                data-msg-final=t.redirecting
            >
                {with_org(t.status_text(status), &org_name)}
            </p>
            <a class="check-status" href=check_href>{t.check_status}</a>
        </div>
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
        <section class="card test-panel" aria-labelledby="test-heading">
            <h2 id="test-heading">{t.test_panel_heading}</h2>
            <p>{with_org(t.test_panel_help, &org_name)}</p>
            <form method="post" action=action class="outcomes">{buttons}</form>
        </section>
    }
}

#[component]
fn CancelForm(action: String, t: &'static Strings) -> impl IntoView {
    view! {
        <form method="post" action=action class="cancel">
            <p>{t.cancel_help}</p>
            <button type="submit" class="button secondary">{t.cancel}</button>
        </form>
    }
}

#[component]
fn FinalResult(
    status: Status,
    org_name: String,
    redirect_url: String,
    t: &'static Strings,
) -> impl IntoView {
    view! {
        <h1>{t.final_heading(status)}</h1>
        <p class=format!("result {}", status.name()) role="status" data-status=status.name()>
            {with_org(t.status_text(status), &org_name)}
        </p>
        <a class="button primary" href=redirect_url>{with_org(t.return_to, &org_name)}</a>
    }
}

/// The identification page: open and pending show how to share; a final
/// status shows the result and the way back.
pub fn identification_page(data: PageData, check_href: String) -> String {
    let t = data.lang.strings();
    let ident = data.ident;
    let id = ident.id.to_string();
    let open = !ident.status.is_final();
    let test_mode = ident.mode == Mode::Test;
    let title = format!("{} – {}", t.title, data.org_name);
    let org_name = data.org_name;
    let banner = test_mode.then(|| view! { <TestModeBanner t=t/> });
    let content = if open {
        let events_url = format!("/{id}/events");
        view! {
            <main id="main" data-events-url=events_url>
                {banner}
                <RequestSummary ident=ident.clone() proofme=data.proofme org_name=org_name.clone() t=t/>
                <WalletPanel wallet_link=data.wallet_link qr_svg=data.qr_svg t=t/>
                <StatusLine status=ident.status org_name=org_name.clone() check_href=check_href t=t/>
                {test_mode.then(|| view! { <TestPanel action=format!("/{id}/test-outcome") org_name=org_name.clone() t=t/> })}
                <CancelForm action=format!("/{id}/cancel") t=t/>
            </main>
        }
        .into_any()
    } else {
        view! {
            <main id="main" class="final">
                {banner}
                <FinalResult status=ident.status org_name=org_name.clone() redirect_url=ident.redirect_url.to_string() t=t/>
            </main>
        }
        .into_any()
    };
    let body = view! {
        <SiteHeader org_name=org_name t=t/>
        {content}
        <SiteFooter t=t/>
    };
    document(data.lang, title, open, body)
}

/// A page with only a heading and a sentence: not found, errors.
pub fn message_page(lang: Lang, heading: &'static str, text: &'static str) -> String {
    let t = lang.strings();
    let body = view! {
        <header class="site-header"><p class="org-name">"Proofme"</p></header>
        <main id="main" class="final">
            <h1>{heading}</h1>
            <p>{text}</p>
        </main>
        <SiteFooter t=t/>
    };
    document(lang, heading.to_owned(), false, body)
}
