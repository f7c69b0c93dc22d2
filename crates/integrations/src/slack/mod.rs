//! Slack: pages as messages from the Slack app (`chat.postMessage`, base URL configurable),
//! with Acknowledge and Resolve buttons; settling them (`chat.update`) to say who took the
//! page once paging is over; confirming a member's email (`users.info`); the check of Slack's
//! request signature; and what Slack sends in ([`inbound`]).

pub mod inbound;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;
use stringer_app::delivery::{Parcel, SendError};

/// Action ids of the buttons.
pub const ACK_ACTION: &str = "stringer_ack";
/// See [`ACK_ACTION`].
pub const RESOLVE_ACTION: &str = "stringer_resolve";
/// The callback id of the message shortcut "Open a ticket from this message".
pub const OPEN_TICKET_SHORTCUT: &str = "stringer_open_ticket";
/// Slack's replay window for signed requests.
pub const MAX_SKEW_SECONDS: i64 = 300;
/// The metadata event type of a thread post made under a mark, to find it again.
pub const POST_MARK: &str = "stringer_post";

/// The Slack Web API client of the Slack app.
#[derive(Clone, Debug)]
pub struct Slack {
    client: reqwest::Client,
    api_base: String,
    token: String,
}

impl Slack {
    /// A client posting to `api_base` (e.g. `https://slack.com/api`) with the bot `token`.
    pub fn new(api_base: &str, token: &str) -> Slack {
        let client =
            reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("the HTTP client builds");
        Slack { client, api_base: api_base.trim_end_matches('/').to_string(), token: token.to_string() }
    }

    /// What a page says (see [`crate::PageSummary`]): the headline, why, and the link.
    pub fn page_text(payload: &str, ticket: &str) -> String {
        let s = crate::PageSummary::of(payload, ticket);
        let link = if s.url.is_empty() { String::new() } else { format!(" <{}|Open {}>", s.url, s.key) };
        format!("Page: {} — {}{link}", s.headline(), s.reason)
    }

