//! Small value types for the names the domain passes around. Severity and tier names are data
//! (defined by the contract file); they are checked against the contract at the edges.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The name as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }
    };
}

name_type!(
    /// A severity name from the contract, e.g. "P1".
    Severity
);
name_type!(
    /// A tier name from the contract, e.g. "pro".
    Tier
);
name_type!(
    /// A ticket's identifier.
    TicketId
);
name_type!(
    /// An org's slug, e.g. "acme".
    OrgSlug
);
name_type!(
    /// A user's identifier.
    UserId
);

/// A ticket's human key, e.g. `ACME-42`: its org's slug in capitals and its number within
/// the org. Shown everywhere people read tickets; accepted wherever a ticket id is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TicketKey {
    /// The org.
    pub org: OrgSlug,
    /// The ticket's number in its org, from 1.
    pub number: i64,
}

impl TicketKey {
    /// Reads a key: an org slug in capitals (letters, digits, dashes), a dash, and a number
    /// without leading zeros.
    pub fn parse(text: &str) -> Option<TicketKey> {
        let (prefix, number) = text.rsplit_once('-')?;
        let digits_ok = !number.is_empty() && number.len() <= 18 && !number.starts_with('0');
        let number: i64 = number.parse().ok().filter(|_| digits_ok)?;
        let prefix_ok = (2..=40).contains(&prefix.len())
            && prefix.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
            && !prefix.starts_with('-');
        prefix_ok.then(|| TicketKey { org: OrgSlug(prefix.to_ascii_lowercase()), number })
    }
}

impl fmt::Display for TicketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.org.as_str().to_ascii_uppercase(), self.number)
    }
}

/// Who a page or alert goes to. Routing a role to a person is the application's job
/// (on-call schedules, the org's TAM).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The on-call engineer (the org's named engineer for Enterprise, the platform rotation otherwise).
    Oncall,
    /// The org's technical account manager.
    Tam,
    /// The VP of Engineering (critical path).
    VpEngineering,
    /// The support lead.
    SupportLead,
}

impl Role {
    /// The name used in files and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Oncall => "oncall",
            Role::Tam => "tam",
            Role::VpEngineering => "vp_engineering",
            Role::SupportLead => "support_lead",
        }
    }
}

/// A user's role: one of the vendor's staff roles, or a customer role within an org.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    /// A support engineer.
    Engineer,
    /// A platform engineer (joins security incident bridges).
    PlatformEngineer,
    /// A technical account manager.
    Tam,
    /// The VP of Engineering (critical path).
    VpEngineering,
    /// The support lead.
    SupportLead,
    /// A staff administrator.
    Admin,
    /// A customer org's member.
    Member,
    /// A customer org's administrator (manages the org's users).
    OrgAdmin,
}

impl UserRole {
    /// Every role, staff first.
    pub const ALL: [UserRole; 8] = [
        UserRole::Engineer,
        UserRole::PlatformEngineer,
        UserRole::Tam,
        UserRole::VpEngineering,
        UserRole::SupportLead,
        UserRole::Admin,
        UserRole::Member,
        UserRole::OrgAdmin,
    ];

    /// The name used in files, JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Engineer => "engineer",
            UserRole::PlatformEngineer => "platform_engineer",
            UserRole::Tam => "tam",
            UserRole::VpEngineering => "vp_engineering",
            UserRole::SupportLead => "support_lead",
            UserRole::Admin => "admin",
            UserRole::Member => "member",
            UserRole::OrgAdmin => "org_admin",
        }
    }

    /// What the pages call it: "Platform engineer", "VP of Engineering".
    pub fn label(self) -> &'static str {
        match self {
            UserRole::Engineer => "Engineer",
            UserRole::PlatformEngineer => "Platform engineer",
            UserRole::Tam => "Technical account manager",
            UserRole::VpEngineering => "VP of Engineering",
            UserRole::SupportLead => "Support lead",
            UserRole::Admin => "Administrator",
            UserRole::Member => "Member",
            UserRole::OrgAdmin => "Org administrator",
        }
    }

    /// The role of that name.
    pub fn parse(name: &str) -> Option<UserRole> {
        UserRole::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// A role of the vendor's staff (as opposed to a customer's).
    pub fn is_staff(self) -> bool {
        !matches!(self, UserRole::Member | UserRole::OrgAdmin)
    }
}

impl fmt::Display for UserRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an org's platform is deployed; dedicated and federal orgs get their own status page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Deployment {
    Shared,
    Dedicated,
    Federal,
}

/// Where a request came in (written `channel` in JSON, as support desks call it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Intake {
    Portal,
    Email,
    Slack,
    Phone,
    Api,
    /// Opened by a monitoring alert (an integration key).
    Alert,
}

/// Where a page is delivered besides the paged person's own contact methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The org's shared channel (a Slack channel today). Contract files and stored notices
    /// write it `org_slack_channel`, the seed contract's word.
    #[serde(rename = "org_slack_channel")]
    OrgChannel,
    /// The paged person's own contact methods (mail, Slack DM, SMS, voice, webhook).
    ContactMethods,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_keys_read_and_write_back() {
        let key = TicketKey::parse("ACME-42").unwrap();
        assert_eq!((key.org.as_str(), key.number), ("acme", 42));
        assert_eq!(key.to_string(), "ACME-42");
        let dashed = TicketKey::parse("BOLT-LABS-7").unwrap();
        assert_eq!((dashed.org.as_str(), dashed.number), ("bolt-labs", 7));
        for bad in ["acme-42", "ACME-042", "ACME-", "-42", "ACME42", "A-1", "ACME-1x", "tkt_01M8MNX17GASHHJM2ZY0Q8696C"]
        {
            assert_eq!(TicketKey::parse(bad), None, "{bad}");
        }
    }
}
