//! The audit log page (`/dashboard/audit`): what the organisation's people
//! did, newest first, paged, filtered by action, actor email and dates (all
//! in the URL), and its CSV export. Only the signed-in user's organisation
//! is ever read. Also how actions record an event (`Act::audit`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::actions::Act;
use super::app::{Layout, error_view, page_context, set_status};
use crate::domain::{OrganisationId, Timestamp};
use crate::store::{
    Actor, AuditAction, AuditEvent, AuditFilter, MAX_ACTOR_FILTER_CHARS, Store, TestWebhook, User,
};

pub const PATH: &str = "/dashboard/audit";
pub const EXPORT_PATH: &str = "/dashboard/audit.csv";
/// Events per page.
pub const PAGE_SIZE: i64 = 50;

/// Appends an event, logging (never failing on) a write that does not take:
/// it is called after the change it records, which stands either way.
pub async fn record(
    store: &Store,
    organisation: &OrganisationId,
    actor: Actor,
    action: AuditAction,
    target: Option<&str>,
    detail: &str,
) {
    if let Err(e) = store
        .audit()
        .record(organisation, actor, action, target, detail)
        .await
    {
        tracing::error!(error = %e, action = action.as_str(), "an audit event could not be recorded");
    }
}

/// What an event says of a test webhook: where it went (the host alone: a
/// URL's path or query may hold a token) and what came of it.
pub fn test_webhook_detail(sent: &TestWebhook) -> String {
    let host = url::Url::parse(&sent.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let result = match (sent.status_code, sent.error.as_deref()) {
        (Some(code), _) => format!("HTTP {code}"),
        (None, Some(e)) => e.to_owned(),
        (None, None) => "not delivered".to_owned(),
    };
    format!("{host}: {result}")
}

/// Records that `user` signed in, once the session is theirs.
pub async fn record_signed_in(store: &Store, user: &User) {
    let actor = Actor::user(&user.id, &user.email);
    record(
        store,
        &user.organisation_id,
        actor,
        AuditAction::SignedIn,
        None,
        "",
    )
    .await;
}

/// Records a failed sign-in against `account` (the user whose email was
/// typed: an event needs an organisation, so one for an unknown email is not
/// kept). The actor is nobody signed in, named by the account's own stored
/// email, never by the text typed, which may hold anything (a password in
/// the wrong box). Written in the background after the answer's work, so
/// that a known email takes no longer to refuse than an unknown one.
pub fn record_failed_sign_in(store: &Store, account: &User) {
    let (store, account) = (store.clone(), account.clone());
    tokio::spawn(async move {
        record(
            &store,
            &account.organisation_id,
            Actor::attempt_on(&account.email),
            AuditAction::SignInFailed,
            Some(account.id.as_str()),
            "",
        )
        .await;
    });
}

impl Act {
    /// Records that the signed-in user did `action` (to `target`), right
    /// after the action's change was made.
    pub async fn audit(&self, action: AuditAction, target: Option<&str>, detail: &str) {
        let actor = Actor::user(&self.user.id, &self.user.email);
        record(
            &self.state.store,
            &self.user.organisation_id,
            actor,
            action,
            target,
            detail,
        )
        .await;
    }
}

/// The page's filters and position, as the URL holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub action: Option<AuditAction>,
    pub actor: String,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub offset: i64,
}

fn parse_date(value: &str, what: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| format!("The {what} date must be a date such as 2026-12-31."))
}

/// Midnight UTC starting `day`.
fn start_of(day: NaiveDate) -> Timestamp {
    Timestamp::from_millis(
        day.and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_millis(),
    )
}

