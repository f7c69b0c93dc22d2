//! The checks of a contact method's address that only the front can make, as the tests set
//! them: hosts a webhook may not reach, and the (member, address) pairs Slack confirms.

use crate::paging::AddressChecks;
use async_trait::async_trait;

/// Webhook hosts refused, and the Slack members whose address Slack confirms.
#[derive(Default)]
pub struct Checks {
    /// Hosts that are, or resolve to, private addresses.
    pub private_hosts: Vec<String>,
    /// (member, email address) Slack confirms.
    pub confirmed: Vec<(String, String)>,
}

#[async_trait]
impl AddressChecks for Checks {
    async fn webhook_refused(&self, url: &str) -> Option<String> {
        let host = url.split("://").nth(1)?.split(['/', ':']).next()?;
        self.private_hosts.iter().any(|h| h == host).then(|| format!("{host} is a private address"))
    }

    async fn slack_confirms(&self, member: &str, email: &str) -> bool {
        self.confirmed.iter().any(|(m, e)| m == member && e == email)
    }
}
