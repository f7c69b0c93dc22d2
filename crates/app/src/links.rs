//! One-click acknowledgement links for notifications: `/ack/<token>`, where the token names
//! the ticket, the person and an expiry, signed with HMAC-SHA256 under the server's key
//! (kept in the database so every instance and every restart agrees). A link does one thing
//! — acknowledge that ticket as that person — and stops working when it expires.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;
use stringer_core::ids::TicketId;

/// How long a link works.
pub const LINK_TTL_SECONDS: i64 = 24 * 3600;
const PURPOSE: &str = "ack";

/// Signs and checks acknowledgement links.
#[derive(Clone)]
pub struct AckLinks {
    key: Vec<u8>,
    base: String,
}

impl AckLinks {
    /// Links under `base` (e.g. `https://support.example.com`), signed with `key`.
    pub fn new(key: &str, base: &str) -> AckLinks {
        AckLinks { key: key.as_bytes().to_vec(), base: base.trim_end_matches('/').to_string() }
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        mac
    }

    /// The token acknowledging `ticket` as `user`, valid until `expires`.
    pub fn token(&self, ticket: &TicketId, user: &str, expires: Timestamp) -> String {
        let payload = format!("{PURPOSE}|{ticket}|{user}|{}", expires.as_second());
        let sig = self.mac(&payload).finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(sig))
    }

    /// The ticket and user a token acknowledges for, if it is genuine and unexpired at `now`
    /// (the signature is checked in constant time).
    pub fn verify(&self, token: &str, now: Timestamp) -> Option<(TicketId, String)> {
        let (payload, sig) = token.split_once('.')?;
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        self.mac(&payload).verify_slice(&sig).ok()?;
        let mut parts = payload.split('|');
        let (purpose, ticket, user, expires) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if purpose != PURPOSE || parts.next().is_some() || expires.parse::<i64>().ok()? < now.as_second() {
            return None;
        }
        Some((TicketId::from(ticket), user.to_string()))
    }
}

impl AckLinks {
    /// The address of one of the server's pages, e.g. `/console/tickets/ACME-42`.
    pub fn page_url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The link acknowledging `ticket` as `user`, made at `now` and working for
    /// [`LINK_TTL_SECONDS`].
    pub fn ack_url(&self, ticket: &TicketId, user: &str, now: Timestamp) -> String {
        let expires = now + jiff::SignedDuration::from_secs(LINK_TTL_SECONDS);
        format!("{}/ack/{}", self.base, self.token(ticket, user, expires))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_verify_only_when_genuine_and_fresh() {
        let links = AckLinks::new("server-key", "https://desk.example/");
        let now: Timestamp = "2026-11-27T10:00:00Z".parse().unwrap();
        let later = now + jiff::SignedDuration::from_secs(60);
        let token = links.token(&TicketId::from("tkt_1"), "usr_1", later);
        assert_eq!(links.verify(&token, now), Some((TicketId::from("tkt_1"), "usr_1".into())));
        assert_eq!(links.verify(&token, later + jiff::SignedDuration::from_secs(1)), None, "expired");
        assert_eq!(AckLinks::new("other-key", "x").verify(&token, now), None, "other key");
        let (payload, sig) = token.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(format!("ack|tkt_2|usr_1|{}", later.as_second()));
        assert_eq!(links.verify(&format!("{forged}.{sig}"), now), None, "payload swapped");
        assert_eq!(links.verify(payload, now), None);
        assert_eq!(links.verify("", now), None);
        let resolve = URL_SAFE_NO_PAD.encode(format!("resolve|tkt_1|usr_1|{}", later.as_second()));
        let sig = URL_SAFE_NO_PAD.encode(
            links
                .mac(&URL_SAFE_NO_PAD.decode(&resolve).map(|b| String::from_utf8(b).unwrap()).unwrap())
                .finalize()
                .into_bytes(),
        );
        assert_eq!(links.verify(&format!("{resolve}.{sig}"), now), None, "single purpose");
    }
}
