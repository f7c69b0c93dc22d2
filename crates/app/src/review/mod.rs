//! The quarterly operational review of an org: the core's figures over the tickets it opened
//! in the quarter (and the quarter before, for the trends), its post-incident reports
//! (published on time or late), the action items still open, and its components' uptime
//! from the status pages — written as Markdown, JSON, or the CSV of the underlying rows, so
//! the customer can check every figure. The TAM's recommendations are kept beside it (the
//! [`ReviewBook`]); [`crate::letters`] mails it when a quarter ends.

use crate::desk::AppError;
use crate::ledger::{Cover, LedgerBook};
use crate::ports::{Accounts, Commands, Queries};
use crate::postmortem::Owed;
use crate::postmortem::Reports;
use crate::records::{OrgRecord, TicketRecord};
use crate::status::PageRecord;
use crate::status::StatusPages;
use crate::store::StoreError;
use serde::Serialize;
use std::collections::HashSet;
use std::sync::Arc;
use stringer_core::ids::{Deployment, OrgSlug, Role, UserId};
use stringer_core::postmortem::{ActionItem, ItemState};
use stringer_core::review::{Figures, Quarter, ReviewTicket, figures, incident_observations, observations};
use stringer_core::status::{StatusInterval, uptime_days};

/// A post-incident report of the quarter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReportLine {
    /// The ticket's key.
    pub ticket: String,
    /// Due (RFC 3339), when one was owed.
    pub due: Option<String>,
    /// Published (RFC 3339).
    pub published_at: Option<String>,
    /// `on time`, `late`, `overdue` (unpublished past due) or `open` (not due yet).
    pub standing: &'static str,
}

/// What a quarterly review reads: the org's tickets, reports and status page, the people
/// named, and the recommendations written for it.
#[derive(Clone)]
pub struct ReviewPorts {
    /// Changes tickets (and tells the time and the contract).
    pub commands: Arc<dyn Commands>,
    /// The read port: tickets, comments, timelines.
    pub queries: Arc<dyn Queries>,
    /// Orgs, users, tokens.
    pub accounts: Arc<dyn Accounts>,
    /// The org's tickets of a span, with whom their pages reached.
    pub reporting: Arc<dyn ReportingReads>,
    /// Post-incident reports and their versions.
    pub reports: Arc<dyn Reports>,
    /// Status pages, their components, incidents and maintenance.
    pub status: Arc<dyn StatusPages>,
    /// Quarterly reviews' recommendations.
    pub review_book: Arc<dyn ReviewBook>,
    /// The ledger's signed heads, the one a review covers.
    pub ledger: Arc<dyn LedgerBook>,
}

/// An action item not done yet, from any of the org's reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenItem {
    /// The report's ticket.
    pub ticket: String,
    /// The item.
    pub item: ActionItem,
    /// Its owner's name.
    pub owner: String,
}

/// A status-page incident that began in the quarter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IncidentLine {
    /// Its name.
    pub name: String,
    /// `none`, `minor`, `major` or `critical`.
    pub impact: &'static str,
    /// When it began (RFC 3339).
    pub started_at: String,
    /// When it was resolved (RFC 3339), if it was.
    pub resolved_at: Option<String>,
    /// Minutes from beginning to resolution, if resolved.
    pub minutes: Option<i64>,
    /// The components it affected.
    pub components: Vec<String>,
    /// The key of the ticket it was opened from, if any.
    pub ticket: Option<String>,
}

/// A component's uptime over the quarter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComponentUptime {
    /// Its name.
    pub name: String,
    /// Percent, weighted as the status pages weigh it.
    pub percent: f64,
}

