//! MyPage: the page the customer lands on at `myPageUrl`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::domain::IdentificationId;

async fn page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = IdentificationId::parse(&id) else {
        return not_found().await;
    };
    match state.store.find_identification(&id).await {
        Ok(Some(ident)) => Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Proofme</title></head>\
             <body><main><h1>Identification</h1><p>Status: {}</p></main></body></html>",
            ident.status.name()
        ))
        .into_response(),
        Ok(None) => not_found().await,
        Err(e) => {
            tracing::error!(error = %e, "MyPage could not load an identification");
            (StatusCode::INTERNAL_SERVER_ERROR, Html("<!doctype html><title>Error</title><p>Something went wrong.</p>")).into_response()
        }
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title></head><body><main><h1>Page not found</h1></main></body></html>"),
    )
        .into_response()
}

pub fn router() -> Router<AppState> {
    Router::new().route("/{id}", get(page)).fallback(not_found)
}
