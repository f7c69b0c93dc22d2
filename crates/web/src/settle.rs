//! Settling page messages: once an acknowledgement, a resolution or a lower severity ends
//! paging for a ticket — from the API, a one-click link or a Slack button — every Slack
//! message that paged for it is updated to say who took it (or why paging stopped), and
//! loses its buttons, as paging tools do. Best effort:
//! a message that cannot be updated (or an instance that dies first) leaves the message as
//! it was, and pressing its buttons then does nothing more than say so.

use crate::AppState;
use stringer_app::Recorded;
use stringer_core::event::Event;
use stringer_notify::slack::Slack;

/// Starts settling the ticket's messages when `event` ended its paging; returns at once.
pub fn after(state: &AppState, event: &Event, actor: Option<&str>, recorded: &Recorded) {
    let done = match event {
        Event::Acknowledged { .. } => "Acknowledged".to_string(),
        Event::Resolved { .. } => "Resolved".to_string(),
        Event::SeverityChanged { severity, .. } => format!("Paging stopped: severity changed to {severity}"),
        _ => return,
    };
    let Some(slack) = state.slack_client.clone() else { return };
    if !recorded.ticket.paging_over() {
        return;
    }
    let (store, ticket, actor, at) =
        (state.store.clone(), recorded.ticket.id.to_string(), actor.map(String::from), state.now().as_second());
    tokio::spawn(async move {
        let who = match &actor {
            Some(id) => store.get_user(id).await.ok().flatten().map(|u| u.name),
            None => None,
        };
        let outcome = who.map_or_else(|| done.clone(), |name| format!("{done} by {name}"));
        let messages = match store.unsettled_messages(&ticket).await {
            Ok(messages) => messages,
            Err(e) => return tracing::warn!(error = %e, ticket, "could not read the page messages to settle"),
        };
        for m in messages {
            let settled = slack.settle(&m.receipt, &Slack::page_text(&m.payload, &ticket), &outcome).await;
            match settled {
                Ok(()) => {
                    if let Err(e) = store.mark_settled(&m.id, at).await {
                        tracing::warn!(error = %e, delivery = m.id, "could not record a settled message");
                    }
                }
                Err(e) => tracing::warn!(error = %e, delivery = m.id, "could not settle a Slack page message"),
            }
        }
    });
}