/// The review.
#[derive(Clone, Debug, Serialize)]
pub struct Review {
    /// The org's slug.
    pub org: String,
    /// Its name.
    pub name: String,
    /// Its tier (the contract's key).
    pub tier: String,
    /// The tier as people read it (the contract's name for it, e.g. "Enterprise").
    pub tier_name: String,
    /// The quarter.
    pub quarter: String,
    /// Tickets opened in the quarter.
    pub tickets: usize,
    /// The figures.
    pub figures: Figures,
    /// The ledger leaf holding these figures, frozen when the review was mailed (then the
    /// figures above are that set; `None` before, when they are computed now).
    pub figures_leaf: Option<u64>,
    /// The quarter's post-incident reports.
    pub reports: Vec<ReportLine>,
    /// Action items still open.
    pub open_items: Vec<OpenItem>,
    /// The status-page incidents that began in the quarter, oldest first.
    pub incidents: Vec<IncidentLine>,
    /// Uptime per component of the org's status page.
    pub uptime: Vec<ComponentUptime>,
    /// Observations for the recommendations, drafted from the figures, for the TAM to edit.
    pub observations: Vec<String>,
    /// The recommendations for the next quarter as the TAM completed them (Markdown), once written.
    pub recommendations: Option<Recommendations>,
    /// The ledger's signed head the review covers: the latest signed when it was written
    /// (`now`); `None` before the first.
    pub ledger_head: Option<Cover>,
}

/// The recommendations a TAM wrote for an org's quarter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recommendations {
    /// Markdown.
    pub body: String,
    /// Who wrote them last.
    pub author: UserId,
    /// When (Unix seconds).
    pub updated_at: i64,
}

/// The reporting read port: what a quarterly review reads of an org's tickets.
#[async_trait::async_trait]
pub trait ReportingReads: Send + Sync {
    /// The tickets an org opened in `[from, until)` (Unix seconds), oldest first, with the
    /// roles each one's pages reached, in order.
    async fn opened_between(
        &self,
        org: &OrgSlug,
        from: i64,
        until: i64,
    ) -> Result<Vec<(TicketRecord, Vec<Role>)>, StoreError>;
}

/// Where the TAMs' recommendations are kept.
#[async_trait::async_trait]
pub trait ReviewBook: Send + Sync {
    /// The recommendations written for an org's quarter.
    async fn recommendations(&self, org: &OrgSlug, quarter: &str) -> Result<Option<Recommendations>, StoreError>;
    /// Writes (or rewrites) the recommendations of an org's quarter.
    async fn set_recommendations(
        &self,
        org: &OrgSlug,
        quarter: &str,
        body: &str,
        author: &UserId,
        at: i64,
    ) -> Result<(), StoreError>;
}

/// The longest recommendations kept, in bytes.
pub const RECOMMENDATIONS_LIMIT: usize = 20_000;

fn iso(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).map(|t| t.to_string()).unwrap_or_default()
}

