//! Post-incident reports: the [`Reports`] port, and [`ReportDesk`], which takes a report
//! through its life — a draft waits from the moment a qualifying ticket is resolved (the
//! store writes it with the change that resolved it), pre-filled from what happened; every
//! saved text is a new version; publishing records `report.published` on the ticket (which
//! stops the overdue alert) and writes the announcements — a post in the org's shared
//! channel and a mail to each of its admins — that the [`herald::Herald`] sends.

mod access;
pub mod herald;
pub mod words;

pub use access::StepAsked;

use crate::desk::AppError;
use crate::ledger::{Cover, LedgerBook};
use crate::ports::{Accounts, Commands, Queries};
use crate::records::{TicketRecord, TimelineRecord};
use crate::status::StatusPages;
use crate::store::{Extras, StoreError};
use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use stringer_core::contract::Contract;
use stringer_core::event::{Event, EventKind};
use stringer_core::ids::{OrgSlug, TicketId, UserId};
use stringer_core::postmortem::{LineEdit, Refused, ReportState, Sections, Step, step_with_text};
use stringer_core::sla::ClockState;

/// Where a report stands against its due time, as the ticket's own state says (the store's
/// copy of the due time is what the ticket owed when the report was written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owed {
    /// Published.
    Published,
    /// Owed by then (Unix seconds).
    Due(i64),
    /// The ticket was reopened: nothing is owed until it is resolved again.
    Reopened,
    /// Written on demand: nothing is owed.
    OnDemand,
}

impl Owed {
    /// The report of `ticket` whose head is `record`.
    pub fn of(ticket: &TicketRecord, record: &ReportRecord) -> Owed {
        if record.state == ReportState::Published {
            return Owed::Published;
        }
        match &ticket.state.report {
            Some(r) if r.published_at.is_none() => Owed::Due(r.due.as_second()),
            _ if ticket.state.status != stringer_core::ticket::Status::Resolved && record.due.is_some() => {
                Owed::Reopened
            }
            _ => Owed::OnDemand,
        }
    }

    /// Whether it is past due at `now`.
    pub fn overdue(self, now: i64) -> bool {
        matches!(self, Owed::Due(d) if now > d)
    }
}

/// A report, as the store keeps its head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRecord {
    /// The ticket it is about (a ticket has at most one report).
    pub ticket: TicketId,
    /// The ticket's org.
    pub org: OrgSlug,
    /// About a security incident (it then needs a root cause and remediation).
    pub security: bool,
    /// Where it is in its review.
    pub state: ReportState,
    /// Publish by then (Unix seconds; the contract's due time from the resolution), when a
    /// report is owed; `None` for a report written on demand.
    pub due: Option<i64>,
    /// Counts every write; a write names the revision it was decided on.
    pub revision: i64,
    /// The newest text version (0: nothing saved yet, the draft is pre-filled).
    pub text_version: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Unix seconds, once published.
    pub published_at: Option<i64>,
}

/// One line of the automatic timeline, in staff's words and in the org's people's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// Names the line for staff's edits: `t:<seq>` (a timeline entry), `d:<id>` (a
    /// delivery), `s:<id>` (a status update). Empty in lines frozen before lines had keys.
    #[serde(default)]
    pub key: String,
    /// Unix seconds.
    pub at: i64,
    /// What happened, naming people.
    pub what: String,
    /// What the org's people read of it, as the access policy's customer view of the ticket
    /// tells it (`None`: nothing; lines frozen before this was kept are staff's only).
    #[serde(default)]
    pub customer: Option<String>,
}

/// The timeline the org's people read: the lines the access policy shows them, in the words
/// it gives them, as staff's `edits` reworded or hid them.
pub fn customer_lines(lines: &[Line], edits: &[LineEdit]) -> Vec<Line> {
    lines
        .iter()
        .filter_map(|l| {
            let words = l.customer.as_ref()?;
            let edit = edits.iter().find(|e| e.line == l.key);
            if edit.is_some_and(|e| e.hide) {
                return None;
            }
            let words = edit.and_then(|e| e.words.clone()).unwrap_or_else(|| words.clone());
            Some(Line { key: l.key.clone(), at: l.at, what: words.clone(), customer: Some(words) })
        })
        .collect()
}

