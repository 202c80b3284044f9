//! Identifications: the list (search, filters, sorting, paging, with the
//! API's list semantics), one identification in full with its actions
//! (revoke, erase data, resend webhook), and the CSV export.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::actions::{self, ActionError};
use super::app::{
    ConfirmForm, CsrfField, Layout, PageContext, error_view, page_context, set_status,
};
use chrono::{NaiveDate, NaiveTime};

use super::words::{self, short_id, time_view};
use crate::domain::{
    ChangeCause, CredentialKey, FailureReason, Identification, IdentificationId, Mode, ProofmeId,
    Status, Timestamp,
};
use crate::store::{
    Change, IdentificationFilter, Page, Refusal, ResendRefusal, SealedData, Sort, SortColumn,
    SortDirection,
};

pub const EXPORT_PATH: &str = "/dashboard/identifications.csv";
/// Rows per page of the table.
pub const PAGE_SIZE: i64 = 50;
/// The longest search the API accepts, and so the dashboard.
const MAX_SEARCH: usize = 255;

/// The table's query, as the URL carries it
/// (`?search=&status=&mode=&from=&to=&proofme=&reason=&sort=&dir=&offset=`).
#[derive(Debug, Clone, PartialEq)]
pub struct Filters {
    pub search: String,
    pub status: Option<Status>,
    pub mode: Option<Mode>,
    /// The first day (UTC) whose identifications are shown.
    pub from: Option<NaiveDate>,
    /// The last day (UTC) whose identifications are shown.
    pub to: Option<NaiveDate>,
    pub proofme: Option<ProofmeId>,
    pub reason: Option<FailureReason>,
    pub sort: Option<SortColumn>,
    pub desc: bool,
    pub offset: i64,
}

impl Default for Filters {
    /// Everything, newest first, as the API lists.
    fn default() -> Self {
        Filters {
            search: String::new(),
            status: None,
            mode: None,
            from: None,
            to: None,
            proofme: None,
            reason: None,
            sort: None,
            desc: true,
            offset: 0,
        }
    }
}

/// A day as a date field sends it (`2026-12-07`).
fn parse_day(field: &str, value: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| format!("The {field} date must be a date like 2026-12-31."))
}

/// The first moment of a day, UTC.
fn start_of(day: NaiveDate) -> Timestamp {
    Timestamp::from_millis(day.and_time(NaiveTime::MIN).and_utc().timestamp_millis())
}

impl Filters {
    /// Reads the query; a value that cannot be read is a clear error.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Filters, String> {
        let search = get("search").unwrap_or_default().trim().to_owned();
        if search.chars().count() > MAX_SEARCH {
            return Err(format!(
                "The search can be at most {MAX_SEARCH} characters."
            ));
        }
        let nonempty = |name| get(name).filter(|v| !v.is_empty());
        let status = match nonempty("status") {
            None => None,
            Some(s) => Some(Status::parse(&s).ok_or(format!("There is no status {s:?}."))?),
        };
        let mode = match nonempty("mode") {
            None => None,
            Some(m) => Some(Mode::parse(&m).ok_or(format!("There is no mode {m:?}."))?),
        };
        let from = nonempty("from")
            .map(|d| parse_day("start", &d))
            .transpose()?;
        let to = nonempty("to").map(|d| parse_day("end", &d)).transpose()?;
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err("The start date is after the end date.".to_owned());
            }
        }
        let proofme = match nonempty("proofme") {
            None => None,
            Some(p) => {
                Some(ProofmeId::parse(&p).map_err(|_| format!("There is no proofme {p:?}."))?)
            }
        };
        let reason = match nonempty("reason") {
            None => None,
            Some(r) => {
                Some(FailureReason::parse(&r).ok_or(format!("There is no failure reason {r:?}."))?)
            }
        };
        let sort = match nonempty("sort") {
            None => None,
            Some(c) => Some(SortColumn::parse(&c).ok_or(format!("Cannot sort by {c:?}."))?),
        };
        let desc = match nonempty("dir").as_deref() {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(d) => return Err(format!("There is no sort direction {d:?}.")),
        };
        let offset = match nonempty("offset") {
            None => 0,
            Some(o) => o
                .parse::<i64>()
                .ok()
                .filter(|o| *o >= 0)
                .ok_or("The page offset must be a whole number, 0 or more.")?,
        };
        Ok(Filters {
            search,
            status,
            mode,
            from,
            to,
            proofme,
            reason,
            sort,
            desc,
            offset,
        })
    }

    /// Which rows: the same for the table and its export.
    pub fn filter(&self) -> IdentificationFilter {
        IdentificationFilter {
            q: (!self.search.is_empty()).then(|| self.search.clone()),
            status: self.status,
            mode: self.mode,
            created_from: self.from.map(start_of),
            created_before: self.to.and_then(|d| d.succ_opt()).map(start_of),
            proofme: self.proofme.clone(),
            failure_reason: self.reason,
        }
    }

    pub fn sort(&self) -> Sort {
        Sort {
            column: self.sort.unwrap_or(SortColumn::CreatedAt),
            direction: if self.desc {
                SortDirection::Desc
            } else {
                SortDirection::Asc
            },
        }
    }

    /// The URL query for these filters at another offset.
    pub fn to_query(&self, offset: i64) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if !self.search.is_empty() {
            q.append_pair("search", &self.search);
        }
        if let Some(s) = self.status {
            q.append_pair("status", s.name());
        }
        if let Some(m) = self.mode {
            q.append_pair("mode", m.as_str());
        }
        if let Some(d) = self.from {
            q.append_pair("from", &d.to_string());
        }
        if let Some(d) = self.to {
            q.append_pair("to", &d.to_string());
        }
        if let Some(p) = &self.proofme {
            q.append_pair("proofme", p.as_str());
        }
        if let Some(r) = self.reason {
            q.append_pair("reason", r.as_str());
        }
        if let Some(c) = self.sort {
            q.append_pair("sort", sort_name(c));
        }
        if !self.desc {
            q.append_pair("dir", "asc");
        }
        if offset > 0 {
            q.append_pair("offset", &offset.to_string());
        }
        q.finish()
    }
}

