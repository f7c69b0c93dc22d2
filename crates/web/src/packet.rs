//! Welcome packets as this server hands them out: the org's packet
//! ([`stringer_app::packet`]) with the addresses this server is reached at — the portal, the
//! org's support mailbox and the security mailbox (when it takes mail), the P1 line (when it
//! has one) and the org's status page — and posted to the org's admins through the letters'
//! outbox ([`stringer_app::letters`]).

use crate::AppState;
use crate::error::ApiError;
use stringer_app::packet::{Packet, Reachable};
use stringer_app::records::{OrgRecord, UserRecord};

/// How this server is reached.
pub fn reachable(state: &AppState) -> Reachable {
    Reachable {
        public_url: state.public_url.clone(),
        addresses: state.mail_addresses.clone(),
        phone_line: state.phone_line.clone(),
    }
}

/// The packet of `org` (no permission is asked here: the pages ask the policy first; the command line is the operator's).
pub async fn of(state: &AppState, org: &OrgRecord) -> Result<Packet, ApiError> {
    Ok(stringer_app::packet::of(
        state.ports.accounts.as_ref(),
        state.ports.ledger.as_ref(),
        state.contract(),
        org,
        &reachable(state),
    )
    .await?)
}

/// Posts `org`'s packet to `to`, for the engine to mail (durable, retried); answers the
/// addresses it goes to. Refused when the server has no mail relay (`--smtp-url`).
pub async fn mail(state: &AppState, org: &OrgRecord, to: &[UserRecord]) -> Result<Vec<String>, ApiError> {
    if !state.settings.mail_configured {
        return Err(ApiError::unprocessable("the server has no mail relay (--smtp-url) to send the packet with"));
    }
    let addresses: Vec<String> = to.iter().map(|u| u.email.clone()).collect();
    stringer_app::letters::post_packet(state.ports.letters.as_ref(), &org.slug, &addresses, state.now().as_second())
        .await?;
    Ok(addresses)
}
