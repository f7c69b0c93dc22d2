//! Webhooks: a JSON `POST` with headers `Stringer-Timestamp` (Unix seconds),
//! `Stringer-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` and
//! `Idempotency-Key` (the delivery's key, the same on every retry). Receivers verify the
//! signature in constant time and reject stale timestamps. Outbound URLs are refused when
//! they are or resolve to internal addresses ([`guard`]), unless the operator allows them
//! (`allow_private`).

pub mod guard;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;
use stringer_app::Clock;
use stringer_app::delivery::{Parcel, SendError};

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

/// Sends webhooks, signed as of its clock's now.
#[derive(Clone)]
pub struct Webhooks {
    client: reqwest::Client,
    allow_private: bool,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks").field("allow_private", &self.allow_private).finish_non_exhaustive()
    }
}

/// Refuses a destination that is not a public http(s) address, unless `allow_private`
/// permits internal ones (a name's addresses are checked again by the client's resolver,
/// which connects to exactly those).
pub async fn check_destination(url: &str, allow_private: bool) -> Result<(), guard::Refused> {
    if allow_private {
        let parsed = reqwest::Url::parse(url).map_err(|e| guard::Refused::BadUrl(format!("not a URL: {e}")))?;
        return match (parsed.scheme(), parsed.host_str()) {
            ("http" | "https", Some(_)) => Ok(()),
            _ => Err(guard::Refused::BadUrl("an http(s) URL with a host".into())),
        };
    }
    guard::check_url(url).await
}

impl Webhooks {
    /// A sender signing as of `clock`; `allow_private` permits internal addresses (tests,
    /// on-premises receivers).
    pub fn new(allow_private: bool, clock: Arc<dyn Clock>) -> Webhooks {
        let mut builder =
            reqwest::Client::builder().timeout(Duration::from_secs(10)).redirect(reqwest::redirect::Policy::none());
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(guard::GuardedResolver));
        }
        Webhooks { client: builder.build().expect("the HTTP client builds"), allow_private, clock }
    }
}

impl Webhooks {
    /// Posts a delivery's parcel as one signed webhook, under its delivery's `id`.
    pub async fn send(&self, id: &str, p: &Parcel) -> Result<(), SendError> {
        self.destination(&p.address).await?;
        let timestamp = self.clock.now().as_second();
        let signature = format!("v1={}", signature(&p.secret, timestamp, &p.payload));
        let headers = [("Stringer-Timestamp", timestamp.to_string()), ("Stringer-Signature", signature)];
        self.post(&p.address, id, &p.payload, &headers).await
    }

    /// Posts a JSON body to `url` with an `Idempotency-Key` and these extra headers; the
    /// answer as a [`SendError`] (5xx, 408 and 429 are worth retrying).
    pub async fn post(&self, url: &str, id: &str, body: &str, headers: &[(&str, String)]) -> Result<(), SendError> {
        let url = reqwest::Url::parse(url).map_err(|e| SendError::Permanent(format!("bad URL: {e}")))?;
        let mut request =
            self.client.post(url).header("content-type", "application/json").header("Idempotency-Key", id);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request
            .body(body.to_string())
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

    /// Posts a status page's webhook (Statuspage's payload, unsigned as Statuspage's are)
    /// to a subscriber, refusing internal destinations as for any webhook.
    pub async fn post_status(&self, url: &str, id: &str, payload: &str) -> Result<(), SendError> {
        self.destination(url).await?;
        self.post(url, id, payload, &[]).await
    }

    /// Whether a destination may be posted to, as a [`SendError`].
    async fn destination(&self, url: &str) -> Result<(), SendError> {
        match check_destination(url, self.allow_private).await {
            Ok(()) => Ok(()),
            Err(guard::Refused::Unresolved(host)) => Err(SendError::Temporary(format!("cannot resolve {host}"))),
            Err(refused) => Err(SendError::Permanent(refused.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stringer_app::delivery::{MethodKind, Urgency};

    #[test]
    fn signatures_verify_and_tampering_fails() {
        let sig = signature("k3y", 1_764_000_000, "{\"a\":1}");
        assert!(verify("k3y", 1_764_000_000, "{\"a\":1}", &sig));
        assert!(!verify("k3y", 1_764_000_001, "{\"a\":1}", &sig));
        assert!(!verify("other", 1_764_000_000, "{\"a\":1}", &sig));
        assert!(!verify("k3y", 1_764_000_000, "{\"a\":2}", &sig));
        assert!(!verify("k3y", 1_764_000_000, "{\"a\":1}", "zz"));
    }

    fn webhooks(allow_private: bool) -> Webhooks {
        Webhooks::new(allow_private, Arc::new(stringer_app::VirtualClock::new(jiff::Timestamp::UNIX_EPOCH)))
    }

    #[tokio::test]
    async fn internal_destinations_are_refused_unless_allowed() {
        let d = Parcel {
            ticket: "T1".into(),
            kind: MethodKind::Webhook,
            address: "http://127.0.0.1:9/hook".into(),
            secret: "s".into(),
            urgency: Urgency::Page,
            payload: "{}".into(),
        };
        match webhooks(false).send("dlv_1", &d).await {
            Err(SendError::Permanent(e)) => assert!(e.contains("internal address"), "{e}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        let mut ftp = d.clone();
        ftp.address = "ftp://example.com/x".into();
        assert!(matches!(webhooks(true).send("dlv_1", &ftp).await, Err(SendError::Permanent(_))));
        // Allowed, but nothing listens on port 9: a temporary failure, worth retrying.
        assert!(matches!(webhooks(true).send("dlv_1", &d).await, Err(SendError::Temporary(_))));
    }
}
