//! Delivery adapters: how a claimed delivery leaves the building — signed webhooks, Slack
//! direct messages ([`slack`]), mail over SMTP ([`mail`]), and SMS or voice calls through a
//! Twilio-compatible API ([`phone`]) — chosen per contact method by [`Channels`].
//!
//! A webhook is a JSON `POST` with headers `Stringer-Timestamp` (Unix seconds),
//! `Stringer-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` and
//! `Idempotency-Key` (the delivery's key, the same on every retry). Receivers verify the
//! signature in constant time and reject stale timestamps. Outbound URLs are refused when
//! they resolve to loopback, private, link-local or otherwise internal addresses, unless the
//! operator allows them (`allow_private`).

#![warn(missing_docs)]

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::IpAddr;
use std::time::Duration;
pub mod mail;
pub mod phone;
pub mod slack;

use stringer_app::delivery::{Delivery, MethodKind, SendError, Sender};

/// The signature over a webhook body: hex HMAC-SHA256 of `"<timestamp>.<body>"`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks a signature in constant time (for receivers, and Stringer's own tests).
pub fn verify(secret: &str, timestamp: i64, body: &str, signature_hex: &str) -> bool {
    let Ok(given) = hex::decode(signature_hex) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// Whether an address is internal: loopback, private, link-local, unique-local, CGNAT,
/// unspecified, broadcast, documentation or multicast.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

/// Sends webhooks.
#[derive(Clone, Debug)]
pub struct Webhooks {
    client: reqwest::Client,
    allow_private: bool,
}

impl Webhooks {
    /// A sender; `allow_private` permits internal addresses (tests, on-premises receivers).
    pub fn new(allow_private: bool) -> Webhooks {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client builds");
        Webhooks { client, allow_private }
    }

    async fn check_destination(&self, url: &reqwest::Url) -> Result<(), SendError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SendError::Permanent(format!("unsupported URL scheme {:?}", url.scheme())));
        }
        if self.allow_private {
            return Ok(());
        }
        let host = url.host_str().ok_or_else(|| SendError::Permanent("the URL has no host".into()))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| SendError::Temporary(format!("cannot resolve {host}: {e}")))?;
        for addr in addrs {
            if is_internal(addr.ip()) {
                return Err(SendError::Permanent(format!(
                    "{host} resolves to the internal address {}; refused",
                    addr.ip()
                )));
            }
        }
        Ok(())
    }
}

impl Webhooks {
    /// Posts one signed webhook.
    pub async fn send(&self, d: &Delivery) -> Result<(), SendError> {
        let url = reqwest::Url::parse(&d.address).map_err(|e| SendError::Permanent(format!("bad URL: {e}")))?;
        self.check_destination(&url).await?;
        let timestamp = jiff::Timestamp::now().as_second();
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("Stringer-Timestamp", timestamp.to_string())
            .header("Stringer-Signature", format!("v1={}", signature(&d.secret, timestamp, &d.payload)))
            .header("Idempotency-Key", &d.id)
            .body(d.payload.clone())
            .send()
            .await
            .map_err(|e| SendError::Temporary(format!("request failed: {e}")))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            Err(SendError::Temporary(format!("receiver answered {status}")))
        } else {
            Err(SendError::Permanent(format!("receiver answered {status}")))
        }
    }
}

/// Every configured channel; sends each delivery over its contact method's kind.
#[derive(Clone, Debug)]
pub struct Channels {
    /// Webhooks (always available).
    pub webhooks: Webhooks,
    /// The Slack app, when a bot token is configured.
    pub slack: Option<slack::Slack>,
    /// The SMTP relay, when configured.
    pub mail: Option<mail::Mail>,
    /// The SMS/voice provider, when configured.
    pub phone: Option<phone::Phone>,
}

fn unconfigured(what: &str, flag: &str) -> SendError {
    SendError::Permanent(format!("{what} is not configured on this server ({flag})"))
}

impl Sender for Channels {
    async fn send(&self, d: &Delivery) -> Result<Option<String>, SendError> {
        match d.kind {
            MethodKind::Webhook => self.webhooks.send(d).await.map(|()| None),
            MethodKind::Slack => match &self.slack {
                Some(slack) => slack.send(d).await.map(Some),
                None => Err(unconfigured("Slack", "--slack-token")),
            },
            MethodKind::Email => match &self.mail {
                Some(mail) => mail.send(d).await.map(|()| None),
                None => Err(unconfigured("Mail", "--smtp-url")),
            },
            MethodKind::Sms | MethodKind::Voice => match &self.phone {
                Some(phone) => phone.send(d).await.map(|()| None),
                None => Err(unconfigured("SMS and voice", "--sms-account")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_tampering_fails() {
        let sig = signature("k3y", 1_764_000_000, "{\"a\":1}");
        assert!(verify("k3y", 1_764_000_000, "{\"a\":1}", &sig));
        assert!(!verify("k3y", 1_764_000_001, "{\"a\":1}", &sig));
        assert!(!verify("other", 1_764_000_000, "{\"a\":1}", &sig));
        assert!(!verify("k3y", 1_764_000_000, "{\"a\":2}", &sig));
        assert!(!verify("k3y", 1_764_000_000, "{\"a\":1}", "zz"));
    }

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn internal_destinations_are_refused_unless_allowed() {
        let d = Delivery {
            id: "dlv_1".into(),
            ticket: "T1".into(),
            kind: MethodKind::Webhook,
            address: "http://127.0.0.1:9/hook".into(),
            secret: "s".into(),
            payload: "{}".into(),
            attempts: 0,
            is_page: true,
        };
        match Webhooks::new(false).send(&d).await {
            Err(SendError::Permanent(e)) => assert!(e.contains("internal address"), "{e}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        let mut ftp = d.clone();
        ftp.address = "ftp://example.com/x".into();
        assert!(matches!(Webhooks::new(true).send(&ftp).await, Err(SendError::Permanent(_))));
        // Allowed, but nothing listens on port 9: a temporary failure, worth retrying.
        assert!(matches!(Webhooks::new(true).send(&d).await, Err(SendError::Temporary(_))));
    }
}
