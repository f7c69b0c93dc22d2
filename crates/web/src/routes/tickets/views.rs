//! Reading tickets: the list (filtered, cursor-paginated, within the caller's reach) and one
//! ticket with its live SLA clocks.

use super::{TicketView, check_severity, parse_status, view};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Params, PathParams};
use crate::ids::is_id;
use crate::reads::ticket_for;
use axum::Extension;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use stringer_app::records::{TicketFilter, TicketOrder};
use stringer_core::access::{self, Action, Reach};
use stringer_core::ids::{OrgSlug, TicketId, UserId};
use utoipa::ToSchema;

/// A page of tickets.
#[derive(Serialize, ToSchema)]
pub struct TicketPage {
    items: Vec<TicketView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// Listing filters.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this org's tickets.
    #[param(pattern = "^[a-z0-9][a-z0-9-]{1,39}$")]
    org: Option<String>,
    /// open | waiting_on_customer | resolved.
    #[param(pattern = "^(open|waiting_on_customer|resolved)$")]
    status: Option<String>,
    /// A severity of the contract.
    severity: Option<String>,
    /// Only tickets of orgs on this tier of the contract.
    tier: Option<String>,
    /// Only tickets with a running SLA clock due within this many seconds.
    breaching_within: Option<i64>,
    /// Only tickets worked by this staff user id, or `mine`, or `unassigned`.
    #[param(pattern = r"^(mine|unassigned|usr_[0-9A-HJKMNP-TV-Z]{26})$")]
    assignee: Option<String>,
    /// Full-text search: tickets whose subject, description or comments hold every word
    /// (customers search the public conversation only).
    #[param(max_length = 200)]
    q: Option<String>,
    /// newest (default) or due: what breaches first, breached at the top (the queue).
    #[param(pattern = "^(newest|due)$")]
    order: Option<String>,
    /// From a previous page's `next_cursor`.
    #[param(pattern = r"^tkt_[0-9A-HJKMNP-TV-Z]{26}$")]
    cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// Tickets the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/tickets", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = TicketPage), (status = 400, body = crate::error::Problem)))]
pub async fn list_tickets(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Params(q): Params<ListQuery>,
) -> Result<axum::Json<TicketPage>, ApiError> {
    caller.may_list(Action::ReadTicket)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request("limit: 1 to 200"));
    }
    if q.cursor.as_ref().is_some_and(|c| !is_id("tkt", c)) {
        return Err(ApiError::bad_request("malformed cursor"));
    }
    let now = state.now();
    let assignee = match q.assignee.as_deref() {
        None => None,
        Some("mine") => Some(Some(caller.user().id.clone())),
        Some("unassigned") => Some(None),
        Some(id) if is_id("usr", id) => Some(Some(UserId::from(id))),
        Some(_) => return Err(ApiError::bad_request("assignee: a user id, mine or unassigned")),
    };
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
    if search.as_ref().is_some_and(|s| s.len() > 200) {
        return Err(ApiError::bad_request("q: at most 200 bytes"));
    }
    let order = match q.order.as_deref() {
        None | Some("newest") => TicketOrder::Newest,
        Some("due") if q.cursor.is_none() => TicketOrder::DueFirst,
        Some("due") => return Err(ApiError::bad_request("order=due has no cursor: the queue is one page")),
        Some(_) => return Err(ApiError::bad_request("order: newest or due")),
    };
    // Every parameter is checked before the org is looked up, so a malformed one is refused
    // whatever the org (an org the caller may not see answers an empty page).
    let status = q.status.as_deref().map(parse_status).transpose()?;
    let severity = q
        .severity
        .as_deref()
        .map(|s| check_severity(state.contract(), s))
        .transpose()
        .map_err(|e| ApiError::bad_request(e.detail))?;
    let tier = q
        .tier
        .as_deref()
        .map(|t| state.contract().tier(t).ok_or_else(|| ApiError::bad_request(format!("unknown tier {t:?}"))))
        .transpose()?;
    let reach = access::reach(&caller.actor());
    let empty = || Ok(axum::Json(TicketPage { items: vec![], next_cursor: None }));
    let org = match (reach, q.org) {
        (_, Some(asked)) if !stringer_app::accounts::orgs::valid_slug(&asked) => {
            return Err(ApiError::bad_request(format!("org: {asked:?} is not an org's slug")));
        }
        (_, Some(asked)) => match state.ports.accounts.org(&OrgSlug::from(asked.as_str())).await? {
            Some(o) if reach.includes(o.as_ref()) => Some(o.slug),
            _ => return empty(),
        },
        (Reach::Org(own), None) => Some(OrgSlug::from(own)),
        (Reach::AllOrgs { .. }, None) => None,
    };
    let filter = TicketFilter {
        org,
        hide_federal: matches!(reach, Reach::AllOrgs { federal: false }),
        status,
        severity,
        due_before: q.breaching_within.map(|s| now.as_second() + s.clamp(0, 10 * 366 * 86_400)),
        tier,
        unresolved: false,
        assignee,
        search_internal: caller.may_list(Action::ReadInternal).is_ok(),
        search,
        before_id: q.cursor.map(TicketId),
        limit: limit + 1,
        order,
    };
    let mut rows = state.ports.queries.tickets(&filter).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().filter(|_| order == TicketOrder::Newest).map(|t| t.id.to_string())
    } else {
        None
    };
    let items = rows.into_iter().map(|t| view(state.contract(), t, now)).collect();
    Ok(axum::Json(TicketPage { items, next_cursor }))
}

/// One ticket with its SLA clocks.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", security(("bearer" = [])), params(("id" = String, Path, description = "The ticket id or its key (ACME-42)", pattern = r"^(tkt_[0-9A-HJKMNP-TV-Z]{26}|[A-Z0-9][A-Z0-9-]{1,39}-[1-9][0-9]{0,17})$")),
    responses((status = 200, body = TicketView), (status = 404, body = crate::error::Problem)))]
pub async fn get_ticket(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PathParams(id): PathParams<String>,
) -> Result<axum::Json<TicketView>, ApiError> {
    let found = ticket_for(&state, &caller, &id, &[Action::ReadTicket]).await?;
    Ok(axum::Json(view(state.contract(), found.ticket, state.now())))
}
