//! Proofme: hosted identity verification. `app(state)` is the whole HTTP
//! service; `main.rs` and the tests both drive it.

pub mod api;
pub mod background;
pub mod cli;
pub mod config;
pub mod connections;
pub mod dashboard;
pub mod domain;
pub mod export;
pub mod http_common;
pub mod lifecycle;
pub mod maintenance;
pub mod mypage;
pub mod oid4vp;
pub mod outbound;
pub mod pages;
pub mod public_link;
pub mod store;
pub mod vault;
pub mod verifier;
pub mod wallet;
pub mod webhooks;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use api::error::Problem;
use api::in_flight::InFlight;
use api::rate_limit::Limits;
use config::Config;
use lifecycle::Lifecycle;
use store::Store;

/// What every handler can reach, behind one reference count: axum clones the
/// state for every request (once per route service, once per `State`
/// extractor), and a clone of every part took some 20 reference counts.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

impl FromRef<AppState> for Arc<Config> {
    fn from_ref(state: &AppState) -> Arc<Config> {
        state.config.clone()
    }
}

impl FromRef<AppState> for leptos::config::LeptosOptions {
    fn from_ref(state: &AppState) -> leptos::config::LeptosOptions {
        state.leptos.clone()
    }
}

/// The parts of `AppState`. Each part takes only its own piece: the
/// status-change service holds the store, the fan-out of changes and the
/// data key; the API's limits and MyPage's caches are their own parts, which
/// background jobs never see.
pub struct AppParts {
    pub config: Arc<Config>,
    pub store: Store,
    /// Where deadlines read the time: the store's clock (tests move it on).
    pub clock: domain::Clock,
    /// Every status change goes through here: store, then announce.
    pub lifecycle: Lifecycle,
    /// Encrypts what customers share (see `vault`).
    pub data_key: vault::DataKey,
    /// The OpenID4VP verifier: its identity, trust anchors, test issuer.
    pub verifier: Arc<verifier::Verifier>,
    /// Credential issuers' status lists, fetched and kept a while.
    pub status_lists: verifier::revocation::StatusLists,
    /// The API's rate limits: per key, and failed authentications per address.
    pub limits: Limits,
    /// Idempotency keys whose first request is still running.
    pub in_flight: InFlight,
    /// Identifications as `GET /v1/identification/{id}` last wrote them.
    pub api_bodies: api::identifications::get::BodyCache,
    /// MyPage's page and QR caches and its status stream slots.
    pub mypage: mypage::MyPageState,
    /// The right to run a sign-in's password check, a few at a time.
    pub password_slots: dashboard::password::Slots,
    /// What Leptos needs to render the dashboard's routes.
    pub leptos: leptos::config::LeptosOptions,
}

impl AppState {
    pub fn new(
        config: Config,
        store: Store,
        data_key: vault::DataKey,
        verifier: verifier::Verifier,
    ) -> Result<AppState, StartError> {
        Ok(AppState(Arc::new(AppParts {
            lifecycle: Lifecycle::new(
                store.clone(),
                lifecycle::Events::default(),
                data_key.clone(),
            ),
            data_key,
            verifier: Arc::new(verifier),
            status_lists: verifier::revocation::StatusLists::new(&config)?,
            limits: Limits::new(
                config.rate_limit,
                config.auth_failure_limit,
                store.clock().clone(),
            ),
            clock: store.clock().clone(),
            mypage: mypage::MyPageState::new(&config),
            password_slots: dashboard::password::Slots::new(
                config.dashboard_password_slots,
                config.dashboard_password_wait,
            ),
            in_flight: InFlight::default(),
            api_bodies: api::identifications::get::BodyCache::new(16 * 1024 * 1024),
            leptos: dashboard::leptos_options(),
            config: Arc::new(config),
            store,
        })))
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Vault(#[from] vault::VaultError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Verifier(#[from] verifier::IdentityError),
    #[error("could not build the HTTP client for status lists: {0}")]
    HttpClient(#[from] reqwest::Error),
}

impl AppState {
    /// The state for `config` over `store`, loading what lives outside the
    /// database: the deployment data key (created on first start), and the
    /// verifier's identity (configured, or kept wrapped in the database).
    pub async fn load(config: Config, store: Store) -> Result<AppState, StartError> {
        let data_key = match &config.data_key_file {
            Some(path) => vault::DataKey::load_or_create(path)?,
            None => vault::DataKey::ephemeral(),
        };
        let verifier = verifier::Verifier::load(&config, &store, &data_key).await?;
        AppState::new(config, store, data_key, verifier)
    }
}

/// Liveness: the process answers. No database work, so it is the HTTP floor.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers reads, and a write commits (within a
/// short timeout), so that a full disk or a lock held elsewhere shows here
/// as 503 and passes by itself. The first line is `ready` or `database
/// unavailable…`; a line `warning: …` follows while free disk space is low.
async fn readyz(State(state): State<AppState>) -> Response {
    let outage = match state.store.ping().await {
        Ok(()) => state.store.check_writes().await.err(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Some(e.outage().unwrap_or(store::Outage::ConnectionLost))
        }
    };
    let warning = maintenance::low_disk_warning(&state.store, state.config.min_free_disk_bytes)
        .map(|w| format!("\nwarning: {w}"))
        .unwrap_or_default();
    match outage {
        None => format!("ready{warning}").into_response(),
        Some(outage) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database unavailable: {outage}{warning}"),
        )
            .into_response(),
    }
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on our side. Please try again.",
        None,
    )
    .into_response()
}

/// The most header bytes a request may carry. The HTTP server itself refuses
/// more than 100 header lines; this bounds their total size, which it allows
/// to grow to hundreds of kilobytes.
const MAX_HEADER_BYTES: usize = 32 * 1024;

async fn limit_header_size(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > MAX_HEADER_BYTES {
        return Problem::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("The request headers are larger than {MAX_HEADER_BYTES} bytes."),
            None,
        )
        .into_response();
    }
    next.run(req).await
}

