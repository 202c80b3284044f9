//! API keys: list, create (the secret shown once), revoke.

use leptos::prelude::*;

use super::app::{Layout, page_context};

#[component]
pub fn KeysPage() -> impl IntoView {
    let Some(ctx) = page_context() else {
        return ().into_any();
    };
    view! { <Layout ctx=ctx title="API keys".to_owned()><p>"API keys"</p></Layout> }.into_any()
}
