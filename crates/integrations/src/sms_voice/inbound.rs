//! What the provider sends in about calls to the P1 line: form POSTs to the paths of
//! [`super::twiml::paths`], each signed (`X-Twilio-Signature`, see [`super::signature`]) for
//! the full URL under the server's public address and for the account it is configured
//! with. A checked request is handed to the phone desk, whose step is answered as TwiML.

use super::signature;
use super::twiml::{self, paths};
use std::sync::Arc;
use stringer_app::AppError;
use stringer_app::phone::{Call, PhoneDesk, Step};
use stringer_core::ids::{TicketId, UserId};

/// The most a request's form may hold.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Not signed by the provider with the account's auth token, or for another account.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Unreadable, or a path the line does not have.
    #[error("{0}")]
    BadRequest(String),
    /// The desk failed (a store failure; or the ticket is not this call's).
    #[error(transparent)]
    App(#[from] AppError),
}

/// The line's inbound side: the account's credentials and the desk.
#[derive(Clone)]
pub struct VoiceLine {
    /// The account id (`AccountSid`) requests must name.
    pub account: String,
    /// The account's auth token, which signs the requests.
    pub auth_token: String,
    /// The server's public address, under which the provider requests the paths.
    pub public_url: String,
    /// Answers the calls.
    pub desk: Arc<PhoneDesk>,
}

struct Form(Vec<(String, String)>);

impl Form {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn need(&self, name: &str) -> Result<&str, Refusal> {
        self.get(name).filter(|v| !v.is_empty()).ok_or_else(|| Refusal::BadRequest(format!("{name} is missing")))
    }
}

fn query_value<'a>(query: &'a [(String, String)], name: &str) -> Result<&'a str, Refusal> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| Refusal::BadRequest(format!("the callback URL has no {name}")))
}

/// The id of `prefix` the callback URL names as `name`.
fn id_of(query: &[(String, String)], name: &str, prefix: &str) -> Result<String, Refusal> {
    let id = query_value(query, name)?;
    if stringer_app::ids::is_id(prefix, id) {
        Ok(id.to_string())
    } else {
        Err(Refusal::BadRequest(format!("the callback URL's {name} is no {prefix}_ id")))
    }
}

fn ticket_of(query: &[(String, String)]) -> Result<TicketId, Refusal> {
    id_of(query, "ticket", "tkt").map(TicketId)
}

fn whom_of(query: &[(String, String)]) -> Result<UserId, Refusal> {
    id_of(query, "whom", "usr").map(UserId)
}

fn place_of(query: &[(String, String)]) -> Result<usize, Refusal> {
    query_value(query, "place")?
        .parse()
        .map_err(|_| Refusal::BadRequest("the callback URL's place is no number".into()))
}

impl VoiceLine {
    /// Checks a request to `path` (with its raw `query`) and answers it: the TwiML to run.
    pub async fn handle(&self, path: &str, query: &str, body: &[u8], signature: &str) -> Result<String, Refusal> {
        if body.len() > MAX_FORM_BYTES {
            return Err(Refusal::BadRequest("the form is too large".into()));
        }
        if crate::nul::in_form(body) {
            return Err(Refusal::BadRequest(crate::nul::REFUSAL.into()));
        }
        let form: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|e| Refusal::BadRequest(format!("unreadable form: {e}")))?;
        let base = self.public_url.trim_end_matches('/');
        let url = if query.is_empty() { format!("{base}{path}") } else { format!("{base}{path}?{query}") };
        if !signature::verify(&self.auth_token, &url, &form, signature) {
            return Err(Refusal::Unauthorized("the request is not signed by the telephony provider"));
        }
        let form = Form(form);
        if form.get("AccountSid") != Some(self.account.as_str()) {
            return Err(Refusal::Unauthorized("the request is for another account"));
        }
        let query: Vec<(String, String)> =
            serde_urlencoded::from_str(query).map_err(|e| Refusal::BadRequest(format!("unreadable query: {e}")))?;
        // The called person's leg names its parent: the caller's call.
        let sid = form.get("ParentCallSid").filter(|s| !s.is_empty()).map_or_else(|| form.need("CallSid"), Ok)?;
        let call = Call {
            sid: sid.to_string(),
            from: form.get("From").unwrap_or_default().to_string(),
            to: form.get("To").unwrap_or_default().to_string(),
        };
        let desk = &self.desk;
        let step = match path {
            paths::INCOMING => desk.incoming(&call).await?,
            paths::PIN => {
                let attempt = query_value(&query, "attempt")?.parse().unwrap_or(1);
                desk.pin(&call, form.get("Digits").unwrap_or_default(), attempt).await?
            }
            paths::ANSWERED => desk.answered(&call, &ticket_of(&query)?, &whom_of(&query)?).await?,
            paths::RANG => {
                let status = form.need("DialCallStatus")?;
                let seconds = form.get("DialCallDuration").and_then(|d| d.parse().ok());
                let rung = (place_of(&query)?, &whom_of(&query)?);
                desk.rang(&call, &ticket_of(&query)?, rung, status, seconds).await?
            }
            paths::RECORDED => {
                let url = form.need("RecordingUrl")?;
                let seconds = form.get("RecordingDuration").and_then(|d| d.parse().ok()).unwrap_or(0);
                let ticket = ticket_of(&query)?;
                let step = desk.recorded(&call, &ticket, url, seconds).await?;
                // The caller hears goodbye at once; the recording is fetched meanwhile.
                let (desk, url) = (self.desk.clone(), url.to_string());
                tokio::spawn(async move {
                    if let Err(e) = desk.attach_recording(&call, &ticket, &url).await {
                        tracing::warn!(error = %e, "attaching a call's recorded message failed");
                    }
                });
                return Ok(twiml::render(&step, base));
            }
            paths::TRANSCRIBED => {
                let status = form.need("TranscriptionStatus")?;
                desk.transcribed(&call, &ticket_of(&query)?, status, form.get("TranscriptionText").unwrap_or_default())
                    .await?;
                Step::Whisper { say: String::new() }
            }
            _ => return Err(Refusal::BadRequest(format!("the line has no {path}"))),
        };
        Ok(twiml::render(&step, base))
    }
}
