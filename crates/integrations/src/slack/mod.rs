//! Slack: pages as messages from the Slack app (`chat.postMessage`, base URL configurable),
//! with Acknowledge and Resolve buttons; settling them (`chat.update`) to say who took the
//! page once paging is over; confirming a member's email (`users.info`); posts in the org's
//! channel and its threads, made once even across a kill (a mark in the message's metadata,
//! looked for before a post is made again); the check of Slack's request signature; and what
//! Slack sends in ([`inbound`]).

pub mod inbound;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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
/// The metadata event type of a post made under a mark (a thread post's id, a channel
/// sending's id), to find it again.
pub const POST_MARK: &str = "stringer_post";
/// How long before its sending was written a channel post is looked for: room for Slack's
/// clock and the server's to disagree.
pub const LOOK_BACK_SECONDS: i64 = 600;
/// Pages of a channel's history (of [`HISTORY_PAGE`] messages) a look reads at most: the
/// bound when the sending's time is unknown, and in a channel busier than that since.
pub const HISTORY_PAGES: usize = 5;
/// Messages a page of history holds.
pub const HISTORY_PAGE: usize = 200;

/// The Slack Web API client of the Slack app.
#[derive(Clone, Debug)]
pub struct Slack {
    client: reqwest::Client,
    api_base: String,
    token: String,
    /// Channel ids by name, as `conversations.list` told them: a channel keeps its id for
    /// its life, so a burst of posts to channels named by name lists the channels once.
    channel_ids: Arc<Mutex<HashMap<String, String>>>,
}

impl Slack {
    /// A client posting to `api_base` (e.g. `https://slack.com/api`) with the bot `token`.
    pub fn new(api_base: &str, token: &str) -> Slack {
        let client =
            reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("the HTTP client builds");
        Slack {
            client,
            api_base: api_base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            channel_ids: Arc::default(),
        }
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
        self.post_message(channel, thread_ts, text, None).await
    }