/// A report's text as the ledger holds it: `(customer_text, staff_text)`. The customer's is
/// what the org's people read (the sections without staff's timeline edits, and the timeline
/// lines they are shown, in the words staff's edits gave them: `key`, `at`, `what`); staff's
/// is the whole text (every section, the edits, and every line with both wordings).
pub fn report_texts(sections: &Sections, timeline: &[Line]) -> (serde_json::Value, serde_json::Value) {
    let mut shown = sections.clone();
    shown.timeline_edits.clear();
    let lines: Vec<serde_json::Value> = customer_lines(timeline, &sections.timeline_edits)
        .into_iter()
        .map(|l| serde_json::json!({"key": l.key, "at": l.at, "what": l.what}))
        .collect();
    let customer = serde_json::json!({"sections": shown, "timeline": lines});
    let staff = serde_json::json!({"sections": sections, "timeline": timeline});
    (customer, staff)
}

/// [`report_texts`] of a version as the store keeps it (its sections and timeline as JSON
/// text); why not, when they no longer read.
pub fn stored_report_texts(sections: &str, timeline: &str) -> Result<(serde_json::Value, serde_json::Value), String> {
    let sections: Sections =
        serde_json::from_str(sections).map_err(|e| format!("its stored text does not read: {e}"))?;
    let timeline: Vec<Line> =
        serde_json::from_str(timeline).map_err(|e| format!("its stored timeline does not read: {e}"))?;
    Ok(report_texts(&sections, &timeline))
}

/// One saved text of a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionRecord {
    /// 1, 2, …
    pub version: i64,
    /// Who saved it (`None`: Stringer's pre-filled draft).
    pub author: Option<UserId>,
    /// Unix seconds.
    pub at: i64,
    /// The text.
    pub sections: Sections,
    /// The automatic timeline as it stood when the version was saved.
    pub timeline: Vec<Line>,
}

/// A comment on a report (a reviewer's, or the note of a step).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportComment {
    /// Its id.
    pub id: String,
    /// Who wrote it.
    pub author: UserId,
    /// Unix seconds.
    pub at: i64,
    /// The step it came with, if any.
    pub step: Option<Step>,
    /// The words.
    pub body: String,
}

/// Where an announcement of a published report goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnnouncedTo {
    /// A mail to this address.
    Mail(String),
    /// A post in this org channel (stored as `slack`, its first kind).
    Channel(String),
}

/// An announcement waiting to be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announcement {
    /// Its id (derived from the report and where it goes: written once).
    pub id: String,
    /// The report's ticket.
    pub ticket: TicketId,
    /// Where it goes.
    pub to: AnnouncedTo,
    /// Attempts so far.
    pub attempts: i64,
}

impl crate::outbox::Claimable for Announcement {
    fn id(&self) -> &str {
        &self.id
    }
    fn attempts(&self) -> i64 {
        self.attempts
    }
}

/// What one step writes, in one transaction: the report's new state, a new version of its
/// text, a comment, and (at publication) the announcements.
#[derive(Clone, Debug)]
pub struct Written {
    /// The new state.
    pub state: ReportState,
    /// A new text version.
    pub version: Option<VersionRecord>,
    /// A comment.
    pub comment: Option<ReportComment>,
    /// The announcements of a publication.
    pub announcements: Vec<Announcement>,
}

/// The reports' records.
#[async_trait]
pub trait Reports: crate::outbox::Sendings<Announcement> {
    /// A ticket's report.
    async fn report(&self, ticket: &TicketId) -> Result<Option<ReportRecord>, StoreError>;
    /// Starts a report on demand; false when the ticket has one already.
    async fn start_report(&self, report: &ReportRecord) -> Result<bool, StoreError>;
    /// A report's versions, oldest first.
    async fn versions(&self, ticket: &TicketId) -> Result<Vec<VersionRecord>, StoreError>;
    /// A report's comments, oldest first.
    async fn report_comments(&self, ticket: &TicketId) -> Result<Vec<ReportComment>, StoreError>;
    /// Writes a step if the report is still at `revision`; false otherwise (nothing written).
    async fn write_report(
        &self,
        ticket: &TicketId,
        revision: i64,
        written: &Written,
        at: i64,
    ) -> Result<bool, StoreError>;
    /// Reports, newest first: of one org or all, published or not (`None`: both).
    async fn reports(
        &self,
        org: Option<&OrgSlug>,
        published: Option<bool>,
        limit: i64,
    ) -> Result<Vec<ReportRecord>, StoreError>;
}

