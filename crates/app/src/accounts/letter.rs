//! A mail about an account, as the outbox keeps it: what it carries (a password link, an
//! invitation, the notice to an address that holds an account already) by the link's id and
//! expiry only, and how a link is signed when it is sent — nothing secret is stored. A leaf
//! module: the ports name these types, so it imports no desk.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use stringer_core::ids::OrgSlug;

/// What a link is for; an invitation lives longer than a reset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A new account's first password.
    Invitation,
    /// A forgotten password.
    Reset,
}

impl Purpose {
    /// Its name in the store and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Invitation => "invitation",
            Purpose::Reset => "reset",
        }
    }

    /// The purpose named `name` in the API.
    pub fn parse(name: &str) -> Option<Purpose> {
        match name {
            "invitation" => Some(Purpose::Invitation),
            "reset" => Some(Purpose::Reset),
            _ => None,
        }
    }

    /// How long a link works.
    pub fn seconds(self) -> i64 {
        match self {
            Purpose::Invitation => 7 * 86_400,
            Purpose::Reset => 3600,
        }
    }
}

/// What an account letter carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Carries {
    /// A password link (`pwl_…`) to an account, for its first password or a reset.
    PasswordLink {
        /// The link's id.
        link: String,
        /// When it expires.
        expires: i64,
        /// What it is for.
        purpose: Purpose,
    },
    /// An org's invitation (`inv_…`): following its link makes the account.
    Invitation {
        /// The invitation's id.
        invitation: String,
        /// When it expires.
        expires: i64,
    },
    /// The notice to an address that holds an account already and was invited to an org
    /// (the invitation's id): no link.
    Held {
        /// The invitation's id.
        invitation: String,
    },
}

impl Carries {
    /// The id of the link or invitation it is about.
    pub fn subject(&self) -> &str {
        match self {
            Carries::PasswordLink { link, .. } => link,
            Carries::Invitation { invitation, .. } | Carries::Held { invitation } => invitation,
        }
    }
}

/// A mail about an account to one address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountLetter {
    /// Its id, derived from the link's: a link is mailed once.
    pub id: String,
    /// The address.
    pub to: String,
    /// The org an invitation is into (none for a password link).
    pub org: Option<OrgSlug>,
    /// What it carries.
    pub carries: Carries,
    /// Attempts so far.
    pub attempts: i64,
}

impl AccountLetter {
    /// The letter mailing `carries` to `to`, its id derived from the link's.
    pub fn new(to: &str, org: Option<OrgSlug>, carries: Carries) -> AccountLetter {
        let id = format!("aml_{}", carries.subject());
        AccountLetter { id, to: to.to_string(), org, carries, attempts: 0 }
    }
}

/// The HMAC-SHA256 under `key` of a link's id and expiry, in hex.
pub(super) fn signature(key: &str, id: &str, expires: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{id}.{expires}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The signed link for the id `id` expiring at `expires`, under `key`, on the server at
/// `public_url`: `/password/ID.EXPIRES.SIGNATURE`.
pub fn signed_link(public_url: &str, key: &str, id: &str, expires: i64) -> String {
    format!("{}/password/{id}.{expires}.{}", public_url.trim_end_matches('/'), signature(key, id, expires))
}
