//! Wiring: the SQL store behind every port the web front and the Slack integration use.

use std::sync::Arc;
use stringer_app::act::TicketDesk;
use stringer_app::chat::ChatDesk;
use stringer_app::ports::Commands;
use stringer_integrations::slack::inbound::Inbound;
use stringer_store::SqlStore;
use stringer_web::Ports;

/// The application's ports over `store`, changing tickets through `commands` (the Desk).
pub fn ports(store: &SqlStore, commands: Arc<dyn Commands>) -> Ports {
    let store = Arc::new(store.clone());
    Ports {
        commands,
        queries: store.clone(),
        accounts: store.clone(),
        oncall: store.clone(),
        inquiries: store.clone(),
        files: store.clone(),
        mailroom: store.clone(),
        alerts: store.clone(),
        chat: store.clone(),
        phone: store.clone(),
        status: store.clone(),
        reports: store.clone(),
        reporting: store.clone(),
        review_book: store.clone(),
        letters: store.clone(),
        history: store.clone(),
        ledger: store.clone(),
        ledger_audit: store.clone(),
        safeguards: store,
    }
}

/// The Slack app's inbound side, acting through the same ports.
pub fn slack_inbound(
    ports: &Ports,
    tickets: TicketDesk,
    signing_secret: String,
    desk: Option<Arc<ChatDesk>>,
) -> Inbound {
    Inbound {
        signing_secret,
        tickets,
        accounts: ports.accounts.clone(),
        oncall: ports.oncall.clone(),
        safeguards: ports.safeguards.clone(),
        chat: ports.chat.clone(),
        desk,
    }
}
