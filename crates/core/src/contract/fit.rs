//! Whether stored data fits a contract: every org's tier and every open ticket's tier and
//! severity must be the contract's, or the server refuses to start with it (and
//! `stringer contract check FILE --database URL` says so), naming what is missing and what
//! uses it.

use super::{Contract, Uncovered};
use crate::ids::{Severity, Tier};
use std::fmt;

/// A tier or severity stored data uses that the contract lacks, with what uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Misfit {
    /// What the contract lacks.
    pub missing: Uncovered,
    /// What uses it, as people name it: `org bolt`, `ticket BOLT-2`.
    pub used_by: Vec<String>,
}

impl fmt::Display for Misfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, used by {}", self.missing, self.used_by.join(", "))
    }
}

/// A stored org: its slug and tier.
pub type StoredOrg = (String, Tier);
/// A stored open ticket: its key, tier and severity.
pub type StoredTicket = (String, Tier, Severity);

impl Contract {
    /// What in the stored orgs and open tickets the contract does not cover, one entry per
    /// missing tier or severity in the order first met (orgs first); empty when all fits.
    pub fn misfits(&self, orgs: &[StoredOrg], open_tickets: &[StoredTicket]) -> Vec<Misfit> {
        let mut found: Vec<Misfit> = Vec::new();
        let mut note = |missing: Uncovered, user: String| match found.iter_mut().find(|m| m.missing == missing) {
            Some(m) => m.used_by.push(user),
            None => found.push(Misfit { missing, used_by: vec![user] }),
        };
        for (slug, tier) in orgs {
            if let Err(missing) = self.tier_def(tier) {
                note(missing, format!("org {slug}"));
            }
        }
        for (key, tier, severity) in open_tickets {
            for missing in [self.tier_def(tier).err(), self.rank(severity).err()].into_iter().flatten() {
                note(missing, format!("ticket {key}"));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_missing_tier_and_severity_with_what_uses_it() {
        let c = Contract::default_contract();
        let orgs = [("acme".to_string(), Tier::from("enterprise")), ("bolt".to_string(), Tier::from("gold"))];
        let tickets = [
            ("ACME-1".to_string(), Tier::from("enterprise"), Severity::from("P1")),
            ("BOLT-2".to_string(), Tier::from("gold"), Severity::from("P0")),
            ("ACME-3".to_string(), Tier::from("enterprise"), Severity::from("P0")),
        ];
        let found = c.misfits(&orgs, &tickets);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].to_string(), "the contract in force has no tier \"gold\", used by org bolt, ticket BOLT-2");
        assert_eq!(
            found[1].to_string(),
            "the contract in force has no severity \"P0\", used by ticket BOLT-2, ticket ACME-3"
        );
        assert!(c.misfits(&orgs[..1], &tickets[..1]).is_empty());
    }
}
