//! The shared channels' way in, in memory: stored channel messages, the channels' orgs and
//! the threads' tickets; and a Slack that knows channel names and members' confirmed
//! addresses and keeps what was posted.

// The stubs answer the same error whatever they are asked.
#![allow(unused_variables)]

use super::absent;
use crate::chat::{Accepted, ChannelDirectory, ChatMessage, ChatRecord, ChatRoom, OwedKickoff, ThreadPost};
use crate::delivery::SendError;
use crate::inbox::Inbox;
use crate::outbox::{Room, Sendings};
use crate::store::StoreError;
use async_trait::async_trait;
use std::sync::Mutex;
use stringer_core::ids::{OrgSlug, TicketId};

/// One stored message: as claimed, its request's signature, its lease, and what it came to.
struct Row {
    record: ChatRecord,
    signature: String,
    leased_until: Option<i64>,
    settled: Option<String>,
}

/// Channel messages, channels' orgs, threads' tickets and posted marks, in memory.
#[derive(Default)]
pub struct MemoryChat {
    rows: Mutex<Vec<Row>>,
    /// (channel id, org) learned.
    pub channels: Mutex<Vec<(String, OrgSlug)>>,
    /// (channel id, thread timestamp, ticket) bound.
    pub threads: Mutex<Vec<(String, String, TicketId)>>,
    /// Marks of what was posted (or written) in threads.
    pub posted: Mutex<Vec<String>>,
    /// Thread posts owed (each claimed once: a fake whose sends never fail).
    pub thread_posts: Mutex<Vec<ThreadPost>>,
}

impl MemoryChat {
    /// What each stored message came to, in the order stored (`None`: not settled).
    pub fn settled(&self) -> Vec<Option<String>> {
        self.rows.lock().unwrap().iter().map(|r| r.settled.clone()).collect()
    }
}

no_sendings!(MemoryChat, OwedKickoff);

