//! Sends the announcements of published reports: a summary with the link in the org's
//! shared channel, the report itself in a mail to each of the org's admins. Announcements are
//! rows written with the publication; the outbox ([`crate::outbox`]) claims them with a lease,
//! has the herald write and send each, and retries temporary failures. The channel's post is
//! sent under the announcement's id, which the sender looks for in the channel before it
//! posts ([`Outgoing::Slack`]), so a kill after Slack answered makes no second post.

use super::{AnnouncedTo as To, Announcement, ReportDesk, ReportError, ReportView};
use crate::delivery::SendError;
use crate::outbox::{Carrier, MESSAGES, Outgoing, Sender, Sendings, Tried, send_due};
use async_trait::async_trait;
use std::sync::Arc;

/// Writes and sends the announcements of published reports.
#[derive(Clone)]
pub struct Herald {
    /// The reports.
    pub desk: ReportDesk,
    /// The outside world.
    pub sender: Arc<dyn Sender>,
    /// The server's address, for links.
    pub public_url: String,
}

impl Herald {
    /// Where the org's people read a published report.
    pub fn report_url(&self, view: &ReportView) -> String {
        format!("{}/reports/{}", self.public_url.trim_end_matches('/'), view.ticket.key())
    }

    /// Sends the announcements due at `now`; answers how many went out.
    pub async fn send_due(&self, now: i64) -> Result<usize, ReportError> {
        let announcements: &dyn Sendings<Announcement> = self.desk.ports.reports.as_ref();
        Ok(send_due(announcements, self, &MESSAGES, now).await?.sent)
    }

    async fn message(&self, a: &Announcement) -> Result<Option<Outgoing>, ReportError> {
        let Some((ticket, _)) = self.desk.ports.queries.ticket(&a.ticket).await? else { return Ok(None) };
        let Some(view) = self.desk.view(&ticket).await? else { return Ok(None) };
        let owners = view.current.sections.action_items.iter().map(|i| i.owner.as_str());
        let names = crate::ports::names(self.desk.ports.accounts.as_ref(), owners).await?;
        let key = ticket.key();
        let url = self.report_url(&view);
        let summary = first_paragraph(&view.current.sections.summary);
        Ok(Some(match &a.to {
            To::Channel(channel) => Outgoing::Slack {
                channel: channel.clone(),
                text: format!("The post-incident report for {key} ({}) is published: {summary}\n{url}", ticket.subject),
            },
            To::Mail(to) => Outgoing::Mail {
                to: to.clone(),
                subject: format!("[{key}] Post-incident report: {}", ticket.subject),
                body: letter(&view, &url, &|id| names.get(id).cloned().unwrap_or_else(|| id.to_string())),
                unsubscribe: None,
            },
        }))
    }
}

#[async_trait]
impl Carrier<Announcement> for Herald {
    type Error = ReportError;
    async fn carry(&self, a: &Announcement, _now: i64) -> Result<Tried, ReportError> {
        Ok(Tried::from(match self.message(a).await? {
            Some(message) => self.sender.send(&a.id, &message).await,
            None => Err(SendError::Permanent("the report it announces no longer exists".into())),
        }))
    }
}

/// The first paragraph of a Markdown text, on one line.
fn first_paragraph(text: &str) -> String {
    text.trim().split("\n\n").next().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The report as a plain-text mail: each section as written (Markdown reads as text), the
/// action items with their owners' `name`s, the timeline the org's people read, and the link.
fn letter(view: &ReportView, url: &str, name: &dyn Fn(&str) -> String) -> String {
    let s = &view.current.sections;
    let mut out =
        format!("The post-incident report for {} is published.\nRead it in the portal: {url}\n", view.ticket.key());
    for (title, text) in s.titled() {
        if !text.trim().is_empty() {
            out.push_str(&format!("\n## {title}\n\n{}\n", text.trim()));
        }
    }
    if !s.action_items.is_empty() {
        out.push_str("\n## Action items\n\n");
        for i in &s.action_items {
            let due = i.due.map(|d| format!(", due {d}")).unwrap_or_default();
            out.push_str(&format!("- {} (owner: {}{due}; {:?})\n", i.what, name(&i.owner), i.state));
        }
    }
    out.push_str("\n## Timeline (UTC)\n\n");
    for l in view.customer_timeline() {
        let at =
            jiff::Timestamp::from_second(l.at).map(|t| t.strftime("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
        out.push_str(&format!("- {at} {}\n", l.what));
    }
    out.push('\n');
    out.push_str(&crate::ledger::cover::markdown("report", view.ledger_head.as_ref()));
    out
}
