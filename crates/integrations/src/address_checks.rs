//! The checks of a contact method's address that need an outside system
//! ([`stringer_app::paging::AddressChecks`]): a webhook's host resolves to public addresses
//! only (unless the server allows private webhooks; a name that does not resolve now is
//! accepted, as every send checks again), and Slack confirms a member's email.

use crate::slack::Slack;
use crate::webhook::guard::{Refused, check_url};
use stringer_app::paging::AddressChecks;

/// The address checks over the server's resolver and its Slack app.
pub struct OutsideChecks {
    /// The server allows webhooks to private addresses.
    pub allow_private: bool,
    /// The Slack Web API client, when configured.
    pub slack: Option<Slack>,
}

#[async_trait::async_trait]
impl AddressChecks for OutsideChecks {
    async fn webhook_refused(&self, url: &str) -> Option<String> {
        if self.allow_private {
            return None;
        }
        match check_url(url).await {
            Ok(()) | Err(Refused::Unresolved(_)) => None,
            Err(refused) => Some(refused.to_string()),
        }
    }

    async fn slack_confirms(&self, member: &str, email: &str) -> bool {
        let Some(slack) = &self.slack else { return false };
        match slack.member_email(member).await {
            Ok(found) => found.is_some_and(|found| found.eq_ignore_ascii_case(email)),
            Err(e) => {
                tracing::warn!(error = %e, "Slack could not be asked about a member");
                false
            }
        }
    }
}
