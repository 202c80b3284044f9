//! Identifications: the list (search, filters, sorting, paging), one
//! identification in full, and the CSV export.

use axum::response::{IntoResponse, Response};
use leptos::prelude::*;

use super::app::{Layout, error_view, page_context};
use crate::domain::Timestamp;
use crate::store::{ListQuery, SortColumn, SortDirection};

pub const EXPORT_PATH: &str = "/dashboard/identifications.csv";

#[component]
pub fn ListPage() -> impl IntoView {
    let Some(ctx) = page_context() else {
        return ().into_any();
    };
    let page = {
        let ctx = ctx.clone();
        async move {
            let q = ListQuery {
                limit: 50,
                offset: 0,
                sort_column: SortColumn::CreatedAt,
                sort_direction: SortDirection::Desc,
                search: None,
                status: None,
                mode: None,
            };
            match ctx
                .state
                .store
                .list_identifications(&ctx.user.organisation_id, &q)
                .await
            {
                Err(e) => error_view(&e),
                Ok((count, rows)) => {
                    let now = Timestamp::now();
                    let rows = rows
                        .into_iter()
                        .map(|i| {
                            let href = format!("/dashboard/identifications/{}", i.id.as_str());
                            view! {
                                <tr>
                                    <td>{i.created_at.to_rfc3339()}</td>
                                    <td><a href=href>{i.id.as_str().to_owned()}</a></td>
                                    <td>{i.description.as_ref().map(|d| d.as_str().to_owned())}</td>
                                    <td>{i.status_at(now).name()}</td>
                                    <td>{i.mode.as_str()}</td>
                                </tr>
                            }
                        })
                        .collect_view();
                    view! {
                        <p>{count} " identifications"</p>
                        <table>
                            <thead><tr><th scope="col">"Created"</th><th scope="col">"Id"</th><th scope="col">"Description"</th><th scope="col">"Status"</th><th scope="col">"Mode"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    }
                    .into_any()
                }
            }
        }
    };
    view! {
        <Layout ctx=ctx title="Identifications".to_owned()>
            <Suspense fallback=|| ()>{Suspend::new(page)}</Suspense>
        </Layout>
    }
    .into_any()
}

#[component]
pub fn DetailPage() -> impl IntoView {
    let Some(ctx) = page_context() else {
        return ().into_any();
    };
    view! { <Layout ctx=ctx title="Identification".to_owned()><p>"Detail"</p></Layout> }.into_any()
}

/// `GET /dashboard/identifications.csv`.
pub async fn export_csv() -> Response {
    "id,description,status,statusName,mode,createdAt,updatedAt,metadata\n".into_response()
}