/// Reviews `org`'s `quarter` as of `now`, telling `progress` what it is doing.
pub async fn review(
    ports: &ReviewPorts,
    org: &OrgRecord,
    quarter: Quarter,
    now: i64,
    progress: &mut (dyn FnMut(&str) + Send),
) -> Result<Review, AppError> {
    let contract = ports.commands.contract();
    // A past quarter's tickets may carry a severity the contract in force no longer has:
    // they are still counted, listed after the contract's own severities.
    let rank = |s: &stringer_core::ids::Severity| contract.rank(s).unwrap_or(usize::MAX);
    progress(&format!("reading {}'s tickets of {quarter}", org.slug));
    let (start, end) = (quarter.start().as_second(), quarter.end().as_second());
    let these = ports.reporting.opened_between(&org.slug, start, end).await?;
    progress(&format!("{} tickets; reading {}'s for the trends", these.len(), quarter.previous()));
    let before = ports.reporting.opened_between(&org.slug, quarter.previous().start().as_second(), start).await?;
    progress("computing the figures");
    let keys: Vec<String> = these.iter().map(|(t, _)| t.key().to_string()).collect();
    let before_keys: Vec<String> = before.iter().map(|(t, _)| t.key().to_string()).collect();
    let mut figures = figures(quarter, &as_read(&these, &keys), &as_read(&before, &before_keys), &rank);
    let mut tickets = these.len();
    // Once the review was mailed its figures are a leaf of the ledger: shown as frozen, so
    // the document says what its proof proves (the per-ticket rows are read anew).
    let figures_leaf = match ports.ledger.review_leaf(org.slug.as_str(), &quarter.to_string()).await? {
        Some((row, leaf, _)) => match serde_json::from_str::<Frozen>(&row.figures) {
            Ok(frozen) => {
                tickets = frozen.apply(&mut figures);
                Some(leaf)
            }
            Err(e) => {
                tracing::warn!(org = %org.slug, %quarter, error = %e, "the review's frozen figures do not read");
                None
            }
        },
        None => None,
    };
    progress("reading reports and action items");
    let in_quarter: HashSet<&str> = these.iter().map(|(t, _)| t.id.as_str()).collect();
    let mut reports = Vec::new();
    let mut open_items = Vec::new();
    for r in ports.reports.reports(Some(&org.slug), None, 10_000).await? {
        let Some((ticket, _)) = ports.queries.ticket(&r.ticket).await? else { continue };
        let key = ticket.key().to_string();
        if let Some(latest) = ports.reports.versions(&r.ticket).await?.pop() {
            open_items.extend(
                latest.sections.action_items.into_iter().filter(|i| i.state != ItemState::Done).map(|item| OpenItem {
                    ticket: key.clone(),
                    owner: item.owner.clone(),
                    item,
                }),
            );
        }
        if in_quarter.contains(r.ticket.as_str()) {
            let standing = match (Owed::of(&ticket, &r), r.published_at, r.due) {
                (Owed::Published, Some(p), Some(d)) if p > d => "late",
                (Owed::Published, _, _) => "on time",
                (owed, _, _) if owed.overdue(now) => "overdue",
                _ => "open",
            };
            reports.push(ReportLine {
                ticket: key,
                due: r.due.map(iso),
                published_at: r.published_at.map(iso),
                standing,
            });
        }
    }
    let owners = crate::ports::names(ports.accounts.as_ref(), open_items.iter().map(|i| i.item.owner.as_str())).await?;
    for i in &mut open_items {
        if let Some(name) = owners.get(&i.owner) {
            i.owner = name.clone();
        }
    }
    progress("reading the status page: incidents and uptime");
    let (incidents, uptime) = match status_page(ports, org).await? {
        Some(page) => (incidents(ports, &page, quarter).await?, uptime(ports, &page, quarter, now).await?),
        None => (Vec::new(), Vec::new()),
    };
    let mut observations = observations(&figures);
    let today = jiff::Timestamp::from_second(now)
        .map_err(|e| AppError::Rejected(e.to_string()))?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let affected: Vec<Vec<String>> = incidents.iter().map(|i| i.components.clone()).collect();
    let items: Vec<ActionItem> = open_items.iter().map(|i| i.item.clone()).collect();
    observations.extend(incident_observations(&affected, &items, today));
    let recommendations = ports.review_book.recommendations(&org.slug, &quarter.to_string()).await?;
    let ledger_head = crate::ledger::cover::cover(ports.ledger.as_ref(), now).await?;
    Ok(Review {
        org: org.slug.to_string(),
        name: org.name.clone(),
        tier: org.tier.to_string(),
        tier_name: contract.tiers.get(&org.tier).map_or_else(|| org.tier.to_string(), |t| t.name.clone()),
        quarter: quarter.to_string(),
        tickets,
        figures,
        figures_leaf,
        reports,
        open_items,
        incidents,
        uptime,
        observations,
        recommendations,
        ledger_head,
    })
}

/// Writes the recommendations of `org`'s `quarter` as `author` completed them (Markdown):
/// refused when empty, longer than [`RECOMMENDATIONS_LIMIT`], or for a quarter not begun.
pub async fn write_recommendations(
    ports: &ReviewPorts,
    org: &OrgRecord,
    quarter: Quarter,
    body: &str,
    author: &UserId,
    now: i64,
) -> Result<Recommendations, AppError> {
    let body = body.trim();
    if body.is_empty() {
        return Err(AppError::Rejected("write the recommendations (Markdown)".into()));
    }
    if body.len() > RECOMMENDATIONS_LIMIT || body.contains('\0') {
        return Err(AppError::Rejected(format!("recommendations are text of at most {RECOMMENDATIONS_LIMIT} bytes")));
    }
    if quarter.start().as_second() > now {
        return Err(AppError::Rejected(format!("{quarter} has not begun")));
    }
    ports.review_book.set_recommendations(&org.slug, &quarter.to_string(), body, author, now).await?;
    Ok(Recommendations { body: body.to_string(), author: author.clone(), updated_at: now })
}

