//! Webhooks: reveal and rotate the signing secret, send a test webhook.

use leptos::prelude::*;

use super::app::{Layout, page_context};

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let Some(ctx) = page_context() else {
        return ().into_any();
    };
    view! { <Layout ctx=ctx title="Webhooks".to_owned()><p>"Webhooks"</p></Layout> }.into_any()
}
