//! Proofmes: list, create, edit (each edit a new revision), public links.

use leptos::prelude::*;

use super::app::{Layout, page_context};

#[component]
pub fn ListPage() -> impl IntoView {
    let Some(ctx) = page_context() else {
        return ().into_any();
    };
    view! { <Layout ctx=ctx title="Proofmes".to_owned()><p>"Proofmes"</p></Layout> }.into_any()
}

#[component]
pub fn NewPage() -> impl IntoView {
    let Some(ctx) = page_context() else {
        return ().into_any();
    };
    view! { <Layout ctx=ctx title="New proofme".to_owned()><p>"New"</p></Layout> }.into_any()
}

#[component]
pub fn EditPage() -> impl IntoView {
    let Some(ctx) = page_context() else {
        return ().into_any();
    };
    view! { <Layout ctx=ctx title="Edit proofme".to_owned()><p>"Edit"</p></Layout> }.into_any()
}