/// A report as it is read: its head, its current text (pre-filled when nothing was saved),
/// its versions and comments, and the timeline as the records tell it now.
#[derive(Clone, Debug)]
pub struct ReportView {
    /// The head.
    pub record: ReportRecord,
    /// The ticket.
    pub ticket: TicketRecord,
    /// The text in force (the newest version, or the pre-filled draft as version 0).
    pub current: VersionRecord,
    /// Saved versions, oldest first.
    pub versions: Vec<VersionRecord>,
    /// Comments, oldest first.
    pub comments: Vec<ReportComment>,
    /// The ledger's signed head the report covers: the latest signed when it was published,
    /// or for a report not published yet, when it is read; `None` before the first head.
    pub ledger_head: Option<Cover>,
}

impl ReportView {
    /// The timeline to show: frozen at publication, else as the records tell it now.
    pub fn timeline(&self) -> &[Line] {
        &self.current.timeline
    }

    /// The timeline the org's people read (see [`customer_lines`]).
    pub fn customer_timeline(&self) -> Vec<Line> {
        customer_lines(&self.current.timeline, &self.current.sections.timeline_edits)
    }

    /// The view as someone without the ticket's internals reads it: the customer's timeline
    /// only, staff's edits applied and not handed out, no versions, no comments.
    pub fn for_customer(mut self) -> ReportView {
        self.current.timeline = self.customer_timeline();
        self.current.sections.timeline_edits.clear();
        self.versions.clear();
        self.comments.clear();
        self
    }

    /// What each saved version changed in the customer's timeline, in words (oldest first,
    /// as [`ReportView::versions`]): the report's own history of hidden and reworded lines.
    pub fn timeline_history(&self) -> Vec<Vec<String>> {
        let said = |key: &str| {
            let line = self.current.timeline.iter().find(|l| l.key == key);
            line.and_then(|l| l.customer.clone()).unwrap_or_else(|| key.to_string())
        };
        let mut before: &[LineEdit] = &[];
        self.versions
            .iter()
            .map(|v| {
                let edits = &v.sections.timeline_edits;
                let mut notes: Vec<String> = edits
                    .iter()
                    .filter(|e| !before.contains(e))
                    .map(|e| match (&e.words, e.hide) {
                        (_, true) => format!("hid \u{201c}{}\u{201d}", said(&e.line)),
                        (Some(w), false) => {
                            format!("reworded \u{201c}{}\u{201d} as \u{201c}{w}\u{201d}", said(&e.line))
                        }
                        (None, false) => format!("restored \u{201c}{}\u{201d}", said(&e.line)),
                    })
                    .collect();
                notes.extend(
                    before
                        .iter()
                        .filter(|b| !edits.iter().any(|e| e.line == b.line))
                        .map(|b| format!("restored \u{201c}{}\u{201d}", said(&b.line))),
                );
                before = edits;
                notes
            })
            .collect()
    }
}

/// What a step asks for.
#[derive(Clone, Debug)]
pub struct StepRequest {
    /// Which step.
    pub step: Step,
    /// The revision the caller saw (a step on a report changed since is refused).
    pub revision: i64,
    /// The new text (for [`Step::Edit`]).
    pub sections: Option<Sections>,
    /// A comment to keep with the step.
    pub comment: Option<String>,
}

/// Why a step did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No such report (or ticket).
    #[error("no such report")]
    NotFound,
    /// The rules refused it.
    #[error("{0}")]
    Refused(String),
    /// The rules refused it for what these sections say (or leave unsaid), by their JSON
    /// names: a door shows the reason beside them.
    #[error("{why}")]
    Incomplete {
        /// Why, in words.
        why: String,
        /// The sections to put right.
        fields: Vec<&'static str>,
    },
    /// The access policy refused, with its reason (the principal sees the report).
    #[error("{0}")]
    Forbidden(String),
    /// Someone changed the report since the caller read it.
    #[error("the report changed since it was read (now at revision {0}); read it again")]
    Stale(i64),
    /// The application failed.
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<Refused> for ReportError {
    fn from(r: Refused) -> Self {
        if r.fields.is_empty() {
            ReportError::Refused(r.why)
        } else {
            ReportError::Incomplete { why: r.why, fields: r.fields }
        }
    }
}

impl From<StoreError> for ReportError {
    fn from(e: StoreError) -> Self {
        ReportError::App(AppError::Store(e))
    }
}