/// Tickets as the review reads them, with their keys.
fn as_read<'a>(list: &'a [(TicketRecord, Vec<Role>)], keys: &'a [String]) -> Vec<ReviewTicket<'a>> {
    list.iter().zip(keys).map(|((t, paged), key)| ReviewTicket { key: key.as_str(), ticket: &t.state, paged }).collect()
}

/// The org's status page: its own for dedicated and federal orgs, else the public page.
async fn status_page(ports: &ReviewPorts, org: &OrgRecord) -> Result<Option<PageRecord>, AppError> {
    let own = org.deployment != Deployment::Shared;
    Ok(ports
        .status
        .pages()
        .await?
        .into_iter()
        .find(|p| if own { p.org.as_ref() == Some(&org.slug) } else { p.org.is_none() }))
}

/// The incidents (not maintenance) of `page` that began in the quarter, oldest first.
async fn incidents(ports: &ReviewPorts, page: &PageRecord, quarter: Quarter) -> Result<Vec<IncidentLine>, AppError> {
    let (start, end) = (quarter.start().as_second(), quarter.end().as_second());
    let names: std::collections::HashMap<String, String> =
        ports.status.components(std::slice::from_ref(&page.id)).await?.into_iter().map(|c| (c.id, c.name)).collect();
    let mut lines = Vec::new();
    for i in ports.status.incidents(std::slice::from_ref(&page.id), false, 10_000).await? {
        if i.started_at < start || i.started_at >= end {
            continue;
        }
        let ticket = match &i.ticket {
            Some(t) => ports.queries.ticket(t).await?.map(|(t, _)| t.key().to_string()),
            None => None,
        };
        lines.push(IncidentLine {
            name: i.name,
            impact: i.impact.as_str(),
            started_at: iso(i.started_at),
            resolved_at: i.resolved_at.map(iso),
            minutes: i.resolved_at.map(|r| (r - i.started_at) / 60),
            components: i.components.iter().map(|c| names.get(c).cloned().unwrap_or_else(|| c.clone())).collect(),
            ticket,
        });
    }
    lines.reverse();
    Ok(lines)
}

/// Each component of `page` over the quarter up to `now`, weighted as the pages weigh it.
async fn uptime(
    ports: &ReviewPorts,
    page: &PageRecord,
    quarter: Quarter,
    now: i64,
) -> Result<Vec<ComponentUptime>, AppError> {
    let zone = jiff::tz::TimeZone::get(&page.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let components: Vec<_> = ports.status.components(std::slice::from_ref(&page.id)).await?;
    let components: Vec<_> = components.into_iter().filter(|c| !c.group).collect();
    let ids: Vec<String> = components.iter().map(|c| c.id.clone()).collect();
    let intervals = ports.status.intervals(&ids, quarter.start().as_second()).await?;
    let first = quarter.first_day();
    let last = quarter.next().first_day().yesterday().map_err(|e| AppError::Rejected(e.to_string()))?;
    let days = (first.until(last).map_err(|e| AppError::Rejected(e.to_string()))?.get_days() + 1) as usize;
    Ok(components
        .iter()
        .map(|c| {
            let mine: Vec<StatusInterval> = intervals.iter().filter(|(id, _)| *id == c.id).map(|(_, i)| *i).collect();
            let per_day = uptime_days(&mine, c.created_at, now, &zone, last, days);
            let observed: i64 = per_day.iter().map(|d| d.observed).sum();
            let down: i64 = per_day.iter().map(|d| d.down_millis).sum();
            let percent = if observed == 0 { 100.0 } else { 100.0 * (1.0 - down as f64 / (observed as f64 * 1000.0)) };
            ComponentUptime { name: c.name.clone(), percent }
        })
        .collect())
}

/// A quarterly review's figure set as the ledger freezes it when the review round is written
/// ([`ledger_figures`]) and as the review reads it back: integers only — the org's tier, its
/// tickets, met / breached / running / withdrawn counts per severity and target, response,
/// acknowledgement and resolution times in seconds (median and 90th percentile), volumes
/// against the previous quarter, tickets per week and paging counts. Percentages are the
/// reader's to derive (met / (met + breached)). The export's per-ticket rows and the
/// components' uptime are not in it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Frozen {
    tier: String,
    tickets: usize,
    attainment: Vec<stringer_core::review::Attainment>,
    first_response: Vec<stringer_core::review::Spread>,
    acknowledge: Vec<stringer_core::review::Spread>,
    resolve: Vec<stringer_core::review::Spread>,
    by_severity: Vec<stringer_core::review::Volume>,
    by_channel: Vec<stringer_core::review::Volume>,
    by_week: Vec<u32>,
    paging: stringer_core::review::Paging,
}