fn sort_name(c: SortColumn) -> &'static str {
    match c {
        SortColumn::Id => "id",
        SortColumn::Description => "description",
        SortColumn::Status => "status",
        SortColumn::IsRequest => "isRequest",
        SortColumn::CreatedAt => "createdAt",
        SortColumn::UpdatedAt => "updatedAt",
    }
}

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

fn read_filters() -> Result<Filters, String> {
    let query = use_query_map();
    let map = query.get_untracked();
    Filters::parse(|name| map.get(name))
}

/// `/dashboard`: the organisation's identifications.
#[component]
pub fn ListPage() -> impl IntoView {
    let ctx = match page_context() {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let filters = read_filters();
    let page = {
        let ctx = ctx.clone();
        async move {
            let store = &ctx.state.store;
            let org = &ctx.user.organisation_id;
            let proofmes = match store.list_proofmes(org).await {
                Ok(p) => p
                    .into_iter()
                    .map(|l| (l.proofme.id, l.proofme.name))
                    .collect::<Vec<_>>(),
                Err(e) => return error_view(&e),
            };
            let filters = match filters {
                Ok(f) => f,
                Err(message) => {
                    // The form shows what a fresh list would use, so that
                    // "Apply" cannot carry the bad value or flip the order.
                    set_status(StatusCode::BAD_REQUEST);
                    return view! {
                        <FilterForm filters=Filters::default() proofmes=proofmes/>
                        <p class="error" role="alert">{message}</p>
                    }
                    .into_any();
                }
            };
            let filter = filters.filter();
            let page = Page {
                after: None,
                offset: filters.offset,
                limit: PAGE_SIZE,
            };
            let rows = store
                .search_identifications(org, &filter, filters.sort(), &page)
                .await;
            let count = store.count_identifications(org, &filter).await;
            match (count, rows) {
                (Ok(count), Ok(rows)) => view! {
                    <FilterForm filters=filters.clone() proofmes=proofmes/>
                    {table(&filters, count, rows.rows, store.clock().now())}
                }
                .into_any(),
                (Err(e), _) | (_, Err(e)) => error_view(&e),
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
fn FilterForm(filters: Filters, proofmes: Vec<(ProofmeId, String)>) -> impl IntoView {
    let status_options = Status::ALL
        .into_iter()
        .map(|s| {
            view! { <option value=s.name() selected=filters.status == Some(s)>{words::status_label(s)}</option> }
        })
        .collect_view();
    let mode_options = [Mode::Test, Mode::Live]
        .into_iter()
        .map(|m| view! { <option value=m.as_str() selected=filters.mode == Some(m)>{words::mode_label(m)}</option> })
        .collect_view();
    let proofme_options = proofmes
        .into_iter()
        .map(|(id, name)| {
            let selected = filters.proofme.as_ref() == Some(&id);
            view! { <option value=id.as_str().to_owned() selected=selected>{name}</option> }
        })
        .collect_view();
    let reason_options = FailureReason::ALL
        .into_iter()
        .map(|r| {
            view! { <option value=r.as_str() selected=filters.reason == Some(r)>{words::failure_words(r)}</option> }
        })
        .collect_view();
    let sort_options = [
        (SortColumn::CreatedAt, "Date created"),
        (SortColumn::UpdatedAt, "Last change"),
        (SortColumn::Description, "Description"),
        (SortColumn::Status, "Status"),
        (SortColumn::Id, "Id"),
    ]
    .into_iter()
    .map(|(c, label)| {
        let selected = filters.sort.unwrap_or(SortColumn::CreatedAt) == c;
        view! { <option value=sort_name(c) selected=selected>{label}</option> }
    })
    .collect_view();
    // The rarer filters fold away, and stay open while one is in use.
    let more_open = filters.from.is_some()
        || filters.to.is_some()
        || filters.proofme.is_some()
        || filters.reason.is_some();
    let day = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    view! {
        <form method="get" action="/dashboard" class="filters" role="search" aria-label="Identifications">
            <label class="wide">"Search"
                <input type="search" name="search" value=filters.search.clone() maxlength="255"
                    placeholder="Description or id"/>
            </label>
            <label>"Status"
                <select name="status">
                    <option value="">"Any status"</option>
                    {status_options}
                </select>
            </label>
            <label>"Mode"
                <select name="mode">
                    <option value="">"Test and live"</option>
                    {mode_options}
                </select>
            </label>
            <details class="more-filters" open=more_open>
                <summary>"More filters"</summary>
                <div class="filters">
                    <label>"Created from"
                        <input type="date" name="from" value=day(filters.from)/>
                    </label>
                    <label>"Created until"
                        <input type="date" name="to" value=day(filters.to)/>
                    </label>
                    <label>"Proofme"
                        <select name="proofme">
                            <option value="">"Any proofme"</option>
                            {proofme_options}
                        </select>
                    </label>
                    <label>"Failure reason"
                        <select name="reason">
                            <option value="">"Any reason"</option>
                            {reason_options}
                        </select>
                    </label>
                </div>
            </details>
            <label>"Sort by"
                <select name="sort">{sort_options}</select>
            </label>
            <label>"Order"
                <select name="dir">
                    <option value="desc" selected=filters.desc>"Newest or Z–A first"</option>
                    <option value="asc" selected=!filters.desc>"Oldest or A–Z first"</option>
                </select>
            </label>
            <button type="submit">"Apply"</button>
        </form>
    }
}

fn table(filters: &Filters, count: i64, rows: Vec<Identification>, now: Timestamp) -> AnyView {
    if rows.is_empty() {
        return empty_state(filters, count).into_any();
    }
    let shown = rows.len() as i64;
    let body = rows
        .into_iter()
        .map(|i| {
            let href = format!("/dashboard/identifications/{}", i.id.as_str());
            let id = i.id.as_str().to_owned();
            let short = short_id(&id);
            // The description names the row; without one, the short id does.
            let name = match &i.description {
                Some(d) => view! { <a href=href>{d.as_str().to_owned()}</a> }.into_any(),
                None => view! {
                    <a href=href><span class="muted">"No description"</span></a>
                }
                .into_any(),
            };
            view! {
                <tr>
                    <td data-label="Description" class="name">{name}</td>
                    <td data-label="Id" class="id"><code title=id>{short}</code></td>
                    <td data-label="Created">{time_view(i.created_at, now)}</td>
                    <td data-label="Status">{words::status_pill(i.status_at(now))}</td>
                    <td data-label="Mode">{words::mode_pill(i.mode)}</td>
                </tr>
            }
        })
        .collect_view();
    let first = filters.offset + 1;
    let last = filters.offset + shown;
    let previous = (filters.offset > 0).then(|| {
        let href = with_query(
            "/dashboard",
            &filters.to_query((filters.offset - PAGE_SIZE).max(0)),
        );
        view! { <a href=href rel="prev">"Previous page"</a> }
    });
    let next = (last < count).then(|| {
        let href = with_query("/dashboard", &filters.to_query(last));
        view! { <a href=href rel="next">"Next page"</a> }
    });
    let export = with_query(EXPORT_PATH, &filters.to_query(0));
    view! {
        <div class="pager">
            <p role="status">{format!("{first}–{last} of {count}")}</p>
            {previous}
            {next}
            <a href=export class="button secondary" download="identifications.csv">"Export CSV"</a>
        </div>
        <div class="table-wrap" role="region" aria-label="Identifications" tabindex="0">
            <table class="cards">
                <thead>
                    <tr>
                        <th scope="col">"Description"</th>
                        <th scope="col">"Id"</th>
                        <th scope="col">"Created (UTC)"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Mode"</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// No rows: say why, and offer the way out.
fn empty_state(filters: &Filters, count: i64) -> impl IntoView {
    let filtered = filters.filter() != IdentificationFilter::default();
    let (text, action) = if count > 0 {
        // Paged past the end.
        (
            "There are no identifications on this page.",
            view! { <a href=with_query("/dashboard", &filters.to_query(0))>"Go to the first page"</a> }
                .into_any(),
        )
    } else if filtered {
        (
            "No identifications match these filters.",
            view! { <a href="/dashboard" class="button secondary">"Clear filters"</a> }.into_any(),
        )
    } else {
        (
            "No identifications yet. They appear here as soon as one is created through the API or a proofme's public link.",
            view! { <a href="/dashboard/proofmes">"See your proofmes"</a> }.into_any(),
        )
    };
    view! {
        <div class="empty" role="status">
            <p>{text}</p>
            <p>{action}</p>
        </div>
    }
}

/// Everything the detail page shows.
struct Detail {
    ident: Identification,
    /// The proofme's current name, if it still exists.
    proofme_name: Option<String>,
    history: Vec<crate::store::StatusChange>,
    deliveries: Vec<crate::store::Delivery>,
    data: SharedView,
}

enum SharedView {
    Nothing,
    /// What was shared, one value per credential, in the catalogue's
    /// order (as MyPage lists what it asks for).
    Plain(Vec<(String, serde_json::Value)>),
    EndToEnd,
}

/// Where a shared key stands in the catalogue; keys it does not know last.
fn catalogue_position(key: &str) -> usize {
    CredentialKey::ALL
        .iter()
        .position(|k| k.as_str() == key)
        .unwrap_or(usize::MAX)
}

async fn load_detail(
    ctx: &PageContext,
    id: &str,
) -> Result<Option<Detail>, crate::store::StoreError> {
    let Ok(id) = IdentificationId::parse(id) else {
        return Ok(None);
    };
    let store = &ctx.state.store;
    let Some((ident, sealed)) = store.shared_data(&ctx.user.organisation_id, &id).await? else {
        return Ok(None);
    };
    let ident = ident.as_of(store.clock().now());
    let data = match sealed {
        None => SharedView::Nothing,
        Some(SealedData::Age(_)) => SharedView::EndToEnd,
        Some(SealedData::DataKey(sealed)) => {
            match ctx.state.data_key.open(&sealed, ident.id.as_str()) {
                Ok(plain) => {
                    SharedView::Plain(match serde_json::from_slice::<serde_json::Value>(&plain) {
                        Ok(serde_json::Value::Object(fields)) => {
                            let mut fields: Vec<_> = fields.into_iter().collect();
                            fields.sort_by_key(|(key, _)| catalogue_position(key));
                            fields
                        }
                        _ => {
                            tracing::error!(id = %ident.id.for_log(), "shared data is not an object");
                            Vec::new()
                        }
                    })
                }
                Err(e) => {
                    tracing::error!(id = %ident.id.for_log(), error = %e, "shared data could not be opened");
                    SharedView::Nothing
                }
            }
        }
    };
    let proofme_name = store
        .get_proofme(&ctx.user.organisation_id, &ident.proofme_id)
        .await?
        .map(|p| p.name);
    Ok(Some(Detail {
        proofme_name,
        history: store.status_history(&ident.id).await?,
        deliveries: store.webhook_deliveries(&ident.id).await?,
        ident,
        data,
    }))
}

/// `/dashboard/identifications/{id}`: one identification in full.
#[component]
pub fn DetailPage() -> impl IntoView {
    let ctx = match page_context() {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let id = use_params_map()
        .get_untracked()
        .get("id")
        .unwrap_or_default();
    // "Show" was just pressed for this identification's data.
    let revealed = expect_context::<axum::http::request::Parts>()
        .extensions
        .get::<super::Revealed>()
        .is_some_and(|r| r.0 == id);
    let page = {
        let ctx = ctx.clone();
        async move {
            match load_detail(&ctx, &id).await {
                Err(e) => error_view(&e),
                Ok(None) => {
                    set_status(StatusCode::NOT_FOUND);
                    view! {
                        <p role="alert">"There is no such identification in your organisation."</p>
                        <p><a href="/dashboard">"Back to identifications"</a></p>
                    }
                    .into_any()
                }
                Ok(Some(detail)) => detail_view(&ctx, detail, revealed).into_any(),
            }
        }
    };
    view! {
        <Layout ctx=ctx title="Identification".to_owned()>
            <Suspense fallback=|| ()>{Suspend::new(page)}</Suspense>
        </Layout>
    }
    .into_any()
}

fn field(label: &'static str, value: Option<String>) -> impl IntoView {
    view! {
        <dt>{label}</dt>
        <dd>{value.unwrap_or_else(|| "—".to_owned())}</dd>
    }
}

fn detail_view(ctx: &PageContext, d: Detail, revealed: bool) -> impl IntoView {
    let i = &d.ident;
    let id = i.id.as_str().to_owned();
    let my_page = format!("{}/{}", ctx.state.config.public_url, id);
    let metadata = i.metadata.as_ref().map(|m| {
        serde_json::from_str::<serde_json::Value>(&m.to_json_string())
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| m.to_json_string())
    });
    let now = ctx.state.store.clock().now();
    let when = |t: Timestamp| Some(words::full_time(t));
    let proofme_href = format!("/dashboard/proofmes/{}", i.proofme_id.as_str());
    let proofme = match &d.proofme_name {
        Some(name) => view! {
            <a href=proofme_href>{name.clone()}</a>
            {format!(" (revision {})", i.proofme_revision)}
        }
        .into_any(),
        None => view! {
            <code>{i.proofme_id.as_str().to_owned()}</code>
            {format!(" (revision {}, since removed)", i.proofme_revision)}
        }
        .into_any(),
    };
    let fields = view! {
        <dl class="fields">
            <dt>"Status"</dt>
            <dd>
                {words::status_pill(i.status_at(now))}
                <span class="muted">{format!(" ({})", i.status_at(now).code())}</span>
            </dd>
            <dt>"Mode"</dt>
            <dd>{words::mode_pill(i.mode)}</dd>
            {field("Description", i.description.as_ref().map(|d| d.as_str().to_owned()))}
            {field("Failure reason", i.failure_reason.map(|r| words::failure_words(r).to_owned()))}
            <dt>"Proofme"</dt>
            <dd>{proofme}</dd>
            <dt>"Id"</dt>
            <dd><code>{id.clone()}</code></dd>
            {field("Asked for", Some(if i.is_request { "A request (the customer chooses what to share)" } else { "A verification" }.to_owned()))}
            {field("Redirect URL", Some(i.redirect_url.as_str().to_owned()))}
            {field("Webhook URL", i.webhook_url.as_ref().map(|u| u.as_str().to_owned()))}
            {field("Locale", i.locale.as_ref().map(|l| l.as_str().to_owned()))}
            {field("MyPage URL", Some(my_page))}
            {field("Created", when(i.created_at))}
            {field("Updated", when(i.updated_at))}
            {field("Expires", when(i.expires_at))}
            {field("Scanned", i.scanned_at.map(words::full_time))}
        </dl>
    };
    // Revoking and erasing cannot be undone: their links lead to a page
    // that asks first, and only its form does it.
    let revoke = is_revocable(i.status).then(|| {
        view! { <a href=revoke_path(&id) class="button danger-outline">"Revoke"</a> }
    });
    let history = d
        .history
        .iter()
        .map(|h| {
            view! {
                <tr>
                    <td data-label="When">{time_view(h.at, now)}</td>
                    <td data-label="From">{h.from.map(words::status_label).unwrap_or("—")}</td>
                    <td data-label="To">{words::status_pill(h.to)}</td>
                    <td data-label="Cause">{words::cause_words(h.cause)}</td>
                </tr>
            }
        })
        .collect_view();
    // Each delivery announces one entry of the history: its new status.
    let announced = |seq: i64| {
        d.history
            .iter()
            .find(|h| h.seq == seq)
            .map_or("—", |h| words::status_label(h.to))
    };
    let attempts: Vec<_> = d
        .deliveries
        .iter()
        .flat_map(|delivery| {
            let event = announced(delivery.seq);
            delivery.attempts.iter().map(move |a| {
                let result = match (a.status_code, &a.error) {
                    (Some(code), _) => format!("HTTP {code}"),
                    (None, Some(e)) => e.clone(),
                    (None, None) => "—".to_owned(),
                };
                view! {
                    <tr>
                        <td data-label="When">{time_view(a.attempted_at, now)}</td>
                        <td data-label="Event">{format!("Status: {event}")}</td>
                        <td data-label="Attempt">{a.attempt}</td>
                        <td data-label="Result">{result}</td>
                        <td data-label="Took">{format!("{} ms", a.duration_ms)}</td>
                        <td data-label="Delivery">{delivery.state.as_str()}</td>
                    </tr>
                }
            })
        })
        .collect();
    let no_attempts = attempts.is_empty().then(|| {
        let text = if d.deliveries.is_empty() {
            "No webhooks yet."
        } else {
            "Webhooks are queued; no attempt yet."
        };
        view! { <p class="muted">{text}</p> }
    });
    let attempts_table = (!attempts.is_empty()).then(|| {
        view! {
            <div class="table-wrap" role="region" aria-label="Webhook attempts" tabindex="0">
                <table class="cards">
                    <thead><tr>
                        <th scope="col">"When"</th><th scope="col">"Event"</th><th scope="col">"Attempt"</th>
                        <th scope="col">"Result"</th><th scope="col">"Took"</th><th scope="col">"Delivery"</th>
                    </tr></thead>
                    <tbody>{attempts}</tbody>
                </table>
            </div>
        }
    });
    let resend = i.webhook_url.is_some().then(|| {
        let (csrf, id) = (ctx.csrf.clone(), id.clone());
        view! {
            <ActionForm action={ServerAction::<ResendWebhook>::new()}>
                <CsrfField token=csrf/>
                <input type="hidden" name="id" value=id/>
                <button type="submit" class="secondary">"Resend webhook"</button>
            </ActionForm>
        }
    });
    let data = match d.data {
        SharedView::Nothing => view! { <p class="muted">"No shared data is held."</p> }.into_any(),
        SharedView::EndToEnd => view! {
            <p>"The shared data is end-to-end encrypted to your organisation's age recipient: Proofme cannot read it. Fetch it with the API and open it with your key."</p>
        }
        .into_any(),
        SharedView::Plain(ref fields) => shared_fields(ctx, &id, fields, revealed).into_any(),
    };
    let erase = (!matches!(d.data, SharedView::Nothing)).then(|| {
        view! { <a href=erase_path(&id) class="button danger-outline">"Erase data"</a> }
    });
    let metadata = match metadata {
        Some(m) => view! { <pre>{m}</pre> }.into_any(),
        None => view! { <p class="muted">"No metadata."</p> }.into_any(),
    };
    view! {
        <p><a href="/dashboard">"Back to identifications"</a></p>
        {fields}
        <div class="actions">{revoke}</div>
        <h2>"Metadata"</h2>
        {metadata}
        <h2>"Status history"</h2>
        <div class="table-wrap" role="region" aria-label="Status history" tabindex="0">
            <table class="cards">
                <thead><tr>
                    <th scope="col">"When"</th><th scope="col">"From"</th>
                    <th scope="col">"To"</th><th scope="col">"Cause"</th>
                </tr></thead>
                <tbody>{history}</tbody>
            </table>
        </div>
        <h2>"Webhook attempts"</h2>
        {attempts_table}
        {no_attempts}
        <div class="actions">{resend}</div>
        <h2>"Shared data"</h2>
        {data}
        <div class="actions">{erase}</div>
    }
}

/// One shared value as a person reads it: yes or no, the text, or the
/// photo as a thumbnail.
fn shared_value(label: &str, value: &serde_json::Value) -> AnyView {
    match value {
        serde_json::Value::Bool(b) => (if *b { "Yes" } else { "No" }).into_any(),
        serde_json::Value::String(s) if s.starts_with("data:image/") => view! {
            <img class="thumb" src=s.clone() alt=format!("{label}, as shared") width="96"/>
        }
        .into_any(),
        serde_json::Value::String(s) => s.clone().into_any(),
        other => other.to_string().into_any(),
    }
}

/// The shared data as labelled fields, with MyPage's names. The values stay
/// masked until someone presses "Show", which the audit log records.
fn shared_fields(
    ctx: &PageContext,
    id: &str,
    fields: &[(String, serde_json::Value)],
    revealed: bool,
) -> impl IntoView {
    let names = crate::mypage::i18n::Lang::EnUs.strings();
    let rows = fields
        .iter()
        .map(|(key, value)| {
            let label = CredentialKey::parse(key)
                .map_or_else(|| key.clone(), |k| names.credential(k).to_owned());
            let shown = if revealed {
                shared_value(&label, value)
            } else {
                view! { <span class="masked">"Hidden"</span> }.into_any()
            };
            view! { <dt>{label}</dt><dd>{shown}</dd> }
        })
        .collect_view();
    let toggle = if revealed {
        view! {
            <p><a href=format!("/dashboard/identifications/{id}") class="button secondary">"Hide"</a></p>
        }
        .into_any()
    } else {
        let (csrf, id) = (ctx.csrf.clone(), id.to_owned());
        view! {
            <ActionForm action={ServerAction::<RevealData>::new()}>
                <CsrfField token=csrf/>
                <input type="hidden" name="id" value=id/>
                <button type="submit" class="secondary">"Show"</button>
                <span class="muted">" Showing the values is recorded in the audit log."</span>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        <dl class="fields" id="shared-data">{rows}</dl>
        {toggle}
    }
}

/// "Show": the shared data is shown on the next page, once.
#[server(prefix = "/dashboard/act", endpoint = "reveal-data")]
pub async fn reveal_data(id: String) -> Result<(), ServerFnError> {
    let act = actions::context().await?;
    let store = &act.state.store;
    let ident = match IdentificationId::parse(&id) {
        Ok(parsed) => store
            .get_identification(&act.user.organisation_id, &parsed)
            .await
            .map_err(|e| ActionError::store(&e))?,
        Err(_) => None,
    };
    let Some(ident) = ident else {
        return act
            .fail(
                "/dashboard",
                "There is no such identification in your organisation.",
            )
            .await;
    };
    tracing::info!(id = %ident.id.for_log(), user = %act.user.id.as_str(), "shared data shown in the dashboard");
    act.audit(
        crate::store::AuditAction::DataRevealed,
        Some(ident.id.as_str()),
        "",
    )
    .await;
    let _ = act
        .session
        .insert(super::guard::REVEAL, ident.id.as_str())
        .await;
    leptos_axum::redirect(&format!(
        "/dashboard/identifications/{}#shared-data",
        ident.id.as_str()
    ));
    Ok(())
}

fn detail_path(id: &str) -> String {
    format!("/dashboard/identifications/{id}")
}

fn revoke_path(id: &str) -> String {
    format!("/dashboard/identifications/{id}/revoke")
}

fn erase_path(id: &str) -> String {
    format!("/dashboard/identifications/{id}/erase")
}

/// Only an identification still under way can be revoked.
fn is_revocable(status: Status) -> bool {
    matches!(status, Status::Open | Status::Pending)
}

/// An identification as a confirmation names it: its description, if it
/// has one, and its id shortened (enough to tell it apart on the page).
fn named(i: &Identification) -> String {
    let short = short_id(i.id.as_str());
    match &i.description {
        Some(d) => format!("“{}” ({short})", d.as_str()),
        None => short,
    }
}

/// The 404 of a confirmation page: no such identification here.
fn no_such_identification() -> AnyView {
    set_status(StatusCode::NOT_FOUND);
    view! {
        <p role="alert">"There is no such identification in your organisation."</p>
        <p><a href="/dashboard">"Back to identifications"</a></p>
    }
    .into_any()
}

/// A confirmation page for something that can no longer be done: why, and
/// the way back. Nothing to confirm, so no button.
fn nothing_to_confirm(why: String, back: String) -> AnyView {
    set_status(StatusCode::CONFLICT);
    view! {
        <p class="note" role="status">{why}</p>
        <p><a href=back>"Back to the identification"</a></p>
    }
    .into_any()
}

/// The identification `id` of the signed-in organisation as of now, and
/// whether shared data is held for it.
async fn load_for_confirm(
    ctx: &PageContext,
    id: &str,
) -> Result<Option<(Identification, bool)>, crate::store::StoreError> {
    let Ok(id) = IdentificationId::parse(id) else {
        return Ok(None);
    };
    let store = &ctx.state.store;
    Ok(store
        .shared_data(&ctx.user.organisation_id, &id)
        .await?
        .map(|(ident, sealed)| (ident.as_of(store.clock().now()), sealed.is_some())))
}

fn id_param() -> String {
    use_params_map()
        .get_untracked()
        .get("id")
        .unwrap_or_default()
}

/// `/dashboard/identifications/{id}/revoke`: asks before revoking. Loading
/// it changes nothing; only its form revokes.
#[component]
pub fn ConfirmRevokePage() -> impl IntoView {
    let ctx = match page_context() {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let id = id_param();
    let page = {
        let ctx = ctx.clone();
        async move {
            match load_for_confirm(&ctx, &id).await {
                Err(e) => error_view(&e),
                Ok(None) => no_such_identification(),
                Ok(Some((i, _))) if !is_revocable(i.status) => nothing_to_confirm(
                    format!(
                        "{} is {}: only an open or pending identification can be revoked, so there is nothing to do.",
                        named(&i),
                        words::status_label(i.status).to_lowercase()
                    ),
                    detail_path(&id),
                ),
                Ok(Some((i, _))) => view! {
                    <p class="question">{format!("Revoke {}?", named(&i))}</p>
                    <p>
                        "The customer can no longer finish it: their page shows it as revoked, and its webhook tells your system so. "
                        <strong>"This cannot be undone."</strong>
                        " To verify this customer after all, create a new identification."
                    </p>
                    <ConfirmForm
                        action=RevokeIdentification::PATH
                        csrf=ctx.csrf.clone()
                        id=Some(id.clone())
                        confirm="Yes, revoke it"
                        back=detail_path(&id)
                        keep="Keep it"
                    />
                }
                .into_any(),
            }
        }
    };
    view! {
        <Layout ctx=ctx title="Revoke identification".to_owned()>
            <Suspense fallback=|| ()>{Suspend::new(page)}</Suspense>
        </Layout>
    }
    .into_any()
}

/// `/dashboard/identifications/{id}/erase`: asks before erasing the shared
/// data. Loading it changes nothing; only its form erases.
#[component]
pub fn ConfirmErasePage() -> impl IntoView {
    let ctx = match page_context() {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let id = id_param();
    let page = {
        let ctx = ctx.clone();
        async move {
            match load_for_confirm(&ctx, &id).await {
                Err(e) => error_view(&e),
                Ok(None) => no_such_identification(),
                Ok(Some((i, false))) => nothing_to_confirm(
                    format!(
                        "No shared data is held for {}, so there is nothing to erase.",
                        named(&i)
                    ),
                    detail_path(&id),
                ),
                Ok(Some((i, true))) => view! {
                    <p class="question">{format!("Erase the shared data of {}?", named(&i))}</p>
                    <p>
                        "The data the customer shared is destroyed: neither you nor Proofme can read it again, on this page or through the API. If your system has not fetched it yet, it is lost. "
                        <strong>"This cannot be undone."</strong>
                        " The identification itself and its status stay as they are."
                    </p>
                    <ConfirmForm
                        action=EraseData::PATH
                        csrf=ctx.csrf.clone()
                        id=Some(id.clone())
                        confirm="Yes, erase the data"
                        back=detail_path(&id)
                        keep="Keep the data"
                    />
                }
                .into_any(),
            }
        }
    };
    view! {
        <Layout ctx=ctx title="Erase shared data".to_owned()>
            <Suspense fallback=|| ()>{Suspend::new(page)}</Suspense>
        </Layout>
    }
    .into_any()
}

/// "Revoke": open or pending becomes revoked (and its webhook is sent).
#[server(prefix = "/dashboard/act", endpoint = "revoke-identification")]
pub async fn revoke_identification(id: String) -> Result<(), ServerFnError> {
    let act = actions::context().await?;
    let back = format!("/dashboard/identifications/{id}");
    let Ok(parsed) = IdentificationId::parse(&id) else {
        return act
            .fail(
                "/dashboard",
                "There is no such identification in your organisation.",
            )
            .await;
    };
    let change = Change::to(Status::Revoked, ChangeCause::DashboardRevoke);
    match act
        .state
        .lifecycle
        .change_status(&parsed, Some(&act.user.organisation_id), change)
        .await
    {
        Ok(Ok(_)) => {
            act.audit(
                crate::store::AuditAction::IdentificationRevoked,
                Some(id.as_str()),
                "",
            )
            .await;
            act.done(&back, "The identification is revoked.").await
        }
        Ok(Err(Refusal::NotFound)) => {
            act.fail(
                "/dashboard",
                "There is no such identification in your organisation.",
            )
            .await
        }
        Ok(Err(Refusal::AlreadyFinal(i) | Refusal::NotAllowed(i))) => {
            let why = format!(
                "The identification is {} and cannot be revoked.",
                i.status.name()
            );
            act.fail(&back, &why).await
        }
        Err(e) => Err(ActionError::store(&e).into()),
    }
}

/// "Erase data": the shared data and its key are destroyed.
#[server(prefix = "/dashboard/act", endpoint = "erase-data")]
pub async fn erase_data(id: String) -> Result<(), ServerFnError> {
    let act = actions::context().await?;
    let store = &act.state.store;
    let ident = match IdentificationId::parse(&id) {
        Ok(parsed) => store
            .get_identification(&act.user.organisation_id, &parsed)
            .await
            .map_err(|e| ActionError::store(&e))?,
        Err(_) => None,
    };
    let Some(ident) = ident else {
        return act
            .fail(
                "/dashboard",
                "There is no such identification in your organisation.",
            )
            .await;
    };
    let count = store
        .erase_shared_data(&ident.id)
        .await
        .map_err(|e| ActionError::store(&e))?;
    tracing::info!(id = %ident.id.for_log(), count, "shared data erased from the dashboard");
    act.audit(
        crate::store::AuditAction::DataErased,
        Some(ident.id.as_str()),
        "",
    )
    .await;
    act.done(
        &format!("/dashboard/identifications/{id}"),
        "The shared data is erased.",
    )
    .await
}

/// "Resend webhook": the current status's webhook goes out again now.
#[server(prefix = "/dashboard/act", endpoint = "resend-webhook")]
pub async fn resend_webhook(id: String) -> Result<(), ServerFnError> {
    let act = actions::context().await?;
    let Ok(parsed) = IdentificationId::parse(&id) else {
        return act
            .fail(
                "/dashboard",
                "There is no such identification in your organisation.",
            )
            .await;
    };
    let back = format!("/dashboard/identifications/{id}");
    match act
        .state
        .lifecycle
        .resend_webhook(&act.user.organisation_id, &parsed)
        .await
        .map_err(|e| ActionError::store(&e))?
    {
        Ok(_) => act.done(&back, "The webhook is on its way again.").await,
        Err(ResendRefusal::NoWebhookUrl) => {
            act.fail(&back, "This identification has no webhook URL.")
                .await
        }
        Err(ResendRefusal::NotFound) => {
            act.fail(
                "/dashboard",
                "There is no such identification in your organisation.",
            )
            .await
        }
    }
}

/// `GET /dashboard/identifications.csv`: the table's rows, every page of
/// them, streamed as CSV in the table's order.
pub async fn export_csv(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    axum::Extension(user): axum::Extension<super::guard::CurrentUser>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let filters = match Filters::parse(|name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }) {
        Ok(f) => f,
        Err(message) => {
            return (StatusCode::BAD_REQUEST, message).into_response();
        }
    };
    tracing::info!(user = %user.id.as_str(), "identifications exported");
    let stream = crate::export::identifications_csv(
        state.store.clone(),
        user.organisation_id.clone(),
        filters.filter(),
        filters.sort(),
    );
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                crate::export::CSV_CONTENT_TYPE,
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"identifications.csv\"",
            ),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}