/// What the report desk reads and changes: the reports, their tickets, the people they
/// name and the status pages they link.
#[derive(Clone)]
pub struct ReportPorts {
    /// Changes tickets (and tells the time and the contract).
    pub commands: Arc<dyn Commands>,
    /// The read port: tickets, comments, timelines.
    pub queries: Arc<dyn Queries>,
    /// Orgs, users, tokens.
    pub accounts: Arc<dyn Accounts>,
    /// Post-incident reports, their versions, comments and announcements.
    pub reports: Arc<dyn Reports>,
    /// Status pages, their components, incidents and maintenance.
    pub status: Arc<dyn StatusPages>,
    /// The ledger's signed heads, the one a report covers.
    pub ledger: Arc<dyn LedgerBook>,
}

/// Post-incident reports' use cases, over the ports.
#[derive(Clone)]
pub struct ReportDesk {
    /// Every port.
    pub ports: ReportPorts,
}

impl ReportDesk {
    /// A ticket's report with its current text. A published report whose ticket does not
    /// know it yet (the recording failed after the publication) is recorded now.
    pub async fn view(&self, ticket: &TicketRecord) -> Result<Option<ReportView>, ReportError> {
        let Some(record) = self.ports.reports.report(&ticket.id).await? else { return Ok(None) };
        if record.state == ReportState::Published {
            self.record_publication(ticket, None).await?;
        }
        let versions = self.ports.reports.versions(&ticket.id).await?;
        let comments = self.ports.reports.report_comments(&ticket.id).await?;
        let current = match versions.last() {
            Some(v) if record.state == ReportState::Published => v.clone(),
            Some(v) => VersionRecord { timeline: self.timeline(ticket).await?, ..v.clone() },
            None => self.prefilled(ticket, record.created_at).await?,
        };
        let written = record.published_at.unwrap_or_else(|| self.ports.commands.now().as_second());
        let ledger_head = crate::ledger::cover::cover(self.ports.ledger.as_ref(), written).await?;
        Ok(Some(ReportView { record, ticket: ticket.clone(), current, versions, comments, ledger_head }))
    }

    /// Starts a report on demand (any ticket); the ticket's own when it owes one already.
    pub async fn start(&self, ticket: &TicketRecord, now: i64) -> Result<ReportView, ReportError> {
        let s = &ticket.state;
        let record = ReportRecord {
            ticket: ticket.id.clone(),
            org: ticket.org.clone(),
            security: s.security,
            state: ReportState::Draft,
            due: s.report.as_ref().filter(|r| r.published_at.is_none()).map(|r| r.due.as_second()),
            revision: 0,
            text_version: 0,
            created_at: now,
            updated_at: now,
            published_at: None,
        };
        self.ports.reports.start_report(&record).await?;
        self.view(ticket).await?.ok_or(ReportError::NotFound)
    }

    /// Takes a step on a ticket's report as `actor` (whom the access policy let through).
    pub async fn step(
        &self,
        ticket: &TicketRecord,
        actor: &UserId,
        req: StepRequest,
    ) -> Result<ReportView, ReportError> {
        let view = self.view(ticket).await?.ok_or(ReportError::NotFound)?;
        let record = &view.record;
        if record.revision != req.revision {
            return Err(ReportError::Stale(record.revision));
        }
        let now = self.ports.commands.now().as_second();
        let sections = req.sections.clone().unwrap_or_else(|| view.current.sections.clone());
        if let Some(e) = sections
            .timeline_edits
            .iter()
            .find(|e| !view.current.timeline.iter().any(|l| l.key == e.line && l.customer.is_some()))
        {
            return Err(ReportError::Refused(format!(
                "timeline line {} is not one the org's people read: only those are reworded or hidden",
                e.line
            )));
        }
        let (state, saves) =
            step_with_text(record.state, req.step, record.security, &view.current.sections, &sections)?;
        if saves {
            self.check_owners(ticket, &sections).await?;
        }
        if state == ReportState::Published && ticket.state.status != stringer_core::ticket::Status::Resolved {
            return Err(ReportError::Refused(
                "the ticket is not resolved (it was reopened): publish its report once it is".into(),
            ));
        }
        let version = (saves || (req.step == Step::Publish && record.text_version == 0)).then(|| VersionRecord {
            version: record.text_version + 1,
            author: saves.then(|| actor.clone()),
            at: now,
            sections,
            timeline: view.current.timeline.clone(),
        });
        let comment = req.comment.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(|body| ReportComment {
            id: comment_id(&ticket.id, record.revision, now),
            author: actor.clone(),
            at: now,
            step: Some(req.step),
            body: body.to_string(),
        });
        let published = state == ReportState::Published;
        let announcements = if published { self.announcements(ticket, now).await? } else { Vec::new() };
        let written = Written { state, version, comment, announcements };
        if !self.ports.reports.write_report(&ticket.id, record.revision, &written, now).await? {
            let now_at = self.ports.reports.report(&ticket.id).await?.map_or(0, |r| r.revision);
            return Err(ReportError::Stale(now_at));
        }
        if published {
            self.record_publication(ticket, Some(actor)).await?;
            // Read as the ticket now is, so the view does not record the publication again.
            let (fresh, _) = self.ports.queries.ticket(&ticket.id).await?.ok_or(ReportError::NotFound)?;
            return self.view(&fresh).await?.ok_or(ReportError::NotFound);
        }
        self.view(ticket).await?.ok_or(ReportError::NotFound)
    }