impl Frozen {
    /// Puts the frozen figures in place of `figures`' (its per-ticket rows stay); answers the
    /// frozen ticket count.
    fn apply(self, figures: &mut Figures) -> usize {
        figures.attainment = self.attainment;
        figures.first_response = self.first_response;
        figures.acknowledge = self.acknowledge;
        figures.resolve = self.resolve;
        figures.by_severity = self.by_severity;
        figures.by_channel = self.by_channel;
        figures.by_week = self.by_week;
        figures.paging = self.paging;
        self.tickets
    }
}

/// The figure set of `review` to freeze in the ledger (see [`Frozen`]).
pub fn ledger_figures(review: &Review) -> serde_json::Value {
    let f = &review.figures;
    let frozen = Frozen {
        tier: review.tier.clone(),
        tickets: review.tickets,
        attainment: f.attainment.clone(),
        first_response: f.first_response.clone(),
        acknowledge: f.acknowledge.clone(),
        resolve: f.resolve.clone(),
        by_severity: f.by_severity.clone(),
        by_channel: f.by_channel.clone(),
        by_week: f.by_week.clone(),
        paging: f.paging.clone(),
    };
    // Strings, integers, lists and structs: serializing cannot fail.
    serde_json::to_value(frozen).unwrap_or_default()
}

/// A duration as the review writes it: minutes under an hour, else hours to a tenth.
pub fn hours(seconds: Option<i64>) -> String {
    match seconds {
        Some(s) if s < 3600 => format!("{} min", s / 60),
        Some(s) => format!("{:.1} h", s as f64 / 3600.0),
        None => "—".into(),
    }
}

/// A percentage to a tenth, or a dash.
pub fn pct(p: Option<f64>) -> String {
    p.map_or_else(|| "—".into(), |p| format!("{p:.1} %"))
}