    /// `chat.postMessage`: `text` in `channel`, in `thread_ts` when given, carrying `mark` as
    /// its metadata (an event of type [`POST_MARK`]) when given; answers the message's
    /// timestamp.
    async fn post_message(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        text: &str,
        mark: Option<&str>,
    ) -> Result<String, SendError> {
        let mut message = json!({"channel": channel, "text": text, "unfurl_links": false});
        if let Some(thread) = thread_ts {
            message["thread_ts"] = json!(thread);
        }
        if let Some(mark) = mark {
            message["metadata"] = marked(mark);
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
        self.post_message(channel, Some(thread_ts), text, Some(mark)).await
    }

    /// Posts `text` in a channel (by id, or by `#name`) once under `mark` — an outbox
    /// sending's id, `written` the second the sending was written — even when the server was
    /// killed after Slack answered an earlier try and before that try was recorded: the post
    /// carries the mark as its metadata (an event of type [`POST_MARK`]), and the channel's
    /// history is first looked through for it (see [`Slack::find_marked_in_channel`]); a
    /// post found there is not made again. Answers the message's timestamp.
    ///
    /// It looks on every send, not only on a retry: the outbox's claim counts no try, so a
    /// sending taken up again after a kill looks like a first one, and telling them apart
    /// would take a write before each post (as a thread post's `try:` record does), in the
    /// store and on the outbox's path. Channel posts — report announcements, status notices
    /// to an org's channel — are few, and a look is one page of history since the sending
    /// was written (and, the first time a process posts to a channel named by name, the
    /// channel list for its id). A channel Slack does not list under its name is posted to
    /// without a look: Slack's answer to the post says what became of it.
    pub async fn post_once(
        &self,
        channel: &str,
        text: &str,
        mark: &str,
        written: Option<i64>,
    ) -> Result<String, SendError> {
        if let Some(id) = self.channel_id(channel).await? {
            let since = written.map(|at| at - LOOK_BACK_SECONDS);
            if let Some(ts) = self.find_marked_in_channel(&id, mark, since).await? {
                return Ok(ts);
            }
        }
        self.post_message(channel, None, text, Some(mark)).await
    }

    /// The timestamp of the message posted in a channel (by id) under `mark` by
    /// [`Slack::post_once`], if it is among the messages since `since` (a Unix second; all
    /// when `None`), newest first, up to [`HISTORY_PAGES`] pages (`conversations.history` with
    /// the messages' metadata; `channels:history`, `groups:history`). Slack names messages by
    /// the second they were posted, so `since` bounds the look to the sending's own life.
    pub async fn find_marked_in_channel(
        &self,
        channel: &str,
        mark: &str,
        since: Option<i64>,
    ) -> Result<Option<String>, SendError> {
        let oldest = since.map(|s| s.max(0).to_string()).unwrap_or_default();
        let limit = HISTORY_PAGE.to_string();
        let mut cursor = String::new();
        for _ in 0..HISTORY_PAGES {
            let mut args = vec![
                ("channel", channel),
                ("include_all_metadata", "true"),
                ("limit", limit.as_str()),
                ("cursor", cursor.as_str()),
            ];
            if !oldest.is_empty() {
                args.push(("oldest", oldest.as_str()));
            }
            let body = self.call("conversations.history", Args::Form(&args)).await?;
            if let Some(ts) = marked_ts(&body, mark) {
                return Ok(Some(ts));
            }
            cursor = body["response_metadata"]["next_cursor"].as_str().unwrap_or_default().to_string();
            if cursor.is_empty() {
                break;
            }
        }
        Ok(None)
    }

    /// The id of a channel given by id or by `#name` (whose id Slack's reads need: they take
    /// no names), or `None` when Slack lists no channel of that name.
    async fn channel_id(&self, channel: &str) -> Result<Option<String>, SendError> {
        let Some(name) = channel.strip_prefix('#') else { return Ok(Some(channel.to_string())) };
        if let Some(id) = self.channel_ids.lock().expect("the channel ids' lock").get(name) {
            return Ok(Some(id.clone()));
        }
        let id = self.find_channel(name).await?;
        if let Some(id) = &id {
            self.channel_ids.lock().expect("the channel ids' lock").insert(name.to_string(), id.clone());
        }
        Ok(id)
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
            if let Some(ts) = marked_ts(&body, mark) {
                return Ok(Some(ts));
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

/// A post's metadata under `mark`: an event of type [`POST_MARK`].
fn marked(mark: &str) -> Value {
    json!({"event_type": POST_MARK, "event_payload": {"mark": mark}})
}

/// The timestamp of the message in a page of messages (`conversations.history`, `.replies`)
/// posted under `mark`, if it is there.
fn marked_ts(page: &Value, mark: &str) -> Option<String> {
    page["messages"]
        .as_array()?
        .iter()
        .find(|m| m["metadata"]["event_type"] == POST_MARK && m["metadata"]["event_payload"]["mark"] == mark)
        .and_then(|m| m["ts"].as_str())
        .map(str::to_string)
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

    /// The Web API calls a stand-in received: (method, arguments as sent).
    type Calls = Arc<Mutex<Vec<(String, String)>>>;

    /// A local stand-in for the Slack Web API: answers each call with what `answer` makes of
    /// its method and arguments, and records the call.
    async fn stand_in(answer: fn(&str, &str) -> Value) -> (Slack, Calls) {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/api", listener.local_addr().unwrap());
        let calls = Calls::default();
        let recorded = calls.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let recorded = recorded.clone();
                tokio::spawn(async move {
                    let mut stream = BufReader::new(stream);
                    loop {
                        let (mut line, mut method, mut length) = (String::new(), String::new(), 0);
                        while stream.read_line(&mut line).await.unwrap_or(0) > 0 && line != "\r\n" {
                            if let Some(path) = line.strip_prefix("POST /api/") {
                                method = path.split_whitespace().next().unwrap_or_default().to_string();
                            }
                            if let Some((name, value)) = line.split_once(':')
                                && name.eq_ignore_ascii_case("content-length")
                            {
                                length = value.trim().parse().unwrap_or(0);
                            }
                            line.clear();
                        }
                        if method.is_empty() {
                            return;
                        }
                        let mut body = vec![0; length];
                        stream.read_exact(&mut body).await.unwrap();
                        let args = String::from_utf8(body).unwrap();
                        let reply = answer(&method, &args).to_string();
                        recorded.lock().unwrap().push((method, args));
                        let head = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            reply.len()
                        );
                        stream.get_mut().write_all(format!("{head}{reply}").as_bytes()).await.unwrap();
                    }
                });
            }
        });
        (Slack::new(&base, "xoxb-test"), calls)
    }