    /// Adds a comment without a step.
    pub async fn comment(&self, ticket: &TicketRecord, actor: &UserId, body: &str) -> Result<ReportView, ReportError> {
        let view = self.view(ticket).await?.ok_or(ReportError::NotFound)?;
        let body = body.trim();
        if body.is_empty() || body.len() > stringer_core::postmortem::MAX_SECTION {
            return Err(ReportError::Refused("a comment has words, at most 64 KiB of them".into()));
        }
        let now = self.ports.commands.now().as_second();
        let id = comment_id(&ticket.id, view.record.revision, now);
        let comment = ReportComment { id, author: actor.clone(), at: now, step: None, body: body.into() };
        let written =
            Written { state: view.record.state, version: None, comment: Some(comment), announcements: vec![] };
        if !self.ports.reports.write_report(&ticket.id, view.record.revision, &written, now).await? {
            return Err(ReportError::Stale(view.record.revision));
        }
        self.view(ticket).await?.ok_or(ReportError::NotFound)
    }

    /// Records `report.published` on a ticket that still owes its report (a report written
    /// on demand owes nothing). The report is published first, guarded by its revision, so a
    /// concurrent step can never leave the ticket saying published over an unpublished
    /// report; should this recording fail after it, reading the report records it again
    /// (see [`ReportDesk::view`]).
    async fn record_publication(&self, ticket: &TicketRecord, actor: Option<&UserId>) -> Result<(), ReportError> {
        if ticket.state.report.as_ref().is_none_or(|r| r.published_at.is_some()) {
            return Ok(());
        }
        let event = Event::new(self.ports.commands.now(), ticket.id.clone(), EventKind::ReportPublished);
        match self.ports.commands.record(vec![event], Extras { actor: actor.cloned(), ..Extras::default() }).await {
            Ok(_) => Ok(()),
            Err(AppError::Rejected(why)) if why.contains("already published") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The org's shared channel and each active admin of the org.
    async fn announcements(&self, ticket: &TicketRecord, now: i64) -> Result<Vec<Announcement>, ReportError> {
        let org = self.ports.accounts.org(&ticket.org).await?.ok_or(ReportError::NotFound)?;
        let admins = crate::ports::org_admins(self.ports.accounts.as_ref(), &ticket.org).await?;
        let mut to: Vec<AnnouncedTo> = org.channel.into_iter().map(AnnouncedTo::Channel).collect();
        to.extend(admins.into_iter().map(|u| AnnouncedTo::Mail(u.email)));
        Ok(to
            .into_iter()
            .map(|to| {
                let target = match &to {
                    AnnouncedTo::Mail(a) => format!("mail:{a}"),
                    AnnouncedTo::Channel(c) => format!("slack:{c}"),
                };
                Announcement {
                    id: crate::ids::seeded_ulid("ann", now * 1000, &format!("report:{}:{target}", ticket.id)),
                    ticket: ticket.id.clone(),
                    to,
                    attempts: 0,
                }
            })
            .collect())
    }

    /// The draft Stringer writes: the summary from the ticket, the impact from its clocks,
    /// affected components and duration, and the timeline.
    async fn prefilled(&self, ticket: &TicketRecord, at: i64) -> Result<VersionRecord, ReportError> {
        let contract = self.ports.commands.contract();
        let incident = self.ports.status.incident_of_ticket(&ticket.id).await?;
        let components = match &incident {
            Some(i) => {
                let all = self.ports.status.components(std::slice::from_ref(&i.page_id)).await?;
                all.into_iter().filter(|c| i.components.contains(&c.id)).map(|c| c.name).collect()
            }
            None => Vec::new(),
        };
        let sections = Sections {
            summary: format!("{}\n\n{}", ticket.subject, ticket.description).trim().to_string(),
            impact: impact(contract, ticket, &components),
            ..Sections::default()
        };
        Ok(VersionRecord { version: 0, author: None, at, sections, timeline: self.timeline(ticket).await? })
    }

    /// The automatic timeline: the ticket's own (opened, pages with the people, severity
    /// changes, acknowledgements, bridge joins, customer pages, resolution), each page's
    /// deliveries with the method, and the status page's updates, in time order.
    pub async fn timeline(&self, ticket: &TicketRecord) -> Result<Vec<Line>, ReportError> {
        let mut entries = Vec::new();
        let mut after = 0;
        loop {
            let batch: Vec<TimelineRecord> = self.ports.queries.timeline(&ticket.id, after, 500).await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            entries.extend(
                batch
                    .into_iter()
                    .filter(|e| !matches!(e.kind.as_str(), "ticket.replied" | "sla.met" | "queue.notified")),
            );
        }
        // What the org's people see of each entry is the access policy's customer view.
        let seen: Vec<Option<TimelineRecord>> = entries.iter().map(|e| e.clone().customer_view()).collect();
        let deliveries = self.ports.queries.deliveries(&ticket.id).await?;
        let mut named: Vec<String> = entries.iter().flat_map(words::people).collect();
        named.extend(deliveries.iter().map(|d| d.user_id.clone()));
        let names = crate::ports::names(self.ports.accounts.as_ref(), named.iter().map(String::as_str)).await?;
        let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
        let mut lines: Vec<Line> = entries
            .iter()
            .zip(&seen)
            .map(|(e, c)| Line {
                key: format!("t:{}", e.seq),
                at: e.at,
                what: words::describe(e, &name),
                customer: c.as_ref().map(|c| words::describe(c, &name)),
            })
            .collect();
        // Deliveries are staff's only (the policy's `ReadDeliveries`).
        for d in deliveries {
            let who = d.user_id.strip_prefix("org:").map_or_else(|| name(&d.user_id), |o| format!("{o}'s channel"));
            let how = d.kind.as_str();
            let (at, what) = match (d.status.as_str(), d.sent_at) {
                ("sent", Some(at)) => (at, format!("Page reached {who} by {how}")),
                ("failed", _) => (
                    d.created_at,
                    format!("Page to {who} by {how} failed: {}", d.last_error.as_deref().unwrap_or("no reason given")),
                ),
                _ => continue,
            };
            lines.push(Line { key: format!("d:{}", d.id), at, what, customer: None });
        }
        if let Some(incident) = self.ports.status.incident_of_ticket(&ticket.id).await? {
            for u in &incident.updates {
                let phase = crate::status::statuspage::phase_words(u.phase);
                let what = format!("Status page ({}): {phase} — {}", incident.name, u.body);
                lines.push(Line { key: format!("s:{}", u.id), at: u.created_at, customer: Some(what.clone()), what });
            }
        }
        lines.sort_by_key(|l| l.at);
        Ok(lines)
    }
}

/// A comment's id: one write per revision, so the ticket and the revision make it unique.
fn comment_id(ticket: &TicketId, revision: i64, now: i64) -> String {
    crate::ids::seeded_ulid("rcm", now * 1000, &format!("{ticket}:{revision}"))
}

/// The impact section Stringer pre-fills: severity, how long, each target met or breached,
/// the components the status page showed affected.
fn impact(contract: &Contract, ticket: &TicketRecord, components: &[String]) -> String {
    let s = &ticket.state;
    let severity = contract.severities.get(&s.severity).map(|d| format!("{} ({})", s.severity, d.name));
    let mut out = vec![format!("- Severity: {}", severity.unwrap_or_else(|| s.severity.to_string()))];
    if let Some(resolved) = s.resolved_at {
        let minutes = (resolved.as_second() - s.opened_at.as_second()) / 60;
        out.push(format!(
            "- Duration: {} h {} min, from {} to {} (UTC)",
            minutes / 60,
            minutes % 60,
            utc(s.opened_at),
            utc(resolved)
        ));
    }
    for c in &s.clocks {
        let due = c.due.map(utc).unwrap_or_else(|| "—".into());
        let verdict = match c.state {
            ClockState::Met => "met",
            ClockState::Breached => "breached",
            _ if c.breached_at.is_some() => "breached",
            ClockState::Withdrawn => "withdrawn (the customer resolved it before a response)",
            _ => "not stopped",
        };
        out.push(format!("- The {} target ({}): {verdict}, due {due} (UTC)", c.target, c.cell.within));
    }
    if !components.is_empty() {
        out.push(format!("- Affected components: {}", components.join(", ")));
    }
    out.join("\n")
}

fn utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(key: &str, what: &str, customer: Option<&str>) -> Line {
        Line { key: key.into(), at: 0, what: what.into(), customer: customer.map(String::from) }
    }

    #[test]
    fn the_customer_reads_the_policys_lines_as_staff_edited_them() {
        let lines = [
            line("t:1", "Opened by Alice", Some("Opened by Alice")),
            line("t:2", "Paged Nico (on-call engineer) via sms", Some("Paged the on-call engineer")),
            line("d:x", "Page to Nico by sms failed: no provider", None),
            line("t:3", "A post-incident report is owed", None),
            line("t:4", "Resolved by Nico", Some("Resolved")),
        ];
        let shown =
            |edits: &[LineEdit]| -> Vec<String> { customer_lines(&lines, edits).into_iter().map(|l| l.what).collect() };
        assert_eq!(shown(&[]), ["Opened by Alice", "Paged the on-call engineer", "Resolved"]);
        let edits = [
            LineEdit { line: "t:1".into(), hide: false, words: Some("Acme reported it".into()) },
            LineEdit { line: "t:4".into(), hide: true, words: None },
            LineEdit { line: "d:x".into(), hide: false, words: Some("shown?".into()) },
        ];
        assert_eq!(shown(&edits), ["Acme reported it", "Paged the on-call engineer"], "staff-only lines stay so");
    }
}

#[cfg(test)]
mod desk_tests {
    //! The report desk's decisions over in-memory ports: when a report may be published,
    //! what a stale step meets, and whom a publication is announced to.
    #![allow(unused_variables)]