/// The review as Markdown: tables with the exact numbers, and the observations to start the
/// recommendations from.
pub fn markdown(r: &Review) -> String {
    let f = &r.figures;
    let mut out = format!(
        "# Quarterly operational review: {} ({}), {}\n\n{} tickets opened in the quarter.\n\n",
        r.name, r.tier_name, r.quarter, r.tickets
    );
    out.push_str("## SLA attainment\n\n| Severity | Target | Met | Breached | Running | Withdrawn | Met % | Weekend breaches |\n|---|---|---|---|---|---|---|---|\n");
    for a in &f.attainment {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            a.severity,
            a.target,
            a.met,
            a.breached,
            a.running,
            a.withdrawn,
            pct(a.percent()),
            a.weekend_breached
        ));
    }
    for (title, spreads) in
        [("First response", &f.first_response), ("Acknowledgement", &f.acknowledge), ("Resolution", &f.resolve)]
    {
        out.push_str(&format!(
            "\n## {title} time\n\n| Severity | Tickets | Median | 90th percentile |\n|---|---|---|---|\n"
        ));
        for s in spreads.iter() {
            out.push_str(&format!("| {} | {} | {} | {} |\n", s.severity, s.count, hours(s.p50), hours(s.p90)));
        }
    }
    for (title, volumes) in [("Tickets by severity", &f.by_severity), ("Tickets by channel", &f.by_channel)] {
        out.push_str(&format!("\n## {title}\n\n| | This quarter | Previous | Change |\n|---|---|---|---|\n"));
        for v in volumes.iter() {
            out.push_str(&format!("| {} | {} | {} | {} |\n", v.key, v.count, v.previous, pct(v.change())));
        }
    }
    out.push_str("\n## Tickets by week\n\n| Week | Tickets |\n|---|---|\n");
    for (i, n) in f.by_week.iter().enumerate() {
        out.push_str(&format!("| {} | {n} |\n", i + 1));
    }
    let p = &f.paging;
    out.push_str(&format!(
        "\n## Pages and escalations\n\n- Tickets that paged: {}\n- Pages sent: {}\n- Escalated to the TAM: {}\n- Escalated to the VP of Engineering: {}\n- Customer pages: {}\n",
        p.tickets_paged, p.pages, p.reached_tam, p.reached_vp, p.customer_pages
    ));
    out.push_str("\n## Post-incident reports\n\n");
    if r.reports.is_empty() {
        out.push_str("None in the quarter.\n");
    }
    for l in &r.reports {
        out.push_str(&format!("- {}: {}\n", l.ticket, l.standing));
    }
    out.push_str("\n## Open action items\n\n");
    if r.open_items.is_empty() {
        out.push_str("None.\n");
    }
    for i in &r.open_items {
        let due = i.item.due.map(|d| format!(", due {d}")).unwrap_or_default();
        out.push_str(&format!(
            "- {} ({}): {} — {}{due}\n",
            i.ticket,
            i.owner,
            i.item.what,
            serde_json::to_value(i.item.state).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
        ));
    }
    out.push_str("\n## Status-page incidents\n\n");
    if r.incidents.is_empty() {
        out.push_str("None in the quarter.\n");
    } else {
        out.push_str("| Began | Incident | Impact | Components | Minutes | Ticket |\n|---|---|---|---|---|---|\n");
    }
    for i in &r.incidents {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            i.started_at,
            i.name.replace('|', "\\|"),
            i.impact,
            i.components.join(", ").replace('|', "\\|"),
            i.minutes.map_or_else(|| "open".to_string(), |m| m.to_string()),
            i.ticket.as_deref().unwrap_or("—")
        ));
    }
    out.push_str("\n## Uptime\n\n| Component | Uptime |\n|---|---|\n");
    for u in &r.uptime {
        out.push_str(&format!("| {} | {:.3} % |\n", u.name, u.percent));
    }
    out.push_str("\n## Recommendations for the next quarter\n\n");
    match &r.recommendations {
        Some(rec) => out.push_str(&format!("{}\n\n### Observations from the figures\n\n", rec.body.trim())),
        None => out.push_str("Drafted from the figures; the TAM completes them before presenting.\n\n"),
    }
    if r.observations.is_empty() {
        out.push_str("- Nothing in the figures calls for attention.\n");
    }
    for o in &r.observations {
        out.push_str(&format!("- {o}\n"));
    }
    out.push('\n');
    out.push_str(&crate::ledger::cover::markdown("review", r.ledger_head.as_ref()));
    if let Some(leaf) = r.figures_leaf {
        out.push_str(&format!(
            "\nIts figures are the set frozen in the ledger when the review was sent out, leaf {leaf}: \
             `GET /api/v1/orgs/{}/reviews/{}/proof` proves them.\n",
            r.org, r.quarter
        ));
    }
    out
}

/// The export: one CSV row per ticket and target (RFC 4180 quoting), with a header.
pub fn csv(r: &Review) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
    };
    let num = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut out = String::from(
        "ticket,severity,channel,opened_at,weekend,target,within,due,outcome,first_response_seconds,acknowledged_seconds,resolved_seconds\n",
    );
    for row in &r.figures.rows {
        let fields = [
            quote(&row.ticket),
            quote(&row.severity),
            quote(&row.channel),
            quote(&row.opened_at),
            row.weekend.to_string(),
            quote(&row.target),
            quote(&row.within),
            quote(&row.due),
            row.outcome.to_string(),
            num(row.first_response_seconds),
            num(row.acknowledged_seconds),
            num(row.resolved_seconds),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}
