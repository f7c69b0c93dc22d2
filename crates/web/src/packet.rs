//! Welcome packets as this server hands them out: the org's packet
//! ([`stringer_app::packet`]) with the addresses this server is reached at — the portal, the
//! org's support mailbox and the security mailbox (when it takes mail), the P1 line (when it
//! has one) and the org's status page.

use crate::AppState;
use crate::error::ApiError;
use stringer_app::packet::{Packet, Reach, packet};
use stringer_app::records::OrgRecord;
use stringer_app::records::UserRecord;
use stringer_core::ids::{Deployment, OrgSlug};

/// The packet of `org` (no permission is asked here: the pages ask the policy first; the command line is the operator's).
pub async fn of(state: &AppState, org: &OrgRecord) -> Result<Packet, ApiError> {
    let base = state.public_url.trim_end_matches('/');
    let addresses = state.mail_addresses.as_ref();
    let reach = Reach {
        portal: format!("{base}/portal"),
        support_mail: addresses.and_then(|a| a.org_address(&OrgSlug::from(org.email_tag.as_str()))),
        security_mail: addresses.and_then(|a| a.domains.first().map(|d| format!("{}@{d}", a.security))),
        phone_line: state.phone_line.clone(),
        status_page: match org.deployment {
            Deployment::Shared => format!("{base}/status"),
            _ => format!("{base}/status/{}", org.slug),
        },
    };
    let tam = match &org.tam {
        Some(id) => state.ports.accounts.user(id).await?,
        None => None,
    };
    let mut engineers = Vec::new();
    for id in &org.named_engineers {
        if let Some(user) = state.ports.accounts.user(id).await? {
            engineers.push(user);
        }
    }
    Ok(packet(state.contract(), org, tam.as_ref(), &engineers, reach))
}

/// Mails `org`'s packet to `to` (its Markdown as the text); answers the addresses it went to.
/// Without a mail relay (`--smtp-url`) nothing is sent.
pub async fn mail(state: &AppState, org: &OrgRecord, to: &[UserRecord]) -> Result<Vec<String>, ApiError> {
    let Some(relay) = &state.mail else {
        return Err(ApiError::unprocessable("the server has no mail relay (--smtp-url) to send the packet with"));
    };
    let packet = of(state, org).await?;
    let subject = format!("Welcome to {} support, {}: your welcome packet", packet.tier, packet.org);
    let body = stringer_app::packet::markdown(&packet);
    let mut sent = Vec::new();
    for user in to {
        relay.send_text(&user.email, &subject, body.clone()).await.map_err(|e| {
            tracing::warn!(org = %org.slug, "a welcome packet could not be mailed: {e}");
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "the mail relay did not take the message; try again",
            )
        })?;
        sent.push(user.email.clone());
    }
    Ok(sent)
}