    use super::*;
    use crate::fakes::{Pages, World, absent, org, user};
    use crate::records::{OrgRecord, UserRecord};
    use std::sync::{Arc, Mutex};
    use stringer_core::contract::Contract;
    use stringer_core::ids::{Intake, OrgSlug, Severity, UserRole};

    /// Reports in memory, with every announcement written.
    #[derive(Default)]
    struct Book {
        reports: Mutex<Vec<ReportRecord>>,
        versions: Mutex<Vec<VersionRecord>>,
        announced: Mutex<Vec<AnnouncedTo>>,
    }

    #[async_trait]
    impl Reports for Book {
        async fn report(&self, ticket: &TicketId) -> Result<Option<ReportRecord>, StoreError> {
            Ok(self.reports.lock().unwrap().iter().find(|r| &r.ticket == ticket).cloned())
        }

        async fn start_report(&self, report: &ReportRecord) -> Result<bool, StoreError> {
            let mut reports = self.reports.lock().unwrap();
            if reports.iter().any(|r| r.ticket == report.ticket) {
                return Ok(false);
            }
            reports.push(report.clone());
            Ok(true)
        }

        async fn versions(&self, ticket: &TicketId) -> Result<Vec<VersionRecord>, StoreError> {
            Ok(self.versions.lock().unwrap().clone())
        }

