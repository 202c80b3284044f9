//! What MyPage and the dashboard share as pages: the static files (with
//! their content-hashed URLs) and the document head.

pub mod assets;

use leptos::prelude::*;

/// The `<head>` of every page: character set, viewport, no indexing, light
/// and dark, the title, one stylesheet, the icon, and a script if the page
/// has one (deferred, from our origin, so the CSP needs no inline script;
/// with the response's `nonce` where the policy allows only nonced scripts).
#[component]
pub fn Head(
    title: String,
    stylesheet: &'static assets::Asset,
    script: Option<&'static assets::Asset>,
    #[prop(optional)] nonce: Option<String>,
) -> impl IntoView {
    view! {
        <head>
            <meta charset="utf-8"/>
            <meta name="viewport" content="width=device-width, initial-scale=1"/>
            <meta name="robots" content="noindex, nofollow"/>
            <meta name="color-scheme" content="light dark"/>
            <title>{title}</title>
            <link rel="stylesheet" href=stylesheet.versioned_path()/>
            <link rel="icon" href=assets::FAVICON.versioned_path() type="image/svg+xml"/>
            {script.map(|s| view! { <script src=s.versioned_path() nonce=nonce defer></script> })}
        </head>
    }
}
