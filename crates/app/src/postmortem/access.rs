//! Reports as a principal reaches them, for every door: each use asks the access policy about
//! [`Object::Report`] first. Staff who see the org read and write reports at every stage,
//! support leads and the VP review them, and the org's own people read them once published
//! (before that, a report does not exist for them: it answers exactly as a missing one).

use super::{ReportDesk, ReportError, ReportRecord, ReportView, StepRequest};
use crate::accounts::person;
use crate::act::{Principal, TicketRef};
use crate::records::TicketRecord;
use stringer_core::access::{self, Action, Decision, Object, OrgRef, Scopes};
use stringer_core::ids::{Deployment, OrgSlug, UserId};
use stringer_core::postmortem::{MAX_SECTION, ReportState, Sections, Step};

/// A step as a door was asked for it, not yet checked.
#[derive(Clone, Debug)]
pub struct StepAsked {
    /// `edit`, `submit`, `approve`, `request_changes` or `publish`.
    pub step: String,
    /// The revision the principal read.
    pub revision: i64,
    /// The new text, for `edit`.
    pub sections: Option<Sections>,
    /// A comment kept with the step.
    pub comment: Option<String>,
}

fn decided(decision: Decision) -> Result<(), ReportError> {
    match decision {
        Decision::Allow => Ok(()),
        Decision::NotFound => Err(ReportError::NotFound),
        Decision::Forbidden(why) => Err(ReportError::Forbidden(why.to_string())),
    }
}

impl ReportDesk {
    /// A ticket and its report, once `who` may take `action` on the report (not found as for
    /// a missing one otherwise; a report not started yet is missing, except to
    /// [`Action::WriteReport`], which may start it).
    pub async fn report_for(
        &self,
        who: &Principal,
        ticket: &TicketRef,
        action: Action,
    ) -> Result<(TicketRecord, Option<ReportRecord>), ReportError> {
        let (ticket, _, report) = self.located(who, ticket, action).await?;
        Ok((ticket, report))
    }

    /// [`ReportDesk::report_for`], with the ticket's deployment (for further questions to the
    /// policy about the same ticket).
    async fn located(
        &self,
        who: &Principal,
        ticket: &TicketRef,
        action: Action,
    ) -> Result<(TicketRecord, Deployment, Option<ReportRecord>), ReportError> {
        let found = match ticket {
            TicketRef::Id(id) => self.ports.queries.ticket(id).await?,
            TicketRef::Key(key) => self.ports.queries.ticket_by_key(key).await?,
        };
        let report = match &found {
            Some((t, _)) => self.ports.reports.report(&t.id).await?,
            None => None,
        };
        let object = found.as_ref().and_then(|(t, deployment)| {
            let org = OrgRef { slug: t.org.as_str(), deployment: *deployment };
            match &report {
                Some(r) => Some(Object::Report { org, published: r.state == ReportState::Published }),
                None if action == Action::WriteReport => Some(Object::Report { org, published: false }),
                None => None,
            }
        });
        decided(access::decide(&who.actor(), action, object))?;
        let (ticket, deployment) = found.ok_or(ReportError::NotFound)?;
        Ok((ticket, deployment, report))
    }

    /// A ticket's report, as `who` may read it: whole to whom the policy shows the ticket's
    /// internals, else as the org's people read it ([`ReportView::for_customer`]).
    pub async fn read(&self, who: &Principal, ticket: &TicketRef) -> Result<ReportView, ReportError> {
        let (ticket, deployment, _) = self.located(who, ticket, Action::ReadReport).await?;
        let view = self.view(&ticket).await?.ok_or(ReportError::NotFound)?;
        let object = Object::Ticket(OrgRef { slug: ticket.org.as_str(), deployment });
        Ok(if who.allowed(Action::ReadInternal, Some(object)) { view } else { view.for_customer() })
    }

    /// Starts a ticket's report on demand as `who`; answers it and whether it is new (a
    /// ticket owing one has its draft already).
    pub async fn begin(&self, who: &Principal, ticket: &TicketRef) -> Result<(ReportView, bool), ReportError> {
        let (ticket, existing) = self.report_for(who, ticket, Action::WriteReport).await?;
        let view = self.start(&ticket, self.ports.commands.now().as_second()).await?;
        Ok((view, existing.is_none()))
    }

