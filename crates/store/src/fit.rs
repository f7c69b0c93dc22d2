//! The names stored data uses that a contract must cover: every org's tier, every open
//! ticket's tier and severity (read by `stringer serve` before it starts, and by
//! `stringer contract check FILE --database URL`).

use crate::SqlStore;
use crate::rows::RowExt;
use stringer_app::StoreError;
use stringer_core::contract::{StoredOrg, StoredTicket};
use stringer_core::ids::{OrgSlug, Severity, TicketKey, Tier};

impl SqlStore {
    /// Every org with its tier, and every ticket not resolved with its key, the tier it was
    /// opened at (kept in its state) and its severity.
    pub async fn names_in_use(&self) -> Result<(Vec<StoredOrg>, Vec<StoredTicket>), StoreError> {
        let orgs = self
            .rows(sqlx::query("SELECT slug, tier FROM orgs ORDER BY slug"), |r| {
                Ok((r.col::<String>("slug")?, Tier(r.col("tier")?)))
            })
            .await?;
        let sql = "SELECT org, number, severity, state FROM tickets WHERE status <> 'resolved' ORDER BY org, number";
        let tickets = self
            .rows(sqlx::query(sql), |r| {
                let key = TicketKey { org: OrgSlug(r.col("org")?), number: r.col("number")? };
                let state: serde_json::Value = r.json("state")?;
                let tier = state["tier"].as_str().unwrap_or_default();
                Ok((key.to_string(), Tier::from(tier), Severity(r.col("severity")?)))
            })
            .await?;
        Ok((orgs, tickets))
    }
}
