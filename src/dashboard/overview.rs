//! `/dashboard/overview`, where signing in lands: how verification is going
//! over the last 30 days, in one mode. The numbers come from the store
//! (`Store::overview`); the charts are inline SVG drawn here, each with an
//! accessible name and, behind a `<details>`, a table of the same numbers.

use axum::http::StatusCode;
use chrono::DateTime;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::app::{Layout, error_view, page_context, set_status};
use super::words;
use crate::domain::{Mode, Status, Timestamp};
use crate::store::Overview;

pub const PATH: &str = "/dashboard/overview";
/// The window, in days up to and including today.
pub const DAYS: i64 = 30;

/// The chart's drawing area, in SVG units (it scales to the page's width).
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;

/// The chart's stacks, bottom first: what each part of a day's bar counts.
const STACKS: [(&str, &str, &[Status]); 4] = [
    ("Verified", "good", &[Status::Verified]),
    ("Failed", "bad", &[Status::Failed]),
    (
        "Canceled, expired or revoked",
        "quiet",
        &[Status::Canceled, Status::Expired, Status::Revoked],
    ),
    ("Open or pending", "info", &[Status::Open, Status::Pending]),
];

#[component]
pub fn OverviewPage() -> impl IntoView {
    let ctx = match page_context() {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let map = use_query_map().get_untracked();
    let mode = match map.get("mode").filter(|m| !m.is_empty()) {
        None => Ok(Mode::Live),
        Some(m) => Mode::parse(&m).ok_or(format!("There is no mode {m:?}.")),
    };
    let page = {
        let ctx = ctx.clone();
        async move {
            let mode = match mode {
                Ok(mode) => mode,
                Err(message) => {
                    set_status(StatusCode::BAD_REQUEST);
                    return view! {
                        <ModeSwitch mode=Mode::Live/>
                        <p class="error" role="alert">{message}</p>
                    }
                    .into_any();
                }
            };
            match ctx
                .state
                .store
                .overview(&ctx.user.organisation_id, mode, DAYS)
                .await
            {
                Ok(overview) => view! {
                    <ModeSwitch mode=mode/>
                    {overview_view(&overview, mode)}
                }
                .into_any(),
                Err(e) => error_view(&e),
            }
        }
    };
    view! {
        <Layout ctx=ctx title="Overview".to_owned()>
            <Suspense fallback=|| ()>{Suspend::new(page)}</Suspense>
        </Layout>
    }
    .into_any()
}

/// Live or test: a plain GET form, so it works without JavaScript.
#[component]
fn ModeSwitch(mode: Mode) -> impl IntoView {
    let options = [Mode::Live, Mode::Test]
        .into_iter()
        .map(|m| view! { <option value=m.as_str() selected=m == mode>{words::mode_label(m)}</option> })
        .collect_view();
    view! {
        <form method="get" action=PATH class="filters" aria-label="Overview">
            <label>"Mode"
                <select name="mode">{options}</select>
            </label>
            <button type="submit">"Show"</button>
        </form>
    }
}

fn percent(rate: f64) -> String {
    format!("{:.0} %", rate * 100.0)
}

/// A duration as a person says it: "42 s", "3 min 5 s", "2 h 10 min".
fn duration_words(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// A day of the window as a short date: "7 Dec".
fn day_label(first_day: Timestamp, index: usize) -> String {
    let ms = first_day.millis() + index as i64 * 86_400_000;
    DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%-d %b").to_string())
        .unwrap_or_default()
}

fn overview_view(o: &Overview, mode: Mode) -> AnyView {
    let total = o.total();
    if total == 0 {
        let (other, other_label) = match mode {
            Mode::Live => (Mode::Test, "See test mode"),
            Mode::Test => (Mode::Live, "See live mode"),
        };
        return view! {
            <div class="empty" role="status">
                <p>{format!("No {} identifications in the last {DAYS} days.", mode.as_str())}</p>
                <p><a href=format!("{PATH}?mode={}", other.as_str())>{other_label}</a></p>
            </div>
        }
        .into_any();
    }
    let rate = o
        .verification_rate()
        .map_or_else(|| "—".to_owned(), percent);
    let median = o
        .median_ms_to_verify
        .map_or_else(|| "—".to_owned(), duration_words);
    view! {
        <ul class="stats">
            <li><span class="stat-label">{format!("Identifications, last {DAYS} days")}</span>
                <span class="stat">{total}</span></li>
            <li><span class="stat-label">"Verified"</span>
                <span class="stat">{o.total_of(Status::Verified)}</span></li>
            <li><span class="stat-label">"Verification rate"</span>
                <span class="stat">{rate}</span></li>
            <li><span class="stat-label">"Median time to verify"</span>
                <span class="stat">{median}</span></li>
        </ul>
        <p class="muted">
            "The rate is verified out of those that ended as verified, failed, canceled or expired. Days are UTC days."
        </p>
        <h2 id="per-day">"Identifications per day"</h2>
        {daily_chart(o)}
        <h2 id="reasons">"Failure reasons"</h2>
        {reasons_view(o)}
    }
    .into_any()
}

/// Stacked bars, one per day, and the same numbers as a table.
fn daily_chart(o: &Overview) -> impl IntoView {
    let most = o.days.iter().map(|d| d.total()).max().unwrap_or(0).max(1) as f64;
    let slot = WIDTH / o.days.len().max(1) as f64;
    let bar = (slot * 0.7).max(1.0);
    let bars = o
        .days
        .iter()
        .enumerate()
        .flat_map(|(i, day)| {
            let x = i as f64 * slot + (slot - bar) / 2.0;
            let mut top = HEIGHT;
            STACKS
                .iter()
                .filter_map(move |(_, tone, statuses)| {
                    let n: i64 = statuses.iter().map(|s| day.of(*s)).sum();
                    (n > 0).then(|| {
                        let h = n as f64 / most * HEIGHT;
                        top -= h;
                        view! {
                            <rect class=format!("bar {tone}") x=format!("{x:.1}") y=format!("{top:.1}")
                                width=format!("{bar:.1}") height=format!("{h:.1}")/>
                        }
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect_view();
    let legend = STACKS
        .iter()
        .map(|(label, tone, _)| {
            view! { <li><span class=format!("swatch {tone}") aria-hidden="true"></span>{*label}</li> }
        })
        .collect_view();
    let summary = format!(
        "Identifications per day over the last {DAYS} days, {} in all, stacked by outcome. Most on one day: {}.",
        o.total(),
        most as i64
    );
    let rows = o
        .days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let cells = STACKS
                .iter()
                .map(|(label, _, statuses)| {
                    let n: i64 = statuses.iter().map(|s| day.of(*s)).sum();
                    view! { <td data-label=*label>{n}</td> }
                })
                .collect_view();
            view! {
                <tr>
                    <td class="name" data-label="Day">{day_label(o.first_day, i)}</td>
                    {cells}
                    <td data-label="All">{day.total()}</td>
                </tr>
            }
        })
        .collect_view();
    let heads = STACKS
        .iter()
        .map(|(label, _, _)| view! { <th scope="col">{*label}</th> })
        .collect_view();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby="per-day-title"
                preserveAspectRatio="none" focusable="false">
                <title id="per-day-title">{summary}</title>
                {bars}
            </svg>
            <figcaption>
                <span>{day_label(o.first_day, 0)}</span>
                <span>"Today"</span>
            </figcaption>
            <ul class="legend">{legend}</ul>
        </figure>
        <details>
            <summary>"The numbers per day"</summary>
            <div class="table-wrap" role="region" aria-label="Identifications per day" tabindex="0">
                <table class="cards">
                    <thead><tr><th scope="col">"Day"</th>{heads}<th scope="col">"All"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </details>
    }
}

/// Failure reasons as horizontal bars, and the same numbers as a table.
fn reasons_view(o: &Overview) -> AnyView {
    if o.failure_reasons.is_empty() {
        return view! { <p class="muted">"No identification failed for a reason in this period."</p> }
            .into_any();
    }
    let most = o.failure_reasons.first().map_or(1, |r| r.1).max(1) as f64;
    let row_height = 28.0;
    let height = row_height * o.failure_reasons.len() as f64;
    // Labels and counts are drawn in the SVG, which scales without
    // stretching, so each stays beside its bar.
    const LABEL: f64 = 250.0;
    const BAR: f64 = 290.0;
    let bars = o
        .failure_reasons
        .iter()
        .enumerate()
        .map(|(i, (r, n))| {
            let w = (*n as f64 / most * BAR).max(1.0);
            let y = i as f64 * row_height;
            view! {
                <text class="label" x="0" y=format!("{:.1}", y + 19.0)>{words::failure_words(*r)}</text>
                <rect class="bar bad" x=format!("{LABEL:.1}") y=format!("{:.1}", y + 4.0) width=format!("{w:.1}") height=format!("{:.1}", row_height - 8.0)/>
                <text class="label" x=format!("{:.1}", LABEL + w + 6.0) y=format!("{:.1}", y + 19.0)>{*n}</text>
            }
        })
        .collect_view();
    let summary = o
        .failure_reasons
        .iter()
        .map(|(r, n)| format!("{}: {n}", words::failure_words(*r)))
        .collect::<Vec<_>>()
        .join("; ");
    let rows = o
        .failure_reasons
        .iter()
        .map(|(r, n)| {
            let href = format!("/dashboard?status=failed&reason={}", r.as_str());
            view! {
                <tr>
                    <td class="name" data-label="Reason"><a href=href>{words::failure_words(*r)}</a></td>
                    <td data-label="Failed">{*n}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <figure class="chart reasons">
            <svg viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-labelledby="reasons-title"
                focusable="false">
                <title id="reasons-title">{format!("Failure reasons, most first. {summary}.")}</title>
                {bars}
            </svg>
        </figure>
        <details>
            <summary>"The numbers per reason"</summary>
            <div class="table-wrap" role="region" aria-label="Failure reasons" tabindex="0">
                <table class="cards">
                    <thead><tr><th scope="col">"Reason"</th><th scope="col">"Failed"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </details>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_the_largest_sensible_units() {
        assert_eq!(duration_words(42_000), "42 s");
        assert_eq!(duration_words(185_000), "3 min 5 s");
        assert_eq!(duration_words(7_800_000), "2 h 10 min");
    }
}