    fn called(calls: &Calls, method: &str) -> Vec<String> {
        calls.lock().unwrap().iter().filter(|(m, _)| m == method).map(|(_, a)| a.clone()).collect()
    }

    /// acme's channel, `#acme-ops`, is `C1`; its history holds a post under `ann_1` on its
    /// second page (a page is found by its cursor, `page2`).
    fn slack_with_a_marked_post(method: &str, args: &str) -> Value {
        match method {
            "conversations.list" => json!({"ok": true, "channels": [{"id": "C1", "name": "acme-ops"}],
                "response_metadata": {"next_cursor": ""}}),
            "conversations.history" if args.contains("cursor=page2") => json!({"ok": true, "messages": [
                {"type": "message", "ts": "1700000050.000200", "text": "Published",
                    "metadata": {"event_type": POST_MARK, "event_payload": {"mark": "ann_1"}}},
            ], "has_more": false, "response_metadata": {"next_cursor": ""}}),
            "conversations.history" => json!({"ok": true, "messages": [
                {"type": "message", "ts": "1700000090.000300", "text": "Another post",
                    "metadata": {"event_type": POST_MARK, "event_payload": {"mark": "ann_2"}}},
                {"type": "message", "ts": "1700000080.000100", "text": "A customer's message"},
            ], "has_more": true, "response_metadata": {"next_cursor": "page2"}}),
            _ => json!({"ok": true, "channel": "C1", "ts": "1700000100.000100"}),
        }
    }

    #[tokio::test]
    async fn a_channel_post_found_under_its_mark_is_not_made_again() {
        let (slack, calls) = stand_in(slack_with_a_marked_post).await;
        let found = slack.post_once("#acme-ops", "Published", "ann_1", Some(1_700_000_000)).await.unwrap();
        assert_eq!(found, "1700000050.000200", "the earlier post, found on the history's second page");
        assert!(called(&calls, "chat.postMessage").is_empty(), "nothing posted again");
        let looks = called(&calls, "conversations.history");
        assert_eq!(looks.len(), 2, "{looks:?}");
        for look in &looks {
            assert!(look.contains("channel=C1") && look.contains("include_all_metadata=true"), "{look}");
            let oldest = format!("oldest={}", 1_700_000_000 - LOOK_BACK_SECONDS);
            assert!(look.contains(&oldest), "looked only since the sending was written, less a margin: {look}");
        }
    }

    #[tokio::test]
    async fn a_channel_post_not_found_is_made_under_its_mark() {
        let (slack, calls) = stand_in(slack_with_a_marked_post).await;
        assert_eq!(slack.post_once("#acme-ops", "Hello", "ann_3", None).await.unwrap(), "1700000100.000100");
        let posted: Value = serde_json::from_str(&called(&calls, "chat.postMessage")[0]).unwrap();
        assert_eq!(posted["channel"], "#acme-ops");
        assert_eq!(posted["metadata"], json!({"event_type": POST_MARK, "event_payload": {"mark": "ann_3"}}));
        assert!(!called(&calls, "conversations.history")[0].contains("oldest"), "no time: the pages bound the look");
        slack.post_once("#acme-ops", "Again", "ann_4", None).await.unwrap();
        assert_eq!(called(&calls, "conversations.list").len(), 1, "the channel's id is learned once");
        slack.post_once("C1", "By id", "ann_5", None).await.unwrap();
        assert_eq!(called(&calls, "conversations.list").len(), 1, "a channel named by id needs no list");
        assert_eq!(called(&calls, "chat.postMessage").len(), 3);
    }

    #[tokio::test]
    async fn a_channel_slack_does_not_list_is_posted_to_without_a_look() {
        fn unlisted(method: &str, _: &str) -> Value {
            match method {
                "conversations.list" => json!({"ok": true, "channels": [], "response_metadata": {"next_cursor": ""}}),
                _ => json!({"ok": true, "channel": "C9", "ts": "1700000100.000100"}),
            }
        }
        let (slack, calls) = stand_in(unlisted).await;
        slack.post_once("#elsewhere", "Hello", "ann_1", None).await.unwrap();
        assert!(called(&calls, "conversations.history").is_empty());
        assert_eq!(called(&calls, "chat.postMessage").len(), 1);
    }
}