impl AuditQuery {
    /// Reads the query; a value that cannot be read is a clear error.
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<AuditQuery, String> {
        let nonempty = |name| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let action = match nonempty("action") {
            None => None,
            Some(a) => Some(AuditAction::parse(&a).ok_or("There is no such action.")?),
        };
        let actor = nonempty("actor").unwrap_or_default();
        if actor.chars().count() > MAX_ACTOR_FILTER_CHARS {
            return Err(format!(
                "The actor email can be at most {MAX_ACTOR_FILTER_CHARS} characters."
            ));
        }
        let from = nonempty("from")
            .map(|d| parse_date(&d, "from"))
            .transpose()?;
        let to = nonempty("to").map(|d| parse_date(&d, "to")).transpose()?;
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err("The from date is after the to date.".to_owned());
            }
        }
        let offset = match nonempty("offset") {
            None => 0,
            Some(o) => o
                .parse::<i64>()
                .ok()
                .filter(|o| *o >= 0)
                .ok_or("The page offset must be a whole number, 0 or more.")?,
        };
        Ok(AuditQuery {
            action,
            actor,
            from,
            to,
            offset,
        })
    }

    /// Which events: the same for the page and its export. Dates are whole
    /// days in UTC, both included.
    pub fn filter(&self) -> AuditFilter {
        AuditFilter {
            action: self.action,
            actor_email: (!self.actor.is_empty()).then(|| self.actor.clone()),
            from: self.from.map(start_of),
            until: self.to.and_then(|d| d.succ_opt()).map(start_of),
        }
    }

    pub fn is_filtered(&self) -> bool {
        self.action.is_some() || !self.actor.is_empty() || self.from.is_some() || self.to.is_some()
    }

    /// The URL query for these filters at another offset.
    pub fn to_query(&self, offset: i64) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(a) = self.action {
            q.append_pair("action", a.as_str());
        }
        if !self.actor.is_empty() {
            q.append_pair("actor", &self.actor);
        }
        if let Some(d) = self.from {
            q.append_pair("from", &d.to_string());
        }
        if let Some(d) = self.to {
            q.append_pair("to", &d.to_string());
        }
        if offset > 0 {
            q.append_pair("offset", &offset.to_string());
        }
        q.finish()
    }
}

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// `/dashboard/audit`.
#[component]
pub fn AuditPage() -> impl IntoView {
    let ctx = match page_context() {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let query = {
        let map = use_query_map().get_untracked();
        AuditQuery::parse(|name| map.get(name))
    };
    let form_query = query.clone().unwrap_or_default();
    let page = {
        let ctx = ctx.clone();
        async move {
            let query = match query {
                Ok(q) => q,
                Err(message) => {
                    set_status(StatusCode::BAD_REQUEST);
                    return view! { <p class="error" role="alert">{message}</p> }.into_any();
                }
            };
            let audit = ctx.state.store.audit();
            let org = &ctx.user.organisation_id;
            let filter = query.filter();
            let count = audit.count(org, &filter).await;
            let rows = audit
                .list(org, &filter, None, query.offset, PAGE_SIZE)
                .await;
            match (count, rows) {
                (Ok(count), Ok(rows)) => events_table(&query, count, rows),
                (Err(e), _) | (_, Err(e)) => error_view(&e),
            }
        }
    };
    view! {
        <Layout ctx=ctx title="Audit log".to_owned()>
            <p>
                "What people in your organisation did in the dashboard, newest first. Times are in UTC."
            </p>
            <FilterForm query=form_query/>
            <Suspense fallback=|| ()>{Suspend::new(page)}</Suspense>
        </Layout>
    }
    .into_any()
}

#[component]
fn FilterForm(query: AuditQuery) -> impl IntoView {
    let options = AuditAction::ALL
        .into_iter()
        .map(|a| {
            view! { <option value=a.as_str() selected=query.action == Some(a)>{a.label()}</option> }
        })
        .collect_view();
    let clear = query
        .is_filtered()
        .then(|| view! { <a href=PATH class="button secondary">"Clear filters"</a> });
    view! {
        <form method="get" action=PATH class="filters audit-filters" role="search" aria-label="Filter the audit log">
            <label>"Action"
                <select name="action">
                    <option value="">"Any action"</option>
                    {options}
                </select>
            </label>
            <label>"Actor email"
                <input
                    type="search"
                    name="actor"
                    value=query.actor.clone()
                    maxlength=MAX_ACTOR_FILTER_CHARS.to_string()
                    autocomplete="off"
                />
            </label>
            <label>"From"
                <input type="date" name="from" value=query.from.map(|d| d.to_string()).unwrap_or_default()/>
            </label>
            <label>"To"
                <input type="date" name="to" value=query.to.map(|d| d.to_string()).unwrap_or_default()/>
            </label>
            <button type="submit">"Apply"</button>
            {clear}
        </form>
    }
}

fn events_table(query: &AuditQuery, count: i64, rows: Vec<AuditEvent>) -> AnyView {
    if rows.is_empty() {
        let (message, clear) = if query.is_filtered() || query.offset > 0 {
            (
                "No events match these filters.",
                Some(view! { <a href=PATH>"Clear filters"</a> }),
            )
        } else {
            ("Nothing has been recorded yet.", None)
        };
        return view! {
            <div class="empty">
                <p role="status">{message}</p>
                <p>{clear}</p>
            </div>
        }
        .into_any();
    }
    let shown = rows.len() as i64;
    let body = rows
        .into_iter()
        .map(|e| {
            let who = match (&e.actor.email, &e.actor.user_id) {
                (Some(email), Some(_)) => email.clone(),
                (Some(email), None) => format!("{email} (not signed in)"),
                (None, _) => "—".to_owned(),
            };
            view! {
                <tr>
                    <td data-label="When"><time datetime=e.at.to_rfc3339()>{super::words::full_time(e.at)}</time></td>
                    <td data-label="Who">{who}</td>
                    <td data-label="Action" data-action=e.action.as_str()>{e.action.label()}</td>
                    <td class="id" data-label="Target">{e.target.unwrap_or_default()}</td>
                    <td data-label="Detail">{e.detail}</td>
                </tr>
            }
        })
        .collect_view();
    let first = query.offset + 1;
    let last = query.offset + shown;
    let previous = (query.offset > 0).then(|| {
        let href = with_query(PATH, &query.to_query((query.offset - PAGE_SIZE).max(0)));
        view! { <a href=href rel="prev">"Newer events"</a> }
    });
    let next = (last < count).then(|| {
        let href = with_query(PATH, &query.to_query(last));
        view! { <a href=href rel="next">"Older events"</a> }
    });
    let export = with_query(EXPORT_PATH, &query.to_query(0));
    view! {
        <div class="pager">
            <p role="status">{format!("{first}–{last} of {count}")}</p>
            {previous}
            {next}
            <a href=export class="button secondary" download="audit-log.csv">"Export CSV"</a>
        </div>
        <div class="table-wrap" role="region" aria-label="Audit events" tabindex="0">
            <table class="audit cards">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Target"</th>
                        <th scope="col">"Detail"</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// `GET /dashboard/audit.csv`: every event the page's filters match, of the
/// signed-in user's organisation only, streamed as CSV newest first.
pub async fn export_csv(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    axum::Extension(user): axum::Extension<super::guard::CurrentUser>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let query = match AuditQuery::parse(|name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }) {
        Ok(q) => q,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    tracing::info!(user = %user.id.as_str(), "audit log exported");
    let stream = crate::export::audit_csv(
        state.store.clone(),
        user.organisation_id.clone(),
        query.filter(),
    );
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                crate::export::CSV_CONTENT_TYPE,
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit-log.csv\"",
            ),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<AuditQuery, String> {
        AuditQuery::parse(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_filters_go_round_the_url_unchanged() {
        let q = parse(&[
            ("action", "api_key_revoked"),
            ("actor", "ann@example.com"),
            ("from", "2026-12-01"),
            ("to", "2026-12-08"),
            ("offset", "50"),
        ])
        .unwrap();
        let again = url::form_urlencoded::parse(q.to_query(50).as_bytes())
            .into_owned()
            .collect::<Vec<_>>();
        let again = AuditQuery::parse(|name| {
            again
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
        .unwrap();
        assert_eq!(again, q);
    }

    #[test]
    fn the_to_date_counts_its_whole_day() {
        let q = parse(&[("from", "2026-12-08"), ("to", "2026-12-08")]).unwrap();
        let f = q.filter();
        let (from, until) = (f.from.unwrap(), f.until.unwrap());
        assert_eq!(until.millis() - from.millis(), 86_400_000);
        assert_eq!(from.to_rfc3339(), "2026-12-08T00:00:00+00:00");
    }

    #[test]
    fn what_cannot_be_read_is_an_error_not_a_guess() {
        assert!(parse(&[("action", "nope")]).is_err());
        assert!(parse(&[("from", "8/12/2026")]).is_err());
        assert!(parse(&[("from", "2026-12-09"), ("to", "2026-12-08")]).is_err());
        assert!(parse(&[("offset", "-1")]).is_err());
        assert_eq!(parse(&[("action", "")]).unwrap(), AuditQuery::default());
    }
}