/// The request's path with every identification id in it shortened to its
/// loggable form: the id is the MyPage secret.
fn request_span(req: &axum::extract::Request) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %req.method(),
        path = %domain::ids::redact_ids(req.uri().path()),
    )
}

/// The whole service as one router.
pub fn app(state: AppState) -> Router {
    let request_timeout = state.config.request_timeout;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(api::router())
        .merge(verifier::router(&state.config))
        .merge(public_link::router(&state.config))
        .merge(dashboard::router(&state))
        .merge(mypage::router())
        .layer(CatchPanicLayer::custom(panic_response))
        // Until the response head: a status stream's body is not limited.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(axum::middleware::from_fn(limit_header_size))
        .layer(axum::middleware::from_fn(api::v1_problems))
        .layer(axum::middleware::from_fn(verifier::oauth_errors))
        // Outside every layer that answers by itself (limits, timeouts, panics).
        .layer(http_common::headers::every_answer())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// Serves until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open_files = connections::open_files_limit();
    let limits = connections::ConnectionLimits::new(&state.config, open_files);
    log_limits(&state.config, &limits, open_files);
    let deliverer = webhooks::deliver::Deliverer::new(state.config.allow_private_webhooks)
        .map_err(std::io::Error::other)?;
    let worker = tokio::spawn(webhooks::worker::run(
        webhooks::worker::Worker::new(
            state.store.clone(),
            deliverer,
            state.config.webhook_retry_schedule.clone(),
            state.lifecycle.events().webhooks_due.clone(),
        )
        .with_lease(state.config.webhook_lease),
    ));
    let jobs = maintenance::Jobs::start(
        &state.lifecycle,
        &state.store,
        state.config.data_retention,
        state.config.audit_retention,
        state.config.min_free_disk_bytes,
    )
    .and(tokio::spawn(api::rate_limit::housekeeping(
        state.limits.clone(),
        api::rate_limit::HOUSEKEEPING_EVERY,
    )))
    .and(tokio::spawn(dashboard::cleanup::cleanup(
        state.store.clone(),
        dashboard::cleanup::CLEANUP_EVERY,
    )));
    // The stand-in hash for unknown emails, made now rather than on the first
    // sign-in (which would then take twice as long as the others).
    tokio::task::spawn_blocking(dashboard::password::warm_up);
    let follower = tokio::spawn(follow_other_instances(
        state.store.clone(),
        state.lifecycle.events().clone(),
    ));
    let events = state.lifecycle.events().clone();
    let begun = Arc::new(tokio::sync::Notify::new());
    let signal = {
        let begun = begun.clone();
        async move {
            shutdown.await;
            events.close();
            begun.notify_one();
        }
    };
    let server = connections::serve_connections(listener, app(state), limits, signal);
    // In-flight requests get this long to finish once shutdown has begun.
    let drain_limit = async {
        begun.notified().await;
        tokio::time::sleep(DRAIN_LIMIT).await;
    };
    tokio::select! {
        () = server => {}
        () = drain_limit => {
            tracing::warn!("requests still running after {DRAIN_LIMIT:?}; stopping anyway");
        }
    }
    worker.abort();
    follower.abort();
    drop(jobs);
    Ok(())
}

/// Passes status changes committed by other instances on to this one's
/// listeners (PostgreSQL; on SQLite this process makes every change itself).
async fn follow_other_instances(store: Store, events: lifecycle::Events) {
    let mut changes = store.status_notifications();
    while let Some((id, code)) = changes.recv().await {
        let Some(status) = domain::Status::from_i64(code) else {
            continue;
        };
        if let Ok(id) = domain::IdentificationId::parse(&id) {
            events.committed_elsewhere(id, status);
        }
    }
}

/// One line with every limit in force, so an operator sees what was derived.
fn log_limits(config: &Config, limits: &connections::ConnectionLimits, open_files: Option<u64>) {
    tracing::info!(
        open_files_limit = ?open_files,
        max_connections = limits.max_total,
        max_connections_per_address = limits.max_per_address,
        header_read_timeout_secs = limits.header_read_timeout.as_secs_f64(),
        idle_timeout_secs = limits.idle_timeout.as_secs_f64(),
        request_timeout_secs = config.request_timeout.as_secs_f64(),
        max_streams_per_identification = config.max_streams_per_identification,
        max_streams_per_address = config.max_streams_per_address,
        rate_limit_per_key_per_sec = config.rate_limit,
        auth_failures_per_address_per_min = config.auth_failure_limit,
        api_body_limit_bytes = api::input::BODY_LIMIT,
        mypage_form_limit_bytes = mypage::FORM_LIMIT,
        max_header_bytes = MAX_HEADER_BYTES,
        "limits in force"
    );
}

/// How long a shutdown waits for requests in flight.
const DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);