        async fn report_comments(&self, ticket: &TicketId) -> Result<Vec<ReportComment>, StoreError> {
            Ok(Vec::new())
        }

        async fn write_report(
            &self,
            ticket: &TicketId,
            revision: i64,
            written: &Written,
            at: i64,
        ) -> Result<bool, StoreError> {
            let mut reports = self.reports.lock().unwrap();
            let Some(r) = reports.iter_mut().find(|r| &r.ticket == ticket && r.revision == revision) else {
                return Ok(false);
            };
            r.state = written.state;
            r.revision += 1;
            if let Some(v) = &written.version {
                r.text_version = v.version;
                self.versions.lock().unwrap().push(v.clone());
            }
            self.announced.lock().unwrap().extend(written.announcements.iter().map(|a| a.to.clone()));
            Ok(true)
        }

        async fn reports(
            &self,
            org: Option<&OrgSlug>,
            published: Option<bool>,
            limit: i64,
        ) -> Result<Vec<ReportRecord>, StoreError> {
            Err(absent("reports"))
        }
    }

    crate::fakes::no_sendings!(Book, Announcement);

    /// Acme (enterprise, with a shared channel) and its people: two active admins, one
    /// deactivated admin and a member; and Acme's P1, resolved or not, with its report in
    /// `state`.
    async fn desk(resolved: bool, state: ReportState) -> (ReportDesk, Arc<Book>, TicketRecord) {
        let world = World::new(Contract::default_contract(), "2026-03-02T10:00:00Z".parse().unwrap());
        world.add_org(OrgRecord { channel: Some("C-ACME".into()), ..org("acme", "enterprise") }).await;
        world.add_user(user("ada", Some("acme"), UserRole::OrgAdmin));
        world.add_user(user("abe", Some("acme"), UserRole::OrgAdmin));
        world.add_user(UserRecord { deactivated_at: Some(1), ..user("old", Some("acme"), UserRole::OrgAdmin) });
        world.add_user(user("mia", Some("acme"), UserRole::Member));
        world.add_user(user("lea", None, UserRole::SupportLead));
        let now = world.now();
        let id = TicketId::from("tkt_1");
        let opened = EventKind::Opened {
            org: OrgSlug::from("acme"),
            severity: Severity::from("P1"),
            intake: Some(Intake::Portal),
            security: false,
        };
        let mut events = vec![Event::new(now, id.clone(), opened)];
        if resolved {
            events.push(Event::new(now, id.clone(), EventKind::Resolved { by_customer: false }));
        }
        world.record(events, Extras::default()).await.unwrap();
        let (ticket, _) = world.ticket(&id).await.unwrap().expect("the ticket was opened");
        let book = Arc::new(Book::default());
        book.reports.lock().unwrap().push(ReportRecord {
            ticket: id,
            org: OrgSlug::from("acme"),
            security: false,
            state,
            due: None,
            revision: 3,
            text_version: 0,
            created_at: 0,
            updated_at: 0,
            published_at: None,
        });
        let ports = ReportPorts {
            commands: world.clone(),
            queries: world.clone(),
            accounts: world.clone(),
            reports: book.clone(),
            status: Arc::new(Pages::default()),
            ledger: Arc::new(crate::fakes::MemoryLedger::default()),
        };
        (ReportDesk { ports }, book, ticket)
    }

