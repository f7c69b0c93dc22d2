//! The Twilio-compatible telephony provider, both directions. Out: SMS and calls that read
//! a page aloud ([`Phone`], through the REST API at a configurable base URL: `…/Messages.json`
//! and `…/Calls.json` with TwiML `<Say>`; the delivery's idempotency key goes in
//! `I-Twilio-Idempotency-Token` and `Idempotency-Key`). In: the P1 line's calls
//! ([`inbound`], checked by [`signature`], answered in [`twiml`]).

pub mod inbound;
pub mod signature;
pub mod twiml;

use std::time::Duration;
use stringer_app::delivery::{MethodKind, NoticePayload, Parcel, SendError};

/// An account at a Twilio-compatible provider.
#[derive(Clone, Debug)]
pub struct Phone {
    client: reqwest::Client,
    base: String,
    account: String,
    token: String,
    from: String,
}

impl Phone {
    /// The account `account` (auth `token`) at `base` (e.g. `https://api.twilio.com`), sending from `from`.
    pub fn new(base: &str, account: &str, token: &str, from: &str) -> Phone {
        let client =
            reqwest::Client::builder().timeout(Duration::from_secs(15)).build().expect("the HTTP client builds");
        Phone {
            client,
            base: base.trim_end_matches('/').to_string(),
            account: account.into(),
            token: token.into(),
            from: from.into(),
        }
    }

    fn text(p: &Parcel) -> String {
        let payload = NoticePayload::read(&p.payload);
        let s = crate::PageSummary::read(&payload, p.ticket.as_str());
        let mut text = format!("Stringer page: {}. Why: {}.", s.headline(), s.reason);
        if p.kind == MethodKind::Sms
            && let Some(link) = &payload.ack_url
        {
            text.push_str(&format!(" Ack: {link}"));
        }
        text
    }

    fn escape_xml(s: &str) -> String {
        s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
    }

    /// Sends a delivery's parcel as an SMS or a call, under the delivery's `id`.
    pub async fn send(&self, id: &str, p: &Parcel) -> Result<(), SendError> {
        let text = Phone::text(p);
        let (resource, form) = match p.kind {
            MethodKind::Voice => {
                let twiml = format!("<Response><Say>{}</Say></Response>", Phone::escape_xml(&text));
                ("Calls", vec![("To", p.address.clone()), ("From", self.from.clone()), ("Twiml", twiml)])
            }
            _ => ("Messages", vec![("To", p.address.clone()), ("From", self.from.clone()), ("Body", text)]),
        };
        self.post(resource, &form, id).await
    }

    /// Sends the SMS `body` to `to` (E.164) — not a page: e.g. the code that confirms a
    /// phone number is its user's. `key` is the provider's idempotency key.
    pub async fn send_text(&self, to: &str, body: &str, key: &str) -> Result<(), SendError> {
        let form = vec![("To", to.to_string()), ("From", self.from.clone()), ("Body", body.to_string())];
        self.post("Messages", &form, key).await
    }

    /// Posts a form to one of the account's REST resources (`Messages`, `Calls`).
    async fn post(&self, resource: &str, form: &[(&str, String)], key: &str) -> Result<(), SendError> {
        let url = format!("{}/2010-04-01/Accounts/{}/{resource}.json", self.base, self.account);
        let response = self
            .client
            .post(url)
            .basic_auth(&self.account, Some(&self.token))
            .header("I-Twilio-Idempotency-Token", key)
            .header("Idempotency-Key", key)
            .form(form)
            .send()
            .await
            .map_err(|e| SendError::Temporary(format!("provider request failed: {e}")))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_server_error() || status.as_u16() == 429 {
            Err(SendError::Temporary(format!("provider answered {status}")))
        } else {
            Err(SendError::Permanent(format!(
                "provider answered {status}: {}",
                response.text().await.unwrap_or_default()
            )))
        }
    }
}

#[async_trait::async_trait]
impl stringer_app::phone::Recordings for Phone {
    /// Fetches `url` + `.mp3` with the account's credentials, only under the provider's base
    /// URL (the address comes in a signed request, but is never followed elsewhere), and at
    /// most [`stringer_app::files::MAX_ATTACHMENT`] bytes.
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, SendError> {
        if !url.starts_with(&format!("{}/", self.base)) {
            return Err(SendError::Permanent(format!("the recording is not at the provider ({})", self.base)));
        }
        let mut response = self
            .client
            .get(format!("{url}.mp3"))
            .basic_auth(&self.account, Some(&self.token))
            .send()
            .await
            .map_err(|e| SendError::Temporary(format!("provider request failed: {e}")))?;
        if !response.status().is_success() {
            return Err(SendError::Temporary(format!("provider answered {}", response.status())));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| SendError::Temporary(format!("reading: {e}")))? {
            if bytes.len() + chunk.len() > stringer_app::files::MAX_ATTACHMENT {
                return Err(SendError::Permanent("the recording is larger than an attachment may be".into()));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

#[async_trait::async_trait]
impl stringer_app::accounts::Texts for Phone {
    async fn send_text(&self, to: &str, body: &str, key: &str) -> Result<(), SendError> {
        Phone::send_text(self, to, body, key).await
    }
}