/// Owed thread posts, claimed in the order owed; a claimed one is gone (sent or not).
#[async_trait]
impl Sendings<ThreadPost> for MemoryChat {
    async fn claim(&self, now: i64, lease_until: i64, room: &Room) -> Result<Vec<ThreadPost>, StoreError> {
        let mut owed = self.thread_posts.lock().unwrap();
        let n = (room.limit.max(0) as usize).min(owed.len());
        Ok(owed.drain(..n).collect())
    }
    async fn sent(&self, id: &str, at: i64, receipt: Option<&str>) -> Result<(), StoreError> {
        Ok(())
    }
    async fn later(&self, id: &str, at: i64, next: i64, why: &str) -> Result<(), StoreError> {
        Ok(())
    }
    async fn given_up(&self, id: &str, at: i64, why: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

#[async_trait]
impl Inbox<ChatRecord> for MemoryChat {
    async fn claim(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<ChatRecord>, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        let rows = rows.iter_mut().map(|r| (&mut r.leased_until, r.settled.is_some(), &mut r.record));
        Ok(super::claim_held(rows, (now, lease_until, limit), |r| &mut r.attempts))
    }
}

#[async_trait]
impl ChatRoom for MemoryChat {
    async fn accept_message(&self, message: &ChatMessage, signature: &str) -> Result<Accepted, StoreError> {
        let mut rows = self.rows.lock().unwrap();
        if let Some(stored) = rows.iter().find(|r| r.record.message.event_id == message.event_id) {
            return Ok(if stored.signature == signature { Accepted::Replay } else { Accepted::Retry });
        }
        let record = ChatRecord { id: rows.len() as i64 + 1, message: message.clone(), attempts: 0 };
        rows.push(Row { record, signature: signature.into(), leased_until: None, settled: None });
        Ok(Accepted::New)
    }

    async fn settle_messages(&self, settled: &[(i64, &str, Option<&TicketId>)], at: i64) -> Result<(), StoreError> {
        let mut rows = self.rows.lock().unwrap();
        for (id, what, _) in settled {
            if let Some(row) = rows.iter_mut().find(|r| r.record.id == *id) {
                row.settled = Some(what.to_string());
            }
        }
        Ok(())
    }

    async fn channel_org(&self, channel: &str) -> Result<Option<OrgSlug>, StoreError> {
        Ok(self.channels.lock().unwrap().iter().find(|(c, _)| c == channel).map(|(_, o)| o.clone()))
    }

    async fn set_channel_org(&self, channel: &str, org: &OrgSlug) -> Result<(), StoreError> {
        let mut channels = self.channels.lock().unwrap();
        channels.retain(|(c, _)| c != channel);
        channels.push((channel.into(), org.clone()));
        Ok(())
    }

    async fn channel_org_id(&self, org: &OrgSlug) -> Result<Option<String>, StoreError> {
        Ok(self.channels.lock().unwrap().iter().find(|(_, o)| o == org).map(|(c, _)| c.clone()))
    }

    async fn thread_ticket(&self, channel: &str, thread_ts: &str) -> Result<Option<TicketId>, StoreError> {
        let threads = self.threads.lock().unwrap();
        Ok(threads.iter().find(|(c, t, _)| c == channel && t == thread_ts).map(|(_, _, ticket)| ticket.clone()))
    }

    async fn set_thread_ticket(
        &self,
        channel: &str,
        thread_ts: &str,
        ticket: &TicketId,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut threads = self.threads.lock().unwrap();
        if !threads.iter().any(|(c, t, _)| c == channel && t == thread_ts) {
            threads.push((channel.into(), thread_ts.into(), ticket.clone()));
        }
        Ok(())
    }

    async fn mark_posted(&self, comment: &str, at: i64) -> Result<(), StoreError> {
        self.posted.lock().unwrap().push(comment.into());
        Ok(())
    }

    async fn posted(&self, mark: &str) -> Result<bool, StoreError> {
        Ok(self.posted.lock().unwrap().iter().any(|m| m == mark))
    }

    async fn owe_kickoff(&self, id: &str, org: &OrgSlug, at: i64) -> Result<(), StoreError> {
        Err(absent("owe_kickoff"))
    }
}

/// Slack as the tests set it up: channels (id, name), members' confirmed addresses
/// (member, address), whether Slack Connect invitations are refused; and what the desk did
/// there: posts (channel, thread, text), channels created (name, private), invitations and
/// pins.
#[derive(Default)]
pub struct Slack {
    /// (channel id, name without `#`).
    pub channels: Mutex<Vec<(String, String)>>,
    /// (member id, confirmed email address).
    pub emails: Vec<(String, String)>,
    /// Why Slack Connect invitations are refused, when they are.
    pub connect_refused: Option<String>,
    /// What was posted: (channel, thread, text).
    pub posts: Mutex<Vec<(String, Option<String>, String)>>,
    /// Channels created: (name, private).
    pub created: Mutex<Vec<(String, bool)>>,
    /// Members invited: (channel, members).
    pub invited: Mutex<Vec<(String, Vec<String>)>>,
    /// Addresses invited through Slack Connect: (channel, addresses).
    pub shared: Mutex<Vec<(String, Vec<String>)>>,
    /// Messages pinned: (channel, timestamp).
    pub pinned: Mutex<Vec<(String, String)>>,
    /// Marked thread posts: (channel, thread, mark, timestamp).
    pub marked: Mutex<Vec<(String, String, String, String)>>,
}

#[async_trait]
impl ChannelDirectory for Slack {
    async fn channel_name(&self, channel: &str) -> Result<Option<String>, SendError> {
        Ok(self.channels.lock().unwrap().iter().find(|(id, _)| id == channel).map(|(_, name)| name.clone()))
    }

    async fn member_email(&self, member: &str) -> Result<Option<String>, SendError> {
        Ok(self.emails.iter().find(|(m, _)| m == member).map(|(_, email)| email.clone()))
    }

    async fn post(&self, channel: &str, thread_ts: Option<&str>, text: &str) -> Result<String, SendError> {
        let mut posts = self.posts.lock().unwrap();
        posts.push((channel.into(), thread_ts.map(String::from), text.into()));
        Ok(format!("9000.{}", posts.len()))
    }

    async fn post_marked(&self, channel: &str, thread_ts: &str, text: &str, mark: &str) -> Result<String, SendError> {
        let ts = self.post(channel, Some(thread_ts), text).await?;
        self.marked.lock().unwrap().push((channel.into(), thread_ts.into(), mark.into(), ts.clone()));
        Ok(ts)
    }

    async fn find_marked(&self, channel: &str, thread_ts: &str, mark: &str) -> Result<Option<String>, SendError> {
        let marked = self.marked.lock().unwrap();
        Ok(marked
            .iter()
            .find(|(c, t, m, _)| (c.as_str(), t.as_str(), m.as_str()) == (channel, thread_ts, mark))
            .map(|(.., ts)| ts.clone()))
    }

    async fn create_channel(&self, name: &str, private: bool) -> Result<Option<String>, SendError> {
        let mut channels = self.channels.lock().unwrap();
        if channels.iter().any(|(_, n)| n == name) {
            return Ok(None);
        }
        let id = format!("C-NEW-{}", channels.len());
        channels.push((id.clone(), name.into()));
        self.created.lock().unwrap().push((name.into(), private));
        Ok(Some(id))
    }

    async fn find_channel(&self, name: &str) -> Result<Option<String>, SendError> {
        Ok(self.channels.lock().unwrap().iter().find(|(_, n)| n == name).map(|(id, _)| id.clone()))
    }

    async fn member_by_email(&self, email: &str) -> Result<Option<String>, SendError> {
        Ok(self.emails.iter().find(|(_, e)| e == email).map(|(m, _)| m.clone()))
    }

    async fn invite(&self, channel: &str, members: &[String]) -> Result<(), SendError> {
        self.invited.lock().unwrap().push((channel.into(), members.to_vec()));
        Ok(())
    }

    async fn invite_shared(&self, channel: &str, emails: &[String]) -> Result<(), SendError> {
        if let Some(why) = &self.connect_refused {
            return Err(SendError::Permanent(why.clone()));
        }
        self.shared.lock().unwrap().push((channel.into(), emails.to_vec()));
        Ok(())
    }

    async fn pin(&self, channel: &str, ts: &str) -> Result<(), SendError> {
        self.pinned.lock().unwrap().push((channel.into(), ts.into()));
        Ok(())
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