    fn step(step: Step, revision: i64) -> StepRequest {
        StepRequest { step, revision, sections: None, comment: None }
    }

    #[tokio::test]
    async fn a_report_is_published_once_approved_on_a_resolved_ticket_and_at_its_revision() {
        let cases = [
            // (why, ticket resolved, report state, revision asked, what happens)
            ("an approved report of a resolved ticket", true, ReportState::Approved, 3, "published"),
            ("the ticket was reopened", false, ReportState::Approved, 3, "refused"),
            ("someone stepped in between", true, ReportState::Approved, 2, "stale at 3"),
            ("not approved yet", true, ReportState::InReview, 3, "refused"),
            ("published already", true, ReportState::Published, 3, "refused"),
        ];
        for (why, resolved, state, revision, expected) in cases {
            let (desk, book, ticket) = desk(resolved, state).await;
            let got = match desk.step(&ticket, &UserId::from("lea"), step(Step::Publish, revision)).await {
                Ok(view) if view.record.state == ReportState::Published => "published".to_string(),
                Ok(view) => format!("{:?}", view.record.state),
                Err(ReportError::Stale(at)) => format!("stale at {at}"),
                Err(ReportError::Refused(_)) => "refused".into(),
                Err(e) => format!("{e}"),
            };
            assert_eq!(got, expected, "{why}");
            let state_after = book.reports.lock().unwrap()[0].state;
            let published = state_after == ReportState::Published;
            assert_eq!(published, expected == "published" || state == ReportState::Published, "{why}");
        }
    }

    #[tokio::test]
    async fn a_publication_is_announced_in_the_channel_and_to_the_active_admins() {
        let (desk, book, ticket) = desk(true, ReportState::Approved).await;
        desk.step(&ticket, &UserId::from("lea"), step(Step::Publish, 3)).await.unwrap();
        let announced = book.announced.lock().unwrap().clone();
        assert_eq!(
            announced,
            vec![
                AnnouncedTo::Channel("C-ACME".into()),
                AnnouncedTo::Mail("ada@example.com".into()),
                AnnouncedTo::Mail("abe@example.com".into()),
            ],
            "neither the deactivated admin nor a member"
        );
    }

    #[tokio::test]
    async fn a_report_published_without_saved_words_keeps_the_prefilled_text_as_its_first_version() {
        let (desk, book, ticket) = desk(true, ReportState::Approved).await;
        desk.step(&ticket, &UserId::from("lea"), step(Step::Publish, 3)).await.unwrap();
        let versions = book.versions.lock().unwrap().clone();
        assert_eq!(versions.len(), 1, "the published words are kept");
        assert_eq!((versions[0].version, versions[0].author.clone()), (1, None), "Stringer's draft, as published");
    }
}