    /// Takes a step as `who`: the policy first (writing, or reviewing for approve and
    /// request_changes), then the report's rules.
    pub async fn take_step(
        &self,
        who: &Principal,
        ticket: &TicketRef,
        asked: StepAsked,
    ) -> Result<ReportView, ReportError> {
        let step = Step::parse(&asked.step).ok_or_else(|| {
            ReportError::Refused("step is one of edit, submit, approve, request_changes, publish".into())
        })?;
        if step == Step::Edit && asked.sections.is_none() {
            return Err(ReportError::Refused("an edit carries the sections".into()));
        }
        if asked.comment.as_ref().is_some_and(|c| c.len() > MAX_SECTION) {
            return Err(ReportError::Refused("a comment is at most 64 KiB".into()));
        }
        let action = match step {
            Step::Approve | Step::RequestChanges => Action::ReviewReport,
            Step::Edit | Step::Submit | Step::Publish => Action::WriteReport,
        };
        if action == Action::ReviewReport && asked.sections.is_some() {
            // A reviewer's step carrying a text may save it: the reviewer writes too.
            self.report_for(who, ticket, Action::WriteReport).await?;
        }
        let (ticket, report) = self.report_for(who, ticket, action).await?;
        if report.is_none() {
            return Err(ReportError::NotFound);
        }
        let request = StepRequest { step, revision: asked.revision, sections: asked.sections, comment: asked.comment };
        self.step(&ticket, &who.user().id, request).await
    }

    /// Comments on a report as `who` (who may write it).
    pub async fn add_comment(
        &self,
        who: &Principal,
        ticket: &TicketRef,
        body: &str,
    ) -> Result<ReportView, ReportError> {
        let (ticket, report) = self.report_for(who, ticket, Action::WriteReport).await?;
        if report.is_none() {
            return Err(ReportError::NotFound);
        }
        self.comment(&ticket, &who.user().id, body).await
    }

    /// The reports `who` may read, newest first (at most 200), with their tickets: `org`'s
    /// only, and only published (or only not yet published) ones, when asked.
    pub async fn visible(
        &self,
        who: &Principal,
        org: Option<&str>,
        published: Option<bool>,
    ) -> Result<Vec<(TicketRecord, ReportRecord)>, ReportError> {
        if let Decision::Forbidden(why) = access::decide(&who.actor(), Action::ReadReport, None) {
            return Err(ReportError::Forbidden(why.to_string()));
        }
        let org = org.map(|o| OrgSlug(o.to_string()));
        let reports = self.ports.reports.reports(org.as_ref(), published, 200).await?;
        let orgs = self.ports.accounts.orgs().await?;
        let mut out = Vec::new();
        for r in reports {
            let Some(o) = orgs.iter().find(|o| o.slug == r.org) else { continue };
            let object = Object::Report { org: o.as_ref(), published: r.state == ReportState::Published };
            if !who.allowed(Action::ReadReport, Some(object)) {
                continue;
            }
            if let Some((t, _)) = self.ports.queries.ticket(&r.ticket).await? {
                out.push((t, r));
            }
        }
        Ok(out)
    }
}

impl ReportDesk {
    /// Every action item's owner is an active staff member who may serve the ticket's org
    /// (the access policy's [`Action::ServeOrg`]).
    pub(super) async fn check_owners(&self, ticket: &TicketRecord, sections: &Sections) -> Result<(), ReportError> {
        let org = self.ports.accounts.org(&ticket.org).await?.ok_or(ReportError::NotFound)?;
        for (n, item) in sections.action_items.iter().enumerate() {
            let user = self.ports.accounts.user(&UserId::from(item.owner.as_str())).await?;
            let serves = user.as_ref().is_some_and(|u| {
                u.org.is_none()
                    && u.deactivated_at.is_none()
                    && access::decide(&person(u, Scopes::NONE), Action::ServeOrg, Some(Object::Org(org.as_ref())))
                        .allowed()
            });
            if !serves {
                return Err(ReportError::Incomplete {
                    why: format!(
                        "action item {} ({}): its owner is a staff member who serves {}",
                        n + 1,
                        item.what,
                        org.name
                    ),
                    fields: vec!["action_items"],
                });
            }
        }
        Ok(())
    }
}