    /// The message for a page delivery's parcel (the delivery's `id` in its metadata): who,
    /// why, and the buttons.
    pub fn message(id: &str, p: &Parcel) -> Value {
        let ticket = p.ticket.as_str();
        let text = Slack::page_text(&p.payload, ticket);
        json!({
            "channel": p.address,
            "text": text,
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": text}},
                {"type": "actions", "block_id": "stringer_page", "elements": [
                    {"type": "button", "style": "primary", "action_id": ACK_ACTION, "value": ticket, "text": {"type": "plain_text", "text": "Acknowledge"}},
                    {"type": "button", "action_id": RESOLVE_ACTION, "value": ticket, "text": {"type": "plain_text", "text": "Resolve"}}
                ]}
            ],
            "metadata": {"event_type": "stringer_page", "event_payload": {"idempotency_key": id}}
        })
    }

    /// Posts the page; answers the receipt (the message's channel and timestamp, as JSON)
    /// that [`Slack::settle`] needs to change it later.
    pub async fn send(&self, id: &str, p: &Parcel) -> Result<String, SendError> {
        let body = self.call("chat.postMessage", Args::Json(&Slack::message(id, p))).await?;
        Ok(json!({"channel": body["channel"], "ts": body["ts"]}).to_string())
    }

    /// Settles a page message (`chat.update` of the message its `receipt` names): the page's
    /// text with what became of it — `outcome`, such as "Acknowledged by Sia" — and no
    /// buttons, as paging tools do once someone has taken the page.
    pub async fn settle(&self, receipt: &str, page_text: &str, outcome: &str) -> Result<(), SendError> {
        let receipt: Value = serde_json::from_str(receipt)
            .map_err(|e| SendError::Permanent(format!("unreadable Slack receipt: {e}")))?;
        let message = json!({
            "channel": receipt["channel"],
            "ts": receipt["ts"],
            "text": format!("{page_text}\n{outcome}"),
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": page_text}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": outcome}]}
            ]
        });
        self.call("chat.update", Args::Json(&message)).await.map(drop)
    }

    /// The confirmed email address of a Slack member (`users.info`; needs the
    /// `users:read.email` scope), or `None` when Slack knows no such active member or has not
    /// confirmed the address.
    pub async fn member_email(&self, member: &str) -> Result<Option<String>, SendError> {
        // Read methods take form-encoded arguments, not JSON.
        let body = match self.call("users.info", Args::Form(&[("user", member)])).await {
            Ok(body) => body,
            Err(SendError::Permanent(e)) if e.contains("user_not_found") => return Ok(None),
            Err(e) => return Err(e),
        };
        let user = &body["user"];
        let usable = user["deleted"] != json!(true) && user["is_bot"] != json!(true);
        let confirmed = user["is_email_confirmed"] != json!(false);
        Ok(user["profile"]["email"].as_str().filter(|_| usable && confirmed).map(str::to_string))
    }

    /// A channel's name (`conversations.info`; needs `channels:read`), or `None` when Slack
    /// knows no such channel.
    pub async fn channel_name(&self, channel: &str) -> Result<Option<String>, SendError> {
        match self.call("conversations.info", Args::Form(&[("channel", channel)])).await {
            Ok(body) => Ok(body["channel"]["name"].as_str().map(str::to_string)),
            Err(SendError::Permanent(e)) if e.contains("channel_not_found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Posts `text` in a channel, as a reply in `thread_ts` when given (`chat.postMessage`);
    /// answers the message's timestamp.
    pub async fn post(&self, channel: &str, thread_ts: Option<&str>, text: &str) -> Result<String, SendError> {
        let mut message = json!({"channel": channel, "text": text, "unfurl_links": false});
        if let Some(thread) = thread_ts {
            message["thread_ts"] = json!(thread);
        }
        let body = self.call("chat.postMessage", Args::Json(&message)).await?;
        Ok(body["ts"].as_str().unwrap_or_default().to_string())
    }

    /// Posts `text` in a thread under `mark`, carried as the message's metadata (an event of
    /// type [`POST_MARK`]) so the post can be found there again; answers its timestamp.
    pub async fn post_marked(
        &self,
        channel: &str,
        thread_ts: &str,
        text: &str,
        mark: &str,
    ) -> Result<String, SendError> {
        let message = json!({
            "channel": channel,
            "thread_ts": thread_ts,
            "text": text,
            "unfurl_links": false,
            "metadata": {"event_type": POST_MARK, "event_payload": {"mark": mark}},
        });
        let body = self.call("chat.postMessage", Args::Json(&message)).await?;
        Ok(body["ts"].as_str().unwrap_or_default().to_string())
    }

    /// The timestamp of the message posted in a thread under `mark` by
    /// [`Slack::post_marked`], if it is there (`conversations.replies` with the messages'
    /// metadata; `channels:history`, `groups:history`; up to 20 pages of 200).
    pub async fn find_marked(&self, channel: &str, thread_ts: &str, mark: &str) -> Result<Option<String>, SendError> {
        let mut cursor = String::new();
        for _ in 0..20 {
            let args = [
                ("channel", channel),
                ("ts", thread_ts),
                ("include_all_metadata", "true"),
                ("limit", "200"),
                ("cursor", cursor.as_str()),
            ];
            let body = self.call("conversations.replies", Args::Form(&args)).await?;
            let marked =
                body["messages"].as_array().into_iter().flatten().find(|m| {
                    m["metadata"]["event_type"] == POST_MARK && m["metadata"]["event_payload"]["mark"] == mark
                });
            if let Some(message) = marked {
                return Ok(message["ts"].as_str().map(str::to_string));
            }
            cursor = body["response_metadata"]["next_cursor"].as_str().unwrap_or_default().to_string();
            if cursor.is_empty() {
                break;
            }
        }
        Ok(None)
    }

    /// Creates a channel (`conversations.create`; `channels:manage`, `groups:write` for a
    /// private one), private when asked; `None` when the name is taken.
    pub async fn create_channel(&self, name: &str, private: bool) -> Result<Option<String>, SendError> {
        let args = [("name", name), ("is_private", if private { "1" } else { "0" })];
        match self.call("conversations.create", Args::Form(&args)).await {
            Ok(body) => Ok(body["channel"]["id"].as_str().map(str::to_string)),
            Err(SendError::Permanent(e)) if e.contains("name_taken") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The id of the channel of that name (`conversations.list`, up to 20 pages of 1,000).
    pub async fn find_channel(&self, name: &str) -> Result<Option<String>, SendError> {
        let mut cursor = String::new();
        for _ in 0..20 {
            let args = [
                ("types", "public_channel,private_channel"),
                ("exclude_archived", "true"),
                ("limit", "1000"),
                ("cursor", cursor.as_str()),
            ];
            let body = self.call("conversations.list", Args::Form(&args)).await?;
            let channels = body["channels"].as_array().cloned().unwrap_or_default();
            if let Some(c) = channels.iter().find(|c| c["name"] == name) {
                return Ok(c["id"].as_str().map(str::to_string));
            }
            cursor = body["response_metadata"]["next_cursor"].as_str().unwrap_or_default().to_string();
            if cursor.is_empty() {
                break;
            }
        }
        Ok(None)
    }

    /// The member whose email address is `email` (`users.lookupByEmail`;
    /// `users:read.email`).
    pub async fn member_by_email(&self, email: &str) -> Result<Option<String>, SendError> {
        match self.call("users.lookupByEmail", Args::Form(&[("email", email)])).await {
            Ok(body) => Ok(body["user"]["id"].as_str().map(str::to_string)),
            Err(SendError::Permanent(e)) if e.contains("users_not_found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Invites members to a channel (`conversations.invite`); members already in it are no
    /// error.
    pub async fn invite(&self, channel: &str, members: &[String]) -> Result<(), SendError> {
        let users = members.join(",");
        match self.call("conversations.invite", Args::Form(&[("channel", channel), ("users", &users)])).await {
            Ok(_) => Ok(()),
            Err(SendError::Permanent(e)) if e.contains("already_in_channel") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Invites people outside the workspace through Slack Connect
    /// (`conversations.inviteShared`).
    pub async fn invite_shared(&self, channel: &str, emails: &[String]) -> Result<(), SendError> {
        let emails = emails.join(",");
        self.call("conversations.inviteShared", Args::Form(&[("channel", channel), ("emails", &emails)]))
            .await
            .map(drop)
    }

    /// Pins a message (`pins.add`).
    pub async fn pin(&self, channel: &str, ts: &str) -> Result<(), SendError> {
        match self.call("pins.add", Args::Form(&[("channel", channel), ("timestamp", ts)])).await {
            Ok(_) => Ok(()),
            Err(SendError::Permanent(e)) if e.contains("already_pinned") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// One Web API call, answering Slack's body; Slack answers HTTP 200 with `ok: false` for
    /// most failures. Arguments go as Slack's clients send them: JSON marked UTF-8, or a form
    /// (the methods Slack documents as taking form arguments only, e.g. `conversations.create`,
    /// booleans as `1`/`0`, as slack_sdk sends them).
    async fn call(&self, method: &str, args: Args<'_>) -> Result<Value, SendError> {
        let request = self.client.post(format!("{}/{method}", self.api_base)).bearer_auth(&self.token);
        let request = match args {
            Args::Json(body) => request.header(reqwest::header::CONTENT_TYPE, "application/json; charset=utf-8").body(
                serde_json::to_vec(body).map_err(|e| SendError::Permanent(format!("unwritable arguments: {e}")))?,
            ),
            Args::Form(fields) => request.form(fields),
        };
        let response = request.send().await.map_err(|e| SendError::Temporary(format!("Slack request failed: {e}")))?;
        let status = response.status();
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(SendError::Temporary(format!("Slack answered {status}")));
        }
        let body: Value =
            response.json().await.map_err(|e| SendError::Temporary(format!("Slack answered unreadably: {e}")))?;
        match (body["ok"].as_bool(), body["error"].as_str()) {
            (Some(true), _) => Ok(body),
            (_, Some("ratelimited")) => Err(SendError::Temporary("Slack rate-limited the message".into())),
            (_, error) => {
                Err(SendError::Permanent(format!("Slack refused the message: {}", error.unwrap_or("unknown error"))))
            }
        }
    }
}

/// The org's shared channel as a Slack channel: the desk's message ids are Slack's `ts`, its
/// thread ids the `thread_ts` of the thread's first message.
#[async_trait::async_trait]
impl stringer_app::chat::ChannelDirectory for Slack {
    async fn channel_name(&self, channel: &str) -> Result<Option<String>, SendError> {
        Slack::channel_name(self, channel).await
    }

    async fn member_email(&self, member: &str) -> Result<Option<String>, SendError> {
        Slack::member_email(self, member).await
    }

    async fn post(&self, channel: &str, thread: Option<&str>, text: &str) -> Result<String, SendError> {
        Slack::post(self, channel, thread, text).await
    }

    async fn post_marked(&self, channel: &str, thread: &str, text: &str, mark: &str) -> Result<String, SendError> {
        Slack::post_marked(self, channel, thread, text, mark).await
    }

    async fn find_marked(&self, channel: &str, thread: &str, mark: &str) -> Result<Option<String>, SendError> {
        Slack::find_marked(self, channel, thread, mark).await
    }

    async fn create_channel(&self, name: &str, private: bool) -> Result<Option<String>, SendError> {
        Slack::create_channel(self, name, private).await
    }

    async fn find_channel(&self, name: &str) -> Result<Option<String>, SendError> {
        Slack::find_channel(self, name).await
    }

    async fn member_by_email(&self, email: &str) -> Result<Option<String>, SendError> {
        Slack::member_by_email(self, email).await
    }

    async fn invite(&self, channel: &str, members: &[String]) -> Result<(), SendError> {
        Slack::invite(self, channel, members).await
    }

    async fn invite_shared(&self, channel: &str, emails: &[String]) -> Result<(), SendError> {
        Slack::invite_shared(self, channel, emails).await
    }

    async fn pin(&self, channel: &str, message: &str) -> Result<(), SendError> {
        Slack::pin(self, channel, message).await
    }

    fn mention(&self, member: &str) -> String {
        format!("<@{member}>")
    }

    fn link(&self, url: &str, text: &str) -> String {
        format!("<{url}|{text}>")
    }

    fn bold(&self, text: &str) -> String {
        format!("*{text}*")
    }

    fn intake(&self) -> stringer_core::ids::Intake {
        stringer_core::ids::Intake::Slack
    }

    fn name(&self) -> &'static str {
        "Slack"
    }
}

/// A Web API call's arguments: write methods take JSON, read methods a form.
enum Args<'a> {
    Json(&'a Value),
    Form(&'a [(&'a str, &'a str)]),
}

/// Checks Slack's `X-Slack-Signature` (`v0=` + hex HMAC-SHA256 of `"v0:<timestamp>:<body>"`
/// under the signing secret) in constant time, and that `X-Slack-Request-Timestamp` is
/// within five minutes of `now`.
pub fn verify_request(signing_secret: &str, timestamp: &str, body: &[u8], signature: &str, now: i64) -> bool {
    let Ok(ts) = timestamp.parse::<i64>() else { return false };
    if (now - ts).abs() > MAX_SKEW_SECONDS {
        return false;
    }
    let Some(given) = signature.strip_prefix("v0=").and_then(|h| hex::decode(h).ok()) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(signing_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// Signs a request body as Slack does (for tests and tools).
pub fn sign_request(signing_secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(signing_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_signatures_verify_within_the_window_only() {
        let body = b"payload=%7B%7D";
        let sig = sign_request("sekret", 1_764_000_000, body);
        assert!(verify_request("sekret", "1764000000", body, &sig, 1_764_000_100));
        assert!(!verify_request("sekret", "1764000000", body, &sig, 1_764_000_301), "stale");
        assert!(!verify_request("sekret", "1764000000", b"payload=x", &sig, 1_764_000_000), "tampered");
        assert!(!verify_request("other", "1764000000", body, &sig, 1_764_000_000));
        assert!(!verify_request("sekret", "soon", body, &sig, 1_764_000_000));
        assert!(!verify_request("sekret", "1764000000", body, "v1=00", 1_764_000_000));
    }
}
